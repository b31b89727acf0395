//! The alert inbox: alerts by status, severity and category; one alert with
//! its context, the user's other recent alerts and a link to their events;
//! acknowledge, assign, record an outcome, add a note. Every view and change
//! is audited.

use crate::access::{self, visible_alert};
use crate::auth::Session;
use crate::error::{ApiError, PageError};
use crate::{page, Console, ConsoleError};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use vigil_core::config::Severity;
use vigil_store::{AlertFilter, AlertRecord, Note, Outcome, Status};

/// The inbox shows at most this many alerts.
pub const INBOX_LIMIT: usize = 500;
/// An alert's page lists at most this many other alerts of its user.
pub const OTHER_ALERTS: usize = 10;

/// The inbox's filters, as the query string gives them (empty means any).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct InboxQuery {
    /// `new`, `acknowledged` or `closed`.
    #[serde(default)]
    pub status: String,
    /// `low` … `critical`.
    #[serde(default)]
    pub severity: String,
    /// A category id.
    #[serde(default)]
    pub category: String,
}

fn parse_severity(name: &str) -> Option<Severity> {
    [Severity::Low, Severity::Medium, Severity::High, Severity::Critical].into_iter().find(|s| s.as_str() == name)
}

/// The alerts `session` may see that `query` selects, newest first.
pub fn inbox(console: &Console, session: &Session, query: &InboxQuery) -> Result<Vec<AlertRecord>, ConsoleError> {
    access::require_inbox(&session.account)?;
    let named = |value: &str, parsed: Option<()>, what: &str| match (value.is_empty(), parsed) {
        (false, None) => Err(ConsoleError::BadRequest(format!("{value:?} is not a {what}"))),
        _ => Ok(()),
    };
    let status = Status::parse(&query.status);
    named(&query.status, status.map(|_| ()), "status (new, acknowledged, closed)")?;
    let severity = parse_severity(&query.severity);
    named(&query.severity, severity.map(|_| ()), "severity (low, medium, high, critical)")?;
    let filter = AlertFilter {
        tenants: session.account.tenants.clone(),
        audiences: access::audiences(&session.account),
        status,
        severity,
        category: Some(query.category.clone()).filter(|c| !c.is_empty()),
        user_name: None,
        limit: INBOX_LIMIT,
    };
    Ok(console.store().alerts(&filter)?)
}

/// One alert with what its page shows.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    /// The alert and its handling.
    pub alert: AlertRecord,
    /// Its notes, oldest first.
    pub notes: Vec<Note>,
    /// The same user's other alerts that the account may see, newest first.
    pub others: Vec<AlertRecord>,
}

/// Alert `id` for `session`, audited as viewed.
pub fn view(console: &Console, session: &Session, id: &str) -> Result<AlertView, ConsoleError> {
    let alert = visible_alert(&session.account, console.store().alert(id)?, id)?;
    let others = match &alert.alert.user_name {
        Some(user) => {
            let filter = AlertFilter {
                tenants: vigil_store::TenantScope::Only(vec![alert.alert.tenant.clone()]),
                audiences: access::audiences(&session.account),
                status: None,
                severity: None,
                category: None,
                user_name: Some(user.clone()),
                limit: OTHER_ALERTS + 1,
            };
            let mut others = console.store().alerts(&filter)?;
            others.retain(|a| a.alert.id != alert.alert.id);
            others.truncate(OTHER_ALERTS);
            others
        }
        None => Vec::new(),
    };
    let notes = console.store().notes(id)?;
    console.store().audit(&session.audit_entry("view-alert", Some(&alert.alert.tenant), Some(id), String::new()))?;
    Ok(AlertView { alert, notes, others })
}

/// A change to an alert, as a form or a JSON body gives it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActForm {
    /// For `assign`: the account to assign to (empty: nobody).
    #[serde(default)]
    pub assignee: String,
    /// For `outcome`: `concern-logged`, `no-concern`, `false-positive`,
    /// `referred`.
    #[serde(default)]
    pub outcome: String,
    /// For `outcome`: why (required for a false positive).
    #[serde(default)]
    pub reason: String,
    /// For `note`: the note.
    #[serde(default)]
    pub text: String,
}

/// Applies `action` (`acknowledge`, `assign`, `outcome`, `note`) to alert
/// `id` for `session`, audited.
pub fn act(console: &Console, session: &Session, id: &str, action: &str, form: &ActForm) -> Result<(), ConsoleError> {
    let alert = visible_alert(&session.account, console.store().alert(id)?, id)?;
    let store = console.store();
    let by = session.account.name.as_str();
    let now = Utc::now();
    let detail = match action {
        "acknowledge" => {
            store.acknowledge(id, by, now)?;
            String::new()
        }
        "assign" => {
            let assignee = Some(form.assignee.trim()).filter(|a| !a.is_empty());
            if let Some(name) = assignee {
                let known = store.account_by_name(name)?.is_some_and(|a| access::may_see_alert(&a, &alert));
                if !known {
                    return Err(ConsoleError::BadRequest(format!("{name:?} is not an account that sees this alert")));
                }
            }
            store.assign(id, assignee)?;
            format!("assigned to {}", assignee.unwrap_or("nobody"))
        }
        "outcome" => {
            let outcome = Outcome::parse(&form.outcome).ok_or_else(|| {
                let names: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
                ConsoleError::BadRequest(format!("choose an outcome: {}", names.join(", ")))
            })?;
            store.record_outcome(id, outcome, Some(&form.reason), by, now)?;
            outcome.as_str().to_string()
        }
        "note" => {
            let text = form.text.trim();
            if text.is_empty() {
                return Err(ConsoleError::BadRequest("the note is empty".into()));
            }
            store.add_note(id, by, text, now)?;
            String::new()
        }
        other => return Err(ConsoleError::NotFound(format!("there is no action {other:?} on alerts"))),
    };
    store.audit(&session.audit_entry(action, Some(&alert.alert.tenant), Some(id), detail))?;
    Ok(())
}

/// `GET /alerts`: the inbox.
pub async fn inbox_page(
    State(console): State<Console>,
    session: Session,
    Query(query): Query<InboxQuery>,
) -> Result<Response, PageError> {
    let alerts = inbox(&console, &session, &query)?;
    Ok(page::inbox(&session, &query, &alerts).into_response())
}

/// `GET /api/alerts`: the inbox as JSON.
pub async fn inbox_api(
    State(console): State<Console>,
    session: Session,
    Query(query): Query<InboxQuery>,
) -> Result<Json<Vec<AlertRecord>>, ApiError> {
    Ok(Json(inbox(&console, &session, &query)?))
}

/// `GET /alerts/{id}`: one alert.
pub async fn alert_page(
    State(console): State<Console>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let view = view(&console, &session, &id)?;
    Ok(page::alert(&session, &view).into_response())
}

/// `GET /api/alerts/{id}`: one alert as JSON.
pub async fn alert_api(
    State(console): State<Console>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<AlertView>, ApiError> {
    Ok(Json(view(&console, &session, &id)?))
}

/// `POST /alerts/{id}/{action}`: a change from the alert's page; back to it.
pub async fn act_form(
    State(console): State<Console>,
    session: Session,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActForm>,
) -> Result<Response, PageError> {
    act(&console, &session, &id, &action, &form)?;
    Ok(Redirect::to(&format!("/alerts/{id}")).into_response())
}

/// `POST /api/alerts/{id}/{action}`: a change; answers the alert as it now is.
pub async fn act_api(
    State(console): State<Console>,
    session: Session,
    Path((id, action)): Path<(String, String)>,
    Json(form): Json<ActForm>,
) -> Result<Json<AlertRecord>, ApiError> {
    act(&console, &session, &id, &action, &form)?;
    let alert = console.store().alert(&id)?.ok_or_else(|| access::not_found_alert(&id))?;
    Ok(Json(alert))
}
