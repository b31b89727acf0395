//! The list rule type: an event whose field holds a value found in a named
//! list (a VPN provider's domain, a Tor exit address, a phishing domain),
//! among the events the rule's condition admits. Stateless: every such
//! event matches (the throttle keeps repeats to one alert per window).

use super::condition::Filter;
use super::lists::WatchedList;
use super::rule_type::RuleType;
use super::{Field, RuleMatch, RulesError, Setup};
use vigil_core::config::ListConfig;
use vigil_core::Event;

/// One list rule.
#[derive(Debug)]
pub struct List {
    id: String,
    rule: usize,
    filter: Filter,
    field: Field,
    list: WatchedList,
}

impl List {
    /// Rule `id` (at `index`) looking `config.field` up in `config.list`,
    /// for the events `filter` admits.
    pub fn new(index: usize, id: &str, config: &ListConfig, filter: Filter, setup: &Setup) -> Result<List, RulesError> {
        let field = Field::from_name(&config.field).ok_or_else(|| RulesError::Invalid {
            rule: id.to_string(),
            message: format!("looks up the unknown event field {:?}", config.field),
        })?;
        let files = setup.lists.get(&config.list).map(Vec::as_slice).unwrap_or_default();
        let list = WatchedList::load(&config.list, files, setup.list_check)?;
        Ok(List { id: id.to_string(), rule: index, filter, field, list })
    }
}

impl RuleType for List {
    fn id(&self) -> &str {
        &self.id
    }

    fn observe(&mut self, event: &Event, found: &mut Vec<RuleMatch>) {
        if !self.filter.admits(event) {
            return;
        }
        let entries = self.list.entries();
        let mut entry = None;
        self.field.values(event).any(|value| {
            entry = entries.find(value);
            entry.is_some()
        });
        if let Some(entry) = entry {
            found.push(RuleMatch { rule: self.rule, phrase: entry, field: self.field, group: None, group_field: None });
        }
    }
}
