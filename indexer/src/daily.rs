//! Routing consumed records into the daily indexes, exactly once.
//!
//! Every commit records the same positions (the next offset per partition,
//! at least the checkpoint's) in the commit payload of each index it
//! touches, then in the checkpoint file. A record whose offset is below the
//! checkpoint, or below the payload of the index it routes to, is already in
//! that index and is skipped. So a crash between the commits of two indexes,
//! or before the checkpoint or the consumer commit, re-reads records without
//! indexing them twice.

use crate::checkpoint::{self, checkpoint_path, merge_max, read_checkpoint, write_checkpoint};
use crate::error::IndexerError;
use crate::layout::{open_existing, tenant_dir_name, DayKey};
use crate::metrics::Skip;
use crate::writers::WriterPool;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vigil_core::metrics::DOCUMENTS_INDEXED;
use vigil_core::metrics::INDEX_SKIPPED;
use vigil_core::transport::{advance, Positions, Record};
use vigil_core::Event;

/// When a commit is due.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CommitPolicy {
    /// Commit once this many records are handled but not committed.
    pub max_records: usize,
    /// Commit once the oldest uncommitted record was handled this long ago.
    pub interval: Duration,
}

/// The daily indexes being written, and what is committed of them.
pub(crate) struct DailyIndexes {
    root: PathBuf,
    pool: WriterPool,
    policy: CommitPolicy,
    /// Records with offsets below these are in every index they route to.
    checkpoint: Positions,
    /// Next offset per partition after the records handled by this run.
    consumed: Positions,
    /// Commit payloads of the indexes routed to so far (empty: no index yet).
    payloads: HashMap<DayKey, Positions>,
    /// Events of earlier days are past retention and not indexed.
    oldest_kept: NaiveDate,
    uncommitted: usize,
    first_uncommitted: Option<Instant>,
    indexed: u64,
    skipped: u64,
}

impl DailyIndexes {
    /// Opens the indexes under `root`, resuming from its checkpoint file.
    pub(crate) fn open(
        root: PathBuf,
        writer_memory_mb: usize,
        policy: CommitPolicy,
        oldest_kept: NaiveDate,
    ) -> Result<Self, IndexerError> {
        let checkpoint = read_checkpoint(&checkpoint_path(&root))?;
        Ok(DailyIndexes {
            pool: WriterPool::new(&root, writer_memory_mb),
            root,
            policy,
            checkpoint,
            consumed: Positions::new(),
            payloads: HashMap::new(),
            oldest_kept,
            uncommitted: 0,
            first_uncommitted: None,
            indexed: 0,
            skipped: 0,
        })
    }

    /// Routes each record to its daily index, skipping (and counting) those
    /// that are not valid events, past retention or already indexed.
    pub(crate) fn handle(&mut self, records: &[Record]) -> Result<(), IndexerError> {
        for record in records {
            advance(&mut self.consumed, record);
            self.uncommitted += 1;
            self.first_uncommitted.get_or_insert_with(Instant::now);
            match self.route(record)? {
                Some(skip) => {
                    INDEX_SKIPPED.with_label_values(&[skip.as_str()]).inc();
                    self.skipped += 1;
                }
                None => self.indexed += 1,
            }
        }
        Ok(())
    }

    /// Indexes one record; the reason when it is skipped instead.
    fn route(&mut self, record: &Record) -> Result<Option<Skip>, IndexerError> {
        let (partition, offset) = (record.partition, record.offset);
        let event = match Event::from_json(&record.payload) {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(partition, offset, %error, "record on the events topic is not a valid event; skipped");
                return Ok(Some(Skip::Invalid));
            }
        };
        let tenant_dir = match tenant_dir_name(&event.tenant) {
            Ok(dir) => dir,
            Err(error) => {
                tracing::warn!(partition, offset, %error, "event has an unusable tenant; skipped");
                return Ok(Some(Skip::Invalid));
            }
        };
        let key = DayKey { tenant_dir, day: event.timestamp.date_naive() };
        if key.day < self.oldest_kept {
            tracing::debug!(partition, offset, day = %key.day, "event is older than the retention period; skipped");
            return Ok(Some(Skip::Expired));
        }
        if offset < self.indexed_below(&key, partition)? {
            tracing::debug!(partition, offset, "event was indexed before a restart; skipped");
            return Ok(Some(Skip::Replayed));
        }
        let (checkpoint, consumed) = (&self.checkpoint, &self.consumed);
        self.pool.add(&key, &event, || checkpoint::encode(&stamp(checkpoint, consumed)))?;
        DOCUMENTS_INDEXED.with_label_values(&[event.tenant.as_str()]).inc();
        Ok(None)
    }

    /// Offsets of `partition` below this are already in the index `key`.
    fn indexed_below(&mut self, key: &DayKey, partition: i32) -> Result<i64, IndexerError> {
        if !self.payloads.contains_key(key) {
            let payload = self.read_payload(key)?;
            self.payloads.insert(key.clone(), payload);
        }
        let from_payload = self.payloads[key].get(&partition).copied().unwrap_or(0);
        Ok(from_payload.max(self.checkpoint.get(&partition).copied().unwrap_or(0)))
    }

    /// The positions in the last commit of the index `key`.
    fn read_payload(&self, key: &DayKey) -> Result<Positions, IndexerError> {
        let path = key.path(&self.root);
        let Some(index) = open_existing(&path)? else { return Ok(Positions::new()) };
        let metas = index.load_metas().map_err(|source| IndexerError::Index { path: path.clone(), source })?;
        match metas.payload {
            Some(text) => checkpoint::decode(&text, &path),
            None => Ok(Positions::new()),
        }
    }

    /// Whether the commit policy calls for a commit now.
    pub(crate) fn commit_due(&self) -> bool {
        self.uncommitted >= self.policy.max_records
            || self.first_uncommitted.is_some_and(|t| t.elapsed() >= self.policy.interval)
    }

    /// Commits every index written since the last commit, then the
    /// checkpoint file. Returns the positions to commit to the consumer
    /// group, or `None` when nothing was handled since the last commit.
    pub(crate) fn commit(&mut self) -> Result<Option<Positions>, IndexerError> {
        if self.uncommitted == 0 {
            return Ok(None);
        }
        let stamp = stamp(&self.checkpoint, &self.consumed);
        self.pool.commit(&checkpoint::encode(&stamp))?;
        write_checkpoint(&checkpoint_path(&self.root), &stamp)?;
        self.checkpoint = stamp;
        self.uncommitted = 0;
        self.first_uncommitted = None;
        Ok(Some(self.consumed.clone()))
    }

    /// Starts a new UTC day: events before `oldest_kept` are no longer
    /// indexed and every writer is closed, so retention can delete old days.
    /// Commit first.
    pub(crate) fn start_day(&mut self, oldest_kept: NaiveDate) -> Result<(), IndexerError> {
        self.oldest_kept = oldest_kept;
        self.payloads.clear();
        self.pool.close_all()
    }

    /// Closes every writer. Commit first.
    pub(crate) fn close(&mut self) -> Result<(), IndexerError> {
        self.pool.close_all()
    }

    /// Events indexed and records skipped by this run.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.indexed, self.skipped)
    }
}

/// The positions a commit records: the checkpoint raised to what was consumed.
fn stamp(checkpoint: &Positions, consumed: &Positions) -> Positions {
    let mut stamp = checkpoint.clone();
    merge_max(&mut stamp, consumed);
    stamp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::write_checkpoint;
    use crate::search::{search, SearchRequest};
    use crate::testutil::{event_at, open_indexes, records};
    use std::path::Path;

    fn all(data_dir: &Path) -> Vec<Event> {
        let req = SearchRequest { query: String::new(), from: None, to: None, limit: 1000, tenant: None, user: None };
        search(data_dir, &req).unwrap()
    }

    fn json(events: &[Event]) -> Vec<Vec<u8>> {
        events.iter().map(Event::to_json).collect()
    }

    /// Two events on day A (03-04) and two on day B (03-05).
    fn two_days(tag: &str) -> Vec<Event> {
        ["2026-03-04T01:00:00Z", "2026-03-04T02:00:00Z", "2026-03-05T01:00:00Z", "2026-03-05T02:00:00Z"]
            .iter()
            .map(|t| {
                let mut e = event_at(t, "school-a");
                e.id = format!("{tag}-{t}");
                e
            })
            .collect()
    }

    #[test]
    fn replay_after_a_crash_between_index_commits_and_checkpoint_indexes_nothing_twice() {
        let dir = tempfile::tempdir().unwrap();
        let root = crate::layout::index_root(dir.path());
        let first = two_days("first");
        let second = two_days("second");

        // Offsets 0..4 go to days A and B; both committed with position 4.
        let mut ix = open_indexes(dir.path());
        ix.handle(&records(0, json(&first))).unwrap();
        ix.commit().unwrap();
        ix.close().unwrap();
        // Offsets 4, 5 go to day A, committed there (position 6) ...
        let mut ix = open_indexes(dir.path());
        ix.handle(&records(4, json(&second[..2]))).unwrap();
        ix.commit().unwrap();
        ix.close().unwrap();
        // ... but the crash came before the checkpoint and the consumer commit.
        write_checkpoint(&checkpoint_path(&root), &Positions::from([(0, 4)])).unwrap();

        // The group replays from 4: offsets 4, 5 (day A) and the new 6, 7 (day B).
        // The replayed records carry different ids, so only offsets can tell.
        let replay = two_days("replayed");
        let mut ix = open_indexes(dir.path());
        ix.handle(&records(4, json(&[replay[0].clone(), replay[1].clone(), second[2].clone(), second[3].clone()])))
            .unwrap();
        assert_eq!(ix.counts(), (2, 2), "two replayed records skipped, two new ones indexed");
        assert_eq!(ix.commit().unwrap(), Some(Positions::from([(0, 8)])));
        ix.close().unwrap();

        let mut ids: Vec<String> = all(dir.path()).into_iter().map(|e| e.id).collect();
        ids.sort();
        let mut expected: Vec<String> = first.iter().chain(&second).map(|e| e.id.clone()).collect();
        expected.sort();
        assert_eq!(ids, expected);
        assert_eq!(read_checkpoint(&checkpoint_path(&root)).unwrap(), Positions::from([(0, 8)]));
    }

    #[test]
    fn the_same_event_twice_is_indexed_once() {
        let dir = tempfile::tempdir().unwrap();
        let event = event_at("2026-03-04T01:00:00Z", "school-a");
        let mut ix = open_indexes(dir.path());
        ix.handle(&records(0, json(&[event.clone(), event.clone()]))).unwrap();
        ix.commit().unwrap();
        ix.handle(&records(2, json(std::slice::from_ref(&event)))).unwrap();
        ix.commit().unwrap();
        ix.close().unwrap();
        assert_eq!(all(dir.path()), [event]);
    }

    #[test]
    fn records_that_are_not_usable_events_are_skipped_and_the_rest_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let good = event_at("2026-03-04T01:00:00Z", "school-a");
        let mut traversal = event_at("2026-03-04T02:00:00Z", "../../etc");
        traversal.id = "traversal".into();
        let payloads =
            vec![b"not json".to_vec(), b"{\"event.kind\":\"proxy\"}".to_vec(), traversal.to_json(), good.to_json()];
        let mut ix = open_indexes(dir.path());
        ix.handle(&records(0, payloads)).unwrap();
        assert_eq!(ix.counts(), (1, 3));
        assert_eq!(ix.commit().unwrap(), Some(Positions::from([(0, 4)])), "skipped records are committed past");
        ix.close().unwrap();
        assert_eq!(all(dir.path()), [good]);
        assert!(!dir.path().join("etc").exists());
    }

    #[test]
    fn events_older_than_retention_are_not_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let policy = CommitPolicy { max_records: 10, interval: Duration::from_secs(60) };
        let oldest_kept = "2026-03-04".parse().unwrap();
        let mut ix = DailyIndexes::open(crate::layout::index_root(dir.path()), 15, policy, oldest_kept).unwrap();
        let old = event_at("2026-03-03T23:59:59Z", "school-a");
        let kept = event_at("2026-03-04T00:00:00Z", "school-a");
        ix.handle(&records(0, json(&[old, kept.clone()]))).unwrap();
        ix.commit().unwrap();
        ix.close().unwrap();
        assert_eq!(all(dir.path()), [kept]);
    }

    #[test]
    fn more_indexes_than_open_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let events: Vec<Event> = (0..9).map(|i| event_at("2026-03-04T01:00:00Z", &format!("school-{i}"))).collect();
        let mut ix = open_indexes(dir.path());
        ix.handle(&records(0, json(&events))).unwrap();
        ix.commit().unwrap();
        ix.close().unwrap();
        let mut found: Vec<String> = all(dir.path()).into_iter().map(|e| e.tenant.to_string()).collect();
        found.sort();
        assert_eq!(found, events.iter().map(|e| e.tenant.to_string()).collect::<Vec<_>>());
    }

    #[test]
    fn commit_is_due_by_count_and_nothing_to_commit_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let policy = CommitPolicy { max_records: 2, interval: Duration::from_secs(3600) };
        let mut ix = DailyIndexes::open(crate::layout::index_root(dir.path()), 15, policy, NaiveDate::MIN).unwrap();
        assert_eq!(ix.commit().unwrap(), None);
        ix.handle(&records(0, json(&[event_at("2026-03-04T01:00:00Z", "a")]))).unwrap();
        assert!(!ix.commit_due());
        ix.handle(&records(1, json(&[event_at("2026-03-04T02:00:00Z", "a")]))).unwrap();
        assert!(ix.commit_due());
        ix.commit().unwrap();
        assert!(!ix.commit_due());
        ix.close().unwrap();
    }
}
