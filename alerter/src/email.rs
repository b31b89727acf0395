//! An alert as an email: subject line, plain-text and HTML bodies.
//!
//! Every value that comes from a log is hostile: it is HTML-escaped in the
//! HTML body ([`escape_html`]), and control characters (CR, LF, ...) are
//! removed from headers ([`header_text`]) and from plain-text lines.

use crate::alert::Alert;
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
/// `Message-ID: <alert-id@vigil>` so mail clients can spot duplicates.
pub fn compose(alert: &Alert, from: &Mailbox, to: &[Mailbox]) -> Result<Message, lettre::error::Error> {
    let mut builder = Message::builder().from(from.clone());
    for mailbox in to {
        builder = builder.to(mailbox.clone());
    }
    let details = details(alert);
    builder
        .subject(subject(alert))
        .message_id(Some(format!("<{}@vigil>", alert.id)))
        .multipart(MultiPart::alternative_plain_html(text_body(alert, &details), html_body(alert, &details)))
}

/// The labelled values both bodies list, in order; absent ones left out.
fn details(alert: &Alert) -> Vec<(&'static str, String)> {
    let rule = match &alert.rule_description {
        Some(description) => format!("{} ({})", alert.rule_id, description),
        None => alert.rule_id.clone(),
    };
    let mut rows =
        vec![("Severity", alert.severity.as_str().to_string()), ("Category", alert.category.clone()), ("Rule", rule)];
    let optional = [("User", &alert.user_name), ("Source IP", &alert.source_ip), ("Device / host", &alert.host_name)];
    rows.extend(optional.into_iter().filter_map(|(label, v)| v.clone().map(|v| (label, v))));
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
    let _ = write!(out, "\n{}\n", reminder(alert.role));
    out
}

fn html_body(alert: &Alert, details: &[(&'static str, String)]) -> String {
    let mut out =
        format!("<!DOCTYPE html>\n<html><body>\n<p><strong>{}</strong></p>\n<table>\n", escape_html(&headline(alert)));
    for (label, value) in details {
        let _ = writeln!(out, "<tr><th align=\"left\">{label}</th><td>{}</td></tr>", escape_html(value));
    }
    let _ = write!(out, "</table>\n<p>{}</p>\n</body></html>\n", escape_html(reminder(alert.role)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Field;
    use chrono::{TimeZone, Utc};
    use vigil_core::config::Severity;

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
            tenant: "school-a".into(),
            user_name: Some("pupil\r\nBcc: attacker@evil.example".into()),
            source_ip: Some("10.1.2.3".into()),
            host_name: None,
            url_full: Some("http://x/?q=<script>alert(\"x\")</script>&a='b'".into()),
            search_query: Some("self harm <b>now</b>".into()),
            email_subject: None,
            event_id: "e1".into(),
            recipients: vec!["dsl".into(), "deputies".into()],
            delivery: vigil_core::config::Delivery::Immediate,
        }
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
            compose(&a, &"v@school.example".parse().unwrap(), &["dsl@school.example".parse().unwrap()])
                .unwrap()
                .formatted(),
        )
        .unwrap();
        let head = formatted.split("\r\n\r\n").next().unwrap();
        assert!(!head.contains("\r\nBcc:") && !head.contains("\nBcc:"), "{head}");
        assert!(head.contains("\r\nMessage-ID: <0123456789abcdef0123456789abcdef@vigil>\r\n"), "{head}");
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
}
