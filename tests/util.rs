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
/// sample logs, its console on a free port, with `extra` TOML appended.
pub fn quickstart_config(dir: &TestDir, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("examples/quickstart.toml")).unwrap();
    let logs = repo().join("examples/logs");
    let text = text
        .replace("data_dir = \"../var/quickstart\"", &format!("data_dir = {:?}", dir.join("data")))
        .replace("\"logs/", &format!("\"{}/", logs.display()))
        .replace("listen = \"127.0.0.1:8080\"", &format!("listen = \"127.0.0.1:{}\"", free_port()));
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

/// An HTTP answer: status code, headers (lower-case names), body.
pub struct HttpAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP/1.1 request to a local port with `headers` and a JSON `body`;
/// `None` while nothing listens there.
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Option<HttpAnswer> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_string() };
    Some(HttpAnswer { status, headers, body })
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The console port a configuration written by [`quickstart_config`] uses.
pub fn console_port(config: &Path) -> u16 {
    let text = std::fs::read_to_string(config).unwrap();
    let at = text.find("listen = \"127.0.0.1:").expect("a [console] listen line") + "listen = \"127.0.0.1:".len();
    text[at..].split('"').next().unwrap().parse().unwrap()
}

/// Waits for `proc` to print the demo account line and returns its password.
pub fn demo_password(proc: &Proc) -> String {
    wait_for(Duration::from_secs(60), "the demo account", || {
        let stderr = proc.stderr();
        let line = stderr.lines().find(|l| l.starts_with("console demo account: name demo, password "))?;
        Some(line.split("password ").nth(1)?.split(' ').next()?.to_string())
    })
}

/// Every alert in the alert store `store`, of every tenant and audience
/// (at most 100).
pub fn stored_alerts(store: &vigil_store::Store) -> Vec<vigil_store::AlertRecord> {
    let filter = vigil_store::AlertFilter {
        tenants: vigil_store::TenantScope::All,
        audiences: vec![vigil_core::config::Role::Dsl, vigil_core::config::Role::Ict],
        status: None,
        severity: None,
        category: None,
        user_name: None,
        limit: 100,
    };
    store.alerts(&filter).unwrap()
}
