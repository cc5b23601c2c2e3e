//! The hand-off from the authentication layer to the REST operations.
//!
//! [`handle`] receives a request that CXF has routed to a catalogue
//! operation and that the mount's authentication let through. It serves
//! the operations that prove authentication end to end
//! (`StatusService.checkIfAuthed`, `OAuthStatusService.oauthInfo`); every
//! other operation of the catalogue is answered by [`not_implemented`]
//! until the REST operations replace it with their own dispatch.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use emr_catalog::{Operation, PathMatch};
use serde_json::json;

use super::jsonlib;
use super::oauth1::params::Received;
use super::oauth1::Flavor;
use super::rest::{Mount, Principal, Via};
use crate::error::{DialectError, Failure};
use crate::state::AppState;

/// Serves one authenticated operation.
///
/// `principal` is `None` when the request got past authentication with
/// no login attached: Open-O's `/ws/services` without any credentials,
/// or a classic access token approved before anyone logged in. The real
/// resources then fail as soon as they ask for the login, which
/// [`logged_in`] reproduces.
pub fn handle(
    state: &AppState,
    mount: Mount,
    op: &Operation,
    _params: &PathMatch,
    principal: Option<Principal>,
    req: &Received,
) -> Response {
    match (op.group.as_str(), op.name.as_str()) {
        ("StatusService", "checkIfAuthed") => check_if_authed(mount, principal),
        ("OAuthStatusService", "oauthInfo") => oauth_info(state, principal),
        _ => not_implemented(op, principal.as_ref(), req),
    }
}

/// The login a resource asks for, or the failure asking for it causes
/// (`IllegalStateException("Authentication info is not available.")` in
/// Open-O, a `NullPointerException` in the classic resources).
pub fn logged_in(principal: Option<Principal>, mount: Mount) -> Result<Principal, DialectError> {
    principal.ok_or_else(|| {
        Failure::Internal("Authentication info is not available.".into())
            .in_dialect(mount.dialect())
    })
}

fn json_response(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// `GET /status/checkIfAuthed`: a `GenericRESTResponse` whose message is
/// the provider number; the same JSON in all three serialisers.
fn check_if_authed(mount: Mount, principal: Option<Principal>) -> Response {
    match logged_in(principal, mount) {
        Ok(p) => json_response(json!({"success": true, "message": p.provider_no}).to_string()),
        Err(e) => e.into_response(),
    }
}

/// `GET /ws/services/oauth/info`. Open-O: `{"providers": <provider>,
/// "login": .., "roles": <scopes>}`, where the scopes are only found when
/// the token came in the `Authorization` header; on any exception it
/// answers 200 `{"error": ...}`. OSCAR 19: `{"provider": .., "login": ..,
/// "roles": []}`.
fn oauth_info(state: &AppState, principal: Option<Principal>) -> Response {
    let open_o = Flavor::of(state.profile) == Flavor::OpenO;
    let provider = principal.as_ref().and_then(|p| {
        state
            .default_site()
            .store
            .read(|d| d.provider(&p.provider_no).cloned())
    });
    let (Some(p), Some(provider)) = (principal, provider) else {
        return json_response(
            json!({"error": "An internal error occurred. Please try again later."}).to_string(),
        );
    };
    let bean = jsonlib::provider_bean(&provider);
    let body = if open_o {
        let roles: Vec<String> = match &p.via {
            Via::OAuth1 {
                in_header: true, ..
            } => p.scopes.clone(),
            _ => Vec::new(),
        };
        json!({"providers": bean, "login": p.provider_no, "roles": roles})
    } else {
        json!({"provider": bean, "login": p.provider_no, "roles": []})
    };
    json_response(body.to_string())
}

/// The explicit end of the authentication layer's work: the request was
/// routed and authenticated, and the operation itself is not modelled
/// yet. Answers 501 naming the operation and the principal, so a
/// scenario can never mistake it for the real system's answer.
pub fn not_implemented(op: &Operation, principal: Option<&Principal>, req: &Received) -> Response {
    let who = principal.map_or_else(
        || "no login".to_owned(),
        |p| format!("provider {} via {}", p.provider_no, p.via.name()),
    );
    (
        StatusCode::NOT_IMPLEMENTED,
        [(header::CONTENT_TYPE, "text/plain;charset=utf-8")],
        format!(
            "emr-mock: `{}` ({} {}) passed authentication ({who}) but the mock does not implement this operation yet\n",
            op.id, req.method, req.path
        ),
    )
        .into_response()
}
