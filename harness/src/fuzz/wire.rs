//! An OAuth 1.0a request as it goes on the wire, with every parameter
//! under the fuzzer's control: where it goes, in which order, how it is
//! encoded, and what the signature covers. Signing follows RFC 5849
//! (checked against `oauth1-request` and the RFC's example in the tests).

use bytes::Bytes;
use percent_encoding::percent_decode_str;

use crate::runner::encode;
use crate::scenario::Placement;
use crate::transport::HttpRequest;

/// A parameter: its decoded name and value, and the exact text of its
/// value on the wire when it is not the canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: String,
    pub wire: Option<String>,
}

impl Param {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Param {
        Param {
            name: name.into(),
            value: value.into(),
            wire: None,
        }
    }

    /// The value as sent.
    pub fn wire_value(&self) -> String {
        self.wire.clone().unwrap_or_else(|| encode(&self.value))
    }
}

/// How the signature is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    HmacSha1,
    Plaintext,
}

/// A request and its OAuth protocol parameters.
#[derive(Debug, Clone)]
pub struct Message {
    pub method: String,
    pub scheme: String,
    /// `host[:port]`, as in the URL.
    pub authority: String,
    /// The path as sent, percent-encoded.
    pub path: String,
    pub query: Vec<Param>,
    /// A form-encoded body's parameters.
    pub form: Option<Vec<Param>>,
    /// Any other body.
    pub body: Option<Bytes>,
    /// Other headers (`Content-Type`, the step's own).
    pub headers: Vec<(String, String)>,
    /// The `oauth_*` parameters, `oauth_signature` last once signed.
    pub oauth: Vec<Param>,
    pub placement: Placement,
    /// A `Host` header other than the URL's authority.
    pub host_header: Option<String>,
}

/// `a=1&b=%20` → decoded pairs (no `+` in canonical encodings, but a
/// form body may have them: they are spaces).
pub fn decode_pairs(s: &str) -> Vec<Param> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |x: &str| {
                percent_decode_str(&x.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            Param::new(dec(k), dec(v))
        })
        .collect()
}

fn is_form(headers: &[(String, String)]) -> bool {
    headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("content-type")
            && v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
    })
}

impl Message {
    /// Reads a built request (without OAuth parameters).
    pub fn from_request(req: &HttpRequest, placement: Placement) -> Result<Message, String> {
        let url = url::Url::parse(&req.url).map_err(|e| format!("`{}`: {e}", req.url))?;
        let host = url
            .host_str()
            .ok_or_else(|| format!("`{}` has no host", req.url))?;
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("authorization"))
            .cloned()
            .collect();
        let (form, body) = match &req.body {
            Some(b) if is_form(&headers) => (Some(decode_pairs(&String::from_utf8_lossy(b))), None),
            Some(b) => (None, Some(b.clone())),
            None => (None, None),
        };
        Ok(Message {
            method: req.method.clone(),
            scheme: url.scheme().to_owned(),
            authority,
            path: url.path().to_owned(),
            query: url.query().map(decode_pairs).unwrap_or_default(),
            form,
            body,
            headers,
            oauth: Vec::new(),
            placement,
            host_header: None,
        })
    }

    pub fn oauth_value(&self, name: &str) -> Option<&str> {
        self.oauth
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_str())
    }

    pub fn set_oauth(&mut self, name: &str, value: &str) {
        match self.oauth.iter_mut().find(|p| p.name == name) {
            Some(p) => {
                p.value = value.to_owned();
                p.wire = None;
            }
            None => self.oauth.push(Param::new(name, value)),
        }
    }

    pub fn has_form(&self) -> bool {
        self.form.is_some()
    }

    /// The signature base string (RFC 5849 3.4.1), the URI signed as
    /// `scheme` (default: the one sent).
    pub fn base_string(&self, scheme: Option<&str>) -> String {
        let scheme = scheme.unwrap_or(&self.scheme).to_ascii_lowercase();
        let mut authority = self.authority.to_ascii_lowercase();
        for (s, port) in [("http", ":80"), ("https", ":443")] {
            if scheme == s {
                if let Some(stripped) = authority.strip_suffix(port) {
                    authority = stripped.to_owned();
                }
            }
        }
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        let uri = format!("{scheme}://{authority}{path}");
        let mut params: Vec<(String, String)> = self
            .oauth
            .iter()
            .filter(|p| p.name != "oauth_signature" && p.name != "realm")
            .chain(self.query.iter())
            .chain(self.form.iter().flatten())
            .map(|p| (encode(&p.name), encode(&p.value)))
            .collect();
        params.sort();
        let normalized = params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        format!(
            "{}&{}&{}",
            encode(&self.method.to_ascii_uppercase()),
            encode(&uri),
            encode(&normalized)
        )
    }

    /// Computes the signature over the current parameters and stores it
    /// as `oauth_signature` (last).
    pub fn sign(
        &mut self,
        algorithm: Algorithm,
        consumer_secret: &str,
        token_secret: &str,
        scheme: Option<&str>,
    ) {
        self.oauth.retain(|p| p.name != "oauth_signature");
        let sig = signature(
            algorithm,
            &self.base_string(scheme),
            consumer_secret,
            token_secret,
        );
        self.oauth.push(Param::new("oauth_signature", sig));
    }

    /// The request to send.
    pub fn to_request(&self) -> HttpRequest {
        let pair = |p: &Param| format!("{}={}", encode(&p.name), p.wire_value());
        let mut query: Vec<String> = self.query.iter().map(pair).collect();
        let mut headers = self.headers.clone();
        let mut form: Option<Vec<String>> =
            self.form.as_ref().map(|f| f.iter().map(pair).collect());
        match self.placement {
            Placement::Header => {
                let value = self
                    .oauth
                    .iter()
                    .map(|p| format!("{}=\"{}\"", encode(&p.name), p.wire_value()))
                    .collect::<Vec<_>>()
                    .join(", ");
                headers.push(("Authorization".into(), format!("OAuth {value}")));
            }
            Placement::Query => query.extend(self.oauth.iter().map(pair)),
            Placement::Form => {
                form.get_or_insert_with(Vec::new)
                    .extend(self.oauth.iter().map(pair));
                if !is_form(&headers) {
                    headers.push((
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ));
                }
            }
        }
        if let Some(h) = &self.host_header {
            headers.push(("Host".into(), h.clone()));
        }
        let mut url = format!("{}://{}{}", self.scheme, self.authority, self.path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        let body = match (form, &self.body) {
            (Some(f), _) => Some(Bytes::from(f.join("&"))),
            (None, Some(b)) => Some(b.clone()),
            (None, None) => None,
        };
        HttpRequest {
            method: self.method.clone(),
            url,
            headers,
            body,
        }
    }

    /// The OAuth parameters as a report may show them: names and values,
    /// the token and signature hidden.
    pub fn shown_oauth(&self) -> String {
        let value = self
            .oauth
            .iter()
            .map(|p| {
                let v = if matches!(p.name.as_str(), "oauth_token" | "oauth_signature") {
                    crate::redact::SECRET.to_owned()
                } else {
                    p.wire_value()
                };
                format!("{}=\"{v}\"", encode(&p.name))
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!("OAuth {value}")
    }
}

/// HMAC-SHA1 (base64) or PLAINTEXT of a base string (RFC 5849 3.4.2, 3.4.4).
pub fn signature(
    algorithm: Algorithm,
    base_string: &str,
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    use base64::Engine;
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    match algorithm {
        Algorithm::Plaintext => key,
        Algorithm::HmacSha1 => {
            let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key.as_bytes());
            let tag = ring::hmac::sign(&k, base_string.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
        }
    }
}

/// Percent-escapes every unreserved character at `positions` (modulo the
/// number of unreserved characters in `wire`): `a` → `%61`.
pub fn escape_unreserved(wire: &str, positions: &[usize]) -> String {
    let plain: Vec<usize> = wire
        .char_indices()
        .scan(0usize, |escape_left, (i, c)| {
            // Characters inside an existing `%XX` are not touched.
            if *escape_left > 0 {
                *escape_left -= 1;
                return Some(None);
            }
            if c == '%' {
                *escape_left = 2;
                return Some(None);
            }
            Some((c.is_ascii_alphanumeric() || "-._~".contains(c)).then_some(i))
        })
        .flatten()
        .collect();
    if plain.is_empty() {
        return wire.to_owned();
    }
    let chosen: std::collections::BTreeSet<usize> =
        positions.iter().map(|p| plain[p % plain.len()]).collect();
    let mut out = String::with_capacity(wire.len() + 3 * chosen.len());
    for (i, c) in wire.char_indices() {
        if chosen.contains(&i) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Lower-cases the hex digits of every `%XX` in `wire`.
pub fn lowercase_hex(wire: &str) -> String {
    let mut out = String::with_capacity(wire.len());
    let mut escape_left = 0;
    for c in wire.chars() {
        if escape_left > 0 {
            out.push(c.to_ascii_lowercase());
            escape_left -= 1;
        } else {
            if c == '%' {
                escape_left = 2;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(url: &str) -> Message {
        Message::from_request(
            &HttpRequest {
                method: "GET".into(),
                url: url.into(),
                headers: Vec::new(),
                body: None,
            },
            Placement::Header,
        )
        .unwrap()
    }

    #[test]
    fn signs_the_rfc_5849_example() {
        let mut m = message("http://photos.example.net/photos?file=vacation.jpg&size=original");
        for (k, v) in [
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131202"),
            ("oauth_nonce", "chapoH"),
        ] {
            m.set_oauth(k, v);
        }
        m.sign(
            Algorithm::HmacSha1,
            "kd94hf93k423kf44",
            "pfkkdhi9sl3r4s00",
            None,
        );
        assert_eq!(
            m.oauth_value("oauth_signature"),
            Some("MdpQcU8iPSUjWoN/UDMsK2sui9I=")
        );
        let req = m.to_request();
        assert!(req.headers[0]
            .1
            .contains(r#"oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D""#));
    }

    #[test]
    fn agrees_with_the_driver_on_unicode_and_reserved_parameters() {
        // The driver signs with the oauth1-request crate; both must agree.
        let url = "http://h.example:8080/p?%C3%A9t%C3%A9=%E2%9C%93&a=%26%3D%2B%20&a=&z=1";
        let mut req = HttpRequest {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
        };
        crate::auth::oauth1::sign(
            &mut req,
            &crate::auth::oauth1::Credentials {
                consumer_key: "ck",
                consumer_secret: "cs&x",
                token: Some(("tk", "ts")),
                ..Default::default()
            },
            &crate::auth::oauth1::Signing {
                nonce: Some("n0nce".into()),
                timestamp: Some(1_700_000_000),
                ..Default::default()
            },
        )
        .unwrap();
        let header = &req.headers[0].1;
        let expected = header
            .split("oauth_signature=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap();
        let mut m = message(url);
        for (k, v) in [
            ("oauth_consumer_key", "ck"),
            ("oauth_nonce", "n0nce"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1700000000"),
            ("oauth_token", "tk"),
            ("oauth_version", "1.0"),
        ] {
            m.set_oauth(k, v);
        }
        m.sign(Algorithm::HmacSha1, "cs&x", "ts", None);
        assert_eq!(encode(m.oauth_value("oauth_signature").unwrap()), expected);
    }

    #[test]
    fn equivalent_encodings_keep_the_decoded_value() {
        let wire = "a%2Fb-c";
        let escaped = escape_unreserved(wire, &[0, 1]);
        assert_eq!(escaped, "%61%2F%62-c");
        let decoded = percent_decode_str(&escaped).decode_utf8_lossy();
        assert_eq!(decoded, "a/b-c");
        assert_eq!(lowercase_hex("%2F%3Dx"), "%2f%3dx");
    }

    #[test]
    fn the_base_uri_drops_default_ports_and_lowercases() {
        let mut m = message("HTTP://Example.COM:80/r%20x");
        m.set_oauth("oauth_nonce", "n");
        assert!(m
            .base_string(None)
            .starts_with("GET&http%3A%2F%2Fexample.com%2Fr%2520x&"));
        let mut m = message("http://example.com:8443/r");
        m.authority = "Example.com:443".into();
        assert!(m
            .base_string(Some("HTTPS"))
            .starts_with("GET&https%3A%2F%2Fexample.com%2Fr&"));
    }
}
