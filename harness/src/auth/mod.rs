//! Auth drivers: they obtain credentials for a scenario (running the
//! target's own flows) and sign each request.

mod forms;
pub mod oauth1;
pub mod oauth2;
pub mod session;
pub mod wss;

use serde_json::Value;

use crate::scenario::{AuthSpec, Template, Vars};
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

impl AuthError {
    pub(crate) fn new(driver: &'static str, message: impl Into<String>) -> AuthError {
        AuthError::Failed {
            driver,
            message: message.into(),
        }
    }
}

/// Per-scenario state of every driver (tokens, sessions), reused by the
/// scenario's steps.
#[derive(Debug, Default)]
pub struct AuthState {
    /// `(method, url)` of every request a driver sent, for coverage.
    pub calls: Vec<(String, String)>,
    pub oauth2: oauth2::OAuth2State,
    pub oauth1: oauth1::State,
    pub session: session::State,
    pub wss: wss::WssCache,
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

impl AuthContext<'_> {
    pub(crate) fn render(
        &self,
        driver: &'static str,
        t: Option<&Template>,
    ) -> Result<Option<String>, AuthError> {
        t.map(|t| t.render(&*self.vars))
            .transpose()
            .map_err(|e| AuthError::new(driver, e.to_string()))
    }
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
        AuthSpec::OAuth1(opts) => oauth1::authorize(opts, ctx, req).await,
        AuthSpec::Session(opts) => session::authorize(opts, ctx, req).await,
        // The SOAP step builds the header itself (`wss::header`).
        AuthSpec::Wss(_) => Err(AuthError::Failed {
            driver: "wss",
            message: "WS-Security goes in a SOAP envelope: use it on `soap:` steps".into(),
        }),
    }
}
/// A login of the credentials document's `users`: by username, or the
/// first one.
pub(crate) fn user<'a>(
    driver: &'static str,
    credentials: &'a Value,
    username: Option<&str>,
) -> Result<&'a Value, AuthError> {
    let users = credentials["users"].as_array().ok_or_else(|| {
        AuthError::new(
            driver,
            "the target's credentials list no `users` (expected the shape of the mock's /__admin/credentials)",
        )
    })?;
    match username {
        None => users
            .first()
            .ok_or_else(|| AuthError::new(driver, "the credentials' `users` is empty")),
        Some(name) => users
            .iter()
            .find(|u| u["username"] == name)
            .ok_or_else(|| AuthError::new(driver, format!("no user `{name}` in the credentials"))),
    }
}

/// A string field of a credentials entry (numbers are read as text).
pub(crate) fn field(v: &Value, name: &str) -> String {
    match &v[name] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
