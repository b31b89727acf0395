//! One member of a consumer group, reading one topic and committing only the
//! positions it is given.

use super::client::{blocking, ClientSettings, REQUEST_TIMEOUT};
use super::context::GroupContext;
use super::{kafka_error, Admin};
use crate::transport::{Consumer, Positions, Record, TransportError};
use async_trait::async_trait;
use futures_util::StreamExt;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::BorrowedMessage;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Message, Offset, TopicPartitionList};
use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

type GroupConsumer = StreamConsumer<GroupContext>;

/// [`Consumer`] over an rdkafka [`StreamConsumer`] subscribed to one topic.
pub(super) struct KafkaConsumer {
    /// Shared with the blocking-pool threads that commit and measure lag.
    consumer: Arc<GroupConsumer>,
    topic: Arc<str>,
    /// Asked for the watermarks (see [`lag`]).
    admin: Arc<Admin>,
    /// A failure met after records were read; reported by the next `poll`.
    deferred_error: Option<TransportError>,
}

impl KafkaConsumer {
    /// Joins `group` on `topic`. The group assigns partitions during the
    /// first [`Consumer::poll`] calls.
    pub(super) fn subscribe(
        settings: &ClientSettings,
        topic: &str,
        group: &str,
        admin: Arc<Admin>,
    ) -> Result<Self, TransportError> {
        let consumer: GroupConsumer = settings
            .consumer_config(group)
            .create_with_context(GroupContext::default())
            .map_err(|e| TransportError::Kafka(format!("invalid Kafka consumer settings: {e}")))?;
        consumer.subscribe(&[topic]).map_err(kafka_error)?;
        tracing::info!(topic, group, "joined Kafka consumer group");
        Ok(KafkaConsumer { consumer: Arc::new(consumer), topic: topic.into(), admin, deferred_error: None })
    }
}

#[async_trait]
impl Consumer for KafkaConsumer {
    async fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Record>, TransportError> {
        if let Some(error) = self.deferred_error.take() {
            return Err(error);
        }
        let mut batch = Vec::new();
        if max == 0 {
            return Ok(batch);
        }
        let mut failure = None;
        let mut stream = self.consumer.stream();
        // Waits for the first record, then takes whatever else is already
        // buffered, up to `max`, without waiting again.
        let fill = poll_fn(|cx| loop {
            match stream.poll_next_unpin(cx) {
                Poll::Ready(Some(message)) => match to_record(message) {
                    Ok(Some(record)) => {
                        batch.push(record);
                        if batch.len() >= max {
                            return Poll::Ready(());
                        }
                    }
                    Ok(None) => {}
                    Err(error) => {
                        failure = Some(error);
                        return Poll::Ready(());
                    }
                },
                Poll::Pending if batch.is_empty() => return Poll::Pending,
                Poll::Ready(None) | Poll::Pending => return Poll::Ready(()),
            }
        });
        // Running out of time with nothing read is not a failure.
        let _ = tokio::time::timeout(timeout, fill).await;
        match failure {
            // Records already taken from the client would be lost to this
            // member if the error came first: hand them over, report it next.
            Some(error) if !batch.is_empty() => {
                self.deferred_error = Some(error);
                Ok(batch)
            }
            Some(error) => Err(error),
            None => Ok(batch),
        }
    }

    async fn commit(&mut self, positions: &Positions) -> Result<(), TransportError> {
        let consumer = self.consumer.clone();
        let topic = self.topic.clone();
        let positions = positions.clone();
        blocking(move || commit_assigned(&consumer, &topic, &positions)).await
    }

    async fn lag(&mut self) -> Result<Option<u64>, TransportError> {
        if !self.consumer.context().is_assigned() {
            return Ok(None);
        }
        let consumer = self.consumer.clone();
        let admin = self.admin.clone();
        let topic = self.topic.clone();
        blocking(move || lag(&consumer, &admin, &topic).map(Some).map_err(kafka_error)).await
    }
}

/// Turns what the stream yielded into a record; `None` for events that are
/// not records and not failures.
fn to_record(message: KafkaResult<BorrowedMessage<'_>>) -> Result<Option<Record>, TransportError> {
    match message {
        Ok(m) => Ok(Some(Record {
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            payload: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        })),
        Err(KafkaError::PartitionEOF(partition)) => {
            tracing::trace!(partition, "reached the end of a Kafka partition");
            Ok(None)
        }
        // Transient: librdkafka keeps retrying (a broker restarting, a topic
        // not created yet).
        Err(KafkaError::MessageConsumption(code)) => {
            tracing::warn!(error = %code, "Kafka consumer error; retrying");
            Ok(None)
        }
        Err(e) => Err(kafka_error(e)),
    }
}

/// Commits `positions` for the partitions of `topic` this member still holds,
/// and waits for the coordinator's answer. Partitions lost to a rebalance,
/// and commits refused because a rebalance is under way, are logged and
/// skipped: their records will be delivered again to their new owner.
fn commit_assigned(consumer: &GroupConsumer, topic: &str, positions: &Positions) -> Result<(), TransportError> {
    let assignment = consumer.assignment().map_err(kafka_error)?;
    let mut offsets = TopicPartitionList::with_capacity(positions.len());
    for (&partition, &next) in positions {
        if assignment.find_partition(topic, partition).is_none() {
            tracing::info!(topic, partition, next, "not committing a partition no longer assigned to this member");
            continue;
        }
        offsets.add_partition_offset(topic, partition, Offset::Offset(next)).map_err(kafka_error)?;
    }
    if offsets.count() == 0 {
        return Ok(());
    }
    match consumer.commit(&offsets, CommitMode::Sync) {
        Ok(()) => Ok(()),
        Err(KafkaError::ConsumerCommit(
            code @ (RDKafkaErrorCode::RebalanceInProgress
            | RDKafkaErrorCode::IllegalGeneration
            | RDKafkaErrorCode::UnknownMemberId),
        )) => {
            tracing::warn!(topic, error = %code, "Kafka commit refused during a rebalance; those records will be re-delivered");
            Ok(())
        }
        Err(e) => Err(TransportError::Kafka(format!("cannot commit offsets on topic {topic}: {e}"))),
    }
}

/// Sum over the assigned partitions of `topic` of the records between this
/// member's position and the high watermark. A partition not read from yet
/// counts from its committed offset, or from its low watermark when the group
/// has none.
///
/// The watermarks come from `admin`: a Kafka broker answers one
/// connection's requests in order, so asking on the consumer's own
/// connections would wait behind its long-polling fetches.
fn lag(consumer: &GroupConsumer, admin: &Admin, topic: &str) -> KafkaResult<u64> {
    let positions = consumer.position()?;
    let mut unread = TopicPartitionList::new();
    for element in positions.elements_for_topic(topic) {
        if concrete(element.offset()).is_none() {
            unread.add_partition(topic, element.partition());
        }
    }
    let committed = if unread.count() > 0 { consumer.committed_offsets(unread, REQUEST_TIMEOUT)? } else { unread };
    let mut total = 0u64;
    for element in positions.elements_for_topic(topic) {
        let partition = element.partition();
        let (low, high) = admin.inner().fetch_watermarks(topic, partition, REQUEST_TIMEOUT)?;
        let start = concrete(element.offset())
            .or_else(|| committed.find_partition(topic, partition).and_then(|c| concrete(c.offset())))
            .unwrap_or(low)
            .max(low);
        total += u64::try_from(high - start).unwrap_or(0);
    }
    Ok(total)
}

/// The offset, when it names one (not "beginning", "stored", "invalid").
fn concrete(offset: Offset) -> Option<i64> {
    match offset {
        Offset::Offset(n) => Some(n),
        _ => None,
    }
}
