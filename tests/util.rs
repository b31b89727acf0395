//! Shared helpers for the end-to-end tests: an isolated folder per test, the
//! `vigil` binary, configuration files, child processes that are killed when
//! the test ends and whose stderr is printed when it fails.

#![allow(dead_code)] // each test module uses a different subset

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An isolated temporary folder for one test.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir { dir: tempfile::Builder::new().prefix("vigil-test-").tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `contents` to `rel`, creating folders, and returns the path.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }
}

/// A `vigil` command with a quiet default log level.
pub fn vigil() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.env("RUST_LOG", std::env::var("VIGIL_TEST_LOG").unwrap_or_else(|_| "warn".into()));
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs a command to completion and returns its output; panics (printing
/// everything) if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Asserts success, printing stdout and stderr otherwise.
pub fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed with {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every JSON line of a command's stdout.
pub fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The query for the quickstart's mail messages (not the connect and
/// disconnect lines, which are kept as `other`): two delivered, one
/// rejected, one deferred.
pub const MESSAGES: &str = "event.kind:email -event.action:other";

/// `vigil search` over `config`; returns the events found.
pub fn search(config: &Path, query: &str) -> Vec<serde_json::Value> {
    let out = run(vigil().args(["search", "--limit", "1000000", "--config"]).arg(config).arg(query));
    assert_success(&out, &format!("vigil search {query}"));
    json_lines(&out)
}

/// Polls `check` every 100 ms until it returns `Some`, failing the test with
/// `what` after `limit`. The limit is a deadlock guard, not a speed target.
pub fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(start.elapsed() < limit, "gave up waiting for {what} after {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A running `vigil` process, killed on drop; its stderr goes to a file that
/// is printed if the test panics.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Proc {
    pub fn spawn(name: &str, dir: &TestDir, cmd: &mut Command) -> Proc {
        let log = dir.join(&format!("{name}.stderr"));
        let file = std::fs::File::create(&log).unwrap();
        let child =
            cmd.stdout(Stdio::null()).stderr(file).spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc { name: name.to_string(), child: Some(child), log }
    }

    /// Sends SIGKILL (no chance to flush or commit) and reaps the process.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("still running");
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        child.wait().unwrap()
    }

    /// Waits for the process to exit by itself.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.take().expect("still running").wait().unwrap()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- stderr of {}\n{}", self.name, self.stderr());
        }
    }
}

/// The quickstart configuration, pointed at `data_dir` and the repository's
/// sample logs, with `extra` TOML appended.
pub fn quickstart_config(dir: &TestDir, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("examples/quickstart.toml")).unwrap();
    let logs = repo().join("examples/logs");
    let text = text
        .replace("data_dir = \"../var/quickstart\"", &format!("data_dir = {:?}", dir.join("data")))
        .replace("\"logs/", &format!("\"{}/", logs.display()));
    dir.write("vigil.toml", format!("{text}\n{extra}"))
}

/// Files in `dir` with extension `ext`, sorted.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == ext)).collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// A free local port (bound and released; another process could take it in
/// between, which would fail the test loudly rather than pass it wrongly).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `GET /metrics` on a local port: the page, or `None` until it answers 200.
pub fn get_metrics(port: u16) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.starts_with("HTTP/1.1 200").then_some(response)
}
