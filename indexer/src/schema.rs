//! The tantivy schema of an event: one index field per wire field, named
//! exactly as on the wire.
//!
//! tantivy's query parser reads a field name up to the colon, then looks it
//! up in the schema by its *whole* name first and only falls back to splitting
//! it at dots (for JSON paths) when no field has that name. Fields named
//! `url.domain` or `@timestamp` are therefore found as typed, and no JSON
//! field is involved (the tests in this module check it).

use std::sync::LazyLock;
use tantivy::query::QueryParser;
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, FieldType, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing,
    TextOptions, Value, STORED, TEXT,
};
use tantivy::tokenizer::{LowerCaser, RawTokenizer, RemoveLongFilter, TextAnalyzer};
use tantivy::{DateTime, Index, TantivyDocument, Term};
use vigil_core::Event;

/// How a wire field is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The whole value is one lower-cased token: exact match, any case.
    Keyword,
    /// Split into lower-cased words, with positions for phrase queries.
    Text,
    /// An unsigned integer, indexed for ranges and kept as a fast field.
    Number,
    /// The event time: indexed for ranges, a fast field for sorting.
    Timestamp,
}

/// Every searchable wire field of [`Event`] and how it is indexed.
const FIELDS: &[(&str, Kind)] = &[
    (TIMESTAMP, Kind::Timestamp),
    (ID, Kind::Keyword),
    ("event.kind", Kind::Keyword),
    ("event.action", Kind::Keyword),
    ("event.outcome", Kind::Keyword),
    ("event.reason", Kind::Text),
    ("event.code", Kind::Keyword),
    ("event.duration_ms", Kind::Number),
    ("tenant", Kind::Keyword),
    ("source.ip", Kind::Keyword),
    ("source.port", Kind::Number),
    ("source.mac", Kind::Keyword),
    ("source.geo.country_iso_code", Kind::Keyword),
    ("source.geo.city_name", Kind::Keyword),
    ("destination.ip", Kind::Keyword),
    ("destination.port", Kind::Number),
    ("user.name", Kind::Keyword),
    ("user.domain", Kind::Keyword),
    ("user.attribution", Kind::Keyword),
    ("user.full_name", Kind::Text),
    ("user.role", Kind::Keyword),
    ("user.year_group", Kind::Number),
    ("user.target.name", Kind::Keyword),
    ("group.name", Kind::Keyword),
    ("device.name", Kind::Keyword),
    ("user_agent.original", Kind::Text),
    ("access.policy", Kind::Text),
    ("host.name", Kind::Keyword),
    ("url.full", Kind::Text),
    ("url.domain", Kind::Keyword),
    ("search.query", Kind::Text),
    ("http.request.referrer", Kind::Text),
    ("http.request.method", Kind::Keyword),
    ("http.response.status_code", Kind::Number),
    ("http.response.bytes", Kind::Number),
    ("http.response.mime_type", Kind::Keyword),
    ("filter.category", Kind::Keyword),
    ("email.from", Kind::Keyword),
    ("email.to", Kind::Keyword),
    ("email.subject", Kind::Text),
    ("email.message_id", Kind::Keyword),
    ("email.queue_id", Kind::Keyword),
    ("email.size", Kind::Number),
    ("email.relay", Kind::Keyword),
    ("observer.product", Kind::Keyword),
    ("log.format", Kind::Keyword),
    ("log.source", Kind::Keyword),
    ("log.offset", Kind::Number),
    ("message", Kind::Text),
];

/// The event time field.
pub(crate) const TIMESTAMP: &str = "@timestamp";
/// The event id field, used to make re-indexing idempotent.
const ID: &str = "event.id";
/// The stored (not searchable) field holding the event's wire JSON.
const SOURCE: &str = "_source";
/// Fields a bare word (no `field:`) is looked up in.
const DEFAULT_SEARCH_FIELDS: &[&str] =
    &["message", "url.full", "search.query", "email.subject", "user.name", "url.domain"];
/// Name of the tokenizer of keyword fields.
const KEYWORD_TOKENIZER: &str = "vigil_keyword";
/// Keyword values longer than this are stored but not searchable (tantivy
/// refuses over-long terms; hostile input must not make indexing fail).
const MAX_KEYWORD_BYTES: usize = 1024;

static NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| FIELDS.iter().map(|(name, _)| *name).collect());

/// The searchable field names, as users type them in queries, in the order
/// the README documents them.
pub fn field_names() -> &'static [&'static str] {
    &NAMES
}

/// The schema and the handles of the fields the indexer uses directly.
pub(crate) struct EventSchema {
    schema: Schema,
    timestamp: Field,
    id: Field,
    source: Field,
}

static SCHEMA: LazyLock<EventSchema> = LazyLock::new(EventSchema::build);

/// The schema every daily index is created with.
pub(crate) fn event_schema() -> &'static EventSchema {
    &SCHEMA
}

/// Registers the tokenizers the schema names; needed on every opened index.
pub(crate) fn register_tokenizers(index: &Index) {
    let keyword = TextAnalyzer::builder(RawTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_KEYWORD_BYTES))
        .filter(LowerCaser)
        .build();
    index.tokenizers().register(KEYWORD_TOKENIZER, keyword);
}

impl EventSchema {
    fn build() -> EventSchema {
        let mut builder = Schema::builder();
        for &(name, kind) in FIELDS {
            match kind {
                Kind::Keyword => {
                    let indexing = TextFieldIndexing::default()
                        .set_tokenizer(KEYWORD_TOKENIZER)
                        .set_index_option(IndexRecordOption::Basic);
                    builder.add_text_field(name, TextOptions::default().set_indexing_options(indexing))
                }
                Kind::Text => builder.add_text_field(name, TEXT),
                Kind::Number => builder.add_u64_field(name, NumericOptions::default().set_indexed().set_fast()),
                Kind::Timestamp => builder.add_date_field(
                    name,
                    DateOptions::default().set_indexed().set_fast().set_precision(DateTimePrecision::Milliseconds),
                ),
            };
        }
        builder.add_text_field(SOURCE, STORED);
        let schema = builder.build();
        let field = |name| schema.get_field(name).expect("declared above");
        EventSchema { timestamp: field(TIMESTAMP), id: field(ID), source: field(SOURCE), schema: schema.clone() }
    }

    /// The tantivy schema.
    pub(crate) fn schema(&self) -> Schema {
        self.schema.clone()
    }

    /// The event time field.
    pub(crate) fn timestamp(&self) -> Field {
        self.timestamp
    }

    /// The term matching every document of the event with id `id`, as the
    /// keyword tokenizer would index it.
    pub(crate) fn id_term(&self, id: &str) -> Term {
        Term::from_field_text(self.id, &id.to_lowercase())
    }

    /// The document of `event`: each wire field into the index field of the
    /// same name, and the wire JSON stored whole.
    pub(crate) fn document(&self, event: &Event) -> TantivyDocument {
        let json = event.to_json();
        let mut doc = TantivyDocument::new();
        doc.add_date(self.timestamp, to_tantivy_date(event.timestamp));
        if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice::<serde_json::Value>(&json) {
            for (name, value) in &fields {
                if name != TIMESTAMP {
                    self.add_value(&mut doc, name, value);
                }
            }
        }
        doc.add_text(self.source, String::from_utf8_lossy(&json));
        doc
    }

    fn add_value(&self, doc: &mut TantivyDocument, name: &str, value: &serde_json::Value) {
        let Ok(field) = self.schema.get_field(name) else {
            tracing::debug!(field = name, "event field has no index field; stored only");
            return;
        };
        match (self.schema.get_field_entry(field).field_type(), value) {
            (FieldType::Str(_), serde_json::Value::String(s)) => doc.add_text(field, s),
            (FieldType::Str(_), serde_json::Value::Array(items)) => {
                for s in items.iter().filter_map(|v| v.as_str()) {
                    doc.add_text(field, s);
                }
            }
            (FieldType::U64(_), v) => {
                if let Some(n) = v.as_u64() {
                    doc.add_u64(field, n);
                }
            }
            _ => tracing::debug!(field = name, "event field value does not fit its index field"),
        }
    }

    /// The event stored in `doc`.
    pub(crate) fn event(&self, doc: &TantivyDocument) -> Result<Event, String> {
        let json = doc.get_first(self.source).and_then(|v| v.as_str()).ok_or("no stored event JSON")?;
        Event::from_json(json.as_bytes()).map_err(|e| e.to_string())
    }

    /// A query parser for this schema, with the default search fields and
    /// AND between bare words (`alice youtube` means both).
    pub(crate) fn query_parser(&self) -> QueryParser {
        let index = Index::create_in_ram(self.schema());
        register_tokenizers(&index);
        let defaults =
            DEFAULT_SEARCH_FIELDS.iter().map(|name| self.schema.get_field(name).expect("declared")).collect();
        let mut parser = QueryParser::for_index(&index, defaults);
        parser.set_conjunction_by_default();
        parser
    }
}

/// `time` converted to tantivy's date type.
pub(crate) fn to_tantivy_date(time: chrono::DateTime<chrono::Utc>) -> DateTime {
    DateTime::from_timestamp_micros(time.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::full_event;

    #[test]
    fn every_wire_field_of_an_event_is_searchable_by_its_name() {
        let json: serde_json::Value = serde_json::from_slice(&full_event().to_json()).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        for key in &keys {
            assert!(field_names().contains(key), "{key} is not in the index schema");
        }
        assert_eq!(keys.len(), field_names().len(), "schema lists a field the event does not have");
    }

    #[test]
    fn the_query_parser_reads_dotted_and_at_names_as_whole_field_names() {
        let parser = event_schema().query_parser();
        for query in [
            "url.domain:example.com",
            "@timestamp:[2026-03-04T00:00:00Z TO 2026-03-05T00:00:00Z]",
            "http.response.status_code:[400 TO 499]",
        ] {
            let parsed = parser.parse_query(query).unwrap_or_else(|e| panic!("{query}: {e}"));
            assert!(!format!("{parsed:?}").contains("Json"), "{query} parsed as a JSON path: {parsed:?}");
        }
    }

    #[test]
    fn stored_json_gives_back_the_exact_event() {
        let event = full_event();
        let doc = event_schema().document(&event);
        assert_eq!(event_schema().event(&doc).unwrap(), event);
    }
}
