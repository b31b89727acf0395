//! The SMTP conversation: `mailin` runs the protocol state machine, this
//! module runs the sockets (one thread per connection) and the STARTTLS
//! upgrade, and records each accepted message with its envelope.

use mailin::{response, Action, AuthMechanism, Handler, Response, Session, SessionBuilder};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use vigil_testkit::{Envelope, Maildir};

/// The only user allowed to send, when AUTH is required.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

/// What every session shares.
pub struct Sink {
    builder: SessionBuilder,
    tls: Option<Arc<ServerConfig>>,
    credentials: Option<Credentials>,
    maildir: Maildir,
}

/// Loads a certificate chain and key (PEM) into a rustls server config.
pub fn tls_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read the certificate {}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("cannot read the key {}: {e}", key.display()))?;
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| format!("invalid certificate or key: {e}"))?;
    Ok(Arc::new(config))
}

impl Sink {
    /// A sink storing into `maildir`, offering STARTTLS when `tls` is given
    /// and requiring AUTH when `credentials` are.
    pub fn new(maildir: Maildir, tls: Option<Arc<ServerConfig>>, credentials: Option<Credentials>) -> Sink {
        let mut builder = SessionBuilder::new("vigil-smtp-sink");
        if tls.is_some() {
            builder.enable_start_tls();
        } else {
            // Without TLS, AUTH can only be tested in the clear.
            builder.insecure_enable_plaintext_auth();
        }
        if credentials.is_some() {
            builder.enable_auth(AuthMechanism::Plain).enable_auth(AuthMechanism::Login);
        }
        Sink { builder, tls, credentials, maildir }
    }

    /// Runs one client's session to its end.
    fn session(&self, stream: TcpStream) -> io::Result<()> {
        let remote = stream.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let tls_active = Rc::new(Cell::new(false));
        let handler = SessionHandler::new(self, tls_active.clone());
        let mut session = self.builder.build(remote, handler);
        let mut plain = BufReader::new(stream);
        reply(plain.get_mut(), &session.greeting())?;
        if converse(&mut session, &mut plain)? == End::UpgradeTls {
            let config = self.tls.clone().ok_or_else(|| io::Error::other("STARTTLS without a certificate"))?;
            if !plain.buffer().is_empty() {
                return Err(io::Error::other("client sent data after STARTTLS before the handshake"));
            }
            let connection = ServerConnection::new(config).map_err(io::Error::other)?;
            let mut secure = BufReader::new(StreamOwned::new(connection, plain.into_inner()));
            tls_active.set(true);
            session.tls_active();
            converse(&mut session, &mut secure)?;
        }
        Ok(())
    }
}

/// Accepts connections until the listener fails, one thread each.
pub fn serve(listener: &TcpListener, sink: Arc<Sink>) -> io::Result<()> {
    for stream in listener.incoming() {
        let stream = stream?;
        let sink = sink.clone();
        std::thread::spawn(move || {
            if let Err(e) = sink.session(stream) {
                eprintln!("vigil-smtp-sink: session ended: {e}");
            }
        });
    }
    Ok(())
}

/// How a conversation over one stream ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Closed,
    UpgradeTls,
}

fn converse<H: Handler, S: Read + Write>(session: &mut Session<H>, stream: &mut BufReader<S>) -> io::Result<End> {
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        if stream.read_until(b'\n', &mut line)? == 0 {
            return Ok(End::Closed);
        }
        let response = session.process(&line);
        match response.action {
            Action::NoReply => {}
            Action::Reply => reply(stream.get_mut(), &response)?,
            Action::Close => {
                reply(stream.get_mut(), &response)?;
                return Ok(End::Closed);
            }
            Action::UpgradeTls => {
                reply(stream.get_mut(), &response)?;
                return Ok(End::UpgradeTls);
            }
        }
    }
}

fn reply(out: &mut dyn Write, response: &Response) -> io::Result<()> {
    response.write_to(out)?;
    out.flush()
}

/// Per-session state: the envelope being built and who authenticated.
struct SessionHandler<'a> {
    sink: &'a Sink,
    tls_active: Rc<Cell<bool>>,
    user: Option<String>,
    mail_from: String,
    rcpt_to: Vec<String>,
    data: Vec<u8>,
}

impl<'a> SessionHandler<'a> {
    fn new(sink: &'a Sink, tls_active: Rc<Cell<bool>>) -> Self {
        SessionHandler { sink, tls_active, user: None, mail_from: String::new(), rcpt_to: Vec::new(), data: Vec::new() }
    }

    fn authenticate(&mut self, user: &str, password: &str) -> Response {
        match &self.sink.credentials {
            Some(c) if c.user == user && c.password == password => {
                self.user = Some(user.to_string());
                response::AUTH_OK
            }
            _ => response::INVALID_CREDENTIALS,
        }
    }
}

impl Handler for SessionHandler<'_> {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.mail_from = from.to_string();
        self.rcpt_to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let envelope = Envelope {
            mail_from: std::mem::take(&mut self.mail_from),
            rcpt_to: std::mem::take(&mut self.rcpt_to),
            tls: self.tls_active.get(),
            auth_user: self.user.clone(),
        };
        match self.sink.maildir.save(&envelope, &self.data) {
            Ok(_) => response::OK,
            Err(e) => {
                eprintln!("vigil-smtp-sink: {e}");
                response::INTERNAL_ERROR
            }
        }
    }

    fn auth_plain(&mut self, _authorization_id: &str, authentication_id: &str, password: &str) -> Response {
        self.authenticate(authentication_id, password)
    }

    fn auth_login(&mut self, username: &str, password: &str) -> Response {
        self.authenticate(username, password)
    }
}
