//! The event fields rules look in, and how each is read before matching.

use chrono::{Datelike, Timelike};
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use vigil_core::Event;

/// How many times a URL is percent-decoded at most (`%2520` → `%20` → ` `).
const MAX_URL_DECODES: usize = 3;

/// An event field, as rules name it (the wire name, `source.ip`): where a
/// keyword rule matched, or what a field rule's condition looks at.
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
    /// `filter.category`: the web filter's category of a request.
    #[serde(rename = "filter.category")]
    FilterCategory,
    /// `event.kind`: proxy, email, auth, web, network.
    #[serde(rename = "event.kind")]
    EventKind,
    /// `event.action`: what happened (`login-failed`, `blocked`, ...).
    #[serde(rename = "event.action")]
    EventAction,
    /// `event.outcome`: success, failure, unknown.
    #[serde(rename = "event.outcome")]
    EventOutcome,
    /// `event.reason`: the product's own result or reason.
    #[serde(rename = "event.reason")]
    EventReason,
    /// `event.code`: the product's own event or error code.
    #[serde(rename = "event.code")]
    EventCode,
    /// `tenant`: the school.
    #[serde(rename = "tenant")]
    Tenant,
    /// `source.ip`: the client's address.
    #[serde(rename = "source.ip")]
    SourceIp,
    /// `source.port`: the client's port.
    #[serde(rename = "source.port")]
    SourcePort,
    /// `source.mac`: the client device's hardware address.
    #[serde(rename = "source.mac")]
    SourceMac,
    /// `source.geo.country_iso_code`: the client address's country.
    #[serde(rename = "source.geo.country_iso_code")]
    SourceCountry,
    /// `source.geo.city_name`: the client address's city.
    #[serde(rename = "source.geo.city_name")]
    SourceCity,
    /// `destination.ip`: the server's address.
    #[serde(rename = "destination.ip")]
    DestinationIp,
    /// `destination.port`: the server's port.
    #[serde(rename = "destination.port")]
    DestinationPort,
    /// `user.name`: the user the event is attributed to.
    #[serde(rename = "user.name")]
    UserName,
    /// `user.domain`: the user's directory domain.
    #[serde(rename = "user.domain")]
    UserDomain,
    /// `user.role`: pupil or staff.
    #[serde(rename = "user.role")]
    UserRole,
    /// `user.target.name`: the account acted upon.
    #[serde(rename = "user.target.name")]
    UserTargetName,
    /// `group.name`: the group an account was added to.
    #[serde(rename = "group.name")]
    GroupName,
    /// `device.name`: the client device's name.
    #[serde(rename = "device.name")]
    DeviceName,
    /// `user_agent.original`: the client's User-Agent.
    #[serde(rename = "user_agent.original")]
    UserAgent,
    /// `access.policy`: conditional-access outcome and policies.
    #[serde(rename = "access.policy")]
    AccessPolicy,
    /// `host.name`: the host that wrote the log line.
    #[serde(rename = "host.name")]
    HostName,
    /// `url.domain`: the host part of the URL, lower-case.
    #[serde(rename = "url.domain")]
    UrlDomain,
    /// `http.request.method`: GET, CONNECT, ...
    #[serde(rename = "http.request.method")]
    HttpMethod,
    /// `http.response.status_code`: the HTTP status sent.
    #[serde(rename = "http.response.status_code")]
    HttpStatus,
    /// `http.response.mime_type`: the reply's content type.
    #[serde(rename = "http.response.mime_type")]
    HttpMimeType,
    /// `email.from`: the envelope sender.
    #[serde(rename = "email.from")]
    EmailFrom,
    /// `email.to`: the envelope recipients (each one is a value).
    #[serde(rename = "email.to")]
    EmailTo,
    /// `email.relay`: the next hop of a mail.
    #[serde(rename = "email.relay")]
    EmailRelay,
    /// `observer.product`: the product that wrote the log.
    #[serde(rename = "observer.product")]
    ObserverProduct,
    /// `log.format`: the parser that read it.
    #[serde(rename = "log.format")]
    LogFormat,
    /// `log.source`: the configured source.
    #[serde(rename = "log.source")]
    LogSource,
    /// `message`: the original log line(s).
    #[serde(rename = "message")]
    Message,
    /// `event.hour`: the hour (0 to 23) of the event on the UK wall clock;
    /// computed for rules, not on the wire.
    #[serde(rename = "event.hour")]
    EventHour,
    /// `event.weekday`: the day of the week on the UK wall clock (`mon` to
    /// `sun`); computed for rules, not on the wire.
    #[serde(rename = "event.weekday")]
    EventWeekday,
}

/// The values of one field in one event: none, one, or (for `email.to`)
/// several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Values<'e> {
    /// The event does not have the field.
    None,
    /// One value of the event's.
    One(&'e str),
    /// One value made from a number.
    Owned(String),
    /// Several values.
    Many(&'e [String]),
}

impl Values<'_> {
    /// Whether any value satisfies `test`.
    pub fn any(&self, mut test: impl FnMut(&str) -> bool) -> bool {
        match self {
            Values::None => false,
            Values::One(v) => test(v),
            Values::Owned(v) => test(v),
            Values::Many(vs) => vs.iter().any(|v| test(v)),
        }
    }

    /// The first value, if any.
    pub fn first(&self) -> Option<&str> {
        match self {
            Values::None => None,
            Values::One(v) => Some(v),
            Values::Owned(v) => Some(v),
            Values::Many(vs) => vs.first().map(String::as_str),
        }
    }
}

impl Field {
    /// The fields phrases are searched in, in the order they are tried.
    pub const SEARCHED: [Field; 3] = [Field::SearchQuery, Field::UrlFull, Field::EmailSubject];

    /// Every field, in the README's order.
    pub const ALL: [Field; 39] = [
        Field::SearchQuery,
        Field::UrlFull,
        Field::EmailSubject,
        Field::FilterCategory,
        Field::EventKind,
        Field::EventAction,
        Field::EventOutcome,
        Field::EventReason,
        Field::EventCode,
        Field::Tenant,
        Field::SourceIp,
        Field::SourcePort,
        Field::SourceMac,
        Field::SourceCountry,
        Field::SourceCity,
        Field::DestinationIp,
        Field::DestinationPort,
        Field::UserName,
        Field::UserDomain,
        Field::UserRole,
        Field::UserTargetName,
        Field::GroupName,
        Field::DeviceName,
        Field::UserAgent,
        Field::AccessPolicy,
        Field::HostName,
        Field::UrlDomain,
        Field::HttpMethod,
        Field::HttpStatus,
        Field::HttpMimeType,
        Field::EmailFrom,
        Field::EmailTo,
        Field::EmailRelay,
        Field::ObserverProduct,
        Field::LogFormat,
        Field::LogSource,
        Field::Message,
        Field::EventHour,
        Field::EventWeekday,
    ];

    /// The field named `name` (`source.ip`), if there is one.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The event field's name on the wire and in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::SearchQuery => "search.query",
            Field::UrlFull => "url.full",
            Field::EmailSubject => "email.subject",
            Field::FilterCategory => "filter.category",
            Field::EventKind => "event.kind",
            Field::EventAction => "event.action",
            Field::EventOutcome => "event.outcome",
            Field::EventReason => "event.reason",
            Field::EventCode => "event.code",
            Field::Tenant => "tenant",
            Field::SourceIp => "source.ip",
            Field::SourcePort => "source.port",
            Field::SourceMac => "source.mac",
            Field::SourceCountry => "source.geo.country_iso_code",
            Field::SourceCity => "source.geo.city_name",
            Field::DestinationIp => "destination.ip",
            Field::DestinationPort => "destination.port",
            Field::UserName => "user.name",
            Field::UserDomain => "user.domain",
            Field::UserRole => "user.role",
            Field::UserTargetName => "user.target.name",
            Field::GroupName => "group.name",
            Field::DeviceName => "device.name",
            Field::UserAgent => "user_agent.original",
            Field::AccessPolicy => "access.policy",
            Field::HostName => "host.name",
            Field::UrlDomain => "url.domain",
            Field::HttpMethod => "http.request.method",
            Field::HttpStatus => "http.response.status_code",
            Field::HttpMimeType => "http.response.mime_type",
            Field::EmailFrom => "email.from",
            Field::EmailTo => "email.to",
            Field::EmailRelay => "email.relay",
            Field::ObserverProduct => "observer.product",
            Field::LogFormat => "log.format",
            Field::LogSource => "log.source",
            Field::Message => "message",
            Field::EventHour => "event.hour",
            Field::EventWeekday => "event.weekday",
        }
    }

    /// The field's text value in `event`, if it has one (the first of
    /// `email.to`; none for numbers: see [`Field::values`]).
    pub fn value(self, event: &Event) -> Option<&str> {
        match self {
            Field::SearchQuery => event.search_query.as_deref(),
            Field::UrlFull => event.url_full.as_deref(),
            Field::EmailSubject => event.email_subject.as_deref(),
            Field::FilterCategory => event.filter_category.as_deref(),
            Field::EventKind => Some(event.kind.as_str()),
            Field::EventAction => Some(event.action.as_str()),
            Field::EventOutcome => Some(event.outcome.as_str()),
            Field::EventReason => event.reason.as_deref(),
            Field::EventCode => event.code.as_deref(),
            Field::Tenant => Some(event.tenant.as_str()),
            Field::SourceIp => event.source_ip.as_deref(),
            Field::SourcePort => None,
            Field::SourceMac => event.source_mac.as_deref(),
            Field::SourceCountry => event.source_country.as_deref(),
            Field::SourceCity => event.source_city.as_deref(),
            Field::DestinationIp => event.destination_ip.as_deref(),
            Field::DestinationPort => None,
            Field::UserName => event.user_name.as_deref(),
            Field::UserDomain => event.user_domain.as_deref(),
            Field::UserRole => event.user_role.as_deref(),
            Field::UserTargetName => event.user_target_name.as_deref(),
            Field::GroupName => event.group_name.as_deref(),
            Field::DeviceName => event.device_name.as_deref(),
            Field::UserAgent => event.user_agent.as_deref(),
            Field::AccessPolicy => event.access_policy.as_deref(),
            Field::HostName => event.host_name.as_deref(),
            Field::UrlDomain => event.url_domain.as_deref(),
            Field::HttpMethod => event.http_method.as_deref(),
            Field::HttpStatus => None,
            Field::HttpMimeType => event.http_mime_type.as_deref(),
            Field::EmailFrom => event.email_from.as_deref(),
            Field::EmailTo => event.email_to.first().map(String::as_str),
            Field::EmailRelay => event.email_relay.as_deref(),
            Field::ObserverProduct => Some(event.observer_product.as_str()),
            Field::LogFormat => Some(event.log_format.as_str()),
            Field::LogSource => event.log_source.as_ref().map(|l| l.as_str()),
            Field::Message => Some(event.message.as_str()),
            Field::EventHour | Field::EventWeekday => None,
        }
    }

    /// Every value of the field in `event`, numbers as text.
    pub fn values(self, event: &Event) -> Values<'_> {
        match self {
            Field::SourcePort => event.source_port.map_or(Values::None, |n| Values::Owned(n.to_string())),
            Field::DestinationPort => event.destination_port.map_or(Values::None, |n| Values::Owned(n.to_string())),
            Field::HttpStatus => event.http_status.map_or(Values::None, |n| Values::Owned(n.to_string())),
            Field::EmailTo => Values::Many(&event.email_to),
            Field::EventHour => Values::Owned(crate::uk_time::to_local(event.timestamp).hour().to_string()),
            Field::EventWeekday => {
                Values::Owned(crate::uk_time::to_local(event.timestamp).weekday().to_string().to_ascii_lowercase())
            }
            _ => self.value(event).map_or(Values::None, Values::One),
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

    #[test]
    fn every_field_is_found_by_its_name_and_numbers_read_as_text() {
        for field in Field::ALL {
            assert_eq!(Field::from_name(field.as_str()), Some(field));
        }
        assert_eq!(Field::from_name("source.address"), None);
        let mut e = Event::new(
            chrono::Utc::now(),
            vigil_core::EventKind::Auth,
            "login-failed",
            vigil_core::Outcome::Failure,
            "openssh",
            "sshd",
            "raw",
        );
        e.source_port = Some(40122);
        e.email_to = vec!["a@x".into(), "b@x".into()];
        assert_eq!(Field::SourcePort.values(&e), Values::Owned("40122".into()));
        assert!(Field::EmailTo.values(&e).any(|v| v == "b@x"));
        assert_eq!(Field::EventOutcome.value(&e), Some("failure"));
        assert_eq!(Field::UserName.values(&e), Values::None);
        // 2026-07-04 is a Saturday; 22:30 UTC is 23:30 BST.
        e.timestamp = "2026-07-04T22:30:00Z".parse().unwrap();
        assert_eq!(Field::EventHour.values(&e), Values::Owned("23".into()));
        assert_eq!(Field::EventWeekday.values(&e), Values::Owned("sat".into()));
    }
}
