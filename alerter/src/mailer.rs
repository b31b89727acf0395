//! Where alert emails go: an SMTP server (lettre, rustls) or, when none is
//! configured, `.eml` files in the outbox folder.

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;
use vigil_core::config::{SmtpConfig, SmtpSecurity};
use vigil_core::fsutil::write_atomic;
use vigil_core::Config;

/// The email settings cannot be used.
#[derive(Debug, Error)]
pub enum EmailConfigError {
    /// An address in `[email]` does not parse.
    #[error("invalid address {address:?} in email.{key}: {reason}")]
    Address {
        /// The setting (`from`, `dsl`, `ict`, `lists.<name>`).
        key: String,
        /// The address as written.
        address: String,
        /// The parser's complaint.
        reason: String,
    },
    /// `smtp.username` is set without `smtp.password_env`.
    #[error("email.smtp.username is set but email.smtp.password_env is not; name the environment variable that holds the SMTP password")]
    NoPasswordEnv,
    /// The password's environment variable is not set.
    #[error("the SMTP password environment variable {0} (email.smtp.password_env) is not set")]
    PasswordUnset(String),
    /// The extra CA file could not be read or parsed.
    #[error("cannot use email.smtp.ca_file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The TLS settings were refused.
    #[error("cannot set up TLS for the SMTP server {host}: {source}")]
    Tls {
        /// The server's host name.
        host: String,
        /// lettre's error.
        source: lettre::transport::smtp::Error,
    },
}

/// One email could not be delivered.
#[derive(Debug, Error)]
pub enum SendError {
    /// The SMTP server could not be reached or did not accept the email.
    #[error("the SMTP server {server} did not take the email: {source}{hint}")]
    Smtp {
        /// `host:port`.
        server: String,
        /// lettre's error, with the server's reply.
        source: lettre::transport::smtp::Error,
        /// What to check, when the reply says what is wrong.
        hint: &'static str,
    },
    /// The `.eml` file could not be written.
    #[error("cannot write the email to {path}: {source}")]
    Outbox {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl SendError {
    /// Whether trying again cannot help (the server refused for good, e.g.
    /// a wrong password or a rejected address).
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Smtp { source, .. } if source.is_permanent())
    }
}

/// Delivers composed emails.
#[derive(Debug)]
pub enum Mailer {
    /// Through an SMTP server.
    Smtp {
        /// The client.
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// `host:port`, for messages.
        server: String,
    },
    /// As `.eml` files in a folder.
    Outbox {
        /// The folder.
        dir: PathBuf,
    },
}

impl Mailer {
    /// The mailer `config` asks for. Reads the SMTP password from its
    /// environment variable and the extra CA file now, so mistakes show at
    /// start-up.
    pub fn from_config(config: &Config) -> Result<Mailer, EmailConfigError> {
        match &config.email.smtp {
            None => Ok(Mailer::Outbox { dir: config.outbox_dir() }),
            Some(smtp) => Ok(Mailer::Smtp { transport: smtp_transport(smtp)?, server: server(smtp) }),
        }
    }

    /// Delivers `message`; `name` (the alert id) names its outbox file.
    pub async fn send(&self, name: &str, message: &Message) -> Result<(), SendError> {
        match self {
            Mailer::Smtp { transport, server } => match transport.send(message.clone()).await {
                Ok(_) => Ok(()),
                Err(source) => Err(SendError::Smtp { server: server.clone(), hint: hint(&source), source }),
            },
            Mailer::Outbox { dir } => {
                let file = format!("{name}.eml");
                write_atomic(&dir.join(&file), &message.formatted())
                    .map_err(|source| SendError::Outbox { path: dir.join(file), source })
            }
        }
    }
}

/// One line saying where alert emails go, for the start-up log.
pub fn describe(config: &Config) -> String {
    match &config.email.smtp {
        None => format!(
            "alert emails are written as .eml files to {} (no SMTP server configured)",
            config.outbox_dir().display()
        ),
        Some(smtp) => {
            let security = match smtp.security {
                SmtpSecurity::Plain => "unencrypted",
                SmtpSecurity::Starttls => "STARTTLS",
                SmtpSecurity::Tls => "TLS",
            };
            let login = smtp.username.as_deref().map(|u| format!(", logging in as {u}")).unwrap_or_default();
            format!("alert emails are sent through the SMTP server {} ({security}{login})", server(smtp))
        }
    }
}

fn port(smtp: &SmtpConfig) -> u16 {
    smtp.port.unwrap_or(match smtp.security {
        SmtpSecurity::Plain => 25,
        SmtpSecurity::Starttls => 587,
        SmtpSecurity::Tls => 465,
    })
}

fn server(smtp: &SmtpConfig) -> String {
    format!("{}:{}", smtp.host, port(smtp))
}

fn smtp_transport(smtp: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, EmailConfigError> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(port(smtp))
        .timeout(Some(Duration::from_secs(smtp.timeout_secs.max(1))));
    let tls = match smtp.security {
        SmtpSecurity::Plain => None,
        SmtpSecurity::Starttls => Some(Tls::Required(tls_parameters(smtp)?)),
        SmtpSecurity::Tls => Some(Tls::Wrapper(tls_parameters(smtp)?)),
    };
    if let Some(tls) = tls {
        builder = builder.tls(tls);
    }
    if let Some(user) = &smtp.username {
        let var = smtp.password_env.as_deref().ok_or(EmailConfigError::NoPasswordEnv)?;
        let password = std::env::var(var).map_err(|_| EmailConfigError::PasswordUnset(var.to_string()))?;
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// TLS checking the server's name against its certificate, trusting the
/// Mozilla roots plus `ca_file` when set.
fn tls_parameters(smtp: &SmtpConfig) -> Result<TlsParameters, EmailConfigError> {
    let mut builder = TlsParameters::builder(smtp.host.clone());
    if let Some(path) = &smtp.ca_file {
        let ca_err = |reason: String| EmailConfigError::CaFile { path: path.clone(), reason };
        let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
        let certificate = Certificate::from_pem(&pem).map_err(|e| ca_err(e.to_string()))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build_rustls().map_err(|source| EmailConfigError::Tls { host: smtp.host.clone(), source })
}

/// Advice for the SMTP replies whose cause is in the configuration.
fn hint(error: &lettre::transport::smtp::Error) -> &'static str {
    match error.status().map(u16::from) {
        Some(530 | 534 | 535 | 538) => {
            "; the login was refused: check email.smtp.username and the password in the environment variable named by email.smtp.password_env"
        }
        Some(550 | 553) => "; a recipient or the sender address was refused: check email.dsl, email.ict, email.lists and email.from",
        _ if error.is_tls() => "; the TLS handshake failed: check email.smtp.host matches the server's certificate, or set email.smtp.ca_file",
        _ => "",
    }
}
