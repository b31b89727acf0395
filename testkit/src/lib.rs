//! Test helpers for Vigil.
//!
//! The main one is a real SMTP server running as its own process,
//! `vigil-smtp-sink`, which stores every message it accepts in a folder
//! together with its envelope (sender, recipients, whether TLS was active,
//! which user authenticated). Tests start it with [`SmtpSink::start`], point
//! the code under test at [`SmtpSink::port`], and read what arrived with
//! [`SmtpSink::wait_for`]. [`TestCert::localhost`] makes a certificate for its
//! STARTTLS. [`mime::parts`] decodes a message's bodies to read what a
//! mail client would show.
#![deny(missing_docs)]

mod cert;
mod maildir;
pub mod mime;
mod sink;

pub use cert::{CertError, TestCert};
pub use maildir::{Envelope, Maildir, MaildirError, ReceivedMessage};
pub use sink::{SinkError, SinkOptions, SmtpSink};
