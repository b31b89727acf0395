//! Helpers for formats that log one JSON object per line (cloud audit
//! exports): reading the object into typed structs with errors that name the
//! field at fault, reading the timestamps those exports write, and dropping
//! the empty strings they use for "absent".

use super::ParseError;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The JSON object on `line`, or an error naming `what` (the format) and why
/// the line is not one: not JSON, truncated, trailing text, or JSON that is
/// not an object.
pub(super) fn object(line: &str, what: &str) -> Result<Map<String, Value>, ParseError> {
    if !line.trim_start().starts_with('{') {
        return Err(ParseError(format!("{what} line is not a JSON object (it does not start with `{{`)")));
    }
    match serde_json::from_str(line) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ParseError(format!("{what} line is not a JSON object"))),
        Err(e) if e.is_eof() => Err(ParseError(format!("{what} line is truncated JSON ({e})"))),
        Err(e) => Err(ParseError(format!("{what} line is not valid JSON ({e})"))),
    }
}

/// Reads `value` as a `T`; the error names the path of the field at fault
/// (`events[0].parameters[2].boolValue: invalid type ...`).
pub(super) fn typed<T: DeserializeOwned>(value: Value, what: &str) -> Result<T, ParseError> {
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

/// `text` unless it is empty or only spaces (exports write `""` for absent).
pub(super) fn present(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}

/// Deserialises a code that exports write as a number (`50126`) or as a
/// string (`"50126"`) into its text; `null` is absent.
pub(super) fn code_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::String(s)) => Ok(present(Some(s))),
        Some(other) => Err(serde::de::Error::custom(format!("expected a number or a string, found {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::at;
    use chrono::Timelike;

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

    #[test]
    fn rejects_what_is_not_one_json_object() {
        assert!(object("hello", "x").unwrap_err().0.contains("does not start with `{`"));
        assert!(object("[1]", "x").unwrap_err().0.contains("does not start"));
        assert!(object("{\"a\":1", "x").unwrap_err().0.contains("truncated JSON"));
        assert!(object("{\"a\":1} tail", "x").unwrap_err().0.contains("not valid JSON"));
        assert_eq!(object("  {\"a\":1}", "x").unwrap()["a"], 1);
    }

    #[test]
    fn shape_errors_name_the_field() {
        #[derive(Debug, Deserialize)]
        struct Inner {
            flag: Option<bool>,
        }
        #[derive(Debug, Deserialize)]
        struct Outer {
            items: Vec<Inner>,
        }
        let ok: Outer = typed(serde_json::json!({"items": [{"flag": true}, {}]}), "test").unwrap();
        assert_eq!(ok.items.iter().map(|i| i.flag).collect::<Vec<_>>(), [Some(true), None]);
        let v = serde_json::json!({"items": [{"flag": true}, {"flag": "yes"}]});
        let e = typed::<Outer>(v, "test").unwrap_err();
        assert!(e.0.starts_with("test field items[1].flag is not of the expected shape: invalid type"), "{e}");
    }
}
