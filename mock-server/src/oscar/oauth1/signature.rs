//! RFC 5849 signatures, written from the RFC: percent-encoding (3.6),
//! the base string URI (3.4.1.2), parameter normalisation (3.4.1.3.2),
//! the signature base string (3.4.1.1), HMAC-SHA1 (3.4.2) and PLAINTEXT
//! (3.4.4), compared in constant time.
//!
//! Which parameters enter the base string, and how they were decoded from
//! the wire, differs between OSCAR's implementations; that is `params`'s
//! job. This module only computes and compares.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// RFC 3986 percent-encoding as RFC 5849 3.6 requires it: unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`) stay, every other byte of the UTF-8
/// form becomes `%XX` with upper-case hex.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `%XX` to bytes; `+` to a space when `plus_is_space`. A `%` not followed
/// by two hex digits is kept as text rather than refused: servlet
/// containers read such parameters leniently.
fn decode_bytes(s: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Decoding as `application/x-www-form-urlencoded` (Tomcat's parameter
/// parser, Java's `URLDecoder`): `+` is a space, `%XX` a byte, and the
/// bytes are UTF-8 (invalid sequences become U+FFFD).
pub fn form_decode(s: &str) -> String {
    String::from_utf8_lossy(&decode_bytes(s, true)).into_owned()
}

/// `%XX` decoding only: `+` stays a `+` (RFC 3986 for header values).
pub fn percent_decode(s: &str) -> String {
    String::from_utf8_lossy(&decode_bytes(s, false)).into_owned()
}

/// The base string URI (RFC 5849 3.4.1.2): scheme and host lower-cased,
/// the default port dropped, an empty path read as `/`. The path is used
/// as it came on the wire, still percent-encoded.
pub fn base_uri(scheme: &str, host: &str, path: &str) -> String {
    let scheme = scheme.to_ascii_lowercase();
    let mut host = host.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => Some(":80"),
        "https" => Some(":443"),
        _ => None,
    };
    if let Some(port) = default_port {
        if let Some(stripped) = host.strip_suffix(port) {
            host = stripped.to_owned();
        }
    }
    let path = if path.is_empty() { "/" } else { path };
    format!("{scheme}://{host}{path}")
}

/// Parameter normalisation (RFC 5849 3.4.1.3.2): every name and value
/// encoded, sorted by name then value (byte order of the encoded forms),
/// joined as `name=value` with `&`.
pub fn normalize(params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    encoded.sort();
    let mut out = String::new();
    for (i, (k, v)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// The signature base string (RFC 5849 3.4.1.1).
pub fn base_string(method: &str, base_uri: &str, params: &[(String, String)]) -> String {
    format!(
        "{}&{}&{}",
        encode(&method.to_ascii_uppercase()),
        encode(base_uri),
        encode(&normalize(params))
    )
}

/// The signature methods OSCAR knows how to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureMethod {
    HmacSha1,
    Plaintext,
}

impl SignatureMethod {
    /// The `oauth_signature_method` value, exactly as RFC 5849 spells it.
    pub fn parse(name: &str) -> Option<SignatureMethod> {
        match name {
            "HMAC-SHA1" => Some(SignatureMethod::HmacSha1),
            "PLAINTEXT" => Some(SignatureMethod::Plaintext),
            _ => None,
        }
    }
}

/// `encode(client secret) & encode(token secret)`: the HMAC key and the
/// PLAINTEXT signature (RFC 5849 3.4.2, 3.4.4).
pub fn signing_key(consumer_secret: &str, token_secret: &str) -> String {
    format!("{}&{}", encode(consumer_secret), encode(token_secret))
}

/// The signature a correct client sends (before transport encoding).
pub fn sign(
    method: SignatureMethod,
    base_string: &str,
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let key = signing_key(consumer_secret, token_secret);
    match method {
        SignatureMethod::Plaintext => key,
        SignatureMethod::HmacSha1 => {
            // HMAC accepts keys of any length, so this cannot fail; an
            // empty result would simply never match.
            let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key.as_bytes()) else {
                return String::new();
            };
            mac.update(base_string.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        }
    }
}

/// Whether `signature` is the one `method` computes: compared in constant
/// time, so the comparison reveals nothing but the length.
pub fn verify(
    method: SignatureMethod,
    base_string: &str,
    consumer_secret: &str,
    token_secret: &str,
    signature: &str,
) -> bool {
    let expected = sign(method, base_string, consumer_secret, token_secret);
    !expected.is_empty() && constant_time_eq(expected.as_bytes(), signature.as_bytes())
}

/// Byte equality whose running time depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a
        .iter()
        .zip(b)
        .fold(0u8, |acc, (x, y)| acc | std::hint::black_box(x ^ y));
    diff == 0
}
