//! FreeRADIUS `radius.log` lines.
//!
//! ```text
//! Mon Mar  4 10:42:00 2026 : Auth: (123) Login OK: [jbloggs] (from client wifi-ap1 port 0 cli 3C-22-FB-01-02-03)
//! ```
//!
//! The shape is FreeRADIUS's own (`rad_authlog` / `auth_message` in the
//! server source, versions 2 to 4): `ctime : Type: message`, where the
//! authentication messages (`Type` `Auth`, written when `log { auth = yes }`)
//! are `MSG: [USER] (from client NAS port N[ cli CALLING-STATION-ID][ via TLS
//! tunnel])[ EXTRA]`. `MSG` is `Login OK`, `Login incorrect`, `Invalid user`
//! (each possibly with a module's reason in brackets: `Login incorrect
//! (mschap: ...)`) or another rejection (`Multiple logins ...`). Version 3
//! and later put the request number (`(123) `) before it. `Info:`,
//! `Error:`, `Warning:` and other types become `auth` events with action
//! `other`. The same messages sent to syslog (`radiusd[123]: (5) Login OK:
//! ...`) are read too.
//!
//! Passwords: with `auth_badpass` / `auth_goodpass` on, FreeRADIUS writes
//! `[USER/PASSWORD]`, and nothing in the line says whether it did. The
//! password must never reach `user.name`, so the name is cut at the first `/`
//! (after a leading machine-account `host/`), unless what follows the last
//! `/` is one of FreeRADIUS's own `<...>` placeholders (`<via Auth-Type =
//! eap>`, `<CHAP-Password>`). A user name containing `/` is therefore cut
//! short; the raw line keeps everything.
//!
//! Fields: `user.name`; `host.name` the NAS client's short name (the access
//! point or switch); `source.mac` the Calling-Station-Id when it is a
//! hardware address (Wi-Fi, 802.1X), `source.ip` when it is an address (VPN);
//! `event.reason` the message (`Login incorrect (mschap: ...)`, with `; via
//! TLS tunnel` for inner-tunnel lines).
//!
//! Times: ctime in the server's local time, without a zone, taken as UTC
//! (run the RADIUS server in UTC).

use super::{mac, syslog, LineContext, LineUse, ParseError, Parser};
use chrono::{DateTime, NaiveDateTime, Utc};
use std::net::IpAddr;
use vigil_core::{Event, EventKind, Outcome};

/// Reads FreeRADIUS log lines; stateless.
#[derive(Debug, Default)]
pub struct RadiusParser;

/// Program names FreeRADIUS logs under in syslog.
pub(super) const PROGRAMS: &[&str] = &["radiusd", "freeradius"];

/// What one authentication message says, borrowed from it.
#[derive(Debug, PartialEq, Eq)]
struct Attempt<'a> {
    action: &'static str,
    outcome: Outcome,
    reason: String,
    user: Option<&'a str>,
    client: &'a str,
    cli: Option<&'a str>,
}

impl Parser for RadiusParser {
    fn name(&self) -> &'static str {
        "radius"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let (timestamp, kind, message) = match split_ctime(line) {
            Some((timestamp, rest)) => {
                let (kind, message) = rest
                    .split_once(": ")
                    .filter(|(kind, _)| !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_alphabetic()))
                    .ok_or_else(|| {
                        ParseError("radius line has no `Type: ` (Auth, Info, Error...) after the time".into())
                    })?;
                (timestamp, kind, message)
            }
            None => {
                let sys = syslog::parse(line, ctx.now).map_err(|_| {
                    ParseError(
                        "radius line does not start with a ctime `Mon Mar  4 10:42:00 2026 : ` or syslog header".into(),
                    )
                })?;
                if !PROGRAMS.contains(&sys.program) {
                    out.push(super::other_syslog_event(EventKind::Auth, &sys, "radius", line, ctx));
                    return Ok(LineUse::Event);
                }
                match sys.message.split_once(": ").filter(|(kind, _)| *kind == "Auth") {
                    Some((kind, message)) => (sys.timestamp, kind, message),
                    None => (sys.timestamp, "Auth", sys.message),
                }
            }
        };
        let attempt = if kind == "Auth" { classify(message)? } else { None };
        let mut e = match &attempt {
            Some(a) => Event::new(timestamp, EventKind::Auth, a.action, a.outcome, "freeradius", "radius", line),
            None => Event::new(timestamp, EventKind::Auth, "other", Outcome::Unknown, "freeradius", "radius", line),
        };
        super::set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        if let Some(a) = attempt {
            e.reason = Some(a.reason);
            e.user_name = a.user.map(str::to_string);
            e.host_name = Some(a.client.to_string());
            e.source_mac = a.cli.and_then(mac::normalise);
            e.source_ip = a.cli.filter(|cli| cli.parse::<IpAddr>().is_ok()).map(str::to_string);
        }
        out.push(e);
        Ok(LineUse::Event)
    }
}

/// `Mon Mar  4 10:42:00 2026 : rest`, the time read as UTC.
fn split_ctime(line: &str) -> Option<(DateTime<Utc>, &str)> {
    let (stamp, rest) = line.split_once(" : ")?;
    let time = NaiveDateTime::parse_from_str(stamp, "%a %b %e %H:%M:%S %Y").ok()?;
    Some((time.and_utc(), rest))
}

fn malformed(msg: &str) -> ParseError {
    let shown: String = msg.chars().take(40).collect();
    ParseError(format!("radius `{shown}` line is truncated or malformed (expected `: [user] (from client ...)`)"))
}

/// The attempt an `Auth:` message reports; `Ok(None)` for messages that
/// are not login reports; `Err` for a login report cut short.
fn classify(message: &str) -> Result<Option<Attempt<'_>>, ParseError> {
    let message = strip_request_number(message);
    let Some((msg, rest)) = message.split_once(": [") else {
        let is_report = ["Login ", "Invalid user"].iter().any(|p| message.starts_with(p));
        return if is_report { Err(malformed(message)) } else { Ok(None) };
    };
    let (user_part, origin) = ["] (from client ", "] (from nas "]
        .iter()
        .filter_map(|marker| rest.rfind(marker).map(|at| (&rest[..at], &rest[at + marker.len()..])))
        .max_by_key(|(user, _)| user.len())
        .ok_or_else(|| malformed(msg))?;
    let (client, cli, tunnel) = origin_of(origin).ok_or_else(|| malformed(msg))?;
    let (action, outcome) = if msg.starts_with("Login OK") {
        ("logged-in", Outcome::Success)
    } else if msg.starts_with("Invalid user") {
        ("invalid-user", Outcome::Failure)
    } else {
        ("login-failed", Outcome::Failure)
    };
    let reason = match tunnel {
        Some(via) => format!("{msg}; {via}"),
        None => msg.to_string(),
    };
    Ok(Some(Attempt { action, outcome, reason, user: user_name(user_part), client, cli }))
}

/// The message without version 3's `(123) ` request number, and without
/// the indent some builds print after it (`(189650)   Login OK: ...`).
fn strip_request_number(message: &str) -> &str {
    let Some(rest) = message.strip_prefix('(') else { return message };
    match rest.split_once(") ") {
        Some((number, after)) if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => {
            after.trim_start_matches(' ')
        }
        _ => message,
    }
}

/// `NAS port N[ cli CLI][ via ...])[ EXTRA]` → NAS, CLI and the `via`
/// note. The last `)` closes it (the Calling-Station-Id is the client's to
/// choose, the extra message is the administrator's).
fn origin_of(origin: &str) -> Option<(&str, Option<&str>, Option<&'static str>)> {
    let (client, rest) = origin.split_once(" port ")?;
    let inner = &rest[..rest.rfind(')')?];
    let (port, mut tail) = inner.split_once(' ').unwrap_or((inner, ""));
    if client.is_empty() || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut tunnel = None;
    for via in ["via TLS tunnel", "via proxy to virtual server"] {
        if let Some(before) = tail.strip_suffix(via) {
            tail = before.trim_end_matches(' ');
            tunnel = Some(via);
        }
    }
    let cli = match tail.strip_prefix("cli ") {
        Some(cli) => Some(cli),
        None if tail.is_empty() => None,
        None => return None,
    };
    Some((client, cli.filter(|cli| !cli.is_empty()), tunnel))
}

/// The user name from `USER` or `USER/PASSWORD`, never the password (see
/// the module documentation); `None` for `<no User-Name attribute>`.
fn user_name(part: &str) -> Option<&str> {
    if part.is_empty() || part == "<no User-Name attribute>" {
        return None;
    }
    if let Some((user, placeholder)) = part.rsplit_once('/') {
        if placeholder.starts_with('<') && placeholder.ends_with('>') {
            return (!user.is_empty()).then_some(user);
        }
    }
    let machine = part.get(..5).filter(|p| p.eq_ignore_ascii_case("host/")).map_or(0, str::len);
    let user = match part[machine..].find('/') {
        Some(slash) => &part[..machine + slash],
        None => part,
    };
    (!user.is_empty()).then_some(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::{ctx, parse_lines};

    fn one(line: &str) -> Event {
        let mut events = parse_lines(&mut RadiusParser, &[line]).unwrap();
        assert_eq!(events.len(), 1, "{line}");
        events.remove(0)
    }

    fn auth(message: &str) -> Event {
        one(&format!("Wed Mar  4 10:42:00 2026 : Auth: {message}"))
    }

    /// Action, outcome, user, NAS, MAC, reason.
    type Summary<'a> = (&'a str, Outcome, Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<&'a str>);

    fn summary(e: &Event) -> Summary<'_> {
        (
            e.action.as_str(),
            e.outcome,
            e.user_name.as_deref(),
            e.host_name.as_deref(),
            e.source_mac.as_deref(),
            e.reason.as_deref(),
        )
    }

    #[test]
    fn successful_login_fills_every_field() {
        let line =
            "Wed Mar  4 10:42:00 2026 : Auth: (123) Login OK: [jbloggs] (from client wifi-ap1 port 0 cli 3C-22-FB-01-02-03)";
        let e = one(line);
        assert_eq!(
            summary(&e),
            (
                "logged-in",
                Outcome::Success,
                Some("jbloggs"),
                Some("wifi-ap1"),
                Some("3c:22:fb:01:02:03"),
                Some("Login OK")
            )
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2026-03-04T10:42:00+00:00");
        assert_eq!(
            (e.kind, e.observer_product.as_str(), e.log_format.as_str()),
            (EventKind::Auth, "freeradius", "radius")
        );
        assert_eq!((e.source_ip, e.source_port, e.code), (None, None, None));
        assert_eq!(e.message, line);
        let c = ctx();
        assert_eq!(e.id, Event::derive_id(c.tenant, c.source, c.offset, line.as_bytes()));
    }

    #[test]
    fn failures_keep_the_module_reason() {
        let e = auth("(124) Login incorrect (mschap: MS-CHAP2-Response is incorrect): [jbloggs/<via Auth-Type = eap>] (from client wifi-ap1 port 1 cli 3c22.fb01.0203 via TLS tunnel)");
        assert_eq!(
            summary(&e),
            (
                "login-failed",
                Outcome::Failure,
                Some("jbloggs"),
                Some("wifi-ap1"),
                Some("3c:22:fb:01:02:03"),
                Some("Login incorrect (mschap: MS-CHAP2-Response is incorrect); via TLS tunnel")
            )
        );
        let e = auth("(7) Login incorrect (Home Server says so): [pupil@school.example] (from client eduroam-flr port 0 cli 3c22fb010203 via proxy to virtual server)");
        assert_eq!(e.reason.as_deref(), Some("Login incorrect (Home Server says so); via proxy to virtual server"));
        assert_eq!(e.user_name.as_deref(), Some("pupil@school.example"));
        let e = auth(
            "(8) Invalid user (rlm_ldap: User not found): [nobody] (from client sw1 port 12 cli 3c-22-fb-01-02-03)",
        );
        assert_eq!((e.action.as_str(), e.outcome), ("invalid-user", Outcome::Failure));
        let e = auth("(9) Multiple logins (max 1) [MPP attempt]: [jbloggs] (from client vpn port 5 cli 203.0.113.9)");
        assert_eq!(
            (e.action.as_str(), e.source_ip.as_deref(), e.source_mac),
            ("login-failed", Some("203.0.113.9"), None)
        );
    }

    #[test]
    fn an_indent_after_the_request_number_does_not_turn_a_login_into_a_failure() {
        let e = auth("(189650)   Login OK: [SCHOOL\\j.bloggs] (from client sw-access-01 port 65551 cli AA:BB:CC:DD:EE:FF via TLS tunnel)");
        assert_eq!(
            summary(&e),
            (
                "logged-in",
                Outcome::Success,
                Some("SCHOOL\\j.bloggs"),
                Some("sw-access-01"),
                Some("aa:bb:cc:dd:ee:ff"),
                Some("Login OK; via TLS tunnel")
            )
        );
        let e = auth("(530)  Login incorrect (mschap: Program returned code (5) and output ''): [SCHOOL\\j.bloggs] (from client sw-access-01 port 65551 cli aa-bb-cc-dd-ee-ff)");
        assert_eq!(
            (e.action.as_str(), e.reason.as_deref()),
            ("login-failed", Some("Login incorrect (mschap: Program returned code (5) and output '')"))
        );
    }

    #[test]
    fn older_shape_without_request_number_or_cli() {
        let e = one("Mon Mar  4 10:42:00 2024 : Auth: Login OK: [jbloggs] (from client wifi-ap1 port 0)");
        assert_eq!(
            summary(&e),
            ("logged-in", Outcome::Success, Some("jbloggs"), Some("wifi-ap1"), None, Some("Login OK"))
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2024-03-04T10:42:00+00:00");
        let e = one(
            "Mon Mar  4 10:42:00 2024 : Auth: Login incorrect: [jbloggs] (from nas 10.0.0.2 port 7 cli 3C22FB010203)",
        );
        assert_eq!(summary(&e).0, "login-failed");
        assert_eq!(e.host_name.as_deref(), Some("10.0.0.2"));
    }

    #[test]
    fn logged_passwords_never_reach_the_user_name() {
        for (logged, user) in [
            ("jbloggs/hunter2", Some("jbloggs")),
            ("jbloggs/pass/with/slashes", Some("jbloggs")),
            ("jbloggs/<via Auth-Type = eap>", Some("jbloggs")),
            ("jbloggs/<CHAP-Password>", Some("jbloggs")),
            ("jbloggs/<no User-Password attribute>", Some("jbloggs")),
            ("host/lib-pc-07.stmarys.local", Some("host/lib-pc-07.stmarys.local")),
            ("host/lib-pc-07.stmarys.local/<via Auth-Type = eap>", Some("host/lib-pc-07.stmarys.local")),
            ("host/lib-pc-07/secret", Some("host/lib-pc-07")),
            ("/secret", None),
            ("<no User-Name attribute>", None),
            ("", None),
            ("jbloggs] (from client evil port 0)/pw", Some("jbloggs] (from client evil port 0)")),
        ] {
            let e = auth(&format!("(1) Login incorrect: [{logged}] (from client ap port 0 cli 3c-22-fb-01-02-03)"));
            assert_eq!(e.user_name.as_deref(), user, "{logged}");
            assert_eq!(e.host_name.as_deref(), Some("ap"), "{logged}");
        }
    }

    #[test]
    fn other_line_types_are_kept_as_other() {
        for line in [
            "Wed Mar  4 10:42:00 2026 : Info: Ready to process requests",
            "Wed Mar  4 10:42:00 2026 : Error: (5) eap_peap: ERROR: TLS Alert read:fatal:unknown CA",
            "Wed Mar  4 10:42:00 2026 : Warning: Please use tls_min_version and tls_max_version instead of disable_tlsv1",
            "Wed Mar  4 10:42:00 2026 : Auth: (5) Ignoring duplicate packet from client ap1 port 1812",
            "Mar  4 10:42:00 nps dhcpd[1]: DHCPACK on 10.1.2.3 to 3c:22:fb:01:02:03 via eth0",
        ] {
            let e = one(line);
            assert_eq!((e.kind, e.action.as_str(), e.outcome, e.user_name), (EventKind::Auth, "other", Outcome::Unknown, None));
            assert_eq!(e.message, line);
        }
    }

    #[test]
    fn syslog_lines_of_radiusd_are_read() {
        let e = one("Mar  4 10:42:00 radius1 radiusd[812]: (5) Login OK: [jbloggs] (from client wifi-ap1 port 0 cli 3C-22-FB-01-02-03)");
        assert_eq!(summary(&e).0, "logged-in");
        assert_eq!(e.timestamp.to_rfc3339(), "2026-03-04T10:42:00+00:00");
        let e = one("Mar  4 10:42:00 radius1 radiusd[812]: Auth: Login incorrect: [x] (from client ap port 0)");
        assert_eq!(summary(&e).0, "login-failed");
        assert_eq!(one("Mar  4 10:42:00 radius1 radiusd[812]: Ready to process requests").action, "other");
    }

    #[test]
    fn hostile_content_is_kept_verbatim() {
        let line = "Wed Mar  4 10:42:00 2026 : Auth: (1) Login OK: [<img src=x onerror=alert(1)>\u{1b}[31m] (from client ap port 0 cli x) via TLS tunnel)";
        let e = one(line);
        assert_eq!(e.message, line);
        assert_eq!(e.user_name.as_deref(), Some("<img src=x onerror=alert(1)>\u{1b}[31m"));
        assert_eq!(e.source_mac, None);
    }

    #[test]
    fn lines_that_are_not_radius_are_rejected() {
        for (line, reason) in [
            ("", "does not start with a ctime"),
            (
                "1709548920.123 5 10.0.0.1 TCP_MISS/200 5120 GET http://a/ - HIER_NONE/- -",
                "does not start with a ctime",
            ),
            ("Wed Mar  4 10:42:00 2026 :", "does not start"),
            ("Wed Mar  4 10:42:00 2026 : no type here", "no `Type: `"),
            ("Tue Mar  4 10:42:00 2026 : Auth: Login OK: [a] (from client ap port 0)", "does not start"),
            ("Wed Mar  4 10:42:00 2026 : Auth: (1) Login OK", "truncated"),
            ("Wed Mar  4 10:42:00 2026 : Auth: (1) Login OK: [jbloggs", "truncated"),
            ("Wed Mar  4 10:42:00 2026 : Auth: (1) Login OK: [jbloggs] (from client ap port 0 cli 3c", "truncated"),
            ("Wed Mar  4 10:42:00 2026 : Auth: (1) Login OK: [jbloggs] (from client ap port x)", "truncated"),
            ("Wed Mar  4 10:42:00 2026 : Auth: (1) Login OK: [jbloggs] (from client ap port 0 junk)", "truncated"),
        ] {
            let got = parse_lines(&mut RadiusParser, &[line]).unwrap_err().0;
            assert!(got.contains(reason), "{line}: {got}");
        }
    }

    #[test]
    fn truncation_at_every_byte_never_panics_or_leaks() {
        let full = "Wed Mar  4 10:42:00 2026 : Auth: (124) Login incorrect (mschap: bad): [jbloggs/s3cr€t] (from client wifi-ap1 port 1 cli 3C-22-FB-01-02-03 via TLS tunnel)";
        for cut in (0..full.len()).filter(|cut| full.is_char_boundary(*cut)) {
            if let Ok(events) = parse_lines(&mut RadiusParser, &[&full[..cut]]) {
                assert!(events.iter().all(|e| e.user_name.as_deref().is_none_or(|u| !u.contains("s3"))));
            }
        }
    }
}
