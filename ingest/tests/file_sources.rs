//! File sources against real files in a temporary folder and the embedded
//! transport: globs, rotation (rename-and-create, copytruncate), gzip,
//! restarts, lease logs read ahead of the logs they attribute. Every line
//! must arrive exactly once. Waits are polls with a generous deadlock guard,
//! never timing assertions.

use flate2::write::GzEncoder;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use vigil_core::config::{Config, EnrichConfig, IngestConfig, StartAt};
use vigil_core::shutdown::{self, Phase, Shutdown, ShutdownTrigger};
use vigil_core::transport::embedded::EmbeddedTransport;
use vigil_core::transport::{Positions, Topic, Transport};
use vigil_core::{DeadLetter, Event};
use vigil_ingest::checkpoint::CheckpointStore;
use vigil_ingest::enrich::Enricher;
use vigil_ingest::pipeline::LineProcessor;
use vigil_ingest::source::{CatchUpGate, FileSource, NewProcessor, ReadMode, SourceError, SourceSummary};

/// A Squid access-log line whose URL carries `tag`.
fn line(tag: &str) -> String {
    format!("1709548920.123    145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/{tag} - HIER_DIRECT/93.184.216.34 text/html\n")
}

fn lines(prefix: &str, n: usize) -> String {
    (0..n).map(|i| line(&format!("{prefix}-{i}"))).collect()
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

fn squid() -> NewProcessor {
    Arc::new(|| {
        let parser = vigil_ingest::parse::by_name("squid", &IngestConfig::default()).unwrap();
        LineProcessor::new(parser, "school", "proxy", 64 * 1024)
    })
}

/// Polls `cond` until it holds; panics after 60 s (a deadlock guard).
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..6000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A temporary folder of logs and state, an embedded transport and a
/// consumer recording every event's raw line.
struct Harness {
    _dir: tempfile::TempDir,
    logs: PathBuf,
    data: PathBuf,
    transport: EmbeddedTransport,
    received: Arc<Mutex<Vec<Event>>>,
    consumer: JoinHandle<()>,
}

impl Harness {
    async fn new(capacity: usize) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        let data = dir.path().join("data");
        let transport = EmbeddedTransport::new(capacity, &data.join("deadletter.jsonl"), &[(Topic::Events, "test")]);
        let mut consumer = transport.consumer(Topic::Events, "test").await.unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        let consumer = tokio::spawn(async move {
            loop {
                let batch = consumer.poll(16, Duration::from_millis(50)).await.unwrap();
                let Some(last) = batch.last() else { continue };
                let next = last.offset + 1;
                sink.lock().unwrap().extend(batch.iter().map(|r| Event::from_json(&r.payload).unwrap()));
                consumer.commit(&Positions::from([(0, next)])).await.unwrap();
            }
        });
        Harness { _dir: dir, logs, data, transport, received, consumer }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.logs.join(name)
    }

    fn source(&self, pattern: &str) -> FileSource {
        let mut s =
            FileSource::new("proxy", &self.path(pattern), StartAt::Beginning, 64 * 1024, Duration::from_millis(20));
        s.rescan_interval = Duration::from_millis(40);
        s.gzip_settle = Duration::ZERO;
        s
    }

    fn store(&self) -> Arc<CheckpointStore> {
        Arc::new(CheckpointStore::open(&self.data).unwrap())
    }

    async fn run_to_end(&self, source: &FileSource) -> Result<SourceSummary, SourceError> {
        let run = source.run(
            squid(),
            Arc::new(self.transport.clone()),
            self.store(),
            ReadMode::ToEnd,
            Shutdown::never(),
            || {},
        );
        tokio::time::timeout(Duration::from_secs(60), run).await.expect("deadlock guard")
    }

    fn follow(&self, source: &FileSource) -> Following {
        let (trigger, shutdown) = shutdown::channel();
        let (source, producer, store) = (source.clone(), Arc::new(self.transport.clone()), self.store());
        let task =
            tokio::spawn(async move { source.run(squid(), producer, store, ReadMode::Follow, shutdown, || {}).await });
        Following { trigger, task }
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    async fn wait_for(&self, n: usize) {
        eventually(&format!("{n} events"), || self.count() >= n).await;
    }

    /// Asserts every line of `expected` arrived exactly once and nothing else.
    fn assert_exactly_once(&self, expected: &[&str]) {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for e in self.received.lock().unwrap().iter() {
            *counts.entry(e.message.clone()).or_default() += 1;
        }
        let wanted: BTreeMap<String, usize> =
            expected.iter().flat_map(|text| text.lines()).map(|l| (l.to_string(), 1)).collect();
        let extra: Vec<_> = counts.iter().filter(|(l, n)| wanted.get(*l) != Some(n)).collect();
        let missing: Vec<_> = wanted.keys().filter(|l| !counts.contains_key(*l)).collect();
        assert!(extra.is_empty() && missing.is_empty(), "duplicated or unexpected: {extra:?}\nmissing: {missing:?}");
    }

    /// The first event whose message contains `needle`, once it has come.
    async fn event_with(&self, needle: &str) -> Event {
        let found = || self.received.lock().unwrap().iter().find(|e| e.message.contains(needle)).cloned();
        eventually(&format!("an event for {needle}"), || found().is_some()).await;
        found().expect("it came")
    }

    fn dead_letters(&self) -> Vec<DeadLetter> {
        match std::fs::read(self.data.join("deadletter.jsonl")) {
            Ok(bytes) => bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| DeadLetter::from_json(l).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.consumer.abort();
    }
}

struct Following {
    trigger: ShutdownTrigger,
    task: JoinHandle<Result<SourceSummary, SourceError>>,
}

impl Following {
    async fn stop(self) -> SourceSummary {
        self.trigger.set(Phase::Stop);
        tokio::time::timeout(Duration::from_secs(60), self.task).await.expect("deadlock guard").unwrap().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_glob_reads_every_matching_file_and_files_that_appear_later() {
    let h = Harness::new(64).await;
    let (a, b, other, deep) = (lines("a", 3), lines("b", 2), lines("other", 2), lines("deep", 2));
    append(&h.path("a.log"), &a);
    append(&h.path("b.log"), &b);
    append(&h.path("other.txt"), &other);
    let following = h.follow(&h.source("**/*.log"));
    h.wait_for(5).await;
    std::fs::create_dir_all(h.path("late/sub")).unwrap();
    append(&h.path("late/sub/c.log"), &deep);
    append(&h.path("a.log"), &line("a-appended"));
    h.wait_for(8).await;
    let summary = following.stop().await;
    assert_eq!(summary.lines, 8);
    h.assert_exactly_once(&[&a, &b, &deep, &line("a-appended")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_that_does_not_exist_yet_is_waited_for() {
    let h = Harness::new(64).await;
    let following = h.follow(&h.source("access.log"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!following.task.is_finished(), "a missing file is not an error while following");
    let text = lines("later", 2);
    append(&h.path("access.log"), &text);
    h.wait_for(2).await;
    following.stop().await;
    h.assert_exactly_once(&[&text]);
    let err = h.run_to_end(&h.source("missing-*.log")).await.unwrap_err().to_string();
    assert!(err.contains("no file matches") && err.contains("missing-*.log"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_and_create_rotation_loses_and_repeats_nothing() {
    let h = Harness::new(64).await;
    let log = h.path("access.log");
    let first = lines("first", 3);
    append(&log, &first);
    let following = h.follow(&h.source("access.log*"));
    h.wait_for(3).await;
    // Lines written just before the rename, and by a writer that has not
    // reopened yet, land in the renamed file.
    let before = lines("before-rename", 2);
    append(&log, &before);
    std::fs::rename(&log, h.path("access.log.1")).unwrap();
    let late = line("after-rename-old-handle");
    append(&h.path("access.log.1"), &late);
    let fresh = lines("new-file", 2);
    append(&log, &fresh);
    h.wait_for(8).await;
    following.stop().await;
    h.assert_exactly_once(&[&first, &before, &late, &fresh]);
    // A restart re-reads nothing from either file.
    assert_eq!(h.run_to_end(&h.source("access.log*")).await.unwrap().lines, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_while_stopped_finishes_the_renamed_file_from_its_checkpoint() {
    let h = Harness::new(64).await;
    let log = h.path("access.log");
    let first = lines("first", 4);
    append(&log, &first);
    assert_eq!(h.run_to_end(&h.source("access.log*")).await.unwrap().lines, 4);
    let tail = lines("tail", 2);
    append(&log, &tail);
    std::fs::rename(&log, h.path("access.log.1")).unwrap();
    let fresh = lines("fresh", 3);
    append(&log, &fresh);
    assert_eq!(h.run_to_end(&h.source("access.log*")).await.unwrap().lines, 5);
    h.wait_for(9).await;
    h.assert_exactly_once(&[&first, &tail, &fresh]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copytruncate_starts_again_at_zero_and_the_copy_adds_only_what_was_missed() {
    let h = Harness::new(64).await;
    let log = h.path("access.log");
    let first = lines("first", 4);
    append(&log, &first);
    let following = h.follow(&h.source("access.log*"));
    h.wait_for(4).await;
    // Written just before the copy: perhaps read from the original, perhaps
    // from the copy, but once.
    let missed = line("between-read-and-copy");
    append(&log, &missed);
    std::fs::copy(&log, h.path("access.log.1")).unwrap();
    std::fs::OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    let after = line("after-truncate");
    append(&log, &after);
    h.wait_for(6).await;
    following.stop().await;
    h.assert_exactly_once(&[&first, &missed, &after]);
    assert_eq!(h.run_to_end(&h.source("access.log*")).await.unwrap().lines, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_files_are_read_once_even_after_a_restart_and_compressed_copies_are_not_reread() {
    let h = Harness::new(64).await;
    let (old, older, live) = (lines("old", 3), lines("older", 2), lines("live", 2));
    std::fs::write(h.path("access.log.2.gz"), gzip(&old)).unwrap();
    // Gzip told by its magic bytes, not its name.
    std::fs::write(h.path("access.log.3"), gzip(&older)).unwrap();
    append(&h.path("access.log.1"), &live);
    assert_eq!(h.run_to_end(&h.source("access.log*")).await.unwrap().lines, 7);
    h.wait_for(7).await;
    assert_eq!(h.run_to_end(&h.source("access.log*")).await.unwrap().lines, 0, "nothing read twice");
    // logrotate compresses access.log.1, already read, into a gzip file.
    std::fs::write(h.path("access.log.1.gz"), gzip(&live)).unwrap();
    std::fs::remove_file(h.path("access.log.1")).unwrap();
    assert_eq!(h.run_to_end(&h.source("access.log*")).await.unwrap().lines, 0, "a compressed copy is not new");
    h.assert_exactly_once(&[&old, &older, &live]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_gzip_file_is_read_to_the_damage_and_dead_lettered_without_stopping_the_others() {
    let h = Harness::new(64).await;
    let good = lines("good", 3);
    append(&h.path("access.log"), &good);
    let damaged_text = lines("damaged", 200);
    let full = gzip(&damaged_text);
    std::fs::write(h.path("access.log.1.gz"), &full[..full.len() / 2]).unwrap();
    let summary = h.run_to_end(&h.source("access.log*")).await.unwrap();
    assert_eq!(summary.dead_letters, 1);
    let dead = h.dead_letters();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].reason.contains("damaged"), "{}", dead[0].reason);
    assert!(dead[0].file.as_deref().is_some_and(|f| f.ends_with("access.log.1.gz")), "{:?}", dead[0].file);
    let events = summary.events as usize;
    h.wait_for(events).await;
    let received: Vec<String> = h.received.lock().unwrap().iter().map(|e| e.message.clone()).collect();
    assert!(good.lines().all(|l| received.iter().any(|r| r == l)), "the good file was read");
    let read_before_damage: Vec<&String> = received.iter().filter(|r| r.contains("damaged-")).collect();
    assert!(!read_before_damage.is_empty(), "lines before the damage were read");
    assert!(damaged_text.starts_with(&format!("{}\n", read_before_damage[0])));
    assert_eq!(h.run_to_end(&h.source("access.log*")).await.unwrap().lines, 0, "not read again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_midway_and_a_restart_deliver_every_line_of_every_file_exactly_once() {
    // A small transport buffer keeps the source waiting on the consumer, so
    // the stop lands while files are half read (each file's outbox reads a
    // few parcels of records ahead: the files are longer than that).
    let h = Harness::new(4).await;
    let per_file = 20_000;
    let texts: Vec<String> = (0..3).map(|i| lines(&format!("file{i}"), per_file)).collect();
    for (i, t) in texts.iter().enumerate() {
        append(&h.path(&format!("app{i}.log")), t);
    }
    let following = h.follow(&h.source("app*.log"));
    h.wait_for(300).await;
    let first = following.stop().await;
    assert!(first.lines < 3 * per_file as u64, "stopped midway ({} lines read)", first.lines);
    let more = lines("appended-while-down", 5);
    append(&h.path("app1.log"), &more);
    let following = h.follow(&h.source("app*.log"));
    h.wait_for(3 * per_file + 5).await;
    following.stop().await;
    let expected: Vec<&str> = texts.iter().map(String::as_str).chain([more.as_str()]).collect();
    h.assert_exactly_once(&expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_shorter_than_the_fingerprint_is_not_reread_as_it_grows() {
    let h = Harness::new(64).await;
    let log = h.path("short.log");
    let one = line("one");
    assert!(one.len() < 256);
    append(&log, &one);
    assert_eq!(h.run_to_end(&h.source("short.log")).await.unwrap().lines, 1);
    let two = line("two");
    append(&log, &two);
    assert_eq!(h.run_to_end(&h.source("short.log")).await.unwrap().lines, 1);
    let many = lines("many", 5);
    append(&log, &many);
    assert_eq!(h.run_to_end(&h.source("short.log")).await.unwrap().lines, 5, "past 256 bytes now");
    assert_eq!(h.run_to_end(&h.source("short.log")).await.unwrap().lines, 0);
    h.wait_for(7).await;
    h.assert_exactly_once(&[&one, &two, &many]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_files_than_may_be_open_are_all_read() {
    let h = Harness::new(64).await;
    let texts: Vec<String> = (0..6).map(|i| lines(&format!("f{i}"), 3)).collect();
    for (i, t) in texts.iter().enumerate() {
        append(&h.path(&format!("f{i}.log")), t);
    }
    let mut source = h.source("*.log");
    source.max_open_files = 2;
    let following = h.follow(&source);
    h.wait_for(18).await;
    let extra = line("f0-grew");
    append(&h.path("f0.log"), &extra);
    h.wait_for(19).await;
    following.stop().await;
    let expected: Vec<&str> = texts.iter().map(String::as_str).chain([extra.as_str()]).collect();
    h.assert_exactly_once(&expected);
    assert_eq!(h.run_to_end(&source).await.unwrap().lines, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_at_end_skips_history_but_reads_what_comes_after() {
    let h = Harness::new(64).await;
    append(&h.path("access.log"), &lines("history", 3));
    std::fs::write(h.path("access.log.1.gz"), gzip(&lines("old", 2))).unwrap();
    let mut source = h.source("access.log*");
    source.start_at = StartAt::End;
    let following = h.follow(&source);
    let checkpoints = h.data.join("ingest/checkpoints.json");
    eventually("the first scan", || checkpoints.exists()).await;
    let new = lines("new", 2);
    append(&h.path("access.log"), &new);
    let other = lines("new-file", 1);
    append(&h.path("access.log.0"), &other);
    h.wait_for(3).await;
    following.stop().await;
    h.assert_exactly_once(&[&new, &other]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_name_the_file_and_its_own_line_numbers() {
    let h = Harness::new(64).await;
    append(&h.path("a.log"), &format!("{}not squid\n", line("a")));
    append(&h.path("b.log"), &format!("{}{}garbage\n", line("b1"), line("b2")));
    h.run_to_end(&h.source("*.log")).await.unwrap();
    let mut dead: Vec<(u64, bool, bool)> = h
        .dead_letters()
        .iter()
        .map(|d| {
            (
                d.line,
                d.file.as_deref() == Some(&*h.path("a.log").to_string_lossy()),
                d.file.as_deref() == Some(&*h.path("b.log").to_string_lossy()),
            )
        })
        .collect();
    dead.sort();
    assert_eq!(dead, vec![(2, true, false), (3, false, true)]);
    // Resuming mid-file keeps the file's own line numbers.
    append(&h.path("a.log"), &format!("{}still not squid\n", line("a2")));
    h.run_to_end(&h.source("*.log")).await.unwrap();
    let last = h.dead_letters().pop().unwrap();
    assert_eq!((last.line, last.raw.as_slice()), (4, b"still not squid".as_slice()));
    assert_eq!(last.file.as_deref(), Some(&*h.path("a.log").to_string_lossy()));
}

// Lease logs are read ahead of the logs they attribute (see
// `vigil_ingest::source::CatchUpGate`).

/// A Squid line from 10.1.2.3 at 2026-03-04 10:42:30 UTC.
const PROXY_LINE: &str =
    "1772620950.123    145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/a - HIER_DIRECT/93.184.216.34 text/html\n";
/// The sign-in that gives 10.1.2.3 to alice half a minute before.
const ALICE_SIGNS_IN: &str = "Mar  4 10:42:00 gate sshd[2]: Accepted password for alice from 10.1.2.3 port 5 ssh2\n";

/// Processors of `format` that enrich with `enricher`.
fn enriching(format: &'static str, enricher: &Arc<Enricher>) -> NewProcessor {
    let enricher = enricher.clone();
    Arc::new(move || {
        let parser = vigil_ingest::parse::by_name(format, &IngestConfig::default()).unwrap();
        LineProcessor::new(parser, "school", format, 64 * 1024).with_enricher(enricher.clone())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_a_proxy_line_read_before_the_lease_source_polls_is_still_attributed() {
    let h = Harness::new(64).await;
    let enricher = Arc::new(Enricher::new(&EnrichConfig::default(), &h.data).unwrap());
    let gate = CatchUpGate::new(1);
    // The lease source would not poll again for a minute on its own.
    let mut auth = FileSource::new("auth", &h.path("auth.log"), StartAt::Beginning, 64 * 1024, Duration::from_secs(60));
    auth.reports_to = Some(gate.clone());
    let mut proxy = h.source("access.log");
    proxy.waits_for = Some(gate);
    append(&h.path("auth.log"), "Mar  4 10:40:00 gate sshd[1]: Accepted password for bob from 10.1.2.9 port 5 ssh2\n");
    append(&h.path("access.log"), "");

    let (trigger, shutdown) = shutdown::channel();
    let mut sources = Vec::new();
    for (source, format) in [(auth, "sshd"), (proxy, "squid")] {
        let (producer, store, shutdown) = (Arc::new(h.transport.clone()), h.store(), shutdown.clone());
        let new_processor = enriching(format, &enricher);
        sources.push(tokio::spawn(async move {
            source.run(new_processor, producer, store, ReadMode::Follow, shutdown, || {}).await
        }));
    }
    h.event_with("for bob").await;
    // Give both sources time to settle into their polls.
    tokio::time::sleep(Duration::from_millis(200)).await;

    append(&h.path("auth.log"), ALICE_SIGNS_IN);
    append(&h.path("access.log"), PROXY_LINE);
    let proxied = h.event_with("http://example.com/a").await;
    assert_eq!(proxied.user_name.as_deref(), Some("alice"), "{proxied:?}");

    trigger.set(Phase::Stop);
    for source in sources {
        tokio::time::timeout(Duration::from_secs(60), source).await.expect("deadlock guard").unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_backfill_auto_sources_that_are_lease_logs_are_read_first() {
    let h = Harness::new(64).await;
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
    append(&h.path("auth.log"), &(failures + ALICE_SIGNS_IN));
    append(&h.path("access.log"), PROXY_LINE);
    let mut text = format!("tenant = \"school\"\ndata_dir = {:?}\n", h.data);
    for (name, file) in [("auth", "auth.log"), ("proxy", "access.log")] {
        let path = h.path(file);
        text += &format!("[[sources]]\nname = \"{name}\"\ntype = \"file\"\npath = {path:?}\nformat = \"auto\"\n");
    }
    let config = Config::from_toml(&text, "test", &h.data).unwrap();

    let run = vigil_ingest::run(&config, Arc::new(h.transport.clone()), ReadMode::ToEnd, Shutdown::never(), None);
    tokio::time::timeout(Duration::from_secs(120), run).await.expect("deadlock guard").unwrap();
    let proxied = h.event_with("http://example.com/a").await;
    assert_eq!(
        (proxied.user_name.as_deref(), proxied.user_attribution.as_deref()),
        (Some("alice"), Some("lease:sshd")),
        "{proxied:?}"
    );
}
