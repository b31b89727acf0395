//! Where rules come from: the library shipped in the binary, a school's
//! folder of rule files, and the configuration (`[[alerter.rules]]`,
//! `disable`, `[alerter.adjust.<id>]`), resolved into one list of [`Rule`]s.

use super::{Rule, RulesError};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use vigil_core::config::{AlerterConfig, Role, RuleConfig, Selection, Selections};

/// The shipped library: (path under `rules/`, file text) for every `*.toml`
/// but those of `rules/tests/` and `rules/devset/`.
pub const SHIPPED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/library_files.rs"));

/// The shipped test rows: (path under `rules/`, text) of `rules/tests/*.tsv`,
/// which every build must get right (see [`super::evaluation`]).
pub const TEST_ROWS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/test_rows.rs"));

/// The text-speak table's file name, in `rules/` or a `rules_dir`.
const WORDS_FILE: &str = "normalise.toml";

/// A rule file: the category and defaults its rules share, and the rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    category: String,
    #[serde(default)]
    notify: Option<Role>,
    #[serde(default)]
    exceptions: Vec<String>,
    rules: Vec<RuleConfig>,
}

/// `normalise.toml`: typed word → the words it stands for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WordsFile {
    words: BTreeMap<String, String>,
}

/// Every rule and text-speak entry, resolved and checked.
#[derive(Debug, Default)]
pub struct Library {
    /// The rules in use, in load order (shipped, folder, configuration).
    pub rules: Vec<Rule>,
    /// Text-speak: typed word → the words it stands for.
    pub words: BTreeMap<String, String>,
}

impl Library {
    /// The library `config` asks for: shipped rules (unless `library =
    /// false`), then `rules_dir`'s files, then `[[alerter.rules]]`; a later
    /// rule with an earlier one's id replaces it. Then `disable` and
    /// `adjust` are applied; naming a rule or category that does not exist
    /// is an error, so a typo does not silently leave a rule on.
    pub fn load(config: &AlerterConfig) -> Result<Library, RulesError> {
        let mut library = Library::default();
        if config.library {
            for (path, text) in SHIPPED {
                library.add_file(&format!("shipped rules/{path}"), path, text)?;
            }
        }
        if let Some(dir) = &config.rules_dir {
            for path in toml_files(dir)? {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| RulesError::File { origin: path.display().to_string(), message: e.to_string() })?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                library.add_file(&path.display().to_string(), &name, &text)?;
            }
        }
        let configured: Vec<Rule> = config
            .rules
            .iter()
            .map(|r| Rule::resolve(r, "", None, &[], "the configuration ([[alerter.rules]])"))
            .collect();
        library.add_rules(configured)?;
        library.disable(&config.disable)?;
        library.adjust(&config.adjust)?;
        Ok(library)
    }

    /// Reads one file: the text-speak table or a rule file.
    fn add_file(&mut self, origin: &str, name: &str, text: &str) -> Result<(), RulesError> {
        let syntax = |e: toml::de::Error| RulesError::File {
            origin: origin.to_string(),
            message: e.to_string().trim_end().replace('\n', " "),
        };
        if Path::new(name).file_name().is_some_and(|n| n == WORDS_FILE) {
            let file: WordsFile = toml::from_str(text).map_err(syntax)?;
            self.words.extend(file.words);
            return Ok(());
        }
        let file: RuleFile = toml::from_str(text).map_err(syntax)?;
        let rules = file
            .rules
            .iter()
            .map(|r| Rule::resolve(r, &file.category, file.notify, &file.exceptions, origin))
            .collect();
        self.add_rules(rules)
    }

    /// Adds `rules` (one source's): ids unique within the source; an id
    /// already loaded from an earlier source is replaced.
    fn add_rules(&mut self, rules: Vec<Rule>) -> Result<(), RulesError> {
        let mut seen: HashMap<String, String> = HashMap::new();
        for rule in rules {
            if let Some(first) = seen.insert(rule.id.clone(), rule.origin.clone()) {
                return Err(RulesError::DuplicateId { id: rule.id, first, second: rule.origin });
            }
            if rule.category.trim().is_empty() {
                return Err(RulesError::Invalid { rule: rule.id, message: "has no category".into() });
            }
            match self.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(existing) => {
                    tracing::info!(rule = %rule.id, from = %rule.origin, replaces = %existing.origin, "rule replaced");
                    *existing = rule;
                }
                None => self.rules.push(rule),
            }
        }
        Ok(())
    }

    fn disable(&mut self, names: &[String]) -> Result<(), RulesError> {
        for name in names {
            let before = self.rules.len();
            self.rules.retain(|r| r.id != *name && r.category != *name);
            if self.rules.len() == before {
                return Err(RulesError::Unknown { key: "alerter.disable", name: name.clone() });
            }
        }
        Ok(())
    }

    fn adjust(&mut self, adjustments: &BTreeMap<String, vigil_core::config::RuleAdjust>) -> Result<(), RulesError> {
        for (id, adjust) in adjustments {
            let rule = self
                .rules
                .iter_mut()
                .find(|r| r.id == *id)
                .ok_or_else(|| RulesError::Unknown { key: "alerter.adjust", name: id.clone() })?;
            if let Some(severity) = adjust.severity {
                rule.severity = severity;
            }
            if let Some(notify) = adjust.notify {
                rule.notify = notify;
            }
            rule.phrases.extend(adjust.add_phrases.iter().cloned());
            rule.exceptions.extend(adjust.add_exceptions.iter().cloned());
            adjust_window(rule, adjust)?;
        }
        Ok(())
    }
}

/// Applies `count`, `within_secs` and `add_unless` of `adjust` to a
/// windowed (or any field) rule; refused for rules they do not fit.
fn adjust_window(rule: &mut Rule, adjust: &vigil_core::config::RuleAdjust) -> Result<(), RulesError> {
    let unfit = |key: &str| RulesError::Invalid {
        rule: rule.id.clone(),
        message: format!("cannot take alerter.adjust {key}: it is not a rule of that kind"),
    };
    if let Some(count) = adjust.count {
        match (&mut rule.threshold, &mut rule.distinct, &mut rule.blocked) {
            (Some(t), _, _) => t.count = count,
            (_, Some(d), _) => d.count = count,
            (_, _, Some(b)) => b.attempts = count,
            _ => return Err(unfit("count")),
        }
    }
    if let Some(within) = adjust.within_secs {
        match (&mut rule.threshold, &mut rule.distinct, &mut rule.sequence, &mut rule.blocked) {
            (Some(t), ..) => t.within_secs = within,
            (_, Some(d), ..) => d.within_secs = within,
            (_, _, Some(s), _) => s.within_secs = within,
            (.., Some(b)) => b.within_secs = within,
            _ => match &mut rule.flatline {
                Some(f) => f.silent_secs = within,
                None => return Err(unfit("within_secs")),
            },
        }
    }
    if !adjust.add_unless.is_empty() {
        if rule.has_words() {
            return Err(unfit("add_unless"));
        }
        let mut unless: Vec<Selection> = rule.unless.take().map(|u| u.as_slice().to_vec()).unwrap_or_default();
        unless.extend(adjust.add_unless.iter().cloned());
        rule.unless = Some(Selections::Any(unless));
    }
    Ok(())
}

/// The `*.toml` files below `dir`, sorted, so the load order is stable.
fn toml_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, RulesError> {
    let unreadable = |e: std::io::Error| RulesError::File { origin: dir.display().to_string(), message: e.to_string() };
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).map_err(unreadable)? {
            let path = entry.map_err(unreadable)?.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
