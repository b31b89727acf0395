//! The audit trail: who searched, viewed, exported or changed what, when,
//! from where. Append-only: the table's triggers refuse any UPDATE, and any
//! DELETE of an entry younger than the retention period
//! ([`Store::set_audit_retention_days`]).

use crate::time::{parse, text};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

/// One thing done in the console, as it is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// The account (or, for a failed sign-in, the name typed).
    pub actor: String,
    /// The client's address.
    pub address: String,
    /// What: `search`, `view-alert`, `view-event`, `export`, `acknowledge`,
    /// `assign`, `outcome`, `note`, `login`, `login-failed`, `logout`.
    pub action: String,
    /// The tenant concerned, if one.
    pub tenant: Option<String>,
    /// The alert or event id concerned, if one.
    pub target: Option<String>,
    /// The particulars: the query and time range with the result count, the
    /// outcome chosen, the format exported.
    pub detail: String,
}

/// A recorded entry with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// Position in the trail (increasing).
    pub id: i64,
    /// The entry.
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// Which entries to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries by this account.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only entries whose detail, target or tenant contains this text.
    pub contains: Option<String>,
    /// At most this many (at least 1).
    pub limit: usize,
}

/// A LIKE pattern matching text that contains `text`, its `%`, `_` and `\`
/// taken literally.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    /// Appends `entry` to the trail.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.db().execute(
            "INSERT INTO audit (at, actor, address, action, tenant, target, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![text(entry.at), entry.actor, entry.address, entry.action, entry.tenant, entry.target, entry.detail],
        )?;
        Ok(())
    }

    /// The entries `query` selects, newest first.
    pub fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let contains = query.contains.as_deref().map(like_pattern);
        let db = self.db();
        let mut statement = db.prepare(
            "SELECT id, at, actor, address, action, tenant, target, detail FROM audit \
             WHERE (?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR action = ?2) \
             AND (?3 IS NULL OR detail LIKE ?3 ESCAPE '\\' OR target LIKE ?3 ESCAPE '\\' OR tenant LIKE ?3 ESCAPE '\\') \
             ORDER BY id DESC LIMIT ?4",
        )?;
        let limit = i64::try_from(query.limit.max(1)).unwrap_or(i64::MAX);
        let rows = statement.query_map(params![query.actor, query.action, contains, limit], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                [row.get::<_, String>(2)?, row.get(3)?, row.get(4)?],
                [row.get::<_, Option<String>>(5)?, row.get(6)?],
                row.get::<_, String>(7)?,
            ))
        })?;
        rows.map(|row| {
            let (id, at, [actor, address, action], [tenant, target], detail) = row?;
            Ok(AuditRecord {
                id,
                entry: AuditEntry { at: parse(&at)?, actor, address, action, tenant, target, detail },
            })
        })
        .collect()
    }

    /// Sets how many days audit entries are kept (at least 1): younger ones
    /// cannot be deleted.
    pub fn set_audit_retention_days(&self, days: u32) -> Result<(), StoreError> {
        self.db().execute("UPDATE audit_policy SET retention_days = ?1", [days.max(1)])?;
        Ok(())
    }

    /// Deletes the entries older than the retention period; returns how many.
    pub fn apply_audit_retention(&self) -> Result<usize, StoreError> {
        let deleted = self.db().execute(
            "DELETE FROM audit WHERE at < (SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || retention_days || ' days') \
             FROM audit_policy)",
            [],
        )?;
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;
    use chrono::Duration;

    fn entry(at: DateTime<Utc>, actor: &str, action: &str, detail: &str) -> AuditEntry {
        AuditEntry {
            at,
            actor: actor.into(),
            address: "127.0.0.1".into(),
            action: action.into(),
            tenant: Some("school-a".into()),
            target: None,
            detail: detail.into(),
        }
    }

    fn details(records: Vec<AuditRecord>) -> Vec<String> {
        records.into_iter().map(|r| r.entry.detail).collect()
    }

    #[test]
    fn entries_are_listed_newest_first_and_filtered() {
        let (_dir, store) = store();
        let now = Utc::now();
        store.audit(&entry(now, "ict1", "search", "user.name:l.evans (3 results)")).unwrap();
        store.audit(&entry(now, "dsl1", "view-alert", "alert a1")).unwrap();
        store.audit(&entry(now, "ict1", "export", "csv 100%_done")).unwrap();
        let all = AuditQuery { limit: 10, ..AuditQuery::default() };
        assert_eq!(
            details(store.audit_log(&all).unwrap()),
            ["csv 100%_done", "alert a1", "user.name:l.evans (3 results)"]
        );
        let ict = AuditQuery { actor: Some("ict1".into()), ..all.clone() };
        assert_eq!(store.audit_log(&ict).unwrap().len(), 2);
        let search = AuditQuery { action: Some("search".into()), ..all.clone() };
        assert_eq!(details(store.audit_log(&search).unwrap()), ["user.name:l.evans (3 results)"]);
        let text = AuditQuery { contains: Some("L.EVANS".into()), ..all.clone() };
        assert_eq!(store.audit_log(&text).unwrap().len(), 1, "case-insensitive");
        let wildcard = AuditQuery { contains: Some("%_".into()), ..all.clone() };
        assert_eq!(details(store.audit_log(&wildcard).unwrap()), ["csv 100%_done"], "% and _ are literal");
        assert_eq!(store.audit_log(&AuditQuery { limit: 1, ..all }).unwrap().len(), 1);
    }

    #[test]
    fn the_trail_cannot_be_changed_and_only_entries_past_retention_are_deleted() {
        let (_dir, store) = store();
        let now = Utc::now();
        store.audit(&entry(now - Duration::days(40), "ict1", "search", "old")).unwrap();
        store.audit(&entry(now, "ict1", "search", "recent")).unwrap();
        let db = store.db();
        let err = db.execute("UPDATE audit SET detail = 'edited'", []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{err}");
        let err = db.execute("DELETE FROM audit", []).unwrap_err().to_string();
        assert!(err.contains("retention period"), "{err}");
        drop(db);
        assert_eq!(store.apply_audit_retention().unwrap(), 0, "default: six years");
        store.set_audit_retention_days(30).unwrap();
        assert_eq!(store.apply_audit_retention().unwrap(), 1);
        let left = store.audit_log(&AuditQuery { limit: 10, ..AuditQuery::default() }).unwrap();
        assert_eq!(details(left), ["recent"]);
    }
}
