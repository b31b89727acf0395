//! Keyword matching: every phrase of every rule in one Aho-Corasick automaton,
//! run over a normalised copy of each searched field.
//!
//! Normalisation (applied to phrases and haystacks alike) lower-cases with
//! Unicode rules and turns every run of characters that are not letters or
//! digits into one space, trimmed at both ends. URLs are percent-decoded
//! first (repeatedly, for double encoding). So a phrase's spaces match any run
//! of separators: `how to self harm` matches `How-To-Self-Harm`,
//! `how+to+self+harm`, `how%20to%20self_harm` and `how/to/self.harm`, and a
//! phrase written with punctuation (`self-harm`) matches `self harm` too.
//! A match counts only on word boundaries: the normalised haystack must have
//! a space or its start/end on both sides, so `gun` does not match `begun`.

use aho_corasick::{AhoCorasick, MatchKind};
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use thiserror::Error;
use vigil_core::config::RuleConfig;
use vigil_core::Event;

/// How many times a URL is percent-decoded at most (`%2520` → `%20` → ` `).
const MAX_URL_DECODES: usize = 3;

/// The event fields phrases are searched in, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    /// `search.query`: what the pupil typed into a search engine.
    #[serde(rename = "search.query")]
    SearchQuery,
    /// `url.full`: the address requested.
    #[serde(rename = "url.full")]
    UrlFull,
    /// `email.subject`: the subject of a mail.
    #[serde(rename = "email.subject")]
    EmailSubject,
}

impl Field {
    /// Every field, in search order.
    pub const ALL: [Field; 3] = [Field::SearchQuery, Field::UrlFull, Field::EmailSubject];

    /// The event field's name on the wire and in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::SearchQuery => "search.query",
            Field::UrlFull => "url.full",
            Field::EmailSubject => "email.subject",
        }
    }

    /// The field's value in `event`, if it has one.
    pub fn value(self, event: &Event) -> Option<&str> {
        match self {
            Field::SearchQuery => event.search_query.as_deref(),
            Field::UrlFull => event.url_full.as_deref(),
            Field::EmailSubject => event.email_subject.as_deref(),
        }
    }
}

/// One rule that matched an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    /// Index of the rule in the slice the [`Matcher`] was built from.
    pub rule: usize,
    /// The phrase that matched, as written in the configuration.
    pub phrase: String,
    /// The field it matched in.
    pub field: Field,
}

/// The automaton could not be built.
#[derive(Debug, Error)]
#[error("cannot build the keyword matcher from the alerter rules: {0}")]
pub struct MatcherError(#[from] aho_corasick::BuildError);

/// Finds which rules' phrases occur in an event.
#[derive(Debug)]
pub struct Matcher {
    /// `None` when no rule has a usable phrase.
    automaton: Option<AhoCorasick>,
    /// For each automaton pattern: the (rule index, configured phrase) pairs
    /// whose normalised phrase it is.
    owners: Vec<Vec<(usize, String)>>,
}

impl Matcher {
    /// Builds the automaton over every phrase of `rules`. Phrases that
    /// normalise to nothing (only punctuation) are skipped with a warning.
    pub fn new(rules: &[RuleConfig]) -> Result<Matcher, MatcherError> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<(usize, String)>> = Vec::new();
        for (rule_index, rule) in rules.iter().enumerate() {
            for phrase in &rule.phrases {
                let normal = normalise(phrase);
                if normal.is_empty() {
                    tracing::warn!(rule = %rule.id, phrase = %phrase, "skipping a phrase with no letters or digits");
                    continue;
                }
                let id = *index.entry(normal.clone()).or_insert_with(|| {
                    patterns.push(normal);
                    owners.push(Vec::new());
                    patterns.len() - 1
                });
                owners[id].push((rule_index, phrase.clone()));
            }
        }
        let automaton = if patterns.is_empty() {
            None
        } else {
            Some(AhoCorasick::builder().match_kind(MatchKind::Standard).build(&patterns)?)
        };
        Ok(Matcher { automaton, owners })
    }

    /// The rules matching `event`, at most one match per rule (the first
    /// field in [`Field::ALL`] order, then the first phrase by position),
    /// ordered by rule index.
    pub fn find(&self, event: &Event) -> Vec<RuleMatch> {
        let Some(automaton) = &self.automaton else { return Vec::new() };
        let mut found: Vec<RuleMatch> = Vec::new();
        for field in Field::ALL {
            let Some(value) = field.value(event) else { continue };
            let haystack = match field {
                Field::UrlFull => normalise(&percent_decode(value)),
                _ => normalise(value),
            };
            let bytes = haystack.as_bytes();
            for m in automaton.find_overlapping_iter(&haystack) {
                let starts_word = m.start() == 0 || bytes[m.start() - 1] == b' ';
                let ends_word = m.end() == bytes.len() || bytes[m.end()] == b' ';
                if !(starts_word && ends_word) {
                    continue;
                }
                for (rule, phrase) in &self.owners[m.pattern().as_usize()] {
                    if !found.iter().any(|f| f.rule == *rule) {
                        found.push(RuleMatch { rule: *rule, phrase: phrase.clone(), field });
                    }
                }
            }
        }
        found.sort_by_key(|f| f.rule);
        found
    }
}

/// Lower-cases `text` and replaces every run of non-alphanumeric characters
/// with one space, trimming both ends. The result contains only letters,
/// digits and single spaces.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            // Greek final sigma folds to σ, as an upper-case Σ lower-cases to σ.
            out.extend(c.to_lowercase().map(|l| if l == 'ς' { 'σ' } else { l }));
        } else {
            pending_space = true;
        }
    }
    out
}

/// Percent-decodes `url` until it stops changing (at most
/// [`MAX_URL_DECODES`] times); invalid UTF-8 is replaced.
fn percent_decode(url: &str) -> Cow<'_, str> {
    let mut current: Cow<'_, str> = Cow::Borrowed(url);
    for _ in 0..MAX_URL_DECODES {
        if !current.contains('%') {
            break;
        }
        let decoded = percent_decode_str(&current).decode_utf8_lossy().into_owned();
        if decoded == current {
            break;
        }
        current = Cow::Owned(decoded);
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use vigil_core::config::{Role, Severity};
    use vigil_core::EventKind;

    fn rule(id: &str, phrases: &[&str]) -> RuleConfig {
        RuleConfig {
            id: id.into(),
            category: "test".into(),
            severity: Severity::High,
            notify: Role::Dsl,
            phrases: phrases.iter().map(|p| p.to_string()).collect(),
            description: None,
        }
    }

    fn event(query: Option<&str>, url: Option<&str>, subject: Option<&str>) -> Event {
        let mut e = Event::new(Utc::now(), EventKind::Proxy, "allowed", Default::default(), "squid", "squid", "");
        e.search_query = query.map(Into::into);
        e.url_full = url.map(Into::into);
        e.email_subject = subject.map(Into::into);
        e
    }

    fn matched(rules: &[RuleConfig], e: &Event) -> Vec<(String, &'static str)> {
        Matcher::new(rules).unwrap().find(e).into_iter().map(|m| (m.phrase, m.field.as_str())).collect()
    }

    #[test]
    fn matches_whole_words_only_in_any_case() {
        let rules = [rule("weapons", &["gun"])];
        assert!(matched(&rules, &event(Some("the game has begun"), None, None)).is_empty());
        assert!(matched(&rules, &event(Some("gunpowder"), None, None)).is_empty());
        assert_eq!(matched(&rules, &event(Some("buy a GUN now"), None, None)), [("gun".to_string(), "search.query")]);
        assert_eq!(matched(&rules, &event(Some("begun, then Gun!"), None, None)).len(), 1);
    }

    #[test]
    fn url_separators_and_percent_encoding_act_as_spaces() {
        let rules = [rule("self-harm", &["how to self harm"])];
        for url in [
            "http://example.com/how-to-self-harm",
            "http://example.com/search?q=how+to+self+harm&x=1",
            "http://example.com/q=How%20To%20Self_Harm",
            "http://example.com/q=how%2520to%2520self%2520harm",
            "http://example.com/how/to/self.harm",
        ] {
            assert_eq!(
                matched(&rules, &event(None, Some(url), None)),
                [("how to self harm".to_string(), "url.full")],
                "{url}"
            );
        }
        assert!(matched(&rules, &event(None, Some("http://x/how-to-self-harmony"), None)).is_empty());
    }

    #[test]
    fn punctuation_inside_a_phrase_matches_any_separator() {
        let rules = [rule("self-harm", &["self-harm"])];
        assert_eq!(matched(&rules, &event(None, None, Some("re: Self Harm support"))).len(), 1);
        assert_eq!(matched(&rules, &event(Some("self_harm"), None, None)).len(), 1);
    }

    #[test]
    fn unicode_phrases_match_case_insensitively() {
        let rules = [rule("de", &["Selbstverletzung"]), rule("el", &["αυτοτραυματισμός"])];
        let e = event(Some("SELBSTVERLETZUNG hilfe"), None, Some("ΑΥΤΟΤΡΑΥΜΑΤΙΣΜΌΣ"));
        assert_eq!(
            matched(&rules, &e),
            [("Selbstverletzung".to_string(), "search.query"), ("αυτοτραυματισμός".to_string(), "email.subject")]
        );
        assert!(matched(&rules, &event(Some("xselbstverletzung"), None, None)).is_empty());
    }

    #[test]
    fn one_match_per_rule_and_shared_phrases_hit_every_rule() {
        let rules = [rule("a", &["knife", "gun"]), rule("b", &["gun"])];
        let found = Matcher::new(&rules).unwrap().find(&event(Some("gun and knife"), Some("http://x/gun"), None));
        assert_eq!(found.iter().map(|m| (m.rule, m.phrase.as_str())).collect::<Vec<_>>(), [(0, "gun"), (1, "gun")]);
    }

    #[test]
    fn overlapping_candidates_do_not_hide_a_real_match() {
        // "a b" inside "xa b" is not a word match, and must not hide "b c".
        let rules = [rule("a", &["a b"]), rule("b", &["b c"])];
        let found = matched(&rules, &event(Some("xa b c"), None, None));
        assert_eq!(found, [("b c".to_string(), "search.query")]);
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let rules = [rule("a", &["x", "!!!"]), rule("b", &["é"])];
        let m = Matcher::new(&rules).unwrap();
        let long = "%".repeat(100_000) + &"é%C3".repeat(10_000);
        for text in ["", "%", "%%%", "%ff%fe", "\u{0}\r\n", "İ", long.as_str(), "x\u{301}"] {
            m.find(&event(Some(text), Some(text), Some(text)));
        }
        assert!(Matcher::new(&[rule("p", &["..."])]).unwrap().find(&event(Some("..."), None, None)).is_empty());
    }
}
