//! One open file of a source: its input (plain or gzip), the bytes that
//! identify it, and its stream of lines.

use super::input::{FileId, GzipInput, PlainInput};
use super::state::{Pumped, SourceState};
use super::SourceError;
use crate::checkpoint::{Fingerprint, FINGERPRINT_BYTES};
use std::path::PathBuf;
use vigil_core::shutdown::Shutdown;

/// How an open file is read.
pub(crate) enum Input {
    /// Followed as it grows.
    Plain(PlainInput),
    /// Read once to its end; the fingerprint and length of its compressed
    /// bytes record it as done.
    Gzip {
        /// The decompressed content.
        input: GzipInput,
        /// Fingerprint of the compressed bytes.
        compressed: Fingerprint,
        /// Compressed length.
        len: u64,
    },
}

/// One open file.
pub(crate) struct Tracked {
    /// Where it was last seen.
    pub path: PathBuf,
    /// Which file it is (device and inode), where the platform says.
    pub id: Option<FileId>,
    pub input: Input,
    /// Its first content bytes (up to [`FINGERPRINT_BYTES`]) as known now.
    pub head: Vec<u8>,
    /// The fingerprint its position is saved under, if saved yet.
    pub saved: Option<Fingerprint>,
    pub state: SourceState,
    /// Whether the last read found no more bytes.
    pub at_end: bool,
    /// Scans in a row that found it at its end with nothing new read.
    pub idle_scans: u32,
    /// Whether bytes were read since the last scan.
    pub read_since_scan: bool,
    /// Whether the last scan found it under the source's pattern.
    pub seen: bool,
}

/// What a file leaves behind when it is closed: its stream (to finish and
/// close) and what its checkpoint needs.
pub(crate) struct Retiring {
    pub path: PathBuf,
    pub head: Vec<u8>,
    pub saved: Option<Fingerprint>,
    pub state: SourceState,
    /// For gzip files: compressed fingerprint and length.
    pub gzip: Option<(Fingerprint, u64)>,
}

impl Retiring {
    /// The fingerprint of the content read.
    pub fn identity(&self) -> Option<Fingerprint> {
        (!self.head.is_empty()).then(|| Fingerprint::of(&self.head))
    }
}

impl Tracked {
    /// An open file whose stream is `state`.
    pub fn new(
        path: PathBuf,
        id: Option<FileId>,
        input: Input,
        head: Vec<u8>,
        saved: Option<Fingerprint>,
        mut state: SourceState,
    ) -> Tracked {
        state.set_file(&path);
        Tracked {
            path,
            id,
            input,
            head,
            saved,
            state,
            at_end: false,
            idle_scans: 0,
            read_since_scan: false,
            seen: true,
        }
    }

    /// Whether it is a gzip file.
    pub fn is_gzip(&self) -> bool {
        matches!(self.input, Input::Gzip { .. })
    }

    /// The fingerprint of its content as known now.
    pub fn identity(&self) -> Option<Fingerprint> {
        (!self.head.is_empty()).then(|| Fingerprint::of(&self.head))
    }

    /// Reads up to `max_chunks` chunks; returns why it stopped and the bytes
    /// read.
    pub async fn pump(
        &mut self,
        buf: &mut Vec<u8>,
        shutdown: &Shutdown,
        max_chunks: usize,
    ) -> Result<(Pumped, u64), SourceError> {
        let pumped = match &mut self.input {
            Input::Plain(input) => self.state.pump(input, buf, &self.path, shutdown, max_chunks).await?,
            Input::Gzip { input, .. } => self.state.pump(input, buf, &self.path, shutdown, max_chunks).await?,
        };
        self.at_end = pumped.0 == Pumped::End;
        self.read_since_scan |= pumped.1 > 0;
        Ok(pumped)
    }

    /// A plain file shorter than the fingerprint when first seen: takes in
    /// the bytes it has gained since.
    pub fn refresh_head(&mut self) {
        let Input::Plain(input) = &self.input else { return };
        if self.head.len() as u64 >= FINGERPRINT_BYTES {
            return;
        }
        if let Ok(now) = input.head() {
            if now.len() > self.head.len() && now.starts_with(&self.head) {
                self.head = now;
            }
        }
    }

    /// Whether a plain file at its end was truncated or overwritten in place
    /// (copytruncate rotation): shorter than what was read, or different
    /// first bytes.
    pub fn replaced(&self) -> bool {
        let Input::Plain(input) = &self.input else { return false };
        match input.metadata() {
            Ok(meta) if meta.len() < input.pos() => true,
            Ok(_) if !self.head.is_empty() => input.head().is_ok_and(|now| !now.starts_with(&self.head)),
            _ => false,
        }
    }

    /// Starts again from offset 0 with `fresh` (same open file, after it was
    /// truncated) and returns the old stream to close.
    pub fn restart(&mut self, mut fresh: SourceState) -> Retiring {
        fresh.set_file(&self.path);
        if let Input::Plain(input) = &mut self.input {
            *input = input.rewound();
        }
        let state = std::mem::replace(&mut self.state, fresh);
        self.at_end = false;
        Retiring {
            path: self.path.clone(),
            head: std::mem::take(&mut self.head),
            saved: self.saved.take(),
            state,
            gzip: None,
        }
    }

    /// The open file of a plain input, if plain.
    pub fn plain_file(&self) -> Option<&PlainInput> {
        match &self.input {
            Input::Plain(input) => Some(input),
            Input::Gzip { .. } => None,
        }
    }

    /// Closes the input; returns what the checkpoint needs.
    pub fn retire(self) -> Retiring {
        let gzip = match self.input {
            Input::Gzip { compressed, len, .. } => Some((compressed, len)),
            Input::Plain(_) => None,
        };
        Retiring { path: self.path, head: self.head, saved: self.saved, state: self.state, gzip }
    }
}
