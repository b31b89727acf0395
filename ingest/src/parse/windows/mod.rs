//! Windows Security event log events as JSON, one object per line.
//!
//! Three shapes are read (see [`record`] for the field names):
//! - the event's own fields: `{"EventID": 4624, "TimeCreated": ...,
//!   "Computer": ..., "EventData": {"TargetUserName": ...}}` as written by
//!   NXLog's `im_msvistalog` + `to_json()` (which flattens the event data to
//!   the top level and names the time `EventTime`, the computer `Hostname`),
//!   or by converting the event XML to JSON
//!   (`{"Event": {"System": ..., "EventData": {"Data": [{"@Name", "#text"}]}}}`);
//! - PowerShell's `Get-WinEvent ... | ConvertTo-Json -Compress`, one
//!   `EventLogRecord` a line: `{"Id": 4624, "Version": 2, "MachineName",
//!   "TimeCreated", "Message", ..., "Properties": [{"Value": "S-1-5-18"}, ...]}`,
//!   whose event data has no names: for the event ids below, [`properties`]
//!   names each position from the event's template (Microsoft's Event XML
//!   for that event) and the event is then read as a named one. A record
//!   with an `EventData` object is read by name instead;
//! - Winlogbeat's ECS documents: `{"@timestamp", "winlog": {"event_id",
//!   "computer_name", "event_data"}, "event": {"code"}}`. Winlogbeat 7's
//!   security module moves a logon's `TargetUserName`, `TargetDomainName`,
//!   `IpAddress`, `IpPort` and `WorkstationName` out of `event_data` into
//!   `user.name`, `user.domain`, `source.ip`, `source.port` and
//!   `source.domain` (Elastic's "Winlogbeat security module" field
//!   reference); those are read from there when `event_data` lacks them.
//!
//! The EventData field names are Microsoft's, from each event's page under
//! "Advanced security auditing" (4624, 4625, 4634, 4648, 4720, 4726, 4728,
//! 4732, 4740, 4756, 4767); [`events`] says what each event becomes. Any other event id
//! makes an `auth` event with action `other` and the id as `event.code`, so
//! it stays searchable; a JSON object without an event id is rejected.
//!
//! Times: RFC 3339 with any zone, PowerShell 5's `/Date(ms)/`, or a time
//! without a zone (NXLog's default `2024-03-04 10:42:00`), which is taken as
//! UTC: configure NXLog to write UTC or RFC 3339 times.

mod events;
mod properties;
mod record;
#[cfg(test)]
mod tests;

use super::json_line::Json;
use super::{LineContext, LineUse, ParseError, Parser};
use record::Record;
use vigil_core::{Event, EventKind};

/// Reads Windows Security events as JSON lines; stateless.
#[derive(Debug, Default)]
pub struct WindowsParser;

impl Parser for WindowsParser {
    fn name(&self) -> &'static str {
        "windows"
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let text = line.strip_prefix('\u{feff}').unwrap_or(line);
        let value = Json::parse(text).map_err(|e| ParseError(format!("windows line is not a JSON object: {e}")))?;
        let root = value.as_object().ok_or_else(|| ParseError("windows line is JSON but not an object".into()))?;
        let record = Record::read(root)?;
        let facts = events::facts(&record);
        let mut e =
            Event::new(record.timestamp, EventKind::Auth, facts.action, facts.outcome, "windows", "windows", line);
        super::set_origin(&mut e, ctx.tenant, ctx.source, ctx.offset, line);
        e.code = Some(record.id.to_string());
        e.reason = facts.reason;
        e.user_name = facts.user;
        e.user_domain = facts.domain;
        e.user_target_name = facts.target;
        e.group_name = facts.group;
        e.device_name = facts.device;
        e.source_ip = facts.ip;
        e.source_port = facts.port;
        e.host_name = record.computer.filter(|c| !c.is_empty()).map(str::to_string);
        out.push(e);
        Ok(LineUse::Event)
    }
}
