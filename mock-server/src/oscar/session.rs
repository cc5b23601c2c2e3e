//! Tomcat HTTP sessions and OSCAR's `/login.do`: the cookie path of the
//! in-app REST calls (`/ws/rs`), and the login the OAuth consent page
//! performs before the user approves an application.

use std::collections::{HashMap, VecDeque};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;
use serde_json::json;

use super::oauth1::params::pairs;
use super::oauth1::signature::form_decode;
use crate::error::{Dialect, Failure};
use crate::rng::SeededRng;
use crate::state::AppState;

/// Tomcat's default session timeout.
pub const IDLE_TIMEOUT: Duration = Duration::minutes(30);
/// Sessions kept per site; the least recently used fall off first.
const MAX_SESSIONS: usize = 2_000;
const SESSION_ID_ALPHABET: &[u8] = b"0123456789ABCDEF";

/// Who logged in on a session (OSCAR's `LoggedInInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub provider_no: String,
    pub security_no: crate::store::Id,
    pub user_name: String,
    /// `Last, First`, as the login page greets the user.
    pub provider_name: String,
}

/// One HTTP session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user: Option<SessionUser>,
    /// CXF's `session_authenticity_token` of the consent page.
    pub authenticity_token: Option<String>,
    last_access: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, Session>,
    order: VecDeque<String>,
}

/// The sessions of one site, bounded.
#[derive(Debug, Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
}

impl Sessions {
    /// A live session, touched; an idle one past the timeout is gone.
    pub fn get(&self, id: &str, now: DateTime<Utc>) -> Option<Session> {
        let mut inner = self.inner.lock();
        let s = inner.by_id.get_mut(id)?;
        if s.last_access + IDLE_TIMEOUT < now {
            inner.by_id.remove(id);
            inner.order.retain(|o| o != id);
            return None;
        }
        s.last_access = now;
        Some(s.clone())
    }

    /// A new, empty session (Tomcat ids: 32 upper-case hex digits).
    pub fn create(&self, rng: &SeededRng, now: DateTime<Utc>) -> Session {
        let session = Session {
            id: rng.string(32, SESSION_ID_ALPHABET),
            user: None,
            authenticity_token: None,
            last_access: now,
        };
        let mut inner = self.inner.lock();
        while inner.by_id.len() >= MAX_SESSIONS {
            match inner.order.pop_front() {
                Some(old) => {
                    inner.by_id.remove(&old);
                }
                None => break,
            }
        }
        inner.order.push_back(session.id.clone());
        inner.by_id.insert(session.id.clone(), session.clone());
        session
    }

    /// Changes a session in place; false if it no longer exists.
    pub fn update(&self, id: &str, f: impl FnOnce(&mut Session)) -> bool {
        match self.inner.lock().by_id.get_mut(id) {
            Some(s) => {
                f(s);
                true
            }
            None => false,
        }
    }

    pub fn remove(&self, id: &str) {
        let mut inner = self.inner.lock();
        inner.by_id.remove(id);
        inner.order.retain(|o| o != id);
    }

    pub fn clear(&self) {
        *self.inner.lock() = Inner::default();
    }
}

/// The session a request names: the `JSESSIONID` cookie, else a
/// `;jsessionid=` path parameter (Tomcat's URL rewriting).
pub fn requested_id(headers: &HeaderMap, path_session: Option<&str>) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == "JSESSIONID")
        .map(|(_, v)| v.to_owned())
        .or_else(|| path_session.map(str::to_owned))
}

/// The live session a request belongs to, if any.
pub fn current(
    state: &AppState,
    headers: &HeaderMap,
    path_session: Option<&str>,
) -> Option<Session> {
    let id = requested_id(headers, path_session)?;
    state.default_site().sessions.get(&id, state.clock.now())
}

/// The request's session, created if there is none (`getSession()`);
/// the flag says whether it is new, so the response sets the cookie.
pub fn current_or_new(
    state: &AppState,
    headers: &HeaderMap,
    path_session: Option<&str>,
) -> (Session, bool) {
    match current(state, headers, path_session) {
        Some(s) => (s, false),
        None => (
            state
                .default_site()
                .sessions
                .create(&state.rng, state.clock.now()),
            true,
        ),
    }
}

/// `Set-Cookie: JSESSIONID=...; Path=/oscar; HttpOnly`.
pub fn set_cookie(response: &mut Response, context: &str, id: &str) {
    let path = if context.is_empty() { "/" } else { context };
    if let Ok(v) = HeaderValue::from_str(&format!("JSESSIONID={id}; Path={path}; HttpOnly")) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Splits Tomcat path parameters off a path: `/a/login.do;jsessionid=X`
/// gives `/a/login.do` and `Some("X")`.
pub fn strip_path_params(path: &str) -> (String, Option<String>) {
    let mut session = None;
    let clean: Vec<&str> = path
        .split('/')
        .map(|segment| match segment.split_once(';') {
            Some((name, params)) => {
                for p in params.split(';') {
                    if let Some(v) = p.strip_prefix("jsessionid=") {
                        session = Some(v.to_owned());
                    }
                }
                name
            }
            None => segment,
        })
        .collect();
    (clean.join("/"), session)
}

/// `POST {context}/login.do` (`LoginAction`): `username`, `password` and
/// `pin` from the form. A browser login answers 302 (to the schedule, or
/// back with `login=failed`); `ajaxResponse=true` answers `text/x-json`.
/// With `oauth_token`, the provider is written into that request token;
/// `invalidate_session=false` keeps the current session (the consent
/// page's authenticity token lives there).
pub async fn login(State(state): State<AppState>, req: Request) -> Response {
    let (path, path_session) = strip_path_params(req.uri().path());
    let in_context = path
        .strip_prefix(state.profile.context.as_str())
        .unwrap_or(&path);
    if in_context != "/login.do" {
        return not_found_page(req.uri().path());
    }
    let (parts, body) = req.into_parts();
    let bytes = match crate::body::read(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(f) => return f.in_dialect(Dialect::OscarRest).into_response(),
    };
    let body_text = String::from_utf8_lossy(&bytes);
    let mut form: Vec<(String, String)> = pairs(parts.uri.query().unwrap_or(""))
        .map(|(k, v)| (form_decode(k), form_decode(v)))
        .collect();
    form.extend(pairs(&body_text).map(|(k, v)| (form_decode(k), form_decode(v))));
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let ajax = field("ajaxResponse") == "true";
    let keep_session = field("invalidate_session") == "false";
    let ip = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let site = state.default_site();
    let today = state.clock.now().date_naive();
    let user = site.store.read(|d| {
        let login = d.login_by_name(field("username"))?;
        let ok = login.password == field("password")
            && login.pin == field("pin")
            && !login.locked
            && login.expires.is_none_or(|e| e >= today);
        if !ok {
            return None;
        }
        let provider_name = d
            .provider(&login.provider_no)
            .map(|p| format!("{}, {}", p.last_name, p.first_name))
            .unwrap_or_default();
        Some(SessionUser {
            provider_no: login.provider_no.to_string(),
            security_no: login.id,
            user_name: login.user_name.to_string(),
            provider_name,
        })
    });

    let context = state.profile.context.clone();
    let Some(user) = user else {
        state.audit(
            "login",
            None,
            ip.as_deref(),
            &format!("failed login for `{}`", field("username")),
        );
        return if ajax {
            x_json(json!({"success": false, "error": "Invalid Credentials"}))
        } else {
            redirect(&format!("{context}/index.jsp?login=failed"))
        };
    };

    // A new session unless the caller asked to keep the current one.
    let now = state.clock.now();
    let existing = current(&state, &parts.headers, path_session.as_deref());
    let (session_id, new) = match existing {
        Some(s) if keep_session => (s.id, false),
        other => {
            if let Some(old) = other {
                site.sessions.remove(&old.id);
            }
            (site.sessions.create(&state.rng, now).id, true)
        }
    };
    site.sessions
        .update(&session_id, |s| s.user = Some(user.clone()));
    let token = field("oauth_token");
    if !token.is_empty() {
        site.oauth1
            .update_request_token(token, |t| t.provider_no = Some(user.provider_no.clone()));
    }
    state.audit(
        "login",
        Some(&user.provider_no),
        ip.as_deref(),
        &format!("`{}` logged in", user.user_name),
    );
    let mut response = if ajax {
        x_json(json!({
            "success": true,
            "providerName": user.provider_name,
            "providerNo": user.provider_no,
        }))
    } else {
        redirect(&format!("{context}/provider/providercontrol.jsp"))
    };
    if new {
        set_cookie(&mut response, &context, &session_id);
    }
    response
}

fn x_json(v: serde_json::Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/x-json;charset=UTF-8")],
        v.to_string(),
    )
        .into_response()
}

fn redirect(location: &str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::FOUND;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Tomcat's 404 page, as the application's fallback answers.
pub fn not_found_page(path: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
        crate::error::tomcat_error_page(
            StatusCode::NOT_FOUND,
            &format!("The requested resource [{path}] is not available"),
        ),
    )
        .into_response()
}

/// The refusal of `AuthenticationInInterceptor`, with its audit row.
pub fn not_authorized(state: &AppState, method: &str, path: &str, ip: Option<&str>) -> Response {
    state.audit(
        "REST WS: NOT AUTHORIZED",
        None,
        ip,
        &format!("{method} {path}"),
    );
    Failure::Unauthorized
        .in_dialect(Dialect::OscarRest)
        .into_response()
}
