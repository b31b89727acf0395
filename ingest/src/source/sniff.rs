//! The format of an `auto` file source, known before the source is read:
//! the lease ordering ([`super::CatchUpGate`]) must know at start which
//! sources teach the lease table.

use super::input::{content_of, Content};
use super::scan;
use chrono::Utc;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use vigil_core::config::IngestConfig;

/// Bytes read from the start of a file to detect its format.
const SAMPLE_BYTES: u64 = 256 * 1024;
/// Files of the pattern tried, in name order, before giving up.
const SAMPLE_FILES: usize = 4;

/// The format `auto` detects from the start of the first plain file
/// matching `path` (a path or glob) whose first lines decide it; `None` when
/// nothing matches yet, nothing can be read, or no sample decides.
pub async fn sniff_format(path: &Path, ingest: &IngestConfig) -> Option<&'static str> {
    let pattern = scan::pattern_text(path).ok()?;
    let mut files: Vec<_> = scan::list(pattern).await.into_iter().map(|listed| listed.path).collect();
    files.sort();
    let ingest = ingest.clone();
    let sniffed = tokio::task::spawn_blocking(move || {
        files.iter().filter_map(|path| sample(path)).take(SAMPLE_FILES).find_map(|text| {
            let complete = text.rfind('\n').map_or("", |end| &text[..end]);
            crate::parse::detect(complete.lines(), &ingest, Utc::now()).map(|d| d.format)
        })
    });
    sniffed.await.ok().flatten()
}

/// The first [`SAMPLE_BYTES`] of a plain (not compressed) file, as text.
fn sample(path: &Path) -> Option<String> {
    let mut bytes = Vec::new();
    File::open(path).ok()?.take(SAMPLE_BYTES).read_to_end(&mut bytes).ok()?;
    (content_of(&bytes, path) == Content::Plain).then(|| String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_lines_of_the_first_deciding_file_name_the_format() {
        let dir = tempfile::tempdir().unwrap();
        let ingest = IngestConfig::default();
        assert_eq!(sniff_format(&dir.path().join("*.log"), &ingest).await, None, "nothing matches yet");
        std::fs::write(dir.path().join("a.log"), "not a log line of any format\n").unwrap();
        std::fs::write(
            dir.path().join("b.log"),
            "Mar  4 07:30:01 gw01 dhcpd[911]: DHCPACK on 10.20.3.17 to 3c:22:fb:4e:17:a2 (LEVANS-LT) via eth1\n\
             Mar  4 07:30:02 gw01 dhcpd[911]: DHCPACK on 10.20.3.1",
        )
        .unwrap();
        assert_eq!(sniff_format(&dir.path().join("*.log"), &ingest).await, Some("syslog"), "a DHCP syslog file");
        std::fs::write(
            dir.path().join("access.log"),
            "1709548920.123    145 10.1.2.3 TCP_MISS/200 5120 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html\n",
        )
        .unwrap();
        assert_eq!(sniff_format(&dir.path().join("access.log"), &ingest).await, Some("squid"));
    }
}
