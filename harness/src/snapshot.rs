//! Response snapshots, stored as insta `.snap` files under `snapshots/`.
//!
//! The files are insta's format, read back with insta and compared with
//! its normalisation, so `cargo insta review` works on the pending
//! `.snap.new` files a mismatch leaves. Volatile values (timestamps,
//! uuids, tokens, secrets) are redacted before comparing, so a snapshot
//! only changes when the response's content or shape does.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use insta::internals::TextSnapshotContents;
use insta::TextSnapshotKind;
use regex::Regex;
use serde_json::Value;

use crate::check::text_diff;
use crate::outcome::{Failure, FailureKind};
use crate::scenario::{JsonPathExpr, Redaction, Scenario, SnapshotSpec};
use crate::transport::HttpResponse;

/// What to do with snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Compare; on a mismatch or a missing file, write a `.snap.new` next
    /// to it for review and fail.
    Compare,
    /// Compare and fail without writing anything (CI).
    CompareOnly,
    /// Write what was received and pass.
    Update,
}

/// Where snapshots live and how they are treated.
#[derive(Debug, Clone)]
pub struct Snapshots {
    pub dir: PathBuf,
    pub mode: SnapshotMode,
    /// Also redact personal data (names, birth dates, HIN, contacts): the
    /// default against live targets.
    pub redact_personal: bool,
}

impl Snapshots {
    /// The file of a scenario's named snapshot: the scenario id as
    /// directories, then `<last>__<name>.snap`.
    pub fn path(&self, scenario_id: &str, name: &str) -> PathBuf {
        let mut p = self.dir.clone();
        let mut parts: Vec<&str> = scenario_id.split('/').collect();
        let last = parts.pop().unwrap_or("scenario");
        for part in parts {
            p.push(part);
        }
        p.push(format!("{last}__{name}.snap"));
        p
    }

    /// Compares (or records) the snapshot of a response.
    pub fn check(
        &self,
        scenario: &Scenario,
        spec: &SnapshotSpec,
        expression: &str,
        resp: &HttpResponse,
    ) -> Result<(), Failure> {
        let tns = crate::soap::target_namespace(scenario.profile).unwrap_or("");
        let content = render(resp, &spec.redact, self.redact_personal, tns);
        let path = self.path(&scenario.id, &spec.name);
        let source = scenario.file.to_string_lossy().replace('\\', "/");
        let fail =
            |message: String| Failure::new(FailureKind::Snapshot, spec.name.clone(), message);
        match self.mode {
            SnapshotMode::Update => {
                let unchanged = read(&path).is_ok_and(|old| same(&old, &content));
                if !unchanged {
                    write(&path, &source, expression, &content)
                        .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
                }
                let _ = std::fs::remove_file(path.with_extension("snap.new"));
                Ok(())
            }
            SnapshotMode::Compare | SnapshotMode::CompareOnly => {
                let pending = path.with_extension("snap.new");
                let old = match read(&path) {
                    Ok(old) => old,
                    Err(_) => {
                        if self.mode == SnapshotMode::Compare {
                            let _ = write(&pending, &source, expression, &content);
                        }
                        return Err(fail(format!(
                            "no snapshot at {} yet; run with --update-snapshots to record it",
                            path.display()
                        )));
                    }
                };
                if same(&old, &content) {
                    let _ = std::fs::remove_file(&pending);
                    return Ok(());
                }
                if self.mode == SnapshotMode::Compare {
                    let _ = write(&pending, &source, expression, &content);
                }
                Err(fail(format!(
                    "the response differs from {} (review with `cargo insta review`, or rerun with --update-snapshots)",
                    path.display()
                ))
                .with_diff(Some(text_diff(&old, &content))))
            }
        }
    }
}

/// Reads a snapshot's contents with insta.
fn read(path: &Path) -> Result<String, String> {
    let snap = insta::Snapshot::from_file(path).map_err(|e| e.to_string())?;
    snap.contents()
        .as_text()
        .map(|t| t.to_string())
        .ok_or_else(|| "binary snapshot".to_owned())
}

/// insta's comparison: trailing whitespace and line endings do not count.
fn same(old: &str, new: &str) -> bool {
    let a = TextSnapshotContents::new(old.to_owned(), TextSnapshotKind::File);
    let b = TextSnapshotContents::new(new.to_owned(), TextSnapshotKind::File);
    a.matches_latest(&b)
}

/// Writes a `.snap` file in insta's format.
fn write(path: &Path, source: &str, expression: &str, content: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let text = format!(
        "---\nsource: {}\nexpression: {}\n---\n{}\n",
        quote(source),
        quote(expression),
        content.trim_end()
    );
    std::fs::write(path, text)
}

/// The snapshot text of a response: a status line, then the body (JSON
/// and XML pretty-printed), with redactions applied. `tns` is the
/// target's SOAP namespace, for XML paths that use `tns:`.
pub fn render(resp: &HttpResponse, redact: &[Redaction], personal: bool, tns: &str) -> String {
    let media = resp.media_type();
    let text = resp.text();
    let body = match resp.json() {
        Ok(doc) if !resp.body.is_empty() => {
            let mut doc = doc.into_owned();
            for r in redact {
                if let Redaction::Json(path) = r {
                    redact_path(&mut doc, path);
                }
            }
            redact_json(&mut doc, None, personal);
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        }
        _ => match xml_pretty(&text, redact, personal, tns) {
            Some(xml) => redact_text(&xml),
            None => redact_text(&text),
        },
    };
    format!("HTTP {} {}\n\n{}", resp.status, media, body)
}

/// XML indented two spaces per level, element texts redacted by their
/// element's name (secrets; personal data when asked) and by the XML
/// paths given. `None` when the text is not XML.
fn xml_pretty(text: &str, redact: &[Redaction], personal: bool, tns: &str) -> Option<String> {
    use roxmltree::{Node, NodeId};
    use std::collections::HashSet;
    let trimmed = text.trim_start();
    if !trimmed.starts_with('<') {
        return None;
    }
    let doc = crate::soap::parse_response(text).ok()?;
    let mut marked: HashSet<NodeId> = HashSet::new();
    let mut marked_attrs: HashSet<(NodeId, String)> = HashSet::new();
    for r in redact {
        if let Redaction::Xml(path) = r {
            let nodes = path.select(&doc, tns).into_iter().map(|n| n.id());
            match path.attribute() {
                Some(a) => marked_attrs.extend(nodes.map(|id| (id, a.to_owned()))),
                None => marked.extend(nodes),
            }
        }
    }
    let esc = crate::soap::escape;
    let qname = |n: &Node, ns: Option<&str>, local: &str| -> String {
        match ns
            .filter(|s| !s.is_empty())
            .and_then(|u| n.lookup_prefix(u))
        {
            Some(p) if !p.is_empty() => format!("{p}:{local}"),
            _ => local.to_owned(),
        }
    };
    let mut out = String::new();
    // An explicit stack instead of recursion: a deep document cannot
    // exhaust the harness's stack.
    enum Visit<'a, 'i> {
        Open(Node<'a, 'i>, usize),
        Close(String, usize),
    }
    let mut stack = vec![Visit::Open(doc.root_element(), 0)];
    while let Some(v) = stack.pop() {
        let (node, depth) = match v {
            Visit::Close(name, depth) => {
                out.push_str(&format!("{}</{name}>\n", "  ".repeat(depth)));
                continue;
            }
            Visit::Open(n, d) => (n, d),
        };
        let tag = node.tag_name();
        let name = qname(&node, tag.namespace(), tag.name());
        let mut open = format!("{}<{name}", "  ".repeat(depth));
        let parent_ns: Vec<(Option<&str>, &str)> = node
            .parent_element()
            .map(|p| p.namespaces().map(|n| (n.name(), n.uri())).collect())
            .unwrap_or_default();
        for ns in node.namespaces() {
            if parent_ns.contains(&(ns.name(), ns.uri())) {
                continue;
            }
            match ns.name() {
                Some(p) => open.push_str(&format!(" xmlns:{p}=\"{}\"", esc(ns.uri()))),
                None => open.push_str(&format!(" xmlns=\"{}\"", esc(ns.uri()))),
            }
        }
        for a in node.attributes() {
            let an = qname(&node, a.namespace(), a.name());
            let value = if marked_attrs.contains(&(node.id(), a.name().to_owned())) {
                "[redacted]".to_owned()
            } else {
                esc(a.value())
            };
            open.push_str(&format!(" {an}=\"{value}\""));
        }
        let children: Vec<Node> = node.children().filter(Node::is_element).collect();
        let own_text: String = node
            .children()
            .filter(Node::is_text)
            .filter_map(|t| t.text())
            .collect::<String>()
            .trim()
            .to_owned();
        let local = tag.name();
        let shown = if own_text.is_empty() {
            own_text
        } else if marked.contains(&node.id()) {
            "[redacted]".to_owned()
        } else if is_secret_key(local) {
            "[secret]".to_owned()
        } else if personal && is_personal_key(local) {
            "[personal]".to_owned()
        } else {
            esc(&own_text)
        };
        if children.is_empty() {
            if shown.is_empty() {
                out.push_str(&format!("{open}/>\n"));
            } else {
                out.push_str(&format!("{open}>{shown}</{name}>\n"));
            }
            continue;
        }
        out.push_str(&format!("{open}>\n"));
        if !shown.is_empty() {
            out.push_str(&format!("{}{shown}\n", "  ".repeat(depth + 1)));
        }
        stack.push(Visit::Close(name, depth));
        for c in children.into_iter().rev() {
            stack.push(Visit::Open(c, depth + 1));
        }
    }
    Some(out.trim_end().to_owned())
}

/// Replaces the values a JSONPath selects by `[redacted]`.
fn redact_path(doc: &mut Value, path: &JsonPathExpr) {
    let pointers: Vec<String> = path
        .path
        .query_located(doc)
        .all()
        .into_iter()
        .map(|n| n.location().to_json_pointer())
        .collect();
    for pointer in pointers {
        if let Some(v) = doc.pointer_mut(&pointer) {
            *v = Value::String("[redacted]".into());
        }
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    // The patterns are literals below, covered by the unit tests.
    cell.get_or_init(|| Regex::new(pattern).expect("valid built-in pattern"))
}

fn timestamp_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\b",
    )
}

/// The pattern [`next_uuid`] implements, for its tests.
#[cfg(test)]
fn uuid_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
    )
}

/// The pattern [`next_jwt`] implements, for its tests.
#[cfg(test)]
fn jwt_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
}

/// The parameters whose values are redacted from any text.
const SECRET_PARAMS: &[&str] = &[
    "oauth_token",
    "oauth_token_secret",
    "oauth_verifier",
    "oauth_signature",
    "oauth_nonce",
    "code",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "password",
    "state",
];

/// A [`SECRET_PARAMS`] name, `=`, and its value.
fn secret_param_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        let pattern = format!(r"(?i)\b({})=([^&\s<]+)", SECRET_PARAMS.join("|"));
        Regex::new(&pattern).expect("valid built-in pattern")
    })
}

/// Keys whose values are secrets, whatever they look like.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "token",
        "secret",
        "password",
        "verifier",
        "nonce",
        "signature",
        "assertion",
        "pin",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// Keys holding instants as epoch milliseconds (Jackson dates).
fn is_time_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "date",
        "time",
        "stamp",
        "created",
        "updated",
        "issued",
        "expires",
        "exp",
        "iat",
        "lastupdate",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// Keys holding personal data, redacted on live targets.
fn is_personal_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['_', '-'], "");
    [
        "firstname",
        "lastname",
        "middlename",
        "fname",
        "lname",
        "mname",
        "name",
        "given",
        "family",
        "dob",
        "birth",
        "hin",
        "healthcard",
        "phone",
        "email",
        "address",
        "street",
        "city",
        "postal",
        "telecom",
        "sin",
        "alias",
    ]
    .iter()
    .any(|s| k.contains(s))
}

fn redact_json(v: &mut Value, key: Option<&str>, personal: bool) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                redact_json(x, Some(k), personal);
            }
        }
        Value::Array(a) => {
            for x in a {
                redact_json(x, key, personal);
            }
        }
        Value::String(s) => {
            if key.is_some_and(is_secret_key) && !s.is_empty() {
                *s = "[secret]".into();
            } else if personal && key.is_some_and(is_personal_key) && !s.is_empty() {
                *s = "[personal]".into();
            } else {
                *s = redact_text(s);
            }
        }
        Value::Number(n) => {
            let big = n.as_i64().is_some_and(|x| x > 100_000_000_000);
            if big && key.is_some_and(is_time_key) {
                *v = Value::String("[timestamp]".into());
            } else if personal && key.is_some_and(is_personal_key) {
                *v = Value::String("[personal]".into());
            }
        }
        _ => {}
    }
}

/// Redactions for any text: instants, uuids, JWTs, secret parameters.
pub fn redact_text(s: &str) -> String {
    // Every exchange of a report goes through here, bodies full of
    // instants and uuids: the patterns are found by the scanners below,
    // exact equivalents of them and several times faster than the
    // regexes (which leave their fast engines for slow ones on any text
    // that is not ASCII). A text with digits beyond ASCII, which `\d`
    // matches, gets the instant pattern itself; one beyond ASCII at all
    // gets the secret parameters' (whose `(?i)` reaches beyond it).
    let ascii = s.is_ascii();
    let mut s = Cow::Borrowed(s);
    if ascii || !s.chars().any(|c| !c.is_ascii() && c.is_numeric()) {
        replace_found(&mut s, next_timestamp, "[timestamp]");
    } else {
        replace_in(&mut s, timestamp_re(), "[timestamp]");
    }
    replace_found(&mut s, next_uuid, "[uuid]");
    replace_found(&mut s, next_jwt, "[jwt]");
    if ascii {
        replace_found(&mut s, next_secret_param, "[secret]");
    } else {
        replace_in(&mut s, secret_param_re(), "$1=[secret]");
    }
    s.into_owned()
}

/// A word character of the patterns' `\b` (Unicode's `\w`).
pub(crate) fn is_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    static WORD: OnceLock<Regex> = OnceLock::new();
    re(&WORD, r"^\w$").is_match(c.encode_utf8(&mut [0; 4]))
}

/// `\b` at `at` (a character boundary) when the character before it is a
/// word character.
fn ends_word(s: &str, at: usize) -> bool {
    s[at..].chars().next().is_none_or(|c| !is_word(c))
}

/// `\b` at `at` (a character boundary) when the character at it is a
/// word character.
fn starts_word(s: &str, at: usize) -> bool {
    s[..at].chars().next_back().is_none_or(|c| !is_word(c))
}

/// Whether `b[at..]` starts with `shape`, where `d` is an ASCII digit,
/// `h` a hex digit, `s` `T` or a space, `o` `+` or `-`, and any other
/// byte itself.
fn shaped(b: &[u8], at: usize, shape: &[u8]) -> bool {
    b.get(at..at + shape.len()).is_some_and(|w| {
        w.iter().zip(shape).all(|(&c, &s)| match s {
            b'd' => c.is_ascii_digit(),
            b'h' => c.is_ascii_hexdigit(),
            b's' => c == b'T' || c == b' ',
            b'o' => c == b'+' || c == b'-',
            _ => c == s,
        })
    })
}

/// The next match of [`timestamp_re`] at or after `from` in a text whose
/// digits are ASCII:
/// `\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\b`,
/// its optional parts tried in the regex's order (greedy, each kept only
/// if the final `\b` then holds).
fn next_timestamp(s: &str, from: usize) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    for start in dashes(s, from, 4) {
        if !shaped(b, start, b"dddd-dd-ddsdd:dd") || !starts_word(s, start) {
            continue;
        }
        let minutes = start + 16;
        let seconds = shaped(b, minutes, b":dd").then_some(minutes + 3);
        // `\.\d+` gives back digits only to reach a `\b`, which a digit
        // after it never is: it takes all of them or nothing.
        let fraction = seconds.filter(|&at| shaped(b, at, b".d")).map(|at| {
            at + 1
                + b[at + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count()
        });
        for end in [fraction, seconds, Some(minutes)].into_iter().flatten() {
            let zone = if shaped(b, end, b"Z") {
                Some(end + 1)
            } else if shaped(b, end, b"odd:dd") {
                Some(end + 6)
            } else if shaped(b, end, b"odddd") {
                Some(end + 5)
            } else {
                None
            };
            if let Some(z) = zone.filter(|&z| ends_word(s, z)) {
                return Some((start, z));
            }
            if ends_word(s, end) {
                return Some((start, end));
            }
        }
    }
    None
}

/// The next match of [`uuid_re`] at or after `from`.
fn next_uuid(s: &str, from: usize) -> Option<(usize, usize)> {
    const SHAPE: &[u8] = b"hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh";
    dashes(s, from, 8)
        .map(|start| (start, start + SHAPE.len()))
        .find(|&(start, end)| {
            shaped(s.as_bytes(), start, SHAPE) && starts_word(s, start) && ends_word(s, end)
        })
}

/// Where candidates start at or after `from`, for patterns whose first `-`
/// is `lead` bytes in (the search for `-` is `memchr`'s).
fn dashes(s: &str, from: usize, lead: usize) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'-', &s.as_bytes()[from..])
        .filter_map(move |i| (from + i).checked_sub(lead))
        .filter(move |&start| start >= from)
}

/// Replaces every match `next` finds (searching on after each one),
/// copying the text only when there is one.
fn replace_found(
    text: &mut Cow<'_, str>,
    next: fn(&str, usize) -> Option<(usize, usize)>,
    with: &str,
) {
    let Some(mut found) = next(text, 0) else {
        return;
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    loop {
        let (start, end) = found;
        out.push_str(&text[copied..start]);
        out.push_str(with);
        copied = end;
        match next(text, end) {
            Some(f) => found = f,
            None => break,
        }
    }
    out.push_str(&text[copied..]);
    *text = Cow::Owned(out);
}

/// The next match of [`jwt_re`] at or after `from`: `eyJ` at the start
/// of a word, then runs of base64url characters, the first two of one or
/// more, each closed by a `.`, the third maybe empty. A run holds no `.`,
/// so none gives back characters: the `.` must follow the whole run.
fn next_jwt(s: &str, from: usize) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    let run = |at: usize| {
        at + b[at..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            .count()
    };
    memchr::memmem::find_iter(&b[from..], b"eyJ")
        .map(|i| from + i)
        .find_map(|start| {
            if !starts_word(s, start) {
                return None;
            }
            let mut at = start + 3;
            for _ in 0..2 {
                let end = run(at);
                if end == at || b.get(end) != Some(&b'.') {
                    return None;
                }
                at = end + 1;
            }
            Some((start, run(at)))
        })
}

/// The value of the next match of [`secret_param_re`] at or after `from`
/// in an ASCII text (where its `(?i)` is ASCII's): a [`SECRET_PARAMS`] name
/// at the start of a word, `=`, then the value, up to `&`, white space or
/// `<`. No name holds a `=` or ends another after a word boundary, so
/// each `=` closes one name at most.
fn next_secret_param(s: &str, from: usize) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    memchr::memchr_iter(b'=', &b[from..])
        .map(|i| from + i)
        .find_map(|eq| {
            SECRET_PARAMS.iter().find(|name| {
                eq >= from + name.len()
                    && b[eq - name.len()..eq].eq_ignore_ascii_case(name.as_bytes())
                    && starts_word(s, eq - name.len())
            })?;
            let value = b[eq + 1..]
                .iter()
                .take_while(|&&c| !matches!(c, b'&' | b'<' | b' ' | b'\t'..=b'\r'))
                .count();
            (value > 0).then_some((eq + 1, eq + 1 + value))
        })
}

/// Replaces every match in `text`, copying it only when one is found.
fn replace_in(text: &mut Cow<'_, str>, re: &Regex, with: &str) {
    let replaced = match re.replace_all(text, with) {
        Cow::Owned(r) => Some(r),
        Cow::Borrowed(_) => None,
    };
    if let Some(r) = replaced {
        *text = Cow::Owned(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn resp(body: &str) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: [("content-type", "application/json")].into_iter().collect(),
            body: body.as_bytes().to_vec().into(),
            elapsed: Duration::ZERO,
            parsed: Default::default(),
        }
    }

    proptest::proptest! {
        /// The scans that skip patterns change nothing: the result is the
        /// four patterns applied one after the other.
        #[test]
        fn skipping_patterns_that_cannot_match_changes_nothing(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "2026-11-24T21:32:00Z", "2026-11-24 21:32", "1985-04-12", "-12-",
                    "9f1c2a3b-1111-4222-8333-444455556666", "-abcd-", "eyJhbGc.eyJzdWI.c2ln",
                    "code=x", "STATE=y", "\u{17f}tate=z", "to\u{212a}en=q", "oauth_nonce=n",
                    "\u{662}\u{660}\u{662}\u{664}-\u{660}\u{661}-\u{660}\u{662}T10:00",
                    "a", " ", "=", "&", "-", "x1", "é", ":00.5", "+05:00", "Z", "_", "\u{300}",
                    "eyJ", ".", "<", "\t", "oauth_token_secret=", "Code=",
                ]),
                0..12,
            ),
        ) {
            let text = pieces.concat();
            let s = timestamp_re().replace_all(&text, "[timestamp]");
            let s = uuid_re().replace_all(&s, "[uuid]");
            let s = jwt_re().replace_all(&s, "[jwt]");
            let expected = secret_param_re().replace_all(&s, "$1=[secret]").into_owned();
            proptest::prop_assert_eq!(redact_text(&text), expected);
        }

        /// The ASCII scanners find what their patterns find: instants
        /// with and without seconds, fractions and zones, uuids, and
        /// whatever word characters meet their edges.
        #[test]
        fn the_scanners_match_their_patterns(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "2026-11-24T21:32", "1985-04-12 08:00", "2026-11-24", "T10:00", ":00", ":5",
                    ".123", ".", "Z", "+05:00", "-0500", "+05", "-05:0", "9f1c2a3b-1111-4222",
                    "-8333-444455556666", "9f1c2a3b-1111-4222-8333-444455556666", "ABCDEF01",
                    "0", "7", "a", "_", " ", "-", ":", "\"", "\u{e9}", "\u{300}", "\u{b2}",
                    "\u{662}", "eyJ", "eyJhbGc", "eyJ.x.y", "eyJx..y", "eyJx.y.", ".", "..", "=", "&", "<", "\t", "\u{b}",
                    "\u{85}", "code", "CODE=", "state=", "oauth_token", "_secret", "Id_Token=",
                    "password", "=x", "\u{17f}tate=", "to\u{212a}en=",
                ]),
                0..10,
            ),
        ) {
            let text = pieces.concat();
            let ascii = text.is_ascii();
            // Texts with digits beyond ASCII get the instant pattern itself,
            // texts beyond ASCII the secret parameters'.
            let digits = text.chars().any(|c| !c.is_ascii() && c.is_numeric());
            for (next, re, with, expected) in [
                (next_timestamp as fn(&str, usize) -> Option<(usize, usize)>, timestamp_re(), "[timestamp]", "[timestamp]"),
                (next_uuid, uuid_re(), "[uuid]", "[uuid]"),
                (next_jwt, jwt_re(), "[jwt]", "[jwt]"),
                (next_secret_param, secret_param_re(), "[secret]", "$1=[secret]"),
            ] {
                if (digits && with == "[timestamp]") || (!ascii && with == "[secret]") {
                    continue;
                }
                let mut found = Cow::Borrowed(text.as_str());
                replace_found(&mut found, next, with);
                proptest::prop_assert_eq!(found, re.replace_all(&text, expected));
            }
        }
    }

    #[test]
    fn volatile_values_are_redacted() {
        let r = resp(
            r#"{"now":"2026-11-24T21:32:00.123Z","uuid":"9f1c2a3b-1111-4222-8333-444455556666","lastUpdateDate":1764000000000,"access_token":"abc","dob":"1985-04-12","id":7}"#,
        );
        let out = render(&r, &[], false, "");
        assert!(out.starts_with("HTTP 200 application/json\n\n"), "{out}");
        assert!(out.contains("\"now\": \"[timestamp]\""), "{out}");
        assert!(out.contains("\"uuid\": \"[uuid]\""), "{out}");
        assert!(out.contains("\"lastUpdateDate\": \"[timestamp]\""), "{out}");
        assert!(out.contains("\"access_token\": \"[secret]\""), "{out}");
        assert!(
            out.contains("\"dob\": \"1985-04-12\""),
            "dates are data: {out}"
        );
        assert!(out.contains("\"id\": 7"), "{out}");
    }

    #[test]
    fn personal_data_and_explicit_paths_are_redacted_when_asked() {
        let r = resp(r#"{"firstName":"Jordan","hin":"1234567897","id":7}"#);
        let out = render(
            &r,
            &[Redaction::Json(JsonPathExpr::parse("$.id").unwrap())],
            true,
            "",
        );
        assert!(out.contains("\"firstName\": \"[personal]\""), "{out}");
        assert!(out.contains("\"hin\": \"[personal]\""), "{out}");
        assert!(out.contains("\"id\": \"[redacted]\""), "{out}");
    }

    #[test]
    fn xml_bodies_are_indented_and_redacted() {
        let r = HttpResponse {
            status: 200,
            headers: [("content-type", "text/xml;charset=UTF-8")].into_iter().collect(),
            body: "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\
                   <ns2:login2Response xmlns:ns2=\"urn:t\"><return><securityId>128</securityId>\
                   <securityTokenKey>9614183803823</securityTokenKey><when>2026-01-05T09:00:00-05:00</when>\
                   <lastName>Lee</lastName></return></ns2:login2Response></soap:Body></soap:Envelope>"
                .as_bytes()
                .to_vec()
                .into(),
            elapsed: Duration::ZERO,
            parsed: Default::default(),
        };
        let out = render(
            &r,
            &[Redaction::Xml(
                crate::scenario::XmlPath::parse("return/securityId").unwrap(),
            )],
            true,
            "urn:t",
        );
        assert!(
            out.starts_with("HTTP 200 text/xml\n\n<soap:Envelope xmlns:soap="),
            "{out}"
        );
        assert!(
            out.contains("\n    <ns2:login2Response xmlns:ns2=\"urn:t\">\n"),
            "{out}"
        );
        assert!(out.contains("<securityId>[redacted]</securityId>"), "{out}");
        assert!(
            out.contains("<securityTokenKey>[secret]</securityTokenKey>"),
            "{out}"
        );
        assert!(out.contains("<when>[timestamp]</when>"), "{out}");
        assert!(out.contains("<lastName>[personal]</lastName>"), "{out}");
    }

    #[test]
    fn text_bodies_lose_their_secrets() {
        assert_eq!(
            redact_text("oauth_token=abc&oauth_token_secret=def&oauth_callback_confirmed=true"),
            "oauth_token=[secret]&oauth_token_secret=[secret]&oauth_callback_confirmed=true"
        );
    }

    #[test]
    fn files_round_trip_through_insta() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x__y.snap");
        write(
            &path,
            "scenarios/x.yaml",
            "GET /a",
            "HTTP 200 text/plain\n\nhello",
        )
        .unwrap();
        let snap = insta::Snapshot::from_file(&path).unwrap();
        assert_eq!(snap.metadata().expression(), Some("GET /a"));
        assert!(same(
            &read(&path).unwrap(),
            "HTTP 200 text/plain\n\nhello\n"
        ));
        assert!(!same(&read(&path).unwrap(), "HTTP 200 text/plain\n\nbye"));
    }
}
