//! The distinct rule type: `count` distinct values of a field among the
//! events the rule's condition admits within a window, per group (one
//! address failing to sign in as 15 different users: password spraying).
//! Each value is kept once, at its newest time; the event that brings a
//! group's distinct values within one window to `count` matches, as does
//! each further one while the count holds (the throttle keeps that to one
//! alert).

use super::condition::Filter;
use super::groups::Grouped;
use super::rule_type::RuleType;
use super::window::{stable_hash, Inserted, Recent, Seen};
use super::{Field, RuleMatch, RulesError, Setup};
use chrono::{DateTime, Utc};
use vigil_core::config::DistinctConfig;
use vigil_core::Event;

/// One distinct rule and its groups' recent values.
#[derive(Debug)]
pub struct Distinct {
    id: String,
    filter: Filter,
    field: Field,
    count: usize,
    grouped: Grouped<Recent>,
}

impl Distinct {
    /// Rule `id` (at `index`) counting as `config` says the events `filter`
    /// admits.
    pub fn new(
        index: usize,
        id: &str,
        config: &DistinctConfig,
        filter: Filter,
        setup: &Setup,
    ) -> Result<Distinct, RulesError> {
        let invalid = |message: String| RulesError::Invalid { rule: id.to_string(), message };
        let field = Field::from_name(&config.field)
            .ok_or_else(|| invalid(format!("counts the unknown event field {:?}", config.field)))?;
        if config.count < 2 || config.within_secs == 0 {
            return Err(invalid("needs distinct.count of at least 2 and distinct.within_secs of at least 1".into()));
        }
        Ok(Distinct {
            id: id.to_string(),
            filter,
            field,
            count: config.count as usize,
            grouped: Grouped::new(index, id, &config.group_by, config.within_secs, setup)?,
        })
    }
}

impl RuleType for Distinct {
    fn id(&self) -> &str {
        &self.id
    }

    fn observe(&mut self, event: &Event, found: &mut Vec<RuleMatch>) {
        if !self.filter.admits(event) {
            return;
        }
        let mut values = Vec::new();
        self.field.values(event).any(|v| {
            values.push(stable_hash(&v.to_ascii_lowercase()));
            false
        });
        if values.is_empty() {
            return;
        }
        let Some(key) = self.grouped.group_by.key(event) else { return };
        let window = self.grouped.window;
        let recent = self.grouped.groups.entry(key.clone());
        let event_hash = stable_hash(&event.id);
        let at = event.timestamp.timestamp_millis();
        for value in values {
            // Each value of a many-valued field (the recipients of one mail)
            // counts, so each is its own entry, recognised on replay.
            let seen = Seen { at, event: event_hash ^ value, value };
            if recent.insert_value(seen, self.count, window) == Inserted::TooLate {
                return;
            }
        }
        let counted = recent.most_within(event.timestamp.timestamp_millis(), window);
        if counted >= self.count {
            let phrase = format!("{counted} distinct {} {}", self.field.as_str(), self.grouped.describe(&key));
            let field = self.grouped.group_by.first_field().unwrap_or(self.field);
            found.push(self.grouped.matched(event, &key, field, phrase));
        }
    }

    fn checkpoint(&mut self, now: DateTime<Utc>) -> Option<serde_json::Value> {
        self.grouped.checkpoint(now)
    }

    fn restore(&mut self, saved: serde_json::Value) -> Result<(), String> {
        self.grouped.restore(saved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{auth, observe, setup, when};

    fn spray(count: u32) -> Distinct {
        let s = setup(0);
        let config =
            DistinctConfig { field: "user.name".into(), count, within_secs: 600, group_by: vec!["source.ip".into()] };
        let filter = when(r#"when = { "event.outcome" = "failure" }"#, &s);
        Distinct::new(0, "spray", &config, filter, &s).unwrap()
    }

    #[test]
    fn distinct_values_count_and_repeats_of_one_do_not() {
        let mut d = spray(3);
        assert!(observe(&mut d, &auth("1", 0, "login-failed", "a.khan", "81.2.69.144")).is_empty());
        assert!(observe(&mut d, &auth("2", 10, "login-failed", "A.KHAN", "81.2.69.144")).is_empty(), "same user");
        assert!(observe(&mut d, &auth("3", 20, "login-failed", "a.khan", "81.2.69.144")).is_empty());
        assert!(observe(&mut d, &auth("4", 30, "login-failed", "l.evans", "81.2.69.144")).is_empty(), "two users");
        assert!(observe(&mut d, &auth("5", 40, "logged-in", "r.jones", "81.2.69.144")).is_empty(), "a success");
        let found = observe(&mut d, &auth("6", 599, "login-failed", "r.jones", "81.2.69.144"));
        assert_eq!(found[0].phrase, "3 distinct user.name within 10 minutes by source.ip 81.2.69.144");
        assert!(
            observe(&mut d, &auth("7", 1230, "login-failed", "m.patel", "81.2.69.144")).is_empty(),
            "window moved on"
        );
    }

    #[test]
    fn a_value_seen_again_counts_at_its_newest_time() {
        let mut d = spray(3);
        observe(&mut d, &auth("1", 0, "login-failed", "a", "81.2.69.144"));
        observe(&mut d, &auth("2", 300, "login-failed", "b", "81.2.69.144"));
        observe(&mut d, &auth("3", 650, "login-failed", "a", "81.2.69.144"));
        assert_eq!(observe(&mut d, &auth("4", 660, "login-failed", "c", "81.2.69.144")).len(), 1, "a (650), b, c");
    }

    #[test]
    fn every_value_of_a_many_valued_field_counts() {
        let s = setup(0);
        let config = DistinctConfig {
            field: "email.to".into(),
            count: 3,
            within_secs: 3600,
            group_by: vec!["email.from".into()],
        };
        let mut d = Distinct::new(0, "mass", &config, Filter::default(), &s).unwrap();
        let mut mail = auth("m1", 0, "delivered", "x", "10.0.0.1");
        mail.email_from = Some("head@school.example".into());
        mail.email_to = vec!["a@x.example".into(), "b@x.example".into()];
        assert!(observe(&mut d, &mail).is_empty());
        assert!(observe(&mut d, &mail).is_empty(), "a replay adds nobody");
        mail.id = "m2".into();
        mail.email_to = vec!["B@x.example".into(), "c@x.example".into()];
        assert_eq!(observe(&mut d, &mail).len(), 1);
    }
}
