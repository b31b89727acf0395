//! One Exim message being correlated: what its lines have said so far.

use super::record::{Arrival, Delivery, Status};
use crate::parse::correlate::{Evidence, Origin, Pending};
use crate::parse::LineContext;
use chrono::{DateTime, Utc};
use std::cmp::Reverse;
use vigil_core::{Event, EventKind, Outcome};

/// The state of one message.
#[derive(Debug)]
pub struct Message {
    origin: Origin,
    host: Option<String>,
    exim_id: String,
    evidence: Evidence,
    client_ip: Option<String>,
    user: Option<String>,
    message_id: Option<String>,
    subject: Option<String>,
    from: Option<String>,
    size: Option<u64>,
    recipients: Vec<Recipient>,
}

#[derive(Debug)]
struct Recipient {
    address: String,
    /// `None` until a delivery attempt is logged.
    status: Option<Status>,
    text: Option<String>,
    relay: Option<String>,
}

impl Message {
    /// A message first seen on `line`, logged at `time` (by syslog `host`).
    pub fn new(exim_id: &str, time: DateTime<Utc>, host: Option<&str>, line: &str, ctx: &LineContext<'_>) -> Self {
        Message {
            origin: Origin::new(time, line, ctx),
            host: host.map(str::to_string),
            exim_id: exim_id.to_string(),
            evidence: Evidence::default(),
            client_ip: None,
            user: None,
            message_id: None,
            subject: None,
            from: None,
            size: None,
            recipients: Vec::new(),
        }
    }

    /// Keeps `line` as evidence.
    pub fn push_line(&mut self, line: &str) {
        self.evidence.push(line);
    }

    /// Records an arrival (`<=`) line.
    pub fn arrive(&mut self, a: Arrival<'_>) {
        self.from = Some(a.sender.to_string());
        self.client_ip = a.client_ip.map(str::to_string);
        self.user = a.user.map(str::to_string);
        self.size = a.size;
        self.message_id = a.message_id.map(|id| id.trim_start_matches('<').trim_end_matches('>').to_string());
        self.subject = a.subject.map(|s| s.into_owned());
        for address in a.recipients {
            if !self.recipients.iter().any(|r| r.address == address) {
                let address = address.to_string();
                self.recipients.push(Recipient { address, status: None, text: None, relay: None });
            }
        }
    }

    /// Records a delivery line; a recipient's latest status replaces its
    /// earlier one (a deferred recipient later delivered).
    pub fn deliver(&mut self, d: Delivery<'_>) {
        if self.from.is_none() {
            self.from = d.sender.map(str::to_string);
        }
        let recipient = Recipient {
            address: d.address.to_string(),
            status: d.status,
            text: d.text.map(|t| t.into_owned()),
            relay: d.relay.map(|r| r.into_owned()),
        };
        match self.recipients.iter_mut().find(|r| r.address == d.address) {
            Some(existing) => *existing = recipient,
            None => self.recipients.push(recipient),
        }
    }

    /// Action, outcome, reason and relay: those of the first recipient with
    /// the worst status (bounced, expired, deferred, delivered); with no
    /// delivery logged the message is `queued`, outcome unknown.
    fn verdict(&self) -> (&'static str, Outcome, Option<String>, Option<String>) {
        let worst = self.recipients.iter().filter(|r| r.status.is_some()).min_by_key(|r| Reverse(r.status));
        let Some(worst) = worst else {
            return ("queued", Outcome::Unknown, None, None);
        };
        let (action, outcome) = match worst.status {
            Some(Status::Delivered) => ("delivered", Outcome::Success),
            Some(Status::Deferred) => ("deferred", Outcome::Unknown),
            Some(Status::Expired) => ("expired", Outcome::Failure),
            Some(Status::Bounced) => ("bounced", Outcome::Failure),
            None => ("queued", Outcome::Unknown),
        };
        (action, outcome, worst.text.clone(), worst.relay.clone())
    }
}

impl Pending for Message {
    fn first_time(&self) -> DateTime<Utc> {
        self.origin.time
    }

    fn into_event(self) -> Event {
        let (action, outcome, reason, relay) = self.verdict();
        let mut e =
            Event::new(self.origin.time, EventKind::Email, action, outcome, "exim", "exim", self.evidence.into_text());
        self.origin.stamp(&mut e);
        e.reason = reason;
        e.email_relay = relay;
        e.host_name = self.host;
        e.source_ip = self.client_ip;
        e.user_name = self.user;
        e.email_from = self.from;
        e.email_to = self.recipients.into_iter().map(|r| r.address).collect();
        e.email_subject = self.subject;
        e.email_message_id = self.message_id;
        e.email_queue_id = Some(self.exim_id);
        e.email_size = self.size;
        e
    }
}
