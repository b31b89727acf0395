//! The configuration file: one TOML document, every section optional except
//! what the chosen components need. Unknown keys are rejected with their name
//! and line. Relative paths are resolved against the configuration file's
//! folder, so a config works from whatever directory Vigil is started in.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use thiserror::Error;

pub use crate::detection::{
    ConditionValue, DistinctConfig, FlatlineConfig, ListConfig, LookalikeConfig, NewTermConfig, Scalar, Selection,
    Selections, SequenceConfig, StepConfig, ThresholdConfig, TravelConfig,
};

/// Why a configuration could not be loaded.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has an unknown or mistyped key; the message
    /// names the key and its line.
    #[error("invalid configuration in {origin}: {message}")]
    Syntax {
        /// File name (or `<string>`).
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The TOML is well formed but the values do not make sense together.
    #[error("invalid configuration in {origin}: {message}")]
    Invalid {
        /// File name (or `<string>`).
        origin: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where Vigil keeps its state: indexes, checkpoints, outbox, dead letters.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The tenant (school) of sources that do not name one.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// Kafka connection. When absent, `vigil run` uses the embedded transport.
    #[serde(default)]
    pub kafka: Option<KafkaConfig>,
    /// Log sources to read (`[[sources]]`).
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Ingest limits.
    #[serde(default)]
    pub ingest: IngestConfig,
    /// Indexer settings.
    #[serde(default)]
    pub indexer: IndexerConfig,
    /// Alert rules and throttling.
    #[serde(default)]
    pub alerter: AlerterConfig,
    /// Where alert emails go.
    #[serde(default)]
    pub email: EmailConfig,
    /// The Prometheus endpoint.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Enrichment of every event after parsing: tenants by network, the user
    /// directory, IP → user attribution.
    #[serde(default)]
    pub enrich: EnrichConfig,
    /// The console (`vigil serve`) and the alert store it shares with the
    /// alerter. When present, the alerter records every alert in the store
    /// and `vigil run` serves the console too.
    #[serde(default)]
    pub console: Option<ConsoleConfig>,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("var/vigil")
}
fn default_tenant() -> String {
    "default".to_string()
}

/// Kafka connection settings (`[kafka]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma-separated `host:port`.
    pub brokers: String,
    /// Prefix of the topic names: `<prefix>events`, `<prefix>alerts`,
    /// `<prefix>deadletter`.
    #[serde(default = "default_topic_prefix")]
    pub topic_prefix: String,
    /// Partitions of topics Vigil creates (existing topics are left alone).
    #[serde(default = "default_topic_partitions")]
    pub topic_partitions: i32,
    /// Replication factor of topics Vigil creates.
    #[serde(default = "default_topic_replication")]
    pub topic_replication: i32,
    /// `security.protocol` (`plaintext`, `ssl`, `sasl_plaintext`, `sasl_ssl`).
    #[serde(default)]
    pub security_protocol: Option<String>,
    /// `sasl.mechanism` (`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`).
    #[serde(default)]
    pub sasl_mechanism: Option<String>,
    /// SASL user name.
    #[serde(default)]
    pub sasl_username: Option<String>,
    /// Name of the environment variable holding the SASL password.
    #[serde(default)]
    pub sasl_password_env: Option<String>,
    /// Further librdkafka properties, passed through verbatim.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

fn default_topic_prefix() -> String {
    "vigil.".to_string()
}
fn default_topic_partitions() -> i32 {
    6
}
fn default_topic_replication() -> i32 {
    1
}

/// Where a source reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceType {
    /// A file on disk, followed as it grows.
    File,
    /// Standard input, until it closes.
    Stdin,
    /// Syslog messages received over the network (`listen`, `protocol`).
    Syslog,
}

/// The transport of a syslog source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SyslogProtocol {
    /// One message per datagram (RFC 5426), possibly several lines each.
    #[default]
    Udp,
    /// A stream of framed messages (RFC 6587), optionally over TLS (RFC 5425).
    Tcp,
}

/// Where in a file to start when no checkpoint exists yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StartAt {
    /// Read the whole file (backfill).
    #[default]
    Beginning,
    /// Only lines appended after Vigil starts.
    End,
}

/// One log source (`[[sources]]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Unique name; it labels metrics, dead letters and checkpoints.
    pub name: String,
    /// `file`, `stdin` or `syslog`.
    #[serde(rename = "type")]
    pub source_type: SourceType,
    /// The file, for `type = "file"`: a path or a glob pattern (`*`, `?`,
    /// `[...]` within a folder, `**` across folders, e.g.
    /// `/var/log/squid/access.log*`). Every matching file is read, including
    /// rotated and gzip-compressed ones and files that appear later; files are
    /// recognised by their first bytes, so rotation neither loses nor repeats
    /// lines. A path that matches nothing yet is waited for.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Parser name (`squid`, `sshd`, `postfix`) or `auto`.
    pub format: String,
    /// Tenant of this source's events (default: the top-level `tenant`).
    #[serde(default)]
    pub tenant: Option<String>,
    /// Where to start in the files found when the source first runs (no
    /// checkpoint yet); files appearing later are read from their start.
    #[serde(default)]
    pub start_at: StartAt,
    /// The address a `syslog` source listens on, e.g. `0.0.0.0:514`.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
    /// `udp` or `tcp`, for a `syslog` source.
    #[serde(default)]
    pub protocol: SyslogProtocol,
    /// Certificate chain (PEM) that makes a `tcp` syslog source speak TLS.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Tenant per sender address or CIDR block (`"10.1.0.0/16" = "st-marys"`)
    /// of a `syslog` source; the most specific block wins, and unmatched
    /// senders get the source's tenant.
    #[serde(default)]
    pub senders: BTreeMap<String, String>,
    /// A `syslog` source serves at most this many TCP connections at once, and
    /// keeps parser state for at most this many UDP senders.
    #[serde(default = "default_max_senders")]
    pub max_senders: usize,
}

fn default_max_senders() -> usize {
    256
}

/// Ingest limits (`[ingest]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// Lines longer than this many bytes are dead-lettered (truncated to this
    /// length in the record) instead of parsed.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
    /// How long an incomplete mail message (Postfix, Exim) is held before it
    /// is emitted with what is known (seconds of log time). The name
    /// `postfix_hold_secs` of earlier versions is still read.
    #[serde(default = "default_mail_hold_secs", alias = "postfix_hold_secs")]
    pub mail_hold_secs: u64,
    /// At most this many mail messages are held per source; beyond it the
    /// oldest is emitted early. `postfix_max_pending` is still read.
    #[serde(default = "default_mail_max_pending", alias = "postfix_max_pending")]
    pub mail_max_pending: usize,
    /// How often a followed file is checked for new lines, in milliseconds.
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
}

fn default_max_line_bytes() -> usize {
    64 * 1024
}
fn default_mail_hold_secs() -> u64 {
    300
}
fn default_mail_max_pending() -> usize {
    10_000
}
fn default_poll_interval_ms() -> u64 {
    250
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            max_line_bytes: default_max_line_bytes(),
            mail_hold_secs: default_mail_hold_secs(),
            mail_max_pending: default_mail_max_pending(),
            poll_interval_ms: default_poll_interval_ms(),
        }
    }
}

/// Enrichment applied to every event after parsing (`[enrich]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichConfig {
    /// Networks and their tenants (`[[enrich.networks]]`): an event whose
    /// `source.ip` is in a listed network gets its tenant; the most specific
    /// network wins.
    #[serde(default)]
    pub networks: Vec<NetworkTenant>,
    /// The user directory, a CSV file with the header
    /// `username,display_name,role,year_group,tenant`; off when absent.
    #[serde(default)]
    pub directory: Option<PathBuf>,
    /// How often the directory file's modification time is checked, in
    /// seconds; a changed file is reloaded without a restart.
    #[serde(default = "default_directory_reload_secs")]
    pub directory_reload_secs: u64,
    /// Learn who holds which address from DHCP lease and login events, and
    /// name the user of proxy and web events that do not.
    #[serde(default = "default_leases")]
    pub leases: bool,
    /// A binding (address or device to user) that nothing ends or replaces
    /// lasts this many hours.
    #[serde(default = "default_max_binding_hours")]
    pub max_binding_hours: u64,
    /// At most this many bindings are kept; beyond it the oldest is dropped.
    #[serde(default = "default_max_bindings")]
    pub max_bindings: usize,
    /// How often the lease table is saved to `<data_dir>/ingest/leases.json`
    /// while it changes, in seconds (it is also saved at shutdown).
    #[serde(default = "default_leases_save_secs")]
    pub leases_save_secs: u64,
}

/// One network of `[[enrich.networks]]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkTenant {
    /// The network, e.g. `10.1.0.0/16` or `2001:db8:1::/48`.
    pub cidr: ipnet::IpNet,
    /// The tenant of events from it.
    pub tenant: String,
}

fn default_directory_reload_secs() -> u64 {
    30
}
fn default_leases() -> bool {
    true
}
fn default_max_binding_hours() -> u64 {
    12
}
fn default_max_bindings() -> usize {
    200_000
}
fn default_leases_save_secs() -> u64 {
    60
}

impl Default for EnrichConfig {
    fn default() -> Self {
        EnrichConfig {
            networks: Vec::new(),
            directory: None,
            directory_reload_secs: default_directory_reload_secs(),
            leases: default_leases(),
            max_binding_hours: default_max_binding_hours(),
            max_bindings: default_max_bindings(),
            leases_save_secs: default_leases_save_secs(),
        }
    }
}

/// Indexer settings (`[indexer]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IndexerConfig {
    /// Commit at least this often while events arrive, in seconds.
    #[serde(default = "default_commit_interval_secs")]
    pub commit_interval_secs: u64,
    /// Commit once this many documents are waiting.
    #[serde(default = "default_commit_max_docs")]
    pub commit_max_docs: usize,
    /// Memory budget of each index writer, in megabytes.
    #[serde(default = "default_writer_memory_mb")]
    pub writer_memory_mb: usize,
    /// Days of events kept; older daily indexes are deleted from disk.
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
}

fn default_commit_interval_secs() -> u64 {
    5
}
fn default_commit_max_docs() -> usize {
    50_000
}
fn default_writer_memory_mb() -> usize {
    64
}
fn default_retention_days() -> u32 {
    400
}

impl Default for IndexerConfig {
    fn default() -> Self {
        IndexerConfig {
            commit_interval_secs: default_commit_interval_secs(),
            commit_max_docs: default_commit_max_docs(),
            writer_memory_mb: default_writer_memory_mb(),
            retention_days: default_retention_days(),
        }
    }
}

/// How serious an alert is. Ordered: `Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Look today.
    Medium,
    /// Look now.
    High,
    /// A child may be at immediate risk.
    Critical,
}

impl Severity {
    /// The name used in config, emails and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Who an alert is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The Designated Safeguarding Lead: safeguarding concerns.
    Dsl,
    /// The ICT manager: cyber incidents.
    Ict,
}

impl Role {
    /// The name used in config, emails and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Dsl => "dsl",
            Role::Ict => "ict",
        }
    }
}

/// Alerter settings (`[alerter]`, `[[alerter.rules]]`, `[alerter.adjust.<id>]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlerterConfig {
    /// After an alert for a (rule, user), further matches within this many
    /// seconds (of event time) are counted but not emailed.
    #[serde(default = "default_throttle_secs")]
    pub throttle_secs: u64,
    /// Load the rule library shipped in the binary (`rules/` in the source
    /// tree). On by default; a school adds to it, adjusts and disables rules.
    #[serde(default = "default_true")]
    pub library: bool,
    /// A folder of further rule files (`*.toml`, the library's format, read
    /// recursively), loaded after the shipped library.
    #[serde(default)]
    pub rules_dir: Option<PathBuf>,
    /// Rule ids or category ids whose rules are not used.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Changes to library rules by rule id: severity, who is told, more
    /// phrases or exceptions.
    #[serde(default)]
    pub adjust: std::collections::BTreeMap<String, RuleAdjust>,
    /// The school's own rules, added to the library's.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// Who is told of which alerts, and how (`[[alerter.routes]]`): checked
    /// in order, the first route matching an alert decides. Without a match,
    /// the rule's `notify` list is told, in the digest for low severity and
    /// at once otherwise.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// Hours in which immediate alerts below critical are held back and sent
    /// when they end (`[alerter.quiet_hours]`); off when absent.
    #[serde(default)]
    pub quiet_hours: Option<QuietHoursConfig>,
    /// When digest emails are sent (`[alerter.digest]`).
    #[serde(default)]
    pub digest: DigestConfig,
    /// How far back, in seconds of event time, an alert's context reaches:
    /// the same user's (or, unattributed, the same address's) searches,
    /// blocked requests and email subjects from this long before the
    /// alert's event are shown with it.
    #[serde(default = "default_context_before_secs")]
    pub context_before_secs: u64,
    /// How far the context reaches after the alert's event, in seconds.
    #[serde(default = "default_context_after_secs")]
    pub context_after_secs: u64,
    /// At most this many entries of context per alert (those nearest the
    /// alert's event in time); 0 shows only the alert's own event.
    #[serde(default = "default_context_max_entries")]
    pub context_max_entries: usize,
    /// More entries for the lists `[rules.list]` rules look in
    /// (`[alerter.lists]`, e.g. `tor-exits = ["/etc/vigil/tor-exits.txt"]`):
    /// files added to the shipped list of that name, or a new list. Re-read
    /// when they change, without a restart.
    #[serde(default)]
    pub lists: BTreeMap<String, Vec<PathBuf>>,
    /// How often, in seconds, list files are checked for changes.
    #[serde(default = "default_list_check_secs")]
    pub list_check_secs: u64,
    /// Windowed rules (threshold, distinct, sequence) keep at most this many
    /// groups (addresses, users) each; past it the stalest are dropped and
    /// counted in `vigil_rule_groups_evicted_total`.
    #[serde(default = "default_max_groups_per_rule")]
    pub max_groups_per_rule: usize,
    /// How far, in seconds, an event may arrive behind the newest event time
    /// a windowed rule has seen for its group and still be counted in the
    /// window it belongs to. Generous by default: over Kafka one group's
    /// events (an address trying many users) come from several partitions,
    /// which a catching-up alerter reads at different paces.
    #[serde(default = "default_out_of_order_secs")]
    pub out_of_order_secs: u64,
    /// Days the school is closed (holidays, training days), UK dates
    /// `"2026-12-21"` or inclusive ranges `"2026-12-21..2027-01-01"`: no
    /// source is expected to send on them (flatline rules).
    #[serde(default)]
    pub closed_days: Vec<DateSpan>,
    /// Alerts not acknowledged in time are emailed again to other lists
    /// (`[alerter.escalation]`); off when absent. Needs `[console]`: the
    /// acknowledgements and the clock are in its alert store.
    #[serde(default)]
    pub escalation: Option<EscalationConfig>,
}

/// A UK date or an inclusive range of dates, written `"2026-12-21"` or
/// `"2026-12-21..2027-01-01"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct DateSpan {
    /// The first day.
    pub first: chrono::NaiveDate,
    /// The last day (the first for a single date).
    pub last: chrono::NaiveDate,
}

impl DateSpan {
    /// Whether `date` is one of the span's days.
    pub fn contains(&self, date: chrono::NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }
}

impl TryFrom<String> for DateSpan {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let date = |t: &str| chrono::NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d");
        let (first, last) = match text.split_once("..") {
            Some((a, b)) => (date(a), date(b)),
            None => (date(&text), date(&text)),
        };
        match (first, last) {
            (Ok(first), Ok(last)) if first <= last => Ok(DateSpan { first, last }),
            _ => Err(format!(
                "{text:?} is not a date or date range; write \"2026-12-21\" or \"2026-12-21..2027-01-01\" (first day first)"
            )),
        }
    }
}

impl From<DateSpan> for String {
    fn from(span: DateSpan) -> String {
        if span.first == span.last {
            span.first.to_string()
        } else {
            format!("{}..{}", span.first, span.last)
        }
    }
}

/// Escalation of alerts nobody acknowledged (`[alerter.escalation]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    /// An alert still new this long after it was raised is escalated (once).
    pub after_secs: u64,
    /// The recipient lists told (`dsl`, `ict`, names from `[email.lists]`).
    pub to: Vec<String>,
    /// Only alerts of at least this severity (default `high`).
    #[serde(default = "default_escalation_severity")]
    pub min_severity: Severity,
}

fn default_escalation_severity() -> Severity {
    Severity::High
}

fn default_list_check_secs() -> u64 {
    10
}
fn default_max_groups_per_rule() -> usize {
    100_000
}
fn default_out_of_order_secs() -> u64 {
    3600
}

fn default_throttle_secs() -> u64 {
    3600
}
fn default_context_before_secs() -> u64 {
    1800
}
fn default_context_after_secs() -> u64 {
    300
}
fn default_context_max_entries() -> usize {
    20
}

fn default_true() -> bool {
    true
}

impl Default for AlerterConfig {
    fn default() -> Self {
        AlerterConfig {
            throttle_secs: default_throttle_secs(),
            library: true,
            rules_dir: None,
            disable: Vec::new(),
            adjust: Default::default(),
            rules: Vec::new(),
            routes: Vec::new(),
            quiet_hours: None,
            digest: DigestConfig::default(),
            context_before_secs: default_context_before_secs(),
            context_after_secs: default_context_after_secs(),
            context_max_entries: default_context_max_entries(),
            lists: BTreeMap::new(),
            list_check_secs: default_list_check_secs(),
            max_groups_per_rule: default_max_groups_per_rule(),
            out_of_order_secs: default_out_of_order_secs(),
            closed_days: Vec::new(),
            escalation: None,
        }
    }
}

/// One rule: in a library file's `[[rules]]` or the configuration's
/// `[[alerter.rules]]` (see `rules/README.md` for the phrase syntax).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Stable identifier; part of every alert id, so do not rename lightly.
    pub id: String,
    /// Safeguarding or cyber category (`self-harm`, `radicalisation`, ...);
    /// in a library file, the file's category when absent.
    #[serde(default)]
    pub category: Option<String>,
    /// Severity of a match.
    pub severity: Severity,
    /// Who is emailed; the file's role when absent, else the DSL.
    #[serde(default)]
    pub notify: Option<Role>,
    /// Phrase templates matched on word boundaries after normalisation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phrases: Vec<String>,
    /// Combinations: every template of one inner list must occur in the
    /// same field, in any order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all: Vec<Vec<String>>,
    /// Regular expressions over the field's plain normalised text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
    /// Phrase templates that, in the same field, make a match benign.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<String>,
    /// A web-filter verdict rule: repeated blocked requests in categories.
    #[serde(default)]
    pub blocked: Option<BlockedConfig>,
    /// Which events a field rule (threshold, distinct, list, or a rule with
    /// only `when`) looks at: a Sigma-like selection of event fields.
    #[serde(default)]
    pub when: Option<Selections>,
    /// Events the rule ignores though `when` holds (Sigma's `not filter`).
    #[serde(default)]
    pub unless: Option<Selections>,
    /// `count` events within a window, per group.
    #[serde(default)]
    pub threshold: Option<ThresholdConfig>,
    /// `count` distinct values of a field within a window, per group.
    #[serde(default)]
    pub distinct: Option<DistinctConfig>,
    /// Steps in order within a window, per group.
    #[serde(default)]
    pub sequence: Option<SequenceConfig>,
    /// A field's value in a named list.
    #[serde(default)]
    pub list: Option<ListConfig>,
    /// A field's value first seen for its group, after a learning period.
    #[serde(default)]
    pub new_term: Option<NewTermConfig>,
    /// A domain that looks like one of the school's own.
    #[serde(default)]
    pub lookalike: Option<LookalikeConfig>,
    /// A source silent for too long in its active hours.
    #[serde(default)]
    pub flatline: Option<FlatlineConfig>,
    /// Two sign-ins too far apart for the time between them.
    #[serde(default)]
    pub travel: Option<TravelConfig>,
    /// One sentence for the email: why this matters.
    #[serde(default)]
    pub description: Option<String>,
}

/// A rule on the web filter's own verdicts: `attempts` blocked requests
/// within `within_secs` whose `filter.category` names one of `categories`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BlockedConfig {
    /// Category names as filters write them (word match, normalised):
    /// `pornography` matches FortiGuard's `Pornography` and e2guardian's
    /// `Pornography, Adult`.
    pub categories: Vec<String>,
    /// Blocked requests needed within the window (at least 1).
    #[serde(default = "default_blocked_attempts")]
    pub attempts: u32,
    /// The window, in seconds of event time.
    #[serde(default = "default_blocked_within_secs")]
    pub within_secs: u64,
}

fn default_blocked_attempts() -> u32 {
    3
}

fn default_blocked_within_secs() -> u64 {
    600
}

/// A school's change to a library rule (`[alerter.adjust.<rule id>]`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleAdjust {
    /// A new severity.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Who is told instead.
    #[serde(default)]
    pub notify: Option<Role>,
    /// Phrase templates added to the rule's.
    #[serde(default)]
    pub add_phrases: Vec<String>,
    /// Exceptions added to the rule's.
    #[serde(default)]
    pub add_exceptions: Vec<String>,
    /// A new count for a threshold, distinct or blocked rule.
    #[serde(default)]
    pub count: Option<u32>,
    /// A new window, in seconds, for a windowed rule (for a flatline rule,
    /// its silence).
    #[serde(default)]
    pub within_secs: Option<u64>,
    /// Selections of events the rule should ignore, added to its `unless`
    /// (the school's own egress address, a service account).
    #[serde(default)]
    pub add_unless: Vec<Selection>,
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// No encryption (a relay on the same host only).
    Plain,
    /// Plain connection upgraded with STARTTLS (port 587). Required, not
    /// opportunistic.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// The SMTP server (`[email.smtp]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host name (also the name checked in its certificate).
    pub host: String,
    /// Port (default: 25 plain, 587 STARTTLS, 465 TLS).
    #[serde(default)]
    pub port: Option<u16>,
    /// `plain`, `starttls` or `tls`.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// AUTH user name; AUTH is used only when set.
    #[serde(default)]
    pub username: Option<String>,
    /// Name of the environment variable holding the AUTH password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Extra CA certificate (PEM) to trust, for a school's own CA.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Connection and command timeout, in seconds.
    #[serde(default = "default_smtp_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_smtp_timeout_secs() -> u64 {
    30
}

/// Email settings (`[email]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The From address of alert emails.
    #[serde(default = "default_from")]
    pub from: String,
    /// Addresses of the DSL and deputies.
    #[serde(default)]
    pub dsl: Vec<String>,
    /// Addresses of the ICT manager and team.
    #[serde(default)]
    pub ict: Vec<String>,
    /// Without `[email.smtp]`, alert emails are written here as `.eml` files
    /// (default `<data_dir>/outbox`).
    #[serde(default)]
    pub outbox_dir: Option<PathBuf>,
    /// The SMTP server; when absent, emails go to `outbox_dir`.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// Named recipient lists for `[[alerter.routes]]` (`[email.lists]`,
    /// e.g. `head = ["head@school.example"]`), beside the built-in `dsl` and
    /// `ict` lists above. Names are lower-case letters, digits and `-`.
    #[serde(default)]
    pub lists: BTreeMap<String, Vec<String>>,
}

fn default_from() -> String {
    "vigil@localhost".to_string()
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            from: default_from(),
            dsl: Vec::new(),
            ict: Vec::new(),
            outbox_dir: None,
            smtp: None,
            lists: BTreeMap::new(),
        }
    }
}

/// The Prometheus endpoint (`[metrics]`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address to serve `/metrics` on, e.g. `127.0.0.1:9898`; off when absent.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
}

/// The console and the alert store (`[console]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// The alert store's SQLite file; `<data_dir>/console.db` when absent.
    #[serde(default)]
    pub store: Option<PathBuf>,
    /// Address the console listens on.
    #[serde(default = "default_console_listen")]
    pub listen: SocketAddr,
    /// The address staff open the console at, e.g.
    /// `https://vigil.school.example`; cookies are `Secure` when it is
    /// https or the console listens beyond this machine.
    #[serde(default)]
    pub public_url: Option<String>,
    /// How long a sign-in lasts.
    #[serde(default = "default_session_hours")]
    pub session_hours: u32,
    /// How many days the audit trail is kept (entries younger cannot be
    /// deleted).
    #[serde(default = "default_audit_retention_days")]
    pub audit_retention_days: u32,
    /// Create an account `demo` (every role, every tenant) with a random
    /// password printed at start-up, when the store has no accounts: for a
    /// first try on a laptop, never in a school.
    #[serde(default)]
    pub demo: bool,
    /// Certificate chain (PEM) that makes the console serve https itself;
    /// needs `tls_key`. Cookies are then always `Secure`.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

fn default_console_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_session_hours() -> u32 {
    8
}
fn default_audit_retention_days() -> u32 {
    2190
}

/// `pupil` or `staff`: the `user.role` the user directory gives an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserRole {
    /// A pupil (learner) account.
    Pupil,
    /// A member of staff.
    Staff,
}

impl UserRole {
    /// The name used in config and in `user.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Pupil => "pupil",
            UserRole::Staff => "staff",
        }
    }
}

/// How an alert's recipients hear of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// One email per alert, as soon as it is raised (held over quiet hours
    /// unless critical).
    #[default]
    Immediate,
    /// A line in the next digest email (never for critical alerts).
    Digest,
}

impl Delivery {
    /// The name used in config and in `alert.delivery`.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Immediate => "immediate",
            Delivery::Digest => "digest",
        }
    }
}

/// One route of `[[alerter.routes]]`. Match keys (all optional; every key
/// given must hold): `categories`, `rules`, `min_severity`, `max_severity`,
/// `notify`, `user_roles`, `year_groups`, `tenants`. Action keys: `to` and
/// `delivery` (at least one; each defaults to what an unrouted alert gets).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// A name for errors and logs (default `route N`, counting from 1).
    #[serde(default)]
    pub name: Option<String>,
    /// Alert categories (`alert.category`) the route applies to.
    #[serde(default)]
    pub categories: Option<Vec<String>>,
    /// Rule ids the route applies to.
    #[serde(default)]
    pub rules: Option<Vec<String>>,
    /// The route applies to alerts at least this severe.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// The route applies to alerts at most this severe.
    #[serde(default)]
    pub max_severity: Option<Severity>,
    /// The route applies to alerts of rules with this `notify` role.
    #[serde(default)]
    pub notify: Option<Role>,
    /// The route applies to events whose `user.role` is one of these; an
    /// event with no or another role never matches.
    #[serde(default)]
    pub user_roles: Option<Vec<UserRole>>,
    /// The route applies to events whose `user.year_group` is one of these
    /// (0 is Reception, 1 to 13 Years 1 to 13).
    #[serde(default)]
    pub year_groups: Option<Vec<u8>>,
    /// The route applies to alerts of these tenants (schools).
    #[serde(default)]
    pub tenants: Option<Vec<String>>,
    /// The recipient lists told: `dsl`, `ict` or names from `[email.lists]`
    /// (default: the rule's `notify` list).
    #[serde(default)]
    pub to: Option<Vec<String>>,
    /// `immediate` or `digest` (default: `digest` for low severity,
    /// `immediate` otherwise). Critical alerts are always immediate.
    #[serde(default)]
    pub delivery: Option<Delivery>,
}

impl RouteConfig {
    /// The route's name in messages: its `name`, else `route N` where `N`
    /// is `index` + 1.
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(name) => format!("route {name:?}"),
            None => format!("route {}", index + 1),
        }
    }
}

/// A time of day written `"HH:MM"` (24-hour clock), e.g. `"07:30"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(pub chrono::NaiveTime);

impl TryFrom<String> for TimeOfDay {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M")
            .map(TimeOfDay)
            .map_err(|_| format!("{text:?} is not a time of day; write it as \"HH:MM\", e.g. \"07:30\""))
    }
}

impl From<TimeOfDay> for String {
    fn from(time: TimeOfDay) -> String {
        time.0.format("%H:%M").to_string()
    }
}

/// Quiet hours (`[alerter.quiet_hours]`), in UK civil time (GMT or BST).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursConfig {
    /// When quiet hours begin, e.g. `"18:00"`.
    pub start: TimeOfDay,
    /// When they end, e.g. `"07:30"`; earlier than `start` means the next
    /// day (over midnight).
    pub end: TimeOfDay,
    /// The days on which quiet hours begin (`"mon"` … `"sun"`; default every
    /// day): `["fri"]` with 18:00–07:30 is Friday evening to Saturday
    /// morning.
    #[serde(default)]
    pub days: Option<Vec<chrono::Weekday>>,
}

/// How often digests are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestEvery {
    /// Once a day, at `at`.
    #[default]
    Daily,
    /// At the start of every hour.
    Hourly,
}

/// The digest schedule (`[alerter.digest]`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DigestConfig {
    /// `daily` or `hourly`.
    #[serde(default)]
    pub every: DigestEvery,
    /// For `daily`: the UK time the digest is sent (default `"07:30"`).
    #[serde(default)]
    pub at: Option<TimeOfDay>,
}

impl Config {
    /// Reads and validates a configuration file; relative paths in it are
    /// resolved against the file's folder.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::from_toml(&text, &path.display().to_string(), base)
    }

    /// Parses and validates TOML text; `origin` names it in errors and
    /// relative paths are resolved against `base`.
    pub fn from_toml(text: &str, origin: &str, base: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        config.resolve_paths(base);
        config.validate().map_err(|message| ConfigError::Invalid { origin: origin.to_string(), message })?;
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        resolve(&mut self.data_dir);
        for source in &mut self.sources {
            for p in [&mut source.path, &mut source.tls_cert, &mut source.tls_key].into_iter().flatten() {
                resolve(p);
            }
        }
        if let Some(p) = self.email.outbox_dir.as_mut() {
            resolve(p);
        }
        if let Some(p) = self.email.smtp.as_mut().and_then(|s| s.ca_file.as_mut()) {
            resolve(p);
        }
        if let Some(p) = self.enrich.directory.as_mut() {
            resolve(p);
        }
        if let Some(p) = self.alerter.rules_dir.as_mut() {
            resolve(p);
        }
        if let Some(c) = self.console.as_mut() {
            for p in [&mut c.store, &mut c.tls_cert, &mut c.tls_key].into_iter().flatten() {
                resolve(p);
            }
        }
        for p in self.alerter.lists.values_mut().flatten() {
            resolve(p);
        }
    }

    fn validate(&self) -> Result<(), String> {
        let mut names = std::collections::HashSet::new();
        for s in &self.sources {
            if !names.insert(s.name.as_str()) {
                return Err(format!("two sources are named {:?}; source names must be unique", s.name));
            }
            if s.source_type == SourceType::File && s.path.is_none() {
                return Err(format!("source {:?} has type \"file\" but no path", s.name));
            }
            validate_network_keys(s)?;
        }
        let mut rule_ids = std::collections::HashSet::new();
        for r in &self.alerter.rules {
            if !rule_ids.insert(r.id.as_str()) {
                return Err(format!("two alerter rules have the id {:?}; rule ids must be unique", r.id));
            }
            if r.category.as_deref().is_none_or(|c| c.trim().is_empty()) {
                return Err(format!("alerter rule {:?} has no category", r.id));
            }
        }
        if self.ingest.max_line_bytes < 256 {
            return Err("ingest.max_line_bytes must be at least 256".into());
        }
        if self.indexer.commit_max_docs == 0 || self.indexer.commit_interval_secs == 0 {
            return Err("indexer.commit_max_docs and indexer.commit_interval_secs must be at least 1".into());
        }
        self.validate_enrich()?;
        if self.alerter.escalation.is_some() && self.console.is_none() {
            return Err(
                "alerter.escalation needs a [console] section: acknowledgements are kept in its alert store".into()
            );
        }
        if let Some(console) = &self.console {
            if console.session_hours == 0 || console.audit_retention_days == 0 {
                return Err("console.session_hours and console.audit_retention_days must be at least 1".into());
            }
            if console.tls_cert.is_some() != console.tls_key.is_some() {
                return Err("console: TLS needs both tls_cert and tls_key".into());
            }
            let url = console.public_url.as_deref().unwrap_or("http://");
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!("console.public_url {url:?} must start with https:// or http://"));
            }
        }
        validate_routing(&self.email, &self.alerter)?;
        Ok(())
    }

    fn validate_enrich(&self) -> Result<(), String> {
        let e = &self.enrich;
        let mut networks = std::collections::HashSet::new();
        for n in &e.networks {
            if !networks.insert(n.cidr.trunc()) {
                return Err(format!("two [[enrich.networks]] entries list {}; each network must appear once", n.cidr));
            }
            if n.tenant.trim().is_empty() {
                return Err(format!("[[enrich.networks]] entry {} has an empty tenant", n.cidr));
            }
        }
        if e.directory_reload_secs == 0 || e.max_binding_hours == 0 || e.max_bindings == 0 || e.leases_save_secs == 0 {
            return Err(
                "enrich.directory_reload_secs, max_binding_hours, max_bindings and leases_save_secs must be at least 1"
                    .into(),
            );
        }
        Ok(())
    }

    /// The folder alert emails are written to when no SMTP server is set.
    pub fn outbox_dir(&self) -> PathBuf {
        self.email.outbox_dir.clone().unwrap_or_else(|| self.data_dir.join("outbox"))
    }

    /// The alert store's file, when `[console]` is configured.
    pub fn store_path(&self) -> Option<PathBuf> {
        let console = self.console.as_ref()?;
        Some(console.store.clone().unwrap_or_else(|| self.data_dir.join("console.db")))
    }

    /// The tenant of a source.
    pub fn source_tenant<'a>(&'a self, source: &'a SourceConfig) -> &'a str {
        source.tenant.as_deref().unwrap_or(&self.tenant)
    }
}

/// Checks that `listen` and the keys that go with it appear exactly on
/// `syslog` sources, and that TLS has both its files and runs over TCP.
fn validate_network_keys(s: &SourceConfig) -> Result<(), String> {
    let name = &s.name;
    if s.source_type != SourceType::Syslog {
        let network_keys = s.listen.is_some() || s.tls_cert.is_some() || s.tls_key.is_some() || !s.senders.is_empty();
        if network_keys {
            return Err(format!(
                "source {name:?}: listen, tls_cert, tls_key and senders apply only to type \"syslog\""
            ));
        }
        return Ok(());
    }
    if s.listen.is_none() {
        return Err(format!("source {name:?} has type \"syslog\" but no listen address (e.g. \"0.0.0.0:514\")"));
    }
    if s.path.is_some() {
        return Err(format!("source {name:?} has type \"syslog\"; remove its path"));
    }
    if s.tls_cert.is_some() != s.tls_key.is_some() {
        return Err(format!("source {name:?}: TLS needs both tls_cert and tls_key"));
    }
    if s.tls_cert.is_some() && s.protocol != SyslogProtocol::Tcp {
        return Err(format!("source {name:?}: TLS needs protocol = \"tcp\""));
    }
    if s.max_senders == 0 {
        return Err(format!("source {name:?}: max_senders must be at least 1"));
    }
    Ok(())
}

/// The built-in recipient lists, from `email.dsl` and `email.ict`.
pub const BUILT_IN_LISTS: [&str; 2] = ["dsl", "ict"];

/// Checks the names of `[email.lists]`, that every route sends to a known
/// list and can match something, and the quiet hours and digest times.
fn validate_routing(email: &EmailConfig, alerter: &AlerterConfig) -> Result<(), String> {
    for (name, addresses) in &email.lists {
        if BUILT_IN_LISTS.contains(&name.as_str()) {
            return Err(format!("email.lists.{name}: {name} is a built-in list; set its addresses with email.{name}"));
        }
        let well_formed =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !well_formed {
            return Err(format!(
                "email.lists: the list name {name:?} may only have lower-case letters, digits and '-'"
            ));
        }
        if addresses.is_empty() {
            return Err(format!("email.lists.{name} has no addresses"));
        }
    }
    for (index, route) in alerter.routes.iter().enumerate() {
        let label = route.label(index);
        let empty = [
            ("categories", route.categories.as_ref().map(Vec::is_empty)),
            ("rules", route.rules.as_ref().map(Vec::is_empty)),
            ("user_roles", route.user_roles.as_ref().map(Vec::is_empty)),
            ("year_groups", route.year_groups.as_ref().map(Vec::is_empty)),
            ("tenants", route.tenants.as_ref().map(Vec::is_empty)),
            ("to", route.to.as_ref().map(Vec::is_empty)),
        ];
        if let Some((key, _)) = empty.iter().find(|(_, is_empty)| *is_empty == Some(true)) {
            return Err(format!("alerter {label}: {key} is an empty list; leave the key out to match anything"));
        }
        if let Some(list) =
            route.to.iter().flatten().find(|l| !BUILT_IN_LISTS.contains(&l.as_str()) && !email.lists.contains_key(*l))
        {
            return Err(format!("alerter {label} sends to the list {list:?}, which is not defined; add it under [email.lists] or use \"dsl\" or \"ict\""));
        }
        if route.to.is_none() && route.delivery.is_none() {
            return Err(format!("alerter {label} has neither to nor delivery; say who is told or how"));
        }
        if let (Some(min), Some(max)) = (route.min_severity, route.max_severity) {
            if min > max {
                return Err(format!(
                    "alerter {label}: min_severity {} is above max_severity {}",
                    min.as_str(),
                    max.as_str()
                ));
            }
        }
        if let Some(year) = route.year_groups.iter().flatten().find(|y| **y > 13) {
            return Err(format!("alerter {label}: year group {year} is not 0 (Reception) to 13"));
        }
    }
    if let Some(quiet) = &alerter.quiet_hours {
        if quiet.start == quiet.end {
            return Err("alerter.quiet_hours: start and end are the same time; quiet hours need a length".into());
        }
        if quiet.days.as_ref().is_some_and(Vec::is_empty) {
            return Err("alerter.quiet_hours: days is an empty list; leave it out for every day".into());
        }
    }
    if let Some(escalation) = &alerter.escalation {
        if escalation.after_secs == 0 || escalation.to.is_empty() {
            return Err("alerter.escalation: after_secs must be at least 1 and to must name a list".into());
        }
        if let Some(list) =
            escalation.to.iter().find(|l| !BUILT_IN_LISTS.contains(&l.as_str()) && !email.lists.contains_key(*l))
        {
            return Err(format!("alerter.escalation sends to the list {list:?}, which is not defined; add it under [email.lists] or use \"dsl\" or \"ict\""));
        }
    }
    if alerter.digest.every == DigestEvery::Hourly && alerter.digest.at.is_some() {
        return Err(
            "alerter.digest: at applies only to every = \"daily\"; hourly digests go at the start of each hour".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = Config::from_toml("tenant = \"a\"\n\n[indexer]\ncommit_secs = 3\n", "x.toml", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("commit_secs"), "{err}");
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn the_console_section_has_defaults_and_its_store_resolves_against_the_config_folder() {
        let none = Config::from_toml("data_dir = \"var\"\n", "x", Path::new("/etc/vigil")).unwrap();
        assert_eq!(none.store_path(), None, "no [console]: no store");
        let c = Config::from_toml("data_dir = \"var\"\n[console]\n", "x", Path::new("/etc/vigil")).unwrap();
        assert_eq!(c.store_path(), Some(PathBuf::from("/etc/vigil/var/console.db")));
        let console = c.console.unwrap();
        assert_eq!((console.listen.to_string(), console.session_hours), ("127.0.0.1:8080".to_string(), 8));
        let c = Config::from_toml("[console]\nstore = \"db/v.db\"\n", "x", Path::new("/etc/vigil")).unwrap();
        assert_eq!(c.store_path(), Some(PathBuf::from("/etc/vigil/db/v.db")));
        let err = Config::from_toml("[console]\npublic_url = \"vigil.school\"\n", "x", Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
        let err = Config::from_toml("[console]\nlisten_on = 1\n", "x", Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("listen_on"), "{err}");
    }

    #[test]
    fn console_tls_needs_both_files_and_they_resolve_against_the_config_folder() {
        let toml = "[console]\ntls_cert = \"tls/c.pem\"\ntls_key = \"/keys/k.pem\"\n";
        let console = Config::from_toml(toml, "x", Path::new("/etc/vigil")).unwrap().console.unwrap();
        assert_eq!(console.tls_cert.as_deref(), Some(Path::new("/etc/vigil/tls/c.pem")));
        assert_eq!(console.tls_key.as_deref(), Some(Path::new("/keys/k.pem")));
        let err = Config::from_toml("[console]\ntls_cert = \"c.pem\"\n", "x", Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("both tls_cert and tls_key"), "{err}");
    }

    #[test]
    fn escalation_needs_the_console_and_known_lists() {
        let escalation = "[alerter.escalation]\nafter_secs = 1800\nto = [\"head\"]\n";
        let with_list = format!("[console]\n[email.lists]\nhead = [\"head@school.example\"]\n{escalation}");
        let c = Config::from_toml(&with_list, "x", Path::new("/")).unwrap();
        let e = c.alerter.escalation.unwrap();
        assert_eq!((e.after_secs, e.to, e.min_severity), (1800, vec!["head".to_string()], Severity::High));
        let err = Config::from_toml(&format!("[console]\n{escalation}"), "x", Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("\"head\", which is not defined"), "{err}");
        let err = Config::from_toml(&with_list.replace("[console]\n", ""), "x", Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("needs a [console] section"), "{err}");
    }

    #[test]
    fn mail_hold_limits_are_read_under_their_old_postfix_names_too() {
        let new =
            Config::from_toml("[ingest]\nmail_hold_secs = 60\nmail_max_pending = 7\n", "x", Path::new("/")).unwrap();
        let old = Config::from_toml("[ingest]\npostfix_hold_secs = 60\npostfix_max_pending = 7\n", "x", Path::new("/"))
            .unwrap();
        for c in [new, old] {
            assert_eq!((c.ingest.mail_hold_secs, c.ingest.mail_max_pending), (60, 7));
        }
    }

    #[test]
    fn closed_days_are_dates_or_ranges_first_day_first() {
        let c = Config::from_toml(
            "[alerter]\nclosed_days = [\"2026-12-21..2027-01-01\", \"2027-02-15\"]\n",
            "x",
            Path::new("/"),
        )
        .unwrap();
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let [holiday, training] = c.alerter.closed_days.as_slice() else { panic!("two spans") };
        assert!(holiday.contains(day(2026, 12, 21)) && holiday.contains(day(2027, 1, 1)));
        assert!(!holiday.contains(day(2027, 1, 2)));
        assert!(training.contains(day(2027, 2, 15)) && !training.contains(day(2027, 2, 16)));
        let err = Config::from_toml("[alerter]\nclosed_days = [\"2027-01-01..2026-12-21\"]\n", "x", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("first day first") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn relative_paths_resolve_against_the_config_folder() {
        let text = "data_dir = \"var\"\n[[sources]]\nname = \"p\"\ntype = \"file\"\npath = \"logs/a.log\"\nformat = \"squid\"\n";
        let c = Config::from_toml(text, "x", Path::new("/etc/vigil")).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/etc/vigil/var"));
        assert_eq!(c.sources[0].path.as_deref(), Some(Path::new("/etc/vigil/logs/a.log")));
        assert!(c.kafka.is_none());
    }

    #[test]
    fn enrich_section_parses_networks_and_resolves_the_directory() {
        let text =
            "[enrich]\ndirectory = \"users.csv\"\n[[enrich.networks]]\ncidr = \"10.1.0.0/16\"\ntenant = \"st-marys\"\n";
        let c = Config::from_toml(text, "x", Path::new("/etc/vigil")).unwrap();
        assert_eq!(c.enrich.directory.as_deref(), Some(Path::new("/etc/vigil/users.csv")));
        assert_eq!(c.enrich.networks[0].cidr.to_string(), "10.1.0.0/16");
        assert_eq!((c.enrich.max_binding_hours, c.enrich.max_bindings), (12, 200_000));
        assert!(Config::from_toml("", "x", Path::new("/")).unwrap().enrich.leases);
    }

    #[test]
    fn bad_or_duplicate_networks_are_rejected() {
        let bad = "[[enrich.networks]]\ncidr = \"10.1.0.0/33\"\ntenant = \"a\"\n";
        let err = Config::from_toml(bad, "x", Path::new("/")).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        let twice = "[[enrich.networks]]\ncidr = \"10.1.0.0/16\"\ntenant = \"a\"\n[[enrich.networks]]\ncidr = \"10.1.2.0/16\"\ntenant = \"b\"\n";
        let err = Config::from_toml(twice, "x", Path::new("/")).unwrap_err().to_string();
        assert!(err.contains("10.1.2.0/16"), "{err}");
    }

    #[test]
    fn file_source_without_path_is_rejected() {
        let text = "[[sources]]\nname = \"p\"\ntype = \"file\"\nformat = \"squid\"\n";
        let err = Config::from_toml(text, "x", Path::new("/")).unwrap_err().to_string();
        assert!(err.contains("no path"), "{err}");
    }

    #[test]
    fn syslog_sources_need_a_listen_address_and_tls_over_tcp() {
        let base = "[[sources]]\nname = \"s\"\ntype = \"syslog\"\nformat = \"squid\"\n";
        let err = Config::from_toml(base, "x", Path::new("/")).unwrap_err().to_string();
        assert!(err.contains("no listen address"), "{err}");
        let tls = format!("{base}listen = \"127.0.0.1:6514\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n");
        let err = Config::from_toml(&tls, "x", Path::new("/")).unwrap_err().to_string();
        assert!(err.contains("protocol = \"tcp\""), "{err}");
        let ok = format!("{tls}protocol = \"tcp\"\n[sources.senders]\n\"10.1.0.0/16\" = \"st-marys\"\n");
        let c = Config::from_toml(&ok, "x", Path::new("/etc/vigil")).unwrap();
        assert_eq!(c.sources[0].tls_cert.as_deref(), Some(Path::new("/etc/vigil/c.pem")));
        assert_eq!(c.sources[0].senders["10.1.0.0/16"], "st-marys");
        let file = "[[sources]]\nname = \"p\"\ntype = \"file\"\npath = \"a\"\nformat = \"squid\"\nlisten = \"127.0.0.1:514\"\n";
        let err = Config::from_toml(file, "x", Path::new("/")).unwrap_err().to_string();
        assert!(err.contains("only to type \"syslog\""), "{err}");
    }
    const ROUTING: &str = r#"
[email]
dsl = ["dsl@school.example"]
[email.lists]
head = ["head@school.example"]
deputies = ["d1@school.example", "d2@school.example"]

[[alerter.routes]]
name = "staff concerns"
user_roles = ["staff"]
to = ["head"]

[[alerter.routes]]
year_groups = [7, 8]
min_severity = "medium"
to = ["dsl", "deputies"]
delivery = "immediate"

[alerter.quiet_hours]
start = "18:00"
end = "07:30"
days = ["mon", "Friday"]

[alerter.digest]
every = "daily"
at = "08:15"
"#;

    #[test]
    fn routes_lists_quiet_hours_and_digest_parse() {
        let c = Config::from_toml(ROUTING, "x", Path::new("/")).unwrap();
        assert_eq!(c.email.lists["deputies"].len(), 2);
        assert_eq!(c.alerter.routes[0].user_roles, Some(vec![UserRole::Staff]));
        assert_eq!(c.alerter.routes[0].label(0), "route \"staff concerns\"");
        assert_eq!(c.alerter.routes[1].label(1), "route 2");
        assert_eq!(c.alerter.routes[1].delivery, Some(Delivery::Immediate));
        let quiet = c.alerter.quiet_hours.as_ref().unwrap();
        assert_eq!(String::from(quiet.start), "18:00");
        assert_eq!(quiet.days, Some(vec![chrono::Weekday::Mon, chrono::Weekday::Fri]));
        assert_eq!(c.alerter.digest.at.map(String::from).as_deref(), Some("08:15"));
        let plain = Config::from_toml("", "x", Path::new("/")).unwrap();
        assert!(plain.alerter.routes.is_empty() && plain.alerter.quiet_hours.is_none());
        assert_eq!(plain.alerter.digest.every, DigestEvery::Daily);
    }

    #[test]
    fn routing_mistakes_name_the_route_list_or_key() {
        let err = |text: &str| Config::from_toml(text, "x", Path::new("/")).unwrap_err().to_string();
        let unknown = ROUTING.replace("to = [\"head\"]", "to = [\"heads\"]");
        let e = err(&unknown);
        assert!(
            e.contains("route \"staff concerns\"") && e.contains("\"heads\"") && e.contains("[email.lists]"),
            "{e}"
        );
        let e = err(&ROUTING.replace("year_groups = [7, 8]", "year_groups = []"));
        assert!(e.contains("route 2") && e.contains("year_groups is an empty list"), "{e}");
        let e = err(&ROUTING.replace("year_groups = [7, 8]", "year_groups = [7, 14]"));
        assert!(e.contains("year group 14"), "{e}");
        let e = err(&ROUTING.replace("min_severity = \"medium\"", "min_severity = \"high\"\nmax_severity = \"low\""));
        assert!(e.contains("min_severity high is above max_severity low"), "{e}");
        let e = err(&ROUTING.replace("user_roles = [\"staff\"]", "user_roles = [\"teacher\"]"));
        assert!(e.contains("teacher") && e.contains("line 10"), "{e}");
        let e = err(&ROUTING.replace("end = \"07:30\"", "end = \"7.30am\""));
        assert!(e.contains("\"7.30am\" is not a time of day"), "{e}");
        let e = err(&ROUTING.replace("\"Friday\"", "\"fryday\""));
        assert!(e.contains("line 22") && e.contains("weekday names"), "{e}");
        let e = err(&ROUTING.replace("end = \"07:30\"", "end = \"18:00\""));
        assert!(e.contains("start and end are the same"), "{e}");
        let e = err(&ROUTING.replace("every = \"daily\"", "every = \"hourly\""));
        assert!(e.contains("at applies only to every = \"daily\""), "{e}");
        let e = err(&ROUTING.replace("head = [", "dsl = ["));
        assert!(e.contains("email.lists.dsl") && e.contains("built-in"), "{e}");
        let e = err(&ROUTING.replace("head = [\"head@school.example\"]", "Head = []"));
        assert!(e.contains("\"Head\""), "{e}");
        let e = err(&ROUTING.replace("to = [\"head\"]", ""));
        assert!(e.contains("neither to nor delivery"), "{e}");
    }
}
