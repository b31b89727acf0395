//! The indexer service end to end: the embedded transport feeding `run`,
//! real tantivy indexes in a temporary folder, read back with `search`.

use chrono::{TimeDelta, Utc};
use std::path::Path;
use std::time::Duration;
use vigil_core::metrics::DOCUMENTS_INDEXED;
use vigil_core::metrics::INDEX_SKIPPED;
use vigil_core::shutdown::{channel, Phase};
use vigil_core::transport::embedded::EmbeddedTransport;
use vigil_core::transport::{Delivery, Topic, Transport, INDEXER_GROUP};
use vigil_core::{Config, Event, EventKind, Outcome};
use vigil_indexer::{run, search, SearchRequest};

fn config(data_dir: &Path, commit_max_docs: usize) -> Config {
    let text = format!("data_dir = {:?}\n[indexer]\ncommit_max_docs = {commit_max_docs}\ncommit_interval_secs = 3600\nwriter_memory_mb = 15\n", data_dir.display().to_string());
    Config::from_toml(&text, "test", data_dir).unwrap()
}

/// `n` events of `tenant` in the last hour, each with its own id.
fn events(tenant: &str, n: usize, tag: &str) -> Vec<Event> {
    let now = Utc::now();
    (0..n)
        .map(|i| {
            let time = now - TimeDelta::seconds(i as i64);
            let mut e = Event::new(
                time,
                EventKind::Proxy,
                "allowed",
                Outcome::Success,
                "squid",
                "squid",
                format!("{tag} line {i}"),
            );
            e.tenant = tenant.to_string().into();
            e.id = format!("{tag}-{i}");
            e
        })
        .collect()
}

fn transport(dir: &Path) -> EmbeddedTransport {
    EmbeddedTransport::new(10_000, &dir.join("deadletter.jsonl"), &[(Topic::Events, INDEXER_GROUP)])
}

/// Sends `payloads` to the events topic.
async fn feed(transport: &EmbeddedTransport, payloads: Vec<Vec<u8>>) -> Vec<Delivery> {
    let producer = transport.producer();
    let mut deliveries = Vec::new();
    for payload in payloads {
        deliveries.push(producer.send(Topic::Events, b"key", payload).await.unwrap());
    }
    deliveries
}

async fn drain(config: &Config, transport: &EmbeddedTransport) {
    let (trigger, shutdown) = channel();
    trigger.set(Phase::Drain);
    run(config, transport, shutdown).await.unwrap();
}

fn json(events: &[Event]) -> Vec<Vec<u8>> {
    events.iter().map(Event::to_json).collect()
}

/// Every indexed event's id, sorted.
fn indexed_ids(data_dir: &Path) -> Vec<String> {
    let req = SearchRequest { query: String::new(), from: None, to: None, limit: 10_000, tenant: None, user: None };
    let mut ids: Vec<String> = search(data_dir, &req).unwrap().into_iter().map(|e| e.id).collect();
    ids.sort();
    ids
}

fn sorted_ids(events: &[Event]) -> Vec<String> {
    let mut ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn drain_indexes_every_event_once_and_commits_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), 4);
    let t = transport(dir.path());
    let mut sent = events("drain-a", 7, "a");
    sent.extend(events("drain-b", 3, "b"));
    let deliveries = feed(&t, json(&sent)).await;

    drain(&config, &t).await;

    assert_eq!(indexed_ids(dir.path()), sorted_ids(&sent));
    for delivery in deliveries {
        tokio::time::timeout(Duration::from_secs(30), delivery).await.expect("consumer group committed").unwrap();
    }
    let only_b = SearchRequest {
        query: "event.kind:proxy".into(),
        from: None,
        to: None,
        limit: 100,
        tenant: Some("drain-b".into()),
        user: None,
    };
    assert_eq!(search(dir.path(), &only_b).unwrap(), sent[7..].to_vec());
}

#[tokio::test]
async fn restart_replaying_from_an_older_position_adds_no_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), 3);
    let first = events("restart", 10, "first");
    drain(&config, &{
        let t = transport(dir.path());
        feed(&t, json(&first)).await;
        t
    })
    .await;
    assert_eq!(indexed_ids(dir.path()), sorted_ids(&first));

    // The group's position was lost: everything is read again, plus new events.
    let mut all = first.clone();
    all.extend(events("restart", 5, "second"));
    let t = transport(dir.path());
    feed(&t, json(&all)).await;
    drain(&config, &t).await;
    assert_eq!(indexed_ids(dir.path()), sorted_ids(&all));

    // Even without the checkpoint file, the index payloads and event ids
    // keep the replay from duplicating anything.
    std::fs::remove_file(dir.path().join("index/checkpoint.json")).unwrap();
    let t = transport(dir.path());
    feed(&t, json(&all)).await;
    drain(&config, &t).await;
    assert_eq!(indexed_ids(dir.path()), sorted_ids(&all));
}

#[tokio::test]
async fn a_record_that_is_not_an_event_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), 100);
    let t = transport(dir.path());
    let good = events("invalid-test", 2, "good");
    let invalid_before = INDEX_SKIPPED.with_label_values(&["invalid"]).get();
    let deliveries = feed(&t, vec![good[0].to_json(), b"\x00\xffnot an event".to_vec(), good[1].to_json()]).await;

    drain(&config, &t).await;

    assert_eq!(INDEX_SKIPPED.with_label_values(&["invalid"]).get(), invalid_before + 1);
    assert_eq!(indexed_ids(dir.path()), sorted_ids(&good));
    for delivery in deliveries {
        tokio::time::timeout(Duration::from_secs(30), delivery).await.expect("committed past the bad record").unwrap();
    }
}

#[tokio::test]
async fn stop_commits_what_was_already_read() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), 1_000_000);
    let t = transport(dir.path());
    let sent = events("stop-test", 5, "stop");
    feed(&t, json(&sent)).await;
    let (trigger, shutdown) = channel();
    let task = {
        let (config, t) = (config.clone(), t.clone());
        tokio::spawn(async move { run(&config, &t, shutdown).await })
    };
    // Neither the document count nor the interval calls for a commit; wait
    // until the events were read, then stop.
    let indexed = DOCUMENTS_INDEXED.with_label_values(&["stop-test"]);
    tokio::time::timeout(Duration::from_secs(30), async {
        while indexed.get() < 5 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the indexer read the events");
    assert!(indexed_ids(dir.path()).is_empty(), "nothing is searchable before a commit");

    trigger.set(Phase::Stop);
    task.await.unwrap().unwrap();
    assert_eq!(indexed_ids(dir.path()), sorted_ids(&sent));
}
