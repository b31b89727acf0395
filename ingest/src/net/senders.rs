//! Which tenant a syslog sender belongs to: one source can receive the logs
//! of many schools, told apart by the sender's address.

use ipnet::IpNet;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Sender address blocks and their tenants, most specific block first.
#[derive(Debug, Clone)]
pub struct SenderMap {
    blocks: Vec<(IpNet, String)>,
    default_tenant: String,
}

impl SenderMap {
    /// Reads the `senders` table (keys are addresses or CIDR blocks); senders
    /// it does not match belong to `default_tenant`. `Err` names the key
    /// that is neither.
    pub fn new(senders: &BTreeMap<String, String>, default_tenant: &str) -> Result<Self, String> {
        let mut blocks = senders
            .iter()
            .map(|(key, tenant)| {
                let block = key.parse::<IpNet>().or_else(|_| key.parse::<IpAddr>().map(IpNet::from)).map_err(|_| {
                    format!("sender {key:?} is neither an IP address nor a CIDR block like 10.1.0.0/16")
                })?;
                Ok((block.trunc(), tenant.clone()))
            })
            .collect::<Result<Vec<_>, String>>()?;
        blocks.sort_by_key(|(block, _)| std::cmp::Reverse(block.prefix_len()));
        Ok(SenderMap { blocks, default_tenant: default_tenant.to_string() })
    }

    /// The tenant of `sender`: the most specific block holding it, else the
    /// default. IPv4 senders seen on an IPv6 socket (`::ffff:10.1.2.3`)
    /// match IPv4 blocks.
    pub fn tenant(&self, sender: IpAddr) -> &str {
        let sender = sender.to_canonical();
        self.blocks.iter().find(|(block, _)| block.contains(&sender)).map_or(&self.default_tenant, |(_, t)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> Result<SenderMap, String> {
        let senders = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        SenderMap::new(&senders, "trust")
    }

    #[test]
    fn most_specific_block_wins_and_others_get_the_default() {
        let m = map(&[("10.0.0.0/8", "la"), ("10.1.0.0/16", "st-marys"), ("10.1.2.5", "oak"), ("2001:db8::/32", "v6")])
            .unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(m.tenant(ip("10.1.2.5")), "oak");
        assert_eq!(m.tenant(ip("10.1.2.6")), "st-marys");
        assert_eq!(m.tenant(ip("10.9.0.1")), "la");
        assert_eq!(m.tenant(ip("192.168.0.1")), "trust");
        assert_eq!(m.tenant(ip("::ffff:10.1.2.5")), "oak");
        assert_eq!(m.tenant(ip("2001:db8::1")), "v6");
    }

    #[test]
    fn host_bits_in_a_block_are_ignored() {
        let m = map(&[("10.1.2.3/16", "st-marys")]).unwrap();
        assert_eq!(m.tenant("10.1.200.1".parse().unwrap()), "st-marys");
    }

    #[test]
    fn a_bad_key_is_named() {
        let err = map(&[("10.1.0.0/33", "x")]).unwrap_err();
        assert!(err.contains("\"10.1.0.0/33\""), "{err}");
        assert!(map(&[("school.example", "x")]).is_err());
    }
}
