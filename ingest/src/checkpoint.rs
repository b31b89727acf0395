//! Where each file of each file source stopped, kept on disk between runs.
//!
//! The file is versioned JSON (`<data_dir>/ingest/checkpoints.json`), written
//! atomically. A file is known by a [`Fingerprint`] of its first bytes (of its
//! content: decompressed, for gzip), not by its path or inode, so a position
//! follows a file through rename-and-create rotation (`access.log` becomes
//! `access.log.1`), a copy of a file already read is recognised as such, and a
//! file replaced while Vigil was down is read from its start.
//!
//! Per source there are two tables, both keyed by the SHA-256 (hex) of the
//! fingerprinted bytes:
//! - `files`: the content offset to resume at, with the number of bytes the
//!   fingerprint covers. A file shorter than [`FINGERPRINT_BYTES`] has a
//!   shorter fingerprint, which grows as the file grows; a candidate file
//!   matches an entry when its first `fingerprint_len` bytes hash to the key.
//! - `gzip_done`: gzip files read to their end, by the fingerprint and length
//!   of their compressed bytes, so they are skipped without decompressing.
//!
//! Every entry records the day its file was last seen; entries of files gone
//! for longer than a source's retention are pruned. Version 1 (one position
//! per source, for a single file) is migrated on open.

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use thiserror::Error;

/// Current format version.
const VERSION: u32 = 2;

/// How many leading bytes identify a file.
pub const FINGERPRINT_BYTES: u64 = 256;

/// Why checkpoints could not be read or written.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// I/O on the checkpoint file failed.
    #[error("cannot {action} the ingest checkpoint file {path}: {source}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file exists but is not a checkpoint file this version understands.
    #[error("the ingest checkpoint file {path} is damaged or from a newer Vigil ({reason}); move it aside to re-read every source from its start")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// What identifies a file: the SHA-256 of its first `len` bytes, `len` being
/// at most [`FINGERPRINT_BYTES`] (less only while the file is shorter).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// Bytes covered.
    pub len: u64,
    /// SHA-256 of those bytes, lower-case hex.
    pub sha256: String,
}

impl Fingerprint {
    /// The fingerprint of a file starting with `head` (only its first
    /// [`FINGERPRINT_BYTES`] bytes count).
    pub fn of(head: &[u8]) -> Fingerprint {
        let head = &head[..head.len().min(FINGERPRINT_BYTES as usize)];
        Fingerprint { len: head.len() as u64, sha256: sha256_hex(head) }
    }

    /// Whether a file starting with `head` has this fingerprint: it has at
    /// least `len` bytes and the first `len` of them hash to `sha256`.
    pub fn matches(&self, head: &[u8]) -> bool {
        usize::try_from(self.len).ok().and_then(|n| head.get(..n)).is_some_and(|p| sha256_hex(p) == self.sha256)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    vigil_core::event::hex(&Sha256::digest(bytes))
}

/// Where reading of one file stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePosition {
    /// Bytes the fingerprint (the entry's key) covers.
    pub fingerprint_len: u64,
    /// Content offset to resume at (the start of a line; decompressed bytes
    /// for gzip).
    pub offset: u64,
    /// Where the file was when last read (for people reading this file).
    pub path: PathBuf,
    /// The day (UTC) the file was last seen.
    pub seen: NaiveDate,
}

/// A gzip file read to its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GzipDone {
    /// Compressed bytes the fingerprint (the entry's key) covers.
    pub fingerprint_len: u64,
    /// Compressed length of the file when it was read.
    pub len: u64,
    /// Where the file was when read.
    pub path: PathBuf,
    /// The day (UTC) the file was last seen.
    pub seen: NaiveDate,
}

/// The checkpoints of one source's files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceCheckpoints {
    /// Resume positions, by fingerprint SHA-256.
    #[serde(default)]
    files: BTreeMap<String, FilePosition>,
    /// Finished gzip files, by compressed-fingerprint SHA-256.
    #[serde(default)]
    gzip_done: BTreeMap<String, GzipDone>,
}

impl SourceCheckpoints {
    /// Whether nothing was ever recorded for the source.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.gzip_done.is_empty()
    }

    /// The position saved under exactly `fingerprint`.
    pub fn position(&self, fingerprint: &Fingerprint) -> Option<&FilePosition> {
        self.files.get(&fingerprint.sha256).filter(|p| p.fingerprint_len == fingerprint.len)
    }

    /// The position of a file starting with `head`: the entry with the
    /// longest fingerprint that `head` matches, skipping entries whose
    /// fingerprint is in `exclude` (files other readers hold open).
    pub fn find(&self, head: &[u8], exclude: &[Fingerprint]) -> Option<(Fingerprint, &FilePosition)> {
        let mut lens: Vec<u64> = self.files.values().map(|p| p.fingerprint_len).collect();
        lens.sort_unstable_by(|a, b| b.cmp(a));
        lens.dedup();
        lens.into_iter().filter(|&len| len > 0 && len <= head.len() as u64).find_map(|len| {
            let fingerprint = Fingerprint::of(&head[..len as usize]);
            let position = self.position(&fingerprint)?;
            (!exclude.contains(&fingerprint)).then_some((fingerprint, position))
        })
    }

    /// Records that the file with `fingerprint`, last at `path`, resumes at
    /// `offset` (or later, if it was already recorded further); `previous` is the (shorter) fingerprint the file had before,
    /// whose entry this one replaces.
    pub fn set_file(
        &mut self,
        previous: Option<&Fingerprint>,
        fingerprint: &Fingerprint,
        offset: u64,
        path: &Path,
        today: NaiveDate,
    ) {
        if let Some(previous) = previous.filter(|p| *p != fingerprint) {
            if self.position(previous).is_some() {
                self.files.remove(&previous.sha256);
            }
        }
        // Reading only moves forward: a shorter copy read later (a gzip of
        // an older state of the file) never moves a position back.
        let offset = self.position(fingerprint).map_or(offset, |p| p.offset.max(offset));
        let position = FilePosition { fingerprint_len: fingerprint.len, offset, path: path.to_path_buf(), seen: today };
        self.files.insert(fingerprint.sha256.clone(), position);
    }

    /// Whether the gzip file whose compressed bytes have `fingerprint` and
    /// `len` was read to its end.
    pub fn is_gzip_done(&self, fingerprint: &Fingerprint, len: u64) -> bool {
        self.gzip_done.get(&fingerprint.sha256).is_some_and(|d| d.fingerprint_len == fingerprint.len && d.len == len)
    }

    /// Records that a gzip file was read to its end.
    pub fn set_gzip_done(&mut self, fingerprint: &Fingerprint, len: u64, path: &Path, today: NaiveDate) {
        let done = GzipDone { fingerprint_len: fingerprint.len, len, path: path.to_path_buf(), seen: today };
        self.gzip_done.insert(fingerprint.sha256.clone(), done);
    }

    /// Records that the file with `fingerprint` (plain, or compressed gzip
    /// bytes) still exists today.
    pub fn touch(&mut self, fingerprint: &Fingerprint, today: NaiveDate) {
        if let Some(p) = self.files.get_mut(&fingerprint.sha256).filter(|p| p.fingerprint_len == fingerprint.len) {
            p.seen = p.seen.max(today);
        }
        if let Some(d) = self.gzip_done.get_mut(&fingerprint.sha256).filter(|d| d.fingerprint_len == fingerprint.len) {
            d.seen = d.seen.max(today);
        }
    }

    /// Forgets the files last seen before `cutoff`; returns how many.
    pub fn prune(&mut self, cutoff: NaiveDate) -> usize {
        let before = self.files.len() + self.gzip_done.len();
        self.files.retain(|_, p| p.seen >= cutoff);
        self.gzip_done.retain(|_, d| d.seen >= cutoff);
        before - self.files.len() - self.gzip_done.len()
    }
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    version: u32,
    sources: BTreeMap<String, SourceCheckpoints>,
}

/// Version 1: one position per source, fingerprinted over its first
/// `min(offset, 256)` bytes.
#[derive(Deserialize)]
struct OnDiskV1 {
    sources: BTreeMap<String, PositionV1>,
}

#[derive(Deserialize)]
struct PositionV1 {
    offset: u64,
    fingerprint: String,
}

impl OnDiskV1 {
    fn migrate(self, today: NaiveDate) -> BTreeMap<String, SourceCheckpoints> {
        let mut sources = BTreeMap::new();
        for (name, old) in self.sources.into_iter().filter(|(_, p)| p.offset > 0) {
            let fingerprint = Fingerprint { len: old.offset.min(FINGERPRINT_BYTES), sha256: old.fingerprint };
            let checkpoints: &mut SourceCheckpoints = sources.entry(name).or_default();
            checkpoints.set_file(None, &fingerprint, old.offset, Path::new(""), today);
        }
        sources
    }
}

#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

/// The checkpoints of every source of this process; shared by source tasks.
#[derive(Debug)]
pub struct CheckpointStore {
    path: PathBuf,
    sources: Mutex<BTreeMap<String, SourceCheckpoints>>,
}

impl CheckpointStore {
    /// Opens the store in `data_dir`, reading existing checkpoints.
    pub fn open(data_dir: &Path) -> Result<CheckpointStore, CheckpointError> {
        let path = data_dir.join("ingest").join("checkpoints.json");
        let sources = match std::fs::read(&path) {
            Ok(bytes) => {
                Self::decode(&bytes).map_err(|reason| CheckpointError::Damaged { path: path.clone(), reason })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(CheckpointError::Io { action: "read", path, source }),
        };
        Ok(CheckpointStore { path, sources: Mutex::new(sources) })
    }

    fn decode(bytes: &[u8]) -> Result<BTreeMap<String, SourceCheckpoints>, String> {
        let version = serde_json::from_slice::<VersionOnly>(bytes).map_err(|e| e.to_string())?.version;
        match version {
            1 => Ok(serde_json::from_slice::<OnDiskV1>(bytes)
                .map_err(|e| e.to_string())?
                .migrate(Utc::now().date_naive())),
            VERSION => Ok(serde_json::from_slice::<OnDisk>(bytes).map_err(|e| e.to_string())?.sources),
            other => Err(format!("version {other} is not {VERSION}")),
        }
    }

    /// Calls `f` with the checkpoints of `source` (empty if none).
    pub fn read<R>(&self, source: &str, f: impl FnOnce(&SourceCheckpoints) -> R) -> R {
        let sources = self.sources.lock().expect("checkpoint lock");
        match sources.get(source) {
            Some(checkpoints) => f(checkpoints),
            None => f(&SourceCheckpoints::default()),
        }
    }

    /// Lets `f` change the checkpoints of `source`, then durably saves them
    /// if they changed.
    pub fn update(&self, source: &str, f: impl FnOnce(&mut SourceCheckpoints)) -> Result<(), CheckpointError> {
        let mut sources = self.sources.lock().expect("checkpoint lock");
        let mut checkpoints = sources.get(source).cloned().unwrap_or_default();
        f(&mut checkpoints);
        if sources.get(source).unwrap_or(&SourceCheckpoints::default()) == &checkpoints {
            return Ok(());
        }
        sources.insert(source.to_string(), checkpoints);
        let bytes = serde_json::to_vec_pretty(&OnDisk { version: VERSION, sources: sources.clone() })
            .expect("checkpoints always serialise");
        vigil_core::fsutil::write_atomic(&self.path, &bytes).map_err(|source| CheckpointError::Io {
            action: "write",
            path: self.path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, d).unwrap()
    }

    #[test]
    fn positions_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        let fp = Fingerprint::of(b"first line\n");
        store.update("proxy", |c| c.set_file(None, &fp, 11, Path::new("/l/a.log"), day(4))).unwrap();
        let reopened = CheckpointStore::open(dir.path()).unwrap();
        assert_eq!(reopened.read("proxy", |c| c.position(&fp).map(|p| p.offset)), Some(11));
        assert!(reopened.read("other", |c| c.is_empty()));
    }

    #[test]
    fn a_damaged_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("ingest")).unwrap();
        std::fs::write(dir.path().join("ingest/checkpoints.json"), b"{not json").unwrap();
        let err = CheckpointStore::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("damaged"), "{err}");
        std::fs::write(dir.path().join("ingest/checkpoints.json"), b"{\"version\":9,\"sources\":{}}").unwrap();
        let err = CheckpointStore::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("version 9"), "{err}");
    }

    #[test]
    fn version_1_positions_are_migrated() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("ingest")).unwrap();
        let head = b"1709548920.123 145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - HIER_NONE/- -\n";
        let v1 = serde_json::json!({"version": 1, "sources": {
            "proxy": {"offset": head.len(), "fingerprint": Fingerprint::of(head).sha256},
            "empty": {"offset": 0, "fingerprint": Fingerprint::of(b"").sha256},
        }});
        std::fs::write(dir.path().join("ingest/checkpoints.json"), v1.to_string()).unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        let mut grown = head.to_vec();
        grown.extend_from_slice(b"more lines\n");
        assert_eq!(store.read("proxy", |c| c.find(&grown, &[]).map(|(_, p)| p.offset)), Some(head.len() as u64));
        assert!(store.read("empty", |c| c.is_empty()));
    }

    #[test]
    fn a_short_fingerprint_matches_the_file_it_grew_into_and_is_replaced_by_the_longer_one() {
        let mut c = SourceCheckpoints::default();
        let short = Fingerprint::of(b"abc\n");
        c.set_file(None, &short, 4, Path::new("a"), day(1));
        let grown = [b"abc\n".as_slice(), &[b'x'; 400]].concat();
        let (found, position) = c.find(&grown, &[]).unwrap();
        assert_eq!((found.clone(), position.offset), (short.clone(), 4));
        assert!(c.find(b"abd\n", &[]).is_none(), "different first bytes");
        assert!(c.find(b"ab", &[]).is_none(), "shorter than the fingerprint");
        assert!(c.find(&grown, std::slice::from_ref(&short)).is_none(), "excluded: another reader holds it");
        let full = Fingerprint::of(&grown);
        assert_eq!(full.len, FINGERPRINT_BYTES);
        c.set_file(Some(&short), &full, 300, Path::new("a"), day(1));
        assert!(c.position(&short).is_none());
        assert_eq!(c.find(&grown, &[]).map(|(f, p)| (f, p.offset)), Some((full, 300)));
    }

    #[test]
    fn a_position_never_moves_back() {
        let mut c = SourceCheckpoints::default();
        let fp = Fingerprint::of(&[b'x'; 300]);
        c.set_file(None, &fp, 900, Path::new("access.log.1"), day(1));
        c.set_file(Some(&fp), &fp, 400, Path::new("access.log.1.gz"), day(2));
        let p = c.position(&fp).unwrap();
        assert_eq!((p.offset, p.seen), (900, day(2)));
    }

    #[test]
    fn gzip_done_needs_the_same_compressed_length() {
        let mut c = SourceCheckpoints::default();
        let fp = Fingerprint::of(&[0x1f, 0x8b, 8, 0]);
        c.set_gzip_done(&fp, 1000, Path::new("a.gz"), day(1));
        assert!(c.is_gzip_done(&fp, 1000));
        assert!(!c.is_gzip_done(&fp, 1200), "the file grew: it was still being written");
    }

    #[test]
    fn entries_not_seen_since_the_cutoff_are_pruned() {
        let mut c = SourceCheckpoints::default();
        let old = Fingerprint::of(b"old\n");
        let kept = Fingerprint::of(b"kept\n");
        let gz = Fingerprint::of(b"\x1f\x8bgz");
        c.set_file(None, &old, 4, Path::new("old"), day(1));
        c.set_file(None, &kept, 5, Path::new("kept"), day(1));
        c.set_gzip_done(&gz, 9, Path::new("x.gz"), day(1));
        c.touch(&kept, day(20));
        assert_eq!(c.prune(day(10)), 2);
        assert!(c.position(&kept).is_some() && c.position(&old).is_none() && !c.is_gzip_done(&gz, 9));
    }
}
