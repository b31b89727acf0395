//! The event rule type: every event the rule's `when` holds for (and its
//! `unless` does not) matches on its own (an account added to Domain
//! Admins, a sign-in the identity provider calls risky).

use super::condition::Filter;
use super::rule_type::RuleType;
use super::{Field, RuleMatch};
use vigil_core::Event;

/// One event rule.
#[derive(Debug)]
pub struct Matching {
    id: String,
    rule: usize,
    filter: Filter,
}

impl Matching {
    /// Rule `id` (at `index`) matching the events `filter` admits.
    pub fn new(index: usize, id: &str, filter: Filter) -> Matching {
        Matching { id: id.to_string(), rule: index, filter }
    }
}

impl RuleType for Matching {
    fn id(&self) -> &str {
        &self.id
    }

    /// The action is what matched (`group-member-added`).
    fn observe(&mut self, event: &Event, found: &mut Vec<RuleMatch>) {
        if self.filter.admits(event) {
            let phrase = format!("{} ({})", event.action, event.observer_product);
            found.push(RuleMatch {
                rule: self.rule,
                phrase,
                field: Field::EventAction,
                group: None,
                group_field: None,
            });
        }
    }
}
