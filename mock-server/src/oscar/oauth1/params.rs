//! Reading OAuth parameters off a request, the way each implementation
//! reads them. The RFC leaves little room, but the two code paths differ
//! in what they decode and what they count, and a client that signs
//! correctly for one can fail on the other.

use std::borrow::Cow;

use super::signature::{form_decode, form_decode_borrowed};

/// What the verifier needs from an HTTP request.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub method: &'a str,
    /// The `Host` header (`127.0.0.1:8080`).
    pub host: &'a str,
    /// The path as received, still percent-encoded, without the query.
    pub path: &'a str,
    /// The raw query string, without `?`; empty when there is none.
    pub query: &'a str,
    /// Every `Authorization` header value.
    pub authorization: &'a [String],
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl Incoming<'_> {
    /// The base string URI. The mock serves plain HTTP, and like Tomcat
    /// without a proxy valve it signs what it sees.
    pub fn base_uri(&self) -> String {
        super::signature::base_uri("http", self.host, self.path)
    }

    fn content_type_starts_with_form(&self) -> bool {
        self.content_type.is_some_and(|c| {
            c.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
    }

    fn body_is_form(&self) -> bool {
        crate::body::media_type(self.content_type) == "application/x-www-form-urlencoded"
    }

    /// `request.getParameterMap()` in Tomcat: the query's parameters, then
    /// the body's for a form-encoded POST (Tomcat parses bodies of POSTs
    /// only), all form-decoded as UTF-8. Pairs without a name are dropped.
    pub fn servlet_params(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = pairs(self.query)
            .map(|(k, v)| (form_decode(k), form_decode(v)))
            .collect();
        if self.method.eq_ignore_ascii_case("POST") && self.body_is_form() {
            let body = String::from_utf8_lossy(self.body);
            out.extend(pairs(&body).map(|(k, v)| (form_decode(k), form_decode(v))));
        }
        out
    }
}

/// `a=1&b&=x` → `(a, 1)`, `(b, "")`; empty pieces and empty names skipped.
pub fn pairs(s: &str) -> impl Iterator<Item = (&str, &str)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .filter(|(k, _)| !k.is_empty())
}

/// Parameters as CXF's OAuth module reads them through net.oauth
/// (`OAuthServlet.getMessage`): the `Authorization: OAuth` header's
/// quoted pairs (without `realm`) followed by the servlet parameters,
/// everything decoded once, `+` as a space.
/// Names and values borrow the request's text where decoding changes
/// nothing.
#[derive(Debug, Clone, Default)]
pub struct ClassicParams<'a> {
    pub all: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> ClassicParams<'a> {
    pub fn read(req: &Incoming<'a>) -> ClassicParams<'a> {
        let mut all = Vec::with_capacity(8);
        for header in req.authorization {
            for (k, v) in classic_header(header) {
                if !k.eq_ignore_ascii_case("realm") {
                    all.push((k, v));
                }
            }
        }
        all.extend(
            req.servlet_params()
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k), Cow::Owned(v))),
        );
        ClassicParams { all }
    }

    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.all
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }

    /// `oauth_*` parameters given more than once (net.oauth's
    /// `checkSingleParameters`).
    pub fn repeated_oauth(&self) -> Vec<String> {
        let mut repeated: Vec<String> = Vec::new();
        let oauth = || {
            self.all
                .iter()
                .map(|(k, _)| k)
                .filter(|k| k.starts_with("oauth_"))
        };
        for (i, k) in oauth().enumerate() {
            if oauth().take(i).any(|earlier| earlier == k) && !repeated.iter().any(|r| r == k) {
                repeated.push(k.to_string());
            }
        }
        repeated
    }

    /// What enters the base string: everything but the signature.
    pub fn signed(&self) -> impl Iterator<Item = (&str, &str)> {
        self.all
            .iter()
            .filter(|(k, _)| k != "oauth_signature")
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
    }
}

/// net.oauth's `decodeAuthorization`: the scheme must be `OAuth` (any
/// case); each comma-separated piece must be `name="value"` or it is
/// ignored; names and values are URL-decoded.
fn classic_header(header: &str) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let trimmed = header.trim_start();
    let Some((scheme, rest)) = trimmed.split_once(char::is_whitespace) else {
        return Vec::new();
    };
    if !scheme.eq_ignore_ascii_case("oauth") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for piece in rest.trim_start().split(',') {
        let piece = piece.trim_start();
        let Some((name, value)) = piece.split_once('=') else {
            continue;
        };
        let name = name.trim_end();
        let value = value.trim_start();
        let quoted = value.len() >= 2
            && value.starts_with('"')
            && value.ends_with('"')
            && !value[1..value.len() - 1].contains('"');
        if name.chars().any(char::is_whitespace) || !quoted {
            continue;
        }
        out.push((
            form_decode_borrowed(name),
            form_decode_borrowed(&value[1..value.len() - 1]),
        ));
    }
    out
}

/// Parameters as Open-O's hand-written OAuth code reads them. Three
/// readers are involved, and they disagree:
/// - `OAuthRequestParser` (the `oauth_*` map of the interceptor and of the
///   signature verifier): header pairs URL-decoded, then servlet
///   parameters as a fallback;
/// - the signature verifier's own parameter list: the map's values decoded
///   a second time, the raw query `%`-decoded byte by byte (so `+` stays a
///   `+` and non-ASCII bytes become Latin-1 characters), and for
///   form-typed requests every servlet parameter again;
/// - `OAuth1ParamParser` (the initiate and token endpoints): header values
///   undecoded, query values with `+` as a space and nothing else decoded.
#[derive(Debug, Clone, Default)]
pub struct OpenOParams {
    oauth: Vec<(String, String)>,
    parser: Vec<(String, String)>,
    signed: Vec<(String, String)>,
    has_authorization: bool,
    servlet_consumer_key: bool,
    token_in_header: bool,
}

impl OpenOParams {
    pub fn read(req: &Incoming<'_>) -> OpenOParams {
        let servlet = req.servlet_params();

        // OAuthRequestParser.extractOAuthParameters
        let mut oauth: Vec<(String, String)> = Vec::new();
        for header in req.authorization {
            let Some(raw) = header.strip_prefix("OAuth ") else {
                continue;
            };
            for pair in split_trimmed(raw) {
                let Some((k, v)) = pair.split_once('=') else {
                    continue;
                };
                let key = k.trim().to_owned();
                let value = form_decode(strip_quotes(v.trim()));
                match oauth.iter_mut().find(|(n, _)| *n == key) {
                    Some(slot) => slot.1 = value,
                    None => oauth.push((key, value)),
                }
            }
        }
        for (k, v) in &servlet {
            if k.starts_with("oauth_") && !oauth.iter().any(|(n, _)| n == k) {
                oauth.push((k.clone(), v.clone()));
            }
        }

        // OAuth1SignatureVerifierImplementation's parameter list
        let mut signed: Vec<(String, String)> = oauth
            .iter()
            .filter(|(k, _)| k != "oauth_signature" && !k.eq_ignore_ascii_case("realm"))
            .map(|(k, v)| (k.clone(), latin1_percent_decode(v)))
            .collect();
        for (k, v) in pairs(req.query) {
            let k = latin1_percent_decode(k);
            if !k.starts_with("oauth_") {
                signed.push((k, latin1_percent_decode(v)));
            }
        }
        if req.content_type_starts_with_form() {
            signed.extend(
                servlet
                    .iter()
                    .filter(|(k, _)| !k.starts_with("oauth_"))
                    .cloned(),
            );
        }

        // OAuth1ParamParser.parseFromRequest
        let mut parser: Vec<(String, String)> = Vec::new();
        for header in req.authorization {
            // `regionMatches(true, 0, "OAuth ", 0, 6)`; `get` keeps a
            // non-ASCII header from splitting a character.
            let (Some(scheme), Some(rest)) = (header.get(..6), header.get(6..)) else {
                continue;
            };
            if !scheme.eq_ignore_ascii_case("OAuth ") {
                continue;
            }
            for part in rest.trim().split(',') {
                if let Some((k, v)) = part.trim().split_once('=') {
                    parser.push((k.trim().to_owned(), strip_quotes(v.trim()).to_owned()));
                }
            }
        }
        for (k, v) in pairs(req.query) {
            parser.push((k.replace('+', " "), v.replace('+', " ")));
        }
        if req.content_type_starts_with_form() {
            parser.extend(servlet.iter().cloned());
        }

        // OAuthStatusService reads the token from the header only.
        let token_in_header = req.authorization.iter().any(|h| {
            h.strip_prefix("OAuth ").is_some_and(|raw| {
                raw.split(',')
                    .any(|kv| kv.trim().starts_with("oauth_token="))
            })
        });

        OpenOParams {
            oauth,
            parser,
            signed,
            has_authorization: !req.authorization.is_empty(),
            servlet_consumer_key: servlet.iter().any(|(k, _)| k == "oauth_consumer_key"),
            token_in_header,
        }
    }

    /// `OAuthRequestParser.isOAuth1Request`: any `Authorization` header,
    /// or an `oauth_consumer_key` parameter.
    pub fn is_oauth_request(&self) -> bool {
        self.has_authorization || self.servlet_consumer_key
    }

    /// Whether the `Authorization: OAuth` header itself names the token
    /// (`OAuthStatusService` looks nowhere else for the scopes).
    pub fn oauth_header_has_token(&self) -> bool {
        self.token_in_header
    }

    /// A value of the interceptor's and verifier's `oauth_*` map.
    pub fn oauth(&self, name: &str) -> Option<&str> {
        self.oauth
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A value as `OAuth1ParamParser` reads it (the first one).
    pub fn parsed(&self, name: &str) -> Option<&str> {
        self.parser
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The parameters of the verifier's base string.
    pub fn signed(&self) -> impl Iterator<Item = (&str, &str)> {
        self.signed.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The received signature, decoded once more as the verifier does.
    pub fn signature(&self) -> Option<String> {
        self.oauth("oauth_signature").map(latin1_percent_decode)
    }
}

/// Java's `split("\\s*,\\s*")`.
fn split_trimmed(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim)
}

fn strip_quotes(v: &str) -> &str {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

/// Open-O's `pctDecode`: each `%XX` becomes the character U+00XX, so a
/// multi-byte UTF-8 sequence turns into several Latin-1 characters, and
/// `+` is left alone.
pub fn latin1_percent_decode(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '%' && i + 2 < chars.len() {
            if let (Some(h), Some(l)) = (chars[i + 1].to_digit(16), chars[i + 2].to_digit(16)) {
                // Two hex digits make at most 0xFF, a valid char.
                out.push(char::from_u32(h << 4 | l).unwrap_or('\u{fffd}'));
                i += 3;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A request read off the wire once (body included, size-limited), which
/// the verifier and the operations share.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// As received: percent-encoded, without the query.
    pub path: String,
    pub query: String,
    pub host: String,
    pub authorization: Vec<String>,
    pub content_type: Option<String>,
    pub headers: axum::http::HeaderMap,
    pub body: bytes::Bytes,
}

impl Received {
    /// Takes the request's head (its headers are moved, not copied).
    pub fn new(parts: axum::http::request::Parts, body: bytes::Bytes) -> Received {
        let header = |name: axum::http::HeaderName| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Received {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or("").to_owned(),
            host: header(axum::http::header::HOST)
                .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()))
                .unwrap_or_else(|| "localhost".to_owned()),
            authorization: parts
                .headers
                .get_all(axum::http::header::AUTHORIZATION)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect(),
            content_type: header(axum::http::header::CONTENT_TYPE),
            headers: parts.headers,
            body,
        }
    }

    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            method: &self.method,
            host: &self.host,
            path: &self.path,
            query: &self.query,
            authorization: &self.authorization,
            content_type: self.content_type.as_deref(),
            body: &self.body,
        }
    }
}
