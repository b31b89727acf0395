//! The bounded set of messages being correlated, oldest first.

use super::mail::Mail;
use crate::parse::LineContext;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use vigil_core::Event;

/// Messages by queue id, plus their order of first appearance so the oldest
/// can be found (for eviction and for the checkpoint offset) without a scan.
#[derive(Debug)]
pub struct Held {
    max_pending: usize,
    mails: HashMap<String, (Mail, u64)>,
    /// First-line offset and arrival number → queue id.
    order: BTreeMap<(u64, u64), String>,
    arrivals: u64,
}

impl Held {
    /// An empty set holding at most `max_pending` messages (at least one).
    pub fn new(max_pending: usize) -> Self {
        Held { max_pending: max_pending.max(1), mails: HashMap::new(), order: BTreeMap::new(), arrivals: 0 }
    }

    /// The message `queue_id`, started from this line if new. Making room
    /// for it may emit the oldest message onto `out`.
    pub fn get_or_insert(
        &mut self,
        queue_id: &str,
        time: DateTime<Utc>,
        host: &str,
        line: &str,
        ctx: &LineContext<'_>,
        out: &mut Vec<Event>,
    ) -> &mut Mail {
        let arrival = self.arrivals;
        if !self.mails.contains_key(queue_id) {
            while self.mails.len() >= self.max_pending {
                let Some((_, oldest)) = self.order.pop_first() else { break };
                if let Some((mail, _)) = self.mails.remove(&oldest) {
                    tracing::debug!(queue_id = %oldest, "postfix: too many messages held; emitting the oldest early");
                    out.push(mail.into_event());
                }
            }
            self.arrivals += 1;
            self.order.insert((ctx.offset, arrival), queue_id.to_string());
        }
        let (mail, _) = self
            .mails
            .entry(queue_id.to_string())
            .or_insert_with(|| (Mail::new(queue_id, time, host, line, ctx), arrival));
        mail
    }

    /// The finished event for `queue_id`, if held.
    pub fn remove(&mut self, queue_id: &str) -> Option<Event> {
        let (mail, arrival) = self.mails.remove(queue_id)?;
        self.order.remove(&(mail.offset, arrival));
        Some(mail.into_event())
    }

    /// Emits, oldest first, every message whose first line was logged before
    /// `cutoff`.
    pub fn flush_older_than(&mut self, cutoff: DateTime<Utc>, out: &mut Vec<Event>) {
        let expired: Vec<String> = self
            .order
            .values()
            .filter(|id| self.mails.get(*id).is_some_and(|(m, _)| m.first_time < cutoff))
            .cloned()
            .collect();
        out.extend(expired.iter().filter_map(|id| self.remove(id)));
    }

    /// Emits every message, oldest first.
    pub fn flush_all(&mut self, out: &mut Vec<Event>) {
        let order = std::mem::take(&mut self.order);
        out.extend(order.into_values().filter_map(|id| self.mails.remove(&id)).map(|(mail, _)| mail.into_event()));
    }

    /// First-line offset of the oldest message held.
    pub fn oldest_offset(&self) -> Option<u64> {
        self.order.first_key_value().map(|((offset, _), _)| *offset)
    }
}
