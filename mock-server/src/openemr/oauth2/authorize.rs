//! The browser flow: `/authorize` → `/provider/login` → (`/smart/
//! patient-select`) → `/scope-authorize-confirm` → `/device/code`, which
//! redirects to the client with `code` and `state`.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, TimeZone, Utc};

use super::super::scopes;
use super::error::{redirect, OAuthError};
use super::pages::{self, append_query, parse_pairs};
use super::store::{AuthorizeRequest, CodeGrant, LoggedIn, Role, Session};
use super::Ctx;
use crate::body;

/// Authorization codes live one minute.
pub const CODE_TTL: i64 = 60;

type Pairs = Vec<(String, String)>;

fn get<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The query, plus the form fields of a POST (OpenEMR copies them in).
async fn params(ctx: &Ctx<'_>, req: Request) -> Result<(Pairs, axum::http::HeaderMap), Response> {
    let (parts, raw) = req.into_parts();
    let mut pairs = parse_pairs(parts.uri.query().unwrap_or(""));
    if parts.method == Method::POST {
        let bytes = body::read(raw, ctx.state.config.max_body_bytes)
            .await
            .map_err(|f| crate::error::openemr_error(f.status(), &f.to_string(), 0))?;
        pairs.extend(parse_pairs(&String::from_utf8_lossy(&bytes)));
    }
    Ok((pairs, parts.headers))
}

fn html(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        text,
    )
        .into_response()
}

fn with_cookie(mut r: Response, id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(&pages::set_cookie(id)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `GET|POST /authorize`.
pub async fn authorize(ctx: &Ctx<'_>, req: Request) -> Response {
    let (p, headers) = match params(ctx, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let request = match validate_authorize(ctx, &p) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let existing =
        pages::session_id(&headers).filter(|id| ctx.auth().with(|d| d.sessions.contains_key(id)));
    let id = ctx.auth().with(|d| {
        let id = existing.unwrap_or_else(|| d.token(32));
        let csrf = d.token(40);
        let session = d.sessions.entry(id.clone()).or_default();
        session.csrf = csrf;
        session.request = Some(request);
        session.patient = None;
        id
    });
    let location = format!("{}/provider/login", ctx.auth_base());
    with_cookie(redirect(StatusCode::TEMPORARY_REDIRECT, &location), &id)
}

/// league's `validateAuthorizationRequest` with OpenEMR's additions.
fn validate_authorize(ctx: &Ctx<'_>, p: &Pairs) -> Result<AuthorizeRequest, OAuthError> {
    if get(p, "response_type") != Some("code") {
        return Err(OAuthError::unsupported_grant_type());
    }
    let client_id = get(p, "client_id").ok_or_else(|| OAuthError::missing("client_id"))?;
    let client = ctx
        .auth()
        .with(|d| d.clients.get(client_id).cloned())
        .filter(|c| c.enabled)
        .ok_or_else(OAuthError::invalid_client)?;
    let redirect_uri = get(p, "redirect_uri").map(str::to_owned);
    let redirect_to = match &redirect_uri {
        // Exact string match against a registered URI.
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => uri.clone(),
        Some(_) => return Err(OAuthError::invalid_client()),
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => return Err(OAuthError::invalid_client()),
    };
    if !client.allows_grant("authorization_code") {
        return Err(OAuthError::unauthorized_client("authorization_code"));
    }
    let state = get(p, "state").map(str::to_owned);
    // From here on, errors go back to the client.
    let back = |e: OAuthError| e.redirect_to(redirect_to.clone());
    let requested = scopes::split(get(p, "scope").unwrap_or(""));
    for s in &requested {
        if !ctx.auth().known.knows(s) {
            return Err(back(OAuthError::invalid_scope(s)));
        }
    }
    if let Some(aud) = get(p, "aud") {
        let site = &ctx.site.name;
        let allowed = [
            format!("{}{}", ctx.root, ctx.layout.fhir_path(site)),
            format!("{}{}", ctx.root, ctx.layout.api_path(site)),
            format!("{}{}", ctx.root, ctx.layout.portal_path(site)),
        ];
        if !allowed.iter().any(|a| a == aud.trim_end_matches('/')) {
            return Err(back(OAuthError::invalid_request(
                "Aud parameter did not match authorized server",
            )));
        }
    }
    if get(p, "launch").is_some() {
        // EHR launch tokens come from OpenEMR's UI, which the mock has not.
        return Err(back(OAuthError::invalid_request(
            "launch parameter was incorrectly formatted or did not originate from this server",
        )));
    }
    let code_challenge = match get(p, "code_challenge") {
        Some(challenge) => {
            let method = get(p, "code_challenge_method").unwrap_or("plain");
            if method != "S256" {
                return Err(back(OAuthError::invalid_request(
                    "Code challenge method must be one of `S256`",
                )));
            }
            let ok = (43..=128).contains(&challenge.len())
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !ok {
                return Err(back(OAuthError::invalid_request(
                    "Code challenge must follow the specifications of RFC-7636.",
                )));
            }
            Some(challenge.to_owned())
        }
        None if !client.confidential => {
            return Err(back(OAuthError::invalid_request(
                "Code challenge must be provided for public clients",
            )))
        }
        None => None,
    };
    Ok(AuthorizeRequest {
        client_id: client.id,
        redirect_uri,
        redirect_to,
        scopes: requested,
        state,
        nonce: get(p, "nonce").map(str::to_owned),
        code_challenge,
    })
}

/// The session of the request, if it has one that started at /authorize.
fn session(ctx: &Ctx<'_>, headers: &axum::http::HeaderMap) -> Option<(String, Session)> {
    let id = pages::session_id(headers)?;
    let s = ctx.auth().with(|d| d.sessions.get(&id).cloned())?;
    Some((id, s))
}

/// OpenEMR's answer to a consent-flow request without the session state
/// its step needs.
fn invalid_request() -> Response {
    html(
        StatusCode::UNAUTHORIZED,
        pages::error_page("Invalid Request"),
    )
}

/// The session of a consent-flow step that needs a pending authorization
/// request and a logged-in user: its id, the request, the user and the
/// session (`None` is answered with [`invalid_request`]).
fn signed_in(
    ctx: &Ctx<'_>,
    headers: &axum::http::HeaderMap,
) -> Option<(String, AuthorizeRequest, LoggedIn, Session)> {
    let (id, s) = session(ctx, headers)?;
    Some((id, s.request.clone()?, s.user.clone()?, s))
}

fn client_name(ctx: &Ctx<'_>, client_id: &str) -> String {
    ctx.auth()
        .with(|d| d.clients.get(client_id).map(|c| c.name.clone()))
        .unwrap_or_default()
}

/// `GET|POST /provider/login`.
pub async fn login(ctx: &Ctx<'_>, req: Request) -> Response {
    let post = req.method() == Method::POST;
    let (p, headers) = match params(ctx, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some((id, s)) = session(ctx, &headers) else {
        return html(
            StatusCode::INTERNAL_SERVER_ERROR,
            pages::error_page("Missing client id in the session"),
        );
    };
    let Some(request) = s.request.clone() else {
        return html(
            StatusCode::INTERNAL_SERVER_ERROR,
            pages::error_page("Missing client id in the session"),
        );
    };
    let action = format!("{}/provider/login", ctx.auth_base());
    let name = client_name(ctx, &request.client_id);
    let form =
        |error: Option<&str>| html(StatusCode::OK, pages::login(&action, &s.csrf, &name, error));
    let (Some(username), Some(password)) = (get(&p, "username"), get(&p, "password")) else {
        return form(None);
    };
    if !post || get(&p, "csrf_token_form") != Some(s.csrf.as_str()) {
        return form(Some("Sorry. Invalid CSRF!"));
    }
    let who = match get(&p, "user_role") {
        Some("portal-api") => find_patient(ctx, username, password, get(&p, "email").unwrap_or("")),
        _ => find_user(ctx, username, password),
    };
    let Some(user) = who else {
        return form(Some(
            "Sorry, verify the information you have entered is correct",
        ));
    };
    let wants_patient = request.scopes.iter().any(|s| s == "launch/patient");
    let patient = if user.role == Role::Patient {
        Some(user.uuid.clone())
    } else {
        None
    };
    let pick = user.role == Role::Users && wants_patient;
    ctx.auth().with(|d| {
        if let Some(sess) = d.sessions.get_mut(&id) {
            sess.user = Some(user);
            sess.patient = patient;
        }
    });
    let next = if pick {
        format!("{}/smart/patient-select", ctx.auth_base())
    } else {
        format!("{}/scope-authorize-confirm", ctx.auth_base())
    };
    redirect(StatusCode::TEMPORARY_REDIRECT, &next)
}

/// A staff login (`users_secure`).
pub fn find_user(ctx: &Ctx<'_>, username: &str, password: &str) -> Option<LoggedIn> {
    ctx.site.store.read(|d| {
        let login = d.login_by_name(username)?;
        if login.password != password || login.locked {
            return None;
        }
        let p = d.provider(&login.provider_no)?;
        Some(LoggedIn {
            role: Role::Users,
            uuid: p.uuid.to_string(),
            username: login.user_name.to_string(),
            pid: None,
            email: p.email.to_string(),
            first_name: p.first_name.to_string(),
            last_name: p.last_name.to_string(),
        })
    })
}

/// A portal login: username, password and the patient's e-mail.
pub fn find_patient(
    ctx: &Ctx<'_>,
    username: &str,
    password: &str,
    email: &str,
) -> Option<LoggedIn> {
    if email.is_empty() {
        return None;
    }
    ctx.site.store.read(|d| {
        let p = d
            .patients()
            .iter()
            .find(|p| !p.portal_username.is_empty() && p.portal_username == username)?;
        if p.portal_password != password || !p.email.eq_ignore_ascii_case(email) {
            return None;
        }
        Some(LoggedIn {
            role: Role::Patient,
            uuid: p.uuid.to_string(),
            username: p.portal_username.to_string(),
            pid: Some(p.id),
            email: p.email.to_string(),
            first_name: p.first_name.to_string(),
            last_name: p.last_name.to_string(),
        })
    })
}

/// `GET /smart/patient-select` (and `/smart/patient-search`): patients the
/// logged-in user may pick, at most 100, filtered by `search[...]`.
pub fn patient_select(ctx: &Ctx<'_>, req: Request, _search: bool) -> Response {
    let Some((_, s)) = session(ctx, req.headers()) else {
        return invalid_request();
    };
    if s.user.as_ref().map(|u| u.role) != Some(Role::Users) {
        return invalid_request();
    }
    let q = parse_pairs(req.uri().query().unwrap_or(""));
    let filter = |key: &str| get(&q, &format!("search[{key}]")).map(str::to_lowercase);
    let (fname, lname, dob, pid) = (
        filter("fname"),
        filter("lname"),
        filter("DOB"),
        filter("pid"),
    );
    let rows = ctx.site.store.read(|d| {
        d.patients()
            .iter()
            .filter(|p| {
                fname
                    .as_ref()
                    .is_none_or(|f| p.first_name.to_lowercase().starts_with(f))
            })
            .filter(|p| {
                lname
                    .as_ref()
                    .is_none_or(|f| p.last_name.to_lowercase().starts_with(f))
            })
            .filter(|p| {
                dob.as_ref().is_none_or(|f| {
                    p.birth_date.map(|b| b.to_string()).as_deref() == Some(f.as_str())
                })
            })
            .filter(|p| pid.as_ref().is_none_or(|f| p.id.to_string() == *f))
            .take(100)
            .map(|p| {
                (
                    p.uuid.to_string(),
                    format!("{}, {}", p.last_name, p.first_name),
                    p.birth_date.map(|b| b.to_string()).unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>()
    });
    let action = format!("{}/smart/patient-select-confirm", ctx.auth_base());
    html(
        StatusCode::OK,
        pages::patient_select(&action, &s.csrf, &rows),
    )
}

/// `POST /smart/patient-select-confirm`.
pub async fn patient_select_confirm(ctx: &Ctx<'_>, req: Request) -> Response {
    let (p, headers) = match params(ctx, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some((id, request, _, s)) = signed_in(ctx, &headers) else {
        return invalid_request();
    };
    if get(&p, "csrf_token") != Some(s.csrf.as_str()) {
        return html(
            StatusCode::INTERNAL_SERVER_ERROR,
            pages::error_page("Failed authorization due to failed CSRF check."),
        );
    }
    let chosen = get(&p, "patient_id").unwrap_or("");
    let exists = ctx
        .site
        .store
        .read(|d| d.patients().by_uuid(chosen).is_some());
    if !exists {
        return OAuthError::access_denied("No access to patient data for this user")
            .redirect_to(request.redirect_to)
            .into_response();
    }
    ctx.auth().with(|d| {
        if let Some(sess) = d.sessions.get_mut(&id) {
            sess.patient = Some(chosen.to_owned());
        }
    });
    redirect(
        StatusCode::FOUND,
        &format!("{}/scope-authorize-confirm", ctx.auth_base()),
    )
}

/// `GET /scope-authorize-confirm`: the consent page.
pub fn consent(ctx: &Ctx<'_>, req: Request) -> Response {
    let Some((_, request, user, s)) = signed_in(ctx, req.headers()) else {
        return invalid_request();
    };
    let until = Utc
        .timestamp_opt(ctx.now(), 0)
        .single()
        .map(|t| (t + Duration::days(91)).format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let action = format!("{}/device/code", ctx.auth_base());
    html(
        StatusCode::OK,
        pages::consent(
            &action,
            &s.csrf,
            &client_name(ctx, &request.client_id),
            &user.username,
            &request.scopes,
            &until,
        ),
    )
}

/// `POST /device/code`: the consent decision. Approved: a one-minute,
/// single-use code for the scopes both requested and kept, then 302 to
/// the client with `code` and `state`.
pub async fn device_code(ctx: &Ctx<'_>, req: Request) -> Response {
    let (p, headers) = match params(ctx, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some((id, request, user, s)) = signed_in(ctx, &headers) else {
        return invalid_request();
    };
    if get(&p, "csrf_token_form") != Some(s.csrf.as_str()) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Failed authorization due to failed CSRF check.",
        )
            .into_response();
    }
    let mut back = request.redirect_to.clone();
    if let Some(state) = &request.state {
        back = append_query(&back, &[("state", state.clone())]);
    }
    if get(&p, "proceed").is_none() {
        ctx.auth().with(|d| {
            if let Some(sess) = d.sessions.get_mut(&id) {
                sess.request = None;
            }
        });
        return OAuthError::access_denied("The user denied the request")
            .redirect_to(back)
            .into_response();
    }
    let kept: Vec<&str> = p
        .iter()
        .filter(|(k, _)| k.starts_with("scope[") && k.ends_with(']'))
        .map(|(_, v)| v.as_str())
        .collect();
    let client_scopes = ctx
        .auth()
        .with(|d| d.clients.get(&request.client_id).map(|c| c.scopes.clone()))
        .unwrap_or_default();
    // Requested, still checked (openid is hidden, so always kept), and
    // registered by the client.
    let granted: Vec<String> = request
        .scopes
        .iter()
        .filter(|s| kept.contains(&s.as_str()))
        .filter(|s| client_scopes.contains(s))
        .cloned()
        .collect();
    let now = ctx.now();
    let code = ctx.auth().with(|d| {
        let code = format!("def50200{}", d.hex(192));
        d.codes.insert(
            code.clone(),
            CodeGrant {
                client_id: request.client_id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                scopes: granted,
                user: user.clone(),
                nonce: request.nonce.clone(),
                code_challenge: request.code_challenge.clone(),
                patient: s.patient.clone(),
                expires: now + CODE_TTL,
                used: false,
            },
        );
        d.trusted.insert(
            (request.client_id.clone(), user.uuid.clone()),
            request.nonce.clone(),
        );
        if let Some(sess) = d.sessions.get_mut(&id) {
            sess.request = None;
        }
        code
    });
    let mut pairs = vec![("code", code)];
    if let Some(state) = &request.state {
        pairs.push(("state", state.clone()));
    }
    redirect(
        StatusCode::FOUND,
        &append_query(&request.redirect_to, &pairs),
    )
}
