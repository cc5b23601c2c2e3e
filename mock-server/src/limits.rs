//! What keeps a hostile client from costing the mock unbounded time or
//! memory, answered as the real system's container answers it:
//!
//! - headers larger than the container accepts: Tomcat's 400 page
//!   ("Request header is too large", `maxHttpHeaderSize` 8 KiB) for the
//!   OSCAR profiles, Apache's 400 page (`LimitRequestFieldSize` 8190,
//!   `LimitRequestFields` 100) for the OpenEMR family;
//! - a deadline on reading a request body (a client that trickles its
//!   body gets the dialect's 408 or SOAP fault, not a thread held);
//! - at most `max_concurrent_requests` requests handled at once (Tomcat's
//!   `maxThreads`); the others wait their turn, so buffered bodies cost at
//!   most that many times `max_body_bytes`.
//!
//! Header read timeouts and the connection cap live in [`crate::server`],
//! where connections are accepted.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use emr_catalog::Family;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::Semaphore;
use tokio::time::Sleep;

use crate::error::tomcat_error_page;
use crate::state::AppState;

/// Apache's limit on one header field, and on their number.
const APACHE_FIELD_BYTES: usize = 8190;
const APACHE_FIELDS: usize = 100;

/// The shared counters of the limits.
#[derive(Debug)]
pub struct Limits {
    requests: Arc<Semaphore>,
}

impl Limits {
    pub fn new(config: &crate::state::MockConfig) -> Limits {
        Limits {
            requests: Arc::new(Semaphore::new(config.max_concurrent_requests.max(1))),
        }
    }
}

/// The middleware: header limits, then a turn among the requests handled
/// at once, then the request with a deadline on its body.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(refusal) = oversized_headers(&state, &req) {
        return refusal;
    }
    // The semaphore is never closed, so a permit always comes.
    let permit = state.limits.requests.clone().acquire_owned().await.ok();
    // A request whose body is complete already (no body at all, as for
    // most reads) has nothing to wait for, and no deadline to keep.
    if req.body().is_end_stream() {
        let response = next.run(req).await;
        drop(permit);
        return response;
    }
    let deadline = Deadline::new(state.config.body_read_timeout);
    let fired = deadline.fired.clone();
    let req = req.map(|b| Body::new(deadline.wrap(b)));
    let response = next.run(req).await;
    drop(permit);
    // Apache's mod_reqtimeout answers a trickled body itself, before PHP
    // sees the request; Tomcat hands the read error to the application
    // (CXF's fault, the servlet's error), which has answered already.
    if fired.load(Ordering::Relaxed) && state.profile.family == Family::OpenEmr {
        return apache_request_timeout();
    }
    response
}

fn oversized_headers(state: &AppState, req: &Request) -> Option<Response> {
    let fields = req
        .headers()
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len());
    match state.profile.family {
        Family::Oscar => {
            // Tomcat counts the request line and every header line.
            let line = req.method().as_str().len() + target_len(req.uri()) + 11;
            let total: usize = line + fields.map(|f| f + 4).sum::<usize>();
            (total > state.config.max_header_bytes).then(|| {
                (
                    StatusCode::BAD_REQUEST,
                    [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
                    tomcat_error_page(StatusCode::BAD_REQUEST, "Request header is too large"),
                )
                    .into_response()
            })
        }
        Family::OpenEmr => {
            let count = req.headers().len();
            let longest = fields.max().unwrap_or(0);
            let why = if count > APACHE_FIELDS {
                Some("The number of request header fields exceeds this server's limit.")
            } else if longest + 2 > APACHE_FIELD_BYTES {
                Some("Size of a request header field exceeds server limit.")
            } else {
                None
            };
            why.map(apache_bad_request)
        }
    }
}

/// The length of the request target as written (`Uri`'s text, without
/// building it).
fn target_len(uri: &axum::http::Uri) -> usize {
    uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path().len()
        + uri.query().map_or(0, |q| q.len() + 1)
}

/// Apache httpd's 400 page.
fn apache_bad_request(why: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/html; charset=iso-8859-1")],
        format!(
            "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>400 Bad Request</title>\n\
             </head><body>\n<h1>Bad Request</h1>\n<p>Your browser sent a request that this server could not understand.<br />\n\
             {why}<br />\n</p>\n</body></html>\n"
        ),
    )
        .into_response()
}

/// Apache httpd's 408 page.
fn apache_request_timeout() -> Response {
    (
        StatusCode::REQUEST_TIMEOUT,
        [
            (header::CONTENT_TYPE, "text/html; charset=iso-8859-1"),
            (header::CONNECTION, "close"),
        ],
        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>408 Request Timeout</title>\n\
         </head><body>\n<h1>Request Timeout</h1>\n<p>Server timeout waiting for the HTTP request from the client.</p>\n\
         </body></html>\n",
    )
        .into_response()
}

/// The body did not arrive before its deadline.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(pub Duration);

/// When a request's body must have arrived, and whether it missed it.
pub struct Deadline {
    timeout: Duration,
    /// Set when the body failed for being late.
    pub fired: Arc<AtomicBool>,
}

impl Deadline {
    pub fn new(timeout: Duration) -> Deadline {
        Deadline {
            timeout,
            fired: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A body that fails once `timeout` has passed from now, however
    /// slowly it trickles.
    pub fn wrap(self, inner: Body) -> DeadlineBody {
        DeadlineBody {
            inner,
            sleep: Box::pin(tokio::time::sleep(self.timeout)),
            timeout: self.timeout,
            fired: self.fired,
        }
    }
}

/// A request body with a deadline ([`Deadline::wrap`]).
pub struct DeadlineBody {
    inner: Body,
    sleep: Pin<Box<Sleep>>,
    timeout: Duration,
    fired: Arc<AtomicBool>,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.fired.store(true, Ordering::Relaxed);
            let timeout = self.timeout;
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut(timeout)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether an error (or one of its sources) is a body deadline.
pub fn timed_out(e: &(dyn std::error::Error + 'static)) -> Option<Duration> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<BodyTimedOut>() {
            return Some(t.0);
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_length_is_that_of_the_target_as_written() {
        for target in [
            "/",
            "/oscar/ws/rs/demographics/1",
            "/a?b=c&d",
            "/a?",
            "http://example.com:8080/x?y=1",
            "*",
        ] {
            let uri: axum::http::Uri = target.parse().expect("a valid target");
            assert_eq!(target_len(&uri), uri.to_string().len(), "{target}");
        }
    }
}
