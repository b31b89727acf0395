//! Who held an address when: a time-aware table of bindings learnt from
//! events, used to name the user of proxy and web lines that do not.
//!
//! Bindings, each from the event's `@timestamp`, per tenant:
//! - address → device: a DHCP `lease-granted` event (kind `network`) with
//!   `source.ip` and `source.mac`; `lease-released` ends it at its time;
//! - device → user: a login (kind `auth`, action `logged-in`) with
//!   `user.name` and `source.mac` (RADIUS / 802.1X);
//! - address → user: a login with `user.name` and `source.ip` (Windows 4624,
//!   Entra ID and Google sign-ins, sshd).
//!
//! Logins of machine and service accounts (a name ending in `$`, `SYSTEM`,
//! `ANONYMOUS LOGON`, `LOCAL SERVICE`, `NETWORK SERVICE`, `DWM-n`, `UMFD-n`)
//! and from loopback or unspecified addresses bind nothing: a computer
//! account logging on from a pupil's laptop must not take the pupil's place.
//!
//! A binding lasts until its end (a release), until the next binding of the
//! same key starts (superseded), or `max_binding_hours` after it started.
//! Each key keeps a short history, so a lookup at a time finds the binding
//! that was in force then, not the latest one. Where both an address → user
//! binding and an address → device → user chain hold at a time, the one that
//! started later wins (it is the newer evidence). The attribution names the
//! log format of the binding that named the user (`lease:radius`, not the
//! DHCP format, for a chain).
//!
//! The table is bounded: at most [`MAX_HISTORY`] bindings per key and
//! `max_bindings` in all; beyond that the binding recorded first is dropped.

use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use vigil_core::{Event, EventKind, Label};

/// Bindings kept per key (address or device); older ones are dropped first.
pub const MAX_HISTORY: usize = 16;

/// A device's hardware address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mac(pub [u8; 6]);

impl FromStr for Mac {
    type Err = ();

    /// Twelve hex digits, separated by `:`, `-` or `.` or not at all
    /// (`3c:22:fb:01:02:03`, `3C-22-FB-01-02-03`, `3c22.fb01.0203`).
    fn from_str(text: &str) -> Result<Mac, ()> {
        let mut bytes = [0u8; 6];
        let mut digits = 0usize;
        for c in text.chars() {
            if matches!(c, ':' | '-' | '.') {
                continue;
            }
            let value = c.to_digit(16).ok_or(())? as u8;
            let byte = bytes.get_mut(digits / 2).ok_or(())?;
            *byte = (*byte << 4) | value;
            digits += 1;
        }
        if digits == 12 {
            Ok(Mac(bytes))
        } else {
            Err(())
        }
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// What a binding maps from and to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BindingKey {
    /// An address held by a user.
    IpUser(IpAddr),
    /// An address leased to a device.
    IpMac(IpAddr),
    /// A device logged in as a user.
    MacUser(Mac),
}

/// One binding of a key to a value over a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding<V> {
    /// When it started (the binding event's timestamp).
    pub start: DateTime<Utc>,
    /// When it was ended by a release, if it was.
    pub end: Option<DateTime<Utc>>,
    /// The user name or device.
    pub value: V,
    /// `log.format` of the event that made it.
    pub format: Label,
    /// Insertion number, for eviction.
    seq: u64,
}

/// A key's bindings, ordered by start.
type History<V> = VecDeque<Binding<V>>;

/// One tenant's bindings.
#[derive(Default)]
struct TenantLeases {
    ip_user: HashMap<IpAddr, History<String>>,
    ip_mac: HashMap<IpAddr, History<Mac>>,
    mac_user: HashMap<Mac, History<String>>,
}

/// A binding as listed by [`LeaseTable::bindings`], oldest recorded first.
#[derive(Debug, Clone, PartialEq)]
pub struct BindingRecord<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The key.
    pub key: BindingKey,
    /// The user name, or the device as `aa:bb:cc:dd:ee:ff`.
    pub value: String,
    /// `log.format` of the event that made it.
    pub format: &'a str,
    /// When it started.
    pub start: DateTime<Utc>,
    /// When it was ended, if it was.
    pub end: Option<DateTime<Utc>>,
}

/// The table: bindings per tenant and key, and their insertion order.
pub struct LeaseTable {
    tenant_ids: HashMap<String, u32>,
    tenant_names: Vec<String>,
    leases: Vec<TenantLeases>,
    /// (tenant, key, seq) in insertion order; entries whose binding has gone
    /// (history cap) are skipped when met.
    order: VecDeque<(u32, BindingKey, u64)>,
    live: usize,
    next_seq: u64,
    max_binding: Duration,
    max_bindings: usize,
}

impl LeaseTable {
    /// An empty table whose bindings last at most `max_binding` and hold at
    /// most `max_bindings` in all.
    pub fn new(max_binding: Duration, max_bindings: usize) -> Self {
        LeaseTable {
            tenant_ids: HashMap::new(),
            tenant_names: Vec::new(),
            leases: Vec::new(),
            order: VecDeque::new(),
            live: 0,
            next_seq: 0,
            max_binding,
            max_bindings: max_bindings.max(1),
        }
    }

    /// How many bindings are held.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no binding is held.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Whether `event` is the kind of event [`LeaseTable::learn`] uses; a
    /// cheap test on kind and action only.
    pub fn is_binding_event(event: &Event) -> bool {
        matches!(
            (event.kind, event.action.as_str()),
            (EventKind::Network, "lease-granted" | "lease-released") | (EventKind::Auth, "logged-in")
        )
    }

    /// Learns from a binding event whose `source.ip` is `ip` (parsed by the
    /// caller). Returns whether the table changed.
    pub fn learn(&mut self, event: &Event, ip: Option<IpAddr>) -> bool {
        let ip = ip.filter(|ip| !ip.is_loopback() && !ip.is_unspecified());
        let mac = event.source_mac.as_deref().and_then(|m| m.parse::<Mac>().ok());
        let (tenant, at, format) = (event.tenant.as_str(), event.timestamp, &event.log_format);
        match (event.kind, event.action.as_str()) {
            (EventKind::Network, "lease-granted") => match (ip, mac) {
                (Some(ip), Some(mac)) => self.bind(tenant, BindingKey::IpMac(ip), at, mac, format),
                _ => false,
            },
            (EventKind::Network, "lease-released") => ip.is_some_and(|ip| self.release(tenant, ip, mac, at)),
            (EventKind::Auth, "logged-in") => {
                let Some(user) = event.user_name.as_deref().filter(|u| is_person_account(u)) else { return false };
                let by_mac = mac.is_some_and(|mac| self.bind(tenant, BindingKey::MacUser(mac), at, user, format));
                let by_ip = ip.is_some_and(|ip| self.bind(tenant, BindingKey::IpUser(ip), at, user, format));
                by_mac || by_ip
            }
            _ => false,
        }
    }

    /// Records a binding of `key` to `value` from `start`. A binding equal
    /// to one already held (a replayed line) changes nothing: returns false.
    fn bind<V: BindingValue>(
        &mut self,
        tenant: &str,
        key: BindingKey,
        start: DateTime<Utc>,
        value: V,
        format: &Label,
    ) -> bool {
        self.insert(tenant, key, start, None, value, format.clone())
    }

    fn insert<V: BindingValue>(
        &mut self,
        tenant: &str,
        key: BindingKey,
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
        value: V,
        format: Label,
    ) -> bool {
        let tenant_id = self.tenant_id(tenant);
        let seq = self.next_seq;
        let leases = &mut self.leases[tenant_id as usize];
        let Some(history) = V::history(leases, key) else { return false };
        let at = history.partition_point(|b| b.start <= start);
        if history.range(..at).rev().take_while(|b| b.start == start).any(|b| value.same(&b.value)) {
            return false;
        }
        history.insert(at, Binding { start, end, value: value.owned(), format, seq });
        let capped = history.len() > MAX_HISTORY;
        if capped {
            history.pop_front();
        }
        self.next_seq += 1;
        self.order.push_back((tenant_id, key, seq));
        self.live += usize::from(!capped);
        while self.live > self.max_bindings {
            self.evict_oldest();
        }
        if self.order.len() > 2 * self.max_bindings + MAX_HISTORY {
            self.compact_order();
        }
        true
    }

    /// Ends the lease of `ip` in force at `at` (only if it is `mac`'s, when
    /// the release names a device). Returns whether the table changed.
    pub fn release(&mut self, tenant: &str, ip: IpAddr, mac: Option<Mac>, at: DateTime<Utc>) -> bool {
        let Some(&tenant_id) = self.tenant_ids.get(tenant) else { return false };
        let max = self.max_binding;
        let Some(history) = self.leases[tenant_id as usize].ip_mac.get_mut(&ip) else { return false };
        let Some(index) = active_index(history, at, max) else { return false };
        let lease = &mut history[index];
        if mac.is_some_and(|mac| mac != lease.value) {
            return false;
        }
        lease.end = Some(at);
        true
    }

    /// The user who held `ip` at `at` in `tenant`, and the log format of the
    /// binding that named them.
    pub fn holder_at(&self, tenant: &str, ip: IpAddr, at: DateTime<Utc>) -> Option<(&str, &Label)> {
        let leases = &self.leases[*self.tenant_ids.get(tenant)? as usize];
        let max = self.max_binding;
        let direct = leases.ip_user.get(&ip).and_then(|h| active(h, at, max)).map(|b| (b.start, b));
        let chained = leases.ip_mac.get(&ip).and_then(|h| active(h, at, max)).and_then(|lease| {
            let login = active(leases.mac_user.get(&lease.value)?, at, max)?;
            Some((lease.start.max(login.start), login))
        });
        let (_, winner) = match (direct, chained) {
            (Some(d), Some(c)) => Some(if c.0 > d.0 { c } else { d }),
            (d, c) => d.or(c),
        }?;
        Some((winner.value.as_str(), &winner.format))
    }

    /// Every binding, in the order it was recorded (the eviction order).
    pub fn bindings(&self) -> impl Iterator<Item = BindingRecord<'_>> {
        self.order.iter().filter_map(|&(tenant_id, key, seq)| {
            let leases = &self.leases[tenant_id as usize];
            let tenant = self.tenant_names[tenant_id as usize].as_str();
            match key {
                BindingKey::IpUser(ip) => record(tenant, key, find_seq(leases.ip_user.get(&ip)?, seq)?, String::clone),
                BindingKey::IpMac(ip) => record(tenant, key, find_seq(leases.ip_mac.get(&ip)?, seq)?, Mac::to_string),
                BindingKey::MacUser(mac) => {
                    record(tenant, key, find_seq(leases.mac_user.get(&mac)?, seq)?, String::clone)
                }
            }
        })
    }

    /// Re-creates a listed binding (restoring a saved table). Returns false
    /// when the value does not fit the key (a device that is not a MAC).
    pub fn restore(&mut self, record: BindingRecord<'_>) -> bool {
        let format = Label::from(record.format.to_string());
        match record.key {
            BindingKey::IpMac(_) => match record.value.parse::<Mac>() {
                Ok(mac) => {
                    self.insert(record.tenant, record.key, record.start, record.end, mac, format);
                    true
                }
                Err(()) => false,
            },
            _ => {
                self.insert(record.tenant, record.key, record.start, record.end, record.value.as_str(), format);
                true
            }
        }
    }

    fn tenant_id(&mut self, tenant: &str) -> u32 {
        if let Some(&id) = self.tenant_ids.get(tenant) {
            return id;
        }
        let id = self.tenant_names.len() as u32;
        self.tenant_ids.insert(tenant.to_string(), id);
        self.tenant_names.push(tenant.to_string());
        self.leases.push(TenantLeases::default());
        id
    }

    /// Drops the binding recorded first.
    fn evict_oldest(&mut self) {
        while let Some((tenant_id, key, seq)) = self.order.pop_front() {
            let leases = &mut self.leases[tenant_id as usize];
            let removed = match key {
                BindingKey::IpUser(ip) => remove_seq(&mut leases.ip_user, ip, seq),
                BindingKey::IpMac(ip) => remove_seq(&mut leases.ip_mac, ip, seq),
                BindingKey::MacUser(mac) => remove_seq(&mut leases.mac_user, mac, seq),
            };
            if removed {
                self.live -= 1;
                return;
            }
        }
    }

    /// Drops order entries whose binding has gone.
    fn compact_order(&mut self) {
        let leases = &self.leases;
        self.order.retain(|&(tenant_id, key, seq)| {
            let leases = &leases[tenant_id as usize];
            match key {
                BindingKey::IpUser(ip) => leases.ip_user.get(&ip).and_then(|h| find_seq(h, seq)).is_some(),
                BindingKey::IpMac(ip) => leases.ip_mac.get(&ip).and_then(|h| find_seq(h, seq)).is_some(),
                BindingKey::MacUser(mac) => leases.mac_user.get(&mac).and_then(|h| find_seq(h, seq)).is_some(),
            }
        });
    }
}

/// A value a binding can hold: a user name or a device.
trait BindingValue {
    /// The stored form.
    type Owned: PartialEq;
    /// The history of `key` in `leases`, if `key` holds this kind of value.
    fn history(leases: &mut TenantLeases, key: BindingKey) -> Option<&mut History<Self::Owned>>;
    /// Whether a stored value equals this one.
    fn same(&self, stored: &Self::Owned) -> bool;
    /// The stored form of this value.
    fn owned(self) -> Self::Owned;
}

impl BindingValue for &str {
    type Owned = String;
    fn history(leases: &mut TenantLeases, key: BindingKey) -> Option<&mut History<String>> {
        match key {
            BindingKey::IpUser(ip) => Some(leases.ip_user.entry(ip).or_default()),
            BindingKey::MacUser(mac) => Some(leases.mac_user.entry(mac).or_default()),
            BindingKey::IpMac(_) => None,
        }
    }
    fn same(&self, stored: &String) -> bool {
        *self == stored
    }
    fn owned(self) -> String {
        self.to_string()
    }
}

impl BindingValue for Mac {
    type Owned = Mac;
    fn history(leases: &mut TenantLeases, key: BindingKey) -> Option<&mut History<Mac>> {
        match key {
            BindingKey::IpMac(ip) => Some(leases.ip_mac.entry(ip).or_default()),
            _ => None,
        }
    }
    fn same(&self, stored: &Mac) -> bool {
        self == stored
    }
    fn owned(self) -> Mac {
        self
    }
}

/// Whether a login name is a person's, not a machine or service account.
fn is_person_account(name: &str) -> bool {
    let name = name.trim();
    let upper_prefix = |prefix: &str| name.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix));
    !(name.is_empty()
        || name == "-"
        || name.ends_with('$')
        || ["SYSTEM", "ANONYMOUS LOGON", "LOCAL SERVICE", "NETWORK SERVICE"]
            .iter()
            .any(|s| name.eq_ignore_ascii_case(s))
        || upper_prefix("DWM-")
        || upper_prefix("UMFD-"))
}

/// Index of the binding of `history` in force at `at`.
fn active_index<V>(history: &History<V>, at: DateTime<Utc>, max: Duration) -> Option<usize> {
    let index = history.partition_point(|b| b.start <= at).checked_sub(1)?;
    let b = &history[index];
    let ended = b.end.is_some_and(|end| at >= end) || at >= b.start + max;
    (!ended).then_some(index)
}

/// The binding of `history` in force at `at`.
fn active<V>(history: &History<V>, at: DateTime<Utc>, max: Duration) -> Option<&Binding<V>> {
    active_index(history, at, max).map(|i| &history[i])
}

/// The listing of binding `b` of `key`, its value shown by `show`.
fn record<'a, V>(
    tenant: &'a str,
    key: BindingKey,
    b: &'a Binding<V>,
    show: impl Fn(&V) -> String,
) -> Option<BindingRecord<'a>> {
    Some(BindingRecord { tenant, key, value: show(&b.value), format: b.format.as_str(), start: b.start, end: b.end })
}

fn find_seq<V>(history: &History<V>, seq: u64) -> Option<&Binding<V>> {
    history.iter().find(|b| b.seq == seq)
}

/// Removes binding `seq` of `key`, and the key when it has no binding left.
fn remove_seq<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, History<V>>, key: K, seq: u64) -> bool {
    let Some(history) = map.get_mut(&key) else { return false };
    let Some(index) = history.iter().position(|b| b.seq == seq) else { return false };
    history.remove(index);
    if history.is_empty() {
        map.remove(&key);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use vigil_core::Outcome;

    /// 2026-03-04 at `h:m` UTC.
    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 4, h, m, 0).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn event(kind: EventKind, action: &'static str, format: &'static str, time: DateTime<Utc>) -> Event {
        let mut e = Event::new(time, kind, action, Outcome::Success, format, format, "");
        e.tenant = "st-marys".into();
        e
    }

    fn login(user: &str, ip: Option<&str>, mac: Option<&str>, format: &'static str, t: DateTime<Utc>) -> Event {
        let mut e = event(EventKind::Auth, "logged-in", format, t);
        e.user_name = Some(user.into());
        e.source_ip = ip.map(str::to_string);
        e.source_mac = mac.map(str::to_string);
        e
    }

    fn lease(action: &'static str, ip: &str, mac: Option<&str>, t: DateTime<Utc>) -> Event {
        let mut e = event(EventKind::Network, action, "isc-dhcpd", t);
        e.source_ip = Some(ip.into());
        e.source_mac = mac.map(str::to_string);
        e
    }

    fn learn(table: &mut LeaseTable, e: &Event) -> bool {
        table.learn(e, e.source_ip.as_deref().and_then(crate::enrich::parse_ip))
    }

    fn table() -> LeaseTable {
        LeaseTable::new(Duration::hours(12), 1000)
    }

    fn holder(table: &LeaseTable, ip_text: &str, t: DateTime<Utc>) -> Option<(String, String)> {
        table.holder_at("st-marys", ip(ip_text), t).map(|(u, f)| (u.to_string(), f.to_string()))
    }

    fn named(user: &str, format: &str) -> Option<(String, String)> {
        Some((user.to_string(), format.to_string()))
    }

    #[test]
    fn two_users_holding_one_address_are_told_apart_by_time() {
        let mut t = table();
        assert!(learn(&mut t, &login("a.pupil", Some("10.1.2.3"), None, "windows-security", at(9, 0))));
        assert!(learn(&mut t, &login("b.pupil", Some("10.1.2.3"), None, "windows-security", at(10, 30))));
        assert_eq!(holder(&t, "10.1.2.3", at(8, 59)), None, "nobody before the first login");
        assert_eq!(holder(&t, "10.1.2.3", at(9, 0)), named("a.pupil", "windows-security"));
        assert_eq!(holder(&t, "10.1.2.3", at(10, 29)), named("a.pupil", "windows-security"));
        assert_eq!(holder(&t, "10.1.2.3", at(10, 42)), named("b.pupil", "windows-security"));
        assert_eq!(holder(&t, "10.1.2.4", at(10, 42)), None);
        assert_eq!(t.holder_at("oak-academy", ip("10.1.2.3"), at(10, 42)), None, "keys are per tenant");
    }

    #[test]
    fn bindings_learnt_out_of_order_still_answer_by_time() {
        let mut t = table();
        learn(&mut t, &login("late", Some("10.1.2.3"), None, "sshd", at(11, 0)));
        learn(&mut t, &login("early", Some("10.1.2.3"), None, "sshd", at(9, 0)));
        assert_eq!(holder(&t, "10.1.2.3", at(10, 0)), named("early", "sshd"));
        assert_eq!(holder(&t, "10.1.2.3", at(11, 0)), named("late", "sshd"));
    }

    #[test]
    fn dhcp_lease_then_radius_login_names_the_device_user() {
        let mut t = table();
        let mac = "3C-22-FB-01-02-03";
        assert!(learn(&mut t, &login("l.evans", None, Some(mac), "radius", at(8, 30))));
        assert!(learn(&mut t, &lease("lease-granted", "10.1.2.3", Some("3c:22:fb:01:02:03"), at(8, 31))));
        assert_eq!(holder(&t, "10.1.2.3", at(10, 42)), named("l.evans", "radius"));
        // The same address leased to another device later belongs to its user.
        learn(&mut t, &login("m.jones", None, Some("aa:bb:cc:dd:ee:ff"), "radius", at(11, 0)));
        learn(&mut t, &lease("lease-granted", "10.1.2.3", Some("aa:bb:cc:dd:ee:ff"), at(11, 5)));
        assert_eq!(holder(&t, "10.1.2.3", at(11, 10)), named("m.jones", "radius"));
        assert_eq!(holder(&t, "10.1.2.3", at(10, 42)), named("l.evans", "radius"), "history kept");
        assert_eq!(holder(&t, "10.1.2.3", at(8, 30)), None, "no lease yet");
    }

    #[test]
    fn the_newer_of_a_direct_login_and_a_lease_chain_wins() {
        let mut t = table();
        learn(&mut t, &login("l.evans", None, Some("3c:22:fb:01:02:03"), "radius", at(8, 0)));
        learn(&mut t, &lease("lease-granted", "10.1.2.3", Some("3c:22:fb:01:02:03"), at(8, 1)));
        learn(&mut t, &login("teacher", Some("10.1.2.3"), None, "windows-security", at(9, 0)));
        assert_eq!(holder(&t, "10.1.2.3", at(8, 30)), named("l.evans", "radius"));
        assert_eq!(holder(&t, "10.1.2.3", at(9, 30)), named("teacher", "windows-security"));
        learn(&mut t, &lease("lease-granted", "10.1.2.3", Some("3c:22:fb:01:02:03"), at(10, 0)));
        assert_eq!(holder(&t, "10.1.2.3", at(10, 1)), named("l.evans", "radius"), "a renewed lease is newer");
    }

    #[test]
    fn a_release_ends_the_lease_at_its_time() {
        let mut t = table();
        learn(&mut t, &login("l.evans", None, Some("3c:22:fb:01:02:03"), "radius", at(8, 0)));
        learn(&mut t, &lease("lease-granted", "10.1.2.3", Some("3c:22:fb:01:02:03"), at(8, 1)));
        assert!(!learn(&mut t, &lease("lease-released", "10.1.2.3", Some("aa:aa:aa:aa:aa:aa"), at(9, 0))));
        assert_eq!(holder(&t, "10.1.2.3", at(9, 30)), named("l.evans", "radius"), "another device's release");
        assert!(learn(&mut t, &lease("lease-released", "10.1.2.3", Some("3c:22:fb:01:02:03"), at(10, 0))));
        assert_eq!(holder(&t, "10.1.2.3", at(9, 59)), named("l.evans", "radius"));
        assert_eq!(holder(&t, "10.1.2.3", at(10, 0)), None);
        assert!(!learn(&mut t, &lease("lease-released", "10.9.9.9", None, at(10, 0))), "nothing to release");
    }

    #[test]
    fn a_binding_without_an_end_expires_after_max_binding_hours() {
        let mut t = LeaseTable::new(Duration::hours(2), 1000);
        learn(&mut t, &login("a", Some("10.1.2.3"), None, "sshd", at(8, 0)));
        assert_eq!(holder(&t, "10.1.2.3", at(9, 59)), named("a", "sshd"));
        assert_eq!(holder(&t, "10.1.2.3", at(10, 0)), None);
    }

    #[test]
    fn replays_service_accounts_and_loopback_bind_nothing() {
        let mut t = table();
        let first = login("a", Some("10.1.2.3"), None, "sshd", at(8, 0));
        assert!(learn(&mut t, &first));
        assert!(!learn(&mut t, &first), "the same line read again changes nothing");
        for account in ["LAB-PC-07$", "SYSTEM", "ANONYMOUS LOGON", "Network Service", "DWM-3", "UMFD-0", "-", ""] {
            assert!(!learn(&mut t, &login(account, Some("10.1.2.3"), None, "windows-security", at(9, 0))), "{account}");
        }
        assert!(!learn(&mut t, &login("a", Some("127.0.0.1"), None, "sshd", at(9, 0))));
        assert!(!learn(&mut t, &login("a", Some("::"), None, "sshd", at(9, 0))));
        let mut failed = login("b", Some("10.1.2.3"), None, "sshd", at(9, 0));
        failed.action = "login-failed".into();
        assert!(!learn(&mut t, &failed));
        assert!(!learn(&mut t, &lease("lease-granted", "10.1.2.3", Some("not-a-mac"), at(9, 0))));
        assert_eq!(t.len(), 1);
        assert_eq!(holder(&t, "10.1.2.3", at(9, 30)), named("a", "sshd"));
    }

    #[test]
    fn the_table_is_bounded_and_evicts_the_first_recorded() {
        let mut t = LeaseTable::new(Duration::hours(12), 3);
        for (i, user) in ["u0", "u1", "u2", "u3"].iter().enumerate() {
            learn(&mut t, &login(user, Some(&format!("10.0.0.{i}")), None, "sshd", at(9, i as u32)));
        }
        assert_eq!(t.len(), 3);
        assert_eq!(holder(&t, "10.0.0.0", at(10, 0)), None, "the first recorded was evicted");
        assert_eq!(holder(&t, "10.0.0.3", at(10, 0)), named("u3", "sshd"));
        let listed: Vec<String> = t.bindings().map(|b| b.value).collect();
        assert_eq!(listed, ["u1", "u2", "u3"]);
    }

    #[test]
    fn one_key_keeps_a_bounded_history_and_the_order_queue_stays_bounded() {
        let mut t = LeaseTable::new(Duration::hours(12), 50);
        for i in 0..1000u32 {
            let time = at(0, 0) + Duration::minutes(i64::from(i));
            learn(&mut t, &login(&format!("u{i}"), Some("10.1.2.3"), None, "sshd", time));
        }
        assert_eq!(t.len(), MAX_HISTORY);
        assert!(t.order.len() <= 2 * 50 + MAX_HISTORY, "order queue {} entries", t.order.len());
        let last = at(0, 0) + Duration::minutes(999);
        assert_eq!(holder(&t, "10.1.2.3", last), named("u999", "sshd"));
        assert_eq!(t.bindings().count(), MAX_HISTORY);
    }

    #[test]
    fn macs_read_in_common_notations() {
        let want = Mac([0x3c, 0x22, 0xfb, 0x01, 0x02, 0x03]);
        for text in ["3c:22:fb:01:02:03", "3C-22-FB-01-02-03", "3c22.fb01.0203", "3C22FB010203"] {
            assert_eq!(text.parse::<Mac>(), Ok(want), "{text}");
        }
        assert_eq!(want.to_string(), "3c:22:fb:01:02:03");
        for bad in ["3c:22:fb:01:02", "3c:22:fb:01:02:03:04", "zz:22:fb:01:02:03", "", "3c:22:fb:01:02:0é"] {
            assert!(bad.parse::<Mac>().is_err(), "{bad}");
        }
    }
}
