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

use super::input::{content_of, count_lines, gzip_head, raw_head, Content, FileId, GzipInput, PlainInput};
use super::scan::{self, Listed};
use super::state::SourceState;
use super::tracked::{Input, Retiring, Tracked};
use super::{CatchUpGate, CaughtUp, NewProcessor, ReadMode, SourceError, SourceSummary};
use crate::checkpoint::{CheckpointStore, Fingerprint};
use crate::outbox::Courier;
use chrono::{NaiveDate, Utc};
use std::collections::{HashMap, HashSet};
use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::task::JoinHandle;
use vigil_core::config::StartAt;
use vigil_core::shutdown::{Phase, Shutdown};
use vigil_core::transport::Producer;

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

/// A path found and judged to need nothing now, as it was then.
struct Known {
    id: Option<FileId>,
    len: u64,
    modified: Option<SystemTime>,
    /// Its checkpoint key (plain) or compressed fingerprint (gzip).
    fingerprint: Option<Fingerprint>,
}

impl Known {
    fn of(meta: &Metadata, fingerprint: Option<Fingerprint>) -> Known {
        Known { id: FileId::of(meta), len: meta.len(), modified: meta.modified().ok(), fingerprint }
    }

    fn unchanged(&self, listed: &Listed) -> bool {
        self.id == listed.id && self.len == listed.len && self.modified == listed.modified
    }
}

/// A closed file whose deliveries are still awaited before its position is
/// saved; its content counts as being read until then.
struct Closing {
    head: Vec<u8>,
    keys: Vec<Fingerprint>,
    task: JoinHandle<Result<SourceSummary, SourceError>>,
}

/// How a file's stream ends when it is closed.
enum Ending {
    /// Shutdown: nothing more is sent; the position stays before anything
    /// not durable.
    Stop,
    /// Closed for room: held events are sent; an unterminated last line
    /// stays unread.
    Room,
    /// The input is over: the unterminated last line is a line.
    End,
    /// A damaged gzip file: the rest is one dead letter with this reason.
    Damaged(String),
}

/// What a file holds, read when it is first considered.
struct Probe {
    file: File,
    meta: Metadata,
    raw_head: Vec<u8>,
    content: Content,
    content_head: Vec<u8>,
}

fn probe(path: &Path) -> std::io::Result<Probe> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    let raw_head = raw_head(&file)?;
    let content = content_of(&raw_head, path);
    let content_head = if content == Content::Gzip { gzip_head(&file) } else { raw_head.clone() };
    Ok(Probe { file, meta, raw_head, content, content_head })
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

/// Whether two files' first bytes agree as far as both go.
fn same_start(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    n > 0 && a[..n] == b[..n]
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

    /// Lists the pattern: open files follow their renames, new or grown files
    /// are opened, checkpoints of files seen are kept and old ones pruned.
    async fn scan(&mut self) -> Result<(), SourceError> {
        let listed = scan::list(self.pattern.clone()).await;
        for reader in &mut self.readers {
            reader.refresh_head();
            if reader.read_since_scan {
                reader.idle_scans = 0;
            } else if reader.at_end {
                reader.idle_scans += 1;
            }
            reader.read_since_scan = false;
            reader.seen = false;
        }
        self.report_matches(listed.is_empty())?;
        let mut seen = Vec::new();
        let mut known = HashMap::new();
        let mut candidates = Vec::new();
        for l in listed {
            let same = |r: &&mut Tracked| match (r.id, l.id) {
                (Some(a), Some(b)) => a == b,
                _ => r.path == l.path,
            };
            if let Some(reader) = self.readers.iter_mut().find(same) {
                if reader.path != l.path {
                    reader.state.set_file(&l.path);
                    reader.path.clone_from(&l.path);
                }
                reader.seen = true;
                continue;
            }
            match self.known.remove(&l.path) {
                Some(k) if k.unchanged(&l) => {
                    seen.extend(k.fingerprint.clone());
                    known.insert(l.path, k);
                }
                _ => candidates.push(l),
            }
        }
        self.known = known;
        self.room_short = false;
        for l in candidates {
            self.consider(l.path, &mut seen).await?;
        }
        self.first_scan = false;
        let today = today();
        let cutoff = today.checked_sub_days(chrono::Days::new(self.cfg.forget_after_days.into())).unwrap_or(today);
        let mut pruned = 0;
        self.store.update(&self.cfg.name, |c| {
            for fp in &seen {
                c.touch(fp, today);
            }
            pruned = c.prune(cutoff);
        })?;
        if pruned > 0 {
            tracing::info!(source = %self.cfg.name, pruned, days = self.cfg.forget_after_days, "forgot the positions of files not seen for days");
        }
        Ok(())
    }

    /// Logs (once) that nothing matches yet; reading to the end, that is an
    /// error.
    fn report_matches(&mut self, none: bool) -> Result<(), SourceError> {
        if !none || !self.readers.is_empty() {
            if self.waiting_logged {
                tracing::info!(source = %self.cfg.name, "files matching the source's path have appeared");
            }
            self.waiting_logged = false;
            return Ok(());
        }
        if self.mode == ReadMode::ToEnd && self.first_scan {
            return Err(SourceError::NoMatch { source_name: self.cfg.name.clone(), pattern: self.cfg.path.clone() });
        }
        if !self.waiting_logged {
            tracing::info!(source = %self.cfg.name, path = %self.cfg.path.display(), "no file matches the source's path yet; waiting for it");
            self.waiting_logged = true;
        }
        Ok(())
    }

    fn warn_once(&mut self, path: &Path, problem: &str) {
        if self.warned.insert(path.to_path_buf()) {
            tracing::warn!(source = %self.cfg.name, path = %path.display(), "skipping the file: {problem}");
        }
    }

    /// Whether content starting with `head` is being read, or was just read,
    /// by an open or closing file.
    fn held_elsewhere(&self, head: &[u8]) -> bool {
        self.readers.iter().any(|r| same_start(&r.head, head)) || self.closing.iter().any(|c| same_start(&c.head, head))
    }

    /// Checkpoint keys that belong to open or closing files.
    fn owned_keys(&self) -> Vec<Fingerprint> {
        let open = self.readers.iter().flat_map(|r| r.saved.iter().cloned().chain(r.identity()));
        open.chain(self.closing.iter().flat_map(|c| c.keys.iter().cloned())).collect()
    }

    /// A file not open and not known unchanged: decides whether it needs
    /// reading, and from where, and opens it.
    async fn consider(&mut self, path: PathBuf, seen: &mut Vec<Fingerprint>) -> Result<(), SourceError> {
        let probed = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || probe(&path)).await
        };
        let probe = match probed {
            Ok(Ok(probe)) => probe,
            Ok(Err(e)) => {
                self.warn_once(&path, &format!("cannot read it ({e})"));
                return Ok(());
            }
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        };
        let gzip = match probe.content {
            Content::Unknown => return Ok(()),
            Content::Unsupported(kind) => {
                self.warn_once(
                    &path,
                    &format!("it is {kind}-compressed, which Vigil does not read; leave it out of the path pattern"),
                );
                self.known.insert(path, Known::of(&probe.meta, None));
                return Ok(());
            }
            Content::Plain => None,
            Content::Gzip => Some((Fingerprint::of(&probe.raw_head), probe.meta.len())),
        };
        if let Some((fp, len)) = &gzip {
            if self.store.read(&self.cfg.name, |c| c.is_gzip_done(fp, *len)) {
                seen.push(fp.clone());
                self.known.insert(path, Known::of(&probe.meta, Some(fp.clone())));
                return Ok(());
            }
            if self.mode == ReadMode::Follow && self.settling(&probe.meta) {
                return Ok(());
            }
        }
        if self.held_elsewhere(&probe.content_head) {
            return Ok(());
        }
        let owned = self.owned_keys();
        let found =
            self.store.read(&self.cfg.name, |c| c.find(&probe.content_head, &owned).map(|(fp, p)| (fp, p.offset)));
        let (saved, offset) = match found {
            Some((fp, offset)) => (Some(fp), offset),
            None if self.first_scan && self.fresh_source && self.cfg.start_at == StartAt::End => {
                return self.skip_history(path, &probe, gzip);
            }
            None => (None, 0),
        };
        let len = probe.meta.len();
        if gzip.is_none() && offset >= len {
            seen.extend(saved.clone());
            self.known.insert(path, Known::of(&probe.meta, saved));
            return Ok(());
        }
        if !self.make_room().await? {
            self.room_short = true;
            return Ok(());
        }
        self.open(path, probe, gzip, saved, offset).await;
        Ok(())
    }

    /// Whether a gzip file changed too recently to be complete.
    fn settling(&self, meta: &Metadata) -> bool {
        let age = meta.modified().ok().and_then(|m| SystemTime::now().duration_since(m).ok());
        age.is_some_and(|age| age < self.cfg.gzip_settle)
    }

    /// `start_at = "end"` on the source's first start: a file found then is
    /// recorded as read to its end.
    fn skip_history(
        &mut self,
        path: PathBuf,
        probe: &Probe,
        gzip: Option<(Fingerprint, u64)>,
    ) -> Result<(), SourceError> {
        let content = Fingerprint::of(&probe.content_head);
        let today = today();
        self.store.update(&self.cfg.name, |c| match &gzip {
            Some((fp, len)) => c.set_gzip_done(fp, *len, &path, today),
            None => c.set_file(None, &content, probe.meta.len(), &path, today),
        })?;
        let key = gzip.map_or(content, |(fp, _)| fp);
        self.known.insert(path, Known::of(&probe.meta, Some(key)));
        Ok(())
    }

    /// Makes room for one more open file, closing the one idle at its end the
    /// longest if needed. Returns whether there is room.
    async fn make_room(&mut self) -> Result<bool, SourceError> {
        if self.readers.len() < self.cfg.max_open_files.max(1) {
            return Ok(true);
        }
        let idlest = self
            .readers
            .iter()
            .enumerate()
            .filter(|(_, r)| r.at_end && r.idle_scans > 0)
            .max_by_key(|(_, r)| r.idle_scans)
            .map(|(i, _)| i);
        let Some(i) = idlest else { return Ok(false) };
        let reader = self.readers.remove(i);
        if let Some(meta) = reader.plain_file().and_then(|input| input.metadata().ok()) {
            self.known.insert(reader.path.clone(), Known::of(&meta, reader.identity()));
        }
        self.retire(reader.retire(), Ending::Room).await?;
        Ok(true)
    }

    /// Opens a file to read from content `offset`.
    async fn open(
        &mut self,
        path: PathBuf,
        probe: Probe,
        gzip: Option<(Fingerprint, u64)>,
        saved: Option<Fingerprint>,
        offset: u64,
    ) {
        let id = FileId::of(&probe.meta);
        let (input, offset, line_no) = match gzip {
            None => {
                let file = Arc::new(probe.file);
                let line_no = match offset {
                    0 => 1,
                    _ => match count_lines(file.clone(), offset).await {
                        Ok(lines) => lines + 1,
                        Err(e) => return self.warn_once(&path, &format!("cannot read it ({e})")),
                    },
                };
                (Input::Plain(PlainInput::new(file, offset)), offset, line_no)
            }
            Some((compressed, len)) => {
                let (input, start) = GzipInput::open(probe.file, offset).await;
                (Input::Gzip { input, compressed, len }, start.offset, start.lines + 1)
            }
        };
        tracing::info!(source = %self.cfg.name, path = %path.display(), offset, "reading file");
        let state =
            SourceState::new((self.new_processor)(), self.courier.clone(), offset, line_no, self.cfg.max_line_bytes);
        self.readers.push(Tracked::new(path, id, input, probe.content_head, saved, state));
    }

    /// Ends a file's stream per `ending`; its deliveries are awaited, and its
    /// position saved, in the background.
    async fn retire(&mut self, mut old: Retiring, ending: Ending) -> Result<(), SourceError> {
        let done = match ending {
            Ending::Stop => false,
            Ending::Room => {
                old.state.finish_held().await?;
                false
            }
            Ending::End => {
                old.state.finish_input().await?;
                true
            }
            Ending::Damaged(reason) => {
                old.state.reject_rest(reason).await?;
                true
            }
        };
        let end = old.state.position();
        let identity = old.identity();
        let Retiring { path, head, saved, state, gzip } = old;
        let keys = saved.iter().cloned().chain(identity.clone()).collect();
        let (store, name, shutdown) = (self.store.clone(), self.cfg.name.clone(), self.shutdown.clone());
        let task = tokio::spawn(async move {
            let (summary, safe) = state.close(&shutdown).await?;
            let today = today();
            store.update(&name, |c| {
                if let Some(fp) = &identity {
                    c.set_file(saved.as_ref(), fp, safe, &path, today);
                }
                if let Some((fp, len)) = gzip.filter(|_| done && safe >= end) {
                    c.set_gzip_done(&fp, len, &path, today);
                }
            })?;
            Ok(summary)
        });
        self.closing.push(Closing { head, keys, task });
        Ok(())
    }

    /// Collects closed files whose positions are saved (all of them, waiting,
    /// with `wait`).
    async fn reap(&mut self, wait: bool) -> Result<(), SourceError> {
        let mut first_error = None;
        let mut i = 0;
        while i < self.closing.len() {
            if !wait && !self.closing[i].task.is_finished() {
                i += 1;
                continue;
            }
            match self.closing.swap_remove(i).task.await {
                Ok(Ok(summary)) => self.summary.add(&summary),
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
                Err(_) => {} // the runtime is shutting down
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Closes every file (shutdown or end), waits for their deliveries and
    /// saves their positions.
    async fn close_all(&mut self) -> Result<SourceSummary, SourceError> {
        let mut first_error = None;
        for reader in std::mem::take(&mut self.readers) {
            if let Err(e) = self.retire(reader.retire(), Ending::Stop).await {
                first_error.get_or_insert(e);
            }
        }
        if let Err(e) = self.reap(true).await {
            first_error.get_or_insert(e);
        }
        first_error.map_or_else(|| Ok(self.summary.clone()), Err)
    }
}
