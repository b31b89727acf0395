//! Deleting daily indexes older than the retention period.

use crate::error::IndexerError;
use crate::layout::{index_root, list_daily_indexes, oldest_kept_day};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// Deletes from disk every tenant's daily index dated before `today` minus
/// `retention_days` days (today and the `retention_days` days before it are
/// kept), and returns the folders deleted.
pub fn apply_retention(data_dir: &Path, retention_days: u32, today: NaiveDate) -> Result<Vec<PathBuf>, IndexerError> {
    let root = index_root(data_dir);
    let oldest_kept = oldest_kept_day(today, retention_days);
    let mut deleted = Vec::new();
    for key in list_daily_indexes(&root, None)?.into_iter().filter(|k| k.day < oldest_kept) {
        let path = key.path(&root);
        std::fs::remove_dir_all(&path).map_err(|source| IndexerError::Io { path: path.clone(), source })?;
        tracing::info!(path = %path.display(), "deleted a daily index past the retention period");
        deleted.push(path);
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{event_at, index_events};

    #[test]
    fn deletes_days_past_retention_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let days = ["2026-02-01", "2026-02-28", "2026-03-01", "2026-03-04"];
        let events: Vec<_> = days.iter().map(|d| event_at(&format!("{d}T12:00:00Z"), "school-a")).collect();
        index_events(dir.path(), &events);
        let mut other = event_at("2026-02-01T08:00:00Z", "school-b");
        other.id = "other".into();
        index_events(dir.path(), &[other]);

        let today = "2026-03-04".parse().unwrap();
        let mut deleted = apply_retention(dir.path(), 3, today).unwrap();
        deleted.sort();
        let root = index_root(dir.path());
        assert_eq!(
            deleted,
            [root.join("school-a/2026-02-01"), root.join("school-a/2026-02-28"), root.join("school-b/2026-02-01")]
        );
        for gone in &deleted {
            assert!(!gone.exists(), "{} still on disk", gone.display());
        }
        assert!(root.join("school-a/2026-03-01").join("meta.json").is_file());
        assert!(root.join("school-a/2026-03-04").join("meta.json").is_file());
        assert!(apply_retention(dir.path(), 3, today).unwrap().is_empty(), "second pass finds nothing more");
    }
}
