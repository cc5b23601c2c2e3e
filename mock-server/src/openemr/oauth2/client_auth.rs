//! Client authentication at the token and introspection endpoints: HTTP
//! Basic, `client_secret_post`, or a `private_key_jwt` assertion checked
//! as `JWTClientAuthenticationService` does.

use axum::http::{header, HeaderMap};
use base64::Engine;
use serde_json::Value;

use super::super::jwt::{Alg, Jwt};
use super::error::OAuthError;
use super::store::Client;
use super::Ctx;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How the client proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A public client naming itself.
    None,
    Secret,
    Assertion,
}

/// Form fields as sent, first value wins.
pub type Form = Vec<(String, String)>;

pub fn field<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `Authorization: Basic base64(id:secret)`.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Authenticates the client of a token request. Errors are league's:
/// 401 `invalid_client` (with `WWW-Authenticate` when an Authorization
/// header was sent), 400 for a bad assertion.
pub fn authenticate(
    ctx: &Ctx<'_>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<(Client, Method), OAuthError> {
    let had_header = headers.contains_key(header::AUTHORIZATION);
    if let Some(kind) = field(form, "client_assertion_type") {
        if kind != JWT_BEARER {
            return Err(OAuthError::invalid_request(
                "assertion type is not supported",
            ));
        }
        let assertion = field(form, "client_assertion")
            .ok_or_else(|| OAuthError::missing("client_assertion"))?;
        let client = verify_assertion(ctx, assertion)?;
        if let Some(id) = field(form, "client_id") {
            if id != client.id {
                return Err(OAuthError::invalid_client_assertion(
                    "client_id does not match the assertion",
                ));
            }
        }
        return Ok((client, Method::Assertion));
    }
    let (id, secret) = match basic(headers) {
        Some((id, secret)) => (id, Some(secret)),
        None => {
            let id = field(form, "client_id")
                .ok_or_else(|| OAuthError::missing("client_id"))?
                .to_owned();
            (id, field(form, "client_secret").map(str::to_owned))
        }
    };
    let invalid = || OAuthError::invalid_client().with_www_authenticate(had_header);
    let client = ctx
        .auth()
        .with(|d| d.clients.get(&id).cloned())
        .filter(|c| c.enabled)
        .ok_or_else(invalid)?;
    if !client.confidential {
        return Ok((client, Method::None));
    }
    match secret {
        Some(s) if !client.secret.is_empty() && s == client.secret => Ok((client, Method::Secret)),
        _ => Err(invalid()),
    }
}

/// Checks a client assertion: RS384, `kid` in the client's JWKS,
/// `iss` = `sub` = client id, `aud` holds the token URL, `exp` within 24 h,
/// `iat` at most 5 minutes old, `jti` once, with a minute of leeway.
pub fn verify_assertion(ctx: &Ctx<'_>, assertion: &str) -> Result<Client, OAuthError> {
    let fail = |hint: &str| OAuthError::invalid_client_assertion(hint);
    let jwt = Jwt::parse(assertion).map_err(|_| fail("The client assertion is not a JWT"))?;
    let kid = jwt
        .header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("The assertion header has no kid"))?
        .to_owned();
    if jwt.alg() != Alg::RS384.name() {
        return Err(fail("Only RS384 client assertions are accepted"));
    }
    let sub = jwt
        .claim_str("sub")
        .ok_or_else(|| OAuthError::invalid_request("Invalid subject claim"))?
        .to_owned();
    if jwt.claim_str("iss") != Some(sub.as_str()) {
        return Err(OAuthError::invalid_request("Invalid issuer claim"));
    }
    let client = ctx
        .auth()
        .with(|d| d.clients.get(&sub).cloned())
        .filter(|c| c.enabled)
        .ok_or_else(|| fail("Unknown client"))?;
    let key = client
        .jwks
        .as_ref()
        .and_then(|j| j.get("keys"))
        .and_then(Value::as_array)
        .and_then(|keys| {
            keys.iter()
                .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid.as_str()))
        })
        .cloned()
        .ok_or_else(|| fail("No key of the client's JWKS has this kid"))?;
    jwt.verify_jwk(Alg::RS384, &key)
        .map_err(|_| fail("The assertion signature does not verify"))?;
    let token_url = ctx.token_url();
    let aud_ok = match jwt.claims.get("aud") {
        Some(Value::String(a)) => *a == token_url,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(token_url.as_str())),
        _ => false,
    };
    if !aud_ok {
        return Err(fail("The assertion audience is not the token endpoint"));
    }
    let now = ctx.now();
    const LEEWAY: i64 = 60;
    let exp = jwt
        .claim_i64("exp")
        .ok_or_else(|| OAuthError::invalid_request("Missing exp claim"))?;
    if exp > now + 24 * 3600 {
        return Err(OAuthError::invalid_request(
            "Token expiration exceeds maximum allowed time",
        ));
    }
    if exp + LEEWAY <= now {
        return Err(fail("The assertion has expired"));
    }
    if let Some(iat) = jwt.claim_i64("iat") {
        if iat < now - 300 - LEEWAY {
            return Err(OAuthError::invalid_request(
                "Token issued too far in the past",
            ));
        }
    }
    let jti = jwt
        .claim_str("jti")
        .ok_or_else(|| OAuthError::invalid_request("Missing jti claim"))?
        .to_owned();
    let fresh = ctx
        .auth()
        .with(|d| d.assertion_jtis.insert(format!("{sub}:{jti}")));
    if !fresh {
        return Err(fail("The assertion jti was already used"));
    }
    Ok(client)
}
