//! The protocol endpoints under `{context}/ws/oauth`: temporary
//! credentials (`/initiate`), the consent page and decision
//! (`/authorize`), token credentials (`/token`), answered as each
//! implementation answers.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use emr_catalog::{Lookup, Operation};

use super::page::{oob, ConsentPage};
use super::params::{ClassicParams, OpenOParams, Received};
use super::signature::form_decode;
use super::verify::{self, SignedWith};
use super::{split_scopes, Flavor, Problem, Validator};
use crate::error::{Dialect, Failure};
use crate::journal::OperationId;
use crate::oscar::session::{self, strip_path_params};
use crate::state::AppState;

/// `{context}/ws/oauth/*`: CXF routes first (unknown path 404, wrong
/// method 405), then the operation's handler runs.
pub async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let (path, path_session) = strip_path_params(parts.uri.path());
    let in_context = path
        .strip_prefix(state.profile.context.as_str())
        .unwrap_or(&path)
        .to_owned();
    let op: Operation = match state.catalog.resolve(parts.method.as_str(), &in_context) {
        Lookup::Found(op, _) => op.clone(),
        Lookup::NotFound => {
            return Failure::NotFound
                .in_dialect(Dialect::OscarRest)
                .into_response()
        }
        Lookup::WrongMethod(allow) => {
            return Failure::MethodNotAllowed {
                allow: allow.into_iter().map(str::to_owned).collect(),
            }
            .in_dialect(Dialect::OscarRest)
            .into_response()
        }
    };
    let bytes = match crate::body::read(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(f) => return f.in_dialect(Dialect::OscarRest).into_response(),
    };
    let mut received = Received::new(parts, bytes);
    // Tomcat maps the path without its `;jsessionid=` parameter.
    received.path = path;
    let x = Exchange {
        state: &state,
        req: &received,
        path_session: path_session.as_deref(),
    };
    let flavor = Flavor::of(state.profile);
    let mut response = match (flavor.is_classic(), op.name.as_str()) {
        (true, "getRequestToken" | "getRequestTokenWithGET") => classic_initiate(&x),
        (true, "authorize" | "authorizeDecision" | "authorizeDecisionForm") => {
            classic_authorize(&x)
        }
        (true, "getAccessToken") => classic_token(&x, flavor),
        (false, "initiatePost") => open_o_initiate(&x),
        (false, "showConsent") => open_o_consent_page(&x),
        (false, "approve") => open_o_approve(&x),
        (false, "exchange") => open_o_token(&x),
        _ => Failure::NotFound
            .in_dialect(Dialect::OscarRest)
            .into_response(),
    };
    response.extensions_mut().insert(OperationId(op.id.clone()));
    response
}

struct Exchange<'a> {
    state: &'a AppState,
    req: &'a Received,
    path_session: Option<&'a str>,
}

impl Exchange<'_> {
    fn provider(&self) -> &super::Provider {
        &self.state.default_site().oauth1
    }

    /// `http://host:port/oscar`, the page's absolute base.
    fn absolute_context(&self) -> String {
        format!("http://{}{}", self.req.host, self.state.profile.context)
    }
}

// ---- responses --------------------------------------------------------

/// CXF's OAuth handlers: the problem's status and an empty body.
fn problem(p: &Problem) -> Response {
    p.status().into_response()
}

fn form_encoded(pairs: &[(&str, &str)]) -> Response {
    let body = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                super::signature::encode(k),
                super::signature::encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
        body,
    )
        .into_response()
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The servlet container's error page (`sendError`, or an exception that
/// escaped the resource).
fn error_page(status: StatusCode, message: &str) -> Response {
    text(
        status,
        "text/html;charset=utf-8",
        crate::error::tomcat_error_page(status, message),
    )
}

fn see_other(location: &str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// `callback?k=v&...` (or `&` when the callback has a query already).
fn callback_with(callback: &str, params: &[(&str, &str)]) -> String {
    let mut out = callback.to_owned();
    for (i, (k, v)) in params.iter().enumerate() {
        let sep = if i == 0 && !callback.contains('?') {
            '?'
        } else {
            '&'
        };
        out.push(sep);
        out.push_str(&super::signature::encode(k));
        out.push('=');
        out.push_str(&super::signature::encode(v));
    }
    out
}

// ---- OSCAR 19 and Juno (CXF) -----------------------------------------

fn require(params: &ClassicParams, names: &[&str]) -> Result<(), Problem> {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| params.get(n).is_none())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Problem::ParameterAbsent(missing.join(",")))
    }
}

/// `RequestTokenHandler`: the client must be known, the message valid,
/// and the callback must start with the client's registered URI (OSCAR
/// registers no callback URI, so nothing else, not even `oob`, passes).
fn classic_initiate(x: &Exchange<'_>) -> Response {
    match classic_initiate_inner(x) {
        Ok(r) => r,
        Err(p) => problem(&p),
    }
}

fn classic_initiate_inner(x: &Exchange<'_>) -> Result<Response, Problem> {
    let incoming = x.req.incoming();
    let params = ClassicParams::read(&incoming);
    require(
        &params,
        &[
            "oauth_consumer_key",
            "oauth_signature_method",
            "oauth_signature",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_callback",
        ],
    )?;
    let client = x
        .provider()
        .client(params.get("oauth_consumer_key").unwrap_or(""))
        .ok_or(Problem::ConsumerKeyUnknown)?;
    verify::classic(
        x.state,
        Validator::Initiate,
        &params,
        &incoming,
        &client,
        SignedWith::Consumer,
    )?;
    let callback = params.get("oauth_callback").unwrap_or("");
    if callback.is_empty() || client.uri.is_empty() || !callback.starts_with(&client.uri) {
        return Err(Problem::ParameterRejected("oauth_callback".into()));
    }
    let token = x.provider().create_request_token(
        &client.key,
        Some(callback.to_owned()),
        split_scopes(params.get("scope")),
        &x.state.rng,
        x.state.clock.now(),
    );
    // CXF form-encodes a HashMap: Java 8 iterates these keys in this order.
    Ok(form_encoded(&[
        ("oauth_token", &token.token),
        ("oauth_callback_confirmed", "true"),
        ("oauth_token_secret", &token.secret),
    ]))
}

/// `AuthorizationRequestHandler`, behind `/authorize` and
/// `/authorize/decision` alike. Without a matching session authenticity
/// token the request is a fresh authorization and the consent page is
/// rendered (or, if it carries a decision, CXF's generic catch answers
/// 500); with one, `allow` stores a verifier and anything else deletes
/// the token, and the answer is a 303 to the callback.
fn classic_authorize(x: &Exchange<'_>) -> Response {
    let incoming = x.req.incoming();
    let params = ClassicParams::read(&incoming);
    let Some(token_id) = params.get("oauth_token") else {
        return problem(&Problem::ParameterAbsent("oauth_token".into()));
    };
    let now = x.state.clock.now();
    let Some(token) = x.provider().request_token(token_id, now) else {
        return problem(&Problem::TokenRejected);
    };
    let site = x.state.default_site();
    let (session, new_session) = session::current_or_new(x.state, &x.req.headers, x.path_session);
    let decision = params.get("oauthDecision");
    let sent = params
        .get("session_authenticity_token")
        .filter(|s| !s.is_empty());
    let matches = match (sent, session.authenticity_token.as_deref()) {
        (Some(sent), Some(stored)) if !stored.is_empty() => {
            site.sessions
                .update(&session.id, |s| s.authenticity_token = None);
            sent == stored
        }
        _ => false,
    };
    let mut response = if !matches {
        if decision.is_some() {
            // WebApplicationException(400) caught by the generic catch.
            problem(&Problem::Unexpected(
                "session authenticity token is missing or invalid".into(),
            ))
        } else {
            let authenticity = x.state.rng.uuid();
            site.sessions.update(&session.id, |s| {
                s.authenticity_token = Some(authenticity.clone())
            });
            consent_page(x, &token, &session, &authenticity, true)
        }
    } else {
        let allow = decision == Some("allow");
        let verifier = x.state.rng.uuid();
        let mut query: Vec<(&str, &str)> = Vec::new();
        if allow {
            x.provider()
                .update_request_token(&token.token, |t| t.verifier = Some(verifier.clone()));
            query.push(("oauth_verifier", &verifier));
        } else {
            x.provider().remove_request_token(&token.token);
        }
        query.push(("oauth_token", &token.token));
        let callback = token.callback.clone().unwrap_or_default();
        if callback == "oob" {
            text(
                StatusCode::OK,
                "text/html;charset=utf-8",
                oob(&token.token, if allow { &verifier } else { "" }),
            )
        } else {
            see_other(&callback_with(&callback, &query))
        }
    };
    if new_session {
        session::set_cookie(&mut response, &x.state.profile.context, &session.id);
    }
    response
}

/// Renders `3rdpartyLogin.jsp`; a logged-in user is written into the
/// request token first (`OAuthSessionMerger`).
fn consent_page(
    x: &Exchange<'_>,
    token: &super::RequestToken,
    session: &session::Session,
    authenticity: &str,
    classic: bool,
) -> Response {
    if let Some(user) = &session.user {
        x.provider().update_request_token(&token.token, |t| {
            t.provider_no = Some(user.provider_no.clone())
        });
    }
    let client = x.provider().client(&token.client_key);
    let (name, uri) = client
        .as_ref()
        .map(|c| (c.name.as_str(), c.uri.as_str()))
        .unwrap_or(("", ""));
    let reply_to = if classic {
        format!("{}/ws/oauth/authorize/decision", x.absolute_context())
    } else {
        format!("{}/ws/oauth/authorize", x.state.profile.context)
    };
    let page = ConsentPage {
        context: &x.state.profile.context,
        session_id: &session.id,
        logged_in: session.user.as_ref().map(|u| u.provider_name.as_str()),
        application_name: name,
        application_uri: uri,
        permissions: &token.scopes,
        authenticity_token: authenticity,
        oauth_token: &token.token,
        reply_to: &reply_to,
        classic,
    };
    text(StatusCode::OK, "text/html;charset=UTF-8", page.render())
}

/// `AccessTokenHandler`: a known request token, its verifier, a valid
/// message signed with the request-token secret; the request token is
/// then deleted, so a verifier works once.
fn classic_token(x: &Exchange<'_>, flavor: Flavor) -> Response {
    match classic_token_inner(x, flavor) {
        Ok(r) => r,
        Err(p) => problem(&p),
    }
}

fn classic_token_inner(x: &Exchange<'_>, flavor: Flavor) -> Result<Response, Problem> {
    let incoming = x.req.incoming();
    let params = ClassicParams::read(&incoming);
    require(
        &params,
        &[
            "oauth_consumer_key",
            "oauth_token",
            "oauth_signature_method",
            "oauth_signature",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_verifier",
        ],
    )?;
    let now = x.state.clock.now();
    let token = x
        .provider()
        .request_token(params.get("oauth_token").unwrap_or(""), now)
        .ok_or(Problem::TokenRejected)?;
    if token.verifier.is_none() || params.get("oauth_verifier") != token.verifier.as_deref() {
        return Err(Problem::VerifierInvalid);
    }
    let client = x
        .provider()
        .client(&token.client_key)
        .ok_or(Problem::ConsumerKeyUnknown)?;
    verify::classic(
        x.state,
        Validator::Token,
        &params,
        &incoming,
        &client,
        SignedWith::RequestToken {
            token: &token.token,
            secret: &token.secret,
        },
    )?;
    let access = x
        .provider()
        .exchange(
            &token.token,
            flavor.access_lifetime(&client),
            &x.state.rng,
            now,
        )
        .ok_or(Problem::TokenRejected)?;
    Ok(form_encoded(&[
        ("oauth_token", &access.token),
        ("oauth_token_secret", &access.secret),
    ]))
}

// ---- Open-O (hand-written) --------------------------------------------

const OPEN_O_EXCEPTION: &str = "ca.openosp.openo.webserv.oauth.OAuth1Exception";

/// `OAuth1ParamParser`'s required parameters, or the exception it throws.
fn open_o_parsed_ok(params: &OpenOParams) -> Result<(), String> {
    let required = [
        "oauth_consumer_key",
        "oauth_signature",
        "oauth_signature_method",
        "oauth_timestamp",
        "oauth_nonce",
    ];
    if required.iter().all(|n| params.parsed(n).is_some()) {
        Ok(())
    } else {
        Err(format!("{OPEN_O_EXCEPTION}: invalid_oauth_parameters"))
    }
}

/// `OscarRequestTokenService` (POST only). Nothing here catches: a
/// missing parameter, an unknown consumer, a bad signature or a missing
/// callback (the NOT NULL column) all escape as a 500 error page. The
/// callback is normalised but never compared with the client's URI.
fn open_o_initiate(x: &Exchange<'_>) -> Response {
    match open_o_initiate_inner(x) {
        Ok(r) => r,
        Err(message) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &message),
    }
}

fn open_o_initiate_inner(x: &Exchange<'_>) -> Result<Response, String> {
    let incoming = x.req.incoming();
    let params = OpenOParams::read(&incoming);
    open_o_parsed_ok(&params)?;
    let key = params.parsed("oauth_consumer_key").unwrap_or("");
    let client = x
        .provider()
        .client(key)
        .ok_or_else(|| format!("{OPEN_O_EXCEPTION}: invalid_consumer"))?;
    verify::open_o(x.state, &params, &incoming, &client.secret)
        .map_err(|m| format!("java.lang.IllegalArgumentException: {m}"))?;
    let callback = params
        .parsed("oauth_callback")
        .map(|c| normalize_callback(&form_decode(c)))
        .ok_or_else(|| {
            "org.hibernate.exception.ConstraintViolationException: Column 'callback' cannot be null"
                .to_owned()
        })?;
    let token = x.provider().create_request_token(
        &client.key,
        Some(callback),
        split_scopes(params.parsed("scope")),
        &x.state.rng,
        x.state.clock.now(),
    );
    Ok(form_encoded(&[
        ("oauth_token", &token.token),
        ("oauth_token_secret", &token.secret),
        ("oauth_callback_confirmed", "true"),
    ]))
}

/// Lower-case scheme and host, default port dropped, empty path as `/`;
/// anything that is not an absolute http(s) URL (such as `oob`) is kept.
fn normalize_callback(callback: &str) -> String {
    let Some((scheme, rest)) = callback.split_once("://") else {
        return callback.to_owned();
    };
    let scheme = scheme.to_ascii_lowercase();
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let mut authority = authority.to_ascii_lowercase();
    for (s, port) in [("http", ":80"), ("https", ":443")] {
        if scheme == s {
            if let Some(a) = authority.strip_suffix(port) {
                authority = a.to_owned();
            }
        }
    }
    let tail = if tail.starts_with('/') {
        tail.to_owned()
    } else {
        format!("/{tail}")
    };
    format!("{scheme}://{authority}{tail}")
}

/// `AuthorizeResource` GET: 400 error pages for a missing or unknown
/// token, else the consent page (with an empty authenticity token).
fn open_o_consent_page(x: &Exchange<'_>) -> Response {
    let servlet = x.req.incoming().servlet_params();
    let token_id = servlet
        .iter()
        .find(|(k, _)| k == "oauth_token")
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty());
    let Some(token_id) = token_id else {
        return error_page(StatusCode::BAD_REQUEST, "Missing oauth_token");
    };
    let Some(token) = x.provider().request_token(token_id, x.state.clock.now()) else {
        return error_page(StatusCode::BAD_REQUEST, "Invalid oauth_token");
    };
    // The JSP uses the session, so Tomcat creates one.
    let (session, new_session) = session::current_or_new(x.state, &x.req.headers, x.path_session);
    let mut response = consent_page(x, &token, &session, "", false);
    if new_session {
        session::set_cookie(&mut response, &x.state.profile.context, &session.id);
    }
    response
}

/// `AuthorizeResource` POST: the decision and the authenticity token are
/// never read, so "Cancel" approves too.
fn open_o_approve(x: &Exchange<'_>) -> Response {
    let servlet = x.req.incoming().servlet_params();
    let token_id = servlet
        .iter()
        .find(|(k, _)| k == "oauth_token")
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty());
    let plain = |status, body: &str| text(status, "text/plain", body.to_owned());
    let Some(token_id) = token_id else {
        return plain(StatusCode::BAD_REQUEST, "missing oauth_token");
    };
    let Some(token) = x.provider().request_token(token_id, x.state.clock.now()) else {
        return plain(StatusCode::BAD_REQUEST, "invalid_request_token");
    };
    let user = session::current(x.state, &x.req.headers, x.path_session).and_then(|s| s.user);
    let Some(user) = user else {
        return plain(StatusCode::UNAUTHORIZED, "login_required");
    };
    let verifier = x.state.rng.uuid();
    x.provider().update_request_token(&token.token, |t| {
        t.verifier = Some(verifier.clone());
        t.provider_no = Some(user.provider_no.clone());
    });
    match token.callback.as_deref() {
        None | Some("oob") => plain(StatusCode::OK, &format!("oauth_verifier={verifier}")),
        Some(callback) => {
            let sep = if callback.contains('?') { '&' } else { '?' };
            see_other(&format!(
                "{callback}{sep}oauth_token={}&oauth_verifier={verifier}",
                token.token
            ))
        }
    }
}

/// `AccessTokenResource`: client, request token, verifier, signature, in
/// that order, each refusal a bare word with 401; the parser's own
/// exception escapes as a 500 page.
fn open_o_token(x: &Exchange<'_>) -> Response {
    let incoming = x.req.incoming();
    let params = OpenOParams::read(&incoming);
    if let Err(message) = open_o_parsed_ok(&params) {
        return error_page(StatusCode::INTERNAL_SERVER_ERROR, &message);
    }
    let word = |w: &str| {
        text(
            StatusCode::UNAUTHORIZED,
            "application/x-www-form-urlencoded",
            w.to_owned(),
        )
    };
    let Some(client) = x
        .provider()
        .client(params.parsed("oauth_consumer_key").unwrap_or(""))
    else {
        return word("invalid_consumer");
    };
    let token_id = params.parsed("oauth_token").unwrap_or("");
    let now = x.state.clock.now();
    let Some(token) = x.provider().request_token(token_id, now) else {
        return word("invalid_request_token");
    };
    let verifier = params.parsed("oauth_verifier");
    if verifier.is_none() || verifier != token.verifier.as_deref() {
        return word("invalid_verifier");
    }
    match verify::open_o(x.state, &params, &incoming, &client.secret) {
        Ok(signed) if signed == token.token => {}
        _ => return word("invalid_signature"),
    }
    let Some(access) = x.provider().exchange(
        &token.token,
        Flavor::OpenO.access_lifetime(&client),
        &x.state.rng,
        now,
    ) else {
        return word("invalid_request_token");
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
        format!(
            "oauth_token={}&oauth_token_secret={}",
            access.token, access.secret
        ),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_are_normalised_like_open_o() {
        assert_eq!(
            normalize_callback("HTTPS://Example.COM:443"),
            "https://example.com/"
        );
        assert_eq!(
            normalize_callback("http://a.example:80/cb?x=1"),
            "http://a.example/cb?x=1"
        );
        assert_eq!(normalize_callback("oob"), "oob");
    }

    #[test]
    fn callback_parameters_follow_an_existing_query() {
        assert_eq!(
            callback_with("https://a/cb?s=1", &[("oauth_token", "t")]),
            "https://a/cb?s=1&oauth_token=t"
        );
        assert_eq!(
            callback_with(
                "https://a/cb",
                &[("oauth_verifier", "v"), ("oauth_token", "t")]
            ),
            "https://a/cb?oauth_verifier=v&oauth_token=t"
        );
    }
}
