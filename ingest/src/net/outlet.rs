//! Where a syslog source's messages go: parsed by the sender's
//! [`LineProcessor`], sent through the producer, deliveries counted.
//!
//! A network message has no file position to checkpoint, so nothing is
//! saved; one [`DeliveryGroup`] for the whole source serves to wait for
//! every delivery at shutdown and to notice a failed one. Offsets are numbered source-wide (bytes
//! received by this source since it started, over all senders), so no two
//! messages of one run share an offset and an id.

use super::NetError;
use crate::lines::RawLine;
use crate::pipeline::LineProcessor;
use crate::source::SourceSummary;
use chrono::Utc;
use prometheus::IntCounter;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vigil_core::shutdown::Shutdown;
use vigil_core::transport::{DeliveryGroup, Producer, RecordBatch, TransportError};
use vigil_core::{metrics, Event};

/// How long a stopping source waits for outstanding deliveries.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The sending side shared by every sender of one source.
pub(crate) struct Outlet {
    source: String,
    producer: Arc<dyn Producer>,
    /// Every record this source has sent.
    deliveries: Arc<DeliveryGroup>,
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
            deliveries: Arc::new(DeliveryGroup::new()),
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
        self.deliveries.failure().is_some()
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
        let mut batch = RecordBatch::default();
        if let Err(reason) = processor.process(&line, Utc::now(), events) {
            self.dead_letter(&mut batch, processor, &line, reason);
        }
        self.send(batch, events).await
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
        let mut batch = RecordBatch::default();
        self.dead_letter(&mut batch, processor, &line, reason);
        self.send(batch, &mut Vec::new()).await
    }

    /// Sends the events `processor` has held past their hold time.
    pub(crate) async fn flush_expired(
        &self,
        processor: &mut LineProcessor,
        events: &mut Vec<Event>,
    ) -> Result<(), NetError> {
        processor.flush_expired(Utc::now(), events);
        self.send(RecordBatch::default(), events).await
    }

    /// Sends every event `processor` holds (its sender is gone).
    pub(crate) async fn flush_all(
        &self,
        processor: &mut LineProcessor,
        events: &mut Vec<Event>,
    ) -> Result<(), NetError> {
        processor.flush_all(events);
        self.send(RecordBatch::default(), events).await
    }

    fn dead_letter(&self, batch: &mut RecordBatch, processor: &mut LineProcessor, line: &RawLine, reason: String) {
        batch.push_dead_letter(&processor.dead_letter(line, reason));
        self.dead_letters.fetch_add(1, Ordering::Relaxed);
    }

    /// Sends `batch` and then `events`, counting their deliveries.
    async fn send(&self, mut batch: RecordBatch, events: &mut Vec<Event>) -> Result<(), NetError> {
        for event in events.drain(..) {
            batch.push_event(&event);
            self.events.fetch_add(1, Ordering::Relaxed);
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.producer.send_batch(&batch, &self.deliveries).await.map_err(|e| self.transport_error(e))
    }

    /// Waits for every delivery (at most a grace period once shutdown says
    /// stop) and returns what the source did.
    pub(crate) async fn finish(self, shutdown: &Shutdown) -> Result<SourceSummary, NetError> {
        let summary = SourceSummary {
            lines: self.lines.into_inner(),
            events: self.events.into_inner(),
            dead_letters: self.dead_letters.into_inner(),
        };
        match shutdown.clone().within_grace(STOP_GRACE, self.deliveries.settled()).await {
            Some(Err(source)) => Err(NetError::Transport { source_name: self.source, source }),
            Some(Ok(())) | None => Ok(summary),
        }
    }
}
