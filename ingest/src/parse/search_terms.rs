//! Search terms typed into well-known search engines, read from the URL.
//!
//! Only plain-HTTP or TLS-inspected requests carry the query in the logged
//! URL; a CONNECT tunnel logs just `host:443`.

use super::weburl;
use percent_encoding::percent_decode_str;

/// The engines recognised: which hosts, which path, which parameter.
struct Engine {
    host: fn(&str) -> bool,
    paths: &'static [&'static str],
    param: &'static str,
}

const ENGINES: &[Engine] = &[
    Engine { host: is_google, paths: &["/search"], param: "q" },
    Engine { host: |h| is_site(h, "bing.com"), paths: &["/search"], param: "q" },
    Engine { host: |h| is_site(h, "youtube.com"), paths: &["/results"], param: "search_query" },
    Engine { host: |h| is_site(h, "duckduckgo.com"), paths: &["", "/", "/html", "/html/"], param: "q" },
    Engine { host: is_yahoo_search, paths: &["/search"], param: "p" },
    Engine { host: |h| is_site(h, "ecosia.org"), paths: &["/search"], param: "q" },
];

/// The search terms in `url` when it is a search on Google (any
/// `google.<tld>`), Bing, YouTube, DuckDuckGo, Yahoo (any regional
/// `*.search.yahoo.com`) or Ecosia: percent-decoded, `+` read as a space,
/// invalid UTF-8 replaced, surrounding whitespace trimmed. `None` for other
/// URLs and for empty searches.
pub fn search_query(url: &str) -> Option<String> {
    from_parts(&weburl::split(url)?)
}

/// [`search_query`] for a URL already split.
pub(crate) fn from_parts(parts: &weburl::UrlParts<'_>) -> Option<String> {
    let query = parts.query?;
    let host = parts.host;
    let engine = ENGINES.iter().find(|e| (e.host)(host) && e.paths.contains(&parts.path))?;
    let raw = query.split('&').find_map(|pair| pair.strip_prefix(engine.param)?.strip_prefix('='))?;
    let spaced = raw.replace('+', " ");
    let decoded = percent_decode_str(&spaced).decode_utf8_lossy();
    let terms = decoded.trim();
    (!terms.is_empty()).then(|| terms.to_string())
}

/// `host` is `domain` or one of its subdomains, ignoring case.
fn is_site(host: &str, domain: &str) -> bool {
    let Some(prefix_len) = host.len().checked_sub(domain.len()) else {
        return false;
    };
    host.is_char_boundary(prefix_len)
        && host[prefix_len..].eq_ignore_ascii_case(domain)
        && (prefix_len == 0 || host.as_bytes()[prefix_len - 1] == b'.')
}

/// `google.<tld>`, `google.co.<cc>` or `google.com.<cc>`, optionally under
/// `www.`.
fn is_google(host: &str) -> bool {
    let host = strip_prefix_ignore_case(host, "www.").unwrap_or(host);
    let Some(suffix) = strip_prefix_ignore_case(host, "google.") else {
        return false;
    };
    let tld = match suffix.split_once('.') {
        Some((sld, tld)) if sld.eq_ignore_ascii_case("co") || sld.eq_ignore_ascii_case("com") => tld,
        Some(_) => return false,
        None => suffix,
    };
    !tld.is_empty() && tld.bytes().all(|b| b.is_ascii_alphabetic())
}

/// `search.yahoo.com` or a regional `<cc>.search.yahoo.com`.
fn is_yahoo_search(host: &str) -> bool {
    is_site(host, "search.yahoo.com")
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::search_query;

    fn q(url: &str) -> Option<String> {
        search_query(url)
    }

    #[test]
    fn reads_each_engines_query_parameter() {
        assert_eq!(q("https://www.google.com/search?q=how+to+tie+a+tie&hl=en").as_deref(), Some("how to tie a tie"));
        assert_eq!(q("http://www.google.co.uk/search?client=firefox&q=self%20harm").as_deref(), Some("self harm"));
        assert_eq!(q("https://google.de/search?q=katze").as_deref(), Some("katze"));
        assert_eq!(q("https://www.bing.com/search?q=vpn+free&form=QBLH").as_deref(), Some("vpn free"));
        assert_eq!(q("https://www.youtube.com/results?search_query=minecraft+mods").as_deref(), Some("minecraft mods"));
        assert_eq!(q("https://m.youtube.com/results?search_query=x").as_deref(), Some("x"));
        assert_eq!(q("https://duckduckgo.com/?q=proxy+sites&t=h_").as_deref(), Some("proxy sites"));
        assert_eq!(q("https://html.duckduckgo.com/html/?q=tor").as_deref(), Some("tor"));
        assert_eq!(q("https://search.yahoo.com/search?p=knife&fr=yfp").as_deref(), Some("knife"));
        assert_eq!(q("https://uk.search.yahoo.com/search?p=weather+leeds").as_deref(), Some("weather leeds"));
        assert_eq!(q("https://www.ecosia.org/search?method=index&q=trees").as_deref(), Some("trees"));
    }

    #[test]
    fn decodes_plus_percent_and_invalid_utf8() {
        assert_eq!(q("https://www.google.com/search?q=1%2B1%3D2").as_deref(), Some("1+1=2"));
        assert_eq!(q("https://www.google.com/search?q=caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(q("https://www.google.com/search?q=bad%FFbyte").as_deref(), Some("bad\u{FFFD}byte"));
        assert_eq!(q("https://www.google.com/search?q=%E2%80").as_deref(), Some("\u{FFFD}"));
    }

    #[test]
    fn ignores_empty_searches_and_other_sites() {
        assert_eq!(q("https://www.google.com/search?q="), None);
        assert_eq!(q("https://www.google.com/search?q=+++"), None);
        assert_eq!(q("https://www.google.com/search?hl=en"), None);
        assert_eq!(q("https://www.google.com/maps?q=leeds"), None);
        assert_eq!(q("https://notgoogle.com/search?q=x"), None);
        assert_eq!(q("https://google.evil.example.com/search?q=x"), None);
        assert_eq!(q("https://google.evil.com/search?q=x"), None);
        assert_eq!(q("https://www.google.com.au/search?q=x").as_deref(), Some("x"));
        assert_eq!(q("https://evilbing.com/search?q=x"), None);
        assert_eq!(q("https://www.youtube.com/watch?v=abc"), None);
        assert_eq!(q("https://example.com/search?q=x"), None);
        assert_eq!(q("www.google.com:443"), None);
        assert_eq!(q("https://www.google.com/search?qq=x"), None);
    }
}
