//! The embedded transport: every component in one process, joined by a
//! bounded in-memory log per topic.
//!
//! Each topic has one partition (0). Records stay in memory until every
//! consumer group registered on the topic has committed past them; a producer
//! waits while `capacity` records are uncommitted (backpressure). A record's
//! [`Delivery`] resolves only when every group has committed it, so a source
//! that checkpoints on delivery never skips a line the indexer or the alerter
//! has not made durable. A topic nobody consumes (the alerts topic in a single
//! process) acknowledges at once and keeps nothing. Dead letters go to a
//! JSON-lines file instead of a topic.

use super::{Consumer, Delivery, Positions, Producer, Record, Topic, Transport, TransportError};
use async_trait::async_trait;
use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Bits of an offset below the run's epoch (see [`EmbeddedTransport::open`]).
const EPOCH_SHIFT: u32 = 40;

/// In-process transport; cheap to clone.
#[derive(Clone)]
pub struct EmbeddedTransport {
    inner: Arc<Inner>,
}

struct Inner {
    topics: HashMap<Topic, Arc<TopicLog>>,
    dead_letters: Mutex<DeadLetterFile>,
}

struct DeadLetterFile {
    path: PathBuf,
    file: Option<File>,
}

struct TopicLog {
    capacity: usize,
    state: Mutex<LogState>,
    /// Woken when records are appended (consumers) or committed (producers).
    changed: Notify,
    /// The lowest committed position over all groups; deliveries wait on it.
    committed: watch::Sender<i64>,
}

#[derive(Default)]
struct LogState {
    /// Offset of `records[0]`.
    base: i64,
    records: VecDeque<Record>,
    groups: HashMap<String, GroupState>,
}

#[derive(Clone, Copy)]
struct GroupState {
    committed: i64,
    cursor: i64,
}

impl LogState {
    fn end(&self) -> i64 {
        self.base + self.records.len() as i64
    }

    fn min_committed(&self) -> i64 {
        self.groups.values().map(|g| g.committed).min().unwrap_or_else(|| self.end())
    }

    /// Drops records every group has committed.
    fn truncate(&mut self) {
        let keep_from = self.min_committed();
        while self.base < keep_from && !self.records.is_empty() {
            self.records.pop_front();
            self.base += 1;
        }
    }
}

impl EmbeddedTransport {
    /// A transport holding at most `capacity` uncommitted records per topic,
    /// writing dead letters to `dead_letter_path` (created on first use).
    /// `groups` are the consumer groups that must acknowledge each record of
    /// their topic; they are registered now, so nothing produced before a
    /// consumer joins is lost. Groups may also join later with
    /// [`Transport::consumer`].
    pub fn new(capacity: usize, dead_letter_path: &Path, groups: &[(Topic, &str)]) -> Self {
        Self::starting_at(0, capacity, dead_letter_path, groups)
    }

    /// The transport of a process whose state lives in `data_dir`: dead
    /// letters go to `<data_dir>/deadletter.jsonl`, and offsets start above
    /// every offset an earlier run handed out, so positions that consumers
    /// stored with their data (the indexer's commits) stay meaningful across
    /// restarts. Each run takes the next epoch from `<data_dir>/embedded/epoch`
    /// and numbers its records `epoch << 40 | sequence`.
    pub fn open(data_dir: &Path, capacity: usize, groups: &[(Topic, &str)]) -> std::io::Result<Self> {
        let epoch_path = data_dir.join("embedded").join("epoch");
        let previous = match std::fs::read_to_string(&epoch_path) {
            Ok(text) => text.trim().parse::<i64>().map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} is damaged: {e}", epoch_path.display()),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        let epoch = previous + 1;
        crate::fsutil::write_atomic(&epoch_path, epoch.to_string().as_bytes())?;
        Ok(Self::starting_at(epoch << EPOCH_SHIFT, capacity, &data_dir.join("deadletter.jsonl"), groups))
    }

    fn starting_at(first_offset: i64, capacity: usize, dead_letter_path: &Path, groups: &[(Topic, &str)]) -> Self {
        let topics = Topic::ALL
            .iter()
            .map(|&t| {
                let log = TopicLog {
                    capacity: capacity.max(1),
                    state: Mutex::new(LogState { base: first_offset, ..LogState::default() }),
                    changed: Notify::new(),
                    committed: watch::channel(first_offset).0,
                };
                (t, Arc::new(log))
            })
            .collect();
        let transport = EmbeddedTransport {
            inner: Arc::new(Inner {
                topics,
                dead_letters: Mutex::new(DeadLetterFile { path: dead_letter_path.to_path_buf(), file: None }),
            }),
        };
        for &(topic, group) in groups {
            transport.join(topic, group);
        }
        transport
    }

    /// Registers `group` on `topic` (if new) and rewinds its cursor to its
    /// committed position.
    fn join(&self, topic: Topic, group: &str) {
        let log = self.log(topic);
        let mut state = log.state.lock().expect("topic lock");
        let start = state.base;
        let g = state.groups.entry(group.to_string()).or_insert(GroupState { committed: start, cursor: start });
        g.cursor = g.committed;
    }

    fn log(&self, topic: Topic) -> Arc<TopicLog> {
        self.inner.topics[&topic].clone()
    }

    fn write_dead_letter(&self, payload: &[u8]) -> Result<(), TransportError> {
        let mut dl = self.inner.dead_letters.lock().expect("dead-letter lock");
        let path = dl.path.clone();
        let err = |source| TransportError::DeadLetterFile { path: path.clone(), source };
        if dl.file.is_none() {
            if let Some(dir) = dl.path.parent() {
                std::fs::create_dir_all(dir).map_err(err)?;
            }
            dl.file = Some(OpenOptions::new().create(true).append(true).open(&dl.path).map_err(err)?);
        }
        let file = dl.file.as_mut().expect("opened above");
        let mut line = Vec::with_capacity(payload.len() + 1);
        line.extend_from_slice(payload);
        line.push(b'\n');
        file.write_all(&line).map_err(err)
    }

    fn sync_dead_letters(&self) -> Result<(), TransportError> {
        let dl = self.inner.dead_letters.lock().expect("dead-letter lock");
        if let Some(file) = dl.file.as_ref() {
            file.sync_data().map_err(|source| TransportError::DeadLetterFile { path: dl.path.clone(), source })?;
        }
        Ok(())
    }
}

#[async_trait]
impl Producer for EmbeddedTransport {
    async fn send(&self, topic: Topic, key: &[u8], payload: Vec<u8>) -> Result<Delivery, TransportError> {
        if topic == Topic::DeadLetter {
            self.write_dead_letter(&payload)?;
            return Ok(Box::pin(async { Ok(()) }));
        }
        let log = self.log(topic);
        let offset = loop {
            let notified = log.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = log.state.lock().expect("topic lock");
                if state.groups.is_empty() {
                    return Ok(Box::pin(async { Ok(()) }));
                }
                if (state.end() - state.min_committed()) < log.capacity as i64 {
                    let offset = state.end();
                    state.records.push_back(Record { partition: 0, offset, key: Some(key.to_vec()), payload });
                    break offset;
                }
            }
            notified.await;
        };
        log.changed.notify_waiters();
        let mut committed = log.committed.subscribe();
        Ok(Box::pin(async move {
            committed.wait_for(|c| *c > offset).await.map(|_| ()).map_err(|_| TransportError::Closed)
        }))
    }

    async fn flush(&self, _timeout: Duration) -> Result<(), TransportError> {
        self.sync_dead_letters()
    }
}

#[async_trait]
impl Transport for EmbeddedTransport {
    fn producer(&self) -> Arc<dyn Producer> {
        Arc::new(self.clone())
    }

    async fn consumer(&self, topic: Topic, group: &str) -> Result<Box<dyn Consumer>, TransportError> {
        self.join(topic, group);
        Ok(Box::new(EmbeddedConsumer { log: self.log(topic), group: group.to_string() }))
    }
}

/// A consumer group member on an embedded topic.
struct EmbeddedConsumer {
    log: Arc<TopicLog>,
    group: String,
}

impl EmbeddedConsumer {
    fn take(&self, max: usize) -> Vec<Record> {
        let mut state = self.log.state.lock().expect("topic lock");
        let cursor = state.groups[&self.group].cursor;
        let start = (cursor - state.base).max(0) as usize;
        let batch: Vec<Record> = state.records.iter().skip(start).take(max).cloned().collect();
        if let Some(last) = batch.last() {
            state.groups.get_mut(&self.group).expect("registered").cursor = last.offset + 1;
        }
        batch
    }
}

#[async_trait]
impl Consumer for EmbeddedConsumer {
    async fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Record>, TransportError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.log.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let batch = self.take(max);
            if !batch.is_empty() {
                return Ok(batch);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn commit(&mut self, positions: &Positions) -> Result<(), TransportError> {
        let Some(&next) = positions.get(&0) else { return Ok(()) };
        let min = {
            let mut state = self.log.state.lock().expect("topic lock");
            let g = state.groups.get_mut(&self.group).expect("registered");
            g.committed = g.committed.max(next);
            state.truncate();
            state.min_committed()
        };
        self.log.committed.send_if_modified(|c| {
            let moved = min > *c;
            *c = (*c).max(min);
            moved
        });
        self.log.changed.notify_waiters();
        Ok(())
    }

    async fn lag(&mut self) -> Result<Option<u64>, TransportError> {
        let state = self.log.state.lock().expect("topic lock");
        Ok(Some((state.end() - state.groups[&self.group].cursor).max(0) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport() -> (EmbeddedTransport, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (EmbeddedTransport::new(4, &dir.path().join("dl.jsonl"), &[]), dir)
    }

    #[tokio::test]
    async fn delivery_waits_for_every_group_to_commit() {
        let (t, _dir) = transport();
        let mut indexer = t.consumer(Topic::Events, "indexer").await.unwrap();
        let mut alerter = t.consumer(Topic::Events, "alerter").await.unwrap();
        let delivery = t.producer().send(Topic::Events, b"k", b"one".to_vec()).await.unwrap();
        let batch = indexer.poll(10, Duration::from_secs(1)).await.unwrap();
        assert_eq!(batch.len(), 1);
        indexer.commit(&Positions::from([(0, 1)])).await.unwrap();
        tokio::pin!(delivery);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), &mut delivery).await.is_err(),
            "alerter has not committed"
        );
        assert_eq!(alerter.poll(10, Duration::from_secs(1)).await.unwrap()[0].payload, b"one");
        alerter.commit(&Positions::from([(0, 1)])).await.unwrap();
        delivery.await.unwrap();
    }

    #[tokio::test]
    async fn producer_waits_when_capacity_is_uncommitted() {
        let (t, _dir) = transport();
        let mut c = t.consumer(Topic::Events, "g").await.unwrap();
        let p = t.producer();
        for i in 0..4u8 {
            let _pending = p.send(Topic::Events, b"", vec![i]).await.unwrap();
        }
        let fifth = p.send(Topic::Events, b"", vec![4]);
        tokio::pin!(fifth);
        assert!(tokio::time::timeout(Duration::from_millis(50), &mut fifth).await.is_err());
        let batch = c.poll(2, Duration::from_secs(1)).await.unwrap();
        c.commit(&Positions::from([(0, batch[1].offset + 1)])).await.unwrap();
        let _pending = fifth.await.unwrap();
        assert_eq!(c.lag().await.unwrap(), Some(3));
    }

    #[tokio::test]
    async fn restarted_member_resumes_from_committed_position() {
        let (t, _dir) = transport();
        let mut c = t.consumer(Topic::Events, "g").await.unwrap();
        for i in 0..3u8 {
            let _pending = t.producer().send(Topic::Events, b"", vec![i]).await.unwrap();
        }
        assert_eq!(c.poll(10, Duration::from_secs(1)).await.unwrap().len(), 3);
        c.commit(&Positions::from([(0, 1)])).await.unwrap();
        drop(c);
        let mut again = t.consumer(Topic::Events, "g").await.unwrap();
        let batch = again.poll(10, Duration::from_secs(1)).await.unwrap();
        assert_eq!(batch.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[tokio::test]
    async fn records_wait_for_a_registered_group_that_has_not_connected_yet() {
        let dir = tempfile::tempdir().unwrap();
        let t = EmbeddedTransport::new(4, &dir.path().join("dl"), &[(Topic::Events, "late")]);
        let _pending = t.producer().send(Topic::Events, b"", b"early".to_vec()).await.unwrap();
        let mut late = t.consumer(Topic::Events, "late").await.unwrap();
        assert_eq!(late.poll(10, Duration::from_secs(1)).await.unwrap()[0].payload, b"early");
    }

    #[tokio::test]
    async fn offsets_of_a_later_run_are_above_every_earlier_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut last_offsets = Vec::new();
        for _ in 0..2 {
            let t = EmbeddedTransport::open(dir.path(), 4, &[(Topic::Events, "g")]).unwrap();
            let mut c = t.consumer(Topic::Events, "g").await.unwrap();
            let _pending = t.producer().send(Topic::Events, b"", b"x".to_vec()).await.unwrap();
            last_offsets.push(c.poll(1, Duration::from_secs(1)).await.unwrap()[0].offset);
        }
        assert!(last_offsets[1] > last_offsets[0], "{last_offsets:?}");
    }

    #[tokio::test]
    async fn dead_letters_go_to_the_file() {
        let (t, dir) = transport();
        t.producer().send(Topic::DeadLetter, b"", b"{\"reason\":\"x\"}".to_vec()).await.unwrap().await.unwrap();
        t.producer().flush(Duration::from_secs(1)).await.unwrap();
        let text = std::fs::read_to_string(dir.path().join("dl.jsonl")).unwrap();
        assert_eq!(text, "{\"reason\":\"x\"}\n");
    }
}
