//! A Sigma rule's `condition`: selections joined by `and`, `or`, `not` and
//! parentheses, `1 of selection*` / `all of selection*` / `1 of them`, and
//! the old (Sigma 1) aggregation after a `|`: `count() by X > N` or
//! `count(Y) by X >= N`.

use super::Unconvertible;

/// A condition, over the rule's selection names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// One selection, by name.
    Selection(String),
    /// Every part holds.
    And(Vec<Expr>),
    /// At least one part holds.
    Or(Vec<Expr>),
    /// The part does not hold.
    Not(Box<Expr>),
}

/// `count(field) by group > n` after the condition's `|`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregation {
    /// The counted field (`count(TargetUserName)`: distinct values), or
    /// `None` for events.
    pub field: Option<String>,
    /// The field grouped by, if any.
    pub group_by: Option<String>,
    /// How many are needed: `> 10` is 11.
    pub at_least: u32,
}

/// Parses `text`, naming selections among `names` (in the rule's order).
pub fn parse(text: &str, names: &[String]) -> Result<(Expr, Option<Aggregation>), Unconvertible> {
    let (condition, aggregation) = match text.split_once('|') {
        Some((condition, aggregation)) => (condition, Some(parse_aggregation(aggregation.trim())?)),
        None => (text, None),
    };
    let tokens = tokenize(condition);
    let mut parser = Parser { tokens: &tokens, at: 0, names };
    let expr = parser.or()?;
    if parser.at != tokens.len() {
        return Err(unsupported(text, "it has words after the end of the expression"));
    }
    Ok((expr, aggregation))
}

fn unsupported(condition: &str, why: &str) -> Unconvertible {
    Unconvertible::Condition(format!("{condition:?}: {why}"))
}

fn tokenize(text: &str) -> Vec<String> {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    spaced.split_whitespace().map(str::to_string).collect()
}

struct Parser<'a> {
    tokens: &'a [String],
    at: usize,
    names: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> Option<&str> {
        let token = self.tokens.get(self.at).map(String::as_str);
        self.at += 1;
        token
    }

    fn error(&self, why: &str) -> Unconvertible {
        unsupported(&self.tokens.join(" "), why)
    }

    fn or(&mut self) -> Result<Expr, Unconvertible> {
        let mut parts = vec![self.and()?];
        while self.peek().is_some_and(|t| t.eq_ignore_ascii_case("or")) {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Or(parts) })
    }

    fn and(&mut self) -> Result<Expr, Unconvertible> {
        let mut parts = vec![self.not()?];
        while self.peek().is_some_and(|t| t.eq_ignore_ascii_case("and")) {
            self.at += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::And(parts) })
    }

    fn not(&mut self) -> Result<Expr, Unconvertible> {
        if self.peek().is_some_and(|t| t.eq_ignore_ascii_case("not")) {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, Unconvertible> {
        let Some(token) = self.next().map(str::to_string) else { return Err(self.error("it ends too early")) };
        if token == "(" {
            let inner = self.or()?;
            return match self.next() {
                Some(")") => Ok(inner),
                _ => Err(self.error("a parenthesis is not closed")),
            };
        }
        let quantifier = token.to_ascii_lowercase();
        if matches!(quantifier.as_str(), "1" | "all" | "any")
            && self.peek().is_some_and(|t| t.eq_ignore_ascii_case("of"))
        {
            self.at += 1;
            let Some(pattern) = self.next().map(str::to_string) else { return Err(self.error("`of` names nothing")) };
            let chosen = self.matching(&pattern);
            if chosen.is_empty() {
                return Err(self.error(&format!("no selection matches {pattern:?}")));
            }
            let parts = chosen.into_iter().map(Expr::Selection).collect();
            return Ok(if quantifier == "all" { Expr::And(parts) } else { Expr::Or(parts) });
        }
        if self.names.contains(&token) {
            return Ok(Expr::Selection(token));
        }
        Err(self.error(&format!("{token:?} is no selection of the rule")))
    }

    /// The selection names `pattern` (`selection*`, `them`) stands for.
    fn matching(&self, pattern: &str) -> Vec<String> {
        let chosen = self.names.iter().filter(|name| {
            if pattern == "them" {
                !name.starts_with('_')
            } else if let Some(prefix) = pattern.strip_suffix('*') {
                name.starts_with(prefix)
            } else {
                *name == pattern
            }
        });
        chosen.cloned().collect()
    }
}

/// `count() by X > N`, `count(Y) by X >= N`, `count() > N`.
fn parse_aggregation(text: &str) -> Result<Aggregation, Unconvertible> {
    let refuse = || unsupported(text, "only `count() [by FIELD] > N` and `count(FIELD) [by FIELD] >= N` are read");
    let rest = text.strip_prefix("count(").ok_or_else(refuse)?;
    let (field, rest) = rest.split_once(')').ok_or_else(refuse)?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let (group_by, comparison) = match words.as_slice() {
        ["by", group, op, n] => (Some(group.to_string()), (*op, *n)),
        [op, n] => (None, (*op, *n)),
        _ => return Err(refuse()),
    };
    let n: u32 = comparison.1.parse().map_err(|_| refuse())?;
    let at_least = match comparison.0 {
        ">" => n.checked_add(1).ok_or_else(refuse)?,
        ">=" => n,
        _ => return Err(refuse()),
    };
    let field = Some(field.trim().to_string()).filter(|f| !f.is_empty());
    Ok(Aggregation { field, group_by, at_least })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["selection", "selection_img", "filter_main_x", "filter_optional", "keywords"].map(String::from).to_vec()
    }

    fn sel(name: &str) -> Expr {
        Expr::Selection(name.into())
    }

    #[test]
    fn boolean_conditions_with_quantifiers_and_parentheses() {
        let (e, agg) = parse("selection and not 1 of filter_*", &names()).unwrap();
        assert_eq!(agg, None);
        let filters = Expr::Or(vec![sel("filter_main_x"), sel("filter_optional")]);
        assert_eq!(e, Expr::And(vec![sel("selection"), Expr::Not(Box::new(filters))]));
        let (e, _) = parse("(selection or keywords) and all of selection*", &names()).unwrap();
        let all = Expr::And(vec![sel("selection"), sel("selection_img")]);
        assert_eq!(e, Expr::And(vec![Expr::Or(vec![sel("selection"), sel("keywords")]), all]));
        let (e, _) = parse("1 of them", &names()).unwrap();
        assert_eq!(e, Expr::Or(names().into_iter().map(Expr::Selection).collect()));
    }

    #[test]
    fn aggregations_become_counts() {
        let (_, agg) = parse("selection | count() by IpAddress > 10", &names()).unwrap();
        assert_eq!(agg, Some(Aggregation { field: None, group_by: Some("IpAddress".into()), at_least: 11 }));
        let (_, agg) = parse("selection | count(TargetUserName) by IpAddress >= 5", &names()).unwrap();
        assert_eq!(agg.unwrap().field.as_deref(), Some("TargetUserName"));
    }

    #[test]
    fn what_is_not_read_is_refused_with_the_reason() {
        let reason = |text: &str| parse(text, &names()).unwrap_err().to_string();
        assert!(reason("selection and missing").contains("\"missing\" is no selection"));
        assert!(reason("(selection or keywords").contains("not closed"));
        assert!(reason("selection | count() by x < 3").contains("only `count()"));
        assert!(reason("selection | near keywords").contains("only `count()"));
        assert!(reason("1 of nothing*").contains("no selection matches"));
    }
}
