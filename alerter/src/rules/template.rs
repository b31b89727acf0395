//! Phrase templates: `how to {kill|hurt} {myself|my self|}` stands for six
//! phrases, and a trailing `*` (`suicid*`) lets the last word end any way.

use thiserror::Error;

/// Phrases one template may stand for at most.
pub const MAX_EXPANSIONS: usize = 4096;

/// One phrase a template stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    /// The words, as written (not yet normalised).
    pub text: String,
    /// The last word may go on (`suicid*`).
    pub open_end: bool,
}

/// A template that cannot be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TemplateError {
    /// A `{` without its `}`, or the other way round, or braces nested.
    #[error("unbalanced or nested braces")]
    Braces,
    /// More than [`MAX_EXPANSIONS`] phrases.
    #[error("stands for more than {MAX_EXPANSIONS} phrases; split it")]
    TooMany,
    /// A `*` other than at the end of the last word.
    #[error("'*' may only end the last word")]
    Star,
}

/// Every phrase `template` stands for, in order.
pub fn expand(template: &str) -> Result<Vec<Phrase>, TemplateError> {
    let trimmed = template.trim_end();
    let (body, open_end) = match trimmed.strip_suffix('*') {
        Some(body) if !body.ends_with(char::is_whitespace) && !body.is_empty() => (body, true),
        _ => (trimmed, false),
    };
    if body.contains('*') {
        return Err(TemplateError::Star);
    }
    let mut phrases = vec![String::new()];
    let mut rest = body;
    while !rest.is_empty() {
        let (literal, after) = match rest.find(['{', '}']) {
            Some(i) if rest.as_bytes()[i] == b'}' => return Err(TemplateError::Braces),
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        for phrase in &mut phrases {
            phrase.push_str(literal);
        }
        if literal.len() == rest.len() {
            break;
        }
        let close = after.find('}').ok_or(TemplateError::Braces)?;
        let choices = &after[..close];
        if choices.contains('{') {
            return Err(TemplateError::Braces);
        }
        let options: Vec<&str> = choices.split('|').collect();
        if phrases.len().saturating_mul(options.len()) > MAX_EXPANSIONS {
            return Err(TemplateError::TooMany);
        }
        phrases =
            phrases.iter().flat_map(|prefix| options.iter().map(move |option| format!("{prefix}{option}"))).collect();
        rest = &after[close + 1..];
    }
    Ok(phrases.into_iter().map(|text| Phrase { text, open_end }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(template: &str) -> Vec<String> {
        expand(template).unwrap().into_iter().map(|p| p.text.split_whitespace().collect::<Vec<_>>().join(" ")).collect()
    }

    #[test]
    fn choices_multiply_and_may_be_empty() {
        assert_eq!(
            texts("how to {kill|hurt} {myself|}"),
            ["how to kill myself", "how to kill", "how to hurt myself", "how to hurt"]
        );
        assert_eq!(texts("plain words"), ["plain words"]);
        assert_eq!(texts("{a|b}"), ["a", "b"]);
    }

    #[test]
    fn a_trailing_star_opens_the_last_word() {
        let phrases = expand("suicid*").unwrap();
        assert_eq!(phrases, [Phrase { text: "suicid".into(), open_end: true }]);
        assert!(!expand("kill").unwrap()[0].open_end);
        assert_eq!(expand("a* b"), Err(TemplateError::Star));
    }

    #[test]
    fn bad_templates_are_refused() {
        assert_eq!(expand("a {b|c"), Err(TemplateError::Braces));
        assert_eq!(expand("a b}"), Err(TemplateError::Braces));
        assert_eq!(expand("{a|{b}}"), Err(TemplateError::Braces));
        let many = "{a|b|c|d|e|f|g|h}".repeat(5);
        assert_eq!(expand(&many), Err(TemplateError::TooMany));
    }
}
