//! Central redaction: secrets (passwords, PINs, client secrets, tokens)
//! and, on live targets, personal data, scrubbed from every artifact of a
//! run before it is written anywhere.
//!
//! Secrets are *registered* as they become known: the values of the
//! credentials document when a run starts, and every token, cookie or
//! authorization header that crosses the transport (so a token an auth
//! driver obtains is registered without the driver doing anything). Every
//! report, snapshot, recording and console line is then scrubbed of them.
//! Personal values (names, birth dates, health numbers, contacts) are
//! collected from the responses of a live target the same way.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::{OnceLock, RwLock};

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::json;
use crate::outcome::{Exchange, Failure, ScenarioOutcome, StepOutcome};
use crate::transport::HttpResponse;

/// What a scrubbed secret becomes.
pub const SECRET: &str = "[secret]";
/// What a scrubbed personal value becomes.
pub const PERSONAL: &str = "[personal]";

/// Secrets shorter than this are replaced only as whole words, so a PIN
/// like `1117` does not eat the digits of `111700`.
const WHOLE_WORD_BELOW: usize = 12;

/// The shortest value seen on the wire that is taken for a secret.
const OBSERVED_MIN: usize = 8;

/// The values to scrub from every artifact of a run. Shared by every
/// scenario of the run; its `Debug` output never shows a value.
#[derive(Default)]
pub struct Redactor {
    secrets: RwLock<Needles>,
    personal: RwLock<Needles>,
    /// Collect and scrub personal data (the default on live targets).
    pub redact_personal: bool,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secret_count())
            .field("redact_personal", &self.redact_personal)
            .finish()
    }
}

/// A growing set of values to replace, indexed so that adding one is
/// cheap and finding which of them a text holds is one pass over it: a
/// run registers thousands of token forms (every signed request's
/// signature) and scrubs every string of every exchange, so neither a
/// search per value nor an automaton rebuilt as values arrive will do.
///
/// A value of [`WINDOW`] bytes or more is filed under its last
/// `WINDOW` bytes (the end of a token is its random part: JWTs share
/// their header, not their signature), a shorter one under its first two.
/// The scan looks every window of the text up, through a bitmap that
/// turns away almost every window at the cost of a multiply and one bit
/// test, and confirms a candidate by comparing the whole value.
#[derive(Default)]
struct Needles {
    values: Vec<Box<str>>,
    /// Which values were registered whole (with their encoded forms), so
    /// a token sent again is not encoded and filed again.
    registered: Vec<bool>,
    /// Values of `WINDOW` bytes or more, by their last `WINDOW` bytes.
    long: HashMap<u64, Vec<u32>, Mixed>,
    /// Which `long` keys there may be: bit `bucket(key)`.
    long_bits: Vec<u64>,
    /// Shorter values, by their first two bytes.
    short: HashMap<u16, Vec<u32>, Mixed>,
    /// Which `short` keys there are: bit `key`.
    short_bits: Vec<u64>,
}

/// The bytes a long value is filed under.
const WINDOW: usize = 8;

impl Needles {
    fn len(&self) -> usize {
        self.values.len()
    }

    fn extend(&mut self, values: impl IntoIterator<Item = String>) {
        for v in values {
            self.insert(v);
        }
    }

    /// The index of a value, if it is one.
    fn position(&self, v: &str) -> Option<usize> {
        let list = match Key::of(v.as_bytes())? {
            Key::Long(k) => self.long.get(&k),
            Key::Short(k) => self.short.get(&k),
        };
        list.into_iter()
            .flatten()
            .map(|&i| i as usize)
            .find(|&i| *self.values[i] == *v)
    }

    /// Whether `v` was registered whole with [`Needles::register_whole`].
    fn is_registered(&self, v: &str) -> bool {
        self.position(v).is_some_and(|i| self.registered[i])
    }

    /// Adds a value and its forms, marking the value registered whole.
    fn register_whole(&mut self, value: &str, forms: impl IntoIterator<Item = String>) {
        if let Some(i) = self.insert(value.to_owned()) {
            self.registered[i] = true;
        }
        self.extend(forms);
    }

    /// Files a value (once) and answers its index; `None` for a value too
    /// short to file or past `u32::MAX` values.
    fn insert(&mut self, v: String) -> Option<usize> {
        let key = Key::of(v.as_bytes())?;
        let ix = u32::try_from(self.values.len()).ok()?;
        let list = match key {
            Key::Long(k) => self.long.entry(k).or_default(),
            Key::Short(k) => self.short.entry(k).or_default(),
        };
        if let Some(&i) = list.iter().find(|&&i| *self.values[i as usize] == *v) {
            return Some(i as usize);
        }
        list.push(ix);
        self.values.push(v.into_boxed_str());
        self.registered.push(false);
        match key {
            Key::Long(_) if self.values.len() * 16 > self.long_bits.len() * 64 => {
                self.resize_long_bits()
            }
            Key::Long(k) => {
                let words = self.long_bits.len();
                set_bit(&mut self.long_bits, bucket(k, words));
            }
            Key::Short(k) => {
                if self.short_bits.is_empty() {
                    self.short_bits = vec![0; (1 << 16) / 64];
                }
                set_bit(&mut self.short_bits, usize::from(k));
            }
        }
        Some(ix as usize)
    }

    /// Sizes the bitmap of long keys to 16 bits or more per value (so a
    /// window of ordinary text passes it rarely) and sets the bits again.
    fn resize_long_bits(&mut self) {
        let words = (self.values.len() * 16 / 64).next_power_of_two().max(64);
        self.long_bits = vec![0; words];
        for &key in self.long.keys() {
            set_bit(&mut self.long_bits, bucket(key, words));
        }
    }

    /// The values `text` holds, each once.
    fn found(&self, text: &str) -> Vec<&str> {
        let b = text.as_bytes();
        let mut hits: Vec<u32> = Vec::new();
        if !self.short.is_empty() {
            for (i, pair) in b.windows(2).enumerate() {
                let key = u16::from_le_bytes([pair[0], pair[1]]);
                if !has_bit(&self.short_bits, usize::from(key)) {
                    continue;
                }
                for &ix in self.short.get(&key).into_iter().flatten() {
                    if b[i..].starts_with(self.values[ix as usize].as_bytes()) {
                        hits.push(ix);
                    }
                }
            }
        }
        if !self.long.is_empty() {
            let words = self.long_bits.len();
            for (i, w) in b.windows(WINDOW).enumerate() {
                let key = long_key(w);
                if !has_bit(&self.long_bits, bucket(key, words)) {
                    continue;
                }
                for &ix in self.long.get(&key).into_iter().flatten() {
                    if b[..i + WINDOW].ends_with(self.values[ix as usize].as_bytes()) {
                        hits.push(ix);
                    }
                }
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter()
            .map(|i| &*self.values[i as usize])
            .collect()
    }

    /// Replaces the values the text holds, longest first (so a value that
    /// contains another goes whole).
    fn apply(&self, text: &str, with: &str) -> String {
        let mut present = self.found(text);
        if present.is_empty() {
            return text.to_owned();
        }
        present.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        let mut out = text.to_owned();
        for n in present {
            out = replace(&out, n, with);
        }
        out
    }
}

/// Where a value is filed: under its last [`WINDOW`] bytes when it has
/// that many, else under its first two.
#[derive(Clone, Copy)]
enum Key {
    Long(u64),
    Short(u16),
}

impl Key {
    fn of(b: &[u8]) -> Option<Key> {
        if b.len() >= WINDOW {
            Some(Key::Long(long_key(&b[b.len() - WINDOW..])))
        } else if let [a, c, ..] = *b {
            Some(Key::Short(u16::from_le_bytes([a, c])))
        } else {
            None
        }
    }
}

fn long_key(window: &[u8]) -> u64 {
    let mut k = [0u8; WINDOW];
    k.copy_from_slice(window);
    u64::from_le_bytes(k)
}

/// A well-mixed 64-bit hash of a key (a folded 128-bit multiply).
fn mix(key: u64) -> u64 {
    let p = u128::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    (p >> 64) as u64 ^ p as u64
}

/// The bit of a key in a bitmap of `words` words (a power of two).
fn bucket(key: u64, words: usize) -> usize {
    (mix(key) as usize) & (words * 64 - 1)
}

fn set_bit(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

fn has_bit(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

/// Hashes the integer keys of [`Needles`] with [`mix`]: they are few
/// bytes, and SipHash would cost more than the scan's bit test.
#[derive(Default, Clone, Copy)]
struct Mixed;

impl BuildHasher for Mixed {
    type Hasher = MixHasher;
    fn build_hasher(&self) -> MixHasher {
        MixHasher(0)
    }
}

struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        mix(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u16(&mut self, i: u16) {
        self.0 = u64::from(i);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
}

/// Keys whose values are secrets in a credentials document or a token
/// response.
pub fn is_secret_key(key: &str) -> bool {
    secret_key_bytes(key.as_bytes())
}

/// [`is_secret_key`] of a key's bytes (ASCII case folded, so any bytes do).
fn secret_key_bytes(key: &[u8]) -> bool {
    secret_key_folded(key, |c| c.to_ascii_lowercase())
}

/// Whether a header's name, `-` read as `_`, is a secret key
/// (`X-Api-Key`, `X-Session-Token`).
fn is_secret_header(name: &str) -> bool {
    secret_key_folded(name.as_bytes(), |c| match c {
        b'-' => b'_',
        c => c.to_ascii_lowercase(),
    })
}

/// Whether `key`, each byte folded by `fold` (which must lower-case
/// ASCII), is a secret key: it ends in one of [`SECRET_NAMES`] (whole or
/// after a `_`) or in `token`, or holds `secret` or `password`. Compared
/// as folded, without a folded copy: this runs for every key of every
/// body sifted for tokens or scrubbed, and every request header.
fn secret_key_folded(key: &[u8], fold: impl Fn(u8) -> u8) -> bool {
    let same = |at: &[u8], word: &[u8]| at.iter().zip(word).all(|(&c, &w)| fold(c) == w);
    let ends_with =
        |word: &[u8]| key.len() >= word.len() && same(&key[key.len() - word.len()..], word);
    let holds = |word: &[u8]| key.windows(word.len()).any(|w| same(w, word));
    SECRET_NAMES.iter().any(|name| {
        ends_with(name)
            && (key.len() == name.len() || fold(key[key.len() - name.len() - 1]) == b'_')
    }) || ends_with(b"token")
        || holds(b"secret")
        || holds(b"password")
}

/// The names a secret key ends in, whole or after a `_` (a key is secret
/// too when it ends in `token` or holds `secret` or `password` anywhere).
const SECRET_NAMES: &[&[u8]] = &[
    b"passwd",
    b"pin",
    b"verifier",
    b"assertion",
    b"private_key",
    b"cookie",
    b"session",
    b"api_key",
    b"apikey",
];

/// Keys holding personal data (names, birth dates, health numbers,
/// contacts), collected from live responses.
pub fn is_personal_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['_', '-'], "");
    // Short names only as whole keys: `within` holds no health number.
    const EXACT: &[&str] = &[
        "name", "given", "family", "hin", "sin", "ssn", "dob", "mrn", "zip", "city", "alias",
    ];
    const PART: &[&str] = &[
        "firstname",
        "lastname",
        "middlename",
        "fullname",
        "preferredname",
        "fname",
        "lname",
        "mname",
        "birth",
        "healthcard",
        "healthnum",
        "hinnumber",
        "phone",
        "email",
        "address",
        "street",
        "postal",
        "telecom",
        "chartno",
    ];
    EXACT.contains(&k.as_str()) || PART.iter().any(|p| k.contains(p))
}

impl Redactor {
    pub fn new(redact_personal: bool) -> Redactor {
        Redactor {
            redact_personal,
            ..Redactor::default()
        }
    }

    /// Registers a secret value (and its URL- and JSON-encoded forms).
    pub fn register(&self, value: &str) {
        let value = value.trim();
        if value.len() < 3 {
            // Too short to scrub without destroying ordinary text.
            return;
        }
        // A token is sent with every request of a scenario: once it is
        // registered, its forms are too.
        if self.secrets.read().is_ok_and(|s| s.is_registered(value)) {
            return;
        }
        let mut forms = Vec::with_capacity(3);
        let encoded = utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
        forms.push(encoded.replace("%20", "+"));
        forms.push(encoded);
        if let Ok(json) = serde_json::to_string(value) {
            forms.push(json.trim_matches('"').to_owned());
        }
        if let Ok(mut set) = self.secrets.write() {
            set.register_whole(value, forms.into_iter().filter(|f| f.len() >= 3));
        }
    }

    /// Registers a secret seen on the wire (a token, cookie, signature or
    /// Basic password). Real ones are long; a short value there is a
    /// scenario's deliberately wrong credential (`wrong`, `x`), written in
    /// the scenario file itself, and scrubbing it would eat ordinary words
    /// of every report. Short secrets of the target (PINs, passwords) come
    /// from its credentials document and are registered whatever their
    /// length.
    fn register_observed(&self, value: &str) {
        if value.trim().len() >= OBSERVED_MIN {
            self.register(value);
        }
    }

    /// Registers every secret of a credentials document: values under
    /// secret-named keys, and the `value` of a token (a session cookie).
    pub fn register_credentials(&self, doc: &Value) {
        fn walk(r: &Redactor, v: &Value, secret: bool) {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        walk(r, x, secret || is_secret_key(k) || k == "value");
                    }
                }
                Value::Array(a) => a.iter().for_each(|x| walk(r, x, secret)),
                Value::String(s) if secret => r.register(s),
                Value::Number(n) if secret => r.register(&n.to_string()),
                _ => {}
            }
        }
        walk(self, doc, false);
    }

    /// Registers the secrets an outgoing request carries: the credentials
    /// in `Authorization`, `Cookie` and token-bearing headers.
    pub fn register_request_headers(&self, headers: &[(String, String)]) {
        for (name, value) in headers {
            let is = |n: &str| name.eq_ignore_ascii_case(n);
            if is("authorization") || is("proxy-authorization") {
                self.register_authorization(value);
            } else if is("cookie") {
                for pair in value.split(';') {
                    if let Some((_, v)) = pair.split_once('=') {
                        self.register_observed(v);
                    }
                }
            } else if is_secret_header(name) {
                self.register_observed(value);
            }
        }
    }

    fn register_authorization(&self, value: &str) {
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or(("", value));
        self.register_observed(rest.trim());
        if scheme.eq_ignore_ascii_case("basic") {
            use base64::Engine;
            if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(rest.trim()) {
                if let Some((_, password)) = String::from_utf8_lossy(&raw).split_once(':') {
                    self.register_observed(password);
                }
            }
        } else if scheme.eq_ignore_ascii_case("oauth") {
            // `oauth_token="…", oauth_signature="…"`: the token and the
            // signature are secrets, the rest protocol parameters.
            for part in rest.split(',') {
                if let Some((k, v)) = part.trim().split_once('=') {
                    let k = k.trim();
                    if k == "oauth_token" || k == "oauth_signature" || k == "oauth_verifier" {
                        let v = v.trim().trim_matches('"');
                        self.register_observed(v);
                        if let Ok(d) = percent_encoding::percent_decode_str(v).decode_utf8() {
                            self.register_observed(&d);
                        }
                    }
                }
            }
        }
    }

    /// Registers the secrets a response hands out: cookies it sets and
    /// tokens in a JSON or form-encoded body.
    pub fn register_response(&self, resp: &HttpResponse) {
        let body = &resp.body[..];
        for (name, value) in resp.headers.iter() {
            if name.eq_ignore_ascii_case("set-cookie") {
                if let Some((_, v)) = value.split(';').next().unwrap_or("").split_once('=') {
                    self.register_observed(v);
                }
            }
        }
        if body.len() > 256 * 1024 {
            return;
        }
        // The common cases on bytes, without decoding the body: JSON with
        // no key that could name a secret, and text with no OAuth token.
        match body.trim_ascii_start().first() {
            Some(b'{') => {
                if !may_name_a_secret(body) {
                    return;
                }
                // Read in one pass without a tree (the step's checks may
                // need none); what JSON does not take (a form feed) is
                // read as text.
                if self.register_token_fields(body) {
                    return;
                }
            }
            Some(c) if c.is_ascii_graphic() && !has_oauth_token(body) => return,
            _ => {}
        }
        self.register_body_text(body);
    }

    /// [`Redactor::register_response`] for any body: read as text.
    fn register_body_text(&self, body: &[u8]) {
        let text = String::from_utf8_lossy(body);
        let trimmed = text.trim();
        if trimmed.starts_with('{') && may_name_a_secret(trimmed.as_bytes()) {
            self.register_token_fields(trimmed.as_bytes());
        } else if trimmed.contains("oauth_token=") {
            for pair in trimmed.split('&') {
                if let Some((k, v)) = pair.split_once('=') {
                    if k.starts_with("oauth_token") || k == "oauth_verifier" {
                        self.register_observed(v);
                        if let Ok(d) = percent_encoding::percent_decode_str(v).decode_utf8() {
                            self.register_observed(&d);
                        }
                    }
                }
            }
        }
    }

    /// Registers the strings of a JSON body's secret-named members (an
    /// `access_token`, a `client_secret`), at any depth; `false` when the
    /// body is not JSON.
    fn register_token_fields(&self, body: &[u8]) -> bool {
        json::member_strings(body, &mut |key, value| {
            if is_secret_key(key) {
                self.register_observed(value);
            }
        })
    }

    /// Collects personal values from a response body (JSON or XML), when
    /// personal data is being redacted.
    pub fn collect_personal(&self, body: &[u8]) {
        if !self.redact_personal || body.len() > 4 * 1024 * 1024 {
            return;
        }
        let mut found = Vec::new();
        if let Ok(doc) = serde_json::from_slice::<Value>(body) {
            personal_json(&doc, None, &mut found);
        } else if let Ok(text) = std::str::from_utf8(body) {
            if let Ok(doc) = roxmltree::Document::parse(text.trim_start()) {
                for node in doc.descendants().filter(|n| n.is_element()) {
                    if is_personal_key(node.tag_name().name()) {
                        if let Some(t) = node.text() {
                            found.push(t.trim().to_owned());
                        }
                    }
                }
            }
        }
        self.add_personal(found);
    }

    /// Adds values to scrub as personal data.
    pub fn add_personal(&self, values: impl IntoIterator<Item = String>) {
        if let Ok(mut set) = self.personal.write() {
            set.extend(
                values
                    .into_iter()
                    .map(|v| v.trim().to_owned())
                    .filter(|v| v.chars().count() >= 2 && v != "null"),
            );
        }
    }

    pub fn secret_count(&self) -> usize {
        self.secrets.read().map_or(0, |s| s.len())
    }

    /// Every registered secret, for tests that scan artifacts.
    pub fn secrets(&self) -> Vec<String> {
        self.secrets
            .read()
            .map(|s| s.values.iter().map(|v| v.to_string()).collect())
            .unwrap_or_default()
    }

    /// The text with every secret (and, when enabled, every collected
    /// personal value) replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = match self.secrets.read() {
            Ok(secrets) => secrets.apply(text, SECRET),
            Err(_) => text.to_owned(),
        };
        if self.redact_personal {
            if let Ok(personal) = self.personal.read() {
                out = personal.apply(&out, PERSONAL);
            }
        }
        out
    }

    /// Scrubs every string of a JSON value in place; with personal data
    /// redaction, values under personal keys are replaced keeping their
    /// type (strings become `[personal]`, numbers 0), so shapes survive.
    pub fn scrub_json(&self, v: &mut Value) {
        self.scrub_json_at(v, None);
    }

    fn scrub_json_at(&self, v: &mut Value, key: Option<&str>) {
        let personal = self.redact_personal && key.is_some_and(is_personal_key);
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    self.scrub_json_at(x, Some(k));
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.scrub_json_at(x, key)),
            Value::String(s) if personal && !s.is_empty() => *s = PERSONAL.to_owned(),
            Value::String(s) if key.is_some_and(is_secret_key) && !s.is_empty() => {
                *s = SECRET.to_owned()
            }
            Value::String(s) => *s = self.scrub(s),
            Value::Number(_) if personal => *v = Value::from(0),
            _ => {}
        }
    }

    /// A body for a report or a recording: JSON is scrubbed value by value
    /// (it stays valid JSON), anything else as text.
    pub fn scrub_body(&self, body: &str) -> String {
        // A report's excerpt of a long body ends in `…`, which no JSON
        // document does: parsing it would fail only at its end.
        if body.trim_end().ends_with('…') {
            return self.scrub(body);
        }
        match serde_json::from_str::<Value>(body) {
            Ok(mut doc) if !body.trim().is_empty() => {
                self.scrub_json(&mut doc);
                serde_json::to_string(&doc).unwrap_or_default()
            }
            _ => self.scrub(body),
        }
    }

    /// Scrubs everything a scenario's outcome will show in a report.
    pub fn scrub_outcome(&self, o: &mut ScenarioOutcome) {
        for f in &mut o.failures {
            self.scrub_failure(f);
        }
        for s in o.steps.iter_mut().chain(o.cleanup.iter_mut()) {
            self.scrub_step(s);
        }
        if let Some(r) = &mut o.skip_reason {
            *r = self.scrub(r);
        }
        for l in &mut o.left_behind {
            *l = self.scrub(l);
        }
    }

    fn scrub_step(&self, s: &mut StepOutcome) {
        for f in &mut s.failures {
            self.scrub_failure(f);
        }
        if let Some(x) = &mut s.exchange {
            self.scrub_exchange(x);
        }
        if let Some(r) = &mut s.skip_reason {
            *r = self.scrub(r);
        }
    }

    fn scrub_failure(&self, f: &mut Failure) {
        f.subject = self.scrub(&f.subject);
        f.message = self.scrub(&f.message);
        if let Some(d) = &mut f.diff {
            *d = self.scrub(d);
        }
    }

    fn scrub_exchange(&self, x: &mut Exchange) {
        x.url = self.scrub(&x.url);
        for (name, value) in &mut x.request_headers {
            *value = if is_credential_header(name) {
                SECRET.to_owned()
            } else {
                self.scrub(value)
            };
        }
        if let Some(b) = &mut x.request_body {
            *b = self.scrub_body(b);
        }
        if let Some(b) = &mut x.response_body {
            *b = self.scrub_body(b);
        }
    }
}

/// Whether a JSON text may have a key [`is_secret_key`] accepts. Most
/// responses have none, and are not walked for tokens.
///
/// Without a backslash, a `"` followed by `:` (JSON whitespace between)
/// closes a key and nothing else, since a string cannot hold a bare `"`:
/// the keys are found with `memchr` and tested themselves (a search for
/// the words of such keys, case-insensitive, read bodies at half the
/// speed, and most bodies hold one of the words somewhere). A text with
/// escapes gets the pattern of those words.
fn may_name_a_secret(json: &[u8]) -> bool {
    if memchr::memchr(b'\\', json).is_some() {
        return secret_words(json);
    }
    memchr::memchr_iter(b':', json).any(|colon| {
        let Some(head) = json[..colon].trim_ascii_end().strip_suffix(b"\"") else {
            return false;
        };
        // Keys are short: a plain loop finds their start sooner than a
        // vectorised search would set up.
        let key = head
            .iter()
            .rposition(|&c| c == b'"')
            .map_or(head, |open| &head[open + 1..]);
        secret_key_bytes(key)
    })
}

/// Whether a text holds one of the words of every key [`is_secret_key`]
/// accepts, or a `\u` escape (which could spell one).
fn secret_words(json: &[u8]) -> bool {
    static WORDS: OnceLock<Option<regex::bytes::Regex>> = OnceLock::new();
    WORDS
        .get_or_init(|| {
            regex::bytes::Regex::new(
                r"(?i:pass|pin|secret|token|verifier|assertion|private_key|cookie|session|api_?key)|\\u",
            )
            .ok()
        })
        .as_ref()
        .is_none_or(|re| re.is_match(json))
}

/// Whether a body has `oauth_token=` (HTML pages and XML are read whole
/// for it, with `memmem`'s SIMD search).
fn has_oauth_token(body: &[u8]) -> bool {
    memchr::memmem::find(body, b"oauth_token=").is_some()
}

/// Headers whose whole value is a credential.
pub fn is_credential_header(name: &str) -> bool {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

fn personal_json(v: &Value, key: Option<&str>, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                personal_json(x, Some(k), out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| personal_json(x, key, out)),
        Value::String(s) if key.is_some_and(is_personal_key) => out.push(s.clone()),
        Value::Number(n) if key.is_some_and(is_personal_key) => out.push(n.to_string()),
        _ => {}
    }
}

/// Replaces `needle` in `text`; short needles only where they are not
/// part of a longer word or number.
fn replace(text: &str, needle: &str, with: &str) -> String {
    if needle.is_empty() || !text.contains(needle) {
        return text.to_owned();
    }
    if needle.len() >= WHOLE_WORD_BELOW {
        return text.replace(needle, with);
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(needle) {
        let mut back = rest[..i].chars().rev();
        let (before, before2) = (back.next(), back.next());
        let mut ahead = rest[i + needle.len()..].chars();
        let (after, after2) = (ahead.next(), ahead.next());
        let edge_ok = |edge: Option<char>, inner: Option<char>| !(word(edge) && word(inner));
        // `1117` in `1117.9` or `3.1117` is part of a decimal number.
        let decimal = |edge: Option<char>, beyond: Option<char>, inner: Option<char>| {
            edge == Some('.') && digit(beyond) && digit(inner)
        };
        let first = needle.chars().next();
        let last = needle.chars().next_back();
        out.push_str(&rest[..i]);
        if edge_ok(before, first)
            && edge_ok(after, last)
            && !decimal(before, before2, first)
            && !decimal(after, after2, last)
        {
            out.push_str(with);
        } else {
            out.push_str(needle);
        }
        rest = &rest[i + needle.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn respond(r: &Redactor, headers: &[(String, String)], body: &[u8]) {
        r.register_response(&HttpResponse {
            status: 200,
            headers: headers.iter().cloned().collect(),
            body: bytes::Bytes::copy_from_slice(body),
            elapsed: std::time::Duration::ZERO,
            parsed: Default::default(),
        });
    }

    #[test]
    fn credentials_documents_register_their_secrets_only() {
        let r = Redactor::new(false);
        r.register_credentials(&json!({
            "profile": "oscar",
            "users": [{"username": "oscardoc", "password": "mac2002#", "pin": "1117", "security_no": 128}],
            "tokens": {"oauth2": {"access_token": "tok-abcdefghijklmnop", "expires_in": 3600}},
            "oauth1": {"clients": [{"key": "consumer-key", "secret": "s3cr3t-value"}]}
        }));
        let text = "user oscardoc pw mac2002# enc mac2002%23 pin 1117 not 111700 tok-abcdefghijklmnop s3cr3t-value 128";
        assert_eq!(
            r.scrub(text),
            "user oscardoc pw [secret] enc [secret] pin [secret] not 111700 [secret] [secret] 128"
        );
    }

    #[test]
    fn tokens_crossing_the_transport_are_registered() {
        let r = Redactor::new(false);
        r.register_request_headers(&[
            ("Authorization".into(), "Bearer eyJabc.def.ghi-token".into()),
            (
                "Cookie".into(),
                "JSESSIONID=ABCDEF123456; other=xyz12345".into(),
            ),
        ]);
        respond(
            &r,
            &[("Set-Cookie".into(), "OpenEMR=sess-987654321; Path=/".into())],
            br#"{"access_token":"at-1234567890","refresh_token":"rt-0987654321","token_type":"Bearer"}"#,
        );
        respond(
            &r,
            &[],
            b"oauth_token=req%2Btok123&oauth_token_secret=sec456789&oauth_callback_confirmed=true",
        );
        r.register_request_headers(&[(
            "Authorization".into(),
            "OAuth oauth_consumer_key=\"ck\", oauth_token=\"acc-tok-42\", oauth_signature=\"sigsigsig%3D%3D\"".into(),
        )]);
        let r2 = Redactor::new(false);
        r2.register_request_headers(&[(
            "Authorization".into(),
            "Basic b3NjYXJkb2M6bWFjMjAwMiM=".into(),
        )]);
        for s in [
            "eyJabc.def.ghi-token",
            "ABCDEF123456",
            "xyz12345",
            "sess-987654321",
            "at-1234567890",
            "rt-0987654321",
            "req+tok123",
            "sec456789",
            "acc-tok-42",
            "sigsigsig==",
        ] {
            assert_eq!(r.scrub(&format!("<{s}>")), "<[secret]>", "{s}");
        }
        assert_eq!(r.scrub("Bearer"), "Bearer");
        assert_eq!(r2.scrub("pw=mac2002#"), "pw=[secret]");
    }

    #[test]
    fn token_fields_are_found_however_their_keys_are_written() {
        let r = Redactor::new(false);
        respond(
            &r,
            &[],
            br#"{"data": {"access_t\u006fken": "tok-escaped-12345"}}"#,
        );
        respond(&r, &[], br#"{"API_KEY": "key-upper-123456", "n": 1}"#);
        assert_eq!(
            r.scrub("tok-escaped-12345 key-upper-123456"),
            "[secret] [secret]"
        );
        // Bodies the byte-level reading leaves to the text one: invalid
        // UTF-8 (read lossily) and a leading vertical tab (trimmed).
        respond(
            &r,
            &[],
            b"{\"n\": \"\xff\", \"refresh_token\": \"rt-after-bad-byte\"}",
        );
        respond(&r, &[], b"\x0b{\"id_token\": \"idt-after-vtab-1\"}");
        // A form feed, which JSON does not take: read as text, trimmed.
        respond(&r, &[], b"{\"id_token\": \"idt-before-ff-1\"}\x0c");
        respond(
            &r,
            &[],
            b"oauth_token=req-tok-text-1&oauth_callback_confirmed=true",
        );
        assert_eq!(
            r.scrub("rt-after-bad-byte idt-after-vtab-1 idt-before-ff-1 req-tok-text-1"),
            "[secret] [secret] [secret] [secret]"
        );
        // No key names a secret: nothing is registered.
        let n = r.secret_count();
        respond(
            &r,
            &[],
            br#"{"name": "an-ordinary-value", "id": "12345678"}"#,
        );
        assert_eq!(r.secret_count(), n);
    }

    #[test]
    fn short_wrong_credentials_on_the_wire_are_not_secrets() {
        use base64::Engine;
        let r = Redactor::new(false);
        let basic = base64::engine::general_purpose::STANDARD.encode("client:wrong");
        r.register_request_headers(&[
            ("Authorization".into(), format!("Basic {basic}")),
            ("Cookie".into(), "JSESSIONID=x".into()),
        ]);
        assert_eq!(
            r.scrub("accepted 0  wrong answers 0"),
            "accepted 0  wrong answers 0"
        );
        // The same short value from the credentials document is a secret.
        r.register_credentials(&json!({"users": [{"pin": "wrong"}]}));
        assert_eq!(r.scrub("pin wrong"), "pin [secret]");
    }

    #[test]
    fn personal_values_are_collected_and_scrubbed_keeping_json_shape() {
        let r = Redactor::new(true);
        r.collect_personal(br#"{"firstName":"Jordan","lastName":"Lee","hin":1234567897,"username":"oscardoc","id":7}"#);
        r.collect_personal(b"<return><lastName>Okafor</lastName><id>3</id></return>");
        assert_eq!(
            r.scrub("expected \"Lee\", got \"Jordan Okafor\" (Leeds, 1234567897)"),
            "expected \"[personal]\", got \"[personal] [personal]\" (Leeds, [personal])"
        );
        let mut doc = json!({"firstName": "Jordan", "hin": 1234567897, "username": "oscardoc", "note": "Lee called", "password": "x"});
        r.scrub_json(&mut doc);
        assert_eq!(
            doc,
            json!({"firstName": "[personal]", "hin": 0, "username": "oscardoc", "note": "[personal] called", "password": "[secret]"})
        );
        let off = Redactor::new(false);
        off.collect_personal(br#"{"lastName":"Lee"}"#);
        assert_eq!(off.scrub("Lee"), "Lee", "not collected against the mock");
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let r = Redactor::new(false);
        r.register("hunter2-password");
        assert!(!format!("{r:?}").contains("hunter2"));
    }

    #[test]
    fn short_numeric_secrets_leave_decimal_numbers_alone() {
        let r = Redactor::new(false);
        r.register("1117");
        assert_eq!(
            r.scrub(r#"{"rate": 1117.9, "ms": 3.1117, "pin": "1117", "at": "x.1117."}"#),
            r#"{"rate": 1117.9, "ms": 3.1117, "pin": "[secret]", "at": "x.[secret]."}"#
        );
    }

    #[test]
    fn short_secrets_are_replaced_as_whole_words() {
        assert_eq!(replace("pass passed pass.", "pass", "X"), "X passed X.");
        assert_eq!(replace("a1117b 1117", "1117", "X"), "a1117b X");
        assert_eq!(
            replace("xlong-secret-valuex", "long-secret-value", "X"),
            "xXx"
        );
    }

    #[test]
    fn many_secrets_are_all_scrubbed_longest_first() {
        let r = Redactor::new(false);
        // Enough to resize the index several times; a short secret inside
        // a longer one registered later.
        r.register("token-0000-abc");
        for i in 0..3000 {
            r.register(&format!("sig{i:04}zz"));
        }
        r.register("token-0000-abcdefghij");
        let text = "a sig0007zz b sig2999zz c token-0000-abcdefghij d token-0000-abc";
        assert_eq!(r.scrub(text), "a [secret] b [secret] c [secret] d [secret]");
        assert_eq!(r.scrub("nothing here"), "nothing here");
    }

    #[test]
    fn a_value_known_as_another_ones_form_still_gets_its_own_forms() {
        let r = Redactor::new(false);
        r.register("tok en+xyz1");
        // Already known (the percent-encoded form of the first), but not
        // registered whole: its own encoded forms must be added.
        r.register("tok%20en%2Bxyz1");
        assert_eq!(r.scrub("<tok%2520en%252Bxyz1>"), "<[secret]>");
        // Registering a value again changes nothing.
        let n = r.secret_count();
        r.register("tok en+xyz1");
        assert_eq!(r.secret_count(), n);
    }

    #[test]
    fn tokens_sharing_their_start_or_end_are_told_apart() {
        // JWTs share their header; percent-encoded forms their padding.
        let r = Redactor::new(false);
        let jwt = |i: usize| format!("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI{i}fQ.c2lnbmF0dXJl{i:05}");
        for i in 0..500 {
            r.register(&jwt(i));
        }
        r.register("abcdefgh%3D%3D");
        let text = format!(
            "x{} y eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI7fQ.c2lnbmF0dXJl00008 z{}",
            jwt(7),
            jwt(499)
        );
        assert_eq!(
            r.scrub(&text),
            "x[secret] y eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI7fQ.c2lnbmF0dXJl00008 z[secret]"
        );
        assert_eq!(r.scrub("zzabcdefgh%3D%3D"), "zz[secret]");
        assert_eq!(r.scrub("bcdefgh%3D%3D"), "bcdefgh%3D%3D");
    }

    proptest::proptest! {
        /// The allocation-free key test agrees with the plain reading of
        /// the rule (short, long and non-ASCII keys), and so does the
        /// header test, which reads `-` as `_`.
        #[test]
        fn secret_keys_are_told_as_the_rule_says(
            key in "(?i)(x|_|-|\u{c9}|\u{17f}|\u{212a}|pin|token|secret|password|passwd|session|api_?key|verifier|assertion|private_key|cookie|s){0,12}"
        ) {
            let rule = |k: &str| {
                [
                    "password", "passwd", "pin", "secret", "token", "verifier", "assertion",
                    "private_key", "cookie", "session", "api_key", "apikey",
                ]
                .iter()
                .any(|s| k == *s || k.ends_with(&format!("_{s}")))
                    || k.contains("secret")
                    || k.contains("password")
                    || k.ends_with("token")
            };
            let k = key.to_ascii_lowercase();
            proptest::prop_assert_eq!(is_secret_key(&key), rule(&k), "{}", key);
            proptest::prop_assert_eq!(is_secret_header(&key), rule(&k.replace('-', "_")), "{}", key);
        }
    }

    /// JSON documents with keys secret and not, some needing escapes,
    /// and strings holding quotes and colons.
    fn json_docs() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let key = proptest::sample::select(vec![
            "id",
            "name",
            "access_token",
            "Pin",
            "x\"y",
            "a\\b",
            "t\u{e9}",
            "session_id",
            "\u{1}",
            "when:",
            "refresh_token",
            "client_secret",
        ]);
        let text = proptest::sample::select(vec!["v", "a\":b", "\\", "10:00", "\"", "token"]);
        let leaf = prop_oneof![
            text.prop_map(|t| Value::String(t.to_owned())),
            Just(Value::Null),
            any::<i32>().prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((key.clone(), inner), 0..4).prop_map(|kv| {
                    Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                }),
            ]
        })
    }

    fn has_secret_string(v: &Value) -> bool {
        match v {
            Value::Object(m) => m
                .iter()
                .any(|(k, x)| (x.is_string() && is_secret_key(k)) || has_secret_string(x)),
            Value::Array(a) => a.iter().any(has_secret_string),
            _ => false,
        }
    }

    proptest::proptest! {
        /// The prefilter never turns away a document with a token field,
        /// compact or pretty-printed.
        #[test]
        fn the_secret_key_prefilter_misses_no_token(doc in json_docs()) {
            if has_secret_string(&doc) {
                for text in [doc.to_string(), serde_json::to_string_pretty(&doc).unwrap_or_default()] {
                    proptest::prop_assert!(may_name_a_secret(text.as_bytes()), "{}", text);
                }
            }
        }
    }

    #[test]
    fn secret_headers_are_told_by_their_names() {
        for name in ["X-Api-Key", "x-session-token", "Private-Key", "APIKEY"] {
            assert!(is_secret_header(name), "{name}");
        }
        for name in ["Content-Type", "Accept", "X-Request-Id", "Token-Count"] {
            assert!(!is_secret_header(name), "{name}");
        }
        let long = format!("X-{}-Api-Key", "A".repeat(80));
        assert!(is_secret_header(&long));
    }

    #[test]
    fn the_secret_key_prefilter_turns_ordinary_documents_away() {
        let fhir = r#"{"resourceType": "Patient", "id": "9f1c", "meta": {"lastUpdated": "2026-01-01T10:00:00Z"},
            "name": [{"family": "Tokenby", "given": ["Pinto"]}], "note": "session at 10:00"}"#;
        assert!(!may_name_a_secret(fhir.as_bytes()));
        assert!(may_name_a_secret(br#"{"a": {"access_token" : "x"}}"#));
        assert!(may_name_a_secret(br#"{"n": "\u0074oken"}"#));
    }

    proptest::proptest! {
        /// The index finds exactly the values a search for each one finds
        /// (overlapping, nested, sharing starts and ends, multibyte).
        #[test]
        fn the_index_finds_what_a_search_per_value_finds(
            values in proptest::collection::vec("[ab\u{e9}/=%]{2,12}", 1..40),
            pieces in proptest::collection::vec((0usize..40, "[ab\u{e9}/=% ]{0,3}"), 0..8),
        ) {
            // Texts made of values, cut and glued, hold many of them.
            let text: String = pieces
                .iter()
                .map(|(i, glue)| {
                    let v = &values[i % values.len()];
                    let cut = v.char_indices().nth(i % 3).map_or(0, |(at, _)| at);
                    format!("{glue}{}", &v[cut..])
                })
                .collect();
            let mut n = Needles::default();
            n.extend(values.iter().cloned());
            let mut expected: Vec<&str> = values
                .iter()
                .filter(|v| text.contains(v.as_str()))
                .map(String::as_str)
                .collect();
            expected.sort_unstable();
            expected.dedup();
            let mut found = n.found(&text);
            found.sort_unstable();
            proptest::prop_assert_eq!(found, expected);
        }
    }
}
