//! Lease logs are read ahead of the logs they attribute (see
//! `vigil_ingest::source::CatchUpGate`): live, a proxy line is attributed
//! from a sign-in line written just before it in another file, even when the
//! proxy source wakes up first; in a backfill, `auto` sources found to be
//! lease logs are read before the others.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vigil_core::config::{Config, EnrichConfig, IngestConfig, StartAt};
use vigil_core::shutdown::{self, Phase, Shutdown};
use vigil_core::transport::embedded::EmbeddedTransport;
use vigil_core::transport::{Positions, Topic, Transport};
use vigil_core::Event;
use vigil_ingest::checkpoint::CheckpointStore;
use vigil_ingest::enrich::Enricher;
use vigil_ingest::pipeline::LineProcessor;
use vigil_ingest::source::{CatchUpGate, FileSource, NewProcessor, ReadMode};

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn processor(format: &'static str, enricher: &Arc<Enricher>) -> NewProcessor {
    let enricher = enricher.clone();
    Arc::new(move || {
        let parser = vigil_ingest::parse::by_name(format, &IngestConfig::default()).unwrap();
        LineProcessor::new(parser, "school", format, 64 * 1024).with_enricher(enricher.clone())
    })
}

/// Polls until `received` holds an event whose message contains `needle`;
/// panics after 60 s (a deadlock guard, not a timing assertion).
async fn event_with(received: &Mutex<Vec<Event>>, needle: &str) -> Event {
    for _ in 0..6000 {
        if let Some(e) = received.lock().unwrap().iter().find(|e| e.message.contains(needle)) {
            return e.clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no event for {needle}");
}

/// Every event the transport delivers, as they come.
async fn collect(transport: &EmbeddedTransport) -> (Arc<Mutex<Vec<Event>>>, tokio::task::JoinHandle<()>) {
    let mut consumer = transport.consumer(Topic::Events, "test").await.unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let consuming = tokio::spawn(async move {
        loop {
            let batch = consumer.poll(16, Duration::from_millis(50)).await.unwrap();
            let Some(last) = batch.last() else { continue };
            let next = last.offset + 1;
            sink.lock().unwrap().extend(batch.iter().map(|r| Event::from_json(&r.payload).unwrap()));
            consumer.commit(&Positions::from([(0, next)])).await.unwrap();
        }
    });
    (received, consuming)
}

/// A Squid line from 10.1.2.3 at 2026-03-04 10:42:30 UTC.
const PROXY_LINE: &str =
    "1772620950.123    145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/a - HIER_DIRECT/93.184.216.34 text/html\n";
/// The sign-in that gives 10.1.2.3 to alice half a minute before.
const ALICE_SIGNS_IN: &str = "Mar  4 10:42:00 gate sshd[2]: Accepted password for alice from 10.1.2.3 port 5 ssh2\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_line_read_before_the_lease_source_polls_is_still_attributed() {
    let dir = tempfile::tempdir().unwrap();
    let (auth_log, proxy_log, data) =
        (dir.path().join("auth.log"), dir.path().join("access.log"), dir.path().join("data"));
    let transport = EmbeddedTransport::new(64, &data.join("deadletter.jsonl"), &[(Topic::Events, "test")]);
    let (received, consuming) = collect(&transport).await;
    let enricher = Arc::new(Enricher::new(&EnrichConfig::default(), &data).unwrap());
    let store = Arc::new(CheckpointStore::open(&data).unwrap());
    let gate = CatchUpGate::new(1);
    // The lease source would not poll again for a minute on its own.
    let mut auth = FileSource::new("auth", &auth_log, StartAt::Beginning, 64 * 1024, Duration::from_secs(60));
    auth.reports_to = Some(gate.clone());
    let mut proxy = FileSource::new("proxy", &proxy_log, StartAt::Beginning, 64 * 1024, Duration::from_millis(20));
    proxy.waits_for = Some(gate);
    append(&auth_log, "Mar  4 10:40:00 gate sshd[1]: Accepted password for bob from 10.1.2.9 port 5 ssh2\n");
    append(&proxy_log, "");

    let (trigger, shutdown) = shutdown::channel();
    let mut sources = Vec::new();
    for (source, format) in [(auth, "sshd"), (proxy, "squid")] {
        let (producer, store, shutdown) = (Arc::new(transport.clone()), store.clone(), shutdown.clone());
        let new_processor = processor(format, &enricher);
        sources.push(tokio::spawn(async move {
            source.run(new_processor, producer, store, ReadMode::Follow, shutdown, || {}).await
        }));
    }
    event_with(&received, "for bob").await;
    // Give both sources time to settle into their polls.
    tokio::time::sleep(Duration::from_millis(200)).await;

    append(&auth_log, ALICE_SIGNS_IN);
    append(&proxy_log, PROXY_LINE);
    let proxied = event_with(&received, "http://example.com/a").await;
    assert_eq!(proxied.user_name.as_deref(), Some("alice"), "{proxied:?}");

    trigger.set(Phase::Stop);
    for source in sources {
        tokio::time::timeout(Duration::from_secs(60), source).await.expect("deadlock guard").unwrap().unwrap();
    }
    consuming.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_backfill_auto_sources_that_are_lease_logs_are_read_first() {
    let dir = tempfile::tempdir().unwrap();
    // A long auth.log whose one binding comes last, and a one-line proxy log.
    let failures: String = (0..20_000)
        .map(|i| {
            format!(
                "Mar  4 09:{:02}:{:02} gate sshd[{i}]: Failed password for bob from 10.1.2.9 port 5 ssh2\n",
                i / 60 % 60,
                i % 60
            )
        })
        .collect();
    append(&dir.path().join("auth.log"), &(failures + ALICE_SIGNS_IN));
    append(&dir.path().join("access.log"), PROXY_LINE);
    let mut text = format!("tenant = \"school\"\ndata_dir = {:?}\n", dir.path().join("data"));
    for (name, file) in [("auth", "auth.log"), ("proxy", "access.log")] {
        let path = dir.path().join(file);
        text += &format!("[[sources]]\nname = \"{name}\"\ntype = \"file\"\npath = {path:?}\nformat = \"auto\"\n");
    }
    let config = Config::from_toml(&text, "test", dir.path()).unwrap();
    let transport = EmbeddedTransport::new(64, &dir.path().join("deadletter.jsonl"), &[(Topic::Events, "test")]);
    let (received, consuming) = collect(&transport).await;

    let run = vigil_ingest::run(&config, Arc::new(transport.clone()), ReadMode::ToEnd, Shutdown::never(), None);
    tokio::time::timeout(Duration::from_secs(120), run).await.expect("deadlock guard").unwrap();
    let proxied = event_with(&received, "http://example.com/a").await;
    assert_eq!(
        (proxied.user_name.as_deref(), proxied.user_attribution.as_deref()),
        (Some("alice"), Some("lease:sshd")),
        "{proxied:?}"
    );
    consuming.abort();
}
