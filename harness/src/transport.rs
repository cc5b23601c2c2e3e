//! Sending HTTP requests and keeping what came back.
//!
//! One client per scenario: its cookie jar is the scenario's session, and
//! redirects are not followed, so OAuth redirects can be inspected.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

use crate::headers::Headers;
use crate::json::{self, Singular};
use crate::live::net::{NetSettings, RetryPolicy};
use crate::redact::Redactor;

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
    pub headers: Headers,
    pub body: Bytes,
    pub elapsed: Duration,
    /// The body parsed as JSON on first use: a step's checks, captures
    /// and schema check all read it.
    pub parsed: ParsedJson,
}

/// A body parsed as JSON once, with the body it was parsed from (a
/// response whose `body` is replaced is parsed again). Cloning a response
/// does not copy it.
#[derive(Default)]
pub struct ParsedJson {
    tree: OnceLock<(Bytes, Result<Value, String>)>,
    /// The nodes of a step's singular paths, when they were picked out of
    /// the text instead (see [`json`]): most steps read a few
    /// fields, and building the whole tree cost several times the parse.
    picked: OnceLock<(Bytes, Vec<Picked>)>,
}

/// A singular path and the node it names, if any.
type Picked = (Arc<Singular>, Option<Value>);

impl Clone for ParsedJson {
    fn clone(&self) -> Self {
        ParsedJson::default()
    }
}

impl fmt::Debug for ParsedJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ParsedJson")
    }
}

/// A reqwest client: a cookie jar, no redirects followed (OAuth redirects
/// are inspected, not followed), the target's timeouts and TLS trust.
fn build_client(timeout: Duration, net: &NetSettings) -> Result<reqwest::Client, TransportError> {
    let mut builder = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(net.insecure)
        .timeout(timeout)
        .connect_timeout(net.connect_timeout);
    if let Some(pem) = &net.ca_pem {
        for cert in reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| TransportError::Invalid(format!("CA certificates: {e}")))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| TransportError::Other(e.to_string()))
}

/// `bytes` as text, invalid sequences replaced: what
/// `String::from_utf8_lossy` gives, through the standard library's fast
/// UTF-8 check first (the lossy reader walks valid text slowly).
pub fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

impl HttpResponse {
    /// The body as JSON, or why it is not (serde_json's message).
    pub fn json(&self) -> Result<Cow<'_, Value>, String> {
        let parse = || json::parse(&self.body).map_err(|e| e.to_string());
        let (b, parsed) = self
            .parsed
            .tree
            .get_or_init(|| (self.body.clone(), parse()));
        if self.is_body(b) {
            return parsed.as_ref().map(Cow::Borrowed).map_err(Clone::clone);
        }
        parse().map(Cow::Owned)
    }

    /// Whether `b` is this response's body (the same bytes, not a copy):
    /// what was read of a body is kept with it, and a response whose
    /// `body` is replaced is read again.
    fn is_body(&self, b: &Bytes) -> bool {
        b.as_ptr() == self.body.as_ptr() && b.len() == self.body.len()
    }

    /// Whether the body was parsed whole.
    pub fn has_tree(&self) -> bool {
        self.parsed.tree.get().is_some_and(|(b, _)| self.is_body(b))
    }

    /// Picks the nodes `paths` name out of the body in one pass, for
    /// [`HttpResponse::picked`] to answer, unless the body is already
    /// parsed whole. A body that is not JSON is left to the whole parse,
    /// which says why.
    pub fn pick(&self, paths: &[&Arc<Singular>]) {
        if paths.is_empty() || self.has_tree() {
            return;
        }
        let singular: Vec<&Singular> = paths.iter().map(|p| &***p).collect();
        if let Some(found) = json::pick(&self.body, &singular) {
            let found = paths.iter().map(|&p| Arc::clone(p)).zip(found).collect();
            let _ = self.parsed.picked.set((self.body.clone(), found));
        }
    }

    /// The node `path` names, if [`HttpResponse::pick`] picked it out of
    /// this body: `Some(None)` when the body has no such node, `None`
    /// when it was not picked (the whole tree answers then).
    pub fn picked(&self, path: &Singular) -> Option<Option<&Value>> {
        let (_, found) = self.parsed.picked.get().filter(|(b, _)| self.is_body(b))?;
        let (_, node) = found.iter().find(|(p, _)| **p == *path)?;
        Some(node.as_ref())
    }

    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// Every value of a header.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers.get_all(name).collect()
    }

    /// This response with `doc`, written as JSON, for its body, kept
    /// parsed: what is read of it later reads the tree it was written
    /// from instead of parsing the text again.
    pub fn with_json(&self, doc: Value) -> HttpResponse {
        let body = Bytes::from(serde_json::to_vec(&doc).unwrap_or_default());
        HttpResponse {
            parsed: ParsedJson {
                tree: OnceLock::from((body.clone(), Ok(doc))),
                picked: OnceLock::new(),
            },
            body,
            ..self.clone()
        }
    }

    /// The body as text, borrowed when it is UTF-8 (as it almost always
    /// is): a report reads most bodies at least once.
    pub fn text(&self) -> Cow<'_, str> {
        lossy(&self.body)
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
    /// How `client` was built: pacing, retries, TLS. `fresh` builds
    /// another client like it.
    net: NetSettings,
    /// Every credential that crosses the transport is registered here.
    redactor: Option<Arc<Redactor>>,
    /// Time spent waiting on the target (responses, pacing, back-off),
    /// in nanoseconds; shared by clones and `fresh` clients, so requests
    /// an auth driver sends count as well as the step's own.
    waited: Arc<AtomicU64>,
    /// The target's root and its parse, when the root has no path: a
    /// request URL under it is the root's with the rest resolved.
    base: Option<Arc<Base>>,
    /// Time spent on the client protocol's own cryptography (RSA key
    /// generation and signatures), in nanoseconds; shared like `waited`.
    /// Kept apart so a report of the engine's cost can say how much of
    /// it is work any client of the protocol must do.
    crypto: Arc<AtomicU64>,
}

impl Transport {
    /// A client with default network settings (the embedded mock's).
    pub fn new(timeout: Duration, insecure: bool) -> Result<Transport, TransportError> {
        let net = NetSettings {
            insecure,
            ..NetSettings::default()
        };
        Ok(Transport {
            client: build_client(timeout, &net)?,
            timeout,
            net,
            redactor: None,
            base: None,
            waited: Arc::default(),
            crypto: Arc::default(),
        })
    }

    /// The client of one scenario against `target`: its timeouts, rate
    /// limit, retries and TLS settings; tokens and cookies that cross it
    /// are registered with `redactor`.
    pub fn for_target(
        target: &crate::target::Target,
        insecure: bool,
        redactor: Arc<Redactor>,
    ) -> Result<Transport, TransportError> {
        let mut net = target.net.clone();
        net.insecure |= insecure;
        Ok(Transport {
            client: build_client(target.timeout, &net)?,
            timeout: target.timeout,
            net,
            redactor: Some(redactor),
            base: Base::of(&target.root),
            waited: Arc::default(),
            crypto: Arc::default(),
        })
    }

    /// Another client with the same settings and an empty cookie jar: a
    /// separate user agent, such as the browser in which a user approves
    /// an OAuth application.
    pub fn fresh(&self) -> Result<Transport, TransportError> {
        Ok(Transport {
            client: build_client(self.timeout, &self.net)?,
            ..self.clone()
        })
    }

    /// Time this client (and its clones) spent waiting on the target:
    /// responses, rate-limit pacing and retry back-off.
    pub fn waited(&self) -> Duration {
        Duration::from_nanos(self.waited.load(Ordering::Relaxed))
    }

    /// Time this client's scenario spent in [`Transport::crypto`].
    pub fn client_crypto(&self) -> Duration {
        Duration::from_nanos(self.crypto.load(Ordering::Relaxed))
    }

    /// Runs `f`, the client protocol's own cryptography (generating or
    /// using an RSA key), and counts its time as such.
    pub fn crypto<T>(&self, f: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let out = f();
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.crypto.fetch_add(nanos, Ordering::Relaxed);
        out
    }

    fn add_waited(&self, since: Instant) {
        let nanos = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.waited.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Sends a request, paced by the target's rate limit; a GET or HEAD
    /// that gets no answer, or a 429/502/503/504, is retried with backoff
    /// as the target allows. Other methods are sent exactly once.
    pub async fn send(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        if let Some(r) = &self.redactor {
            r.register_request_headers(&req.headers);
        }
        let retries = if RetryPolicy::applies_to(&req.method) {
            self.net.retries.max_retries
        } else {
            0
        };
        let mut attempt = 0;
        loop {
            if let Some(l) = &self.net.rate_limit {
                let pacing = Instant::now();
                l.acquire().await;
                self.add_waited(pacing);
            }
            let result = self.send_once(req).await;
            let retry_after = match &result {
                Ok(resp) if RetryPolicy::retry_status(resp.status) => {
                    Some(resp.header("retry-after").map(str::to_owned))
                }
                Err(TransportError::Timeout(_) | TransportError::Connect { .. }) => Some(None),
                _ => None,
            };
            match retry_after {
                Some(after) if attempt < retries => {
                    attempt += 1;
                    let waiting = Instant::now();
                    tokio::time::sleep(self.net.retries.delay(attempt, after.as_deref())).await;
                    self.add_waited(waiting);
                }
                _ => {
                    if let (Ok(resp), Some(r)) = (&result, &self.redactor) {
                        r.register_response(resp);
                    }
                    return result;
                }
            }
        }
    }

    async fn send_once(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|e| TransportError::Invalid(format!("method `{}`: {e}", req.method)))?;
        let mut builder = match self.base.as_deref().and_then(|b| b.resolve(&req.url)) {
            Some(url) => self.client.request(method, url),
            None => self.client.request(method, &req.url),
        };
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let started = Instant::now();
        let received = async {
            let response = builder.send().await?;
            let status = response.status().as_u16();
            let received = response.headers();
            let size = received.iter().map(|(n, v)| n.as_str().len() + v.len());
            let mut headers = Headers::with_capacity(received.len(), size.sum());
            for (n, v) in received {
                headers.push(n.as_str(), &lossy(v.as_bytes()));
            }
            Ok::<_, reqwest::Error>((status, headers, response.bytes().await?))
        }
        .await;
        let elapsed = started.elapsed();
        self.add_waited(started);
        let (status, headers, body) = received.map_err(|e| self.classify(&req.url, e))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
            elapsed,
            parsed: ParsedJson::default(),
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

/// A target's root, parsed once.
#[derive(Debug)]
struct Base {
    root: String,
    url: reqwest::Url,
}

impl Base {
    /// `None` for a root with a path (which a path-absolute reference
    /// would replace), a query or a fragment.
    fn of(root: &str) -> Option<Arc<Base>> {
        let url = reqwest::Url::parse(root).ok()?;
        let bare = url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
            && !root.ends_with('/')
            && url.has_host();
        bare.then(|| {
            Arc::new(Base {
                root: root.to_owned(),
                url,
            })
        })
    }

    /// `url` parsed, when it is the root and a path (`/…` but not `//…`,
    /// which would name another host): the reference is resolved against
    /// the parsed root, the same URL a whole parse gives without reading
    /// the host again (IDNA processing included) on every request.
    fn resolve(&self, url: &str) -> Option<reqwest::Url> {
        let rest = url.strip_prefix(self.root.as_str())?;
        let b = rest.as_bytes();
        // The URL parser drops tabs and newlines wherever they are: `/\t/`
        // is read as `//` (another host), so such a URL is parsed whole.
        if b.first() != Some(&b'/')
            || matches!(b.get(1), Some(b'/' | b'\\'))
            || memchr::memchr3(b'\t', b'\n', b'\r', b).is_some()
        {
            return None;
        }
        self.url.join(rest).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::net::RetryPolicy;
    use crate::target::{Target, TargetKind};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    proptest::proptest! {
        /// A URL resolved against its parsed root is the URL parsed whole,
        /// whatever the path, query, dot segments, escapes or slashes.
        #[test]
        fn resolving_against_the_root_is_parsing_whole(
            root in proptest::sample::select(vec![
                "http://127.0.0.1:8080", "https://EMR.example:443", "http://u:p@host",
                "http://h\u{e9}te.example", "http://[::1]:9", "http://h/", "http://h/oscar",
                "http://h?q", "http://h#f",
            ]),
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "/", "//", "\\", "a", "..", ".", "%2e", "?", "#", "&", "=", " ", "%",
                    "\u{e9}", "\t", "|", "@", ":", "[", "x.y",
                ]),
                0..10,
            ),
        ) {
            let url = format!("{root}{}", pieces.concat());
            if let Some(resolved) = Base::of(root).and_then(|b| b.resolve(&url)) {
                proptest::prop_assert_eq!(Some(resolved), reqwest::Url::parse(&url).ok());
            }
        }
    }

    #[test]
    fn only_a_root_without_a_path_resolves() {
        assert!(Base::of("http://h:1").is_some());
        for root in [
            "http://h/",
            "http://h/oscar",
            "http://h?q",
            "mailto:x",
            "nonsense",
        ] {
            assert!(Base::of(root).is_none(), "{root}");
        }
        let base = Base::of("http://h:1").expect("a bare root");
        assert_eq!(
            base.resolve("http://h:1/a/../b?x=1 2").map(String::from),
            Some("http://h:1/b?x=1%202".to_owned())
        );
        // Both would name a host `other` if resolved.
        assert!(base.resolve("http://h:1//other/x").is_none());
        assert!(base.resolve("http://h:1/\\other/x").is_none());
        assert!(base.resolve("http://other/x").is_none());
    }

    /// A server that answers 503 to the first `failures` requests, then
    /// 200; counts what it received.
    async fn flaky(failures: usize) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let mut buf = vec![0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let (status, body) = if n < failures {
                    ("503 Service Unavailable", "busy")
                } else {
                    ("200 OK", "{\"access_token\":\"tok-from-server-123\"}")
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            }
        });
        (format!("http://{addr}"), hits)
    }

    fn transport(root: &str, redactor: Arc<Redactor>) -> Transport {
        let mut t = Target::new(
            TargetKind::Live,
            emr_catalog::ProfileId::Oscar,
            root,
            serde_json::Value::Null,
        );
        t.net.retries = RetryPolicy {
            max_retries: 2,
            backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
        };
        Transport::for_target(&t, false, redactor).unwrap()
    }

    fn req(method: &str, url: &str) -> HttpRequest {
        HttpRequest {
            method: method.into(),
            url: url.into(),
            headers: vec![("Authorization".into(), "Bearer sent-token-456".into())],
            body: None,
        }
    }

    #[tokio::test]
    async fn reads_are_retried_and_writes_never() {
        let redactor = Arc::new(Redactor::new(false));
        let (url, hits) = flaky(2).await;
        let r = transport(&url, redactor.clone())
            .send(&req("GET", &url))
            .await
            .unwrap();
        assert_eq!((r.status, hits.load(Ordering::SeqCst)), (200, 3));
        // Tokens that crossed the transport are secrets from now on.
        assert_eq!(
            redactor.scrub("tok-from-server-123 sent-token-456"),
            "[secret] [secret]"
        );

        let (url, hits) = flaky(2).await;
        let r = transport(&url, redactor.clone())
            .send(&req("POST", &url))
            .await
            .unwrap();
        assert_eq!(
            (r.status, hits.load(Ordering::SeqCst)),
            (503, 1),
            "a write is sent once"
        );

        let (url, hits) = flaky(5).await;
        let r = transport(&url, redactor)
            .send(&req("HEAD", &url))
            .await
            .unwrap();
        assert_eq!(
            (r.status, hits.load(Ordering::SeqCst)),
            (503, 3),
            "bounded retries"
        );
    }

    #[tokio::test]
    async fn waiting_is_counted_across_clones_and_fresh_clients() {
        let (url, _) = flaky(1).await;
        let t = transport(&url, Arc::new(Redactor::new(false)));
        assert_eq!(t.waited(), Duration::ZERO);
        // Two responses (a 503, then the retry's 200) and the back-off.
        let r = t.clone().send(&req("GET", &url)).await.unwrap();
        assert_eq!(r.status, 200);
        let after_retry = t.waited();
        assert!(after_retry >= r.elapsed && after_retry > r.elapsed);
        // A separate user agent (an auth driver's browser) counts too.
        let r = t.fresh().unwrap().send(&req("GET", &url)).await.unwrap();
        assert!(t.waited() >= after_retry + r.elapsed);
    }
}
