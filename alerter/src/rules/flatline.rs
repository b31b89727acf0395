//! The flatline rule type: a source (a group of events, e.g. a tenant's
//! `observer.product`) that has sent nothing for `silent_secs` of its
//! active hours: monitoring went blind. Silence is counted only in the
//! active hours (by default school days 07:00–18:00 UK time, less the
//! school's closed days), so a web filter quiet at night or over a holiday
//! raises nothing, and one silent since Friday 17:30 is reported on Monday
//! at 08:30 with a two-hour rule.
//!
//! Each silence raises one alert, when the wall clock (the alerter's tick,
//! once it has caught up with the events) shows it long enough; the next
//! event from the source ends it and re-arms the rule. A source silent for
//! `forget_secs` is no longer watched: it was taken out of use, or the
//! events are an old backfill.

use super::condition::Filter;
use super::groups::{GroupBy, GroupState, Grouped};
use super::rule_type::{RuleType, Timed};
use super::{Field, RuleMatch, RulesError, Setup};
use crate::active_hours::ActiveHours;
use crate::uk_time;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use vigil_core::config::FlatlineConfig;
use vigil_core::{Event, EventKind, Label, Outcome};

/// What the rule remembers of a source: when it last sent, and what.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Heard {
    /// The newest event time, in ms.
    last: i64,
    /// The `last` whose silence was alerted on: one alert per silence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alerted: Option<i64>,
    /// The newest event's kind, product and format, for the alert.
    kind: Option<EventKind>,
    product: String,
    format: String,
}

impl GroupState for Heard {
    fn newest(&self) -> Option<i64> {
        Some(self.last)
    }
}

/// One flatline rule and the sources it has heard.
#[derive(Debug)]
pub struct Flatline {
    id: String,
    filter: Filter,
    silent: Duration,
    forget: Duration,
    hours: ActiveHours,
    grouped: Grouped<Heard>,
}

impl Flatline {
    /// Rule `id` (at `index`) as `config` says, watching the events
    /// `filter` admits.
    pub fn new(
        index: usize,
        id: &str,
        config: &FlatlineConfig,
        filter: Filter,
        setup: &Setup,
    ) -> Result<Flatline, RulesError> {
        let invalid = |message: &str| RulesError::Invalid { rule: id.to_string(), message: message.into() };
        let hours = ActiveHours::new(&config.days, config.from.0, config.until.0, &setup.closed_days)
            .ok_or_else(|| invalid("needs flatline.days, and flatline.from earlier than flatline.until"))?;
        let secs = |s: u64| Duration::try_seconds(i64::try_from(s).unwrap_or(i64::MAX)).unwrap_or(Duration::MAX);
        if config.silent_secs == 0 || config.forget_secs <= config.silent_secs {
            return Err(invalid("needs flatline.silent_secs of at least 1 and flatline.forget_secs longer than it"));
        }
        Ok(Flatline {
            id: id.to_string(),
            filter,
            silent: secs(config.silent_secs),
            forget: secs(config.forget_secs),
            hours,
            grouped: Grouped::new(index, id, &config.group_by, config.forget_secs, setup)?,
        })
    }

    /// The alert's match and event for the source `key` silent since
    /// `heard.last`, at `now`.
    fn silence(&self, key: &str, heard: &Heard, now: DateTime<Utc>) -> Timed {
        let since = uk_time::format(Utc.timestamp_millis_opt(heard.last).single().unwrap_or(now));
        let by = self.grouped.group_by.describe();
        let source = if by.is_empty() { "any source".to_string() } else { format!("{by} {}", GroupBy::display(key)) };
        let silent = super::groups::describe_duration(self.silent.num_seconds());
        let phrase = format!("no events from {source} since {since}");
        let message = format!(
            "Vigil has had no events from {source} since {since}: {silent} of its active hours ({}). \
             It will not alert on this source again until the source sends events again.",
            self.hours.describe()
        );
        let kind = heard.kind.unwrap_or(EventKind::Network);
        let mut event = Event::new(
            now,
            kind,
            "flatline",
            Outcome::Unknown,
            Label::from(heard.product.clone()),
            Label::from(heard.format.clone()),
            message,
        );
        let tenant = GroupBy::tenant(key);
        event.id = Event::derive_id(tenant, &self.id, heard.last as u64, key.as_bytes());
        event.tenant = Label::from(tenant.to_string());
        let field = self.grouped.group_by.first_field().unwrap_or(Field::ObserverProduct);
        Timed { found: self.grouped.matched(&event, key, field, phrase), event }
    }
}

impl RuleType for Flatline {
    fn id(&self) -> &str {
        &self.id
    }

    fn observe(&mut self, event: &Event, _found: &mut Vec<RuleMatch>) {
        if !self.filter.admits(event) {
            return;
        }
        let Some(key) = self.grouped.group_by.key(event) else { return };
        let at = event.timestamp.timestamp_millis();
        let heard = self.grouped.groups.entry(key);
        if at >= heard.last {
            heard.last = at;
            heard.kind = Some(event.kind);
            // Every event of a busy source comes here: copy only what changed.
            if heard.product != event.observer_product.as_str() {
                heard.product = event.observer_product.to_string();
            }
            if heard.format != event.log_format.as_str() {
                heard.format = event.log_format.to_string();
            }
        }
    }

    fn tick(&mut self, now: DateTime<Utc>, found: &mut Vec<Timed>) {
        let mut silent = Vec::new();
        for (key, heard) in self.grouped.groups.iter_mut() {
            let Some(last) = Utc.timestamp_millis_opt(heard.last).single() else { continue };
            if heard.alerted == Some(heard.last) || now - last >= self.forget {
                continue;
            }
            if self.hours.active_between(last, now, self.silent) >= self.silent {
                heard.alerted = Some(heard.last);
                silent.push((key.clone(), heard.clone()));
            }
        }
        if !silent.is_empty() {
            self.grouped.groups.mark_changed();
        }
        found.extend(silent.iter().map(|(key, heard)| self.silence(key, heard, now)));
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
    use crate::rules::testing::{at, auth, setup};

    /// A two-hour flatline per `observer.product` in school hours;
    /// `at(0)` is Wednesday 4 March 2026 10:00 GMT.
    fn flatline(setup: &Setup) -> Flatline {
        let config: FlatlineConfig = toml::from_str(
            r#"silent_secs = 7200
group_by = ["observer.product"]"#,
        )
        .unwrap();
        Flatline::new(0, "flatline", &config, Filter::default(), setup).unwrap()
    }

    fn tick(rule: &mut Flatline, secs: i64) -> Vec<Timed> {
        let mut found = Vec::new();
        rule.tick(at(secs), &mut found);
        found
    }

    fn heard(rule: &mut Flatline, id: &str, secs: i64) {
        rule.observe(&auth(id, secs, "logged-in", "l.evans", "10.0.0.5"), &mut Vec::new());
    }

    const HOUR: i64 = 3600;

    #[test]
    fn two_silent_school_hours_raise_one_alert_and_the_next_event_rearms_it() {
        let mut f = flatline(&setup(0));
        heard(&mut f, "1", 0);
        assert!(tick(&mut f, 2 * HOUR - 1).is_empty(), "a second short of two hours");
        let found = tick(&mut f, 2 * HOUR);
        assert_eq!(found.len(), 1);
        let Timed { found: m, event } = &found[0];
        assert_eq!(m.group.as_deref(), Some("openssh"));
        assert_eq!(m.phrase, "no events from observer.product openssh since 2026-03-04 10:00:00 GMT");
        assert_eq!((event.tenant.as_str(), event.observer_product.as_str()), ("school-a", "openssh"));
        assert!(
            event.message.contains("2 hours of its active hours (Mon–Fri 07:00–18:00 UK time)"),
            "{}",
            event.message
        );
        assert!(tick(&mut f, 3 * HOUR).is_empty(), "one alert per silence");
        heard(&mut f, "2", 3 * HOUR);
        assert!(tick(&mut f, 5 * HOUR - 1).is_empty());
        let again = tick(&mut f, 5 * HOUR);
        assert_eq!(again.len(), 1, "a new silence");
        assert_ne!(again[0].event.id, found[0].event.id, "another alert id");
    }

    #[test]
    fn nights_and_weekends_do_not_count_and_old_sources_are_not_watched() {
        let mut f = flatline(&setup(0));
        heard(&mut f, "1", 7 * HOUR + 1800); // Wednesday 17:30
        assert!(tick(&mut f, 21 * HOUR + 1800).is_empty(), "Thursday 07:30: one hour of school time");
        assert_eq!(tick(&mut f, 22 * HOUR + 1800).len(), 1, "Thursday 08:30");
        let mut f = flatline(&setup(0));
        heard(&mut f, "1", 2 * 86_400 + 7 * HOUR + 1800); // Friday 17:30
        assert!(tick(&mut f, 5 * 86_400 - 5400 - 1).is_empty(), "Monday 08:29:59");
        assert_eq!(tick(&mut f, 5 * 86_400 - 5400).len(), 1, "Monday 08:30");
        let mut f = flatline(&setup(0));
        heard(&mut f, "1", 0);
        assert!(tick(&mut f, 7 * 86_400).is_empty(), "silent a week: forgotten, not alerted");
    }

    #[test]
    fn closed_days_count_nothing() {
        let config = vigil_core::config::AlerterConfig {
            closed_days: vec!["2026-03-05..2026-03-06".to_string().try_into().unwrap()],
            ..Default::default()
        };
        let mut f = flatline(&Setup::new(&config, &Default::default()));
        heard(&mut f, "1", 7 * HOUR); // Wednesday 17:00
        assert!(tick(&mut f, 5 * 86_400 - 2 * HOUR - 1).is_empty(), "Thursday and Friday closed");
        assert_eq!(tick(&mut f, 5 * 86_400 - 2 * HOUR).len(), 1, "Monday 08:00");
    }

    #[test]
    fn what_was_heard_and_alerted_survives_a_restart() {
        let s = setup(0);
        let mut f = flatline(&s);
        heard(&mut f, "1", 0);
        assert_eq!(tick(&mut f, 2 * HOUR).len(), 1);
        let saved = f.checkpoint(at(0)).unwrap();
        let mut back = flatline(&s);
        back.restore(saved).unwrap();
        assert!(tick(&mut back, 3 * HOUR).is_empty(), "already alerted before the restart");
        heard(&mut back, "0", -60);
        assert!(tick(&mut back, 3 * HOUR).is_empty(), "an older event (a replay) ends no silence");
        heard(&mut back, "2", 3 * HOUR);
        assert_eq!(tick(&mut back, 5 * HOUR).len(), 1);
    }
}
