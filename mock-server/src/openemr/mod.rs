//! OpenEMR-family routes: the authorization server ([`oauth2`]) and the
//! API front controller (`/apis/{site}/...` for OpenEMR; `/fhir/r4/...`,
//! `/portal/...` and `/metadata` for eMedicalPractice).
//!
//! The front controller runs the kernel's listeners in the real order:
//! the site (400), CORS preflight, bearer validation (401, or 400 after a
//! logout), the role and API gate (`api:oemr` / `api:port`, 403), the
//! route (404), the route's required scope from the catalogue (401
//! "Unauthorized"), and then hands the request to [`api::handle`].

// Route handlers answer `Result<Response, Response>`: a refusal is the
// response itself, built once per request, so its size is of no concern.
#[allow(clippy::result_large_err)]
pub mod acl;
#[allow(clippy::result_large_err)]
pub mod api;
#[allow(clippy::result_large_err)]
pub mod fhir;
pub mod jwt;
pub mod keys;
pub mod layout;
pub mod oauth2;
#[allow(clippy::result_large_err)]
pub mod portal;
pub mod scopes;
pub mod smart;
#[allow(clippy::result_large_err)]
pub mod standard;
pub mod swagger;
pub mod vitals;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use emr_catalog::{Api, Lookup, Profile};

use self::api::{ApiCall, Principal};
use self::layout::Layout;
use self::oauth2::{Role, TokenCheck};
use self::scopes::{Context, ResourceScope, RouteScope};
use crate::error::openemr_error;
use crate::journal::OperationId;
use crate::state::{AppState, Site};

pub fn routes(profile: &Profile) -> Router<AppState> {
    let layout = Layout::of(profile.id);
    let api = match layout {
        Layout::OpenEmr => Router::new().route("/apis/{*rest}", any(apis)),
        Layout::EMedPractice => Router::new()
            .route("/fhir/r4", any(apis))
            .route("/fhir/r4/{*rest}", any(apis))
            .route("/portal/{*rest}", any(apis))
            .route("/metadata", any(apis)),
    };
    api.route(
        "/swagger/openemr-api.yaml",
        axum::routing::get(swagger::yaml),
    )
    .route(
        "/swagger/openemr-api.json",
        axum::routing::get(swagger::json),
    )
    .merge(oauth2::routes(layout))
    .merge(oauth2::admin_routes())
}

/// The message `SiteSetupListener` answers for an unknown or malformed site.
pub const SITE_ERROR: &str = "OpenEMR Error: api site error, so forced exit.  Please ensure that the site is set up correctly in the OpenEMR configuration.";

/// Messages of the API gate's refusals.
const DENIED: &str = "The resource owner or authorization server denied the request.";
const INSUFFICIENT: &str =
    "OpenEMR Error: API call failed due to insufficient permissions for the requested resource.";
const LOGGED_OUT: &str = "Refresh Token revoked or logged out";
const EXPIRED: &str = "OpenEMR Error: API call failed due to invalid token or expired token.";

/// Routes `SkipAuthorizationStrategy` lets through without a token (by
/// their OpenEMR path, so eMedicalPractice's mounts match too).
const PUBLIC_ROUTES: &[&str] = &[
    "/fhir/metadata",
    "/fhir/.well-known/smart-configuration",
    "/fhir/OperationDefinition",
    "/fhir/OperationDefinition/:operation",
    "/api/version",
    "/api/product",
];

/// A refusal of the front controller, as the exception listener writes it.
#[derive(Debug, Clone, Copy)]
struct Refusal(StatusCode, &'static str, i64);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        openemr_error(self.0, self.1, self.2)
    }
}

pub fn valid_site_name(site: &str) -> bool {
    !site.is_empty()
        && site
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// The site a request addresses, and which API by its path.
fn site_of<'a>(
    state: &'a AppState,
    layout: Layout,
    path: &str,
) -> Result<(&'a Site, Option<Api>), Refusal> {
    match layout {
        Layout::OpenEmr => {
            let rest = path.strip_prefix("/apis/").unwrap_or("");
            let mut parts = rest.split('/');
            let site = parts.next().unwrap_or("");
            let site = state
                .site(site)
                .filter(|_| valid_site_name(site))
                .ok_or(Refusal(StatusCode::BAD_REQUEST, SITE_ERROR, 0))?;
            let api = match parts.next() {
                Some("api") => Some(Api::Rest),
                Some("portal") => Some(Api::Portal),
                Some("fhir") => Some(Api::Fhir),
                _ => None,
            };
            Ok((site, api))
        }
        Layout::EMedPractice => {
            let api = if path.starts_with("/portal") {
                Some(Api::Portal)
            } else {
                None
            };
            Ok((state.default_site(), api))
        }
    }
}

async fn apis(State(state): State<AppState>, req: Request) -> Response {
    let layout = Layout::of(state.profile.id);
    let path = req.uri().path().to_owned();
    let (site, path_api) = match site_of(&state, layout, &path) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    // CORS preflight is answered before authorization.
    if req.method() == axum::http::Method::OPTIONS && req.headers().contains_key(header::ORIGIN) {
        return cors_preflight(&req);
    }
    let catalog = state.catalog.clone();
    let lookup = catalog.resolve(req.method().as_str(), &path);
    let (op, params) = match lookup {
        Lookup::Found(op, m) => (Some(op), m),
        _ => (None, Default::default()),
    };
    let mut response = gate(&state, site, layout, path_api, op, params, req).await;
    if let Some(op) = op {
        response.extensions_mut().insert(OperationId(op.id.clone()));
    }
    response
}

/// Authorization and scope checks, in the kernel's order, then the route.
async fn gate(
    state: &AppState,
    site: &Site,
    layout: Layout,
    path_api: Option<Api>,
    op: Option<&emr_catalog::Operation>,
    params: emr_catalog::PathMatch,
    req: Request,
) -> Response {
    let root = oauth2::root_url(req.headers());
    let public = op.filter(|o| PUBLIC_ROUTES.contains(&o.column("path")));
    if let Some(op) = public {
        return api::handle(ApiCall {
            state,
            site,
            layout,
            op,
            params: &params,
            principal: None,
            request: req,
            root,
        })
        .await;
    }
    let api = op.map(|o| o.api).or(path_api).unwrap_or(Api::Fhir);
    let principal = match authenticate(state, site, &req, api) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let Some(op) = op else {
        return openemr_error(StatusCode::NOT_FOUND, "Route not found", 0);
    };
    let principal = match check_scope(layout, op, principal, req.method().as_str()) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    api::handle(ApiCall {
        state,
        site,
        layout,
        op,
        params: &params,
        principal: Some(&principal),
        request: req,
        root,
    })
    .await
}

/// Bearer validation, then the role and API gate.
fn authenticate(
    state: &AppState,
    site: &Site,
    req: &Request,
    api: Api,
) -> Result<Principal, Refusal> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(Refusal(StatusCode::UNAUTHORIZED, DENIED, 0))?;
    let rec = match site.oauth2.check_access_token(token, state.clock.unix()) {
        TokenCheck::Valid(rec) => *rec,
        TokenCheck::Invalid => return Err(Refusal(StatusCode::UNAUTHORIZED, DENIED, 0)),
        // league's access_denied code.
        TokenCheck::Revoked => return Err(Refusal(StatusCode::UNAUTHORIZED, DENIED, 9)),
        TokenCheck::LoggedOut => return Err(Refusal(StatusCode::BAD_REQUEST, LOGGED_OUT, 0)),
        TokenCheck::Expired => return Err(Refusal(StatusCode::UNAUTHORIZED, EXPIRED, 0)),
    };
    let has = |s: &str| rec.scopes.iter().any(|x| x == s);
    let forbidden = || Refusal(StatusCode::FORBIDDEN, INSUFFICIENT, 0);
    match api {
        Api::Rest if !has("api:oemr") => return Err(forbidden()),
        Api::Portal if !has("api:port") => return Err(forbidden()),
        _ => {}
    }
    let role_ok = matches!(
        (rec.user.role, api),
        (Role::Users, Api::Rest | Api::Fhir)
            | (Role::Patient, Api::Portal | Api::Fhir)
            | (Role::System, Api::Fhir)
    );
    if !role_ok {
        return Err(forbidden());
    }
    if rec.user.role == Role::Patient && rec.user.pid.is_none() {
        return Err(Refusal(StatusCode::UNAUTHORIZED, DENIED, 0));
    }
    Ok(Principal {
        role: rec.user.role,
        user: rec.user.uuid.clone(),
        pid: rec.user.pid,
        client_id: rec.client_id.clone(),
        resource_scopes: rec
            .scopes
            .iter()
            .filter_map(|s| ResourceScope::parse(s).ok())
            .collect(),
        scopes: rec.scopes,
        patient: rec.patient,
        context: rec.user.role.context(),
    })
}

/// The route's required scope (catalogue `scope` column) against the
/// token's scopes. Every refusal is `AccessDeniedException` → 401
/// "Unauthorized".
fn check_scope(
    layout: Layout,
    op: &emr_catalog::Operation,
    mut p: Principal,
    method: &str,
) -> Result<Principal, Refusal> {
    let unauthorized = || Refusal(StatusCode::UNAUTHORIZED, "Unauthorized", 0);
    let Some(rs) = RouteScope::of(op) else {
        return Ok(p);
    };
    let aliases = |resource: &str| -> Vec<String> {
        let mut v = vec![resource.to_owned()];
        // eMedicalPractice's `Document` scopes reach its document routes.
        if layout == Layout::EMedPractice && resource == "document" {
            v.push("Document".to_owned());
        }
        v
    };
    // A user token bound to a patient (launch/patient) makes a patient
    // request when it holds patient scopes for the resource.
    if p.role == Role::Users
        && p.patient.is_some()
        && p.resource_scopes.iter().any(|s| {
            s.context == Context::Patient && (s.resource == rs.resource || s.resource == "*")
        })
    {
        p.context = Context::Patient;
    }
    if !rs.contexts.contains(&p.context) {
        return Err(unauthorized());
    }
    if p.context == Context::Patient {
        if p.patient.is_none() {
            return Err(unauthorized());
        }
        // isPatientWriteRequest: a patient may not write FHIR; operations
        // that only read ($docref is a POST) are not writes.
        if op.api == Api::Fhir && method != "GET" && !op.column("path").contains('$') {
            return Err(unauthorized());
        }
    }
    let allowed = aliases(&rs.resource).iter().any(|r| {
        p.resource_scopes
            .iter()
            .any(|s| s.allows(p.context, r, &rs.need))
    });
    if !allowed {
        return Err(unauthorized());
    }
    Ok(p)
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
