//! Emailing an alert or a digest to the addresses routing chose, retrying
//! transient failures.

use crate::alert::Alert;
use crate::digest::Digest;
use crate::mailer::{EmailConfigError, Mailer, SendError};
use crate::{digest_email, email};
use lettre::message::Mailbox;
use lettre::Message;
use std::time::Duration;
use thiserror::Error;
use vigil_core::config::Role;
use vigil_core::metrics::{EMAILS_FAILED, EMAILS_SENT};
use vigil_core::Config;

/// The `role` label of digest emails (alert emails carry their rule's role).
const DIGEST_ROLE: &str = "digest";

/// How often and how patiently a failing email is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (at least 1).
    pub attempts: u32,
    /// Wait before the second attempt; doubled before each further one.
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts over about 30 seconds (2 s, 4 s, 8 s, 16 s apart).
    fn default() -> Self {
        RetryPolicy { attempts: 5, first_delay: Duration::from_secs(2) }
    }
}

/// An email could not be delivered.
#[derive(Debug, Error)]
pub enum NotifyError {
    /// The email could not be built.
    #[error("cannot build the email for {email}: {source}")]
    Compose {
        /// `alert <id>` or `digest <id>`.
        email: String,
        /// lettre's error.
        source: lettre::error::Error,
    },
    /// Every attempt failed (or one failed for good).
    #[error("cannot email {email} to {lists} after {attempts} attempt(s): {source}")]
    Send {
        /// `alert <id>` or `digest <id>`.
        email: String,
        /// The recipient lists, e.g. `dsl, deputies`.
        lists: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        source: SendError,
    },
}

/// Delivers alert and digest emails from `email.from`.
#[derive(Debug)]
pub struct Notifier {
    mailer: Mailer,
    from: Mailbox,
    retry: RetryPolicy,
    /// `[console] public_url`: alert emails link to the alert's page there.
    console: Option<String>,
}

impl Notifier {
    /// The notifier `config` describes, with the default [`RetryPolicy`].
    pub fn from_config(config: &Config) -> Result<Notifier, EmailConfigError> {
        let from = config.email.from.parse::<Mailbox>().map_err(|e| EmailConfigError::Address {
            key: "from".into(),
            address: config.email.from.clone(),
            reason: e.to_string(),
        })?;
        count_emails_from_zero();
        let console = config.console.as_ref().and_then(|c| c.public_url.clone());
        Ok(Notifier { mailer: Mailer::from_config(config)?, from, retry: RetryPolicy::default(), console })
    }

    /// The same notifier retrying as `retry` says.
    pub fn with_retry(self, retry: RetryPolicy) -> Notifier {
        Notifier { retry, ..self }
    }

    /// Emails `alert` to `to` (the addresses of its recipient lists).
    /// Counts `EMAILS_SENT`, or per failed attempt `EMAILS_FAILED`, under
    /// the rule's role.
    pub async fn send_alert(&self, alert: &Alert, to: &[Mailbox]) -> Result<(), NotifyError> {
        let name = format!("alert {}", alert.id);
        let message = email::compose(alert, &self.from, to, self.console.as_deref())
            .map_err(|source| NotifyError::Compose { email: name.clone(), source })?;
        self.deliver(&alert.id, name, &alert.recipients.join(", "), alert.role.as_str(), &message).await
    }

    /// Emails the escalation of `alert`, unacknowledged after `waited`, to
    /// `to` (the escalation lists' addresses), under the rule's role.
    pub async fn send_escalation(
        &self,
        alert: &Alert,
        to: &[Mailbox],
        lists: &str,
        waited: Duration,
    ) -> Result<(), NotifyError> {
        let name = format!("escalation of alert {}", alert.id);
        let message = email::compose_escalation(alert, &self.from, to, self.console.as_deref(), waited)
            .map_err(|source| NotifyError::Compose { email: name.clone(), source })?;
        self.deliver(&format!("{}.escalated", alert.id), name, lists, alert.role.as_str(), &message).await
    }

    /// Emails `digest` to `to` (its list's addresses). Counts as
    /// [`Notifier::send_alert`] does, under the role `digest`.
    pub async fn send_digest(&self, digest: &Digest, to: &[Mailbox]) -> Result<(), NotifyError> {
        let name = format!("digest {}", digest.id);
        let message = digest_email::compose(digest, &self.from, to)
            .map_err(|source| NotifyError::Compose { email: name.clone(), source })?;
        self.deliver(&digest.id, name, &digest.list, DIGEST_ROLE, &message).await
    }

    /// Sends `message` (its outbox file named `file`), retrying transient
    /// failures with doubling delays.
    async fn deliver(
        &self,
        file: &str,
        email: String,
        lists: &str,
        role: &str,
        message: &Message,
    ) -> Result<(), NotifyError> {
        let mut delay = self.retry.first_delay;
        let mut attempt = 1;
        loop {
            match self.mailer.send(file, message).await {
                Ok(()) => {
                    EMAILS_SENT.with_label_values(&[role]).inc();
                    return Ok(());
                }
                Err(source) => {
                    EMAILS_FAILED.with_label_values(&[role]).inc();
                    if source.is_permanent() || attempt >= self.retry.attempts {
                        return Err(NotifyError::Send { email, lists: lists.to_string(), attempts: attempt, source });
                    }
                    tracing::warn!(%email, attempt, error = %source, "email failed; retrying in {delay:?}");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                    attempt += 1;
                }
            }
        }
    }
}

/// Creates the sent and failed email series of every role at zero, so that
/// `/metrics` shows them before the first email and an alert on
/// `increase(vigil_emails_failed_total[…])` fires on the very first failure
/// (a series that appears at 1 has no increase).
fn count_emails_from_zero() {
    for role in [Role::Dsl.as_str(), Role::Ict.as_str(), DIGEST_ROLE] {
        EMAILS_SENT.with_label_values(&[role]);
        EMAILS_FAILED.with_label_values(&[role]);
    }
}
