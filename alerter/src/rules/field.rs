//! The event fields rules look in, and how each is read before matching.

use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use vigil_core::Event;

/// How many times a URL is percent-decoded at most (`%2520` → `%20` → ` `).
const MAX_URL_DECODES: usize = 3;

/// A field a rule matched in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    /// `search.query`: what the pupil typed into a search box.
    #[serde(rename = "search.query")]
    SearchQuery,
    /// `url.full`: the words of the address requested (host, path, query).
    #[serde(rename = "url.full")]
    UrlFull,
    /// `email.subject`: the subject of a mail.
    #[serde(rename = "email.subject")]
    EmailSubject,
    /// `filter.category`: the web filter's category of a blocked request.
    #[serde(rename = "filter.category")]
    FilterCategory,
}

impl Field {
    /// The fields phrases are searched in, in the order they are tried.
    pub const SEARCHED: [Field; 3] = [Field::SearchQuery, Field::UrlFull, Field::EmailSubject];

    /// The event field's name on the wire and in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::SearchQuery => "search.query",
            Field::UrlFull => "url.full",
            Field::EmailSubject => "email.subject",
            Field::FilterCategory => "filter.category",
        }
    }

    /// The field's value in `event`, if it has one.
    pub fn value(self, event: &Event) -> Option<&str> {
        match self {
            Field::SearchQuery => event.search_query.as_deref(),
            Field::UrlFull => event.url_full.as_deref(),
            Field::EmailSubject => event.email_subject.as_deref(),
            Field::FilterCategory => event.filter_category.as_deref(),
        }
    }

    /// `value` as its words are read: a URL loses its scheme and is
    /// percent-decoded (repeatedly, for double encoding) with `+` read as a
    /// space; other fields are read as they are.
    pub fn readable(self, value: &str) -> Cow<'_, str> {
        if self != Field::UrlFull {
            return Cow::Borrowed(value);
        }
        let without_scheme = value.split_once("://").map_or(value, |(_, rest)| rest);
        let mut current: Cow<'_, str> = Cow::Borrowed(without_scheme);
        if current.contains('+') {
            current = Cow::Owned(current.replace('+', " "));
        }
        for _ in 0..MAX_URL_DECODES {
            if !current.contains('%') {
                break;
            }
            let decoded = percent_decode_str(&current).decode_utf8_lossy().into_owned();
            if decoded == current {
                break;
            }
            current = Cow::Owned(decoded);
        }
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_scheme_and_encoding() {
        let read = |url| Field::UrlFull.readable(url).into_owned();
        assert_eq!(read("https://x.example/a?q=how+to%20self%2520harm"), "x.example/a?q=how to self harm");
        assert_eq!(read("x.example:443"), "x.example:443");
        assert_eq!(read("%ff%fe"), "\u{fffd}\u{fffd}");
        assert_eq!(Field::SearchQuery.readable("a+b"), "a+b");
    }
}
