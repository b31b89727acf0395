//! Splitting the URLs proxies log into host, path and query, without
//! allocating: the proxy hot path calls this for every line.

use super::ascii;

/// The parts of a logged URL, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// Host name or address as written (not lower-cased), without port,
    /// user info or IPv6 brackets.
    pub host: &'a str,
    /// Path, starting with `/`, or empty.
    pub path: &'a str,
    /// Text after `?` up to any `#`.
    pub query: Option<&'a str>,
}

/// Splits `scheme://[user@]host[:port]/path?query#frag`, or the `host:port`
/// of a CONNECT request. `None` when there is no host (`error:invalid-request`
/// and other pseudo-URLs Squid logs).
pub fn split(url: &str) -> Option<UrlParts<'_>> {
    match ascii::split_once(url, b':') {
        Some((_scheme, rest)) if rest.starts_with("//") => with_scheme(&rest[2..]),
        _ => authority_host(url, true).map(|host| UrlParts { host, path: "", query: None }),
    }
}

fn with_scheme(rest: &str) -> Option<UrlParts<'_>> {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = authority_host(&rest[..end], false)?;
    let rest = &rest[end..];
    let rest = ascii::split_once(rest, b'#').map_or(rest, |(before, _)| before);
    let (path, query) = match ascii::split_once(rest, b'?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    Some(UrlParts { host, path, query })
}

/// The host of `[user@]host[:port]`; with `port_required` (CONNECT), the
/// port must be present and numeric.
fn authority_host(authority: &str, port_required: bool) -> Option<&str> {
    let authority = ascii::rsplit_once(authority, b'@').map_or(authority, |(_, hostport)| hostport);
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = ascii::split_once(bracketed, b']')?;
        (host, after.strip_prefix(':'))
    } else {
        match ascii::rsplit_once(authority, b':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port_ok = match port {
        Some(p) => !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()),
        None => !port_required,
    };
    (port_ok && !host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(url: &str) -> Option<&str> {
        split(url).map(|p| p.host)
    }

    #[test]
    fn finds_hosts_of_urls_and_connect_targets() {
        assert_eq!(host("http://Example.COM:8080/a?b#c"), Some("Example.COM"));
        assert_eq!(host("https://user:pw@www.bbc.co.uk"), Some("www.bbc.co.uk"));
        assert_eq!(host("http://[2001:db8::1]:80/x"), Some("2001:db8::1"));
        assert_eq!(host("www.google.com:443"), Some("www.google.com"));
        assert_eq!(host("[::1]:443"), Some("::1"));
        assert_eq!(host("error:invalid-request"), None);
        assert_eq!(host("error:transaction-end-before-headers"), None);
        assert_eq!(host("http:///nohost"), None);
        assert_eq!(host("-"), None);
    }

    #[test]
    fn separates_path_query_and_fragment() {
        let p = split("http://h/search?q=a+b#top").unwrap();
        assert_eq!((p.path, p.query), ("/search", Some("q=a+b")));
        let p = split("http://h?q=1").unwrap();
        assert_eq!((p.path, p.query), ("", Some("q=1")));
        let p = split("http://h/#x?y").unwrap();
        assert_eq!((p.path, p.query), ("/", None));
    }
}
