//! Options of the OSCAR auth drivers (`auth: {oauth1: {...}}`,
//! `auth: {session: {...}}`), documented in `docs/scenarios.md`.
//!
//! Unknown keys, unknown values and combinations that cannot work are
//! load errors with a location, like everything else in a scenario.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::template::Template;

/// Which credentials sign the step's request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Leg {
    /// Sign with an access token: `token`/`token_secret` if given, else
    /// the scenario's cached one, running the three-legged flow first.
    #[default]
    Resource,
    /// The first leg: consumer credentials and `oauth_callback`.
    Initiate,
    /// The consent step: the driver opens the consent page for `token`,
    /// logs in and fills the step's request with the consent form.
    Authorize,
    /// The third leg: `token`, `token_secret` and `verifier`.
    Token,
}

/// What the user answers on the consent page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Consent {
    #[default]
    Allow,
    Deny,
}

/// Where the `oauth_*` parameters travel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// `Authorization: OAuth ...` (RFC 5849 3.5.1).
    #[default]
    Header,
    /// The query string (3.5.3).
    Query,
    /// A form-encoded body (3.5.2), as Open-O's Postman collection sends them.
    Form,
}

/// `oauth_signature_method`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum SignatureMethodName {
    #[default]
    #[serde(rename = "HMAC-SHA1")]
    HmacSha1,
    #[serde(rename = "PLAINTEXT")]
    Plaintext,
}

/// A client of the credentials document: its index or its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientRef {
    Index(usize),
    Name(String),
}

impl<'de> Deserialize<'de> for ClientRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ClientRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the index or the name of a client in `credentials.oauth1.clients`")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ClientRef, E> {
                usize::try_from(v)
                    .map(ClientRef::Index)
                    .map_err(|_| E::custom("client index too large"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ClientRef, E> {
                u64::try_from(v)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
                    .and_then(|u| self.visit_u64(u))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ClientRef, E> {
                Ok(ClientRef::Name(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `auth: {oauth1: {...}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuth1Options {
    pub leg: Leg,
    pub client: Option<ClientRef>,
    pub consumer_key: Option<Template>,
    pub consumer_secret: Option<Template>,
    pub user: Option<Template>,
    pub callback: Option<Template>,
    pub scope: Option<Template>,
    pub consent: Consent,
    pub token: Option<Template>,
    pub token_secret: Option<Template>,
    pub verifier: Option<Template>,
    pub placement: Placement,
    pub signature_method: SignatureMethodName,
    pub corrupt_signature: bool,
    pub timestamp: Option<Template>,
    pub timestamp_offset: i64,
    pub nonce: Option<Template>,
    pub version: bool,
    pub fresh: bool,
}

impl Default for OAuth1Options {
    fn default() -> Self {
        OAuth1Options {
            leg: Leg::Resource,
            client: None,
            consumer_key: None,
            consumer_secret: None,
            user: None,
            callback: None,
            scope: None,
            consent: Consent::Allow,
            token: None,
            token_secret: None,
            verifier: None,
            placement: Placement::Header,
            signature_method: SignatureMethodName::HmacSha1,
            corrupt_signature: false,
            timestamp: None,
            timestamp_offset: 0,
            nonce: None,
            version: true,
            fresh: false,
        }
    }
}

pub const OAUTH1_KEYS: &[&str] = &[
    "leg",
    "client",
    "consumer_key",
    "consumer_secret",
    "user",
    "callback",
    "scope",
    "consent",
    "token",
    "token_secret",
    "verifier",
    "placement",
    "signature_method",
    "corrupt_signature",
    "timestamp",
    "timestamp_offset",
    "nonce",
    "version",
    "fresh",
];

impl OAuth1Options {
    pub fn templates(&self) -> Vec<&Template> {
        [
            &self.consumer_key,
            &self.consumer_secret,
            &self.user,
            &self.callback,
            &self.scope,
            &self.token,
            &self.token_secret,
            &self.verifier,
            &self.timestamp,
            &self.nonce,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Combinations that cannot work, refused when the file loads.
    fn check(&self) -> Result<(), String> {
        let leg = match self.leg {
            Leg::Resource => "resource",
            Leg::Initiate => "initiate",
            Leg::Authorize => "authorize",
            Leg::Token => "token",
        };
        let only = |present: bool, key: &str, legs: &[Leg], which: &str| {
            if present && !legs.contains(&self.leg) {
                Err(format!("`{key}` applies to {which}, not to `leg: {leg}`"))
            } else {
                Ok(())
            }
        };
        only(
            self.verifier.is_some(),
            "verifier",
            &[Leg::Token],
            "`leg: token`",
        )?;
        only(
            self.callback.is_some(),
            "callback",
            &[Leg::Initiate, Leg::Resource],
            "`leg: initiate` and the flow of `leg: resource`",
        )?;
        only(
            self.scope.is_some(),
            "scope",
            &[Leg::Initiate, Leg::Resource],
            "`leg: initiate` and the flow of `leg: resource`",
        )?;
        only(
            self.consent == Consent::Deny,
            "consent: deny",
            &[Leg::Authorize],
            "`leg: authorize` (a denied flow yields no token to sign with)",
        )?;
        only(
            self.user.is_some(),
            "user",
            &[Leg::Authorize, Leg::Resource],
            "`leg: authorize` and the flow of `leg: resource`",
        )?;
        only(self.fresh, "fresh", &[Leg::Resource], "`leg: resource`")?;
        match self.leg {
            Leg::Initiate if self.token.is_some() || self.token_secret.is_some() => {
                return Err("`leg: initiate` signs with the consumer only; remove `token`".into())
            }
            Leg::Token if self.token.is_none() || self.token_secret.is_none() => {
                return Err(
                    "`leg: token` needs the request token: `token` and `token_secret`".into(),
                )
            }
            Leg::Authorize if self.token.is_none() => {
                return Err("`leg: authorize` needs the request token to authorize: `token`".into())
            }
            Leg::Resource if self.token.is_some() != self.token_secret.is_some() => {
                return Err("an access token needs both `token` and `token_secret`".into())
            }
            _ => {}
        }
        if self.fresh && self.token.is_some() {
            return Err("`fresh` runs a new flow; it cannot be combined with `token`".into());
        }
        if self.timestamp.is_some() && self.timestamp_offset != 0 {
            return Err("give `timestamp` or `timestamp_offset`, not both".into());
        }
        if self.consumer_key.is_some() != self.consumer_secret.is_some() {
            return Err("give both `consumer_key` and `consumer_secret`".into());
        }
        if self.consumer_key.is_some() && self.client.is_some() {
            return Err("give `client` or `consumer_key`/`consumer_secret`, not both".into());
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for OAuth1Options {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OAuth1Options;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of `oauth1` options (or nothing, for the defaults)")
            }
            fn visit_unit<E: de::Error>(self) -> Result<OAuth1Options, E> {
                Ok(OAuth1Options::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OAuth1Options, A::Error> {
                let mut o = OAuth1Options::default();
                let mut seen: Vec<String> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if seen.contains(&key) {
                        return Err(de::Error::custom(format!("`{key}` is given twice")));
                    }
                    match key.as_str() {
                        "leg" => o.leg = map.next_value()?,
                        "client" => o.client = Some(map.next_value()?),
                        "consumer_key" => o.consumer_key = Some(map.next_value()?),
                        "consumer_secret" => o.consumer_secret = Some(map.next_value()?),
                        "user" => o.user = Some(map.next_value()?),
                        "callback" => o.callback = Some(map.next_value()?),
                        "scope" => o.scope = Some(map.next_value()?),
                        "consent" => o.consent = map.next_value()?,
                        "token" => o.token = Some(map.next_value()?),
                        "token_secret" => o.token_secret = Some(map.next_value()?),
                        "verifier" => o.verifier = Some(map.next_value()?),
                        "placement" => o.placement = map.next_value()?,
                        "signature_method" => o.signature_method = map.next_value()?,
                        "corrupt_signature" => o.corrupt_signature = map.next_value()?,
                        "timestamp" => o.timestamp = Some(map.next_value()?),
                        "timestamp_offset" => o.timestamp_offset = map.next_value()?,
                        "nonce" => o.nonce = Some(map.next_value()?),
                        "version" => o.version = map.next_value()?,
                        "fresh" => o.fresh = map.next_value()?,
                        other => return Err(de::Error::unknown_field(other, OAUTH1_KEYS)),
                    }
                    seen.push(key);
                }
                o.check()
                    .map_err(|e| de::Error::custom(format!("`oauth1`: {e}")))?;
                Ok(o)
            }
        }
        d.deserialize_any(V)
    }
}

/// `auth: {session: {...}}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionOptions {
    /// Who logs in (a `credentials.users[].username`); the first user by
    /// default.
    pub user: Option<Template>,
    /// Log in as the consent page does (`ajaxResponse=true`, JSON answer)
    /// instead of as the browser login form does (302).
    pub ajax: bool,
}

impl<'de> Deserialize<'de> for SessionOptions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SessionOptions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of `session` options: `user`, `ajax`")
            }
            fn visit_unit<E: de::Error>(self) -> Result<SessionOptions, E> {
                Ok(SessionOptions::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SessionOptions, A::Error> {
                let mut o = SessionOptions::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "user" => o.user = Some(map.next_value()?),
                        "ajax" => o.ajax = map.next_value()?,
                        other => return Err(de::Error::unknown_field(other, &["user", "ajax"])),
                    }
                }
                Ok(o)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn errors(auth: &str) -> Vec<String> {
        let text = format!(
            "name: x\nprofile: oscar\nauth: {auth}\nsteps:\n  - request: {{path: /ws/rs/status/checkIfAuthed}}\n"
        );
        match crate::scenario::parse(Path::new("s.yaml"), "s".into(), &text) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn drivers_load_with_defaults_or_options() {
        assert!(errors("oauth1").is_empty());
        assert!(errors("session").is_empty());
        assert!(errors("{session: {user: oscardoc, ajax: true}}").is_empty());
        assert!(
            errors("{oauth1: {placement: query, signature_method: PLAINTEXT, client: 1}}")
                .is_empty()
        );
        assert!(
            errors("{oauth1: {leg: token, token: t, token_secret: s, verifier: v}}").is_empty()
        );
    }

    #[test]
    fn mistakes_are_located_and_explained() {
        let e = errors("{oauth1: {placment: query}}");
        assert!(e[0].starts_with("s.yaml:3:"), "{e:?}");
        assert!(e[0].contains("unknown field `placment`"), "{e:?}");
        let e = errors("{oauth1: {placement: body}}");
        assert!(e[0].contains("unknown variant `body`"), "{e:?}");
        let e = errors("{oauth1: {signature_method: RSA-SHA1}}");
        assert!(e[0].contains("unknown variant `RSA-SHA1`"), "{e:?}");
        let e = errors("{oauth1: {leg: token, token: t}}");
        assert!(e[0].contains("`token` and `token_secret`"), "{e:?}");
        let e = errors("{oauth1: {consent: deny}}");
        assert!(e[0].contains("`leg: authorize`"), "{e:?}");
        let e = errors("{oauth1: {verifier: v}}");
        assert!(e[0].contains("`verifier` applies to `leg: token`"), "{e:?}");
        let e = errors("{oauth1: {timestamp: '1', timestamp_offset: 5}}");
        assert!(e[0].contains("not both"), "{e:?}");
        let e = errors("{oauth1: {consumer_key: k}}");
        assert!(
            e[0].contains("both `consumer_key` and `consumer_secret`"),
            "{e:?}"
        );
        let e = errors("{oauth1: {token: '{{nope}}', token_secret: s}}");
        assert!(e[0].contains("variable `nope` is not defined"), "{e:?}");
        let e = errors("{session: {who: x}}");
        assert!(e[0].contains("unknown field `who`"), "{e:?}");
    }
}
