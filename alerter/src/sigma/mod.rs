//! Converting Sigma rules (<https://sigmahq.io>) into Vigil rules, for the
//! log sources Vigil reads ([`fields`]): detection maps with `contains`,
//! `startswith`, `endswith`, `re`, `all`, `cidr`, `exists`, value lists and
//! keywords ([`values`], [`detection`]); conditions with `and`, `or`,
//! `not`, parentheses, `1 of`/`all of` and `them` ([`condition`]); and
//! counts: the old `| count() by X > N` with `timeframe`, and Sigma 2
//! correlation rules of type `event_count` and `value_count` naming one
//! rule. Each rule that cannot be converted is kept with the reason
//! ([`Unconvertible`]); none is dropped silently.
//!
//! A converted rule reads `id = "sigma.<title words>"`, category `sigma`,
//! told to the ICT manager, its severity Sigma's level (informational is
//! low), its description Sigma's, and the Sigma id, author and licence
//! (the Detection Rule License asks that converted rules keep their
//! attribution) in a comment above it.

pub mod condition;
pub mod detection;
pub mod fields;
pub mod values;

use crate::rules::condition::Condition;
use crate::rules::normalise::Normaliser;
use condition::Aggregation;
use detection::Detection;
use fields::Source;
use serde::Serialize;
use std::collections::BTreeSet;
use thiserror::Error;
use vigil_core::config::{DistinctConfig, Role, RuleConfig, Severity, ThresholdConfig};
use yaml_rust2::{Yaml, YamlLoader};

/// Why a Sigma rule was not converted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Unconvertible {
    /// The file is not YAML.
    #[error("the file is not readable YAML: {0}")]
    Yaml(String),
    /// The rule lacks something every rule has.
    #[error("the rule {0}")]
    Rule(String),
    /// The rule's log source is not one Vigil reads.
    #[error("the log source ({0}) is not one Vigil reads")]
    Logsource(String),
    /// A field has no Vigil event field.
    #[error("the field {0} has no Vigil event field")]
    Field(String),
    /// A field whose Vigil field holds more (a URL's query is part of
    /// `url.full`), tested otherwise than by `contains`.
    #[error("{0}")]
    Partial(String),
    /// A Windows field whose meaning depends on the event id, in a rule
    /// that does not fix one.
    #[error("{0}")]
    EventDependent(String),
    /// A value modifier Vigil does not have.
    #[error("the modifier |{0} is not supported")]
    Modifier(String),
    /// A value that cannot be compared as written.
    #[error("a value cannot be converted: {0}")]
    Value(String),
    /// A condition outside the subset read.
    #[error("the condition cannot be converted: {0}")]
    Condition(String),
    /// A correlation outside the subset read.
    #[error("the correlation cannot be converted: {0}")]
    Correlation(String),
}

/// One converted rule.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The file it was read from.
    pub origin: String,
    /// The Sigma rule's title.
    pub title: String,
    /// The Vigil rule.
    pub rule: RuleConfig,
    /// The Vigil rule file: attribution, category, the rule.
    pub toml: String,
    sigma_id: Option<String>,
    sigma_name: Option<String>,
    /// The log source and Windows event ids, for a correlation counting it.
    source: Source,
    ids: BTreeSet<u32>,
}

/// One rule that was not converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// The file it was read from.
    pub origin: String,
    /// The Sigma rule's title (or the file's name).
    pub title: String,
    /// Why.
    pub reason: Unconvertible,
}

/// The outcome of converting a set of Sigma files.
#[derive(Debug, Default)]
pub struct Import {
    /// The rules converted.
    pub converted: Vec<Converted>,
    /// The rules not converted, with the reason.
    pub failed: Vec<Failed>,
    correlations: Vec<(String, Yaml)>,
}

/// What a rule says about itself.
struct Header {
    title: String,
    id: Option<String>,
    name: Option<String>,
    level: Severity,
    description: Option<String>,
    author: Option<String>,
}

impl Header {
    fn read(doc: &Yaml, origin: &str) -> Header {
        let text = |key: &str| doc[key].as_str().map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
        let level = match doc["level"].as_str() {
            Some("critical") => Severity::Critical,
            Some("high") => Severity::High,
            Some("medium") => Severity::Medium,
            _ => Severity::Low,
        };
        Header {
            title: text("title").unwrap_or_else(|| origin.to_string()),
            id: text("id"),
            name: text("name"),
            level,
            description: text("description"),
            author: text("author"),
        }
    }
}

impl Import {
    /// Reads the Sigma documents of one file (`origin` names it), converting
    /// its rules; correlations are converted by [`Import::finish`], once
    /// every file is read.
    pub fn add(&mut self, origin: &str, text: &str) {
        let docs = match YamlLoader::load_from_str(text) {
            Ok(docs) => docs,
            Err(e) => {
                let reason = Unconvertible::Yaml(e.to_string());
                self.failed.push(Failed { origin: origin.into(), title: origin.into(), reason });
                return;
            }
        };
        for doc in docs {
            if doc["correlation"].as_hash().is_some() {
                self.correlations.push((origin.to_string(), doc));
                continue;
            }
            let header = Header::read(&doc, origin);
            match convert_rule(&doc, &header) {
                Ok((rule, source, ids)) => self.push(origin, &header, rule, source, ids),
                Err(reason) => self.failed.push(Failed { origin: origin.into(), title: header.title, reason }),
            }
        }
    }

    /// Converts the correlations read (each naming a rule of any file read)
    /// and returns the outcome. A rule a correlation counts is left out
    /// unless the correlation says `generate: true`, as Sigma does.
    pub fn finish(mut self) -> Import {
        let mut counted = BTreeSet::new();
        for (origin, doc) in std::mem::take(&mut self.correlations) {
            let header = Header::read(&doc, &origin);
            match self.correlation(&doc, &header) {
                Ok((base, rule)) => {
                    if !doc["correlation"]["generate"].as_bool().unwrap_or(false) {
                        counted.insert(base);
                    }
                    let (source, ids) = (self.converted[base].source, self.converted[base].ids.clone());
                    self.push(&origin, &header, rule, source, ids);
                }
                Err(reason) => self.failed.push(Failed { origin, title: header.title, reason }),
            }
        }
        let mut index = 0;
        self.converted.retain(|_| {
            index += 1;
            !counted.contains(&(index - 1))
        });
        self.check();
        self
    }

    /// Moves the rules Vigil cannot compile (a regular expression in a
    /// syntax Rust's `regex` lacks, such as look-around) to the failed.
    fn check(&mut self) {
        let normaliser = std::sync::Arc::new(Normaliser::default());
        let mut kept = Vec::new();
        for converted in std::mem::take(&mut self.converted) {
            let when = converted.rule.when.as_ref();
            match when.map(|w| Condition::new(&converted.rule.id, w, &normaliser)).transpose() {
                Ok(_) => kept.push(converted),
                Err(e) => self.failed.push(Failed {
                    origin: converted.origin,
                    title: converted.title,
                    reason: Unconvertible::Value(e.to_string()),
                }),
            }
        }
        self.converted = kept;
    }

    fn push(&mut self, origin: &str, header: &Header, mut rule: RuleConfig, source: Source, ids: BTreeSet<u32>) {
        let slug = slug(&header.title);
        let taken = |id: &str| self.converted.iter().any(|c| c.rule.id == id);
        rule.id = format!("sigma.{slug}");
        if taken(&rule.id) {
            let suffix: String = header.id.as_deref().unwrap_or("x").chars().take(8).collect();
            rule.id = format!("sigma.{slug}-{suffix}");
        }
        let toml = rule_file(header, &rule);
        self.converted.push(Converted {
            origin: origin.into(),
            title: header.title.clone(),
            rule,
            toml,
            sigma_id: header.id.clone(),
            sigma_name: header.name.clone(),
            source,
            ids,
        });
    }

    /// A correlation `doc` as a rule, with the index of the rule it counts.
    fn correlation(&self, doc: &Yaml, header: &Header) -> Result<(usize, RuleConfig), Unconvertible> {
        let c = &doc["correlation"];
        let refuse = |why: &str| Unconvertible::Correlation(why.to_string());
        let kind = c["type"].as_str().unwrap_or("");
        if kind != "event_count" && kind != "value_count" {
            return Err(refuse(&format!("type {kind:?} (only event_count and value_count are read)")));
        }
        let rules: Vec<&str> = match &c["rules"] {
            Yaml::Array(items) => items.iter().filter_map(Yaml::as_str).collect(),
            Yaml::String(one) => vec![one.as_str()],
            _ => Vec::new(),
        };
        let [reference] = rules.as_slice() else { return Err(refuse("it must count exactly one rule")) };
        let index = self
            .converted
            .iter()
            .position(|r| r.sigma_id.as_deref() == Some(reference) || r.sigma_name.as_deref() == Some(reference))
            .ok_or_else(|| refuse(&format!("the rule {reference:?} it counts was not converted (or not read)")))?;
        let within_secs = duration(c["timespan"].as_str().or(c["timeframe"].as_str()).unwrap_or(""))
            .ok_or_else(|| refuse("it needs a timespan such as 5m, 1h or 1d"))?;
        let condition = &c["condition"];
        let at_least = match (condition["gte"].as_i64(), condition["gt"].as_i64()) {
            (Some(n), None) => n,
            (None, Some(n)) => n + 1,
            _ => return Err(refuse("only a condition of gte or gt is read")),
        };
        let at_least = u32::try_from(at_least).map_err(|_| refuse("the count is out of range"))?;
        let group_by: Vec<String> = match &c["group-by"] {
            Yaml::Array(items) => items.iter().filter_map(Yaml::as_str).map(str::to_string).collect(),
            _ => Vec::new(),
        };
        let base = &self.converted[index];
        let field = condition["field"].as_str().map(str::to_string);
        let aggregation = Aggregation { field, group_by: None, at_least };
        let mut rule = base.rule.clone();
        rule.severity = header.level;
        rule.description = header.description.clone().or(rule.description);
        count(&mut rule, base.source, &aggregation, &group_by, within_secs, &base.ids)?;
        Ok((index, rule))
    }
}

/// Converts one Sigma rule document.
fn convert_rule(doc: &Yaml, header: &Header) -> Result<(RuleConfig, Source, BTreeSet<u32>), Unconvertible> {
    let logsource = &doc["logsource"];
    if doc["detection"].is_badvalue() {
        return Err(Unconvertible::Rule("has no detection".into()));
    }
    let (source, base) =
        Source::of(logsource["product"].as_str(), logsource["service"].as_str(), logsource["category"].as_str())?;
    let detection = Detection::read(&doc["detection"])?;
    let conditions: Vec<&str> = match &doc["detection"]["condition"] {
        Yaml::String(one) => vec![one.as_str()],
        Yaml::Array(many) => many.iter().filter_map(Yaml::as_str).collect(),
        _ => return Err(Unconvertible::Rule("has no condition".into())),
    };
    let [text] = conditions.as_slice() else {
        return Err(Unconvertible::Condition("a list of several conditions".into()));
    };
    let (expr, aggregation) = condition::parse(text, &detection.names)?;
    let (when, ids) = detection.when(&expr, source, &base)?;
    let mut rule = RuleConfig {
        id: String::new(),
        category: None,
        severity: header.level,
        notify: None,
        phrases: Vec::new(),
        all: Vec::new(),
        patterns: Vec::new(),
        exceptions: Vec::new(),
        blocked: None,
        when: Some(when),
        unless: None,
        threshold: None,
        distinct: None,
        sequence: None,
        list: None,
        new_term: None,
        lookalike: None,
        flatline: None,
        travel: None,
        description: header.description.clone(),
    };
    if let Some(aggregation) = aggregation {
        let within = doc["detection"]["timeframe"].as_str().and_then(duration).ok_or_else(|| {
            Unconvertible::Condition(format!("{text:?} counts, but the rule has no timeframe such as 5m"))
        })?;
        let group_by: Vec<String> = aggregation.group_by.iter().cloned().collect();
        count(&mut rule, source, &aggregation, &group_by, within, &ids)?;
    }
    Ok((rule, source, ids))
}

/// Makes `rule` count as `aggregation` says, grouped by the Sigma fields
/// `group_by`, within `within_secs`.
fn count(
    rule: &mut RuleConfig,
    source: Source,
    aggregation: &Aggregation,
    group_by: &[String],
    within_secs: u64,
    ids: &BTreeSet<u32>,
) -> Result<(), Unconvertible> {
    let ids = Some(ids).filter(|ids| !ids.is_empty());
    let mapped = |name: &str| source.map(Some(name), ids).map(|m| m.field.to_string());
    let group_by = group_by.iter().map(|g| mapped(g)).collect::<Result<Vec<_>, _>>()?;
    match &aggregation.field {
        None => {
            rule.threshold = Some(ThresholdConfig { count: aggregation.at_least.max(1), within_secs, group_by });
        }
        Some(field) => {
            if aggregation.at_least < 2 {
                return Err(Unconvertible::Condition("a count of distinct values below 2".into()));
            }
            let field = mapped(field)?;
            rule.distinct = Some(DistinctConfig { field, count: aggregation.at_least, within_secs, group_by });
        }
    }
    Ok(())
}

/// `5m`, `1h`, `30s`, `1d` in seconds.
fn duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = number.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(scale).filter(|s| *s > 0)
}

/// `Suspicious User Agent` → `suspicious-user-agent` (at most 60 characters).
fn slug(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut slug = String::new();
    for word in words {
        if !slug.is_empty() && slug.len() + word.len() >= 60 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word);
    }
    if slug.is_empty() {
        "rule".into()
    } else {
        slug
    }
}

/// A Vigil rule file holding `rule`, with the Sigma rule's attribution.
fn rule_file(header: &Header, rule: &RuleConfig) -> String {
    #[derive(Serialize)]
    struct File<'a> {
        category: &'a str,
        notify: Role,
        rules: [&'a RuleConfig; 1],
    }
    let one_line = |s: &str| s.replace(['\r', '\n'], " ");
    let mut out = format!("# Converted from the Sigma rule \"{}\"", one_line(&header.title));
    if let Some(id) = &header.id {
        out.push_str(&format!(" (id {})", one_line(id)));
    }
    if let Some(author) = &header.author {
        out.push_str(&format!("\n# by {}", one_line(author)));
    }
    out.push_str(
        ", licensed under the Detection Rule License 1.1 (https://github.com/SigmaHQ/Detection-Rule-License).\n",
    );
    let file = File { category: "sigma", notify: Role::Ict, rules: [rule] };
    out.push_str(&toml::to_string(&file).expect("a rule always serialises"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPRAY: &str = r#"
title: Many Failed Logons From One Address
id: 0f4a1c11-0000-4000-8000-000000000001
name: failed_logon
level: medium
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
---
title: Password Spray From One Address
id: 0f4a1c11-0000-4000-8000-000000000002
level: high
correlation:
    type: value_count
    rules: [failed_logon]
    group-by: [IpAddress]
    timespan: 10m
    condition:
        gte: 15
        field: TargetUserName
"#;

    #[test]
    fn a_value_count_correlation_becomes_a_distinct_rule_in_place_of_its_base() {
        let mut import = Import::default();
        import.add("spray.yml", SPRAY);
        let import = import.finish();
        assert!(import.failed.is_empty(), "{:?}", import.failed);
        assert_eq!(import.converted.len(), 1, "the counted rule is not generated on its own");
        let rule = &import.converted[0].rule;
        assert_eq!(rule.id, "sigma.password-spray-from-one-address");
        assert_eq!(rule.severity, Severity::High);
        let distinct = rule.distinct.as_ref().unwrap();
        assert_eq!((distinct.field.as_str(), distinct.count, distinct.within_secs), ("user.name", 15, 600));
        assert_eq!(distinct.group_by, ["source.ip"]);
    }

    #[test]
    fn an_old_count_aggregation_becomes_a_threshold_and_the_file_keeps_the_attribution() {
        let text = "title: SSH Guessing\nid: abc\nauthor: A. Person\nlevel: high\nlogsource:\n  product: windows\n  service: security\ndetection:\n  selection:\n    EventID: 4625\n  timeframe: 5m\n  condition: selection | count() by IpAddress > 9\n";
        let mut import = Import::default();
        import.add("old.yml", text);
        let import = import.finish();
        let converted = &import.converted[0];
        let threshold = converted.rule.threshold.as_ref().unwrap();
        assert_eq!((threshold.count, threshold.within_secs), (10, 300));
        assert!(converted.toml.starts_with("# Converted from the Sigma rule \"SSH Guessing\" (id abc)\n# by A. Person, licensed under the Detection Rule License 1.1"), "{}", converted.toml);
        assert!(converted.toml.contains("category = \"sigma\""));
    }

    #[test]
    fn broken_files_and_unread_correlations_are_reported() {
        let mut import = Import::default();
        import.add("bad.yml", "title: [unclosed");
        import.add("temporal.yml", "title: T\ncorrelation:\n  type: temporal\n  rules: [a, b]\n  timespan: 5m\n");
        let lookahead =
            "title: L\nlogsource:\n  category: proxy\ndetection:\n  s:\n    c-uri|re: '^(?!x)'\n  condition: s\n";
        import.add("lookahead.yml", lookahead);
        let import = import.finish();
        let reasons: Vec<String> = import.failed.iter().map(|f| f.reason.to_string()).collect();
        assert!(reasons[0].contains("not readable YAML"), "{reasons:?}");
        assert!(reasons[1].contains("type \"temporal\""), "{reasons:?}");
        assert!(reasons[2].contains("bad regular expression"), "{reasons:?}");
        assert!(import.converted.is_empty());
    }

    #[test]
    fn durations_and_slugs() {
        assert_eq!(duration("5m"), Some(300));
        assert_eq!(duration("1d"), Some(86_400));
        assert_eq!(duration("5x"), None);
        assert_eq!(slug("Potential SQL Injection (Access Logs)"), "potential-sql-injection-access-logs");
    }
}
