//! The open index writers, at most [`MAX_OPEN_WRITERS`] at a time.

use crate::error::IndexerError;
use crate::layout::{open_or_create, DayKey};
use crate::schema::event_schema;
use std::path::{Path, PathBuf};
use tantivy::IndexWriter;
use vigil_core::Event;

/// Most writers open at once. Each owns an indexing thread and up to
/// `indexer.writer_memory_mb` of buffered documents. Events mostly go to
/// today's index of each tenant, so a few suffice for one school; a trust
/// with many schools (or a backfill across days) cycles writers, closing the
/// least recently used one.
const MAX_OPEN_WRITERS: usize = 4;

/// tantivy refuses less than 15 MB per indexing thread.
const MIN_WRITER_MEMORY_MB: usize = 15;

struct OpenWriter {
    key: DayKey,
    path: PathBuf,
    writer: IndexWriter,
    /// Holds documents not yet committed.
    dirty: bool,
    /// Received a document since the previous commit.
    used: bool,
}

impl OpenWriter {
    /// Commits the buffered documents, recording `payload` with them.
    fn commit(&mut self, payload: &str) -> Result<(), IndexerError> {
        let err = |source| IndexerError::Index { path: self.path.clone(), source };
        let mut prepared = self.writer.prepare_commit().map_err(err)?;
        prepared.set_payload(payload);
        prepared.commit().map_err(err)?;
        self.dirty = false;
        Ok(())
    }

    /// Waits for the writer's merges and releases it. Must be clean.
    fn close(self) -> Result<(), IndexerError> {
        debug_assert!(!self.dirty, "closing a writer with uncommitted documents");
        let path = self.path;
        self.writer.wait_merging_threads().map_err(|source| IndexerError::Index { path, source })
    }
}

/// The writers of the daily indexes being written, least recently used first.
pub(crate) struct WriterPool {
    root: PathBuf,
    memory_bytes: usize,
    writers: Vec<OpenWriter>,
}

impl WriterPool {
    /// A pool writing indexes under `root`, each writer with
    /// `writer_memory_mb` megabytes (at least tantivy's minimum).
    pub(crate) fn new(root: &Path, writer_memory_mb: usize) -> WriterPool {
        WriterPool {
            root: root.to_path_buf(),
            memory_bytes: writer_memory_mb.max(MIN_WRITER_MEMORY_MB) << 20,
            writers: Vec::new(),
        }
    }

    /// Adds `event` to the index `key`, replacing any document with the same
    /// event id. When a writer must be closed to make room and it holds
    /// uncommitted documents, it is committed first with `payload()`.
    pub(crate) fn add(
        &mut self,
        key: &DayKey,
        event: &Event,
        payload: impl FnOnce() -> String,
    ) -> Result<(), IndexerError> {
        let writer = self.writer(key, payload)?;
        let schema = event_schema();
        writer.writer.delete_term(schema.id_term(&event.id));
        writer
            .writer
            .add_document(schema.document(event))
            .map_err(|source| IndexerError::Index { path: writer.path.clone(), source })?;
        writer.dirty = true;
        writer.used = true;
        Ok(())
    }

    /// The writer of `key`, now the most recently used, opened if needed.
    fn writer(&mut self, key: &DayKey, payload: impl FnOnce() -> String) -> Result<&mut OpenWriter, IndexerError> {
        if let Some(pos) = self.writers.iter().position(|w| &w.key == key) {
            let writer = self.writers.remove(pos);
            self.writers.push(writer);
        } else {
            if self.writers.len() >= MAX_OPEN_WRITERS {
                let mut oldest = self.writers.remove(0);
                if oldest.dirty {
                    oldest.commit(&payload())?;
                }
                oldest.close()?;
            }
            self.writers.push(self.open(key)?);
        }
        Ok(self.writers.last_mut().expect("pushed or moved to the end above"))
    }

    fn open(&self, key: &DayKey) -> Result<OpenWriter, IndexerError> {
        let path = key.path(&self.root);
        let index = open_or_create(&path)?;
        let writer = index
            .writer_with_num_threads(1, self.memory_bytes)
            .map_err(|source| IndexerError::Index { path: path.clone(), source })?;
        tracing::debug!(path = %path.display(), "opened index writer");
        Ok(OpenWriter { key: key.clone(), path, writer, dirty: false, used: false })
    }

    /// Commits every writer holding uncommitted documents, recording
    /// `payload` in each commit; then closes the writers that received
    /// nothing since the previous commit.
    pub(crate) fn commit(&mut self, payload: &str) -> Result<(), IndexerError> {
        for writer in self.writers.iter_mut().filter(|w| w.dirty) {
            writer.commit(payload)?;
        }
        let (keep, idle): (Vec<_>, Vec<_>) = std::mem::take(&mut self.writers).into_iter().partition(|w| w.used);
        self.writers = keep;
        for writer in &mut self.writers {
            writer.used = false;
        }
        idle.into_iter().try_for_each(OpenWriter::close)
    }

    /// Closes every writer. Commit first: uncommitted documents are lost.
    pub(crate) fn close_all(&mut self) -> Result<(), IndexerError> {
        std::mem::take(&mut self.writers).into_iter().try_for_each(OpenWriter::close)
    }
}
