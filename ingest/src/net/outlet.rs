//! Where a syslog source's messages go: parsed by the sender's
//! [`LineProcessor`], sent through the producer, deliveries tracked.
//!
//! A network message has no file position to checkpoint, so nothing is
//! saved; the [`AckTracker`] serves to wait for every delivery at shutdown
//! and to notice a failed one. Offsets are numbered source-wide (bytes
//! received by this source since it started, over all senders), so no two
//! messages of one run share an offset and an id.

use super::NetError;
use crate::acks::AckTracker;
use crate::lines::RawLine;
use crate::pipeline::LineProcessor;
use crate::source::SourceSummary;
use chrono::Utc;
use prometheus::IntCounter;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vigil_core::shutdown::Shutdown;
use vigil_core::transport::{Producer, TransportError};
use vigil_core::{metrics, Event};

/// How long a stopping source waits for outstanding deliveries.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The sending side shared by every sender of one source.
pub(crate) struct Outlet {
    source: String,
    producer: Arc<dyn Producer>,
    acks: AckTracker,
    next_offset: AtomicU64,
    lines: AtomicU64,
    events: AtomicU64,
    dead_letters: AtomicU64,
    /// `vigil_lines_read_total` for frames dead-lettered without parsing.
    lines_read: IntCounter,
}

impl Outlet {
    pub(crate) fn new(source: &str, producer: Arc<dyn Producer>) -> Self {
        Outlet {
            source: source.to_string(),
            producer,
            acks: AckTracker::new(0),
            next_offset: AtomicU64::new(0),
            lines: AtomicU64::new(0),
            events: AtomicU64::new(0),
            dead_letters: AtomicU64::new(0),
            lines_read: metrics::LINES_READ.with_label_values(&[source]),
        }
    }

    fn transport_error(&self, source: TransportError) -> NetError {
        NetError::Transport { source_name: self.source.clone(), source }
    }

    /// Whether a delivery has failed; senders stop reading then.
    pub(crate) fn failed(&self) -> bool {
        self.acks.failed()
    }

    /// Gives `line` (whose offsets count from its sender's first byte) a
    /// place in the source-wide numbering.
    fn place(&self, line: &mut RawLine) {
        let len = (line.end_offset - line.offset).max(1);
        line.offset = self.next_offset.fetch_add(len, Ordering::Relaxed);
        line.end_offset = line.offset + len;
    }

    /// Parses one message and sends what it made. Empty messages (blank
    /// lines some senders use as keep-alives) carry nothing and are skipped.
    pub(crate) async fn message(
        &self,
        processor: &mut LineProcessor,
        mut line: RawLine,
        events: &mut Vec<Event>,
    ) -> Result<(), NetError> {
        if line.bytes.is_empty() && line.overlong.is_none() {
            return Ok(());
        }
        self.place(&mut line);
        self.lines.fetch_add(1, Ordering::Relaxed);
        if let Err(reason) = processor.process(&line, Utc::now(), events) {
            self.dead_letter(processor, &line, reason).await?;
        }
        self.send(events, line.end_offset).await
    }

    /// Dead-letters a frame the sender did not finish, counting it as read.
    pub(crate) async fn cut(
        &self,
        processor: &mut LineProcessor,
        mut line: RawLine,
        reason: String,
    ) -> Result<(), NetError> {
        self.place(&mut line);
        self.lines.fetch_add(1, Ordering::Relaxed);
        self.lines_read.inc();
        self.dead_letter(processor, &line, reason).await
    }

    /// Sends the events `processor` has held past their hold time.
    pub(crate) async fn flush_expired(
        &self,
        processor: &mut LineProcessor,
        events: &mut Vec<Event>,
    ) -> Result<(), NetError> {
        processor.flush_expired(Utc::now(), events);
        self.send(events, self.next_offset.load(Ordering::Relaxed)).await
    }

    /// Sends every event `processor` holds (its sender is gone).
    pub(crate) async fn flush_all(
        &self,
        processor: &mut LineProcessor,
        events: &mut Vec<Event>,
    ) -> Result<(), NetError> {
        processor.flush_all(events);
        self.send(events, self.next_offset.load(Ordering::Relaxed)).await
    }

    async fn dead_letter(&self, processor: &mut LineProcessor, line: &RawLine, reason: String) -> Result<(), NetError> {
        let dead = processor.dead_letter(line, reason);
        self.acks
            .send_dead_letter(&*self.producer, &dead, line.end_offset)
            .await
            .map_err(|e| self.transport_error(e))?;
        self.dead_letters.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn send(&self, events: &mut Vec<Event>, end_offset: u64) -> Result<(), NetError> {
        for event in events.drain(..) {
            self.acks.send_event(&*self.producer, &event, end_offset).await.map_err(|e| self.transport_error(e))?;
            self.events.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Waits for every delivery (at most a grace period once shutdown says
    /// stop) and returns what the source did.
    pub(crate) async fn finish(self, shutdown: &Shutdown) -> Result<SourceSummary, NetError> {
        let summary = SourceSummary {
            lines: self.lines.into_inner(),
            events: self.events.into_inner(),
            dead_letters: self.dead_letters.into_inner(),
        };
        let source_name = self.source;
        self.acks
            .finish(shutdown.clone(), STOP_GRACE)
            .await
            .map_err(|source| NetError::Transport { source_name, source })?;
        Ok(summary)
    }
}
