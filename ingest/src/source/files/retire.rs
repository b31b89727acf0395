//! Closing files: ending their streams, awaiting their deliveries in the
//! background, saving their positions.

use super::{today, Follower};
use crate::checkpoint::Fingerprint;
use crate::source::tracked::Retiring;
use crate::source::{SourceError, SourceSummary};
use tokio::task::JoinHandle;

/// A closed file whose deliveries are still awaited before its position is
/// saved; its content counts as being read until then.
pub(super) struct Closing {
    pub(super) head: Vec<u8>,
    pub(super) keys: Vec<Fingerprint>,
    task: JoinHandle<Result<SourceSummary, SourceError>>,
}

/// How a file's stream ends when it is closed.
pub(super) enum Ending {
    /// Shutdown: nothing more is sent; the position stays before anything
    /// not durable.
    Stop,
    /// Closed for room: held events are sent; an unterminated last line
    /// stays unread.
    Room,
    /// The input is over: the unterminated last line is a line.
    End,
    /// A damaged gzip file: the rest is one dead letter with this reason.
    Damaged(String),
}

impl Follower<'_> {
    /// Ends a file's stream per `ending`; its deliveries are awaited, and its
    /// position saved, in the background.
    pub(super) async fn retire(&mut self, mut old: Retiring, ending: Ending) -> Result<(), SourceError> {
        let done = match ending {
            Ending::Stop => false,
            Ending::Room => {
                old.state.finish_held().await?;
                false
            }
            Ending::End => {
                old.state.finish_input().await?;
                true
            }
            Ending::Damaged(reason) => {
                old.state.reject_rest(reason).await?;
                true
            }
        };
        let end = old.state.position();
        let identity = old.identity();
        let Retiring { path, head, saved, state, gzip } = old;
        let keys = saved.iter().cloned().chain(identity.clone()).collect();
        let (store, name, shutdown) = (self.store.clone(), self.cfg.name.clone(), self.shutdown.clone());
        let task = tokio::spawn(async move {
            let (summary, safe) = state.close(&shutdown).await?;
            let today = today();
            store.update(&name, |c| {
                if let Some(fp) = &identity {
                    c.set_file(saved.as_ref(), fp, safe, &path, today);
                }
                if let Some((fp, len)) = gzip.filter(|_| done && safe >= end) {
                    c.set_gzip_done(&fp, len, &path, today);
                }
            })?;
            Ok(summary)
        });
        self.closing.push(Closing { head, keys, task });
        Ok(())
    }

    /// Collects closed files whose positions are saved (all of them, waiting,
    /// with `wait`).
    pub(super) async fn reap(&mut self, wait: bool) -> Result<(), SourceError> {
        let mut first_error = None;
        let mut i = 0;
        while i < self.closing.len() {
            if !wait && !self.closing[i].task.is_finished() {
                i += 1;
                continue;
            }
            match self.closing.swap_remove(i).task.await {
                Ok(Ok(summary)) => self.summary.add(&summary),
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
                Err(_) => {} // the runtime is shutting down
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Closes every file (shutdown or end), waits for their deliveries and
    /// saves their positions.
    pub(super) async fn close_all(&mut self) -> Result<SourceSummary, SourceError> {
        let mut first_error = None;
        for reader in std::mem::take(&mut self.readers) {
            if let Err(e) = self.retire(reader.retire(), Ending::Stop).await {
                first_error.get_or_insert(e);
            }
        }
        if let Err(e) = self.reap(true).await {
            first_error.get_or_insert(e);
        }
        first_error.map_or_else(|| Ok(self.summary.clone()), Err)
    }
}
