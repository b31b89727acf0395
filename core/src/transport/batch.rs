//! Sending many records at once: a [`RecordBatch`] holds them serialised
//! back to back in one buffer, and a [`DeliveryGroup`] counts how many of
//! them are not yet durable, so a source tracks one counter per batch rather
//! than one future per record.

use super::{Topic, TransportError};
use crate::{DeadLetter, Event};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use tokio::sync::Notify;

/// Records waiting to be handed to a transport together, keys and payloads
/// written into one shared buffer.
#[derive(Debug, Default)]
pub struct RecordBatch {
    bytes: Vec<u8>,
    records: Vec<BatchedRecord>,
}

#[derive(Debug)]
struct BatchedRecord {
    topic: Topic,
    key: Range<usize>,
    payload: Range<usize>,
}

/// One record of a [`RecordBatch`].
#[derive(Debug, Clone, Copy)]
pub struct BatchRecord<'a> {
    /// Where it goes.
    pub topic: Topic,
    /// Its message key.
    pub key: &'a [u8],
    /// Its body.
    pub payload: &'a [u8],
}

impl RecordBatch {
    /// Adds a record for `topic` keyed by `key`, whose payload `write`
    /// appends to the buffer it is given.
    pub fn push_with(&mut self, topic: Topic, key: &[u8], write: impl FnOnce(&mut Vec<u8>)) {
        let key_start = self.bytes.len();
        self.bytes.extend_from_slice(key);
        let payload_start = self.bytes.len();
        write(&mut self.bytes);
        self.records.push(BatchedRecord {
            topic,
            key: key_start..payload_start,
            payload: payload_start..self.bytes.len(),
        });
    }

    /// Adds `event` for the events topic, keyed by tenant and user (see
    /// [`Event::partition_key`]).
    pub fn push_event(&mut self, event: &Event) {
        self.push_with(Topic::Events, event.partition_key().as_bytes(), |out| event.write_json(out));
    }

    /// Adds `dead` for the dead-letter topic, keyed by its source.
    pub fn push_dead_letter(&mut self, dead: &DeadLetter) {
        self.push_with(Topic::DeadLetter, dead.source.as_bytes(), |out| dead.write_json(out));
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes of keys and payloads held.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Removes every record, keeping the buffers for reuse.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.records.clear();
    }

    /// Every record, in the order they were pushed.
    pub fn records(&self) -> impl Iterator<Item = BatchRecord<'_>> + '_ {
        self.records.iter().map(|r| BatchRecord {
            topic: r.topic,
            key: &self.bytes[r.key.clone()],
            payload: &self.bytes[r.payload.clone()],
        })
    }
}

/// Counts the deliveries still outstanding among records sent together, and
/// keeps the first failure.
///
/// A transport calls [`DeliveryGroup::expect`] before it hands a record on
/// and [`DeliveryGroup::delivered`] once the record is durable or lost; the
/// group is settled when every expected delivery has been reported. A
/// failure is sticky: the sender must stop, and [`DeliveryGroup::settled`]
/// reports it.
#[derive(Debug, Default)]
pub struct DeliveryGroup {
    outstanding: AtomicUsize,
    failure: OnceLock<String>,
    changed: Notify,
}

impl DeliveryGroup {
    /// An empty (settled) group.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one more record whose delivery will be reported.
    pub fn expect(&self) {
        self.outstanding.fetch_add(1, Ordering::AcqRel);
    }

    /// Reports one expected delivery: `Ok` once durable, `Err` with why the
    /// record is lost (a sentence for the operator).
    pub fn delivered(&self, result: Result<(), String>) {
        if let Err(reason) = result {
            let _ = self.failure.set(reason);
            self.changed.notify_waiters();
        }
        if self.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.changed.notify_waiters();
        }
    }

    /// Whether every expected delivery has been reported.
    pub fn is_settled(&self) -> bool {
        self.outstanding.load(Ordering::Acquire) == 0
    }

    /// Whether every expected delivery has been reported and none failed:
    /// every record of the group is durable.
    pub fn is_durable(&self) -> bool {
        self.is_settled() && self.failure().is_none()
    }

    /// The first failed delivery's reason, if any.
    pub fn failure(&self) -> Option<&str> {
        self.failure.get().map(String::as_str)
    }

    /// Waits until every expected delivery has been reported, or one failed.
    pub async fn settled(&self) -> Result<(), TransportError> {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(reason) = self.failure() {
                return Err(TransportError::Kafka(reason.to_string()));
            }
            if self.is_settled() {
                return Ok(());
            }
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_batch_gives_back_its_records_in_order() {
        let mut batch = RecordBatch::default();
        batch.push_with(Topic::Events, b"k1", |out| out.extend_from_slice(b"{\"a\":1}"));
        batch.push_with(Topic::DeadLetter, b"", |out| out.extend_from_slice(b"dead"));
        let records: Vec<_> = batch.records().map(|r| (r.topic, r.key.to_vec(), r.payload.to_vec())).collect();
        assert_eq!(
            records,
            vec![
                (Topic::Events, b"k1".to_vec(), b"{\"a\":1}".to_vec()),
                (Topic::DeadLetter, Vec::new(), b"dead".to_vec())
            ]
        );
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.byte_len(), 2 + 7 + 4);
        batch.clear();
        assert!(batch.is_empty());
    }

    #[tokio::test]
    async fn a_group_settles_once_every_delivery_is_reported() {
        let group = Arc::new(DeliveryGroup::new());
        group.expect();
        group.expect();
        group.delivered(Ok(()));
        assert!(!group.is_settled());
        let waiter = tokio::spawn({
            let group = group.clone();
            async move { group.settled().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "one delivery is still outstanding");
        group.delivered(Ok(()));
        waiter.await.unwrap().unwrap();
        assert!(group.is_settled());
    }

    #[tokio::test]
    async fn a_failed_delivery_is_kept_and_reported() {
        let group = DeliveryGroup::new();
        group.expect();
        group.expect();
        group.delivered(Err("message timed out".into()));
        assert_eq!(group.failure(), Some("message timed out"));
        let error = group.settled().await.unwrap_err();
        assert!(error.to_string().contains("message timed out"), "{error}");
    }
}
