//! The REST mounts and their authentication layer.
//!
//! Every request is routed the way CXF routes it (the catalogue operation
//! first: an unknown path is a 404, a wrong method a 405), then
//! authenticated to a [`Principal`] the way the mount authenticates, then
//! handed to [`super::api::handle`]:
//!
//! | mount | credentials | refusal |
//! |---|---|---|
//! | `/ws/rs` | the `JSESSIONID` session of `/login.do` | 401 `text/xml` `<error>Not authorized</error>` |
//! | `/ws/services` (OSCAR 19), `/ws/services/v1` (Juno) | an OAuth 1.0a access token | 401, `WWW-Authenticate: OAuth`, no body |
//! | `/ws/services` (Open-O) | an access token; without any OAuth parameter, the session | 500 XMLFault; nothing at all: 500 from the resource |

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use emr_catalog::Lookup;
use serde::Serialize;

use super::oauth1::params::Received;
use super::oauth1::resource::{self, Decision};
use super::oauth1::Flavor;
use super::session;
use crate::error::{Dialect, Failure};
use crate::journal::{Authenticated, OperationId};
use crate::state::AppState;

/// Who a request acts as, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The provider (`LoggedInInfo.loggedInProvider`).
    pub provider_no: String,
    pub via: Via,
    /// Scopes granted with the access token (none for a session). OSCAR
    /// stores and shows them but never enforces them.
    pub scopes: Vec<String>,
}

/// How the principal authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Via {
    /// The `/login.do` session cookie.
    Session { id: String },
    /// An OAuth 1.0a access token; `in_header` says whether the token came
    /// in the `Authorization` header (Open-O's `/oauth/info` only reads
    /// the scopes from there).
    #[serde(rename = "oauth1")]
    OAuth1 {
        consumer_key: String,
        token: String,
        in_header: bool,
    },
}

impl Via {
    pub fn name(&self) -> &'static str {
        match self {
            Via::Session { .. } => "session",
            Via::OAuth1 { .. } => "oauth1",
        }
    }
}

/// Which JAX-RS server a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mount {
    /// `/ws/rs`: the in-app resources, session-authenticated.
    Rs,
    /// `/ws/services`: the same resources, OAuth-authenticated.
    Services,
    /// Juno's `/ws/services/v1`: its external API.
    JunoV1,
}

impl Mount {
    /// How errors escaping a resource look on this mount.
    pub fn dialect(self) -> Dialect {
        match self {
            Mount::JunoV1 => Dialect::JunoRest,
            Mount::Rs | Mount::Services => Dialect::OscarRest,
        }
    }
}

/// `{context}/ws/rs[/...]`.
pub async fn rs(State(state): State<AppState>, req: Request) -> Response {
    serve(state, req, Mount::Rs).await
}

/// `{context}/ws/services[/...]`.
pub async fn services(State(state): State<AppState>, req: Request) -> Response {
    let mount = match Flavor::of(state.profile) {
        Flavor::Juno => Mount::JunoV1,
        _ => Mount::Services,
    };
    serve(state, req, mount).await
}

async fn serve(state: AppState, req: Request, mount: Mount) -> Response {
    let full = req.uri().path().to_owned();
    let in_context = full
        .strip_prefix(state.profile.context.as_str())
        .unwrap_or(&full)
        .to_owned();
    if mount == Mount::JunoV1 && !in_context.starts_with("/ws/services/v1") {
        // Juno mounts nothing else under /ws/services.
        return Failure::NotFound
            .in_dialect(Dialect::OscarRest)
            .into_response();
    }
    if mount == Mount::Rs
        && Flavor::of(state.profile) == Flavor::Oscar19
        && in_context.trim_end_matches('/') == "/ws/rs"
        && req.uri().query().is_some_and(|q| {
            q.split('&')
                .any(|p| p == "_wadl" || p.starts_with("_wadl="))
        })
    {
        // CXF 2.7's WADL generator; the session guard lets it through.
        return wadl(&state, &req);
    }
    let (op, params) = match state.catalog.resolve(req.method().as_str(), &in_context) {
        Lookup::Found(op, params) => (op, params),
        Lookup::NotFound => {
            return Failure::NotFound
                .in_dialect(Dialect::OscarRest)
                .into_response()
        }
        Lookup::WrongMethod(allow) => {
            return Failure::MethodNotAllowed {
                allow: allow.into_iter().map(str::to_owned).collect(),
            }
            .in_dialect(Dialect::OscarRest)
            .into_response()
        }
    };
    let (parts, body) = req.into_parts();
    let bytes = match crate::body::read(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(f) => return f.in_dialect(mount.dialect()).into_response(),
    };
    let received = Received::new(parts, bytes);
    let mut response = match authenticate(&state, mount, &received) {
        Decision::Refuse(r) => r,
        Decision::Proceed(principal) => {
            let tag = principal.as_ref().map(|p| Authenticated {
                provider_no: p.provider_no.clone(),
                via: p.via.name(),
            });
            let mut r = super::api::handle(&state, mount, op, &params, principal, &received);
            if let Some(tag) = tag {
                r.extensions_mut().insert(tag);
            }
            r
        }
    };
    response.extensions_mut().insert(OperationId(op.id.clone()));
    response
}

/// `GET /ws/rs?_wadl`, generated from the catalogue.
fn wadl(state: &AppState, req: &Request) -> Response {
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let base = format!("http://{host}{}/ws/rs", state.profile.context);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/vnd.sun.wadl+xml",
        )],
        super::api::wadl::document(&state.catalog, &base),
    )
        .into_response()
}

/// The mount's authentication, as the table in the module docs says.
fn authenticate(state: &AppState, mount: Mount, req: &Received) -> Decision {
    let incoming = req.incoming();
    match (mount, Flavor::of(state.profile)) {
        (Mount::Rs, _) => match session_principal(state, req) {
            Some(p) => Decision::Proceed(Some(p)),
            None => Decision::Refuse(session::not_authorized(
                state,
                &req.method,
                &req.path,
                forwarded_for(req).as_deref(),
            )),
        },
        (_, Flavor::OpenO) => resource::open_o(state, &incoming)
            .unwrap_or_else(|| Decision::Proceed(session_principal(state, req))),
        _ => resource::classic(state, &incoming),
    }
}

/// The provider logged in on the request's session, if any.
fn session_principal(state: &AppState, req: &Received) -> Option<Principal> {
    let s = session::current(state, &req.headers, None)?;
    let user = s.user?;
    Some(Principal {
        provider_no: user.provider_no,
        via: Via::Session { id: s.id },
        scopes: Vec::new(),
    })
}

fn forwarded_for(req: &Received) -> Option<String> {
    req.headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
