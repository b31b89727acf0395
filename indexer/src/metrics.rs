//! The indexer's own metric, registered with Vigil's other metrics.

use prometheus::{IntCounterVec, Opts};
use std::sync::LazyLock;
use vigil_core::metrics::REGISTRY;

/// Why a consumed record was not indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skip {
    /// Not an event, or an event whose tenant cannot be a folder name.
    Invalid,
    /// Dated before the retention period.
    Expired,
    /// Already indexed before a restart.
    Replayed,
}

impl Skip {
    /// The metric label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Skip::Invalid => "invalid",
            Skip::Expired => "expired",
            Skip::Replayed => "replayed",
        }
    }
}

/// Records consumed from the events topic but not indexed, by reason
/// (`invalid`, `expired`, `replayed`).
pub static SKIPPED_RECORDS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    let counter = IntCounterVec::new(
        Opts::new("vigil_indexer_records_skipped_total", "Records on the events topic not indexed, by reason."),
        &["reason"],
    )
    .expect("valid metric");
    REGISTRY.register(Box::new(counter.clone())).expect("metric registered once");
    counter
});
