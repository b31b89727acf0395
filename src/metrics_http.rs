//! The `/metrics` endpoint every Vigil process serves when `[metrics] listen`
//! is set.

use anyhow::Context;
use axum::{routing::get, Router};
use std::net::SocketAddr;

/// The router: `GET /metrics` in the Prometheus text format.
fn app() -> Router {
    Router::new().route(
        "/metrics",
        get(|| async {
            ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], vigil_core::metrics::render())
        }),
    )
}

/// Binds `addr` now (so a busy port is a start-up error) and serves metrics
/// in the background until the process exits.
pub async fn serve(addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot serve metrics on {addr} (metrics.listen)"))?;
    tracing::info!(%addr, "serving Prometheus metrics at /metrics");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app()).await {
            tracing::error!(error = %e, "metrics endpoint stopped");
        }
    });
    Ok(())
}
