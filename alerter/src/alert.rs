//! The alert: what a rule match becomes, on the alerts topic and in emails.

use crate::context::ContextEntry;
use crate::rules::{Field, Rule, RuleMatch};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vigil_core::config::{Delivery, Role, Severity};
use vigil_core::event::hex;
use vigil_core::{Event, EventKind};

/// One raised alert. On the wire a flat JSON object with dotted names, like
/// the event it came from; the event's fields keep their names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Deterministic id (see [`Alert::derive_id`]).
    #[serde(rename = "alert.id")]
    pub id: String,
    /// When the matching event happened.
    #[serde(rename = "@timestamp")]
    pub timestamp: DateTime<Utc>,
    /// The rule that matched.
    #[serde(rename = "rule.id")]
    pub rule_id: String,
    /// The rule's description, if it has one.
    #[serde(rename = "rule.description", default, skip_serializing_if = "Option::is_none")]
    pub rule_description: Option<String>,
    /// Safeguarding or cyber category of the rule.
    #[serde(rename = "alert.category")]
    pub category: String,
    /// Severity of the rule.
    #[serde(rename = "alert.severity")]
    pub severity: Severity,
    /// Who is told.
    #[serde(rename = "alert.role")]
    pub role: Role,
    /// The phrase that matched, as configured.
    #[serde(rename = "alert.phrase")]
    pub phrase: String,
    /// The event field it matched in.
    #[serde(rename = "alert.field")]
    pub field: Field,
    /// Matches of the same rule by the same user that were throttled since
    /// the previous alert.
    #[serde(rename = "alert.suppressed")]
    pub suppressed: u64,
    /// For a windowed rule, the group whose count matched (an address, an
    /// account): whom the alert is about.
    #[serde(rename = "alert.group", default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The field whose value the group is (`source.ip`), when it is one.
    #[serde(rename = "alert.group_field", default, skip_serializing_if = "Option::is_none")]
    pub group_field: Option<Field>,
    /// The kind of the matching event (`auth`, `proxy`, ...).
    #[serde(rename = "event.kind", default, skip_serializing_if = "Option::is_none")]
    pub event_kind: Option<EventKind>,
    /// The school.
    pub tenant: String,
    /// The user the event is attributed to.
    #[serde(rename = "user.name", default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The client's address.
    #[serde(rename = "source.ip", default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// The host that logged the event.
    #[serde(rename = "host.name", default, skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    /// The URL requested.
    #[serde(rename = "url.full", default, skip_serializing_if = "Option::is_none")]
    pub url_full: Option<String>,
    /// The search terms.
    #[serde(rename = "search.query", default, skip_serializing_if = "Option::is_none")]
    pub search_query: Option<String>,
    /// The mail subject.
    #[serde(rename = "email.subject", default, skip_serializing_if = "Option::is_none")]
    pub email_subject: Option<String>,
    /// The id of the matching event.
    #[serde(rename = "event.id")]
    pub event_id: String,
    /// The user's display name, from the user directory.
    #[serde(rename = "user.full_name", default, skip_serializing_if = "Option::is_none")]
    pub user_full_name: Option<String>,
    /// `pupil` or `staff`, from the user directory.
    #[serde(rename = "user.role", default, skip_serializing_if = "Option::is_none")]
    pub user_role: Option<String>,
    /// National Curriculum year group: 0 is Reception, 1 to 13 are Years 1
    /// to 13.
    #[serde(rename = "user.year_group", default, skip_serializing_if = "Option::is_none")]
    pub user_year_group: Option<u8>,
    /// How the user was found when the log line did not name them
    /// (`lease:<format>`); absent when it did.
    #[serde(rename = "user.attribution", default, skip_serializing_if = "Option::is_none")]
    pub user_attribution: Option<String>,
    /// The client device's name.
    #[serde(rename = "device.name", default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// What the user (or, unattributed, the address) did around the
    /// matching event, oldest first; the matching event is among them,
    /// marked (see [`crate::context`]).
    #[serde(rename = "alert.context", default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<ContextEntry>,
    /// Context entries left out to keep to `[alerter] context_max_entries`
    /// (those furthest in time from the matching event).
    #[serde(rename = "alert.context_omitted", default, skip_serializing_if = "is_zero")]
    pub context_omitted: usize,
    /// The recipient lists told (`dsl`, `ict`, names from `[email.lists]`),
    /// as routing decided ([`crate::routing::Router::route`]).
    #[serde(rename = "alert.recipients", default)]
    pub recipients: Vec<String>,
    /// Whether the lists are told at once or in their digest, as routing
    /// decided.
    #[serde(rename = "alert.delivery", default)]
    pub delivery: Delivery,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Alert {
    /// The alert for `event` matching `rule` as described by `found`, with
    /// `suppressed` throttled matches before it; not yet routed (no
    /// recipients). Its context is the event alone until
    /// [`crate::context::Context::attach`] adds the rest.
    pub fn new(rule: &Rule, found: &RuleMatch, event: &Event, suppressed: u64) -> Alert {
        Alert {
            id: Alert::derive_id(&rule.id, &event.id),
            timestamp: event.timestamp,
            rule_id: rule.id.clone(),
            rule_description: rule.description.clone(),
            category: rule.category.clone(),
            severity: rule.severity,
            role: rule.notify,
            phrase: found.phrase.clone(),
            field: found.field,
            suppressed,
            group: found.group.clone(),
            group_field: found.group_field,
            event_kind: Some(event.kind),
            tenant: event.tenant.to_string(),
            user_name: event.user_name.clone(),
            source_ip: event.source_ip.clone(),
            host_name: event.host_name.clone(),
            url_full: event.url_full.clone(),
            search_query: event.search_query.clone(),
            email_subject: event.email_subject.clone(),
            event_id: event.id.clone(),
            user_full_name: event.user_full_name.clone(),
            user_role: event.user_role.clone(),
            user_year_group: event.user_year_group,
            user_attribution: event.user_attribution.clone(),
            device_name: event.device_name.clone(),
            context: vec![ContextEntry::of_alert_event(event)],
            context_omitted: 0,
            recipients: Vec::new(),
            delivery: Delivery::Immediate,
        }
    }

    /// 32 hex digits of SHA-256 over the rule id and the event id: the same
    /// event matching the same rule always yields the same alert id, so a
    /// replay after a restart is recognised.
    pub fn derive_id(rule_id: &str, event_id: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(rule_id.as_bytes());
        hasher.update([0]);
        hasher.update(event_id.as_bytes());
        hex(&hasher.finalize()[..16])
    }

    /// Whether the alert is about an address (a windowed rule grouped by
    /// `source.ip`) rather than about the matching event's user.
    pub fn about_address(&self) -> bool {
        self.group.is_some() && self.group_field == Some(Field::SourceIp)
    }

    /// Who the alert is about: a windowed rule's group, else the user,
    /// else the source address.
    pub fn who(&self) -> Option<&str> {
        self.group.as_deref().or(self.user_name.as_deref()).or(self.source_ip.as_deref())
    }

    /// The alerts-topic key, `tenant/user` (or `tenant/ip`), as for events.
    pub fn partition_key(&self) -> String {
        format!("{}/{}", self.tenant, self.who().unwrap_or(""))
    }

    /// Serialises to the wire format (one JSON object).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an Alert always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_depend_only_on_rule_and_event() {
        let a = Alert::derive_id("self-harm", "e1");
        assert_eq!(a, Alert::derive_id("self-harm", "e1"));
        assert_ne!(a, Alert::derive_id("self-harm", "e2"));
        assert_ne!(a, Alert::derive_id("weapons", "e1"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(Alert::derive_id("ab", "c"), Alert::derive_id("a", "bc"));
        assert_eq!(a.len(), 32);
    }
}
