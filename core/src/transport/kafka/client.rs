//! librdkafka client settings for each role (producer, consumer, admin),
//! built from `[kafka]`, and the bridge for librdkafka's blocking calls.

use crate::config::KafkaConfig;
use crate::transport::TransportError;
use rdkafka::ClientConfig;
use std::time::Duration;

/// How long a single request to the brokers (metadata, commit, watermarks,
/// topic creation) may take.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Producer tuning, applied before the `options` passthrough so an operator
/// can change it.
const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    // Let records gather into batches for a few milliseconds.
    ("linger.ms", "5"),
    ("batch.num.messages", "10000"),
    // librdkafka's built-in LZ4 needs no system library.
    ("compression.type", "lz4"),
    // Bound the local queue (records and memory); `send` waits when full.
    ("queue.buffering.max.messages", "100000"),
    ("queue.buffering.max.kbytes", "65536"),
];

/// Producer settings the delivery guarantees rest on; applied last.
const PRODUCER_GUARANTEES: &[(&str, &str)] = &[("enable.idempotence", "true"), ("acks", "all")];

/// Consumer settings the delivery guarantees rest on; applied last.
const CONSUMER_GUARANTEES: &[(&str, &str)] =
    &[("enable.auto.commit", "false"), ("enable.auto.offset.store", "false"), ("auto.offset.reset", "earliest")];

/// The connection settings shared by every client, and how to specialise
/// them per role.
#[derive(Clone)]
pub(super) struct ClientSettings {
    brokers: String,
    /// Connection and security settings.
    connection: ClientConfig,
    /// The `[kafka] options` passthrough.
    options: Vec<(String, String)>,
}

impl ClientSettings {
    /// Reads the connection settings, taking the SASL password from the
    /// environment variable named by `sasl_password_env`.
    pub(super) fn from_config(config: &KafkaConfig) -> Result<Self, TransportError> {
        let mut connection = ClientConfig::new();
        connection.set("bootstrap.servers", &config.brokers);
        let optional = [
            ("security.protocol", &config.security_protocol),
            ("sasl.mechanism", &config.sasl_mechanism),
            ("sasl.username", &config.sasl_username),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                connection.set(key, value);
            }
        }
        if let Some(var) = &config.sasl_password_env {
            let password = std::env::var(var).map_err(|_| {
                TransportError::Kafka(format!(
                    "the environment variable {var} named by kafka.sasl_password_env is not set; \
                     set it to the SASL password or remove sasl_password_env"
                ))
            })?;
            connection.set("sasl.password", password);
        }
        let options = config.options.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        Ok(ClientSettings { brokers: config.brokers.clone(), connection, options })
    }

    /// The configured bootstrap list.
    pub(super) fn brokers(&self) -> &str {
        &self.brokers
    }

    /// Settings for the idempotent producer.
    pub(super) fn producer_config(&self) -> ClientConfig {
        self.build(PRODUCER_DEFAULTS, PRODUCER_GUARANTEES)
    }

    /// Settings for a member of consumer group `group`.
    pub(super) fn consumer_config(&self, group: &str) -> ClientConfig {
        let mut config = self.build(&[], CONSUMER_GUARANTEES);
        config.set("group.id", group);
        config
    }

    /// Settings for the admin client.
    pub(super) fn admin_config(&self) -> ClientConfig {
        self.build(&[], &[])
    }

    fn build(&self, defaults: &[(&str, &str)], guarantees: &[(&str, &str)]) -> ClientConfig {
        let mut config = self.connection.clone();
        for (key, value) in defaults {
            config.set(*key, *value);
        }
        for (key, value) in &self.options {
            config.set(key, value);
        }
        for (key, value) in guarantees {
            config.set(*key, *value);
        }
        config
    }
}

/// Runs one of librdkafka's blocking calls on tokio's blocking pool, so the
/// async runtime's workers keep running.
pub(super) async fn blocking<T, F>(call: F) -> Result<T, TransportError>
where
    F: FnOnce() -> Result<T, TransportError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(call)
        .await
        .map_err(|e| TransportError::Kafka(format!("a Kafka client call did not complete: {e}")))?
}
