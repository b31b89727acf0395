//! Starting `vigil-smtp-sink` as a child process and reading what it stored.

use crate::maildir::{read_all, MaildirError, ReceivedMessage};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use thiserror::Error;

/// The binary's name.
const BINARY: &str = "vigil-smtp-sink";

/// Why the sink could not be started or read.
#[derive(Debug, Error)]
pub enum SinkError {
    /// The binary was missing and building it with cargo failed.
    #[error("cannot build {BINARY} with `{command}`: {reason}")]
    Build {
        /// The cargo command line.
        command: String,
        /// What went wrong.
        reason: String,
    },
    /// The process could not be started or talked to.
    #[error("cannot run {path}: {source}")]
    Spawn {
        /// The binary.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The process did not announce its port (it printed something else, or
    /// exited; its stderr shows why).
    #[error("{BINARY} did not start: expected `listening on 127.0.0.1:PORT`, got {0:?}")]
    NoPort(String),
    /// Reading the stored messages failed.
    #[error(transparent)]
    Maildir(#[from] MaildirError),
    /// Fewer messages than expected arrived in time.
    #[error("expected {expected} messages within {timeout:?}, but the sink received {received}")]
    Timeout {
        /// How many were awaited.
        expected: usize,
        /// How many had arrived.
        received: usize,
        /// How long we waited.
        timeout: Duration,
    },
}

/// How to start the sink.
#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    /// Certificate and key (PEM) to offer STARTTLS with; none: no STARTTLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `(user, password)`: advertise AUTH PLAIN/LOGIN and refuse mail from
    /// sessions that did not authenticate as this user.
    pub auth: Option<(String, String)>,
}

/// A running `vigil-smtp-sink` process, killed on drop, storing messages in
/// its own temporary folder.
#[derive(Debug)]
pub struct SmtpSink {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    port: u16,
    maildir: TempDir,
}

impl SmtpSink {
    /// Starts the sink on a free port of 127.0.0.1, building the binary with
    /// cargo first if it is not next to the running test executable.
    pub fn start(options: &SinkOptions) -> Result<SmtpSink, SinkError> {
        let binary = locate_binary()?;
        let spawn_err = |source| SinkError::Spawn { path: binary.clone(), source };
        let maildir = tempfile::tempdir().map_err(spawn_err)?;
        let mut command = Command::new(&binary);
        command.arg("--maildir").arg(maildir.path());
        if let Some((cert, key)) = &options.tls {
            command.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        if let Some((user, password)) = &options.auth {
            command.arg("--auth").arg(format!("{user}:{password}"));
        }
        let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).spawn().map_err(spawn_err)?;
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut first = String::new();
        let read = stdout.read_line(&mut first);
        let port = read.ok().and_then(|_| parse_port(&first));
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SinkError::NoPort(first));
        };
        Ok(SmtpSink { child, _stdout: stdout, port, maildir })
    }

    /// The port it listens on (at 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The folder it stores messages in.
    pub fn maildir(&self) -> &Path {
        self.maildir.path()
    }

    /// Every message received so far, in order of arrival.
    pub fn messages(&self) -> Result<Vec<ReceivedMessage>, SinkError> {
        Ok(read_all(self.maildir.path())?)
    }

    /// Waits until at least `n` messages have arrived, at most `timeout`;
    /// returns them all.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Result<Vec<ReceivedMessage>, SinkError> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages()?;
            if messages.len() >= n {
                return Ok(messages);
            }
            if Instant::now() >= deadline {
                return Err(SinkError::Timeout { expected: n, received: messages.len(), timeout });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_port(line: &str) -> Option<u16> {
    line.trim().strip_prefix("listening on 127.0.0.1:")?.parse().ok()
}

/// The binary next to the running test executable (`target/<profile>/`),
/// built with cargo (once per process) when it is missing. The environment
/// variable `VIGIL_SMTP_SINK` overrides the path.
fn locate_binary() -> Result<PathBuf, SinkError> {
    static BUILD: Mutex<()> = Mutex::new(());
    if let Some(path) = std::env::var_os("VIGIL_SMTP_SINK") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|source| SinkError::Spawn { path: BINARY.into(), source })?;
    let mut profile_dir = exe.parent().unwrap_or(Path::new(".")).to_path_buf();
    if profile_dir.ends_with("deps") {
        profile_dir.pop();
    }
    let binary = profile_dir.join(BINARY);
    let _guard = BUILD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !binary.exists() {
        build(&profile_dir)?;
    }
    Ok(binary)
}

/// Runs `cargo build -p vigil-testkit --bin vigil-smtp-sink` into the target
/// folder that holds `profile_dir`.
fn build(profile_dir: &Path) -> Result<(), SinkError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut command = Command::new(&cargo);
    command.args(["build", "--quiet", "-p", "vigil-testkit", "--bin", BINARY]).arg("--manifest-path").arg(&manifest);
    if let Some(target_dir) = profile_dir.parent() {
        command.arg("--target-dir").arg(target_dir);
    }
    if profile_dir.ends_with("release") {
        command.arg("--release");
    }
    let described = format!("{command:?}");
    let status =
        command.status().map_err(|e| SinkError::Build { command: described.clone(), reason: e.to_string() })?;
    if status.success() {
        Ok(())
    } else {
        Err(SinkError::Build { command: described, reason: format!("cargo exited with {status}") })
    }
}
