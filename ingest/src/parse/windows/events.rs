//! What each Security event id means, from Microsoft's per-event pages
//! ("4624(S): An account was successfully logged on", "4625(F): An account
//! failed to log on", ... under "Advanced security auditing"), whose Event
//! XML names the EventData fields read here.

use super::record::Record;
use std::net::IpAddr;
use vigil_core::Outcome;

/// The event fields one Windows event yields.
pub(super) struct Facts {
    pub action: &'static str,
    pub outcome: Outcome,
    pub reason: Option<String>,
    /// The account that acted (logged on, created an account...).
    pub user: Option<String>,
    pub domain: Option<String>,
    /// The account acted upon.
    pub target: Option<String>,
    pub group: Option<String>,
    pub device: Option<String>,
    pub ip: Option<String>,
    pub port: Option<u16>,
}

impl Facts {
    fn new(action: &'static str, outcome: Outcome) -> Self {
        Facts {
            action,
            outcome,
            reason: None,
            user: None,
            domain: None,
            target: None,
            group: None,
            device: None,
            ip: None,
            port: None,
        }
    }
}

/// Status code of a failed logon that means the account does not exist.
const NO_SUCH_USER: u32 = 0xC000_0064;

/// The facts of `record`; ids outside the list make an `other` event.
pub(super) fn facts(record: &Record<'_>) -> Facts {
    match record.id {
        4624 => logon(record, "logged-in", Outcome::Success),
        4625 => failed_logon(record),
        4634 => {
            let mut f = Facts::new("logged-off", Outcome::Success);
            f.user = record.field("TargetUserName");
            f.domain = record.field("TargetDomainName");
            f.reason = logon_type(record);
            f
        }
        4648 => {
            let mut f = by_subject(record, "explicit-credentials");
            f.target = record.field("TargetUserName");
            f.ip = address(record);
            f.port = port(record);
            f.reason = record.field("TargetServerName").map(|server| format!("target server {server}"));
            f
        }
        4720 => by_subject_on_target(record, "account-created"),
        4726 => by_subject_on_target(record, "account-deleted"),
        // A member added to a global (4728), local (4732) or universal
        // (4756) security group.
        4728 | 4732 | 4756 => {
            let mut f = by_subject(record, "group-member-added");
            f.target = record.field("MemberName").map(|dn| common_name(&dn)).or_else(|| record.field("MemberSid"));
            f.group = record.field("TargetUserName");
            f
        }
        4740 => {
            let mut f = by_subject_on_target(record, "account-locked");
            f.device = record.field("TargetDomainName");
            f
        }
        4767 => by_subject_on_target(record, "account-unlocked"),
        _ => Facts::new("other", Outcome::Unknown),
    }
}

/// 4624 and 4625: the account logged on (Target*), from where.
fn logon(record: &Record<'_>, action: &'static str, outcome: Outcome) -> Facts {
    let mut f = Facts::new(action, outcome);
    f.user = record.field("TargetUserName");
    f.domain = record.field("TargetDomainName");
    f.device = record.field("WorkstationName");
    f.ip = address(record);
    f.port = port(record);
    f.reason = logon_type(record);
    f
}

/// 4625: `invalid-user` when Status or SubStatus says the account does not
/// exist; the more specific of the two codes leads the reason.
fn failed_logon(record: &Record<'_>) -> Facts {
    let status = record.field("Status");
    let sub_status = record.field("SubStatus").filter(|code| status_value(code) != Some(0));
    let codes = [&sub_status, &status];
    let no_such_user = codes.iter().any(|code| code.as_deref().and_then(status_value) == Some(NO_SUCH_USER));
    let action = if no_such_user { "invalid-user" } else { "login-failed" };
    let mut f = logon(record, action, Outcome::Failure);
    let code = sub_status.or(status).map(|code| match status_value(&code).and_then(status_meaning) {
        Some(meaning) => format!("{code} ({meaning})"),
        None => code,
    });
    f.reason = match (code, f.reason.take()) {
        (Some(code), Some(kind)) => Some(format!("{code}; {kind}")),
        (code, kind) => code.or(kind),
    };
    f
}

/// Account management events: Subject* acted.
fn by_subject(record: &Record<'_>, action: &'static str) -> Facts {
    let mut f = Facts::new(action, Outcome::Success);
    f.user = record.field("SubjectUserName");
    f.domain = record.field("SubjectDomainName");
    f
}

/// Subject* acted on the account TargetUserName.
fn by_subject_on_target(record: &Record<'_>, action: &'static str) -> Facts {
    let mut f = by_subject(record, action);
    f.target = record.field("TargetUserName");
    f
}

/// IpAddress as an address: `-` is absent, an IPv4-mapped IPv6 address
/// (`::ffff:10.1.2.3`) is the IPv4 address, anything unparseable is absent
/// (the raw line keeps it).
fn address(record: &Record<'_>) -> Option<String> {
    let text = record.field("IpAddress")?;
    let text = text.strip_prefix("::ffff:").unwrap_or(&text);
    text.parse::<IpAddr>().ok().map(|_| text.to_string())
}

/// IpPort; `0` (a local logon) is absent.
fn port(record: &Record<'_>) -> Option<u16> {
    record.field("IpPort")?.parse().ok().filter(|port| *port != 0)
}

/// `logon type 3 (network)`, from LogonType.
fn logon_type(record: &Record<'_>) -> Option<String> {
    let kind = record.field("LogonType")?;
    let title = match kind.as_str() {
        "0" => "system",
        "2" => "interactive",
        "3" => "network",
        "4" => "batch",
        "5" => "service",
        "7" => "unlock",
        "8" => "network cleartext",
        "9" => "new credentials",
        "10" => "remote interactive",
        "11" => "cached interactive",
        "12" => "cached remote interactive",
        "13" => "cached unlock",
        _ => return Some(format!("logon type {kind}")),
    };
    Some(format!("logon type {kind} ({title})"))
}

/// A Status/SubStatus code (`0xC000006A`, any case) as a number.
fn status_value(code: &str) -> Option<u32> {
    let hex = code.strip_prefix("0x").or_else(|| code.strip_prefix("0X"))?;
    u32::from_str_radix(hex, 16).ok()
}

/// What a logon failure code means (Microsoft's "Windows logon status
/// codes" table on the 4625 page).
fn status_meaning(code: u32) -> Option<&'static str> {
    Some(match code {
        0xC000_005E => "no logon servers available",
        NO_SUCH_USER => "no such user",
        0xC000_006A => "bad password",
        0xC000_006D => "bad user name or authentication information",
        0xC000_006E => "account restriction",
        0xC000_006F => "outside authorised logon hours",
        0xC000_0070 => "unauthorised workstation",
        0xC000_0071 => "password expired",
        0xC000_0072 => "account disabled",
        0xC000_00DC => "SAM server in the wrong state",
        0xC000_0133 => "clocks out of sync with the domain controller",
        0xC000_015B => "logon type not granted",
        0xC000_018C => "domain trust relationship failed",
        0xC000_0192 => "Netlogon service not started",
        0xC000_0193 => "account expired",
        0xC000_0224 => "password must be changed",
        0xC000_0234 => "account locked out",
        0xC000_02EE => "error during logon",
        0xC000_0413 => "authentication firewall",
        _ => return None,
    })
}

/// The user's common name from 4728's MemberName distinguished name
/// (`CN=Smith\, Jo,OU=Staff,DC=school,DC=local` → `Smith, Jo`); a value that
/// is not a DN is returned as it is.
fn common_name(dn: &str) -> String {
    let Some(rest) = dn.get(..3).filter(|p| p.eq_ignore_ascii_case("CN=")).and_then(|_| dn.get(3..)) else {
        return dn.to_string();
    };
    let mut name = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => name.extend(chars.next()),
            ',' => break,
            c => name.push(c),
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_are_unescaped_and_other_values_kept() {
        assert_eq!(common_name("CN=Auditor,CN=Users,DC=contoso,DC=local"), "Auditor");
        assert_eq!(common_name("cn=Smith\\, Jo,OU=Staff,DC=school,DC=local"), "Smith, Jo");
        assert_eq!(common_name("CN=trailing\\"), "trailing");
        assert_eq!(common_name("S-1-5-21-1-2-3-500"), "S-1-5-21-1-2-3-500");
        assert_eq!(common_name("CN"), "CN");
        assert_eq!(common_name("é"), "é");
    }

    #[test]
    fn status_codes_read_in_any_case() {
        assert_eq!(status_value("0xc000006a"), Some(0xC000_006A));
        assert_eq!(status_value("0XC000006A"), Some(0xC000_006A));
        assert_eq!(status_value("C000006A"), None);
        assert_eq!(status_value("0x"), None);
    }
}
