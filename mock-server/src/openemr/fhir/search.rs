//! FHIR search: the parameters each resource supports (the `search_params`
//! column of `fhir-api.tsv`, typed here), how a value matches a resource,
//! and the searchset Bundle with `_count`/`_offset` paging links.
//!
//! A parameter's `path` is a dotted walk into the resource JSON (arrays
//! are flattened); `a|b` tries both; `telecom?system=email` keeps only the
//! elements whose `system` is `email`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use super::resources::{instant, Item};

/// A search parameter's FHIR type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Token,
    String,
    Date,
    Reference,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Token => "token",
            Kind::String => "string",
            Kind::Date => "date",
            Kind::Reference => "reference",
        }
    }
}

/// `(resource, parameter, type, path)`; `*` applies to every resource.
pub const PARAMS: &[(&str, &str, Kind, &str)] = &[
    ("*", "_id", Kind::Token, "id"),
    ("*", "_lastUpdated", Kind::Date, "meta.lastUpdated"),
    ("AllergyIntolerance", "patient", Kind::Reference, "patient"),
    (
        "Appointment",
        "patient",
        Kind::Reference,
        "participant.actor",
    ),
    ("CarePlan", "patient", Kind::Reference, "subject"),
    ("CarePlan", "category", Kind::Token, "category"),
    ("CareTeam", "patient", Kind::Reference, "subject"),
    ("CareTeam", "status", Kind::Token, "status"),
    ("Condition", "patient", Kind::Reference, "subject"),
    ("Condition", "category", Kind::Token, "category"),
    ("Coverage", "patient", Kind::Reference, "beneficiary"),
    ("Coverage", "payor", Kind::Reference, "payor"),
    ("Device", "patient", Kind::Reference, "patient"),
    ("DiagnosticReport", "patient", Kind::Reference, "subject"),
    ("DiagnosticReport", "code", Kind::Token, "code"),
    ("DiagnosticReport", "category", Kind::Token, "category"),
    ("DiagnosticReport", "date", Kind::Date, "effectiveDateTime"),
    ("DocumentReference", "patient", Kind::Reference, "subject"),
    ("DocumentReference", "type", Kind::Token, "type"),
    ("DocumentReference", "category", Kind::Token, "category"),
    ("DocumentReference", "date", Kind::Date, "date"),
    ("Encounter", "patient", Kind::Reference, "subject"),
    ("Encounter", "date", Kind::Date, "period.start"),
    ("Goal", "patient", Kind::Reference, "subject"),
    ("Group", "patient", Kind::Reference, "member.entity"),
    ("Immunization", "patient", Kind::Reference, "patient"),
    ("Media", "patient", Kind::Reference, "subject"),
    ("Media", "content-type", Kind::Token, "content.contentType"),
    ("MedicationDispense", "patient", Kind::Reference, "subject"),
    ("MedicationDispense", "status", Kind::Token, "status"),
    ("MedicationDispense", "type", Kind::Token, "type"),
    ("MedicationRequest", "patient", Kind::Reference, "subject"),
    ("MedicationRequest", "intent", Kind::Token, "intent"),
    ("MedicationRequest", "status", Kind::Token, "status"),
    ("Observation", "patient", Kind::Reference, "subject"),
    ("Observation", "code", Kind::Token, "code"),
    ("Observation", "category", Kind::Token, "category"),
    ("Observation", "date", Kind::Date, "effectiveDateTime"),
    ("Organization", "name", Kind::String, "name"),
    ("Organization", "email", Kind::Token, "telecom?system=email"),
    ("Organization", "phone", Kind::Token, "telecom?system=phone"),
    ("Organization", "telecom", Kind::Token, "telecom"),
    ("Organization", "address", Kind::String, "address"),
    ("Organization", "address-city", Kind::String, "address.city"),
    (
        "Organization",
        "address-postalcode",
        Kind::String,
        "address.postalCode",
    ),
    (
        "Organization",
        "address-state",
        Kind::String,
        "address.state",
    ),
    ("Patient", "identifier", Kind::Token, "identifier"),
    ("Patient", "name", Kind::String, "name"),
    ("Patient", "birthdate", Kind::Date, "birthDate"),
    ("Patient", "gender", Kind::Token, "gender"),
    ("Patient", "address", Kind::String, "address"),
    ("Patient", "address-city", Kind::String, "address.city"),
    (
        "Patient",
        "address-postalcode",
        Kind::String,
        "address.postalCode",
    ),
    ("Patient", "address-state", Kind::String, "address.state"),
    ("Patient", "email", Kind::Token, "telecom?system=email"),
    ("Patient", "family", Kind::String, "name.family"),
    ("Patient", "given", Kind::String, "name.given"),
    ("Patient", "phone", Kind::Token, "telecom?system=phone"),
    ("Patient", "telecom", Kind::Token, "telecom"),
    ("Person", "name", Kind::String, "name"),
    ("Person", "active", Kind::Token, "active"),
    ("Person", "address", Kind::String, "address"),
    ("Person", "address-city", Kind::String, "address.city"),
    (
        "Person",
        "address-postalcode",
        Kind::String,
        "address.postalCode",
    ),
    ("Person", "address-state", Kind::String, "address.state"),
    ("Person", "email", Kind::Token, "telecom?system=email"),
    ("Person", "family", Kind::String, "name.family"),
    ("Person", "given", Kind::String, "name.given"),
    ("Person", "phone", Kind::Token, "telecom?system=phone"),
    ("Person", "telecom", Kind::Token, "telecom"),
    ("Practitioner", "name", Kind::String, "name"),
    ("Practitioner", "active", Kind::Token, "active"),
    ("Practitioner", "address", Kind::String, "address"),
    ("Practitioner", "address-city", Kind::String, "address.city"),
    (
        "Practitioner",
        "address-postalcode",
        Kind::String,
        "address.postalCode",
    ),
    (
        "Practitioner",
        "address-state",
        Kind::String,
        "address.state",
    ),
    ("Practitioner", "email", Kind::Token, "telecom?system=email"),
    ("Practitioner", "family", Kind::String, "name.family"),
    ("Practitioner", "given", Kind::String, "name.given"),
    ("Practitioner", "phone", Kind::Token, "telecom?system=phone"),
    ("Practitioner", "telecom", Kind::Token, "telecom"),
    ("PractitionerRole", "specialty", Kind::Token, "specialty"),
    (
        "PractitionerRole",
        "practitioner",
        Kind::Reference,
        "practitioner",
    ),
    ("Procedure", "patient", Kind::Reference, "subject"),
    ("Procedure", "date", Kind::Date, "performedDateTime"),
    ("RelatedPerson", "patient", Kind::Reference, "patient"),
    ("ServiceRequest", "patient", Kind::Reference, "subject"),
    ("ServiceRequest", "category", Kind::Token, "category"),
    ("ServiceRequest", "code", Kind::Token, "code"),
    ("ServiceRequest", "authored", Kind::Date, "authoredOn"),
    ("ServiceRequest", "status", Kind::Token, "status"),
    ("Specimen", "patient", Kind::Reference, "subject"),
    ("Specimen", "accession", Kind::Token, "accessionIdentifier"),
    ("Specimen", "type", Kind::Token, "type"),
    (
        "Specimen",
        "collected",
        Kind::Date,
        "collection.collectedDateTime",
    ),
];

/// The type of a parameter of a resource (CapabilityStatement, parsing).
pub fn param(resource: &str, name: &str) -> Option<(Kind, &'static str)> {
    PARAMS
        .iter()
        .find(|(r, n, _, _)| (*r == resource || *r == "*") && *n == name)
        .map(|(_, _, k, p)| (*k, *p))
}

/// The message OpenEMR's search layer gives for an unparsable argument.
pub fn invalid_argument(inner: &str) -> String {
    format!(
        "The search field argument was invalid, improperly formatted, or could not be parsed.  Inner message: {inner}"
    )
}

/// One condition of a search: `name[:modifier]=v1,v2` (values OR'ed).
#[derive(Debug, Clone)]
pub struct Criterion {
    pub name: String,
    pub modifier: Option<String>,
    pub kind: Kind,
    pub path: &'static str,
    pub values: Vec<String>,
}

/// Parses the criteria the resource supports; unsupported parameters are
/// ignored, as OpenEMR ignores them. `Err((param, message))` for a value
/// that does not parse.
pub fn criteria(
    resource: &str,
    query: &[(String, String)],
) -> Result<Vec<Criterion>, (String, String)> {
    let mut out = Vec::new();
    for (key, value) in query {
        let (name, modifier) = match key.split_once(':') {
            Some((n, m)) => (n, Some(m.to_owned())),
            None => (key.as_str(), None),
        };
        let Some((kind, path)) = param(resource, name) else {
            continue;
        };
        let values: Vec<String> = value
            .split(',')
            .map(str::to_owned)
            .filter(|v| !v.is_empty())
            .collect();
        if kind == Kind::Date {
            for v in &values {
                if date_range(strip_prefix(v).1).is_none() {
                    return Err((
                        name.to_owned(),
                        invalid_argument(&format!("invalid date {v}")),
                    ));
                }
            }
        }
        out.push(Criterion {
            name: name.to_owned(),
            modifier,
            kind,
            path,
            values,
        });
    }
    Ok(out)
}

/// The nodes a path selects.
pub fn select<'v>(v: &'v Value, path: &str) -> Vec<&'v Value> {
    let mut out = Vec::new();
    for alt in path.split('|') {
        let mut nodes: Vec<&Value> = vec![v];
        for seg in alt.split('.') {
            let (name, filter) = match seg.split_once('?') {
                Some((n, f)) => (n, f.split_once('=')),
                None => (seg, None),
            };
            let mut next = Vec::new();
            for n in nodes {
                if let Some(child) = n.get(name) {
                    let items: Vec<&Value> = match child {
                        Value::Array(a) => a.iter().collect(),
                        other => vec![other],
                    };
                    for c in items {
                        if let Some((fk, fv)) = filter {
                            if c.get(fk).and_then(Value::as_str) != Some(fv) {
                                continue;
                            }
                        }
                        next.push(c);
                    }
                }
            }
            nodes = next;
        }
        out.extend(nodes);
    }
    out
}

pub fn matches(resource: &Value, c: &Criterion) -> bool {
    let nodes = select(resource, c.path);
    c.values
        .iter()
        .any(|want| nodes.iter().any(|n| match_one(n, c, want)))
}

fn match_one(node: &Value, c: &Criterion, want: &str) -> bool {
    match c.kind {
        Kind::String => strings(node).iter().any(|s| {
            let (s, w) = (s.to_lowercase(), want.to_lowercase());
            match c.modifier.as_deref() {
                Some("exact") => strings(node).iter().any(|x| x == want),
                Some("contains") => s.contains(&w),
                _ => s.starts_with(&w),
            }
        }),
        Kind::Token => token_matches(node, want),
        Kind::Reference => {
            let Some(r) = node.get("reference").and_then(Value::as_str) else {
                return false;
            };
            let want = want.rsplit("/fhir/").next().unwrap_or(want);
            r == want || r.rsplit('/').next() == Some(want)
        }
        Kind::Date => {
            let (prefix, v) = strip_prefix(want);
            let (Some(p), Some(have)) = (date_range(v), node.as_str().and_then(date_range)) else {
                return false;
            };
            match prefix {
                "eq" => have.0 >= p.0 && have.1 <= p.1,
                "ne" => !(have.0 >= p.0 && have.1 <= p.1),
                "gt" | "sa" => have.1 > p.1,
                "lt" | "eb" => have.0 < p.0,
                "ge" => have.1 > p.0,
                "le" => have.0 < p.1,
                _ => false,
            }
        }
    }
}

/// All text under a node (HumanName, Address, plain strings).
fn strings(node: &Value) -> Vec<String> {
    match node {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "use" | "period" | "type"))
            .flat_map(|(_, v)| strings(v))
            .collect(),
        _ => Vec::new(),
    }
}

/// `[system|]code` against a code, Coding, CodeableConcept, Identifier,
/// ContactPoint or boolean.
fn token_matches(node: &Value, want: &str) -> bool {
    let (system, code) = match want.split_once('|') {
        Some((s, c)) => (Some(s), c),
        None => (None, want),
    };
    let pair = |sys: Option<&str>, val: Option<&str>| {
        val.is_some_and(|v| v.eq_ignore_ascii_case(code) || code.is_empty())
            && system.is_none_or(|s| s.is_empty() || sys == Some(s))
    };
    match node {
        Value::String(s) => system.is_none() && s.eq_ignore_ascii_case(code),
        Value::Bool(b) => system.is_none() && b.to_string() == code,
        Value::Object(m) => {
            if let Some(Value::Array(codings)) = m.get("coding") {
                return codings.iter().any(|c| token_matches(c, want));
            }
            let sys = m.get("system").and_then(Value::as_str);
            if m.contains_key("code") {
                return pair(sys, m.get("code").and_then(Value::as_str));
            }
            pair(sys, m.get("value").and_then(Value::as_str))
        }
        _ => false,
    }
}

/// `ge2020-01-01` → (`ge`, `2020-01-01`).
fn strip_prefix(v: &str) -> (&str, &str) {
    for p in ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"] {
        if let Some(rest) = v.strip_prefix(p) {
            if rest.starts_with(|c: char| c.is_ascii_digit()) {
                return (if p == "ap" { "eq" } else { p }, rest);
            }
        }
    }
    ("eq", v)
}

/// The instants a FHIR date, dateTime or instant covers, `[start, end)`.
pub fn date_range(v: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let day = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    match v.len() {
        4 => {
            let y: i32 = v.parse().ok()?;
            Some((
                day(NaiveDate::from_ymd_opt(y, 1, 1)?)?,
                day(NaiveDate::from_ymd_opt(y + 1, 1, 1)?)?,
            ))
        }
        7 => {
            let d = NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d").ok()?;
            let next = if d.month0() == 11 {
                NaiveDate::from_ymd_opt(d.year_ce().1 as i32 + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(d.year_ce().1 as i32, d.month0() + 2, 1)?
            };
            Some((day(d)?, day(next)?))
        }
        10 => {
            let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
            Some((day(d)?, day(d.succ_opt()?)?))
        }
        _ => {
            let t = DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S")
                        .ok()
                        .map(|t| t.and_utc())
                })?;
            Some((t, t + chrono::Duration::seconds(1)))
        }
    }
}

use chrono::Datelike;

/// A searchset Bundle: the page of entries, the total, and the `self`,
/// `previous` and `next` links (each keeping the search's other
/// parameters). Serialised in the order OpenEMR writes it.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    resource_type: &'static str,
    meta: BundleMeta,
    #[serde(rename = "type")]
    kind: &'static str,
    total: usize,
    link: Vec<Link>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    entry: Vec<Entry>,
}

#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct BundleMeta {
    last_updated: String,
}

#[derive(Debug, serde::Serialize)]
struct Link {
    relation: &'static str,
    url: String,
}

#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    full_url: String,
    resource: Value,
    search: Search,
}

#[derive(Debug, serde::Serialize)]
struct Search {
    mode: &'static str,
}

/// A searchset Bundle of one page of matches (and included Provenance),
/// with `self`, and `next`/`previous` links when there are such pages.
/// `paging` is `(_count, _offset)`; a `_count` of 0 means no paging.
pub fn bundle(
    url: &str,
    query: &[(String, String)],
    total: usize,
    page: Vec<(Item, &'static str)>,
    base: &str,
    paging: (usize, usize),
    now: &chrono::DateTime<Utc>,
) -> Bundle {
    let (count, offset) = paging;
    let encode = |pairs: &mut dyn Iterator<Item = &(String, String)>| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    };
    let mut link = vec![Link {
        relation: "self",
        url: if query.is_empty() {
            url.to_owned()
        } else {
            format!("{url}?{}", encode(&mut query.iter()))
        },
    }];
    if count > 0 {
        let kept = encode(
            &mut query
                .iter()
                .filter(|(k, _)| k != "_offset" && k != "_count"),
        );
        let with = |offset: usize| {
            let extra = format!("_offset={offset}&_count={count}");
            if kept.is_empty() {
                format!("{url}?{extra}")
            } else {
                format!("{url}?{kept}&{extra}")
            }
        };
        if offset > 0 {
            link.push(Link {
                relation: "previous",
                url: with(offset.saturating_sub(count)),
            });
        }
        if offset + count < total {
            link.push(Link {
                relation: "next",
                url: with(offset + count),
            });
        }
    }
    let entry = page
        .into_iter()
        .map(|(item, mode)| {
            let kind = item
                .resource
                .get("resourceType")
                .and_then(Value::as_str)
                .unwrap_or("");
            Entry {
                full_url: format!("{base}/{kind}/{}", item.id),
                resource: item.resource,
                search: Search { mode },
            }
        })
        .collect();
    Bundle {
        resource_type: "Bundle",
        meta: BundleMeta {
            last_updated: instant(*now),
        },
        kind: "searchset",
        total,
        link,
        entry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_cover_their_precision() {
        let (a, b) = date_range("2020-02").unwrap();
        assert_eq!(a.to_rfc3339(), "2020-02-01T00:00:00+00:00");
        assert_eq!(b.to_rfc3339(), "2020-03-01T00:00:00+00:00");
        assert!(date_range("2020-13").is_none());
        assert!(date_range("yesterday").is_none());
        assert!(date_range("2020-12").is_some());
    }

    #[test]
    fn values_match_by_type() {
        let p = json!({"name": [{"family": "Tremblay", "given": ["Léa"]}], "gender": "female",
            "birthDate": "1980-05-02", "telecom": [{"system": "email", "value": "a@example.com"}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "Patient/abc"}});
        let c = |name: &str, kind, path, v: &str| Criterion {
            name: name.into(),
            modifier: None,
            kind,
            path,
            values: vec![v.into()],
        };
        assert!(matches(&p, &c("name", Kind::String, "name", "trem")));
        assert!(!matches(&p, &c("name", Kind::String, "name", "lee")));
        assert!(matches(&p, &c("gender", Kind::Token, "gender", "female")));
        assert!(matches(
            &p,
            &c("birthdate", Kind::Date, "birthDate", "ge1980-01-01")
        ));
        assert!(!matches(
            &p,
            &c("birthdate", Kind::Date, "birthDate", "lt1980-01-01")
        ));
        assert!(matches(
            &p,
            &c("birthdate", Kind::Date, "birthDate", "1980")
        ));
        assert!(matches(
            &p,
            &c(
                "email",
                Kind::Token,
                "telecom?system=email",
                "a@example.com"
            )
        ));
        assert!(matches(
            &p,
            &c("code", Kind::Token, "code", "http://loinc.org|8867-4")
        ));
        assert!(!matches(
            &p,
            &c("code", Kind::Token, "code", "http://snomed.info/sct|8867-4")
        ));
        assert!(matches(
            &p,
            &c("patient", Kind::Reference, "subject", "abc")
        ));
        assert!(matches(
            &p,
            &c("patient", Kind::Reference, "subject", "Patient/abc")
        ));
    }
}
