//! A Sigma `detection` and its condition as Vigil's `when`: the condition
//! is brought to a disjunction of conjunctions of field tests (a negated
//! selection becomes its tests negated, by De Morgan's laws), and each
//! conjunction becomes one Vigil selection, with the log source's own keys.

use super::condition::Expr;
use super::fields::Source;
use super::values::{as_regex, convert, Value};
use super::Unconvertible;
use std::collections::{BTreeMap, BTreeSet};
use vigil_core::config::{ConditionValue, Selection, Selections};
use yaml_rust2::Yaml;

/// At most this many Vigil selections per rule (a condition negating
/// large selections multiplies out).
const MAX_SELECTIONS: usize = 64;

/// One Sigma field test: `field|modifiers: values`, or keywords (no field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test {
    /// The Sigma field; `None` for keywords (anywhere in the line).
    pub field: Option<String>,
    /// The modifiers after the field.
    pub modifiers: Vec<String>,
    /// The values, any one of which (or, with `|all`, every one) holds.
    pub values: Vec<Value>,
}

/// A condition over tests (by index).
#[derive(Debug, Clone)]
enum Formula {
    Test(usize),
    And(Vec<Formula>),
    Or(Vec<Formula>),
    Not(Box<Formula>),
}

/// The named selections of a detection, read into tests.
#[derive(Debug, Default)]
pub struct Detection {
    tests: Vec<Test>,
    selections: BTreeMap<String, Formula>,
    /// The selection names in the rule's order.
    pub names: Vec<String>,
}

impl Detection {
    /// Reads `detection` (without `condition` and `timeframe`).
    pub fn read(detection: &Yaml) -> Result<Detection, Unconvertible> {
        let Yaml::Hash(map) = detection else { return Err(Unconvertible::Rule("has no detection map".into())) };
        let mut d = Detection::default();
        for (name, selection) in map {
            let Some(name) = name.as_str() else { continue };
            if name == "condition" || name == "timeframe" {
                continue;
            }
            let formula = d.selection(selection)?;
            d.names.push(name.to_string());
            d.selections.insert(name.to_string(), formula);
        }
        Ok(d)
    }

    fn add(&mut self, test: Test) -> Formula {
        self.tests.push(test);
        Formula::Test(self.tests.len() - 1)
    }

    fn selection(&mut self, selection: &Yaml) -> Result<Formula, Unconvertible> {
        match selection {
            Yaml::Hash(map) => {
                let mut tests = Vec::new();
                for (key, value) in map {
                    let key = key.as_str().ok_or_else(|| Unconvertible::Value(format!("a selection key {key:?}")))?;
                    let mut parts = key.split('|');
                    let field = parts.next().filter(|f| !f.is_empty()).map(str::to_string);
                    let modifiers = parts.map(str::to_string).collect();
                    let test = Test { field, modifiers, values: values(value)? };
                    tests.push(self.add(test));
                }
                Ok(Formula::And(tests))
            }
            Yaml::Array(items) if items.iter().all(|i| matches!(i, Yaml::Hash(_))) => {
                Ok(Formula::Or(items.iter().map(|i| self.selection(i)).collect::<Result<_, _>>()?))
            }
            other => {
                let test = Test { field: None, modifiers: Vec::new(), values: values(other)? };
                Ok(self.add(test))
            }
        }
    }

    /// Vigil's `when` for `condition` on events of `source`, whose own
    /// events are recognised by `base`; also the Windows event ids the
    /// selections fix (for mapping an aggregation's fields).
    pub fn when(
        &self,
        condition: &Expr,
        source: Source,
        base: &Selection,
    ) -> Result<(Selections, BTreeSet<u32>), Unconvertible> {
        let formula = self.formula(condition)?;
        let terms = dnf(&formula, false)?;
        let mut selections = Vec::new();
        let mut all_ids = BTreeSet::new();
        for term in &terms {
            let ids = self.event_ids(term);
            all_ids.extend(ids.iter().flatten().copied());
            let mut selection = base.clone();
            for &(index, negated) in term {
                let test = &self.tests[index];
                let mapped = source.map(test.field.as_deref(), ids.as_ref())?;
                let (mut key, value) = convert(mapped, &test.modifiers, &test.values, test.field.is_none())?;
                if negated {
                    key.push_str("|not");
                }
                insert(&mut selection, key, value)?;
            }
            if !selections.contains(&selection) {
                selections.push(selection);
            }
        }
        let when =
            if selections.len() == 1 { Selections::One(selections.remove(0)) } else { Selections::Any(selections) };
        Ok((when, all_ids))
    }

    fn formula(&self, expr: &Expr) -> Result<Formula, Unconvertible> {
        Ok(match expr {
            Expr::Selection(name) => self.selections[name].clone(),
            Expr::And(parts) => Formula::And(parts.iter().map(|p| self.formula(p)).collect::<Result<_, _>>()?),
            Expr::Or(parts) => Formula::Or(parts.iter().map(|p| self.formula(p)).collect::<Result<_, _>>()?),
            Expr::Not(part) => Formula::Not(Box::new(self.formula(part)?)),
        })
    }

    /// The event ids a conjunction requires (`EventID: 4625`), if any.
    fn event_ids(&self, term: &[(usize, bool)]) -> Option<BTreeSet<u32>> {
        let mut ids: Option<BTreeSet<u32>> = None;
        for &(index, negated) in term {
            let test = &self.tests[index];
            if negated || test.field.as_deref() != Some("EventID") || !test.modifiers.is_empty() {
                continue;
            }
            let these: BTreeSet<u32> = test
                .values
                .iter()
                .filter_map(|v| match v {
                    Value::Integer(n) => u32::try_from(*n).ok(),
                    Value::Text(t) => t.parse().ok(),
                    _ => None,
                })
                .collect();
            ids = Some(match ids {
                Some(known) => known.intersection(&these).copied().collect(),
                None => these,
            });
        }
        ids
    }
}

/// The values of a selection key: one scalar or a list of them.
fn values(value: &Yaml) -> Result<Vec<Value>, Unconvertible> {
    let one = |v: &Yaml| match v {
        Yaml::String(s) => Ok(Value::Text(s.clone())),
        Yaml::Integer(n) => Ok(Value::Integer(*n)),
        Yaml::Real(r) => Ok(Value::Text(r.clone())),
        Yaml::Boolean(b) => Ok(Value::Bool(*b)),
        Yaml::Null => Ok(Value::Null),
        other => Err(Unconvertible::Value(format!("{other:?} is not a text, number or null"))),
    };
    match value {
        Yaml::Array(items) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

/// Adds `key = value` to a conjunction. A key already there with other
/// values is tested again as a regular expression (`message|re`), when it
/// can be and that key is free.
fn insert(selection: &mut Selection, key: String, value: ConditionValue) -> Result<(), Unconvertible> {
    let (key, value) = match selection.get(&key) {
        Some(existing) if *existing != value => as_regex(&key, &value)
            .filter(|(again, v)| selection.get(again).is_none_or(|e| e == v))
            .ok_or_else(|| {
                Unconvertible::Condition(format!(
                    "it tests {key} more than twice, or twice with modifiers, in one conjunction, which a Vigil selection cannot hold"
                ))
            })?,
        _ => (key, value),
    };
    selection.insert(key, value);
    Ok(())
}

/// `formula` (negated when `negated`) as a disjunction of conjunctions of
/// (test, negated).
fn dnf(formula: &Formula, negated: bool) -> Result<Vec<Vec<(usize, bool)>>, Unconvertible> {
    let too_big = || Unconvertible::Condition(format!("it multiplies out to more than {MAX_SELECTIONS} selections"));
    match (formula, negated) {
        (Formula::Test(i), _) => Ok(vec![vec![(*i, negated)]]),
        (Formula::Not(inner), _) => dnf(inner, !negated),
        (Formula::Or(parts), false) | (Formula::And(parts), true) => {
            let mut terms = Vec::new();
            for part in parts {
                terms.extend(dnf(part, negated)?);
                if terms.len() > MAX_SELECTIONS {
                    return Err(too_big());
                }
            }
            Ok(terms)
        }
        (Formula::And(parts), false) | (Formula::Or(parts), true) => {
            let mut terms: Vec<Vec<(usize, bool)>> = vec![Vec::new()];
            for part in parts {
                let options = dnf(part, negated)?;
                if terms.len() * options.len() > MAX_SELECTIONS {
                    return Err(too_big());
                }
                terms = terms
                    .iter()
                    .flat_map(|term| options.iter().map(move |o| term.iter().chain(o).copied().collect()))
                    .collect();
            }
            Ok(terms)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::condition;
    use super::*;
    use yaml_rust2::YamlLoader;

    fn when(detection: &str, source: Source) -> Result<Selections, Unconvertible> {
        let doc = &YamlLoader::load_from_str(detection).unwrap()[0];
        let d = Detection::read(doc)?;
        let (expr, _) = condition::parse(doc["condition"].as_str().unwrap(), &d.names)?;
        d.when(&expr, source, &Selection::new()).map(|(w, _)| w)
    }

    fn keys(selections: &Selections) -> Vec<Vec<String>> {
        selections.as_slice().iter().map(|s| s.keys().cloned().collect()).collect()
    }

    #[test]
    fn and_not_of_a_list_of_values_negates_the_key() {
        let w = when(
            "selection:\n  c-useragent|contains: ['curl', 'wget']\nfilter:\n  cs-host|endswith: ['.school.uk']\ncondition: selection and not filter\n",
            Source::Proxy,
        )
        .unwrap();
        assert_eq!(keys(&w), vec![vec!["url.domain|endswith|not".to_string(), "user_agent.original|contains".into()]]);
    }

    #[test]
    fn a_negated_selection_of_two_keys_becomes_two_selections() {
        let w = when(
            "sel:\n  cs-method: POST\nfilter:\n  cs-host: a.example\n  c-uri|contains: /x\ncondition: sel and not filter\n",
            Source::Proxy,
        )
        .unwrap();
        assert_eq!(
            keys(&w),
            vec![
                vec!["http.request.method".to_string(), "url.domain|not".into()],
                vec!["http.request.method".to_string(), "url.full|contains|not".into()],
            ]
        );
    }

    #[test]
    fn keywords_search_the_whole_line_and_event_ids_choose_windows_fields() {
        let w = when("keywords:\n  - 'rm -rf'\n  - '|/bin/sh'\ncondition: keywords\n", Source::Linux).unwrap();
        assert_eq!(keys(&w), vec![vec!["message|contains".to_string()]]);
        let w = when(
            "selection:\n  EventID: 4720\n  TargetUserName|endswith: '$'\ncondition: selection\n",
            Source::WindowsSecurity,
        )
        .unwrap();
        assert_eq!(keys(&w), vec![vec!["event.code".to_string(), "user.target.name|endswith".into()]]);
        let refused = when("selection:\n  TargetUserName: x\ncondition: selection\n", Source::WindowsSecurity);
        assert!(refused.unwrap_err().to_string().contains("TargetUserName"));
    }
}
