//! Separate `vigil ingest`, `vigil index` and `vigil alert` processes over
//! Kafka (librdkafka's mock cluster, 3 brokers, reached over real TCP), alert
//! emails to a real SMTP server process.

use crate::util::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::{ClientConfig, Message};
use std::path::Path;
use std::time::Duration;
use vigil_testkit::{SinkOptions, SmtpSink, TestCert};

const LIMIT: Duration = Duration::from_secs(120);

/// A 3-broker mock cluster with Vigil's topics.
fn mock_kafka() -> MockCluster<'static, DefaultProducerContext> {
    let cluster = MockCluster::new(3).expect("mock cluster");
    for topic in ["vigil.events", "vigil.alerts", "vigil.deadletter"] {
        cluster.create_topic(topic, 3, 3).expect("topic");
    }
    cluster
}

fn kafka_section(cluster: &MockCluster<'static, DefaultProducerContext>) -> String {
    // Short group timeouts: after a kill -9 the mock cluster makes the next
    // member wait out the dead one's session.
    format!(
        "[kafka]\nbrokers = {:?}\ntopic_partitions = 3\ntopic_replication = 3\n[kafka.options]\n\"session.timeout.ms\" = \"6000\"\n\"heartbeat.interval.ms\" = \"500\"\n",
        cluster.bootstrap_servers()
    )
}

/// Every record of `topic`, read from the start by a fresh group.
fn read_topic(cluster: &MockCluster<'static, DefaultProducerContext>, topic: &str, expected: usize) -> Vec<Vec<u8>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("group.id", "vigil-test-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut records = Vec::new();
    wait_for(LIMIT, &format!("{expected} records in {topic}"), || {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            records.push(m.payload().unwrap_or_default().to_vec());
        }
        (records.len() >= expected).then_some(())
    });
    records
}

fn spawn(dir: &TestDir, command: &str, config: &Path, env: &[(&str, &str)]) -> Proc {
    let mut cmd = vigil();
    cmd.args([command, "--config"]).arg(config);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Proc::spawn(&format!("vigil {command}"), dir, &mut cmd)
}

fn ingest_once(config: &Path) {
    assert_success(&run(vigil().args(["ingest", "--once", "--config"]).arg(config)), "vigil ingest --once");
}

#[test]
fn pipeline_over_kafka_indexes_everything_and_emails_over_starttls_with_auth() {
    let dir = TestDir::new();
    let cluster = mock_kafka();
    let cert = TestCert::localhost().unwrap();
    let sink = SmtpSink::start(&SinkOptions {
        tls: Some((cert.cert.clone(), cert.key.clone())),
        auth: Some(("vigil".into(), "s3cret pass".into())),
    })
    .unwrap();
    let smtp = format!(
        "[email.smtp]\nhost = \"localhost\"\nport = {}\nsecurity = \"starttls\"\nusername = \"vigil\"\npassword_env = \"VIGIL_TEST_SMTP_PASSWORD\"\nca_file = {:?}\n",
        sink.port(),
        cert.cert
    );
    let config = quickstart_config(&dir, &format!("{}{smtp}", kafka_section(&cluster)));
    let env = [("VIGIL_TEST_SMTP_PASSWORD", "s3cret pass")];
    let mut indexer = spawn(&dir, "index", &config, &env);
    let mut alerter = spawn(&dir, "alert", &config, &env);
    ingest_once(&config);

    wait_for(LIMIT, "15 proxy events indexed", || (search(&config, "event.kind:proxy").len() == 15).then_some(()));
    wait_for(LIMIT, "4 email events indexed", || (search(&config, MESSAGES).len() == 4).then_some(()));
    let mails = sink.wait_for(EXPECTED_QUICKSTART_ALERTS, LIMIT).unwrap();
    for mail in &mails {
        assert!(mail.envelope.tls, "STARTTLS was used");
        assert_eq!(mail.envelope.auth_user.as_deref(), Some("vigil"));
    }
    let to_dsl = mails.iter().filter(|m| m.envelope.rcpt_to.iter().any(|r| r == "dsl@demo-primary.example")).count();
    let to_ict = mails.iter().filter(|m| m.envelope.rcpt_to.iter().any(|r| r == "ict@demo-primary.example")).count();
    assert_eq!((to_dsl, to_ict), (EXPECTED_QUICKSTART_ALERTS - 2, 2));

    let dead = read_topic(&cluster, "vigil.deadletter", 2);
    let lines: Vec<u64> = dead
        .iter()
        .map(|d| serde_json::from_slice::<serde_json::Value>(d).unwrap()["log.line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![7, 17]);

    assert!(indexer.terminate().success(), "indexer exits 0 on SIGTERM\n{}", indexer.stderr());
    assert!(alerter.terminate().success(), "alerter exits 0 on SIGTERM\n{}", alerter.stderr());
}

/// Alerts the quickstart sample raises with the shipped rule library (see
/// `tests/embedded.rs`): self-harm, suicide, weapons to the DSL; the SSH
/// brute force and a filter bypass to ICT.
const EXPECTED_QUICKSTART_ALERTS: usize = 5;

fn squid_lines(from: u32, to: u32) -> String {
    (from..to)
        .map(|n| {
            format!(
                "{}.{:03} 5 10.1.{}.{} TCP_MISS/200 10 GET http://site{n}.example/page - HIER_DIRECT/1.2.3.4 text/html\n",
                1794819600 + n / 100,
                n % 1000,
                n / 250 % 250,
                n % 250
            )
        })
        .collect()
}

#[test]
fn indexer_killed_mid_stream_resumes_with_no_event_lost_or_duplicated() {
    const N: usize = 20_000;
    let dir = TestDir::new();
    let cluster = mock_kafka();
    let log = dir.write("proxy.log", squid_lines(0, N as u32));
    let config = dir.write(
        "vigil.toml",
        format!(
            "data_dir = {:?}\n[[sources]]\nname = \"proxy\"\ntype = \"file\"\npath = {:?}\nformat = \"squid\"\n[indexer]\ncommit_max_docs = 500\ncommit_interval_secs = 1\n{}",
            dir.join("data"),
            log,
            kafka_section(&cluster)
        ),
    );
    ingest_once(&config);

    let mut indexer = spawn(&dir, "index", &config, &[]);
    let partial = wait_for(LIMIT, "some events indexed", || {
        let n = search(&config, "*").len();
        (n > 0).then_some(n)
    });
    indexer.kill9();
    assert!(partial < N, "killed mid-stream ({partial} of {N} indexed)");

    let mut restarted = spawn(&dir, "index", &config, &[]);
    wait_for(LIMIT, "every event indexed", || (search(&config, "*").len() >= N).then_some(()));
    std::thread::sleep(Duration::from_secs(2)); // a further commit interval
    let all = search(&config, "*");
    let mut ids: Vec<&str> = all.iter().map(|e| e["event.id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((all.len(), ids.len()), (N, N), "each event exactly once");
    assert!(restarted.terminate().success());
}

/// The alert id in a received email's `Message-ID: <id@vigil>`.
fn message_id_of(mail: &vigil_testkit::ReceivedMessage) -> String {
    let header = mail.header("Message-ID").expect("alert emails carry a Message-ID");
    header.trim().trim_start_matches('<').split('@').next().unwrap().to_string()
}

#[test]
fn restarted_alerter_sends_no_alert_twice() {
    let dir = TestDir::new();
    let cluster = mock_kafka();
    let sink = SmtpSink::start(&SinkOptions::default()).unwrap();
    let smtp = format!("[email.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\n", sink.port());
    let config = quickstart_config(&dir, &format!("{}{smtp}", kafka_section(&cluster)));

    let mut alerter = spawn(&dir, "alert", &config, &[]);
    ingest_once(&config);
    let first = sink.wait_for(EXPECTED_QUICKSTART_ALERTS, LIMIT).unwrap();
    // Killed once every email is recorded as sent. (A crash between the SMTP
    // server's acceptance and that record sends the email again on restart:
    // at least once, never lost; the Message-ID lets mail clients dedupe.)
    let sent_log = dir.join("data/alerter/sent.json");
    wait_for(LIMIT, "sent emails recorded", || {
        let text = std::fs::read_to_string(&sent_log).unwrap_or_default();
        first.iter().all(|m| text.contains(message_id_of(m).as_str())).then_some(())
    });
    alerter.kill9();

    // Replay every event (same ids) and add, per alerted pupil, a later
    // match outside the throttle window: its email proves the replay before
    // it (same partition, same key) has been processed.
    std::fs::remove_file(dir.join("data/ingest/checkpoints.json")).unwrap();
    ingest_once(&config);
    let mut alerter = spawn(&dir, "alert", &config, &[]);
    let sentinel = dir.write(
        "sentinel.log",
        ["l.evans", "r.jones", "a.khan"]
            .iter()
            .map(|user| {
                format!("1794830000.000 5 10.20.1.1 TCP_MISS/200 10 GET https://www.google.com/search?q=where+can+i+buy+a+zombie+knife {user} HIER_DIRECT/1.2.3.4 text/html\n")
            })
            .collect::<String>(),
    );
    let sentinel_config = dir.write(
        "sentinel.toml",
        std::fs::read_to_string(&config)
            .unwrap()
            .replace(&format!("{:?}", repo().join("examples/logs/squid-access.log")), &format!("{sentinel:?}")),
    );
    ingest_once(&sentinel_config);
    let total = EXPECTED_QUICKSTART_ALERTS + 3;
    sink.wait_for(total, LIMIT).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let mails = sink.messages().unwrap();
    let mut ids: Vec<String> = mails.iter().map(message_id_of).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((mails.len(), ids.len()), (total, total), "the replay sent nothing twice");
    assert!(alerter.terminate().success());
}

#[test]
fn run_once_over_kafka_reads_to_the_end_and_exits_with_everything_indexed() {
    let dir = TestDir::new();
    let cluster = mock_kafka();
    let config = quickstart_config(&dir, &kafka_section(&cluster));
    assert_success(&run(vigil().args(["run", "--once", "--config"]).arg(&config)), "vigil run --once over Kafka");
    assert_eq!(search(&config, "event.kind:proxy").len(), 15);
    assert_eq!(search(&config, MESSAGES).len(), 4);
    assert_eq!(files_with_ext(&dir.join("data/outbox"), "eml").len(), EXPECTED_QUICKSTART_ALERTS);
    assert_eq!(read_topic(&cluster, "vigil.deadletter", 2).len(), 2);
}

/// sshd failures `from..to` from 203.0.113.77, each for another user (so
/// they are keyed, and spread, over the partitions).
fn ssh_failures(from: u32, to: u32) -> String {
    (from..to)
        .map(|n| {
            format!(
                "Nov 16 09:14:{n:02} mis-server sshd[{}]: Failed password for user{n} from 203.0.113.77 port {} ssh2\n",
                2100 + n,
                40000 + n
            )
        })
        .collect()
}

#[test]
fn alerter_killed_mid_window_neither_misses_nor_repeats_the_brute_force() {
    let dir = TestDir::new();
    let cluster = mock_kafka();
    let sink = SmtpSink::start(&SinkOptions::default()).unwrap();
    let log = dir.write("auth.log", ssh_failures(0, 3));
    let config = dir.write(
        "vigil.toml",
        format!(
            "data_dir = {:?}\n[[sources]]\nname = \"ssh\"\ntype = \"file\"\npath = {log:?}\nformat = \"sshd\"\n[email]\nict = [\"ict@school.example\"]\n[email.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\n{}",
            dir.join("data"),
            sink.port(),
            kafka_section(&cluster)
        ),
    );
    let mut alerter = spawn(&dir, "alert", &config, &[]);
    ingest_once(&config);
    // Three failures (three users, spread over the partitions) are counted and saved; then
    // the alerter dies without a chance to shut down.
    let windows = dir.join("data/alerter/windows.json");
    wait_for(LIMIT, "the window saved with three failures", || {
        let text = std::fs::read_to_string(&windows).unwrap_or_default();
        let saved: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        // [[group, [[at, event, value], ...]], ...]
        let counted = saved["state"]["brute-force.ssh"][0][1].as_array().map_or(0, Vec::len);
        (counted >= 3).then_some(())
    });
    alerter.kill9();

    std::fs::write(&log, ssh_failures(0, 5)).unwrap();
    let mut alerter = spawn(&dir, "alert", &config, &[]);
    ingest_once(&config);
    let mails = sink.wait_for(1, LIMIT).unwrap();
    assert_eq!(mails[0].header("Subject").unwrap().trim(), "[Vigil] HIGH brute-force: 203.0.113.77");
    // Every line read and sent again: the window knows them all.
    std::fs::remove_file(dir.join("data/ingest/checkpoints.json")).unwrap();
    ingest_once(&config);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(sink.messages().unwrap().len(), 1, "one alert: the fifth failure, counted across the restart");
    assert!(alerter.terminate().success(), "{}", alerter.stderr());
}
