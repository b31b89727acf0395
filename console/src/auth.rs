//! Signing in and staying signed in: argon2 password hashes, a rate limit
//! on failed sign-ins per account and per address, session cookies
//! (`HttpOnly`, `SameSite=Strict`, `Secure` unless a plain-http laptop try),
//! and a CSRF token on every POST.
//!
//! A session is a random token in the cookie; the store keeps only its
//! SHA-256, so a copy of the store file opens no session. Each session has
//! its own CSRF token, which every form carries as the field `csrf` and
//! every API call as the header `X-CSRF-Token`; [`require_csrf`] refuses a
//! POST without it. The sign-in form is protected the same way by a token
//! in a short-lived cookie (double submit), and `/api/login` accepts only
//! JSON, which a page elsewhere cannot send without the console's consent.

use crate::error::{ApiError, PageError};
use crate::{page, Console, ConsoleError};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::{Duration, Utc};
use cookie::{Cookie, SameSite};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;
use vigil_core::event::hex;
use vigil_store::{Account, AuditEntry};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vigil_session";
/// The sign-in form's cookie (its CSRF token).
pub const LOGIN_COOKIE: &str = "vigil_login";
/// The header API clients send the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Failed sign-ins allowed per account, and per address, in [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// How long failed sign-ins are remembered.
pub const FAILURE_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// At most this many accounts and addresses are tracked; past it the one
/// seen longest ago is forgotten, so a flood of made-up names cannot grow
/// memory without end.
const MAX_TRACKED: usize = 10_000;
/// Form bodies read to find the CSRF token are capped at this size.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The argon2id PHC hash of `password` (with a fresh random salt). Slow by
/// design: call it off the async threads.
pub fn hash_password(password: &str) -> Result<String, ConsoleError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ConsoleError::BadRequest(format!("a password needs at least {MIN_PASSWORD_CHARS} characters")));
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| ConsoleError::Internal(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches the PHC `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// A hash no password matches, verified against for unknown names so that
/// they take as long as known ones.
static DECOY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&random_token()).expect("a random token is a long enough password"));

/// 32 random bytes from the operating system's generator, as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Whether two tokens are equal, compared by their hashes so the time taken
/// says nothing about how much of a guess was right.
fn same_token(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// Failed sign-ins per account and per address.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// Refuses when `name` or `address` had [`MAX_FAILURES`] failures in the
    /// last [`FAILURE_WINDOW`].
    pub fn check(&self, name: &str, address: &str) -> Result<(), ConsoleError> {
        let mut failures = self.lock();
        for key in [account_key(name), address_key(address)] {
            if let Some(times) = failures.get_mut(&key) {
                times.retain(|t| t.elapsed() < FAILURE_WINDOW);
                if times.len() >= MAX_FAILURES {
                    return Err(ConsoleError::TooManyAttempts { minutes: FAILURE_WINDOW.as_secs() / 60 });
                }
            }
        }
        Ok(())
    }

    /// Counts a failed sign-in for `name` and `address`.
    pub fn failed(&self, name: &str, address: &str) {
        let mut failures = self.lock();
        for key in [account_key(name), address_key(address)] {
            if !failures.contains_key(&key) && failures.len() >= MAX_TRACKED {
                let stalest = failures.iter().min_by_key(|(_, times)| times.back().copied()).map(|(k, _)| k.clone());
                if let Some(stalest) = stalest {
                    failures.remove(&stalest);
                }
            }
            let times = failures.entry(key).or_default();
            times.push_back(Instant::now());
            if times.len() > MAX_FAILURES {
                times.pop_front();
            }
        }
    }

    /// Forgets the account's failures after a successful sign-in (the
    /// address's stay: it may be guessing other accounts).
    pub fn succeeded(&self, name: &str) {
        self.lock().remove(&account_key(name));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn account_key(name: &str) -> String {
    format!("account\0{}", name.to_lowercase())
}
fn address_key(address: &str) -> String {
    format!("address\0{address}")
}

/// A signed-in request: the account, its CSRF token and where it came from.
/// Handlers that take one refuse requests without a live session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who is signed in.
    pub account: Account,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    /// The client's address (for the audit trail and rate limits).
    pub address: String,
    token_hash: String,
}

impl Session {
    /// An audit entry for this session's account and address.
    pub fn audit_entry(&self, action: &str, tenant: Option<&str>, target: Option<&str>, detail: String) -> AuditEntry {
        AuditEntry {
            at: Utc::now(),
            actor: self.account.name.clone(),
            address: self.address.clone(),
            action: action.to_string(),
            tenant: tenant.map(str::to_string),
            target: target.map(str::to_string),
            detail,
        }
    }
}

/// The session found by [`require_csrf`] for a request, if any.
#[derive(Debug, Clone)]
struct MaybeSession(Option<Session>);

impl FromRequestParts<Console> for Session {
    type Rejection = Response;

    /// Refuses a request without a live session: JSON 401 under `/api`,
    /// else a redirect to the sign-in page.
    async fn from_request_parts(parts: &mut Parts, _console: &Console) -> Result<Session, Response> {
        let session = parts.extensions.get::<MaybeSession>().and_then(|s| s.0.clone());
        session.ok_or_else(|| respond(parts, ConsoleError::SignedOut))
    }
}

/// The client's address: the connection's peer (the console does not trust
/// forwarded-for headers), or `unknown` without a socket (tests).
fn client_address(parts: &Parts) -> String {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string())
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// Looks up the request's session and, for a POST (but the sign-in ones),
/// requires its CSRF token in the `X-CSRF-Token` header or the form field
/// `csrf`. A POST without a session goes on to its handler, which refuses it
/// as signed out.
pub async fn require_csrf(State(console): State<Console>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let session = match find_session(&console, &parts) {
        Ok(session) => session,
        Err(e) => return respond(&parts, e),
    };
    parts.extensions.insert(MaybeSession(session.clone()));
    let exempt = matches!(parts.uri.path(), "/login" | "/api/login");
    let (Some(session), true, false) = (session, parts.method == Method::POST, exempt) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let bytes = match to_bytes(body, MAX_FORM_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return respond(&parts, ConsoleError::BadRequest("the request is too large".into())),
    };
    let header = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
    let token =
        header.or_else(|| form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned()));
    if !token.is_some_and(|t| same_token(&t, &session.csrf)) {
        return respond(&parts, ConsoleError::Csrf);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn find_session(console: &Console, parts: &Parts) -> Result<Option<Session>, ConsoleError> {
    let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE) else { return Ok(None) };
    let token_hash = token_hash(&token);
    let found = console.store().session(&token_hash, Utc::now())?;
    Ok(found.map(|s| Session { account: s.account, csrf: s.csrf, address: client_address(parts), token_hash }))
}

/// An error as JSON under `/api`, as a page elsewhere.
fn respond(parts: &Parts, error: ConsoleError) -> Response {
    if parts.uri.path().starts_with("/api/") {
        ApiError(error).into_response()
    } else {
        PageError(error).into_response()
    }
}

/// Checks the password (off the async threads), counting failures; on
/// success starts a session and returns its cookie's token and CSRF token.
async fn sign_in(
    console: &Console,
    name: &str,
    password: &str,
    address: &str,
) -> Result<(String, String), ConsoleError> {
    console.limiter().check(name, address)?;
    let account = console.store().account_by_name(name)?.filter(|a| !a.disabled);
    let hash = account.as_ref().map_or_else(|| DECOY_HASH.clone(), |a| a.password_hash.clone());
    let password = password.to_string();
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let audit = |action: &str| AuditEntry {
        at: Utc::now(),
        actor: name.to_string(),
        address: address.to_string(),
        action: action.to_string(),
        tenant: None,
        target: None,
        detail: String::new(),
    };
    let Some(account) = account.filter(|_| matches) else {
        console.limiter().failed(name, address);
        console.store().audit(&audit("login-failed"))?;
        return Err(ConsoleError::Forbidden("wrong name or password".into()));
    };
    console.limiter().succeeded(name);
    let (token, csrf) = (random_token(), random_token());
    let now = Utc::now();
    let expires = now + Duration::hours(i64::from(console.settings().session_hours));
    console.store().create_session(&token_hash(&token), account.id, &csrf, now, expires)?;
    console.store().audit(&audit("login"))?;
    Ok((token, csrf))
}

fn cookie_header(console: &Console, name: &'static str, value: String, max_age: Duration) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(console.settings().secure_cookies)
        .max_age(cookie::time::Duration::seconds(max_age.num_seconds()))
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("cookie values are hex")
}

fn session_cookie(console: &Console, token: String) -> HeaderValue {
    cookie_header(console, SESSION_COOKIE, token, Duration::hours(i64::from(console.settings().session_hours)))
}

fn expired_cookie(console: &Console, name: &'static str) -> HeaderValue {
    cookie_header(console, name, String::new(), Duration::zero())
}

/// `GET /login`: the sign-in form, with a fresh token in its cookie.
pub async fn login_page(State(console): State<Console>) -> Response {
    login_response(&console, None)
}

fn login_response(console: &Console, problem: Option<&ConsoleError>) -> Response {
    let token = random_token();
    let cookie = cookie_header(console, LOGIN_COOKIE, token.clone(), Duration::hours(1));
    let status = problem.map_or(axum::http::StatusCode::OK, ConsoleError::status);
    let message = problem.map(ToString::to_string);
    (status, [(SET_COOKIE, cookie)], page::login(&token, message.as_deref())).into_response()
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    login_token: String,
}

/// `POST /login`: signs in and goes to the home page, or shows the form
/// again with the reason.
pub async fn login_form(State(console): State<Console>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let address = client_address(&parts);
    let cookie = cookie_value(&parts.headers, LOGIN_COOKIE);
    let Ok(Form(form)) = Form::<LoginForm>::from_request(Request::from_parts(parts, body), &console).await else {
        return login_response(&console, Some(&ConsoleError::BadRequest("fill in your name and password".into())));
    };
    if !cookie.is_some_and(|c| same_token(&c, &form.login_token)) {
        return login_response(&console, Some(&ConsoleError::Csrf));
    }
    match sign_in(&console, &form.name, &form.password, &address).await {
        Ok((token, _csrf)) => (
            AppendHeaders([
                (SET_COOKIE, session_cookie(&console, token)),
                (SET_COOKIE, expired_cookie(&console, LOGIN_COOKIE)),
            ]),
            Redirect::to("/"),
        )
            .into_response(),
        Err(e) => login_response(&console, Some(&e)),
    }
}

/// `POST /api/login`'s body.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    name: String,
    password: String,
}

/// `POST /api/login` (JSON `{name, password}`): sets the session cookie and
/// answers `{csrf}`, the token to send as `X-CSRF-Token` with every change.
pub async fn login_api(State(console): State<Console>, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let address = client_address(&parts);
    let Json(login) = Json::<LoginRequest>::from_request(Request::from_parts(parts, body), &console)
        .await
        .map_err(|e| ConsoleError::BadRequest(e.body_text()))?;
    let (token, csrf) = sign_in(&console, &login.name, &login.password, &address).await?;
    Ok(([(SET_COOKIE, session_cookie(&console, token))], Json(serde_json::json!({ "csrf": csrf }))).into_response())
}

async fn end(console: &Console, session: &Session) -> Result<HeaderValue, ConsoleError> {
    console.store().end_session(&session.token_hash)?;
    console.store().audit(&session.audit_entry("logout", None, None, String::new()))?;
    Ok(expired_cookie(console, SESSION_COOKIE))
}

/// `POST /logout`: ends the session.
pub async fn logout(State(console): State<Console>, session: Session) -> Result<Response, PageError> {
    let cookie = end(&console, &session).await?;
    Ok(([(SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

/// `POST /api/logout`: ends the session.
pub async fn logout_api(State(console): State<Console>, session: Session) -> Result<Response, ApiError> {
    let cookie = end(&console, &session).await?;
    Ok(([(SET_COOKIE, cookie)], Json(serde_json::json!({}))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_salt_verify_and_short_ones_are_refused() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert_ne!(hash, hash_password("correct horse battery").unwrap(), "a fresh salt each time");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("x", "not a hash"));
        let err = hash_password("short").unwrap_err().to_string();
        assert!(err.contains("12 characters"), "{err}");
    }

    #[test]
    fn the_limiter_counts_per_account_and_per_address() {
        let limiter = LoginLimiter::default();
        for _ in 0..MAX_FAILURES {
            limiter.check("Dsl1", "10.0.0.1").unwrap();
            limiter.failed("Dsl1", "10.0.0.1");
        }
        assert!(matches!(limiter.check("dsl1", "10.0.0.2"), Err(ConsoleError::TooManyAttempts { .. })), "any case");
        assert!(limiter.check("ict1", "10.0.0.1").is_err(), "the address is blocked for every account");
        limiter.check("ict1", "10.0.0.2").unwrap();
        limiter.succeeded("dsl1");
        limiter.check("dsl1", "10.0.0.2").unwrap();
    }
}
