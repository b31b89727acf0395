//! Matching speed of the whole shipped rule library, in queries per
//! CPU-second of one core.
//!
//! - `library/search-queries`: every text of `rules/devset/pupil-queries.tsv`
//!   (half concerning, half benign school searches) matched as a search
//!   query, as `vigil rules test` does.
//! - `library/proxy-events`: the same texts as Google searches in proxy
//!   events (`search.query` and the `url.full` it came from), as the alerter
//!   evaluates each event.
//!
//! Run: `cargo bench -p vigil-alerter --bench match`. The time is the
//! benchmark thread's CPU time, so the figure is per core.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod support;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use support::cpu_time_over;
use vigil_alerter::rules::evaluation::read_rows;
use vigil_alerter::rules::{Field, RuleSet};
use vigil_core::config::AlerterConfig;
use vigil_core::{Event, EventKind, Outcome};

fn queries() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules/devset/pupil-queries.tsv");
    let text = std::fs::read_to_string(path).expect("rules/devset/pupil-queries.tsv is readable");
    read_rows(path, &text).expect("the dev set parses").into_iter().map(|r| r.text).collect()
}

fn events(queries: &[String]) -> Vec<Event> {
    queries
        .iter()
        .map(|q| {
            let mut e = Event::new(Utc::now(), EventKind::Proxy, "allowed", Outcome::Success, "squid", "squid", "raw");
            let encoded: String = q.chars().map(|c| if c == ' ' { '+' } else { c }).collect();
            e.url_full = Some(format!("https://www.google.com/search?q={encoded}&client=firefox-b-d"));
            e.search_query = Some(q.clone());
            e.user_name = Some("pupil".into());
            e
        })
        .collect()
}

fn library(c: &mut Criterion) {
    let mut rules = RuleSet::from_config(&AlerterConfig::default()).expect("the shipped library loads");
    let queries = queries();
    let events = events(&queries);
    let mut group = c.benchmark_group("library");
    group.throughput(Throughput::Elements(queries.len() as u64));
    group.bench_function("search-queries", |b| {
        b.iter_custom(|iterations| cpu_time_over(iterations, &queries, |q| rules.find_in_text(Field::SearchQuery, q)))
    });
    group.bench_function("proxy-events", |b| {
        b.iter_custom(|iterations| cpu_time_over(iterations, &events, |e| rules.evaluate(e)))
    });
    group.finish();
}

criterion_group!(benches, library);
criterion_main!(benches);
