//! Word rules: every phrase, combination part and exception of every rule
//! read as words ([`super::tokens`], so hits fall on whole words): those of
//! one word found by the id of a text word, those of several in one
//! Aho-Corasick automaton over the text's word codes; the few regular
//! expressions in one `RegexSet` over the plain text.
//!
//! A rule matches a field when one of its phrases hits, or every
//! part of one of its combinations, or one of its patterns — unless one of
//! its exceptions hits in the same field.

use super::normalise::{plain_into, Normalised, Normaliser};
use super::patterns::PatternSet;
use super::template::{expand, Phrase};
use super::tokens::{Coded, PhraseKey, PhraseWords, Vocabulary};
use super::{Field, Rule, RuleMatch, RulesError};
use aho_corasick::{AhoCorasick, MatchKind};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Parts one combination may have at most.
const MAX_PARTS: usize = 32;

/// What an automaton pattern means to one rule. Combinations are numbered
/// across all rules, and so are their parts, one number per distinct part
/// template (`{myself|my self}` is one part of many combinations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// A phrase of `rule`.
    Phrase { rule: u32 },
    /// Part template `part`.
    Part { part: u32 },
    /// The anchor part of combination `combo`: when it hits, the combination
    /// is checked (its other parts are only marked, so a common word that is
    /// a part of hundreds of combinations costs one mark).
    Anchor { combo: u32 },
    /// An exception of `rule`.
    Exception { rule: u32 },
}

/// One list per number, in one array (read once per hit, so kept
/// together): list `i` is `all[starts[i]..starts[i + 1]]`.
#[derive(Debug)]
struct Lists<T> {
    starts: Vec<u32>,
    all: Vec<T>,
}

impl<T> Lists<T> {
    /// The lists, in number order.
    fn new(lists: impl IntoIterator<Item = Vec<T>>) -> Lists<T> {
        let mut out = Lists { starts: vec![0], all: Vec::new() };
        for list in lists {
            out.all.extend(list);
            out.starts.push(out.all.len() as u32);
        }
        out
    }

    /// List `i`.
    fn of(&self, i: usize) -> &[T] {
        &self.all[self.starts[i] as usize..self.starts[i + 1] as usize]
    }
}

/// Where the uses of one phrase key are kept.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// Automaton pattern `n`.
    Sequence(usize),
    /// Vocabulary id `n`.
    Word(usize),
}

/// One combination: its rule and the numbers of its parts.
#[derive(Debug)]
struct Combo {
    rule: usize,
    parts: Vec<usize>,
}

/// Marks set during one [`KeywordMatcher::find`]: an array slot holds the
/// number of the call that last set it, so nothing is cleared between calls.
/// The rules and combinations hit are listed in [`Scratch`].
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
    /// Per combination: its anchor hit (it is in `Scratch::combos`).
    touched: Vec<u32>,
}

impl Marks {
    /// Marks what `used` says a hit on the words at `span` means, listing
    /// a rule's first phrase hit in `rules` and a combination's first
    /// anchor hit in `combos`.
    fn apply(&mut self, used: Use, span: (usize, usize), rules: &mut Vec<usize>, combos: &mut Vec<usize>) {
        let call = self.call;
        match used {
            Use::Phrase { rule } => {
                let rule = rule as usize;
                if self.phrase_hit[rule] != call {
                    self.phrase_hit[rule] = call;
                    self.phrase_span[rule] = span;
                    rules.push(rule);
                }
            }
            Use::Part { part } => {
                let part = part as usize;
                if self.part_hit[part] != call {
                    self.part_hit[part] = call;
                    self.part_span[part] = span;
                }
            }
            Use::Anchor { combo } => {
                let combo = combo as usize;
                if self.touched[combo] != call {
                    self.touched[combo] = call;
                    combos.push(combo);
                }
            }
            Use::Exception { rule } => self.excepted[rule as usize] = call,
        }
    }
}

/// Reusable buffers for [`KeywordMatcher::find`], so matching allocates
/// nothing per event once warm.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The normalised text, readable and as matched.
    normalised: Normalised,
    /// The normalised text read as words.
    coded: Coded,
    /// The plain form, for the patterns.
    plain: String,
    marks: Marks,
    /// Rules with a phrase hit, in the order of their first hit.
    rules: Vec<usize>,
    /// Combinations whose anchor hit.
    combos: Vec<usize>,
    /// Rules with a pattern hit.
    patterned: Vec<(usize, usize)>,
}

/// The compiled word rules.
#[derive(Debug)]
pub struct KeywordMatcher {
    normaliser: Normaliser,
    vocabulary: Vocabulary,
    /// The phrases of several words, as word codes.
    automaton: Option<AhoCorasick>,
    /// Per automaton pattern: what it means.
    sequence_uses: Lists<Use>,
    /// Per vocabulary id: what a text word of that id means.
    word_uses: Lists<Use>,
    combos: Vec<Combo>,
    parts: usize,
    /// Per rule: its patterns as written, to say what matched.
    patterns: Vec<Vec<String>>,
    /// Every pattern, with its (rule, pattern index).
    regexes: Option<PatternSet>,
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
        for (phrase, _) in &expanded {
            normal_forms.entry(phrase.text.as_str()).or_insert_with(|| normaliser.normalise(&phrase.text));
        }
        let vocabulary = Vocabulary::new(
            expanded
                .iter()
                .map(|(phrase, _)| PhraseWords {
                    words: &normal_forms[phrase.text.as_str()],
                    open_end: phrase.open_end,
                })
                .filter(|phrase| !phrase.words.is_empty()),
        );
        // What each key means: a sequence's uses by its automaton pattern,
        // a word's by its vocabulary id.
        let mut slots_of: FxHashMap<(&str, bool), Vec<Slot>> = FxHashMap::default();
        let mut sequence_numbers: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
        let mut sequences: Vec<Vec<u8>> = Vec::new();
        let mut sequence_uses: Vec<Vec<Use>> = Vec::new();
        let mut word_uses: Vec<Vec<Use>> = vec![Vec::new(); vocabulary.len()];
        for (phrase, used) in &expanded {
            let normal = normal_forms[phrase.text.as_str()].as_str();
            if normal.is_empty() {
                continue;
            }
            let slots = slots_of.entry((normal, phrase.open_end)).or_insert_with(|| {
                let keys = vocabulary.phrase_keys(PhraseWords { words: normal, open_end: phrase.open_end });
                keys.into_iter()
                    .map(|key| match key {
                        PhraseKey::Words(bytes) => {
                            Slot::Sequence(*sequence_numbers.entry(bytes).or_insert_with_key(|bytes| {
                                sequences.push(bytes.clone());
                                sequence_uses.push(Vec::new());
                                sequences.len() - 1
                            }))
                        }
                        PhraseKey::Word(id) => Slot::Word(id as usize),
                    })
                    .collect()
            });
            for slot in slots.iter() {
                let uses = match *slot {
                    Slot::Sequence(number) => &mut sequence_uses[number],
                    Slot::Word(id) => &mut word_uses[id],
                };
                if !uses.contains(used) {
                    uses.push(*used);
                }
            }
        }
        let automaton = if sequences.is_empty() {
            None
        } else {
            Some(AhoCorasick::builder().match_kind(MatchKind::Standard).build(&sequences)?)
        };
        tracing::debug!(
            sequences = sequences.len(),
            words = word_uses.iter().filter(|uses| !uses.is_empty()).count(),
            combinations = combos.len(),
            "rule automaton built"
        );
        Ok(KeywordMatcher {
            normaliser,
            vocabulary,
            automaton,
            sequence_uses: Lists::new(sequence_uses),
            word_uses: Lists::new(word_uses),
            combos,
            parts,
            patterns: rules.iter().map(|r| r.patterns.clone()).collect(),
            regexes: PatternSet::new(rules)?,
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
        let Scratch { marks, rules, combos, patterned, normalised, .. } = scratch;
        let readable = &normalised.unfolded;
        let call = marks.call;
        let words = |(start, end): (usize, usize)| readable[start..end].to_string();
        let excepted = |rule: usize| marks.excepted[rule] == call;
        let push = |rule: usize, phrase: String, found: &mut Vec<RuleMatch>| {
            if !excepted(rule) && !found.iter().any(|f| f.rule == rule) {
                found.push(RuleMatch { rule, phrase, field, group: None, group_field: None });
            }
        };
        for &rule in rules.iter() {
            push(rule, words(marks.phrase_span[rule]), found);
        }
        for &combo in combos.iter() {
            let Combo { rule, parts } = &self.combos[combo];
            if parts.iter().all(|&p| marks.part_hit[p] == call) {
                let mut spans: Vec<(usize, usize)> = parts.iter().map(|&p| marks.part_span[p]).collect();
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
        let Scratch { normalised, coded, plain, marks, rules, combos, patterned } = scratch;
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
        if !self.vocabulary.is_empty() {
            self.normaliser.normalise_both(readable, normalised);
            self.vocabulary.read(&normalised.folded, coded);
            // Hits in the order their last word comes: a word's own
            // patterns before the sequences ending on it.
            let mut next_word = 0;
            let mut mark_words_to = |end: usize, marks: &mut Marks, rules: &mut Vec<usize>, combos: &mut Vec<usize>| {
                for word in &coded.words[next_word.min(end)..end] {
                    for &used in self.word_uses.of(word.id as usize) {
                        marks.apply(used, word.span, rules, combos);
                    }
                }
                next_word = next_word.max(end);
            };
            let sequences = self.automaton.iter().flat_map(|automaton| automaton.find_overlapping_iter(&coded.bytes));
            for m in sequences {
                mark_words_to(coded.last_word(m.end()) + 1, marks, rules, combos);
                let span = coded.text_span(m.start(), m.end());
                for &used in self.sequence_uses.of(m.pattern().as_usize()) {
                    marks.apply(used, span, rules, combos);
                }
            }
            mark_words_to(coded.words.len(), marks, rules, combos);
        }
        if let Some(patterns) = &self.regexes {
            plain_into(readable, plain);
            patterns.find(plain, patterned);
        }
    }
}

/// What the rules' templates stand for: every phrase with what it means,
/// the combinations, and how many distinct part templates they have.
type Expanded = (Vec<(Phrase, Use)>, Vec<Combo>, usize);

/// Every phrase each rule's templates stand for, with what it means; the
/// combinations; and how many distinct part templates they have in all.
fn expand_all(rules: &[Rule]) -> Result<Expanded, RulesError> {
    let mut out = Vec::new();
    let mut combos = Vec::new();
    let mut part_ids: FxHashMap<&str, usize> = FxHashMap::default();
    let mut cache: FxHashMap<String, Vec<Phrase>> = FxHashMap::default();
    for (rule_index, rule) in rules.iter().enumerate() {
        let mut phrases_of = |template: &str| -> Result<Vec<Phrase>, RulesError> {
            if let Some(phrases) = cache.get(template) {
                return Ok(phrases.clone());
            }
            let phrases = expand(template).map_err(|e| RulesError::Invalid {
                rule: rule.id.clone(),
                message: format!("has a phrase template {template:?} that cannot be read: {e}"),
            })?;
            cache.insert(template.to_string(), phrases.clone());
            Ok(phrases)
        };
        let with = |phrases: Vec<Phrase>, used: Use| phrases.into_iter().map(move |p| (p, used));
        for text in &rule.phrases {
            out.extend(with(phrases_of(text)?, Use::Phrase { rule: rule_index as u32 }));
        }
        for combo_parts in &rule.all {
            if combo_parts.is_empty() || combo_parts.len() > MAX_PARTS {
                return Err(RulesError::Invalid {
                    rule: rule.id.clone(),
                    message: format!("has a combination of {} parts; give 1 to {MAX_PARTS}", combo_parts.len()),
                });
            }
            let combo = combos.len();
            let mut parts = Vec::new();
            // The anchor: the part whose shortest phrase is longest, so the
            // least likely to occur in any text.
            let mut anchor: Option<(usize, Vec<Phrase>)> = None;
            for text in combo_parts {
                let phrases = phrases_of(text)?;
                let next = part_ids.len();
                let part = *part_ids.entry(text.as_str()).or_insert_with(|| {
                    out.extend(with(phrases.clone(), Use::Part { part: next as u32 }));
                    next
                });
                if !parts.contains(&part) {
                    parts.push(part);
                }
                let shortest = phrases.iter().map(|p| p.text.len()).min().unwrap_or(0);
                if anchor.as_ref().is_none_or(|(longest, _)| shortest > *longest) {
                    anchor = Some((shortest, phrases));
                }
            }
            let (_, anchor_phrases) = anchor.expect("a combination has parts");
            out.extend(with(anchor_phrases, Use::Anchor { combo: combo as u32 }));
            combos.push(Combo { rule: rule_index, parts });
        }
        for text in &rule.exceptions {
            out.extend(with(phrases_of(text)?, Use::Exception { rule: rule_index as u32 }));
        }
    }
    Ok((out, combos, part_ids.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing;

    fn rule(id: &str, phrases: &[&str]) -> Rule {
        Rule { phrases: phrases.iter().map(|p| p.to_string()).collect(), ..testing::rule(id) }
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
