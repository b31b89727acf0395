//! Small text helpers shared by parsers: splitting at an ASCII separator
//! byte (the hot-path counterpart of `str::split_once(char)`, which searches
//! through a general char pattern and shows in profiles of proxy-log
//! parsing), and decoding backslash-escaped quotes.
//!
//! An ASCII byte is never part of a multi-byte UTF-8 sequence, so the text
//! either side of it is always valid `str`.

use std::borrow::Cow;

/// `text` split at the first `sep`, without it; `None` if `sep` is absent.
pub(crate) fn split_once(text: &str, sep: u8) -> Option<(&str, &str)> {
    debug_assert!(sep.is_ascii());
    let at = memchr::memchr(sep, text.as_bytes())?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// `text` split at the last `sep`, without it; `None` if `sep` is absent.
pub(crate) fn rsplit_once(text: &str, sep: u8) -> Option<(&str, &str)> {
    debug_assert!(sep.is_ascii());
    let at = memchr::memrchr(sep, text.as_bytes())?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// Decodes `\"` to `"` and `\\` to `\`; other escapes (`\n`, `\xhh`) stay
/// as written, as Apache and Exim log them.
pub(crate) fn unescape_quotes(s: &str) -> Cow<'_, str> {
    if !s.contains("\\\"") && !s.contains("\\\\") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next @ ('"' | '\\')) => out.push(next),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_str_split_once_around_multibyte_text() {
        for text in ["", "/", "a/b/c", "é/ü", "no separator", "ends/", "/starts", "日本/語/"] {
            assert_eq!(split_once(text, b'/'), text.split_once('/'), "{text:?}");
            assert_eq!(rsplit_once(text, b'/'), text.rsplit_once('/'), "{text:?}");
        }
    }
}
