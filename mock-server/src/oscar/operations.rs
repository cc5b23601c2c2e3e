//! The hand-off from the authentication layer to the REST operations.
//!
//! [`handle`] receives a request that CXF has routed to a catalogue
//! operation and that the mount's authentication let through, and passes
//! it to the data-driven operations ([`super::api`]).

use axum::response::Response;
use emr_catalog::{Operation, PathMatch};

use super::oauth1::params::Received;
use super::rest::{Mount, Principal};
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
    params: &PathMatch,
    principal: Option<Principal>,
    req: &Received,
) -> Response {
    super::api::handle(state, mount, op, params, principal, req)
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
