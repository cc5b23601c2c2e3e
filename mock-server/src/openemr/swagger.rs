//! `/swagger/openemr-api.yaml` (and `.json`): the OpenAPI document of the
//! Standard and Patient Portal APIs, where OpenEMR's installation keeps its
//! own. eMedicalPractice's copy has its mounts: the Standard API under
//! `/fhir/r4`, the portal under `/portal`, at the server root.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::layout::Layout;
use crate::state::AppState;

/// The document for a layout, as JSON.
pub fn document(layout: Layout) -> &'static Value {
    static OPENEMR: OnceLock<Value> = OnceLock::new();
    static EMED: OnceLock<Value> = OnceLock::new();
    let base = || -> Value {
        // Compiled-in data, parsed by the unit test below.
        serde_yaml::from_str(emr_catalog::OPENEMR_OPENAPI).unwrap_or(Value::Null)
    };
    match layout {
        Layout::OpenEmr => OPENEMR.get_or_init(base),
        Layout::EMedPractice => EMED.get_or_init(|| {
            let mut doc = base();
            doc["servers"] = serde_json::json!([{"url": "/", "description": "eMedicalPractice"}]);
            if let Some(Value::Object(paths)) = doc.get_mut("paths") {
                let old = std::mem::take(paths);
                for (k, v) in old {
                    let k = match k.strip_prefix("/api/") {
                        Some(rest) => format!("/fhir/r4/{rest}"),
                        None => k,
                    };
                    paths.insert(k, v);
                }
            }
            doc
        }),
    }
}

pub async fn yaml(State(state): State<AppState>) -> Response {
    let doc = document(Layout::of(state.profile.id));
    match serde_yaml::to_string(doc) {
        Ok(text) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/yaml")],
            text,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

pub async fn json(State(state): State<AppState>) -> Response {
    let doc = document(Layout::of(state.profile.id));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use emr_catalog::{Api, Catalog, ProfileId};

    #[test]
    fn every_standard_and_portal_route_has_an_operation() {
        for (profile, layout) in [
            (ProfileId::OpenEmr, Layout::OpenEmr),
            (ProfileId::EMedPractice, Layout::EMedPractice),
        ] {
            let doc = document(layout);
            assert_eq!(doc["openapi"], "3.0.3");
            let mut n = 0;
            for op in Catalog::of(profile)
                .operations()
                .iter()
                .filter(|o| matches!(o.api, Api::Rest | Api::Portal))
            {
                let mut path = String::new();
                for seg in op.path.as_str().split('/').filter(|s| !s.is_empty()) {
                    path.push('/');
                    match seg.strip_prefix(':') {
                        Some(p) => path.push_str(&format!("{{{p}}}")),
                        None => path.push_str(seg),
                    }
                }
                let method = op.method.to_ascii_lowercase();
                assert!(
                    doc["paths"][&path][&method].is_object(),
                    "{profile}: {method} {path}"
                );
                n += 1;
            }
            assert_eq!(n, 99);
        }
    }
}
