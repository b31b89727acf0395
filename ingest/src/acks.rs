//! Tracks, in read order, the deliveries of what each line produced, and
//! reports the offset up to which everything is durable.
//!
//! The source pushes one entry per record sent (with the end offset of the
//! line that produced it) and a bare mark for lines that sent nothing. A
//! background task awaits the deliveries in order; the acknowledged offset
//! only moves past a line once every record before it is durable.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use vigil_core::shutdown::{Phase, Shutdown};
use vigil_core::transport::{Delivery, Producer, Topic, TransportError};
use vigil_core::{DeadLetter, Event};

/// How many deliveries may be awaited at once per source before reading
/// pauses (backpressure).
pub const MAX_IN_FLIGHT: usize = 65_536;

struct Pending {
    end_offset: u64,
    delivery: Option<Delivery>,
}

/// One source's acknowledgement tracker.
pub struct AckTracker {
    tx: mpsc::Sender<Pending>,
    acked: Arc<AtomicU64>,
    task: JoinHandle<Result<(), TransportError>>,
}

impl AckTracker {
    /// A tracker whose acknowledged offset starts at `start_offset`.
    pub fn new(start_offset: u64) -> AckTracker {
        let (tx, mut rx) = mpsc::channel::<Pending>(MAX_IN_FLIGHT);
        let acked = Arc::new(AtomicU64::new(start_offset));
        let acked_by_task = acked.clone();
        let task = tokio::spawn(async move {
            while let Some(pending) = rx.recv().await {
                if let Some(delivery) = pending.delivery {
                    delivery.await?;
                }
                acked_by_task.store(pending.end_offset, Ordering::Release);
            }
            Ok(())
        });
        AckTracker { tx, acked, task }
    }

    /// Tracks a record sent for the line ending at `end_offset`.
    pub async fn sent(&self, end_offset: u64, delivery: Delivery) {
        self.push(Pending { end_offset, delivery: Some(delivery) }).await;
    }

    /// Sends `event` to the events topic (keyed by tenant and user) and
    /// tracks its delivery for the line ending at `end_offset`.
    pub async fn send_event(
        &self,
        producer: &dyn Producer,
        event: &Event,
        end_offset: u64,
    ) -> Result<(), TransportError> {
        let delivery = producer.send(Topic::Events, event.partition_key().as_bytes(), event.to_json()).await?;
        self.sent(end_offset, delivery).await;
        Ok(())
    }

    /// Sends `dead` to the dead-letter topic (keyed by source) and tracks
    /// its delivery for the line ending at `end_offset`.
    pub async fn send_dead_letter(
        &self,
        producer: &dyn Producer,
        dead: &DeadLetter,
        end_offset: u64,
    ) -> Result<(), TransportError> {
        let delivery = producer.send(Topic::DeadLetter, dead.source.as_bytes(), dead.to_json()).await?;
        self.sent(end_offset, delivery).await;
        Ok(())
    }

    /// Marks the line ending at `end_offset` as producing nothing to await.
    pub async fn mark(&self, end_offset: u64) {
        self.push(Pending { end_offset, delivery: None }).await;
    }

    async fn push(&self, pending: Pending) {
        // The task only ends early after a delivery error, which `finish`
        // reports; until then a closed channel cannot happen.
        let _ = self.tx.send(pending).await;
    }

    /// Offset up to which every record is durable.
    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::Acquire)
    }

    /// Whether a delivery has failed (the tracker has stopped).
    pub fn failed(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits for every tracked delivery; once `shutdown` says stop, waits at
    /// most `grace` more. Returns the final acknowledged offset, or the first
    /// delivery error.
    pub async fn finish(self, mut shutdown: Shutdown, grace: Duration) -> Result<u64, TransportError> {
        let AckTracker { tx, acked, task } = self;
        drop(tx);
        tokio::pin!(task);
        let joined = tokio::select! {
            joined = &mut task => Some(joined),
            () = shutdown.reached(Phase::Stop) => tokio::time::timeout(grace, &mut task).await.ok(),
        };
        match joined {
            Some(Ok(result)) => result.map(|()| acked.load(Ordering::Acquire)),
            Some(Err(join)) => Err(TransportError::Kafka(format!("acknowledgement task failed: {join}"))),
            None => Ok(acked.load(Ordering::Acquire)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    fn delivery() -> (oneshot::Sender<()>, Delivery) {
        let (tx, rx) = oneshot::channel::<()>();
        (tx, Box::pin(async move { rx.await.map_err(|_| TransportError::Closed) }))
    }

    #[tokio::test]
    async fn offset_moves_only_past_lines_whose_records_are_durable() {
        let acks = AckTracker::new(0);
        let (first, d1) = delivery();
        let (second, d2) = delivery();
        acks.sent(10, d1).await;
        acks.mark(20).await;
        acks.sent(30, d2).await;
        second.send(()).unwrap();
        tokio::task::yield_now().await;
        assert_eq!(acks.acked(), 0, "line 1 is not durable yet");
        first.send(()).unwrap();
        assert_eq!(acks.finish(Shutdown::never(), Duration::from_secs(5)).await.unwrap(), 30);
    }

    #[tokio::test]
    async fn a_failed_delivery_is_reported() {
        let acks = AckTracker::new(0);
        let (failing, d) = delivery();
        drop(failing);
        acks.sent(10, d).await;
        assert!(acks.finish(Shutdown::never(), Duration::from_secs(5)).await.is_err());
    }
}
