//! Shared set-up for the Kafka transport tests: a librdkafka mock cluster,
//! a transport connected to it, and helpers that produce and drain topics.
// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use std::collections::BTreeMap;
use vigil_core::config::KafkaConfig;
use vigil_core::transport::kafka::KafkaTransport;
use vigil_core::transport::{Consumer, Producer, Record, Topic};

/// Brokers in every test cluster.
pub const BROKERS: i32 = 3;
/// Partitions of the events topic in every test cluster.
pub const PARTITIONS: i32 = 4;

/// A mock cluster of [`BROKERS`] brokers; drop it after every client.
pub type Cluster = MockCluster<'static, DefaultProducerContext>;

/// Sends the transport's and librdkafka's log to the test output (shown
/// for failing tests); `RUST_LOG` overrides the level.
pub fn log_to_test_output() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _already_set = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}

/// A 3-broker mock cluster whose `vigil.events` topic has [`PARTITIONS`]
/// partitions, each replicated on every broker.
pub fn cluster() -> Cluster {
    log_to_test_output();
    let cluster = MockCluster::new(BROKERS).expect("mock cluster");
    cluster.create_topic("vigil.events", PARTITIONS, BROKERS).expect("events topic");
    cluster
}

/// `[kafka]` settings for `brokers`. The short session timeout matters on
/// the mock cluster: after a member leaves, it holds the next join for the
/// session timeout less a second.
pub fn settings(brokers: &str) -> KafkaConfig {
    KafkaConfig {
        brokers: brokers.to_string(),
        topic_prefix: "vigil.".to_string(),
        topic_partitions: PARTITIONS,
        topic_replication: BROKERS,
        security_protocol: None,
        sasl_mechanism: None,
        sasl_username: None,
        sasl_password_env: None,
        options: BTreeMap::from([
            ("session.timeout.ms".to_string(), "4000".to_string()),
            ("heartbeat.interval.ms".to_string(), "500".to_string()),
        ]),
    }
}

/// A transport connected to `cluster`.
pub async fn connect(cluster: &Cluster) -> KafkaTransport {
    KafkaTransport::connect(&settings(&cluster.bootstrap_servers())).await.expect("connect to the mock cluster")
}

/// Sends `records` (key, payload) to the events topic and waits until the
/// brokers have acknowledged every one.
pub async fn produce(producer: &dyn Producer, records: &[(String, String)]) {
    let mut deliveries = Vec::with_capacity(records.len());
    for (key, payload) in records {
        deliveries.push(producer.send(Topic::Events, key.as_bytes(), payload.as_bytes().to_vec()).await.expect("send"));
    }
    for delivery in deliveries {
        delivery.await.expect("delivery acknowledged");
    }
}

/// `count` records over ten keys; each payload is `key:sequence`, the
/// sequence counting per key.
pub fn keyed_records(count: usize) -> Vec<(String, String)> {
    (0..count)
        .map(|i| {
            let key = format!("user-{}", i % 10);
            let payload = format!("{key}:{}", i / 10);
            (key, payload)
        })
        .collect()
}

/// Polls until `count` records have arrived. Gives up (panicking with what
/// did arrive) after many empty polls, so a lost record fails the test
/// instead of hanging it.
pub async fn consume(consumer: &mut dyn Consumer, count: usize) -> Vec<Record> {
    let mut records = Vec::new();
    let mut empty_polls = 0;
    while records.len() < count {
        let batch = consumer.poll(500, std::time::Duration::from_secs(1)).await.expect("poll");
        if batch.is_empty() {
            empty_polls += 1;
            assert!(empty_polls < 60, "only {} of {count} records arrived: {records:?}", records.len());
        }
        records.extend(batch);
    }
    records
}

/// The payloads of `records`, as text.
pub fn payloads(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| String::from_utf8(r.payload.clone()).expect("utf-8 payload")).collect()
}
