//! Who is told, end to end through a real SMTP server process
//! (`vigil-smtp-sink`): routes to named lists, quiet hours, digests, and
//! restarts between them. The wall clock is set by each run, not waited for.

use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use vigil_alerter::{Alert, Alerter, Clock};
use vigil_core::shutdown::{self, Phase};
use vigil_core::transport::embedded::EmbeddedTransport;
use vigil_core::transport::{Positions, Topic, Transport, ALERTER_GROUP};
use vigil_core::{Config, Event, EventKind, Outcome};
use vigil_testkit::{ReceivedMessage, SinkOptions, SmtpSink};

/// Rules of each severity but high, three recipient lists beside `dsl`,
/// routes for staff and for Years 7 and 8, quiet hours over the night and
/// a daily digest at 07:30.
fn config(dir: &Path, smtp_port: u16) -> Config {
    let text = format!(
        r#"
data_dir = "var"

[alerter]
throttle_secs = 600
# Only the rules below, so that each event raises exactly the alert the test expects.
library = false

[[alerter.rules]]
id = "self-harm"
category = "self-harm"
severity = "critical"
notify = "dsl"
phrases = ["how to self harm"]

[[alerter.rules]]
id = "weapons"
category = "weapons"
severity = "medium"
notify = "dsl"
phrases = ["knife"]

[[alerter.rules]]
id = "gambling"
category = "gambling"
severity = "low"
notify = "dsl"
phrases = ["casino"]

[[alerter.routes]]
name = "staff concerns to the head"
user_roles = ["staff"]
notify = "dsl"
to = ["head"]

[[alerter.routes]]
name = "years 7 and 8 also to the deputy"
year_groups = [7, 8]
notify = "dsl"
to = ["dsl", "deputies"]

[alerter.quiet_hours]
start = "18:00"
end = "07:30"

[alerter.digest]
every = "daily"
at = "07:30"

[email]
from = "vigil@school.example"
dsl = ["dsl@school.example"]

[email.lists]
head = ["head@school.example"]
deputies = ["deputy@school.example"]

[email.smtp]
host = "localhost"
port = {smtp_port}
security = "plain"
timeout_secs = 10
"#
    );
    Config::from_toml(&text, "test.toml", dir).unwrap()
}

/// 2026-03-04 (a Wednesday, GMT) at `hour`:`minute` UTC.
fn march_4(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, hour, minute, 0).unwrap()
}

/// An event by `user` (with its directory role and year group) searching
/// for `query` at 10:`minute`.
fn search(id: &str, user: &str, role: &str, year: Option<u8>, minute: u32, query: &str) -> Vec<u8> {
    let mut e = Event::new(march_4(10, minute), EventKind::Proxy, "allowed", Outcome::Success, "squid", "squid", "raw");
    e.id = id.into();
    e.tenant = "school-a".into();
    e.user_name = Some(user.into());
    e.user_role = Some(role.into());
    e.user_year_group = year;
    e.search_query = Some(query.into());
    e.to_json()
}

/// When a run stops.
enum Until {
    /// At the end of the events, as `--once` does ([`Phase::Drain`]).
    Drained,
    /// Running, until `alerts` alerts were published and the sink holds
    /// `emails` emails; then [`Phase::Stop`].
    Seen { alerts: usize, emails: usize },
}

/// Runs a fresh alerter for `config` whose clock reads `now`, over a fresh
/// embedded transport holding `events` (what a restarted process reads
/// again), until `until`; returns the alerts it published.
async fn run(config: &Config, now: DateTime<Utc>, events: &[Vec<u8>], sink: &SmtpSink, until: Until) -> Vec<Alert> {
    let alerter = Alerter::new(config).unwrap().with_clock(Clock::from_fn(move || now));
    let dir = tempfile::tempdir().unwrap();
    let groups = [(Topic::Events, ALERTER_GROUP), (Topic::Alerts, "test")];
    let transport = EmbeddedTransport::new(1000, &dir.path().join("dl.jsonl"), &groups);
    let mut alerts_topic = transport.consumer(Topic::Alerts, "test").await.unwrap();
    for payload in events {
        let _pending = transport.producer().send(Topic::Events, b"k", payload.clone()).await.unwrap();
    }
    let published = Arc::new(Mutex::new(Vec::new()));
    let collected = Arc::clone(&published);
    let collector = tokio::spawn(async move {
        loop {
            for record in alerts_topic.poll(100, Duration::from_millis(20)).await.unwrap() {
                collected.lock().unwrap().push(serde_json::from_slice::<Alert>(&record.payload).unwrap());
                alerts_topic.commit(&Positions::from([(0, record.offset + 1)])).await.unwrap();
            }
        }
    });
    let (trigger, shutdown) = shutdown::channel();
    let controller = async {
        match until {
            Until::Drained => trigger.set(Phase::Drain),
            Until::Seen { alerts, emails } => {
                for _ in 0..500 {
                    let seen = published.lock().unwrap().len();
                    if seen >= alerts && sink.messages().unwrap().len() >= emails {
                        trigger.set(Phase::Stop);
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                panic!(
                    "waited 10 s for {alerts} alerts and {emails} emails; saw {:?} and {}",
                    published.lock().unwrap(),
                    sink.messages().unwrap().len()
                );
            }
        }
    };
    let (result, ()) = tokio::join!(alerter.run(&transport, shutdown), controller);
    result.unwrap();
    // Alerts are published before the batch is committed, so all are in the
    // topic once the run returns; give the collector a moment to read them.
    tokio::time::sleep(Duration::from_millis(100)).await;
    collector.abort();
    let alerts = published.lock().unwrap().clone();
    alerts
}

/// What a crash after emailing but before saving the throttle state leaves:
/// the events that raised alerts raise them again when read again.
fn forget_throttle(config: &Config) {
    std::fs::remove_file(config.data_dir.join("alerter/throttle.json")).unwrap();
}

fn message_id(message: &ReceivedMessage) -> String {
    message.header("Message-ID").unwrap()
}

/// The emails in the sink, after checking no `Message-ID` came twice.
fn received_once(sink: &SmtpSink) -> Vec<ReceivedMessage> {
    let received = sink.messages().unwrap();
    let ids: BTreeSet<String> = received.iter().map(message_id).collect();
    assert_eq!(
        ids.len(),
        received.len(),
        "an email was sent twice: {:?}",
        received.iter().map(message_id).collect::<Vec<_>>()
    );
    received
}

/// The message sent with the `Message-ID` of `alert_id`.
fn for_alert<'a>(received: &'a [ReceivedMessage], alert_id: &str) -> &'a ReceivedMessage {
    let wanted = format!("<{alert_id}@vigil>");
    received.iter().find(|m| message_id(m) == wanted).unwrap_or_else(|| panic!("no email for alert {alert_id}"))
}

/// The message body with quoted-printable soft line breaks joined.
fn body(message: &ReceivedMessage) -> String {
    message.text().replace("=\r\n", "")
}

#[tokio::test]
async fn routes_choose_the_lists_and_low_alerts_wait_for_one_digest() {
    let sink = SmtpSink::start(&SinkOptions::default()).unwrap();
    let dir = TempDir::new().unwrap();
    let config = config(dir.path(), sink.port());
    let events = [
        search("e1", "t.jones", "staff", None, 0, "where to buy a knife"),
        search("e2", "y8.pupil", "pupil", Some(8), 1, "knife fight video"),
        search("e3", "y10.pupil", "pupil", Some(10), 2, "online casino tips"),
    ];
    let staff = Alert::derive_id("weapons", "e1");
    let year8 = Alert::derive_id("weapons", "e2");
    let low = Alert::derive_id("gambling", "e3");

    // Wednesday noon: the two medium alerts are emailed at once, the low one waits.
    let published = run(&config, march_4(12, 0), &events, &sink, Until::Seen { alerts: 3, emails: 2 }).await;
    let routed: Vec<(&str, Vec<String>, &str)> =
        published.iter().map(|a| (a.id.as_str(), a.recipients.clone(), a.delivery.as_str())).collect();
    assert_eq!(
        routed,
        [
            (staff.as_str(), vec!["head".to_string()], "immediate"),
            (year8.as_str(), vec!["dsl".to_string(), "deputies".to_string()], "immediate"),
            (low.as_str(), vec!["dsl".to_string()], "digest"),
        ]
    );
    let received = received_once(&sink);
    assert_eq!(received.len(), 2, "no immediate email for the low alert");
    assert_eq!(for_alert(&received, &staff).envelope.rcpt_to, ["head@school.example"], "not the DSL");
    assert_eq!(for_alert(&received, &year8).envelope.rcpt_to, ["dsl@school.example", "deputy@school.example"]);
    assert!(body(for_alert(&received, &year8)).contains("Sent to: dsl, deputies"));

    // Restarted in the afternoon after a crash that lost the throttle state:
    // the alerts are raised again, and recognised as sent or waiting.
    forget_throttle(&config);
    run(&config, march_4(13, 0), &events, &sink, Until::Seen { alerts: 3, emails: 2 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(received_once(&sink).len(), 2);

    // Restarted the next morning after 07:30, after a crash that lost the
    // throttle state: the alerts are raised again but recognised (two sent,
    // one waiting), and the digest goes, once.
    forget_throttle(&config);
    let next_day = |h, m| march_4(h, m) + chrono::Duration::days(1);
    let again = run(&config, next_day(7, 31), &events, &sink, Until::Seen { alerts: 3, emails: 3 }).await;
    assert_eq!(again.len(), 3);
    // And a --once run later that day, after another such crash, sends nothing again.
    forget_throttle(&config);
    run(&config, next_day(9, 0), &events, &sink, Until::Drained).await;

    let received = received_once(&sink);
    assert_eq!(received.len(), 3);
    let digest = received.iter().find(|m| message_id(m).starts_with("<digest-")).expect("a digest email");
    assert_eq!(digest.envelope.rcpt_to, ["dsl@school.example"]);
    assert_eq!(digest.header("Subject").as_deref(), Some("[Vigil] Digest for dsl: 1 alert"));
    let text = body(digest);
    assert!(text.contains("2026-03-04 10:02:00 GMT | low | gambling | y10.pupil | school-a"), "{text}");
    assert!(text.contains("online casino tips"), "{text}");
    assert_eq!(text.matches(&format!("(alert {low})")).count(), 1, "listed once: {text}");
}

#[tokio::test]
async fn quiet_hours_hold_a_medium_alert_until_morning_but_never_a_critical_one() {
    let sink = SmtpSink::start(&SinkOptions::default()).unwrap();
    let dir = TempDir::new().unwrap();
    let config = config(dir.path(), sink.port());
    let events = [
        search("e1", "y10.pupil", "pupil", Some(10), 0, "knife"),
        search("e2", "y11.pupil", "pupil", Some(11), 1, "how to self harm"),
    ];
    let medium = Alert::derive_id("weapons", "e1");
    let critical = Alert::derive_id("self-harm", "e2");

    // 20:00: in quiet hours. The critical alert goes at once; the medium one is held.
    run(&config, march_4(20, 0), &events, &sink, Until::Seen { alerts: 2, emails: 1 }).await;
    let received = received_once(&sink);
    assert_eq!(received.len(), 1);
    for_alert(&received, &critical);

    // Restarted at 23:00, still quiet, after a crash that lost the throttle
    // state: both alerts are raised again and recognised; nothing more is sent.
    forget_throttle(&config);
    run(&config, march_4(23, 0), &events, &sink, Until::Seen { alerts: 2, emails: 1 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(received_once(&sink).len(), 1, "the held alert waits through a restart");

    // Restarted when quiet hours end at 07:30: the held alert is sent, once.
    let morning = march_4(7, 30) + chrono::Duration::days(1);
    run(&config, morning, &events, &sink, Until::Seen { alerts: 0, emails: 2 }).await;
    run(&config, morning, &events, &sink, Until::Drained).await;
    let received = received_once(&sink);
    assert_eq!(received.len(), 2);
    assert_eq!(for_alert(&received, &medium).envelope.rcpt_to, ["dsl@school.example"]);
}

#[tokio::test]
async fn a_once_run_in_quiet_hours_ends_by_sending_what_it_held_and_its_digest() {
    let sink = SmtpSink::start(&SinkOptions::default()).unwrap();
    let dir = TempDir::new().unwrap();
    let config = config(dir.path(), sink.port());
    let events = [
        search("e1", "y7.pupil", "pupil", Some(7), 0, "knife"),
        search("e2", "y10.pupil", "pupil", Some(10), 1, "casino"),
    ];
    run(&config, march_4(21, 0), &events, &sink, Until::Drained).await;
    let received = received_once(&sink);
    assert_eq!(received.len(), 2, "the held alert and the digest");
    let held = for_alert(&received, &Alert::derive_id("weapons", "e1"));
    assert_eq!(held.envelope.rcpt_to, ["dsl@school.example", "deputy@school.example"]);
    assert!(received.iter().any(|m| message_id(m).starts_with("<digest-")));

    run(&config, march_4(22, 0), &events, &sink, Until::Drained).await;
    assert_eq!(received_once(&sink).len(), 2, "a second --once run sends nothing again");
}
