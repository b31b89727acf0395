//! File sources: every file matching a path or glob pattern, read once
//! (`--once`) or followed across rotation.
//!
//! # Finding files
//! The configured path is a glob pattern (see `scan`), listed again every
//! `rescan_interval`, so files that appear later (the new `access.log` after
//! rotation, a new day's log) are picked up. A path that matches nothing yet
//! is waited for (logged once at info); reading to the end (`--once`), it is
//! an error.
//!
//! # Recognising files
//! A file is known by the [`Fingerprint`] of its first 256 content bytes
//! (see [`crate::checkpoint`]), not by its path:
//! - rename-and-create rotation: the renamed file keeps being read through its
//!   open handle to its end (after a restart it is found again by its
//!   fingerprint and finished from its checkpoint); the new file is new and
//!   read from byte 0.
//! - copytruncate rotation: a followed file that becomes shorter than what was
//!   read, or whose first bytes change, is read again from byte 0 with a fresh
//!   parser. Its old position stays saved under the old fingerprint, so the
//!   copy (`access.log.1`) is read on from where the original stopped: lines
//!   written between the last read and the copy are not lost.
//! - a copy of a file being read or already read (same first bytes) is not
//!   read again. A file shorter than 256 bytes has a shorter fingerprint,
//!   compared as a prefix, which grows with the file; two different files
//!   whose first bytes are identical are taken for one until they differ
//!   within their first 256 bytes.
//! - an empty file is not opened until it has bytes (its content cannot be
//!   told yet).
//! - gzip files (magic bytes `1f 8b`, whatever their name) are decompressed
//!   once, start to end, then recorded as done by the fingerprint and length
//!   of their compressed bytes and never read again. Their content is
//!   fingerprinted like a plain file's, so `access.log.2.gz`, the compressed
//!   `access.log.1` already read, is read only from where `access.log.1`
//!   stopped (usually: nothing left). While following, a gzip file is left
//!   alone until it has not changed for `gzip_settle` (it may still be being
//!   written). A damaged gzip file (truncated, corrupt) has its lines up to
//!   the damage read; the incomplete rest becomes one dead letter whose reason
//!   names the file and the damage, the error is logged, the file is recorded
//!   as done, and the other files go on.
//! - other compressions (xz, zstd, bzip2, zip) are skipped with a warning.
//!
//! # Bounds
//! Each file has its own parser and stream: offsets and line numbers are the
//! file's own (a multi-line record split across a rotation is emitted as two
//! partial events). At most `max_open_files` files are open per source;
//! beyond it the file idle at its end the longest is closed (and reopened if
//! it grows) and new files wait for room. A file that left the pattern
//! (deleted, renamed away) is closed once it has been at its end for two
//! scans. Checkpoint entries of files not seen for `forget_after_days` days
//! are pruned.
//!
//! # Positions
//! Every open file's position is saved once a second, and when the file is
//! closed, only up to what is durable downstream and not held by its parser
//! ([`SourceState::safe_offset`]). A stop saves every file's position, so a
//! restart resumes every file exactly where it stopped.

use super::scan;
use super::state::SourceState;
use super::tracked::Tracked;
use super::{CatchUpGate, CaughtUp, NewProcessor, ReadMode, SourceError, SourceSummary};
use crate::checkpoint::CheckpointStore;
use crate::outbox::Courier;
use chrono::{NaiveDate, Utc};
use discover::Known;
use retire::{Closing, Ending};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil_core::config::StartAt;
use vigil_core::shutdown::{Phase, Shutdown};
use vigil_core::transport::Producer;

mod discover;
mod retire;

/// How often open files' positions are saved while lines arrive.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// Chunks read from one file before the next file's turn.
const CHUNKS_PER_TURN: usize = 4;
/// Scans at its end after which a file that left the pattern is closed.
const GONE_IDLE_SCANS: u32 = 2;
/// Default bound on open files per source.
pub const MAX_OPEN_FILES: usize = 64;
/// Default days after which checkpoints of files no longer seen are pruned.
pub const FORGET_AFTER_DAYS: u32 = 30;
/// Default time a gzip file must be unchanged before it is read (following).
const GZIP_SETTLE: Duration = Duration::from_secs(5);
/// Shortest default interval between two listings of the pattern.
const MIN_RESCAN: Duration = Duration::from_secs(1);

/// Everything a file source needs.
#[derive(Debug, Clone)]
pub struct FileSource {
    /// Configured name.
    pub name: String,
    /// The file, or a glob pattern matching the files.
    pub path: PathBuf,
    /// Where to start in the files found at the source's very first start
    /// (no checkpoint yet); files appearing later are read from their start.
    pub start_at: StartAt,
    /// Line length limit.
    pub max_line_bytes: usize,
    /// How often to look for appended lines.
    pub poll_interval: Duration,
    /// How often to list the pattern again for new files.
    pub rescan_interval: Duration,
    /// At most this many files open at once.
    pub max_open_files: usize,
    /// Checkpoints of files not seen for this many days are forgotten.
    pub forget_after_days: u32,
    /// While following, a gzip file is read only once unchanged this long.
    pub gzip_settle: Duration,
    /// The gate this lease source reports each pass that read everything
    /// there was to (see [`CatchUpGate`]); it takes one token.
    pub reports_to: Option<Arc<CatchUpGate>>,
    /// The gate this source waits at before reading anything, and before
    /// each pass.
    pub waits_for: Option<Arc<CatchUpGate>>,
}

impl FileSource {
    /// A source with the default bounds: rescans every poll interval but at
    /// most once a second, [`MAX_OPEN_FILES`], [`FORGET_AFTER_DAYS`], gzip
    /// files settled for 5 seconds.
    pub fn new(name: &str, path: &Path, start_at: StartAt, max_line_bytes: usize, poll_interval: Duration) -> Self {
        FileSource {
            name: name.to_string(),
            path: path.to_path_buf(),
            start_at,
            max_line_bytes,
            poll_interval,
            rescan_interval: poll_interval.max(MIN_RESCAN),
            max_open_files: MAX_OPEN_FILES,
            forget_after_days: FORGET_AFTER_DAYS,
            gzip_settle: GZIP_SETTLE,
            reports_to: None,
            waits_for: None,
        }
    }

    /// Reads the files per `mode`, sending through `producer`; each file gets
    /// a processor from `new_processor`. Calls `handed_over` once everything
    /// up to the end of input has been handed to the transport (before
    /// waiting for deliveries).
    pub async fn run(
        &self,
        new_processor: NewProcessor,
        producer: Arc<dyn Producer>,
        store: Arc<CheckpointStore>,
        mode: ReadMode,
        mut shutdown: Shutdown,
        handed_over: impl FnOnce(),
    ) -> Result<SourceSummary, SourceError> {
        let pattern = match scan::pattern_text(&self.path) {
            Ok(p) => p,
            Err(reason) => {
                handed_over();
                return Err(SourceError::Pattern {
                    source_name: self.name.clone(),
                    pattern: self.path.clone(),
                    reason,
                });
            }
        };
        let caught_up = self.reports_to.as_ref().map(CatchUpGate::token);
        if let Some(gate) = &self.waits_for {
            if !gate.is_open() {
                tracing::info!(source = %self.name, "waiting for the lease sources to catch up, so this source's lines are attributed");
            }
            tokio::select! {
                () = gate.opened() => {}
                () = shutdown.reached(Phase::Stop) => {}
            }
        }
        let fresh_source = store.read(&self.name, |c| c.is_empty());
        let mut follower = Follower {
            cfg: self,
            pattern,
            new_processor,
            courier: Courier::start(producer),
            store,
            mode,
            shutdown: shutdown.clone(),
            readers: Vec::new(),
            closing: Vec::new(),
            known: HashMap::new(),
            warned: HashSet::new(),
            summary: SourceSummary::default(),
            first_scan: true,
            fresh_source,
            waiting_logged: false,
            room_short: false,
            last_save: Instant::now(),
            buf: Vec::new(),
            caught_up,
        };
        let outcome = follower.follow(&mut shutdown).await;
        // Nothing more will be read: the sources waiting for this one must
        // not wait while its deliveries are awaited.
        follower.caught_up = None;
        handed_over();
        let closed = follower.close_all().await;
        let stopped = outcome?;
        let summary = closed?;
        if stopped {
            tracing::info!(source = %self.name, "stopped; positions saved");
        }
        Ok(summary)
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Completes when a waiting source asks this lease source (the holder of
/// `token`) for a pass; never for other sources.
async fn wanted(token: Option<&CaughtUp>) {
    match token {
        Some(token) => token.wanted().await,
        None => std::future::pending().await,
    }
}

/// One running file source.
struct Follower<'a> {
    cfg: &'a FileSource,
    pattern: String,
    new_processor: NewProcessor,
    /// Carries the records of every file of the source.
    courier: Courier,
    store: Arc<CheckpointStore>,
    mode: ReadMode,
    shutdown: Shutdown,
    readers: Vec<Tracked>,
    closing: Vec<Closing>,
    /// Paths needing nothing as of the last scan.
    known: HashMap<PathBuf, Known>,
    /// Paths already warned about.
    warned: HashSet<PathBuf>,
    /// Counts of closed files.
    summary: SourceSummary,
    first_scan: bool,
    /// The source had no checkpoint at all when it started.
    fresh_source: bool,
    waiting_logged: bool,
    /// The last scan left files unopened for lack of room.
    room_short: bool,
    last_save: Instant,
    buf: Vec<u8>,
    /// This lease source's token: told of every pass that read everything.
    caught_up: Option<CaughtUp>,
}

impl Follower<'_> {
    /// Reads until the end of input (reading to the end, or draining) or until
    /// shutdown says stop. Returns `true` when stopped.
    async fn follow(&mut self, shutdown: &mut Shutdown) -> Result<bool, SourceError> {
        let mut next_scan = Instant::now();
        let mut need_scan = true;
        loop {
            if shutdown.phase() == Phase::Stop || self.readers.iter().any(|r| r.state.failed()) {
                return Ok(true);
            }
            let draining = self.mode == ReadMode::ToEnd || shutdown.phase() == Phase::Drain;
            let scan_due = if draining { need_scan && self.readers.is_empty() } else { Instant::now() >= next_scan };
            if scan_due {
                self.scan().await?;
                need_scan = self.room_short;
                next_scan = Instant::now() + self.cfg.rescan_interval;
            }
            if draining && self.readers.is_empty() && !need_scan {
                return Ok(false);
            }
            if !draining {
                // Before reading on: a file at its end that was truncated
                // and refilled must not be read from its stale offset.
                self.check_ended().await?;
            }
            let pass_start = tokio::time::Instant::now();
            if let Some(gate) = &self.cfg.waits_for {
                gate.caught_up_to(pass_start).await;
            }
            let progressed = self.pump_all(shutdown).await?;
            // Every line written before the pass began has been read (and
            // enriched) once nothing more came, or every file is at its end.
            let read_all = !progressed || self.readers.iter().all(|r| r.at_end);
            if let Some(caught_up) = self.caught_up.as_ref().filter(|_| read_all && !need_scan) {
                caught_up.reached(pass_start);
            }
            if draining && self.readers.iter().all(|r| r.at_end) {
                for r in std::mem::take(&mut self.readers) {
                    self.retire(r.retire(), Ending::End).await?;
                }
            }
            self.housekeeping().await?;
            if !progressed && !draining {
                tokio::select! {
                    _ = tokio::time::sleep(self.cfg.poll_interval) => {}
                    () = wanted(self.caught_up.as_ref()) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }

    /// Gives every open file a turn; gzip files that ended are closed.
    /// Returns whether any bytes were read.
    async fn pump_all(&mut self, shutdown: &Shutdown) -> Result<bool, SourceError> {
        let mut progressed = false;
        let mut i = 0;
        while i < self.readers.len() {
            let reader = &mut self.readers[i];
            match reader.pump(&mut self.buf, shutdown, CHUNKS_PER_TURN).await {
                Ok((pumped, read)) => {
                    progressed |= read > 0;
                    if pumped == super::state::Pumped::Stopped {
                        return Ok(progressed);
                    }
                    if reader.is_gzip() && reader.at_end {
                        let reader = self.readers.remove(i);
                        self.retire(reader.retire(), Ending::End).await?;
                        continue;
                    }
                }
                Err(SourceError::Read { path, offset, source }) if reader.is_gzip() => {
                    tracing::error!(source = %self.cfg.name, path = %path.display(), offset, error = %source,
                        "the gzip file is damaged; its lines up to the damage were read");
                    let reason = format!(
                        "the gzip file is damaged after {offset} bytes of content ({source}); the lines before were read, this incomplete line and anything after it are lost"
                    );
                    let reader = self.readers.remove(i);
                    self.retire(reader.retire(), Ending::Damaged(reason)).await?;
                    continue;
                }
                Err(e) => return Err(e),
            }
            i += 1;
        }
        Ok(progressed)
    }

    /// Followed plain files at their end: truncated ones start again, held
    /// events that timed out go out, files gone from the pattern are closed.
    async fn check_ended(&mut self) -> Result<(), SourceError> {
        let mut i = 0;
        while i < self.readers.len() {
            let reader = &mut self.readers[i];
            if !reader.at_end || reader.is_gzip() {
                i += 1;
                continue;
            }
            if reader.replaced() {
                tracing::warn!(source = %self.cfg.name, path = %reader.path.display(),
                    "the file was truncated or overwritten (copytruncate rotation); reading it again from the start");
                let fresh =
                    SourceState::new((self.new_processor)(), self.courier.clone(), 0, 1, self.cfg.max_line_bytes);
                let old = reader.restart(fresh);
                self.retire(old, Ending::End).await?;
                i += 1;
                continue;
            }
            reader.state.idle().await?;
            if !reader.seen && reader.idle_scans >= GONE_IDLE_SCANS {
                let reader = self.readers.remove(i);
                tracing::info!(source = %self.cfg.name, path = %reader.path.display(), "file no longer matches the source's path; closed at its end");
                self.retire(reader.retire(), Ending::End).await?;
                continue;
            }
            i += 1;
        }
        Ok(())
    }

    /// Collects closed files and saves positions when due.
    async fn housekeeping(&mut self) -> Result<(), SourceError> {
        self.reap(false).await?;
        if self.last_save.elapsed() >= CHECKPOINT_EVERY {
            self.save_positions()?;
        }
        Ok(())
    }

    /// Saves every open file's safe position.
    fn save_positions(&mut self) -> Result<(), SourceError> {
        self.last_save = Instant::now();
        let mut updates = Vec::new();
        for reader in &mut self.readers {
            reader.refresh_head();
            if let Some(fp) = reader.identity() {
                let previous = reader.saved.replace(fp.clone());
                updates.push((previous, fp, reader.state.safe_offset(), reader.path.clone()));
            }
        }
        if updates.is_empty() {
            return Ok(());
        }
        let today = today();
        self.store.update(&self.cfg.name, |c| {
            for (previous, fp, offset, path) in &updates {
                c.set_file(previous.as_ref(), fp, *offset, path, today);
            }
        })?;
        Ok(())
    }
}
