//! The console serving https itself (`[console] tls_cert`/`tls_key`): a
//! client trusting the certificate gets the sign-in page with `Secure`
//! cookies, plain http to the same port gets no page, a failed handshake does
//! not stop the server, and it stops when told.

use rustls::pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use vigil_console::{Console, Settings};
use vigil_core::shutdown::{channel, Phase};
use vigil_core::Config;
use vigil_store::Store;
use vigil_testkit::TestCert;

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Sends `GET /login` over `stream` and returns everything the server sent
/// back until it closed.
async fn get_login(mut stream: impl AsyncRead + AsyncWrite + Unpin) -> std::io::Result<String> {
    stream.write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

async fn https_get_login(addr: SocketAddr, connector: &TlsConnector) -> std::io::Result<String> {
    let tcp = TcpStream::connect(addr).await?;
    let tls = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await?;
    get_login(tls).await
}

#[tokio::test]
async fn the_console_serves_https_with_secure_cookies_and_refuses_plain_http() {
    let cert = TestCert::localhost().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let toml = format!(
        "[console]\nlisten = \"{addr}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
        cert.cert.display(),
        cert.key.display()
    );
    let config = Config::from_toml(&toml, "test", dir.path()).unwrap();
    let section = config.console.as_ref().unwrap();
    let acceptor =
        vigil_core::tls::acceptor(section.tls_cert.as_ref().unwrap(), section.tls_key.as_ref().unwrap()).unwrap();
    let store = Store::open(&dir.path().join("console.db")).unwrap();
    let console = Console::new(store, dir.path(), Settings::from_config(section));
    let (trigger, shutdown) = channel();
    let server = tokio::spawn(vigil_console::serve(console, addr, Some(acceptor), shutdown));

    let connector = TlsConnector::from(Arc::new(cert.client_config().unwrap()));
    let mut answer = https_get_login(addr, &connector).await;
    for _ in 0..100 {
        if answer.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        answer = https_get_login(addr, &connector).await;
    }
    let answer = answer.expect("an https request to the console");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let cookies: Vec<&str> = answer.lines().filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).collect();
    assert!(!cookies.is_empty(), "the sign-in page sets its login cookie: {answer}");
    for cookie in &cookies {
        assert!(cookie.split(';').any(|a| a.trim().eq_ignore_ascii_case("secure")), "{cookie}");
    }

    // Plain http to the TLS port: the handshake fails, no page comes back.
    let plain = get_login(TcpStream::connect(addr).await.unwrap()).await.unwrap_or_default();
    assert!(!plain.contains("HTTP/1.1 200") && !plain.contains("<form"), "plain http got a page: {plain}");

    // The failed handshake did not stop the server.
    let again = https_get_login(addr, &connector).await.expect("https after a failed handshake");
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");

    trigger.set(Phase::Stop);
    let stopped = tokio::time::timeout(Duration::from_secs(10), server).await.expect("the console stops when told");
    stopped.unwrap().unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "the port is closed after shutdown");
}

#[test]
fn an_unreadable_certificate_or_key_is_named_in_the_error() {
    let cert = TestCert::localhost().unwrap();
    let missing = cert.cert.with_file_name("missing.pem");
    let err = vigil_core::tls::acceptor(&missing, &cert.key).err().expect("an error").to_string();
    assert!(err.contains("certificate") && err.contains("missing.pem"), "{err}");
    let err = vigil_core::tls::acceptor(&cert.cert, &missing).err().expect("an error").to_string();
    assert!(err.contains("private key") && err.contains("missing.pem"), "{err}");
    let err = vigil_core::tls::acceptor(&cert.key, &cert.key).err().expect("an error").to_string();
    assert!(err.contains("no PEM certificate"), "{err}");
}
