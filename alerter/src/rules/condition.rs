//! Conditions on event fields, written as Sigma writes selections: a table
//! whose keys are fields with optional modifiers (`url.domain|endswith`) and
//! whose values are one value or a list (any one of them). Every key of a
//! table must hold; `when` may be a list of tables, any one of which holding
//! is enough; `unless` excludes the events any of its tables holds for.
//!
//! | key | holds when the field's value … |
//! |---|---|
//! | `field` | equals a value (ignoring ASCII case) |
//! | `field\|contains` | contains a value (ignoring ASCII case) |
//! | `field\|startswith`, `field\|endswith` | starts / ends with a value (ignoring ASCII case) |
//! | `field\|re` | matches a regular expression (Rust `regex`, case-sensitive unless `(?i)`) |
//! | `field\|cidr` | is an address inside a CIDR block (`10.0.0.0/8`) |
//! | `field\|words` | holds a value's words, read as phrases are (normalised) |
//! | `field\|exists` | is present (`true`) or absent (`false`) |
//!
//! `|all` after `contains`, `startswith`, `endswith`, `re` or `words` asks
//! every value to hold instead of any one; `|not` at the end inverts the
//! key (the field is absent or no value holds).

use super::normalise::Normaliser;
use super::{Field, RulesError};
use ipnet::IpNet;
use regex::Regex;
use std::net::IpAddr;
use std::sync::Arc;
use vigil_core::config::{Selection, Selections};
use vigil_core::Event;

/// How a value is compared.
#[derive(Debug, Clone)]
enum Test {
    Equals(Vec<String>),
    Contains(Vec<String>),
    StartsWith(Vec<String>),
    EndsWith(Vec<String>),
    Regex(Vec<Regex>),
    Cidr(Vec<IpNet>),
    /// Normalised words, each a run of words.
    Words(Vec<String>),
    Exists(bool),
}

/// One key of a selection.
#[derive(Debug, Clone)]
struct Key {
    field: Field,
    test: Test,
    /// Every value must hold, not any one.
    all: bool,
    negated: bool,
}

/// A compiled `when` or `unless`: any one of its selections holding.
#[derive(Debug, Clone, Default)]
pub struct Condition {
    /// Each selection's keys; all of one selection must hold.
    selections: Vec<Vec<Key>>,
    /// For `|words` (shared by every rule).
    normaliser: Arc<Normaliser>,
}

impl Condition {
    /// Compiles `selections` of rule `rule`, reading `|words` values with
    /// `normaliser`.
    pub fn new(rule: &str, selections: &Selections, normaliser: &Arc<Normaliser>) -> Result<Condition, RulesError> {
        let invalid = |message: String| RulesError::Invalid { rule: rule.to_string(), message };
        let compiled = selections
            .as_slice()
            .iter()
            .map(|selection| compile_selection(selection, normaliser).map_err(invalid))
            .collect::<Result<_, _>>()?;
        Ok(Condition { selections: compiled, normaliser: normaliser.clone() })
    }

    /// Whether any selection holds entirely for `event`.
    pub fn holds(&self, event: &Event) -> bool {
        self.selections.iter().any(|keys| keys.iter().all(|key| self.key_holds(key, event)))
    }

    fn key_holds(&self, key: &Key, event: &Event) -> bool {
        let values = key.field.values(event);
        let held = match &key.test {
            Test::Exists(present) => values.first().is_some() == *present,
            test => values.any(|value| self.value_holds(test, key.all, value)),
        };
        held != key.negated
    }

    fn value_holds(&self, test: &Test, all: bool, value: &str) -> bool {
        let check = |needles: &[String], one: &dyn Fn(&str) -> bool| {
            if all {
                needles.iter().all(|n| one(n))
            } else {
                needles.iter().any(|n| one(n))
            }
        };
        match test {
            Test::Equals(values) => values.iter().any(|v| v.eq_ignore_ascii_case(value)),
            Test::Contains(needles) => {
                let lower = value.to_ascii_lowercase();
                check(needles, &|n| lower.contains(n))
            }
            Test::StartsWith(needles) => check(needles, &|n| starts_with_ignore_case(value, n)),
            Test::EndsWith(needles) => check(needles, &|n| ends_with_ignore_case(value, n)),
            Test::Regex(regexes) => {
                if all {
                    regexes.iter().all(|r| r.is_match(value))
                } else {
                    regexes.iter().any(|r| r.is_match(value))
                }
            }
            Test::Cidr(blocks) => {
                value.parse::<IpAddr>().is_ok_and(|address| blocks.iter().any(|block| block.contains(&address)))
            }
            Test::Words(needles) => {
                let words = self.normaliser.normalise(value);
                check(needles, &|n| contains_words(&words, n))
            }
            Test::Exists(_) => unreachable!("exists is decided per field, not per value"),
        }
    }
}

fn compile_selection(selection: &Selection, normaliser: &Normaliser) -> Result<Vec<Key>, String> {
    if selection.is_empty() {
        return Err("has an empty selection (a `when` or `unless` table without keys)".into());
    }
    selection
        .iter()
        .map(|(key, value)| {
            let mut parts = key.split('|');
            let name = parts.next().unwrap_or_default().trim();
            let field =
                Field::from_name(name).ok_or_else(|| format!("names the unknown event field {name:?} in {key:?}"))?;
            let modifiers: Vec<&str> = parts.map(str::trim).collect();
            compile_key(field, &modifiers, value.texts(), normaliser).map_err(|e| format!("{key:?}: {e}"))
        })
        .collect()
}

fn compile_key(field: Field, modifiers: &[&str], values: Vec<String>, normaliser: &Normaliser) -> Result<Key, String> {
    let mut modifiers = modifiers.to_vec();
    let negated = modifiers.last() == Some(&"not");
    if negated {
        modifiers.pop();
    }
    let all = modifiers.last() == Some(&"all");
    if all {
        modifiers.pop();
    }
    if values.is_empty() {
        return Err("needs at least one value".into());
    }
    let lower = || values.iter().map(|v| v.to_ascii_lowercase()).collect::<Vec<_>>();
    let test = match modifiers.as_slice() {
        [] => Test::Equals(values.clone()),
        ["contains"] => Test::Contains(lower()),
        ["startswith"] => Test::StartsWith(lower()),
        ["endswith"] => Test::EndsWith(lower()),
        ["re"] => Test::Regex(
            values
                .iter()
                .map(|v| Regex::new(v).map_err(|e| format!("bad regular expression: {e}")))
                .collect::<Result<_, _>>()?,
        ),
        ["cidr"] => Test::Cidr(
            values
                .iter()
                .map(|v| v.trim().parse::<IpNet>().map_err(|_| format!("{v:?} is not a CIDR block like 10.0.0.0/8")))
                .collect::<Result<_, _>>()?,
        ),
        ["words"] => Test::Words(values.iter().map(|v| normaliser.normalise(v)).filter(|v| !v.is_empty()).collect()),
        ["exists"] => match values.as_slice() {
            [v] if v == "true" || v == "false" => Test::Exists(v == "true"),
            _ => return Err("|exists takes true or false".into()),
        },
        other => return Err(format!("has the unknown modifier(s) {:?}", other.join("|"))),
    };
    if all && matches!(test, Test::Equals(_) | Test::Cidr(_) | Test::Exists(_)) {
        return Err("|all goes only with contains, startswith, endswith, re or words".into());
    }
    Ok(Key { field, test, all, negated })
}

fn starts_with_ignore_case(value: &str, prefix: &str) -> bool {
    value.len() >= prefix.len() && value.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn ends_with_ignore_case(value: &str, suffix: &str) -> bool {
    value.len() >= suffix.len()
        && value.as_bytes()[value.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Whether the words `needle` occur, whole, in the words `haystack` (both
/// single-spaced).
fn contains_words(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(at, _)| {
        let end = at + needle.len();
        (at == 0 || haystack.as_bytes()[at - 1] == b' ') && (end == haystack.len() || haystack.as_bytes()[end] == b' ')
    })
}

/// A rule's `when` and `unless` together: which events it looks at.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    when: Option<Condition>,
    unless: Option<Condition>,
}

impl Filter {
    /// The filter of `when` and `unless` (each optional) for rule `rule`.
    pub fn new(
        rule: &str,
        when: Option<&Selections>,
        unless: Option<&Selections>,
        normaliser: &Arc<Normaliser>,
    ) -> Result<Filter, RulesError> {
        Ok(Filter {
            when: when.map(|w| Condition::new(rule, w, normaliser)).transpose()?,
            unless: unless.map(|u| Condition::new(rule, u, normaliser)).transpose()?,
        })
    }

    /// Whether the rule looks at `event`: `when` holds (or there is none)
    /// and `unless` does not.
    pub fn admits(&self, event: &Event) -> bool {
        self.when.as_ref().is_none_or(|w| w.holds(event)) && !self.unless.as_ref().is_some_and(|u| u.holds(event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use vigil_core::{EventKind, Outcome};

    fn condition(toml_text: &str) -> Result<Condition, RulesError> {
        #[derive(serde::Deserialize)]
        struct W {
            when: Selections,
        }
        let w: W = toml::from_str(toml_text).unwrap();
        Condition::new("r", &w.when, &Arc::new(Normaliser::default()))
    }

    fn failed_login() -> Event {
        let mut e = Event::new(Utc::now(), EventKind::Auth, "login-failed", Outcome::Failure, "openssh", "sshd", "raw");
        e.user_name = Some("Administrator".into());
        e.source_ip = Some("203.0.113.77".into());
        e.url_domain = Some("cdn.nordvpn.com".into());
        e.email_to = vec!["a@school.example".into(), "b@school.example".into()];
        e
    }

    #[test]
    fn each_modifier_holds_and_fails_where_it_should() {
        let e = failed_login();
        let holds = |text: &str| condition(text).unwrap().holds(&e);
        assert!(holds(r#"when = { "event.action" = ["invalid-user", "login-failed"], "event.kind" = "auth" }"#));
        assert!(!holds(r#"when = { "event.action" = "login-failed", "event.kind" = "proxy" }"#), "every key must hold");
        assert!(holds(r#"when = { "user.name" = "administrator" }"#), "equals ignores case");
        assert!(holds(r#"when = { "user.name|startswith" = "ADMIN" }"#));
        assert!(holds(r#"when = { "url.domain|endswith" = ".nordvpn.com" }"#));
        assert!(!holds(r#"when = { "url.domain|endswith" = "vpn.co" }"#));
        assert!(holds(r#"when = { "url.domain|contains|all" = ["nord", "vpn"] }"#));
        assert!(!holds(r#"when = { "url.domain|contains|all" = ["nord", "proton"] }"#));
        assert!(holds(r#"when = { "user.name|re" = "^Admin" }"#));
        assert!(!holds(r#"when = { "user.name|re" = "^admin" }"#), "regex is case-sensitive");
        assert!(holds(r#"when = { "source.ip|cidr" = ["10.0.0.0/8", "203.0.113.0/24"] }"#));
        assert!(!holds(r#"when = { "source.ip|cidr" = "10.0.0.0/8" }"#));
        assert!(holds(r#"when = { "source.ip|cidr|not" = "10.0.0.0/8" }"#));
        assert!(holds(r#"when = { "group.name|exists" = false, "user.name|exists" = true }"#));
        assert!(holds(r#"when = { "email.to" = "b@school.example" }"#), "any recipient");
        assert!(holds(r#"when = [{ "event.kind" = "email" }, { "event.outcome" = "failure" }]"#), "any selection");
        assert!(holds(r#"when = { "event.code|not" = "4625" }"#), "absent field: not holds");
    }

    #[test]
    fn numbers_compare_as_text_and_words_are_normalised() {
        let mut e = failed_login();
        e.code = Some("4625".into());
        e.filter_category = Some("Proxy-Avoidance".into());
        assert!(condition(r#"when = { "event.code" = 4625 }"#).unwrap().holds(&e));
        assert!(condition(r#"when = { "filter.category|words" = "proxy avoidance" }"#).unwrap().holds(&e));
        assert!(!condition(r#"when = { "filter.category|words" = "proxy avoid" }"#).unwrap().holds(&e));
    }

    #[test]
    fn mistakes_are_refused_with_the_key() {
        let message = |text: &str| condition(text).unwrap_err().to_string();
        assert!(message(r#"when = { "source.address" = "x" }"#).contains("unknown event field \"source.address\""));
        assert!(message(r#"when = { "user.name|endswidth" = "x" }"#).contains("unknown modifier"));
        assert!(message(r#"when = { "user.name|re" = "(" }"#).contains("bad regular expression"));
        assert!(message(r#"when = { "source.ip|cidr" = "10.0.0.0/33" }"#).contains("CIDR"));
        assert!(message(r#"when = { "user.name|all" = ["a", "b"] }"#).contains("|all"));
    }
}
