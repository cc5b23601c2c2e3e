//! OAuth 1.0a mutants: the step's request signed with the scenario's
//! client and access token (or, for `leg: initiate`, the client alone),
//! then changed on the wire or signed wrongly.

use std::fmt;

use emr_catalog::Lookup;
use proptest::prelude::*;
use proptest::strategy::SBoxedStrategy;
use rand::Rng;

use super::engine::Sent;
use super::io::Io;
use super::pick;
use super::wire::{escape_unreserved, lowercase_hex, Algorithm, Message, Param};
use crate::auth::oauth1::{resolve, Resolved};
use crate::check::check;
use crate::scenario::{
    ClientRef, Expect, Leg, OAuth1Options, Placement, RequestSpec, SignatureMethodName, Template,
};

/// The kinds this channel implements.
const KINDS: &[&str] = &[
    "oauth1.signature.bits",
    "oauth1.signature.length",
    "oauth1.signature.double-encoded",
    "oauth1.parameters.changed",
    "oauth1.parameters.dropped",
    "oauth1.parameters.added",
    "oauth1.parameters.duplicated-oauth",
    "oauth1.parameters.duplicated-request",
    "oauth1.parameters.reordered",
    "oauth1.encoding.escaped-unreserved",
    "oauth1.encoding.lowercase-hex",
    "oauth1.encoding.plus-for-space",
    "oauth1.request.method",
    "oauth1.request.path",
    "oauth1.request.host",
    "oauth1.request.scheme",
    "oauth1.request.form-body",
    "oauth1.request.other-body",
    "oauth1.credentials.consumer-swapped",
    "oauth1.credentials.token-swapped",
    "oauth1.credentials.wrong-secret",
    "oauth1.timestamp.stale",
    "oauth1.timestamp.future",
    "oauth1.nonce.replay",
    "oauth1.signature-method.plaintext",
    "oauth1.signature-method.relabelled",
    "oauth1.token-lifecycle.expired",
    "oauth1.token-lifecycle.deleted",
    "positive.oauth1.reserved",
    "positive.oauth1.unicode",
    "positive.oauth1.empty-values",
    "positive.oauth1.repeated-names",
    "positive.oauth1.form",
];

/// One OAuth 1.0a mutation.
#[derive(Debug, Clone)]
pub(crate) enum Mutant {
    FlipBits(Vec<u16>),
    Truncate(usize),
    Extend(Vec<u8>),
    DoubleEncoded,
    Change(usize, String),
    Drop(usize),
    Add(String, String),
    DuplicateOauth(usize),
    DuplicateRequest(usize),
    Reorder(Vec<u32>),
    Escape(Vec<(usize, u16)>),
    LowercaseHex,
    PlusForSpace(String, Vec<String>),
    Method(usize),
    Host(String),
    PathExtension(String),
    Scheme,
    FormBody(usize, String),
    OtherBody(Vec<u8>),
    ConsumerSwapped,
    TokenSwapped,
    WrongSecret { consumer: bool, secret: String },
    Timestamp(i64),
    Replay,
    Plaintext,
    Relabel(String),
    Expired { lifetime: i64, beyond: i64 },
    Deleted,
    Params(Vec<(String, String)>),
    FormParams(Vec<(String, String)>),
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutant::FlipBits(b) => write!(f, "signature bits {b:?} flipped"),
            Mutant::Truncate(n) => write!(f, "signature cut to its first {n} bytes"),
            Mutant::Extend(b) => write!(f, "signature extended by bytes {b:02x?}"),
            Mutant::DoubleEncoded => f.write_str("signature percent-encoded twice"),
            Mutant::Change(_, v) => write!(f, "a signed parameter set to {v:?}"),
            Mutant::Drop(_) => f.write_str("a signed parameter removed"),
            Mutant::Add(n, v) => write!(f, "unsigned query parameter {n:?}={v:?} added"),
            Mutant::DuplicateOauth(_) => f.write_str("an oauth_* parameter sent twice"),
            Mutant::DuplicateRequest(_) => f.write_str("a request parameter sent twice"),
            Mutant::Reorder(k) => write!(f, "parameters reordered by keys {k:?}"),
            Mutant::Escape(p) => write!(f, "{} unreserved characters percent-encoded", p.len()),
            Mutant::LowercaseHex => f.write_str("percent-encodings in lower-case hex"),
            Mutant::PlusForSpace(n, w) => write!(f, "query {n:?}={:?} sent with `+`", w.join(" ")),
            Mutant::Method(_) => f.write_str("the method changed after signing"),
            Mutant::Host(h) => write!(f, "sent with Host {h:?}"),
            Mutant::PathExtension(e) => write!(f, "path sent with `{e}` appended"),
            Mutant::Scheme => f.write_str("signed for the other scheme"),
            Mutant::FormBody(_, v) => write!(f, "a form parameter set to {v:?}"),
            Mutant::OtherBody(b) => write!(f, "body extended by {} bytes", b.len()),
            Mutant::ConsumerSwapped => f.write_str("another client's key and secret, our token"),
            Mutant::TokenSwapped => f.write_str("our client, another client's token"),
            Mutant::WrongSecret { consumer, secret } => write!(
                f,
                "signed with {} secret {secret:?}",
                if *consumer { "consumer" } else { "token" }
            ),
            Mutant::Timestamp(d) => write!(f, "oauth_timestamp {d:+} s"),
            Mutant::Replay => f.write_str("the same signed request sent twice"),
            Mutant::Plaintext => f.write_str("signed with PLAINTEXT"),
            Mutant::Relabel(l) => write!(f, "HMAC-SHA1 signature labelled {l:?}"),
            Mutant::Expired { lifetime, beyond } => write!(
                f,
                "token of a client with TTL {lifetime} s used {} s later",
                3600 + lifetime + beyond
            ),
            Mutant::Deleted => f.write_str("token of a deleted client"),
            Mutant::Params(p) => write!(f, "query parameters {p:?}"),
            Mutant::FormParams(p) => write!(f, "form parameters {p:?}"),
        }
    }
}

/// Where a signed parameter is.
#[derive(Debug, Clone, Copy)]
enum Slot {
    OAuth(usize),
    Query(usize),
    Form(usize),
}

fn slot_param(m: &mut Message, s: Slot) -> Option<&mut Param> {
    match s {
        Slot::OAuth(i) => m.oauth.get_mut(i),
        Slot::Query(i) => m.query.get_mut(i),
        Slot::Form(i) => m.form.as_mut().and_then(|f| f.get_mut(i)),
    }
}

/// Every parameter the signature covers, in a fixed order.
fn signed_slots(m: &Message) -> Vec<Slot> {
    let mut out: Vec<Slot> = m
        .oauth
        .iter()
        .enumerate()
        .filter(|(_, p)| p.name != "oauth_signature")
        .map(|(i, _)| Slot::OAuth(i))
        .collect();
    out.extend(own_slots(m));
    out
}

/// The request's own (non-OAuth) parameters.
fn own_slots(m: &Message) -> Vec<Slot> {
    let mut out: Vec<Slot> = (0..m.query.len()).map(Slot::Query).collect();
    if let Some(f) = &m.form {
        out.extend((0..f.len()).map(Slot::Form));
    }
    out
}

fn nonce() -> String {
    let mut rng = rand::thread_rng();
    (0..24)
        .map(|_| {
            let i = rng.gen_range(0..62u8);
            char::from(match i {
                0..=9 => b'0' + i,
                10..=35 => b'a' + i - 10,
                _ => b'A' + i - 36,
            })
        })
        .collect()
}

pub(crate) struct Chan {
    opts: OAuth1Options,
    leg: Leg,
    /// The step's request without OAuth parameters.
    base: Message,
    creds: Resolved,
    algorithm: Algorithm,
    /// Seconds added to `oauth_timestamp` (the spec's offset).
    offset: i64,
    /// `credentials.oauth1.clients[1]`: key and secret.
    other_client: Option<(String, String)>,
    other_token: Option<(String, String)>,
    /// Methods the catalogue also routes at the step's path.
    methods: Vec<String>,
    /// Whether the path with a `.json`/`.xml` extension reaches the same
    /// operation (JAX-RS media-type extensions).
    extensions: bool,
}

impl Chan {
    pub async fn new(
        spec: &RequestSpec,
        opts: &OAuth1Options,
        io: &mut Io<'_, '_>,
    ) -> Result<Chan, String> {
        if !matches!(opts.leg, Leg::Resource | Leg::Initiate) {
            return Err("an oauth1 fuzz step signs a resource call or an initiate request (`leg: resource` or `leg: initiate`)".into());
        }
        let (req, path) = crate::runner::build(spec, io.target(), io.vars)
            .map_err(|f| format!("{}: {}", f.subject, f.message))?;
        let mut base = Message::from_request(&req, opts.placement)?;
        if opts.leg == Leg::Initiate {
            let scope = match &opts.scope {
                Some(t) => Some(t.render(io.vars).map_err(|e| e.to_string())?),
                None => None,
            };
            if let Some(scope) = scope {
                base.form
                    .get_or_insert_with(Vec::new)
                    .push(Param::new("scope", scope));
                if !base
                    .headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                {
                    base.headers.push((
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ));
                }
            }
        }
        let creds = resolve(opts, &mut io.auth_ctx())
            .await
            .map_err(|e| e.to_string())?;
        let target = io.target();
        let other_client = target.credentials["oauth1"]["clients"]
            .as_array()
            .and_then(|c| c.get(1))
            .map(|c| {
                (
                    crate::auth::field(c, "key"),
                    crate::auth::field(c, "secret"),
                )
            })
            .filter(|(k, _)| *k != creds.consumer_key && !k.is_empty());
        let methods = match io
            .cx
            .catalog
            .resolve("FUZZ-NO-SUCH-METHOD", target.catalogue_path(&path))
        {
            Lookup::WrongMethod(allowed) => allowed
                .into_iter()
                .filter(|m| !m.eq_ignore_ascii_case(&base.method))
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let op_at = |p: &str| match io
            .cx
            .catalog
            .resolve(&base.method, target.catalogue_path(p))
        {
            Lookup::Found(op, _) => Some(op.id.clone()),
            _ => None,
        };
        let extensions = opts.leg == Leg::Resource
            && op_at(&path).is_some()
            && op_at(&format!("{path}.json")) == op_at(&path);
        Ok(Chan {
            opts: opts.clone(),
            leg: opts.leg,
            base,
            creds,
            algorithm: match opts.signature_method {
                SignatureMethodName::HmacSha1 => Algorithm::HmacSha1,
                SignatureMethodName::Plaintext => Algorithm::Plaintext,
            },
            offset: opts.timestamp_offset,
            other_client,
            other_token: None,
            methods,
            extensions,
        })
    }

    pub fn class(&self) -> &'static str {
        match self.leg {
            Leg::Initiate => "oauth1-initiate",
            _ => "oauth1-resource",
        }
    }

    pub fn kinds(&self, io: &Io<'_, '_>) -> Vec<(&'static str, Option<String>)> {
        let resource = self.leg == Leg::Resource;
        let has_form = self.base.has_form();
        let has_own = !own_slots(&self.base).is_empty();
        KINDS
            .iter()
            .map(|k| {
                let na: Option<&str> = match *k {
                    "oauth1.signature.bits" | "oauth1.signature.length"
                        if self.algorithm == Algorithm::Plaintext =>
                    {
                        Some("the step signs with PLAINTEXT")
                    }
                    "oauth1.parameters.duplicated-request" if !has_own => {
                        Some("the request has no parameters of its own")
                    }
                    "oauth1.request.form-body" if !has_form => Some("the request has no form body"),
                    "oauth1.request.other-body" if self.base.body.is_none() => {
                        Some("the request has no body other than a form")
                    }
                    "oauth1.request.path" if !self.extensions => {
                        Some("the catalogue maps no media-type extension of this path to it")
                    }
                    "oauth1.request.method" if self.methods.is_empty() => {
                        Some("the catalogue routes no other method at this path")
                    }
                    "oauth1.credentials.consumer-swapped" | "oauth1.credentials.token-swapped"
                        if !resource =>
                    {
                        Some("an initiate request carries no token")
                    }
                    "oauth1.credentials.consumer-swapped" | "oauth1.credentials.token-swapped"
                        if self.other_client.is_none() =>
                    {
                        Some("the credentials list no second client")
                    }
                    "oauth1.token-lifecycle.expired" | "oauth1.token-lifecycle.deleted"
                        if !resource =>
                    {
                        Some("an initiate request carries no token")
                    }
                    "oauth1.token-lifecycle.expired" | "oauth1.token-lifecycle.deleted"
                        if !io.is_mock() =>
                    {
                        Some("needs the mock's admin API (clients, clock)")
                    }
                    "oauth1.encoding.plus-for-space"
                    | "positive.oauth1.reserved"
                    | "positive.oauth1.unicode"
                    | "positive.oauth1.empty-values"
                    | "positive.oauth1.repeated-names"
                        if has_form =>
                    {
                        Some("query parameters of a form post (see positive.oauth1.form)")
                    }
                    "positive.oauth1.form" if !has_form => Some("the request has no form body"),
                    _ => None,
                };
                (*k, na.map(str::to_owned))
            })
            .collect()
    }

    pub fn strategy(&self, kind: &str) -> SBoxedStrategy<Mutant> {
        let word = "[a-zA-Z0-9]{1,10}";
        let name = "[a-z][a-z0-9_]{0,7}".prop_filter("not a protocol parameter", |n: &String| {
            !n.starts_with("oauth_")
        });
        match kind {
            "oauth1.signature.bits" => proptest::collection::btree_set(0u16..160, 1..=4)
                .prop_map(|s| Mutant::FlipBits(s.into_iter().collect()))
                .sboxed(),
            "oauth1.signature.length" => prop_oneof![
                (0usize..20).prop_map(Mutant::Truncate),
                proptest::collection::vec(any::<u8>(), 1..8).prop_map(Mutant::Extend),
            ]
            .sboxed(),
            "oauth1.signature.double-encoded" => Just(Mutant::DoubleEncoded).sboxed(),
            "oauth1.parameters.changed" => (pick(), "[a-zA-Z0-9]{0,12}")
                .prop_map(|(i, v)| Mutant::Change(i, v))
                .sboxed(),
            "oauth1.parameters.dropped" => pick().prop_map(Mutant::Drop).sboxed(),
            "oauth1.parameters.added" => (name, "[a-zA-Z0-9]{0,8}")
                .prop_map(|(n, v)| Mutant::Add(n, v))
                .sboxed(),
            "oauth1.parameters.duplicated-oauth" => {
                pick().prop_map(Mutant::DuplicateOauth).sboxed()
            }
            "oauth1.parameters.duplicated-request" => {
                pick().prop_map(Mutant::DuplicateRequest).sboxed()
            }
            "oauth1.parameters.reordered" => proptest::collection::vec(any::<u32>(), 24)
                .prop_map(Mutant::Reorder)
                .sboxed(),
            "oauth1.encoding.escaped-unreserved" => {
                proptest::collection::vec((pick(), any::<u16>()), 1..6)
                    .prop_map(Mutant::Escape)
                    .sboxed()
            }
            "oauth1.encoding.lowercase-hex" => Just(Mutant::LowercaseHex).sboxed(),
            "oauth1.encoding.plus-for-space" => (name, proptest::collection::vec(word, 2..4))
                .prop_map(|(n, w)| Mutant::PlusForSpace(n, w))
                .sboxed(),
            "oauth1.request.method" => pick().prop_map(Mutant::Method).sboxed(),
            "oauth1.request.host" => {
                prop_oneof![Just("localhost".to_owned()), "[a-z]{1,10}\\.example",]
                    .prop_map(Mutant::Host)
                    .sboxed()
            }
            "oauth1.request.path" => prop_oneof![Just(".json"), Just(".xml")]
                .prop_map(|e| Mutant::PathExtension(e.to_owned()))
                .sboxed(),
            "oauth1.request.scheme" => Just(Mutant::Scheme).sboxed(),
            "oauth1.request.form-body" => (pick(), "[a-zA-Z0-9]{0,12}")
                .prop_map(|(i, v)| Mutant::FormBody(i, v))
                .sboxed(),
            "oauth1.request.other-body" => proptest::collection::vec(any::<u8>(), 1..16)
                .prop_map(Mutant::OtherBody)
                .sboxed(),
            "oauth1.credentials.consumer-swapped" => Just(Mutant::ConsumerSwapped).sboxed(),
            "oauth1.credentials.token-swapped" => Just(Mutant::TokenSwapped).sboxed(),
            "oauth1.credentials.wrong-secret" => (any::<bool>(), "[a-z0-9]{0,16}")
                .prop_map(|(consumer, secret)| Mutant::WrongSecret { consumer, secret })
                .sboxed(),
            // Past the ±300 s window with a margin for the clocks.
            "oauth1.timestamp.stale" => (305i64..10_000_000)
                .prop_map(|d| Mutant::Timestamp(-d))
                .sboxed(),
            "oauth1.timestamp.future" => (305i64..10_000_000).prop_map(Mutant::Timestamp).sboxed(),
            "oauth1.nonce.replay" => Just(Mutant::Replay).sboxed(),
            "oauth1.signature-method.plaintext" => Just(Mutant::Plaintext).sboxed(),
            "oauth1.signature-method.relabelled" => prop_oneof![
                Just("RSA-SHA1".to_owned()),
                Just("HMAC-SHA256".to_owned()),
                Just("hmac-sha1".to_owned()),
                Just("PLAINTEXT".to_owned()),
                "[A-Z][A-Z0-9-]{0,11}",
            ]
            .prop_filter("another label", |l| l != "HMAC-SHA1")
            .prop_map(Mutant::Relabel)
            .sboxed(),
            "oauth1.token-lifecycle.expired" => (0i64..=3600, 2i64..1_000_000)
                .prop_map(|(lifetime, beyond)| Mutant::Expired { lifetime, beyond })
                .sboxed(),
            "oauth1.token-lifecycle.deleted" => Just(Mutant::Deleted).sboxed(),
            "positive.oauth1.reserved" => {
                let n = "[!-~]{1,8}".prop_filter("not a protocol parameter", |n: &String| {
                    !n.starts_with("oauth_")
                });
                proptest::collection::vec((n, "[ -~]{0,12}"), 1..6)
                    .prop_map(Mutant::Params)
                    .sboxed()
            }
            "positive.oauth1.unicode" => proptest::collection::vec(unicode_pair(), 1..5)
                .prop_map(Mutant::Params)
                .sboxed(),
            "positive.oauth1.empty-values" => proptest::collection::vec(name, 1..5)
                .prop_map(|ns| Mutant::Params(ns.into_iter().map(|n| (n, String::new())).collect()))
                .sboxed(),
            "positive.oauth1.repeated-names" => {
                (name, proptest::collection::vec("[ -~]{0,8}", 2..5))
                    .prop_map(|(n, vs)| {
                        Mutant::Params(vs.into_iter().map(|v| (n.clone(), v)).collect())
                    })
                    .sboxed()
            }
            _ => {
                // positive.oauth1.form: any characters, empty values,
                // repeated names, in the form body.
                let n = "\\PC{1,6}".prop_filter("not a protocol parameter", |n: &String| {
                    !n.starts_with("oauth_")
                });
                proptest::collection::vec((n, "\\PC{0,8}"), 1..5)
                    .prop_map(|mut ps| {
                        if let Some(first) = ps.first().cloned() {
                            ps.push((first.0, String::new()));
                        }
                        Mutant::FormParams(ps)
                    })
                    .sboxed()
            }
        }
    }

    /// A fresh, correctly signed message of the valid request, its
    /// timestamp moved by `delta` seconds.
    fn message(&self, delta: i64, label: &str) -> Message {
        let mut m = self.base.clone();
        let ts = chrono::Utc::now().timestamp() + self.offset + delta;
        if self.leg == Leg::Initiate {
            m.set_oauth("oauth_callback", &self.creds.callback);
        }
        m.set_oauth("oauth_consumer_key", &self.creds.consumer_key);
        m.set_oauth("oauth_nonce", &nonce());
        m.set_oauth("oauth_signature_method", label);
        m.set_oauth("oauth_timestamp", &ts.to_string());
        if let Some((t, _)) = &self.creds.token {
            m.set_oauth("oauth_token", t);
        }
        if self.opts.version {
            m.set_oauth("oauth_version", "1.0");
        }
        m
    }

    fn label(&self) -> &'static str {
        match self.algorithm {
            Algorithm::HmacSha1 => "HMAC-SHA1",
            Algorithm::Plaintext => "PLAINTEXT",
        }
    }

    fn token_secret(&self) -> &str {
        self.creds.token.as_ref().map_or("", |(_, s)| s.as_str())
    }

    fn sign(&self, m: &mut Message) {
        m.sign(
            self.algorithm,
            &self.creds.consumer_secret,
            self.token_secret(),
            None,
        );
    }

    /// The valid request, freshly signed.
    fn valid_message(&self) -> Message {
        let mut m = self.message(0, self.label());
        self.sign(&mut m);
        m
    }

    async fn send(&self, io: &mut Io<'_, '_>, m: &Message) -> Result<Sent, String> {
        let request = m.to_request();
        let response = io.send(&request).await?;
        Ok(Sent {
            request,
            response,
            credential: (m.placement == Placement::Header).then(|| m.shown_oauth()),
            note: None,
        })
    }

    pub async fn valid(&mut self, io: &mut Io<'_, '_>) -> Result<Sent, String> {
        let m = self.valid_message();
        self.send(io, &m).await
    }

    /// A new access token (the classic variants delete the one a refused
    /// message was signed with).
    pub async fn renew(&mut self, io: &mut Io<'_, '_>) -> Result<(), String> {
        if self.leg != Leg::Resource || self.opts.token.is_some() {
            return Ok(());
        }
        let mut opts = self.opts.clone();
        opts.fresh = true;
        self.creds = resolve(&opts, &mut io.auth_ctx())
            .await
            .map_err(|e| e.to_string())?;
        io.drain_driver_calls();
        Ok(())
    }

    pub async fn case(
        &mut self,
        io: &mut Io<'_, '_>,
        _kind: &str,
        mutant: &Mutant,
        accept: &Expect,
    ) -> Result<Sent, String> {
        let label = self.label();
        match mutant {
            Mutant::FlipBits(bits) => {
                let mut m = self.valid_message();
                let mut raw = signature_bytes(&m)?;
                let len = raw.len().max(1) * 8;
                for b in bits {
                    let bit = usize::from(*b) % len;
                    if let Some(byte) = raw.get_mut(bit / 8) {
                        *byte ^= 1 << (bit % 8);
                    }
                }
                set_signature_bytes(&mut m, &raw);
                self.send(io, &m).await
            }
            Mutant::Truncate(n) => {
                let mut m = self.valid_message();
                let mut raw = signature_bytes(&m)?;
                raw.truncate((*n).min(raw.len().saturating_sub(1)));
                set_signature_bytes(&mut m, &raw);
                self.send(io, &m).await
            }
            Mutant::Extend(extra) => {
                let mut m = self.valid_message();
                let mut raw = signature_bytes(&m)?;
                raw.extend_from_slice(extra);
                set_signature_bytes(&mut m, &raw);
                self.send(io, &m).await
            }
            Mutant::DoubleEncoded => {
                let mut m = self.valid_message();
                for p in m.oauth.iter_mut().filter(|p| p.name == "oauth_signature") {
                    p.wire = Some(crate::runner::encode(&p.wire_value()));
                }
                self.send(io, &m).await
            }
            Mutant::Change(i, value) => {
                let mut m = self.valid_message();
                let slots = signed_slots(&m);
                let slot = slots[i % slots.len()];
                let mut note = String::new();
                if let Some(p) = slot_param(&mut m, slot) {
                    p.value = if *value == p.value {
                        format!("{value}x")
                    } else {
                        value.clone()
                    };
                    p.wire = None;
                    note = format!("{} = {:?}", p.name, p.value);
                }
                noted(self.send(io, &m).await, note)
            }
            Mutant::Drop(i) => {
                let mut m = self.valid_message();
                let slots = signed_slots(&m);
                let removed = match slots[i % slots.len()] {
                    Slot::OAuth(k) => Some(m.oauth.remove(k)),
                    Slot::Query(k) => Some(m.query.remove(k)),
                    Slot::Form(k) => m.form.as_mut().map(|f| f.remove(k)),
                };
                let note = removed
                    .map(|p| format!("{} removed", p.name))
                    .unwrap_or_default();
                noted(self.send(io, &m).await, note)
            }
            Mutant::Add(name, value) => {
                let mut m = self.valid_message();
                m.query.push(Param::new(name.clone(), value.clone()));
                self.send(io, &m).await
            }
            Mutant::DuplicateOauth(i) => {
                let mut m = self.valid_message();
                let k = i % m.oauth.len();
                let copy = m.oauth[k].clone();
                let note = format!("{} twice", copy.name);
                m.oauth.insert(k + 1, copy);
                noted(self.send(io, &m).await, note)
            }
            Mutant::DuplicateRequest(i) => {
                let mut m = self.valid_message();
                let slots = own_slots(&m);
                if slots.is_empty() {
                    return Err("the request has no parameters of its own".into());
                }
                let mut note = String::new();
                match slots[i % slots.len()] {
                    Slot::Query(k) => {
                        let copy = m.query[k].clone();
                        note = format!("query {} twice", copy.name);
                        m.query.insert(k + 1, copy);
                    }
                    Slot::Form(k) => {
                        if let Some(f) = &mut m.form {
                            let copy = f[k].clone();
                            note = format!("form {} twice", copy.name);
                            f.insert(k + 1, copy);
                        }
                    }
                    Slot::OAuth(_) => {}
                }
                noted(self.send(io, &m).await, note)
            }
            Mutant::Reorder(keys) => {
                let mut m = self.valid_message();
                let key = |i: usize| keys.get(i % keys.len().max(1)).copied().unwrap_or(0);
                reorder(&mut m.oauth, &key, 0);
                reorder(&mut m.query, &key, 7);
                if let Some(f) = &mut m.form {
                    reorder(f, &key, 13);
                }
                self.send(io, &m).await
            }
            Mutant::Escape(picks) => {
                let mut m = self.valid_message();
                let slots = all_slots(&m);
                for (i, pos) in picks {
                    let slot = slots[i % slots.len()];
                    if let Some(p) = slot_param(&mut m, slot) {
                        p.wire = Some(escape_unreserved(&p.wire_value(), &[usize::from(*pos)]));
                    }
                }
                self.send(io, &m).await
            }
            Mutant::LowercaseHex => {
                let mut m = self.valid_message();
                for slot in all_slots(&m) {
                    if let Some(p) = slot_param(&mut m, slot) {
                        p.wire = Some(lowercase_hex(&p.wire_value()));
                    }
                }
                self.send(io, &m).await
            }
            Mutant::PlusForSpace(name, words) => {
                let mut m = self.message(0, label);
                let value = words.join(" ");
                m.query.push(Param {
                    name: name.clone(),
                    wire: Some(crate::runner::encode(&value).replace("%20", "+")),
                    value,
                });
                self.sign(&mut m);
                self.send(io, &m).await
            }
            Mutant::Method(i) => {
                if self.methods.is_empty() {
                    return Err("no other method is routed here".into());
                }
                let mut m = self.valid_message();
                m.method = self.methods[i % self.methods.len()].clone();
                let note = format!("sent as {}", m.method);
                noted(self.send(io, &m).await, note)
            }
            Mutant::Host(h) => {
                let mut m = self.valid_message();
                let port = m.authority.rsplit_once(':').map(|(_, p)| p.to_owned());
                let host = m.authority.split(':').next().unwrap_or("");
                let new = if host.eq_ignore_ascii_case(h) {
                    "127.0.0.2".to_owned()
                } else {
                    h.clone()
                };
                m.host_header = Some(match port {
                    Some(p) => format!("{new}:{p}"),
                    None => new,
                });
                self.send(io, &m).await
            }
            Mutant::PathExtension(ext) => {
                let mut m = self.valid_message();
                m.path.push_str(ext);
                self.send(io, &m).await
            }
            Mutant::Scheme => {
                let mut m = self.message(0, label);
                let other = if m.scheme.eq_ignore_ascii_case("https") {
                    "http"
                } else {
                    "https"
                };
                m.sign(
                    self.algorithm,
                    &self.creds.consumer_secret,
                    self.token_secret(),
                    Some(other),
                );
                self.send(io, &m).await
            }
            Mutant::FormBody(i, value) => {
                let mut m = self.valid_message();
                if let Some(f) = &mut m.form {
                    if !f.is_empty() {
                        let k = i % f.len();
                        f[k].value = if f[k].value == *value {
                            format!("{value}x")
                        } else {
                            value.clone()
                        };
                        f[k].wire = None;
                        let note = format!("{} = {:?}", f[k].name, f[k].value);
                        return noted(self.send(io, &m).await, note);
                    }
                }
                self.send(io, &m).await
            }
            Mutant::OtherBody(extra) => {
                let mut m = self.valid_message();
                let mut body = m.body.clone().map(|b| b.to_vec()).unwrap_or_default();
                body.extend_from_slice(extra);
                m.body = Some(body.into());
                self.send(io, &m).await
            }
            Mutant::ConsumerSwapped => {
                let (key, secret) = self
                    .other_client
                    .clone()
                    .ok_or("no second client in the credentials")?;
                let mut m = self.message(0, label);
                m.set_oauth("oauth_consumer_key", &key);
                m.sign(self.algorithm, &secret, self.token_secret(), None);
                self.send(io, &m).await
            }
            Mutant::TokenSwapped => {
                let (token, token_secret) = self.other_token(io).await?;
                let mut m = self.message(0, label);
                m.set_oauth("oauth_token", &token);
                m.sign(
                    self.algorithm,
                    &self.creds.consumer_secret,
                    &token_secret,
                    None,
                );
                self.send(io, &m).await
            }
            Mutant::WrongSecret { consumer, secret } => {
                let mut m = self.message(0, label);
                let (cs, ts) = if *consumer {
                    let s = if *secret == self.creds.consumer_secret {
                        format!("{secret}x")
                    } else {
                        secret.clone()
                    };
                    (s, self.token_secret().to_owned())
                } else {
                    let s = if secret == self.token_secret() {
                        format!("{secret}x")
                    } else {
                        secret.clone()
                    };
                    (self.creds.consumer_secret.clone(), s)
                };
                m.sign(self.algorithm, &cs, &ts, None);
                self.send(io, &m).await
            }
            Mutant::Timestamp(delta) => {
                let mut m = self.message(*delta, label);
                self.sign(&mut m);
                self.send(io, &m).await
            }
            Mutant::Replay => {
                let m = self.valid_message();
                let first = self.send(io, &m).await?;
                let problems = check(accept, &first.response, io.vars);
                if !problems.is_empty() {
                    return Err(format!(
                        "the first copy was not accepted (HTTP {}): {}",
                        first.response.status, problems[0].message
                    ));
                }
                self.send(io, &m).await
            }
            Mutant::Plaintext => {
                let mut m = self.message(0, "PLAINTEXT");
                m.sign(
                    Algorithm::Plaintext,
                    &self.creds.consumer_secret,
                    self.token_secret(),
                    None,
                );
                self.send(io, &m).await
            }
            Mutant::Relabel(l) => {
                let mut m = self.message(0, l);
                m.sign(
                    Algorithm::HmacSha1,
                    &self.creds.consumer_secret,
                    self.token_secret(),
                    None,
                );
                self.send(io, &m).await
            }
            Mutant::Expired { lifetime, beyond } => {
                let (key, creds) = self.temporary_client(io, *lifetime).await?;
                let result = self.expired(io, &creds, 3600 + lifetime + beyond).await;
                let reset = io.reset_clock().await;
                let deleted = io
                    .admin("DELETE", &format!("/__admin/oauth1/clients/{key}"), None)
                    .await;
                let sent = result?;
                reset?;
                deleted?;
                Ok(sent)
            }
            Mutant::Deleted => {
                let (key, creds) = self.temporary_client(io, -1).await?;
                io.admin("DELETE", &format!("/__admin/oauth1/clients/{key}"), None)
                    .await?;
                let mut m = self.with_creds(&creds, 0);
                self.sign_with(&mut m, &creds);
                self.send(io, &m).await
            }
            Mutant::Params(params) => {
                let mut m = self.message(0, label);
                m.query
                    .extend(params.iter().map(|(n, v)| Param::new(n.clone(), v.clone())));
                self.sign(&mut m);
                self.send(io, &m).await
            }
            Mutant::FormParams(params) => {
                let mut m = self.message(0, label);
                m.form
                    .get_or_insert_with(Vec::new)
                    .extend(params.iter().map(|(n, v)| Param::new(n.clone(), v.clone())));
                self.sign(&mut m);
                self.send(io, &m).await
            }
        }
    }

    /// The second client's access token (obtained once).
    async fn other_token(&mut self, io: &mut Io<'_, '_>) -> Result<(String, String), String> {
        if let Some(t) = &self.other_token {
            return Ok(t.clone());
        }
        let mut opts = self.opts.clone();
        opts.client = Some(ClientRef::Index(1));
        opts.consumer_key = None;
        opts.consumer_secret = None;
        opts.token = None;
        opts.token_secret = None;
        opts.callback = None;
        let r = resolve(&opts, &mut io.auth_ctx())
            .await
            .map_err(|e| format!("the second client's token: {e}"))?;
        io.drain_driver_calls();
        let t = r.token.ok_or("the second client got no token")?;
        self.other_token = Some(t.clone());
        Ok(t)
    }

    /// Registers a client on the mock (its URI the first client's, so the
    /// first client's callback fits) and obtains an access token for it.
    async fn temporary_client(
        &mut self,
        io: &mut Io<'_, '_>,
        lifetime: i64,
    ) -> Result<(String, Resolved), String> {
        let uri = io.target().credentials["oauth1"]["clients"][0]["uri"]
            .as_str()
            .unwrap_or("https://example.com/")
            .to_owned();
        let c = io
            .admin(
                "POST",
                "/__admin/oauth1/clients",
                Some(serde_json::json!({"name": "fuzz", "uri": uri, "lifetime": lifetime})),
            )
            .await?;
        let key = c["key"].as_str().unwrap_or("").to_owned();
        let mut opts = self.opts.clone();
        opts.client = None;
        opts.consumer_key = Some(Template::literal(&key));
        opts.consumer_secret = Some(Template::literal(c["secret"].as_str().unwrap_or("")));
        opts.callback = c["callback"].as_str().map(Template::literal);
        opts.token = None;
        opts.token_secret = None;
        opts.fresh = true;
        let creds = resolve(&opts, &mut io.auth_ctx()).await;
        io.drain_driver_calls();
        match creds {
            Ok(c) => Ok((key, c)),
            Err(e) => {
                let _ = io
                    .admin("DELETE", &format!("/__admin/oauth1/clients/{key}"), None)
                    .await;
                Err(format!("a token for a registered client: {e}"))
            }
        }
    }

    async fn expired(
        &self,
        io: &mut Io<'_, '_>,
        creds: &Resolved,
        seconds: i64,
    ) -> Result<Sent, String> {
        let offset = io.advance_clock(seconds).await?;
        let mut m = self.with_creds(creds, offset);
        self.sign_with(&mut m, creds);
        self.send(io, &m).await
    }

    /// The valid message signed by other credentials, its timestamp
    /// following a clock `clock_offset` seconds ahead.
    fn with_creds(&self, creds: &Resolved, clock_offset: i64) -> Message {
        let mut m = self.message(clock_offset, self.label());
        m.set_oauth("oauth_consumer_key", &creds.consumer_key);
        if let Some((t, _)) = &creds.token {
            m.set_oauth("oauth_token", t);
        }
        m
    }

    fn sign_with(&self, m: &mut Message, creds: &Resolved) {
        let ts = creds.token.as_ref().map_or("", |(_, s)| s.as_str());
        m.sign(self.algorithm, &creds.consumer_secret, ts, None);
    }
}

fn noted(sent: Result<Sent, String>, note: String) -> Result<Sent, String> {
    sent.map(|mut s| {
        if !note.is_empty() {
            s.note = Some(note);
        }
        s
    })
}

/// Every parameter on the wire, signature included.
fn all_slots(m: &Message) -> Vec<Slot> {
    let mut out: Vec<Slot> = (0..m.oauth.len()).map(Slot::OAuth).collect();
    out.extend(own_slots(m));
    out
}

fn reorder(params: &mut [Param], key: &dyn Fn(usize) -> u32, salt: usize) {
    let mut keyed: Vec<(u32, usize, Param)> = params
        .iter()
        .enumerate()
        .map(|(i, p)| (key(i + salt), i, p.clone()))
        .collect();
    keyed.sort_by_key(|(k, i, _)| (*k, *i));
    for (slot, (_, _, p)) in params.iter_mut().zip(keyed) {
        *slot = p;
    }
}

fn signature_bytes(m: &Message) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let sig = m.oauth_value("oauth_signature").unwrap_or("");
    base64::engine::general_purpose::STANDARD
        .decode(sig)
        .map_err(|e| format!("the signature is not base64: {e}"))
}

fn set_signature_bytes(m: &mut Message, raw: &[u8]) {
    use base64::Engine;
    let sig = base64::engine::general_purpose::STANDARD.encode(raw);
    m.set_oauth("oauth_signature", &sig);
}

/// A name and value with arbitrary Unicode; the value always holds a
/// character outside ASCII.
fn unicode_pair() -> impl Strategy<Value = (String, String)> {
    let name = "\\PC{1,6}".prop_filter("not a protocol parameter", |n: &String| {
        !n.starts_with("oauth_")
    });
    let value = (
        "\\PC{0,6}",
        proptest::char::range('\u{80}', '\u{10FFFF}'),
        "\\PC{0,6}",
    )
        .prop_map(|(a, c, b)| format!("{a}{c}{b}"));
    (name, value)
}
