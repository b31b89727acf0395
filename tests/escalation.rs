//! Escalation end to end through a real SMTP server process: critical and
//! high alerts nobody acknowledged in `[alerter.escalation] after_secs` are
//! emailed again to the escalation list, once, the clock kept in the alert
//! store across a restart; an acknowledged alert and a medium one are not.

use crate::util::*;
use chrono::Utc;
use std::time::Duration;
use vigil_store::{AlertRecord, Store};
use vigil_testkit::{SinkOptions, SmtpSink};

const AFTER_SECS: i64 = 15;
const LIMIT: Duration = Duration::from_secs(120);

fn escalations(sink: &SmtpSink) -> Vec<(String, Vec<String>)> {
    let mut found: Vec<(String, Vec<String>)> = sink
        .messages()
        .unwrap()
        .into_iter()
        .filter_map(|m| m.header("Subject").filter(|s| s.contains("NOT ACKNOWLEDGED")).map(|s| (s, m.envelope.rcpt_to)))
        .collect();
    found.sort();
    found
}

#[test]
fn unacknowledged_severe_alerts_are_escalated_once_even_across_a_restart() {
    let dir = TestDir::new();
    let sink = SmtpSink::start(&SinkOptions::default()).unwrap();
    let extra = format!(
        "[email.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\n\
         [email.lists]\nhead = [\"head@demo-primary.example\"]\n\
         [alerter.escalation]\nafter_secs = {AFTER_SECS}\nto = [\"head\"]\n",
        sink.port()
    );
    let config = quickstart_config(&dir, &extra);
    let mut vigil_run = Proc::spawn("vigil run", &dir, vigil().args(["run", "--config"]).arg(&config));
    sink.wait_for(5, LIMIT).unwrap();
    let store = Store::open(&dir.join("data/console.db")).unwrap();
    let stored = wait_for(LIMIT, "five alerts in the store", || Some(stored_alerts(&store)).filter(|a| a.len() == 5));
    let weapons = stored.iter().find(|a| a.alert.category == "weapons").unwrap();
    store.acknowledge(&weapons.alert.id, "dsl1", Utc::now()).unwrap();
    vigil_run.kill9();
    let first_raised = stored.iter().map(|a| a.raised_at).min().unwrap();
    assert!(
        Utc::now() - first_raised < chrono::Duration::seconds(AFTER_SECS),
        "the test must restart before anything is due; the machine was too slow"
    );
    assert!(escalations(&sink).is_empty(), "nothing is due yet");

    let mut vigil_run = Proc::spawn("vigil run again", &dir, vigil().args(["run", "--config"]).arg(&config));
    let login =
        wait_for(LIMIT, "vigil run to serve the console", || http(console_port(&config), "GET", "/login", &[], None));
    assert_eq!(login.status, 200, "vigil run serves the console when [console] is configured");
    // (A kill -9 may resend an alert email whose sending was not yet
    // recorded: at least once. Escalations are counted on their own.)
    wait_for(LIMIT, "three escalations", || (escalations(&sink).len() >= 3).then_some(()));
    let head = vec!["head@demo-primary.example".to_string()];
    let expected = [
        "[Vigil] NOT ACKNOWLEDGED CRITICAL self-harm: l.evans",
        "[Vigil] NOT ACKNOWLEDGED CRITICAL suicide: l.evans",
        "[Vigil] NOT ACKNOWLEDGED HIGH brute-force: 203.0.113.77",
    ];
    let expected: Vec<(String, Vec<String>)> = expected.iter().map(|s| (s.to_string(), head.clone())).collect();
    assert_eq!(escalations(&sink), expected, "not the acknowledged weapons alert, nor the medium filter-bypass one");
    // Each is marked in the store just after its email is accepted.
    let escalated = |a: &AlertRecord| a.escalated_at.is_some();
    let stored = wait_for(LIMIT, "three escalations recorded", || {
        Some(stored_alerts(&store)).filter(|all| all.iter().filter(|a| escalated(a)).count() == 3)
    });
    for alert in stored {
        match alert.escalated_at {
            Some(at) => assert!(at - alert.raised_at >= chrono::Duration::seconds(AFTER_SECS), "{alert:?}"),
            None => assert!(["weapons", "filter-bypass"].contains(&alert.alert.category.as_str()), "{alert:?}"),
        }
    }
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(escalations(&sink).len(), 3, "each escalated once");
    assert!(vigil_run.terminate().success(), "{}", vigil_run.stderr());
}
