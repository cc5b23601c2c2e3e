//! `GET /logout?id_token_hint=…[&post_logout_redirect_uri=…&state=…]`:
//! ends the user's grant to the client (every token of that client and
//! user stops working).

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::super::jwt::Jwt;
use super::error::redirect;
use super::pages::{append_query, parse_pairs};
use super::Ctx;

fn bad(description: &str) -> Response {
    // The source's error type has a space in it.
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": "invalid _request", "error_description": description, "message": description})
            .to_string(),
    )
        .into_response()
}

pub fn logout(ctx: &Ctx<'_>, req: Request) -> Response {
    let q = parse_pairs(req.uri().query().unwrap_or(""));
    let get = |n: &str| {
        q.iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let Some(hint) = get("id_token_hint") else {
        return bad("Id token missing from request");
    };
    // Decoded without verifying the signature, as OpenEMR does.
    let Ok(jwt) = Jwt::parse(&hint) else {
        return bad("Id token not issued from this server");
    };
    let client_id = match jwt.claims.get("aud") {
        Some(serde_json::Value::Array(a)) => {
            a.first().and_then(|v| v.as_str()).unwrap_or("").to_owned()
        }
        _ => jwt.claim_str("aud").unwrap_or("").to_owned(),
    };
    let user = jwt.claim_str("sub").unwrap_or("").to_owned();
    let post_logout = get("post_logout_redirect_uri");
    let state = get("state").unwrap_or_default();
    let key = (client_id.clone(), user);
    let Some(stored_nonce) = ctx.auth().with(|d| d.trusted.get(&key).cloned()) else {
        return match post_logout {
            Some(uri) => redirect(
                StatusCode::TEMPORARY_REDIRECT,
                &append_query(&uri, &[("state", state)]),
            ),
            None => crate::error::openemr_error(
                StatusCode::UNAUTHORIZED,
                "You are currently not signed in.",
                0,
            ),
        };
    };
    if stored_nonce.as_deref() != jwt.claim_str("nonce") {
        return bad("Id token not issued from this server");
    }
    let registered = ctx.auth().with(|d| {
        d.trusted.remove(&key);
        d.clients
            .get(&client_id)
            .map(|c| c.post_logout_redirect_uris.join("|"))
            .unwrap_or_default()
    });
    match post_logout {
        // Compared with the stored `|`-joined column, as the source does.
        Some(uri) if uri == registered => redirect(
            StatusCode::TEMPORARY_REDIRECT,
            &append_query(&uri, &[("state", state)]),
        ),
        _ => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "You have been signed out. Thank you.",
        )
            .into_response(),
    }
}
