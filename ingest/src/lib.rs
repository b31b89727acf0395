//! Vigil's ingest side: read log lines from sources, parse them into
//! [`vigil_core::Event`]s and hand them to the transport; lines no parser
//! accepts go to the dead-letter topic. A source's position is checkpointed
//! only after the transport has made everything read before it durable.
#![deny(missing_docs)]

pub mod acks;
pub mod checkpoint;
pub mod lines;
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
    /// A source failed.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// The parser-backed line processor for one configured source.
pub fn processor_for(config: &Config, source: &SourceConfig) -> Result<pipeline::LineProcessor, IngestError> {
    let parser = parse::by_name(&source.format, &config.ingest).ok_or_else(|| IngestError::UnknownFormat {
        source_name: source.name.clone(),
        format: source.format.clone(),
        known: parse::FORMATS.join(", "),
    })?;
    Ok(pipeline::LineProcessor::new(parser, config.source_tenant(source), &source.name, config.ingest.max_line_bytes))
}

/// A maker of fresh processors for a configured source (one per file it
/// reads), checked once here.
pub fn processor_factory(config: &Config, source: &SourceConfig) -> Result<source::NewProcessor, IngestError> {
    processor_for(config, source)?;
    let (ingest, source) = (config.ingest.clone(), source.clone());
    let tenant = config.source_tenant(&source).to_string();
    Ok(Arc::new(move || {
        let parser = parse::by_name(&source.format, &ingest).expect("the format was checked when the source started");
        pipeline::LineProcessor::new(parser, &tenant, &source.name, ingest.max_line_bytes)
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
/// shutdown says stop. `handed_over` fires once every source has handed all
/// its input to the transport, before waiting for deliveries: with the
/// embedded transport, the caller then lets the consumers drain. Returns the
/// per-source summaries in configuration order.
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
    let processors = config.sources.iter().map(|s| processor_factory(config, s)).collect::<Result<Vec<_>, _>>()?;
    let store = Arc::new(checkpoint::CheckpointStore::open(&config.data_dir)?);
    let hand_over =
        Arc::new(HandOver { remaining: AtomicUsize::new(config.sources.len()), signal: Mutex::new(handed_over) });
    let mut tasks = Vec::new();
    for (source, processor) in config.sources.iter().zip(processors) {
        let producer = producer.clone();
        let shutdown = shutdown.clone();
        let hand_over = hand_over.clone();
        let done = move || hand_over.source_done();
        let max_line_bytes = config.ingest.max_line_bytes;
        let task = match source.source_type {
            SourceType::Stdin => tokio::spawn(source::run_stdin(processor(), producer, max_line_bytes, shutdown, done)),
            SourceType::File => {
                let file = FileSource::new(
                    &source.name,
                    source.path.as_deref().expect("validated: file sources have a path"),
                    source.start_at,
                    max_line_bytes,
                    Duration::from_millis(config.ingest.poll_interval_ms),
                );
                let store = store.clone();
                tokio::spawn(async move { file.run(processor, producer, store, mode, shutdown, done).await })
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
                first_error.get_or_insert(IngestError::Source(e));
            }
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(summaries),
    }
}
