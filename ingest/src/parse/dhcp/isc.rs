//! ISC dhcpd messages, as `server/dhcp.c` writes them:
//!
//! ```text
//! DHCPDISCOVER from 3c:22:fb:01:02:03 (LAPTOP-7) via eth0[: network 10.1.2.0/24: no free leases]
//! DHCPOFFER on 10.1.2.3 to 3c:22:fb:01:02:03 (LAPTOP-7) via eth0
//! DHCPREQUEST for 10.1.2.3 (10.1.2.1) from 3c:22:fb:01:02:03 (LAPTOP-7) via eth0[: wrong network]
//! DHCPACK on 10.1.2.3 to 3c:22:fb:01:02:03 (LAPTOP-7) via eth0
//! DHCPACK to 10.1.2.3 (3c:22:fb:01:02:03) via eth0          (reply to DHCPINFORM: no lease)
//! DHCPNAK on 10.1.2.3 to 3c:22:fb:01:02:03 via eth0
//! DHCPRELEASE of 10.1.2.3 from 3c:22:fb:01:02:03 (LAPTOP-7) via eth0 (found)
//! DHCPDECLINE of 10.1.2.3 from 3c:22:fb:01:02:03 (LAPTOP-7) via eth0: abandoned
//! DHCPINFORM from 10.1.2.3 via eth0
//! DHCPLEASEQUERY from 10.1.2.3: LEASEQUERY not allowed, query ignored
//! ```
//!
//! `via` names the interface or the relay address. Infoblox NIOS (whose DHCP
//! server is ISC dhcpd) adds `TransID ...`, `relay ... lease-duration ...`
//! and `uid ...` after it, which become part of the note (a release is
//! `lease-released` when its note starts with `(found)`), and logs
//! `DHCPEXPIRE on IP to MAC` with no `via`. The host name in
//! brackets is the client's, printed only when printable;
//! `Hostname Unsuitable for Printing` is dhcpd's placeholder and is dropped.

use super::{address, is_type_name, malformed, Message, ParseError};
use crate::parse::mac;

/// dhcpd's stand-in for a host name it will not print.
const UNPRINTABLE_HOST: &str = "Hostname Unsuitable for Printing";

/// The message a dhcpd line carries; `Ok(None)` for lines that are not
/// DHCP message reports (BOOTP, failover, start-up); `Err` for a DHCP
/// report cut short.
pub(super) fn parse(msg: &str) -> Result<Option<Message<'_>>, ParseError> {
    let Some((kind, rest)) = msg.split_once(' ') else { return Ok(None) };
    if !kind.strip_prefix("DHCP").is_some_and(is_type_name) {
        return Ok(None);
    }
    read(kind, rest).map(Some).ok_or_else(|| malformed(kind))
}

fn read<'a>(kind: &'a str, mut rest: &'a str) -> Option<Message<'a>> {
    let mut ip = None;
    let mut leased = false;
    if let Some((keyword, after)) = rest.split_once(' ').filter(|(k, _)| matches!(*k, "on" | "of" | "for")) {
        let (addr, after) = after.split_once(' ')?;
        ip = Some(address(addr)?);
        leased = keyword == "on";
        rest = after;
        if keyword == "for" {
            // DHCPREQUEST's server identifier: `for 10.1.2.3 (10.1.2.1) from`.
            if let Some((_, after)) = rest.strip_prefix('(').and_then(|r| r.split_once(") ")) {
                rest = after;
            }
        }
    }
    let (_, after) = rest.split_once(' ').filter(|(k, _)| matches!(*k, "to" | "from"))?;
    let (who, mut rest) = after.split_once(' ').unwrap_or((after, ""));
    // DHCPLEASEQUERY's `from IP: why`.
    let (who, noted) = match who.strip_suffix(':').and_then(address) {
        Some(addr) => (addr, true),
        None => (who, false),
    };
    let mut hw = Some(who);
    if ip.is_none() {
        if let Some(addr) = address(who) {
            // DHCPINFORM from IP; the INFORM reply's `to IP (MAC)`.
            ip = Some(addr);
            hw = None;
            if let Some((inner, after)) = rest.strip_prefix('(').and_then(|r| r.split_once(") ")) {
                hw = Some(inner);
                rest = after;
            }
        }
    }
    let mut host = None;
    if let Some(named) = rest.strip_prefix('(') {
        let close = named.rfind(") via ")?;
        host = Some(&named[..close]).filter(|h| !h.is_empty() && *h != UNPRINTABLE_HOST);
        rest = &named[close + 2..];
    }
    let tail = match rest.strip_prefix("via ") {
        Some(via) => {
            let (relay, tail) = via.split_once([' ', ':']).unwrap_or((via, ""));
            if relay.is_empty() || noted {
                return None;
            }
            tail
        }
        None if noted || (kind == "DHCPEXPIRE" && rest.is_empty()) => rest,
        None => return None,
    };
    let note = tail.trim_start_matches([':', ' ']);
    let note = (!note.is_empty()).then_some(note);
    let action = match kind {
        "DHCPACK" if leased => "lease-granted",
        "DHCPRELEASE" if note.is_none_or(|note| note.starts_with("(found)")) => "lease-released",
        "DHCPEXPIRE" => "lease-released",
        _ => "other",
    };
    Some(Message { kind, action, ip, mac: hw.and_then(mac::normalise), host, note })
}
