//! Words as tokens: the phrase automaton runs over one short code per word
//! rather than over letters, so it is small, every hit falls on word
//! boundaries by construction, and a search reads a few bytes per word.
//!
//! Every word of a phrase (normalised) gets an id, and so does every
//! multi-word phrase written joined up (`selfharm` for `self harm`: a
//! hashtag, a domain), which is one more way that phrase is matched. A word
//! of the text reads as its id when it has one; else, when it begins like
//! an open-ended phrase word (`bomb*` in `bombers`, `suicidebomb*`), as that
//! prefix's id; else as no word.
//!
//! A phrase of one word is found by the id its text word reads as
//! ([`PhraseKey::Word`]); only phrases of several words go into the
//! automaton ([`PhraseKey::Words`]), as the codes of their words. So only
//! the words of those phrases have a code; every other word reads as the
//! "unknown" code, and a run of them is one code (no phrase holds one).
//!
//! Codes have 1 to 4 bytes, the shortest for the words most phrases hold:
//! a code's first byte has its high bit set, its last byte has bit 6 set,
//! any byte between has neither (a one-byte code has both), so a phrase's
//! bytes can only match from the first byte of a word's code and always end
//! at the end of one.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};
use rustc_hash::FxHashMap;

/// A phrase of several words also matches written as one word when that
/// word has at least this many characters (`#selfharm`).
const MIN_JOINED_CHARS: usize = 6;

/// The code of every word that is in no phrase of several words.
const UNKNOWN: u8 = 0xc0;

/// Marks a byte of [`Coded::bytes`] that stands for no phrase word.
const NO_WORD: u32 = u32::MAX;

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

/// How one reading of a phrase is found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PhraseKey {
    /// Several words in a row: these automaton bytes in [`Coded::bytes`].
    Words(Vec<u8>),
    /// One word: a text word that reads as this id.
    Word(u32),
}

/// A word's automaton code: 1 to 4 bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Code {
    len: u8,
    bytes: [u8; 4],
}

impl Code {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Words and their ids: a word of up to 8 bytes (most are) is kept packed
/// in a `u64`, so looking it up compares no strings and follows no pointer.
#[derive(Debug, Default)]
struct WordIds {
    short: FxHashMap<u64, u32>,
    long: FxHashMap<Box<str>, u32>,
}

impl WordIds {
    /// `word`'s id.
    fn get(&self, word: &str) -> Option<u32> {
        match pack(word) {
            Some(packed) => self.short.get(&packed).copied(),
            None => self.long.get(word).copied(),
        }
    }

    /// The id of `word`, which is known.
    fn of(&self, word: &str) -> u32 {
        self.get(word).expect("every phrase word has an id")
    }

    /// Gives `word` the next id unless it has one.
    fn insert(&mut self, word: &str) {
        let next = self.len() as u32;
        match pack(word) {
            Some(packed) => self.short.entry(packed).or_insert(next),
            None => self.long.entry(word.into()).or_insert(next),
        };
    }

    fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    /// Every word with its id, in no order.
    fn iter(&self) -> impl Iterator<Item = (String, u32)> + '_ {
        let short = self.short.iter().map(|(&packed, &id)| (unpack(packed), id));
        short.chain(self.long.iter().map(|(word, &id)| (word.to_string(), id)))
    }
}

/// `word` as the bytes of a `u64` (zero-padded: no word holds a zero
/// byte), when it has at most 8.
fn pack(word: &str) -> Option<u64> {
    let bytes = word.as_bytes();
    if bytes.len() > 8 {
        return None;
    }
    let mut packed = [0u8; 8];
    packed[..bytes.len()].copy_from_slice(bytes);
    Some(u64::from_le_bytes(packed))
}

/// The word [`pack`] made `packed` from.
fn unpack(packed: u64) -> String {
    let bytes = packed.to_le_bytes();
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(8);
    String::from_utf8_lossy(&bytes[..len]).into_owned()
}

/// The ids of the phrases' words, their codes, and how text words are read
/// as them.
#[derive(Debug, Default)]
pub struct Vocabulary {
    /// A phrase word or joined-up phrase → its id; an open-ended prefix `p`
    /// is there as `p*`.
    ids: WordIds,
    /// Per id: its automaton code; none (length 0) when no phrase of
    /// several words holds the word.
    codes: Vec<Code>,
    /// The open-ended prefixes, for the longest a word begins with
    /// (anchored at the word's start).
    beginnings: Option<AhoCorasick>,
    /// Per pattern of `beginnings`: its prefix's id.
    beginning_ids: Vec<u32>,
    /// Per prefix (as written, without `*`): the ids a word beginning with
    /// it may read as.
    endings: FxHashMap<String, Vec<u32>>,
    /// Bit `256 * first + second` set when some prefix begins with those
    /// two bytes (or is that one byte): most words begin like none, and
    /// skip `beginnings`.
    beginning_pairs: Vec<u64>,
}

/// A text read as codes: the bytes the automaton runs over, and the phrase
/// words it holds.
#[derive(Debug, Default)]
pub struct Coded {
    /// The codes of the words, one [`UNKNOWN`] for a run of other words.
    pub bytes: Vec<u8>,
    /// Per byte of `bytes`: the index in `words` of the word it encodes
    /// ([`NO_WORD`] for an unknown code).
    byte_words: Vec<u32>,
    /// The text's words that have an id, in order.
    pub words: Vec<WordRead>,
}

/// One word of the text with an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordRead {
    /// Its id in the vocabulary.
    pub id: u32,
    /// Its byte span in the normalised text.
    pub span: (usize, usize),
}

impl Coded {
    /// The span in the normalised text of the words that automaton bytes
    /// `start..end` stand for (a pattern's bytes never begin or end on an
    /// unknown code).
    pub fn text_span(&self, start: usize, end: usize) -> (usize, usize) {
        let first = self.words[self.byte_words[start] as usize];
        let last = self.words[self.byte_words[end - 1] as usize];
        (first.span.0, last.span.1)
    }

    /// The index in [`Coded::words`] of the last word automaton bytes
    /// ending at `end` stand for.
    pub fn last_word(&self, end: usize) -> usize {
        self.byte_words[end - 1] as usize
    }
}

impl Vocabulary {
    /// The vocabulary of `phrases`.
    pub fn new<'a>(phrases: impl IntoIterator<Item = PhraseWords<'a>>) -> Vocabulary {
        let phrases: Vec<PhraseWords<'a>> = phrases.into_iter().collect();
        let mut vocabulary = Vocabulary::default();
        let mut words: Vec<String> = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        for phrase in &phrases {
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
        for word in words.into_iter().chain(prefixes.iter().map(|prefix| format!("{prefix}*"))) {
            vocabulary.ids.insert(&word);
        }
        vocabulary.endings = endings(&vocabulary.ids, &prefixes);
        vocabulary.beginning_ids = prefixes.iter().map(|prefix| vocabulary.ids.of(&format!("{prefix}*"))).collect();
        vocabulary.beginning_pairs = vec![0; 65_536 / 64];
        for prefix in &prefixes {
            let bytes = prefix.as_bytes();
            let pair = match bytes {
                [first, second, ..] => usize::from(*first) << 8 | usize::from(*second),
                [only] => {
                    // Any second byte: set all 256 pairs.
                    let base = usize::from(*only) << 8;
                    vocabulary.beginning_pairs[base / 64..(base + 256) / 64].fill(u64::MAX);
                    continue;
                }
                [] => continue,
            };
            vocabulary.beginning_pairs[pair / 64] |= 1 << (pair % 64);
        }
        if !prefixes.is_empty() {
            let automaton = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .start_kind(StartKind::Anchored)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&prefixes)
                .expect("short prefixes always build");
            vocabulary.beginnings = Some(automaton);
        }
        vocabulary.assign_codes(&phrases);
        vocabulary
    }

    /// Gives a code to every id a phrase of several words holds, the
    /// shortest to those most phrases hold.
    fn assign_codes(&mut self, phrases: &[PhraseWords<'_>]) {
        let mut held = vec![0u32; self.ids.len()];
        for phrase in phrases {
            if let Some((head, last)) = self.sequence(*phrase) {
                for id in head.into_iter().chain(last) {
                    held[id as usize] += 1;
                }
            }
        }
        let mut ranked: Vec<u32> = (0..self.ids.len() as u32).filter(|&id| held[id as usize] > 0).collect();
        ranked.sort_by_key(|&id| (std::cmp::Reverse(held[id as usize]), id));
        self.codes = vec![Code::default(); self.ids.len()];
        for (rank, id) in ranked.into_iter().enumerate() {
            self.codes[id as usize] = code_for(rank);
        }
    }

    /// The ids of a phrase of several words: those of every word but the
    /// last, and the ids its last word may read as; `None` for one word.
    fn sequence(&self, phrase: PhraseWords<'_>) -> Option<(Vec<u32>, Vec<u32>)> {
        let (head, last) = phrase.words.rsplit_once(' ')?;
        let head = head.split(' ').map(|word| self.ids.of(word)).collect();
        let last = if phrase.open_end { self.endings[last].clone() } else { vec![self.ids.of(last)] };
        Some((head, last))
    }

    /// Every way a normalised phrase is found: its words (one word by id,
    /// several by their codes), and when long enough its words joined up
    /// as one; an open-ended phrase once per way its last word (or joined
    /// form) may be read: the prefix, each longer prefix, each word with an
    /// id that begins with it.
    pub fn phrase_keys(&self, phrase: PhraseWords<'_>) -> Vec<PhraseKey> {
        let mut keys: Vec<PhraseKey> = match self.sequence(phrase) {
            Some((head, last)) => {
                let mut head_bytes = Vec::new();
                for id in head {
                    head_bytes.extend_from_slice(self.codes[id as usize].as_bytes());
                }
                last.into_iter()
                    .map(|id| PhraseKey::Words([&head_bytes[..], self.codes[id as usize].as_bytes()].concat()))
                    .collect()
            }
            None if phrase.open_end => self.endings[phrase.words].iter().map(|&id| PhraseKey::Word(id)).collect(),
            None => vec![PhraseKey::Word(self.ids.of(phrase.words))],
        };
        match (phrase.joined(), phrase.open_end) {
            (Some(joined), false) => keys.push(PhraseKey::Word(self.ids.of(&joined))),
            (Some(joined), true) => keys.extend(self.endings[&joined].iter().map(|&id| PhraseKey::Word(id))),
            (None, _) => {}
        }
        keys
    }

    /// How many ids there are: every id is below this.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no phrase words at all.
    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }

    /// `text` (normalised words separated by single spaces) read as codes
    /// into `out` (cleared first).
    pub fn read(&self, text: &str, out: &mut Coded) {
        out.bytes.clear();
        out.byte_words.clear();
        out.words.clear();
        let mut start = 0;
        for word in text.as_bytes().split(|&b| b == b' ') {
            let span = (start, start + word.len());
            start = span.1 + 1;
            if word.is_empty() {
                continue;
            }
            let word = &text[span.0..span.1];
            let Some(id) = self.ids.get(word).or_else(|| self.beginning(word)) else {
                self.push_unknown(out);
                continue;
            };
            let code = self.codes[id as usize];
            if code.len == 0 {
                self.push_unknown(out);
            } else {
                out.bytes.extend_from_slice(code.as_bytes());
                out.byte_words.extend(std::iter::repeat_n(out.words.len() as u32, usize::from(code.len)));
            }
            out.words.push(WordRead { id, span });
        }
    }

    /// Writes the unknown code, once for a run of words without a code.
    fn push_unknown(&self, out: &mut Coded) {
        if out.bytes.last() != Some(&UNKNOWN) {
            out.bytes.push(UNKNOWN);
            out.byte_words.push(NO_WORD);
        }
    }

    /// The id of the longest open-ended prefix `word` begins with.
    fn beginning(&self, word: &str) -> Option<u32> {
        if let [first, second, ..] = word.as_bytes() {
            let pair = usize::from(*first) << 8 | usize::from(*second);
            if self.beginning_pairs[pair / 64] & (1 << (pair % 64)) == 0 {
                return None;
            }
        }
        let found = self.beginnings.as_ref()?.find(Input::new(word).anchored(Anchored::Yes))?;
        Some(self.beginning_ids[found.pattern().as_usize()])
    }
}

/// Per prefix: the ids of every key of `ids` that begins with it (a
/// prefix's own `p*` among them), in id order.
fn endings(ids: &WordIds, prefixes: &[String]) -> FxHashMap<String, Vec<u32>> {
    let mut sorted: Vec<(String, u32)> = ids.iter().collect();
    sorted.sort_unstable();
    prefixes
        .iter()
        .map(|prefix| {
            let from = sorted.partition_point(|(word, _)| word.as_str() < prefix.as_str());
            let mut found: Vec<u32> = sorted[from..]
                .iter()
                .take_while(|(word, _)| word.starts_with(prefix.as_str()))
                .map(|&(_, id)| id)
                .collect();
            found.sort_unstable();
            (prefix.clone(), found)
        })
        .collect()
}

/// The code of the word ranked `rank` (0: held by most phrases): 63 codes
/// of one byte after [`UNKNOWN`], then 64² of two bytes, 64³ of three, 64⁴
/// of four (6 free bits a byte).
fn code_for(rank: usize) -> Code {
    if rank < 63 {
        return Code { len: 1, bytes: [UNKNOWN + 1 + rank as u8, 0, 0, 0] };
    }
    let mut rest = rank - 63;
    let mut len = 2;
    while rest >= 1 << (6 * len) {
        rest -= 1 << (6 * len);
        len += 1;
    }
    assert!(len <= 4, "more than 16 million phrase words");
    let mut code = Code { len: len as u8, bytes: [0; 4] };
    for k in 0..len {
        let six = ((rest >> (6 * (len - 1 - k))) & 0x3f) as u8;
        code.bytes[k] = match k {
            0 => 0x80 | six,
            _ if k == len - 1 => 0x40 | six,
            _ => six,
        };
    }
    code
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

    fn coded(v: &Vocabulary, text: &str) -> Coded {
        let mut coded = Coded::default();
        v.read(text, &mut coded);
        coded
    }

    /// Whether `text` holds `key`: its bytes, or a word of its id.
    fn holds(v: &Vocabulary, text: &str, key: &PhraseKey) -> bool {
        let coded = coded(v, text);
        match key {
            PhraseKey::Words(bytes) => coded.bytes.windows(bytes.len()).any(|w| w == &bytes[..]),
            PhraseKey::Word(id) => coded.words.iter().any(|w| w.id == *id),
        }
    }

    fn found(v: &Vocabulary, phrase_text: &str, open_end: bool, text: &str) -> bool {
        v.phrase_keys(phrase(phrase_text, open_end)).iter().any(|key| holds(v, text, key))
    }

    #[test]
    fn codes_are_self_delimiting_and_shortest_first() {
        let mut seen = std::collections::HashSet::new();
        for rank in [0, 1, 62, 63, 64, 63 + 4095, 63 + 4096, 63 + 4096 + 262_143, 63 + 4096 + 262_144] {
            let code = code_for(rank);
            let bytes = code.as_bytes();
            assert!(bytes[0] & 0x80 != 0, "starts with a lead byte: {bytes:?}");
            assert!(bytes[bytes.len() - 1] & 0x40 != 0, "ends with a last byte: {bytes:?}");
            for middle in bytes.iter().take(bytes.len() - 1).skip(1) {
                assert_eq!(middle & 0xc0, 0, "a middle byte is neither: {bytes:?}");
            }
            if bytes.len() > 1 {
                assert_eq!(bytes[0] & 0x40, 0, "a lead byte of a long code is not a last byte");
                assert_eq!(bytes[bytes.len() - 1] & 0x80, 0, "a last byte is not a lead byte");
            }
            assert!(seen.insert(bytes.to_vec()), "distinct");
        }
        assert_eq!(code_for(0).len, 1);
        assert_eq!(code_for(63).len, 2);
        assert_eq!(code_for(63 + 4096).len, 3);
        assert_eq!(code_for(63 + 4096 + 262_144).len, 4);
    }

    #[test]
    fn words_short_and_long_keep_their_ids() {
        let mut ids = WordIds::default();
        for word in ["a", "kill", "selfharm", "selfharming", "é", "selfharm"] {
            ids.insert(word);
        }
        assert_eq!(ids.len(), 5);
        assert_eq!(
            [ids.get("a"), ids.get("selfharm"), ids.get("selfharming"), ids.get("é")],
            [Some(0), Some(2), Some(3), Some(4)]
        );
        assert_eq!(ids.get("selfhar"), None);
        let mut all: Vec<(String, u32)> = ids.iter().collect();
        all.sort();
        assert_eq!(all[0], ("a".to_string(), 0));
        assert_eq!(all[4], ("é".to_string(), 4));
    }

    #[test]
    fn a_phrase_matches_as_its_words_and_joined_up() {
        let v = vocabulary(&[("self harm", false), ("school", false)]);
        assert!(found(&v, "self harm", false, "how to self harm"));
        assert!(found(&v, "self harm", false, "selfharm"), "#selfharm");
        assert!(!found(&v, "self harm", false, "self help harm"));
        assert!(found(&v, "school", false, "my school"));
        assert!(!found(&v, "school", false, "schoolgirls"), "a joined word is not its first part");
    }

    #[test]
    fn open_ended_words_read_as_their_prefix() {
        let v = vocabulary(&[("suicide bomb", true), ("bomber jacket", false), ("kill", true)]);
        for text in ["suicide bombers", "suicide bomber", "suicide bomb", "suicidebombing"] {
            assert!(found(&v, "suicide bomb", true, text), "{text}");
        }
        assert!(!found(&v, "suicide bomb", true, "suicide jacket"));
        assert!(found(&v, "kill", true, "killers"));
        assert!(!found(&v, "kill", true, "skill"));
    }

    #[test]
    fn runs_of_unknown_words_are_one_code_and_spans_name_words() {
        let v = vocabulary(&[("kill it", false)]);
        let coded = coded(&v, "a b kill c it");
        let kill = v.codes[v.ids.of("kill") as usize].len as usize;
        let it = v.codes[v.ids.of("it") as usize].len as usize;
        assert_eq!(coded.bytes.len(), 1 + kill + 1 + it);
        assert_eq!(
            coded.words,
            [WordRead { id: v.ids.of("kill"), span: (4, 8) }, WordRead { id: v.ids.of("it"), span: (11, 13) }]
        );
        assert_eq!(coded.text_span(1, 1 + kill), (4, 8));
        assert_eq!(coded.text_span(1 + kill + 1, coded.bytes.len()), (11, 13));
    }

    #[test]
    fn words_of_one_word_phrases_only_read_as_unknown() {
        let v = vocabulary(&[("spliff", false), ("kill it", false)]);
        let coded = coded(&v, "spliff kill");
        assert_eq!(coded.bytes[0], UNKNOWN, "no phrase of several words holds spliff");
        assert_eq!(coded.words[0].id, v.ids.of("spliff"));
    }
}
