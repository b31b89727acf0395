//! TLS servers from PEM files (the syslog TLS listener, the console): a
//! certificate chain and its key, ring as the crypto provider, no client
//! certificates.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;
use tokio_rustls::TlsAcceptor;

/// Why the certificate and key do not make a TLS server; each names the file
/// at fault.
#[derive(Debug, Error)]
pub enum TlsError {
    /// The certificate file is unreadable or not PEM.
    #[error("cannot read the certificate {}: {source}", path.display())]
    Cert {
        /// The certificate file.
        path: PathBuf,
        /// What the PEM reader said.
        source: rustls::pki_types::pem::Error,
    },
    /// The certificate file holds no certificate.
    #[error("{} holds no PEM certificate", path.display())]
    NoCert {
        /// The certificate file.
        path: PathBuf,
    },
    /// The key file is unreadable or holds no private key.
    #[error("cannot read the private key {}: {source}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What the PEM reader said.
        source: rustls::pki_types::pem::Error,
    },
    /// rustls refused the pair (the key does not match, an unsupported key…).
    #[error("the certificate {} and its key do not make a TLS server: {source}", path.display())]
    Config {
        /// The certificate file.
        path: PathBuf,
        /// What rustls said.
        source: rustls::Error,
    },
}

/// An acceptor serving the certificate chain in `cert` with the key in
/// `key`.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Cert { path: cert.to_path_buf(), source })?;
    if certs.is_empty() {
        return Err(TlsError::NoCert { path: cert.to_path_buf() });
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key { path: key.to_path_buf(), source })?;
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|source| TlsError::Config { path: cert.to_path_buf(), source })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
