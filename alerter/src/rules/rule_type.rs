//! The seam every rule type sits behind: observe an event, maybe report
//! matches; look at the clock, maybe report matches time alone completes (a
//! source gone silent); save and restore what it remembers between events. Adding a
//! rule type is adding a file with one implementation of [`RuleType`] and
//! a line in [`super::RuleSet::new`] choosing it.

use super::RuleMatch;
use chrono::{DateTime, Utc};
use std::fmt::Debug;
use vigil_core::Event;

/// One compiled rule type: a single rule (a threshold, a list lookup) or a
/// family compiled together (every keyword rule in one automaton).
pub trait RuleType: Debug + Send {
    /// A stable name for the saved state: the rule id, or the family's name.
    fn id(&self) -> &str;

    /// Looks at `event`, adding to `found` a match for each of its rules the
    /// event matches (a windowed rule: whose count the event completes). The
    /// same event observed again (a replay after a restart) is not counted
    /// twice and reports the same matches.
    fn observe(&mut self, event: &Event, found: &mut Vec<RuleMatch>);

    /// Looks at the wall clock once the alerter has caught up with the
    /// events: adds to `found` a match for each rule whose condition the
    /// passing of time to `now` completes (a source silent too long), with
    /// the event the alert stands on, made for it. Most types wait for
    /// events and add nothing.
    fn tick(&mut self, _now: DateTime<Utc>, _found: &mut Vec<Timed>) {}

    /// Forgets what can no longer match as of `now` (event time) and
    /// returns the state to save when it changed since the last checkpoint;
    /// `None` when unchanged or stateless.
    fn checkpoint(&mut self, _now: DateTime<Utc>) -> Option<serde_json::Value> {
        None
    }

    /// Takes back state a [`RuleType::checkpoint`] of the same rule saved.
    /// An error (the rule changed type) leaves the rule starting afresh.
    fn restore(&mut self, _saved: serde_json::Value) -> Result<(), String> {
        Ok(())
    }
}

/// A match that time completed rather than an event: the match, and an
/// event made to carry it (its id stable, so that the alert id is too).
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    /// The match.
    pub found: RuleMatch,
    /// The event the alert is raised for.
    pub event: Event,
}
