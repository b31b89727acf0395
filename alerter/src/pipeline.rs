//! The alerter's loop: consume events, match rules, throttle, record in the
//! alert store (when the binary gave one, [`Alerter::with_sink`]), email (then
//! remember the alert id), publish, save the throttle state (and, at most
//! every two seconds, the windowed rules' state), commit — in that
//! order, so that after a crash at any point a restart neither loses an alert
//! nor emails one twice. A crash after saving the throttle state but before
//! committing replays the batch: the events that raised alerts are recognised
//! ([`Decision::Replayed`]); throttled ones are counted twice in the next
//! alert's `alert.suppressed`. Windowed rules recognise the replayed events
//! by id and count them once.
//!
//! If an email cannot be delivered after its retries, the alerter stops with
//! [`AlerterError::Notify`] without committing the batch: the process exits
//! non-zero with the reason, and on restart the batch is read again and the
//! unsent alert (only that one; sent ones are remembered) is emailed. With
//! the embedded transport, uncommitted events also hold back the sources,
//! so nothing is checkpointed past an alert that was never delivered.
//!
//! Rules that time completes rather than an event (a log source silent too
//! long) are asked at most every [`TICK_EVERY`], once the alerter has caught
//! up with the events (so that a backlog read after a restart is not taken
//! for silence), by the same [`Clock`] as quiet hours; their alerts go the
//! same way, and the rules' state is saved at once.
//!
//! Alerts are routed as they are raised and handed to the [`Postbox`]:
//! emailed at once, held over quiet hours, or kept for a digest. Between
//! polls the postbox sends what has come due; at the end of a `--once` run
//! ([`Phase::Drain`]) it sends everything still waiting.

use crate::alert::Alert;
use crate::clock::Clock;
use crate::context::{Context, ContextSource};
use crate::error::AlerterError;
use crate::notifier::RetryPolicy;
use crate::postbox::Postbox;
use crate::routing;
use crate::rules::{RuleMatch, RuleSet};
use crate::sink::AlertSink;
use crate::state::StateStore;
use crate::throttle::{keep_for, Decision, Throttle, ThrottleKey};
use chrono::{DateTime, Utc};
use std::time::{Duration, Instant};
use vigil_core::config::EscalationConfig;
use vigil_core::metrics::{ALERTS, ALERTS_THROTTLED, CONSUMER_LAG};
use vigil_core::shutdown::{Phase, Shutdown};
use vigil_core::transport::{advance, Consumer, Positions, Producer, Record, Topic, Transport, ALERTER_GROUP};
use vigil_core::{Config, Event};

/// The windowed rules' state is saved (and the batches it counts committed)
/// at most this often: under a flood of failed sign-ins from many addresses
/// it is megabytes, too much to write after every batch.
const WINDOWS_SAVE_EVERY: Duration = Duration::from_secs(2);

/// The rules the clock completes are asked at most this often.
pub const TICK_EVERY: Duration = Duration::from_secs(30);
/// How often the alert store is asked for alerts to escalate.
const ESCALATION_CHECK_EVERY: Duration = Duration::from_secs(1);
/// At most this many alerts are escalated per check.
const ESCALATION_BATCH: usize = 100;

/// Records taken per poll.
const MAX_BATCH: usize = 500;
/// How long one poll waits for records; also how quickly a shutdown request
/// is noticed while idle.
const POLL_TIMEOUT: Duration = Duration::from_millis(250);

/// The alerter: rules, throttle state, alert context, and the postbox.
#[derive(Debug)]
pub struct Alerter {
    rules: RuleSet,
    context: Context,
    throttle: Throttle,
    store: StateStore,
    postbox: Postbox,
    sink: Option<Box<dyn AlertSink>>,
    escalation: Option<EscalationConfig>,
    escalation_checked: Option<Instant>,
    sent_retention: chrono::Duration,
    /// Positions handled but not yet committed (see [`Alerter::commit`]).
    pending: Positions,
    /// When the windowed rules' state was last saved.
    windows_saved: Instant,
    /// The newest event time handled.
    newest: Option<DateTime<Utc>>,
    /// The wall clock the rules' tick reads.
    clock: Clock,
    /// When the rules were last ticked.
    ticked: Option<Instant>,
}

impl Alerter {
    /// An alerter for `config`, with its state loaded from
    /// `<data_dir>/alerter/`.
    pub fn new(config: &Config) -> Result<Alerter, AlerterError> {
        let mut rules = RuleSet::from_config(&config.alerter)?;
        routing::check_routes(&config.alerter.routes, rules.rules())?;
        let store = StateStore::new(&config.data_dir.join("alerter"));
        rules.restore(store.load_windows()?);
        let postbox = Postbox::new(config, store.clone())?;
        let mut throttle = Throttle::new(config.alerter.throttle_secs);
        throttle.restore(store.load_throttle()?);
        let window = chrono::Duration::try_seconds(i64::try_from(config.alerter.throttle_secs).unwrap_or(i64::MAX))
            .unwrap_or(chrono::Duration::MAX);
        let sent_retention = keep_for(window);
        tracing::info!(
            rules = rules.rules().len(),
            throttled_pairs = throttle.len(),
            remembered_alerts = postbox.remembered(),
            "alerter ready"
        );
        let context = Context::new(&config.alerter);
        Ok(Alerter {
            rules,
            context,
            throttle,
            store,
            postbox,
            sink: None,
            escalation: config.alerter.escalation.clone(),
            escalation_checked: None,
            sent_retention,
            pending: Positions::new(),
            windows_saved: Instant::now(),
            newest: None,
            clock: Clock::system(),
            ticked: None,
        })
    }

    /// The same alerter retrying failed emails as `retry` says.
    pub fn with_retry(self, retry: RetryPolicy) -> Alerter {
        Alerter { postbox: self.postbox.with_retry(retry), ..self }
    }

    /// The same alerter deciding quiet hours, digest periods and silent
    /// sources by `clock`.
    pub fn with_clock(self, clock: Clock) -> Alerter {
        Alerter { postbox: self.postbox.with_clock(clock.clone()), clock, ..self }
    }

    /// The same alerter also reading alert context from `source` (the
    /// search index), not only from the events it has consumed itself.
    pub fn with_context_source(self, source: Box<dyn ContextSource>) -> Alerter {
        Alerter { context: self.context.with_source(source), ..self }
    }

    /// The same alerter recording every alert it raises in `sink` (the
    /// alert store the console reads) before emailing it.
    pub fn with_sink(self, sink: Box<dyn AlertSink>) -> Alerter {
        Alerter { sink: Some(sink), ..self }
    }

    /// Consumes `Topic::Events` as group [`ALERTER_GROUP`] until `shutdown`
    /// says to stop ([`Phase::Stop`]: after the current batch) or, in
    /// [`Phase::Drain`], until no events are left.
    pub async fn run(mut self, transport: &dyn Transport, shutdown: Shutdown) -> Result<(), AlerterError> {
        let mut consumer = transport.consumer(Topic::Events, ALERTER_GROUP).await?;
        let producer = transport.producer();
        loop {
            if shutdown.phase() == Phase::Stop {
                return self.commit(consumer.as_mut(), true).await;
            }
            self.postbox.release_due().await?;
            self.escalate_due().await?;
            let records = consumer.poll(MAX_BATCH, POLL_TIMEOUT).await?;
            let phase = shutdown.phase();
            if records.is_empty() {
                self.commit(consumer.as_mut(), true).await?;
            } else {
                let positions = self.process(&records, producer.as_ref()).await?;
                self.pending.extend(positions);
                self.commit(consumer.as_mut(), false).await?;
            }
            let lag = consumer.lag().await?;
            if let Some(lag) = lag {
                CONSUMER_LAG.with_label_values(&[ALERTER_GROUP]).set(i64::try_from(lag).unwrap_or(i64::MAX));
            }
            let caught_up = records.is_empty() || lag == Some(0);
            if caught_up && self.ticked.is_none_or(|t| t.elapsed() >= TICK_EVERY) {
                self.tick(producer.as_ref()).await?;
            }
            if records.is_empty() && phase == Phase::Drain && lag == Some(0) {
                return self.postbox.release_all().await;
            }
        }
    }

    /// Commits the positions of the batches handled since the last commit,
    /// once the windowed rules' state that counts their events is saved:
    /// at most every [`WINDOWS_SAVE_EVERY`], or now when `now_anyway` (idle,
    /// stopping). Until then a crash replays those batches, and the saved
    /// state, which does not hold their events, counts them again.
    async fn commit(&mut self, consumer: &mut dyn Consumer, now_anyway: bool) -> Result<(), AlerterError> {
        if self.pending.is_empty() || !(now_anyway || self.windows_saved.elapsed() >= WINDOWS_SAVE_EVERY) {
            return Ok(());
        }
        let state = self.newest.and_then(|newest| self.rules.checkpoint(newest.min(Utc::now())));
        if let Some(windows) = state {
            self.store.save_windows(&windows)?;
        }
        self.windows_saved = Instant::now();
        consumer.commit(&self.pending).await?;
        self.pending.clear();
        Ok(())
    }

    /// Handles one batch; returns the positions to commit.
    async fn process(&mut self, records: &[Record], producer: &dyn Producer) -> Result<Positions, AlerterError> {
        let mut positions = Positions::new();
        let mut alerts = Vec::new();
        let mut newest: Option<DateTime<Utc>> = None;
        for record in records {
            advance(&mut positions, record);
            match Event::from_json(&record.payload) {
                Ok(event) => {
                    newest = newest.max(Some(event.timestamp));
                    self.context.observe(&event);
                    for alert in self.evaluate(&event) {
                        alerts.push(self.postbox.route(alert, &event));
                    }
                }
                Err(error) => tracing::warn!(
                    partition = record.partition,
                    offset = record.offset,
                    %error,
                    "skipping a record on the events topic that is not a valid event"
                ),
            }
        }
        self.deliver(alerts, producer).await?;
        self.newest = self.newest.max(newest);
        self.checkpoint(newest)?;
        Ok(positions)
    }

    /// Asks the rules what the wall clock completes, delivers their alerts,
    /// and saves the rules' and the throttle's state.
    async fn tick(&mut self, producer: &dyn Producer) -> Result<(), AlerterError> {
        self.ticked = Some(Instant::now());
        let now = self.clock.now();
        let timed = self.rules.tick(now);
        if timed.is_empty() {
            return Ok(());
        }
        let mut alerts = Vec::new();
        for timed in &timed {
            if let Some(alert) = self.raise(&timed.found, &timed.event) {
                alerts.push(self.postbox.route(alert, &timed.event));
            }
        }
        self.deliver(alerts, producer).await?;
        if let Some(windows) = self.rules.checkpoint(self.newest.unwrap_or(now).min(now)) {
            self.store.save_windows(&windows)?;
        }
        self.checkpoint(None)
    }

    /// Attaches the context to routed `alerts`, emails (or holds) them and
    /// publishes them to the alerts topic.
    async fn deliver(&mut self, mut alerts: Vec<Alert>, producer: &dyn Producer) -> Result<(), AlerterError> {
        self.context.attach(&mut alerts);
        let mut deliveries = Vec::with_capacity(alerts.len());
        for alert in &alerts {
            if let Some(sink) = &self.sink {
                sink.record(alert)?;
            }
            self.postbox.dispatch(alert).await?;
            deliveries.push(producer.send(Topic::Alerts, alert.partition_key().as_bytes(), alert.to_json()).await?);
        }
        for delivery in deliveries {
            delivery.await?;
        }
        Ok(())
    }

    /// Emails again, to the escalation lists, the alerts the sink (the alert
    /// store) says nobody acknowledged in `[alerter.escalation] after_secs`
    /// since they were recorded, and has the sink remember each; at most
    /// every [`ESCALATION_CHECK_EVERY`]. The clock is the store's, so it
    /// survives restarts.
    async fn escalate_due(&mut self) -> Result<(), AlerterError> {
        if self.escalation_checked.is_some_and(|t| t.elapsed() < ESCALATION_CHECK_EVERY) {
            return Ok(());
        }
        self.escalation_checked = Some(Instant::now());
        let (Some(escalation), Some(sink)) = (&self.escalation, &self.sink) else { return Ok(()) };
        let waited = Duration::from_secs(escalation.after_secs);
        let now = Utc::now();
        let before = now - chrono::Duration::from_std(waited).unwrap_or(chrono::Duration::MAX);
        for alert in sink.overdue(before, escalation.min_severity, ESCALATION_BATCH)? {
            if self.postbox.escalate(&alert, &escalation.to, waited).await? {
                tracing::info!(alert = %alert.id, "alert escalated: nobody acknowledged it in time");
            }
            sink.escalated(&alert.id, now)?;
        }
        Ok(())
    }

    /// The alerts `event` raises after throttling.
    fn evaluate(&mut self, event: &Event) -> Vec<Alert> {
        let found = self.rules.evaluate(event);
        found.iter().filter_map(|found| self.raise(found, event)).collect()
    }

    /// The alert `found` in `event` raises, unless throttled or replayed.
    fn raise(&mut self, found: &RuleMatch, event: &Event) -> Option<Alert> {
        let rule = &self.rules.rules()[found.rule];
        let who = found.group.as_deref().or(event.user_name.as_deref()).or(event.source_ip.as_deref()).unwrap_or("");
        let key = ThrottleKey { rule: rule.id.clone(), tenant: event.tenant.to_string(), who: who.to_string() };
        match self.throttle.observe(key, &event.id, event.timestamp) {
            Decision::Alert { suppressed } => {
                let alert = Alert::new(rule, found, event, suppressed);
                ALERTS.with_label_values(&[alert.category.as_str(), alert.severity.as_str()]).inc();
                tracing::info!(alert = %alert.id, rule = %rule.id, severity = alert.severity.as_str(), "alert raised");
                tracing::debug!(alert = %alert.id, user = ?event.user_name, ip = ?event.source_ip, "alert subject");
                Some(alert)
            }
            Decision::Suppress => {
                ALERTS_THROTTLED.with_label_values(&[rule.id.as_str()]).inc();
                None
            }
            Decision::Replayed => {
                tracing::debug!(rule = %rule.id, event = %event.id, "event already alerted on");
                None
            }
        }
    }

    /// Saves the throttle state, pruning old entries. The pruning clock is the newest event
    /// time, but never later than now (a bogus future timestamp must not
    /// wipe the state).
    fn checkpoint(&mut self, newest: Option<DateTime<Utc>>) -> Result<(), AlerterError> {
        let now = newest.map(|newest| newest.min(Utc::now()));
        if let Some(now) = now {
            self.throttle.prune(now);
            self.postbox.prune(now, self.sent_retention);
        }
        self.store.save_throttle(&self.throttle.entries())?;
        Ok(())
    }
}
