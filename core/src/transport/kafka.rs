//! The Kafka transport (rdkafka): the production transport and the way to
//! scale out across machines.
//!
//! # Delivery guarantees
//!
//! Vigil is **at-least-once** end to end over Kafka:
//!
//! - The producer is idempotent (`enable.idempotence=true`, `acks=all`): the
//!   client retries a batch until every in-sync replica has it, and the
//!   brokers drop the duplicates that retries would otherwise write, so a
//!   broker failure neither loses nor doubles a record. A
//!   [`Delivery`](super::Delivery) resolves only after that acknowledgement
//!   (or with the error once the client gives up, after
//!   `message.timeout.ms`); a source checkpoints a line only then. Records
//!   still queued when the producer is dropped are discarded, so call
//!   [`Producer::flush`] before exiting.
//! - Consumers never commit on their own (`enable.auto.commit=false`,
//!   `enable.auto.offset.store=false`). The component calls
//!   [`Consumer::commit`] with the positions it has *processed* (indexed,
//!   matched), so a crash re-delivers at most the records after the last
//!   commit. The indexer also stores its positions in the index commit, which
//!   removes those duplicates from the index.
//! - A new group starts at the beginning of the topic (`auto.offset.reset=earliest`).
//!
//! These settings are applied after the `[kafka] options` passthrough, so the
//! options cannot weaken them.
//!
//! # Rebalances
//!
//! Members of a group share the partitions (librdkafka's default eager
//! protocol: on a rebalance every member gives up all its partitions and
//! receives a new set). Rebalance callbacks run inside [`Consumer::poll`], so
//! the assignment never changes between a `poll` and the `commit` that
//! follows it on the same task. After a rebalance a partition resumes from its
//! last committed position, so records returned by `poll` but not committed
//! before the partition moved are delivered again (to whichever member holds
//! it now). A commit for a partition this member no longer holds is skipped
//! and logged rather than sent: it could move the new owner's position
//! backwards, and is not an error. A commit the group coordinator rejects
//! because a rebalance is under way is likewise logged and skipped.
//!
//! # Topics
//!
//! Topic names are `topic_prefix` + [`Topic::suffix`]. Call
//! [`KafkaTransport::ensure_topics`] at start-up to create missing ones.

mod client;
mod consumer;
mod context;
mod producer;

use super::{Consumer, Producer, Topic, Transport, TransportError};
use crate::config::KafkaConfig;
use async_trait::async_trait;
use client::{blocking, ClientSettings, REQUEST_TIMEOUT};
use consumer::KafkaConsumer;
use context::LogContext;
use producer::KafkaProducer;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::types::RDKafkaErrorCode;
use std::collections::HashSet;
use std::sync::Arc;

/// Transport over a Kafka cluster: one shared idempotent producer, and a
/// consumer per component. Cheap to share behind an `Arc`.
pub struct KafkaTransport {
    settings: ClientSettings,
    topics: TopicNames,
    producer: Arc<KafkaProducer>,
    /// Answers metadata and watermark queries on connections of its own,
    /// which never wait behind a consumer's long-polling fetch.
    admin: Arc<Admin>,
}

/// The client for topic creation, metadata and watermark queries.
type Admin = AdminClient<LogContext>;

/// The broker-side name of each [`Topic`], computed once.
#[derive(Debug, Clone)]
struct TopicNames {
    events: String,
    alerts: String,
    dead_letter: String,
}

impl TopicNames {
    fn new(prefix: &str) -> Self {
        let name = |topic: Topic| format!("{prefix}{}", topic.suffix());
        TopicNames { events: name(Topic::Events), alerts: name(Topic::Alerts), dead_letter: name(Topic::DeadLetter) }
    }

    fn name(&self, topic: Topic) -> &str {
        match topic {
            Topic::Events => &self.events,
            Topic::Alerts => &self.alerts,
            Topic::DeadLetter => &self.dead_letter,
        }
    }
}

impl KafkaTransport {
    /// Connects to the brokers in `config` and checks that they answer a
    /// metadata request.
    ///
    /// Fails with [`TransportError::Unreachable`] when no broker answers
    /// within about ten seconds, or as soon as every broker has refused the
    /// connection; with [`TransportError::Kafka`] when the settings are
    /// invalid (an unknown `options` key, or `sasl_password_env` naming an
    /// unset environment variable).
    pub async fn connect(config: &KafkaConfig) -> Result<KafkaTransport, TransportError> {
        let settings = ClientSettings::from_config(config)?;
        let topics = TopicNames::new(&config.topic_prefix);
        let producer = KafkaProducer::connect(&settings, topics.clone()).await?;
        let admin = settings.admin_config().create_with_context(LogContext).map_err(kafka_error)?;
        tracing::info!(brokers = %settings.brokers(), "connected to Kafka");
        Ok(KafkaTransport { settings, topics, producer: Arc::new(producer), admin: Arc::new(admin) })
    }

    /// The broker-side name of `topic` (`topic_prefix` + suffix).
    pub fn topic_name(&self, topic: Topic) -> &str {
        self.topics.name(topic)
    }

    /// Creates every Vigil topic that does not exist yet, with `partitions`
    /// partitions and `replication` replicas each; existing topics are left
    /// as they are.
    ///
    /// Only missing topics are requested, so this needs no admin rights (and
    /// no CreateTopics support, which librdkafka's mock cluster lacks) when
    /// the topics were provisioned beforehand.
    pub async fn ensure_topics(&self, partitions: i32, replication: i32) -> Result<(), TransportError> {
        let existing = {
            let admin = self.admin.clone();
            blocking(move || {
                let metadata = admin.inner().fetch_metadata(None, REQUEST_TIMEOUT).map_err(kafka_error)?;
                Ok(metadata.topics().iter().map(|t| t.name().to_string()).collect::<HashSet<_>>())
            })
            .await?
        };
        let missing: Vec<NewTopic<'_>> = Topic::ALL
            .iter()
            .map(|&t| self.topics.name(t))
            .filter(|name| !existing.contains(*name))
            .map(|name| NewTopic::new(name, partitions, TopicReplication::Fixed(replication)))
            .collect();
        if missing.is_empty() {
            tracing::debug!("every Vigil topic exists");
            return Ok(());
        }
        let options =
            AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT)).request_timeout(Some(REQUEST_TIMEOUT));
        let results = self
            .admin
            .create_topics(&missing, &options)
            .await
            .map_err(|e| TransportError::Kafka(format!("cannot create the Vigil topics: {e}")))?;
        for result in results {
            match result {
                Ok(name) => tracing::info!(topic = %name, partitions, replication, "created Kafka topic"),
                // Another process created it meanwhile.
                Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                    tracing::debug!(topic = %name, "Kafka topic exists")
                }
                Err((name, code)) => {
                    return Err(TransportError::Kafka(format!("cannot create the topic {name}: {code}")));
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Transport for KafkaTransport {
    fn producer(&self) -> Arc<dyn Producer> {
        self.producer.clone()
    }

    async fn consumer(&self, topic: Topic, group: &str) -> Result<Box<dyn Consumer>, TransportError> {
        let consumer = KafkaConsumer::subscribe(&self.settings, self.topics.name(topic), group, self.admin.clone())?;
        Ok(Box::new(consumer))
    }
}

/// Wraps an rdkafka error.
fn kafka_error(e: rdkafka::error::KafkaError) -> TransportError {
    TransportError::Kafka(e.to_string())
}
