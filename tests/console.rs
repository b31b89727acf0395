//! `vigil serve` and `vigil users` on the quickstart: the alerts `vigil run`
//! raised are in the console's store (once, whatever is replayed), the demo
//! account is printed at start-up, the API answers over a real socket, and
//! accounts are made on the server with passwords kept off the command line.

use crate::util::*;
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

fn alert_ids(dir: &TestDir) -> Vec<String> {
    let store = vigil_store::Store::open(&dir.join("data/console.db")).unwrap();
    stored_alerts(&store).into_iter().map(|a| a.alert.id).collect()
}

#[test]
fn the_quickstart_alerts_are_served_by_the_console_with_a_demo_account() {
    let dir = TestDir::new();
    let config = quickstart_config(&dir, "");
    assert_success(&run(vigil().args(["run", "--once", "--config"]).arg(&config)), "vigil run --once");
    let ids = alert_ids(&dir);
    assert_eq!(ids.len(), 5, "the quickstart's five alerts: {ids:?}");
    std::fs::remove_file(dir.join("data/ingest/checkpoints.json")).unwrap();
    // Forgetting the alerter's state too: every alert is raised again.
    for state in ["throttle.json", "windows.json"] {
        std::fs::remove_file(dir.join("data/alerter").join(state)).unwrap();
    }
    assert_success(&run(vigil().args(["run", "--once", "--config"]).arg(&config)), "replay");
    assert_eq!(alert_ids(&dir), ids, "a replay raises the same ids, stored once");

    let port = console_port(&config);
    let mut serve = Proc::spawn("vigil serve", &dir, vigil().args(["serve", "--config"]).arg(&config));
    let password = demo_password(&serve);
    let login = format!(r#"{{"name": "demo", "password": "{password}"}}"#);
    let answer =
        wait_for(Duration::from_secs(30), "the console", || http(port, "POST", "/api/login", &[], Some(&login)));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let cookie = answer.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    assert!(!answer.header("set-cookie").unwrap().contains("Secure"), "plain http on localhost: no Secure flag");
    let csrf = answer.json()["csrf"].as_str().unwrap().to_string();
    let inbox = http(port, "GET", "/api/alerts", &[("Cookie", &cookie)], None).unwrap();
    let mut served: Vec<String> =
        inbox.json().as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().into()).collect();
    served.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(served, expected);
    let search = r#"{"q": "search.query:\"self harm\""}"#;
    let found =
        http(port, "POST", "/api/search", &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)], Some(search)).unwrap();
    assert_eq!(found.json()["events"][0]["user.name"], "l.evans", "{}", found.body);
    assert!(serve.terminate().success(), "SIGTERM is a clean exit\n{}", serve.stderr());
    assert_eq!(serve.stderr().matches(&password).count(), 1, "the password is printed once, never logged");
}

#[test]
fn accounts_are_added_with_passwords_from_stdin_or_the_environment_only() {
    let dir = TestDir::new();
    let config = quickstart_config(&dir, "");
    let add = |name: &str, roles: &str, stdin: &str| {
        let mut child = vigil()
            .args(["users", "add", "--roles", roles, "--tenants", "demo-primary", "--config"])
            .arg(&config)
            .arg(name)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    assert_success(&add("dsl1", "dsl,admin", "a long enough password\n"), "users add");
    let dup = add("dsl1", "dsl", "a long enough password\n");
    assert!(
        !dup.status.success() && String::from_utf8_lossy(&dup.stderr).contains("already an account named \"dsl1\"")
    );
    let short = add("dsl2", "dsl", "short\n");
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"), "{short:?}");
    let role = add("dsl3", "headteacher", "a long enough password\n");
    assert!(String::from_utf8_lossy(&role.stderr).contains("\"headteacher\" is not a role"), "{role:?}");
    let out = run(vigil()
        .args(["users", "add", "--roles", "ict", "--tenants", "*", "--password-env", "ICT_PASSWORD", "--config"])
        .arg(&config)
        .arg("ict1")
        .env("ICT_PASSWORD", "another long password"));
    assert_success(&out, "users add from the environment");
    assert_success(&run(vigil().args(["users", "disable", "--config"]).arg(&config).arg("ict1")), "disable");
    let list = run(vigil().args(["users", "list", "--config"]).arg(&config));
    assert_eq!(String::from_utf8_lossy(&list.stdout), "dsl1\tdsl,admin\tdemo-primary\nict1\tict\t* (disabled)\n");

    // With accounts in the store, no demo account is made; a disabled one cannot sign in.
    let port = console_port(&config);
    let serve = Proc::spawn("vigil serve", &dir, vigil().args(["serve", "--config"]).arg(&config));
    let login = r#"{"name": "ict1", "password": "another long password"}"#;
    let refused =
        wait_for(Duration::from_secs(30), "the console", || http(port, "POST", "/api/login", &[], Some(login)));
    assert_eq!(refused.status, 403, "{}", refused.body);
    let login = r#"{"name": "dsl1", "password": "a long enough password"}"#;
    assert_eq!(http(port, "POST", "/api/login", &[], Some(login)).unwrap().status, 200);
    assert!(!serve.stderr().contains("demo account"));
}
