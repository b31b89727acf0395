//! The idempotent producer shared by a process's components.

use super::client::{blocking, ClientSettings, REQUEST_TIMEOUT};
use super::context::{BrokerHealth, ProducerContext};
use super::{kafka_error, TopicNames};
use crate::transport::{BatchRecord, Delivery, DeliveryGroup, Producer, RecordBatch, Topic, TransportError};
use async_trait::async_trait;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, Producer as _, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::Timeout;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// First wait before retrying a record the full local queue refused.
const QUEUE_FULL_BACKOFF_MIN: Duration = Duration::from_millis(1);
/// Longest wait between retries while the local queue stays full.
const QUEUE_FULL_BACKOFF_MAX: Duration = Duration::from_millis(50);
/// How long one metadata request of the start-up check may take; the check
/// repeats it until [`REQUEST_TIMEOUT`] has passed.
const PROBE_ATTEMPT: Duration = Duration::from_secs(1);

/// The rdkafka producer: its own thread serves delivery reports, each
/// counted in the [`DeliveryGroup`] its record was sent with.
type Client = ThreadedProducer<ProducerContext>;

/// [`Producer`] over an rdkafka [`ThreadedProducer`]: records are copied into
/// librdkafka's queue and their deliveries counted per [`DeliveryGroup`], so
/// a batch costs no future, task or allocation per record.
pub(super) struct KafkaProducer {
    producer: Arc<Client>,
    topics: TopicNames,
}

impl KafkaProducer {
    /// Creates the producer and checks that the brokers answer.
    pub(super) async fn connect(settings: &ClientSettings, topics: TopicNames) -> Result<Self, TransportError> {
        let context = ProducerContext::default();
        let health = context.health();
        let producer: Client = settings
            .producer_config()
            .create_with_context(context)
            .map_err(|e| TransportError::Kafka(format!("invalid Kafka client settings: {e}")))?;
        let producer = Arc::new(producer);
        check_reachable(&producer, settings.brokers(), &health).await?;
        Ok(KafkaProducer { producer, topics })
    }

    /// Queues `record`, its delivery counted in `group`. Waits while
    /// librdkafka's local queue is full.
    async fn queue(&self, record: BatchRecord<'_>, group: &Arc<DeliveryGroup>) -> Result<(), TransportError> {
        let topic = self.topics.name(record.topic);
        let mut backoff = QUEUE_FULL_BACKOFF_MIN;
        group.expect();
        loop {
            let queued = BaseRecord::with_opaque_to(topic, group.clone()).key(record.key).payload(record.payload);
            let error = match self.producer.send(queued) {
                Ok(()) => return Ok(()),
                Err((error, _record)) => error,
            };
            if !matches!(error, KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)) {
                let reason = format!("cannot queue a record for topic {topic}: {error}");
                group.delivered(Err(reason.clone()));
                return Err(TransportError::Kafka(reason));
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(QUEUE_FULL_BACKOFF_MAX);
        }
    }
}

/// Repeats a metadata request until one is answered, every broker is known
/// to be down, or [`REQUEST_TIMEOUT`] has passed.
async fn check_reachable(
    producer: &Arc<Client>,
    brokers: &str,
    health: &Mutex<BrokerHealth>,
) -> Result<(), TransportError> {
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    loop {
        let client = producer.clone();
        let attempt = blocking(move || Ok(client.client().fetch_metadata(None, PROBE_ATTEMPT).map(drop))).await?;
        let Err(error) = attempt else { return Ok(()) };
        let health = health.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if health.all_down || Instant::now() >= deadline {
            let reason = health.last_error.unwrap_or_else(|| {
                format!("no broker answered a metadata request within {REQUEST_TIMEOUT:?} ({error})")
            });
            return Err(TransportError::Unreachable { brokers: brokers.to_string(), reason });
        }
    }
}

#[async_trait]
impl Producer for KafkaProducer {
    async fn send(&self, topic: Topic, key: &[u8], payload: Vec<u8>) -> Result<Delivery, TransportError> {
        let group = Arc::new(DeliveryGroup::new());
        self.queue(BatchRecord { topic, key, payload: &payload }, &group).await?;
        Ok(Box::pin(async move { group.settled().await }))
    }

    async fn send_batch(&self, batch: &RecordBatch, group: &Arc<DeliveryGroup>) -> Result<(), TransportError> {
        for record in batch.records() {
            self.queue(record, group).await?;
        }
        Ok(())
    }

    async fn flush(&self, timeout: Duration) -> Result<(), TransportError> {
        let producer = self.producer.clone();
        blocking(move || {
            producer.flush(Timeout::After(timeout)).map_err(|e| match e {
                KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut) => TransportError::Timeout(timeout),
                e => kafka_error(e),
            })
        })
        .await
    }
}
