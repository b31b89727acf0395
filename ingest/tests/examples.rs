//! The example logs in `examples/logs/` parse fully with their formats, and
//! hold the lines the quickstart's story relies on.
//!
//! [`EXAMPLES`] maps every file there to its `--format` name; a file missing
//! from the table, or a format of `parse::FORMATS` without an example, fails
//! the test, so a new format comes with an example log.

use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use vigil_core::config::IngestConfig;
use vigil_core::{Event, Label, Outcome};
use vigil_ingest::enrich::leases::LeaseTable;
use vigil_ingest::enrich::teaches_leases;
use vigil_ingest::parse::{by_name, LineContext, Parser, FORMATS};

/// One example log: its file name in `examples/logs/`, the `--format` that
/// reads it, and how many of its lines are rejected on purpose.
struct Example {
    file: &'static str,
    format: &'static str,
    rejected: usize,
    /// For a syslog file, which `auto` reads with the `syslog` router: the
    /// `log.format` of its events (the routed formats, and `syslog` for other
    /// programs' lines). Empty otherwise.
    routed: &'static [&'static str],
}

const fn example(file: &'static str, format: &'static str) -> Example {
    Example { file, format, rejected: 0, routed: &[] }
}

/// A syslog file: `auto` reads it with the router, making events of `routed`.
const fn syslog_file(file: &'static str, format: &'static str, routed: &'static [&'static str]) -> Example {
    Example { file, format, rejected: 0, routed }
}

/// Every file of `examples/logs/` and the format that reads it.
const EXAMPLES: &[Example] = &[
    // The quickstart shows dead letters with this file: a line that is not
    // Squid's and a line cut short.
    Example { file: "squid-access.log", format: "squid", rejected: 2, routed: &[] },
    // A CRON line among sshd's: a `syslog` event when the router reads it.
    syslog_file("auth.log", "sshd", &["sshd", "syslog"]),
    syslog_file("mail.log", "postfix", &["postfix"]),
    example("exim-mainlog.log", "exim"),
    example("exchange-msgtrk.log", "exchange"),
    example("m365-trace.log", "m365-trace"),
    example("combined-access.log", "combined"),
    example("e2guardian-access.log", "e2guardian"),
    example("fortigate.log", "fortigate"),
    example("sophos-utm-http.log", "sophos-utm"),
    example("squidguard.log", "squidguard"),
    example("windows-security.log", "windows"),
    example("radius.log", "radius"),
    syslog_file("dhcpd.log", "dhcp", &["dhcp"]),
    example("google-login.log", "google-login"),
    example("entra-signin.log", "entra-signin"),
    example("syslog-squid.log", "syslog+squid"),
    syslog_file("syslog-mixed.log", "syslog", &["sshd", "postfix", "exim", "dhcp", "radius", "syslog"]),
];

fn logs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/logs")
}

/// The reading time: the evening of the examples' school day, so year-less
/// syslog times fall on 16 November 2026.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 16, 18, 0, 0).unwrap()
}

/// What parsing one file gave.
struct Parsed {
    events: Vec<Event>,
    /// `(line number, line, reason)` of each rejected line.
    rejected: Vec<(usize, String, String)>,
}

/// Parses every line of `file` with `parser`, then flushes it.
fn parse_file(parser: &mut dyn Parser, file: &str) -> Parsed {
    let text = std::fs::read_to_string(logs_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut parsed = Parsed { events: Vec::new(), rejected: Vec::new() };
    let mut offset = 0u64;
    let (tenant, source) = (Label::constant("demo-primary"), Label::from(file.to_string()));
    for (i, line) in text.lines().enumerate() {
        let ctx =
            LineContext { tenant: &tenant, source: &source, line_no: i as u64 + 1, offset, now: now(), read_as: None };
        if let Err(e) = parser.parse(line, &ctx, &mut parsed.events) {
            parsed.rejected.push((i + 1, line.to_string(), e.0));
        }
        offset += line.len() as u64 + 1;
    }
    parser.flush_all(&mut parsed.events);
    assert_eq!(parser.oldest_held_offset(), None, "{file}: events held after flush_all");
    parsed
}

fn parse_example(file: &str, format: &str) -> Parsed {
    let mut parser = by_name(format, &IngestConfig::default()).unwrap_or_else(|| panic!("no format {format}"));
    parse_file(parser.as_mut(), file)
}

/// The events of the example read with `format`.
fn events_of(format: &str) -> Vec<Event> {
    let ex = EXAMPLES.iter().find(|e| e.format == format).unwrap();
    parse_example(ex.file, ex.format).events
}

/// The format name events carry: `syslog+squid` makes `squid` events.
fn event_format(format: &str) -> &str {
    format.strip_prefix("syslog+").unwrap_or(format)
}

/// The format names the events of `ex` read with its format carry: the
/// syslog router's events keep their routed parsers' formats.
fn event_formats(ex: &Example) -> BTreeSet<&str> {
    match ex.format {
        "syslog" => ex.routed.iter().copied().collect(),
        format => BTreeSet::from([event_format(format)]),
    }
}

#[test]
fn every_example_file_is_mapped_and_every_format_has_one() {
    let on_disk: BTreeSet<String> =
        std::fs::read_dir(logs_dir()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let mapped: BTreeSet<String> = EXAMPLES.iter().map(|e| e.file.to_string()).collect();
    assert_eq!(on_disk, mapped, "examples/logs and the EXAMPLES table differ");
    for format in FORMATS.iter().filter(|f| **f != "auto") {
        assert!(EXAMPLES.iter().any(|e| e.format == *format), "format {format} has no example log");
    }
}

#[test]
fn every_example_parses_with_its_format() {
    for ex in EXAMPLES {
        let parsed = parse_example(ex.file, ex.format);
        assert_eq!(
            parsed.rejected.len(),
            ex.rejected,
            "{} read as {}: rejected lines {:#?}",
            ex.file,
            ex.format,
            parsed.rejected
        );
        assert!(!parsed.events.is_empty(), "{}: no events", ex.file);
        let formats: BTreeSet<&str> = parsed.events.iter().map(|e| e.log_format.as_str()).collect();
        assert_eq!(formats, event_formats(ex), "{}", ex.file);
        for e in &parsed.events {
            assert_eq!(e.tenant, "demo-primary");
        }
    }
}

/// The lines the quickstart's story is told with.
#[test]
fn the_quickstart_story_is_in_the_examples() {
    let laptop = Some("3c:22:fb:4e:17:a2");
    let at = |h, m, s| Utc.with_ymd_and_hms(2026, 11, 16, h, m, s).unwrap();

    // 09:00 l.evans's laptop gets 10.20.3.17 from DHCP ...
    let dhcp = events_of("dhcp");
    assert!(dhcp.iter().any(|e| e.action == "lease-granted"
        && e.source_ip.as_deref() == Some("10.20.3.17")
        && e.source_mac.as_deref() == laptop
        && e.timestamp == at(9, 0, 0)));
    // ... after the Wi-Fi let l.evans on with that laptop.
    let radius = events_of("radius");
    assert!(radius.iter().any(|e| e.action == "logged-in"
        && e.user_name.as_deref() == Some("l.evans")
        && e.source_mac.as_deref() == laptop
        && e.reason.as_deref() == Some("Login OK")));

    // A burst of failed Windows logons against one account.
    let windows = events_of("windows");
    let burst = windows
        .iter()
        .filter(|e| {
            e.action == "login-failed"
                && e.user_name.as_deref() == Some("s.hughes")
                && e.code.as_deref() == Some("4625")
        })
        .count();
    assert!(burst >= 5, "{burst} failed logons");
    assert!(windows.iter().any(|e| e.action == "account-locked" && e.user_target_name.as_deref() == Some("s.hughes")));

    // An Entra ID password failure from abroad.
    let entra = events_of("entra-signin");
    assert!(entra.iter().any(|e| e.code.as_deref() == Some("50126")
        && e.outcome == Outcome::Failure
        && e.source_country.as_deref().is_some_and(|c| c != "GB")));

    // FortiGate blocks a proxy-avoidance site.
    let fortigate = events_of("fortigate");
    assert!(fortigate.iter().any(|e| e.action == "blocked" && e.filter_category.as_deref() == Some("Proxy Avoidance")));

    // e2guardian denies a page for its weighted phrases.
    let e2guardian = events_of("e2guardian");
    assert!(e2guardian.iter().any(|e| e.action == "blocked"
        && e.message.contains("*DENIED*")
        && e.reason.as_deref().is_some_and(|r| r.starts_with("Weighted phrase limit"))));
}

/// The formats read first because their events teach the lease table are
/// exactly those whose example log has a binding event.
#[test]
fn the_formats_read_first_are_those_that_teach_leases() {
    for ex in EXAMPLES {
        let binds = parse_example(ex.file, ex.format).events.iter().any(LeaseTable::is_binding_event);
        assert_eq!(teaches_leases(ex.format), binds, "{} ({})", ex.format, ex.file);
    }
}

/// `--format auto` finds each example's format and rejects nothing more;
/// a syslog file of sshd, Postfix, Exim, DHCP or RADIUS lines is read with
/// the `syslog` router, so other programs' lines in it are kept too.
#[test]
fn auto_detects_every_example_format() {
    let mut wrong = Vec::new();
    for ex in EXAMPLES {
        let mut parser = by_name("auto", &IngestConfig::default()).unwrap();
        let parsed = parse_file(parser.as_mut(), ex.file);
        let formats: BTreeSet<&str> = parsed.events.iter().map(|e| e.log_format.as_str()).collect();
        let (want, want_formats) = match ex.routed {
            [] => (event_format(ex.format), BTreeSet::from([event_format(ex.format)])),
            routed => ("syslog", routed.iter().copied().collect()),
        };
        if parser.name() != want || parsed.rejected.len() != ex.rejected || formats != want_formats {
            wrong.push(format!(
                "{}: detected {} (events {formats:?}), {} rejected, want {want}",
                ex.file,
                parser.name(),
                parsed.rejected.len()
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The mixed syslog file, read with `syslog` and with `auto`: each line is
/// in exactly one event's `message` (Postfix's and Exim's lines in their
/// message's), and both read it alike.
#[test]
fn every_line_of_the_mixed_syslog_is_in_exactly_one_event() {
    let file = "syslog-mixed.log";
    let text = std::fs::read_to_string(logs_dir().join(file)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut by_format = Vec::new();
    for format in ["syslog", "auto"] {
        let mut parser = by_name(format, &IngestConfig::default()).unwrap();
        let mut parsed = parse_file(parser.as_mut(), file);
        assert!(parsed.rejected.is_empty(), "{format}: {:?}", parsed.rejected);
        let mut in_events: Vec<&str> = parsed.events.iter().flat_map(|e| e.message.split('\n')).collect();
        in_events.sort_unstable();
        let mut want = lines.clone();
        want.sort_unstable();
        assert_eq!(in_events, want, "{format}");
        parsed.events.sort_by_key(|e| e.log_offset);
        let summary: Vec<_> = parsed
            .events
            .iter()
            .map(|e| (e.id.clone(), e.log_format.to_string(), e.action.to_string(), e.user_name.clone()))
            .collect();
        by_format.push(summary);
    }
    assert_eq!(by_format[0], by_format[1], "auto reads it as syslog does");
    let notable: Vec<(&str, &str)> = by_format[0]
        .iter()
        .filter(|(_, _, action, _)| action != "other")
        .map(|(_, format, action, _)| (format.as_str(), action.as_str()))
        .collect();
    assert_eq!(
        notable,
        [
            ("postfix", "delivered"),
            ("radius", "logged-in"),
            ("dhcp", "lease-granted"),
            ("sshd", "logged-in"),
            ("dhcp", "lease-granted"),
            ("sshd", "invalid-user"),
            ("sshd", "login-failed"),
            ("sshd", "login-failed"),
            ("exim", "delivered"),
            ("radius", "login-failed"),
        ]
    );
}
