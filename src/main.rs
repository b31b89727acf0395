//! `vigil`: one binary, services chosen by subcommand.

mod alert_store;
mod console_cmd;
mod context_index;
mod metrics_http;
mod parse_cmd;
mod rules_cmd;
mod search_cmd;
mod signals;
mod users_cmd;
mod wiring;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc rather than the system allocator: ingest allocates an event's
/// strings on the parsing thread and frees them on the courier's, which
/// glibc's per-thread arenas handle poorly.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Vigil: safeguarding log pipeline for schools.
#[derive(Parser)]
#[command(name = "vigil", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every component in one process (embedded transport unless the config names Kafka brokers).
    Run {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
        /// Read every source to its end, flush, commit, send, exit (backfill).
        #[arg(long)]
        once: bool,
    },
    /// Read sources and produce events to Kafka.
    Ingest {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
        /// Read every source to its end, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Consume events from Kafka into the search index.
    Index {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
    },
    /// Consume events from Kafka, raise alerts and email them.
    Alert {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
    },
    /// Serve the console (search, alert inbox, audit) as `[console]` says.
    Serve {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
    },
    /// Console accounts: add, change a password, disable, list.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Search the index; prints matching events as JSON lines, newest first.
    Search {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
        /// Only events at or after this time (RFC 3339, or a date YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// Only events before this time (RFC 3339, or a date YYYY-MM-DD).
        #[arg(long)]
        to: Option<String>,
        /// At most this many events.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Only this tenant's events (default: every tenant in the data folder).
        #[arg(long)]
        tenant: Option<String>,
        /// The query: `field:value`, "phrases", AND/OR/NOT, ranges `[a TO b]`.
        query: String,
    },
    /// Measure or list the alert rules a configuration loads; import Sigma rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Parse a log file (or stdin) and print each event as a JSON line.
    Parse {
        #[arg(long, help = format_help())]
        format: String,
        /// Lines longer than this many bytes are rejected.
        #[arg(long, default_value_t = 64 * 1024)]
        max_line_bytes: usize,
        /// The file to read; standard input when absent.
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Add an account; its password is read from standard input (one line)
    /// or from the variable named by --password-env.
    Add {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
        /// Roles, comma-separated: dsl, ict, governor, admin.
        #[arg(long)]
        roles: String,
        /// Tenants the account sees, comma-separated, or * for every tenant (a trust's central team).
        #[arg(long)]
        tenants: String,
        /// Read the password from this environment variable instead of standard input.
        #[arg(long)]
        password_env: Option<String>,
        /// The sign-in name.
        name: String,
    },
    /// Change an account's password (ends its sessions).
    Passwd {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
        /// Read the password from this environment variable instead of standard input.
        #[arg(long)]
        password_env: Option<String>,
        /// The sign-in name.
        name: String,
    },
    /// Disable an account (ends its sessions).
    Disable {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
        /// The sign-in name.
        name: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
        /// The sign-in name.
        name: String,
    },
    /// Every account: name, roles, tenants.
    List {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Recall per category and false alerts per 100 000 benign rows on labelled
    /// queries: TSV rows `<category>\t<text>` and `benign\t<text>`.
    Test {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
        /// How many wrong rows to list, of each kind.
        #[arg(long, default_value_t = 50)]
        show: usize,
        /// Labelled files; the shipped test rows (rules/tests) when none are given.
        files: Vec<PathBuf>,
    },
    /// Every rule in use: id, category, severity, who is told, where it was read.
    List {
        /// The configuration file.
        #[arg(long, env = "VIGIL_CONFIG")]
        config: PathBuf,
    },
    /// Convert Sigma rules (`.yml` files, or folders of them) into Vigil rule
    /// files, reporting each rule that cannot be converted and why; fails when
    /// any could not.
    ImportSigma {
        /// A folder to write one Vigil rule file per converted rule into (for
        /// `[alerter] rules_dir`); without it the rules are printed.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Sigma rule files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

/// `--format`'s help: every format `vigil parse` knows.
fn format_help() -> String {
    format!(
        "The log format: {}, or syslog+FORMAT for any of those (but auto) inside a syslog header",
        vigil_ingest::parse::FORMATS.join(", ")
    )
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr (stdout carries `parse` and `search` output); the level
/// comes from `RUST_LOG`, default `info`.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run { config, once } => wiring::run_all(&load(&config)?, once).await,
        Command::Ingest { config, once } => wiring::run_ingest(&load(&config)?, once).await,
        Command::Index { config } => wiring::run_indexer(&load(&config)?).await,
        Command::Alert { config } => wiring::run_alerter(&load(&config)?).await,
        Command::Serve { config } => wiring::run_console(&load(&config)?).await,
        Command::Users { command } => users(command),
        Command::Search { config, from, to, limit, tenant, query } => {
            let config = load(&config)?;
            search_cmd::search(&config, from.as_deref(), to.as_deref(), limit, tenant, &query)
        }
        Command::Rules { command: RulesCommand::Test { config, show, files } } => {
            rules_cmd::test(&load(&config)?, &files, show)
        }
        Command::Rules { command: RulesCommand::List { config } } => rules_cmd::list(&load(&config)?),
        Command::Rules { command: RulesCommand::ImportSigma { out, paths } } => {
            rules_cmd::import_sigma(&paths, out.as_deref())
        }
        Command::Parse { format, max_line_bytes, file } => parse_cmd::parse(&format, max_line_bytes, file.as_deref()),
    }
}

fn users(command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add { config, roles, tenants, password_env, name } => {
            users_cmd::add(&load(&config)?, &name, &roles, &tenants, password_env.as_deref())
        }
        UsersCommand::Passwd { config, password_env, name } => {
            users_cmd::passwd(&load(&config)?, &name, password_env.as_deref())
        }
        UsersCommand::Disable { config, name } => users_cmd::set_disabled(&load(&config)?, &name, true),
        UsersCommand::Enable { config, name } => users_cmd::set_disabled(&load(&config)?, &name, false),
        UsersCommand::List { config } => users_cmd::list(&load(&config)?),
    }
}

fn load(path: &std::path::Path) -> anyhow::Result<vigil_core::Config> {
    vigil_core::Config::from_file(path).context("cannot start")
}
