//! Quiet hours: when immediate alerts below critical wait, and until when.
//!
//! Times are UK civil time. A period starts at `start` on each chosen day
//! and ends at `end` the same day, or the next day when `end` is not later
//! than `start` (18:00 to 07:30 runs over midnight). On the days the clocks
//! change the period keeps its wall-clock times, so it is an hour shorter or
//! longer.
//!
//! Alerts held back wait in [`HeldAlerts`], saved in
//! `<data_dir>/alerter/held.json`.

use crate::alert::Alert;
use crate::uk_time;
use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vigil_core::config::QuietHoursConfig;

/// The quiet hours of `[alerter.quiet_hours]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHours {
    start: NaiveTime,
    end: NaiveTime,
    /// The days a period may start on; empty means every day.
    days: Vec<Weekday>,
}

impl QuietHours {
    /// The quiet hours `config` describes.
    pub fn from_config(config: &QuietHoursConfig) -> QuietHours {
        QuietHours { start: config.start.0, end: config.end.0, days: config.days.clone().unwrap_or_default() }
    }

    /// When the quiet period holding `now` ends, or `None` when `now` is not
    /// in quiet hours. The end itself is not quiet.
    pub fn until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = uk_time::to_local(now).date();
        let yesterday = today.checked_sub_days(Days::new(1))?;
        [yesterday, today].into_iter().filter_map(|day| self.period(day)).find_map(|(start, end)| {
            if start <= now && now < end {
                Some(end)
            } else {
                None
            }
        })
    }

    /// The period starting on `day`, if quiet hours start that day.
    fn period(&self, day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.days.is_empty() && !self.days.contains(&day.weekday()) {
            return None;
        }
        let end_day = if self.end > self.start { day } else { day.checked_add_days(Days::new(1))? };
        Some((uk_time::from_local(day.and_time(self.start)), uk_time::from_local(end_day.and_time(self.end))))
    }
}

/// One alert held over quiet hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Held {
    until: DateTime<Utc>,
    alert: Alert,
}

/// The alerts held over quiet hours, by alert id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HeldAlerts {
    held: BTreeMap<String, Held>,
}

impl HeldAlerts {
    /// Whether alert `id` is held.
    pub fn contains(&self, id: &str) -> bool {
        self.held.contains_key(id)
    }

    /// Holds `alert` until `until`.
    pub fn hold(&mut self, alert: &Alert, until: DateTime<Utc>) {
        self.held.insert(alert.id.clone(), Held { until, alert: alert.clone() });
    }

    /// The alerts due by `now` (all of them when `all`), oldest event first.
    pub fn due(&self, now: DateTime<Utc>, all: bool) -> Vec<Alert> {
        let mut due: Vec<Alert> =
            self.held.values().filter(|h| all || h.until <= now).map(|h| h.alert.clone()).collect();
        due.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
        due
    }

    /// Stops holding alert `id` (it was sent).
    pub fn release(&mut self, id: &str) {
        self.held.remove(id);
    }

    /// How many alerts are held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use vigil_core::config::TimeOfDay;

    fn quiet(start: &str, end: &str, days: Option<Vec<Weekday>>) -> QuietHours {
        let time = |t: &str| TimeOfDay::try_from(t.to_string()).unwrap();
        QuietHours::from_config(&QuietHoursConfig { start: time(start), end: time(end), days })
    }

    fn utc(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn over_midnight_in_winter() {
        let q = quiet("18:00", "07:30", None);
        assert_eq!(q.until(utc(1, 14, 17, 59)), None);
        assert_eq!(q.until(utc(1, 14, 18, 0)), Some(utc(1, 15, 7, 30)));
        assert_eq!(q.until(utc(1, 14, 23, 59)), Some(utc(1, 15, 7, 30)));
        assert_eq!(q.until(utc(1, 15, 3, 0)), Some(utc(1, 15, 7, 30)), "after midnight: yesterday's period");
        assert_eq!(q.until(utc(1, 15, 7, 30)), None, "the end is not quiet");
        assert_eq!(q.until(utc(1, 15, 12, 0)), None);
    }

    #[test]
    fn wall_clock_times_hold_in_summer_time() {
        let q = quiet("18:00", "07:30", None);
        assert_eq!(q.until(utc(7, 1, 16, 59)), None, "17:59 BST");
        assert_eq!(q.until(utc(7, 1, 17, 0)), Some(utc(7, 2, 6, 30)), "18:00 BST to 07:30 BST");
        assert_eq!(q.until(utc(7, 2, 6, 29)), Some(utc(7, 2, 6, 30)));
        assert_eq!(q.until(utc(7, 2, 6, 30)), None);
    }

    #[test]
    fn nights_of_the_clock_changes() {
        let q = quiet("18:00", "07:30", None);
        // Saturday 28 March 2026 18:00 GMT to Sunday 29 March 07:30 BST: 12.5 hours.
        assert_eq!(q.until(utc(3, 28, 18, 0)), Some(utc(3, 29, 6, 30)));
        assert_eq!(q.until(utc(3, 29, 6, 29)), Some(utc(3, 29, 6, 30)));
        assert_eq!(q.until(utc(3, 29, 6, 30)), None, "07:30 BST");
        // Saturday 24 October 18:00 BST to Sunday 25 October 07:30 GMT: 14.5 hours.
        assert_eq!(q.until(utc(10, 24, 16, 59)), None);
        assert_eq!(q.until(utc(10, 24, 17, 0)), Some(utc(10, 25, 7, 30)));
        assert_eq!(q.until(utc(10, 25, 7, 29)), Some(utc(10, 25, 7, 30)));
        assert_eq!(q.until(utc(10, 25, 7, 30)), None);
    }

    #[test]
    fn a_period_within_one_day() {
        let q = quiet("12:00", "13:30", None);
        assert_eq!(q.until(utc(1, 14, 11, 59)), None);
        assert_eq!(q.until(utc(1, 14, 12, 45)), Some(utc(1, 14, 13, 30)));
        assert_eq!(q.until(utc(1, 14, 13, 30)), None);
    }

    #[test]
    fn days_choose_the_evenings_that_start_a_period() {
        // 16 January 2026 is a Friday.
        let q = quiet("18:00", "07:30", Some(vec![Weekday::Fri]));
        assert_eq!(q.until(utc(1, 15, 20, 0)), None, "Thursday evening");
        assert_eq!(q.until(utc(1, 16, 20, 0)), Some(utc(1, 17, 7, 30)), "Friday evening");
        assert_eq!(q.until(utc(1, 17, 6, 0)), Some(utc(1, 17, 7, 30)), "Saturday morning ends Friday's period");
        assert_eq!(q.until(utc(1, 17, 20, 0)), None, "Saturday evening");
    }
    #[test]
    fn held_alerts_come_due_at_their_time_oldest_first_and_survive_a_restart() {
        let mut held = HeldAlerts::default();
        let a = crate::test_alerts::alert("a", utc(1, 14, 20, 0), "p1", "x");
        let b = crate::test_alerts::alert("b", utc(1, 14, 19, 0), "p2", "y");
        held.hold(&a, utc(1, 15, 7, 30));
        held.hold(&b, utc(1, 15, 7, 30));
        held.hold(&a, utc(1, 15, 7, 30));
        assert_eq!(held.len(), 2, "holding the same alert again changes nothing");
        let back: HeldAlerts = serde_json::from_slice(&serde_json::to_vec(&held).unwrap()).unwrap();
        assert_eq!(back, held);
        assert!(held.due(utc(1, 15, 7, 29), false).is_empty());
        assert_eq!(held.due(utc(1, 14, 21, 0), true).len(), 2, "a run's end releases everything");
        let due: Vec<String> = held.due(utc(1, 15, 7, 30), false).into_iter().map(|a| a.id).collect();
        assert_eq!(due, ["b", "a"]);
        held.release("b");
        assert!(held.contains("a") && !held.contains("b"));
    }
}
