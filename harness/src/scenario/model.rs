//! The scenario file format, version 1 (documented in `docs/scenarios.md`).
//!
//! Every type here rejects unknown keys, and every check that can run while
//! parsing does, so a mistake is reported with the file, line and column
//! where it is.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use emr_catalog::ProfileId;
use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::matcher::{Matcher, Pattern};
use super::template::{Scalar, Template};
use super::xmlpath::XmlPath;

/// One scenario file.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Path under the scenarios root without extension: `oscar/health`.
    pub id: String,
    pub file: PathBuf,
    /// The file's text, for locating errors found after parsing.
    pub source: Arc<str>,
    pub name: String,
    pub description: Option<String>,
    pub profile: ProfileId,
    pub tags: Vec<String>,
    pub requirements: Vec<String>,
    pub covers: Vec<String>,
    pub auth: AuthSpec,
    pub vars: IndexMap<String, Value>,
    pub steps: Vec<Step>,
    /// Steps that run after `steps` whatever happened (even after a
    /// failure), to remove what the scenario created.
    pub cleanup: Vec<Step>,
}

/// The document as written; [`Scenario`] adds where it came from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioDoc {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub profile: Profiles,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub requirements: Vec<String>,
    #[serde(default)]
    pub covers: Vec<String>,
    #[serde(default)]
    pub auth: AuthSpec,
    #[serde(default)]
    pub vars: IndexMap<String, Json>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub cleanup: Vec<Step>,
}

/// `profile: oscar`, or a list of profiles the same steps apply to; the
/// file then yields one scenario per profile.
#[derive(Debug, Clone)]
pub struct Profiles(pub Vec<ProfileId>);

impl<'de> Deserialize<'de> for Profiles {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Profiles;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a profile (oscar, open-o, juno, openemr, emedpractice) or a list of them",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Profiles, E> {
                v.parse::<ProfileId>()
                    .map(|p| Profiles(vec![p]))
                    .map_err(|e| E::custom(e.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Profiles, A::Error> {
                let mut out: Vec<ProfileId> = Vec::new();
                while let Some(p) = seq.next_element::<ProfileId>()? {
                    if out.contains(&p) {
                        return Err(de::Error::custom(format!("profile `{p}` is listed twice")));
                    }
                    out.push(p);
                }
                if out.is_empty() {
                    return Err(de::Error::custom("the profile list is empty"));
                }
                Ok(Profiles(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Any YAML value, held as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Json(pub Value);

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml::Value::deserialize(d)?;
        serde_json::to_value(v)
            .map(Json)
            .map_err(|e| de::Error::custom(format!("not representable as JSON: {e}")))
    }
}

/// How requests are authorized. `none`, or a one-key map naming the driver
/// and its options.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum AuthSpec {
    /// Send requests as they are.
    #[default]
    None,
    /// OSCAR's OAuth 1.0a: run the three-legged flow, sign requests.
    OAuth1(Box<super::auth_model::OAuth1Options>),
    /// OSCAR's `/login.do` session cookie.
    Session(super::auth_model::SessionOptions),
    /// OpenEMR / eMedicalPractice OAuth2 (authorization code with PKCE,
    /// password, client credentials), bearer tokens.
    OAuth2(Box<OAuth2Spec>),
    /// WS-Security UsernameToken in the SOAP header (SOAP steps only).
    Wss(Box<WssSpec>),
}

pub const AUTH_DRIVERS: &[&str] = &["none", "oauth1", "session", "oauth2", "wss"];

impl AuthSpec {
    pub fn name(&self) -> &'static str {
        match self {
            AuthSpec::None => "none",
            AuthSpec::OAuth1(_) => "oauth1",
            AuthSpec::Session(_) => "session",
            AuthSpec::OAuth2(_) => "oauth2",
            AuthSpec::Wss(_) => "wss",
        }
    }

    /// The templates inside the spec, for the load-time variable check.
    pub fn templates(&self) -> Vec<Template> {
        match self {
            AuthSpec::None => Vec::new(),
            AuthSpec::OAuth1(o) => o.templates().into_iter().cloned().collect(),
            AuthSpec::Session(o) => o.user.iter().cloned().collect(),
            AuthSpec::OAuth2(o) => o.templates(),
            AuthSpec::Wss(w) => w.templates(),
        }
    }
}

/// `auth: {oauth2: {...}}`: how the `oauth2` driver obtains and uses a
/// token. Every string is a template. See `docs/scenarios.md`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Spec {
    pub grant: OAuth2Grant,
    /// OpenEMR site (default: the target's).
    #[serde(default)]
    pub site: Option<Template>,
    /// A seeded client of the credentials document (default: `jwks` for
    /// client credentials, `public` for a patient login, else
    /// `confidential`).
    #[serde(default)]
    pub client: Option<SeededClient>,
    #[serde(default)]
    pub client_id: Option<Template>,
    #[serde(default)]
    pub client_secret: Option<Template>,
    /// Register a new client first with this metadata (RFC 7591).
    #[serde(default)]
    pub register: Option<Json>,
    /// After registering, enable the client through the mock's admin API
    /// (an administrator's approval on a live server).
    #[serde(default)]
    pub approve: bool,
    /// Client authentication at the token endpoint (default: `basic` for
    /// confidential clients, `private_key_jwt` for client credentials,
    /// `none` for public clients).
    #[serde(default)]
    pub client_auth: Option<ClientAuth>,
    #[serde(default = "empty_template")]
    pub scope: Template,
    /// Login (default: the credentials' first user or portal patient).
    #[serde(default)]
    pub username: Option<Template>,
    #[serde(default)]
    pub password: Option<Template>,
    #[serde(default)]
    pub email: Option<Template>,
    /// `users` (staff, the default) or `patient`.
    #[serde(default)]
    pub role: Option<LoginRole>,
    /// The patient UUID to pick when a staff login asks `launch/patient`
    /// (default: the first one offered).
    #[serde(default)]
    pub patient: Option<Template>,
    /// Send a PKCE S256 challenge (default: yes).
    #[serde(default)]
    pub pkce: Option<bool>,
    #[serde(default)]
    pub redirect_uri: Option<Template>,
    #[serde(default)]
    pub state: Option<Template>,
    #[serde(default)]
    pub nonce: Option<Template>,
    /// `false`: stop before the token request, publish what it would have
    /// sent (`{{oauth2.code}}` and `code_verifier`, or `client_assertion`)
    /// and send the request unsigned.
    #[serde(default = "yes")]
    pub exchange: bool,
    /// The key client assertions are signed with.
    #[serde(default)]
    pub key: Option<KeySpec>,
    /// Deliberately wrong assertion claims.
    #[serde(default)]
    pub assertion: AssertionSpec,
    /// Deliberately damage the bearer token before sending it.
    #[serde(default)]
    pub tamper: Option<Tamper>,
    /// Consider the token stale after this many seconds (default: its
    /// `expires_in` less 30 s) and refresh it, or run the flow again.
    #[serde(default)]
    pub refresh_after: Option<u64>,
    #[serde(skip)]
    cache_key: KeyMemo,
}

/// [`OAuth2Spec::cache_key`], formatted once: every request asks for it.
/// A clone starts empty, since a spec is cloned to be changed (the fuzz
/// families' variants of a spec); equal specs have equal keys.
#[derive(Default)]
struct KeyMemo(OnceLock<String>);

impl Clone for KeyMemo {
    fn clone(&self) -> Self {
        KeyMemo::default()
    }
}

impl PartialEq for KeyMemo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for KeyMemo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyMemo")
    }
}

fn empty_template() -> Template {
    Template::literal("")
}

fn yes() -> bool {
    true
}

impl OAuth2Spec {
    pub fn templates(&self) -> Vec<Template> {
        let mut out: Vec<Template> = [
            &self.site,
            &self.client_id,
            &self.client_secret,
            &self.username,
            &self.password,
            &self.email,
            &self.patient,
            &self.redirect_uri,
            &self.state,
            &self.nonce,
            &self.assertion.aud,
            &self.assertion.kid,
            &self.assertion.jti,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        out.push(self.scope.clone());
        if let Some(KeySpec::Pem { pem, kid }) = &self.key {
            out.push(pem.clone());
            out.push(kid.clone());
        }
        if let Some(Json(v)) = &self.register {
            let _ = super::template::json_templates(v, &mut out);
        }
        out
    }

    /// The same spec without the options that only change how the token
    /// is sent: specs equal under this share cached tokens.
    pub fn cache_key(&self) -> &str {
        self.cache_key.0.get_or_init(|| self.format_key())
    }

    fn format_key(&self) -> String {
        // Every field by name, so that a field added to the spec fails to
        // compile here until it is placed in the key or left out of it.
        let OAuth2Spec {
            grant,
            site,
            client,
            client_id,
            client_secret,
            register,
            approve,
            client_auth,
            scope,
            username,
            password,
            email,
            role,
            patient,
            pkce,
            redirect_uri,
            state,
            nonce,
            exchange,
            key,
            assertion,
            tamper: _,
            refresh_after: _,
            cache_key: _,
        } = self;
        format!(
            "{:?}",
            (
                (grant, site, client, client_id, client_secret, register),
                (approve, client_auth, scope, username, password, email),
                (role, patient, pkce, redirect_uri, state, nonce),
                (exchange, key, assertion),
            )
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuth2Grant {
    AuthorizationCode,
    Password,
    ClientCredentials,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeededClient {
    Confidential,
    Public,
    Jwks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// HTTP Basic `client_id:client_secret`.
    Basic,
    /// `client_id` and `client_secret` form fields.
    Post,
    PrivateKeyJwt,
    /// A public client: `client_id` only.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginRole {
    Users,
    Patient,
}

/// Where the assertion key comes from: `credentials`, `generated`,
/// `{site: NAME}` or `{pem: ..., kid: ...}`.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySpec {
    /// The credentials document's JWKS client key (the default).
    Credentials,
    /// The JWKS client key of another site of the credentials document.
    Site(String),
    /// A fresh RSA key pair, made for this scenario.
    Generated,
    /// A PKCS#8 PEM private key and its `kid`.
    Pem { pem: Template, kid: Template },
}

impl<'de> Deserialize<'de> for KeySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeySpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`credentials`, `generated`, `{site: NAME}` or `{pem: PEM, kid: KID}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeySpec, E> {
                match v {
                    "credentials" => Ok(KeySpec::Credentials),
                    "generated" => Ok(KeySpec::Generated),
                    other => Err(E::unknown_variant(other, &["credentials", "generated"])),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeySpec, A::Error> {
                let mut site = None;
                let mut pem = None;
                let mut kid = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "site" => site = Some(map.next_value::<String>()?),
                        "pem" => pem = Some(map.next_value::<Template>()?),
                        "kid" => kid = Some(map.next_value::<Template>()?),
                        other => {
                            return Err(de::Error::unknown_field(other, &["site", "pem", "kid"]))
                        }
                    }
                }
                match (site, pem, kid) {
                    (Some(s), None, None) => Ok(KeySpec::Site(s)),
                    (None, Some(pem), Some(kid)) => Ok(KeySpec::Pem { pem, kid }),
                    _ => Err(de::Error::custom(
                        "a key map is `{site: NAME}` or `{pem: PEM, kid: KID}`",
                    )),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Overrides of the client assertion's claims.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertionSpec {
    #[serde(default)]
    pub aud: Option<Template>,
    /// Seconds from now to `exp` (default 300; negative: already expired).
    #[serde(default)]
    pub exp_in: Option<i64>,
    /// Seconds added to `iat` (negative: issued in the past).
    #[serde(default)]
    pub iat_offset: Option<i64>,
    #[serde(default)]
    pub kid: Option<Template>,
    #[serde(default)]
    pub jti: Option<Template>,
    /// Sign with RS256 instead of RS384.
    #[serde(default)]
    pub rs256: bool,
}

/// How to damage the bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tamper {
    /// Flip a bit of the signature.
    Signature,
    /// Change a claim, keep the signature.
    Payload,
    /// Header `alg: none`, no signature.
    AlgNone,
    /// Send the id token instead of the access token.
    IdToken,
}

/// `auth: {wss: ...}`: the UsernameToken a SOAP step carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WssSpec {
    /// The security number; default: the target's first user's.
    pub username: Option<Template>,
    /// The password or a LoginService token; default: the first user's.
    pub password: Option<Template>,
    /// Send PasswordDigest (Base64(SHA-1(nonce + created + password))).
    pub digest: bool,
    pub nonce: TokenPart,
    pub created: TokenPart,
    /// Another namespace for the `wsse` elements (negative tests).
    pub namespace: Option<Template>,
    /// Mark the Security header `mustUnderstand="1"`.
    pub must_understand: bool,
    /// Log in with `LoginService.login2` first and use the securityId and
    /// securityTokenKey it returns.
    pub login: Option<WssLogin>,
}

impl WssSpec {
    pub fn templates(&self) -> Vec<Template> {
        let mut out: Vec<Template> = [&self.username, &self.password, &self.namespace]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        for part in [&self.nonce, &self.created] {
            if let TokenPart::Fixed(t) = part {
                out.push(t.clone());
            }
        }
        if let Some(l) = &self.login {
            out.extend(l.username.iter().chain(l.password.iter()).cloned());
        }
        out
    }
}

/// A `Nonce` or `Created` of a UsernameToken.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum TokenPart {
    /// Sent with a digest, left out with a text password.
    #[default]
    Auto,
    /// Sent, freshly made for every request.
    On,
    Off,
    /// This exact value (a base64 nonce, an RFC 3339 instant).
    Fixed(Template),
    /// `Created` this many seconds from now (negative: in the past).
    OffsetSeconds(i64),
}

/// The login `LoginService.login2` is called with.
#[derive(Debug, Clone, PartialEq)]
pub struct WssLogin {
    /// Default: the target's first user's name and password.
    pub username: Option<Template>,
    pub password: Option<Template>,
}

pub const WSS_KEYS: &[&str] = &[
    "username",
    "password",
    "digest",
    "nonce",
    "created",
    "namespace",
    "must_understand",
    "login",
];

impl<'de> Deserialize<'de> for WssSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WssSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("WS-Security options: a map with `username`, `password`, `digest`, `nonce`, `created`, `login`, ...")
            }
            fn visit_unit<E: de::Error>(self) -> Result<WssSpec, E> {
                Ok(WssSpec::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WssSpec, A::Error> {
                let mut spec = WssSpec::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "username" => spec.username = Some(map.next_value()?),
                        "password" => spec.password = Some(map.next_value()?),
                        "digest" => spec.digest = map.next_value()?,
                        "nonce" => spec.nonce = map.next_value::<TokenPartDoc>()?.0,
                        "created" => spec.created = map.next_value::<TokenPartDoc>()?.0,
                        "namespace" => spec.namespace = Some(map.next_value()?),
                        "must_understand" => spec.must_understand = map.next_value()?,
                        "login" => spec.login = map.next_value::<WssLoginDoc>()?.0,
                        other => return Err(de::Error::unknown_field(other, WSS_KEYS)),
                    }
                }
                if spec.login.is_some() && (spec.username.is_some() || spec.password.is_some()) {
                    return Err(de::Error::custom(
                        "`login` obtains the username and password; do not give them too",
                    ));
                }
                if matches!(spec.nonce, TokenPart::OffsetSeconds(_)) {
                    return Err(de::Error::custom(
                        "`nonce` is `true`, `false` or a base64 value, not a number",
                    ));
                }
                Ok(spec)
            }
        }
        d.deserialize_any(V)
    }
}

struct TokenPartDoc(TokenPart);

impl<'de> Deserialize<'de> for TokenPartDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = TokenPartDoc;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`true`, `false`, a fixed value, or (for `created`) seconds from now")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<TokenPartDoc, E> {
                Ok(TokenPartDoc(if v { TokenPart::On } else { TokenPart::Off }))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TokenPartDoc, E> {
                Ok(TokenPartDoc(TokenPart::OffsetSeconds(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TokenPartDoc, E> {
                i64::try_from(v)
                    .map(|v| TokenPartDoc(TokenPart::OffsetSeconds(v)))
                    .map_err(|_| E::custom("too many seconds"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TokenPartDoc, E> {
                Template::parse(v)
                    .map(|t| TokenPartDoc(TokenPart::Fixed(t)))
                    .map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

struct WssLoginDoc(Option<WssLogin>);

impl<'de> Deserialize<'de> for WssLoginDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WssLoginDoc;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`true`, or a map with `username` and `password`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<WssLoginDoc, E> {
                Ok(WssLoginDoc(v.then_some(WssLogin {
                    username: None,
                    password: None,
                })))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WssLoginDoc, A::Error> {
                let mut login = WssLogin {
                    username: None,
                    password: None,
                };
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "username" => login.username = Some(map.next_value()?),
                        "password" => login.password = Some(map.next_value()?),
                        other => {
                            return Err(de::Error::unknown_field(other, &["username", "password"]))
                        }
                    }
                }
                Ok(WssLoginDoc(Some(login)))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for AuthSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AuthSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`none`, or a map naming one auth driver and its options")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AuthSpec, E> {
                match v {
                    "none" => Ok(AuthSpec::None),
                    "oauth1" => Ok(AuthSpec::OAuth1(Box::default())),
                    "session" => Ok(AuthSpec::Session(Default::default())),
                    "wss" => Ok(AuthSpec::Wss(Box::default())),
                    other => Err(E::unknown_variant(other, AUTH_DRIVERS)),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AuthSpec, A::Error> {
                let Some(driver) = map.next_key::<String>()? else {
                    return Err(de::Error::custom("an auth map names one driver"));
                };
                let spec = match driver.as_str() {
                    "none" => {
                        map.next_value::<de::IgnoredAny>()?;
                        AuthSpec::None
                    }
                    "oauth1" => AuthSpec::OAuth1(Box::new(
                        map.next_value::<super::auth_model::OAuth1Options>()?,
                    )),
                    "session" => AuthSpec::Session(map.next_value()?),
                    "oauth2" => AuthSpec::OAuth2(Box::new(map.next_value()?)),
                    "wss" => AuthSpec::Wss(Box::new(map.next_value()?)),
                    other => return Err(de::Error::unknown_variant(other, AUTH_DRIVERS)),
                };
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::custom("an auth map names exactly one driver"));
                }
                Ok(spec)
            }
        }
        d.deserialize_any(V)
    }
}

/// One step of a scenario.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub action: Action,
    /// Overrides the scenario's auth for this step.
    pub auth: Option<AuthSpec>,
    pub expect: Expect,
    pub capture: IndexMap<String, Capture>,
    pub snapshot: Option<SnapshotSpec>,
    /// Send the request this many times; every response must pass.
    pub repeat: u32,
    pub poll: Option<Poll>,
    /// In a `cleanup:` step: what stays on the target even when the step
    /// succeeds (a record the API can only deactivate), for the report.
    pub leaves: Option<Template>,
    /// In a file for several profiles: the profiles this step runs for
    /// (the others leave it out); `None` for all of them.
    pub profiles: Option<Profiles>,
    /// Run mutation families over the step's valid, authorized request
    /// instead of sending it once (`docs/scenarios.md`, `fuzz`).
    pub fuzz: Option<Box<crate::fuzz::FuzzSpec>>,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    Request(RequestSpec),
    Soap(SoapSpec),
}

pub const STEP_KEYS: &[&str] = &[
    "name", "request", "soap", "auth", "expect", "capture", "snapshot", "repeat", "poll", "leaves",
    "fuzz", "profile",
];

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Step;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a step: a map with `request` or `soap`, and optionally `expect`, `capture`, ...")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
                let mut name: Option<String> = None;
                let mut action: Option<Action> = None;
                let mut auth = None;
                let mut expect = None;
                let mut capture = None;
                let mut snapshot = None;
                let mut repeat = None;
                let mut poll = None;
                let mut leaves = None;
                let mut profiles = None;
                let mut fuzz: Option<crate::fuzz::FuzzSpec> = None;
                while let Some(key) = map.next_key::<String>()? {
                    let set_action = |action: &mut Option<Action>, a: Action| {
                        if action.is_some() {
                            return Err(de::Error::custom(format!(
                                "`{key}`: a step does exactly one thing; split it into two steps"
                            )));
                        }
                        *action = Some(a);
                        Ok(())
                    };
                    match key.as_str() {
                        "name" => name = Some(map.next_value()?),
                        "request" => set_action(&mut action, Action::Request(map.next_value()?))?,
                        "soap" => set_action(&mut action, Action::Soap(map.next_value()?))?,
                        "auth" => auth = Some(map.next_value()?),
                        "expect" => expect = Some(map.next_value()?),
                        "capture" => capture = Some(map.next_value()?),
                        "snapshot" => snapshot = Some(map.next_value()?),
                        "repeat" => repeat = Some(map.next_value()?),
                        "poll" => poll = Some(map.next_value()?),
                        "leaves" => leaves = Some(map.next_value()?),
                        "profile" => profiles = Some(map.next_value()?),
                        "fuzz" => fuzz = Some(map.next_value()?),
                        other => return Err(de::Error::unknown_field(other, STEP_KEYS)),
                    }
                }
                let action = action.ok_or_else(|| {
                    de::Error::custom("a step needs a `request` or a `soap` call")
                })?;
                let repeat: u32 = repeat.unwrap_or(1);
                if repeat == 0 {
                    return Err(de::Error::custom("`repeat` must be at least 1"));
                }
                let poll: Option<Poll> = poll;
                if poll.is_some() && repeat > 1 {
                    return Err(de::Error::custom("a step can `repeat` or `poll`, not both"));
                }
                if fuzz.is_some() {
                    crate::fuzz::FuzzSpec::check_step_keys(
                        repeat > 1,
                        poll.is_some(),
                        capture.is_some(),
                        snapshot.is_some(),
                    )
                    .map_err(de::Error::custom)?;
                }
                let name = name.unwrap_or_else(|| action.describe());
                Ok(Step {
                    name,
                    action,
                    auth,
                    expect: expect.unwrap_or_default(),
                    capture: capture.unwrap_or_default(),
                    snapshot,
                    repeat,
                    poll,
                    leaves,
                    profiles,
                    fuzz: fuzz.map(Box::new),
                })
            }
        }
        d.deserialize_map(V)
    }
}

impl Action {
    /// A one-line description, used as the default step name.
    pub fn describe(&self) -> String {
        match self {
            Action::Request(r) => format!("{} {}", r.method, r.path.as_str()),
            Action::Soap(s) => format!("SOAP {}.{}", s.service, s.operation),
        }
    }
}

/// A SOAP call: the operation's wrapped request element built from
/// `args`, posted to `{context}/ws/<service>`.
#[derive(Debug, Clone)]
pub struct SoapSpec {
    /// `DemographicService`.
    pub service: String,
    /// `getDemographic`.
    pub operation: String,
    /// Parameter name to value: scalars become text, maps child elements,
    /// lists repeated elements, `null` is left out. Strings are templates.
    pub args: IndexMap<String, Value>,
    /// The body's namespace; default: the target profile's.
    pub namespace: Option<Template>,
    /// Extra HTTP headers.
    pub headers: Params,
}

pub const SOAP_KEYS: &[&str] = &["service", "operation", "args", "namespace", "headers"];

impl<'de> Deserialize<'de> for SoapSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SoapSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a SOAP call: a map with `service`, `operation` and optionally `args`, `namespace`, `headers`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SoapSpec, A::Error> {
                let mut service: Option<String> = None;
                let mut operation: Option<String> = None;
                let mut args = IndexMap::new();
                let mut namespace = None;
                let mut headers = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "service" => service = Some(map.next_value()?),
                        "operation" => operation = Some(map.next_value()?),
                        "args" => {
                            let a: IndexMap<String, Json> = map.next_value()?;
                            let mut ts = Vec::new();
                            for v in a.values() {
                                super::template::json_templates(&v.0, &mut ts)
                                    .map_err(de::Error::custom)?;
                            }
                            args = a.into_iter().map(|(k, v)| (k, v.0)).collect();
                        }
                        "namespace" => namespace = Some(map.next_value()?),
                        "headers" => headers = Some(map.next_value()?),
                        other => return Err(de::Error::unknown_field(other, SOAP_KEYS)),
                    }
                }
                let service = service.ok_or_else(|| de::Error::missing_field("service"))?;
                let operation = operation.ok_or_else(|| de::Error::missing_field("operation"))?;
                let ident = |s: &str| {
                    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                };
                if !ident(&service) || !ident(&operation) {
                    return Err(de::Error::custom(format!(
                        "`{service}.{operation}`: a service and an operation are plain names"
                    )));
                }
                Ok(SoapSpec {
                    service,
                    operation,
                    args,
                    namespace,
                    headers: headers.unwrap_or_default(),
                })
            }
        }
        d.deserialize_map(V)
    }
}

/// An HTTP request.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub method: String,
    /// Path under the target's context (`/ws/rs/...`), or under the server
    /// root for the mock's own `/__admin/` API.
    pub path: Template,
    pub query: Params,
    pub headers: Params,
    pub body: Option<Body>,
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// Sent as `application/json`; strings inside are templates.
    Json(Value),
    /// Sent as `application/x-www-form-urlencoded`, in the order written.
    Form(Params),
    /// Sent as written; set `Content-Type` in `headers`.
    Raw(Template),
}

pub const REQUEST_KEYS: &[&str] = &["method", "path", "query", "headers", "json", "form", "body"];
const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

impl<'de> Deserialize<'de> for RequestSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RequestSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a request: a map with `path` and optionally `method`, `query`, `headers`, a body")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequestSpec, A::Error> {
                let mut method = None;
                let mut path = None;
                let mut query = None;
                let mut headers = None;
                let mut body: Option<Body> = None;
                while let Some(key) = map.next_key::<String>()? {
                    let b = match key.as_str() {
                        "method" => {
                            let m: String = map.next_value()?;
                            let m = m.to_ascii_uppercase();
                            if !METHODS.contains(&m.as_str()) {
                                return Err(de::Error::invalid_value(
                                    de::Unexpected::Str(&m),
                                    &"an HTTP method (GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS)",
                                ));
                            }
                            method = Some(m);
                            None
                        }
                        "path" => {
                            let t: Template = map.next_value()?;
                            if !t.as_str().starts_with('/') && !t.as_str().starts_with("{{") {
                                return Err(de::Error::custom(format!(
                                    "`path` must start with `/` (got `{}`)",
                                    t.as_str()
                                )));
                            }
                            path = Some(t);
                            None
                        }
                        "query" => {
                            query = Some(map.next_value()?);
                            None
                        }
                        "headers" => {
                            headers = Some(map.next_value()?);
                            None
                        }
                        "json" => {
                            let Json(v) = map.next_value()?;
                            let mut ts = Vec::new();
                            super::template::json_templates(&v, &mut ts)
                                .map_err(de::Error::custom)?;
                            Some(Body::Json(v))
                        }
                        "form" => Some(Body::Form(map.next_value()?)),
                        "body" => Some(Body::Raw(map.next_value()?)),
                        other => return Err(de::Error::unknown_field(other, REQUEST_KEYS)),
                    };
                    if let Some(b) = b {
                        if body.is_some() {
                            return Err(de::Error::custom(
                                "a request has at most one of `json`, `form`, `body`",
                            ));
                        }
                        body = Some(b);
                    }
                }
                Ok(RequestSpec {
                    method: method.unwrap_or_else(|| "GET".to_owned()),
                    path: path.ok_or_else(|| de::Error::missing_field("path"))?,
                    query: query.unwrap_or_default(),
                    headers: headers.unwrap_or_default(),
                    body,
                })
            }
        }
        d.deserialize_map(V)
    }
}

/// Name-value pairs in the order written; a list value repeats the name
/// (`id: [1, 2]` sends `id=1&id=2`).
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, Template)>);

impl<'de> Deserialize<'de> for Params {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Params;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of names to values (a list repeats the name)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<Scalar>()? {
                    let OneOrMany(values) = map.next_value()?;
                    for v in values {
                        out.push((key.0.clone(), v));
                    }
                }
                Ok(Params(out))
            }
        }
        d.deserialize_map(V)
    }
}

struct OneOrMany(Vec<Template>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Template::parse(v)
                    .map(|t| OneOrMany(vec![t]))
                    .map_err(E::custom)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![Template::literal(&v.to_string())]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![Template::literal(&v.to_string())]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![Template::literal(&v.to_string())]))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![Template::literal(&v.to_string())]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![Template::literal("")]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(t) = seq.next_element::<Template>()? {
                    out.push(t);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSONPath (RFC 9535), checked when the scenario loads.
#[derive(Clone)]
pub struct JsonPathExpr {
    pub source: String,
    pub path: serde_json_path::JsonPath,
    /// The path as names and indexes, when it is only those: its node can
    /// be picked out of a body without the whole tree. Shared: each pick
    /// keeps the paths it answers.
    pub singular: Option<Arc<crate::json::Singular>>,
}

impl fmt::Debug for JsonPathExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl JsonPathExpr {
    pub fn parse(s: &str) -> Result<JsonPathExpr, String> {
        serde_json_path::JsonPath::parse(s)
            .map(|path| JsonPathExpr {
                source: s.to_owned(),
                path,
                singular: crate::json::Singular::parse(s).map(Arc::new),
            })
            .map_err(|e| format!("invalid JSONPath `{s}`: {e}"))
    }

    /// The nodes the path selects, borrowed: a check of `$.data` with
    /// `length` must not copy the data.
    pub fn select<'v>(&self, v: &'v Value) -> Vec<&'v Value> {
        self.path.query(v).all()
    }
}

impl<'de> Deserialize<'de> for JsonPathExpr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        JsonPathExpr::parse(&s).map_err(de::Error::custom)
    }
}

impl std::hash::Hash for JsonPathExpr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.source.hash(state)
    }
}
impl PartialEq for JsonPathExpr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}
impl Eq for JsonPathExpr {}

/// What a response must look like. Every part is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub status: Option<StatusSpec>,
    /// Header name (any case) to matcher.
    #[serde(default)]
    pub headers: IndexMap<String, Matcher>,
    /// JSONPath to matcher, on the JSON body.
    #[serde(default)]
    pub json: IndexMap<JsonPathExpr, Matcher>,
    /// Matcher on the whole body as text.
    #[serde(default)]
    pub body: Option<Matcher>,
    /// XML path to matcher, on the XML body (values compare as text).
    #[serde(default)]
    pub xml: IndexMap<XmlPath, Matcher>,
    /// The SOAP fault the response must be.
    #[serde(default)]
    pub fault: Option<FaultSpec>,
    /// Validate the body against a schema: `openapi` (the OpenAPI document
    /// of the operation addressed) or `fhir` (FHIR R4 resource rules).
    #[serde(default)]
    pub schema: Option<crate::schema::SchemaKind>,
}

impl Expect {
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.headers.is_empty()
            && self.json.is_empty()
            && self.body.is_none()
            && self.xml.is_empty()
            && self.fault.is_none()
            && self.schema.is_none()
    }
}

impl<'de> Deserialize<'de> for XmlPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        XmlPath::parse(&s).map_err(de::Error::custom)
    }
}

/// `fault:`: a SOAP 1.1 fault with this code (a QName compared by
/// namespace: `wsse:FailedAuthentication`, `soap:Server`) and string.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub string: Option<Matcher>,
}

/// One status or a list of acceptable ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSpec(pub Vec<u16>);

impl<'de> Deserialize<'de> for StatusSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an HTTP status (100-599) or a list of them")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusSpec, E> {
                match u16::try_from(v) {
                    Ok(s) if (100..=599).contains(&s) => Ok(StatusSpec(vec![s])),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusSpec, E> {
                u64::try_from(v)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
                    .and_then(|u| self.visit_u64(u))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<StatusSpec, A::Error> {
                let mut out = Vec::new();
                while let Some(StatusSpec(s)) = seq.next_element()? {
                    out.extend(s);
                }
                if out.is_empty() {
                    return Err(de::Error::custom(
                        "an empty list of statuses accepts nothing",
                    ));
                }
                Ok(StatusSpec(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Where a captured value comes from.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    Json(JsonPathExpr),
    Xml(XmlPath),
    Header(String),
    Body,
    Status,
}

/// A variable taken from a response, optionally narrowed by a regex (its
/// first group if it has one, else the whole match).
#[derive(Debug, Clone)]
pub struct Capture {
    pub source: CaptureSource,
    pub regex: Option<Pattern>,
}

pub const CAPTURE_KEYS: &[&str] = &["json", "xml", "header", "body", "status", "regex"];

impl<'de> Deserialize<'de> for Capture {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Capture;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a capture: a map with one of `json`, `xml`, `header`, `body`, `status`, and optionally `regex`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Capture, A::Error> {
                let mut source = None;
                let mut regex = None;
                while let Some(key) = map.next_key::<String>()? {
                    let s = match key.as_str() {
                        "json" => CaptureSource::Json(map.next_value()?),
                        "xml" => CaptureSource::Xml(map.next_value()?),
                        "header" => {
                            CaptureSource::Header(map.next_value::<String>()?.to_ascii_lowercase())
                        }
                        "body" => {
                            let yes: bool = map.next_value()?;
                            if !yes {
                                return Err(de::Error::custom(
                                    "`body: false` captures nothing; remove it",
                                ));
                            }
                            CaptureSource::Body
                        }
                        "status" => {
                            let yes: bool = map.next_value()?;
                            if !yes {
                                return Err(de::Error::custom(
                                    "`status: false` captures nothing; remove it",
                                ));
                            }
                            CaptureSource::Status
                        }
                        "regex" => {
                            regex = Some(map.next_value()?);
                            continue;
                        }
                        other => return Err(de::Error::unknown_field(other, CAPTURE_KEYS)),
                    };
                    if source.is_some() {
                        return Err(de::Error::custom(
                            "a capture takes one source: `json`, `xml`, `header`, `body` or `status`",
                        ));
                    }
                    source = Some(s);
                }
                let source =
                    match (source, &regex) {
                        (Some(s), _) => s,
                        // A bare regex applies to the body.
                        (None, Some(_)) => CaptureSource::Body,
                        (None, None) => return Err(de::Error::custom(
                            "a capture needs a source: `json`, `xml`, `header`, `body` or `status`",
                        )),
                    };
                Ok(Capture { source, regex })
            }
        }
        d.deserialize_map(V)
    }
}

/// A snapshot of the response, compared with `snapshots/`.
#[derive(Debug, Clone)]
pub struct SnapshotSpec {
    pub name: String,
    /// Values replaced by `[redacted]`.
    pub redact: Vec<Redaction>,
}

/// A snapshot redaction: a JSONPath (`$...`) on JSON bodies, an XML path
/// on XML bodies.
#[derive(Debug, Clone, PartialEq)]
pub enum Redaction {
    Json(JsonPathExpr),
    Xml(XmlPath),
}

impl<'de> Deserialize<'de> for Redaction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.starts_with('$') {
            JsonPathExpr::parse(&s)
                .map(Redaction::Json)
                .map_err(de::Error::custom)
        } else {
            XmlPath::parse(&s)
                .map(Redaction::Xml)
                .map_err(de::Error::custom)
        }
    }
}

impl<'de> Deserialize<'de> for SnapshotSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SnapshotSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a snapshot name, or a map with `name` and `redact`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SnapshotSpec, E> {
                snapshot_name(v).map_err(E::custom)?;
                Ok(SnapshotSpec {
                    name: v.to_owned(),
                    redact: Vec::new(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SnapshotSpec, A::Error> {
                let mut name: Option<String> = None;
                let mut redact = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "name" => {
                            let n: String = map.next_value()?;
                            snapshot_name(&n).map_err(de::Error::custom)?;
                            name = Some(n);
                        }
                        "redact" => redact = map.next_value()?,
                        other => return Err(de::Error::unknown_field(other, &["name", "redact"])),
                    }
                }
                Ok(SnapshotSpec {
                    name: name.ok_or_else(|| de::Error::missing_field("name"))?,
                    redact,
                })
            }
        }
        d.deserialize_any(V)
    }
}

fn snapshot_name(n: &str) -> Result<(), String> {
    if !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        Ok(())
    } else {
        Err(format!(
            "snapshot name `{n}` must be letters, digits, `-`, `_` or `.` (it becomes a file name)"
        ))
    }
}

/// Re-send until the response satisfies `until`, at most `max_attempts`
/// times, waiting `interval_ms` between attempts; then apply `expect`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Poll {
    pub until: Expect,
    #[serde(default = "default_interval")]
    pub interval_ms: u64,
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
}

fn default_interval() -> u64 {
    250
}

fn default_attempts() -> u32 {
    20
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> OAuth2Spec {
        serde_yaml::from_str(yaml).unwrap()
    }

    /// How a token is sent (tampered, refreshed early) does not change
    /// which cached token a spec uses; what the token is for does.
    #[test]
    fn specs_share_a_token_only_when_they_ask_for_the_same_one() {
        let base = spec("{grant: authorization_code, scope: openid api:oemr}");
        let key = base.cache_key();
        for same in [
            "{grant: authorization_code, scope: openid api:oemr, tamper: signature}",
            "{grant: authorization_code, scope: openid api:oemr, refresh_after: 5}",
        ] {
            assert_eq!(spec(same).cache_key(), key, "{same}");
        }
        for other in [
            "{grant: authorization_code, scope: openid api:fhir}",
            "{grant: authorization_code, scope: openid api:oemr, site: other}",
            "{grant: authorization_code, scope: openid api:oemr, role: patient}",
            "{grant: password, scope: openid api:oemr}",
            "{grant: authorization_code, scope: openid api:oemr, exchange: false}",
        ] {
            assert_ne!(spec(other).cache_key(), key, "{other}");
        }
        // A clone is made to be changed: it does not keep the key.
        let mut changed = base.clone();
        changed.scope = Template::literal("openid api:fhir");
        assert_ne!(changed.cache_key(), key);
    }
}
