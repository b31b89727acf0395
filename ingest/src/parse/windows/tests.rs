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
    // Local (4732, BUILTIN\\Administrators) and universal (4756) groups alike.
    for id in [4732, 4756] {
        let e = one(&nxlog(
            id,
            json!({"MemberName": "CN=Jo Bloggs,OU=Staff,DC=stmarys,DC=local", "TargetUserName": "Administrators", "SubjectUserName": "it.admin"}),
        ));
        assert_eq!(
            (e.action.as_str(), e.group_name.as_deref()),
            ("group-member-added", Some("Administrators")),
            "{id}"
        );
        assert_eq!(e.user_target_name.as_deref(), Some("Jo Bloggs"));
    }
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

/// A PowerShell 5.1 `Get-WinEvent | ConvertTo-Json -Compress` line of a
/// 4624 version 2 (network logon by a pupil) as the `EventLogRecord` is
/// written at the default depth: no `EventData`, the event data in template
/// order as `Properties`, SIDs as strings, logon ids as numbers.
const POWERSHELL_51_LOGON: &str = r#"{"Message":"An account was successfully logged on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-5-18\r\n\tAccount Name:\t\tDC01$\r\n\tAccount Domain:\t\tSCHOOL\r\n\tLogon ID:\t\t0x3E7\r\n\r\nLogon Information:\r\n\tLogon Type:\t\t3\r\n\tRestricted Admin Mode:\t-\r\n\tVirtual Account:\t\tNo\r\n\tElevated Token:\t\tYes\r\n\r\nImpersonation Level:\t\tImpersonation\r\n\r\nNew Logon:\r\n\tSecurity ID:\t\tS-1-5-21-1004336348-1177238915-682003330-3105\r\n\tAccount Name:\t\tj.okafor\r\n\tAccount Domain:\t\tSCHOOL\r\n\tLogon ID:\t\t0x8DCDC\r\n\tLinked Logon ID:\t\t0x0\r\n\tNetwork Account Name:\t-\r\n\tNetwork Account Domain:\t-\r\n\tLogon GUID:\t\t{00000000-0000-0000-0000-000000000000}\r\n\r\nProcess Information:\r\n\tProcess ID:\t\t0x0\r\n\tProcess Name:\t\t-\r\n\r\nNetwork Information:\r\n\tWorkstation Name:\tLIB-PC-07\r\n\tSource Network Address:\t192.0.2.44\r\n\tSource Port:\t\t50122\r\n\r\nDetailed Authentication Information:\r\n\tLogon Process:\t\tNtLmSsp \r\n\tAuthentication Package:\tNTLM\r\n\tTransited Services:\t-\r\n\tPackage Name (NTLM only):\tNTLM V2\r\n\tKey Length:\t\t128\r\n\r\nThis event is generated when a logon session is created. It is generated on the computer that was accessed.","Id":4624,"Version":2,"Qualifiers":null,"Level":0,"Task":12544,"Opcode":0,"Keywords":-9214364837600034816,"RecordId":2366430,"ProviderName":"Microsoft-Windows-Security-Auditing","ProviderId":"54849625-5478-4994-a5ba-3e3b0328c30d","LogName":"Security","ProcessId":636,"ThreadId":4120,"MachineName":"DC01.school.local","UserId":null,"TimeCreated":"\/Date(1772620920000)\/","ActivityId":"b9a7d0e2-8c1f-0001-f0d1-a7b91f8cda01","RelatedActivityId":null,"ContainerLog":"Security","MatchedQueryIds":[],"Bookmark":{},"LevelDisplayName":"Information","OpcodeDisplayName":"Info","TaskDisplayName":"Logon","KeywordsDisplayNames":["Audit Success"],"Properties":[{"Value":"S-1-5-18"},{"Value":"DC01$"},{"Value":"SCHOOL"},{"Value":999},{"Value":"S-1-5-21-1004336348-1177238915-682003330-3105"},{"Value":"j.okafor"},{"Value":"SCHOOL"},{"Value":580828},{"Value":3},{"Value":"NtLmSsp "},{"Value":"NTLM"},{"Value":"LIB-PC-07"},{"Value":"00000000-0000-0000-0000-000000000000"},{"Value":"-"},{"Value":"NTLM V2"},{"Value":128},{"Value":0},{"Value":"-"},{"Value":"192.0.2.44"},{"Value":"50122"},{"Value":"%%1833"},{"Value":"-"},{"Value":"-"},{"Value":"-"},{"Value":"%%1843"},{"Value":0},{"Value":"%%1842"}]}"#;

/// A PowerShell 5.1 record of event `id` logged 2026-03-04 10:42:00 UTC,
/// with `data` (`{"Properties": [...]}` or `{"EventData": {...}}`) added.
fn powershell_51(id: u32, keyword: &str, data: Value) -> String {
    let mut line = json!({
        "Message": "A user account was locked out.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-5-18\r\n\tAccount Name:\t\tDC01$",
        "Id": id, "Version": 0, "Qualifiers": null, "Level": 0, "Task": 13824, "Opcode": 0,
        "Keywords": -9214364837600034816i64, "RecordId": 2366431, "ProviderName": "Microsoft-Windows-Security-Auditing",
        "ProviderId": "54849625-5478-4994-a5ba-3e3b0328c30d", "LogName": "Security", "ProcessId": 636, "ThreadId": 4120,
        "MachineName": "DC01.school.local", "UserId": null, "TimeCreated": "/Date(1772620920000)/",
        "ActivityId": null, "RelatedActivityId": null, "ContainerLog": "Security", "MatchedQueryIds": [],
        "Bookmark": {}, "LevelDisplayName": "Information", "OpcodeDisplayName": "Info",
        "TaskDisplayName": "User Account Management", "KeywordsDisplayNames": [keyword]
    });
    for (k, v) in data.as_object().unwrap() {
        line[k] = v.clone();
    }
    line.to_string()
}

/// `{"Properties": [{"Value": v}, ...]}` of `values` in order.
fn properties(values: &[Value]) -> Value {
    json!({"Properties": values.iter().map(|v| json!({"Value": v})).collect::<Vec<_>>()})
}

#[test]
fn powershell_51_logon_reads_user_and_address_from_positional_properties() {
    let e = one(POWERSHELL_51_LOGON);
    assert_eq!((e.kind, e.action.as_str(), e.outcome), (EventKind::Auth, "logged-in", Outcome::Success));
    assert_eq!(e.timestamp.to_rfc3339(), "2026-03-04T10:42:00+00:00");
    assert_eq!(e.code.as_deref(), Some("4624"));
    assert_eq!(e.reason.as_deref(), Some("logon type 3 (network)"));
    assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("j.okafor"), Some("SCHOOL")));
    assert_eq!((e.source_ip.as_deref(), e.source_port), (Some("192.0.2.44"), Some(50122)));
    assert_eq!(e.device_name.as_deref(), Some("LIB-PC-07"));
    assert_eq!(e.host_name.as_deref(), Some("DC01.school.local"));
    assert_eq!((e.user_target_name, e.group_name), (None, None));
    assert_eq!(e.message, POWERSHELL_51_LOGON);
}

#[test]
fn powershell_failed_logon_reads_status_numbers_as_the_event_xml_writes_them() {
    // Status 0xC000006D and SubStatus 0xC000006A arrive as UInt32 numbers.
    let mut values = vec![
        json!("S-1-5-18"),
        json!("DC01$"),
        json!("SCHOOL"),
        json!(999),
        json!("S-1-0-0"),
        json!("j.okafor"),
        json!("SCHOOL"),
        json!(3221225581u32),
        json!("%%2313"),
        json!(3221225578u32),
        json!(3),
        json!("NtLmSsp "),
        json!("NTLM"),
        json!("LIB-PC-07"),
        json!("-"),
        json!("-"),
        json!(0),
        json!(0),
        json!("-"),
        json!("192.0.2.44"),
        json!("50123"),
    ];
    let e = one(&powershell_51(4625, "Audit Failure", properties(&values)));
    assert_eq!((e.action.as_str(), e.outcome), ("login-failed", Outcome::Failure));
    assert_eq!(e.reason.as_deref(), Some("0xc000006a (bad password); logon type 3 (network)"));
    assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("j.okafor"), Some("SCHOOL")));
    assert_eq!((e.source_ip.as_deref(), e.source_port), (Some("192.0.2.44"), Some(50123)));
    assert_eq!(e.device_name.as_deref(), Some("LIB-PC-07"));
    // An unknown account (SubStatus 0xC0000064).
    values[5] = json!("admin");
    values[9] = json!(3221225572u32);
    let e = one(&powershell_51(4625, "Audit Failure", properties(&values)));
    assert_eq!(e.action, "invalid-user");
    assert_eq!(e.reason.as_deref(), Some("0xc0000064 (no such user); logon type 3 (network)"));
}

#[test]
fn powershell_lockout_and_group_addition_read_positional_properties() {
    let lockout = properties(&[
        json!("t.adeyemi"),
        json!("LIB-PC-07"),
        json!("S-1-5-21-1004336348-1177238915-682003330-3107"),
        json!("S-1-5-18"),
        json!("DC01$"),
        json!("SCHOOL"),
        json!(999),
    ]);
    let e = one(&powershell_51(4740, "Audit Success", lockout));
    assert_eq!((e.action.as_str(), e.outcome), ("account-locked", Outcome::Success));
    assert_eq!(e.timestamp.to_rfc3339(), "2026-03-04T10:42:00+00:00");
    assert_eq!(e.user_target_name.as_deref(), Some("t.adeyemi"));
    assert_eq!(e.device_name.as_deref(), Some("LIB-PC-07"));
    assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("DC01$"), Some("SCHOOL")));
    assert_eq!(e.host_name.as_deref(), Some("DC01.school.local"));

    let group = properties(&[
        json!("CN=Okafor\\, Jo,OU=Staff,DC=school,DC=local"),
        json!("S-1-5-21-1004336348-1177238915-682003330-3105"),
        json!("Domain Admins"),
        json!("SCHOOL"),
        json!("S-1-5-21-1004336348-1177238915-682003330-512"),
        json!("S-1-5-21-1004336348-1177238915-682003330-1104"),
        json!("it.admin"),
        json!("SCHOOL"),
        json!(199519),
        json!("-"),
    ]);
    let e = one(&powershell_51(4728, "Audit Success", group));
    assert_eq!((e.action.as_str(), e.outcome), ("group-member-added", Outcome::Success));
    assert_eq!(e.user_target_name.as_deref(), Some("Okafor, Jo"));
    assert_eq!(e.group_name.as_deref(), Some("Domain Admins"));
    assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("it.admin"), Some("SCHOOL")));
}

#[test]
fn powershell_7_record_with_iso_time_and_deep_sids() {
    // PowerShell 7 writes times in ISO form and, with `-Depth 3`, SIDs as objects.
    let line = r#"{"Id":4648,"Version":0,"Qualifiers":null,"Level":0,"Task":12544,"Opcode":0,"Keywords":-9214364837600034816,"RecordId":2366432,"ProviderName":"Microsoft-Windows-Security-Auditing","ProviderId":"54849625-5478-4994-a5ba-3e3b0328c30d","LogName":"Security","ProcessId":636,"ThreadId":4188,"MachineName":"MIS-SRV.school.local","UserId":null,"TimeCreated":"2026-03-04T11:42:00.5123456+01:00","ActivityId":"b9a7d0e2-8c1f-0001-f0d1-a7b91f8cda01","RelatedActivityId":null,"ContainerLog":"Security","MatchedQueryIds":[],"Bookmark":{},"LevelDisplayName":"Information","OpcodeDisplayName":"Info","TaskDisplayName":"Logon","KeywordsDisplayNames":["Audit Success"],"Properties":[{"Value":{"BinaryLength":28,"AccountDomainSid":{"BinaryLength":24,"AccountDomainSid":"S-1-5-21-1004336348-1177238915-682003330","Value":"S-1-5-21-1004336348-1177238915-682003330"},"Value":"S-1-5-21-1004336348-1177238915-682003330-1105"}},{"Value":"t.jones"},{"Value":"SCHOOL"},{"Value":201573},{"Value":"00000000-0000-0000-0000-000000000000"},{"Value":"Administrator"},{"Value":"SCHOOL"},{"Value":"00000000-0000-0000-0000-000000000000"},{"Value":"mis-server"},{"Value":"mis-server"},{"Value":500},{"Value":"C:\\Windows\\System32\\runas.exe"},{"Value":"198.51.100.23"},{"Value":"0"}],"Message":"A logon was attempted using explicit credentials.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-5-21-1004336348-1177238915-682003330-1105\r\n\tAccount Name:\t\tt.jones"}"#;
    let e = one(line);
    assert_eq!((e.action.as_str(), e.outcome), ("explicit-credentials", Outcome::Success));
    assert_eq!(e.timestamp.to_rfc3339(), "2026-03-04T10:42:00.512345600+00:00");
    assert_eq!((e.user_name.as_deref(), e.user_domain.as_deref()), (Some("t.jones"), Some("SCHOOL")));
    assert_eq!(e.user_target_name.as_deref(), Some("Administrator"));
    assert_eq!((e.source_ip.as_deref(), e.source_port), (Some("198.51.100.23"), None));
    assert_eq!(e.reason.as_deref(), Some("target server mis-server"));
    assert_eq!(e.host_name.as_deref(), Some("MIS-SRV.school.local"));
}

/// Each supported event's data as Microsoft's Event XML lists it, in
/// template order (written out here from the docs, independently of the
/// parser's table).
fn documented_event_data() -> Vec<(u32, Vec<(&'static str, &'static str)>)> {
    let subject = [
        ("SubjectUserSid", "S-1-5-21-1004336348-1177238915-682003330-1104"),
        ("SubjectUserName", "it.admin"),
        ("SubjectDomainName", "SCHOOL"),
        ("SubjectLogonId", "0x30d5f"),
    ];
    let target = [
        ("TargetUserName", "new.pupil"),
        ("TargetDomainName", "SCHOOL"),
        ("TargetSid", "S-1-5-21-1004336348-1177238915-682003330-3601"),
    ];
    let account_change = || [&target[..], &subject[..]].concat();
    let with_privileges = || [account_change(), vec![("PrivilegeList", "-")]].concat();
    let logon_head = [
        ("SubjectUserSid", "S-1-5-18"),
        ("SubjectUserName", "DC01$"),
        ("SubjectDomainName", "SCHOOL"),
        ("SubjectLogonId", "0x3e7"),
        ("TargetUserSid", "S-1-5-21-1004336348-1177238915-682003330-3105"),
        ("TargetUserName", "j.okafor"),
        ("TargetDomainName", "SCHOOL"),
    ];
    let logon_tail =
        [("LogonProcessName", "Kerberos"), ("AuthenticationPackageName", "Kerberos"), ("WorkstationName", "LIB-PC-07")];
    let process_and_network = [
        ("KeyLength", "0"),
        ("ProcessId", "0x26c"),
        ("ProcessName", "C:\\Windows\\System32\\lsass.exe"),
        ("IpAddress", "::ffff:192.0.2.44"),
        ("IpPort", "50122"),
    ];
    vec![
        (
            4624,
            [
                &logon_head[..],
                &[("TargetLogonId", "0x8dcdc"), ("LogonType", "3")],
                &logon_tail,
                &[("LogonGuid", "{4a1c6f3e-0000-0000-0000-000000000000}"), ("TransmittedServices", "-")],
                &[("LmPackageName", "-")],
                &process_and_network,
                &[
                    ("ImpersonationLevel", "%%1833"),
                    ("RestrictedAdminMode", "-"),
                    ("TargetOutboundUserName", "-"),
                    ("TargetOutboundDomainName", "-"),
                    ("VirtualAccount", "%%1843"),
                    ("TargetLinkedLogonId", "0x0"),
                    ("ElevatedToken", "%%1842"),
                ],
            ]
            .concat(),
        ),
        (
            4625,
            [
                &logon_head[..],
                &[
                    ("Status", "0xc000006d"),
                    ("FailureReason", "%%2313"),
                    ("SubStatus", "0xc0000064"),
                    ("LogonType", "10"),
                ],
                &logon_tail,
                &[("TransmittedServices", "-"), ("LmPackageName", "-")],
                &process_and_network,
            ]
            .concat(),
        ),
        (
            4634,
            vec![
                ("TargetUserSid", "S-1-5-21-1004336348-1177238915-682003330-3105"),
                ("TargetUserName", "j.okafor"),
                ("TargetDomainName", "SCHOOL"),
                ("TargetLogonId", "0x8dcdc"),
                ("LogonType", "2"),
            ],
        ),
        (
            4648,
            [
                &subject[..],
                &[
                    ("LogonGuid", "{00000000-0000-0000-0000-000000000000}"),
                    ("TargetUserName", "Administrator"),
                    ("TargetDomainName", "SCHOOL"),
                    ("TargetLogonGuid", "{00000000-0000-0000-0000-000000000000}"),
                    ("TargetServerName", "mis-server"),
                    ("TargetInfo", "mis-server"),
                    ("ProcessId", "0x1f4"),
                    ("ProcessName", "C:\\Windows\\System32\\runas.exe"),
                    ("IpAddress", "198.51.100.23"),
                    ("IpPort", "445"),
                ],
            ]
            .concat(),
        ),
        (
            4720,
            [
                with_privileges(),
                vec![
                    ("SamAccountName", "new.pupil"),
                    ("DisplayName", "New Pupil"),
                    ("UserPrincipalName", "new.pupil@school.local"),
                    ("HomeDirectory", "-"),
                    ("HomePath", "-"),
                    ("ScriptPath", "-"),
                    ("ProfilePath", "-"),
                    ("UserWorkstations", "-"),
                    ("PasswordLastSet", "%%1794"),
                    ("AccountExpires", "%%1794"),
                    ("PrimaryGroupId", "513"),
                    ("AllowedToDelegateTo", "-"),
                    ("OldUacValue", "0x0"),
                    ("NewUacValue", "0x15"),
                    ("UserAccountControl", "%%2080 %%2082 %%2084"),
                    ("UserParameters", "-"),
                    ("SidHistory", "-"),
                    ("LogonHours", "%%1793"),
                ],
            ]
            .concat(),
        ),
        (4726, with_privileges()),
        (
            4728,
            [
                vec![
                    ("MemberName", "CN=Okafor\\, Jo,OU=Staff,DC=school,DC=local"),
                    ("MemberSid", "S-1-5-21-1004336348-1177238915-682003330-3105"),
                    ("TargetUserName", "Domain Admins"),
                    ("TargetDomainName", "SCHOOL"),
                    ("TargetSid", "S-1-5-21-1004336348-1177238915-682003330-512"),
                ],
                subject.to_vec(),
                vec![("PrivilegeList", "-")],
            ]
            .concat(),
        ),
        (4740, account_change()),
        (4767, account_change()),
    ]
}

/// What PowerShell's `Properties` holds for a field the event XML writes
/// as `text`: UInt32 fields and hex-typed fields as numbers, others as text.
fn as_powershell(name: &str, text: &str) -> Value {
    match text.strip_prefix("0x") {
        Some(hex) if name != "OldUacValue" && name != "NewUacValue" => json!(u64::from_str_radix(hex, 16).unwrap()),
        _ if name == "LogonType" || name == "KeyLength" => json!(text.parse::<u32>().unwrap()),
        _ => json!(text),
    }
}

/// `e` as JSON without what depends on the raw line (its id and text).
fn fields_of(e: &Event) -> Value {
    let mut fields = serde_json::to_value(e).unwrap();
    let map = fields.as_object_mut().unwrap();
    map.remove("event.id");
    map.remove("message");
    fields
}

/// `data` as an `EventData` object of text values.
fn named(data: &[(&str, &str)]) -> Value {
    let fields: serde_json::Map<String, Value> = data.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({ "EventData": fields })
}

#[test]
fn positional_and_named_event_data_make_the_same_event() {
    for (id, data) in documented_event_data() {
        let values: Vec<Value> = data.iter().map(|(k, v)| as_powershell(k, v)).collect();
        let by_name = one(&powershell_51(id, "Audit Success", named(&data)));
        let by_position = one(&powershell_51(id, "Audit Success", properties(&values)));
        assert_eq!(fields_of(&by_position), fields_of(&by_name), "{id}");
        assert!(by_position.user_name.is_some() && by_position.action != "other", "{id}: {by_position:?}");
    }
}

#[test]
fn short_long_and_shallow_properties_lists() {
    let (_, logon) = documented_event_data().remove(0);
    let values: Vec<Value> = logon.iter().map(|(k, v)| as_powershell(k, v)).collect();
    // Version 0 of 4624 (20 values) reads as version 2 does.
    let v0 = one(&powershell_51(4624, "Audit Success", properties(&values[..20])));
    assert_eq!(fields_of(&v0), fields_of(&one(&powershell_51(4624, "Audit Success", properties(&values)))));
    // A value past the template (a newer version) is ignored.
    let mut longer = values.clone();
    longer.push(json!("a field of version 9"));
    assert_eq!(fields_of(&one(&powershell_51(4624, "Audit Success", properties(&longer)))), fields_of(&v0));
    // Fewer values: the missing fields are absent, the rest read, no error;
    // the record's own members (ProcessId...) never stand in for them.
    let mut short = powershell_51(4624, "Audit Success", properties(&values[..12]));
    short = short.replacen('{', r#"{"IpAddress":"203.0.113.9","#, 1);
    let e = one(&short);
    assert_eq!((e.action.as_str(), e.user_name.as_deref()), ("logged-in", Some("j.okafor")));
    assert_eq!((e.device_name.as_deref(), e.source_ip, e.source_port), (Some("LIB-PC-07"), None, None));
    let e = one(&powershell_51(4624, "Audit Success", json!({"Properties": []})));
    assert_eq!((e.action.as_str(), e.user_name, e.reason), ("logged-in", None, None));
    // Written too deep for `-Depth`, each item is only its type name.
    let shallow: Vec<Value> =
        values.iter().map(|_| json!("System.Diagnostics.Eventing.Reader.EventProperty")).collect();
    let e = one(&powershell_51(4624, "Audit Success", json!({ "Properties": shallow })));
    assert_eq!((e.user_name, e.source_ip, e.device_name), (None, None, None));
}

#[test]
fn properties_give_way_to_event_data_and_unknown_ids_stay_other() {
    let mut line: Value = serde_json::from_str(POWERSHELL_51_LOGON).unwrap();
    line["EventData"] = json!({"TargetUserName": "named.user"});
    let e = one(&line.to_string());
    assert_eq!((e.user_name.as_deref(), e.source_ip), (Some("named.user"), None));
    let e = one(&POWERSHELL_51_LOGON.replace(r#""Id":4624"#, r#""Id":4672"#));
    assert_eq!((e.action.as_str(), e.outcome, e.code.as_deref()), ("other", Outcome::Unknown, Some("4672")));
    assert_eq!((e.user_name, e.host_name.as_deref()), (None, Some("DC01.school.local")));
    // A `Properties` that is not a list is no event data.
    let e = one(&powershell_51(4740, "Audit Success", json!({"Properties": "t.adeyemi LIB-PC-07"})));
    assert_eq!((e.action.as_str(), e.user_target_name), ("account-locked", None));
}

#[test]
fn powershell_hostile_values_are_kept_verbatim_and_cuts_never_panic() {
    let hostile = r"<img src=x onerror=alert(1)>\r\nBcc: x@evil\u001b[31m\u0000";
    let line = POWERSHELL_51_LOGON.replace(r#"{"Value":"j.okafor"}"#, &format!(r#"{{"Value":"{hostile}"}}"#));
    let e = one(&line);
    assert_eq!(e.user_name.as_deref(), Some("<img src=x onerror=alert(1)>\r\nBcc: x@evil\u{1b}[31m\u{0}"));
    assert_eq!(e.message, line);
    for cut in (0..POWERSHELL_51_LOGON.len()).filter(|cut| POWERSHELL_51_LOGON.is_char_boundary(*cut)) {
        assert!(parse_lines(&mut WindowsParser, &[&POWERSHELL_51_LOGON[..cut]]).is_err());
    }
}
