//! `--format auto`: detect the format from the lines themselves.
//!
//! Until it has decided, every line goes to every candidate format (each
//! keeps its own state, so Postfix correlation works from the first line),
//! and only lines that no candidate accepts are errors. The first candidate
//! that proves the format wins: it made a notable event from the line (any
//! action but `other`) or took the line into a multi-line record — as does
//! a candidate that is the only one to accept a line. Syslog lines are
//! accepted by both syslog formats, so those are told apart by their first
//! notable event; until then a line is kept as the first accepting
//! candidate's `other` event. Once decided, lines go to the chosen parser
//! alone, and a line it rejects is an error, never re-read as another format.

use super::{LineContext, LineUse, ParseError, Parser, PostfixParser, SquidParser, SshdParser};
use chrono::{DateTime, Utc};
use vigil_core::config::IngestConfig;
use vigil_core::Event;

/// A parser that locks onto the first format the input proves to be.
pub struct AutoParser {
    candidates: Vec<Box<dyn Parser>>,
    locked: Option<Box<dyn Parser>>,
}

impl AutoParser {
    /// Undecided, trying Squid, sshd and Postfix in that order.
    pub fn new(ingest: &IngestConfig) -> Self {
        AutoParser {
            candidates: vec![Box::new(SquidParser), Box::new(SshdParser), Box::new(PostfixParser::new(ingest))],
            locked: None,
        }
    }

    /// Locks onto candidate `index`.
    fn lock(&mut self, index: usize, why: &str) {
        let chosen = self.candidates.swap_remove(index);
        self.candidates.clear();
        tracing::info!(format = chosen.name(), reason = why, "log format detected");
        self.locked = Some(chosen);
    }

    /// Runs `flush` on each candidate in turn; the first to emit anything is
    /// chosen (its held messages prove the format), and its events kept.
    fn flush_undecided(&mut self, out: &mut Vec<Event>, mut flush: impl FnMut(&mut dyn Parser, &mut Vec<Event>)) {
        for i in 0..self.candidates.len() {
            let mut events = Vec::new();
            flush(self.candidates[i].as_mut(), &mut events);
            if !events.is_empty() {
                self.lock(i, "it held messages when flushed");
                out.append(&mut events);
                return;
            }
        }
    }
}

impl Parser for AutoParser {
    fn name(&self) -> &'static str {
        self.locked.as_ref().map_or("auto", |p| p.name())
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        if let Some(parser) = &mut self.locked {
            return parser.parse(line, ctx, out);
        }
        let mut accepted = Vec::new();
        let mut errors = Vec::new();
        for (i, candidate) in self.candidates.iter_mut().enumerate() {
            let mut events = Vec::new();
            match candidate.parse(line, ctx, &mut events) {
                Ok(line_use) => {
                    let notable = line_use == LineUse::Correlated || events.iter().any(|e| e.action != "other");
                    if notable {
                        let why = format!("line {} is a {} record", ctx.line_no, candidate.name());
                        self.lock(i, &why);
                        out.append(&mut events);
                        return Ok(line_use);
                    }
                    accepted.push((i, line_use, events));
                }
                Err(e) => errors.push(format!("{}: {e}", candidate.name())),
            }
        }
        let only_one = accepted.len() == 1;
        let Some((first, line_use, mut events)) = accepted.into_iter().next() else {
            return Err(ParseError(format!("no known format accepts this line ({})", errors.join("; "))));
        };
        if only_one {
            self.lock(first, &format!("only this format accepted line {}", ctx.line_no));
        }
        out.append(&mut events);
        Ok(line_use)
    }

    fn flush_expired(&mut self, now: DateTime<Utc>, out: &mut Vec<Event>) {
        match &mut self.locked {
            Some(parser) => parser.flush_expired(now, out),
            None => self.flush_undecided(out, |p, events| p.flush_expired(now, events)),
        }
    }

    fn flush_all(&mut self, out: &mut Vec<Event>) {
        match &mut self.locked {
            Some(parser) => parser.flush_all(out),
            None => self.flush_undecided(out, |p, events| p.flush_all(events)),
        }
    }

    fn oldest_held_offset(&self) -> Option<u64> {
        match &self.locked {
            Some(parser) => parser.oldest_held_offset(),
            None => self.candidates.iter().filter_map(|p| p.oldest_held_offset()).min(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::parse_lines;

    const SQUID: &str =
        "1709548920.123 145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - HIER_DIRECT/1.2.3.4 text/html";
    const SSHD: &str = "Mar  4 10:42:00 gate sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2";
    const CRON: &str = "Mar  4 10:41:00 gate CRON[9]: pam_unix(cron:session): session opened for user root";

    fn auto() -> AutoParser {
        AutoParser::new(&IngestConfig::default())
    }

    #[test]
    fn squid_lines_lock_squid() {
        let mut p = auto();
        let events = parse_lines(&mut p, &[SQUID]).unwrap();
        assert_eq!((p.name(), events.len(), events[0].log_format.as_str()), ("squid", 1, "squid"));
        // A syslog line is not silently read as another format once locked.
        assert!(parse_lines(&mut p, &[SSHD]).is_err());
    }

    #[test]
    fn syslog_lines_wait_for_a_notable_event_to_decide() {
        let mut p = auto();
        let kept = parse_lines(&mut p, &[CRON]).unwrap();
        assert_eq!((kept.len(), kept[0].action.as_str()), (1, "other"));
        assert_eq!(p.name(), "auto");
        let events = parse_lines(&mut p, &[SSHD]).unwrap();
        assert_eq!((p.name(), events[0].action.as_str()), ("sshd", "login-failed"));
        assert!(parse_lines(&mut p, &[SQUID]).is_err());
    }

    #[test]
    fn postfix_is_chosen_by_its_first_message_line_with_nothing_lost() {
        let mut p = auto();
        let connect =
            parse_lines(&mut p, &["Mar  4 10:00:00 mx postfix/smtpd[1]: connect from mail.example.com[203.0.113.5]"])
                .unwrap();
        assert_eq!((connect.len(), p.name()), (1, "auto"));
        let lines = [
            "Mar  4 10:00:01 mx postfix/smtpd[1]: 3F2A1B4C5D: client=mail.example.com[203.0.113.5]",
            "Mar  4 10:00:02 mx postfix/qmgr[2]: 3F2A1B4C5D: from=<a@example.com>, size=10, nrcpt=1 (queue active)",
            "Mar  4 10:00:03 mx postfix/local[3]: 3F2A1B4C5D: to=<b@school.example>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)",
        ];
        assert_eq!(parse_lines(&mut p, &lines).unwrap(), vec![]);
        assert_eq!(p.name(), "postfix");
        assert_eq!(p.oldest_held_offset(), Some(0));
        let events = parse_lines(&mut p, &["Mar  4 10:00:04 mx postfix/qmgr[2]: 3F2A1B4C5D: removed"]).unwrap();
        assert_eq!(events[0].source_ip.as_deref(), Some("203.0.113.5"));
        assert_eq!(events[0].action, "delivered");
    }

    #[test]
    fn lines_no_format_accepts_are_errors_naming_each_format() {
        let err = parse_lines(&mut auto(), &["<html><body>hello</body></html>"]).unwrap_err();
        for name in ["squid", "sshd", "postfix"] {
            assert!(err.0.contains(name), "{err}");
        }
    }
}
