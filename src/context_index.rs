//! The search index as the alerter's source of alert context: what a user
//! (or an address) did before the alerter last started, which its memory
//! does not hold.

use chrono::{DateTime, TimeDelta, Utc};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use vigil_alerter::{ContextSource, ContextSourceError, Who};
use vigil_core::Event;
use vigil_indexer::{IndexerError, SearchRequest};

/// Reads alert context from the indexes under a data folder.
#[derive(Debug)]
pub struct IndexContext {
    data_dir: PathBuf,
    /// Whether the absence of an index was logged already.
    told_absent: AtomicBool,
}

impl IndexContext {
    /// Context from the indexes under `data_dir` (as the indexer writes
    /// them, in `<data_dir>/index`).
    pub fn new(data_dir: &Path) -> IndexContext {
        IndexContext { data_dir: data_dir.to_path_buf(), told_absent: AtomicBool::new(false) }
    }
}

impl ContextSource for IndexContext {
    /// Asks the index only for context events (blocked requests, emails
    /// with a subject, searches), so a busy user's ordinary requests do not
    /// use up `limit`. With no index in the data folder (the indexer runs on
    /// another machine) the answer is empty, logged once at debug level.
    fn recent(
        &self,
        tenant: &str,
        who: Who<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Event>, ContextSourceError> {
        if !self.data_dir.join("index").is_dir() {
            if !self.told_absent.swap(true, Ordering::Relaxed) {
                tracing::debug!(
                    data_dir = %self.data_dir.display(),
                    "no search index here: alert context comes from the events this alerter has read"
                );
            }
            return Ok(Vec::new());
        }
        let request = SearchRequest {
            query: context_query(who),
            from: Some(from),
            // The request's end is exclusive, the contract's inclusive;
            // times are indexed to the millisecond.
            to: to.checked_add_signed(TimeDelta::milliseconds(1)),
            limit,
            tenant: Some(tenant.to_string()),
            user: None,
        };
        vigil_indexer::search(&self.data_dir, &request).map_err(|error| ContextSourceError { reason: reason(&error) })
    }
}

/// The events a user's or address's context shows.
const CONTEXT_EVENTS: &str = "(event.action:blocked OR email.subject:[0 TO *] OR search.query:[0 TO *])";
/// The events an account's or address's sign-in context shows.
const SIGN_INS: &str = "event.kind:auth";

/// The context events of `who`, in tantivy's query syntax. `[0 TO *]`
/// matches a text field holding any word: its words are runs of letters
/// and digits, and `0` sorts before every one of them (tantivy drops
/// `[* TO *]` as matching nothing in particular).
fn context_query(who: Who<'_>) -> String {
    let (field, value, events) = match who {
        Who::User(user) => ("user.name", user, CONTEXT_EVENTS),
        Who::Address(ip) => ("source.ip", ip, CONTEXT_EVENTS),
        Who::SignInsOf(user) => ("user.name", user, SIGN_INS),
        Who::SignInsFrom(ip) => ("source.ip", ip, SIGN_INS),
    };
    format!("{field}:{} AND {events}", vigil_indexer::quote_term(value))
}

/// What went wrong, without personal data (it is logged at warn level): a
/// refused query would carry the user's name, so only its kind is said.
fn reason(error: &IndexerError) -> String {
    match error {
        IndexerError::Query { .. } => "the search index refused the context query".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use vigil_core::shutdown::{channel, Phase};
    use vigil_core::transport::embedded::EmbeddedTransport;
    use vigil_core::transport::{Topic, Transport, INDEXER_GROUP};
    use vigil_core::{Config, EventKind, Outcome};

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 4, 10, minute, 0).unwrap()
    }

    fn event(id: &str, tenant: &str, user: Option<&str>, minute: u32, set: impl FnOnce(&mut Event)) -> Event {
        let mut e = Event::new(at(minute), EventKind::Proxy, "allowed", Outcome::Success, "squid", "squid", "raw");
        e.id = id.into();
        e.tenant = tenant.to_string().into();
        e.user_name = user.map(str::to_string);
        e.source_ip = Some("10.0.0.7".into());
        set(&mut e);
        e
    }

    fn searched(q: &str) -> impl FnOnce(&mut Event) + '_ {
        move |e| e.search_query = Some(q.into())
    }

    /// Indexes `events` into `data_dir` by running the indexer over them.
    async fn index(data_dir: &Path, events: &[Event]) {
        let text = format!("data_dir = {:?}\n[indexer]\ncommit_interval_secs = 3600\n", data_dir.display().to_string());
        let config = Config::from_toml(&text, "test", data_dir).unwrap();
        let transport = EmbeddedTransport::new(1000, &data_dir.join("dl.jsonl"), &[(Topic::Events, INDEXER_GROUP)]);
        for e in events {
            let _delivery = transport.producer().send(Topic::Events, b"k", e.to_json()).await.unwrap();
        }
        let (trigger, shutdown) = channel();
        trigger.set(Phase::Drain);
        vigil_indexer::run(&config, &transport, shutdown).await.unwrap();
    }

    fn ids(found: Result<Vec<Event>, ContextSourceError>) -> Vec<String> {
        found.unwrap().into_iter().map(|e| e.id).collect()
    }

    #[tokio::test]
    async fn the_index_answers_with_the_users_context_events_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let hostile = r#"o"brien\ (x:y) AND *"#;
        index(
            dir.path(),
            &[
                event("s1", "school-a", Some("L.Evans"), 0, searched("first")),
                event("plain", "school-a", Some("l.evans"), 1, |e| e.url_full = Some("https://bbc.co.uk/".into())),
                event("b1", "school-a", Some("l.evans"), 2, |e| e.action = "blocked".into()),
                event("m1", "school-a", Some("l.evans"), 3, |e| {
                    e.kind = EventKind::Email;
                    e.email_subject = Some("hello".into());
                }),
                event("s2", "school-a", Some("l.evans"), 4, searched("second")),
                event("other-user", "school-a", Some("r.jones"), 4, searched("x")),
                event("other-school", "school-b", Some("l.evans"), 4, searched("x")),
                event("h1", "school-a", Some(hostile), 5, searched("hostile")),
                event("h2", "school-a", Some("o"), 5, searched("near miss")),
                event("ip1", "school-a", None, 6, searched("by address")),
                event("a1", "school-a", Some("root"), 7, |e| e.kind = EventKind::Auth),
                event("a2", "school-a", Some("admin"), 8, |e| e.kind = EventKind::Auth),
            ],
        )
        .await;
        let source = IndexContext::new(dir.path());
        let recent = |who, from, to, limit| source.recent("school-a", who, at(from), at(to), limit);
        assert_eq!(ids(recent(Who::User("l.evans"), 0, 59, 10)), ["s2", "m1", "b1", "s1"], "context events only");
        assert_eq!(ids(recent(Who::User("l.evans"), 2, 3, 10)), ["m1", "b1"], "both ends inclusive");
        assert_eq!(ids(recent(Who::User("l.evans"), 0, 59, 2)), ["s2", "m1"]);
        assert_eq!(ids(recent(Who::User(hostile), 0, 59, 10)), ["h1"], "quotes, backslashes and syntax are literal");
        assert_eq!(ids(recent(Who::Address("10.0.0.7"), 6, 6, 10)), ["ip1"]);
        assert_eq!(ids(recent(Who::SignInsFrom("10.0.0.7"), 0, 59, 10)), ["a2", "a1"], "sign-ins, whoever tried");
        assert_eq!(ids(recent(Who::SignInsOf("root"), 0, 59, 10)), ["a1"]);
        assert_eq!(ids(source.recent("school-b", Who::User("l.evans"), at(0), at(59), 10)), ["other-school"]);
        let err = source.recent("../x", Who::User("l.evans"), at(0), at(59), 10).unwrap_err().to_string();
        assert!(err.contains("is not allowed"), "{err}");
    }

    #[test]
    fn without_an_index_the_answer_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let source = IndexContext::new(dir.path());
        for _ in 0..2 {
            assert_eq!(ids(source.recent("school-a", Who::User("l.evans"), at(0), at(59), 10)), Vec::<String>::new());
        }
        assert!(source.told_absent.load(Ordering::Relaxed));
    }
}
