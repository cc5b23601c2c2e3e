//! Auth drivers: they obtain credentials for a scenario (running the
//! target's own flows) and sign each request.

pub mod wss;

use crate::scenario::AuthSpec;
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
    pub wss: wss::WssCache,
}

/// What a driver can use to authorize a request.
pub struct AuthContext<'a> {
    pub target: &'a Target,
    pub transport: &'a Transport,
    pub state: &'a mut AuthState,
}

/// Authorizes `req` as `spec` says, running the flow first if needed.
pub async fn authorize(
    spec: &AuthSpec,
    _ctx: &mut AuthContext<'_>,
    _req: &mut HttpRequest,
) -> Result<(), AuthError> {
    match spec {
        AuthSpec::None => Ok(()),
        // The SOAP step builds the header itself (`wss::header`).
        AuthSpec::Wss(_) => Err(AuthError::Failed {
            driver: "wss",
            message: "WS-Security goes in a SOAP envelope: use it on `soap:` steps".into(),
        }),
    }
}
