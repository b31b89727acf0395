//! One Sigma field test (`c-useragent|startswith: [...]`) as one Vigil
//! condition key and its values. Sigma compares text ignoring case, as
//! Vigil's plain, `contains`, `startswith` and `endswith` do; its `*` and
//! `?` wildcards (`\*` is a star) become those when they only open or close
//! the values, and a case-insensitive regular expression otherwise. `null`
//! (or an empty value) alone means the field is absent or empty:
//! `|exists = false`.

use super::fields::Mapped;
use super::Unconvertible;
use vigil_core::config::{ConditionValue, Scalar};

/// A value as the Sigma rule writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text (with Sigma's wildcards and escapes).
    Text(String),
    /// A whole number.
    Integer(i64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`: the field is absent.
    Null,
}

/// How a value is compared, before wildcards are looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
    Regex,
    Cidr,
    Exists,
}

/// One piece of a text value: a literal run or a wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Any,
    One,
}

/// The Vigil key (`url.domain|endswith`) and values for `values` of a Sigma
/// field mapped to `mapped`, with the Sigma `modifiers`; a keyword (no
/// field) matches anywhere in its field.
pub fn convert(
    mapped: Mapped,
    modifiers: &[String],
    values: &[Value],
    keyword: bool,
) -> Result<(String, ConditionValue), Unconvertible> {
    let mut base = if keyword { Match::Contains } else { Match::Equals };
    let mut all = false;
    let mut flags = String::new();
    for modifier in modifiers {
        match (modifier.as_str(), base) {
            ("contains", Match::Equals) => base = Match::Contains,
            ("startswith", Match::Equals) => base = Match::StartsWith,
            ("endswith", Match::Equals) => base = Match::EndsWith,
            ("re", Match::Equals) => base = Match::Regex,
            ("cidr", Match::Equals) => base = Match::Cidr,
            ("exists", Match::Equals) => base = Match::Exists,
            ("all", _) => all = true,
            ("i" | "m" | "s", Match::Regex) => flags.push_str(modifier),
            (other, _) => return Err(Unconvertible::Modifier(other.to_string())),
        }
    }
    let field = mapped.field;
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Text(t) => t.is_empty(),
        _ => false,
    };
    if base == Match::Equals && values.len() == 1 && empty(&values[0]) {
        return Ok((format!("{field}|exists"), ConditionValue::One(Scalar::Bool(false))));
    }
    if values.is_empty() || values.contains(&Value::Null) {
        return Err(Unconvertible::Value(format!("{field}: null among other values, or no value")));
    }
    if mapped.wider && base != Match::Contains {
        return Err(Unconvertible::Partial(format!(
            "the field maps to Vigil's {field}, which holds more than it, so only |contains can be converted"
        )));
    }
    let suffix = if all { "|all" } else { "" };
    match base {
        Match::Regex => {
            let prefix = if flags.is_empty() { String::new() } else { format!("(?{flags})") };
            let texts = values.iter().map(|v| Scalar::Text(format!("{prefix}{}", text(v)))).collect();
            return Ok((format!("{field}|re{suffix}"), many(texts)));
        }
        Match::Cidr => {
            return Ok((format!("{field}|cidr"), many(values.iter().map(|v| Scalar::Text(text(v))).collect())))
        }
        Match::Exists => {
            return match values {
                [Value::Bool(b)] => Ok((format!("{field}|exists"), ConditionValue::One(Scalar::Bool(*b)))),
                _ => Err(Unconvertible::Value(format!("{field}|exists takes true or false"))),
            };
        }
        _ => {}
    }
    let pieces: Vec<Vec<Piece>> = values.iter().map(|v| pieces(&text(v))).collect();
    if !pieces.iter().any(|p| has_wild(p)) {
        let name = match base {
            Match::Contains => "|contains",
            Match::StartsWith => "|startswith",
            Match::EndsWith => "|endswith",
            _ => "",
        };
        let scalars = values
            .iter()
            .zip(&pieces)
            .map(|(v, p)| match v {
                Value::Integer(n) if base == Match::Equals => Scalar::Integer(*n),
                _ => Scalar::Text(literal(p)),
            })
            .collect();
        return Ok((format!("{field}{name}{suffix}"), many(scalars)));
    }
    if base == Match::Equals {
        if let Some((name, texts)) = simple_wildcards(&pieces) {
            let scalars = texts.into_iter().map(Scalar::Text).collect();
            return Ok((format!("{field}{name}{suffix}"), many(scalars)));
        }
    }
    let regexes = pieces.iter().map(|p| Scalar::Text(regex(p, base))).collect();
    Ok((format!("{field}|re{suffix}"), many(regexes)))
}

fn many(mut values: Vec<Scalar>) -> ConditionValue {
    if values.len() == 1 {
        ConditionValue::One(values.remove(0))
    } else {
        ConditionValue::Many(values)
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::Text(t) => t.clone(),
        Value::Integer(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
    }
}

fn has_wild(pieces: &[Piece]) -> bool {
    pieces.iter().any(|p| !matches!(p, Piece::Text(_)))
}

/// `text` split at Sigma's unescaped wildcards.
fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut run = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => run.push(chars.next().unwrap_or('\\')),
            '*' | '?' => {
                if !run.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut run)));
                }
                out.push(if c == '*' { Piece::Any } else { Piece::One });
            }
            c => run.push(c),
        }
    }
    if !run.is_empty() || out.is_empty() {
        out.push(Piece::Text(run));
    }
    out
}

/// The text of wildcard-free pieces.
fn literal(pieces: &[Piece]) -> String {
    pieces.iter().map(|p| if let Piece::Text(t) = p { t.as_str() } else { "" }).collect()
}

/// For plain values whose only wildcards are a `*` at one or both ends,
/// the same for every value: the modifier and the texts.
fn simple_wildcards(values: &[Vec<Piece>]) -> Option<(&'static str, Vec<String>)> {
    let shape = |p: &[Piece]| match p {
        [Piece::Any, Piece::Text(t), Piece::Any] => Some(("|contains", t.clone())),
        [Piece::Text(t), Piece::Any] => Some(("|startswith", t.clone())),
        [Piece::Any, Piece::Text(t)] => Some(("|endswith", t.clone())),
        _ => None,
    };
    let shaped: Vec<(&str, String)> = values.iter().map(|p| shape(p)).collect::<Option<_>>()?;
    let name = shaped.first()?.0;
    shaped.iter().all(|(n, _)| *n == name).then(|| (name, shaped.into_iter().map(|(_, t)| t).collect()))
}

/// The key `field|re` and values matching what `key` (`field`,
/// `field|contains`, `|startswith`, `|endswith`, no `|all` or `|not`) and
/// `values` match: a second test of one field in one conjunction.
pub fn as_regex(key: &str, values: &ConditionValue) -> Option<(String, ConditionValue)> {
    let (field, (start, end)) = match key.split_once('|') {
        None => (key, ("^", "$")),
        Some((field, "contains")) => (field, ("", "")),
        Some((field, "startswith")) => (field, ("^", "")),
        Some((field, "endswith")) => (field, ("", "$")),
        Some(_) => return None,
    };
    let alternatives: Vec<String> = values.texts().iter().map(|t| regex::escape(t)).collect();
    let pattern = format!("(?is){start}(?:{}){end}", alternatives.join("|"));
    Some((format!("{field}|re"), ConditionValue::One(Scalar::Text(pattern))))
}

/// A case-insensitive regular expression for `pieces` compared as `base`.
fn regex(pieces: &[Piece], base: Match) -> String {
    let body: String = pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => regex::escape(t),
            Piece::Any => ".*".into(),
            Piece::One => ".".into(),
        })
        .collect();
    let (start, end) = match base {
        Match::Equals => ("^", "$"),
        Match::StartsWith => ("^", ""),
        Match::EndsWith => ("", "$"),
        _ => ("", ""),
    };
    format!("(?is){start}{body}{end}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(field: &'static str, modifiers: &[&str], values: &[Value]) -> (String, ConditionValue) {
        let modifiers: Vec<String> = modifiers.iter().map(|m| m.to_string()).collect();
        convert(Mapped { field, wider: false }, &modifiers, values, false).unwrap()
    }

    fn t(text: &str) -> Value {
        Value::Text(text.into())
    }

    fn texts(values: &[&str]) -> ConditionValue {
        ConditionValue::Many(values.iter().map(|v| Scalar::Text(v.to_string())).collect())
    }

    #[test]
    fn modifiers_and_edge_wildcards_become_vigil_modifiers() {
        assert_eq!(key("url.domain", &["endswith"], &[t(".onion")]).0, "url.domain|endswith");
        assert_eq!(
            key("url.full", &["contains", "all"], &[t("a"), t("b")]),
            ("url.full|contains|all".into(), texts(&["a", "b"]))
        );
        assert_eq!(key("event.code", &[], &[Value::Integer(4720)]).1, ConditionValue::One(Scalar::Integer(4720)));
        assert_eq!(
            key("url.full", &[], &[t("*/api/*"), t("*/x*")]),
            ("url.full|contains".into(), texts(&["/api/", "/x"]))
        );
        assert_eq!(key("url.full", &[], &[t("http://*")]).0, "url.full|startswith");
        assert_eq!(
            key("user.name", &[], &[t(r"a\*b")]).1,
            ConditionValue::One(Scalar::Text("a*b".into())),
            "escaped star"
        );
        assert_eq!(key("user_agent.original", &[], &[Value::Null]).0, "user_agent.original|exists");
        assert_eq!(key("user_agent.original", &[], &[t("")]).0, "user_agent.original|exists");
        assert_eq!(key("source.ip", &["cidr"], &[t("10.0.0.0/8")]).0, "source.ip|cidr");
        assert_eq!(key("url.full", &["re", "i"], &[t("^x")]).1, ConditionValue::One(Scalar::Text("(?i)^x".into())));
    }

    #[test]
    fn inner_or_mixed_wildcards_become_regular_expressions() {
        let (k, v) = key("user_agent.original", &[], &[t("Mozilla/3.0 * Acrobat *")]);
        assert_eq!(
            (k.as_str(), v),
            ("user_agent.original|re", ConditionValue::One(Scalar::Text(r"(?is)^Mozilla/3\.0 .* Acrobat .*$".into())))
        );
        let (k, _) = key("url.full", &[], &[t("*a*"), t("b*")]);
        assert_eq!(k, "url.full|re", "two shapes");
        let (_, v) = key("url.full", &["contains"], &[t("a?c")]);
        assert_eq!(v, ConditionValue::One(Scalar::Text("(?is)a.c".into())));
    }

    #[test]
    fn what_vigil_cannot_compare_is_refused() {
        let refuse = |m: &[&str], wider| {
            let modifiers: Vec<String> = m.iter().map(|s| s.to_string()).collect();
            convert(Mapped { field: "url.full", wider }, &modifiers, &[t("x")], false).unwrap_err().to_string()
        };
        assert!(refuse(&["base64offset", "contains"], false).contains("base64offset"));
        assert!(refuse(&["windash"], false).contains("windash"));
        assert!(refuse(&["endswith"], true).contains("only |contains"));
    }

    #[test]
    fn a_second_test_of_a_field_can_be_a_regular_expression() {
        let (k, v) = as_regex("message|contains", &texts(&["useradd", "a.b"])).unwrap();
        assert_eq!((k.as_str(), v), ("message|re", ConditionValue::One(Scalar::Text(r"(?is)(?:useradd|a\.b)".into()))));
        assert_eq!(
            as_regex("user.name", &texts(&["x"])).unwrap().1,
            ConditionValue::One(Scalar::Text("(?is)^(?:x)$".into()))
        );
        assert!(as_regex("message|contains|all", &texts(&["x"])).is_none());
    }
}
