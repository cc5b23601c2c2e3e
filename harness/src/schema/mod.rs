//! Checking a response body against a schema, so a server's drift from
//! the documented shapes is caught, not only the mock's:
//!
//! - `openapi`: the project's OpenAPI document of OpenEMR's Standard and
//!   Portal APIs (`emr_catalog::OPENEMR_OPENAPI`): the response of the
//!   operation the request addressed, for its status and media type;
//! - `fhir`: FHIR R4's structure rules for the resources OpenEMR serves
//!   (`harness/data/fhir-r4.yaml`): required elements, cardinality, value
//!   types, no unknown elements; Bundles entry by entry, NDJSON line by
//!   line.

pub mod fhir;
pub mod openapi;

use serde::Deserialize;

use crate::outcome::{Failure, FailureKind};
use crate::transport::HttpResponse;

/// Where a value is, rendered only for an error message (`$.name[0]`):
/// most values are fine, and a path string per value cost more than the
/// checks themselves.
#[derive(Clone, Copy)]
pub(crate) enum Loc<'a> {
    Root(&'a str),
    Key(&'a Loc<'a>, &'a str),
    Index(&'a Loc<'a>, usize),
}

impl std::fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loc::Root(s) => f.write_str(s),
            Loc::Key(p, k) => write!(f, "{p}.{k}"),
            Loc::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

/// `expect: {schema: openapi}` or `{schema: fhir}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchemaKind {
    Openapi,
    Fhir,
}

/// Checks `resp` against the schema; `op` is the catalogue operation the
/// request addressed (OpenEMR's path is its `path` column).
pub fn check(
    kind: SchemaKind,
    op: Option<&emr_catalog::Operation>,
    method: &str,
    resp: &HttpResponse,
) -> Vec<Failure> {
    let problems = match kind {
        SchemaKind::Openapi => match op {
            Some(op) => openapi::check_response(op.column("path"), method, resp),
            None => vec!["the request addresses no operation of the catalogue, so no OpenAPI operation describes it".to_owned()],
        },
        SchemaKind::Fhir => fhir::check_response(resp),
    };
    let subject = match kind {
        SchemaKind::Openapi => "schema openapi",
        SchemaKind::Fhir => "schema fhir",
    };
    problems
        .into_iter()
        .take(20)
        .map(|p| Failure::new(FailureKind::Schema, subject, p))
        .collect()
}
