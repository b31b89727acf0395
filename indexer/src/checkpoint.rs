//! The transport positions an index commit covers, as stored in each daily
//! index's commit payload and in `<data_dir>/index/checkpoint.json`.
//!
//! Both hold the same versioned JSON: `{"version":1,"positions":{"0":42}}`,
//! the next offset to read per partition when the commit was made.

use crate::error::IndexerError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use vigil_core::transport::Positions;

/// The format version written; readers refuse others.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Stamp {
    version: u32,
    positions: Positions,
}

/// The JSON text recording `positions`.
pub(crate) fn encode(positions: &Positions) -> String {
    serde_json::to_string(&Stamp { version: VERSION, positions: positions.clone() })
        .expect("a map of integers always serialises")
}

/// The positions recorded in `text` (read from `origin`, named in errors).
pub(crate) fn decode(text: &str, origin: &Path) -> Result<Positions, IndexerError> {
    let bad = |reason: String| IndexerError::Checkpoint { path: origin.to_path_buf(), reason };
    let stamp: Stamp = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if stamp.version != VERSION {
        return Err(bad(format!("version {} is not the supported version {VERSION}", stamp.version)));
    }
    Ok(stamp.positions)
}

/// The checkpoint file under the index root.
pub(crate) fn checkpoint_path(root: &Path) -> PathBuf {
    root.join("checkpoint.json")
}

/// The positions in the checkpoint file; empty when there is none yet.
pub(crate) fn read_checkpoint(path: &Path) -> Result<Positions, IndexerError> {
    match std::fs::read_to_string(path) {
        Ok(text) => decode(&text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Positions::new()),
        Err(source) => Err(IndexerError::Io { path: path.to_path_buf(), source }),
    }
}

/// Replaces the checkpoint file atomically (temp file, fsync, rename, fsync
/// of the folder).
pub(crate) fn write_checkpoint(path: &Path, positions: &Positions) -> Result<(), IndexerError> {
    vigil_core::fsutil::write_atomic(path, encode(positions).as_bytes())
        .map_err(|source| IndexerError::Io { path: path.to_path_buf(), source })
}

/// `a` raised to `b` partition by partition.
pub(crate) fn merge_max(a: &mut Positions, b: &Positions) {
    for (&partition, &next) in b {
        let entry = a.entry(partition).or_insert(next);
        *entry = (*entry).max(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_round_trips_and_is_empty_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = checkpoint_path(dir.path());
        assert!(read_checkpoint(&path).unwrap().is_empty());
        let positions = Positions::from([(0, 42), (3, 7)]);
        write_checkpoint(&path, &positions).unwrap();
        assert_eq!(read_checkpoint(&path).unwrap(), positions);
    }

    #[test]
    fn a_corrupt_or_foreign_checkpoint_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = checkpoint_path(dir.path());
        std::fs::write(&path, "{\"version\":9,\"positions\":{}}").unwrap();
        let err = read_checkpoint(&path).unwrap_err().to_string();
        assert!(err.contains("checkpoint.json") && err.contains("version 9"), "{err}");
        std::fs::write(&path, "garbage").unwrap();
        assert!(read_checkpoint(&path).is_err());
    }

    #[test]
    fn merge_keeps_the_furthest_position_per_partition() {
        let mut a = Positions::from([(0, 10), (1, 5)]);
        merge_max(&mut a, &Positions::from([(0, 8), (1, 9), (2, 1)]));
        assert_eq!(a, Positions::from([(0, 10), (1, 9), (2, 1)]));
    }
}
