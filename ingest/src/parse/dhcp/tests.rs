use super::*;
use crate::parse::testutil::{ctx, parse_lines};

fn one(line: &str) -> Event {
    let mut events = parse_lines(&mut DhcpParser, &[line]).unwrap();
    assert_eq!(events.len(), 1, "{line}");
    events.remove(0)
}

/// Action, address, MAC, device, reason.
type Summary<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn summary(e: &Event) -> Summary<'_> {
    (e.action.as_str(), e.source_ip.as_deref(), e.source_mac.as_deref(), e.device_name.as_deref(), e.reason.as_deref())
}

fn isc(message: &str) -> Event {
    one(&format!("Mar  4 10:42:00 dhcp1 dhcpd[123]: {message}"))
}

fn dnsmasq(message: &str) -> Event {
    one(&format!("Mar  4 10:42:00 gw dnsmasq-dhcp[456]: {message}"))
}

#[test]
fn isc_ack_is_a_lease_with_every_field() {
    let line = "Mar  4 10:42:00 dhcp1 dhcpd[123]: DHCPACK on 10.1.2.3 to 3c:22:fb:01:02:03 (LAPTOP-7) via eth0";
    let e = one(line);
    assert_eq!(
        summary(&e),
        ("lease-granted", Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), Some("LAPTOP-7"), Some("DHCPACK"))
    );
    assert_eq!((e.kind, e.outcome), (EventKind::Network, Outcome::Success));
    assert_eq!((e.observer_product.as_str(), e.log_format.as_str()), ("isc-dhcpd", "dhcp"));
    assert_eq!(e.host_name.as_deref(), Some("dhcp1"));
    assert_eq!(e.timestamp.to_rfc3339(), "2026-03-04T10:42:00+00:00");
    assert_eq!((e.user_name, e.source_port), (None, None));
    assert_eq!(e.message, line);
    let c = ctx();
    assert_eq!(e.id, Event::derive_id(c.tenant, c.source, c.offset, line.as_bytes()));
    // Relayed, no host name, older dhcpd's one-digit octets.
    let e = isc("DHCPACK on 10.1.2.4 to 0:c:29:ab:cd:ef via 10.1.0.1");
    assert_eq!(summary(&e), ("lease-granted", Some("10.1.2.4"), Some("00:0c:29:ab:cd:ef"), None, Some("DHCPACK")));
}

#[test]
fn isc_releases_and_the_rest_of_the_exchange() {
    let e = isc("DHCPRELEASE of 10.1.2.3 from 3c:22:fb:01:02:03 (LAPTOP-7) via eth0 (found)");
    assert_eq!(
        summary(&e),
        ("lease-released", Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), Some("LAPTOP-7"), Some("DHCPRELEASE; (found)"))
    );
    assert_eq!(e.outcome, Outcome::Success);
    let e = isc("DHCPRELEASE of 10.1.2.3 from 3c:22:fb:01:02:03 via eth0 (not found)");
    assert_eq!(summary(&e).0, "other");
    assert_eq!(e.outcome, Outcome::Unknown);
    let e = isc("DHCPEXPIRE on 10.1.2.3 to 3c:22:fb:01:02:03 via eth0");
    assert_eq!(summary(&e).0, "lease-released");
    for (message, want) in [
        (
            "DHCPDISCOVER from 3c:22:fb:01:02:03 (LAPTOP-7) via eth0",
            (None, Some("3c:22:fb:01:02:03"), Some("LAPTOP-7"), "DHCPDISCOVER"),
        ),
        (
            "DHCPDISCOVER from 3c:22:fb:01:02:03 via eth0: network 10.1.2.0/24: no free leases",
            (None, Some("3c:22:fb:01:02:03"), None, "DHCPDISCOVER; network 10.1.2.0/24: no free leases"),
        ),
        (
            "DHCPOFFER on 10.1.2.3 to 3c:22:fb:01:02:03 (LAPTOP-7) via eth0",
            (Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), Some("LAPTOP-7"), "DHCPOFFER"),
        ),
        (
            "DHCPREQUEST for 10.1.2.3 (10.1.2.1) from 3c:22:fb:01:02:03 (LAPTOP-7) via eth0",
            (Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), Some("LAPTOP-7"), "DHCPREQUEST"),
        ),
        (
            "DHCPREQUEST for 10.9.9.9 from 3c:22:fb:01:02:03 via eth0: wrong network.",
            (Some("10.9.9.9"), Some("3c:22:fb:01:02:03"), None, "DHCPREQUEST; wrong network."),
        ),
        (
            "DHCPNAK on 10.9.9.9 to 3c:22:fb:01:02:03 via eth0",
            (Some("10.9.9.9"), Some("3c:22:fb:01:02:03"), None, "DHCPNAK"),
        ),
        (
            "DHCPDECLINE of 10.1.2.3 from 3c:22:fb:01:02:03 (LAPTOP-7) via eth0: abandoned",
            (Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), Some("LAPTOP-7"), "DHCPDECLINE; abandoned"),
        ),
        ("DHCPINFORM from 10.1.2.3 via eth0", (Some("10.1.2.3"), None, None, "DHCPINFORM")),
        (
            "DHCPACK to 10.1.2.3 (3c:22:fb:01:02:03) via eth0",
            (Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), None, "DHCPACK"),
        ),
        (
            "DHCPOFFER on 10.1.2.3 to 3c:22:fb:01:02:03 (Hostname Unsuitable for Printing) via eth0",
            (Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), None, "DHCPOFFER"),
        ),
        (
            "DHCPREQUEST for 10.1.2.3 from 1:3c:22:fb:01:02:03:04 via eth0",
            (Some("10.1.2.3"), None, None, "DHCPREQUEST"),
        ),
    ] {
        let e = isc(message);
        assert_eq!(summary(&e), ("other", want.0, want.1, want.2, Some(want.3)), "{message}");
    }
}

#[test]
fn infoblox_nios_dhcpd_additions_after_via() {
    // Infoblox NIOS runs ISC dhcpd and appends TransID / relay / uid notes.
    let e = isc("DHCPACK on 10.20.1.44 to 3c:22:fb:01:02:03 (LIB-PC-07) via eth1 relay 10.20.0.1 lease-duration 28800 (RENEW) uid 01:3c:22:fb:01:02:03");
    assert_eq!(
        summary(&e),
        (
            "lease-granted",
            Some("10.20.1.44"),
            Some("3c:22:fb:01:02:03"),
            Some("LIB-PC-07"),
            Some("DHCPACK; relay 10.20.0.1 lease-duration 28800 (RENEW) uid 01:3c:22:fb:01:02:03")
        )
    );
    let e = isc("DHCPRELEASE of 10.20.1.44 from 3c:22:fb:01:02:03 (LIB-PC-07) via eth1 (found) TransID 0286f3d0 uid 01:3c:22:fb:01:02:03");
    assert_eq!((e.action.as_str(), e.source_ip.as_deref()), ("lease-released", Some("10.20.1.44")));
    let e = isc("DHCPRELEASE of 10.20.1.44 from 3c:22:fb:01:02:03 via eth1 (not found) TransID 665fd9f1");
    assert_eq!(e.action, "other");
    let e = isc("DHCPEXPIRE on 10.20.1.44 to 3c:22:fb:01:02:03");
    assert_eq!(
        summary(&e),
        ("lease-released", Some("10.20.1.44"), Some("3c:22:fb:01:02:03"), None, Some("DHCPEXPIRE"))
    );
    let e = isc("DHCPLEASEQUERY from 10.20.0.1: LEASEQUERY not allowed, query ignored");
    assert_eq!(
        summary(&e),
        ("other", Some("10.20.0.1"), None, None, Some("DHCPLEASEQUERY; LEASEQUERY not allowed, query ignored"))
    );
    // Without a via or a note, only an expiry is whole.
    assert!(parse_lines(
        &mut DhcpParser,
        &["Mar  4 10:42:00 dhcp1 dhcpd[1]: DHCPNAK on 10.20.1.44 to 3c:22:fb:01:02:03"]
    )
    .is_err());
}

#[test]
fn a_second_space_after_the_tag_is_skipped() {
    let e = dnsmasq(" DHCPACK(br0) 192.168.50.74 b8:7b:c5:36:c8:b5 ipad-y7");
    assert_eq!(
        summary(&e),
        ("lease-granted", Some("192.168.50.74"), Some("b8:7b:c5:36:c8:b5"), Some("ipad-y7"), Some("DHCPACK"))
    );
    assert_eq!(isc(" DHCPACK on 10.1.2.3 to 3c:22:fb:01:02:03 via eth0").action, "lease-granted");
}

#[test]
fn isc_host_names_with_brackets_and_via() {
    let e = isc("DHCPACK on 10.1.2.3 to 3c:22:fb:01:02:03 (Jo's (new) PC) via x) via eth0");
    assert_eq!(e.device_name.as_deref(), Some("Jo's (new) PC) via x"));
}

#[test]
fn dnsmasq_leases_and_the_rest() {
    let line = "Mar  4 10:42:00 gw dnsmasq-dhcp[456]: DHCPACK(eth0) 10.1.2.3 3c:22:fb:01:02:03 laptop-7";
    let e = one(line);
    assert_eq!(
        summary(&e),
        ("lease-granted", Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), Some("laptop-7"), Some("DHCPACK"))
    );
    assert_eq!((e.kind, e.outcome, e.observer_product.as_str()), (EventKind::Network, Outcome::Success, "dnsmasq"));
    assert_eq!(e.host_name.as_deref(), Some("gw"));
    let e = dnsmasq("2883305024 DHCPACK(br-lan) 10.1.2.3 3c:22:fb:01:02:03 ");
    assert_eq!(summary(&e), ("lease-granted", Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), None, Some("DHCPACK")));
    let e = dnsmasq("DHCPRELEASE(eth0) 10.1.2.3 3c:22:fb:01:02:03");
    assert_eq!(summary(&e), ("lease-released", Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), None, Some("DHCPRELEASE")));
    let e = dnsmasq("DHCPRELEASE(eth0) 10.1.2.3 3c:22:fb:01:02:03 unknown lease");
    assert_eq!(summary(&e).0, "other");
    assert_eq!(e.reason.as_deref(), Some("DHCPRELEASE; unknown lease"));
    for (message, want) in [
        ("DHCPDISCOVER(eth0) 3c:22:fb:01:02:03 ", (None, Some("3c:22:fb:01:02:03"), None, "DHCPDISCOVER")),
        (
            "DHCPDISCOVER(eth0) 3c:22:fb:01:02:03 no address available",
            (None, Some("3c:22:fb:01:02:03"), None, "DHCPDISCOVER; no address available"),
        ),
        (
            "DHCPOFFER(eth0) 10.1.2.3 3c:22:fb:01:02:03 ",
            (Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), None, "DHCPOFFER"),
        ),
        (
            "DHCPREQUEST(eth0) 10.1.2.3 3c:22:fb:01:02:03 ",
            (Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), None, "DHCPREQUEST"),
        ),
        (
            "DHCPNAK(eth0) 10.1.2.3 3c:22:fb:01:02:03 wrong network",
            (Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), None, "DHCPNAK; wrong network"),
        ),
        (
            "DHCPINFORM(eth0) 10.1.2.3 3c:22:fb:01:02:03 ",
            (Some("10.1.2.3"), Some("3c:22:fb:01:02:03"), None, "DHCPINFORM"),
        ),
        (
            "DHCPREPLY(eth0) 2001:db8::5 00:01:00:01:2a:3b:4c:5d:3c:22:fb:01:02:03 laptop-7",
            (Some("2001:db8::5"), None, None, "DHCPREPLY; laptop-7"),
        ),
        (
            "DHCPINFORMATION-REQUEST(eth0) 00:01:00:01:2a:3b:4c:5d:3c:22:fb:01:02:03 laptop-7",
            (None, None, None, "DHCPINFORMATION-REQUEST; laptop-7"),
        ),
    ] {
        let e = dnsmasq(message);
        assert_eq!(summary(&e), ("other", want.0, want.1, want.2, Some(want.3)), "{message}");
    }
}

#[test]
fn other_programs_and_non_message_lines_are_kept_as_other() {
    for line in [
        "Mar  4 10:42:00 gw dnsmasq[456]: query[A] www.bing.com from 10.1.2.3",
        "Mar  4 10:42:00 gw dnsmasq-dhcp[456]: DHCP, IP range 10.1.2.50 -- 10.1.2.150, lease time 12h",
        "Mar  4 10:42:00 gw dnsmasq-dhcp[456]: 2883305024 vendor class: MSFT 5.0",
        "Mar  4 10:42:00 gw dnsmasq-dhcp[456]: 2883305024 PXE(eth0) 10.1.2.3 3c:22:fb:01:02:03 proxy",
        "Mar  4 10:42:00 dhcp1 dhcpd[123]: Wrote 42 leases to leases file.",
        "Mar  4 10:42:00 dhcp1 dhcpd[123]: BOOTREQUEST from 3c:22:fb:01:02:03 via eth0",
        "Mar  4 10:42:00 dhcp1 dhcpd[123]: DHCPACK",
        "Mar  4 10:42:00 dhcp1 sshd[9]: Accepted password for root from 10.0.0.1 port 22 ssh2",
        "2026-03-04T10:42:00.123456+00:00 dhcp1 systemd[1]: Started isc-dhcp-server.service.",
    ] {
        let e = one(line);
        assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Network, "other", Outcome::Unknown), "{line}");
        assert_eq!((e.source_ip.as_deref(), e.source_mac.as_deref()), (None, None), "{line}");
        assert_eq!(e.message, line);
    }
}

#[test]
fn hostile_content_is_kept_verbatim() {
    let line = "Mar  4 10:42:00 dhcp1 dhcpd[123]: DHCPACK on 10.1.2.3 to 3c:22:fb:01:02:03 (<img src=x onerror=alert(1)>\u{1b}[31m) via eth0";
    let e = one(line);
    assert_eq!(e.message, line);
    assert_eq!(e.device_name.as_deref(), Some("<img src=x onerror=alert(1)>\u{1b}[31m"));
}

#[test]
fn broken_lines_are_rejected() {
    for (line, reason) in [
        ("", "no syslog timestamp"),
        ("1709548920.123 5 10.0.0.1 TCP_MISS/200 5120 GET http://a/ - HIER_NONE/- -", "no syslog timestamp"),
        ("Mar  4 10:42:00 dhcp1 dhcpd[123]: DHCPACK on 10.1.2.3 to 3c:22:fb:01:02:03", "DHCPACK line is truncated"),
        ("Mar  4 10:42:00 dhcp1 dhcpd[123]: DHCPACK on 10.1.2.3 to 3c:22:fb:01:02:03 (LAPT", "truncated"),
        ("Mar  4 10:42:00 dhcp1 dhcpd[123]: DHCPACK on 10.1.2.3 to 3c:22:fb:01:02:03 via ", "truncated"),
        ("Mar  4 10:42:00 dhcp1 dhcpd[123]: DHCPACK on 10.1.2 to 3c:22:fb:01:02:03 via eth0", "truncated"),
        ("Mar  4 10:42:00 dhcp1 dhcpd[123]: DHCPRELEASE of 10.1.2.3", "DHCPRELEASE line is truncated"),
        ("Mar  4 10:42:00 gw dnsmasq-dhcp[456]: DHCPACK(eth0", "DHCPACK line is truncated"),
        ("Mar  4 10:42:00 gw dnsmasq-dhcp[456]: DHCPACK(eth0) 10.1.2.3 3c:22:fb:01:0", "truncated"),
        ("Mar  4 10:42:00 gw dnsmasq-dhcp[456]: DHCPACK(eth0) 10.1.2.3", "truncated"),
        ("Mar  4 10:42:00 gw dnsmasq-dhcp[456]: DHCPACK(eth0) 10.1.2", "truncated"),
        ("Mar  4 10:42:00 gw dnsmasq-dhcp[456]: DHCPDISCOVER(eth0) 3c:22", "truncated"),
    ] {
        let got = parse_lines(&mut DhcpParser, &[line]).unwrap_err().0;
        assert!(got.contains(reason), "{line}: {got}");
    }
}

#[test]
fn truncation_at_every_byte_never_panics_or_invents_a_lease() {
    for full in [
        "Mar  4 10:42:00 dhcp1 dhcpd[123]: DHCPACK on 10.1.2.3 to 3c:22:fb:01:02:03 (LAPTOP-7) via eth0",
        "Mar  4 10:42:00 dhcp1 dhcpd[123]: DHCPRELEASE of 10.1.2.3 from 3c:22:fb:01:02:03 (LAPTOP-7) via eth0 (found)",
        "Mar  4 10:42:00 gw dnsmasq-dhcp[456]: 2883305024 DHCPACK(eth0) 10.1.2.3 3c:22:fb:01:02:03 laptop-7",
    ] {
        for cut in 0..full.len() {
            if let Ok(events) = parse_lines(&mut DhcpParser, &[&full[..cut]]) {
                for e in events.iter().filter(|e| e.action != "other") {
                    assert_eq!(
                        (e.source_ip.as_deref(), e.source_mac.as_deref()),
                        (Some("10.1.2.3"), Some("3c:22:fb:01:02:03")),
                        "{}",
                        &full[..cut]
                    );
                }
            }
        }
    }
}
