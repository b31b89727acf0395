//! Syslog over TCP (RFC 6587) and over TLS (RFC 5425): each connection has
//! its own framing ([`FrameDecoder`]) and its own parser; at most
//! `max_senders` connections are served at once.
//!
//! A connection must not keep its slot forever, or a school's ingestion
//! stops once the slots are gone. Two ways they go: half-open connections
//! (a firewall or NAT forgot the connection; the device reconnected, and no
//! FIN or RST ever comes for the old one) and clients that connect and send
//! nothing. So every accepted socket has TCP keepalive (the kernel probes a
//! quiet peer and the read fails when it does not answer), and when every
//! slot is taken and a new connection arrives, the connection that has
//! received nothing for longest is closed to make room, if that is at least
//! [`EVICT_AFTER_IDLE`]: its last message and its parser's held events go out
//! first, as when a peer closes. Otherwise the new connection waits (held
//! unserved, with more behind it in the kernel's accept queue) until a slot
//! frees or a connection becomes idle enough, so an active sender is never cut
//! off for an idle one. There is deliberately no absolute idle timeout: a
//! healthy device may be quiet for hours, and rsyslog over plain TCP can lose
//! the message it sends into a connection the server has closed, so quiet
//! senders are closed only under pressure.

use super::framing::{Ending, FrameDecoder};
use super::idle::{Connections, Registration};
use super::{Listener, NetError};
use socket2::{SockRef, TcpKeepalive};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use vigil_core::shutdown::{Phase, Shutdown};

/// Size of each read from a connection.
const READ_BYTES: usize = 64 * 1024;
/// A TLS handshake that takes longer is abandoned.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed accept (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// A connection quiet this long is probed by TCP keepalive ...
const KEEPALIVE_TIME: Duration = Duration::from_secs(120);
/// ... every this often, and dropped by the kernel (its read fails) after
/// [`KEEPALIVE_PROBES`] unanswered probes: about four minutes in all for a
/// dead peer; a live one answers each probe without any syslog traffic.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// Unanswered keepalive probes before the connection is dropped.
const KEEPALIVE_PROBES: u32 = 4;
/// When every slot is taken, a connection that has received nothing for at
/// least this long may be closed for a new one. Longer than the usual gap
/// between messages of a busy device, so an active sender is never cut off,
/// and short enough that a flood of silent connections delays a real sender
/// by half a minute at most. (Shorter in tests.)
pub(super) const EVICT_AFTER_IDLE: Duration =
    if cfg!(test) { Duration::from_millis(400) } else { Duration::from_secs(30) };

/// Accepts connections until shutdown, then waits for each to flush.
pub(super) async fn serve(
    socket: TcpListener,
    tls: Option<TlsAcceptor>,
    listener: Arc<Listener>,
    mut shutdown: Shutdown,
) -> Result<(), NetError> {
    let permits = Arc::new(Semaphore::new(listener.max_senders));
    let live = Arc::new(Connections::default());
    let mut connections = JoinSet::new();
    let mut first_error = None;
    while first_error.is_none() && !listener.outlet.failed() {
        while let Some(joined) = connections.try_join_next() {
            first_error = first_error.or(connection_result(joined));
        }
        let accepted = tokio::select! {
            accepted = socket.accept() => accepted,
            () = shutdown.reached(Phase::Drain) => break,
            Some(joined) = connections.join_next() => {
                first_error = connection_result(joined);
                continue;
            }
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(source = %listener.name, error = %e, "cannot accept a syslog connection");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let permit = tokio::select! {
            permit = room(&permits, &live, &listener.name) => permit,
            () = shutdown.reached(Phase::Drain) => break,
        };
        keep_alive(&stream, peer, &listener.name);
        let task = connection(stream, peer, tls.clone(), listener.clone(), live.clone(), shutdown.clone(), permit);
        connections.spawn(task);
    }
    drop(socket);
    while let Some(joined) = connections.join_next().await {
        let error = connection_result(joined);
        first_error = first_error.or(error);
    }
    first_error.map_or(Ok(()), Err)
}

/// A slot for one more connection: a free one, else the slot of the
/// connection idle longest, closed once it has been idle for
/// [`EVICT_AFTER_IDLE`]; until then, waits for a slot to free, looking again
/// when the idlest connection could have been idle long enough. (Connections
/// still in their TLS handshake are not listed; [`HANDSHAKE_TIMEOUT`] ends them.)
async fn room(permits: &Arc<Semaphore>, live: &Connections, source: &str) -> OwnedSemaphorePermit {
    loop {
        if let Ok(permit) = permits.clone().try_acquire_owned() {
            return permit;
        }
        match live.close_idlest(EVICT_AFTER_IDLE) {
            Ok(peer) => {
                tracing::warn!(
                    source,
                    %peer,
                    "every syslog connection slot is taken (max_senders): closing the connection idle longest"
                );
                if let Ok(permit) = permits.clone().acquire_owned().await {
                    return permit;
                }
            }
            Err(look_again) => tokio::select! {
                Ok(permit) = permits.clone().acquire_owned() => return permit,
                () = tokio::time::sleep(look_again) => {}
            },
        }
    }
}

/// Turns on TCP keepalive, so that a peer gone without a FIN or RST (a
/// half-open connection) ends the read.
fn keep_alive(stream: &TcpStream, peer: SocketAddr, source: &str) {
    let keepalive =
        TcpKeepalive::new().with_time(KEEPALIVE_TIME).with_interval(KEEPALIVE_INTERVAL).with_retries(KEEPALIVE_PROBES);
    if let Err(e) = SockRef::from(stream).set_tcp_keepalive(&keepalive) {
        tracing::warn!(source, %peer, error = %e, "cannot turn on TCP keepalive for a syslog connection");
    }
}

/// A finished connection's error, if it stopped the source; a panic is
/// passed on.
fn connection_result(joined: Result<Result<(), NetError>, tokio::task::JoinError>) -> Option<NetError> {
    match joined {
        Ok(result) => result.err(),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => None,
    }
}

/// Serves one connection (after its TLS handshake, if any).
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    listener: Arc<Listener>,
    live: Arc<Connections>,
    shutdown: Shutdown,
    _permit: OwnedSemaphorePermit,
) -> Result<(), NetError> {
    let Some(acceptor) = tls else {
        return read_messages(stream, peer, &listener, live.register(peer), shutdown).await;
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => read_messages(stream, peer, &listener, live.register(peer), shutdown).await,
        Ok(Err(e)) => {
            tracing::warn!(source = %listener.name, %peer, error = %e, "syslog TLS handshake failed");
            Ok(())
        }
        Err(_) => {
            tracing::warn!(source = %listener.name, %peer, "syslog TLS handshake timed out");
            Ok(())
        }
    }
}

/// Reads framed messages until the sender closes, the connection is asked to
/// close (see [`room`]) or shutdown; then the last message and the parser's
/// held events go out.
async fn read_messages<S: AsyncRead + Unpin>(
    mut stream: S,
    peer: SocketAddr,
    listener: &Listener,
    registration: Registration,
    mut shutdown: Shutdown,
) -> Result<(), NetError> {
    let outlet = &listener.outlet;
    let mut processor = listener.processor_for(peer.ip());
    let mut decoder = FrameDecoder::new(listener.max_line_bytes);
    let mut buf = vec![0u8; READ_BYTES];
    let mut frames = Vec::new();
    let mut events = Vec::new();
    let mut tick = tokio::time::interval(super::FLUSH_EVERY);
    while !outlet.failed() {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) => break,
                Ok(n) => {
                    registration.read();
                    decoder.push(buf.get(..n).unwrap_or_default(), |f| frames.push(f));
                    for frame in frames.drain(..) {
                        outlet.message(&mut processor, frame, &mut events).await?;
                    }
                }
                Err(e) => {
                    tracing::warn!(source = %listener.name, %peer, error = %e, "syslog connection failed");
                    break;
                }
            },
            _ = tick.tick() => outlet.flush_expired(&mut processor, &mut events).await?,
            () = registration.closing() => break,
            () = shutdown.reached(Phase::Drain) => break,
        }
    }
    match decoder.finish() {
        Some(Ending::Line(line)) => outlet.message(&mut processor, line, &mut events).await?,
        Some(Ending::Cut { line, reason }) => outlet.cut(&mut processor, line, reason).await?,
        None => {}
    }
    outlet.flush_all(&mut processor, &mut events).await
}
