//! Digests: alerts routed with `delivery = "digest"` wait here, one open
//! digest per recipient list, until their period ends by the wall clock
//! (daily at a UK time, or hourly). A digest is then sealed: its id is fixed
//! from its list and its alerts, and it is saved before it is emailed, so a
//! restart sends a sealed digest at most once more, under the same
//! `Message-ID`, and never loses an alert.

use crate::alert::Alert;
use crate::uk_time;
use chrono::{DateTime, Days, DurationRound, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use vigil_core::config::{DigestConfig, DigestEvery};
use vigil_core::event::hex;

/// A digest holding this many alerts is sealed without waiting for its
/// period to end, so that no email lists more.
pub const MAX_DIGEST_ALERTS: usize = 500;

/// The UK time of daily digests when `[alerter.digest] at` is not set.
const DEFAULT_DAILY_AT: (u32, u32) = (7, 30);

/// When digest periods end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Every day at this UK time.
    Daily(NaiveTime),
    /// At the start of every hour.
    Hourly,
}

/// A span of wall-clock time, `start` included, `end` not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// The first instant of the period.
    pub start: DateTime<Utc>,
    /// The first instant after it.
    pub end: DateTime<Utc>,
}

impl Schedule {
    /// The schedule `config` describes.
    pub fn from_config(config: &DigestConfig) -> Schedule {
        match config.every {
            DigestEvery::Hourly => Schedule::Hourly,
            DigestEvery::Daily => Schedule::Daily(config.at.map(|t| t.0).unwrap_or_else(|| {
                NaiveTime::from_hms_opt(DEFAULT_DAILY_AT.0, DEFAULT_DAILY_AT.1, 0).expect("a valid time")
            })),
        }
    }

    /// The period `at` falls in.
    pub fn period(&self, at: DateTime<Utc>) -> Period {
        match *self {
            // UK time differs from UTC by whole hours, so UTC hours are UK hours.
            Schedule::Hourly => {
                let start = at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at);
                Period { start, end: start + TimeDelta::hours(1) }
            }
            Schedule::Daily(time) => {
                let today = uk_time::to_local(at).date();
                let boundary = |days_back: u64| {
                    today.checked_sub_days(Days::new(days_back)).map(|d| uk_time::from_local(d.and_time(time)))
                };
                let tomorrow = today.checked_add_days(Days::new(1)).map(|d| uk_time::from_local(d.and_time(time)));
                let (yesterday, today) = (boundary(1), boundary(0));
                match (yesterday, today, tomorrow) {
                    (_, Some(t), Some(n)) if t <= at => Period { start: t, end: n },
                    (Some(y), Some(t), _) => Period { start: y, end: t },
                    _ => Period { start: at, end: at + TimeDelta::days(1) },
                }
            }
        }
    }
}

/// The alerts waiting for one list's next digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Open {
    period: Period,
    alerts: Vec<Alert>,
}

/// A digest ready to be emailed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    /// `digest-` and 32 hex digits of SHA-256 over the list and the alert
    /// ids: its `Message-ID` and outbox file name.
    pub id: String,
    /// The recipient list it goes to.
    pub list: String,
    /// From the start of the period its first alert was raised in to when
    /// it was sealed: its period's end, or later when it waited for quiet
    /// hours to end or for the alerter to run, or earlier when it was full
    /// or a `--once` run ended.
    pub period: Period,
    /// Its alerts, oldest event first.
    pub alerts: Vec<Alert>,
}

/// The open and sealed digests: what `<data_dir>/alerter/digest.json`
/// holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DigestBook {
    open: BTreeMap<String, Open>,
    sealed: Vec<Digest>,
}

impl DigestBook {
    /// Whether alert `id` waits in any digest.
    pub fn contains(&self, id: &str) -> bool {
        let mut alerts = self.open.values().flat_map(|o| &o.alerts).chain(self.sealed.iter().flat_map(|d| &d.alerts));
        alerts.any(|a| a.id == id)
    }

    /// Adds `alert` to `list`'s open digest, opening one for `period` if
    /// the list has none.
    pub fn add(&mut self, list: &str, alert: &Alert, period: Period) {
        let open = self.open.entry(list.to_string()).or_insert_with(|| Open { period, alerts: Vec::new() });
        open.alerts.push(alert.clone());
    }

    /// Seals the open digests whose period ended by `now` or that are full;
    /// all of them when `all`. Returns whether any was sealed.
    pub fn seal(&mut self, now: DateTime<Utc>, all: bool) -> bool {
        let ready: Vec<String> = self
            .open
            .iter()
            .filter(|(_, o)| all || o.period.end <= now || o.alerts.len() >= MAX_DIGEST_ALERTS)
            .map(|(list, _)| list.clone())
            .collect();
        for list in &ready {
            let Some(Open { period, mut alerts }) = self.open.remove(list) else { continue };
            alerts.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
            let period = Period { start: period.start, end: now };
            self.sealed.push(Digest { id: digest_id(list, &alerts), list: list.clone(), period, alerts });
        }
        !ready.is_empty()
    }

    /// The sealed digests, oldest first.
    pub fn sealed(&self) -> &[Digest] {
        &self.sealed
    }

    /// Forgets sealed digest `id` (it was sent).
    pub fn remove_sealed(&mut self, id: &str) {
        self.sealed.retain(|d| d.id != id);
    }

    /// Alerts waiting, counted once per list.
    pub fn len(&self) -> usize {
        self.open.values().map(|o| o.alerts.len()).chain(self.sealed.iter().map(|d| d.alerts.len())).sum()
    }

    /// Whether no alert waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn digest_id(list: &str, alerts: &[Alert]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(list.as_bytes());
    for alert in alerts {
        hasher.update([0]);
        hasher.update(alert.id.as_bytes());
    }
    format!("digest-{}", hex(&hasher.finalize()[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use vigil_core::config::TimeOfDay;

    fn utc(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, h, min, 0).unwrap()
    }

    fn daily(at: &str) -> Schedule {
        Schedule::from_config(&DigestConfig {
            every: DigestEvery::Daily,
            at: Some(TimeOfDay::try_from(at.to_string()).unwrap()),
        })
    }

    #[test]
    fn daily_periods_run_from_one_uk_morning_to_the_next() {
        let s = daily("07:30");
        assert_eq!(Schedule::from_config(&DigestConfig::default()), s, "07:30 is the default");
        assert_eq!(s.period(utc(1, 15, 12, 0)), Period { start: utc(1, 15, 7, 30), end: utc(1, 16, 7, 30) });
        assert_eq!(s.period(utc(1, 15, 7, 29)), Period { start: utc(1, 14, 7, 30), end: utc(1, 15, 7, 30) });
        assert_eq!(s.period(utc(1, 15, 7, 30)).start, utc(1, 15, 7, 30), "the boundary starts a period");
        assert_eq!(s.period(utc(7, 1, 6, 45)), Period { start: utc(7, 1, 6, 30), end: utc(7, 2, 6, 30) }, "BST");
    }

    #[test]
    fn daily_periods_across_the_clock_changes() {
        let s = daily("07:30");
        // 07:30 GMT on 28 March to 07:30 BST on 29 March: 23 hours.
        assert_eq!(s.period(utc(3, 28, 20, 0)), Period { start: utc(3, 28, 7, 30), end: utc(3, 29, 6, 30) });
        assert_eq!(s.period(utc(3, 29, 6, 30)).start, utc(3, 29, 6, 30));
        // 07:30 BST on 24 October to 07:30 GMT on 25 October: 25 hours.
        assert_eq!(s.period(utc(10, 25, 7, 0)), Period { start: utc(10, 24, 6, 30), end: utc(10, 25, 7, 30) });
        // Just after midnight UTC but still the evening before in BST.
        assert_eq!(s.period(utc(7, 1, 23, 30)), Period { start: utc(7, 1, 6, 30), end: utc(7, 2, 6, 30) });
    }

    #[test]
    fn hourly_periods_are_clock_hours() {
        let s = Schedule::from_config(&DigestConfig { every: DigestEvery::Hourly, at: None });
        assert_eq!(s.period(utc(7, 1, 9, 59)), Period { start: utc(7, 1, 9, 0), end: utc(7, 1, 10, 0) });
        assert_eq!(s.period(utc(7, 1, 10, 0)), Period { start: utc(7, 1, 10, 0), end: utc(7, 1, 11, 0) });
    }
    #[test]
    fn digests_are_sealed_when_their_period_ends_with_ids_fixed_by_content() {
        let s = daily("07:30");
        let period = s.period(utc(1, 15, 12, 0));
        let a = crate::test_alerts::alert("a1", utc(1, 15, 11, 0), "p1", "casino");
        let b = crate::test_alerts::alert("a2", utc(1, 15, 10, 0), "p2", "poker");
        let mut book = DigestBook::default();
        book.add("dsl", &a, period);
        book.add("dsl", &b, period);
        book.add("deputies", &a, period);
        assert!(book.contains("a1") && !book.contains("a3"));
        assert_eq!(book.len(), 3);
        assert!(!book.seal(utc(1, 16, 7, 29), false), "the period has not ended");
        assert!(book.sealed().is_empty());

        let json = serde_json::to_vec(&book).unwrap();
        let mut back: DigestBook = serde_json::from_slice(&json).unwrap();
        assert_eq!(back, book, "the book survives a restart");
        assert!(back.seal(utc(1, 16, 7, 30), false));
        let sealed = back.sealed().to_vec();
        assert_eq!(sealed.len(), 2);
        let dsl = sealed.iter().find(|d| d.list == "dsl").unwrap();
        let ids: Vec<&str> = dsl.alerts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a2", "a1"], "oldest event first");
        assert_eq!(dsl.period, Period { start: period.start, end: utc(1, 16, 7, 30) });
        assert!(dsl.id.starts_with("digest-") && dsl.id.len() == 39, "{}", dsl.id);
        let deputies = sealed.iter().find(|d| d.list == "deputies").unwrap();
        assert_ne!(deputies.id, dsl.id);

        // The same alerts added in another order seal to the same id.
        let mut again = DigestBook::default();
        again.add("dsl", &b, period);
        again.add("dsl", &a, period);
        again.seal(utc(1, 16, 7, 30), false);
        assert_eq!(again.sealed()[0].id, dsl.id);

        let dsl_id = dsl.id.clone();
        back.remove_sealed(&dsl_id);
        assert_eq!(back.sealed().len(), 1);
        assert!(back.contains("a1") && !back.contains("a2"));
    }

    #[test]
    fn a_full_digest_is_sealed_early_and_all_are_sealed_on_request() {
        let period = daily("07:30").period(utc(1, 15, 12, 0));
        let mut book = DigestBook::default();
        for i in 0..MAX_DIGEST_ALERTS {
            book.add("dsl", &crate::test_alerts::alert(&format!("a{i}"), utc(1, 15, 12, 0), "p", "casino"), period);
        }
        book.add("head", &crate::test_alerts::alert("h", utc(1, 15, 12, 0), "p", "casino"), period);
        assert!(book.seal(utc(1, 15, 12, 1), false));
        assert_eq!(book.sealed().iter().map(|d| d.list.as_str()).collect::<Vec<_>>(), ["dsl"]);
        assert!(book.seal(utc(1, 15, 12, 1), true), "a run's end seals the rest");
        assert_eq!(book.sealed().len(), 2);
        assert!(!book.seal(utc(1, 15, 12, 1), true), "nothing is left open");
    }
}
