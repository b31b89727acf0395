//! dnsmasq's DHCP messages (syslog tag `dnsmasq-dhcp`), as `log_packet` in
//! `rfc2131.c` writes them: `TYPE(INTERFACE) [ADDRESS ]HWADDR STRING`, with
//! the transaction id first when `log-dhcp` is set:
//!
//! ```text
//! DHCPDISCOVER(eth0) 3c:22:fb:01:02:03
//! DHCPOFFER(eth0) 10.1.2.3 3c:22:fb:01:02:03
//! DHCPACK(eth0) 10.1.2.3 3c:22:fb:01:02:03 laptop-7
//! DHCPNAK(eth0) 10.1.2.3 3c:22:fb:01:02:03 wrong network
//! DHCPRELEASE(eth0) 10.1.2.3 3c:22:fb:01:02:03
//! 2883305024 DHCPACK(eth0) 10.1.2.3 3c:22:fb:01:02:03 laptop-7
//! ```
//!
//! `STRING` is the client's host name on offers and acknowledgements, an
//! error otherwise (`wrong network`, `unknown lease`). Hardware addresses
//! are two hex digits per octet; DHCPv6 lines (`DHCPREPLY(eth0) 2001:db8::5
//! 00:01:00:01:...`) carry a DUID there, which is not a MAC.

use super::{address, is_type_name, malformed, Message, ParseError};
use crate::parse::mac;

/// The message a dnsmasq-dhcp line carries; `Ok(None)` for lines that are
/// not DHCP message reports (`DHCP, IP range ...`, option dumps); `Err` for
/// a DHCP report cut short.
pub(super) fn parse(msg: &str) -> Result<Option<Message<'_>>, ParseError> {
    let msg = strip_transaction_id(msg);
    let Some((kind, rest)) = msg.split_once('(') else { return Ok(None) };
    if !kind.strip_prefix("DHCP").is_some_and(is_type_name) {
        return Ok(None);
    }
    read(kind, rest).map(Some).ok_or_else(|| malformed(kind))
}

fn read<'a>(kind: &'a str, rest: &'a str) -> Option<Message<'a>> {
    let (interface, rest) = rest.split_once(") ")?;
    if interface.is_empty() {
        return None;
    }
    let (first, after) = word(rest);
    let (ip, (hw, after)) = match address(first) {
        Some(ip) => (Some(ip), word(after)),
        None => (None, (first, after)),
    };
    if cut_short(hw) {
        return None;
    }
    let string = after.trim_matches(' ');
    let string = (!string.is_empty()).then_some(string);
    let names_host = matches!(kind, "DHCPACK" | "DHCPOFFER") && string.is_some_and(|s| !s.contains(' '));
    let (host, note) = if names_host { (string, None) } else { (None, string) };
    let action = match kind {
        "DHCPACK" => "lease-granted",
        "DHCPRELEASE" if note.is_none() => "lease-released",
        _ => "other",
    };
    if action != "other" && (ip.is_none() || hw.is_empty()) {
        return None;
    }
    Some(Message { kind, action, ip, mac: mac::normalise(hw), host, note })
}

/// The text after `log-dhcp`'s leading transaction id, if any.
fn strip_transaction_id(msg: &str) -> &str {
    match msg.split_once(' ') {
        Some((id, rest)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => msg,
    }
}

/// The next space-delimited word and the text after it.
fn word(text: &str) -> (&str, &str) {
    text.split_once(' ').unwrap_or((text, ""))
}

/// Whether `hw` is a hardware address cut off at the end of a truncated
/// line: hex and colons, up to six groups, not six of two digits.
fn cut_short(hw: &str) -> bool {
    let hexish = !hw.is_empty() && hw.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
    let groups = hw.split(':').count();
    hexish && groups <= 6 && (groups < 6 || hw.split(':').any(|g| g.len() != 2))
}
