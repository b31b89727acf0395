//! FortiGate (FortiOS) log messages in their default `key=value` form, as
//! written to disk, memory or syslog (FortiOS Log Message Reference,
//! <https://docs.fortinet.com/document/fortigate/7.4.0/fortios-log-message-reference>):
//!
//! ```text
//! date=2024-03-04 time=10:42:00 devname="FG100F" devid="FG100F…" logid="0316013056" type="utm" subtype="webfilter" eventtype="ftgd_blk" level="warning" vd="root" eventtime=1709548920123456789 tz="+0000" srcip=10.1.2.3 … hostname="www.example.com" action="blocked" url="https://www.example.com/" msg="URL belongs to a denied category in policy" cat=26 catdesc="Malicious Websites" user="jbloggs"
//! ```
//!
//! A syslog header before the pairs (`<189>`, `Mar  4 10:42:00 fw1 `) is
//! skipped: the pairs start at the first `date=`, `logver=` or `eventtime=`.
//! A line whose last quoted value is not closed (cut by a syslog relay's
//! message size limit) is read as if it were closed at the end of the line.
//!
//! Time rule: `eventtime` when present — Unix time in seconds, milliseconds,
//! microseconds or nanoseconds (FortiOS 6.0 logs seconds, 6.2 on
//! nanoseconds), told apart by its magnitude; otherwise `date` and `time`
//! in the zone `tz` (`+0100`), or UTC when there is no `tz`.
//!
//! - `type=utm subtype=webfilter`: a proxy event; `action` `blocked` (and
//!   the `warning` page, which is not the page asked for) is `blocked`,
//!   `passthrough`, `exempt`, `monitored` are `allowed`. `url` is a full URL
//!   (6.2 and later) or a path joined to `hostname` (6.0: `url="/path"`).
//!   `catdesc` is the category and `msg` the reason.
//! - `type=traffic subtype=forward`: a proxy event for the session; `deny`,
//!   `dropped`, `block` (or `utmaction="block"`) are `blocked`, every other
//!   action (`accept`, `close`, `timeout`, `client-rst`, …) `allowed`.
//!   `url.domain` is the `hostname` when logged; the reason is `msg`, or else
//!   the action.
//! - Other `type=utm` subtypes (`app-ctrl`, `dns`, `virus`, `ips`, `dlp`,
//!   `ssl`, …): a proxy event judged by `action`: `block`, `blocked`,
//!   `deny`, `dropped`, `reset` and the DNS filter's `redirect` (to the block
//!   portal) are `blocked`; `pass`, `passthrough`, `allow`, `accept`,
//!   `exempt`, `monitored` are `allowed`; any other action, or none (a
//!   `dns-query` line), is `other`. A DNS filter line's `qname` is the
//!   domain; application control's `appcat` is the category when there is no
//!   `catdesc`.
//! - `type=traffic subtype=local` (traffic to the FortiGate itself) is read
//!   as `forward` is.
//! - `user="N/A"` (event logs) is no user.
//! - Any other type (`event`, sniffer or multicast `traffic`): action
//!   `other`.

use super::kv::{self, Pairs};
use super::webfields::{number, set_url, strip_priority, verdict};
use super::{LineContext, LineUse, ParseError, Parser};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use vigil_core::{Event, EventKind, Outcome};

/// Reads FortiOS `key=value` log lines; stateless.
#[derive(Debug, Default)]
pub struct FortigateParser;

fn err(what: &str) -> ParseError {
    ParseError(format!("fortigate line {what}"))
}

/// The pairs of `line`, after any syslog header.
fn body(line: &str) -> Option<&str> {
    let line = strip_priority(line);
    ["date=", "logver=", "eventtime="]
        .iter()
        .filter_map(|key| {
            line.match_indices(key).map(|(at, _)| at).find(|&at| at == 0 || line.as_bytes()[at - 1] == b' ')
        })
        .min()
        .map(|at| &line[at..])
}

/// Unix time in s, ms, µs or ns, told apart by magnitude.
fn event_time(value: &str) -> Option<DateTime<Utc>> {
    let n: i64 = value.parse().ok()?;
    let nanos = match n {
        n if n >= 100_000_000_000_000_000 => n,
        n if n >= 100_000_000_000_000 => n.checked_mul(1_000)?,
        n if n >= 100_000_000_000 => n.checked_mul(1_000_000)?,
        n if n >= 0 => n.checked_mul(1_000_000_000)?,
        _ => return None,
    };
    Some(DateTime::from_timestamp_nanos(nanos))
}

/// `+hhmm` / `-hhmm` as an offset.
fn zone(tz: &str) -> Option<FixedOffset> {
    let (sign, digits) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

fn timestamp(kv: &Pairs<'_>) -> Result<DateTime<Utc>, ParseError> {
    if let Some(value) = kv.non_empty("eventtime") {
        return event_time(value).ok_or_else(|| err("eventtime is not Unix time"));
    }
    let date = kv.get("date").ok_or_else(|| err("has neither eventtime nor date"))?;
    let time = kv.get("time").ok_or_else(|| err("has a date but no time"))?;
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| err("date is not yyyy-mm-dd"))?;
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S").map_err(|_| err("time is not hh:mm:ss"))?;
    let local = date.and_time(time);
    match kv.non_empty("tz") {
        None => Ok(local.and_utc()),
        Some(tz) => {
            let offset = zone(tz).ok_or_else(|| err("tz is not +hhmm"))?;
            offset
                .from_local_datetime(&local)
                .single()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| err("time is out of range"))
        }
    }
}

/// What a line reports.
enum Kind {
    WebFilter,
    /// Another UTM profile's verdict on a request: application control,
    /// DNS filter, antivirus, IPS, DLP, SSL inspection…
    Utm,
    Traffic,
    Other,
}

/// UTM `action` values that stopped the request (the log reference's
/// action lists: webfilter `blocked`, app-ctrl `block`/`reset`, DNS filter
/// `block`/`redirect`, IPS `dropped`/`reset`, DLP `block`, …).
fn utm_blocked(action: &str) -> bool {
    matches!(action, "blocked" | "block" | "deny" | "dropped" | "reset" | "redirect")
}

/// UTM `action` values that let the request through.
fn utm_allowed(action: &str) -> bool {
    matches!(action, "pass" | "passthrough" | "allowed" | "allow" | "accept" | "exempt" | "monitored")
}

impl Parser for FortigateParser {
    fn name(&self) -> &'static str {
        "fortigate"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let body = body(line).ok_or_else(|| err("has no date=, logver= or eventtime= key"))?;
        let closed;
        let kv = match kv::parse(body) {
            Ok(kv) => kv,
            Err(kv::KvError::Unterminated(_)) => {
                closed = format!("{body}\"");
                kv::parse(&closed).map_err(|e| ParseError(format!("fortigate line: {e}")))?
            }
            Err(e) => return Err(ParseError(format!("fortigate line: {e}"))),
        };
        let timestamp = timestamp(&kv)?;
        let log_type = kv.get("type").ok_or_else(|| err("has no type= key"))?;
        let subtype = kv.get("subtype").unwrap_or("");
        let kind = match (log_type, subtype) {
            ("utm", "webfilter") => Kind::WebFilter,
            ("utm", _) => Kind::Utm,
            ("traffic", "forward" | "local") => Kind::Traffic,
            _ => Kind::Other,
        };
        let fw_action = kv.non_empty("action").unwrap_or("");
        let (action, outcome) = match kind {
            Kind::WebFilter => verdict(matches!(fw_action, "blocked" | "block" | "deny" | "warning")),
            Kind::Utm if utm_blocked(fw_action) => verdict(true),
            Kind::Utm if utm_allowed(fw_action) => verdict(false),
            Kind::Traffic => {
                verdict(matches!(fw_action, "deny" | "dropped" | "block") || kv.get("utmaction") == Some("block"))
            }
            Kind::Utm | Kind::Other => ("other", Outcome::Unknown),
        };
        let mut e = Event::new(timestamp, EventKind::Proxy, action, outcome, "fortigate", "fortigate", line);
        super::set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        let text = |key: &str| kv.non_empty(key).map(str::to_string);
        e.reason = match kind {
            Kind::Traffic => text("msg").or_else(|| text("action")),
            _ => text("msg"),
        };
        e.code = text("logid");
        e.host_name = text("devname");
        e.source_ip = text("srcip");
        e.source_port = number(kv.get("srcport").unwrap_or(""), "fortigate srcport")?;
        e.source_mac = kv.non_empty("srcmac").map(str::to_ascii_lowercase);
        e.destination_ip = text("dstip");
        e.destination_port = number(kv.get("dstport").unwrap_or(""), "fortigate dstport")?;
        e.user_name = text("user").or_else(|| text("unauthuser")).filter(|u| u != "N/A");
        e.device_name = text("srcname");
        e.filter_category = text("catdesc").or_else(|| if subtype == "app-ctrl" { text("appcat") } else { None });
        e.http_method = text("httpmethod");
        e.http_bytes = number(kv.get("rcvdbyte").unwrap_or(""), "fortigate rcvdbyte")?;
        e.http_referrer = text("referralurl");
        e.user_agent = text("agent");
        e.http_mime_type = text("contenttype");
        e.duration_ms =
            number::<u64>(kv.get("duration").unwrap_or(""), "fortigate duration")?.and_then(|s| s.checked_mul(1000));
        set_fortigate_url(&mut e, &kv);
        out.push(e);
        Ok(LineUse::Event)
    }
}

/// `url` as logged when it is a full URL; a path (`/x`) joined to
/// `hostname`; or `hostname` (or a DNS filter's `qname`) alone when there
/// is no `url`.
fn set_fortigate_url(e: &mut Event, kv: &Pairs<'_>) {
    let host = kv.non_empty("hostname").or_else(|| kv.non_empty("qname"));
    match (kv.non_empty("url"), host) {
        (Some(path), Some(host)) if path.starts_with('/') => {
            let scheme =
                if kv.get("service").is_some_and(|s| s.eq_ignore_ascii_case("HTTPS")) { "https" } else { "http" };
            set_url(e, &format!("{scheme}://{host}{path}"));
        }
        (Some(url), _) if url.contains("://") => set_url(e, url),
        (_, Some(host)) => {
            e.url_full = Some(host.to_string());
            e.url_domain = Some(host.to_ascii_lowercase());
        }
        (Some(other), None) => e.url_full = Some(other.to_string()),
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::{ctx, parse_one};

    fn one(line: &str) -> Event {
        parse_one(&mut FortigateParser, line).unwrap()
    }

    const WEBFILTER: &str = r#"date=2024-03-04 time=10:42:00 devname="FG100F" devid="FG100FTK20000000" logid="0316013056" type="utm" subtype="webfilter" eventtype="ftgd_blk" level="warning" vd="root" eventtime=1709548920123456789 tz="+0000" policyid=1 sessionid=5523 srcip=10.1.2.3 srcport=51234 srcintf="port1" srcintfrole="lan" srcmac="3C:22:FB:01:02:03" srcname="LIB-PC-07" dstip=93.184.216.34 dstport=443 dstintf="wan1" proto=6 service="HTTPS" hostname="www.example.com" profile="default" action="blocked" reqtype="direct" url="https://www.example.com/page" httpmethod="GET" sentbyte=517 rcvdbyte=1200 direction="outgoing" msg="URL belongs to a denied category in policy" method="domain" cat=26 catdesc="Malicious Websites" user="jbloggs" group="Pupils" agent="Mozilla/5.0 (Windows NT 10.0)" referralurl="https://www.google.com/""#;

    #[test]
    fn webfilter_block_reads_every_field() {
        let e = one(WEBFILTER);
        assert_eq!(e.timestamp.timestamp_nanos_opt(), Some(1_709_548_920_123_456_789));
        assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Proxy, "blocked", Outcome::Failure));
        assert_eq!(e.reason.as_deref(), Some("URL belongs to a denied category in policy"));
        assert_eq!(e.code.as_deref(), Some("0316013056"));
        assert_eq!(e.host_name.as_deref(), Some("FG100F"));
        assert_eq!((e.source_ip.as_deref(), e.source_port), (Some("10.1.2.3"), Some(51234)));
        assert_eq!(e.source_mac.as_deref(), Some("3c:22:fb:01:02:03"));
        assert_eq!(e.device_name.as_deref(), Some("LIB-PC-07"));
        assert_eq!((e.destination_ip.as_deref(), e.destination_port), (Some("93.184.216.34"), Some(443)));
        assert_eq!(e.user_name.as_deref(), Some("jbloggs"));
        assert_eq!(e.url_full.as_deref(), Some("https://www.example.com/page"));
        assert_eq!(e.url_domain.as_deref(), Some("www.example.com"));
        assert_eq!(e.filter_category.as_deref(), Some("Malicious Websites"));
        assert_eq!(e.http_method.as_deref(), Some("GET"));
        assert_eq!(e.http_bytes, Some(1200));
        assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0 (Windows NT 10.0)"));
        assert_eq!(e.http_referrer.as_deref(), Some("https://www.google.com/"));
        assert_eq!((e.observer_product.as_str(), e.log_format.as_str()), ("fortigate", "fortigate"));
        assert_eq!(e.message, WEBFILTER);
        let c = ctx();
        assert_eq!(e.id, Event::derive_id(c.tenant, c.source, c.offset, WEBFILTER.as_bytes()));
    }

    #[test]
    fn fortios_6_example_with_path_url_and_seconds_eventtime() {
        // From the FortiOS 7.0 log reference, "Webfilter log support for CEF".
        let line = r#"date=2018-12-27 time=11:23:50 logid="0316013056" type="utm" subtype="webfilter" eventtype="ftgd_blk" level="warning" vd="vdom1" eventtime=1545938629 policyid=1 sessionid=764 user="bob" srcip=10.1.100.11 srcport=59194 srcintf="port12" srcintfrole="undefined" dstip=185.230.61.185 dstport=80 dstintf="port11" dstintfrole="undefined" proto=6 service="HTTP" hostname="ambrishsriv.wixsite.com" profile="g-default" action="blocked" reqtype="direct" url="/bizsquads" sentbyte=96 rcvdbyte=0 direction="outgoing" msg="URL belongs to a denied category in policy" method="domain" cat=26 catdesc="Malicious Websites" crscore=60 crlevel="high""#;
        let e = one(line);
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2018, 12, 27, 19, 23, 49).unwrap());
        assert_eq!(e.url_full.as_deref(), Some("http://ambrishsriv.wixsite.com/bizsquads"));
        assert_eq!(e.url_domain.as_deref(), Some("ambrishsriv.wixsite.com"));
        assert_eq!(e.http_method, None);
    }

    #[test]
    fn syslog_headers_zones_and_passthrough() {
        let line = r#"<189>Mar  4 10:42:00 fw1 date=2024-03-04 time=10:42:00 logid="0316013057" type="utm" subtype="webfilter" eventtype="ftgd_allow" tz="+0100" srcip=10.1.2.3 hostname="www.bing.com" action="passthrough" url="https://www.bing.com/search?q=self+harm" catdesc="Search Engines and Portals" unauthuser="jo.pupil""#;
        let e = one(line);
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 9, 42, 0).unwrap());
        assert_eq!((e.action.as_str(), e.outcome), ("allowed", Outcome::Success));
        assert_eq!(e.search_query.as_deref(), Some("self harm"));
        assert_eq!(e.user_name.as_deref(), Some("jo.pupil"));
        let e = one("date=2024-03-04 time=10:42:00 type=\"utm\" subtype=\"webfilter\" action=\"passthrough\"");
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap());
        let e =
            one("logver=702071577 eventtime=1709548920123456 type=\"utm\" subtype=\"webfilter\" action=\"warning\"");
        assert_eq!((e.timestamp.timestamp_micros(), e.action.as_str()), (1_709_548_920_123_456, "blocked"));
        let e = one("eventtime=1709548920123 type=\"event\" subtype=\"system\" msg=\"Admin login\"");
        assert_eq!(e.timestamp.timestamp_millis(), 1_709_548_920_123);
    }

    #[test]
    fn traffic_forward_sessions() {
        let deny = r#"date=2024-03-04 time=10:42:00 logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" eventtime=1709548920 srcip=10.1.2.3 srcport=50000 dstip=104.16.0.1 dstport=443 action="deny" policyid=0 service="HTTPS" hostname="www.proxysite.com" duration=0 sentbyte=0 rcvdbyte=0 catdesc="Proxy Avoidance""#;
        let e = one(deny);
        assert_eq!((e.action.as_str(), e.outcome), ("blocked", Outcome::Failure));
        assert_eq!(e.reason.as_deref(), Some("deny"));
        assert_eq!(e.url_full.as_deref(), Some("www.proxysite.com"));
        assert_eq!(e.url_domain.as_deref(), Some("www.proxysite.com"));
        assert_eq!(e.filter_category.as_deref(), Some("Proxy Avoidance"));
        assert_eq!(e.destination_port, Some(443));
        let close = r#"date=2024-03-04 time=10:42:00 type="traffic" subtype="forward" srcip=10.1.2.3 dstip=8.8.8.8 dstport=53 action="close" duration=12 rcvdbyte=300"#;
        let e = one(close);
        assert_eq!((e.action.as_str(), e.outcome), ("allowed", Outcome::Success));
        assert_eq!((e.duration_ms, e.url_full.as_ref()), (Some(12_000), None));
        let utm = r#"date=2024-03-04 time=10:42:00 type="traffic" subtype="forward" action="close" utmaction="block" msg="blocked by UTM""#;
        let e = one(utm);
        assert_eq!((e.action.as_str(), e.reason.as_deref()), ("blocked", Some("blocked by UTM")));
    }

    #[test]
    fn application_control_and_dns_filter_verdicts() {
        let app = r#"date=2024-03-04 time=10:42:00 logid="1059028705" type="utm" subtype="app-ctrl" eventtype="app-ctrl-all" level="warning" vd="root" eventtime=1709548920 appid=16072 srcip=10.1.2.3 dstip=198.51.100.128 srcport=50798 dstport=443 proto=6 service="HTTPS" direction="incoming" policyid=1 sessionid=4414 applist="block-social.media" appcat="Video/Audio" app="TikTok" action="block" hostname="www.tiktok.com" url="/" msg="Video/Audio: TikTok," apprisk="elevated""#;
        let e = one(app);
        assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Proxy, "blocked", Outcome::Failure));
        assert_eq!(e.url_full.as_deref(), Some("https://www.tiktok.com/"));
        assert_eq!(e.url_domain.as_deref(), Some("www.tiktok.com"));
        assert_eq!(e.filter_category.as_deref(), Some("Video/Audio"));
        assert_eq!(e.reason.as_deref(), Some("Video/Audio: TikTok,"));
        assert_eq!(e.source_ip.as_deref(), Some("10.1.2.3"));
        let pass = app.replace("action=\"block\"", "action=\"pass\"");
        assert_eq!(one(&pass).action.as_str(), "allowed");

        let dns = r#"date=2024-03-04 time=10:42:00 logid="1501054802" type="utm" subtype="dns" eventtype="dns-response" level="notice" vd="root" eventtime=1709548920 policyid=1 srcip=10.1.2.4 srcport=50002 dstip=192.0.2.53 dstport=53 proto=17 profile="school-dns" xid=57945 qname="www.Gambling.example" qtype="A" qtypeval=1 qclass="IN" msg="Domain was blocked because it is in the domain-filter list" action="redirect" cat=11 catdesc="Gambling""#;
        let e = one(dns);
        assert_eq!((e.action.as_str(), e.outcome), ("blocked", Outcome::Failure));
        assert_eq!(
            (e.url_full.as_deref(), e.url_domain.as_deref()),
            (Some("www.Gambling.example"), Some("www.gambling.example"))
        );
        assert_eq!(e.filter_category.as_deref(), Some("Gambling"));
        let e = one(&dns.replace("action=\"redirect\"", "action=\"pass\""));
        assert_eq!(e.action.as_str(), "allowed");
        // The query line has no action yet: other, but the domain is kept.
        let query = r#"date=2024-03-04 time=10:42:00 logid="1500054000" type="utm" subtype="dns" eventtype="dns-query" level="information" srcip=10.1.2.4 qname="changelogs.ubuntu.com" qtype="AAAA""#;
        let e = one(query);
        assert_eq!((e.action.as_str(), e.url_domain.as_deref()), ("other", Some("changelogs.ubuntu.com")));
    }

    #[test]
    fn other_utm_verdicts_local_traffic_and_placeholder_users() {
        let virus = r#"date=2024-03-04 time=10:42:00 logid="0211008192" type="utm" subtype="virus" eventtype="infected" level="warning" msg="File is infected." action="blocked" service="HTTP" srcip=10.1.2.3 dstip=198.51.100.55 filename="eicar.com" virus="EICAR_TEST_FILE" url="http://198.51.100.55/virus/eicar.com" agent="curl/7.47.0""#;
        let e = one(virus);
        assert_eq!((e.action.as_str(), e.reason.as_deref()), ("blocked", Some("File is infected.")));
        assert_eq!(e.url_full.as_deref(), Some("http://198.51.100.55/virus/eicar.com"));
        let anomaly = r#"date=2024-03-04 time=10:42:00 logid="0720018433" type="utm" subtype="anomaly" srcip=10.1.2.3 action="clear_session" msg="anomaly: icmp_flood, 51 > threshold 50""#;
        assert_eq!(one(anomaly).action.as_str(), "other");
        let local = r#"date=2024-03-04 time=10:42:00 logid="0001000014" type="traffic" subtype="local" level="notice" srcip=203.0.113.9 srcport=62024 dstip=192.0.2.2 dstport=443 action="deny" policyid=0 policytype="local-in-policy" service="HTTPS""#;
        let e = one(local);
        assert_eq!((e.action.as_str(), e.reason.as_deref()), ("blocked", Some("deny")));
        let vpn = r#"date=2024-03-04 time=10:42:00 logid="0101037127" type="event" subtype="vpn" msg="progress IPsec phase 1" action="negotiate" user="N/A" group="N/A""#;
        assert_eq!(one(vpn).user_name, None);
    }

    #[test]
    fn a_line_cut_inside_its_last_quoted_value_is_still_read() {
        let line = r#"date=2024-03-04 time=10:42:00 logid="0316013056" type="utm" subtype="webfilter" action="blocked" srcip=10.1.2.3 hostname="www.example.com" url="https://www.example.com/sea"#;
        let e = one(line);
        assert_eq!((e.action.as_str(), e.source_ip.as_deref()), ("blocked", Some("10.1.2.3")));
        assert_eq!(e.url_full.as_deref(), Some("https://www.example.com/sea"));
        assert_eq!(e.message, line);
    }

    #[test]
    fn other_types_are_kept_as_other() {
        let e = one(
            r#"date=2024-03-04 time=10:42:00 logid="0100032001" type="event" subtype="system" level="information" user="admin" msg="Administrator admin logged in successfully from https(10.0.0.1)""#,
        );
        assert_eq!((e.action.as_str(), e.outcome), ("other", Outcome::Unknown));
        assert_eq!(e.reason.as_deref(), Some("Administrator admin logged in successfully from https(10.0.0.1)"));
    }

    #[test]
    fn hostile_content_is_kept_verbatim() {
        let line = "date=2024-03-04 time=10:42:00 type=\"utm\" subtype=\"webfilter\" action=\"blocked\" user=\"<b>\\\"x\\\"\u{7}</b>\" url=\"http://x.example/<script>\u{1b}[2J\"";
        let e = one(line);
        assert_eq!(e.message, line);
        assert_eq!(e.user_name.as_deref(), Some("<b>\"x\"\u{7}</b>"));
        assert_eq!(e.url_full.as_deref(), Some("http://x.example/<script>\u{1b}[2J"));
    }

    #[test]
    fn truncated_lines_are_errors_or_events_and_never_panic() {
        for cut in 0..=WEBFILTER.len() {
            let Some(prefix) = WEBFILTER.get(..cut) else { continue };
            let mut out = Vec::new();
            match FortigateParser.parse(prefix, &ctx(), &mut out) {
                Ok(_) => assert_eq!(out.len(), 1, "{prefix:?}"),
                Err(_) => assert!(out.is_empty()),
            }
        }
    }

    #[test]
    fn other_formats_are_rejected_with_a_reason() {
        for (line, why) in [
            ("", "no date="),
            ("Mar  4 10:42:00 gate sshd[1]: Accepted password for a from 10.0.0.1 port 22 ssh2", "no date="),
            ("1709548920.123 145 10.1.2.3 TCP_MISS/200 5120 GET http://a/ - HIER_DIRECT/1.2.3.4 text/html", "no date="),
            ("xdate=2024-03-04 time=10:42:00 type=utm", "no date="),
            ("date=2024-03-04 time=10:42:00 type=utm junk", "junk"),
            ("date=2024-03-04 time=10:42:00", "type="),
            ("date=04/03/2024 time=10:42:00 type=utm", "yyyy-mm-dd"),
            ("date=2024-03-04 type=utm", "no time"),
            ("date=2024-03-04 time=10:42:00 tz=\"GMT\" type=utm", "tz"),
            ("eventtime=-5 type=utm", "eventtime"),
            ("date=2024-03-04 time=10:42:00 type=utm srcport=http", "srcport"),
        ] {
            let e = FortigateParser.parse(line, &ctx(), &mut Vec::new()).unwrap_err();
            assert!(e.0.contains(why), "{line:?}: {e}");
        }
    }
}
