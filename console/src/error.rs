//! What can go wrong in a request, and how a browser and an API client are
//! told: one sentence, with the status that fits.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;
use thiserror::Error;
use vigil_indexer::IndexerError;
use vigil_store::StoreError;

/// Why a request was refused or failed.
#[derive(Debug, Error)]
pub enum ConsoleError {
    /// No valid session: sign in.
    #[error("sign in first")]
    SignedOut,
    /// Signed in, but the account's roles or tenants do not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing there that this account may see (whether it exists elsewhere
    /// is not said).
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed (a bad query, a missing field).
    #[error("{0}")]
    BadRequest(String),
    /// The change conflicts with the alert's state (already acknowledged…).
    #[error("{0}")]
    Conflict(String),
    /// Too many failed sign-ins for the account or from the address.
    #[error("too many failed sign-ins; wait {minutes} minutes and try again")]
    TooManyAttempts {
        /// How long to wait.
        minutes: u64,
    },
    /// The CSRF token is missing or wrong.
    #[error("the form has expired or did not come from this console; reload the page and try again")]
    Csrf,
    /// The alert store failed.
    #[error(transparent)]
    Store(StoreError),
    /// The search index failed.
    #[error(transparent)]
    Search(IndexerError),
    /// The console could not listen or stopped serving.
    #[error("cannot serve the console on {addr} (console.listen): {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A blocking task failed.
    #[error("the console failed: {0}")]
    Internal(String),
}

impl From<StoreError> for ConsoleError {
    fn from(error: StoreError) -> ConsoleError {
        match error {
            StoreError::NotFound { what, name } => ConsoleError::NotFound(format!("there is no {what} {name:?}")),
            StoreError::Conflict(message) => ConsoleError::Conflict(message),
            other => ConsoleError::Store(other),
        }
    }
}

impl From<IndexerError> for ConsoleError {
    fn from(error: IndexerError) -> ConsoleError {
        match error {
            IndexerError::Query { .. } | IndexerError::InvalidTenant { .. } => {
                ConsoleError::BadRequest(error.to_string())
            }
            other => ConsoleError::Search(other),
        }
    }
}

impl ConsoleError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::SignedOut => StatusCode::UNAUTHORIZED,
            ConsoleError::Forbidden(_) | ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Conflict(_) => StatusCode::CONFLICT,
            ConsoleError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ConsoleError::Store(_)
            | ConsoleError::Search(_)
            | ConsoleError::Listen { .. }
            | ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The sentence shown; server-side failures are logged and shown
    /// without their particulars (paths, SQL).
    fn public_message(&self) -> String {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "console request failed");
            "the console failed to answer; the error is in its log".to_string()
        } else {
            self.to_string()
        }
    }
}

/// A [`ConsoleError`] answered as JSON: `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError(pub ConsoleError);

impl<E: Into<ConsoleError>> From<E> for ApiError {
    fn from(error: E) -> ApiError {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.0.public_message() });
        (self.0.status(), axum::Json(body)).into_response()
    }
}

/// A [`ConsoleError`] answered as a page; signed out goes to the sign-in
/// page.
#[derive(Debug)]
pub struct PageError(pub ConsoleError);

impl<E: Into<ConsoleError>> From<E> for PageError {
    fn from(error: E) -> PageError {
        PageError(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(self.0, ConsoleError::SignedOut) {
            return Redirect::to("/login").into_response();
        }
        let status = self.0.status();
        let message = self.0.public_message();
        (status, crate::page::message_page(status.canonical_reason().unwrap_or("Error"), &message)).into_response()
    }
}
