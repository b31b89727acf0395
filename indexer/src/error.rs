//! The one error type of the indexer.

use std::path::PathBuf;
use thiserror::Error;
use vigil_core::transport::TransportError;

/// Why indexing, retention or a search failed.
#[derive(Debug, Error)]
pub enum IndexerError {
    /// tantivy could not open, write or read a daily index.
    #[error("the search index at {path} failed: {source}")]
    Index {
        /// The daily index folder.
        path: PathBuf,
        /// What tantivy said.
        source: tantivy::TantivyError,
    },
    /// A file or folder of the index could not be read, written or deleted.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The checkpoint file or an index's commit payload is not what the
    /// indexer writes; deleting the checkpoint file is safe (re-indexing is
    /// idempotent).
    #[error("the indexer checkpoint in {path} is unreadable ({reason}); delete it to re-index from the consumer group's position")]
    Checkpoint {
        /// The checkpoint file or the index folder whose payload is bad.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A tenant name that cannot be a folder name (empty, too long, or an
    /// attempt at path traversal).
    #[error("tenant name {tenant:?} is not allowed: {reason}")]
    InvalidTenant {
        /// The name as given.
        tenant: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The search query could not be parsed.
    #[error("cannot run the query {query:?}: {reason}")]
    Query {
        /// The query as typed.
        query: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored document could not be turned back into an event.
    #[error("a document in {path} does not hold a valid event: {reason}")]
    CorruptDocument {
        /// The daily index folder.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The transport failed while consuming or committing.
    #[error("the event transport failed: {0}")]
    Transport(#[from] TransportError),
    /// A blocking indexing task panicked or was cancelled.
    #[error("an indexing task stopped unexpectedly: {0}")]
    Task(String),
}
