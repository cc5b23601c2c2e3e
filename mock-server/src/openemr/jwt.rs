//! JSON Web Tokens in compact JWS form: what the authorization server
//! signs (RS256 access and id tokens) and what it verifies (its own tokens,
//! and RS384 client assertions against a client's JWKS).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents};
use serde_json::{Map, Value};

use super::keys::KeyPair;

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// A JWT segment: base64url without padding, nothing else. lcobucci/jwt
/// (league/oauth2-server's parser) decodes with sodium's
/// `URLSAFE_NO_PADDING` variant, which refuses `=` and foreign characters,
/// so a padded signature is not the same token.
fn segment(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// The RSA algorithms this server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    RS256,
    RS384,
}

impl Alg {
    pub fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
        }
    }
}

/// Why a JWT was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("the algorithm is `{0}`, expected {1}")]
    WrongAlgorithm(String, &'static str),
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the key is not a usable RSA key")]
    BadKey,
    #[error("could not sign")]
    Signing,
}

/// A JWT split into its parts, not yet verified.
#[derive(Debug, Clone)]
pub struct Jwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jwt {
    /// Splits and decodes a compact JWS; the signature is checked by
    /// [`Jwt::verify`].
    pub fn parse(token: &str) -> Result<Jwt, JwtError> {
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let object = |part: &str| -> Result<Map<String, Value>, JwtError> {
            let bytes = segment(part).ok_or(JwtError::Malformed)?;
            match serde_json::from_slice(&bytes) {
                Ok(Value::Object(m)) => Ok(m),
                _ => Err(JwtError::Malformed),
            }
        };
        Ok(Jwt {
            header: object(h)?,
            claims: object(c)?,
            signing_input: format!("{h}.{c}"),
            signature: segment(s).ok_or(JwtError::Malformed)?,
        })
    }

    pub fn alg(&self) -> &str {
        self.header.get("alg").and_then(Value::as_str).unwrap_or("")
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    pub fn claim_i64(&self, name: &str) -> Option<i64> {
        self.claims.get(name).and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    }

    /// Checks the header names `alg` and the signature verifies with the
    /// RSA public key `(n, e)`. `alg: none` and HMAC are refused here.
    pub fn verify(&self, alg: Alg, n: &[u8], e: &[u8]) -> Result<(), JwtError> {
        if self.alg() != alg.name() {
            return Err(JwtError::WrongAlgorithm(self.alg().to_owned(), alg.name()));
        }
        let params = match alg {
            Alg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Alg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        };
        RsaPublicKeyComponents { n, e }
            .verify(params, self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| JwtError::BadSignature)
    }

    /// Verifies against a JWK (`kty: RSA`, `n`, `e`).
    pub fn verify_jwk(&self, alg: Alg, jwk: &Value) -> Result<(), JwtError> {
        let part = |name: &str| {
            jwk.get(name)
                .and_then(Value::as_str)
                .and_then(b64url_decode)
                .ok_or(JwtError::BadKey)
        };
        if jwk.get("kty").and_then(Value::as_str) != Some("RSA") {
            return Err(JwtError::BadKey);
        }
        self.verify(alg, &part("n")?, &part("e")?)
    }
}

/// Signs `claims` with `key`; the header is `{"typ":"JWT","alg":..}` as
/// league/oauth2-server writes it, plus `extra` members.
pub fn sign(
    alg: Alg,
    key: &KeyPair,
    extra_header: &[(&str, &str)],
    claims: &Value,
) -> Result<String, JwtError> {
    let mut header = Map::new();
    header.insert("typ".into(), Value::from("JWT"));
    header.insert("alg".into(), Value::from(alg.name()));
    for (k, v) in extra_header {
        header.insert((*k).into(), Value::from(*v));
    }
    let input = format!(
        "{}.{}",
        b64url(Value::Object(header).to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let params = match alg {
        Alg::RS256 => &signature::RSA_PKCS1_SHA256,
        Alg::RS384 => &signature::RSA_PKCS1_SHA384,
    };
    let mut sig = vec![0u8; key.pair.public().modulus_len()];
    key.pair
        .sign(
            params,
            &ring::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .map_err(|_| JwtError::Signing)?;
    Ok(format!("{input}.{}", b64url(&sig)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signed_tokens_verify_and_tampering_is_caught() {
        let (server, client) = super::super::keys::of("openemr", "default");
        let t = sign(Alg::RS256, server, &[], &json!({"sub": "x", "exp": 5})).unwrap();
        let jwt = Jwt::parse(&t).unwrap();
        assert_eq!(jwt.claim_str("sub"), Some("x"));
        assert_eq!(jwt.claim_i64("exp"), Some(5));
        jwt.verify(Alg::RS256, &server.n, &server.e).unwrap();
        assert_eq!(
            jwt.verify(Alg::RS256, &client.n, &client.e),
            Err(JwtError::BadSignature)
        );
        assert!(matches!(
            jwt.verify(Alg::RS384, &server.n, &server.e),
            Err(JwtError::WrongAlgorithm(..))
        ));
        // Another payload under the same signature.
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = b64url(br#"{"sub":"admin","exp":5}"#);
        parts[1] = &forged;
        let jwt = Jwt::parse(&parts.join(".")).unwrap();
        assert_eq!(
            jwt.verify(Alg::RS256, &server.n, &server.e),
            Err(JwtError::BadSignature)
        );
        let jwk = server.jwk(&[]);
        let jwt = Jwt::parse(&t).unwrap();
        jwt.verify_jwk(Alg::RS256, &jwk).unwrap();
        assert!(Jwt::parse("a.b").is_err());
    }

    #[test]
    fn segments_are_strict_base64url() {
        let (server, _) = super::super::keys::of("openemr", "default");
        let t = sign(Alg::RS256, server, &[], &json!({"sub": "x"})).unwrap();
        assert!(Jwt::parse(&t).is_ok());
        // Padding, the standard alphabet and foreign characters are not
        // the token, even where they decode to the same bytes.
        assert_eq!(
            Jwt::parse(&format!("{t}=")).err(),
            Some(JwtError::Malformed)
        );
        let (head, _) = t.split_once('.').unwrap();
        assert!(Jwt::parse(&t.replacen(head, &format!("{head}="), 1)).is_err());
        assert!(Jwt::parse(&format!("{t} ")).is_err());
    }
}
