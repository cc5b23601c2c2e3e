//! The loopback receiver of `emr-conformance auth`: a one-shot HTTP
//! server on 127.0.0.1 that takes the authorization server's redirect
//! (`/callback?code=...&state=...`, or OAuth 1.0a's
//! `?oauth_token=...&oauth_verifier=...`) from the user's browser.
//!
//! Only a callback whose parameters match the pending authorization (its
//! `state`, or its request token) is accepted; anything else gets a 400
//! and the receiver keeps waiting, so a stray or forged request cannot
//! complete the flow.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::{mpsc, oneshot};

/// The path of the redirect URI.
pub const CALLBACK_PATH: &str = "/callback";

/// Why no usable callback arrived.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CallbackError {
    #[error(
        "no callback within {0:?}: open the authorization URL in a browser and approve access"
    )]
    Timeout(Duration),
    #[error("the server refused the authorization: {0}")]
    Refused(String),
    #[error("the callback receiver stopped")]
    Closed,
}

#[derive(Clone)]
struct Shared {
    expect: Arc<Mutex<Vec<(String, String)>>>,
    tx: mpsc::UnboundedSender<Result<BTreeMap<String, String>, CallbackError>>,
}

/// A bound receiver, waiting for one callback.
pub struct CallbackReceiver {
    addr: SocketAddr,
    expect: Arc<Mutex<Vec<(String, String)>>>,
    rx: mpsc::UnboundedReceiver<Result<BTreeMap<String, String>, CallbackError>>,
    stop: Option<oneshot::Sender<()>>,
}

impl CallbackReceiver {
    /// Listens on `127.0.0.1:port` (0: a free port).
    pub async fn bind(port: u16) -> std::io::Result<CallbackReceiver> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let expect = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            expect: expect.clone(),
            tx,
        };
        let app = Router::new()
            .route(CALLBACK_PATH, get(callback))
            .with_state(shared);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(CallbackReceiver {
            addr,
            expect,
            rx,
            stop: Some(stop),
        })
    }

    /// The redirect URI to register and to send in the authorization
    /// request.
    pub fn redirect_uri(&self) -> String {
        format!("http://{}{CALLBACK_PATH}", self.addr)
    }

    /// Parameters a callback must carry (`state`, `oauth_token`).
    pub fn expect(&self, params: Vec<(String, String)>) {
        if let Ok(mut e) = self.expect.lock() {
            *e = params;
        }
    }

    /// Waits for the matching callback; returns its query parameters.
    pub async fn wait(
        mut self,
        timeout: Duration,
    ) -> Result<BTreeMap<String, String>, CallbackError> {
        let result = match tokio::time::timeout(timeout, self.rx.recv()).await {
            Err(_) => Err(CallbackError::Timeout(timeout)),
            Ok(None) => Err(CallbackError::Closed),
            Ok(Some(r)) => r,
        };
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        result
    }
}

fn page(title: &str, text: &str) -> Html<String> {
    let esc = crate::report::html::escape;
    Html(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body><h1>{}</h1><p>{}</p></body></html>",
        esc(title),
        esc(title),
        esc(text)
    ))
}

async fn callback(
    State(shared): State<Shared>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    let expect = shared.expect.lock().map(|e| e.clone()).unwrap_or_default();
    let matches = expect
        .iter()
        .all(|(k, v)| params.get(k).is_some_and(|got| got == v));
    if !matches {
        return (
            StatusCode::BAD_REQUEST,
            page(
                "Not this authorization",
                "This callback does not belong to the authorization emr-conformance is waiting for.",
            ),
        )
            .into_response();
    }
    if let Some(error) = params.get("error") {
        let detail = params
            .get("error_description")
            .map(|d| format!("{error}: {d}"))
            .unwrap_or_else(|| error.clone());
        let _ = shared.tx.send(Err(CallbackError::Refused(detail)));
        return page(
            "Authorization refused",
            "The server did not grant access. You can close this window.",
        )
        .into_response();
    }
    let _ = shared.tx.send(Ok(params));
    page(
        "Authorization received",
        "emr-conformance has what it needs. You can close this window.",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(url: &str) -> u16 {
        reqwest::get(url).await.unwrap().status().as_u16()
    }

    #[tokio::test]
    async fn only_the_matching_callback_completes() {
        let r = CallbackReceiver::bind(0).await.unwrap();
        let uri = r.redirect_uri();
        assert!(
            uri.starts_with("http://127.0.0.1:") && uri.ends_with("/callback"),
            "{uri}"
        );
        r.expect(vec![("state".into(), "s-123".into())]);
        let waiting = tokio::spawn(r.wait(Duration::from_secs(20)));
        assert_eq!(get(&format!("{uri}?code=evil&state=wrong")).await, 400);
        assert_eq!(get(&format!("{uri}?code=abc&state=s-123")).await, 200);
        let params = waiting.await.unwrap().unwrap();
        assert_eq!(params.get("code").map(String::as_str), Some("abc"));
    }

    #[tokio::test]
    async fn refusals_and_timeouts_are_errors() {
        let r = CallbackReceiver::bind(0).await.unwrap();
        let uri = r.redirect_uri();
        let waiting = tokio::spawn(r.wait(Duration::from_secs(20)));
        assert_eq!(
            get(&format!("{uri}?error=access_denied&error_description=no")).await,
            200
        );
        assert_eq!(
            waiting.await.unwrap(),
            Err(CallbackError::Refused("access_denied: no".into()))
        );
        let r = CallbackReceiver::bind(0).await.unwrap();
        assert_eq!(
            r.wait(Duration::from_millis(10)).await,
            Err(CallbackError::Timeout(Duration::from_millis(10)))
        );
    }
}
