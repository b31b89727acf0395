//! Reading lease logs before the logs they attribute.
//!
//! A proxy line names the pupil who held its address at the time only if
//! the DHCP, RADIUS or sign-in line that bound the address was read first.
//! So the file sources whose events teach the lease table each hold a
//! [`CaughtUp`] token of one [`CatchUpGate`] and report every pass that read
//! everything there was; the other file sources wait at the gate:
//! - before reading anything, until every lease source has caught up once
//!   (a backfill, `--once`, or a first run from the files' beginning reads
//!   every source side by side, so without this a proxy's history would be
//!   read before the leases that cover it);
//! - then, live, before each pass, until every lease source has finished a
//!   pass that began after this one's start, so a lease line written just
//!   before a proxy line is learnt first even when the proxy source woke up
//!   first. A lease source asked for such a pass stops waiting for its next
//!   poll. A lease source that does not report within [`PATIENCE`] (stuck
//!   behind a full transport, or on a hung file system) is not waited for
//!   again until it reports; the proxy lines read meanwhile may be
//!   unattributed, never held back for long.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// How long a pass of a waiting source waits for the lease sources.
pub const PATIENCE: Duration = Duration::from_secs(2);

/// The lease sources' progress, which the other file sources wait for.
#[derive(Debug)]
pub struct CatchUpGate {
    lease_sources: Mutex<Vec<LeaseSource>>,
    /// Tokens handed out so far: the next token's index.
    handed_out: AtomicUsize,
    /// Notified whenever a lease source reports or goes.
    progressed: Notify,
}

/// One lease source's progress.
#[derive(Debug)]
struct LeaseSource {
    /// The start of its latest pass that read everything there was.
    caught_up_at: Option<Instant>,
    /// It missed a deadline and is not waited for until it reports again.
    lagging: bool,
    /// It stopped (or failed): nothing more will come from it.
    gone: bool,
    /// Wakes it for a pass before its next poll.
    wanted: Arc<Notify>,
}

impl LeaseSource {
    /// Whether a pass starting at `at` must wait for this source.
    fn is_behind(&self, at: Instant) -> bool {
        !self.gone && !self.lagging && self.caught_up_at.is_none_or(|t| t < at)
    }
}

impl CatchUpGate {
    /// A gate for `sources` lease sources (open at once for none).
    pub fn new(sources: usize) -> Arc<CatchUpGate> {
        let lease_sources = (0..sources)
            .map(|_| LeaseSource { caught_up_at: None, lagging: false, gone: false, wanted: Arc::new(Notify::new()) })
            .collect();
        Arc::new(CatchUpGate {
            lease_sources: Mutex::new(lease_sources),
            handed_out: AtomicUsize::new(0),
            progressed: Notify::new(),
        })
    }

    /// The token of one of the lease sources: each of them takes exactly
    /// one, and no more than the gate was made for are taken.
    pub fn token(self: &Arc<Self>) -> CaughtUp {
        let index = self.handed_out.fetch_add(1, Ordering::Relaxed);
        let wanted =
            self.sources().get(index).expect("one token per lease source the gate was made for").wanted.clone();
        CaughtUp { gate: self.clone(), index, wanted }
    }

    /// Whether every lease source has caught up once (or gone).
    pub fn is_open(&self) -> bool {
        self.sources().iter().all(|s| s.gone || s.caught_up_at.is_some())
    }

    /// Waits until every lease source has caught up once (or gone), however
    /// long their backlog takes.
    pub async fn opened(&self) {
        self.wait_until(|| self.is_open()).await;
    }

    /// Waits until every lease source has finished a pass begun at or after
    /// `at`, asking them for one; gives up on those that have not after
    /// [`PATIENCE`] (see the module documentation).
    pub async fn caught_up_to(&self, at: Instant) {
        let asked = self.sources().iter().filter(|s| s.is_behind(at)).inspect(|s| s.wanted.notify_one()).count();
        if asked == 0 {
            return;
        }
        let caught_up = self.wait_until(|| !self.sources().iter().any(|s| s.is_behind(at)));
        if tokio::time::timeout(PATIENCE, caught_up).await.is_err() {
            let mut sources = self.sources();
            let lagging = sources.iter_mut().filter(|s| s.is_behind(at)).map(|s| s.lagging = true).count();
            tracing::warn!(
                lagging,
                "lease sources are slow to read; proxy lines are read meanwhile and may not be attributed"
            );
        }
    }

    /// Waits until `done` holds, checking it each time a source progresses.
    async fn wait_until(&self, done: impl Fn() -> bool) {
        loop {
            let progressed = self.progressed.notified();
            tokio::pin!(progressed);
            progressed.as_mut().enable();
            if done() {
                return;
            }
            progressed.await;
        }
    }

    fn sources(&self) -> MutexGuard<'_, Vec<LeaseSource>> {
        self.lease_sources.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a change to lease source `index` and wakes the waiters.
    fn update(&self, index: usize, change: impl FnOnce(&mut LeaseSource)) {
        if let Some(source) = self.sources().get_mut(index) {
            change(source);
        }
        self.progressed.notify_waiters();
    }
}

/// One lease source's part in a [`CatchUpGate`]; dropping it (the source
/// stopped or failed) means it is no longer waited for.
#[derive(Debug)]
pub struct CaughtUp {
    gate: Arc<CatchUpGate>,
    index: usize,
    wanted: Arc<Notify>,
}

impl CaughtUp {
    /// The source has read everything there was in a pass that began at
    /// `pass_start`.
    pub fn reached(&self, pass_start: Instant) {
        self.gate.update(self.index, |s| {
            s.caught_up_at = Some(s.caught_up_at.map_or(pass_start, |t| t.max(pass_start)));
            s.lagging = false;
        });
    }

    /// Completes when a waiting source asks for a pass (at once if it asked
    /// since the last call).
    pub async fn wanted(&self) {
        self.wanted.notified().await;
    }
}

impl Drop for CaughtUp {
    fn drop(&mut self) {
        self.gate.update(self.index, |s| s.gone = true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_gate_opens_when_every_source_has_caught_up_or_gone() {
        let gate = CatchUpGate::new(2);
        let (first, second) = (gate.token(), gate.token());
        let waiter = tokio::spawn({
            let gate = gate.clone();
            async move { gate.opened().await }
        });
        first.reached(Instant::now());
        tokio::task::yield_now().await;
        assert!(!gate.is_open() && !waiter.is_finished(), "one source is still catching up");
        drop(second); // a source that failed
        waiter.await.unwrap();
        assert!(gate.is_open());
    }

    #[tokio::test]
    async fn a_gate_without_lease_sources_is_open() {
        let gate = CatchUpGate::new(0);
        gate.opened().await;
        gate.caught_up_to(Instant::now()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_pass_waits_for_a_lease_pass_begun_after_it_and_asks_for_one() {
        let gate = CatchUpGate::new(1);
        let lease = gate.token();
        lease.reached(Instant::now());
        tokio::time::advance(Duration::from_millis(100)).await;
        let proxy_pass = Instant::now();
        let waiter = tokio::spawn({
            let gate = gate.clone();
            async move { gate.caught_up_to(proxy_pass).await }
        });
        // The lease source is woken before its next poll…
        tokio::time::timeout(Duration::from_millis(1), lease.wanted()).await.expect("the proxy asked for a pass");
        // …and a pass begun before the proxy's is not enough.
        lease.reached(proxy_pass - Duration::from_millis(1));
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        lease.reached(proxy_pass);
        waiter.await.unwrap();
        // Already caught up: no wait, no request.
        gate.caught_up_to(proxy_pass).await;
        assert!(tokio::time::timeout(Duration::from_millis(1), lease.wanted()).await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_source_that_misses_the_deadline_is_not_waited_for_until_it_reports() {
        let gate = CatchUpGate::new(2);
        let (slow, quick) = (gate.token(), gate.token());
        quick.reached(Instant::now());
        slow.reached(Instant::now());
        let started = Instant::now();
        let pass = Instant::now() + Duration::from_millis(1);
        tokio::time::advance(Duration::from_millis(1)).await;
        let waiter = tokio::spawn({
            let gate = gate.clone();
            async move { gate.caught_up_to(pass).await }
        });
        quick.wanted().await;
        quick.reached(pass);
        waiter.await.unwrap();
        assert_eq!(Instant::now() - started, PATIENCE + Duration::from_millis(1), "gave up after PATIENCE");
        // The slow source is skipped now…
        gate.caught_up_to(pass).await;
        assert_eq!(Instant::now() - started, PATIENCE + Duration::from_millis(1));
        // …until it reports again.
        slow.reached(Instant::now() - Duration::from_secs(1));
        let next = Instant::now();
        assert!(tokio::time::timeout(Duration::from_millis(10), gate.caught_up_to(next)).await.is_err());
    }
}
