use super::*;
use crate::parse::testutil::{ctx, parse_lines_with_use, parse_one};
use chrono::TimeZone;

const HEADER: [&str; 5] = [
    "\u{feff}#Software: Microsoft Exchange Server",
    "#Version: 15.02.1544.004",
    "#Log-type: Message Tracking Log",
    "#Date: 2024-03-04T00:00:03.524Z",
    "#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,schema-version",
];

/// A SMTP RECEIVE from a parent's mail server through the front end.
const RECEIVE: &str = r#"2024-03-04T10:42:00.123Z,10.0.0.11,EXFE01.school.local,10.0.0.10,EXMB01,08DC3C1A2B3C4D5E;250 2.6.0 <CAF1@mail.parents.example> [InternalId=12345678901234] Queued mail for delivery,EXMB01\Default EXMB01,SMTP,RECEIVE,12345678901234,<CAF1@mail.parents.example>,5e3f1c2a-0b1d-4c2e-9f3a-1a2b3c4d5e6f,office@school.example;head@school.example,,20480,2,,,"Year 6 trip, ""Kingswood"" letter",parent@parents.example,bounces@parents.example,,Incoming,,203.0.113.5,10.0.0.11,S:FirstForestHop=EXMB01.school.local;S:ProxiedClientIPAddress=203.0.113.5,Email,3c4d5e6f-1111-2222-3333-444455556666,15.02.1544.004"#;

/// A SEND to an external server.
const SEND: &str = "2024-03-04T10:43:10.500Z,10.0.0.10,EXMB01,198.51.100.25,mx.parents.example,08DC3C1A2B3C4D5F;250 2.0.0 OK;ClientSubmitTime:2024-03-04T10:43:08.000Z,EXMB01\\Internet,SMTP,SEND,12345678909999,<a1b2@EXMB01.school.local>,6a7b8c9d-0000-1111-2222-333344445555,parent@parents.example,250 2.1.5 Recipient OK,4096,1,,,Re: homework,j.smith@school.example,j.smith@school.example,2024-03-04T10:43:08.000Z;SRV=EXMB01.school.local:TOTAL-SUB=0.120|SA=0.050,Originating,,10.0.0.50,,,Email,4d5e6f70-1111-2222-3333-444455556666,15.02.1544.004";

/// A FAIL with a resolver NDR.
const FAIL: &str = "2024-03-04T10:44:00.000Z,,,,EXMB01,No suitable shadow servers,,ROUTING,FAIL,12345678905555,<x@spam.example>,7b8c9d0e-0000-1111-2222-333344445555,nobody@school.example,550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup,1024,1,,,You won,x@spam.example,x@spam.example,,Incoming,,,,,Email,5e6f7081-1111-2222-3333-444455556666,15.02.1544.004";

#[test]
fn headers_set_the_columns_and_a_receive_is_queued() {
    let mut lines = HEADER.to_vec();
    lines.push(RECEIVE);
    let (events, uses) = parse_lines_with_use(&mut ExchangeParser::new(), &lines).unwrap();
    assert_eq!(uses[..5], [LineUse::Header; 5]);
    assert_eq!(uses[5], LineUse::Event);
    let e = &events[0];
    assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Email, "queued", Outcome::Unknown));
    assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap() + chrono::Duration::milliseconds(123));
    assert_eq!(e.code.as_deref(), Some("RECEIVE"));
    assert_eq!(e.source_ip.as_deref(), Some("203.0.113.5"), "original-client-ip wins over the front end");
    assert_eq!(e.host_name.as_deref(), Some("EXMB01"));
    assert_eq!(e.email_from.as_deref(), Some("bounces@parents.example"));
    assert_eq!(e.email_to, ["office@school.example", "head@school.example"]);
    assert_eq!(e.email_subject.as_deref(), Some(r#"Year 6 trip, "Kingswood" letter"#));
    assert_eq!(e.email_message_id.as_deref(), Some("<CAF1@mail.parents.example>"));
    assert_eq!(e.email_queue_id.as_deref(), Some("12345678901234"));
    assert_eq!(e.email_size, Some(20480));
    assert_eq!(e.reason, None);
    assert_eq!(e.email_relay, None);
    assert_eq!((e.observer_product.as_str(), e.log_format.as_str()), ("exchange", "exchange"));
    assert_eq!(e.message, RECEIVE);
    assert_eq!(e.log_offset, Some(5000));
}

#[test]
fn send_names_the_next_hop_and_fail_the_status() {
    let mut p = ExchangeParser::new();
    let e = parse_one(&mut p, SEND).unwrap();
    assert_eq!((e.action.as_str(), e.outcome), ("delivered", Outcome::Success));
    assert_eq!(e.email_relay.as_deref(), Some("mx.parents.example [198.51.100.25]"));
    assert_eq!(e.host_name.as_deref(), Some("EXMB01"));
    assert_eq!(e.source_ip.as_deref(), Some("10.0.0.50"));
    assert_eq!(e.reason.as_deref(), Some("250 2.1.5 Recipient OK"));
    assert_eq!(e.email_subject.as_deref(), Some("Re: homework"));
    let e = parse_one(&mut p, FAIL).unwrap();
    assert_eq!((e.action.as_str(), e.outcome), ("bounced", Outcome::Failure));
    assert_eq!(
        e.reason.as_deref(),
        Some("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup")
    );
    assert_eq!(e.source_ip, None);
    assert_eq!(e.email_to, ["nobody@school.example"]);
}

#[test]
fn event_ids_map_to_actions() {
    for (id, status, action, outcome) in [
        ("DELIVER", "", "delivered", Outcome::Success),
        ("FAIL", "550 4.4.7 QUEUE.Expired; message expired", "expired", Outcome::Failure),
        ("MODERATIONEXPIRE", "", "expired", Outcome::Failure),
        ("DEFER", "451 4.4.0 DNS query failed", "deferred", Outcome::Unknown),
        ("DROP", "", "rejected", Outcome::Failure),
        ("BADMAIL", "", "rejected", Outcome::Failure),
        ("POISONMESSAGE", "", "rejected", Outcome::Failure),
        ("SUBMIT", "", "queued", Outcome::Unknown),
        ("EXPAND", "", "other", Outcome::Unknown),
        ("HAREDIRECT", "", "other", Outcome::Unknown),
        ("AGENTINFO", "", "other", Outcome::Unknown),
    ] {
        let line = FAIL.replacen(",FAIL,", &format!(",{id},"), 1).replacen(
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            status,
            1,
        );
        let e = parse_one(&mut ExchangeParser::new(), &line).unwrap();
        assert_eq!((e.action.as_str(), e.outcome, e.code.as_deref()), (action, outcome, Some(id)), "{id}");
    }
}

#[test]
fn a_fields_header_reorders_the_columns() {
    let lines = [
        "#Fields: date-time,event-id,sender-address,recipient-address,message-subject",
        "2024-03-04T10:42:00Z,DELIVER,a@parents.example,b@school.example;c@school.example,Hello",
    ];
    let (events, _) = parse_lines_with_use(&mut ExchangeParser::new(), &lines).unwrap();
    let e = &events[0];
    assert_eq!(e.email_from.as_deref(), Some("a@parents.example"));
    assert_eq!(e.email_to, ["b@school.example", "c@school.example"]);
    assert_eq!(e.email_subject.as_deref(), Some("Hello"));
    assert_eq!(e.email_size, None);
}

#[test]
fn bad_lines_are_rejected_with_a_reason() {
    let mut p = ExchangeParser::new();
    for (line, why) in [
        ("2024-03-04T10:42:00Z,DELIVER", "fields but the #Fields header lists 30"),
        ("1709548920.123 145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - DIRECT/1.2.3.4 text/html", "fields"),
        ("Mar  4 10:00:00 mx postfix/smtpd[1]: connect from x[1.2.3.4]", "fields"),
        (&SEND.replacen("2024-03-04T10:43:10.500Z", "yesterday", 1), "not an ISO 8601 time"),
        (&SEND.replacen(",4096,", ",4k,", 1), "total-bytes"),
        (&SEND.replacen(",SEND,", ",,", 1), "no event-id"),
        (&RECEIVE[..RECEIVE.find("Kingswood").unwrap()], "not closed"),
        ("#not a directive", "#Name: value"),
        ("#Fields: client-ip,event-id", "no date-time"),
    ] {
        let err = p.parse(line, &ctx(), &mut Vec::new()).unwrap_err();
        assert!(err.0.contains(why), "{line}: {err}");
    }
}

#[test]
fn hostile_content_is_kept_verbatim_and_truncation_never_panics() {
    let subject = "\"<script>alert(1)</script>\u{1b}[2J\r\u{0}\"";
    let line = FAIL.replacen("You won", subject, 1);
    let e = parse_one(&mut ExchangeParser::new(), &line).unwrap();
    assert_eq!(e.email_subject.as_deref(), Some("<script>alert(1)</script>\u{1b}[2J\r\u{0}"));
    assert_eq!(e.message, line);
    let mut p = ExchangeParser::new();
    for full in [RECEIVE, SEND, FAIL, HEADER[4]] {
        for cut in (0..full.len()).filter(|c| full.is_char_boundary(*c)) {
            let mut out = Vec::new();
            match p.parse(&full[..cut], &ctx(), &mut out) {
                Ok(LineUse::Event) => assert_eq!(out.len(), 1),
                Ok(_) | Err(_) => assert!(out.is_empty()),
            }
            p = ExchangeParser::new();
        }
    }
}

/// Exchange 2016/2019 log `SENDEXTERNAL` for a hybrid send connector; a
/// mailbox `STOREDRIVER` `RECEIVE` puts recipient types in
/// `recipient-status`; IPv6 client addresses may carry a `%zone`.
#[test]
fn sendexternal_storedriver_receive_and_zoned_addresses() {
    let mut p = ExchangeParser::new();
    let send = r#"2025-01-14T09:29:05.327Z,192.0.2.80,EXHUB01,198.51.100.25,school-example.mail.protection.outlook.com,";250 2.6.0 <a1@exhub01.school.example> [InternalId=5450313518243] Queued mail for delivery;ClientSubmitTime:",Outbound to Office 365,SMTP,SENDEXTERNAL,8774618205228,<a1@exhub01.school.example>,cb1ce4e7-0000-1111-2222-333344445555,parent@parents.example,250 2.1.5 Recipient OK,136349,1,,,Trip letter,,<>,2025-01-14T09:28:50.814Z,Incoming,,,,S:ToEntity=Internet,Email,82f8feae-0000-1111-2222-333344445555,15.01.2507.039"#;
    let e = parse_one(&mut p, send).unwrap();
    assert_eq!(
        (e.action.as_str(), e.outcome, e.code.as_deref()),
        ("delivered", Outcome::Success, Some("SENDEXTERNAL"))
    );
    assert_eq!(e.email_relay.as_deref(), Some("school-example.mail.protection.outlook.com [198.51.100.25]"));
    assert_eq!(e.host_name.as_deref(), Some("EXHUB01"));
    assert_eq!(e.reason.as_deref(), Some("250 2.1.5 Recipient OK"));
    let receive = r#"2022-09-19T15:02:29.450Z,fe80::1234:5678:4321:1010%3,EXMB01.school.local,fe80::1234:5678:4321:1011%3,EXMB01,"MDB:12345678-3232-2323-1111-12345679987, Mailbox:33345678-3232-2323-1111-08da9fd00918, MessageClass:IPM.Note, ClientType:MOMT",,STOREDRIVER,RECEIVE,438,<b2@school.example>,6a638d20-0000-1111-2222-333344445555,pupil.one@school.example;parent@parents.example,To;Cc,3750,2,,,Homework,j.smith@school.example,j.smith@school.example,04I: ,Originating,,,,S:DeliveryPriority=Normal,Email,12345678-0000-1111-2222-333344445555,15.01.2375.007"#;
    let e = parse_one(&mut p, receive).unwrap();
    assert_eq!((e.action.as_str(), e.code.as_deref()), ("queued", Some("RECEIVE")));
    assert_eq!(e.reason, None, "To;Cc are recipient types, not a status");
    assert_eq!(e.source_ip.as_deref(), Some("fe80::1234:5678:4321:1010"));
    assert_eq!(e.email_to, ["pupil.one@school.example", "parent@parents.example"]);
    assert_eq!(e.email_subject.as_deref(), Some("Homework"));
}
