//! Console accounts (roles, tenant scopes, password hashes) and their
//! sessions. Hashing passwords and making tokens is the console's job; the
//! store keeps only hashes.

use crate::time::{parse, text};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

/// What an account may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Designated Safeguarding Lead: safeguarding alerts, and search limited
    /// to an alert's user.
    Dsl,
    /// ICT manager: search, cyber alerts.
    Ict,
    /// Governor: reports only, no pupil data.
    Governor,
    /// Administrator: accounts and the audit trail.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Dsl, Role::Ict, Role::Governor, Role::Admin];

    /// The stored and typed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Dsl => "dsl",
            Role::Ict => "ict",
            Role::Governor => "governor",
            Role::Admin => "admin",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// Which tenants' data an account sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantScope {
    /// Every tenant (a multi-academy trust's central team).
    All,
    /// Only these.
    Only(Vec<String>),
}

impl TenantScope {
    /// Whether `tenant` is in scope.
    pub fn includes(&self, tenant: &str) -> bool {
        match self {
            TenantScope::All => true,
            TenantScope::Only(tenants) => tenants.iter().any(|t| t == tenant),
        }
    }

    /// As stored: `*`, or the tenants comma-separated.
    pub fn to_text(&self) -> String {
        match self {
            TenantScope::All => "*".to_string(),
            TenantScope::Only(tenants) => tenants.join(","),
        }
    }

    /// Read back from [`TenantScope::to_text`]'s form (as typed on the
    /// command line too); `None` for an empty list or a tenant name holding
    /// `*` or a comma.
    pub fn parse(text: &str) -> Option<TenantScope> {
        if text.trim() == "*" {
            return Some(TenantScope::All);
        }
        let tenants: Vec<String> = text.split(',').map(|t| t.trim().to_string()).collect();
        let valid = tenants.iter().all(|t| !t.is_empty() && !t.contains('*'));
        valid.then_some(TenantScope::Only(tenants))
    }
}

/// A console account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Its number.
    pub id: i64,
    /// The sign-in name.
    pub name: String,
    /// The password's PHC hash string.
    #[serde(skip)]
    pub password_hash: String,
    /// What it may do.
    pub roles: Vec<Role>,
    /// Whose data it sees.
    pub tenants: TenantScope,
    /// A disabled account cannot sign in and its sessions end.
    pub disabled: bool,
}

impl Account {
    /// Whether the account has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// A live session and its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Who is signed in.
    pub account: Account,
    /// The session's CSRF token, required on every change.
    pub csrf: String,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
}

fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

const ACCOUNT_COLUMNS: &str = "users.id, users.name, users.password_hash, users.roles, users.tenants, users.disabled";

fn account(row: &Row<'_>) -> rusqlite::Result<(i64, String, String, String, String, bool)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

fn to_account(
    (id, name, password_hash, roles, tenants, disabled): (i64, String, String, String, String, bool),
) -> Result<Account, StoreError> {
    let roles = roles
        .split(',')
        .map(|r| Role::parse(r).ok_or_else(|| StoreError::Corrupt(format!("role {r:?} of account {name:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let tenants = TenantScope::parse(&tenants)
        .ok_or_else(|| StoreError::Corrupt(format!("tenants {tenants:?} of account {name:?}")))?;
    Ok(Account { id, name, password_hash, roles, tenants, disabled })
}

impl Store {
    /// Creates an account; a taken name is [`StoreError::Conflict`].
    pub fn add_user(
        &self,
        name: &str,
        password_hash: &str,
        roles: &[Role],
        tenants: &TenantScope,
    ) -> Result<Account, StoreError> {
        if roles.is_empty() {
            return Err(StoreError::Conflict("an account needs at least one role".into()));
        }
        let inserted = self.db().execute(
            "INSERT OR IGNORE INTO users (name, password_hash, roles, tenants, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, password_hash, roles_text(roles), tenants.to_text(), text(Utc::now())],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!("there is already an account named {name:?}")));
        }
        self.account_by_name(name)?.ok_or_else(|| StoreError::NotFound { what: "user", name: name.to_string() })
    }

    /// The account named `name`.
    pub fn account_by_name(&self, name: &str) -> Result<Option<Account>, StoreError> {
        let row = self
            .db()
            .query_row(&format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE name = ?1"), [name], account)
            .optional()?;
        row.map(to_account).transpose()
    }

    /// Every account, by name.
    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let db = self.db();
        let mut statement = db.prepare(&format!("SELECT {ACCOUNT_COLUMNS} FROM users ORDER BY name"))?;
        let rows = statement.query_map([], account)?;
        rows.map(|row| to_account(row?)).collect()
    }

    /// Replaces the password hash of account `name` and ends its sessions.
    pub fn set_password(&self, name: &str, password_hash: &str) -> Result<(), StoreError> {
        self.update_account(name, "password_hash = ?2", password_hash)
    }

    /// Disables account `name` (or enables it again) and ends its sessions.
    pub fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError> {
        self.update_account(name, "disabled = ?2", disabled)
    }

    fn update_account(&self, name: &str, set: &str, value: impl rusqlite::ToSql) -> Result<(), StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let changed = tx.execute(&format!("UPDATE users SET {set} WHERE name = ?1"), params![name, value])?;
        if changed == 0 {
            return Err(StoreError::NotFound { what: "user", name: name.to_string() });
        }
        tx.execute("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)", [name])?;
        tx.commit()?;
        Ok(())
    }

    /// Starts a session for account `user_id`, known by the hash of its token.
    pub fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        db.execute("DELETE FROM sessions WHERE expires_at <= ?1", [text(now)])?;
        db.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash, user_id, csrf, text(now), text(expires_at)],
        )?;
        Ok(())
    }

    /// The live session whose token hashes to `token_hash`, if it has not
    /// expired by `now` and its account is enabled.
    pub fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionRecord>, StoreError> {
        let row = self
            .db()
            .query_row(
                &format!(
                    "SELECT {ACCOUNT_COLUMNS}, sessions.csrf, sessions.expires_at FROM sessions \
                     JOIN users ON users.id = sessions.user_id \
                     WHERE sessions.token_hash = ?1 AND sessions.expires_at > ?2 AND users.disabled = 0"
                ),
                params![token_hash, text(now)],
                |row| Ok((account(row)?, row.get::<_, String>(6)?, row.get::<_, String>(7)?)),
            )
            .optional()?;
        row.map(|(account, csrf, expires_at)| {
            Ok(SessionRecord { account: to_account(account)?, csrf, expires_at: parse(&expires_at)? })
        })
        .transpose()
    }

    /// Ends the session whose token hashes to `token_hash`.
    pub fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.db().execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;
    use chrono::Duration;

    #[test]
    fn accounts_keep_roles_and_scopes_and_names_are_unique() {
        let (_dir, store) = store();
        let scope = TenantScope::parse("school-a, school-b").unwrap();
        let dsl = store.add_user("dsl1", "h1", &[Role::Dsl, Role::Admin], &scope).unwrap();
        assert_eq!(dsl.roles, [Role::Dsl, Role::Admin]);
        assert_eq!(dsl.tenants, TenantScope::Only(vec!["school-a".into(), "school-b".into()]));
        assert!(dsl.tenants.includes("school-b") && !dsl.tenants.includes("school-c"));
        let err = store.add_user("dsl1", "h2", &[Role::Ict], &TenantScope::All).unwrap_err().to_string();
        assert!(err.contains("already an account named \"dsl1\""), "{err}");
        assert!(store.add_user("x", "h", &[], &TenantScope::All).is_err());
        store.add_user("trust", "h3", &[Role::Ict], &TenantScope::All).unwrap();
        let names: Vec<String> = store.accounts().unwrap().into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["dsl1", "trust"]);
    }

    #[test]
    fn tenant_scopes_are_a_star_or_a_list_of_names() {
        assert_eq!(TenantScope::parse(" * "), Some(TenantScope::All));
        assert_eq!(TenantScope::parse("a").unwrap().to_text(), "a");
        for bad in ["", "a,,b", "a*", "a, "] {
            assert_eq!(TenantScope::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sessions_end_on_expiry_password_change_and_disabling() {
        let (_dir, store) = store();
        let now = Utc::now();
        let user = store.add_user("dsl1", "h1", &[Role::Dsl], &TenantScope::All).unwrap();
        store.create_session("t1", user.id, "c1", now, now + Duration::hours(8)).unwrap();
        let session = store.session("t1", now).unwrap().unwrap();
        assert_eq!((session.account.name.as_str(), session.csrf.as_str()), ("dsl1", "c1"));
        assert_eq!(store.session("t1", now + Duration::hours(9)).unwrap(), None, "expired");
        assert_eq!(store.session("other", now).unwrap(), None);

        store.set_password("dsl1", "h2").unwrap();
        assert_eq!(store.session("t1", now).unwrap(), None, "a new password ends the sessions");
        assert_eq!(store.account_by_name("dsl1").unwrap().unwrap().password_hash, "h2");

        store.create_session("t2", user.id, "c2", now, now + Duration::hours(8)).unwrap();
        store.set_disabled("dsl1", true).unwrap();
        assert_eq!(store.session("t2", now).unwrap(), None);
        assert!(store.account_by_name("dsl1").unwrap().unwrap().disabled);

        store.set_disabled("dsl1", false).unwrap();
        store.create_session("t3", user.id, "c3", now, now + Duration::hours(8)).unwrap();
        store.end_session("t3").unwrap();
        assert_eq!(store.session("t3", now).unwrap(), None, "signed out");
        assert!(matches!(store.set_password("nobody", "h"), Err(StoreError::NotFound { .. })));
    }
}
