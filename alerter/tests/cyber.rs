//! The shipped cyber pack on real log lines of several products, read by
//! Vigil's own parsers: which rules raise alerts, about whom, and where they
//! stop (one event fewer than a threshold: nothing). And windowed state
//! across a restart of the alerter mid-window.

use chrono::{Duration, TimeZone, Utc};
use std::collections::BTreeSet;
use vigil_alerter::rules::RuleSet;
use vigil_core::config::{AlerterConfig, IngestConfig};
use vigil_core::{Config, Event, Label};
use vigil_ingest::parse::{by_name, LineContext};

/// Events of `lines` read as `format` (each line at its own offset).
fn parse(format: &str, lines: &[String]) -> Vec<Event> {
    let tenant = Label::from("st-marys".to_string());
    let source = Label::from(format!("{format}-source"));
    let mut parser = by_name(format, &IngestConfig::default()).unwrap();
    let mut events = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let ctx = LineContext {
            tenant: &tenant,
            source: &source,
            line_no: i as u64 + 1,
            offset: i as u64 * 1000,
            now: Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap(),
            read_as: None,
        };
        parser.parse(line, &ctx, &mut events).unwrap_or_else(|e| panic!("{format}: {e}: {line}"));
    }
    parser.flush_all(&mut events);
    events
}

/// The shipped cyber rules alone (read from `rules/cyber/`, as the
/// library compiled in has them), quick to compile.
fn shipped() -> RuleSet {
    let cyber = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/cyber");
    let config = AlerterConfig { library: false, rules_dir: Some(cyber), ..AlerterConfig::default() };
    RuleSet::from_config(&config).expect("the cyber rules load")
}

/// (rule id, whom it is about) of every cyber match of `events`, in order.
fn alerts(rules: &mut RuleSet, events: &[Event]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for event in events {
        for found in rules.evaluate(event) {
            let rule = &rules.rules()[found.rule];
            if rule.origin.contains("rules/cyber/") {
                let who = found.group.clone().or(event.user_name.clone()).unwrap_or_default();
                out.push((rule.id.clone(), who));
            }
        }
    }
    out
}

fn ids(found: &[(String, String)]) -> BTreeSet<&str> {
    found.iter().map(|(id, _)| id.as_str()).collect()
}

fn sshd_failures(n: usize, ip: &str) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "Mar  4 10:00:{i:02} mis-server sshd[{}]: Failed password for root from {ip} port {} ssh2",
                900 + i,
                40000 + i
            )
        })
        .collect()
}

#[test]
fn ssh_brute_force_alerts_at_the_fifth_failure_about_the_address() {
    // The whole library, as a school runs it.
    let mut rules = RuleSet::from_config(&AlerterConfig::default()).expect("the shipped library loads");
    let four = parse("sshd", &sshd_failures(4, "203.0.113.77"));
    assert!(alerts(&mut rules, &four).is_empty(), "four failures: no alert");
    let mut lines = sshd_failures(4, "203.0.113.77");
    lines.push("Mar  4 10:00:30 mis-server sshd[950]: Invalid user oracle from 203.0.113.77 port 41000".into());
    let found = alerts(&mut shipped(), &parse("sshd", &lines));
    assert_eq!(found, vec![("brute-force.ssh".to_string(), "203.0.113.77".to_string())]);
}

fn windows_4625(i: usize, user: &str, ip: &str) -> String {
    format!(
        r#"{{"@timestamp":"2026-03-04T10:00:{:02}Z","winlog":{{"event_id":4625,"computer_name":"DC01.stmarys.local","event_data":{{"TargetUserName":"{user}","TargetDomainName":"STMARYS","Status":"0xc000006d","SubStatus":"0xc000006a","LogonType":"3","IpAddress":"{ip}","IpPort":"{}","WorkstationName":"LIB-PC-07"}}}}}}"#,
        i % 60,
        50000 + i
    )
}

#[test]
fn windows_failures_for_many_users_from_one_address_are_a_spray_and_a_brute_force() {
    let mut rules = shipped();
    let fourteen: Vec<String> = (0..14).map(|i| windows_4625(i, &format!("pupil{i}"), "10.20.1.44")).collect();
    assert!(alerts(&mut rules, &parse("windows", &fourteen)).is_empty(), "14 users: below both");
    let more: Vec<String> = (14..20).map(|i| windows_4625(i, &format!("pupil{i}"), "10.20.1.44")).collect();
    let found = alerts(&mut rules, &parse("windows", &more));
    assert_eq!(found[0], ("password-spray.address".to_string(), "10.20.1.44".to_string()), "the 15th user");
    let brute: Vec<_> = found.iter().filter(|(id, _)| id == "brute-force.address").collect();
    assert_eq!(brute, [&("brute-force.address".to_string(), "10.20.1.44".to_string())], "at the 20th failure");
    let one_account: Vec<String> = (0..10).map(|i| windows_4625(30 + i, "l.evans", &format!("10.20.2.{i}"))).collect();
    let found = alerts(&mut shipped(), &parse("windows", &one_account));
    assert_eq!(found, vec![("brute-force.account".to_string(), "l.evans".to_string())]);
}

fn radius_reject(second: usize, user: &str) -> String {
    format!("Wed Mar  4 10:01:{second:02} 2026 : Auth: ({second}) Login incorrect (mschap: MS-CHAP2-Response is incorrect): [{user}] (from client vpn-gw port 0 cli 198.51.100.23)")
}

fn entra_failure(second: usize, user: &str) -> String {
    format!(
        r#"{{"id":"{second}","createdDateTime":"2026-03-04T10:02:{second:02}Z","userPrincipalName":"{user}@stmarys.example","ipAddress":"81.2.69.144","status":{{"errorCode":50126,"failureReason":"Invalid username or password."}},"location":{{"countryOrRegion":"GB"}}}}"#
    )
}

fn google(second: usize, user: &str, name: &str, parameters: &str) -> String {
    format!(
        r#"{{"kind":"admin#reports#activity","id":{{"time":"2026-03-04T10:03:{second:02}Z","uniqueQualifier":"{second}","applicationName":"login","customerId":"C01"}},"actor":{{"email":"{user}@stmarys.example"}},"ipAddress":"192.0.2.80","events":[{{"type":"login","name":"{name}","parameters":[{parameters}]}}]}}"#
    )
}

#[test]
fn radius_entra_and_google_failures_count_alike() {
    let twenty = |line: &dyn Fn(usize) -> String| (0..20).map(line).collect::<Vec<_>>();
    for (format, lines) in [
        ("radius", twenty(&|i| radius_reject(i, &format!("staff{}", i % 3)))),
        ("entra-signin", twenty(&|i| entra_failure(i, &format!("staff{}", i % 3)))),
        (
            "google-login",
            twenty(&|i| {
                google(
                    i,
                    &format!("staff{}", i % 3),
                    "login_failure",
                    r#"{"name":"login_type","value":"google_password"}"#,
                )
            }),
        ),
    ] {
        let events = parse(format, &lines);
        let found = alerts(&mut shipped(), &events);
        assert!(ids(&found).contains("brute-force.address"), "{format}: {found:?}");
        assert!(!ids(&found).contains("password-spray.address"), "{format}: three users are no spray");
        let found = alerts(&mut shipped(), &events[..19]);
        assert!(!ids(&found).contains("brute-force.address"), "{format}: 19 failures");
    }
}

#[test]
fn failures_then_a_success_and_risky_sign_ins_point_at_the_account() {
    let mut lines: Vec<String> = (0..10).map(|i| entra_failure(i, "head")).collect();
    lines.push(entra_failure(40, "head").replace(r#""errorCode":50126"#, r#""errorCode":0"#));
    let found = alerts(&mut shipped(), &parse("entra-signin", &lines));
    assert!(
        found.contains(&("compromised-account.failures-then-success".into(), "head@stmarys.example".into())),
        "{found:?}"
    );
    lines.remove(0);
    let found = alerts(&mut shipped(), &parse("entra-signin", &lines));
    assert!(!ids(&found).contains("compromised-account.failures-then-success"), "nine failures: {found:?}");
    let risky = google(
        5,
        "bursar",
        "login_success",
        r#"{"name":"login_type","value":"google_password"},{"name":"is_suspicious","boolValue":true}"#,
    );
    let plain = google(
        6,
        "bursar",
        "login_success",
        r#"{"name":"login_type","value":"google_password"},{"name":"is_suspicious","boolValue":false}"#,
    );
    let found = alerts(&mut shipped(), &parse("google-login", &[risky, plain]));
    assert_eq!(found, vec![("risky-sign-in.provider".to_string(), "bursar@stmarys.example".to_string())]);
}

fn windows_nxlog(id: u32, time: &str, data: &str) -> String {
    format!(
        r#"{{"EventTime":"{time}","Hostname":"DC01.stmarys.local","EventID":{id},"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security",{data}}}"#
    )
}

#[test]
fn admin_group_additions_and_accounts_made_at_night_are_reported() {
    let added = |id, group: &str| {
        windows_nxlog(
            id,
            "2026-03-04 10:42:00",
            &format!(
                r#""MemberName":"CN=Jo Bloggs,OU=Staff,DC=stmarys,DC=local","TargetUserName":"{group}","SubjectUserName":"it.admin""#
            ),
        )
    };
    let lines = [
        added(4728, "Domain Admins"),
        added(4732, "Administrators"),
        added(4756, "Enterprise Admins"),
        added(4728, "Year 7"),
    ];
    let found = alerts(&mut shipped(), &parse("windows", &lines));
    assert_eq!(found.iter().filter(|(id, _)| id == "privileged-change.admin-group").count(), 3, "{found:?}");
    let created = |time| windows_nxlog(4720, time, r#""TargetUserName":"new.pupil","SubjectUserName":"it.admin""#);
    // 2026-03-04 is a Wednesday: 23:30 GMT is out of hours, 10:42 is not;
    // 2026-03-07 is a Saturday.
    let found = alerts(
        &mut shipped(),
        &parse(
            "windows",
            &[created("2026-03-04 10:42:00"), created("2026-03-04 23:30:00"), created("2026-03-07 11:00:00")],
        ),
    );
    assert_eq!(found.iter().filter(|(id, _)| id == "new-account.out-of-hours").count(), 2, "{found:?}");
}

fn squid(second: usize, user: &str, url: &str, method: &str) -> String {
    format!("{}.000 5 10.20.1.61 TCP_DENIED/403 3890 {method} {url} {user} HIER_NONE/- text/html", 1772618400 + second)
}

#[test]
fn vpn_doh_and_malware_domains_are_found_by_their_parents() {
    let lines = [
        squid(0, "r.jones", "cdn.nordvpn.com:443", "CONNECT"),
        squid(1, "r.jones", "https://www.bbc.co.uk/news", "GET"),
        squid(2, "a.khan", "dns.google:443", "CONNECT"),
        squid(3, "m.patel", "http://testsafebrowsing.appspot.com/s/phishing.html", "GET"),
        squid(4, "t.brown", "http://notnordvpn.com/", "GET"),
    ];
    let found = alerts(&mut shipped(), &parse("squid", &lines));
    assert_eq!(
        found,
        vec![
            ("filter-bypass.vpn-proxy".to_string(), "r.jones".to_string()),
            ("filter-bypass.dns-over-https".to_string(), "a.khan".to_string()),
            ("malware.listed-domain".to_string(), "m.patel".to_string()),
        ]
    );
}

#[test]
fn proxy_avoidance_verdicts_of_fortigate_and_e2guardian_count_towards_filter_bypass() {
    let e2 = |minute: u32| {
        format!("2026.3.4 10:{minute:02}:00 a.khan 10.20.1.31 http://www.freeproxy-unblock.example/browse.php *DENIED* Banned site: freeproxy-unblock.example GET 0 0 Proxy Avoidance 1 403 - LIB-PC-12 Pupils Mozilla/5.0 - - -")
    };
    let found = alerts(&mut shipped(), &parse("e2guardian", &[e2(0), e2(1)]));
    assert!(found.is_empty(), "two blocks: {found:?}");
    let found = alerts(&mut shipped(), &parse("e2guardian", &[e2(0), e2(1), e2(2)]));
    assert_eq!(found, vec![("filter-bypass.verdicts".to_string(), "a.khan".to_string())]);
    let forti = r#"date=2026-03-04 time=10:05:00 devname="FGT60F" devid="FGT60F0000000001" logid="0316013056" type="utm" subtype="webfilter" eventtype="ftgd_blk" level="warning" vd="root" policyid=1 sessionid=1 user="m.patel" srcip=10.20.1.70 srcport=50000 srcintf="lan" dstip=198.51.100.66 dstport=443 dstintf="wan" proto=6 service="HTTPS" hostname="bad.example" profile="pupils" action="blocked" reqtype="direct" url="https://bad.example/" sentbyte=0 rcvdbyte=0 direction="outgoing" msg="URL belongs to a denied category in policy" method="domain" cat=26 catdesc="Malicious Websites""#;
    let found = alerts(&mut shipped(), &parse("fortigate", &[forti.to_string()]));
    assert_eq!(found, vec![("malware.filter-verdict".to_string(), "m.patel".to_string())]);
}

#[test]
fn one_sender_mailing_two_hundred_people_in_an_hour_is_mass_mailing() {
    let message = |n: usize, to: usize| {
        let id = format!("4F{n:05}A");
        vec![
            format!("Mar  4 10:{:02}:00 mail postfix/qmgr[2]: {id}: from=<office@stmarys.example>, size=2048, nrcpt=1 (queue active)", n % 60),
            format!("Mar  4 10:{:02}:01 mail postfix/smtp[3]: {id}: to=<parent{to}@home.example>, relay=mx.home.example[192.0.2.5]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)", n % 60),
            format!("Mar  4 10:{:02}:02 mail postfix/qmgr[2]: {id}: removed", n % 60),
        ]
    };
    let lines: Vec<String> = (0..199).flat_map(|n| message(n, n)).collect();
    let events = parse("postfix", &lines);
    assert_eq!(events.len(), 199);
    let mut rules = shipped();
    assert!(alerts(&mut rules, &events).is_empty(), "199 recipients");
    let found = alerts(&mut rules, &parse("postfix", &message(300, 199)));
    assert_eq!(found, vec![("mass-mailing.recipients".to_string(), "office@stmarys.example".to_string())]);
}

#[test]
fn windowed_state_survives_a_restart_mid_window_without_a_second_alert() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("data_dir = {:?}\n", dir.path().join("data"));
    let config = Config::from_toml(&text, "test.toml", dir.path()).unwrap();
    let events = parse("sshd", &sshd_failures(7, "203.0.113.77"));
    let store = vigil_alerter::state::StateStore::new(&config.data_dir.join("alerter"));
    let now = events[0].timestamp + Duration::minutes(1);

    let mut before = shipped();
    assert!(alerts(&mut before, &events[..3]).is_empty());
    store.save_windows(&before.checkpoint(now).expect("three failures counted")).unwrap();
    drop(before);

    // Restarted: the saved window holds three failures; the batch is read
    // again (it was not committed) and counted once; the fifth alerts.
    let mut after = shipped();
    after.restore(store.load_windows().unwrap());
    assert!(alerts(&mut after, &events[..4]).is_empty(), "replayed three, plus the fourth");
    assert_eq!(alerts(&mut after, &events[4..5]), vec![("brute-force.ssh".to_string(), "203.0.113.77".to_string())]);

    // Without the saved window the count would have started again.
    let mut forgetful = shipped();
    assert!(alerts(&mut forgetful, &events[3..5]).is_empty());
}

#[test]
fn an_admin_signing_in_from_a_new_address_after_the_learning_fortnight_is_reported() {
    let logon = |day: u32, user: &str, ip: &str| {
        windows_nxlog(
            4624,
            &format!("2026-03-{day:02} 08:30:00"),
            &format!(
                r#""TargetUserName":"{user}","TargetDomainName":"STMARYS","LogonType":"3","IpAddress":"{ip}","IpPort":"50122","WorkstationName":"IT-PC-01""#
            ),
        )
    };
    let lines = [
        logon(1, "Administrator", "10.20.0.5"),
        logon(3, "Administrator", "10.20.0.9"),
        logon(16, "Administrator", "10.20.0.9"),
        logon(16, "Administrator", "203.0.113.50"),
        logon(17, "l.evans", "203.0.113.51"),
    ];
    let found = alerts(&mut shipped(), &parse("windows", &lines));
    assert_eq!(found, vec![("privileged-change.admin-new-address".to_string(), "Administrator".to_string())]);
}

#[test]
fn mail_from_a_lookalike_of_the_schools_domain_is_reported_and_its_own_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("our-domains.txt");
    std::fs::write(&own, "# St Mary's\nstmarys-school.org.uk\n").unwrap();
    let cyber = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/cyber");
    let mut config = AlerterConfig { library: false, rules_dir: Some(cyber), ..AlerterConfig::default() };
    config.lists.insert("school-domains".into(), vec![own]);
    let mut rules = RuleSet::from_config(&config).unwrap();
    let mail = |n: usize, from: &str| {
        let id = format!("5A{n:05}B");
        vec![
            format!("Mar  4 10:{n:02}:00 mail postfix/qmgr[2]: {id}: from=<{from}>, size=2048, nrcpt=1 (queue active)"),
            format!("Mar  4 10:{n:02}:01 mail postfix/local[3]: {id}: to=<bursar@stmarys-school.org.uk>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)"),
            format!("Mar  4 10:{n:02}:02 mail postfix/qmgr[2]: {id}: removed"),
        ]
    };
    let lines: Vec<String> = [
        (1, "head@stmarys-school.org.uk"),
        (2, "news@bbc.co.uk"),
        (3, "head@stmarys-schoo1.org.uk"),
        (4, "it@mail.stmarys-school.org.uk"),
    ]
    .iter()
    .flat_map(|(n, from)| mail(*n, from))
    .collect();
    let found = alerts(&mut rules, &parse("postfix", &lines));
    assert_eq!(found.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["lookalike-domain.sender"], "{found:?}");
}

/// A successful Entra ID sign-in (Graph format) of `user` at `time` from
/// `city`, `country` at (`lat`, `lon`).
fn entra_located(
    id: u32,
    time: &str,
    user: &str,
    ip: &str,
    (city, country, lat, lon): (&str, &str, f64, f64),
) -> String {
    format!(
        r#"{{"id":"66ea54eb-6301-4ee5-be62-ff5a759b{id:04}","createdDateTime":"{time}","userDisplayName":"Sian Hughes","userPrincipalName":"{user}","userId":"d7cc485d-2c1b-422c-98fd-5ce52859a401","appId":"4765445b-32c6-49b0-83e6-1d93765276ca","appDisplayName":"OfficeHome","ipAddress":"{ip}","clientAppUsed":"Browser","correlationId":"66ea54eb-6301-4ee5-be62-ff5a759b0008","conditionalAccessStatus":"notApplied","isInteractive":true,"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","riskEventTypes":[],"resourceDisplayName":"OfficeHome","status":{{"errorCode":0,"failureReason":"Other.","additionalDetails":null}},"deviceDetail":{{"deviceId":"","displayName":"","operatingSystem":"Windows 10","browser":"Firefox 128.0","isCompliant":false,"isManaged":false,"trustType":""}},"location":{{"city":"{city}","state":"","countryOrRegion":"{country}","geoCoordinates":{{"altitude":null,"latitude":{lat},"longitude":{lon}}}}},"appliedConditionalAccessPolicies":[],"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"}}"#
    )
}

const LEEDS: (&str, &str, f64, f64) = ("Leeds", "GB", 53.8, -1.55);
const MOSCOW: (&str, &str, f64, f64) = ("Moscow", "RU", 55.75, 37.62);
const MANCHESTER: (&str, &str, f64, f64) = ("Manchester", "GB", 53.48, -2.24);

#[test]
fn entra_sign_ins_from_leeds_and_moscow_an_hour_apart_are_impossible_travel() {
    let user = "s.hughes@stmarys.example";
    let lines = [
        entra_located(1, "2026-03-04T08:10:00Z", user, "81.2.69.144", LEEDS),
        entra_located(2, "2026-03-04T09:05:00Z", user, "185.220.101.33", MOSCOW),
    ];
    let events = parse("entra-signin", &lines);
    assert_eq!((events[1].source_lat, events[1].source_lon), (Some(55.75), Some(37.62)));
    let found = alerts(&mut shipped(), &events);
    assert_eq!(found, vec![("compromised-account.impossible-travel".to_string(), user.to_string())]);

    // Leeds then Manchester within minutes (geo-IP jitter), and Moscow a
    // day and a half after Leeds: nothing.
    let lines = [
        entra_located(1, "2026-03-04T08:10:00Z", user, "81.2.69.144", LEEDS),
        entra_located(2, "2026-03-04T08:12:00Z", user, "81.2.69.160", MANCHESTER),
        entra_located(3, "2026-03-05T20:00:00Z", user, "185.220.101.33", MOSCOW),
    ];
    let found = alerts(&mut shipped(), &parse("entra-signin", &lines));
    assert!(!ids(&found).contains("compromised-account.impossible-travel"), "{found:?}");
    // A failed sign-in from Moscow is no travel: the password did not work.
    let failed = entra_located(2, "2026-03-04T09:05:00Z", user, "185.220.101.33", MOSCOW)
        .replace(r#""errorCode":0"#, r#""errorCode":50126"#);
    let lines = [entra_located(1, "2026-03-04T08:10:00Z", user, "81.2.69.144", LEEDS), failed];
    assert!(alerts(&mut shipped(), &parse("entra-signin", &lines)).is_empty());
}
