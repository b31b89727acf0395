//! Words as tokens: the phrase automaton runs over one short code per word
//! rather than over letters, so it is small, every hit falls on word
//! boundaries by construction, and a search reads a few bytes per word.
//!
//! Every word of a phrase (normalised) gets a code, and so does every
//! multi-word phrase written joined up (`selfharm` for `self harm`: a
//! hashtag, a domain), which is one more way that phrase is matched. A word
//! of the text reads as its code when it has one; else, when it begins like
//! an open-ended phrase word (`bomb*` in `bombers`, `suicidebomb*`), as that
//! prefix's code; else as "unknown", and a run of unknown words is one code
//! (no phrase holds one).
//!
//! A code is [`Vocabulary::width`] bytes: the first has its high bit set,
//! the others not, so a phrase's bytes can only match from the first byte
//! of a word's code and always end at the end of one.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};
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

impl PhraseWords<'_> {
    /// The phrase written as one word, when it has several and is long
    /// enough to be read so.
    fn joined(&self) -> Option<String> {
        let joined = self.words.replace(' ', "");
        (joined.len() != self.words.len() && joined.chars().count() >= MIN_JOINED_CHARS).then_some(joined)
    }
}

/// The codes of the phrases' words, and how text words are read as them.
#[derive(Debug, Default)]
pub struct Vocabulary {
    /// A phrase word or joined-up phrase → its code; an open-ended prefix
    /// `p` is there as `p*`.
    codes: FxHashMap<String, u32>,
    /// The open-ended prefixes, for the longest a word begins with
    /// (anchored at the word's start).
    beginnings: Option<AhoCorasick>,
    /// Per pattern of `beginnings`: its prefix code.
    beginning_codes: Vec<u32>,
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
    pub fn new<'a>(phrases: impl IntoIterator<Item = PhraseWords<'a>>) -> Vocabulary {
        let mut vocabulary = Vocabulary::default();
        let mut words: Vec<String> = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        for phrase in phrases {
            let mut phrase_words: Vec<&str> = phrase.words.split(' ').collect();
            if phrase.open_end {
                prefixes.push(phrase_words.pop().unwrap_or_default().to_string());
            }
            words.extend(phrase_words.into_iter().map(str::to_string));
            match (phrase.joined(), phrase.open_end) {
                (Some(joined), false) => words.push(joined),
                (Some(joined), true) => prefixes.push(joined),
                (None, _) => {}
            }
        }
        prefixes.sort_unstable();
        prefixes.dedup();
        let prefix_keys = prefixes.iter().map(|prefix| format!("{prefix}*"));
        for word in words.into_iter().chain(prefix_keys) {
            let next = vocabulary.codes.len() as u32;
            vocabulary.codes.entry(word).or_insert(next);
        }
        vocabulary.beginning_codes = prefixes.iter().map(|prefix| vocabulary.codes[&format!("{prefix}*")]).collect();
        if !prefixes.is_empty() {
            let automaton = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .start_kind(StartKind::Anchored)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&prefixes)
                .expect("short prefixes always build");
            vocabulary.beginnings = Some(automaton);
        }
        let unknown = vocabulary.codes.len() as u32;
        vocabulary.width = width_for(unknown as usize + 1);
        encode_into(unknown, vocabulary.width, &mut vocabulary.unknown);
        vocabulary
    }

    /// Bytes per code.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Every byte string a normalised phrase is matched as: its words, and
    /// when long enough its words joined up as one; an open-ended phrase
    /// once per way its last word (or joined form) may be read: the prefix,
    /// each longer prefix, each word with a code that begins with it.
    pub fn phrase_patterns(&self, phrase: PhraseWords<'_>) -> Vec<Vec<u8>> {
        let mut coded = Coded::default();
        let mut patterns = Vec::new();
        if phrase.open_end {
            let (head, prefix) = phrase.words.rsplit_once(' ').unwrap_or(("", phrase.words));
            self.read(head, &mut coded);
            patterns.extend(self.endings(prefix).map(|ending| [&coded.bytes[..], &ending[..]].concat()));
            if let Some(joined) = phrase.joined() {
                patterns.extend(self.endings(&joined));
            }
        } else {
            self.read(phrase.words, &mut coded);
            patterns.push(std::mem::take(&mut coded.bytes));
            if let Some(joined) = phrase.joined() {
                self.read(&joined, &mut coded);
                patterns.push(coded.bytes);
            }
        }
        patterns
    }

    /// The codes (as bytes) a word beginning with `prefix` may read as.
    fn endings<'s>(&'s self, prefix: &'s str) -> impl Iterator<Item = Vec<u8>> + 's {
        let mut codes: Vec<u32> =
            self.codes.iter().filter(|(word, _)| word.starts_with(prefix)).map(|(_, &code)| code).collect();
        codes.sort_unstable();
        codes.into_iter().map(|code| {
            let mut bytes = Vec::with_capacity(self.width);
            encode_into(code, self.width, &mut bytes);
            bytes
        })
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
            if let Some(code) = self.codes.get(word).copied().or_else(|| self.beginning(word)) {
                encode_into(code, self.width, &mut out.bytes);
                out.spans.push(span);
            } else if !out.bytes.ends_with(&self.unknown) {
                out.bytes.extend_from_slice(&self.unknown);
                out.spans.push(span);
            }
        }
    }

    /// The code of the longest open-ended prefix `word` begins with.
    fn beginning(&self, word: &str) -> Option<u32> {
        let found = self.beginnings.as_ref()?.find(Input::new(word).anchored(Anchored::Yes))?;
        Some(self.beginning_codes[found.pattern().as_usize()])
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

    fn phrase(words: &str, open_end: bool) -> PhraseWords<'_> {
        PhraseWords { words, open_end }
    }

    fn vocabulary(phrases: &[(&str, bool)]) -> Vocabulary {
        Vocabulary::new(phrases.iter().map(|&(words, open_end)| phrase(words, open_end)))
    }

    fn codes(v: &Vocabulary, text: &str) -> Vec<u8> {
        let mut coded = Coded::default();
        v.read(text, &mut coded);
        coded.bytes
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
    fn a_phrase_matches_as_its_words_and_joined_up() {
        let v = vocabulary(&[("self harm", false), ("school", false)]);
        let patterns = v.phrase_patterns(phrase("self harm", false));
        assert!(patterns.contains(&codes(&v, "self harm")));
        assert!(patterns.contains(&codes(&v, "selfharm")), "#selfharm");
        let school = v.phrase_patterns(phrase("school", false));
        assert_eq!(school, [codes(&v, "school")]);
        assert!(!codes(&v, "schoolgirls").starts_with(&school[0]), "a joined word is not its first part");
    }

    #[test]
    fn open_ended_words_read_as_their_prefix() {
        let v = vocabulary(&[("suicide bomb", true), ("bomber jacket", false)]);
        let patterns = v.phrase_patterns(phrase("suicide bomb", true));
        for text in ["suicide bombers", "suicide bomber", "suicide bomb", "suicidebombing"] {
            assert!(patterns.contains(&codes(&v, text)), "{text}");
        }
        assert!(!patterns.contains(&codes(&v, "suicide jacket")));
    }

    #[test]
    fn runs_of_unknown_words_are_one_code_and_spans_name_words() {
        let v = vocabulary(&[("kill", false)]);
        let mut coded = Coded::default();
        v.read("a b kill c", &mut coded);
        assert_eq!(coded.bytes.len(), 3 * v.width());
        assert_eq!(coded.spans, [(0, 1), (4, 8), (9, 10)]);
        assert_eq!(coded.text_span(v.width(), 2 * v.width(), v.width()), (4, 8));
    }
}
