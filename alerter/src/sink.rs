//! Where raised alerts are recorded besides email and the alerts topic: the
//! alert store the console reads (the binary provides it, as it provides the
//! context source; the alerter itself does not depend on the store).

use crate::alert::Alert;
use std::fmt;

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
}
