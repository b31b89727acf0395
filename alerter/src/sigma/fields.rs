//! Which Sigma log sources Vigil reads, the condition each adds (proxy
//! rules look at proxy events only), and how their field names map to
//! Vigil's event fields.
//!
//! | logsource | Vigil's events | fields |
//! |---|---|---|
//! | `product: windows`, `service: security` | `observer.product` windows | `EventID` → `event.code`, `IpAddress` → `source.ip`, `IpPort` → `source.port`, `WorkstationName` → `device.name`; `TargetUserName`, `SubjectUserName`, `TargetDomainName`, `SubjectDomainName` by event id (below) |
//! | `product: linux`, no service or `syslog` | `log.format` sshd or syslog | keywords → `message` |
//! | `product: linux`, `service: auth` | `log.format` sshd (auth.log) | keywords → `message` |
//! | `product: linux`, `service: sshd` | `observer.product` openssh or sshd | keywords → `message` |
//! | `category: proxy` | `event.kind` proxy | `c-uri`, `cs-uri` → `url.full`; `c-uri-query`, `c-uri-stem` → `url.full` (`contains` only); `cs-host`, `r-dns` → `url.domain`; `c-useragent` → `user_agent.original`; `cs-method` → `http.request.method`; `sc-status` → `http.response.status_code`; `c-ip`, `src_ip` → `source.ip`; `dst_ip` → `destination.ip`; `cs-username` → `user.name` |
//! | `category: webserver` | `event.kind` web | as for proxy, and `cs-uri-query`, `cs-uri-stem` → `url.full` (`contains` only), `cs-user-agent` → `user_agent.original` |
//!
//! Windows names the account differently by event: `TargetUserName` is the
//! account that signed in for 4624, 4625 and 4634 (`user.name`), the
//! account acted upon for 4648, 4720, 4726, 4740 and 4767
//! (`user.target.name`), and the group for 4728, 4732 and 4756
//! (`group.name`); `SubjectUserName` is who acted (`user.name`) in the
//! latter. A rule using them must fix its event ids to one of these sets.

use super::Unconvertible;
use std::collections::BTreeSet;
use vigil_core::config::{ConditionValue, Scalar, Selection};

/// The kinds of log Vigil reads that Sigma rules are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Windows Security event log.
    WindowsSecurity,
    /// Linux syslog lines (auth.log, syslog).
    Linux,
    /// Web proxy and filter logs.
    Proxy,
    /// Web-server access logs.
    Webserver,
}

/// A Vigil field for a Sigma field, and whether it holds more than the
/// Sigma field (so only `contains` keeps the meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapped {
    /// The Vigil field's name.
    pub field: &'static str,
    /// The Vigil field holds the Sigma field's value within more text.
    pub wider: bool,
}

const LOGON: [u32; 3] = [4624, 4625, 4634];
const ON_ACCOUNT: [u32; 5] = [4648, 4720, 4726, 4740, 4767];
const ON_GROUP: [u32; 3] = [4728, 4732, 4756];

impl Source {
    /// The source of a rule's `logsource` (`product`, `service`,
    /// `category`), and the selection its events are recognised by.
    pub fn of(
        product: Option<&str>,
        service: Option<&str>,
        category: Option<&str>,
    ) -> Result<(Source, Selection), Unconvertible> {
        let text = |v: &[&str]| {
            let values: Vec<Scalar> = v.iter().map(|s| Scalar::Text(s.to_string())).collect();
            if values.len() == 1 {
                ConditionValue::One(values[0].clone())
            } else {
                ConditionValue::Many(values)
            }
        };
        let base = |key: &str, values: &[&str]| Selection::from([(key.to_string(), text(values))]);
        let described = format!(
            "product {}, service {}, category {}",
            product.unwrap_or("-"),
            service.unwrap_or("-"),
            category.unwrap_or("-")
        );
        let unread = || Unconvertible::Logsource(described.clone());
        match (product, service, category) {
            (Some("windows"), Some("security"), None) => {
                Ok((Source::WindowsSecurity, base("observer.product", &["windows"])))
            }
            (Some("linux"), None | Some("syslog"), None) => {
                Ok((Source::Linux, base("log.format", &["sshd", "syslog"])))
            }
            (Some("linux"), Some("auth"), None) => Ok((Source::Linux, base("log.format", &["sshd"]))),
            (Some("linux"), Some("sshd"), None) => Ok((Source::Linux, base("observer.product", &["openssh", "sshd"]))),
            (None, None, Some("proxy")) => Ok((Source::Proxy, base("event.kind", &["proxy"]))),
            (None, None, Some("webserver")) => Ok((Source::Webserver, base("event.kind", &["web"]))),
            _ => Err(unread()),
        }
    }

    /// The Vigil field for the Sigma field `name` (`None`: a keyword,
    /// searched in the whole line) in events whose ids are `event_ids` (for
    /// Windows; `None` when the rule does not fix them).
    pub fn map(self, name: Option<&str>, event_ids: Option<&BTreeSet<u32>>) -> Result<Mapped, Unconvertible> {
        let plain = |field| Ok(Mapped { field, wider: false });
        let wider = |field| Ok(Mapped { field, wider: true });
        let Some(name) = name.filter(|n| !n.is_empty()) else { return plain("message") };
        let unknown = || Unconvertible::Field(name.to_string());
        match self {
            Source::WindowsSecurity => match name {
                "EventID" => plain("event.code"),
                "IpAddress" => plain("source.ip"),
                "IpPort" => plain("source.port"),
                "WorkstationName" => plain("device.name"),
                "TargetUserName" | "SubjectUserName" | "TargetDomainName" | "SubjectDomainName" => {
                    windows_account(name, event_ids).map(|field| Mapped { field, wider: false })
                }
                _ => Err(unknown()),
            },
            Source::Linux => Err(unknown()),
            Source::Proxy | Source::Webserver => match name {
                "c-uri" | "cs-uri" => plain("url.full"),
                "c-uri-query" | "c-uri-stem" | "cs-uri-query" | "cs-uri-stem" => wider("url.full"),
                "cs-host" | "r-dns" => plain("url.domain"),
                "c-useragent" | "cs-user-agent" => plain("user_agent.original"),
                "cs-method" => plain("http.request.method"),
                "sc-status" => plain("http.response.status_code"),
                "c-ip" | "src_ip" => plain("source.ip"),
                "dst_ip" => plain("destination.ip"),
                "cs-username" => plain("user.name"),
                _ => Err(unknown()),
            },
        }
    }
}

/// The Vigil field of a Windows account field in events `event_ids`.
fn windows_account(name: &str, event_ids: Option<&BTreeSet<u32>>) -> Result<&'static str, Unconvertible> {
    let by_event = |ids: &BTreeSet<u32>| -> Option<&'static str> {
        let within = |set: &[u32]| ids.iter().all(|id| set.contains(id));
        match name {
            "TargetUserName" if within(&LOGON) => Some("user.name"),
            "TargetUserName" if within(&ON_ACCOUNT) => Some("user.target.name"),
            "TargetUserName" if within(&ON_GROUP) => Some("group.name"),
            "TargetDomainName" if within(&LOGON) => Some("user.domain"),
            "SubjectUserName" if within(&ON_ACCOUNT) || within(&ON_GROUP) => Some("user.name"),
            "SubjectDomainName" if within(&ON_ACCOUNT) || within(&ON_GROUP) => Some("user.domain"),
            _ => None,
        }
    };
    event_ids.filter(|ids| !ids.is_empty()).and_then(by_event).ok_or_else(|| {
        Unconvertible::EventDependent(format!(
            "the field {name} is read by Vigil only for event ids {LOGON:?}, {ON_ACCOUNT:?} or {ON_GROUP:?}, and the rule's selection must fix its event ids to one of these sets"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sources_vigil_reads_and_those_it_does_not() {
        let (source, base) = Source::of(Some("windows"), Some("security"), None).unwrap();
        assert_eq!(source, Source::WindowsSecurity);
        assert!(base.contains_key("observer.product"));
        assert_eq!(Source::of(None, None, Some("proxy")).unwrap().0, Source::Proxy);
        let refused = Source::of(None, None, Some("dns")).unwrap_err().to_string();
        assert!(refused.contains("category dns"), "{refused}");
        assert!(Source::of(Some("linux"), None, Some("process_creation")).is_err());
    }

    #[test]
    fn windows_account_fields_follow_the_event_id() {
        let ids = |v: &[u32]| v.iter().copied().collect::<BTreeSet<u32>>();
        let w = Source::WindowsSecurity;
        assert_eq!(w.map(Some("TargetUserName"), Some(&ids(&[4625]))).unwrap().field, "user.name");
        assert_eq!(w.map(Some("TargetUserName"), Some(&ids(&[4720]))).unwrap().field, "user.target.name");
        assert_eq!(w.map(Some("TargetUserName"), Some(&ids(&[4728, 4732]))).unwrap().field, "group.name");
        assert!(w.map(Some("TargetUserName"), Some(&ids(&[4625, 4720]))).is_err(), "two meanings");
        assert!(w.map(Some("TargetUserName"), None).is_err(), "no event id");
        assert!(w.map(Some("ServiceFileName"), None).unwrap_err().to_string().contains("ServiceFileName"));
        assert_eq!(Source::Proxy.map(Some("cs-uri-query"), None).unwrap(), Mapped { field: "url.full", wider: true });
        assert_eq!(Source::Linux.map(None, None).unwrap().field, "message");
    }
}
