//! Syslog over TCP (RFC 6587) and over TLS (RFC 5425): each connection has
//! its own framing ([`FrameDecoder`]) and its own parser; at most
//! `max_senders` connections are served at once (further ones wait in the
//! kernel's accept queue).

use super::framing::{Ending, FrameDecoder};
use super::{Listener, NetError};
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

/// Accepts connections until shutdown, then waits for each to flush.
pub(super) async fn serve(
    socket: TcpListener,
    tls: Option<TlsAcceptor>,
    listener: Arc<Listener>,
    mut shutdown: Shutdown,
) -> Result<(), NetError> {
    let permits = Arc::new(Semaphore::new(listener.max_senders));
    let mut connections = JoinSet::new();
    let mut first_error = None;
    while first_error.is_none() && !listener.outlet.failed() {
        while let Some(joined) = connections.try_join_next() {
            first_error = first_error.or(connection_result(joined));
        }
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.ok(),
            () = shutdown.reached(Phase::Drain) => None,
        };
        let Some(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = socket.accept() => accepted,
            () = shutdown.reached(Phase::Drain) => break,
            Some(joined) = connections.join_next() => {
                first_error = connection_result(joined);
                continue;
            }
        };
        match accepted {
            Ok((stream, peer)) => {
                let task = connection(stream, peer, tls.clone(), listener.clone(), shutdown.clone(), permit);
                connections.spawn(task);
            }
            Err(e) => {
                tracing::warn!(source = %listener.name, error = %e, "cannot accept a syslog connection");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
    drop(socket);
    while let Some(joined) = connections.join_next().await {
        let error = connection_result(joined);
        first_error = first_error.or(error);
    }
    first_error.map_or(Ok(()), Err)
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
    shutdown: Shutdown,
    _permit: OwnedSemaphorePermit,
) -> Result<(), NetError> {
    let Some(acceptor) = tls else { return read_messages(stream, peer, &listener, shutdown).await };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => read_messages(stream, peer, &listener, shutdown).await,
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

/// Reads framed messages until the sender closes or shutdown; then the last
/// message and the parser's held events go out.
async fn read_messages<S: AsyncRead + Unpin>(
    mut stream: S,
    peer: SocketAddr,
    listener: &Listener,
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
