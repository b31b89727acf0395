//! `vigil search`: matching events as JSON lines on stdout, newest first.

use chrono::{DateTime, Utc};
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
        user: None,
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

/// A `--from` or `--to` time (see [`vigil_indexer::parse_time`]).
fn parse_time(text: &str, flag: &str) -> anyhow::Result<DateTime<Utc>> {
    vigil_indexer::parse_time(text).map_err(|reason| anyhow::anyhow!("{flag} {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_time_names_its_flag() {
        assert_eq!(parse_time("2026-03-04", "--from").unwrap().to_rfc3339(), "2026-03-04T00:00:00+00:00");
        let err = parse_time("yesterday", "--to").unwrap_err().to_string();
        assert!(err.starts_with("--to \"yesterday\" is not a time"), "{err}");
    }
}
