//! Alerts and what staff did about them: acknowledged, assigned, an outcome
//! recorded (which closes the alert), notes.

use crate::time::{parse, parse_opt, text};
use crate::users::TenantScope;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use vigil_core::config::{Role as Audience, Severity};

/// An alert as the alerter raised it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAlert {
    /// The alerter's deterministic id: raising it again changes nothing.
    pub id: String,
    /// The school.
    pub tenant: String,
    /// Who the rule tells: the DSL (safeguarding) or the ICT manager (cyber).
    pub audience: Audience,
    /// The rule's category, e.g. `self-harm`, `brute-force`.
    pub category: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's id.
    pub rule: String,
    /// The user the event is attributed to.
    pub user_name: Option<String>,
    /// Whom the alert is about: a windowed rule's group, else the user, else
    /// the address.
    pub subject: Option<String>,
    /// When the matching event happened.
    pub time: DateTime<Utc>,
    /// One line: what matched, where.
    pub summary: String,
    /// The matching event's id.
    pub event_id: String,
    /// The context block (what the user did around the event), as the
    /// alerter wrote it.
    pub context: serde_json::Value,
    /// The whole alert as the alerter published it (device, URL, search
    /// terms, the user's name and year group, ...).
    pub detail: serde_json::Value,
}

/// Where an alert is in its handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nobody has acknowledged it.
    New,
    /// Someone has it in hand.
    Acknowledged,
    /// An outcome is recorded.
    Closed,
}

impl Status {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Acknowledged => "acknowledged",
            Status::Closed => "closed",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<Status> {
        [Status::New, Status::Acknowledged, Status::Closed].into_iter().find(|s| s.as_str() == name)
    }
}

/// What came of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// A concern was logged in the school's safeguarding system.
    ConcernLogged,
    /// Looked into: no concern.
    NoConcern,
    /// The rule matched something it should not have (a reason is required,
    /// so the rule can be improved).
    FalsePositive,
    /// Referred on (children's social care, the police, the LADO).
    Referred,
}

impl Outcome {
    /// Every outcome, in the order the console offers them.
    pub const ALL: [Outcome; 4] =
        [Outcome::ConcernLogged, Outcome::NoConcern, Outcome::FalsePositive, Outcome::Referred];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::ConcernLogged => "concern-logged",
            Outcome::NoConcern => "no-concern",
            Outcome::FalsePositive => "false-positive",
            Outcome::Referred => "referred",
        }
    }

    /// How the console shows it.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::ConcernLogged => "Concern logged in the school's system",
            Outcome::NoConcern => "No concern",
            Outcome::FalsePositive => "False positive",
            Outcome::Referred => "Referred",
        }
    }

    /// The outcome named `name`.
    pub fn parse(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

/// A stored alert with its handling.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRecord {
    /// The alert as raised.
    #[serde(flatten)]
    pub alert: NewAlert,
    /// When it was stored.
    pub raised_at: DateTime<Utc>,
    /// Where it is in its handling.
    pub status: Status,
    /// The account it is assigned to.
    pub assignee: Option<String>,
    /// What came of it.
    pub outcome: Option<Outcome>,
    /// Why (required for a false positive).
    pub outcome_reason: Option<String>,
    /// When it was acknowledged, and by whom.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The account that acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When its outcome was recorded.
    pub closed_at: Option<DateTime<Utc>>,
    /// The account that recorded the outcome.
    pub closed_by: Option<String>,
    /// When it was last escalated.
    pub escalated_at: Option<DateTime<Utc>>,
}

/// A note on an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The account that wrote it.
    pub author: String,
    /// When.
    pub at: DateTime<Utc>,
    /// What it says.
    pub text: String,
}

/// Which alerts to list, newest event first.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFilter {
    /// Only these tenants'.
    pub tenants: TenantScope,
    /// Only alerts for these audiences (a DSL sees safeguarding alerts, an
    /// ICT manager cyber ones).
    pub audiences: Vec<Audience>,
    /// Only with this status.
    pub status: Option<Status>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only this category.
    pub category: Option<String>,
    /// Only about this user.
    pub user_name: Option<String>,
    /// At most this many.
    pub limit: usize,
}

const COLUMNS: &str = "id, tenant, audience, category, severity, rule, user_name, subject, time, summary, event_id, \
    context, detail, raised_at, status, assignee, outcome, outcome_reason, acknowledged_at, acknowledged_by, closed_at, \
    closed_by, escalated_at";

fn severity_rank(s: Severity) -> i64 {
    match s {
        Severity::Low => 0,
        Severity::Medium => 1,
        Severity::High => 2,
        Severity::Critical => 3,
    }
}

fn severity_named(name: &str) -> Result<Severity, StoreError> {
    [Severity::Low, Severity::Medium, Severity::High, Severity::Critical]
        .into_iter()
        .find(|s| s.as_str() == name)
        .ok_or_else(|| StoreError::Corrupt(format!("severity {name:?}")))
}

fn audience_named(name: &str) -> Result<Audience, StoreError> {
    [Audience::Dsl, Audience::Ict]
        .into_iter()
        .find(|a| a.as_str() == name)
        .ok_or_else(|| StoreError::Corrupt(format!("audience {name:?}")))
}

/// The columns of [`COLUMNS`] as text, in order, for [`record`].
fn raw_row(row: &Row<'_>) -> rusqlite::Result<Vec<Option<String>>> {
    (0..23).map(|i| row.get(i)).collect()
}

fn record(raw: Vec<Option<String>>) -> Result<AlertRecord, StoreError> {
    let mut raw = raw.into_iter();
    let mut columns = [(); 23].map(|()| raw.next().flatten());
    let mut take = |i: usize| columns[i].take();
    let required =
        |value: Option<String>, name: &str| value.ok_or_else(|| StoreError::Corrupt(format!("alert without {name}")));
    let status_name = required(take(14), "status")?;
    let status = Status::parse(&status_name).ok_or_else(|| StoreError::Corrupt(format!("status {status_name:?}")))?;
    let outcome = take(16).map(|o| Outcome::parse(&o).ok_or_else(|| StoreError::Corrupt(format!("outcome {o:?}"))));
    Ok(AlertRecord {
        alert: NewAlert {
            id: required(take(0), "id")?,
            tenant: required(take(1), "tenant")?,
            audience: audience_named(&required(take(2), "audience")?)?,
            category: required(take(3), "category")?,
            severity: severity_named(&required(take(4), "severity")?)?,
            rule: required(take(5), "rule")?,
            user_name: take(6),
            subject: take(7),
            time: parse(&required(take(8), "time")?)?,
            summary: required(take(9), "summary")?,
            event_id: required(take(10), "event_id")?,
            context: serde_json::from_str(&required(take(11), "context")?)
                .map_err(|e| StoreError::Corrupt(format!("context: {e}")))?,
            detail: serde_json::from_str(&required(take(12), "detail")?)
                .map_err(|e| StoreError::Corrupt(format!("detail: {e}")))?,
        },
        raised_at: parse(&required(take(13), "raised_at")?)?,
        status,
        assignee: take(15),
        outcome: outcome.transpose()?,
        outcome_reason: take(17),
        acknowledged_at: parse_opt(take(18))?,
        acknowledged_by: take(19),
        closed_at: parse_opt(take(20))?,
        closed_by: take(21),
        escalated_at: parse_opt(take(22))?,
    })
}

impl Store {
    /// Stores `alert` unless an alert with its id is stored already (a
    /// replay); returns whether it was new.
    pub fn insert_alert(&self, alert: &NewAlert, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let inserted = self.db().execute(
            "INSERT OR IGNORE INTO alerts (id, tenant, audience, category, severity, severity_rank, rule, user_name, \
             subject, time, summary, event_id, context, detail, raised_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                alert.id,
                alert.tenant,
                alert.audience.as_str(),
                alert.category,
                alert.severity.as_str(),
                severity_rank(alert.severity),
                alert.rule,
                alert.user_name,
                alert.subject,
                text(alert.time),
                alert.summary,
                alert.event_id,
                alert.context.to_string(),
                alert.detail.to_string(),
                text(now),
            ],
        )?;
        Ok(inserted == 1)
    }

    /// The alert with id `id`.
    pub fn alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
        let raw =
            self.db().query_row(&format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"), [id], raw_row).optional()?;
        raw.map(record).transpose()
    }

    /// The alerts `filter` selects, newest event first.
    pub fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        let mut sql = format!("SELECT {COLUMNS} FROM alerts WHERE 1 = 1");
        let mut values: Vec<Value> = Vec::new();
        let mut any_of = |sql: &mut String, column: &str, names: Vec<String>| {
            let marks = vec!["?"; names.len()].join(", ");
            sql.push_str(&format!(" AND {column} IN ({marks})"));
            values.extend(names.into_iter().map(Value::Text));
        };
        if let TenantScope::Only(tenants) = &filter.tenants {
            any_of(&mut sql, "tenant", tenants.clone());
        }
        any_of(&mut sql, "audience", filter.audiences.iter().map(|a| a.as_str().to_string()).collect());
        if let Some(status) = filter.status {
            any_of(&mut sql, "status", vec![status.as_str().to_string()]);
        }
        if let Some(severity) = filter.severity {
            any_of(&mut sql, "severity", vec![severity.as_str().to_string()]);
        }
        if let Some(category) = &filter.category {
            any_of(&mut sql, "category", vec![category.clone()]);
        }
        if let Some(user) = &filter.user_name {
            any_of(&mut sql, "user_name", vec![user.clone()]);
        }
        sql.push_str(" ORDER BY time DESC, id LIMIT ?");
        values.push(Value::Integer(i64::try_from(filter.limit).unwrap_or(i64::MAX)));
        let db = self.db();
        let mut statement = db.prepare(&sql)?;
        let rows = statement.query_map(rusqlite::params_from_iter(values), raw_row)?;
        rows.map(|raw| record(raw?)).collect()
    }

    /// Marks alert `id` acknowledged by `by`. An alert no longer new is
    /// left as it is: [`StoreError::Conflict`] says who took it.
    pub fn acknowledge(&self, id: &str, by: &str, now: DateTime<Utc>) -> Result<AlertRecord, StoreError> {
        let changed = self.db().execute(
            "UPDATE alerts SET status = 'acknowledged', acknowledged_at = ?2, acknowledged_by = ?3 \
             WHERE id = ?1 AND status = 'new'",
            params![id, text(now), by],
        )?;
        let current = self.existing(id)?;
        if changed == 0 {
            let who = current.acknowledged_by.as_deref().unwrap_or("someone");
            return Err(StoreError::Conflict(format!("the alert was already {} by {who}", current.status.as_str())));
        }
        Ok(current)
    }

    /// Assigns alert `id` to `assignee` (or to nobody).
    pub fn assign(&self, id: &str, assignee: Option<&str>) -> Result<AlertRecord, StoreError> {
        self.db().execute("UPDATE alerts SET assignee = ?2 WHERE id = ?1", params![id, assignee])?;
        self.existing(id)
    }

    /// Records what came of alert `id` and closes it (acknowledging it too
    /// if nobody had). A false positive needs a reason; a closed alert keeps
    /// its outcome ([`StoreError::Conflict`]).
    pub fn record_outcome(
        &self,
        id: &str,
        outcome: Outcome,
        reason: Option<&str>,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<AlertRecord, StoreError> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if outcome == Outcome::FalsePositive && reason.is_none() {
            return Err(StoreError::Conflict("a false positive needs a reason, so the rule can be improved".into()));
        }
        let changed = self.db().execute(
            "UPDATE alerts SET status = 'closed', outcome = ?2, outcome_reason = ?3, closed_at = ?4, closed_by = ?5, \
             acknowledged_at = COALESCE(acknowledged_at, ?4), acknowledged_by = COALESCE(acknowledged_by, ?5) \
             WHERE id = ?1 AND status <> 'closed'",
            params![id, outcome.as_str(), reason, text(now), by],
        )?;
        let current = self.existing(id)?;
        if changed == 0 {
            return Err(StoreError::Conflict("the alert is closed already; add a note instead".into()));
        }
        Ok(current)
    }

    /// Adds a note by `author` to alert `id`.
    pub fn add_note(&self, id: &str, author: &str, note: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.existing(id)?;
        self.db().execute(
            "INSERT INTO notes (alert_id, author, at, text) VALUES (?1, ?2, ?3, ?4)",
            params![id, author, text(now), note],
        )?;
        Ok(())
    }

    /// The notes on alert `id`, oldest first.
    pub fn notes(&self, id: &str) -> Result<Vec<Note>, StoreError> {
        let db = self.db();
        let mut statement = db.prepare("SELECT author, at, text FROM notes WHERE alert_id = ?1 ORDER BY id")?;
        let rows = statement.query_map([id], |row| Ok((row.get(0)?, row.get::<_, String>(1)?, row.get(2)?)))?;
        rows.map(|row| {
            let (author, at, text) = row?;
            Ok(Note { author, at: parse(&at)?, text })
        })
        .collect()
    }

    /// Alerts still new, never escalated, of at least `min_severity`, stored
    /// before `raised_before`: the ones to escalate, oldest first. The clock
    /// is the stored `raised_at`, so it survives restarts.
    pub fn overdue_alerts(
        &self,
        raised_before: DateTime<Utc>,
        min_severity: Severity,
        limit: usize,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let db = self.db();
        let mut statement = db.prepare(&format!(
            "SELECT {COLUMNS} FROM alerts WHERE status = 'new' AND escalated_at IS NULL AND severity_rank >= ?1 \
             AND raised_at < ?2 ORDER BY raised_at, id LIMIT ?3"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map(params![severity_rank(min_severity), text(raised_before), limit], raw_row)?;
        rows.map(|raw| record(raw?)).collect()
    }

    /// Records that alert `id` was escalated at `at`.
    pub fn mark_escalated(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.db().execute("UPDATE alerts SET escalated_at = ?2 WHERE id = ?1", params![id, text(at)])?;
        Ok(())
    }

    fn existing(&self, id: &str) -> Result<AlertRecord, StoreError> {
        self.alert(id)?.ok_or_else(|| StoreError::NotFound { what: "alert", name: id.to_string() })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testing::store;

    pub fn at(minute: u32) -> DateTime<Utc> {
        format!("2026-03-04T10:{minute:02}:00Z").parse().unwrap()
    }

    pub fn alert(id: &str, tenant: &str, audience: Audience, minute: u32) -> NewAlert {
        NewAlert {
            id: id.into(),
            tenant: tenant.into(),
            audience,
            category: if audience == Audience::Dsl { "self-harm" } else { "brute-force" }.into(),
            severity: Severity::Critical,
            rule: "self-harm.intent".into(),
            user_name: Some("l.evans".into()),
            subject: Some("l.evans".into()),
            time: at(minute),
            summary: "search.query matched \"hurt myself\"".into(),
            event_id: format!("e-{id}"),
            context: serde_json::json!([{"kind": "search", "text": "<b>hurt</b>"}]),
            detail: serde_json::json!({"device.name": "LAPTOP-7"}),
        }
    }

    fn filter() -> AlertFilter {
        AlertFilter {
            tenants: TenantScope::All,
            audiences: vec![Audience::Dsl, Audience::Ict],
            status: None,
            severity: None,
            category: None,
            user_name: None,
            limit: 100,
        }
    }

    fn ids(alerts: Vec<AlertRecord>) -> Vec<String> {
        alerts.into_iter().map(|a| a.alert.id).collect()
    }

    #[test]
    fn a_replayed_alert_is_stored_once_and_reads_back_as_raised() {
        let (_dir, store) = store();
        let a = alert("a1", "school-a", Audience::Dsl, 1);
        assert!(store.insert_alert(&a, at(2)).unwrap());
        assert!(!store.insert_alert(&a, at(3)).unwrap(), "same id: ignored");
        let stored = store.alert("a1").unwrap().unwrap();
        assert_eq!(stored.alert, a);
        assert_eq!((stored.status, stored.raised_at), (Status::New, at(2)));
        assert_eq!(store.alert("nope").unwrap(), None);
    }

    #[test]
    fn filters_select_by_tenant_audience_status_severity_and_category_newest_first() {
        let (_dir, store) = store();
        store.insert_alert(&alert("old", "school-a", Audience::Dsl, 1), at(9)).unwrap();
        store.insert_alert(&alert("new", "school-a", Audience::Dsl, 5), at(9)).unwrap();
        store.insert_alert(&alert("cyber", "school-a", Audience::Ict, 3), at(9)).unwrap();
        store.insert_alert(&alert("other", "school-b", Audience::Dsl, 4), at(9)).unwrap();
        store.acknowledge("old", "dsl1", at(10)).unwrap();
        assert_eq!(ids(store.alerts(&filter()).unwrap()), ["new", "other", "cyber", "old"]);
        let school_a = AlertFilter { tenants: TenantScope::Only(vec!["school-a".into()]), ..filter() };
        assert_eq!(ids(store.alerts(&school_a).unwrap()), ["new", "cyber", "old"]);
        let dsl = AlertFilter { audiences: vec![Audience::Dsl], ..school_a.clone() };
        assert_eq!(ids(store.alerts(&dsl).unwrap()), ["new", "old"]);
        assert_eq!(ids(store.alerts(&AlertFilter { status: Some(Status::New), ..dsl.clone() }).unwrap()), ["new"]);
        assert!(store.alerts(&AlertFilter { severity: Some(Severity::Low), ..dsl.clone() }).unwrap().is_empty());
        let cyber = AlertFilter { category: Some("brute-force".into()), ..filter() };
        assert_eq!(ids(store.alerts(&cyber).unwrap()), ["cyber"]);
        assert_eq!(ids(store.alerts(&AlertFilter { limit: 1, ..filter() }).unwrap()), ["new"]);
        assert!(store.alerts(&AlertFilter { audiences: vec![], ..filter() }).unwrap().is_empty());
    }

    #[test]
    fn acknowledging_assigning_and_recording_an_outcome_are_kept_and_not_done_twice() {
        let (_dir, store) = store();
        store.insert_alert(&alert("a1", "school-a", Audience::Dsl, 1), at(1)).unwrap();
        let acked = store.acknowledge("a1", "dsl1", at(2)).unwrap();
        assert_eq!((acked.status, acked.acknowledged_by.as_deref()), (Status::Acknowledged, Some("dsl1")));
        let err = store.acknowledge("a1", "dsl2", at(3)).unwrap_err().to_string();
        assert!(err.contains("already acknowledged by dsl1"), "{err}");
        assert_eq!(store.assign("a1", Some("deputy")).unwrap().assignee.as_deref(), Some("deputy"));
        let err = store.record_outcome("a1", Outcome::FalsePositive, Some("  "), "dsl1", at(4)).unwrap_err();
        assert!(err.to_string().contains("needs a reason"), "{err}");
        let closed = store.record_outcome("a1", Outcome::FalsePositive, Some("a song lyric"), "dsl1", at(4)).unwrap();
        assert_eq!(closed.status, Status::Closed);
        assert_eq!(
            (closed.outcome, closed.outcome_reason.as_deref()),
            (Some(Outcome::FalsePositive), Some("a song lyric"))
        );
        assert_eq!(closed.acknowledged_at, Some(at(2)), "the first acknowledgement is kept");
        let err = store.record_outcome("a1", Outcome::Referred, None, "dsl2", at(5)).unwrap_err().to_string();
        assert!(err.contains("closed already"), "{err}");
        assert!(matches!(store.acknowledge("missing", "x", at(1)), Err(StoreError::NotFound { .. })));
    }

    #[test]
    fn an_outcome_on_a_new_alert_acknowledges_it_too() {
        let (_dir, store) = store();
        store.insert_alert(&alert("a1", "school-a", Audience::Dsl, 1), at(1)).unwrap();
        let closed = store.record_outcome("a1", Outcome::ConcernLogged, None, "dsl1", at(2)).unwrap();
        assert_eq!((closed.acknowledged_at, closed.acknowledged_by.as_deref()), (Some(at(2)), Some("dsl1")));
    }

    #[test]
    fn overdue_alerts_are_new_unescalated_severe_enough_and_old_enough() {
        let (_dir, store) = store();
        let mut low = alert("low", "school-a", Audience::Dsl, 1);
        low.severity = Severity::Medium;
        for (a, raised) in [
            (alert("old", "school-a", Audience::Dsl, 1), 1),
            (alert("acked", "school-a", Audience::Dsl, 1), 1),
            (low, 1),
            (alert("recent", "school-a", Audience::Ict, 1), 9),
            (alert("older", "school-b", Audience::Ict, 1), 0),
        ] {
            store.insert_alert(&a, at(raised)).unwrap();
        }
        store.acknowledge("acked", "dsl1", at(2)).unwrap();
        let overdue = |before| ids(store.overdue_alerts(at(before), Severity::High, 10).unwrap());
        assert_eq!(overdue(5), ["older", "old"], "oldest first");
        store.mark_escalated("older", at(5)).unwrap();
        assert_eq!(store.alert("older").unwrap().unwrap().escalated_at, Some(at(5)));
        assert_eq!(overdue(10), ["old", "recent"], "escalated once");
        assert_eq!(ids(store.overdue_alerts(at(10), Severity::Medium, 10).unwrap()), ["low", "old", "recent"]);
    }

    #[test]
    fn notes_are_kept_in_order_and_only_on_stored_alerts() {
        let (_dir, store) = store();
        store.insert_alert(&alert("a1", "school-a", Audience::Dsl, 1), at(1)).unwrap();
        store.add_note("a1", "dsl1", "Spoke to her tutor.", at(2)).unwrap();
        store.add_note("a1", "dsl2", "Parents called.", at(3)).unwrap();
        let notes = store.notes("a1").unwrap();
        assert_eq!(
            notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(),
            ["Spoke to her tutor.", "Parents called."]
        );
        assert_eq!(notes[1].author, "dsl2");
        assert!(matches!(store.add_note("nope", "dsl1", "x", at(2)), Err(StoreError::NotFound { .. })));
    }
}
