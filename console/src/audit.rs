//! The administrator's pages: the audit trail (searchable by account,
//! action and text) and the accounts. Accounts are changed with `vigil
//! users`, on the server.

use crate::access;
use crate::auth::Session;
use crate::error::{ApiError, PageError};
use crate::{page, Console, ConsoleError};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use vigil_store::{AuditQuery, AuditRecord};

/// At most this many entries are listed.
pub const AUDIT_LIMIT: usize = 500;

/// The audit page's filters (empty means any).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AuditForm {
    /// Only this account's entries.
    #[serde(default)]
    pub actor: String,
    /// Only this action.
    #[serde(default)]
    pub action: String,
    /// Only entries mentioning this text.
    #[serde(default)]
    pub contains: String,
}

/// The entries `form` selects, newest first, for an administrator.
pub fn entries(console: &Console, session: &Session, form: &AuditForm) -> Result<Vec<AuditRecord>, ConsoleError> {
    access::require_admin(&session.account)?;
    let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let query = AuditQuery {
        actor: given(&form.actor),
        action: given(&form.action),
        contains: given(&form.contains),
        limit: AUDIT_LIMIT,
    };
    Ok(console.store().audit_log(&query)?)
}

/// `GET /audit`: the newest entries.
pub async fn audit_page(State(console): State<Console>, session: Session) -> Result<Response, PageError> {
    let form = AuditForm::default();
    let records = entries(&console, &session, &form)?;
    Ok(page::audit(&session, &form, &records).into_response())
}

/// `POST /audit`: the entries the form selects (a search text may be a
/// pupil's name, so it is not put in the URL).
pub async fn audit_form(
    State(console): State<Console>,
    session: Session,
    Form(form): Form<AuditForm>,
) -> Result<Response, PageError> {
    let records = entries(&console, &session, &form)?;
    Ok(page::audit(&session, &form, &records).into_response())
}

/// `GET /api/audit?actor=&action=&contains=`.
pub async fn audit_api(
    State(console): State<Console>,
    session: Session,
    Query(form): Query<AuditForm>,
) -> Result<Json<Vec<AuditRecord>>, ApiError> {
    Ok(Json(entries(&console, &session, &form)?))
}

/// `GET /users`: every account, its roles and tenants.
pub async fn users_page(State(console): State<Console>, session: Session) -> Result<Response, PageError> {
    access::require_admin(&session.account)?;
    let accounts = console.store().accounts()?;
    Ok(page::users(&session, &accounts).into_response())
}
