//! One Windows event read out of whichever JSON shape carried it.

use super::super::json_line::{powershell_time, Json, Members};
use super::super::ParseError;
use super::properties::Properties;
use chrono::{DateTime, Utc};

/// The parts of a Windows event the parser uses.
pub(super) struct Record<'a> {
    /// The event id (`4624`).
    pub id: u32,
    /// When the event was logged, in UTC.
    pub timestamp: DateTime<Utc>,
    /// The computer that logged it.
    pub computer: Option<&'a str>,
    /// Where the named event-data fields are looked up, in order.
    data: Vec<&'a Members<'a>>,
    /// PowerShell's positional event data, read instead of `data` when the
    /// record has no `EventData`.
    properties: Option<Properties<'a>>,
    /// A Winlogbeat document's root, where Winlogbeat 7 moved some fields
    /// (see [`MOVED_BY_WINLOGBEAT_7`]).
    ecs: Option<&'a Members<'a>>,
}

/// Event-data fields that Winlogbeat 7's security module (its
/// `winlogbeat-security.js` processor, run in the Beat before output) moves
/// out of `winlog.event_data` into ECS fields for logon events: a 7.x
/// document sent to Kafka, Logstash or a file has `user.name` and
/// `source.ip` but no `TargetUserName` or `IpAddress`. Winlogbeat 8 leaves
/// `event_data` whole (the ECS fields are added later, by Elasticsearch).
const MOVED_BY_WINLOGBEAT_7: &[(&str, [&str; 2])] = &[
    ("TargetUserName", ["user", "name"]),
    ("TargetDomainName", ["user", "domain"]),
    ("IpAddress", ["source", "ip"]),
    ("IpPort", ["source", "port"]),
    ("WorkstationName", ["source", "domain"]),
];

impl<'a> Record<'a> {
    /// Reads the Winlogbeat shape when the object has a `winlog` object,
    /// the raw / NXLog / PowerShell shape otherwise.
    pub fn read(root: &'a Members<'a>) -> Result<Self, ParseError> {
        match root.get("winlog").and_then(Json::as_object) {
            Some(winlog) => Self::winlogbeat(root, winlog),
            None => Self::raw(root),
        }
    }

    /// `{"@timestamp", "winlog": {"event_id", "computer_name", "event_data"}, "event": {"code"}}`.
    fn winlogbeat(root: &'a Members<'a>, winlog: &'a Members<'a>) -> Result<Self, ParseError> {
        let code = root.get("event").and_then(|event| event.get("code"));
        let id = event_id(winlog.get("event_id").or(code), "winlog.event_id")?
            .ok_or_else(|| ParseError("Winlogbeat event has no winlog.event_id or event.code".into()))?;
        let stamp = root.get("@timestamp").ok_or_else(|| ParseError("Winlogbeat event has no @timestamp".into()))?;
        let timestamp = time_of(stamp, "@timestamp")?;
        let host_name = root.get("host").and_then(|host| host.get("name"));
        let computer = winlog.get("computer_name").or(host_name).and_then(Json::as_str);
        let data = winlog.get("event_data").and_then(Json::as_object).into_iter().collect();
        Ok(Record { id, timestamp, computer, data, properties: None, ecs: Some(root) })
    }

    /// The event's System fields at the top level (NXLog, PowerShell) or
    /// under `Event.System` / `System` (event XML converted to JSON); the
    /// event data in `EventData` (named fields, or a `Data` list of
    /// `{"@Name", "#text"}`), else in PowerShell's positional `Properties`
    /// list for the event ids [`Properties`] knows, else flattened to the
    /// top level as NXLog does.
    fn raw(root: &'a Members<'a>) -> Result<Self, ParseError> {
        let event = root.get("Event").and_then(Json::as_object).unwrap_or(root);
        let system = event.get("System").and_then(Json::as_object).unwrap_or(event);
        let (id_name, id) = first_of(system, &["EventID", "EventId", "Id"])
            .ok_or_else(|| ParseError("windows event has no EventID (nor Id, winlog.event_id or event.code)".into()))?;
        let id = event_id(Some(id), id_name)?.ok_or_else(|| ParseError(format!("windows {id_name} is empty")))?;
        let (time_name, time) = first_of(system, &["TimeCreated", "EventTime", "TimeGenerated"])
            .ok_or_else(|| ParseError("windows event has no TimeCreated, EventTime or TimeGenerated".into()))?;
        let timestamp = time_of(time, time_name)?;
        let computer = first_of(system, &["Computer", "Hostname", "MachineName"]).and_then(|(_, v)| v.as_str());
        let event_data = event.get("EventData").and_then(Json::as_object);
        let properties = event_data.is_none().then(|| Properties::read(id, event.get("Properties"))).flatten();
        // A PowerShell record's own members (its `ProcessId`, `UserId`...)
        // are not event data.
        let data = match properties {
            Some(_) => Vec::new(),
            None => event_data.into_iter().chain([event]).collect(),
        };
        Ok(Record { id, timestamp, computer, data, properties, ecs: None })
    }

    /// The named event-data field as text; absent, `-` and empty are all
    /// `None` (Windows writes `-` for "no value").
    /// In a Winlogbeat document, a field Winlogbeat 7 moved out of the event
    /// data is read from where it moved; in a PowerShell record, a field is
    /// read from its position.
    pub fn field(&self, name: &str) -> Option<String> {
        let text = match &self.properties {
            Some(properties) => properties.text(name)?,
            None => scalar_text(
                self.data.iter().find_map(|container| lookup(container, name)).or_else(|| self.moved(name))?,
            )?,
        };
        let text = text.trim();
        (!text.is_empty() && text != "-").then(|| text.to_string())
    }

    /// Where Winlogbeat 7 put the event-data field `name`, if it moved it.
    fn moved(&self, name: &str) -> Option<&'a Json<'a>> {
        let (_, [parent, child]) = MOVED_BY_WINLOGBEAT_7.iter().find(|(field, _)| *field == name)?;
        self.ecs?.get(parent)?.get(child)
    }
}

/// A string or number as text; other values have none.
pub(super) fn scalar_text(value: &Json<'_>) -> Option<String> {
    match value {
        Json::String(s) => Some(s.to_string()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first of `names` present in `map`, with its name.
fn first_of<'v, 'a>(map: &'v Members<'a>, names: &[&'static str]) -> Option<(&'static str, &'v Json<'a>)> {
    names.iter().find_map(|name| map.get(name).map(|value| (*name, value)))
}

/// A named field of an event-data object: a key of its own, or an entry of
/// its `Data` list (`{"@Name": "TargetUserName", "#text": "alice"}`).
fn lookup<'v, 'a>(container: &'v Members<'a>, name: &str) -> Option<&'v Json<'a>> {
    if let Some(value) = container.get(name) {
        return Some(value);
    }
    let data = container.get("Data")?;
    let items = data.as_array().unwrap_or(std::slice::from_ref(data));
    let item = items
        .iter()
        .filter_map(Json::as_object)
        .find(|item| ["@Name", "Name"].iter().any(|key| item.get(key).and_then(Json::as_str) == Some(name)))?;
    ["#text", "text", "Value", "value"].iter().find_map(|key| item.get(key))
}

/// The text inside an XML-to-JSON element: the value itself, or its
/// `#text` when the element had attributes (`{"@Qualifiers": "", "#text": "4624"}`).
fn element_text<'v, 'a>(value: &'v Json<'a>) -> &'v Json<'a> {
    match value.as_object() {
        Some(element) => ["#text", "text", "Value", "value"].iter().find_map(|key| element.get(key)).unwrap_or(value),
        None => value,
    }
}

/// An event id written as a number or a string; `Ok(None)` when absent.
fn event_id(value: Option<&Json<'_>>, name: &str) -> Result<Option<u32>, ParseError> {
    let Some(value) = value.map(element_text) else { return Ok(None) };
    let id = match value {
        Json::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    id.map(Some).ok_or_else(|| ParseError(format!("windows {name} {} is not an event number", shown(value))))
}

/// A time field: a string, or an object with the XML `SystemTime` attribute.
fn time_of(value: &Json<'_>, name: &str) -> Result<DateTime<Utc>, ParseError> {
    let text = match value.as_object() {
        Some(element) => ["@SystemTime", "SystemTime"].iter().find_map(|key| element.get(key)),
        None => Some(value),
    }
    .and_then(Json::as_str);
    text.and_then(powershell_time).ok_or_else(|| {
        ParseError(format!(
            "windows {name} {} is not a time (expected RFC 3339, `YYYY-MM-DD HH:MM:SS` or `/Date(ms)/`)",
            shown(value)
        ))
    })
}

/// A value for an error message, written as JSON and cut to a readable length.
fn shown(value: &Json<'_>) -> String {
    let text = value.to_value().to_string();
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
