//! WS-Security mutants: the step's SOAP call with a UsernameToken that is
//! changed, replayed, stale, misplaced or duplicated.

use std::fmt;

use base64::Engine;
use chrono::{Duration, SecondsFormat, Utc};
use proptest::prelude::*;
use proptest::strategy::SBoxedStrategy;
use rand::RngCore;

use super::engine::Sent;
use super::io::Io;
use super::pick;
use crate::auth::wss::{credentials, digest, PASSWORD_DIGEST, PASSWORD_TEXT, WSSE, WSU};
use crate::check::check;
use crate::scenario::{display, Expect, SoapSpec, WssSpec};
use crate::soap::escape;

const KINDS: &[&str] = &[
    "wss.password.changed",
    "wss.username.changed",
    "wss.username.missing",
    "wss.digest.password-digest",
    "wss.nonce.replay",
    "wss.created.stale",
    "wss.created.future",
    "wss.header.missing",
    "wss.header.wrong-namespace",
    "wss.header.duplicated",
];

/// How a password is changed.
#[derive(Debug, Clone)]
pub(crate) enum Edit {
    Replace(usize, char),
    Append(String),
    Cut(usize),
    SwapCase,
    Empty,
}

/// One WS-Security mutation.
#[derive(Debug, Clone)]
pub(crate) enum Mutant {
    Password(Edit),
    UnknownNumber(u64),
    NotANumber(String),
    EmptyUsername,
    OtherUser(usize),
    MissingUsername,
    Digest,
    Replay,
    Created(i64),
    NoHeader,
    Namespace(String),
    /// Two Security headers: which of them carries a wrong password.
    Duplicated {
        first_wrong: bool,
        second_wrong: bool,
    },
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutant::Password(e) => write!(f, "password edited: {e:?}"),
            Mutant::UnknownNumber(n) => write!(f, "Username {n} (no such security number)"),
            Mutant::NotANumber(s) => write!(f, "Username {s:?}"),
            Mutant::EmptyUsername => f.write_str("empty Username"),
            Mutant::OtherUser(i) => write!(f, "another user's security number (#{})", (i % 16)),
            Mutant::MissingUsername => f.write_str("no Username element"),
            Mutant::Digest => f.write_str("a correct PasswordDigest"),
            Mutant::Replay => f.write_str("the same Nonce sent twice"),
            Mutant::Created(s) => write!(f, "Created {s:+} s from now"),
            Mutant::NoHeader => f.write_str("no Security header"),
            Mutant::Namespace(ns) => write!(f, "Security header in namespace {ns:?}"),
            Mutant::Duplicated {
                first_wrong,
                second_wrong,
            } => write!(
                f,
                "two Security headers (first {}, second {})",
                if *first_wrong { "wrong" } else { "valid" },
                if *second_wrong { "wrong" } else { "valid" }
            ),
        }
    }
}

/// A UsernameToken to serialise.
#[derive(Debug, Clone)]
struct Token {
    namespace: String,
    username: Option<String>,
    password: Option<(String, &'static str)>,
    nonce: Option<String>,
    created: Option<String>,
}

impl Token {
    fn xml(&self) -> String {
        let mut out = format!(
            "<wsse:Security xmlns:wsse=\"{}\" xmlns:wsu=\"{WSU}\"><wsse:UsernameToken>",
            escape(&self.namespace)
        );
        if let Some(u) = &self.username {
            out.push_str(&format!("<wsse:Username>{}</wsse:Username>", escape(u)));
        }
        if let Some((p, kind)) = &self.password {
            out.push_str(&format!(
                "<wsse:Password Type=\"{kind}\">{}</wsse:Password>",
                escape(p)
            ));
        }
        if let Some(n) = &self.nonce {
            out.push_str(&format!("<wsse:Nonce>{}</wsse:Nonce>", escape(n)));
        }
        if let Some(c) = &self.created {
            out.push_str(&format!("<wsu:Created>{}</wsu:Created>", escape(c)));
        }
        out.push_str("</wsse:UsernameToken></wsse:Security>");
        out
    }
}

fn fresh_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn stamp(offset_seconds: i64) -> String {
    (Utc::now() + Duration::seconds(offset_seconds)).to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) struct Chan {
    soap: SoapSpec,
    spec: WssSpec,
    username: String,
    password: String,
    /// Other users' security numbers whose password is not ours.
    others: Vec<String>,
    /// Every security number the credentials list.
    known: Vec<String>,
}

impl Chan {
    pub async fn new(soap: &SoapSpec, spec: &WssSpec, io: &mut Io<'_, '_>) -> Result<Chan, String> {
        let (username, password) = credentials(spec, &mut io.auth_ctx())
            .await
            .map_err(|e| e.to_string())?;
        let users = io.target().credentials["users"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let number = |u: &serde_json::Value| display(&u["security_no"]);
        let known: Vec<String> = users.iter().map(number).collect();
        let others = users
            .iter()
            .filter(|u| number(u) != username && display(&u["password"]) != password)
            .map(number)
            .filter(|n| !n.is_empty() && n != "null")
            .collect();
        Ok(Chan {
            soap: soap.clone(),
            spec: spec.clone(),
            username,
            password,
            others,
            known,
        })
    }

    pub fn kinds(&self, _io: &Io<'_, '_>) -> Vec<(&'static str, Option<String>)> {
        KINDS.iter().map(|k| (*k, None)).collect()
    }

    pub fn strategy(&self, kind: &str) -> SBoxedStrategy<Mutant> {
        match kind {
            "wss.password.changed" => prop_oneof![
                (pick(), proptest::char::range('!', '~')).prop_map(|(i, c)| Edit::Replace(i, c)),
                "[ -~]{1,6}".prop_map(Edit::Append),
                pick().prop_map(Edit::Cut),
                Just(Edit::SwapCase),
                Just(Edit::Empty),
            ]
            .prop_map(Mutant::Password)
            .sboxed(),
            "wss.username.changed" => {
                let known = self.known.clone();
                let numbers = (100_000u64..2_000_000_000)
                    .prop_filter("not a known security number", move |n| {
                        !known.contains(&n.to_string())
                    })
                    .prop_map(Mutant::UnknownNumber);
                let text = "[a-zA-Z][a-zA-Z0-9]{0,8}".prop_map(Mutant::NotANumber);
                if self.others.is_empty() {
                    prop_oneof![numbers, text, Just(Mutant::EmptyUsername)].sboxed()
                } else {
                    prop_oneof![
                        numbers,
                        text,
                        Just(Mutant::EmptyUsername),
                        pick().prop_map(Mutant::OtherUser),
                    ]
                    .sboxed()
                }
            }
            "wss.username.missing" => Just(Mutant::MissingUsername).sboxed(),
            "wss.digest.password-digest" => Just(Mutant::Digest).sboxed(),
            "wss.nonce.replay" => Just(Mutant::Replay).sboxed(),
            // WSS4J 2: 300 s to live, 60 s into the future; margins for
            // the clocks.
            "wss.created.stale" => (305i64..1_000_000)
                .prop_map(|s| Mutant::Created(-s))
                .sboxed(),
            "wss.created.future" => (65i64..1_000_000).prop_map(Mutant::Created).sboxed(),
            "wss.header.missing" => Just(Mutant::NoHeader).sboxed(),
            "wss.header.wrong-namespace" => prop_oneof![
                Just("http://schemas.xmlsoap.org/ws/2002/07/secext".to_owned()),
                Just("http://schemas.xmlsoap.org/ws/2003/06/secext".to_owned()),
                Just(WSU.to_owned()),
                "urn:[a-z]{1,8}:[a-z]{1,8}",
            ]
            .prop_map(Mutant::Namespace)
            .sboxed(),
            _ => (any::<bool>(), any::<bool>())
                .prop_map(|(first_wrong, second_wrong)| Mutant::Duplicated {
                    first_wrong,
                    second_wrong,
                })
                .sboxed(),
        }
    }

    fn token(&self) -> Token {
        Token {
            namespace: WSSE.to_owned(),
            username: Some(self.username.clone()),
            password: Some((self.password.clone(), PASSWORD_TEXT)),
            nonce: None,
            created: None,
        }
    }

    fn wrong(&self) -> String {
        format!("{}-wrong", self.password)
    }

    async fn send(&self, io: &mut Io<'_, '_>, header: Option<&str>) -> Result<Sent, String> {
        let request =
            crate::runner::soap_request(&self.soap, io.target(), io.cx.catalog, io.vars, header)
                .map_err(|f| format!("{}: {}", f.subject, f.message))?;
        let response = io.send(&request).await?;
        io.record_soap(&self.soap.service, &self.soap.operation);
        Ok(Sent {
            request,
            response,
            credential: None,
            note: None,
        })
    }

    pub async fn valid(&mut self, io: &mut Io<'_, '_>) -> Result<Sent, String> {
        let header = crate::auth::wss::header(&self.spec, &mut io.auth_ctx())
            .await
            .map_err(|e| e.to_string())?;
        self.send(io, Some(&header)).await
    }

    pub async fn case(
        &mut self,
        io: &mut Io<'_, '_>,
        _kind: &str,
        mutant: &Mutant,
        accept: &Expect,
    ) -> Result<Sent, String> {
        let mut t = self.token();
        let header = match mutant {
            Mutant::Password(edit) => {
                let p = edited(&self.password, edit);
                t.password = Some((p, PASSWORD_TEXT));
                Some(t.xml())
            }
            Mutant::UnknownNumber(n) => {
                t.username = Some(n.to_string());
                Some(t.xml())
            }
            Mutant::NotANumber(s) => {
                t.username = Some(s.clone());
                Some(t.xml())
            }
            Mutant::EmptyUsername => {
                t.username = Some(String::new());
                Some(t.xml())
            }
            Mutant::OtherUser(i) => {
                t.username = Some(self.others[i % self.others.len()].clone());
                Some(t.xml())
            }
            Mutant::MissingUsername => {
                t.username = None;
                Some(t.xml())
            }
            Mutant::Digest => {
                let nonce = fresh_nonce();
                let created = stamp(0);
                t.password = Some((
                    digest(Some(&nonce), Some(&created), &self.password),
                    PASSWORD_DIGEST,
                ));
                t.nonce = Some(nonce);
                t.created = Some(created);
                Some(t.xml())
            }
            Mutant::Replay => {
                t.nonce = Some(fresh_nonce());
                t.created = Some(stamp(0));
                let header = t.xml();
                let first = self.send(io, Some(&header)).await?;
                let problems = check(accept, &first.response, io.vars);
                if !problems.is_empty() {
                    return Err(format!(
                        "the first copy was not accepted (HTTP {}): {}",
                        first.response.status, problems[0].message
                    ));
                }
                Some(header)
            }
            Mutant::Created(offset) => {
                t.nonce = Some(fresh_nonce());
                t.created = Some(stamp(*offset));
                Some(t.xml())
            }
            Mutant::NoHeader => None,
            Mutant::Namespace(ns) => {
                t.namespace = ns.clone();
                Some(t.xml())
            }
            Mutant::Duplicated {
                first_wrong,
                second_wrong,
            } => {
                let mut a = t.clone();
                let mut b = t;
                if *first_wrong {
                    a.password = Some((self.wrong(), PASSWORD_TEXT));
                }
                if *second_wrong {
                    b.password = Some((self.wrong(), PASSWORD_TEXT));
                }
                Some(format!("{}{}", a.xml(), b.xml()))
            }
        };
        self.send(io, header.as_deref()).await
    }
}

/// The password after an edit; always different from it.
fn edited(password: &str, edit: &Edit) -> String {
    let chars: Vec<char> = password.chars().collect();
    let out: String = match edit {
        Edit::Replace(i, c) if !chars.is_empty() => {
            let k = i % chars.len();
            let mut v = chars.clone();
            v[k] = *c;
            v.into_iter().collect()
        }
        Edit::Replace(_, c) => c.to_string(),
        Edit::Append(s) => format!("{password}{s}"),
        Edit::Cut(i) if !chars.is_empty() => {
            let k = i % chars.len();
            chars
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, c)| *c)
                .collect()
        }
        Edit::Cut(_) => "x".to_owned(),
        Edit::SwapCase => chars
            .iter()
            .map(|c| {
                if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect(),
        Edit::Empty => String::new(),
    };
    if out == password {
        format!("{password}x")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;

    #[test]
    fn edits_always_change_the_password() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let i = pick().new_tree(&mut runner).unwrap().current();
        for e in [
            Edit::Replace(i, 'm'),
            Edit::Append("!".into()),
            Edit::Cut(i),
            Edit::SwapCase,
            Edit::Empty,
        ] {
            assert_ne!(edited("mac2002#", &e), "mac2002#", "{e:?}");
        }
        assert_eq!(edited("2002", &Edit::SwapCase), "2002x");
    }
}
