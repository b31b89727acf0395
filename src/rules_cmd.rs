//! `vigil rules test` and `vigil rules list`: measuring and showing the rules
//! a configuration loads (the shipped library with the school's changes);
//! `vigil rules import-sigma`: converting Sigma rules into Vigil's.

use anyhow::Context;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use vigil_alerter::rules::evaluation::{read_rows, Report, Row, BENIGN};
use vigil_alerter::rules::library::TEST_ROWS;
use vigil_alerter::rules::RuleSet;
use vigil_alerter::sigma::Import;
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

/// Converts the Sigma rules in `paths` (files, or folders read
/// recursively for `*.yml` and `*.yaml`): writes one rule file per
/// converted rule into `out` (or prints them), reports every rule, and
/// fails when any could not be converted.
pub fn import_sigma(paths: &[PathBuf], out: Option<&Path>) -> anyhow::Result<()> {
    let mut import = Import::default();
    for file in sigma_files(paths)? {
        let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        import.add(&file.display().to_string(), &text);
    }
    let import = import.finish();
    if let Some(out) = out {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    }
    let mut report = String::new();
    for converted in &import.converted {
        match out {
            Some(out) => {
                let path = out.join(format!("{}.toml", converted.rule.id));
                std::fs::write(&path, &converted.toml).with_context(|| format!("cannot write {}", path.display()))?;
            }
            None => println!("{}", converted.toml),
        }
        let _ = writeln!(report, "converted      {}: {} -> {}", converted.origin, converted.title, converted.rule.id);
    }
    for failed in &import.failed {
        let _ = writeln!(report, "not converted  {}: {}: {}", failed.origin, failed.title, failed.reason);
    }
    let total = import.converted.len() + import.failed.len();
    let _ = writeln!(report, "{} of {total} Sigma rules converted", import.converted.len());
    if out.is_some() {
        print!("{report}");
    } else {
        eprint!("{report}");
    }
    if !import.failed.is_empty() {
        anyhow::bail!("{} of {total} Sigma rules could not be converted (reasons above)", import.failed.len());
    }
    Ok(())
}

/// The Sigma files of `paths`, each folder's sorted.
fn sigma_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = paths.iter().rev().cloned().collect();
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            let entries =
                std::fs::read_dir(&path).with_context(|| format!("cannot read the folder {}", path.display()))?;
            let mut inside: Vec<PathBuf> = entries.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
            inside.retain(|p| p.is_dir() || p.extension().is_some_and(|e| e == "yml" || e == "yaml"));
            inside.sort();
            pending.extend(inside.into_iter().rev());
        } else if path.exists() {
            files.push(path);
        } else {
            anyhow::bail!("cannot read {}: no such file or folder", path.display());
        }
    }
    Ok(files)
}
