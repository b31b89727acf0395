//! Network syslog sources (`[[sources]] type = "syslog"`): messages received
//! over UDP (RFC 5426), TCP (RFC 6587, both framings) or TLS (RFC 5425).
//!
//! Every sender gets its own parser, since parsers may correlate lines
//! (Postfix) and one sender's lines must not meet another's: a UDP sender is
//! its address, a TCP sender its connection. At most `max_senders` are kept
//! (UDP: the sender heard longest ago is flushed and forgotten; TCP: the
//! connection idle longest is closed for a new one once it has been idle long
//! enough, else the new one waits; see [`tcp`]). A sender's tenant comes from the
//! source's `senders` table (see [`senders::SenderMap`]).
//!
//! Messages are parsed with the source's format wrapped in
//! [`crate::parse::SyslogUnwrap`], and delivered like file lines, but there
//! is no position to save: a message is handed to the transport once, and
//! on shutdown (drain or stop) the source stops listening, flushes every
//! parser and waits for the deliveries. `vigil run --once` skips network
//! sources (they have no end to read to).

pub mod framing;
mod idle;
mod outlet;
pub mod senders;
mod tcp;
mod udp;

use crate::pipeline::LineProcessor;
use crate::source::SourceSummary;
use outlet::Outlet;
use senders::SenderMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::net::{TcpListener, UdpSocket};
use tokio_rustls::TlsAcceptor;
use vigil_core::config::{SourceConfig, SyslogProtocol};
use vigil_core::shutdown::Shutdown;
use vigil_core::transport::{Producer, TransportError};

/// How often held events of quiet senders are checked for expiry.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Makes a fresh parser-backed processor for a sender of the given tenant.
pub type NewProcessor = Box<dyn Fn(&str) -> LineProcessor + Send + Sync>;

/// Why a syslog source could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum NetError {
    /// The listen address could not be bound.
    #[error("source {source_name}: cannot listen on {protocol} {addr}: {source} (is another syslog daemon using the port, or does the port need privileges?)")]
    Bind {
        /// The source.
        source_name: String,
        /// `UDP` or `TCP`.
        protocol: &'static str,
        /// The configured address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The `senders` table or the TLS files are unusable.
    #[error("source {source_name}: {message}")]
    Config {
        /// The source.
        source_name: String,
        /// What is wrong, naming the key or file.
        message: String,
    },
    /// The transport refused a record or a delivery failed.
    #[error("source {source_name}: {source}")]
    Transport {
        /// The source.
        source_name: String,
        /// What the transport said.
        source: TransportError,
    },
}

/// A syslog source, checked and ready to bind.
pub struct SyslogSource {
    name: String,
    listen: SocketAddr,
    protocol: SyslogProtocol,
    tls: Option<TlsAcceptor>,
    senders: SenderMap,
    max_senders: usize,
    max_line_bytes: usize,
}

impl SyslogSource {
    /// Reads a `type = "syslog"` source's settings: its sender table (whose
    /// unmatched senders get `tenant`) and TLS files. Messages are cut at
    /// `max_line_bytes`.
    pub fn from_config(source: &SourceConfig, tenant: &str, max_line_bytes: usize) -> Result<Self, NetError> {
        let config_error = |message| NetError::Config { source_name: source.name.clone(), message };
        let listen = source.listen.ok_or_else(|| config_error("a syslog source needs a listen address".into()))?;
        let senders = SenderMap::new(&source.senders, tenant).map_err(config_error)?;
        let tls = match (&source.tls_cert, &source.tls_key) {
            (Some(cert), Some(key)) => {
                Some(vigil_core::tls::acceptor(cert, key).map_err(|e| config_error(e.to_string()))?)
            }
            _ => None,
        };
        Ok(SyslogSource {
            name: source.name.clone(),
            listen,
            protocol: source.protocol,
            tls,
            senders,
            max_senders: source.max_senders.max(1),
            max_line_bytes,
        })
    }

    /// Binds the listen address.
    pub async fn bind(self) -> Result<BoundSyslog, NetError> {
        let bind_error =
            |protocol, source| NetError::Bind { source_name: self.name.clone(), protocol, addr: self.listen, source };
        let socket = match self.protocol {
            SyslogProtocol::Udp => Socket::Udp(UdpSocket::bind(self.listen).await.map_err(|e| bind_error("UDP", e))?),
            SyslogProtocol::Tcp => Socket::Tcp(TcpListener::bind(self.listen).await.map_err(|e| bind_error("TCP", e))?),
        };
        Ok(BoundSyslog { source: self, socket })
    }
}

enum Socket {
    Udp(UdpSocket),
    Tcp(TcpListener),
}

/// A syslog source listening on its address.
pub struct BoundSyslog {
    source: SyslogSource,
    socket: Socket,
}

impl BoundSyslog {
    /// The address actually bound (the port, when the configuration said 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match &self.socket {
            Socket::Udp(s) => s.local_addr(),
            Socket::Tcp(l) => l.local_addr(),
        }
    }

    /// Receives messages until shutdown (drain or stop), parsing each
    /// sender's with a processor from `new_processor` and sending through
    /// `producer`. Calls `handed_over` once listening has stopped and every
    /// parser is flushed, then waits for the deliveries.
    pub async fn run(
        self,
        new_processor: NewProcessor,
        producer: Arc<dyn Producer>,
        shutdown: Shutdown,
        handed_over: impl FnOnce(),
    ) -> Result<SourceSummary, NetError> {
        let BoundSyslog { source, socket } = self;
        tracing::info!(
            source = %source.name,
            listen = %source.listen,
            protocol = ?source.protocol,
            tls = source.tls.is_some(),
            "listening for syslog"
        );
        let listener = Arc::new(Listener {
            outlet: Outlet::new(&source.name, producer),
            name: source.name,
            senders: source.senders,
            new_processor,
            max_senders: source.max_senders,
            max_line_bytes: source.max_line_bytes,
        });
        let served = match socket {
            Socket::Udp(socket) => udp::serve(socket, &listener, shutdown.clone()).await,
            Socket::Tcp(socket) => tcp::serve(socket, source.tls, listener.clone(), shutdown.clone()).await,
        };
        handed_over();
        let Some(listener) = Arc::into_inner(listener) else {
            unreachable!("the servers return only after every connection task has ended");
        };
        tracing::info!(source = %listener.name, "syslog source stopped listening");
        let finished = listener.outlet.finish(&shutdown).await;
        served?;
        finished
    }
}

/// What every sender of one source shares.
pub(crate) struct Listener {
    name: String,
    outlet: Outlet,
    senders: SenderMap,
    new_processor: NewProcessor,
    max_senders: usize,
    max_line_bytes: usize,
}

impl Listener {
    /// A fresh processor for a sender at `addr`, with its tenant.
    fn processor_for(&self, addr: IpAddr) -> LineProcessor {
        (self.new_processor)(self.senders.tenant(addr))
    }
}

#[cfg(test)]
mod tests;
