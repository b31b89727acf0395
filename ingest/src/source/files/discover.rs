//! Finding the files of a source's pattern and opening them: listing,
//! recognising a file by its first bytes, skipping history, making room.

use super::{today, Ending, Follower};
use crate::checkpoint::Fingerprint;
use crate::source::input::{content_of, count_lines, gzip_head, raw_head, Content, FileId, GzipInput, PlainInput};
use crate::source::scan::{self, Listed};
use crate::source::state::SourceState;
use crate::source::tracked::{Input, Tracked};
use crate::source::{ReadMode, SourceError};
use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use vigil_core::config::StartAt;

/// A path found and judged to need nothing now, as it was then.
pub(super) struct Known {
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

/// Whether two files' first bytes agree as far as both go.
fn same_start(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    n > 0 && a[..n] == b[..n]
}

impl Follower<'_> {
    /// Lists the pattern: open files follow their renames, new or grown files
    /// are opened, checkpoints of files seen are kept and old ones pruned.
    pub(super) async fn scan(&mut self) -> Result<(), SourceError> {
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
}
