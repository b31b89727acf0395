//! The shipped rule library: every labelled row of `rules/tests/*.tsv` holds,
//! and a school's configuration adds to it, disables and adjusts its rules.

use std::path::Path;
use vigil_alerter::rules::evaluation::{read_rows, Report};
use vigil_alerter::rules::library::TEST_ROWS;
use vigil_alerter::rules::{Field, RuleSet};
use vigil_core::config::Severity;
use vigil_core::Config;

fn config(toml: &str) -> Config {
    Config::from_toml(toml, "test.toml", Path::new("/tmp")).unwrap()
}

fn shipped() -> RuleSet {
    RuleSet::from_config(&config("").alerter).expect("the shipped library loads")
}

/// Ids and severities of the rules `text` matches as a search query.
fn matches(rules: &mut RuleSet, text: &str) -> Vec<(String, Severity)> {
    let found = rules.find_in_text(Field::SearchQuery, text);
    found.iter().map(|m| (rules.rules()[m.rule].id.clone(), rules.rules()[m.rule].severity)).collect()
}

#[test]
fn every_shipped_test_row_holds() {
    let mut rules = shipped();
    let mut wrong = Vec::new();
    let mut count = 0;
    for (path, text) in TEST_ROWS {
        let rows = read_rows(&format!("rules/{path}"), text).unwrap();
        count += rows.len();
        let report = Report::measure(&mut rules, &rows);
        wrong.extend(
            report
                .wrong
                .into_iter()
                .map(|o| format!("{}: {} {:?} matched {:?}", o.row.origin, o.row.label, o.row.text, o.matched)),
        );
    }
    assert!(wrong.is_empty(), "{} of {count} rows do not hold:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn a_school_adds_disables_and_adjusts_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("local.toml"),
        r#"
category = "local"
exceptions = ["old school"]
[[rules]]
id = "local.one"
severity = "medium"
phrases = ["first phrase"]
[[rules]]
id = "local.two"
severity = "high"
phrases = ["second phrase"]
"#,
    )
    .unwrap();
    let base = format!("[alerter]\nlibrary = false\nrules_dir = {:?}\n", dir.path().display().to_string());
    let mut rules = RuleSet::from_config(&config(&base).alerter).unwrap();
    assert_eq!(matches(&mut rules, "the first phrase"), [("local.one".to_string(), Severity::Medium)]);
    assert!(matches(&mut rules, "first phrase of the old school").is_empty(), "file exceptions apply");

    let adjusted = format!(
        "{base}disable = [\"local.two\"]\n[alerter.adjust.\"local.one\"]\nseverity = \"critical\"\nadd_phrases = [\"added words\"]\n\
         [[alerter.rules]]\nid = \"own\"\ncategory = \"own\"\nseverity = \"low\"\nphrases = [\"our own phrase\"]\n"
    );
    let mut rules = RuleSet::from_config(&config(&adjusted).alerter).unwrap();
    assert_eq!(matches(&mut rules, "first phrase"), [("local.one".to_string(), Severity::Critical)]);
    assert_eq!(matches(&mut rules, "added words"), [("local.one".to_string(), Severity::Critical)]);
    assert!(matches(&mut rules, "second phrase").is_empty(), "disabled");
    assert_eq!(matches(&mut rules, "our own phrase"), [("own".to_string(), Severity::Low)]);

    let typo = format!("{base}disable = [\"local.three\"]\n");
    let err = RuleSet::from_config(&config(&typo).alerter).unwrap_err().to_string();
    assert!(err.contains("alerter.disable") && err.contains("local.three"), "{err}");
}

#[test]
fn a_broken_rule_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "category = \"x\"\n[[rules]]\nid = \"x.a\"\nseverity = \"urgent\"\nphrases = [\"a\"]\n",
    )
    .unwrap();
    let text = format!("[alerter]\nlibrary = false\nrules_dir = {:?}\n", dir.path().display().to_string());
    let err = RuleSet::from_config(&config(&text).alerter).unwrap_err().to_string();
    assert!(err.contains("bad.toml") && err.contains("urgent"), "{err}");
    std::fs::write(dir.path().join("bad.toml"), "category = \"x\"\n[[rules]]\nid = \"x.a\"\nseverity = \"low\"\n")
        .unwrap();
    let err = RuleSet::from_config(&config(&text).alerter).unwrap_err().to_string();
    assert!(err.contains("\"x.a\"") && err.contains("needs phrases"), "{err}");
}

/// The safeguarding categories the library must cover (issue 9).
const CATEGORIES: [&str; 12] = [
    "suicide",
    "self-harm",
    "eating-disorders",
    "radicalisation",
    "hate",
    "grooming",
    "bullying",
    "pornography",
    "weapons",
    "drugs",
    "violence",
    "gambling",
];

#[test]
fn every_category_has_rules_exceptions_a_filter_rule_and_tests() {
    let rules = shipped();
    for category in CATEGORIES {
        let own: Vec<_> = rules.rules().iter().filter(|r| r.category == category).collect();
        assert!(own.iter().any(|r| !r.phrases.is_empty() || !r.all.is_empty()), "{category}: no word rules");
        assert!(own.iter().any(|r| !r.exceptions.is_empty()), "{category}: no exceptions");
        assert!(own.iter().any(|r| r.blocked.is_some()), "{category}: no rule on the web filter's blocked verdicts");
        assert!(own.iter().any(|r| r.severity >= Severity::High), "{category}: nothing high or critical");
        let path = format!("tests/{category}.tsv");
        let (_, text) = TEST_ROWS.iter().find(|(p, _)| *p == path).unwrap_or_else(|| panic!("no rules/{path}"));
        let rows = read_rows(&path, text).unwrap();
        let concerning = rows.iter().filter(|r| r.label == category).count();
        let benign = rows.iter().filter(|r| r.label == "benign").count();
        assert!(
            concerning >= 30 && benign >= 30,
            "rules/{path}: {concerning} concerning and {benign} benign rows; want 30 of each"
        );
    }
}

#[test]
fn a_school_changes_the_shipped_library_from_its_toml() {
    let mut rules = shipped();
    assert!(matches(&mut rules, "bet365").iter().any(|(id, _)| id.starts_with("gambling.")));
    let before = matches(&mut rules, "i want to kill myself");
    assert!(before.contains(&("suicide.intent".to_string(), Severity::Critical)), "{before:?}");
    assert!(matches(&mut rules, "the owl has flown").is_empty());

    let school = "[alerter]\ndisable = [\"gambling\", \"weapons.info\"]\n\
                  [alerter.adjust.\"suicide.intent\"]\nseverity = \"high\"\nadd_phrases = [\"the owl has flown\"]\n";
    let mut rules = RuleSet::from_config(&config(school).alerter).unwrap();
    assert!(matches(&mut rules, "bet365").is_empty(), "the gambling category is disabled");
    assert!(rules.rules().iter().all(|r| r.id != "weapons.info" && r.category != "gambling"));
    assert!(matches(&mut rules, "i want to kill myself").contains(&("suicide.intent".to_string(), Severity::High)));
    assert_eq!(matches(&mut rules, "the owl has flown"), [("suicide.intent".to_string(), Severity::High)]);
}
