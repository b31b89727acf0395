//! The keyword rule type: every phrase rule matched at once by the
//! [`KeywordMatcher`] over the fields phrases are searched in. Stateless.

use super::keyword::{KeywordMatcher, Scratch};
use super::rule_type::RuleType;
use super::{Field, RuleMatch};
use vigil_core::Event;

/// The keyword rules and their scratch space.
#[derive(Debug)]
pub struct Keywords {
    matcher: KeywordMatcher,
    scratch: Scratch,
}

impl Keywords {
    /// The rule type for `matcher`.
    pub fn new(matcher: KeywordMatcher) -> Keywords {
        Keywords { matcher, scratch: Scratch::default() }
    }

    /// The rules whose words match `text` read as `field`.
    pub fn find_in_text(&mut self, field: Field, text: &str, found: &mut Vec<RuleMatch>) {
        self.matcher.find(field, text, &mut self.scratch, found);
    }
}

impl RuleType for Keywords {
    fn id(&self) -> &str {
        "keywords"
    }

    /// Words in the searched fields, the first field in [`Field::SEARCHED`]
    /// order per rule.
    fn observe(&mut self, event: &Event, found: &mut Vec<RuleMatch>) {
        for field in Field::SEARCHED {
            if let Some(value) = field.value(event) {
                self.matcher.find(field, value, &mut self.scratch, found);
            }
        }
    }
}
