//! Serving the console over TLS itself (`[console] tls_cert`/`tls_key`):
//! each accepted connection does the rustls handshake in its own task, then
//! hyper serves the router over it (HTTP/1.1, like the plain listener).

use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower_service::Service;
use vigil_core::shutdown::{Phase, Shutdown};

/// How long a client has to finish the TLS handshake before it is dropped,
/// so a stalled client holds no task for long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts on `listener` until `shutdown` reaches [`Phase::Stop`], then stops
/// accepting and waits for the open connections to finish their requests. A
/// failed handshake or accept is logged at debug and the server goes on.
pub(crate) async fn serve(listener: TcpListener, acceptor: TlsAcceptor, router: Router, mut shutdown: Shutdown) {
    let mut make_service: IntoMakeServiceWithConnectInfo<Router, SocketAddr> =
        router.into_make_service_with_connect_info::<SocketAddr>();
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.reached(Phase::Stop) => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::debug!(%error, "cannot accept a console connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(service) = make_service.call(peer).await;
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(error)) => return tracing::debug!(%peer, %error, "console TLS handshake failed"),
                Err(_) => return tracing::debug!(%peer, "console TLS handshake timed out"),
            };
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(service));
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!(%peer, %error, "console connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
