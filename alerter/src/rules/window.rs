//! Event-time windows for the windowed rule types (threshold, distinct,
//! sequence): the recent events of one group, kept in time order, replays
//! recognised by event id, late events accepted within a tolerance.
//!
//! A window of `within` holds events less than `within` apart: with a
//! 10-minute window, events at 10:00:00 and 10:09:59 are within it, events
//! at 10:00:00 and 10:10:00 are not. An event may arrive up to `tolerance`
//! behind the newest time seen for its group and still count in the window
//! it belongs to; later than that it is ignored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};

/// A stable 64-bit hash (the same in every process): of event ids, to spot
/// replays, and of values, to count distinct ones.
pub fn stable_hash(text: &str) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    text.hash(&mut hasher);
    hasher.finish()
}

/// One event counted in a window. Saved as `[at, event, value]`, the
/// smallest JSON for the many kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(i64, u64, u64)", into = "(i64, u64, u64)")]
pub struct Seen {
    /// Event time, in milliseconds since 1970.
    pub at: i64,
    /// [`stable_hash`] of the event id.
    pub event: u64,
    /// [`stable_hash`] of the counted value (distinct rules), else 0.
    pub value: u64,
}

impl From<(i64, u64, u64)> for Seen {
    fn from((at, event, value): (i64, u64, u64)) -> Seen {
        Seen { at, event, value }
    }
}

impl From<Seen> for (i64, u64, u64) {
    fn from(seen: Seen) -> (i64, u64, u64) {
        (seen.at, seen.event, seen.value)
    }
}

impl Seen {
    /// `event_id` at `at`, counting `value`.
    pub fn new(at: DateTime<Utc>, event_id: &str, value: u64) -> Seen {
        Seen { at: at.timestamp_millis(), event: stable_hash(event_id), value }
    }
}

/// How long a window is and how late an event may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The window, in milliseconds.
    pub within: i64,
    /// How far behind the group's newest event an event may be, in
    /// milliseconds.
    pub tolerance: i64,
}

impl Window {
    /// A window of `within_secs` with `tolerance_secs` for late events.
    pub fn new(within_secs: u64, tolerance_secs: u64) -> Window {
        let ms = |secs: u64| i64::try_from(secs).unwrap_or(i64::MAX / 2_000).saturating_mul(1000);
        Window { within: ms(within_secs), tolerance: ms(tolerance_secs) }
    }

    /// The oldest time still useful when the newest seen is `newest`:
    /// anything at or before it can no longer share a window with an event
    /// that may still arrive.
    pub fn horizon(&self, newest: i64) -> i64 {
        newest.saturating_sub(self.tolerance).saturating_sub(self.within)
    }
}

/// The recent events of one group (or one step of a sequence), oldest
/// first, at most `keep` of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Recent(VecDeque<Seen>);

/// What [`Recent::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Counted.
    New,
    /// The same event was already counted (a replay after a restart).
    Replayed,
    /// Too late: older than the window and tolerance allow.
    TooLate,
}

impl Recent {
    /// Adds `seen` in time order, keeping the newest `keep` and forgetting
    /// what falls behind `window`'s horizon.
    pub fn insert(&mut self, seen: Seen, keep: usize, window: Window) -> Inserted {
        if self.0.iter().any(|s| s.event == seen.event) {
            return Inserted::Replayed;
        }
        let newest = self.newest().map_or(seen.at, |n| n.max(seen.at));
        if seen.at <= window.horizon(newest) {
            return Inserted::TooLate;
        }
        let at = self.0.partition_point(|s| s.at <= seen.at);
        self.0.insert(at, seen);
        let horizon = window.horizon(newest);
        while self.0.front().is_some_and(|s| s.at <= horizon) || self.0.len() > keep.max(1) {
            self.0.pop_front();
        }
        Inserted::New
    }

    /// Keeps of the events with the same value only the newest (distinct
    /// rules count values, not events).
    pub fn insert_value(&mut self, seen: Seen, keep: usize, window: Window) -> Inserted {
        if let Some(i) = self.0.iter().position(|s| s.value == seen.value) {
            if self.0[i].event == seen.event {
                return Inserted::Replayed;
            }
            if self.0[i].at >= seen.at {
                return Inserted::Replayed;
            }
            self.0.remove(i);
        }
        self.insert(seen, keep, window)
    }

    /// The newest event time, if any.
    pub fn newest(&self) -> Option<i64> {
        self.0.back().map(|s| s.at)
    }

    /// The largest number of events within one window that holds the event
    /// at `at` (so a late event completes the window it belongs to).
    pub fn most_within(&self, at: i64, window: Window) -> usize {
        let times: Vec<i64> = self.0.iter().map(|s| s.at).collect();
        let mut best = 0;
        for (start, &from) in times.iter().enumerate() {
            if from > at {
                break;
            }
            if at - from >= window.within {
                continue;
            }
            let end = times.partition_point(|&t| t - from < window.within);
            best = best.max(end - start);
        }
        best
    }

    /// The times, oldest first.
    pub fn times(&self) -> impl Iterator<Item = i64> + '_ {
        self.0.iter().map(|s| s.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn seen(minute: i64, id: &str) -> Seen {
        Seen { at: minute * MIN, event: stable_hash(id), value: 0 }
    }

    #[test]
    fn windows_hold_events_less_than_their_length_apart() {
        let w = Window::new(600, 0);
        let mut r = Recent::default();
        r.insert(seen(0, "a"), 10, w);
        r.insert(seen(9, "b"), 10, w);
        assert_eq!(r.most_within(9 * MIN, w), 2);
        r.insert(seen(10, "c"), 10, w);
        assert_eq!(r.most_within(10 * MIN, w), 2, "0 and 10 are a whole window apart");
        assert_eq!(r.times().collect::<Vec<_>>(), vec![9 * MIN, 10 * MIN], "0 can share no window with what comes");
        r.insert(seen(20, "d"), 10, w);
        assert_eq!(r.times().collect::<Vec<_>>(), vec![20 * MIN], "older ones can no longer share a window");
    }

    #[test]
    fn replays_are_recognised_and_late_events_kept_within_the_tolerance() {
        let w = Window::new(600, 120);
        let mut r = Recent::default();
        assert_eq!(r.insert(seen(30, "a"), 10, w), Inserted::New);
        assert_eq!(r.insert(seen(30, "a"), 10, w), Inserted::Replayed);
        assert_eq!(r.insert(seen(19, "late"), 10, w), Inserted::New, "within 10 + 2 minutes");
        assert_eq!(r.insert(seen(18, "too-late"), 10, w), Inserted::TooLate);
        assert_eq!(r.times().collect::<Vec<_>>(), vec![19 * MIN, 30 * MIN], "kept in time order");
        assert_eq!(r.most_within(19 * MIN, w), 1);
        let mut r = Recent::default();
        for (i, minute) in [5, 1, 3].into_iter().enumerate() {
            r.insert(seen(minute, &i.to_string()), 2, w);
        }
        assert_eq!(r.times().collect::<Vec<_>>(), vec![3 * MIN, 5 * MIN], "the newest `keep`");
    }
}
