//! OpenSSH (and its PAM) lines from `auth.log` / `secure`.
//!
//! Lines carry a syslog header (see [`syslog`](super::syslog) for how
//! year-less traditional timestamps are read: as UTC, in the latest year not
//! more than a day after the reading time). Login successes, failures,
//! unknown users and brute-force cut-offs become `auth` events; every other
//! well-formed syslog line (session lines, other programs) becomes an `auth`
//! event with action `other`.
//!
//! The messages are OpenSSH's own (`auth.c` `auth_log` and `allowed_user`,
//! `auth-pam.c`, `sshd.c`/`sshd-session.c`, `packet.c`
//! `sshpkt_fmt_connection_id`), versions 5 to 10:
//!
//! | message | action |
//! |---|---|
//! | `Accepted METHOD for [invalid user ]USER from IP port N ssh2[: KEY]` | `logged-in` |
//! | `Failed METHOD for [invalid user ]USER from IP port N ssh2[: KEY]` | `login-failed` |
//! | `error: PAM: WHY for [illegal user ]USER from HOST` | `login-failed` |
//! | `User USER from HOST not allowed because WHY` (AllowUsers, DenyGroups, ...) | `login-failed` |
//! | `pam_unix(sshd:auth): authentication failure; ... rhost=HOST[  user=USER]` | `login-failed` |
//! | `Invalid user USER from IP[ port N]` | `invalid-user` |
//! | `error: maximum authentication attempts exceeded for ...`, `Disconnecting[ ...]: Too many authentication failures[ for USER]` | `too-many-failures` |
//! | `pam_faillock(sshd:auth): Consecutive login failures for user USER account temporarily locked` | `account-locked` |
//! | `Disconnected from user USER IP port N` (a session's end) | `logged-off` |
//! | `Connection closed by` / `Connection reset by` / `Disconnected from` `authenticating user` or `invalid user USER IP port N [preauth]` | `other`, outcome failure: a login given up before it succeeded, kept with its user and address |
//!
//! rsyslog's `message repeated N times: [ MESSAGE]` is read as MESSAGE, with
//! `; repeated N times` on the reason; Solaris's `[ID 800047 auth.notice] `
//! message id before the text is skipped. `source.ip` is set only when the
//! line gives an address (with `UseDNS yes`, PAM and some old messages give a
//! host name, which stays in the raw line).

use super::{syslog, LineContext, LineUse, ParseError, Parser};
use std::net::IpAddr;
use vigil_core::{Event, EventKind, Outcome};

/// Reads OpenSSH authentication lines; stateless.
#[derive(Debug, Default)]
pub struct SshdParser;

/// Program names OpenSSH logs under (`sshd-session` and `sshd-auth` from
/// OpenSSH 9.8 and 10 on).
pub(super) const PROGRAMS: &[&str] = &["sshd", "sshd-session", "sshd-auth"];

/// What one sshd message says, borrowed from it.
#[derive(Debug, PartialEq, Eq)]
struct Attempt<'a> {
    action: &'static str,
    outcome: Outcome,
    reason: String,
    user: &'a str,
    ip: Option<&'a str>,
    port: Option<u16>,
}

impl Parser for SshdParser {
    fn name(&self) -> &'static str {
        "sshd"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let sys = syslog::parse(line, ctx.now).map_err(|e| ParseError(e.to_string()))?;
        let attempt = if PROGRAMS.contains(&sys.program) { classify(sys.message)? } else { None };
        let Some(attempt) = attempt else {
            out.push(super::other_syslog_event(EventKind::Auth, &sys, "sshd", line, ctx));
            return Ok(LineUse::Event);
        };
        let mut e =
            Event::new(sys.timestamp, EventKind::Auth, attempt.action, attempt.outcome, "openssh", "sshd", line);
        super::set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        e.reason = Some(attempt.reason);
        e.user_name = (!attempt.user.is_empty()).then(|| attempt.user.to_string());
        e.source_ip = attempt.ip.filter(|ip| ip.parse::<IpAddr>().is_ok()).map(str::to_string);
        e.source_port = attempt.port;
        e.host_name = sys.host.map(str::to_string);
        out.push(e);
        Ok(LineUse::Event)
    }
}

fn malformed(what: &str) -> ParseError {
    ParseError(format!("sshd {what} line is truncated or malformed"))
}

/// The event an sshd message describes; `Ok(None)` for messages that make
/// none; `Err` for a recognised message that is cut short.
fn classify(message: &str) -> Result<Option<Attempt<'_>>, ParseError> {
    let msg = strip_message_id(message);
    let Some((times, repeated)) = repeated_message(msg) else { return classify_one(msg) };
    Ok(classify_one(repeated)?.map(|mut attempt| {
        attempt.reason = format!("{}; repeated {times} times", attempt.reason);
        attempt
    }))
}

/// The message without Solaris's `[ID 800047 auth.notice] ` message id.
fn strip_message_id(message: &str) -> &str {
    let Some(rest) = message.strip_prefix("[ID ") else { return message };
    rest.split_once("] ").map_or(message, |(_, text)| text)
}

/// The count and the message of rsyslog's `message repeated N times: [ MESSAGE]`.
fn repeated_message(msg: &str) -> Option<(&str, &str)> {
    let (times, rest) = msg.strip_prefix("message repeated ")?.split_once(" times: [ ")?;
    Some((times, rest.strip_suffix(']')?))
}

/// [`classify`] for one message, without repetition or message id.
fn classify_one(message: &str) -> Result<Option<Attempt<'_>>, ParseError> {
    let msg = message.strip_suffix(" [preauth]").unwrap_or(message);
    if let Some((method, rest)) = login_report(msg, "Accepted ") {
        return method_for_user(method, rest, "logged-in", Outcome::Success)
            .ok_or_else(|| malformed("Accepted"))
            .map(Some);
    }
    if let Some((method, rest)) = login_report(msg, "Failed ") {
        return method_for_user(method, rest, "login-failed", Outcome::Failure)
            .ok_or_else(|| malformed("Failed"))
            .map(Some);
    }
    if let Some(rest) = msg.strip_prefix("Invalid user ") {
        return invalid_user(rest).ok_or_else(|| malformed("Invalid user")).map(Some);
    }
    if let Some(rest) = msg.strip_prefix("error: maximum authentication attempts exceeded for ") {
        return max_attempts(rest).ok_or_else(|| malformed("maximum authentication attempts")).map(Some);
    }
    if let Some(rest) = msg.strip_prefix("error: PAM: ") {
        return pam_error(rest).ok_or_else(|| malformed("error: PAM")).map(Some);
    }
    if let Some(rest) = msg.strip_prefix("Disconnecting") {
        return too_many_disconnect(rest);
    }
    if let Some(rest) = msg.strip_prefix("pam_unix(sshd:auth): authentication failure;") {
        return Ok(Some(pam_failure(rest)));
    }
    if let Some(user) = msg
        .strip_prefix("pam_faillock(sshd:auth): Consecutive login failures for user ")
        .and_then(|rest| rest.strip_suffix(" account temporarily locked"))
    {
        let reason = "pam_faillock: account temporarily locked".to_string();
        return Ok(Some(Attempt {
            action: "account-locked",
            outcome: Outcome::Failure,
            reason,
            user,
            ip: None,
            port: None,
        }));
    }
    if let Some(rest) = msg.strip_prefix("User ") {
        return Ok(not_allowed(rest));
    }
    Ok(closed_connection(msg))
}
/// The method and the text after `for ` of `<verb> METHOD for ...`; `None`
/// for other messages starting with the verb (`Accepted certificate ID ...`).
fn login_report<'a>(msg: &'a str, verb: &str) -> Option<(&'a str, &'a str)> {
    let (method, rest) = msg.strip_prefix(verb)?.split_once(' ')?;
    Some((method, rest.strip_prefix("for ")?))
}

/// `[invalid user ]USER from IP port N ssh2[: KEY FP]`, after `METHOD for `.
fn method_for_user<'a>(method: &str, rest: &'a str, action: &'static str, outcome: Outcome) -> Option<Attempt<'a>> {
    let (who, ip, port) = from_ip_port(rest)?;
    let (user, invalid) = strip_invalid(who);
    let reason = if invalid { format!("{method}; invalid user") } else { method.to_string() };
    Some(Attempt { action, outcome, reason, user, ip: Some(ip), port: Some(port?) })
}

/// `USER from IP[ port N]`.
fn invalid_user(rest: &str) -> Option<Attempt<'_>> {
    let (user, ip, port) = from_ip_port(rest)?;
    Some(Attempt {
        action: "invalid-user",
        outcome: Outcome::Failure,
        reason: "invalid user".into(),
        user,
        ip: Some(ip),
        port,
    })
}

/// `[invalid user ]USER from IP port N ssh2`.
fn max_attempts(rest: &str) -> Option<Attempt<'_>> {
    let (who, ip, port) = from_ip_port(rest)?;
    let (user, _) = strip_invalid(who);
    let reason = "maximum authentication attempts exceeded".to_string();
    Some(Attempt { action: "too-many-failures", outcome: Outcome::Failure, reason, user, ip: Some(ip), port })
}

/// What follows `Disconnecting`: ` (authenticating|invalid) user USER IP port
/// N: Too many authentication failures` (OpenSSH 7.5 on), or `: Too many
/// authentication failures[ for USER]` (before). `Ok(None)` for other
/// reasons (`Change of username not allowed`, `bad client public DH value`).
fn too_many_disconnect(rest: &str) -> Result<Option<Attempt<'_>>, ParseError> {
    let reason = "too many authentication failures".to_string();
    let attempt =
        |user, ip, port| Attempt { action: "too-many-failures", outcome: Outcome::Failure, reason, user, ip, port };
    if let Some(old) = rest.strip_prefix(": Too many authentication failures") {
        return Ok(match old.strip_prefix(" for ") {
            Some(user) => Some(attempt(user, None, None)),
            None => old.is_empty().then(|| attempt("", None, None)),
        });
    }
    let Some(who) = rest.strip_prefix(' ').and_then(|r| r.strip_suffix(": Too many authentication failures")) else {
        return Ok(None);
    };
    let (user, ip, port) = user_ip_port(who).ok_or_else(|| malformed("Too many authentication failures"))?;
    Ok(Some(attempt(user, Some(ip), Some(port))))
}

/// `[authenticating |invalid ]user USER IP port N`, as OpenSSH 7.5 and later
/// name a connection; `None` for other text.
fn user_ip_port(who: &str) -> Option<(&str, &str, u16)> {
    let (who, port) = who.rsplit_once(" port ")?;
    let (who, ip) = who.rsplit_once(' ')?;
    let user = ["authenticating user ", "invalid user ", "user "].iter().find_map(|p| who.strip_prefix(p))?;
    Some((user, ip, port.parse().ok()?))
}

/// `WHY for [illegal user ]USER from HOST`, after `error: PAM: `: PAM
/// refused the password (`Authentication failure`, `authentication error`,
/// `User not known to the underlying authentication module`).
fn pam_error(rest: &str) -> Option<Attempt<'_>> {
    let (why, who) = rest.split_once(" for ")?;
    let (who, host) = who.rsplit_once(" from ")?;
    let (user, reason) = match who.strip_prefix("illegal user ") {
        Some(user) => (user, format!("PAM: {why}; invalid user")),
        None => (who, format!("PAM: {why}")),
    };
    Some(Attempt { action: "login-failed", outcome: Outcome::Failure, reason, user, ip: Some(host), port: None })
}

/// `USER[ from HOST] not allowed because WHY`, after `User `: sshd's
/// AllowUsers / DenyUsers / AllowGroups / DenyGroups, a locked account or a
/// missing shell refused the login. `None` for other `User ...` text.
fn not_allowed(rest: &str) -> Option<Attempt<'_>> {
    let (who, why) = rest.rsplit_once(" not allowed because ")?;
    let (user, host) = match who.rsplit_once(" from ") {
        Some((user, host)) => (user, Some(host)),
        None => (who, None),
    };
    let reason = format!("not allowed because {why}");
    Some(Attempt { action: "login-failed", outcome: Outcome::Failure, reason, user, ip: host, port: None })
}

/// The end of a connection naming its user (OpenSSH 7.5 and later):
/// `Disconnected from user USER IP port N` ends a session (`logged-off`);
/// `Connection closed by` / `Connection reset by` / `Disconnected from` an
/// `authenticating user` or `invalid user` is a login given up before it
/// succeeded (`other`, outcome failure). `None` for anything else.
fn closed_connection(msg: &str) -> Option<Attempt<'_>> {
    let (verb, who) = ["Connection closed by ", "Connection reset by ", "Disconnected from "]
        .iter()
        .find_map(|verb| msg.strip_prefix(verb).map(|who| (verb.trim_end(), who)))?;
    let (user, ip, port) = user_ip_port(who)?;
    let (action, outcome, reason) = if verb == "Disconnected from" && who.starts_with("user ") {
        ("logged-off", Outcome::Success, "disconnected".to_string())
    } else {
        let kind = if who.starts_with("invalid ") { "invalid user" } else { "authenticating user" };
        ("other", Outcome::Failure, format!("{} {kind}", verb.to_lowercase()))
    };
    Some(Attempt { action, outcome, reason, user, ip: Some(ip), port: Some(port) })
}

/// ` logname= uid=0 euid=0 tty=ssh ruser= rhost=IP  user=USER` (`user=` may
/// be missing, and the user name runs to the end of the line).
fn pam_failure(rest: &str) -> Attempt<'_> {
    let ip = rest.split(' ').find_map(|kv| kv.strip_prefix("rhost=")).filter(|ip| !ip.is_empty());
    let user = rest.rsplit_once(" user=").map_or("", |(_, user)| user);
    let reason = "pam_unix authentication failure".to_string();
    Attempt { action: "login-failed", outcome: Outcome::Failure, reason, user, ip, port: None }
}

/// Splits `WHO from IP[ port N][ ssh2[: ...]]` at the last ` from `, since a
/// user name may itself contain spaces. The port is `None` when absent.
fn from_ip_port(s: &str) -> Option<(&str, &str, Option<u16>)> {
    let (who, rest) = s.rsplit_once(" from ")?;
    let (ip, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    if ip.is_empty() {
        return None;
    }
    let port = match rest.strip_prefix("port ") {
        Some(p) => Some(p.split(' ').next()?.parse().ok()?),
        None if rest.is_empty() => None,
        None => return None,
    };
    Some((who, ip, port))
}

/// Strips sshd's `invalid user ` marker, reporting whether it was there.
fn strip_invalid(who: &str) -> (&str, bool) {
    match who.strip_prefix("invalid user ") {
        Some(user) => (user, true),
        None => (who, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::{ctx, parse_lines};

    fn one(message: &str) -> Event {
        let line = format!("Mar  4 10:42:00 gate sshd[4242]: {message}");
        let mut events = parse_lines(&mut SshdParser, &[&line]).unwrap();
        assert_eq!(events.len(), 1, "{message}");
        events.remove(0)
    }

    /// The line is understood but reports no login: kept as `other`.
    fn none(line: &str) {
        let kept = parse_lines(&mut SshdParser, &[line]).unwrap();
        assert_eq!(kept.len(), 1, "{line}");
        assert_eq!(
            (kept[0].action.as_str(), kept[0].outcome, kept[0].user_name.as_deref()),
            ("other", Outcome::Unknown, None)
        );
        assert_eq!((kept[0].kind, kept[0].message.as_str()), (EventKind::Auth, line));
    }

    /// Action, outcome, user, address, port and reason.
    type Summary<'a> = (&'a str, Outcome, Option<&'a str>, Option<&'a str>, Option<u16>, Option<&'a str>);

    fn summary(e: &Event) -> Summary<'_> {
        (
            e.action.as_str(),
            e.outcome,
            e.user_name.as_deref(),
            e.source_ip.as_deref(),
            e.source_port,
            e.reason.as_deref(),
        )
    }

    #[test]
    fn successful_logins_by_each_method() {
        let e = one("Accepted publickey for alice from 203.0.113.7 port 51234 ssh2: ED25519 SHA256:AbCdEf0123456789");
        assert_eq!(
            summary(&e),
            ("logged-in", Outcome::Success, Some("alice"), Some("203.0.113.7"), Some(51234), Some("publickey"))
        );
        assert_eq!(e.host_name.as_deref(), Some("gate"));
        assert_eq!((e.kind, e.observer_product.as_str(), e.log_format.as_str()), (EventKind::Auth, "openssh", "sshd"));
        assert_eq!(e.timestamp.to_rfc3339(), "2026-03-04T10:42:00+00:00");
        let c = ctx();
        assert_eq!(e.id, Event::derive_id(c.tenant, c.source, c.offset, e.message.as_bytes()));
        let e = one("Accepted keyboard-interactive/pam for bob from 2001:db8::5 port 22 ssh2");
        assert_eq!(
            summary(&e),
            (
                "logged-in",
                Outcome::Success,
                Some("bob"),
                Some("2001:db8::5"),
                Some(22),
                Some("keyboard-interactive/pam")
            )
        );
        let e = one("Accepted gssapi-with-mic for carol from 10.0.0.3 port 40000 ssh2");
        assert_eq!(e.reason.as_deref(), Some("gssapi-with-mic"));
    }

    #[test]
    fn failed_logins_note_invalid_users() {
        let e = one("Failed password for root from 198.51.100.9 port 40022 ssh2");
        assert_eq!(
            summary(&e),
            ("login-failed", Outcome::Failure, Some("root"), Some("198.51.100.9"), Some(40022), Some("password"))
        );
        let e = one("Failed password for invalid user admin from 198.51.100.9 port 40023 ssh2");
        assert_eq!(
            summary(&e),
            (
                "login-failed",
                Outcome::Failure,
                Some("admin"),
                Some("198.51.100.9"),
                Some(40023),
                Some("password; invalid user")
            )
        );
        let e = one("Failed none for invalid user  from 198.51.100.9 port 1 ssh2");
        assert_eq!(e.user_name, None);
    }

    #[test]
    fn invalid_users_with_odd_names() {
        let e = one("Invalid user oracle from 192.0.2.1 port 50000");
        assert_eq!(
            summary(&e),
            ("invalid-user", Outcome::Failure, Some("oracle"), Some("192.0.2.1"), Some(50000), Some("invalid user"))
        );
        assert_eq!(one("Invalid user  from 192.0.2.1 port 1").user_name, None);
        assert_eq!(one("Invalid user john smith from 192.0.2.1").user_name.as_deref(), Some("john smith"));
        assert_eq!(one("Invalid user a from b from 192.0.2.1 port 2").user_name.as_deref(), Some("a from b"));
    }

    #[test]
    fn brute_force_cut_offs() {
        let e = one("error: maximum authentication attempts exceeded for invalid user support from 192.0.2.8 port 3322 ssh2 [preauth]");
        assert_eq!(e.action, "too-many-failures");
        assert_eq!(
            (e.user_name.as_deref(), e.source_ip.as_deref(), e.source_port),
            (Some("support"), Some("192.0.2.8"), Some(3322))
        );
        let e = one(
            "Disconnecting authenticating user root 192.0.2.8 port 3323: Too many authentication failures [preauth]",
        );
        assert_eq!(e.action, "too-many-failures");
        assert_eq!(
            (e.user_name.as_deref(), e.source_ip.as_deref(), e.source_port),
            (Some("root"), Some("192.0.2.8"), Some(3323))
        );
        let e =
            one("Disconnecting invalid user test 2001:db8::9 port 3324: Too many authentication failures [preauth]");
        assert_eq!((e.user_name.as_deref(), e.source_ip.as_deref()), (Some("test"), Some("2001:db8::9")));
    }

    #[test]
    fn pam_authentication_failures() {
        let e = one("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.50  user=root");
        assert_eq!(e.action, "login-failed");
        assert_eq!(
            (e.user_name.as_deref(), e.source_ip.as_deref(), e.source_port),
            (Some("root"), Some("203.0.113.50"), None)
        );
        let e =
            one("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.50");
        assert_eq!((e.user_name, e.source_ip.as_deref()), (None, Some("203.0.113.50")));
    }

    #[test]
    fn pam_and_access_refusals_are_failed_logins() {
        let e = one("error: PAM: Authentication failure for r.patel from 203.0.113.50");
        assert_eq!(
            summary(&e),
            (
                "login-failed",
                Outcome::Failure,
                Some("r.patel"),
                Some("203.0.113.50"),
                None,
                Some("PAM: Authentication failure")
            )
        );
        let e = one("error: PAM: User not known to the underlying authentication module for illegal user test from scan.example.com");
        assert_eq!(
            summary(&e),
            (
                "login-failed",
                Outcome::Failure,
                Some("test"),
                None,
                None,
                Some("PAM: User not known to the underlying authentication module; invalid user")
            )
        );
        let e = one("User root from 198.51.100.9 not allowed because not listed in AllowUsers");
        assert_eq!(
            summary(&e),
            (
                "login-failed",
                Outcome::Failure,
                Some("root"),
                Some("198.51.100.9"),
                None,
                Some("not allowed because not listed in AllowUsers")
            )
        );
        let e = one("User y7.pupil not allowed because account is locked");
        assert_eq!((e.action.as_str(), e.user_name.as_deref(), e.source_ip), ("login-failed", Some("y7.pupil"), None));
        let e = one("pam_faillock(sshd:auth): Consecutive login failures for user m.jones account temporarily locked");
        assert_eq!(
            (e.action.as_str(), e.outcome, e.user_name.as_deref()),
            ("account-locked", Outcome::Failure, Some("m.jones"))
        );
    }

    #[test]
    fn rsyslog_repeats_solaris_ids_and_old_cut_offs() {
        let e = one("message repeated 5 times: [ Failed password for root from 198.51.100.9 port 43126 ssh2]");
        assert_eq!(
            summary(&e),
            (
                "login-failed",
                Outcome::Failure,
                Some("root"),
                Some("198.51.100.9"),
                Some(43126),
                Some("password; repeated 5 times")
            )
        );
        let e = one("message repeated 2 times: [ Disconnecting invalid user admin 198.51.100.9 port 4 : Too many]");
        assert_eq!(e.action, "other");
        let e = one("[ID 800047 auth.notice] Failed none for root from 192.0.2.1 port 36942 ssh2");
        assert_eq!(
            (e.action.as_str(), e.user_name.as_deref(), e.source_port),
            ("login-failed", Some("root"), Some(36942))
        );
        let e = one("Disconnecting: Too many authentication failures for admin [preauth]");
        assert_eq!(
            summary(&e),
            (
                "too-many-failures",
                Outcome::Failure,
                Some("admin"),
                None,
                None,
                Some("too many authentication failures")
            )
        );
        assert_eq!(one("Disconnecting: Too many authentication failures [preauth]").action, "too-many-failures");
    }

    #[test]
    fn connection_ends_naming_a_user() {
        let e = one("Disconnected from user alice 203.0.113.7 port 51234");
        assert_eq!(
            summary(&e),
            ("logged-off", Outcome::Success, Some("alice"), Some("203.0.113.7"), Some(51234), Some("disconnected"))
        );
        let e = one("Connection closed by authenticating user root 198.51.100.9 port 35736 [preauth]");
        assert_eq!(
            summary(&e),
            (
                "other",
                Outcome::Failure,
                Some("root"),
                Some("198.51.100.9"),
                Some(35736),
                Some("connection closed by authenticating user")
            )
        );
        let e = one("Disconnected from invalid user admin 2001:db8::9 port 50123 [preauth]");
        assert_eq!(
            (e.action.as_str(), e.user_name.as_deref(), e.source_ip.as_deref(), e.reason.as_deref()),
            ("other", Some("admin"), Some("2001:db8::9"), Some("disconnected from invalid user"))
        );
        let e = one("Connection reset by authenticating user root 198.51.100.9 port 51772 [preauth]");
        assert_eq!(e.reason.as_deref(), Some("connection reset by authenticating user"));
    }

    #[test]
    fn host_names_and_masked_addresses_are_not_addresses() {
        let e = one("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=scan.example.com  user=root");
        assert_eq!((e.user_name.as_deref(), e.source_ip), (Some("root"), None));
        let e =
            one("error: maximum authentication attempts exceeded for root from 198.51.100.x port 34100 ssh2 [preauth]");
        assert_eq!((e.action.as_str(), e.source_ip, e.source_port), ("too-many-failures", None, Some(34100)));
    }

    #[test]
    fn other_syslog_lines_are_kept_as_other() {
        none("Mar  4 10:42:00 gate sshd[1]: Connection closed by 192.0.2.1 port 22 [preauth]");
        none("Mar  4 10:42:00 gate sshd[1]: Received disconnect from 192.0.2.1 port 22:11: Bye Bye [preauth]");
        none(
            "Mar  4 10:42:00 gate sshd[1]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
        );
        none("Mar  4 10:42:00 gate sshd[1]: Disconnecting invalid user x 192.0.2.1 port 22: Change of username not allowed");
        none("Mar  4 10:42:00 gate sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls");
        none("Mar  4 10:42:00 gate CRON[99]: pam_unix(cron:session): session closed for user root");
        none("2026-03-04T10:42:00.123456+00:00 gate systemd-logind[1]: New session 5 of user alice.");
    }

    #[test]
    fn iso_timestamps_are_read() {
        let line =
            "2026-03-04T10:42:00.123456+00:00 gate sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2";
        let e = parse_lines(&mut SshdParser, &[line]).unwrap().remove(0);
        assert_eq!(e.timestamp.to_rfc3339(), "2026-03-04T10:42:00.123456+00:00");
    }

    #[test]
    fn hostile_content_is_kept_verbatim() {
        let line =
            "Mar  4 10:42:00 gate sshd[1]: Invalid user <img src=x onerror=alert(1)>\u{1b}[31m from 192.0.2.1 port 22";
        let e = parse_lines(&mut SshdParser, &[line]).unwrap().remove(0);
        assert_eq!(e.message, line);
        assert_eq!(e.user_name.as_deref(), Some("<img src=x onerror=alert(1)>\u{1b}[31m"));
    }

    #[test]
    fn truncated_and_headerless_lines_are_errors() {
        for line in [
            "Mar  4 10:4",
            "Mar  4 10:42:00 gate",
            "Mar  4 10:42:00 gate sshd[4242]: Accepted password for alice",
            "Mar  4 10:42:00 gate sshd[4242]: Accepted password for alice from",
            "Mar  4 10:42:00 gate sshd[4242]: Accepted password for alice from 203.0.113.7",
            "Mar  4 10:42:00 gate sshd[4242]: Failed password for alice from 203.0.113.7 port",
            "Mar  4 10:42:00 gate sshd[4242]: Failed password for alice from 203.0.113.7 port 5x",
            "Mar  4 10:42:00 gate sshd[4242]: Invalid user bob",
            "Mar  4 10:42:00 gate sshd[4242]: Disconnecting authenticating user root: Too many authentication failures",
            "Accepted password for a from 1.2.3.4 port 22 ssh2",
            "<html>",
            "",
        ] {
            assert!(parse_lines(&mut SshdParser, &[line]).is_err(), "{line:?}");
        }
        for full in [
            "Mar  4 10:42:00 gate sshd[4242]: error: maximum authentication attempts exceeded for invalid user x from 2001:db8::1 port 22 ssh2 [preauth]",
            "Mar  4 10:42:00 gate sshd[4242]: message repeated 3 times: [ Failed password for root from 192.0.2.1 port 22 ssh2]",
            "Mar  4 10:42:00 gate sshd[4242]: error: PAM: Authentication failure for illegal user x from 192.0.2.1",
            "Mar  4 10:42:00 gate sshd-session[4242]: Connection closed by authenticating user root 192.0.2.1 port 22 [preauth]",
            "Mar  4 10:42:00 gate sshd[4242]: User root from 192.0.2.1 not allowed because listed in DenyUsers",
        ] {
            for cut in 0..full.len() {
                let _ = parse_lines(&mut SshdParser, &[&full[..cut]]);
            }
        }
    }

    #[test]
    fn other_messages_sharing_a_prefix_are_kept_as_other() {
        none("Mar  4 10:42:00 gate sshd[1]: Accepted certificate ID \"alice\" (serial 7) signed by ED25519 CA SHA256:xyz via /etc/ssh/ca");
        none("Mar  4 10:42:00 gate sshd[1]: Failed to release session: Interrupted system call");
    }
}
