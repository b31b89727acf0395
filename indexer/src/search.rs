//! Searching the daily indexes, newest events first.

use crate::error::IndexerError;
use crate::layout::{index_root, list_daily_indexes, open_existing, tenant_dir_name};
use crate::schema::{event_schema, field_names, to_tantivy_date, TIMESTAMP};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use std::ops::Bound;
use std::path::Path;
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParserError, RangeQuery};
use tantivy::{Order, ReloadPolicy, TantivyDocument, Term};
use vigil_core::Event;

/// One search over the indexed events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// Query in tantivy's syntax with the wire field names
    /// (`url.domain:example.com AND user.name:alice`); bare words must all
    /// appear in one of the default fields. Empty matches every event.
    pub query: String,
    /// Only events at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub to: Option<DateTime<Utc>>,
    /// At most this many events are returned.
    pub limit: usize,
    /// Only this tenant's events; every tenant's when `None`.
    pub tenant: Option<String>,
    /// Only this user's events (`user.name`, any case), whatever `query`
    /// says: how the console limits a DSL's search to an alert's pupil.
    pub user: Option<String>,
}

/// The events matching `request`, newest first. Only the daily indexes
/// overlapping `[from, to)` are opened, and older days are not read once
/// `limit` newer events are found.
pub fn search(data_dir: &Path, request: &SearchRequest) -> Result<Vec<Event>, IndexerError> {
    let query = build_query(request)?;
    let limit = request.limit;
    if limit == 0 {
        return Ok(Vec::new());
    }
    let root = index_root(data_dir);
    let tenant_dir = request.tenant.as_deref().map(tenant_dir_name).transpose()?;
    let mut keys = list_daily_indexes(&root, tenant_dir.as_deref())?;
    keys.retain(|k| overlaps(k.day, request.from, request.to));
    keys.sort_by_key(|k| std::cmp::Reverse(k.day));

    let mut hits = Vec::new();
    for same_day in keys.chunk_by(|a, b| a.day == b.day) {
        if hits.len() >= limit {
            break;
        }
        for key in same_day {
            hits.extend(search_index(&key.path(&root), query.as_ref(), limit)?);
        }
    }
    hits.sort_by(|a: &Event, b: &Event| b.timestamp.cmp(&a.timestamp).then_with(|| a.id.cmp(&b.id)));
    hits.truncate(limit);
    Ok(hits)
}

/// The user's query restricted to `[from, to)` and to `request.user`.
fn build_query(request: &SearchRequest) -> Result<Box<dyn Query>, IndexerError> {
    let text = request.query.trim();
    let parse = |text: &str| event_schema().query_parser().parse_query(text).map_err(|e| query_error(text, e));
    let typed: Box<dyn Query> = if text.is_empty() { Box::new(AllQuery) } else { lift_pure_exclusions(parse(text)?) };
    let mut clauses = vec![(Occur::Must, typed)];
    if let Some(user) = &request.user {
        clauses.push((Occur::Must, parse(&format!("user.name:{}", quote_term(user)))?));
    }
    if request.from.is_some() || request.to.is_some() {
        let term = |t| Term::from_field_date(event_schema().timestamp(), to_tantivy_date(t));
        let lower = request.from.map_or(Bound::Unbounded, |t| Bound::Included(term(t)));
        let upper = request.to.map_or(Bound::Unbounded, |t| Bound::Excluded(term(t)));
        clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
    }
    if clauses.len() == 1 {
        return Ok(clauses.pop().expect("one clause").1);
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

/// `value` as one quoted term of the query language, matched literally:
/// inside double quotes tantivy's query parser reads `\x` as `x`, so only
/// `\` and `"` need escaping; every other character (`:`, `*`, `(`,
/// spaces) is literal there. For building queries from log values
/// (`user.name:` + `quote_term(name)`).
pub fn quote_term(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// tantivy reads `a AND NOT b` as `+a +(-b)`, and a clause made only of
/// exclusions matches no document, so the whole query would find nothing —
/// a dangerous answer in an investigation. Such a clause is replaced by the
/// exclusions it holds: `+a -b`, which is what the user meant.
fn lift_pure_exclusions(query: Box<dyn Query>) -> Box<dyn Query> {
    let Some(boolean) = query.downcast_ref::<BooleanQuery>() else { return query };
    let mut clauses = Vec::new();
    for (occur, sub) in boolean.clauses() {
        let sub = lift_pure_exclusions(sub.box_clone());
        let exclusions = sub
            .downcast_ref::<BooleanQuery>()
            .filter(|inner| !inner.clauses().is_empty() && inner.clauses().iter().all(|(o, _)| *o == Occur::MustNot));
        match exclusions {
            Some(inner) if *occur == Occur::Must => {
                clauses.extend(inner.clauses().iter().map(|(o, q)| (*o, q.box_clone())));
            }
            _ => clauses.push((*occur, sub)),
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

fn query_error(query: &str, error: QueryParserError) -> IndexerError {
    let reason = match error {
        QueryParserError::FieldDoesNotExist(name) | QueryParserError::FieldNotIndexed(name) => {
            format!("there is no field {name:?}; searchable fields are: {}", field_names().join(", "))
        }
        QueryParserError::ExpectedInt(_) => "a number field was given something other than a whole number".to_string(),
        QueryParserError::DateFormatError(_) => {
            "@timestamp values must be RFC 3339 times such as 2026-03-04T00:00:00Z".to_string()
        }
        other => other.to_string(),
    };
    IndexerError::Query { query: query.to_string(), reason }
}

/// A time as users type one for a search's range: RFC 3339
/// (`2026-03-04T10:00:00Z`), a date (`2026-03-04`, midnight UTC), or a
/// date and time without a zone (`2026-03-04T10:00`, as a browser's
/// date-time field sends it; UTC). The error says which forms work.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("{text:?} is not a time: use RFC 3339 (2026-03-04T10:00:00Z) or a date (2026-03-04)"))
}

/// Whether the UTC day `day` overlaps `[from, to)`.
fn overlaps(day: NaiveDate, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> bool {
    let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
    let end = start + TimeDelta::days(1);
    from.is_none_or(|f| end > f) && to.is_none_or(|t| start < t)
}

/// The newest `limit` events of one daily index matching `query`.
fn search_index(path: &Path, query: &dyn Query, limit: usize) -> Result<Vec<Event>, IndexerError> {
    let tantivy_err = |source| IndexerError::Index { path: path.to_path_buf(), source };
    let Some(index) = open_existing(path)? else { return Ok(Vec::new()) };
    let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(tantivy_err)?;
    let searcher = reader.searcher();
    let newest = TopDocs::with_limit(limit).order_by_fast_field::<tantivy::DateTime>(TIMESTAMP, Order::Desc);
    let top = searcher.search(query, &newest).map_err(tantivy_err)?;
    top.into_iter()
        .map(|(_, address)| {
            let doc: TantivyDocument = searcher.doc(address).map_err(tantivy_err)?;
            event_schema()
                .event(&doc)
                .map_err(|reason| IndexerError::CorruptDocument { path: path.to_path_buf(), reason })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{event_at, index_events};
    use vigil_core::EventKind;

    /// Five events over three days and two tenants, oldest first.
    fn corpus() -> Vec<Event> {
        let mut late = event_at("2026-03-03T23:59:59.500Z", "school-a");
        late.url_domain = Some("example.com".into());
        late.http_status = Some(404);
        let mut blocked = event_at("2026-03-04T09:00:00Z", "school-a");
        blocked.user_name = Some("Alice".into());
        blocked.url_domain = Some("example.com".into());
        blocked.url_full = Some("https://example.com/games/online".into());
        blocked.http_status = Some(403);
        let mut searched = event_at("2026-03-04T10:00:00Z", "school-a");
        searched.user_name = Some("bob".into());
        searched.url_domain = Some("www.google.com".into());
        searched.search_query = Some("how to make friends".into());
        searched.http_status = Some(200);
        let mut mail = event_at("2026-03-05T08:00:00Z", "school-a");
        mail.kind = EventKind::Email;
        mail.email_subject = Some("Trip letter".into());
        let mut login = event_at("2026-03-05T11:00:00Z", "school-b");
        login.kind = EventKind::Auth;
        login.user_name = Some("alice".into());
        vec![late, blocked, searched, mail, login]
    }

    fn request(query: &str) -> SearchRequest {
        SearchRequest { query: query.into(), from: None, to: None, limit: 100, tenant: None, user: None }
    }

    /// Runs `req` over a fresh index of `corpus()` and returns the positions
    /// in the corpus of the events found, in result order.
    fn found(req: &SearchRequest) -> Vec<usize> {
        let dir = tempfile::tempdir().unwrap();
        let events = corpus();
        index_events(dir.path(), &events);
        let hits = search(dir.path(), req).unwrap();
        hits.iter().map(|h| events.iter().position(|e| e == h).expect("search returns the exact event")).collect()
    }

    #[test]
    fn field_queries_as_users_type_them_find_the_right_events_newest_first() {
        let cases: &[(&str, &[usize])] = &[
            ("event.kind:proxy", &[2, 1, 0]),
            ("url.domain:example.com", &[1, 0]),
            ("user.name:alice", &[4, 1]),
            ("user.name:ALICE AND event.kind:auth", &[4]),
            ("search.query:\"how to\"", &[2]),
            ("search.query:\"to how\"", &[]),
            ("http.response.status_code:[400 TO 499]", &[1, 0]),
            ("@timestamp:[2026-03-04T00:00:00Z TO 2026-03-05T00:00:00Z]", &[2, 1]),
            ("tenant:school-b", &[4]),
            ("friends", &[2]),
            ("games online", &[1]),
            ("games friends", &[]),
            ("email.subject:trip", &[3]),
            ("event.kind:proxy AND NOT url.domain:example.com", &[2]),
            ("event.kind:proxy NOT url.domain:example.com", &[2]),
            ("event.kind:proxy -url.domain:example.com", &[2]),
            ("user.name:alice AND NOT (event.kind:auth OR tenant:school-b)", &[1]),
        ];
        for (query, expected) in cases {
            assert_eq!(found(&request(query)), *expected, "query {query}");
        }
    }

    #[test]
    fn results_are_newest_first_across_days_and_tenants_and_limited() {
        assert_eq!(found(&request("")), [4, 3, 2, 1, 0]);
        assert_eq!(found(&SearchRequest { limit: 2, ..request("") }), [4, 3]);
        assert_eq!(found(&SearchRequest { limit: 0, ..request("") }), Vec::<usize>::new());
    }

    #[test]
    fn from_is_inclusive_to_is_exclusive() {
        let req = SearchRequest {
            from: Some("2026-03-04T09:00:00Z".parse().unwrap()),
            to: Some("2026-03-05T08:00:00Z".parse().unwrap()),
            ..request("")
        };
        assert_eq!(found(&req), [2, 1]);
        let sub_second = SearchRequest {
            from: Some("2026-03-03T23:59:59.400Z".parse().unwrap()),
            to: None,
            ..request("url.domain:example.com")
        };
        assert_eq!(found(&sub_second), [1, 0]);
    }

    #[test]
    fn tenant_limits_the_search_to_that_tenants_indexes() {
        assert_eq!(found(&SearchRequest { tenant: Some("school-b".into()), ..request("") }), [4]);
        assert_eq!(found(&SearchRequest { tenant: Some("nobody".into()), ..request("") }), Vec::<usize>::new());
        let dir = tempfile::tempdir().unwrap();
        let err = search(dir.path(), &SearchRequest { tenant: Some("../school-a".into()), ..request("") }).unwrap_err();
        assert!(matches!(err, IndexerError::InvalidTenant { .. }), "{err}");
    }

    #[test]
    fn times_are_read_as_rfc3339_dates_or_zone_less_utc() {
        let utc = |t: &str| parse_time(t).unwrap().to_rfc3339();
        assert_eq!(utc("2026-03-04"), "2026-03-04T00:00:00+00:00");
        assert_eq!(utc("2026-03-04T10:00:00+01:00"), "2026-03-04T09:00:00+00:00");
        assert_eq!(utc("2026-03-04T10:00"), "2026-03-04T10:00:00+00:00");
        assert_eq!(utc(" 2026-03-04T10:00:30 "), "2026-03-04T10:00:30+00:00");
        assert!(parse_time("yesterday").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn a_user_restriction_holds_whatever_the_query_says() {
        let only_alice = |query: &str| SearchRequest { user: Some("alice".into()), ..request(query) };
        assert_eq!(found(&only_alice("")), [4, 1], "any case");
        assert_eq!(found(&only_alice("user.name:bob")), Vec::<usize>::new());
        assert_eq!(found(&only_alice("user.name:bob OR event.kind:auth")), [4]);
        assert_eq!(found(&only_alice("event.kind:proxy NOT user.name:alice")), Vec::<usize>::new());
        let hostile = SearchRequest { user: Some(r#"x" OR user.name:"bob"#.into()), ..request("") };
        assert_eq!(found(&hostile), Vec::<usize>::new(), "the name is one literal term");
    }

    #[test]
    fn an_unknown_field_is_named_with_the_valid_ones() {
        let dir = tempfile::tempdir().unwrap();
        let err = search(dir.path(), &request("colour:red")).unwrap_err().to_string();
        assert!(err.contains("\"colour\"") && err.contains("url.domain") && err.contains("@timestamp"), "{err}");
        let err = search(dir.path(), &request("_source:x")).unwrap_err().to_string();
        assert!(err.contains("\"_source\"") && err.contains("searchable fields"), "{err}");
    }

    #[test]
    fn malformed_queries_are_reported_not_run() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("http.response.status_code:abc", "whole number"),
            ("@timestamp:[yesterday TO now]", "RFC 3339"),
            ("url.domain.sub:x", "no field \"url.domain.sub\""),
        ];
        for (query, says) in cases {
            let err = search(dir.path(), &request(query)).unwrap_err();
            assert!(matches!(err, IndexerError::Query { .. }) && err.to_string().contains(says), "{query}: {err}");
        }
    }
}
