//! The parts of an Exim main log line: timestamp, optional process id and
//! message id, and the `KEY=value` tags of the text after them.

use crate::parse::{ascii, syslog, ParseError};
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use std::borrow::Cow;

/// An Exim log line split after its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EximLine<'a> {
    /// When it was logged, in UTC.
    pub time: DateTime<Utc>,
    /// The syslog host, when the line came through syslog.
    pub host: Option<&'a str>,
    /// The Exim message id the line is about, if any.
    pub id: Option<&'a str>,
    /// The text after the header (and after the message id).
    pub body: &'a str,
}

/// Splits `line`: either Exim's own file format, or a syslog line from a
/// program called `exim…` (with or without Exim's timestamp inside; `now`
/// picks the year of a traditional syslog timestamp).
pub fn split(line: &str, now: DateTime<Utc>) -> Result<EximLine<'_>, ParseError> {
    let (time, host, rest) = match stamp(line) {
        Some((time, rest)) => (time, None, rest),
        None => {
            let sys = syslog::parse(line, now).map_err(|_| {
                ParseError("no Exim timestamp (expected `2024-03-04 10:42:00`) at the start of the line".into())
            })?;
            if !sys.program.starts_with("exim") {
                return Err(ParseError(format!("not an Exim line: the syslog program is {:?}", sys.program)));
            }
            let (time, rest) = stamp(sys.message).unwrap_or((sys.timestamp, sys.message));
            (time, sys.host, rest)
        }
    };
    let (id, body) = match rest.split_once(' ') {
        Some((word, after)) if is_message_id(word) => (Some(word), after),
        _ if is_message_id(rest) => (Some(rest), ""),
        _ => (None, rest),
    };
    if body.trim().is_empty() && id.is_none() {
        return Err(ParseError("Exim line has no text after its timestamp".into()));
    }
    Ok(EximLine { time, host, id, body })
}

/// Exim message ids: base-62 `time-pid-fraction`, 6-6-2 characters up to
/// Exim 4.96 (`1rKxYz-0001Ab-Cd`) and 6-11-4 from 4.97 on
/// (`1rKxYz-00000001Ab3-0Cd4`).
pub fn is_message_id(word: &str) -> bool {
    let mut parts = word.split('-');
    let lens: Vec<usize> = parts.by_ref().take(4).map(str::len).collect();
    word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') && matches!(lens[..], [6, 6, 2] | [6, 11, 4])
}

/// `2024-03-04 10:42:00[.123][ +0100][ [pid]]` and the text after it. A time
/// without a zone is UTC.
fn stamp(line: &str) -> Option<(DateTime<Utc>, &str)> {
    let date = line.get(..10)?;
    let rest = line.get(10..)?.strip_prefix(' ')?;
    let (clock, mut rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let naive = NaiveDateTime::parse_from_str(&format!("{date} {clock}"), "%Y-%m-%d %H:%M:%S%.f").ok()?;
    let mut time = naive.and_utc();
    if let Some((zone, after)) = word(rest).filter(|(w, _)| w.len() == 5 && w.starts_with(['+', '-'])) {
        let offset = zone_offset(zone)?;
        time = naive.and_local_timezone(offset).single()?.with_timezone(&Utc);
        rest = after;
    }
    if let Some((_, after)) = word(rest).filter(|(w, _)| w.len() > 2 && w.starts_with('[') && w.ends_with(']')) {
        rest = after;
    }
    Some((time, rest))
}

/// The first space-delimited word of `s` and the text after its space.
fn word(s: &str) -> Option<(&str, &str)> {
    let (w, rest) = s.split_once(' ').unwrap_or((s, ""));
    (!w.is_empty()).then_some((w, rest))
}

/// `+0100` → one hour east.
fn zone_offset(zone: &str) -> Option<FixedOffset> {
    let digits = zone.get(1..)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..)?.parse().ok()?;
    let secs = (hours * 60 + minutes) * 60;
    if zone.starts_with('-') {
        FixedOffset::west_opt(secs)
    } else {
        FixedOffset::east_opt(secs)
    }
}

/// One piece of a log line's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'a> {
    /// `KEY=value`; quoted values are unquoted (`\"` and `\\` decoded, other
    /// escapes kept as written). A trailing `:` is kept in the value.
    Tag(&'a str, Cow<'a, str>),
    /// Anything else, up to the next space.
    Word(&'a str),
}

/// A quoted tag value that is never closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unterminated<'a>(pub &'a str);

/// The next token of `s` (after any spaces) and the text after it; `None` at
/// the end. `H=` values span the words up to the bracketed address
/// (`H=host (helo) [192.0.2.1]:25`).
pub fn next_token(s: &str) -> Result<Option<(Token<'_>, &str)>, Unterminated<'_>> {
    let s = s.trim_start_matches(' ');
    if s.is_empty() {
        return Ok(None);
    }
    let Some((key, value)) = tag_key(s) else {
        let (w, rest) = s.split_once(' ').unwrap_or((s, ""));
        return Ok(Some((Token::Word(w), rest)));
    };
    if let Some(quoted) = value.strip_prefix('"') {
        let (inner, rest) = closing_quote(quoted).ok_or(Unterminated(key))?;
        return Ok(Some((Token::Tag(key, ascii::unescape_quotes(inner)), rest)));
    }
    let end = if key == "H" { host_end(value) } else { value.find(' ').unwrap_or(value.len()) };
    let (v, rest) = value.split_at(end);
    Ok(Some((Token::Tag(key, Cow::Borrowed(v)), rest)))
}

/// `KEY` and the text after `KEY=`, when `s` starts with a tag: a letter,
/// then letters and digits, optionally `*` (`id*=`).
fn tag_key(s: &str) -> Option<(&str, &str)> {
    let eq = s.find('=')?;
    let key = s.get(..eq)?;
    let name = key.strip_suffix('*').unwrap_or(key);
    let ok = name.len() <= 8
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| (key, s.get(eq + 1..).unwrap_or("")))
}

/// Length of an `H=` value: through the first word that starts with `[`,
/// unless a tag comes first (then just the first word).
fn host_end(value: &str) -> usize {
    let first = value.find(' ').unwrap_or(value.len());
    let mut at = 0;
    loop {
        let rest = value.get(at..).unwrap_or("");
        let len = rest.find(' ').unwrap_or(rest.len());
        if rest.starts_with('[') {
            return at + len;
        }
        if len == rest.len() || (at > 0 && tag_key(rest).is_some()) {
            return first;
        }
        at += len + 1;
    }
}

/// Where a quoted value ends: at a `"` that is not escaped and is followed
/// by the end of the line, or by a space and another tag or `for`/`from`
/// (Exim does not always escape quotes inside a subject).
fn closing_quote(s: &str) -> Option<(&str, &str)> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'\\') => i += 2,
            Some(b'"') => {
                let after = s.get(i + 1..)?;
                let next = after.strip_prefix(' ');
                let closes = after.is_empty()
                    || next.is_some_and(|n| tag_key(n).is_some() || n.starts_with("for ") || n.starts_with("from "));
                if closes {
                    return Some((s.get(..i)?, after));
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// The address in the last `[...]` of an `H=` value, checked to be an IP
/// address.
pub fn host_ip(value: &str) -> Option<&str> {
    let open = value.rfind('[')?;
    let close = open + value.get(open..)?.find(']')?;
    let ip = value.get(open + 1..close)?;
    ip.parse::<std::net::IpAddr>().is_ok().then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap()
    }

    fn tokens(s: &str) -> Vec<Token<'_>> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some((t, r)) = next_token(rest).unwrap() {
            out.push(t);
            rest = r;
        }
        out
    }

    #[test]
    fn headers_in_every_shape() {
        let t = Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap();
        let l = split("2024-03-04 10:42:00 1rKxYz-0001Ab-Cd Completed", now()).unwrap();
        assert_eq!(l, EximLine { time: t, host: None, id: Some("1rKxYz-0001Ab-Cd"), body: "Completed" });
        let l = split("2024-03-04 11:42:00.250 +0100 [4242] 1rKxYz-00000001Ab3-0Cd4 <= a@b", now()).unwrap();
        assert_eq!(l.time, t + chrono::Duration::milliseconds(250));
        assert_eq!((l.id, l.body), (Some("1rKxYz-00000001Ab3-0Cd4"), "<= a@b"));
        let l = split("2024-03-04 10:42:00 Start queue run: pid=12762", now()).unwrap();
        assert_eq!((l.id, l.body), (None, "Start queue run: pid=12762"));
        let l = split("Mar  4 10:42:00 mx exim[81]: 2024-03-04 10:42:00 1rKxYz-0001Ab-Cd Completed", now()).unwrap();
        assert_eq!((l.time, l.host, l.id), (t, Some("mx"), Some("1rKxYz-0001Ab-Cd")));
        let l = split("Mar  4 10:42:00 mx exim4[81]: 1rKxYz-0001Ab-Cd Completed", now()).unwrap();
        assert_eq!((l.time.format("%d %H:%M").to_string(), l.id), ("04 10:42".into(), Some("1rKxYz-0001Ab-Cd")));
        for bad in [
            "Mar  4 10:42:00 mx postfix/qmgr[1]: 3F2A1B4C5D: removed",
            "2024-03-04 10:42",
            "2024-03-04 10:42:00 ",
            "2024-03-04 25:42:00 x",
            "{\"Received\":1}",
        ] {
            assert!(split(bad, now()).is_err(), "{bad}");
        }
        assert!(split("2024-03-04 10:42:00 +0100x x", now()).is_ok(), "not a zone: part of the text");
    }

    #[test]
    fn message_ids() {
        assert!(is_message_id("1rKxYz-0001Ab-Cd"));
        assert!(is_message_id("1rKxYz-00000001Ab3-0Cd4"));
        for bad in ["1rKxYz-0001Ab", "1rKxYz-0001Ab-Cd-Ef", "1rKxYz-00000001Ab-Cd", "1rKx+z-0001Ab-Cd", "Completed"] {
            assert!(!is_message_id(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_and_tags() {
        assert_eq!(
            tokens(r#"a@b H=mx.example (helo x) [192.0.2.1]:25 P=esmtps T="Re: \"hi\", C=x" for c@d"#),
            [
                Token::Word("a@b"),
                Token::Tag("H", "mx.example (helo x) [192.0.2.1]:25".into()),
                Token::Tag("P", "esmtps".into()),
                Token::Tag("T", "Re: \"hi\", C=x".into()),
                Token::Word("for"),
                Token::Word("c@d"),
            ]
        );
        assert_eq!(
            tokens(r#"T="say "hi" now" id*=<x@y> H=[2001:db8::1] U=root"#),
            [
                Token::Tag("T", "say \"hi\" now".into()),
                Token::Tag("id*", "<x@y>".into()),
                Token::Tag("H", "[2001:db8::1]".into()),
                Token::Tag("U", "root".into()),
            ]
        );
        assert_eq!(tokens("H=localhost U=root"), [Token::Tag("H", "localhost".into()), Token::Tag("U", "root".into())]);
        assert_eq!(tokens("T=remote_smtp: text"), [Token::Tag("T", "remote_smtp:".into()), Token::Word("text")]);
        assert_eq!(next_token(r#"T="open"#), Err(Unterminated("T")));
        assert_eq!(next_token(r#"T="ends\"#), Err(Unterminated("T")));
        assert_eq!(ascii::unescape_quotes(r#"a\\b\n\"c\"\"#), "a\\b\\n\"c\"\\");
        assert_eq!(host_ip("mx (helo [10.0.0.1]) [192.0.2.1]:25*"), Some("192.0.2.1"));
        assert_eq!(host_ip("mx [192.0.2."), None);
        assert_eq!(host_ip("mx"), None);
    }
}
