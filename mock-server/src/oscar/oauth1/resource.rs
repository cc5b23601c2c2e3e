//! Authenticating resource calls on `/ws/services` (Juno:
//! `/ws/services/v1`) with an access token.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::params::{ClassicParams, Incoming, OpenOParams};
use super::verify::{self, SignedWith};
use super::{Problem, Validator};
use crate::error::xml_escape;
use crate::oscar::rest::{Principal, Via};
use crate::state::AppState;

/// What the authentication layer decided.
#[derive(Debug)]
pub enum Decision {
    /// Let the resource run: with the login it carries, or without one
    /// (then the resource fails when it asks for it, as the real one does).
    Proceed(Option<Principal>),
    /// Answer this instead.
    Refuse(Response),
}

/// CXF's `OAuthRequestFilter` (OSCAR 19, Juno): a request must carry an
/// `oauth_token` naming a live access token and be validly signed with
/// its client's secret and the token's secret. There is no two-legged
/// mode. Every refusal is 401 with `WWW-Authenticate: OAuth` and no body;
/// a failed validation deletes the token, an expired one is deleted too.
pub fn classic(state: &AppState, req: &Incoming<'_>) -> Decision {
    match classic_checks(state, req) {
        Ok(p) => Decision::Proceed(p),
        Err(_) => Decision::Refuse(
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "OAuth")],
            )
                .into_response(),
        ),
    }
}

fn classic_checks(state: &AppState, req: &Incoming<'_>) -> Result<Option<Principal>, Problem> {
    let provider = &state.default_site().oauth1;
    let params = ClassicParams::read(req);
    let token_id = params.get("oauth_token").ok_or(Problem::TokenRejected)?;
    if params.get("oauth_signature").is_none() {
        return Err(Problem::ParameterAbsent("oauth_signature".into()));
    }
    let token = provider
        .access_token(token_id)
        .ok_or(Problem::TokenRejected)?;
    let client = provider
        .client(&token.client_key)
        .ok_or(Problem::ConsumerKeyUnknown)?;
    if params.get("oauth_consumer_key") != Some(client.key.as_str()) {
        return Err(Problem::ConsumerKeyUnknown);
    }
    verify::classic(
        state,
        Validator::Resource,
        &params,
        req,
        &client,
        SignedWith::AccessToken {
            token: &token.token,
            secret: &token.secret,
        },
    )?;
    if token.expired_at(state.clock.unix()) {
        provider.remove_access_token(&token.token);
        return Err(Problem::TokenExpired);
    }
    Ok(token.provider_no.map(|provider_no| Principal {
        provider_no,
        via: Via::OAuth1 {
            consumer_key: client.key,
            token: token.token,
            in_header: !req.authorization.is_empty(),
        },
        scopes: token.scopes,
    }))
}

/// Open-O's `OAuthInterceptor`: it only looks at requests that carry an
/// `Authorization` header or an `oauth_consumer_key` parameter
/// (`Ok(None)` otherwise, so the caller can try the session). It checks
/// the consumer, the signature with the access-token secret and the
/// token's provider, never the token's age. Its refusals are CXF faults
/// that no mapper handles: HTTP 500 with an XMLFault body.
pub fn open_o(state: &AppState, req: &Incoming<'_>) -> Option<Decision> {
    let params = OpenOParams::read(req);
    if !params.is_oauth_request() {
        return None;
    }
    Some(match open_o_checks(state, req, &params) {
        Ok(p) => Decision::Proceed(Some(p)),
        Err(code) => Decision::Refuse(xml_fault(&format!(
            "ca.openosp.openo.webserv.oauth.OAuth1Exception: {code}"
        ))),
    })
}

fn open_o_checks(
    state: &AppState,
    req: &Incoming<'_>,
    params: &OpenOParams,
) -> Result<Principal, &'static str> {
    let provider = &state.default_site().oauth1;
    let consumer_key = params
        .oauth("oauth_consumer_key")
        .filter(|k| !k.is_empty())
        .ok_or("missing_consumer_key")?;
    let token = params
        .oauth("oauth_token")
        .filter(|t| !t.is_empty())
        .ok_or("missing_access_token")?;
    let client = provider.client(consumer_key).ok_or("invalid_consumer")?;
    let signed =
        verify::open_o(state, params, req, &client.secret).map_err(|_| "invalid_signature")?;
    if signed != token {
        return Err("invalid_signature");
    }
    let access = provider.access_token(token).ok_or("unknown_provider")?;
    let provider_no = access
        .provider_no
        .filter(|p| state.default_site().store.read(|d| d.provider(p).is_some()))
        .ok_or("unknown_provider")?;
    let in_header = params.oauth_header_has_token();
    Ok(Principal {
        provider_no,
        via: Via::OAuth1 {
            consumer_key: client.key,
            token: token.to_owned(),
            in_header,
        },
        scopes: access.scopes,
    })
}

/// CXF 3.5's `JAXRSDefaultFaultOutInterceptor` body for an unmapped fault.
pub fn xml_fault(message: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/xml")],
        format!(
            "<ns1:XMLFault xmlns:ns1=\"http://cxf.apache.org/bindings/xformat\"><ns1:faultstring xmlns:ns1=\"http://cxf.apache.org/bindings/xformat\">{}</ns1:faultstring></ns1:XMLFault>",
            xml_escape(message)
        ),
    )
        .into_response()
}
