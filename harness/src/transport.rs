//! Sending HTTP requests and keeping what came back.
//!
//! One client per scenario: its cookie jar is the scenario's session, and
//! redirects are not followed, so OAuth redirects can be inspected.

use std::time::{Duration, Instant};

use bytes::Bytes;

/// A request ready to send, after templates and auth.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Bytes>,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub elapsed: Duration,
}

impl HttpResponse {
    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn media_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }
}

/// A request that got no response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("no response within {0:?}")]
    Timeout(Duration),
    #[error("could not connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("request failed: {0}")]
    Other(String),
}

/// The HTTP client of one scenario.
#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
    timeout: Duration,
    insecure: bool,
}

impl Transport {
    pub fn new(timeout: Duration, insecure: bool) -> Result<Transport, TransportError> {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(insecure)
            .timeout(timeout)
            .build()
            .map_err(|e| TransportError::Other(e.to_string()))?;
        Ok(Transport {
            client,
            timeout,
            insecure,
        })
    }

    /// Another client with the same settings and an empty cookie jar: a
    /// separate user agent, such as the browser in which a user approves
    /// an OAuth application.
    pub fn fresh(&self) -> Result<Transport, TransportError> {
        Transport::new(self.timeout, self.insecure)
    }

    pub async fn send(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|e| TransportError::Invalid(format!("method `{}`: {e}", req.method)))?;
        let mut builder = self.client.request(method, &req.url);
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let started = Instant::now();
        let response = builder
            .send()
            .await
            .map_err(|e| self.classify(&req.url, e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.classify(&req.url, e))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
            elapsed: started.elapsed(),
        })
    }

    fn classify(&self, url: &str, e: reqwest::Error) -> TransportError {
        if e.is_timeout() {
            TransportError::Timeout(self.timeout)
        } else if e.is_connect() {
            TransportError::Connect {
                url: url.to_owned(),
                reason: std::error::Error::source(&e)
                    .map(ToString::to_string)
                    .unwrap_or_else(|| e.to_string()),
            }
        } else if e.is_builder() {
            TransportError::Invalid(e.to_string())
        } else {
            TransportError::Other(e.to_string())
        }
    }
}
