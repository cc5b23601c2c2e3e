//! Message validation, the way each implementation does it.

use super::params::{ClassicParams, Incoming, OpenOParams};
use super::signature::{base_string, verify, SignatureMethod};
use super::{Client, Problem, Provider, Validator, TIMESTAMP_WINDOW_SECONDS};
use crate::state::AppState;

/// The token a message was signed with, if any.
#[derive(Debug, Clone, Copy)]
pub enum SignedWith<'a> {
    Consumer,
    RequestToken { token: &'a str, secret: &'a str },
    AccessToken { token: &'a str, secret: &'a str },
}

impl SignedWith<'_> {
    fn token(&self) -> &str {
        match self {
            SignedWith::Consumer => "",
            SignedWith::RequestToken { token, .. } | SignedWith::AccessToken { token, .. } => token,
        }
    }

    fn secret(&self) -> &str {
        match self {
            SignedWith::Consumer => "",
            SignedWith::RequestToken { secret, .. } | SignedWith::AccessToken { secret, .. } => {
                secret
            }
        }
    }

    fn revoke(&self, provider: &Provider) {
        match self {
            SignedWith::Consumer => {}
            SignedWith::RequestToken { token, .. } => provider.remove_request_token(token),
            SignedWith::AccessToken { token, .. } => provider.remove_access_token(token),
        }
    }
}

/// CXF `OAuthUtils.validateMessage` over net.oauth's
/// `SimpleOAuthValidator`: single `oauth_*` parameters, version,
/// timestamp and nonce, then the signature. Whatever fails, the token the
/// message was signed with is deleted, so a mis-signed call revokes a
/// valid token.
pub fn classic(
    state: &AppState,
    validator: Validator,
    params: &ClassicParams,
    req: &Incoming<'_>,
    client: &Client,
    signed_with: SignedWith<'_>,
) -> Result<(), Problem> {
    let provider = &state.default_site().oauth1;
    let result = classic_checks(state, validator, params, req, client, signed_with);
    if result.is_err() {
        signed_with.revoke(provider);
    }
    result
}

fn classic_checks(
    state: &AppState,
    validator: Validator,
    params: &ClassicParams,
    req: &Incoming<'_>,
    client: &Client,
    signed_with: SignedWith<'_>,
) -> Result<(), Problem> {
    let repeated = params.repeated_oauth();
    if !repeated.is_empty() {
        return Err(Problem::ParameterRejected(repeated.join(",")));
    }
    if let Some(v) = params.get("oauth_version") {
        // net.oauth compares the version as a number.
        match v.trim().parse::<f64>() {
            Ok(n) => {
                if n != 1.0 {
                    return Err(Problem::VersionRejected);
                }
            }
            Err(_) => {
                return Err(Problem::Unexpected(format!(
                    "java.lang.NumberFormatException: For input string: \"{v}\""
                )))
            }
        }
    }
    let timestamp = params
        .get("oauth_timestamp")
        .ok_or_else(|| Problem::ParameterAbsent("oauth_timestamp".into()))?;
    let nonce = params
        .get("oauth_nonce")
        .ok_or_else(|| Problem::ParameterAbsent("oauth_nonce".into()))?;
    let timestamp: i64 = timestamp.parse().map_err(|_| {
        Problem::Unexpected(format!(
            "java.lang.NumberFormatException: For input string: \"{timestamp}\""
        ))
    })?;
    // Milliseconds, as net.oauth compares them.
    let now_ms = i128::from(state.clock.now().timestamp_millis());
    if (now_ms - i128::from(timestamp) * 1000).abs() > i128::from(TIMESTAMP_WINDOW_SECONDS) * 1000 {
        return Err(Problem::TimestampRefused);
    }
    let consumer_key = params.get("oauth_consumer_key").unwrap_or("");
    if !state.default_site().oauth1.record_nonce(
        validator,
        timestamp,
        nonce,
        consumer_key,
        signed_with.token(),
        state.clock.unix(),
    ) {
        return Err(Problem::NonceUsed);
    }
    let missing: Vec<&str> = [
        "oauth_consumer_key",
        "oauth_signature_method",
        "oauth_signature",
    ]
    .into_iter()
    .filter(|p| params.get(p).is_none())
    .collect();
    if !missing.is_empty() {
        return Err(Problem::ParameterAbsent(missing.join(",")));
    }
    let method_name = params.get("oauth_signature_method").unwrap_or("");
    let method = match SignatureMethod::parse(method_name) {
        Some(m) => m,
        // Registered in net.oauth, but OSCAR configures no consumer
        // public key, so no RSA signature can validate.
        None if method_name == "RSA-SHA1" => return Err(Problem::SignatureInvalid),
        None => return Err(Problem::SignatureMethodRejected),
    };
    let base = base_string(req.method, &req.base_uri(), params.signed());
    let signature = params.get("oauth_signature").unwrap_or("");
    if verify(
        method,
        &base,
        &client.secret,
        signed_with.secret(),
        signature,
    ) {
        Ok(())
    } else {
        Err(Problem::SignatureInvalid)
    }
}

/// Why Open-O's verifier threw (`IllegalArgumentException` messages).
pub type OpenORefusal = String;

/// Open-O's `OAuth1SignatureVerifierImplementation.verifySignature`:
/// timestamp within 300 s (no nonce memory, no version check), the token
/// secret chosen from the URI, then HMAC-SHA1 whatever
/// `oauth_signature_method` says. Returns the `oauth_token` it saw.
pub fn open_o(
    state: &AppState,
    params: &OpenOParams,
    req: &Incoming<'_>,
    consumer_secret: &str,
) -> Result<String, OpenORefusal> {
    let incoming = params
        .signature()
        .ok_or_else(|| "Missing OAuth signature".to_owned())?;
    let timestamp = params
        .oauth("oauth_timestamp")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| "Missing oauth_timestamp".to_owned())?;
    let timestamp: i64 = timestamp
        .parse()
        .map_err(|_| "Invalid oauth_timestamp".to_owned())?;
    if (state.clock.unix() - timestamp).abs() > TIMESTAMP_WINDOW_SECONDS {
        return Err("Stale oauth_timestamp".to_owned());
    }
    let uri = req.path.to_ascii_lowercase();
    let token = params.oauth("oauth_token").unwrap_or("");
    let provider = &state.default_site().oauth1;
    let now = state.clock.now();
    let token_secret = if uri.contains("/initiate") || token.is_empty() {
        String::new()
    } else if uri.ends_with("/access_token")
        || uri.ends_with("/token")
        || params.oauth("oauth_verifier").is_some()
    {
        provider
            .request_token(token, now)
            .map(|t| t.secret)
            .ok_or_else(|| format!("Unknown or expired token: {token}"))?
    } else {
        provider
            .access_token(token)
            .map(|t| t.secret)
            .ok_or_else(|| format!("Unknown or expired token: {token}"))?
    };
    let base = base_string(req.method, &req.base_uri(), params.signed());
    if verify(
        SignatureMethod::HmacSha1,
        &base,
        consumer_secret,
        &token_secret,
        &incoming,
    ) {
        Ok(token.to_owned())
    } else {
        Err("Invalid OAuth1 signature".to_owned())
    }
}
