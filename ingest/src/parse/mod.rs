//! Parsers: one file per log format, all behind [`Parser`].
//!
//! Adding a format is adding a file here and a line in [`by_name`].
//!
//! # Damaged input
//!
//! What happens to damaged lines, whatever the format (pinned by
//! `ingest/tests/damaged_input.rs` and the fuzz targets in `fuzz/`):
//! - every line ends as exactly one [`LineUse`] or a dead letter, so
//!   `vigil_lines_read_total = Σ vigil_lines_used_total + vigil_deadletter_total`;
//! - invalid UTF-8: each bad sequence is replaced by U+FFFD and the line
//!   parsed; the event id is derived from the replaced text (its offset keeps
//!   it unique), and dead letters keep the raw bytes;
//! - CRLF endings: the `\r` before the `\n` is dropped (only that one);
//! - a line over `ingest.max_line_bytes` is dead-lettered as over-long with
//!   its first `max_line_bytes` bytes kept, never parsed;
//! - NUL and other control bytes are kept verbatim in `message` and fields;
//! - a truncated line is an error naming the field at fault, or still a
//!   valid event when what is left is a complete line of the format;
//! - timestamps without a year follow the syslog rule (the latest year at
//!   most a day after the reading time, see `syslog.rs`); without a zone
//!   they are UTC;
//! - clock skew: timestamps far in the future or past are kept as logged,
//!   not clamped; any instant chrono can hold is accepted.

mod ascii;
mod auto;
mod combined;
mod correlate;
mod csvline;
mod dhcp;
mod e2guardian;
mod entra_signin;
mod exchange;
mod exim;
mod fortigate;
mod google_login;
mod json_line;
mod kv;
mod m365_trace;
mod mac;
mod postfix;
mod radius;
mod search_terms;
mod sophos_utm;
mod squid;
mod squidguard;
mod sshd;
mod syslog;
mod syslog_router;
#[cfg(test)]
mod testutil;
mod unwrap;
mod webfields;
mod weburl;
mod windows;

pub use auto::{detect, AutoParser, Detection};
pub use combined::CombinedParser;
pub use dhcp::DhcpParser;
pub use e2guardian::E2guardianParser;
pub use entra_signin::EntraSigninParser;
pub use exchange::ExchangeParser;
pub use exim::EximParser;
pub use fortigate::FortigateParser;
pub use google_login::GoogleLoginParser;
pub use m365_trace::M365TraceParser;
pub use postfix::PostfixParser;
pub use radius::RadiusParser;
pub use search_terms::search_query;
pub use sophos_utm::SophosUtmParser;
pub use squid::SquidParser;
pub use squidguard::SquidguardParser;
pub use sshd::SshdParser;
pub use syslog_router::SyslogRouter;
pub use unwrap::{SyslogUnwrap, PREFIX as SYSLOG_PREFIX};
pub use windows::WindowsParser;

use chrono::{DateTime, Utc};
use thiserror::Error;
use vigil_core::config::IngestConfig;
use vigil_core::{Event, Label};

/// The names [`by_name`] accepts, for `--format` help and config checks.
pub const FORMATS: &[&str] = &[
    "squid",
    "sshd",
    "postfix",
    "exim",
    "exchange",
    "m365-trace",
    "combined",
    "e2guardian",
    "fortigate",
    "sophos-utm",
    "squidguard",
    "windows",
    "radius",
    "dhcp",
    "google-login",
    "entra-signin",
    "syslog",
    "auto",
];

/// A fresh parser for the format called `name` (one of [`FORMATS`]), or
/// `None` for an unknown name. `auto` detects the format from the lines.
/// `syslog+NAME` (any but `auto`) reads NAME's lines inside a syslog header
/// (see [`SyslogUnwrap`]); `syslog+syslog` (a syslog network source of
/// format `syslog`) is the router itself, which reads the header.
pub fn by_name(name: &str, ingest: &IngestConfig) -> Option<Box<dyn Parser>> {
    let wrapped = |n: &&str| *n != "auto" && *n != "syslog" && !n.starts_with(unwrap::PREFIX);
    if let Some(inner) = name.strip_prefix(unwrap::PREFIX).filter(wrapped) {
        return Some(Box::new(SyslogUnwrap::new(by_name(inner, ingest)?)));
    }
    match name {
        "squid" => Some(Box::new(SquidParser)),
        "sshd" => Some(Box::new(SshdParser)),
        "postfix" => Some(Box::new(PostfixParser::new(ingest))),
        "combined" => Some(Box::new(CombinedParser)),
        "e2guardian" => Some(Box::new(E2guardianParser::default())),
        "dansguardian" => Some(Box::new(E2guardianParser::dansguardian())),
        "fortigate" => Some(Box::new(FortigateParser)),
        "sophos-utm" => Some(Box::new(SophosUtmParser)),
        "squidguard" => Some(Box::new(SquidguardParser)),
        "windows" => Some(Box::new(WindowsParser)),
        "radius" => Some(Box::new(RadiusParser)),
        "dhcp" => Some(Box::new(DhcpParser)),
        "google-login" => Some(Box::new(GoogleLoginParser)),
        "entra-signin" => Some(Box::new(EntraSigninParser)),
        "exim" => Some(Box::new(EximParser::new(ingest))),
        "exchange" => Some(Box::new(ExchangeParser::new())),
        "m365-trace" => Some(Box::new(M365TraceParser)),
        "syslog" | "syslog+syslog" => Some(Box::new(SyslogRouter::new(ingest))),
        "auto" => Some(Box::new(AutoParser::new(ingest))),
        _ => None,
    }
}

/// The event of a syslog line that reports nothing notable (a session
/// opened, another program's line in the same file): action `other`, the
/// syslog program as the product, kept so the line stays searchable.
fn other_syslog_event(
    kind: vigil_core::EventKind,
    sys: &syslog::SyslogLine<'_>,
    format: &'static str,
    line: &str,
    ctx: &LineContext<'_>,
) -> Event {
    let product = vigil_core::Label::from(sys.program.to_string());
    let mut e = Event::new(sys.timestamp, kind, "other", vigil_core::Outcome::Unknown, product, format, line);
    set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
    e.host_name = sys.host.map(str::to_string);
    e
}

/// Records where an event's (first) line came from: tenant, source, offset
/// and the deterministic id derived from them and the raw line.
/// The tenant and source names are shared, not copied, into each event.
fn set_origin(event: &mut Event, tenant: &Label, source: &Label, offset: u64, raw: &str) {
    event.id = Event::derive_id(tenant, source, offset, raw.as_bytes());
    event.tenant = tenant.clone();
    event.log_source = Some(source.clone());
    event.log_offset = Some(offset);
}

/// Where a line came from; parsers copy these into the events they make.
#[derive(Debug, Clone, Copy)]
pub struct LineContext<'a> {
    /// Tenant of the source (shared into each event, not copied).
    pub tenant: &'a Label,
    /// Configured source name (shared into each event, not copied).
    pub source: &'a Label,
    /// 1-based line number.
    pub line_no: u64,
    /// Byte offset of the line's first byte in the source.
    pub offset: u64,
    /// Reference time for timestamps without a year (syslog's `Mar  4
    /// 10:42:00`): the year is chosen so the time is not more than a day
    /// after this instant. Normally the time the line was read.
    pub now: DateTime<Utc>,
    /// The line as read, when the parser is handed another text for it (a
    /// syslog header stripped or rewritten by [`SyslogUnwrap`] or the
    /// `syslog` router); see [`LineContext::as_read`].
    pub read_as: Option<&'a str>,
}

impl<'a> LineContext<'a> {
    /// The text to keep as evidence of the line a parser was handed as
    /// `seen`: the line as read when the parser was handed another text, so
    /// that records kept across lines (Postfix, Exim) hold the lines as
    /// written, and their ids derive from them.
    pub fn as_read<'b>(&self, seen: &'b str) -> &'b str
    where
        'a: 'b,
    {
        self.read_as.unwrap_or(seen)
    }

    /// The context for a parser handed another text for `line` (the line as
    /// read, or as read by an outer reader already).
    pub fn handing_on(&self, line: &'a str) -> LineContext<'a> {
        LineContext { read_as: Some(self.as_read(line)), ..*self }
    }
}

/// What a parsed line became. Every line read is accounted for as exactly
/// one of these or as a dead letter (`vigil_lines_used_total` beside
/// `vigil_deadletter_total`), so nothing is lost without a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineUse {
    /// The line is the (first) line of an event pushed now.
    Event,
    /// The line belongs to a multi-line record (a Postfix or Exim message)
    /// whose event is pushed when the record is complete; its text is in
    /// that event's `message`.
    Correlated,
    /// The line describes the log rather than recording anything (the
    /// `#Fields:` and `#Software:` headers of W3C-style CSV logs).
    Header,
    /// The line's event is pushed later, once its format is known
    /// (`auto` before it has decided).
    Deferred,
}

impl LineUse {
    /// Every use, in the order of [`LineUse::index`].
    pub const ALL: [LineUse; 4] = [LineUse::Event, LineUse::Correlated, LineUse::Header, LineUse::Deferred];

    /// The position of this use in [`LineUse::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The `use` label of `vigil_lines_used_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            LineUse::Event => "event",
            LineUse::Correlated => "correlated",
            LineUse::Header => "header",
            LineUse::Deferred => "deferred",
        }
    }
}

/// Why a line was not accepted; becomes the dead-letter reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// A log format reader. Parsers may hold state across lines (Postfix
/// correlates the lines of one message); stateless parsers implement only
/// [`Parser::parse`] and [`Parser::name`].
pub trait Parser: Send {
    /// The `--format` name (`squid`, `sshd`, `postfix`).
    fn name(&self) -> &'static str;

    /// Parses one line (without its terminator), pushing finished events
    /// onto `out`, and says what the line became. A line the format defines
    /// but that reports nothing notable still makes an event (action
    /// `other`), so it stays searchable. A correlating parser may push the
    /// events of earlier, completed records with any line. `Err` means the
    /// line is not this format; the caller dead-letters it with the error as
    /// the reason, and the parser must have pushed nothing for it.
    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError>;

    /// Pushes events held since before `now - hold` (log time). Called
    /// periodically by the source.
    fn flush_expired(&mut self, _now: DateTime<Utc>, _out: &mut Vec<Event>) {}

    /// Pushes every held event (end of input or shutdown).
    fn flush_all(&mut self, _out: &mut Vec<Event>) {}

    /// Byte offset of the oldest line whose event is still held, so the
    /// source does not checkpoint past it. `None` when nothing is held.
    fn oldest_held_offset(&self) -> Option<u64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_format_has_a_parser_and_others_none() {
        let ingest = IngestConfig::default();
        for name in FORMATS {
            assert_eq!(by_name(name, &ingest).map(|p| p.name()), Some(*name));
        }
        assert!(by_name("apache", &ingest).is_none());
        assert_eq!(by_name("dansguardian", &ingest).map(|p| p.name()), Some("e2guardian"));
    }

    #[test]
    fn a_syslog_source_of_format_syslog_gets_the_router_itself() {
        let mut p = by_name("syslog+syslog", &IngestConfig::default()).unwrap();
        assert_eq!(p.name(), "syslog");
        let line = "<38>1 2026-03-04T10:42:00Z gate sshd 812 - - Failed password for a from 10.0.0.9 port 5 ssh2";
        let e = testutil::parse_one(p.as_mut(), line).unwrap();
        assert_eq!((e.log_format.as_str(), e.action.as_str(), e.message.as_str()), ("sshd", "login-failed", line));
    }
}
