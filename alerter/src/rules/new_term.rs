//! The new-term rule type: a value of a field not seen before for its
//! group (an admin account signing in from an address it never used),
//! once the rule has learnt for a while. For `learn_secs` of event time
//! from the first event the rule sees, values are only learnt; after that a
//! value the group has not had within `forget_secs` matches, and is learnt.

use super::condition::Filter;
use super::groups::{GroupBy, GroupState, Grouped};
use super::rule_type::RuleType;
use super::window::stable_hash;
use super::{Field, RuleMatch, RulesError, Setup};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vigil_core::config::NewTermConfig;
use vigil_core::Event;

/// Values kept per group at most; past it the least recently seen goes.
const MAX_TERMS_PER_GROUP: usize = 1000;

/// A group's known values: (value hash, last seen in ms).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Terms(Vec<(u64, i64)>);

impl GroupState for Terms {
    fn newest(&self) -> Option<i64> {
        self.0.iter().map(|(_, at)| *at).max()
    }
}

/// The saved form: when learning began, and the groups.
#[derive(Serialize, Deserialize)]
struct Saved {
    since: Option<i64>,
    groups: serde_json::Value,
}

/// One new-term rule.
#[derive(Debug)]
pub struct NewTerm {
    id: String,
    filter: Filter,
    field: Field,
    learn_ms: i64,
    forget_ms: i64,
    /// The first event time the rule saw, in ms.
    since: Option<i64>,
    grouped: Grouped<Terms>,
}

impl NewTerm {
    /// Rule `id` (at `index`) as `config` says, for the events `filter`
    /// admits.
    pub fn new(
        index: usize,
        id: &str,
        config: &NewTermConfig,
        filter: Filter,
        setup: &Setup,
    ) -> Result<NewTerm, RulesError> {
        let field = Field::from_name(&config.field).ok_or_else(|| RulesError::Invalid {
            rule: id.to_string(),
            message: format!("learns the unknown event field {:?}", config.field),
        })?;
        let ms = |secs: u64| i64::try_from(secs).unwrap_or(i64::MAX / 2_000).saturating_mul(1000);
        Ok(NewTerm {
            id: id.to_string(),
            filter,
            field,
            learn_ms: ms(config.learn_secs),
            forget_ms: ms(config.forget_secs),
            since: None,
            grouped: Grouped::new(index, id, &config.group_by, config.forget_secs, setup)?,
        })
    }
}

impl RuleType for NewTerm {
    fn id(&self) -> &str {
        &self.id
    }

    fn observe(&mut self, event: &Event, found: &mut Vec<RuleMatch>) {
        if !self.filter.admits(event) {
            return;
        }
        let Some(value) = self.field.values(event).first().map(str::to_string) else { return };
        let Some(key) = self.grouped.group_by.key(event) else { return };
        let at = event.timestamp.timestamp_millis();
        let since = *self.since.get_or_insert(at);
        let hash = stable_hash(&value.to_ascii_lowercase());
        let terms = self.grouped.groups.entry(key.clone());
        let known = terms.0.iter_mut().find(|(h, _)| *h == hash);
        let new = match known {
            Some((_, seen)) => {
                let forgotten = at - *seen >= self.forget_ms;
                *seen = (*seen).max(at);
                forgotten
            }
            None => {
                if terms.0.len() >= MAX_TERMS_PER_GROUP {
                    let oldest = terms.0.iter().enumerate().min_by_key(|(_, (_, seen))| *seen).map(|(i, _)| i);
                    terms.0.swap_remove(oldest.unwrap_or(0));
                }
                terms.0.push((hash, at));
                true
            }
        };
        if new && at - since >= self.learn_ms {
            let by = self.grouped.group_by.describe();
            let phrase = if by.is_empty() {
                format!("{} {value}, new", self.field.as_str())
            } else {
                format!("{} {value}, new for {by} {}", self.field.as_str(), GroupBy::display(&key))
            };
            found.push(self.grouped.matched(event, &key, self.field, phrase));
        }
    }

    fn checkpoint(&mut self, now: DateTime<Utc>) -> Option<serde_json::Value> {
        let groups = self.grouped.checkpoint(now)?;
        Some(serde_json::to_value(Saved { since: self.since, groups }).expect("new-term state serialises"))
    }

    fn restore(&mut self, saved: serde_json::Value) -> Result<(), String> {
        let saved: Saved = serde_json::from_value(saved).map_err(|e| e.to_string())?;
        self.since = saved.since;
        self.grouped.restore(saved.groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{at, auth, observe, setup, when};

    fn new_host() -> NewTerm {
        let s = setup(0);
        let config = NewTermConfig {
            field: "source.ip".into(),
            group_by: vec!["user.name".into()],
            learn_secs: 86_400,
            forget_secs: 30 * 86_400,
        };
        NewTerm::new(0, "new-host", &config, when(r#"when = { "event.action" = "logged-in" }"#, &s), &s).unwrap()
    }

    #[test]
    fn values_are_learnt_first_and_new_ones_match_after() {
        let mut n = new_host();
        assert!(observe(&mut n, &auth("1", 0, "logged-in", "administrator", "10.0.0.5")).is_empty(), "learning");
        assert!(observe(&mut n, &auth("2", 3600, "logged-in", "administrator", "10.0.0.6")).is_empty(), "learning");
        let day = 86_400;
        assert!(observe(&mut n, &auth("3", day, "logged-in", "administrator", "10.0.0.5")).is_empty(), "known");
        let found = observe(&mut n, &auth("4", day + 1, "logged-in", "administrator", "203.0.113.9"));
        assert_eq!(found[0].phrase, "source.ip 203.0.113.9, new for user.name administrator");
        assert!(observe(&mut n, &auth("5", day + 2, "logged-in", "administrator", "203.0.113.9")).is_empty(), "learnt");
        assert_eq!(
            observe(&mut n, &auth("6", day + 3, "logged-in", "it.tech", "10.0.0.5")).len(),
            1,
            "new for it.tech"
        );
        assert!(observe(&mut n, &auth("7", day + 4, "login-failed", "it.tech", "10.9.9.9")).is_empty(), "not admitted");
    }

    #[test]
    fn the_learning_start_and_the_values_survive_a_restart() {
        let mut n = new_host();
        observe(&mut n, &auth("1", 0, "logged-in", "administrator", "10.0.0.5"));
        let saved = n.checkpoint(at(0)).unwrap();
        let mut back = new_host();
        back.restore(saved).unwrap();
        assert!(observe(&mut back, &auth("2", 86_400, "logged-in", "administrator", "10.0.0.5")).is_empty());
        assert_eq!(observe(&mut back, &auth("3", 86_400, "logged-in", "administrator", "10.0.0.7")).len(), 1);
    }
}
