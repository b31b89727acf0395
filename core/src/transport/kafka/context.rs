//! librdkafka callbacks: client errors and rebalances become `tracing`
//! events, and the state the transport needs from them is kept.

use crate::transport::DeliveryGroup;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryResult, ProducerContext as DeliveryReports};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, TopicPartitionList};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Context of the admin client: logging only.
pub(super) struct LogContext;

impl ClientContext for LogContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        forward_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        log_client_error(&error, reason);
    }
}

/// What the client has said about the brokers, as seen by the producer while
/// it connects.
#[derive(Debug, Default, Clone)]
pub(super) struct BrokerHealth {
    /// The latest client error, for example a refused connection.
    pub(super) last_error: Option<String>,
    /// Whether every known broker is down.
    pub(super) all_down: bool,
}

/// Context of the producer: logs client errors and records them in a
/// [`BrokerHealth`] shared with whoever holds [`ProducerContext::health`];
/// reports each record's delivery to the [`DeliveryGroup`] it was sent with.
#[derive(Default)]
pub(super) struct ProducerContext {
    health: Arc<Mutex<BrokerHealth>>,
}

impl ProducerContext {
    /// A handle on the recorded broker health.
    pub(super) fn health(&self) -> Arc<Mutex<BrokerHealth>> {
        self.health.clone()
    }
}

impl ClientContext for ProducerContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        forward_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        log_client_error(&error, reason);
        let mut health = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            health.all_down = true;
        } else {
            health.last_error = Some(reason.to_string());
        }
    }
}

impl DeliveryReports for ProducerContext {
    type DeliveryOpaque = Arc<DeliveryGroup>;

    fn delivery(&self, result: &DeliveryResult<'_>, group: Arc<DeliveryGroup>) {
        let result = result.as_ref().map(drop);
        group.delivered(
            result.map_err(|(error, _message)| format!("the brokers did not acknowledge a record: {error}")),
        );
    }
}

/// Context of a consumer-group member: logs rebalances and tracks whether
/// the group has given this member an assignment yet.
#[derive(Default)]
pub(super) struct GroupContext {
    assigned: AtomicBool,
}

impl GroupContext {
    /// Whether the member currently holds an assignment (possibly empty, when
    /// the group has more members than partitions).
    pub(super) fn is_assigned(&self) -> bool {
        self.assigned.load(Ordering::Acquire)
    }
}

impl ClientContext for GroupContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        forward_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        log_client_error(&error, reason);
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(partitions) => {
                self.assigned.store(false, Ordering::Release);
                tracing::info!(partitions = %describe(partitions), "Kafka partitions revoked by a rebalance");
            }
            Rebalance::Assign(_) => {}
            Rebalance::Error(e) => tracing::warn!(error = %e, "Kafka rebalance failed"),
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(partitions) = rebalance {
            self.assigned.store(true, Ordering::Release);
            tracing::info!(partitions = %describe(partitions), "Kafka partitions assigned");
        }
    }
}

/// Passes a librdkafka log line to `tracing`. The `[kafka] options` go to
/// every client, so librdkafka's complaint that a consumer property is
/// ignored by the producer (and the reverse) is expected and only logged at
/// debug level.
fn forward_log(level: RDKafkaLogLevel, facility: &str, message: &str) {
    let other_role = facility == "CONFWARN" && message.contains("will be ignored by this");
    match level {
        _ if other_role => tracing::debug!(target: "librdkafka", facility, "{message}"),
        RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
            tracing::error!(target: "librdkafka", facility, "{message}")
        }
        RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", facility, "{message}"),
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => tracing::info!(target: "librdkafka", facility, "{message}"),
        RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, "{message}"),
    }
}

/// librdkafka reports transient problems (a broker restarting, a refused
/// connection) as errors and recovers from them itself, so they are
/// warnings; fatal ones stop the client and are errors.
fn log_client_error(error: &KafkaError, reason: &str) {
    if error.rdkafka_error_code() == Some(RDKafkaErrorCode::Fatal) {
        tracing::error!(%error, reason, "fatal Kafka client error");
    } else {
        tracing::warn!(%error, reason, "Kafka client error");
    }
}

/// `topic[partition, ...]` for a log line.
fn describe(partitions: &TopicPartitionList) -> String {
    let list: Vec<String> = partitions.elements().iter().map(|e| format!("{}[{}]", e.topic(), e.partition())).collect();
    list.join(", ")
}
