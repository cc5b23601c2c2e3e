//! Target files (`targets/staging.yaml`): a live server, how to reach it,
//! and the *names* of the environment variables that hold its secrets.
//!
//! A target file produces the same credentials document the mock serves at
//! `/__admin/credentials`, filled from the environment, so every auth
//! driver that reads the credentials document works on live targets
//! unchanged. Pre-provisioned tokens go under `credentials.tokens` (see
//! [`super::tokens`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use emr_catalog::{Api, Catalog, ProfileId};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::net::{NetSettings, RateLimiter, RetryPolicy};
use crate::redact::is_secret_key;
use crate::target::{Target, TargetKind};

/// Requests per second on a live target unless the file says otherwise.
pub const DEFAULT_RATE_LIMIT: f64 = 5.0;
/// Retries of an idempotent read on a live target unless the file says
/// otherwise.
pub const DEFAULT_RETRIES: u32 = 2;

/// A target file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    /// A short name for reports and the token store; defaults to the
    /// file's stem.
    #[serde(default)]
    pub name: Option<String>,
    /// The server's base URL, with or without the context path.
    pub url: String,
    pub profile: ProfileId,
    /// The server's variant or version as reports should name it
    /// (`OSCAR 19.12, build 2024-03`).
    #[serde(default)]
    pub variant: Option<String>,
    /// Overrides the profile's context path (`/oscar`).
    #[serde(default)]
    pub context: Option<String>,
    /// The OpenEMR multisite name (`default`).
    #[serde(default)]
    pub site: Option<String>,
    /// Only these services run: API kinds (`rest`, `soap`, `fhir`,
    /// `portal`, `auth`) or service names (`DemographicService`).
    #[serde(default)]
    pub services: Option<Vec<String>>,
    /// Requests per second (default 5).
    #[serde(default)]
    pub rate_limit: Option<f64>,
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
    #[serde(default)]
    pub connect_timeout_seconds: Option<f64>,
    /// Retries of a GET/HEAD that got no answer or a 429/502/503/504
    /// (default 2); writes are never retried.
    #[serde(default)]
    pub retries: Option<u32>,
    /// This target never gets writes, whatever the command line says.
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub tls: TlsSettings,
    /// Redact personal data from snapshots and reports (default true).
    #[serde(default)]
    pub redact_personal_data: Option<bool>,
    #[serde(default)]
    pub auth: AuthSettings,
    /// The credentials document; a `{env: NAME}` leaf is read from the
    /// environment variable NAME.
    #[serde(default)]
    pub credentials: Option<serde_yaml::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// Accept invalid certificates (a warning is printed).
    #[serde(default)]
    pub insecure: bool,
    /// Extra trusted CA certificates (PEM), relative to the target file.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// Settings of `emr-conformance auth`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// The loopback port of the redirect URI registered with the server
    /// (`http://127.0.0.1:PORT/callback`); 0 or absent picks a free one.
    #[serde(default)]
    pub redirect_port: Option<u16>,
    /// Which interactive flow to run, when the profile has several.
    #[serde(default)]
    pub driver: Option<String>,
}

/// Why a target cannot be used; the CLI exits 2 with it.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct TargetError(pub String);

/// A live target as resolved from a file or a URL, before its secrets are
/// read.
#[derive(Debug, Clone)]
pub struct LiveTarget {
    pub name: String,
    pub url: String,
    pub profile: ProfileId,
    pub variant: Option<String>,
    pub context: Option<String>,
    pub site: Option<String>,
    pub services: Option<Vec<String>>,
    pub rate_limit: Option<f64>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retries: u32,
    pub read_only: bool,
    pub insecure: bool,
    pub ca_file: Option<PathBuf>,
    pub redact_personal: bool,
    pub auth: AuthSettings,
    pub credentials: Option<serde_yaml::Value>,
}

impl TargetFile {
    /// Reads and checks a target file; errors are `file:line:column: ...`.
    pub fn load(path: &Path) -> Result<LiveTarget, TargetError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| TargetError(format!("{}: cannot read: {e}", path.display())))?;
        let file: TargetFile = serde_yaml::from_str(&text).map_err(|e| {
            let pos = e
                .location()
                .map(|l| format!(":{}:{}", l.line(), l.column()))
                .unwrap_or_default();
            TargetError(format!("{}{pos}: {e}", path.display()))
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "target".into());
        let t = LiveTarget {
            name: file.name.unwrap_or(stem),
            url: file.url,
            profile: file.profile,
            variant: file.variant,
            context: file.context,
            site: file.site,
            services: file.services,
            rate_limit: file.rate_limit,
            timeout: seconds(file.timeout_seconds, 30.0, "timeout_seconds")?,
            connect_timeout: seconds(
                file.connect_timeout_seconds,
                10.0,
                "connect_timeout_seconds",
            )?,
            retries: file.retries.unwrap_or(DEFAULT_RETRIES),
            read_only: file.read_only,
            insecure: file.tls.insecure,
            ca_file: file.tls.ca_file.map(|p| dir.join(p)),
            redact_personal: file.redact_personal_data.unwrap_or(true),
            auth: file.auth,
            credentials: file.credentials,
        };
        t.check()
            .map_err(|e| TargetError(format!("{}: {e}", path.display())))?;
        Ok(t)
    }
}

fn seconds(v: Option<f64>, default: f64, what: &str) -> Result<Duration, TargetError> {
    let s = v.unwrap_or(default);
    if s.is_finite() && s > 0.0 && s < 86_400.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(TargetError(format!(
            "`{what}` must be a positive number of seconds"
        )))
    }
}

impl LiveTarget {
    /// A target given on the command line as a URL and a profile.
    pub fn from_url(url: &str, profile: ProfileId) -> Result<LiveTarget, TargetError> {
        let t = LiveTarget {
            name: String::new(),
            url: url.to_owned(),
            profile,
            variant: None,
            context: None,
            site: None,
            services: None,
            rate_limit: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retries: DEFAULT_RETRIES,
            read_only: false,
            insecure: false,
            ca_file: None,
            redact_personal: true,
            auth: AuthSettings::default(),
            credentials: None,
        };
        t.check()?;
        Ok(LiveTarget {
            name: t.store_key(),
            ..t
        })
    }

    fn check(&self) -> Result<(), TargetError> {
        let url = url::Url::parse(&self.url)
            .map_err(|e| TargetError(format!("`url` `{}` is not a URL: {e}", self.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TargetError(format!("`url` `{}` must be http(s)", self.url)));
        }
        if let Some(r) = self.rate_limit {
            if RateLimiter::per_second(r).is_none() {
                return Err(TargetError(
                    "`rate_limit` must be a positive number of requests per second".into(),
                ));
            }
        }
        if let Some(services) = &self.services {
            let catalog = Catalog::of(self.profile);
            for s in services {
                let known = Api::ALL.iter().any(|a| a.as_str() == s)
                    || catalog
                        .operations()
                        .iter()
                        .any(|o| o.group.eq_ignore_ascii_case(s));
                if !known {
                    return Err(TargetError(format!(
                        "`services`: `{s}` is neither an API kind (rest, soap, fhir, portal, auth) nor a service of the {} catalogue",
                        self.profile
                    )));
                }
            }
        }
        if let Some(c) = &self.context {
            if !c.is_empty() && !c.starts_with('/') {
                return Err(TargetError(format!("`context` `{c}` must start with `/`")));
            }
        }
        Ok(())
    }

    /// The name tokens are stored under: the target's name, else the
    /// URL's host, port and path.
    pub fn store_key(&self) -> String {
        if !self.name.is_empty() {
            return sanitize(&self.name);
        }
        let key = url::Url::parse(&self.url)
            .map(|u| {
                format!(
                    "{}_{}{}",
                    u.host_str().unwrap_or("host"),
                    u.port_or_known_default().unwrap_or(0),
                    u.path().trim_end_matches('/')
                )
            })
            .unwrap_or_else(|_| self.url.clone());
        sanitize(&key)
    }

    /// The credentials document: the file's `credentials` with every
    /// `{env: NAME}` read from `env`. Every missing variable is named at
    /// once; a secret written as a literal is refused.
    pub fn credentials_document(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Value, TargetError> {
        let mut missing = Vec::new();
        let mut literal = Vec::new();
        let mut doc = match &self.credentials {
            Some(v) => resolve(v, "credentials", false, env, &mut missing, &mut literal)?,
            None => Value::Object(Map::new()),
        };
        if !literal.is_empty() {
            return Err(TargetError(format!(
                "secrets must not be written in a target file: put them in environment variables and write `{{env: NAME}}` at {}",
                literal.join(", ")
            )));
        }
        if !missing.is_empty() {
            missing.sort();
            missing.dedup();
            return Err(TargetError(format!(
                "the target needs these environment variables, which are not set: {}",
                missing.join(", ")
            )));
        }
        let Value::Object(map) = &mut doc else {
            return Err(TargetError("`credentials` must be a map".into()));
        };
        map.insert("profile".into(), Value::String(self.profile.to_string()));
        Ok(doc)
    }

    /// The harness's target, with `credentials` as its credentials
    /// document.
    pub fn to_target(&self, credentials: Value) -> Result<Target, TargetError> {
        let mut target = Target::new(TargetKind::Live, self.profile, &self.url, credentials);
        if let Some(c) = &self.context {
            target.context = c.trim_end_matches('/').to_owned();
        }
        // A URL that already ends with the context is the webapp's base.
        if !target.context.is_empty() && target.root.ends_with(&target.context) {
            target
                .root
                .truncate(target.root.len() - target.context.len());
        }
        if let Some(s) = &self.site {
            target.site = s.clone();
        }
        target.services = self.services.clone();
        target.timeout = self.timeout;
        let ca_pem = match &self.ca_file {
            Some(p) => Some(Arc::new(std::fs::read(p).map_err(|e| {
                TargetError(format!("`tls.ca_file` {}: {e}", p.display()))
            })?)),
            None => None,
        };
        target.net = NetSettings {
            connect_timeout: self.connect_timeout,
            rate_limit: RateLimiter::per_second(self.rate_limit.unwrap_or(DEFAULT_RATE_LIMIT))
                .map(Arc::new),
            retries: RetryPolicy::with_retries(self.retries),
            insecure: self.insecure,
            ca_pem,
        };
        Ok(target)
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn valid_env_name(n: &str) -> bool {
    !n.is_empty()
        && !n.starts_with(|c: char| c.is_ascii_digit())
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Turns the YAML tree into JSON, reading `{env: NAME}` leaves.
fn resolve(
    v: &serde_yaml::Value,
    at: &str,
    secret: bool,
    env: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<String>,
    literal: &mut Vec<String>,
) -> Result<Value, TargetError> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Mapping(m) => {
            if m.len() == 1 {
                if let Some(Y::String(name)) = m.get("env") {
                    if !valid_env_name(name) {
                        return Err(TargetError(format!(
                            "{at}: `{name}` is not an environment variable name"
                        )));
                    }
                    return Ok(match env(name) {
                        Some(value) => Value::String(value),
                        None => {
                            missing.push(name.clone());
                            Value::Null
                        }
                    });
                }
            }
            let mut out = Map::new();
            for (k, x) in m {
                let key = match k {
                    Y::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                };
                let is_secret = secret || is_secret_key(&key) || key == "value";
                let value = resolve(x, &format!("{at}.{key}"), is_secret, env, missing, literal)?;
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Y::Sequence(s) => Value::Array(
            s.iter()
                .enumerate()
                .map(|(i, x)| resolve(x, &format!("{at}[{i}]"), secret, env, missing, literal))
                .collect::<Result<_, _>>()?,
        ),
        Y::String(s) if secret && !s.is_empty() => {
            literal.push(format!("`{at}`"));
            Value::String(s.clone())
        }
        Y::Number(n) if secret => {
            literal.push(format!("`{at}`"));
            serde_json::to_value(n).unwrap_or(Value::Null)
        }
        other => serde_json::to_value(other)
            .map_err(|e| TargetError(format!("{at}: not representable as JSON: {e}")))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("staging.yaml");
        std::fs::write(&p, text).unwrap();
        p
    }

    const FILE: &str = r#"
url: https://staging.clinic.example/oscar
profile: oscar
variant: OSCAR 19.12 staging
services: [rest, DemographicService]
rate_limit: 2
timeout_seconds: 15
retries: 1
credentials:
  users:
    - username: {env: T_USER}
      password: {env: T_PASSWORD}
      pin: {env: T_PIN}
      security_no: 128
  tokens:
    oauth1: {token: {env: T_TOKEN}, token_secret: {env: T_TOKEN_SECRET}}
"#;

    fn env(name: &str) -> Option<String> {
        match name {
            "T_USER" => Some("drsmith".into()),
            "T_PASSWORD" => Some("correct horse".into()),
            "T_PIN" => Some("4321".into()),
            "T_TOKEN" => Some("tok".into()),
            "T_TOKEN_SECRET" => Some("toksecret".into()),
            _ => None,
        }
    }

    #[test]
    fn a_target_file_yields_the_credentials_document_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let t = TargetFile::load(&write(dir.path(), FILE)).unwrap();
        assert_eq!(t.name, "staging");
        let doc = t.credentials_document(&env).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({
                "users": [{"username": "drsmith", "password": "correct horse", "pin": "4321", "security_no": 128}],
                "tokens": {"oauth1": {"token": "tok", "token_secret": "toksecret"}},
                "profile": "oscar"
            })
        );
        let target = t.to_target(doc).unwrap();
        assert_eq!(target.root, "https://staging.clinic.example");
        assert_eq!(target.context, "/oscar");
        assert_eq!(target.timeout, Duration::from_secs(15));
        assert_eq!(target.net.retries.max_retries, 1);
        assert_eq!(
            target.net.rate_limit.as_ref().unwrap().interval(),
            Duration::from_millis(500)
        );
        assert_eq!(target.services.as_deref().unwrap().len(), 2);
    }

    #[test]
    fn missing_variables_are_all_named_and_never_valued() {
        let dir = tempfile::tempdir().unwrap();
        let t = TargetFile::load(&write(dir.path(), FILE)).unwrap();
        let e = t
            .credentials_document(&|n| (n == "T_USER").then(|| "x".into()))
            .unwrap_err();
        assert_eq!(
            e.0,
            "the target needs these environment variables, which are not set: T_PASSWORD, T_PIN, T_TOKEN, T_TOKEN_SECRET"
        );
    }

    #[test]
    fn literal_secrets_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let t = TargetFile::load(&write(
            dir.path(),
            "url: https://x.example\nprofile: openemr\ncredentials:\n  sites:\n    default:\n      users: [{username: admin, password: pass}]\n",
        ))
        .unwrap();
        let e = t.credentials_document(&env).unwrap_err();
        assert!(
            e.0.contains("secrets must not be written in a target file"),
            "{e}"
        );
        assert!(
            e.0.contains("`credentials.sites.default.users[0].password`"),
            "{e}"
        );
        assert!(!e.0.contains("pass`,") && !e.0.ends_with("pass"), "{e}");
    }

    #[test]
    fn bad_files_say_where_and_what() {
        let dir = tempfile::tempdir().unwrap();
        let e = TargetFile::load(&write(
            dir.path(),
            "url: https://x\nprofile: oscar\nrate_limt: 3\n",
        ))
        .unwrap_err();
        assert!(
            e.0.contains("staging.yaml:3:1: unknown field `rate_limt`"),
            "{e}"
        );
        let e = TargetFile::load(&write(dir.path(), "url: ftp://x\nprofile: oscar\n")).unwrap_err();
        assert!(e.0.contains("must be http(s)"), "{e}");
        let e = TargetFile::load(&write(
            dir.path(),
            "url: https://x\nprofile: oscar\nservices: [sopa]\n",
        ))
        .unwrap_err();
        assert!(e.0.contains("`sopa` is neither an API kind"), "{e}");
        let e = TargetFile::load(&write(
            dir.path(),
            "url: https://x\nprofile: oscar\nrate_limit: 0\n",
        ))
        .unwrap_err();
        assert!(e.0.contains("`rate_limit` must be a positive"), "{e}");
        let e = TargetFile::load(&write(
            dir.path(),
            "url: https://x\nprofile: oscar\ntls: {ca_file: nope.pem}\n",
        ))
        .unwrap()
        .to_target(Value::Null)
        .unwrap_err();
        assert!(e.0.contains("`tls.ca_file`"), "{e}");
    }

    #[test]
    fn url_targets_have_a_store_key() {
        let t = LiveTarget::from_url("https://emr.example:8443/oscar/", ProfileId::Oscar).unwrap();
        assert_eq!(t.store_key(), "emr.example_8443_oscar");
        assert!(LiveTarget::from_url("mock", ProfileId::Oscar).is_err());
    }
}
