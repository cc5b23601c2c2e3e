//! OAuth2 / JWT mutants for OpenEMR-family servers: the step's API
//! request with a damaged or foreign bearer token, and (when the step's
//! grant allows) client assertions, PKCE verifiers, codes and refresh
//! tokens at the token endpoint.

use std::fmt;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use proptest::prelude::*;
use proptest::strategy::SBoxedStrategy;
use rand::Rng;
use ring::signature::{RSA_PKCS1_SHA256, RSA_PKCS1_SHA384};
use serde_json::{json, Value};

use super::engine::Sent;
use super::io::Io;
use super::pick;
use crate::check::check;
use crate::runner::encode_pairs;
use crate::scenario::{
    display, ClientAuth, Expect, KeySpec, OAuth2Grant, OAuth2Spec, RequestSpec, Template,
};
use crate::transport::{HttpRequest, HttpResponse, Transport};

const KINDS: &[&str] = &[
    "oauth2.signature.bits",
    "oauth2.signature.truncated",
    "oauth2.algorithm.none",
    "oauth2.algorithm.hs256-public-key",
    "oauth2.algorithm.relabelled",
    "oauth2.claims.exp",
    "oauth2.claims.aud",
    "oauth2.claims.iss",
    "oauth2.claims.scopes",
    "oauth2.claims.patient",
    "oauth2.claims.other",
    "oauth2.encoding.structure",
    "oauth2.token.other-site",
    "oauth2.token.expired",
    "oauth2.assertion.wrong-key",
    "oauth2.assertion.kid",
    "oauth2.assertion.lifetime",
    "oauth2.assertion.audience",
    "oauth2.assertion.issuer",
    "oauth2.assertion.algorithm",
    "oauth2.assertion.signature",
    "oauth2.assertion.replay",
    "oauth2.pkce.verifier",
    "oauth2.replay.code",
    "oauth2.replay.refresh",
];

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A key no server has seen: assertions signed with it must fail.
const ATTACKER_KEY: &str = include_str!("../../data/fuzz-attacker-key.pem");

/// One OAuth2 mutation.
#[derive(Debug, Clone)]
pub(crate) enum Mutant {
    FlipBits(Vec<u16>),
    Truncate(usize),
    AlgNone { name: String, keep_signature: bool },
    Hs256(HsKey),
    Relabel(String),
    Claim(ClaimChange),
    Structure(Structure),
    OtherSite,
    Expired(i64),
    Assertion(AssertionChange),
    Verifier(VerifierChange),
    CodeReplay,
    RefreshReplay,
}

/// Which rendition of the server's public key keys the HMAC.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HsKey {
    SpkiPem,
    Pkcs1Pem,
    SpkiDer,
    JwkText,
}

#[derive(Debug, Clone)]
pub(crate) enum ClaimChange {
    ExpBy(i64),
    Aud(String),
    AudList(String),
    Iss(String),
    AddScope(String),
    OnlyScope(String),
    Patient(String),
    Sub(String),
    NbfBy(i64),
    IatBy(i64),
    Jti(String),
}

#[derive(Debug, Clone)]
pub(crate) enum Structure {
    ExtraSegment(String),
    MissingSegment(usize),
    Padding(usize, usize),
    Insert(usize, char),
    Empty,
}

#[derive(Debug, Clone)]
pub(crate) enum AssertionChange {
    AttackerKey,
    OtherSiteKey,
    NoKid,
    Kid(String),
    ExpPast(i64),
    ExpTooFar(i64),
    NoExp,
    IatOld(i64),
    Aud(String),
    AudSuffix(String),
    NoAud,
    Iss(String),
    Sub(String),
    NoIss,
    Rs256,
    None,
    Hs256PublicJwk,
    Bits(Vec<u16>),
    Replay,
}

#[derive(Debug, Clone)]
pub(crate) enum VerifierChange {
    Replace(usize, char),
    Cut(usize),
    Extend(String),
    Empty,
    Challenge,
    Other(String),
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutant::FlipBits(b) => write!(f, "signature bits {b:?} flipped"),
            Mutant::Truncate(n) => write!(f, "signature cut to {n} bytes"),
            Mutant::AlgNone {
                name,
                keep_signature,
            } => write!(
                f,
                "alg {name:?}, signature {}",
                if *keep_signature { "kept" } else { "removed" }
            ),
            Mutant::Hs256(k) => write!(f, "HS256 keyed with the public key as {k:?}"),
            Mutant::Relabel(a) => write!(f, "the RS256 signature labelled {a}"),
            Mutant::Claim(c) => write!(f, "claim changed under the old signature: {c:?}"),
            Mutant::Structure(s) => write!(f, "token structure: {s:?}"),
            Mutant::OtherSite => f.write_str("a token of another site"),
            Mutant::Expired(s) => write!(f, "used {s} s later, past exp"),
            Mutant::Assertion(a) => write!(f, "client assertion: {a:?}"),
            Mutant::Verifier(v) => write!(f, "code_verifier: {v:?}"),
            Mutant::CodeReplay => f.write_str("the code exchanged twice"),
            Mutant::RefreshReplay => f.write_str("a rotated refresh token used again"),
        }
    }
}

/// The token endpoint's success.
fn token_success() -> Expect {
    serde_yaml::from_str("{status: 200, json: {$.access_token: {type: string}}}")
        .unwrap_or_default()
}

pub(crate) struct Chan {
    spec: OAuth2Spec,
    /// The step's request, without Authorization.
    base: HttpRequest,
    token: String,
    /// `{{oauth2.*}}` as the driver published them.
    published: Value,
    token_url: String,
    jwks_url: String,
    other_site: Option<String>,
    other_token: Option<String>,
    jwks: Option<Value>,
    /// The assertion client's id, PKCS#8 key and kid (client credentials).
    assertion_key: Option<(String, Vec<u8>, String)>,
    other_site_key: Option<(Vec<u8>, String)>,
    flows: u32,
}

fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    STANDARD.decode(body).ok()
}

fn site_key(credentials: &Value, site: &str) -> Option<(String, Vec<u8>, String)> {
    let j = credentials.pointer(&format!("/sites/{site}/oauth2/jwks"))?;
    let der = pem_der(j["private_key_pem"].as_str()?)?;
    Some((display(&j["client_id"]), der, display(&j["kid"])))
}

impl Chan {
    pub async fn new(
        spec: &RequestSpec,
        oauth2: &OAuth2Spec,
        io: &mut Io<'_, '_>,
    ) -> Result<Chan, String> {
        if oauth2.tamper.is_some() || !oauth2.exchange {
            return Err(
                "an oauth2 fuzz step needs the valid token: no `tamper`, no `exchange: false`"
                    .into(),
            );
        }
        let (base, _) = crate::runner::build(spec, io.target(), io.vars)
            .map_err(|f| format!("{}: {}", f.subject, f.message))?;
        let token = bearer(oauth2, io).await?;
        let published = io.vars.get("oauth2").cloned().unwrap_or(Value::Null);
        let target = io.target();
        let site = published["site"]
            .as_str()
            .map_or_else(|| target.site.clone(), str::to_owned);
        let doc = target
            .credentials
            .pointer(&format!("/sites/{site}/oauth2"))
            .cloned()
            .unwrap_or(Value::Null);
        let default_base = match target.profile {
            emr_catalog::ProfileId::EMedPractice => "/connect".to_owned(),
            _ => format!("/oauth2/{site}"),
        };
        let path = |key: &str, tail: &str| {
            doc[key]
                .as_str()
                .map_or_else(|| format!("{default_base}{tail}"), str::to_owned)
        };
        let root = format!("{}{}", target.root, target.context);
        let other_site = target.credentials["sites"]
            .as_object()
            .and_then(|sites| sites.keys().find(|s| **s != site).cloned());
        let uses_seeded_key = matches!(oauth2.key, None | Some(KeySpec::Credentials));
        let assertion_key = (oauth2.grant == OAuth2Grant::ClientCredentials
            && matches!(oauth2.client_auth, None | Some(ClientAuth::PrivateKeyJwt))
            && oauth2.register.is_none()
            && uses_seeded_key)
            .then(|| site_key(&target.credentials, &site))
            .flatten();
        let other_site_key = other_site
            .as_deref()
            .and_then(|s| site_key(&target.credentials, s))
            .map(|(_, der, kid)| (der, kid));
        Ok(Chan {
            spec: oauth2.clone(),
            base,
            token,
            published,
            token_url: format!("{root}{}", path("token_path", "/token")),
            jwks_url: format!("{root}{}", path("jwks_path", "/jwk")),
            other_site,
            other_token: None,
            jwks: None,
            assertion_key,
            other_site_key,
            flows: 0,
        })
    }

    pub fn kinds(&self, io: &Io<'_, '_>) -> Vec<(&'static str, Option<String>)> {
        let code = self.spec.grant == OAuth2Grant::AuthorizationCode;
        KINDS
            .iter()
            .map(|k| {
                let na: Option<&str> = match *k {
                    "oauth2.token.other-site" if self.other_site.is_none() => {
                        Some("the target has one site")
                    }
                    "oauth2.token.expired" if !io.is_mock() => {
                        Some("needs the mock's admin API (clock)")
                    }
                    k if k.starts_with("oauth2.assertion.") && self.assertion_key.is_none() => {
                        Some("the step's grant is not client credentials with the credentials' JWKS client key")
                    }
                    "oauth2.pkce.verifier" if !code || self.spec.pkce == Some(false) => {
                        Some("the step's grant is not an authorization code with PKCE")
                    }
                    "oauth2.replay.code" if !code => {
                        Some("the step's grant is not an authorization code")
                    }
                    "oauth2.replay.refresh" if self.published["refresh_token"].is_null() => {
                        Some("the step's token came without a refresh token (ask for offline_access)")
                    }
                    _ => None,
                };
                (*k, na.map(str::to_owned))
            })
            .collect()
    }

    pub fn strategy(&self, kind: &str) -> SBoxedStrategy<Mutant> {
        let big = 1i64..1_000_000;
        match kind {
            "oauth2.signature.bits" => proptest::collection::btree_set(0u16..2048, 1..=4)
                .prop_map(|s| Mutant::FlipBits(s.into_iter().collect()))
                .sboxed(),
            "oauth2.signature.truncated" => (0usize..256).prop_map(Mutant::Truncate).sboxed(),
            "oauth2.algorithm.none" => (
                prop_oneof![
                    Just("none".to_owned()),
                    Just("None".to_owned()),
                    Just("NONE".to_owned()),
                    Just("nOnE".to_owned()),
                ],
                any::<bool>(),
            )
                .prop_map(|(name, keep_signature)| Mutant::AlgNone {
                    name,
                    keep_signature,
                })
                .sboxed(),
            "oauth2.algorithm.hs256-public-key" => prop_oneof![
                Just(HsKey::SpkiPem),
                Just(HsKey::Pkcs1Pem),
                Just(HsKey::SpkiDer),
                Just(HsKey::JwkText),
            ]
            .prop_map(Mutant::Hs256)
            .sboxed(),
            "oauth2.algorithm.relabelled" => prop_oneof![
                Just("RS384"),
                Just("RS512"),
                Just("PS256"),
                Just("ES256"),
                Just("HS256"),
            ]
            .prop_map(|a| Mutant::Relabel(a.to_owned()))
            .sboxed(),
            "oauth2.claims.exp" => prop_oneof![big.clone(), big.clone().prop_map(|d| -d)]
                .prop_map(|d| Mutant::Claim(ClaimChange::ExpBy(d)))
                .sboxed(),
            "oauth2.claims.aud" => prop_oneof![
                "[a-zA-Z0-9-]{0,24}".prop_map(ClaimChange::Aud),
                "[a-zA-Z0-9-]{1,24}".prop_map(ClaimChange::AudList),
            ]
            .prop_map(Mutant::Claim)
            .sboxed(),
            "oauth2.claims.iss" => "https://[a-z]{1,10}\\.example/[a-z]{0,8}"
                .prop_map(|s| Mutant::Claim(ClaimChange::Iss(s)))
                .sboxed(),
            "oauth2.claims.scopes" => {
                let scope = prop_oneof![
                    Just("user/*.*".to_owned()),
                    Just("system/*.*".to_owned()),
                    Just("user/patient.cruds".to_owned()),
                    Just("patient/*.read".to_owned()),
                    Just("api:oemr".to_owned()),
                    Just("api:port".to_owned()),
                    Just("api:fhir".to_owned()),
                    Just("site:alternate".to_owned()),
                    "user/[A-Za-z]{1,12}\\.(read|write|cruds)",
                ];
                prop_oneof![
                    scope.clone().prop_map(ClaimChange::AddScope),
                    scope.prop_map(ClaimChange::OnlyScope),
                ]
                .prop_map(Mutant::Claim)
                .sboxed()
            }
            "oauth2.claims.patient" => uuid()
                .prop_map(|u| Mutant::Claim(ClaimChange::Patient(u)))
                .sboxed(),
            "oauth2.claims.other" => prop_oneof![
                uuid().prop_map(ClaimChange::Sub),
                big.clone().prop_map(|d| ClaimChange::NbfBy(-d)),
                big.clone().prop_map(|d| ClaimChange::IatBy(-d)),
                "[a-f0-9]{8,80}".prop_map(ClaimChange::Jti),
            ]
            .prop_map(Mutant::Claim)
            .sboxed(),
            "oauth2.encoding.structure" => prop_oneof![
                "[A-Za-z0-9_-]{0,16}".prop_map(Structure::ExtraSegment),
                (0usize..3).prop_map(Structure::MissingSegment),
                (0usize..3, 1usize..3).prop_map(|(s, n)| Structure::Padding(s, n)),
                (
                    pick(),
                    prop_oneof![Just(' '), Just('+'), Just('/'), Just('='), Just('*')]
                )
                    .prop_map(|(i, c)| Structure::Insert(i, c)),
                Just(Structure::Empty),
            ]
            .prop_map(Mutant::Structure)
            .sboxed(),
            "oauth2.token.other-site" => Just(Mutant::OtherSite).sboxed(),
            "oauth2.token.expired" => (2i64..1_000_000).prop_map(Mutant::Expired).sboxed(),
            "oauth2.assertion.wrong-key" => {
                if self.other_site_key.is_some() {
                    prop_oneof![
                        Just(AssertionChange::AttackerKey),
                        Just(AssertionChange::OtherSiteKey)
                    ]
                    .prop_map(Mutant::Assertion)
                    .sboxed()
                } else {
                    Just(Mutant::Assertion(AssertionChange::AttackerKey)).sboxed()
                }
            }
            "oauth2.assertion.kid" => prop_oneof![
                Just(AssertionChange::NoKid),
                "[A-Za-z0-9-]{0,24}".prop_map(AssertionChange::Kid),
            ]
            .prop_map(Mutant::Assertion)
            .sboxed(),
            // Past the minute of leeway; beyond 24 h; iat older than 5 min.
            "oauth2.assertion.lifetime" => prop_oneof![
                (125i64..1_000_000).prop_map(|d| AssertionChange::ExpPast(-d)),
                (86_400i64 + 125..10_000_000).prop_map(AssertionChange::ExpTooFar),
                Just(AssertionChange::NoExp),
                (425i64..1_000_000).prop_map(|d| AssertionChange::IatOld(-d)),
            ]
            .prop_map(Mutant::Assertion)
            .sboxed(),
            "oauth2.assertion.audience" => prop_oneof![
                "https://[a-z]{1,10}\\.example/token".prop_map(AssertionChange::Aud),
                "[a-z/]{1,6}".prop_map(AssertionChange::AudSuffix),
                Just(AssertionChange::NoAud),
            ]
            .prop_map(Mutant::Assertion)
            .sboxed(),
            "oauth2.assertion.issuer" => prop_oneof![
                "[A-Za-z0-9_-]{1,40}".prop_map(AssertionChange::Iss),
                "[A-Za-z0-9_-]{1,40}".prop_map(AssertionChange::Sub),
                Just(AssertionChange::NoIss),
            ]
            .prop_map(Mutant::Assertion)
            .sboxed(),
            "oauth2.assertion.algorithm" => prop_oneof![
                Just(AssertionChange::Rs256),
                Just(AssertionChange::None),
                Just(AssertionChange::Hs256PublicJwk),
            ]
            .prop_map(Mutant::Assertion)
            .sboxed(),
            "oauth2.assertion.signature" => proptest::collection::btree_set(0u16..2048, 1..=4)
                .prop_map(|s| Mutant::Assertion(AssertionChange::Bits(s.into_iter().collect())))
                .sboxed(),
            "oauth2.assertion.replay" => Just(Mutant::Assertion(AssertionChange::Replay)).sboxed(),
            "oauth2.pkce.verifier" => {
                let unreserved = prop_oneof![
                    proptest::char::range('a', 'z'),
                    proptest::char::range('A', 'Z'),
                    proptest::char::range('0', '9'),
                    Just('-'),
                    Just('.'),
                    Just('_'),
                    Just('~'),
                ];
                prop_oneof![
                    (pick(), unreserved).prop_map(|(i, c)| VerifierChange::Replace(i, c)),
                    (0usize..43).prop_map(VerifierChange::Cut),
                    "[A-Za-z0-9]{1,90}".prop_map(VerifierChange::Extend),
                    Just(VerifierChange::Empty),
                    Just(VerifierChange::Challenge),
                    "[A-Za-z0-9._~-]{43,128}".prop_map(VerifierChange::Other),
                ]
                .prop_map(Mutant::Verifier)
                .sboxed()
            }
            "oauth2.replay.code" => Just(Mutant::CodeReplay).sboxed(),
            _ => Just(Mutant::RefreshReplay).sboxed(),
        }
    }

    /// What an accepted answer is, for the kinds that do not send the
    /// step's request.
    pub fn acceptance(&self, kind: &str) -> Option<Expect> {
        let token_endpoint = kind.starts_with("oauth2.assertion.")
            || kind.starts_with("oauth2.pkce.")
            || kind.starts_with("oauth2.replay.");
        token_endpoint.then(token_success)
    }

    fn with_bearer(&self, token: &str) -> HttpRequest {
        let mut r = self.base.clone();
        r.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
        r.headers
            .push(("Authorization".into(), format!("Bearer {token}")));
        r
    }

    async fn send_bearer(&self, io: &mut Io<'_, '_>, token: &str) -> Result<Sent, String> {
        let request = self.with_bearer(token);
        let response = io.send(&request).await?;
        Ok(Sent {
            request,
            response,
            credential: Some("Bearer [secret]".into()),
            note: None,
        })
    }

    pub async fn valid(&mut self, io: &mut Io<'_, '_>) -> Result<Sent, String> {
        self.token = bearer(&self.spec, io).await?;
        let token = self.token.clone();
        self.send_bearer(io, &token).await
    }

    /// The driver's variables as the step's own spec left them.
    pub async fn finish(&mut self, io: &mut Io<'_, '_>) {
        let _ = bearer(&self.spec, io).await;
    }

    pub async fn case(
        &mut self,
        io: &mut Io<'_, '_>,
        _kind: &str,
        mutant: &Mutant,
        accept: &Expect,
    ) -> Result<Sent, String> {
        let token = self.token.clone();
        let bearer_token = match mutant {
            Mutant::FlipBits(bits) => {
                let (h, c, mut sig) = split(&token)?;
                let len = sig.len().max(1) * 8;
                for b in bits {
                    let bit = usize::from(*b) % len;
                    if let Some(byte) = sig.get_mut(bit / 8) {
                        *byte ^= 1 << (bit % 8);
                    }
                }
                format!("{h}.{c}.{}", URL_SAFE_NO_PAD.encode(sig))
            }
            Mutant::Truncate(n) => {
                let (h, c, mut sig) = split(&token)?;
                sig.truncate((*n).min(sig.len().saturating_sub(1)));
                format!("{h}.{c}.{}", URL_SAFE_NO_PAD.encode(sig))
            }
            Mutant::AlgNone {
                name,
                keep_signature,
            } => {
                let (_, c, sig) = split(&token)?;
                let header = b64json(&json!({"alg": name, "typ": "JWT"}));
                let sig = if *keep_signature {
                    URL_SAFE_NO_PAD.encode(sig)
                } else {
                    String::new()
                };
                format!("{header}.{c}.{sig}")
            }
            Mutant::Hs256(key) => {
                let (_, c, _) = split(&token)?;
                let secret = self.public_key(io, *key).await?;
                let header = b64json(&json!({"alg": "HS256", "typ": "JWT"}));
                let input = format!("{header}.{c}");
                let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret);
                let tag = ring::hmac::sign(&k, input.as_bytes());
                format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
            }
            Mutant::Relabel(alg) => {
                let (h, c, sig) = split(&token)?;
                let mut header = decode_json(&h)?;
                header["alg"] = json!(alg);
                format!("{}.{c}.{}", b64json(&header), URL_SAFE_NO_PAD.encode(sig))
            }
            Mutant::Claim(change) => {
                let (h, c, sig) = split(&token)?;
                let mut claims = decode_json(&c)?;
                apply_claim(&mut claims, change);
                format!("{h}.{}.{}", b64json(&claims), URL_SAFE_NO_PAD.encode(sig))
            }
            Mutant::Structure(s) => restructure(&token, s),
            Mutant::OtherSite => self.other_site_token(io).await?,
            Mutant::Expired(beyond) => {
                let lifetime = self.published["expires_in"].as_i64().unwrap_or(3600);
                io.advance_clock(lifetime + 61 + beyond).await?;
                let sent = self.send_bearer(io, &token).await;
                let reset = io.reset_clock().await;
                let sent = sent?;
                reset?;
                return Ok(sent);
            }
            Mutant::Assertion(change) => return self.assertion_case(io, change, accept).await,
            Mutant::Verifier(change) => return self.verifier_case(io, change).await,
            Mutant::CodeReplay => return self.code_replay(io, accept).await,
            Mutant::RefreshReplay => return self.refresh_replay(io, accept).await,
        };
        self.send_bearer(io, &bearer_token).await
    }

    async fn other_site_token(&mut self, io: &mut Io<'_, '_>) -> Result<String, String> {
        if let Some(t) = &self.other_token {
            return Ok(t.clone());
        }
        let site = self.other_site.clone().ok_or("no other site")?;
        let mut spec = self.spec.clone();
        spec.site = Some(Template::literal(&site));
        let t = bearer(&spec, io).await?;
        self.other_token = Some(t.clone());
        Ok(t)
    }

    /// The server's public key as an HMAC secret, from its JWKS.
    async fn public_key(&mut self, io: &mut Io<'_, '_>, how: HsKey) -> Result<Vec<u8>, String> {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use rsa::pkcs8::EncodePublicKey;
        if self.jwks.is_none() {
            let r = io
                .send(&HttpRequest {
                    method: "GET".into(),
                    url: self.jwks_url.clone(),
                    headers: Vec::new(),
                    body: None,
                })
                .await?;
            self.jwks = Some(
                serde_json::from_slice(&r.body)
                    .map_err(|e| format!("the JWKS at {}: {e}", self.jwks_url))?,
            );
        }
        let jwk = self
            .jwks
            .as_ref()
            .and_then(|j| j["keys"].get(0))
            .cloned()
            .ok_or("the JWKS has no key")?;
        let part = |n: &str| {
            jwk[n]
                .as_str()
                .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
                .map(|b| rsa::BigUint::from_bytes_be(&b))
                .ok_or_else(|| format!("the JWKS key has no `{n}`"))
        };
        let key = rsa::RsaPublicKey::new(part("n")?, part("e")?).map_err(|e| e.to_string())?;
        let pem = |label: &str, der: &[u8]| {
            let b64 = STANDARD.encode(der);
            let mut out = format!("-----BEGIN {label}-----\n");
            for chunk in b64.as_bytes().chunks(64) {
                out.push_str(&String::from_utf8_lossy(chunk));
                out.push('\n');
            }
            out.push_str(&format!("-----END {label}-----\n"));
            out.into_bytes()
        };
        Ok(match how {
            HsKey::SpkiPem => pem(
                "PUBLIC KEY",
                key.to_public_key_der()
                    .map_err(|e| e.to_string())?
                    .as_bytes(),
            ),
            HsKey::Pkcs1Pem => pem(
                "RSA PUBLIC KEY",
                key.to_pkcs1_der().map_err(|e| e.to_string())?.as_bytes(),
            ),
            HsKey::SpkiDer => key
                .to_public_key_der()
                .map_err(|e| e.to_string())?
                .as_bytes()
                .to_vec(),
            HsKey::JwkText => jwk.to_string().into_bytes(),
        })
    }

    async fn token_request(
        &self,
        io: &mut Io<'_, '_>,
        mut form: Vec<(String, String)>,
        client_auth: bool,
    ) -> Result<Sent, String> {
        let mut headers = vec![(
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        if client_auth {
            let id = display(&self.published["client_id"]);
            let secret = display(&self.published["client_secret"]);
            if secret.is_empty() || secret == "null" {
                form.push(("client_id".into(), id));
            } else {
                headers.push((
                    "Authorization".into(),
                    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
                ));
            }
        }
        let request = HttpRequest {
            method: "POST".into(),
            url: self.token_url.clone(),
            headers,
            body: Some(encode_pairs(&form).into()),
        };
        let response = io.send(&request).await?;
        Ok(Sent {
            request,
            response,
            credential: None,
            note: None,
        })
    }

    // ---- client assertions ---------------------------------------------

    async fn assertion_case(
        &mut self,
        io: &mut Io<'_, '_>,
        change: &AssertionChange,
        accept: &Expect,
    ) -> Result<Sent, String> {
        let (client, der, kid) = self
            .assertion_key
            .clone()
            .ok_or("no assertion key in the credentials")?;
        let now = chrono::Utc::now().timestamp();
        let mut header = json!({"alg": "RS384", "typ": "JWT", "kid": kid});
        let mut claims = json!({
            "iss": client,
            "sub": client,
            "aud": self.token_url,
            "jti": random_text(32),
            "iat": now,
            "exp": now + 300,
        });
        let mut key = der;
        let mut sign = Sign::Rs384;
        match change {
            AssertionChange::AttackerKey => {
                key = pem_der(ATTACKER_KEY).ok_or("the attacker key is not PEM")?;
            }
            AssertionChange::OtherSiteKey => {
                key = self
                    .other_site_key
                    .clone()
                    .map(|(d, _)| d)
                    .ok_or("no other site key")?;
            }
            AssertionChange::NoKid => {
                if let Some(h) = header.as_object_mut() {
                    h.remove("kid");
                }
            }
            AssertionChange::Kid(k) => {
                header["kid"] = json!(if *k == kid {
                    format!("{k}x")
                } else {
                    k.clone()
                });
            }
            AssertionChange::ExpPast(d) => claims["exp"] = json!(now + d),
            AssertionChange::ExpTooFar(d) => claims["exp"] = json!(now + d),
            AssertionChange::NoExp => remove(&mut claims, "exp"),
            AssertionChange::IatOld(d) => claims["iat"] = json!(now + d),
            AssertionChange::Aud(a) => claims["aud"] = json!(a),
            AssertionChange::AudSuffix(s) => {
                claims["aud"] = json!(format!("{}{s}", self.token_url))
            }
            AssertionChange::NoAud => remove(&mut claims, "aud"),
            AssertionChange::Iss(s) => claims["iss"] = json!(s),
            AssertionChange::Sub(s) => claims["sub"] = json!(s),
            AssertionChange::NoIss => remove(&mut claims, "iss"),
            AssertionChange::Rs256 => {
                header["alg"] = json!("RS256");
                sign = Sign::Rs256;
            }
            AssertionChange::None => {
                header["alg"] = json!("none");
                sign = Sign::None;
            }
            AssertionChange::Hs256PublicJwk => {
                header["alg"] = json!("HS256");
                let secret = self.public_key(io, HsKey::JwkText).await?;
                sign = Sign::Hs256(secret);
            }
            AssertionChange::Bits(_) | AssertionChange::Replay => {}
        }
        if let (AssertionChange::Iss(s), Value::String(c)) = (change, &claims["sub"]) {
            if s == c {
                claims["iss"] = json!(format!("{s}x"));
            }
        }
        if let (AssertionChange::Sub(s), Value::String(c)) = (change, &claims["iss"]) {
            if s == c {
                claims["sub"] = json!(format!("{s}x"));
            }
        }
        let mut jwt = sign_jwt(&header, &claims, &key, &sign, io.cx.transport)?;
        if let AssertionChange::Bits(bits) = change {
            let (h, c, mut sig) = split(&jwt)?;
            let len = sig.len().max(1) * 8;
            for b in bits {
                let bit = usize::from(*b) % len;
                if let Some(byte) = sig.get_mut(bit / 8) {
                    *byte ^= 1 << (bit % 8);
                }
            }
            jwt = format!("{h}.{c}.{}", URL_SAFE_NO_PAD.encode(sig));
        }
        let form = vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            (
                "scope".to_owned(),
                self.spec.scope.render(io.vars).map_err(|e| e.to_string())?,
            ),
            ("client_assertion_type".to_owned(), JWT_BEARER.to_owned()),
            ("client_assertion".to_owned(), jwt),
        ];
        if matches!(change, AssertionChange::Replay) {
            let first = self.token_request(io, form.clone(), false).await?;
            expect_ok(&first.response, &token_success(), io, "the first assertion")?;
            let _ = accept;
        }
        self.token_request(io, form, false).await
    }

    // ---- authorization codes, PKCE, refresh tokens -----------------------

    /// Runs the browser flow once more and returns what the exchange
    /// needs: `(code, code_verifier, redirect_uri)`.
    async fn new_code(&mut self, io: &mut Io<'_, '_>) -> Result<(String, String, String), String> {
        self.flows += 1;
        let mut spec = self.spec.clone();
        spec.exchange = false;
        spec.state = Some(Template::literal(&format!(
            "fuzz-{}-{}",
            self.flows,
            random_text(8)
        )));
        let _ = bearer(&spec, io).await?;
        let p = io.vars.get("oauth2").cloned().unwrap_or(Value::Null);
        Ok((
            display(&p["code"]),
            display(&p["code_verifier"]),
            display(&p["redirect_uri"]),
        ))
    }

    async fn verifier_case(
        &mut self,
        io: &mut Io<'_, '_>,
        change: &VerifierChange,
    ) -> Result<Sent, String> {
        let (code, verifier, redirect) = self.new_code(io).await?;
        let chars: Vec<char> = verifier.chars().collect();
        let mutated = match change {
            VerifierChange::Replace(i, c) if !chars.is_empty() => {
                let k = i % chars.len();
                let mut v = chars.clone();
                v[k] = if v[k] == *c {
                    if *c == 'a' {
                        'b'
                    } else {
                        'a'
                    }
                } else {
                    *c
                };
                v.into_iter().collect()
            }
            VerifierChange::Replace(_, c) => c.to_string(),
            VerifierChange::Cut(n) => chars.iter().take(*n).collect(),
            VerifierChange::Extend(s) => format!("{verifier}{s}"),
            VerifierChange::Empty => String::new(),
            VerifierChange::Challenge => {
                let d = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
                URL_SAFE_NO_PAD.encode(d.as_ref())
            }
            VerifierChange::Other(o) if *o != verifier => o.clone(),
            VerifierChange::Other(o) => format!("{o}x"),
        };
        let form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code),
            ("redirect_uri".to_owned(), redirect),
            ("code_verifier".to_owned(), mutated),
        ];
        self.token_request(io, form, true).await
    }

    async fn code_replay(&mut self, io: &mut Io<'_, '_>, _accept: &Expect) -> Result<Sent, String> {
        let (code, verifier, redirect) = self.new_code(io).await?;
        let mut form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code),
            ("redirect_uri".to_owned(), redirect),
        ];
        if !verifier.is_empty() && verifier != "null" {
            form.push(("code_verifier".to_owned(), verifier));
        }
        let first = self.token_request(io, form.clone(), true).await?;
        expect_ok(&first.response, &token_success(), io, "the first exchange")?;
        self.token_request(io, form, true).await
    }

    async fn refresh_replay(
        &mut self,
        io: &mut Io<'_, '_>,
        _accept: &Expect,
    ) -> Result<Sent, String> {
        // A session of its own, so the step's tokens stay valid.
        self.flows += 1;
        let mut spec = self.spec.clone();
        spec.state = Some(Template::literal(&format!(
            "fuzz-refresh-{}-{}",
            self.flows,
            random_text(8)
        )));
        let _ = bearer(&spec, io).await?;
        let p = io.vars.get("oauth2").cloned().unwrap_or(Value::Null);
        let refresh = p["refresh_token"]
            .as_str()
            .ok_or("the flow gave no refresh token")?
            .to_owned();
        let form = vec![
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), refresh),
        ];
        let first = self.token_request(io, form.clone(), true).await?;
        expect_ok(&first.response, &token_success(), io, "the first refresh")?;
        self.token_request(io, form, true).await
    }
}

/// The bearer token the driver puts on a request for `spec`.
async fn bearer(spec: &OAuth2Spec, io: &mut Io<'_, '_>) -> Result<String, String> {
    let mut scratch = HttpRequest {
        method: "GET".into(),
        url: io.target().root.clone(),
        headers: Vec::new(),
        body: None,
    };
    let r = crate::auth::oauth2::authorize(spec, &mut io.auth_ctx(), &mut scratch).await;
    io.drain_driver_calls();
    r.map_err(|e| e.to_string())?;
    Ok(scratch
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned())
}

fn expect_ok(
    resp: &HttpResponse,
    expect: &Expect,
    io: &Io<'_, '_>,
    what: &str,
) -> Result<(), String> {
    let problems = check(expect, resp, io.vars);
    match problems.first() {
        None => Ok(()),
        Some(p) => Err(format!(
            "{what} was not accepted (HTTP {}): {}",
            resp.status, p.message
        )),
    }
}

enum Sign {
    Rs384,
    Rs256,
    None,
    Hs256(Vec<u8>),
}

/// A signed JWT; `clock` counts the RSA signature as client cryptography.
fn sign_jwt(
    header: &Value,
    claims: &Value,
    der: &[u8],
    how: &Sign,
    clock: &Transport,
) -> Result<String, String> {
    let input = format!("{}.{}", b64json(header), b64json(claims));
    let sig = match how {
        Sign::None => Vec::new(),
        Sign::Hs256(secret) => {
            let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
            ring::hmac::sign(&k, input.as_bytes()).as_ref().to_vec()
        }
        Sign::Rs384 | Sign::Rs256 => clock.crypto(|| {
            let pair =
                crate::auth::oauth2::rsa_key_pair(der).map_err(|e| format!("the key: {e}"))?;
            let mut sig = vec![0u8; pair.public().modulus_len()];
            let params = if matches!(how, Sign::Rs256) {
                &RSA_PKCS1_SHA256
            } else {
                &RSA_PKCS1_SHA384
            };
            pair.sign(
                params,
                &ring::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| "could not sign".to_owned())?;
            Ok::<_, String>(sig)
        })?,
    };
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

fn b64json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn decode_json(part: &str) -> Result<Value, String> {
    URL_SAFE_NO_PAD
        .decode(part)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .filter(Value::is_object)
        .ok_or_else(|| "the token's parts are not base64url JSON objects".to_owned())
}

/// `header.claims.signature` → the two encoded parts and the signature's
/// bytes.
fn split(token: &str) -> Result<(String, String, Vec<u8>), String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, c, s] = parts.as_slice() else {
        return Err("the access token is not a JWT".into());
    };
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| "the signature is not base64url".to_owned())?;
    Ok(((*h).to_owned(), (*c).to_owned(), sig))
}

fn remove(v: &mut Value, key: &str) {
    if let Some(o) = v.as_object_mut() {
        o.remove(key);
    }
}

fn apply_claim(claims: &mut Value, change: &ClaimChange) {
    let num = |v: &Value| v.as_i64().unwrap_or(0);
    match change {
        ClaimChange::ExpBy(d) => claims["exp"] = json!(num(&claims["exp"]) + d),
        ClaimChange::Aud(a) => {
            let a = if claims["aud"] == json!(a) {
                format!("{a}x")
            } else {
                a.clone()
            };
            claims["aud"] = json!(a);
        }
        ClaimChange::AudList(extra) => {
            let aud = claims["aud"].clone();
            claims["aud"] = json!([aud, extra]);
        }
        ClaimChange::Iss(i) => claims["iss"] = json!(i),
        ClaimChange::AddScope(s) => {
            let mut scopes = claims["scopes"].as_array().cloned().unwrap_or_default();
            scopes.push(json!(s));
            claims["scopes"] = Value::Array(scopes);
        }
        ClaimChange::OnlyScope(s) => claims["scopes"] = json!([s, "fuzz"]),
        ClaimChange::Patient(p) => claims["patient"] = json!(p),
        ClaimChange::Sub(s) => claims["sub"] = json!(s),
        ClaimChange::NbfBy(d) => claims["nbf"] = json!(num(&claims["nbf"]) + d),
        ClaimChange::IatBy(d) => claims["iat"] = json!(num(&claims["iat"]) + d),
        ClaimChange::Jti(j) => claims["jti"] = json!(j),
    }
}

fn restructure(token: &str, s: &Structure) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    match s {
        Structure::ExtraSegment(seg) => format!("{token}.{seg}"),
        Structure::MissingSegment(i) => parts
            .iter()
            .enumerate()
            .filter(|(k, _)| k != i)
            .map(|(_, p)| *p)
            .collect::<Vec<_>>()
            .join("."),
        Structure::Padding(i, n) => parts
            .iter()
            .enumerate()
            .map(|(k, p)| {
                if k == *i {
                    format!("{p}{}", "=".repeat(*n))
                } else {
                    (*p).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("."),
        Structure::Insert(i, c) => {
            let chars: Vec<char> = token.chars().collect();
            // OpenEMR (league's BearerTokenValidator) trims the token it
            // takes from `Bearer `: white space at either end leaves it the
            // valid token, so it goes inside.
            let k = if c.is_whitespace() && chars.len() >= 2 {
                1 + i % (chars.len() - 1)
            } else {
                (i % chars.len().max(1)).min(chars.len())
            };
            let mut out: String = chars[..k].iter().collect();
            out.push(*c);
            out.extend(&chars[k..]);
            out
        }
        Structure::Empty => String::new(),
    }
}

fn uuid() -> impl Strategy<Value = String> {
    "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
}

fn random_text(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.gen_range(0..36)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_changes_always_change_the_token() {
        let t = "aGVhZA.Y2xhaW1z.c2ln";
        for s in [
            Structure::ExtraSegment(String::new()),
            Structure::MissingSegment(2),
            Structure::Padding(2, 1),
            Structure::Empty,
        ] {
            assert_ne!(restructure(t, &s), t, "{s:?}");
        }
        // Never a space a server's trim would take away.
        for i in 0..3 * t.len() {
            let spaced = restructure(t, &Structure::Insert(i, ' '));
            assert_eq!(spaced.trim(), spaced, "{i}");
            assert_ne!(spaced, t, "{i}");
        }
    }

    #[test]
    fn the_attacker_key_signs() {
        let der = pem_der(ATTACKER_KEY).unwrap();
        let jwt = sign_jwt(
            &json!({"alg": "RS384"}),
            &json!({"a": 1}),
            &der,
            &Sign::Rs384,
            &Transport::new(std::time::Duration::from_secs(1), false).unwrap(),
        )
        .unwrap();
        assert_eq!(jwt.split('.').count(), 3);
    }
}
