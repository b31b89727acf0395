//! The lease table shared by every source, saved to
//! `<data_dir>/ingest/leases.json` so attribution survives a restart.
//!
//! The file is JSON, written atomically (temporary file, fsync, rename):
//! `{"version": 1, "bindings": [{"tenant", "kind" (ip-user | ip-mac |
//! mac-user), "key", "value", "format", "start", "end"?}, ...]}`, bindings
//! in the order they were recorded. A file of another version or that does
//! not parse stops ingest with an error naming it, rather than silently
//! losing who held which address.

use super::leases::{BindingKey, BindingRecord, LeaseTable, Mac};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};
use thiserror::Error;
use vigil_core::{Event, EventKind};

/// The version of the file format written.
pub const LEASES_VERSION: u32 = 1;

/// Why the lease file could not be read or written.
#[derive(Debug, Error)]
pub enum LeaseFileError {
    /// The file exists but could not be read, or could not be written.
    #[error("cannot {action} the lease table {path}: {source}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not hold a lease table this version can read.
    #[error("the lease table {path} is damaged ({reason}); move it aside to start with an empty table (proxy lines are then attributed only from new lease and login events)")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    IpUser,
    IpMac,
    MacUser,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRecord<'a> {
    tenant: Cow<'a, str>,
    kind: Kind,
    key: String,
    value: String,
    format: Cow<'a, str>,
    start: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaseFile<'a> {
    version: u32,
    bindings: Vec<FileRecord<'a>>,
}

#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

impl<'a> From<BindingRecord<'a>> for FileRecord<'a> {
    fn from(r: BindingRecord<'a>) -> Self {
        let (kind, key) = match r.key {
            BindingKey::IpUser(ip) => (Kind::IpUser, ip.to_string()),
            BindingKey::IpMac(ip) => (Kind::IpMac, ip.to_string()),
            BindingKey::MacUser(mac) => (Kind::MacUser, mac.to_string()),
        };
        FileRecord {
            tenant: r.tenant.into(),
            kind,
            key,
            value: r.value,
            format: r.format.into(),
            start: r.start,
            end: r.end,
        }
    }
}

impl FileRecord<'_> {
    fn key(&self) -> Option<BindingKey> {
        match self.kind {
            Kind::IpUser => self.key.parse().ok().map(BindingKey::IpUser),
            Kind::IpMac => self.key.parse().ok().map(BindingKey::IpMac),
            Kind::MacUser => self.key.parse::<Mac>().ok().map(BindingKey::MacUser),
        }
    }
}

/// The shared lease table: learns from binding events, attributes proxy and
/// web events, saves itself.
pub struct LeaseStore {
    table: RwLock<LeaseTable>,
    /// Whether any binding was ever learnt: until then attribution takes no
    /// lock.
    has_any: AtomicBool,
    /// Changed since the last save.
    dirty: AtomicBool,
    path: PathBuf,
    save_every: Duration,
    last_save: Mutex<Instant>,
    /// Held for a whole save, so a shutdown save waits for a periodic one.
    saving: Mutex<()>,
}

impl LeaseStore {
    /// The table at `path`, restored from it when it exists.
    pub fn open(path: &Path, table: LeaseTable, save_every: Duration) -> Result<LeaseStore, LeaseFileError> {
        let mut table = table;
        match std::fs::read(path) {
            Ok(bytes) => restore(&mut table, &bytes, path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(LeaseFileError::Io { action: "read", path: path.into(), source }),
        }
        if !table.is_empty() {
            tracing::info!(file = %path.display(), bindings = table.len(), "lease table restored");
        }
        Ok(LeaseStore {
            has_any: AtomicBool::new(!table.is_empty()),
            table: RwLock::new(table),
            dirty: AtomicBool::new(false),
            path: path.into(),
            save_every,
            last_save: Mutex::new(Instant::now()),
            saving: Mutex::new(()),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, LeaseTable> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, LeaseTable> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many bindings are held.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether no binding is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Learns from a binding event, or names the user of a proxy or web
    /// event that has an address and no user (`user.name` and
    /// `user.attribution = lease:<format>`). `ip` is the event's parsed
    /// `source.ip`.
    pub fn observe(&self, event: &mut Event, ip: Option<IpAddr>) {
        if LeaseTable::is_binding_event(event) {
            if self.write().learn(event, ip) {
                self.has_any.store(true, Ordering::Relaxed);
                self.dirty.store(true, Ordering::Relaxed);
            }
            return;
        }
        let Some(ip) = ip.filter(|_| self.may_attribute(event)) else { return };
        let found = self
            .read()
            .holder_at(&event.tenant, ip, event.timestamp)
            .map(|(user, format)| (user.to_string(), format!("lease:{format}")));
        if let Some((user, attribution)) = found {
            event.user_name = Some(user);
            event.user_attribution = Some(attribution);
        }
    }

    /// Whether `event` is one [`LeaseStore::observe`] would use its address
    /// for: a binding event, or a proxy or web event without a user once
    /// anything has been learnt. A cheap test, so the address need not be
    /// parsed otherwise.
    pub fn wants_ip(&self, event: &Event) -> bool {
        LeaseTable::is_binding_event(event) || self.may_attribute(event)
    }

    fn may_attribute(&self, event: &Event) -> bool {
        matches!(event.kind, EventKind::Proxy | EventKind::Web)
            && event.user_name.is_none()
            && self.has_any.load(Ordering::Relaxed)
    }

    /// Saves the table if it changed and `save_every` has passed since the
    /// last save; a failure is logged (the next call tries again).
    pub fn maybe_save(&self, now: Instant) {
        {
            let mut last = self.last_save.lock().unwrap_or_else(PoisonError::into_inner);
            if now.saturating_duration_since(*last) < self.save_every {
                return;
            }
            *last = now;
        }
        if let Err(e) = self.save() {
            tracing::error!(error = %e, "lease table not saved; it will be tried again");
        }
    }

    /// Saves the table now if it changed since the last save.
    pub fn save(&self) -> Result<(), LeaseFileError> {
        let _saving = self.saving.lock().unwrap_or_else(PoisonError::into_inner);
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let bytes = {
            let table = self.read();
            let file =
                LeaseFile { version: LEASES_VERSION, bindings: table.bindings().map(FileRecord::from).collect() };
            serde_json::to_vec(&file).expect("a lease table always serialises")
        };
        vigil_core::fsutil::write_atomic(&self.path, &bytes).map_err(|source| {
            self.dirty.store(true, Ordering::Relaxed);
            LeaseFileError::Io { action: "write", path: self.path.clone(), source }
        })
    }
}

fn restore(table: &mut LeaseTable, bytes: &[u8], path: &Path) -> Result<(), LeaseFileError> {
    let damaged = |reason: String| LeaseFileError::Damaged { path: path.into(), reason };
    let version = serde_json::from_slice::<VersionOnly>(bytes).map_err(|e| damaged(e.to_string()))?.version;
    if version != LEASES_VERSION {
        return Err(damaged(format!("version {version}; this Vigil reads version {LEASES_VERSION}")));
    }
    let file: LeaseFile = serde_json::from_slice(bytes).map_err(|e| damaged(e.to_string()))?;
    for (i, r) in file.bindings.iter().enumerate() {
        let bad = || damaged(format!("binding {} has an invalid key {:?} or value {:?}", i + 1, r.key, r.value));
        let key = r.key().ok_or_else(bad)?;
        let record = BindingRecord {
            tenant: &r.tenant,
            key,
            value: r.value.clone(),
            format: &r.format,
            start: r.start,
            end: r.end,
        };
        if !table.restore(record) {
            return Err(bad());
        }
    }
    Ok(())
}
