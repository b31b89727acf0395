use super::*;
use crate::parse::testutil::{ctx_at, parse_lines};
use chrono::TimeZone;

fn parser(max_pending: usize) -> PostfixParser {
    PostfixParser::new(&IngestConfig { mail_max_pending: max_pending, mail_hold_secs: 300, ..IngestConfig::default() })
}

/// The lines of one delivered message with queue id `qid`, starting at
/// minute `m` past ten.
fn delivered(qid: &str, m: u32) -> Vec<String> {
    vec![
        format!("Mar  4 10:{m:02}:00 mx postfix/smtpd[100]: {qid}: client=mail.example.com[203.0.113.5]"),
        format!("Mar  4 10:{m:02}:01 mx postfix/cleanup[101]: {qid}: message-id=<{qid}@example.com>"),
        format!("Mar  4 10:{m:02}:01 mx postfix/qmgr[102]: {qid}: from=<alice@example.com>, size=2048, nrcpt=2 (queue active)"),
        format!("Mar  4 10:{m:02}:02 mx postfix/smtp[103]: {qid}: to=<bob@example.org>, relay=mx.example.org[198.51.100.2]:25, delay=1.1, delays=0.1/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9XyZ)"),
        format!("Mar  4 10:{m:02}:02 mx postfix/virtual[104]: {qid}: to=<carol@school.example>, relay=virtual, delay=1, delays=0.1/0/0/0.9, dsn=2.0.0, status=sent (delivered to maildir)"),
        format!("Mar  4 10:{m:02}:03 mx postfix/qmgr[102]: {qid}: removed"),
    ]
}

fn run(p: &mut PostfixParser, lines: &[String]) -> Vec<Event> {
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    parse_lines(p, &refs).unwrap()
}

#[test]
fn a_complete_message_becomes_one_event() {
    let lines = delivered("3F2A1B4C5D", 0);
    let mut p = parser(100);
    let events = run(&mut p, &lines);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Email, "delivered", Outcome::Success));
    assert_eq!(e.email_from.as_deref(), Some("alice@example.com"));
    assert_eq!(e.email_to, vec!["bob@example.org", "carol@school.example"]);
    assert_eq!(e.email_size, Some(2048));
    assert_eq!(e.email_message_id.as_deref(), Some("3F2A1B4C5D@example.com"));
    assert_eq!(e.email_queue_id.as_deref(), Some("3F2A1B4C5D"));
    assert_eq!(e.source_ip.as_deref(), Some("203.0.113.5"));
    assert_eq!(e.host_name.as_deref(), Some("mx"));
    assert_eq!(e.email_relay.as_deref(), Some("mx.example.org[198.51.100.2]:25"));
    assert_eq!(e.reason.as_deref(), Some("sent (250 2.0.0 Ok: queued as 9XyZ)"));
    assert_eq!(e.message, lines.join("\n"));
    assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2026, 3, 4, 10, 0, 0).unwrap());
    let first = ctx_at(0);
    assert_eq!(e.log_offset, Some(0));
    assert_eq!(e.id, Event::derive_id(first.tenant, first.source, 0, lines[0].as_bytes()));
    assert_eq!(p.oldest_held_offset(), None);
}

#[test]
fn interleaved_messages_are_kept_apart() {
    let a = delivered("3F2A1B4C5D", 0);
    let mut b = delivered("4RzL9c1XyZz6w", 1);
    b[3] = b[3]
        .replace("status=sent (250 2.0.0 Ok: queued as 9XyZ)", "status=bounced (host said: 550 5.1.1 user unknown)");
    b[3] = b[3].replace("dsn=2.0.0", "dsn=5.1.1");
    let lines: Vec<String> = a.iter().zip(&b).flat_map(|(x, y)| [x.clone(), y.clone()]).collect();
    let events = run(&mut parser(100), &lines);
    assert_eq!(events.len(), 2);
    assert_eq!((events[0].email_queue_id.as_deref(), events[0].action.as_str()), (Some("3F2A1B4C5D"), "delivered"));
    assert_eq!((events[1].email_queue_id.as_deref(), events[1].action.as_str()), (Some("4RzL9c1XyZz6w"), "bounced"));
    assert_eq!(events[1].outcome, Outcome::Failure);
    assert_eq!(events[1].reason.as_deref(), Some("bounced (host said: 550 5.1.1 user unknown)"));
    assert_eq!(events[0].message, a.join("\n"));
    assert_eq!(events[1].message, b.join("\n"));
    assert_eq!(events[1].log_offset, Some(1000));
}

#[test]
fn subjects_sasl_users_and_instance_names() {
    let lines = [
        "2026-03-04T10:00:00.000001+00:00 mx postfix/submission/smtpd[5]: 4RzL9c1XyZz6w: client=laptop[2001:db8::20], sasl_method=PLAIN, sasl_username=j.smith",
        "2026-03-04T10:00:01.000000+00:00 mx postfix-out/cleanup[6]: 4RzL9c1XyZz6w: warning: header Subject: Re: meet me from school from laptop[2001:db8::20]; from=<j.smith@school.example> to=<x@example.com> proto=ESMTP helo=<laptop>",
        "2026-03-04T10:00:02.000000+00:00 mx postfix-out/qmgr[7]: 4RzL9c1XyZz6w: from=<j.smith@school.example>, size=900, nrcpt=1 (queue active)",
        "2026-03-04T10:00:03.000000+00:00 mx postfix-out/smtp[8]: 4RzL9c1XyZz6w: to=<x@example.com>, relay=mx.example.com[192.0.2.25]:25, delay=3, delays=1/0/1/1, dsn=4.4.1, status=deferred (connect to mx.example.com[192.0.2.25]:25: Connection timed out)",
        "2026-03-04T10:00:04.000000+00:00 mx postfix-out/qmgr[7]: 4RzL9c1XyZz6w: removed",
    ];
    let e = parse_lines(&mut parser(100), &lines).unwrap().remove(0);
    assert_eq!(e.email_subject.as_deref(), Some("Re: meet me from school"));
    assert_eq!(e.user_name.as_deref(), Some("j.smith"));
    assert_eq!(e.source_ip.as_deref(), Some("2001:db8::20"));
    assert_eq!((e.action.as_str(), e.outcome), ("deferred", Outcome::Unknown));
}

#[test]
fn noqueue_rejects_are_immediate_events() {
    let line = "Mar  4 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.9]: 554 5.7.1 <x@school.example>: Relay access denied; from=<spam@bad.example> to=<x@school.example> proto=ESMTP helo=<bad>";
    let e = parse_lines(&mut parser(100), &[line]).unwrap().remove(0);
    assert_eq!((e.action.as_str(), e.outcome), ("rejected", Outcome::Failure));
    assert_eq!(e.reason.as_deref(), Some("554 5.7.1 <x@school.example>: Relay access denied"));
    assert_eq!(e.email_from.as_deref(), Some("spam@bad.example"));
    assert_eq!(e.email_to, vec!["x@school.example"]);
    assert_eq!(e.source_ip.as_deref(), Some("192.0.2.9"));
    assert_eq!(e.message, line);
}

#[test]
fn expired_and_content_rejected_messages() {
    let lines = [
        "Mar  4 10:00:00 mx postfix/qmgr[2]: 3F2A1B4C5D: from=<a@example.com>, status=expired, returned to sender",
        "Mar  4 10:00:00 mx postfix/qmgr[2]: 3F2A1B4C5D: removed",
        "Mar  4 10:00:01 mx postfix/cleanup[3]: 4RzL9c1XyZz6w: reject: header Subject: You have won from h[192.0.2.1]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>: 5.7.1 spam",
    ];
    let events = parse_lines(&mut parser(100), &lines).unwrap();
    assert_eq!((events[0].action.as_str(), events[0].outcome), ("expired", Outcome::Failure));
    assert_eq!((events[1].action.as_str(), events[1].email_subject.as_deref()), ("rejected", Some("You have won")));
}

#[test]
fn the_oldest_message_is_evicted_at_max_pending() {
    let mut p = parser(2);
    let firsts: Vec<String> =
        ["AAAAAA1111", "BBBBBB2222", "CCCCCC3333"].iter().map(|q| delivered(q, 0)[0].clone()).collect();
    let events = run(&mut p, &firsts[..2]);
    assert!(events.is_empty());
    assert_eq!(p.oldest_held_offset(), Some(0));
    let mut out = Vec::new();
    p.parse(&firsts[2], &ctx_at(2000), &mut out).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].email_queue_id.as_deref(), out[0].action.as_str()), (Some("AAAAAA1111"), "queued"));
    assert_eq!(out[0].source_ip.as_deref(), Some("203.0.113.5"));
    assert_eq!(p.oldest_held_offset(), Some(1000));
}

#[test]
fn flush_expired_emits_only_messages_older_than_the_hold() {
    let mut p = parser(100);
    let mut lines = delivered("AAAAAA1111", 0);
    lines.truncate(3);
    lines.push(delivered("BBBBBB2222", 10)[0].clone());
    run(&mut p, &lines);
    let mut out = Vec::new();
    p.flush_expired(Utc.with_ymd_and_hms(2026, 3, 4, 10, 6, 0).unwrap(), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].email_queue_id.as_deref(), Some("AAAAAA1111"));
    assert_eq!(out[0].email_from.as_deref(), Some("alice@example.com"));
    assert_eq!(p.oldest_held_offset(), Some(3000));
    out.clear();
    p.flush_all(&mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].email_queue_id.as_deref(), Some("BBBBBB2222"));
    assert_eq!(p.oldest_held_offset(), None);
}

#[test]
fn lines_about_no_message_are_kept_as_other_and_foreign_lines_are_errors() {
    let mut p = parser(100);
    for line in [
        "Mar  4 10:00:00 mx postfix/smtpd[1]: connect from mail.example.com[203.0.113.5]",
        "Mar  4 10:00:00 mx postfix/smtpd[1]: disconnect from mail.example.com[203.0.113.5] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
        "Mar  4 10:00:00 mx postfix/anvil[9]: statistics: max connection rate 1/60s for (smtp:203.0.113.5) at Mar  4 09:59:00",
        "Mar  4 10:00:00 mx postfix/smtpd[1]: warning: hostname x does not resolve to address 192.0.2.1",
        "Mar  4 10:00:00 mx postfix/master[1]: daemon started -- version 3.8.1, configuration /etc/postfix",
        "Mar  4 10:00:00 mx dovecot: imap-login: Login: user=<bob>",
    ] {
        let kept = parse_lines(&mut p, &[line]).unwrap();
        assert_eq!(kept.len(), 1, "{line}");
        assert_eq!((kept[0].action.as_str(), kept[0].kind, kept[0].message.as_str()), ("other", EventKind::Email, line));
        assert_eq!(kept[0].host_name.as_deref(), Some("mx"));
    }
    assert_eq!(p.oldest_held_offset(), None);
    for line in [
        "1709548920.123 145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - HIER_DIRECT/1.2.3.4 text/html",
        "Mar  4 10:00:00 mx postfix/smtp[1]: 3F2A1B4C5D: to=<bob@exa",
        "Mar  4 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0",
        "Mar  4 10:0",
    ] {
        assert!(parse_lines(&mut p, &[line]).is_err(), "{line}");
    }
    assert_eq!(p.oldest_held_offset(), None, "rejected lines hold nothing");
}

#[test]
fn hostile_content_is_kept_verbatim_and_truncation_never_panics() {
    let mut lines = delivered("3F2A1B4C5D", 0);
    lines[1] = "Mar  4 10:00:01 mx postfix/cleanup[101]: 3F2A1B4C5D: warning: header Subject: <script>alert(1)</script>\u{1b}]0;x\u{7} from h[1.2.3.4]; from=<a> to=<b> proto=ESMTP helo=<h>".into();
    let e = run(&mut parser(100), &lines).remove(0);
    assert_eq!(e.email_subject.as_deref(), Some("<script>alert(1)</script>\u{1b}]0;x\u{7}"));
    assert_eq!(e.message, lines.join("\n"));
    let mut p = parser(100);
    for line in &lines {
        for cut in (0..line.len()).filter(|c| line.is_char_boundary(*c)) {
            let _ = p.parse(&line[..cut], &ctx_at(0), &mut Vec::new());
        }
    }
}

/// postscreen writes `[ip]:port` and commas between the envelope fields; a
/// VRFY rejection has only `to=`; a before-queue filter's `proxy-reject`
/// names no client.
#[test]
fn postscreen_vrfy_and_proxy_rejects_are_events() {
    let lines = [
        "Mar  4 10:00:00 mx postfix/postscreen[9]: NOQUEUE: reject: RCPT from [198.51.100.77]:2413: 550 5.7.1 Service unavailable; client [198.51.100.77] blocked using zen.spamhaus.org; from=<promo@bulk.example>, to=<pupil.one@school.example>, proto=ESMTP, helo=<bulk.example>",
        "Mar  4 10:00:01 mx postfix/postscreen[9]: NOQUEUE: reject: CONNECT from [198.51.100.78]:1337: too many connections",
        "Mar  4 10:00:02 mx postfix/smtpd[10]: NOQUEUE: reject: VRFY from unknown[2001:db8::9]: 454 4.7.1 <head@school.example>: Relay access denied; to=<head@school.example> proto=SMTP helo=<me>",
        "Mar  4 10:00:03 mx postfix/smtpd[10]: NOQUEUE: proxy-reject: END-OF-MESSAGE: 554 5.7.0 Reject, id=31619-02 - spam; from=<> to=<office@school.example> proto=SMTP helo=<relay.example>",
        "Mar  4 10:00:04 mx postfix/smtpd[10]: NOQUEUE: reject_warning: RCPT from mail.example.com[203.0.113.5]: 553 5.7.1 <a@example.com>: Sender address rejected: not owned by user; from=<a@example.com> to=<b@school.example> proto=ESMTP helo=<mail>",
    ];
    let events = parse_lines(&mut parser(100), &lines).unwrap();
    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.action.as_str(), e.source_ip.as_deref(), e.email_from.as_deref(), e.reason.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "rejected",
                Some("198.51.100.77"),
                Some("promo@bulk.example"),
                Some("550 5.7.1 Service unavailable; client [198.51.100.77] blocked using zen.spamhaus.org")
            ),
            ("rejected", Some("198.51.100.78"), None, Some("too many connections")),
            ("rejected", Some("2001:db8::9"), None, Some("454 4.7.1 <head@school.example>: Relay access denied")),
            ("rejected", None, Some("<>"), Some("554 5.7.0 Reject, id=31619-02 - spam")),
            ("other", None, None, None),
        ]
    );
    assert_eq!(events[0].email_to, ["pupil.one@school.example"]);
    assert_eq!(events[2].email_to, ["head@school.example"]);
    assert_eq!(events[3].email_to, ["office@school.example"]);
    let mut p = parser(100);
    for line in lines {
        for cut in (0..line.len()).filter(|c| line.is_char_boundary(*c)) {
            let _ = p.parse(&line[..cut], &ctx_at(0), &mut Vec::new());
        }
    }
}

/// A message whose content cleanup refused (a milter, a header check) or a
/// before-queue filter rejected ends there, naming client, sender,
/// recipient and the reply.
#[test]
fn content_rejections_name_the_client_envelope_and_reply() {
    let lines = [
        "Mar  4 10:00:00 mx postfix/cleanup[3]: 4104E3D: milter-reject: END-OF-MESSAGE from mail.example.net[192.0.2.61]: 5.7.1 Blocked by SpamAssassin; from=<offers@example.net> to=<pupil.two@school.example> proto=ESMTP helo=<mail.example.net>",
        "Mar  4 10:00:01 mx postfix/cleanup[3]: 4RzL9c1XyZz6w: reject: header Subject: You have won from h.example.org[192.0.2.62]; from=<win@example.org> to=<pupil.three@school.example> proto=ESMTP helo=<h>: 5.7.1 Message content rejected",
        "Mar  4 10:00:02 mx postfix/smtpd[4]: 5F6A7B8C9D: client=relay.example.com[192.0.2.63]",
        "Mar  4 10:00:02 mx postfix/smtpd[4]: 5F6A7B8C9D: proxy-reject: END-OF-MESSAGE: 554 5.7.0 Reject - spam; from=<x@example.com> to=<staff@school.example> proto=ESMTP helo=<relay>",
    ];
    let events = parse_lines(&mut parser(100), &lines).unwrap();
    assert_eq!(events.len(), 3, "each rejection finishes its message");
    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.action.as_str(), e.source_ip.as_deref(), e.email_from.as_deref(), e.reason.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("rejected", Some("192.0.2.61"), Some("offers@example.net"), Some("5.7.1 Blocked by SpamAssassin")),
            ("rejected", Some("192.0.2.62"), Some("win@example.org"), Some("5.7.1 Message content rejected")),
            ("rejected", Some("192.0.2.63"), Some("x@example.com"), Some("554 5.7.0 Reject - spam")),
        ]
    );
    assert_eq!(events[0].email_to, ["pupil.two@school.example"]);
    assert_eq!(events[1].email_subject.as_deref(), Some("You have won"));
    assert_eq!(events[2].email_to, ["staff@school.example"]);
    assert_eq!(events[2].message, lines[2..].join("\n"));
}

/// pickup names the sender of a local submission; `local` may write `to=`
/// without brackets; an expired message keeps its sender.
#[test]
fn pickup_senders_unbracketed_recipients_and_expiry_senders() {
    let lines = [
        "Mar  4 10:00:00 mx postfix/pickup[5]: D2FAE20586: uid=0 from=<root>",
        "Mar  4 10:00:01 mx postfix/local[6]: D2FAE20586: to=admin@mx.school.example, orig_to=root@localhost, relay=local, delay=0.07, delays=0.04/0/0/0.03, dsn=2.0.0, status=sent (delivered to command: procmail -a \"$EXTENSION\")   ",
        "Mar  4 10:00:02 mx postfix/qmgr[7]: D2FAE20586: removed",
        "Mar  4 10:00:03 mx postfix/qmgr[7]: 66C15648577B: from=<newsletter@example.com>, status=expired, returned to sender",
        "Mar  4 10:00:03 mx postfix/qmgr[7]: 66C15648577B: removed",
    ];
    let events = parse_lines(&mut parser(100), &lines).unwrap();
    assert_eq!((events[0].action.as_str(), events[0].email_from.as_deref()), ("delivered", Some("root")));
    assert_eq!(events[0].email_to, ["admin@mx.school.example"]);
    assert_eq!(events[0].reason.as_deref(), Some("sent (delivered to command: procmail -a \"$EXTENSION\")"));
    assert_eq!(
        (events[1].action.as_str(), events[1].email_from.as_deref()),
        ("expired", Some("newsletter@example.com"))
    );
}

#[test]
fn the_null_sender_of_bounces_is_written_as_exim_and_exchange_write_it() {
    let lines = [
        "Mar  4 10:00:01 mx postfix/qmgr[1]: 4C1A21E0F3: from=<>, size=2210, nrcpt=1 (queue active)",
        "Mar  4 10:00:02 mx postfix/smtp[2]: 4C1A21E0F3: to=<office@parents.example>, relay=mx.parents.example[192.0.2.25]:25, delay=1, delays=0.1/0/0.4/0.5, dsn=2.0.0, status=sent (250 ok)",
        "Mar  4 10:00:02 mx postfix/qmgr[1]: 4C1A21E0F3: removed",
        "Mar  4 10:00:03 mx postfix/smtpd[3]: NOQUEUE: reject: RCPT from x.example[198.51.100.7]: 550 5.1.1 <nobody@school.example>: Recipient address rejected: User unknown; from=<> to=<nobody@school.example> proto=ESMTP helo=<x.example>",
    ];
    let events = parse_lines(&mut parser(100), &lines).unwrap();
    let senders: Vec<_> = events.iter().map(|e| (e.action.as_str(), e.email_from.as_deref())).collect();
    assert_eq!(senders, [("delivered", Some("<>")), ("rejected", Some("<>"))]);
}
