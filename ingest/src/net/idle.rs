//! The live TCP connections of one syslog source and when each last
//! received bytes, so that when every sender slot is taken the connection
//! idle longest can be asked to close and make room for a new one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The connections being read, by a number given at registration.
#[derive(Default)]
pub(super) struct Connections {
    live: Mutex<Live>,
}

#[derive(Default)]
struct Live {
    next_id: u64,
    by_id: HashMap<u64, Entry>,
}

struct Entry {
    peer: SocketAddr,
    last_read: Instant,
    close: Arc<Notify>,
}

impl Connections {
    fn live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a connection from `peer` as read just now; it stays listed
    /// until the returned [`Registration`] is dropped.
    pub(super) fn register(self: &Arc<Self>, peer: SocketAddr) -> Registration {
        let close = Arc::new(Notify::new());
        let mut live = self.live();
        let id = live.next_id;
        live.next_id += 1;
        live.by_id.insert(id, Entry { peer, last_read: Instant::now(), close: close.clone() });
        Registration { connections: self.clone(), id, close }
    }

    /// Asks the connection idle longest to close, if it has received nothing
    /// for at least `min_idle`, and forgets it (it is not picked twice).
    /// `Ok` is its peer; `Err` is how long until the idlest connection could
    /// be picked, if it stays quiet (`min_idle` when none is listed).
    pub(super) fn close_idlest(&self, min_idle: Duration) -> Result<SocketAddr, Duration> {
        let mut live = self.live();
        let Some((&id, idlest)) = live.by_id.iter().min_by_key(|(_, entry)| entry.last_read) else {
            return Err(min_idle);
        };
        let idle = idlest.last_read.elapsed();
        if idle < min_idle {
            return Err(min_idle - idle);
        }
        let entry = live.by_id.remove(&id).ok_or(min_idle)?;
        entry.close.notify_one();
        Ok(entry.peer)
    }
}

/// One connection's place in [`Connections`].
pub(super) struct Registration {
    connections: Arc<Connections>,
    id: u64,
    close: Arc<Notify>,
}

impl Registration {
    /// Notes that bytes were received now.
    pub(super) fn read(&self) {
        if let Some(entry) = self.connections.live().by_id.get_mut(&self.id) {
            entry.last_read = Instant::now();
        }
    }

    /// Completes once the connection has been asked to close.
    pub(super) async fn closing(&self) {
        self.close.notified().await;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.connections.live().by_id.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([10, 1, 2, 3], port))
    }

    #[tokio::test]
    async fn the_connection_idle_longest_is_closed_once_it_is_idle_enough() {
        let connections = Arc::new(Connections::default());
        let hour = Duration::from_secs(3600);
        assert_eq!(connections.close_idlest(hour), Err(hour), "none listed");
        let first = connections.register(addr(1));
        tokio::time::sleep(Duration::from_millis(2)).await;
        let second = connections.register(addr(2));
        tokio::time::sleep(Duration::from_millis(2)).await;
        first.read();
        let wait = connections.close_idlest(hour).unwrap_err();
        assert!(wait < hour && wait > hour / 2, "{wait:?}: not idle enough yet");
        assert_eq!(connections.close_idlest(Duration::ZERO), Ok(addr(2)), "the second was read longest ago");
        tokio::time::timeout(Duration::from_secs(10), second.closing()).await.expect("the second was asked to close");
        assert_eq!(connections.close_idlest(Duration::ZERO), Ok(addr(1)), "the second is not picked again");
        drop(second);
        drop(first);
        assert!(connections.live().by_id.is_empty());
    }
}
