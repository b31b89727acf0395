//! Where raised alerts are recorded besides email and the alerts topic: the
//! alert store the console reads (the binary provides it, as it provides the
//! context source; the alerter itself does not depend on the store).

use crate::alert::Alert;
use chrono::{DateTime, Utc};
use std::fmt;
use vigil_core::config::Severity;

/// Why an alert could not be recorded.
#[derive(Debug, thiserror::Error)]
#[error("cannot record an alert in the alert store: {reason}")]
pub struct AlertSinkError {
    /// What went wrong, without personal data (it is logged).
    pub reason: String,
}

/// Records each raised alert before it is emailed, so the console shows it
/// however its email is delivered (at once, after quiet hours, in a digest).
pub trait AlertSink: fmt::Debug + Send + Sync {
    /// Records `alert`. An alert already recorded (a replay after a restart:
    /// the same id) must change nothing and succeed.
    fn record(&self, alert: &Alert) -> Result<(), AlertSinkError>;

    /// Recorded alerts nobody has acknowledged, of at least `min_severity`,
    /// recorded before `recorded_before` and not yet escalated, oldest
    /// first, at most `limit`. A sink that keeps no acknowledgements has
    /// none.
    fn overdue(
        &self,
        _recorded_before: DateTime<Utc>,
        _min_severity: Severity,
        _limit: usize,
    ) -> Result<Vec<Alert>, AlertSinkError> {
        Ok(Vec::new())
    }

    /// Remembers that alert `id` was escalated at `at`, so it is not again.
    fn escalated(&self, _id: &str, _at: DateTime<Utc>) -> Result<(), AlertSinkError> {
        Ok(())
    }
}
