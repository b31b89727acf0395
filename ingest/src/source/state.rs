//! One stream of lines in flight: chunks become lines, lines go through the
//! parser, events and dead letters go to the producer, and every delivery is
//! tracked so the stream's safe offset only moves past lines that are durable
//! downstream and that the parser no longer holds.

use super::{SourceError, SourceSummary, STOP_GRACE};
use crate::acks::AckTracker;
use crate::lines::{LineSplitter, RawLine};
use crate::pipeline::LineProcessor;
use chrono::Utc;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use vigil_core::shutdown::{Phase, Shutdown};
use vigil_core::transport::{Producer, TransportError};
use vigil_core::{DeadLetter, Event};

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
    acks: AckTracker,
    producer: Arc<dyn Producer>,
    summary: SourceSummary,
    /// Number of the next line (the splitter's, kept for [`reject_rest`]).
    ///
    /// [`reject_rest`]: SourceState::reject_rest
    next_line_no: u64,
    lines: Vec<RawLine>,
    events: Vec<Event>,
}

impl SourceState {
    /// A stream starting at byte `offset`, line `line_no`.
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

    /// Feeds a chunk of input: complete lines are parsed and sent at once.
    pub async fn feed(&mut self, chunk: &[u8]) -> Result<(), SourceError> {
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
        self.next_line_no = line.line_no + 1;
        match self.processor.process(&line, Utc::now(), &mut self.events) {
            Ok(()) => self.send_events(line.end_offset).await,
            Err(reason) => {
                self.send_dead_letter(&line, reason).await?;
                // Events a stateful parser released on this line still go out.
                self.send_held_events(line.end_offset).await
            }
        }
    }

    async fn send_dead_letter(&mut self, line: &RawLine, reason: String) -> Result<(), SourceError> {
        let dead = self.processor.dead_letter(line, reason);
        self.send_dead(dead, line.end_offset).await
    }

    /// Sends a dead letter, attributing its delivery to the line ending at
    /// `end_offset`.
    async fn send_dead(&mut self, dead: DeadLetter, end_offset: u64) -> Result<(), SourceError> {
        self.summary.dead_letters += 1;
        self.acks.send_dead_letter(&*self.producer, &dead, end_offset).await.map_err(|e| self.transport_error(e))?;
        Ok(())
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
            self.acks.send_event(&*self.producer, &event, end_offset).await.map_err(|e| self.transport_error(e))?;
            self.summary.events += 1;
        }
        Ok(())
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
            self.handle_line(line).await?;
        }
        self.finish_held().await
    }

    /// Sends every event the parser holds, leaving an unterminated last line
    /// unread (the file may still be completed later).
    pub async fn finish_held(&mut self) -> Result<(), SourceError> {
        self.processor.flush_all(&mut self.events);
        let end = self.splitter.position();
        self.send_events(end).await
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
        let dead = self.processor.reject(&line, reason);
        self.send_dead(dead, line.end_offset).await?;
        self.finish_held().await
    }

    /// Idle at the end of a followed input: sends held events that timed out.
    pub async fn idle(&mut self) -> Result<(), SourceError> {
        self.processor.flush_expired(Utc::now(), &mut self.events);
        if self.events.is_empty() {
            return Ok(());
        }
        let end = self.splitter.position();
        self.send_events(end).await
    }

    /// The offset a restart may resume from: everything before it is durable
    /// and nothing before it is held.
    pub fn safe_offset(&self) -> u64 {
        self.acks.acked().min(self.held_offset())
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
        self.acks.failed()
    }

    /// Waits for outstanding deliveries (at most [`STOP_GRACE`] once shutdown
    /// says stop) and returns the summary and the final safe offset.
    pub async fn close(self, shutdown: &Shutdown) -> Result<(SourceSummary, u64), SourceError> {
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
