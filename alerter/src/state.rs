//! The alerter's files under `<data_dir>/alerter/`, each written atomically
//! (temporary file, fsync, rename, fsync of the folder):
//!
//! - `throttle.json`: the throttle entries, written after a batch's alerts
//!   are emailed and published, before the consumer commits.
//! - `windows.json`: the windowed rules' recent events per group (rule id →
//!   state), written with the throttle state when it changed.
//! - `sent.json`: ids of alerts (and digests) already emailed, written
//!   after every email, so a replay never emails an alert twice.
//! - `held.json`: alerts held over quiet hours, written when one is held or
//!   released.
//! - `digest.json`: alerts waiting for their digest, and digests sealed but
//!   not yet sent, written whenever they change.

use crate::digest::DigestBook;
use crate::quiet_hours::HeldAlerts;
use crate::throttle::ThrottleEntries;
use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use thiserror::Error;
use vigil_core::fsutil::write_atomic;

/// Version of the file formats; bump on incompatible change.
const FORMAT_VERSION: u32 = 1;

/// Ids of emailed alerts are kept at least this long (in event time).
const MIN_SENT_RETENTION: Duration = Duration::days(1);

/// Why a state file could not be read or written.
#[derive(Debug, Error)]
pub enum StateError {
    /// Reading or writing failed.
    #[error("cannot access the alerter state file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file exists but is not what this version wrote.
    #[error("the alerter state file {path} is unreadable ({reason}); move it away to start afresh (emails for replayed events may then be sent again)")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Ids of alerts already emailed, with their event time (for pruning).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SentLog {
    sent: HashMap<String, DateTime<Utc>>,
}

impl SentLog {
    /// Whether alert `id` was emailed.
    pub fn contains(&self, id: &str) -> bool {
        self.sent.contains_key(id)
    }

    /// Records that alert `id`, for an event at `at`, was emailed.
    pub fn insert(&mut self, id: &str, at: DateTime<Utc>) {
        self.sent.insert(id.to_string(), at);
    }

    /// Forgets ids of events older than `retention` (at least a day) before
    /// `now`.
    pub fn prune(&mut self, now: DateTime<Utc>, retention: Duration) {
        let keep = retention.max(MIN_SENT_RETENTION);
        self.sent.retain(|_, at| now.signed_duration_since(*at) <= keep);
    }

    /// How many ids are kept.
    pub fn len(&self) -> usize {
        self.sent.len()
    }

    /// Whether no id is kept.
    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
    }
}

#[derive(Serialize, Deserialize)]
struct Versioned<T> {
    version: u32,
    state: T,
}

/// The folder of the alerter's state files.
#[derive(Debug, Clone)]
pub struct StateStore {
    dir: PathBuf,
}

impl StateStore {
    /// The store in `dir` (created on first write).
    pub fn new(dir: &Path) -> StateStore {
        StateStore { dir: dir.to_path_buf() }
    }

    /// The saved throttle state, or an empty one when none was saved.
    pub fn load_throttle(&self) -> Result<ThrottleEntries, StateError> {
        self.load("throttle.json")
    }

    /// Saves the throttle state.
    pub fn save_throttle(&self, state: &ThrottleEntries) -> Result<(), StateError> {
        self.save("throttle.json", state)
    }

    /// The saved state of the windowed rules (rule id → state), or none.
    pub fn load_windows(&self) -> Result<BTreeMap<String, serde_json::Value>, StateError> {
        self.load("windows.json")
    }

    /// Saves the windowed rules' state.
    pub fn save_windows(&self, state: &BTreeMap<String, serde_json::Value>) -> Result<(), StateError> {
        self.save("windows.json", state)
    }

    /// The saved ids of emailed alerts, or none when none were saved.
    pub fn load_sent(&self) -> Result<SentLog, StateError> {
        self.load("sent.json")
    }

    /// Saves the ids of emailed alerts.
    pub fn save_sent(&self, sent: &SentLog) -> Result<(), StateError> {
        self.save("sent.json", sent)
    }

    /// The saved alerts held over quiet hours, or none.
    pub fn load_held(&self) -> Result<HeldAlerts, StateError> {
        self.load("held.json")
    }

    /// Saves the alerts held over quiet hours.
    pub fn save_held(&self, held: &HeldAlerts) -> Result<(), StateError> {
        self.save("held.json", held)
    }

    /// The saved digests, or none.
    pub fn load_digests(&self) -> Result<DigestBook, StateError> {
        self.load("digest.json")
    }

    /// Saves the digests.
    pub fn save_digests(&self, digests: &DigestBook) -> Result<(), StateError> {
        self.save("digest.json", digests)
    }

    fn load<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T, StateError> {
        let path = self.dir.join(name);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(T::default()),
            Err(source) => return Err(StateError::Io { path, source }),
        };
        let file: Versioned<T> = serde_json::from_slice(&bytes)
            .map_err(|e| StateError::Corrupt { path: path.clone(), reason: e.to_string() })?;
        if file.version != FORMAT_VERSION {
            let reason = format!("format version {} where {FORMAT_VERSION} is expected", file.version);
            return Err(StateError::Corrupt { path, reason });
        }
        Ok(file.state)
    }

    fn save<T: Serialize>(&self, name: &str, state: &T) -> Result<(), StateError> {
        let bytes = serde_json::to_vec(&Versioned { version: FORMAT_VERSION, state }).expect("state always serialises");
        write_atomic(&self.dir.join(name), &bytes)
            .map_err(|source| StateError::Io { path: self.dir.join(name), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn state_round_trips_and_missing_files_are_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(&dir.path().join("alerter"));
        assert_eq!(store.load_sent().unwrap(), SentLog::default());
        let mut sent = SentLog::default();
        sent.insert("a1", Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        store.save_sent(&sent).unwrap();
        assert!(store.load_sent().unwrap().contains("a1"));
        let mut throttle = crate::throttle::Throttle::new(60);
        let key = crate::throttle::ThrottleKey { rule: "r".into(), tenant: "t".into(), who: "u".into() };
        throttle.observe(key, "e1", Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        store.save_throttle(&throttle.entries()).unwrap();
        assert_eq!(store.load_throttle().unwrap(), throttle.entries());
    }

    #[test]
    fn a_damaged_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sent.json"), b"{not json").unwrap();
        let err = StateStore::new(dir.path()).load_sent().unwrap_err().to_string();
        assert!(err.contains("sent.json") && err.contains("move it away"), "{err}");
    }

    #[test]
    fn old_sent_ids_are_pruned() {
        let mut sent = SentLog::default();
        let now = Utc.with_ymd_and_hms(2026, 1, 10, 0, 0, 0).unwrap();
        sent.insert("old", now - Duration::days(2));
        sent.insert("new", now - Duration::hours(2));
        sent.prune(now, Duration::hours(1));
        assert!(!sent.contains("old") && sent.contains("new"));
    }
}
