//! The indexer service: consume the events topic into the daily indexes.

use crate::daily::{CommitPolicy, DailyIndexes};
use crate::error::IndexerError;
use crate::layout::{index_root, oldest_kept_day};
use crate::retention::apply_retention;
use chrono::{NaiveDate, Utc};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vigil_core::metrics::{COMMIT_SECONDS, CONSUMER_LAG};
use vigil_core::shutdown::{Phase, Shutdown};
use vigil_core::transport::{Consumer, Topic, Transport, INDEXER_GROUP};
use vigil_core::Config;

/// Most records taken from the transport per poll.
const POLL_MAX_RECORDS: usize = 1_000;
/// How long one poll waits for records; also how quickly a shutdown request
/// is noticed while the topic is idle.
const POLL_TIMEOUT: Duration = Duration::from_millis(250);

type Shared = Arc<Mutex<DailyIndexes>>;

/// Consumes the events topic as consumer group [`INDEXER_GROUP`] into one
/// index per tenant per UTC day under `<data_dir>/index`, until `shutdown`
/// says otherwise.
///
/// Commits when `indexer.commit_max_docs` records wait or
/// `indexer.commit_interval_secs` passed since the first of them, recording
/// the transport positions in every index commit and in the checkpoint file
/// before committing them to the consumer group; a restart therefore never
/// indexes an event twice. Records that are not events are logged, counted
/// and skipped. Retention runs at start and at each UTC day boundary.
///
/// [`Phase::Drain`] returns once the group has caught up with the topic;
/// [`Phase::Stop`] returns after committing what was already read.
pub async fn run(config: &Config, transport: &dyn Transport, shutdown: Shutdown) -> Result<(), IndexerError> {
    crate::metrics::count_skips_from_zero();
    let settings = &config.indexer;
    let data_dir = config.data_dir.clone();
    let mut today = Utc::now().date_naive();
    retention(data_dir.clone(), settings.retention_days, today).await?;
    let policy = CommitPolicy {
        max_records: settings.commit_max_docs,
        interval: Duration::from_secs(settings.commit_interval_secs),
    };
    let indexes = DailyIndexes::open(
        index_root(&data_dir),
        settings.writer_memory_mb,
        policy,
        oldest_kept_day(today, settings.retention_days),
    )?;
    let indexes: Shared = Arc::new(Mutex::new(indexes));
    let mut consumer = transport.consumer(Topic::Events, INDEXER_GROUP).await?;
    tracing::info!(data_dir = %data_dir.display(), "indexer started");

    loop {
        let phase = shutdown.phase();
        if phase == Phase::Stop {
            break;
        }
        let batch = consumer.poll(POLL_MAX_RECORDS, POLL_TIMEOUT).await?;
        if !batch.is_empty() {
            blocking(&indexes, move |ix| ix.handle(&batch)).await?;
        }
        if lock(&indexes)?.commit_due() {
            commit(&indexes, consumer.as_mut()).await?;
        }
        let lag = consumer.lag().await?;
        if let Some(lag) = lag {
            CONSUMER_LAG.with_label_values(&[INDEXER_GROUP]).set(i64::try_from(lag).unwrap_or(i64::MAX));
        }
        if phase == Phase::Drain && lag == Some(0) {
            break;
        }
        let now = Utc::now().date_naive();
        if now != today {
            today = now;
            commit(&indexes, consumer.as_mut()).await?;
            let oldest_kept = oldest_kept_day(today, settings.retention_days);
            blocking(&indexes, move |ix| ix.start_day(oldest_kept)).await?;
            retention(data_dir.clone(), settings.retention_days, today).await?;
        }
    }

    commit(&indexes, consumer.as_mut()).await?;
    let (indexed, skipped) = blocking(&indexes, |ix| {
        ix.close()?;
        Ok(ix.counts())
    })
    .await?;
    tracing::info!(indexed, skipped, "indexer stopped");
    Ok(())
}

/// Commits the indexes and the checkpoint, then the consumer group.
async fn commit(indexes: &Shared, consumer: &mut dyn Consumer) -> Result<(), IndexerError> {
    let timer = COMMIT_SECONDS.start_timer();
    match blocking(indexes, DailyIndexes::commit).await? {
        Some(positions) => {
            consumer.commit(&positions).await?;
            timer.observe_duration();
        }
        None => {
            timer.stop_and_discard();
        }
    }
    Ok(())
}

/// Applies retention off the async threads.
async fn retention(data_dir: PathBuf, retention_days: u32, today: NaiveDate) -> Result<(), IndexerError> {
    tokio::task::spawn_blocking(move || apply_retention(&data_dir, retention_days, today))
        .await
        .map_err(|e| IndexerError::Task(e.to_string()))?
        .map(drop)
}

/// Runs `f` on the indexes on a blocking thread (tantivy commits fsync).
async fn blocking<T: Send + 'static>(
    indexes: &Shared,
    f: impl FnOnce(&mut DailyIndexes) -> Result<T, IndexerError> + Send + 'static,
) -> Result<T, IndexerError> {
    let indexes = indexes.clone();
    tokio::task::spawn_blocking(move || f(&mut *lock(&indexes)?))
        .await
        .map_err(|e| IndexerError::Task(e.to_string()))?
}

/// The indexes, locked. Only blocking tasks the caller awaits hold the lock,
/// so it is never contended.
fn lock(indexes: &Shared) -> Result<std::sync::MutexGuard<'_, DailyIndexes>, IndexerError> {
    indexes.lock().map_err(|_| IndexerError::Task("an earlier indexing task panicked".into()))
}
