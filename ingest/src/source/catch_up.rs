//! Reading lease logs before the logs they attribute.
//!
//! A proxy line names the pupil who held its address at the time only if
//! the DHCP, RADIUS or sign-in line that bound the address was read first.
//! Live, the lease line is logged first; but a backfill (`--once`, or a
//! first run reading files from their beginning) reads every source side by
//! side. So the file sources whose events teach the lease table each hold a
//! [`CaughtUp`] token of one [`CatchUpGate`], given up the first time the
//! source has read everything there is, and the other file sources wait at
//! the gate until every token is given up.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// Opens once each of the sources it waits for has given up its
/// [`CaughtUp`] token.
#[derive(Debug)]
pub struct CatchUpGate {
    waiting_for: AtomicUsize,
    opened: Notify,
}

impl CatchUpGate {
    /// A gate waiting for `sources` sources (open at once for none).
    pub fn new(sources: usize) -> Arc<CatchUpGate> {
        Arc::new(CatchUpGate { waiting_for: AtomicUsize::new(sources), opened: Notify::new() })
    }

    /// The token of one of the sources the gate waits for: each of them
    /// takes exactly one.
    pub fn token(self: &Arc<Self>) -> CaughtUp {
        CaughtUp { gate: self.clone() }
    }

    /// Whether every token has been given up.
    pub fn is_open(&self) -> bool {
        self.waiting_for.load(Ordering::Acquire) == 0
    }

    /// Waits until the gate is open.
    pub async fn opened(&self) {
        loop {
            let opened = self.opened.notified();
            tokio::pin!(opened);
            opened.as_mut().enable();
            if self.is_open() {
                return;
            }
            opened.await;
        }
    }
}

/// One source's part in a [`CatchUpGate`]: given up by [`CaughtUp::reached`]
/// or, should the source stop or fail first, when dropped.
#[derive(Debug)]
pub struct CaughtUp {
    gate: Arc<CatchUpGate>,
}

impl CaughtUp {
    /// The source has read everything there is (for now).
    pub fn reached(self) {}
}

impl Drop for CaughtUp {
    fn drop(&mut self) {
        if self.gate.waiting_for.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.gate.opened.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_gate_opens_when_every_token_is_given_up_or_dropped() {
        let gate = CatchUpGate::new(2);
        let (first, second) = (gate.token(), gate.token());
        let waiter = tokio::spawn({
            let gate = gate.clone();
            async move { gate.opened().await }
        });
        first.reached();
        tokio::task::yield_now().await;
        assert!(!gate.is_open() && !waiter.is_finished(), "one source is still catching up");
        drop(second); // a source that failed
        waiter.await.unwrap();
        assert!(gate.is_open());
    }

    #[tokio::test]
    async fn a_gate_without_tokens_is_open() {
        CatchUpGate::new(0).opened().await;
    }
}
