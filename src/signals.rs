//! SIGTERM and ctrl-c become [`Phase::Stop`]: stop reading, flush, commit, exit 0.

use vigil_core::shutdown::{Phase, ShutdownTrigger};

/// Waits for SIGTERM or ctrl-c, then moves every trigger to `Stop`.
pub async fn stop_on_signal(triggers: Vec<std::sync::Arc<ShutdownTrigger>>) {
    wait_for_signal().await;
    tracing::info!("stop requested: finishing the current batch, flushing and committing");
    for t in triggers {
        t.set(Phase::Stop);
    }
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
