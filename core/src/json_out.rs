//! A small JSON object writer for the hot path (one event per log line):
//! strings are escaped exactly as `serde_json` does, but clean runs of bytes
//! are found sixteen at a time and copied whole, and timestamps are written
//! without the formatting machinery.

use chrono::{DateTime, Datelike, Timelike, Utc};
use std::io::Write as _;

/// Writes one JSON object, field by field, into a byte buffer.
pub(crate) struct ObjectWriter<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> ObjectWriter<'a> {
    /// Opens an object at the end of `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        ObjectWriter { out, empty: true }
    }

    /// Writes `"name":`. Names are the crate's own constants: no escaping.
    #[inline]
    fn name(&mut self, name: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// A string field.
    #[inline]
    pub(crate) fn str(&mut self, name: &str, value: &str) {
        self.name(name);
        write_escaped(self.out, value);
    }

    /// A string field, left out when `None`.
    #[inline]
    pub(crate) fn opt_str(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.str(name, value);
        }
    }

    /// An unsigned number field, left out when `None`.
    pub(crate) fn opt_u64(&mut self, name: &str, value: Option<impl Into<u64>>) {
        if let Some(value) = value {
            self.name(name);
            self.out.extend_from_slice(itoa::Buffer::new().format(value.into()).as_bytes());
        }
    }

    /// A floating-point number field, written as `serde_json` writes it
    /// (shortest round-trip form, `null` when not finite), left out when
    /// `None`.
    pub(crate) fn opt_f64(&mut self, name: &str, value: Option<f64>) {
        if let Some(value) = value {
            self.name(name);
            if value.is_finite() {
                self.out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
            } else {
                self.out.extend_from_slice(b"null");
            }
        }
    }

    /// An array of strings, left out when empty.
    pub(crate) fn str_list(&mut self, name: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        self.name(name);
        self.out.push(b'[');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            write_escaped(self.out, value);
        }
        self.out.push(b']');
    }

    /// A timestamp field, written as `serde` writes a `DateTime<Utc>`.
    pub(crate) fn timestamp(&mut self, name: &str, value: &DateTime<Utc>) {
        self.name(name);
        self.out.push(b'"');
        write_timestamp(self.out, value);
        self.out.push(b'"');
    }

    /// Closes the object.
    pub(crate) fn end(self) {
        self.out.push(b'}');
    }
}

/// Whether `byte` must be escaped inside a JSON string (as `serde_json`
/// decides: control characters, the quote and the backslash).
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Length of the prefix of `bytes` that needs no escaping, found eight
/// bytes at a time.
fn clean_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    /// Whether some byte of `word` is zero (the classic bit trick; exact
    /// when only asking "any?").
    fn any_zero(word: u64) -> bool {
        word.wrapping_sub(ONES) & !word & HIGHS != 0
    }
    let mut at = 0;
    for block in bytes.chunks_exact(8) {
        let word = u64::from_ne_bytes(block.try_into().expect("eight bytes"));
        // A byte below 0x20 has its top three bits clear.
        let control = any_zero(word & u64::from_ne_bytes([0xe0; 8]));
        let quote = any_zero(word ^ u64::from_ne_bytes([b'"'; 8]));
        let backslash = any_zero(word ^ u64::from_ne_bytes([b'\\'; 8]));
        if control || quote || backslash {
            break;
        }
        at += 8;
    }
    at + bytes[at..].iter().position(|&b| needs_escape(b)).unwrap_or(bytes.len() - at)
}

/// Writes `value` as a quoted JSON string.
pub(crate) fn write_escaped(out: &mut Vec<u8>, value: &str) {
    let mut rest = value.as_bytes();
    out.push(b'"');
    loop {
        let clean = clean_prefix(rest);
        out.extend_from_slice(&rest[..clean]);
        let Some(&byte) = rest.get(clean) else { break };
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
            }
        }
        rest = &rest[clean + 1..];
    }
    out.push(b'"');
}

/// Writes `value` as chrono's `Serialize` does (RFC 3339 in UTC, `Z`, with
/// 0, 3, 6 or 9 digits of fraction as the value needs).
fn write_timestamp(out: &mut Vec<u8>, value: &DateTime<Utc>) {
    let year = value.year();
    let nanos = value.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        // Five-digit years and leap seconds: rare enough for the slow path.
        write!(out, "{value:?}").expect("writing to a Vec cannot fail");
        return;
    }
    digits(out, year as u32, 4);
    let date_time = [(b'-', value.month(), 2), (b'-', value.day(), 2), (b'T', value.hour(), 2)];
    let clock = [(b':', value.minute(), 2), (b':', value.second(), 2)];
    for (separator, n, width) in date_time.into_iter().chain(clock) {
        digits_after(out, separator, n, width);
    }
    match nanos {
        0 => {}
        n if n % 1_000_000 == 0 => digits_after(out, b'.', n / 1_000_000, 3),
        n if n % 1_000 == 0 => digits_after(out, b'.', n / 1_000, 6),
        n => digits_after(out, b'.', n, 9),
    }
    out.push(b'Z');
}

/// Writes `separator` then `n` zero-padded to `width` digits.
fn digits_after(out: &mut Vec<u8>, separator: u8, n: u32, width: usize) {
    out.push(separator);
    digits(out, n, width);
}

/// Writes `n` zero-padded to `width` (at most 9) digits.
fn digits(out: &mut Vec<u8>, mut n: u32, width: usize) {
    let mut buf = [b'0'; 9];
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let samples = [
            "",
            "plain ascii that is longer than sixteen bytes, twice over",
            "quote \" backslash \\ newline \n cr \r tab \t bell \u{7} nul \0 unit \u{1f} del \u{7f}",
            "\"at the start and the end\"",
            "<script>alert('x')</script> &amp; é ü 日本 🦀",
            "sixteen bytes!!\"",
        ];
        for sample in samples {
            let mut out = Vec::new();
            write_escaped(&mut out, sample);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(sample).unwrap(), "{sample:?}");
        }
    }

    #[test]
    fn escaping_agrees_with_serde_json_wherever_the_special_bytes_fall() {
        let alphabet = ['a', 'Z', ' ', '"', '\\', '\n', '\u{1f}', '\u{0}', '\u{7f}', 'é', '日', '~', '!'];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let sample: String =
                (0..len).map(|i| alphabet[((seed >> (i % 60)) as usize + i * 7) % alphabet.len()]).collect();
            let mut out = Vec::new();
            write_escaped(&mut out, &sample);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&sample).unwrap(), "{sample:?}");
        }
    }

    #[test]
    fn timestamps_are_written_as_chrono_serialises_them() {
        let at = |y, mo, d, h, mi, s, nanos| {
            Utc.from_utc_datetime(
                &NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_nano_opt(h, mi, s, nanos).unwrap(),
            )
        };
        let samples = [
            at(2026, 11, 16, 9, 0, 0, 6_000_000),
            at(2026, 1, 2, 3, 4, 5, 0),
            at(1999, 12, 31, 23, 59, 59, 123_456_000),
            at(2026, 6, 30, 12, 0, 0, 1),
            at(2016, 12, 31, 23, 59, 59, 1_500_000_000), // leap second
            at(12_026, 1, 1, 0, 0, 0, 0),
            at(0, 1, 1, 0, 0, 0, 0),
        ];
        for sample in samples {
            let mut out = Vec::new();
            let mut object = ObjectWriter::new(&mut out);
            object.timestamp("t", &sample);
            object.end();
            let expected = serde_json::json!({ "t": sample }).to_string();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{sample:?}");
        }
    }
}
