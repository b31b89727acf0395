//! Per-group state of a windowed rule: which group an event belongs to
//! (`group_by`), and the groups' state, bounded (the stalest dropped and
//! counted), saved and restored across restarts.

use super::window::{Recent, Window};
use super::{Field, RuleMatch, RulesError, Setup};
use rustc_hash::FxHashMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use vigil_core::metrics::{RULE_GROUPS, RULE_GROUPS_EVICTED};
use vigil_core::Event;

/// How long (ms) a group is kept after it could last have matched by the
/// newest event time the rule has seen. Lateness is judged per group (an
/// address's events are late against that address's newest), and events of
/// one group can come from several partitions read at different paces (a
/// backfill over Kafka reads one partition's morning after another's
/// evening), so the rule's newest time says little about a quiet group; the
/// cap on groups bounds memory meanwhile.
pub const IDLE_RETENTION_MS: i64 = 24 * 3600 * 1000;

/// Separates the tenant and the values in a group key.
const SEPARATOR: char = '\u{1f}';

/// The fields an event's group is made of; each entry is a field or
/// alternatives (`user.name or source.ip`: the first present).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupBy {
    fields: Vec<Vec<Field>>,
}

impl GroupBy {
    /// Reads `group_by` of rule `rule`.
    pub fn new(rule: &str, group_by: &[String]) -> Result<GroupBy, RulesError> {
        let fields = group_by
            .iter()
            .map(|entry| {
                entry
                    .split(" or ")
                    .map(|name| {
                        Field::from_name(name.trim()).ok_or_else(|| RulesError::Invalid {
                            rule: rule.to_string(),
                            message: format!("groups by the unknown event field {:?}", name.trim()),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<_, _>>()?;
        Ok(GroupBy { fields })
    }

    /// `event`'s group key (its tenant, then each group field's value), or
    /// `None` when a group field is absent.
    pub fn key(&self, event: &Event) -> Option<String> {
        let mut key = event.tenant.to_string();
        for alternatives in &self.fields {
            let value = alternatives.iter().find_map(|f| f.values(event).first().map(str::to_string))?;
            key.push(SEPARATOR);
            key.push_str(&value);
        }
        Some(key)
    }

    /// The tenant of the group `key`.
    pub fn tenant(key: &str) -> &str {
        key.split(SEPARATOR).next().unwrap_or_default()
    }

    /// The field whose value is `event`'s group, when the group is one
    /// field (of alternatives, the one present).
    pub fn single_field(&self, event: &Event) -> Option<Field> {
        match self.fields.as_slice() {
            [alternatives] => alternatives.iter().copied().find(|f| f.values(event).first().is_some()),
            _ => None,
        }
    }

    /// The first group field (the field an alert says it counted by).
    pub fn first_field(&self) -> Option<Field> {
        self.fields.first().and_then(|f| f.first().copied())
    }

    /// The group's values for people: `203.0.113.77`, `l.evans, 10.0.0.7`.
    pub fn display(key: &str) -> String {
        key.split(SEPARATOR).skip(1).collect::<Vec<_>>().join(", ")
    }

    /// The names of the group fields (`source.ip`).
    pub fn describe(&self) -> String {
        let names: Vec<String> =
            self.fields.iter().map(|alts| alts.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(" or ")).collect();
        names.join(", ")
    }
}

/// State a group keeps: it knows its newest event time, by which the
/// stalest groups are found.
pub trait GroupState: Default + Serialize + DeserializeOwned {
    /// The newest event time counted, in milliseconds.
    fn newest(&self) -> Option<i64>;
}

impl GroupState for Recent {
    fn newest(&self) -> Option<i64> {
        Recent::newest(self)
    }
}

/// The groups of one rule, at most `cap`.
#[derive(Debug)]
pub struct Groups<S> {
    rule: String,
    cap: usize,
    map: FxHashMap<String, S>,
    changed: bool,
}

/// The saved form: (group key, state) pairs.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct Saved<S>(Vec<(String, S)>);

impl<S: GroupState> Groups<S> {
    /// No groups yet, for rule `rule` (its id labels the metrics).
    pub fn new(rule: &str, cap: usize) -> Groups<S> {
        Groups { rule: rule.to_string(), cap: cap.max(1), map: FxHashMap::default(), changed: false }
    }

    /// The state of group `key`, made when it is new (dropping the stalest
    /// groups first when the rule holds its maximum). Marks the groups
    /// changed.
    pub fn entry(&mut self, key: String) -> &mut S {
        self.changed = true;
        if !self.map.contains_key(&key) && self.map.len() >= self.cap {
            self.evict_stalest();
        }
        self.map.entry(key).or_default()
    }

    /// Drops the tenth of the groups whose newest event is oldest (at least
    /// one), counting them.
    fn evict_stalest(&mut self) {
        let mut newest: Vec<i64> = self.map.values().map(|s| s.newest().unwrap_or(i64::MIN)).collect();
        let drop = (self.map.len() / 10).max(1);
        let (_, cut, _) = newest.select_nth_unstable(drop - 1);
        let cut = *cut;
        let before = self.map.len();
        let mut dropped = 0;
        self.map.retain(|_, s| {
            let stale = dropped < drop && s.newest().unwrap_or(i64::MIN) <= cut;
            dropped += usize::from(stale);
            !stale
        });
        RULE_GROUPS_EVICTED.with_label_values(&[self.rule.as_str()]).inc_by((before - self.map.len()) as u64);
    }

    /// Forgets groups whose newest event is at or before `horizon` (ms).
    pub fn expire(&mut self, horizon: i64) {
        let before = self.map.len();
        self.map.retain(|_, s| s.newest().is_some_and(|n| n > horizon));
        self.changed |= self.map.len() != before;
        RULE_GROUPS.with_label_values(&[self.rule.as_str()]).set(i64::try_from(self.map.len()).unwrap_or(i64::MAX));
    }

    /// The groups as JSON when they changed since the last call, else
    /// `None`.
    pub fn save_if_changed(&mut self) -> Option<serde_json::Value> {
        if !std::mem::take(&mut self.changed) {
            return None;
        }
        let mut pairs: Vec<(&String, &S)> = self.map.iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        Some(serde_json::to_value(&pairs).expect("group state always serialises"))
    }

    /// Replaces the groups with saved ones.
    pub fn restore(&mut self, saved: serde_json::Value) -> Result<(), String> {
        let Saved(pairs) = serde_json::from_value::<Saved<S>>(saved).map_err(|e| e.to_string())?;
        self.map = pairs.into_iter().collect();
        self.changed = false;
        Ok(())
    }

    /// Every group and its state; a caller that changes one says so with
    /// [`Groups::mark_changed`].
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut S)> {
        self.map.iter_mut()
    }

    /// Marks the groups changed (a state reached by [`Groups::iter_mut`]
    /// was).
    pub fn mark_changed(&mut self) {
        self.changed = true;
    }

    /// How many groups are tracked.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// What every windowed rule has: its rule, how it groups, its window, and
/// its groups' state.
#[derive(Debug)]
pub struct Grouped<S> {
    /// Index of the rule in the rule set.
    pub rule: usize,
    /// How events are grouped.
    pub group_by: GroupBy,
    /// The window and tolerance.
    pub window: Window,
    /// The groups.
    pub groups: Groups<S>,
}

impl<S: GroupState> Grouped<S> {
    /// The grouping of rule `id` (at `index`): by `group_by`, in windows of
    /// `within_secs`.
    pub fn new(
        index: usize,
        id: &str,
        group_by: &[String],
        within_secs: u64,
        setup: &Setup,
    ) -> Result<Self, RulesError> {
        Ok(Grouped {
            rule: index,
            group_by: GroupBy::new(id, group_by)?,
            window: Window::new(within_secs, setup.out_of_order_secs),
            groups: Groups::new(id, setup.max_groups),
        })
    }

    /// Forgets groups idle for [`IDLE_RETENTION_MS`] beyond their window and
    /// tolerance as of `now`, and returns the state when it changed since
    /// the last checkpoint.
    pub fn checkpoint(&mut self, now: chrono::DateTime<chrono::Utc>) -> Option<serde_json::Value> {
        self.groups.expire(self.window.horizon(now.timestamp_millis()).saturating_sub(IDLE_RETENTION_MS));
        self.groups.save_if_changed()
    }

    /// Restores the groups' state saved by [`Grouped::checkpoint`].
    pub fn restore(&mut self, saved: serde_json::Value) -> Result<(), String> {
        self.groups.restore(saved)
    }

    /// The match of this rule for the group `key` of `event`: `phrase`
    /// found in `field`.
    pub fn matched(&self, event: &Event, key: &str, field: Field, phrase: String) -> RuleMatch {
        let group_field = self.group_by.single_field(event);
        RuleMatch { rule: self.rule, phrase, field, group: Some(GroupBy::display(key)), group_field }
    }

    /// "within 10 minutes by source.ip 203.0.113.77": how an alert says
    /// what was counted.
    pub fn describe(&self, key: &str) -> String {
        let by = self.group_by.describe();
        let window = describe_duration(self.window.within / 1000);
        if by.is_empty() {
            format!("within {window}")
        } else {
            format!("within {window} by {by} {}", GroupBy::display(key))
        }
    }
}

/// `600` → "10 minutes", `86400` → "1 day", `90` → "90 seconds".
pub fn describe_duration(secs: i64) -> String {
    let (n, unit) = match secs {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3_600 && s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::window::Seen;
    use chrono::Utc;
    use vigil_core::{EventKind, Outcome};

    #[test]
    fn groups_are_keyed_by_tenant_and_fields_with_alternatives() {
        let by = GroupBy::new("r", &["user.name or source.ip".into()]).unwrap();
        let mut e = Event::new(Utc::now(), EventKind::Proxy, "blocked", Outcome::Failure, "squid", "squid", "raw");
        e.tenant = "school-a".into();
        assert_eq!(by.key(&e), None, "no user, no address: not counted");
        e.source_ip = Some("10.0.0.7".into());
        assert_eq!(GroupBy::display(&by.key(&e).unwrap()), "10.0.0.7");
        e.user_name = Some("a.khan".into());
        let key = by.key(&e).unwrap();
        assert_eq!(GroupBy::display(&key), "a.khan");
        e.tenant = "school-b".into();
        assert_ne!(by.key(&e).unwrap(), key, "schools count apart");
        assert!(GroupBy::new("r", &["source.address".into()]).is_err());
    }

    #[test]
    fn the_stalest_groups_are_dropped_at_the_cap_and_the_rest_survive_a_restart() {
        let w = Window::new(600, 0);
        let mut groups: Groups<Recent> = Groups::new("cap-test", 10);
        for i in 0..10 {
            groups.entry(format!("g{i}")).insert(Seen { at: i * 1000, event: i as u64, value: 0 }, 5, w);
        }
        groups.entry("new".into()).insert(Seen { at: 99_000, event: 99, value: 0 }, 5, w);
        assert_eq!(groups.len(), 10);
        assert!(!groups.map.contains_key("g0"), "the stalest went");
        assert_eq!(RULE_GROUPS_EVICTED.with_label_values(&["cap-test"]).get(), 1);
        let saved = groups.save_if_changed().unwrap();
        assert_eq!(groups.save_if_changed(), None, "unchanged since");
        let mut back: Groups<Recent> = Groups::new("cap-test", 10);
        back.restore(saved).unwrap();
        assert_eq!(back.map, groups.map);
        back.expire(5_000);
        assert_eq!(back.len(), 5, "g6..g9 and new are newer than the horizon");
    }
}
