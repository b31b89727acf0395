//! Normalisation: what pupils type and what rules say, read the same way
//! before matching (`rules/README.md`, "Normalisation").
//!
//! [`Normaliser::normalise`] turns text into lower-case words separated by
//! single spaces: Unicode compatibility forms and accents undone, emoji read
//! as their names, apostrophes dropped, leetspeak inside words undone,
//! elongated words squeezed, spaced-out letters joined, text-speak replaced
//! from `rules/normalise.toml`, and `l` read as `i` (so `se1f` and `self`
//! meet). Phrases go through the same steps, so the two sides always agree.
//! [`plain_into`] writes the lighter form regular expressions are written against.

use rustc_hash::{FxHashMap, FxHashSet};
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// A run of this many letters or more (`eee`) marks a word as elongated.
const ELONGATED_RUN: usize = 3;
/// Spaced-out single letters (`s u i c i d e`) are joined when there are at
/// least this many, or when they spell a known word and there are at least
/// [`MIN_SPACED_KNOWN`].
const MIN_SPACED_ANY: usize = 5;
/// See [`MIN_SPACED_ANY`].
const MIN_SPACED_KNOWN: usize = 3;

/// Reads text as words, the same way for rules and for the text searched.
#[derive(Debug, Clone, Default)]
pub struct Normaliser {
    /// Text-speak: a typed word (lower case, as typed) → the words it stands
    /// for, already normalised (before the `l`→`i` fold).
    words: FxHashMap<String, Vec<String>>,
    /// The words of every phrase, by their squeezed form (`kil` → `kill`):
    /// how an elongated word is read back.
    vocabulary: FxHashMap<String, String>,
    /// Words that spaced-out letters may spell (phrase words and text-speak
    /// keys).
    joinable: FxHashSet<String>,
}

/// A text as [`Normaliser::normalise_both`] reads it, in buffers that are
/// reused from one text to the next.
#[derive(Debug, Default)]
pub struct Normalised {
    /// The words without the final `l`→`i` fold: readable, to show what
    /// matched.
    pub unfolded: String,
    /// The words as matched: the same length as `unfolded`, so a span of
    /// one is the same words in the other.
    pub folded: String,
    /// The word being read.
    word: Word,
    /// Single letters held back.
    spaced: String,
}

/// One word being read: its characters, and whether it holds a leetspeak
/// symbol or digit to undo.
#[derive(Debug, Default)]
struct Word {
    text: String,
    has_letter: bool,
    has_leet: bool,
}

impl Word {
    fn clear(&mut self) {
        self.text.clear();
        self.has_letter = false;
        self.has_leet = false;
    }
}

impl Normaliser {
    /// A normaliser with the text-speak table `words` (typed word → what it
    /// stands for) and no phrase vocabulary yet.
    pub fn new<'a>(words: impl IntoIterator<Item = (&'a str, &'a str)>) -> Normaliser {
        let mut normaliser = Normaliser::default();
        let entries: Vec<(String, String, Vec<String>)> = words
            .into_iter()
            .map(|(typed, meaning)| {
                // Looked up as typed (`every1`) and as read (`everyi`).
                let as_typed: String = typed.to_lowercase().chars().filter(|c| !matches!(c, '\'' | '`')).collect();
                let as_read = normaliser.normalise_unfolded(typed).replace(' ', "");
                let meaning: Vec<String> =
                    normaliser.normalise_unfolded(meaning).split(' ').map(str::to_string).collect();
                (as_typed, as_read, meaning)
            })
            .collect();
        for (as_typed, as_read, meaning) in entries {
            for key in [as_typed, as_read] {
                normaliser.joinable.insert(key.clone());
                normaliser.words.insert(key, meaning.clone());
            }
        }
        normaliser
    }

    /// Teaches the words of the phrases, normalised with
    /// [`Normaliser::normalise_unfolded`]: elongated and spaced-out spellings
    /// of them are then read back as them.
    pub fn learn_words<'a>(&mut self, words: impl IntoIterator<Item = &'a str>) {
        for word in words {
            if word.is_empty() {
                continue;
            }
            self.vocabulary.entry(squeeze(word)).or_insert_with(|| word.to_string());
            self.joinable.insert(word.to_string());
        }
    }

    /// `text` as normalised words separated by single spaces, written into
    /// `out` (cleared first).
    pub fn normalise_into(&self, text: &str, out: &mut String) {
        out.clear();
        let mut reader = Reader { normaliser: self, out, word: Word::default(), spaced: String::new(), fold: true };
        reader.read(text);
    }

    /// `text` normalised twice over into `out`: without the final `l`→`i`
    /// fold and with it, as [`Normaliser::normalise_into`] writes it.
    pub fn normalise_both(&self, text: &str, out: &mut Normalised) {
        let Normalised { unfolded, folded, word, spaced } = out;
        unfolded.clear();
        let mut reader = Reader {
            normaliser: self,
            out: unfolded,
            word: std::mem::take(word),
            spaced: std::mem::take(spaced),
            fold: false,
        };
        reader.read(text);
        (*word, *spaced) = (reader.word, reader.spaced);
        folded.clear();
        // `l` and `i` are one byte each: fold the bytes, UTF-8 stays whole.
        let mut bytes = std::mem::take(folded).into_bytes();
        bytes.extend(unfolded.bytes().map(|b| if b == b'l' { b'i' } else { b }));
        *folded = String::from_utf8(bytes).expect("replacing one ASCII byte by another keeps UTF-8 valid");
    }

    /// [`Normaliser::normalise_into`] into a new string.
    pub fn normalise(&self, text: &str) -> String {
        let mut out = String::new();
        self.normalise_into(text, &mut out);
        out
    }

    /// Like [`Normaliser::normalise`] but without the final `l`→`i` fold:
    /// the form words are learnt and looked up in.
    pub fn normalise_unfolded(&self, text: &str) -> String {
        let mut out = String::new();
        let mut reader =
            Reader { normaliser: self, out: &mut out, word: Word::default(), spaced: String::new(), fold: false };
        reader.read(text);
        out
    }
}

/// The state of one pass over a text.
struct Reader<'n, 'o> {
    normaliser: &'n Normaliser,
    out: &'o mut String,
    /// The word being read.
    word: Word,
    /// Single letters seen in a row so far (`s u i`), not yet written.
    spaced: String,
    /// Whether `l` is written as `i`.
    fold: bool,
}

impl Reader<'_, '_> {
    fn read(&mut self, text: &str) {
        // A byte at a time while ASCII (most text is), a character at a
        // time otherwise.
        let bytes = text.as_bytes();
        let mut at = 0;
        while let Some(&b) = bytes.get(at) {
            if b.is_ascii() {
                self.read_ascii(b, bytes.get(at + 1).copied());
                at += 1;
            } else {
                let c = text[at..].chars().next().expect("a character begins at every non-ASCII byte read");
                self.read_unicode(c);
                at += c.len_utf8();
            }
        }
        self.end_word();
        self.end_spaced();
    }

    /// Reads the ASCII character `b`, followed by the byte `next`.
    fn read_ascii(&mut self, b: u8, next: Option<u8>) {
        if b.is_ascii_alphabetic() {
            self.word.text.push(char::from(b.to_ascii_lowercase()));
            self.word.has_letter = true;
        } else if b.is_ascii_digit() {
            self.word.text.push(char::from(b));
            self.word.has_leet |= leet(char::from(b)).is_some();
        } else if b == b'\'' || b == b'`' {
            // don't → dont
        } else if matches!(b, b'$' | b'@' | b'!' | b'|')
            && next
                .is_some_and(|next| next.is_ascii_alphabetic() || (next.is_ascii_digit() && !self.word.text.is_empty()))
            && (b == b'$' || !self.word.text.is_empty())
        {
            self.word.text.push(char::from(b));
            self.word.has_leet = true;
        } else {
            self.end_word();
        }
    }

    fn read_unicode(&mut self, c: char) {
        if matches!(c, '\u{2019}' | '\u{2018}' | '\u{02bc}') || is_combining_mark(c) || is_emoji_joiner(c) {
            return;
        }
        if let Some(name) = emoji_name(c) {
            self.end_word();
            for part in name.split(|ch: char| !ch.is_alphanumeric()) {
                self.word.text.extend(part.chars().flat_map(char::to_lowercase));
                self.word.has_letter = true;
                self.end_word();
            }
            return;
        }
        let mut broke = false;
        decompose_compatible(c, |d| {
            if is_combining_mark(d) || broke {
                return;
            }
            if d.is_alphanumeric() {
                // Greek final sigma folds to σ, as an upper-case Σ lower-cases to σ.
                self.word.text.extend(d.to_lowercase().map(|l| if l == 'ς' { 'σ' } else { l }));
                self.word.has_letter |= d.is_alphabetic();
                self.word.has_leet |= d.is_ascii_digit() && leet(d).is_some();
            } else {
                broke = true;
            }
        });
        if broke {
            self.end_word();
        }
    }

    /// Finishes the word being read: text-speak as typed, then leetspeak and
    /// elongation undone, then text-speak again.
    fn end_word(&mut self) {
        if self.word.text.is_empty() {
            return;
        }
        let mut word = std::mem::take(&mut self.word);
        let one_char = word.text.chars().nth(1).is_none();
        let meaning = if one_char { None } else { self.normaliser.words.get(&word.text) };
        if let Some(meaning) = meaning {
            self.end_spaced();
            for part in meaning {
                write_word(self.out, part, self.fold);
            }
        } else {
            let leet_undone = word.has_leet && word.has_letter;
            if leet_undone {
                word.text = word.text.chars().map(|c| leet(c).unwrap_or(c)).collect();
            }
            match self.deelongate(&word.text) {
                Some(read) => self.emit_read(&read, Lookup::TextSpeak),
                // A word of several letters as typed is known not to be text-speak.
                None if !leet_undone && !one_char => self.emit_read(&word.text, Lookup::Done),
                None => self.emit_read(&word.text, Lookup::TextSpeak),
            }
        }
        word.clear();
        self.word = word;
    }

    /// `word` squeezed, and read back as a phrase word, when it has a run of
    /// three or more of one letter; `None` when it has none.
    fn deelongate(&self, word: &str) -> Option<String> {
        // A phrase word as written (`xxx`, `kkk`) or a word of one letter
        // over and over is kept as it is, not read as that letter.
        if !has_run(word, ELONGATED_RUN) || self.normaliser.joinable.contains(word) || !has_two_letters(word) {
            return None;
        }
        let squeezed = squeeze(word);
        Some(self.normaliser.vocabulary.get(&squeezed).cloned().unwrap_or(squeezed))
    }

    /// Writes a finished word, holding single letters back until it is known
    /// whether they spell a word.
    fn emit_read(&mut self, word: &str, lookup: Lookup) {
        let mut chars = word.chars();
        if let (Some(letter), None) = (chars.next(), chars.next()) {
            if letter.is_alphabetic() {
                self.spaced.push(letter);
                return;
            }
        }
        self.end_spaced();
        match lookup {
            Lookup::TextSpeak => self.emit_final(word),
            Lookup::Done => write_word(self.out, word, self.fold),
        }
    }

    /// Writes the single letters held back: as one word when they spell one.
    fn end_spaced(&mut self) {
        if self.spaced.is_empty() {
            return;
        }
        let spaced = std::mem::take(&mut self.spaced);
        let count = spaced.chars().count();
        let known = self.normaliser.joinable.contains(&spaced);
        if count >= MIN_SPACED_ANY || (count >= MIN_SPACED_KNOWN && known) {
            self.emit_final(&spaced);
        } else {
            for letter in spaced.chars() {
                self.emit_final(letter.encode_utf8(&mut [0; 4]));
            }
        }
    }

    /// Writes `word`, or the words text-speak says it stands for.
    fn emit_final(&mut self, word: &str) {
        match self.normaliser.words.get(word) {
            Some(meaning) => {
                for part in meaning {
                    write_word(self.out, part, self.fold);
                }
            }
            None => write_word(self.out, word, self.fold),
        }
    }
}

/// Whether a word still has to be looked up as text-speak when written.
#[derive(Clone, Copy)]
enum Lookup {
    TextSpeak,
    /// It was, as typed, and is unchanged.
    Done,
}

/// Appends `word` to `out` after a space (none at the start), `l` as `i`
/// when `fold`.
fn write_word(out: &mut String, word: &str, fold: bool) {
    if !out.is_empty() {
        out.push(' ');
    }
    if fold {
        out.extend(word.chars().map(|c| if c == 'l' { 'i' } else { c }));
    } else {
        out.push_str(word);
    }
}

/// The letter a leetspeak digit or symbol stands for.
fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        '8' => 'b',
        '9' => 'g',
        _ => return None,
    })
}

/// Whether `word` has `run` or more of one character in a row.
fn has_run(word: &str, run: usize) -> bool {
    let mut previous = None;
    let mut length = 0;
    for c in word.chars() {
        if Some(c) == previous {
            length += 1;
            if length >= run {
                return true;
            }
        } else {
            previous = Some(c);
            length = 1;
        }
    }
    false
}

/// Whether `word` has two different characters.
fn has_two_letters(word: &str) -> bool {
    let mut chars = word.chars();
    let first = chars.next();
    chars.any(|c| Some(c) != first)
}

/// `word` with every run of one character written once (`kill` → `kil`).
pub fn squeeze(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// Zero-width joiners, variation selectors and skin-tone modifiers: parts
/// of an emoji sequence that carry no word.
fn is_emoji_joiner(c: char) -> bool {
    matches!(c, '\u{200d}' | '\u{fe0e}' | '\u{fe0f}' | '\u{1f3fb}'..='\u{1f3ff}')
}

/// An emoji's name (`🔪` → `kitchen knife`), for the characters in the
/// emoji blocks.
fn emoji_name(c: char) -> Option<&'static str> {
    let code = u32::from(c);
    let in_blocks = (0x1f000..=0x1faff).contains(&code) || (0x2600..=0x27bf).contains(&code);
    if !in_blocks {
        return None;
    }
    emojis::get(c.encode_utf8(&mut [0; 4])).map(emojis::Emoji::name)
}

/// Writes into `out` (cleared first) the plain form regular expressions are
/// written against: lower case, accents removed, apostrophes dropped, every
/// other run of characters that are not letters or digits one space; no
/// leetspeak or text-speak undone.
pub fn plain_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        plain_ascii_into(text.as_bytes(), out);
        return;
    }
    let mut pending_space = false;
    let mut push = |d: char, out: &mut String| {
        if d.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            if d.is_ascii() {
                out.push(d.to_ascii_lowercase());
            } else {
                out.extend(d.to_lowercase());
            }
        } else {
            pending_space = true;
        }
    };
    for c in text.chars() {
        if matches!(c, '\'' | '`' | '\u{2019}' | '\u{2018}' | '\u{02bc}') {
            continue;
        }
        if c.is_ascii() {
            push(c, out);
        } else {
            decompose_compatible(c, |d| {
                if !is_combining_mark(d) {
                    push(d, out);
                }
            });
        }
    }
}

/// [`plain_into`] for ASCII text, a byte at a time.
fn plain_ascii_into(text: &[u8], out: &mut String) {
    let mut pending_space = false;
    for &b in text {
        if b.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(char::from(b.to_ascii_lowercase()));
        } else if b != b'\'' && b != b'`' {
            pending_space = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normaliser() -> Normaliser {
        let mut n =
            Normaliser::new([("u", "you"), ("urself", "yourself"), ("kys", "kill yourself"), ("dont", "do not")]);
        let words: Vec<String> = ["kill", "myself", "die", "suicide", "self", "harm", "want", "to"]
            .iter()
            .map(|w| n.normalise_unfolded(w))
            .collect();
        n.learn_words(words.iter().map(String::as_str));
        n
    }

    #[test]
    fn case_accents_and_compatibility_forms() {
        let n = normaliser();
        assert_eq!(n.normalise("Suïcide ＳＵＩＣＩＤＥ 𝐬𝐮𝐢𝐜𝐢𝐝𝐞"), "suicide suicide suicide");
        assert_eq!(n.normalise("Self-Harm self.harm #selfharm self_harm"), "seif harm seif harm seifharm seif harm");
    }

    #[test]
    fn leetspeak_inside_words_only() {
        let n = normaliser();
        assert_eq!(n.normalise("k1ll mys3lf"), n.normalise("kill myself"));
        assert_eq!(n.normalise("$uicide"), "suicide");
        assert_eq!(n.normalise("se1f h4rm"), n.normalise("self harm"));
        assert_eq!(n.normalise("k!ll"), n.normalise("kill"));
        // Numbers and punctuation at word ends stay what they are.
        assert_eq!(n.normalise("year 7 help! 2024 $5"), "year 7 heip 2024 5");
    }

    #[test]
    fn elongated_words_are_read_back_as_phrase_words() {
        let n = normaliser();
        assert_eq!(n.normalise("i want to diieee"), n.normalise("i want to die"));
        assert_eq!(n.normalise("killlll myselfff"), n.normalise("kill myself"));
        // A plain double letter is a spelling, not an elongation.
        assert_eq!(n.normalise("weed ass"), "weed ass");
        assert_eq!(n.normalise("sooooo"), "so");
        // One letter over and over is not that letter (`kkk`, `xxx`).
        assert_eq!(n.normalise("kkk xxx"), "kkk xxx");
    }

    #[test]
    fn spaced_letters_join_when_they_spell_a_word() {
        let n = normaliser();
        assert_eq!(n.normalise("s u i c i d e"), "suicide");
        assert_eq!(n.normalise("s.u.i.c.i.d.e"), "suicide");
        assert_eq!(n.normalise("k y s"), n.normalise("kill yourself"));
        assert_eq!(n.normalise("u r a star"), "you r a star");
        assert_eq!(n.normalise("i want"), "i want");
    }

    #[test]
    fn text_speak_apostrophes_and_emoji() {
        let n = normaliser();
        assert_eq!(n.normalise("kill urself"), n.normalise("kill yourself"));
        assert_eq!(n.normalise("don't"), "do not");
        assert_eq!(n.normalise("don’t"), "do not");
        assert_eq!(n.normalise("i want 🔪"), "i want kitchen knife");
        assert_eq!(n.normalise("💊💊"), "piii piii");
        assert_eq!(n.normalise("👍🏽 ok"), "thumbs up ok");
    }

    fn plain(text: &str) -> String {
        let mut out = String::new();
        plain_into(text, &mut out);
        out
    }

    #[test]
    fn plain_form_keeps_spelling() {
        assert_eq!(plain("K1ll Mys3lf's café!!"), "k1ll mys3lfs cafe");
        assert_eq!(plain("  K1ll--Mys3lf's  cafe!!"), "k1ll mys3lfs cafe", "ASCII alone reads the same");
    }

    #[test]
    fn hostile_text_does_not_panic() {
        let n = normaliser();
        let long = "%".repeat(10_000) + &"é\u{301}".repeat(1000) + &"a".repeat(10_000);
        for text in ["", "\u{0}\r\n", "İ", "$", "$$$", "!!", "|a", long.as_str(), "\u{200d}\u{fe0f}"] {
            n.normalise(text);
            plain(text);
        }
    }
}
