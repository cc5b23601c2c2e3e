//! OpenEMR-family routes: the API front controller `/apis/{site}/...`.
//!
//! The kernel's listeners run in the real order: the site is resolved
//! first (400 for a bad one), then the request is authorized (401 without
//! a valid bearer token), and only then is a route looked up (404).

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use emr_catalog::{Lookup, Profile};

use crate::error::{openemr_error, Dialect, Failure};
use crate::journal::OperationId;
use crate::state::AppState;

pub fn routes(_profile: &Profile) -> Router<AppState> {
    Router::new().route("/apis/{*rest}", any(apis))
}

/// The message `SiteSetupListener` answers for an unknown or malformed site.
const SITE_ERROR: &str = "OpenEMR Error: api site error, so forced exit.  Please ensure that the site is set up correctly in the OpenEMR configuration.";

fn valid_site_name(site: &str) -> bool {
    !site.is_empty()
        && site
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

async fn apis(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let rest = path.strip_prefix("/apis/").unwrap_or("");
    let site = rest.split('/').next().unwrap_or("");
    if !valid_site_name(site) || state.site(site).is_none() {
        return openemr_error(StatusCode::BAD_REQUEST, SITE_ERROR, 0);
    }
    // CORS preflight is answered before authorization.
    if req.method() == axum::http::Method::OPTIONS && req.headers().contains_key(header::ORIGIN) {
        return cors_preflight(&req);
    }
    let lookup = state.catalog.resolve(req.method().as_str(), &path);
    // No bearer token can be valid until the authorization server issues
    // one, so every request stops at the authorization listener.
    let mut response = Failure::Unauthorized
        .in_dialect(Dialect::OpenEmrApi)
        .into_response();
    if let Lookup::Found(op, _) = lookup {
        response.extensions_mut().insert(OperationId(op.id.clone()));
    }
    response
}

fn cors_preflight(req: &Request) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .cloned()
        .unwrap_or_else(|| header::HeaderValue::from_static("*"));
    (
        StatusCode::OK,
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin),
            (
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                header::HeaderValue::from_static("true"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                header::HeaderValue::from_static(
                    "origin, authorization, accept, content-type, content-encoding, x-requested-with",
                ),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                header::HeaderValue::from_static("GET, HEAD, POST, PUT, DELETE, PATCH, TRACE, OPTIONS"),
            ),
        ],
    )
        .into_response()
}
