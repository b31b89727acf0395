//! The Kafka transport through broker failures, injected with the librdkafka
//! mock cluster: nothing is lost, doubled or reordered.
#![cfg(feature = "kafka")]

mod kafka_support;

use kafka_support::{cluster, connect, consume, keyed_records, payloads, produce, Cluster, PARTITIONS};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use std::collections::HashMap;
use std::time::Duration;
use vigil_core::transport::{Delivery, Producer, Record, Topic, Transport};

/// The broker that leads every partition of the events topic.
const LEADER: i32 = 1;

fn lead_every_partition(cluster: &Cluster) {
    for partition in 0..PARTITIONS {
        cluster.partition_leader("vigil.events", partition, Some(LEADER)).unwrap();
    }
}

async fn send_all(producer: &dyn Producer, records: &[(String, String)]) -> Vec<Delivery> {
    let mut deliveries = Vec::with_capacity(records.len());
    for (key, payload) in records {
        deliveries.push(producer.send(Topic::Events, key.as_bytes(), payload.as_bytes().to_vec()).await.unwrap());
    }
    deliveries
}

/// Every payload sent arrives exactly once, and each key's records arrive in
/// the order they were sent.
fn assert_exactly_once_in_order(sent: &[(String, String)], received: &[Record]) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for payload in payloads(received) {
        *counts.entry(payload).or_default() += 1;
    }
    let doubled: Vec<_> = counts.iter().filter(|(_, &n)| n > 1).collect();
    assert!(doubled.is_empty(), "records stored more than once: {doubled:?}");
    let missing: Vec<_> = sent.iter().filter(|(_, p)| !counts.contains_key(p)).collect();
    assert!(missing.is_empty(), "records lost: {missing:?}");

    let mut last: HashMap<Vec<u8>, u64> = HashMap::new();
    for record in received {
        let text = String::from_utf8(record.payload.clone()).unwrap();
        let sequence: u64 = text.rsplit(':').next().unwrap().parse().unwrap();
        if let Some(previous) = last.insert(record.key.clone().unwrap(), sequence) {
            assert!(previous < sequence, "{text} stored after sequence {previous} of its key");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_survive_produce_errors_and_a_leader_outage_exactly_once() {
    let cluster = cluster();
    lead_every_partition(&cluster);
    let transport = connect(&cluster).await;
    let producer = transport.producer();
    let sent = keyed_records(3000);
    let (calm, rest) = sent.split_at(1000);
    let (erroring, during_outage) = rest.split_at(1000);

    produce(producer.as_ref(), calm).await;

    // The next produce requests fail with errors a real cluster returns
    // while it elects leaders or lacks replicas; none of them is stored.
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        ],
    );
    let mut deliveries = send_all(producer.as_ref(), erroring).await;

    // Then the leader of every partition goes away while records are sent.
    cluster.broker_down(LEADER).unwrap();
    deliveries.extend(send_all(producer.as_ref(), during_outage).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.broker_up(LEADER).unwrap();

    for delivery in deliveries {
        delivery.await.expect("every record acknowledged after recovery");
    }

    let mut consumer = transport.consumer(Topic::Events, "audit").await.unwrap();
    // Before reading anything, the lag is the number of records in the log.
    let mut received = Vec::new();
    while received.is_empty() {
        received = consumer.poll(1, Duration::from_secs(1)).await.unwrap();
    }
    assert_eq!(consumer.lag().await.unwrap(), Some((sent.len() - 1) as u64), "the log holds each record once");
    received.extend(consume(consumer.as_mut(), sent.len() - 1).await);
    assert_exactly_once_in_order(&sent, &received);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_reads_on_after_the_leader_comes_back() {
    let cluster = cluster();
    lead_every_partition(&cluster);
    let transport = connect(&cluster).await;
    let sent = keyed_records(2000);
    produce(transport.producer().as_ref(), &sent).await;

    let mut consumer = transport.consumer(Topic::Events, "indexer").await.unwrap();
    let mut received = consume(consumer.as_mut(), 1).await;

    cluster.broker_down(LEADER).unwrap();
    cluster.request_errors(
        RDKafkaApiKey::Fetch,
        &[
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        ],
    );
    // Whatever was already fetched may still arrive; then nothing until the
    // leader is back.
    received.extend(consumer.poll(5000, Duration::from_secs(2)).await.unwrap());
    cluster.broker_up(LEADER).unwrap();

    let remaining = sent.len() - received.len();
    received.extend(consume(consumer.as_mut(), remaining).await);
    assert_eq!(received.len(), sent.len());
    assert_exactly_once_in_order(&sent, &received);
}
