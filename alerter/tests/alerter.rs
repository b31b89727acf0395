//! The alerter end to end: events in over the embedded transport, alerts out
//! as `.eml` files or through a real SMTP server process (`vigil-smtp-sink`).

use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use vigil_alerter::{Alert, AlertSink, AlertSinkError, Alerter, AlerterError, RetryPolicy};
use vigil_core::shutdown::{self, Phase};
use vigil_core::transport::embedded::EmbeddedTransport;
use vigil_core::transport::{Positions, Topic, Transport, ALERTER_GROUP};
use vigil_core::{Config, Event, EventKind, Outcome};
use vigil_testkit::{SinkOptions, SmtpSink, TestCert};

const RULES: &str = r#"
[alerter]
throttle_secs = 600
library = false

[[alerter.rules]]
id = "self-harm"
category = "self-harm"
severity = "critical"
notify = "dsl"
phrases = ["how to self harm"]
description = "Searches about hurting oneself"

[[alerter.rules]]
id = "weapons"
category = "weapons"
severity = "high"
notify = "dsl"
phrases = ["knife"]

[[alerter.rules]]
id = "bypass"
category = "filter-bypass"
severity = "low"
notify = "ict"
phrases = ["proxy bypass"]
"#;

/// A configuration in `dir` with the rules above, DSL mail to
/// dsl@school.example and no ICT address; `email` adds to `[email]`.
fn config(dir: &Path, email: &str) -> Config {
    let text = format!("data_dir = \"var\"\n{RULES}\n[email]\nfrom = \"vigil@school.example\"\ndsl = [\"dsl@school.example\"]\n{email}\n");
    Config::from_toml(&text, "test.toml", dir).unwrap()
}

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 10, minute, 0).unwrap()
}

fn event(id: &str, user: &str, minute: u32, set: impl FnOnce(&mut Event)) -> Vec<u8> {
    let mut e = Event::new(at(minute), EventKind::Proxy, "allowed", Outcome::Success, "squid", "squid", "raw");
    e.id = id.into();
    e.tenant = "school-a".into();
    e.user_name = Some(user.into());
    e.source_ip = Some("10.0.0.7".into());
    set(&mut e);
    e.to_json()
}

/// The day's events: three emailed alerts (e1, e3, e6), one throttled match
/// (e2), one alert for the ICT role that has no address (e5), a near miss
/// (e4) and a record that is not an event.
fn events() -> Vec<Vec<u8>> {
    vec![
        event("e1", "pupil1", 0, |e| e.search_query = Some("How to SELF-HARM <script>x</script>".into())),
        event("e2", "pupil1", 5, |e| e.url_full = Some("http://x.example/how-to-self-harm".into())),
        event("e3", "pupil2", 6, |e| e.email_subject = Some("Bring a KNIFE\r\nBcc: x@evil.example".into())),
        b"this is not an event".to_vec(),
        event("e4", "pupil3", 7, |e| e.search_query = Some("knives and knifeless".into())),
        event("e5", "pupil3", 7, |e| e.url_full = Some("http://x.example/proxy-bypass".into())),
        event("e6", "pupil1", 30, |e| e.search_query = Some("how to self harm".into())),
    ]
}

fn emailed_ids() -> BTreeSet<String> {
    [("self-harm", "e1"), ("weapons", "e3"), ("self-harm", "e6")].iter().map(|(r, e)| Alert::derive_id(r, e)).collect()
}

/// Runs `alerter` in Drain mode over a fresh embedded transport holding
/// `events`, as a restarted process would see them; returns its result and
/// the alerts it published.
async fn run_over(alerter: Alerter, events: &[Vec<u8>]) -> (Result<(), AlerterError>, Vec<Alert>) {
    let dir = tempfile::tempdir().unwrap();
    let groups = [(Topic::Events, ALERTER_GROUP), (Topic::Alerts, "test")];
    let transport = EmbeddedTransport::new(1000, &dir.path().join("dl.jsonl"), &groups);
    let mut alerts_topic = transport.consumer(Topic::Alerts, "test").await.unwrap();
    for payload in events {
        let _pending = transport.producer().send(Topic::Events, b"k", payload.clone()).await.unwrap();
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let collector = tokio::spawn(async move {
        loop {
            for record in alerts_topic.poll(100, Duration::from_millis(20)).await.unwrap() {
                tx.send(serde_json::from_slice::<Alert>(&record.payload).unwrap()).unwrap();
                alerts_topic.commit(&Positions::from([(0, record.offset + 1)])).await.unwrap();
            }
        }
    });
    let (trigger, shutdown) = shutdown::channel();
    trigger.set(Phase::Drain);
    let result = alerter.run(&transport, shutdown).await;
    collector.abort();
    let mut alerts = Vec::new();
    while let Ok(alert) = rx.try_recv() {
        alerts.push(alert);
    }
    (result, alerts)
}

fn outbox_ids(config: &Config) -> BTreeSet<String> {
    match std::fs::read_dir(config.outbox_dir()) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(".eml").map(str::to_string))
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

#[tokio::test]
async fn drain_writes_one_eml_per_alert_and_publishes_every_alert() {
    let dir = TempDir::new().unwrap();
    let config = config(dir.path(), "");
    assert!(vigil_alerter::describe_delivery(&config).contains(&config.outbox_dir().display().to_string()));
    let (result, alerts) = run_over(Alerter::new(&config).unwrap(), &events()).await;
    result.unwrap();

    assert_eq!(outbox_ids(&config), emailed_ids());
    let published: Vec<(&str, &str, u64)> =
        alerts.iter().map(|a| (a.rule_id.as_str(), a.event_id.as_str(), a.suppressed)).collect();
    assert_eq!(published, [("self-harm", "e1", 0), ("weapons", "e3", 0), ("bypass", "e5", 0), ("self-harm", "e6", 1)]);
    assert_eq!(alerts[0].field.as_str(), "search.query");
    assert_eq!(alerts[1].field.as_str(), "email.subject");

    let id = Alert::derive_id("weapons", "e3");
    let eml = std::fs::read_to_string(config.outbox_dir().join(format!("{id}.eml"))).unwrap();
    let head = eml.split("\r\n\r\n").next().unwrap();
    assert!(head.contains("Subject: [Vigil] HIGH weapons: pupil2\r\n"), "{head}");
    assert!(head.contains(&format!("Message-ID: <{id}@vigil>")), "{head}");
    assert!(head.contains("To: dsl@school.example"), "{head}");
    assert!(!head.contains("evil.example"), "{head}");
}

#[tokio::test]
async fn restart_replaying_the_same_events_emails_nothing_twice() {
    let dir = TempDir::new().unwrap();
    let config = config(dir.path(), "");
    run_over(Alerter::new(&config).unwrap(), &events()).await.0.unwrap();
    std::fs::remove_dir_all(config.outbox_dir()).unwrap();

    // A restart after everything was saved: the events that alerted are recognised.
    let (result, alerts) = run_over(Alerter::new(&config).unwrap(), &events()).await;
    result.unwrap();
    assert!(alerts.is_empty(), "{alerts:?}");
    assert!(outbox_ids(&config).is_empty());

    // A crash after emailing but before the throttle state was saved: the
    // alerts are raised and published again with the same ids, not emailed.
    std::fs::remove_file(config.data_dir.join("alerter/throttle.json")).unwrap();
    let (result, alerts) = run_over(Alerter::new(&config).unwrap(), &events()).await;
    result.unwrap();
    let republished: BTreeSet<String> = alerts.iter().filter(|a| a.rule_id != "bypass").map(|a| a.id.clone()).collect();
    assert_eq!(republished, emailed_ids());
    assert!(outbox_ids(&config).is_empty());
}

/// An alert store in memory: the ids recorded, and whether the next
/// record fails.
#[derive(Debug, Default, Clone)]
struct MemorySink {
    recorded: Arc<Mutex<Vec<String>>>,
    failing: Arc<Mutex<bool>>,
}

impl AlertSink for MemorySink {
    fn record(&self, alert: &Alert) -> Result<(), AlertSinkError> {
        if *self.failing.lock().unwrap() {
            return Err(AlertSinkError { reason: "disk full".into() });
        }
        self.recorded.lock().unwrap().push(alert.id.clone());
        Ok(())
    }
}

#[tokio::test]
async fn every_raised_alert_is_recorded_in_the_sink_and_a_failing_sink_stops_before_emailing() {
    let dir = TempDir::new().unwrap();
    let config = config(dir.path(), "");
    let sink = MemorySink::default();
    *sink.failing.lock().unwrap() = true;
    let (result, alerts) = run_over(Alerter::new(&config).unwrap().with_sink(Box::new(sink.clone())), &events()).await;
    let err = result.unwrap_err().to_string();
    assert!(err.contains("disk full") && err.contains("without committing"), "{err}");
    assert!(alerts.is_empty() && outbox_ids(&config).is_empty(), "nothing emailed or published before it is recorded");

    *sink.failing.lock().unwrap() = false;
    let (result, alerts) = run_over(Alerter::new(&config).unwrap().with_sink(Box::new(sink.clone())), &events()).await;
    result.unwrap();
    let published: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
    assert_eq!(*sink.recorded.lock().unwrap(), published, "every alert, the ICT one without an address too");
    assert_eq!(outbox_ids(&config), emailed_ids());
}

fn smtp_section(port: u16, security: &str, extra: &str) -> String {
    format!("[email.smtp]\nhost = \"localhost\"\nport = {port}\nsecurity = \"{security}\"\ntimeout_secs = 10\n{extra}")
}

#[tokio::test]
async fn starttls_with_auth_delivers_to_a_real_smtp_server() {
    let cert = TestCert::localhost().unwrap();
    let sink = SmtpSink::start(&SinkOptions {
        tls: Some((cert.cert.clone(), cert.key.clone())),
        auth: Some(("vigil".into(), "s3cret".into())),
    })
    .unwrap();
    std::env::set_var("VIGIL_TEST_SMTP_PASSWORD_GOOD", "s3cret");
    let dir = TempDir::new().unwrap();
    let extra = format!(
        "username = \"vigil\"\npassword_env = \"VIGIL_TEST_SMTP_PASSWORD_GOOD\"\nca_file = \"{}\"\n",
        cert.cert.display()
    );
    let config = config(dir.path(), &smtp_section(sink.port(), "starttls", &extra));
    assert!(vigil_alerter::describe_delivery(&config).contains("STARTTLS"));
    run_over(Alerter::new(&config).unwrap(), &events()).await.0.unwrap();

    let received = sink.wait_for(3, Duration::from_secs(10)).unwrap();
    assert_eq!(received.len(), 3);
    for message in &received {
        assert!(message.envelope.tls, "the session was not upgraded with STARTTLS");
        assert_eq!(message.envelope.auth_user.as_deref(), Some("vigil"));
        assert_eq!(message.envelope.mail_from, "vigil@school.example");
        assert_eq!(message.envelope.rcpt_to, ["dsl@school.example"]);
    }
    let ids: BTreeSet<String> = received
        .iter()
        .map(|m| m.header("Message-ID").unwrap().trim_matches(['<', '>']).trim_end_matches("@vigil").to_string())
        .collect();
    assert_eq!(ids, emailed_ids());
}

#[tokio::test]
async fn a_wrong_password_stops_the_alerter_with_a_clear_error() {
    let sink = SmtpSink::start(&SinkOptions { tls: None, auth: Some(("vigil".into(), "s3cret".into())) }).unwrap();
    std::env::set_var("VIGIL_TEST_SMTP_PASSWORD_BAD", "guess");
    let dir = TempDir::new().unwrap();
    let extra = "username = \"vigil\"\npassword_env = \"VIGIL_TEST_SMTP_PASSWORD_BAD\"\n";
    let config = config(dir.path(), &smtp_section(sink.port(), "plain", extra));
    let (result, alerts) = run_over(Alerter::new(&config).unwrap(), &events()).await;
    let message = result.unwrap_err().to_string();
    assert!(message.contains("535") && message.contains("login was refused"), "{message}");
    assert!(message.contains("after 1 attempt"), "a refused login is not retried: {message}");
    assert!(alerts.is_empty(), "nothing is published before its email is delivered");
    assert!(sink.messages().unwrap().is_empty());
}

#[tokio::test]
async fn an_unreachable_server_fails_the_run_and_the_alerts_are_sent_after_restart() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = TempDir::new().unwrap();
    let down = config(dir.path(), &smtp_section(port, "plain", ""));
    let retry = RetryPolicy { attempts: 2, first_delay: Duration::from_millis(10) };
    let (result, _) = run_over(Alerter::new(&down).unwrap().with_retry(retry), &events()).await;
    let message = result.unwrap_err().to_string();
    assert!(message.contains("after 2 attempt") && message.contains("restarted"), "{message}");

    let sink = SmtpSink::start(&SinkOptions::default()).unwrap();
    let up = config(dir.path(), &smtp_section(sink.port(), "plain", ""));
    run_over(Alerter::new(&up).unwrap(), &events()).await.0.unwrap();
    let received = sink.wait_for(3, Duration::from_secs(10)).unwrap();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|m| !m.envelope.tls && m.envelope.auth_user.is_none()));
}

#[tokio::test]
async fn missing_password_variable_is_reported_at_start() {
    let dir = TempDir::new().unwrap();
    let extra = "username = \"vigil\"\npassword_env = \"VIGIL_TEST_SMTP_PASSWORD_UNSET\"\n";
    let config = config(dir.path(), &smtp_section(25, "starttls", extra));
    let message = Alerter::new(&config).unwrap_err().to_string();
    assert!(message.contains("VIGIL_TEST_SMTP_PASSWORD_UNSET"), "{message}");
}

/// The text and HTML bodies of the `.eml` file of alert `id`.
fn eml_bodies(config: &Config, id: &str) -> (String, String) {
    let eml = std::fs::read_to_string(config.outbox_dir().join(format!("{id}.eml"))).unwrap();
    let parts = vigil_testkit::mime::parts(&eml);
    let body = |kind: &str| parts.iter().find(|p| p.content_type.starts_with(kind)).unwrap().text.clone();
    (body("text/plain"), body("text/html"))
}

#[tokio::test]
async fn the_alert_shows_the_pupils_searches_around_it_and_who_they_are() {
    let pupil = |e: &mut Event| {
        e.user_full_name = Some("Lowri Evans".into());
        e.user_role = Some("pupil".into());
        e.user_year_group = Some(9);
        e.user_attribution = Some("lease:radius".into());
        e.device_name = Some("LIB-PC-07".into());
    };
    let events = [
        event("c1", "l.evans", 0, |e| e.search_query = Some("why does nobody like me".into())),
        event("c2", "l.evans", 3, |e| {
            e.action = "blocked".into();
            e.url_domain = Some("pro-ana.example".into());
            e.filter_category = Some("Eating disorders <b>".into());
        }),
        event("c3", "r.jones", 4, |e| e.search_query = Some("another pupil's search".into())),
        event("c4", "l.evans", 5, |e| e.url_full = Some("http://www.bbc.co.uk/bitesize".into())),
        event("c5", "l.evans", 10, |e| {
            pupil(e);
            e.search_query = Some("how to self harm".into());
        }),
        event("c6", "l.evans", 12, |e| e.search_query = Some("how to hide <script>cuts</script>".into())),
    ];
    let dir = TempDir::new().unwrap();
    let config = config(dir.path(), "");
    let (result, alerts) = run_over(Alerter::new(&config).unwrap(), &events).await;
    result.unwrap();
    let [alert] = alerts.as_slice() else { panic!("one alert: {alerts:?}") };
    assert_eq!(alert.event_id, "c5");
    let context: Vec<(&str, &str, bool)> =
        alert.context.iter().map(|e| (e.event_id.as_str(), e.text.as_str(), e.alert_event)).collect();
    assert_eq!(
        context,
        [
            ("c1", "why does nobody like me", false),
            ("c2", "pro-ana.example", false),
            ("c5", "how to self harm", true),
            ("c6", "how to hide <script>cuts</script>", false),
        ],
        "the pupil's searches and blocked requests, theirs only, the later search of the batch included"
    );
    assert_eq!(
        (alert.user_full_name.as_deref(), alert.user_year_group, alert.device_name.as_deref()),
        (Some("Lowri Evans"), Some(9), Some("LIB-PC-07"))
    );

    let (text, html) = eml_bodies(&config, &alert.id);
    assert!(text.contains("\nPupil: Lowri Evans (l.evans), Year 9\n"), "{text}");
    assert!(text.contains("\nDevice: LIB-PC-07\n"), "{text}");
    assert!(text.contains("the radius log shows it was theirs"), "{text}");
    // 10:00 UTC on 4 March is 10:00 GMT.
    assert!(text.contains("\n  10:00:00  Searched: why does nobody like me\n"), "{text}");
    assert!(
        text.contains("\n  10:03:00  Blocked: pro-ana.example (filter category: Eating disorders <b>)\n"),
        "{text}"
    );
    assert!(text.contains("\n> 10:10:00  Searched: how to self harm ← this alert\n"), "{text}");
    assert!(text.contains("\n  10:12:00  Searched: how to hide <script>cuts</script>\n"), "{text}");
    assert!(!text.contains("another pupil") && !text.contains("bitesize"), "{text}");
    assert!(html.contains("<td>how to hide &lt;script&gt;cuts&lt;/script&gt;</td>"), "{html}");
    assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
}

/// A configuration in `dir` whose one rule reports a proxy log silent for
/// two hours of school time, told to ict@school.example.
fn flatline_config(dir: &Path) -> Config {
    let text = r#"
data_dir = "var"
[alerter]
library = false
[[alerter.rules]]
id = "silent"
category = "source-silent"
severity = "high"
notify = "ict"
when = { "event.kind" = "proxy" }
flatline = { silent_secs = 7200, group_by = ["observer.product"] }
[email]
from = "vigil@school.example"
ict = ["ict@school.example"]
"#;
    Config::from_toml(text, "test.toml", dir).unwrap()
}

/// An alerter for `config` whose wall clock reads `now`.
fn alerter_at(config: &Config, now: DateTime<Utc>) -> Alerter {
    Alerter::new(config).unwrap().with_clock(vigil_alerter::Clock::from_fn(move || now))
}

#[tokio::test]
async fn a_proxy_log_silent_for_two_school_hours_is_emailed_once_across_a_restart() {
    let dir = TempDir::new().unwrap();
    let config = flatline_config(dir.path());
    let squid = [event("s1", "pupil1", 0, |_| {}), event("s2", "pupil1", 5, |_| {})];
    // Wednesday 10:05 to 12:04: not yet two hours.
    let (result, alerts) = run_over(alerter_at(&config, at(5) + chrono::Duration::minutes(119)), &squid).await;
    result.unwrap();
    assert!(alerts.is_empty(), "{alerts:?}");

    let (result, alerts) = run_over(alerter_at(&config, at(5) + chrono::Duration::minutes(120)), &[]).await;
    result.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!((alert.rule_id.as_str(), alert.group.as_deref()), ("silent", Some("squid")));
    assert_eq!(alert.tenant, "school-a");
    assert_eq!(outbox_ids(&config), BTreeSet::from([alert.id.clone()]));
    let (_, body) = eml_bodies(&config, &alert.id);
    assert!(body.contains("since 2026-03-04 10:05:00 GMT"), "{body}");

    // Restarted later the same day, the silence was already reported.
    let (result, alerts) = run_over(alerter_at(&config, at(5) + chrono::Duration::hours(5)), &[]).await;
    result.unwrap();
    assert!(alerts.is_empty(), "{alerts:?}");
    // The log sends again, then falls silent again: a new alert.
    let later = [event("s3", "pupil1", 5, |e| e.timestamp = at(5) + chrono::Duration::hours(22))];
    let (result, alerts) = run_over(alerter_at(&config, at(5) + chrono::Duration::hours(25)), &later).await;
    result.unwrap();
    assert_eq!(alerts.len(), 1, "Thursday 08:05 to 11:05");
}

#[tokio::test]
async fn a_brute_force_alert_is_about_the_address_and_shows_its_attempts_on_every_account() {
    let dir = TempDir::new().unwrap();
    let text = r#"
data_dir = "var"
[alerter]
library = false
[[alerter.rules]]
id = "brute-force.ssh"
category = "brute-force"
severity = "high"
notify = "ict"
when = { "event.kind" = "auth", "event.action" = "login-failed" }
threshold = { count = 3, within_secs = 600, group_by = ["source.ip"] }
[email]
from = "vigil@school.example"
ict = ["ict@school.example"]
"#;
    let config = Config::from_toml(text, "test.toml", dir.path()).unwrap();
    let attempt = |id: &str, minute: u32, user: &str| {
        let mut e = Event::new(at(minute), EventKind::Auth, "login-failed", Outcome::Failure, "openssh", "sshd", "raw");
        e.id = id.into();
        e.tenant = "school-a".into();
        e.user_name = Some(user.into());
        e.source_ip = Some("203.0.113.77".into());
        e.to_json()
    };
    let events = [attempt("a1", 0, "root"), attempt("a2", 1, "admin"), attempt("a3", 2, "oracle")];
    let (result, alerts) = run_over(Alerter::new(&config).unwrap(), &events).await;
    result.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].group.as_deref(), alerts[0].group_field.map(|f| f.as_str())),
        (Some("203.0.113.77"), Some("source.ip"))
    );
    let (text, html) = eml_bodies(&config, &alerts[0].id);
    assert!(text.contains("Address: 203.0.113.77\n"), "{text}");
    assert!(text.contains("Accounts tried: root, admin, oracle\n"), "{text}");
    assert!(!text.contains("User: oracle"), "the completing attempt's account is not whom it is about: {text}");
    assert!(text.contains("What this address did around this time"), "{text}");
    assert!(text.contains("Sign-in: login-failed: root from 203.0.113.77"), "{text}");
    assert!(text.contains("Sign-in: login-failed: oracle from 203.0.113.77 ← this alert"), "{text}");
    assert!(html.contains("login-failed: admin from 203.0.113.77"), "{html}");
}
