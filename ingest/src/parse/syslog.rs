//! The syslog line header shared by the sshd and Postfix parsers.
//!
//! Two shapes are read:
//! - traditional (RFC 3164 style, as written by rsyslog's default file
//!   template): `Mar  4 10:42:00 host prog[123]: message`;
//! - high-precision (rsyslog `RSYSLOG_FileFormat`):
//!   `2026-03-04T10:42:00.123456+00:00 host prog[123]: message`.
//!
//! Either may lack the host (`Mar  4 10:42:00 prog[123]: message`): RFC 3164
//! §4.3.3 lets a device send no HOSTNAME, and messages logged to the local
//! socket have none. The word after the timestamp is taken for the tag, not
//! a host, when it is shaped like one: a program name (letters, digits, `-`,
//! `_`, `.`, `/`), an optional `[pid]`, then `:`. No host name has that shape.
//! Infoblox NIOS writes the member's address after the grid's host name
//! (`infoblox.localdomain 10.0.0.1 dhcpd[7024]: …`): an address between the
//! host and the tag is skipped.
//!
//! Traditional timestamps carry neither a year nor a zone. They are read as
//! UTC (set servers writing such logs to UTC, or switch them to the
//! high-precision format), and the year is the latest one that puts the time
//! no more than a day after [`LineContext::now`](super::LineContext::now),
//! so a December line read in January lands in the previous year. A
//! high-precision timestamp without its zone (`2026-03-04T10:42:00.5`, as
//! some templates write) is likewise read as UTC rather than rejected.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// The parts of a syslog line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogLine<'a> {
    /// When the line was logged, in UTC.
    pub timestamp: DateTime<Utc>,
    /// The host that logged it, unless the header names none.
    pub host: Option<&'a str>,
    /// The program tag without the pid: `sshd`, `postfix/smtpd`.
    pub program: &'a str,
    /// The text after `prog[pid]: `, with its spacing untouched.
    pub message: &'a str,
}

/// Why a line is not a syslog line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SyslogError {
    /// The line does not start with a timestamp in either supported shape.
    #[error("no syslog timestamp (expected `Mar  4 10:42:00` or RFC 3339) at the start of the line")]
    Timestamp,
    /// The timestamp is not followed by a host name.
    #[error("syslog line has no host name after the timestamp")]
    Host,
    /// The host is not followed by a `program[pid]:` tag.
    #[error("syslog line has no `program[pid]:` tag after the host name")]
    Tag,
}

/// Splits a syslog line into its header fields and message. `now` picks the
/// year of traditional timestamps (see the module documentation).
pub fn parse(line: &str, now: DateTime<Utc>) -> Result<SyslogLine<'_>, SyslogError> {
    let (timestamp, rest) = timestamp(line, now).ok_or(SyslogError::Timestamp)?;
    let (first, after_first) = token(rest).ok_or(SyslogError::Host)?;
    let (host, tag, message) = match tag_program(first).filter(|p| is_program_name(p)) {
        Some(_) => (None, first, after_first),
        None => {
            let (tag, message) = after_first.split_once(' ').unwrap_or((after_first, ""));
            match message.split_once(' ') {
                // Infoblox NIOS: `grid-name member-address prog[pid]: …`.
                Some((member_tag, member_message))
                    if tag.parse::<std::net::IpAddr>().is_ok() && tag_program(member_tag).is_some() =>
                {
                    (Some(first), member_tag, member_message)
                }
                _ => (Some(first), tag, message),
            }
        }
    };
    let program = tag_program(tag).filter(|program| !program.is_empty()).ok_or(SyslogError::Tag)?;
    Ok(SyslogLine { timestamp, host, program, message })
}

/// The program of a `program[pid]:` or `program:` tag.
pub(super) fn tag_program(tag: &str) -> Option<&str> {
    tag.strip_suffix(':').map(|tag| tag.split_once('[').map_or(tag, |(program, _pid)| program))
}

/// Whether `name` looks like a program name (and so cannot be a host name
/// followed by `:`): one or more letters, digits, `-`, `_`, `.` or `/`, and
/// not an IPv4 address (`10.0.0.1:`, as some network devices write their
/// address).
fn is_program_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// The next space-delimited token after any leading spaces, and the text
/// after the single space that ends it.
fn token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(' ');
    let (tok, rest) = s.split_once(' ')?;
    (!tok.is_empty()).then_some((tok, rest))
}

fn timestamp(line: &str, now: DateTime<Utc>) -> Option<(DateTime<Utc>, &str)> {
    if line.as_bytes().first()?.is_ascii_digit() {
        let (stamp, rest) = line.split_once(' ')?;
        let t = match DateTime::parse_from_rfc3339(stamp) {
            Ok(t) => t.with_timezone(&Utc),
            Err(_) => NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H:%M:%S%.f").ok()?.and_utc(),
        };
        return Some((t, rest));
    }
    let (month, rest) = token(line)?;
    let (day, rest) = token(rest)?;
    let (time, rest) = token(rest)?;
    let month = month_number(month)?;
    let day: u32 = day.parse().ok()?;
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S").ok()?;
    Some((with_inferred_year(month, day, time, now)?, rest))
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    MONTHS.iter().position(|m| *m == name).map(|i| i as u32 + 1)
}

/// The latest date with this month and day that is at most a day after
/// `now`. Looks back up to eight years so that 29 February finds a leap year.
fn with_inferred_year(month: u32, day: u32, time: NaiveTime, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let limit = now + Duration::days(1);
    (0..=9)
        .map(|back| now.year() + 1 - back)
        .filter_map(|year| NaiveDate::from_ymd_opt(year, month, day))
        .map(|date| date.and_time(time).and_utc())
        .find(|t| *t <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::at;
    use chrono::TimeZone;

    #[test]
    fn reads_traditional_header_and_keeps_message_spacing() {
        let l = parse("Mar  4 10:42:00 gate sshd[123]: Invalid user  from 10.0.0.1", at(2026, 3, 4, 12, 0, 0)).unwrap();
        assert_eq!(l.timestamp, at(2026, 3, 4, 10, 42, 0));
        assert_eq!(l.host, Some("gate"));
        assert_eq!(l.program, "sshd");
        assert_eq!(l.message, "Invalid user  from 10.0.0.1");
    }

    #[test]
    fn reads_high_precision_header_in_any_zone() {
        let l =
            parse("2026-03-04T10:42:00.123456+01:00 mx postfix/submission/smtpd[9]: connect", at(2020, 1, 1, 0, 0, 0))
                .unwrap();
        assert_eq!(l.timestamp, Utc.with_ymd_and_hms(2026, 3, 4, 9, 42, 0).unwrap() + Duration::microseconds(123456));
        assert_eq!(l.program, "postfix/submission/smtpd");
        assert_eq!(l.message, "connect");
    }

    #[test]
    fn high_precision_header_without_a_zone_is_utc() {
        let l = parse("2026-03-04T10:42:00.5 mx sshd[9]: x", at(2020, 1, 1, 0, 0, 0)).unwrap();
        assert_eq!(l.timestamp, at(2026, 3, 4, 10, 42, 0) + Duration::milliseconds(500));
        assert_eq!(parse("2026-03-04T10:42 mx sshd[9]: x", at(2020, 1, 1, 0, 0, 0)), Err(SyslogError::Timestamp));
    }

    #[test]
    fn a_header_without_a_host_has_the_tag_after_the_timestamp() {
        let now = at(2026, 3, 4, 12, 0, 0);
        let l = parse("Mar  4 10:42:00 sshd[123]: Accepted password for x", now).unwrap();
        assert_eq!((l.host, l.program, l.message), (None, "sshd", "Accepted password for x"));
        let l = parse("2026-03-04T10:42:00Z postfix/smtpd: connect from a[10.0.0.1]", now).unwrap();
        assert_eq!((l.host, l.program, l.message), (None, "postfix/smtpd", "connect from a[10.0.0.1]"));
        // A host is never taken for a tag: IPv6 addresses hold `:` inside.
        let l = parse("Mar  4 10:42:00 fe80::1 sshd[1]: x", now).unwrap();
        assert_eq!((l.host, l.program), (Some("fe80::1"), "sshd"));
        let l = parse("Mar  4 10:42:00 ::1: sshd[1]: x", now).unwrap();
        assert_eq!((l.host, l.program), (Some("::1:"), "sshd"));
        let l = parse("Mar  4 10:42:00 10.0.0.1: sshd[1]: x", now).unwrap();
        assert_eq!((l.host, l.program), (Some("10.0.0.1:"), "sshd"));
    }

    #[test]
    fn an_address_between_host_and_tag_is_skipped() {
        let now = at(2026, 3, 4, 12, 0, 0);
        let l = parse("Mar 27 08:32:59 infoblox.localdomain 10.0.0.1 dhcpd[7024]: DHCPACK on 10.1.2.3", now).unwrap();
        assert_eq!((l.host, l.program, l.message), (Some("infoblox.localdomain"), "dhcpd", "DHCPACK on 10.1.2.3"));
        // A word that is not an address is no tag.
        assert_eq!(parse("Mar 27 08:32:59 gw relay dhcpd[7024]: x", now), Err(SyslogError::Tag));
    }

    #[test]
    fn december_lines_read_in_january_belong_to_last_year() {
        let l = parse("Dec 31 23:59:00 h cron: x", at(2026, 1, 1, 0, 5, 0)).unwrap();
        assert_eq!(l.timestamp, at(2025, 12, 31, 23, 59, 0));
        // A clock slightly ahead of the reader still lands in this year.
        let l = parse("Jan  1 00:10:00 h cron: x", at(2025, 12, 31, 23, 59, 0)).unwrap();
        assert_eq!(l.timestamp, at(2026, 1, 1, 0, 10, 0));
    }

    #[test]
    fn leap_day_finds_a_leap_year() {
        let l = parse("Feb 29 08:00:00 h cron: x", at(2026, 3, 1, 0, 0, 0)).unwrap();
        assert_eq!(l.timestamp, at(2024, 2, 29, 8, 0, 0));
    }

    #[test]
    fn rejects_lines_without_a_header() {
        let now = at(2026, 3, 4, 0, 0, 0);
        assert_eq!(parse("1700000000.123 5 10.0.0.1 TCP_MISS/200", now), Err(SyslogError::Timestamp));
        assert_eq!(parse("Mar  4 10:42", now), Err(SyslogError::Timestamp));
        assert_eq!(parse("Mar  4 25:42:00 h sshd: x", now), Err(SyslogError::Timestamp));
        assert_eq!(parse("Mar  4 10:42:00 host", now), Err(SyslogError::Host));
        assert_eq!(parse("Mar  4 10:42:00 host no tag here", now), Err(SyslogError::Tag));
        assert_eq!(parse("", now), Err(SyslogError::Timestamp));
    }
}
