//! The `wss` driver: a WS-Security UsernameToken header for SOAP steps,
//! with PasswordText or PasswordDigest, Nonce and Created as asked, or the
//! securityId and token of `LoginService.login2`.

use base64::Engine as _;
use chrono::{Duration, SecondsFormat, Utc};
use rand::RngCore;
use serde_json::Value;
use sha1::{Digest, Sha1};

use super::{AuthContext, AuthError};
use crate::scenario::{display, element_text, Template, TokenPart, Vars, WssSpec, XmlPath};
use crate::soap::{escape, parse_response};
use crate::transport::HttpRequest;

pub const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
pub const PASSWORD_TEXT: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";
pub const PASSWORD_DIGEST: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest";
const BASE64_BINARY: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";

/// What the driver keeps for the scenario: the LoginService login.
#[derive(Debug, Default)]
pub struct WssCache {
    /// securityId and securityTokenKey, once `login2` answered.
    login: Option<(String, String)>,
}

fn fail(message: impl Into<String>) -> AuthError {
    AuthError::Failed {
        driver: "wss",
        message: message.into(),
    }
}

fn render(t: &Template, vars: &Vars, what: &str) -> Result<String, AuthError> {
    t.render(vars).map_err(|e| fail(format!("{what}: {e}")))
}

/// A field of the target's first user, as `/__admin/credentials` lists it.
fn credential(ctx: &AuthContext<'_>, field: &str) -> Result<String, AuthError> {
    match ctx.target.credentials.pointer(&format!("/users/0/{field}")) {
        Some(Value::Null) | None => Err(fail(format!(
            "no `{field}` given and the target lists no user credentials; set it in the scenario"
        ))),
        Some(v) => Ok(display(v)),
    }
}

/// The username and password a spec sends: the LoginService login's
/// securityId and token, or the spec's (default: the first user's
/// security number and password).
pub async fn credentials(
    spec: &WssSpec,
    ctx: &mut AuthContext<'_>,
) -> Result<(String, String), AuthError> {
    Ok(match &spec.login {
        Some(login) => {
            if let Some(cached) = &ctx.state.wss.login {
                cached.clone()
            } else {
                let user = match &login.username {
                    Some(t) => render(t, ctx.vars, "login.username")?,
                    None => credential(ctx, "username")?,
                };
                let pass = match &login.password {
                    Some(t) => render(t, ctx.vars, "login.password")?,
                    None => credential(ctx, "password")?,
                };
                let got = login2(ctx, &user, &pass).await?;
                ctx.state.wss.login = Some(got.clone());
                got
            }
        }
        None => (
            match &spec.username {
                Some(t) => render(t, ctx.vars, "username")?,
                None => credential(ctx, "security_no")?,
            },
            match &spec.password {
                Some(t) => render(t, ctx.vars, "password")?,
                None => credential(ctx, "password")?,
            },
        ),
    })
}

/// The `<wsse:Security>` header for one request.
pub async fn header(spec: &WssSpec, ctx: &mut AuthContext<'_>) -> Result<String, AuthError> {
    let (username, password) = credentials(spec, ctx).await?;
    let nonce = match &spec.nonce {
        TokenPart::Fixed(t) => Some(render(t, ctx.vars, "nonce")?),
        TokenPart::On => Some(fresh_nonce()),
        TokenPart::Auto if spec.digest => Some(fresh_nonce()),
        _ => None,
    };
    let now = Utc::now();
    let stamp = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let created = match &spec.created {
        TokenPart::Fixed(t) => Some(render(t, ctx.vars, "created")?),
        TokenPart::OffsetSeconds(s) => Some(stamp(now + Duration::seconds(*s))),
        TokenPart::On => Some(stamp(now)),
        TokenPart::Auto if spec.digest => Some(stamp(now)),
        _ => None,
    };
    let ns = match &spec.namespace {
        Some(t) => render(t, ctx.vars, "namespace")?,
        None => WSSE.to_owned(),
    };
    let (kind, secret) = if spec.digest {
        (
            PASSWORD_DIGEST,
            digest(nonce.as_deref(), created.as_deref(), &password),
        )
    } else {
        (PASSWORD_TEXT, password)
    };
    let must = if spec.must_understand {
        " soapenv:mustUnderstand=\"1\""
    } else {
        ""
    };
    let mut out = format!(
        "<wsse:Security xmlns:wsse=\"{}\" xmlns:wsu=\"{WSU}\"{must}><wsse:UsernameToken>\
         <wsse:Username>{}</wsse:Username><wsse:Password Type=\"{kind}\">{}</wsse:Password>",
        escape(&ns),
        escape(&username),
        escape(&secret)
    );
    if let Some(n) = &nonce {
        out.push_str(&format!(
            "<wsse:Nonce EncodingType=\"{BASE64_BINARY}\">{}</wsse:Nonce>",
            escape(n)
        ));
    }
    if let Some(c) = &created {
        out.push_str(&format!("<wsu:Created>{}</wsu:Created>", escape(c)));
    }
    out.push_str("</wsse:UsernameToken></wsse:Security>");
    Ok(out)
}

fn fresh_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `Base64(SHA-1(nonce + created + password))`, the nonce decoded from
/// base64 (or taken as text when it is not base64).
pub fn digest(nonce: Option<&str>, created: Option<&str>, password: &str) -> String {
    let mut h = Sha1::new();
    if let Some(n) = nonce {
        match base64::engine::general_purpose::STANDARD.decode(n) {
            Ok(raw) => h.update(raw),
            Err(_) => h.update(n.as_bytes()),
        }
    }
    if let Some(c) = created {
        h.update(c.as_bytes());
    }
    h.update(password.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// Calls `LoginService.login2` and returns the securityId and token.
async fn login2(
    ctx: &AuthContext<'_>,
    user: &str,
    password: &str,
) -> Result<(String, String), AuthError> {
    let ns = crate::soap::target_namespace(ctx.target.profile).ok_or_else(|| {
        fail(format!(
            "the {} profile has no SOAP services",
            ctx.target.profile
        ))
    })?;
    let args = [
        ("arg0".to_owned(), Value::String(user.to_owned())),
        ("arg1".to_owned(), Value::String(password.to_owned())),
    ];
    let refs: Vec<&(String, Value)> = args.iter().collect();
    let body = crate::soap::envelope(ns, "login2", &refs, None);
    let req = HttpRequest {
        method: "POST".into(),
        url: ctx.target.url("/ws/LoginService"),
        headers: vec![
            ("Content-Type".into(), "text/xml; charset=UTF-8".into()),
            ("SOAPAction".into(), "\"\"".into()),
        ],
        body: Some(body.into()),
    };
    let resp = ctx
        .transport
        .send(&req)
        .await
        .map_err(|e| fail(format!("LoginService.login2: {e}")))?;
    let text = resp.text();
    let doc = parse_response(&text).map_err(|e| fail(format!("LoginService.login2: {e}")))?;
    if let Some(f) = crate::soap::fault(&doc) {
        return Err(fail(format!(
            "LoginService.login2 refused the login ({}: {})",
            f.code_text, f.string
        )));
    }
    let value = |path: &str| -> Result<String, AuthError> {
        let p = XmlPath::parse(path).map_err(fail)?;
        p.select(&doc, ns)
            .first()
            .map(|n| element_text(*n))
            .ok_or_else(|| fail(format!("LoginService.login2 answered without {path}")))
    };
    Ok((
        value("return/securityId")?,
        value("return/securityTokenKey")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_follow_the_username_token_profile() {
        // Base64(SHA-1(nonce + created + password)), from the OASIS profile's
        // construction; the same inputs always give the same digest.
        let a = digest(Some("bm9uY2U="), Some("2026-01-01T00:00:00Z"), "secret");
        assert_eq!(
            a,
            digest(Some("bm9uY2U="), Some("2026-01-01T00:00:00Z"), "secret")
        );
        assert_ne!(
            a,
            digest(Some("bm9uY2U="), Some("2026-01-01T00:00:01Z"), "secret")
        );
        let mut h = Sha1::new();
        h.update(b"nonce2026-01-01T00:00:00Zsecret");
        assert_eq!(
            a,
            base64::engine::general_purpose::STANDARD.encode(h.finalize())
        );
    }
}
