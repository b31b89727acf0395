//! What one Exim log line says, before it is applied to a held message.

use super::line::{host_ip, next_token, Token, Unterminated};
use crate::parse::ParseError;
use std::borrow::Cow;

/// What a line body says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record<'a> {
    /// `<=` (or `(=`, a fake reject): the message arrived.
    Arrival(Arrival<'a>),
    /// `=>`, `->`, `>>`, `*>`, `**`, `==`: one recipient's delivery.
    Delivery(Delivery<'a>),
    /// `Completed`: the message left the queue.
    Completed,
    /// An SMTP command or message refused by an ACL.
    Reject(Reject<'a>),
    /// Anything else (`SMTP connection from`, `Frozen`, `DKIM: d=`...).
    Other,
}

/// An arrival (`<=`) line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arrival<'a> {
    /// Envelope sender; `<>` for a bounce.
    pub sender: &'a str,
    /// The sending client's address (`H=... [ip]`).
    pub client_ip: Option<&'a str>,
    /// The authenticated id (`A=authenticator:id`), or for a local
    /// submission (no `H=`) the calling user (`U=`).
    pub user: Option<&'a str>,
    /// `S=`.
    pub size: Option<u64>,
    /// `id=` (or `id*=` when Exim made it up).
    pub message_id: Option<Cow<'a, str>>,
    /// `T="..."` (log_selector `+subject`).
    pub subject: Option<Cow<'a, str>>,
    /// The `for a b c` list (log_selector `+received_recipients`).
    pub recipients: Vec<&'a str>,
}

/// Delivery state of one recipient, mildest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// `=>`, `->`, `>>`.
    Delivered,
    /// `==`.
    Deferred,
    /// `**` after the retry time-out.
    Expired,
    /// `**`.
    Bounced,
}

/// A delivery line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<'a> {
    /// The original recipient address (`<orig>`), else the address delivered to.
    pub address: &'a str,
    /// `None` for `*>` (delivery suppressed by `-N`).
    pub status: Option<Status>,
    /// `H=` of the host delivered to.
    pub relay: Option<Cow<'a, str>>,
    /// The server's reply: `C="..."` on deliveries, the error text on
    /// deferrals and failures.
    pub text: Option<Cow<'a, str>>,
    /// `F=<sender>` (log_selector `+sender_on_delivery`).
    pub sender: Option<&'a str>,
}

/// A rejection line: `H=... F=<a> rejected RCPT <b>: text`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reject<'a> {
    /// The client's address.
    pub client_ip: Option<&'a str>,
    /// `F=<sender>`, or the address of a rejected `MAIL`.
    pub from: Option<&'a str>,
    /// The address of a rejected `RCPT`.
    pub to: Option<&'a str>,
    /// The authenticated id (`A=`).
    pub user: Option<&'a str>,
    /// The text after the refused command (`relay not permitted`).
    pub text: &'a str,
}

impl From<Unterminated<'_>> for ParseError {
    fn from(e: Unterminated<'_>) -> Self {
        ParseError(format!("Exim {}= value has no closing quote (is the line cut short?)", e.0))
    }
}

/// Classifies a line body (the text after the timestamp and message id).
pub fn classify(body: &str) -> Result<Record<'_>, ParseError> {
    if let Some((flag, rest)) = body.split_once(' ') {
        match flag {
            "<=" | "(=" => return arrival(rest).map(Record::Arrival),
            "=>" | "->" | ">>" => return delivery(rest, Some(Status::Delivered)).map(Record::Delivery),
            "*>" => return delivery(rest, None).map(Record::Delivery),
            "==" => return delivery(rest, Some(Status::Deferred)).map(Record::Delivery),
            "**" => return delivery(rest, Some(Status::Bounced)).map(Record::Delivery),
            _ => {}
        }
    }
    if body == "Completed" || body.starts_with("Completed ") {
        return Ok(Record::Completed);
    }
    Ok(reject(body)?.map_or(Record::Other, Record::Reject))
}

/// The client address of an `H=` value; an `H=` without one is malformed.
fn client(value: &str) -> Result<&str, ParseError> {
    host_ip(value).ok_or_else(|| ParseError("Exim H= field has no [IP address] (is the line cut short?)".into()))
}

/// The id of an `A=authenticator:id[:sender]` value.
fn auth_id(value: &str) -> Option<&str> {
    value.split(':').nth(1).filter(|id| !id.is_empty())
}

/// Reads `sender tags... [for rcpt...]` after `<=`.
fn arrival(rest: &str) -> Result<Arrival<'_>, ParseError> {
    let Some((Token::Word(sender), mut rest)) = next_token(rest)? else {
        return Err(ParseError("Exim arrival line has no sender address".into()));
    };
    let mut a = Arrival { sender, ..Arrival::default() };
    let mut ident = None;
    let mut in_for = false;
    while let Some((token, after)) = next_token(rest)? {
        rest = after;
        match token {
            Token::Tag(key, value) => {
                in_for = false;
                match (key, value) {
                    ("H", Cow::Borrowed(v)) => a.client_ip = Some(client(v)?),
                    ("A", Cow::Borrowed(v)) => a.user = auth_id(v).or(a.user),
                    ("U", Cow::Borrowed(v)) => ident = Some(v),
                    ("S", v) => {
                        a.size = Some(v.parse().map_err(|_| ParseError("Exim S= size is not a number".into()))?)
                    }
                    ("id" | "id*", v) => a.message_id = Some(v),
                    ("T", v) => a.subject = Some(v),
                    _ => {}
                }
            }
            Token::Word("for") => in_for = true,
            Token::Word(address) if in_for => a.recipients.push(address),
            Token::Word(_) => {}
        }
    }
    if a.client_ip.is_none() && a.user.is_none() {
        a.user = ident;
    }
    Ok(a)
}

/// Reads `address [<orig>] [(parent)] tags... [text]` after a delivery flag.
fn delivery(rest: &str, status: Option<Status>) -> Result<Delivery<'_>, ParseError> {
    let mut final_address = None;
    let mut original = None;
    let mut d = Delivery { address: "", status, relay: None, text: None, sender: None };
    let mut rest = rest;
    let mut text_from: Option<&str> = None;
    // The addresses, up to the first tag or a word ending in `:`.
    while let Some((token, after)) = next_token(rest)? {
        let Token::Word(word) = token else { break };
        rest = after;
        // `:blackhole:` (a redirection to nowhere) is an address, not the end of them.
        let (word, colon) = match word.strip_suffix(':') {
            Some(w) if word != ":blackhole:" => (w, true),
            _ => (word, false),
        };
        if let Some(orig) = word.strip_prefix('<').and_then(|w| w.strip_suffix('>')) {
            original = Some(orig);
        } else if final_address.is_none() {
            final_address = Some(word);
        }
        if colon {
            text_from = Some(rest);
            break;
        }
    }
    d.address = original
        .or(final_address)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ParseError("Exim delivery line has no recipient address".into()))?;
    // The tags, up to free text or a tag value ending in `:`.
    while text_from.is_none() {
        let Some((token, after)) = next_token(rest)? else { break };
        match token {
            Token::Word(_) => text_from = Some(rest),
            Token::Tag(key, value) => {
                rest = after;
                let value = match value {
                    Cow::Borrowed(v) if v.ends_with(':') => {
                        text_from = Some(after);
                        Cow::Borrowed(v.trim_end_matches(':'))
                    }
                    v => v,
                };
                match key {
                    "H" => d.relay = Some(value),
                    "C" => d.text = Some(value),
                    "F" => d.sender = value_str(value).map(|f| f.trim_start_matches('<').trim_end_matches('>')),
                    _ => {}
                }
            }
        }
    }
    if let Some(text) = text_from.map(|t| t.trim_start_matches(' ')).filter(|t| !t.is_empty()) {
        if d.status == Some(Status::Bounced) && is_expiry(text) {
            d.status = Some(Status::Expired);
        }
        if d.text.is_none() {
            d.text = Some(Cow::Borrowed(text));
        }
    }
    Ok(d)
}

/// A borrowed value's text (quoted values with escapes are owned; `F=` is
/// never quoted).
fn value_str(value: Cow<'_, str>) -> Option<&str> {
    match value {
        Cow::Borrowed(v) => Some(v),
        Cow::Owned(_) => None,
    }
}

/// A failure because the address was retried for too long.
fn is_expiry(text: &str) -> bool {
    text.contains("retry timeout exceeded") || text.contains("after a long failure period")
}

/// `[tags...] [temporarily] rejected what[: text]`, or `None` if the body is
/// not a rejection.
fn reject(body: &str) -> Result<Option<Reject<'_>>, ParseError> {
    let mut r = Reject::default();
    let mut rest = body;
    let mut tags = 0;
    let tail = loop {
        let Some((token, after)) = next_token(rest)? else { return Ok(None) };
        rest = after;
        match token {
            Token::Tag("H", Cow::Borrowed(v)) => r.client_ip = Some(client(v)?),
            Token::Tag("F", Cow::Borrowed(v)) => r.from = Some(v.trim_start_matches('<').trim_end_matches('>')),
            Token::Tag("A", Cow::Borrowed(v)) => r.user = auth_id(v),
            Token::Tag(..) => {}
            Token::Word("rejected") => break after,
            Token::Word("temporarily") if tags > 0 => {
                let Some(after) = after.strip_prefix("rejected ") else { return Ok(None) };
                break after;
            }
            Token::Word(_) => return Ok(None),
        }
        tags += 1;
    };
    if tags == 0 && !tail.starts_with("from ") {
        return Ok(None);
    }
    let (what, text) = split_reason(tail);
    if let Some(addr) = what.strip_prefix("RCPT ") {
        r.to = Some(addr.trim_start_matches('<').trim_end_matches('>'));
    } else if let Some(addr) = what.strip_prefix("MAIL ") {
        r.from = Some(addr.trim_start_matches('<').trim_end_matches('>'));
    } else if let Some(from) = what.strip_prefix("from <") {
        r.from = from.split_once('>').map(|(f, _)| f);
    }
    r.text = text.trim_end();
    Ok(Some(r))
}

/// `RCPT <a@b>: text` → (`RCPT <a@b>`, `text`); the colon is looked for
/// after any `<address>`. Without a colon the whole tail is the text.
fn split_reason(tail: &str) -> (&str, &str) {
    let search_from = match (tail.find('<'), tail.find(": ")) {
        (Some(lt), Some(colon)) if lt < colon => tail.get(lt..).and_then(|t| t.find('>')).map_or(0, |gt| lt + gt),
        _ => 0,
    };
    match tail.get(search_from..).and_then(|t| t.find(": ")) {
        Some(at) => (tail.get(..search_from + at).unwrap_or(tail), tail.get(search_from + at + 2..).unwrap_or("")),
        None => (tail, tail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals() {
        let r = classify(r#"<= office@parents.example H=mail.parents.example (helo.parents.example) [203.0.113.5]:40112 I=[192.0.2.10]:25 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_plain:j.smith S=2210 M8S=8 id=a1b2c3@parents.example T="Year 6 \"trip\" letter" from <office@parents.example> for head@school.example office@school.example"#).unwrap();
        assert_eq!(
            r,
            Record::Arrival(Arrival {
                sender: "office@parents.example",
                client_ip: Some("203.0.113.5"),
                user: Some("j.smith"),
                size: Some(2210),
                message_id: Some("a1b2c3@parents.example".into()),
                subject: Some("Year 6 \"trip\" letter".into()),
                recipients: vec!["head@school.example", "office@school.example"],
            })
        );
        let Record::Arrival(a) =
            classify("<= www-data@school.example U=www-data P=local S=990 id*=E1rK@school.example").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (a.user, a.client_ip, a.message_id.as_deref()),
            (Some("www-data"), None, Some("E1rK@school.example"))
        );
        let Record::Arrival(a) = classify("<= <> R=1rKxYz-0001Ab-Cd U=Debian-exim P=local S=1860").unwrap() else {
            panic!()
        };
        assert_eq!((a.sender, a.user), ("<>", Some("Debian-exim")));
        let Record::Arrival(a) = classify("<= a@b H=(x) [192.0.2.1] U=ident P=smtp S=5").unwrap() else { panic!() };
        assert_eq!(a.user, None, "an ident from a remote host is not an authenticated user");
    }

    #[test]
    fn deliveries() {
        assert_eq!(
            classify(r#"=> bob@example.org R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.2] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C="250 2.0.0 OK 1709548921 x1si - gsmtp""#).unwrap(),
            Record::Delivery(Delivery {
                address: "bob@example.org",
                status: Some(Status::Delivered),
                relay: Some("mx.example.org [198.51.100.2]".into()),
                text: Some("250 2.0.0 OK 1709548921 x1si - gsmtp".into()),
                sender: None,
            })
        );
        let Record::Delivery(d) =
            classify("=> marv <marv@hitch.fict.example> R=localuser T=local_delivery F=<a@b>").unwrap()
        else {
            panic!()
        };
        assert_eq!((d.address, d.text, d.sender), ("marv@hitch.fict.example", None, Some("a@b")));
        let Record::Delivery(d) =
            classify("== marvin@endrest.example R=dnslookup T=smtp defer (146): Connection refused").unwrap()
        else {
            panic!()
        };
        assert_eq!((d.status, d.text.as_deref()), (Some(Status::Deferred), Some("defer (146): Connection refused")));
        let Record::Delivery(d) = classify("** jim@trek99.example <jim@trek99.example>: unknown mail domain").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (d.address, d.status, d.text.as_deref()),
            ("jim@trek99.example", Some(Status::Bounced), Some("unknown mail domain"))
        );
        let Record::Delivery(d) = classify("** ace400@pb.example R=dnslookup T=remote_smtp: SMTP error from remote mailer after pipelined RCPT TO:<ace400@pb.example>: host pbmail3.py.example [192.168.63.111]: 553 5.3.0 <ace400@pb.example>...Addressee unknown").unwrap() else { panic!() };
        assert_eq!(d.text.as_deref(), Some("SMTP error from remote mailer after pipelined RCPT TO:<ace400@pb.example>: host pbmail3.py.example [192.168.63.111]: 553 5.3.0 <ace400@pb.example>...Addressee unknown"));
        let Record::Delivery(d) =
            classify("** x@slow.example R=dnslookup T=remote_smtp: retry timeout exceeded").unwrap()
        else {
            panic!()
        };
        assert_eq!(d.status, Some(Status::Expired));
        let Record::Delivery(d) = classify("=> :blackhole: <old.pupil@school.example> R=leavers").unwrap() else {
            panic!()
        };
        assert_eq!((d.address, d.status, d.text), ("old.pupil@school.example", Some(Status::Delivered), None));
        let Record::Delivery(d) = classify("*> a@b R=r T=t").unwrap() else { panic!() };
        assert_eq!(d.status, None);
    }

    #[test]
    fn rejections() {
        assert_eq!(
            classify("H=(bad.example) [192.0.2.9]:5512 I=[192.0.2.10]:25 F=<spam@bad.example> rejected RCPT <x@school.example>: relay not permitted").unwrap(),
            Record::Reject(Reject {
                client_ip: Some("192.0.2.9"),
                from: Some("spam@bad.example"),
                to: Some("x@school.example"),
                user: None,
                text: "relay not permitted"
            })
        );
        let Record::Reject(r) = classify("H=[192.0.2.9] rejected MAIL <spam@bad.example>: Access denied").unwrap()
        else {
            panic!()
        };
        assert_eq!((r.from, r.text), (Some("spam@bad.example"), "Access denied"));
        let Record::Reject(r) =
            classify("H=mx [192.0.2.9] F=<a@b> temporarily rejected RCPT <c@d>: greylisted").unwrap()
        else {
            panic!()
        };
        assert_eq!((r.to, r.text), (Some("c@d"), "greylisted"));
        let Record::Reject(r) =
            classify("H=mx [192.0.2.9] F=<a@b> A=login:kid rejected after DATA: message contains malware").unwrap()
        else {
            panic!()
        };
        assert_eq!((r.user, r.text), (Some("kid"), "message contains malware"));
        let Record::Reject(r) = classify(r#"H=[192.0.2.9] rejected connection in "connect" ACL"#).unwrap() else {
            panic!()
        };
        assert_eq!(r.text, r#"connection in "connect" ACL"#);
        let Record::Reject(r) =
            classify("rejected from <ph10@cam.example> [127.0.0.1] (ph10): syntax error in 'From' header").unwrap()
        else {
            panic!()
        };
        assert_eq!((r.from, r.text), (Some("ph10@cam.example"), "syntax error in 'From' header"));
        for other in [
            "H=mx [192.0.2.9] sender verify fail for <a@b>: rejected",
            "SMTP connection from [192.0.2.9]:5512 (TCP/IP connection count = 1)",
            "rejected",
            "Frozen",
        ] {
            assert_eq!(classify(other).unwrap(), Record::Other, "{other}");
        }
    }

    #[test]
    fn malformed_records_are_errors() {
        for bad in [
            "<= a@b H=mx [192.0.2.",
            "<= a@b S=12k",
            "<= a@b T=\"unfinished",
            "=> ",
            "** <>: x",
            "H=mx [192.0 rejected RCPT <a>: x",
        ] {
            assert!(classify(bad).is_err(), "{bad}");
        }
    }
}
