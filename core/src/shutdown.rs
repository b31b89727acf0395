//! Cooperative shutdown shared by every component.
//!
//! One [`ShutdownTrigger`] is held by whoever decides (the binary, on
//! SIGTERM/ctrl-c or when a `--once` backfill has been read); every component
//! holds a cloned [`Shutdown`] and checks it between batches.

use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// What components should be doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Keep going: follow files, keep consuming.
    Running,
    /// Finish what is already there, then stop: sources read to their end,
    /// consumers consume until caught up; then flush, commit and return.
    Drain,
    /// Stop reading now; flush, commit and return.
    Stop,
}

/// The receiving side, cloned into every component.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<Phase>,
}

/// The sending side.
#[derive(Debug)]
pub struct ShutdownTrigger {
    tx: watch::Sender<Phase>,
}

/// A new trigger and its first receiver, in [`Phase::Running`].
pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(Phase::Running);
    (ShutdownTrigger { tx }, Shutdown { rx })
}

impl ShutdownTrigger {
    /// Moves every receiver to `phase`. Phases only move forward: asking for
    /// `Drain` after `Stop` leaves `Stop`.
    pub fn set(&self, phase: Phase) {
        self.tx.send_if_modified(|current| {
            if phase > *current {
                *current = phase;
                true
            } else {
                false
            }
        });
    }

    /// Another receiver.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown { rx: self.tx.subscribe() }
    }
}

impl Shutdown {
    /// A receiver that is never told to stop (for tests and one-shot tools).
    pub fn never() -> Shutdown {
        let (tx, rx) = watch::channel(Phase::Running);
        std::mem::forget(tx);
        Shutdown { rx }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        *self.rx.borrow()
    }

    /// Waits until the phase changes from what it was when last seen, and
    /// returns the new phase. Returns `Stop` if the trigger is gone.
    pub async fn changed(&mut self) -> Phase {
        match self.rx.changed().await {
            Ok(()) => *self.rx.borrow_and_update(),
            Err(_) => Phase::Stop,
        }
    }

    /// Waits until the phase is at least `phase`.
    pub async fn reached(&mut self, phase: Phase) {
        let _ = self.rx.wait_for(|p| *p >= phase).await;
    }

    /// Runs `work` to its end, but once the phase reaches `Stop` for at
    /// most `grace` more; `None` when it was cut short.
    pub async fn within_grace<T>(mut self, grace: Duration, work: impl Future<Output = T>) -> Option<T> {
        tokio::pin!(work);
        tokio::select! {
            done = &mut work => Some(done),
            () = self.reached(Phase::Stop) => tokio::time::timeout(grace, &mut work).await.ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_to_its_end_or_for_the_grace_after_stop() {
        let (trigger, shutdown) = channel();
        assert_eq!(shutdown.clone().within_grace(Duration::from_millis(1), async { 7 }).await, Some(7));
        trigger.set(Phase::Stop);
        let cut = shutdown.within_grace(Duration::from_millis(20), std::future::pending::<()>()).await;
        assert_eq!(cut, None);
    }

    #[tokio::test]
    async fn phases_only_move_forward() {
        let (trigger, mut shutdown) = channel();
        trigger.set(Phase::Stop);
        trigger.set(Phase::Drain);
        assert_eq!(shutdown.phase(), Phase::Stop);
        shutdown.reached(Phase::Drain).await;
    }
}
