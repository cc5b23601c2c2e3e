//! The RSA keys of the authorization servers, fixed and embedded.
//!
//! Generating RSA keys at start-up would be slow and would make every
//! token differ between runs, so each site gets a key pair generated once
//! (`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`) and kept
//! under `mock-server/keys/`. Test keys only: they are public.
//!
//! Two keys per site: the server's signing key (access and id tokens, the
//! JWKS at `/jwk`) and the private key of the seeded `private_key_jwt`
//! client, which `/__admin/credentials` hands to the harness so it can sign
//! client assertions the way a backend service would.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use base64::Engine;
use ring::rsa::PublicKeyComponents;
use ring::signature::RsaKeyPair;
use serde_json::{json, Value};

use super::jwt::b64url;

/// `(profile, site, role)` and the PEM text.
const PEMS: &[(&str, &str, &str, &str)] = &[
    (
        "openemr",
        "default",
        "server",
        include_str!("../../keys/openemr-default-server.pem"),
    ),
    (
        "openemr",
        "default",
        "client",
        include_str!("../../keys/openemr-default-client.pem"),
    ),
    (
        "openemr",
        "alternate",
        "server",
        include_str!("../../keys/openemr-alternate-server.pem"),
    ),
    (
        "openemr",
        "alternate",
        "client",
        include_str!("../../keys/openemr-alternate-client.pem"),
    ),
    (
        "emedpractice",
        "default",
        "server",
        include_str!("../../keys/emedpractice-default-server.pem"),
    ),
    (
        "emedpractice",
        "default",
        "client",
        include_str!("../../keys/emedpractice-default-client.pem"),
    ),
];

/// An RSA key pair with its public components.
#[derive(Debug)]
pub struct KeyPair {
    pub pair: RsaKeyPair,
    /// Modulus, big-endian without leading zeros.
    pub n: Vec<u8>,
    /// Public exponent.
    pub e: Vec<u8>,
    /// The PKCS#8 PEM text, for the credentials document.
    pub pem: &'static str,
}

impl KeyPair {
    /// The public key as a JWK, with the members given.
    pub fn jwk(&self, extra: &[(&str, &str)]) -> Value {
        let mut k = json!({"kty": "RSA", "n": b64url(&self.n), "e": b64url(&self.e)});
        for (name, value) in extra {
            k[*name] = json!(value);
        }
        k
    }
}

/// Why an embedded key did not load: a build defect.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("embedded key {0}: bad PEM base64")]
    Pem(String),
    #[error("embedded key {0}: {1}")]
    Rejected(String, String),
}

fn pem_to_der(name: &str, pem: &str) -> Result<Vec<u8>, KeyError> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| KeyError::Pem(name.to_owned()))
}

/// Loads a PKCS#8 PEM RSA key.
pub fn load(name: &str, pem: &'static str) -> Result<KeyPair, KeyError> {
    let der = pem_to_der(name, pem)?;
    let pair = RsaKeyPair::from_pkcs8(&der)
        .map_err(|e| KeyError::Rejected(name.to_owned(), e.to_string()))?;
    let c: PublicKeyComponents<Vec<u8>> = pair.public().into();
    Ok(KeyPair {
        pair,
        n: c.n,
        e: c.e,
        pem,
    })
}

fn all() -> &'static BTreeMap<(&'static str, &'static str, &'static str), KeyPair> {
    static KEYS: OnceLock<BTreeMap<(&str, &str, &str), KeyPair>> = OnceLock::new();
    KEYS.get_or_init(|| {
        PEMS.iter()
            .map(|(p, s, r, pem)| {
                // Compiled-in data, checked by the unit test below.
                let key = load(&format!("{p}-{s}-{r}"), pem).expect("embedded keys are valid");
                ((*p, *s, *r), key)
            })
            .collect()
    })
}

/// The keys of one site: the server's signing key and the seeded JWKS
/// client's key. A site without its own PEM files (one added to
/// `profiles.yaml` later) shares the profile's first site's keys.
pub fn of(profile: &str, site: &str) -> (&'static KeyPair, &'static KeyPair) {
    let keys = all();
    let pick = |role: &'static str| -> Option<&'static KeyPair> {
        keys.iter()
            .find(|((p, s, r), _)| *p == profile && *s == site && *r == role)
            .map(|(_, k)| k)
            .or_else(|| {
                keys.iter()
                    .find(|((p, _, r), _)| *p == profile && *r == role)
                    .map(|(_, k)| k)
            })
            .or_else(|| {
                keys.iter()
                    .find(|((p, s, r), _)| *p == "openemr" && *s == "default" && *r == role)
                    .map(|(_, k)| k)
            })
    };
    match (pick("server"), pick("client")) {
        (Some(s), Some(c)) => (s, c),
        // `PEMS` holds openemr/default, so the fallback always finds it.
        _ => unreachable!("openemr/default keys are embedded"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_key_loads_and_sites_differ() {
        assert_eq!(all().len(), PEMS.len());
        let (a, _) = of("openemr", "default");
        let (b, _) = of("openemr", "alternate");
        let (c, _) = of("emedpractice", "default");
        assert_ne!(a.n, b.n);
        assert_ne!(a.n, c.n);
        assert_eq!(a.e, vec![1, 0, 1]);
        assert_eq!(a.n.len(), 256);
    }
}
