//! `/metrics` on a running `vigil run`: the counters an operator watches.

use crate::util::*;
use std::time::Duration;

/// The sum of every sample of `metric` labelled with `source`.
fn sum_of(text: &str, metric: &str, source: &str) -> u64 {
    let label = format!("source=\"{source}\"");
    text.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")) && l.contains(&label))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

#[test]
fn metrics_count_lines_events_dead_letters_documents_alerts_and_emails() {
    let dir = TestDir::new();
    let port = free_port();
    let config = quickstart_config(&dir, &format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"));
    let mut vigil_run = Proc::spawn("vigil run", &dir, vigil().args(["run", "--config"]).arg(&config));
    let expected = [
        "vigil_lines_read_total{source=\"proxy\"} 17",
        "vigil_lines_read_total{source=\"mail\"} 19",
        "vigil_events_total{format=\"squid\",kind=\"proxy\"} 15",
        // Four messages and three connect/disconnect lines kept as `other`.
        "vigil_events_total{format=\"postfix\",kind=\"email\"} 7",
        "vigil_events_total{format=\"sshd\",kind=\"auth\"} 10",
        "vigil_lines_used_total{source=\"proxy\",use=\"event\"} 15",
        "vigil_lines_used_total{source=\"mail\",use=\"correlated\"} 15",
        "vigil_lines_used_total{source=\"mail\",use=\"event\"} 4",
        "vigil_lines_used_total{source=\"ssh\",use=\"event\"} 10",
        "vigil_deadletter_total{source=\"proxy\"} 2",
        "vigil_alerts_total{category=\"brute-force\",severity=\"high\"} 1",
        "vigil_alerts_total{category=\"filter-bypass\",severity=\"medium\"} 1",
        "vigil_alerts_total{category=\"self-harm\",severity=\"critical\"} 1",
        "vigil_alerts_total{category=\"suicide\",severity=\"critical\"} 1",
        "vigil_alerts_total{category=\"weapons\",severity=\"high\"} 1",
        "vigil_emails_sent_total{role=\"dsl\"} 3",
        "vigil_emails_sent_total{role=\"ict\"} 2",
        "vigil_list_entries{list=\"filter-bypass\"}",
        "vigil_consumer_lag{group=\"vigil-indexer\"} 0",
        "vigil_index_commit_seconds_count",
    ];
    let text = wait_for(Duration::from_secs(60), "the expected metrics", || {
        let text = get_metrics(port)?;
        (expected.iter().all(|m| text.contains(m))
            && text.contains("vigil_documents_indexed_total{tenant=\"demo-primary\"}"))
        .then_some(text)
    });
    assert!(text.contains("# TYPE vigil_lines_read_total counter"), "{text}");
    for source in ["proxy", "mail", "ssh"] {
        let read = sum_of(&text, "vigil_lines_read_total", source);
        let used = sum_of(&text, "vigil_lines_used_total", source);
        let dead = sum_of(&text, "vigil_deadletter_total", source);
        assert_eq!(read, used + dead, "{source}: lines read = lines used + dead-lettered\n{text}");
    }
    assert!(vigil_run.terminate().success(), "{}", vigil_run.stderr());
}
