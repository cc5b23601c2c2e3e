//! Mutation cases per second, per family, in process: each case is a
//! mutant of a valid authenticated request, sent through the mock's
//! router (no socket), whose answer must be a refusal. Every 16th case is
//! the valid request itself, which must still pass.
//!
//! `cargo bench --bench fuzz [-- --seconds S]`
//!
//! A [`Family`] is all the rate needs: a name, a way to make case `i`,
//! and what a refusal looks like. The fuzz step's mutation families
//! (issue 7) plug in by implementing it; the ones here cover what the
//! mock checks today: the OAuth 1.0a verifier (OSCAR 19), OAuth2 bearer
//! JWTs (OpenEMR) and WS-Security UsernameTokens (OSCAR SOAP).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use emr_catalog::ProfileId;
use emr_conformance::bench::cases::{approved_oauth1_token, OAuth1Token};
use emr_harness::auth::oauth1::{self, Credentials, Signing};
use emr_harness::transport::HttpRequest;
use emr_mock::{AppState, MockConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tower::ServiceExt;

const HOST: &str = "127.0.0.1:8080";

/// A request as the families build it.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// What came back.
struct Resp {
    status: u16,
    body: Vec<u8>,
}

/// One mutation family.
trait Family {
    fn name(&self) -> &'static str;
    /// Case `i`: a mutant, or (when `valid`) the valid request.
    fn case(&mut self, state: &AppState, i: u64, valid: bool, rng: &mut ChaCha8Rng) -> Req;
    /// Whether the mock refused the way the profile says.
    fn refused(&self, r: &Resp) -> bool;
    fn accepted(&self, r: &Resp) -> bool {
        r.status == 200
    }
}

async fn send(app: &axum::Router, r: Req) -> Resp {
    let mut b = Request::builder().method(r.method.as_str()).uri(&r.path);
    b = b.header("Host", HOST);
    for (k, v) in &r.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let Ok(mut req) = b.body(Body::from(r.body)) else {
        // A mutant http cannot even carry (a header byte it refuses)
        // never reaches a server: count it as refused.
        return Resp {
            status: 400,
            body: Vec::new(),
        };
    };
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let resp = match app.clone().oneshot(req).await {
        Ok(r) => r,
        Err(e) => match e {},
    };
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    Resp { status, body }
}

// ---- OAuth 1.0a --------------------------------------------------------

struct OAuth1 {
    token: Option<OAuth1Token>,
    last_valid: Option<Req>,
}

const OAUTH1_PATH: &str = "/oscar/ws/services/oauth/info";

impl OAuth1 {
    fn signed(&self, t: &OAuth1Token, method: &str, path: &str, s: &Signing) -> Req {
        let mut req = HttpRequest {
            method: method.to_owned(),
            url: format!("http://{HOST}{path}"),
            headers: Vec::new(),
            body: None,
        };
        let creds = Credentials {
            consumer_key: &t.consumer_key,
            consumer_secret: &t.consumer_secret,
            token: Some((&t.token, &t.token_secret)),
            callback: None,
            verifier: None,
        };
        let _ = oauth1::sign(&mut req, &creds, s);
        Req {
            method: method.to_owned(),
            path: path.to_owned(),
            headers: req.headers,
            body: Vec::new(),
        }
    }
}

/// Edits the `Authorization: OAuth k="v",...` header's pairs.
fn edit_oauth(req: &mut Req, f: impl FnOnce(&mut Vec<(String, String)>)) {
    if let Some((_, v)) = req
        .headers
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    {
        let mut pairs: Vec<(String, String)> = v
            .trim_start_matches("OAuth ")
            .split(',')
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                Some((k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
            })
            .collect();
        f(&mut pairs);
        *v = format!(
            "OAuth {}",
            pairs
                .iter()
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
    }
}

impl Family for OAuth1 {
    fn name(&self) -> &'static str {
        "oauth1 (OSCAR 19 verifier)"
    }

    fn case(&mut self, state: &AppState, i: u64, valid: bool, rng: &mut ChaCha8Rng) -> Req {
        // A refused request revokes its token (CXF), so each case gets a
        // freshly approved one.
        let t = match self.token.take() {
            Some(t) => t,
            None => approved_oauth1_token(state).unwrap_or_else(|e| panic!("token: {e}")),
        };
        let path = format!("{OAUTH1_PATH}?q={}", rng.gen::<u32>());
        let s = Signing::default();
        let mut req = self.signed(&t, "GET", &path, &s);
        if valid {
            self.token = Some(t);
            self.last_valid = Some(req.clone());
            return req;
        }
        match i % 10 {
            0 => edit_oauth(&mut req, |p| {
                if let Some((_, v)) = p.iter_mut().find(|(k, _)| k == "oauth_signature") {
                    let at = rng.gen_range(0..v.len());
                    let c = if v.as_bytes()[at] == b'A' { "B" } else { "A" };
                    v.replace_range(at..at + 1, c);
                }
            }),
            1 => edit_oauth(&mut req, |p| p.retain(|(k, _)| k != "oauth_signature")),
            2 => edit_oauth(&mut req, |p| {
                let names = [
                    "oauth_nonce",
                    "oauth_timestamp",
                    "oauth_consumer_key",
                    "oauth_token",
                ];
                let name = names[rng.gen_range(0..names.len())];
                if let Some((_, v)) = p.iter_mut().find(|(k, _)| k == name) {
                    v.push('1');
                }
            }),
            3 => req.path = format!("{OAUTH1_PATH}?q=changed-after-signing"),
            4 => req.path = "/oscar/ws/services/status/checkIfAuthed".into(),
            5 => {
                let stale = Signing {
                    timestamp: Some(chrono::Utc::now().timestamp() as u64 - 900),
                    ..Signing::default()
                };
                req = self.signed(&t, "GET", &path, &stale);
            }
            6 => {
                // Replay of the last valid request, nonce and all.
                if let Some(v) = &self.last_valid {
                    req = v.clone();
                }
            }
            7 => edit_oauth(&mut req, |p| {
                // Consumer key and token swapped.
                let key = p.iter().position(|(k, _)| k == "oauth_consumer_key");
                let tok = p.iter().position(|(k, _)| k == "oauth_token");
                if let (Some(a), Some(b)) = (key, tok) {
                    let va = p[a].1.clone();
                    p[a].1 = p[b].1.clone();
                    p[b].1 = va;
                }
            }),
            8 => edit_oauth(&mut req, |p| {
                if let Some(n) = p.iter().find(|(k, _)| k == "oauth_nonce").cloned() {
                    p.push(n);
                }
            }),
            _ => {
                // Signed with another token's secret.
                let other = OAuth1Token {
                    token_secret: format!("{}x", t.token_secret),
                    ..t.clone()
                };
                req = self.signed(&other, "GET", &path, &s);
            }
        }
        req
    }

    fn refused(&self, r: &Resp) -> bool {
        r.status == 401
    }
}

// ---- OAuth2 / JWT ------------------------------------------------------

struct Jwt {
    token: String,
    other_site: String,
    public_n: Vec<u8>,
    path: String,
}

fn b64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap_or_default()
}

impl Jwt {
    async fn new(app: &axum::Router, state: &AppState) -> Jwt {
        let on = Req {
            method: "POST".into(),
            path: "/__admin/openemr/settings".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: br#"{"password_grant": true}"#.to_vec(),
        };
        assert_eq!(send(app, on).await.status, 200);
        let creds = send(
            app,
            Req {
                method: "GET".into(),
                path: "/__admin/credentials".into(),
                headers: Vec::new(),
                body: Vec::new(),
            },
        )
        .await;
        let creds: serde_json::Value = serde_json::from_slice(&creds.body).expect("credentials");
        let token = |site: &str| {
            let s = &creds["sites"][site];
            let client = s["oauth2"]["confidential"].clone();
            let user = s["users"][0].clone();
            let enc = |v: &serde_json::Value| {
                url::form_urlencoded::byte_serialize(v.as_str().unwrap_or("").as_bytes())
                    .collect::<String>()
            };
            let scope = "openid api:oemr user/patient.read".to_owned();
            let form = format!(
                "grant_type=password&user_role=users&client_id={}&client_secret={}&username={}&password={}&scope={}",
                enc(&client["client_id"]),
                enc(&client["client_secret"]),
                enc(&user["username"]),
                enc(&user["password"]),
                url::form_urlencoded::byte_serialize(scope.as_bytes()).collect::<String>()
            );
            Req {
                method: "POST".into(),
                path: format!("/oauth2/{site}/token"),
                headers: vec![(
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                )],
                body: form.into_bytes(),
            }
        };
        let mut tokens = Vec::new();
        for site in ["default", "alternate"] {
            let r = send(app, token(site)).await;
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            tokens.push(
                v["access_token"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{site} token: {}", String::from_utf8_lossy(&r.body)))
                    .to_owned(),
            );
        }
        let jwks = send(
            app,
            Req {
                method: "GET".into(),
                path: "/oauth2/default/jwk".into(),
                headers: Vec::new(),
                body: Vec::new(),
            },
        )
        .await;
        let jwks: serde_json::Value = serde_json::from_slice(&jwks.body).unwrap_or_default();
        let uuid = state
            .default_site()
            .store
            .read(|d| d.patients().get(1).map(|p| p.uuid.clone()))
            .expect("patient 1");
        Jwt {
            token: tokens[0].clone(),
            other_site: tokens[1].clone(),
            public_n: b64(jwks["keys"][0]["n"].as_str().unwrap_or("")),
            path: format!("/apis/default/api/patient/{uuid}"),
        }
    }
}

fn with_payload(token: &str, f: impl FnOnce(&mut serde_json::Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&b64(parts.get(1).copied().unwrap_or(""))).unwrap_or_default();
    f(&mut claims);
    format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts.get(2).copied().unwrap_or("")
    )
}

impl Family for Jwt {
    fn name(&self) -> &'static str {
        "oauth2 bearer JWT (OpenEMR)"
    }

    fn case(&mut self, _state: &AppState, i: u64, valid: bool, rng: &mut ChaCha8Rng) -> Req {
        let token = if valid {
            self.token.clone()
        } else {
            let t = &self.token;
            let parts: Vec<&str> = t.split('.').collect();
            match i % 8 {
                0 => {
                    let mut sig = b64(parts[2]);
                    let bit = rng.gen_range(0..sig.len() * 8);
                    sig[bit / 8] ^= 1 << (bit % 8);
                    format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig))
                }
                1 => format!(
                    "{}.{}.",
                    URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"none"}"#),
                    parts[1]
                ),
                2 => {
                    // HS256 keyed with the server's public key.
                    let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"HS256"}"#);
                    let input = format!("{header}.{}", parts[1]);
                    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.public_n);
                    let tag = ring::hmac::sign(&key, input.as_bytes());
                    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
                }
                3 => with_payload(t, |c| {
                    c["exp"] = (c["exp"].as_i64().unwrap_or(0) + 86_400).into()
                }),
                4 => with_payload(t, |c| {
                    c["scopes"] = serde_json::json!(["api:oemr", "user/*.*"])
                }),
                5 => with_payload(t, |c| c["aud"] = "someone-else".into()),
                6 => self.other_site.clone(),
                _ => t[..rng.gen_range(1..t.len())].to_owned(),
            }
        };
        Req {
            method: "GET".into(),
            path: self.path.clone(),
            headers: vec![("Authorization".into(), format!("Bearer {token}"))],
            body: Vec::new(),
        }
    }

    fn refused(&self, r: &Resp) -> bool {
        r.status == 401
    }
}

// ---- WS-Security -------------------------------------------------------

struct Wss {
    counter: u64,
    last_nonce: String,
}

const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const TEXT: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";
const DIGEST: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest";

impl Family for Wss {
    fn name(&self) -> &'static str {
        "WS-Security UsernameToken (OSCAR 19)"
    }

    fn case(&mut self, _state: &AppState, i: u64, valid: bool, rng: &mut ChaCha8Rng) -> Req {
        use emr_mock::store::seed::accounts;
        self.counter += 1;
        let mut nonce = STANDARD.encode(self.counter.to_be_bytes());
        let mut user = accounts::OSCAR_SECURITY_NO.to_string();
        let mut password = accounts::OSCAR_PASSWORD.replace('&', "&amp;");
        let mut kind = TEXT;
        let mut ns = WSSE.to_owned();
        let mut header = true;
        if !valid {
            match i % 7 {
                0 => {
                    let at = rng.gen_range(0..password.len());
                    password.replace_range(at..at + 1, "Z");
                }
                1 => user = format!("{}", rng.gen_range(1000..9999)),
                2 => kind = DIGEST,
                3 => nonce = self.last_nonce.clone(),
                4 => ns = "urn:not-wsse".into(),
                5 => header = false,
                _ => user = "oscardoc".into(),
            }
        } else {
            self.last_nonce = nonce.clone();
        }
        let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let security = if header {
            format!(
                "<wsse:Security xmlns:wsse=\"{ns}\" xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\"><wsse:UsernameToken><wsse:Username>{user}</wsse:Username><wsse:Password Type=\"{kind}\">{password}</wsse:Password><wsse:Nonce>{nonce}</wsse:Nonce><wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
            )
        } else {
            String::new()
        };
        let body = format!(
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:tns=\"http://ws.oscarehr.org/\"><soapenv:Header>{security}</soapenv:Header><soapenv:Body><tns:getDemographic><arg0>1</arg0></tns:getDemographic></soapenv:Body></soapenv:Envelope>"
        );
        Req {
            method: "POST".into(),
            path: "/oscar/ws/DemographicService".into(),
            headers: vec![("Content-Type".into(), "text/xml; charset=utf-8".into())],
            body: body.into_bytes(),
        }
    }

    fn refused(&self, r: &Resp) -> bool {
        r.status == 500 && r.body.windows(5).any(|w| w == b"Fault")
    }
}

// ---- the measurement ---------------------------------------------------

struct Figures {
    cases: u64,
    per_second: f64,
    accepted_mutants: u64,
    other_answers: u64,
    valid_failed: u64,
}

async fn measure(
    family: &mut dyn Family,
    state: &AppState,
    app: &axum::Router,
    seconds: f64,
) -> Figures {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (mut cases, mut accepted, mut other, mut valid_failed) = (0u64, 0u64, 0u64, 0u64);
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    let mut i = 0u64;
    while Instant::now() < until {
        for _ in 0..64 {
            let valid = i % 16 == 0;
            let req = family.case(state, i, valid, &mut rng);
            let r = send(app, req).await;
            if valid {
                if !family.accepted(&r) {
                    valid_failed += 1;
                }
            } else if family.accepted(&r) {
                accepted += 1;
            } else if !family.refused(&r) {
                other += 1;
            }
            cases += 1;
            i += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    Figures {
        cases,
        per_second: cases as f64 / secs,
        accepted_mutants: accepted,
        other_answers: other,
        valid_failed,
    }
}

fn seconds() -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(3.0)
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let seconds = seconds();
    println!(
        "fuzz: in process (router, no socket), one thread, {seconds} s per family; load average {}",
        emr_conformance::bench::loadavg()
    );
    rt.block_on(async {
        let mock = |profile| {
            let mut config = MockConfig::new(profile);
            // The 250 ms penalty of a wrong WS-Security password is a
            // sleep, not work: without it the rate is the checks'.
            config.wss_failure_delay = Duration::ZERO;
            let state = AppState::new(config);
            (emr_mock::router(state.clone()), state)
        };
        let (oscar_app, oscar) = mock(ProfileId::Oscar);
        let (emr_app, emr) = mock(ProfileId::OpenEmr);
        let jwt = Jwt::new(&emr_app, &emr).await;
        let mut families: Vec<(Box<dyn Family>, &AppState, &axum::Router)> = vec![
            (
                Box::new(OAuth1 {
                    token: None,
                    last_valid: None,
                }),
                &oscar,
                &oscar_app,
            ),
            (Box::new(jwt), &emr, &emr_app),
            (
                Box::new(Wss {
                    counter: 0,
                    last_nonce: String::new(),
                }),
                &oscar,
                &oscar_app,
            ),
        ];
        for (family, state, app) in families.iter_mut() {
            let f = measure(family.as_mut(), state, app, seconds).await;
            println!(
                "{:<40} {:>7} cases  {:>8.0} cases/s  mutants accepted {}  other answers {}  valid requests refused {}",
                family.name(),
                f.cases,
                f.per_second,
                f.accepted_mutants,
                f.other_answers,
                f.valid_failed
            );
        }
    });
}
