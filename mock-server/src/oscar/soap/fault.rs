//! SOAP 1.1 faults as each variant's CXF writes them: always HTTP 500,
//! `text/xml`, with WS-Security faults in the variant's own codes.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::xml::{WSS4J, WSSE};
use crate::error::xml_escape;

/// What failed, independent of the variant that renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapFault {
    /// Unreadable or unexpected input (`soap:Client`).
    Client(String),
    /// The operation threw (`soap:Server`); a declared checked exception
    /// also puts its fault bean in `<detail>`.
    Server {
        message: String,
        exception: Option<String>,
    },
    /// A header with `mustUnderstand` that nothing processes.
    MustUnderstand(String),
    /// Not a SOAP 1.1 envelope.
    VersionMismatch(String),
    Security(SecurityFault),
}

/// The WS-Security failures WSS4J distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityFault {
    /// Bad credentials, digest passwords, unknown users, expired accounts.
    FailedAuthentication,
    /// No (or an unusable) `<wsse:Security>` header, or a replayed nonce.
    InvalidSecurity,
    /// A UsernameToken without a Username.
    InvalidSecurityToken,
    /// A `Created` too old or too far ahead (WSS4J 2.x only).
    MessageExpired,
}

impl SecurityFault {
    /// WSS4J 1.6's code and fixed message (OSCAR 19, CXF 2.7.11).
    fn wss4j16(self) -> (&'static str, &'static str) {
        match self {
            SecurityFault::FailedAuthentication => (
                "FailedAuthentication",
                "The security token could not be authenticated or authorized",
            ),
            SecurityFault::InvalidSecurity => (
                "InvalidSecurity",
                "An error was discovered processing the <wsse:Security> header.",
            ),
            SecurityFault::InvalidSecurityToken => (
                "InvalidSecurityToken",
                "An invalid security token was provided",
            ),
            SecurityFault::MessageExpired => ("MessageExpired", "The message has expired"),
        }
    }
}

/// How a variant's CXF/WSS4J reports security failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityDialect {
    /// OSCAR 19: WSS4J 1.6 codes with their fixed messages.
    Wss4j16,
    /// Open-O and Juno: WSS4J 2.x without `ws-security.return.security.error`,
    /// so every failure is the same generic `wss4j:SecurityError`.
    Wss4j2,
}

pub const GENERIC_SECURITY_ERROR: &str =
    "A security error was encountered when verifying the message";

/// CXF's message when the exception has none (a `NullPointerException`).
pub const NO_MESSAGE: &str = "Fault occurred while processing.";

impl SoapFault {
    pub fn client(m: impl Into<String>) -> SoapFault {
        SoapFault::Client(m.into())
    }

    pub fn server(m: impl Into<String>) -> SoapFault {
        SoapFault::Server {
            message: m.into(),
            exception: None,
        }
    }

    /// A declared checked exception (`NotAuthorisedException`, `Exception`).
    pub fn declared(exception: &str, m: impl Into<String>) -> SoapFault {
        SoapFault::Server {
            message: m.into(),
            exception: Some(exception.to_owned()),
        }
    }

    /// The fault envelope and response for a variant.
    pub fn render(&self, dialect: SecurityDialect, tns: &str) -> Response {
        let (code, message, detail) = match self {
            SoapFault::Client(m) => ("soap:Client".to_owned(), m.clone(), None),
            SoapFault::Server { message, exception } => {
                let message = if message.is_empty() {
                    NO_MESSAGE.to_owned()
                } else {
                    message.clone()
                };
                let detail = exception.as_ref().map(|e| {
                    format!(
                        "<ns1:{e} xmlns:ns1=\"{}\"><message>{}</message></ns1:{e}>",
                        xml_escape(tns),
                        xml_escape(&message)
                    )
                });
                ("soap:Server".to_owned(), message, detail)
            }
            SoapFault::MustUnderstand(m) => ("soap:MustUnderstand".to_owned(), m.clone(), None),
            SoapFault::VersionMismatch(m) => ("soap:VersionMismatch".to_owned(), m.clone(), None),
            SoapFault::Security(s) => match dialect {
                SecurityDialect::Wss4j16 => {
                    let (local, m) = s.wss4j16();
                    (
                        format!("<faultcode xmlns:wsse=\"{WSSE}\">wsse:{local}"),
                        m.to_owned(),
                        None,
                    )
                }
                SecurityDialect::Wss4j2 => (
                    format!("<faultcode xmlns:wss4j=\"{WSS4J}\">wss4j:SecurityError"),
                    GENERIC_SECURITY_ERROR.to_owned(),
                    None,
                ),
            },
        };
        let code = if code.starts_with('<') {
            format!("{code}</faultcode>")
        } else {
            format!("<faultcode>{code}</faultcode>")
        };
        let detail = detail
            .map(|d| format!("<detail>{d}</detail>"))
            .unwrap_or_default();
        let body = format!(
            "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\
             <soap:Fault>{code}<faultstring>{}</faultstring>{detail}</soap:Fault>\
             </soap:Body></soap:Envelope>",
            xml_escape(&message)
        );
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/xml;charset=UTF-8")],
            body,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn text(r: Response) -> (u16, String) {
        let status = r.status().as_u16();
        let b = r.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(b.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn security_faults_differ_by_wss4j_generation() {
        let f = SoapFault::Security(SecurityFault::FailedAuthentication);
        let (status, old) = text(f.render(SecurityDialect::Wss4j16, "urn:t")).await;
        assert_eq!(status, 500);
        assert!(
            old.contains(&format!(
                "<faultcode xmlns:wsse=\"{WSSE}\">wsse:FailedAuthentication</faultcode>"
            )),
            "{old}"
        );
        assert!(old.contains("<faultstring>The security token could not be authenticated or authorized</faultstring>"));
        let (_, new) = text(f.render(SecurityDialect::Wss4j2, "urn:t")).await;
        assert!(new.contains("wss4j:SecurityError</faultcode>"), "{new}");
        assert!(new.contains(GENERIC_SECURITY_ERROR));
        let (_, missing) = text(
            SoapFault::Security(SecurityFault::InvalidSecurity)
                .render(SecurityDialect::Wss4j16, "urn:t"),
        )
        .await;
        assert!(
            missing
                .contains("An error was discovered processing the &lt;wsse:Security&gt; header."),
            "{missing}"
        );
    }

    #[tokio::test]
    async fn declared_exceptions_carry_their_fault_bean() {
        let f = SoapFault::declared("NotAuthorisedException", "Invalid Username/Password");
        let (_, body) = text(f.render(SecurityDialect::Wss4j2, "http://ws.oscarehr.org/")).await;
        assert!(body.contains("<faultcode>soap:Server</faultcode><faultstring>Invalid Username/Password</faultstring>"), "{body}");
        assert!(body.contains("<detail><ns1:NotAuthorisedException xmlns:ns1=\"http://ws.oscarehr.org/\"><message>Invalid Username/Password</message></ns1:NotAuthorisedException></detail>"), "{body}");
        let (_, body) = text(SoapFault::server("").render(SecurityDialect::Wss4j2, "t")).await;
        assert!(body.contains(NO_MESSAGE));
    }
}
