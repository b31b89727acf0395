//! The command line: `vigil parse`, and errors a user sees.

use crate::util::*;

#[test]
fn parse_prints_events_and_reports_rejected_lines_with_their_numbers() {
    let out = run(vigil().args(["parse", "--format", "squid"]).arg(repo().join("examples/logs/squid-access.log")));
    assert_success(&out, "vigil parse");
    let events = json_lines(&out);
    assert_eq!(events.len(), 15, "15 well-formed Squid lines in the sample");
    assert!(events.iter().all(|e| e["event.kind"] == "proxy" && e["log.format"] == "squid"));
    let blocked: Vec<_> = events.iter().filter(|e| e["event.action"] == "blocked").collect();
    assert_eq!(blocked.len(), 3, "two TCP_DENIED/403 and one TCP_DENIED/407");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 7: "), "{stderr}");
    assert!(stderr.contains("line 17: "), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("line ")).count(), 2, "{stderr}");
}

#[test]
fn parse_reads_stdin_and_survives_hostile_bytes() {
    let dir = TestDir::new();
    let mut input = b"1794819600.000 5 10.0.0.1 TCP_MISS/200 10 GET http://a.example/<script>alert(1)</script> - HIER_DIRECT/1.2.3.4 text/html\n".to_vec();
    input.extend_from_slice(b"\xff\xfe\x00garbage\r\n");
    input.extend_from_slice(&vec![b'x'; 200_000]);
    input.push(b'\n');
    let file = dir.write("hostile.log", &input);
    let out = run(vigil().args(["parse", "--format", "squid"]).stdin(std::fs::File::open(&file).unwrap()));
    assert_success(&out, "vigil parse from stdin");
    let events = json_lines(&out);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["url.full"], "http://a.example/<script>alert(1)</script>");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2: "), "{stderr}");
    assert!(stderr.contains("line 3: line is 200000 bytes"), "{stderr}");
}

#[test]
fn unreadable_file_is_one_clear_sentence_and_a_failure() {
    let out = run(vigil().args(["parse", "--format", "squid", "/nonexistent/access.log"]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read /nonexistent/access.log"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
}

#[test]
fn unknown_format_lists_the_known_ones() {
    let out = run(vigil().args(["parse", "--format", "bluecoat", "/dev/null"]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown format \"bluecoat\"") && stderr.contains("squid"), "{stderr}");
}

#[test]
fn unknown_config_key_is_named_with_its_line() {
    let dir = TestDir::new();
    let config = dir.write("vigil.toml", "tenant = \"x\"\n\n[indexer]\ncommit_every = 5\n");
    let out = run(vigil().args(["run", "--once", "--config"]).arg(&config));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("commit_every") && stderr.contains("line 4"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn single_components_need_kafka() {
    let dir = TestDir::new();
    let config = dir.write("vigil.toml", "tenant = \"x\"\n");
    let out = run(vigil().args(["index", "--config"]).arg(&config));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no [kafka] section"), "{stderr}");
}

#[test]
fn unreachable_broker_is_a_clear_error() {
    let dir = TestDir::new();
    let config = dir.write("vigil.toml", "[kafka]\nbrokers = \"127.0.0.1:1\"\n");
    let out = run(vigil().args(["index", "--config"]).arg(&config));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot reach the Kafka brokers at 127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
