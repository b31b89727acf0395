//! Dead-letter records: a line no parser accepted, kept with the reason and
//! its raw bytes so nothing is lost and the line can be replayed later.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One rejected line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// When it was rejected.
    pub timestamp: DateTime<Utc>,
    /// Tenant of the source.
    pub tenant: String,
    /// The configured source name (or the file name for `vigil parse`).
    pub source: String,
    /// The file the line was read from, when the source reads files.
    pub file: Option<String>,
    /// 1-based line number in the source (since this reader started, for
    /// stdin; within the file, for files).
    pub line: u64,
    /// Byte offset of the line's first byte in the source.
    pub offset: u64,
    /// Why it was rejected, one sentence.
    pub reason: String,
    /// The line exactly as read, without its line terminator.
    pub raw: Vec<u8>,
}

/// The JSON shape: `raw` when the bytes are valid UTF-8, else `raw_base64`.
#[derive(Serialize, Deserialize)]
struct Wire {
    #[serde(rename = "@timestamp")]
    timestamp: DateTime<Utc>,
    tenant: String,
    #[serde(rename = "log.source")]
    source: String,
    #[serde(rename = "log.file.path", default, skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(rename = "log.line")]
    line: u64,
    #[serde(rename = "log.offset")]
    offset: u64,
    reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    raw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    raw_base64: Option<String>,
}

impl DeadLetter {
    /// Serialises to one JSON object.
    pub fn to_json(&self) -> Vec<u8> {
        let mut json = Vec::new();
        self.write_json(&mut json);
        json
    }

    /// Appends the JSON object to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let (raw, raw_base64) = match std::str::from_utf8(&self.raw) {
            Ok(text) => (Some(text.to_string()), None),
            Err(_) => (None, Some(base64::engine::general_purpose::STANDARD.encode(&self.raw))),
        };
        let wire = Wire {
            timestamp: self.timestamp,
            tenant: self.tenant.clone(),
            source: self.source.clone(),
            file: self.file.clone(),
            line: self.line,
            offset: self.offset,
            reason: self.reason.clone(),
            raw,
            raw_base64,
        };
        serde_json::to_writer(out, &wire).expect("a DeadLetter always serialises");
    }

    /// Parses the JSON form, recovering the exact raw bytes.
    pub fn from_json(bytes: &[u8]) -> Result<DeadLetter, String> {
        let wire: Wire = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let raw = match (wire.raw, wire.raw_base64) {
            (Some(text), _) => text.into_bytes(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| format!("raw_base64 is not base64: {e}"))?,
            (None, None) => return Err("dead letter has neither raw nor raw_base64".into()),
        };
        Ok(DeadLetter {
            timestamp: wire.timestamp,
            tenant: wire.tenant,
            source: wire.source,
            file: wire.file,
            line: wire.line,
            offset: wire.offset,
            reason: wire.reason,
            raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_round_trips_through_base64() {
        let d = DeadLetter {
            timestamp: Utc::now(),
            tenant: "t".into(),
            source: "proxy".into(),
            file: Some("/var/log/squid/access.log.1".into()),
            line: 7,
            offset: 120,
            reason: "not UTF-8".into(),
            raw: vec![b'a', 0xff, 0, b'\r'],
        };
        let json = d.to_json();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert!(v.get("raw").is_none());
        assert_eq!(v["log.file.path"], "/var/log/squid/access.log.1");
        assert_eq!(DeadLetter::from_json(&json).unwrap(), d);
    }
}
