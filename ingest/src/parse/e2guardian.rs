//! e2guardian (and its predecessor DansGuardian) `access.log`.
//!
//! The `logfileformat` option of `e2guardian.conf` picks one of six shapes
//! (documented in the shipped `e2guardian.conf`; the fields are those built
//! by `log_listener` in e2guardian's `src/FatController.cpp`). Each line is
//! recognised on its own, so a file whose format was changed midway reads:
//!
//! | format | shape | fields |
//! |---|---|---|
//! | 1 | space-separated (DansGuardian native) | when who from where what how size weight category group code mime clienthost groupname useragent … |
//! | 2 | CSV, every field in `"…"`, joined by `","` | as 1 |
//! | 3 | Squid native `access.log` | read as [`squid`](super::squid) would |
//! | 4 | tab-separated | as 1 |
//! | 5, 6 | tab-separated "Protex" | utime server who from clienthost where how code size mime useragent - duration - msgno what weight category groupname group |
//!
//! `when` is `2024.3.4 10:42:00` (local time, fields not zero-padded),
//! followed by ` 1709548920.123` (Unix time) when `logtimestamp` is on.
//! The Unix time is used when present; a bare `when` is read as UTC (set
//! the filter server's zone to UTC, or turn `logtimestamp` on).
//!
//! `what` starts with flags (`*DENIED* `, `*DENIED-POST* `, `*EXCEPTION* `,
//! `*INFECTED* `, `*SCANNED* `, `*CONTENTMOD* `, …; English wording, the
//! `ukenglish` language file's) and then the reason (`Banned site:
//! pornhub.com`, `Weighted phrase limit of 250 : 310 (…)`). `*DENIED*` and
//! `*INFECTED*` make the request `blocked`; the reason text (or the flags,
//! when there is no text) is `event.reason`. e2guardian writes `-` for an
//! empty item; fields are not escaped, so in format 1 `what` and the category
//! (which may hold spaces) are found between the URL, the method followed by
//! two numbers (size, weight) and the filter group followed by a three-digit
//! status; the user agent and later fields of format 1 are ignored.

use super::webfields::{epoch_seconds, number, owned, present, set_url, verdict};
use super::{LineContext, LineUse, ParseError, Parser, SquidParser};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use vigil_core::{Event, EventKind, Label};

/// Reads e2guardian / DansGuardian access-log lines in any
/// `logfileformat`; stateless.
#[derive(Debug)]
pub struct E2guardianParser {
    product: &'static str,
}

impl Default for E2guardianParser {
    /// Events name e2guardian as the product.
    fn default() -> Self {
        E2guardianParser { product: "e2guardian" }
    }
}

impl E2guardianParser {
    /// The same parser, naming DansGuardian as the product.
    pub fn dansguardian() -> Self {
        E2guardianParser { product: "dansguardian" }
    }
}

fn err(what: &str) -> ParseError {
    ParseError(format!("e2guardian line {what}"))
}

/// The fields of one line, borrowed from it.
#[derive(Debug, Default)]
struct Record<'a> {
    time: DateTime<Utc>,
    server: &'a str,
    user: &'a str,
    client: &'a str,
    client_host: &'a str,
    url: &'a str,
    what: &'a str,
    method: &'a str,
    size: &'a str,
    category: &'a str,
    status: &'a str,
    mime: &'a str,
    user_agent: &'a str,
    duration: &'a str,
    message_no: &'a str,
}

/// `2024.3.4 10:42:00` with an optional ` 1709548920.123` after it.
fn when(text: &str) -> Result<DateTime<Utc>, ParseError> {
    let mut parts = text.split(' ');
    let (date, time) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if let Some(stamp) = parts.next() {
        return epoch_seconds(stamp).ok_or_else(|| err("timestamp after the date is not Unix time"));
    }
    local_time(date, time)
}

fn local_time(date: &str, time: &str) -> Result<DateTime<Utc>, ParseError> {
    let bad = || err("does not start with a `year.month.day hh:mm:ss` time");
    let date = NaiveDate::parse_from_str(date, "%Y.%m.%d").map_err(|_| bad())?;
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S").map_err(|_| bad())?;
    Ok(date.and_time(time).and_utc())
}

/// Formats 1, 2 and 4 share the field order; `fields` are those after
/// `when`.
fn classic<'a>(time: DateTime<Utc>, f: &[&'a str]) -> Result<Record<'a>, ParseError> {
    if f.len() < 10 {
        return Err(err("ends before the status field"));
    }
    let get = |i: usize| f.get(i).copied().unwrap_or("");
    Ok(Record {
        time,
        user: get(0),
        client: get(1),
        url: get(2),
        what: get(3),
        method: get(4),
        size: get(5),
        category: get(7),
        status: get(9),
        mime: get(10),
        client_host: get(11),
        user_agent: get(13),
        ..Record::default()
    })
}

/// Format 4 (`when` first) or 5/6 (Unix time first), tab-separated.
fn tabbed(line: &str) -> Result<Record<'_>, ParseError> {
    let f: Vec<&str> = line.split('\t').collect();
    let first = f.first().copied().unwrap_or("");
    let Some(time) = epoch_seconds(first) else {
        return classic(when(first)?, f.get(1..).unwrap_or_default());
    };
    if f.len() < 18 {
        return Err(err("(tab-separated, Unix time first) ends before the category field"));
    }
    Ok(Record {
        time,
        server: f[1],
        user: f[2],
        client: f[3],
        client_host: f[4],
        url: f[5],
        method: f[6],
        status: f[7],
        size: f[8],
        mime: f[9],
        user_agent: f[10],
        duration: f[12],
        message_no: f[14],
        what: f[15],
        category: f[17],
    })
}

/// Format 2: `"when","who",…,"postdata"`.
fn csv(line: &str) -> Result<Record<'_>, ParseError> {
    let inner = line
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .ok_or_else(|| err("(CSV) does not start and end with a quote"))?;
    let f: Vec<&str> = inner.split("\",\"").collect();
    classic(when(f.first().copied().unwrap_or(""))?, f.get(1..).unwrap_or_default())
}

/// Format 1: space-separated, with spaces inside `what` and the category.
fn spaced(line: &str) -> Result<Record<'_>, ParseError> {
    let mut starts = Vec::new();
    let mut tokens = Vec::new();
    let mut at = 0;
    for token in line.split(' ') {
        starts.push(at);
        tokens.push(token);
        at += token.len() + 1;
    }
    let tok = |i: usize| tokens.get(i).copied().unwrap_or("");
    let mut time = local_time(tok(0), tok(1))?;
    let mut i = 2;
    if let Some(stamp) = epoch_seconds(tok(2)) {
        time = stamp;
        i = 3;
    }
    let (user, client, url) = (tok(i), tok(i + 1), tok(i + 2));
    let what_start = i + 3;
    let is_int = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let is_signed = |s: &str| is_int(s.strip_prefix('-').unwrap_or(s));
    let is_method = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_');
    let method_at = (what_start + 1..tokens.len())
        .find(|&m| is_method(tok(m)) && is_int(tok(m + 1)) && is_signed(tok(m + 2)))
        .ok_or_else(|| err("has no `METHOD size weight` after the URL"))?;
    let cat_start = method_at + 3;
    let group_at = (cat_start..tokens.len())
        .find(|&g| is_int(tok(g)) && tok(g + 1).len() == 3 && is_int(tok(g + 1)))
        .ok_or_else(|| err("has no `group status` after the category"))?;
    let between = |from: usize, to: usize| {
        // Both ends are token starts, one past a space: char boundaries.
        let end = starts.get(to).map_or(line.len(), |s| s.saturating_sub(1));
        starts.get(from).and_then(|&s| line.get(s..end.max(s))).unwrap_or("")
    };
    Ok(Record {
        time,
        user,
        client,
        url,
        what: between(what_start, method_at),
        method: tok(method_at),
        size: tok(method_at + 1),
        category: between(cat_start, group_at),
        status: tok(group_at + 1),
        mime: tok(group_at + 2),
        client_host: tok(group_at + 3),
        ..Record::default()
    })
}

/// The leading `*FLAG*` words of `what`, and the reason text after them.
fn flags(what: &str) -> (Vec<&str>, &str) {
    let mut flags = Vec::new();
    let mut rest = what;
    while let Some(after) = rest.strip_prefix('*') {
        let Some((word, tail)) = after.split_once('*') else { break };
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_uppercase() || b == b'-') {
            break;
        }
        flags.push(word);
        rest = tail.trim_start_matches(' ');
    }
    (flags, rest.trim_end())
}

impl Parser for E2guardianParser {
    fn name(&self) -> &'static str {
        "e2guardian"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let first = line.split([' ', '\t']).next().unwrap_or("");
        if !line.contains('\t') && epoch_seconds(first).is_some() {
            return squid_style(self.product, line, ctx, out);
        }
        let r = if line.starts_with('"') {
            csv(line)?
        } else if line.contains('\t') {
            tabbed(line)?
        } else {
            spaced(line)?
        };
        let (flags, text) = flags(r.what);
        let blocked = flags.iter().any(|f| f.starts_with("DENIED") || *f == "INFECTED");
        let (action, outcome) = verdict(blocked);
        let mut e = Event::new(r.time, EventKind::Proxy, action, outcome, self.product, "e2guardian", line);
        super::set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        e.reason = match present(text) {
            Some(text) => Some(text.to_string()),
            None if !flags.is_empty() => Some(r.what.trim_end().to_string()),
            None => None,
        };
        e.code = owned(r.message_no);
        e.host_name = owned(r.server);
        e.user_name = owned(r.user);
        e.source_ip = present(r.client).filter(|ip| *ip != "0.0.0.0").map(str::to_string);
        e.device_name = owned(r.client_host);
        if let Some(url) = present(r.url) {
            set_url(&mut e, url);
        }
        e.http_method = owned(r.method);
        e.http_status = number::<u16>(r.status, "e2guardian status")?.filter(|s| *s != 0);
        e.http_bytes = number(r.size, "e2guardian size")?;
        e.http_mime_type = owned(r.mime);
        e.filter_category = owned(r.category.trim());
        e.user_agent = owned(r.user_agent);
        e.duration_ms = number(r.duration, "e2guardian duration")?;
        out.push(e);
        Ok(LineUse::Event)
    }
}

/// Format 3 is Squid's native line; read it as Squid does and name the filter.
fn squid_style(
    product: &'static str,
    line: &str,
    ctx: &LineContext<'_>,
    out: &mut Vec<Event>,
) -> Result<LineUse, ParseError> {
    let mut events = Vec::with_capacity(1);
    let line_use = SquidParser
        .parse(line, ctx, &mut events)
        .map_err(|e| ParseError(format!("e2guardian Squid-style (format 3) line: {e}")))?;
    for mut e in events {
        e.observer_product = Label::from(product);
        e.log_format = Label::from("e2guardian");
        out.push(e);
    }
    Ok(line_use)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::{ctx, parse_one};
    use chrono::TimeZone;
    use vigil_core::Outcome;

    fn one(line: &str) -> Event {
        parse_one(&mut E2guardianParser::default(), line).unwrap()
    }

    fn at(h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 4, h, mi, s).unwrap()
    }

    const F1_DENIED: &str = "2024.3.4 9:05:07 jbloggs 10.1.2.3 http://www.pornhub.com/ *DENIED* Banned site: pornhub.com GET 0 0 Pornography 1 403 - - Default - - ";
    const F2: &str = r#""2024.3.4 10:42:00","jbloggs","10.1.2.3","http://www.example.com/bad","*DENIED* Weighted phrase limit of 250 : 310 (sex+porn)","GET","3021","310","Pornography, Adult","2","403","text/html","-","Pupils","Mozilla/5.0 (Windows NT 10.0)","-","-","-","-""#;
    const F4: &str = "2024.3.4 10:42:00\tjbloggs\t10.1.2.3\thttps://www.google.co.uk/search?q=how+to+vape\t*EXCEPTION* Exception site match.\tGET\t5120\t0\tSearch Engines\t1\t200\ttext/html\tpc-07.school.local\tDefault\tMozilla/5.0\t-\t-\t-\t-";
    const F5: &str = "1709548920.123\tproxy1\tjbloggs\t10.1.2.3\t-\thttp://www.bad.example/x.exe\tGET\t403\t0\t-\tMozilla/5.0 (X11)\t-\t17\t-\t600\t*DENIED* Banned extension: .exe\t0\tExecutables\tPupils\t2";

    #[test]
    fn format_1_denial_with_spaces_in_the_reason() {
        let e = one(F1_DENIED);
        assert_eq!(e.timestamp, at(9, 5, 7));
        assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Proxy, "blocked", Outcome::Failure));
        assert_eq!(e.reason.as_deref(), Some("Banned site: pornhub.com"));
        assert_eq!(e.user_name.as_deref(), Some("jbloggs"));
        assert_eq!(e.source_ip.as_deref(), Some("10.1.2.3"));
        assert_eq!(e.url_full.as_deref(), Some("http://www.pornhub.com/"));
        assert_eq!(e.url_domain.as_deref(), Some("www.pornhub.com"));
        assert_eq!(e.http_method.as_deref(), Some("GET"));
        assert_eq!((e.http_bytes, e.http_status), (Some(0), Some(403)));
        assert_eq!(e.filter_category.as_deref(), Some("Pornography"));
        assert_eq!((e.http_mime_type.as_ref(), e.device_name.as_ref()), (None, None));
        assert_eq!((e.observer_product.as_str(), e.log_format.as_str()), ("e2guardian", "e2guardian"));
        assert_eq!(e.message, F1_DENIED);
        let c = ctx();
        assert_eq!(e.id, Event::derive_id(c.tenant, c.source, c.offset, F1_DENIED.as_bytes()));
    }

    #[test]
    fn format_1_allowed_with_timestamp_and_multiword_category() {
        let e = one("2024.3.4 10:42:00 1709548920.250 - 10.1.2.3 http://www.bbc.co.uk/news - GET 51234 -20 News and Media 1 200 text/html pc7 Default Mozilla/5.0 (Windows) - - -");
        assert_eq!(e.timestamp.timestamp_millis(), 1_709_548_920_250);
        assert_eq!((e.action.as_str(), e.outcome), ("allowed", Outcome::Success));
        assert_eq!((e.reason.as_ref(), e.user_name.as_ref()), (None, None));
        assert_eq!(e.filter_category.as_deref(), Some("News and Media"));
        assert_eq!(e.http_mime_type.as_deref(), Some("text/html"));
        assert_eq!(e.device_name.as_deref(), Some("pc7"));
        assert_eq!(e.http_bytes, Some(51234));
    }

    #[test]
    fn format_2_csv() {
        let e = one(F2);
        assert_eq!(e.timestamp, at(10, 42, 0));
        assert_eq!(e.action.as_str(), "blocked");
        assert_eq!(e.reason.as_deref(), Some("Weighted phrase limit of 250 : 310 (sex+porn)"));
        assert_eq!(e.filter_category.as_deref(), Some("Pornography, Adult"));
        assert_eq!((e.http_bytes, e.http_status), (Some(3021), Some(403)));
        assert_eq!(e.http_mime_type.as_deref(), Some("text/html"));
        assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0 (Windows NT 10.0)"));
        assert_eq!(e.device_name, None);
    }

    #[test]
    fn format_4_tabs_exceptions_are_allowed_and_searches_found() {
        let e = one(F4);
        assert_eq!((e.action.as_str(), e.outcome), ("allowed", Outcome::Success));
        assert_eq!(e.reason.as_deref(), Some("Exception site match."));
        assert_eq!(e.search_query.as_deref(), Some("how to vape"));
        assert_eq!(e.filter_category.as_deref(), Some("Search Engines"));
        assert_eq!(e.device_name.as_deref(), Some("pc-07.school.local"));
        assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0"));
    }

    #[test]
    fn format_5_protex_tabs() {
        let e = one(F5);
        assert_eq!(e.timestamp.timestamp_millis(), 1_709_548_920_123);
        assert_eq!(e.action.as_str(), "blocked");
        assert_eq!(e.reason.as_deref(), Some("Banned extension: .exe"));
        assert_eq!(e.code.as_deref(), Some("600"));
        assert_eq!(e.host_name.as_deref(), Some("proxy1"));
        assert_eq!(e.duration_ms, Some(17));
        assert_eq!(e.filter_category.as_deref(), Some("Executables"));
        assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0 (X11)"));
        assert_eq!((e.http_status, e.http_bytes), (Some(403), Some(0)));
    }

    #[test]
    fn format_3_squid_style_is_read_as_squid_and_named_e2guardian() {
        let e = one("1709548920.123     12 10.1.2.3 TCP_DENIED/403 0 GET http://bad.example/ jbloggs DEFAULT_PARENT/127.0.0.1 -");
        assert_eq!((e.action.as_str(), e.reason.as_deref()), ("blocked", Some("TCP_DENIED/403")));
        assert_eq!((e.observer_product.as_str(), e.log_format.as_str()), ("e2guardian", "e2guardian"));
        let mut p = E2guardianParser::dansguardian();
        assert_eq!(parse_one(&mut p, F1_DENIED).unwrap().observer_product.as_str(), "dansguardian");
    }

    #[test]
    fn infected_and_flag_only_lines() {
        let e = one("2024.3.4 10:42:00 - 10.1.2.3 http://x.example/a.zip *INFECTED* *SCANNED* Virus or bad content detected. Eicar-Test GET 68 0 - 1 403 application/zip - Default");
        assert_eq!(e.action.as_str(), "blocked");
        assert_eq!(e.reason.as_deref(), Some("Virus or bad content detected. Eicar-Test"));
        assert_eq!(e.filter_category, None);
        let e = one("2024.3.4 10:42:00 - 10.1.2.3 http://x.example/ *SCANNED* - GET 68 0 - 1 200 text/html - Default");
        assert_eq!((e.action.as_str(), e.reason.as_deref()), ("allowed", Some("*SCANNED* -")));
    }

    #[test]
    fn hostile_content_is_kept_verbatim() {
        let line = "2024.3.4\t<b>\u{7}</b>\t10.1.2.3\thttp://x/<script>\t*DENIED* Banned site: \u{1b}[2J\tGET\t0\t0\t<i>\t1\t403\t-\t-\tDefault\t-";
        assert!(E2guardianParser::default().parse(line, &ctx(), &mut Vec::new()).is_err());
        let line = "2024.3.4 10:42:00\t<b>\u{7}</b>\t10.1.2.3\thttp://x/<script>\t*DENIED* Banned site: \u{1b}[2J\tGET\t0\t0\t<i>\t1\t403\t-\t-\tDefault\t-";
        let e = one(line);
        assert_eq!(e.message, line);
        assert_eq!(e.user_name.as_deref(), Some("<b>\u{7}</b>"));
        assert_eq!(e.reason.as_deref(), Some("Banned site: \u{1b}[2J"));
        assert_eq!(e.filter_category.as_deref(), Some("<i>"));
    }

    #[test]
    fn truncated_lines_are_errors_or_events_and_never_panic() {
        for full in [F1_DENIED, F2, F4, F5] {
            for cut in 0..=full.len() {
                let Some(prefix) = full.get(..cut) else { continue };
                let mut out = Vec::new();
                match E2guardianParser::default().parse(prefix, &ctx(), &mut out) {
                    Ok(_) => assert_eq!(out.len(), 1, "{prefix:?}"),
                    Err(_) => assert!(out.is_empty()),
                }
            }
        }
    }

    #[test]
    fn other_formats_are_rejected_with_a_reason() {
        for (line, why) in [
            ("", "time"),
            ("Mar  4 10:42:00 gate sshd[1]: Accepted password for a from 10.0.0.1 port 22 ssh2", "time"),
            (r#"10.1.2.3 - - [04/Mar/2024:10:42:00 +0000] "GET / HTTP/1.1" 200 1"#, "time"),
            ("2024.3.4 10:42:00 - 10.1.2.3 http://x/ - no method here", "METHOD size weight"),
            ("2024.3.4 10:42:00 - 10.1.2.3 http://x/ - GET 1 0 cat", "group status"),
            ("\"2024.3.4 10:42:00\",\"-\",\"10.1.2.3\"", "status"),
            ("\"2024.3.4 10:42:00\",\"-\"", "status"),
            ("1709548920.123\tproxy1\tjbloggs", "category"),
            ("1709548920.1x 1 10.0.0.1 TCP_MISS/200 1 GET http://a/ - HIER_NONE/- -", "time"),
            ("1709548920.1 1 10.0.0.1 TCP_MISS 1 GET http://a/ - HIER_NONE/- -", "format 3"),
            ("2024.3.4 10:42:00\t-\t10.1.2.3\thttp://x/\t-\tGET\tbig\t0\t-\t1\t200", "size"),
        ] {
            let e = E2guardianParser::default().parse(line, &ctx(), &mut Vec::new()).unwrap_err();
            assert!(e.0.contains(why), "{line:?}: {e}");
        }
    }
}
