//! Syslog sources over real sockets on 127.0.0.1, read back from the
//! embedded transport.

use super::*;
use crate::processor_with_tenant;
use crate::source::ReadMode;
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use vigil_core::shutdown::{self, Phase, ShutdownTrigger};
use vigil_core::transport::embedded::EmbeddedTransport;
use vigil_core::transport::{advance, Consumer, Positions, Topic, Transport};
use vigil_core::{Config, Event};

const SQUID: &str =
    "1772623320.123    145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html";
/// Guards the waits below against hanging forever; never a timing assertion.
const PATIENCE: Duration = Duration::from_secs(30);

fn rfc5424(host: &str) -> String {
    format!("<166>1 2026-03-04T10:42:00.003Z {host} squid 2314 - - {SQUID}")
}

fn rfc3164(host: &str) -> String {
    format!("<166>Mar  4 10:42:00 {host} squid[2314]: {SQUID}")
}

fn config(extra: &str) -> Config {
    let text = format!(
        "tenant = \"trust\"\n[ingest]\nmax_line_bytes = 300\n[[sources]]\nname = \"net\"\ntype = \"syslog\"\n\
         listen = \"127.0.0.1:0\"\nformat = \"squid\"\n{extra}"
    );
    Config::from_toml(&text, "test", Path::new("/")).unwrap()
}

/// A running syslog source and a consumer of what it produced.
struct Harness {
    addr: SocketAddr,
    consumer: Box<dyn Consumer>,
    positions: Positions,
    dead_letters: std::path::PathBuf,
    trigger: ShutdownTrigger,
    task: JoinHandle<Result<SourceSummary, NetError>>,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start(extra: &str) -> Harness {
        let config = config(extra);
        let dir = tempfile::tempdir().unwrap();
        let dead_letters = dir.path().join("dl.jsonl");
        let transport = EmbeddedTransport::new(1000, &dead_letters, &[(Topic::Events, "test")]);
        let consumer = transport.consumer(Topic::Events, "test").await.unwrap();
        let source = config.sources[0].clone();
        let bound = SyslogSource::from_config(&source, config.source_tenant(&source), config.ingest.max_line_bytes)
            .unwrap()
            .bind()
            .await
            .unwrap();
        let addr = bound.local_addr().unwrap();
        let new_processor: NewProcessor =
            Box::new(move |tenant| processor_with_tenant(&config, &source, tenant).unwrap());
        let (trigger, shutdown) = shutdown::channel();
        let task = tokio::spawn(bound.run(new_processor, transport.producer(), shutdown, || {}));
        Harness { addr, consumer, positions: Positions::new(), dead_letters, trigger, task, _dir: dir }
    }

    /// Waits for `n` more events, committing them so their deliveries end.
    async fn events(&mut self, n: usize) -> Vec<Event> {
        let mut events = Vec::new();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while events.len() < n {
            assert!(tokio::time::Instant::now() < deadline, "only {} of {n} events arrived", events.len());
            for record in self.consumer.poll(n - events.len(), Duration::from_millis(200)).await.unwrap() {
                advance(&mut self.positions, &record);
                events.push(Event::from_json(&record.payload).unwrap());
            }
        }
        self.consumer.commit(&self.positions).await.unwrap();
        events
    }

    /// Waits until the dead-letter file holds `n` records.
    async fn dead_letters(&self, n: usize) -> Vec<serde_json::Value> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let text = std::fs::read_to_string(&self.dead_letters).unwrap_or_default();
            let records: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            if records.len() >= n {
                return records;
            }
            assert!(tokio::time::Instant::now() < deadline, "only {} of {n} dead letters arrived", records.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Drains the source and returns its summary.
    async fn stop(self) -> SourceSummary {
        self.trigger.set(Phase::Drain);
        self.task.await.unwrap().unwrap()
    }
}

fn messages(events: &[Event]) -> Vec<&str> {
    let mut m: Vec<&str> = events.iter().map(|e| e.message.as_str()).collect();
    m.sort();
    m
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

#[tokio::test]
async fn udp_datagrams_with_rfc5424_and_rfc3164_headers_and_several_lines() {
    let mut h = Harness::start("").await;
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    client.send_to(format!("{}\n", rfc5424("proxy1")).as_bytes(), h.addr).unwrap();
    client.send_to(format!("{}\n{}\r\n\n", rfc3164("proxy2"), rfc3164("proxy3")).as_bytes(), h.addr).unwrap();
    let events = h.events(3).await;
    assert_eq!(messages(&events), sorted(vec![rfc5424("proxy1"), rfc3164("proxy2"), rfc3164("proxy3")]));
    for e in &events {
        assert_eq!(e.tenant, "trust");
        assert_eq!(e.log_source.as_deref(), Some("net"));
        assert_eq!(e.url_full.as_deref(), Some("http://example.com/"));
        assert!(e.message.contains(e.host_name.as_deref().unwrap()), "{e:?}");
        assert_eq!(e.id, Event::derive_id("trust", "net", e.log_offset.unwrap(), e.message.as_bytes()));
    }
    let mut offsets: Vec<u64> = events.iter().map(|e| e.log_offset.unwrap()).collect();
    offsets.dedup();
    assert_eq!(offsets.len(), 3, "every message has its own offset");
    let summary = h.stop().await;
    assert_eq!(summary, SourceSummary { lines: 3, events: 3, dead_letters: 0 });
}

#[tokio::test]
async fn tcp_newline_framing_reads_the_unterminated_last_line_at_close() {
    let mut h = Harness::start("protocol = \"tcp\"\n").await;
    let mut client = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    let text = format!("{}\n{}\r\n{}", rfc3164("a"), rfc5424("b"), rfc3164("c"));
    client.write_all(text.as_bytes()).await.unwrap();
    drop(client);
    let events = h.events(3).await;
    assert_eq!(messages(&events), sorted(vec![rfc3164("a"), rfc5424("b"), rfc3164("c")]));
    assert_eq!(h.stop().await.events, 3);
}

#[tokio::test]
async fn tcp_octet_counting_with_split_frames_and_newlines_inside_a_frame() {
    let mut h = Harness::start("protocol = \"tcp\"\n").await;
    let mut client = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    client.set_nodelay(true).unwrap();
    let first = rfc5424("a");
    let multi_line = format!("{}\ncontinued here", rfc5424("b"));
    let stream = format!("{} {first}{} {multi_line}", first.len(), multi_line.len());
    let (head, tail) = stream.split_at(first.len() / 2);
    client.write_all(head.as_bytes()).await.unwrap();
    client.flush().await.unwrap();
    client.write_all(tail.as_bytes()).await.unwrap();
    let mut events = h.events(2).await;
    events.sort_by(|a, b| a.message.cmp(&b.message));
    assert_eq!(events[0].message, first);
    assert_eq!(events[1].message, multi_line, "the line feed is part of the one message");
    assert_eq!(events[1].host_name.as_deref(), Some("b"));
    drop(client);
    assert_eq!(h.stop().await, SourceSummary { lines: 2, events: 2, dead_letters: 0 });
}

/// Whether the server closed `client` (its read ends, cleanly or reset).
async fn closed_by_server(client: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16];
    matches!(tokio::time::timeout(PATIENCE, client.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
}

async fn send(client: &mut TcpStream, text: &str) {
    client.write_all(text.as_bytes()).await.unwrap();
}

#[tokio::test]
async fn a_full_tcp_source_closes_the_connection_idle_longest_for_a_new_one_losing_nothing() {
    let mut h = Harness::start("protocol = \"tcp\"\nmax_senders = 2\n").await;
    let mut a = TcpStream::connect(h.addr).await.unwrap();
    send(&mut a, &format!("{}\n{}", rfc3164("a1"), rfc3164("a2"))).await;
    assert_eq!(messages(&h.events(1).await), [rfc3164("a1")], "a2 is unterminated, so held");
    let mut b = TcpStream::connect(h.addr).await.unwrap();
    send(&mut b, &format!("{}\n", rfc3164("b1"))).await;
    assert_eq!(messages(&h.events(1).await), [rfc3164("b1")]);

    let mut c = TcpStream::connect(h.addr).await.unwrap();
    send(&mut c, &format!("{}\n", rfc3164("c1"))).await;
    let events = h.events(2).await;
    assert_eq!(messages(&events), sorted(vec![rfc3164("a2"), rfc3164("c1")]), "a's last message went out as a closed");
    assert!(closed_by_server(&mut a).await, "a, idle longest, was closed");
    send(&mut b, &format!("{}\n", rfc3164("b2"))).await;
    send(&mut c, &format!("{}\n", rfc3164("c2"))).await;
    assert_eq!(messages(&h.events(2).await), sorted(vec![rfc3164("b2"), rfc3164("c2")]), "b and c are served");
    drop((b, c));
    assert_eq!(h.stop().await, SourceSummary { lines: 6, events: 6, dead_letters: 0 });
}

#[tokio::test]
async fn active_tcp_senders_are_not_closed_and_a_new_connection_waits_until_one_is_idle_enough() {
    let mut h = Harness::start("protocol = \"tcp\"\nmax_senders = 2\n").await;
    let pause = tcp::EVICT_AFTER_IDLE / 8;
    let (mut a, mut b) = (TcpStream::connect(h.addr).await.unwrap(), TcpStream::connect(h.addr).await.unwrap());
    let mut c = TcpStream::connect(h.addr).await.unwrap();
    send(&mut c, &format!("{}\n", rfc3164("c1"))).await;
    let mut sent = 0;
    for round in 0..12 {
        send(&mut a, &format!("{}\n", rfc3164(&format!("a{round}")))).await;
        send(&mut b, &format!("{}\n", rfc3164(&format!("b{round}")))).await;
        sent += 2;
        let events = h.events(2).await;
        let expected = sorted(vec![rfc3164(&format!("a{round}")), rfc3164(&format!("b{round}"))]);
        assert_eq!(messages(&events), expected, "c waits while a and b send");
        tokio::time::sleep(pause).await;
    }

    // b goes quiet; a goes on, so b is the one closed for c.
    let mut seen = Vec::new();
    let mut round = 12;
    while !seen.contains(&rfc3164("c1")) {
        assert!(round < 1000, "c was never served");
        send(&mut a, &format!("{}\n", rfc3164(&format!("a{round}")))).await;
        sent += 1;
        round += 1;
        seen.extend(h.events(1).await.into_iter().map(|e| e.message));
        tokio::time::sleep(pause).await;
    }
    sent += 1;
    seen.extend(h.events(sent - 24 - seen.len()).await.into_iter().map(|e| e.message));
    let mut expected: Vec<String> = (12..round).map(|r| rfc3164(&format!("a{r}"))).collect();
    expected.push(rfc3164("c1"));
    assert_eq!(sorted(seen), sorted(expected));
    assert!(closed_by_server(&mut b).await, "b, quiet, was closed");
    send(&mut a, &format!("{}\n", rfc3164("a-last"))).await;
    send(&mut c, &format!("{}\n", rfc3164("c2"))).await;
    assert_eq!(messages(&h.events(2).await), sorted(vec![rfc3164("a-last"), rfc3164("c2")]), "a was never closed");
    drop((a, c));
    let summary = h.stop().await;
    assert_eq!(summary.events, sent as u64 + 2);
}

#[tokio::test]
async fn oversize_frames_are_dead_lettered_and_the_connection_goes_on() {
    let mut h = Harness::start("protocol = \"tcp\"\n").await;
    let mut client = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    let big = format!("{} {}", rfc5424("a"), "x".repeat(1000));
    let ok = rfc5424("b");
    client.write_all(format!("{} {big}{} {ok}", big.len(), ok.len()).as_bytes()).await.unwrap();
    let events = h.events(1).await;
    assert_eq!(events[0].message, ok);
    let dead = h.dead_letters(1).await;
    assert!(dead[0]["reason"].as_str().unwrap().contains("max_line_bytes"), "{}", dead[0]);
    assert_eq!(dead[0]["raw"].as_str().unwrap(), &big[..300]);
    assert_eq!(dead[0]["tenant"], "trust");
    // An unfinished frame at close is dead-lettered too.
    client.write_all(b"500 <13>1 - h squid - - - cut short").await.unwrap();
    drop(client);
    let dead = h.dead_letters(2).await;
    assert!(dead[1]["reason"].as_str().unwrap().contains("into an octet-counted frame of 500 bytes"), "{}", dead[1]);
    assert_eq!(h.stop().await, SourceSummary { lines: 3, events: 1, dead_letters: 2 });
}

#[tokio::test]
async fn senders_are_mapped_to_tenants_most_specific_first() {
    let senders =
        "[sources.senders]\n\"127.0.0.0/8\" = \"st-marys\"\n\"127.0.0.2\" = \"oak-academy\"\n\"10.0.0.0/8\" = \"la\"\n";
    let mut h = Harness::start(senders).await;
    for (from, host) in [("127.0.0.1:0", "one"), ("127.0.0.2:0", "two")] {
        let client = std::net::UdpSocket::bind(from).unwrap();
        client.send_to(rfc5424(host).as_bytes(), h.addr).unwrap();
    }
    let events = h.events(2).await;
    for e in &events {
        let expected = if e.host_name.as_deref() == Some("two") { "oak-academy" } else { "st-marys" };
        assert_eq!(e.tenant, expected, "{e:?}");
        assert_eq!(e.id, Event::derive_id(expected, "net", e.log_offset.unwrap(), e.message.as_bytes()));
    }
    h.stop().await;

    let mut h = Harness::start("[sources.senders]\n\"10.0.0.0/8\" = \"la\"\n").await;
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().send_to(rfc5424("x").as_bytes(), h.addr).unwrap();
    assert_eq!(h.events(1).await[0].tenant, "trust", "unmatched senders get the source's tenant");
    h.stop().await;
}

#[tokio::test]
async fn lines_that_are_not_syslog_are_dead_lettered_with_the_reason() {
    let mut h = Harness::start("").await;
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    client.send_to(format!("{SQUID}\n{}", rfc3164("a")).as_bytes(), h.addr).unwrap();
    assert_eq!(h.events(1).await[0].message, rfc3164("a"));
    let dead = h.dead_letters(1).await;
    assert_eq!(dead[0]["raw"], SQUID);
    assert!(dead[0]["reason"].as_str().unwrap().contains("not a syslog line"), "{}", dead[0]);
    h.stop().await;
}

#[tokio::test]
async fn tls_with_octet_counting_after_a_plain_client_is_refused() {
    let cert = vigil_testkit::TestCert::localhost().unwrap();
    let extra = format!(
        "protocol = \"tcp\"\ntls_cert = {:?}\ntls_key = {:?}\n",
        cert.cert.display().to_string(),
        cert.key.display().to_string()
    );
    let mut h = Harness::start(&extra).await;
    let mut plain = std::net::TcpStream::connect(h.addr).unwrap();
    plain.write_all(format!("{}\n", rfc3164("plain")).as_bytes()).unwrap();
    drop(plain);
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cert.client_config().unwrap()));
    let tcp = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    let (a, b) = (rfc5424("a"), rfc3164("b"));
    tls.write_all(format!("{} {a}{} {b}", a.len(), b.len()).as_bytes()).await.unwrap();
    tls.flush().await.unwrap();
    let events = h.events(2).await;
    assert_eq!(messages(&events), sorted(vec![a, b]));
    tls.shutdown().await.unwrap();
    assert_eq!(h.stop().await.events, 2);
}

#[tokio::test]
async fn once_skips_network_sources_and_a_busy_port_fails_at_start() {
    let config = config("protocol = \"tcp\"\n");
    let dir = tempfile::tempdir().unwrap();
    let transport = EmbeddedTransport::new(10, &dir.path().join("dl.jsonl"), &[]);
    let mut config = config;
    config.data_dir = dir.path().to_path_buf();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let summaries =
        crate::run(&config, transport.producer(), ReadMode::ToEnd, Shutdown::never(), Some(tx)).await.unwrap();
    assert_eq!(summaries, vec![("net".to_string(), SourceSummary::default())]);
    rx.await.expect("handed over at once");

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    config.sources[0].listen = Some(busy.local_addr().unwrap());
    let err = crate::run(&config, transport.producer(), ReadMode::Follow, Shutdown::never(), None).await.unwrap_err();
    assert!(err.to_string().contains("cannot listen on TCP"), "{err}");
}
