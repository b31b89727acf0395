//! Squid's native `access.log` format:
//!
//! ```text
//! %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt
//! 1709548920.123    145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html
//! ```
//!
//! Fields are separated by one or more spaces (a tab, as some relays and
//! custom `logformat`s write, separates too). `-` means absent in any
//! field. Fields after the tenth (some sites append a referrer or user agent)
//! are ignored. The client field is an address (`%>a`), or a host name when
//! the format logs `%>A` (or `log_fqdn` is on): a name is `device.name`, not
//! `source.ip`.

use super::{ascii, search_terms, weburl, LineContext, LineUse, ParseError, Parser};
use chrono::DateTime;
use percent_encoding::percent_decode_str;
use vigil_core::{Event, EventKind, Outcome};

/// Reads Squid native access-log lines; stateless.
#[derive(Debug, Default)]
pub struct SquidParser;

/// The ten native fields, borrowed from the line.
struct Fields<'a> {
    time: &'a str,
    elapsed: &'a str,
    client: &'a str,
    result: &'a str,
    size: &'a str,
    method: &'a str,
    url: &'a str,
    user: &'a str,
    mime: &'a str,
}

impl<'a> Fields<'a> {
    fn split(line: &'a str) -> Result<Self, ParseError> {
        let mut it = SpaceSeparated::new(line);
        let mut next =
            |name: &str| it.next().ok_or_else(|| ParseError(format!("squid line ends before the {name} field")));
        let time = next("time")?;
        let elapsed = next("elapsed")?;
        let client = next("client address")?;
        let result = next("result code")?;
        let size = next("size")?;
        let method = next("method")?;
        let url = next("URL")?;
        let user = next("user")?;
        let _hierarchy = next("hierarchy")?;
        let mime = next("content type")?;
        Ok(Fields { time, elapsed, client, result, size, method, url, user, mime })
    }
}

/// The non-empty runs between spaces or tabs, found with one SIMD scan of the line
/// (the hot loop of proxy ingest; `split_ascii_whitespace` is several times
/// slower here).
struct SpaceSeparated<'a> {
    line: &'a str,
    start: usize,
    spaces: memchr::Memchr2<'a>,
}

impl<'a> SpaceSeparated<'a> {
    fn new(line: &'a str) -> Self {
        SpaceSeparated { line, start: 0, spaces: memchr::memchr2_iter(b' ', b'\t', line.as_bytes()) }
    }
}

impl<'a> Iterator for SpaceSeparated<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            let start = self.start;
            let end = match self.spaces.next() {
                Some(space) => space,
                None if start < self.line.len() => self.line.len(),
                None => return None,
            };
            self.start = end + 1;
            if end > start {
                // Both ends are at a space or the line's end: char boundaries.
                return self.line.get(start..end);
            }
        }
    }
}

impl Parser for SquidParser {
    fn name(&self) -> &'static str {
        "squid"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let f = Fields::split(line)?;
        let timestamp = epoch_millis(f.time)
            .and_then(DateTime::from_timestamp_millis)
            .ok_or_else(|| ParseError("squid time is not `seconds.millis` since the epoch".into()))?;
        let (code_text, status_text) = ascii::split_once(f.result, b'/')
            .ok_or_else(|| ParseError("squid result is not `ACTION/status`".into()))?;
        let status: u16 = status_text.parse().map_err(|_| ParseError("squid HTTP status is not a number".into()))?;
        let blocked = code_text.as_bytes().split(|b| *b == b'_').any(|part| part == b"DENIED")
            || (code_text.starts_with("NONE") && status == 403);
        let (action, outcome) = if blocked { ("blocked", Outcome::Failure) } else { ("allowed", Outcome::Success) };

        let mut e = Event::new(timestamp, EventKind::Proxy, action, outcome, "squid", "squid", line);
        super::set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        e.reason = Some(f.result.to_string());
        e.duration_ms = number(f.elapsed, "elapsed time")?;
        match present(f.client) {
            Some(ip) if ip.parse::<std::net::IpAddr>().is_ok() => e.source_ip = Some(ip.to_string()),
            name => e.device_name = name.map(str::to_string),
        }
        e.http_status = (status != 0).then_some(status);
        e.http_bytes = number(f.size, "size")?;
        e.http_method = present(f.method).map(str::to_string);
        e.user_name = present(f.user).map(|u| percent_decode_str(u).decode_utf8_lossy().into_owned());
        e.http_mime_type = present(f.mime).map(str::to_string);
        if let Some(url) = present(f.url) {
            if let Some(parts) = weburl::split(url) {
                e.url_domain = Some(parts.host.to_ascii_lowercase());
                e.search_query = search_terms::from_parts(&parts);
            }
            e.url_full = Some(url.to_string());
        }
        out.push(e);
        Ok(LineUse::Event)
    }
}

/// `None` for Squid's `-` placeholder.
fn present(field: &str) -> Option<&str> {
    (field != "-").then_some(field)
}

/// An optional unsigned number; `-` is absent, anything else non-numeric is
/// an error naming the field.
fn number(field: &str, name: &str) -> Result<Option<u64>, ParseError> {
    present(field).map(|f| f.parse().map_err(|_| ParseError(format!("squid {name} is not a number")))).transpose()
}

/// `1709548920.123` as milliseconds since the epoch. Digits beyond the
/// third fractional one are ignored; a missing fraction reads as `.000`.
fn epoch_millis(field: &str) -> Option<i64> {
    let (secs, frac) = ascii::split_once(field, b'.').unwrap_or((field, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let millis =
        frac.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
    secs.checked_mul(1000)?.checked_add(millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::{ctx, parse_one};

    fn one(line: &str) -> Event {
        parse_one(&mut SquidParser, line).unwrap()
    }

    #[test]
    fn reads_every_field_of_a_normal_request() {
        let line = "1709548920.123    145 10.1.2.3 TCP_MISS/200 5120 GET http://Example.COM/page - HIER_DIRECT/93.184.216.34 text/html";
        let e = one(line);
        assert_eq!(e.timestamp.timestamp_millis(), 1_709_548_920_123);
        assert_eq!(e.duration_ms, Some(145));
        assert_eq!(e.source_ip.as_deref(), Some("10.1.2.3"));
        assert_eq!((e.action.as_str(), e.outcome), ("allowed", Outcome::Success));
        assert_eq!(e.reason.as_deref(), Some("TCP_MISS/200"));
        assert_eq!(e.http_status, Some(200));
        assert_eq!(e.http_bytes, Some(5120));
        assert_eq!(e.http_method.as_deref(), Some("GET"));
        assert_eq!(e.url_full.as_deref(), Some("http://Example.COM/page"));
        assert_eq!(e.url_domain.as_deref(), Some("example.com"));
        assert_eq!(e.user_name, None);
        assert_eq!(e.http_mime_type.as_deref(), Some("text/html"));
        assert_eq!((e.kind, e.observer_product.as_str(), e.log_format.as_str()), (EventKind::Proxy, "squid", "squid"));
        assert_eq!(e.message, line);
        let c = ctx();
        assert_eq!(e.id, Event::derive_id(c.tenant, c.source, c.offset, line.as_bytes()));
        assert_eq!(
            (e.tenant.as_str(), e.log_source.as_deref(), e.log_offset),
            (c.tenant.as_str(), Some(c.source.as_str()), Some(c.offset))
        );
    }

    #[test]
    fn connect_tunnels_from_ipv6_clients_with_users() {
        let e = one("1709548920.000  60012 2001:db8::42 TCP_TUNNEL/200 81234 CONNECT www.YouTube.com:443 jo%20bloggs HIER_DIRECT/142.250.1.1 -");
        assert_eq!(e.source_ip.as_deref(), Some("2001:db8::42"));
        assert_eq!(e.url_domain.as_deref(), Some("www.youtube.com"));
        assert_eq!(e.url_full.as_deref(), Some("www.YouTube.com:443"));
        assert_eq!(e.user_name.as_deref(), Some("jo bloggs"));
        assert_eq!(e.http_mime_type, None);
        let e = one("1709548920.000 5 ::1 TCP_TUNNEL/200 10 CONNECT [2001:db8::1]:443 - HIER_DIRECT/2001:db8::1 -");
        assert_eq!(e.url_domain.as_deref(), Some("2001:db8::1"));
    }

    #[test]
    fn denials_are_blocked_failures_but_origin_errors_are_allowed() {
        for (result, blocked) in [
            ("TCP_DENIED/403", true),
            ("TCP_DENIED/407", true),
            ("TCP_DENIED_REPLY/403", true),
            ("UDP_DENIED/000", true),
            ("NONE_NONE/403", true),
            ("NONE/403", true),
            ("TCP_MISS/403", false),
            ("TCP_MISS/404", false),
            ("TCP_MISS/503", false),
            ("NONE_NONE/400", false),
        ] {
            let e =
                one(&format!("1709548920.5 0 10.0.0.9 {result} 3800 GET http://bad.example/ - HIER_NONE/- text/html"));
            let expected = if blocked { ("blocked", Outcome::Failure) } else { ("allowed", Outcome::Success) };
            assert_eq!((e.action.as_str(), e.outcome), expected, "{result}");
            assert_eq!(e.reason.as_deref(), Some(result));
        }
    }

    #[test]
    fn dashes_mean_absent_and_pseudo_urls_have_no_domain() {
        let e = one("1709548920.5 - - NONE_NONE/000 - - error:transaction-end-before-headers - HIER_NONE/- -");
        assert_eq!(e.duration_ms, None);
        assert_eq!(e.source_ip, None);
        assert_eq!(e.http_status, None);
        assert_eq!(e.http_bytes, None);
        assert_eq!(e.http_method, None);
        assert_eq!(e.url_domain, None);
        assert_eq!(e.url_full.as_deref(), Some("error:transaction-end-before-headers"));
        let e = one("1709548920.5 0 10.0.0.1 TCP_MISS/200 0 GET - - HIER_NONE/- -");
        assert_eq!(e.url_full, None);
    }

    #[test]
    fn client_host_names_are_device_names_and_tabs_separate_fields() {
        // `logformat squid … %>A …` (or log_fqdn on) logs the client's name.
        let e = one("1709548920.123    145 pc7.school.example TCP_MISS/200 5120 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html");
        assert_eq!((e.source_ip, e.device_name.as_deref()), (None, Some("pc7.school.example")));
        let e = one("1709548920.123\t145 192.0.2.7 TCP_MISS/200 10 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html");
        assert_eq!((e.source_ip.as_deref(), e.duration_ms), (Some("192.0.2.7"), Some(145)));
        assert_eq!(e.http_mime_type.as_deref(), Some("text/html"));
        let e = one(
            "1709548920.123 145 ::ffff:192.0.2.7 TCP_MISS/200 10 GET http://example.com/ - HIER_DIRECT/93.184.216.34 -",
        );
        assert_eq!((e.source_ip.as_deref(), e.device_name), (Some("::ffff:192.0.2.7"), None));
    }

    #[test]
    fn shapes_seen_in_real_squid_3_to_6_logs() {
        // ssl_bump: the CONNECT is answered 200, then the bumped request denied.
        let e = one("1709548920.294      0 192.0.2.1 TCP_DENIED/200 0 CONNECT www.youtube.com:443 - HIER_NONE/- -");
        assert_eq!((e.action.as_str(), e.url_domain.as_deref()), ("blocked", Some("www.youtube.com")));
        // A peeked connection the client dropped: no status, not a block.
        let e = one("1709548920.000 1 192.0.2.1 NONE_NONE/000 0 CONNECT 198.51.100.46:443 - HIER_NONE/- -");
        assert_eq!((e.action.as_str(), e.http_status), ("allowed", None));
        assert_eq!(e.url_domain.as_deref(), Some("198.51.100.46"));
        let e = one("1709548920.818    405 192.0.2.1 TCP_TUNNEL/200 531655 CONNECT www.youtube.com:443 jo.pupil HIER_DIRECT/198.51.100.148 -");
        assert_eq!((e.action.as_str(), e.http_bytes), ("allowed", Some(531_655)));
        assert_eq!(e.user_name.as_deref(), Some("jo.pupil"));
        // Parent caches in the hierarchy field; aborted transfers; Windows users.
        let e = one("1709548920.140  43001 192.0.2.28 TCP_MISS_ABORTED/000 0 GET http://www.example.com/a.jpg SCHOOL\\jbloggs TIMEOUT_DEFAULT_PARENT/proxy.example.net -");
        assert_eq!((e.action.as_str(), e.http_status), ("allowed", None));
        assert_eq!(e.user_name.as_deref(), Some("SCHOOL\\jbloggs"));
        assert_eq!(e.reason.as_deref(), Some("TCP_MISS_ABORTED/000"));
        let e = one("1709548920.709      4 192.0.2.124 TCP_DENIED/403 1119 GET http://upgrade.example.com/fcgi-bin/upgrade.fcgi? - NONE/- -");
        assert_eq!((e.action.as_str(), e.http_status), ("blocked", Some(403)));
    }

    #[test]
    fn search_terms_are_extracted() {
        let e = one("1709548920.5 31 10.0.0.7 TCP_MISS/200 900 GET http://www.google.co.uk/search?q=how+to+buy+a+knife pupil1 HIER_DIRECT/1.1.1.1 text/html");
        assert_eq!(e.search_query.as_deref(), Some("how to buy a knife"));
    }

    #[test]
    fn hostile_content_is_kept_verbatim() {
        let line = "1709548920.5 1 10.0.0.1 TCP_MISS/200 1 GET http://x.example/<script>alert(1)</script>\u{1b}[2J %3Cb%3E\u{7} HIER_DIRECT/1.1.1.1 text/html";
        let e = one(line);
        assert_eq!(e.message, line);
        assert_eq!(e.user_name.as_deref(), Some("<b>\u{7}"));
    }

    #[test]
    fn truncated_and_malformed_lines_are_errors() {
        let full =
            "1709548920.123    145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - HIER_DIRECT/1.2.3.4 text/html";
        for cut in 0..full.len() - "text/html".len() {
            let mut out = Vec::new();
            assert!(SquidParser.parse(&full[..cut], &ctx(), &mut out).is_err(), "{:?}", &full[..cut]);
            assert!(out.is_empty());
        }
        for bad in [
            "17095x8920.1 1 10.0.0.1 TCP_MISS/200 1 GET http://a/ - HIER_NONE/- -",
            "-1.5 1 10.0.0.1 TCP_MISS/200 1 GET http://a/ - HIER_NONE/- -",
            "99999999999999999999.1 1 10.0.0.1 TCP_MISS/200 1 GET http://a/ - HIER_NONE/- -",
            "1709548920.1 1 10.0.0.1 TCP_MISS 1 GET http://a/ - HIER_NONE/- -",
            "1709548920.1 1 10.0.0.1 TCP_MISS/2x0 1 GET http://a/ - HIER_NONE/- -",
            "1709548920.1 fast 10.0.0.1 TCP_MISS/200 1 GET http://a/ - HIER_NONE/- -",
            "Mar  4 10:42:00 gate sshd[1]: Accepted password for a from 10.0.0.1 port 22 ssh2",
        ] {
            assert!(SquidParser.parse(bad, &ctx(), &mut Vec::new()).is_err(), "{bad}");
        }
    }
}
