//! When a log source is expected to send: some days of the week, between
//! two UK wall-clock times, except the days the school is closed. A
//! flatline rule counts a source's silence only in these hours, so nights,
//! weekends and holidays, when nothing is expected, raise nothing.

use crate::uk_time;
use chrono::{DateTime, Duration, NaiveTime, Utc, Weekday};
use vigil_core::config::DateSpan;

/// At most this many days are looked at when adding up active time (a
/// source is forgotten long before).
const MAX_DAYS: usize = 400;

/// The active hours of a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveHours {
    days: Vec<Weekday>,
    from: NaiveTime,
    until: NaiveTime,
    closed: Vec<DateSpan>,
}

impl ActiveHours {
    /// `days` from `from` until `until` (UK time, `from` earlier), except
    /// the `closed` days; `None` when `from` is not before `until` or no
    /// day is given.
    pub fn new(days: &[Weekday], from: NaiveTime, until: NaiveTime, closed: &[DateSpan]) -> Option<ActiveHours> {
        (from < until && !days.is_empty()).then(|| ActiveHours {
            days: days.to_vec(),
            from,
            until,
            closed: closed.to_vec(),
        })
    }

    /// How much of the time from `start` to `end` falls in the active
    /// hours, counting no further than `enough`.
    pub fn active_between(&self, start: DateTime<Utc>, end: DateTime<Utc>, enough: Duration) -> Duration {
        let mut total = Duration::zero();
        let mut day = uk_time::to_local(start).date();
        let last = uk_time::to_local(end).date();
        for _ in 0..MAX_DAYS {
            if day > last || total >= enough {
                break;
            }
            if self.days.contains(&chrono::Datelike::weekday(&day)) && !self.closed.iter().any(|c| c.contains(day)) {
                let open = uk_time::from_local(day.and_time(self.from)).max(start);
                let close = uk_time::from_local(day.and_time(self.until)).min(end);
                if close > open {
                    total += close - open;
                }
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        total.min(enough)
    }

    /// "Mon–Fri 07:00–18:00 UK time, except closed days".
    pub fn describe(&self) -> String {
        let names: Vec<String> = self.days.iter().map(|d| d.to_string()).collect();
        let days = match names.as_slice() {
            [first, .., last] if self.is_run() => format!("{first}–{last}"),
            _ => names.join(", "),
        };
        let closed = if self.closed.is_empty() { "" } else { ", except the school's closed days" };
        format!("{days} {}–{} UK time{closed}", self.from.format("%H:%M"), self.until.format("%H:%M"))
    }

    /// Whether the days follow each other (Mon, Tue, Wed).
    fn is_run(&self) -> bool {
        self.days.windows(2).all(|w| w[0].succ() == w[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn school(closed: &[DateSpan]) -> ActiveHours {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        use Weekday::*;
        ActiveHours::new(&[Mon, Tue, Wed, Thu, Fri], t(7), t(18), closed).unwrap()
    }

    fn utc(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, h, min, 0).unwrap()
    }

    const LOTS: Duration = Duration::days(30);

    #[test]
    fn only_school_hours_of_school_days_count() {
        let h = school(&[]);
        // Wednesday 4 March 2026 (GMT).
        assert_eq!(h.active_between(utc(3, 4, 8, 0), utc(3, 4, 10, 0), LOTS), Duration::hours(2));
        assert_eq!(h.active_between(utc(3, 4, 17, 0), utc(3, 5, 8, 0), LOTS), Duration::hours(2), "17–18 and 07–08");
        assert_eq!(h.active_between(utc(3, 4, 19, 0), utc(3, 5, 6, 59), LOTS), Duration::zero(), "the night");
        // Friday 17:30 to Monday 07:30: half an hour each side of the weekend.
        assert_eq!(h.active_between(utc(3, 6, 17, 30), utc(3, 9, 7, 30), LOTS), Duration::hours(1));
        assert_eq!(h.active_between(utc(3, 4, 8, 0), utc(3, 11, 8, 0), Duration::hours(3)), Duration::hours(3));
        assert_eq!(h.describe(), "Mon–Fri 07:00–18:00 UK time");
    }

    #[test]
    fn hours_are_uk_wall_clock_hours_in_summer_time() {
        let h = school(&[]);
        // Wednesday 1 July 2026, BST: 07:00 UK is 06:00 UTC.
        assert_eq!(h.active_between(utc(7, 1, 5, 0), utc(7, 1, 7, 0), LOTS), Duration::hours(1));
        assert_eq!(h.active_between(utc(7, 1, 16, 0), utc(7, 1, 18, 0), LOTS), Duration::hours(1), "ends 17:00 UTC");
    }

    #[test]
    fn closed_days_count_nothing() {
        let span = |a: (u32, u32), b: (u32, u32)| DateSpan {
            first: NaiveDate::from_ymd_opt(2026, a.0, a.1).unwrap(),
            last: NaiveDate::from_ymd_opt(2026, b.0, b.1).unwrap(),
        };
        let h = school(&[span((3, 5), (3, 6))]);
        assert_eq!(
            h.active_between(utc(3, 4, 17, 0), utc(3, 9, 8, 0), LOTS),
            Duration::hours(2),
            "Wed 17–18, Mon 07–08"
        );
        assert!(h.describe().ends_with("except the school's closed days"));
        assert!(ActiveHours::new(&[Weekday::Mon], NaiveTime::MIN, NaiveTime::MIN, &[]).is_none());
    }
}
