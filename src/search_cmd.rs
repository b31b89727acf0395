//! `vigil search`: matching events as JSON lines on stdout, newest first.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use std::io::Write;
use vigil_core::Config;

/// Runs `query` over the indexes in the configured data folder.
pub fn search(
    config: &Config,
    from: Option<&str>,
    to: Option<&str>,
    limit: usize,
    tenant: Option<String>,
    query: &str,
) -> anyhow::Result<()> {
    let request = vigil_indexer::SearchRequest {
        query: query.to_string(),
        from: from.map(|t| parse_time(t, "--from")).transpose()?,
        to: to.map(|t| parse_time(t, "--to")).transpose()?,
        limit,
        tenant,
    };
    let events = vigil_indexer::search(&config.data_dir, &request)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = (|| -> std::io::Result<()> {
        for event in &events {
            out.write_all(&event.to_json())?;
            out.write_all(b"\n")?;
        }
        out.flush()
    })();
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// RFC 3339 (`2026-03-04T10:00:00Z`) or a date (`2026-03-04`, midnight UTC).
fn parse_time(text: &str, flag: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").with_context(|| {
        format!("{flag} {text:?} is not a time: use RFC 3339 (2026-03-04T10:00:00Z) or a date (2026-03-04)")
    })?;
    Ok(date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_rfc3339_times_are_accepted() {
        assert_eq!(parse_time("2026-03-04", "--from").unwrap().to_rfc3339(), "2026-03-04T00:00:00+00:00");
        assert_eq!(
            parse_time("2026-03-04T10:00:00+01:00", "--from").unwrap().to_rfc3339(),
            "2026-03-04T09:00:00+00:00"
        );
        assert!(parse_time("yesterday", "--from").unwrap_err().to_string().contains("--from"));
    }
}
