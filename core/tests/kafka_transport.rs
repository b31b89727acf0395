//! The Kafka transport against librdkafka's mock cluster (3 brokers, real
//! localhost ports): delivery, ordering, commits, lag and connection errors.
#![cfg(feature = "kafka")]

mod kafka_support;

use kafka_support::{cluster, connect, consume, keyed_records, payloads, produce, settings, PARTITIONS};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use vigil_core::transport::kafka::KafkaTransport;
use vigil_core::transport::{advance, Positions, Topic, Transport, TransportError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_receives_every_record_once_in_per_key_order() {
    let cluster = cluster();
    let transport = connect(&cluster).await;
    let sent = keyed_records(2000);
    produce(transport.producer().as_ref(), &sent).await;

    let mut consumer = transport.consumer(Topic::Events, "readers").await.unwrap();
    let received = consume(consumer.as_mut(), sent.len()).await;

    let mut got = payloads(&received);
    got.sort();
    let mut expected: Vec<String> = sent.iter().map(|(_, p)| p.clone()).collect();
    expected.sort();
    assert_eq!(got, expected, "every record exactly once");

    let mut partition_of_key: HashMap<Vec<u8>, i32> = HashMap::new();
    let mut last_sequence: HashMap<Vec<u8>, u64> = HashMap::new();
    for record in &received {
        let key = record.key.clone().expect("key kept");
        let partition = *partition_of_key.entry(key.clone()).or_insert(record.partition);
        assert_eq!(partition, record.partition, "one key, one partition");
        let text = String::from_utf8(record.payload.clone()).unwrap();
        let sequence: u64 = text.rsplit(':').next().unwrap().parse().unwrap();
        if let Some(previous) = last_sequence.insert(key, sequence) {
            assert!(previous < sequence, "{text} arrived after sequence {previous} of its key");
        }
    }
    let used: std::collections::BTreeSet<i32> = partition_of_key.values().copied().collect();
    assert!(used.len() > 1, "ten keys spread over {PARTITIONS} partitions, got {used:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_member_resumes_after_the_committed_positions() {
    let cluster = cluster();
    let transport = connect(&cluster).await;
    let sent = keyed_records(400);
    produce(transport.producer().as_ref(), &sent).await;

    // The first member reads everything but commits only the first half of
    // what it read from each partition.
    let mut first = transport.consumer(Topic::Events, "indexer").await.unwrap();
    let read = consume(first.as_mut(), sent.len()).await;
    let mut per_partition: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for record in &read {
        per_partition.entry(record.partition).or_default().push(record.offset);
    }
    let mut committed = Positions::new();
    for (&partition, offsets) in &per_partition {
        committed.insert(partition, offsets[offsets.len() / 2]);
    }
    first.commit(&committed).await.unwrap();
    drop(first);

    let processed: Vec<_> = read.iter().filter(|r| r.offset < committed[&r.partition]).collect();
    let mut expected: Vec<_> = read.iter().filter(|r| r.offset >= committed[&r.partition]).cloned().collect();
    assert!(!processed.is_empty() && !expected.is_empty());

    let mut second = transport.consumer(Topic::Events, "indexer").await.unwrap();
    let mut again = consume(second.as_mut(), expected.len()).await;
    assert_eq!(
        second.poll(500, Duration::from_millis(500)).await.unwrap(),
        vec![],
        "nothing beyond the uncommitted records"
    );
    let order = |r: &vigil_core::transport::Record| (r.partition, r.offset);
    again.sort_by_key(order);
    expected.sort_by_key(order);
    assert_eq!(again, expected, "exactly the uncommitted records come again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_counts_unread_records_until_none_are_left() {
    let cluster = cluster();
    let transport = connect(&cluster).await;
    let sent = keyed_records(300);
    produce(transport.producer().as_ref(), &sent).await;

    let mut consumer = transport.consumer(Topic::Events, "alerter").await.unwrap();
    assert_eq!(consumer.lag().await.unwrap(), None, "no assignment before the first poll");

    let mut read = Vec::new();
    while read.is_empty() {
        read = consumer.poll(7, Duration::from_secs(1)).await.unwrap();
    }
    assert!(read.len() <= 7);
    assert_eq!(consumer.lag().await.unwrap(), Some((sent.len() - read.len()) as u64));

    consume(consumer.as_mut(), sent.len() - read.len()).await;
    assert_eq!(consumer.lag().await.unwrap(), Some(0));

    // Lag is about reading, not committing: a commit leaves it at zero, and
    // new records raise it again.
    let mut positions = Positions::new();
    for record in &read {
        advance(&mut positions, record);
    }
    consumer.commit(&positions).await.unwrap();
    produce(transport.producer().as_ref(), &keyed_records(5)).await;
    assert_eq!(consumer.lag().await.unwrap(), Some(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_reported_as_unreachable() {
    let brokers = "127.0.0.1:1";
    let result = KafkaTransport::connect(&settings(brokers)).await;
    let Err(error) = result else { panic!("connected to a closed port") };
    let message = error.to_string();
    assert!(matches!(error, TransportError::Unreachable { .. }), "{message}");
    assert!(message.contains(brokers), "{message}");
    assert!(message.to_lowercase().contains("refused"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unset_sasl_password_variable_is_named() {
    let cluster = cluster();
    let mut config = settings(&cluster.bootstrap_servers());
    config.security_protocol = Some("sasl_plaintext".into());
    config.sasl_mechanism = Some("PLAIN".into());
    config.sasl_username = Some("vigil".into());
    config.sasl_password_env = Some("VIGIL_TEST_SASL_PASSWORD_NEVER_SET".into());
    let Err(error) = KafkaTransport::connect(&config).await else { panic!("connected without a password") };
    assert!(error.to_string().contains("VIGIL_TEST_SASL_PASSWORD_NEVER_SET"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ensure_topics_leaves_existing_topics_alone() {
    // The mock cluster cannot create topics on request (it never answers
    // CreateTopics), so this passes only if nothing is requested.
    let cluster = cluster();
    cluster.create_topic("vigil.alerts", 1, 3).unwrap();
    cluster.create_topic("vigil.deadletter", 1, 3).unwrap();
    let transport = connect(&cluster).await;
    transport.ensure_topics(PARTITIONS, 3).await.unwrap();
    assert_eq!(transport.topic_name(Topic::DeadLetter), "vigil.deadletter");
}
