//! What the pupil did around an alert: their searches, blocked requests and
//! email subjects from `[alerter] context_before_secs` before the alert's
//! event to `context_after_secs` after it, so the DSL can judge the alert
//! from the email alone.
//!
//! Two places know those events:
//! - a [`RecentWindow`] in the alerter's memory, fed every event it consumes
//!   ([`Context::observe`]): it holds the events of the current batch (which
//!   count as "after" for alerts raised earlier in it) and those the search
//!   index may not have committed yet;
//! - a [`ContextSource`], in practice the search index: it holds what came
//!   before a restart. The binary provides it; where there is none (the
//!   index on another machine), the window alone is used.
//!
//! [`Context::attach`] merges both, one entry per event id, and keeps the
//! entries nearest the alert's event in time.
//!
//! A windowed rule's alert is about its group ([`Who::of`]): an address
//! that failed to sign in again and again (a threshold by `source.ip`)
//! shows that address's sign-in attempts, whichever accounts they tried;
//! an account's shows the account's. Sign-ins are kept apart from the
//! searches, mails and blocked requests, so a pupil's alert never lists
//! their sign-ins.

use crate::alert::Alert;
use crate::rules::Field;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use vigil_core::config::AlerterConfig;
use vigil_core::{Event, EventKind};

/// Log values in an entry are cut to this many characters (the last one
/// then `…`).
pub const MAX_VALUE_CHARS: usize = 160;
/// At most this many entries are held in memory for all users together.
/// With every value at its cap in four-byte characters an entry takes about
/// 1.4 kB, so the window never holds more than about 70 MB; typical entries
/// (short ASCII searches) take about 200 bytes, 10 MB in all.
pub const WINDOW_MAX_ENTRIES: usize = 50_000;
/// The window holds at most this many times `context_max_entries` entries
/// per (tenant, user), and the search index is asked for as many on each
/// side of the alert's event, so a flood of blocked requests (a page's
/// adverts) does not hide a search.
const SCAN_FACTOR: usize = 8;

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// Search terms (`search.query`).
    Search,
    /// An email, by its subject (`email.subject`).
    Email,
    /// A web request, by its domain (blocked ones; the alert's own event
    /// by its full URL).
    Request,
    /// A sign-in attempt, by its action, account and address (only in the
    /// context of an alert about an address or account's sign-ins).
    SignIn,
    /// Any other event (only ever the alert's own): its `event.action`.
    Other,
}

/// One thing the user did, as shown with an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextEntry {
    /// When (the first time, for a repeated entry).
    #[serde(rename = "@timestamp")]
    pub timestamp: DateTime<Utc>,
    /// The event it was read from (the first, for a repeated entry).
    #[serde(rename = "event.id")]
    pub event_id: String,
    /// What it records.
    pub kind: EntryKind,
    /// The search terms, subject, domain or URL, or action; at most
    /// [`MAX_VALUE_CHARS`] characters.
    pub text: String,
    /// Whether the web filter blocked the request.
    #[serde(default, skip_serializing_if = "is_false")]
    pub blocked: bool,
    /// The web filter's category, capped like `text`.
    #[serde(rename = "filter.category", default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// For a sign-in, the account it tried, capped like `text`.
    #[serde(rename = "user.name", default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// How many events this entry stands for: identical entries (same kind,
    /// text, verdict and category) in the window are shown once.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub times: u32,
    /// This is the event the alert was raised on.
    #[serde(rename = "alert.event", default, skip_serializing_if = "is_false")]
    pub alert_event: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}
fn one() -> u32 {
    1
}
fn is_one(n: &u32) -> bool {
    *n == 1
}

impl ContextEntry {
    /// The entry for `event` if it is worth showing as context: a search, an
    /// email with a subject, or a blocked request; `None` for anything else.
    pub fn of(event: &Event) -> Option<ContextEntry> {
        let blocked = event.action.as_str() == "blocked";
        let (kind, text) = if let Some(query) = non_blank(&event.search_query) {
            (EntryKind::Search, query)
        } else if let Some(subject) = non_blank(&event.email_subject) {
            (EntryKind::Email, subject)
        } else if blocked {
            let address = non_blank(&event.url_domain).or(non_blank(&event.url_full));
            (EntryKind::Request, address.unwrap_or("(no address logged)"))
        } else {
            return None;
        };
        Some(ContextEntry::new(event, kind, text, blocked))
    }

    /// The entry for a sign-in event (`event.kind` auth): `login-failed:
    /// root from 203.0.113.77`; `None` for other events.
    pub fn sign_in(event: &Event) -> Option<ContextEntry> {
        if event.kind != EventKind::Auth {
            return None;
        }
        let mut text = event.action.to_string();
        if let Some(user) = non_blank(&event.user_name) {
            text.push_str(": ");
            text.push_str(user);
        }
        if let Some(ip) = non_blank(&event.source_ip) {
            text.push_str(" from ");
            text.push_str(ip);
        }
        let user = non_blank(&event.user_name).map(capped);
        Some(ContextEntry { user, ..ContextEntry::new(event, EntryKind::SignIn, &text, false) })
    }

    /// The entry for the event an alert was raised on, marked as such: as
    /// [`ContextEntry::of`], else as a sign-in, else its full URL, else its
    /// action.
    pub fn of_alert_event(event: &Event) -> ContextEntry {
        let entry =
            ContextEntry::of(event).or_else(|| ContextEntry::sign_in(event)).unwrap_or_else(|| {
                match non_blank(&event.url_full) {
                    Some(url) => ContextEntry::new(event, EntryKind::Request, url, false),
                    None => ContextEntry::new(event, EntryKind::Other, event.action.as_str(), false),
                }
            });
        ContextEntry { alert_event: true, ..entry }
    }

    fn new(event: &Event, kind: EntryKind, text: &str, blocked: bool) -> ContextEntry {
        ContextEntry {
            timestamp: event.timestamp,
            event_id: event.id.clone(),
            kind,
            text: capped(text),
            blocked,
            category: non_blank(&event.filter_category).map(capped),
            user: None,
            times: 1,
            alert_event: false,
        }
    }

    /// What identical entries share: kind, text, verdict and category.
    fn sameness(&self) -> (EntryKind, &str, bool, Option<&str>) {
        (self.kind, &self.text, self.blocked, self.category.as_deref())
    }
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

/// `text` cut to [`MAX_VALUE_CHARS`] characters, ending with `…` when cut.
pub fn capped(text: &str) -> String {
    match text.char_indices().nth(MAX_VALUE_CHARS - 1) {
        Some((end, _)) if text[end..].chars().nth(1).is_some() => format!("{}…", &text[..end]),
        _ => text.to_string(),
    }
}

/// Whose events make an alert's context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who<'a> {
    /// The user the alert's event is attributed to (`user.name`): their
    /// searches, mails and blocked requests.
    User(&'a str),
    /// The client address, when the event has no user (`source.ip`): its
    /// searches, mails and blocked requests that name no user.
    Address(&'a str),
    /// An account's sign-in attempts (`user.name`, `event.kind` auth).
    SignInsOf(&'a str),
    /// Every sign-in attempt from an address (`source.ip`, `event.kind`
    /// auth), whichever account it tried.
    SignInsFrom(&'a str),
}

impl<'a> Who<'a> {
    /// Whom `alert` is about, if anyone: a windowed rule's group when it is
    /// one address or account (sign-ins for an alert on a sign-in), else
    /// the event's user, else its address.
    pub fn of(alert: &'a Alert) -> Option<Who<'a>> {
        let sign_in = alert.event_kind == Some(EventKind::Auth);
        match (alert.group.as_deref(), alert.group_field) {
            (Some(ip), Some(Field::SourceIp)) if sign_in => return Some(Who::SignInsFrom(ip)),
            (Some(user), Some(Field::UserName)) if sign_in => return Some(Who::SignInsOf(user)),
            (Some(ip), Some(Field::SourceIp)) => return Some(Who::Address(ip)),
            (Some(user), Some(Field::UserName)) => return Some(Who::User(user)),
            _ => {}
        }
        match (&alert.user_name, &alert.source_ip) {
            (Some(user), _) if sign_in => Some(Who::SignInsOf(user)),
            (Some(user), _) => Some(Who::User(user)),
            (None, Some(ip)) if sign_in => Some(Who::SignInsFrom(ip)),
            (None, Some(ip)) => Some(Who::Address(ip)),
            (None, None) => None,
        }
    }

    /// Whether `event` is one of this one's, and its entry if so.
    fn entry_of(self, event: &Event) -> Option<ContextEntry> {
        let same = |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
        match self {
            Who::User(_) | Who::Address(_) => {
                let mine = Who::of_event(event).is_some_and(|w| w.key(&event.tenant) == self.key(&event.tenant));
                mine.then(|| ContextEntry::of(event)).flatten()
            }
            Who::SignInsOf(user) => same(&event.user_name, user).then(|| ContextEntry::sign_in(event)).flatten(),
            Who::SignInsFrom(ip) => same(&event.source_ip, ip).then(|| ContextEntry::sign_in(event)).flatten(),
        }
    }

    fn of_event(event: &'a Event) -> Option<Who<'a>> {
        match (&event.user_name, &event.source_ip) {
            (Some(user), _) => Some(Who::User(user)),
            (None, Some(ip)) => Some(Who::Address(ip)),
            (None, None) => None,
        }
    }

    /// The window's key: tenant, kind and value, the value lower-cased as
    /// the index compares them.
    fn key(self, tenant: &str) -> String {
        let (kind, value) = match self {
            Who::User(user) => ('u', user),
            Who::Address(ip) => ('a', ip),
            Who::SignInsOf(user) => ('U', user),
            Who::SignInsFrom(ip) => ('A', ip),
        };
        format!("{tenant}\0{kind}\0{}", value.to_lowercase())
    }
}

/// Why a [`ContextSource`] could not answer.
#[derive(Debug, thiserror::Error)]
#[error("cannot read earlier events for an alert's context: {reason}")]
pub struct ContextSourceError {
    /// What went wrong. Logged at warn level, so it must not hold personal
    /// data (user names, queries).
    pub reason: String,
}

/// Where an alert's context is read from besides the alerter's memory: the
/// search index, so that an alert raised just after a restart still shows
/// what came before it.
pub trait ContextSource: fmt::Debug + Send + Sync {
    /// Events of tenant `tenant` whose user (or, for [`Who::Address`] and
    /// [`Who::SignInsFrom`], whose `source.ip`, compared without regard to
    /// case) is `who`, with `from <= @timestamp <= to`, the newest first,
    /// at most `limit`; for the sign-in kinds of `who`, sign-in events
    /// (`event.kind` auth). Others may be among them and are skipped:
    /// events that are not context ([`ContextEntry::of`], or for sign-ins
    /// [`ContextEntry::sign_in`]) and, for [`Who::Address`], events that
    /// name a user (someone else may have had the address). No data is not
    /// an error: a source with nothing to read returns an empty list.
    fn recent(
        &self,
        tenant: &str,
        who: Who<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Event>, ContextSourceError>;
}

/// A bounded window of recent context entries per (tenant, user or
/// address), in the order they arrived.
///
/// Bounds: at most `per_who` entries per key (the oldest arrival goes
/// first) and `total` over all keys (likewise); [`RecentWindow::prune`]
/// drops entries older than a horizon in event time. Memory is therefore
/// at most `total` entries, each value at most [`MAX_VALUE_CHARS`].
#[derive(Debug)]
pub struct RecentWindow {
    per_who: usize,
    total: usize,
    by_who: HashMap<Arc<str>, VecDeque<(u64, ContextEntry)>>,
    /// Every entry pushed, by arrival: (sequence number, event time, key).
    /// May still name entries a key's own bound removed; those are skipped
    /// when their turn comes.
    arrivals: VecDeque<(u64, DateTime<Utc>, Arc<str>)>,
    next: u64,
}

impl RecentWindow {
    /// An empty window holding at most `per_who` entries per key and `total`
    /// in all.
    pub fn new(per_who: usize, total: usize) -> RecentWindow {
        RecentWindow { per_who, total, by_who: HashMap::new(), arrivals: VecDeque::new(), next: 0 }
    }

    /// Records `entry` for `who` of `tenant`.
    pub fn push(&mut self, tenant: &str, who: Who<'_>, entry: ContextEntry) {
        if self.per_who == 0 || self.total == 0 {
            return;
        }
        let key = who.key(tenant);
        let key: Arc<str> = match self.by_who.get_key_value(key.as_str()) {
            Some((shared, _)) => shared.clone(),
            None => key.into(),
        };
        let seq = self.next;
        self.next += 1;
        self.arrivals.push_back((seq, entry.timestamp, key.clone()));
        let entries = self.by_who.entry(key).or_default();
        entries.push_back((seq, entry));
        if entries.len() > self.per_who {
            entries.pop_front();
        }
        while self.arrivals.len() > self.total {
            let Some((oldest, _, key)) = self.arrivals.pop_front() else { break };
            self.forget(&key, oldest);
        }
    }

    /// Removes the entry numbered `seq` of `key` if it is still held: it is
    /// then the key's oldest, as entries leave each key oldest first.
    fn forget(&mut self, key: &str, seq: u64) {
        let Some(entries) = self.by_who.get_mut(key) else { return };
        if entries.front().is_some_and(|(s, _)| *s == seq) {
            entries.pop_front();
        }
        if entries.is_empty() {
            self.by_who.remove(key);
        }
    }

    /// The entries of `who` of `tenant` with `from <= @timestamp <= to`, in
    /// arrival order.
    pub fn around<'w>(
        &'w self,
        tenant: &str,
        who: Who<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Iterator<Item = &'w ContextEntry> + 'w {
        let entries = self.by_who.get(who.key(tenant).as_str());
        entries.into_iter().flatten().map(|(_, e)| e).filter(move |e| e.timestamp >= from && e.timestamp <= to)
    }

    /// Drops every entry from before `horizon`.
    pub fn prune(&mut self, horizon: DateTime<Utc>) {
        self.by_who.retain(|_, entries| {
            entries.retain(|(_, e)| e.timestamp >= horizon);
            !entries.is_empty()
        });
        self.arrivals.retain(|(_, at, _)| *at >= horizon);
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.by_who.values().map(VecDeque::len).sum()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.by_who.is_empty()
    }
}

/// The alerter's context keeper: the window, the optional source, and the
/// configured reach.
#[derive(Debug)]
pub struct Context {
    before: Duration,
    after: Duration,
    max_entries: usize,
    window: RecentWindow,
    source: Option<Box<dyn ContextSource>>,
    /// The newest event time observed: the window's pruning clock (never
    /// later than now, so a bogus future time cannot empty the window).
    newest: Option<DateTime<Utc>>,
}

impl Context {
    /// A keeper with the reach and size of `[alerter] context_*` and no
    /// source but its own window.
    pub fn new(config: &AlerterConfig) -> Context {
        let seconds = |s: u64| Duration::try_seconds(i64::try_from(s).unwrap_or(i64::MAX)).unwrap_or(Duration::MAX);
        let max_entries = config.context_max_entries;
        Context {
            before: seconds(config.context_before_secs),
            after: seconds(config.context_after_secs),
            max_entries,
            window: RecentWindow::new(max_entries.saturating_mul(SCAN_FACTOR), WINDOW_MAX_ENTRIES),
            source: None,
            newest: None,
        }
    }

    /// The same keeper also reading earlier events from `source`.
    pub fn with_source(self, source: Box<dyn ContextSource>) -> Context {
        Context { source: Some(source), ..self }
    }

    /// Remembers `event` if it is context: a sign-in both for its account
    /// and for its address.
    pub fn observe(&mut self, event: &Event) {
        self.newest = self.newest.max(Some(event.timestamp));
        if let Some(entry) = ContextEntry::sign_in(event) {
            if let Some(user) = non_blank(&event.user_name) {
                self.window.push(&event.tenant, Who::SignInsOf(user), entry.clone());
            }
            if let Some(ip) = non_blank(&event.source_ip) {
                self.window.push(&event.tenant, Who::SignInsFrom(ip), entry);
            }
        } else if let (Some(who), Some(entry)) = (Who::of_event(event), ContextEntry::of(event)) {
            self.window.push(&event.tenant, who, entry);
        }
    }

    /// Gives each of `alerts` its context, then forgets entries too old for
    /// any later alert: those from before the newest event observed less
    /// `context_before_secs` and `context_after_secs` (an alert on an event
    /// that arrives a little late still finds what came before it).
    pub fn attach(&mut self, alerts: &mut [Alert]) {
        for alert in alerts.iter_mut() {
            self.attach_one(alert);
        }
        let reach = self.before.checked_add(&self.after).unwrap_or(Duration::MAX);
        if let Some(horizon) = self.newest.and_then(|n| n.min(Utc::now()).checked_sub_signed(reach)) {
            self.window.prune(horizon);
        }
    }

    fn attach_one(&self, alert: &mut Alert) {
        let Some(who) = Who::of(alert) else { return };
        let at = alert.timestamp;
        let from = at.checked_sub_signed(self.before).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let to = at.checked_add_signed(self.after).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut others: Vec<ContextEntry> = self.window.around(&alert.tenant, who, from, to).cloned().collect();
        let read = self.read_source(alert, who, from, to);
        others.extend(read.iter().filter(|e| *e.tenant == *alert.tenant).filter_map(|e| who.entry_of(e)));
        others.retain(|e| e.event_id != alert.event_id);
        others.sort_by(|a, b| a.event_id.cmp(&b.event_id));
        others.dedup_by(|a, b| a.event_id == b.event_id);
        let (kept, omitted) = nearest(grouped(others), at, self.max_entries);
        alert.context.retain(|e| e.alert_event);
        alert.context.extend(kept);
        alert.context.sort_by(|a, b| (a.timestamp, &a.event_id).cmp(&(b.timestamp, &b.event_id)));
        alert.context_omitted = omitted;
    }

    /// The source's events on both sides of the alert's event (each side
    /// asked separately, so a busy "after" does not crowd out the
    /// "before"); none, with a warning, when it fails.
    fn read_source(&self, alert: &Alert, who: Who<'_>, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Event> {
        let Some(source) = &self.source else { return Vec::new() };
        let limit = self.max_entries.saturating_mul(SCAN_FACTOR);
        let sides = [(from, alert.timestamp), (alert.timestamp, to)];
        let mut events = Vec::new();
        for (from, to) in sides {
            match source.recent(&alert.tenant, who, from, to, limit) {
                Ok(found) => events.extend(found),
                Err(error) => {
                    tracing::warn!(alert = %alert.id, %error, "the alert's context has only the events this alerter saw");
                    return events;
                }
            }
        }
        events
    }
}

/// Identical entries (the same [`ContextEntry::sameness`]): the first of
/// them, and when each happened.
struct Group {
    first: ContextEntry,
    times: Vec<DateTime<Utc>>,
}

/// `entries` with identical ones taken together.
fn grouped(mut entries: Vec<ContextEntry>) -> Vec<Group> {
    entries.sort_by(|a, b| a.sameness().cmp(&b.sameness()).then_with(|| a.timestamp.cmp(&b.timestamp)));
    entries
        .chunk_by(|a, b| a.sameness() == b.sameness())
        .map(|same| Group { first: same[0].clone(), times: same.iter().map(|e| e.timestamp).collect() })
        .collect()
}

/// The `max` groups with an event nearest `at` (on a tie, the earlier), as
/// entries counting their events; and how many groups were left out.
fn nearest(mut groups: Vec<Group>, at: DateTime<Utc>, max: usize) -> (Vec<ContextEntry>, usize) {
    let distance = |g: &Group| g.times.iter().map(|t| (*t - at).abs()).min();
    groups.sort_by_cached_key(|g| (distance(g), g.first.timestamp));
    let omitted = groups.len().saturating_sub(max);
    groups.truncate(max);
    let kept = groups
        .into_iter()
        .map(|g| ContextEntry { times: u32::try_from(g.times.len()).unwrap_or(u32::MAX), ..g.first })
        .collect();
    (kept, omitted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::sync::Mutex;
    use vigil_core::config::{Role, Severity};
    use vigil_core::{EventKind, Outcome};

    /// 10:00 UTC on 4 March 2026 plus `minutes`.
    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 4, 10, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    /// A proxy event of school-a's l.evans at `minutes`, changed by `set`.
    fn event(id: &str, minutes: i64, set: impl FnOnce(&mut Event)) -> Event {
        let mut e = Event::new(at(minutes), EventKind::Proxy, "allowed", Outcome::Success, "squid", "squid", "raw");
        e.id = id.into();
        e.tenant = "school-a".into();
        e.user_name = Some("l.evans".into());
        e.source_ip = Some("10.0.0.7".into());
        set(&mut e);
        e
    }

    fn search(id: &str, minutes: i64, query: &str) -> Event {
        event(id, minutes, |e| e.search_query = Some(query.into()))
    }

    fn blocked(id: &str, minutes: i64, domain: &str) -> Event {
        event(id, minutes, |e| {
            e.action = "blocked".into();
            e.url_domain = Some(domain.into());
            e.filter_category = Some("Adult".into());
        })
    }

    /// The alert raised on `event` (its context only the event itself).
    fn alert_on(event: &Event) -> Alert {
        let rule = crate::rules::Rule {
            category: "self-harm".into(),
            severity: Severity::Critical,
            notify: Role::Dsl,
            phrases: vec!["self harm".into()],
            ..crate::rules::testing::rule("self-harm")
        };
        let found = crate::rules::RuleMatch {
            rule: 0,
            phrase: "self harm".into(),
            field: crate::rules::Field::SearchQuery,
            group: None,
            group_field: None,
        };
        Alert::new(&rule, &found, event, 0)
    }

    fn config(max_entries: usize) -> AlerterConfig {
        AlerterConfig { context_max_entries: max_entries, ..AlerterConfig::default() }
    }

    /// What the alert's context shows: (event id, text, times, marked).
    fn shown(alert: &Alert) -> Vec<(&str, &str, u32, bool)> {
        alert.context.iter().map(|e| (e.event_id.as_str(), e.text.as_str(), e.times, e.alert_event)).collect()
    }

    /// Observes `events`, then attaches context to an alert on the one with
    /// id `on`.
    fn alert_after(context: &mut Context, events: &[Event], on: &str) -> Alert {
        for e in events {
            context.observe(e);
        }
        let mut alerts = vec![alert_on(events.iter().find(|e| e.id == on).unwrap())];
        context.attach(&mut alerts);
        alerts.pop().unwrap()
    }

    /// One question to the index: tenant, who, from, to, limit.
    type Asked = (String, String, DateTime<Utc>, DateTime<Utc>, usize);

    /// The search index as a test sees it: events in memory, answered as
    /// the contract says; and every question asked.
    #[derive(Debug, Default)]
    struct Index {
        events: Vec<Event>,
        fails: bool,
        asked: Mutex<Vec<Asked>>,
    }

    impl ContextSource for Index {
        fn recent(
            &self,
            tenant: &str,
            who: Who<'_>,
            from: DateTime<Utc>,
            to: DateTime<Utc>,
            limit: usize,
        ) -> Result<Vec<Event>, ContextSourceError> {
            self.asked.lock().unwrap().push((tenant.into(), format!("{who:?}"), from, to, limit));
            if self.fails {
                return Err(ContextSourceError { reason: "the index is locked".into() });
            }
            let mut found: Vec<Event> = self
                .events
                .iter()
                .filter(|e| e.tenant.as_str() == tenant && e.timestamp >= from && e.timestamp <= to)
                .filter(|e| match who {
                    Who::User(u) | Who::SignInsOf(u) => {
                        e.user_name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(u))
                    }
                    Who::Address(a) | Who::SignInsFrom(a) => e.source_ip.as_deref() == Some(a),
                })
                .cloned()
                .collect();
            found.sort_by_key(|e| std::cmp::Reverse(e.timestamp));
            found.truncate(limit);
            Ok(found)
        }
    }

    #[test]
    fn values_are_capped_with_an_ellipsis() {
        assert_eq!(capped("short"), "short");
        let exact = "é".repeat(MAX_VALUE_CHARS);
        assert_eq!(capped(&exact), exact);
        let cut = capped(&"é".repeat(MAX_VALUE_CHARS + 1));
        assert_eq!(cut.chars().count(), MAX_VALUE_CHARS);
        assert!(cut.ends_with("é…"));
    }

    #[test]
    fn searches_emails_and_blocked_requests_are_context_and_nothing_else() {
        let s = ContextEntry::of(&search("s", 0, "volcano facts")).unwrap();
        assert_eq!((s.kind, s.text.as_str(), s.blocked), (EntryKind::Search, "volcano facts", false));
        let b = ContextEntry::of(&blocked("b", 0, "adult.example")).unwrap();
        assert_eq!((b.kind, b.text.as_str(), b.blocked), (EntryKind::Request, "adult.example", true));
        assert_eq!(b.category.as_deref(), Some("Adult"));
        let m = ContextEntry::of(&event("m", 0, |e| e.email_subject = Some("Trip letter".into()))).unwrap();
        assert_eq!((m.kind, m.text.as_str()), (EntryKind::Email, "Trip letter"));
        let plain = event("p", 0, |e| e.url_full = Some("https://www.bbc.co.uk/bitesize".into()));
        assert_eq!(ContextEntry::of(&plain), None);
        assert_eq!(ContextEntry::of(&search("blank", 0, "  ")), None);
        // The alert's own event is shown whatever it is: its URL, else its action.
        let own = ContextEntry::of_alert_event(&plain);
        assert_eq!(
            (own.kind, own.text.as_str(), own.alert_event),
            (EntryKind::Request, "https://www.bbc.co.uk/bitesize", true)
        );
        let login = ContextEntry::of_alert_event(&event("l", 0, |e| e.action = "login-failed".into()));
        assert_eq!((login.kind, login.text.as_str()), (EntryKind::Other, "login-failed"));
    }

    #[test]
    fn the_window_is_bounded_per_user_and_in_total_oldest_arrival_first() {
        let mut w = RecentWindow::new(3, 5);
        let user = Who::User("l.evans");
        for i in 0..4 {
            w.push("school-a", user, ContextEntry::of(&search(&format!("a{i}"), i, "q")).unwrap());
        }
        let ids = |w: &RecentWindow, who| {
            w.around("school-a", who, at(-60), at(60)).map(|e| e.event_id.clone()).collect::<Vec<_>>()
        };
        assert_eq!(ids(&w, user), ["a1", "a2", "a3"], "three per user, the first to arrive dropped");
        // Names compare as the index compares them; tenants and kinds of key stay apart.
        assert_eq!(ids(&w, Who::User("L.Evans")), ["a1", "a2", "a3"]);
        assert_eq!(w.around("school-b", user, at(-60), at(60)).count(), 0);
        assert_eq!(ids(&w, Who::Address("l.evans")), Vec::<String>::new());
        for i in 0..3 {
            w.push("school-a", Who::Address("10.0.0.9"), ContextEntry::of(&search(&format!("b{i}"), i, "q")).unwrap());
        }
        assert_eq!(w.len(), 5, "five in all");
        assert_eq!(ids(&w, user), ["a2", "a3"], "the oldest arrival still held made room");
        assert_eq!(ids(&w, Who::Address("10.0.0.9")), ["b0", "b1", "b2"]);
    }

    #[test]
    fn pruning_drops_entries_older_than_the_horizon_whatever_their_arrival() {
        let mut w = RecentWindow::new(10, 10);
        for (id, minute) in [("late", 20), ("early", 1), ("mid", 10)] {
            w.push("school-a", Who::User("u"), ContextEntry::of(&search(id, minute, "q")).unwrap());
        }
        w.prune(at(5));
        let left: Vec<_> = w.around("school-a", Who::User("u"), at(0), at(60)).map(|e| e.event_id.as_str()).collect();
        assert_eq!(left, ["late", "mid"]);
        w.prune(at(30));
        assert!(w.is_empty());
        assert_eq!(w.len(), 0);
        // Room is made for new entries again: the bound counts what is held.
        for i in 0..10 {
            w.push("school-a", Who::User("v"), ContextEntry::of(&search(&format!("n{i}"), 40, "q")).unwrap());
        }
        assert_eq!(w.len(), 10);
    }

    #[test]
    fn context_spans_half_an_hour_before_to_five_minutes_after_including_later_events_of_the_batch() {
        let mut context = Context::new(&config(20));
        let events = [
            search("too-early", -31, "minecraft seeds"),
            search("before", -30, "i feel so alone"),
            blocked("blocked", -10, "pills.example"),
            event("other-user", -5, |e| {
                e.user_name = Some("r.jones".into());
                e.search_query = Some("football".into());
            }),
            event("not-context", -2, |e| e.url_full = Some("https://www.bbc.co.uk/".into())),
            search("match", 0, "how to self harm"),
            search("after", 5, "how to hide cuts"),
            search("too-late", 6, "homework help"),
        ];
        let alert = alert_after(&mut context, &events, "match");
        assert_eq!(
            shown(&alert),
            [
                ("before", "i feel so alone", 1, false),
                ("blocked", "pills.example", 1, false),
                ("match", "how to self harm", 1, true),
                ("after", "how to hide cuts", 1, false),
            ]
        );
        assert_eq!(alert.context_omitted, 0);
        let json: serde_json::Value = serde_json::from_slice(&alert.to_json()).unwrap();
        assert_eq!(json["alert.context"][1]["filter.category"], "Adult");
        assert_eq!(json["alert.context"][2]["alert.event"], true);
        assert_eq!(serde_json::from_slice::<Alert>(&alert.to_json()).unwrap(), alert);
    }

    #[test]
    fn an_unattributed_alert_gets_the_addresss_events() {
        let mut context = Context::new(&config(20));
        let nobody = |e: &mut Event| e.user_name = None;
        let events = [
            event("same-ip", -3, |e| {
                nobody(e);
                e.search_query = Some("earlier".into());
            }),
            event("other-ip", -2, |e| {
                nobody(e);
                e.source_ip = Some("10.0.0.8".into());
                e.search_query = Some("elsewhere".into());
            }),
            search("named-user", -1, "a named pupil's search"),
            event("match", 0, |e| {
                nobody(e);
                e.search_query = Some("how to self harm".into());
            }),
        ];
        let alert = alert_after(&mut context, &events, "match");
        let ids: Vec<_> = alert.context.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["same-ip", "match"]);
    }

    /// A failed sign-in of `user` from `ip` at `minutes`.
    fn failed(id: &str, minutes: i64, user: &str, ip: &str) -> Event {
        event(id, minutes, |e| {
            (e.kind, e.action, e.outcome) = (EventKind::Auth, "login-failed".into(), Outcome::Failure);
            e.user_name = Some(user.into());
            e.source_ip = Some(ip.into());
        })
    }

    /// The alert of a windowed rule grouped by `field` whose match `event`
    /// completed for `group`.
    fn grouped_alert(event: &Event, field: crate::rules::Field, group: &str) -> Alert {
        let rule = crate::rules::testing::rule("brute-force.ssh");
        let found = crate::rules::RuleMatch {
            rule: 0,
            phrase: "3 events".into(),
            field,
            group: Some(group.into()),
            group_field: Some(field),
        };
        Alert::new(&rule, &found, event, 0)
    }

    #[test]
    fn an_address_alert_shows_the_addresss_attempts_whichever_account_and_an_account_alert_the_accounts() {
        let mut context = Context::new(&config(20));
        let events = [
            failed("f1", -3, "root", "203.0.113.77"),
            failed("f2", -2, "admin", "203.0.113.77"),
            failed("elsewhere", -2, "root", "198.51.100.9"),
            search("oracle-search", -2, "not shown"),
            failed("f3", -1, "oracle", "203.0.113.77"),
        ];
        for e in &events {
            context.observe(e);
        }
        let search_by_oracle = Event { user_name: Some("oracle".into()), ..events[3].clone() };
        context.observe(&Event { id: "oracle-search-2".into(), ..search_by_oracle });
        let mut alerts = vec![
            grouped_alert(&events[4], crate::rules::Field::SourceIp, "203.0.113.77"),
            grouped_alert(&events[2], crate::rules::Field::UserName, "root"),
        ];
        context.attach(&mut alerts);
        let texts: Vec<&str> = alerts[0].context.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "login-failed: root from 203.0.113.77",
                "login-failed: admin from 203.0.113.77",
                "login-failed: oracle from 203.0.113.77"
            ],
            "the address's attempts, not oracle's searches"
        );
        assert!(alerts[0].context[2].alert_event && alerts[0].context[2].kind == EntryKind::SignIn);
        let ids: Vec<&str> = alerts[1].context.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["f1", "elsewhere"], "root's attempts from both addresses");
    }

    #[test]
    fn a_pupils_alert_shows_no_sign_ins() {
        let mut context = Context::new(&config(20));
        let events = [failed("f1", -3, "l.evans", "10.0.0.7"), search("match", 0, "how to self harm")];
        let alert = alert_after(&mut context, &events, "match");
        let ids: Vec<&str> = alert.context.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["match"]);
    }

    #[test]
    fn the_index_adds_what_came_before_merged_by_event_id() {
        let history = vec![
            search("restart-1", -20, "i hate my life"),
            search("restart-2", -15, "how many pills"),
            search("both", -4, "seen by both"),
            event("not-context", -3, |e| e.url_full = Some("https://www.bbc.co.uk/".into())),
            search("match", 0, "how to self harm"),
        ];
        let index = Arc::new(Index { events: history, ..Index::default() });
        let mut context = Context::new(&config(20)).with_source(Box::new(Shared(index.clone())));
        let events =
            [search("both", -4, "seen by both"), search("match", 0, "how to self harm"), search("after", 1, "after")];
        let alert = alert_after(&mut context, &events, "match");
        let ids: Vec<_> = alert.context.iter().map(|e| (e.event_id.as_str(), e.alert_event)).collect();
        assert_eq!(
            ids,
            [("restart-1", false), ("restart-2", false), ("both", false), ("match", true), ("after", false)]
        );
        let asked = index.asked.lock().unwrap();
        let user = format!("{:?}", Who::User("l.evans"));
        assert_eq!(
            *asked,
            [
                ("school-a".to_string(), user.clone(), at(-30), at(0), 20 * SCAN_FACTOR),
                ("school-a".to_string(), user, at(0), at(5), 20 * SCAN_FACTOR),
            ],
            "each side of the alert asked for apart"
        );
    }

    #[test]
    fn an_address_s_context_from_the_index_leaves_out_named_users() {
        let history = vec![
            event("named", -3, |e| e.search_query = Some("a named pupil on the address".into())),
            event("unnamed", -2, |e| {
                e.user_name = None;
                e.search_query = Some("unnamed earlier".into());
            }),
        ];
        let mut context =
            Context::new(&config(20)).with_source(Box::new(Index { events: history, ..Index::default() }));
        let matched = event("match", 0, |e| {
            e.user_name = None;
            e.search_query = Some("how to self harm".into());
        });
        let alert = alert_after(&mut context, &[matched], "match");
        assert_eq!(alert.context.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(), ["unnamed", "match"]);
    }

    #[test]
    fn a_failing_index_leaves_the_window_s_context() {
        let index = Index { events: vec![search("old", -20, "old")], fails: true, ..Index::default() };
        let mut context = Context::new(&config(20)).with_source(Box::new(index));
        let events = [search("recent", -1, "recent"), search("match", 0, "how to self harm")];
        let alert = alert_after(&mut context, &events, "match");
        assert_eq!(alert.context.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(), ["recent", "match"]);
    }

    #[test]
    fn repeats_are_shown_once_and_the_nearest_entries_are_kept() {
        let mut context = Context::new(&config(3));
        let mut events: Vec<Event> = (0..12).map(|i| blocked(&format!("ad{i}"), -20 + i, "ads.example")).collect();
        events.extend([
            search("far", -29, "far away"),
            search("near", -2, "near"),
            search("nearer", -1, "nearer"),
            search("match", 0, "how to self harm"),
        ]);
        let alert = alert_after(&mut context, &events, "match");
        assert_eq!(
            shown(&alert),
            [
                ("ad0", "ads.example", 12, false),
                ("near", "near", 1, false),
                ("nearer", "nearer", 1, false),
                ("match", "how to self harm", 1, true),
            ],
            "twelve blocked adverts are one entry; the furthest search is left out"
        );
        assert_eq!(alert.context_omitted, 1);
        let none = alert_after(&mut Context::new(&config(0)), &events, "match");
        assert_eq!(shown(&none), [("match", "how to self harm", 1, true)]);
    }

    #[test]
    fn the_window_forgets_what_no_later_alert_can_show() {
        let mut context = Context::new(&config(20));
        for e in [search("old", 0, "old"), search("new", 36, "new")] {
            context.observe(&e);
        }
        context.attach(&mut []);
        let kept: Vec<_> = context.window.around("school-a", Who::User("l.evans"), at(-60), at(60)).collect();
        assert_eq!(
            kept.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(),
            ["new"],
            "older than 35 minutes before the newest"
        );
        // A bogus time in the future does not make the present look old.
        let live = |id: &str, at: DateTime<Utc>| Event { timestamp: at, ..search(id, 0, "q") };
        context.observe(&live("now", Utc::now() - Duration::minutes(1)));
        context.observe(&live("future", Utc::now() + Duration::days(365)));
        context.attach(&mut []);
        assert!(context
            .window
            .around("school-a", Who::User("l.evans"), Utc::now() - Duration::hours(1), Utc::now())
            .any(|e| e.event_id == "now"));
    }

    /// An [`Index`] the test keeps a handle on.
    #[derive(Debug)]
    struct Shared(Arc<Index>);

    impl ContextSource for Shared {
        fn recent(
            &self,
            tenant: &str,
            who: Who<'_>,
            from: DateTime<Utc>,
            to: DateTime<Utc>,
            limit: usize,
        ) -> Result<Vec<Event>, ContextSourceError> {
            self.0.recent(tenant, who, from, to, limit)
        }
    }
}
