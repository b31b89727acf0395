//! Embeds the shipped rule library (`rules/` at the workspace root): writes
//! `library_files.rs`, a table of every `*.toml` under it (relative path,
//! `include_str!` of the file), and `test_rows.rs`, the same for the
//! labelled rows in `rules/tests/*.tsv` and `list_files.rs` for the lists in
//! `rules/lists/*.txt`, so editing one rebuilds the alerter.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let root = root.canonicalize().expect("the rules/ folder exists beside the alerter crate");
    println!("cargo:rerun-if-changed={}", root.display());
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut library = Vec::new();
    collect(&root, "toml", &mut library);
    library.retain(|f| !f.starts_with(root.join("tests")) && !f.starts_with(root.join("devset")));
    write_table(&root, &library, &out.join("library_files.rs"));
    let mut rows = Vec::new();
    collect(&root.join("tests"), "tsv", &mut rows);
    write_table(&root, &rows, &out.join("test_rows.rs"));
    let mut lists = Vec::new();
    collect(&root.join("lists"), "txt", &mut lists);
    write_table(&root, &lists, &out.join("list_files.rs"));
}

/// Writes `&[(relative path, include_str!(file)), ...]` for `files` to `out`.
fn write_table(root: &Path, files: &[PathBuf], out: &Path) {
    let mut files = files.to_vec();
    files.sort();
    let mut table = String::from("&[\n");
    for file in &files {
        let relative = file.strip_prefix(root).expect("under rules/").to_string_lossy().replace('\\', "/");
        writeln!(table, "    ({relative:?}, include_str!({:?})),", file.display().to_string()).unwrap();
    }
    table.push(']');
    std::fs::write(out, table).expect("OUT_DIR is writable");
}

/// Every file ending in `.extension` below `dir` (none when it is missing).
fn collect(dir: &Path, extension: &str, files: &mut Vec<PathBuf>) {
    if !dir.exists() {
        return;
    }
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a readable folder entry").path();
        if path.is_dir() {
            collect(&path, extension, files);
        } else if path.extension().is_some_and(|e| e == extension) {
            files.push(path);
        }
    }
}
