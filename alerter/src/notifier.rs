//! Emailing one alert to its role's recipients, retrying transient failures.

use crate::alert::Alert;
use crate::email::compose;
use crate::mailer::{EmailConfigError, Mailer, SendError};
use lettre::message::Mailbox;
use std::time::Duration;
use thiserror::Error;
use vigil_core::config::{EmailConfig, Role};
use vigil_core::metrics::{EMAILS_FAILED, EMAILS_SENT};
use vigil_core::Config;

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

/// An alert's email could not be delivered.
#[derive(Debug, Error)]
pub enum NotifyError {
    /// The email could not be built.
    #[error("cannot build the email for alert {alert_id}: {source}")]
    Compose {
        /// The alert.
        alert_id: String,
        /// lettre's error.
        source: lettre::error::Error,
    },
    /// Every attempt failed (or one failed for good).
    #[error("cannot email alert {alert_id} to the {role} after {attempts} attempt(s): {source}")]
    Send {
        /// The alert.
        alert_id: String,
        /// `dsl` or `ict`.
        role: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        source: SendError,
    },
}

/// What [`Notifier::notify`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notified {
    /// The email was delivered.
    Sent,
    /// The role has no addresses configured; nothing was sent.
    NoRecipients,
}

/// Sender and recipients, parsed once at start-up.
#[derive(Debug)]
struct Recipients {
    from: Mailbox,
    dsl: Vec<Mailbox>,
    ict: Vec<Mailbox>,
}

impl Recipients {
    fn from_config(email: &EmailConfig) -> Result<Recipients, EmailConfigError> {
        let parse = |key: &'static str, address: &String| {
            address.parse::<Mailbox>().map_err(|e| EmailConfigError::Address {
                key,
                address: address.clone(),
                reason: e.to_string(),
            })
        };
        Ok(Recipients {
            from: parse("from", &email.from)?,
            dsl: email.dsl.iter().map(|a| parse("dsl", a)).collect::<Result<_, _>>()?,
            ict: email.ict.iter().map(|a| parse("ict", a)).collect::<Result<_, _>>()?,
        })
    }

    fn for_role(&self, role: Role) -> &[Mailbox] {
        match role {
            Role::Dsl => &self.dsl,
            Role::Ict => &self.ict,
        }
    }
}

/// Turns alerts into delivered emails.
#[derive(Debug)]
pub struct Notifier {
    mailer: Mailer,
    recipients: Recipients,
    retry: RetryPolicy,
}

impl Notifier {
    /// The notifier `config` describes, with the default [`RetryPolicy`].
    pub fn from_config(config: &Config) -> Result<Notifier, EmailConfigError> {
        Ok(Notifier {
            mailer: Mailer::from_config(config)?,
            recipients: Recipients::from_config(&config.email)?,
            retry: RetryPolicy::default(),
        })
    }

    /// The same notifier retrying as `retry` says.
    pub fn with_retry(self, retry: RetryPolicy) -> Notifier {
        Notifier { retry, ..self }
    }

    /// Emails `alert` to its role's recipients, retrying transient failures
    /// with doubling delays. Counts `EMAILS_SENT` or, per failed attempt,
    /// `EMAILS_FAILED`.
    pub async fn notify(&self, alert: &Alert) -> Result<Notified, NotifyError> {
        let role = alert.role.as_str();
        let to = self.recipients.for_role(alert.role);
        if to.is_empty() {
            tracing::warn!(alert = %alert.id, role, "no email.{role} addresses are configured; the alert is not emailed");
            return Ok(Notified::NoRecipients);
        }
        let message = compose(alert, &self.recipients.from, to)
            .map_err(|source| NotifyError::Compose { alert_id: alert.id.clone(), source })?;
        let mut delay = self.retry.first_delay;
        let mut attempt = 1;
        loop {
            match self.mailer.send(&alert.id, &message).await {
                Ok(()) => {
                    EMAILS_SENT.with_label_values(&[role]).inc();
                    return Ok(Notified::Sent);
                }
                Err(source) => {
                    EMAILS_FAILED.with_label_values(&[role]).inc();
                    if source.is_permanent() || attempt >= self.retry.attempts {
                        return Err(NotifyError::Send { alert_id: alert.id.clone(), role, attempts: attempt, source });
                    }
                    tracing::warn!(alert = %alert.id, attempt, error = %source, "alert email failed; retrying in {delay:?}");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                    attempt += 1;
                }
            }
        }
    }
}
