//! Vigil's alert store: the one durable place that the alerter, the console
//! and (later) the reporter share for alert state — each alert raised, its
//! status, assignee, outcome and notes — together with the console's users
//! and sessions and the append-only audit trail.
//!
//! One SQLite file (`[console] store`), opened in WAL mode so that the
//! alerter and the console, in one process or two, write to it at once
//! (each waits up to [`BUSY_TIMEOUT`] for the other's transaction). SQLite
//! rather than JSON files with atomic writes: several writers, queries by
//! status and severity, and triggers that keep the audit table append-only
//! are what it already does, and `rusqlite`'s `bundled` feature builds it
//! in, so no system library is needed.
//!
//! Calls block on a mutex around one connection and on the disk: each is a
//! single short statement or transaction; async callers that must not stall
//! a runtime thread wrap a call in `spawn_blocking`.
#![deny(missing_docs)]

mod alerts;
mod audit;
mod time;
mod users;

pub use alerts::{AlertFilter, AlertRecord, NewAlert, Note, Outcome, Status};
pub use audit::{AuditEntry, AuditQuery, AuditRecord};
pub use users::{Account, Role, SessionRecord, TenantScope};

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use thiserror::Error;

/// How long a statement waits for another writer's transaction to end.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema version this build writes (SQLite's `user_version`).
const SCHEMA_VERSION: i64 = 1;

/// Why the store could not do what was asked.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The file could not be opened, created or migrated.
    #[error("cannot open the alert store {path}: {source}")]
    Open {
        /// The store file.
        path: PathBuf,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// The folder for the file could not be created.
    #[error("cannot create the folder for the alert store {path}: {source}")]
    Folder {
        /// The store file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file was written by a newer Vigil.
    #[error(
        "the alert store {path} has schema version {found}, newer than this Vigil's {SCHEMA_VERSION}; upgrade Vigil"
    )]
    Newer {
        /// The store file.
        path: PathBuf,
        /// The version found.
        found: i64,
    },
    /// A statement failed.
    #[error("the alert store failed: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A request named a thing that does not exist.
    #[error("there is no {what} {name:?}")]
    NotFound {
        /// `alert`, `user`.
        what: &'static str,
        /// Its id or name.
        name: String,
    },
    /// A request that conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// A stored value this build cannot read.
    #[error("the alert store holds an unreadable value: {0}")]
    Corrupt(String),
}

/// The store: cheap to clone, shared by every handler of a process.
#[derive(Debug, Clone)]
pub struct Store {
    connection: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (creating it and its folder if needed) the store at `path`,
    /// bringing its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|source| StoreError::Folder { path: path.to_path_buf(), source })?;
        }
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        let connection = Connection::open(path).map_err(open_err)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        connection.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        connection.pragma_update(None, "synchronous", "FULL").map_err(open_err)?;
        connection.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        migrate(&connection, path)?;
        Ok(Store { connection: Arc::new(Mutex::new(connection)) })
    }

    /// The connection; a panic in another thread while holding it leaves
    /// SQLite consistent (statements are atomic), so the lock is taken anyway.
    fn db(&self) -> MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Creates the schema in an empty file; refuses a newer one.
fn migrate(connection: &Connection, path: &Path) -> Result<(), StoreError> {
    let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
    let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(open_err)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Newer { path: path.to_path_buf(), found: version });
    }
    if version == 0 {
        let script =
            format!("BEGIN;\n{}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;", include_str!("schema.sql"));
        connection.execute_batch(&script).map_err(open_err)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    use super::Store;

    /// A store in a fresh temporary folder (kept alive by the returned guard).
    pub fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state/vigil.db")).unwrap();
        (dir, store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopening_keeps_the_data_and_a_newer_schema_is_refused() {
        let (dir, store) = testing::store();
        let path = dir.path().join("state/vigil.db");
        store.add_user("ada", "hash", &[Role::Admin], &TenantScope::All).unwrap();
        drop(store);
        let again = Store::open(&path).unwrap();
        assert!(again.account_by_name("ada").unwrap().is_some());
        again.db().pragma_update(None, "user_version", 99).unwrap();
        drop(again);
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("schema version 99") && err.contains("upgrade Vigil"), "{err}");
    }
}
