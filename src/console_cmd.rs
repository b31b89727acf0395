//! Starting the console: `vigil serve`, and `vigil run` when `[console]` is
//! configured.

use anyhow::Context;
use vigil_console::auth::{hash_password, random_token};
use vigil_console::{Console, Settings};
use vigil_core::shutdown::Shutdown;
use vigil_core::Config;
use vigil_store::{Role, Store, TenantScope};

/// The demo account's name (`[console] demo = true`).
pub const DEMO_ACCOUNT: &str = "demo";

/// Serves the console over `store` until `shutdown` says stop.
pub async fn serve(config: &Config, store: Store, shutdown: Shutdown) -> anyhow::Result<()> {
    let settings = config.console.as_ref().context("the configuration has no [console] section")?;
    store.set_audit_retention_days(settings.audit_retention_days)?;
    tokio::spawn(apply_audit_retention(store.clone(), shutdown.clone()));
    if settings.demo {
        demo_account(&store, settings)?;
    }
    let tls = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => {
            Some(vigil_core::tls::acceptor(cert, key).context("cannot serve the console over TLS")?)
        }
        _ => None,
    };
    let console = Console::new(store, &config.data_dir, Settings::from_config(settings));
    Ok(vigil_console::serve(console, settings.listen, tls, shutdown).await?)
}

/// How often audit entries past their retention period are deleted.
const AUDIT_RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Deletes audit entries older than `[console] audit_retention_days` now and
/// then daily, until the console stops.
async fn apply_audit_retention(store: Store, mut shutdown: Shutdown) {
    loop {
        let pruning = store.clone();
        match tokio::task::spawn_blocking(move || pruning.apply_audit_retention()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(deleted)) => tracing::info!(deleted, "audit entries past their retention period deleted"),
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot apply the audit retention period"),
            Err(e) => tracing::warn!(error = %e, "the audit retention task failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(AUDIT_RETENTION_EVERY) => {}
            () = shutdown.reached(vigil_core::shutdown::Phase::Stop) => return,
        }
    }
}

/// With no accounts yet, creates [`DEMO_ACCOUNT`] (every role, every tenant)
/// with a random password, and prints both on standard error (not in the
/// log: it is a secret).
fn demo_account(store: &Store, settings: &vigil_core::config::ConsoleConfig) -> anyhow::Result<()> {
    if !store.accounts()?.is_empty() {
        return Ok(());
    }
    let password: String = random_token().chars().take(20).collect();
    let hash = hash_password(&password)?;
    store.add_user(DEMO_ACCOUNT, &hash, &Role::ALL, &TenantScope::All)?;
    let scheme = if settings.tls_cert.is_some() { "https" } else { "http" };
    let listen = settings.listen;
    eprintln!("console demo account: name {DEMO_ACCOUNT}, password {password} — open {scheme}://{listen}/");
    Ok(())
}
