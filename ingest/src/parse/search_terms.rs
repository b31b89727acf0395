//! Search terms read from the URL: the words typed into a search engine, or
//! searched for on a video, social, shopping or reference site that puts
//! them in the URL.
//!
//! Only plain-HTTP or TLS-inspected requests carry the query in the logged
//! URL; a CONNECT tunnel logs just `host:443`.

use super::weburl;
use percent_encoding::percent_decode_str;

/// A site whose search URLs carry the terms: which hosts, and the shapes of
/// its search URLs.
///
/// A shape is a path pattern and where the terms are. The pattern is matched
/// segment by segment: a literal segment matches itself (ASCII case ignored,
/// percent-decoded; `;params` after a segment and one trailing `/` on the
/// URL are ignored), `*` matches any one segment, and `**`, last, matches
/// whatever follows, even nothing. The terms are either `?name|name` after
/// the pattern, the first of those query parameters with a value, or one
/// segment of the pattern: `{}` (the segment as written), `{_}` (underscores
/// read as spaces, as in MediaWiki titles) or `#{}` (a hashtag, kept with
/// its `#`).
struct Site {
    host: fn(&str) -> bool,
    shapes: &'static [&'static str],
}

/// One entry per site, its shapes taken from the site's own URLs. Only
/// results pages: autocomplete requests carry half-typed prefixes of the
/// same search.
const SITES: &[Site] = &[
    Site { host: |h| is_brand(h, "google"), shapes: &["/search?q"] },
    Site {
        host: |h| is_site(h, "bing.com"),
        shapes: &["/search?q", "/images/search?q", "/videos/search?q", "/news/search?q"],
    },
    Site { host: |h| is_site(h, "youtube.com"), shapes: &["/results?search_query", "/search?q", "/hashtag/#{}/**"] },
    Site { host: |h| is_site(h, "duckduckgo.com"), shapes: &["/?q", "/html?q", "/lite?q"] },
    Site { host: |h| is_site(h, "search.yahoo.com"), shapes: &["/search?p", "/search/*?p"] },
    Site { host: |h| is_site(h, "ecosia.org"), shapes: &["/search?q", "/images?q", "/videos?q", "/news?q"] },
    Site { host: |h| is_site(h, "search.brave.com"), shapes: &["/search?q", "/images?q", "/videos?q", "/news?q"] },
    Site {
        host: |h| is_site(h, "startpage.com"),
        shapes: &["/sp/search?query|q", "/do/search?query|q", "/do/dsearch?query|q"],
    },
    Site { host: |h| is_site(h, "qwant.com"), shapes: &["/?q"] },
    Site {
        host: |h| is_brand(h, "yandex") || is_site(h, "ya.ru"),
        shapes: &["/search?text", "/yandsearch?text", "/images/search?text", "/video/search?text"],
    },
    Site { host: |h| is_site(h, "baidu.com"), shapes: &["/s?wd|word"] },
    Site { host: |h| is_site(h, "ask.com"), shapes: &["/web?q"] },
    Site { host: |h| is_site(h, "kiddle.co"), shapes: &["/s.php?q"] },
    Site { host: |h| is_site(h, "tiktok.com"), shapes: &["/search?q", "/search/*?q", "/tag/#{}"] },
    Site { host: |h| is_brand(h, "pinterest"), shapes: &["/search/*?q"] },
    Site { host: |h| is_site(h, "instagram.com"), shapes: &["/explore/tags/#{}", "/explore/search/keyword?q"] },
    Site { host: |h| is_site(h, "reddit.com"), shapes: &["/search?q", "/r/*/search?q"] },
    Site { host: |h| is_site(h, "x.com") || is_site(h, "twitter.com"), shapes: &["/search?q", "/hashtag/#{}"] },
    Site { host: |h| is_site(h, "open.spotify.com"), shapes: &["/search/{}/**"] },
    Site {
        host: |h| is_site(h, "wikipedia.org"),
        shapes: &["/w/index.php?search", "/wiki/Special:Search?search", "/wiki/Special:Search/{_}"],
    },
    Site { host: |h| is_brand(h, "amazon"), shapes: &["/s/**?k|field-keywords"] },
    Site { host: |h| is_brand(h, "ebay"), shapes: &["/sch/**?_nkw"] },
];

/// The search terms in `url` when it is a search on a known site (search
/// engines, YouTube, TikTok, Reddit, Wikipedia, Amazon…): percent-decoded,
/// `+` in a query parameter read as a space, invalid UTF-8 replaced,
/// surrounding whitespace trimmed; a hashtag page's tag as `#tag`. `None`
/// for other URLs and for empty searches.
pub fn search_query(url: &str) -> Option<String> {
    from_parts(&weburl::split(url)?)
}

/// [`search_query`] for a URL already split.
pub(crate) fn from_parts(parts: &weburl::UrlParts<'_>) -> Option<String> {
    // Most proxy lines are CONNECT tunnels (`host:443`): no shape matches a
    // bare host, so they skip the host comparisons.
    if parts.query.is_none() && parts.path.len() <= 1 {
        return None;
    }
    let site = SITES.iter().find(|s| (s.host)(parts.host))?;
    site.shapes.iter().find_map(|shape| terms(shape, parts.path, parts.query))
}

/// The terms of a URL with `path` and `query` when it has this `shape`.
fn terms(shape: &str, path: &str, query: Option<&str>) -> Option<String> {
    let (pattern, params) = match shape.split_once('?') {
        Some((pattern, params)) => (pattern, Some(params)),
        None => (shape, None),
    };
    let mut want = segments(pattern);
    let mut have = segments(path);
    let mut held = None;
    loop {
        match (want.next(), have.next()) {
            (Some("**"), _) | (None, None) => break,
            (Some(pattern), Some(segment)) => match pattern {
                "{}" | "{_}" | "#{}" => held = Some((pattern, segment)),
                "*" => {}
                literal if same(literal, segment) => {}
                _ => return None,
            },
            _ => return None,
        }
    }
    match (params, held) {
        (Some(names), _) => names.split('|').find_map(|name| clean(param(query?, name)?, &['+'], "")),
        (None, Some(("{_}", segment))) => clean(segment, &['_'], ""),
        (None, Some(("#{}", segment))) => clean(segment, &[], "#"),
        (None, Some((_, segment))) => clean(segment, &[], ""),
        (None, None) => None,
    }
}

/// The segments of a path, without its leading `/`, one trailing `/` and
/// each segment's `;params` (Yahoo's `/search;_ylt=…`).
fn segments(path: &str) -> impl Iterator<Item = &str> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = path.strip_suffix('/').unwrap_or(path);
    path.split('/').map(|segment| segment.split(';').next().unwrap_or(segment))
}

/// A literal pattern segment matches a URL's segment, ignoring ASCII case
/// and percent-encoding (`Special%3ASearch`).
fn same(literal: &str, segment: &str) -> bool {
    segment.eq_ignore_ascii_case(literal)
        || (segment.contains('%') && percent_decode_str(segment).decode_utf8_lossy().eq_ignore_ascii_case(literal))
}

/// The raw value of the first `name=` in a query string.
fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// `raw` with each of `spaces` read as a space, percent-decoded (invalid
/// UTF-8 replaced) and trimmed, after `prefix`; `None` when nothing is left.
fn clean(raw: &str, spaces: &[char], prefix: &str) -> Option<String> {
    let spaced = raw.replace(spaces, " ");
    let decoded = percent_decode_str(&spaced).decode_utf8_lossy();
    let terms = decoded.trim();
    (!terms.is_empty()).then(|| format!("{prefix}{terms}"))
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

/// `host` is `<brand>.<tld>`, `<brand>.co.<cc>` or `<brand>.com.<cc>`, or
/// a subdomain of one (`www.amazon.co.uk`, `images.google.de`), ignoring
/// case.
fn is_brand(host: &str, brand: &str) -> bool {
    let mut label_starts = std::iter::once(0).chain(host.match_indices('.').map(|(at, _)| at + 1));
    label_starts.any(|start| {
        let Some(suffix) = strip_prefix_ignore_case(&host[start..], brand).and_then(|s| s.strip_prefix('.')) else {
            return false;
        };
        let tld = match suffix.split_once('.') {
            Some((sld, tld)) if sld.eq_ignore_ascii_case("co") || sld.eq_ignore_ascii_case("com") => tld,
            Some(_) => return false,
            None => suffix,
        };
        !tld.is_empty() && tld.bytes().all(|b| b.is_ascii_alphabetic())
    })
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

    /// Each `(url, terms)` pair: the URL reads as those terms.
    fn assert_reads(cases: &[(&str, &str)]) {
        for (url, terms) in cases {
            assert_eq!(q(url).as_deref(), Some(*terms), "{url}");
        }
    }

    fn assert_not_searches(urls: &[&str]) {
        for url in urls {
            assert_eq!(q(url), None, "{url}");
        }
    }

    #[test]
    fn reads_each_search_engines_query() {
        assert_reads(&[
            ("https://www.google.com/search?q=how+to+tie+a+tie&hl=en", "how to tie a tie"),
            ("http://www.google.co.uk/search?client=firefox&q=self%20harm", "self harm"),
            ("https://google.de/search?q=katze", "katze"),
            ("https://www.google.com.au/search?q=x", "x"),
            ("https://www.google.co.uk/search?q=rope&udm=2&tbm=isch", "rope"),
            ("https://images.google.com/search?q=knife&tbm=isch", "knife"),
            ("https://news.google.com/search?q=stabbing+leeds&hl=en-GB&gl=GB", "stabbing leeds"),
            ("https://www.bing.com/search?q=vpn+free&form=QBLH", "vpn free"),
            ("https://www.bing.com/images/search?q=noose&form=HDRSC2", "noose"),
            ("https://www.bing.com/videos/search?q=how+to+play+guitar&qs=n", "how to play guitar"),
            ("https://duckduckgo.com/?q=proxy+sites&t=h_", "proxy sites"),
            ("https://html.duckduckgo.com/html/?q=tor", "tor"),
            ("https://lite.duckduckgo.com/lite/?q=unblocked+games", "unblocked games"),
            ("https://search.yahoo.com/search?p=knife&fr=yfp", "knife"),
            ("https://uk.search.yahoo.com/search;_ylt=AwrE.ItQ;_ylc=X1MDMjc?p=weather+leeds&fr=yfp-t", "weather leeds"),
            ("https://images.search.yahoo.com/search/images?p=rope+knot", "rope knot"),
            ("https://www.ecosia.org/search?method=index&q=trees", "trees"),
            ("https://www.ecosia.org/images?q=cat%20memes", "cat memes"),
            ("https://search.brave.com/search?q=is+vaping+bad&source=web", "is vaping bad"),
            ("https://search.brave.com/images?q=thin+inspo", "thin inspo"),
            ("https://www.startpage.com/sp/search?query=privacy+tools&cat=web", "privacy tools"),
            ("https://www.startpage.com/do/search?q=hide+browsing", "hide browsing"),
            ("https://www.startpage.com/do/dsearch?query=proxy&language=english", "proxy"),
            ("https://www.qwant.com/?q=vpn+gratuit&t=web", "vpn gratuit"),
            ("https://yandex.ru/search/?text=%D0%BD%D0%BE%D0%B6&lr=213", "нож"),
            ("https://yandex.com/images/search?text=knife", "knife"),
            ("https://yandex.com.tr/search/?text=browser", "browser"),
            ("https://ya.ru/search/?text=browser", "browser"),
            ("https://www.baidu.com/s?wd=vpn&rsv_spt=1", "vpn"),
            ("https://m.baidu.com/s?word=%E4%BD%A0%E5%A5%BD", "你好"),
            ("https://www.ask.com/web?q=how+to+run+away&qo=pagination&page=2", "how to run away"),
            ("http://uk.ask.com/web?q=x", "x"),
            ("https://www.kiddle.co/s.php?q=volcanoes&page=2", "volcanoes"),
        ]);
    }

    #[test]
    fn reads_searches_on_video_social_and_music_sites() {
        assert_reads(&[
            ("https://www.youtube.com/results?search_query=minecraft+mods", "minecraft mods"),
            ("https://m.youtube.com/results?search_query=how+to+vape&sp=EgIQAQ%253D%253D", "how to vape"),
            ("https://music.youtube.com/search?q=sad+songs", "sad songs"),
            ("https://www.youtube.com/hashtag/selfharm", "#selfharm"),
            ("https://www.youtube.com/hashtag/%EB%B0%88/shorts", "#밈"),
            ("https://www.tiktok.com/search?q=how%20to%20lose%20weight%20fast&t=1709548920", "how to lose weight fast"),
            ("https://www.tiktok.com/search/video?q=skinny+check", "skinny check"),
            ("https://www.tiktok.com/search/user?q=andrew%20tate", "andrew tate"),
            ("https://www.tiktok.com/tag/sewerslide?lang=en", "#sewerslide"),
            ("https://www.pinterest.com/search/pins/?q=thinspo&rs=typed&term_meta[]=thinspo%7Ctyped", "thinspo"),
            ("https://www.pinterest.co.uk/search/boards/?q=quick%20vegan%20recipes&rs=filter", "quick vegan recipes"),
            ("https://uk.pinterest.com/search/videos/?q=nail+art", "nail art"),
            ("https://www.instagram.com/explore/tags/proana/", "#proana"),
            ("https://www.instagram.com/explore/search/keyword/?q=fight%20video", "fight video"),
            ("https://www.reddit.com/search/?q=how+to+get+pills&type=link", "how to get pills"),
            ("https://old.reddit.com/r/teenagers/search?q=bullied&restrict_sr=on&sort=new", "bullied"),
            ("https://www.reddit.com/r/selfharm/search/?q=hide+scars", "hide scars"),
            ("https://x.com/search?q=%22knife%20crime%22&src=typed_query&f=live", "\"knife crime\""),
            ("https://mobile.twitter.com/search?q=vape", "vape"),
            ("https://x.com/hashtag/TSKaigi?src=hash", "#TSKaigi"),
            ("https://open.spotify.com/search/sad%20songs", "sad songs"),
            ("https://open.spotify.com/search/red%20hot/tracks", "red hot"),
        ]);
    }

    #[test]
    fn reads_searches_on_reference_and_shopping_sites() {
        assert_reads(&[
            (
                "https://en.wikipedia.org/w/index.php?search=how+to+make+a+bomb&title=Special%3ASearch&go=Go",
                "how to make a bomb",
            ),
            ("https://de.m.wikipedia.org/w/index.php?search=messer&title=Spezial%3ASuche", "messer"),
            ("https://en.wikipedia.org/wiki/Special:Search?search=self+harm&go=Go", "self harm"),
            ("https://simple.wikipedia.org/wiki/Special:Search/Knife_crime", "Knife crime"),
            ("https://fr.wikipedia.org/wiki/Special%3ASearch/arme%20blanche", "arme blanche"),
            ("https://www.amazon.co.uk/s?k=zombie+knife&crid=2M096C61O4MLT&ref=nb_sb_noss", "zombie knife"),
            (
                "https://www.amazon.com/s/ref=nb_sb_noss_2?url=search-alias%3Daps&field-keywords=C%2B%2B+primer",
                "C++ primer",
            ),
            ("https://www.amazon.de/s?field-keywords=messer", "messer"),
            ("https://smile.amazon.com/s?k=rope", "rope"),
            ("https://www.ebay.co.uk/sch/i.html?_nkw=butterfly+knife&_sacat=0", "butterfly knife"),
            ("https://www.ebay.com/sch/15032/i.html?_nkw=vape+pen", "vape pen"),
        ]);
    }

    #[test]
    fn decodes_plus_percent_and_invalid_utf8() {
        assert_reads(&[
            ("https://www.google.com/search?q=1%2B1%3D2", "1+1=2"),
            ("https://www.google.com/search?q=caf%C3%A9", "café"),
            ("https://www.google.com/search?q=bad%FFbyte", "bad\u{FFFD}byte"),
            ("https://www.google.com/search?q=%E2%80", "\u{FFFD}"),
            // In a path, `+` is a plus; only Wikipedia's underscores are spaces.
            ("https://open.spotify.com/search/AC%2FDC+live", "AC/DC+live"),
            ("https://www.tiktok.com/tag/self_harm_awareness", "#self_harm_awareness"),
            ("https://en.wikipedia.org/wiki/Special:Search/C%2B%2B_tutorial", "C++ tutorial"),
        ]);
    }

    #[test]
    fn pages_that_are_not_searches_have_no_terms() {
        assert_not_searches(&[
            "https://www.google.com/search?q=",
            "https://www.google.com/search?q=+++",
            "https://www.google.com/search?hl=en",
            "https://www.google.com/maps?q=leeds",
            "https://www.google.com/search?qq=x",
            "https://www.youtube.com/watch?v=abc",
            "https://www.youtube.com/hashtag/",
            "https://www.tiktok.com/@someone/video/7312345678901234567?lang=en",
            "https://www.tiktok.com/discover/how-to-hide-scars",
            "https://www.tiktok.com/search",
            "https://www.instagram.com/p/C1a2b3c4d5e/",
            "https://www.instagram.com/explore/",
            "https://www.pinterest.co.uk/pin/123456789012345678/",
            "https://www.reddit.com/r/teenagers/comments/1abcde2/i_got_bullied_today/",
            "https://www.reddit.com/r/teenagers/search?q=&restrict_sr=1&sort=new",
            "https://en.wikipedia.org/wiki/Self-harm",
            "https://en.wikipedia.org/wiki/Special:Random",
            "https://en.wikipedia.org/w/index.php?title=Knife&action=edit",
            "https://www.amazon.co.uk/dp/B07XYZ1234",
            "https://www.amazon.co.uk/Zombie-Knife-Black/dp/B07XYZ1234/ref=sr_1_3?keywords=zombie+knife&qid=1709548920&sr=8-3",
            "https://www.amazon.co.uk/gp/product/B07XYZ1234?th=1",
            "https://www.ebay.co.uk/itm/123456789012?_nkw=knife",
            "https://open.spotify.com/search",
            "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC",
            "https://x.com/someone/status/1234567890123456789",
            "https://www.baidu.com/s?ie=utf-8",
        ]);
    }

    #[test]
    fn look_alike_hosts_are_not_the_sites() {
        assert_not_searches(&[
            "https://notgoogle.com/search?q=x",
            "https://google.evil.example.com/search?q=x",
            "https://google.evil.com/search?q=x",
            "https://google.co.uk.evil.com/search?q=x",
            "https://evilbing.com/search?q=x",
            "https://amazonaws.com/s?k=x",
            "https://s3.amazonaws.com/s?k=x",
            "https://notreddit.com/search?q=x",
            "https://box.com/search?q=x",
            "https://example.com/search?q=x",
            "https://example.com/tag/knife",
            "www.google.com:443",
            "www.tiktok.com:443",
        ]);
    }
}
