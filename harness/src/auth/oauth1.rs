//! The `oauth1` driver: OSCAR's three-legged OAuth 1.0a, signed with the
//! `oauth1-request` crate.
//!
//! From the target's credentials document (`oauth1.clients`, `users`) it
//! obtains temporary credentials, approves them on the consent page the
//! way a user would (in a separate cookie jar: the user's browser, not
//! the integration), exchanges the verifier for an access token, caches
//! it for the scenario, and signs requests with it. Single legs can be
//! signed on their own for negative cases; see `docs/scenarios.md`.

use std::collections::HashMap;
use std::fmt::Display;
use std::num::NonZeroU64;

use oauth1_request as oauth;
use oauth1_request::serializer::Serializer;
use oauth1_request::signature_method::SignatureMethod;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::forms::{forms, Form};
use super::{field, user, AuthContext, AuthError};
use crate::runner::{encode, encode_pairs};
use crate::scenario::{ClientRef, Consent, Leg, OAuth1Options, Placement, SignatureMethodName};
use crate::transport::{HttpRequest, HttpResponse, Transport};

const DRIVER: &str = "oauth1";

fn err(message: impl Into<String>) -> AuthError {
    AuthError::new(DRIVER, message)
}

/// Access tokens obtained in this scenario, by client, user, callback and
/// scope.
#[derive(Debug, Default)]
pub struct State {
    tokens: HashMap<(String, String, String, String), (String, String)>,
}

/// A client's credentials and the callback it registered.
#[derive(Debug, Clone)]
struct Client {
    key: String,
    secret: String,
    callback: String,
}

/// How one request is signed.
#[derive(Debug, Clone)]
pub struct Signing {
    pub method: SignatureMethodName,
    pub placement: Placement,
    pub corrupt: bool,
    pub timestamp: Option<u64>,
    pub nonce: Option<String>,
    pub version: bool,
}

impl Default for Signing {
    fn default() -> Self {
        Signing {
            method: SignatureMethodName::HmacSha1,
            placement: Placement::Header,
            corrupt: false,
            timestamp: None,
            nonce: None,
            version: true,
        }
    }
}

/// The credentials a request is signed with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    pub consumer_key: &'a str,
    pub consumer_secret: &'a str,
    pub token: Option<(&'a str, &'a str)>,
    pub callback: Option<&'a str>,
    pub verifier: Option<&'a str>,
}

pub async fn authorize(
    opts: &OAuth1Options,
    ctx: &mut AuthContext<'_>,
    req: &mut HttpRequest,
) -> Result<(), AuthError> {
    let client = client(opts, ctx)?;
    let timestamp = timestamp(opts, ctx)?;
    let step = Signing {
        method: opts.signature_method,
        placement: opts.placement,
        corrupt: opts.corrupt_signature,
        timestamp,
        nonce: ctx.render(DRIVER, opts.nonce.as_ref())?,
        version: opts.version,
    };
    let token = ctx.render(DRIVER, opts.token.as_ref())?;
    let token_secret = ctx.render(DRIVER, opts.token_secret.as_ref())?;
    let consumer = Credentials {
        consumer_key: &client.key,
        consumer_secret: &client.secret,
        ..Credentials::default()
    };
    match opts.leg {
        Leg::Initiate => {
            let callback = ctx
                .render(DRIVER, opts.callback.as_ref())?
                .unwrap_or_else(|| client.callback.clone());
            if let Some(scope) = ctx.render(DRIVER, opts.scope.as_ref())? {
                add_form_param(req, "scope", &scope)?;
            }
            sign(
                req,
                &Credentials {
                    callback: Some(&callback),
                    ..consumer
                },
                &step,
            )
        }
        Leg::Token => {
            let verifier = ctx.render(DRIVER, opts.verifier.as_ref())?;
            let (t, s) = (token.unwrap_or_default(), token_secret.unwrap_or_default());
            sign(
                req,
                &Credentials {
                    token: Some((&t, &s)),
                    verifier: verifier.as_deref(),
                    ..consumer
                },
                &step,
            )
        }
        Leg::Authorize => {
            let username = ctx.render(DRIVER, opts.user.as_ref())?;
            consent_step(
                ctx,
                username.as_deref(),
                &token.unwrap_or_default(),
                opts.consent,
                req,
            )
            .await
        }
        Leg::Resource => {
            // A token given in the options wins; then one provided with the
            // target (`credentials.tokens.oauth1`); else run the flow.
            let provided = crate::live::tokens::oauth1(&ctx.target.credentials).map_err(err)?;
            let (t, s) = match (token, token_secret, provided) {
                (Some(t), Some(s), _) => (t, s),
                (_, _, Some(p)) => (p.token, p.token_secret),
                _ => access_token(opts, ctx, &client, timestamp).await?,
            };
            sign(
                req,
                &Credentials {
                    token: Some((&t, &s)),
                    ..consumer
                },
                &step,
            )
        }
    }
}

/// The credentials a step's `oauth1` spec signs with, resolved: its
/// client and callback, and for `leg: resource` the access token (the
/// spec's, the scenario's cached one, or a new one from the flow; always
/// a new one with `fresh`). The fuzz step signs its mutants with these.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub callback: String,
    pub token: Option<(String, String)>,
}

pub async fn resolve(
    opts: &OAuth1Options,
    ctx: &mut AuthContext<'_>,
) -> Result<Resolved, AuthError> {
    let client = client(opts, ctx)?;
    let callback = ctx
        .render(DRIVER, opts.callback.as_ref())?
        .unwrap_or_else(|| client.callback.clone());
    let token = match opts.leg {
        Leg::Resource => {
            let timestamp = timestamp(opts, ctx)?;
            let token = ctx.render(DRIVER, opts.token.as_ref())?;
            let secret = ctx.render(DRIVER, opts.token_secret.as_ref())?;
            Some(match (token, secret) {
                (Some(t), Some(s)) => (t, s),
                _ => access_token(opts, ctx, &client, timestamp).await?,
            })
        }
        _ => None,
    };
    Ok(Resolved {
        consumer_key: client.key,
        consumer_secret: client.secret,
        callback,
        token,
    })
}

/// The client to sign as: `consumer_key`/`consumer_secret`, or one of
/// `credentials.oauth1.clients` (the first by default).
fn client(opts: &OAuth1Options, ctx: &AuthContext<'_>) -> Result<Client, AuthError> {
    let clients = ctx.target.credentials["oauth1"]["clients"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let callback_of = |c: &Value| {
        let cb = field(c, "callback");
        if cb.is_empty() {
            field(c, "uri")
        } else {
            cb
        }
    };
    if let (Some(key), Some(secret)) = (
        ctx.render(DRIVER, opts.consumer_key.as_ref())?,
        ctx.render(DRIVER, opts.consumer_secret.as_ref())?,
    ) {
        let callback = clients
            .iter()
            .find(|c| field(c, "key") == key)
            .or_else(|| clients.first())
            .map(callback_of)
            .unwrap_or_else(|| "oob".to_owned());
        return Ok(Client {
            key,
            secret,
            callback,
        });
    }
    if clients.is_empty() {
        // A pre-provisioned token may carry its consumer.
        if let Some(p) = crate::live::tokens::oauth1(&ctx.target.credentials).map_err(err)? {
            if let (Some(key), Some(secret)) = (p.consumer_key, p.consumer_secret) {
                return Ok(Client {
                    key,
                    secret,
                    callback: "oob".to_owned(),
                });
            }
        }
        return Err(err(
            "the target's credentials list no `oauth1.clients` (expected the shape of the mock's /__admin/credentials); give `consumer_key` and `consumer_secret`",
        ));
    }
    let chosen = match &opts.client {
        None => clients.first(),
        Some(ClientRef::Index(i)) => clients.get(*i),
        Some(ClientRef::Name(n)) => clients
            .iter()
            .find(|c| field(c, "name") == *n || field(c, "key") == *n),
    }
    .ok_or_else(|| {
        err(format!(
            "no client {:?} in `credentials.oauth1.clients`",
            opts.client
        ))
    })?;
    Ok(Client {
        key: field(chosen, "key"),
        secret: field(chosen, "secret"),
        callback: callback_of(chosen),
    })
}

/// `timestamp`, or now plus `timestamp_offset`.
fn timestamp(opts: &OAuth1Options, ctx: &AuthContext<'_>) -> Result<Option<u64>, AuthError> {
    if let Some(t) = ctx.render(DRIVER, opts.timestamp.as_ref())? {
        return t.trim().parse::<u64>().map(Some).map_err(|_| {
            err(format!(
                "`timestamp` must be seconds since the epoch, got `{t}`"
            ))
        });
    }
    if opts.timestamp_offset == 0 {
        return Ok(None);
    }
    let now = chrono::Utc::now().timestamp();
    u64::try_from(now.saturating_add(opts.timestamp_offset))
        .map(Some)
        .map_err(|_| err("`timestamp_offset` puts the timestamp before 1970"))
}

/// A protocol endpoint's URL from the credentials document.
fn endpoint(ctx: &AuthContext<'_>, name: &str) -> String {
    let path = ctx.target.credentials["oauth1"][name]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("/ws/oauth/{name}"));
    ctx.target.url(&path)
}

/// The scenario's access token for this client and user, running the
/// three-legged flow the first time (or every time with `fresh`).
async fn access_token(
    opts: &OAuth1Options,
    ctx: &mut AuthContext<'_>,
    client: &Client,
    timestamp: Option<u64>,
) -> Result<(String, String), AuthError> {
    let username = ctx.render(DRIVER, opts.user.as_ref())?;
    let u = user(DRIVER, &ctx.target.credentials, username.as_deref())?.clone();
    let callback = ctx
        .render(DRIVER, opts.callback.as_ref())?
        .unwrap_or_else(|| client.callback.clone());
    let scope = ctx.render(DRIVER, opts.scope.as_ref())?;
    let key = (
        client.key.clone(),
        field(&u, "username"),
        callback.clone(),
        scope.clone().unwrap_or_default(),
    );
    if !opts.fresh {
        if let Some(t) = ctx.state.oauth1.tokens.get(&key) {
            return Ok(t.clone());
        }
    }
    let legs = Signing {
        placement: opts.placement,
        timestamp,
        version: opts.version,
        ..Signing::default()
    };
    let token = flow(ctx, client, &u, &callback, scope.as_deref(), &legs).await?;
    ctx.state.oauth1.tokens.insert(key, token.clone());
    Ok(token)
}

/// initiate → consent page, login, allow → token.
async fn flow(
    ctx: &AuthContext<'_>,
    client: &Client,
    u: &Value,
    callback: &str,
    scope: Option<&str>,
    legs: &Signing,
) -> Result<(String, String), AuthError> {
    let creds = Credentials {
        consumer_key: &client.key,
        consumer_secret: &client.secret,
        ..Credentials::default()
    };
    let mut req = post(endpoint(ctx, "initiate"));
    if let Some(scope) = scope {
        add_form_param(&mut req, "scope", scope)?;
    }
    sign(
        &mut req,
        &Credentials {
            callback: Some(callback),
            ..creds
        },
        legs,
    )?;
    let resp = send(ctx.transport, &req, "initiate").await?;
    let (rt, rts) = token_pair(&resp, "initiate")?;

    let consent = open_consent(ctx, u, &rt).await?;
    let mut form = consent.form.clone();
    form.set("oauthDecision", "allow");
    let decision = HttpRequest {
        method: "POST".into(),
        url: consent.action.clone(),
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: Some(encode_pairs(&form.fields).into()),
    };
    let resp = send(&consent.browser, &decision, "authorize decision").await?;
    let verifier = verifier_of(&resp, &consent.action)?;

    let mut req = post(endpoint(ctx, "token"));
    sign(
        &mut req,
        &Credentials {
            token: Some((&rt, &rts)),
            verifier: Some(&verifier),
            ..creds
        },
        legs,
    )?;
    let resp = send(ctx.transport, &req, "token").await?;
    token_pair(&resp, "token")
}

fn post(url: String) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        url,
        headers: Vec::new(),
        body: None,
    }
}

async fn send(t: &Transport, req: &HttpRequest, leg: &str) -> Result<HttpResponse, AuthError> {
    t.send(req)
        .await
        .map_err(|e| err(format!("{leg}: {} {}: {e}", req.method, req.url)))
}

fn excerpt(resp: &HttpResponse) -> String {
    let text = resp.text();
    let short: String = text.chars().take(300).collect();
    if short.is_empty() {
        "(empty body)".to_owned()
    } else {
        short
    }
}

/// `oauth_token` and `oauth_token_secret` of a form-encoded answer.
fn token_pair(resp: &HttpResponse, leg: &str) -> Result<(String, String), AuthError> {
    if resp.status != 200 {
        return Err(err(format!(
            "{leg} answered HTTP {}: {}",
            resp.status,
            excerpt(resp)
        )));
    }
    let pairs = decode_pairs(&resp.text());
    let get = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    match (get("oauth_token"), get("oauth_token_secret")) {
        (Some(t), Some(s)) => Ok((t, s)),
        _ => Err(err(format!(
            "{leg} answered without oauth_token and oauth_token_secret: {}",
            excerpt(resp)
        ))),
    }
}

/// A consent page opened in a fresh browser, with the user logged in.
struct OpenConsent {
    browser: Transport,
    form: Form,
    /// The form's action, absolute.
    action: String,
    /// The browser's `JSESSIONID`, if the server set one.
    session: Option<String>,
}

/// Opens `/authorize?oauth_token=T` in a new browser, logs in as the
/// page's script does (AJAX `login.do` with the token), and finds the
/// consent form (re-reading the page if it only appears once logged in).
async fn open_consent(
    ctx: &AuthContext<'_>,
    u: &Value,
    request_token: &str,
) -> Result<OpenConsent, AuthError> {
    let browser = ctx
        .transport
        .fresh()
        .map_err(|e| err(format!("browser: {e}")))?;
    let page_url = format!(
        "{}?oauth_token={}",
        endpoint(ctx, "authorize"),
        encode(request_token)
    );
    let get = HttpRequest {
        method: "GET".into(),
        url: page_url.clone(),
        headers: Vec::new(),
        body: None,
    };
    let page = send(&browser, &get, "authorize page").await?;
    if page.status != 200 {
        return Err(err(format!(
            "the consent page answered HTTP {}: {}",
            page.status,
            excerpt(&page)
        )));
    }
    let mut session = session_cookie(&page);
    super::session::login(ctx, u, true, Some((&browser, request_token))).await?;
    let mut form = consent_form(&page.text());
    if form.is_none() {
        let again = send(&browser, &get, "authorize page").await?;
        session = session_cookie(&again).or(session);
        form = consent_form(&again.text());
    }
    let form = form.ok_or_else(|| {
        err(format!(
            "the consent page has no form with `oauth_token`: {}",
            excerpt(&page)
        ))
    })?;
    let action = url::Url::parse(&page_url)
        .and_then(|base| base.join(&form.action))
        .map(String::from)
        .map_err(|e| err(format!("the consent form's action `{}`: {e}", form.action)))?;
    Ok(OpenConsent {
        browser,
        form,
        action,
        session,
    })
}

fn consent_form(html: &str) -> Option<Form> {
    forms(html)
        .into_iter()
        .find(|f| f.field("oauth_token").is_some() || f.field("oauthDecision").is_some())
}

fn session_cookie(resp: &HttpResponse) -> Option<String> {
    resp.header_values("set-cookie")
        .iter()
        .find_map(|c| c.strip_prefix("JSESSIONID="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// The verifier of the decision's answer: a redirect to the callback, or
/// Open-O's `oauth_verifier=V` text for an out-of-band callback.
fn verifier_of(resp: &HttpResponse, base: &str) -> Result<String, AuthError> {
    let pairs = if (300..400).contains(&resp.status) {
        let location = resp.header("location").unwrap_or("");
        let url = url::Url::parse(base)
            .and_then(|b| b.join(location))
            .map_err(|e| err(format!("the decision redirected to `{location}`: {e}")))?;
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    } else if resp.status == 200 {
        decode_pairs(resp.text().trim())
    } else {
        Vec::new()
    };
    pairs
        .into_iter()
        .find(|(k, _)| k == "oauth_verifier")
        .map(|(_, v)| v)
        .ok_or_else(|| {
            err(format!(
                "the consent decision gave no oauth_verifier: HTTP {} {} {}",
                resp.status,
                resp.header("location").unwrap_or(""),
                excerpt(resp)
            ))
        })
}

/// `leg: authorize`: the step's request becomes the consent form's
/// submission (with the decision asked for) from the user's browser
/// session.
async fn consent_step(
    ctx: &AuthContext<'_>,
    username: Option<&str>,
    request_token: &str,
    consent: Consent,
    req: &mut HttpRequest,
) -> Result<(), AuthError> {
    if req.body.is_some() {
        return Err(err(
            "`leg: authorize` fills the request's body with the consent form; remove the step's body",
        ));
    }
    let u = user(DRIVER, &ctx.target.credentials, username)?.clone();
    let mut opened = open_consent(ctx, &u, request_token).await?;
    let decision = match consent {
        Consent::Allow => "allow",
        Consent::Deny => "deny",
    };
    opened.form.set("oauthDecision", decision);
    let form_path = path_without_params(&opened.action);
    let step_path = path_without_params(&req.url);
    if form_path != step_path {
        return Err(err(format!(
            "the consent form posts to `{form_path}`, but the step sends to `{step_path}`"
        )));
    }
    req.body = Some(encode_pairs(&opened.form.fields).into());
    req.headers.push((
        "Content-Type".into(),
        "application/x-www-form-urlencoded".into(),
    ));
    if let Some(id) = opened.session {
        req.headers
            .push(("Cookie".into(), format!("JSESSIONID={id}")));
    }
    Ok(())
}

/// The path of a URL without `;jsessionid=` style parameters.
fn path_without_params(u: &str) -> String {
    let path = url::Url::parse(u)
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|_| u.to_owned());
    path.split('/')
        .map(|s| s.split(';').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("/")
}

// ---- signing ---------------------------------------------------------------

/// `a=1&b=%20` → decoded pairs, `+` as a space (form encoding).
fn decode_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |x: &str| {
                percent_decode_str(&x.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

fn is_form(req: &HttpRequest) -> bool {
    req.headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("content-type")
            && v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
    })
}

/// Adds a parameter to the request's form body (creating one).
fn add_form_param(req: &mut HttpRequest, name: &str, value: &str) -> Result<(), AuthError> {
    let pair = format!("{}={}", encode(name), encode(value));
    match &req.body {
        Some(_) if !is_form(req) => Err(err(format!(
            "`{name}` goes in a form body, but the request has another body"
        ))),
        Some(b) => {
            let old = String::from_utf8_lossy(b).into_owned();
            let joined = if old.is_empty() {
                pair
            } else {
                format!("{old}&{pair}")
            };
            req.body = Some(joined.into());
            Ok(())
        }
        None => {
            req.body = Some(pair.into());
            req.headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
            Ok(())
        }
    }
}

/// The request's own parameters, for `oauth1-request`: RFC 5849 sorts the
/// *encoded* names and values, and the crate writes a parameter's name
/// into the base string as given, so names are passed encoded twice and
/// values encoded once (the crate encodes them again).
struct EncodedParams(Vec<(String, String)>);

impl EncodedParams {
    fn new(decoded: &[(String, String)]) -> EncodedParams {
        let mut once: Vec<(String, String)> = decoded
            .iter()
            .map(|(k, v)| (encode(k), encode(v)))
            .collect();
        once.sort();
        EncodedParams(once.into_iter().map(|(k, v)| (encode(&k), v)).collect())
    }
}

const OAUTH_PARAMS: [&str; 8] = [
    "oauth_callback",
    "oauth_consumer_key",
    "oauth_nonce",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_token",
    "oauth_verifier",
    "oauth_version",
];

fn serialize_oauth<S: Serializer>(s: &mut S, i: usize) {
    match i {
        0 => s.serialize_oauth_callback(),
        1 => s.serialize_oauth_consumer_key(),
        2 => s.serialize_oauth_nonce(),
        3 => s.serialize_oauth_signature_method(),
        4 => s.serialize_oauth_timestamp(),
        5 => s.serialize_oauth_token(),
        6 => s.serialize_oauth_verifier(),
        _ => s.serialize_oauth_version(),
    }
}

impl oauth::Request for EncodedParams {
    fn serialize<S: Serializer>(&self, mut serializer: S) -> S::Output {
        // The `oauth_*` parameters go in at their place in the order.
        let mut next = 0;
        for (k, v) in &self.0 {
            while next < OAUTH_PARAMS.len() && OAUTH_PARAMS[next] < k.as_str() {
                serialize_oauth(&mut serializer, next);
                next += 1;
            }
            serializer.serialize_parameter_encoded(k, v);
        }
        while next < OAUTH_PARAMS.len() {
            serialize_oauth(&mut serializer, next);
            next += 1;
        }
        serializer.end()
    }
}

fn authorization<SM>(
    method: SM,
    http_method: &str,
    uri: impl Display,
    creds: &Credentials<'_>,
    s: &Signing,
    params: &EncodedParams,
) -> String
where
    SM: SignatureMethod + Clone,
{
    let mut b = oauth::Builder::<_, &str, &str>::new(
        oauth::Credentials::new(creds.consumer_key, creds.consumer_secret),
        method,
    );
    b.token(creds.token.map(|(t, s)| oauth::Credentials::new(t, s)))
        .callback(creds.callback)
        .verifier(creds.verifier)
        .nonce(s.nonce.as_deref())
        .timestamp(s.timestamp.and_then(NonZeroU64::new))
        .version(s.version);
    b.authorize(http_method, uri, params)
}

/// Signs `req` in place: its query and (form) body parameters enter the
/// signature, and the `oauth_*` parameters are added where `s.placement`
/// says.
pub fn sign(req: &mut HttpRequest, creds: &Credentials<'_>, s: &Signing) -> Result<(), AuthError> {
    let url = url::Url::parse(&req.url).map_err(|e| err(format!("`{}`: {e}", req.url)))?;
    let host = url
        .host_str()
        .ok_or_else(|| err(format!("`{}` has no host", req.url)))?;
    let authority = match url.port() {
        Some(p) => format!("{}:{p}", host.to_ascii_lowercase()),
        None => host.to_ascii_lowercase(),
    };
    let base_uri = format!("{}://{authority}{}", url.scheme(), url.path());
    let mut params = url.query().map(decode_pairs).unwrap_or_default();
    if is_form(req) {
        if let Some(b) = &req.body {
            params.extend(decode_pairs(&String::from_utf8_lossy(b)));
        }
    }
    let encoded = EncodedParams::new(&params);
    let header = match s.method {
        SignatureMethodName::HmacSha1 => authorization(
            oauth::HmacSha1::new(),
            &req.method,
            &base_uri,
            creds,
            s,
            &encoded,
        ),
        SignatureMethodName::Plaintext => authorization(
            oauth::Plaintext::new(),
            &req.method,
            &base_uri,
            creds,
            s,
            &encoded,
        ),
    };
    let mut pairs = header_pairs(&header);
    if s.corrupt {
        corrupt(&mut pairs);
    }
    match s.placement {
        Placement::Header => {
            let value = pairs
                .iter()
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect::<Vec<_>>()
                .join(",");
            req.headers
                .push(("Authorization".into(), format!("OAuth {value}")));
        }
        Placement::Query => {
            let extra = join_pairs(&pairs);
            req.url.push(if url.query().is_some() { '&' } else { '?' });
            req.url.push_str(&extra);
        }
        Placement::Form => {
            if matches!(req.method.as_str(), "GET" | "HEAD" | "DELETE" | "OPTIONS") {
                return Err(err(format!(
                    "`placement: form` puts the parameters in the body, which a {} request does not carry",
                    req.method
                )));
            }
            if req.body.is_some() && !is_form(req) {
                return Err(err("`placement: form` needs a form body (or none)"));
            }
            let extra = join_pairs(&pairs);
            let body = match &req.body {
                Some(b) if !b.is_empty() => format!("{}&{extra}", String::from_utf8_lossy(b)),
                _ => extra,
            };
            if !is_form(req) {
                req.headers.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
            }
            req.body = Some(body.into());
        }
    }
    Ok(())
}

fn join_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `OAuth k="v",...` → `(k, v)` with `v` still percent-encoded.
fn header_pairs(header: &str) -> Vec<(String, String)> {
    header
        .trim_start_matches("OAuth ")
        .split(',')
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        })
        .collect()
}

/// Changes one character of the signature, keeping it well-formed.
fn corrupt(pairs: &mut [(String, String)]) {
    if let Some((_, v)) = pairs.iter_mut().find(|(k, _)| k == "oauth_signature") {
        let decoded = percent_decode_str(v).decode_utf8_lossy().into_owned();
        let mut chars: Vec<char> = decoded.chars().collect();
        if let Some(c) = chars.first_mut() {
            *c = if *c == 'A' { 'B' } else { 'A' };
        }
        *v = encode(&chars.into_iter().collect::<String>());
    }
}

/// `emr-conformance auth` for OSCAR: a request token whose callback is the
/// loopback receiver, the user's approval in a browser, then the access
/// token. The client is the credentials' first `oauth1.clients` entry (or
/// the consumer of `tokens.oauth1`); classic OSCAR accepts the callback only
/// if it starts with the client's registered URI, so register the client
/// with `http://127.0.0.1:PORT/` and give that port as `auth.redirect_port`.
pub struct Interactive;

impl crate::live::interactive::InteractiveFlow for Interactive {
    fn driver(&self) -> &'static str {
        DRIVER
    }

    fn supports(&self, profile: emr_catalog::ProfileId) -> bool {
        profile.family() == emr_catalog::Family::Oscar
    }

    fn begin<'a>(
        &'a self,
        target: &'a crate::target::Target,
        transport: &'a Transport,
        redirect_uri: &'a str,
    ) -> crate::live::interactive::BoxFuture<'a, Result<crate::live::interactive::Pending, AuthError>>
    {
        Box::pin(async move {
            let mut state = super::AuthState::default();
            let mut vars = crate::scenario::Vars::default();
            let ctx = AuthContext {
                target,
                transport,
                state: &mut state,
                vars: &mut vars,
            };
            let client = client(&OAuth1Options::default(), &ctx)?;
            let mut req = post(endpoint(&ctx, "initiate"));
            sign(
                &mut req,
                &Credentials {
                    consumer_key: &client.key,
                    consumer_secret: &client.secret,
                    callback: Some(redirect_uri),
                    ..Credentials::default()
                },
                &Signing::default(),
            )?;
            let resp = send(transport, &req, "initiate").await?;
            let (token, secret) = token_pair(&resp, "initiate")?;
            Ok(crate::live::interactive::Pending {
                authorize_url: format!(
                    "{}?oauth_token={}",
                    endpoint(&ctx, "authorize"),
                    encode(&token)
                ),
                expect: vec![("oauth_token".to_owned(), token.clone())],
                carry: serde_json::json!({
                    "token": token,
                    "token_secret": secret,
                    "consumer_key": client.key,
                    "consumer_secret": client.secret,
                }),
            })
        })
    }

    fn finish<'a>(
        &'a self,
        target: &'a crate::target::Target,
        transport: &'a Transport,
        pending: &'a crate::live::interactive::Pending,
        callback: &'a std::collections::BTreeMap<String, String>,
    ) -> crate::live::interactive::BoxFuture<'a, Result<Value, AuthError>> {
        Box::pin(async move {
            let verifier = callback.get("oauth_verifier").ok_or_else(|| {
                err("the callback carries no oauth_verifier: access was denied on the consent page")
            })?;
            let carried = |name: &str| field(&pending.carry, name);
            let (key, secret) = (carried("consumer_key"), carried("consumer_secret"));
            let (token, token_secret) = (carried("token"), carried("token_secret"));
            let mut state = super::AuthState::default();
            let mut vars = crate::scenario::Vars::default();
            let ctx = AuthContext {
                target,
                transport,
                state: &mut state,
                vars: &mut vars,
            };
            let mut req = post(endpoint(&ctx, "token"));
            sign(
                &mut req,
                &Credentials {
                    consumer_key: &key,
                    consumer_secret: &secret,
                    token: Some((&token, &token_secret)),
                    verifier: Some(verifier),
                    ..Credentials::default()
                },
                &Signing::default(),
            )?;
            let resp = send(transport, &req, "token").await?;
            let (token, token_secret) = token_pair(&resp, "token")?;
            Ok(serde_json::json!({
                "token": token,
                "token_secret": token_secret,
                "consumer_key": key,
                "consumer_secret": secret,
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_rfc_5849_example_request() {
        // RFC 5849 1.2: GET /photos?file=vacation.jpg&size=original.
        let mut req = HttpRequest {
            method: "GET".into(),
            url: "http://photos.example.net/photos?file=vacation.jpg&size=original".into(),
            headers: Vec::new(),
            body: None,
        };
        let s = Signing {
            nonce: Some("chapoH".into()),
            timestamp: Some(137131202),
            version: false,
            ..Signing::default()
        };
        sign(
            &mut req,
            &Credentials {
                consumer_key: "dpf43f3p2l4k3l03",
                consumer_secret: "kd94hf93k423kf44",
                token: Some(("nnch734d00sl2jdk", "pfkkdhi9sl3r4s00")),
                ..Credentials::default()
            },
            &s,
        )
        .unwrap();
        let auth = &req.headers[0].1;
        assert!(
            auth.contains(r#"oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D""#),
            "{auth}"
        );
    }

    #[test]
    fn parameters_are_sorted_by_their_encoded_form() {
        // Raw order would put `z` before `é`; encoded, `%C3%A9` sorts first.
        let p = EncodedParams::new(&[("z".into(), "1".into()), ("é".into(), "2".into())]);
        assert_eq!(p.0[0].0, "%25C3%25A9");
        assert_eq!(p.0[1], ("z".to_owned(), "1".to_owned()));
    }

    #[test]
    fn placements_put_the_parameters_where_asked() {
        let creds = Credentials {
            consumer_key: "k",
            consumer_secret: "s",
            ..Credentials::default()
        };
        let base = HttpRequest {
            method: "POST".into(),
            url: "http://h.example/p?a=1".into(),
            headers: Vec::new(),
            body: None,
        };
        let mut q = base.clone();
        sign(
            &mut q,
            &creds,
            &Signing {
                placement: Placement::Query,
                ..Signing::default()
            },
        )
        .unwrap();
        assert!(
            q.url
                .starts_with("http://h.example/p?a=1&oauth_consumer_key=k&"),
            "{}",
            q.url
        );
        let mut f = base.clone();
        sign(
            &mut f,
            &creds,
            &Signing {
                placement: Placement::Form,
                ..Signing::default()
            },
        )
        .unwrap();
        let body = String::from_utf8_lossy(f.body.as_ref().unwrap()).into_owned();
        assert!(body.contains("oauth_signature="), "{body}");
        assert!(is_form(&f));
        let mut c = base;
        sign(
            &mut c,
            &creds,
            &Signing {
                corrupt: true,
                nonce: Some("n".into()),
                timestamp: Some(5),
                ..Signing::default()
            },
        )
        .unwrap();
        let mut ok = HttpRequest {
            headers: Vec::new(),
            ..c.clone()
        };
        sign(
            &mut ok,
            &creds,
            &Signing {
                nonce: Some("n".into()),
                timestamp: Some(5),
                ..Signing::default()
            },
        )
        .unwrap();
        assert_ne!(c.headers[0].1, ok.headers[0].1);
    }
}
