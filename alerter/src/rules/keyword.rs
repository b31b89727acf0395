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

/// Parts one combination may have at most.
const MAX_PARTS: usize = 32;
/// A phrase of several words also matches written as one word when that
/// word has at least this many characters (`#selfharm`).
const MIN_JOINED_CHARS: usize = 6;

/// What an automaton pattern means to one rule. Combinations and their
/// parts are numbered across all rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// A phrase of `rule`.
    Phrase { rule: usize },
    /// Part `part` (numbered across all combinations) of combination `combo`.
    Part { combo: usize, part: usize },
    /// An exception of `rule`.
    Exception { rule: usize },
}

/// One automaton pattern: whether its last word may go on, and its uses.
#[derive(Debug, Default)]
struct Entry {
    open_end: bool,
    uses: Vec<Use>,
}

/// One combination: its rule and the numbers of its parts.
#[derive(Debug)]
struct Combo {
    rule: usize,
    parts: std::ops::Range<usize>,
}

/// Marks set during one [`KeywordMatcher::find`]: an array slot holds the
/// number of the call that last set it, so nothing is cleared between calls.
#[derive(Debug, Default)]
struct Marks {
    call: u32,
    /// Per rule: a phrase hit (where the first one is in `phrase_span`).
    phrase_hit: Vec<u32>,
    phrase_span: Vec<(usize, usize)>,
    /// Per rule: an exception hit.
    excepted: Vec<u32>,
    /// Per part: hit (where first in `part_span`).
    part_hit: Vec<u32>,
    part_span: Vec<(usize, usize)>,
    /// Per combination: one of its parts hit (it is in `candidates`).
    touched: Vec<u32>,
}

/// Reusable buffers for [`KeywordMatcher::find`], so matching allocates
/// nothing per event once warm.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The normalised text, as matched (`l` read as `i`).
    text: String,
    /// The same without that fold, to show what matched.
    readable: String,
    marks: Marks,
    /// Rules with a phrase hit, in the order of their first hit.
    rules: Vec<usize>,
    /// Combinations with a part hit.
    combos: Vec<usize>,
    /// Rules with a pattern hit.
    patterned: Vec<(usize, usize)>,
}

/// The compiled word rules.
#[derive(Debug)]
pub struct KeywordMatcher {
    normaliser: Normaliser,
    automaton: Option<AhoCorasick>,
    entries: Vec<Entry>,
    combos: Vec<Combo>,
    parts: usize,
    /// Per rule: its patterns as written, to say what matched.
    patterns: Vec<Vec<String>>,
    /// Every pattern, with its (rule, pattern index).
    regexes: Option<(RegexSet, Vec<(usize, usize)>)>,
}

impl KeywordMatcher {
    /// Compiles the word conditions of `rules` (blocked-verdict rules have
    /// none) with the text-speak table `words`.
    pub fn new(rules: &[Rule], words: &BTreeMap<String, String>) -> Result<KeywordMatcher, RulesError> {
        let mut normaliser = Normaliser::new(words.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let (expanded, combos, parts) = expand_all(rules)?;
        let mut unfolded: FxHashMap<&str, String> = FxHashMap::default();
        for (phrase, _) in &expanded {
            unfolded.entry(phrase.text.as_str()).or_insert_with(|| normaliser.normalise_unfolded(&phrase.text));
        }
        normaliser.learn_words(unfolded.values().flat_map(|p| p.split(' ')));

        let mut normal_forms: FxHashMap<&str, String> = FxHashMap::default();
        let mut index: FxHashMap<(String, bool), usize> = FxHashMap::default();
        let mut patterns: Vec<String> = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        for (phrase, used) in &expanded {
            let normal =
                normal_forms.entry(phrase.text.as_str()).or_insert_with(|| normaliser.normalise(&phrase.text)).clone();
            if normal.is_empty() {
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
        tracing::debug!(patterns = patterns.len(), combinations = combos.len(), "rule automaton built");
        Ok(KeywordMatcher {
            normaliser,
            automaton,
            entries,
            combos,
            parts,
            patterns: rules.iter().map(|r| r.patterns.clone()).collect(),
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
        self.mark_hits(&readable, scratch);
        let Scratch { marks, rules, combos, patterned, readable, .. } = scratch;
        let call = marks.call;
        let words = |(start, end): (usize, usize)| readable[start..end].to_string();
        let excepted = |rule: usize| marks.excepted[rule] == call;
        let push = |rule: usize, phrase: String, found: &mut Vec<RuleMatch>| {
            if !excepted(rule) && !found.iter().any(|f| f.rule == rule) {
                found.push(RuleMatch { rule, phrase, field, group: None });
            }
        };
        for &rule in rules.iter() {
            push(rule, words(marks.phrase_span[rule]), found);
        }
        for &combo in combos.iter() {
            let Combo { rule, parts, .. } = &self.combos[combo];
            if parts.clone().all(|p| marks.part_hit[p] == call) {
                let mut spans: Vec<(usize, usize)> = parts.clone().map(|p| marks.part_span[p]).collect();
                spans.sort_unstable();
                push(*rule, spans.into_iter().map(words).collect::<Vec<_>>().join(" … "), found);
            }
        }
        for &(rule, pattern) in patterned.iter() {
            push(rule, self.patterns[rule][pattern].clone(), found);
        }
    }

    /// Runs the automaton (and the patterns) over `readable`, leaving in
    /// `scratch` which rules, combinations and exceptions were hit.
    fn mark_hits(&self, readable: &str, scratch: &mut Scratch) {
        let Scratch { text, readable: unfolded, marks, rules, combos, patterned } = scratch;
        rules.clear();
        combos.clear();
        patterned.clear();
        marks.call = marks.call.wrapping_add(1);
        if marks.call == 0 || marks.phrase_hit.len() != self.patterns.len() || marks.part_hit.len() != self.parts {
            *marks = Marks {
                call: 1,
                phrase_hit: vec![0; self.patterns.len()],
                phrase_span: vec![(0, 0); self.patterns.len()],
                excepted: vec![0; self.patterns.len()],
                part_hit: vec![0; self.parts],
                part_span: vec![(0, 0); self.parts],
                touched: vec![0; self.combos.len()],
            };
        }
        let call = marks.call;
        if let Some(automaton) = &self.automaton {
            self.normaliser.normalise_both(readable, unfolded, text);
            let bytes = text.as_bytes();
            for m in automaton.find_overlapping_iter(text.as_str()) {
                let entry = &self.entries[m.pattern().as_usize()];
                let starts = m.start() == 0 || bytes[m.start() - 1] == b' ';
                let ends = entry.open_end || m.end() == bytes.len() || bytes[m.end()] == b' ';
                if !(starts && ends) {
                    continue;
                }
                let end = if entry.open_end {
                    text[m.end()..].find(' ').map_or(text.len(), |i| m.end() + i)
                } else {
                    m.end()
                };
                let span = (m.start(), end);
                for used in &entry.uses {
                    match *used {
                        Use::Phrase { rule } => {
                            if marks.phrase_hit[rule] != call {
                                marks.phrase_hit[rule] = call;
                                marks.phrase_span[rule] = span;
                                rules.push(rule);
                            }
                        }
                        Use::Part { combo, part } => {
                            if marks.part_hit[part] != call {
                                marks.part_hit[part] = call;
                                marks.part_span[part] = span;
                            }
                            if marks.touched[combo] != call {
                                marks.touched[combo] = call;
                                combos.push(combo);
                            }
                        }
                        Use::Exception { rule } => marks.excepted[rule] = call,
                    }
                }
            }
        }
        if let Some((set, owners)) = &self.regexes {
            patterned.extend(set.matches(&plain(readable)).iter().map(|i| owners[i]));
        }
    }
}

/// Every phrase each rule's templates stand for, with what it means; the
/// combinations; and how many parts they have in all.
fn expand_all(rules: &[Rule]) -> Result<(Vec<(Phrase, Use)>, Vec<Combo>, usize), RulesError> {
    let mut out = Vec::new();
    let mut combos = Vec::new();
    let mut parts = 0;
    let mut cache: FxHashMap<String, Vec<Phrase>> = FxHashMap::default();
    for (rule_index, rule) in rules.iter().enumerate() {
        let mut add = |template: &str, used: Use, out: &mut Vec<(Phrase, Use)>| -> Result<(), RulesError> {
            let phrases = match cache.get(template) {
                Some(phrases) => phrases,
                None => {
                    let phrases = expand(template).map_err(|e| RulesError::Invalid {
                        rule: rule.id.clone(),
                        message: format!("has a phrase template {template:?} that cannot be read: {e}"),
                    })?;
                    cache.entry(template.to_string()).or_insert(phrases)
                }
            };
            out.extend(phrases.iter().map(|p| (p.clone(), used)));
            Ok(())
        };
        for text in &rule.phrases {
            add(text, Use::Phrase { rule: rule_index }, &mut out)?;
        }
        for combo_parts in &rule.all {
            if combo_parts.is_empty() || combo_parts.len() > MAX_PARTS {
                return Err(RulesError::Invalid {
                    rule: rule.id.clone(),
                    message: format!("has a combination of {} parts; give 1 to {MAX_PARTS}", combo_parts.len()),
                });
            }
            let combo = combos.len();
            combos.push(Combo { rule: rule_index, parts: parts..parts + combo_parts.len() });
            for text in combo_parts {
                add(text, Use::Part { combo, part: parts }, &mut out)?;
                parts += 1;
            }
        }
        for text in &rule.exceptions {
            add(text, Use::Exception { rule: rule_index }, &mut out)?;
        }
    }
    Ok((out, combos, parts))
}

/// Every rule's patterns in one set, with whose each is.
fn compile_patterns(rules: &[Rule]) -> Result<Option<(RegexSet, Vec<(usize, usize)>)>, RulesError> {
    let mut sources = Vec::new();
    let mut uses = Vec::new();
    for (rule_index, rule) in rules.iter().enumerate() {
        for (pattern, source) in rule.patterns.iter().enumerate() {
            regex::Regex::new(source).map_err(|e| RulesError::Invalid {
                rule: rule.id.clone(),
                message: format!("has a pattern {source:?} that is not a valid regular expression: {e}"),
            })?;
            sources.push(source.as_str());
            uses.push((rule_index, pattern));
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
            when: None,
            unless: None,
            threshold: None,
            distinct: None,
            sequence: None,
            list: None,
            new_term: None,
            lookalike: None,
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
            let found = matched(&rules, Field::UrlFull, url);
            assert_eq!(found.iter().map(|f| f.0).collect::<Vec<_>>(), [0], "{url}");
            assert!(found[0].1.starts_with("how to se"), "the words as read are shown: {found:?}");
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
            [(0, "tylenol … to die".to_string())]
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
