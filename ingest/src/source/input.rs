//! Reading one file: positional reads of plain files (a renamed file keeps
//! being read through its open handle), gzip decompression on a blocking
//! thread, the first bytes that identify a file, and what a file holds.

use super::state::{ChunkRead, CHUNK_BYTES};
use crate::checkpoint::FINGERPRINT_BYTES;
use flate2::read::MultiGzDecoder;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// What a file holds, told from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Content {
    /// Text lines.
    Plain,
    /// Gzip (magic bytes `1f 8b`), whatever the file is called.
    Gzip,
    /// Another compression, which Vigil does not read (named).
    Unsupported(&'static str),
    /// Too few bytes to tell yet.
    Unknown,
}

/// Leading bytes of compressed formats other than gzip.
const OTHER_MAGIC: [(&[u8], &str); 4] =
    [(b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"PK\x03\x04", "zip"), (b"BZh", "bzip2")];

/// File name endings of compressed files, waited for until their first bytes
/// tell what they hold.
const COMPRESSED_EXTENSIONS: [&str; 6] = ["gz", "xz", "zst", "zip", "bz2", "z"];

/// What a file starting with `head` holds; `path` only matters while the
/// file is too short to tell.
pub(crate) fn content_of(head: &[u8], path: &Path) -> Content {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Content::Gzip;
    }
    if let Some((_, name)) = OTHER_MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Content::Unsupported(name);
    }
    let compressed_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| COMPRESSED_EXTENSIONS.iter().any(|c| e.eq_ignore_ascii_case(c)));
    let longest_magic = OTHER_MAGIC.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
    if head.is_empty() || (compressed_name && head.len() < longest_magic) {
        Content::Unknown
    } else {
        Content::Plain
    }
}

/// Which file an open handle or a path is, while Vigil runs (device and
/// inode); `None` where the platform does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The identity in `meta`.
    pub(crate) fn of(meta: &Metadata) -> Option<FileId> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(FileId { dev: meta.dev(), ino: meta.ino() })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }
}

/// Reads at `pos` without using (or moving, on Unix) the handle's cursor.
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, pos)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, pos)
    }
}

/// A file read from a position of its own, whatever other readers do.
struct At<F> {
    file: F,
    pos: u64,
}

impl<F: Deref<Target = File>> Read for At<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = read_at(&self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The first (up to [`FINGERPRINT_BYTES`]) bytes of `reader`. With
/// `lenient`, a read error ends the head instead of failing (a damaged gzip
/// file still has the head it could give; reading it reports the damage).
fn head_of(reader: impl Read, lenient: bool) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(FINGERPRINT_BYTES as usize);
    match reader.take(FINGERPRINT_BYTES).read_to_end(&mut head) {
        Err(_) if lenient => Ok(head),
        other => other.map(|_| head),
    }
}

/// The first bytes of a file's stored bytes.
pub(crate) fn raw_head(file: &File) -> io::Result<Vec<u8>> {
    head_of(At { file, pos: 0 }, false)
}

/// The first bytes of a gzip file's content (what it could decompress).
pub(crate) fn gzip_head(file: &File) -> Vec<u8> {
    head_of(MultiGzDecoder::new(At { file, pos: 0 }), true).unwrap_or_default()
}

/// Newlines in the first `limit` bytes of `reader`; fewer bytes when the
/// reader ends first. Returns (bytes, newlines) and the error that ended it.
fn skip(reader: &mut impl Read, limit: u64) -> (u64, u64, Option<io::Error>) {
    let mut buf = vec![0u8; CHUNK_BYTES];
    let (mut bytes, mut lines) = (0u64, 0u64);
    while bytes < limit {
        let want = usize::try_from(limit - bytes).map_or(buf.len(), |r| r.min(buf.len()));
        match reader.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => {
                bytes += n as u64;
                lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (bytes, lines, Some(e)),
        }
    }
    (bytes, lines, None)
}

/// Newlines in the first `limit` bytes of a plain file (to number lines when
/// resuming mid-file).
pub(crate) async fn count_lines(file: Arc<File>, limit: u64) -> io::Result<u64> {
    tokio::task::spawn_blocking(move || match skip(&mut At { file, pos: 0 }, limit) {
        (_, _, Some(e)) => Err(e),
        (_, lines, None) => Ok(lines),
    })
    .await
    .map_err(io::Error::other)?
}

/// A plain file read from a position, through its open handle.
pub(crate) struct PlainInput {
    file: Arc<File>,
    pos: u64,
}

impl PlainInput {
    /// Reads `file` from `pos`.
    pub(crate) fn new(file: Arc<File>, pos: u64) -> PlainInput {
        PlainInput { file, pos }
    }

    /// The same file, read again from its start.
    pub(crate) fn rewound(&self) -> PlainInput {
        PlainInput { file: self.file.clone(), pos: 0 }
    }

    /// The next byte to read.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// Metadata of the open file (whatever its path is now).
    pub(crate) fn metadata(&self) -> io::Result<Metadata> {
        self.file.metadata()
    }

    /// The first bytes of the open file.
    pub(crate) fn head(&self) -> io::Result<Vec<u8>> {
        raw_head(&self.file)
    }
}

impl ChunkRead for PlainInput {
    async fn read_chunk(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let mut owned = std::mem::take(buf);
        owned.resize(CHUNK_BYTES, 0);
        let (file, pos) = (self.file.clone(), self.pos);
        let (owned, result) = tokio::task::spawn_blocking(move || {
            let result = read_at(&file, &mut owned, pos);
            (owned, result)
        })
        .await
        .map_err(io::Error::other)?;
        *buf = owned;
        let n = result?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The decompressed content of a gzip file (all its members), produced by a
/// blocking thread a few chunks ahead.
pub(crate) struct GzipInput {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
}

/// Where a [`GzipInput`] starts.
pub(crate) struct GzipStart {
    /// Content bytes skipped (fewer than asked when the content is shorter).
    pub offset: u64,
    /// Lines in them.
    pub lines: u64,
}

impl GzipInput {
    /// Decompresses `file`, skipping its first `skip` content bytes. A
    /// damaged stream shows as a read error after the content before the
    /// damage.
    pub(crate) async fn open(file: File, skip_bytes: u64) -> (GzipInput, GzipStart) {
        let (tx, chunks) = mpsc::channel(2);
        let (start_tx, start_rx) = oneshot::channel();
        tokio::task::spawn_blocking(move || {
            let mut decoder = MultiGzDecoder::new(io::BufReader::with_capacity(64 * 1024, At { file: &file, pos: 0 }));
            let (offset, lines, error) = skip(&mut decoder, skip_bytes);
            let _ = start_tx.send(GzipStart { offset, lines });
            if let Some(e) = error {
                let _ = tx.blocking_send(Err(e));
                return;
            }
            loop {
                let mut chunk = vec![0u8; CHUNK_BYTES];
                let sent = match decoder.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => {
                        chunk.truncate(n);
                        tx.blocking_send(Ok(chunk))
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                };
                if sent.is_err() {
                    return; // the reader was closed
                }
            }
        });
        let start = start_rx.await.unwrap_or(GzipStart { offset: 0, lines: 0 });
        (GzipInput { chunks }, start)
    }
}

impl ChunkRead for GzipInput {
    async fn read_chunk(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        match self.chunks.recv().await {
            None => Ok(0),
            Some(Ok(chunk)) => {
                *buf = chunk;
                Ok(buf.len())
            }
            Some(Err(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_told_by_magic_bytes_not_by_name() {
        let p = Path::new("access.log");
        assert_eq!(content_of(b"\x1f\x8b\x08\x00", p), Content::Gzip);
        assert_eq!(content_of(b"\x1f\x8b\x08\x00", Path::new("access.log.1")), Content::Gzip);
        assert_eq!(content_of(b"\xfd7zXZ\x00\x00", p), Content::Unsupported("xz"));
        assert_eq!(content_of(b"1709548920.123 ...", Path::new("a.gz")), Content::Plain);
        assert_eq!(content_of(b"", p), Content::Unknown);
        assert_eq!(content_of(b"\x1f", Path::new("a.log.2.gz")), Content::Unknown, "still being written");
        assert_eq!(content_of(b"x", p), Content::Plain);
    }
}
