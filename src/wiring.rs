//! Wiring components to a transport: `run` (all in one process) and the
//! single-component commands `ingest`, `index` and `alert` (over Kafka), and
//! `serve` (the console).

use crate::alert_store::StoreSink;
use crate::context_index::IndexContext;
use anyhow::{bail, Context};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use vigil_core::shutdown::{self, Phase, Shutdown, ShutdownTrigger};
use vigil_core::transport::embedded::EmbeddedTransport;
use vigil_core::transport::kafka::KafkaTransport;
use vigil_core::transport::{Topic, Transport, ALERTER_GROUP, INDEXER_GROUP};
use vigil_core::Config;
use vigil_ingest::source::ReadMode;
use vigil_store::Store;

/// Uncommitted records the embedded transport holds per topic, in multiples
/// of `indexer.commit_max_docs`: the indexer commits only once that many are
/// waiting (or its interval passes), so a smaller buffer would make every
/// backfill wait for the interval; two batches let ingest run ahead by one.
const EMBEDDED_CAPACITY_BATCHES: usize = 2;
/// How long a finished ingest waits for the producer's buffer to drain.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

/// A running component's outcome, tagged with its name.
type Outcome = (&'static str, anyhow::Result<()>);

/// `vigil run`: every component in one process; the console too when
/// `[console]` is configured (not for a `--once` backfill).
pub async fn run_all(config: &Config, once: bool) -> anyhow::Result<()> {
    let config = Arc::new(config.clone());
    let store = open_store(&config)?;
    let transport: Arc<dyn Transport> = match &config.kafka {
        Some(_) => kafka(&config).await?,
        None => {
            let groups = [(Topic::Events, INDEXER_GROUP), (Topic::Events, ALERTER_GROUP)];
            let capacity = config.indexer.commit_max_docs.saturating_mul(EMBEDDED_CAPACITY_BATCHES);
            let transport = EmbeddedTransport::open(&config.data_dir, capacity, &groups)
                .with_context(|| format!("cannot prepare the data folder {}", config.data_dir.display()))?;
            tracing::info!(
                dead_letters = %config.data_dir.join("deadletter.jsonl").display(),
                "embedded transport: all components in this process"
            );
            Arc::new(transport)
        }
    };
    start_metrics(&config).await?;

    let (sources_trigger, sources_shutdown) = shutdown::channel();
    let (consumers_trigger, consumers_shutdown) = shutdown::channel();
    let triggers = vec![Arc::new(sources_trigger), Arc::new(consumers_trigger)];
    let stop_all = triggers.clone();
    tokio::spawn(crate::signals::stop_on_signal(triggers.clone()));

    let mut tasks = JoinSet::new();
    spawn_named(&mut tasks, "indexer", indexer(config.clone(), transport.clone(), consumers_shutdown.clone()));
    if let (Some(store), false) = (&store, once) {
        let (config, store, shutdown) = (config.clone(), store.clone(), consumers_shutdown.clone());
        spawn_named(&mut tasks, "console", async move { crate::console_cmd::serve(&config, store, shutdown).await });
    }
    spawn_named(&mut tasks, "alerter", alerter(config.clone(), transport.clone(), store, consumers_shutdown));
    let (handed_over_tx, handed_over_rx) = tokio::sync::oneshot::channel();
    let mode = if once { ReadMode::ToEnd } else { ReadMode::Follow };
    spawn_named(
        &mut tasks,
        "ingest",
        ingest(config.clone(), transport.clone(), mode, sources_shutdown, Some(handed_over_tx)),
    );
    if once {
        // Once every line is handed over (and, for Kafka, on the brokers),
        // the consumers read to the end of the topic and stop.
        let drain = triggers[1].clone();
        let producer = transport.producer();
        spawn_named(&mut tasks, "drain", async move {
            if handed_over_rx.await.is_ok() {
                producer.flush(FLUSH_TIMEOUT).await.context("cannot flush events to the transport")?;
                drain.set(Phase::Drain);
            }
            Ok(())
        });
    }
    supervise(tasks, &stop_all).await
}

/// `vigil ingest`: sources to Kafka.
pub async fn run_ingest(config: &Config, once: bool) -> anyhow::Result<()> {
    let config = Arc::new(config.clone());
    let transport = require_kafka(&config, "vigil ingest").await?;
    start_metrics(&config).await?;
    let (trigger, shutdown) = shutdown::channel();
    let triggers = vec![Arc::new(trigger)];
    tokio::spawn(crate::signals::stop_on_signal(triggers.clone()));
    let mode = if once { ReadMode::ToEnd } else { ReadMode::Follow };
    let mut tasks = JoinSet::new();
    spawn_named(&mut tasks, "ingest", ingest(config, transport, mode, shutdown, None));
    supervise(tasks, &triggers).await
}

/// `vigil index`: Kafka to the search index.
pub async fn run_indexer(config: &Config) -> anyhow::Result<()> {
    run_consumer(config, "vigil index", indexer, "indexer").await
}

/// `vigil alert`: Kafka to alert emails (and the alert store).
pub async fn run_alerter(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config)?;
    run_consumer(config, "vigil alert", |c, t, s| alerter(c, t, store, s), "alerter").await
}

/// `vigil serve`: the console alone.
pub async fn run_console(config: &Config) -> anyhow::Result<()> {
    let store =
        open_store(config)?.context("vigil serve needs a [console] section in the configuration (see README)")?;
    start_metrics(config).await?;
    let (trigger, shutdown) = shutdown::channel();
    let triggers = vec![Arc::new(trigger)];
    tokio::spawn(crate::signals::stop_on_signal(triggers.clone()));
    let config = Arc::new(config.clone());
    let mut tasks = JoinSet::new();
    spawn_named(&mut tasks, "console", async move { crate::console_cmd::serve(&config, store, shutdown).await });
    supervise(tasks, &triggers).await
}

/// The alert store, when `[console]` is configured.
fn open_store(config: &Config) -> anyhow::Result<Option<Store>> {
    config.store_path().map(|path| Store::open(&path)).transpose().context("cannot start")
}

async fn run_consumer<F, Fut>(config: &Config, command: &str, component: F, name: &'static str) -> anyhow::Result<()>
where
    F: FnOnce(Arc<Config>, Arc<dyn Transport>, Shutdown) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let config = Arc::new(config.clone());
    let transport = require_kafka(&config, command).await?;
    start_metrics(&config).await?;
    let (trigger, shutdown) = shutdown::channel();
    let triggers = vec![Arc::new(trigger)];
    tokio::spawn(crate::signals::stop_on_signal(triggers.clone()));
    let mut tasks = JoinSet::new();
    spawn_named(&mut tasks, name, component(config, transport, shutdown));
    supervise(tasks, &triggers).await
}

fn spawn_named(
    tasks: &mut JoinSet<Outcome>,
    name: &'static str,
    task: impl Future<Output = anyhow::Result<()>> + Send + 'static,
) {
    tasks.spawn(async move { (name, task.await) });
}

/// Waits for every task; the first failure stops the others and is returned.
async fn supervise(mut tasks: JoinSet<Outcome>, triggers: &[Arc<ShutdownTrigger>]) -> anyhow::Result<()> {
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let (name, result) = match joined {
            Ok(outcome) => outcome,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => bail!("a component was cancelled: {e}"),
        };
        match result {
            Ok(()) => tracing::debug!(component = name, "finished"),
            Err(e) => {
                tracing::error!(component = name, error = %format!("{e:#}"), "failed; stopping the others");
                for t in triggers {
                    t.set(Phase::Stop);
                }
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

async fn ingest(
    config: Arc<Config>,
    transport: Arc<dyn Transport>,
    mode: ReadMode,
    shutdown: Shutdown,
    handed_over: Option<tokio::sync::oneshot::Sender<()>>,
) -> anyhow::Result<()> {
    let producer = transport.producer();
    vigil_ingest::run(&config, producer.clone(), mode, shutdown, handed_over).await?;
    producer.flush(FLUSH_TIMEOUT).await.context("cannot flush the last events to the transport")?;
    Ok(())
}

async fn indexer(config: Arc<Config>, transport: Arc<dyn Transport>, shutdown: Shutdown) -> anyhow::Result<()> {
    Ok(vigil_indexer::run(&config, transport.as_ref(), shutdown).await?)
}

async fn alerter(
    config: Arc<Config>,
    transport: Arc<dyn Transport>,
    store: Option<Store>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let context = Box::new(IndexContext::new(&config.data_dir));
    let sink = store.map(|store| Box::new(StoreSink::new(store)) as Box<dyn vigil_alerter::AlertSink>);
    Ok(vigil_alerter::run(&config, transport.as_ref(), context, sink, shutdown).await?)
}

async fn kafka(config: &Config) -> anyhow::Result<Arc<dyn Transport>> {
    let kafka_config = config.kafka.as_ref().expect("caller checked [kafka]");
    let transport = KafkaTransport::connect(kafka_config).await?;
    transport
        .ensure_topics(kafka_config.topic_partitions, kafka_config.topic_replication)
        .await
        .context("cannot create Vigil's topics")?;
    tracing::info!(brokers = %kafka_config.brokers, "Kafka transport");
    Ok(Arc::new(transport))
}

async fn require_kafka(config: &Config, command: &str) -> anyhow::Result<Arc<dyn Transport>> {
    if config.kafka.is_none() {
        bail!("{command} works over Kafka, but the configuration has no [kafka] section; add one with `brokers`, or use `vigil run` to run every component in one process");
    }
    kafka(config).await
}

async fn start_metrics(config: &Config) -> anyhow::Result<()> {
    match config.metrics.listen {
        Some(addr) => crate::metrics_http::serve(addr).await,
        None => Ok(()),
    }
}
