//! Times as the store keeps them: UTC text that sorts as it compares.

use crate::StoreError;
use chrono::{DateTime, SecondsFormat, Utc};

/// `t` as `YYYY-MM-DDTHH:MM:SS.sssZ`, the form SQLite's
/// `strftime('%Y-%m-%dT%H:%M:%fZ')` writes too.
pub fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stored time back; an unreadable one is [`StoreError::Corrupt`].
pub fn parse(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {text:?}: {e}")))
}

/// An optional stored time back.
pub fn parse_opt(text: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.as_deref().map(parse).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_at_millisecond_precision_and_sort_as_text() {
        let t: DateTime<Utc> = "2026-03-04T10:00:00.123456Z".parse().unwrap();
        assert_eq!(text(t), "2026-03-04T10:00:00.123Z");
        assert_eq!(parse(&text(t)).unwrap().timestamp_millis(), t.timestamp_millis());
        let later: DateTime<Utc> = "2026-03-04T10:00:01Z".parse().unwrap();
        assert!(text(t) < text(later));
        assert!(parse("yesterday").is_err());
    }
}
