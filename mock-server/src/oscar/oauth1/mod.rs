//! OSCAR's OAuth 1.0a provider: the REST clients registered on the admin
//! screen, request and access tokens, and the nonces seen, per site.
//!
//! Two implementations are reproduced. OSCAR 19 and Juno ("classic") run
//! CXF's OAuth 1.0 module over net.oauth; Open-O replaced it with
//! hand-written code that has different endpoints, error bodies and
//! documented bugs (listed as `quirks` in `catalog/data/profiles.yaml`).
//! [`endpoints`] serves the protocol, [`resource`] authenticates resource
//! calls; both read parameters through [`params`] and check signatures
//! with [`signature`].

pub mod admin;
pub mod endpoints;
mod page;
pub mod params;
pub mod resource;
pub mod signature;
#[cfg(test)]
mod tests;
pub mod verify;

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, RandomState};

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use emr_catalog::Profile;
use parking_lot::Mutex;
use serde::Serialize;

use crate::rng::{SeededRng, LOWER_ALNUM};

/// Which OAuth implementation a profile runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// OSCAR 19: CXF's module, access tokens live as long as the client's TTL.
    Oscar19,
    /// Juno: CXF's module, access tokens live 3600 s whatever the client says,
    /// resources under `/ws/services/v1`.
    Juno,
    /// Open-O: hand-written OAuth.
    OpenO,
}

impl Flavor {
    pub fn of(profile: &Profile) -> Flavor {
        match profile.variant.as_str() {
            "juno" => Flavor::Juno,
            "open-o" => Flavor::OpenO,
            _ => Flavor::Oscar19,
        }
    }

    /// OSCAR 19 and Juno share CXF's code path.
    pub fn is_classic(self) -> bool {
        self != Flavor::OpenO
    }

    /// Where the OAuth-protected resources are mounted.
    pub fn resource_prefix(self) -> &'static str {
        match self {
            Flavor::Juno => "/ws/services/v1",
            _ => "/ws/services",
        }
    }

    /// The lifetime stored on a new access token: the client's TTL in
    /// OSCAR 19, 3600 s in Juno (`OscarOAuthDataProvider`), and 3600 s in
    /// Open-O too, where it is never checked.
    pub fn access_lifetime(self, client: &Client) -> i64 {
        match self {
            Flavor::Oscar19 => client.lifetime,
            Flavor::Juno | Flavor::OpenO => 3600,
        }
    }
}

/// The Open-O behaviours reproduced on purpose, by the id
/// `profiles.yaml` gives them. A test checks that the profile declares
/// exactly these, so the data and the code cannot drift apart.
pub const OPEN_O_QUIRKS: &[&str] = &[
    "oauth1-cancel-approves",
    "oauth1-callback-not-validated",
    "oauth1-hmac-sha1-only",
    "oauth1-no-nonce-check",
    "oauth1-access-tokens-never-expire",
    "oauth1-plus-not-space-in-query",
    "oauth1-query-counted-twice-in-form-posts",
    "oauth1-header-values-decoded-twice",
    "oauth1-query-decoded-as-latin1",
    "oauth1-resource-errors-are-500-xmlfault",
    "oauth1-initiate-errors-are-500-pages",
    "oauth1-session-accepted-on-services",
    "oauth1-token-not-bound-to-consumer",
];

/// An OAuth problem as net.oauth names it (`OAuth.Problems`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("parameter_absent: {0}")]
    ParameterAbsent(String),
    #[error("parameter_rejected: {0}")]
    ParameterRejected(String),
    #[error("timestamp_refused")]
    TimestampRefused,
    #[error("version_rejected")]
    VersionRejected,
    #[error("signature_method_rejected")]
    SignatureMethodRejected,
    #[error("signature_invalid")]
    SignatureInvalid,
    #[error("nonce_used")]
    NonceUsed,
    #[error("token_rejected")]
    TokenRejected,
    #[error("token_expired")]
    TokenExpired,
    #[error("consumer_key_unknown")]
    ConsumerKeyUnknown,
    #[error("verifier_invalid")]
    VerifierInvalid,
    /// Anything else the handler threw: CXF's generic catch answers 500.
    #[error("{0}")]
    Unexpected(String),
}

impl Problem {
    /// net.oauth's problem-to-status table, as CXF's handlers apply it.
    pub fn status(&self) -> StatusCode {
        match self {
            Problem::ParameterAbsent(_)
            | Problem::ParameterRejected(_)
            | Problem::TimestampRefused
            | Problem::VersionRejected
            | Problem::SignatureMethodRejected
            | Problem::VerifierInvalid => StatusCode::BAD_REQUEST,
            Problem::SignatureInvalid
            | Problem::NonceUsed
            | Problem::TokenRejected
            | Problem::TokenExpired
            | Problem::ConsumerKeyUnknown => StatusCode::UNAUTHORIZED,
            Problem::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A REST client (`ServiceClient`).
#[derive(Debug, Clone, Serialize)]
pub struct Client {
    pub id: i64,
    pub name: String,
    pub key: String,
    pub secret: String,
    /// The application URI; classic callbacks must start with it.
    pub uri: String,
    /// Token TTL in seconds: -1 never expires, 0 expires at once.
    pub lifetime: i64,
    pub created: DateTime<Utc>,
}

impl Client {
    /// The callback a client of this registration would use.
    pub fn callback(&self) -> String {
        format!("{}oauth/callback", with_slash(&self.uri))
    }
}

fn with_slash(uri: &str) -> String {
    if uri.ends_with('/') {
        uri.to_owned()
    } else {
        format!("{uri}/")
    }
}

/// Temporary credentials (`ServiceRequestToken`).
#[derive(Debug, Clone, Serialize)]
pub struct RequestToken {
    pub client_key: String,
    pub token: String,
    #[serde(skip)]
    pub secret: String,
    pub callback: Option<String>,
    #[serde(skip)]
    pub verifier: Option<String>,
    pub provider_no: Option<String>,
    pub scopes: Vec<String>,
    pub created: DateTime<Utc>,
}

/// Token credentials (`ServiceAccessToken`).
#[derive(Debug, Clone, Serialize)]
pub struct AccessToken {
    pub client_key: String,
    pub token: String,
    #[serde(skip)]
    pub secret: String,
    /// Seconds; -1 never expires.
    pub lifetime: i64,
    /// Epoch seconds.
    pub issued: i64,
    pub provider_no: Option<String>,
    pub scopes: Vec<String>,
}

impl AccessToken {
    /// CXF `DefaultOAuthValidator.validateToken`:
    /// `lifetime != -1 && issued + lifetime < now`.
    pub fn expired_at(&self, now: i64) -> bool {
        self.lifetime != -1 && self.issued.saturating_add(self.lifetime) < now
    }
}

/// Request tokens live one hour (`OscarOAuthDataProvider.getRequestToken`).
pub const REQUEST_TOKEN_LIFETIME: Duration = Duration::hours(1);
/// The timestamp window of both implementations, in seconds.
pub const TIMESTAMP_WINDOW_SECONDS: i64 = 300;

/// Which validator instance saw a nonce: CXF gives each handler (and the
/// resource filter) its own `SimpleOAuthValidator`, each with its own
/// memory of nonces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    Initiate = 0,
    Token = 1,
    Resource = 2,
}

/// net.oauth's `UsedNonce` (timestamp, nonce, consumer key, token):
/// the timestamp first, so old ones prune cheaply, then a 128-bit keyed
/// fingerprint of the three strings. Two different nonces share one with
/// a chance of about 2^-128 per pair, and the keys are random per process,
/// so no client can aim for a collision; in exchange a nonce is checked
/// and kept without copying its strings or comparing them.
type NonceKey = (i64, u128);

/// The keys of the nonce fingerprints.
#[derive(Debug, Default)]
struct NonceHasher([RandomState; 2]);

impl NonceHasher {
    fn fingerprint(&self, nonce: &str, consumer_key: &str, token: &str) -> u128 {
        // A tuple hashes each string with its terminator, so the three
        // fields cannot run into one another.
        let [a, b] = &self.0;
        let parts = (nonce, consumer_key, token);
        (u128::from(a.hash_one(parts)) << 64) | u128::from(b.hash_one(parts))
    }
}

// Bounds, so a flood of requests cannot grow the state without limit.
const MAX_REQUEST_TOKENS: usize = 10_000;
const MAX_ACCESS_TOKENS: usize = 50_000;
const MAX_NONCES: usize = 50_000;

/// The seeded REST clients (documented in the README). Their keys are
/// the ones of Open-O's public Postman collection, so that collection
/// runs against the mock unchanged.
const SEEDED_CLIENTS: &[(&str, &str, &str, &str, i64)] = &[
    (
        "Online Booking",
        "ungjtgcxdxelvkcl",
        "1qf6c1m4n4tgs446",
        "https://example.com/",
        -1,
    ),
    (
        "Reminder Sync",
        "o7dpozovimpykxg0",
        "roevyq92ys2hqed8",
        "https://reminders.example.com/",
        60,
    ),
];

#[derive(Debug, Default)]
struct Inner {
    clients: Vec<Client>,
    next_client_id: i64,
    request_tokens: HashMap<String, RequestToken>,
    access_tokens: HashMap<String, AccessToken>,
    nonces: [BTreeSet<NonceKey>; 3],
    nonce_hasher: NonceHasher,
}

/// One site's OAuth state.
#[derive(Debug, Default)]
pub struct Provider {
    inner: Mutex<Inner>,
}

impl Provider {
    /// A provider with the seeded clients.
    pub fn new(now: DateTime<Utc>) -> Provider {
        let p = Provider::default();
        p.reset(now);
        p
    }

    /// Back to the seeded clients, with no tokens and no nonces.
    pub fn reset(&self, now: DateTime<Utc>) {
        let mut inner = self.inner.lock();
        *inner = Inner::default();
        for (name, key, secret, uri, lifetime) in SEEDED_CLIENTS {
            inner.next_client_id += 1;
            let id = inner.next_client_id;
            inner.clients.push(Client {
                id,
                name: (*name).to_owned(),
                key: (*key).to_owned(),
                secret: (*secret).to_owned(),
                uri: (*uri).to_owned(),
                lifetime: *lifetime,
                created: now,
            });
        }
    }

    pub fn clients(&self) -> Vec<Client> {
        self.inner.lock().clients.clone()
    }

    pub fn client(&self, key: &str) -> Option<Client> {
        self.inner
            .lock()
            .clients
            .iter()
            .find(|c| c.key == key)
            .cloned()
    }

    /// "Add client" on Admin > Integration > REST Clients: a 16-character
    /// `[0-9a-z]` key and secret.
    pub fn register(
        &self,
        name: &str,
        uri: &str,
        lifetime: i64,
        rng: &SeededRng,
        now: DateTime<Utc>,
    ) -> Client {
        let mut inner = self.inner.lock();
        inner.next_client_id += 1;
        let client = Client {
            id: inner.next_client_id,
            name: name.to_owned(),
            key: rng.string(16, LOWER_ALNUM),
            secret: rng.string(16, LOWER_ALNUM),
            uri: uri.to_owned(),
            lifetime,
            created: now,
        };
        inner.clients.push(client.clone());
        client
    }

    /// Deletes a client and the tokens issued to it; false if unknown.
    pub fn delete_client(&self, key: &str) -> bool {
        let mut inner = self.inner.lock();
        let before = inner.clients.len();
        inner.clients.retain(|c| c.key != key);
        if inner.clients.len() == before {
            return false;
        }
        inner.request_tokens.retain(|_, t| t.client_key != key);
        inner.access_tokens.retain(|_, t| t.client_key != key);
        true
    }

    /// Stores new temporary credentials (UUID token and secret).
    pub fn create_request_token(
        &self,
        client_key: &str,
        callback: Option<String>,
        scopes: Vec<String>,
        rng: &SeededRng,
        now: DateTime<Utc>,
    ) -> RequestToken {
        let token = RequestToken {
            client_key: client_key.to_owned(),
            token: rng.uuid(),
            secret: rng.uuid(),
            callback,
            verifier: None,
            provider_no: None,
            scopes,
            created: now,
        };
        let mut inner = self.inner.lock();
        if inner.request_tokens.len() >= MAX_REQUEST_TOKENS {
            inner
                .request_tokens
                .retain(|_, t| t.created + REQUEST_TOKEN_LIFETIME >= now);
            if inner.request_tokens.len() >= MAX_REQUEST_TOKENS {
                let oldest = inner
                    .request_tokens
                    .values()
                    .min_by_key(|t| t.created)
                    .map(|t| t.token.clone());
                if let Some(o) = oldest {
                    inner.request_tokens.remove(&o);
                }
            }
        }
        inner
            .request_tokens
            .insert(token.token.clone(), token.clone());
        token
    }

    /// A request token, unless it is unknown or older than an hour (an
    /// expired one is deleted, as `OscarOAuthDataProvider` does).
    pub fn request_token(&self, token: &str, now: DateTime<Utc>) -> Option<RequestToken> {
        let mut inner = self.inner.lock();
        let t = inner.request_tokens.get(token)?;
        if t.created + REQUEST_TOKEN_LIFETIME < now {
            inner.request_tokens.remove(token);
            return None;
        }
        Some(t.clone())
    }

    pub fn update_request_token(&self, token: &str, f: impl FnOnce(&mut RequestToken)) {
        if let Some(t) = self.inner.lock().request_tokens.get_mut(token) {
            f(t);
        }
    }

    pub fn remove_request_token(&self, token: &str) {
        self.inner.lock().request_tokens.remove(token);
    }

    /// Exchanges a request token for an access token that inherits its
    /// provider and scopes; the request token is deleted, so its verifier
    /// works once.
    pub fn exchange(
        &self,
        request_token: &str,
        lifetime: i64,
        rng: &SeededRng,
        now: DateTime<Utc>,
    ) -> Option<AccessToken> {
        let mut inner = self.inner.lock();
        let rt = inner.request_tokens.remove(request_token)?;
        let at = AccessToken {
            client_key: rt.client_key,
            token: rng.uuid(),
            secret: rng.uuid(),
            lifetime,
            issued: now.timestamp(),
            provider_no: rt.provider_no,
            scopes: rt.scopes,
        };
        if inner.access_tokens.len() >= MAX_ACCESS_TOKENS {
            let oldest = inner
                .access_tokens
                .values()
                .min_by_key(|t| t.issued)
                .map(|t| t.token.clone());
            if let Some(o) = oldest {
                inner.access_tokens.remove(&o);
            }
        }
        inner.access_tokens.insert(at.token.clone(), at.clone());
        Some(at)
    }

    pub fn access_token(&self, token: &str) -> Option<AccessToken> {
        self.inner.lock().access_tokens.get(token).cloned()
    }

    pub fn remove_access_token(&self, token: &str) {
        self.inner.lock().access_tokens.remove(token);
    }

    /// Records a nonce for a validator; false if that validator has seen
    /// the same timestamp, nonce, consumer key and token before. Nonces
    /// older than the timestamp window are forgotten, as net.oauth does
    /// (their requests fail the timestamp check anyway).
    pub fn record_nonce(
        &self,
        validator: Validator,
        timestamp: i64,
        nonce: &str,
        consumer_key: &str,
        token: &str,
        now: i64,
    ) -> bool {
        let mut inner = self.inner.lock();
        let key = (
            timestamp,
            inner.nonce_hasher.fingerprint(nonce, consumer_key, token),
        );
        let set = &mut inner.nonces[validator as usize];
        if set.contains(&key) {
            return false;
        }
        // The set is ordered by timestamp first: the stale ones are at its
        // front, so forgetting them costs nothing when there are none.
        let floor = now - TIMESTAMP_WINDOW_SECONDS - 1;
        while set.first().is_some_and(|(t, ..)| *t < floor) {
            set.pop_first();
        }
        if set.len() >= MAX_NONCES {
            set.pop_first();
        }
        set.insert(key);
        true
    }

    /// The tokens, for the admin API (secrets left out).
    pub fn tokens(&self) -> (Vec<RequestToken>, Vec<AccessToken>) {
        let inner = self.inner.lock();
        let mut rt: Vec<RequestToken> = inner.request_tokens.values().cloned().collect();
        rt.sort_by(|a, b| a.created.cmp(&b.created).then(a.token.cmp(&b.token)));
        let mut at: Vec<AccessToken> = inner.access_tokens.values().cloned().collect();
        at.sort_by(|a, b| a.issued.cmp(&b.issued).then(a.token.cmp(&b.token)));
        (rt, at)
    }
}

/// `scope` split on whitespace, empties dropped.
pub fn split_scopes(scope: Option<&str>) -> Vec<String> {
    scope
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}
