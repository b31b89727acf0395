//! Where daily indexes live on disk: `<data_dir>/index/<tenant>/<YYYY-MM-DD>/`.

use crate::error::IndexerError;
use crate::schema::{event_schema, register_tokenizers};
use chrono::{Days, NaiveDate};
use std::path::{Path, PathBuf};
use tantivy::directory::MmapDirectory;
use tantivy::Index;

/// Longest tenant folder name accepted, in bytes (well below the 255-byte
/// file name limit of common file systems).
const MAX_TENANT_DIR_BYTES: usize = 128;

/// The folder holding every tenant's indexes and the checkpoint file.
pub(crate) fn index_root(data_dir: &Path) -> PathBuf {
    data_dir.join("index")
}

/// The folder name of `tenant`.
///
/// Names that try to leave the index folder (`..`, `/`, `\`, NUL) are
/// refused. Every other byte outside `[A-Za-z0-9_-]` is written as `%XX`, so
/// distinct tenants never share a folder and no folder is hidden (leading
/// dot) or clashes with the checkpoint file.
pub(crate) fn tenant_dir_name(tenant: &str) -> Result<String, IndexerError> {
    let refuse = |reason| Err(IndexerError::InvalidTenant { tenant: tenant.to_string(), reason });
    if tenant.is_empty() {
        return refuse("it is empty");
    }
    if tenant == "." || tenant == ".." || tenant.contains(['/', '\\', '\0']) {
        return refuse("it would leave the index folder (path traversal)");
    }
    let mut name = String::with_capacity(tenant.len());
    for b in tenant.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            name.push(b as char);
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    if name.len() > MAX_TENANT_DIR_BYTES {
        return refuse("it is too long for a folder name");
    }
    Ok(name)
}

/// One tenant's index of one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct DayKey {
    /// The tenant's folder name ([`tenant_dir_name`]).
    pub tenant_dir: String,
    /// The UTC day.
    pub day: NaiveDate,
}

impl DayKey {
    /// The folder of this index under `root`.
    pub(crate) fn path(&self, root: &Path) -> PathBuf {
        root.join(&self.tenant_dir).join(self.day.to_string())
    }
}

/// Every daily index under `root`, optionally of one tenant folder only.
/// Entries that are not `<tenant>/<YYYY-MM-DD>` folders are ignored.
pub(crate) fn list_daily_indexes(root: &Path, tenant_dir: Option<&str>) -> Result<Vec<DayKey>, IndexerError> {
    let mut keys = Vec::new();
    let tenants = match tenant_dir {
        Some(t) => vec![t.to_string()],
        None => subfolders(root)?,
    };
    for tenant in tenants {
        for day in subfolders(&root.join(&tenant))? {
            if let Ok(day) = day.parse::<NaiveDate>() {
                keys.push(DayKey { tenant_dir: tenant.clone(), day });
            }
        }
    }
    keys.sort();
    Ok(keys)
}

/// Names of the folders in `dir`; none when `dir` does not exist.
fn subfolders(dir: &Path) -> Result<Vec<String>, IndexerError> {
    let io = |source| IndexerError::Io { path: dir.to_path_buf(), source };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io)?;
        if entry.file_type().map_err(io)?.is_dir() {
            if let Ok(name) = entry.file_name().into_string() {
                names.push(name);
            }
        }
    }
    Ok(names)
}

/// The first day kept when keeping `retention_days` days before `today`:
/// today and the `retention_days` previous days are kept.
pub(crate) fn oldest_kept_day(today: NaiveDate, retention_days: u32) -> NaiveDate {
    today.checked_sub_days(Days::new(retention_days.into())).unwrap_or(NaiveDate::MIN)
}

/// Opens the index in `path`, creating the folder and the index if needed.
pub(crate) fn open_or_create(path: &Path) -> Result<Index, IndexerError> {
    std::fs::create_dir_all(path).map_err(|source| IndexerError::Io { path: path.to_path_buf(), source })?;
    let tantivy_err = |source| IndexerError::Index { path: path.to_path_buf(), source };
    let dir = MmapDirectory::open(path).map_err(|e| tantivy_err(e.into()))?;
    let index = Index::open_or_create(dir, event_schema().schema()).map_err(tantivy_err)?;
    register_tokenizers(&index);
    Ok(index)
}

/// Opens the existing index in `path`; `None` when there is none.
pub(crate) fn open_existing(path: &Path) -> Result<Option<Index>, IndexerError> {
    if !path.join("meta.json").is_file() {
        return Ok(None);
    }
    let index = Index::open_in_dir(path).map_err(|source| IndexerError::Index { path: path.to_path_buf(), source })?;
    register_tokenizers(&index);
    Ok(Some(index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tenant_names_are_kept_and_others_encoded_without_collisions() {
        assert_eq!(tenant_dir_name("st-marys_01").unwrap(), "st-marys_01");
        assert_eq!(tenant_dir_name("St Mary's").unwrap(), "St%20Mary%27s");
        assert_ne!(tenant_dir_name("a b").unwrap(), tenant_dir_name("a_b").unwrap());
        assert_eq!(tenant_dir_name("checkpoint.json").unwrap(), "checkpoint%2Ejson");
        assert_eq!(tenant_dir_name(".hidden").unwrap(), "%2Ehidden");
    }

    #[test]
    fn path_traversal_and_empty_names_are_refused() {
        for bad in ["", ".", "..", "../etc", "a/b", "a\\b", "a\0b"] {
            let err = tenant_dir_name(bad).unwrap_err();
            assert!(matches!(err, IndexerError::InvalidTenant { .. }), "{bad:?}: {err}");
        }
        assert!(tenant_dir_name(&"x".repeat(500)).is_err());
    }

    #[test]
    fn listing_finds_day_folders_and_ignores_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/2026-03-04")).unwrap();
        std::fs::create_dir_all(root.join("b/2026-03-05")).unwrap();
        std::fs::create_dir_all(root.join("b/not-a-day")).unwrap();
        std::fs::write(root.join("checkpoint.json"), "{}").unwrap();
        let all = list_daily_indexes(root, None).unwrap();
        let days: Vec<String> = all.iter().map(|k| format!("{}/{}", k.tenant_dir, k.day)).collect();
        assert_eq!(days, ["a/2026-03-04", "b/2026-03-05"]);
        assert_eq!(list_daily_indexes(root, Some("b")).unwrap().len(), 1);
        assert!(list_daily_indexes(&root.join("missing"), None).unwrap().is_empty());
    }
}
