//! WS-Security UsernameToken as OSCAR checks it: `AuthenticationInWSS4JInterceptor`
//! (WSS4J with action UsernameToken, PasswordText, a no-op password
//! callback) and `OscarUsernameTokenValidator`.
//!
//! - Username is the `security` row number (`security_no`), not a login name.
//! - Password is the login's password or the `securityTokenKey` that
//!   `LoginService.login`/`login2` hand out (boot time plus a rendition of
//!   the stored password hash, so it dies with a restart or a password
//!   change).
//! - PasswordDigest always fails: the callback supplies no password.
//! - A Nonce is remembered for five minutes and refused when replayed; a
//!   Created older than five minutes or more than a minute ahead fails on
//!   WSS4J 2.x (Open-O, Juno) and is not checked by WSS4J 1.6 (OSCAR 19).
//! - A wrong password costs a delay; every attempt is written to the audit
//!   log as `WS_LOGIN_SUCCESS` or `WS_LOGIN_FAILURE`.

use std::collections::{BTreeSet, HashMap};

use super::soap::dom::Node;
use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;
use sha1::{Digest, Sha1};

use super::soap::fault::{SecurityDialect, SecurityFault};
use super::soap::xml::{WSSE, WSU};
use crate::state::AppState;
use crate::store::Login;

pub const PASSWORD_TEXT: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";
pub const PASSWORD_DIGEST: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest";

/// How long a nonce is remembered (WSS4J's default `utTTL`).
const NONCE_TTL_SECONDS: i64 = 300;
/// How far ahead a `Created` may be (WSS4J's default future TTL).
const FUTURE_TTL_SECONDS: i64 = 60;
/// Nonces kept at most; the oldest are forgotten first.
const NONCE_CAPACITY: usize = 100_000;

/// The UsernameToken of a request, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsernameToken {
    pub username: Option<String>,
    pub password: Option<String>,
    /// The `Type` attribute of `Password`; absent means text.
    pub password_type: Option<String>,
    pub nonce: Option<String>,
    pub created: Option<String>,
}

/// Finds `wsse:Security/wsse:UsernameToken` in a SOAP header. A header
/// in another namespace is not a Security header at all.
pub fn token(header: Option<Node>) -> Option<UsernameToken> {
    let security = header?
        .children()
        .find(|c| c.has_tag_name((WSSE, "Security")))?;
    let ut = security
        .children()
        .find(|c| c.has_tag_name((WSSE, "UsernameToken")))?;
    let child = |ns: &str, local: &str| ut.children().find(|c| c.has_tag_name((ns, local)));
    let password = child(WSSE, "Password");
    Some(UsernameToken {
        username: child(WSSE, "Username").map(|n| n.text().trim().to_owned()),
        password: password.map(|n| n.text().to_owned()),
        password_type: password.and_then(|p| p.attribute("Type").map(str::to_owned)),
        nonce: child(WSSE, "Nonce").map(|n| n.text().trim().to_owned()),
        created: child(WSU, "Created").map(|n| n.text().trim().to_owned()),
    })
}

/// How many `wsse:Security` headers address this service (no `actor`).
/// WSS4J refuses a message with more than one (`WSSecurityUtil.getSecurityHeader`
/// throws INVALID_SECURITY: "Two or more security headers have the same
/// actor name"), so a second header cannot smuggle other credentials past
/// the one that is checked.
pub fn security_headers(header: Option<Node>) -> usize {
    header.map_or(0, |h| {
        h.children()
            .filter(|c| {
                c.has_tag_name((WSSE, "Security"))
                    && !c
                        .attributes()
                        .any(|a| a.name() == "actor" || a.name() == "role")
            })
            .count()
    })
}

/// The WS-Security state of one mock: the "JVM start time" tokens are
/// built from, and the nonce replay cache.
#[derive(Debug)]
pub struct WssState {
    boot_ms: i64,
    nonces: Mutex<NonceCache>,
}

#[derive(Debug, Default)]
struct NonceCache {
    expiry: HashMap<String, DateTime<Utc>>,
    by_expiry: BTreeSet<(DateTime<Utc>, String)>,
}

impl NonceCache {
    /// Records a nonce; `false` when it is already there (a replay).
    fn insert(&mut self, nonce: &str, now: DateTime<Utc>) -> bool {
        while let Some(first) = self.by_expiry.first().cloned() {
            if first.0 > now && self.by_expiry.len() < NONCE_CAPACITY {
                break;
            }
            self.by_expiry.remove(&first);
            self.expiry.remove(&first.1);
        }
        if self.expiry.contains_key(nonce) {
            return false;
        }
        let until = now + Duration::seconds(NONCE_TTL_SECONDS);
        self.expiry.insert(nonce.to_owned(), until);
        self.by_expiry.insert((until, nonce.to_owned()));
        true
    }
}

impl WssState {
    pub fn new(now: DateTime<Utc>) -> WssState {
        WssState {
            boot_ms: now.timestamp_millis(),
            nonces: Mutex::new(NonceCache::default()),
        }
    }

    /// Forgets the nonces (admin reset). Tokens stay valid: a reset is
    /// not a restart.
    pub fn reset(&self) {
        *self.nonces.lock() = NonceCache::default();
    }

    /// `WsUtils.generateSecurityToken`: boot time plus a rendition of the
    /// stored password hash.
    pub fn security_token(&self, login: &Login) -> String {
        let hash = stored_hash(&login.password);
        self.boot_ms.wrapping_add(rendition(&hash)).to_string()
    }
}

/// OSCAR 19's stored password: the SHA-1 bytes printed as signed decimals.
fn stored_hash(password: &str) -> String {
    Sha1::digest(password.as_bytes())
        .iter()
        .map(|b| (*b as i8).to_string())
        .collect()
}

/// `WsUtils.getStringAsLongRendition`: each character times a cycling
/// power of 100.
fn rendition(s: &str) -> i64 {
    let mut result: i64 = 0;
    for (i, c) in s.chars().enumerate() {
        let weight = 100i64.pow((i % 6) as u32);
        result = result.wrapping_add(i64::from(u32::from(c)).wrapping_mul(weight));
    }
    result
}

/// Checks a login's password or token as `WsUtils.checkAuthenticationAndSetLoggedInInfo`
/// does: expiry first, then the token, then the password. `false` for a
/// wrong password (the caller delays), `None` when the account is expired.
pub fn credentials_match(state: &AppState, login: &Login, secret: &str) -> Option<bool> {
    let today = state.clock.now().date_naive();
    if login.expires.is_some_and(|d| d < today) {
        return None;
    }
    // The password first: it is a comparison, the token a SHA-1 and a
    // rendition; either one matching is a match.
    Some(secret == login.password || secret == state.soap.wss.security_token(login))
}

/// The outcome of checking a request's WS-Security header.
pub struct Verified {
    pub login: Login,
}

/// Runs the interceptor: verifies the header, sleeps on a wrong password,
/// and audits the attempt. `ip` is the caller's address.
pub async fn authenticate(
    state: &AppState,
    header: Option<Node<'_, '_>>,
    dialect: SecurityDialect,
    ip: Option<&str>,
) -> Result<Verified, SecurityFault> {
    let outcome = check(state, header, dialect);
    match &outcome {
        Ok(v) => {
            state.audit("WS_LOGIN_SUCCESS", Some(&v.login.provider_no), ip, "");
        }
        Err((_, reason, slow)) => {
            if *slow {
                tokio::time::sleep(state.config.wss_failure_delay).await;
            }
            state.audit("WS_LOGIN_FAILURE", None, ip, reason);
        }
    }
    outcome.map_err(|(f, _, _)| f)
}

type Refusal = (SecurityFault, String, bool);

fn check(
    state: &AppState,
    header: Option<Node>,
    dialect: SecurityDialect,
) -> Result<Verified, Refusal> {
    let refuse = |f: SecurityFault, why: &str| (f, why.to_owned(), false);
    if security_headers(header) > 1 {
        return Err(refuse(
            SecurityFault::InvalidSecurity,
            "two or more wsse:Security headers for the same actor",
        ));
    }
    let Some(ut) = token(header) else {
        return Err(refuse(
            SecurityFault::InvalidSecurity,
            "no wsse:Security UsernameToken header",
        ));
    };
    let now = state.clock.now();
    if let Some(nonce) = &ut.nonce {
        if !state.soap.wss.nonces.lock().insert(nonce, now) {
            return Err(refuse(SecurityFault::InvalidSecurity, "replayed nonce"));
        }
    }
    if dialect == SecurityDialect::Wss4j2 {
        if let Some(created) = &ut.created {
            let at = DateTime::parse_from_rfc3339(created)
                .map_err(|_| refuse(SecurityFault::InvalidSecurity, "unreadable Created"))?
                .with_timezone(&Utc);
            if at < now - Duration::seconds(NONCE_TTL_SECONDS) {
                return Err(refuse(SecurityFault::MessageExpired, "stale Created"));
            }
            if at > now + Duration::seconds(FUTURE_TTL_SECONDS) {
                return Err(refuse(
                    SecurityFault::MessageExpired,
                    "Created in the future",
                ));
            }
        }
    }
    let Some(username) = ut.username.as_deref() else {
        return Err(refuse(SecurityFault::InvalidSecurityToken, "no Username"));
    };
    match ut.password_type.as_deref() {
        None | Some(PASSWORD_TEXT) => {}
        Some(PASSWORD_DIGEST) => {
            return Err(refuse(
                SecurityFault::FailedAuthentication,
                "PasswordDigest (the password callback supplies no password)",
            ))
        }
        Some(_) => {
            return Err(refuse(
                SecurityFault::FailedAuthentication,
                "unsupported password type",
            ))
        }
    }
    let Some(password) = ut.password.as_deref() else {
        return Err(refuse(SecurityFault::FailedAuthentication, "no Password"));
    };
    let Ok(security_no) = username.parse::<i64>() else {
        return Err(refuse(
            SecurityFault::FailedAuthentication,
            "Username is not a security number",
        ));
    };
    // A number past `Id`'s range is no one's, as an unknown one.
    let login = crate::store::Id::try_from(security_no).ok().and_then(|id| {
        state
            .default_site()
            .store
            .read(|d| d.logins.get(id).cloned())
    });
    let Some(login) = login else {
        return Err(refuse(
            SecurityFault::FailedAuthentication,
            "unknown security number",
        ));
    };
    match credentials_match(state, &login, password) {
        None => Err(refuse(
            SecurityFault::FailedAuthentication,
            "expired account",
        )),
        Some(false) => Err((
            SecurityFault::FailedAuthentication,
            "wrong password".to_owned(),
            true,
        )),
        Some(true) => Ok(Verified { login }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_follow_the_password_and_the_boot_time() {
        let a = WssState::new(Utc::now());
        let login = Login {
            password: "mac2002#".into(),
            ..Login::default()
        };
        let t = a.security_token(&login);
        assert!(t.chars().all(|c| c.is_ascii_digit() || c == '-'), "{t}");
        assert_eq!(t, a.security_token(&login));
        let changed = Login {
            password: "other".into(),
            ..login.clone()
        };
        assert_ne!(t, a.security_token(&changed));
        let rebooted = WssState {
            boot_ms: a.boot_ms + 1,
            nonces: Mutex::new(NonceCache::default()),
        };
        assert_ne!(t, rebooted.security_token(&login));
        assert_eq!(rendition("ab"), 97 + 98 * 100);
    }

    #[test]
    fn nonces_are_refused_when_replayed_until_they_expire() {
        let mut c = NonceCache::default();
        let now = Utc::now();
        assert!(c.insert("n1", now));
        assert!(!c.insert("n1", now + Duration::seconds(10)));
        assert!(c.insert("n1", now + Duration::seconds(NONCE_TTL_SECONDS + 1)));
    }

    #[test]
    fn a_second_security_header_is_counted_unless_it_names_another_actor() {
        let sec =
            |attrs: &str| format!("<wsse:Security {attrs}><wsse:UsernameToken/></wsse:Security>");
        let doc = |inner: String| {
            format!("<h xmlns:wsse='{WSSE}' xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>{inner}</h>")
        };
        let count = |xml: String| {
            let d = crate::oscar::soap::xml::parse(&xml).unwrap();
            security_headers(Some(d.root_element()))
        };
        assert_eq!(count(doc(sec(""))), 1);
        assert_eq!(count(doc(format!("{}{}", sec(""), sec("")))), 2);
        assert_eq!(
            count(doc(format!("{}{}", sec(""), sec("s:actor='urn:other'")))),
            1
        );
    }

    #[test]
    fn headers_in_another_namespace_are_not_security_headers() {
        let xml = format!(
            "<h><wsse:Security xmlns:wsse='{WSSE}'><wsse:UsernameToken><wsse:Username>128</wsse:Username>\
             <wsse:Password Type='{PASSWORD_DIGEST}'>x</wsse:Password></wsse:UsernameToken></wsse:Security></h>"
        );
        let doc = crate::oscar::soap::xml::parse(&xml).unwrap();
        let t = token(Some(doc.root_element())).unwrap();
        assert_eq!(t.username.as_deref(), Some("128"));
        assert_eq!(t.password_type.as_deref(), Some(PASSWORD_DIGEST));
        let other = xml.replace(WSSE, "http://schemas.xmlsoap.org/ws/2002/07/secext");
        let doc = crate::oscar::soap::xml::parse(&other).unwrap();
        assert!(token(Some(doc.root_element())).is_none());
    }
}
