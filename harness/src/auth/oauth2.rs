//! The `oauth2` driver: obtains a bearer token from an OpenEMR-family
//! authorization server and signs each request with it.
//!
//! Grants: authorization code (driving the login, patient-picker and
//! consent pages over HTTP, with PKCE S256), password, and client
//! credentials with a `private_key_jwt` assertion it signs itself (RS384,
//! key from the credentials document or generated). It can register the
//! client first (RFC 7591), caches tokens per scenario, refreshes them when
//! stale, and publishes what it obtained as `{{oauth2.*}}`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use bytes::Bytes;
use rand::{Rng, RngCore};
use regex::Regex;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384};
use serde_json::{json, Value};

use super::forms::{fields, form_action, Attributes};
use super::{AuthContext, AuthError};
use crate::runner::encode_pairs;
use crate::scenario::{
    render_json, ClientAuth, KeySpec, LoginRole, OAuth2Grant, OAuth2Spec, SeededClient, Tamper,
    Template, Vars,
};
use crate::transport::{HttpRequest, HttpResponse};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn fail(message: impl Into<String>) -> AuthError {
    AuthError::Failed {
        driver: "oauth2",
        message: message.into(),
    }
}

/// Tokens from one token response.
#[derive(Debug, Clone)]
struct Tokens {
    response: Value,
    access: String,
    refresh: Option<String>,
    obtained: Instant,
    lifetime: Duration,
}

/// A client the driver acts as.
#[derive(Debug, Clone)]
struct ClientInfo {
    id: String,
    secret: String,
    redirect_uri: String,
    auth: ClientAuth,
}

/// What one spec obtained in this scenario.
#[derive(Debug, Clone)]
struct Session {
    client: ClientInfo,
    tokens: Option<Tokens>,
    published: Value,
}

/// The driver's per-scenario state.
#[derive(Debug, Default)]
pub struct OAuth2State {
    sessions: HashMap<String, Session>,
    /// The scenario's generated assertion key, made once.
    generated: Option<Arc<(Vec<u8>, String)>>,
}

pub async fn authorize(
    spec: &OAuth2Spec,
    ctx: &mut AuthContext<'_>,
    req: &mut HttpRequest,
) -> Result<(), AuthError> {
    // A token provided with the target (`credentials.tokens.oauth2`) is
    // used as it is, for the grants that end in a bearer token.
    if spec.exchange && spec.tamper.is_none() {
        if let Some(t) = crate::live::tokens::oauth2(&ctx.target.credentials).map_err(fail)? {
            if t.expired(chrono::Utc::now().timestamp()) {
                return Err(fail(
                    "the provided access token (credentials.tokens.oauth2) has expired: run `emr-conformance auth` again or provide a new one",
                ));
            }
            req.headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
            req.headers
                .push(("Authorization".into(), format!("Bearer {}", t.access_token)));
            return Ok(());
        }
    }
    let key = spec.cache_key();
    // Most requests find a fresh session: it is used where it is kept.
    if let Some(s) = ctx.state.oauth2.sessions.get(key) {
        if !stale(spec, s) {
            return present(spec, s, ctx.vars, req);
        }
    }
    let existing = ctx.state.oauth2.sessions.get(key).cloned();
    let session = match existing {
        Some(s) => match refresh(spec, ctx, &s).await {
            Ok(s) => s,
            Err(_) => obtain(spec, ctx, Some(s.client)).await?,
        },
        None => obtain(spec, ctx, None).await?,
    };
    present(spec, &session, ctx.vars, req)?;
    ctx.state.oauth2.sessions.insert(key.to_owned(), session);
    Ok(())
}

/// Publishes a session as `{{oauth2.*}}` and puts its bearer token (as
/// the spec tampers with it) on the request.
fn present(
    spec: &OAuth2Spec,
    session: &Session,
    vars: &mut Vars,
    req: &mut HttpRequest,
) -> Result<(), AuthError> {
    vars.set("oauth2", session.published.clone());
    if let Some(t) = &session.tokens {
        let token = match spec.tamper {
            None => Cow::Borrowed(t.access.as_str()),
            Some(how) => Cow::Owned(tamper(t, how)?),
        };
        req.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
        req.headers
            .push(("Authorization".into(), format!("Bearer {token}")));
    }
    Ok(())
}

fn stale(spec: &OAuth2Spec, s: &Session) -> bool {
    let Some(t) = &s.tokens else {
        return false;
    };
    let limit = match spec.refresh_after {
        Some(secs) => Duration::from_secs(secs),
        None => t.lifetime.saturating_sub(Duration::from_secs(30)),
    };
    t.obtained.elapsed() >= limit
}

fn render(t: &Template, vars: &Vars) -> Result<String, AuthError> {
    t.render(vars).map_err(|e| fail(e.to_string()))
}

fn opt(t: &Option<Template>, vars: &Vars) -> Result<Option<String>, AuthError> {
    t.as_ref().map(|t| render(t, vars)).transpose()
}

/// The site's section of the credentials document, borrowed: it holds
/// the site's seeded users and patients, too many to copy per request.
fn site_doc<'t>(ctx: &AuthContext<'t>, site: &str) -> &'t Value {
    static NULL: Value = Value::Null;
    ctx.target
        .credentials
        .pointer(&format!("/sites/{site}"))
        .unwrap_or(&NULL)
}

/// Endpoint URLs: the credentials document's paths, else the profile's.
struct Endpoints {
    base: String,
    token: String,
}

fn endpoints(ctx: &AuthContext<'_>, site: &str) -> Endpoints {
    let doc = site_doc(ctx, site);
    let base_path = doc
        .pointer("/oauth2/authorization_path")
        .and_then(Value::as_str)
        .map(|p| p.trim_end_matches("/authorize").to_owned())
        .unwrap_or_else(|| match ctx.target.profile {
            emr_catalog::ProfileId::EMedPractice => "/connect".to_owned(),
            _ => format!("/oauth2/{site}"),
        });
    let base = format!("{}{}{}", ctx.target.root, ctx.target.context, base_path);
    Endpoints {
        token: format!("{base}/token"),
        base,
    }
}

async fn send(ctx: &mut AuthContext<'_>, req: HttpRequest) -> Result<HttpResponse, AuthError> {
    ctx.state.calls.push((req.method.clone(), req.url.clone()));
    ctx.transport
        .send(&req)
        .await
        .map_err(|e| fail(format!("{} {}: {e}", req.method, req.url)))
}

fn form_request(
    url: &str,
    pairs: &[(String, String)],
    headers: Vec<(String, String)>,
) -> HttpRequest {
    let mut h = headers;
    h.push((
        "Content-Type".into(),
        "application/x-www-form-urlencoded".into(),
    ));
    HttpRequest {
        method: "POST".into(),
        url: url.to_owned(),
        headers: h,
        body: Some(Bytes::from(encode_pairs(pairs))),
    }
}

fn get_request(url: &str) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: url.to_owned(),
        headers: Vec::new(),
        body: None,
    }
}

fn excerpt(r: &HttpResponse) -> String {
    let t = r.text();
    let t: String = t.chars().take(300).collect();
    format!("HTTP {} {t}", r.status)
}

/// An absolute URL for a `Location` header.
fn absolute(ctx: &AuthContext<'_>, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_owned()
    } else {
        format!("{}{location}", ctx.target.root)
    }
}

fn location(r: &HttpResponse, what: &str) -> Result<String, AuthError> {
    if !(300..400).contains(&r.status) {
        return Err(fail(format!(
            "{what}: expected a redirect, got {}",
            excerpt(r)
        )));
    }
    r.header("location")
        .map(str::to_owned)
        .ok_or_else(|| fail(format!("{what}: redirect without Location")))
}

/// Runs registration (if asked) and the grant.
async fn obtain(
    spec: &OAuth2Spec,
    ctx: &mut AuthContext<'_>,
    known: Option<ClientInfo>,
) -> Result<Session, AuthError> {
    let site = match &spec.site {
        Some(t) => render(t, ctx.vars)?,
        None => ctx.target.site.clone(),
    };
    let ep = endpoints(ctx, &site);
    let client = match known {
        Some(c) => c,
        None => client(spec, ctx, &site, &ep).await?,
    };
    let mut published = json!({
        "client_id": client.id,
        "client_secret": client.secret,
        "redirect_uri": client.redirect_uri,
        "site": site,
    });
    let form: Vec<(String, String)> = match spec.grant {
        OAuth2Grant::AuthorizationCode => {
            let (code, verifier) = browser_flow(spec, ctx, &ep, &client, &mut published).await?;
            published["code"] = json!(code);
            published["code_verifier"] = json!(verifier);
            if !spec.exchange {
                return Ok(Session {
                    client,
                    tokens: None,
                    published,
                });
            }
            let mut f = vec![
                ("grant_type".to_owned(), "authorization_code".to_owned()),
                ("code".to_owned(), code),
                ("redirect_uri".to_owned(), client.redirect_uri.clone()),
            ];
            if let Some(v) = verifier {
                f.push(("code_verifier".into(), v));
            }
            f
        }
        OAuth2Grant::Password => {
            let (username, password, email, role) = login(spec, ctx, &site)?;
            let mut f = vec![
                ("grant_type".to_owned(), "password".to_owned()),
                (
                    "user_role".to_owned(),
                    match role {
                        LoginRole::Users => "users",
                        LoginRole::Patient => "patient",
                    }
                    .to_owned(),
                ),
                ("username".to_owned(), username),
                ("password".to_owned(), password),
            ];
            if role == LoginRole::Patient {
                f.push(("email".into(), email));
            }
            f.push(("scope".into(), render(&spec.scope, ctx.vars)?));
            f
        }
        OAuth2Grant::ClientCredentials => {
            if !spec.exchange {
                // Hand the assertion to the scenario instead of using it.
                let assertion = assertion(spec, ctx, &client, &site, &ep.token)?;
                published["client_assertion"] = json!(assertion);
                published["client_assertion_type"] = json!(JWT_BEARER);
                return Ok(Session {
                    client,
                    tokens: None,
                    published,
                });
            }
            vec![
                ("grant_type".to_owned(), "client_credentials".to_owned()),
                ("scope".to_owned(), render(&spec.scope, ctx.vars)?),
            ]
        }
    };
    let tokens = token_request(spec, ctx, &ep, &client, &site, form).await?;
    publish(&mut published, &tokens);
    Ok(Session {
        client,
        tokens: Some(tokens),
        published,
    })
}

fn publish(published: &mut Value, t: &Tokens) {
    for key in [
        "access_token",
        "refresh_token",
        "id_token",
        "expires_in",
        "scope",
        "patient",
        "token_type",
    ] {
        if let Some(v) = t.response.get(key) {
            published[key] = v.clone();
        } else if let Some(o) = published.as_object_mut() {
            o.remove(key);
        }
    }
}

/// The client: registered now, named explicitly, or seeded.
async fn client(
    spec: &OAuth2Spec,
    ctx: &mut AuthContext<'_>,
    site: &str,
    ep: &Endpoints,
) -> Result<ClientInfo, AuthError> {
    let default_auth = |confidential: bool| match (spec.grant, confidential) {
        (OAuth2Grant::ClientCredentials, _) => ClientAuth::PrivateKeyJwt,
        (_, true) => ClientAuth::Basic,
        (_, false) => ClientAuth::None,
    };
    if let Some(crate::scenario::Json(meta)) = &spec.register {
        let mut meta = render_json(meta, ctx.vars).map_err(|e| fail(e.to_string()))?;
        if matches!(spec.key, Some(KeySpec::Generated))
            && meta.get("jwks").is_none()
            && meta.get("jwks_uri").is_none()
        {
            let (_, jwk) = &*generated_key(ctx)?;
            meta["jwks"] =
                json!({"keys": [serde_json::from_str::<Value>(jwk).unwrap_or_default()]});
        }
        let req = HttpRequest {
            method: "POST".into(),
            url: format!("{}/registration", ep.base),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(Bytes::from(meta.to_string())),
        };
        let r = send(ctx, req).await?;
        let doc = r.json().unwrap_or(Cow::Owned(Value::Null));
        let id = doc
            .get("client_id")
            .and_then(Value::as_str)
            .filter(|_| r.status == 200)
            .ok_or_else(|| fail(format!("registration failed: {}", excerpt(&r))))?
            .to_owned();
        let secret = doc
            .get("client_secret")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if spec.approve {
            let req = HttpRequest {
                method: "POST".into(),
                url: format!("{}/__admin/openemr/clients/{id}", ctx.target.root),
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: Some(Bytes::from_static(b"{\"enabled\":true}")),
            };
            let r = send(ctx, req).await?;
            if r.status != 200 {
                return Err(fail(format!(
                    "approving the client failed: {}",
                    excerpt(&r)
                )));
            }
        }
        let redirect_uri = match opt(&spec.redirect_uri, ctx.vars)? {
            Some(u) => u,
            None => meta
                .pointer("/redirect_uris/0")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        };
        let confidential = !secret.is_empty();
        return Ok(ClientInfo {
            id,
            secret,
            redirect_uri,
            auth: spec.client_auth.unwrap_or(default_auth(confidential)),
        });
    }
    if let Some(id) = opt(&spec.client_id, ctx.vars)? {
        let secret = opt(&spec.client_secret, ctx.vars)?.unwrap_or_default();
        let confidential = !secret.is_empty();
        return Ok(ClientInfo {
            id,
            secret,
            redirect_uri: opt(&spec.redirect_uri, ctx.vars)?.unwrap_or_default(),
            auth: spec.client_auth.unwrap_or(default_auth(confidential)),
        });
    }
    let kind = spec.client.unwrap_or(match (spec.grant, spec.role) {
        (OAuth2Grant::ClientCredentials, _) => SeededClient::Jwks,
        (OAuth2Grant::AuthorizationCode, Some(LoginRole::Patient)) => SeededClient::Public,
        _ => SeededClient::Confidential,
    });
    let name = match kind {
        SeededClient::Confidential => "confidential",
        SeededClient::Public => "public",
        SeededClient::Jwks => "jwks",
    };
    let doc = site_doc(ctx, site);
    let c = doc
        .pointer(&format!("/oauth2/{name}"))
        .filter(|c| c.get("client_id").is_some())
        .ok_or_else(|| {
            fail(format!(
                "the credentials have no `sites.{site}.oauth2.{name}` client; name one with `client_id`"
            ))
        })?;
    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let secret = s("client_secret");
    let redirect_uri = match opt(&spec.redirect_uri, ctx.vars)? {
        Some(u) => u,
        None => c
            .pointer("/redirect_uris/0")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    };
    let confidential = !secret.is_empty();
    Ok(ClientInfo {
        id: s("client_id"),
        secret,
        redirect_uri,
        auth: spec.client_auth.unwrap_or(default_auth(confidential)),
    })
}

/// Username, password, e-mail and role for a login.
fn login(
    spec: &OAuth2Spec,
    ctx: &AuthContext<'_>,
    site: &str,
) -> Result<(String, String, String, LoginRole), AuthError> {
    let role = spec.role.unwrap_or(LoginRole::Users);
    let doc = site_doc(ctx, site);
    let seeded = match role {
        LoginRole::Users => doc.pointer("/users/0"),
        LoginRole::Patient => doc.pointer("/patients/0"),
    }
    .unwrap_or(&Value::Null);
    let pick = |t: &Option<Template>, key: &str| -> Result<String, AuthError> {
        match t {
            Some(t) => render(t, ctx.vars),
            None => Ok(seeded
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()),
        }
    };
    Ok((
        pick(&spec.username, "username")?,
        pick(&spec.password, "password")?,
        pick(&spec.email, "email")?,
        role,
    ))
}

/// A built-in pattern, compiled once (`None` only if it were invalid,
/// which the tests of the flows that use it rule out).
fn compiled(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

fn login_error_re() -> Option<&'static Regex> {
    static R: OnceLock<Option<Regex>> = OnceLock::new();
    compiled(&R, r#"(?s)id="login-error">([^<]*)<"#)
}

fn field_value(fields: &[Attributes], name: &str) -> Option<String> {
    fields
        .iter()
        .find(|f| f.get("name") == Some(name))
        .and_then(|f| f.get("value"))
        .map(str::to_owned)
}

fn random_text(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ))
}

/// authorize → login → (patient picker) → consent → code.
async fn browser_flow(
    spec: &OAuth2Spec,
    ctx: &mut AuthContext<'_>,
    ep: &Endpoints,
    client: &ClientInfo,
    published: &mut Value,
) -> Result<(String, Option<String>), AuthError> {
    let site = published["site"].as_str().unwrap_or("").to_owned();
    let state = opt(&spec.state, ctx.vars)?.unwrap_or_else(|| random_text(24));
    let verifier = spec.pkce.unwrap_or(true).then(|| random_text(64));
    let mut q = vec![
        ("response_type".to_owned(), "code".to_owned()),
        ("client_id".to_owned(), client.id.clone()),
        ("redirect_uri".to_owned(), client.redirect_uri.clone()),
        ("scope".to_owned(), render(&spec.scope, ctx.vars)?),
        ("state".to_owned(), state.clone()),
    ];
    if let Some(v) = &verifier {
        q.push(("code_challenge".into(), s256(v)));
        q.push(("code_challenge_method".into(), "S256".into()));
    }
    if let Some(n) = opt(&spec.nonce, ctx.vars)? {
        q.push(("nonce".into(), n));
    }
    published["state"] = json!(state);
    let r = send(
        ctx,
        get_request(&format!("{}/authorize?{}", ep.base, encode_pairs(&q))),
    )
    .await?;
    let mut next = absolute(ctx, &location(&r, "authorize")?);
    if next.starts_with(&client.redirect_uri) {
        return Err(fail(format!("authorize refused: {next}")));
    }
    // The login page.
    let page = send(ctx, get_request(&next)).await?;
    if page.status != 200 {
        return Err(fail(format!("login page: {}", excerpt(&page))));
    }
    let f = fields(&page.text());
    let csrf = field_value(&f, "csrf_token_form").unwrap_or_default();
    let (username, password, email, role) = login(spec, ctx, &site)?;
    let mut form = vec![
        ("csrf_token_form".to_owned(), csrf),
        ("username".to_owned(), username),
        ("password".to_owned(), password),
        (
            "user_role".to_owned(),
            match role {
                LoginRole::Users => "api",
                LoginRole::Patient => "portal-api",
            }
            .to_owned(),
        ),
    ];
    if role == LoginRole::Patient {
        form.push(("email".into(), email));
    }
    let r = send(ctx, form_request(&next, &form, Vec::new())).await?;
    if r.status == 200 {
        return Err(fail(format!(
            "login refused: {}",
            login_error_re()
                .and_then(|re| re.captures(&r.text()).map(|c| c[1].to_owned()))
                .unwrap_or_else(|| excerpt(&r))
        )));
    }
    next = absolute(ctx, &location(&r, "login")?);
    if next.contains("/smart/patient-select") {
        let page = send(ctx, get_request(&next)).await?;
        let f = fields(&page.text());
        let csrf = field_value(&f, "csrf_token").unwrap_or_default();
        let patient = match opt(&spec.patient, ctx.vars)? {
            Some(p) => p,
            None => field_value(&f, "patient_id").ok_or_else(|| {
                fail(format!(
                    "patient picker offers no patient: {}",
                    excerpt(&page)
                ))
            })?,
        };
        let action = form_action(&page.text())
            .map(|a| absolute(ctx, &a))
            .ok_or_else(|| fail("patient picker has no form"))?;
        let r = send(
            ctx,
            form_request(
                &action,
                &[("csrf_token".into(), csrf), ("patient_id".into(), patient)],
                Vec::new(),
            ),
        )
        .await?;
        next = absolute(ctx, &location(&r, "patient picker")?);
    }
    // The consent page: keep every checked scope, approve.
    let page = send(ctx, get_request(&next)).await?;
    if page.status != 200 {
        return Err(fail(format!("consent page: {}", excerpt(&page))));
    }
    let text = page.text();
    let f = fields(&text);
    let action = form_action(&text)
        .map(|a| absolute(ctx, &a))
        .ok_or_else(|| fail("consent page has no form"))?;
    let mut form: Vec<(String, String)> = f
        .iter()
        .filter_map(|x| {
            let name = x.get("name")?;
            let kind = x.get("type").unwrap_or("text");
            let keep = name.starts_with("scope[") && (kind == "hidden" || x.has("checked"))
                || name == "csrf_token_form";
            keep.then(|| {
                (
                    name.to_owned(),
                    x.get("value").unwrap_or_default().to_owned(),
                )
            })
        })
        .collect();
    form.push(("proceed".into(), "1".into()));
    let r = send(ctx, form_request(&action, &form, Vec::new())).await?;
    let back = location(&r, "consent")?;
    let url = url::Url::parse(&absolute(ctx, &back))
        .map_err(|e| fail(format!("bad redirect `{back}`: {e}")))?;
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    if let Some(e) = q.get("error") {
        return Err(fail(format!(
            "authorization refused: {e}: {}",
            q.get("hint")
                .or(q.get("error_description"))
                .cloned()
                .unwrap_or_default()
        )));
    }
    if q.get("state") != Some(&state) {
        return Err(fail(format!(
            "the redirect did not echo state `{state}`: {back}"
        )));
    }
    let code = q
        .get("code")
        .cloned()
        .ok_or_else(|| fail(format!("the redirect has no code: {back}")))?;
    Ok((code, verifier))
}

/// Sends a token request with the client's authentication.
async fn token_request(
    spec: &OAuth2Spec,
    ctx: &mut AuthContext<'_>,
    ep: &Endpoints,
    client: &ClientInfo,
    site: &str,
    mut form: Vec<(String, String)>,
) -> Result<Tokens, AuthError> {
    let mut headers = Vec::new();
    match client.auth {
        ClientAuth::Basic => headers.push((
            "Authorization".to_owned(),
            format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", client.id, client.secret))
            ),
        )),
        ClientAuth::Post => {
            form.push(("client_id".into(), client.id.clone()));
            form.push(("client_secret".into(), client.secret.clone()));
        }
        ClientAuth::None => form.push(("client_id".into(), client.id.clone())),
        ClientAuth::PrivateKeyJwt => {
            let assertion = assertion(spec, ctx, client, site, &ep.token)?;
            form.push(("client_assertion_type".into(), JWT_BEARER.into()));
            form.push(("client_assertion".into(), assertion));
        }
    }
    let r = send(ctx, form_request(&ep.token, &form, headers)).await?;
    let response = r.json().unwrap_or(Cow::Owned(Value::Null));
    let access = response
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|_| r.status == 200)
        .ok_or_else(|| fail(format!("token request failed: {}", excerpt(&r))))?
        .to_owned();
    let lifetime = response
        .get("expires_in")
        .and_then(Value::as_u64)
        .unwrap_or(3600);
    Ok(Tokens {
        refresh: response
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(str::to_owned),
        access,
        response: response.into_owned(),
        obtained: Instant::now(),
        lifetime: Duration::from_secs(lifetime),
    })
}

/// Refreshes a stale session's token, rotating the refresh token.
async fn refresh(
    spec: &OAuth2Spec,
    ctx: &mut AuthContext<'_>,
    s: &Session,
) -> Result<Session, AuthError> {
    let Some(old) = s.tokens.as_ref() else {
        return Err(fail("nothing to refresh"));
    };
    let Some(r) = old.refresh.clone() else {
        return Err(fail("no refresh token (ask for offline_access)"));
    };
    let site = s.published["site"].as_str().unwrap_or("").to_owned();
    let ep = endpoints(ctx, &site);
    let form = vec![
        ("grant_type".to_owned(), "refresh_token".to_owned()),
        ("refresh_token".to_owned(), r),
    ];
    let tokens = token_request(spec, ctx, &ep, &s.client, &site, form).await?;
    let mut published = s.published.clone();
    publish(&mut published, &tokens);
    published["refreshed"] = json!(published["refreshed"].as_u64().unwrap_or(0) + 1);
    Ok(Session {
        client: s.client.clone(),
        tokens: Some(tokens),
        published,
    })
}

/// A 2048-bit key pair that no server has registered: PKCS#8 DER and its
/// JWK. The key is generated once per run (RSA key generation costs
/// hundreds of milliseconds of CPU, and the suite asks for it in several
/// scenarios); each scenario's JWK has a `kid` of its own.
fn generated_key(ctx: &mut AuthContext<'_>) -> Result<Arc<(Vec<u8>, String)>, AuthError> {
    use rsa::pkcs8::EncodePrivateKey;
    use rsa::traits::PublicKeyParts;
    static RUN_KEY: std::sync::OnceLock<Result<rsa::RsaPrivateKey, String>> =
        std::sync::OnceLock::new();
    if let Some(k) = &ctx.state.oauth2.generated {
        return Ok(k.clone());
    }
    let key = ctx
        .transport
        .crypto(|| {
            RUN_KEY.get_or_init(|| {
                rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).map_err(|e| e.to_string())
            })
        })
        .as_ref()
        .map_err(|e| fail(format!("could not generate a key: {e}")))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|e| fail(format!("could not encode the key: {e}")))?
        .as_bytes()
        .to_vec();
    let mut kid = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut kid);
    let jwk = json!({
        "kty": "RSA",
        "kid": format!("generated-{}", kid.iter().map(|b| format!("{b:02x}")).collect::<String>()),
        "alg": "RS384",
        "use": "sig",
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    })
    .to_string();
    let k = Arc::new((der, jwk));
    ctx.state.oauth2.generated = Some(k.clone());
    Ok(k)
}

/// The key pair of a PKCS#8 DER key, parsed once per run: parsing checks
/// the key (modular arithmetic on 2048-bit numbers), which costs about
/// as much as a signature, and a run signs thousands of assertions with
/// a handful of keys.
pub(crate) fn rsa_key_pair(der: &[u8]) -> Result<Arc<RsaKeyPair>, ring::error::KeyRejected> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    /// More distinct keys than a run uses; past it the cache starts over.
    const KEYS_MAX: usize = 64;
    static PARSED: Mutex<Option<HashMap<Vec<u8>, Arc<RsaKeyPair>>>> = Mutex::new(None);
    if let Some(pair) = PARSED
        .lock()
        .ok()
        .and_then(|m| m.as_ref().and_then(|m| m.get(der).cloned()))
    {
        return Ok(pair);
    }
    let pair = Arc::new(RsaKeyPair::from_pkcs8(der)?);
    if let Ok(mut m) = PARSED.lock() {
        let m = m.get_or_insert_with(HashMap::new);
        if m.len() >= KEYS_MAX {
            m.clear();
        }
        m.insert(der.to_vec(), pair.clone());
    }
    Ok(pair)
}

fn pem_der(pem: &str) -> Result<Vec<u8>, AuthError> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    STANDARD
        .decode(body)
        .map_err(|_| fail("the assertion key is not PEM"))
}

/// A `private_key_jwt` client assertion.
fn assertion(
    spec: &OAuth2Spec,
    ctx: &mut AuthContext<'_>,
    client: &ClientInfo,
    site: &str,
    token_url: &str,
) -> Result<String, AuthError> {
    let from_site = |ctx: &AuthContext<'_>, site: &str| -> Result<(Vec<u8>, String), AuthError> {
        let doc = site_doc(ctx, site);
        let pem = doc
            .pointer("/oauth2/jwks/private_key_pem")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                fail(format!(
                    "the credentials have no `sites.{site}.oauth2.jwks.private_key_pem`"
                ))
            })?;
        let kid = doc
            .pointer("/oauth2/jwks/kid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        Ok((pem_der(pem)?, kid))
    };
    let (der, kid) = match &spec.key {
        None | Some(KeySpec::Credentials) => from_site(ctx, site)?,
        Some(KeySpec::Site(other)) => from_site(ctx, other)?,
        Some(KeySpec::Generated) => {
            let k = generated_key(ctx)?;
            let jwk: Value = serde_json::from_str(&k.1).unwrap_or_default();
            (k.0.clone(), jwk["kid"].as_str().unwrap_or("").to_owned())
        }
        Some(KeySpec::Pem { pem, kid }) => {
            (pem_der(&render(pem, ctx.vars)?)?, render(kid, ctx.vars)?)
        }
    };
    let a = &spec.assertion;
    let kid = opt(&a.kid, ctx.vars)?.unwrap_or(kid);
    let now = chrono::Utc::now().timestamp();
    let jti = opt(&a.jti, ctx.vars)?.unwrap_or_else(|| random_text(32));
    let claims = json!({
        "iss": client.id,
        "sub": client.id,
        "aud": opt(&a.aud, ctx.vars)?.unwrap_or_else(|| token_url.to_owned()),
        "jti": jti,
        "iat": now + a.iat_offset.unwrap_or(0),
        "exp": now + a.exp_in.unwrap_or(300),
    });
    let alg = if a.rs256 { "RS256" } else { "RS384" };
    let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let params = if a.rs256 {
        &RSA_PKCS1_SHA256
    } else {
        &RSA_PKCS1_SHA384
    };
    let sig = ctx.transport.crypto(|| {
        let pair = rsa_key_pair(&der).map_err(|e| fail(format!("the assertion key: {e}")))?;
        let mut sig = vec![0u8; pair.public().modulus_len()];
        pair.sign(
            params,
            &ring::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .map_err(|_| fail("could not sign the assertion"))?;
        Ok::<_, AuthError>(sig)
    })?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// Damages a token for a negative case.
fn tamper(t: &Tokens, how: Tamper) -> Result<String, AuthError> {
    let parts: Vec<&str> = t.access.split('.').collect();
    let [h, c, s] = parts.as_slice() else {
        return Err(fail(
            "the access token is not a JWT; it cannot be tampered with",
        ));
    };
    Ok(match how {
        Tamper::Signature => {
            let mut sig = URL_SAFE_NO_PAD
                .decode(s)
                .map_err(|_| fail("bad signature encoding"))?;
            if let Some(b) = sig.first_mut() {
                *b ^= 0x01;
            }
            format!("{h}.{c}.{}", URL_SAFE_NO_PAD.encode(sig))
        }
        Tamper::Payload => {
            let mut claims: Value = URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .ok_or_else(|| fail("bad claims encoding"))?;
            claims["exp"] = json!(claims["exp"].as_i64().unwrap_or(0) + 86_400);
            format!("{h}.{}.{s}", URL_SAFE_NO_PAD.encode(claims.to_string()))
        }
        Tamper::AlgNone => {
            let header = json!({"typ": "JWT", "alg": "none"});
            format!("{}.{c}.", URL_SAFE_NO_PAD.encode(header.to_string()))
        }
        Tamper::IdToken => t
            .response
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("no id token to send (ask for openid)"))?
            .to_owned(),
    })
}

/// `emr-conformance auth` for OpenEMR and eMedicalPractice: authorization
/// code with PKCE (S256), the redirect coming back to the loopback
/// receiver. The client is the first one in the site's credentials
/// (`sites.<site>.oauth2`) whose `redirect_uris` include the receiver's
/// URI; it asks for the client's registered `scope` (or a default).
pub struct Interactive;

/// Clients of a site's credentials: `oauth2.clients[]` and any named
/// entry of `oauth2` that has a `client_id`.
fn site_clients(site: &Value) -> Vec<&Value> {
    let o = &site["oauth2"];
    let mut out: Vec<&Value> = o["clients"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if let Some(m) = o.as_object() {
        out.extend(m.values().filter(|v| v.get("client_id").is_some()));
    }
    out
}

impl crate::live::interactive::InteractiveFlow for Interactive {
    fn driver(&self) -> &'static str {
        "oauth2"
    }

    fn supports(&self, profile: emr_catalog::ProfileId) -> bool {
        profile.family() == emr_catalog::Family::OpenEmr
    }

    fn begin<'a>(
        &'a self,
        target: &'a crate::target::Target,
        transport: &'a crate::transport::Transport,
        redirect_uri: &'a str,
    ) -> crate::live::interactive::BoxFuture<'a, Result<crate::live::interactive::Pending, AuthError>>
    {
        Box::pin(async move {
            let mut state = super::AuthState::default();
            let mut vars = Vars::default();
            let ctx = AuthContext {
                target,
                transport,
                state: &mut state,
                vars: &mut vars,
            };
            let site = target.site.clone();
            let doc = site_doc(&ctx, &site);
            let registered = |c: &Value| {
                c["redirect_uris"]
                    .as_array()
                    .is_some_and(|u| u.iter().any(|u| u == redirect_uri))
            };
            let client = site_clients(doc)
                .into_iter()
                .find(|c| registered(c))
                .cloned()
                .ok_or_else(|| {
                    fail(format!(
                        "no client of site `{site}` in the credentials has the redirect URI {redirect_uri}: register it with the server (and give its port as `auth.redirect_port`)"
                    ))
                })?;
            let ep = endpoints(&ctx, &site);
            let scope = client["scope"]
                .as_str()
                .filter(|s| !s.is_empty())
                .unwrap_or("openid offline_access api:oemr api:fhir user/Patient.read")
                .to_owned();
            let verifier = random_text(64);
            let state = random_text(24);
            let query: Vec<(String, String)> = [
                ("response_type", "code"),
                ("client_id", client["client_id"].as_str().unwrap_or("")),
                ("redirect_uri", redirect_uri),
                ("scope", &scope),
                ("state", &state),
                ("code_challenge", &s256(&verifier)),
                ("code_challenge_method", "S256"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
            Ok(crate::live::interactive::Pending {
                authorize_url: format!("{}/authorize?{}", ep.base, encode_pairs(&query)),
                expect: vec![("state".to_owned(), state)],
                carry: json!({
                    "verifier": verifier,
                    "redirect_uri": redirect_uri,
                    "token_url": ep.token,
                    "client_id": client["client_id"],
                    "client_secret": client["client_secret"],
                }),
            })
        })
    }

    fn finish<'a>(
        &'a self,
        _target: &'a crate::target::Target,
        transport: &'a crate::transport::Transport,
        pending: &'a crate::live::interactive::Pending,
        callback: &'a std::collections::BTreeMap<String, String>,
    ) -> crate::live::interactive::BoxFuture<'a, Result<Value, AuthError>> {
        Box::pin(async move {
            let code = callback.get("code").ok_or_else(|| {
                fail(format!(
                    "the redirect carries no code ({}: {})",
                    callback
                        .get("error")
                        .map_or("no error given", String::as_str),
                    callback.get("error_description").map_or("", String::as_str)
                ))
            })?;
            let carried = |n: &str| pending.carry[n].as_str().unwrap_or("").to_owned();
            let (id, secret) = (carried("client_id"), carried("client_secret"));
            let mut form = vec![
                ("grant_type".to_owned(), "authorization_code".to_owned()),
                ("code".to_owned(), code.clone()),
                ("redirect_uri".to_owned(), carried("redirect_uri")),
                ("code_verifier".to_owned(), carried("verifier")),
            ];
            let mut headers = Vec::new();
            if secret.is_empty() {
                form.push(("client_id".to_owned(), id));
            } else {
                headers.push((
                    "Authorization".to_owned(),
                    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
                ));
            }
            let r = transport
                .send(&form_request(&carried("token_url"), &form, headers))
                .await
                .map_err(|e| fail(format!("token request: {e}")))?;
            let response = r.json().unwrap_or(Cow::Owned(Value::Null));
            let access = response["access_token"]
                .as_str()
                .filter(|_| r.status == 200)
                .ok_or_else(|| fail(format!("token request failed: {}", excerpt(&r))))?;
            let expires_in = response["expires_in"].as_i64().unwrap_or(3600);
            let mut tokens = json!({
                "access_token": access,
                "expires_at": chrono::Utc::now().timestamp() + expires_in,
                "token_type": response["token_type"].as_str().unwrap_or("Bearer"),
            });
            for key in ["refresh_token", "scope", "id_token"] {
                if let Some(v) = response[key].as_str() {
                    tokens[key] = json!(v);
                }
            }
            Ok(tokens)
        })
    }
}
