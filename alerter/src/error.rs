//! The alerter's error type.

use crate::mailer::EmailConfigError;
use crate::notifier::NotifyError;
use crate::routing::UnknownRuleError;
use crate::rules::RulesError;
use crate::sink::AlertSinkError;
use crate::state::StateError;
use thiserror::Error;
use vigil_core::transport::TransportError;

/// Why the alerter stopped.
#[derive(Debug, Error)]
pub enum AlerterError {
    /// The rules could not be loaded or compiled.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// A route names a rule or category that is not loaded.
    #[error(transparent)]
    Routing(#[from] UnknownRuleError),
    /// The `[email]` settings are unusable.
    #[error(transparent)]
    EmailConfig(#[from] EmailConfigError),
    /// The state under `<data_dir>/alerter/` could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// An alert could not be recorded in the alert store; its events are not
    /// committed, so it is recorded (and emailed) when the alerter starts again.
    #[error("{0}; the alerter stopped without committing, so the alert is recorded when it is restarted")]
    Sink(#[from] AlertSinkError),
    /// Reading events or publishing alerts failed.
    #[error("the alerter lost its transport: {0}")]
    Transport(#[from] TransportError),
    /// An alert could not be emailed; its events are not committed, so it is
    /// emailed when the alerter starts again.
    #[error("{0}; the alerter stopped without committing, so the alert is emailed when it is restarted")]
    Notify(#[from] NotifyError),
}
