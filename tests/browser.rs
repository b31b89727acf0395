//! The console in headless Chromium (Debian's `chromium` and
//! `chromium-driver`, which scripts/test.sh installs), driven over WebDriver:
//! sign in, search and pivot, open an event, open an alert, acknowledge it
//! and record an outcome, be refused another school's alert, and see a log
//! line holding `<script>` as text. Screenshots of each page are saved under
//! `target/tmp/browser/`.

use crate::util::*;
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PASSWORD: &str = "staff password 123";
/// A request whose URL (and so raw line) holds a script, from an address
/// with no user.
const HOSTILE: &str = "1794819700.000 5 10.20.9.9 TCP_MISS/200 10 GET http://a.example/<script>alert(1)</script> - HIER_DIRECT/1.2.3.4 text/html\n";
/// Another school's pupil searching for self-harm.
const OTHER_SCHOOL: &str = "1794819710.000 167 10.30.1.5 TCP_MISS/200 39820 GET https://www.bing.com/search?q=how+to+self+harm+without+anyone+knowing b.pupil HIER_DIRECT/204.79.197.200 text/html\n";

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// chromedriver on a free port, killed when the test ends.
fn chromedriver(dir: &TestDir) -> (Proc, u16) {
    let port = free_port();
    let mut cmd = Command::new("chromedriver");
    cmd.arg(format!("--port={port}"));
    if let Err(e) = Command::new("chromedriver").arg("--version").output() {
        panic!(
            "cannot run chromedriver ({e}): install Debian's `chromium` and `chromium-driver` (scripts/test.sh does)"
        );
    }
    let proc = Proc::spawn("chromedriver", dir, &mut cmd);
    wait_for(Duration::from_secs(30), "chromedriver", || std::net::TcpStream::connect(("127.0.0.1", port)).ok());
    (proc, port)
}

async fn browser(port: u16) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"],
        }),
    );
    ClientBuilder::native()
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session from chromedriver")
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

async fn text(client: &Client, css: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match texts(client, css).await.into_iter().next() {
            Some(found) => return found,
            None if std::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            None => panic!("no element matches {css}"),
        }
    }
}

/// `attempt` until it succeeds, for up to 10 s: a page still loading after a
/// click has stale or missing elements. An element that is gone was not
/// clicked or typed into, so trying again does nothing twice.
async fn again<T, F, Fut>(what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match attempt().await {
            Ok(done) => return done,
            Err(e) if std::time::Instant::now() < deadline => {
                eprintln!("{what}: {e}; trying again");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

/// The texts of the elements `css` selects.
async fn texts(client: &Client, css: &str) -> Vec<String> {
    again(css, || async move {
        let mut out = Vec::new();
        for element in client.find_all(Locator::Css(css)).await? {
            out.push(element.text().await?);
        }
        Ok(out)
    })
    .await
}

/// Clicks the element `xpath` selects, a link or a form's button (the
/// console has no script: every click loads a page), and waits until the
/// page it loads has replaced the old one.
async fn click(client: &Client, xpath: &str) {
    let old_page = client.find(Locator::Css("html")).await.unwrap();
    again(xpath, || async move { client.find(Locator::XPath(xpath)).await?.click().await }).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while old_page.tag_name().await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "clicking {xpath} loaded no page within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    again("the loaded page", || async move {
        match client.execute("return document.readyState", vec![]).await? {
            state if state == "complete" => Ok(()),
            state => Err(fantoccini::error::CmdError::NotJson(format!("still {state}"))),
        }
    })
    .await;
}

async fn fill(client: &Client, css: &str, value: &str) {
    again(css, || async move {
        let field = client.find(Locator::Css(css)).await?;
        field.clear().await?;
        field.send_keys(value).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dsl_signs_in_searches_pivots_and_handles_an_alert_in_chromium() {
    let dir = TestDir::new();
    let hostile = dir.write("extra/hostile.log", HOSTILE);
    let other = dir.write("extra/oak.log", OTHER_SCHOOL);
    let extra = format!(
        "[[sources]]\nname = \"hostile\"\ntype = \"file\"\npath = {hostile:?}\nformat = \"squid\"\n\
         [[sources]]\nname = \"oak\"\ntype = \"file\"\npath = {other:?}\nformat = \"squid\"\ntenant = \"oak-academy\"\n"
    );
    let config = quickstart_config(&dir, &extra);
    assert_success(&run(vigil().args(["run", "--once", "--config"]).arg(&config)), "vigil run --once");
    let add = vigil()
        .args(["users", "add", "--roles", "dsl,ict", "--tenants", "demo-primary", "--password-env", "PW", "--config"])
        .arg(&config)
        .arg("staff")
        .env("PW", PASSWORD)
        .output()
        .unwrap();
    assert_success(&add, "vigil users add");
    let store = vigil_store::Store::open(&dir.join("data/console.db")).unwrap();
    let filter = vigil_store::AlertFilter {
        tenants: vigil_store::TenantScope::Only(vec!["oak-academy".into()]),
        audiences: vec![vigil_core::config::Role::Dsl],
        status: None,
        severity: None,
        category: None,
        user_name: None,
        limit: 10,
    };
    let other_school = store.alerts(&filter).unwrap().pop().expect("oak-academy's alert").alert.id;

    let port = console_port(&config);
    let mut serve = Proc::spawn("vigil serve", &dir, vigil().args(["serve", "--config"]).arg(&config));
    wait_for(Duration::from_secs(30), "the console", || http(port, "GET", "/login", &[], None));
    let (_driver, driver_port) = chromedriver(&dir);
    let client = browser(driver_port).await;
    let console = format!("http://127.0.0.1:{port}");

    // Sign in: the inbox, this school's alerts only.
    client.goto(&format!("{console}/login")).await.unwrap();
    screenshot(&client, "login").await;
    fill(&client, "input[name=name]", "staff").await;
    fill(&client, "input[name=password]", PASSWORD).await;
    click(&client, "//form[@class='login']//button").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/alerts");
    let categories = texts(&client, "table.alerts tbody td:nth-child(3)").await;
    assert_eq!(categories.len(), 5, "{categories:?}");
    assert!(categories.contains(&"self-harm".to_string()) && categories.contains(&"brute-force".to_string()));
    assert!(!texts(&client, "table.alerts tbody td:nth-child(5)").await.iter().any(|t| t == "oak-academy"));
    screenshot(&client, "inbox").await;

    // Search; the hostile line is text, not markup; pivot on a user.
    client.goto(&format!("{console}/search")).await.unwrap();
    fill(&client, "input[name=q]", "event.kind:proxy").await;
    click(&client, "//form[@class='query']//button").await;
    let whats = texts(&client, "td.what").await;
    assert!(whats.iter().any(|w| w.contains("<script>alert(1)</script>")), "{whats:?}");
    let scripts = client.execute("return document.scripts.length", vec![]).await.unwrap();
    assert_eq!(scripts, serde_json::json!(0));
    assert_eq!(client.find_all(Locator::Css("svg.histogram rect")).await.unwrap().len(), 30);
    screenshot(&client, "search").await;
    click(&client, "(//form[@class='pivot']/button[text()='l.evans'])[1]").await;
    let users = texts(&client, "table.events tbody td:nth-child(4)").await;
    assert!(!users.is_empty() && users.iter().all(|u| u == "l.evans"), "{users:?}");
    assert_eq!(
        client.find(Locator::Css("input[name=q]")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("user.name:\"l.evans\"")
    );
    screenshot(&client, "pivot").await;

    // The hostile event's page shows its raw line as text.
    fill(&client, "input[name=q]", "source.ip:\"10.20.9.9\"").await;
    click(&client, "//form[@class='query']//button").await;
    click(&client, "//table[contains(@class,'events')]//tbody/tr[1]/td[1]/a").await;
    assert!(text(&client, "pre.raw").await.contains("GET http://a.example/<script>alert(1)</script>"));
    screenshot(&client, "event").await;

    // An alert: acknowledge it, then record an outcome.
    client.goto(&format!("{console}/alerts?category=self-harm")).await.unwrap();
    click(&client, "//table[contains(@class,'alerts')]//tbody/tr[1]/td[1]/a").await;
    let alert_path = client.current_url().await.unwrap().path().to_string();
    assert_eq!(text(&client, "strong.status").await, "New");
    assert!(texts(&client, "table.context td").await.iter().any(|t| t.contains("self harm")));
    screenshot(&client, "alert").await;
    click(&client, "//button[@value='acknowledge']").await;
    assert_eq!(text(&client, "strong.status").await, "Acknowledged");
    client.find(Locator::Css("select[name=outcome]")).await.unwrap().select_by_value("no-concern").await.unwrap();
    fill(&client, "input[name=reason]", "Research for a PSHE lesson; spoke to her tutor").await;
    click(&client, "//button[text()='Record outcome']").await;
    assert_eq!(text(&client, "strong.status").await, "Closed");
    assert_eq!(text(&client, "strong.outcome").await, "No concern");
    screenshot(&client, "alert-closed").await;
    let id = alert_path.trim_start_matches("/alerts/");
    let stored = store.alert(id).unwrap().unwrap();
    assert_eq!((stored.status, stored.closed_by.as_deref()), (vigil_store::Status::Closed, Some("staff")));

    // Another school's alert is refused.
    client.goto(&format!("{console}/alerts/{other_school}")).await.unwrap();
    assert!(text(&client, "p.message").await.contains("that you may see"));
    assert_eq!(text(&client, "h1").await, "Not Found");
    screenshot(&client, "refused").await;

    client.close().await.unwrap();
    assert!(serve.terminate().success(), "{}", serve.stderr());
    eprintln!("screenshots in {}", screenshots().display());
}
