//! Small pieces shared by the web-filter and web-server parsers: the
//! allowed/blocked verdict, the URL fields, `-` placeholders, numbers and
//! syslog priorities.

use super::{search_terms, weburl, ParseError};
use chrono::{DateTime, Utc};
use vigil_core::{Event, Outcome};

/// `event.action` and `event.outcome` of a proxy request: `blocked` is a
/// failure, `allowed` a success.
pub fn verdict(blocked: bool) -> (&'static str, Outcome) {
    if blocked {
        ("blocked", Outcome::Failure)
    } else {
        ("allowed", Outcome::Success)
    }
}

/// Sets `url.full` to `url` as logged, and `url.domain` (lower-case) and
/// `search.query` when it has a host.
pub fn set_url(event: &mut Event, url: &str) {
    if let Some(parts) = weburl::split(url) {
        event.url_domain = Some(parts.host.to_ascii_lowercase());
        event.search_query = search_terms::from_parts(&parts);
    }
    event.url_full = Some(url.to_string());
}

/// `None` for the `-` placeholder and for empty fields.
pub fn present(field: &str) -> Option<&str> {
    (!field.is_empty() && field != "-").then_some(field)
}

/// [`present`] as an owned string.
pub fn owned(field: &str) -> Option<String> {
    present(field).map(str::to_string)
}

/// An optional number: absent for `-` or empty, an error naming `what`
/// (e.g. `e2guardian size`) when it is anything else but digits.
pub fn number<T: std::str::FromStr>(field: &str, what: &str) -> Result<Option<T>, ParseError> {
    present(field).map(|f| f.parse().map_err(|_| ParseError(format!("{what} is not a number")))).transpose()
}

/// `1709548920.123` (seconds since the epoch, any number of fractional
/// digits, nanoseconds at most) as a time; `None` for anything else.
pub fn epoch_seconds(field: &str) -> Option<DateTime<Utc>> {
    let (secs, frac) = field.split_once('.').unwrap_or((field, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if secs.is_empty() || secs.len() > 12 || !digits(secs) || !digits(frac) {
        return None;
    }
    let nanos = frac.bytes().chain(std::iter::repeat(b'0')).take(9).fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    DateTime::from_timestamp(secs.parse().ok()?, nanos)
}

/// `line` without a leading syslog priority `<189>`.
pub fn strip_priority(line: &str) -> &str {
    if let Some(rest) = line.strip_prefix('<') {
        if let Some((digits, after)) = rest.split_once('>') {
            if !digits.is_empty() && digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit()) {
                return after;
            }
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use vigil_core::EventKind;

    #[test]
    fn url_fields_lower_case_the_host_and_find_searches() {
        let mut e = Event::new(Utc::now(), EventKind::Proxy, "allowed", Outcome::Success, "x", "x", "");
        set_url(&mut e, "https://WWW.Google.co.uk/search?q=knife+crime");
        assert_eq!(e.url_domain.as_deref(), Some("www.google.co.uk"));
        assert_eq!(e.search_query.as_deref(), Some("knife crime"));
        assert_eq!(e.url_full.as_deref(), Some("https://WWW.Google.co.uk/search?q=knife+crime"));
        let mut e = Event::new(Utc::now(), EventKind::Web, "allowed", Outcome::Success, "x", "x", "");
        set_url(&mut e, "/index.html");
        assert_eq!((e.url_full.as_deref(), e.url_domain.as_deref()), (Some("/index.html"), None));
    }

    #[test]
    fn placeholders_numbers_and_priorities() {
        assert_eq!(present("-"), None);
        assert_eq!(present(""), None);
        assert_eq!(present("x"), Some("x"));
        assert_eq!(number::<u64>("12", "size"), Ok(Some(12)));
        assert_eq!(number::<u64>("-", "size"), Ok(None));
        assert_eq!(number::<u64>("1x", "squidguard size"), Err(ParseError("squidguard size is not a number".into())));
        assert_eq!(strip_priority("<189>date=x"), "date=x");
        assert_eq!(strip_priority("<a>date=x"), "<a>date=x");
        assert_eq!(strip_priority("<1899>x"), "<1899>x");
        assert_eq!(strip_priority("date=x"), "date=x");
        assert_eq!(verdict(true), ("blocked", Outcome::Failure));
        assert_eq!(epoch_seconds("1709548920.5").map(|t| t.timestamp_millis()), Some(1_709_548_920_500));
        assert_eq!(epoch_seconds("1709548920").map(|t| t.timestamp()), Some(1_709_548_920));
        for bad in ["", ".5", "17x", "1.2.3", "-1", "9999999999999.1"] {
            assert_eq!(epoch_seconds(bad), None, "{bad}");
        }
    }
}
