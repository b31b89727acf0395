//! DHCP server lease lines from syslog: ISC dhcpd and dnsmasq.
//!
//! Lines carry a syslog header (see [`syslog`](super::syslog): year-less
//! traditional timestamps are read as UTC). Messages of `dhcpd` (see
//! [`isc`]) and `dnsmasq-dhcp` (see [`dnsmasq`]) become `network` events:
//! `lease-granted` for DHCPACK of a lease, `lease-released` for DHCPRELEASE
//! (and DHCPEXPIRE), `other` for the rest of the exchange (DISCOVER, OFFER,
//! REQUEST, INFORM, NAK, DECLINE, releases of unknown leases, pool and
//! start-up messages). Every other program's line in the same file becomes a
//! `network` event with action `other`.
//!
//! Fields: `source.ip` the address leased (or asked for), `source.mac` the
//! client's hardware address (normalised; absent for non-Ethernet client
//! ids and DHCPv6 DUIDs), `device.name` the client's host name as the server
//! logged it, `host.name` the DHCP server, `event.reason` the DHCP message
//! type and any note the server added (`DHCPNAK; wrong network`).

mod dnsmasq;
mod isc;
#[cfg(test)]
mod tests;

use super::{syslog, LineContext, LineUse, ParseError, Parser};
use vigil_core::{Event, EventKind, Outcome};

/// Reads ISC dhcpd and dnsmasq lease lines; stateless.
#[derive(Debug, Default)]
pub struct DhcpParser;

/// What one DHCP server message says.
#[derive(Debug, PartialEq, Eq)]
struct Message<'a> {
    /// `DHCPACK`, `DHCPRELEASE`...
    kind: &'a str,
    action: &'static str,
    ip: Option<&'a str>,
    mac: Option<String>,
    host: Option<&'a str>,
    /// What the server added after the addresses (`wrong network`).
    note: Option<&'a str>,
}

impl Parser for DhcpParser {
    fn name(&self) -> &'static str {
        "dhcp"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let sys = syslog::parse(line, ctx.now).map_err(|e| ParseError(e.to_string()))?;
        // Some routers' syslog daemons leave a second space after the tag.
        let text = sys.message.trim_start_matches(' ');
        let (product, message) = match sys.program {
            "dhcpd" => ("isc-dhcpd", isc::parse(text)?),
            "dnsmasq-dhcp" => ("dnsmasq", dnsmasq::parse(text)?),
            _ => {
                out.push(super::other_syslog_event(EventKind::Network, &sys, "dhcp", line, ctx));
                return Ok(LineUse::Event);
            }
        };
        let (action, outcome) = match message.as_ref().map(|m| m.action) {
            Some(action) if action != "other" => (action, Outcome::Success),
            _ => ("other", Outcome::Unknown),
        };
        let mut e = Event::new(sys.timestamp, EventKind::Network, action, outcome, product, "dhcp", line);
        super::set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        e.host_name = sys.host.map(str::to_string);
        if let Some(m) = message {
            e.reason = Some(match m.note {
                Some(note) => format!("{}; {note}", m.kind),
                None => m.kind.to_string(),
            });
            e.source_ip = m.ip.map(str::to_string);
            e.source_mac = m.mac;
            e.device_name = m.host.map(str::to_string);
        }
        out.push(e);
        Ok(LineUse::Event)
    }
}

fn malformed(kind: &str) -> ParseError {
    ParseError(format!("dhcp {kind} line is truncated or malformed"))
}

/// `kind` when it is a DHCP message type name: upper-case letters and `-`
/// (`ACK`, `INFORMATION-REQUEST`).
fn is_type_name(kind: &str) -> bool {
    !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_uppercase() || b == b'-')
}

/// The address `text` as written, when it is one.
fn address(text: &str) -> Option<&str> {
    text.parse::<std::net::IpAddr>().is_ok().then_some(text)
}
