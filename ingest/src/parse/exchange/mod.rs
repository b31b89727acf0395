//! Microsoft Exchange Server message tracking logs (`MSGTRK*.LOG`), as
//! documented in Microsoft's "Message tracking in Exchange Server" (fields
//! and event types of the message tracking log).
//!
//! The files are W3C-style CSV: `#Software:`, `#Version:`, `#Log-type:`,
//! `#Date:` and `#Fields:` header lines ([`LineUse::Header`]), then one
//! comma-separated line per event. `#Fields:` sets the column order of the
//! lines that follow; without it the Exchange 2013+ order ([`DEFAULT_FIELDS`])
//! is used. `date-time` is ISO 8601 UTC.
//!
//! One event per line. `event-id` is kept as `event.code`; it sets the action:
//! - `DELIVER`, `SEND`, `SENDEXTERNAL` (a send to a server outside the
//!   organization, logged by Exchange 2016/2019 hybrid connectors) →
//!   `delivered` (success);
//! - `FAIL`, `DELIVERFAIL`, `SUBMITFAIL`, `RESUBMITFAIL`, `MODERATORSALLNDR` →
//!   `bounced` (failure), or `expired` when the recipient status says
//!   `QUEUE.Expired`; `MODERATIONEXPIRE` → `expired`;
//! - `DEFER`, `SUBMITDEFER`, `RESUBMITDEFER` → `deferred`;
//! - `DROP`, `BADMAIL`, `POISONMESSAGE`, `MODERATORREJECT` → `rejected` (failure);
//! - `RECEIVE`, `SUBMIT`, `CLIENTSUBMISSION`, `RESUBMIT` → `queued` (the
//!   message entered transport; outcome unknown);
//! - any other (`EXPAND`, `RESOLVE`, `REDIRECT`, `DSN`, `HA*`, `AGENTINFO`,
//!   `TRANSFER`...) → `other`.
//!
//! Fields: `source.ip` is `original-client-ip` when logged (the client that
//! first submitted the message, behind any front-end server), else
//! `client-ip`; `email.from` is `return-path` (the envelope sender), else
//! `sender-address`; `email.to` is `recipient-address` split at `;`;
//! `event.reason` is `recipient-status`, unless it only names recipient
//! types (`To`, `Cc`, `Bcc`, as `STOREDRIVER` `RECEIVE` events log it);
//! IPv6 addresses lose their `%zone` suffix (`fe80::1%3`); `email.queue_id` is
//! `internal-message-id`; `email.size` is `total-bytes`. For `SEND` and
//! `SENDEXTERNAL` events the
//! server fields name the next hop (`email.relay` = `server-hostname
//! [server-ip]`) and `host.name` is `client-hostname` (this server); for other
//! events `host.name` is `server-hostname`.

use super::csvline;
use super::{set_origin, LineContext, LineUse, ParseError, Parser};
use chrono::{DateTime, Utc};
use vigil_core::{Event, EventKind, Outcome};

/// The column order of Exchange 2013 and later, used until a `#Fields:`
/// header says otherwise.
pub const DEFAULT_FIELDS: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,\
connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,\
total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,\
message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,\
log-id,schema-version";

/// Reads Exchange message tracking lines, following their `#Fields:` header.
#[derive(Debug)]
pub struct ExchangeParser {
    columns: Columns,
}

impl Default for ExchangeParser {
    fn default() -> Self {
        ExchangeParser { columns: Columns::from_names(DEFAULT_FIELDS).unwrap_or_default() }
    }
}

impl ExchangeParser {
    /// A parser expecting the default column order.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Where each field the parser reads is, by column; and how many columns.
#[derive(Debug, Default, Clone)]
struct Columns {
    count: usize,
    date_time: usize,
    event_id: Option<usize>,
    client_ip: Option<usize>,
    client_hostname: Option<usize>,
    server_ip: Option<usize>,
    server_hostname: Option<usize>,
    internal_message_id: Option<usize>,
    message_id: Option<usize>,
    recipient_address: Option<usize>,
    recipient_status: Option<usize>,
    total_bytes: Option<usize>,
    message_subject: Option<usize>,
    sender_address: Option<usize>,
    return_path: Option<usize>,
    original_client_ip: Option<usize>,
}

impl Columns {
    /// The columns of a `#Fields:` list; `None` without `date-time`.
    fn from_names(list: &str) -> Option<Self> {
        let names: Vec<&str> = list.split(',').map(str::trim).collect();
        let at = |name: &str| names.iter().position(|n| n.eq_ignore_ascii_case(name));
        Some(Columns {
            count: names.len(),
            date_time: at("date-time")?,
            event_id: at("event-id"),
            client_ip: at("client-ip"),
            client_hostname: at("client-hostname"),
            server_ip: at("server-ip"),
            server_hostname: at("server-hostname"),
            internal_message_id: at("internal-message-id"),
            message_id: at("message-id"),
            recipient_address: at("recipient-address"),
            recipient_status: at("recipient-status"),
            total_bytes: at("total-bytes"),
            message_subject: at("message-subject"),
            sender_address: at("sender-address"),
            return_path: at("return-path"),
            original_client_ip: at("original-client-ip"),
        })
    }
}

impl Parser for ExchangeParser {
    fn name(&self) -> &'static str {
        "exchange"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let text = line.strip_prefix('\u{feff}').unwrap_or(line);
        if let Some(directive) = text.strip_prefix('#') {
            return self.header(directive);
        }
        let fields = csvline::split(text).map_err(|e| ParseError(format!("exchange tracking line: {e}")))?;
        let c = &self.columns;
        if fields.len() != c.count {
            return Err(ParseError(format!(
                "exchange tracking line has {} fields but the #Fields header lists {}",
                fields.len(),
                c.count
            )));
        }
        let get = |i: Option<usize>| i.and_then(|i| fields.get(i)).map(|f| f.trim()).filter(|f| !f.is_empty());
        let stamp = get(Some(c.date_time)).unwrap_or_default();
        let time = DateTime::parse_from_rfc3339(stamp)
            .map_err(|_| ParseError(format!("exchange date-time {stamp:?} is not an ISO 8601 time")))?
            .with_timezone(&Utc);
        let event_id = get(c.event_id).ok_or_else(|| ParseError("exchange tracking line has no event-id".into()))?;
        let status = get(c.recipient_status);
        let (action, outcome) = verdict(event_id, status.unwrap_or_default());
        let size = get(c.total_bytes)
            .map(|s| s.parse::<u64>())
            .transpose()
            .map_err(|_| ParseError("exchange total-bytes is not a number".into()))?;
        let owned = |i: Option<usize>| get(i).map(str::to_string);

        let mut e = Event::new(time, EventKind::Email, action, outcome, "exchange", "exchange", line);
        set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        e.code = Some(event_id.to_string());
        e.reason = status.filter(|s| !is_recipient_types(s)).map(str::to_string);
        e.source_ip = get(c.original_client_ip).or_else(|| get(c.client_ip)).map(|ip| without_zone(ip).to_string());
        if event_id.eq_ignore_ascii_case("SEND") || event_id.eq_ignore_ascii_case("SENDEXTERNAL") {
            e.host_name = owned(c.client_hostname);
            e.email_relay = match (get(c.server_hostname), get(c.server_ip).map(without_zone)) {
                (Some(host), Some(ip)) => Some(format!("{host} [{ip}]")),
                (Some(one), None) | (None, Some(one)) => Some(one.to_string()),
                (None, None) => None,
            };
        } else {
            e.host_name = owned(c.server_hostname);
        }
        e.email_from = owned(c.return_path).or_else(|| owned(c.sender_address));
        e.email_to = get(c.recipient_address)
            .map(|list| list.split(';').map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        e.email_subject = get(c.message_subject).map(str::to_string);
        e.email_message_id = owned(c.message_id);
        e.email_queue_id = owned(c.internal_message_id);
        e.email_size = size;
        out.push(e);
        Ok(LineUse::Event)
    }
}

impl ExchangeParser {
    /// A `#Name: value` directive; `#Fields:` resets the columns.
    fn header(&mut self, directive: &str) -> Result<LineUse, ParseError> {
        let (name, value) = directive
            .split_once(':')
            .filter(|(name, _)| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            .ok_or_else(|| ParseError("exchange header line is not `#Name: value`".into()))?;
        if name.eq_ignore_ascii_case("Fields") {
            self.columns = Columns::from_names(value)
                .ok_or_else(|| ParseError("exchange #Fields header has no date-time field".into()))?;
        }
        Ok(LineUse::Header)
    }
}

/// `fe80::1` of `fe80::1%3`: the zone index names a local interface.
fn without_zone(ip: &str) -> &str {
    ip.split_once('%').filter(|(addr, _)| addr.contains(':')).map_or(ip, |(addr, _)| addr)
}

/// A `recipient-status` that only lists recipient types (`To;Cc`), not a
/// delivery status.
fn is_recipient_types(status: &str) -> bool {
    status.split(';').all(|t| ["To", "Cc", "Bcc"].iter().any(|k| k.eq_ignore_ascii_case(t.trim())))
}

/// Action and outcome of an `event-id` (see the module documentation).
fn verdict(event_id: &str, recipient_status: &str) -> (&'static str, Outcome) {
    match event_id.to_ascii_uppercase().as_str() {
        "DELIVER" | "SEND" | "SENDEXTERNAL" => ("delivered", Outcome::Success),
        "FAIL" | "DELIVERFAIL" | "SUBMITFAIL" | "RESUBMITFAIL" | "MODERATORSALLNDR" => {
            if recipient_status.contains("QUEUE.Expired") {
                ("expired", Outcome::Failure)
            } else {
                ("bounced", Outcome::Failure)
            }
        }
        "MODERATIONEXPIRE" => ("expired", Outcome::Failure),
        "DEFER" | "SUBMITDEFER" | "RESUBMITDEFER" => ("deferred", Outcome::Unknown),
        "DROP" | "BADMAIL" | "POISONMESSAGE" | "MODERATORREJECT" => ("rejected", Outcome::Failure),
        "RECEIVE" | "SUBMIT" | "CLIENTSUBMISSION" | "RESUBMIT" => ("queued", Outcome::Unknown),
        _ => ("other", Outcome::Unknown),
    }
}

#[cfg(test)]
mod tests;
