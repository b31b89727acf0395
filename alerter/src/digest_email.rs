//! A digest as an email: one line per alert (UK time, severity, category,
//! user, school, what matched), in plain text and HTML. Values from the
//! logs are escaped and cut short as in alert emails.

use crate::alert::Alert;
use crate::digest::Digest;
use crate::email::{escape_html, header_text, short_line};
use crate::uk_time;
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use std::fmt::Write;

/// Log-derived text in a digest line is cut to this many characters.
const MAX_CELL_CHARS: usize = 160;

/// `[Vigil] Digest for dsl: 3 alerts`.
pub fn subject(digest: &Digest) -> String {
    let n = digest.alerts.len();
    format!("[Vigil] Digest for {}: {n} alert{}", header_text(&digest.list), if n == 1 { "" } else { "s" })
}

/// The email for `digest` from `from` to every address in `to`, with
/// `Message-ID: <digest-id@vigil>`.
pub fn compose(digest: &Digest, from: &Mailbox, to: &[Mailbox]) -> Result<Message, lettre::error::Error> {
    let mut builder = Message::builder().from(from.clone());
    for mailbox in to {
        builder = builder.to(mailbox.clone());
    }
    let rows: Vec<[String; 6]> = digest.alerts.iter().map(row).collect();
    builder
        .subject(subject(digest))
        .message_id(Some(format!("<{}@vigil>", digest.id)))
        .multipart(MultiPart::alternative_plain_html(text_body(digest, &rows), html_body(digest, &rows)))
}

const COLUMNS: [&str; 6] = ["Time (UK)", "Severity", "Category", "User", "School", "Matched"];

/// One alert's cells, in [`COLUMNS`] order, on one line and cut short.
fn row(alert: &Alert) -> [String; 6] {
    let text = [&alert.search_query, &alert.email_subject, &alert.url_full].into_iter().find_map(|v| v.as_deref());
    let matched = match text {
        Some(text) => format!("\"{}\" in {}: {text}", alert.phrase, alert.field.as_str()),
        None => format!("\"{}\" in {}", alert.phrase, alert.field.as_str()),
    };
    [
        uk_time::format(alert.timestamp),
        alert.severity.as_str().to_string(),
        short_line(&alert.category, MAX_CELL_CHARS),
        short_line(alert.who().unwrap_or("unknown user"), MAX_CELL_CHARS),
        short_line(&alert.tenant, MAX_CELL_CHARS),
        short_line(&matched, MAX_CELL_CHARS),
    ]
}

fn headline(digest: &Digest) -> String {
    let n = digest.alerts.len();
    format!(
        "Vigil digest for the {} list: {n} alert{} raised from {} to {}, each not urgent enough for an email of its own.",
        short_line(&digest.list, MAX_CELL_CHARS),
        if n == 1 { "" } else { "s" },
        uk_time::format(digest.period.start),
        uk_time::format(digest.period.end),
    )
}

const REMINDER: &str = "Review these when you can. If one concerns you, act on it as the school's safeguarding procedure says; each alert is in the alert store under its alert id.";

fn text_body(digest: &Digest, rows: &[[String; 6]]) -> String {
    let mut out = format!("{}\n\n", headline(digest));
    for (cells, alert) in rows.iter().zip(&digest.alerts) {
        let _ = writeln!(out, "- {} (alert {})", cells.join(" | "), alert.id);
    }
    let _ = write!(out, "\n{REMINDER}\n");
    out
}

fn html_body(digest: &Digest, rows: &[[String; 6]]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html><body>\n<p><strong>{}</strong></p>\n<table>\n<tr>",
        escape_html(&headline(digest))
    );
    for column in COLUMNS {
        let _ = write!(out, "<th align=\"left\">{column}</th>");
    }
    out.push_str("</tr>\n");
    for cells in rows {
        out.push_str("<tr>");
        for cell in cells {
            let _ = write!(out, "<td>{}</td>", escape_html(cell));
        }
        out.push_str("</tr>\n");
    }
    let _ = write!(out, "</table>\n<p>{}</p>\n</body></html>\n", escape_html(REMINDER));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Period;
    use crate::test_alerts::alert;
    use chrono::{TimeZone, Utc};

    fn digest() -> Digest {
        let at = |h| Utc.with_ymd_and_hms(2026, 7, 1, h, 5, 0).unwrap();
        let mut hostile = alert("a2", at(11), "pupil\r\nBcc: x@evil.example", "<script>alert('x')</script>");
        hostile.tenant = "<b>oak</b>".into();
        Digest {
            id: "digest-0123".into(),
            list: "dsl".into(),
            period: Period { start: at(6), end: at(6) + chrono::Duration::days(1) },
            alerts: vec![alert("a1", at(9), "p1", &"casino ".repeat(100)), hostile],
        }
    }

    #[test]
    fn lists_every_alert_with_time_category_severity_user_and_match() {
        let d = digest();
        let rows: Vec<[String; 6]> = d.alerts.iter().map(row).collect();
        let text = text_body(&d, &rows);
        assert!(
            text.starts_with("Vigil digest for the dsl list: 2 alerts raised from 2026-07-01 07:05:00 BST"),
            "{text}"
        );
        assert!(text.contains("- 2026-07-01 10:05:00 BST | low | gambling | p1 | school-a | \"casino\" in search.query: casino casino"), "{text}");
        assert!(text.contains("(alert a1)\n") && text.contains("(alert a2)\n"), "{text}");
        assert_eq!(rows[0][5].chars().count(), MAX_CELL_CHARS, "long values are cut");
        assert!(rows[0][5].ends_with('…'));
        assert_eq!(subject(&d), "[Vigil] Digest for dsl: 2 alerts");
    }

    #[test]
    fn log_values_are_escaped_and_kept_on_one_line() {
        let d = digest();
        let rows: Vec<[String; 6]> = d.alerts.iter().map(row).collect();
        let html = html_body(&d, &rows);
        assert!(!html.contains("<script>") && !html.contains("<b>oak"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"), "{html}");
        assert!(html.contains("<td>&lt;b&gt;oak&lt;/b&gt;</td>"), "{html}");
        let text = text_body(&d, &rows);
        assert!(text.contains("| pupil  Bcc: x@evil.example |"), "{text}");
        let from: Mailbox = "vigil@school.example".parse().unwrap();
        let message = compose(&d, &from, &["dsl@school.example".parse().unwrap()]).unwrap();
        let formatted = String::from_utf8(message.formatted()).unwrap();
        let head = formatted.split("\r\n\r\n").next().unwrap();
        assert!(head.contains("\r\nMessage-ID: <digest-0123@vigil>\r\n"), "{head}");
        assert!(!head.contains("evil.example"), "{head}");
    }
}
