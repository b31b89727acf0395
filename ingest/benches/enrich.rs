//! Enrichment cost per event, on proxy events (the bulk of a school's logs):
//! with the default configuration (lease attribution on, nothing learnt
//! yet), and with everything configured at scale (a trust's networks, a
//! 50,000-user directory, 20,000 learnt bindings).
//!
//! Run: `cargo bench -p vigil-ingest --bench enrich`.

/// The allocator the `vigil` binary ships with, so the figures are the
/// binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::fmt::Write;
use vigil_core::config::{EnrichConfig, NetworkTenant};
use vigil_core::{Event, EventKind, Outcome};
use vigil_ingest::enrich::Enricher;

const EVENTS: usize = 4096;
const USERS: usize = 50_000;
const SCHOOLS: usize = 40;

fn proxy_events() -> Vec<Event> {
    let start = Utc.with_ymd_and_hms(2026, 3, 4, 10, 0, 0).unwrap();
    (0..EVENTS)
        .map(|i| {
            let mut e = Event::new(
                start + Duration::seconds(i as i64),
                EventKind::Proxy,
                "allowed",
                Outcome::Success,
                "squid",
                "squid",
                "",
            );
            e.tenant = "trust".into();
            e.source_ip = Some(format!("10.{}.{}.{}", i % SCHOOLS, (i / 7) % 4, i % 250));
            if i % 3 == 0 {
                e.user_name = Some(format!("pupil{}", i * 11 % USERS));
            }
            e
        })
        .collect()
}

fn full_config(dir: &std::path::Path) -> EnrichConfig {
    let mut csv = String::from("username,display_name,role,year_group,tenant\n");
    for u in 0..USERS {
        writeln!(csv, "pupil{u},Pupil Number {u},pupil,Year {},", u % 14).unwrap();
    }
    let directory = dir.join("users.csv");
    std::fs::write(&directory, csv).unwrap();
    let networks = (0..SCHOOLS)
        .map(|s| NetworkTenant { cidr: format!("10.{s}.0.0/16").parse().unwrap(), tenant: format!("school-{s}") })
        .chain(std::iter::once(NetworkTenant { cidr: "10.0.0.0/8".parse().unwrap(), tenant: "trust".into() }))
        .collect();
    EnrichConfig { networks, directory: Some(directory), ..EnrichConfig::default() }
}

/// Logins binding every address the proxy events use, an hour before them.
fn learn_bindings(enricher: &Enricher) {
    let start = Utc.with_ymd_and_hms(2026, 3, 4, 9, 0, 0).unwrap();
    let mut learnt = 0;
    for school in 0..SCHOOLS {
        for c in 0..4 {
            for d in 0..125 {
                let mut e = Event::new(start, EventKind::Auth, "logged-in", Outcome::Success, "sshd", "sshd", "");
                e.tenant = "trust".into();
                e.source_ip = Some(format!("10.{school}.{c}.{}", d * 2));
                e.user_name = Some(format!("pupil{}", learnt % USERS));
                enricher.enrich(&mut e);
                learnt += 1;
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    let events = proxy_events();
    let mut group = c.benchmark_group("enrich");
    group.throughput(Throughput::Elements(EVENTS as u64));

    let dir = tempfile::tempdir().unwrap();
    let default = Enricher::new(&EnrichConfig::default(), dir.path()).unwrap();
    group.bench_function("default-config", |b| {
        b.iter_batched_ref(
            || events.clone(),
            |batch| batch.iter_mut().for_each(|e| default.enrich(e)),
            BatchSize::LargeInput,
        )
    });

    let full_dir = tempfile::tempdir().unwrap();
    let full = Enricher::new(&full_config(full_dir.path()), full_dir.path()).unwrap();
    learn_bindings(&full);
    group.bench_function("networks-directory-leases", |b| {
        b.iter_batched_ref(
            || events.clone(),
            |batch| batch.iter_mut().for_each(|e| full.enrich(e)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
