//! What one Postfix log message says, before it is applied to a held mail.

use super::super::ParseError;

/// A delivery status as Postfix logs it in `status=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// `status=sent`.
    Sent,
    /// `status=deferred`: will be retried.
    Deferred,
    /// `status=bounced`: given up, a bounce sent.
    Bounced,
}

/// A rejection: smtpd's `reject: RCPT from host[ip]: 554 ...; from=<a>
/// to=<b> ...` (postscreen writes `[ip]:port` and commas between the
/// envelope fields), a before-queue filter's `proxy-reject: END-OF-MESSAGE:
/// 554 ...; from=<a> ...`, or cleanup's refusal of the content.
#[derive(Debug, PartialEq, Eq)]
pub struct Reject<'a> {
    /// The client's address, when the line names it.
    pub client_ip: Option<&'a str>,
    /// The server's reply text.
    pub text: &'a str,
    /// Envelope sender, when the stage had one.
    pub from: Option<&'a str>,
    /// Recipient, when the stage had one.
    pub to: Option<&'a str>,
}

/// One log message about a queued mail.
#[derive(Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// smtpd `client=host[ip][, sasl_method=..., sasl_username=USER]`.
    Client {
        /// The client's address.
        ip: &'a str,
        /// The authenticated submitter.
        sasl_user: Option<&'a str>,
    },
    /// cleanup `message-id=<...>`.
    MessageId(&'a str),
    /// A header_checks action line naming the subject.
    Subject(&'a str),
    /// cleanup `reject:` / `milter-reject:` (or smtpd `proxy-reject:`): the
    /// content was refused and the message is finished.
    ContentReject {
        /// The reply text, client and envelope.
        reject: Reject<'a>,
        /// The subject, when the rejection was of that header.
        subject: Option<&'a str>,
    },
    /// qmgr `from=<a>, size=N, nrcpt=N (queue active)`, or pickup `uid=N
    /// from=<a>`.
    From {
        /// Envelope sender (empty for bounces).
        from: &'a str,
        /// Message size in bytes.
        size: Option<u64>,
    },
    /// qmgr `from=<a>, status=expired, returned to sender`.
    Expired {
        /// Envelope sender.
        from: &'a str,
        /// Everything after `status=`.
        text: &'a str,
    },
    /// A delivery agent's `to=<x>, ..., relay=R, ..., status=S (text)`.
    Delivery {
        /// The recipient.
        to: &'a str,
        /// Where it was handed.
        relay: Option<&'a str>,
        /// The outcome.
        status: Status,
        /// Everything after `status=`.
        text: &'a str,
    },
    /// An smtpd rejection of one recipient or stage after queueing began.
    SmtpReject(Reject<'a>),
    /// qmgr (or postsuper) `removed`: the message is finished.
    Removed,
    /// Anything else about the message: kept as evidence only.
    Other,
}

fn malformed(what: &str) -> ParseError {
    ParseError(format!("postfix {what} line is truncated or malformed"))
}

/// Classifies `rest`, the text after `QID: `, logged by `component` (the last
/// part of the program name: `smtpd`, `cleanup`, `qmgr`, `smtp`...).
pub fn classify<'a>(component: &str, rest: &'a str) -> Result<Record<'a>, ParseError> {
    if rest == "removed" {
        return Ok(Record::Removed);
    }
    if let Some(client) = rest.strip_prefix("client=") {
        let (host, tail) = client.split_once(", ").unwrap_or((client, ""));
        let ip = bracketed_ip(host).ok_or_else(|| malformed("client="))?;
        let sasl_user = tail.split(", ").find_map(|kv| kv.strip_prefix("sasl_username="));
        return Ok(Record::Client { ip, sasl_user });
    }
    if let Some(id) = rest.strip_prefix("message-id=") {
        let id = id.trim();
        let id = id.strip_prefix('<').and_then(|i| i.strip_suffix('>')).unwrap_or(id);
        return Ok(Record::MessageId(id));
    }
    if rest.starts_with("to=") {
        return delivery(rest).ok_or_else(|| malformed("delivery"));
    }
    if let Some((_uid, from)) = rest.strip_prefix("uid=").and_then(|r| r.split_once(" from=<")) {
        let from = from.split_once('>').ok_or_else(|| malformed("pickup"))?.0;
        return Ok(Record::From { from, size: None });
    }
    if let Some(from) = rest.strip_prefix("from=<") {
        let (from, tail) = from.split_once('>').ok_or_else(|| malformed("from="))?;
        if let Some(i) = tail.find("status=expired") {
            return Ok(Record::Expired { from, text: tail[i + "status=".len()..].trim_end() });
        }
        let size = tail.split(", ").find_map(|kv| kv.strip_prefix("size=")?.parse().ok());
        return Ok(Record::From { from, size });
    }
    if let Some(text) = rest.strip_prefix("proxy-reject: ") {
        return Ok(Record::ContentReject { reject: proxy_reject(text), subject: None });
    }
    let reject = rest.strip_prefix("reject: ").or_else(|| rest.strip_prefix("milter-reject: "));
    if let Some(text) = reject {
        return Ok(if component == "cleanup" {
            Record::ContentReject { reject: content_reject(text), subject: header_subject(text) }
        } else {
            Record::SmtpReject(smtp_reject(text).ok_or_else(|| malformed("reject"))?)
        });
    }
    if component == "cleanup" {
        if let Some(subject) = rest.split_once(": ").and_then(|(_action, text)| header_subject(text)) {
            return Ok(Record::Subject(subject));
        }
    }
    Ok(Record::Other)
}

/// `to=<x>, [orig_to=<y>, ]relay=R, delay=.., delays=.., dsn=.., status=S (text)`
/// (old `local` lines write `to=x` without the brackets).
fn delivery(rest: &str) -> Option<Record<'_>> {
    let value = rest.strip_prefix("to=")?;
    let (to, tail) = match value.strip_prefix('<') {
        Some(bracketed) => bracketed.split_once('>')?,
        None => value.split_once(',')?,
    };
    let relay = tail.split(", ").find_map(|kv| kv.strip_prefix("relay="));
    let text = tail[tail.find(", status=")? + ", status=".len()..].trim_end();
    let status = match text.split(' ').next()? {
        "sent" => Status::Sent,
        "deferred" => Status::Deferred,
        "bounced" => Status::Bounced,
        _ => return Some(Record::Other),
    };
    Some(Record::Delivery { to, relay, status, text })
}

/// The text after `NOQUEUE: ` when it reports a rejection: `Ok(None)` for
/// other actions (`discard:`, `filter:`, `reject_warning:`...), an error
/// when a rejection is cut short.
pub fn noqueue(rest: &str) -> Result<Option<Reject<'_>>, ParseError> {
    if let Some(text) = rest.strip_prefix("proxy-reject: ") {
        return Ok(Some(proxy_reject(text)));
    }
    match rest.strip_prefix("reject: ").or_else(|| rest.strip_prefix("milter-reject: ")) {
        Some(text) => smtp_reject(text).map(Some).ok_or_else(|| malformed("reject")),
        None => Ok(None),
    }
}

/// `STAGE from CLIENT: TEXT[; from=<a> to=<b> proto=P helo=<h>]`, CLIENT
/// being smtpd's `host[ip]` or postscreen's `[ip]:port`.
pub fn smtp_reject(text: &str) -> Option<Reject<'_>> {
    let (body, from, to) = envelope(text);
    let (_stage, rest) = body.split_once(" from ")?;
    let close = rest.find(']')?;
    let client_ip = &rest[rest[..close].rfind('[')? + 1..close];
    let after = &rest[close + 1..];
    let after = match after.strip_prefix(':') {
        Some(port) if !after.starts_with(": ") => port.trim_start_matches(|c: char| c.is_ascii_digit()),
        _ => after,
    };
    let text = after.strip_prefix(": ")?;
    Some(Reject { client_ip: Some(client_ip), text: text.trim_end(), from, to })
}

/// `END-OF-MESSAGE: TEXT; from=<a> to=<b> ...`: a before-queue content
/// filter refused the message (no client is named).
fn proxy_reject(text: &str) -> Reject<'_> {
    let (body, from, to) = envelope(text);
    let reply = body.split_once(": ").map_or(body, |(_stage, reply)| reply);
    Reject { client_ip: None, text: reply.trim(), from, to }
}

/// cleanup's refusal: a milter's `END-OF-MESSAGE from host[ip]: TEXT; from=<a>
/// ...`, or a header/body check's `header NAME: VALUE from host[ip]; from=<a>
/// to=<b> proto=P helo=<h>: TEXT` (`from local` for a local submission).
fn content_reject(text: &str) -> Reject<'_> {
    let is_check = ["header ", "body ", "mime-header ", "nested-header "].iter().any(|p| text.starts_with(p));
    if let Some(r) = smtp_reject(text).filter(|_| !is_check) {
        return r;
    }
    let (body, from, to) = envelope(text);
    let client_ip = body.rsplit_once(" from ").and_then(|(_, host)| bracketed_ip(host));
    let note = text.rfind("helo=<").and_then(|i| text[i..].split_once(">: ")).map(|(_, note)| note.trim());
    Reject { client_ip, text: note.unwrap_or(text), from, to }
}

/// Splits the envelope Postfix appends to a reject or check line (`; from=<a>
/// to=<b> proto=P helo=<h>`, each part optional, postscreen separating them
/// with commas): the text before it, the sender and the recipient.
fn envelope(text: &str) -> (&str, Option<&str>, Option<&str>) {
    let start = ["; from=<", "; to=<", "; proto="].iter().find_map(|key| text.rfind(key));
    let Some(start) = start else { return (text, None, None) };
    let trailer = &text[start + 1..];
    let from = angle_value(trailer, " from=<");
    let to = angle_value(trailer, " to=<");
    (&text[..start], from, to)
}

/// The subject of `header Subject: TEXT from host[ip]; from=<...> ...`.
fn header_subject(text: &str) -> Option<&str> {
    let subject = text.strip_prefix("header Subject: ")?;
    let subject = subject.rfind("; from=<").map_or(subject, |i| &subject[..i]);
    Some(subject.rsplit_once(" from ").map_or(subject, |(s, _client)| s))
}

/// The address in `host[ip]`.
fn bracketed_ip(host: &str) -> Option<&str> {
    let inner = host.strip_suffix(']')?;
    let ip = &inner[inner.rfind('[')? + 1..];
    (!ip.is_empty()).then_some(ip)
}

/// The `<...>` value following `key` in `s`.
fn angle_value<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let start = s.find(key)? + key.len();
    let len = s[start..].find('>')?;
    Some(&s[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_record() {
        assert_eq!(
            classify("smtpd", "client=mail.example.com[203.0.113.5]").unwrap(),
            Record::Client { ip: "203.0.113.5", sasl_user: None }
        );
        assert_eq!(
            classify("smtpd", "client=unknown[2001:db8::7], sasl_method=PLAIN, sasl_username=j.smith").unwrap(),
            Record::Client { ip: "2001:db8::7", sasl_user: Some("j.smith") }
        );
        assert_eq!(classify("cleanup", "message-id=<abc@example.com>").unwrap(), Record::MessageId("abc@example.com"));
        assert_eq!(
            classify("cleanup", "warning: header Subject: Meet me from school from mail.example.com[203.0.113.5]; from=<a@x> to=<b@y> proto=ESMTP helo=<mail>").unwrap(),
            Record::Subject("Meet me from school")
        );
        assert_eq!(
            classify("qmgr", "from=<a@example.com>, size=1234, nrcpt=2 (queue active)").unwrap(),
            Record::From { from: "a@example.com", size: Some(1234) }
        );
        assert_eq!(
            classify("qmgr", "from=<a@example.com>, status=expired, returned to sender").unwrap(),
            Record::Expired { from: "a@example.com", text: "expired, returned to sender" }
        );
        assert_eq!(
            classify("smtp", "to=<b@example.org>, orig_to=<b@alias>, relay=mx.example.org[198.51.100.2]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 OK)").unwrap(),
            Record::Delivery { to: "b@example.org", relay: Some("mx.example.org[198.51.100.2]:25"), status: Status::Sent, text: "sent (250 2.0.0 OK)" }
        );
        assert_eq!(classify("qmgr", "removed").unwrap(), Record::Removed);
        assert_eq!(
            classify("smtp", "host mx[1.2.3.4] said: 450 try later (in reply to RCPT TO command)").unwrap(),
            Record::Other
        );
        assert_eq!(classify("cleanup", "warning: milter unavailable").unwrap(), Record::Other);
    }

    #[test]
    fn reads_rejections() {
        let r = smtp_reject("RCPT from unknown[192.0.2.9]: 554 5.7.1 <x@y>: Relay access denied; from=<spam@bad.example> to=<x@y> proto=ESMTP helo=<bad>").unwrap();
        assert_eq!(
            r,
            Reject {
                client_ip: Some("192.0.2.9"),
                text: "554 5.7.1 <x@y>: Relay access denied",
                from: Some("spam@bad.example"),
                to: Some("x@y")
            }
        );
        let r = smtp_reject("CONNECT from unknown[192.0.2.9]: 554 5.7.1 Service unavailable").unwrap();
        assert_eq!((r.text, r.from, r.to), ("554 5.7.1 Service unavailable", None, None));
        assert!(matches!(
            classify(
                "cleanup",
                "reject: header Subject: You won from h[1.1.1.1]; from=<a> to=<b> proto=ESMTP helo=<h>: 5.7.1 spam"
            )
            .unwrap(),
            Record::ContentReject { subject: Some("You won"), .. }
        ));
    }

    #[test]
    fn truncated_records_are_errors() {
        for (component, rest) in [
            ("smtpd", "client=mail.example.com[203.0.1"),
            ("smtp", "to=<b@example.org>, relay=mx, delay=1"),
            ("smtp", "to=<b@exa"),
            ("qmgr", "from=<a@exam"),
            ("smtpd", "reject: RCPT from unknown[192.0."),
        ] {
            assert!(classify(component, rest).is_err(), "{rest}");
        }
    }
}
