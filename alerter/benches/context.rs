//! Cost of alert context in the alerter: remembering each event it reads,
//! and building one alert's context from a full window.
//!
//! - `context/observe`: events per CPU-second fed to [`Context::observe`]:
//!   a school's proxy traffic of 2 000 users, one event in four a search,
//!   one in twenty blocked, the rest ordinary requests (not remembered).
//! - `context/attach`: alerts per CPU-second given their context from the
//!   window that traffic left (no search index).
//!
//! Run: `cargo bench -p vigil-alerter --bench context`. The time is the
//! benchmark thread's CPU time, so the figure is per core.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::{Duration, Utc};
use cpu_time::ThreadTime;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use vigil_alerter::context::Context;
use vigil_alerter::rules::{Field, Rule, RuleMatch};
use vigil_alerter::Alert;
use vigil_core::config::{AlerterConfig, Role, Severity};
use vigil_core::{Event, EventKind, Outcome};

const USERS: usize = 2_000;
const EVENTS: usize = 50_000;

/// Half an hour of traffic, oldest first.
fn traffic() -> Vec<Event> {
    let start = Utc::now() - Duration::minutes(30);
    (0..EVENTS)
        .map(|i| {
            let at = start + Duration::milliseconds((i * 36) as i64);
            let mut e = Event::new(at, EventKind::Proxy, "allowed", Outcome::Success, "squid", "squid", "raw");
            e.id = format!("event-{i:08}");
            e.tenant = "school-a".into();
            e.user_name = Some(format!("pupil{:04}", i % USERS));
            e.url_domain = Some(format!("site{}.example", i % 300));
            match i % 20 {
                0 => {
                    e.action = "blocked".into();
                    e.filter_category = Some("Games".into());
                }
                1..=5 => e.search_query = Some(format!("volcano facts for year {} homework {}", i % 13, i % 97)),
                _ => {}
            }
            e
        })
        .collect()
}

fn alert_on(event: &Event) -> Alert {
    let rule = Rule {
        id: "bench".into(),
        category: "self-harm".into(),
        severity: Severity::High,
        notify: Role::Dsl,
        description: None,
        origin: "bench".into(),
        phrases: vec!["volcano".into()],
        all: Vec::new(),
        patterns: Vec::new(),
        exceptions: Vec::new(),
        blocked: None,
        when: None,
        unless: None,
        threshold: None,
        distinct: None,
        sequence: None,
        list: None,
        new_term: None,
        lookalike: None,
        flatline: None,
        travel: None,
    };
    let found =
        RuleMatch { rule: 0, phrase: "volcano".into(), field: Field::SearchQuery, group: None, group_field: None };
    Alert::new(&rule, &found, event, 0)
}

fn context_benches(c: &mut Criterion) {
    let events = traffic();
    let mut group = c.benchmark_group("context");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("observe", |b| {
        b.iter_custom(|iterations| {
            let start = ThreadTime::now();
            for _ in 0..iterations {
                let mut context = Context::new(&AlerterConfig::default());
                for e in &events {
                    context.observe(black_box(e));
                }
                black_box(&context);
            }
            start.elapsed()
        })
    });

    let mut full = Context::new(&AlerterConfig::default());
    for e in &events {
        full.observe(e);
    }
    let last = &events[EVENTS - 1];
    group.throughput(Throughput::Elements(1));
    group.bench_function("attach", |b| {
        b.iter_custom(|iterations| {
            let mut spent = std::time::Duration::ZERO;
            for _ in 0..iterations {
                let mut alerts = vec![alert_on(last)];
                let start = ThreadTime::now();
                full.attach(black_box(&mut alerts));
                spent += start.elapsed();
                black_box(alerts);
            }
            spent
        })
    });
    group.finish();
}

criterion_group!(benches, context_benches);
criterion_main!(benches);
