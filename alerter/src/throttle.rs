//! Per-(rule, tenant, user) throttling in event time: the first match alerts,
//! further matches within the window after it are only counted, and the next
//! alert after the window carries that count.
//!
//! Replays: the event that raised an entry's last alert is recognised by its
//! id and ignored ([`Decision::Replayed`]), so events read again after a
//! restart do not raise that alert again; other replayed matches are counted
//! once more as suppressed.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Entries are forgotten this many windows after their last alert ...
pub const KEEP_WINDOWS: i32 = 4;

/// ... but never sooner than this, in event time. The pruning clock is the
/// newest event seen, and a backfill reads its sources unevenly (a RADIUS
/// log's evening lines before the morning's mail): an entry must outlive
/// that spread, or a replay decides differently from the first reading.
pub const MIN_KEEP_DAYS: i64 = 14;

/// How long after its last alert an entry (or a sent alert's id) is kept,
/// for a throttle window of `window`.
pub fn keep_for(window: Duration) -> Duration {
    window.checked_mul(KEEP_WINDOWS).unwrap_or(Duration::MAX).max(Duration::days(MIN_KEEP_DAYS))
}

/// Whom a throttle entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ThrottleKey {
    /// The rule id.
    pub rule: String,
    /// The school.
    pub tenant: String,
    /// The user name, or the source address when the event has no user.
    pub who: String,
}

/// What to do with one match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Raise an alert; `suppressed` matches were throttled since the last one.
    Alert {
        /// Matches counted but not alerted since the previous alert.
        suppressed: u64,
    },
    /// Within the window of the last alert: count it, do not alert.
    Suppress,
    /// The very event that raised the last alert, seen again: ignore it.
    Replayed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    #[serde(flatten)]
    key: ThrottleKey,
    last_alert: DateTime<Utc>,
    last_event: String,
    suppressed: u64,
}

/// The state of one key: the last alert's time and event id, and the
/// matches suppressed since.
#[derive(Debug, Clone, PartialEq)]
struct Window {
    last_alert: DateTime<Utc>,
    last_event: String,
    suppressed: u64,
}

/// The throttle state. Serialises to a list of entries.
#[derive(Debug, Clone, PartialEq)]
pub struct Throttle {
    window: Duration,
    entries: HashMap<ThrottleKey, Window>,
}

/// The persisted form of a [`Throttle`]'s entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ThrottleEntries(Vec<Entry>);

impl Throttle {
    /// An empty throttle with a window of `window_secs` seconds (0: never
    /// throttle).
    pub fn new(window_secs: u64) -> Throttle {
        let window = Duration::try_seconds(i64::try_from(window_secs).unwrap_or(i64::MAX)).unwrap_or(Duration::MAX);
        Throttle { window, entries: HashMap::new() }
    }

    /// Decides on a match for `key` by the event `event_id` at `at`. A match
    /// earlier than the last alert (out-of-order events) counts as inside
    /// the window.
    pub fn observe(&mut self, key: ThrottleKey, event_id: &str, at: DateTime<Utc>) -> Decision {
        let fresh = || Window { last_alert: at, last_event: event_id.to_string(), suppressed: 0 };
        match self.entries.get_mut(&key) {
            Some(w) if w.last_event == event_id => Decision::Replayed,
            Some(w) if at.signed_duration_since(w.last_alert) < self.window => {
                w.suppressed += 1;
                Decision::Suppress
            }
            Some(w) => {
                let suppressed = w.suppressed;
                *w = fresh();
                Decision::Alert { suppressed }
            }
            None => {
                self.entries.insert(key, fresh());
                Decision::Alert { suppressed: 0 }
            }
        }
    }

    /// Forgets entries whose last alert is more than [`keep_for`] the window
    /// before `now` (their suppressed counts are lost).
    pub fn prune(&mut self, now: DateTime<Utc>) {
        let keep = keep_for(self.window);
        self.entries.retain(|_, w| now.signed_duration_since(w.last_alert) <= keep);
    }

    /// How many (rule, user) pairs are tracked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, for saving.
    pub fn entries(&self) -> ThrottleEntries {
        let mut list: Vec<Entry> = self
            .entries
            .iter()
            .map(|(key, w)| Entry {
                key: key.clone(),
                last_alert: w.last_alert,
                last_event: w.last_event.clone(),
                suppressed: w.suppressed,
            })
            .collect();
        list.sort_by(|a, b| (&a.key.rule, &a.key.tenant, &a.key.who).cmp(&(&b.key.rule, &b.key.tenant, &b.key.who)));
        ThrottleEntries(list)
    }

    /// Replaces the entries with saved ones.
    pub fn restore(&mut self, saved: ThrottleEntries) {
        self.entries = saved
            .0
            .into_iter()
            .map(|e| (e.key, Window { last_alert: e.last_alert, last_event: e.last_event, suppressed: e.suppressed }))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn key(who: &str) -> ThrottleKey {
        ThrottleKey { rule: "r".into(), tenant: "t".into(), who: who.into() }
    }

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 4, 10, minute, 0).unwrap()
    }

    #[test]
    fn matches_in_the_window_are_counted_and_reported_with_the_next_alert() {
        let mut t = Throttle::new(600);
        assert_eq!(t.observe(key("a"), "ea0", at(0)), Decision::Alert { suppressed: 0 });
        assert_eq!(t.observe(key("a"), "ea5", at(5)), Decision::Suppress);
        assert_eq!(t.observe(key("a"), "ea9", at(9)), Decision::Suppress);
        assert_eq!(
            t.observe(key("b"), "eb9", at(9)),
            Decision::Alert { suppressed: 0 },
            "another user is not throttled"
        );
        assert_eq!(t.observe(key("a"), "ea10", at(10)), Decision::Alert { suppressed: 2 });
        assert_eq!(t.observe(key("a"), "ea15", at(15)), Decision::Suppress, "the window restarts at the new alert");
    }

    #[test]
    fn the_event_that_alerted_is_recognised_when_replayed() {
        let mut t = Throttle::new(600);
        assert_eq!(t.observe(key("a"), "e1", at(0)), Decision::Alert { suppressed: 0 });
        assert_eq!(t.observe(key("a"), "e1", at(0)), Decision::Replayed);
        assert_eq!(t.observe(key("a"), "e2", at(1)), Decision::Suppress);
    }

    #[test]
    fn zero_window_never_throttles() {
        let mut t = Throttle::new(0);
        assert_eq!(t.observe(key("a"), "e1", at(0)), Decision::Alert { suppressed: 0 });
        assert_eq!(t.observe(key("a"), "e2", at(0)), Decision::Alert { suppressed: 0 });
    }

    #[test]
    fn saved_entries_restore_the_same_decisions_and_old_ones_are_pruned() {
        let mut t = Throttle::new(60);
        t.observe(key("a"), "ea0", at(0));
        t.observe(key("b"), "eb10", at(10));
        t.observe(key("b"), "eb11", at(10));
        let json = serde_json::to_string(&t.entries()).unwrap();
        let mut back = Throttle::new(60);
        back.restore(serde_json::from_str(&json).unwrap());
        assert_eq!(back, t);
        back.prune(at(10));
        assert_eq!(back.len(), 2, "kept at least two weeks, however short the window");
        back.prune(at(10) + Duration::days(MIN_KEEP_DAYS) - Duration::minutes(5));
        assert_eq!(back.len(), 1, "a's entry is more than two weeks old");
        assert_eq!(back.observe(key("b"), "eb12", at(10)), Decision::Suppress);
    }

    #[test]
    fn huge_windows_do_not_overflow() {
        let mut t = Throttle::new(u64::MAX);
        t.observe(key("a"), "ea0", at(0));
        assert_eq!(t.observe(key("a"), "ea59", at(59)), Decision::Suppress);
        t.prune(at(59));
        assert_eq!(t.len(), 1);
    }
}
