//! Hardware (MAC) addresses as logs print them, normalised to the
//! `source.mac` form: six lower-case, two-digit hex octets joined by colons.
//!
//! Accepted spellings: colon or hyphen separated with one or two digits per
//! octet (`3c:22:fb:1:2:3` as older ISC dhcpd prints, `3C-22-FB-01-02-03` as
//! RADIUS Calling-Station-Id usually carries), Cisco dotted (`3c22.fb01.0203`)
//! and bare (`3C22FB010203`).

/// The normalised form of `text` when it is a 48-bit hardware address in one
/// of the accepted spellings; `None` otherwise (an IP address, a DHCPv6 DUID,
/// a client id of another length).
pub fn normalise(text: &str) -> Option<String> {
    let octets = if text.contains([':', '-']) {
        separated(text)?
    } else if text.contains('.') {
        grouped(text, 3, 4)?
    } else {
        grouped(text, 1, 12)?
    };
    let mut out = String::with_capacity(17);
    for (i, octet) in octets.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{octet:02x}"));
    }
    Some(out)
}

/// `a:b:c:d:e:f` or `a-b-c-d-e-f`, one or two hex digits each.
fn separated(text: &str) -> Option<[u8; 6]> {
    let sep = if text.contains(':') { ':' } else { '-' };
    let mut octets = [0u8; 6];
    let mut parts = text.split(sep);
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        *octet = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(octets)
}

/// `count` groups of `width` hex digits separated by dots (one group: no
/// dot at all), read as twelve digits.
fn grouped(text: &str, count: usize, width: usize) -> Option<[u8; 6]> {
    let mut digits = String::with_capacity(12);
    let mut groups = 0;
    for group in text.split('.') {
        if group.len() != width || !group.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        digits.push_str(group);
        groups += 1;
    }
    if groups != count {
        return None;
    }
    let mut octets = [0u8; 6];
    for (i, octet) in octets.iter_mut().enumerate() {
        *octet = u8::from_str_radix(digits.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(octets)
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn every_spelling_normalises_to_lower_case_colons() {
        for text in ["3c:22:fb:01:02:03", "3C-22-FB-01-02-03", "3c22.fb01.0203", "3C22FB010203", "3c:22:fb:1:2:3"] {
            assert_eq!(normalise(text).as_deref(), Some("3c:22:fb:01:02:03"), "{text}");
        }
    }

    #[test]
    fn other_identifiers_are_not_macs() {
        for text in [
            "",
            "10.1.2.3",
            "2001:db8::1",
            "00:01:00:01:2a:3b:4c:5d:3c:22:fb:01:02:03",
            "3c:22:fb:01:02",
            "3c:22:fb:01:02:",
            "3c:22:fb:01:02:003",
            "3c-22:fb-01:02-03",
            "3c22fb01020",
            "3c22.fb01.020g",
            "zz:22:fb:01:02:03",
            "+c:22:fb:01:02:03",
        ] {
            assert_eq!(normalise(text), None, "{text}");
        }
    }
}
