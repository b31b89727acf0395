//! Helpers shared by the parsers' unit tests.

use super::{LineContext, LineUse, ParseError, Parser};
use chrono::{TimeZone, Utc};
use vigil_core::{Event, Label};

/// The tenant of [`ctx`].
static TENANT: Label = Label::constant("st-marys");
/// The source of [`ctx`].
static SOURCE: Label = Label::constant("test-source");

/// The UTC instant of the given date and time.
pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

/// A context reading at 2026-03-04 12:00 UTC, offset 0.
pub fn ctx() -> LineContext<'static> {
    ctx_at(0)
}

/// [`ctx`] at byte `offset` (line number `offset + 1`).
pub fn ctx_at(offset: u64) -> LineContext<'static> {
    LineContext {
        tenant: &TENANT,
        source: &SOURCE,
        line_no: offset + 1,
        offset,
        now: Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap(),
        read_as: None,
    }
}

/// Feeds `lines` in order (offset = index × 1000) and returns every event
/// made; stops at the first error.
pub fn parse_lines(parser: &mut dyn Parser, lines: &[&str]) -> Result<Vec<Event>, ParseError> {
    Ok(parse_lines_with_use(parser, lines)?.0)
}

/// [`parse_lines`], also returning what each line became.
pub fn parse_lines_with_use(parser: &mut dyn Parser, lines: &[&str]) -> Result<(Vec<Event>, Vec<LineUse>), ParseError> {
    let mut out = Vec::new();
    let mut uses = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let before = out.len();
        let line_use = parser.parse(line, &ctx_at(i as u64 * 1000), &mut out)?;
        if line_use == LineUse::Event {
            assert!(out.len() > before, "line {i} was reported as an event but pushed none: {line:?}");
        }
        uses.push(line_use);
    }
    Ok((out, uses))
}

/// Parses one line that must make exactly one event.
pub fn parse_one(parser: &mut dyn Parser, line: &str) -> Result<Event, ParseError> {
    let mut events = parse_lines(parser, &[line])?;
    assert_eq!(events.len(), 1, "expected one event from {line:?}");
    Ok(events.remove(0))
}
