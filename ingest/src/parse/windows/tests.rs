use super::*;
use crate::parse::testutil::{ctx, parse_lines, parse_one};
use serde_json::{json, Value};
use vigil_core::Outcome;

/// An NXLog `im_msvistalog` line: System fields and event data flattened
/// to the top level, local time without a zone.
fn nxlog(id: u32, data: Value) -> String {
    let mut line = json!({
        "EventTime": "2026-03-04 10:42:00",
        "Hostname": "DC01.stmarys.local",
        "Keywords": -9214364837600034816i64,
        "EventType": "AUDIT_SUCCESS",
        "SeverityValue": 2,
        "Severity": "INFO",
        "EventID": id,
        "SourceName": "Microsoft-Windows-Security-Auditing",
        "ProviderGuid": "{54849625-5478-4994-A5BA-3E3B0328C30D}",
        "Version": 2,
        "Task": 12544,
        "RecordNumber": 2366430,
        "Channel": "Security",
        "Message": "An account was successfully logged on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-0-0",
        "EventReceivedTime": "2026-03-04 10:42:01",
        "SourceModuleName": "eventlog",
        "SourceModuleType": "im_msvistalog"
    });
    for (k, v) in data.as_object().unwrap() {
        line[k] = v.clone();
    }
    line.to_string()
}

fn one(line: &str) -> Event {
    parse_one(&mut WindowsParser, line).unwrap()
}

fn err(line: &str) -> String {
    parse_lines(&mut WindowsParser, &[line]).unwrap_err().0
}

fn logon_4624() -> Value {
    json!({
        "SubjectUserSid": "S-1-5-18", "SubjectUserName": "DC01$", "SubjectDomainName": "STMARYS",
        "SubjectLogonId": "0x3e7", "TargetUserSid": "S-1-5-21-1377283216-344919071-3415362939-1104",
        "TargetUserName": "l.evans", "TargetDomainName": "STMARYS", "TargetLogonId": "0x8dcdc",
        "LogonType": "3", "LogonProcessName": "NtLmSsp ", "AuthenticationPackageName": "NTLM",
        "WorkstationName": "LIB-PC-07", "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
        "TransmittedServices": "-", "LmPackageName": "NTLM V2", "KeyLength": "128", "ProcessId": "0x0",
        "ProcessName": "-", "IpAddress": "10.20.1.44", "IpPort": "50122", "ImpersonationLevel": "%%1833",
        "RestrictedAdminMode": "-", "TargetOutboundUserName": "-", "TargetOutboundDomainName": "-",
        "VirtualAccount": "%%1843", "TargetLinkedLogonId": "0x0", "ElevatedToken": "%%1842"
    })
}

#[test]
fn nxlog_successful_logon_fills_every_field() {
    let line = nxlog(4624, logon_4624());
    let e = one(&line);
    assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Auth, "logged-in", Outcome::Success));
    assert_eq!(e.timestamp.to_rfc3339(), "2026-03-04T10:42:00+00:00");
    assert_eq!(e.code.as_deref(), Some("4624"));
    assert_eq!(e.reason.as_deref(), Some("logon type 3 (network)"));
    assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("l.evans"), Some("STMARYS")));
    assert_eq!((e.source_ip.as_deref(), e.source_port), (Some("10.20.1.44"), Some(50122)));
    assert_eq!(e.device_name.as_deref(), Some("LIB-PC-07"));
    assert_eq!(e.host_name.as_deref(), Some("DC01.stmarys.local"));
    assert_eq!((e.user_target_name, e.group_name), (None, None));
    assert_eq!((e.observer_product.as_str(), e.log_format.as_str()), ("windows", "windows"));
    assert_eq!(e.message, line);
    let c = ctx();
    assert_eq!(e.id, Event::derive_id(c.tenant, c.source, c.offset, line.as_bytes()));
    assert_eq!(e.tenant, "st-marys");
}

#[test]
fn winlogbeat_failed_logon_reads_status_codes() {
    let line = r#"{"@timestamp":"2026-03-04T10:42:00.123Z","agent":{"type":"winlogbeat","version":"8.12.0"},"event":{"code":"4625","kind":"event","provider":"Microsoft-Windows-Security-Auditing","action":"logon-failed","category":["authentication"],"type":["start"],"outcome":"failure"},"host":{"name":"dc01.stmarys.local"},"log":{"level":"information"},"message":"An account failed to log on.","winlog":{"channel":"Security","computer_name":"DC01.stmarys.local","event_id":"4625","provider_name":"Microsoft-Windows-Security-Auditing","record_id":229977,"event_data":{"SubjectUserSid":"S-1-0-0","SubjectUserName":"-","SubjectDomainName":"-","SubjectLogonId":"0x0","TargetUserSid":"S-1-0-0","TargetUserName":"l.evans","TargetDomainName":"STMARYS","Status":"0xc000006d","FailureReason":"%%2313","SubStatus":"0xc000006a","LogonType":"10","LogonProcessName":"User32 ","AuthenticationPackageName":"Negotiate","WorkstationName":"LIB-PC-07","TransmittedServices":"-","LmPackageName":"-","KeyLength":"0","ProcessId":"0x0","ProcessName":"-","IpAddress":"::ffff:10.20.1.44","IpPort":"50123"},"keywords":["Audit Failure"],"opcode":"Info","task":"Logon","api":"wineventlog"}}"#;
    let e = one(line);
    assert_eq!((e.action.as_str(), e.outcome), ("login-failed", Outcome::Failure));
    assert_eq!(e.timestamp.to_rfc3339(), "2026-03-04T10:42:00.123+00:00");
    assert_eq!(e.code.as_deref(), Some("4625"));
    assert_eq!(e.reason.as_deref(), Some("0xc000006a (bad password); logon type 10 (remote interactive)"));
    assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("l.evans"), Some("STMARYS")));
    assert_eq!((e.source_ip.as_deref(), e.source_port), (Some("10.20.1.44"), Some(50123)));
    assert_eq!(e.device_name.as_deref(), Some("LIB-PC-07"));
    assert_eq!(e.host_name.as_deref(), Some("DC01.stmarys.local"));
}

#[test]
fn unknown_accounts_are_invalid_users_whichever_code_says_so() {
    let mut data = logon_4624();
    data["Status"] = json!("0xC000006D");
    data["SubStatus"] = json!("0xC0000064");
    data["TargetUserName"] = json!("administrator");
    let e = one(&nxlog(4625, data.clone()));
    assert_eq!((e.action.as_str(), e.outcome), ("invalid-user", Outcome::Failure));
    assert_eq!(e.reason.as_deref(), Some("0xC0000064 (no such user); logon type 3 (network)"));
    data["Status"] = json!("0xC0000064");
    data["SubStatus"] = json!("0x0");
    assert_eq!(one(&nxlog(4625, data.clone())).action, "invalid-user");
    // A locked-out account: the sub-status 0x0 gives way to the status.
    data["Status"] = json!("0xc0000234");
    let e = one(&nxlog(4625, data.clone()));
    assert_eq!(e.action, "login-failed");
    assert_eq!(e.reason.as_deref(), Some("0xc0000234 (account locked out); logon type 3 (network)"));
    // An unlisted code is kept verbatim; no logon type, no suffix.
    data["Status"] = json!("0xC00000FF");
    data["LogonType"] = json!("-");
    assert_eq!(one(&nxlog(4625, data)).reason.as_deref(), Some("0xC00000FF"));
}

#[test]
fn logoffs_name_the_account_and_logon_type() {
    let e = one(&nxlog(
        4634,
        json!({"TargetUserSid": "S-1-5-21-1-2-3-1104", "TargetUserName": "l.evans", "TargetDomainName": "STMARYS",
               "TargetLogonId": "0x8dcdc", "LogonType": 2}),
    ));
    assert_eq!((e.action.as_str(), e.outcome), ("logged-off", Outcome::Success));
    assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("l.evans"), Some("STMARYS")));
    assert_eq!(e.reason.as_deref(), Some("logon type 2 (interactive)"));
    assert_eq!((e.source_ip, e.device_name), (None, None));
}

#[test]
fn explicit_credentials_name_actor_target_and_server() {
    let e = one(&nxlog(
        4648,
        json!({"SubjectUserSid": "S-1-5-21-1-2-3-1105", "SubjectUserName": "t.jones", "SubjectDomainName": "STMARYS",
               "SubjectLogonId": "0x31365", "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
               "TargetUserName": "Administrator", "TargetDomainName": "STMARYS",
               "TargetLogonGuid": "{00000000-0000-0000-0000-000000000000}", "TargetServerName": "mis-server",
               "TargetInfo": "mis-server", "ProcessId": "0x1f4", "ProcessName": "C:\\Windows\\System32\\runas.exe",
               "IpAddress": "::1", "IpPort": "0"}),
    ));
    assert_eq!((e.action.as_str(), e.outcome), ("explicit-credentials", Outcome::Success));
    assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("t.jones"), Some("STMARYS")));
    assert_eq!(e.user_target_name.as_deref(), Some("Administrator"));
    assert_eq!((e.source_ip.as_deref(), e.source_port), (Some("::1"), None));
    assert_eq!(e.reason.as_deref(), Some("target server mis-server"));
}

#[test]
fn account_management_names_actor_and_target() {
    let management = json!({"TargetUserName": "new.pupil", "TargetDomainName": "STMARYS",
        "TargetSid": "S-1-5-21-1-2-3-3601", "SubjectUserSid": "S-1-5-21-1-2-3-1104", "SubjectUserName": "it.admin",
        "SubjectDomainName": "STMARYS", "SubjectLogonId": "0x30d5f", "PrivilegeList": "-", "SamAccountName": "new.pupil",
        "DisplayName": "New Pupil", "UserPrincipalName": "new.pupil@stmarys.local"});
    for (id, action) in [(4720, "account-created"), (4726, "account-deleted"), (4767, "account-unlocked")] {
        let e = one(&nxlog(id, management.clone()));
        assert_eq!((e.action.as_str(), e.outcome), (action, Outcome::Success), "{id}");
        assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("it.admin"), Some("STMARYS")));
        assert_eq!(e.user_target_name.as_deref(), Some("new.pupil"));
        assert_eq!(e.code.as_deref(), Some(id.to_string().as_str()));
    }
}

#[test]
fn powershell_lockout_reads_date_form_and_caller_computer() {
    let line = r#"{"Id":4740,"MachineName":"DC01.stmarys.local","TimeCreated":"\/Date(1772620920000)\/","LevelDisplayName":"Information","EventData":{"TargetUserName":"l.evans","TargetDomainName":"LIB-PC-07","TargetSid":"S-1-5-21-1-2-3-1104","SubjectUserSid":"S-1-5-18","SubjectUserName":"DC01$","SubjectDomainName":"STMARYS","SubjectLogonId":"0x3e7"}}"#;
    let e = one(line);
    assert_eq!((e.action.as_str(), e.outcome), ("account-locked", Outcome::Success));
    assert_eq!(e.timestamp.to_rfc3339(), "2026-03-04T10:42:00+00:00");
    assert_eq!(e.user_target_name.as_deref(), Some("l.evans"));
    assert_eq!(e.device_name.as_deref(), Some("LIB-PC-07"));
    assert_eq!(e.user_name.as_deref(), Some("DC01$"));
    assert_eq!(e.host_name.as_deref(), Some("DC01.stmarys.local"));
}

#[test]
fn xml_as_json_group_addition_reads_data_list() {
    let line = r##"{"Event":{"System":{"Provider":{"@Name":"Microsoft-Windows-Security-Auditing"},"EventID":{"@Qualifiers":"","#text":"4728"},"TimeCreated":{"@SystemTime":"2026-03-04T11:42:00.5123456+01:00"},"Channel":"Security","Computer":"DC01.stmarys.local"},"EventData":{"Data":[{"@Name":"MemberName","#text":"CN=Bloggs\\, Jo,OU=Staff,DC=stmarys,DC=local"},{"@Name":"MemberSid","#text":"S-1-5-21-1-2-3-1107"},{"@Name":"TargetUserName","#text":"Domain Admins"},{"@Name":"TargetDomainName","#text":"STMARYS"},{"@Name":"SubjectUserName","#text":"it.admin"},{"@Name":"SubjectDomainName","#text":"STMARYS"}]}}}"##;
    let e = one(line);
    assert_eq!((e.action.as_str(), e.outcome), ("group-member-added", Outcome::Success));
    assert_eq!(e.timestamp.to_rfc3339(), "2026-03-04T10:42:00.512345600+00:00");
    assert_eq!(e.user_target_name.as_deref(), Some("Bloggs, Jo"));
    assert_eq!(e.group_name.as_deref(), Some("Domain Admins"));
    assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("it.admin"), Some("STMARYS")));
    // Without a MemberName the SID names the member.
    let e =
        one(&nxlog(4728, json!({"MemberName": "-", "MemberSid": "S-1-5-21-1-2-3-1107", "TargetUserName": "Staff"})));
    assert_eq!(e.user_target_name.as_deref(), Some("S-1-5-21-1-2-3-1107"));
}

#[test]
fn other_event_ids_are_kept_as_other() {
    let e = one(&nxlog(4672, json!({"SubjectUserName": "it.admin", "PrivilegeList": "SeBackupPrivilege"})));
    assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Auth, "other", Outcome::Unknown));
    assert_eq!(e.code.as_deref(), Some("4672"));
    assert_eq!((e.user_name, e.host_name.as_deref()), (None, Some("DC01.stmarys.local")));
    // Winlogbeat 7 writes the id as a number; event.code alone is enough.
    let e = one(r#"{"@timestamp":"2026-03-04T10:42:00Z","winlog":{"event_id":1102}}"#);
    assert_eq!((e.code.as_deref(), e.host_name), (Some("1102"), None));
    let e = one(r#"{"@timestamp":"2026-03-04T10:42:00Z","event":{"code":"4624"},"winlog":{},"host":{"name":"pc1"}}"#);
    assert_eq!((e.action.as_str(), e.host_name.as_deref()), ("logged-in", Some("pc1")));
}

#[test]
fn addresses_and_ports_are_checked() {
    let mut data = logon_4624();
    for (ip, want) in [
        ("-", None),
        ("127.0.0.1", Some("127.0.0.1")),
        ("::ffff:192.0.2.7", Some("192.0.2.7")),
        ("fe80::1%12", None),
        ("<script>", None),
    ] {
        data["IpAddress"] = json!(ip);
        assert_eq!(one(&nxlog(4624, data.clone())).source_ip.as_deref(), want, "{ip}");
    }
    for (port, want) in [(json!("0"), None), (json!("-"), None), (json!(70000), None), (json!(3389), Some(3389))] {
        data["IpPort"] = port;
        assert_eq!(one(&nxlog(4624, data.clone())).source_port, want);
    }
    data["WorkstationName"] = json!("");
    data["TargetUserName"] = json!(null);
    let e = one(&nxlog(4624, data));
    assert_eq!((e.device_name, e.user_name), (None, None));
}

#[test]
fn time_forms() {
    for (time, want) in [
        ("2026-03-04T10:42:00.1234567+00:00", "2026-03-04T10:42:00.123456700+00:00"),
        ("2026-03-04T11:42:00+01:00", "2026-03-04T10:42:00+00:00"),
        ("2026-03-04T10:42:00", "2026-03-04T10:42:00+00:00"),
        ("2026-03-04 10:42:00.5", "2026-03-04T10:42:00.500+00:00"),
        ("/Date(1772620920000)/", "2026-03-04T10:42:00+00:00"),
        ("/Date(1772620920000+0100)/", "2026-03-04T10:42:00+00:00"),
    ] {
        let line = json!({"EventID": "4624", "TimeCreated": time}).to_string();
        assert_eq!(one(&line).timestamp.to_rfc3339(), want, "{time}");
    }
    let line = json!({"EventID": 4624, "TimeGenerated": "2026-03-04 10:42:00"}).to_string();
    assert_eq!(one(&line).timestamp.to_rfc3339(), "2026-03-04T10:42:00+00:00");
}

#[test]
fn hostile_content_is_kept_verbatim() {
    let mut data = logon_4624();
    data["TargetUserName"] = json!("<img src=x onerror=alert(1)>\r\nBcc: x@evil\u{1b}[31m\u{0}");
    let line = format!("\u{feff}{}", nxlog(4624, data));
    let e = one(&line);
    assert_eq!(e.message, line);
    assert_eq!(e.user_name.as_deref(), Some("<img src=x onerror=alert(1)>\r\nBcc: x@evil\u{1b}[31m\u{0}"));
}

#[test]
fn lines_that_are_not_windows_events_are_rejected() {
    for (line, reason) in [
        ("", "not a JSON object"),
        ("Mar  4 10:42:00 gate sshd[1]: Accepted password for a from 1.2.3.4 port 22 ssh2", "not a JSON object"),
        ("[1,2]", "not an object"),
        ("{}", "no EventID"),
        (r#"{"@timestamp":"2026-03-04T10:42:00Z","winlog":{}}"#, "no winlog.event_id"),
        (r#"{"winlog":{"event_id":"4624"}}"#, "no @timestamp"),
        (r#"{"EventID":4624}"#, "no TimeCreated"),
        (r#"{"EventID":"46x","TimeCreated":"2026-03-04T10:42:00Z"}"#, "EventID \"46x\" is not an event number"),
        (r#"{"EventID":-1,"TimeCreated":"2026-03-04T10:42:00Z"}"#, "not an event number"),
        (r#"{"EventID":null,"TimeCreated":"2026-03-04T10:42:00Z"}"#, "not an event number"),
        (r#"{"EventID":4624,"TimeCreated":"yesterday"}"#, "TimeCreated \"yesterday\" is not a time"),
        (r#"{"EventID":4624,"TimeCreated":"/Date(x)/"}"#, "is not a time"),
        (r#"{"EventID":4624,"TimeCreated":{"@SystemTime":7}}"#, "is not a time"),
        (r#"{"@timestamp":"2026-13-04T10:42:00Z","winlog":{"event_id":"4624"}}"#, "@timestamp"),
    ] {
        let got = err(line);
        assert!(got.contains(reason), "{line}: {got}");
    }
    let long = json!({"EventID": 4624, "TimeCreated": "x".repeat(10_000)}).to_string();
    assert!(err(&long).len() < 300);
}

#[test]
fn truncation_at_every_byte_never_panics() {
    let line = nxlog(4625, logon_4624());
    for cut in (0..line.len()).filter(|cut| line.is_char_boundary(*cut)) {
        let _ = parse_lines(&mut WindowsParser, &[&line[..cut]]);
    }
    // A JSON line cut anywhere is not a complete object.
    assert!(parse_lines(&mut WindowsParser, &[&line[..line.len() - 1]]).is_err());
}

#[test]
fn winlogbeat_7_logon_reads_the_fields_its_security_module_moved() {
    // Winlogbeat 7's security module renames TargetUserName, IpAddress...
    // into user.* and source.* before output; event_data keeps the rest.
    let line = r#"{"@timestamp":"2026-03-04T08:41:07.512Z","agent":{"type":"winlogbeat","version":"7.17.9"},"event":{"action":"logged-in","category":["authentication"],"code":4624,"kind":"event","outcome":"success","type":["start"]},"source":{"domain":"LIB-PC-07","ip":"10.20.1.44","port":50122},"user":{"domain":"STMARYS","id":"S-1-5-21-1377283216-344919071-3415362939-1104","name":"l.evans"},"winlog":{"api":"wineventlog","channel":"Security","computer_name":"DC01.stmarys.local","event_data":{"AuthenticationPackageName":"NTLM","LogonProcessName":"NtLmSsp ","LogonType":"3","SubjectDomainName":"-","SubjectUserName":"-","SubjectUserSid":"S-1-0-0","TargetLogonId":"0x8dcdc"},"event_id":4624,"keywords":["Audit Success"],"provider_name":"Microsoft-Windows-Security-Auditing","record_id":2366430,"task":"Logon"}}"#;
    let e = one(line);
    assert_eq!((e.action.as_str(), e.outcome), ("logged-in", Outcome::Success));
    assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("l.evans"), Some("STMARYS")));
    assert_eq!((e.source_ip.as_deref(), e.source_port), (Some("10.20.1.44"), Some(50122)));
    assert_eq!(e.device_name.as_deref(), Some("LIB-PC-07"));
    assert_eq!(e.reason.as_deref(), Some("logon type 3 (network)"));
    // The event data wins when both are there (Winlogbeat 8, or a copied field).
    let both = line.replace(r#""LogonType":"3","#, r#""LogonType":"3","TargetUserName":"m.jones","#);
    assert_eq!(one(&both).user_name.as_deref(), Some("m.jones"));
    // An NXLog or raw event never reads a top-level `user` object.
    let raw = nxlog(4624, json!({"LogonType": "3", "user": {"name": "not.this"}}));
    assert_eq!(one(&raw).user_name, None);
}
