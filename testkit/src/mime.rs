//! Reading the bodies of a MIME message as a mail client shows them: the
//! parts of a `multipart/*` message, each decoded from quoted-printable or
//! base64. Enough for the messages Vigil writes, not a general parser.

/// One leaf part of a message: its `Content-Type` and its decoded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The `Content-Type` header's value, e.g. `text/plain; charset=utf-8`.
    pub content_type: String,
    /// The body, decoded (invalid UTF-8 replaced), with CRLF line ends
    /// turned into LF.
    pub text: String,
}

/// The leaf parts of `message` (headers, a blank line, the body), in order;
/// a message that is not multipart is its own single part.
pub fn parts(message: &str) -> Vec<Part> {
    let message = message.replace("\r\n", "\n");
    let (head, body) = message.split_once("\n\n").unwrap_or((&message, ""));
    let content_type = header(head, "Content-Type").unwrap_or_else(|| "text/plain".to_string());
    let boundary =
        content_type.split(';').find_map(|p| p.trim().strip_prefix("boundary=")).map(|b| b.trim_matches('"'));
    match boundary {
        Some(boundary) if content_type.to_ascii_lowercase().starts_with("multipart/") => {
            let delimiter = format!("--{boundary}");
            body.split(&delimiter)
                .skip(1)
                .take_while(|p| !p.starts_with("--"))
                .flat_map(|p| parts(p.strip_prefix('\n').unwrap_or(p)))
                .collect()
        }
        _ => {
            let encoding = header(head, "Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
            let bytes = match encoding.as_str() {
                "quoted-printable" => quoted_printable(body),
                "base64" => base64(body),
                _ => body.as_bytes().to_vec(),
            };
            let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
            vec![Part { content_type, text }]
        }
    }
}

/// The first header `name` (case-insensitive) of `head`, folded lines
/// joined.
fn header(head: &str, name: &str) -> Option<String> {
    let mut found: Option<String> = None;
    for line in head.lines() {
        match (&mut found, line.starts_with([' ', '\t'])) {
            (Some(value), true) => value.push_str(line.trim_start()),
            (Some(_), false) => break,
            (None, _) => {
                if let Some((key, value)) = line.split_once(':') {
                    if key.eq_ignore_ascii_case(name) {
                        found = Some(value.trim().to_string());
                    }
                }
            }
        }
    }
    found
}

fn quoted_printable(body: &str) -> Vec<u8> {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

fn base64(body: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for sextet in body.bytes().filter_map(|b| ALPHABET.iter().position(|&a| a == b)) {
        acc = (acc << 6) | sextet as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_parts_are_decoded() {
        let message = "Subject: x\r\nContent-Type: multipart/alternative;\r\n boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nZo=C3=AB said =\r\nhello =3D hi\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+Wm/DqzwvcD4=\r\n--b1--\r\n";
        let found = parts(message);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].content_type, "text/plain; charset=utf-8");
        assert_eq!(found[0].text, "Zoë said hello = hi\n");
        assert_eq!(found[1].text, "<p>Zoë</p>");
        let plain = parts("Subject: y\r\n\r\nplain body\r\n");
        assert_eq!(plain, [Part { content_type: "text/plain".into(), text: "plain body\n".into() }]);
    }
}
