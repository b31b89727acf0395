//! Helpers for formats that log one JSON object per line (cloud audit
//! exports): reading the line without copying it — into typed structs whose
//! strings borrow from it ([`JsonLine`], [`Text`]) with errors that name the
//! field at fault, or into a borrowed tree walked by name ([`Json`]); reading
//! the timestamps those exports write; and dropping the empty strings they use
//! for "absent".
//!
//! Speed without a change of verdict: both readers accept exactly the lines
//! `serde_json::Value` accepts (the same nesting limit, number range and
//! string escapes), a repeated key means its last value, and keys of any case
//! are picked in the order a `Value` map keeps them, so what a parser makes
//! of a line is what it made of a `Value`. A line is read as a `Value` only
//! when the fast reading fails, to name the field at fault.

use super::ParseError;
use chrono::format::{self, Item, Parsed, StrftimeItems};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::sync::LazyLock;

/// A JSON value whose strings and keys borrow from the line when they hold no
/// escape: what a [`Value`] holds, without copying the line into it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as [`Value`] holds it.
    Number(Number),
    /// A string, unescaped.
    String(Cow<'a, str>),
    /// A list.
    Array(Vec<Json<'a>>),
    /// An object.
    Object(Members<'a>),
}

/// An object's members in the order written, repeated keys included; look-ups
/// see a repeated key's last value, as a [`Value`] map does.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Members<'a>(Vec<(Cow<'a, str>, Json<'a>)>);

impl<'a> Json<'a> {
    /// Reads `text` as one JSON value, failing where `serde_json::from_str::<Value>` fails.
    pub fn parse(text: &'a str) -> serde_json::Result<Self> {
        serde_json::from_str(text)
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The members of an object.
    pub fn as_object(&self) -> Option<&Members<'a>> {
        match self {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The items of a list.
    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The member `name` of an object (`None` for other values).
    pub fn get(&self, name: &str) -> Option<&Json<'a>> {
        self.as_object()?.get(name)
    }

    /// The same value as a [`Value`] (for error messages: it prints as the
    /// line's value would).
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::String(s.to_string()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(members) => {
                Value::Object(members.0.iter().map(|(k, v)| (k.to_string(), v.to_value())).collect::<Map<_, _>>())
            }
        }
    }
}

impl<'a> Members<'a> {
    /// The value of member `name` (its last value if repeated).
    pub fn get(&self, name: &str) -> Option<&Json<'a>> {
        self.0.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value)
    }

    /// The value of a member named `name` in any ASCII case. When several
    /// keys match, the one a [`Value`] map lists first (the least in byte
    /// order: `Status` before `status`) wins, with its last value if repeated.
    pub fn get_ignore_case(&self, name: &str) -> Option<&Json<'a>> {
        let mut best: Option<&(Cow<'a, str>, Json<'a>)> = None;
        for member in self.0.iter().filter(|(key, _)| key.eq_ignore_ascii_case(name)) {
            if best.is_none_or(|(key, _)| member.0 <= *key) {
                best = Some(member);
            }
        }
        best.map(|(_, value)| value)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Json<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

/// Builds a [`Json`] from what the parser visits, as [`Value`]'s own visitor does.
struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Json<'de>, E> {
        Ok(Number::from_f64(n).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(s.to_string())))
    }

    fn visit_string<E>(self, s: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(s)))
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json<'de>, D::Error> {
        Json::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members = Vec::new();
        while let Some(Text(key)) = map.next_key()? {
            members.push((key, map.next_value()?));
        }
        Ok(Json::Object(Members(members)))
    }
}

/// A string field that borrows from the line when it holds no escape (serde
/// copies a `Cow` inside an `Option`; this does not). Reads as a `String`
/// does, with the same errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Text<'a>(pub Cow<'a, str>);

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

/// Reads a [`Text`].
struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(s.to_string())))
    }

    fn visit_string<E>(self, s: String) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(s)))
    }
}

/// The kind of a JSON value. Reading one checks the text as reading a
/// [`Value`] does (nesting limit, number range, string escapes) and keeps
/// nothing else, so it allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// A list.
    Array,
    /// An object.
    Object,
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

/// Reads a [`Kind`], visiting everything inside it.
struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Kind, E> {
        Ok(Kind::Bool)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }

    fn visit_f64<E>(self, n: f64) -> Result<Kind, E> {
        Ok(if n.is_finite() { Kind::Number } else { Kind::Null })
    }

    fn visit_str<E>(self, _: &str) -> Result<Kind, E> {
        Ok(Kind::String)
    }

    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_none<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Kind, D::Error> {
        Kind::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        while seq.next_element::<Kind>()?.is_some() {}
        Ok(Kind::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        while map.next_key::<Kind>()?.is_some() {
            map.next_value::<Kind>()?;
        }
        Ok(Kind::Object)
    }
}

/// A line that holds one JSON object (it starts with `{`), to be read into
/// typed structs whose [`Text`] fields borrow from it ([`JsonLine::read`]).
pub(super) struct JsonLine<'a> {
    text: &'a str,
    what: &'a str,
    /// Whether [`may_hold_unchecked_faults`] cleared the line for reading
    /// straight into a struct.
    clear: bool,
}

impl<'a> JsonLine<'a> {
    /// `line` of `what` (the format, for errors), or an error if it is
    /// plainly not a JSON object (it does not start with `{`).
    pub fn new(line: &'a str, what: &'a str) -> Result<Self, ParseError> {
        if !line.trim_start().starts_with('{') {
            return Err(ParseError(format!("{what} line is not a JSON object (it does not start with `{{`)")));
        }
        Ok(JsonLine { text: line, what, clear: !may_hold_unchecked_faults(line) })
    }

    /// The line read as a `T`, or an error naming why: not JSON, truncated,
    /// trailing text, or a field not of `T`'s shape (its path named:
    /// `events[0].parameters[2].boolValue: invalid type ...`).
    ///
    /// The verdict is the one of reading a [`Value`] and then a `T` from it,
    /// but the line is read straight into `T` when it is clear of the faults
    /// that reading skips unchecked in the parts `T` ignores. Reading straight
    /// fails on any other fault, and on a repeated key `T` reads (which a
    /// `Value` takes as its last value); only then is the line read as a
    /// `Value`, which gives that reading, or the error with its path.
    pub fn read<T: Deserialize<'a>>(&self) -> Result<T, ParseError> {
        if self.clear {
            if let Ok(typed) = serde_json::from_str(self.text) {
                return Ok(typed);
            }
        }
        let what = self.what;
        let value = match serde_json::from_str(self.text) {
            Ok(value @ Value::Object(_)) => value,
            Ok(_) => return Err(ParseError(format!("{what} line is not a JSON object"))),
            Err(e) if e.is_eof() => return Err(ParseError(format!("{what} line is truncated JSON ({e})"))),
            Err(e) => return Err(ParseError(format!("{what} line is not valid JSON ({e})"))),
        };
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                ParseError(format!("{what} record is not of the expected shape: {inner}"))
            } else {
                ParseError(format!("{what} field {path} is not of the expected shape: {inner}"))
            }
        })
    }
}

/// Whether `line` might hold what serde_json skips unchecked in the parts of
/// a line a typed struct ignores but a [`Value`] rejects: a nesting deeper
/// than its limit (128), a number too large for an `f64`, or an escaped
/// surrogate (`\ud800`) that may be unpaired. Conservative, and cheap (a few
/// vectorised searches): `false` means none can be there, as the line has
/// under 100 brackets, no 100 digits in a row (an overflow needs over 200
/// with a two-digit exponent), no `\u` escape of a surrogate, and no
/// exponent of three digits or more on digits that start after `:`, `,`,
/// `[`, `-` or a space, as a JSON number does (`Mobile/15E148` in a user
/// agent is not one).
fn may_hold_unchecked_faults(line: &str) -> bool {
    let bytes = line.as_bytes();
    let deep = memchr::memchr2_iter(b'[', b'{', bytes).nth(99).is_some();
    let surrogate = memchr::memmem::find_iter(bytes, b"\\u").any(|at| {
        let digits = bytes.get(at + 2..at + 4);
        digits.is_some_and(|d| matches!(d, [b'd' | b'D', b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F']))
    });
    // A run of 200 digits (dots allowed) covers a whole aligned chunk of 100.
    let long_number = bytes.chunks_exact(100).any(|chunk| chunk.iter().all(|b| b.is_ascii_digit() || *b == b'.'));
    deep || surrogate || long_number || memchr::memchr2_iter(b'e', b'E', bytes).any(|at| big_exponent(bytes, at))
}

/// Whether the `e` at `at` is the exponent of a number token with three
/// digits or more (see [`may_hold_unchecked_faults`]).
fn big_exponent(bytes: &[u8], at: usize) -> bool {
    let (mantissa, rest) = bytes.split_at(at);
    if !mantissa.last().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let start = mantissa.iter().rposition(|b| !(b.is_ascii_digit() || *b == b'.'));
    let number_start =
        start.is_none_or(|i| matches!(bytes.get(i), Some(b':' | b',' | b'[' | b'-' | b' ' | b'\t' | b'\n' | b'\r')));
    let exponent = rest.get(1..).unwrap_or_default();
    let exponent = exponent.strip_prefix(b"+").or_else(|| exponent.strip_prefix(b"-")).unwrap_or(exponent);
    number_start && exponent.iter().take(3).filter(|b| b.is_ascii_digit()).count() == 3
}

/// Reads a timestamp as the cloud exports write it: RFC 3339 in any zone
/// (`2024-03-04T10:42:00.123Z`, `2019-10-18T04:45:48.0729893-05:00`); ISO 8601
/// without a zone, taken as UTC; or the US form some Azure Event Hub exports
/// write (`1/9/2007 9:41:00 AM`, optionally with `+01:00`), also UTC when it
/// has no zone. `field` names the field in the error.
pub(super) fn timestamp(text: &str, field: &str, what: &str) -> Result<DateTime<Utc>, ParseError> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%m/%d/%Y %I:%M:%S %p %:z", "%m/%d/%Y %H:%M:%S %:z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    Err(ParseError(format!("{what} field {field} is not a timestamp: {text:?}")))
}

/// Times without a zone that Windows and Exchange Online exports write.
static ZONELESS: LazyLock<NaiveFormats> =
    LazyLock::new(|| NaiveFormats::new(&["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]));

/// A time as PowerShell and its exports write it: PowerShell 5's
/// `/Date(1709548920123)/` (milliseconds since the epoch; an optional
/// `+0100` suffix is only the writer's zone and does not change the
/// instant), RFC 3339 with any zone, or a time without a zone taken as UTC
/// (`2024-03-04 10:42:00`, NXLog's default; `2024-03-04T10:42:00`).
pub(super) fn powershell_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix("/Date(").and_then(|rest| rest.strip_suffix(")/")) {
        let end = inner.char_indices().skip(1).find(|(_, c)| matches!(c, '+' | '-')).map_or(inner.len(), |(i, _)| i);
        return DateTime::from_timestamp_millis(inner.get(..end)?.parse().ok()?);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    ZONELESS.utc(text)
}

/// strftime formats of times without a zone, parsed once rather than on
/// every line (`NaiveDateTime::parse_from_str` parses its format each call).
pub(super) struct NaiveFormats(Vec<Vec<Item<'static>>>);

impl NaiveFormats {
    /// Parses `formats` (constants of the parser; a malformed one would
    /// never match, and the parsers' tests would show it).
    pub fn new(formats: &[&'static str]) -> Self {
        NaiveFormats(formats.iter().filter_map(|f| StrftimeItems::new(f).parse().ok()).collect())
    }

    /// `text` read in the first format it fits, taken as UTC: what
    /// `NaiveDateTime::parse_from_str` gives for each format in turn.
    pub fn utc(&self, text: &str) -> Option<DateTime<Utc>> {
        self.0.iter().find_map(|items| {
            let mut parsed = Parsed::new();
            format::parse(&mut parsed, text, items.iter()).ok()?;
            parsed.to_naive_datetime_with_offset(0).ok().map(|t| t.and_utc())
        })
    }
}

/// `text` as an owned string unless it is empty or only spaces (exports
/// write `""` for absent).
pub(super) fn present(text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty()).map(str::to_string)
}

/// Deserialises a code that exports write as a number (`50126`) or as a
/// string (`"50126"`) into its text; `null` is absent.
pub(super) fn code_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::String(s)) => Ok(present(Some(&s))),
        Some(other) => Err(de::Error::custom(format!("expected a number or a string, found {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::at;
    use chrono::{TimeZone, Timelike};

    #[test]
    fn powershell_times_in_every_shape() {
        let t = Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap();
        assert_eq!(powershell_time("/Date(1709548920000+0100)/"), Some(t));
        assert_eq!(powershell_time("/Date(-1000)/"), DateTime::from_timestamp_millis(-1000));
        assert_eq!(powershell_time("2024-03-04T11:42:00+01:00"), Some(t));
        assert_eq!(powershell_time("2024-03-04T10:42:00"), Some(t));
        assert_eq!(powershell_time("2024-03-04 10:42:00"), Some(t));
        assert_eq!(powershell_time("/Date(abc)/"), None);
        assert_eq!(powershell_time("4 March"), None);
    }

    #[test]
    fn reads_every_timestamp_form_the_exports_write() {
        let t = at(2007, 1, 9, 9, 41, 0);
        for text in [
            "2007-01-09T09:41:00Z",
            "2007-01-09T09:41:00.6816663Z",
            "2007-01-09T09:41:00.535404056Z",
            "2007-01-09T11:41:00+02:00",
            "2007-01-09T09:41:00",
            "01/09/2007 09:41:00",
            "1/9/2007 09:41:00",
            "01/09/2007 09:41:00 AM",
            "1/9/2007 9:41:00 AM",
            "1/9/2007 10:41:00 AM +01:00",
        ] {
            let got = timestamp(text, "time", "test").unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(got.with_nanosecond(0).unwrap(), t, "{text}");
        }
        let e = timestamp("yesterday", "time", "test").unwrap_err();
        assert_eq!(e.0, "test field time is not a timestamp: \"yesterday\"");
    }

    fn record<'a, T: Deserialize<'a>>(line: &'a str) -> Result<T, ParseError> {
        JsonLine::new(line, "x")?.read()
    }

    fn rejected(line: &str) -> String {
        record::<de::IgnoredAny>(line).expect_err("rejected").0
    }

    #[test]
    fn rejects_what_is_not_one_json_object() {
        assert!(rejected("hello").contains("does not start with `{`"));
        assert!(rejected("[1]").contains("does not start"));
        assert!(rejected("{\"a\":1").contains("truncated JSON"));
        assert!(rejected("{\"a\":1} tail").contains("not valid JSON"));
        let got: Value = record("  {\"a\":1,\"b\":{},\"a\":\"\"}").unwrap();
        assert_eq!(got["a"], "");
    }

    #[test]
    fn faults_a_typed_read_skips_are_still_rejected() {
        #[derive(Debug, Deserialize)]
        struct Nothing {}
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(130), "]".repeat(130));
        let long = format!("{{\"a\":1{}}}", "0".repeat(400));
        for line in [r#"{"a":1e400}"#, r#"{"a":"\ud800"}"#, r#"{"a":"x\uDC00"}"#, &deep, &long] {
            assert!(may_hold_unchecked_faults(line), "{line}");
            assert!(record::<Nothing>(line).unwrap_err().0.contains("not valid JSON"), "{line}");
        }
        for line in [r#"{"a":1e99,"b":"\ud83d\ude00x"}"#, r#"{"a":[[[]]],"b":"8e12","c":-12.5e-7}"#] {
            assert!(record::<Nothing>(line).is_ok(), "{line}");
        }
        assert!(!may_hold_unchecked_faults(r#"{"a":[[[]]],"b":"8e12","c":-12.5e-7,"d":"\u00e9","e":"iOS/15E148"}"#));
        for line in [r#"{"a":[1e999]}"#, r#"{"a": -2.5E+300}"#, r#"{"a":1,"b":1e-400}"#, "{\"a\":\n1e400}"] {
            assert!(may_hold_unchecked_faults(line), "{line}");
        }
    }

    #[test]
    fn naive_formats_read_as_parse_from_str_does() {
        let formats = NaiveFormats::new(&["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]);
        for text in
            ["2026-03-04 10:42:00", "2026-03-04T10:42:00.1234567", " 2026-03-04 10:42:00", "2026-13-04 10:42:00", "x"]
        {
            let want = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
                .map(|t| t.and_utc());
            assert_eq!(formats.utc(text), want, "{text}");
        }
        assert!(formats.utc("2026-03-04 10:42:00").is_some());
    }

    #[test]
    fn accepts_and_rejects_what_a_value_does() {
        let deep = |n: usize| format!("{{\"a\":{}{}}}", "[".repeat(n), "]".repeat(n));
        for line in [
            r#"{"a":1e400}"#.to_string(),
            r#"{"a":"\ud800"}"#.to_string(),
            r#"{"a":"\udc00x"}"#.to_string(),
            "{\"a\":\"\u{1}\"}".to_string(),
            r#"{"a":12345678901234567890123,"b":-0.0,"c":1e-400}"#.to_string(),
            r#"{"\u0061":"\u00e9\n","b":null}"#.to_string(),
            deep(126),
            deep(127),
        ] {
            let value = serde_json::from_str::<Value>(&line);
            let json = Json::parse(&line);
            let kind = serde_json::from_str::<Kind>(&line);
            assert_eq!(value.as_ref().err().map(ToString::to_string), json.as_ref().err().map(ToString::to_string));
            assert_eq!(value.as_ref().err().map(ToString::to_string), kind.as_ref().err().map(ToString::to_string));
            if let (Ok(value), Ok(json)) = (value, json) {
                assert_eq!(json.to_value(), value, "{line}");
            }
        }
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let json = Json::parse(r#"{"plain":"text","escaped":"a\tb","k\u0065y":1}"#).unwrap();
        assert!(matches!(json.get("plain"), Some(Json::String(Cow::Borrowed("text")))));
        assert!(matches!(json.get("escaped"), Some(Json::String(Cow::Owned(s))) if s == "a\tb"));
        assert_eq!(json.get("key"), Some(&Json::Number(1.into())));
    }

    #[test]
    fn look_ups_see_what_a_value_map_holds() {
        let line = r#"{"Status":"b","status":"c","a":1,"a":2,"STATUS":"d","Status":"e"}"#;
        let value: Value = serde_json::from_str(line).unwrap();
        let json = Json::parse(line).unwrap();
        assert_eq!(json.get("a").map(Json::to_value), value.get("a").cloned());
        let first_of_any_case = value.as_object().unwrap().iter().find(|(k, _)| k.eq_ignore_ascii_case("status"));
        let got = json.as_object().unwrap().get_ignore_case("status").map(Json::to_value);
        assert_eq!(got.as_ref(), first_of_any_case.map(|(_, v)| v));
        assert_eq!(got, Some(Value::from("d")));
        assert_eq!(json.to_value(), value);
    }

    #[derive(Debug, Deserialize)]
    struct Inner<'a> {
        flag: Option<bool>,
        #[serde(borrow)]
        name: Option<Text<'a>>,
    }

    #[derive(Debug, Deserialize)]
    struct Outer<'a> {
        #[serde(borrow)]
        items: Vec<Inner<'a>>,
    }

    #[test]
    fn shape_errors_name_the_field() {
        let line = r#"{"items": [{"flag": true, "name": "a"}, {"name": "b\"c"}]}"#;
        let ok: Outer<'_> = record(line).unwrap();
        assert_eq!(ok.items.iter().map(|i| i.flag).collect::<Vec<_>>(), [Some(true), None]);
        assert!(matches!(ok.items[0].name, Some(Text(Cow::Borrowed("a")))));
        assert_eq!(ok.items[1].name.as_deref(), Some("b\"c"));
        let line = r#"{"items": [{"flag": true}, {"flag": "yes"}]}"#;
        let e = record::<Outer<'_>>(line).unwrap_err();
        assert!(e.0.starts_with("x field items[1].flag is not of the expected shape: invalid type"), "{e}");
        let e = record::<Outer<'_>>(r#"{"items": [{"name": 7}]}"#).unwrap_err();
        assert!(
            e.0.ends_with("items[0].name is not of the expected shape: invalid type: integer `7`, expected a string"),
            "{e}"
        );
    }

    #[test]
    fn a_repeated_key_reads_as_its_last_value() {
        let line = r#"{"items": [{"flag": true, "flag": false, "name": "a", "name": "b"}], "items": [{"flag": true}]}"#;
        let got: Outer<'_> = record(line).unwrap();
        assert_eq!(got.items.len(), 1);
        assert_eq!(got.items[0].flag, Some(true));
        let line = r#"{"items": [{"flag": true, "flag": false, "name": "a", "name": "b"}]}"#;
        let got: Outer<'_> = record(line).unwrap();
        assert_eq!((got.items[0].flag, got.items[0].name.as_deref()), (Some(false), Some("b")));
    }
}
