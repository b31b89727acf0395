//! Labels of the indexer's skip counter
//! ([`vigil_core::metrics::INDEX_SKIPPED`]).

/// Why a consumed record was not indexed (the `reason` label).
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
    /// Every reason.
    pub(crate) const ALL: [Skip; 3] = [Skip::Invalid, Skip::Expired, Skip::Replayed];

    /// The metric label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Skip::Invalid => "invalid",
            Skip::Expired => "expired",
            Skip::Replayed => "replayed",
        }
    }
}

/// Creates the skip counter of every reason at zero, so that `/metrics`
/// shows it before the first skipped record.
pub(crate) fn count_skips_from_zero() {
    for skip in Skip::ALL {
        vigil_core::metrics::INDEX_SKIPPED.with_label_values(&[skip.as_str()]);
    }
}
