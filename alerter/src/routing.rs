//! Who is told of an alert, and how: the recipient lists (`dsl`, `ict` and
//! `[email.lists]`) and the routes of `[[alerter.routes]]`, checked in
//! order; the first route matching an alert decides. With no match, the
//! rule's `notify` list is told, by digest for low severity and at once
//! otherwise. Critical alerts are always told at once.

use crate::alert::Alert;
use crate::mailer::EmailConfigError;
use crate::rules::Rule;
use lettre::message::Mailbox;
use std::collections::BTreeMap;
use thiserror::Error;
use vigil_core::config::{Delivery, EmailConfig, Role, RouteConfig, Severity};
use vigil_core::{Config, Event};

/// What a route looks at: the alert's rule and the event's user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts<'a> {
    /// The rule id.
    pub rule: &'a str,
    /// The alert category.
    pub category: &'a str,
    /// The alert severity.
    pub severity: Severity,
    /// The rule's `notify` role.
    pub notify: Role,
    /// The event's `user.role` (`pupil`, `staff`), if known.
    pub user_role: Option<&'a str>,
    /// The event's `user.year_group`, if known.
    pub year_group: Option<u8>,
    /// The tenant (school).
    pub tenant: &'a str,
}

impl<'a> Facts<'a> {
    /// The facts of `alert`, raised on `event`.
    pub fn of(alert: &'a Alert, event: &'a Event) -> Facts<'a> {
        Facts {
            rule: &alert.rule_id,
            category: &alert.category,
            severity: alert.severity,
            notify: alert.role,
            user_role: event.user_role.as_deref(),
            year_group: event.user_year_group,
            tenant: &alert.tenant,
        }
    }
}

/// A routing decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The recipient lists told, by name.
    pub to: Vec<String>,
    /// Immediately or in the digest.
    pub delivery: Delivery,
}

/// The recipient lists and the routes, parsed and checked at start-up.
#[derive(Debug)]
pub struct Router {
    lists: BTreeMap<String, Vec<Mailbox>>,
    routes: Vec<RouteConfig>,
}

impl Router {
    /// The router `config` describes. Fails on the first address that does
    /// not parse, naming its list. (List names in routes were checked when
    /// the configuration was loaded.)
    pub fn from_config(config: &Config) -> Result<Router, EmailConfigError> {
        let email: &EmailConfig = &config.email;
        let built_in = [("dsl", &email.dsl), ("ict", &email.ict)];
        let named = email.lists.iter().map(|(name, addresses)| (name.as_str(), addresses));
        let mut lists = BTreeMap::new();
        for (name, addresses) in built_in.into_iter().chain(named) {
            let key = if matches!(name, "dsl" | "ict") { name.to_string() } else { format!("lists.{name}") };
            let parsed = addresses
                .iter()
                .map(|address| {
                    address.parse::<Mailbox>().map_err(|e| EmailConfigError::Address {
                        key: key.clone(),
                        address: address.clone(),
                        reason: e.to_string(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            lists.insert(name.to_string(), parsed);
        }
        Ok(Router { lists, routes: config.alerter.routes.clone() })
    }

    /// Who is told of an alert with `facts`, and how.
    pub fn decide(&self, facts: &Facts<'_>) -> Decision {
        let route = self.routes.iter().find(|route| matches(route, facts));
        let to = route.and_then(|r| r.to.clone()).unwrap_or_else(|| vec![facts.notify.as_str().to_string()]);
        let delivery = match route.and_then(|r| r.delivery) {
            _ if facts.severity == Severity::Critical => Delivery::Immediate,
            Some(delivery) => delivery,
            None if facts.severity == Severity::Low => Delivery::Digest,
            None => Delivery::Immediate,
        };
        Decision { to, delivery }
    }

    /// `alert`, raised on `event`, with its recipients and delivery set.
    pub fn route(&self, mut alert: Alert, event: &Event) -> Alert {
        let Decision { to, delivery } = self.decide(&Facts::of(&alert, event));
        alert.recipients = to;
        alert.delivery = delivery;
        alert
    }

    /// Of the lists named `names`, those with at least one address.
    pub fn reachable<'n>(&self, names: &'n [String]) -> Vec<&'n String> {
        names.iter().filter(|name| self.lists.get(name.as_str()).is_some_and(|list| !list.is_empty())).collect()
    }

    /// Every address of the lists named `names`, each once, in list order.
    /// Names no longer configured (an alert held or kept for a digest from
    /// before a configuration change) contribute nothing.
    pub fn addresses(&self, names: &[String]) -> Vec<Mailbox> {
        let mut out: Vec<Mailbox> = Vec::new();
        for mailbox in names.iter().filter_map(|name| self.lists.get(name)).flatten() {
            if !out.iter().any(|m| m.email == mailbox.email) {
                out.push(mailbox.clone());
            }
        }
        out
    }
}

/// A route names a rule or a category that none of the loaded rules has, so
/// it could never match as meant.
#[derive(Debug, Error)]
#[error("alerter {route} names the {kind} {name:?}, which none of the loaded rules has; check its spelling and [alerter] disable (`vigil rules list` shows the rules)")]
pub struct UnknownRuleError {
    /// `route N` or `route "name"`.
    pub route: String,
    /// `rule` or `category`.
    pub kind: &'static str,
    /// The id as written in the route.
    pub name: String,
}

/// Checks that every rule id and category the routes name belongs to one
/// of `rules`.
pub fn check_routes(routes: &[RouteConfig], rules: &[Rule]) -> Result<(), UnknownRuleError> {
    for (index, route) in routes.iter().enumerate() {
        let named = [("rule", &route.rules), ("category", &route.categories)];
        for (kind, names) in named {
            let known = |name: &String| {
                rules.iter().any(|rule| if kind == "rule" { &rule.id == name } else { &rule.category == name })
            };
            if let Some(name) = names.iter().flatten().find(|name| !known(name)) {
                return Err(UnknownRuleError { route: route.label(index), kind, name: name.clone() });
            }
        }
    }
    Ok(())
}

/// Whether every condition `route` sets holds for `facts`.
fn matches(route: &RouteConfig, facts: &Facts<'_>) -> bool {
    fn within<T: PartialEq>(allowed: &Option<Vec<T>>, value: Option<T>) -> bool {
        match allowed {
            None => true,
            Some(allowed) => value.is_some_and(|v| allowed.contains(&v)),
        }
    }
    let listed =
        |allowed: &Option<Vec<String>>, value: &str| allowed.as_ref().is_none_or(|a| a.iter().any(|x| x == value));
    let user_role = route.user_roles.as_ref().is_none_or(|roles| {
        facts.user_role.is_some_and(|actual| roles.iter().any(|r| r.as_str().eq_ignore_ascii_case(actual)))
    });
    listed(&route.categories, facts.category)
        && listed(&route.rules, facts.rule)
        && listed(&route.tenants, facts.tenant)
        && route.min_severity.is_none_or(|min| facts.severity >= min)
        && route.max_severity.is_none_or(|max| facts.severity <= max)
        && route.notify.is_none_or(|role| role == facts.notify)
        && user_role
        && within(&route.year_groups, facts.year_group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const CONFIG: &str = r#"
[email]
dsl = ["dsl@school.example"]
ict = ["ict@school.example"]
[email.lists]
head = ["head@school.example"]
deputies = ["deputy@school.example", "dsl@school.example"]
trust-safeguarding = ["safeguarding@trust.example"]

[[alerter.routes]]
name = "staff concerns"
user_roles = ["staff"]
notify = "dsl"
to = ["head"]

[[alerter.routes]]
name = "trust copy"
tenants = ["oak-academy"]
min_severity = "critical"
notify = "dsl"
to = ["dsl", "trust-safeguarding"]

[[alerter.routes]]
name = "years 7 and 8"
year_groups = [7, 8]
notify = "dsl"
to = ["dsl", "deputies"]

[[alerter.routes]]
name = "gambling in the digest"
categories = ["gambling"]
max_severity = "high"
delivery = "digest"

[[alerter.routes]]
name = "a rule told at once"
rules = ["vpn-low"]
delivery = "immediate"
"#;

    fn router() -> Router {
        Router::from_config(&Config::from_toml(CONFIG, "x", Path::new("/")).unwrap()).unwrap()
    }

    fn pupil(severity: Severity) -> Facts<'static> {
        Facts {
            rule: "self-harm-intent",
            category: "self-harm",
            severity,
            notify: Role::Dsl,
            user_role: Some("pupil"),
            year_group: Some(10),
            tenant: "ash-primary",
        }
    }

    fn decision(to: &[&str], delivery: Delivery) -> Decision {
        Decision { to: to.iter().map(|s| s.to_string()).collect(), delivery }
    }

    #[test]
    fn unrouted_alerts_go_to_the_rules_list_low_ones_by_digest() {
        let r = router();
        assert_eq!(r.decide(&pupil(Severity::High)), decision(&["dsl"], Delivery::Immediate));
        assert_eq!(r.decide(&pupil(Severity::Low)), decision(&["dsl"], Delivery::Digest));
        let cyber = Facts { notify: Role::Ict, category: "filter-bypass", rule: "vpn", ..pupil(Severity::Medium) };
        assert_eq!(r.decide(&cyber), decision(&["ict"], Delivery::Immediate));
    }

    #[test]
    fn staff_concerns_go_to_the_head_only_whatever_else_matches() {
        let r = router();
        let staff =
            Facts { user_role: Some("Staff"), year_group: None, tenant: "oak-academy", ..pupil(Severity::Critical) };
        assert_eq!(r.decide(&staff), decision(&["head"], Delivery::Immediate), "the first matching route decides");
        let staff_cyber = Facts { notify: Role::Ict, ..staff };
        assert_eq!(r.decide(&staff_cyber).to, ["ict"], "the route is for safeguarding rules only");
    }

    #[test]
    fn a_trust_is_copied_on_its_schools_critical_alerts() {
        let r = router();
        let oak = Facts { tenant: "oak-academy", ..pupil(Severity::Critical) };
        assert_eq!(r.decide(&oak).to, ["dsl", "trust-safeguarding"]);
        assert_eq!(r.decide(&Facts { severity: Severity::High, ..oak }).to, ["dsl"]);
        assert_eq!(r.decide(&pupil(Severity::Critical)).to, ["dsl"], "another school");
    }

    #[test]
    fn year_groups_and_unknown_roles() {
        let r = router();
        let year8 = Facts { year_group: Some(8), ..pupil(Severity::Medium) };
        assert_eq!(r.decide(&year8), decision(&["dsl", "deputies"], Delivery::Immediate));
        assert_eq!(r.decide(&Facts { severity: Severity::Low, ..year8 }).delivery, Delivery::Digest);
        assert_eq!(r.decide(&Facts { year_group: None, ..year8 }).to, ["dsl"], "no year group never matches");
        let unknown = Facts { user_role: Some("governor"), ..pupil(Severity::High) };
        assert_eq!(r.decide(&unknown).to, ["dsl"], "an unknown role never matches a roles condition");
        assert_eq!(r.decide(&Facts { user_role: None, ..unknown }).to, ["dsl"]);
    }

    #[test]
    fn delivery_routes_never_put_critical_alerts_in_the_digest() {
        let r = router();
        let gambling = Facts { category: "gambling", ..pupil(Severity::High) };
        assert_eq!(r.decide(&gambling), decision(&["dsl"], Delivery::Digest), "to defaults to the rule's list");
        let critical = Facts { category: "gambling", rule: "r", ..pupil(Severity::Critical) };
        assert_eq!(r.decide(&critical).delivery, Delivery::Immediate, "above max_severity");
        let low_vpn = Facts { rule: "vpn-low", notify: Role::Ict, ..pupil(Severity::Low) };
        assert_eq!(r.decide(&low_vpn), decision(&["ict"], Delivery::Immediate));
    }

    #[test]
    fn addresses_are_merged_once_and_lists_without_addresses_are_not_reachable() {
        let r = router();
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let to: Vec<String> = r.addresses(&names(&["dsl", "deputies"])).iter().map(|m| m.email.to_string()).collect();
        assert_eq!(to, ["dsl@school.example", "deputy@school.example"]);
        assert!(r.addresses(&names(&["gone"])).is_empty());
        let quiet = Config::from_toml("[email]\ndsl = []\n", "x", Path::new("/")).unwrap();
        let r = Router::from_config(&quiet).unwrap();
        let wanted = names(&["dsl", "ict"]);
        assert!(r.reachable(&wanted).is_empty());
    }

    #[test]
    fn routes_naming_rules_or_categories_that_are_not_loaded_are_refused() {
        let rules = |routes: &str| {
            let text = format!("[alerter]\nlibrary = false\n[[alerter.rules]]\nid = \"dice\"\ncategory = \"gambling\"\nseverity = \"low\"\nnotify = \"dsl\"\nphrases = [\"casino\"]\n{routes}");
            let config = Config::from_toml(&text, "x", Path::new("/")).unwrap();
            let set = crate::rules::RuleSet::from_config(&config.alerter).unwrap();
            check_routes(&config.alerter.routes, set.rules()).map_err(|e| e.to_string())
        };
        assert!(rules("[[alerter.routes]]\nrules = [\"dice\"]\ncategories = [\"gambling\"]\nto = [\"dsl\"]\n").is_ok());
        let e =
            rules("[[alerter.routes]]\nname = \"bets\"\ncategories = [\"gambling\", \"gamblng\"]\nto = [\"dsl\"]\n")
                .unwrap_err();
        assert!(e.contains("route \"bets\" names the category \"gamblng\""), "{e}");
        let e = rules("[[alerter.routes]]\nrules = [\"die\"]\ndelivery = \"digest\"\n").unwrap_err();
        assert!(e.contains("route 1 names the rule \"die\""), "{e}");
    }

    #[test]
    fn a_bad_address_names_its_list() {
        let text = CONFIG.replace("deputy@school.example", "deputy at school");
        let err = Router::from_config(&Config::from_toml(&text, "x", Path::new("/")).unwrap()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("email.lists.deputies") && message.contains("\"deputy at school\""), "{message}");
    }
}
