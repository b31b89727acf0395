//! Splitting a syslog TCP stream into messages (RFC 6587 §3.4), with
//! bounded memory.
//!
//! Two framings are in use, and a connection's first byte says which: a
//! digit starts octet counting (`MSG-LEN SP SYSLOG-MSG`, the framing of
//! RFC 5425 over TLS), anything else (normally `<`) non-transparent framing,
//! where each message ends at a line feed. A counted frame may hold line
//! feeds, and one trailing line feed (with a `\r` before it) inside the frame
//! is dropped, as some senders add it. Line feeds between counted frames are
//! skipped. A count that is not digits followed by a space (or has more than
//! ten digits) cannot be resynchronised on, so from there the connection is
//! read as non-transparent, as OpenBSD's syslogd does. Messages longer than
//! the limit keep their first `max_len` bytes and are marked
//! [`RawLine::overlong`]; the rest of the frame is skipped and the
//! connection goes on.

use crate::lines::{LineSplitter, RawLine};

/// Digits of the longest octet count accepted (just under 10 GB).
const MAX_COUNT_DIGITS: usize = 10;

/// What is left when a connection closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// An unterminated last line (non-transparent framing): a message.
    Line(RawLine),
    /// A counted frame the sender did not finish: its bytes so far, and why
    /// they are not a message.
    Cut {
        /// The bytes received (at most the limit).
        line: RawLine,
        /// One sentence for the dead letter.
        reason: String,
    },
}

/// The framing state of one connection.
#[derive(Debug)]
pub struct FrameDecoder {
    max_len: usize,
    mode: Mode,
    /// Stream offset of the next byte.
    position: u64,
    next_line_no: u64,
}

#[derive(Debug)]
enum Mode {
    /// No byte seen yet.
    Undecided,
    /// Non-transparent framing.
    Lines(LineSplitter),
    /// Reading an octet count that started at `start`.
    Count { start: u64, digits: Vec<u8> },
    /// Reading a counted frame's message.
    Body { start: u64, total: u64, remaining: u64, kept: Vec<u8> },
}

impl FrameDecoder {
    /// A decoder for a new connection; messages are cut at `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        FrameDecoder { max_len, mode: Mode::Undecided, position: 0, next_line_no: 1 }
    }

    /// Feeds the next bytes read; calls `emit` for every message completed.
    pub fn push(&mut self, mut chunk: &[u8], mut emit: impl FnMut(RawLine)) {
        while let Some(&byte) = chunk.first() {
            match &mut self.mode {
                Mode::Undecided if byte.is_ascii_digit() => {
                    self.mode = Mode::Count { start: self.position, digits: Vec::new() };
                }
                Mode::Undecided => {
                    self.mode = Mode::Lines(LineSplitter::new(self.position, self.next_line_no, self.max_len));
                }
                Mode::Lines(splitter) => {
                    splitter.push(chunk, emit);
                    return;
                }
                Mode::Count { start, digits } => {
                    let valid_digit = byte.is_ascii_digit()
                        && digits.len() < MAX_COUNT_DIGITS
                        && !(digits.is_empty() && byte == b'0');
                    if digits.is_empty() && (byte == b'\n' || byte == b'\r') {
                        *start += 1;
                    } else if valid_digit {
                        digits.push(byte);
                    } else if byte == b' ' && !digits.is_empty() {
                        // At most ten ASCII digits: always a valid u64.
                        let total = digits.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
                        let kept = Vec::with_capacity(total.min(self.max_len as u64 + 2) as usize);
                        self.mode = Mode::Body { start: *start, total, remaining: total, kept };
                    } else {
                        self.fall_back_to_lines(&mut emit);
                        continue;
                    }
                    self.position += 1;
                    chunk = &chunk[1..];
                }
                Mode::Body { start, total, remaining, kept } => {
                    let take = chunk.len().min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                    let room = (self.max_len + 2).saturating_sub(kept.len());
                    kept.extend_from_slice(&chunk[..take.min(room)]);
                    *remaining -= take as u64;
                    self.position += take as u64;
                    chunk = &chunk[take..];
                    if *remaining == 0 {
                        let (start, total, bytes) = (*start, *total, std::mem::take(kept));
                        emit(self.frame(start, total, bytes));
                        self.mode = Mode::Count { start: self.position, digits: Vec::new() };
                    }
                }
            }
        }
    }

    /// The octet count is not one: read the rest of the connection as lines,
    /// starting with the bytes taken for a count.
    fn fall_back_to_lines(&mut self, emit: &mut impl FnMut(RawLine)) {
        let Mode::Count { start, digits } = &self.mode else { return };
        tracing::debug!("invalid octet count; reading the connection as newline-delimited");
        let mut splitter = LineSplitter::new(*start, self.next_line_no, self.max_len);
        splitter.push(digits, &mut *emit);
        self.mode = Mode::Lines(splitter);
    }

    /// A completed counted frame as a line.
    fn frame(&mut self, start: u64, total: u64, mut bytes: Vec<u8>) -> RawLine {
        let mut content_len = total;
        if content_len == bytes.len() as u64 && bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
            content_len = bytes.len() as u64;
        }
        bytes.truncate(self.max_len);
        self.next_line_no += 1;
        RawLine {
            line_no: self.next_line_no - 1,
            offset: start,
            end_offset: self.position,
            bytes,
            overlong: (content_len > self.max_len as u64).then_some(content_len),
        }
    }

    /// The connection closed: what is left of the last message, if anything.
    pub fn finish(&mut self) -> Option<Ending> {
        let cut = |start, mut bytes: Vec<u8>, reason| {
            bytes.truncate(self.max_len);
            let line =
                RawLine { line_no: self.next_line_no, offset: start, end_offset: self.position, bytes, overlong: None };
            Some(Ending::Cut { line, reason })
        };
        match std::mem::replace(&mut self.mode, Mode::Undecided) {
            Mode::Undecided => None,
            Mode::Lines(mut splitter) => splitter.finish().map(Ending::Line),
            Mode::Count { digits, .. } if digits.is_empty() => None,
            Mode::Count { start, digits } => {
                let reason = format!(
                    "the connection closed after the octet count {}, before its message",
                    String::from_utf8_lossy(&digits)
                );
                cut(start, digits, reason)
            }
            Mode::Body { start, total, remaining, kept } => {
                let reason = format!(
                    "the connection closed {} bytes into an octet-counted frame of {total} bytes",
                    total - remaining
                );
                cut(start, kept, reason)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]], max: usize) -> (Vec<RawLine>, Option<Ending>) {
        let mut d = FrameDecoder::new(max);
        let mut out = Vec::new();
        for c in chunks {
            d.push(c, |l| out.push(l));
        }
        (out, d.finish())
    }

    fn texts(lines: &[RawLine]) -> Vec<String> {
        lines.iter().map(|l| String::from_utf8_lossy(&l.bytes).into_owned()).collect()
    }

    #[test]
    fn newline_framing_when_the_first_byte_is_not_a_digit() {
        let (lines, end) = decode(&[b"<13>a\r\n<13>b\n<13", b">c"], 100);
        assert_eq!(texts(&lines), ["<13>a", "<13>b"]);
        assert_eq!(
            end,
            Some(Ending::Line(RawLine {
                line_no: 3,
                offset: 13,
                end_offset: 18,
                bytes: b"<13>c".to_vec(),
                overlong: None
            }))
        );
    }

    #[test]
    fn octet_counting_at_every_split_point_with_newlines_inside_frames() {
        let stream = b"5 <13>a11 <13>b\nc\r\nd\n11 <13>x\ny z w";
        for split in 0..stream.len() {
            let (lines, end) = decode(&[&stream[..split], &stream[split..]], 100);
            assert_eq!(texts(&lines), ["<13>a", "<13>b\nc\r\nd", "<13>x\ny z w"], "split at {split}");
            assert_eq!(lines.iter().map(|l| (l.offset, l.end_offset)).collect::<Vec<_>>(), [(0, 7), (7, 21), (21, 35)]);
            assert_eq!(lines.iter().map(|l| l.line_no).collect::<Vec<_>>(), [1, 2, 3]);
            assert_eq!(end, None);
        }
    }

    #[test]
    fn line_feeds_between_counted_frames_are_skipped() {
        let (lines, _) = decode(&[b"3 abc\n3 def\r\n"], 100);
        assert_eq!(texts(&lines), ["abc", "def"]);
    }

    #[test]
    fn oversize_frames_are_cut_and_flagged_and_the_next_frame_is_read() {
        let mut stream = b"5000 ".to_vec();
        stream.extend(std::iter::repeat_n(b'x', 5000));
        stream.extend_from_slice(b"2 ok");
        let mut d = FrameDecoder::new(300);
        let mut out = Vec::new();
        for c in stream.chunks(7) {
            d.push(c, |l| out.push(l));
            if let Mode::Body { kept, .. } = &d.mode {
                assert!(kept.len() <= 302);
            }
        }
        assert_eq!(out[0].bytes.len(), 300);
        assert_eq!(out[0].overlong, Some(5000));
        assert_eq!(texts(&out[1..]), ["ok"]);
        assert_eq!(out[1].overlong, None);
    }

    #[test]
    fn a_bad_count_switches_to_newline_framing() {
        let (lines, _) = decode(&[b"12x <13>a\n<13>b\n"], 100);
        assert_eq!(texts(&lines), ["12x <13>a", "<13>b"]);
        let (lines, _) = decode(&[b"3 abc0 x\n"], 100);
        assert_eq!(texts(&lines), ["abc", "0 x"]);
        let (lines, _) = decode(&[b"12345678901 x\n"], 100);
        assert_eq!(texts(&lines), ["12345678901 x"]);
    }

    #[test]
    fn a_frame_cut_by_the_connection_closing_is_reported() {
        let (lines, end) = decode(&[b"3 abc10 <13>"], 100);
        assert_eq!(texts(&lines), ["abc"]);
        let Some(Ending::Cut { line, reason }) = end else { panic!("expected a cut frame") };
        assert_eq!(line.bytes, b"<13>");
        assert!(reason.contains("4 bytes into an octet-counted frame of 10 bytes"), "{reason}");
        let (_, end) = decode(&[b"3 abc12"], 100);
        assert!(matches!(end, Some(Ending::Cut { reason, .. }) if reason.contains("octet count 12")));
    }
}
