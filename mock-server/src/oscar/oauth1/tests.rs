//! The verifier against RFC 5849's examples and a second, independent
//! signer; then every refusal of both implementations over HTTP.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use chrono::Duration;
use emr_catalog::ProfileId;
use http_body_util::BodyExt;
use proptest::prelude::*;
use tower::ServiceExt;

use super::params::{ClassicParams, Incoming};
use super::signature::{base_string, base_uri, encode, sign, verify, SignatureMethod};
use crate::state::{AppState, MockConfig};

/// A signer written from RFC 5849 for these tests only: it shares no code
/// with the verifier (its own encoding, sorting and base string).
mod rfc {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    use sha1::Sha1;

    /// RFC 5849 3.6.
    pub fn pct(s: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
            if unreserved {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    /// RFC 5849 3.4.1: `params` are decoded name/value pairs of every
    /// source; `uri` is already the base string URI.
    pub fn base(method: &str, uri: &str, params: &[(String, String)]) -> String {
        let mut p: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
            .collect();
        // Sorting "k=v" strings would order "a=" after "a-"; sort pairs.
        let mut pairs: Vec<(String, String)> =
            params.iter().map(|(k, v)| (pct(k), pct(v))).collect();
        pairs.sort();
        p.clear();
        for (k, v) in pairs {
            p.push(format!("{k}={v}"));
        }
        [method.to_uppercase(), pct(uri), pct(&p.join("&"))].join("&")
    }

    pub fn hmac_sha1(base: &str, cs: &str, ts: &str) -> String {
        let key = format!("{}&{}", pct(cs), pct(ts));
        let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(base.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    pub fn plaintext(cs: &str, ts: &str) -> String {
        format!("{}&{}", pct(cs), pct(ts))
    }
}

// ---- RFC 5849's own examples -------------------------------------------

#[test]
fn rfc_1_2_resource_request() {
    let params: Vec<(String, String)> = [
        ("file", "vacation.jpg"),
        ("size", "original"),
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131202"),
        ("oauth_nonce", "chapoH"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let base = base_string(
        "GET",
        "http://photos.example.net/photos",
        params
            .iter()
            .map(|(k, v): &(String, String)| (k.as_str(), v.as_str())),
    );
    assert_eq!(
        base,
        "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131202%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal"
    );
    let sig = "MdpQcU8iPSUjWoN/UDMsK2sui9I=";
    assert_eq!(
        sign(
            SignatureMethod::HmacSha1,
            &base,
            "kd94hf93k423kf44",
            "pfkkdhi9sl3r4s00"
        ),
        sig
    );
    assert!(verify(
        SignatureMethod::HmacSha1,
        &base,
        "kd94hf93k423kf44",
        "pfkkdhi9sl3r4s00",
        sig
    ));
    assert!(!verify(
        SignatureMethod::HmacSha1,
        &base,
        "kd94hf93k423kf44",
        "other",
        sig
    ));
}

#[test]
fn rfc_1_2_plaintext_credentials_requests() {
    // Temporary credentials: no token secret yet.
    assert_eq!(
        sign(SignatureMethod::Plaintext, "", "kd94hf93k423kf44", ""),
        "kd94hf93k423kf44&"
    );
    assert!(verify(
        SignatureMethod::Plaintext,
        "ignored",
        "kd94hf93k423kf44",
        "hh5s93j4hdidpola",
        "kd94hf93k423kf44&hh5s93j4hdidpola"
    ));
}

#[test]
fn rfc_3_4_1_base_string_from_header_query_and_body() {
    let auth = vec![r#"OAuth realm="Example",
                oauth_consumer_key="9djdj82h48djs9d2",
                oauth_token="kkk9d7dh3k39sjv7",
                oauth_signature_method="HMAC-SHA1",
                oauth_timestamp="137131201",
                oauth_nonce="7d8f3e4a",
                oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D""#
        .replace('\n', "")];
    let req = Incoming {
        method: "POST",
        host: "example.com",
        path: "/request",
        query: "b5=%3D%253D&a3=a&c%40=&a2=r%20b",
        authorization: &auth,
        content_type: Some("application/x-www-form-urlencoded"),
        body: b"c2&a3=2+q",
    };
    let params = ClassicParams::read(&req);
    assert_eq!(
        params.get("oauth_signature"),
        Some("bYT5CMsGcbgUdFHObYMEfcx6bsw=")
    );
    assert_eq!(
        base_string(req.method, &req.base_uri(), params.signed()),
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
    );
}

#[test]
fn rfc_3_4_1_2_base_string_uris() {
    assert_eq!(
        base_uri("HTTP", "EXAMPLE.COM:80", "/r%20v/X"),
        "http://example.com/r%20v/X"
    );
    assert_eq!(
        base_uri("https", "www.example.net:8080", ""),
        "https://www.example.net:8080/"
    );
    assert_eq!(
        base_uri("https", "www.example.net:443", "/"),
        "https://www.example.net/"
    );
}

#[test]
fn percent_encoding_keeps_only_unreserved_characters() {
    assert_eq!(encode("Ladies + Gentlemen"), "Ladies%20%2B%20Gentlemen");
    assert_eq!(encode("An encoded string!"), "An%20encoded%20string%21");
    assert_eq!(encode("Dogs, Cats & Mice"), "Dogs%2C%20Cats%20%26%20Mice");
    assert_eq!(encode("☃"), "%E2%98%83");
    assert_eq!(encode("-._~"), "-._~");
}

// ---- the verifier against the independent signer -------------------------

#[derive(Debug, Clone, Copy)]
enum Place {
    Header,
    Query,
    Form,
}

/// A request signed by [`rfc`], on the wire, as [`Incoming`] parts.
struct Wire {
    query: String,
    body: String,
    authorization: Vec<String>,
    form: bool,
}

fn wire(
    method: &str,
    uri: &str,
    query: &[(String, String)],
    form: &[(String, String)],
    oauth: &[(String, String)],
    secrets: (&str, &str),
    place: Place,
) -> (Wire, String) {
    let mut all: Vec<(String, String)> = query.to_vec();
    all.extend(form.iter().cloned());
    all.extend(oauth.iter().cloned());
    let base = rfc::base(method, uri, &all);
    let signature = rfc::hmac_sha1(&base, secrets.0, secrets.1);
    let mut oauth = oauth.to_vec();
    oauth.push(("oauth_signature".into(), signature.clone()));
    let join = |p: &[(String, String)]| {
        p.iter()
            .map(|(k, v)| format!("{}={}", rfc::pct(k), rfc::pct(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let mut q = query.to_vec();
    let mut f = form.to_vec();
    let mut authorization = Vec::new();
    match place {
        Place::Header => authorization.push(format!(
            "OAuth realm=\"x\", {}",
            oauth
                .iter()
                .map(|(k, v)| format!("{}=\"{}\"", rfc::pct(k), rfc::pct(v)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Place::Query => q.extend(oauth),
        Place::Form => f.extend(oauth),
    }
    (
        Wire {
            query: join(&q),
            body: join(&f),
            authorization,
            form: !f.is_empty() || matches!(place, Place::Form),
        },
        signature,
    )
}

fn verifies(method: &str, w: &Wire, secrets: (&str, &str), signature: &str) -> bool {
    let req = Incoming {
        method,
        host: "mock.test:8080",
        path: "/oscar/ws/services/x",
        query: &w.query,
        authorization: &w.authorization,
        content_type: w.form.then_some("application/x-www-form-urlencoded"),
        body: w.body.as_bytes(),
    };
    let params = ClassicParams::read(&req);
    if !params.repeated_oauth().is_empty() {
        return false;
    }
    let base = base_string(req.method, &req.base_uri(), params.signed());
    verify(
        SignatureMethod::HmacSha1,
        &base,
        secrets.0,
        secrets.1,
        signature,
    )
}

fn oauth_params() -> Vec<(String, String)> {
    [
        ("oauth_consumer_key", "ck"),
        ("oauth_token", "tk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1700000000"),
        ("oauth_nonce", "n-1"),
        ("oauth_version", "1.0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// Names and values with unicode, reserved characters and empties; names
/// never start with `oauth_` (those may not repeat).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z]{1,6}",
        "[ -~]{0,8}",
        "\\PC{0,6}",
        Just("a+b c&d=e%20f/?#[]@!$'()*,;".to_owned()),
        Just("☃ é 日本".to_owned()),
    ]
}

fn param() -> impl Strategy<Value = (String, String)> {
    (
        text().prop_filter("not oauth_", |k| !k.starts_with("oauth_")),
        text(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn correctly_signed_requests_are_accepted_and_any_changed_byte_refused(
        query in proptest::collection::vec(param(), 0..5),
        form in proptest::collection::vec(param(), 0..5),
        repeat in any::<bool>(),
        place in prop_oneof![Just(Place::Header), Just(Place::Query), Just(Place::Form)],
        secret in text(),
        flip in any::<proptest::sample::Index>(),
        bit in 0u8..8,
    ) {
        let mut query = query;
        if repeat {
            if let Some(first) = query.first().cloned() {
                query.push(first);
            }
        }
        // Tomcat drops parameters without a name, so a signer must too.
        query.retain(|(k, _)| !k.is_empty());
        let mut form = form;
        form.retain(|(k, _)| !k.is_empty());
        let method = if form.is_empty() && !matches!(place, Place::Form) { "GET" } else { "POST" };
        let secrets = (secret.as_str(), "token secret");
        let (w, signature) = wire(
            method,
            "http://mock.test:8080/oscar/ws/services/x",
            &query,
            &form,
            &oauth_params(),
            secrets,
            place,
        );
        prop_assert!(verifies(method, &w, secrets, &signature), "{w:?}", w = (&w.query, &w.body, &w.authorization));
        let mut bytes = signature.into_bytes();
        let i = flip.index(bytes.len());
        bytes[i] ^= 1 << bit;
        let changed = String::from_utf8_lossy(&bytes).into_owned();
        prop_assert!(!verifies(method, &w, secrets, &changed));
    }
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} {:?} {:?}",
            self.query, self.body, self.authorization
        )
    }
}

// ---- over HTTP ------------------------------------------------------------

struct Mock {
    app: Router,
    state: AppState,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// `a=1&b=2` bodies and `Location` queries.
    fn form_value(text: &str, name: &str) -> Option<String> {
        let query = text.split_once('?').map_or(text, |(_, q)| q);
        super::params::pairs(query)
            .find(|(k, _)| *k == name)
            .map(|(_, v)| super::signature::form_decode(v))
    }

    fn cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("JSESSIONID="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
    }
}

/// Client credentials for [`Mock::signed`].
#[derive(Clone)]
struct Creds {
    key: String,
    secret: String,
    token: Option<(String, String)>,
    extra: Vec<(String, String)>,
    method: &'static str,
    timestamp_offset: i64,
    /// A fixed `oauth_timestamp` (replays).
    timestamp: Option<i64>,
    nonce: Option<String>,
    place: Place,
    /// Write spaces in the query as `+` (same meaning in a form query).
    plus_spaces: bool,
}

impl Creds {
    fn consumer(key: &str, secret: &str) -> Creds {
        Creds {
            key: key.into(),
            secret: secret.into(),
            token: None,
            extra: Vec::new(),
            method: "HMAC-SHA1",
            timestamp_offset: 0,
            timestamp: None,
            nonce: None,
            place: Place::Header,
            plus_spaces: false,
        }
    }

    fn seeded() -> Creds {
        Creds::consumer("ungjtgcxdxelvkcl", "1qf6c1m4n4tgs446")
    }

    fn with(mut self, k: &str, v: &str) -> Creds {
        self.extra.push((k.into(), v.into()));
        self
    }

    fn token(mut self, t: &str, s: &str) -> Creds {
        self.token = Some((t.into(), s.into()));
        self
    }
}

const CALLBACK: &str = "https://example.com/oauth/callback";
const HOST: &str = "mock.test";

impl Mock {
    fn new(profile: ProfileId) -> Mock {
        let state = AppState::new(MockConfig::new(profile));
        Mock {
            app: crate::app::router(state.clone()),
            state,
        }
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        let r = self.app.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut b = Request::get(format!("/oscar{path}")).header(header::HOST, HOST);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, format!("JSESSIONID={c}"));
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    async fn post_form(&self, path: &str, form: &str, cookie: Option<&str>) -> Reply {
        let mut b = Request::post(format!("/oscar{path}"))
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, format!("JSESSIONID={c}"));
        }
        self.send(b.body(Body::from(form.to_owned())).unwrap())
            .await
    }

    /// A request signed by [`rfc`] with the mock's clock.
    async fn signed(&self, method: &str, path: &str, query: &[(&str, &str)], c: &Creds) -> Reply {
        let owned = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let ts = c
            .timestamp
            .unwrap_or_else(|| self.state.clock.unix() + c.timestamp_offset)
            .to_string();
        let nonce = c
            .nonce
            .clone()
            .unwrap_or_else(|| format!("n{}", self.state.rng.below(u64::MAX)));
        let mut oauth = vec![
            ("oauth_consumer_key".to_owned(), c.key.clone()),
            ("oauth_signature_method".to_owned(), c.method.to_owned()),
            ("oauth_timestamp".to_owned(), ts),
            ("oauth_nonce".to_owned(), nonce),
        ];
        if let Some((t, _)) = &c.token {
            oauth.push(("oauth_token".into(), t.clone()));
        }
        oauth.extend(c.extra.iter().cloned());
        let token_secret = c.token.as_ref().map_or("", |(_, s)| s.as_str());
        let uri = format!("http://{HOST}/oscar{path}");
        let (mut w, signature) = wire(
            method,
            &uri,
            &owned(query),
            &[],
            &oauth,
            (&c.secret, token_secret),
            c.place,
        );
        if c.method == "PLAINTEXT" {
            let plain = rfc::plaintext(&c.secret, token_secret);
            let swap = |s: &str| s.replace(&rfc::pct(&signature), &rfc::pct(&plain));
            w.query = swap(&w.query);
            w.body = swap(&w.body);
            w.authorization = w.authorization.iter().map(|a| swap(a)).collect();
        }
        if c.plus_spaces {
            w.query = w.query.replace("%20", "+");
        }
        let target = if w.query.is_empty() {
            format!("/oscar{path}")
        } else {
            format!("/oscar{path}?{}", w.query)
        };
        let mut b = Request::builder()
            .method(method)
            .uri(target)
            .header(header::HOST, HOST);
        for a in &w.authorization {
            b = b.header(header::AUTHORIZATION, a);
        }
        if w.form {
            b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        self.send(b.body(Body::from(w.body)).unwrap()).await
    }

    async fn initiate(&self, c: &Creds) -> (String, String) {
        let r = self
            .signed(
                "POST",
                "/ws/oauth/initiate",
                &[],
                &c.clone().with("oauth_callback", CALLBACK),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        (
            Reply::form_value(&r.body, "oauth_token").unwrap(),
            Reply::form_value(&r.body, "oauth_token_secret").unwrap(),
        )
    }

    /// Consent page, AJAX login, consent form: the verifier.
    async fn authorize(&self, token: &str, decision: &str) -> Reply {
        let page = self
            .get(&format!("/ws/oauth/authorize?oauth_token={token}"), None)
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let cookie = page.cookie().unwrap();
        let login = self
            .post_form(
                "/login.do",
                &format!("username=oscardoc&password=mac2002%23&pin=1117&ajaxResponse=true&invalidate_session=false&oauth_token={token}"),
                Some(&cookie),
            )
            .await;
        assert!(login.body.contains("\"success\":true"), "{}", login.body);
        let sat = page
            .body
            .split("name=\"session_authenticity_token\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned();
        let classic = crate::oscar::oauth1::Flavor::of(self.state.profile).is_classic();
        let path = if classic {
            "/ws/oauth/authorize/decision"
        } else {
            "/ws/oauth/authorize"
        };
        self.post_form(
            path,
            &format!(
                "session_authenticity_token={sat}&oauth_token={token}&oauthDecision={decision}"
            ),
            Some(&cookie),
        )
        .await
    }

    /// The whole flow: access token and secret.
    async fn access(&self, c: &Creds) -> (String, String) {
        let (t, s) = self.initiate(c).await;
        let r = self.authorize(&t, "allow").await;
        assert_eq!(r.status, 303, "{}", r.body);
        let v = Reply::form_value(r.header("location"), "oauth_verifier").unwrap();
        let r = self
            .signed(
                "POST",
                "/ws/oauth/token",
                &[],
                &c.clone().token(&t, &s).with("oauth_verifier", &v),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        (
            Reply::form_value(&r.body, "oauth_token").unwrap(),
            Reply::form_value(&r.body, "oauth_token_secret").unwrap(),
        )
    }

    fn advance(&self, seconds: i64) {
        self.state.clock.advance(Duration::seconds(seconds));
    }
}

const AUTHED: &str = "/ws/services/status/checkIfAuthed";

#[tokio::test]
async fn the_independent_signer_completes_every_variant_s_flow() {
    for profile in [ProfileId::Oscar, ProfileId::OpenO] {
        let m = Mock::new(profile);
        let (t, s) = m.access(&Creds::seeded()).await;
        for place in [Place::Header, Place::Query] {
            let mut c = Creds::seeded().token(&t, &s);
            c.place = place;
            let r = m.signed("GET", AUTHED, &[("x", "a b")], &c).await;
            assert_eq!(r.status, 200, "{profile} {place:?}: {}", r.body);
            assert_eq!(r.body, r#"{"success":true,"message":"999998"}"#);
        }
    }
    // Juno's resources are under /ws/services/v1; the journal shows who
    // the request was authenticated as.
    let m = Mock::new(ProfileId::Juno);
    let (t, s) = m.access(&Creds::seeded()).await;
    let r = m
        .signed(
            "GET",
            "/ws/services/v1/provider/999998",
            &[],
            &Creds::seeded().token(&t, &s),
        )
        .await;
    assert_ne!(r.status, 401, "{}", r.body);
    let entry = m.state.journal.entries(Some(1)).pop().unwrap();
    assert_eq!(entry.auth.unwrap().provider_no, "999998");
}

// ---- classic refusals ------------------------------------------------------

async fn classic() -> (Mock, String, String) {
    let m = Mock::new(ProfileId::Oscar);
    let (t, s) = m.access(&Creds::seeded()).await;
    (m, t, s)
}

fn assert_filter_refusal(r: &Reply) {
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.header("www-authenticate"), "OAuth");
    assert_eq!(r.body, "");
}

#[tokio::test]
async fn classic_bad_signature_is_refused_and_revokes_the_token() {
    let (m, t, s) = classic().await;
    let r = m
        .signed("GET", AUTHED, &[], &Creds::seeded().token(&t, "wrong"))
        .await;
    assert_filter_refusal(&r);
    let r = m
        .signed("GET", AUTHED, &[], &Creds::seeded().token(&t, &s))
        .await;
    assert_filter_refusal(&r);
    assert!(m.state.default_site().oauth1.access_token(&t).is_none());
}

#[tokio::test]
async fn classic_replayed_nonce_is_refused() {
    let (m, t, s) = classic().await;
    let mut c = Creds::seeded().token(&t, &s);
    c.nonce = Some("same".into());
    // The timestamp is part of the nonce's identity: freeze it.
    c.timestamp = Some(m.state.clock.unix());
    let r = m.signed("GET", AUTHED, &[], &c).await;
    assert_eq!(r.status, 200);
    let r = m.signed("GET", AUTHED, &[], &c).await;
    assert_filter_refusal(&r);
    // The replay revoked the token.
    c.nonce = Some("fresh".into());
    assert_filter_refusal(&m.signed("GET", AUTHED, &[], &c).await);
    // At /initiate: 401 nonce_used with an empty body.
    let mut c = Creds::seeded().with("oauth_callback", CALLBACK);
    c.nonce = Some("again".into());
    c.timestamp_offset = 10;
    let first = m.signed("POST", "/ws/oauth/initiate", &[], &c).await;
    assert_eq!(first.status, 200);
    let second = m.signed("POST", "/ws/oauth/initiate", &[], &c).await;
    assert_eq!(
        (second.status, second.body.as_str()),
        (StatusCode::UNAUTHORIZED, "")
    );
}

#[tokio::test]
async fn classic_stale_timestamps_are_refused_both_ways() {
    let m = Mock::new(ProfileId::Oscar);
    for offset in [-301, 301] {
        let mut c = Creds::seeded().with("oauth_callback", CALLBACK);
        c.timestamp_offset = offset;
        let r = m.signed("POST", "/ws/oauth/initiate", &[], &c).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::BAD_REQUEST, ""));
    }
    let mut c = Creds::seeded().with("oauth_callback", CALLBACK);
    c.timestamp_offset = -250;
    assert_eq!(
        m.signed("POST", "/ws/oauth/initiate", &[], &c).await.status,
        200
    );
}

#[tokio::test]
async fn classic_initiate_refusals() {
    let m = Mock::new(ProfileId::Oscar);
    let ok = || Creds::seeded().with("oauth_callback", CALLBACK);
    let status = |r: Reply| (r.status.as_u16(), r.body);
    // The callback must start with the client's URI; oob too is refused.
    for cb in ["https://evil.example/cb", "oob"] {
        let r = m
            .signed(
                "POST",
                "/ws/oauth/initiate",
                &[],
                &Creds::seeded().with("oauth_callback", cb),
            )
            .await;
        assert_eq!(status(r), (400, String::new()), "{cb}");
    }
    // oauth_callback is required.
    let r = m
        .signed("POST", "/ws/oauth/initiate", &[], &Creds::seeded())
        .await;
    assert_eq!(status(r), (400, String::new()));
    // Unknown consumer.
    let r = m
        .signed(
            "POST",
            "/ws/oauth/initiate",
            &[],
            &Creds::consumer("nobody", "x").with("oauth_callback", CALLBACK),
        )
        .await;
    assert_eq!(status(r), (401, String::new()));
    // Bad signature.
    let r = m
        .signed(
            "POST",
            "/ws/oauth/initiate",
            &[],
            &Creds::consumer("ungjtgcxdxelvkcl", "wrong").with("oauth_callback", CALLBACK),
        )
        .await;
    assert_eq!(status(r), (401, String::new()));
    // oauth_version must be 1.0.
    let r = m
        .signed(
            "POST",
            "/ws/oauth/initiate",
            &[],
            &ok().with("oauth_version", "2.0"),
        )
        .await;
    assert_eq!(status(r), (400, String::new()));
    let r = m
        .signed(
            "POST",
            "/ws/oauth/initiate",
            &[],
            &ok().with("oauth_version", "1.0"),
        )
        .await;
    assert_eq!(r.status, 200);
    // A repeated oauth_ parameter.
    let r = m
        .signed(
            "POST",
            "/ws/oauth/initiate",
            &[("oauth_nonce", "second")],
            &ok(),
        )
        .await;
    assert_eq!(status(r), (400, String::new()));
    // Unknown and unusable signature methods.
    let mut c = ok();
    c.method = "HMAC-SHA256";
    assert_eq!(
        status(m.signed("POST", "/ws/oauth/initiate", &[], &c).await),
        (400, String::new())
    );
    c.method = "RSA-SHA1";
    assert_eq!(
        status(m.signed("POST", "/ws/oauth/initiate", &[], &c).await),
        (401, String::new())
    );
    // PLAINTEXT is accepted.
    c.method = "PLAINTEXT";
    let r = m.signed("POST", "/ws/oauth/initiate", &[], &c).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // CXF answers in HashMap order.
    assert!(r.body.starts_with("oauth_token="), "{}", r.body);
    assert!(
        r.body
            .contains("&oauth_callback_confirmed=true&oauth_token_secret="),
        "{}",
        r.body
    );
    // GET works too.
    assert_eq!(
        m.signed("GET", "/ws/oauth/initiate", &[], &ok())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn classic_authorize_refusals_and_decisions() {
    let m = Mock::new(ProfileId::Oscar);
    let r = m.get("/ws/oauth/authorize", None).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (400, ""));
    let r = m.get("/ws/oauth/authorize?oauth_token=nope", None).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (401, ""));
    // A request token is good for one hour.
    let (t, _) = m.initiate(&Creds::seeded()).await;
    m.advance(3601);
    let r = m
        .get(&format!("/ws/oauth/authorize?oauth_token={t}"), None)
        .await;
    assert_eq!(r.status, 401);
    m.advance(-3601);

    // A decision with a forged authenticity token: CXF's generic 500.
    let (t, _) = m.initiate(&Creds::seeded()).await;
    let page = m
        .get(&format!("/ws/oauth/authorize?oauth_token={t}"), None)
        .await;
    assert!(page.body.contains("Online Booking"), "{}", page.body);
    let cookie = page.cookie().unwrap();
    let r = m
        .post_form(
            "/ws/oauth/authorize/decision",
            &format!("session_authenticity_token=forged&oauth_token={t}&oauthDecision=allow"),
            Some(&cookie),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (500, ""));
    // Without a decision, the page is rendered again.
    let r = m
        .get(
            &format!("/ws/oauth/authorize/decision?oauth_token={t}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("session_authenticity_token"));

    // Deny: 303 to the callback with the token only; the token is gone.
    let (t, s) = m.initiate(&Creds::seeded()).await;
    let r = m.authorize(&t, "deny").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), format!("{CALLBACK}?oauth_token={t}"));
    let r = m
        .signed(
            "POST",
            "/ws/oauth/token",
            &[],
            &Creds::seeded().token(&t, &s).with("oauth_verifier", "x"),
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn classic_token_refusals() {
    let m = Mock::new(ProfileId::Oscar);
    let (t, s) = m.initiate(&Creds::seeded()).await;
    let r = m.authorize(&t, "allow").await;
    let v = Reply::form_value(r.header("location"), "oauth_verifier").unwrap();
    let c = Creds::seeded().token(&t, &s);
    // Wrong verifier: 400; missing verifier: 400 too.
    let r = m
        .signed(
            "POST",
            "/ws/oauth/token",
            &[],
            &c.clone().with("oauth_verifier", "nope"),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (400, ""));
    let r = m.signed("POST", "/ws/oauth/token", &[], &c).await;
    assert_eq!(r.status, 400);
    // Unknown token.
    let r = m
        .signed(
            "POST",
            "/ws/oauth/token",
            &[],
            &Creds::seeded().token("nope", &s).with("oauth_verifier", &v),
        )
        .await;
    assert_eq!(r.status, 401);
    // Good exchange, then the verifier is spent.
    let good = c.clone().with("oauth_verifier", &v);
    assert_eq!(
        m.signed("GET", "/ws/oauth/token", &[], &good).await.status,
        200
    );
    assert_eq!(
        m.signed("GET", "/ws/oauth/token", &[], &good).await.status,
        401
    );

    // A mis-signed exchange deletes the request token.
    let (t, s) = m.initiate(&Creds::seeded()).await;
    let r = m.authorize(&t, "allow").await;
    let v = Reply::form_value(r.header("location"), "oauth_verifier").unwrap();
    let bad = Creds::seeded()
        .token(&t, "wrong")
        .with("oauth_verifier", &v);
    assert_eq!(
        m.signed("POST", "/ws/oauth/token", &[], &bad).await.status,
        401
    );
    let good = Creds::seeded().token(&t, &s).with("oauth_verifier", &v);
    assert_eq!(
        m.signed("POST", "/ws/oauth/token", &[], &good).await.status,
        401
    );
}

#[tokio::test]
async fn classic_resource_refusals() {
    let (m, t, s) = classic().await;
    // No token at all: no two-legged mode.
    let r = m.signed("GET", AUTHED, &[], &Creds::seeded()).await;
    assert_filter_refusal(&r);
    // A token of another client.
    let other = Creds::consumer("o7dpozovimpykxg0", "roevyq92ys2hqed8").token(&t, &s);
    assert_filter_refusal(&m.signed("GET", AUTHED, &[], &other).await);
    // An unknown token.
    assert_filter_refusal(
        &m.signed("GET", AUTHED, &[], &Creds::seeded().token("nope", &s))
            .await,
    );
    // A session cookie is not enough on /ws/services.
    let login = m
        .post_form(
            "/login.do",
            "username=oscardoc&password=mac2002%23&pin=1117",
            None,
        )
        .await;
    let r = m.get(AUTHED, login.cookie().as_deref()).await;
    assert_filter_refusal(&r);
    // PLAINTEXT works on resources too.
    let (t, s) = m.access(&Creds::seeded()).await;
    let mut c = Creds::seeded().token(&t, &s);
    c.method = "PLAINTEXT";
    assert_eq!(m.signed("GET", AUTHED, &[], &c).await.status, 200);
}

#[tokio::test]
async fn classic_access_token_lifetimes() {
    // The seeded "Reminder Sync" client has a 60 s TTL.
    let short = Creds::consumer("o7dpozovimpykxg0", "roevyq92ys2hqed8");
    let m = Mock::new(ProfileId::Oscar);
    let cb = "https://reminders.example.com/oauth/callback";
    let init = |c: Creds| c.with("oauth_callback", cb);
    let r = m
        .signed("POST", "/ws/oauth/initiate", &[], &init(short.clone()))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = Reply::form_value(&r.body, "oauth_token").unwrap();
    let s = Reply::form_value(&r.body, "oauth_token_secret").unwrap();
    let v = Reply::form_value(
        m.authorize(&t, "allow").await.header("location"),
        "oauth_verifier",
    )
    .unwrap();
    let r = m
        .signed(
            "POST",
            "/ws/oauth/token",
            &[],
            &short.clone().token(&t, &s).with("oauth_verifier", &v),
        )
        .await;
    let at = Reply::form_value(&r.body, "oauth_token").unwrap();
    let ats = Reply::form_value(&r.body, "oauth_token_secret").unwrap();
    let c = short.clone().token(&at, &ats);
    m.advance(30);
    assert_eq!(m.signed("GET", AUTHED, &[], &c).await.status, 200);
    m.advance(40);
    assert_filter_refusal(&m.signed("GET", AUTHED, &[], &c).await);
    assert!(
        m.state.default_site().oauth1.access_token(&at).is_none(),
        "expired tokens are deleted"
    );

    // -1 never expires.
    let (t, s) = m.access(&Creds::seeded()).await;
    m.advance(400 * 24 * 3600);
    assert_eq!(
        m.signed("GET", AUTHED, &[], &Creds::seeded().token(&t, &s))
            .await
            .status,
        200
    );
}

#[test]
fn lifetime_zero_expires_after_the_issuing_second() {
    let t = super::AccessToken {
        client_key: String::new(),
        token: String::new(),
        secret: String::new(),
        lifetime: 0,
        issued: 100,
        provider_no: None,
        scopes: vec![],
    };
    assert!(!t.expired_at(100));
    assert!(t.expired_at(101));
    let never = super::AccessToken {
        lifetime: -1,
        ..t.clone()
    };
    assert!(!never.expired_at(i64::MAX));
    let hour = super::AccessToken {
        lifetime: 3600,
        ..t
    };
    assert!(!hour.expired_at(3700) && hour.expired_at(3701));
}

#[tokio::test]
async fn juno_access_tokens_live_an_hour_whatever_the_client_says() {
    let m = Mock::new(ProfileId::Juno);
    let (t, s) = m.access(&Creds::seeded()).await;
    let at = m.state.default_site().oauth1.access_token(&t).unwrap();
    assert_eq!(at.lifetime, 3600);
    let v1 = "/ws/services/v1/provider/999998";
    let c = Creds::seeded().token(&t, &s);
    m.advance(3000);
    assert_ne!(m.signed("GET", v1, &[], &c).await.status, 401);
    m.advance(700);
    assert_filter_refusal(&m.signed("GET", v1, &[], &c).await);
    // Juno mounts nothing under /ws/services but v1.
    assert_eq!(
        m.get("/ws/services/status/checkIfAuthed", None)
            .await
            .status,
        404
    );
}

// ---- Open-O refusals -------------------------------------------------------

fn assert_fault(r: &Reply, code: &str) {
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.header("content-type"), "text/xml");
    assert!(
        r.body.contains(&format!(
            "ca.openosp.openo.webserv.oauth.OAuth1Exception: {code}</ns1:faultstring>"
        )),
        "{}",
        r.body
    );
}

fn assert_error_page(r: &Reply, status: u16) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert!(r.header("content-type").starts_with("text/html"));
}

#[tokio::test]
async fn open_o_initiate_refusals_are_500_pages() {
    let m = Mock::new(ProfileId::OpenO);
    let cb = |c: Creds| c.with("oauth_callback", CALLBACK);
    assert_error_page(
        &m.signed(
            "POST",
            "/ws/oauth/initiate",
            &[],
            &cb(Creds::consumer("nobody", "x")),
        )
        .await,
        500,
    );
    assert_error_page(
        &m.signed(
            "POST",
            "/ws/oauth/initiate",
            &[],
            &cb(Creds::consumer("ungjtgcxdxelvkcl", "bad")),
        )
        .await,
        500,
    );
    let mut stale = cb(Creds::seeded());
    stale.timestamp_offset = -301;
    assert_error_page(
        &m.signed("POST", "/ws/oauth/initiate", &[], &stale).await,
        500,
    );
    let mut plain = cb(Creds::seeded());
    plain.method = "PLAINTEXT";
    assert_error_page(
        &m.signed("POST", "/ws/oauth/initiate", &[], &plain).await,
        500,
    );
    // Missing callback: the NOT NULL column.
    assert_error_page(
        &m.signed("POST", "/ws/oauth/initiate", &[], &Creds::seeded())
            .await,
        500,
    );
    // Missing parameters: the parser's exception.
    let r = m
        .post_form(
            "/ws/oauth/initiate",
            "oauth_consumer_key=ungjtgcxdxelvkcl",
            None,
        )
        .await;
    assert_error_page(&r, 500);
    // Only POST.
    assert_eq!(
        m.signed("GET", "/ws/oauth/initiate", &[], &cb(Creds::seeded()))
            .await
            .status,
        405
    );
    // Any callback is accepted, answered in fixed order.
    let r = m
        .signed(
            "POST",
            "/ws/oauth/initiate",
            &[],
            &Creds::seeded().with("oauth_callback", "https://Evil.Example:443"),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.ends_with("&oauth_callback_confirmed=true"),
        "{}",
        r.body
    );
    let t = Reply::form_value(&r.body, "oauth_token").unwrap();
    let stored = m
        .state
        .default_site()
        .oauth1
        .request_token(&t, m.state.clock.now())
        .unwrap();
    assert_eq!(stored.callback.as_deref(), Some("https://evil.example/"));
}

#[tokio::test]
async fn open_o_authorize_refusals_and_cancel_approving() {
    let m = Mock::new(ProfileId::OpenO);
    assert_error_page(&m.get("/ws/oauth/authorize", None).await, 400);
    assert_error_page(
        &m.get("/ws/oauth/authorize?oauth_token=nope", None).await,
        400,
    );
    let plain = |r: &Reply| {
        (
            r.status.as_u16(),
            r.header("content-type").to_owned(),
            r.body.clone(),
        )
    };
    let r = m.post_form("/ws/oauth/authorize", "", None).await;
    assert_eq!(
        plain(&r),
        (400, "text/plain".into(), "missing oauth_token".into())
    );
    let r = m
        .post_form("/ws/oauth/authorize", "oauth_token=nope", None)
        .await;
    assert_eq!(
        plain(&r),
        (400, "text/plain".into(), "invalid_request_token".into())
    );
    let (t, _) = m.initiate(&Creds::seeded()).await;
    let r = m
        .post_form("/ws/oauth/authorize", &format!("oauth_token={t}"), None)
        .await;
    assert_eq!(
        plain(&r),
        (401, "text/plain".into(), "login_required".into())
    );
    // "Cancel" approves.
    let r = m.authorize(&t, "deny").await;
    assert_eq!(r.status, 303);
    let location = r.header("location");
    assert!(
        location.starts_with(&format!("{CALLBACK}?oauth_token={t}&oauth_verifier=")),
        "{location}"
    );
    // An oob callback gets the verifier as text.
    let r = m
        .signed(
            "POST",
            "/ws/oauth/initiate",
            &[],
            &Creds::seeded().with("oauth_callback", "oob"),
        )
        .await;
    let t = Reply::form_value(&r.body, "oauth_token").unwrap();
    let r = m.authorize(&t, "allow").await;
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with("oauth_verifier="), "{}", r.body);
}

#[tokio::test]
async fn open_o_token_refusals_are_bare_words() {
    let m = Mock::new(ProfileId::OpenO);
    let (t, s) = m.initiate(&Creds::seeded()).await;
    let r = m.authorize(&t, "allow").await;
    let v = Reply::form_value(r.header("location"), "oauth_verifier").unwrap();
    let word = |r: Reply| (r.status.as_u16(), r.body);
    let good = Creds::seeded().token(&t, &s).with("oauth_verifier", &v);
    let r = m
        .signed(
            "POST",
            "/ws/oauth/token",
            &[],
            &Creds {
                key: "nobody".into(),
                ..good.clone()
            },
        )
        .await;
    assert_eq!(word(r), (401, "invalid_consumer".into()));
    let r = m
        .signed(
            "POST",
            "/ws/oauth/token",
            &[],
            &Creds::seeded().token("nope", &s).with("oauth_verifier", &v),
        )
        .await;
    assert_eq!(word(r), (401, "invalid_request_token".into()));
    let r = m
        .signed(
            "POST",
            "/ws/oauth/token",
            &[],
            &Creds::seeded().token(&t, &s).with("oauth_verifier", "nope"),
        )
        .await;
    assert_eq!(word(r), (401, "invalid_verifier".into()));
    let r = m
        .signed(
            "POST",
            "/ws/oauth/token",
            &[],
            &Creds::seeded().token(&t, "bad").with("oauth_verifier", &v),
        )
        .await;
    assert_eq!(word(r), (401, "invalid_signature".into()));
    // Open-O keeps the request token after a bad signature.
    let r = m.signed("POST", "/ws/oauth/token", &[], &good).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.starts_with("oauth_token="));
    let r = m.signed("POST", "/ws/oauth/token", &[], &good).await;
    assert_eq!(word(r), (401, "invalid_request_token".into()));
    // The parser's missing parameters escape as a 500 page.
    assert_error_page(
        &m.post_form("/ws/oauth/token", "oauth_token=x", None).await,
        500,
    );
}

#[tokio::test]
async fn open_o_resource_refusals_are_xml_faults() {
    let m = Mock::new(ProfileId::OpenO);
    let (t, s) = m.access(&Creds::seeded()).await;
    let good = Creds::seeded().token(&t, &s);
    assert_fault(
        &m.signed("GET", AUTHED, &[], &Creds::seeded().token(&t, "bad"))
            .await,
        "invalid_signature",
    );
    assert_fault(
        &m.signed("GET", AUTHED, &[], &Creds::seeded()).await,
        "missing_access_token",
    );
    assert_fault(
        &m.signed(
            "GET",
            AUTHED,
            &[],
            &Creds {
                key: "nobody".into(),
                ..good.clone()
            },
        )
        .await,
        "invalid_consumer",
    );
    assert_fault(
        &m.signed("GET", AUTHED, &[], &Creds::seeded().token("nope", &s))
            .await,
        "invalid_signature",
    );
    let mut stale = good.clone();
    stale.timestamp_offset = 301;
    assert_fault(
        &m.signed("GET", AUTHED, &[], &stale).await,
        "invalid_signature",
    );
    let mut plain = good.clone();
    plain.method = "PLAINTEXT";
    assert_fault(
        &m.signed("GET", AUTHED, &[], &plain).await,
        "invalid_signature",
    );
    // A non-OAuth Authorization header still enters the interceptor.
    let r = m
        .send(
            Request::get(format!("/oscar{AUTHED}"))
                .header(header::HOST, HOST)
                .header(header::AUTHORIZATION, "Basic b3NjYXI6eA==")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_fault(&r, "missing_consumer_key");
    // Non-ASCII in the header is read, not a crash.
    let r = m
        .send(
            Request::get(format!("/oscar{AUTHED}"))
                .header(header::HOST, HOST)
                .header(
                    header::AUTHORIZATION,
                    "OAuthé oauth_consumer_key=\"é\"".as_bytes(),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_fault(&r, "missing_consumer_key");
    // The token was not revoked by any of that, and never expires.
    m.advance(30 * 24 * 3600);
    assert_eq!(m.signed("GET", AUTHED, &[], &good).await.status, 200);
    // No nonce memory: the same nonce and timestamp twice.
    let mut replay = good.clone();
    replay.nonce = Some("same".into());
    assert_eq!(m.signed("GET", AUTHED, &[], &replay).await.status, 200);
    assert_eq!(m.signed("GET", AUTHED, &[], &replay).await.status, 200);
}

#[tokio::test]
async fn open_o_signature_quirks() {
    let m = Mock::new(ProfileId::OpenO);
    let (t, s) = m.access(&Creds::seeded()).await;
    let good = Creds::seeded().token(&t, &s);
    let (cm, ct, cs) = classic().await;
    let classic_good = Creds::seeded().token(&ct, &cs);
    // A space in the query verifies when sent as %20...
    assert_eq!(
        m.signed("GET", AUTHED, &[("q", "a b")], &good).await.status,
        200
    );
    // ...but not as `+`, which Open-O does not read as a space.
    let plus = Creds {
        plus_spaces: true,
        ..good.clone()
    };
    assert_fault(
        &m.signed("GET", AUTHED, &[("q", "a b")], &plus).await,
        "invalid_signature",
    );
    let classic_plus = Creds {
        plus_spaces: true,
        ..classic_good.clone()
    };
    assert_eq!(
        cm.signed("GET", AUTHED, &[("q", "a b")], &classic_plus)
            .await
            .status,
        200
    );
    // Non-ASCII query values are decoded as Latin-1 and never verify.
    assert_fault(
        &m.signed("GET", AUTHED, &[("q", "é")], &good).await,
        "invalid_signature",
    );
    assert_eq!(
        cm.signed("GET", AUTHED, &[("q", "é")], &classic_good)
            .await
            .status,
        200
    );
    // A form POST with a query: the query is counted twice.
    let form = Creds {
        place: Place::Form,
        ..Creds::seeded().with("oauth_callback", CALLBACK)
    };
    let init = "/ws/oauth/initiate";
    assert_error_page(&m.signed("POST", init, &[("q", "1")], &form).await, 500);
    assert_eq!(m.signed("POST", init, &[], &form).await.status, 200);
    assert_eq!(
        cm.signed("POST", init, &[("q", "1")], &form).await.status,
        200
    );
    // Header values are decoded twice: an escaped `%` in a callback.
    let cb = "https://example.com/cb?next=%2Fhome";
    let init = Creds::seeded().with("oauth_callback", cb);
    assert_error_page(
        &m.signed("POST", "/ws/oauth/initiate", &[], &init).await,
        500,
    );
    assert_eq!(
        cm.signed("POST", "/ws/oauth/initiate", &[], &init)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn open_o_services_fall_back_to_the_session() {
    let m = Mock::new(ProfileId::OpenO);
    // Neither OAuth nor a session: the resource's exception.
    assert_error_page(&m.get(AUTHED, None).await, 500);
    // oauth/info catches it and answers 200 with its error object.
    let r = m.get("/ws/services/oauth/info", None).await;
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (
            200,
            r#"{"error":"An internal error occurred. Please try again later."}"#
        )
    );
    let login = m
        .post_form(
            "/login.do",
            "username=oscardoc&password=mac2002%23&pin=1117",
            None,
        )
        .await;
    let cookie = login.cookie().unwrap();
    let r = m.get(AUTHED, Some(&cookie)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = m.get("/ws/services/oauth/info", Some(&cookie)).await;
    assert!(
        r.body.contains(r#""login":"999998","roles":[]"#),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn oauth_info_shapes() {
    let m = Mock::new(ProfileId::OpenO);
    // Open-O's parser reads header and query values undecoded, so a scope
    // with a space only arrives intact in a form body.
    let c = Creds {
        place: Place::Form,
        ..Creds::seeded()
            .with("scope", "read write")
            .with("oauth_callback", CALLBACK)
    };
    let (t, s) = {
        let r = m.signed("POST", "/ws/oauth/initiate", &[], &c).await;
        let t = Reply::form_value(&r.body, "oauth_token").unwrap();
        let s = Reply::form_value(&r.body, "oauth_token_secret").unwrap();
        let v = Reply::form_value(
            m.authorize(&t, "allow").await.header("location"),
            "oauth_verifier",
        )
        .unwrap();
        let r = m
            .signed(
                "POST",
                "/ws/oauth/token",
                &[],
                &Creds::seeded().token(&t, &s).with("oauth_verifier", &v),
            )
            .await;
        (
            Reply::form_value(&r.body, "oauth_token").unwrap(),
            Reply::form_value(&r.body, "oauth_token_secret").unwrap(),
        )
    };
    let r = m
        .signed(
            "GET",
            "/ws/services/oauth/info",
            &[],
            &Creds::seeded().token(&t, &s),
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["providers"]["providerNo"], "999998");
    assert_eq!(v["roles"], serde_json::json!(["read", "write"]));
    // With the token in the query, the scopes are not found.
    let mut q = Creds::seeded().token(&t, &s);
    q.place = Place::Query;
    let r = m.signed("GET", "/ws/services/oauth/info", &[], &q).await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["roles"], serde_json::json!([]));

    let (m, t, s) = classic().await;
    let r = m
        .signed(
            "GET",
            "/ws/services/oauth/info",
            &[],
            &Creds::seeded().token(&t, &s),
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["provider"]["formattedName"], "oscardoc, doctor");
    assert_eq!(v["login"], "999998");
    assert_eq!(v["roles"], serde_json::json!([]));
}

// ---- the cookie path --------------------------------------------------------

#[tokio::test]
async fn login_do_and_the_rs_session() {
    let m = Mock::new(ProfileId::Oscar);
    let r = m
        .post_form(
            "/login.do",
            "username=oscardoc&password=wrong&pin=1117",
            None,
        )
        .await;
    assert_eq!(r.status, 302);
    assert!(r.header("location").contains("login=failed"));
    assert!(r.cookie().is_none());
    let r = m
        .post_form(
            "/login.do",
            "username=oscardoc&password=mac2002%23&pin=9999",
            None,
        )
        .await;
    assert!(
        r.header("location").contains("login=failed"),
        "the PIN is checked"
    );
    let r = m
        .post_form(
            "/login.do",
            "username=oscardoc&password=mac2002%23&pin=1117&ajaxResponse=true",
            None,
        )
        .await;
    assert_eq!(r.header("content-type"), "text/x-json;charset=UTF-8");
    assert_eq!(
        r.body,
        r#"{"success":true,"providerName":"oscardoc, doctor","providerNo":"999998"}"#
    );
    let r = m
        .post_form(
            "/login.do",
            "username=oscardoc&password=x&pin=1117&ajaxResponse=true",
            None,
        )
        .await;
    assert_eq!(r.body, r#"{"success":false,"error":"Invalid Credentials"}"#);

    let r = m
        .post_form(
            "/login.do",
            "username=oscardoc&password=mac2002%23&pin=1117",
            None,
        )
        .await;
    assert_eq!(r.status, 302);
    assert!(!r.header("location").contains("login=failed"));
    let cookie = r.cookie().unwrap();
    let r = m.get("/ws/rs/status/checkIfAuthed", Some(&cookie)).await;
    assert_eq!(r.body, r#"{"success":true,"message":"999998"}"#);
    let r = m.get("/ws/rs/status/checkIfAuthed", Some("NOPE")).await;
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (401, "<error>Not authorized</error>")
    );
    // Sessions time out after 30 idle minutes.
    m.advance(31 * 60);
    assert_eq!(
        m.get("/ws/rs/status/checkIfAuthed", Some(&cookie))
            .await
            .status,
        401
    );
    // Tomcat's ;jsessionid path parameter names the session too.
    let r = m
        .post_form(
            "/login.do",
            "username=oscardoc&password=mac2002%23&pin=1117",
            None,
        )
        .await;
    let cookie = r.cookie().unwrap();
    let r = m
        .post_form(
            &format!("/login.do;jsessionid={cookie}"),
            "username=oscardoc&password=mac2002%23&pin=1117&ajaxResponse=true&invalidate_session=false",
            None,
        )
        .await;
    assert!(r.cookie().is_none(), "the session named in the URL is kept");
    assert_eq!(m.get("/nothing.jsp", None).await.status, 404);
}

#[tokio::test]
async fn sessions_are_bounded() {
    let m = Mock::new(ProfileId::Oscar);
    let sessions = &m.state.default_site().sessions;
    let first = sessions.create(&m.state.rng, m.state.clock.now());
    for _ in 0..2_000 {
        sessions.create(&m.state.rng, m.state.clock.now());
    }
    assert!(sessions.get(&first.id, m.state.clock.now()).is_none());
}

#[test]
fn every_open_o_quirk_is_declared_by_open_o_only() {
    let ids = |p: ProfileId| -> Vec<String> {
        p.profile()
            .quirks
            .iter()
            .map(|q| q.id.clone())
            .filter(|id| id.starts_with("oauth1-"))
            .collect()
    };
    let mut declared = ids(ProfileId::OpenO);
    declared.sort();
    let mut known: Vec<String> = super::OPEN_O_QUIRKS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    known.sort();
    assert_eq!(declared, known);
    assert!(ids(ProfileId::Oscar).is_empty() && ids(ProfileId::Juno).is_empty());
}
