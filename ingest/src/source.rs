//! Reading sources: files (backfilled or followed) and stdin.
//!
//! Each source runs as one task: read a chunk, split it into lines, parse
//! them, send events and dead letters, and track their deliveries. A file's
//! position is saved only up to the first line not yet durable downstream and
//! never past a line the parser still holds, so a restart re-reads exactly
//! what may not have made it.

use crate::acks::AckTracker;
use crate::checkpoint::{fingerprint, CheckpointError, CheckpointStore, SourcePosition};
use crate::lines::{LineSplitter, RawLine};
use crate::pipeline::LineProcessor;
use chrono::Utc;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};
use vigil_core::config::StartAt;
use vigil_core::shutdown::{Phase, Shutdown};
use vigil_core::transport::{Producer, Topic, TransportError};
use vigil_core::Event;

/// Size of each read.
const CHUNK_BYTES: usize = 256 * 1024;
/// How often a followed file's position is saved while lines arrive.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// How long a stopping source waits for outstanding deliveries.
const STOP_GRACE: Duration = Duration::from_secs(10);

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
    /// Keep following the file for appended lines until shut down.
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

/// The state of one running source.
pub struct SourceState {
    processor: LineProcessor,
    splitter: LineSplitter,
    acks: AckTracker,
    producer: Arc<dyn Producer>,
    summary: SourceSummary,
    lines: Vec<RawLine>,
    events: Vec<Event>,
    /// The read buffer, reused across reads.
    buf: Vec<u8>,
}

impl SourceState {
    /// A source starting at byte `offset`, line `line_no`.
    pub fn new(
        processor: LineProcessor,
        producer: Arc<dyn Producer>,
        offset: u64,
        line_no: u64,
        max_line_bytes: usize,
    ) -> Self {
        SourceState {
            processor,
            splitter: LineSplitter::new(offset, line_no, max_line_bytes),
            acks: AckTracker::new(offset),
            producer,
            summary: SourceSummary::default(),
            lines: Vec::new(),
            events: Vec::new(),
            buf: vec![0u8; CHUNK_BYTES],
        }
    }

    fn transport_error(&self, source: TransportError) -> SourceError {
        SourceError::Transport { source_name: self.processor.source().to_string(), source }
    }

    /// Feeds a chunk of input.
    async fn feed(&mut self, chunk: &[u8]) -> Result<(), SourceError> {
        let mut lines = std::mem::take(&mut self.lines);
        self.splitter.push(chunk, |l| lines.push(l));
        for line in lines.drain(..) {
            self.handle_line(line).await?;
        }
        self.lines = lines;
        Ok(())
    }

    async fn handle_line(&mut self, line: RawLine) -> Result<(), SourceError> {
        self.summary.lines += 1;
        match self.processor.process(&line, Utc::now(), &mut self.events) {
            Ok(()) => self.send_events(line.end_offset).await,
            Err(reason) => {
                let dead = self.processor.dead_letter(&line, reason);
                self.summary.dead_letters += 1;
                let delivery = self
                    .producer
                    .send(Topic::DeadLetter, dead.source.as_bytes(), dead.to_json())
                    .await
                    .map_err(|e| self.transport_error(e))?;
                self.acks.sent(line.end_offset, delivery).await;
                // Events a stateful parser released on this line still go out.
                self.send_held_events(line.end_offset).await
            }
        }
    }

    /// Sends the events waiting in `self.events`, attributing their
    /// deliveries to the line ending at `end_offset`; a line that produced
    /// nothing is marked so the acknowledged offset can move past it.
    async fn send_events(&mut self, end_offset: u64) -> Result<(), SourceError> {
        if self.events.is_empty() {
            self.acks.mark(end_offset).await;
            return Ok(());
        }
        self.send_held_events(end_offset).await
    }

    /// Sends the events waiting in `self.events` (possibly none), attributing
    /// their deliveries to the line ending at `end_offset`.
    async fn send_held_events(&mut self, end_offset: u64) -> Result<(), SourceError> {
        for event in std::mem::take(&mut self.events) {
            let delivery = self
                .producer
                .send(Topic::Events, event.partition_key().as_bytes(), event.to_json())
                .await
                .map_err(|e| self.transport_error(e))?;
            self.acks.sent(end_offset, delivery).await;
            self.summary.events += 1;
        }
        Ok(())
    }

    /// Reads `reader` until its end, or until shutdown is `Stop`. Returns
    /// `true` when stopped by shutdown.
    async fn pump<R: AsyncRead + Unpin>(
        &mut self,
        reader: &mut R,
        path: &Path,
        shutdown: &Shutdown,
        checkpoint: &mut Option<Checkpointer>,
    ) -> Result<bool, SourceError> {
        // The buffer is taken out of `self` for the loop (`feed` borrows
        // `self` mutably) and put back whatever the loop's outcome.
        let mut buf = std::mem::take(&mut self.buf);
        let outcome = async {
            loop {
                if shutdown.phase() == Phase::Stop || self.acks.failed() {
                    return Ok(true);
                }
                let offset = self.splitter.position();
                let n = reader.read(&mut buf).await.map_err(|source| SourceError::Read {
                    path: path.to_path_buf(),
                    offset,
                    source,
                })?;
                if n == 0 {
                    return Ok(false);
                }
                self.feed(&buf[..n]).await?;
                if let Some(cp) = checkpoint.as_mut() {
                    cp.maybe_save(self)?;
                }
            }
        }
        .await;
        self.buf = buf;
        outcome
    }

    /// End of input: the unterminated last line and every held event.
    async fn finish_input(&mut self) -> Result<(), SourceError> {
        if let Some(line) = self.splitter.finish() {
            self.handle_line(line).await?;
        }
        self.processor.flush_all(&mut self.events);
        let end = self.splitter.position();
        self.send_events(end).await
    }

    /// Idle at the end of a followed file: release held events that timed out.
    async fn idle(&mut self) -> Result<(), SourceError> {
        self.processor.flush_expired(Utc::now(), &mut self.events);
        if self.events.is_empty() {
            return Ok(());
        }
        let end = self.splitter.position();
        self.send_events(end).await
    }

    /// The offset a restart may resume from: everything before it is durable
    /// and nothing before it is held.
    fn safe_offset(&self) -> u64 {
        self.acks.acked().min(self.held_offset())
    }

    /// Offset of the oldest line the parser holds, or `u64::MAX`.
    fn held_offset(&self) -> u64 {
        self.processor.oldest_held_offset().unwrap_or(u64::MAX)
    }

    /// The input was truncated (copytruncate rotation): wait for what was sent
    /// and start again at offset 0, keeping parser state.
    async fn restart_at_zero(&mut self, shutdown: &Shutdown) -> Result<(), SourceError> {
        self.finish_input().await?;
        let max = self.splitter.max_len();
        let acks = std::mem::replace(&mut self.acks, AckTracker::new(0));
        acks.finish(shutdown.clone(), STOP_GRACE).await.map_err(|e| self.transport_error(e))?;
        self.splitter = LineSplitter::new(0, 1, max);
        Ok(())
    }

    /// Waits for outstanding deliveries (at most [`STOP_GRACE`] once shutdown
    /// says stop) and returns the summary and the final safe offset.
    async fn close(self, shutdown: &Shutdown) -> Result<(SourceSummary, u64), SourceError> {
        let held = self.held_offset();
        let source_name = self.processor.source().to_string();
        let acked = self
            .acks
            .finish(shutdown.clone(), STOP_GRACE)
            .await
            .map_err(|source| SourceError::Transport { source_name, source })?;
        Ok((self.summary, acked.min(held)))
    }
}

/// Saves a file source's safe offset, at most once a second.
pub struct Checkpointer {
    store: Arc<CheckpointStore>,
    name: String,
    path: PathBuf,
    last_saved: Instant,
}

impl Checkpointer {
    fn maybe_save(&mut self, state: &SourceState) -> Result<(), SourceError> {
        if self.last_saved.elapsed() >= CHECKPOINT_EVERY {
            self.save(state.safe_offset())?;
        }
        Ok(())
    }

    fn save(&mut self, offset: u64) -> Result<(), SourceError> {
        self.last_saved = Instant::now();
        // A file that vanished cannot be fingerprinted; keep the old entry.
        let Ok(fingerprint) = fingerprint(&self.path, offset) else { return Ok(()) };
        self.store.save(&self.name, SourcePosition { offset, fingerprint })?;
        Ok(())
    }
}

/// Everything a file source needs.
pub struct FileSource {
    /// Configured name.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Where to start without a checkpoint.
    pub start_at: StartAt,
    /// Line length limit.
    pub max_line_bytes: usize,
    /// How often to look for appended lines.
    pub poll_interval: Duration,
}

impl FileSource {
    /// Reads the file per `mode`, sending through `producer`. Calls
    /// `handed_over` once everything up to the end of input has been handed
    /// to the transport (before waiting for deliveries).
    pub async fn run(
        &self,
        processor: LineProcessor,
        producer: Arc<dyn Producer>,
        store: Arc<CheckpointStore>,
        mode: ReadMode,
        mut shutdown: Shutdown,
        handed_over: impl FnOnce(),
    ) -> Result<SourceSummary, SourceError> {
        let read_err = |offset, source| SourceError::Read { path: self.path.clone(), offset, source };
        let (offset, line_no) = self.start_position(&store).map_err(|e| read_err(0, e))?;
        let mut file = tokio::fs::File::open(&self.path).await.map_err(|e| read_err(offset, e))?;
        file.seek(SeekFrom::Start(offset)).await.map_err(|e| read_err(offset, e))?;
        let mut state = SourceState::new(processor, producer, offset, line_no, self.max_line_bytes);
        let mut checkpoint =
            Some(Checkpointer { store, name: self.name.clone(), path: self.path.clone(), last_saved: Instant::now() });
        let stopped = loop {
            if state.pump(&mut file, &self.path, &shutdown, &mut checkpoint).await? {
                break true;
            }
            if mode == ReadMode::ToEnd || shutdown.phase() == Phase::Drain {
                state.finish_input().await?;
                break false;
            }
            if self.was_truncated(state.splitter.position()).await {
                tracing::warn!(source = %self.name, "file was truncated; reading it again from the start");
                state.restart_at_zero(&shutdown).await?;
                save_final(&mut checkpoint, 0)?;
                file = tokio::fs::File::open(&self.path).await.map_err(|e| read_err(0, e))?;
                continue;
            }
            state.idle().await?;
            if let Some(cp) = checkpoint.as_mut() {
                cp.maybe_save(&state)?;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        };
        handed_over();
        let (summary, safe) = state.close(&shutdown).await?;
        save_final(&mut checkpoint, safe)?;
        if stopped {
            tracing::info!(source = %self.name, offset = safe, "stopped; position saved");
        }
        Ok(summary)
    }

    /// Where to start: the checkpoint if it still matches the file, else the
    /// configured start. Returns (offset, line number).
    fn start_position(&self, store: &CheckpointStore) -> std::io::Result<(u64, u64)> {
        let len = std::fs::metadata(&self.path)?.len();
        if let Some(saved) = store.get(&self.name) {
            if saved.offset <= len && fingerprint(&self.path, saved.offset)? == saved.fingerprint {
                return Ok((saved.offset, count_lines(&self.path, saved.offset)? + 1));
            }
            tracing::warn!(source = %self.name, "the file is not the one last read (rotated or replaced); reading it from the start");
            return Ok((0, 1));
        }
        match self.start_at {
            StartAt::Beginning => Ok((0, 1)),
            StartAt::End => Ok((len, count_lines(&self.path, len)? + 1)),
        }
    }

    async fn was_truncated(&self, position: u64) -> bool {
        matches!(tokio::fs::metadata(&self.path).await, Ok(m) if m.len() < position)
    }
}

fn save_final(checkpoint: &mut Option<Checkpointer>, offset: u64) -> Result<(), SourceError> {
    match checkpoint.as_mut() {
        Some(cp) => cp.save(offset),
        None => Ok(()),
    }
}

/// Newlines in the first `limit` bytes of the file.
fn count_lines(path: &Path, limit: u64) -> std::io::Result<u64> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?.take(limit);
    let mut buf = vec![0u8; CHUNK_BYTES];
    let mut count = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(count);
        }
        count += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
}

/// Reads standard input to its end (or until shutdown).
pub async fn run_stdin(
    processor: LineProcessor,
    producer: Arc<dyn Producer>,
    max_line_bytes: usize,
    shutdown: Shutdown,
    handed_over: impl FnOnce(),
) -> Result<SourceSummary, SourceError> {
    let mut state = SourceState::new(processor, producer, 0, 1, max_line_bytes);
    let mut stdin = tokio::io::stdin();
    let stopped = state.pump(&mut stdin, Path::new("-"), &shutdown, &mut None).await?;
    if !stopped {
        state.finish_input().await?;
    }
    handed_over();
    if stopped {
        tracing::info!("stdin: stopped before its end");
    }
    Ok(state.close(&shutdown).await?.0)
}
