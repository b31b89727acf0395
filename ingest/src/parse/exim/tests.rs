use super::*;
use crate::parse::testutil::{ctx_at, parse_lines, parse_lines_with_use};
use chrono::TimeZone;

fn parser(max_pending: usize) -> EximParser {
    EximParser::new(&IngestConfig { mail_max_pending: max_pending, mail_hold_secs: 300, ..IngestConfig::default() })
}

/// The lines of one message `id` from a parent to two staff, one delivered
/// remotely and one locally, starting at minute `m` past ten.
fn delivered(id: &str, m: u32) -> Vec<String> {
    vec![
        format!("2024-03-04 10:{m:02}:00 {id} <= office@parents.example H=mail.parents.example (helo.parents.example) [203.0.113.5]:40112 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=2210 id=a1b2-{id}@parents.example T=\"Year 6 trip letter\""),
        format!("2024-03-04 10:{m:02}:01 {id} => head@partner.example R=dnslookup T=remote_smtp H=mx.partner.example [198.51.100.2] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"250 2.0.0 OK id=1rKy\""),
        format!("2024-03-04 10:{m:02}:01 {id} => office <office@school.example> R=local_user T=mail_spool"),
        format!("2024-03-04 10:{m:02}:02 {id} Completed"),
    ]
}

fn run(p: &mut EximParser, lines: &[String]) -> Vec<Event> {
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    parse_lines(p, &refs).unwrap()
}

#[test]
fn a_complete_message_becomes_one_event() {
    let lines = delivered("1rKxYz-0001Ab-Cd", 42);
    let mut p = parser(100);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (events, uses) = parse_lines_with_use(&mut p, &refs).unwrap();
    assert_eq!(uses, [LineUse::Correlated; 4]);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Email, "delivered", Outcome::Success));
    assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap());
    assert_eq!(e.email_from.as_deref(), Some("office@parents.example"));
    assert_eq!(e.email_to, ["head@partner.example", "office@school.example"]);
    assert_eq!(e.email_subject.as_deref(), Some("Year 6 trip letter"));
    assert_eq!(e.email_message_id.as_deref(), Some("a1b2-1rKxYz-0001Ab-Cd@parents.example"));
    assert_eq!(e.email_queue_id.as_deref(), Some("1rKxYz-0001Ab-Cd"));
    assert_eq!(e.email_size, Some(2210));
    assert_eq!(e.source_ip.as_deref(), Some("203.0.113.5"));
    assert_eq!(e.email_relay.as_deref(), Some("mx.partner.example [198.51.100.2]"));
    assert_eq!(e.reason.as_deref(), Some("250 2.0.0 OK id=1rKy"));
    assert_eq!((e.user_name.as_deref(), e.host_name.as_deref()), (None, None));
    assert_eq!((e.observer_product.as_str(), e.log_format.as_str()), ("exim", "exim"));
    assert_eq!(e.message, lines.join("\n"));
    let first = ctx_at(0);
    assert_eq!(e.log_offset, Some(0));
    assert_eq!(e.id, Event::derive_id(first.tenant, first.source, 0, lines[0].as_bytes()));
    assert_eq!(p.oldest_held_offset(), None);
}

#[test]
fn interleaved_messages_with_long_ids_are_kept_apart() {
    let a = delivered("1rKxYz-00000001Ab3-0Cd4", 0);
    let mut b = delivered("1rKxZa-00000001Ab4-1Xy2", 1);
    b[1] = "2024-03-04 10:01:01 1rKxZa-00000001Ab4-1Xy2 ** head@partner.example R=dnslookup T=remote_smtp H=mx.partner.example [198.51.100.2]: SMTP error from remote mail server after RCPT TO:<head@partner.example>: 550 5.1.1 user unknown".into();
    let lines: Vec<String> = a.iter().zip(&b).flat_map(|(x, y)| [x.clone(), y.clone()]).collect();
    let events = run(&mut parser(100), &lines);
    assert_eq!(events.len(), 2);
    assert_eq!(
        (events[0].email_queue_id.as_deref(), events[0].action.as_str()),
        (Some("1rKxYz-00000001Ab3-0Cd4"), "delivered")
    );
    let e = &events[1];
    assert_eq!(
        (e.email_queue_id.as_deref(), e.action.as_str(), e.outcome),
        (Some("1rKxZa-00000001Ab4-1Xy2"), "bounced", Outcome::Failure)
    );
    assert_eq!(
        e.reason.as_deref(),
        Some("SMTP error from remote mail server after RCPT TO:<head@partner.example>: 550 5.1.1 user unknown")
    );
    assert_eq!(e.email_relay.as_deref(), Some("mx.partner.example [198.51.100.2]"));
    assert_eq!(events[0].message, a.join("\n"));
    assert_eq!(e.message, b.join("\n"));
    assert_eq!(e.log_offset, Some(1000));
}

#[test]
fn submissions_deferrals_and_syslog_lines() {
    let lines = [
        "2024-03-04 11:00:00.125 +0100 [2201] 1rKxYz-0001Ab-Cd <= j.smith@school.example H=(laptop) [2001:db8::20]:50122 P=esmtpsa A=dovecot_plain:j.smith S=900 id=x@laptop T=\"Re: meet me from school\" for stranger@example.com",
        "2024-03-04 11:00:03 +0100 [2202] 1rKxYz-0001Ab-Cd == stranger@example.com R=dnslookup T=remote_smtp defer (110): Connection timed out",
        "Mar  4 10:05:00 mx exim[2203]: 2024-03-04 11:05:00 +0100 1rKxYz-0001Ab-Cd Message is frozen",
        "2024-03-04 11:10:00 +0100 [2204] 1rKxYz-0001Ab-Cd Completed QT=10m",
    ];
    let e = parse_lines(&mut parser(100), &lines).unwrap().remove(0);
    assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 10, 0, 0).unwrap() + chrono::Duration::milliseconds(125));
    assert_eq!(e.email_subject.as_deref(), Some("Re: meet me from school"));
    assert_eq!(e.user_name.as_deref(), Some("j.smith"));
    assert_eq!(e.source_ip.as_deref(), Some("2001:db8::20"));
    assert_eq!(e.email_to, ["stranger@example.com"]);
    assert_eq!((e.action.as_str(), e.outcome), ("deferred", Outcome::Unknown));
    assert_eq!(e.reason.as_deref(), Some("defer (110): Connection timed out"));
    assert_eq!(e.message, lines.join("\n"));

    let lines = [
        "Mar  4 10:00:00 mx exim[81]: 1rKxYz-0001Ab-Cd <= www-data@school.example U=www-data P=local S=990 for parent@parents.example",
        "Mar  4 10:00:05 mx exim[81]: 1rKxYz-0001Ab-Cd Completed",
    ];
    let e = parse_lines(&mut parser(100), &lines).unwrap().remove(0);
    assert_eq!((e.host_name.as_deref(), e.user_name.as_deref()), (Some("mx"), Some("www-data")));
    assert_eq!(
        (e.action.as_str(), e.email_to.as_slice()),
        ("queued", ["parent@parents.example".to_string()].as_slice())
    );
}

#[test]
fn rejections_are_immediate_events() {
    let mut p = parser(100);
    let line = "2024-03-04 10:42:00 H=(bad.example) [192.0.2.9]:5512 F=<spam@bad.example> rejected RCPT <x@school.example>: relay not permitted";
    let (events, uses) = parse_lines_with_use(&mut p, &[line]).unwrap();
    assert_eq!(uses, [LineUse::Event]);
    let e = &events[0];
    assert_eq!((e.action.as_str(), e.outcome), ("rejected", Outcome::Failure));
    assert_eq!(e.reason.as_deref(), Some("relay not permitted"));
    assert_eq!(e.email_from.as_deref(), Some("spam@bad.example"));
    assert_eq!(e.email_to, ["x@school.example"]);
    assert_eq!(e.source_ip.as_deref(), Some("192.0.2.9"));
    assert_eq!(e.message, line);
    let line = "2024-03-04 10:42:00 1rKxYz-0001Ab-Cd H=mx.bad.example [192.0.2.9] F=<spam@bad.example> rejected after DATA: This message contains a virus (Eicar-Test-Signature)";
    let e = parse_lines(&mut p, &[line]).unwrap().remove(0);
    assert_eq!((e.action.as_str(), e.email_queue_id.as_deref()), ("rejected", Some("1rKxYz-0001Ab-Cd")));
    assert_eq!(e.reason.as_deref(), Some("This message contains a virus (Eicar-Test-Signature)"));
    assert_eq!(p.oldest_held_offset(), None, "a rejected message is not held");
}

#[test]
fn the_oldest_message_is_evicted_at_max_pending() {
    let mut p = parser(2);
    let firsts: Vec<String> = ["1rKxYa-0001Ab-Cd", "1rKxYb-0001Ab-Cd", "1rKxYc-0001Ab-Cd"]
        .iter()
        .map(|id| delivered(id, 0)[0].clone())
        .collect();
    assert!(run(&mut p, &firsts[..2]).is_empty());
    assert_eq!(p.oldest_held_offset(), Some(0));
    let mut out = Vec::new();
    assert_eq!(p.parse(&firsts[2], &ctx_at(2000), &mut out).unwrap(), LineUse::Correlated);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].email_queue_id.as_deref(), out[0].action.as_str()), (Some("1rKxYa-0001Ab-Cd"), "queued"));
    assert_eq!(out[0].email_subject.as_deref(), Some("Year 6 trip letter"));
    assert_eq!(p.oldest_held_offset(), Some(1000));
}

#[test]
fn flush_expired_emits_only_messages_older_than_the_hold() {
    let mut p = parser(100);
    let mut lines = delivered("1rKxYa-0001Ab-Cd", 0);
    lines.truncate(2);
    lines.push(delivered("1rKxYb-0001Ab-Cd", 10)[0].clone());
    assert!(run(&mut p, &lines).is_empty());
    let mut out = Vec::new();
    p.flush_expired(Utc.with_ymd_and_hms(2024, 3, 4, 10, 6, 0).unwrap(), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].email_queue_id.as_deref(), out[0].action.as_str()), (Some("1rKxYa-0001Ab-Cd"), "delivered"));
    assert_eq!(p.oldest_held_offset(), Some(2000));
    out.clear();
    p.flush_all(&mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].email_queue_id.as_deref(), Some("1rKxYb-0001Ab-Cd"));
    assert_eq!(p.oldest_held_offset(), None);
}

#[test]
fn a_lone_completed_line_is_its_own_event() {
    let line = "2024-03-04 10:42:00 1rKxYz-0001Ab-Cd Completed";
    let (events, uses) = parse_lines_with_use(&mut parser(100), &[line]).unwrap();
    assert_eq!(uses, [LineUse::Event]);
    assert_eq!((events[0].action.as_str(), events[0].message.as_str()), ("queued", line));
}

#[test]
fn lines_about_no_message_are_other_and_foreign_lines_are_errors() {
    let mut p = parser(100);
    for line in [
        "2024-03-04 10:42:00 SMTP connection from (helo) [192.0.2.9]:5512 I=[192.0.2.10]:25 (TCP/IP connection count = 1)",
        "2024-03-04 10:42:00 Start queue run: pid=12762",
        "2024-03-04 10:42:00 exim 4.97 daemon started: pid=100, -q30m, listening for SMTP on [0.0.0.0]:25",
        "2024-03-04 10:42:00 H=mx [192.0.2.9] sender verify fail for <a@b>: Unrouteable address",
        "2024-03-04 10:42:00 cwd=/var/spool/exim 3 args: /usr/sbin/exim -Mc 1rKxYz-0001Ab-Cd",
    ] {
        let kept = parse_lines(&mut p, &[line]).unwrap();
        assert_eq!(kept.len(), 1, "{line}");
        assert_eq!((kept[0].action.as_str(), kept[0].kind, kept[0].message.as_str()), ("other", EventKind::Email, line));
    }
    assert_eq!(p.oldest_held_offset(), None);
    for (line, why) in [
        ("Mar  4 10:00:00 mx postfix/qmgr[1]: 3F2A1B4C5D: removed", "syslog program is \"postfix/qmgr\""),
        (
            "1709548920.123 145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - DIRECT/1.2.3.4 text/html",
            "no Exim timestamp",
        ),
        ("2024-03-04T10:42:00.123Z,10.0.0.1,,,EXMB01,,,SMTP,RECEIVE", "no Exim timestamp"),
        ("2024-03-04 10:42:00 1rKxYz-0001Ab-Cd <= a@b H=mx [203.0.11", "H= field"),
        ("2024-03-04 10:42:00 1rKxYz-0001Ab-Cd <= a@b T=\"cut", "closing quote"),
        ("2024-03-04 10:42:00 1rKxYz-0001Ab-Cd => ", "no recipient address"),
    ] {
        let err = parse_lines(&mut p, &[line]).unwrap_err();
        assert!(err.0.contains(why), "{line}: {err}");
    }
    assert_eq!(p.oldest_held_offset(), None, "rejected lines hold nothing");
}

#[test]
fn hostile_content_is_kept_verbatim_and_truncation_never_panics() {
    let mut lines = delivered("1rKxYz-0001Ab-Cd", 0);
    lines[0] = lines[0].replace("Year 6 trip letter", "<script>alert(1)</script>\u{1b}]0;x\u{7}\\\"q\\\"");
    let e = run(&mut parser(100), &lines).remove(0);
    assert_eq!(e.email_subject.as_deref(), Some("<script>alert(1)</script>\u{1b}]0;x\u{7}\"q\""));
    assert_eq!(e.message, lines.join("\n"));
    let mut all = lines.clone();
    all.push("2024-03-04 10:42:00 H=(bad.example) [192.0.2.9]:5512 F=<spam@bad.example> rejected RCPT <x@school.example>: relay not permitted".into());
    all.push(
        "Mar  4 10:05:00 mx exim[2203]: 2024-03-04 11:05:00 +0100 [1] 1rKxYz-00000001Ab3-0Cd4 ** a@b <a@b>: x".into(),
    );
    for line in &all {
        for cut in (0..line.len()).filter(|c| line.is_char_boundary(*c)) {
            let mut p = parser(100);
            let mut out = Vec::new();
            match p.parse(&line[..cut], &ctx_at(0), &mut out) {
                Ok(LineUse::Event) => assert_eq!(out.len(), 1),
                Ok(_) => assert!(out.is_empty()),
                Err(_) => assert!(out.is_empty() && p.oldest_held_offset().is_none()),
            }
        }
    }
}

/// The reject log follows a rejected message's line with its header lines
/// (Exim spec, "Reject log"); each is kept as an `other` event of the
/// rejection's time and message id. Without a rejection before them such
/// lines have no timestamp and are errors.
#[test]
fn reject_log_header_dumps_are_kept_with_the_rejection() {
    let lines = [
        "2024-03-04 10:42:00 1rKxYz-0001Ab-Cd H=mx.example.net [192.0.2.9] F=<a@example.net> rejected after DATA: body contains trigger",
        "Envelope-from: <a@example.net>",
        "Envelope-to: <pupil.one@school.example>",
        "P Received: from mx.example.net ([192.0.2.9])",
        "\tby mx.school.example with esmtp (Exim 4.97)",
        "  Date: Mon, 04 Mar 2024 10:41:58 +0000",
        "T To: pupil.one@school.example",
        "  Subject: meet me after school",
        "2024-03-04 10:43:00 H=[192.0.2.10] rejected MAIL <spam@example.org>",
    ];
    let mut p = parser(100);
    let (events, uses) = parse_lines_with_use(&mut p, &lines).unwrap();
    assert_eq!(uses, [LineUse::Event; 9]);
    assert_eq!(events[0].action.as_str(), "rejected");
    for (e, line) in events[1..8].iter().zip(&lines[1..8]) {
        assert_eq!((e.action.as_str(), e.message.as_str()), ("other", *line));
        assert_eq!((e.timestamp, e.email_queue_id.as_deref()), (events[0].timestamp, Some("1rKxYz-0001Ab-Cd")));
    }
    assert_eq!(events[8].email_from.as_deref(), Some("spam@example.org"));
    p.parse("2024-03-04 10:44:00 Start queue run: pid=4242", &ctx_at(9000), &mut Vec::new()).unwrap();
    for orphan in ["Envelope-from: <a@example.net>", "  Subject: hello"] {
        assert!(p.parse(orphan, &ctx_at(0), &mut Vec::new()).is_err(), "{orphan}");
        assert!(parser(100).parse(orphan, &ctx_at(0), &mut Vec::new()).is_err(), "{orphan}");
    }
}
