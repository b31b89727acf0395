//! The rules: loaded from the shipped library, a school's folder and the
//! configuration ([`library`]), and compiled into one [`RuleSet`] that finds
//! which rules an event matches.
//!
//! - [`normalise`]: how text is read before matching (both sides).
//! - [`template`]: phrase templates (`{a|b}`, trailing `*`).
//! - [`tokens`]: words as short codes, what the phrase automaton runs over.
//! - [`keyword`]: every phrase, combination part and exception of every rule
//!   in one Aho-Corasick automaton; regular expressions only where asked.
//! - [`patterns`]: those regular expressions, in one set behind a literal
//!   prefilter.
//! - [`blocked`]: rules on the web filter's own verdicts.
//! - [`field`]: the event fields rules look in.
//! - [`evaluation`]: measuring the rules on labelled queries.

pub mod blocked;
pub mod evaluation;
pub mod field;
pub mod keyword;
pub mod library;
pub mod normalise;
pub mod patterns;
pub mod template;
pub mod tokens;

pub use field::Field;

use blocked::BlockedRules;
use keyword::{KeywordMatcher, Scratch};
use thiserror::Error;
use vigil_core::config::{AlerterConfig, BlockedConfig, Role, RuleConfig, Severity};
use vigil_core::Event;

/// One rule, with its file's defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Unique id; part of every alert id.
    pub id: String,
    /// Category id (`suicide`, `self-harm`, ...).
    pub category: String,
    /// How serious a match is.
    pub severity: Severity,
    /// Who is told.
    pub notify: Role,
    /// Why it matters, for the email.
    pub description: Option<String>,
    /// Where the rule was read (`shipped rules/safeguarding/suicide.toml`).
    pub origin: String,
    /// Phrase templates.
    pub phrases: Vec<String>,
    /// Combinations of templates that must all occur.
    pub all: Vec<Vec<String>>,
    /// Regular expressions over the plain normalised text.
    pub patterns: Vec<String>,
    /// Templates that make a match in the same field benign (the file's and
    /// the rule's).
    pub exceptions: Vec<String>,
    /// The web-filter verdict condition, for a blocked-category rule.
    pub blocked: Option<BlockedConfig>,
}

impl Rule {
    /// `config` read in a file of `category` whose rules are told to
    /// `notify` (the DSL when `None`) and share `exceptions`.
    pub fn resolve(
        config: &RuleConfig,
        category: &str,
        notify: Option<Role>,
        exceptions: &[String],
        origin: &str,
    ) -> Rule {
        Rule {
            id: config.id.clone(),
            category: config.category.clone().unwrap_or_else(|| category.to_string()),
            severity: config.severity,
            notify: config.notify.or(notify).unwrap_or(Role::Dsl),
            description: config.description.clone(),
            origin: origin.to_string(),
            phrases: config.phrases.clone(),
            all: config.all.clone(),
            patterns: config.patterns.clone(),
            exceptions: exceptions.iter().chain(&config.exceptions).cloned().collect(),
            blocked: config.blocked.clone(),
        }
    }
}

/// The rules cannot be loaded or compiled.
#[derive(Debug, Error)]
pub enum RulesError {
    /// A rule file or folder cannot be read or parsed.
    #[error("cannot read the rule file {origin}: {message}")]
    File {
        /// The file (or `shipped rules/...`).
        origin: String,
        /// What is wrong, with the line when TOML says.
        message: String,
    },
    /// Two rules of one source share an id.
    #[error("two rules have the id {id:?} ({first} and {second}); rule ids must be unique")]
    DuplicateId {
        /// The id.
        id: String,
        /// Where the first was read.
        first: String,
        /// Where the second was read.
        second: String,
    },
    /// `disable` or `adjust` names no rule or category.
    #[error("{key} names {name:?}, which is no rule id or category of the loaded rules")]
    Unknown {
        /// The setting.
        key: &'static str,
        /// The name as written.
        name: String,
    },
    /// A rule cannot be used as written.
    #[error("rule {rule:?} {message}")]
    Invalid {
        /// The rule id.
        rule: String,
        /// What is wrong.
        message: String,
    },
    /// The automaton could not be built.
    #[error("cannot build the phrase automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
}

/// One rule that matched an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    /// Index of the rule in [`RuleSet::rules`].
    pub rule: usize,
    /// What matched: the words as read (normalised, so `k1ll` shows as
    /// `kill`; a combination's parts joined by ` … `), the pattern, or the
    /// filter's category.
    pub phrase: String,
    /// The field it matched in.
    pub field: Field,
}

/// Every rule in use, compiled.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    keywords: KeywordMatcher,
    blocked: BlockedRules,
    scratch: Scratch,
}

impl RuleSet {
    /// Loads and compiles the rules `config` asks for.
    pub fn from_config(config: &AlerterConfig) -> Result<RuleSet, RulesError> {
        let library = library::Library::load(config)?;
        RuleSet::new(library.rules, &library.words)
    }

    /// Compiles `rules` with the text-speak table `words`.
    pub fn new(rules: Vec<Rule>, words: &std::collections::BTreeMap<String, String>) -> Result<RuleSet, RulesError> {
        for rule in &rules {
            let has_words = !(rule.phrases.is_empty() && rule.all.is_empty() && rule.patterns.is_empty());
            if has_words == rule.blocked.is_some() {
                return Err(RulesError::Invalid {
                    rule: rule.id.clone(),
                    message: "needs phrases, all or patterns, or else blocked (and not both)".into(),
                });
            }
        }
        let keywords = KeywordMatcher::new(&rules, words)?;
        let blocked = BlockedRules::new(&rules, keywords.normaliser())?;
        Ok(RuleSet { rules, keywords, blocked, scratch: Scratch::default() })
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules whose words match `text` read as `field` (no blocked-verdict
    /// rules), at most one match per rule, by rule index.
    pub fn find_in_text(&mut self, field: Field, text: &str) -> Vec<RuleMatch> {
        let mut found = Vec::new();
        self.keywords.find(field, text, &mut self.scratch, &mut found);
        found
    }

    /// The rules `event` matches: words in its searched fields (the first
    /// field in [`Field::SEARCHED`] order per rule) and blocked-verdict rules
    /// whose count it completes. Ordered by rule index.
    pub fn evaluate(&mut self, event: &Event) -> Vec<RuleMatch> {
        let mut found = Vec::new();
        for field in Field::SEARCHED {
            if let Some(value) = field.value(event) {
                self.keywords.find(field, value, &mut self.scratch, &mut found);
            }
        }
        self.blocked.observe(event, &mut found);
        self.most_severe_per_category(&mut found);
        found
    }

    /// Keeps, of the matches of one category, only the most severe (the
    /// first rule among equals), so one search is one alert of its category
    /// ("nobody would miss me if i was gone" is suicide intent, not also
    /// suicide distress). Ordered by rule index.
    fn most_severe_per_category(&self, found: &mut Vec<RuleMatch>) {
        found.sort_by_key(|f| f.rule);
        let rules = &self.rules;
        let mut kept: Vec<RuleMatch> = Vec::with_capacity(found.len());
        for candidate in found.drain(..) {
            let rule = &rules[candidate.rule];
            match kept.iter_mut().find(|k| rules[k.rule].category == rule.category) {
                Some(other) if rules[other.rule].severity < rule.severity => *other = candidate,
                Some(_) => {}
                None => kept.push(candidate),
            }
        }
        kept.sort_by_key(|f| f.rule);
        *found = kept;
    }
}
