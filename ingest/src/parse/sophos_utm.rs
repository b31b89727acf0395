//! Sophos UTM (9.x) Web Protection log lines of the `httpproxy` program,
//! from the appliance's own `http.log` or sent by remote syslog:
//!
//! ```text
//! 2024:03:04-10:42:00 utm1 httpproxy[6267]: id="0001" severity="info" sys="SecureWeb" sub="http" name="http access" action="pass" method="GET" srcip="10.1.2.3" dstip="93.184.216.34" user="jbloggs" group="Pupils" ad_domain="SCHOOL" statuscode="200" cached="0" profile="REF_HttProContaInterNetwo" filteraction="REF_HttCffPupils" size="1234" request="0x7f2a3c0" url="https://www.example.com/" referer="https://www.google.com/" error="" authtime="0" dnstime="1" cattime="170" avscantime="0" fullreqtime="32181" device="0" auth="2" ua="Mozilla/5.0 …" exceptions="" category="105" reputation="trusted" categoryname="Search Engines" content-type="text/html"
//! ```
//!
//! The fields are those of the Sophos UTM Web Protection log (Sophos UTM
//! administration guide, "Logging and Reporting"; Sophos knowledge base
//! article "Sophos UTM: Web Protection log fields"): `action` is `pass`
//! (`allowed`), `block` (`blocked`) or `warn` (`blocked`: the user got the
//! warning page instead; a later `id="0072"` "Contentfilter warned and
//! proceeded" line with no action is the click-through, `allowed`).
//! `event.reason` is `name` (`web request blocked, forbidden category
//! detected`) with the `reason` field (`category`, `extension`, `av`…) in
//! brackets. `categoryname` may repeat one name per matched rule
//! (`Business,Business`); repeats are dropped. `fullreqtime` is in
//! microseconds. `httpproxy` lines reporting no request (errors, id
//! `0003`) and the lines of other UTM programs become action `other`.
//!
//! Time rule: the header's time — the UTM's own `2024:03:04-10:42:00` or a
//! syslog header (see [`syslog`](super::syslog)) — read as UTC when it has
//! no zone. A leading `<PRI>` is skipped.

use super::kv::{self, Pairs};
use super::webfields::{number, set_url, strip_priority, verdict};
use super::{syslog, LineContext, LineUse, ParseError, Parser};
use chrono::NaiveDateTime;
use vigil_core::{Event, EventKind, Outcome};

/// Reads Sophos UTM `httpproxy` lines; stateless.
#[derive(Debug, Default)]
pub struct SophosUtmParser;

fn err(what: &str) -> ParseError {
    ParseError(format!("sophos-utm line {what}"))
}

/// The header of a UTM log line: its own `yyyy:mm:dd-hh:mm:ss host
/// prog[pid]: ` or a syslog one.
fn header<'a>(line: &'a str, ctx: &LineContext<'_>) -> Result<syslog::SyslogLine<'a>, ParseError> {
    let line = strip_priority(line);
    let Some((stamp, rest)) = line.split_once(' ').filter(|(s, _)| s.len() >= 14 && s.as_bytes()[4] == b':') else {
        return syslog::parse(line, ctx.now).map_err(|e| ParseError(format!("sophos-utm line: {e}")));
    };
    let timestamp = NaiveDateTime::parse_from_str(stamp, "%Y:%m:%d-%H:%M:%S")
        .map_err(|_| err("time is not yyyy:mm:dd-hh:mm:ss"))?
        .and_utc();
    let (host, rest) = rest.split_once(' ').ok_or_else(|| err("has no host name after the time"))?;
    let (tag, message) = rest.split_once(' ').unwrap_or((rest, ""));
    let program = syslog::tag_program(tag)
        .filter(|p| !p.is_empty() && !host.is_empty())
        .ok_or_else(|| err("has no `program[pid]:` tag after the host name"))?;
    Ok(syslog::SyslogLine { timestamp, host: Some(host), program, message })
}

/// `pass`, `block`, `warn`, or the warned-and-proceeded notice.
fn request_verdict(kv: &Pairs<'_>) -> Option<(&'static str, Outcome)> {
    match kv.get("action") {
        Some("pass") => Some(verdict(false)),
        Some("block" | "warn") => Some(verdict(true)),
        Some(_) => Some(("other", Outcome::Unknown)),
        None if kv.get("id") == Some("0072") => Some(verdict(false)),
        None => None,
    }
}

/// `Business,Business,News` → `Business,News`.
fn categories(names: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen.join(",")
}

impl Parser for SophosUtmParser {
    fn name(&self) -> &'static str {
        "sophos-utm"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let sys = header(line, ctx)?;
        if sys.program != "httpproxy" {
            out.push(super::other_syslog_event(EventKind::Proxy, &sys, "sophos-utm", line, ctx));
            return Ok(LineUse::Event);
        }
        let kv = kv::parse(sys.message).map_err(|e| ParseError(format!("sophos-utm httpproxy line: {e}")))?;
        if kv.get("sys").is_none() && kv.get("id").is_none() {
            return Err(err("is an httpproxy line without id= or sys= fields"));
        }
        let (action, outcome) = request_verdict(&kv).unwrap_or(("other", Outcome::Unknown));
        let mut e = Event::new(sys.timestamp, EventKind::Proxy, action, outcome, "sophos-utm", "sophos-utm", line);
        super::set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        let text = |key: &str| kv.non_empty(key).map(str::to_string);
        e.host_name = sys.host.map(str::to_string);
        e.reason = match (kv.non_empty("name").or(kv.non_empty("message")), kv.non_empty("reason")) {
            (Some(name), Some(why)) => Some(format!("{name} ({why})")),
            (Some(name), None) => Some(name.to_string()),
            (None, why) => why.map(str::to_string),
        };
        e.code = text("id");
        e.source_ip = text("srcip");
        e.destination_ip = text("dstip");
        e.user_name = text("user").filter(|u| u != "-");
        e.user_domain = text("ad_domain");
        e.http_method = text("method");
        e.http_status = number::<u16>(kv.get("statuscode").unwrap_or(""), "sophos-utm statuscode")?.filter(|s| *s != 0);
        e.http_bytes = number(kv.get("size").unwrap_or(""), "sophos-utm size")?;
        e.http_mime_type = text("content-type");
        e.http_referrer = text("referer");
        e.user_agent = text("ua");
        e.duration_ms =
            number::<u64>(kv.get("fullreqtime").unwrap_or(""), "sophos-utm fullreqtime")?.map(|us| us / 1000);
        e.filter_category = kv.non_empty("categoryname").map(categories).filter(|c| !c.is_empty());
        if let Some(url) = kv.non_empty("url") {
            set_url(&mut e, url);
        }
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
        parse_one(&mut SophosUtmParser, line).unwrap()
    }

    const PASS: &str = r#"2024:03:04-10:42:00 utm1 httpproxy[6267]: id="0001" severity="info" sys="SecureWeb" sub="http" name="http access" action="pass" method="GET" srcip="10.1.2.3" dstip="142.250.1.1" user="jbloggs" group="Pupils" ad_domain="SCHOOL" statuscode="200" cached="0" profile="REF_HttProContaInterNetwo" filteraction="REF_HttCffPupils" size="5120" request="0x7fad9e44ac00" url="https://www.google.co.uk/search?q=how+to+make+a+bomb" referer="https://www.google.co.uk/" error="" authtime="0" dnstime="5" aptptime="0" cattime="200" avscantime="0" fullreqtime="32181" device="0" auth="2" ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64)" exceptions="" category="105" reputation="trusted" categoryname="Search Engines" content-type="text/html""#;

    #[test]
    fn pass_reads_every_field() {
        let e = one(PASS);
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap());
        assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Proxy, "allowed", Outcome::Success));
        assert_eq!(e.reason.as_deref(), Some("http access"));
        assert_eq!(e.code.as_deref(), Some("0001"));
        assert_eq!(e.host_name.as_deref(), Some("utm1"));
        assert_eq!(e.source_ip.as_deref(), Some("10.1.2.3"));
        assert_eq!(e.destination_ip.as_deref(), Some("142.250.1.1"));
        assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("jbloggs"), Some("SCHOOL")));
        assert_eq!(e.http_method.as_deref(), Some("GET"));
        assert_eq!((e.http_status, e.http_bytes), (Some(200), Some(5120)));
        assert_eq!(e.http_mime_type.as_deref(), Some("text/html"));
        assert_eq!(e.http_referrer.as_deref(), Some("https://www.google.co.uk/"));
        assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"));
        assert_eq!(e.duration_ms, Some(32));
        assert_eq!(e.filter_category.as_deref(), Some("Search Engines"));
        assert_eq!(e.url_domain.as_deref(), Some("www.google.co.uk"));
        assert_eq!(e.search_query.as_deref(), Some("how to make a bomb"));
        assert_eq!((e.observer_product.as_str(), e.log_format.as_str()), ("sophos-utm", "sophos-utm"));
        assert_eq!(e.message, PASS);
        let c = ctx();
        assert_eq!(e.id, Event::derive_id(c.tenant, c.source, c.offset, PASS.as_bytes()));
    }

    #[test]
    fn block_and_warn_are_blocked_with_the_reason() {
        let block = r#"<30>Mar  4 10:42:00 utm1 httpproxy[6267]: id="0060" severity="info" sys="SecureWeb" sub="http" name="web request blocked, forbidden category detected" action="block" method="GET" srcip="10.1.2.3" dstip="1.2.3.4" user="" statuscode="403" size="4764" url="http://www.bad.example/" fullreqtime="1499" category="141,141" categoryname="Pornography,Pornography,Nudity" reason="category""#;
        let e = one(block);
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2026, 3, 4, 10, 42, 0).unwrap());
        assert_eq!((e.action.as_str(), e.outcome), ("blocked", Outcome::Failure));
        assert_eq!(e.reason.as_deref(), Some("web request blocked, forbidden category detected (category)"));
        assert_eq!(e.filter_category.as_deref(), Some("Pornography,Nudity"));
        assert_eq!((e.user_name.as_ref(), e.duration_ms), (None, Some(1)));
        let warn = r#"2024-03-04T10:42:00+01:00 utm1 httpproxy[6267]: id="0071" sys="SecureWeb" name="web request warned, forbidden category detected" action="warn" method="OPTIONS" url="https://x.example/" reason="category" categoryname="Uncategorized""#;
        let e = one(warn);
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 9, 42, 0).unwrap());
        assert_eq!(e.action.as_str(), "blocked");
        let proceeded = r#"2024:03:04-10:43:00 utm1 httpproxy[6267]: id="0072" severity="info" sys="SecureWeb" sub="http" name="Contentfilter warned and proceeded" url="https://x.example/" srcip="10.1.2.3" category="9998" categoryname="Uncategorized""#;
        let e = one(proceeded);
        assert_eq!((e.action.as_str(), e.reason.as_deref()), ("allowed", Some("Contentfilter warned and proceeded")));
    }

    #[test]
    fn errors_and_other_programs_are_other() {
        let e = one(
            r#"2024:03:04-10:42:00 utm1 httpproxy[6267]: id="0003" severity="info" sys="SecureWeb" sub="http" request="0x7fadb4088d00" function="ssl_raw_read" file="ssl.c" line="1012" message="SSL_ERROR_SYSCALL: ret=-1 error=Broken pipe""#,
        );
        assert_eq!((e.action.as_str(), e.outcome), ("other", Outcome::Unknown));
        assert_eq!(e.reason.as_deref(), Some("SSL_ERROR_SYSCALL: ret=-1 error=Broken pipe"));
        let e =
            one("2024:03:04-10:42:00 utm1 ulogd[5]: id=\"2001\" severity=\"info\" sys=\"SecureNet\" action=\"drop\"");
        assert_eq!((e.action.as_str(), e.observer_product.as_str()), ("other", "ulogd"));
    }

    #[test]
    fn hostile_content_is_kept_verbatim() {
        let line = "2024:03:04-10:42:00 utm1 httpproxy[1]: id=\"0001\" action=\"pass\" user=\"<b>\u{7}</b>\" url=\"http://x.example/<script>\" ua=\"\u{1b}[2J\\\"q\\\"\"";
        let e = one(line);
        assert_eq!(e.message, line);
        assert_eq!(e.user_name.as_deref(), Some("<b>\u{7}</b>"));
        assert_eq!(e.user_agent.as_deref(), Some("\u{1b}[2J\"q\""));
    }

    #[test]
    fn truncated_lines_are_errors_or_events_and_never_panic() {
        for cut in 0..=PASS.len() {
            let Some(prefix) = PASS.get(..cut) else { continue };
            let mut out = Vec::new();
            match SophosUtmParser.parse(prefix, &ctx(), &mut out) {
                Ok(_) => assert_eq!(out.len(), 1, "{prefix:?}"),
                Err(_) => assert!(out.is_empty()),
            }
        }
    }

    #[test]
    fn other_formats_are_rejected_with_a_reason() {
        for (line, why) in [
            ("", "syslog timestamp"),
            ("1709548920.123 145 10.1.2.3 TCP_MISS/200 5120 GET http://a/ - HIER_DIRECT/1.2.3.4 text/html", "syslog"),
            ("2024:13:04-10:42:00 utm1 httpproxy[1]: id=\"1\"", "yyyy:mm:dd"),
            ("2024:03:04-10:42:00 utm1", "host"),
            ("2024:03:04-10:42:00 utm1 notatag id=1", "tag"),
            ("2024:03:04-10:42:00 utm1 httpproxy[1]: hello world", "key=value"),
            ("2024:03:04-10:42:00 utm1 httpproxy[1]: a=\"b", "not closed"),
            ("2024:03:04-10:42:00 utm1 httpproxy[1]: a=b", "id="),
            ("2024:03:04-10:42:00 utm1 httpproxy[1]: id=\"1\" size=\"big\"", "size"),
        ] {
            let e = SophosUtmParser.parse(line, &ctx(), &mut Vec::new()).unwrap_err();
            assert!(e.0.contains(why), "{line:?}: {e}");
        }
    }
}
