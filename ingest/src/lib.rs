//! Vigil's ingest side: read log lines from sources, parse them into
//! [`vigil_core::Event`]s and hand them to the transport; lines no parser
//! accepts go to the dead-letter topic. A source's position is checkpointed
//! only after the transport has made everything read before it durable.
#![deny(missing_docs)]

pub mod checkpoint;
pub mod enrich;
pub mod lines;
pub mod net;
pub mod outbox;
pub mod parse;
pub mod pipeline;
pub mod source;

use source::{FileSource, ReadMode, SourceError, SourceSummary};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thiserror::Error;
use tokio::sync::oneshot;
use vigil_core::config::{SourceConfig, SourceType};
use vigil_core::shutdown::Shutdown;
use vigil_core::transport::Producer;
use vigil_core::Config;

/// Why ingest could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The configuration names no sources.
    #[error("the configuration has no [[sources]]; add at least one log file or stdin")]
    NoSources,
    /// A source names a format no parser has.
    #[error("source {source_name:?} has format {format:?}, which Vigil does not know; known formats: {known}")]
    UnknownFormat {
        /// The source.
        source_name: String,
        /// The configured format.
        format: String,
        /// The known format names, comma-separated.
        known: String,
    },
    /// The checkpoint file could not be opened.
    #[error(transparent)]
    Checkpoint(#[from] checkpoint::CheckpointError),
    /// Enrichment could not start (user directory, lease table).
    #[error(transparent)]
    Enrich(#[from] enrich::EnrichError),
    /// A source failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A network (syslog) source failed.
    #[error(transparent)]
    Net(#[from] net::NetError),
}

/// The parser-backed line processor of one configured source, for events
/// of `tenant` (the source's, or a syslog sender's). A syslog source's
/// format is read inside the syslog header (`syslog+FORMAT`, see
/// [`parse::SyslogUnwrap`]).
pub fn processor_with_tenant(
    config: &Config,
    source: &SourceConfig,
    tenant: &str,
) -> Result<pipeline::LineProcessor, IngestError> {
    let format = match source.source_type {
        SourceType::Syslog if !source.format.starts_with(parse::SYSLOG_PREFIX) => {
            format!("{}{}", parse::SYSLOG_PREFIX, source.format)
        }
        _ => source.format.clone(),
    };
    let parser = parse::by_name(&format, &config.ingest).ok_or_else(|| IngestError::UnknownFormat {
        source_name: source.name.clone(),
        format,
        known: format!("{}, and syslog+ before any but auto", parse::FORMATS.join(", ")),
    })?;
    Ok(pipeline::LineProcessor::new(parser, tenant, &source.name, config.ingest.max_line_bytes))
}

/// How often enrichment upkeep (directory reload check, lease table save)
/// runs; each has its own, longer, configured interval.
const ENRICH_UPKEEP_EVERY: Duration = Duration::from_secs(1);

/// Runs [`enrich::Enricher::maintain`] every [`ENRICH_UPKEEP_EVERY`] on the
/// blocking pool (it reads and writes files) until aborted.
fn spawn_enrich_upkeep(enricher: Arc<enrich::Enricher>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(ENRICH_UPKEEP_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let enricher = enricher.clone();
            let _ = tokio::task::spawn_blocking(move || enricher.maintain(std::time::Instant::now())).await;
        }
    })
}

/// Makes a fresh, enriching processor of a configured source for events of
/// a tenant: one per file a glob matches, one per syslog sender.
pub type ProcessorMaker = Arc<dyn Fn(&str) -> pipeline::LineProcessor + Send + Sync>;

/// The [`ProcessorMaker`] of `source`, its format checked once here.
pub fn processor_maker(
    config: &Config,
    source: &SourceConfig,
    enricher: Arc<enrich::Enricher>,
) -> Result<ProcessorMaker, IngestError> {
    processor_with_tenant(config, source, config.source_tenant(source))?;
    let (config, source) = (config.clone(), source.clone());
    Ok(Arc::new(move |tenant| {
        processor_with_tenant(&config, &source, tenant)
            .expect("the format was checked when the source started")
            .with_enricher(enricher.clone())
    }))
}

/// Counts down the sources still reading; fires `handed_over` at zero.
struct HandOver {
    remaining: AtomicUsize,
    signal: Mutex<Option<oneshot::Sender<()>>>,
}

impl HandOver {
    fn source_done(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            if let Some(tx) = self.signal.lock().expect("hand-over lock").take() {
                let _ = tx.send(());
            }
        }
    }
}

/// Runs every configured source until each has ended (`ReadMode::ToEnd`) or
/// shutdown says stop. Network (syslog) sources have no end: with
/// `ReadMode::ToEnd` they are skipped (not even bound), and otherwise run
/// until shutdown drains or stops them. `handed_over` fires once every
/// source has handed all its input to the transport, before waiting for
/// deliveries: with the embedded transport, the caller then lets the
/// consumers drain. Returns the per-source summaries in configuration order.
pub async fn run(
    config: &Config,
    producer: Arc<dyn Producer>,
    mode: ReadMode,
    shutdown: Shutdown,
    handed_over: Option<oneshot::Sender<()>>,
) -> Result<Vec<(String, SourceSummary)>, IngestError> {
    if config.sources.is_empty() {
        return Err(IngestError::NoSources);
    }
    let enricher = Arc::new(enrich::Enricher::new(&config.enrich, &config.data_dir)?);
    let makers =
        config.sources.iter().map(|s| processor_maker(config, s, enricher.clone())).collect::<Result<Vec<_>, _>>()?;
    let upkeep = spawn_enrich_upkeep(enricher.clone());
    let listeners = bind_network_sources(config, mode).await?;
    let store = Arc::new(checkpoint::CheckpointStore::open(&config.data_dir)?);
    let hand_over =
        Arc::new(HandOver { remaining: AtomicUsize::new(config.sources.len()), signal: Mutex::new(handed_over) });
    let teaching = lease_teachers(config).await;
    let lease_gate = lease_gate(config, &teaching);
    let mut tasks: Vec<(String, tokio::task::JoinHandle<Result<SourceSummary, IngestError>>)> = Vec::new();
    for (((source, make_processor), listener), teaches) in
        config.sources.iter().zip(makers).zip(listeners).zip(teaching)
    {
        let producer = producer.clone();
        let shutdown = shutdown.clone();
        let hand_over = hand_over.clone();
        let done = move || hand_over.source_done();
        let max_line_bytes = config.ingest.max_line_bytes;
        let task = match source.source_type {
            SourceType::Stdin => {
                let processor = make_processor(config.source_tenant(source));
                tokio::spawn(async move {
                    Ok(source::run_stdin(processor, producer, max_line_bytes, shutdown, done).await?)
                })
            }
            SourceType::Syslog => match listener {
                Some(listener) => {
                    let new_processor: net::NewProcessor = Box::new(move |tenant| make_processor(tenant));
                    tokio::spawn(async move { Ok(listener.run(new_processor, producer, shutdown, done).await?) })
                }
                None => {
                    tracing::warn!(source = %source.name, "network sources are not read with --once; skipped");
                    done();
                    tokio::spawn(async { Ok(SourceSummary::default()) })
                }
            },
            SourceType::File => {
                let mut file = FileSource::new(
                    &source.name,
                    source.path.as_deref().expect("validated: file sources have a path"),
                    source.start_at,
                    max_line_bytes,
                    Duration::from_millis(config.ingest.poll_interval_ms),
                );
                if let Some(gate) = &lease_gate {
                    let slot = if teaches { &mut file.reports_to } else { &mut file.waits_for };
                    *slot = Some(gate.clone());
                }
                let store = store.clone();
                let tenant = config.source_tenant(source).to_string();
                let new_processor: source::NewProcessor = Arc::new(move || make_processor(&tenant));
                tokio::spawn(async move { Ok(file.run(new_processor, producer, store, mode, shutdown, done).await?) })
            }
        };
        tasks.push((source.name.clone(), task));
    }
    let mut summaries = Vec::new();
    let mut first_error = None;
    for (name, task) in tasks {
        match task.await {
            Ok(Ok(summary)) => {
                tracing::info!(source = %name, lines = summary.lines, events = summary.events, dead_letters = summary.dead_letters, "source finished");
                summaries.push((name, summary));
            }
            Ok(Err(e)) => {
                tracing::error!(source = %name, error = %e, "source failed");
                first_error.get_or_insert(e);
            }
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
    upkeep.abort();
    // The lease table is a cache of what the logs said: failing to save it
    // costs attribution after a restart, not events, so it is reported only.
    if let Err(e) = tokio::task::spawn_blocking(move || enricher.save()).await.expect("saving does not panic") {
        tracing::error!(error = %e, "lease table not saved at shutdown");
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(summaries),
    }
}

/// For each source, whether it is a file source whose events teach the
/// lease table: by its format, or for `auto`, by what the start of its first
/// file is (see [`source::sniff_format`]).
async fn lease_teachers(config: &Config) -> Vec<bool> {
    let mut teaching = Vec::with_capacity(config.sources.len());
    for source in &config.sources {
        let teaches = match (source.source_type, source.path.as_deref()) {
            (SourceType::File, Some(path)) if config.enrich.leases && source.format == "auto" => {
                let sniffed = source::sniff_format(path, &config.ingest).await.filter(|f| enrich::teaches_leases(f));
                if let Some(format) = sniffed {
                    tracing::info!(source = %source.name, format, "this auto source is a lease log: it is read ahead of the other file sources");
                }
                sniffed.is_some()
            }
            (SourceType::File, _) => enrich::teaches_leases(&source.format),
            _ => false,
        };
        teaching.push(teaches);
    }
    teaching
}

/// When leases are learnt and some file sources teach them (`teaching`,
/// aligned with `config.sources`) while others do not: the gate the others
/// wait at (see [`source::CatchUpGate`]).
fn lease_gate(config: &Config, teaching: &[bool]) -> Option<Arc<source::CatchUpGate>> {
    let files = config.sources.iter().filter(|s| s.source_type == SourceType::File).count();
    let teachers = teaching.iter().filter(|teaches| **teaches).count();
    (config.enrich.leases && teachers > 0 && files > teachers).then(|| source::CatchUpGate::new(teachers))
}

/// Binds every syslog source's address before any source starts, so a busy
/// port or a bad `senders` table fails `run` at once. With
/// `ReadMode::ToEnd` nothing is bound: network sources are skipped. The
/// result is aligned with `config.sources`.
async fn bind_network_sources(config: &Config, mode: ReadMode) -> Result<Vec<Option<net::BoundSyslog>>, IngestError> {
    let mut bound = Vec::with_capacity(config.sources.len());
    for source in &config.sources {
        let listener = match source.source_type {
            SourceType::Syslog if mode == ReadMode::Follow => {
                let tenant = config.source_tenant(source);
                Some(net::SyslogSource::from_config(source, tenant, config.ingest.max_line_bytes)?.bind().await?)
            }
            _ => None,
        };
        bound.push(listener);
    }
    Ok(bound)
}
