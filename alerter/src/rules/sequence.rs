//! The sequence rule type: steps that happen in order for one group within
//! a window (10 failed sign-ins and then a successful one for the same
//! account: likely compromised; an account created and then added to an
//! admin group). Each step has its own condition and count; the event that
//! completes the last step, with every earlier step complete before it and
//! all within the window, matches.

use super::condition::Filter;
use super::groups::{GroupState, Grouped};
use super::rule_type::RuleType;
use super::window::{Inserted, Recent, Seen};
use super::{Field, RuleMatch, RulesError, Setup};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vigil_core::config::SequenceConfig;
use vigil_core::Event;

/// One step, compiled.
#[derive(Debug)]
struct Step {
    name: String,
    filter: Filter,
    count: usize,
}

/// A group's recent events of each step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Steps(Vec<Recent>);

impl GroupState for Steps {
    fn newest(&self) -> Option<i64> {
        self.0.iter().filter_map(Recent::newest).max()
    }
}

/// One sequence rule and its groups' progress.
#[derive(Debug)]
pub struct Sequence {
    id: String,
    /// The rule's own `when`/`unless`, before any step's.
    filter: Filter,
    steps: Vec<Step>,
    grouped: Grouped<Steps>,
}

impl Sequence {
    /// Rule `id` (at `index`) as `config` says, looking only at events
    /// `filter` admits.
    pub fn new(
        index: usize,
        id: &str,
        config: &SequenceConfig,
        filter: Filter,
        setup: &Setup,
    ) -> Result<Sequence, RulesError> {
        if config.steps.len() < 2 || config.within_secs == 0 || config.steps.iter().any(|s| s.count == 0) {
            return Err(RulesError::Invalid {
                rule: id.to_string(),
                message: "needs at least two sequence.steps, each with a count of at least 1, and sequence.within_secs of at least 1".into(),
            });
        }
        let steps = config
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                Ok(Step {
                    name: step.name.clone().unwrap_or_else(|| format!("step {}", i + 1)),
                    filter: Filter::new(id, Some(&step.when), step.unless.as_ref(), &setup.normaliser)?,
                    count: step.count as usize,
                })
            })
            .collect::<Result<_, RulesError>>()?;
        Ok(Sequence {
            id: id.to_string(),
            filter,
            steps,
            grouped: Grouped::new(index, id, &config.group_by, config.within_secs, setup)?,
        })
    }
}

/// Whether `steps` are complete in order by `at`, all less than `within`
/// before it: each step's `count`-th event at or after the previous step's
/// completion.
fn complete(steps: &[Step], within: i64, state: &Steps, at: i64) -> bool {
    let mut from = at.saturating_sub(within) + 1;
    for (step, recent) in steps.iter().zip(&state.0) {
        let mut times = recent.times().filter(|&t| t >= from && t <= at);
        match times.nth(step.count - 1) {
            Some(done) => from = done,
            None => return false,
        }
    }
    true
}

impl RuleType for Sequence {
    fn id(&self) -> &str {
        &self.id
    }

    fn observe(&mut self, event: &Event, found: &mut Vec<RuleMatch>) {
        if !self.filter.admits(event) {
            return;
        }
        let of_steps: Vec<usize> = (0..self.steps.len()).filter(|&i| self.steps[i].filter.admits(event)).collect();
        if of_steps.is_empty() {
            return;
        }
        let Some(key) = self.grouped.group_by.key(event) else { return };
        let window = self.grouped.window;
        let seen = Seen::new(event.timestamp, &event.id, 0);
        let state = self.grouped.groups.entry(key.clone());
        state.0.resize_with(self.steps.len(), Recent::default);
        for &i in &of_steps {
            if state.0[i].insert(seen, self.steps[i].count, window) == Inserted::TooLate {
                return;
            }
        }
        let last = self.steps.len() - 1;
        if of_steps.contains(&last) && complete(&self.steps, window.within, state, seen.at) {
            let names: Vec<&str> = self.steps.iter().map(|s| s.name.as_str()).collect();
            let phrase = format!("{} {}", names.join(" then "), self.grouped.describe(&key));
            let field = self.grouped.group_by.first_field().unwrap_or(Field::EventAction);
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
    use crate::rules::testing::{auth, observe, setup};
    use vigil_core::config::StepConfig;

    fn compromised(failures: u32) -> Sequence {
        let s = setup(0);
        let step = |name: &str, when: &str, count| StepConfig {
            name: Some(name.into()),
            when: toml::from_str::<toml::Table>(&format!("w = {when}")).unwrap()["w"].clone().try_into().unwrap(),
            unless: None,
            count,
        };
        let config = SequenceConfig {
            steps: vec![
                step("failures", r#"{ "event.action" = "login-failed" }"#, failures),
                step("success", r#"{ "event.action" = "logged-in" }"#, 1),
            ],
            within_secs: 600,
            group_by: vec!["user.name".into()],
        };
        Sequence::new(0, "compromised", &config, Filter::default(), &s).unwrap()
    }

    #[test]
    fn failures_then_a_success_match_and_not_the_other_way_round() {
        let mut q = compromised(2);
        assert!(observe(&mut q, &auth("0", 0, "logged-in", "l.evans", "1.1.1.1")).is_empty());
        observe(&mut q, &auth("1", 10, "login-failed", "l.evans", "1.1.1.1"));
        assert!(observe(&mut q, &auth("2", 20, "logged-in", "l.evans", "1.1.1.1")).is_empty(), "one failure of two");
        observe(&mut q, &auth("3", 30, "login-failed", "l.evans", "2.2.2.2"));
        observe(&mut q, &auth("x", 31, "login-failed", "r.jones", "2.2.2.2"));
        let found = observe(&mut q, &auth("4", 40, "logged-in", "l.evans", "2.2.2.2"));
        assert_eq!(found[0].phrase, "failures then success within 10 minutes by user.name l.evans");
        assert!(observe(&mut q, &auth("5", 50, "logged-in", "r.jones", "2.2.2.2")).is_empty(), "r.jones failed once");
    }

    #[test]
    fn the_whole_sequence_must_fit_in_the_window() {
        let mut q = compromised(2);
        observe(&mut q, &auth("1", 0, "login-failed", "l.evans", "1.1.1.1"));
        observe(&mut q, &auth("2", 100, "login-failed", "l.evans", "1.1.1.1"));
        assert!(
            observe(&mut q, &auth("3", 600, "logged-in", "l.evans", "1.1.1.1")).is_empty(),
            "first failure too old"
        );
        observe(&mut q, &auth("4", 650, "login-failed", "l.evans", "1.1.1.1"));
        assert_eq!(observe(&mut q, &auth("5", 699, "logged-in", "l.evans", "1.1.1.1")).len(), 1);
    }
}
