//! Self-signed certificates for TLS in tests.

use std::path::PathBuf;
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
}
