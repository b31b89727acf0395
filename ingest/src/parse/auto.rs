//! `--format auto`: detect a source's format from its first lines.
//!
//! Candidates are every format in [`FORMATS`](super::FORMATS), and each
//! format that does not read syslog headers itself wrapped in one
//! (`syslog+squid`, see [`super::SyslogUnwrap`]). Until it has decided, every
//! line goes to every candidate (each keeps its own state, so Postfix and
//! Exim correlation works from the first line), and only lines that no
//! candidate accepts are errors. A candidate proves the format, and is
//! chosen, when it makes a notable event from a line (any action but
//! `other`), takes the line into a multi-line record, or reads it as a log
//! header; so is a candidate that is the only one to accept a line. The
//! first candidate in [`candidate_names`]' order wins a tie. Until then a
//! line every accepting candidate reads as `other` (a cron line in
//! `auth.log`) is deferred: once the format is known it is parsed again by
//! the chosen parser, so its event carries the right kind and format (or,
//! should the chosen parser refuse it, it is kept as the first accepting
//! candidate's `other` event). At most [`MAX_DEFERRED`] lines wait; beyond
//! that, when the source idles (a followed file with nothing new) and at the
//! end of input, they are kept as those `other` events.
//! The choice, the line that made it and why are logged and available from
//! [`AutoParser::detection`].
//!
//! A syslog file is seldom one program's: when the format proved is one the
//! `syslog` router hands lines to (sshd, Postfix, Exim, DHCP, RADIUS; see
//! [`SyslogRouter`]) and the deciding line is a syslog line of that format's
//! program, the router reads the source from then on, with the chosen parser
//! (and what it holds) as its parser of that format. The other programs of
//! `/var/log/syslog` or a central rsyslog file then make events too (of their
//! own format when routed, `syslog` `other` events when not), instead of
//! being refused. The detection names both the format proved and the router.
//!
//! Once decided, lines go to the chosen parser alone. A source that changes
//! format mid-stream is not silently mis-parsed: a line the chosen parser
//! rejects is an error, and so is a line it reads only as `other` that
//! another format would read as a notable record; both errors name the
//! format the line looks like and the detection, so the line is
//! dead-lettered with a reason that says to give that log its own source.
//! The router is the exception to the second rule: every program's line is
//! its business, so a line it reads as `other` is kept (and not tried on
//! every other format).

use super::unwrap::{HEADER_FORMATS, PREFIX};
use super::{by_name, LineContext, LineUse, ParseError, Parser, SyslogRouter, FORMATS};
use chrono::{DateTime, Utc};
use vigil_core::config::IngestConfig;
use vigil_core::{Event, Label};

/// How the format was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// The chosen format: the parser reading the source (`syslog` when the
    /// router reads it).
    pub format: &'static str,
    /// The format the deciding line proved: `format`, or the routed format
    /// for which the router was chosen (`sshd` for an `auth.log`).
    pub detected: &'static str,
    /// The line that decided it.
    pub line_no: u64,
    /// Why that line decided it.
    pub reason: String,
}

/// The name of the [`SyslogRouter`], which keeps every syslog line.
const SYSLOG_ROUTER: &str = "syslog";

/// How many lines may wait for the format to be known.
pub const MAX_DEFERRED: usize = 1000;

/// A line no candidate could tell apart, waiting for the decision.
struct Deferred {
    line: String,
    line_no: u64,
    offset: u64,
    now: DateTime<Utc>,
    /// What the first accepting candidate made of it: kept if the chosen
    /// parser refuses the line.
    fallback: Vec<Event>,
}

/// A parser that locks onto the first format the input proves to be.
pub struct AutoParser {
    ingest: IngestConfig,
    candidates: Vec<Box<dyn Parser>>,
    locked: Option<(Box<dyn Parser>, Detection)>,
    deferred: Vec<Deferred>,
}

/// The candidate format names, in order of preference.
pub fn candidate_names() -> Vec<String> {
    let plain = FORMATS.iter().filter(|f| **f != "auto");
    let wrapped = plain.clone().filter(|f| !HEADER_FORMATS.contains(f)).map(|f| format!("{PREFIX}{f}"));
    plain.map(|f| f.to_string()).chain(wrapped).collect()
}

/// A fresh parser of every candidate format.
fn candidates(ingest: &IngestConfig) -> Vec<Box<dyn Parser>> {
    candidate_names().iter().filter_map(|name| by_name(name, ingest)).collect()
}

/// The first format but `chosen` that reads `line` as a notable record,
/// tried on fresh parsers so that nothing is held.
fn notable_elsewhere(ingest: &IngestConfig, line: &str, ctx: &LineContext<'_>, chosen: &str) -> Option<&'static str> {
    candidates(ingest).into_iter().filter(|p| p.name() != chosen).find_map(|mut p| {
        let mut events = Vec::new();
        let line_use = p.parse(line, ctx, &mut events).ok()?;
        is_notable(line_use, &events).then(|| p.name())
    })
}

/// Whether what a parser made of a line proves its format.
fn is_notable(line_use: LineUse, events: &[Event]) -> bool {
    line_use != LineUse::Event || events.iter().any(|e| e.action != "other")
}

/// The detection `auto` makes from a log's first `lines` (read at `now`), or
/// `None` when they do not decide it.
pub fn detect<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    ingest: &IngestConfig,
    now: DateTime<Utc>,
) -> Option<Detection> {
    static SAMPLE: Label = Label::constant("sample");
    let mut parser = AutoParser::new(ingest);
    let mut events = Vec::new();
    let mut offset = 0;
    for (line_no, line) in (1..).zip(lines) {
        let ctx = LineContext { tenant: &SAMPLE, source: &SAMPLE, line_no, offset, now, read_as: None };
        // A line no format accepts decides nothing; the next may.
        let _ = parser.parse(line, &ctx, &mut events);
        events.clear();
        if let Some(detection) = parser.detection() {
            return Some(detection.clone());
        }
        offset += line.len() as u64 + 1;
    }
    None
}

impl AutoParser {
    /// Undecided, trying every candidate format.
    pub fn new(ingest: &IngestConfig) -> Self {
        AutoParser { ingest: ingest.clone(), candidates: candidates(ingest), locked: None, deferred: Vec::new() }
    }

    /// The chosen format, the line that decided it and why; `None` while
    /// undecided.
    pub fn detection(&self) -> Option<&Detection> {
        self.locked.as_ref().map(|(_, d)| d)
    }

    /// Locks onto candidate `index`, which `line` proved (or the router,
    /// adopting it, see the module documentation), then pushes the events of
    /// the deferred lines, parsed by the chosen parser.
    fn lock(&mut self, index: usize, line: &str, ctx: &LineContext<'_>, reason: String, out: &mut Vec<Event>) {
        let candidate = self.candidates.swap_remove(index);
        self.candidates.clear();
        let detected = candidate.name();
        let (mut chosen, reason) = match SyslogRouter::adopting(candidate, line, ctx.now, &self.ingest) {
            Ok(router) => {
                let why =
                    format!("{reason}, a syslog line: the syslog router reads the source, {detected} lines included");
                (Box::new(router) as Box<dyn Parser>, why)
            }
            Err(candidate) => (candidate, reason),
        };
        for waiting in self.deferred.drain(..) {
            let waiting_ctx =
                LineContext { line_no: waiting.line_no, offset: waiting.offset, now: waiting.now, ..*ctx };
            let mut events = Vec::new();
            match chosen.parse(&waiting.line, &waiting_ctx, &mut events) {
                Ok(_) => out.append(&mut events),
                Err(_) => out.extend(waiting.fallback),
            }
        }
        let detection = Detection { format: chosen.name(), detected, line_no: ctx.line_no, reason };
        tracing::info!(source = %ctx.source, format = detection.format, detected, line = ctx.line_no, reason = %detection.reason, "log format detected");
        self.locked = Some((chosen, detection));
    }

    /// Keeps every deferred line as its fallback `other` event.
    fn release_deferred(&mut self, out: &mut Vec<Event>) {
        out.extend(self.deferred.drain(..).flat_map(|waiting| waiting.fallback));
    }

    /// Runs `flush` on each candidate in turn; the first to emit anything is
    /// chosen (its held records prove the format), and its events kept.
    fn flush_undecided(&mut self, out: &mut Vec<Event>, mut flush: impl FnMut(&mut dyn Parser, &mut Vec<Event>)) {
        self.release_deferred(out);
        for i in 0..self.candidates.len() {
            let mut events = Vec::new();
            flush(self.candidates[i].as_mut(), &mut events);
            if !events.is_empty() {
                let chosen = self.candidates.swap_remove(i);
                self.candidates.clear();
                let format = chosen.name();
                tracing::info!(format, "log format detected from the records held at the end of input");
                let reason = "it held records at the end of the input".to_string();
                self.locked = Some((chosen, Detection { format, detected: format, line_no: 0, reason }));
                out.append(&mut events);
                return;
            }
        }
    }

    /// Parses with the chosen parser, refusing lines of another format.
    fn parse_locked(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let (parser, detection) = self.locked.as_mut().expect("called only when locked");
        let chosen = parser.name();
        let changed = |other: &str| {
            ParseError(format!(
                "this line looks like {other}, but the source was detected as {chosen} at line {} ({}); \
                 give each log format its own [[sources]] entry",
                detection.line_no, detection.reason
            ))
        };
        let mut events = Vec::new();
        match parser.parse(line, ctx, &mut events) {
            Ok(line_use) if !is_notable(line_use, &events) && chosen != SYSLOG_ROUTER => {
                if let Some(other) = notable_elsewhere(&self.ingest, line, ctx, chosen) {
                    return Err(changed(other));
                }
                out.append(&mut events);
                Ok(line_use)
            }
            Ok(line_use) => {
                out.append(&mut events);
                Ok(line_use)
            }
            Err(e) => match notable_elsewhere(&self.ingest, line, ctx, chosen) {
                Some(other) => Err(changed(other)),
                None => Err(e),
            },
        }
    }
}

impl Parser for AutoParser {
    fn name(&self) -> &'static str {
        self.locked.as_ref().map_or("auto", |(p, _)| p.name())
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        if self.locked.is_some() {
            return self.parse_locked(line, ctx, out);
        }
        let mut accepted = Vec::new();
        let mut errors = Vec::new();
        for (i, candidate) in self.candidates.iter_mut().enumerate() {
            let mut events = Vec::new();
            match candidate.parse(line, ctx, &mut events) {
                Ok(line_use) if is_notable(line_use, &events) => {
                    let why = format!("line {} is a {} record", ctx.line_no, candidate.name());
                    self.lock(i, line, ctx, why, out);
                    out.append(&mut events);
                    return Ok(line_use);
                }
                Ok(line_use) => accepted.push((i, line_use, events)),
                Err(e) => errors.push(format!("{}: {e}", candidate.name())),
            }
        }
        let only_one = accepted.len() == 1;
        let Some((first, line_use, mut events)) = accepted.into_iter().next() else {
            return Err(ParseError(format!("no known format accepts this line ({})", errors.join("; "))));
        };
        if only_one {
            self.lock(first, line, ctx, format!("only this format accepted line {}", ctx.line_no), out);
            out.append(&mut events);
            return Ok(line_use);
        }
        if self.deferred.len() >= MAX_DEFERRED {
            self.release_deferred(out);
        }
        let (line_no, offset, now) = (ctx.line_no, ctx.offset, ctx.now);
        self.deferred.push(Deferred { line: line.to_string(), line_no, offset, now, fallback: events });
        Ok(LineUse::Deferred)
    }

    fn flush_expired(&mut self, now: DateTime<Utc>, out: &mut Vec<Event>) {
        match &mut self.locked {
            Some((parser, _)) => parser.flush_expired(now, out),
            None => self.flush_undecided(out, |p, events| p.flush_expired(now, events)),
        }
    }

    fn flush_all(&mut self, out: &mut Vec<Event>) {
        match &mut self.locked {
            Some((parser, _)) => parser.flush_all(out),
            None => self.flush_undecided(out, |p, events| p.flush_all(events)),
        }
    }

    fn oldest_held_offset(&self) -> Option<u64> {
        match &self.locked {
            Some((parser, _)) => parser.oldest_held_offset(),
            None => {
                let deferred = self.deferred.first().map(|waiting| waiting.offset);
                self.candidates.iter().filter_map(|p| p.oldest_held_offset()).chain(deferred).min()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::{parse_lines, parse_lines_with_use};
    use vigil_core::EventKind;

    const SQUID: &str =
        "1709548920.123 145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - HIER_DIRECT/1.2.3.4 text/html";
    const SSHD: &str = "Mar  4 10:42:00 gate sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2";
    const CRON: &str = "Mar  4 10:41:00 gate CRON[9]: pam_unix(cron:session): session opened for user root";
    const POSTFIX_LINE: &str = "Mar  4 10:00:01 mx postfix/smtpd[1]: 3F2A1B4C5D: client=mail.example.com[203.0.113.5]";
    const RADIUS_LOG: &str =
        "Wed Mar  4 10:40:00 2026 : Auth: (5) Login OK: [jbloggs] (from client wifi-ap1 port 0 cli 3C-22-FB-01-02-03)";

    fn auto() -> AutoParser {
        AutoParser::new(&IngestConfig::default())
    }

    #[test]
    fn squid_lines_lock_squid_and_say_why() {
        let mut p = auto();
        let events = parse_lines(&mut p, &[SQUID]).unwrap();
        assert_eq!((p.name(), events.len(), events[0].log_format.as_str()), ("squid", 1, "squid"));
        let detection = p.detection().unwrap();
        assert_eq!((detection.format, detection.line_no), ("squid", 1));
        assert!(detection.reason.contains("squid record"), "{detection:?}");
    }

    #[test]
    fn a_line_of_another_format_after_detection_is_refused_naming_both() {
        let mut p = auto();
        parse_lines(&mut p, &[SQUID]).unwrap();
        let err = parse_lines(&mut p, &[SSHD]).unwrap_err();
        assert!(err.0.contains("looks like sshd") && err.0.contains("detected as squid at line 1"), "{err}");
    }

    #[test]
    fn a_line_read_only_as_other_but_notable_elsewhere_is_refused() {
        let mut p = auto();
        parse_lines(&mut p, &[RADIUS_LOG]).unwrap();
        assert_eq!(p.name(), "radius", "FreeRADIUS's own radius.log is no syslog file");
        // radius would keep an sshd syslog line as `other`; auto refuses it instead.
        let err = parse_lines(&mut p, &[SSHD]).unwrap_err();
        assert!(err.0.contains("looks like sshd") && err.0.contains("detected as radius"), "{err}");
        // A cron line is `other` everywhere: kept.
        let kept = parse_lines(&mut p, &[CRON]).unwrap();
        assert_eq!(kept[0].action, "other");
    }

    #[test]
    fn a_syslog_file_is_read_by_the_router_whatever_its_programs() {
        let mut p = auto();
        let events = parse_lines(&mut p, &[SSHD]).unwrap();
        assert_eq!((p.name(), events[0].log_format.as_str()), ("syslog", "sshd"));
        let detection = p.detection().unwrap();
        assert_eq!((detection.format, detection.detected, detection.line_no), ("syslog", "sshd", 1));
        assert!(
            detection.reason.contains("sshd record") && detection.reason.contains("syslog router"),
            "{detection:?}"
        );
        // Postfix's lines in the same file are Postfix's, not refused.
        let (events, uses) = parse_lines_with_use(&mut p, &[POSTFIX_LINE, CRON]).unwrap();
        assert_eq!(uses, [LineUse::Correlated, LineUse::Event]);
        let cron: Vec<_> = events.iter().map(|e| (e.kind, e.action.as_str(), e.log_format.as_str())).collect();
        assert_eq!(cron, [(EventKind::Auth, "other", "syslog")]);
        assert_eq!(p.oldest_held_offset(), Some(0));
        // A line of another format without a syslog header is still refused.
        let err = parse_lines(&mut p, &[SQUID]).unwrap_err();
        assert!(err.0.contains("looks like squid") && err.0.contains("detected as syslog at line 1"), "{err}");
    }

    #[test]
    fn syslog_lines_wait_for_a_notable_event_to_decide_then_take_its_format() {
        let mut p = auto();
        let (events, uses) = parse_lines_with_use(&mut p, &[CRON]).unwrap();
        assert_eq!((events.len(), uses[0], p.name()), (0, LineUse::Deferred, "auto"));
        assert_eq!(p.oldest_held_offset(), Some(0), "the deferred line is not checkpointed past");
        let dhcp = "Mar  4 10:42:00 gw dhcpd[7]: DHCPACK on 10.1.2.3 to 3c:22:fb:01:02:03 (LAPTOP-7) via eth0";
        let events = parse_lines(&mut p, &[dhcp]).unwrap();
        assert_eq!((p.name(), p.detection().unwrap().detected), ("syslog", "dhcp"), "the router reads a syslog file");
        let summary: Vec<_> = events.iter().map(|e| (e.kind, e.action.as_str(), e.log_format.as_str())).collect();
        assert_eq!(summary, [(EventKind::Auth, "other", "syslog"), (EventKind::Network, "lease-granted", "dhcp")]);
        assert_eq!(events[0].message, CRON);
    }

    #[test]
    fn deferred_lines_are_kept_at_the_end_of_input_and_when_too_many_wait() {
        let mut p = auto();
        parse_lines(&mut p, &[CRON]).unwrap();
        let mut out = Vec::new();
        p.flush_all(&mut out);
        assert_eq!((out.len(), out[0].action.as_str(), out[0].message.as_str()), (1, "other", CRON));
        let mut p = auto();
        let many = vec![CRON; MAX_DEFERRED + 1];
        let (events, _) = parse_lines_with_use(&mut p, &many).unwrap();
        assert_eq!(events.len(), MAX_DEFERRED, "the first MAX_DEFERRED were released when one more came");
    }

    #[test]
    fn postfix_is_chosen_by_its_first_message_line_with_nothing_lost() {
        let mut p = auto();
        let connect =
            parse_lines(&mut p, &["Mar  4 10:00:00 mx postfix/smtpd[1]: connect from mail.example.com[203.0.113.5]"])
                .unwrap();
        assert_eq!((connect.len(), p.name()), (0, "auto"), "the connect line waits");
        let lines = [
            POSTFIX_LINE,
            "Mar  4 10:00:02 mx postfix/qmgr[2]: 3F2A1B4C5D: from=<a@example.com>, size=10, nrcpt=1 (queue active)",
            "Mar  4 10:00:03 mx postfix/local[3]: 3F2A1B4C5D: to=<b@school.example>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)",
        ];
        let connect = parse_lines(&mut p, &lines).unwrap();
        assert_eq!((p.name(), p.detection().unwrap().detected), ("syslog", "postfix"));
        let connect: Vec<_> = connect.iter().map(|e| (e.kind, e.log_format.as_str())).collect();
        assert_eq!(connect, [(EventKind::Email, "postfix")], "the connect line, read again as Postfix");
        assert_eq!(p.oldest_held_offset(), Some(0));
        let events = parse_lines(&mut p, &["Mar  4 10:00:04 mx postfix/qmgr[2]: 3F2A1B4C5D: removed"]).unwrap();
        assert_eq!(events[0].source_ip.as_deref(), Some("203.0.113.5"));
        assert_eq!(events[0].action, "delivered");
    }

    #[test]
    fn syslog_wrapped_squid_is_detected_as_wrapped() {
        let mut p = auto();
        let line = format!("<134>1 2024-03-04T10:42:00Z proxy1 squid 77 - - {SQUID}");
        let events = parse_lines(&mut p, &[&line]).unwrap();
        assert_eq!(p.name(), "squid");
        assert!(p.detection().unwrap().reason.contains("squid record"));
        assert_eq!((events[0].host_name.as_deref(), events[0].message.as_str()), (Some("proxy1"), line.as_str()));
    }

    #[test]
    fn every_format_is_a_candidate() {
        let names = candidate_names();
        for format in FORMATS.iter().filter(|f| **f != "auto") {
            assert!(names.iter().any(|n| n == format), "{format}");
        }
        assert!(names.iter().any(|n| n == "syslog+squid"));
        assert!(!names.iter().any(|n| n == "syslog+sshd"), "sshd reads its own header");
    }

    #[test]
    fn lines_no_format_accepts_are_errors_naming_each_format() {
        let err = parse_lines(&mut auto(), &["<html><body>hello</body></html>"]).unwrap_err();
        for name in ["squid", "sshd", "postfix", "windows", "exchange"] {
            assert!(err.0.contains(name), "{err}");
        }
    }
}
