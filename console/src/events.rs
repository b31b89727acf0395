//! Events as the console reads and shows them: searched over several
//! tenants at once, found by id, as JSON objects and as export rows.

use crate::access::SearchScope;
use crate::ConsoleError;
use chrono::{DateTime, Utc};
use std::path::Path;
use vigil_core::Event;
use vigil_indexer::{quote_term, SearchRequest};

/// The fields of an export row, in order.
pub const EXPORT_FIELDS: &[&str] = &[
    "@timestamp",
    "tenant",
    "event.kind",
    "event.action",
    "event.outcome",
    "user.name",
    "source.ip",
    "device.name",
    "url.domain",
    "url.full",
    "search.query",
    "filter.category",
    "email.from",
    "email.to",
    "email.subject",
    "event.id",
    "message",
];

/// The newest `limit` events matching `query` in `[from, to)` within
/// `scope`, newest first, searched off the async threads.
pub async fn search(
    data_dir: &Path,
    scope: &SearchScope,
    query: &str,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: usize,
) -> Result<Vec<Event>, ConsoleError> {
    let requests: Vec<SearchRequest> = scope
        .tenants
        .iter()
        .map(|tenant| SearchRequest {
            query: query.to_string(),
            from,
            to,
            limit,
            tenant: tenant.clone(),
            user: scope.user.clone(),
        })
        .collect();
    let data_dir = data_dir.to_path_buf();
    let found = tokio::task::spawn_blocking(move || -> Result<Vec<Event>, ConsoleError> {
        let mut events = Vec::new();
        for request in &requests {
            events.extend(vigil_indexer::search(&data_dir, request)?);
        }
        Ok(events)
    })
    .await
    .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let mut events = found?;
    events.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then_with(|| a.id.cmp(&b.id)));
    events.truncate(limit);
    Ok(events)
}

/// Event `id` of `tenant`, if it is indexed.
pub async fn find(data_dir: &Path, tenant: &str, id: &str) -> Result<Option<Event>, ConsoleError> {
    let scope = SearchScope { tenants: vec![Some(tenant.to_string())], user: None };
    let found = search(data_dir, &scope, &format!("event.id:{}", quote_term(id)), None, None, 1).await?;
    Ok(found.into_iter().next())
}

/// The event as a JSON object with its wire field names.
pub fn as_json(event: &Event) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_slice(&event.to_json()) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// A field's value as text ("" when absent).
pub fn field_text(event: &serde_json::Map<String, serde_json::Value>, name: &str) -> String {
    match event.get(name) {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(values)) => values
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

/// `events` as CSV with a header row of [`EXPORT_FIELDS`]. A cell that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR at its
/// start) is prefixed with `'`: log values are written by whoever made the
/// request.
pub fn csv(events: &[Event]) -> Result<Vec<u8>, ConsoleError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| ConsoleError::Internal(format!("cannot write CSV: {e}"));
    writer.write_record(EXPORT_FIELDS).map_err(failed)?;
    for event in events {
        let map = as_json(event);
        writer.write_record(EXPORT_FIELDS.iter().map(|f| defused(field_text(&map, f)))).map_err(failed)?;
    }
    writer.into_inner().map_err(|e| ConsoleError::Internal(format!("cannot write CSV: {e}")))
}

fn defused(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// `events` as JSON lines, every field.
pub fn ndjson(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::new();
    for event in events {
        out.extend_from_slice(&event.to_json());
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::{EventKind, Outcome};

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_defused() {
        let mut e =
            Event::new(Utc::now(), EventKind::Proxy, "allowed", Outcome::Success, "squid", "squid", "raw,\"x\"");
        e.search_query = Some("=HYPERLINK(\"http://evil.example\")".into());
        e.user_name = Some("-2+3".into());
        let text = String::from_utf8(csv(&[e]).unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let row = reader.records().next().unwrap().unwrap();
        let cell = |name: &str| row.get(EXPORT_FIELDS.iter().position(|f| *f == name).unwrap()).unwrap().to_string();
        assert_eq!(cell("search.query"), "'=HYPERLINK(\"http://evil.example\")");
        assert_eq!(cell("user.name"), "'-2+3");
        assert_eq!(cell("message"), "raw,\"x\"", "quoted, not broken");
    }
}
