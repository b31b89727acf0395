//! The user directory (`[enrich] directory`): a CSV export from the school's
//! MIS or identity system that names the people behind user names.
//!
//! The file is CSV (RFC 4180: quoted fields may hold commas, quotes doubled,
//! a UTF-8 byte-order mark is ignored) whose header row names the columns,
//! in any order: `username`, `display_name`, `role` are required,
//! `year_group` and `tenant` optional; other columns are ignored.
//!
//! - `role` is `pupil` or `staff` (any case).
//! - `year_group` is the National Curriculum year: `R` or `Reception` (0),
//!   `0` to `13`, `Y9`, `Yr 9` or `Year 9`; empty for staff (and allowed
//!   empty for a pupil).
//! - `tenant` limits the row to one school; empty means any school. A row for
//!   the event's own tenant is preferred to an any-school row.
//!
//! A row that breaks these rules (or has a different number of fields from
//! the header, or repeats a username for the same tenant) is skipped and
//! reported with its line number; the rest of the file is used.
//!
//! Matching rule: an event's `user.name` is compared case-insensitively with
//! `username` as written; when that finds nothing, the bare account name is
//! tried: `SCHOOL\l.evans` and `l.evans@school.example` both match a row
//! `l.evans`. (A row written as `l.evans@school.example` matches only that
//! full form.)

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};
use thiserror::Error;
use vigil_core::Event;

/// At most this many malformed rows are logged one by one per load.
const MAX_PROBLEMS_LOGGED: usize = 20;

/// Why the directory file could not be used at all.
#[derive(Debug, Error)]
pub enum DirectoryError {
    /// The file could not be opened or read.
    #[error("cannot read the user directory {path} ([enrich] directory): {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The header row lacks a required column.
    #[error("the user directory {path} has no {column:?} column in its header row; the header must name username,display_name,role,year_group,tenant")]
    Header {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: &'static str,
    },
}

/// `pupil` or `staff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRole {
    /// A pupil.
    Pupil,
    /// A member of staff.
    Staff,
}

impl UserRole {
    /// The value of `user.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Pupil => "pupil",
            UserRole::Staff => "staff",
        }
    }
}

/// One person of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// The display name (`user.full_name`); may be empty.
    pub display_name: String,
    /// Pupil or staff.
    pub role: UserRole,
    /// 0 (Reception) to 13.
    pub year_group: Option<u8>,
    /// The school this row is for; `None` for any.
    pub tenant: Option<String>,
}

/// A row that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// 1-based line number in the file.
    pub line: u64,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The loaded directory: lower-cased username → its rows (usually one).
#[derive(Debug, Default)]
pub struct Directory {
    users: HashMap<String, Vec<DirectoryEntry>>,
}

/// Column positions found in the header row.
struct Columns {
    username: usize,
    display_name: usize,
    role: usize,
    year_group: Option<usize>,
    tenant: Option<usize>,
    count: usize,
}

impl Columns {
    fn from_header(header: &csv::ByteRecord, path: &Path) -> Result<Columns, DirectoryError> {
        let find = |name: &str| header.iter().position(|h| h.trim_ascii().eq_ignore_ascii_case(name.as_bytes()));
        let required = |column: &'static str| find(column).ok_or(DirectoryError::Header { path: path.into(), column });
        Ok(Columns {
            username: required("username")?,
            display_name: required("display_name")?,
            role: required("role")?,
            year_group: find("year_group"),
            tenant: find("tenant"),
            count: header.len(),
        })
    }
}

impl Directory {
    /// Reads the directory file. `Err` when the file cannot be read or its
    /// header is wrong; skipped rows come back beside the directory.
    pub fn load(path: &Path) -> Result<(Directory, Vec<RowProblem>), DirectoryError> {
        let file = std::fs::File::open(path).map_err(|source| DirectoryError::Read { path: path.into(), source })?;
        Directory::from_reader(file, path)
    }

    /// Reads a directory from `reader`; `path` names it in errors.
    pub fn from_reader(reader: impl Read, path: &Path) -> Result<(Directory, Vec<RowProblem>), DirectoryError> {
        let read_err = |e: csv::Error| DirectoryError::Read { path: path.into(), source: std::io::Error::other(e) };
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let columns = Columns::from_header(csv.byte_headers().map_err(read_err)?, path)?;
        let mut directory = Directory::default();
        let mut problems = Vec::new();
        let mut record = csv::ByteRecord::new();
        while csv.read_byte_record(&mut record).map_err(read_err)? {
            let line = record.position().map_or(0, |p| p.line());
            match parse_row(&record, &columns).and_then(|(name, entry)| directory.insert(name, entry)) {
                Ok(()) => {}
                Err(reason) => problems.push(RowProblem { line, reason }),
            }
        }
        Ok((directory, problems))
    }

    fn insert(&mut self, username: String, entry: DirectoryEntry) -> Result<(), String> {
        let rows = self.users.entry(username).or_default();
        if rows.iter().any(|r| r.tenant == entry.tenant) {
            return Err("an earlier row has the same username for the same tenant; this row is ignored".into());
        }
        rows.push(entry);
        Ok(())
    }

    /// How many usernames the directory holds.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether the directory is empty.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The row for `name` at `tenant`, per the module's matching rule.
    pub fn lookup(&self, name: &str, tenant: &str) -> Option<&DirectoryEntry> {
        let lowered = lower(name);
        self.find(&lowered, tenant).or_else(|| {
            let bare = bare_name(&lowered);
            (bare.len() != lowered.len() && !bare.is_empty()).then(|| self.find(bare, tenant)).flatten()
        })
    }

    fn find(&self, key: &str, tenant: &str) -> Option<&DirectoryEntry> {
        let rows = self.users.get(key)?;
        rows.iter().find(|r| r.tenant.as_deref() == Some(tenant)).or_else(|| rows.iter().find(|r| r.tenant.is_none()))
    }
}

/// `name` lower-cased, without allocating when it already is.
fn lower(name: &str) -> std::borrow::Cow<'_, str> {
    if name.chars().any(char::is_uppercase) {
        std::borrow::Cow::Owned(name.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// The account name without a `DOMAIN\` prefix or an `@domain` suffix.
fn bare_name(name: &str) -> &str {
    let account = name.rsplit_once('\\').map_or(name, |(_, account)| account);
    account.rsplit_once('@').map_or(account, |(local, _)| local)
}

/// A quoted, shortened form of a field for a problem report.
fn shown(value: &str) -> String {
    let short: String = value.chars().take(40).collect();
    format!("{short:?}")
}

fn parse_row(record: &csv::ByteRecord, columns: &Columns) -> Result<(String, DirectoryEntry), String> {
    if record.len() != columns.count {
        return Err(format!("the row has {} fields but the header has {}", record.len(), columns.count));
    }
    let field = |index: usize, name: &str| -> Result<&str, String> {
        let bytes = record.get(index).unwrap_or_default();
        std::str::from_utf8(bytes).map(str::trim).map_err(|_| format!("the {name} field is not valid UTF-8"))
    };
    let optional = |index: Option<usize>, name: &str| index.map_or(Ok(""), |i| field(i, name));
    let username = field(columns.username, "username")?;
    if username.is_empty() {
        return Err("the username is empty".into());
    }
    let role = match field(columns.role, "role")?.to_ascii_lowercase().as_str() {
        "pupil" => UserRole::Pupil,
        "staff" => UserRole::Staff,
        other => return Err(format!("the role {} is neither pupil nor staff", shown(other))),
    };
    let year_group = parse_year_group(optional(columns.year_group, "year_group")?)?;
    if role == UserRole::Staff && year_group.is_some() {
        return Err("a staff row has a year group; leave year_group empty for staff".into());
    }
    let tenant = optional(columns.tenant, "tenant")?;
    let entry = DirectoryEntry {
        display_name: field(columns.display_name, "display_name")?.to_string(),
        role,
        year_group,
        tenant: (!tenant.is_empty()).then(|| tenant.to_string()),
    };
    Ok((username.to_lowercase(), entry))
}

/// Reads a year group: `R`/`Reception` → 0, `0`..`13`, `Y9`, `Yr 9`,
/// `Year 9` (any case); empty → `None`.
pub fn parse_year_group(text: &str) -> Result<Option<u8>, String> {
    let lowered = text.trim().to_ascii_lowercase();
    if lowered.is_empty() {
        return Ok(None);
    }
    let number = match ["year", "yr", "y"].iter().find_map(|prefix| lowered.strip_prefix(prefix)) {
        Some(rest) => rest.trim_start_matches([' ', '-']),
        None => &lowered,
    };
    match number {
        "r" | "reception" => Ok(Some(0)),
        n => match n.parse::<u8>() {
            Ok(year) if year <= 13 => Ok(Some(year)),
            _ => Err(format!("the year group {} is not R, Reception, 0-13, Y9 or Year 9", shown(text))),
        },
    }
}

/// When the file was last seen as: modification time and length.
type Stamp = (SystemTime, u64);

/// The directory file, reloaded when it changes.
pub struct DirectoryFile {
    path: PathBuf,
    reload_every: Duration,
    current: RwLock<Directory>,
    /// The file's stamp when last loaded, and when it was last checked.
    check: Mutex<(Option<Stamp>, Instant)>,
}

impl DirectoryFile {
    /// Loads `path`, logging skipped rows. A missing or unreadable file, or
    /// a wrong header, is an error: the configuration names a file Vigil
    /// cannot use.
    pub fn open(path: &Path, reload_every: Duration) -> Result<DirectoryFile, DirectoryError> {
        let stamp = stamp(path);
        let (directory, problems) = Directory::load(path)?;
        report(path, &directory, &problems);
        Ok(DirectoryFile {
            path: path.into(),
            reload_every,
            current: RwLock::new(directory),
            check: Mutex::new((stamp, Instant::now())),
        })
    }

    /// Sets `user.full_name`, `user.role` and `user.year_group` of an event
    /// whose user the directory knows.
    pub fn apply(&self, event: &mut Event) {
        let Some(name) = event.user_name.as_deref() else { return };
        let directory = self.current.read().unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = directory.lookup(name, &event.tenant) else { return };
        if !entry.display_name.is_empty() {
            event.user_full_name = Some(entry.display_name.clone());
        }
        event.user_role = Some(entry.role.as_str().to_string());
        event.user_year_group = entry.year_group;
    }

    /// Reloads the file when `reload_every` has passed since the last check
    /// and its modification time or length changed. A file that has become
    /// unreadable or malformed is reported and the loaded directory kept.
    pub fn maybe_reload(&self, now: Instant) {
        {
            let mut check = self.check.lock().unwrap_or_else(PoisonError::into_inner);
            if now.saturating_duration_since(check.1) < self.reload_every {
                return;
            }
            check.1 = now;
        }
        if let Err(e) = self.reload_if_changed() {
            tracing::warn!(error = %e, "user directory not reloaded; the previous contents stay in use");
        }
    }

    /// Reloads the file now if it changed since it was loaded. `Ok(true)`
    /// when it was reloaded.
    pub fn reload_if_changed(&self) -> Result<bool, DirectoryError> {
        let new_stamp = stamp(&self.path);
        if new_stamp.is_some() && new_stamp == self.check.lock().unwrap_or_else(PoisonError::into_inner).0 {
            return Ok(false);
        }
        let (directory, problems) = Directory::load(&self.path)?;
        report(&self.path, &directory, &problems);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = directory;
        self.check.lock().unwrap_or_else(PoisonError::into_inner).0 = new_stamp;
        Ok(true)
    }
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Logs a load: skipped rows one by one (up to a limit), then a summary.
fn report(path: &Path, directory: &Directory, problems: &[RowProblem]) {
    for problem in problems.iter().take(MAX_PROBLEMS_LOGGED) {
        tracing::warn!(file = %path.display(), "user directory row skipped: {problem}");
    }
    if problems.len() > MAX_PROBLEMS_LOGGED {
        tracing::warn!(file = %path.display(), "{} more user directory rows skipped", problems.len() - MAX_PROBLEMS_LOGGED);
    }
    tracing::info!(file = %path.display(), users = directory.len(), skipped = problems.len(), "user directory loaded");
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "username,display_name,role,year_group,tenant\n";

    fn load(text: &str) -> (Directory, Vec<RowProblem>) {
        Directory::from_reader(text.as_bytes(), Path::new("users.csv")).unwrap()
    }

    #[test]
    fn year_group_forms() {
        for (text, year) in [
            ("R", 0),
            ("reception", 0),
            ("Reception", 0),
            ("0", 0),
            ("7", 7),
            ("13", 13),
            ("Y9", 9),
            ("y 9", 9),
            ("Yr 10", 10),
            ("Year 9", 9),
            ("YEAR 11", 11),
            ("Year R", 0),
            ("Year-6", 6),
        ] {
            assert_eq!(parse_year_group(text), Ok(Some(year)), "{text}");
        }
        assert_eq!(parse_year_group("  "), Ok(None));
        for bad in ["14", "Year 14", "Nursery", "-1", "9a", "Y"] {
            let err = parse_year_group(bad).unwrap_err();
            assert!(err.contains("year group"), "{bad}: {err}");
        }
    }

    #[test]
    fn rows_load_and_names_match_in_their_forms() {
        let (d, problems) =
            load(&format!("{HEADER}L.Evans,Lowri Evans,pupil,Year 9,\nj.smith,\"Smith, John\",Staff,,st-marys\n"));
        assert!(problems.is_empty(), "{problems:?}");
        let lowri = d.lookup("l.evans", "any-school").unwrap();
        assert_eq!(
            (lowri.display_name.as_str(), lowri.role, lowri.year_group),
            ("Lowri Evans", UserRole::Pupil, Some(9))
        );
        for form in ["L.EVANS", "SCHOOL\\l.evans", "l.evans@stmarys.sch.uk", "school\\L.Evans@stmarys.sch.uk"] {
            assert_eq!(d.lookup(form, "x"), Some(lowri), "{form}");
        }
        assert_eq!(d.lookup("j.smith", "st-marys").unwrap().display_name, "Smith, John");
        assert_eq!(d.lookup("j.smith", "oak-academy"), None, "a row for one tenant does not match another");
        assert_eq!(d.lookup("evans", "x"), None);
        assert_eq!(d.lookup("@", "x"), None);
    }

    #[test]
    fn a_tenant_row_is_preferred_to_an_any_school_row() {
        let (d, problems) =
            load(&format!("{HEADER}sam,Sam Any,pupil,3,\nsam,Sam Oak,pupil,5,oak\nsam,Sam Ash,staff,,ash\n"));
        assert!(problems.is_empty());
        assert_eq!(d.lookup("sam", "oak").unwrap().display_name, "Sam Oak");
        assert_eq!(d.lookup("sam", "ash").unwrap().role, UserRole::Staff);
        assert_eq!(d.lookup("sam", "elm").unwrap().display_name, "Sam Any");
    }

    #[test]
    fn columns_may_come_in_any_order_with_extras_and_a_bom() {
        let (d, problems) = load("\u{feff}Role,UPN,username,display_name,tenant\nstaff,x@y,Head,Mrs Head,\n");
        assert!(problems.is_empty(), "{problems:?}");
        let head = d.lookup("head", "t").unwrap();
        assert_eq!((head.role, head.year_group), (UserRole::Staff, None));
    }

    #[test]
    fn malformed_rows_are_skipped_with_their_line_numbers() {
        let text = format!(
            "{HEADER}ok,Ok Pupil,pupil,R,\n\
             ,No Name,pupil,3,\n\
             t1,Teacher,teacher,,\n\
             p1,Pupil One,pupil,Year 15,\n\
             s1,Staff One,staff,Y9,\n\
             c1,Comma, Shifted,pupil,4,\n\
             ok,Again,pupil,2,\n\
             \n\
             \"q1\",\"Quoted \"\"Q\"\"\",PUPIL,13,\n"
        );
        let (d, problems) = load(&text);
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8], "{problems:?}");
        assert!(problems[0].reason.contains("username is empty"));
        assert!(problems[1].reason.contains("\"teacher\""));
        assert!(problems[2].reason.contains("year group"));
        assert!(problems[3].reason.contains("staff"));
        assert!(problems[4].reason.contains("6 fields but the header has 5"));
        assert!(problems[5].reason.contains("same username"));
        assert_eq!(d.len(), 2);
        assert_eq!(d.lookup("q1", "t").unwrap().display_name, "Quoted \"Q\"");
        assert_eq!(d.lookup("ok", "t").unwrap().year_group, Some(0), "the first of two rows is kept");
    }

    #[test]
    fn invalid_utf8_is_a_row_problem_and_a_bad_header_an_error() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"x,Bad \xff Name,pupil,1,\n");
        let (d, problems) = Directory::from_reader(&bytes[..], Path::new("u.csv")).unwrap();
        assert!(d.is_empty());
        assert_eq!(problems[0].to_string(), "line 2: the display_name field is not valid UTF-8");
        let err = Directory::from_reader(&b"user,display_name,role\n"[..], Path::new("u.csv")).unwrap_err();
        assert!(err.to_string().contains("no \"username\" column"), "{err}");
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let err = DirectoryFile::open(Path::new("/nonexistent/users.csv"), Duration::from_secs(1)).err().unwrap();
        assert!(err.to_string().contains("/nonexistent/users.csv"), "{err}");
    }

    fn event_for(user: &str) -> Event {
        let mut e = Event::new(
            chrono::Utc::now(),
            vigil_core::EventKind::Proxy,
            "allowed",
            vigil_core::Outcome::Success,
            "squid",
            "squid",
            "",
        );
        e.tenant = "st-marys".into();
        e.user_name = Some(user.into());
        e
    }

    #[test]
    fn the_file_is_reloaded_when_it_changes_and_kept_when_it_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.csv");
        std::fs::write(&path, format!("{HEADER}a.pupil,A Pupil,pupil,Y7,\n")).unwrap();
        let file = DirectoryFile::open(&path, Duration::from_secs(3600)).unwrap();
        let mut e = event_for("A.Pupil");
        file.apply(&mut e);
        assert_eq!(e.user_full_name.as_deref(), Some("A Pupil"));
        assert_eq!((e.user_role.as_deref(), e.user_year_group), (Some("pupil"), Some(7)));
        assert!(!file.reload_if_changed().unwrap(), "unchanged file is not reloaded");

        std::fs::write(&path, format!("{HEADER}a.pupil,A Pupil,pupil,Y8,\nb.staff,B Staff,staff,,\n")).unwrap();
        assert!(file.reload_if_changed().unwrap());
        let mut e = event_for("a.pupil");
        file.apply(&mut e);
        assert_eq!(e.user_year_group, Some(8));
        let mut e = event_for("b.staff");
        file.apply(&mut e);
        assert_eq!((e.user_role.as_deref(), e.user_year_group), (Some("staff"), None));

        std::fs::write(&path, "not,a,directory\n").unwrap();
        assert!(file.reload_if_changed().is_err());
        std::fs::remove_file(&path).unwrap();
        assert!(file.reload_if_changed().is_err());
        let mut e = event_for("b.staff");
        file.apply(&mut e);
        assert_eq!(e.user_full_name.as_deref(), Some("B Staff"), "the last good directory stays in use");
        let mut unknown = event_for("nobody");
        file.apply(&mut unknown);
        assert_eq!(unknown.user_role, None);
    }

    #[test]
    fn maybe_reload_waits_for_the_interval() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.csv");
        std::fs::write(&path, format!("{HEADER}a,A,pupil,1,\n")).unwrap();
        let file = DirectoryFile::open(&path, Duration::from_secs(3600)).unwrap();
        std::fs::write(&path, format!("{HEADER}a,A,pupil,2,\n")).unwrap();
        file.maybe_reload(Instant::now());
        let mut e = event_for("a");
        file.apply(&mut e);
        assert_eq!(e.user_year_group, Some(1), "not checked again before reload_every");
        file.maybe_reload(Instant::now() + Duration::from_secs(3601));
        file.apply(&mut e);
        assert_eq!(e.user_year_group, Some(2));
    }
}
