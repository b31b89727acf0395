//! Parsing throughput per format, in lines per CPU-second of one core: Squid,
//! sshd and Postfix on generated lines shaped like a school's real logs, the
//! other formats on their example logs in `examples/logs/` repeated to
//! [`LINES`] lines.
//!
//! A second group, `serialize`, measures writing Squid events in the wire
//! format into a [`RecordBatch`] (what the outbox's courier does per event).
//!
//! Run: `cargo bench -p vigil-ingest --bench parse`.
//!
//! The time measured is the benchmark thread's CPU time, not the wall
//! clock, so the figure is per core and other load on a shared machine
//! (which steals the core, not cycles of this thread) disturbs it little.

/// The allocator the `vigil` binary ships with, so the figures are the
/// binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::{DateTime, TimeZone, Utc};
use cpu_time::ThreadTime;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::path::Path;
use vigil_core::config::IngestConfig;
use vigil_core::transport::RecordBatch;
use vigil_core::{Event, Label};
use vigil_ingest::parse::{by_name, LineContext, Parser};

const LINES: usize = 10_000;
/// The tenant and source of every line parsed.
static TENANT: Label = Label::constant("st-marys");
static SOURCE: Label = Label::constant("proxy");
/// Events are handed on (and dropped) in batches of this many, as the
/// pipeline does, so the measurement includes freeing them.
const BATCH: usize = 256;

/// A small deterministic generator, so every run parses the same lines.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn squid_lines() -> Vec<String> {
    let mut r = Lcg(1);
    let urls = [
        "http://www.bbc.co.uk/news/education-12345678",
        "www.google.com:443",
        "https://www.google.co.uk/search?q=photosynthesis+for+kids&hl=en",
        "http://ocsp.digicert.com/MFEwTzBNMEswSTAJBgUrDgMCGgUABBQ",
        "www.youtube.com:443",
        "http://cdn.example-learning.com/static/js/app.min.js?v=3.2.1",
    ];
    let results = ["TCP_MISS/200", "TCP_TUNNEL/200", "TCP_HIT/200", "TCP_DENIED/403", "TCP_MISS/304"];
    let types = ["text/html", "-", "application/javascript", "image/png"];
    (0..LINES)
        .map(|i| {
            let url = urls[r.next(urls.len())];
            let method = if url.starts_with("http") { "GET" } else { "CONNECT" };
            let user = if r.next(3) == 0 { "-".to_string() } else { format!("pupil{}", r.next(900)) };
            format!(
                "{}.{:03} {:>6} 10.20.{}.{} {} {} {method} {url} {user} HIER_DIRECT/93.184.216.34 {}",
                1_709_548_920 + i,
                r.next(1000),
                r.next(60_000),
                r.next(255),
                r.next(255),
                results[r.next(results.len())],
                r.next(200_000),
                types[r.next(types.len())],
            )
        })
        .collect()
}

fn sshd_lines() -> Vec<String> {
    let mut r = Lcg(2);
    let messages = [
        "Accepted publickey for admin from 10.0.0.5 port 51234 ssh2: ED25519 SHA256:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg",
        "Failed password for invalid user oracle from 203.0.113.9 port 40022 ssh2",
        "Invalid user test from 203.0.113.9 port 40023",
        "Connection closed by 203.0.113.9 port 40024 [preauth]",
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root",
        "Disconnecting authenticating user root 203.0.113.9 port 40025: Too many authentication failures [preauth]",
    ];
    (0..LINES)
        .map(|i| {
            format!(
                "Mar  4 10:{:02}:{:02} gate sshd[{}]: {}",
                (i / 60) % 60,
                i % 60,
                1000 + r.next(9000),
                messages[r.next(messages.len())]
            )
        })
        .collect()
}

fn postfix_lines() -> Vec<String> {
    (0..LINES / 6)
        .flat_map(|i| {
            let q = format!("{:010X}", 0x3F_2A1B_4C5D_u64 + i as u64);
            let t = format!("Mar  4 10:{:02}:{:02}", (i / 60) % 60, i % 60);
            [
                format!("{t} mx postfix/smtpd[100]: {q}: client=mail.example.com[203.0.113.5]"),
                format!("{t} mx postfix/cleanup[101]: {q}: message-id=<{q}@example.com>"),
                format!("{t} mx postfix/qmgr[102]: {q}: from=<alice@example.com>, size=2048, nrcpt=1 (queue active)"),
                format!("{t} mx postfix/smtpd[100]: disconnect from mail.example.com[203.0.113.5] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"),
                format!("{t} mx postfix/virtual[104]: {q}: to=<bob@school.example>, relay=virtual, delay=0.1, delays=0.1/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)"),
                format!("{t} mx postfix/qmgr[102]: {q}: removed"),
            ]
        })
        .collect()
}

/// The formats measured on their example logs: `(format, file in examples/logs/)`.
const EXAMPLES: &[(&str, &str)] = &[
    ("exim", "exim-mainlog.log"),
    ("exchange", "exchange-msgtrk.log"),
    ("m365-trace", "m365-trace.log"),
    ("combined", "combined-access.log"),
    ("e2guardian", "e2guardian-access.log"),
    ("fortigate", "fortigate.log"),
    ("sophos-utm", "sophos-utm-http.log"),
    ("squidguard", "squidguard.log"),
    ("windows", "windows-security.log"),
    ("radius", "radius.log"),
    ("dhcp", "dhcpd.log"),
    ("google-login", "google-login.log"),
    ("entra-signin", "entra-signin.log"),
    ("syslog+squid", "syslog-squid.log"),
];

/// The lines of `examples/logs/<file>`, repeated to [`LINES`] lines.
fn example_lines(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/logs").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().cycle().take(LINES).map(str::to_string).collect()
}

fn bench(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap();
    let ingest = IngestConfig::default();
    let mut group = c.benchmark_group("parse");
    let generated = [("squid", squid_lines()), ("sshd", sshd_lines()), ("postfix", postfix_lines())];
    let examples = EXAMPLES.iter().map(|(format, file)| (*format, example_lines(file)));
    for (format, lines) in generated.into_iter().chain(examples) {
        group.throughput(Throughput::Elements(lines.len() as u64));
        let mut parser = by_name(format, &ingest).expect("known format");
        let mut out = Vec::with_capacity(BATCH);
        group.bench_function(format, |b| {
            b.iter_custom(|iterations| {
                let start = ThreadTime::now();
                for _ in 0..iterations {
                    black_box(parse_all(parser.as_mut(), &lines, &mut out, now));
                }
                start.elapsed()
            })
        });
    }
    group.finish();
    serialize(c, now, &ingest);
}

/// Writes the events of the generated Squid lines into a record batch.
fn serialize(c: &mut Criterion, now: DateTime<Utc>, ingest: &IngestConfig) {
    let mut parser = by_name("squid", ingest).expect("known format");
    let mut events = Vec::new();
    for (i, line) in squid_lines().iter().enumerate() {
        let ctx =
            LineContext { tenant: &TENANT, source: &SOURCE, line_no: i as u64 + 1, offset: 0, now, read_as: None };
        let _ = parser.parse(line, &ctx, &mut events);
    }
    let mut group = c.benchmark_group("serialize");
    group.throughput(Throughput::Elements(events.len() as u64));
    let mut batch = RecordBatch::default();
    group.bench_function("squid-events", |b| {
        b.iter_custom(|iterations| {
            let start = ThreadTime::now();
            for _ in 0..iterations {
                for chunk in events.chunks(BATCH) {
                    chunk.iter().for_each(|e| batch.push_event(e));
                    black_box(batch.byte_len());
                    batch.clear();
                }
            }
            start.elapsed()
        })
    });
    group.finish();
}

/// Parses every line once, handing events on in batches; returns how many
/// events were made.
fn parse_all(parser: &mut dyn Parser, lines: &[String], out: &mut Vec<Event>, now: DateTime<Utc>) -> usize {
    let mut offset = 0u64;
    let mut events = 0;
    for (i, line) in lines.iter().enumerate() {
        let ctx = LineContext { tenant: &TENANT, source: &SOURCE, line_no: i as u64 + 1, offset, now, read_as: None };
        let _ = parser.parse(line, &ctx, out);
        offset += line.len() as u64 + 1;
        if out.len() >= BATCH {
            events += out.len();
            out.clear();
        }
    }
    events += out.len();
    out.clear();
    events
}

criterion_group!(benches, bench);
criterion_main!(benches);
