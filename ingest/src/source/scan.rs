//! Finding a source's files: its path is a glob pattern (`*`, `?`, `[...]`
//! within one folder level, `**` across levels); a path without those
//! characters matches just itself. Only regular files (or links to them)
//! count.

use super::input::FileId;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A file the pattern matched, as it was when listed.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    /// Its path.
    pub path: PathBuf,
    /// Which file it is (device and inode), where the platform says.
    pub id: Option<FileId>,
    /// Its length.
    pub len: u64,
    /// When it was last written.
    pub modified: Option<SystemTime>,
}

const OPTIONS: glob::MatchOptions =
    glob::MatchOptions { case_sensitive: true, require_literal_separator: true, require_literal_leading_dot: false };

/// The pattern as text, or why it cannot be one.
pub(crate) fn pattern_text(path: &Path) -> Result<String, String> {
    let text = path.to_str().ok_or("the path is not valid UTF-8")?;
    glob::Pattern::new(text).map_err(|e| e.to_string())?;
    Ok(text.to_string())
}

/// The files matching `pattern` (checked by [`pattern_text`]), least
/// recently written first (so older rotated files are read before newer
/// ones). Folders that cannot be read are skipped.
pub(crate) async fn list(pattern: String) -> Vec<Listed> {
    tokio::task::spawn_blocking(move || {
        let Ok(paths) = glob::glob_with(&pattern, OPTIONS) else { return Vec::new() };
        let mut listed: Vec<Listed> = paths
            .filter_map(Result::ok)
            .filter_map(|path| {
                let meta = std::fs::metadata(&path).ok().filter(|m| m.is_file())?;
                Some(Listed { id: FileId::of(&meta), len: meta.len(), modified: meta.modified().ok(), path })
            })
            .collect();
        listed.sort_by(|a, b| a.modified.cmp(&b.modified).then_with(|| a.path.cmp(&b.path)));
        listed
    })
    .await
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stars_stay_within_a_folder_and_double_stars_descend() {
        let dir = tempfile::tempdir().unwrap();
        for p in ["a.log", "a.log.1", "b.txt", "sub/c.log", "sub/deeper/d.log"] {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, p).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("folder.log")).unwrap();
        let root = dir.path().to_path_buf();
        let names = |pattern: &str| {
            let pattern = pattern_text(&root.join(pattern)).unwrap();
            let root = root.clone();
            async move {
                let mut names: Vec<String> = list(pattern)
                    .await
                    .into_iter()
                    .map(|l| l.path.strip_prefix(&root).unwrap().display().to_string())
                    .collect();
                names.sort();
                names
            }
        };
        assert_eq!(names("*.log*").await, vec!["a.log", "a.log.1"], "folders are not files");
        assert_eq!(names("**/*.log").await, vec!["a.log", "sub/c.log", "sub/deeper/d.log"]);
        assert_eq!(names("a.log").await, vec!["a.log"]);
        assert!(names("missing.log").await.is_empty());
        assert!(pattern_text(Path::new("/var/log/[oops")).is_err());
    }
}
