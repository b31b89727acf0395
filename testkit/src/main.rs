//! `vigil-smtp-sink`: a small SMTP server for tests that stores every message
//! it accepts in a folder (see `vigil_testkit::Maildir`).
//!
//! It listens on 127.0.0.1 (port 0 picks a free one) and prints
//! `listening on 127.0.0.1:PORT` as its first line. `--cert`/`--key` enable
//! STARTTLS; `--auth USER:PASS` advertises AUTH PLAIN and LOGIN and refuses
//! `MAIL FROM` until the client has authenticated.

mod server;

use clap::Parser;
use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use vigil_testkit::Maildir;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(name = "vigil-smtp-sink", about = "An SMTP server for tests that stores what it receives.")]
struct Args {
    /// Port to listen on at 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Certificate chain (PEM) for STARTTLS.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Private key (PEM) for STARTTLS.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// `USER:PASS`: require AUTH PLAIN or LOGIN with these credentials.
    #[arg(long, value_parser = parse_credentials)]
    auth: Option<server::Credentials>,
    /// Folder to store messages in (`<n>.eml` and `<n>.json`).
    #[arg(long)]
    maildir: PathBuf,
}

fn parse_credentials(text: &str) -> Result<server::Credentials, String> {
    let (user, password) = text.split_once(':').ok_or("expected USER:PASS")?;
    Ok(server::Credentials { user: user.to_string(), password: password.to_string() })
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("vigil-smtp-sink: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let tls = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(server::tls_config(cert, key)?),
        _ => None,
    };
    let maildir = Maildir::open(&args.maildir).map_err(|e| e.to_string())?;
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {address}").and_then(|()| stdout.flush()).map_err(|e| e.to_string())?;
    let sink = server::Sink::new(maildir, tls, args.auth);
    server::serve(&listener, Arc::new(sink)).map_err(|e| format!("accepting connections failed: {e}"))
}
