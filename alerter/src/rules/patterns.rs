//! The rules' regular expressions: one `RegexSet` over the plain text (see
//! [`super::normalise::plain_into`]), run only when the text holds one of
//! the literals a match of some pattern must begin with. Most searches hold
//! none, and a literal scan costs a fraction of the set's.

use super::{Rule, RulesError};
use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::RegexSet;
use regex_syntax::hir::literal::{ExtractKind, Extractor};

/// Every rule's patterns, compiled together.
#[derive(Debug)]
pub struct PatternSet {
    set: RegexSet,
    /// Per pattern of `set`: (rule index, pattern index in the rule).
    owners: Vec<(usize, usize)>,
    /// The literals every match begins with, when every pattern has a finite
    /// set of them; `None` runs the set on every text.
    gate: Option<AhoCorasick>,
}

impl PatternSet {
    /// The patterns of `rules`; `None` when they have none.
    pub fn new(rules: &[Rule]) -> Result<Option<PatternSet>, RulesError> {
        let mut sources = Vec::new();
        let mut owners = Vec::new();
        for (rule_index, rule) in rules.iter().enumerate() {
            for (pattern, source) in rule.patterns.iter().enumerate() {
                regex::Regex::new(source).map_err(|e| RulesError::Invalid {
                    rule: rule.id.clone(),
                    message: format!("has a pattern {source:?} that is not a valid regular expression: {e}"),
                })?;
                sources.push(source.as_str());
                owners.push((rule_index, pattern));
            }
        }
        if sources.is_empty() {
            return Ok(None);
        }
        let set = RegexSet::new(&sources).map_err(|e| RulesError::Invalid {
            rule: "(patterns)".into(),
            message: format!("cannot be compiled together: {e}"),
        })?;
        Ok(Some(PatternSet { set, owners, gate: gate(&sources) }))
    }

    /// Whether every pattern's matches begin with a known literal, so that
    /// texts without one are not searched.
    pub fn is_gated(&self) -> bool {
        self.gate.is_some()
    }

    /// Adds to `found` the (rule, pattern) of every pattern matching `plain`.
    pub fn find(&self, plain: &str, found: &mut Vec<(usize, usize)>) {
        if self.gate.as_ref().is_some_and(|gate| !gate.is_match(plain)) {
            return;
        }
        found.extend(self.set.matches(plain).iter().map(|i| self.owners[i]));
    }
}

/// An automaton of the literals the matches of `sources` begin with, or
/// `None` when some pattern may begin with anything (or with too many
/// literals to list).
fn gate(sources: &[&str]) -> Option<AhoCorasick> {
    let mut extractor = Extractor::new();
    // A class as wide as the alphabet (`[a-z] kms`) is still listed.
    extractor.kind(ExtractKind::Prefix).limit_class(64);
    let mut literals: Vec<Vec<u8>> = Vec::new();
    for source in sources {
        let hir = regex_syntax::parse(source).ok()?;
        let prefixes = extractor.extract(&hir);
        let prefixes = prefixes.literals()?;
        if prefixes.is_empty() || prefixes.iter().any(|literal| literal.as_bytes().is_empty()) {
            return None;
        }
        literals.extend(prefixes.iter().map(|literal| literal.as_bytes().to_vec()));
    }
    // A few hundred short literals: a DFA is small and the fastest scan.
    AhoCorasick::builder().kind(Some(AhoCorasickKind::DFA)).build(&literals).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(patterns: &[&str]) -> Vec<Rule> {
        vec![Rule { patterns: patterns.iter().map(|p| p.to_string()).collect(), ..crate::rules::testing::rule("p") }]
    }

    fn found(set: &PatternSet, text: &str) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        set.find(text, &mut found);
        found
    }

    #[test]
    fn gated_patterns_still_find_every_match() {
        let set = PatternSet::new(&rules(&[r"\br34\b", r"^(?:big )?(?:boobs|nudes?)$", r"\b(?:0|[1-6]00) ?cals?\b"]))
            .unwrap()
            .unwrap();
        assert!(set.is_gated());
        assert_eq!(found(&set, "roblox r34"), [(0, 0)]);
        assert_eq!(found(&set, "big nudes"), [(0, 1)]);
        assert_eq!(found(&set, "only 500 cals a day"), [(0, 2)]);
        assert!(found(&set, "maths homework").is_empty());
    }

    #[test]
    fn the_shipped_patterns_are_gated() {
        let library = super::super::library::Library::load(&Default::default()).unwrap();
        let set = PatternSet::new(&library.rules).unwrap().expect("the shipped library has patterns");
        assert!(set.is_gated(), "a shipped pattern may begin with anything: every search would run the set");
    }

    #[test]
    fn a_pattern_that_may_begin_anywhere_turns_the_gate_off() {
        let set = PatternSet::new(&rules(&[r"\br34\b", r".*die\b"])).unwrap().unwrap();
        assert!(!set.is_gated());
        assert_eq!(found(&set, "i want to die"), [(0, 1)]);
    }
}
