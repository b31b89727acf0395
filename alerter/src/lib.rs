//! Vigil's alerter: reads events, matches them against the rule library
//! (shipped in the binary, extended and adjusted by the configuration),
//! throttles repeats per (rule, user), emails the recipient lists its routes
//! choose (the DSL, the ICT manager, named lists; at once, after quiet
//! hours, or in a digest), and publishes each alert to the alerts topic.
//!
//! - [`rules`]: loading, normalising and matching the rules: phrases in
//!   `search.query`, the words of `url.full` and `email.subject`, and the web
//!   filter's blocked verdicts.
//! - [`alert`]: the alert record and its deterministic id.
//! - [`context`]: what the user did around an alert, from memory and the
//!   search index.
//! - [`throttle`]: per-(rule, user) windows in event time.
//! - [`routing`]: who is told of an alert (recipient lists, routes) and how.
//! - [`postbox`]: emailing now, holding over [`quiet_hours`], keeping for a
//!   [`digest`]; [`clock`] and [`uk_time`] tell the time they go by, and
//!   [`active_hours`] when a log source is expected to send.
//! - [`email`], [`digest_email`], [`mailer`], [`notifier`]: rendering and
//!   delivering emails.
//! - [`state`]: what survives a restart (throttle, emailed ids, held alerts,
//!   digests).
//! - [`sigma`]: converting Sigma rules into Vigil rules.
//! - [`sink`]: where alerts are recorded for the console (the alert store).
//! - [`pipeline`]: the consume → alert → record → email → publish → commit
//!   loop.
#![deny(missing_docs)]

pub mod active_hours;
pub mod alert;
pub mod clock;
pub mod context;
pub mod digest;
pub mod digest_email;
pub mod email;
pub mod error;
pub mod mailer;
pub mod notifier;
pub mod pipeline;
pub mod postbox;
pub mod quiet_hours;
pub mod routing;
pub mod rules;
pub mod sigma;
pub mod sink;
pub mod state;
#[cfg(test)]
mod test_alerts;
pub mod throttle;
pub mod uk_time;

pub use alert::Alert;
pub use clock::Clock;
pub use context::{ContextSource, ContextSourceError, Who};
pub use error::AlerterError;
pub use notifier::RetryPolicy;
pub use pipeline::Alerter;
pub use sink::{AlertSink, AlertSinkError};

use vigil_core::shutdown::Shutdown;
use vigil_core::transport::Transport;
use vigil_core::Config;

/// Runs the alerter until `shutdown` says to stop (see [`Alerter::run`]),
/// reading alert context also from `context` (the search index) and
/// recording each alert in `sink` (the alert store) when there is one. Returns an
/// error when the configuration, the state files, the transport or an email
/// fails; see [`pipeline`] for what happens to unsent alerts.
pub async fn run(
    config: &Config,
    transport: &dyn Transport,
    context: Box<dyn ContextSource>,
    sink: Option<Box<dyn AlertSink>>,
    shutdown: Shutdown,
) -> Result<(), AlerterError> {
    tracing::info!("{}", describe_delivery(config));
    let alerter = Alerter::new(config)?.with_context_source(context);
    match sink {
        Some(sink) => alerter.with_sink(sink),
        None => alerter,
    }
    .run(transport, shutdown)
    .await
}

/// One line saying where alert emails go, for the start-up log, e.g.
/// "alert emails are written as .eml files to /x/outbox (no SMTP server
/// configured)".
pub fn describe_delivery(config: &Config) -> String {
    mailer::describe(config)
}
