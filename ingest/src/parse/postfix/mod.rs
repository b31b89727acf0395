//! Postfix `mail.log`: the lines of one message, correlated by queue id,
//! become one `email` event when qmgr logs `removed`.
//!
//! Held messages are bounded by [`Correlator`]: at most
//! `mail_max_pending` are held (the oldest is emitted early with what is
//! known), and [`Parser::flush_expired`] emits those whose first line is
//! older than `mail_hold_secs`. A message whose lines continue after it was emitted
//! (a deferred mail retried later) yields a further event for the later lines.
//!
//! `NOQUEUE: reject:` lines (and smtpd rejections of a queued message's
//! recipient) become `rejected` events at once: smtpd's `RCPT from
//! host[ip]: 554 ...; from=<a> to=<b> proto=P helo=<h>` (each envelope part
//! optional, as in a `VRFY` rejection with only `to=`), postscreen's `RCPT
//! from [ip]:port: 550 ...; from=<a>, to=<b>, proto=P, helo=<h>` (its
//! POSTSCREEN_README logs the client with its port and commas between the
//! envelope fields) and a before-queue filter's `proxy-reject:
//! END-OF-MESSAGE: 554 ...` (SMTPD_PROXY_README; no client named). cleanup's
//! `reject:`/`milter-reject:` of a queued message (a milter's
//! `END-OF-MESSAGE from host[ip]: text; from=<a> ...`, a header or body
//! check's `header Subject: X from host[ip]; from=<a> ... helo=<h>: text`)
//! and smtpd's `QID: proxy-reject:` finish the message as `rejected`, with
//! the reply text as `event.reason` and the client and envelope they name.
//! Other `NOQUEUE:` actions (`discard:`, `filter:`, `reject_warning:`, a
//! warning only) and lines about no message (`connect from`, `warning:`,
//! other programs in the same file) become `email` events with action
//! `other`. pickup's `uid=N from=<a>` gives the sender of a local
//! submission, and old `local` lines writing `to=x` without brackets are
//! read as deliveries.

mod mail;
mod record;

use super::correlate::Correlator;
use super::{syslog, LineContext, LineUse, ParseError, Parser};
use chrono::{DateTime, Utc};
use mail::Mail;
use record::{Record, Reject};
use vigil_core::config::IngestConfig;
use vigil_core::{Event, EventKind, Outcome};

/// Reads Postfix lines, holding each message until it is complete.
#[derive(Debug)]
pub struct PostfixParser {
    held: Correlator<Mail>,
}

impl PostfixParser {
    /// A parser with the hold limits of `ingest`.
    pub fn new(ingest: &IngestConfig) -> Self {
        PostfixParser { held: Correlator::new("postfix", ingest) }
    }
}

impl Parser for PostfixParser {
    fn name(&self) -> &'static str {
        "postfix"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let sys = syslog::parse(line, ctx.now).map_err(|e| ParseError(e.to_string()))?;
        let other = |out: &mut Vec<Event>| {
            out.push(super::other_syslog_event(EventKind::Email, &sys, "postfix", line, ctx));
            Ok(LineUse::Event)
        };
        if !is_postfix(sys.program) {
            return other(out);
        }
        let component = sys.program.rsplit('/').next().unwrap_or(sys.program);
        if let Some(rest) = sys.message.strip_prefix("NOQUEUE: ") {
            let Some(reject) = record::noqueue(rest)? else { return other(out) };
            out.push(reject_event(&reject, None, &sys, line, ctx));
            return Ok(LineUse::Event);
        }
        let Some((queue_id, rest)) = split_queue_id(sys.message) else {
            return other(out);
        };
        let record = record::classify(component, rest)?;
        let line_use = match &record {
            Record::SmtpReject(reject) => {
                out.push(reject_event(reject, Some(queue_id), &sys, line, ctx));
                LineUse::Event
            }
            _ => LineUse::Correlated,
        };
        let finished = matches!(record, Record::Removed | Record::ContentReject { .. });
        let mail = self.held.get_or_insert_with(queue_id, ctx.offset, out, || {
            Mail::new(queue_id, sys.timestamp, sys.host, ctx.as_read(line), ctx)
        });
        mail.apply(record, ctx.as_read(line));
        if finished {
            out.extend(self.held.finish(queue_id));
        }
        Ok(line_use)
    }

    fn flush_expired(&mut self, now: DateTime<Utc>, out: &mut Vec<Event>) {
        self.held.flush_expired(now, out);
    }

    fn flush_all(&mut self, out: &mut Vec<Event>) {
        self.held.flush_all(out);
    }

    fn oldest_held_offset(&self) -> Option<u64> {
        self.held.oldest_offset()
    }
}

/// `postfix/smtpd`, `postfix/submission/smtpd`, `postfix-out/qmgr`.
/// `email.from` for a logged `from=<SENDER>`: the null sender of bounces
/// and notifications (`from=<>`) is `<>`, as Exim and Exchange write it.
fn sender(from: &str) -> String {
    if from.is_empty() { "<>" } else { from }.to_string()
}

fn is_postfix(program: &str) -> bool {
    program.starts_with("postfix") && program.contains('/')
}

/// Splits `QID: rest`. Queue ids are short (upper-case hex) or long
/// (letters and digits without vowels, e.g. `4RzL9c1XyZz6w`), which keeps
/// `warning:`, `statistics:` and `NOQUEUE:` from passing as ids.
fn split_queue_id(message: &str) -> Option<(&str, &str)> {
    let (id, rest) = message.split_once(": ")?;
    let short = id.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
    let long = id.bytes().all(|b| b.is_ascii_alphanumeric() && !b"AEIOUaeiou".contains(&b));
    ((6..=20).contains(&id.len()) && (short || long)).then_some((id, rest))
}

/// The immediate event for an SMTP-stage rejection.
fn reject_event(
    r: &Reject<'_>,
    queue_id: Option<&str>,
    sys: &syslog::SyslogLine<'_>,
    line: &str,
    ctx: &LineContext<'_>,
) -> Event {
    let mut e = Event::new(sys.timestamp, EventKind::Email, "rejected", Outcome::Failure, "postfix", "postfix", line);
    super::set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
    e.reason = Some(r.text.to_string());
    e.source_ip = r.client_ip.map(str::to_string);
    e.email_from = r.from.map(sender);
    e.email_to = r.to.map(str::to_string).into_iter().collect();
    e.email_queue_id = queue_id.map(str::to_string);
    e.host_name = sys.host.map(str::to_string);
    e
}

#[cfg(test)]
mod tests;
