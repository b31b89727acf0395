//! Syslog over UDP (RFC 5426): one message per datagram. A datagram may end
//! with a line feed and, in practice, hold several newline-separated
//! messages; each line is a message.

use super::{Listener, NetError};
use crate::lines::LineSplitter;
use crate::pipeline::LineProcessor;
use std::collections::HashMap;
use std::net::IpAddr;
use tokio::net::UdpSocket;
use vigil_core::shutdown::{Phase, Shutdown};
use vigil_core::Event;

/// Largest UDP payload (IPv4: 65,535 − 8 − 20).
const MAX_DATAGRAM: usize = 65_507;

/// One sender's parser and its message count.
struct Sender {
    processor: LineProcessor,
    next_line_no: u64,
    last_heard: u64,
}

/// The parsers of the senders heard most recently, at most `max`.
struct Senders {
    by_addr: HashMap<IpAddr, Sender>,
    max: usize,
    clock: u64,
}

impl Senders {
    /// Removes the sender heard longest ago when `addr` is new and the pool is
    /// full; its parser is returned to be flushed.
    fn make_room_for(&mut self, addr: IpAddr) -> Option<LineProcessor> {
        if self.by_addr.len() < self.max || self.by_addr.contains_key(&addr) {
            return None;
        }
        let oldest = *self.by_addr.iter().min_by_key(|(_, s)| s.last_heard)?.0;
        self.by_addr.remove(&oldest).map(|s| s.processor)
    }

    fn get(&mut self, addr: IpAddr, listener: &Listener) -> &mut Sender {
        self.clock += 1;
        let sender = self.by_addr.entry(addr).or_insert_with(|| Sender {
            processor: listener.processor_for(addr),
            next_line_no: 1,
            last_heard: 0,
        });
        sender.last_heard = self.clock;
        sender
    }
}

/// Receives datagrams until shutdown; then flushes every sender's parser.
pub(super) async fn serve(socket: UdpSocket, listener: &Listener, mut shutdown: Shutdown) -> Result<(), NetError> {
    let mut senders = Senders { by_addr: HashMap::new(), max: listener.max_senders, clock: 0 };
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut events: Vec<Event> = Vec::new();
    let mut lines = Vec::new();
    let mut tick = tokio::time::interval(super::FLUSH_EVERY);
    let outlet = &listener.outlet;
    while !outlet.failed() {
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let (len, peer) = match received {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(source = %listener.name, error = %e, "syslog UDP receive failed");
                        continue;
                    }
                };
                if let Some(mut evicted) = senders.make_room_for(peer.ip()) {
                    outlet.flush_all(&mut evicted, &mut events).await?;
                }
                let sender = senders.get(peer.ip(), listener);
                let mut splitter = LineSplitter::new(0, sender.next_line_no, listener.max_line_bytes);
                splitter.push(buf.get(..len).unwrap_or_default(), |l| lines.push(l));
                lines.extend(splitter.finish());
                sender.next_line_no += lines.len() as u64;
                for line in lines.drain(..) {
                    outlet.message(&mut sender.processor, line, &mut events).await?;
                }
            }
            _ = tick.tick() => {
                for sender in senders.by_addr.values_mut() {
                    outlet.flush_expired(&mut sender.processor, &mut events).await?;
                }
            }
            () = shutdown.reached(Phase::Drain) => break,
        }
    }
    for sender in senders.by_addr.values_mut() {
        outlet.flush_all(&mut sender.processor, &mut events).await?;
    }
    Ok(())
}
