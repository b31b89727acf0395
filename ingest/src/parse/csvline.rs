//! One line of comma-separated values, as RFC 4180 quotes them: a field
//! holding a comma or a quote is enclosed in `"`, and a `"` inside it is
//! written `""`. Used by the W3C-style CSV logs (Exchange message tracking).
//!
//! The whole record is on one line (log writers escape line breaks), so a
//! quote left open at the end of the line means the line was cut short.

use std::borrow::Cow;

/// Why a line is not well-formed CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// A quoted field is not closed before the end of the line.
    #[error("quoted field {0} is not closed before the end of the line (is the line cut short?)")]
    Unterminated(usize),
    /// Something other than a comma follows a quoted field's closing quote.
    #[error("quoted field {0} has text after its closing quote")]
    AfterQuote(usize),
}

/// The fields of `line`, unquoted. Field numbers in errors are 1-based.
pub fn split(line: &str) -> Result<Vec<Cow<'_, str>>, CsvError> {
    let mut fields = Vec::new();
    let mut rest = line;
    loop {
        let number = fields.len() + 1;
        let Some(quoted) = rest.strip_prefix('"') else {
            match rest.split_once(',') {
                Some((field, after)) => {
                    fields.push(Cow::Borrowed(field));
                    rest = after;
                    continue;
                }
                None => {
                    fields.push(Cow::Borrowed(rest));
                    return Ok(fields);
                }
            }
        };
        let (field, after) = unquote(quoted).ok_or(CsvError::Unterminated(number))?;
        fields.push(field);
        if after.is_empty() {
            return Ok(fields);
        }
        rest = after.strip_prefix(',').ok_or(CsvError::AfterQuote(number))?;
    }
}

/// The value of a quoted field whose opening quote has been removed, and the
/// text after its closing quote; `None` when it is never closed.
fn unquote(s: &str) -> Option<(Cow<'_, str>, &str)> {
    let mut value: Option<String> = None;
    let mut start = 0;
    let mut search = 0;
    loop {
        let at = search + s.get(search..)?.find('"')?;
        if s.as_bytes().get(at + 1) == Some(&b'"') {
            value.get_or_insert_with(String::new).push_str(s.get(start..=at)?);
            start = at + 2;
            search = at + 2;
            continue;
        }
        let tail = s.get(start..at)?;
        let field = match value {
            Some(mut v) => {
                v.push_str(tail);
                Cow::Owned(v)
            }
            None => Cow::Borrowed(tail),
        };
        return Some((field, s.get(at + 1..)?));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Vec<String> {
        split(line).unwrap().into_iter().map(Cow::into_owned).collect()
    }

    #[test]
    fn splits_plain_and_quoted_fields() {
        assert_eq!(fields("a,b,,c"), ["a", "b", "", "c"]);
        assert_eq!(fields(""), [""]);
        assert_eq!(fields("a,"), ["a", ""]);
        assert_eq!(fields(r#""a,b",c"#), ["a,b", "c"]);
        assert_eq!(fields(r#"x,"say ""hi"", ok","""","#), ["x", r#"say "hi", ok"#, "\"", ""]);
        assert_eq!(fields(r#""""#), [""]);
        assert_eq!(fields("é,\u{1b}[0m,<b>"), ["é", "\u{1b}[0m", "<b>"]);
    }

    #[test]
    fn malformed_quoting_is_an_error() {
        assert_eq!(split(r#"a,"b,c"#), Err(CsvError::Unterminated(2)));
        assert_eq!(split(r#"a,"b"""#), Err(CsvError::Unterminated(2)));
        assert_eq!(split(r#""a"b,c"#), Err(CsvError::AfterQuote(1)));
    }

    #[test]
    fn every_cut_of_a_line_is_handled() {
        let line = r#"2024-03-04T10:42:00.123Z,"a ""b"", c",é,"x""#;
        for cut in (0..=line.len()).filter(|c| line.is_char_boundary(*c)) {
            let _ = split(&line[..cut]);
        }
    }
}
