//! Search: the query language of `vigil search`, a time range, newest
//! first, pages of [`PAGE`], a histogram of the hits; one event's page with
//! its raw message; bounded CSV and NDJSON export. Queries travel in POST
//! bodies, never in URLs (which end up in browser histories and proxy logs);
//! an event's page is addressed by ids alone.

use crate::access::{self, visible_alert, SearchScope};
use crate::auth::Session;
use crate::chart::{histogram, Bucket};
use crate::error::{ApiError, PageError};
use crate::{events, page, Console, ConsoleError};
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vigil_core::Event;
use vigil_store::AlertRecord;

/// Results per page.
pub const PAGE: usize = 50;
/// At most this many hits (the newest) are fetched for a search: its pages
/// and its histogram.
pub const HIT_CAP: usize = 2_000;
/// At most this many events are exported.
pub const EXPORT_MAX: usize = 10_000;
/// Bars in the histogram.
const BUCKETS: usize = 30;

/// A search as the form or the API gives it (empty means none).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SearchForm {
    /// The query (`vigil search`'s language); empty matches everything.
    #[serde(default)]
    pub q: String,
    /// Start of the range (inclusive).
    #[serde(default)]
    pub from: String,
    /// End of the range (exclusive).
    #[serde(default)]
    pub to: String,
    /// Hits to skip (paging).
    #[serde(default)]
    pub offset: usize,
    /// The alert whose user's events a DSL searches.
    #[serde(default)]
    pub alert: String,
    /// One of the account's tenants, to narrow to.
    #[serde(default)]
    pub tenant: String,
    /// For export: `csv` or `ndjson`.
    #[serde(default)]
    pub format: String,
}

/// What a search found.
#[derive(Debug, Clone)]
pub struct SearchResults {
    /// The search as asked.
    pub form: SearchForm,
    /// The alert it is limited to, if any.
    pub alert: Option<AlertRecord>,
    /// This page's events, newest first.
    pub events: Vec<Event>,
    /// Hits fetched (at most [`HIT_CAP`]).
    pub found: usize,
    /// Whether there may be more than `found`.
    pub capped: bool,
    /// Hits over time.
    pub histogram: Vec<Bucket>,
}

fn optional_time(text: &str, what: &str) -> Result<Option<DateTime<Utc>>, ConsoleError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    vigil_indexer::parse_time(text).map(Some).map_err(|e| ConsoleError::BadRequest(format!("{what}: {e}")))
}

/// The search's scope and its alert (one `session` may see), checked.
fn scope(
    console: &Console,
    session: &Session,
    form: &SearchForm,
) -> Result<(SearchScope, Option<AlertRecord>), ConsoleError> {
    let alert = match form.alert.trim() {
        "" => None,
        id => Some(visible_alert(&session.account, console.store().alert(id)?, id)?),
    };
    let tenant = Some(form.tenant.trim()).filter(|t| !t.is_empty());
    Ok((access::search_scope(&session.account, alert.as_ref(), tenant)?, alert))
}

/// Runs `form` for `session`, audited with its result count.
pub async fn run(console: &Console, session: &Session, form: SearchForm) -> Result<SearchResults, ConsoleError> {
    let (scope, alert) = scope(console, session, &form)?;
    let (from, to) = (optional_time(&form.from, "from")?, optional_time(&form.to, "to")?);
    let hits = events::search(console.data_dir(), &scope, &form.q, from, to, HIT_CAP).await?;
    let times: Vec<DateTime<Utc>> = hits.iter().map(|e| e.timestamp).collect();
    let detail = format!("query {:?} from {:?} to {:?}: {} results", form.q, form.from, form.to, hits.len());
    audit_search(console, session, "search", &scope, alert.as_ref(), detail)?;
    let page: Vec<Event> = hits.iter().skip(form.offset).take(PAGE).cloned().collect();
    Ok(SearchResults {
        alert,
        events: page,
        found: hits.len(),
        capped: hits.len() >= HIT_CAP,
        histogram: histogram(&times, from, to, BUCKETS),
        form,
    })
}

fn audit_search(
    console: &Console,
    session: &Session,
    action: &str,
    scope: &SearchScope,
    alert: Option<&AlertRecord>,
    detail: String,
) -> Result<(), ConsoleError> {
    let tenant = match scope.tenants.as_slice() {
        [Some(one)] => Some(one.as_str()),
        _ => None,
    };
    let entry = session.audit_entry(action, tenant, alert.map(|a| a.alert.id.as_str()), detail);
    Ok(console.store().audit(&entry)?)
}

/// `GET /search`: the empty form (a DSL's comes from an alert's page).
pub async fn search_page(session: Session) -> Result<Response, PageError> {
    access::search_scope(&session.account, None, None)?;
    Ok(page::search(&session, None).into_response())
}

/// `POST /search`: results.
pub async fn search_form(
    State(console): State<Console>,
    session: Session,
    Form(form): Form<SearchForm>,
) -> Result<Response, PageError> {
    let results = run(&console, &session, form).await?;
    Ok(page::search(&session, Some(&results)).into_response())
}

/// `POST /api/search`'s answer.
#[derive(Debug, Serialize)]
pub struct SearchAnswer {
    /// Hits fetched (at most [`HIT_CAP`]).
    pub found: usize,
    /// Whether there may be more.
    pub capped: bool,
    /// Hits skipped before `events`.
    pub offset: usize,
    /// This page's events, newest first, as JSON objects.
    pub events: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Hits over time.
    pub histogram: Vec<Bucket>,
}

/// `POST /api/search` (JSON [`SearchForm`]).
pub async fn search_api(
    State(console): State<Console>,
    session: Session,
    Json(form): Json<SearchForm>,
) -> Result<Json<SearchAnswer>, ApiError> {
    let results = run(&console, &session, form).await?;
    Ok(Json(SearchAnswer {
        found: results.found,
        capped: results.capped,
        offset: results.form.offset,
        events: results.events.iter().map(events::as_json).collect(),
        histogram: results.histogram,
    }))
}

/// The export of `form` for `session`: at most [`EXPORT_MAX`] events as CSV
/// or NDJSON, audited.
pub async fn export(console: &Console, session: &Session, form: &SearchForm) -> Result<Response, ConsoleError> {
    let (scope, alert) = scope(console, session, form)?;
    let (from, to) = (optional_time(&form.from, "from")?, optional_time(&form.to, "to")?);
    let (content_type, extension) = match form.format.as_str() {
        "csv" => ("text/csv; charset=utf-8", "csv"),
        "ndjson" => ("application/x-ndjson", "ndjson"),
        other => return Err(ConsoleError::BadRequest(format!("{other:?} is not an export format: csv or ndjson"))),
    };
    let hits = events::search(console.data_dir(), &scope, &form.q, from, to, EXPORT_MAX).await?;
    let body = if extension == "csv" { events::csv(&hits)? } else { events::ndjson(&hits) };
    let detail =
        format!("{extension} of query {:?} from {:?} to {:?}: {} events", form.q, form.from, form.to, hits.len());
    audit_search(console, session, "export", &scope, alert.as_ref(), detail)?;
    let disposition = format!("attachment; filename=\"vigil-export.{extension}\"");
    Ok(([(CONTENT_TYPE, content_type.to_string()), (CONTENT_DISPOSITION, disposition)], body).into_response())
}

/// `POST /search/export`.
pub async fn export_form(
    State(console): State<Console>,
    session: Session,
    Form(form): Form<SearchForm>,
) -> Result<Response, PageError> {
    Ok(export(&console, &session, &form).await?)
}

/// `POST /api/export` (JSON [`SearchForm`] with `format`).
pub async fn export_api(
    State(console): State<Console>,
    session: Session,
    Json(form): Json<SearchForm>,
) -> Result<Response, ApiError> {
    Ok(export(&console, &session, &form).await?)
}

/// An event page's query: the alert a DSL reached it from.
#[derive(Debug, Default, Deserialize)]
pub struct EventQuery {
    /// The alert id.
    #[serde(default)]
    pub alert: String,
}

/// Event `id` of `tenant` for `session`, audited as viewed.
pub async fn event(
    console: &Console,
    session: &Session,
    tenant: &str,
    id: &str,
    query: &EventQuery,
) -> Result<(Event, Option<AlertRecord>), ConsoleError> {
    let form = SearchForm { alert: query.alert.clone(), tenant: tenant.to_string(), ..SearchForm::default() };
    let (scope, alert) = scope(console, session, &form)?;
    let not_found = || ConsoleError::NotFound(format!("there is no event {id:?} that you may see"));
    if !scope.tenants.iter().any(|t| t.as_deref() == Some(tenant)) {
        return Err(not_found());
    }
    let event = events::find(console.data_dir(), tenant, id).await?.ok_or_else(not_found)?;
    let same_user = |user: &str| event.user_name.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(user));
    if scope.user.as_deref().is_some_and(|user| !same_user(user)) {
        return Err(not_found());
    }
    let entry = session.audit_entry("view-event", Some(tenant), Some(id), String::new());
    console.store().audit(&entry)?;
    Ok((event, alert))
}

/// `GET /events/{tenant}/{id}`: one event with its raw message.
pub async fn event_page(
    State(console): State<Console>,
    session: Session,
    Path((tenant, id)): Path<(String, String)>,
    Query(query): Query<EventQuery>,
) -> Result<Response, PageError> {
    let (event, alert) = event(&console, &session, &tenant, &id, &query).await?;
    Ok(page::event(&session, &event, alert.as_ref()).into_response())
}

/// `GET /api/events/{tenant}/{id}`: one event as JSON.
pub async fn event_api(
    State(console): State<Console>,
    session: Session,
    Path((tenant, id)): Path<(String, String)>,
    Query(query): Query<EventQuery>,
) -> Result<Json<serde_json::Map<String, serde_json::Value>>, ApiError> {
    let (event, _) = event(&console, &session, &tenant, &id, &query).await?;
    Ok(Json(events::as_json(&event)))
}
