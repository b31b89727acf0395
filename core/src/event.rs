//! The normalised event: one shape for every log line Vigil understands.
//!
//! On the wire an event is a flat JSON object whose keys are the dotted,
//! ECS-inspired field names users type in queries (`url.domain:example.com`).
//! Optional fields that a format does not carry are left out of the JSON.
//! The README documents every field; keep the two in step.

use crate::json_out::ObjectWriter;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A short text that is usually one of a parser's constants (`blocked`,
/// `squid`) or shared by many events (a file path), and only sometimes built
/// per event: constants cost no allocation and clones of shared text only a
/// reference count. Reads as a `str`; on the wire it is a plain string.
#[derive(Debug, Clone)]
pub struct Label(LabelText);

#[derive(Debug, Clone)]
enum LabelText {
    Constant(&'static str),
    Shared(Arc<str>),
}

impl Label {
    /// A label of constant text, usable in `const` and `static` items.
    pub const fn constant(text: &'static str) -> Label {
        Label(LabelText::Constant(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            LabelText::Constant(text) => text,
            LabelText::Shared(text) => text,
        }
    }
}

impl Deref for Label {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for Label {
    fn from(text: &'static str) -> Self {
        Label::constant(text)
    }
}

impl From<String> for Label {
    fn from(text: String) -> Self {
        Label(LabelText::Shared(text.into()))
    }
}

impl Serialize for Label {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Label::from)
    }
}

impl PartialEq for Label {
    fn eq(&self, other: &Label) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Label {}

impl std::hash::Hash for Label {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for Label {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Label {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which family of log an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A web-filter or proxy request.
    Proxy,
    /// One email message (all the log lines of one message, correlated).
    Email,
    /// An authentication attempt or account change.
    Auth,
    /// A web-server request (access logs of the school's own sites).
    Web,
    /// An address handed to a device (a DHCP lease): who had which IP when.
    Network,
}

impl EventKind {
    /// The name used on the wire and in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Proxy => "proxy",
            EventKind::Email => "email",
            EventKind::Auth => "auth",
            EventKind::Web => "web",
            EventKind::Network => "network",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the logged action succeeded, as ECS `event.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The request was served, the login accepted, the mail delivered.
    Success,
    /// The request was blocked or failed, the login refused, the mail bounced.
    Failure,
    /// The log does not say (or not yet: a deferred mail).
    #[default]
    Unknown,
}

impl Outcome {
    /// The name used on the wire and in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }
}

/// One normalised event. Field names on the wire are given by `serde(rename)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened, in UTC.
    #[serde(rename = "@timestamp")]
    pub timestamp: DateTime<Utc>,
    /// Deterministic id: the same input line always yields the same id, so
    /// replays can be recognised (see [`Event::derive_id`]).
    #[serde(rename = "event.id")]
    pub id: String,
    /// Family of log.
    #[serde(rename = "event.kind")]
    pub kind: EventKind,
    /// What happened, normalised per kind (the README lists every value):
    /// proxy `allowed`/`blocked`; auth `logged-in`/`login-failed`/
    /// `invalid-user`/`too-many-failures`/`logged-off`/`explicit-credentials`/
    /// `suspicious-login`/`account-created`/`account-deleted`/
    /// `account-disabled`/`account-locked`/`account-unlocked`/
    /// `group-member-added`; email `delivered`/`bounced`/`deferred`/`rejected`/
    /// `expired`, or `queued` when no delivery status was logged before the
    /// message was released; network `lease-granted`/`lease-released`. A line
    /// the format defines but that reports none of these is kept as `other`.
    #[serde(rename = "event.action")]
    pub action: Label,
    /// Whether it succeeded.
    #[serde(rename = "event.outcome")]
    pub outcome: Outcome,
    /// The product's own result code or reason, verbatim (`TCP_DENIED/403`,
    /// `invalid user`, the Postfix status text).
    #[serde(rename = "event.reason", default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The product's own event or error code (Windows `4624`, Entra ID
    /// `50126`), verbatim.
    #[serde(rename = "event.code", default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// How long the request took, in milliseconds, when the log says.
    #[serde(rename = "event.duration_ms", default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The school (tenant) the event belongs to.
    pub tenant: Label,
    /// Address of the client (the pupil's device for proxy logs).
    #[serde(rename = "source.ip", default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// Client port, when logged (sshd).
    #[serde(rename = "source.port", default, skip_serializing_if = "Option::is_none")]
    pub source_port: Option<u16>,
    /// Hardware address of the client device (RADIUS Calling-Station-Id,
    /// DHCP), lower-case, colon-separated.
    #[serde(rename = "source.mac", default, skip_serializing_if = "Option::is_none")]
    pub source_mac: Option<String>,
    /// Country of the client address as ISO 3166 alpha-2, when the log says
    /// (Entra ID, Google Workspace sign-ins).
    #[serde(rename = "source.geo.country_iso_code", default, skip_serializing_if = "Option::is_none")]
    pub source_country: Option<String>,
    /// City of the client address, when the log says.
    #[serde(rename = "source.geo.city_name", default, skip_serializing_if = "Option::is_none")]
    pub source_city: Option<String>,
    /// Latitude of the client address in degrees, when the log says (Entra
    /// ID sign-ins' `geoCoordinates`).
    #[serde(rename = "source.geo.lat", default, skip_serializing_if = "Option::is_none")]
    pub source_lat: Option<f64>,
    /// Longitude of the client address in degrees, when the log says.
    #[serde(rename = "source.geo.lon", default, skip_serializing_if = "Option::is_none")]
    pub source_lon: Option<f64>,
    /// Server address of a network connection (firewall traffic logs).
    #[serde(rename = "destination.ip", default, skip_serializing_if = "Option::is_none")]
    pub destination_ip: Option<String>,
    /// Server port of a network connection.
    #[serde(rename = "destination.port", default, skip_serializing_if = "Option::is_none")]
    pub destination_port: Option<u16>,
    /// The user the event is attributed to.
    #[serde(rename = "user.name", default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The user's Windows or directory domain, when logged apart from the name.
    #[serde(rename = "user.domain", default, skip_serializing_if = "Option::is_none")]
    pub user_domain: Option<String>,
    /// How `user.name` was found when the line itself did not name the user:
    /// `lease:<format>` (the address was held by that user at the time,
    /// according to a lease from that log format). Absent when the log line
    /// names the user.
    #[serde(rename = "user.attribution", default, skip_serializing_if = "Option::is_none")]
    pub user_attribution: Option<String>,
    /// The user's display name, from the user directory.
    #[serde(rename = "user.full_name", default, skip_serializing_if = "Option::is_none")]
    pub user_full_name: Option<String>,
    /// `pupil` or `staff`, from the user directory.
    #[serde(rename = "user.role", default, skip_serializing_if = "Option::is_none")]
    pub user_role: Option<String>,
    /// National Curriculum year group from the user directory: 0 is
    /// Reception, 1 to 13 are Years 1 to 13.
    #[serde(rename = "user.year_group", default, skip_serializing_if = "Option::is_none")]
    pub user_year_group: Option<u8>,
    /// The account acted upon, when it is not the actor (the account created,
    /// deleted, locked or added to a group).
    #[serde(rename = "user.target.name", default, skip_serializing_if = "Option::is_none")]
    pub user_target_name: Option<String>,
    /// The group an account was added to.
    #[serde(rename = "group.name", default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// The client device's name (Windows workstation, Entra ID device).
    #[serde(rename = "device.name", default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// The client's User-Agent string.
    #[serde(rename = "user_agent.original", default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Conditional-access outcome of a sign-in and the policies applied
    /// (Entra ID), e.g. `failure: Block legacy authentication`.
    #[serde(rename = "access.policy", default, skip_serializing_if = "Option::is_none")]
    pub access_policy: Option<String>,
    /// The host that wrote the log line (syslog host, mail server).
    #[serde(rename = "host.name", default, skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    /// The full URL requested (for CONNECT: `host:port`).
    #[serde(rename = "url.full", default, skip_serializing_if = "Option::is_none")]
    pub url_full: Option<String>,
    /// The host part of the URL, lower-case.
    #[serde(rename = "url.domain", default, skip_serializing_if = "Option::is_none")]
    pub url_domain: Option<String>,
    /// The search terms typed, when the URL is a known search engine's.
    #[serde(rename = "search.query", default, skip_serializing_if = "Option::is_none")]
    pub search_query: Option<String>,
    /// The page that linked to the request (combined log format).
    #[serde(rename = "http.request.referrer", default, skip_serializing_if = "Option::is_none")]
    pub http_referrer: Option<String>,
    /// HTTP method (`GET`, `CONNECT`).
    #[serde(rename = "http.request.method", default, skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    /// HTTP status code sent to the client.
    #[serde(rename = "http.response.status_code", default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Bytes sent to the client.
    #[serde(rename = "http.response.bytes", default, skip_serializing_if = "Option::is_none")]
    pub http_bytes: Option<u64>,
    /// Content type of the reply.
    #[serde(rename = "http.response.mime_type", default, skip_serializing_if = "Option::is_none")]
    pub http_mime_type: Option<String>,
    /// Web-filter category, as the filter names it.
    #[serde(rename = "filter.category", default, skip_serializing_if = "Option::is_none")]
    pub filter_category: Option<String>,
    /// Envelope sender.
    #[serde(rename = "email.from", default, skip_serializing_if = "Option::is_none")]
    pub email_from: Option<String>,
    /// Envelope recipients.
    #[serde(rename = "email.to", default, skip_serializing_if = "Vec::is_empty")]
    pub email_to: Vec<String>,
    /// Subject line, when the mail server logs it.
    #[serde(rename = "email.subject", default, skip_serializing_if = "Option::is_none")]
    pub email_subject: Option<String>,
    /// The Message-ID header.
    #[serde(rename = "email.message_id", default, skip_serializing_if = "Option::is_none")]
    pub email_message_id: Option<String>,
    /// The mail server's queue id.
    #[serde(rename = "email.queue_id", default, skip_serializing_if = "Option::is_none")]
    pub email_queue_id: Option<String>,
    /// Message size in bytes.
    #[serde(rename = "email.size", default, skip_serializing_if = "Option::is_none")]
    pub email_size: Option<u64>,
    /// The next hop the mail was handed to.
    #[serde(rename = "email.relay", default, skip_serializing_if = "Option::is_none")]
    pub email_relay: Option<String>,
    /// Product that wrote the log (`squid`, `openssh`, `postfix`).
    #[serde(rename = "observer.product")]
    pub observer_product: Label,
    /// Parser that read it (the `--format` name).
    #[serde(rename = "log.format")]
    pub log_format: Label,
    /// The configured source it was read from.
    #[serde(rename = "log.source", default, skip_serializing_if = "Option::is_none")]
    pub log_source: Option<Label>,
    /// The file the line was read from, when the source reads files (a glob
    /// source reads many).
    #[serde(rename = "log.file.path", default, skip_serializing_if = "Option::is_none")]
    pub log_file_path: Option<Label>,
    /// Byte offset of the (first) line in the source (in its file, for
    /// file sources).
    #[serde(rename = "log.offset", default, skip_serializing_if = "Option::is_none")]
    pub log_offset: Option<u64>,
    /// The original log line(s), kept as evidence. Several lines (a Postfix
    /// message) are joined with `\n`.
    pub message: String,
}

impl Event {
    /// A new event with the required fields and every optional field empty.
    pub fn new(
        timestamp: DateTime<Utc>,
        kind: EventKind,
        action: impl Into<Label>,
        outcome: Outcome,
        observer_product: impl Into<Label>,
        log_format: impl Into<Label>,
        message: impl Into<String>,
    ) -> Self {
        Event {
            timestamp,
            id: String::new(),
            kind,
            action: action.into(),
            outcome,
            reason: None,
            code: None,
            duration_ms: None,
            tenant: Label::constant(""),
            source_ip: None,
            source_port: None,
            source_mac: None,
            source_country: None,
            source_city: None,
            source_lat: None,
            source_lon: None,
            destination_ip: None,
            destination_port: None,
            user_name: None,
            user_domain: None,
            user_attribution: None,
            user_full_name: None,
            user_role: None,
            user_year_group: None,
            user_target_name: None,
            group_name: None,
            device_name: None,
            user_agent: None,
            access_policy: None,
            host_name: None,
            url_full: None,
            url_domain: None,
            search_query: None,
            http_referrer: None,
            http_method: None,
            http_status: None,
            http_bytes: None,
            http_mime_type: None,
            filter_category: None,
            email_from: None,
            email_to: Vec::new(),
            email_subject: None,
            email_message_id: None,
            email_queue_id: None,
            email_size: None,
            email_relay: None,
            observer_product: observer_product.into(),
            log_format: log_format.into(),
            log_source: None,
            log_file_path: None,
            log_offset: None,
            message: message.into(),
        }
    }

    /// The deterministic id of the event read from `source` at byte `offset`
    /// whose raw text is `raw`: 32 hex digits of SHA-256 over the three.
    /// Reading the same line again after a restart yields the same id.
    pub fn derive_id(tenant: &str, source: &str, offset: u64, raw: &[u8]) -> String {
        let mut hasher = Sha256::new();
        hasher.update(tenant.as_bytes());
        hasher.update([0]);
        hasher.update(source.as_bytes());
        hasher.update([0]);
        hasher.update(offset.to_be_bytes());
        hasher.update(raw);
        hex(&hasher.finalize()[..16])
    }

    /// The Kafka message key: `tenant/user`, falling back to the source
    /// address, so one user's events stay in order on one partition.
    pub fn partition_key(&self) -> String {
        let who = self.user_name.as_deref().or(self.source_ip.as_deref()).unwrap_or("");
        format!("{}/{}", self.tenant, who)
    }

    /// Serialises to the wire format (one JSON object).
    pub fn to_json(&self) -> Vec<u8> {
        let mut json = Vec::new();
        self.write_json(&mut json);
        json
    }

    /// Appends the wire format (one JSON object) to `out`: what `serde`
    /// writes for the derived `Serialize` (a test holds the two equal), by
    /// a writer made for one event per log line.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        // The raw line in `message`, its parts again in the parsed fields,
        // and the field names: room enough that the buffer rarely grows.
        out.reserve(2 * self.message.len() + 512);
        let mut w = ObjectWriter::new(out);
        w.timestamp("@timestamp", &self.timestamp);
        w.str("event.id", &self.id);
        w.str("event.kind", self.kind.as_str());
        w.str("event.action", &self.action);
        w.str("event.outcome", self.outcome.as_str());
        w.opt_str("event.reason", self.reason.as_deref());
        w.opt_str("event.code", self.code.as_deref());
        w.opt_u64("event.duration_ms", self.duration_ms);
        w.str("tenant", &self.tenant);
        w.opt_str("source.ip", self.source_ip.as_deref());
        w.opt_u64("source.port", self.source_port);
        w.opt_str("source.mac", self.source_mac.as_deref());
        w.opt_str("source.geo.country_iso_code", self.source_country.as_deref());
        w.opt_str("source.geo.city_name", self.source_city.as_deref());
        w.opt_f64("source.geo.lat", self.source_lat);
        w.opt_f64("source.geo.lon", self.source_lon);
        w.opt_str("destination.ip", self.destination_ip.as_deref());
        w.opt_u64("destination.port", self.destination_port);
        w.opt_str("user.name", self.user_name.as_deref());
        w.opt_str("user.domain", self.user_domain.as_deref());
        w.opt_str("user.attribution", self.user_attribution.as_deref());
        w.opt_str("user.full_name", self.user_full_name.as_deref());
        w.opt_str("user.role", self.user_role.as_deref());
        w.opt_u64("user.year_group", self.user_year_group);
        w.opt_str("user.target.name", self.user_target_name.as_deref());
        w.opt_str("group.name", self.group_name.as_deref());
        w.opt_str("device.name", self.device_name.as_deref());
        w.opt_str("user_agent.original", self.user_agent.as_deref());
        w.opt_str("access.policy", self.access_policy.as_deref());
        w.opt_str("host.name", self.host_name.as_deref());
        w.opt_str("url.full", self.url_full.as_deref());
        w.opt_str("url.domain", self.url_domain.as_deref());
        w.opt_str("search.query", self.search_query.as_deref());
        w.opt_str("http.request.referrer", self.http_referrer.as_deref());
        w.opt_str("http.request.method", self.http_method.as_deref());
        w.opt_u64("http.response.status_code", self.http_status);
        w.opt_u64("http.response.bytes", self.http_bytes);
        w.opt_str("http.response.mime_type", self.http_mime_type.as_deref());
        w.opt_str("filter.category", self.filter_category.as_deref());
        w.opt_str("email.from", self.email_from.as_deref());
        w.str_list("email.to", &self.email_to);
        w.opt_str("email.subject", self.email_subject.as_deref());
        w.opt_str("email.message_id", self.email_message_id.as_deref());
        w.opt_str("email.queue_id", self.email_queue_id.as_deref());
        w.opt_u64("email.size", self.email_size);
        w.opt_str("email.relay", self.email_relay.as_deref());
        w.str("observer.product", &self.observer_product);
        w.str("log.format", &self.log_format);
        w.opt_str("log.source", self.log_source.as_deref());
        w.opt_str("log.file.path", self.log_file_path.as_deref());
        w.opt_u64("log.offset", self.log_offset);
        w.str("message", &self.message);
        w.end();
    }

    /// Parses the wire format.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digits: Vec<u8> = bytes.iter().flat_map(|b| [DIGITS[(b >> 4) as usize], DIGITS[(b & 15) as usize]]).collect();
    String::from_utf8(digits).expect("hex digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn wire_format_uses_dotted_names_and_omits_empty_fields() {
        let mut e = Event::new(
            Utc.with_ymd_and_hms(2026, 3, 4, 10, 42, 0).unwrap(),
            EventKind::Proxy,
            "blocked",
            Outcome::Failure,
            "squid",
            "squid",
            "raw line",
        );
        e.url_domain = Some("example.com".into());
        let v: serde_json::Value = serde_json::from_slice(&e.to_json()).unwrap();
        assert_eq!(v["@timestamp"], "2026-03-04T10:42:00Z");
        assert_eq!(v["event.kind"], "proxy");
        assert_eq!(v["event.outcome"], "failure");
        assert_eq!(v["url.domain"], "example.com");
        assert!(v.get("email.to").is_none());
        assert!(v.get("user.name").is_none());
        assert_eq!(Event::from_json(&e.to_json()).unwrap(), e);
    }

    /// An event with every field set, text with characters JSON escapes.
    fn full_event() -> Event {
        let text = |name: &str| Some(format!("{name} \"quoted\" \\ \n\t\u{1} é"));
        let mut e = Event::new(
            Utc.with_ymd_and_hms(2026, 3, 4, 10, 42, 0).unwrap() + chrono::Duration::microseconds(1500),
            EventKind::Email,
            "delivered",
            Outcome::Success,
            "postfix",
            "postfix",
            "line one\nline \"two\"",
        );
        e.id = "0123456789abcdef0123456789abcdef".into();
        e.tenant = Label::from("school".to_string());
        (e.reason, e.code, e.duration_ms) = (text("reason"), text("code"), Some(7));
        (e.source_ip, e.source_port, e.source_mac) = (text("ip"), Some(22), text("mac"));
        (e.source_country, e.source_city) = (text("country"), text("city"));
        (e.source_lat, e.source_lon) = (Some(53.8), Some(-1.55));
        (e.destination_ip, e.destination_port) = (text("dest"), Some(443));
        (e.user_name, e.user_domain, e.user_attribution) = (text("user"), text("domain"), text("lease"));
        (e.user_full_name, e.user_role, e.user_year_group) = (text("full"), text("role"), Some(9));
        (e.user_target_name, e.group_name, e.device_name) = (text("target"), text("group"), text("device"));
        (e.user_agent, e.access_policy, e.host_name) = (text("agent"), text("policy"), text("host"));
        (e.url_full, e.url_domain, e.search_query) = (text("url"), text("domain"), text("query"));
        (e.http_referrer, e.http_method, e.http_status) = (text("referrer"), text("GET"), Some(200));
        (e.http_bytes, e.http_mime_type, e.filter_category) = (Some(1234), text("mime"), text("category"));
        (e.email_from, e.email_to, e.email_subject) = (text("from"), vec!["a@b".into(), "c\"d".into()], text("subj"));
        (e.email_message_id, e.email_queue_id, e.email_size) = (text("mid"), text("qid"), Some(u64::MAX));
        e.email_relay = text("relay");
        e.log_source = Some(Label::from("proxy".to_string()));
        e.log_file_path = Some(Label::from("/var/log/mail.log".to_string()));
        e.log_offset = Some(99);
        e
    }

    #[test]
    fn the_wire_writer_writes_what_serde_writes() {
        let full = full_event();
        let bare = Event::new(Utc::now(), EventKind::Proxy, "allowed", Outcome::Unknown, "squid", "squid", "");
        for event in [full, bare] {
            let written: serde_json::Value = serde_json::from_slice(&event.to_json()).unwrap();
            assert_eq!(written, serde_json::to_value(&event).unwrap(), "every field, named as serde names it");
            assert_eq!(String::from_utf8(event.to_json()).unwrap(), serde_json::to_string(&event).unwrap());
            assert_eq!(Event::from_json(&event.to_json()).unwrap(), event);
        }
    }

    #[test]
    fn ids_are_deterministic_and_distinguish_offsets() {
        let a = Event::derive_id("t", "proxy", 10, b"line");
        assert_eq!(a, Event::derive_id("t", "proxy", 10, b"line"));
        assert_ne!(a, Event::derive_id("t", "proxy", 11, b"line"));
        assert_eq!(a.len(), 32);
    }
}
