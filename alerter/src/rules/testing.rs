//! Helpers for the rule types' unit tests.

use super::condition::Filter;
use super::rule_type::RuleType;
use super::{Rule, RuleMatch, Setup};
use chrono::{DateTime, TimeZone, Utc};
use vigil_core::config::{AlerterConfig, Role, Selections, Severity};
use vigil_core::{Event, EventKind, Outcome};

/// The default settings, with `tolerance_secs` for late events.
pub fn setup(tolerance_secs: u64) -> Setup {
    let config = AlerterConfig { out_of_order_secs: tolerance_secs, ..AlerterConfig::default() };
    Setup::new(&config, &Default::default())
}

/// The filter of a `when = ...` TOML line.
pub fn when(text: &str, setup: &Setup) -> Filter {
    #[derive(serde::Deserialize)]
    struct W {
        when: Selections,
    }
    let w: W = toml::from_str(text).unwrap();
    Filter::new("test", Some(&w.when), None, &setup.normaliser).unwrap()
}

/// 2026-03-04 10:00 plus `secs`.
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 10, 0, 0).unwrap() + chrono::Duration::seconds(secs)
}

/// An auth event `action` by `user` from `ip` at [`at`]`(secs)`, with id
/// `id`.
pub fn auth(id: &str, secs: i64, action: &'static str, user: &str, ip: &str) -> Event {
    let outcome = if action == "logged-in" { Outcome::Success } else { Outcome::Failure };
    let mut e = Event::new(at(secs), EventKind::Auth, action, outcome, "openssh", "sshd", "raw");
    e.id = id.into();
    e.tenant = "school-a".into();
    e.user_name = Some(user.into());
    e.source_ip = Some(ip.into());
    e
}

/// What `rule` reports for `event`.
pub fn observe(rule: &mut dyn RuleType, event: &Event) -> Vec<RuleMatch> {
    let mut found = Vec::new();
    rule.observe(event, &mut found);
    found
}

/// A rule `id` with nothing to match yet (tests set what they need).
pub fn rule(id: &str) -> Rule {
    Rule {
        id: id.into(),
        category: "test".into(),
        severity: Severity::High,
        notify: Role::Ict,
        description: None,
        origin: "test".into(),
        phrases: Vec::new(),
        all: Vec::new(),
        patterns: Vec::new(),
        exceptions: Vec::new(),
        blocked: None,
        when: None,
        unless: None,
        threshold: None,
        distinct: None,
        sequence: None,
        list: None,
        new_term: None,
        lookalike: None,
        flatline: None,
        travel: None,
    }
}
