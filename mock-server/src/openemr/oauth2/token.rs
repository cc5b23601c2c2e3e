//! `POST /token`: the authorization code (with PKCE), refresh token,
//! password and client credentials grants, and the SMART token response
//! (`IdTokenSMARTResponse`).

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use ring::digest;
use serde_json::{json, Map, Value};

use super::super::jwt::b64url;
use super::super::scopes;
use super::authorize::{find_patient, find_user};
use super::client_auth::{self, field, Form, Method};
use super::error::OAuthError;
use super::pages::parse_pairs;
use super::store::{AccessRecord, Client, LoggedIn, RefreshRecord, Role};
use super::Ctx;
use crate::body;

/// Access tokens live an hour; refresh tokens three months.
pub const ACCESS_TTL: i64 = 3600;
pub const REFRESH_TTL: i64 = 91 * 24 * 3600;

pub async fn token(ctx: &Ctx<'_>, req: Request) -> Response {
    let (parts, raw) = req.into_parts();
    let bytes = match body::read(raw, ctx.state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(f) => return OAuthError::invalid_request(f.to_string()).into_response(),
    };
    let form = parse_pairs(&String::from_utf8_lossy(&bytes));
    match grant(ctx, &parts.headers, &form) {
        Ok(body) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json; charset=UTF-8"),
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            body.to_string(),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

fn grant(ctx: &Ctx<'_>, headers: &axum::http::HeaderMap, form: &Form) -> Result<Value, OAuthError> {
    let grant_type = field(form, "grant_type").unwrap_or("");
    match grant_type {
        "authorization_code" => {
            let (client, _) = client_auth::authenticate(ctx, headers, form)?;
            require_grant(&client, grant_type)?;
            authorization_code(ctx, &client, form)
        }
        "refresh_token" => {
            let (client, _) = client_auth::authenticate(ctx, headers, form)?;
            require_grant(&client, grant_type)?;
            refresh(ctx, &client, form)
        }
        "password" if ctx.auth().settings().password_grant => {
            let (client, _) = client_auth::authenticate(ctx, headers, form)?;
            require_grant(&client, grant_type)?;
            password(ctx, &client, form)
        }
        "client_credentials" => {
            if field(form, "client_assertion_type").is_none() {
                return Err(OAuthError::invalid_request(
                    "assertion type is not supported",
                ));
            }
            let (client, method) = client_auth::authenticate(ctx, headers, form)?;
            require_grant(&client, grant_type)?;
            if method != Method::Assertion {
                return Err(OAuthError::invalid_request(
                    "assertion type is not supported",
                ));
            }
            client_credentials(ctx, &client, form)
        }
        _ => Err(OAuthError::unsupported_grant_type()),
    }
}

fn require_grant(client: &Client, grant: &str) -> Result<(), OAuthError> {
    if client.allows_grant(grant) {
        Ok(())
    } else {
        Err(OAuthError::unauthorized_client(grant))
    }
}

/// BASE64URL(SHA-256(verifier)), RFC 7636.
pub fn s256(verifier: &str) -> String {
    b64url(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref())
}

fn authorization_code(ctx: &Ctx<'_>, client: &Client, form: &Form) -> Result<Value, OAuthError> {
    let code = field(form, "code").ok_or_else(|| OAuthError::missing("code"))?;
    let redirect_uri = field(form, "redirect_uri");
    if let Some(uri) = redirect_uri {
        if !client.redirect_uris.iter().any(|r| r == uri) {
            return Err(OAuthError::invalid_client());
        }
    }
    let now = ctx.now();
    let grant = ctx.auth().with(|d| d.codes.get(code).cloned());
    // OpenEMR restores the browser session from the code first.
    let grant = grant.ok_or_else(|| OAuthError::invalid_request("Bad request"))?;
    if grant.used {
        return Err(OAuthError::invalid_request(
            "Authorization code has been revoked",
        ));
    }
    if grant.expires <= now {
        return Err(OAuthError::invalid_request(
            "Authorization code has expired",
        ));
    }
    if grant.client_id != client.id {
        return Err(OAuthError::invalid_request(
            "Authorization code was not issued to this client",
        ));
    }
    if let Some(expected) = &grant.redirect_uri {
        if redirect_uri != Some(expected.as_str()) {
            return Err(OAuthError::invalid_request("Invalid redirect URI"));
        }
    }
    let verifier = field(form, "code_verifier");
    match (&grant.code_challenge, verifier) {
        (Some(_), None) => return Err(OAuthError::missing("code_verifier")),
        (Some(challenge), Some(v)) => {
            let well_formed = (43..=128).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !well_formed {
                return Err(OAuthError::invalid_request(
                    "Code Verifier must follow the specifications of RFC-7636.",
                ));
            }
            if s256(v) != *challenge {
                return Err(OAuthError::invalid_grant(
                    "Failed to verify `code_verifier`.",
                ));
            }
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "code_verifier received when no code_challenge is present",
            ))
        }
        (None, None) => {}
    }
    // Single use.
    ctx.auth().with(|d| {
        if let Some(g) = d.codes.get_mut(code) {
            g.used = true;
        }
    });
    let with_refresh = grant.scopes.iter().any(|s| s == "offline_access");
    Ok(issue(
        ctx,
        Issue {
            client_id: &client.id,
            user: &grant.user,
            scopes: &grant.scopes,
            patient: grant.patient.as_deref(),
            nonce: grant.nonce.as_deref(),
            ttl: ACCESS_TTL,
            refresh: with_refresh,
        },
    ))
}

fn refresh(ctx: &Ctx<'_>, client: &Client, form: &Form) -> Result<Value, OAuthError> {
    let token = field(form, "refresh_token").ok_or_else(|| OAuthError::missing("refresh_token"))?;
    let now = ctx.now();
    let old = ctx
        .auth()
        .with(|d| d.refresh.get(token).cloned())
        .ok_or_else(|| OAuthError::invalid_refresh_token("Cannot decrypt the refresh token"))?;
    if old.client_id != client.id {
        return Err(OAuthError::invalid_refresh_token(
            "Token is not linked to client",
        ));
    }
    if old.expires <= now {
        return Err(OAuthError::invalid_refresh_token("Token has expired"));
    }
    let trusted = ctx.auth().with(|d| {
        d.trusted
            .contains_key(&(old.client_id.clone(), old.user.uuid.clone()))
    });
    if old.revoked || !trusted {
        return Err(OAuthError::invalid_refresh_token("Token has been revoked"));
    }
    let scopes = match field(form, "scope") {
        None => old.scopes.clone(),
        Some(s) => {
            let asked = scopes::split(s);
            if let Some(bad) = asked.iter().find(|s| !old.scopes.contains(s)) {
                return Err(OAuthError::invalid_scope(bad));
            }
            asked
        }
    };
    // Rotation: the old refresh token and its access token are revoked.
    ctx.auth().with(|d| {
        if let Some(r) = d.refresh.get_mut(token) {
            r.revoked = true;
        }
        if let Some(a) = d.access.get_mut(&old.access_jti) {
            a.revoked = true;
        }
    });
    let with_refresh = scopes.iter().any(|s| s == "offline_access");
    Ok(issue(
        ctx,
        Issue {
            client_id: &client.id,
            user: &old.user,
            scopes: &scopes,
            patient: old.patient.as_deref(),
            nonce: old.nonce.as_deref(),
            ttl: ACCESS_TTL,
            refresh: with_refresh,
        },
    ))
}

fn password(ctx: &Ctx<'_>, client: &Client, form: &Form) -> Result<Value, OAuthError> {
    let role = field(form, "user_role").ok_or_else(|| OAuthError::missing("user_role"))?;
    if role != "users" && role != "patient" {
        return Err(OAuthError::missing("user_role"));
    }
    let username = field(form, "username").ok_or_else(|| OAuthError::missing("username"))?;
    let password = field(form, "password").ok_or_else(|| OAuthError::missing("password"))?;
    let user = if role == "patient" {
        let email = field(form, "email").ok_or_else(|| OAuthError::missing("email"))?;
        find_patient(ctx, username, password, email)
    } else {
        find_user(ctx, username, password)
    }
    .ok_or_else(|| OAuthError::invalid_grant("Failed Authentication"))?;
    let requested = scopes::split(field(form, "scope").unwrap_or(""));
    let granted = finalize(ctx, client, &requested)?;
    let patient = (user.role == Role::Patient).then(|| user.uuid.clone());
    ctx.auth().with(|d| {
        d.trusted
            .insert((client.id.clone(), user.uuid.clone()), None)
    });
    let with_refresh = granted.iter().any(|s| s == "offline_access");
    Ok(issue(
        ctx,
        Issue {
            client_id: &client.id,
            user: &user,
            scopes: &granted,
            patient: patient.as_deref(),
            nonce: None,
            ttl: ACCESS_TTL,
            refresh: with_refresh,
        },
    ))
}

fn client_credentials(ctx: &Ctx<'_>, client: &Client, form: &Form) -> Result<Value, OAuthError> {
    let requested = scopes::split(field(form, "scope").unwrap_or(""));
    if requested.is_empty() {
        return Err(OAuthError::invalid_scope(""));
    }
    // Only system scopes survive (ClientGrantTypePolicy).
    let granted: Vec<String> = finalize(ctx, client, &requested)?
        .into_iter()
        .filter(|s| s.starts_with("system/"))
        .collect();
    let system = LoggedIn {
        role: Role::System,
        uuid: ctx.auth().system_user(),
        username: "oe-system".into(),
        pid: None,
        email: String::new(),
        first_name: "System".into(),
        last_name: "Operation User".into(),
    };
    ctx.auth().with(|d| {
        d.trusted
            .insert((client.id.clone(), system.uuid.clone()), None)
    });
    Ok(issue(
        ctx,
        Issue {
            client_id: &client.id,
            user: &system,
            scopes: &granted,
            patient: None,
            nonce: None,
            ttl: ctx.layout.client_credentials_ttl(),
            refresh: false,
        },
    ))
}

/// Requested scopes must be known; the token gets those the client
/// registered.
fn finalize(
    ctx: &Ctx<'_>,
    client: &Client,
    requested: &[String],
) -> Result<Vec<String>, OAuthError> {
    if let Some(bad) = requested.iter().find(|s| !ctx.auth().known.knows(s)) {
        return Err(OAuthError::invalid_scope(bad));
    }
    Ok(requested
        .iter()
        .filter(|s| client.scopes.contains(s))
        .cloned()
        .collect())
}

/// What to issue.
pub struct Issue<'a> {
    pub client_id: &'a str,
    pub user: &'a LoggedIn,
    pub scopes: &'a [String],
    pub patient: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub ttl: i64,
    pub refresh: bool,
}

/// Records and signs the tokens, and builds the token response.
pub fn issue(ctx: &Ctx<'_>, i: Issue<'_>) -> Value {
    let now = ctx.now();
    let exp = now + i.ttl;
    let (jti, refresh_token) = ctx.auth().with(|d| {
        let jti = d.hex(80);
        let refresh = i.refresh.then(|| format!("def50200{}", d.hex(256)));
        d.access.insert(
            jti.clone(),
            AccessRecord {
                client_id: i.client_id.to_owned(),
                user: i.user.clone(),
                scopes: i.scopes.to_vec(),
                patient: i.patient.map(str::to_owned),
                issued: now,
                expires: exp,
                revoked: false,
            },
        );
        if let Some(r) = &refresh {
            d.refresh.insert(
                r.clone(),
                RefreshRecord {
                    id: r.clone(),
                    access_jti: jti.clone(),
                    client_id: i.client_id.to_owned(),
                    user: i.user.clone(),
                    scopes: i.scopes.to_vec(),
                    patient: i.patient.map(str::to_owned),
                    nonce: i.nonce.map(str::to_owned),
                    issued: now,
                    expires: now + REFRESH_TTL,
                    revoked: false,
                },
            );
        }
        (jti, refresh)
    });
    // The token carries the server scope `site:{site}` too.
    let mut token_scopes: Vec<String> = i.scopes.to_vec();
    token_scopes.push(format!("site:{}", ctx.site.name));
    let access = ctx
        .auth()
        .sign(&json!({
            "aud": i.client_id,
            "jti": jti,
            "iat": now,
            "nbf": now,
            "exp": exp,
            "sub": i.user.uuid,
            "scopes": token_scopes,
        }))
        .unwrap_or_default();
    let has = |s: &str| i.scopes.iter().any(|x| x == s);
    let mut out = Map::new();
    if has("openid") {
        let mut claims = json!({
            "iss": ctx.issuer(),
            "aud": i.client_id,
            "iat": now,
            "exp": exp,
            "sub": i.user.uuid,
        });
        if let Some(n) = i.nonce {
            claims["nonce"] = json!(n);
        }
        if has("fhirUser") {
            claims["fhirUser"] = json!(fhir_user(ctx, i.user));
        }
        if has("email") {
            claims["email"] = json!(i.user.email);
        }
        if has("profile") || has("given_name") {
            claims["given_name"] = json!(i.user.first_name);
        }
        if has("profile") || has("family_name") {
            claims["family_name"] = json!(i.user.last_name);
        }
        if let Some(id) = ctx.auth().sign(&claims) {
            out.insert("id_token".into(), json!(id));
        }
    }
    out.insert("token_type".into(), json!("Bearer"));
    // Seconds left once the second of issue has begun, as league counts
    // (the seeds' examples show 3599).
    out.insert("expires_in".into(), json!(i.ttl - 1));
    out.insert("access_token".into(), json!(access));
    if let Some(r) = refresh_token {
        out.insert("refresh_token".into(), json!(r));
    }
    // Scopes with `:` (api:*, site:*) are not shown.
    let shown: Vec<&str> = i
        .scopes
        .iter()
        .map(String::as_str)
        .filter(|s| !s.contains(':'))
        .collect();
    out.insert("scope".into(), json!(shown.join(" ")));
    if let Some(p) = i.patient {
        if has("launch/patient") || i.user.role == Role::Patient {
            out.insert("patient".into(), json!(p));
            out.insert("need_patient_banner".into(), json!(true));
        }
    }
    if has("launch/patient") || has("launch") {
        out.insert(
            "smart_style_url".into(),
            json!(format!("{}/public/smart-styles/smart-light.json", ctx.root)),
        );
    }
    Value::Object(out)
}

/// The `fhirUser` claim: the user's FHIR resource.
fn fhir_user(ctx: &Ctx<'_>, user: &LoggedIn) -> String {
    let base = format!("{}{}", ctx.root, ctx.layout.fhir_path(&ctx.site.name));
    match user.role {
        Role::Patient => format!("{base}/Patient/{}", user.uuid),
        Role::Users => format!("{base}/Practitioner/{}", user.uuid),
        Role::System => format!("{base}/Person/{}", user.uuid),
    }
}
