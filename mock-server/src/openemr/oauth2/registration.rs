//! `POST /registration` (RFC 7591 dynamic registration as OpenEMR does
//! it) and `GET /client/{path}` (the registered client, for its
//! registration access token).

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::super::scopes;
use super::error::OAuthError;
use super::store::Client;
use super::Ctx;
use crate::body;

/// Metadata keys OpenEMR stores and echoes.
const ACCEPTED: &[&str] = &[
    "contacts",
    "application_type",
    "client_name",
    "logo_uri",
    "redirect_uris",
    "post_logout_redirect_uris",
    "token_endpoint_auth_method",
    "policy_uri",
    "tos_uri",
    "jwks_uri",
    "jwks",
    "sector_identifier_uri",
    "subject_type",
    "default_max_age",
    "require_auth_time",
    "default_acr_values",
    "initiate_login_uri",
    "request_uris",
    "response_types",
    "grant_types",
    "scope",
    "dsi_type",
    "dsi_source_attributes",
];

fn metadata_error(description: &str) -> OAuthError {
    OAuthError::registration("invalid_client_metadata", description)
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    match v {
        None => Some(Vec::new()),
        Some(Value::Array(a)) => a.iter().map(|x| x.as_str().map(str::to_owned)).collect(),
        Some(Value::String(s)) => Some(vec![s.clone()]),
        _ => None,
    }
}

pub async fn register(ctx: &Ctx<'_>, req: Request) -> Response {
    let (parts, raw) = req.into_parts();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json") {
        return metadata_error("Unexpected content type").into_response();
    }
    let bytes = match body::read(raw, ctx.state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(f) => return metadata_error(&f.to_string()).into_response(),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return metadata_error("Invalid JSON").into_response();
    }
    let Ok(Value::Object(meta)) = serde_json::from_slice::<Value>(&bytes) else {
        return metadata_error("No JSON body").into_response();
    };
    match create(ctx, meta) {
        Ok(v) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            v.to_string(),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

fn create(ctx: &Ctx<'_>, meta: Map<String, Value>) -> Result<Value, OAuthError> {
    for (key, allowed) in [
        (
            "token_endpoint_auth_method",
            &[
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
            ][..],
        ),
        ("subject_type", &["pairwise", "public"][..]),
    ] {
        if let Some(v) = meta.get(key) {
            let text = v.as_str().unwrap_or("");
            if !allowed.contains(&text) {
                return Err(metadata_error(&format!("Unsupported {key} value : {text}")));
            }
        }
    }
    let redirect_uris = strings(meta.get("redirect_uris"))
        .filter(|r| !r.is_empty() && r.iter().all(|u| url::Url::parse(u).is_ok()))
        .ok_or_else(|| {
            OAuthError::registration("invalid_redirect_uri", "redirect_uris is invalid")
        })?;
    let post_logout = strings(meta.get("post_logout_redirect_uris"))
        .ok_or_else(|| metadata_error("Unsupported post_logout_redirect_uris value"))?;
    let contacts = strings(meta.get("contacts"))
        .ok_or_else(|| metadata_error("Unsupported contacts value"))?;
    let confidential = meta.get("application_type").and_then(Value::as_str) == Some("private");
    let requested = scopes::split(meta.get("scope").and_then(Value::as_str).unwrap_or(""));
    if let Some(bad) = requested.iter().find(|s| !ctx.auth().known.knows(s)) {
        return Err(OAuthError::invalid_scope(bad));
    }
    let has_prefix = |p: &str| requested.iter().any(|s| s.starts_with(p));
    let system = has_prefix("system/");
    if !confidential && (system || has_prefix("user/")) {
        return Err(metadata_error(
            "system and user scopes are only allowed for confidential clients",
        ));
    }
    let jwks = meta.get("jwks").cloned();
    if let Some(j) = &jwks {
        let ok = j.get("keys").and_then(Value::as_array).is_some_and(|keys| {
            !keys.is_empty()
                && keys.iter().all(|k| {
                    k.get("kty").and_then(Value::as_str) == Some("RSA")
                        && k.get("n").and_then(Value::as_str).is_some()
                        && k.get("e").and_then(Value::as_str).is_some()
                })
        });
        if !ok {
            return Err(metadata_error("jwks is invalid"));
        }
    }
    let jwks_uri = meta
        .get("jwks_uri")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let has_keys = jwks.is_some() || jwks_uri.is_some();
    if confidential && system && !has_keys {
        return Err(metadata_error("jwks is invalid"));
    }
    let grant_types = grant_types(meta.get("grant_types"), confidential, system, has_keys)?;
    let method = meta
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .unwrap_or(if confidential {
            "client_secret_basic"
        } else {
            "none"
        })
        .to_owned();
    let manual = ctx.auth().settings().app_manual_approval;
    let enabled = !(manual
        || (!confidential && requested.iter().any(|s| s == "launch"))
        || (confidential && (system || has_prefix("user/"))));
    let now = ctx.now();
    let echoed: Map<String, Value> = meta
        .iter()
        .filter(|(k, _)| ACCEPTED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let client = ctx.auth().with(|d| {
        let c = Client {
            id: d.token(43),
            secret: if confidential {
                d.token(86)
            } else {
                String::new()
            },
            name: meta
                .get("client_name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            confidential,
            redirect_uris,
            post_logout_redirect_uris: post_logout,
            contacts,
            scopes: requested,
            jwks,
            jwks_uri,
            token_endpoint_auth_method: method,
            grant_types,
            enabled,
            registration_access_token: d.token(43),
            registration_path: d.token(22),
            issued_at: now,
            metadata: echoed,
            dsi_type: meta.get("dsi_type").cloned(),
        };
        d.clients.insert(c.id.clone(), c.clone());
        c
    });
    let mut out = Map::new();
    out.insert("client_id".into(), json!(client.id));
    out.insert("client_secret".into(), json!(client.secret));
    out.insert(
        "registration_access_token".into(),
        json!(client.registration_access_token),
    );
    out.insert(
        "registration_client_uri".into(),
        json!(format!(
            "{}/client/{}",
            ctx.auth_base(),
            client.registration_path
        )),
    );
    out.insert("client_id_issued_at".into(), json!(client.issued_at));
    out.insert("client_secret_expires_at".into(), json!(0));
    out.insert("client_role".into(), json!(client.role()));
    for (k, v) in &client.metadata {
        out.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(out))
}

/// `ClientGrantTypePolicy`.
fn grant_types(
    v: Option<&Value>,
    confidential: bool,
    system: bool,
    has_keys: bool,
) -> Result<Vec<String>, OAuthError> {
    let cc_ok = confidential && system && has_keys;
    let Some(v) = v else {
        let mut g = vec!["authorization_code".to_owned()];
        if cc_ok {
            g.push("client_credentials".to_owned());
        }
        return Ok(g);
    };
    let list = v
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| metadata_error("grant_types must be a non-empty array"))?;
    let mut out: Vec<String> = Vec::new();
    for g in list {
        let g = g.as_str().unwrap_or("");
        match g {
            "authorization_code" | "refresh_token" | "client_credentials" => {
                if !out.iter().any(|o| o == g) {
                    out.push(g.to_owned());
                }
            }
            // Admin-only: dropped at registration.
            "password" => {}
            _ => return Err(metadata_error("Unsupported grant_types value")),
        }
    }
    if out.iter().all(|g| g == "refresh_token") && !out.is_empty() {
        return Err(metadata_error(
            "refresh_token requires a grant that issues refresh tokens",
        ));
    }
    if out.iter().any(|g| g == "client_credentials") && !cc_ok {
        return Err(metadata_error(
            "client_credentials requires a confidential client with jwks or jwks_uri and system scopes",
        ));
    }
    Ok(out)
}

fn forbidden(error: &str, description: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": error, "error_description": description, "message": description})
            .to_string(),
    )
        .into_response()
}

/// `GET /client/{path}` with the registration access token.
pub async fn read(ctx: &Ctx<'_>, req: Request, sub: &str) -> Response {
    let (parts, raw) = req.into_parts();
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let form_token = match body::read(raw, ctx.state.config.max_body_bytes).await {
        Ok(b) => super::pages::parse_pairs(&String::from_utf8_lossy(&b))
            .into_iter()
            .chain(super::pages::parse_pairs(parts.uri.query().unwrap_or("")))
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v),
        Err(_) => None,
    };
    let Some(token) = bearer.or(form_token).filter(|t| !t.is_empty()) else {
        return forbidden("invalid_request", "No Access Code");
    };
    let path = sub
        .split("/client")
        .nth(1)
        .unwrap_or("")
        .trim_matches('/')
        .to_owned();
    if path.is_empty() || path.contains('/') {
        return forbidden("invalid_request", "Invalid path");
    }
    let Some(client) = ctx.auth().with(|d| {
        d.clients
            .values()
            .find(|c| c.registration_path == path)
            .cloned()
    }) else {
        return forbidden("invalid_request", "Invalid client");
    };
    if client.registration_access_token != token {
        return forbidden("invalid _request", "Invalid registration token");
    }
    let mut out = json!({
        "client_id": client.id,
        "client_secret": client.secret,
        "contacts": client.contacts,
        "application_type": client.role(),
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "dsi_type": client.dsi_type,
    });
    if let Some(a) = client.metadata.get("dsi_source_attributes") {
        out["dsi_source_attributes"] = a.clone();
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        out.to_string(),
    )
        .into_response()
}
