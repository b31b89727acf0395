//! Who may see what, in one place:
//!
//! | role | alerts | search and events |
//! |---|---|---|
//! | `dsl` | safeguarding alerts | only the events of a user with an alert the account sees |
//! | `ict` | cyber alerts | every event |
//! | `governor` | none (reports only: no pupil data) | none |
//! | `admin` | none (accounts and the audit trail) | none |
//!
//! always within the account's tenants. Something out of reach is answered
//! as not found, so that an account cannot learn which alert ids exist in
//! another school.

use crate::ConsoleError;
use vigil_core::config::Role as Audience;
use vigil_store::{Account, AlertRecord, Role};

/// The alert audiences an account sees: the DSL safeguarding alerts, the
/// ICT manager cyber ones.
pub fn audiences(account: &Account) -> Vec<Audience> {
    let mut audiences = Vec::new();
    if account.has(Role::Dsl) {
        audiences.push(Audience::Dsl);
    }
    if account.has(Role::Ict) {
        audiences.push(Audience::Ict);
    }
    audiences
}

/// Whether `account` may see `alert`.
pub fn may_see_alert(account: &Account, alert: &AlertRecord) -> bool {
    account.tenants.includes(&alert.alert.tenant) && audiences(account).contains(&alert.alert.audience)
}

/// `alert` if `account` may see it, else not found.
pub fn visible_alert(account: &Account, alert: Option<AlertRecord>, id: &str) -> Result<AlertRecord, ConsoleError> {
    alert.filter(|a| may_see_alert(account, a)).ok_or_else(|| not_found_alert(id))
}

/// The answer for an alert out of reach.
pub fn not_found_alert(id: &str) -> ConsoleError {
    ConsoleError::NotFound(format!("there is no alert {id:?} that you may see"))
}

/// Whether the account may use the alert inbox at all.
pub fn require_inbox(account: &Account) -> Result<(), ConsoleError> {
    if audiences(account).is_empty() {
        return Err(ConsoleError::Forbidden("the alert inbox is for the DSL and the ICT manager".into()));
    }
    Ok(())
}

/// Where a search may look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchScope {
    /// The tenants to search; `None` in the list means every tenant.
    pub tenants: Vec<Option<String>>,
    /// Only this user's events.
    pub user: Option<String>,
}

/// The scope of a search by `account`, from `alert` (an alert it may see,
/// whose user's events a DSL may search) and `tenant` (one of its tenants,
/// to narrow to).
pub fn search_scope(
    account: &Account,
    alert: Option<&AlertRecord>,
    tenant: Option<&str>,
) -> Result<SearchScope, ConsoleError> {
    if let Some(alert) = alert {
        let user = alert.alert.user_name.clone().ok_or_else(|| {
            ConsoleError::BadRequest("this alert names no user; search by its address as the ICT manager".into())
        })?;
        return Ok(SearchScope { tenants: vec![Some(alert.alert.tenant.clone())], user: Some(user) });
    }
    if !account.has(Role::Ict) {
        return Err(ConsoleError::Forbidden(
            "search is for the ICT manager; a DSL searches a pupil's events from one of their alerts".into(),
        ));
    }
    if let Some(tenant) = tenant {
        if !account.tenants.includes(tenant) {
            return Err(ConsoleError::Forbidden(format!("your account does not cover the tenant {tenant:?}")));
        }
        return Ok(SearchScope { tenants: vec![Some(tenant.to_string())], user: None });
    }
    let tenants = match &account.tenants {
        vigil_store::TenantScope::All => vec![None],
        vigil_store::TenantScope::Only(tenants) => tenants.iter().cloned().map(Some).collect(),
    };
    Ok(SearchScope { tenants, user: None })
}

/// Requires the `admin` role.
pub fn require_admin(account: &Account) -> Result<(), ConsoleError> {
    if !account.has(Role::Admin) {
        return Err(ConsoleError::Forbidden("the audit trail and accounts are for administrators".into()));
    }
    Ok(())
}
