//! Bounded holding of multi-line records: the lines of one mail message
//! (Postfix queue id, Exim message id) are gathered into one record, and the
//! record becomes one event when its last line arrives.
//!
//! A log may never write a record's last line (the reader started mid-way,
//! the server crashed, a message sits in the queue for days), so holding is
//! bounded twice: at most `max_pending` records are held (the oldest is
//! emitted early with what is known), and [`Correlator::flush_expired`]
//! emits records whose first line is older than the hold time. Either limit
//! comes from `[ingest]` (`mail_max_pending`, `mail_hold_secs`, used by
//! every correlating parser).
//!
//! [`Origin`] and [`Evidence`] are the parts every record needs: where its
//! first line came from (for the event id and checkpointing) and its lines.

use super::LineContext;
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, HashMap};
use vigil_core::config::IngestConfig;
use vigil_core::{Event, Label};

/// At most this many bytes of a record's lines are kept as evidence; a mail
/// to thousands of recipients logs thousands of lines.
const MAX_EVIDENCE_BYTES: usize = 64 * 1024;

/// A record being correlated.
pub trait Pending {
    /// Log time of the record's first line; the hold time counts from it.
    fn first_time(&self) -> DateTime<Utc>;

    /// The event for the record, complete or not.
    fn into_event(self) -> Event;
}

/// Records by key (queue id, message id), plus their order of first
/// appearance so the oldest is found without a scan (for eviction and for
/// the checkpoint offset).
#[derive(Debug)]
pub struct Correlator<R> {
    /// Names the format in debug logs.
    format: &'static str,
    max_pending: usize,
    hold: Duration,
    records: HashMap<String, (R, OrderKey)>,
    order: BTreeMap<OrderKey, String>,
    arrivals: u64,
}

/// First-line offset, then arrival number (offsets may repeat in tests and
/// after a file is truncated).
type OrderKey = (u64, u64);

impl<R: Pending> Correlator<R> {
    /// An empty set for `format` with the hold limits of `ingest`: at most
    /// `mail_max_pending` records (at least one), each held at most
    /// `mail_hold_secs` of log time.
    pub fn new(format: &'static str, ingest: &IngestConfig) -> Self {
        let hold_secs = i64::try_from(ingest.mail_hold_secs).unwrap_or(i64::MAX);
        Correlator {
            format,
            max_pending: ingest.mail_max_pending.max(1),
            hold: Duration::try_seconds(hold_secs).unwrap_or(Duration::MAX),
            records: HashMap::new(),
            order: BTreeMap::new(),
            arrivals: 0,
        }
    }

    /// The record `key`, made by `start` if it is not held (its first line at
    /// byte `offset`). Making room for a new record may emit the oldest onto
    /// `out`.
    pub fn get_or_insert_with(
        &mut self,
        key: &str,
        offset: u64,
        out: &mut Vec<Event>,
        start: impl FnOnce() -> R,
    ) -> &mut R {
        if !self.records.contains_key(key) {
            while self.records.len() >= self.max_pending {
                let Some((_, oldest)) = self.order.pop_first() else { break };
                if let Some((record, _)) = self.records.remove(&oldest) {
                    tracing::debug!(format = self.format, key = %oldest, "too many records held; emitting the oldest early");
                    out.push(record.into_event());
                }
            }
        }
        let (arrivals, order) = (&mut self.arrivals, &mut self.order);
        let (record, _) = self.records.entry(key.to_string()).or_insert_with(|| {
            let order_key = (offset, *arrivals);
            *arrivals += 1;
            order.insert(order_key, key.to_string());
            (start(), order_key)
        });
        record
    }

    /// Whether `key` is held.
    pub fn contains(&self, key: &str) -> bool {
        self.records.contains_key(key)
    }

    /// The finished event for `key`, if held.
    pub fn finish(&mut self, key: &str) -> Option<Event> {
        let (record, order_key) = self.records.remove(key)?;
        self.order.remove(&order_key);
        Some(record.into_event())
    }

    /// Emits, oldest first, every record whose first line was logged more
    /// than the hold time before `now`.
    pub fn flush_expired(&mut self, now: DateTime<Utc>, out: &mut Vec<Event>) {
        // A hold longer than chrono's range of time expires nothing.
        let Some(cutoff) = now.checked_sub_signed(self.hold) else { return };
        let expired: Vec<String> = self
            .order
            .values()
            .filter(|key| self.records.get(*key).is_some_and(|(r, _)| r.first_time() < cutoff))
            .cloned()
            .collect();
        out.extend(expired.iter().filter_map(|key| self.finish(key)));
    }

    /// Emits every record, oldest first.
    pub fn flush_all(&mut self, out: &mut Vec<Event>) {
        let order = std::mem::take(&mut self.order);
        out.extend(order.into_values().filter_map(|key| self.records.remove(&key)).map(|(r, _)| r.into_event()));
    }

    /// First-line offset of the oldest record held.
    pub fn oldest_offset(&self) -> Option<u64> {
        self.order.first_key_value().map(|((offset, _), _)| *offset)
    }
}

/// Where a record's first line came from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Log time of the first line.
    pub time: DateTime<Utc>,
    /// Byte offset of the first line.
    pub offset: u64,
    id: String,
    tenant: Label,
    source: Label,
}

impl Origin {
    /// The origin of a record whose first line is `line`, logged at `time`.
    pub fn new(time: DateTime<Utc>, line: &str, ctx: &LineContext<'_>) -> Self {
        Origin {
            time,
            offset: ctx.offset,
            id: Event::derive_id(ctx.tenant, ctx.source, ctx.offset, line.as_bytes()),
            tenant: ctx.tenant.clone(),
            source: ctx.source.clone(),
        }
    }

    /// Sets the event's id, tenant, source and offset from the first line.
    pub fn stamp(self, event: &mut Event) {
        event.id = self.id;
        event.tenant = self.tenant;
        event.log_source = Some(self.source);
        event.log_offset = Some(self.offset);
    }
}

/// A record's lines joined with `\n`, up to [`MAX_EVIDENCE_BYTES`]; lines
/// past the limit are counted in a final `[N more lines not kept]` line.
#[derive(Debug, Default)]
pub struct Evidence {
    text: String,
    omitted: usize,
}

impl Evidence {
    /// Adds a line.
    pub fn push(&mut self, line: &str) {
        if self.omitted > 0 || self.text.len() + line.len() + 1 > MAX_EVIDENCE_BYTES {
            self.omitted += 1;
            return;
        }
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(line);
    }

    /// The lines kept, and the count of those not kept.
    pub fn into_text(mut self) -> String {
        if self.omitted > 0 {
            self.text.push_str(&format!("\n[{} more lines not kept]", self.omitted));
        }
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use vigil_core::{EventKind, Outcome};

    /// A record that becomes an event named after its key.
    struct Rec {
        key: String,
        time: DateTime<Utc>,
        lines: Evidence,
    }

    impl Pending for Rec {
        fn first_time(&self) -> DateTime<Utc> {
            self.time
        }
        fn into_event(self) -> Event {
            let mut e =
                Event::new(self.time, EventKind::Email, "queued", Outcome::Unknown, "t", "t", self.lines.into_text());
            e.email_queue_id = Some(self.key);
            e
        }
    }

    fn at(min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 4, 10, min, 0).unwrap()
    }

    fn correlator(max_pending: usize) -> Correlator<Rec> {
        let ingest = IngestConfig { mail_max_pending: max_pending, mail_hold_secs: 300, ..Default::default() };
        Correlator::new("test", &ingest)
    }

    fn add(c: &mut Correlator<Rec>, key: &str, min: u32, offset: u64, out: &mut Vec<Event>) {
        let rec = c.get_or_insert_with(key, offset, out, || Rec {
            key: key.to_string(),
            time: at(min),
            lines: Evidence::default(),
        });
        rec.lines.push(&format!("{key} at {offset}"));
    }

    fn keys(events: &[Event]) -> Vec<&str> {
        events.iter().filter_map(|e| e.email_queue_id.as_deref()).collect()
    }

    #[test]
    fn records_gather_lines_until_finished() {
        let mut c = correlator(10);
        let mut out = Vec::new();
        add(&mut c, "a", 0, 0, &mut out);
        add(&mut c, "b", 0, 10, &mut out);
        add(&mut c, "a", 0, 20, &mut out);
        assert!(out.is_empty());
        assert!(c.contains("a"));
        assert_eq!(c.oldest_offset(), Some(0));
        let a = c.finish("a").unwrap();
        assert_eq!(a.message, "a at 0\na at 20");
        assert!(!c.contains("a"));
        assert!(c.finish("a").is_none());
        assert_eq!(c.oldest_offset(), Some(10));
    }

    #[test]
    fn the_oldest_is_emitted_when_full() {
        let mut c = correlator(2);
        let mut out = Vec::new();
        add(&mut c, "a", 0, 0, &mut out);
        add(&mut c, "b", 0, 10, &mut out);
        add(&mut c, "b", 0, 15, &mut out);
        assert!(out.is_empty(), "a held record's further lines make no room");
        add(&mut c, "c", 0, 20, &mut out);
        assert_eq!(keys(&out), ["a"]);
        assert_eq!(c.oldest_offset(), Some(10));
    }

    #[test]
    fn flush_expired_emits_only_records_older_than_the_hold() {
        let mut c = correlator(10);
        let mut out = Vec::new();
        add(&mut c, "old", 0, 0, &mut out);
        add(&mut c, "new", 4, 10, &mut out);
        c.flush_expired(at(5), &mut out);
        assert!(out.is_empty(), "exactly the hold time is not past it");
        c.flush_expired(at(6), &mut out);
        assert_eq!(keys(&out), ["old"]);
        out.clear();
        c.flush_all(&mut out);
        assert_eq!(keys(&out), ["new"]);
        assert_eq!(c.oldest_offset(), None);
    }

    #[test]
    fn zero_max_pending_still_holds_one() {
        let mut c = correlator(0);
        let mut out = Vec::new();
        add(&mut c, "a", 0, 0, &mut out);
        assert!(out.is_empty());
        add(&mut c, "b", 0, 1, &mut out);
        assert_eq!(keys(&out), ["a"]);
    }

    #[test]
    fn evidence_is_bounded() {
        let mut evidence = Evidence::default();
        let line = "x".repeat(1000);
        for _ in 0..100 {
            evidence.push(&line);
        }
        let text = evidence.into_text();
        assert!(text.len() <= MAX_EVIDENCE_BYTES + 40);
        assert!(text.ends_with("\n[35 more lines not kept]"), "{}", &text[text.len() - 40..]);
    }
}
