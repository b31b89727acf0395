//! One stream of lines in flight: chunks become lines, lines go through the
//! parser, events and dead letters go to the producer a chunk at a time, and
//! every delivery is tracked so the stream's safe offset only moves past
//! lines that are durable downstream and that the parser no longer holds.

use super::{SourceError, SourceSummary, STOP_GRACE};
use crate::lines::{LineSplitter, RawLine};
use crate::outbox::{Courier, Outbox};
use crate::pipeline::LineProcessor;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::path::Path;
use vigil_core::shutdown::{Phase, Shutdown};
use vigil_core::transport::TransportError;
use vigil_core::Event;

/// Size of each read.
pub(crate) const CHUNK_BYTES: usize = 256 * 1024;

/// Something read in chunks: a file, a decompressed gzip stream, stdin.
pub(crate) trait ChunkRead: Send {
    /// Replaces the contents of `buf` with the next bytes and returns how
    /// many there are; 0 at the (current) end of input.
    fn read_chunk(&mut self, buf: &mut Vec<u8>) -> impl Future<Output = std::io::Result<usize>> + Send;
}

/// Why [`SourceState::pump`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pumped {
    /// The input has no more bytes for now.
    End,
    /// The chunk budget is spent; there may be more.
    Budget,
    /// Shutdown said stop, or a delivery failed.
    Stopped,
}

/// The state of one running stream of lines (one file, stdin, one network
/// connection).
pub struct SourceState {
    processor: LineProcessor,
    splitter: LineSplitter,
    outbox: Outbox,
    summary: SourceSummary,
    /// Number of the next line (the splitter's, kept for [`reject_rest`]).
    ///
    /// [`reject_rest`]: SourceState::reject_rest
    next_line_no: u64,
    lines: Vec<RawLine>,
    events: Vec<Event>,
}

impl SourceState {
    /// A stream starting at byte `offset`, line `line_no`, whose records
    /// `courier` carries.
    pub fn new(processor: LineProcessor, courier: Courier, offset: u64, line_no: u64, max_line_bytes: usize) -> Self {
        SourceState {
            processor,
            splitter: LineSplitter::new(offset, line_no, max_line_bytes),
            outbox: Outbox::new(courier, offset),
            summary: SourceSummary::default(),
            next_line_no: line_no,
            lines: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Names the file this stream reads, for its events and dead letters (a
    /// source may read many files).
    pub fn set_file(&mut self, path: &Path) {
        self.processor.set_file(path);
    }

    fn transport_error(&self, source: TransportError) -> SourceError {
        SourceError::Transport { source_name: self.processor.source().to_string(), source }
    }

    /// Feeds a chunk of input: complete lines are parsed, and what they made
    /// is sent.
    pub async fn feed(&mut self, chunk: &[u8]) -> Result<(), SourceError> {
        let mut lines = std::mem::take(&mut self.lines);
        self.splitter.push(chunk, |l| lines.push(l));
        // One clock reading per chunk: the lines of a chunk were read together.
        let now = Utc::now();
        for line in lines.drain(..) {
            self.handle_line(line, now);
            if self.outbox.is_full() {
                self.send().await?;
            }
        }
        self.lines = lines;
        self.send().await
    }

    /// Parses `line`, read at `now`, and adds what it made to the outbox.
    fn handle_line(&mut self, line: RawLine, now: DateTime<Utc>) {
        self.summary.lines += 1;
        self.next_line_no = line.line_no + 1;
        if let Err(reason) = self.processor.process(&line, now, &mut self.events) {
            // Events a stateful parser released on this line still go out.
            self.summary.dead_letters += 1;
            self.outbox.dead_letter(self.processor.dead_letter(&line, reason));
        }
        self.add_events(line.end_offset);
    }

    /// Adds the events waiting in `self.events` (possibly none) to the
    /// outbox, and marks the lines up to `end_offset` done.
    fn add_events(&mut self, end_offset: u64) {
        for event in self.events.drain(..) {
            self.outbox.event(event);
            self.summary.events += 1;
        }
        self.outbox.lines_done(end_offset);
    }

    /// Hands the outbox's records to the producer.
    async fn send(&mut self) -> Result<(), SourceError> {
        self.outbox.send().await.map_err(|e| self.transport_error(e))
    }

    /// Reads at most `max_chunks` chunks of `input` (through `buf`), stopping
    /// early at its end or once shutdown says stop; returns why, and how many
    /// bytes were read. `path` names the input in read errors.
    pub(crate) async fn pump<R: ChunkRead>(
        &mut self,
        input: &mut R,
        buf: &mut Vec<u8>,
        path: &Path,
        shutdown: &Shutdown,
        max_chunks: usize,
    ) -> Result<(Pumped, u64), SourceError> {
        let mut read = 0u64;
        for _ in 0..max_chunks {
            if shutdown.phase() == Phase::Stop || self.failed() {
                return Ok((Pumped::Stopped, read));
            }
            let offset = self.splitter.position();
            let n = input.read_chunk(buf).await.map_err(|source| SourceError::Read {
                path: path.to_path_buf(),
                offset,
                source,
            })?;
            if n == 0 {
                return Ok((Pumped::End, read));
            }
            read += n as u64;
            self.feed(&buf[..n]).await?;
        }
        Ok((Pumped::Budget, read))
    }

    /// Offset of the first byte not yet part of a complete line.
    pub fn position(&self) -> u64 {
        self.splitter.position()
    }

    /// End of input: the unterminated last line and every held event.
    pub async fn finish_input(&mut self) -> Result<(), SourceError> {
        if let Some(line) = self.splitter.finish() {
            self.handle_line(line, Utc::now());
        }
        self.finish_held().await
    }

    /// Sends every event the parser holds, leaving an unterminated last line
    /// unread (the file may still be completed later).
    pub async fn finish_held(&mut self) -> Result<(), SourceError> {
        self.processor.flush_all(&mut self.events);
        self.add_events(self.splitter.position());
        self.send().await
    }

    /// The input broke off (a damaged gzip file): the unterminated last line,
    /// possibly empty, is dead-lettered with `reason` instead of parsed, then
    /// held events are sent.
    pub(crate) async fn reject_rest(&mut self, reason: String) -> Result<(), SourceError> {
        let line = self.splitter.finish().unwrap_or_else(|| {
            let at = self.splitter.position();
            RawLine { line_no: self.next_line_no, offset: at, end_offset: at, bytes: Vec::new(), overlong: None }
        });
        self.summary.lines += 1;
        self.summary.dead_letters += 1;
        self.outbox.dead_letter(self.processor.reject(&line, reason));
        self.outbox.lines_done(line.end_offset);
        self.finish_held().await
    }

    /// Idle at the end of a followed input: sends held events that timed out.
    pub async fn idle(&mut self) -> Result<(), SourceError> {
        self.processor.flush_expired(Utc::now(), &mut self.events);
        if self.events.is_empty() {
            return Ok(());
        }
        self.add_events(self.splitter.position());
        self.send().await
    }

    /// The offset a restart may resume from: everything before it is durable
    /// and nothing before it is held.
    pub fn safe_offset(&self) -> u64 {
        self.outbox.acked().min(self.held_offset())
    }

    /// Offset of the oldest line the parser holds, or `u64::MAX`.
    fn held_offset(&self) -> u64 {
        self.processor.oldest_held_offset().unwrap_or(u64::MAX)
    }

    /// Whether a delivery has failed (the stream must stop; [`close`]
    /// reports the error).
    ///
    /// [`close`]: SourceState::close
    pub fn failed(&self) -> bool {
        self.outbox.failed()
    }

    /// Waits for outstanding deliveries (at most [`STOP_GRACE`] once shutdown
    /// says stop) and returns the summary and the final safe offset.
    pub async fn close(self, shutdown: &Shutdown) -> Result<(SourceSummary, u64), SourceError> {
        let held = self.held_offset();
        let source_name = self.processor.source().to_string();
        let acked = self
            .outbox
            .finish(shutdown.clone(), STOP_GRACE)
            .await
            .map_err(|source| SourceError::Transport { source_name, source })?;
        Ok((self.summary, acked.min(held)))
    }
}
