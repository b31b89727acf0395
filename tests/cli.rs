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

#[test]
fn import_sigma_writes_rules_a_config_loads_and_fails_naming_each_unconvertible_rule() {
    let dir = TestDir::new();
    let fixtures = repo().join("alerter/tests/fixtures/sigma");
    let out_dir = dir.path().join("sigma-rules");
    let out = run(vigil().args(["rules", "import-sigma", "--out"]).arg(&out_dir).arg(fixtures.join("convertible")));
    assert_success(&out, "vigil rules import-sigma");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("32 of 32 Sigma rules converted"), "{stdout}");
    assert_eq!(files_with_ext(&out_dir, "toml").len(), 32);
    let config = dir.write(
        "vigil.toml",
        format!("data_dir = \"var\"\n[alerter]\nlibrary = false\nrules_dir = {:?}\n", out_dir.display().to_string()),
    );
    let list = run(vigil().args(["rules", "list", "--config"]).arg(&config));
    assert_success(&list, "vigil rules list");
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains("sigma.suspicious-user-agent\tsigma\thigh\tict"), "{listed}");

    let out = run(vigil().args(["rules", "import-sigma"]).arg(fixtures.join("unconvertible")));
    assert!(!out.status.success(), "some rules could not be converted");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not converted  ") && stderr.contains("the field cs-cookie has no Vigil event field"),
        "{stderr}"
    );
    assert!(stderr.contains("error: 9 of 9 Sigma rules could not be converted"), "{stderr}");
}
