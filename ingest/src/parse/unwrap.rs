//! `--format syslog+FORMAT`: lines of any format wrapped in a syslog header,
//! as a syslog relay or a network syslog source delivers them.
//!
//! Two headers are read (a line may have either):
//! - RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP MSG]`,
//!   where `SD` is `-` or one or more `[id name="value"...]` elements
//!   (values may hold `\"`, `\\` and `\]`) and MSG may start with a UTF-8
//!   byte-order mark, which is dropped (RFC 5424 §6.4);
//! - RFC 3164: `<PRI>Mmm dd hh:mm:ss HOST TAG[pid]: MSG`, or an RFC 3339
//!   timestamp in place of `Mmm dd hh:mm:ss` (rsyslog's forwarding
//!   templates); the `<PRI>` is optional, as in files written by a syslog
//!   daemon. These timestamps follow [`super::syslog`]: no zone means UTC.
//!
//! The inner parser gets MSG, except for formats that read the syslog header
//! themselves ([`HEADER_FORMATS`]: sshd, Postfix, Exim, DHCP, RADIUS, Sophos
//! UTM, FortiGate, and the `syslog` router that hands lines to them). Those
//! get the line without `<PRI>`, an RFC 5424 header rewritten as
//! `TIMESTAMP HOST APP[PROCID]: MSG` (a `-` timestamp becomes the reading
//! time, a `-` host is left out), so the header is read once, by the parser
//! that knows it. What follows `<PRI>` is not required to be an RFC 3164
//! header for them: a FortiGate sends `<189>date=… time=… devname=…`, a
//! Sophos UTM `<30>2024:03:04-10:42:00 utm1 httpproxy[6267]: …`, and their
//! parsers read those.
//!
//! The events the inner parser makes for the line get the whole original
//! line as `message` and an id derived from it, and the header's host as
//! `host.name` when the inner format names none. A correlating inner parser
//! (Postfix, Exim) keeps the whole lines too, as [`LineContext::as_read`]
//! gives them, in the records it releases later.

use super::{set_origin, syslog, LineContext, LineUse, ParseError, Parser};
use chrono::{DateTime, SecondsFormat, Utc};
use std::borrow::Cow;
use vigil_core::Event;

/// Formats whose parsers read the syslog header themselves.
pub const HEADER_FORMATS: &[&str] = &["sshd", "postfix", "exim", "dhcp", "radius", "sophos-utm", "fortigate", "syslog"];

/// The prefix of a wrapped format's name: `syslog+squid`.
pub const PREFIX: &str = "syslog+";

/// A parser reading the syslog header and handing the message to another.
pub struct SyslogUnwrap {
    inner: Box<dyn Parser>,
    /// The inner parser reads the header itself.
    keeps_header: bool,
}

impl SyslogUnwrap {
    /// Wraps `inner` (whose name decides whether it gets the header too).
    pub fn new(inner: Box<dyn Parser>) -> Self {
        let keeps_header = HEADER_FORMATS.contains(&inner.name());
        SyslogUnwrap { inner, keeps_header }
    }
}

impl Parser for SyslogUnwrap {
    /// The inner format's name: events are of that format.
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let (inner_line, host) = if self.keeps_header {
            (native_line(line, ctx.now)?, None)
        } else {
            let header = Header::read(line, ctx.now)?;
            (Cow::Borrowed(header.msg), header.host)
        };
        let before = out.len();
        let inner_ctx = ctx.handing_on(line);
        let line_use = self.inner.parse(&inner_line, &inner_ctx, out)?;
        adopt_line(out.get_mut(before..).unwrap_or_default(), &inner_line, line, host, ctx);
        Ok(line_use)
    }

    fn flush_expired(&mut self, now: DateTime<Utc>, out: &mut Vec<Event>) {
        self.inner.flush_expired(now, out);
    }

    fn flush_all(&mut self, out: &mut Vec<Event>) {
        self.inner.flush_all(out);
    }

    fn oldest_held_offset(&self) -> Option<u64> {
        self.inner.oldest_held_offset()
    }
}

/// `line` as a parser of a syslog-native format ([`HEADER_FORMATS`]) reads
/// it: without `<PRI>`, and with an RFC 5424 header rewritten as
/// `TIMESTAMP HOST APP[PROCID]: MSG`. An RFC 3164 header is left for that
/// parser to read; without `<PRI>` the result is `line` itself.
pub(super) fn native_line(line: &str, now: DateTime<Utc>) -> Result<Cow<'_, str>, ParseError> {
    let after_pri = strip_pri(line)?;
    match rfc5424_rest(line, after_pri) {
        Some(rest) => {
            let (header, fields) = read_rfc5424(rest)?;
            Ok(Cow::Owned(fields.traditional_line(&header, now)))
        }
        None => Ok(Cow::Borrowed(after_pri)),
    }
}

/// Gives the events made from `seen` (the text a parser read for `line`)
/// the whole `line` as `message` and the id derived from it, and `host` as
/// `host.name` when they name none. Other events (earlier records a
/// correlating parser released) are left alone.
pub(super) fn adopt_line(events: &mut [Event], seen: &str, line: &str, host: Option<&str>, ctx: &LineContext<'_>) {
    let rewritten = !std::ptr::eq(seen, line);
    for e in events.iter_mut().filter(|e| e.message == *seen) {
        if rewritten {
            e.message = line.to_string();
            set_origin(e, ctx.tenant, ctx.source, ctx.offset, line);
        }
        if e.host_name.is_none() {
            e.host_name = host.map(str::to_string);
        }
    }
}

/// The text after `<PRI>1 ` when the line has an RFC 5424 header (a `<PRI>`
/// followed by version 1).
fn rfc5424_rest<'a>(line: &str, after_pri: &'a str) -> Option<&'a str> {
    after_pri.strip_prefix("1 ").filter(|_| after_pri.len() < line.len())
}

/// A syslog header read from a line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header<'a> {
    /// The sending host, unless `-`.
    host: Option<&'a str>,
    /// The message.
    msg: &'a str,
}

/// The RFC 5424 header fields an inner parser may need.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rfc5424<'a> {
    /// `-` or an RFC 3339 time.
    timestamp: &'a str,
    app_name: &'a str,
    proc_id: &'a str,
}

impl<'a> Header<'a> {
    fn read(line: &'a str, now: DateTime<Utc>) -> Result<Self, ParseError> {
        let after_pri = strip_pri(line)?;
        if let Some(rest) = rfc5424_rest(line, after_pri) {
            return read_rfc5424(rest).map(|(header, _)| header);
        }
        let sys = syslog::parse(after_pri, now).map_err(|e| ParseError(format!("not a syslog line: {e}")))?;
        Ok(Header { host: sys.host, msg: sys.message })
    }
}

impl Rfc5424<'_> {
    /// `header`'s line as a parser of a syslog-native format reads it:
    /// `TIMESTAMP [HOST ]APP[PROCID]: MSG`.
    fn traditional_line(&self, header: &Header<'_>, now: DateTime<Utc>) -> String {
        let timestamp = match self.timestamp {
            "-" => Cow::Owned(now.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            t => Cow::Borrowed(t),
        };
        let host = header.host.map_or(String::new(), |host| format!("{host} "));
        let tag = match self.proc_id {
            "-" => self.app_name.to_string(),
            pid => format!("{}[{pid}]", self.app_name),
        };
        format!("{timestamp} {host}{tag}: {}", header.msg)
    }
}

/// The line after an optional `<PRI>` (0 to 191, RFC 5424 §6.2.1).
fn strip_pri(line: &str) -> Result<&str, ParseError> {
    let Some(rest) = line.strip_prefix('<') else { return Ok(line) };
    let bad = || ParseError("syslog PRI is not `<0>` to `<191>` (facility × 8 + severity)".into());
    let (digits, after) = rest.split_once('>').ok_or_else(bad)?;
    let valid = (1..=3).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.parse::<u8>().is_ok_and(|p| p <= 191);
    valid.then_some(after).ok_or_else(bad)
}

/// Reads `TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP MSG]` (`rest`,
/// after `<PRI>1 `).
fn read_rfc5424(rest: &str) -> Result<(Header<'_>, Rfc5424<'_>), ParseError> {
    let (timestamp, rest) = field(rest, "TIMESTAMP", 64)?;
    if timestamp != "-" && DateTime::parse_from_rfc3339(timestamp).is_err() {
        return Err(ParseError("RFC 5424 TIMESTAMP is neither `-` nor an RFC 3339 time".into()));
    }
    let (host, rest) = field(rest, "HOSTNAME", 255)?;
    let (app_name, rest) = field(rest, "APP-NAME", 48)?;
    let (proc_id, rest) = field(rest, "PROCID", 128)?;
    let (_msg_id, rest) = field(rest, "MSGID", 32)?;
    let sd_len = structured_data_len(rest)?;
    let msg = match rest.get(sd_len..).unwrap_or_default() {
        "" => "",
        after => after
            .strip_prefix(' ')
            .ok_or_else(|| ParseError("RFC 5424 STRUCTURED-DATA is not followed by a space".into()))?,
    };
    let msg = msg.strip_prefix('\u{FEFF}').unwrap_or(msg);
    let host = (host != "-").then_some(host);
    Ok((Header { host, msg }, Rfc5424 { timestamp, app_name, proc_id }))
}

/// The next header field, which must be 1 to `max` printable US-ASCII
/// characters followed by a space, and the text after that space.
fn field<'a>(s: &'a str, name: &str, max: usize) -> Result<(&'a str, &'a str), ParseError> {
    let (value, rest) =
        s.split_once(' ').ok_or_else(|| ParseError(format!("RFC 5424 header ends at or before its {name} field")))?;
    if value.is_empty() || value.len() > max || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ParseError(format!("RFC 5424 {name} is not 1 to {max} printable ASCII characters")));
    }
    Ok((value, rest))
}

/// Length of the STRUCTURED-DATA at the start of `s`: `-` or one or more
/// `[...]` elements, in whose quoted values `\` escapes the next character.
fn structured_data_len(s: &str) -> Result<usize, ParseError> {
    if s.starts_with('-') {
        return Ok(1);
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    while bytes.get(i) == Some(&b'[') {
        let mut in_value = false;
        i += 1;
        loop {
            match (bytes.get(i), in_value) {
                (None, _) => return Err(ParseError("RFC 5424 STRUCTURED-DATA element has no closing `]`".into())),
                (Some(b'\\'), true) => i += 1,
                (Some(b'"'), _) => in_value = !in_value,
                (Some(b']'), false) => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    match i {
        0 => Err(ParseError("RFC 5424 STRUCTURED-DATA is neither `-` nor `[...]`".into())),
        // `]` and `[` are ASCII, so `i` is a character boundary.
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{ctx, parse_lines, parse_one};
    use super::super::{by_name, SquidParser};
    use super::*;
    use chrono::TimeZone;
    use vigil_core::config::IngestConfig;

    const SQUID: &str =
        "1772623320.123    145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html";

    fn squid() -> SyslogUnwrap {
        SyslogUnwrap::new(Box::new(SquidParser))
    }

    fn bare_squid_event() -> Event {
        parse_one(&mut SquidParser, SQUID).unwrap()
    }

    /// The wrapped event is the bare one with the whole line as message, an
    /// id of the whole line, and the header's host.
    fn assert_wraps(e: &Event, line: &str, host: Option<&str>) {
        let bare = bare_squid_event();
        assert_eq!(e.message, line);
        assert_eq!(e.id, Event::derive_id("st-marys", "test-source", 0, line.as_bytes()));
        assert_ne!(e.id, bare.id);
        assert_eq!(e.host_name.as_deref(), host);
        assert_eq!(e.timestamp, bare.timestamp);
        assert_eq!(e.url_full, bare.url_full);
        assert_eq!(e.source_ip, bare.source_ip);
        assert_eq!(e.action, bare.action);
    }

    #[test]
    fn rfc5424_header_with_structured_data_and_bom_is_stripped() {
        let line = format!(
            "<166>1 2026-03-04T10:42:00.003Z proxy1.stmarys.sch.uk squid 2314 ACCESS \
             [meta@32473 iut=\"3\" note=\"a \\\"quoted\\\" ] value\"][origin ip=\"10.0.0.5\"] \u{FEFF}{SQUID}"
        );
        let e = parse_one(&mut squid(), &line).unwrap();
        assert_wraps(&e, &line, Some("proxy1.stmarys.sch.uk"));
    }

    #[test]
    fn rfc5424_with_nil_fields() {
        let line = format!("<14>1 - - - - - - {SQUID}");
        let e = parse_one(&mut squid(), &line).unwrap();
        assert_wraps(&e, &line, None);
    }

    #[test]
    fn rfc3164_header_with_and_without_pri() {
        for line in [
            format!("<166>Mar  4 10:42:00 proxy1 squid[2314]: {SQUID}"),
            format!("Mar  4 10:42:00 proxy1 squid[2314]: {SQUID}"),
            format!("<166>2026-03-04T10:42:00+00:00 proxy1 squid: {SQUID}"),
        ] {
            let e = parse_one(&mut squid(), &line).unwrap();
            assert_wraps(&e, &line, Some("proxy1"));
        }
    }

    #[test]
    fn host_from_the_inner_format_is_kept() {
        let mut p = SyslogUnwrap::new(by_name("sshd", &IngestConfig::default()).unwrap());
        let line = "<38>1 2026-03-04T10:42:00Z gate sshd 812 - - Failed password for alice from 10.0.0.9 port 5 ssh2";
        let e = parse_one(&mut p, line).unwrap();
        assert_eq!(e.host_name.as_deref(), Some("gate"));
        assert_eq!(e.action, "login-failed", "sshd read its own header: {e:?}");
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2026, 3, 4, 10, 42, 0).unwrap());
        assert_eq!(e.message, line);
    }

    #[test]
    fn header_formats_get_the_line_without_pri() {
        let mut p = SyslogUnwrap::new(by_name("sshd", &IngestConfig::default()).unwrap());
        let line = "<38>Mar  4 10:42:00 gate sshd[812]: Invalid user bob from 10.0.0.9 port 5";
        let e = parse_one(&mut p, line).unwrap();
        assert_eq!(e.action, "invalid-user");
        assert_eq!(e.message, line);
        // A nil RFC 5424 timestamp becomes the reading time.
        let line = "<38>1 - gate sshd - - - Invalid user bob from 10.0.0.9 port 5";
        assert_eq!(parse_one(&mut p, line).unwrap().timestamp, ctx().now);
    }

    #[test]
    fn rfc3164_headers_without_a_host() {
        let line = format!("<166>Mar  4 10:42:00 squid[2314]: {SQUID}");
        assert_wraps(&parse_one(&mut squid(), &line).unwrap(), &line, None);
        let mut p = SyslogUnwrap::new(by_name("sshd", &IngestConfig::default()).unwrap());
        let line = "<38>Mar  4 10:42:00 sshd[812]: Invalid user bob from 10.0.0.9 port 5";
        let e = parse_one(&mut p, line).unwrap();
        assert_eq!((e.action.as_ref(), e.host_name.as_deref()), ("invalid-user", None));
        // A nil RFC 5424 host is left out, not taken for a host called `-`.
        let line = "<38>1 2026-03-04T10:42:00Z - sshd 812 - - Invalid user bob from 10.0.0.9 port 5";
        let e = parse_one(&mut p, line).unwrap();
        assert_eq!((e.action.as_ref(), e.host_name.as_deref()), ("invalid-user", None));
    }

    #[test]
    fn devices_own_headers_after_pri_reach_their_parsers() {
        let ingest = IngestConfig::default();
        let mut fortigate = SyslogUnwrap::new(by_name("fortigate", &ingest).unwrap());
        let line = "<189>date=2026-03-04 time=10:42:00 devname=\"FGT60F\" devid=\"FGT60FTK0000\" logid=\"0316013056\" \
                    type=\"utm\" subtype=\"webfilter\" eventtype=\"ftgd_blk\" level=\"warning\" srcip=10.1.2.3 \
                    hostname=\"bad.example\" action=\"blocked\" url=\"/\" catdesc=\"Malicious Websites\"";
        let e = parse_one(&mut fortigate, line).unwrap();
        assert_eq!((e.action.as_ref(), e.message.as_str()), ("blocked", line));
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2026, 3, 4, 10, 42, 0).unwrap());
        let mut sophos = SyslogUnwrap::new(by_name("sophos-utm", &ingest).unwrap());
        let line = "<30>2026:03:04-10:42:00 utm1 httpproxy[6267]: id=\"0060\" severity=\"info\" sys=\"SecureWeb\" \
                    sub=\"http\" name=\"web request blocked\" action=\"block\" method=\"GET\" srcip=\"10.1.2.3\" \
                    statuscode=\"403\" url=\"http://bad.example/\" categoryname=\"Weapons\"";
        let e = parse_one(&mut sophos, line).unwrap();
        assert_eq!((e.action.as_ref(), e.host_name.as_deref()), ("blocked", Some("utm1")));
        assert_eq!(e.message, line);
    }

    #[test]
    fn by_name_wraps_any_format_but_auto() {
        let ingest = IngestConfig::default();
        assert_eq!(by_name("syslog+squid", &ingest).map(|p| p.name()), Some("squid"));
        assert_eq!(by_name("syslog+postfix", &ingest).map(|p| p.name()), Some("postfix"));
        assert!(by_name("syslog+auto", &ingest).is_none());
        assert!(by_name("syslog+syslog+squid", &ingest).is_none());
        assert!(by_name("syslog+nope", &ingest).is_none());
    }

    #[test]
    fn lines_without_a_valid_header_are_rejected_with_the_field_at_fault() {
        let cases = [
            (SQUID, "not a syslog line"),
            ("<192>Mar  4 10:42:00 h squid: x", "PRI"),
            ("<1x>Mar  4 10:42:00 h squid: x", "PRI"),
            ("<14", "PRI"),
            ("<14>1 yesterday h a p m - x", "TIMESTAMP"),
            ("<14>1 2026-03-04T10:42:00Z h a p", "PROCID"),
            ("<14>1 2026-03-04T10:42:00Z h a p m", "MSGID"),
            ("<14>1 2026-03-04T10:42:00Z h a p m [x a=\"]\"", "closing `]`"),
            ("<14>1 2026-03-04T10:42:00Z h a p m [x]tail", "followed by a space"),
            ("<14>1 2026-03-04T10:42:00Z h a p m {x}", "STRUCTURED-DATA"),
        ];
        for (line, fault) in cases {
            let err = parse_lines(&mut squid(), &[line]).unwrap_err().0;
            assert!(err.contains(fault), "{line:?}: {err}");
        }
        let long_app = format!("<14>1 - h {} - - - x", "a".repeat(49));
        assert!(parse_lines(&mut squid(), &[&long_app]).unwrap_err().0.contains("APP-NAME"));
    }

    #[test]
    fn inner_errors_pass_through() {
        let err = parse_lines(&mut squid(), &["<14>1 - h squid - - - 17 5"]).unwrap_err().0;
        assert!(err.contains("squid line ends"), "{err}");
    }

    #[test]
    fn every_truncation_is_an_error_or_an_event() {
        let line = format!("<166>1 2026-03-04T10:42:00Z p squid 1 - [a b=\"\\\"é\"] \u{FEFF}{SQUID}");
        for end in (0..line.len()).filter(|&i| line.is_char_boundary(i)) {
            let _ = parse_lines(&mut squid(), &[&line[..end]]);
        }
    }

    #[test]
    fn hostile_content_is_kept_verbatim() {
        let line = format!("<14>1 - h\u{7f}x squid - - - {SQUID}");
        assert!(parse_lines(&mut squid(), &[&line]).is_err(), "control characters are not a HOSTNAME");
        let line = format!("<14>1 - h squid - - - {SQUID} <script>\u{1b}[31m");
        let e = parse_one(&mut squid(), &line).unwrap();
        assert_eq!(e.message, line);
    }
}
