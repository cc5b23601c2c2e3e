//! league/oauth2-server's errors: `{"error","error_description","hint",
//! "message"}` JSON with the league status, or a 302 to the client's
//! redirect URI carrying the same fields once that URI is known.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// An OAuth error as league raises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: String,
    pub description: String,
    pub hint: Option<String>,
    /// Redirect to this URI (with its own query) instead of answering JSON.
    pub redirect: Option<String>,
    /// `WWW-Authenticate: Basic realm="OAuth"` (invalid_client when the
    /// request carried an Authorization header).
    pub www_authenticate: bool,
}

const INVALID_REQUEST: &str = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.";
const INVALID_GRANT: &str = "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";

impl OAuthError {
    fn new(status: u16, error: &str, description: &str, hint: Option<String>) -> OAuthError {
        OAuthError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            error: error.to_owned(),
            description: description.to_owned(),
            hint,
            redirect: None,
            www_authenticate: false,
        }
    }

    /// A missing or bad parameter; `hint` as league words it.
    pub fn invalid_request(hint: impl Into<String>) -> OAuthError {
        OAuthError::new(400, "invalid_request", INVALID_REQUEST, Some(hint.into()))
    }

    /// `Check the `name` parameter`.
    pub fn missing(name: &str) -> OAuthError {
        OAuthError::invalid_request(format!("Check the `{name}` parameter"))
    }

    pub fn invalid_client() -> OAuthError {
        OAuthError::new(401, "invalid_client", "Client authentication failed", None)
    }

    /// OpenEMR answers JWT client-assertion failures with 400, not 401
    /// (for ONC Inferno).
    pub fn invalid_client_assertion(hint: impl Into<String>) -> OAuthError {
        OAuthError::new(
            400,
            "invalid_client",
            "Client authentication failed",
            Some(hint.into()),
        )
    }

    pub fn invalid_grant(hint: impl Into<String>) -> OAuthError {
        OAuthError::new(400, "invalid_grant", INVALID_GRANT, Some(hint.into()))
    }

    /// league 8: an unusable refresh token.
    pub fn invalid_refresh_token(hint: &str) -> OAuthError {
        OAuthError::new(
            400,
            "invalid_grant",
            "The refresh token is invalid.",
            Some(hint.to_owned()),
        )
    }

    pub fn invalid_scope(scope: &str) -> OAuthError {
        let hint = if scope.is_empty() {
            "Specify a scope in the request or set a default scope".to_owned()
        } else {
            format!("Check the `{scope}` scope")
        };
        OAuthError::new(
            400,
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed",
            Some(hint),
        )
    }

    pub fn unsupported_grant_type() -> OAuthError {
        OAuthError::new(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
            Some("Check that all required parameters have been provided".into()),
        )
    }

    pub fn unauthorized_client(grant: &str) -> OAuthError {
        OAuthError::new(
            400,
            "unauthorized_client",
            "The authenticated client is not authorized to use this authorization grant type.",
            Some(format!(
                "Grant type {grant} is not registered for this client."
            )),
        )
    }

    pub fn access_denied(hint: impl Into<String>) -> OAuthError {
        OAuthError::new(
            401,
            "access_denied",
            "The resource owner or authorization server denied the request.",
            Some(hint.into()),
        )
    }

    /// Registration errors: `invalid_client_metadata`, `invalid_redirect_uri`.
    pub fn registration(error: &str, description: &str) -> OAuthError {
        OAuthError::new(400, error, description, None)
    }

    /// Sends the error back to the client's redirect URI instead.
    pub fn redirect_to(mut self, uri: String) -> OAuthError {
        self.redirect = Some(uri);
        self
    }

    pub fn with_www_authenticate(mut self, yes: bool) -> OAuthError {
        self.www_authenticate = yes && self.error == "invalid_client";
        self
    }

    pub fn payload(&self) -> Value {
        let mut m = Map::new();
        m.insert("error".into(), json!(self.error));
        m.insert("error_description".into(), json!(self.description));
        if let Some(h) = &self.hint {
            m.insert("hint".into(), json!(h));
        }
        m.insert("message".into(), json!(self.description));
        Value::Object(m)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        if let Some(uri) = &self.redirect {
            let mut pairs = vec![
                ("error", self.error.clone()),
                ("error_description", self.description.clone()),
            ];
            if let Some(h) = &self.hint {
                pairs.push(("hint", h.clone()));
            }
            pairs.push(("message", self.description.clone()));
            let location = super::pages::append_query(uri, &pairs);
            return redirect(StatusCode::FOUND, &location);
        }
        let mut r = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            self.payload().to_string(),
        )
            .into_response();
        if self.www_authenticate {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"OAuth\""),
            );
        }
        r
    }
}

/// A redirect with a `Location` header.
pub fn redirect(status: StatusCode, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => {
            let mut r = status.into_response();
            r.headers_mut().insert(header::LOCATION, v);
            r
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
