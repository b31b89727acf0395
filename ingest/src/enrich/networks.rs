//! Tenants by network (`[[enrich.networks]]`): the tenant of the most
//! specific listed network holding an address.
//!
//! Lookups cost one masked hash-map probe per distinct prefix length listed
//! (longest first), so a trust with hundreds of school networks stays cheap.

use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use vigil_core::config::NetworkTenant;
use vigil_core::Label;

/// The networks of one prefix length, keyed by network address.
struct PrefixTable {
    prefix_len: u8,
    is_v4: bool,
    networks: HashMap<IpAddr, Label>,
}

/// Listed networks and their tenants.
#[derive(Default)]
pub struct NetworkMap {
    /// Longest prefix first, so the first hit is the most specific network.
    tables: Vec<PrefixTable>,
}

impl NetworkMap {
    /// The map of `networks` (host bits in a listed network are ignored:
    /// `10.1.2.3/16` means `10.1.0.0/16`).
    pub fn new(networks: &[NetworkTenant]) -> Self {
        let mut tables: Vec<PrefixTable> = Vec::new();
        for n in networks {
            let net = n.cidr.trunc();
            let (prefix_len, is_v4) = (net.prefix_len(), matches!(net, IpNet::V4(_)));
            let table = match tables.iter().position(|t| t.prefix_len == prefix_len && t.is_v4 == is_v4) {
                Some(i) => &mut tables[i],
                None => {
                    tables.push(PrefixTable { prefix_len, is_v4, networks: HashMap::new() });
                    tables.last_mut().expect("just pushed")
                }
            };
            table.networks.insert(net.network(), Label::from(n.tenant.clone()));
        }
        tables.sort_by_key(|t| std::cmp::Reverse(t.prefix_len));
        NetworkMap { tables }
    }

    /// Whether no network is listed.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The tenant of the most specific listed network holding `ip`.
    pub fn tenant_of(&self, ip: IpAddr) -> Option<&Label> {
        self.tables.iter().filter(|t| t.is_v4 == ip.is_ipv4()).find_map(|t| {
            let network = IpNet::new(ip, t.prefix_len).ok()?.network();
            t.networks.get(&network)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, &str)]) -> NetworkMap {
        let networks: Vec<NetworkTenant> = entries
            .iter()
            .map(|(cidr, tenant)| NetworkTenant { cidr: cidr.parse().unwrap(), tenant: tenant.to_string() })
            .collect();
        NetworkMap::new(&networks)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn most_specific_network_wins_whatever_the_listing_order() {
        let m = map(&[("10.0.0.0/8", "trust"), ("10.1.2.0/24", "library"), ("10.1.0.0/16", "st-marys")]);
        assert_eq!(m.tenant_of(ip("10.1.2.3")).map(Label::as_str), Some("library"));
        assert_eq!(m.tenant_of(ip("10.1.9.9")).map(Label::as_str), Some("st-marys"));
        assert_eq!(m.tenant_of(ip("10.200.0.1")).map(Label::as_str), Some("trust"));
        assert_eq!(m.tenant_of(ip("192.168.0.1")), None);
    }

    #[test]
    fn host_bits_in_the_config_are_ignored_and_families_kept_apart() {
        let m = map(&[("10.1.2.3/16", "st-marys"), ("2001:db8:1::/48", "oak-academy"), ("0.0.0.0/0", "any-v4")]);
        assert_eq!(m.tenant_of(ip("10.1.200.1")).map(Label::as_str), Some("st-marys"));
        assert_eq!(m.tenant_of(ip("2001:db8:1:5::42")).map(Label::as_str), Some("oak-academy"));
        assert_eq!(m.tenant_of(ip("2001:db8:2::1")), None, "an IPv6 address is not in 0.0.0.0/0");
        assert_eq!(m.tenant_of(ip("8.8.8.8")).map(Label::as_str), Some("any-v4"));
        assert!(!m.is_empty() && map(&[]).is_empty());
    }
}
