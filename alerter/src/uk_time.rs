//! UK civil time, in which schools write their quiet hours and digest times:
//! GMT, or BST (UTC+1) from 01:00 UTC on the last Sunday of March to 01:00
//! UTC on the last Sunday of October.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};

/// Whether `at` falls in British Summer Time.
pub fn is_summer(at: DateTime<Utc>) -> bool {
    let change =
        |month| last_sunday(at.year(), month).and_then(|d| d.and_hms_opt(1, 0, 0)).map(|t| Utc.from_utc_datetime(&t));
    matches!((change(3), change(10)), (Some(start), Some(end)) if at >= start && at < end)
}

/// The UK wall-clock time at `at`.
pub fn to_local(at: DateTime<Utc>) -> NaiveDateTime {
    let offset = if is_summer(at) { Duration::hours(1) } else { Duration::zero() };
    (at + offset).naive_utc()
}

/// The instant the UK wall clock shows `local`. In October's repeated hour
/// the first (BST) instant; in March's skipped hour the instant an hour
/// later on the wall clock (01:30 is taken as 02:30 BST).
pub fn from_local(local: NaiveDateTime) -> DateTime<Utc> {
    let as_gmt = Utc.from_utc_datetime(&local);
    let as_bst = as_gmt - Duration::hours(1);
    if is_summer(as_bst) {
        as_bst
    } else {
        as_gmt
    }
}

/// `at` on the UK wall clock with its zone, e.g. `2026-03-29 02:30:00 BST`.
pub fn format(at: DateTime<Utc>) -> String {
    let zone = if is_summer(at) { "BST" } else { "GMT" };
    format!("{} {zone}", to_local(at).format("%Y-%m-%d %H:%M:%S"))
}

/// The last Sunday of `month` (which has 31 days: March or October).
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let last = NaiveDate::from_ymd_opt(year, month, 31)?;
    let back = last.weekday().num_days_from_sunday();
    last.checked_sub_signed(Duration::days(i64::from(back))).filter(|d| d.weekday() == Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, h, min, 0).unwrap()
    }

    fn local(m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap().and_hms_opt(h, min, 0).unwrap()
    }

    #[test]
    fn format_follows_british_summer_time() {
        let t = |m, d, h| format(utc(m, d, h, 30));
        assert_eq!(t(1, 15, 9), "2026-01-15 09:30:00 GMT");
        assert_eq!(t(3, 29, 0), "2026-03-29 00:30:00 GMT", "BST starts at 01:00 UTC on 29 March 2026");
        assert_eq!(t(3, 29, 1), "2026-03-29 02:30:00 BST");
        assert_eq!(t(10, 25, 0), "2026-10-25 01:30:00 BST");
        assert_eq!(t(10, 25, 1), "2026-10-25 01:30:00 GMT");
    }

    #[test]
    fn wall_clock_times_map_back_to_instants_across_both_changes() {
        assert_eq!(from_local(local(1, 15, 18, 0)), utc(1, 15, 18, 0));
        assert_eq!(from_local(local(7, 1, 18, 0)), utc(7, 1, 17, 0));
        assert_eq!(from_local(local(3, 29, 0, 30)), utc(3, 29, 0, 30), "before the spring change");
        assert_eq!(from_local(local(3, 29, 1, 30)), utc(3, 29, 1, 30), "the skipped hour: 02:30 BST");
        assert_eq!(from_local(local(3, 29, 7, 30)), utc(3, 29, 6, 30));
        assert_eq!(from_local(local(10, 25, 1, 30)), utc(10, 25, 0, 30), "the repeated hour: its first, BST");
        assert_eq!(from_local(local(10, 25, 7, 30)), utc(10, 25, 7, 30));
        for at in [utc(1, 15, 18, 0), utc(7, 1, 17, 0), utc(3, 29, 6, 30), utc(10, 25, 0, 30)] {
            assert_eq!(from_local(to_local(at)), at);
        }
    }
}
