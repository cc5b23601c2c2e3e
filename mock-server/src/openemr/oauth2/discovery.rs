//! `/.well-known/openid-configuration` and the JWKS (`/jwk`).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::super::scopes::BASE_SCOPES;
use super::Ctx;

fn json(v: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// The public signing key: no `kid`, no `alg`, as OpenEMR publishes it.
pub fn jwks(ctx: &Ctx<'_>) -> Response {
    json(json!({"keys": [ctx.auth().server_key.jwk(&[("use", "sig")])]}))
}

/// The scopes a server advertises: the base scopes, then `.read` of every
/// resource and the operation scopes.
pub fn scopes_supported(ctx: &Ctx<'_>) -> Vec<String> {
    let known = &ctx.auth().known;
    let mut out: Vec<String> = BASE_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    out.extend(
        known
            .pairs()
            .map(|(c, r)| format!("{}/{r}.read", c.as_str())),
    );
    out.extend(
        known
            .operations()
            .map(|(c, r, o)| format!("{}/{r}.{o}", c.as_str())),
    );
    out
}

pub const RESPONSE_TYPES: &[&str] = &[
    "code",
    "token",
    "id_token",
    "code token",
    "code id_token",
    "token id_token",
    "code token id_token",
];

pub fn openid_configuration(ctx: &Ctx<'_>) -> Response {
    let base = ctx.auth_base();
    let mut grants = vec!["authorization_code"];
    if ctx.auth().settings().password_grant {
        grants.push("password");
    }
    grants.push("refresh_token");
    json(json!({
        "issuer": ctx.issuer(),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwk"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "registration_endpoint": format!("{base}/registration"),
        "end_session_endpoint": format!("{}{}", ctx.root, ctx.layout.logout_path(&ctx.site.name)),
        "introspection_endpoint": format!("{base}/introspect"),
        "scopes_supported": scopes_supported(ctx),
        "response_types_supported": RESPONSE_TYPES,
        "code_challenge_methods_supported": ["S256", "plain"],
        "grant_types_supported": grants,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["public"],
        "claims_supported": [
            "profile", "email", "email_verified", "phone", "phone_verified", "family_name",
            "given_name", "fhirUser", "locale", "api:oemr", "api:fhir", "api:port",
            "aud", "iat", "iss", "exp", "sub"
        ],
        "require_request_uri_registration": ["false"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384"],
        "claims_locales_supported": ["en-US"],
        "ui_locales_supported": ["en-US"],
    }))
}
