//! An alert as an email: subject line, plain-text and HTML bodies.
//!
//! The bodies list the alert's details (who, which device, how we know it
//! was them) and then "What they did around this time": the alert's
//! context (see [`crate::context`]), one row per entry, times in UK time,
//! the alert's own event marked.
//!
//! Every value that comes from a log is hostile: control characters (CR,
//! LF, NUL, ...) become spaces in headers ([`header_text`]) and in both
//! bodies, and values are HTML-escaped in the HTML body ([`escape_html`]).

use crate::alert::Alert;
use crate::context::{ContextEntry, EntryKind};
use crate::uk_time;
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use std::fmt::Write;
use vigil_core::config::Role;

/// Log-derived text in a header is cut to this many characters.
const MAX_HEADER_CHARS: usize = 120;

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by HTML entities, safe in
/// element content and in quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` on one line: control characters (CR, LF, tab, ...) and Unicode
/// line/paragraph separators become spaces.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() || c == '\u{2028}' || c == '\u{2029}' { ' ' } else { c }).collect()
}

/// `text` made safe for a header: on one line, trimmed, and cut to
/// 120 characters (ending with `…` when cut).
pub fn header_text(text: &str) -> String {
    short_line(text, MAX_HEADER_CHARS)
}

/// `text` on one line, trimmed, and cut to `max` characters (ending with
/// `…` when cut).
pub(crate) fn short_line(text: &str, max: usize) -> String {
    let line = one_line(text);
    let line = line.trim();
    if line.chars().count() <= max {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `[Vigil] HIGH self-harm: jsmith`.
pub fn subject(alert: &Alert) -> String {
    let who = alert.who().unwrap_or("unknown user");
    format!("[Vigil] {} {}: {}", alert.severity.as_str().to_uppercase(), header_text(&alert.category), header_text(who))
}

/// The email for `alert` from `from` to every address in `to`, with
/// `Message-ID: <alert-id@vigil>` so mail clients can spot duplicates, and
/// the address of the alert's page when the console's public URL
/// (`[console] public_url`) is given as `console`.
pub fn compose(
    alert: &Alert,
    from: &Mailbox,
    to: &[Mailbox],
    console: Option<&str>,
) -> Result<Message, lettre::error::Error> {
    build(alert, from, to, console, None)
}

/// The escalation email for `alert`, unacknowledged after `waited`: the
/// alert's email with the subject `[Vigil] NOT ACKNOWLEDGED …`, a first row
/// saying how long it has waited, and its own `Message-ID`.
pub fn compose_escalation(
    alert: &Alert,
    from: &Mailbox,
    to: &[Mailbox],
    console: Option<&str>,
    waited: std::time::Duration,
) -> Result<Message, lettre::error::Error> {
    build(alert, from, to, console, Some(waited))
}

fn build(
    alert: &Alert,
    from: &Mailbox,
    to: &[Mailbox],
    console: Option<&str>,
    escalated_after: Option<std::time::Duration>,
) -> Result<Message, lettre::error::Error> {
    let mut builder = Message::builder().from(from.clone());
    for mailbox in to {
        builder = builder.to(mailbox.clone());
    }
    let mut details = details(alert);
    if let Some(base) = console {
        details.insert(0, ("In the console", console_link(base, &alert.id)));
    }
    let (subject, message_id) = match escalated_after {
        Some(waited) => {
            let minutes = waited.as_secs().div_ceil(60);
            details.insert(0, ("Not acknowledged", format!("nobody has acknowledged this alert in {minutes} minutes")));
            (
                subject(alert).replacen("[Vigil] ", "[Vigil] NOT ACKNOWLEDGED ", 1),
                format!("<{}.escalated@vigil>", alert.id),
            )
        }
        None => (subject(alert), format!("<{}@vigil>", alert.id)),
    };
    builder
        .subject(subject)
        .message_id(Some(message_id))
        .multipart(MultiPart::alternative_plain_html(text_body(alert, &details), html_body(alert, &details)))
}

/// The alert's page in the console at `base` (alert ids are hex: nothing to
/// encode).
pub fn console_link(base: &str, id: &str) -> String {
    format!("{}/alerts/{id}", base.trim_end_matches('/'))
}

/// The labelled values both bodies list, in order; absent ones left out.
fn details(alert: &Alert) -> Vec<(&'static str, String)> {
    let rule = match &alert.rule_description {
        Some(description) => format!("{} ({})", alert.rule_id, description),
        None => alert.rule_id.clone(),
    };
    let mut rows =
        vec![("Severity", alert.severity.as_str().to_string()), ("Category", alert.category.clone()), ("Rule", rule)];
    if alert.about_address() {
        rows.extend(alert.group.clone().map(|ip| ("Address", ip)));
        rows.extend(accounts_tried(alert).map(|users| ("Accounts tried", users)));
    } else {
        rows.extend(person(alert));
        let optional = [("Source IP", &alert.source_ip), ("Device", &alert.device_name)];
        rows.extend(optional.into_iter().filter_map(|(label, v)| v.clone().map(|v| (label, v))));
        rows.push(("How we know who it was", attribution(alert)));
    }
    rows.extend(alert.host_name.clone().map(|host| ("Logged by", host)));
    rows.push(("Time (UTC)", alert.timestamp.format("%Y-%m-%d %H:%M:%S UTC").to_string()));
    rows.push(("Time (UK)", uk_time::format(alert.timestamp)));
    rows.push(("Matched", format!("\"{}\" in {}", alert.phrase, alert.field.as_str())));
    let context =
        [("Search terms", &alert.search_query), ("URL", &alert.url_full), ("Email subject", &alert.email_subject)];
    rows.extend(context.into_iter().filter_map(|(label, v)| v.clone().map(|v| (label, v))));
    if alert.suppressed > 0 {
        rows.push((
            "Earlier matches not emailed",
            format!("{} (throttled since the previous alert)", alert.suppressed),
        ));
    }
    if !alert.recipients.is_empty() {
        rows.push(("Sent to", alert.recipients.join(", ")));
    }
    rows.push(("School (tenant)", alert.tenant.clone()));
    rows.push(("Event id", alert.event_id.clone()));
    rows.push(("Alert id", alert.id.clone()));
    rows
}

/// The user's row: "Pupil" / "Staff member" / "User", and their name,
/// account and year group ("Lowri Evans (l.evans), Year 9").
fn person(alert: &Alert) -> Option<(&'static str, String)> {
    let user = alert.user_name.as_deref()?;
    let mut value = match &alert.user_full_name {
        Some(full) => format!("{full} ({user})"),
        None => user.to_string(),
    };
    match alert.user_year_group {
        Some(0) => value.push_str(", Reception"),
        Some(year @ 1..=13) => {
            let _ = write!(value, ", Year {year}");
        }
        Some(other) => {
            let _ = write!(value, ", year group {other}");
        }
        None => {}
    }
    let label = match alert.user_role.as_deref() {
        Some("pupil") => "Pupil",
        Some("staff") => "Staff member",
        Some(other) => {
            let _ = write!(value, " (role: {other})");
            "User"
        }
        None => "User",
    };
    Some((label, value))
}

/// The accounts an address's sign-in attempts in the context tried, in
/// order of first attempt ("root, admin, oracle"), for an alert about the
/// address.
fn accounts_tried(alert: &Alert) -> Option<String> {
    let mut users: Vec<&str> = Vec::new();
    let mut entries: Vec<&ContextEntry> = alert.context.iter().filter(|e| e.kind == EntryKind::SignIn).collect();
    entries.sort_by_key(|e| e.timestamp);
    for user in entries.iter().filter_map(|e| e.user.as_deref()) {
        if !users.contains(&user) {
            users.push(user);
        }
    }
    (!users.is_empty()).then(|| users.join(", "))
}

/// How the alert's user was found, in plain words.
fn attribution(alert: &Alert) -> String {
    let address = alert.source_ip.as_deref().unwrap_or("unknown");
    match (&alert.user_name, alert.user_attribution.as_deref()) {
        (None, _) => format!("Not known: the log gives only the address {address}."),
        (Some(_), None) => "The log line names them.".to_string(),
        (Some(_), Some(how)) => {
            match how.strip_prefix("lease:") {
                Some(log) => {
                    format!("The log line gives only the address {address}; the {log} log shows it was theirs at that time.")
                }
                None => how.to_string(),
            }
        }
    }
}

/// An entry's time (UK), what it is, and its details, one line each.
fn context_row(entry: &ContextEntry) -> (String, &'static str, String) {
    let what = match (entry.kind, entry.blocked) {
        (EntryKind::Search, false) => "Searched",
        (EntryKind::Search, true) => "Searched (blocked)",
        (EntryKind::Email, _) => "Email",
        (EntryKind::Request, true) => "Blocked",
        (EntryKind::Request, false) => "Visited",
        (EntryKind::SignIn, _) => "Sign-in",
        (EntryKind::Other, _) => "Event",
    };
    let mut details = one_line(&entry.text);
    if let Some(category) = &entry.category {
        let _ = write!(details, " (filter category: {})", one_line(category));
    }
    if entry.times > 1 {
        let _ = write!(details, " ({} times)", entry.times);
    }
    if entry.alert_event {
        details.push_str(" ← this alert");
    }
    (uk_time::to_local(entry.timestamp).format("%H:%M:%S").to_string(), what, details)
}

/// The context block's heading.
fn context_heading(alert: &Alert) -> &'static str {
    match alert.user_name {
        Some(_) if !alert.about_address() => "What they did around this time",
        _ => "What this address did around this time",
    }
}

/// The line under the context table, if one is needed.
fn context_note(alert: &Alert) -> Option<String> {
    if alert.context_omitted > 0 {
        return Some(format!(
            "{} more, further from the alert in time, are not shown; search the logs for the rest.",
            alert.context_omitted
        ));
    }
    let nothing_else = alert.context.iter().all(|e| e.alert_event);
    nothing_else.then(|| "No other searches, blocked requests or emails were logged around this time.".to_string())
}

/// What the reader should do next.
fn reminder(role: Role) -> &'static str {
    match role {
        Role::Dsl => "Follow the school's safeguarding procedure: record this concern and act on it as the procedure says. Do not forward this email outside the safeguarding team.",
        Role::Ict => "Follow the school's incident response procedure, and tell the DSL if a pupil may be at risk.",
    }
}

fn headline(alert: &Alert) -> String {
    format!("Vigil raised a {} alert: {}.", alert.severity.as_str().to_uppercase(), one_line(&alert.category))
}

fn text_body(alert: &Alert, details: &[(&'static str, String)]) -> String {
    let mut out = format!("{}\n\n", headline(alert));
    for (label, value) in details {
        let _ = writeln!(out, "{label}: {}", one_line(value));
    }
    if !alert.context.is_empty() {
        let _ = writeln!(out, "\n{} (UK time):", context_heading(alert));
        for entry in &alert.context {
            let (time, what, details) = context_row(entry);
            let mark = if entry.alert_event { '>' } else { ' ' };
            let _ = writeln!(out, "{mark} {time}  {what}: {details}");
        }
        if let Some(note) = context_note(alert) {
            let _ = writeln!(out, "  {note}");
        }
    }
    let _ = write!(out, "\n{}\n", reminder(alert.role));
    out
}

fn html_body(alert: &Alert, details: &[(&'static str, String)]) -> String {
    let mut out =
        format!("<!DOCTYPE html>\n<html><body>\n<p><strong>{}</strong></p>\n<table>\n", escape_html(&headline(alert)));
    for (label, value) in details {
        let _ = writeln!(out, "<tr><th align=\"left\">{label}</th><td>{}</td></tr>", escape_html(&one_line(value)));
    }
    out.push_str("</table>\n");
    if !alert.context.is_empty() {
        let _ = write!(
            out,
            "<h3>{}</h3>\n<table>\n<tr><th align=\"left\">Time (UK)</th><th align=\"left\">What</th><th align=\"left\">Details</th></tr>\n",
            context_heading(alert)
        );
        for entry in &alert.context {
            let (time, what, details) = context_row(entry);
            let cells = format!("<td>{time}</td><td>{what}</td><td>{}</td>", escape_html(&details));
            let _ = match entry.alert_event {
                true => writeln!(out, "<tr style=\"font-weight:bold;background:#fff3cd\">{cells}</tr>"),
                false => writeln!(out, "<tr>{cells}</tr>"),
            };
        }
        out.push_str("</table>\n");
        if let Some(note) = context_note(alert) {
            let _ = writeln!(out, "<p>{}</p>", escape_html(&note));
        }
    }
    let _ = write!(out, "<p>{}</p>\n</body></html>\n", escape_html(reminder(alert.role)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Field;
    use chrono::{TimeZone, Utc};
    use vigil_core::config::Severity;
    use vigil_core::{Event, EventKind, Outcome};

    fn alert() -> Alert {
        Alert {
            id: "0123456789abcdef0123456789abcdef".into(),
            timestamp: Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap(),
            rule_id: "self-harm".into(),
            rule_description: Some("Searches about hurting oneself".into()),
            category: "self-harm".into(),
            severity: Severity::Critical,
            role: Role::Dsl,
            phrase: "self harm".into(),
            field: Field::SearchQuery,
            suppressed: 2,
            group: None,
            group_field: None,
            event_kind: None,
            tenant: "school-a".into(),
            user_name: Some("pupil\r\nBcc: attacker@evil.example".into()),
            source_ip: Some("10.1.2.3".into()),
            host_name: None,
            url_full: Some("http://x/?q=<script>alert(\"x\")</script>&a='b'".into()),
            search_query: Some("self harm <b>now</b>".into()),
            email_subject: None,
            event_id: "e1".into(),
            user_full_name: None,
            user_role: None,
            user_year_group: None,
            user_attribution: None,
            device_name: None,
            context: Vec::new(),
            context_omitted: 0,
            recipients: vec!["dsl".into(), "deputies".into()],
            delivery: vigil_core::config::Delivery::Immediate,
        }
    }

    /// A pupil's alert at 12:15 UTC on 1 July 2026 (13:15 BST), with
    /// directory fields and no context yet.
    fn pupil_alert() -> Alert {
        Alert {
            user_name: Some("l.evans".into()),
            user_full_name: Some("Lowri Evans".into()),
            user_role: Some("pupil".into()),
            user_year_group: Some(9),
            user_attribution: Some("lease:radius".into()),
            device_name: Some("LIB-PC-07".into()),
            timestamp: Utc.with_ymd_and_hms(2026, 7, 1, 12, 15, 0).unwrap(),
            url_full: None,
            ..alert()
        }
    }

    /// An event of l.evans `minutes` after 12:00 UTC, changed by `set`.
    fn logged(id: &str, minutes: u32, set: impl FnOnce(&mut Event)) -> Event {
        let at = Utc.with_ymd_and_hms(2026, 7, 1, 12, minutes, 0).unwrap();
        let mut e = Event::new(at, EventKind::Proxy, "allowed", Outcome::Success, "squid", "squid", "raw");
        e.id = id.into();
        e.user_name = Some("l.evans".into());
        set(&mut e);
        e
    }

    fn context_of(events: &[Event]) -> Vec<ContextEntry> {
        events.iter().map(|e| ContextEntry::of(e).expect("context-worthy")).collect()
    }

    /// The pupil's alert with three earlier entries and its own event.
    fn alert_with_context() -> Alert {
        let mut a = pupil_alert();
        a.context = context_of(&[
            logged("e1", 2, |e| e.search_query = Some("i feel so alone".into())),
            logged("e2", 9, |e| {
                e.action = "blocked".into();
                e.url_domain = Some("pills-online.example".into());
                e.filter_category = Some("Pharmacy".into());
            }),
            logged("e3", 12, |e| e.email_subject = Some("sorry for everything".into())),
        ]);
        a.context.push(ContextEntry::of_alert_event(&logged("e4", 15, |e| {
            e.search_query = Some("self harm <b>now</b>".into())
        })));
        a
    }

    #[test]
    fn escape_html_neutralises_markup_and_quotes() {
        assert_eq!(
            escape_html("<script>alert(\"x\" + 'y') && 1</script>"),
            "&lt;script&gt;alert(&quot;x&quot; + &#x27;y&#x27;) &amp;&amp; 1&lt;/script&gt;"
        );
        assert_eq!(escape_html("plain ü"), "plain ü");
    }

    #[test]
    fn headers_lose_line_breaks_from_log_values() {
        let a = alert();
        let s = subject(&a);
        assert_eq!(s, "[Vigil] CRITICAL self-harm: pupil  Bcc: attacker@evil.example");
        let long = header_text(&"x".repeat(500));
        assert_eq!(long.chars().count(), MAX_HEADER_CHARS);
        assert!(long.ends_with('…'));
        let formatted = String::from_utf8(
            compose(&a, &"v@school.example".parse().unwrap(), &["dsl@school.example".parse().unwrap()], None)
                .unwrap()
                .formatted(),
        )
        .unwrap();
        let head = formatted.split("\r\n\r\n").next().unwrap();
        assert!(!head.contains("\r\nBcc:") && !head.contains("\nBcc:"), "{head}");
        assert!(head.contains("\r\nMessage-ID: <0123456789abcdef0123456789abcdef@vigil>\r\n"), "{head}");
    }

    #[test]
    fn the_console_link_leads_both_bodies_when_the_public_url_is_set() {
        let a = alert();
        let from: Mailbox = "v@school.example".parse().unwrap();
        let to: Vec<Mailbox> = vec!["dsl@school.example".parse().unwrap()];
        let with = compose(&a, &from, &to, Some("https://vigil.school.example/")).unwrap().formatted();
        let bodies = vigil_testkit::mime::parts(&String::from_utf8(with).unwrap());
        let link = "https://vigil.school.example/alerts/0123456789abcdef0123456789abcdef";
        assert_eq!(bodies.len(), 2);
        assert!(bodies.iter().all(|part| part.text.contains(link)), "{bodies:?}");
        let without = String::from_utf8(compose(&a, &from, &to, None).unwrap().formatted()).unwrap();
        assert!(!without.contains("In the console"));
    }

    #[test]
    fn an_escalation_says_so_in_its_subject_and_first_row_with_its_own_message_id() {
        let a = alert();
        let from: Mailbox = "v@school.example".parse().unwrap();
        let to: Vec<Mailbox> = vec!["head@school.example".parse().unwrap()];
        let waited = std::time::Duration::from_secs(1800);
        let raw = String::from_utf8(compose_escalation(&a, &from, &to, None, waited).unwrap().formatted()).unwrap();
        assert!(raw.contains("Subject: [Vigil] NOT ACKNOWLEDGED CRITICAL self-harm: pupil"), "{raw}");
        assert!(raw.contains("Message-ID: <0123456789abcdef0123456789abcdef.escalated@vigil>"), "{raw}");
        let text = &vigil_testkit::mime::parts(&raw)[0].text;
        assert!(text.contains("Not acknowledged: nobody has acknowledged this alert in 30 minutes"), "{text}");
    }

    #[test]
    fn html_body_escapes_every_log_value() {
        let a = alert();
        let html = html_body(&a, &details(&a));
        assert!(!html.contains("<script>") && !html.contains("<b>now"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;a=&#x27;b&#x27;"), "{html}");
        assert!(html.contains("self harm &lt;b&gt;now&lt;/b&gt;"), "{html}");
        let text = text_body(&a, &details(&a));
        assert!(text.contains("User: pupil  Bcc: attacker@evil.example\n"), "{text}");
        assert!(text.contains("Earlier matches not emailed: 2"), "{text}");
        assert!(text.contains("Sent to: dsl, deputies\n"), "{text}");
        assert!(text.contains("safeguarding procedure"), "{text}");
    }

    #[test]
    fn the_pupil_device_and_attribution_are_named_plainly() {
        let a = pupil_alert();
        let text = text_body(&a, &details(&a));
        assert!(text.contains("\nPupil: Lowri Evans (l.evans), Year 9\n"), "{text}");
        assert!(text.contains("\nDevice: LIB-PC-07\n"), "{text}");
        assert!(
            text.contains("\nHow we know who it was: The log line gives only the address 10.1.2.3; the radius log shows it was theirs at that time.\n"),
            "{text}"
        );
        let reception = Alert { user_year_group: Some(0), user_attribution: None, ..pupil_alert() };
        let text = text_body(&reception, &details(&reception));
        assert!(text.contains("\nPupil: Lowri Evans (l.evans), Reception\n"), "{text}");
        assert!(text.contains("\nHow we know who it was: The log line names them.\n"), "{text}");
        let staff = Alert {
            user_name: Some("j.smith".into()),
            user_full_name: Some("John Smith".into()),
            user_role: Some("staff".into()),
            user_year_group: None,
            ..pupil_alert()
        };
        let text = text_body(&staff, &details(&staff));
        assert!(text.contains("\nStaff member: John Smith (j.smith)\n") && !text.contains("Pupil"), "{text}");
        let nobody = Alert { user_name: None, ..alert_with_context() };
        let text = text_body(&nobody, &details(&nobody));
        assert!(
            text.contains("\nHow we know who it was: Not known: the log gives only the address 10.1.2.3.\n"),
            "{text}"
        );
        assert!(text.contains("\nWhat this address did around this time (UK time):\n"), "{text}");
    }

    #[test]
    fn context_is_listed_oldest_first_in_uk_time_with_the_alert_marked() {
        let a = alert_with_context();
        let text = text_body(&a, &details(&a));
        let block = text.split("What they did around this time (UK time):\n").nth(1).expect("a context block");
        let lines: Vec<&str> = block.lines().take(5).collect();
        assert_eq!(
            lines,
            [
                "  13:02:00  Searched: i feel so alone",
                "  13:09:00  Blocked: pills-online.example (filter category: Pharmacy)",
                "  13:12:00  Email: sorry for everything",
                "> 13:15:00  Searched: self harm <b>now</b> ← this alert",
                "",
            ]
        );
        let html = html_body(&a, &details(&a));
        assert!(html.contains("<h3>What they did around this time</h3>"), "{html}");
        assert!(html.contains("<tr><td>13:02:00</td><td>Searched</td><td>i feel so alone</td></tr>"), "{html}");
        assert!(
            html.contains("background:#fff3cd\"><td>13:15:00</td><td>Searched</td><td>self harm &lt;b&gt;now&lt;/b&gt; ← this alert</td></tr>"),
            "{html}"
        );
        let alone = Alert { context: a.context[3..].to_vec(), ..alert_with_context() };
        assert!(text_body(&alone, &details(&alone)).contains("No other searches, blocked requests or emails"));
        let cut = Alert { context_omitted: 7, ..alert_with_context() };
        assert!(text_body(&cut, &details(&cut)).contains("  7 more, further from the alert in time, are not shown"));
    }

    /// Values an attacker can put in logs: markup, header injection, NUL,
    /// terminal escapes, Unicode line separators, and sheer length.
    const HOSTILE: &[&str] = &[
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "x\r\nBcc: attacker@evil.example\r\n\r\n<b>body</b>",
        "nul\0byte\x07bell\x1b[31mred\x7fdel\u{85}nel",
        "line\u{2028}sep\u{2029}para\ttab\x0bvt\x0cff",
        "\"quoted\" & 'single' </td></tr></table><iframe src=//evil>",
    ];

    #[test]
    fn hostile_log_values_reach_neither_markup_nor_headers() {
        let long = format!("<script>{}", "how to hide cuts ".repeat(600));
        assert!(long.chars().count() > 10_000);
        let values: Vec<String> = HOSTILE.iter().map(|v| v.to_string()).chain([long.clone()]).collect();
        let mut events = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let minute = u32::try_from(i).unwrap();
            events.push(logged(&format!("q{i}"), minute, |e| e.search_query = Some(v.clone())));
            events.push(logged(&format!("m{i}"), minute, |e| e.email_subject = Some(v.clone())));
            events.push(logged(&format!("b{i}"), minute, |e| {
                e.action = "blocked".into();
                e.url_domain = Some(v.clone());
                e.filter_category = Some(v.clone());
            }));
        }
        let hostile = HOSTILE.join(" ");
        let mut a = Alert {
            user_name: Some(hostile.clone()),
            user_full_name: Some(hostile.clone()),
            user_role: Some(hostile.clone()),
            user_attribution: Some(hostile.clone()),
            device_name: Some(hostile.clone()),
            host_name: Some(hostile.clone()),
            category: hostile.clone(),
            search_query: Some(long.clone()),
            ..pupil_alert()
        };
        a.context = context_of(&events);
        a.context.push(ContextEntry::of_alert_event(&logged("own", 15, |e| e.search_query = Some(long.clone()))));
        assert!(a.context.iter().all(|e| e.text.chars().count() <= crate::context::MAX_VALUE_CHARS));
        assert!(a.context.last().unwrap().text.ends_with('…'));

        let html = html_body(&a, &details(&a));
        let allowed = ["!DOCTYPE", "html", "body", "p", "strong", "table", "tr", "th", "td", "h3"];
        for (at, _) in html.match_indices('<') {
            let tag = html[at + 1..].trim_start_matches('/');
            let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '!').collect();
            let name = if name == "!DOCTYPE" { name } else { name.to_ascii_lowercase() };
            assert!(
                allowed.contains(&name.as_str()),
                "unexpected markup at {at}: {}",
                &html[at..(at + 40).min(html.len())]
            );
        }
        assert!(!html.to_lowercase().contains("<script") && !html.contains("<img") && !html.contains("<iframe"));
        assert!(html.chars().all(|c| c == '\n' || !c.is_control()), "control characters in the HTML");
        assert!(!html.contains('\u{2028}') && !html.contains('\u{2029}'));

        let text = text_body(&a, &details(&a));
        assert!(text.chars().all(|c| c == '\n' || !c.is_control()), "control characters in the text");
        let block = text.split("(UK time):\n").nth(1).unwrap();
        let rows = block.lines().take_while(|l| l.starts_with("  ") || l.starts_with("> ")).count();
        assert_eq!(rows, a.context.len(), "one line per entry: {block}");

        let formatted = String::from_utf8(
            compose(&a, &"v@school.example".parse().unwrap(), &["dsl@school.example".parse().unwrap()], None)
                .unwrap()
                .formatted(),
        )
        .unwrap();
        let head = formatted.split("\r\n\r\n").next().unwrap();
        let starts = ["From: ", "To: ", "Subject: ", "Message-ID: ", "MIME-Version: ", "Date: ", "Content-Type: "];
        for line in head.split("\r\n") {
            let continued = line.starts_with(' ') || line.starts_with('\t');
            assert!(
                continued || starts.iter().any(|s| line.starts_with(s)),
                "a header line was added: {line:?}\n{head}"
            );
        }
    }
}
