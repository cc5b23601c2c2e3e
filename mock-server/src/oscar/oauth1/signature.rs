//! RFC 5849 signatures, written from the RFC: percent-encoding (3.6),
//! the base string URI (3.4.1.2), parameter normalisation (3.4.1.3.2),
//! the signature base string (3.4.1.1), HMAC-SHA1 (3.4.2) and PLAINTEXT
//! (3.4.4), compared in constant time.
//!
//! Which parameters enter the base string, and how they were decoded from
//! the wire, differs between OSCAR's implementations; that is `params`'s
//! job. This module only computes and compares.

use std::borrow::Cow;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// RFC 3986 percent-encoding as RFC 5849 3.6 requires it: unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`) stay, every other byte of the UTF-8
/// form becomes `%XX` with upper-case hex.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    encode_into(&mut out, s);
    out
}

/// RFC 3986's unreserved characters, by byte.
static UNRESERVED: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        b += 1;
    }
    t
};

/// [`encode`], appended to `out`.
pub fn encode_into(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if UNRESERVED[usize::from(b)] {
            continue;
        }
        // A run of unreserved characters is ASCII, so both its ends are
        // char boundaries; `start` may sit inside a character only when
        // the run is empty.
        if start < i {
            out.push_str(&s[start..i]);
        }
        out.push('%');
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `%XX` to bytes, `+` to a space. A `%` not followed
/// by two hex digits is kept as text rather than refused: servlet
/// containers read such parameters leniently.
fn decode_bytes(s: &str) -> Vec<u8> {
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
            b'+' => out.push(b' '),
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
    form_decode_borrowed(s).into_owned()
}

/// [`form_decode`], borrowing `s` when there is nothing to decode (an
/// OAuth parameter usually has nothing).
pub fn form_decode_borrowed(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(utf8_lossy(decode_bytes(s)))
}

/// Bytes as UTF-8, invalid sequences replaced, without a second copy
/// when they are valid.
fn utf8_lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The base string URI (RFC 5849 3.4.1.2): scheme and host lower-cased,
/// the default port dropped, an empty path read as `/`. The path is used
/// as it came on the wire, still percent-encoded.
pub fn base_uri(scheme: &str, host: &str, path: &str) -> String {
    let default_port = if scheme.eq_ignore_ascii_case("http") {
        Some(":80")
    } else if scheme.eq_ignore_ascii_case("https") {
        Some(":443")
    } else {
        None
    };
    let host = default_port
        .and_then(|port| host.strip_suffix(port))
        .unwrap_or(host);
    let path = if path.is_empty() { "/" } else { path };
    let mut uri = String::with_capacity(scheme.len() + 3 + host.len() + path.len());
    uri.push_str(scheme);
    uri.push_str("://");
    uri.push_str(host);
    uri[..scheme.len() + 3 + host.len()].make_ascii_lowercase();
    uri.push_str(path);
    uri
}

/// Parameter normalisation (RFC 5849 3.4.1.3.2): every name and value
/// encoded, sorted by name then value (byte order of the encoded forms),
/// joined as `name=value` with `&`.
pub fn normalize<'p>(params: impl IntoIterator<Item = (&'p str, &'p str)>) -> String {
    // Every encoded name and value in one buffer, sorted as spans of it.
    let mut text = String::new();
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    for (k, v) in params {
        let start = text.len();
        encode_into(&mut text, k);
        let mid = text.len();
        encode_into(&mut text, v);
        spans.push((start, mid, text.len()));
    }
    spans.sort_by(|a, b| {
        (&text[a.0..a.1], &text[a.1..a.2]).cmp(&(&text[b.0..b.1], &text[b.1..b.2]))
    });
    let mut out = String::with_capacity(text.len() + 2 * spans.len());
    for (i, &(start, mid, end)) in spans.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&text[start..mid]);
        out.push('=');
        out.push_str(&text[mid..end]);
    }
    out
}

/// The signature base string (RFC 5849 3.4.1.1).
pub fn base_string<'p>(
    method: &str,
    base_uri: &str,
    params: impl IntoIterator<Item = (&'p str, &'p str)>,
) -> String {
    let normalized = normalize(params);
    let mut out = String::with_capacity(method.len() + base_uri.len() * 2 + normalized.len() * 2);
    if method.bytes().any(|b| b.is_ascii_lowercase()) {
        encode_into(&mut out, &method.to_ascii_uppercase());
    } else {
        encode_into(&mut out, method);
    }
    out.push('&');
    encode_into(&mut out, base_uri);
    out.push('&');
    encode_into(&mut out, &normalized);
    out
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
    let mut key = String::with_capacity(consumer_secret.len() + token_secret.len() + 1);
    encode_into(&mut key, consumer_secret);
    key.push('&');
    encode_into(&mut key, token_secret);
    key
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 5849 3.6 byte by byte, as the definition reads.
    fn encode_by_byte(s: &str) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn encoding_is_the_rfc_definition(s in any::<String>(), t in "[a-zA-Z0-9 ._~%+=&é☃-]{0,24}") {
            prop_assert_eq!(encode(&s), encode_by_byte(&s));
            prop_assert_eq!(encode(&t), encode_by_byte(&t));
        }
    }

    #[test]
    fn normalised_parameters_sort_by_encoded_name_then_value() {
        let params = [("b", "2"), ("a", "z"), ("a", "é"), ("a b", "1"), ("a", "")];
        assert_eq!(normalize(params), "a=&a=%C3%A9&a=z&a%20b=1&b=2");
    }
}
