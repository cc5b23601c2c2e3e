//! Errors, and how each dialect puts them on the wire.
//!
//! Handlers fail with a [`Failure`] (what went wrong) and the dialect of the
//! route they serve decides the status, headers and body, so a client sees
//! exactly the shape the real system would send: an empty CXF 404, a SOAP
//! fault, a FHIR OperationOutcome, an OAuth error object.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The wire dialects of the mock's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The mock's own `/__admin/` API: JSON `{"error": ...}`.
    Admin,
    /// OSCAR JAX-RS resources on CXF under Tomcat.
    OscarRest,
    /// Juno's `/ws/services/v1` resources: the `RestResponse` JSON wrapper.
    JunoRest,
    /// OSCAR JAX-WS services: SOAP 1.1 faults.
    OscarSoap,
    /// OpenEMR Standard and Portal APIs.
    OpenEmrApi,
    /// FHIR R4: OperationOutcome.
    Fhir,
    /// OAuth2 / OpenID Connect endpoints: RFC 6749 error objects.
    OAuth2,
}

/// What went wrong, independent of how it is rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("no resource matches the request path")]
    NotFound,
    #[error("method not allowed (allowed: {})", allow.join(", "))]
    MethodNotAllowed { allow: Vec<String> },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The client did not send the whole body in time (a slow client).
    #[error("the request body did not arrive within {seconds} s")]
    RequestTimeout { seconds: u64 },
    #[error("unsupported media type `{0}`")]
    UnsupportedMediaType(String),
    #[error("no representation matches the Accept header")]
    NotAcceptable,
    #[error("{0}")]
    BadRequest(String),
    #[error("not authorized")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Failure {
    pub fn status(&self) -> StatusCode {
        match self {
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Failure::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Failure::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Failure::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Failure::BadRequest(_) => StatusCode::BAD_REQUEST,
            Failure::Unauthorized => StatusCode::UNAUTHORIZED,
            Failure::Forbidden(_) => StatusCode::FORBIDDEN,
            Failure::Conflict(_) => StatusCode::CONFLICT,
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Attaches the dialect that will render it.
    pub fn in_dialect(self, dialect: Dialect) -> DialectError {
        DialectError {
            dialect,
            failure: self,
        }
    }
}

/// A failure together with the dialect that renders it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{failure}")]
pub struct DialectError {
    pub dialect: Dialect,
    pub failure: Failure,
}

impl IntoResponse for DialectError {
    fn into_response(self) -> Response {
        let status = self.failure.status();
        let mut response = match self.dialect {
            Dialect::Admin => (
                status,
                axum::Json(json!({ "error": self.failure.to_string() })),
            )
                .into_response(),
            Dialect::OscarRest => oscar_rest(&self.failure),
            Dialect::JunoRest => juno_rest(&self.failure),
            Dialect::OscarSoap => soap_fault(&self.failure),
            Dialect::OpenEmrApi => openemr_api(&self.failure),
            Dialect::Fhir => fhir_outcome(&self.failure),
            Dialect::OAuth2 => oauth2(&self.failure),
        };
        if let Failure::MethodNotAllowed { allow } = &self.failure {
            if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                response.headers_mut().insert(header::ALLOW, v);
            }
        }
        response
    }
}

/// CXF answers routing and media-type failures with an empty body, the
/// cookie guard with `<error>Not authorized</error>`, and an escaped
/// exception with the servlet container's HTML error page.
fn oscar_rest(f: &Failure) -> Response {
    let status = f.status();
    match f {
        Failure::Unauthorized => (
            status,
            [(header::CONTENT_TYPE, "text/xml")],
            "<error>Not authorized</error>",
        )
            .into_response(),
        Failure::Internal(_) | Failure::Conflict(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
            tomcat_error_page(StatusCode::INTERNAL_SERVER_ERROR, &f.to_string()),
        )
            .into_response(),
        _ => status.into_response(),
    }
}

/// Tomcat's default error report page, which OSCAR shows for exceptions
/// that escape a resource.
pub fn tomcat_error_page(status: StatusCode, message: &str) -> String {
    let code = status.as_u16();
    let reason = status.canonical_reason().unwrap_or("Error");
    let message = xml_escape(message);
    format!(
        "<!doctype html><html lang=\"en\"><head><title>HTTP Status {code} – {reason}</title></head>\
         <body><h1>HTTP Status {code} – {reason}</h1><hr class=\"line\" />\
         <p><b>Type</b> Exception Report</p><p><b>Message</b> {message}</p>\
         <hr class=\"line\" /><h3>Apache Tomcat</h3></body></html>"
    )
}

/// OpenEMR's `ExceptionHandlerListener`: every refusal on `/apis/...` is
/// `{"error":"An error occurred","message":..,"code":..}` in a bare
/// Symfony response (so `text/html`, and no `WWW-Authenticate`).
fn openemr_api(f: &Failure) -> Response {
    let (status, message) = match f {
        // Routes match on method and path together: a wrong method is no route.
        Failure::NotFound | Failure::MethodNotAllowed { .. } => {
            (StatusCode::NOT_FOUND, "Route not found".to_owned())
        }
        Failure::Unauthorized => (
            StatusCode::UNAUTHORIZED,
            "The resource owner or authorization server denied the request.".to_owned(),
        ),
        Failure::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "System error occurred".to_owned(),
        ),
        other => (other.status(), other.to_string()),
    };
    openemr_error(status, &message, 0)
}

/// The body OpenEMR's exception listener writes.
pub fn openemr_error(status: StatusCode, message: &str, code: i64) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
        json!({ "error": "An error occurred", "message": message, "code": code }).to_string(),
    )
        .into_response()
}

fn juno_rest(f: &Failure) -> Response {
    let status = f.status();
    let message = match f {
        Failure::Internal(_) => "System error".to_owned(),
        other => other.to_string(),
    };
    (
        status,
        axum::Json(json!({
            "headers": {},
            "body": null,
            "error": { "message": message, "data": null },
            "status": "ERROR"
        })),
    )
        .into_response()
}

/// A SOAP 1.1 fault. CXF reports malformed input as a client fault and
/// everything else as a server fault, always with HTTP 500.
fn soap_fault(f: &Failure) -> Response {
    let code = match f {
        Failure::BadRequest(_)
        | Failure::NotFound
        | Failure::UnsupportedMediaType(_)
        | Failure::PayloadTooLarge { .. }
        | Failure::RequestTimeout { .. } => "soap:Client",
        _ => "soap:Server",
    };
    let status = match f {
        Failure::MethodNotAllowed { .. } | Failure::NotFound => f.status(),
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/xml;charset=UTF-8")],
        soap_fault_envelope(code, &f.to_string(), None),
    )
        .into_response()
}

/// A SOAP 1.1 envelope holding one fault, with an optional `<detail>` body
/// (already serialised XML).
pub fn soap_fault_envelope(code: &str, message: &str, detail: Option<&str>) -> String {
    let detail = detail
        .map(|d| format!("<detail>{d}</detail>"))
        .unwrap_or_default();
    format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\
         <soap:Fault><faultcode>{code}</faultcode><faultstring>{}</faultstring>{detail}</soap:Fault>\
         </soap:Body></soap:Envelope>",
        xml_escape(message)
    )
}

fn fhir_outcome(f: &Failure) -> Response {
    let code = match f {
        Failure::NotFound => "not-found",
        Failure::BadRequest(_) | Failure::UnsupportedMediaType(_) | Failure::NotAcceptable => {
            "invalid"
        }
        Failure::Unauthorized => "login",
        Failure::Forbidden(_) => "forbidden",
        Failure::PayloadTooLarge { .. } => "too-costly",
        Failure::RequestTimeout { .. } => "timeout",
        Failure::Conflict(_) => "conflict",
        Failure::MethodNotAllowed { .. } => "not-supported",
        Failure::Internal(_) => "exception",
    };
    (
        f.status(),
        [(header::CONTENT_TYPE, "application/fhir+json")],
        axum::Json(json!({
            "resourceType": "OperationOutcome",
            "issue": [{ "severity": "error", "code": code, "diagnostics": f.to_string() }]
        })),
    )
        .into_response()
}

fn oauth2(f: &Failure) -> Response {
    let error = match f {
        Failure::Unauthorized => "invalid_client",
        Failure::Forbidden(_) => "access_denied",
        Failure::Internal(_) => "server_error",
        _ => "invalid_request",
    };
    (
        f.status(),
        axum::Json(json!({ "error": error, "error_description": f.to_string() })),
    )
        .into_response()
}

/// Escapes text for XML character data and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// [`xml_escape`] appended to `out`, copying runs that need no escape.
pub(crate) fn escape_into(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&apos;",
            _ => continue,
        };
        // The escaped characters are ASCII, so `i` is a char boundary.
        out.push_str(&s[start..i]);
        out.push_str(entity);
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(r: Response) -> String {
        let b = r.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn oscar_guard_answers_xml_401() {
        let r = Failure::Unauthorized
            .in_dialect(Dialect::OscarRest)
            .into_response();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/xml");
        assert_eq!(body(r).await, "<error>Not authorized</error>");
    }

    #[tokio::test]
    async fn method_not_allowed_lists_allow() {
        let r = Failure::MethodNotAllowed {
            allow: vec!["GET".into(), "POST".into()],
        }
        .in_dialect(Dialect::OscarRest)
        .into_response();
        assert_eq!(r.status(), 405);
        assert_eq!(r.headers()[header::ALLOW], "GET, POST");
    }

    #[tokio::test]
    async fn soap_faults_escape_their_message() {
        let r = Failure::BadRequest("bad <xml> & more".into())
            .in_dialect(Dialect::OscarSoap)
            .into_response();
        assert_eq!(r.status(), 500);
        let b = body(r).await;
        assert!(b.contains("<faultcode>soap:Client</faultcode>"), "{b}");
        assert!(b.contains("bad &lt;xml&gt; &amp; more"), "{b}");
    }

    #[tokio::test]
    async fn fhir_errors_are_operation_outcomes() {
        let r = Failure::NotFound.in_dialect(Dialect::Fhir).into_response();
        let v: serde_json::Value = serde_json::from_str(&body(r).await).unwrap();
        assert_eq!(v["resourceType"], "OperationOutcome");
        assert_eq!(v["issue"][0]["code"], "not-found");
    }
}
