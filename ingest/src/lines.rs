//! Splitting a byte stream into lines, with bounded memory.
//!
//! The splitter is a plain state machine fed with chunks, so the async file
//! follower and the synchronous `vigil parse` share it. Lines end at `\n`; a
//! `\r` before it is dropped. A line longer than the limit is cut: its first
//! `max_len` bytes are kept and the rest skipped up to the next newline, and
//! the line is marked [`RawLine::overlong`] so it can be dead-lettered.

/// One line as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    /// 1-based line number in the stream.
    pub line_no: u64,
    /// Byte offset of the line's first byte.
    pub offset: u64,
    /// Byte offset just past the line's terminator: where reading resumes.
    pub end_offset: u64,
    /// The bytes, without terminator; at most `max_len` of them.
    pub bytes: Vec<u8>,
    /// The full length when the line was longer than the limit.
    pub overlong: Option<u64>,
}

/// Chunk-fed line splitter.
#[derive(Debug)]
pub struct LineSplitter {
    max_len: usize,
    /// Bytes of the line being assembled (at most `max_len`).
    partial: Vec<u8>,
    /// Full length of the line being assembled, including skipped bytes.
    partial_len: u64,
    /// Offset of the line being assembled.
    line_start: u64,
    next_line_no: u64,
}

impl LineSplitter {
    /// A splitter whose first byte is at `offset` and whose first line has
    /// number `line_no`; lines are cut at `max_len` bytes.
    pub fn new(offset: u64, line_no: u64, max_len: usize) -> Self {
        LineSplitter { max_len, partial: Vec::new(), partial_len: 0, line_start: offset, next_line_no: line_no }
    }

    /// Offset of the first byte not yet returned as part of a line.
    pub fn position(&self) -> u64 {
        self.line_start
    }

    /// The line length limit.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Whether bytes of an unfinished line are waiting.
    pub fn has_partial(&self) -> bool {
        self.partial_len > 0
    }

    /// Feeds the next chunk; calls `emit` for every line it completes.
    pub fn push(&mut self, mut chunk: &[u8], mut emit: impl FnMut(RawLine)) {
        while let Some(nl) = memchr::memchr(b'\n', chunk) {
            self.append(&chunk[..nl]);
            emit(self.take_line(1));
            chunk = &chunk[nl + 1..];
        }
        self.append(chunk);
    }

    /// Ends the stream: returns the unterminated last line, if any.
    pub fn finish(&mut self) -> Option<RawLine> {
        self.has_partial().then(|| self.take_line(0))
    }

    fn append(&mut self, bytes: &[u8]) {
        // One byte over the limit is kept so a `\r` ending a line of exactly
        // `max_len` bytes can still be recognised and dropped.
        let room = (self.max_len + 1).saturating_sub(self.partial.len());
        self.partial.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.partial_len += bytes.len() as u64;
    }

    /// Completes the line being assembled; `terminator_len` is 1 after `\n`,
    /// 0 at the end of the stream.
    fn take_line(&mut self, terminator_len: u64) -> RawLine {
        let mut bytes = std::mem::take(&mut self.partial);
        let mut content_len = self.partial_len;
        if content_len == bytes.len() as u64 && bytes.last() == Some(&b'\r') {
            bytes.pop();
            content_len -= 1;
        }
        bytes.truncate(self.max_len);
        let consumed = self.partial_len + terminator_len;
        let line = RawLine {
            line_no: self.next_line_no,
            offset: self.line_start,
            end_offset: self.line_start + consumed,
            bytes,
            overlong: (content_len > self.max_len as u64).then_some(content_len),
        };
        self.next_line_no += 1;
        self.line_start += consumed;
        self.partial_len = 0;
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], max: usize) -> Vec<RawLine> {
        let mut s = LineSplitter::new(0, 1, max);
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, |l| out.push(l));
        }
        out.extend(s.finish());
        out
    }

    #[test]
    fn lines_across_chunks_keep_offsets_and_drop_crlf() {
        let lines = split(&[b"ab", b"c\r\nde\n", b"\nf"], 100);
        let texts: Vec<&[u8]> = lines.iter().map(|l| l.bytes.as_slice()).collect();
        assert_eq!(texts, vec![&b"abc"[..], b"de", b"", b"f"]);
        assert_eq!(lines.iter().map(|l| l.offset).collect::<Vec<_>>(), vec![0, 5, 8, 9]);
        assert_eq!(lines[1].end_offset, 8);
        assert_eq!(lines[3].end_offset, 10);
        assert_eq!(lines.iter().map(|l| l.line_no).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    }

    #[test]
    fn overlong_lines_are_cut_and_flagged_without_buffering_the_rest() {
        let big = vec![b'x'; 10_000];
        let mut s = LineSplitter::new(0, 1, 16);
        let mut out = Vec::new();
        for c in big.chunks(1000) {
            s.push(c, |l| out.push(l));
        }
        assert!(s.partial.len() <= 17);
        s.push(b"\nok\n", |l| out.push(l));
        assert_eq!(out[0].bytes.len(), 16);
        assert_eq!(out[0].overlong, Some(10_000));
        assert_eq!(out[1].bytes, b"ok");
        assert_eq!(out[1].offset, 10_001);
        assert_eq!(out[1].overlong, None);
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_not_overlong() {
        let lines = split(&[b"0123456789abcdef\r\n"], 16);
        assert_eq!(lines[0].overlong, None);
        assert_eq!(lines[0].bytes, b"0123456789abcdef");
    }
}
