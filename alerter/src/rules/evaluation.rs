//! Measuring the rules on labelled queries: rows `<category>\t<text>` (a
//! concern that should alert) and `benign\t<text>` (should not), as
//! `vigil rules test` and the library's tests read them.

use super::{Field, RuleSet};
use std::collections::BTreeMap;
use std::fmt;

/// The label of rows that must raise no alert.
pub const BENIGN: &str = "benign";

/// One labelled query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `benign` or a category id.
    pub label: String,
    /// The query, as typed.
    pub text: String,
    /// Where it was read (`file:line`).
    pub origin: String,
}

/// A line of a labelled file that is not a row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: expected <category or benign><TAB><text>, found {line:?}")]
pub struct RowError {
    /// `file:line`.
    pub origin: String,
    /// The line (cut to 80 characters).
    pub line: String,
}

/// The rows of a labelled file `name`; blank lines and `#` comments are
/// skipped.
pub fn read_rows(name: &str, text: &str) -> Result<Vec<Row>, RowError> {
    let mut rows = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let origin = format!("{name}:{}", number + 1);
        match line.split_once('\t') {
            Some((label, text)) if !label.trim().is_empty() && !text.trim().is_empty() => {
                rows.push(Row { label: label.trim().to_string(), text: text.to_string(), origin })
            }
            _ => return Err(RowError { origin, line: line.chars().take(80).collect() }),
        }
    }
    Ok(rows)
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The row.
    pub row: Row,
    /// The (rule id, category) of every rule it matched.
    pub matched: Vec<(String, String)>,
}

impl Outcome {
    /// Whether the row got what its label asks: no alert for benign rows, an
    /// alert of its category for the others.
    pub fn is_right(&self) -> bool {
        if self.row.label == BENIGN {
            self.matched.is_empty()
        } else {
            self.matched.iter().any(|(_, category)| *category == self.row.label)
        }
    }
}

/// Counts for one label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Rows with the label.
    pub rows: usize,
    /// Rows that raised any alert.
    pub alerted: usize,
    /// Rows that raised an alert of their own category.
    pub right_category: usize,
}

/// The rules measured on a set of rows.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per label (`benign` included).
    pub tallies: BTreeMap<String, Tally>,
    /// Rows that did not get what their label asks.
    pub wrong: Vec<Outcome>,
}

impl Report {
    /// Matches every row's text as a search query.
    pub fn measure(rules: &mut RuleSet, rows: &[Row]) -> Report {
        let mut report = Report::default();
        for row in rows {
            let matched: Vec<(String, String)> = rules
                .find_in_text(Field::SearchQuery, &row.text)
                .into_iter()
                .map(|m| {
                    let rule = &rules.rules()[m.rule];
                    (rule.id.clone(), rule.category.clone())
                })
                .collect();
            let outcome = Outcome { row: row.clone(), matched };
            let tally = report.tallies.entry(row.label.clone()).or_default();
            tally.rows += 1;
            tally.alerted += usize::from(!outcome.matched.is_empty());
            tally.right_category += usize::from(outcome.matched.iter().any(|(_, c)| *c == row.label));
            if !outcome.is_right() {
                report.wrong.push(outcome);
            }
        }
        report
    }

    /// Concerning rows (all but benign) and how many alerted.
    pub fn concerning(&self) -> Tally {
        self.tallies.iter().filter(|(label, _)| *label != BENIGN).fold(Tally::default(), |sum, (_, t)| Tally {
            rows: sum.rows + t.rows,
            alerted: sum.alerted + t.alerted,
            right_category: sum.right_category + t.right_category,
        })
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

impl fmt::Display for Report {
    /// The table `vigil rules test` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<20} {:>7} {:>8} {:>8} {:>10}", "category", "rows", "alerted", "recall", "right cat.")?;
        for (label, t) in self.tallies.iter().filter(|(label, _)| *label != BENIGN) {
            writeln!(
                f,
                "{label:<20} {:>7} {:>8} {:>7.1}% {:>9.1}%",
                t.rows,
                t.alerted,
                percent(t.alerted, t.rows),
                percent(t.right_category, t.rows)
            )?;
        }
        let all = self.concerning();
        if all.rows > 0 {
            writeln!(
                f,
                "{:<20} {:>7} {:>8} {:>7.1}% {:>9.1}%",
                "all concerning",
                all.rows,
                all.alerted,
                percent(all.alerted, all.rows),
                percent(all.right_category, all.rows)
            )?;
        }
        if let Some(benign) = self.tallies.get(BENIGN) {
            let per_100k = if benign.rows == 0 { 0.0 } else { 100_000.0 * benign.alerted as f64 / benign.rows as f64 };
            writeln!(
                f,
                "benign               {:>7} {:>8} false alerts = {per_100k:.1} per 100 000 ({:.2}%)",
                benign.rows,
                benign.alerted,
                percent(benign.alerted, benign.rows)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_with_their_origin_and_bad_lines_refused() {
        let rows = read_rows("t.tsv", "# comment\n\nsuicide\tkms\nbenign\tmaths help\r\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].label.as_str(), rows[0].text.as_str(), rows[0].origin.as_str()),
            ("suicide", "kms", "t.tsv:3")
        );
        assert_eq!(rows[1].text, "maths help");
        let err = read_rows("t.tsv", "suicide kms\n").unwrap_err();
        assert_eq!(err.origin, "t.tsv:1");
    }
}
