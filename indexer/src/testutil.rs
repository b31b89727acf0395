//! Events and indexes for the unit tests.

use crate::checkpoint::{checkpoint_path, read_checkpoint};
use crate::daily::{CommitPolicy, DailyIndexes};
use crate::layout::index_root;
use chrono::{DateTime, NaiveDate, Utc};
use std::path::Path;
use std::time::Duration;
use vigil_core::transport::Record;
use vigil_core::{Event, EventKind, Outcome};

/// A proxy event of `tenant` at `time` (RFC 3339), with an id unique to both.
pub(crate) fn event_at(time: &str, tenant: &str) -> Event {
    let timestamp: DateTime<Utc> = time.parse().unwrap();
    let mut e = Event::new(
        timestamp,
        EventKind::Proxy,
        "allowed",
        Outcome::Success,
        "squid",
        "squid",
        format!("line at {time}"),
    );
    e.tenant = tenant.to_string().into();
    e.id = Event::derive_id(tenant, "proxy", 0, time.as_bytes());
    e
}

/// An event with every field set.
pub(crate) fn full_event() -> Event {
    let mut e = event_at("2026-03-04T10:42:00.123Z", "school-a");
    e.reason = Some("TCP_DENIED/403".into());
    e.duration_ms = Some(12);
    e.source_ip = Some("10.0.0.5".into());
    e.source_port = Some(51000);
    e.user_name = Some("Alice".into());
    e.host_name = Some("proxy1".into());
    e.url_full = Some("https://www.google.com/search?q=how+to".into());
    e.url_domain = Some("www.google.com".into());
    e.search_query = Some("how to".into());
    e.http_method = Some("GET".into());
    e.http_status = Some(403);
    e.http_bytes = Some(1234);
    e.http_mime_type = Some("text/html".into());
    e.filter_category = Some("Search Engines".into());
    e.email_from = Some("a@example.org".into());
    e.email_to = vec!["b@example.org".into(), "c@example.org".into()];
    e.email_subject = Some("Hello there".into());
    e.email_message_id = Some("<m1@example.org>".into());
    e.email_queue_id = Some("4F2A1".into());
    e.email_size = Some(2048);
    e.email_relay = Some("mx.example.org[1.2.3.4]:25".into());
    e.log_source = Some("proxy".into());
    e.log_offset = Some(99);
    e.code = Some("4625".into());
    e.source_mac = Some("3c:22:fb:01:02:03".into());
    e.source_country = Some("GB".into());
    e.source_city = Some("Leeds".into());
    e.destination_ip = Some("142.250.1.1".into());
    e.destination_port = Some(443);
    e.user_domain = Some("SCHOOL".into());
    e.user_attribution = Some("lease:radius".into());
    e.user_full_name = Some("Alice Example".into());
    e.user_role = Some("pupil".into());
    e.user_year_group = Some(9);
    e.user_target_name = Some("new.pupil".into());
    e.group_name = Some("Domain Admins".into());
    e.device_name = Some("LIB-PC-07".into());
    e.user_agent = Some("Mozilla/5.0".into());
    e.access_policy = Some("failure: Block legacy authentication".into());
    e.http_referrer = Some("https://www.google.com/".into());
    e
}

/// Records at offsets `first..` of partition 0 holding `payloads`.
pub(crate) fn records(first: i64, payloads: Vec<Vec<u8>>) -> Vec<Record> {
    payloads
        .into_iter()
        .zip(first..)
        .map(|(payload, offset)| Record { partition: 0, offset, key: None, payload })
        .collect()
}

/// Daily indexes under `data_dir` that keep everything and commit on demand.
pub(crate) fn open_indexes(data_dir: &Path) -> DailyIndexes {
    let policy = CommitPolicy { max_records: usize::MAX, interval: Duration::from_secs(3600) };
    DailyIndexes::open(index_root(data_dir), 15, policy, NaiveDate::MIN).unwrap()
}

/// Indexes `events` into `data_dir`, as the records following those already
/// checkpointed there, and commits.
pub(crate) fn index_events(data_dir: &Path, events: &[Event]) {
    let checkpoint = read_checkpoint(&checkpoint_path(&index_root(data_dir))).unwrap();
    let first = checkpoint.get(&0).copied().unwrap_or(0);
    let mut indexes = open_indexes(data_dir);
    indexes.handle(&records(first, events.iter().map(Event::to_json).collect())).unwrap();
    indexes.commit().unwrap();
    indexes.close().unwrap();
}
