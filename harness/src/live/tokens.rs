//! Pre-provisioned tokens (way (c) of getting authorized on a live
//! server), and tokens stored by `emr-conformance auth` (way (b)).
//!
//! Both arrive in the credentials document under `tokens.<driver>`; an
//! auth driver that finds its entry there uses it instead of running its
//! flow. The shapes, one per protocol:
//!
//! ```yaml
//! tokens:
//!   oauth1:  {token: ..., token_secret: ..., consumer_key: ..., consumer_secret: ...}
//!   oauth2:  {access_token: ..., refresh_token: ..., expires_at: 1767225600, scope: ...}
//!   session: {name: JSESSIONID, value: ...}
//! ```
//!
//! The consumer/client fields are optional: without them the driver takes
//! its client from the rest of the credentials document.

use serde::Deserialize;
use serde_json::Value;

/// An OAuth 1.0a access token (OSCAR `/ws/services`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OAuth1Token {
    pub token: String,
    pub token_secret: String,
    #[serde(default)]
    pub consumer_key: Option<String>,
    #[serde(default)]
    pub consumer_secret: Option<String>,
}

/// An OAuth2 bearer token (OpenEMR).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BearerToken {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Seconds since the epoch.
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
}

impl BearerToken {
    /// Expired at `now` (seconds since the epoch), with a minute's margin.
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= now + 60)
    }
}

/// A logged-in session cookie (OSCAR `/ws/rs`, OpenEMR portal).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SessionCookie {
    pub name: String,
    pub value: String,
}

/// The raw entry of a driver in `credentials.tokens`.
pub fn entry<'a>(credentials: &'a Value, driver: &str) -> Option<&'a Value> {
    credentials
        .get("tokens")?
        .get(driver)
        .filter(|v| !v.is_null())
}

fn typed<T: for<'de> Deserialize<'de>>(
    credentials: &Value,
    driver: &str,
) -> Result<Option<T>, String> {
    entry(credentials, driver)
        .map(|v| {
            serde_json::from_value(v.clone())
                .map_err(|e| format!("credentials.tokens.{driver}: {e}"))
        })
        .transpose()
}

/// `tokens.oauth1`, if provided.
pub fn oauth1(credentials: &Value) -> Result<Option<OAuth1Token>, String> {
    typed(credentials, "oauth1")
}

/// `tokens.oauth2`, if provided.
pub fn oauth2(credentials: &Value) -> Result<Option<BearerToken>, String> {
    typed(credentials, "oauth2")
}

/// `tokens.session`, if provided.
pub fn session(credentials: &Value) -> Result<Option<SessionCookie>, String> {
    typed(credentials, "session")
}

/// Puts `tokens` into the credentials document under `tokens.<driver>`,
/// keeping entries already there (the environment wins over the store).
pub fn merge(credentials: &mut Value, driver: &str, tokens: Value) -> bool {
    if entry(credentials, driver).is_some() {
        return false;
    }
    let Value::Object(doc) = credentials else {
        return false;
    };
    let slot = doc
        .entry("tokens")
        .or_insert_with(|| Value::Object(Default::default()));
    match slot {
        Value::Object(m) => {
            m.insert(driver.to_owned(), tokens);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drivers_read_their_tokens_typed() {
        let doc = json!({"tokens": {
            "oauth1": {"token": "t", "token_secret": "s"},
            "oauth2": {"access_token": "a", "expires_at": 100},
            "session": {"name": "JSESSIONID", "value": "v"}
        }});
        assert_eq!(oauth1(&doc).unwrap().unwrap().token_secret, "s");
        let b = oauth2(&doc).unwrap().unwrap();
        assert!(b.expired(50) && !b.expired(0));
        assert_eq!(session(&doc).unwrap().unwrap().name, "JSESSIONID");
        assert_eq!(oauth1(&json!({})).unwrap(), None);
        let e = oauth1(&json!({"tokens": {"oauth1": {"token": "t"}}})).unwrap_err();
        assert!(
            e.contains("credentials.tokens.oauth1") && e.contains("token_secret"),
            "{e}"
        );
    }

    #[test]
    fn merging_keeps_what_the_environment_provided() {
        let mut doc = json!({"profile": "oscar", "tokens": {"oauth1": {"token": "env"}}});
        assert!(!merge(&mut doc, "oauth1", json!({"token": "stored"})));
        assert!(merge(&mut doc, "oauth2", json!({"access_token": "stored"})));
        assert_eq!(doc["tokens"]["oauth1"]["token"], "env");
        assert_eq!(doc["tokens"]["oauth2"]["access_token"], "stored");
        let mut empty = json!({"profile": "openemr"});
        assert!(merge(&mut empty, "oauth2", json!({"access_token": "x"})));
        assert_eq!(empty["tokens"]["oauth2"]["access_token"], "x");
    }
}
