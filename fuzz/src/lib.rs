//! The harness shared by Vigil's fuzz targets: one call per target,
//! [`fuzz_format`], feeds the fuzzer's bytes through the same path as a
//! log file (line splitting, lossy UTF-8, the parser behind a
//! [`LineProcessor`], periodic expiry, end-of-input flush) and asserts the
//! ingest contract on everything that comes out.
//!
//! Invariants checked, besides "no panic":
//! - the lines cover the input exactly (contiguous offsets, `\r\n` and `\n`
//!   stripped, over-long lines cut at [`MAX_LINE_BYTES`]);
//! - every line ends as exactly one outcome: `Ok` counted once in
//!   `vigil_lines_used_total{use}`, or `Err` dead-lettered once, so
//!   `vigil_lines_read_total = Σ vigil_lines_used_total + vigil_deadletter_total`;
//! - a rejected line pushed no event; a line reported as `LineUse::Event`
//!   pushed at least one, one of which starts at the line and holds it;
//! - every line reported as correlated is in some event's `message` after
//!   the final flush, and nothing is held after it;
//! - every event has a 32-hex-digit id, the source's tenant and name, a
//!   non-empty message, and reads back equal from [`Event::to_json`];
//! - reading the same input twice yields the same events (replays dedupe).
//!
//! Memory stays bounded because the input is capped at [`MAX_INPUT_BYTES`]
//! (run libFuzzer with `-max_len` at most that and its default
//! `-rss_limit_mb=2048`).
#![deny(missing_docs)]

use chrono::{DateTime, TimeZone, Utc};
use prometheus::IntCounter;
use std::collections::HashSet;
use vigil_core::config::IngestConfig;
use vigil_core::{metrics, Event};
use vigil_ingest::lines::{LineSplitter, RawLine};
use vigil_ingest::parse::{self, LineUse};
use vigil_ingest::pipeline::LineProcessor;

/// Inputs are cut to this many bytes, so one run's memory is bounded.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// The line limit (`ingest.max_line_bytes`) of the fuzzed source: small, so
/// that over-long lines are reached within [`MAX_INPUT_BYTES`].
pub const MAX_LINE_BYTES: usize = 1024;

/// `flush_expired` is called after every this many lines, as a source's
/// poll would.
const FLUSH_EVERY: usize = 16;

const TENANT: &str = "fuzz-school";

/// Runs `data` as a log file of format `format` (a name in
/// `vigil_ingest::parse::FORMATS`) and panics if any invariant of the
/// module documentation fails.
pub fn fuzz_format(format: &str, data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT_BYTES)];
    let first = run(format, data);
    let second = run(format, data);
    assert!(first == second, "reading the same input twice gave different events");
}

/// The reading time every line is parsed at (picks syslog years).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).single().expect("a valid instant")
}

/// The per-source counters, read before and after each line.
struct Counters {
    read: IntCounter,
    dead: IntCounter,
    used: [IntCounter; LineUse::ALL.len()],
}

impl Counters {
    fn new(source: &str) -> Self {
        Counters {
            read: metrics::LINES_READ.with_label_values(&[source]),
            dead: metrics::DEAD_LETTERED.with_label_values(&[source]),
            used: LineUse::ALL.map(|u| metrics::LINES_USED.with_label_values(&[source, u.as_str()])),
        }
    }

    /// (read, dead-lettered, used per use).
    fn snapshot(&self) -> (u64, u64, [u64; LineUse::ALL.len()]) {
        (self.read.get(), self.dead.get(), self.used.each_ref().map(IntCounter::get))
    }
}

/// One pass over `data`; returns every event made.
fn run(format: &str, data: &[u8]) -> Vec<Event> {
    let parser = parse::by_name(format, &IngestConfig::default())
        .unwrap_or_else(|| panic!("{format:?} is not in vigil_ingest::parse::FORMATS"));
    let source = format!("fuzz-{format}");
    let mut processor = LineProcessor::new(parser, TENANT, &source, MAX_LINE_BYTES);
    let counters = Counters::new(&source);
    let lines = split(data);

    let mut events = Vec::new();
    let mut correlated = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(text) = check_line(&mut processor, &counters, line, &mut events) {
            correlated.push(text);
        }
        if (i + 1) % FLUSH_EVERY == 0 {
            processor.flush_expired(now(), &mut events);
        }
        if let Some(held) = processor.oldest_held_offset() {
            assert!(held <= line.offset, "held offset {held} is past the line read at {}", line.offset);
        }
    }
    processor.flush_all(&mut events);
    assert_eq!(processor.oldest_held_offset(), None, "events still held after flush_all");

    let kept: HashSet<&str> = events.iter().flat_map(|e| e.message.split('\n')).collect();
    let capped = events.iter().any(|e| e.message.ends_with(" more lines not kept]"));
    for text in &correlated {
        assert!(capped || kept.contains(text.as_str()), "correlated line lost: {text:?}");
    }
    for e in &events {
        check_event(e, &source, data.len());
    }
    events
}

/// Splits like a file source, checking the lines cover `data` exactly.
fn split(data: &[u8]) -> Vec<RawLine> {
    let mut splitter = LineSplitter::new(0, 1, MAX_LINE_BYTES);
    let mut lines = Vec::new();
    splitter.push(data, |l| lines.push(l));
    lines.extend(splitter.finish());
    let mut offset = 0;
    for (i, line) in lines.iter().enumerate() {
        assert_eq!((line.offset, line.line_no), (offset as u64, i as u64 + 1), "lines are not contiguous");
        let end = usize::try_from(line.end_offset).expect("offsets fit in memory");
        let raw = &data[offset..end];
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match line.overlong {
            None => assert_eq!(line.bytes, raw, "line bytes differ from the input"),
            Some(len) => {
                assert!(len as usize > MAX_LINE_BYTES && line.bytes.len() == MAX_LINE_BYTES, "bad over-long line");
                assert!(raw.starts_with(&line.bytes), "over-long line does not keep its first bytes");
            }
        }
        offset = end;
    }
    assert_eq!(offset, data.len(), "the lines do not cover the input");
    lines
}

/// Processes one line and checks it had exactly one outcome. Returns the
/// line's text when it was taken into a multi-line record.
fn check_line(
    processor: &mut LineProcessor,
    counters: &Counters,
    line: &RawLine,
    events: &mut Vec<Event>,
) -> Option<String> {
    let (read0, dead0, used0) = counters.snapshot();
    let before = events.len();
    let result = processor.process(line, now(), events);
    let pushed = &events[before..];
    let mut correlated = None;
    match result {
        Err(reason) => {
            assert!(pushed.is_empty(), "a rejected line pushed {} events", pushed.len());
            assert!(!reason.is_empty(), "a dead letter without a reason");
            let dead = processor.dead_letter(line, reason);
            assert_eq!((dead.raw.as_slice(), dead.offset), (line.bytes.as_slice(), line.offset));
        }
        Ok(()) => {
            assert!(line.overlong.is_none(), "an over-long line was parsed");
            let (_, _, used) = counters.snapshot();
            let text = String::from_utf8_lossy(&line.bytes);
            match std::array::from_fn::<u64, { LineUse::ALL.len() }, _>(|i| used[i] - used0[i]) {
                [1, 0, 0, 0] => assert!(
                    pushed.iter().any(|e| e.log_offset == Some(line.offset) && e.message.contains(&*text)),
                    "a line reported as an event pushed none starting at it: {text:?}"
                ),
                // Correlated and deferred lines are in a later event's message.
                [0, 1, 0, 0] | [0, 0, 0, 1] => correlated = Some(text.into_owned()),
                [0, 0, 1, 0] => {}
                other => panic!("line counted as {other:?} uses (event, correlated, header, deferred)"),
            }
        }
    }
    let (read, dead, used) = counters.snapshot();
    let used_delta: u64 = used.iter().zip(used0).map(|(u, u0)| u - u0).sum();
    assert_eq!(read - read0, 1, "vigil_lines_read_total not counted once");
    assert_eq!(used_delta + (dead - dead0), 1, "read ≠ used + dead-lettered");
    correlated
}

/// The per-event contract.
fn check_event(e: &Event, source: &str, input_len: usize) {
    assert!(e.id.len() == 32 && e.id.bytes().all(|b| b.is_ascii_hexdigit()), "bad event id {:?}", e.id);
    assert_eq!(e.tenant, TENANT, "event has the wrong tenant");
    assert_eq!(e.log_source.as_deref(), Some(source), "event has the wrong source");
    assert!(e.log_offset.is_some_and(|o| (o as usize) < input_len.max(1)), "event offset outside the input");
    assert!(!e.message.is_empty(), "event with an empty message");
    let json = e.to_json();
    match Event::from_json(&json) {
        Ok(back) => assert!(back == *e, "event changed through JSON: {}", String::from_utf8_lossy(&json)),
        Err(err) => panic!("event JSON does not read back ({err}): {}", String::from_utf8_lossy(&json)),
    }
}
