//! squidGuard's logs: the request logs named by `log` in a `src`, `dest` or
//! `acl` block, and `squidGuard.log` itself (squidGuard configuration
//! documentation, <http://www.squidguard.org/Doc/configure.html>; the line is
//! built by `sgLog` and `sgLogRequest` in squidGuard's `sgLog.c`):
//!
//! ```text
//! 2024-03-04 10:42:00 [12345] Request(default/porn/-) http://www.example.com/ 10.1.2.3/- jbloggs GET REDIRECT
//! ```
//!
//! After the time and `[pid]`: `Request(source group/destination group/
//! rewrite)`, the URL, `client address/client name`, the user (`-` when
//! unknown, percent-encoded by Squid), the method and, from squidGuard 1.4,
//! the action. `REDIRECT` and `DENY` are `blocked`; `PASS` (logged with
//! `logverbose`) and `REWRITE` are `allowed`. Lines without an action (1.2,
//! 1.3) or with `-` come from the request log, which those versions only
//! wrote for redirected requests: `blocked`. The destination group is the
//! category (`unknown`, `none` and `-` mean no group). `event.reason` is the
//! `Request(…)` part and the action, verbatim.
//!
//! Other lines of `squidGuard.log` (`squidGuard 1.4 started`, `init
//! domainlist …`) become action `other`, their text the reason.
//!
//! Time rule: the local `yyyy-mm-dd hh:mm:ss` is read as UTC (run the
//! filter server in UTC).

use super::webfields::{owned, present, set_url, verdict};
use super::{LineContext, LineUse, ParseError, Parser};
use chrono::NaiveDateTime;
use percent_encoding::percent_decode_str;
use vigil_core::{Event, EventKind, Outcome};

/// Reads squidGuard log lines; stateless.
#[derive(Debug, Default)]
pub struct SquidguardParser;

fn err(what: &str) -> ParseError {
    ParseError(format!("squidguard line {what}"))
}

/// The fields after `Request(`, borrowed from the line.
struct Request<'a> {
    groups: &'a str,
    destination: &'a str,
    url: &'a str,
    client: &'a str,
    user: &'a str,
    method: &'a str,
    action: Option<&'a str>,
}

fn request(message: &str) -> Result<Request<'_>, ParseError> {
    let inner = message.strip_prefix("Request(").ok_or_else(|| err("has no Request( part"))?;
    let (groups_inner, rest) = inner.split_once(") ").ok_or_else(|| err("has no `)` after the groups"))?;
    let mut names = groups_inner.splitn(3, '/');
    let (_source, destination) = (names.next(), names.next());
    let destination = destination
        .filter(|_| names.next().is_some())
        .ok_or_else(|| err("groups are not `source/destination/rewrite`"))?;
    let mut words = rest.split(' ').filter(|w| !w.is_empty());
    let mut next = |name: &str| words.next().ok_or_else(|| err(&format!("ends before the {name}")));
    let url = next("URL")?;
    let client = next("client address")?;
    let user = next("user")?;
    let method = next("method")?;
    let action = words.next();
    if words.next().is_some() {
        return Err(err("has words after the action"));
    }
    let groups = message.get(..message.len() - rest.len() - 1).unwrap_or(message);
    Ok(Request { groups, destination, url, client, user, method, action })
}

impl Parser for SquidguardParser {
    fn name(&self) -> &'static str {
        "squidguard"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let stamp = line.get(..19).ok_or_else(|| err("is too short for a `yyyy-mm-dd hh:mm:ss` time"))?;
        let timestamp = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S")
            .map_err(|_| err("does not start with a `yyyy-mm-dd hh:mm:ss` time"))?
            .and_utc();
        let after = line[19..].strip_prefix(" [").ok_or_else(|| err("has no `[pid]` after the time"))?;
        let (pid, message) = after.split_once("] ").ok_or_else(|| err("has no `] ` after the pid"))?;
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("pid is not a number"));
        }
        if !message.starts_with("Request(") {
            let mut e =
                Event::new(timestamp, EventKind::Proxy, "other", Outcome::Unknown, "squidguard", "squidguard", line);
            super::set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
            e.reason = owned(message);
            out.push(e);
            return Ok(LineUse::Event);
        }
        let r = request(message)?;
        let blocked = !matches!(r.action, Some("PASS" | "REWRITE"));
        let (action, outcome) = verdict(blocked);
        let mut e = Event::new(timestamp, EventKind::Proxy, action, outcome, "squidguard", "squidguard", line);
        super::set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        e.reason = Some(match r.action {
            Some(action) => format!("{} {action}", r.groups),
            None => r.groups.to_string(),
        });
        e.filter_category = present(r.destination).filter(|d| !matches!(*d, "unknown" | "none")).map(str::to_string);
        set_url(&mut e, r.url);
        let (ip, name) = r.client.split_once('/').unwrap_or((r.client, "-"));
        e.source_ip = owned(ip);
        e.device_name = owned(name);
        e.user_name = present(r.user).map(|u| percent_decode_str(u).decode_utf8_lossy().into_owned());
        e.http_method = owned(r.method);
        out.push(e);
        Ok(LineUse::Event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::{ctx, parse_one};
    use chrono::{TimeZone, Utc};

    fn one(line: &str) -> Event {
        parse_one(&mut SquidguardParser, line).unwrap()
    }

    const REDIRECT: &str =
        "2024-03-04 10:42:00 [12345] Request(pupils/porn/-) http://www.Example.com/page 10.1.2.3/pc7.school.local jo%20bloggs GET REDIRECT";

    #[test]
    fn redirect_reads_every_field() {
        let e = one(REDIRECT);
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap());
        assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Proxy, "blocked", Outcome::Failure));
        assert_eq!(e.reason.as_deref(), Some("Request(pupils/porn/-) REDIRECT"));
        assert_eq!(e.filter_category.as_deref(), Some("porn"));
        assert_eq!(e.url_full.as_deref(), Some("http://www.Example.com/page"));
        assert_eq!(e.url_domain.as_deref(), Some("www.example.com"));
        assert_eq!(e.source_ip.as_deref(), Some("10.1.2.3"));
        assert_eq!(e.device_name.as_deref(), Some("pc7.school.local"));
        assert_eq!(e.user_name.as_deref(), Some("jo bloggs"));
        assert_eq!(e.http_method.as_deref(), Some("GET"));
        assert_eq!((e.observer_product.as_str(), e.log_format.as_str()), ("squidguard", "squidguard"));
        assert_eq!(e.message, REDIRECT);
        let c = ctx();
        assert_eq!(e.id, Event::derive_id(c.tenant, c.source, c.offset, REDIRECT.as_bytes()));
    }

    #[test]
    fn actions_and_older_versions() {
        for (tail, action) in [
            (" GET PASS", "allowed"),
            (" GET REWRITE", "allowed"),
            (" GET DENY", "blocked"),
            (" GET -", "blocked"),
            (" GET", "blocked"),
        ] {
            let e =
                one(&format!("2024-03-04 10:42:00 [7] Request(default/none/-) www.youtube.com:443 10.0.0.9/- -{tail}"));
            assert_eq!(e.action.as_str(), action, "{tail}");
            assert_eq!((e.filter_category.as_ref(), e.user_name.as_ref(), e.device_name.as_ref()), (None, None, None));
            assert_eq!(e.url_domain.as_deref(), Some("www.youtube.com"));
        }
        let e = one("2024-03-04 10:42:00 [7] Request(default/in-addr/-) http://1.2.3.4/ 10.0.0.9/- - CONNECT REDIRECT");
        assert_eq!(e.filter_category.as_deref(), Some("in-addr"));
        let e = one("2024-03-04 10:42:00 [7] Request(default/search/safesearch) http://www.google.com/search?q=knife 10.0.0.9/- - GET REWRITE");
        assert_eq!(e.search_query.as_deref(), Some("knife"));
    }

    #[test]
    fn the_programs_own_lines_are_other() {
        let e = one("2024-03-04 10:41:58 [12345] squidGuard 1.4 started (1709548918.123)");
        assert_eq!((e.action.as_str(), e.outcome), ("other", Outcome::Unknown));
        assert_eq!(e.reason.as_deref(), Some("squidGuard 1.4 started (1709548918.123)"));
    }

    #[test]
    fn hostile_content_is_kept_verbatim() {
        let line = "2024-03-04 10:42:00 [1] Request(default/porn/-) http://x.example/<script>\u{1b}[2J 10.0.0.1/- %3Cb%3E\u{7} GET REDIRECT";
        let e = one(line);
        assert_eq!(e.message, line);
        assert_eq!(e.user_name.as_deref(), Some("<b>\u{7}"));
    }

    #[test]
    fn truncated_lines_are_errors_or_events_and_never_panic() {
        for cut in 0..=REDIRECT.len() {
            let Some(prefix) = REDIRECT.get(..cut) else { continue };
            let mut out = Vec::new();
            match SquidguardParser.parse(prefix, &ctx(), &mut out) {
                Ok(_) => assert_eq!(out.len(), 1, "{prefix:?}"),
                Err(_) => assert!(out.is_empty()),
            }
        }
    }

    #[test]
    fn other_formats_are_rejected_with_a_reason() {
        for (line, why) in [
            ("", "too short"),
            ("Mar  4 10:42:00 gate sshd[1]: Accepted password for a from 10.0.0.1 port 22 ssh2", "time"),
            ("1709548920.123 145 10.1.2.3 TCP_MISS/200 5120 GET http://a/ - HIER_DIRECT/1.2.3.4 text/html", "time"),
            ("2024-03-04 10:42:00 12345 Request(a/b/c) u 1/- - GET", "[pid]"),
            ("2024-03-04 10:42:00 [12x] Request(a/b/c) u 1/- - GET", "pid"),
            ("2024-03-04 10:42:00 [1] Request(a/b) u 1/- - GET", "source/destination/rewrite"),
            ("2024-03-04 10:42:00 [1] Request(a/b/c)", ")"),
            ("2024-03-04 10:42:00 [1] Request(a/b/c) u 1/-", "user"),
            ("2024-03-04 10:42:00 [1] Request(a/b/c) u 1/- - GET PASS extra", "after the action"),
        ] {
            let e = SquidguardParser.parse(line, &ctx(), &mut Vec::new()).unwrap_err();
            assert!(e.0.contains(why), "{line:?}: {e}");
        }
    }
}
