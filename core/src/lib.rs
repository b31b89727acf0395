//! Vigil's shared crate: the normalised event, the configuration file, the
//! transport interface between components, dead-letter records, metrics and
//! (feature `tls`) TLS acceptors from PEM files.
//!
//! Every other crate depends on this one and on nothing of each other's, so the
//! contracts written here are the ones the pipeline relies on.
#![deny(missing_docs)]

pub mod config;
pub mod deadletter;
pub mod detection;
pub mod event;
pub mod fsutil;
mod json_out;
pub mod metrics;
pub mod shutdown;
#[cfg(feature = "tls")]
pub mod tls;
pub mod transport;

pub use config::Config;
pub use deadletter::DeadLetter;
pub use event::{Event, EventKind, Label, Outcome};
