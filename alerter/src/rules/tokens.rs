//! Words as tokens: the phrase automaton runs over one short code per word
//! rather than over letters, so it is small, every hit falls on word
//! boundaries by construction, and a search reads a few bytes per word.
//!
//! Every word of a phrase (normalised) gets a code. A word of the text gets
//! its code when it is one of them; a word written as a multi-word phrase
//! joined up (`#selfharm`, `selfharm.example`) reads as that phrase's words;
//! any other word that begins like an open-ended phrase word (`bomb*` in
//! `bombers`) reads as that prefix; any other word is "unknown", and a run
//! of unknown words is one code (no phrase holds one).
//!
//! A code is [`Vocabulary::width`] bytes: the first has its high bit set,
//! the others not, so a phrase's bytes can only match from the first byte
//! of a word's code and always end at the end of one.

use aho_corasick::{AhoCorasick, Anchored, Input, MatchKind, StartKind};
use rustc_hash::FxHashMap;

/// A phrase of several words also matches written as one word when that
/// word has at least this many characters (`#selfharm`).
const MIN_JOINED_CHARS: usize = 6;

/// One phrase, normalised, as the vocabulary is built from it.
#[derive(Debug, Clone, Copy)]
pub struct PhraseWords<'a> {
    /// The normalised words, separated by single spaces.
    pub words: &'a str,
    /// Whether the last word is a prefix (`suicide bomb*`).
    pub open_end: bool,
}

/// The codes of the phrases' words, and how text words are read as them.
#[derive(Debug, Default)]
pub struct Vocabulary {
    /// A phrase word → its code.
    codes: FxHashMap<String, u32>,
    /// A multi-word phrase written as one word → the codes of its words.
    joined: FxHashMap<String, Vec<u32>>,
    /// What a word may begin with: open-ended last words (`bomb`) and
    /// open-ended multi-word phrases joined up (`suicidebomb`), the longest
    /// found first (anchored at the word's start).
    beginnings: Option<AhoCorasick>,
    /// Per pattern of `beginnings`: the codes a word beginning so reads as
    /// (the prefix's; a joined phrase's words, the last the prefix's).
    beginning_codes: Vec<Vec<u32>>,
    /// The code of any other word, as bytes.
    unknown: Vec<u8>,
    /// Bytes per code.
    width: usize,
}

/// A text read as codes: the bytes the automaton runs over, and for each
/// code the byte span of the word it was read from.
#[derive(Debug, Default)]
pub struct Coded {
    /// The codes, [`Vocabulary::width`] bytes each.
    pub bytes: Vec<u8>,
    /// Per code: the span of its word in the normalised text.
    pub spans: Vec<(usize, usize)>,
}

impl Coded {
    /// The span in the normalised text of the words that automaton bytes
    /// `start..end` stand for.
    pub fn text_span(&self, start: usize, end: usize, width: usize) -> (usize, usize) {
        (self.spans[start / width].0, self.spans[end / width - 1].1)
    }
}

impl Vocabulary {
    /// The vocabulary of `phrases`.
    pub fn new<'a>(phrases: impl IntoIterator<Item = PhraseWords<'a>> + Clone) -> Vocabulary {
        let mut vocabulary = Vocabulary::default();
        let mut next = 0u32;
        let mut code = |word: &str, codes: &mut FxHashMap<String, u32>| -> u32 {
            *codes.entry(word.to_string()).or_insert_with(|| {
                next += 1;
                next - 1
            })
        };
        let mut prefix_words: Vec<&str> = Vec::new();
        for phrase in phrases.clone() {
            let mut words: Vec<&str> = phrase.words.split(' ').collect();
            if phrase.open_end {
                prefix_words.push(words.pop().unwrap_or_default());
            }
            for word in words {
                code(word, &mut vocabulary.codes);
            }
        }
        prefix_words.sort_unstable();
        prefix_words.dedup();
        let mut beginnings: Vec<String> = Vec::new();
        for prefix in prefix_words {
            let prefix_code = code(&format!("{prefix}*"), &mut vocabulary.codes);
            beginnings.push(prefix.to_string());
            vocabulary.beginning_codes.push(vec![prefix_code]);
        }
        vocabulary.width = width_for(next as usize + 1);
        encode_into(next, vocabulary.width, &mut vocabulary.unknown);
        for phrase in phrases {
            if !phrase.words.contains(' ') {
                continue;
            }
            let joined = phrase.words.replace(' ', "");
            if joined.chars().count() < MIN_JOINED_CHARS {
                continue;
            }
            let codes = vocabulary.phrase_codes(phrase.words, phrase.open_end);
            if !phrase.open_end {
                vocabulary.joined.entry(joined).or_insert(codes);
            } else if !beginnings.contains(&joined) {
                beginnings.push(joined);
                vocabulary.beginning_codes.push(codes);
            }
        }
        if !beginnings.is_empty() {
            let automaton = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .start_kind(StartKind::Anchored)
                .build(&beginnings)
                .expect("a few hundred short prefixes always build");
            vocabulary.beginnings = Some(automaton);
        }
        vocabulary
    }

    /// Bytes per code.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The codes of a normalised phrase's words; an open-ended last word as
    /// its prefix.
    fn phrase_codes(&self, words: &str, open_end: bool) -> Vec<u32> {
        let mut words: Vec<&str> = words.split(' ').collect();
        let last = if open_end { words.pop() } else { None };
        let mut codes: Vec<u32> = words.iter().map(|w| self.codes[*w]).collect();
        if let Some(prefix) = last {
            codes.push(self.codes[&format!("{prefix}*")]);
        }
        codes
    }

    /// Every byte string a normalised phrase is matched as: one, or for an
    /// open-ended phrase one per way its last word may be read (the prefix
    /// itself, each phrase word that begins with it, each longer prefix).
    /// Its words are read as [`Vocabulary::read`] reads text, so the two
    /// sides agree (`myself` and `my self` alike).
    pub fn phrase_patterns(&self, words: &str, open_end: bool) -> Vec<Vec<u8>> {
        let mut coded = Coded::default();
        if !open_end {
            self.read(words, &mut coded);
            return vec![coded.bytes];
        }
        let (head, prefix) = words.rsplit_once(' ').unwrap_or(("", words));
        self.read(head, &mut coded);
        let mut endings: Vec<u32> = self
            .codes
            .iter()
            .filter(|(word, _)| word.starts_with(prefix) && !self.joined.contains_key(word.as_str()))
            .map(|(_, &code)| code)
            .collect();
        endings.sort_unstable();
        endings
            .into_iter()
            .map(|ending| {
                let mut bytes = coded.bytes.clone();
                encode_into(ending, self.width, &mut bytes);
                bytes
            })
            .collect()
    }

    /// `text` (normalised words separated by single spaces) read as codes
    /// into `out` (cleared first).
    pub fn read(&self, text: &str, out: &mut Coded) {
        out.bytes.clear();
        out.spans.clear();
        let mut start = 0;
        for word in text.split(' ') {
            let span = (start, start + word.len());
            start = span.1 + 1;
            if word.is_empty() {
                continue;
            }
            if let Some(codes) = self.joined_words(word) {
                codes.iter().for_each(|&code| self.push(code, span, out));
            } else if let Some(&code) = self.codes.get(word) {
                self.push(code, span, out);
            } else if let Some(codes) = self.beginning(word) {
                codes.iter().for_each(|&code| self.push(code, span, out));
            } else if !out.bytes.ends_with(&self.unknown) {
                out.bytes.extend_from_slice(&self.unknown);
                out.spans.push(span);
            }
        }
    }

    /// The codes of the phrase `word` is written joined up as.
    fn joined_words(&self, word: &str) -> Option<&Vec<u32>> {
        // Most words are shorter than any joined phrase: no lookup.
        if word.len() < MIN_JOINED_CHARS {
            return None;
        }
        self.joined.get(word)
    }

    /// The codes of the longest open-ended beginning of `word`.
    fn beginning(&self, word: &str) -> Option<&Vec<u32>> {
        let found = self.beginnings.as_ref()?.find(Input::new(word).anchored(Anchored::Yes))?;
        Some(&self.beginning_codes[found.pattern().as_usize()])
    }

    fn push(&self, code: u32, span: (usize, usize), out: &mut Coded) {
        encode_into(code, self.width, &mut out.bytes);
        out.spans.push(span);
    }
}

/// Bytes per code for `count` codes: 7 bits per byte.
fn width_for(count: usize) -> usize {
    let mut width = 1;
    while count > 1 << (7 * width) {
        width += 1;
    }
    width
}

/// Appends `code` as `width` bytes: the first with its high bit set.
fn encode_into(code: u32, width: usize, out: &mut Vec<u8>) {
    for k in (0..width).rev() {
        let seven = ((code >> (7 * k)) & 0x7f) as u8;
        out.push(if k == width - 1 { 0x80 | seven } else { seven });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary(phrases: &[(&str, bool)]) -> Vocabulary {
        Vocabulary::new(phrases.iter().map(|&(words, open_end)| PhraseWords { words, open_end }))
    }

    fn codes(v: &Vocabulary, text: &str) -> (Vec<u8>, Vec<(usize, usize)>) {
        let mut coded = Coded::default();
        v.read(text, &mut coded);
        (coded.bytes, coded.spans)
    }

    #[test]
    fn widths_hold_every_code() {
        assert_eq!(width_for(128), 1);
        assert_eq!(width_for(129), 2);
        assert_eq!(width_for(16_384), 2);
        assert_eq!(width_for(16_385), 3);
        let mut bytes = Vec::new();
        encode_into(16_383, 2, &mut bytes);
        assert_eq!(bytes, [0xff, 0x7f]);
    }

    #[test]
    fn known_words_joined_phrases_prefixes_and_unknown_runs() {
        let v = vocabulary(&[("self harm", false), ("suicide bomb", true)]);
        let phrase = &v.phrase_patterns("self harm", false)[0];
        let (bytes, spans) = codes(&v, "i selfharm");
        assert_eq!(&bytes[v.width()..], &phrase[..], "#selfharm reads as the two words");
        assert_eq!(spans, [(0, 1), (2, 10), (2, 10)]);
        assert_eq!(codes(&v, "self harm").0, *phrase);
        let bombers = codes(&v, "suicide bombers").0;
        assert!(v.phrase_patterns("suicide bomb", true).contains(&bombers));
        assert!(v.phrase_patterns("suicide bomb", true).contains(&codes(&v, "suicidebombing").0));
        assert_eq!(codes(&v, "a b c").0.len(), v.width(), "a run of unknown words is one code");
    }

    #[test]
    fn an_open_ending_may_be_a_phrase_word() {
        let v = vocabulary(&[("bomb", true), ("bomber jacket", false)]);
        let patterns = v.phrase_patterns("bomb", true);
        assert!(patterns.contains(&codes(&v, "bomber").0), "bomber has its own code, still a bomb*");
        assert!(patterns.contains(&codes(&v, "bombs").0));
        assert!(!patterns.contains(&codes(&v, "jacket").0));
    }
}
