//! Alerts for unit tests, built from their wire form so that fields added
//! to [`Alert`] later do not break them.

use crate::alert::Alert;
use chrono::{DateTime, Utc};
use serde_json::json;

/// A low-severity alert `id` at `at` for `user`, matching `text` in
/// `search.query`.
pub fn alert(id: &str, at: DateTime<Utc>, user: &str, text: &str) -> Alert {
    serde_json::from_value(json!({
        "alert.id": id,
        "@timestamp": at,
        "rule.id": "gambling-info",
        "alert.category": "gambling",
        "alert.severity": "low",
        "alert.role": "dsl",
        "alert.phrase": "casino",
        "alert.field": "search.query",
        "alert.suppressed": 0,
        "tenant": "school-a",
        "user.name": user,
        "search.query": text,
        "event.id": format!("event-{id}"),
        "alert.recipients": ["dsl"],
        "alert.delivery": "digest",
    }))
    .expect("a valid alert")
}
