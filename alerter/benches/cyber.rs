//! The whole shipped pack (keyword and cyber rules) on a mixed stream, in
//! events per CPU-second of one core, and the windowed state's memory for
//! 1 M distinct addresses.
//!
//! - `pack/mixed-events`: proxy searches (the dev set's texts), proxy
//!   requests to listed and unlisted domains, failed and successful
//!   sign-ins from many addresses and users, and mails, evaluated as the
//!   alerter does (`RuleSet::evaluate`).
//! - printed before it: bytes held by a threshold rule by `source.ip` after
//!   1 M failed sign-ins from 1 M distinct addresses, and the time and size
//!   of saving that state (`windows.json`).
//!
//! Run: `cargo bench -p vigil-alerter --bench cyber`. Times are the
//! benchmark thread's CPU time, so the figures are per core.

mod support;

use chrono::{Duration, TimeZone, Utc};
use cpu_time::ThreadTime;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use support::cpu_time_over;
use vigil_alerter::rules::evaluation::read_rows;
use vigil_alerter::rules::RuleSet;
use vigil_core::config::AlerterConfig;
use vigil_core::{Event, EventKind, Outcome};

/// mimalloc, counting the bytes in use.
struct Counting;

static IN_USE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        IN_USE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn at(n: usize) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 9, 0, 0).unwrap() + Duration::milliseconds(n as i64 * 5)
}

fn event(n: usize, kind: EventKind, action: &'static str, outcome: Outcome) -> Event {
    let mut e = Event::new(at(n), kind, action, outcome, "squid", "squid", "raw");
    e.id = format!("e{n}");
    e.tenant = "school".into();
    e
}

/// A day's mix: half proxy searches, a quarter other requests (one in 50
/// to a listed domain), a fifth sign-ins (one in four failed, from 2 000
/// addresses), the rest mails.
fn mixed() -> Vec<Event> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules/devset/pupil-queries.tsv");
    let text = std::fs::read_to_string(path).expect("rules/devset/pupil-queries.tsv is readable");
    let queries: Vec<String> =
        read_rows(path, &text).expect("the dev set parses").into_iter().map(|r| r.text).collect();
    (0..queries.len() * 2)
        .map(|n| {
            let user = format!("pupil{}", n % 900);
            let mut e = match n % 20 {
                0..=9 => {
                    let q = &queries[n / 2];
                    let mut e = event(n, EventKind::Proxy, "allowed", Outcome::Success);
                    e.url_full = Some(format!("https://www.google.com/search?q={}", q.replace(' ', "+")));
                    e.url_domain = Some("www.google.com".into());
                    e.search_query = Some(q.clone());
                    e
                }
                10..=14 => {
                    let mut e = event(n, EventKind::Proxy, "allowed", Outcome::Success);
                    let domain = if n % 50 == 10 {
                        "cdn.nordvpn.com".to_string()
                    } else {
                        format!("site{}.example.org", n % 3000)
                    };
                    e.url_full = Some(format!("https://{domain}/page/{n}"));
                    e.url_domain = Some(domain);
                    e
                }
                15..=18 => {
                    let failed = n % 4 == 0;
                    let (action, outcome) =
                        if failed { ("login-failed", Outcome::Failure) } else { ("logged-in", Outcome::Success) };
                    let mut e = event(n, EventKind::Auth, action, outcome);
                    e.observer_product = "entra-id".into();
                    e.source_ip = Some(format!("198.51.{}.{}", n / 250 % 8, n % 250));
                    e
                }
                _ => {
                    let mut e = event(n, EventKind::Email, "delivered", Outcome::Success);
                    e.email_from = Some(format!("{user}@school.example"));
                    e.email_to = vec![format!("friend{}@home.example", n % 40)];
                    e.email_subject = Some("homework for tomorrow".into());
                    e
                }
            };
            e.user_name = Some(user);
            e
        })
        .collect()
}

/// Bytes a threshold rule holds for 1 M distinct addresses, and saving it.
fn state_for_a_million_addresses() {
    let rules_toml = r#"
[alerter]
library = false
max_groups_per_rule = 2000000
[[alerter.rules]]
id = "brute"
category = "brute-force"
severity = "high"
when = { "event.action" = "login-failed" }
threshold = { count = 5, within_secs = 600, group_by = ["source.ip"] }
"#;
    let config = vigil_core::Config::from_toml(rules_toml, "bench.toml", std::path::Path::new(".")).unwrap();
    let mut rules = RuleSet::from_config(&config.alerter).unwrap();
    let mut e = event(0, EventKind::Auth, "login-failed", Outcome::Failure);
    let before = IN_USE.load(Ordering::Relaxed);
    const N: usize = 1_000_000;
    let start = ThreadTime::now();
    for n in 0..N {
        e.id = format!("f{n}");
        e.timestamp = at(n % 1000);
        e.source_ip = Some(format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255));
        black_box(rules.evaluate(&e));
    }
    let observed = start.elapsed();
    let held = IN_USE.load(Ordering::Relaxed) - before;
    let start = ThreadTime::now();
    let state = rules.checkpoint(at(1000)).expect("state changed");
    let bytes = serde_json::to_vec(&state).unwrap().len();
    let saved = start.elapsed();
    eprintln!(
        "state for {N} addresses: {:.0} MB in memory ({} bytes per address); {:.2} s to observe; saving: {:.0} MB of JSON in {:.2} s",
        held as f64 / 1e6,
        held / N as isize,
        observed.as_secs_f64(),
        bytes as f64 / 1e6,
        saved.as_secs_f64()
    );
}

fn pack(c: &mut Criterion) {
    state_for_a_million_addresses();
    let mut rules = RuleSet::from_config(&AlerterConfig::default()).expect("the shipped library loads");
    let events = mixed();
    let mut group = c.benchmark_group("pack");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("mixed-events", |b| {
        b.iter_custom(|iterations| cpu_time_over(iterations, &events, |e| rules.evaluate(e)))
    });
    group.finish();
}

criterion_group!(benches, pack);
criterion_main!(benches);
