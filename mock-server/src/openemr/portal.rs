//! The Patient Portal API (`/apis/{site}/portal/...`): the gate lets only
//! patient-role tokens with `api:port` through, and every route works on
//! the token's own patient, so another patient's encounter or
//! appointment is simply not found. No ACL applies.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::api::{
    legacy, legacy_not_found, patient_by_uuid, wrapper, wrapper_list, Answer, Call, StandardPatient,
};
use super::standard::wire;

pub fn handle(c: &Call<'_>) -> Answer {
    let uuid = c
        .principal
        .and_then(|p| p.patient.clone())
        .unwrap_or_default();
    let ok = StatusCode::OK;
    Ok(c.site.store.read(|d| {
        let patient = patient_by_uuid(d, &uuid);
        match c.op.column("path") {
            "/portal/patient" => match patient {
                Some(p) => wrapper(ok, StandardPatient::of(p)),
                None => wrapper(StatusCode::NOT_FOUND, json!([])),
            },
            "/portal/patient/encounter" => {
                let rows: Vec<Value> = patient
                    .map(|p| {
                        d.encounters
                            .for_patient(p.id)
                            .map(|e| wire::encounter(d, e))
                            .collect()
                    })
                    .unwrap_or_default();
                if rows.is_empty() {
                    wrapper(StatusCode::NOT_FOUND, json!([]))
                } else {
                    wrapper_list(ok, rows, json!([]))
                }
            }
            "/portal/patient/encounter/:euuid" => {
                match d
                    .encounters
                    .by_uuid(c.param("euuid"))
                    .filter(|e| patient.is_some_and(|p| p.id == e.patient_id))
                {
                    Some(e) => wrapper(ok, wire::encounter(d, e)),
                    None => wrapper(StatusCode::NOT_FOUND, json!([])),
                }
            }
            "/portal/patient/appointment" => {
                let rows: Vec<Value> = patient
                    .map(|p| {
                        d.appointments()
                            .iter()
                            .filter(|a| a.patient == Some(p.id))
                            .map(|a| wire::appointment(d, a))
                            .collect()
                    })
                    .unwrap_or_default();
                if rows.is_empty() {
                    legacy_not_found()
                } else {
                    legacy(ok, &Value::Array(rows))
                }
            }
            "/portal/patient/appointment/:auuid" => {
                match d
                    .appointments()
                    .by_uuid(c.param("auuid"))
                    .filter(|a| patient.is_some_and(|p| a.patient == Some(p.id)))
                {
                    Some(a) => legacy(ok, &wire::appointment(d, a)),
                    None => legacy_not_found(),
                }
            }
            _ => crate::error::openemr_error(StatusCode::NOT_FOUND, "Route not found", 0),
        }
    }))
}
