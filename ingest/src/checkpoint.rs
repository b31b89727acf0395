//! Where each file source stopped, kept on disk between runs.
//!
//! The file is versioned JSON (`<data_dir>/ingest/checkpoints.json`), written
//! atomically. Each entry holds the byte offset to resume from and a
//! fingerprint of the file's first bytes: when the file at the path is no
//! longer the one that was being read (rotated or replaced while Vigil was
//! down), reading starts again from its beginning instead of at a stale
//! offset in a different file.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use thiserror::Error;

/// Current format version.
const VERSION: u32 = 1;

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

/// The saved position of one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePosition {
    /// Byte offset to resume reading at (the start of a line).
    pub offset: u64,
    /// SHA-256 (hex) of the file's first `min(offset, FINGERPRINT_BYTES)`
    /// bytes when the position was saved.
    pub fingerprint: String,
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    version: u32,
    sources: BTreeMap<String, SourcePosition>,
}

/// The checkpoints of every source of this process; shared by source tasks.
#[derive(Debug)]
pub struct CheckpointStore {
    path: PathBuf,
    sources: Mutex<BTreeMap<String, SourcePosition>>,
}

impl CheckpointStore {
    /// Opens the store in `data_dir`, reading existing checkpoints.
    pub fn open(data_dir: &Path) -> Result<CheckpointStore, CheckpointError> {
        let path = data_dir.join("ingest").join("checkpoints.json");
        let sources = match std::fs::read(&path) {
            Ok(bytes) => {
                let on_disk: OnDisk = serde_json::from_slice(&bytes)
                    .map_err(|e| CheckpointError::Damaged { path: path.clone(), reason: e.to_string() })?;
                if on_disk.version != VERSION {
                    return Err(CheckpointError::Damaged {
                        path,
                        reason: format!("version {} is not {VERSION}", on_disk.version),
                    });
                }
                on_disk.sources
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(CheckpointError::Io { action: "read", path, source }),
        };
        Ok(CheckpointStore { path, sources: Mutex::new(sources) })
    }

    /// The saved position of `source`, if any.
    pub fn get(&self, source: &str) -> Option<SourcePosition> {
        self.sources.lock().expect("checkpoint lock").get(source).cloned()
    }

    /// Records and durably saves the position of `source`.
    pub fn save(&self, source: &str, position: SourcePosition) -> Result<(), CheckpointError> {
        let mut sources = self.sources.lock().expect("checkpoint lock");
        if sources.get(source) == Some(&position) {
            return Ok(());
        }
        sources.insert(source.to_string(), position);
        let bytes = serde_json::to_vec_pretty(&OnDisk { version: VERSION, sources: sources.clone() })
            .expect("checkpoints always serialise");
        vigil_core::fsutil::write_atomic(&self.path, &bytes).map_err(|source| CheckpointError::Io {
            action: "write",
            path: self.path.clone(),
            source,
        })
    }
}

/// The fingerprint of the file at `path` for a position at `offset`.
pub fn fingerprint(path: &Path, offset: u64) -> std::io::Result<String> {
    let mut head = Vec::new();
    std::fs::File::open(path)?.take(offset.min(FINGERPRINT_BYTES)).read_to_end(&mut head)?;
    Ok(vigil_core::event::hex(&Sha256::digest(&head)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        let pos = SourcePosition { offset: 42, fingerprint: "ab".into() };
        store.save("proxy", pos.clone()).unwrap();
        assert_eq!(CheckpointStore::open(dir.path()).unwrap().get("proxy"), Some(pos));
    }

    #[test]
    fn a_damaged_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("ingest")).unwrap();
        std::fs::write(dir.path().join("ingest/checkpoints.json"), b"{not json").unwrap();
        let err = CheckpointStore::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("damaged"), "{err}");
    }

    #[test]
    fn fingerprint_changes_when_the_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.log");
        std::fs::write(&f, b"first line\n").unwrap();
        let before = fingerprint(&f, 11).unwrap();
        std::fs::write(&f, b"other line\n").unwrap();
        assert_ne!(before, fingerprint(&f, 11).unwrap());
    }
}
