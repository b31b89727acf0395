//! Vigil's console, `vigil serve`: the ICT manager's search and the DSL's
//! alert inbox in the browser, a JSON API beside it, and the audit trail.
//!
//! - [`app`] builds the router (tests call it without a socket).
//! - [`auth`]: passwords, sign-in with rate limits, sessions, CSRF.
//! - [`access`]: who may see what — roles and tenant scopes, in one place.
//! - [`alerts`], [`search`], [`audit`]: the pages and their API twins, each
//!   over one service function, so the two cannot disagree.
//! - [`page`]: the HTML layout (maud escapes every value), the stylesheet
//!   and the security headers (a strict Content-Security-Policy: no script
//!   at all, no inline style).
//!
//! Every search, view, export and change is written to the audit trail
//! before its answer is sent.
#![deny(missing_docs)]

pub mod access;
pub mod alerts;
pub mod audit;
pub mod auth;
mod chart;
mod error;
mod events;
mod https;
pub mod page;
pub mod search;

pub use error::ConsoleError;

use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use vigil_core::config::ConsoleConfig;
use vigil_core::shutdown::{Phase, Shutdown};
use vigil_store::Store;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct Console {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    data_dir: PathBuf,
    settings: Settings,
    limiter: auth::LoginLimiter,
}

/// How the console behaves, from `[console]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Whether cookies are marked `Secure` (sent over https only).
    pub secure_cookies: bool,
    /// How long a sign-in lasts.
    pub session_hours: u32,
}

impl Settings {
    /// The settings `[console]` describes: cookies are `Secure` unless the
    /// console serves plain http (no `tls_cert`), listens on this machine
    /// only and its public URL (if any) is plain http — a laptop trying the
    /// quickstart.
    pub fn from_config(config: &ConsoleConfig) -> Settings {
        let https =
            config.tls_cert.is_some() || config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
        Settings { secure_cookies: https || !config.listen.ip().is_loopback(), session_hours: config.session_hours }
    }
}

impl Console {
    /// A console over `store`, searching the indexes under `data_dir`.
    pub fn new(store: Store, data_dir: &Path, settings: Settings) -> Console {
        Console {
            inner: Arc::new(Inner {
                store,
                data_dir: data_dir.to_path_buf(),
                settings,
                limiter: auth::LoginLimiter::default(),
            }),
        }
    }

    /// The alert store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    fn limiter(&self) -> &auth::LoginLimiter {
        &self.inner.limiter
    }
}

/// The console's routes: pages, the JSON API under `/api`, the stylesheet.
/// Every POST passes the CSRF check ([`auth::require_csrf`]); every answer
/// carries the security headers ([`page::security_headers`]).
pub fn app(console: Console) -> Router {
    Router::new()
        .route("/", get(page::home))
        .route("/login", get(auth::login_page).post(auth::login_form))
        .route("/logout", post(auth::logout))
        .route("/alerts", get(alerts::inbox_page))
        .route("/alerts/{id}", get(alerts::alert_page))
        .route("/alerts/{id}/{action}", post(alerts::act_form))
        .route("/search", get(search::search_page).post(search::search_form))
        .route("/search/export", post(search::export_form))
        .route("/events/{tenant}/{id}", get(search::event_page))
        .route("/audit", get(audit::audit_page).post(audit::audit_form))
        .route("/users", get(audit::users_page))
        .route("/static/console.css", get(page::stylesheet))
        .route("/api/login", post(auth::login_api))
        .route("/api/logout", post(auth::logout_api))
        .route("/api/alerts", get(alerts::inbox_api))
        .route("/api/alerts/{id}", get(alerts::alert_api))
        .route("/api/alerts/{id}/{action}", post(alerts::act_api))
        .route("/api/search", post(search::search_api))
        .route("/api/export", post(search::export_api))
        .route("/api/events/{tenant}/{id}", get(search::event_api))
        .route("/api/audit", get(audit::audit_api))
        .layer(axum::middleware::from_fn_with_state(console.clone(), auth::require_csrf))
        .layer(axum::middleware::from_fn(page::security_headers))
        .with_state(console)
}

/// Binds `listen` now (so a busy port is a start-up error) and serves the
/// console until `shutdown` reaches [`Phase::Stop`]: over TLS with `tls`
/// (see [`vigil_core::tls::acceptor`]), plain http without.
pub async fn serve(
    console: Console,
    listen: SocketAddr,
    tls: Option<TlsAcceptor>,
    mut shutdown: Shutdown,
) -> Result<(), ConsoleError> {
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|source| ConsoleError::Listen { addr: listen, source })?;
    let addr = listener.local_addr().map_err(|source| ConsoleError::Listen { addr: listen, source })?;
    tracing::info!(%addr, tls = tls.is_some(), "serving the console");
    if let Some(acceptor) = tls {
        https::serve(listener, acceptor, app(console), shutdown).await;
        return Ok(());
    }
    let service = app(console).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async move { shutdown.reached(Phase::Stop).await })
        .await
        .map_err(|source| ConsoleError::Listen { addr, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml: &str) -> Settings {
        let config = vigil_core::Config::from_toml(&format!("[console]\n{toml}"), "x", Path::new("/")).unwrap();
        Settings::from_config(config.console.as_ref().unwrap())
    }

    #[test]
    fn cookies_are_secure_unless_a_plain_http_loopback_try() {
        assert!(!settings("").secure_cookies, "the quickstart on a laptop");
        assert!(!settings("public_url = \"http://localhost:8080\"").secure_cookies);
        assert!(settings("public_url = \"https://vigil.school.example\"").secure_cookies, "behind a TLS proxy");
        assert!(settings("listen = \"0.0.0.0:8080\"").secure_cookies, "reachable from the network");
        assert!(settings("tls_cert = \"c.pem\"\ntls_key = \"k.pem\"").secure_cookies, "https on a laptop");
        assert_eq!(settings("session_hours = 2").session_hours, 2);
    }
}
