//! The sink as a client sees it, over a raw TCP connection.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;
use vigil_testkit::{SinkOptions, SmtpSink};

/// A line-at-a-time SMTP client that returns each reply's last line.
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(sink: &SmtpSink) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", sink.port())).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut client = Client { reader: BufReader::new(stream) };
        assert!(client.reply().starts_with("220"));
        client
    }

    fn reply(&mut self) -> String {
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            if line.as_bytes().get(3) != Some(&b'-') {
                return line;
            }
        }
    }

    fn send(&mut self, line: &str) -> String {
        self.reader.get_mut().write_all(format!("{line}\r\n").as_bytes()).unwrap();
        self.reply()
    }
}

#[test]
fn plain_message_is_stored_with_its_envelope() {
    let sink = SmtpSink::start(&SinkOptions::default()).unwrap();
    let mut c = Client::connect(&sink);
    assert!(c.send("EHLO client").starts_with("250"));
    assert!(c.send("MAIL FROM:<a@school.example>").starts_with("250"));
    assert!(c.send("RCPT TO:<dsl@school.example>").starts_with("250"));
    assert!(c.send("RCPT TO:<deputy@school.example>").starts_with("250"));
    assert!(c.send("DATA").starts_with("354"));
    assert!(c.send("Subject: hello\r\n\r\n..dotted line\r\n.").starts_with("250"));
    let got = sink.wait_for(1, Duration::from_secs(10)).unwrap();
    assert_eq!(got[0].envelope.mail_from, "a@school.example");
    assert_eq!(got[0].envelope.rcpt_to, ["dsl@school.example", "deputy@school.example"]);
    assert!(!got[0].envelope.tls);
    assert_eq!(got[0].envelope.auth_user, None);
    assert_eq!(got[0].header("Subject").as_deref(), Some("hello"));
    assert!(got[0].text().contains("\r\n.dotted line\r\n"), "{}", got[0].text());
}

#[test]
fn auth_is_required_before_mail_from() {
    let sink = SmtpSink::start(&SinkOptions { auth: Some(("u".into(), "p".into())), ..Default::default() }).unwrap();
    let mut c = Client::connect(&sink);
    c.send("EHLO client");
    // mailin answers 503 (bad sequence): MAIL is not allowed before AUTH.
    assert!(c.send("MAIL FROM:<a@x>").starts_with("503"));
    // AUTH PLAIN of "\0u\0wrong", then of "\0u\0p".
    assert!(c.send("AUTH PLAIN AHUAd3Jvbmc=").starts_with("535"));
    assert!(c.send("AUTH PLAIN AHUAcA==").starts_with("235"));
    assert!(c.send("MAIL FROM:<a@x>").starts_with("250"));
    assert!(sink.messages().unwrap().is_empty());
}
