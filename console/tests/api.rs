//! The console through its router, without a socket: sign-in, CSRF, roles
//! and tenant isolation on every endpoint, the alert workflow, search and
//! export over a real index, escaping of hostile log content, the audit
//! trail.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use tempfile::TempDir;
use tower::ServiceExt;
use vigil_console::auth::{hash_password, CSRF_HEADER, LOGIN_COOKIE, SESSION_COOKIE};
use vigil_console::{app, Console, Settings};
use vigil_core::config::{Role as Audience, Severity};
use vigil_core::shutdown::{channel, Phase};
use vigil_core::transport::embedded::EmbeddedTransport;
use vigil_core::transport::{Topic, Transport, INDEXER_GROUP};
use vigil_core::{Config, Event, EventKind, Outcome};
use vigil_store::{AuditQuery, NewAlert, Role, Status, Store, TenantScope};

const PASSWORD: &str = "a long enough password";

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 10, minute, 0).unwrap()
}

fn event(id: &str, tenant: &str, user: &str, minute: u32, set: impl FnOnce(&mut Event)) -> Event {
    let mut e = Event::new(at(minute), EventKind::Proxy, "allowed", Outcome::Success, "squid", "squid", "raw line");
    e.id = id.into();
    e.tenant = tenant.to_string().into();
    e.user_name = Some(user.into());
    e.source_ip = Some("10.0.0.7".into());
    set(&mut e);
    e
}

/// The events: l.evans's search and blocked request, r.jones's request
/// whose URL and raw line hold a script, and a school-b pupil's search.
fn events() -> Vec<Event> {
    vec![
        event("e1", "school-a", "l.evans", 1, |e| e.search_query = Some("how to hurt myself".into())),
        event("e2", "school-a", "l.evans", 2, |e| {
            e.action = "blocked".into();
            e.url_domain = Some("bad.example".into());
        }),
        event("e3", "school-a", "r.jones", 3, |e| {
            e.url_full = Some("http://x.example/<script>alert(1)</script>".into());
            e.url_domain = Some("x.example".into());
            e.message = "GET http://x.example/<script>alert(1)</script>".into();
        }),
        event("e4", "school-b", "b.pupil", 4, |e| e.search_query = Some("school b secret".into())),
    ]
}

async fn index(data_dir: &Path, events: &[Event]) {
    let text = format!("data_dir = {:?}\n[indexer]\ncommit_interval_secs = 3600\n", data_dir.display().to_string());
    let config = Config::from_toml(&text, "test", data_dir).unwrap();
    let transport = EmbeddedTransport::new(1000, &data_dir.join("dl.jsonl"), &[(Topic::Events, INDEXER_GROUP)]);
    for e in events {
        let _delivery = transport.producer().send(Topic::Events, b"k", e.to_json()).await.unwrap();
    }
    let (trigger, shutdown) = channel();
    trigger.set(Phase::Drain);
    vigil_indexer::run(&config, &transport, shutdown).await.unwrap();
}

fn alert(id: &str, tenant: &str, audience: Audience, user: &str, event_id: &str, minute: u32) -> NewAlert {
    NewAlert {
        id: id.into(),
        tenant: tenant.into(),
        audience,
        category: if audience == Audience::Dsl { "self-harm" } else { "filter-bypass" }.into(),
        severity: Severity::Critical,
        rule: "rule".into(),
        user_name: Some(user.into()),
        subject: Some(user.into()),
        time: at(minute),
        summary: "\"hurt myself\" in search.query".into(),
        event_id: event_id.into(),
        context: json!([{"@timestamp": "2026-03-04T10:01:00Z", "kind": "search", "text": "<img src=x onerror=alert(1)>", "alert.event": true}]),
        detail: json!({"device.name": "<b>LAPTOP</b>"}),
    }
}

struct World {
    _dir: TempDir,
    store: Store,
    app: Router,
}

async fn world() -> World {
    let dir = TempDir::new().unwrap();
    index(dir.path(), &events()).await;
    let store = Store::open(&dir.path().join("console.db")).unwrap();
    for a in [
        alert("a-dsl", "school-a", Audience::Dsl, "l.evans", "e1", 1),
        alert("a-dsl-2", "school-a", Audience::Dsl, "l.evans", "e2", 2),
        alert("a-ict", "school-a", Audience::Ict, "r.jones", "e3", 3),
        alert("b-dsl", "school-b", Audience::Dsl, "b.pupil", "e4", 4),
    ] {
        store.insert_alert(&a, Utc::now()).unwrap();
    }
    let hash = hash_password(PASSWORD).unwrap();
    let school_a = TenantScope::Only(vec!["school-a".into()]);
    for (name, roles, tenants) in [
        ("dsl-a", vec![Role::Dsl], school_a.clone()),
        ("deputy-a", vec![Role::Dsl], school_a.clone()),
        ("ict-a", vec![Role::Ict], school_a.clone()),
        ("gov-a", vec![Role::Governor], school_a.clone()),
        ("admin", vec![Role::Admin], TenantScope::All),
        ("trust-ict", vec![Role::Ict], TenantScope::All),
    ] {
        store.add_user(name, &hash, &roles, &tenants).unwrap();
    }
    let console = Console::new(store.clone(), dir.path(), Settings { secure_cookies: true, session_hours: 8 });
    World { _dir: dir, store, app: app(console) }
}

/// An answer: status, headers, body text.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

/// A browser or API client: its cookie, CSRF token and address.
struct Client<'a> {
    app: &'a Router,
    cookie: String,
    csrf: String,
    address: SocketAddr,
}

impl<'a> Client<'a> {
    fn anonymous(app: &'a Router) -> Client<'a> {
        Client { app, cookie: String::new(), csrf: String::new(), address: "192.0.2.1:5000".parse().unwrap() }
    }

    fn request(&self, method: Method, path: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, self.cookie.clone())
            .extension(ConnectInfo(self.address))
    }

    async fn get(&self, path: &str) -> Answer {
        send(self.app, self.request(Method::GET, path).body(Body::empty()).unwrap()).await
    }

    async fn post_json(&self, path: &str, body: Value) -> Answer {
        let request = self
            .request(Method::POST, path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(CSRF_HEADER, self.csrf.clone())
            .body(Body::from(body.to_string()))
            .unwrap();
        send(self.app, request).await
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let request = self
            .request(Method::POST, path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        send(self.app, request).await
    }
}

fn set_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
}

async fn login<'a>(app: &'a Router, name: &str) -> Client<'a> {
    let mut client = Client::anonymous(app);
    let answer = client.post_json("/api/login", json!({"name": name, "password": PASSWORD})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let cookie = set_cookie(&answer.headers, SESSION_COOKIE).unwrap();
    client.cookie = cookie.split(';').next().unwrap().to_string();
    client.csrf = answer.json()["csrf"].as_str().unwrap().to_string();
    client
}

fn ids(answer: &Answer) -> Vec<String> {
    answer.json().as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_string()).collect()
}

fn event_ids(answer: &Answer) -> Vec<String> {
    answer.json()["events"].as_array().unwrap().iter().map(|e| e["event.id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_wrong_passwords_are_rate_limited() {
    let w = world().await;
    let anonymous = Client::anonymous(&w.app);
    assert_eq!(anonymous.get("/api/alerts").await.status, StatusCode::UNAUTHORIZED);
    let page = anonymous.get("/alerts").await;
    assert_eq!((page.status, page.headers[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/login"));

    let answer = anonymous.post_json("/api/login", json!({"name": "dsl-a", "password": PASSWORD})).await;
    let cookie = set_cookie(&answer.headers, SESSION_COOKIE).unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }

    for _ in 0..5 {
        let wrong = anonymous.post_json("/api/login", json!({"name": "ict-a", "password": "not the password"})).await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.body);
        assert!(wrong.json()["error"].as_str().unwrap().contains("wrong name or password"));
    }
    let limited = anonymous.post_json("/api/login", json!({"name": "ict-a", "password": PASSWORD})).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "even the right password: {}", limited.body);
    let elsewhere = Client { address: "192.0.2.99:1".parse().unwrap(), ..Client::anonymous(&w.app) };
    let limited = elsewhere.post_json("/api/login", json!({"name": "ict-a", "password": PASSWORD})).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "the account is limited from any address");
    let other = anonymous.post_json("/api/login", json!({"name": "admin", "password": PASSWORD})).await;
    assert_eq!(other.status, StatusCode::TOO_MANY_REQUESTS, "and the address for any account");
    let unknown = elsewhere.post_json("/api/login", json!({"name": "nobody", "password": PASSWORD})).await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN);

    let failed =
        w.store.audit_log(&AuditQuery { action: Some("login-failed".into()), limit: 100, ..Default::default() });
    assert_eq!(failed.unwrap().len(), 6);
    let logins = w.store.audit_log(&AuditQuery { action: Some("login".into()), limit: 100, ..Default::default() });
    assert_eq!(logins.unwrap()[0].entry.address, "192.0.2.1");
}

#[tokio::test]
async fn the_sign_in_form_needs_its_cookie_token_and_signing_out_ends_the_session() {
    let w = world().await;
    let anonymous = Client::anonymous(&w.app);
    let form = anonymous.get("/login").await;
    let login_cookie = set_cookie(&form.headers, LOGIN_COOKIE).unwrap().split(';').next().unwrap().to_string();
    let token = login_cookie.split('=').nth(1).unwrap().to_string();
    assert!(form.body.contains(&format!("value=\"{token}\"")));

    let fields = [("name", "dsl-a"), ("password", PASSWORD), ("login_token", token.as_str())];
    let forged = anonymous.post_form("/login", &fields).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "no cookie: a form posted from elsewhere");
    assert!(set_cookie(&forged.headers, SESSION_COOKIE).is_none());

    let browser = Client { cookie: login_cookie, ..Client::anonymous(&w.app) };
    let signed_in = browser.post_form("/login", &fields).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.body);
    let session = set_cookie(&signed_in.headers, SESSION_COOKIE).unwrap().split(';').next().unwrap().to_string();
    let browser = Client { cookie: session, ..Client::anonymous(&w.app) };
    let inbox = browser.get("/alerts").await;
    assert_eq!(inbox.status, StatusCode::OK);
    let csrf = inbox.body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

    assert_eq!(browser.post_form("/logout", &[]).await.status, StatusCode::FORBIDDEN, "no CSRF token");
    assert_eq!(browser.post_form("/logout", &[("csrf", "guess")]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.post_form("/logout", &[("csrf", &csrf)]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/api/alerts").await.status, StatusCode::UNAUTHORIZED, "the session ended");
}

#[tokio::test]
async fn every_change_needs_the_csrf_token() {
    let w = world().await;
    let dsl = login(&w.app, "dsl-a").await;
    let forged = Client { csrf: "wrong".into(), ..login(&w.app, "dsl-a").await };
    for path in ["/api/alerts/a-dsl/acknowledge", "/api/search", "/api/export", "/api/logout"] {
        let answer = forged.post_json(path, json!({"alert": "a-dsl", "format": "csv"})).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}: {}", answer.body);
    }
    for path in ["/alerts/a-dsl/acknowledge", "/alerts/a-dsl/note", "/search", "/search/export", "/audit", "/logout"] {
        assert_eq!(dsl.post_form(path, &[("text", "x")]).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(w.store.alert("a-dsl").unwrap().unwrap().status, Status::New);
    let answer = dsl.post_form("/alerts/a-dsl/note", &[("csrf", &dsl.csrf), ("text", "Spoke to her tutor")]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(w.store.notes("a-dsl").unwrap()[0].text, "Spoke to her tutor");
}

#[tokio::test]
async fn each_role_sees_only_its_alerts_and_only_in_its_tenants() {
    let w = world().await;
    let (dsl, ict, trust) =
        (login(&w.app, "dsl-a").await, login(&w.app, "ict-a").await, login(&w.app, "trust-ict").await);
    assert_eq!(ids(&dsl.get("/api/alerts").await), ["a-dsl-2", "a-dsl"]);
    assert_eq!(ids(&ict.get("/api/alerts").await), ["a-ict"]);
    assert_eq!(ids(&trust.get("/api/alerts").await), ["a-ict"]);
    assert_eq!(ids(&dsl.get("/api/alerts?status=new&severity=critical&category=self-harm").await).len(), 2);
    assert!(ids(&dsl.get("/api/alerts?status=closed").await).is_empty());
    assert_eq!(dsl.get("/api/alerts?status=bogus").await.status, StatusCode::BAD_REQUEST);
    for name in ["gov-a", "admin"] {
        let other = login(&w.app, name).await;
        assert_eq!(other.get("/api/alerts").await.status, StatusCode::FORBIDDEN, "{name}: no pupil data");
        assert_eq!(other.get("/api/alerts/a-dsl").await.status, StatusCode::NOT_FOUND, "{name}");
        assert_eq!(other.post_json("/api/search", json!({})).await.status, StatusCode::FORBIDDEN, "{name}");
        assert_eq!(other.get("/search").await.status, StatusCode::FORBIDDEN, "{name}");
    }

    // Another school's alert, and an alert for the other role, are not there.
    for (client, id) in [(&dsl, "b-dsl"), (&dsl, "a-ict"), (&ict, "a-dsl"), (&trust, "b-dsl")] {
        assert_eq!(client.get(&format!("/api/alerts/{id}")).await.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(client.get(&format!("/alerts/{id}")).await.status, StatusCode::NOT_FOUND, "{id}");
        for action in ["acknowledge", "assign", "outcome", "note"] {
            let body = json!({"outcome": "no-concern", "text": "x", "assignee": ""});
            let answer = client.post_json(&format!("/api/alerts/{id}/{action}"), body).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{id} {action}");
        }
    }
    let untouched = w.store.alert("b-dsl").unwrap().unwrap();
    assert_eq!((untouched.status, untouched.assignee), (Status::New, None));
    assert!(w.store.notes("b-dsl").unwrap().is_empty());
    // Assigning to an account of another school is refused.
    let answer = dsl.post_json("/api/alerts/a-dsl/assign", json!({"assignee": "ict-a"})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
}

#[tokio::test]
async fn an_alert_is_acknowledged_assigned_closed_with_an_outcome_and_every_step_audited() {
    let w = world().await;
    let (dsl, deputy) = (login(&w.app, "dsl-a").await, login(&w.app, "deputy-a").await);
    let view = dsl.get("/api/alerts/a-dsl").await.json();
    assert_eq!(view["alert"]["status"], "new");
    let others: Vec<&str> = view["others"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(others, ["a-dsl-2"], "the pupil's other alert");

    let acked = dsl.post_json("/api/alerts/a-dsl/acknowledge", json!({})).await;
    assert_eq!((acked.status, acked.json()["status"].clone()), (StatusCode::OK, json!("acknowledged")));
    let again = deputy.post_json("/api/alerts/a-dsl/acknowledge", json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.json()["error"].as_str().unwrap().contains("already acknowledged by dsl-a"));
    assert_eq!(deputy.get("/api/alerts/a-dsl").await.json()["alert"]["acknowledged_by"], "dsl-a", "seen by every user");

    let assigned = dsl.post_json("/api/alerts/a-dsl/assign", json!({"assignee": "deputy-a"})).await;
    assert_eq!(assigned.json()["assignee"], "deputy-a");
    let no_reason = deputy.post_json("/api/alerts/a-dsl/outcome", json!({"outcome": "false-positive"})).await;
    assert_eq!(no_reason.status, StatusCode::CONFLICT, "{}", no_reason.body);
    let bad = deputy.post_json("/api/alerts/a-dsl/outcome", json!({"outcome": "shrug"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let closed = deputy
        .post_json("/api/alerts/a-dsl/outcome", json!({"outcome": "false-positive", "reason": "a song lyric"}))
        .await;
    let closed = closed.json();
    assert_eq!((closed["status"].clone(), closed["outcome"].clone()), (json!("closed"), json!("false-positive")));
    assert_eq!(closed["closed_by"], "deputy-a");
    let note = deputy.post_json("/api/alerts/a-dsl/note", json!({"text": "Rule to be narrowed."})).await;
    assert_eq!(note.status, StatusCode::OK);
    assert_eq!(dsl.get("/api/alerts?status=closed").await.json()[0]["outcome_reason"], "a song lyric");

    let trail = w.store.audit_log(&AuditQuery { limit: 100, ..Default::default() }).unwrap();
    let steps: Vec<(String, String, Option<String>)> = trail
        .iter()
        .filter(|r| r.entry.target.as_deref() == Some("a-dsl"))
        .map(|r| {
            (r.entry.actor.clone(), r.entry.action.clone(), Some(r.entry.detail.clone()).filter(|d| !d.is_empty()))
        })
        .rev()
        .collect();
    let expected = [
        ("dsl-a", "view-alert", None),
        ("dsl-a", "acknowledge", None),
        ("deputy-a", "view-alert", None),
        ("dsl-a", "assign", Some("assigned to deputy-a")),
        ("deputy-a", "outcome", Some("false-positive")),
        ("deputy-a", "note", None),
    ];
    let expected: Vec<(String, String, Option<String>)> =
        expected.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.map(str::to_string))).collect();
    assert_eq!(steps, expected);
    assert!(trail
        .iter()
        .all(|r| r.entry.address == "192.0.2.1" && r.entry.tenant.as_deref().is_none_or(|t| t == "school-a")));
}

#[tokio::test]
async fn a_dsl_searches_only_an_alerts_user_and_ict_only_its_tenants() {
    let w = world().await;
    let (dsl, ict, trust) =
        (login(&w.app, "dsl-a").await, login(&w.app, "ict-a").await, login(&w.app, "trust-ict").await);
    let refused = dsl.post_json("/api/search", json!({"q": ""})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "a DSL searches from an alert");
    assert_eq!(event_ids(&dsl.post_json("/api/search", json!({"alert": "a-dsl"})).await), ["e2", "e1"]);
    let escape =
        dsl.post_json("/api/search", json!({"alert": "a-dsl", "q": "user.name:r.jones OR tenant:school-b"})).await;
    assert!(event_ids(&escape).is_empty(), "the user limit holds whatever the query");
    assert_eq!(dsl.post_json("/api/search", json!({"alert": "b-dsl"})).await.status, StatusCode::NOT_FOUND);

    assert_eq!(event_ids(&ict.post_json("/api/search", json!({"q": ""})).await), ["e3", "e2", "e1"]);
    assert!(event_ids(&ict.post_json("/api/search", json!({"q": "tenant:school-b"})).await).is_empty());
    let other_school = ict.post_json("/api/search", json!({"tenant": "school-b"})).await;
    assert_eq!(other_school.status, StatusCode::FORBIDDEN);
    assert_eq!(event_ids(&trust.post_json("/api/search", json!({})).await), ["e4", "e3", "e2", "e1"]);
    let pivot = ict.post_json("/api/search", json!({"q": "url.domain:\"x.example\""})).await;
    assert_eq!(event_ids(&pivot), ["e3"]);
    let bad = ict.post_json("/api/search", json!({"q": "colour:red"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"].as_str().unwrap().contains("searchable fields"));
    let ranged = ict.post_json("/api/search", json!({"from": "2026-03-04T10:02", "to": "2026-03-04T10:03"})).await;
    assert_eq!(event_ids(&ranged), ["e2"], "from inclusive, to exclusive");
    let answer = ict.post_json("/api/search", json!({"q": ""})).await.json();
    let counted: u64 = answer["histogram"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!((answer["found"].clone(), counted), (json!(3), 3));
    assert_eq!(event_ids(&ict.post_json("/api/search", json!({"offset": 2})).await), ["e1"], "paging");

    // One event: the ICT manager's tenants; a DSL only from an alert of its user.
    assert_eq!(
        ict.get("/api/events/school-a/e3").await.json()["message"],
        "GET http://x.example/<script>alert(1)</script>"
    );
    assert_eq!(ict.get("/api/events/school-b/e4").await.status, StatusCode::FORBIDDEN);
    assert_eq!(trust.get("/api/events/school-b/e4").await.status, StatusCode::OK);
    assert_eq!(dsl.get("/api/events/school-a/e1").await.status, StatusCode::FORBIDDEN);
    assert_eq!(dsl.get("/api/events/school-a/e1?alert=a-dsl").await.status, StatusCode::OK);
    assert_eq!(dsl.get("/api/events/school-a/e3?alert=a-dsl").await.status, StatusCode::NOT_FOUND, "another pupil");
    assert_eq!(dsl.get("/api/events/school-b/e4?alert=a-dsl").await.status, StatusCode::NOT_FOUND);

    let searches = w.store.audit_log(&AuditQuery { action: Some("search".into()), limit: 100, ..Default::default() });
    let searches = searches.unwrap();
    assert!(
        searches.iter().any(|r| r.entry.actor == "dsl-a"
            && r.entry.target.as_deref() == Some("a-dsl")
            && r.entry.detail.ends_with(": 2 results")),
        "{searches:#?}"
    );
    let views = w.store.audit_log(&AuditQuery { action: Some("view-event".into()), limit: 100, ..Default::default() });
    assert_eq!(views.unwrap().len(), 3, "only the views answered");
}

#[tokio::test]
async fn exports_are_bounded_to_the_scope_and_audited() {
    let w = world().await;
    let (dsl, ict) = (login(&w.app, "dsl-a").await, login(&w.app, "ict-a").await);
    let csv = ict.post_json("/api/export", json!({"format": "csv"})).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("vigil-export.csv"));
    assert_eq!(csv.body.lines().count(), 4, "a header and school-a's three events: {}", csv.body);
    assert!(!csv.body.contains("school b secret"));
    let ndjson = dsl.post_json("/api/export", json!({"format": "ndjson", "alert": "a-dsl"})).await;
    let users: Vec<String> =
        ndjson.body.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["user.name"].to_string()).collect();
    assert_eq!(users, ["\"l.evans\"", "\"l.evans\""]);
    assert_eq!(dsl.post_json("/api/export", json!({"format": "csv"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(ict.post_json("/api/export", json!({"format": "xlsx"})).await.status, StatusCode::BAD_REQUEST);
    let exports = w.store.audit_log(&AuditQuery { action: Some("export".into()), limit: 10, ..Default::default() });
    let details: Vec<String> = exports.unwrap().into_iter().map(|r| r.entry.detail).collect();
    assert_eq!(
        details,
        ["ndjson of query \"\" from \"\" to \"\": 2 events", "csv of query \"\" from \"\" to \"\": 3 events"]
    );
}

#[tokio::test]
async fn hostile_log_content_is_shown_as_text_under_a_strict_csp() {
    let w = world().await;
    let ict = login(&w.app, "ict-a").await;
    let page = ict.get("/events/school-a/e3").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("GET http://x.example/&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", page.body);
    assert!(!page.body.contains("<script"), "{}", page.body);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'none'"), "{csp}");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");

    let results = ict.post_form("/search", &[("csrf", &ict.csrf), ("q", "")]).await;
    assert_eq!(results.status, StatusCode::OK);
    assert!(results.body.contains("&lt;script&gt;") && !results.body.contains("<script"));
    assert!(results.body.contains("<svg class=\"histogram\""));
    assert!(!results.body.contains("style="), "no inline style");

    let alert = ict.get("/alerts/a-ict").await;
    assert!(alert.body.contains("&lt;img src=x onerror=alert(1)&gt;") && alert.body.contains("&lt;b&gt;LAPTOP"));
    assert!(!alert.body.contains("<img") && !alert.body.contains("<b>"));
}

#[tokio::test]
async fn the_audit_trail_and_accounts_are_for_administrators() {
    let w = world().await;
    let (ict, admin) = (login(&w.app, "ict-a").await, login(&w.app, "admin").await);
    ict.post_json("/api/search", json!({"q": "user.name:r.jones"})).await;
    assert_eq!(ict.get("/api/audit").await.status, StatusCode::FORBIDDEN);
    assert_eq!(ict.get("/audit").await.status, StatusCode::FORBIDDEN);
    assert_eq!(ict.get("/users").await.status, StatusCode::FORBIDDEN);
    let trail = admin.get("/api/audit?action=search").await.json();
    assert_eq!(trail[0]["actor"], "ict-a");
    assert!(trail[0]["detail"].as_str().unwrap().contains("user.name:r.jones"));
    let filtered = admin.post_form("/audit", &[("csrf", &admin.csrf), ("contains", "r.jones")]).await;
    assert!(filtered.body.contains("user.name:r.jones") && filtered.body.contains("ict-a"));
    let accounts = admin.get("/users").await;
    assert!(accounts.body.contains("<td>trust-ict</td><td>ict</td><td>*</td>"), "{}", accounts.body);
    assert!(accounts.body.contains("<td>dsl-a</td><td>dsl</td><td>school-a</td>"), "{}", accounts.body);
}
