//! `key=value` lists as firewalls and UTM appliances log them (FortiOS,
//! Sophos UTM): pairs separated by spaces; a value is either bare (runs to
//! the next space) or double-quoted, in which `\"` stands for a quote and
//! `\\` for a backslash. `key=` and `key=""` are both an empty value. Not
//! every product escapes quotes inside values, so a quote closes a value
//! only where it ends the text or is followed by spaces and the next
//! `key=`.

use std::borrow::Cow;

/// Why a text is not a `key=value` list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// A word without `=` where a pair was expected.
    #[error("`{0}` is not a key=value pair")]
    NotAPair(String),
    /// A quoted value runs to the end of the text.
    #[error("the quoted value of `{0}` is not closed")]
    Unterminated(String),
}

/// The pairs of one line, in order, borrowed from it where no unescaping
/// was needed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs<'a> {
    pairs: Vec<(&'a str, Cow<'a, str>)>,
}

impl<'a> Pairs<'a> {
    /// The value of the first pair named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_ref())
    }

    /// [`Pairs::get`], treating an empty value as absent.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }
}

/// Splits `text` into its pairs. Runs of spaces between pairs are allowed.
pub fn parse(text: &str) -> Result<Pairs<'_>, KvError> {
    let mut pairs = Vec::new();
    let mut rest = text.trim_start_matches(' ');
    while !rest.is_empty() {
        let word_end = rest.find(' ').unwrap_or(rest.len());
        let Some(eq) = rest[..word_end].find('=') else {
            return Err(KvError::NotAPair(clip(&rest[..word_end])));
        };
        let key = &rest[..eq];
        if key.is_empty() {
            return Err(KvError::NotAPair(clip(&rest[..word_end])));
        }
        let after = &rest[eq + 1..];
        let (value, remainder) = match after.strip_prefix('"') {
            Some(quoted) => quoted_value(quoted).ok_or_else(|| KvError::Unterminated(clip(key)))?,
            None => {
                let end = after.find(' ').unwrap_or(after.len());
                (Cow::Borrowed(&after[..end]), &after[end..])
            }
        };
        pairs.push((key, value));
        rest = remainder.trim_start_matches(' ');
    }
    Ok(Pairs { pairs })
}

/// The value after an opening quote, and the text after its closing quote.
/// The closing quote must end the text or be followed by spaces and a key.
fn quoted_value(s: &str) -> Option<(Cow<'_, str>, &str)> {
    let bytes = s.as_bytes();
    let mut owned: Option<String> = None;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if matches!(bytes.get(i + 1), Some(b'"' | b'\\')) => {
                let buf = owned.get_or_insert_with(String::new);
                buf.push_str(&s[start..i]);
                start = i + 1;
                i += 2;
            }
            b'"' if closes(&s[i + 1..]) => {
                let value = match owned {
                    Some(mut buf) => {
                        buf.push_str(&s[start..i]);
                        Cow::Owned(buf)
                    }
                    None => Cow::Borrowed(&s[..i]),
                };
                return Some((value, &s[i + 1..]));
            }
            _ => i += 1,
        }
    }
    None
}

/// `rest` (after a quote) is empty, or spaces then `key=` or the end.
fn closes(rest: &str) -> bool {
    if rest.is_empty() {
        return true;
    }
    let Some(next) = rest.strip_prefix(' ') else {
        return false;
    };
    let next = next.trim_start_matches(' ');
    let key_len = next.bytes().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')).count();
    next.is_empty() || (key_len > 0 && next.as_bytes().get(key_len) == Some(&b'='))
}

/// At most 40 characters of `s`, for error messages about hostile input.
fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bare_quoted_escaped_and_empty_values() {
        let p = parse(r#"date=2024-03-04 devname="FG 100F" msg="say \"hi\" \\o/" user="" empty= n=1"#).unwrap();
        assert_eq!(p.get("date"), Some("2024-03-04"));
        assert_eq!(p.get("devname"), Some("FG 100F"));
        assert_eq!(p.get("msg"), Some(r#"say "hi" \o/"#));
        assert_eq!(p.get("user"), Some(""));
        assert_eq!(p.non_empty("user"), None);
        assert_eq!(p.get("empty"), Some(""));
        assert_eq!(p.get("n"), Some("1"));
        assert_eq!(p.get("missing"), None);
    }

    #[test]
    fn quotes_inside_values_only_close_before_a_space_or_the_end() {
        let p = parse(r#"ua="Mozilla "5" x" a=b c="say "d=1" ok""#).unwrap();
        assert_eq!(p.get("ua"), Some(r#"Mozilla "5" x"#));
        assert_eq!(p.get("a"), Some("b"));
        assert_eq!(p.get("c"), Some(r#"say "d=1" ok"#));
        // Ambiguous: an unescaped quote before ` key=` closes the value.
        let p = parse(r#"m="a" b=c""#).unwrap();
        assert_eq!((p.get("m"), p.get("b")), (Some("a"), Some("c\"")));
    }

    #[test]
    fn first_of_repeated_keys_wins_and_spacing_is_free() {
        let p = parse("  a=1   a=2  ").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(parse(""), Ok(Pairs::default()));
    }

    #[test]
    fn rejects_words_and_open_quotes() {
        assert_eq!(parse("a=1 hello b=2"), Err(KvError::NotAPair("hello".into())));
        assert_eq!(parse("=x"), Err(KvError::NotAPair("=x".into())));
        assert_eq!(parse(r#"a="open"#), Err(KvError::Unterminated("a".into())));
        assert_eq!(parse(r#"a="ends with escape\""#), Err(KvError::Unterminated("a".into())));
    }
}
