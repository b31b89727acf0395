//! The alert store as the alerter's sink: each raised alert becomes a row
//! the console shows (insert-or-ignore by its deterministic id).

use chrono::{DateTime, Utc};
use vigil_alerter::{Alert, AlertSink, AlertSinkError};
use vigil_core::config::Severity;
use vigil_store::{NewAlert, Store};

/// Records alerts in the store.
#[derive(Debug)]
pub struct StoreSink {
    store: Store,
}

impl StoreSink {
    /// A sink writing to `store`.
    pub fn new(store: Store) -> StoreSink {
        StoreSink { store }
    }
}

/// The store's row for `alert`: its columns for the inbox (the summary says
/// what matched where), its context block, and the whole alert as published
/// for its page.
pub fn new_alert(alert: &Alert) -> NewAlert {
    let summary = format!("\"{}\" in {}", alert.phrase, alert.field.as_str());
    NewAlert {
        id: alert.id.clone(),
        tenant: alert.tenant.clone(),
        audience: alert.role,
        category: alert.category.clone(),
        severity: alert.severity,
        rule: alert.rule_id.clone(),
        user_name: alert.user_name.clone(),
        subject: alert.who().map(str::to_string),
        time: alert.timestamp,
        summary,
        event_id: alert.event_id.clone(),
        context: serde_json::to_value(&alert.context).unwrap_or_default(),
        detail: serde_json::from_slice(&alert.to_json()).unwrap_or_default(),
    }
}

fn sink_error(error: impl std::fmt::Display) -> AlertSinkError {
    AlertSinkError { reason: error.to_string() }
}

impl AlertSink for StoreSink {
    fn record(&self, alert: &Alert) -> Result<(), AlertSinkError> {
        self.store.insert_alert(&new_alert(alert), Utc::now()).map(|_| ()).map_err(sink_error)
    }

    /// The overdue alerts as the alerter published them (the stored detail).
    fn overdue(
        &self,
        recorded_before: DateTime<Utc>,
        min_severity: Severity,
        limit: usize,
    ) -> Result<Vec<Alert>, AlertSinkError> {
        let records = self.store.overdue_alerts(recorded_before, min_severity, limit).map_err(sink_error)?;
        records
            .into_iter()
            .map(|r| {
                serde_json::from_value(r.alert.detail).map_err(|e| sink_error(format!("alert {}: {e}", r.alert.id)))
            })
            .collect()
    }

    fn escalated(&self, id: &str, at: DateTime<Utc>) -> Result<(), AlertSinkError> {
        self.store.mark_escalated(id, at).map_err(sink_error)
    }
}
