//! The sink's storage: message `<n>.eml` (the DATA exactly as received) next
//! to `<n>.json` (its [`Envelope`]), both written atomically (temporary file,
//! then rename), the envelope first, so a visible `.eml` always has one.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use thiserror::Error;

/// What the client said around the message, and how the session was secured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The reverse path given in `MAIL FROM`.
    pub mail_from: String,
    /// Every forward path given in `RCPT TO`, in order.
    pub rcpt_to: Vec<String>,
    /// Whether the session had been upgraded with STARTTLS.
    pub tls: bool,
    /// The user that authenticated, if any.
    pub auth_user: Option<String>,
}

/// One stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Its sequence number (1 for the first message the folder received).
    pub number: u64,
    /// Its envelope.
    pub envelope: Envelope,
    /// Headers and body as sent in DATA (dot-stuffing removed).
    pub raw: Vec<u8>,
}

impl ReceivedMessage {
    /// The raw message as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The value of the first header called `name` (case-insensitive), with
    /// folded continuation lines joined; `None` when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        let text = self.text();
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        let mut found: Option<String> = None;
        for line in head.split("\r\n") {
            match (&mut found, line.starts_with([' ', '\t'])) {
                (Some(value), true) => value.push_str(line),
                (Some(_), false) => break,
                (None, _) => {
                    if let Some((key, value)) = line.split_once(':') {
                        if key.eq_ignore_ascii_case(name) {
                            found = Some(value.trim_start().to_string());
                        }
                    }
                }
            }
        }
        found
    }
}

/// Why the folder could not be read or written.
#[derive(Debug, Error)]
pub enum MaildirError {
    /// A file operation failed.
    #[error("cannot access the sink's mail folder at {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An envelope file is not valid JSON.
    #[error("the envelope file {path} is invalid: {source}")]
    Envelope {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// A folder of received messages.
#[derive(Debug)]
pub struct Maildir {
    dir: PathBuf,
    next: AtomicU64,
}

impl Maildir {
    /// Opens (creating it if needed) the folder `dir`; numbering continues
    /// after the messages already there.
    pub fn open(dir: &Path) -> Result<Maildir, MaildirError> {
        std::fs::create_dir_all(dir).map_err(|source| MaildirError::Io { path: dir.to_path_buf(), source })?;
        let last = list_numbers(dir)?.into_iter().max().unwrap_or(0);
        Ok(Maildir { dir: dir.to_path_buf(), next: AtomicU64::new(last + 1) })
    }

    /// Stores one message; returns its number.
    pub fn save(&self, envelope: &Envelope, raw: &[u8]) -> Result<u64, MaildirError> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let json = serde_json::to_vec_pretty(envelope).expect("an Envelope always serialises");
        self.write_atomically(&format!("{n}.json"), &json)?;
        self.write_atomically(&format!("{n}.eml"), raw)?;
        Ok(n)
    }

    /// Every stored message, in order of arrival.
    pub fn messages(&self) -> Result<Vec<ReceivedMessage>, MaildirError> {
        read_all(&self.dir)
    }

    fn write_atomically(&self, name: &str, bytes: &[u8]) -> Result<(), MaildirError> {
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let path = self.dir.join(name);
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| MaildirError::Io { path: p, source }
        };
        let mut file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(bytes).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }
}

/// Every message stored in `dir`, in order of arrival.
pub(crate) fn read_all(dir: &Path) -> Result<Vec<ReceivedMessage>, MaildirError> {
    let mut numbers = list_numbers(dir)?;
    numbers.sort_unstable();
    numbers
        .into_iter()
        .map(|number| {
            let eml = dir.join(format!("{number}.eml"));
            let json = dir.join(format!("{number}.json"));
            let raw = std::fs::read(&eml).map_err(|source| MaildirError::Io { path: eml, source })?;
            let text = std::fs::read(&json).map_err(|source| MaildirError::Io { path: json.clone(), source })?;
            let envelope =
                serde_json::from_slice(&text).map_err(|source| MaildirError::Envelope { path: json, source })?;
            Ok(ReceivedMessage { number, envelope, raw })
        })
        .collect()
}

/// Numbers of the complete messages (`<n>.eml`) in `dir`.
fn list_numbers(dir: &Path) -> Result<Vec<u64>, MaildirError> {
    let entries = std::fs::read_dir(dir).map_err(|source| MaildirError::Io { path: dir.to_path_buf(), source })?;
    let mut numbers = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| MaildirError::Io { path: dir.to_path_buf(), source })?;
        let name = entry.file_name();
        let number = name.to_str().and_then(|n| n.strip_suffix(".eml")).and_then(|n| n.parse::<u64>().ok());
        numbers.extend(number);
    }
    Ok(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_messages_read_back_in_order_and_numbering_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let env =
            |from: &str| Envelope { mail_from: from.into(), rcpt_to: vec!["b@x".into()], tls: false, auth_user: None };
        let first = Maildir::open(dir.path()).unwrap();
        first.save(&env("a@x"), b"Subject: one\r\n\r\nbody\r\n").unwrap();
        let second = Maildir::open(dir.path()).unwrap();
        assert_eq!(second.save(&env("c@x"), b"Subject: two\r\n\r\n").unwrap(), 2);
        let all = second.messages().unwrap();
        assert_eq!(all.iter().map(|m| m.envelope.mail_from.as_str()).collect::<Vec<_>>(), ["a@x", "c@x"]);
        assert_eq!(all[0].header("subject").as_deref(), Some("one"));
        assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")));
    }
}
