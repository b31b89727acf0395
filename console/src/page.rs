//! The console's HTML: one layout, one page function per screen. maud
//! escapes every value it interpolates, and log content reaches the page
//! only that way, so a log line holding `<script>` is shown as text. No
//! page has script or inline style; the security headers forbid both.

use crate::alerts::{AlertView, InboxQuery};
use crate::audit::AuditForm;
use crate::auth::Session;
use crate::chart;
use crate::events::{as_json, field_text};
use crate::search::{SearchForm, SearchResults, PAGE};
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};
use vigil_core::Event;
use vigil_store::{Account, AlertRecord, AuditRecord, Outcome, Role, Status};

/// The Content-Security-Policy of every answer: nothing but the console's
/// own stylesheet and forms; no script at all.
pub const CSP: &str =
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to every answer: the CSP, no sniffing, no
/// referrer, no framing, and no caching (pages hold pupil data).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.entry(CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// `GET /static/console.css`.
pub async fn stylesheet() -> Response {
    let headers = [(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "max-age=3600")];
    (headers, include_str!("console.css")).into_response()
}

/// `GET /`: where each role starts.
pub async fn home(session: Session) -> Response {
    let account = &session.account;
    if account.has(Role::Dsl) || account.has(Role::Ict) {
        Redirect::to("/alerts").into_response()
    } else if account.has(Role::Admin) {
        Redirect::to("/audit").into_response()
    } else {
        layout(
            Some(&session),
            "Governors",
            html! {
                p { "Governors' reports (filtering and monitoring evidence, aggregates only) are produced by the reporter. The console shows governors no pupil data." }
            },
        )
        .into_response()
    }
}

/// `segment` made safe as one segment of a URL path.
fn segment(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An RFC 3339 time from a log record as [`time`] shows times; anything
/// else as it is.
fn shown_time(text: &str) -> String {
    DateTime::parse_from_rfc3339(text).map_or_else(|_| text.to_string(), |t| time(t.with_timezone(&Utc)))
}

fn layout(session: Option<&Session>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Vigil" }
                link rel="stylesheet" href="/static/console.css";
            }
            body {
                header {
                    span.brand { "Vigil" }
                    @if let Some(session) = session {
                        nav {
                            @let account = &session.account;
                            @if account.has(Role::Dsl) || account.has(Role::Ict) { a href="/alerts" { "Alerts" } }
                            @if account.has(Role::Ict) { a href="/search" { "Search" } }
                            @if account.has(Role::Admin) { a href="/audit" { "Audit" } a href="/users" { "Accounts" } }
                        }
                        form.signout method="post" action="/logout" {
                            (csrf(session))
                            span.who { (session.account.name) }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// A page with one message (errors).
pub fn message_page(title: &str, message: &str) -> Markup {
    layout(None, title, html! { p.message { (message) } p { a href="/" { "Back to the console" } } })
}

/// The sign-in form.
pub fn login(token: &str, problem: Option<&str>) -> Markup {
    layout(
        None,
        "Sign in",
        html! {
            @if let Some(problem) = problem { p.message { (problem) } }
            form.login method="post" action="/login" {
                input type="hidden" name="login_token" value=(token);
                label { "Name" input name="name" autocomplete="username" required; }
                label { "Password" input name="password" type="password" autocomplete="current-password" required; }
                button type="submit" { "Sign in" }
            }
        },
    )
}

fn status_label(status: Status) -> &'static str {
    match status {
        Status::New => "New",
        Status::Acknowledged => "Acknowledged",
        Status::Closed => "Closed",
    }
}

fn alert_rows(alerts: &[AlertRecord]) -> Markup {
    html! {
        table.alerts {
            thead { tr { th { "Time" } th { "Severity" } th { "Category" } th { "About" } th { "School" } th { "Status" } th { "Assigned" } } }
            tbody {
                @for a in alerts {
                    tr class=(format!("severity-{}", a.alert.severity.as_str())) {
                        td { a href=(format!("/alerts/{}", segment(&a.alert.id))) { (time(a.alert.time)) } }
                        td { (a.alert.severity.as_str()) }
                        td { (a.alert.category) }
                        td { (a.alert.subject.as_deref().unwrap_or("")) }
                        td { (a.alert.tenant) }
                        td { (status_label(a.status)) }
                        td { (a.assignee.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
}

fn select(name: &str, label: &str, options: &[&str], chosen: &str) -> Markup {
    html! {
        label { (label)
            select name=(name) {
                option value="" selected[chosen.is_empty()] { "any" }
                @for o in options { option value=(o) selected[*o == chosen] { (o) } }
            }
        }
    }
}

/// The inbox.
pub fn inbox(session: &Session, query: &InboxQuery, alerts: &[AlertRecord]) -> Markup {
    layout(
        Some(session),
        "Alerts",
        html! {
            form.filters method="get" action="/alerts" {
                (select("status", "Status", &["new", "acknowledged", "closed"], &query.status))
                (select("severity", "Severity", &["critical", "high", "medium", "low"], &query.severity))
                label { "Category" input name="category" value=(query.category); }
                button type="submit" { "Filter" }
            }
            @if alerts.is_empty() { p { "No alerts." } } @else { (alert_rows(alerts)) }
        },
    )
}

fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One alert: details, context, the user's other alerts, its handling.
pub fn alert(session: &Session, view: &AlertView) -> Markup {
    let a = &view.alert;
    let details: Vec<(&String, &serde_json::Value)> = a
        .alert
        .detail
        .as_object()
        .map(|o| o.iter().filter(|(k, _)| *k != "alert.context").collect())
        .unwrap_or_default();
    let context = a.alert.context.as_array().cloned().unwrap_or_default();
    let title = format!(
        "{} {}: {}",
        a.alert.severity.as_str(),
        a.alert.category,
        a.alert.subject.as_deref().unwrap_or("unknown")
    );
    layout(
        Some(session),
        &title,
        html! {
            @if let Some(description) = a.alert.detail.get("rule.description").and_then(|d| d.as_str()) {
                p.description { (description) }
            }
            p.summary { "Matched " (a.alert.summary) }
            p.state {
                "Status: " strong.status { (status_label(a.status)) }
                @if let (Some(by), Some(at)) = (&a.acknowledged_by, a.acknowledged_at) { " · acknowledged by " (by) " at " (time(at)) }
                @if let Some(outcome) = a.outcome { " · outcome: " strong.outcome { (outcome.label()) } }
                @if let Some(reason) = &a.outcome_reason { " (" (reason) ")" }
                @if let Some(assignee) = &a.assignee { " · assigned to " (assignee) }
            }
            section.actions {
                @if a.status == Status::New {
                    form method="post" action=(format!("/alerts/{}/acknowledge", segment(&a.alert.id))) {
                        (csrf(session)) button type="submit" name="do" value="acknowledge" { "Acknowledge" }
                    }
                }
                form method="post" action=(format!("/alerts/{}/assign", segment(&a.alert.id))) {
                    (csrf(session))
                    label { "Assign to" input name="assignee" value=(a.assignee.as_deref().unwrap_or("")); }
                    button type="submit" { "Assign" }
                }
                @if a.status != Status::Closed {
                    form method="post" action=(format!("/alerts/{}/outcome", segment(&a.alert.id))) {
                        (csrf(session))
                        label { "Outcome"
                            select name="outcome" { @for o in Outcome::ALL { option value=(o.as_str()) { (o.label()) } } }
                        }
                        label { "Reason" input name="reason"; }
                        button type="submit" { "Record outcome" }
                    }
                }
                @if a.alert.user_name.is_some() {
                    form method="post" action="/search" {
                        (csrf(session))
                        input type="hidden" name="alert" value=(a.alert.id);
                        button type="submit" { "Search this user's events" }
                    }
                }
            }
            h2 { "What they did around it" }
            table.context {
                thead { tr { th { "Time" } th { "What" } th { "Text" } th { "Filter" } } }
                tbody {
                    @for entry in &context {
                        @let get = |k: &str| entry.get(k).map(json_text).unwrap_or_default();
                        tr class=[entry.get("alert.event").and_then(|v| v.as_bool()).filter(|b| *b).map(|_| "alert-event")] {
                            td { (shown_time(&get("@timestamp"))) }
                            td { (get("kind")) @if get("times").parse::<u32>().is_ok_and(|n| n > 1) { " ×" (get("times")) } }
                            td { (get("text")) }
                            td { @if entry.get("blocked").and_then(|v| v.as_bool()) == Some(true) { "blocked " } (get("filter.category")) }
                        }
                    }
                }
            }
            h2 { "Details" }
            table.details { tbody { @for (k, v) in &details { tr { th { (k) } td { (json_text(v)) } } } } }
            h2 { "Their other recent alerts" }
            @if view.others.is_empty() { p { "None." } } @else { (alert_rows(&view.others)) }
            h2 { "Notes" }
            @for note in &view.notes { div.note { p.meta { (note.author) " · " (time(note.at)) } p { (note.text) } } }
            form method="post" action=(format!("/alerts/{}/note", segment(&a.alert.id))) {
                (csrf(session))
                label { "Add a note" textarea name="text" rows="3" {} }
                button type="submit" { "Add note" }
            }
        },
    )
}

fn hidden_search(session: &Session, form: &SearchForm) -> Markup {
    html! {
        (csrf(session))
        input type="hidden" name="from" value=(form.from);
        input type="hidden" name="to" value=(form.to);
        input type="hidden" name="alert" value=(form.alert);
        input type="hidden" name="tenant" value=(form.tenant);
    }
}

/// A value that searches for itself when clicked (a POST: the value stays
/// out of the URL).
fn pivot(session: &Session, form: &SearchForm, field: &str, value: &str) -> Markup {
    if value.is_empty() {
        return html! {};
    }
    html! {
        form.pivot method="post" action="/search" {
            (hidden_search(session, form))
            input type="hidden" name="q" value=(format!("{field}:{}", vigil_indexer::quote_term(value)));
            button type="submit" title=(format!("Search {field}")) { (value) }
        }
    }
}

fn what(event: &serde_json::Map<String, serde_json::Value>) -> String {
    ["search.query", "url.full", "email.subject", "event.reason", "message"]
        .iter()
        .map(|f| field_text(event, f))
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

/// The search form and, after a search, its results.
pub fn search(session: &Session, results: Option<&SearchResults>) -> Markup {
    let empty = SearchForm::default();
    let form = results.map_or(&empty, |r| &r.form);
    let alert_query =
        results.and_then(|r| r.alert.as_ref()).map(|a| format!("?alert={}", segment(&a.alert.id))).unwrap_or_default();
    layout(
        Some(session),
        "Search",
        html! {
            @if let Some(alert) = results.and_then(|r| r.alert.as_ref()) {
                p.scope { "Limited to the events of " strong { (alert.alert.user_name.as_deref().unwrap_or("")) } " at " (alert.alert.tenant) ", from "
                    a href=(format!("/alerts/{}", segment(&alert.alert.id))) { "their alert" } "." }
            }
            form.query method="post" action="/search" {
                (csrf(session))
                input type="hidden" name="alert" value=(form.alert);
                label.q { "Query" input name="q" value=(form.q) placeholder="user.name:l.evans AND event.kind:proxy"; }
                label { "From" input name="from" type="datetime-local" value=(form.from); }
                label { "To" input name="to" type="datetime-local" value=(form.to); }
                button type="submit" { "Search" }
            }
            @if let Some(results) = results {
                p.count { (results.found) @if results.capped { "+" } " hits" @if results.capped { " (the newest shown)" } }
                (chart::svg(&results.histogram))
                table.events {
                    thead { tr { th { "Time" } th { "Kind" } th { "Action" } th { "User" } th { "Address" } th { "Device" } th { "Domain" } th { "What" } } }
                    tbody {
                        @for event in &results.events {
                            @let map = as_json(event);
                            tr {
                                td { a href=(format!("/events/{}/{}{alert_query}", segment(&event.tenant), segment(&event.id))) { (time(event.timestamp)) } }
                                td { (field_text(&map, "event.kind")) }
                                td { (field_text(&map, "event.action")) }
                                td { (pivot(session, form, "user.name", &field_text(&map, "user.name"))) }
                                td { (pivot(session, form, "source.ip", &field_text(&map, "source.ip"))) }
                                td { (pivot(session, form, "device.name", &field_text(&map, "device.name"))) }
                                td { (pivot(session, form, "url.domain", &field_text(&map, "url.domain"))) }
                                td.what { (what(&map)) }
                            }
                        }
                    }
                }
                nav.pages {
                    @if form.offset > 0 { (page_button(session, form, form.offset.saturating_sub(PAGE), "Newer")) }
                    @if form.offset + PAGE < results.found { (page_button(session, form, form.offset + PAGE, "Older")) }
                }
                form.export method="post" action="/search/export" {
                    (hidden_search(session, form))
                    input type="hidden" name="q" value=(form.q);
                    button type="submit" name="format" value="csv" { "Export CSV" }
                    button type="submit" name="format" value="ndjson" { "Export NDJSON" }
                }
            }
        },
    )
}

fn page_button(session: &Session, form: &SearchForm, offset: usize, label: &str) -> Markup {
    html! {
        form method="post" action="/search" {
            (hidden_search(session, form))
            input type="hidden" name="q" value=(form.q);
            input type="hidden" name="offset" value=(offset);
            button type="submit" { (label) }
        }
    }
}

/// One event: every field, and the raw message as logged.
pub fn event(session: &Session, event: &Event, alert: Option<&AlertRecord>) -> Markup {
    let map = as_json(event);
    layout(
        Some(session),
        "Event",
        html! {
            @if let Some(alert) = alert { p { a href=(format!("/alerts/{}", segment(&alert.alert.id))) { "Back to the alert" } } }
            table.details { tbody { @for (k, _) in &map { @if k != "message" { tr { th { (k) } td { (field_text(&map, k)) } } } } } }
            h2 { "As logged" }
            pre.raw { (event.message) }
        },
    )
}

/// The audit trail.
pub fn audit(session: &Session, form: &AuditForm, records: &[AuditRecord]) -> Markup {
    layout(
        Some(session),
        "Audit trail",
        html! {
            form.filters method="post" action="/audit" {
                (csrf(session))
                label { "Account" input name="actor" value=(form.actor); }
                label { "Action" input name="action" value=(form.action); }
                label { "Mentions" input name="contains" value=(form.contains); }
                button type="submit" { "Filter" }
            }
            table.audit {
                thead { tr { th { "Time" } th { "Account" } th { "From" } th { "Action" } th { "School" } th { "Target" } th { "Detail" } } }
                tbody {
                    @for r in records {
                        tr {
                            td { (time(r.entry.at)) } td { (r.entry.actor) } td { (r.entry.address) } td { (r.entry.action) }
                            td { (r.entry.tenant.as_deref().unwrap_or("")) } td { (r.entry.target.as_deref().unwrap_or("")) } td { (r.entry.detail) }
                        }
                    }
                }
            }
        },
    )
}

/// The accounts.
pub fn users(session: &Session, accounts: &[Account]) -> Markup {
    layout(
        Some(session),
        "Accounts",
        html! {
            p { "Accounts are added and changed on the server with " code { "vigil users" } "." }
            table.users {
                thead { tr { th { "Name" } th { "Roles" } th { "Schools" } th { "State" } } }
                tbody {
                    @for a in accounts {
                        tr {
                            td { (a.name) }
                            td { (a.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")) }
                            td { (a.tenants.to_text()) }
                            td { @if a.disabled { "disabled" } @else { "active" } }
                        }
                    }
                }
            }
        },
    )
}
