//! Alert context across a restart: the searches a pupil made before `vigil`
//! stopped are read back from the search index into the next alert's email.

use crate::util::*;

/// A squid line of l.evans at 09:00 UTC on 16 November 2026 plus `secs`.
fn squid(secs: u64, status: &str, url: &str) -> String {
    format!(
        "{}.000 100 10.20.3.17 {status} 5120 GET {url} l.evans HIER_DIRECT/142.250.187.195 text/html\n",
        1794819600 + secs
    )
}

#[test]
fn after_a_restart_the_index_gives_the_alert_what_came_before() {
    let dir = TestDir::new();
    let log = dir.write(
        "proxy.log",
        [
            squid(0, "TCP_MISS/200", "https://www.google.co.uk/search?q=volcano+facts+for+kids&hl=en"),
            squid(60, "TCP_DENIED/403", "http://www.freeproxy-unblock.example/browse.php"),
            squid(120, "TCP_MISS/200", "https://www.bing.com/search?q=why+does+nobody+like+me"),
            squid(130, "TCP_MISS/200", "https://www.bbc.co.uk/bitesize"),
        ]
        .concat(),
    );
    let config = dir.write(
        "vigil.toml",
        format!(
            r#"data_dir = {:?}
tenant = "school-a"
[[sources]]
name = "proxy"
type = "file"
path = {:?}
format = "squid"
[email]
from = "vigil@school.example"
dsl = ["dsl@school.example"]
[alerter]
library = false
[[alerter.rules]]
id = "context-test"
category = "self-harm"
severity = "critical"
notify = "dsl"
phrases = ["hurt myself on purpose"]
"#,
            dir.join("data"),
            log
        ),
    );
    assert_success(&run(vigil().args(["run", "--once", "--config"]).arg(&config)), "first run");
    assert_eq!(search(&config, "user.name:\"l.evans\"").len(), 4, "indexed before the restart");

    // Ten minutes later, after a restart: the alerter has read none of the above.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .and_then(|mut f| {
            use std::io::Write;
            f.write_all(
                squid(600, "TCP_MISS/200", "https://www.google.co.uk/search?q=hurt+myself+on+purpose").as_bytes(),
            )
        })
        .unwrap();
    assert_success(&run(vigil().args(["run", "--once", "--config"]).arg(&config)), "run after the restart");

    let emails: Vec<String> = files_with_ext(&dir.join("data/outbox"), "eml")
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .filter(|eml| eml.contains("Subject: [Vigil] CRITICAL self-harm: l.evans"))
        .collect();
    assert_eq!(emails.len(), 1, "one alert on the search");
    let parts = vigil_testkit::mime::parts(&emails[0]);
    let text = &parts.iter().find(|p| p.content_type.starts_with("text/plain")).unwrap().text;
    // 16 November is GMT.
    let expected = [
        "  09:00:00  Searched: volcano facts for kids\n",
        "  09:01:00  Blocked: www.freeproxy-unblock.example\n",
        "  09:02:00  Searched: why does nobody like me\n",
        "> 09:10:00  Searched: hurt myself on purpose ← this alert\n",
    ]
    .concat();
    assert!(text.contains(&expected), "the context block lists the earlier searches:\n{text}");
    assert!(!text.contains("bitesize"), "ordinary pages are not context:\n{text}");
}
