//! The lookalike rule type: a domain (a sender's, from `email.from`) that
//! looks like one of the school's own (a named list, `school-domains`)
//! without being it or below it: `stmarys-schoo1.org.uk` for
//! `stmarys.org.uk`. Looks like means: the same after folding the letters
//! people mistake for each other (`rn`→`m`, `vv`→`w`, `0`→`o`, `1`/`l`→`i`),
//! within two edits (when the first label has six letters or more), or the same
//! first label under another suffix (`stmarys.com` for `stmarys.sch.uk`).

use super::condition::Filter;
use super::lists::WatchedList;
use super::rule_type::RuleType;
use super::{Field, RuleMatch, RulesError, Setup};
use vigil_core::config::LookalikeConfig;
use vigil_core::Event;

/// One lookalike rule.
#[derive(Debug)]
pub struct Lookalike {
    id: String,
    rule: usize,
    filter: Filter,
    field: Field,
    own: WatchedList,
}

impl Lookalike {
    /// Rule `id` (at `index`) comparing `config.field` with the domains of
    /// `config.list`, for the events `filter` admits.
    pub fn new(
        index: usize,
        id: &str,
        config: &LookalikeConfig,
        filter: Filter,
        setup: &Setup,
    ) -> Result<Lookalike, RulesError> {
        let field = Field::from_name(&config.field).ok_or_else(|| RulesError::Invalid {
            rule: id.to_string(),
            message: format!("compares the unknown event field {:?}", config.field),
        })?;
        let files = setup.lists.get(&config.list).map(Vec::as_slice).unwrap_or_default();
        let own = WatchedList::load(&config.list, files, setup.list_check)?;
        Ok(Lookalike { id: id.to_string(), rule: index, filter, field, own })
    }
}

impl RuleType for Lookalike {
    fn id(&self) -> &str {
        &self.id
    }

    fn observe(&mut self, event: &Event, found: &mut Vec<RuleMatch>) {
        if !self.filter.admits(event) {
            return;
        }
        let Some(value) = self.field.value(event) else { return };
        let domain = value.rsplit('@').next().unwrap_or(value).trim().trim_end_matches('>').to_ascii_lowercase();
        let own = self.own.entries();
        if domain.is_empty() || own.find(&domain).is_some() {
            return;
        }
        if let Some(like) = own.domains().find(|own| looks_alike(&domain, own)) {
            let phrase = format!("{domain} looks like {like}");
            found.push(RuleMatch { rule: self.rule, phrase, field: self.field, group: None, group_field: None });
        }
    }
}

/// Whether `domain` (not `own` itself) would pass for `own` at a glance.
pub fn looks_alike(domain: &str, own: &str) -> bool {
    let (first, _) = domain.split_once('.').unwrap_or((domain, ""));
    let (own_first, _) = own.split_once('.').unwrap_or((own, ""));
    if first == own_first && first.len() >= 4 {
        return true;
    }
    let (folded, own_folded) = (fold(domain), fold(own));
    folded == own_folded || (own_first.len() >= 6 && strsim::damerau_levenshtein(&folded, &own_folded) <= 2)
}

/// `domain` with the characters people confuse read as one.
fn fold(domain: &str) -> String {
    domain
        .replace("rn", "m")
        .replace("vv", "w")
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | 'l' | '|' => 'i',
            '5' => 's',
            '-' | '_' => '.',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalikes_of_a_school_domain_and_unrelated_domains() {
        for like in [
            "stmarys-schoo1.org.uk",
            "stmarys-school.org.uk",
            "strnarys-school.org.uk",
            "stmarys-school.com",
            "stmary-school.org.uk",
        ] {
            assert!(looks_alike(like, "stmarys-school.org.uk"), "{like}");
        }
        for other in ["gmail.com", "bbc.co.uk", "stjohns-school.org.uk", "parentmail.co.uk"] {
            assert!(!looks_alike(other, "stmarys-school.org.uk"), "{other}");
        }
        assert!(!looks_alike("abc.com", "abd.com"), "short names are not compared by edits");
    }
}
