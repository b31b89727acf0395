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
//! - [`field`]: the event fields rules look in; [`condition`]: the
//!   Sigma-shaped `when`/`unless` conditions on them.
//! - [`rule_type`]: the seam every rule type sits behind, one file each:
//!   [`words`] (the keyword rules), [`matching`] (every event a condition
//!   holds for), [`threshold`] (also the web filter's blocked verdicts),
//!   [`distinct`], [`sequence`], [`list`] (with [`lists`], the list files),
//!   [`new_term`], [`lookalike`], [`travel`] (impossible travel),
//!   [`flatline`] (the one the clock completes: a source gone silent).
//! - [`window`] and [`groups`]: event-time windows and bounded per-group
//!   state for the windowed types.
//! - [`evaluation`]: measuring the rules on labelled queries.

pub mod condition;
pub mod distinct;
pub mod evaluation;
pub mod field;
pub mod flatline;
pub mod groups;
pub mod keyword;
pub mod library;
pub mod list;
pub mod lists;
pub mod lookalike;
pub mod matching;
pub mod new_term;
pub mod normalise;
pub mod patterns;
pub mod rule_type;
pub mod sequence;
pub mod template;
#[cfg(test)]
pub(crate) mod testing;
pub mod threshold;
pub mod tokens;
pub mod travel;
pub mod window;
pub mod words;

pub use field::Field;

use condition::Filter;
use keyword::KeywordMatcher;
use normalise::Normaliser;
use rule_type::RuleType;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use vigil_core::config::{
    AlerterConfig, BlockedConfig, DateSpan, DistinctConfig, FlatlineConfig, ListConfig, LookalikeConfig, NewTermConfig,
    Role, RuleConfig, Selections, SequenceConfig, Severity, ThresholdConfig, TravelConfig,
};
use vigil_core::Event;
use words::Keywords;

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
    /// Which events a field rule looks at.
    pub when: Option<Selections>,
    /// Which events it ignores though `when` holds.
    pub unless: Option<Selections>,
    /// A threshold rule's count, window and grouping.
    pub threshold: Option<ThresholdConfig>,
    /// A distinct rule's field, count, window and grouping.
    pub distinct: Option<DistinctConfig>,
    /// A sequence rule's steps, window and grouping.
    pub sequence: Option<SequenceConfig>,
    /// A list rule's field and list.
    pub list: Option<ListConfig>,
    /// A new-term rule's field, grouping and learning period.
    pub new_term: Option<NewTermConfig>,
    /// A lookalike rule's field and list of own domains.
    pub lookalike: Option<LookalikeConfig>,
    /// A flatline rule's silence, grouping and active hours.
    pub flatline: Option<FlatlineConfig>,
    /// An impossible-travel rule's speed, distance, window and grouping.
    pub travel: Option<TravelConfig>,
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
            when: config.when.clone(),
            unless: config.unless.clone(),
            threshold: config.threshold.clone(),
            distinct: config.distinct.clone(),
            sequence: config.sequence.clone(),
            list: config.list.clone(),
            new_term: config.new_term.clone(),
            lookalike: config.lookalike.clone(),
            flatline: config.flatline.clone(),
            travel: config.travel.clone(),
        }
    }

    /// Whether the rule matches words (phrases, combinations, patterns).
    pub(crate) fn has_words(&self) -> bool {
        !(self.phrases.is_empty() && self.all.is_empty() && self.patterns.is_empty())
    }
}

/// What compiling the field rule types needs besides the rule.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Groups a windowed rule keeps at most.
    pub max_groups: usize,
    /// How late an event may be and still count, in seconds.
    pub out_of_order_secs: u64,
    /// Files added to named lists.
    pub lists: BTreeMap<String, Vec<PathBuf>>,
    /// How often list files are checked for changes.
    pub list_check: Duration,
    /// How `|words` values and blocked categories are read.
    pub normaliser: Arc<Normaliser>,
    /// Days the school is closed (no source is expected to send).
    pub closed_days: Vec<DateSpan>,
}

impl Setup {
    /// The settings `config` gives, reading words with `normaliser`.
    pub fn new(config: &AlerterConfig, normaliser: &Normaliser) -> Setup {
        Setup {
            max_groups: config.max_groups_per_rule,
            out_of_order_secs: config.out_of_order_secs,
            lists: config.lists.clone(),
            list_check: Duration::from_secs(config.list_check_secs),
            normaliser: Arc::new(normaliser.clone()),
            closed_days: config.closed_days.clone(),
        }
    }
}

/// The rule type of `rule` (at `index`), or `None` for a keyword rule
/// (compiled with the others into one automaton).
fn compile(index: usize, rule: &Rule, setup: &Setup) -> Result<Option<Box<dyn RuleType>>, RulesError> {
    let invalid = |message: &str| RulesError::Invalid { rule: rule.id.clone(), message: message.into() };
    let kinds = [
        rule.has_words(),
        rule.blocked.is_some(),
        rule.threshold.is_some(),
        rule.distinct.is_some(),
        rule.sequence.is_some(),
        rule.list.is_some(),
        rule.new_term.is_some(),
        rule.lookalike.is_some(),
        rule.flatline.is_some(),
        rule.travel.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() > 1 {
        return Err(invalid(
            "has more than one of phrases/all/patterns, blocked, threshold, distinct, sequence, list, new_term, lookalike, flatline and travel",
        ));
    }
    if rule.has_words() {
        if rule.when.is_some() || rule.unless.is_some() {
            return Err(invalid("matches words, which take no when or unless"));
        }
        return Ok(None);
    }
    let filter = || Filter::new(&rule.id, rule.when.as_ref(), rule.unless.as_ref(), &setup.normaliser);
    let id = rule.id.as_str();
    let compiled: Box<dyn RuleType> = if let Some(blocked) = &rule.blocked {
        Box::new(threshold::Threshold::from_blocked(index, rule, blocked, setup)?)
    } else if let Some(config) = &rule.threshold {
        Box::new(threshold::Threshold::new(index, rule, config, filter()?, setup)?)
    } else if let Some(config) = &rule.distinct {
        Box::new(distinct::Distinct::new(index, id, config, filter()?, setup)?)
    } else if let Some(config) = &rule.sequence {
        Box::new(sequence::Sequence::new(index, id, config, filter()?, setup)?)
    } else if let Some(config) = &rule.list {
        Box::new(list::List::new(index, id, config, filter()?, setup)?)
    } else if let Some(config) = &rule.lookalike {
        Box::new(lookalike::Lookalike::new(index, id, config, filter()?, setup)?)
    } else if let Some(config) = &rule.new_term {
        Box::new(new_term::NewTerm::new(index, id, config, filter()?, setup)?)
    } else if let Some(config) = &rule.travel {
        Box::new(travel::Travel::new(index, id, config, filter()?, setup)?)
    } else if let Some(config) = &rule.flatline {
        Box::new(flatline::Flatline::new(index, id, config, filter()?, setup)?)
    } else if rule.when.is_some() {
        Box::new(matching::Matching::new(index, id, filter()?))
    } else {
        return Err(invalid(
            "needs phrases, all or patterns, or else blocked, threshold, distinct, sequence, list, new_term, lookalike, flatline, travel or when",
        ));
    };
    Ok(Some(compiled))
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
    /// For a windowed rule, the group whose count matched (`203.0.113.77`):
    /// whom the alert is about and throttled by, instead of the event's
    /// user.
    pub group: Option<String>,
    /// The field whose value the group is, when it is one field
    /// (`source.ip`): whose events the alert's context shows.
    pub group_field: Option<Field>,
}

/// Every rule in use, compiled.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    keywords: Keywords,
    /// The other rule types, one per rule.
    types: Vec<Box<dyn RuleType>>,
    /// The state last saved per rule type id, so that one changed rule does
    /// not need every other one serialised again.
    saved: BTreeMap<String, serde_json::Value>,
}

impl RuleSet {
    /// Loads and compiles the rules `config` asks for.
    pub fn from_config(config: &AlerterConfig) -> Result<RuleSet, RulesError> {
        let library = library::Library::load(config)?;
        RuleSet::new(library.rules, &library.words, config)
    }

    /// Compiles `rules` with the text-speak table `words` and the windows,
    /// caps and lists of `config`.
    pub fn new(
        rules: Vec<Rule>,
        words: &BTreeMap<String, String>,
        config: &AlerterConfig,
    ) -> Result<RuleSet, RulesError> {
        let keywords = KeywordMatcher::new(&rules, words)?;
        let setup = Setup::new(config, keywords.normaliser());
        let mut types = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            types.extend(compile(index, rule, &setup)?);
        }
        Ok(RuleSet { rules, keywords: Keywords::new(keywords), types, saved: BTreeMap::new() })
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules whose words match `text` read as `field` (no field rules),
    /// at most one match per rule, by rule index.
    pub fn find_in_text(&mut self, field: Field, text: &str) -> Vec<RuleMatch> {
        let mut found = Vec::new();
        self.keywords.find_in_text(field, text, &mut found);
        found
    }

    /// The rules `event` matches: words in its searched fields, and every
    /// other rule type's matches (windowed rules: those whose count it
    /// completes). Ordered by rule index.
    pub fn evaluate(&mut self, event: &Event) -> Vec<RuleMatch> {
        let mut found = Vec::new();
        self.keywords.observe(event, &mut found);
        for rule_type in &mut self.types {
            rule_type.observe(event, &mut found);
        }
        self.most_severe_per_category(&mut found);
        found
    }

    /// The matches the wall clock at `now` completes (sources silent too
    /// long), each with the event made to carry its alert.
    pub fn tick(&mut self, now: chrono::DateTime<chrono::Utc>) -> Vec<rule_type::Timed> {
        let mut found = Vec::new();
        for rule_type in &mut self.types {
            rule_type.tick(now, &mut found);
        }
        found
    }

    /// Forgets window state that can no longer match as of `now`, and
    /// returns every rule type's state when any changed since the last call
    /// (to be saved), else `None`.
    pub fn checkpoint(&mut self, now: chrono::DateTime<chrono::Utc>) -> Option<BTreeMap<String, serde_json::Value>> {
        let mut changed = false;
        for rule_type in &mut self.types {
            if let Some(state) = rule_type.checkpoint(now) {
                self.saved.insert(rule_type.id().to_string(), state);
                changed = true;
            }
        }
        changed.then(|| self.saved.clone())
    }

    /// Takes back the state a [`RuleSet::checkpoint`] returned; a rule
    /// whose saved state no longer fits (it changed type) starts afresh.
    pub fn restore(&mut self, mut saved: BTreeMap<String, serde_json::Value>) {
        for rule_type in &mut self.types {
            if let Some(state) = saved.remove(rule_type.id()) {
                if let Err(error) = rule_type.restore(state.clone()) {
                    tracing::warn!(rule = rule_type.id(), %error, "saved rule state not restored; counting afresh");
                } else {
                    self.saved.insert(rule_type.id().to_string(), state);
                }
            }
        }
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
