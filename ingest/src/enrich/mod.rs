//! Enrichment, applied to every event after parsing and before sending, in
//! this order:
//!
//! 1. **Tenant by network** ([`networks`]): an event whose `source.ip` is in
//!    a `[[enrich.networks]]` network gets that network's tenant (the most
//!    specific network wins); otherwise the source's tenant stays. The event
//!    id stays as derived at parse time.
//! 2. **Leases** ([`leases`]): binding events (DHCP leases, logins) teach who
//!    held which address when; a proxy or web event with an address and no
//!    user is given the user who held the address at the event's time.
//! 3. **User directory** ([`directory`]): the user's display name, role and
//!    year group.
//!
//! One [`Enricher`] is shared by every source. Bindings are learnt at the
//! binding event's own timestamp, so once learnt a binding serves proxy lines
//! of any later time, however late they are read; but a proxy line processed
//! before the lease or login line that covers it is not attributed. So file
//! sources whose format [`teaches_leases`] are read ahead of the others: at
//! start until they have read everything there is, and live before each
//! pass of the others (see [`crate::source::CatchUpGate`]); an `auto` source
//! counts as what the start of its first file is detected as
//! ([`crate::source::sniff_format`]). Known limit: network syslog sources
//! take no part.

pub mod directory;
pub mod lease_store;
pub mod leases;
pub mod networks;

use directory::{DirectoryError, DirectoryFile};
use lease_store::{LeaseFileError, LeaseStore};
use leases::LeaseTable;
use networks::NetworkMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;
use vigil_core::config::EnrichConfig;
use vigil_core::Event;

/// Why enrichment could not start or save its state.
#[derive(Debug, Error)]
pub enum EnrichError {
    /// The user directory could not be loaded.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// The lease table could not be restored or saved.
    #[error(transparent)]
    Leases(#[from] LeaseFileError),
}

/// The formats whose events teach the lease table (DHCP leases, logins;
/// `syslog` routes sshd, DHCP and RADIUS lines),
/// bare or wrapped in a syslog header (`syslog+radius`).
pub const LEASE_FORMATS: &[&str] = &["dhcp", "radius", "windows", "google-login", "entra-signin", "sshd", "syslog"];

/// Whether a source of `format` makes events that teach the lease table.
pub fn teaches_leases(format: &str) -> bool {
    LEASE_FORMATS.contains(&format.strip_prefix(crate::parse::SYSLOG_PREFIX).unwrap_or(format))
}

/// The lease table's file under `data_dir`.
pub fn leases_path(data_dir: &Path) -> PathBuf {
    data_dir.join("ingest").join("leases.json")
}

/// Everything enrichment needs, shared by all sources.
pub struct Enricher {
    networks: NetworkMap,
    directory: Option<DirectoryFile>,
    leases: Option<LeaseStore>,
}

impl Enricher {
    /// Builds the enricher of `config`, loading the directory and restoring
    /// the lease table from `<data_dir>/ingest/leases.json`.
    pub fn new(config: &EnrichConfig, data_dir: &Path) -> Result<Enricher, EnrichError> {
        let directory = match &config.directory {
            Some(path) => Some(DirectoryFile::open(path, Duration::from_secs(config.directory_reload_secs))?),
            None => None,
        };
        let leases = if config.leases {
            let hours = i64::try_from(config.max_binding_hours).unwrap_or(i64::MAX / 3600).min(24 * 365 * 100);
            let table = LeaseTable::new(chrono::Duration::hours(hours), config.max_bindings);
            let save_every = Duration::from_secs(config.leases_save_secs);
            Some(LeaseStore::open(&leases_path(data_dir), table, save_every)?)
        } else {
            None
        };
        Ok(Enricher { networks: NetworkMap::new(&config.networks), directory, leases })
    }

    /// Whether anything is configured; an inactive enricher need not be
    /// called at all.
    pub fn is_active(&self) -> bool {
        !self.networks.is_empty() || self.directory.is_some() || self.leases.is_some()
    }

    /// Enriches one event (see the module documentation for the steps).
    pub fn enrich(&self, event: &mut Event) {
        let needs_ip = !self.networks.is_empty() || self.leases.as_ref().is_some_and(|l| l.wants_ip(event));
        let ip = if needs_ip { event.source_ip.as_deref().and_then(parse_ip) } else { None };
        if let Some(tenant) = ip.and_then(|ip| self.networks.tenant_of(ip)) {
            if event.tenant != *tenant {
                event.tenant = tenant.clone();
            }
        }
        if let Some(leases) = &self.leases {
            leases.observe(event, ip);
        }
        if let Some(directory) = &self.directory {
            directory.apply(event);
        }
    }

    /// Periodic upkeep, called about once a second away from the hot path:
    /// reloads a changed directory and saves a changed lease table, each at
    /// its configured interval.
    pub fn maintain(&self, now: Instant) {
        if let Some(directory) = &self.directory {
            directory.maybe_reload(now);
        }
        if let Some(leases) = &self.leases {
            leases.maybe_save(now);
        }
    }

    /// Saves the lease table now if it changed (shutdown).
    pub fn save(&self) -> Result<(), EnrichError> {
        match &self.leases {
            Some(leases) => Ok(leases.save()?),
            None => Ok(()),
        }
    }
}

/// Parses a `source.ip` value; IPv4-mapped IPv6 (`::ffff:10.1.2.3`, as a
/// dual-stack proxy logs IPv4 clients) reads as the IPv4 address, and an
/// IPv6 zone (`fe80::1%eth0`) is ignored.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.split_once('%').map_or(text, |(addr, _zone)| addr);
    text.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests;
