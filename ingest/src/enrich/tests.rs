//! Enrichment as a whole: the enricher's steps together, the lease table's
//! file, and events going through [`LineProcessor`]s that share one
//! enricher.

use super::*;
use crate::lines::RawLine;
use crate::parse::by_name;
use crate::pipeline::LineProcessor;
use chrono::{DateTime, TimeZone, Utc};
use std::sync::Arc;
use vigil_core::config::{IngestConfig, NetworkTenant};
use vigil_core::{EventKind, Outcome};

const DIRECTORY: &str = "username,display_name,role,year_group,tenant\n\
                         l.evans,Lowri Evans,pupil,Year 9,st-marys\n\
                         m.jones,Mali Jones,pupil,R,\n";

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, h, m, 0).unwrap()
}

fn config(dir: &Path, networks: &[(&str, &str)]) -> EnrichConfig {
    let directory = dir.join("users.csv");
    std::fs::write(&directory, DIRECTORY).unwrap();
    EnrichConfig {
        networks: networks
            .iter()
            .map(|(cidr, tenant)| NetworkTenant { cidr: cidr.parse().unwrap(), tenant: tenant.to_string() })
            .collect(),
        directory: Some(directory),
        ..EnrichConfig::default()
    }
}

fn event(kind: EventKind, action: &'static str, format: &'static str, ip: &str, t: DateTime<Utc>) -> Event {
    let mut e = Event::new(t, kind, action, Outcome::Success, format, format, "raw");
    e.tenant = "trust".into();
    e.id = "fixed-id".into();
    e.source_ip = Some(ip.into());
    e
}

fn proxy(ip: &str, t: DateTime<Utc>) -> Event {
    event(EventKind::Proxy, "allowed", "squid", ip, t)
}

fn login(user: &str, ip: &str, t: DateTime<Utc>) -> Event {
    let mut e = event(EventKind::Auth, "logged-in", "windows-security", ip, t);
    e.user_name = Some(user.into());
    e
}

#[test]
fn tenant_attribution_and_directory_apply_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let networks = [("10.0.0.0/8", "trust-wide"), ("10.1.0.0/16", "st-marys")];
    let enricher = Enricher::new(&config(dir.path(), &networks), dir.path()).unwrap();
    assert!(enricher.is_active());

    let mut logon = login("SCHOOL\\L.Evans", "10.1.2.3", at(9, 0));
    enricher.enrich(&mut logon);
    assert_eq!(logon.tenant, "st-marys", "the most specific network");
    assert_eq!(logon.user_full_name.as_deref(), Some("Lowri Evans"), "DOMAIN\\user matches a bare username");

    let mut seen = proxy("::ffff:10.1.2.3", at(10, 42));
    enricher.enrich(&mut seen);
    assert_eq!(seen.tenant, "st-marys");
    assert_eq!(seen.id, "fixed-id", "the event id stays as derived at parse time");
    assert_eq!(seen.user_name.as_deref(), Some("SCHOOL\\L.Evans"));
    assert_eq!(seen.user_attribution.as_deref(), Some("lease:windows-security"));
    assert_eq!((seen.user_role.as_deref(), seen.user_year_group), (Some("pupil"), Some(9)));

    // The same address in another school's network is another key.
    let mut elsewhere = proxy("10.200.2.3", at(10, 42));
    enricher.enrich(&mut elsewhere);
    assert_eq!((elsewhere.tenant.as_str(), elsewhere.user_name.as_deref()), ("trust-wide", None));

    // A line that names its user keeps it, and gets no attribution.
    let mut named = proxy("10.1.2.3", at(10, 43));
    named.user_name = Some("m.jones@school.example".into());
    enricher.enrich(&mut named);
    assert_eq!(named.user_attribution, None);
    assert_eq!((named.user_full_name.as_deref(), named.user_year_group), (Some("Mali Jones"), Some(0)));

    // Outside every network the source's tenant stays.
    let mut outside = login("l.evans", "203.0.113.9", at(9, 0));
    enricher.enrich(&mut outside);
    assert_eq!(outside.tenant, "trust");
    assert_eq!(outside.user_full_name, None, "l.evans's row is for st-marys only");
}

#[test]
fn nothing_configured_and_leases_off_is_inactive() {
    let dir = tempfile::tempdir().unwrap();
    let off = EnrichConfig { leases: false, ..EnrichConfig::default() };
    let enricher = Enricher::new(&off, dir.path()).unwrap();
    assert!(!enricher.is_active());
    let mut e = proxy("10.1.2.3", at(10, 0));
    let before = e.clone();
    enricher.enrich(&mut e);
    assert_eq!(e, before);
    enricher.save().unwrap();
    assert!(!leases_path(dir.path()).exists());
}

#[test]
fn a_missing_directory_is_a_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = EnrichConfig { directory: Some(dir.path().join("nope.csv")), ..EnrichConfig::default() };
    let err = Enricher::new(&missing, dir.path()).err().unwrap().to_string();
    assert!(err.contains("nope.csv") && err.contains("[enrich] directory"), "{err}");
}

#[test]
fn source_ip_forms() {
    assert_eq!(parse_ip("10.1.2.3"), Some("10.1.2.3".parse().unwrap()));
    assert_eq!(parse_ip("::ffff:10.1.2.3"), Some("10.1.2.3".parse().unwrap()));
    assert_eq!(parse_ip("fe80::1%eth0"), Some("fe80::1".parse().unwrap()));
    assert_eq!(parse_ip("host.example"), None);
    assert_eq!(parse_ip(""), None);
}

#[test]
fn the_lease_table_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = EnrichConfig::default();
    {
        let enricher = Enricher::new(&cfg, dir.path()).unwrap();
        let mut radius = login("l.evans", "10.9.9.9", at(8, 0));
        radius.source_ip = None;
        radius.source_mac = Some("3c:22:fb:01:02:03".into());
        radius.log_format = "radius".into();
        enricher.enrich(&mut radius);
        let mut lease = event(EventKind::Network, "lease-granted", "isc-dhcpd", "10.1.2.3", at(8, 1));
        lease.source_mac = Some("3c:22:fb:01:02:03".into());
        enricher.enrich(&mut lease);
        enricher.enrich(&mut login("a.pupil", "10.1.2.4", at(9, 0)));
        enricher.enrich(&mut login("b.pupil", "10.1.2.4", at(10, 30)));
        let mut release = event(EventKind::Network, "lease-released", "isc-dhcpd", "10.1.2.3", at(11, 0));
        release.source_mac = Some("3c:22:fb:01:02:03".into());
        enricher.enrich(&mut release);
        enricher.save().unwrap();
    }
    let text = std::fs::read_to_string(leases_path(dir.path())).unwrap();
    assert!(text.starts_with("{\"version\":1,"), "{text}");

    let restored = Enricher::new(&cfg, dir.path()).unwrap();
    let attributed = |ip: &str, t| {
        let mut e = proxy(ip, t);
        restored.enrich(&mut e);
        (e.user_name, e.user_attribution)
    };
    assert_eq!(attributed("10.1.2.3", at(10, 42)), (Some("l.evans".into()), Some("lease:radius".into())));
    assert_eq!(attributed("10.1.2.3", at(11, 0)), (None, None), "the release was restored too");
    assert_eq!(attributed("10.1.2.4", at(10, 0)).0.as_deref(), Some("a.pupil"));
    assert_eq!(attributed("10.1.2.4", at(10, 42)).0.as_deref(), Some("b.pupil"));
    restored.save().unwrap();
    assert_eq!(std::fs::read_to_string(leases_path(dir.path())).unwrap(), text, "unchanged table, same file");
}

#[test]
fn a_damaged_lease_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = leases_path(dir.path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let binding = r#"{"tenant":"t","kind":"ip-user","key":"10.1.2.3","value":"u","format":"sshd","start":"2026-03-04T09:00:00Z"}"#;
    for (contents, expect) in [
        ("{\"version\":1,\"bindings\":[".to_string(), "EOF"),
        ("[]".to_string(), "damaged"),
        (format!("{{\"version\":2,\"bindings\":[{binding}]}}"), "version 2"),
        (format!("{{\"version\":1,\"bindings\":[{}]}}", binding.replace("10.1.2.3", "10.1.2")), "binding 1"),
        (format!("{{\"version\":1,\"bindings\":[{}]}}", binding.replace("ip-user", "ip-mac")), "binding 1"),
    ] {
        std::fs::write(&path, &contents).unwrap();
        let err = Enricher::new(&EnrichConfig::default(), dir.path()).err().unwrap().to_string();
        assert!(err.contains("leases.json") && err.contains("move it aside") && err.contains(expect), "{err}");
    }
    std::fs::write(&path, format!("{{\"version\":1,\"bindings\":[{binding}]}}")).unwrap();
    assert!(Enricher::new(&EnrichConfig::default(), dir.path()).is_ok());
}

fn raw(text: &str, offset: u64) -> RawLine {
    RawLine {
        line_no: offset + 1,
        offset,
        end_offset: offset + text.len() as u64 + 1,
        bytes: text.as_bytes().to_vec(),
        overlong: None,
    }
}

#[test]
fn a_proxy_line_is_attributed_through_the_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let enricher = Arc::new(Enricher::new(&config(dir.path(), &[("10.1.0.0/16", "st-marys")]), dir.path()).unwrap());
    let ingest = IngestConfig::default();
    let processor = |format: &str| {
        LineProcessor::new(by_name(format, &ingest).unwrap(), "trust", format, 4096).with_enricher(enricher.clone())
    };
    let (mut auth, mut web) = (processor("sshd"), processor("squid"));
    let now = Utc.with_ymd_and_hms(2024, 3, 4, 12, 0, 0).unwrap();
    let mut events = Vec::new();
    auth.process(
        &raw("Mar  4 10:40:00 gw sshd[812]: Accepted password for l.evans from 10.1.2.3 port 40122 ssh2", 0),
        now,
        &mut events,
    )
    .unwrap();
    // 1709548920 is 2024-03-04 10:42:00 UTC: two minutes after the login.
    let squid = "1709548920.123    145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html";
    web.process(&raw(squid, 0), now, &mut events).unwrap();
    let [login, seen] = &events[..] else { panic!("two events expected: {events:?}") };
    assert_eq!(login.user_attribution, None);
    assert_eq!(seen.tenant, "st-marys");
    assert_eq!(seen.user_name.as_deref(), Some("l.evans"));
    assert_eq!(seen.user_attribution.as_deref(), Some("lease:sshd"));
    assert_eq!(seen.user_full_name.as_deref(), Some("Lowri Evans"));
    assert_eq!(seen.id, Event::derive_id("trust", "squid", 0, squid.as_bytes()));
    let json: serde_json::Value = serde_json::from_slice(&seen.to_json()).unwrap();
    assert_eq!(json["user.attribution"], "lease:sshd");
    assert_eq!(json["user.year_group"], 9);
}
