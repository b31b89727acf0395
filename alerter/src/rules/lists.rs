//! Named lists of domains and addresses for list rules: the shipped
//! `rules/lists/<name>.txt` plus the files `[alerter.lists] <name>` names.
//! One entry per line, `#` starts a comment; an entry is a domain (matching
//! itself and every name below it: `nordvpn.com` matches `cdn.nordvpn.com`),
//! an address, or a CIDR block. Lookups cost one hash probe per domain
//! label, or one per distinct prefix length among the blocks, whatever the
//! list's size. Files are re-read when they change (checked every
//! `alerter.list_check_secs`), without a restart.

use super::RulesError;
use ipnet::IpNet;
use rustc_hash::{FxHashMap, FxHashSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use vigil_core::metrics::LIST_ENTRIES;

/// The lists shipped in the binary: (path under `rules/`, text).
pub const SHIPPED_LISTS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/list_files.rs"));

/// A list's entries, ready for lookups.
#[derive(Debug, Default)]
pub struct Entries {
    domains: FxHashSet<Box<str>>,
    /// Per prefix length (longest first), the networks of that length.
    v4: Vec<(u8, FxHashSet<u32>)>,
    v6: Vec<(u8, FxHashSet<u128>)>,
    len: usize,
}

impl Entries {
    /// Reads the entries of `text` (from `origin`, for errors).
    pub fn add_text(&mut self, origin: &str, text: &str) -> Result<(), String> {
        let mut v4: FxHashMap<u8, FxHashSet<u32>> = self.v4.drain(..).collect();
        let mut v6: FxHashMap<u8, FxHashSet<u128>> = self.v6.drain(..).collect();
        for (number, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or_default().trim();
            if entry.is_empty() {
                continue;
            }
            let entry = entry.to_ascii_lowercase();
            if let Some(net) = parse_network(&entry) {
                match net {
                    IpNet::V4(n) => v4.entry(n.prefix_len()).or_default().insert(u32::from(n.network())),
                    IpNet::V6(n) => v6.entry(n.prefix_len()).or_default().insert(u128::from(n.network())),
                };
            } else if is_domain(&entry) {
                let domain = entry.trim_start_matches("*.").trim_start_matches('.').trim_end_matches('.');
                self.domains.insert(domain.into());
            } else {
                return Err(format!(
                    "{origin}:{}: {entry:?} is neither a domain, an address nor a CIDR block",
                    number + 1
                ));
            }
            self.len += 1;
        }
        self.v4 = v4.into_iter().collect();
        self.v4.sort_by_key(|net| std::cmp::Reverse(net.0));
        self.v6 = v6.into_iter().collect();
        self.v6.sort_by_key(|net| std::cmp::Reverse(net.0));
        Ok(())
    }

    /// The entry `value` is found by: a domain (an email address by its
    /// domain) or one of its parents, or an address's own entry or block.
    pub fn find(&self, value: &str) -> Option<String> {
        let value = value.rsplit('@').next().unwrap_or(value).trim().trim_end_matches('.');
        let bare = value.trim_start_matches('[').trim_end_matches(']');
        if let Ok(address) = bare.parse::<IpAddr>() {
            return self.find_address(address);
        }
        if self.domains.is_empty() {
            return None;
        }
        let lower;
        let mut name = if value.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = value.to_ascii_lowercase();
            lower.as_str()
        } else {
            value
        };
        loop {
            if self.domains.contains(name) {
                return Some(name.to_string());
            }
            name = name.split_once('.')?.1;
        }
    }

    fn find_address(&self, address: IpAddr) -> Option<String> {
        match address {
            IpAddr::V4(a) => {
                let bits = u32::from(a);
                self.v4.iter().find_map(|(len, nets)| {
                    let net = if *len == 0 { 0 } else { bits & (u32::MAX << (32 - len)) };
                    nets.contains(&net).then(|| format!("{}/{len}", std::net::Ipv4Addr::from(net)))
                })
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                self.v6.iter().find_map(|(len, nets)| {
                    let net = if *len == 0 { 0 } else { bits & (u128::MAX << (128 - len)) };
                    nets.contains(&net).then(|| format!("{}/{len}", std::net::Ipv6Addr::from(net)))
                })
            }
        }
    }

    /// The domains listed.
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.domains.iter().map(|d| &**d)
    }

    /// How many entries were read.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// An address (`1.2.3.4`, a host route) or a CIDR block.
fn parse_network(entry: &str) -> Option<IpNet> {
    if let Ok(address) = entry.parse::<IpAddr>() {
        return Some(IpNet::from(address));
    }
    entry.parse::<IpNet>().ok().map(|n| n.trunc())
}

/// Letters, digits, `-`, `_` and dots, with at least one dot or a leading
/// `*.`.
fn is_domain(entry: &str) -> bool {
    let name = entry.trim_start_matches("*.");
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.contains('.')
}

/// A list and the files it was read from, re-read when they change.
#[derive(Debug)]
pub struct WatchedList {
    name: String,
    shipped: Option<&'static str>,
    files: Vec<PathBuf>,
    stamps: Vec<Option<(SystemTime, u64)>>,
    entries: Arc<Entries>,
    every: Duration,
    checked: Instant,
}

impl WatchedList {
    /// The list `name`: the shipped one of that name (if any) and `files`,
    /// checked for changes `every` so often. An error names the file and
    /// line that cannot be read.
    pub fn load(name: &str, files: &[PathBuf], every: Duration) -> Result<WatchedList, RulesError> {
        let shipped =
            SHIPPED_LISTS.iter().find(|(path, _)| *path == format!("lists/{name}.txt")).map(|(_, text)| *text);
        if shipped.is_none() && files.is_empty() {
            return Err(RulesError::File {
                origin: format!("list {name:?}"),
                message: "is neither shipped (rules/lists/) nor named in [alerter.lists]".into(),
            });
        }
        let mut list = WatchedList {
            name: name.to_string(),
            shipped,
            files: files.to_vec(),
            stamps: Vec::new(),
            entries: Arc::default(),
            every,
            checked: Instant::now(),
        };
        list.reload().map_err(|message| RulesError::File { origin: format!("list {name:?}"), message })?;
        Ok(list)
    }

    /// The entries, re-read first when a file changed since the last look
    /// (at most every `every`). A file that cannot be read leaves the last
    /// entries in use, with a warning.
    pub fn entries(&mut self) -> &Entries {
        if self.checked.elapsed() >= self.every {
            self.checked = Instant::now();
            if self.files.iter().map(stamp).ne(self.stamps.iter().copied()) {
                match self.reload() {
                    Ok(()) => tracing::info!(list = %self.name, entries = self.entries.len(), "list re-read"),
                    Err(error) => {
                        tracing::warn!(list = %self.name, %error, "list not re-read; the last entries stay in use")
                    }
                }
            }
        }
        &self.entries
    }

    fn reload(&mut self) -> Result<(), String> {
        let stamps: Vec<_> = self.files.iter().map(stamp).collect();
        let mut entries = Entries::default();
        if let Some(text) = self.shipped {
            entries.add_text(&format!("shipped rules/lists/{}.txt", self.name), text)?;
        }
        for file in &self.files {
            let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            entries.add_text(&file.display().to_string(), &text)?;
        }
        LIST_ENTRIES.with_label_values(&[self.name.as_str()]).set(i64::try_from(entries.len()).unwrap_or(i64::MAX));
        self.entries = Arc::new(entries);
        self.stamps = stamps;
        Ok(())
    }
}

/// A file's modification time and length, to notice changes.
fn stamp(file: &PathBuf) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(file).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Entries {
        let mut e = Entries::default();
        e.add_text("t", text).unwrap();
        e
    }

    #[test]
    fn domains_match_themselves_and_names_below_them() {
        let e = entries("# VPNs\nnordvpn.com\n*.hola.org  # with a comment\n\nExample.NET.\n");
        assert_eq!(e.len(), 3);
        assert_eq!(e.find("nordvpn.com").as_deref(), Some("nordvpn.com"));
        assert_eq!(e.find("cdn.api.NordVPN.com").as_deref(), Some("nordvpn.com"));
        assert_eq!(e.find("notnordvpn.com"), None, "a parent is a whole label");
        assert_eq!(e.find("hola.org").as_deref(), Some("hola.org"));
        assert_eq!(e.find("pupil@mail.example.net").as_deref(), Some("example.net"), "email by domain");
        assert_eq!(e.find("com"), None);
    }

    #[test]
    fn addresses_match_exactly_or_by_block() {
        let e = entries("203.0.113.77\n198.51.100.0/24\n10.1.2.3/8\n2001:db8::/32\n");
        assert_eq!(e.find("203.0.113.77").as_deref(), Some("203.0.113.77/32"));
        assert_eq!(e.find("203.0.113.78"), None);
        assert_eq!(e.find("198.51.100.200").as_deref(), Some("198.51.100.0/24"));
        assert_eq!(e.find("10.200.0.1").as_deref(), Some("10.0.0.0/8"), "a block written with host bits");
        assert_eq!(e.find("[2001:db8:1::5]").as_deref(), Some("2001:db8::/32"));
        assert_eq!(e.find("2001:db9::1"), None);
    }

    #[test]
    fn bad_lines_are_refused_with_file_and_line() {
        let mut e = Entries::default();
        let err = e.add_text("vpn.txt", "ok.example\nnot a domain\n").unwrap_err();
        assert_eq!(err, "vpn.txt:2: \"not a domain\" is neither a domain, an address nor a CIDR block");
    }

    #[test]
    fn a_changed_file_is_read_again_without_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("extra.txt");
        std::fs::write(&file, "one.example\n").unwrap();
        let mut list = WatchedList::load("school-extra", std::slice::from_ref(&file), Duration::ZERO).unwrap();
        assert!(list.entries().find("one.example").is_some());
        std::fs::write(&file, "one.example\ntwo.example\n").unwrap();
        assert!(list.entries().find("www.two.example").is_some());
        std::fs::remove_file(&file).unwrap();
        assert!(list.entries().find("two.example").is_some(), "an unreadable file leaves the last entries");
        assert!(WatchedList::load("nothing", &[], Duration::ZERO).is_err());
    }
}
