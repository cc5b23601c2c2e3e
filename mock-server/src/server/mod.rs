//! Serving the mock on a socket, in process or from the CLI.

mod idle;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinHandle;
use tower::ServiceExt;

use self::idle::{Watch, Watcher};
use crate::app;
use crate::state::{AppState, MockConfig};

/// Largest request head hyper buffers; past it the connection gets a 431
/// and is closed. The container's own, smaller limits answer in the
/// dialect below it ([`crate::limits`]).
const MAX_HEAD_BUFFER: usize = 64 * 1024;

/// Header fields hyper parses; past them, 431. The containers' own limit
/// (Apache's 100 fields) answers in the dialect below it.
const MAX_HEADERS: usize = 256;

/// How long a stop waits for requests in flight before it closes their
/// connections anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A mock listening on a socket until shut down or dropped.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl MockServer {
    /// Binds `addr` (port 0 picks a free port) and starts serving.
    pub async fn start(config: MockConfig, addr: SocketAddr) -> io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = AppState::new(config);
        let app = app::router(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, app, state.config.clone(), rx));
        Ok(MockServer {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Starts on a free loopback port.
    pub async fn start_local(config: MockConfig) -> io::Result<MockServer> {
        MockServer::start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The live state, for in-process control (clock, store) in tests.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting connections, lets in-flight requests finish, and
    /// waits for the server task.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .map_err(|e| io::Error::other(format!("mock server task failed: {e}")))?,
            None => Ok(()),
        }
    }
}

/// Accepts connections until `stop` fires. Each connection is served by
/// hyper with a deadline for each request head ([`idle`]: a slowloris or
/// idle client is dropped) and a bounded head buffer; at most
/// `max_connections` are open at once (the others wait in the listen
/// queue). A failed accept (a client that reset, no file descriptor left)
/// costs a pause, never the listener.
async fn serve(
    listener: TcpListener,
    app: Router,
    config: MockConfig,
    stop: oneshot::Receiver<()>,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let watcher = Watcher::new(config.header_read_timeout);
    tokio::spawn(watcher.clone().run());
    let mut stop = std::pin::pin!(stop);
    loop {
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let registration = watcher.register();
        let app = app.clone();
        let watch = registration.watch.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            watch.busy();
            let response = app.clone().oneshot(req);
            let watch = watch.clone();
            async move {
                let response = response.await?;
                Ok::<_, std::convert::Infallible>(response.map(|body| Served { body, watch }))
            }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .max_buf_size(MAX_HEAD_BUFFER)
            .max_headers(MAX_HEADERS)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let late = registration.watch.clone();
            // A client that vanishes mid-request is its own problem; one
            // past its header deadline is dropped with its connection.
            tokio::select! {
                _ = conn => {}
                _ = late.expired() => {}
            }
            drop(registration);
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    Ok(())
}

/// A response body that, once written and dropped, starts the
/// connection's wait for its next request head.
struct Served {
    body: Body,
    watch: Arc<Watch>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.watch.waiting();
    }
}

impl http_body::Body for Served {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
