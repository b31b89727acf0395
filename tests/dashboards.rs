//! dashboards/ and the docker-compose deployment: Prometheus's configuration,
//! alert rules and their unit tests pass promtool; a live `/metrics` page
//! passes `promtool check metrics` and has every metric and label the
//! dashboards and rules use; the dashboards parse and query the provisioned
//! data source; deploy/vigil.toml loads.

use crate::util::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Labels Prometheus adds to every scraped series.
const TARGET_LABELS: [&str; 2] = ["job", "instance"];

fn dashboards() -> PathBuf {
    repo().join("dashboards")
}

/// Runs promtool with `args` (and `stdin`), failing the test with a clear
/// message when promtool is not installed.
fn promtool(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new("promtool");
    cmd.args(args).current_dir(dashboards().join("prometheus"));
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!("cannot run promtool ({e}): install Debian's `prometheus` package, which has it (scripts/test.sh does)")
    });
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Files in `dir` (recursively) whose name ends with `suffix`, sorted.
fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_ending(&path, suffix));
        } else if path.to_string_lossy().ends_with(suffix) {
            found.push(path);
        }
    }
    found.sort();
    found
}

fn rule_files() -> Vec<PathBuf> {
    files_ending(&dashboards().join("prometheus/rules"), ".rules.yml")
}

fn dashboard_files() -> Vec<PathBuf> {
    files_ending(&dashboards().join("grafana/dashboards"), ".json")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every panel of a dashboard, rows' nested panels included.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut all = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        all.push(panel);
        all.extend(panel["panels"].as_array().into_iter().flatten());
    }
    all
}

/// Every PromQL expression of the dashboards, with the Grafana variables
/// replaced by a duration so that it is plain PromQL.
fn dashboard_expressions() -> Vec<(String, String)> {
    let mut exprs = Vec::new();
    for file in dashboard_files() {
        let dashboard: Value = serde_json::from_str(&read(&file)).unwrap();
        for panel in panels(&dashboard) {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr =
                    target["expr"].as_str().unwrap_or_else(|| panic!("{}: a target without expr", file.display()));
                let expr = expr.replace("$__rate_interval", "5m").replace("$__range", "1h");
                exprs.push((format!("{} / {}", file.display(), panel["title"]), expr));
            }
        }
    }
    exprs
}

/// Words of `text` that are Vigil metric names (`vigil_…`).
fn vigil_metric_names(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("vigil_"))
        .map(str::to_string)
        .collect()
}

/// Labels grouped on in PromQL `text`: the names inside `by (…)`.
fn grouping_labels(text: &str) -> BTreeSet<String> {
    text.split("by (")
        .skip(1)
        .flat_map(|rest| rest.split(')').next().unwrap().split(','))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The metric names and label names of a Prometheus text page.
fn names_on_page(page: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut metrics, mut labels) = (BTreeSet::new(), BTreeSet::new());
    for line in page.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        metrics.insert(line[..name_end].to_string());
        if let Some(set) = line[name_end..].strip_prefix('{').and_then(|s| s.split('}').next()) {
            labels.extend(set.split(',').filter_map(|pair| pair.split('=').next()).map(str::to_string));
        }
    }
    (metrics, labels)
}

#[test]
fn prometheus_config_rules_and_rule_unit_tests_pass_promtool() {
    let out = promtool(&["check", "config", "prometheus.yml"], None);
    assert_success(&out, "promtool check config");
    let loaded = String::from_utf8_lossy(&out.stdout);
    assert!(loaded.contains(&format!("SUCCESS: {} rule files found", rule_files().len())), "{loaded}");

    let rules: Vec<String> = rule_files().iter().map(|p| p.display().to_string()).collect();
    assert!(!rules.is_empty(), "no rule files under dashboards/prometheus/rules");
    let args: Vec<&str> = ["check", "rules"].into_iter().chain(rules.iter().map(String::as_str)).collect();
    assert_success(&promtool(&args, None), "promtool check rules");

    let tests: Vec<String> = files_ending(&dashboards().join("prometheus/tests"), ".test.yml")
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert!(!tests.is_empty(), "no rule unit tests under dashboards/prometheus/tests");
    let args: Vec<&str> = ["test", "rules"].into_iter().chain(tests.iter().map(String::as_str)).collect();
    assert_success(&promtool(&args, None), "promtool test rules");
}

#[test]
fn dashboards_parse_query_the_provisioned_data_source_and_are_valid_promql() {
    let provisioning = read(&dashboards().join("grafana/provisioning/datasources/prometheus.yml"));
    let uid = provisioning
        .lines()
        .find_map(|l| l.trim().strip_prefix("uid:"))
        .expect("the provisioned data source has a uid")
        .trim()
        .to_string();
    let files = dashboard_files();
    assert!(files.len() >= 2, "the pipeline and alerts dashboards: {files:?}");
    let mut uids = BTreeSet::new();
    for file in &files {
        let dashboard: Value =
            serde_json::from_str(&read(file)).unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()));
        assert!(uids.insert(dashboard["uid"].as_str().unwrap().to_string()), "{}: uid used twice", file.display());
        let graphs: Vec<&Value> = panels(&dashboard).into_iter().filter(|p| p["type"] != "row").collect();
        assert!(!graphs.is_empty(), "{}: no panels", file.display());
        for panel in graphs {
            let title = &panel["title"];
            assert_eq!(panel["datasource"]["uid"], uid.as_str(), "{}: {title}", file.display());
            let targets = panel["targets"].as_array().filter(|t| !t.is_empty());
            for target in targets.unwrap_or_else(|| panic!("{}: {title} queries nothing", file.display())) {
                assert_eq!(target["datasource"]["uid"], uid.as_str(), "{}: {title}", file.display());
            }
        }
    }

    // promtool parses PromQL in rule files: one recording rule per panel
    // query (JSON is YAML).
    let queries = dashboard_expressions();
    let rules: Vec<Value> = queries
        .iter()
        .enumerate()
        .map(|(i, (_, expr))| serde_json::json!({ "record": format!("dashboard:query_{i}"), "expr": expr }))
        .collect();
    let dir = TestDir::new();
    let file = dir.write(
        "dashboards.rules.json",
        serde_json::json!({ "groups": [{ "name": "dashboards", "rules": rules }] }).to_string(),
    );
    let out = promtool(&["check", "rules", &file.display().to_string()], None);
    let listing: Vec<String> =
        queries.iter().enumerate().map(|(i, (panel, _))| format!("query_{i}: {panel}")).collect();
    assert_success(&out, &format!("promtool check rules on the dashboards' queries\n{}\n", listing.join("\n")));
}

#[test]
fn live_metrics_pass_promtool_and_have_every_metric_and_label_the_dashboards_and_rules_use() {
    let mut used_metrics = BTreeSet::new();
    let mut used_labels = BTreeSet::new();
    for (_, expr) in dashboard_expressions() {
        used_metrics.extend(vigil_metric_names(&expr));
        used_labels.extend(grouping_labels(&expr));
    }
    for file in rule_files().into_iter().chain(files_ending(&dashboards().join("prometheus/tests"), ".yml")) {
        let text = read(&file);
        used_metrics.extend(vigil_metric_names(&text));
        used_labels.extend(grouping_labels(&text));
    }
    for metric in ["vigil_lines_read_total", "vigil_consumer_lag", "vigil_emails_failed_total"] {
        assert!(used_metrics.contains(metric), "{metric} is on no dashboard: {used_metrics:?}");
    }

    let dir = TestDir::new();
    let port = free_port();
    let config = quickstart_config(&dir, &format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"));
    let mut vigil_run = Proc::spawn("vigil run", &dir, vigil().args(["run", "--config"]).arg(&config));
    // Until the sample logs are read, indexed and alerted on, some metrics
    // have no series yet.
    let start = Instant::now();
    let (page, missing) = loop {
        let page = get_metrics(port).map(|r| r.split_once("\r\n\r\n").unwrap().1.to_string()).unwrap_or_default();
        let (on_page, _) = names_on_page(&page);
        let missing: Vec<&String> = used_metrics.iter().filter(|m| !on_page.contains(*m)).collect();
        if missing.is_empty() || start.elapsed() > Duration::from_secs(60) {
            break (page, missing.into_iter().cloned().collect::<Vec<_>>());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(missing.is_empty(), "used by dashboards or rules but not exported: {missing:?}\n{page}");

    // Email failures are counted from zero, so that the first one is an
    // increase the VigilEmailsFailing alert sees.
    for role in ["dsl", "ict", "digest"] {
        assert!(page.contains(&format!("vigil_emails_failed_total{{role=\"{role}\"}} 0")), "{page}");
    }
    let (_, labels_on_page) = names_on_page(&page);
    let unknown: Vec<&String> =
        used_labels.iter().filter(|l| !labels_on_page.contains(*l) && !TARGET_LABELS.contains(&l.as_str())).collect();
    assert!(unknown.is_empty(), "grouped on but on no exported series: {unknown:?}\n{page}");

    let out = promtool(&["check", "metrics"], Some(&page));
    assert_success(&out, "promtool check metrics on the live page");
    assert!(vigil_run.terminate().success(), "{}", vigil_run.stderr());
}

/// Runs `docker compose ARGS` (Compose v2) or else `docker-compose ARGS`
/// (Debian's `docker-compose`), failing the test when neither is installed.
fn compose(args: &[&str]) -> Output {
    let v2 = Command::new("docker").args(["compose", "version"]).output().is_ok_and(|o| o.status.success());
    let mut cmd = if v2 {
        let mut cmd = Command::new("docker");
        cmd.arg("compose");
        cmd
    } else {
        Command::new("docker-compose")
    };
    cmd.args(args).current_dir(repo()).stdin(Stdio::null());
    cmd.output().unwrap_or_else(|e| {
        panic!("cannot run docker-compose ({e}): install Docker Compose, or Debian's `docker-compose` package (scripts/test.sh does)")
    })
}

#[test]
fn docker_compose_file_parses_and_mounts_files_that_exist() {
    let out = compose(&["config"]);
    assert_success(&out, "docker compose config");
    let resolved = String::from_utf8_lossy(&out.stdout);
    let root = repo().display().to_string();
    let mounts: Vec<&str> = resolved
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- ").or_else(|| l.trim().strip_prefix("source: ")))
        .filter(|l| l.starts_with(&root))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    for wanted in ["deploy/vigil.toml", "dashboards/prometheus", "dashboards/grafana/provisioning", "examples/logs"] {
        assert!(mounts.iter().any(|m| m.ends_with(wanted)), "{wanted} is mounted:\n{resolved}");
    }
    for mount in mounts {
        assert!(Path::new(mount).exists(), "docker-compose.yml mounts {mount}, which does not exist");
    }
}

#[test]
fn the_compose_vigil_configuration_loads_and_matches_the_compose_file() {
    let path = repo().join("deploy/vigil.toml");
    let out = run(vigil().args(["rules", "list", "--config"]).arg(&path));
    assert_success(&out, "vigil rules list --config deploy/vigil.toml");
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() > 100, "the shipped rule library is loaded");

    let config = vigil_core::Config::from_file(&path).unwrap();
    let compose_file = read(&repo().join("docker-compose.yml"));
    let brokers = &config.kafka.as_ref().expect("[kafka]").brokers;
    assert!(compose_file.contains(&format!("KAFKA_ADVERTISED_LISTENERS: PLAINTEXT://{brokers}")), "{brokers}");
    assert!(
        compose_file.contains(&format!("vigil-data:{}", config.data_dir.display())),
        "{}",
        config.data_dir.display()
    );
    let smtp = config.email.smtp.as_ref().expect("[email.smtp]: Mailpit");
    assert!(compose_file.contains(&format!("\n  {}:\n", smtp.host)), "a {} service", smtp.host);

    let listen = config.metrics.listen.expect("[metrics] listen");
    assert!(listen.ip().is_unspecified(), "metrics must be reachable from the Prometheus container: {listen}");
    let scraped = read(&dashboards().join("prometheus/prometheus.yml"));
    for service in ["vigil-ingest", "vigil-index", "vigil-alert"] {
        assert!(compose_file.contains(&format!("\n  {service}:\n")), "a {service} service");
        let target = format!("\"{service}:{}\"", listen.port());
        assert!(scraped.contains(&target), "Prometheus scrapes {target}");
    }
}
