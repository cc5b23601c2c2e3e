//! The authorization server's state of one site: clients, browser
//! sessions, codes, tokens, trusted users and settings.

use std::collections::{BTreeMap, HashMap, HashSet};

use emr_catalog::{Catalog, ProfileId};
use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::super::jwt::{self, Alg, Jwt};
use super::super::keys::{self, KeyPair};
use super::super::layout::Layout;
use super::super::scopes::{Context, KnownScopes};
use crate::rng::format_uuid;

/// Who a token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An OpenEMR user (staff).
    Users,
    /// A portal patient.
    Patient,
    /// The system user of client-credentials tokens.
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Users => "users",
            Role::Patient => "patient",
            Role::System => "system",
        }
    }

    /// The SMART scope context of the role's requests.
    pub fn context(self) -> Context {
        match self {
            Role::Users => Context::User,
            Role::Patient => Context::Patient,
            Role::System => Context::System,
        }
    }
}

/// A registered client.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    /// Empty for public apps.
    pub secret: String,
    pub name: String,
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub contacts: Vec<String>,
    pub scopes: Vec<String>,
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<String>,
    pub enabled: bool,
    pub registration_access_token: String,
    /// The random last segment of `registration_client_uri`.
    pub registration_path: String,
    pub issued_at: i64,
    /// The registration response's echoed metadata.
    pub metadata: serde_json::Map<String, Value>,
    pub dsi_type: Option<Value>,
}

impl Client {
    /// `user` for confidential apps, `patient` for public ones.
    pub fn role(&self) -> &'static str {
        if self.confidential {
            "user"
        } else {
            "patient"
        }
    }

    /// Whether the client may use `grant`; a client of a grant that issues
    /// refresh tokens may refresh them.
    pub fn allows_grant(&self, grant: &str) -> bool {
        let listed = |g: &str| self.grant_types.iter().any(|x| x == g);
        listed(grant)
            || (grant == "refresh_token" && (listed("authorization_code") || listed("password")))
    }
}

/// The user a browser session or a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedIn {
    pub role: Role,
    /// User, patient or system-user UUID: the token `sub`.
    pub uuid: String,
    pub username: String,
    /// The patient's `pid` (patient role).
    pub pid: Option<crate::store::Id>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// An `/authorize` request kept in the browser session.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client_id: String,
    /// As sent (it must be repeated at the token endpoint); the URI the
    /// code goes to is `redirect_to`.
    pub redirect_uri: Option<String>,
    pub redirect_to: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
}

/// A browser session (the `authserverOpenEMR` cookie).
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub csrf: String,
    pub request: Option<AuthorizeRequest>,
    pub user: Option<LoggedIn>,
    /// Patient picked for `launch/patient` (a patient UUID).
    pub patient: Option<String>,
}

/// An authorization code.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub scopes: Vec<String>,
    pub user: LoggedIn,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub patient: Option<String>,
    pub expires: i64,
    pub used: bool,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct AccessRecord {
    pub client_id: String,
    pub user: LoggedIn,
    pub scopes: Vec<String>,
    pub patient: Option<String>,
    pub issued: i64,
    pub expires: i64,
    pub revoked: bool,
}

/// An issued refresh token.
#[derive(Debug, Clone)]
pub struct RefreshRecord {
    pub id: String,
    pub access_jti: String,
    pub client_id: String,
    pub user: LoggedIn,
    pub scopes: Vec<String>,
    pub patient: Option<String>,
    pub nonce: Option<String>,
    pub issued: i64,
    pub expires: i64,
    pub revoked: bool,
}

/// `oauth_trusted_user` rows: `(client_id, user uuid)`.
pub type TrustedKey = (String, String);

/// Per-site switches an administrator sets (OpenEMR globals); both off by
/// default, as in OpenEMR.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Settings {
    /// `oauth_password_grant`, off by default.
    pub password_grant: bool,
    /// `oauth_app_manual_approval`: every new client starts disabled.
    pub app_manual_approval: bool,
    /// The mock's bulk-export job duration (mock clock seconds): the
    /// status answers 202 until it has passed. 0, as OpenEMR exports
    /// synchronously within the kick-off.
    pub export_delay_seconds: u64,
}

/// Everything that changes, behind one lock.
#[derive(Debug)]
pub struct AuthData {
    pub settings: Settings,
    pub clients: BTreeMap<String, Client>,
    pub sessions: HashMap<String, Session>,
    pub codes: HashMap<String, CodeGrant>,
    pub access: HashMap<String, AccessRecord>,
    pub refresh: HashMap<String, RefreshRecord>,
    /// Trusted users and the nonce of their login (logout compares it).
    pub trusted: HashMap<TrustedKey, Option<String>>,
    /// `jti`s of client assertions already used.
    pub assertion_jtis: HashSet<String>,
    pub rng: ChaCha8Rng,
    pub system_user: String,
}

impl AuthData {
    fn new(rng: ChaCha8Rng, system_user: String) -> AuthData {
        AuthData {
            settings: Settings::default(),
            clients: BTreeMap::new(),
            sessions: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            trusted: HashMap::new(),
            assertion_jtis: HashSet::new(),
            rng,
            system_user,
        }
    }

    /// `len` URL-safe characters, like OpenEMR's base64url secrets.
    pub fn token(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| {
                crate::rng::URL_SAFE[self.rng.gen_range(0..crate::rng::URL_SAFE.len())] as char
            })
            .collect()
    }

    pub fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| b"0123456789abcdef"[self.rng.gen_range(0..16)] as char)
            .collect()
    }

    pub fn uuid(&mut self) -> String {
        format_uuid(self.rng.gen())
    }
}

/// One site's authorization server.
#[derive(Debug)]
pub struct SiteAuth {
    pub profile: ProfileId,
    pub layout: Layout,
    pub site: String,
    pub server_key: &'static KeyPair,
    pub client_key: &'static KeyPair,
    pub known: KnownScopes,
    data: Mutex<AuthData>,
    /// Access tokens whose RS256 signature verified with `server_key`,
    /// with the claims the checks read. Both are pure functions of the
    /// token's bytes and the key, so a token presented again skips the
    /// RSA exponentiation and the base64/JSON decoding (most of a
    /// request's time); a changed byte is a different token and is
    /// verified in full. Every other check (times, the record, revocation,
    /// logout) runs on every request.
    verified: Mutex<HashMap<Box<str>, Verified, foldhash::fast::RandomState>>,
}

/// The claims of a verified access token that every request checks.
#[derive(Debug, Clone)]
struct Verified {
    exp: i64,
    nbf: Option<i64>,
    jti: String,
}

/// Verified signatures remembered at most (then forgotten at once).
const MAX_VERIFIED: usize = 10_000;

pub const SEEDED_REDIRECT: &str = "https://client.example.org/callback";
pub const SEEDED_LOGOUT_REDIRECT: &str = "https://client.example.org/logout/callback";

impl SiteAuth {
    pub fn new(profile: ProfileId, site: &str, seed: u64) -> SiteAuth {
        let (server_key, client_key) = keys::of(profile.as_str(), site);
        let layout = Layout::of(profile);
        let known = KnownScopes::of(&Catalog::of(profile), layout.extra_scope_resources());
        let auth = SiteAuth {
            profile,
            layout,
            site: site.to_owned(),
            server_key,
            client_key,
            known,
            verified: Mutex::new(HashMap::default()),
            data: Mutex::new(AuthData::new(
                ChaCha8Rng::seed_from_u64(seed),
                String::new(),
            )),
        };
        auth.reset(seed);
        auth
    }

    /// Back to the seeded clients and default settings, no tokens.
    pub fn reset(&self, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0A07_4420);
        let system_user = format_uuid(rng.gen());
        let mut d = self.data.lock();
        *d = AuthData::new(rng, system_user);
        for c in seed_clients(self, &mut d) {
            d.clients.insert(c.id.clone(), c);
        }
    }

    /// The system user of client-credentials tokens.
    pub fn system_user(&self) -> String {
        self.data.lock().system_user.clone()
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut AuthData) -> R) -> R {
        f(&mut self.data.lock())
    }

    pub fn settings(&self) -> Settings {
        self.data.lock().settings
    }

    /// The seeded clients, in credentials order.
    pub fn seeded(&self) -> Vec<Client> {
        let d = self.data.lock();
        d.clients
            .values()
            .filter(|c| c.metadata.contains_key("x-seeded"))
            .cloned()
            .collect()
    }

    /// The kid of the seeded JWKS client's key.
    pub fn client_kid(&self) -> String {
        format!("{}-{}-client-1", self.profile.as_str(), self.site)
    }

    /// Signs the server's tokens (RS256, no `kid`: the JWKS has none).
    pub fn sign(&self, claims: &Value) -> Option<String> {
        jwt::sign(Alg::RS256, self.server_key, &[], claims).ok()
    }

    /// Checks a bearer token as `BearerTokenAuthorizationStrategy` does:
    /// the signature and times, then the database record.
    pub fn check_access_token(&self, token: &str, now: i64) -> TokenCheck {
        let known = self.verified.lock().get(token).cloned();
        let claims = match known {
            Some(c) => c,
            None => {
                let Ok(jwt) = Jwt::parse(token) else {
                    return TokenCheck::Invalid;
                };
                if jwt
                    .verify(Alg::RS256, &self.server_key.n, &self.server_key.e)
                    .is_err()
                {
                    return TokenCheck::Invalid;
                }
                let (Some(exp), Some(jti)) = (jwt.claim_i64("exp"), jwt.claim_str("jti")) else {
                    return TokenCheck::Invalid;
                };
                let c = Verified {
                    exp,
                    nbf: jwt.claim_i64("nbf"),
                    jti: jti.to_owned(),
                };
                let mut verified = self.verified.lock();
                if verified.len() >= MAX_VERIFIED {
                    verified.clear();
                }
                verified.insert(token.into(), c.clone());
                c
            }
        };
        let Verified { exp, nbf, ref jti } = claims;
        if exp <= now || nbf.is_some_and(|nbf| nbf > now) {
            return TokenCheck::Invalid;
        }
        let d = self.data.lock();
        let Some(rec) = d.access.get(jti.as_str()) else {
            return TokenCheck::Revoked;
        };
        if rec.revoked {
            return TokenCheck::Revoked;
        }
        if !d
            .trusted
            .contains_key(&(rec.client_id.clone(), rec.user.uuid.clone()))
        {
            return TokenCheck::LoggedOut;
        }
        if rec.expires <= now {
            return TokenCheck::Expired;
        }
        TokenCheck::Valid(Box::new(rec.clone()))
    }
}

/// The outcome of checking a bearer token.
#[derive(Debug, Clone)]
pub enum TokenCheck {
    Valid(Box<AccessRecord>),
    /// Malformed, badly signed, expired or not yet valid.
    Invalid,
    Revoked,
    /// The user logged out (no trusted-user row).
    LoggedOut,
    /// The database expiry check failed.
    Expired,
}

/// The seeded clients: a confidential app (user and patient scopes, secret
/// by HTTP Basic or `client_secret_post`, password grant allowed), a public
/// patient app (PKCE), and a backend service with a JWKS (client
/// credentials). They are enabled, as an administrator would have
/// approved them.
fn seed_clients(auth: &SiteAuth, d: &mut AuthData) -> Vec<Client> {
    let mut user_scopes: Vec<String> = [
        "openid",
        "fhirUser",
        "online_access",
        "offline_access",
        "launch",
        "launch/patient",
        "api:oemr",
        "api:fhir",
        "api:port",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut patient_scopes: Vec<String> = [
        "openid",
        "fhirUser",
        "online_access",
        "offline_access",
        "launch/patient",
        "api:fhir",
        "api:port",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut system_scopes: Vec<String> = Vec::new();
    for (context, resource) in auth.known.pairs() {
        let forms = ["read", "write", "rs", "cruds"];
        match context {
            Context::User => {
                for f in forms {
                    user_scopes.push(format!("user/{resource}.{f}"));
                }
            }
            Context::Patient => {
                for f in forms {
                    let s = format!("patient/{resource}.{f}");
                    user_scopes.push(s.clone());
                    patient_scopes.push(s);
                }
            }
            Context::System => {
                system_scopes.push(format!("system/{resource}.read"));
                system_scopes.push(format!("system/{resource}.rs"));
            }
        }
    }
    for (context, resource, op) in auth.known.operations() {
        let s = format!("{}/{resource}.{op}", context.as_str());
        match context {
            Context::User => user_scopes.push(s),
            Context::Patient => {
                user_scopes.push(s.clone());
                patient_scopes.push(s);
            }
            Context::System => system_scopes.push(s),
        }
    }
    if !system_scopes.iter().any(|s| s == "system/*.$export") {
        system_scopes.push("system/*.$export".into());
    }
    if !system_scopes
        .iter()
        .any(|s| s == "system/*.$bulkdata-status")
    {
        system_scopes.push("system/*.$bulkdata-status".into());
    }
    let now = 1_700_000_000;
    let mut client = |name: &str,
                      confidential: bool,
                      method: &str,
                      scopes: Vec<String>,
                      grants: &[&str],
                      jwks: Option<Value>| {
        let id = d.token(43);
        let secret = if confidential {
            d.token(86)
        } else {
            String::new()
        };
        let mut metadata = serde_json::Map::new();
        metadata.insert("x-seeded".into(), Value::Bool(true));
        Client {
            id,
            secret,
            name: name.to_owned(),
            confidential,
            redirect_uris: vec![SEEDED_REDIRECT.to_owned()],
            post_logout_redirect_uris: vec![SEEDED_LOGOUT_REDIRECT.to_owned()],
            contacts: vec!["conformance@example.org".to_owned()],
            scopes,
            jwks,
            jwks_uri: None,
            token_endpoint_auth_method: method.to_owned(),
            grant_types: grants.iter().map(|g| (*g).to_owned()).collect(),
            enabled: true,
            registration_access_token: d.token(43),
            registration_path: d.token(22),
            issued_at: now,
            metadata,
            dsi_type: None,
        }
    };
    let jwks = json!({"keys": [auth.client_key.jwk(&[
        ("kid", auth.client_kid().as_str()),
        ("alg", "RS384"),
        ("use", "sig"),
    ])]});
    vec![
        client(
            "Conformance Confidential App",
            true,
            "client_secret_post",
            user_scopes,
            &["authorization_code", "refresh_token", "password"],
            None,
        ),
        client(
            "Conformance Patient App",
            false,
            "none",
            patient_scopes,
            &["authorization_code", "refresh_token", "password"],
            None,
        ),
        client(
            "Conformance Backend Service",
            true,
            "private_key_jwt",
            system_scopes,
            &["client_credentials"],
            Some(jwks),
        ),
    ]
}
