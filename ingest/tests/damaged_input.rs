//! Damaged input through every parser: truncated lines, NUL bytes, invalid
//! UTF-8, a 1 MB line, CRLF endings, other formats' lines interleaved, clock
//! skew and timestamps without a year or zone. Every line must end as
//! exactly one outcome (an event, part of a multi-line event, a header, or a
//! dead letter), the counters must add up, and nothing may panic. The rules
//! for each kind of damage are in `vigil_ingest::parse`'s module doc; the
//! tests at the end pin them.
//!
//! The lines come from `examples/logs/` (every file there, so a format that
//! adds an example log is mixed in automatically) plus a few written here;
//! the formats come from `parse::FORMATS`.

use chrono::{DateTime, TimeZone, Utc};
use std::path::Path;
use vigil_core::config::IngestConfig;
use vigil_core::{metrics, Event};
use vigil_ingest::lines::{LineSplitter, RawLine};
use vigil_ingest::parse::{self, LineUse, FORMATS};
use vigil_ingest::pipeline::LineProcessor;

const TENANT: &str = "damaged-school";
const USES: [&str; LineUse::ALL.len()] = ["event", "correlated", "header", "deferred"];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap()
}

/// A small deterministic generator (xorshift64*), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Every line of every example log, plus clock-skewed and zone-less lines.
fn valid_lines() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/logs");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut lines: Vec<Vec<u8>> = files
        .iter()
        .flat_map(|f| std::fs::read(f).unwrap().split(|b| *b == b'\n').map(<[u8]>::to_vec).collect::<Vec<_>>())
        .filter(|l| !l.is_empty())
        .collect();
    lines.extend(SKEWED.iter().map(|l| l.as_bytes().to_vec()));
    lines
}

/// Clock skew (far future, far past) and timestamps without a year or zone.
const SKEWED: &[&str] = &[
    "4102444800.000 5 10.0.0.1 TCP_MISS/200 10 GET http://future.example/ - HIER_DIRECT/1.1.1.1 text/html",
    "0.000 5 10.0.0.1 TCP_MISS/200 10 GET http://epoch.example/ - HIER_DIRECT/1.1.1.1 text/html",
    "2099-12-31T23:59:59+00:00 gate sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2",
    "1971-01-01T00:00:00Z gate sshd[1]: Accepted password for alice from 192.0.2.1 port 22 ssh2",
    "2026-03-04T10:42:00 gate sshd[1]: Failed password for bob from 192.0.2.1 port 22 ssh2",
    "2026-03-04T10:42:00.5 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.9]: 554 5.7.1 denied; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
    "Dec 31 23:59:59 gate sshd[1]: Invalid user x from 192.0.2.1 port 2",
    "Mar  5 12:00:01 gate sshd[1]: Invalid user tomorrow from 192.0.2.1 port 2",
];

/// What was done to a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Damage {
    None,
    Truncated,
    Nul,
    InvalidUtf8,
    Crlf,
}

const DAMAGES: [Damage; 5] = [Damage::None, Damage::Truncated, Damage::Nul, Damage::InvalidUtf8, Damage::Crlf];

/// A damaged stream of about `count` lines with one 1 MB line in the
/// middle; returns the bytes and the 1-based number of the long line.
fn damaged_stream(rng: &mut Rng, count: usize, long_line_bytes: usize) -> (Vec<u8>, u64) {
    let pool = valid_lines();
    let mut out = Vec::new();
    let mut long_line_no = 0;
    for i in 0..count {
        if i == count / 2 {
            // A valid line followed by a megabyte of URL: over-long.
            out.extend_from_slice(&pool[0]);
            out.extend(std::iter::repeat_n(b'A', long_line_bytes));
            out.push(b'\n');
            long_line_no = i as u64 + 1;
            continue;
        }
        let mut line = pool[rng.below(pool.len())].clone();
        let damage = DAMAGES[i % DAMAGES.len()];
        match damage {
            Damage::None | Damage::Crlf => {}
            Damage::Truncated => line.truncate(rng.below(line.len())),
            Damage::Nul => {
                let at = rng.below(line.len() + 1);
                line.insert(at, 0);
            }
            Damage::InvalidUtf8 => {
                let at = rng.below(line.len());
                let bad: &[u8] = [&b"\xff"[..], b"\xc3", b"caf\xe9", b"\xed\xa0\x80", b"\xf0\x9f"][rng.below(5)];
                line.splice(at..at, bad.iter().copied());
            }
        }
        out.extend_from_slice(&line);
        out.extend_from_slice(if damage == Damage::Crlf { b"\r\n" } else { b"\n" });
    }
    (out, long_line_no)
}

/// Per-source counter values: (read, dead-lettered, used by use).
fn counters(source: &str) -> (u64, u64, [u64; LineUse::ALL.len()]) {
    (
        metrics::LINES_READ.with_label_values(&[source]).get(),
        metrics::DEAD_LETTERED.with_label_values(&[source]).get(),
        USES.map(|u| metrics::LINES_USED.with_label_values(&[source, u]).get()),
    )
}

/// What one line became.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Used(&'static str),
    DeadLetter(String),
}

/// Feeds `stream` in random-sized chunks (so `\r\n` and multi-byte
/// characters straddle chunk boundaries) through the splitter and a
/// processor for `format`; checks each line has exactly one outcome.
fn run(format: &str, source: &str, stream: &[u8], rng: &mut Rng) -> (Vec<(RawLine, Outcome)>, Vec<Event>) {
    let ingest = IngestConfig::default();
    let parser = parse::by_name(format, &ingest).unwrap();
    let mut processor = LineProcessor::new(parser, TENANT, source, ingest.max_line_bytes);
    let mut splitter = LineSplitter::new(0, 1, ingest.max_line_bytes);
    let mut lines = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(1 + rng.below(rest.len().min(8192)));
        splitter.push(chunk, |l| lines.push(l));
        rest = tail;
    }
    lines.extend(splitter.finish());

    let mut events = Vec::new();
    let mut outcomes = Vec::new();
    for line in lines {
        let (read0, dead0, used0) = counters(source);
        let before = events.len();
        let outcome = match processor.process(&line, now(), &mut events) {
            Ok(()) => {
                let (_, _, used) = counters(source);
                let changed: Vec<_> = (0..3).filter(|&i| used[i] != used0[i]).collect();
                assert_eq!(changed.len(), 1, "{format}: line {} counted as {changed:?}", line.line_no);
                assert_eq!(used[changed[0]] - used0[changed[0]], 1);
                if USES[changed[0]] == "event" {
                    assert!(events.len() > before, "{format}: line {} is an event but pushed none", line.line_no);
                }
                Outcome::Used(USES[changed[0]])
            }
            Err(reason) => {
                assert_eq!(events.len(), before, "{format}: rejected line {} pushed events", line.line_no);
                let dead = processor.dead_letter(&line, reason.clone());
                assert_eq!((dead.raw, dead.line, dead.offset), (line.bytes.clone(), line.line_no, line.offset));
                Outcome::DeadLetter(reason)
            }
        };
        let (read, dead, used) = counters(source);
        assert_eq!(read - read0, 1);
        assert_eq!(dead - dead0 + used.iter().zip(used0).map(|(u, u0)| u - u0).sum::<u64>(), 1);
        outcomes.push((line, outcome));
    }
    processor.flush_all(&mut events);
    assert_eq!(processor.oldest_held_offset(), None, "{format}: events held after flush_all");
    (outcomes, events)
}

#[test]
fn every_format_gives_every_damaged_line_exactly_one_outcome() {
    const LONG: usize = 1 << 20;
    for (n, format) in FORMATS.iter().enumerate() {
        let source = format!("damaged-stream-{format}");
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ n as u64);
        let (stream, long_line_no) = damaged_stream(&mut rng, 600, LONG);
        let (outcomes, events) = run(format, &source, &stream, &mut rng);

        // The lines cover the stream, one outcome each.
        assert_eq!(outcomes.len(), 600, "{format}");
        assert_eq!(outcomes.last().unwrap().0.end_offset, stream.len() as u64, "{format}");
        let (read, dead, used) = counters(&source);
        assert_eq!(read, 600, "{format}");
        assert_eq!(read, dead + used.iter().sum::<u64>(), "{format}: read ≠ used + dead-lettered");
        let dead_letters = outcomes.iter().filter(|(_, o)| matches!(o, Outcome::DeadLetter(_))).count();
        assert_eq!(dead_letters as u64, dead, "{format}");
        assert!(dead > 0 && dead < read, "{format}: a mixed stream has both parsed and rejected lines");

        // The 1 MB line is dead-lettered as over-long, its first bytes kept.
        let max = IngestConfig::default().max_line_bytes;
        let (long, outcome) = &outcomes[long_line_no as usize - 1];
        assert_eq!(long.overlong, Some((valid_lines()[0].len() + LONG) as u64), "{format}");
        assert_eq!(long.bytes.len(), max);
        assert!(matches!(outcome, Outcome::DeadLetter(r) if r.contains("over the limit")), "{format}: {outcome:?}");

        for e in &events {
            assert!(!e.id.is_empty() && !e.message.is_empty(), "{format}: {e:?}");
            assert_eq!((e.tenant.as_str(), e.log_source.as_deref()), (TENANT, Some(source.as_str())));
            assert!(!e.message.split('\n').any(|l| l.ends_with('\r')), "{format}: CR kept: {:?}", e.message);
            assert_eq!(Event::from_json(&e.to_json()).unwrap(), *e, "{format}: JSON round trip");
        }
    }
}

/// Parses `line` (without terminator, as read) with `format` at offset 0.
fn parse_one(format: &str, source: &str, line: &[u8]) -> Result<Vec<Event>, String> {
    let ingest = IngestConfig::default();
    let mut processor = LineProcessor::new(parse::by_name(format, &ingest).unwrap(), TENANT, source, 1024);
    let mut splitter = LineSplitter::new(0, 1, 1024);
    let mut lines = Vec::new();
    splitter.push(line, |l| lines.push(l));
    lines.extend(splitter.finish());
    assert_eq!(lines.len(), 1);
    let mut events = Vec::new();
    processor.process(&lines[0], now(), &mut events)?;
    processor.flush_all(&mut events);
    Ok(events)
}

const SQUID_LINE: &str =
    "1709548920.5 1 10.0.0.1 TCP_MISS/200 1 GET http://x.example/ USER HIER_DIRECT/1.1.1.1 text/html";

#[test]
fn invalid_utf8_is_replaced_and_parsed_with_the_id_over_the_replaced_text() {
    let raw = SQUID_LINE.replace("USER", "caf\u{0}").into_bytes();
    let raw: Vec<u8> = raw.iter().map(|&b| if b == 0 { 0xe9 } else { b }).collect();
    let events = parse_one("squid", "rule-utf8", &raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(events[0].user_name.as_deref(), Some("caf\u{fffd}"));
    assert_eq!(events[0].message, text);
    assert_eq!(events[0].id, Event::derive_id(TENANT, "rule-utf8", 0, text.as_bytes()));
}

#[test]
fn nul_bytes_are_kept_verbatim() {
    let line = SQUID_LINE.replace("x.example/", "x.example/\0a");
    let events = parse_one("squid", "rule-nul", line.as_bytes()).unwrap();
    assert_eq!(events[0].message, line);
    assert_eq!(events[0].url_full.as_deref(), Some("http://x.example/\0a"));
    assert_eq!(Event::from_json(&events[0].to_json()).unwrap(), events[0]);
}

#[test]
fn crlf_endings_lose_only_the_cr() {
    let events = parse_one("squid", "rule-crlf", format!("{SQUID_LINE}\r\n").as_bytes()).unwrap();
    assert_eq!(events[0].message, SQUID_LINE);
    assert_eq!(events[0].http_mime_type.as_deref(), Some("text/html"));
}

#[test]
fn skewed_clocks_are_kept_as_logged() {
    let ts = |format: &str, line: &str| parse_one(format, "rule-skew", line.as_bytes()).unwrap()[0].timestamp;
    assert_eq!(ts("squid", SKEWED[0]), Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap());
    assert_eq!(ts("squid", SKEWED[1]), Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap());
    assert_eq!(ts("sshd", SKEWED[2]), Utc.with_ymd_and_hms(2099, 12, 31, 23, 59, 59).unwrap());
    assert_eq!(ts("sshd", SKEWED[3]), Utc.with_ymd_and_hms(1971, 1, 1, 0, 0, 0).unwrap());
}

#[test]
fn timestamps_without_a_year_follow_the_syslog_rule_and_without_a_zone_are_utc() {
    let ts = |format: &str, line: &str| parse_one(format, "rule-year", line.as_bytes()).unwrap()[0].timestamp;
    // No year: the latest year putting the time at most a day after reading.
    assert_eq!(ts("sshd", SKEWED[6]), Utc.with_ymd_and_hms(2025, 12, 31, 23, 59, 59).unwrap());
    assert_eq!(ts("sshd", SKEWED[7]), Utc.with_ymd_and_hms(2025, 3, 5, 12, 0, 1).unwrap());
    // No zone: UTC, for both the year-less and the ISO shape.
    assert_eq!(ts("sshd", SKEWED[4]), Utc.with_ymd_and_hms(2026, 3, 4, 10, 42, 0).unwrap());
    assert_eq!(
        ts("postfix", SKEWED[5]),
        Utc.with_ymd_and_hms(2026, 3, 4, 10, 42, 0).unwrap() + chrono::Duration::milliseconds(500)
    );
}

#[test]
fn an_overlong_line_is_dead_lettered_with_its_first_bytes() {
    let line = format!("{SQUID_LINE}{}", "A".repeat(5000));
    let err = parse_one("squid", "rule-long", line.as_bytes()).unwrap_err();
    assert!(err.contains("5095 bytes, over the limit of 1024 bytes"), "{err}");
}

#[test]
fn a_postfix_hold_beyond_chronos_range_expires_nothing_instead_of_panicking() {
    let ingest = IngestConfig { mail_hold_secs: u64::MAX, ..IngestConfig::default() };
    let mut processor = LineProcessor::new(parse::by_name("postfix", &ingest).unwrap(), TENANT, "rule-hold", 1024);
    let line = b"Mar  4 10:00:01 mx postfix/smtpd[1]: 3F2A1B4C5D: client=h[192.0.2.1]";
    let raw = RawLine { line_no: 1, offset: 0, end_offset: line.len() as u64, bytes: line.to_vec(), overlong: None };
    let mut events = Vec::new();
    processor.process(&raw, now(), &mut events).unwrap();
    processor.flush_expired(now(), &mut events);
    assert!(events.is_empty());
    processor.flush_all(&mut events);
    assert_eq!(events.len(), 1);
}
