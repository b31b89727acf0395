//! One message being correlated: what its lines have said so far.

use super::record::{Record, Status};
use crate::parse::correlate::{Evidence, Origin, Pending};
use crate::parse::LineContext;
use chrono::{DateTime, Utc};
use std::cmp::Reverse;
use vigil_core::{Event, EventKind, Outcome};

/// The state of one queued message.
#[derive(Debug)]
pub struct Mail {
    origin: Origin,
    host: Option<String>,
    queue_id: String,
    evidence: Evidence,
    client_ip: Option<String>,
    sasl_user: Option<String>,
    message_id: Option<String>,
    subject: Option<String>,
    from: Option<String>,
    size: Option<u64>,
    recipients: Vec<Recipient>,
    /// Recipients named only by a rejection (no delivery was attempted).
    refused_to: Vec<String>,
    /// Set when the mail expired in the queue or its content was rejected.
    terminal: Option<(Terminal, String)>,
}

#[derive(Debug, Clone, Copy)]
enum Terminal {
    Expired,
    Rejected,
}

#[derive(Debug)]
struct Recipient {
    address: String,
    status: Status,
    text: String,
    relay: Option<String>,
}

impl Mail {
    /// A mail first seen on `line`, logged by `host` (if named) at `time`.
    pub fn new(queue_id: &str, time: DateTime<Utc>, host: Option<&str>, line: &str, ctx: &LineContext<'_>) -> Self {
        Mail {
            origin: Origin::new(time, line, ctx),
            host: host.map(str::to_string),
            queue_id: queue_id.to_string(),
            evidence: Evidence::default(),
            client_ip: None,
            sasl_user: None,
            message_id: None,
            subject: None,
            from: None,
            size: None,
            recipients: Vec::new(),
            refused_to: Vec::new(),
            terminal: None,
        }
    }

    /// Records what `line` (classified as `record`) says.
    pub fn apply(&mut self, record: Record<'_>, line: &str) {
        self.evidence.push(line);
        match record {
            Record::Client { ip, sasl_user } => {
                self.client_ip = Some(ip.to_string());
                self.sasl_user = sasl_user.map(str::to_string);
            }
            Record::MessageId(id) => self.message_id = Some(id.to_string()),
            Record::Subject(subject) => self.subject = Some(subject.to_string()),
            Record::ContentReject { reject, subject } => {
                if let Some(subject) = subject {
                    self.subject = Some(subject.to_string());
                }
                if self.client_ip.is_none() {
                    self.client_ip = reject.client_ip.map(str::to_string);
                }
                if self.from.is_none() {
                    self.from = reject.from.map(str::to_string);
                }
                if let Some(to) = reject.to.filter(|to| !self.refused_to.iter().any(|r| r == to)) {
                    self.refused_to.push(to.to_string());
                }
                self.terminal = Some((Terminal::Rejected, reject.text.to_string()));
            }
            Record::From { from, size } => {
                self.from = Some(from.to_string());
                self.size = size.or(self.size);
            }
            Record::Expired { from, text } => {
                self.from = Some(from.to_string());
                self.terminal = Some((Terminal::Expired, text.to_string()));
            }
            Record::Delivery { to, relay, status, text } => self.deliver(to, relay, status, text),
            Record::SmtpReject(_) | Record::Removed | Record::Other => {}
        }
    }

    /// A recipient's latest status replaces its earlier one (a deferred
    /// recipient later sent).
    fn deliver(&mut self, to: &str, relay: Option<&str>, status: Status, text: &str) {
        let recipient =
            Recipient { address: to.to_string(), status, text: text.to_string(), relay: relay.map(str::to_string) };
        match self.recipients.iter_mut().find(|r| r.address == to) {
            Some(existing) => *existing = recipient,
            None => self.recipients.push(recipient),
        }
    }

    /// Action, outcome, reason and relay: a rejection or expiry decides;
    /// otherwise the first recipient with the worst status (bounced over
    /// deferred over sent); with no status logged the mail is `queued`, outcome unknown.
    fn verdict(&self) -> (&'static str, Outcome, Option<String>, Option<String>) {
        if let Some((terminal, text)) = &self.terminal {
            let action = match terminal {
                Terminal::Expired => "expired",
                Terminal::Rejected => "rejected",
            };
            return (action, Outcome::Failure, Some(text.clone()), None);
        }
        let Some(worst) = self.recipients.iter().min_by_key(|r| Reverse(r.status)) else {
            return ("queued", Outcome::Unknown, None, None);
        };
        let (action, outcome) = match worst.status {
            Status::Sent => ("delivered", Outcome::Success),
            Status::Deferred => ("deferred", Outcome::Unknown),
            Status::Bounced => ("bounced", Outcome::Failure),
        };
        (action, outcome, Some(worst.text.clone()), worst.relay.clone())
    }
}

impl Pending for Mail {
    fn first_time(&self) -> DateTime<Utc> {
        self.origin.time
    }

    fn into_event(self) -> Event {
        let (action, outcome, reason, relay) = self.verdict();
        let mut e = Event::new(
            self.origin.time,
            EventKind::Email,
            action,
            outcome,
            "postfix",
            "postfix",
            self.evidence.into_text(),
        );
        self.origin.stamp(&mut e);
        e.reason = reason;
        e.email_relay = relay;
        e.host_name = self.host;
        e.source_ip = self.client_ip;
        e.user_name = self.sasl_user;
        e.email_from = self.from.as_deref().map(super::sender);
        e.email_to = self.recipients.into_iter().map(|r| r.address).collect();
        for to in self.refused_to {
            if !e.email_to.contains(&to) {
                e.email_to.push(to);
            }
        }
        e.email_subject = self.subject;
        e.email_message_id = self.message_id;
        e.email_queue_id = Some(self.queue_id);
        e.email_size = self.size;
        e
    }
}
