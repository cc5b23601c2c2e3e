//! Comparing two recordings by shape, per operation: what a client of the
//! API would notice after an upgrade.
//!
//! Samples are paired by scenario and step. For each pair: a changed
//! status is reported alone (the bodies of a 200 and a 404 are not worth
//! comparing); otherwise the media type, the headers of interest and the
//! body's shape. Breaking changes are the ones an existing client can
//! trip on: an operation or field gone, a type changed, a value that can
//! now be null, a success that became an error, another media type or
//! namespace. Additions are new operations, fields, elements, headers.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::recording::{BodyFormat, Recording, Sample, HEADERS_OF_INTEREST};
use super::shape::{self, Node, Shape};

/// How much a change matters to existing clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Breaking,
    Addition,
    /// Worth knowing, breaks nothing by itself.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Breaking => "breaking",
            Severity::Addition => "addition",
            Severity::Info => "info",
        }
    }
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    OperationRemoved,
    OperationAdded,
    SampleMissing,
    SampleAdded,
    StatusChanged,
    MediaTypeChanged,
    BodyFormatChanged,
    FieldRemoved,
    FieldAdded,
    FieldRetyped,
    FieldNullable,
    FieldNoLongerNull,
    ElementRemoved,
    ElementAdded,
    ElementRetyped,
    NamespaceChanged,
    HeaderRemoved,
    HeaderAdded,
    HeaderChanged,
}

/// One change, with enough to find it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    pub severity: Severity,
    /// `scenario › step` of the sample, when the change is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<String>,
    /// The JSON path, XML path or header name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub message: String,
}

/// The changes of one operation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OperationDrift {
    pub profile: String,
    pub operation: String,
    pub changes: Vec<Change>,
}

impl OperationDrift {
    pub fn breaking(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.severity == Severity::Breaking)
    }
}

/// Counts over the whole comparison.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DriftSummary {
    pub operations_compared: usize,
    pub operations_changed: usize,
    pub breaking: usize,
    pub additions: usize,
    pub info: usize,
}

/// The comparison of two recordings.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Drift {
    pub before: String,
    pub after: String,
    pub summary: DriftSummary,
    /// Only operations with changes, breaking ones first.
    pub operations: Vec<OperationDrift>,
}

impl Drift {
    pub fn has_breaking(&self) -> bool {
        self.summary.breaking > 0
    }
}

/// Why two recordings cannot be compared.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("cannot compare a recording of {before:?} with one of {after:?}: record the same profiles, or one profile each")]
pub struct Incomparable {
    pub before: Vec<String>,
    pub after: Vec<String>,
}

/// Compares `before` with `after`. Recordings of the same profiles are
/// compared profile by profile; two recordings of one profile each (say
/// `oscar` then `juno`, a migration) are compared with each other.
pub fn compare(
    before: &Recording,
    after: &Recording,
    before_label: &str,
    after_label: &str,
) -> Result<Drift, Incomparable> {
    let (pb, pa) = (&before.manifest.profiles, &after.manifest.profiles);
    let pairs: Vec<(String, String)> = if pb == pa {
        pb.iter().map(|p| (p.clone(), p.clone())).collect()
    } else if pb.len() == 1 && pa.len() == 1 {
        vec![(pb[0].clone(), pa[0].clone())]
    } else {
        return Err(Incomparable {
            before: pb.clone(),
            after: pa.clone(),
        });
    };
    let mut operations = Vec::new();
    let mut compared = 0;
    for (b_profile, a_profile) in pairs {
        let label = if b_profile == a_profile {
            b_profile.clone()
        } else {
            format!("{b_profile} → {a_profile}")
        };
        let ops_of = |r: &Recording, p: &str| -> BTreeMap<String, Vec<Sample>> {
            r.operations
                .iter()
                .filter(|((profile, _), _)| profile == p)
                .map(|((_, op), rec)| (op.clone(), rec.samples.clone()))
                .collect()
        };
        let b_ops = ops_of(before, &b_profile);
        let a_ops = ops_of(after, &a_profile);
        let ids: BTreeSet<&String> = b_ops.keys().chain(a_ops.keys()).collect();
        for id in ids {
            compared += 1;
            let changes = match (b_ops.get(id), a_ops.get(id)) {
                (Some(_), None) => vec![change(
                    ChangeKind::OperationRemoved,
                    Severity::Breaking,
                    None,
                    None,
                    "recorded before, not after: the operation is gone or no step reached it"
                        .into(),
                )],
                (None, Some(_)) => vec![change(
                    ChangeKind::OperationAdded,
                    Severity::Addition,
                    None,
                    None,
                    "recorded after, not before".into(),
                )],
                (Some(b), Some(a)) => compare_samples(b, a),
                (None, None) => Vec::new(),
            };
            if !changes.is_empty() {
                operations.push(OperationDrift {
                    profile: label.clone(),
                    operation: id.clone(),
                    changes,
                });
            }
        }
    }
    operations.sort_by(|x, y| {
        y.breaking()
            .cmp(&x.breaking())
            .then_with(|| x.profile.cmp(&y.profile))
            .then_with(|| x.operation.cmp(&y.operation))
    });
    let count = |s: Severity| {
        operations
            .iter()
            .flat_map(|o| &o.changes)
            .filter(|c| c.severity == s)
            .count()
    };
    let summary = DriftSummary {
        operations_compared: compared,
        operations_changed: operations.len(),
        breaking: count(Severity::Breaking),
        additions: count(Severity::Addition),
        info: count(Severity::Info),
    };
    Ok(Drift {
        before: before_label.to_owned(),
        after: after_label.to_owned(),
        summary,
        operations,
    })
}

fn change(
    kind: ChangeKind,
    severity: Severity,
    sample: Option<&str>,
    path: Option<&str>,
    message: String,
) -> Change {
    Change {
        kind,
        severity,
        sample: sample.map(str::to_owned),
        path: path.map(str::to_owned),
        before: None,
        after: None,
        message,
    }
}

fn with(mut c: Change, before: impl Into<String>, after: impl Into<String>) -> Change {
    c.before = Some(before.into());
    c.after = Some(after.into());
    c
}

fn compare_samples(before: &[Sample], after: &[Sample]) -> Vec<Change> {
    let b: BTreeMap<String, &Sample> = before.iter().map(|s| (s.key(), s)).collect();
    let a: BTreeMap<String, &Sample> = after.iter().map(|s| (s.key(), s)).collect();
    let mut out = Vec::new();
    for (key, sb) in &b {
        match a.get(key) {
            Some(sa) => out.extend(compare_pair(key, sb, sa)),
            None => out.push(change(
                ChangeKind::SampleMissing,
                Severity::Info,
                Some(key),
                None,
                format!("this step called it before ({}), not after", sb.status),
            )),
        }
    }
    for key in a.keys().filter(|k| !b.contains_key(*k)) {
        out.push(change(
            ChangeKind::SampleAdded,
            Severity::Info,
            Some(key),
            None,
            "this step calls it now, not before".into(),
        ));
    }
    out
}

fn success(status: u16) -> bool {
    (200..300).contains(&status)
}

fn compare_pair(key: &str, b: &Sample, a: &Sample) -> Vec<Change> {
    let mut out = Vec::new();
    if b.status != a.status {
        // An error that became a success breaks no client; the reverse
        // (or one error for another) does.
        let severity = if !success(b.status) && success(a.status) {
            Severity::Info
        } else {
            Severity::Breaking
        };
        out.push(with(
            change(
                ChangeKind::StatusChanged,
                severity,
                Some(key),
                None,
                format!("status {} → {}", b.status, a.status),
            ),
            b.status.to_string(),
            a.status.to_string(),
        ));
        return out;
    }
    if b.media_type != a.media_type {
        out.push(with(
            change(
                ChangeKind::MediaTypeChanged,
                Severity::Breaking,
                Some(key),
                None,
                format!(
                    "media type {} → {}",
                    or_none(&b.media_type),
                    or_none(&a.media_type)
                ),
            ),
            b.media_type.clone(),
            a.media_type.clone(),
        ));
    }
    out.extend(compare_headers(key, b, a));
    if b.body_format != a.body_format {
        out.push(with(
            change(
                ChangeKind::BodyFormatChanged,
                Severity::Breaking,
                Some(key),
                None,
                format!(
                    "body {} → {}",
                    b.body_format.as_str(),
                    a.body_format.as_str()
                ),
            ),
            b.body_format.as_str(),
            a.body_format.as_str(),
        ));
        return out;
    }
    match b.body_format {
        BodyFormat::Json => out.extend(compare_json(
            key,
            &shape::of_json(&b.body),
            &shape::of_json(&a.body),
        )),
        BodyFormat::Xml => {
            let text = |s: &Sample| s.body.as_str().unwrap_or("").to_owned();
            if let (Some(sb), Some(sa)) = (shape::of_xml(&text(b)), shape::of_xml(&text(a))) {
                out.extend(compare_xml(key, &sb, &sa));
            }
        }
        BodyFormat::Text | BodyFormat::Empty => {}
    }
    out
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "(none)"
    } else {
        s
    }
}

/// Headers whose value (not only presence) is compared.
fn value_matters(name: &str) -> bool {
    !matches!(
        name,
        "location" | "etag" | "last-modified" | "content-disposition"
    )
}

fn compare_headers(key: &str, b: &Sample, a: &Sample) -> Vec<Change> {
    let mut out = Vec::new();
    for h in HEADERS_OF_INTEREST {
        match (b.headers.get(*h), a.headers.get(*h)) {
            (Some(vb), None) => out.push(with(
                change(
                    ChangeKind::HeaderRemoved,
                    Severity::Breaking,
                    Some(key),
                    Some(h),
                    format!("header {h} no longer sent"),
                ),
                vb.clone(),
                "",
            )),
            (None, Some(va)) => out.push(with(
                change(
                    ChangeKind::HeaderAdded,
                    Severity::Addition,
                    Some(key),
                    Some(h),
                    format!("header {h} now sent"),
                ),
                "",
                va.clone(),
            )),
            (Some(vb), Some(va)) if vb != va && value_matters(h) => out.push(with(
                change(
                    ChangeKind::HeaderChanged,
                    Severity::Info,
                    Some(key),
                    Some(h),
                    format!("header {h}: {vb} → {va}"),
                ),
                vb.clone(),
                va.clone(),
            )),
            _ => {}
        }
    }
    out
}

fn types(n: &Node) -> String {
    n.types.iter().copied().collect::<Vec<_>>().join(" | ")
}

/// Whether a path's parent is comparable on both sides: it exists in
/// both, and if it is an array's elements, both arrays had elements.
fn comparable(path: &str, b: &Shape, a: &Shape) -> bool {
    let Some(parent) = shape::parent(path) else {
        return true;
    };
    let (Some(pb), Some(pa)) = (b.get(parent), a.get(parent)) else {
        return false;
    };
    if pb.types != pa.types && !(pb.types.contains("object") && pa.types.contains("object")) {
        return false;
    }
    if path.ends_with("[*]") {
        return pb.has_elements && pa.has_elements;
    }
    comparable(parent, b, a)
}

fn compare_json(key: &str, b: &Shape, a: &Shape) -> Vec<Change> {
    let mut out = Vec::new();
    let paths: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    for path in paths {
        if !comparable(path, b, a) {
            continue;
        }
        let c = |kind, severity, message| change(kind, severity, Some(key), Some(path), message);
        match (b.get(path), a.get(path)) {
            (Some(nb), None) => out.push(c(
                ChangeKind::FieldRemoved,
                Severity::Breaking,
                format!("{path} removed (was {})", types(nb)),
            )),
            (None, Some(na)) => out.push(c(
                ChangeKind::FieldAdded,
                Severity::Addition,
                format!("{path} added ({})", types(na)),
            )),
            (Some(nb), Some(na)) if nb.types != na.types => {
                let strip = |n: &Node| {
                    n.types
                        .iter()
                        .copied()
                        .filter(|t| *t != "null")
                        .collect::<BTreeSet<_>>()
                };
                let (vb, va) = (strip(nb), strip(na));
                let (null_b, null_a) = (nb.types.contains("null"), na.types.contains("null"));
                let change = if !vb.is_empty() && !va.is_empty() && vb != va {
                    c(
                        ChangeKind::FieldRetyped,
                        Severity::Breaking,
                        format!("{path} retyped: {} → {}", types(nb), types(na)),
                    )
                } else if null_a && !null_b {
                    c(
                        ChangeKind::FieldNullable,
                        Severity::Breaking,
                        format!("{path} can now be null ({} → {})", types(nb), types(na)),
                    )
                } else {
                    c(
                        ChangeKind::FieldNoLongerNull,
                        Severity::Info,
                        format!("{path}: {} → {}", types(nb), types(na)),
                    )
                };
                out.push(with(change, types(nb), types(na)));
            }
            _ => {}
        }
    }
    out
}

fn compare_xml(key: &str, b: &Shape, a: &Shape) -> Vec<Change> {
    let mut out = Vec::new();
    let paths: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    for path in paths {
        if let Some(parent) = shape::parent(path) {
            if !(b.contains_key(parent) && a.contains_key(parent)) {
                continue;
            }
        }
        let c = |kind, severity, message| change(kind, severity, Some(key), Some(path), message);
        match (b.get(path), a.get(path)) {
            (Some(nb), None) => out.push(c(
                ChangeKind::ElementRemoved,
                Severity::Breaking,
                format!("{path} removed (was {})", types(nb)),
            )),
            (None, Some(na)) => out.push(c(
                ChangeKind::ElementAdded,
                Severity::Addition,
                format!("{path} added ({})", types(na)),
            )),
            (Some(nb), Some(na)) => {
                // A namespace change shows on the element that declares
                // it, not on every descendant that inherits it.
                let inherited = shape::parent(path)
                    .and_then(|p| Some((b.get(p)?, a.get(p)?)))
                    .is_some_and(|(pb, pa)| {
                        pb.namespaces == nb.namespaces && pa.namespaces == na.namespaces
                    });
                if nb.namespaces != na.namespaces && !inherited {
                    let ns = |n: &Node| n.namespaces.iter().cloned().collect::<Vec<_>>().join(" ");
                    out.push(with(
                        c(
                            ChangeKind::NamespaceChanged,
                            Severity::Breaking,
                            format!("{path} namespace {} → {}", ns(nb), ns(na)),
                        ),
                        ns(nb),
                        ns(na),
                    ));
                }
                // `empty` and `text` are the same element with or
                // without a value this time.
                let solid = |n: &Node| {
                    n.types
                        .iter()
                        .copied()
                        .filter(|t| *t != "empty")
                        .collect::<BTreeSet<_>>()
                };
                let (sb, sa) = (solid(nb), solid(na));
                if !sb.is_empty() && !sa.is_empty() && sb != sa {
                    out.push(with(
                        c(
                            ChangeKind::ElementRetyped,
                            Severity::Breaking,
                            format!("{path}: {} → {}", types(nb), types(na)),
                        ),
                        types(nb),
                        types(na),
                    ));
                }
            }
            (None, None) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::recording::{Manifest, OperationRecording, FORMAT};
    use serde_json::json;

    fn sample(status: u16, body: serde_json::Value) -> Sample {
        Sample {
            scenario: "s".into(),
            step: "read".into(),
            method: "GET".into(),
            path: "/x".into(),
            status,
            media_type: "application/json".into(),
            headers: BTreeMap::new(),
            body_format: BodyFormat::Json,
            body,
            truncated: false,
        }
    }

    fn recording(profile: &str, ops: Vec<(&str, Vec<Sample>)>) -> Recording {
        Recording {
            manifest: Manifest {
                format: FORMAT.into(),
                tool_version: "0".into(),
                recorded_at: "now".into(),
                target: "t".into(),
                variant: None,
                profiles: vec![profile.into()],
                operations: ops.len(),
                samples: 0,
            },
            operations: ops
                .into_iter()
                .map(|(op, samples)| {
                    (
                        (profile.to_owned(), op.to_owned()),
                        OperationRecording {
                            profile: profile.into(),
                            operation: op.into(),
                            samples,
                        },
                    )
                })
                .collect(),
        }
    }

    fn kinds(d: &Drift) -> Vec<(ChangeKind, Severity, Option<String>)> {
        d.operations
            .iter()
            .flat_map(|o| &o.changes)
            .map(|c| (c.kind, c.severity, c.path.clone()))
            .collect()
    }

    #[test]
    fn json_fields_added_removed_retyped_and_nullable() {
        let before = recording(
            "oscar",
            vec![(
                "GET /p",
                vec![sample(
                    200,
                    json!({"id": 1, "name": "a", "hin": "1", "mid": "m", "items": [{"k": 1}], "empty": []}),
                )],
            )],
        );
        let after = recording(
            "oscar",
            vec![(
                "GET /p",
                vec![sample(
                    200,
                    json!({"id": "1", "hin": "1", "mid": null, "items": [{"k": 1, "new": true}], "empty": [], "extra": {"a": 1}}),
                )],
            )],
        );
        let d = compare(&before, &after, "b", "a").unwrap();
        let p = |s: &str| Some(s.to_owned());
        assert_eq!(
            kinds(&d),
            vec![
                (ChangeKind::FieldAdded, Severity::Addition, p("$.extra")),
                (ChangeKind::FieldRetyped, Severity::Breaking, p("$.id")),
                (
                    ChangeKind::FieldAdded,
                    Severity::Addition,
                    p("$.items[*].new")
                ),
                (ChangeKind::FieldNullable, Severity::Breaking, p("$.mid")),
                (ChangeKind::FieldRemoved, Severity::Breaking, p("$.name")),
            ]
        );
        assert!(d.has_breaking());
        assert_eq!(d.summary.breaking, 3);
        assert_eq!(d.summary.additions, 2);
        let same = compare(&before, &before, "b", "b").unwrap();
        assert!(same.operations.is_empty() && !same.has_breaking());
    }

    #[test]
    fn status_changes_stand_alone_and_errors_to_success_do_not_break() {
        let b = recording(
            "oscar",
            vec![("GET /p", vec![sample(200, json!({"a": 1}))])],
        );
        let a = recording(
            "oscar",
            vec![("GET /p", vec![sample(404, json!({"err": "x"}))])],
        );
        let d = compare(&b, &a, "b", "a").unwrap();
        assert_eq!(
            kinds(&d),
            vec![(ChangeKind::StatusChanged, Severity::Breaking, None)]
        );
        let d = compare(&a, &b, "a", "b").unwrap();
        assert_eq!(
            kinds(&d),
            vec![(ChangeKind::StatusChanged, Severity::Info, None)]
        );
    }

    #[test]
    fn operations_media_types_and_headers() {
        let mut s = sample(200, json!({}));
        s.headers.insert("allow".into(), "GET".into());
        let b = recording(
            "oscar",
            vec![("GET /gone", vec![s.clone()]), ("GET /p", vec![s.clone()])],
        );
        let mut s2 = s.clone();
        s2.media_type = "application/xml".into();
        s2.headers.clear();
        s2.headers.insert("www-authenticate".into(), "OAuth".into());
        let a = recording(
            "oscar",
            vec![("GET /new", vec![s.clone()]), ("GET /p", vec![s2])],
        );
        let d = compare(&b, &a, "b", "a").unwrap();
        let k = kinds(&d);
        assert!(
            k.contains(&(ChangeKind::OperationRemoved, Severity::Breaking, None)),
            "{k:?}"
        );
        assert!(
            k.contains(&(ChangeKind::OperationAdded, Severity::Addition, None)),
            "{k:?}"
        );
        assert!(
            k.contains(&(ChangeKind::MediaTypeChanged, Severity::Breaking, None)),
            "{k:?}"
        );
        assert!(
            k.contains(&(
                ChangeKind::HeaderRemoved,
                Severity::Breaking,
                Some("allow".into())
            )),
            "{k:?}"
        );
        assert!(
            k.contains(&(
                ChangeKind::HeaderAdded,
                Severity::Addition,
                Some("www-authenticate".into())
            )),
            "{k:?}"
        );
        // Breaking operations come first.
        assert!(d.operations[0].breaking());
    }

    #[test]
    fn soap_elements_and_namespaces() {
        let xml = |ns: &str, inner: &str| {
            let mut s = sample(
                200,
                json!(format!(
                    "<Envelope><Body><r xmlns=\"{ns}\">{inner}</r></Body></Envelope>"
                )),
            );
            s.body_format = BodyFormat::Xml;
            s.media_type = "text/xml".into();
            s
        };
        let b = recording(
            "oscar",
            vec![("S.op", vec![xml("urn:a", "<a>1</a><b>2</b><c/>")])],
        );
        let a = recording(
            "juno",
            vec![("S.op", vec![xml("urn:b", "<a><x/></a><c>3</c><d>4</d>")])],
        );
        let d = compare(&b, &a, "b", "a").unwrap();
        assert_eq!(d.operations[0].profile, "oscar → juno");
        let k = kinds(&d);
        let p = |s: &str| Some(s.to_owned());
        assert!(
            k.contains(&(
                ChangeKind::NamespaceChanged,
                Severity::Breaking,
                p("/Envelope/Body/r")
            )),
            "{k:?}"
        );
        assert!(
            k.contains(&(
                ChangeKind::ElementRetyped,
                Severity::Breaking,
                p("/Envelope/Body/r/a")
            )),
            "{k:?}"
        );
        assert!(
            k.contains(&(
                ChangeKind::ElementRemoved,
                Severity::Breaking,
                p("/Envelope/Body/r/b")
            )),
            "{k:?}"
        );
        assert!(
            k.contains(&(
                ChangeKind::ElementAdded,
                Severity::Addition,
                p("/Envelope/Body/r/d")
            )),
            "{k:?}"
        );
        assert!(
            k.contains(&(
                ChangeKind::ElementAdded,
                Severity::Addition,
                p("/Envelope/Body/r/a/x")
            )),
            "{k:?}"
        );
        assert!(
            !k.iter()
                .any(|(_, _, p)| p.as_deref() == Some("/Envelope/Body/r/c")),
            "empty → text is no change: {k:?}"
        );
    }

    #[test]
    fn different_profile_sets_are_incomparable() {
        let mut b = recording("oscar", vec![]);
        b.manifest.profiles.push("juno".into());
        let a = recording("openemr", vec![]);
        assert!(compare(&b, &a, "b", "a").is_err());
    }
}
