//! Rules on the web filter's own verdicts: a user (or, unattributed, an
//! address) whose requests in a safeguarding category keep being blocked.
//!
//! Each blocked request whose `filter.category` names one of a rule's
//! categories is counted per (rule, tenant, who); the request that brings
//! the count within the rule's window to its `attempts` matches. The
//! alerter's throttle then keeps it to one alert per window, not one per
//! line. Counts live in memory, bounded by [`MAX_KEYS`]; after a restart
//! counting starts again (the throttle state, which is saved, still knows
//! an alert was raised).

use super::normalise::Normaliser;
use super::{Field, Rule, RuleMatch, RulesError};
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, VecDeque};
use vigil_core::Event;

/// (rule, tenant, who) counters kept at most; past this the stalest are
/// dropped.
pub const MAX_KEYS: usize = 100_000;

/// One blocked-verdict rule, compiled.
#[derive(Debug)]
struct Compiled {
    rule: usize,
    /// Normalised category names, each a run of words.
    categories: Vec<String>,
    attempts: usize,
    window: Duration,
}

/// Every blocked-verdict rule and its counters.
#[derive(Debug)]
pub struct BlockedRules {
    rules: Vec<Compiled>,
    normaliser: Normaliser,
    /// Times of the recent matching requests, oldest first, at most
    /// `attempts` per key.
    recent: HashMap<(usize, String, String), VecDeque<DateTime<Utc>>>,
}

impl BlockedRules {
    /// Compiles the `blocked` conditions of `rules`, reading category names
    /// with `normaliser`.
    pub fn new(rules: &[Rule], normaliser: &Normaliser) -> Result<BlockedRules, RulesError> {
        let mut compiled = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let Some(blocked) = &rule.blocked else { continue };
            let categories: Vec<String> =
                blocked.categories.iter().map(|c| normaliser.normalise(c)).filter(|c| !c.is_empty()).collect();
            if categories.is_empty() || blocked.attempts == 0 || blocked.within_secs == 0 {
                return Err(RulesError::Invalid {
                    rule: rule.id.clone(),
                    message: "needs blocked.categories, and blocked.attempts and within_secs of at least 1".into(),
                });
            }
            compiled.push(Compiled {
                rule: index,
                categories,
                attempts: blocked.attempts as usize,
                window: Duration::seconds(i64::try_from(blocked.within_secs).unwrap_or(i64::MAX / 1000)),
            });
        }
        Ok(BlockedRules { rules: compiled, normaliser: normaliser.clone(), recent: HashMap::new() })
    }

    /// Counts `event` when it is a blocked request in a rule's categories,
    /// and adds to `found` each rule whose count it completes.
    pub fn observe(&mut self, event: &Event, found: &mut Vec<RuleMatch>) {
        if self.rules.is_empty() || event.action.as_str() != "blocked" {
            return;
        }
        let Some(category) = event.filter_category.as_deref() else { return };
        let who = event.user_name.as_deref().or(event.source_ip.as_deref()).unwrap_or("");
        let words = self.normaliser.normalise(category);
        for compiled in &self.rules {
            if !compiled.categories.iter().any(|c| contains_words(&words, c)) {
                continue;
            }
            let key = (compiled.rule, event.tenant.to_string(), who.to_string());
            let times = self.recent.entry(key).or_default();
            times.push_back(event.timestamp);
            while times.front().is_some_and(|t| *t <= event.timestamp - compiled.window)
                || times.len() > compiled.attempts
            {
                times.pop_front();
            }
            if times.len() >= compiled.attempts {
                found.push(RuleMatch {
                    rule: compiled.rule,
                    phrase: category.to_string(),
                    field: Field::FilterCategory,
                });
            }
        }
        if self.recent.len() > MAX_KEYS {
            self.drop_stalest();
        }
    }

    /// Drops the half of the counters whose newest request is oldest.
    fn drop_stalest(&mut self) {
        let mut newest: Vec<DateTime<Utc>> = self.recent.values().filter_map(|t| t.back().copied()).collect();
        newest.sort_unstable();
        let cut = newest[newest.len() / 2];
        self.recent.retain(|_, times| times.back().is_some_and(|t| *t > cut));
    }
}

/// Whether the words `needle` occur, whole, in the words `haystack` (both
/// single-spaced).
fn contains_words(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(at, _)| {
        let end = at + needle.len();
        (at == 0 || haystack.as_bytes()[at - 1] == b' ') && (end == haystack.len() || haystack.as_bytes()[end] == b' ')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use vigil_core::config::{BlockedConfig, Role, Severity};
    use vigil_core::{EventKind, Outcome};

    fn rules() -> BlockedRules {
        let rule = Rule {
            id: "pornography.blocked".into(),
            category: "pornography".into(),
            severity: Severity::Medium,
            notify: Role::Dsl,
            description: None,
            origin: "test".into(),
            phrases: Vec::new(),
            all: Vec::new(),
            patterns: Vec::new(),
            exceptions: Vec::new(),
            blocked: Some(BlockedConfig {
                categories: vec!["pornography".into(), "adult".into()],
                attempts: 3,
                within_secs: 600,
            }),
        };
        BlockedRules::new(&[rule], &Normaliser::default()).unwrap()
    }

    fn blocked(user: &str, minute: u32, category: &str) -> Event {
        let at = Utc.with_ymd_and_hms(2026, 3, 4, 10, minute, 0).unwrap();
        let mut e = Event::new(at, EventKind::Proxy, "blocked", Outcome::Failure, "fortigate", "fortigate", "raw");
        e.user_name = Some(user.into());
        e.filter_category = Some(category.into());
        e
    }

    fn count(rules: &mut BlockedRules, event: &Event) -> usize {
        let mut found = Vec::new();
        rules.observe(event, &mut found);
        found.len()
    }

    #[test]
    fn the_third_blocked_request_in_the_window_matches() {
        let mut r = rules();
        assert_eq!(count(&mut r, &blocked("a", 0, "Pornography")), 0);
        assert_eq!(count(&mut r, &blocked("a", 1, "Adult/Mature Content")), 0);
        assert_eq!(count(&mut r, &blocked("b", 2, "Pornography")), 0, "another user counts apart");
        assert_eq!(count(&mut r, &blocked("a", 3, "Pornography, Nudity")), 1);
        assert_eq!(
            count(&mut r, &blocked("a", 4, "Pornography")),
            1,
            "the throttle, not this rule, keeps it to one alert"
        );
    }

    #[test]
    fn other_categories_allowed_requests_and_old_attempts_do_not_count() {
        let mut r = rules();
        assert_eq!(count(&mut r, &blocked("a", 0, "Games")), 0);
        assert_eq!(count(&mut r, &blocked("a", 0, "Adultery law")), 0);
        let mut allowed = blocked("a", 1, "Pornography");
        allowed.action = "allowed".into();
        assert_eq!(count(&mut r, &allowed), 0);
        assert_eq!(count(&mut r, &blocked("a", 1, "Pornography")), 0);
        assert_eq!(count(&mut r, &blocked("a", 2, "Pornography")), 0);
        assert_eq!(
            count(&mut r, &blocked("a", 20, "Pornography")),
            0,
            "the first two are outside the 10-minute window"
        );
    }
}
