//! The NCSA combined log format, as written by Apache httpd
//! (`LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\"" combined`,
//! <https://httpd.apache.org/docs/2.4/logs.html#combined>), nginx's default
//! `combined` format (<https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format>)
//! and Squid's `logformat combined`
//! (<https://www.squid-cache.org/Doc/config/logformat/>), which appends the
//! Squid result `%Ss:%Sh`:
//!
//! ```text
//! 10.1.2.3 - jbloggs [04/Mar/2024:10:42:00 +0000] "GET http://example.com/ HTTP/1.1" 200 5120 "-" "Mozilla/5.0" TCP_MISS:HIER_DIRECT
//! ```
//!
//! The common log format (no referrer and user agent) is read too, and
//! fields after the user agent other than the Squid result are ignored.
//!
//! Rules chosen:
//! - `-` is absent in any field; `%b` of `-` means no body.
//! - The three words before the time are `%h %l %u`. Words before them are a
//!   prefix: Apache's `vhost_combined` / `vhost_common` (`%v:%p %h …`,
//!   <https://httpd.apache.org/docs/2.4/logs.html#virtualhost>) or an nginx
//!   `$host` — its first word, without the port, is the `url.domain` of a
//!   web request whose target is a path. A `%h` that is a comma-separated
//!   list (`%{X-Forwarded-For}i` logged in its place) is read as the original
//!   client: the list's first entry. `%h` that is not an address (`HostnameLookups
//!   On`) is `device.name`; `addr:port` gives its address.
//! - Bare numbers between the size and the referrer (a custom format's `%D`
//!   or `%O`) are skipped, and anything unquoted after the size ends the
//!   line's known fields (the common format with more appended).
//! - Quoted fields may hold `\"` (Apache's escape; nginx writes `\x22`);
//!   `\"` and `\\` are unescaped, other escapes (`\xhh`) kept as logged. A
//!   request line with a bare quote (old Apache) is still read: its closing
//!   quote is the one followed by the three-digit status.
//! - The time `[10/Oct/2000:13:55:36 -0700]` carries its zone.
//! - A request whose target is absolute (`GET http://…`) or a `CONNECT
//!   host:port` came through a proxy: a `proxy` event, `blocked` when Squid's
//!   result says `DENIED` or, without one, when the status is 403 or 407.
//!   Any other request is the site's own access log: a `web` event, action
//!   `allowed`, outcome `failure` when the status is 400 or more.
//! - A request line that is not `METHOD target [HTTP/x.y]` with an upper-case
//!   method (a TLS handshake sent to port 80, `-`, nginx's `- - HTTP/1.0`) has
//!   no method; its text is the `event.reason`.
//! - `observer.product` is `squid` when the Squid result is present, else
//!   `httpd` (the log does not say whether Apache or nginx wrote it).

use super::webfields::{present, set_url, verdict};
use super::{ascii, LineContext, LineUse, ParseError, Parser};
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use vigil_core::{Event, EventKind, Outcome};

/// Reads combined (and common) log format lines; stateless.
#[derive(Debug, Default)]
pub struct CombinedParser;

fn err(what: &str) -> ParseError {
    ParseError(format!("combined log line {what}"))
}

/// A position in the line, read field by field.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    /// The next space-delimited word, after any spaces.
    fn word(&mut self) -> Option<&'a str> {
        let s = self.rest.trim_start_matches(' ');
        if s.is_empty() {
            return None;
        }
        let end = s.find(' ').unwrap_or(s.len());
        self.rest = &s[end..];
        Some(&s[..end])
    }

    /// Skips bare numbers (`%D`, `%O` of a custom format) before the
    /// referrer.
    fn skip_numbers(&mut self) {
        loop {
            let s = self.rest.trim_start_matches(' ');
            let end = s.find(' ').unwrap_or(s.len());
            if end == 0 || !s.as_bytes()[..end].iter().all(u8::is_ascii_digit) {
                return;
            }
            self.rest = &s[end..];
        }
    }

    /// `[...]` after any spaces.
    fn bracketed(&mut self) -> Option<&'a str> {
        let s = self.rest.trim_start_matches(' ').strip_prefix('[')?;
        let (inside, after) = s.split_once(']')?;
        self.rest = after;
        Some(inside)
    }

    /// A quoted field after any spaces, unescaped. Its closing quote is the
    /// first unescaped `"` after which the rest of the line satisfies
    /// `closes`.
    fn quoted(&mut self, closes: impl Fn(&str) -> bool) -> Option<Cow<'a, str>> {
        let s = self.rest.trim_start_matches(' ').strip_prefix('"')?;
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' if closes(&s[i + 1..]) => {
                    self.rest = &s[i + 1..];
                    return Some(ascii::unescape_quotes(&s[..i]));
                }
                _ => i += 1,
            }
        }
        None
    }
}

/// The rest of the line continues with a space or ends.
fn field_ends(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with(' ')
}

/// The rest of the line is ` NNN` then a space or the end: the status after
/// the request line.
fn status_follows(rest: &str) -> bool {
    let Some(after) = rest.strip_prefix(' ') else {
        return false;
    };
    after.len() >= 3 && after.as_bytes()[..3].iter().all(u8::is_ascii_digit) && field_ends(&after[3..])
}

/// The words before the time: `[%v[:%p] …] %h %l %u`.
struct Head<'a> {
    /// The virtual host (`%v`, without `:%p`) when a prefix word is logged.
    vhost: Option<&'a str>,
    /// `%h`, or an `X-Forwarded-For` list (`10.0.0.2, 10.0.0.1`) in its place.
    host: &'a str,
    user: &'a str,
}

impl<'a> Head<'a> {
    fn read(head: &'a str) -> Result<Self, ParseError> {
        let mut words: Vec<(usize, &str)> = Vec::with_capacity(4);
        let mut at = 0;
        for word in head.split(' ') {
            if !word.is_empty() {
                words.push((at, word));
            }
            at += word.len() + 1;
        }
        let n = words.len();
        if n < 3 {
            return Err(err("has fewer than the host, ident and user fields before the time"));
        }
        let (last_at, last) = words[n - 3];
        let mut first = n - 3;
        while first > 0 && words[first - 1].1.ends_with(',') {
            first -= 1;
        }
        let host = &head[words[first].0..last_at + last.len()];
        let vhost = (first > 0).then(|| {
            let word = words[0].1;
            ascii::rsplit_once(word, b':')
                .filter(|(name, port)| !name.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
                .map_or(word, |(name, _)| name)
        });
        Ok(Head { vhost, host, user: words[n - 1].1 })
    }
}

/// Who made the request, from `%h`.
enum Client<'a> {
    Ip(std::net::IpAddr),
    Name(&'a str),
    Absent,
}

/// An address (`10.1.2.3`, `::1`, `127.0.0.1:80`), a host name, or for an
/// `X-Forwarded-For` list the first entry: the original client.
fn client(host: &str) -> Client<'_> {
    let first = host.trim_matches('"').split(',').next().unwrap_or("").trim();
    if let Ok(ip) = first.parse() {
        Client::Ip(ip)
    } else if let Ok(socket) = first.parse::<std::net::SocketAddr>() {
        Client::Ip(socket.ip())
    } else {
        present(first).map_or(Client::Absent, Client::Name)
    }
}

/// `METHOD target [HTTP/x.y]`, or `None` for anything else.
fn request_parts(request: &str) -> Option<(&str, &str)> {
    let (method, rest) = request.split_once(' ')?;
    let target = match rest.rsplit_once(' ') {
        Some((target, protocol)) if protocol.starts_with("HTTP/") => target,
        _ => rest,
    };
    let method_ok = method.starts_with(|c: char| c.is_ascii_uppercase())
        && method.bytes().all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_');
    (method_ok && !target.is_empty() && !target.contains(' ')).then_some((method, target))
}

/// Squid's `%Ss:%Sh` (`TCP_DENIED:HIER_NONE`).
fn is_squid_result(word: &str) -> bool {
    word.split_once(':').is_some_and(|(a, b)| {
        let part = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_uppercase() || c == b'_');
        part(a) && part(b)
    })
}

impl Parser for CombinedParser {
    fn name(&self) -> &'static str {
        "combined"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        if line.trim_start_matches(' ').is_empty() {
            return Err(err("is empty"));
        }
        let time_at = line.find(" [").ok_or_else(|| err("has no `[day/Mon/year:hh:mm:ss zone]` time"))?;
        let head = Head::read(&line[..time_at])?;
        let mut c = Cursor { rest: &line[time_at..] };
        let time = c.bracketed().ok_or_else(|| err("has no `[day/Mon/year:hh:mm:ss zone]` time"))?;
        let timestamp = DateTime::parse_from_str(time, "%d/%b/%Y:%H:%M:%S %z")
            .map_err(|_| err("time is not `day/Mon/year:hh:mm:ss +zone`"))?
            .with_timezone(&Utc);
        let request = c.quoted(status_follows).ok_or_else(|| err("has no quoted request line before the status"))?;
        let status_text = c.word().ok_or_else(|| err("ends before the status"))?;
        let status: u16 = status_text.parse().map_err(|_| err("status is not a number"))?;
        let bytes_text = c.word().ok_or_else(|| err("ends before the size"))?;
        let bytes: Option<u64> =
            present(bytes_text).map(|b| b.parse().map_err(|_| err("size is not a number"))).transpose()?;
        c.skip_numbers();
        let referrer = if c.rest.trim_start_matches(' ').starts_with('"') {
            Some(c.quoted(field_ends).ok_or_else(|| err("referrer is not a closed quoted field"))?)
        } else {
            None
        };
        let agent = match referrer {
            Some(_) => Some(c.quoted(field_ends).ok_or_else(|| err("user agent is not a closed quoted field"))?),
            None => None,
        };
        let squid_result = c.word().filter(|w| is_squid_result(w));

        let parts = request_parts(&request);
        let proxied = parts.is_some_and(|(method, target)| {
            method == "CONNECT" || (!target.starts_with('/') && target.contains("://"))
        });
        let (kind, action, outcome) = if proxied {
            let blocked = match squid_result {
                Some(result) => result.contains("DENIED") || (result.starts_with("NONE") && status == 403),
                None => status == 403 || status == 407,
            };
            let (action, outcome) = verdict(blocked);
            (EventKind::Proxy, action, outcome)
        } else {
            let outcome = if status >= 400 { Outcome::Failure } else { Outcome::Success };
            (EventKind::Web, "allowed", outcome)
        };
        let product = if squid_result.is_some() { "squid" } else { "httpd" };

        let mut e = Event::new(timestamp, kind, action, outcome, product, "combined", line);
        super::set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        match client(head.host) {
            Client::Ip(ip) => e.source_ip = Some(ip.to_string()),
            Client::Name(name) => e.device_name = Some(name.to_string()),
            Client::Absent => {}
        }
        e.user_name = present(head.user).filter(|u| *u != "\"\"").map(str::to_string);
        e.http_status = Some(status);
        e.http_bytes = bytes;
        e.http_referrer = referrer.as_deref().and_then(present).map(str::to_string);
        e.user_agent = agent.as_deref().and_then(present).map(str::to_string);
        match parts {
            Some((method, target)) => {
                e.http_method = Some(method.to_string());
                set_url(&mut e, target);
                if let (None, Some(vhost)) = (&e.url_domain, head.vhost.and_then(present)) {
                    e.url_domain = Some(vhost.to_ascii_lowercase());
                }
                e.reason = squid_result.map(str::to_string);
            }
            None => e.reason = present(&request).map(str::to_string),
        }
        out.push(e);
        Ok(LineUse::Event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::{ctx, parse_one};
    use chrono::TimeZone;

    fn one(line: &str) -> Event {
        parse_one(&mut CombinedParser, line).unwrap()
    }

    const APACHE: &str = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;

    #[test]
    fn reads_apaches_documented_example_as_a_web_event() {
        let e = one(APACHE);
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2000, 10, 10, 20, 55, 36).unwrap());
        assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Web, "allowed", Outcome::Success));
        assert_eq!(e.source_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(e.user_name.as_deref(), Some("frank"));
        assert_eq!(e.http_method.as_deref(), Some("GET"));
        assert_eq!(e.url_full.as_deref(), Some("/apache_pb.gif"));
        assert_eq!(e.url_domain, None);
        assert_eq!(e.http_status, Some(200));
        assert_eq!(e.http_bytes, Some(2326));
        assert_eq!(e.http_referrer.as_deref(), Some("http://www.example.com/start.html"));
        assert_eq!(e.user_agent.as_deref(), Some("Mozilla/4.08 [en] (Win98; I ;Nav)"));
        assert_eq!(e.reason, None);
        assert_eq!((e.observer_product.as_str(), e.log_format.as_str()), ("httpd", "combined"));
        assert_eq!(e.message, APACHE);
        let c = ctx();
        assert_eq!(e.id, Event::derive_id(c.tenant, c.source, c.offset, APACHE.as_bytes()));
        assert_eq!((e.tenant.as_str(), e.log_offset), (c.tenant.as_str(), Some(c.offset)));
    }

    #[test]
    fn web_errors_are_failures_not_blocks() {
        for (status, outcome) in [(404, Outcome::Failure), (403, Outcome::Failure), (304, Outcome::Success)] {
            let e = one(&format!(r#"10.0.0.5 - - [04/Mar/2024:10:42:00 +0000] "GET /x HTTP/1.1" {status} 0 "-" "-""#));
            assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Web, "allowed", outcome), "{status}");
            assert_eq!((e.user_name.as_ref(), e.http_referrer.as_ref(), e.user_agent.as_ref()), (None, None, None));
        }
    }

    #[test]
    fn absolute_and_connect_requests_are_proxy_events() {
        let e = one(
            r#"10.1.2.3 - jbloggs [04/Mar/2024:10:42:00 +0100] "GET http://WWW.Bing.com/search?q=vape+shop HTTP/1.1" 200 5120 "-" "Mozilla/5.0 (X11)""#,
        );
        assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Proxy, "allowed", Outcome::Success));
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 9, 42, 0).unwrap());
        assert_eq!(e.url_domain.as_deref(), Some("www.bing.com"));
        assert_eq!(e.search_query.as_deref(), Some("vape shop"));
        for status in [403, 407] {
            let e = one(&format!(
                r#"10.1.2.3 - - [04/Mar/2024:10:42:00 +0000] "CONNECT www.reddit.com:443 HTTP/1.1" {status} 3600 "-" "curl/8""#
            ));
            assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Proxy, "blocked", Outcome::Failure));
            assert_eq!(e.url_domain.as_deref(), Some("www.reddit.com"));
            assert_eq!(e.url_full.as_deref(), Some("www.reddit.com:443"));
        }
    }

    #[test]
    fn squid_combined_result_decides_and_names_the_product() {
        let e = one(
            r#"10.1.2.3 - - [04/Mar/2024:10:42:00 +0000] "GET http://bad.example/ HTTP/1.1" 403 3800 "-" "Mozilla/5.0" TCP_DENIED:HIER_NONE"#,
        );
        assert_eq!((e.action.as_str(), e.observer_product.as_str()), ("blocked", "squid"));
        assert_eq!(e.reason.as_deref(), Some("TCP_DENIED:HIER_NONE"));
        // The origin server's own 403 is not a block by the filter.
        let e = one(
            r#"10.1.2.3 - - [04/Mar/2024:10:42:00 +0000] "GET http://ok.example/ HTTP/1.1" 403 120 "-" "Mozilla/5.0" TCP_MISS:HIER_DIRECT"#,
        );
        assert_eq!(e.action.as_str(), "allowed");
    }

    #[test]
    fn escaped_quotes_common_format_and_extra_fields() {
        let e = one(
            r#"::1 - - [04/Mar/2024:10:42:00 +0000] "GET /a\"b HTTP/1.1" 200 - "http://x/\"q\"" "Agent \"007\" \\o/" "10.9.9.9""#,
        );
        assert_eq!(e.url_full.as_deref(), Some("/a\"b"));
        assert_eq!(e.http_bytes, None);
        assert_eq!(e.http_referrer.as_deref(), Some("http://x/\"q\""));
        assert_eq!(e.user_agent.as_deref(), Some("Agent \"007\" \\o/"));
        let e = one(r#"host.example - - [04/Mar/2024:10:42:00 +0000] "GET / HTTP/1.0" 200 10"#);
        assert_eq!((e.source_ip.as_ref(), e.device_name.as_deref()), (None, Some("host.example")));
        assert_eq!(e.user_agent, None);
        // A bare quote inside the request (Apache before 2.0.46).
        let e = one(r#"10.0.0.1 - - [04/Mar/2024:10:42:00 +0000] "GET /say"hi HTTP/1.1" 200 1 "-" "-""#);
        assert_eq!(e.url_full.as_deref(), Some("/say\"hi"));
    }

    #[test]
    fn virtual_host_and_forwarded_for_prefixes() {
        // Apache's `vhost_combined`: `%v:%p %h %l %u %t …`.
        let e = one(
            r#"www.school.example:443 192.0.2.2 - jbloggs [26/Dec/2016:16:22:14 +0000] "GET /hello?q=vape HTTP/1.1" 404 499 "-" "Mozilla/5.0""#,
        );
        assert_eq!((e.source_ip.as_deref(), e.user_name.as_deref()), (Some("192.0.2.2"), Some("jbloggs")));
        assert_eq!(
            (e.url_full.as_deref(), e.url_domain.as_deref()),
            (Some("/hello?q=vape"), Some("www.school.example"))
        );
        assert_eq!((e.kind, e.http_status), (EventKind::Web, Some(404)));
        // `%v %h …` with a host name as the client.
        let e = one(
            r#"lessons.example.com pc7.school.example - - [09/Jun/2020:12:10:39 -0700] "GET /a.mp4 HTTP/1.1" 206 76 "-" "-""#,
        );
        assert_eq!((e.source_ip, e.device_name.as_deref()), (None, Some("pc7.school.example")));
        assert_eq!(e.url_domain.as_deref(), Some("lessons.example.com"));
        // `%{X-Forwarded-For}i` in place of `%h`: the first address is the client.
        let e = one(
            r#"192.0.2.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0""#,
        );
        assert_eq!((e.source_ip.as_deref(), e.url_domain), (Some("192.0.2.2"), None));
        let e = one(
            r#"www.example.com 2001:db8::6fc6, 10.225.192.17 - - [30/Dec/2016:06:47:09 +0000] "GET /t.html HTTP/1.1" 404 8571 "-" "-""#,
        );
        assert_eq!(
            (e.source_ip.as_deref(), e.url_domain.as_deref()),
            (Some("2001:db8::6fc6"), Some("www.example.com"))
        );
        // A quoted forwarded-for list between the virtual host and `%h`.
        let e = one(
            r#"example.com:80 "198.51.100.222, 203.0.113.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /assets/x?q=100 HTTP/1.1" 200 25507 "-" "Amazon CloudFront""#,
        );
        assert_eq!((e.source_ip.as_deref(), e.url_domain.as_deref()), (Some("10.2.1.185"), Some("example.com")));
        // `%h:%{remote}p` and nginx's unix socket clients.
        let e =
            one(r#"127.0.0.1:80 - - [13/Nov/2023:10:44:01 +0000] "<SCRIPT>X</SCRIPT> / HTTP/1.1" 400 3386 "-" "-""#);
        assert_eq!(
            (e.source_ip.as_deref(), e.reason.as_deref()),
            (Some("127.0.0.1"), Some("<SCRIPT>X</SCRIPT> / HTTP/1.1"))
        );
        let e = one(r#"example.com:80 unix: - - [26/Feb/2019:15:39:42 +0100] "hello" 400 173 "-" "-""#);
        assert_eq!((e.device_name.as_deref(), e.reason.as_deref()), (Some("unix:"), Some("hello")));
    }

    #[test]
    fn extra_numbers_and_unquoted_trailers_of_custom_formats() {
        // A number (`%D`, `%O`) between the size and the referrer.
        let e = one(
            r#"2001:db8::1 - - [29/May/2017:19:02:48 +0000] "GET /a.mp4 HTTP/1.1" 200 612 3413 "-" "Mozilla/5.0 (Windows NT 6.1)" X-Forwarded-For="10.0.0.2""#,
        );
        assert_eq!((e.http_bytes, e.user_agent.as_deref()), (Some(612), Some("Mozilla/5.0 (Windows NT 6.1)")));
        // The common format with `%D` appended.
        let e = one(r#"127.0.0.1 - - [22/May/2024:08:21:14 +0300] "\n" 400 226 98"#);
        assert_eq!((e.http_status, e.http_bytes, e.user_agent), (Some(400), Some(226), None));
        assert_eq!(e.reason.as_deref(), Some(r"\n"));
        // `"- - HTTP/1.0"` (nginx, a request it could not read) has no method.
        let e = one(r#"127.0.0.1 - - [14/Jun/2024:12:20:12 +0530] "- - HTTP/1.0" 400 226 "-" "-""#);
        assert_eq!((e.http_method, e.url_full), (None, None));
        assert_eq!(e.reason.as_deref(), Some("- - HTTP/1.0"));
    }

    #[test]
    fn malformed_request_lines_are_kept_as_the_reason() {
        let e = one(
            r#"10.0.0.1 - - [04/Mar/2024:10:42:00 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" 400 226 "-" "-""#,
        );
        assert_eq!(e.http_method, None);
        assert_eq!(e.url_full, None);
        assert_eq!(e.reason.as_deref(), Some(r"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"));
        let e = one(r#"10.0.0.1 - - [04/Mar/2024:10:42:00 +0000] "-" 408 0 "-" "-""#);
        assert_eq!((e.reason.as_ref(), e.http_status), (None, Some(408)));
    }

    #[test]
    fn hostile_content_is_kept_verbatim() {
        let line = "10.0.0.1 - <b>\u{7} [04/Mar/2024:10:42:00 +0000] \"GET /<script>alert(1)</script> HTTP/1.1\" 200 1 \"-\" \"\u{1b}[2J\r\"";
        let e = one(line);
        assert_eq!(e.message, line);
        assert_eq!(e.user_name.as_deref(), Some("<b>\u{7}"));
        assert_eq!(e.user_agent.as_deref(), Some("\u{1b}[2J\r"));
    }

    #[test]
    fn truncated_lines_are_errors_or_events_and_never_panic() {
        for cut in 0..=APACHE.len() {
            let Some(prefix) = APACHE.get(..cut) else { continue };
            let mut out = Vec::new();
            match CombinedParser.parse(prefix, &ctx(), &mut out) {
                Ok(_) => assert_eq!(out.len(), 1, "{prefix:?}"),
                Err(_) => assert!(out.is_empty()),
            }
        }
        // Cut inside the referrer or agent: an error, not a shortened field.
        assert!(CombinedParser.parse(&APACHE[..APACHE.len() - 5], &ctx(), &mut Vec::new()).is_err());
    }

    #[test]
    fn other_formats_are_rejected_with_the_field_at_fault() {
        for (line, why) in [
            ("", "is empty"),
            (r#"- [04/Mar/2024:10:42:00 +0000] "GET / HTTP/1.1" 200 1"#, "host, ident and user"),
            ("1709548920.123 145 10.1.2.3 TCP_MISS/200 5120 GET http://a/ - HIER_DIRECT/1.2.3.4 text/html", "time"),
            ("Mar  4 10:42:00 gate sshd[1]: Accepted password for a from 10.0.0.1 port 22 ssh2", "time"),
            (r#"1.2.3.4 - - [04/Mar/2024:10:42:00] "GET / HTTP/1.1" 200 1"#, "time is not"),
            (r#"1.2.3.4 - - [04/Mar/2024:10:42:00 +0000] GET / 200 1"#, "request line"),
            (r#"1.2.3.4 - - [04/Mar/2024:10:42:00 +0000] "GET / HTTP/1.1" 200 lots"#, "size"),
            (r#"1.2.3.4 - - [04/Mar/2024:10:42:00 +0000] "GET / HTTP/1.1" 200 1 "-" "open"#, "user agent"),
        ] {
            let e = CombinedParser.parse(line, &ctx(), &mut Vec::new()).unwrap_err();
            assert!(e.0.contains(why), "{line}: {e}");
        }
    }
}
