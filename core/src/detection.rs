//! The configuration of rules that look at event fields rather than words
//! (see `rules/README.md`): the Sigma-shaped conditions `when` and `unless`,
//! the windowed rule types `threshold`, `distinct` and `sequence`, `list`,
//! `new_term`, `lookalike`, `flatline` and `travel`. The alerter compiles
//! these; this module only reads them.

use crate::config::TimeOfDay;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One selection, as in a Sigma rule's `detection`: every key must hold.
/// A key is an event field, optionally with a modifier after `|`
/// (`url.domain|endswith`); a value list means any one of them.
pub type Selection = BTreeMap<String, ConditionValue>;

/// `when` or `unless`: one selection, or a list of selections of which any
/// one holding is enough (Sigma's `1 of selection*`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Selections {
    /// One table: every key holds.
    One(Selection),
    /// An array of tables: at least one holds entirely.
    Any(Vec<Selection>),
}

impl Selections {
    /// The selections, one or many.
    pub fn as_slice(&self) -> &[Selection] {
        match self {
            Selections::One(one) => std::slice::from_ref(one),
            Selections::Any(many) => many,
        }
    }
}

/// A value compared with a field: text, a number or a truth value (numbers
/// and truth values are compared as their text), or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ConditionValue {
    /// One value.
    One(Scalar),
    /// Any one of these values.
    Many(Vec<Scalar>),
}

impl ConditionValue {
    /// The values as text.
    pub fn texts(&self) -> Vec<String> {
        match self {
            ConditionValue::One(one) => vec![one.text()],
            ConditionValue::Many(many) => many.iter().map(Scalar::text).collect(),
        }
    }
}

/// One value of a condition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    /// Text.
    Text(String),
    /// A whole number (`"event.code" = 4625`).
    Integer(i64),
    /// `true` or `false` (for `|exists`).
    Bool(bool),
}

impl Scalar {
    /// The value as text (`4625`, `true`).
    pub fn text(&self) -> String {
        match self {
            Scalar::Text(text) => text.clone(),
            Scalar::Integer(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// `count` matching events within `within_secs`, per group
/// (`[rules.threshold]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdConfig {
    /// Matching events needed within the window (at least 1).
    pub count: u32,
    /// The window, in seconds of event time.
    pub within_secs: u64,
    /// Event fields whose values form the group counted apart (the tenant
    /// always does); `"user.name or source.ip"` takes the first present.
    /// Events lacking a group field are not counted.
    #[serde(default)]
    pub group_by: Vec<String>,
}

/// `count` distinct values of `field` within `within_secs`, per group
/// (`[rules.distinct]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DistinctConfig {
    /// The field whose distinct values are counted.
    pub field: String,
    /// Distinct values needed within the window (at least 2).
    pub count: u32,
    /// The window, in seconds of event time.
    pub within_secs: u64,
    /// As for a threshold.
    #[serde(default)]
    pub group_by: Vec<String>,
}

/// Steps that must happen in order for one group within `within_secs`
/// (`[rules.sequence]`); the event completing the last step matches.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceConfig {
    /// The steps, in order (at least 2).
    pub steps: Vec<StepConfig>,
    /// From the first step's first event to the last step, in seconds of
    /// event time.
    pub within_secs: u64,
    /// As for a threshold.
    #[serde(default)]
    pub group_by: Vec<String>,
}

/// One step of a sequence.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepConfig {
    /// A short name for the email (`failures`, `success`).
    #[serde(default)]
    pub name: Option<String>,
    /// Which events are this step.
    pub when: Selections,
    /// Events that are not, though `when` holds.
    #[serde(default)]
    pub unless: Option<Selections>,
    /// Events of this step needed (default 1).
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

/// A field's value in a named list (`[rules.list]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListConfig {
    /// The field looked up: a domain is found by itself or a parent domain,
    /// an address by itself or a CIDR block holding it, an email address by
    /// its domain.
    pub field: String,
    /// The list's name: `rules/lists/<name>.txt` when shipped, plus the
    /// files `[alerter.lists] <name>` names.
    pub list: String,
}

/// A value of `field` not seen before for its group, once the rule has
/// learnt for `learn_secs` (`[rules.new_term]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewTermConfig {
    /// The field whose values are learnt.
    pub field: String,
    /// As for a threshold.
    #[serde(default)]
    pub group_by: Vec<String>,
    /// How long, in seconds of event time from the first event the rule
    /// sees, values are only learnt, not alerted on.
    pub learn_secs: u64,
    /// A value unseen for this long, in seconds, is forgotten (and new
    /// again).
    #[serde(default = "default_forget_secs")]
    pub forget_secs: u64,
}

fn default_forget_secs() -> u64 {
    90 * 86_400
}

/// A sender's domain that looks like one of the school's own without being
/// it (`[rules.lookalike]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LookalikeConfig {
    /// The field holding a domain or an email address (`email.from`).
    pub field: String,
    /// The list naming the school's own domains (`school-domains`).
    pub list: String,
}

/// A source (a group of events: a tenant's product or log format) that
/// sends nothing for `silent_secs` of its active hours (`[rules.flatline]`):
/// monitoring went blind.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FlatlineConfig {
    /// Silence needed, in seconds counted only within the active hours.
    pub silent_secs: u64,
    /// As for a threshold: the fields whose values make one source
    /// (`observer.product`, `log.format`, `log.source`).
    #[serde(default)]
    pub group_by: Vec<String>,
    /// The days a source is expected to send (default Monday to Friday).
    #[serde(default = "school_days")]
    pub days: Vec<chrono::Weekday>,
    /// When its active hours begin each such day, UK time (default 07:00).
    #[serde(default = "default_active_from")]
    pub from: TimeOfDay,
    /// When they end, UK time (default 18:00; after `from`).
    #[serde(default = "default_active_until")]
    pub until: TimeOfDay,
    /// A source silent for this long (seconds of wall-clock time) is
    /// forgotten: no longer watched until it sends again (default 7 days).
    #[serde(default = "default_flatline_forget_secs")]
    pub forget_secs: u64,
}

fn school_days() -> Vec<chrono::Weekday> {
    use chrono::Weekday::*;
    vec![Mon, Tue, Wed, Thu, Fri]
}

fn default_active_from() -> TimeOfDay {
    TimeOfDay(chrono::NaiveTime::from_hms_opt(7, 0, 0).expect("07:00 is a time"))
}

fn default_active_until() -> TimeOfDay {
    TimeOfDay(chrono::NaiveTime::from_hms_opt(18, 0, 0).expect("18:00 is a time"))
}

fn default_flatline_forget_secs() -> u64 {
    7 * 86_400
}

/// Two sign-ins of one group (an account) too far apart for the time
/// between them (`[rules.travel]`): impossible travel. Only events with
/// `source.geo.lat` and `source.geo.lon` count.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TravelConfig {
    /// The speed, in km/h, above which the journey is impossible (default
    /// 900, an airliner's).
    #[serde(default = "default_max_kmh")]
    pub max_kmh: u32,
    /// Sign-ins nearer than this, in km, never count (geo-IP places an
    /// address only roughly; default 500).
    #[serde(default = "default_min_km")]
    pub min_km: u32,
    /// Sign-ins further apart in time than this, in seconds, are not
    /// compared (default a day).
    #[serde(default = "default_travel_within_secs")]
    pub within_secs: u64,
    /// As for a threshold (default `user.name`).
    #[serde(default = "default_travel_group_by")]
    pub group_by: Vec<String>,
}

fn default_max_kmh() -> u32 {
    900
}

fn default_min_km() -> u32 {
    500
}

fn default_travel_within_secs() -> u64 {
    86_400
}

fn default_travel_group_by() -> Vec<String> {
    vec!["user.name".into()]
}
