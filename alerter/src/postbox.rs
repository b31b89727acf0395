//! What happens to a routed alert: emailed now, held over quiet hours, or
//! kept for its lists' digests; and, as the wall clock moves on, the held
//! alerts and finished digests sent. Everything waiting is saved under
//! `<data_dir>/alerter/` before the batch that raised it is committed.
//!
//! Each email is remembered in the sent log once the server took it (an
//! alert by its id, a digest by its id and each of its alerts' ids), before
//! it stops waiting: a crash between the two sends nothing again, a crash
//! before the sent log is saved sends that one email again with the same
//! `Message-ID`. An alert read again after a restart is recognised while it
//! waits and after it was sent.

use crate::alert::Alert;
use crate::clock::Clock;
use crate::digest::{DigestBook, Schedule};
use crate::error::AlerterError;
use crate::notifier::{Notifier, RetryPolicy};
use crate::quiet_hours::{HeldAlerts, QuietHours};
use crate::routing::Router;
use crate::state::{SentLog, StateStore};
use chrono::{DateTime, Duration, Utc};
use vigil_core::config::{Delivery, Severity};
use vigil_core::{Config, Event};

/// Routing, the notifier, and the alerts and digests waiting to be sent.
#[derive(Debug)]
pub struct Postbox {
    router: Router,
    notifier: Notifier,
    quiet: Option<QuietHours>,
    schedule: Schedule,
    clock: Clock,
    store: StateStore,
    sent: SentLog,
    held: HeldAlerts,
    digests: DigestBook,
}

impl Postbox {
    /// The postbox `config` describes, reading the system clock, with what
    /// was waiting and sent loaded from `store`.
    pub fn new(config: &Config, store: StateStore) -> Result<Postbox, AlerterError> {
        Ok(Postbox {
            router: Router::from_config(config)?,
            notifier: Notifier::from_config(config)?,
            quiet: config.alerter.quiet_hours.as_ref().map(QuietHours::from_config),
            schedule: Schedule::from_config(&config.alerter.digest),
            clock: Clock::system(),
            sent: store.load_sent()?,
            held: store.load_held()?,
            digests: store.load_digests()?,
            store,
        })
    }

    /// The same postbox retrying failed emails as `retry` says.
    pub fn with_retry(self, retry: RetryPolicy) -> Postbox {
        Postbox { notifier: self.notifier.with_retry(retry), ..self }
    }

    /// The same postbox reading the time from `clock`.
    pub fn with_clock(self, clock: Clock) -> Postbox {
        Postbox { clock, ..self }
    }

    /// `alert`, raised on `event`, with its recipients and delivery set.
    pub fn route(&self, alert: Alert, event: &Event) -> Alert {
        self.router.route(alert, event)
    }

    /// Emails `alert` now, holds it until quiet hours end (immediate and
    /// below critical), or adds it to its lists' digests. Does nothing for
    /// an alert already sent or waiting, or one whose lists have no
    /// addresses (with a warning).
    pub async fn dispatch(&mut self, alert: &Alert) -> Result<(), AlerterError> {
        if self.sent.contains(&alert.id) || self.held.contains(&alert.id) || self.digests.contains(&alert.id) {
            tracing::debug!(alert = %alert.id, "alert was emailed or is waiting already; not sending it again");
            return Ok(());
        }
        let lists = self.router.reachable(&alert.recipients);
        if lists.is_empty() {
            let lists = alert.recipients.join(", ");
            tracing::warn!(alert = %alert.id, %lists, "the alert's recipient lists have no addresses; it is not emailed");
            return Ok(());
        }
        let now = self.clock.now();
        match alert.delivery {
            Delivery::Digest => {
                let period = self.schedule.period(now);
                for list in lists {
                    self.digests.add(list, alert, period);
                }
                self.store.save_digests(&self.digests)?;
                tracing::debug!(alert = %alert.id, "alert kept for the digest");
            }
            Delivery::Immediate => match self.quiet.as_ref().and_then(|q| q.until(now)) {
                Some(until) if alert.severity < Severity::Critical => {
                    self.held.hold(alert, until);
                    self.store.save_held(&self.held)?;
                    tracing::info!(alert = %alert.id, %until, "quiet hours: alert held until they end");
                }
                _ => self.send_now(alert).await?,
            },
        }
        Ok(())
    }

    /// Sends the held alerts whose quiet hours have ended and, outside
    /// quiet hours, the digests whose period has ended (or that are full).
    pub async fn release_due(&mut self) -> Result<(), AlerterError> {
        let now = self.clock.now();
        self.release(now, false).await
    }

    /// Sends every held alert and every digest, due or not: the end of a
    /// `--once` run.
    pub async fn release_all(&mut self) -> Result<(), AlerterError> {
        let (held, digests) = (self.held.len(), self.digests.len());
        if held + digests > 0 {
            tracing::info!(held, digest_entries = digests, "end of the run: sending held alerts and digests now");
        }
        let now = self.clock.now();
        self.release(now, true).await
    }

    /// Forgets sent ids older than `retention` before `now` (see
    /// [`SentLog::prune`]); saved with the next email.
    pub fn prune(&mut self, now: DateTime<Utc>, retention: Duration) {
        self.sent.prune(now, retention);
    }

    /// How many emailed alert and digest ids are remembered.
    pub fn remembered(&self) -> usize {
        self.sent.len()
    }

    async fn release(&mut self, now: DateTime<Utc>, all: bool) -> Result<(), AlerterError> {
        for alert in self.held.due(now, all) {
            if !self.sent.contains(&alert.id) {
                self.send_now(&alert).await?;
            }
            self.held.release(&alert.id);
            self.store.save_held(&self.held)?;
        }
        let quiet = !all && self.quiet.as_ref().is_some_and(|q| q.until(now).is_some());
        if quiet {
            return Ok(());
        }
        if self.digests.seal(now, all) {
            self.store.save_digests(&self.digests)?;
        }
        for digest in self.digests.sealed().to_vec() {
            if !self.sent.contains(&digest.id) {
                let to = self.router.addresses(std::slice::from_ref(&digest.list));
                if to.is_empty() {
                    let entries = digest.alerts.len();
                    tracing::warn!(digest = %digest.id, list = %digest.list, entries, "the digest's list has no addresses any more; it is not emailed");
                } else {
                    self.notifier.send_digest(&digest, &to).await?;
                    self.sent.insert(&digest.id, now);
                    for alert in &digest.alerts {
                        self.sent.insert(&alert.id, alert.timestamp);
                    }
                    self.store.save_sent(&self.sent)?;
                }
            }
            self.digests.remove_sealed(&digest.id);
            self.store.save_digests(&self.digests)?;
        }
        Ok(())
    }

    /// Emails the escalation of `alert` (unacknowledged after `waited`) to the
    /// addresses of `lists`; `false` when they have none (with a warning).
    pub async fn escalate(
        &self,
        alert: &Alert,
        lists: &[String],
        waited: std::time::Duration,
    ) -> Result<bool, AlerterError> {
        let to = self.router.addresses(lists);
        if to.is_empty() {
            tracing::warn!(alert = %alert.id, "the escalation lists have no addresses; the alert is not escalated");
            return Ok(false);
        }
        self.notifier.send_escalation(alert, &to, &lists.join(", "), waited).await?;
        Ok(true)
    }

    /// Emails `alert` to its lists' addresses and remembers that it was.
    async fn send_now(&mut self, alert: &Alert) -> Result<(), AlerterError> {
        let to = self.router.addresses(&alert.recipients);
        if to.is_empty() {
            tracing::warn!(alert = %alert.id, "the alert's recipient lists have no addresses any more; it is not emailed");
            return Ok(());
        }
        self.notifier.send_alert(alert, &to).await?;
        self.sent.insert(&alert.id, alert.timestamp);
        self.store.save_sent(&self.sent)?;
        Ok(())
    }
}
