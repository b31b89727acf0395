//! PowerShell's positional event data, read by name.
//!
//! `Get-WinEvent ... | ConvertTo-Json` serialises an `EventLogRecord`, whose
//! event data is the list `"Properties": [{"Value": ...}, ...]` without
//! names: item *n* is the *n*-th `<data name=...>` element of the event's
//! template in the provider's manifest. [`TEMPLATES`] gives those names for
//! the events [`super::events`] reads, in template order, from the Event XML
//! on Microsoft's page for each event ("4624(S): An account was successfully
//! logged on", ... under "Advanced security auditing"; the same order
//! `(Get-WinEvent -ListProvider Microsoft-Windows-Security-Auditing).Events`
//! shows in each event's `Template`, as Microsoft's "How to get a list of XML
//! data name elements in EventData" explains). Scripts indexing
//! `$_.Properties[5]` (4624 user), `[18]` (4624 address) and `[0]`/`[1]`
//! (4740 user, caller computer) agree.
//!
//! Later template versions only append fields (4624: version 0 has the first
//! 20, version 1 adds `ImpersonationLevel`, version 2 the last six), so a
//! position names the same field in every version and the record's
//! `Version` is not needed. Values past the end of a template (a version
//! newer than this table) are ignored; a record with fewer values than the
//! template lacks the rest, as a named record lacking them would.
//!
//! What PowerShell writes for a value: the string or number itself; a SID
//! as its string (`S-1-5-18`) at the default `-Depth 2`, or as
//! `{"BinaryLength", "AccountDomainSid", "Value"}` with a deeper `-Depth`; a
//! `HexInt32`/`HexInt64` field ([`HEX_FIELDS`]) as the plain number, which
//! is written here as the event XML writes it (`3221225578` → `0xc000006a`).
//! An item that is only the type name `System.Diagnostics.Eventing.Reader.EventProperty`
//! (what `ConvertTo-Json` writes when the record sat too deep for its
//! `-Depth`) carries no value and is absent.

use super::super::json_line::Json;
use super::record::scalar_text;

/// Each supported event id with its data field names in template order.
const TEMPLATES: &[(u32, &[&str])] = &[
    (
        4624,
        &[
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "TargetUserSid",
            "TargetUserName",
            "TargetDomainName",
            "TargetLogonId",
            "LogonType",
            "LogonProcessName",
            "AuthenticationPackageName",
            "WorkstationName",
            "LogonGuid",
            "TransmittedServices",
            "LmPackageName",
            "KeyLength",
            "ProcessId",
            "ProcessName",
            "IpAddress",
            "IpPort",
            // Version 1.
            "ImpersonationLevel",
            // Version 2.
            "RestrictedAdminMode",
            "TargetOutboundUserName",
            "TargetOutboundDomainName",
            "VirtualAccount",
            "TargetLinkedLogonId",
            "ElevatedToken",
        ],
    ),
    (
        4625,
        &[
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "TargetUserSid",
            "TargetUserName",
            "TargetDomainName",
            "Status",
            "FailureReason",
            "SubStatus",
            "LogonType",
            "LogonProcessName",
            "AuthenticationPackageName",
            "WorkstationName",
            "TransmittedServices",
            "LmPackageName",
            "KeyLength",
            "ProcessId",
            "ProcessName",
            "IpAddress",
            "IpPort",
        ],
    ),
    (4634, &["TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType"]),
    (
        4648,
        &[
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "LogonGuid",
            "TargetUserName",
            "TargetDomainName",
            "TargetLogonGuid",
            "TargetServerName",
            "TargetInfo",
            "ProcessId",
            "ProcessName",
            "IpAddress",
            "IpPort",
        ],
    ),
    (
        4720,
        &[
            "TargetUserName",
            "TargetDomainName",
            "TargetSid",
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "PrivilegeList",
            "SamAccountName",
            "DisplayName",
            "UserPrincipalName",
            "HomeDirectory",
            "HomePath",
            "ScriptPath",
            "ProfilePath",
            "UserWorkstations",
            "PasswordLastSet",
            "AccountExpires",
            "PrimaryGroupId",
            "AllowedToDelegateTo",
            "OldUacValue",
            "NewUacValue",
            "UserAccountControl",
            "UserParameters",
            "SidHistory",
            "LogonHours",
        ],
    ),
    (4726, ACCOUNT_CHANGE_WITH_PRIVILEGES),
    (4728, MEMBER_ADDED),
    (4732, MEMBER_ADDED),
    (4756, MEMBER_ADDED),
    (4740, ACCOUNT_CHANGE),
    (4767, ACCOUNT_CHANGE),
];

/// The template 4728, 4732 and 4756 (a member added to a global, local or
/// universal security group) share.
const MEMBER_ADDED: &[&str] = &[
    "MemberName",
    "MemberSid",
    "TargetUserName",
    "TargetDomainName",
    "TargetSid",
    "SubjectUserSid",
    "SubjectUserName",
    "SubjectDomainName",
    "SubjectLogonId",
    "PrivilegeList",
];

/// The template 4740 (locked out) and 4767 (unlocked) share.
const ACCOUNT_CHANGE: &[&str] = &[
    "TargetUserName",
    "TargetDomainName",
    "TargetSid",
    "SubjectUserSid",
    "SubjectUserName",
    "SubjectDomainName",
    "SubjectLogonId",
];

/// 4726's template: [`ACCOUNT_CHANGE`] and the privileges used.
const ACCOUNT_CHANGE_WITH_PRIVILEGES: &[&str] = &[
    "TargetUserName",
    "TargetDomainName",
    "TargetSid",
    "SubjectUserSid",
    "SubjectUserName",
    "SubjectDomainName",
    "SubjectLogonId",
    "PrivilegeList",
];

/// Fields of the templates above typed `HexInt32`, `HexInt64` or `Pointer`,
/// which the event XML writes in hexadecimal.
const HEX_FIELDS: &[&str] =
    &["SubjectLogonId", "TargetLogonId", "TargetLinkedLogonId", "Status", "SubStatus", "ProcessId"];

/// What `ConvertTo-Json` writes for an `EventProperty` past its `-Depth`.
const DEPTH_PLACEHOLDER: &str = "System.Diagnostics.Eventing.Reader.EventProperty";

/// A `Properties` list with the names of its positions.
pub(super) struct Properties<'a> {
    names: &'static [&'static str],
    items: &'a [Json<'a>],
}

impl<'a> Properties<'a> {
    /// The list `value` of an event `id` this module has a template for.
    pub fn read(id: u32, value: Option<&'a Json<'a>>) -> Option<Self> {
        let (_, names) = TEMPLATES.iter().find(|(known, _)| *known == id)?;
        Some(Properties { names, items: value?.as_array()? })
    }

    /// The value of the field `name`, as the event XML would write it.
    pub fn text(&self, name: &str) -> Option<String> {
        let index = self.names.iter().position(|known| *known == name)?;
        let item = self.items.get(index)?;
        let value = item.get("Value").unwrap_or(item);
        let value = value.get("Value").unwrap_or(value);
        match value {
            Json::Number(n) if HEX_FIELDS.contains(&name) => Some(match n.as_u64() {
                Some(n) => format!("0x{n:x}"),
                None => n.to_string(),
            }),
            Json::String(s) if s == DEPTH_PLACEHOLDER => None,
            other => scalar_text(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_names_each_field_once() {
        for (id, names) in TEMPLATES {
            for (i, name) in names.iter().enumerate() {
                assert!(!names[..i].contains(name), "{id}: {name} twice");
            }
        }
        for (i, (id, _)) in TEMPLATES.iter().enumerate() {
            assert!(TEMPLATES[..i].iter().all(|(other, _)| other != id), "{id} twice");
        }
    }

    #[test]
    fn values_are_unwrapped_and_hex_fields_written_in_hex() {
        let list = Json::parse(
            r#"[{"Value":"S-1-5-18"},{"Value":"DC01$"},{"Value":{"BinaryLength":12,"AccountDomainSid":null,"Value":"SCHOOL"}},{"Value":999},"System.Diagnostics.Eventing.Reader.EventProperty",{"Value":null},{"Value":[]}]"#,
        )
        .unwrap();
        let p = Properties::read(4624, Some(&list)).unwrap();
        assert_eq!(p.text("SubjectUserSid").as_deref(), Some("S-1-5-18"));
        assert_eq!(p.text("SubjectUserName").as_deref(), Some("DC01$"));
        assert_eq!(p.text("SubjectDomainName").as_deref(), Some("SCHOOL"));
        assert_eq!(p.text("SubjectLogonId").as_deref(), Some("0x3e7"));
        assert_eq!(p.text("TargetUserSid"), None);
        assert_eq!(p.text("TargetUserName"), None);
        assert_eq!(p.text("TargetDomainName"), None);
        assert_eq!(p.text("IpAddress"), None);
        assert_eq!(p.text("NotAField"), None);
        let negative = Json::parse(r#"[1,2,3,{"Value":-1},{"Value":3}]"#).unwrap();
        let p = Properties::read(4634, Some(&negative)).unwrap();
        assert_eq!(p.text("TargetLogonId").as_deref(), Some("-1"));
        assert_eq!(p.text("LogonType").as_deref(), Some("3"));
        let hex = Json::parse(r#"[1,2,3,4,5,6,7,3221225578]"#).unwrap();
        assert_eq!(Properties::read(4625, Some(&hex)).unwrap().text("Status").as_deref(), Some("0xc000006a"));
        assert!(Properties::read(4672, Some(&list)).is_none());
        assert!(Properties::read(4624, None).is_none());
        assert!(Properties::read(4624, Some(&Json::Null)).is_none());
    }
}
