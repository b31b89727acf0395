//! Self-signed certificates for TLS in tests.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::path::PathBuf;
use std::sync::Arc;
use tempfile::TempDir;
use thiserror::Error;

/// Why a test certificate could not be made.
#[derive(Debug, Error)]
pub enum CertError {
    /// rcgen refused to generate the certificate.
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// The PEM files could not be written.
    #[error("cannot write the certificate files: {0}")]
    Write(#[from] std::io::Error),
    /// The certificate file could not be read back as PEM.
    #[error("cannot read the test certificate back: {0}")]
    Pem(rustls::pki_types::pem::Error),
    /// rustls refused the certificate as a trust anchor.
    #[error("cannot trust the test certificate: {0}")]
    Trust(rustls::Error),
}

/// A self-signed certificate and its key as PEM files in a temporary folder
/// (removed on drop). The certificate is also the CA a client must trust.
#[derive(Debug)]
pub struct TestCert {
    _dir: TempDir,
    /// The certificate (PEM). Give it to the server, and to the client as the
    /// CA to trust.
    pub cert: PathBuf,
    /// The private key (PEM, PKCS#8), for the server.
    pub key: PathBuf,
}

impl TestCert {
    /// A certificate for the host name `localhost`.
    pub fn localhost() -> Result<TestCert, CertError> {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
        let dir = tempfile::tempdir()?;
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, certified.cert.pem())?;
        std::fs::write(&key, certified.signing_key.serialize_pem())?;
        Ok(TestCert { _dir: dir, cert, key })
    }

    /// A TLS client configuration trusting this certificate only (ring as
    /// the crypto provider), for a test's client side.
    pub fn client_config(&self) -> Result<rustls::ClientConfig, CertError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&self.cert).map_err(CertError::Pem)? {
            roots.add(cert.map_err(CertError::Pem)?).map_err(CertError::Trust)?;
        }
        Ok(rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(CertError::Trust)?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }
}
