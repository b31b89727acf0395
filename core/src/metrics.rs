//! Every metric Vigil exports, with fixed names and labels, in one place.
//!
//! Components increment these; the binary serves them on `/metrics`
//! ([`render`]). Names follow Prometheus conventions: `vigil_` prefix,
//! `_total` for counters, base units (seconds, bytes).

use prometheus::{Encoder, Histogram, HistogramOpts, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};
use std::sync::LazyLock;

/// The registry all of Vigil's metrics live in.
pub static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    REGISTRY.register(Box::new(c.clone())).expect("metric registered once");
    c
}

fn gauge(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    REGISTRY.register(Box::new(g.clone())).expect("metric registered once");
    g
}

fn histogram(name: &str, help: &str, buckets: Vec<f64>) -> Histogram {
    let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets)).expect("valid metric");
    REGISTRY.register(Box::new(h.clone())).expect("metric registered once");
    h
}

/// Lines read from each source (every line: parsed, held or dead-lettered).
pub static LINES_READ: LazyLock<IntCounterVec> =
    LazyLock::new(|| counter("vigil_lines_read_total", "Log lines read, by source.", &["source"]));

/// What the lines read became, by source and use (`event`, `correlated`,
/// `header`): with [`DEAD_LETTERED`] these add up to [`LINES_READ`].
pub static LINES_USED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter(
        "vigil_lines_used_total",
        "Lines parsed, by source and what they became: an event, part of a multi-line event, or a log header.",
        &["source", "use"],
    )
});

/// Events produced, by kind and log format.
pub static EVENTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter("vigil_events_total", "Normalised events produced, by kind and format.", &["kind", "format"])
});

/// Lines sent to the dead-letter topic, by source.
pub static DEAD_LETTERED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter(
        "vigil_deadletter_total",
        "Lines no parser accepted, sent to the dead-letter topic, by source.",
        &["source"],
    )
});

/// Documents added to the search index, by tenant.
pub static DOCUMENTS_INDEXED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter("vigil_documents_indexed_total", "Events written to the search index, by tenant.", &["tenant"])
});

/// Records on the events topic the indexer did not index, by reason:
/// `invalid` (not an event), `expired` (older than retention), `replayed`
/// (already indexed before a restart).
pub static INDEX_SKIPPED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter("vigil_indexer_records_skipped_total", "Records on the events topic not indexed, by reason.", &["reason"])
});

/// How long an index commit took.
pub static COMMIT_SECONDS: LazyLock<Histogram> = LazyLock::new(|| {
    histogram(
        "vigil_index_commit_seconds",
        "Time taken by one index commit (all daily indexes touched by a batch).",
        vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
    )
});

/// Alerts raised (after throttling), by category and severity.
pub static ALERTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter("vigil_alerts_total", "Alerts raised, by category and severity.", &["category", "severity"])
});

/// Rule matches suppressed by the per-(rule, user) throttle.
pub static ALERTS_THROTTLED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter(
        "vigil_alerts_throttled_total",
        "Rule matches not emailed because of the throttle window, by rule.",
        &["rule"],
    )
});

/// Groups (addresses, users) a windowed rule dropped to keep within
/// `alerter.max_groups_per_rule`, by rule.
pub static RULE_GROUPS_EVICTED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter(
        "vigil_rule_groups_evicted_total",
        "Groups a windowed rule stopped tracking because it held its maximum, stalest first, by rule.",
        &["rule"],
    )
});

/// Groups a windowed rule tracks, by rule.
pub static RULE_GROUPS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    gauge("vigil_rule_groups", "Groups (addresses, users) a windowed rule is tracking, by rule.", &["rule"])
});

/// Entries in a rule list (domains, addresses, CIDR blocks), by list.
pub static LIST_ENTRIES: LazyLock<IntGaugeVec> =
    LazyLock::new(|| gauge("vigil_list_entries", "Entries loaded in a rule list, by list name.", &["list"]));

/// Alert emails handed to the SMTP server or written to the outbox, by role.
pub static EMAILS_SENT: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter(
        "vigil_emails_sent_total",
        "Alert and digest emails delivered (SMTP accepted or .eml written), by the rule's role (dsl, ict) or digest.",
        &["role"],
    )
});

/// Alert emails that could not be delivered, by role.
pub static EMAILS_FAILED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter(
        "vigil_emails_failed_total",
        "Alert and digest email attempts that failed, by the rule's role (dsl, ict) or digest.",
        &["role"],
    )
});

/// Records not yet consumed, by consumer group.
pub static CONSUMER_LAG: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    gauge("vigil_consumer_lag", "Records in the topic not yet consumed, by consumer group.", &["group"])
});

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    let mut out = Vec::new();
    TextEncoder::new().encode(&REGISTRY.gather(), &mut out).expect("text encoding cannot fail");
    String::from_utf8(out).expect("the text format is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_text_names_the_metrics() {
        LINES_READ.with_label_values(&["proxy"]).inc();
        let text = render();
        assert!(text.contains("vigil_lines_read_total{source=\"proxy\"} 1"), "{text}");
    }
}
