//! The seam between components: a producer that hands records to a topic and
//! a consumer group that reads them back, with offsets committed by us.
//!
//! Two implementations: [`embedded`] (bounded in-process log, for one school
//! on one machine) and `kafka` (rdkafka, behind the `kafka` feature).
//!
//! Positions follow Kafka's convention: a committed position is the offset of
//! the *next* record to read, per partition.

mod batch;
pub mod embedded;
#[cfg(feature = "kafka")]
pub mod kafka;

pub use batch::{BatchRecord, DeliveryGroup, RecordBatch};

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// The topics Vigil uses; their names on a broker are the configured prefix
/// plus [`Topic::suffix`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Normalised events (`vigil.events`).
    Events,
    /// Raised alerts (`vigil.alerts`).
    Alerts,
    /// Lines no parser accepted (`vigil.deadletter`).
    DeadLetter,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 3] = [Topic::Events, Topic::Alerts, Topic::DeadLetter];

    /// The name after the prefix.
    pub fn suffix(self) -> &'static str {
        match self {
            Topic::Events => "events",
            Topic::Alerts => "alerts",
            Topic::DeadLetter => "deadletter",
        }
    }
}

/// One record read from a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Partition it was read from.
    pub partition: i32,
    /// Its offset within the partition.
    pub offset: i64,
    /// The message key, if any.
    pub key: Option<Vec<u8>>,
    /// The message body.
    pub payload: Vec<u8>,
}

/// Next offset to read, per partition.
pub type Positions = BTreeMap<i32, i64>;

/// Advances `positions` past `record`.
pub fn advance(positions: &mut Positions, record: &Record) {
    let next = record.offset + 1;
    let entry = positions.entry(record.partition).or_insert(next);
    if *entry < next {
        *entry = next;
    }
}

/// Resolves when a sent record is durable (see [`Producer::send`]).
pub type Delivery = Pin<Box<dyn Future<Output = Result<(), TransportError>> + Send>>;

/// Why the transport failed.
#[derive(Debug, Error)]
pub enum TransportError {
    /// The broker (or its client library) reported an error.
    #[error("Kafka error: {0}")]
    Kafka(String),
    /// The brokers could not be reached in time.
    #[error("cannot reach the Kafka brokers at {brokers}: {reason}")]
    Unreachable {
        /// The configured bootstrap list.
        brokers: String,
        /// What the client said.
        reason: String,
    },
    /// Writing the embedded transport's dead-letter file failed.
    #[error("cannot write the dead-letter file {path}: {source}")]
    DeadLetterFile {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The transport was shut down while the operation waited.
    #[error("the transport was closed")]
    Closed,
    /// The operation did not finish in time.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
}

/// The sending side. Cheap to share: one per process, behind an `Arc`.
#[async_trait]
pub trait Producer: Send + Sync {
    /// Hands one record to `topic`. Waits while the transport's buffer is full
    /// (backpressure). The returned [`Delivery`] resolves once the record is
    /// durable: for Kafka, acknowledged by the brokers (`acks=all`); for the
    /// embedded transport, committed by every consumer group of the topic.
    /// Only then may a source checkpoint past the line it came from.
    async fn send(&self, topic: Topic, key: &[u8], payload: Vec<u8>) -> Result<Delivery, TransportError>;

    /// Hands every record of `batch` on, in order, waiting while the
    /// transport's buffer is full, and reports each one's delivery to
    /// `group` (counted with [`DeliveryGroup::expect`] before it is handed
    /// on). On `Err` the records after the failing one were not sent.
    ///
    /// The default sends each record with [`Producer::send`] and awaits the
    /// deliveries on one task per batch; a transport built for volume
    /// reports deliveries to the group directly.
    async fn send_batch(&self, batch: &RecordBatch, group: &Arc<DeliveryGroup>) -> Result<(), TransportError> {
        let mut deliveries = Vec::with_capacity(batch.len());
        let mut sent = Ok(());
        for record in batch.records() {
            match self.send(record.topic, record.key, record.payload.to_vec()).await {
                Ok(delivery) => {
                    group.expect();
                    deliveries.push(delivery);
                }
                Err(e) => {
                    sent = Err(e);
                    break;
                }
            }
        }
        let group = group.clone();
        tokio::spawn(async move {
            for delivery in deliveries {
                group.delivered(delivery.await.map_err(|e| e.to_string()));
            }
        });
        sent
    }

    /// Waits until every record sent so far has left the local buffer
    /// (delivered or failed), at most `timeout`.
    async fn flush(&self, timeout: Duration) -> Result<(), TransportError>;
}

/// One member of a consumer group reading one topic.
#[async_trait]
pub trait Consumer: Send {
    /// Waits at most `timeout` for records and returns up to `max` of them, in
    /// offset order within each partition. Empty when none arrived in time.
    async fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Record>, TransportError>;

    /// Records that everything before `positions` is processed. A restarted
    /// member of the group resumes from the last committed positions.
    async fn commit(&mut self, positions: &Positions) -> Result<(), TransportError>;

    /// Records produced but not yet returned by `poll`, over the partitions
    /// this member holds. `Ok(None)` while no partitions are assigned yet.
    async fn lag(&mut self) -> Result<Option<u64>, TransportError>;
}

/// A way of moving records between components.
#[async_trait]
pub trait Transport: Send + Sync {
    /// The producer shared by this process's components.
    fn producer(&self) -> Arc<dyn Producer>;

    /// Joins consumer group `group` on `topic`, resuming from its committed
    /// positions (or the start of the topic for a new group).
    async fn consumer(&self, topic: Topic, group: &str) -> Result<Box<dyn Consumer>, TransportError>;
}

/// The consumer group of the indexer.
pub const INDEXER_GROUP: &str = "vigil-indexer";
/// The consumer group of the alerter.
pub const ALERTER_GROUP: &str = "vigil-alerter";
