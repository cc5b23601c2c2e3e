//! A closed-loop HTTP/1.1 load generator, in the manner of `wrk`: N
//! keep-alive connections, each sending its next request as soon as the
//! previous response has been read in full, for a fixed time.
//!
//! It is deliberately lean so that the client takes as little of the
//! machine's CPU as possible: requests are written from a reused buffer,
//! responses are parsed with `httparse` and their bodies skipped, and
//! every latency is kept (a few MB per run) so percentiles are exact.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Produces the bytes of each request: `conn` is the connection number,
/// `seq` the request number on that connection. Called once per request,
/// so a source can sign each request afresh (a new nonce every time).
pub trait RequestSource: Send + Sync {
    fn write(&self, conn: usize, seq: u64, out: &mut Vec<u8>);
}

/// The same bytes every time.
impl RequestSource for Vec<u8> {
    fn write(&self, _conn: usize, _seq: u64, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

/// How to load a server.
#[derive(Debug, Clone)]
pub struct Load {
    pub addr: SocketAddr,
    pub connections: usize,
    /// Measured time, after the warm-up.
    pub duration: Duration,
    /// Requests sent before measuring starts (connections, caches, the
    /// allocator's pools all settle).
    pub warmup: Duration,
    /// The status every response should have; others count as errors.
    pub expect_status: u16,
}

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Responses with the expected status, in the measured window.
    pub ok: u64,
    /// Responses with another status.
    pub wrong_status: u64,
    /// Connection failures and unreadable responses.
    pub io_errors: u64,
    /// The first few unexpected things seen, for the report.
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Latency of every measured response, in nanoseconds, sorted.
    pub latencies: Vec<u64>,
    pub response_bytes: u64,
}

impl Outcome {
    pub fn requests_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs == 0.0 {
            0.0
        } else {
            self.latencies.len() as f64 / secs
        }
    }

    /// The `q` quantile (0..=1) of the latencies, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies[i.min(self.latencies.len() - 1)] as f64 / 1e6
    }
}

/// Per-connection tally, merged at the end.
#[derive(Default)]
struct Tally {
    ok: u64,
    wrong_status: u64,
    io_errors: u64,
    first_error: Option<String>,
    latencies: Vec<u64>,
    bytes: u64,
}

/// Runs the load and returns what it measured. Every connection stops by
/// itself at the deadline, so the run is bounded in time.
pub async fn run(load: &Load, source: Arc<dyn RequestSource>) -> Outcome {
    let start = Instant::now();
    let measure_from = start + load.warmup;
    let deadline = measure_from + load.duration;
    let mut tasks = Vec::with_capacity(load.connections);
    for conn in 0..load.connections {
        let source = source.clone();
        let load = load.clone();
        tasks.push(tokio::spawn(async move {
            connection(&load, conn, source, measure_from, deadline).await
        }));
    }
    let mut out = Outcome::default();
    for t in tasks {
        let tally = match t.await {
            Ok(t) => t,
            Err(e) => Tally {
                io_errors: 1,
                first_error: Some(format!("load task failed: {e}")),
                ..Tally::default()
            },
        };
        out.ok += tally.ok;
        out.wrong_status += tally.wrong_status;
        out.io_errors += tally.io_errors;
        out.response_bytes += tally.bytes;
        if out.first_error.is_none() {
            out.first_error = tally.first_error;
        }
        out.latencies.extend(tally.latencies);
    }
    out.elapsed = deadline.saturating_duration_since(measure_from);
    out.latencies.sort_unstable();
    out
}

async fn connection(
    load: &Load,
    conn: usize,
    source: Arc<dyn RequestSource>,
    measure_from: Instant,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut request = Vec::with_capacity(4096);
    let mut reader = ResponseReader::default();
    let mut stream: Option<TcpStream> = None;
    let mut seq = 0u64;
    while Instant::now() < deadline {
        let s = match stream.as_mut() {
            Some(s) => s,
            None => match connect(load.addr).await {
                Ok(s) => {
                    reader.clear();
                    stream.insert(s)
                }
                Err(e) => {
                    tally.io_errors += 1;
                    tally
                        .first_error
                        .get_or_insert_with(|| format!("connect: {e}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        request.clear();
        source.write(conn, seq, &mut request);
        seq += 1;
        let sent = Instant::now();
        let result = match s.write_all(&request).await {
            Ok(()) => reader.read(s).await,
            Err(e) => Err(e),
        };
        let done = Instant::now();
        match result {
            Ok(resp) => {
                if sent >= measure_from && done <= deadline {
                    tally.latencies.push((done - sent).as_nanos() as u64);
                    tally.bytes += resp.body_len as u64;
                    if resp.status == load.expect_status {
                        tally.ok += 1;
                    } else {
                        tally.wrong_status += 1;
                        tally.first_error.get_or_insert_with(|| {
                            format!("status {} (expected {})", resp.status, load.expect_status)
                        });
                    }
                }
                if resp.close {
                    stream = None;
                }
            }
            Err(e) => {
                tally.io_errors += 1;
                tally.first_error.get_or_insert_with(|| e.to_string());
                stream = None;
            }
        }
    }
    tally
}

async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// One response's head, as far as the load generator cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub body_len: usize,
    /// The server will close the connection after this response.
    pub close: bool,
}

/// Reads whole responses off a keep-alive connection, reusing its buffer.
#[derive(Default)]
pub struct ResponseReader {
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    used: usize,
    /// The last body, when asked to keep it.
    pub keep_body: bool,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl ResponseReader {
    fn clear(&mut self) {
        self.buf.clear();
        self.used = 0;
    }

    /// Reads one response. Bodies are delimited by `Content-Length` or
    /// chunked encoding, as hyper sends them.
    pub async fn read(&mut self, s: &mut TcpStream) -> io::Result<Head> {
        self.buf.drain(..self.used);
        self.used = 0;
        let (status, head_len, framing, close) = loop {
            if let Some(h) = self.parse_head()? {
                break h;
            }
            self.fill(s).await?;
        };
        self.used = head_len;
        self.body.clear();
        let body_len = match framing {
            Framing::Length(n) => {
                while self.buf.len() < self.used + n {
                    self.fill(s).await?;
                }
                if self.keep_body {
                    self.body
                        .extend_from_slice(&self.buf[self.used..self.used + n]);
                }
                self.used += n;
                n
            }
            Framing::Chunked => self.read_chunked(s).await?,
        };
        Ok(Head {
            status,
            body_len,
            close,
        })
    }

    async fn fill(&mut self, s: &mut TcpStream) -> io::Result<()> {
        let len = self.buf.len();
        self.buf.resize(len + 16 * 1024, 0);
        let n = s.read(&mut self.buf[len..]).await?;
        self.buf.truncate(len + n);
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        Ok(())
    }

    fn parse_head(&mut self) -> io::Result<Option<(u16, usize, Framing, bool)>> {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        let n = match resp.parse(&self.buf[self.used..]) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        };
        let status = resp.code.unwrap_or(0);
        let mut framing = Framing::Length(0);
        let mut close = false;
        if self.keep_body {
            self.headers.clear();
        }
        for h in resp.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                let n = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or_else(|| {
                        io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length")
                    })?;
                framing = Framing::Length(n);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding")
                && h.value.eq_ignore_ascii_case(b"chunked")
            {
                framing = Framing::Chunked;
            } else if h.name.eq_ignore_ascii_case("connection")
                && h.value.eq_ignore_ascii_case(b"close")
            {
                close = true;
            }
            if self.keep_body {
                self.headers.push((
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                ));
            }
        }
        Ok(Some((status, self.used + n, framing, close)))
    }

    async fn read_chunked(&mut self, s: &mut TcpStream) -> io::Result<usize> {
        let mut total = 0;
        loop {
            let line_end = loop {
                if let Some(i) = find_crlf(&self.buf[self.used..]) {
                    break self.used + i;
                }
                self.fill(s).await?;
            };
            let size_text = std::str::from_utf8(&self.buf[self.used..line_end])
                .ok()
                .map(|l| l.split(';').next().unwrap_or("").trim().to_owned())
                .unwrap_or_default();
            let size = usize::from_str_radix(&size_text, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            self.used = line_end + 2;
            // The chunk and its CRLF (or, for the last, the final CRLF;
            // trailers are not used by the servers measured here).
            while self.buf.len() < self.used + size + 2 {
                self.fill(s).await?;
            }
            if self.keep_body {
                self.body
                    .extend_from_slice(&self.buf[self.used..self.used + size]);
            }
            self.used += size + 2;
            total += size;
            if size == 0 {
                return Ok(total);
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Framing {
    Length(usize),
    Chunked,
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

/// A response read in full, for setting up a benchmark (logins, tokens)
/// and capturing the bytes the bare handler serves.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Exchange {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request on a fresh connection and reads the whole response.
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> io::Result<Exchange> {
    let mut s = connect(addr).await?;
    s.write_all(request).await?;
    let mut reader = ResponseReader {
        keep_body: true,
        ..ResponseReader::default()
    };
    let head = tokio::time::timeout(Duration::from_secs(30), reader.read(&mut s))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no response in 30 s"))??;
    Ok(Exchange {
        status: head.status,
        headers: reader.headers,
        body: reader.body,
    })
}

/// An HTTP/1.1 request's bytes.
pub fn request(
    method: &str,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + body.len());
    write_request(&mut out, method, addr, path, headers, body);
    out
}

/// Appends an HTTP/1.1 request to `out`.
pub fn write_request(
    out: &mut Vec<u8>,
    method: &str,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) {
    use std::io::Write;
    let _ = write!(out, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        let _ = write!(out, "Content-Length: {}\r\n", body.len());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;

    async fn serve(app: Router) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    #[tokio::test]
    async fn reads_length_and_chunked_bodies_and_counts_statuses() {
        let app = Router::new()
            .route("/fixed", get(|| async { "hello" }))
            .route(
                "/chunked",
                get(|| async {
                    let chunks = futures_chunks();
                    axum::body::Body::from_stream(chunks)
                }),
            )
            .route(
                "/teapot",
                get(|| async { (axum::http::StatusCode::IM_A_TEAPOT, "no") }),
            );
        let addr = serve(app).await;
        let fixed = exchange(addr, &request("GET", addr, "/fixed", &[], b""))
            .await
            .unwrap();
        assert_eq!((fixed.status, fixed.body.as_slice()), (200, &b"hello"[..]));
        let chunked = exchange(addr, &request("GET", addr, "/chunked", &[], b""))
            .await
            .unwrap();
        assert_eq!(chunked.body, b"abcdef");

        let load = Load {
            addr,
            connections: 2,
            duration: Duration::from_millis(200),
            warmup: Duration::from_millis(20),
            expect_status: 200,
        };
        let ok = run(&load, Arc::new(request("GET", addr, "/chunked", &[], b""))).await;
        assert!(ok.ok > 0, "{ok:?}");
        assert_eq!((ok.wrong_status, ok.io_errors), (0, 0), "{ok:?}");
        assert_eq!(ok.response_bytes, ok.ok * 6);
        let teapot = run(&load, Arc::new(request("GET", addr, "/teapot", &[], b""))).await;
        assert_eq!(teapot.ok, 0);
        assert!(teapot.wrong_status > 0);
        assert!(teapot.first_error.unwrap().contains("418"));
    }

    fn futures_chunks() -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
        futures_util::stream::iter(vec![
            Ok(bytes::Bytes::from_static(b"abc")),
            Ok(bytes::Bytes::from_static(b"def")),
        ])
    }
}
