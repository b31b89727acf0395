//! Vigil's indexer: consumes normalised events into tantivy search indexes,
//! deletes them after the retention period, and searches them.
//!
//! # Layout
//!
//! One tantivy index per tenant per UTC day, in
//! `<data_dir>/index/<tenant>/<YYYY-MM-DD>/`, plus the checkpoint file
//! `<data_dir>/index/checkpoint.json`.
//!
//! - Retention deletes whole days: removing a folder is instant and really
//!   frees the space, where deleting documents from one big index would leave
//!   them on disk until a merge.
//! - Tenants are isolated on disk: a school's search never opens another
//!   school's files, and a school leaving is one folder to delete. Tenant
//!   names become folder names only after refusing path traversal and
//!   encoding anything but `[A-Za-z0-9_-]`.
//! - A search for a time range opens only the days it overlaps, and stops at
//!   older days once it has enough newer events.
//!
//! # Fields
//!
//! Every event field is searchable by its wire name, as users type it:
//! `url.domain:example.com`, `@timestamp:[2026-03-04T00:00:00Z TO
//! 2026-03-05T00:00:00Z]`, `http.response.status_code:[400 TO 499]`
//! ([`field_names`] lists them). Identifiers and names match whole and
//! case-insensitively; `message`, `url.full`, `search.query`,
//! `email.subject` and `event.reason` match by word and by phrase.
//!
//! # Exactly once
//!
//! See [`run`]: transport positions are committed with the index data, so
//! replays after a crash are recognised and skipped, and a document with an
//! already indexed `event.id` replaces the earlier one.
#![deny(missing_docs)]

mod checkpoint;
mod daily;
mod error;
mod layout;
mod metrics;
mod retention;
mod run;
mod schema;
mod search;
#[cfg(test)]
mod testutil;
mod writers;

pub use error::IndexerError;
pub use retention::apply_retention;
pub use run::run;
pub use schema::field_names;
pub use search::{parse_time, quote_term, search, SearchRequest};
