//! The alert store as the alerter's sink: each raised alert becomes a row
//! the console shows (insert-or-ignore by its deterministic id).

use chrono::Utc;
use vigil_alerter::{Alert, AlertSink, AlertSinkError};
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

impl AlertSink for StoreSink {
    fn record(&self, alert: &Alert) -> Result<(), AlertSinkError> {
        self.store
            .insert_alert(&new_alert(alert), Utc::now())
            .map(|_| ())
            .map_err(|e| AlertSinkError { reason: e.to_string() })
    }
}
