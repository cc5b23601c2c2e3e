//! The OAuth2 / OpenID Connect / SMART authorization server of OpenEMR
//! (`/oauth2/{site}/...`) and eMedicalPractice (`/connect/...`).
//!
//! Each site has its own clients, keys, codes and tokens ([`SiteAuth`]).
//! The endpoints follow OpenEMR's `AuthorizationController` and
//! league/oauth2-server 8 (see `docs/reference/openemr/openemr-api.md` §5):
//! dynamic registration, the browser flow (authorize → login → patient
//! picker → consent → code), the token endpoint's four grants,
//! introspection, logout, JWKS and discovery.

mod authorize;
mod client_auth;
mod discovery;
mod error;
mod introspect;
mod logout;
mod pages;
mod registration;
mod settings;
mod store;
mod token;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;

pub use discovery::{scopes_supported, RESPONSE_TYPES};
pub use error::OAuthError;
pub use settings::admin_routes;
pub use store::{AccessRecord, AuthData, Client, LoggedIn, Role, SiteAuth, TokenCheck, TrustedKey};

use super::layout::Layout;
use crate::journal::OperationId;
use crate::state::{AppState, Site};

/// The authorization server's routes for the profile's layout.
pub fn routes(layout: Layout) -> Router<AppState> {
    match layout {
        Layout::OpenEmr => Router::new()
            .route("/oauth2/{site}", any(openemr))
            .route("/oauth2/{site}/{*rest}", any(openemr)),
        Layout::EMedPractice => Router::new()
            .route("/connect/{*rest}", any(emedpractice))
            .route("/authorize/logout", any(emedpractice))
            .route("/.well-known/openid-configuration", any(emedpractice)),
    }
}

/// What every endpoint handler gets.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub site: &'a Site,
    pub layout: Layout,
    /// `scheme://host[:port]` as the client addressed us.
    pub root: String,
}

impl Ctx<'_> {
    pub fn auth(&self) -> &SiteAuth {
        &self.site.oauth2
    }

    /// `{root}/oauth2/{site}` or `{root}/connect`.
    pub fn auth_base(&self) -> String {
        format!("{}{}", self.root, self.layout.auth_path(&self.site.name))
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.auth_base())
    }

    pub fn issuer(&self) -> String {
        self.layout.issuer(&self.root, &self.site.name)
    }

    pub fn now(&self) -> i64 {
        self.state.clock.unix()
    }
}

/// The server's root URL as the request addressed it (OpenEMR uses its
/// configured `site_addr_oath`; the mock has no configuration, so the
/// `Host` the client used is the address).
pub fn root_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|s| *s == "https" || *s == "http")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

async fn openemr(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let rest = path.strip_prefix("/oauth2/").unwrap_or("");
    let site_name = rest.split('/').next().unwrap_or("").to_owned();
    let Some(site) = state
        .site(&site_name)
        .filter(|_| super::valid_site_name(&site_name))
    else {
        return crate::error::openemr_error(StatusCode::BAD_REQUEST, super::SITE_ERROR, 0);
    };
    let sub = &rest[site_name.len()..];
    dispatch(&state, site, Layout::OpenEmr, sub.to_owned(), req).await
}

async fn emedpractice(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let sub = if let Some(rest) = path.strip_prefix("/connect") {
        rest.to_owned()
    } else if path == "/authorize/logout" {
        "/logout".to_owned()
    } else {
        path.clone()
    };
    let site = state.default_site();
    dispatch(&state, site, Layout::EMedPractice, sub, req).await
}

/// `OAuth2AuthorizationListener`: endpoints matched by substring, in the
/// source's order; anything else is an empty 404.
async fn dispatch(
    state: &AppState,
    site: &Site,
    layout: Layout,
    sub: String,
    req: Request,
) -> Response {
    let ctx = Ctx {
        state,
        site,
        layout,
        root: root_url(req.headers()),
    };
    let method = req.method().clone();
    let full_path = req.uri().path().to_owned();
    let mut response = if sub.contains("/token") {
        if method == Method::OPTIONS {
            StatusCode::OK.into_response()
        } else {
            token::token(&ctx, req).await
        }
    } else if sub.contains("/.well-known/openid-configuration") {
        discovery::openid_configuration(&ctx)
    } else if sub.contains("/authorize") {
        authorize::authorize(&ctx, req).await
    } else if sub.contains("/device/code") {
        authorize::device_code(&ctx, req).await
    } else if sub.contains("/jwk") {
        discovery::jwks(&ctx)
    } else if sub.contains("/login") {
        authorize::login(&ctx, req).await
    } else if sub.contains("/smart/patient-select-confirm") {
        authorize::patient_select_confirm(&ctx, req).await
    } else if sub.contains("/smart/patient-select") || sub.contains("/smart/patient-search") {
        authorize::patient_select(&ctx, req, sub.contains("/patient-search"))
    } else if sub.contains("/scope-authorize-confirm") {
        authorize::consent(&ctx, req)
    } else if sub.contains("/registration") {
        registration::register(&ctx, req).await
    } else if sub.contains("/client") {
        registration::read(&ctx, req, &sub).await
    } else if sub.contains("/logout") {
        logout::logout(&ctx, req)
    } else if sub.contains("/introspect") {
        introspect::introspect(&ctx, req).await
    } else {
        StatusCode::NOT_FOUND.into_response()
    };
    // The journal names the catalogue operation the request addressed.
    if let emr_catalog::Lookup::Found(op, _) = state.catalog.resolve(method.as_str(), &full_path) {
        response.extensions_mut().insert(OperationId(op.id.clone()));
    }
    response
}

/// The site's section of `/__admin/credentials`: endpoints (paths under
/// the server root), the seeded clients (the JWKS client with its private
/// key and `kid`, so a harness can sign assertions), the settings.
pub fn credentials(site: &Site) -> serde_json::Value {
    use serde_json::json;
    let auth = &site.oauth2;
    let layout = auth.layout;
    let base = layout.auth_path(&site.name);
    let kinds = ["confidential", "public", "jwks"];
    let clients: Vec<serde_json::Value> = auth
        .seeded()
        .into_iter()
        .map(|c| {
            let kind = if c.jwks.is_some() {
                kinds[2]
            } else if c.confidential {
                kinds[0]
            } else {
                kinds[1]
            };
            let mut v = json!({
                "kind": kind,
                "client_id": c.id,
                "client_secret": c.secret,
                "client_name": c.name,
                "application_type": if c.confidential { "private" } else { "public" },
                "token_endpoint_auth_method": c.token_endpoint_auth_method,
                "redirect_uris": c.redirect_uris,
                "post_logout_redirect_uris": c.post_logout_redirect_uris,
                "grant_types": c.grant_types,
                "scope": c.scopes.join(" "),
                "registration_access_token": c.registration_access_token,
                "registration_client_uri": format!("{base}/client/{}", c.registration_path),
            });
            if c.jwks.is_some() {
                v["jwks"] = c.jwks.clone().unwrap_or_default();
                v["kid"] = json!(auth.client_kid());
                v["private_key_pem"] = json!(auth.client_key.pem);
            }
            v
        })
        .collect();
    let by_kind = |k: &str| {
        clients
            .iter()
            .find(|c| c["kind"] == k)
            .cloned()
            .unwrap_or_default()
    };
    json!({
        "issuer_path": layout.issuer("", &site.name),
        "authorization_path": format!("{base}/authorize"),
        "token_path": format!("{base}/token"),
        "introspection_path": format!("{base}/introspect"),
        "registration_path": format!("{base}/registration"),
        "jwks_path": format!("{base}/jwk"),
        "logout_path": layout.logout_path(&site.name),
        "discovery_path": layout.discovery_path(&site.name),
        "fhir_path": layout.fhir_path(&site.name),
        "api_path": layout.api_path(&site.name),
        "portal_path": layout.portal_path(&site.name),
        "system_user": auth.system_user(),
        "settings": auth.settings(),
        "confidential": by_kind("confidential"),
        "public": by_kind("public"),
        "jwks": by_kind("jwks"),
        "clients": clients,
    })
}
