//! Microsoft 365 (Exchange Online) message trace, one JSON object per line:
//! the records of `Get-MessageTrace` / `Get-MessageTraceV2 | ConvertTo-Json
//! -Compress`, of the Reporting web service's `MessageTrace` report, and of
//! Microsoft Graph's `exchangeMessageTrace` resource (camelCase names:
//! `receivedDateTime`, `senderAddress`, `fromIP`...). Field names are matched
//! without regard to case.
//!
//! Fields read: `Received` (or `receivedDateTime`: ISO 8601, or the
//! `/Date(1709548920000)/` form Windows PowerShell and the Reporting web
//! service write; a time without a zone is UTC), `SenderAddress`,
//! `RecipientAddress` (`;`-separated if several), `Subject`, `Status`,
//! `FromIP` (`source.ip`), `ToIP` (`email.relay`), `Size`, `MessageId`,
//! `MessageTraceId` (or Graph's `id`, as `email.queue_id`). `Received` and
//! `Status` are required; a line that is not a JSON object is an error, and so
//! is a whole Reporting web service or Graph response page (`{"value":[...]}`):
//! its records must be written one per line.
//!
//! `Status` is kept as `event.reason` and sets the action: `Delivered` →
//! `delivered`; `Failed` → `bounced`; `Pending` → `deferred`; `Quarantined`,
//! `FilteredAsSpam` → `rejected`; `GettingStatus` → `queued`; `Expanded`
//! (a distribution group was expanded), `None` and any other value → `other`.

use super::json_line::{powershell_time, Json, Members};
use super::{set_origin, LineContext, LineUse, ParseError, Parser};

/// ISO 8601 without a zone, as `Get-MessageTraceV2` writes it.
use vigil_core::{Event, EventKind, Outcome};

/// Reads message trace records, one JSON object per line.
#[derive(Debug, Default, Clone, Copy)]
pub struct M365TraceParser;

impl Parser for M365TraceParser {
    fn name(&self) -> &'static str {
        "m365-trace"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let value = Json::parse(line.trim_start_matches('\u{feff}'))
            .map_err(|e| ParseError(format!("message trace line is not valid JSON: {e}")))?;
        let Json::Object(record) = value else {
            return Err(ParseError("message trace line is not a JSON object (one record per line)".into()));
        };
        if matches!(field(&record, &["value"]), Some(Json::Array(_))) {
            return Err(ParseError(
                "message trace line is a whole response page (a `value` array): write one record per line".into(),
            ));
        }
        let text = |names: &[&str]| text_field(&record, names);
        let received = text(&["Received", "receivedDateTime"])
            .ok_or_else(|| ParseError("message trace record has no Received time".into()))?;
        let time = powershell_time(&received)
            .ok_or_else(|| ParseError(format!("message trace Received {received:?} is not a time")))?;
        let status = text(&["Status"]).ok_or_else(|| ParseError("message trace record has no Status".into()))?;
        let size = match field(&record, &["Size"]) {
            None | Some(Json::Null) => None,
            Some(Json::Number(n)) => Some(n.as_u64().ok_or_else(size_error)?),
            Some(Json::String(s)) if s.trim().is_empty() => None,
            Some(Json::String(s)) => Some(s.trim().parse().map_err(|_| size_error())?),
            Some(_) => return Err(size_error()),
        };
        let (action, outcome) = verdict(&status);

        let mut e = Event::new(time, EventKind::Email, action, outcome, "microsoft-365", "m365-trace", line);
        set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        e.reason = Some(status);
        e.source_ip = text(&["FromIP"]);
        e.email_relay = text(&["ToIP"]);
        e.email_from = text(&["SenderAddress"]);
        e.email_to = text(&["RecipientAddress"])
            .map(|list| list.split(';').map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        e.email_subject = text(&["Subject"]);
        e.email_message_id = text(&["MessageId"]);
        e.email_queue_id = text(&["MessageTraceId", "id"]);
        e.email_size = size;
        out.push(e);
        Ok(LineUse::Event)
    }
}

fn size_error() -> ParseError {
    ParseError("message trace Size is not a whole number of bytes".into())
}

/// The first of `names` present in `record`, compared without case.
fn field<'v, 'a>(record: &'v Members<'a>, names: &[&str]) -> Option<&'v Json<'a>> {
    names.iter().find_map(|name| record.get_ignore_case(name))
}

/// A field as text: strings as they are, numbers written out; empty, null
/// and other types count as absent.
fn text_field(record: &Members<'_>, names: &[&str]) -> Option<String> {
    match field(record, names)? {
        Json::String(s) if !s.is_empty() => Some(s.to_string()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Each `Status` that means something, in any case, with its action and outcome.
const VERDICTS: &[(&str, &str, Outcome)] = &[
    ("Delivered", "delivered", Outcome::Success),
    ("Failed", "bounced", Outcome::Failure),
    ("Pending", "deferred", Outcome::Unknown),
    ("Quarantined", "rejected", Outcome::Failure),
    ("FilteredAsSpam", "rejected", Outcome::Failure),
    ("GettingStatus", "queued", Outcome::Unknown),
];

/// Action and outcome of a `Status` (see the module documentation).
fn verdict(status: &str) -> (&'static str, Outcome) {
    VERDICTS
        .iter()
        .find(|(name, ..)| name.eq_ignore_ascii_case(status))
        .map_or(("other", Outcome::Unknown), |&(_, action, outcome)| (action, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testutil::{ctx, parse_one};
    use chrono::{TimeZone, Utc};

    /// `Get-MessageTrace | ConvertTo-Json -Compress` in Windows PowerShell 5.1.
    const PS51: &str = r#"{"PSComputerName":"outlook.office365.com","RunspaceId":"5b1e2c3d-0000-1111-2222-333344445555","PSShowComputerName":false,"Organization":"school.onmicrosoft.com","MessageId":"<CAF1abc@mail.gmail.com>","Received":"\/Date(1709548920000)\/","SenderAddress":"stranger@gmail.com","RecipientAddress":"pupil.one@school.example","Subject":"meet me after school","Status":"Delivered","ToIP":null,"FromIP":"209.85.128.41","Size":5321,"MessageTraceId":"0e2f4c6a-1111-2222-3333-444455556666","StartDate":"\/Date(1709510400000)\/","EndDate":"\/Date(1709596800000)\/","Index":0}"#;

    /// `Get-MessageTraceV2 | ConvertTo-Json -Compress` in PowerShell 7.
    const V2: &str = r#"{"Organization":"school.onmicrosoft.com","MessageId":"<spam1@bulk.example>","Received":"2024-03-04T10:42:00.1234567","SenderAddress":"offers@bulk.example","RecipientAddress":"staff@school.example","Subject":"You have won","Status":"FilteredAsSpam","ToIP":"","FromIP":"2001:db8::25","Size":"10240","MessageTraceId":"1f3e5d7c-1111-2222-3333-444455556666"}"#;

    /// Graph `exchangeMessageTrace`.
    const GRAPH: &str = r#"{"id":"2a4c6e8f-1111-2222-3333-444455556666","messageId":"<out1@school.example>","receivedDateTime":"2024-03-04T10:45:00Z","senderAddress":"head@school.example","recipientAddress":"parent@parents.example","subject":"Report","status":"failed","fromIP":"10.0.0.50","toIP":"198.51.100.25","size":2048}"#;

    #[test]
    fn powershell_records_become_events() {
        let e = parse_one(&mut M365TraceParser, PS51).unwrap();
        assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Email, "delivered", Outcome::Success));
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap());
        assert_eq!(e.email_from.as_deref(), Some("stranger@gmail.com"));
        assert_eq!(e.email_to, ["pupil.one@school.example"]);
        assert_eq!(e.email_subject.as_deref(), Some("meet me after school"));
        assert_eq!(e.email_message_id.as_deref(), Some("<CAF1abc@mail.gmail.com>"));
        assert_eq!(e.email_queue_id.as_deref(), Some("0e2f4c6a-1111-2222-3333-444455556666"));
        assert_eq!(e.email_size, Some(5321));
        assert_eq!(e.source_ip.as_deref(), Some("209.85.128.41"));
        assert_eq!(e.email_relay, None);
        assert_eq!(e.reason.as_deref(), Some("Delivered"));
        assert_eq!((e.observer_product.as_str(), e.log_format.as_str()), ("microsoft-365", "m365-trace"));
        assert_eq!(e.message, PS51);

        let e = parse_one(&mut M365TraceParser, V2).unwrap();
        assert_eq!((e.action.as_str(), e.outcome), ("rejected", Outcome::Failure));
        assert_eq!(e.reason.as_deref(), Some("FilteredAsSpam"));
        assert_eq!(
            e.timestamp,
            Utc.with_ymd_and_hms(2024, 3, 4, 10, 42, 0).unwrap() + chrono::Duration::nanoseconds(123_456_700)
        );
        assert_eq!(
            (e.email_size, e.source_ip.as_deref(), e.email_relay.as_deref()),
            (Some(10240), Some("2001:db8::25"), None)
        );
    }

    #[test]
    fn graph_records_use_camel_case_names() {
        let e = parse_one(&mut M365TraceParser, GRAPH).unwrap();
        assert_eq!((e.action.as_str(), e.outcome), ("bounced", Outcome::Failure));
        assert_eq!(e.email_queue_id.as_deref(), Some("2a4c6e8f-1111-2222-3333-444455556666"));
        assert_eq!(e.email_relay.as_deref(), Some("198.51.100.25"));
        assert_eq!(e.email_size, Some(2048));
        assert_eq!(e.timestamp, Utc.with_ymd_and_hms(2024, 3, 4, 10, 45, 0).unwrap());
    }

    #[test]
    fn statuses_and_times() {
        for (status, action) in [
            ("Pending", "deferred"),
            ("Quarantined", "rejected"),
            ("GettingStatus", "queued"),
            ("Expanded", "other"),
            ("None", "other"),
            ("SomethingNew", "other"),
        ] {
            let line = V2.replace("FilteredAsSpam", status);
            assert_eq!(parse_one(&mut M365TraceParser, &line).unwrap().action.as_str(), action, "{status}");
        }
    }

    #[test]
    fn bad_lines_are_rejected_with_a_reason() {
        for (line, why) in [
            (format!("[{PS51}]"), "not a JSON object"),
            (
                format!(r#"{{"odata.metadata":"https://reports.example/$metadata#MessageTrace","value":[{V2}]}}"#),
                "one record per line",
            ),
            ("\"Delivered\"".to_string(), "not a JSON object"),
            ("Mar  4 10:00:00 mx postfix/smtpd[1]: connect".to_string(), "not valid JSON"),
            (PS51.replace("\"Received\"", "\"Sent\""), "no Received"),
            (PS51.replace("\\/Date(1709548920000)\\/", "soon"), "not a time"),
            (PS51.replace("\"Status\":\"Delivered\"", "\"Status\":null"), "no Status"),
            (PS51.replace("5321", "-1"), "Size"),
            (PS51.replace("5321", "\"big\""), "Size"),
        ] {
            let err = M365TraceParser.parse(&line, &ctx(), &mut Vec::new()).unwrap_err();
            assert!(err.0.contains(why), "{line}: {err}");
        }
    }

    #[test]
    fn hostile_content_is_kept_verbatim_and_truncation_never_panics() {
        let line = V2.replace("You have won", r#"<img src=x onerror=alert(1)>\r\n\u001b[2J"#);
        let e = parse_one(&mut M365TraceParser, &line).unwrap();
        assert_eq!(e.email_subject.as_deref(), Some("<img src=x onerror=alert(1)>\r\n\u{1b}[2J"));
        assert_eq!(e.message, line);
        for full in [PS51, V2, GRAPH] {
            for cut in (0..full.len()).filter(|c| full.is_char_boundary(*c)) {
                assert!(M365TraceParser.parse(&full[..cut], &ctx(), &mut Vec::new()).is_err(), "{cut}");
            }
        }
    }
}
