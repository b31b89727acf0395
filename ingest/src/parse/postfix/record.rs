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

/// An SMTP-stage rejection (`reject: RCPT from host[ip]: 554 ...; from=<a>
/// to=<b> ...`).
#[derive(Debug, PartialEq, Eq)]
pub struct Reject<'a> {
    /// The client's address.
    pub client_ip: &'a str,
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
    /// cleanup `reject:` / `milter-reject:`: the content was refused.
    ContentReject {
        /// The text after `reject: `.
        text: &'a str,
        /// The subject, when the rejection was of that header.
        subject: Option<&'a str>,
    },
    /// qmgr `from=<a>, size=N, nrcpt=N (queue active)`.
    From {
        /// Envelope sender (empty for bounces).
        from: &'a str,
        /// Message size in bytes.
        size: Option<u64>,
    },
    /// qmgr `from=<a>, status=expired, returned to sender`.
    Expired(&'a str),
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
    if rest.starts_with("to=<") {
        return delivery(rest).ok_or_else(|| malformed("delivery"));
    }
    if let Some(from) = rest.strip_prefix("from=<") {
        let (from, tail) = from.split_once('>').ok_or_else(|| malformed("from="))?;
        if let Some(i) = tail.find("status=expired") {
            return Ok(Record::Expired(&tail[i + "status=".len()..]));
        }
        let size = tail.split(", ").find_map(|kv| kv.strip_prefix("size=")?.parse().ok());
        return Ok(Record::From { from, size });
    }
    let reject = rest.strip_prefix("reject: ").or_else(|| rest.strip_prefix("milter-reject: "));
    if let Some(text) = reject {
        return Ok(if component == "cleanup" {
            Record::ContentReject { text, subject: header_subject(text) }
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

/// `to=<x>, [orig_to=<y>, ]relay=R, delay=.., delays=.., dsn=.., status=S (text)`.
fn delivery(rest: &str) -> Option<Record<'_>> {
    let (to, tail) = rest.strip_prefix("to=<")?.split_once('>')?;
    let relay = tail.split(", ").find_map(|kv| kv.strip_prefix("relay="));
    let text = &tail[tail.find(", status=")? + ", status=".len()..];
    let status = match text.split(' ').next()? {
        "sent" => Status::Sent,
        "deferred" => Status::Deferred,
        "bounced" => Status::Bounced,
        _ => return Some(Record::Other),
    };
    Some(Record::Delivery { to, relay, status, text })
}

/// `STAGE from host[ip]: TEXT[; from=<a> to=<b> proto=P helo=<h>]`.
pub fn smtp_reject(text: &str) -> Option<Reject<'_>> {
    let (_stage, rest) = text.split_once(" from ")?;
    let (client, rest) = rest.split_once("]: ")?;
    let client_ip = &client[client.rfind('[')? + 1..];
    let (text, envelope) = match rest.rfind("; from=<") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (rest, ""),
    };
    let from = angle_value(envelope, "from=<");
    let to = angle_value(envelope, " to=<");
    Some(Reject { client_ip, text, from, to })
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
            Record::Expired("expired, returned to sender")
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
                client_ip: "192.0.2.9",
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
