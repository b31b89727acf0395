//! Word rules: every phrase, combination part and exception of every rule in
//! one Aho-Corasick automaton over the normalised text; the few regular
//! expressions in one `RegexSet` over the plain text.
//!
//! A hit counts only on word boundaries of the normalised text (a space or
//! its start/end on both sides; a template ending in `*` needs only the
//! start). A rule matches a field when one of its phrases hits, or every
//! part of one of its combinations, or one of its patterns — unless one of
//! its exceptions hits in the same field.

use super::normalise::{plain, Normaliser};
use super::template::{expand, Phrase};
use super::{Field, Rule, RuleMatch, RulesError};
use aho_corasick::{AhoCorasick, MatchKind};
use regex::RegexSet;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Parts one combination may have at most (they are counted in a `u32`).
const MAX_PARTS: usize = 32;
/// A phrase of several words also matches written as one word when that
/// word has at least this many characters (`#selfharm`).
const MIN_JOINED_CHARS: usize = 6;

/// What an automaton pattern means to one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Phrase template `template` of `rule`.
    Phrase { rule: usize, template: usize },
    /// Part `part` of combination `combo` of `rule`.
    Part { rule: usize, combo: usize, part: usize },
    /// An exception of `rule`.
    Exception { rule: usize },
    /// Pattern `pattern` of `rule` (from the `RegexSet`, not the automaton).
    Pattern { rule: usize, pattern: usize },
}

impl Use {
    fn rule(self) -> usize {
        match self {
            Use::Phrase { rule, .. } | Use::Part { rule, .. } | Use::Exception { rule } | Use::Pattern { rule, .. } => {
                rule
            }
        }
    }
}

/// One automaton pattern: whether its last word may go on, and its uses.
#[derive(Debug, Default)]
struct Entry {
    open_end: bool,
    uses: Vec<Use>,
}

/// Reusable buffers for [`KeywordMatcher::find`], so matching allocates
/// nothing per event once warm.
#[derive(Debug, Default)]
pub struct Scratch {
    text: String,
    hits: Vec<Use>,
}

/// A rule's conditions as written, to say what matched.
#[derive(Debug)]
struct Written {
    phrases: Vec<String>,
    combos: Vec<Vec<String>>,
    patterns: Vec<String>,
}

/// The compiled word rules.
#[derive(Debug)]
pub struct KeywordMatcher {
    normaliser: Normaliser,
    automaton: Option<AhoCorasick>,
    entries: Vec<Entry>,
    /// Per rule: how many parts each of its combinations has.
    parts: Vec<Vec<usize>>,
    /// Per rule: its conditions as written.
    written: Vec<Written>,
    regexes: Option<(RegexSet, Vec<Use>)>,
}

impl KeywordMatcher {
    /// Compiles the word conditions of `rules` (blocked-verdict rules have
    /// none) with the text-speak table `words`.
    pub fn new(rules: &[Rule], words: &BTreeMap<String, String>) -> Result<KeywordMatcher, RulesError> {
        let mut normaliser = Normaliser::new(words.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let expanded = expand_all(rules)?;
        let vocabulary: Vec<String> = expanded
            .iter()
            .flat_map(|(phrase, _)| {
                normaliser.normalise_unfolded(&phrase.text).split(' ').map(str::to_string).collect::<Vec<_>>()
            })
            .collect();
        normaliser.learn_words(vocabulary.iter().map(String::as_str));

        let mut index: FxHashMap<(String, bool), usize> = FxHashMap::default();
        let mut patterns: Vec<String> = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        for (phrase, used) in &expanded {
            let normal = normaliser.normalise(&phrase.text);
            if normal.is_empty() {
                tracing::warn!(rule = %rules[used.rule()].id, phrase = %phrase.text, "skipping a phrase with no letters or digits");
                continue;
            }
            let joined = normal.replace(' ', "");
            let mut forms = vec![normal.clone()];
            if joined.len() != normal.len() && joined.chars().count() >= MIN_JOINED_CHARS {
                forms.push(joined);
            }
            for form in forms {
                let id = *index.entry((form.clone(), phrase.open_end)).or_insert_with(|| {
                    patterns.push(form);
                    entries.push(Entry { open_end: phrase.open_end, uses: Vec::new() });
                    entries.len() - 1
                });
                if !entries[id].uses.contains(used) {
                    entries[id].uses.push(*used);
                }
            }
        }
        let automaton = if patterns.is_empty() {
            None
        } else {
            Some(AhoCorasick::builder().match_kind(MatchKind::Standard).build(&patterns)?)
        };
        Ok(KeywordMatcher {
            normaliser,
            automaton,
            entries,
            parts: rules.iter().map(|r| r.all.iter().map(Vec::len).collect()).collect(),
            written: rules
                .iter()
                .map(|r| Written { phrases: r.phrases.clone(), combos: r.all.clone(), patterns: r.patterns.clone() })
                .collect(),
            regexes: compile_patterns(rules)?,
        })
    }

    /// The normaliser, with the phrases' vocabulary learnt.
    pub fn normaliser(&self) -> &Normaliser {
        &self.normaliser
    }

    /// Adds to `found` the rules (not already in it) whose words match
    /// `value` read as `field`.
    pub fn find(&self, field: Field, value: &str, scratch: &mut Scratch, found: &mut Vec<RuleMatch>) {
        let readable = field.readable(value);
        scratch.hits.clear();
        if let Some(automaton) = &self.automaton {
            self.normaliser.normalise_into(&readable, &mut scratch.text);
            let bytes = scratch.text.as_bytes();
            for m in automaton.find_overlapping_iter(scratch.text.as_str()) {
                let entry = &self.entries[m.pattern().as_usize()];
                let starts = m.start() == 0 || bytes[m.start() - 1] == b' ';
                let ends = entry.open_end || m.end() == bytes.len() || bytes[m.end()] == b' ';
                if starts && ends {
                    scratch.hits.extend_from_slice(&entry.uses);
                }
            }
        }
        if let Some((set, uses)) = &self.regexes {
            scratch.hits.extend(set.matches(&plain(&readable)).iter().map(|i| uses[i]));
        }
        if scratch.hits.is_empty() {
            return;
        }
        scratch.hits.sort_by_key(|u| u.rule());
        for hits in scratch.hits.chunk_by(|a, b| a.rule() == b.rule()) {
            let rule = hits[0].rule();
            if found.iter().any(|f| f.rule == rule) || hits.iter().any(|u| matches!(u, Use::Exception { .. })) {
                continue;
            }
            if let Some(phrase) = self.evidence(rule, hits) {
                found.push(RuleMatch { rule, phrase, field });
            }
        }
    }

    /// What `hits` (all of `rule`) show matched, if they make a match: the
    /// first phrase hit, else a completed combination, else a pattern.
    fn evidence(&self, rule: usize, hits: &[Use]) -> Option<String> {
        let Written { phrases, combos, patterns } = &self.written[rule];
        if let Some(template) = hits.iter().find_map(|u| match u {
            Use::Phrase { template, .. } => Some(*template),
            _ => None,
        }) {
            return Some(phrases[template].clone());
        }
        let mut seen: Vec<u32> = vec![0; self.parts[rule].len()];
        for hit in hits {
            if let Use::Part { combo, part, .. } = hit {
                seen[*combo] |= 1 << part;
            }
        }
        if let Some(combo) = (0..seen.len()).find(|&c| seen[c].count_ones() as usize == self.parts[rule][c]) {
            return Some(combos[combo].join(" + "));
        }
        hits.iter().find_map(|u| match u {
            Use::Pattern { pattern, .. } => Some(patterns[*pattern].clone()),
            _ => None,
        })
    }
}

/// Every phrase each rule's templates stand for, with what it means.
fn expand_all(rules: &[Rule]) -> Result<Vec<(Phrase, Use)>, RulesError> {
    let mut out = Vec::new();
    for (rule_index, rule) in rules.iter().enumerate() {
        let mut add = |template: &str, used: Use| -> Result<(), RulesError> {
            let phrases = expand(template).map_err(|e| RulesError::Invalid {
                rule: rule.id.clone(),
                message: format!("has a phrase template {template:?} that cannot be read: {e}"),
            })?;
            out.extend(phrases.into_iter().map(|p| (p, used)));
            Ok(())
        };
        for (template, text) in rule.phrases.iter().enumerate() {
            add(text, Use::Phrase { rule: rule_index, template })?;
        }
        for (combo, parts) in rule.all.iter().enumerate() {
            if parts.is_empty() || parts.len() > MAX_PARTS {
                return Err(RulesError::Invalid {
                    rule: rule.id.clone(),
                    message: format!("has a combination of {} parts; give 1 to {MAX_PARTS}", parts.len()),
                });
            }
            for (part, text) in parts.iter().enumerate() {
                add(text, Use::Part { rule: rule_index, combo, part })?;
            }
        }
        for text in &rule.exceptions {
            add(text, Use::Exception { rule: rule_index })?;
        }
    }
    Ok(out)
}

/// Every rule's patterns in one set, with whose each is.
fn compile_patterns(rules: &[Rule]) -> Result<Option<(RegexSet, Vec<Use>)>, RulesError> {
    let mut sources = Vec::new();
    let mut uses = Vec::new();
    for (rule_index, rule) in rules.iter().enumerate() {
        for (pattern, source) in rule.patterns.iter().enumerate() {
            regex::Regex::new(source).map_err(|e| RulesError::Invalid {
                rule: rule.id.clone(),
                message: format!("has a pattern {source:?} that is not a valid regular expression: {e}"),
            })?;
            sources.push(source.as_str());
            uses.push(Use::Pattern { rule: rule_index, pattern });
        }
    }
    if sources.is_empty() {
        return Ok(None);
    }
    let set = RegexSet::new(&sources).map_err(|e| RulesError::Invalid {
        rule: "(patterns)".into(),
        message: format!("cannot be compiled together: {e}"),
    })?;
    Ok(Some((set, uses)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::config::{Role, Severity};

    fn rule(id: &str, phrases: &[&str]) -> Rule {
        Rule {
            id: id.into(),
            category: "test".into(),
            severity: Severity::High,
            notify: Role::Dsl,
            description: None,
            origin: "test".into(),
            phrases: phrases.iter().map(|p| p.to_string()).collect(),
            all: Vec::new(),
            patterns: Vec::new(),
            exceptions: Vec::new(),
            blocked: None,
        }
    }

    fn matched(rules: &[Rule], field: Field, text: &str) -> Vec<(usize, String)> {
        let matcher = KeywordMatcher::new(rules, &BTreeMap::new()).unwrap();
        let mut found = Vec::new();
        matcher.find(field, text, &mut Scratch::default(), &mut found);
        found.into_iter().map(|m| (m.rule, m.phrase)).collect()
    }

    fn hits(rules: &[Rule], text: &str) -> bool {
        !matched(rules, Field::SearchQuery, text).is_empty()
    }

    #[test]
    fn whole_words_only_in_any_case() {
        let rules = [rule("weapons", &["gun"])];
        assert!(!hits(&rules, "the game has begun"));
        assert!(!hits(&rules, "gunpowder"));
        assert!(hits(&rules, "buy a GUN now"));
    }

    #[test]
    fn url_words_match_through_separators_and_encoding() {
        let rules = [rule("self-harm", &["how to self harm"])];
        for url in [
            "http://example.com/how-to-self-harm",
            "http://example.com/search?q=how+to+self+harm&x=1",
            "http://example.com/q=How%20To%20Self_Harm",
            "http://example.com/q=how%2520to%2520self%2520harm",
            "https://example.com/how-to-se1f-h4rm-without-scars",
        ] {
            assert_eq!(matched(&rules, Field::UrlFull, url), [(0, "how to self harm".to_string())], "{url}");
        }
        assert!(matched(&rules, Field::UrlFull, "http://x/how-to-self-harmony").is_empty());
    }

    #[test]
    fn templates_prefixes_and_joined_words() {
        let rules = [rule("a", &["how to {kill|hurt} {myself|my self}"]), rule("b", &["suicid*"])];
        assert!(hits(&rules[..1], "how to hurt my self"));
        assert!(hits(&rules[..1], "#howtokillmyself"));
        assert!(hits(&rules[1..], "feeling suicidal"));
        assert!(!hits(&rules[1..], "antisuicidal"));
    }

    #[test]
    fn combinations_need_every_part_in_any_order() {
        let mut r = rule("od", &[]);
        r.all = vec![vec!["{paracetamol|tylenol}".into(), "{overdose|to die}".into()]];
        let rules = [r];
        assert_eq!(
            matched(&rules, Field::SearchQuery, "how many tylenol to die"),
            [(0, "{paracetamol|tylenol} + {overdose|to die}".to_string())]
        );
        assert!(hits(&rules, "overdose on paracetamol"));
        assert!(!hits(&rules, "paracetamol dose for children"));
    }

    #[test]
    fn exceptions_silence_their_rule_in_that_field_only() {
        let mut r = rule("suicide", &["suicide"]);
        r.exceptions = vec!["suicide squad".into(), "romeo and juliet".into()];
        let rules = [r, rule("other", &["squad"])];
        assert_eq!(matched(&rules, Field::SearchQuery, "suicide squad cast"), [(1, "squad".to_string())]);
        assert!(matched(&rules, Field::SearchQuery, "why does romeo commit suicide romeo and juliet").is_empty());
        assert_eq!(matched(&rules, Field::SearchQuery, "suicide")[0].0, 0);
    }

    #[test]
    fn patterns_read_the_plain_text() {
        let mut r = rule("p", &[]);
        r.patterns = vec![r"\bi (?:want|need) to die\b".into()];
        let rules = [r];
        assert!(hits(&rules, "I want to DIE"));
        assert!(!hits(&rules, "i want to dine"));
    }

    #[test]
    fn bad_templates_and_patterns_name_the_rule() {
        let err = KeywordMatcher::new(&[rule("broken", &["a {b"])], &BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("\"broken\""), "{err}");
        let mut r = rule("re", &[]);
        r.patterns = vec!["(".into()];
        assert!(KeywordMatcher::new(&[r], &BTreeMap::new()).unwrap_err().to_string().contains("\"re\""));
    }
}
