//! Auth drivers: they obtain credentials for a scenario (running the
//! target's own flows) and sign each request.

pub mod oauth2;

use crate::scenario::{AuthSpec, Vars};
use crate::target::Target;
use crate::transport::{HttpRequest, Transport};

/// Why a request could not be authorized.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error("{driver}: {message}")]
    Failed {
        driver: &'static str,
        message: String,
    },
}

/// Per-scenario state of every driver (tokens, sessions), reused by the
/// scenario's steps.
#[derive(Debug, Default)]
pub struct AuthState {
    /// `(method, url)` of every request a driver sent, for coverage.
    pub calls: Vec<(String, String)>,
    pub oauth2: oauth2::OAuth2State,
}

/// What a driver can use to authorize a request.
pub struct AuthContext<'a> {
    pub target: &'a Target,
    pub transport: &'a Transport,
    pub state: &'a mut AuthState,
    /// The scenario's variables: drivers render their templates with them
    /// and publish what they obtained (`{{oauth2.*}}`).
    pub vars: &'a mut Vars,
}

/// Authorizes `req` as `spec` says, running the flow first if needed.
pub async fn authorize(
    spec: &AuthSpec,
    ctx: &mut AuthContext<'_>,
    req: &mut HttpRequest,
) -> Result<(), AuthError> {
    match spec {
        AuthSpec::None => Ok(()),
        AuthSpec::OAuth2(o) => oauth2::authorize(o, ctx, req).await,
    }
}
