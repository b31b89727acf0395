use super::*;
use crate::parse::testutil::{at, ctx, ctx_at, parse_lines, parse_lines_with_use, parse_one};
use crate::parse::AutoParser;
use vigil_core::Outcome;

fn router() -> SyslogRouter {
    SyslogRouter::new(&IngestConfig::default())
}

/// A school gateway's `/var/log/syslog`: every program writes to it.
const MIXED: &[&str] = &[
    "Mar  4 07:29:50 gw01 systemd[1]: Starting isc-dhcp-server.service - ISC DHCP IPv4 server...",
    "Mar  4 07:29:50 gw01 dhcpd[911]: Internet Systems Consortium DHCP Server 4.4.3-P1",
    "Mar  4 07:30:01 gw01 CRON[1104]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    "Mar  4 08:55:01 gw01 postfix/smtpd[3310]: connect from mail.parents.example[198.51.100.23]",
    "Mar  4 08:55:01 gw01 postfix/smtpd[3310]: 4C1A21E0F3: client=mail.parents.example[198.51.100.23]",
    "Mar  4 08:55:02 gw01 sshd[20911]: Accepted password for itadmin from 10.20.0.5 port 52144 ssh2",
    "Mar  4 08:55:02 gw01 postfix/cleanup[3312]: 4C1A21E0F3: message-id=<20260304085501.4C1A21E0F3@parents.example>",
    "Mar  4 08:55:02 gw01 postfix/qmgr[1201]: 4C1A21E0F3: from=<office@parents.example>, size=18231, nrcpt=1 (queue active)",
    "Mar  4 08:55:02 gw01 exim[2203]: 1rKxYz-0001Ab-Cd <= l.evans@school.example H=(LEVANS-LT) [10.20.3.17]:50122 P=esmtpsa A=dovecot_plain:l.evans S=2210 id=a1b2c3@LEVANS-LT",
    "Mar  4 08:55:03 gw01 dhcpd[911]: DHCPACK on 10.20.3.17 to 3c:22:fb:4e:17:a2 (LEVANS-LT) via eth1",
    "Mar  4 08:55:03 gw01 postfix/smtp[3316]: 4C1A21E0F3: to=<head@school.example>, relay=mx.trust.example[10.20.0.26]:25, delay=1.2, delays=0.1/0.01/0.3/0.8, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9F1E2D3C4B)",
    "Mar  4 08:55:03 gw01 exim[2205]: 1rKxYz-0001Ab-Cd => friend@example.net R=dnslookup T=remote_smtp H=mx.example.net [192.0.2.25] C=\"250 2.0.0 OK\"",
    "Mar  4 08:55:03 gw01 postfix/qmgr[1201]: 4C1A21E0F3: removed",
    "Mar  4 08:55:04 gw01 exim[2205]: 1rKxYz-0001Ab-Cd Completed",
    "Mar  4 08:59:58 gw01 radiusd[1022]: (12) Login OK: [l.evans] (from client wifi-ap-2 port 0 cli 3C-22-FB-4E-17-A2)",
    "Mar  4 09:02:31 gw01 dnsmasq-dhcp[640]: DHCPACK(wlan0) 10.30.0.42 a4:83:e7:12:34:56 staff-ipad",
    "Mar  4 09:14:40 gw01 sshd-session[21007]: Failed password for root from 203.0.113.77 port 40130 ssh2",
    "Mar  4 09:20:01 gw01 CRON[21090]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
];

/// (line index, format, kind, action) of each event, in the order pushed.
fn summary(events: &[Event]) -> Vec<(&str, EventKind, &str)> {
    events.iter().map(|e| (e.log_format.as_str(), e.kind, e.action.as_str())).collect()
}

#[test]
fn a_mixed_syslog_file_is_read_program_by_program() {
    let mut p = router();
    let (mut events, uses) = parse_lines_with_use(&mut p, MIXED).unwrap();
    use LineUse::{Correlated as C, Event as E};
    assert_eq!(uses, [E, E, E, E, C, E, C, C, C, E, C, C, C, C, E, E, E, E]);
    assert_eq!(p.oldest_held_offset(), None, "both messages completed");
    p.flush_all(&mut events);
    let (auth, email, net) = (EventKind::Auth, EventKind::Email, EventKind::Network);
    assert_eq!(
        summary(&events),
        [
            ("syslog", auth, "other"),
            ("dhcp", net, "other"),
            ("syslog", auth, "other"),
            ("postfix", email, "other"),
            ("sshd", auth, "logged-in"),
            ("dhcp", net, "lease-granted"),
            ("postfix", email, "delivered"),
            ("exim", email, "delivered"),
            ("radius", auth, "logged-in"),
            ("dhcp", net, "lease-granted"),
            ("sshd", auth, "login-failed"),
            ("syslog", auth, "other"),
        ]
    );
    // Postfix: one event for the lines of smtpd, cleanup, qmgr and smtp,
    // though sshd, Exim and dhcpd wrote in between.
    let mail = &events[6];
    assert_eq!(mail.email_queue_id.as_deref(), Some("4C1A21E0F3"));
    assert_eq!(mail.source_ip.as_deref(), Some("198.51.100.23"));
    assert_eq!(mail.email_from.as_deref(), Some("office@parents.example"));
    assert_eq!(mail.email_to, ["head@school.example"]);
    let postfix_lines: Vec<&str> = MIXED.iter().copied().filter(|l| l.contains("4C1A21E0F3: ")).collect();
    assert_eq!(mail.message, postfix_lines.join("\n"));
    assert_eq!(mail.log_offset, Some(4000), "the event is the message's first line's");
    // Exim: `<=`, `=>` and `Completed` through syslog.
    let exim = &events[7];
    assert_eq!((exim.user_name.as_deref(), exim.source_ip.as_deref()), (Some("l.evans"), Some("10.20.3.17")));
    assert_eq!(
        (exim.email_to.as_slice(), exim.host_name.as_deref()),
        (&["friend@example.net".to_string()][..], Some("gw01"))
    );
    // dnsmasq and ISC dhcpd leases, RADIUS and sshd.
    assert_eq!(
        (events[5].source_mac.as_deref(), events[5].observer_product.as_str()),
        (Some("3c:22:fb:4e:17:a2"), "isc-dhcpd")
    );
    assert_eq!(
        (events[9].source_ip.as_deref(), events[9].device_name.as_deref()),
        (Some("10.30.0.42"), Some("staff-ipad"))
    );
    assert_eq!((events[8].user_name.as_deref(), events[8].outcome), (Some("l.evans"), Outcome::Success));
    assert_eq!(
        (events[10].user_name.as_deref(), events[10].source_ip.as_deref()),
        (Some("root"), Some("203.0.113.77"))
    );
    // Other programs: host and program kept, the line verbatim.
    let cron = &events[11];
    assert_eq!((cron.host_name.as_deref(), cron.observer_product.as_str()), (Some("gw01"), "CRON"));
    assert_eq!((cron.message.as_str(), cron.outcome), (MIXED[17], Outcome::Unknown));
    assert_eq!(cron.timestamp, at(2026, 3, 4, 9, 20, 1));
    assert_eq!(cron.id, Event::derive_id("st-marys", "test-source", 17_000, MIXED[17].as_bytes()));
    assert_eq!(events[0].observer_product.as_str(), "systemd");
    for e in events.iter().filter(|e| e.kind != EventKind::Email) {
        assert!(MIXED.contains(&e.message.as_str()), "{e:?}");
    }
}

#[test]
fn auto_reads_the_mixed_file_with_the_router_and_makes_the_same_events() {
    let key = |e: &Event| (e.log_offset, e.id.clone(), e.log_format.to_string(), e.action.to_string());
    let mut by_router = parse_lines(&mut router(), MIXED).unwrap();
    let mut auto = AutoParser::new(&IngestConfig::default());
    let (mut by_auto, uses) = parse_lines_with_use(&mut auto, MIXED).unwrap();
    assert_eq!(uses.iter().filter(|u| **u == LineUse::Deferred).count(), 4, "the lines before Postfix's first record");
    let detection = auto.detection().unwrap();
    assert_eq!((detection.format, detection.detected, detection.line_no), ("syslog", "postfix", 4001));
    assert!(detection.reason.contains("syslog router"), "{detection:?}");
    auto.flush_all(&mut by_auto);
    by_router.sort_by_key(key);
    by_auto.sort_by_key(key);
    assert_eq!(by_auto.iter().map(key).collect::<Vec<_>>(), by_router.iter().map(key).collect::<Vec<_>>());
}

#[test]
fn pri_and_rfc5424_lines_are_routed_with_the_whole_line_as_message() {
    let lines = [
        "<38>Mar  4 10:42:00 gate sshd[812]: Failed password for alice from 10.0.0.9 port 5 ssh2",
        "<38>1 2026-03-04T10:42:00Z gate sshd 812 - - Failed password for alice from 10.0.0.9 port 5 ssh2",
        "<38>2026-03-04T10:42:00+00:00 gate sshd[812]: Failed password for alice from 10.0.0.9 port 5 ssh2",
    ];
    for line in lines {
        let e = parse_one(&mut router(), line).unwrap();
        assert_eq!((e.action.as_str(), e.log_format.as_str()), ("login-failed", "sshd"), "{line}");
        assert_eq!((e.message.as_str(), e.host_name.as_deref()), (line, Some("gate")));
        assert_eq!(e.id, Event::derive_id("st-marys", "test-source", 0, line.as_bytes()));
        assert_eq!(e.timestamp, at(2026, 3, 4, 10, 42, 0));
    }
    let line = "<78>1 2026-03-04T10:43:00.25Z gate CRON 9 - - (root) CMD (run-parts /etc/cron.hourly)";
    let e = parse_one(&mut router(), line).unwrap();
    assert_eq!((e.observer_product.as_str(), e.host_name.as_deref(), e.message.as_str()), ("CRON", Some("gate"), line));
    // Devices and local sockets may send no host: the tag follows the time.
    for line in [
        "<38>Mar  4 10:42:00 sshd[812]: Failed password for alice from 10.0.0.9 port 5 ssh2",
        "<38>1 2026-03-04T10:42:00Z - sshd 812 - - Failed password for alice from 10.0.0.9 port 5 ssh2",
    ] {
        let e = parse_one(&mut router(), line).unwrap();
        assert_eq!((e.action.as_str(), e.host_name.as_deref(), e.message.as_str()), ("login-failed", None, line));
    }
    let e = parse_one(&mut router(), "<78>Mar  4 10:43:00 CRON[9]: (root) CMD (run-parts /etc/cron.hourly)").unwrap();
    assert_eq!((e.observer_product.as_str(), e.host_name.as_deref()), ("CRON", None));
    // RADIUS names no host for its `other` lines: the header's is kept.
    let e = parse_one(&mut router(), "<38>Mar  4 10:42:00 radius1 radiusd[812]: Ready to process requests").unwrap();
    assert_eq!((e.log_format.as_str(), e.host_name.as_deref()), ("radius", Some("radius1")));
}

#[test]
fn every_program_of_each_family_is_routed() {
    let cases = [
        ("sshd-auth[1]: Invalid user bob from 10.0.0.9 port 5", "sshd", "invalid-user"),
        ("sshd-session[1]: Accepted publickey for a from 10.0.0.9 port 5 ssh2", "sshd", "logged-in"),
        ("postfix-out/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.9]: 554 5.7.1 denied; from=<a@b> to=<c@d> proto=ESMTP helo=<h>", "postfix", "rejected"),
        ("postfix/submission/smtpd[1]: connect from x[10.0.0.9]", "postfix", "other"),
        ("postfix-script[1]: starting the Postfix mail system", "postfix", "other"),
        ("exim4[1]: H=(x) [192.0.2.9] F=<a@b> rejected RCPT <c@d>: relay not permitted", "exim", "rejected"),
        ("dnsmasq[640]: query[A] www.bbc.co.uk from 10.30.0.42", "dhcp", "other"),
        ("freeradius[1]: Login incorrect: [bob] (from client ap1 port 0)", "radius", "login-failed"),
        ("kernel: [ 4021.118230] usb 1-1: new high-speed USB device number 2", "syslog", "other"),
    ];
    for (rest, format, action) in cases {
        let line = format!("Mar  4 10:42:00 gw01 {rest}");
        let e = parse_one(&mut router(), &line).unwrap();
        assert_eq!((e.log_format.as_str(), e.action.as_str()), (format, action), "{line}");
        assert_eq!(e.message, line);
    }
}

#[test]
fn a_line_its_parser_rejects_names_the_program_and_the_parser() {
    let cases = [
        (
            "Mar  4 10:42:00 gate sshd[1]: Failed password for alice from 203.0.113.7 port",
            "the sshd parser rejected this `sshd` line",
        ),
        (
            "Mar  4 10:42:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT",
            "the postfix parser rejected this `postfix/smtpd`",
        ),
        ("Mar  4 10:42:00 gw dhcpd[1]: DHCPACK on", "the dhcp parser rejected this `dhcpd` line"),
        ("Mar  4 10:42:00 r radiusd[1]: Login OK: [x] (from", "the radius parser rejected this `radiusd` line"),
        ("Mar  4 10:42:00 mx exim[1]: ", "the exim parser rejected this `exim` line"),
    ];
    for (line, reason) in cases {
        let err = parse_lines(&mut router(), &[line]).unwrap_err().0;
        assert!(err.starts_with(reason), "{line}: {err}");
    }
}

#[test]
fn lines_without_a_readable_syslog_header_are_errors() {
    let cases = [
        (
            "1709548920.123 145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - HIER_DIRECT/1.2.3.4 -",
            "no readable syslog header: no syslog timestamp",
        ),
        ("Wed Mar  4 10:42:00 2026 : Auth: (5) Login OK: [a] (from client b port 0)", "no readable syslog header"),
        ("Mar  4 10:42:00 gate", "no readable syslog header: syslog line has no host name"),
        ("Mar  4 10:42:00 gate just words", "`program[pid]:` tag"),
        ("<200>Mar  4 10:42:00 gate sshd[1]: x", "PRI"),
        ("<38>1 2026-03-04T10:42:00Z gate", "RFC 5424"),
        ("", "no readable syslog header"),
    ];
    for (line, reason) in cases {
        let err = parse_lines(&mut router(), &[line]).unwrap_err().0;
        assert!(err.contains(reason), "{line:?}: {err}");
    }
}

#[test]
fn held_messages_are_flushed_and_the_oldest_offset_is_the_earliest_of_all_parsers() {
    let mut p = router();
    let exim = "Mar  4 10:00:00 mx exim[1]: 1rKxYz-0001Ab-Cd <= a@example.com H=x [192.0.2.1] P=esmtp S=10";
    let postfix =
        "Mar  4 10:00:01 mx postfix/qmgr[2]: 3F2A1B4C5D: from=<a@example.com>, size=10, nrcpt=1 (queue active)";
    let mut out = Vec::new();
    assert_eq!(p.parse(exim, &ctx_at(50), &mut out), Ok(LineUse::Correlated));
    assert_eq!(p.parse(postfix, &ctx_at(900), &mut out), Ok(LineUse::Correlated));
    assert_eq!((out.len(), p.oldest_held_offset()), (0, Some(50)));
    p.flush_expired(at(2026, 3, 4, 10, 0, 30), &mut out);
    assert_eq!(out.len(), 0, "not yet expired");
    p.flush_expired(at(2026, 3, 5, 10, 0, 0), &mut out);
    assert_eq!(summary(&out), [("postfix", EventKind::Email, "queued"), ("exim", EventKind::Email, "queued")]);
    assert_eq!(p.oldest_held_offset(), None);
    assert_eq!(p.parse(postfix, &ctx_at(2000), &mut out), Ok(LineUse::Correlated));
    assert_eq!(p.oldest_held_offset(), Some(2000));
    p.flush_all(&mut out);
    assert_eq!((out.len(), p.oldest_held_offset()), (3, None));
}

#[test]
fn adopting_keeps_what_the_chosen_parser_holds_only_for_its_syslog_lines() {
    let ingest = IngestConfig::default();
    let mut postfix: Box<dyn Parser> = Box::new(PostfixParser::new(&ingest));
    let first = "Mar  4 10:00:00 mx postfix/smtpd[1]: 3F2A1B4C5D: client=mail.example.com[203.0.113.5]";
    parse_lines(postfix.as_mut(), &[first]).unwrap();
    let Ok(mut p) = SyslogRouter::adopting(postfix, first, ctx().now, &ingest) else { panic!("not adopted") };
    assert_eq!(p.oldest_held_offset(), Some(0));
    let events = parse_lines(&mut p, &["Mar  4 10:00:04 mx postfix/qmgr[2]: 3F2A1B4C5D: removed"]).unwrap();
    assert_eq!(events[0].source_ip.as_deref(), Some("203.0.113.5"), "the adopted parser's message");

    let own_format = "2026-03-04 10:00:00 1rKxYz-0001Ab-Cd <= a@example.com H=x [192.0.2.1] P=esmtp S=10";
    let exim = SyslogRouter::adopting(Box::new(EximParser::new(&ingest)), own_format, ctx().now, &ingest);
    assert_eq!(exim.err().map(|p| p.name()), Some("exim"), "Exim's own mainlog is not a syslog file");
    let ctime = "Wed Mar  4 10:42:00 2026 : Auth: (5) Login OK: [a] (from client b port 0)";
    assert!(SyslogRouter::adopting(Box::new(RadiusParser), ctime, ctx().now, &ingest).is_err());
    let sshd_line = "Mar  4 10:42:00 gate sshd[1]: Failed password for a from 10.0.0.9 port 5 ssh2";
    assert!(SyslogRouter::adopting(Box::new(DhcpParser), sshd_line, ctx().now, &ingest).is_err(), "not dhcp's program");
    let squid = Box::new(crate::parse::SquidParser);
    assert!(SyslogRouter::adopting(squid, sshd_line, ctx().now, &ingest).is_err(), "not a routed format");
}

#[test]
fn each_family_has_the_parser_of_its_format() {
    let mut p = router();
    for family in Family::ALL {
        assert_eq!(p.child(family).name(), family.format());
        assert_eq!(Family::of_format(family.format()), Some(family));
    }
    assert_eq!(p.name(), "syslog");
}

#[test]
fn every_truncation_is_an_error_or_an_event_of_what_is_left() {
    let lines = [
        MIXED[5],
        MIXED[8],
        MIXED[10],
        MIXED[14],
        MIXED[15],
        MIXED[17],
        "<38>1 2026-03-04T10:42:00.5Z gate sshd-session 812 - [a b=\"\\\"é\"] \u{FEFF}Failed password for é from 10.0.0.9 port 5 ssh2",
    ];
    for line in lines {
        for end in (0..=line.len()).filter(|&i| line.is_char_boundary(i)) {
            let cut = &line[..end];
            let mut p = router();
            let mut out = Vec::new();
            let used = p.parse(cut, &ctx(), &mut out);
            p.flush_all(&mut out);
            match used {
                Ok(LineUse::Event) => assert!(out.iter().any(|e| e.message == cut), "{cut:?}"),
                Ok(LineUse::Correlated) => assert!(out.iter().all(|e| e.message == cut), "{cut:?}"),
                Ok(other) => panic!("{cut:?} became {other:?}"),
                Err(_) => assert!(out.is_empty(), "{cut:?} rejected but made events"),
            }
        }
    }
}

#[test]
fn hostile_content_is_kept_verbatim() {
    let lines = [
        "Mar  4 10:42:00 gw01 CRON[1]: <script>alert(1)</script>\u{1b}[31m\0\r tail",
        "Mar  4 10:42:00 gw01 sshd[1]: Failed password for <b>x</b>\u{7} from 10.0.0.9 port 5 ssh2",
        "Mar  4 10:42:00 gw\u{202e}01 app\u{0}x[1]: \u{FFFD}\u{FFFD} invalid bytes replaced",
    ];
    for line in lines {
        let e = parse_one(&mut router(), line).unwrap();
        assert_eq!(e.message, line);
    }
    let e = parse_one(&mut router(), lines[1]).unwrap();
    assert_eq!(e.user_name.as_deref(), Some("<b>x</b>\u{7}"));
    let e = parse_one(&mut router(), lines[2]).unwrap();
    assert_eq!((e.host_name.as_deref(), e.observer_product.as_str()), (Some("gw\u{202e}01"), "app\u{0}x"));
    // A huge rejected line gives a short reason.
    let huge = format!("Mar  4 10:42:00 gw01 sshd[1]: Failed password for {} from", "A".repeat(100_000));
    let err = parse_lines(&mut router(), &[&huge]).unwrap_err().0;
    assert!(err.starts_with("the sshd parser rejected this `sshd` line") && err.len() < 200, "{err:.200}");
}

#[test]
fn a_correlated_message_keeps_its_lines_as_written() {
    let lines = [
        "<22>Mar  4 08:55:02 gw01 postfix/cleanup[3312]: 4C1A21E0F3: message-id=<a1@parents.example>",
        "<22>1 2026-03-04T08:55:02Z gw01 postfix/qmgr 1201 - - 4C1A21E0F3: from=<office@parents.example>, size=18231, nrcpt=1 (queue active)",
        "Mar  4 08:55:03 gw01 postfix/smtp[3316]: 4C1A21E0F3: to=<head@school.example>, relay=mx.trust.example[10.20.0.26]:25, delay=1.2, delays=0.1/0.01/0.3/0.8, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
        "<22>Mar  4 08:55:03 gw01 postfix/qmgr[1201]: 4C1A21E0F3: removed",
    ];
    let events = parse_lines(&mut router(), &lines).unwrap();
    let [mail] = events.as_slice() else { panic!("one mail: {events:?}") };
    assert_eq!(mail.message, lines.join("\n"));
    assert_eq!(mail.id, Event::derive_id("st-marys", "test-source", 0, lines[0].as_bytes()));
}
