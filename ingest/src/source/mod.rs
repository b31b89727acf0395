//! Reading sources: files (a path or a glob, backfilled or followed across
//! rotation, plain or gzip) and stdin.
//!
//! Each stream of lines is a [`SourceState`]: read a chunk, split it into
//! lines, parse them, send events and dead letters, and track their
//! deliveries. A file's position is saved only up to the first line not yet
//! durable downstream and never past a line the parser still holds, so a
//! restart re-reads exactly what may not have made it. How files are found,
//! recognised and followed is described in [`files`].

mod catch_up;
mod files;
mod input;
mod scan;
mod sniff;
mod state;
mod stdin;
mod tracked;

pub use catch_up::{CatchUpGate, CaughtUp};
pub use files::FileSource;
pub use sniff::sniff_format;
pub use state::SourceState;
pub use stdin::run_stdin;

use crate::checkpoint::CheckpointError;
use crate::pipeline::LineProcessor;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use vigil_core::transport::TransportError;

/// How long a stopping stream waits for outstanding deliveries.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Makes a fresh line processor (parser state included) for each file a
/// source reads; each file has its own parser, so multi-line records do not
/// mix lines of different files.
pub type NewProcessor = Arc<dyn Fn() -> LineProcessor + Send + Sync>;

/// Why a source stopped with an error.
#[derive(Debug, Error)]
pub enum SourceError {
    /// The file could not be opened or read.
    #[error("cannot read {path} at byte {offset}: {source}")]
    Read {
        /// The file (`-` for stdin).
        path: PathBuf,
        /// Where reading failed.
        offset: u64,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The configured path is not a valid glob pattern.
    #[error("source {source_name}: the path {pattern} is not a valid pattern ({reason}); escape `[`, `]`, `*` and `?` as `[[]`, `[]]`, `[*]`, `[?]`")]
    Pattern {
        /// The source.
        source_name: String,
        /// The configured path.
        pattern: PathBuf,
        /// What the pattern parser said.
        reason: String,
    },
    /// Reading to the end (`--once`), the path matched no file.
    #[error("source {source_name}: no file matches {pattern}; check the path in the configuration")]
    NoMatch {
        /// The source.
        source_name: String,
        /// The configured path.
        pattern: PathBuf,
    },
    /// The transport refused a record or a delivery failed.
    #[error("source {source_name}: {source}")]
    Transport {
        /// The source.
        source_name: String,
        /// What the transport said.
        source: TransportError,
    },
    /// The checkpoint could not be saved.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// Whether a file source stops at its end or waits for more lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// Read to the end of the input, flush held events, stop (`--once`).
    ToEnd,
    /// Keep following the files for appended lines and new files until shut
    /// down.
    Follow,
}

/// What a finished source reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSummary {
    /// Lines read.
    pub lines: u64,
    /// Events sent.
    pub events: u64,
    /// Lines dead-lettered.
    pub dead_letters: u64,
}

impl SourceSummary {
    /// Adds the counts of `other` (another file of the same source).
    pub fn add(&mut self, other: &SourceSummary) {
        self.lines += other.lines;
        self.events += other.events;
        self.dead_letters += other.dead_letters;
    }
}
