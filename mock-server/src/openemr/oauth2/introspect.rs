//! `POST /introspect` (RFC 7662 as OpenEMR answers it).

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::super::jwt::{Alg, Jwt};
use super::client_auth::{self, field};
use super::pages::parse_pairs;
use super::Ctx;
use crate::body;

fn error(status: StatusCode, description: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": "invalid_request", "error_description": description}).to_string(),
    )
        .into_response()
}

pub async fn introspect(ctx: &Ctx<'_>, req: Request) -> Response {
    let (_, raw) = req.into_parts();
    let bytes = match body::read(raw, ctx.state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(f) => return error(f.status(), &f.to_string()),
    };
    let form = parse_pairs(&String::from_utf8_lossy(&bytes));
    let client = if field(&form, "client_assertion").is_some() {
        match client_auth::verify_assertion(ctx, field(&form, "client_assertion").unwrap_or("")) {
            Ok(c) => c,
            Err(e) => return e.into_response(),
        }
    } else {
        let Some(id) = field(&form, "client_id") else {
            return error(StatusCode::UNAUTHORIZED, "Not a registered client");
        };
        let Some(client) = ctx.auth().with(|d| d.clients.get(id).cloned()) else {
            return error(StatusCode::UNAUTHORIZED, "Not a registered client");
        };
        if !client.enabled {
            return error(StatusCode::UNAUTHORIZED, "Client failed security");
        }
        if client.confidential {
            match field(&form, "client_secret") {
                None => return error(StatusCode::BAD_REQUEST, "Invalid client app type"),
                Some(s) if s != client.secret => {
                    return error(StatusCode::UNAUTHORIZED, "Client failed security")
                }
                Some(_) => {}
            }
        }
        client
    };
    let Some(token) = field(&form, "token") else {
        return error(
            StatusCode::BAD_REQUEST,
            "Missing token or unsupported hint.",
        );
    };
    let hint = match field(&form, "token_type_hint") {
        Some(h @ ("access_token" | "refresh_token")) => h,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Missing token or unsupported hint.",
            )
        }
        None if token.split('.').count() == 3 => "access_token",
        None => "refresh_token",
    };
    let now = ctx.now();
    let inactive = || json_ok(json!({"active": false}));
    if hint == "refresh_token" {
        let Some(r) = ctx.auth().with(|d| d.refresh.get(token).cloned()) else {
            return inactive();
        };
        if r.client_id != client.id {
            return error(StatusCode::BAD_REQUEST, "Client ID mismatch");
        }
        let trusted = ctx.auth().with(|d| {
            d.trusted
                .contains_key(&(r.client_id.clone(), r.user.uuid.clone()))
        });
        let mut out = json!({
            "active": true,
            "scope": r.scopes.join(" "),
            "client_id": r.client_id,
            "sub": r.user.uuid,
            "exp": r.expires,
            "iat": r.issued,
            "jti": r.id,
        });
        if r.revoked || !trusted {
            out["active"] = json!(false);
            out["status"] = json!("revoked");
        } else if r.expires <= now {
            return inactive();
        }
        return json_ok(out);
    }
    let Ok(jwt) = Jwt::parse(token) else {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Error parsing the token: not a JWT",
        )
            .into_response();
    };
    let key = ctx.auth().server_key;
    if jwt.verify(Alg::RS256, &key.n, &key.e).is_err() {
        return inactive();
    }
    let aud = match jwt.claims.get("aud") {
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_owned),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    if aud.as_deref() != Some(client.id.as_str()) {
        return inactive();
    }
    let jti = jwt.claim_str("jti").unwrap_or("");
    let Some(rec) = ctx.auth().with(|d| d.access.get(jti).cloned()) else {
        return inactive();
    };
    if rec.expires <= now {
        return inactive();
    }
    let trusted = ctx.auth().with(|d| {
        d.trusted
            .contains_key(&(rec.client_id.clone(), rec.user.uuid.clone()))
    });
    let mut out = json!({
        "active": true,
        "scope": rec.scopes.join(" "),
        "client_id": rec.client_id,
        "sub": rec.user.uuid,
        "exp": rec.expires,
        "iat": rec.issued,
        "jti": jti,
        "aud": rec.client_id,
        "token_type": "Bearer",
    });
    if rec.patient.is_some() {
        out["patient"] = json!(rec.patient);
    }
    if rec.revoked || !trusted {
        out["active"] = json!(false);
        out["status"] = json!("revoked");
    }
    json_ok(out)
}

fn json_ok(v: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}
