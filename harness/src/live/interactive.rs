//! Interactive authorization (`emr-conformance auth --target T`): print
//! the authorization URL, receive the redirect on a loopback port, store
//! the tokens, reuse them in later runs.
//!
//! The protocol belongs to the auth drivers: each one that has an
//! interactive flow implements [`InteractiveFlow`] (OAuth 1.0a for OSCAR:
//! request token, authorize, access token; OAuth2 with PKCE for OpenEMR:
//! authorize, code exchange) and adds itself to [`flows`]. Everything
//! around it (the receiver, the store, the reuse) is here.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use emr_catalog::ProfileId;
use serde_json::Value;

use super::loopback::{CallbackError, CallbackReceiver};
use crate::auth::AuthError;
use crate::target::Target;
use crate::transport::Transport;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An authorization waiting for the user.
#[derive(Debug, Clone)]
pub struct Pending {
    /// What the user opens in a browser.
    pub authorize_url: String,
    /// Parameters the callback must carry (`state`, `oauth_token`).
    pub expect: Vec<(String, String)>,
    /// What the flow needs again in `finish` (PKCE verifier, request
    /// token secret).
    pub carry: Value,
}

/// One driver's interactive flow.
pub trait InteractiveFlow: Send + Sync {
    /// The driver name; the tokens are stored under `tokens.<driver>`.
    fn driver(&self) -> &'static str;

    fn supports(&self, profile: ProfileId) -> bool;

    /// Prepares the authorization for `redirect_uri`.
    fn begin<'a>(
        &'a self,
        target: &'a Target,
        transport: &'a Transport,
        redirect_uri: &'a str,
    ) -> BoxFuture<'a, Result<Pending, AuthError>>;

    /// Exchanges the callback's parameters for tokens: the value stored as
    /// `tokens.<driver>` (see `live::tokens` for the shapes).
    fn finish<'a>(
        &'a self,
        target: &'a Target,
        transport: &'a Transport,
        pending: &'a Pending,
        callback: &'a BTreeMap<String, String>,
    ) -> BoxFuture<'a, Result<Value, AuthError>>;
}

/// The interactive flows of the auth drivers built in. A driver with an
/// interactive flow adds its `Box::new(...)` here.
pub fn flows() -> Vec<Box<dyn InteractiveFlow>> {
    vec![
        Box::new(crate::auth::oauth1::Interactive),
        Box::new(crate::auth::oauth2::Interactive),
    ]
}

/// The flow for a profile (and a driver name, when given).
pub fn flow_for(
    flows: Vec<Box<dyn InteractiveFlow>>,
    profile: ProfileId,
    driver: Option<&str>,
) -> Result<Box<dyn InteractiveFlow>, String> {
    let names: Vec<&'static str> = flows.iter().map(|f| f.driver()).collect();
    flows
        .into_iter()
        .find(|f| f.supports(profile) && driver.is_none_or(|d| d == f.driver()))
        .ok_or_else(|| match driver {
            Some(d) => format!(
                "no interactive flow `{d}` for the {profile} profile (available: {})",
                if names.is_empty() { "none".to_owned() } else { names.join(", ") }
            ),
            None => format!(
                "no interactive authorization flow is available for the {profile} profile yet; provide tokens in the target file (`credentials.tokens`) instead"
            ),
        })
}

/// Why interactive authorization failed.
#[derive(Debug, thiserror::Error)]
pub enum InteractiveError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Callback(#[from] CallbackError),
}

/// Runs a flow: `show` gets the URL to open; returns the tokens.
pub async fn authorize(
    flow: &dyn InteractiveFlow,
    target: &Target,
    transport: &Transport,
    receiver: CallbackReceiver,
    timeout: Duration,
    show: impl FnOnce(&str),
) -> Result<Value, InteractiveError> {
    let redirect_uri = receiver.redirect_uri();
    let pending = flow.begin(target, transport, &redirect_uri).await?;
    receiver.expect(pending.expect.clone());
    show(&pending.authorize_url);
    let callback = receiver.wait(timeout).await?;
    Ok(flow.finish(target, transport, &pending, &callback).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::TargetKind;

    /// A flow with the shape of OAuth2's authorization-code grant, whose
    /// "token endpoint" is the code itself: enough to drive the machinery.
    struct Echo;

    impl InteractiveFlow for Echo {
        fn driver(&self) -> &'static str {
            "echo"
        }
        fn supports(&self, profile: ProfileId) -> bool {
            profile == ProfileId::OpenEmr
        }
        fn begin<'a>(
            &'a self,
            target: &'a Target,
            _transport: &'a Transport,
            redirect_uri: &'a str,
        ) -> BoxFuture<'a, Result<Pending, AuthError>> {
            Box::pin(async move {
                Ok(Pending {
                    authorize_url: format!(
                        "{}/oauth2/default/authorize?redirect_uri={redirect_uri}&state=st",
                        target.root
                    ),
                    expect: vec![("state".into(), "st".into())],
                    carry: serde_json::json!({"verifier": "v"}),
                })
            })
        }
        fn finish<'a>(
            &'a self,
            _target: &'a Target,
            _transport: &'a Transport,
            pending: &'a Pending,
            callback: &'a BTreeMap<String, String>,
        ) -> BoxFuture<'a, Result<Value, AuthError>> {
            Box::pin(async move {
                Ok(serde_json::json!({
                    "access_token": format!("at-{}", callback["code"]),
                    "verifier": pending.carry["verifier"],
                }))
            })
        }
    }

    #[tokio::test]
    async fn a_flow_runs_from_url_to_tokens() {
        let target = Target::new(
            TargetKind::Live,
            ProfileId::OpenEmr,
            "https://emr.example",
            Value::Null,
        );
        let transport = Transport::new(Duration::from_secs(5), false).unwrap();
        let receiver = CallbackReceiver::bind(0).await.unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<String>();
        // The "browser": follows the printed URL's redirect_uri.
        let browser = tokio::spawn(async move {
            let url = rx.await.unwrap();
            let redirect = url
                .split("redirect_uri=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .to_owned();
            reqwest::get(format!("{redirect}?code=42&state=st"))
                .await
                .unwrap()
                .status()
                .as_u16()
        });
        let tokens = authorize(
            &Echo,
            &target,
            &transport,
            receiver,
            Duration::from_secs(20),
            |url| {
                let _ = tx.send(url.to_owned());
            },
        )
        .await
        .unwrap();
        assert_eq!(browser.await.unwrap(), 200);
        assert_eq!(
            tokens,
            serde_json::json!({"access_token": "at-42", "verifier": "v"})
        );
    }

    #[test]
    fn flows_are_chosen_by_profile_and_driver() {
        let pick = |p, d| flow_for(vec![Box::new(Echo)], p, d).map(|f| f.driver());
        assert_eq!(pick(ProfileId::OpenEmr, None), Ok("echo"));
        assert!(pick(ProfileId::Oscar, None)
            .unwrap_err()
            .contains("no interactive authorization flow"));
        assert!(pick(ProfileId::OpenEmr, Some("oauth1"))
            .unwrap_err()
            .contains("available: echo"));
    }
}
