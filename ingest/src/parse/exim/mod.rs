//! Exim main log (`mainlog`), as documented in the Exim specification,
//! chapter "Log files": the lines of one message, correlated by Exim message
//! id, become one `email` event when Exim logs `Completed`.
//!
//! Lines start `2024-03-04 10:42:00` (`.123` with `+millisec`, a `+0100` zone
//! with `log_timezone`, `[pid]` with `+pid`). A time without a zone is taken
//! as UTC: set `timezone = UTC` in Exim, or `log_timezone = true`. Lines that
//! came through syslog (`Mar  4 10:42:00 host exim[123]: ...`, with or
//! without Exim's own timestamp) are read too, and give `host.name`.
//!
//! Message ids are `1rKxYz-0001Ab-Cd` (up to Exim 4.96) or
//! `1rKxYz-00000001Ab3-0Cd4` (4.97 on). A message's lines — arrival `<=`
//! (`(=` for a fake reject), deliveries `=>` `->` `>>` (delivered), `*>`
//! (suppressed by `-N`), `==` (deferred), `**` (failed; `expired` when the
//! retry time-out was reached), and any other line with its id — are
//! [`LineUse::Correlated`]; the event's `message` holds them all. From the
//! arrival: `email.from` (`<>` for a bounce), `source.ip` (`H=... [ip]`),
//! `user.name` (the id of `A=authenticator:id`, or `U=` for a local
//! submission), `email.size` (`S=`), `email.message_id` (`id=`),
//! `email.subject` (`T=`, with log_selector `+subject`), recipients (`for`,
//! with `+received_recipients`). From deliveries: `email.to` (the original
//! address), `email.relay` (`H=`), `event.reason` (`C="250 ..."` or the error
//! text). The worst recipient status sets the action, as for Postfix.
//!
//! Holding is bounded by [`Correlator`] with `mail_max_pending` and
//! `mail_hold_secs`. ACL rejections (`H=... F=<a> rejected RCPT <b>:
//! text`, `rejected MAIL`, `rejected after DATA`, `temporarily rejected`),
//! with or without a message id, are `rejected` events at once. Lines about
//! no message (`SMTP connection from`, `Start queue run`) are `other` events.
//!
//! The reject log (`rejectlog`) has the same lines, and after a rejection of
//! a message the spec's "Reject log" section has Exim write its header lines
//! (`Envelope-from: <a>`, `P Received: ...`, `T To: ...`, continuations
//! indented); each of those lines is an `other` event with the rejection's
//! time and message id, so a header's words stay searchable. A header-like
//! line not following a rejection has no timestamp and is an error.

mod line;
mod message;
mod record;

use super::correlate::Correlator;
use super::{set_origin, LineContext, LineUse, ParseError, Parser};
use chrono::{DateTime, Utc};
use line::EximLine;
use message::Message;
use record::{Record, Reject};
use vigil_core::config::IngestConfig;
use vigil_core::{Event, EventKind, Outcome};

/// Reads Exim main log lines, holding each message until `Completed`.
#[derive(Debug)]
pub struct EximParser {
    held: Correlator<Message>,
    /// Time and message id of the rejection just read, while the lines after
    /// it may be its header dump (reject log).
    last_reject: Option<(DateTime<Utc>, Option<String>)>,
}

impl EximParser {
    /// A parser with the hold limits of `ingest`.
    pub fn new(ingest: &IngestConfig) -> Self {
        EximParser { held: Correlator::new("exim", ingest), last_reject: None }
    }
}

/// A line of the header dump the reject log writes after a rejection:
/// `Envelope-from: <a>`, `Envelope-to: <b>`, a header with its spool flag
/// (`P Received: ...`, `I Message-Id: ...`, `T To: ...`), or an unflagged or
/// continued header line (starting with a space or tab).
fn is_header_dump(line: &str) -> bool {
    if line.starts_with(['\t', ' ']) || line.starts_with("Envelope-from: ") || line.starts_with("Envelope-to: ") {
        return !line.trim().is_empty();
    }
    let mut chars = line.chars();
    let flagged = chars.next().is_some_and(|c| c.is_ascii_uppercase() || c == '*') && chars.next() == Some(' ');
    let name = line.get(2..).and_then(|rest| rest.split_once(": ")).map(|(name, _)| name);
    flagged && name.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

impl Parser for EximParser {
    fn name(&self) -> &'static str {
        "exim"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        if let Some((time, id)) = self.last_reject.as_ref().filter(|_| is_header_dump(line)) {
            let mut e = Event::new(*time, EventKind::Email, "other", Outcome::Unknown, "exim", "exim", line);
            set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
            e.email_queue_id = id.clone();
            out.push(e);
            return Ok(LineUse::Event);
        }
        let l = line::split(line, ctx.now)?;
        let record = record::classify(l.body)?;
        self.last_reject = None;
        let (id, record) = match (l.id, record) {
            (_, Record::Reject(reject)) => {
                out.push(reject_event(&reject, &l, line, ctx));
                self.last_reject = Some((l.time, l.id.map(str::to_string)));
                return Ok(LineUse::Event);
            }
            (None, _) => {
                out.push(line_event("other", Outcome::Unknown, &l, line, ctx));
                return Ok(LineUse::Event);
            }
            (Some(id), record) => (id, record),
        };
        let fresh = !self.held.contains(id);
        let message = self
            .held
            .get_or_insert_with(id, ctx.offset, out, || Message::new(id, l.time, l.host, ctx.as_read(line), ctx));
        message.push_line(ctx.as_read(line));
        match record {
            Record::Arrival(a) => message.arrive(a),
            Record::Delivery(d) => message.deliver(d),
            Record::Completed => {
                out.extend(self.held.finish(id));
                return Ok(if fresh { LineUse::Event } else { LineUse::Correlated });
            }
            Record::Reject(_) | Record::Other => {}
        }
        Ok(LineUse::Correlated)
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

/// An event made from this line alone.
fn line_event(action: &'static str, outcome: Outcome, l: &EximLine<'_>, line: &str, ctx: &LineContext<'_>) -> Event {
    let mut e = Event::new(l.time, EventKind::Email, action, outcome, "exim", "exim", line);
    set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
    e.host_name = l.host.map(str::to_string);
    e.email_queue_id = l.id.map(str::to_string);
    e
}

/// The immediate event for an ACL rejection.
fn reject_event(r: &Reject<'_>, l: &EximLine<'_>, line: &str, ctx: &LineContext<'_>) -> Event {
    let mut e = line_event("rejected", Outcome::Failure, l, line, ctx);
    e.reason = Some(r.text.to_string());
    e.source_ip = r.client_ip.map(str::to_string);
    e.user_name = r.user.map(str::to_string);
    e.email_from = r.from.map(str::to_string);
    e.email_to = r.to.map(str::to_string).into_iter().collect();
    e
}

#[cfg(test)]
mod tests;
