//! The threshold rule type: `count` events the rule's condition admits
//! within a window, per group (10 failed sign-ins from one address in 5
//! minutes). The event that brings a group's count within one window to
//! `count` matches, and so does each further one while the count holds;
//! the alerter's throttle keeps that to one alert per throttle window.
//!
//! The web filter's verdict rules (`blocked = { categories, attempts,
//! within_secs }`) are thresholds too: blocked requests whose
//! `filter.category` holds one of the categories' words, per user (or,
//! unattributed, per address), the category shown as what matched.

use super::condition::Filter;
use super::groups::Grouped;
use super::rule_type::RuleType;
use super::window::{Inserted, Recent, Seen};
use super::{Field, Rule, RuleMatch, RulesError, Setup};
use chrono::{DateTime, Utc};
use vigil_core::config::{BlockedConfig, ConditionValue, Scalar, Selection, Selections, ThresholdConfig};
use vigil_core::Event;

/// One threshold rule and its groups' recent events.
#[derive(Debug)]
pub struct Threshold {
    id: String,
    filter: Filter,
    count: usize,
    /// The field whose value an alert shows as what matched, instead of a
    /// count.
    show: Option<Field>,
    grouped: Grouped<Recent>,
}

impl Threshold {
    /// Rule `rule` (at `index`) counting as `config` says the events
    /// `filter` admits.
    pub fn new(
        index: usize,
        rule: &Rule,
        config: &ThresholdConfig,
        filter: Filter,
        setup: &Setup,
    ) -> Result<Threshold, RulesError> {
        if config.count == 0 || config.within_secs == 0 {
            return Err(RulesError::Invalid {
                rule: rule.id.clone(),
                message: "needs threshold.count and threshold.within_secs of at least 1".into(),
            });
        }
        Ok(Threshold {
            id: rule.id.clone(),
            filter,
            count: config.count as usize,
            show: None,
            grouped: Grouped::new(index, &rule.id, &config.group_by, config.within_secs, setup)?,
        })
    }

    /// A web-filter verdict rule `rule` (at `index`) as a threshold.
    pub fn from_blocked(
        index: usize,
        rule: &Rule,
        blocked: &BlockedConfig,
        setup: &Setup,
    ) -> Result<Threshold, RulesError> {
        let invalid = || RulesError::Invalid {
            rule: rule.id.clone(),
            message: "needs blocked.categories, and blocked.attempts and within_secs of at least 1".into(),
        };
        let categories: Vec<Scalar> = blocked
            .categories
            .iter()
            .filter(|c| !setup.normaliser.normalise(c).is_empty())
            .map(|c| Scalar::Text(c.clone()))
            .collect();
        if categories.is_empty() || blocked.attempts == 0 || blocked.within_secs == 0 {
            return Err(invalid());
        }
        let when: Selection = [
            ("event.action".to_string(), ConditionValue::One(Scalar::Text("blocked".into()))),
            ("filter.category|words".to_string(), ConditionValue::Many(categories)),
        ]
        .into_iter()
        .collect();
        let filter = Filter::new(&rule.id, Some(&Selections::One(when)), rule.unless.as_ref(), &setup.normaliser)?;
        let config = ThresholdConfig {
            count: blocked.attempts,
            within_secs: blocked.within_secs,
            group_by: vec!["user.name or source.ip".into()],
        };
        let mut threshold = Threshold::new(index, rule, &config, filter, setup)?;
        threshold.show = Some(Field::FilterCategory);
        Ok(threshold)
    }
}

impl RuleType for Threshold {
    fn id(&self) -> &str {
        &self.id
    }

    fn observe(&mut self, event: &Event, found: &mut Vec<RuleMatch>) {
        if !self.filter.admits(event) {
            return;
        }
        let Some(key) = self.grouped.group_by.key(event) else { return };
        let window = self.grouped.window;
        let recent = self.grouped.groups.entry(key.clone());
        if recent.insert(Seen::new(event.timestamp, &event.id, 0), self.count, window) == Inserted::TooLate {
            return;
        }
        let counted = recent.most_within(event.timestamp.timestamp_millis(), window);
        if counted < self.count {
            return;
        }
        let shown = self.show.and_then(|field| field.value(event).map(|value| (field, value.to_string())));
        let (field, phrase) = shown.unwrap_or_else(|| {
            let field = self.grouped.group_by.first_field().unwrap_or(Field::EventAction);
            (field, format!("{counted} events {}", self.grouped.describe(&key)))
        });
        found.push(self.grouped.matched(event, &key, field, phrase));
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
    use crate::rules::testing::{at, auth, observe, rule, setup, when};
    use vigil_core::{EventKind, Outcome};

    fn failures(count: u32, within_secs: u64, tolerance: u64) -> Threshold {
        let s = setup(tolerance);
        let config = ThresholdConfig { count, within_secs, group_by: vec!["source.ip".into()] };
        let filter = when(r#"when = { "event.action" = ["login-failed", "invalid-user"] }"#, &s);
        Threshold::new(0, &rule("brute"), &config, filter, &s).unwrap()
    }

    #[test]
    fn the_nth_event_within_the_window_matches_and_not_one_fewer() {
        let mut t = failures(3, 60, 0);
        assert!(observe(&mut t, &auth("1", 0, "login-failed", "root", "203.0.113.77")).is_empty());
        assert!(observe(&mut t, &auth("2", 30, "invalid-user", "admin", "203.0.113.77")).is_empty());
        assert!(observe(&mut t, &auth("x", 31, "login-failed", "root", "198.51.100.1")).is_empty(), "another address");
        assert!(observe(&mut t, &auth("y", 32, "logged-in", "root", "203.0.113.77")).is_empty(), "not admitted");
        let found = observe(&mut t, &auth("3", 59, "login-failed", "oracle", "203.0.113.77"));
        assert_eq!(found.len(), 1, "three failures 59 s apart");
        assert_eq!(found[0].group.as_deref(), Some("203.0.113.77"), "about the address, whoever the user");
        assert_eq!(found[0].field, Field::SourceIp);
        assert_eq!(found[0].phrase, "3 events within 1 minute by source.ip 203.0.113.77");
    }

    #[test]
    fn events_a_whole_window_apart_do_not_count_together() {
        let mut t = failures(3, 60, 0);
        observe(&mut t, &auth("1", 0, "login-failed", "root", "203.0.113.77"));
        observe(&mut t, &auth("2", 30, "login-failed", "root", "203.0.113.77"));
        assert!(observe(&mut t, &auth("3", 60, "login-failed", "root", "203.0.113.77")).is_empty(), "0 and 60: apart");
        assert_eq!(observe(&mut t, &auth("4", 61, "login-failed", "root", "203.0.113.77")).len(), 1, "30, 60, 61");
    }

    #[test]
    fn a_late_event_completes_its_window_and_a_replay_counts_once() {
        let mut t = failures(3, 60, 120);
        observe(&mut t, &auth("1", 100, "login-failed", "root", "203.0.113.77"));
        observe(&mut t, &auth("2", 130, "login-failed", "root", "203.0.113.77"));
        assert!(observe(&mut t, &auth("2", 130, "login-failed", "root", "203.0.113.77")).is_empty(), "replayed");
        assert_eq!(observe(&mut t, &auth("late", 90, "login-failed", "root", "203.0.113.77")).len(), 1, "late by 40 s");
        let mut t = failures(3, 60, 10);
        observe(&mut t, &auth("1", 100, "login-failed", "root", "203.0.113.77"));
        observe(&mut t, &auth("2", 130, "login-failed", "root", "203.0.113.77"));
        assert!(observe(&mut t, &auth("late", 30, "login-failed", "root", "203.0.113.77")).is_empty(), "too late");
    }

    #[test]
    fn the_state_saved_at_a_checkpoint_restores_the_same_counts() {
        let mut t = failures(3, 600, 0);
        observe(&mut t, &auth("1", 0, "login-failed", "root", "203.0.113.77"));
        observe(&mut t, &auth("2", 10, "login-failed", "root", "203.0.113.77"));
        let saved = t.checkpoint(at(10)).unwrap();
        assert_eq!(t.checkpoint(at(10)), None, "nothing changed since");
        let mut restarted = failures(3, 600, 0);
        restarted.restore(saved).unwrap();
        assert!(observe(&mut restarted, &auth("2", 10, "login-failed", "root", "203.0.113.77")).is_empty(), "replay");
        assert_eq!(observe(&mut restarted, &auth("3", 20, "login-failed", "root", "203.0.113.77")).len(), 1);
        restarted.checkpoint(at(20 + 600 + 86_400 - 1));
        assert_eq!(restarted.grouped.groups.len(), 1, "kept for a day after it could last match");
        restarted.checkpoint(at(20 + 600 + 86_400));
        assert!(restarted.grouped.groups.is_empty(), "then forgotten");
    }

    fn blocked_rule() -> Threshold {
        let mut rule = rule("pornography.blocked");
        let blocked =
            BlockedConfig { categories: vec!["pornography".into(), "adult".into()], attempts: 3, within_secs: 600 };
        rule.blocked = Some(blocked.clone());
        Threshold::from_blocked(0, &rule, &blocked, &setup(0)).unwrap()
    }

    fn blocked(id: &str, user: &str, minute: i64, category: &str) -> Event {
        let mut e =
            Event::new(at(minute * 60), EventKind::Proxy, "blocked", Outcome::Failure, "fortigate", "fortigate", "raw");
        e.id = id.into();
        e.user_name = Some(user.into());
        e.filter_category = Some(category.into());
        e
    }

    #[test]
    fn the_third_blocked_request_in_the_window_matches_showing_the_category() {
        let mut r = blocked_rule();
        assert!(observe(&mut r, &blocked("1", "a", 0, "Pornography")).is_empty());
        assert!(observe(&mut r, &blocked("2", "a", 1, "Adult/Mature Content")).is_empty());
        assert!(observe(&mut r, &blocked("3", "b", 2, "Pornography")).is_empty(), "another user counts apart");
        let found = observe(&mut r, &blocked("4", "a", 3, "Pornography, Nudity"));
        assert_eq!((found[0].phrase.as_str(), found[0].field), ("Pornography, Nudity", Field::FilterCategory));
        assert_eq!(
            observe(&mut r, &blocked("5", "a", 4, "Pornography")).len(),
            1,
            "the throttle keeps it to one alert"
        );
    }

    #[test]
    fn other_categories_allowed_requests_and_old_attempts_do_not_count() {
        let mut r = blocked_rule();
        assert!(observe(&mut r, &blocked("1", "a", 0, "Games")).is_empty());
        assert!(observe(&mut r, &blocked("2", "a", 0, "Adultery law")).is_empty());
        let mut allowed = blocked("3", "a", 1, "Pornography");
        allowed.action = "allowed".into();
        assert!(observe(&mut r, &allowed).is_empty());
        observe(&mut r, &blocked("4", "a", 1, "Pornography"));
        observe(&mut r, &blocked("5", "a", 2, "Pornography"));
        assert!(observe(&mut r, &blocked("6", "a", 20, "Pornography")).is_empty(), "the first two are too old");
    }
}
