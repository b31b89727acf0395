//! `vigil rules test` and `vigil rules list`: measuring and showing the rules
//! a configuration loads (the shipped library with the school's changes).

use anyhow::Context;
use std::fmt::Write as _;
use std::path::PathBuf;
use vigil_alerter::rules::evaluation::{read_rows, Report, Row, BENIGN};
use vigil_alerter::rules::library::TEST_ROWS;
use vigil_alerter::rules::RuleSet;
use vigil_core::Config;

/// Prints recall per category and false alerts per 100 000 benign rows for
/// the rows of `files` (the shipped test rows when there are none), then up
/// to `show` of the rows it got wrong.
pub fn test(config: &Config, files: &[PathBuf], show: usize) -> anyhow::Result<()> {
    let mut rules = RuleSet::from_config(&config.alerter).context("cannot load the rules")?;
    let mut rows: Vec<Row> = Vec::new();
    if files.is_empty() {
        for (path, text) in TEST_ROWS {
            rows.extend(read_rows(&format!("rules/{path}"), text)?);
        }
    }
    for file in files {
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        rows.extend(read_rows(&file.display().to_string(), &String::from_utf8_lossy(&bytes))?);
    }
    let report = Report::measure(&mut rules, &rows);
    let mut out = format!("{} rules, {} rows\n{report}", rules.rules().len(), rows.len());
    let (misses, false_alerts): (Vec<_>, Vec<_>) = report.wrong.iter().partition(|o| o.row.label != BENIGN);
    for (title, outcomes) in [("missed or in another category", misses), ("false alerts", false_alerts)] {
        if outcomes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title} ({}; first {}):", outcomes.len(), show.min(outcomes.len()));
        for o in outcomes.iter().take(show) {
            let rules: Vec<&str> = o.matched.iter().map(|(id, _)| id.as_str()).collect();
            let _ = writeln!(out, "  {}\t{}\t{}\t[{}]", o.row.origin, o.row.label, o.row.text, rules.join(" "));
        }
    }
    print!("{out}");
    Ok(())
}

/// Prints every rule in use: id, category, severity, who is told, where it
/// was read.
pub fn list(config: &Config) -> anyhow::Result<()> {
    let rules = RuleSet::from_config(&config.alerter).context("cannot load the rules")?;
    let mut out = String::new();
    for rule in rules.rules() {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            rule.id,
            rule.category,
            rule.severity.as_str(),
            rule.notify.as_str(),
            rule.origin
        );
    }
    print!("{out}");
    Ok(())
}
