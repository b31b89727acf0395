//! Microsoft Entra ID (Azure AD) sign-in logs (`entra-signin`), one JSON
//! object per line in either of the two shapes Microsoft exports:
//!
//! - a Microsoft Graph `signIn` resource (`GET /auditLogs/signIns`, one item
//!   of `value[]` per line): `createdDateTime`, `userPrincipalName`,
//!   `status {errorCode, failureReason, additionalDetails}`, ...;
//! - an Azure Monitor diagnostic-settings record (Event Hub, storage account)
//!   of a `*SignInLogs` category (`SignInLogs`, `NonInteractiveUserSignInLogs`,
//!   `ServicePrincipalSignInLogs`, `ManagedIdentitySignInLogs`, ...): `time`,
//!   `category`, `resultType`, `resultDescription`, `callerIpAddress`,
//!   `location` (country), and the Graph-like fields under `properties`.
//!
//! Sources: the Graph `signIn`, `signInStatus`, `signInLocation`,
//! `deviceDetail` and `appliedConditionalAccessPolicy` resource references,
//! "Microsoft Entra sign-in log schema in Azure Monitor", and the AADSTS error
//! code reference. The time is `createdDateTime` (falling back to the record's
//! `time`), RFC 3339 in any zone; a time without a zone is taken as UTC.
//!
//! The error code (`status.errorCode`, else `resultType`) decides the action:
//!
//! | code | action | outcome |
//! |---|---|---|
//! | `0` | `logged-in` (`suspicious-login` when risky, below) | success |
//! | `50034` (user not found) | `invalid-user` | failure |
//! | `50053` (locked: smart lockout, or sign-in from a malicious address) | `account-locked` | failure |
//! | `50057` (account disabled) | `account-disabled` | failure |
//! | an interrupt: `50058`, `50072`, `50074`, `50076`, `50079`, `50097`, `50125`, `50140`, `50158`, `50199`, `81010`, `81012`, `16000`, `16001` | `other` | unknown |
//! | any other code (`50126` bad password, `53003` blocked by Conditional Access, ...) | `login-failed` | failure |
//!
//! Interrupts are steps of a sign-in that continues (an MFA prompt, "Stay
//! signed in?", account picker), not failures; counting them as failed logins
//! would make every MFA prompt look like a password guess.
//!
//! Risk: a successful sign-in with `riskLevelDuringSignIn` `medium` or `high`,
//! or `riskState` `atRisk` or `confirmedCompromised`, is `suspicious-login`
//! (outcome success: the risky sign-in got in). Whenever a risk level other
//! than `none`/`hidden` or such a risk state is logged, the reason ends with
//! `; risk <level>/<state>`.
//!
//! Fields: `event.code` = the error code as text; `event.reason` =
//! `failureReason` (for code 0, `additionalDetails`; else `resultDescription`);
//! `user.name` = `userPrincipalName`; `user.full_name` = `userDisplayName`
//! (diagnostic records: else `identity`); `source.ip` = `ipAddress` (else
//! `callerIpAddress`); `source.geo.country_iso_code` =
//! `location.countryOrRegion` (else the record's `location`);
//! `source.geo.city_name` = `location.city`; `source.geo.lat`, `source.geo.lon`
//! = `location.geoCoordinates` (when both are given and on the globe); `device.name` =
//! `deviceDetail.displayName`; `user_agent.original` = `userAgent`;
//! `access.policy` = `conditionalAccessStatus`, followed by `: ` and the
//! names (joined by `; `) of the applied policies whose `result` is that same
//! status when it is `success` or `failure` (`failure: Block legacy
//! authentication`).

use super::json_line::{code_text, present, timestamp, JsonLine, Kind, Text};
use super::{set_origin, LineContext, LineUse, ParseError, Parser};
use serde::Deserialize;
use vigil_core::{Event, EventKind, Outcome};

const FORMAT: &str = "entra-signin";
const WHAT: &str = "Entra ID sign-in";

/// Codes of sign-in interrupts: the sign-in went on with a prompt.
const INTERRUPTS: &[&str] = &[
    "50058", "50072", "50074", "50076", "50079", "50097", "50125", "50140", "50158", "50199", "81010", "81012",
    "16000", "16001",
];

/// Reads Entra ID sign-in records in either shape; stateless.
#[derive(Debug, Default)]
pub struct EntraSigninParser;

/// An Azure Monitor diagnostic-settings record (the fields Vigil uses); its
/// texts borrow from the line.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Diagnostic<'a> {
    #[serde(borrow)]
    time: Option<Text<'a>>,
    #[serde(borrow)]
    category: Option<Text<'a>>,
    #[serde(default, deserialize_with = "code_text")]
    result_type: Option<String>,
    #[serde(borrow)]
    result_description: Option<Text<'a>>,
    #[serde(borrow)]
    caller_ip_address: Option<Text<'a>>,
    #[serde(borrow)]
    identity: Option<Text<'a>>,
    #[serde(borrow)]
    location: Option<Text<'a>>,
    #[serde(borrow)]
    properties: SignIn<'a>,
}

/// A Graph `signIn` resource, or a diagnostic record's `properties`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn<'a> {
    #[serde(borrow)]
    created_date_time: Option<Text<'a>>,
    #[serde(borrow)]
    user_principal_name: Option<Text<'a>>,
    #[serde(borrow)]
    user_display_name: Option<Text<'a>>,
    #[serde(borrow)]
    ip_address: Option<Text<'a>>,
    #[serde(borrow)]
    conditional_access_status: Option<Text<'a>>,
    #[serde(borrow)]
    applied_conditional_access_policies: Option<Vec<Policy<'a>>>,
    #[serde(borrow)]
    risk_level_during_sign_in: Option<Text<'a>>,
    #[serde(borrow)]
    risk_state: Option<Text<'a>>,
    #[serde(borrow)]
    status: Option<Status<'a>>,
    #[serde(borrow)]
    location: Option<Location<'a>>,
    #[serde(borrow)]
    device_detail: Option<DeviceDetail<'a>>,
    #[serde(borrow)]
    user_agent: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    #[serde(default, deserialize_with = "code_text")]
    error_code: Option<String>,
    #[serde(borrow)]
    failure_reason: Option<Text<'a>>,
    #[serde(borrow)]
    additional_details: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(borrow)]
    city: Option<Text<'a>>,
    #[serde(borrow)]
    country_or_region: Option<Text<'a>>,
    geo_coordinates: Option<Coordinates>,
}

#[derive(Deserialize)]
struct Coordinates {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceDetail<'a> {
    #[serde(borrow)]
    display_name: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Policy<'a> {
    #[serde(borrow)]
    display_name: Option<Text<'a>>,
    #[serde(borrow)]
    result: Option<Text<'a>>,
}

/// Just enough of a line to tell its shape.
#[derive(Deserialize)]
struct Shape {
    properties: Option<Kind>,
}

/// What the diagnostic envelope adds to a sign-in, as fallbacks.
#[derive(Default)]
struct Envelope<'a> {
    time: Option<Text<'a>>,
    code: Option<String>,
    description: Option<String>,
    ip: Option<String>,
    identity: Option<String>,
    country: Option<String>,
}

/// Reads the line as one of the two shapes: a record with a `properties`
/// object is a diagnostic record, anything else a Graph `signIn`.
fn read(line: &str) -> Result<(SignIn<'_>, Envelope<'_>), ParseError> {
    let line = JsonLine::new(line, WHAT)?;
    let shape: Shape = line.read()?;
    if shape.properties != Some(Kind::Object) {
        return Ok((line.read()?, Envelope::default()));
    }
    let d: Diagnostic<'_> = line.read()?;
    if let Some(category) = d.category.as_deref().filter(|c| !c.ends_with("SignInLogs")) {
        return Err(ParseError(format!("{WHAT}: diagnostic record of category {category:?} is not a sign-in log")));
    }
    let envelope = Envelope {
        time: d.time,
        code: d.result_type,
        description: present(d.result_description.as_deref()),
        ip: present(d.caller_ip_address.as_deref()),
        identity: present(d.identity.as_deref()),
        country: present(d.location.as_deref()),
    };
    Ok((d.properties, envelope))
}

/// Action and outcome of a sign-in's error code (see the module table).
fn action_for(code: &str) -> (&'static str, Outcome) {
    match code {
        "0" => ("logged-in", Outcome::Success),
        "50034" => ("invalid-user", Outcome::Failure),
        "50053" => ("account-locked", Outcome::Failure),
        "50057" => ("account-disabled", Outcome::Failure),
        _ if INTERRUPTS.contains(&code) => ("other", Outcome::Unknown),
        _ if code.parse::<i64>().is_ok() => ("login-failed", Outcome::Failure),
        _ => ("other", Outcome::Unknown),
    }
}

/// The logged risk, `level/state`, when there is any worth noting, and
/// whether it makes a successful sign-in suspicious.
fn risk(sign_in: &SignIn<'_>) -> (Option<String>, bool) {
    let level = sign_in.risk_level_during_sign_in.as_deref().unwrap_or("none");
    let state = sign_in.risk_state.as_deref().unwrap_or("none");
    let noted_level = matches!(level, "low" | "medium" | "high");
    let flagged_state = matches!(state, "atRisk" | "confirmedCompromised");
    let suspicious = matches!(level, "medium" | "high") || flagged_state;
    ((noted_level || flagged_state).then(|| format!("{level}/{state}")), suspicious)
}

/// `access.policy`: the Conditional Access status and the policies that
/// decided it.
fn access_policy(sign_in: &SignIn<'_>) -> Option<String> {
    let status = present(sign_in.conditional_access_status.as_deref())?;
    if !matches!(status.as_str(), "success" | "failure") {
        return Some(status);
    }
    let names: Vec<&str> = sign_in
        .applied_conditional_access_policies
        .iter()
        .flatten()
        .filter(|p| p.result.as_deref() == Some(status.as_str()))
        .filter_map(|p| p.display_name.as_deref().filter(|n| !n.trim().is_empty()))
        .collect();
    Some(if names.is_empty() { status } else { format!("{status}: {}", names.join("; ")) })
}

impl Parser for EntraSigninParser {
    fn name(&self) -> &'static str {
        FORMAT
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let (mut s, env) = read(line)?;
        let created = s.created_date_time.as_deref().filter(|t| !t.trim().is_empty());
        let (time, field) = match (created, env.time.as_deref()) {
            (Some(t), _) => (t, "createdDateTime"),
            (None, Some(t)) => (t, "time"),
            (None, None) => return Err(ParseError(format!("{WHAT} has no createdDateTime or time"))),
        };
        let time = timestamp(time, field, WHAT)?;
        let status = s.status.take();
        let code = status.as_ref().and_then(|st| st.error_code.clone()).or(env.code).ok_or_else(|| {
            ParseError(format!("{WHAT} has no status.errorCode or resultType, so its outcome is unknown"))
        })?;
        let (mut action, outcome) = action_for(&code);
        let (risk_note, risky) = risk(&s);
        if outcome == Outcome::Success && risky {
            action = "suspicious-login";
        }
        let reason = status.and_then(|st| {
            if code == "0" {
                present(st.additional_details.as_deref())
            } else {
                present(st.failure_reason.as_deref()).or(present(st.additional_details.as_deref()))
            }
        });
        let reason = if code == "0" { reason } else { reason.or(env.description) };
        let reason = match (reason, risk_note) {
            (r, None) => r,
            (Some(r), Some(note)) => Some(format!("{r}; risk {note}")),
            (None, Some(note)) => Some(format!("risk {note}")),
        };

        let mut e = Event::new(time, EventKind::Auth, action, outcome, "entra-id", FORMAT, line);
        set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        e.access_policy = access_policy(&s);
        e.code = Some(code);
        e.reason = reason;
        e.user_name = present(s.user_principal_name.as_deref());
        e.user_full_name = present(s.user_display_name.as_deref()).or(env.identity);
        e.source_ip = present(s.ip_address.as_deref()).or(env.ip);
        if let Some(Coordinates { latitude: Some(lat), longitude: Some(lon) }) =
            s.location.as_ref().and_then(|l| l.geo_coordinates.as_ref())
        {
            let on_earth = lat.abs() <= 90.0 && lon.abs() <= 180.0;
            (e.source_lat, e.source_lon) = if on_earth { (Some(*lat), Some(*lon)) } else { (None, None) };
        }
        let (city, country) =
            s.location.map_or((None, None), |l| (present(l.city.as_deref()), present(l.country_or_region.as_deref())));
        e.source_city = city;
        e.source_country = country.or(env.country);
        e.device_name = s.device_detail.and_then(|d| present(d.display_name.as_deref()));
        e.user_agent = present(s.user_agent.as_deref());
        out.push(e);
        Ok(LineUse::Event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::{ctx, parse_one};
    use chrono::{TimeZone, Utc};

    /// A Graph `signIn` (the v1.0 reference example, with a failed password
    /// and Conditional Access details).
    const GRAPH: &str = r#"{"id":"66ea54eb-6301-4ee5-be62-ff5a759b0100","createdDateTime":"2024-03-04T10:42:00Z","userDisplayName":"Lowri Evans","userPrincipalName":"l.evans@school.org","userId":"d7cc485d-2c1b-422c-98fd-5ce52859a4a3","appId":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","appDisplayName":"Azure Portal","ipAddress":"81.2.69.144","clientAppUsed":"Browser","correlationId":"d79f5bee-5860-4832-928f-3133e22ae912","conditionalAccessStatus":"failure","isInteractive":true,"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","riskEventTypes":[],"resourceDisplayName":"Windows Azure Service Management API","resourceId":"797f4846-ba00-4fd7-ba43-dac1f8f63013","status":{"errorCode":50126,"failureReason":"Error validating credentials due to invalid username or password.","additionalDetails":null},"deviceDetail":{"deviceId":"","displayName":"LIB-PC-07","operatingSystem":"Windows 10","browser":"Edge 80.0.361","isCompliant":false,"isManaged":false,"trustType":""},"location":{"city":"Leeds","state":"England","countryOrRegion":"GB","geoCoordinates":{"altitude":null,"latitude":53.8,"longitude":-1.55}},"appliedConditionalAccessPolicies":[{"id":"de7e60eb-ed89-4d73-8205-2227def6b7c9","displayName":"Block legacy authentication","enforcedGrantControls":["Block"],"enforcedSessionControls":[],"result":"failure"},{"id":"6e8f1a39-3a1d-4d86-9d3a-2f6b6e2e2d8b","displayName":"Require MFA for staff","enforcedGrantControls":["Mfa"],"enforcedSessionControls":[],"result":"notApplied"}],"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/120.0"}"#;

    /// A diagnostic-settings record (Event Hub export) of a successful
    /// non-interactive sign-in.
    const DIAGNOSTIC: &str = r#"{"time":"2019-10-18T09:45:48.0729893Z","resourceId":"/tenants/8a4de8b5-095c-47d0-a96f-a75130c61d53/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"NonInteractiveUserSignInLogs","tenantId":"8a4de8b5-095c-47d0-a96f-a75130c61d53","resultType":"0","resultSignature":"None","resultDescription":"","durationMs":0,"callerIpAddress":"81.2.69.144","correlationId":"8a4de8b5-095c-47d0-a96f-a75130c61d53","identity":"Test LTest","Level":4,"location":"FR","properties":{"id":"8a4de8b5-095c-47d0-a96f-a75130c61d53","createdDateTime":"2019-10-18T04:45:48.0729893-05:00","userDisplayName":"Test LTest","userPrincipalName":"test@school.org","userId":"8a4de8b5-095c-47d0-a96f-a75130c61d53","appId":"8a4de8b5-095c-47d0-a96f-a75130c61d53","appDisplayName":"Office 365","ipAddress":"81.2.69.144","status":{"errorCode":0,"failureReason":"Other.","additionalDetails":"MFA requirement satisfied by claim in the token"},"clientAppUsed":"Browser","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)","deviceDetail":{"deviceId":"","operatingSystem":"MacOs","browser":"Chrome 77.0.3865"},"location":{"city":"Champs-Sur-Marne","state":"Seine-Et-Marne","countryOrRegion":"FR","geoCoordinates":{"latitude":48.85,"longitude":2.6}},"conditionalAccessStatus":"success","appliedConditionalAccessPolicies":[{"displayName":"Require MFA for staff","result":"success"},{"displayName":"Block <b>legacy</b>","result":"notApplied"},{"displayName":"Require compliant device","result":"success"}],"isInteractive":false,"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","tokenIssuerType":"AzureAD"}}"#;

    fn one(line: &str) -> Event {
        parse_one(&mut EntraSigninParser, line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    fn rejected(line: &str) -> String {
        let mut out = Vec::new();
        let err = EntraSigninParser.parse(line, &ctx(), &mut out).unwrap_err();
        assert!(out.is_empty());
        err.0
    }

    #[test]
    fn reads_every_field_of_a_graph_sign_in() {
        let e = one(GRAPH);
        assert_eq!((e.action.as_str(), e.outcome), ("login-failed", Outcome::Failure));
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap());
        assert_eq!(e.code.as_deref(), Some("50126"));
        assert_eq!(e.reason.as_deref(), Some("Error validating credentials due to invalid username or password."));
        assert_eq!(e.user_name.as_deref(), Some("l.evans@school.org"));
        assert_eq!(e.user_full_name.as_deref(), Some("Lowri Evans"));
        assert_eq!(e.source_ip.as_deref(), Some("81.2.69.144"));
        assert_eq!((e.source_country.as_deref(), e.source_city.as_deref()), (Some("GB"), Some("Leeds")));
        assert_eq!((e.source_lat, e.source_lon), (Some(53.8), Some(-1.55)));
        assert_eq!(e.device_name.as_deref(), Some("LIB-PC-07"));
        assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/120.0"));
        assert_eq!(e.access_policy.as_deref(), Some("failure: Block legacy authentication"));
        assert_eq!(
            (e.kind, e.observer_product.as_str(), e.log_format.as_str()),
            (EventKind::Auth, "entra-id", "entra-signin")
        );
        assert_eq!(e.message, GRAPH);
        assert_eq!(e.id, Event::derive_id("st-marys", "test-source", 0, GRAPH.as_bytes()));
    }

    #[test]
    fn reads_every_field_of_a_diagnostic_record() {
        let e = one(DIAGNOSTIC);
        assert_eq!((e.action.as_str(), e.outcome, e.code.as_deref()), ("logged-in", Outcome::Success, Some("0")));
        // createdDateTime, in its own zone, not the record's time.
        assert_eq!(
            e.timestamp,
            Utc.with_ymd_and_hms(2019, 10, 18, 9, 45, 48).unwrap() + chrono::Duration::nanoseconds(72_989_300)
        );
        assert_eq!(e.reason.as_deref(), Some("MFA requirement satisfied by claim in the token"));
        assert_eq!(e.user_name.as_deref(), Some("test@school.org"));
        assert_eq!(e.user_full_name.as_deref(), Some("Test LTest"));
        assert_eq!((e.source_country.as_deref(), e.source_city.as_deref()), (Some("FR"), Some("Champs-Sur-Marne")));
        assert_eq!((e.source_lat, e.source_lon), (Some(48.85), Some(2.6)));
        assert_eq!(e.device_name, None);
        assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"));
        assert_eq!(e.access_policy.as_deref(), Some("success: Require MFA for staff; Require compliant device"));
    }

    #[test]
    fn the_envelope_fills_what_properties_lack() {
        let line = r#"{"time":"2024-03-04T10:42:00Z","category":"SignInLogs","operationName":"Sign-in activity","resultType":"50053","resultDescription":"Account is locked because user tried to sign in too many times with an incorrect user ID or password.","callerIpAddress":"203.0.113.9","identity":"Year 9 Pupil","location":"GB","properties":{"userPrincipalName":"y9.pupil@school.org"}}"#;
        let e = one(line);
        assert_eq!(
            (e.action.as_str(), e.outcome, e.code.as_deref()),
            ("account-locked", Outcome::Failure, Some("50053"))
        );
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap());
        assert!(e.reason.as_deref().unwrap().starts_with("Account is locked"));
        assert_eq!((e.source_ip.as_deref(), e.source_country.as_deref()), (Some("203.0.113.9"), Some("GB")));
        assert_eq!(e.user_full_name.as_deref(), Some("Year 9 Pupil"));
        assert_eq!((e.access_policy, e.source_city, e.source_lat), (None, None, None));
    }

    fn with_code(code: &str) -> Event {
        one(&GRAPH.replace(r#""errorCode":50126"#, &format!(r#""errorCode":{code}"#)))
    }

    #[test]
    fn error_codes_map_to_actions() {
        for (code, action, outcome) in [
            ("0", "logged-in", Outcome::Success),
            ("50126", "login-failed", Outcome::Failure),
            ("53003", "login-failed", Outcome::Failure),
            ("500121", "login-failed", Outcome::Failure),
            ("50034", "invalid-user", Outcome::Failure),
            ("50053", "account-locked", Outcome::Failure),
            ("50057", "account-disabled", Outcome::Failure),
            ("50074", "other", Outcome::Unknown),
            ("50140", "other", Outcome::Unknown),
            ("\"50126\"", "login-failed", Outcome::Failure),
        ] {
            let e = with_code(code);
            assert_eq!((e.action.as_str(), e.outcome), (action, outcome), "{code}");
            assert_eq!(e.code.as_deref(), Some(code.trim_matches('"')));
        }
        // A success's failureReason ("Other.") is not a reason.
        let ok = one(&GRAPH.replace(
            r#""errorCode":50126,"failureReason":"Error validating credentials due to invalid username or password.""#,
            r#""errorCode":0,"failureReason":"Other.""#,
        ));
        assert_eq!((ok.action.as_str(), ok.reason), ("logged-in", None));
    }

    #[test]
    fn risky_successful_sign_ins_are_suspicious_and_risk_is_noted() {
        let risky = |level: &str, state: &str, code: &str| {
            one(&GRAPH
                .replace(
                    r#""riskLevelDuringSignIn":"none","riskState":"none""#,
                    &format!(r#""riskLevelDuringSignIn":"{level}","riskState":"{state}""#),
                )
                .replace(r#""errorCode":50126"#, &format!(r#""errorCode":{code}"#)))
        };
        let e = risky("high", "atRisk", "0");
        assert_eq!((e.action.as_str(), e.outcome), ("suspicious-login", Outcome::Success));
        assert_eq!(e.reason.as_deref(), Some("risk high/atRisk"));
        let e = risky("low", "none", "0");
        assert_eq!((e.action.as_str(), e.reason.as_deref()), ("logged-in", Some("risk low/none")));
        let e = risky("none", "confirmedCompromised", "0");
        assert_eq!(e.action, "suspicious-login");
        let e = risky("medium", "atRisk", "50126");
        assert_eq!((e.action.as_str(), e.outcome), ("login-failed", Outcome::Failure));
        assert_eq!(
            e.reason.as_deref(),
            Some("Error validating credentials due to invalid username or password.; risk medium/atRisk")
        );
        assert_eq!(risky("hidden", "none", "0").reason, None);
    }

    #[test]
    fn access_policy_without_deciding_policies_is_the_status() {
        let e =
            one(&GRAPH.replace(r#""conditionalAccessStatus":"failure""#, r#""conditionalAccessStatus":"notApplied""#));
        assert_eq!(e.access_policy.as_deref(), Some("notApplied"));
        let e = one(&GRAPH.replace(r#""result":"failure""#, r#""result":"reportOnlyFailure""#));
        assert_eq!(e.access_policy.as_deref(), Some("failure"));
    }

    #[test]
    fn nulls_and_empty_strings_are_absent() {
        let line = r#"{"createdDateTime":"2024-03-04T10:42:00Z","userPrincipalName":"","userDisplayName":null,"ipAddress":null,"status":{"errorCode":50126,"failureReason":null,"additionalDetails":null},"location":null,"deviceDetail":{"displayName":null},"appliedConditionalAccessPolicies":null,"conditionalAccessStatus":null}"#;
        let e = one(line);
        assert_eq!(e.action, "login-failed");
        assert_eq!((e.user_name, e.user_full_name, e.source_ip, e.reason), (None, None, None, None));
        assert_eq!((e.device_name, e.access_policy, e.source_country), (None, None, None));
    }

    #[test]
    fn hostile_content_is_kept_verbatim() {
        let line = GRAPH
            .replace("Lowri Evans", r#"<img src=x onerror=alert(1)>\r\nBcc: a@evil\u0007"#)
            .replace("LIB-PC-07", "PC\\u0000\u{202e}07");
        let e = one(&line);
        assert_eq!(e.user_full_name.as_deref(), Some("<img src=x onerror=alert(1)>\r\nBcc: a@evil\u{7}"));
        assert_eq!(e.device_name.as_deref(), Some("PC\u{0}\u{202e}07"));
        assert_eq!(e.message, line);
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        for full in [GRAPH, DIAGNOSTIC] {
            for cut in 0..full.len() {
                let Some(prefix) = full.get(..cut) else { continue };
                let mut out = Vec::new();
                assert!(EntraSigninParser.parse(prefix, &ctx(), &mut out).is_err(), "cut at {cut}");
                assert!(out.is_empty());
            }
        }
    }

    #[test]
    fn rejects_lines_of_other_formats_and_shapes() {
        assert!(rejected(
            "1709548920.123    145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - HIER_DIRECT/1.2.3.4 text/html"
        )
        .contains("not a JSON object"));
        assert_eq!(
            rejected(
                r#"{"kind":"admin#reports#activity","id":{"time":"2024-03-04T10:42:00Z","applicationName":"login"},"events":[{"name":"logout"}]}"#
            ),
            "Entra ID sign-in has no createdDateTime or time"
        );
        assert_eq!(
            rejected(
                r#"{"time":"2024-03-04T10:42:00Z","category":"AuditLogs","operationName":"Add user","resultType":"Success","properties":{}}"#
            ),
            "Entra ID sign-in: diagnostic record of category \"AuditLogs\" is not a sign-in log"
        );
        assert_eq!(
            rejected(r#"{"createdDateTime":"2024-03-04T10:42:00Z","userPrincipalName":"a@b"}"#),
            "Entra ID sign-in has no status.errorCode or resultType, so its outcome is unknown"
        );
        assert!(rejected(&GRAPH.replace("2024-03-04T10:42:00Z", "04/03/2024 ten"))
            .contains("createdDateTime is not a timestamp"));
        let shape = rejected(&GRAPH.replace(r#""errorCode":50126"#, r#""errorCode":[1]"#));
        assert!(shape.starts_with("Entra ID sign-in field status.errorCode is not of the expected shape"), "{shape}");
        let shape = rejected(&DIAGNOSTIC.replace(r#""userAgent":"Mozilla"#, r#""userAgent":7,"x":"Mozilla"#));
        assert!(shape.starts_with("Entra ID sign-in field properties.userAgent"), "{shape}");
    }
}
