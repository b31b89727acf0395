//! Google Workspace login audit activities (`google-login`): one Admin SDK
//! Reports API `activities` resource with `applicationName` `login` per line,
//! as the API returns them (`items[]` of `activities.list`, one per line) or as
//! collectors that split an activity's `events` write them (`events` a single
//! object instead of a list).
//!
//! Sources: the Reports API `activities` resource reference and "Login Audit
//! Activity Events" (`reports/v1/appendix/activity/login`). `id.time` is RFC
//! 3339 (a time without a zone is taken as UTC).
//!
//! One Vigil event per activity event, all from the same line: the first has
//! the line's id ([`set_origin`](super::set_origin)); event `k > 0` has
//! [`Event::derive_id`] over the line followed by `\n` and `k`. A line never
//! holds `\n`, so these ids cannot be any line's own id, and replaying the
//! line yields the same ids.
//!
//! | event name | action | outcome | reason |
//! |---|---|---|---|
//! | `login_success` | `logged-in` (`suspicious-login` when `is_suspicious` is true) | success | `login_type` |
//! | `login_failure` | `login-failed` | failure | `login_failure_type` |
//! | `logout` | `logged-off` | success | `login_type` |
//! | `suspicious_login`, `suspicious_login_less_secure_app`, `suspicious_programmatic_login`, `user_signed_out_due_to_suspicious_session_cookie` | `suspicious-login` | unknown | the event name |
//! | `account_disabled_*` | `account-disabled` | success | the event name |
//! | `login_challenge`, `login_verification` | `other` | from `login_challenge_status` | `login_challenge_status` |
//! | `risky_sensitive_action_allowed` / `_blocked` | `other` | success / failure | `sensitive_action_name` |
//! | anything else (`gov_attack_warning`, `password_edit`, `2sv_enroll`, ...) | `other` | unknown | |
//!
//! Every event gets `event.code` = the event name, `user.name` = the actor's
//! email, `user.target.name` = the `affected_email_address` parameter,
//! `source.ip` = `ipAddress`, `source.geo.country_iso_code` =
//! `networkInfo.regionCode` and `source.geo.city_name` =
//! `networkInfo.subdivisionCode` (an ISO 3166-2 code such as `GB-LDS`: Google
//! logs no city name).

use super::json_line::{present, timestamp, JsonLine, Text};
use super::{set_origin, LineContext, LineUse, ParseError, Parser};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::marker::PhantomData;
use vigil_core::{Event, EventKind, Outcome};

const FORMAT: &str = "google-login";
const WHAT: &str = "Google Workspace login activity";

/// Reads Google Workspace login audit activities; stateless.
#[derive(Debug, Default)]
pub struct GoogleLoginParser;

/// The parts of an `activities` resource Vigil uses; texts borrow from the line.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Activity<'a> {
    #[serde(borrow)]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    id: Option<ActivityId<'a>>,
    #[serde(borrow)]
    actor: Option<Actor<'a>>,
    #[serde(borrow)]
    ip_address: Option<Text<'a>>,
    #[serde(borrow)]
    network_info: Option<NetworkInfo<'a>>,
    #[serde(borrow, default, deserialize_with = "one_or_many")]
    events: Vec<ActivityEvent<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivityId<'a> {
    #[serde(borrow)]
    time: Option<Text<'a>>,
    #[serde(borrow)]
    application_name: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct Actor<'a> {
    #[serde(borrow)]
    email: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NetworkInfo<'a> {
    #[serde(borrow)]
    region_code: Option<Text<'a>>,
    #[serde(borrow)]
    subdivision_code: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct ActivityEvent<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    parameters: Option<Vec<Parameter<'a>>>,
}

/// An event parameter: a name and one typed value (`intValue`,
/// `messageValue` and the other kinds are not used).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Parameter<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    value: Option<Text<'a>>,
    bool_value: Option<bool>,
    #[serde(borrow)]
    multi_value: Option<Vec<Text<'a>>>,
}

/// A list, a single item standing for a list of one, or `null` (empty).
/// Errors say where inside the item the fault is (`events[1].parameters[0].name`).
fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    /// Reads the list, the item or `null`.
    struct OneOrMany<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrMany<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of events, one event or null")
        }

        fn visit_unit<E>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element()? {
                items.push(item);
            }
            Ok(items)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|item| vec![item])
        }
    }

    deserializer.deserialize_any(OneOrMany(PhantomData))
}

impl ActivityEvent<'_> {
    fn param(&self, name: &str) -> Option<&Parameter<'_>> {
        self.parameters.iter().flatten().find(|p| p.name.as_deref() == Some(name))
    }

    /// A text parameter (`value`, or `multiValue` joined with `,`).
    fn text(&self, name: &str) -> Option<String> {
        let p = self.param(name)?;
        match (&p.value, &p.multi_value) {
            (Some(value), _) => present(Some(value)),
            (None, Some(values)) => present(Some(&values.iter().map(|v| &**v).collect::<Vec<_>>().join(","))),
            (None, None) => None,
        }
    }

    fn flag(&self, name: &str) -> Option<bool> {
        self.param(name)?.bool_value
    }
}

/// What one activity event reports.
struct Classified {
    action: &'static str,
    outcome: Outcome,
    reason: Option<String>,
}

fn classify(name: &str, event: &ActivityEvent<'_>) -> Classified {
    let (action, outcome, reason) = match name {
        "login_success" if event.flag("is_suspicious") == Some(true) => {
            let kind = event.text("login_type").unwrap_or_else(|| "login".into());
            ("suspicious-login", Outcome::Success, Some(format!("{kind}; is_suspicious")))
        }
        "login_success" => ("logged-in", Outcome::Success, event.text("login_type")),
        "login_failure" => {
            ("login-failed", Outcome::Failure, event.text("login_failure_type").or_else(|| event.text("login_type")))
        }
        "logout" => ("logged-off", Outcome::Success, event.text("login_type")),
        "suspicious_login"
        | "suspicious_login_less_secure_app"
        | "suspicious_programmatic_login"
        | "user_signed_out_due_to_suspicious_session_cookie" => {
            ("suspicious-login", Outcome::Unknown, Some(name.to_string()))
        }
        _ if name.starts_with("account_disabled_") => ("account-disabled", Outcome::Success, Some(name.to_string())),
        "login_challenge" | "login_verification" => {
            let status = event.text("login_challenge_status");
            ("other", challenge_outcome(status.as_deref()), status)
        }
        "risky_sensitive_action_allowed" => ("other", Outcome::Success, event.text("sensitive_action_name")),
        "risky_sensitive_action_blocked" => ("other", Outcome::Failure, event.text("sensitive_action_name")),
        _ => ("other", Outcome::Unknown, None),
    };
    Classified { action, outcome, reason }
}

/// `login_challenge_status` is `Challenge Passed.` / `Challenge Failed.` in
/// older records and `passed` / `failed` in newer ones.
fn challenge_outcome(status: Option<&str>) -> Outcome {
    let status = status.unwrap_or("").to_ascii_lowercase();
    if status.contains("passed") {
        Outcome::Success
    } else if status.contains("failed") {
        Outcome::Failure
    } else {
        Outcome::Unknown
    }
}

impl Parser for GoogleLoginParser {
    fn name(&self) -> &'static str {
        FORMAT
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let activity: Activity<'_> = JsonLine::new(line, WHAT)?.read()?;
        if let Some(kind) = activity.kind.as_deref().filter(|k| *k != "admin#reports#activity") {
            return Err(ParseError(format!("{WHAT}: kind is {kind:?}, not \"admin#reports#activity\"")));
        }
        let id = activity.id.as_ref().ok_or_else(|| ParseError(format!("{WHAT} has no id object")))?;
        if let Some(app) = id.application_name.as_deref().filter(|a| *a != "login") {
            return Err(ParseError(format!("{WHAT}: id.applicationName is {app:?}, not \"login\"")));
        }
        let time = id.time.as_deref().ok_or_else(|| ParseError(format!("{WHAT} has no id.time")))?;
        let time = timestamp(time, "id.time", WHAT)?;
        if activity.events.is_empty() {
            return Err(ParseError(format!("{WHAT} has no events")));
        }
        let names = activity
            .events
            .iter()
            .enumerate()
            .map(|(i, ev)| {
                present(ev.name.as_deref())
                    .ok_or_else(|| ParseError(format!("{WHAT} field events[{i}].name is missing")))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let user = activity.actor.and_then(|a| present(a.email.as_deref()));
        let ip = present(activity.ip_address.as_deref());
        let (country, region) = activity
            .network_info
            .map_or((None, None), |n| (present(n.region_code.as_deref()), present(n.subdivision_code.as_deref())));
        for (index, (event, name)) in activity.events.iter().zip(names).enumerate() {
            let c = classify(&name, event);
            let mut e = Event::new(time, EventKind::Auth, c.action, c.outcome, "google-workspace", FORMAT, line);
            set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
            if index > 0 {
                e.id = Event::derive_id(ctx.tenant, ctx.source, ctx.offset, format!("{line}\n{index}").as_bytes());
            }
            e.reason = c.reason;
            e.user_target_name = event.text("affected_email_address");
            e.code = Some(name);
            e.user_name = user.clone();
            e.source_ip = ip.clone();
            e.source_country = country.clone();
            e.source_city = region.clone();
            out.push(e);
        }
        Ok(LineUse::Event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::{ctx, parse_lines, parse_lines_with_use, parse_one};
    use chrono::{TimeZone, Utc};

    /// A login failure as the Reports API returns it, with every field Vigil reads.
    const FAILURE: &str = r#"{"kind":"admin#reports#activity","id":{"time":"2024-03-04T10:42:00.123Z","uniqueQualifier":"-4002873813067783265","applicationName":"login","customerId":"C01abc234"},"etag":"\"ABC/def\"","actor":{"email":"pupil@school.org","profileId":"104561947185720573423"},"ipAddress":"81.2.69.144","networkInfo":{"ipAsn":[2856],"regionCode":"GB","subdivisionCode":"GB-LDS"},"events":[{"type":"login","name":"login_failure","parameters":[{"name":"login_type","value":"google_password"},{"name":"login_failure_type","value":"login_failure_invalid_password"},{"name":"is_suspicious","boolValue":false},{"name":"login_challenge_method","multiValue":["password"]}]}]}"#;

    fn activity(events: &str) -> String {
        format!(
            r#"{{"kind":"admin#reports#activity","id":{{"time":"2024-03-04T10:42:00Z","uniqueQualifier":"1","applicationName":"login","customerId":"C01abc234"}},"actor":{{"callerType":"USER","email":"pupil@school.org","profileId":"1"}},"ipAddress":"81.2.69.144","events":{events}}}"#
        )
    }

    fn event(name: &str, parameters: &str) -> String {
        format!(r#"{{"type":"login","name":"{name}","parameters":[{parameters}]}}"#)
    }

    type Summary<'a> = (&'a str, Outcome, Option<&'a str>, Option<&'a str>);

    fn summary(e: &Event) -> Summary<'_> {
        (e.action.as_str(), e.outcome, e.reason.as_deref(), e.code.as_deref())
    }

    fn only(events: &str) -> Event {
        parse_one(&mut GoogleLoginParser, &activity(&format!("[{events}]"))).unwrap()
    }

    #[test]
    fn reads_every_field_of_a_login_failure() {
        let e = parse_one(&mut GoogleLoginParser, FAILURE).unwrap();
        assert_eq!(
            summary(&e),
            ("login-failed", Outcome::Failure, Some("login_failure_invalid_password"), Some("login_failure"))
        );
        assert_eq!(
            e.timestamp,
            Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap() + chrono::Duration::milliseconds(123)
        );
        assert_eq!(e.kind, EventKind::Auth);
        assert_eq!(e.user_name.as_deref(), Some("pupil@school.org"));
        assert_eq!(e.user_target_name, None);
        assert_eq!(e.source_ip.as_deref(), Some("81.2.69.144"));
        assert_eq!(e.source_country.as_deref(), Some("GB"));
        assert_eq!(e.source_city.as_deref(), Some("GB-LDS"));
        assert_eq!((e.observer_product.as_str(), e.log_format.as_str()), ("google-workspace", "google-login"));
        assert_eq!(e.message, FAILURE);
        assert_eq!(e.tenant, "st-marys");
        assert_eq!(e.id, Event::derive_id("st-marys", "test-source", 0, FAILURE.as_bytes()));
    }

    #[test]
    fn maps_each_documented_event() {
        let cases: &[(&str, &str, Summary<'_>)] = &[
            (
                "login_success",
                r#"{"name":"login_type","value":"saml"},{"name":"is_suspicious","boolValue":false}"#,
                ("logged-in", Outcome::Success, Some("saml"), Some("login_success")),
            ),
            (
                "login_success",
                r#"{"name":"login_type","value":"google_password"},{"name":"is_suspicious","boolValue":true}"#,
                ("suspicious-login", Outcome::Success, Some("google_password; is_suspicious"), Some("login_success")),
            ),
            (
                "logout",
                r#"{"name":"login_type","value":"exchange"}"#,
                ("logged-off", Outcome::Success, Some("exchange"), Some("logout")),
            ),
            (
                "login_challenge",
                r#"{"name":"login_challenge_method","value":"backup_code"},{"name":"login_challenge_status","value":"Challenge Passed."}"#,
                ("other", Outcome::Success, Some("Challenge Passed."), Some("login_challenge")),
            ),
            (
                "login_verification",
                r#"{"name":"login_challenge_method","multiValue":["security_key"]},{"name":"login_challenge_status","value":"failed"},{"name":"is_second_factor","boolValue":true}"#,
                ("other", Outcome::Failure, Some("failed"), Some("login_verification")),
            ),
            (
                "suspicious_programmatic_login",
                r#"{"name":"affected_email_address","value":"pupil@school.org"},{"name":"login_timestamp","intValue":"1593695305123456"}"#,
                (
                    "suspicious-login",
                    Outcome::Unknown,
                    Some("suspicious_programmatic_login"),
                    Some("suspicious_programmatic_login"),
                ),
            ),
            (
                "account_disabled_hijacked",
                r#"{"name":"affected_email_address","value":"pupil@school.org"}"#,
                (
                    "account-disabled",
                    Outcome::Success,
                    Some("account_disabled_hijacked"),
                    Some("account_disabled_hijacked"),
                ),
            ),
            (
                "risky_sensitive_action_blocked",
                r#"{"name":"sensitive_action_name","value":"Allowing access to data"}"#,
                ("other", Outcome::Failure, Some("Allowing access to data"), Some("risky_sensitive_action_blocked")),
            ),
            ("gov_attack_warning", "", ("other", Outcome::Unknown, None, Some("gov_attack_warning"))),
            ("2sv_enroll", "", ("other", Outcome::Unknown, None, Some("2sv_enroll"))),
        ];
        for (name, params, want) in cases {
            let e = only(&event(name, params));
            assert_eq!(summary(&e), *want, "{name} {params}");
        }
        for name in
            ["suspicious_login", "suspicious_login_less_secure_app", "user_signed_out_due_to_suspicious_session_cookie"]
        {
            assert_eq!(only(&event(name, "")).action, "suspicious-login", "{name}");
        }
        for name in [
            "account_disabled_generic",
            "account_disabled_spamming",
            "account_disabled_password_leak",
            "account_disabled_spamming_through_relay",
        ] {
            let e = only(&event(name, ""));
            assert_eq!((e.action.as_str(), e.reason.as_deref()), ("account-disabled", Some(name)));
        }
    }

    #[test]
    fn affected_account_is_the_target() {
        let e = only(&event(
            "account_disabled_password_leak",
            r#"{"name":"affected_email_address","value":"head@school.org"}"#,
        ));
        assert_eq!(
            (e.user_name.as_deref(), e.user_target_name.as_deref()),
            (Some("pupil@school.org"), Some("head@school.org"))
        );
    }

    #[test]
    fn several_events_make_several_events_with_distinct_ids() {
        let line = activity(&format!(
            "[{},{}]",
            event("login_verification", r#"{"name":"login_challenge_status","value":"passed"}"#),
            event("login_success", r#"{"name":"login_type","value":"google_password"}"#)
        ));
        let (events, uses) = parse_lines_with_use(&mut GoogleLoginParser, &[&line]).unwrap();
        assert_eq!(uses, [LineUse::Event]);
        assert_eq!(events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["other", "logged-in"]);
        assert_eq!(events[0].id, Event::derive_id("st-marys", "test-source", 0, line.as_bytes()));
        assert_ne!(events[0].id, events[1].id);
        assert!(events.iter().all(|e| e.message == line && e.log_offset == Some(0)));
        let again = parse_lines(&mut GoogleLoginParser, &[&line]).unwrap();
        assert_eq!(again, events);
    }

    #[test]
    fn reads_events_split_into_a_single_object() {
        let e = parse_one(
            &mut GoogleLoginParser,
            &activity(&event(
                "login_failure",
                r#"{"name":"login_failure_type","value":"login_failure_account_disabled"}"#,
            )),
        )
        .unwrap();
        assert_eq!(
            summary(&e),
            ("login-failed", Outcome::Failure, Some("login_failure_account_disabled"), Some("login_failure"))
        );
        assert_eq!(e.source_country, None);
    }

    #[test]
    fn missing_optional_parts_leave_fields_empty() {
        let line = r#"{"id":{"time":"2024-03-04T10:42:00"},"events":[{"name":"logout"}]}"#;
        let e = parse_one(&mut GoogleLoginParser, line).unwrap();
        assert_eq!(summary(&e), ("logged-off", Outcome::Success, None, Some("logout")));
        assert_eq!((e.user_name, e.source_ip), (None, None));
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap());
    }

    #[test]
    fn hostile_content_is_kept_verbatim() {
        let line = activity(&format!(
            "[{}]",
            event(
                "login_failure",
                r#"{"name":"login_failure_type","value":"<script>alert(1)</script>\r\nBcc: x@evil\u0000"}"#
            )
        ))
        .replace("pupil@school.org", "p\u{e9}<b>@school.org\\u001b[31m");
        let e = parse_one(&mut GoogleLoginParser, &line).unwrap();
        assert_eq!(e.reason.as_deref(), Some("<script>alert(1)</script>\r\nBcc: x@evil\u{0}"));
        assert_eq!(e.user_name.as_deref(), Some("p\u{e9}<b>@school.org\u{1b}[31m"));
        assert_eq!(e.message, line);
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        for cut in 0..FAILURE.len() {
            let Some(prefix) = FAILURE.get(..cut) else { continue };
            let mut out = Vec::new();
            let got = GoogleLoginParser.parse(prefix, &ctx(), &mut out);
            assert!(got.is_err(), "cut at {cut}: {prefix}");
            assert!(out.is_empty());
        }
    }

    fn rejected(line: &str) -> String {
        let mut out = Vec::new();
        let err = GoogleLoginParser.parse(line, &ctx(), &mut out).unwrap_err();
        assert!(out.is_empty());
        err.0
    }

    #[test]
    fn rejects_lines_of_other_formats_and_shapes() {
        assert!(rejected("Mar  4 10:42:00 gate sshd[1]: Accepted password for a from 1.2.3.4 port 1 ssh2")
            .contains("not a JSON object"));
        assert_eq!(
            rejected(r#"{"time":"2024-03-04T10:42:00Z","category":"SignInLogs","properties":{}}"#),
            "Google Workspace login activity has no id object"
        );
        assert_eq!(
            rejected(&FAILURE.replace(r#""applicationName":"login""#, r#""applicationName":"drive""#)),
            "Google Workspace login activity: id.applicationName is \"drive\", not \"login\""
        );
        assert!(rejected(&FAILURE.replace("admin#reports#activity", "audit#activity")).contains("kind is"));
        assert_eq!(rejected(&activity("[]")), "Google Workspace login activity has no events");
        assert_eq!(
            rejected(&activity(r#"[{"type":"login"}]"#)),
            "Google Workspace login activity field events[0].name is missing"
        );
        assert_eq!(rejected(r#"{"id":{},"events":[]}"#), "Google Workspace login activity has no id.time");
        assert!(rejected(&FAILURE.replace("2024-03-04T10:42:00.123Z", "soon")).contains("id.time is not a timestamp"));
        let shape = rejected(&FAILURE.replace(r#""boolValue":false"#, r#""boolValue":"no""#));
        assert!(shape.starts_with("Google Workspace login activity field events"), "{shape}");
        assert!(rejected(r#"["login_failure"]"#).contains("not a JSON object"));
    }
}
