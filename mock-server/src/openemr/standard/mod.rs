//! OpenEMR's Standard API (`/apis/{site}/api/...`; eMedicalPractice mounts
//! it under `/fhir/r4`). Each route runs its ACL check (the catalogue's
//! `acl` column), validates with the rules of `data/openemr/validation.yaml`,
//! reads or writes the shared store, and answers in its controller's
//! style: the `{validationErrors, internalErrors, data, links}` wrapper of
//! the ProcessingResult controllers, or the raw rows and bare statuses of
//! the legacy `responseHandler` controllers. The success status of each
//! route is the catalogue's `success_status` column.

mod validate;
pub mod wire;

pub use validate::{in_list, list, lists, validate as validate_set, ListOption, Mode};

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use super::acl;
use super::api::{
    is_uuid, legacy, legacy_invalid, legacy_not_found, patient_by_uuid, sex_code,
    standard_patient_json, wrapper, wrapper_invalid, wrapper_list, Answer, Call, StandardPatient,
};
use super::vitals;
use crate::store::{
    Allergy, Appointment, Data, Document, Encounter, Facility, Id, InsuranceCompany,
    InsurancePolicy, Measurement, Medication, Message, Note, Patient, Prescription, Problem,
    Provider, Record, StoreError, Table, Timestamp, Transaction,
};
use validate::{text, validate, whitelist};

/// The route's success status from the catalogue (`201`, `200 (404 ...)`).
fn success(c: &Call<'_>) -> StatusCode {
    let digits: String =
        c.op.column("success_status")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
    digits
        .parse::<u16>()
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK)
}

pub fn handle(c: &Call<'_>) -> Answer {
    let path = c.op.column("path");
    let method = c.op.method.as_str();
    // The employer route checks the UUID's format before the ACL.
    if path == "/api/patient/:puuid/employer" && !is_uuid(c.param("puuid")) {
        return Ok(super::api::json_response(
            StatusCode::BAD_REQUEST,
            "application/json",
            &json!({"validationErrors": {"uuid": ["Invalid UUID format"]}}),
        ));
    }
    c.site
        .store
        .read(|d| acl::check(d, c.principal, c.op.column("acl")))?;
    let ok = success(c);
    match (method, path) {
        ("GET", "/api/version") => Ok(legacy(
            ok,
            &json!({
                "v_major": "8", "v_minor": "0", "v_patch": "1", "v_realpatch": "0",
                "v_tag": "-dev", "v_database": "500", "v_acl": "12"
            }),
        )),
        ("GET", "/api/product") => Ok(legacy(
            ok,
            &json!({"statusAsString": "UNREGISTERED", "id": null, "email": null}),
        )),

        ("GET", "/api/patient") => Ok(patient_list(c, ok)),
        ("POST", "/api/patient") => patient_create(c, ok),
        ("GET", "/api/patient/:puuid") => {
            Ok(c.site
                .store
                .read(|d| match patient_by_uuid(d, c.param("puuid")) {
                    Some(p) => wrapper(ok, StandardPatient::of(p)),
                    None => wrapper(StatusCode::NOT_FOUND, json!([])),
                }))
        }
        ("PUT", "/api/patient/:puuid") => patient_update(c, ok),

        ("GET", "/api/patient/:puuid/encounter") => Ok(c.site.store.read(|d| {
            let rows: Vec<Value> = match patient_by_uuid(d, c.param("puuid")) {
                Some(p) => d
                    .encounters
                    .for_patient(p.id)
                    .map(|e| wire::encounter(d, e))
                    .collect(),
                None => Vec::new(),
            };
            if rows.is_empty() {
                wrapper(StatusCode::NOT_FOUND, json!([]))
            } else {
                list_response(c, ok, rows)
            }
        })),
        ("GET", "/api/patient/:puuid/encounter/:euuid") => Ok(c.site.store.read(|d| {
            match encounter_by_uuid(d, c.param("puuid"), c.param("euuid")) {
                Some(e) => wrapper(ok, wire::encounter(d, e)),
                None => wrapper(StatusCode::NOT_FOUND, json!([])),
            }
        })),
        ("POST", "/api/patient/:puuid/encounter") => encounter_write(c, ok, None),
        ("PUT", "/api/patient/:puuid/encounter/:euuid") => {
            encounter_write(c, ok, Some(c.param("euuid")))
        }

        ("GET", "/api/patient/:pid/encounter/:eid/soap_note") => legacy_rows(c, ok, |d, p, e| {
            d.notes
                .for_patient(p)
                .filter(|n| n.encounter_id == Some(e) && !n.archived)
                .map(|n| wire::soap_note(d, n))
                .collect()
        }),
        ("GET", "/api/patient/:pid/encounter/:eid/soap_note/:sid") => {
            legacy_rows(c, ok, |d, p, e| {
                d.notes
                    .get(num(c.param("sid")))
                    .filter(|n| n.patient_id == p && n.encounter_id == Some(e))
                    .map(|n| wire::soap_note(d, n))
                    .into_iter()
                    .collect()
            })
        }
        ("POST", "/api/patient/:pid/encounter/:eid/soap_note") => soap_write(c, ok, None),
        ("PUT", "/api/patient/:pid/encounter/:eid/soap_note/:sid") => {
            soap_write(c, ok, Some(num(c.param("sid"))))
        }
        ("GET", "/api/patient/:pid/encounter/:eid/vital") => legacy_rows(c, ok, |d, p, e| {
            vitals::forms(d, p, e)
                .iter()
                .map(|f| wire::vital(d, f))
                .collect()
        }),
        ("GET", "/api/patient/:pid/encounter/:eid/vital/:vid") => legacy_rows(c, ok, |d, p, e| {
            let vid = num(c.param("vid"));
            vitals::forms(d, p, e)
                .iter()
                .filter(|f| f.vid == vid)
                .map(|f| wire::vital(d, f))
                .collect()
        }),
        ("POST", "/api/patient/:pid/encounter/:eid/vital") => vital_write(c, ok, None),
        ("PUT", "/api/patient/:pid/encounter/:eid/vital/:vid") => {
            vital_write(c, ok, Some(num(c.param("vid"))))
        }

        ("GET", "/api/practitioner") => Ok(c.site.store.read(|d| {
            let rows = d
                .providers
                .iter()
                .map(|p| wire::practitioner(d, p))
                .collect();
            list_response(c, ok, filter_rows(c, rows))
        })),
        ("GET", "/api/practitioner/:pruuid") => {
            Ok(c.site
                .store
                .read(|d| match d.providers.by_uuid(c.param("pruuid")) {
                    Some(p) => wrapper(ok, wire::practitioner(d, p)),
                    None => wrapper(StatusCode::NOT_FOUND, json!([])),
                }))
        }
        ("POST", "/api/practitioner") => practitioner_write(c, ok, None),
        ("PUT", "/api/practitioner/:pruuid") => practitioner_write(c, ok, Some(c.param("pruuid"))),
        ("GET", "/api/user") => Ok(c.site.store.read(|d| {
            let rows = d.providers.iter().map(|p| wire::user(d, p)).collect();
            list_response(c, ok, filter_rows(c, rows))
        })),
        ("GET", "/api/user/:uuid") => {
            Ok(c.site
                .store
                .read(|d| match d.providers.by_uuid(c.param("uuid")) {
                    Some(p) => wrapper(ok, wire::user(d, p)),
                    None => wrapper(StatusCode::NOT_FOUND, json!([])),
                }))
        }

        ("GET", "/api/facility") => Ok(c.site.store.read(|d| {
            let rows = d.facilities.iter().map(wire::facility).collect();
            list_response(c, ok, filter_rows(c, rows))
        })),
        ("GET", "/api/facility/:fuuid") => {
            Ok(c.site
                .store
                .read(|d| match d.facilities.by_uuid(c.param("fuuid")) {
                    Some(f) => wrapper(ok, wire::facility(f)),
                    None => wrapper(StatusCode::NOT_FOUND, json!([])),
                }))
        }
        ("POST", "/api/facility") => facility_write(c, ok, None),
        ("PUT", "/api/facility/:fuuid") => facility_write(c, ok, Some(c.param("fuuid"))),

        ("GET", "/api/medical_problem") => Ok(c.site.store.read(|d| {
            let rows = d
                .problems
                .iter()
                .filter(|p| p.kind == "medical_problem")
                .map(|p| wire::condition(d, p))
                .collect();
            list_response(c, ok, rows)
        })),
        ("GET", "/api/medical_problem/:muuid") => Ok(c.site.store.read(|d| {
            match d
                .problems
                .by_uuid(c.param("muuid"))
                .filter(|p| p.kind == "medical_problem")
            {
                Some(p) => wrapper(ok, wire::condition(d, p)),
                None => wrapper(StatusCode::NOT_FOUND, json!([])),
            }
        })),
        ("GET", "/api/patient/:puuid/medical_problem") => Ok(c.site.store.read(|d| {
            let rows = patient_by_uuid(d, c.param("puuid"))
                .map(|p| {
                    d.problems
                        .for_patient(p.id)
                        .filter(|x| x.kind == "medical_problem")
                        .map(|x| wire::condition(d, x))
                        .collect()
                })
                .unwrap_or_default();
            list_response(c, ok, rows)
        })),
        ("GET", "/api/patient/:puuid/medical_problem/:muuid") => Ok(c.site.store.read(|d| {
            let rows = d
                .problems
                .by_uuid(c.param("muuid"))
                .filter(|x| {
                    x.kind == "medical_problem" && owned_by(d, x.patient_id, c.param("puuid"))
                })
                .map(|x| wire::condition(d, x))
                .into_iter()
                .collect();
            list_response(c, ok, rows)
        })),
        ("POST", "/api/patient/:puuid/medical_problem") => condition_write(c, ok, None),
        ("PUT", "/api/patient/:puuid/medical_problem/:muuid") => {
            condition_write(c, ok, Some(c.param("muuid")))
        }
        ("DELETE", "/api/patient/:puuid/medical_problem/:muuid") => Ok(c.site.store.write(|d| {
            let id = d
                .problems
                .by_uuid(c.param("muuid"))
                .filter(|x| {
                    x.kind == "medical_problem" && owned_by(d, x.patient_id, c.param("puuid"))
                })
                .map(|x| x.id);
            match id.and_then(|i| d.problems.remove(i)) {
                Some(x) => wrapper(ok, json!({"uuid": x.uuid})),
                None => wrapper(StatusCode::NOT_FOUND, json!([])),
            }
        })),

        ("GET", "/api/allergy") => Ok(c.site.store.read(|d| {
            let rows = d
                .allergies
                .iter()
                .filter(|a| !a.archived)
                .map(|a| wire::allergy(d, a))
                .collect();
            list_response(c, ok, rows)
        })),
        ("GET", "/api/allergy/:auuid") => {
            Ok(c.site
                .store
                .read(|d| match d.allergies.by_uuid(c.param("auuid")) {
                    Some(a) => wrapper(ok, wire::allergy(d, a)),
                    None => wrapper(StatusCode::NOT_FOUND, json!([])),
                }))
        }
        ("GET", "/api/patient/:puuid/allergy") => Ok(c.site.store.read(|d| {
            let rows = patient_by_uuid(d, c.param("puuid"))
                .map(|p| {
                    d.allergies
                        .for_patient(p.id)
                        .filter(|a| !a.archived)
                        .map(|a| wire::allergy(d, a))
                        .collect()
                })
                .unwrap_or_default();
            list_response(c, ok, rows)
        })),
        ("GET", "/api/patient/:puuid/allergy/:auuid") => Ok(c.site.store.read(|d| {
            let rows = d
                .allergies
                .by_uuid(c.param("auuid"))
                .filter(|a| owned_by(d, a.patient_id, c.param("puuid")))
                .map(|a| wire::allergy(d, a))
                .into_iter()
                .collect();
            list_response(c, ok, rows)
        })),
        ("POST", "/api/patient/:puuid/allergy") => allergy_write(c, ok, None),
        ("PUT", "/api/patient/:puuid/allergy/:auuid") => {
            allergy_write(c, ok, Some(c.param("auuid")))
        }
        ("DELETE", "/api/patient/:puuid/allergy/:auuid") => Ok(c.site.store.write(|d| {
            let id = d
                .allergies
                .by_uuid(c.param("auuid"))
                .filter(|a| owned_by(d, a.patient_id, c.param("puuid")))
                .map(|a| a.id);
            match id.and_then(|i| d.allergies.remove(i)) {
                Some(a) => wrapper(ok, json!({"uuid": a.uuid})),
                None => wrapper(StatusCode::NOT_FOUND, json!([])),
            }
        })),

        ("GET", "/api/patient/:pid/medication") => list_rows(c, ok, "medication", None),
        ("GET", "/api/patient/:pid/medication/:mid") => {
            list_rows(c, ok, "medication", Some(c.param("mid")))
        }
        ("POST", "/api/patient/:pid/medication") => list_write(c, ok, "medication", None),
        ("PUT", "/api/patient/:pid/medication/:mid") => {
            list_write(c, ok, "medication", Some(c.param("mid")))
        }
        ("DELETE", "/api/patient/:pid/medication/:mid") => {
            list_delete(c, ok, "medication", c.param("mid"))
        }
        ("GET", "/api/patient/:pid/surgery") => list_rows(c, ok, "surgery", None),
        ("GET", "/api/patient/:pid/surgery/:sid") => {
            list_rows(c, ok, "surgery", Some(c.param("sid")))
        }
        ("POST", "/api/patient/:pid/surgery") => list_write(c, ok, "surgery", None),
        ("PUT", "/api/patient/:pid/surgery/:sid") => {
            list_write(c, ok, "surgery", Some(c.param("sid")))
        }
        ("DELETE", "/api/patient/:pid/surgery/:sid") => {
            list_delete(c, ok, "surgery", c.param("sid"))
        }
        ("GET", "/api/patient/:pid/dental_issue") => list_rows(c, ok, "dental", None),
        ("GET", "/api/patient/:pid/dental_issue/:did") => {
            list_rows(c, ok, "dental", Some(c.param("did")))
        }
        ("POST", "/api/patient/:pid/dental_issue") => list_write(c, ok, "dental", None),
        ("PUT", "/api/patient/:pid/dental_issue/:did") => {
            list_write(c, ok, "dental", Some(c.param("did")))
        }
        ("DELETE", "/api/patient/:pid/dental_issue/:did") => {
            list_delete(c, ok, "dental", c.param("did"))
        }

        ("GET", "/api/appointment") => Ok(c.site.store.read(|d| {
            let rows: Vec<Value> = d
                .appointments()
                .iter()
                .map(|a| wire::appointment(d, a))
                .collect();
            legacy_list(ok, rows)
        })),
        ("GET", "/api/appointment/:eid") | ("GET", "/api/patient/:pid/appointment/:eid") => {
            Ok(c.site
                .store
                .read(|d| match d.appointments().get(num(c.param("eid"))) {
                    // AppointmentService::getAppointment returns a list of one.
                    Some(a) => legacy(ok, &json!([wire::appointment(d, a)])),
                    None => legacy_not_found(),
                }))
        }
        ("GET", "/api/patient/:pid/appointment") => Ok(c.site.store.read(|d| {
            let pid = num(c.param("pid"));
            let rows: Vec<Value> = d
                .appointments()
                .iter()
                .filter(|a| a.patient == Some(pid))
                .map(|a| wire::appointment(d, a))
                .collect();
            legacy_list(ok, rows)
        })),
        ("POST", "/api/patient/:pid/appointment") => appointment_create(c, ok),
        ("DELETE", "/api/patient/:pid/appointment/:eid") => {
            Ok(c.site
                .store
                .write(|d| match d.remove_appointment(num(c.param("eid"))) {
                    Ok(_) => legacy(ok, &json!({"message": "record deleted"})),
                    Err(_) => legacy(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &json!({"message": "Failed to delete appointment"}),
                    ),
                }))
        }

        ("GET", "/api/list/:list_name") => Ok(match list(c.param("list_name")) {
            Some(options) if !options.is_empty() => {
                let rows: Vec<Value> = options
                    .iter()
                    .enumerate()
                    .map(|(i, o)| list_option_row(c.param("list_name"), i, o))
                    .collect();
                legacy(ok, &Value::Array(rows))
            }
            _ => legacy_not_found(),
        }),

        ("GET", "/api/insurance_company") => Ok(c.site.store.read(|d| {
            legacy_list(
                ok,
                d.insurance_companies
                    .iter()
                    .map(wire::insurance_company)
                    .collect(),
            )
        })),
        ("GET", "/api/insurance_company/:iid") => {
            Ok(c.site
                .store
                .read(|d| match d.insurance_companies.get(num(c.param("iid"))) {
                    Some(ic) => legacy(ok, &wire::insurance_company(ic)),
                    None => legacy_not_found(),
                }))
        }
        ("GET", "/api/insurance_type") => {
            let mut types = Map::new();
            for o in list("insurance_types").unwrap_or_default() {
                types.insert(o.0.clone(), Value::String(o.1.clone()));
            }
            Ok(legacy(ok, &Value::Object(types)))
        }
        ("POST", "/api/insurance_company") => insurance_company_write(c, ok, None),
        ("PUT", "/api/insurance_company/:iid") => {
            insurance_company_write(c, ok, Some(num(c.param("iid"))))
        }

        ("GET", "/api/patient/:pid/document") => document_list(c, ok),
        ("POST", "/api/patient/:pid/document") => document_upload(c, ok),
        ("GET", "/api/patient/:pid/document/:did") => Ok(document_download(c, ok)),

        ("GET", "/api/patient/:puuid/employer") => Ok(c.site.store.read(|d| {
            let rows = patient_by_uuid(d, c.param("puuid"))
                .map(employer_rows)
                .unwrap_or_default();
            list_response(c, ok, rows)
        })),
        ("GET", "/api/patient/:puuid/insurance") => Ok(c.site.store.read(|d| {
            let rows = patient_by_uuid(d, c.param("puuid"))
                .map(|p| {
                    d.insurances
                        .for_patient(p.id)
                        .map(|i| wire::insurance(d, i))
                        .collect()
                })
                .unwrap_or_default();
            list_response(c, ok, rows)
        })),
        ("GET", "/api/patient/:puuid/insurance/:uuid") => Ok(c.site.store.read(|d| {
            match d
                .insurances
                .by_uuid(c.param("uuid"))
                .filter(|i| owned_by(d, i.patient_id, c.param("puuid")))
            {
                Some(i) => wrapper(ok, wire::insurance(d, i)),
                None => wrapper(StatusCode::NOT_FOUND, json!([])),
            }
        })),
        ("POST", "/api/patient/:puuid/insurance") => insurance_write(c, ok, None),
        ("PUT", "/api/patient/:puuid/insurance/:insuranceUuid") => {
            insurance_write(c, ok, Some(c.param("insuranceUuid")))
        }
        ("GET", "/api/patient/:puuid/insurance/$swap-insurance") => insurance_swap(c, ok),

        ("POST", "/api/patient/:pid/message") => message_write(c, ok, None),
        ("PUT", "/api/patient/:pid/message/:mid") => {
            message_write(c, ok, Some(num(c.param("mid"))))
        }
        ("DELETE", "/api/patient/:pid/message/:mid") => Ok(c.site.store.write(|d| {
            let pid = num(c.param("pid"));
            let mid = num(c.param("mid"));
            if d.messages.get(mid).is_some_and(|m| m.patient == Some(pid)) {
                d.messages.remove(mid);
                legacy(ok, &json!(true))
            } else {
                legacy_not_found()
            }
        })),

        ("GET", "/api/patient/:pid/transaction") => Ok(c.site.store.read(|d| {
            let rows: Vec<Value> = d
                .transactions
                .for_patient(num(c.param("pid")))
                .map(|t| wire::transaction(d, t))
                .collect();
            if rows.is_empty() {
                wrapper(StatusCode::NOT_FOUND, json!([]))
            } else {
                list_response(c, ok, rows)
            }
        })),
        ("POST", "/api/patient/:pid/transaction") => transaction_write(c, ok, None),
        ("PUT", "/api/transaction/:tid") => transaction_write(c, ok, Some(num(c.param("tid")))),

        ("GET", "/api/immunization") => Ok(c.site.store.read(|d| {
            let rows = d
                .immunizations
                .iter()
                .filter(|i| !i.deleted)
                .map(|i| wire::immunization(d, i))
                .collect();
            list_response(c, ok, filter_rows(c, rows))
        })),
        ("GET", "/api/immunization/:uuid") => {
            Ok(c.site
                .store
                .read(|d| match d.immunizations.by_uuid(c.param("uuid")) {
                    Some(i) => wrapper(ok, wire::immunization(d, i)),
                    None => wrapper(StatusCode::NOT_FOUND, json!([])),
                }))
        }
        ("GET", "/api/procedure") => Ok(c.site.store.read(|d| {
            let rows = d.labs.iter().map(|l| wire::procedure(d, l)).collect();
            list_response(c, ok, rows)
        })),
        ("GET", "/api/procedure/:uuid") => {
            Ok(c.site
                .store
                .read(|d| match d.labs.by_uuid(c.param("uuid")) {
                    Some(l) => wrapper(ok, wire::procedure(d, l)),
                    None => wrapper(StatusCode::NOT_FOUND, json!([])),
                }))
        }
        ("GET", "/api/drug") => Ok(c
            .site
            .store
            .read(|d| list_response(c, ok, d.drugs.iter().map(wire::drug).collect()))),
        ("GET", "/api/drug/:uuid") => {
            Ok(c.site
                .store
                .read(|d| match d.drugs.by_uuid(c.param("uuid")) {
                    Some(dr) => wrapper(ok, wire::drug(dr)),
                    None => wrapper(StatusCode::NOT_FOUND, json!([])),
                }))
        }
        ("GET", "/api/prescription") => Ok(c.site.store.read(|d| {
            let rows = d
                .prescriptions
                .iter()
                .map(|p| wire::prescription(d, p))
                .collect();
            list_response(c, ok, filter_rows(c, rows))
        })),
        ("GET", "/api/prescription/:uuid") => {
            Ok(c.site
                .store
                .read(|d| match d.prescriptions.by_uuid(c.param("uuid")) {
                    Some(p) => wrapper(ok, wire::prescription(d, p)),
                    None => wrapper(StatusCode::NOT_FOUND, json!([])),
                }))
        }
        ("POST", "/api/prescription") => prescription_create(c, ok),
        ("DELETE", "/api/prescription/:uuid") => Ok(c.site.store.write(|d| {
            let Some(p) = d.prescriptions.by_uuid(c.param("uuid")).cloned() else {
                return wrapper(StatusCode::NOT_FOUND, json!([]));
            };
            let meds: Vec<Id> = d
                .medications
                .for_patient(p.patient_id)
                .filter(|m| m.script_no == Some(p.id))
                .map(|m| m.id)
                .collect();
            for m in meds {
                d.medications.remove(m);
            }
            d.prescriptions.remove(p.id);
            wrapper(ok, json!({"uuid": p.uuid}))
        })),

        _ => Err(crate::error::openemr_error(
            StatusCode::NOT_FOUND,
            "Route not found",
            0,
        )),
    }
}

// ---- shared pieces ------------------------------------------------------

/// A path segment as a row id. Text that is no `Id` (not a number, or
/// one past `Id`'s range) is -1, which no row has: ids count up from 1,
/// so it is answered as an unknown id.
fn num(s: &str) -> Id {
    s.trim().parse().unwrap_or(-1)
}

fn owned_by(d: &Data, patient: Id, puuid: &str) -> bool {
    d.patients().get(patient).is_some_and(|p| p.uuid == puuid)
}

fn encounter_by_uuid<'d>(d: &'d Data, puuid: &str, euuid: &str) -> Option<&'d Encounter> {
    d.encounters
        .by_uuid(euuid)
        .filter(|e| owned_by(d, e.patient_id, puuid))
}

/// The calling user's provider row.
fn current<'d>(d: &'d Data, c: &Call<'_>) -> Option<&'d Provider> {
    let uuid = c.principal.map(|p| p.user.as_str())?;
    d.providers.iter().find(|p| p.uuid == uuid)
}

fn current_no(d: &Data, c: &Call<'_>) -> String {
    current(d, c)
        .map(|p| p.provider_no.clone())
        .unwrap_or_default()
        .to_string()
}

fn field(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k).and_then(text)
}

fn date_field(m: &Map<String, Value>, k: &str) -> Option<NaiveDate> {
    field(m, k).and_then(|s| NaiveDate::parse_from_str(s.get(..10).unwrap_or(&s), "%Y-%m-%d").ok())
}

fn set(target: &mut crate::store::Text, m: &Map<String, Value>, k: &str) {
    if let Some(v) = field(m, k) {
        *target = v.into();
    }
}

fn set_ext(ext: &mut crate::store::Ext, m: &Map<String, Value>, k: &str) {
    if let Some(v) = field(m, k) {
        ext.insert(k.to_owned().into(), v.into());
    }
}

/// QueryPagination's links: `first`, and `previous`/`next` when there are
/// such pages; the search URI is this URL with the query minus `_limit`
/// and `_offset`.
fn links(c: &Call<'_>, limit: usize, offset: usize, has_more: bool) -> Value {
    let kept: Vec<(String, String)> = c
        .query
        .iter()
        .filter(|(k, _)| k != "_limit" && k != "_offset")
        .cloned()
        .collect();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    let base = format!("{}?{query}", c.url());
    let mut l = Map::new();
    l.insert(
        "first".into(),
        json!(format!("{base}&_offset=0&_count={limit}")),
    );
    if offset > 0 {
        l.insert(
            "previous".into(),
            json!(format!(
                "{base}&_offset={}&_count={limit}",
                offset.saturating_sub(limit)
            )),
        );
    }
    if has_more {
        l.insert(
            "next".into(),
            json!(format!("{base}&_offset={}&_count={limit}", offset + limit)),
        );
    }
    Value::Object(l)
}

/// A list in the wrapper, paged by `_limit` (or `_maxresults`, at most
/// 200; 0 = everything) and `_offset`.
fn list_response(c: &Call<'_>, ok: StatusCode, rows: Vec<Value>) -> Response {
    let limit = c
        .q("_limit")
        .or_else(|| c.q("_maxresults"))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(200);
    let offset = c
        .q("_offset")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let total = rows.len();
    let page: Vec<Value> = if limit == 0 {
        rows.into_iter().skip(offset).collect()
    } else {
        rows.into_iter().skip(offset).take(limit).collect()
    };
    let has_more = limit > 0 && offset + limit < total;
    wrapper_list(ok, page, links(c, limit, offset, has_more))
}

/// Keeps rows whose fields match every query parameter naming a field
/// (case-insensitive prefix for text); sorts by `_sort`.
fn filter_rows(c: &Call<'_>, rows: Vec<Value>) -> Vec<Value> {
    let mut rows: Vec<Value> = rows
        .into_iter()
        .filter(|row| {
            c.query.iter().all(|(k, want)| {
                if k.starts_with('_') {
                    return true;
                }
                match row.get(k) {
                    Some(v) => {
                        let have = text(v).unwrap_or_default().to_lowercase();
                        have.starts_with(&want.to_lowercase())
                    }
                    // Fields outside the whitelist are ignored.
                    None => true,
                }
            })
        })
        .collect();
    if let Some(sort) = c.q("_sort") {
        let keys: Vec<(String, bool)> = sort
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| match s.strip_prefix('-') {
                Some(k) => (k.to_owned(), true),
                None => (s.to_owned(), false),
            })
            .collect();
        rows.sort_by(|a, b| {
            for (k, desc) in &keys {
                let x = a.get(k).and_then(text).unwrap_or_default();
                let y = b.get(k).and_then(text).unwrap_or_default();
                let o = x.cmp(&y);
                if o != std::cmp::Ordering::Equal {
                    return if *desc { o.reverse() } else { o };
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    rows
}

/// Legacy list: the rows, or 404 with an empty body when there are none.
fn legacy_list(ok: StatusCode, rows: Vec<Value>) -> Response {
    if rows.is_empty() {
        legacy_not_found()
    } else {
        legacy(ok, &Value::Array(rows))
    }
}

/// Legacy rows of an encounter (`:pid`, `:eid`); single-row routes answer
/// the row itself.
fn legacy_rows(
    c: &Call<'_>,
    ok: StatusCode,
    rows: impl FnOnce(&Data, Id, Id) -> Vec<Value>,
) -> Answer {
    let pid = num(c.param("pid"));
    let eid = num(c.param("eid"));
    let single =
        c.op.path
            .as_str()
            .rsplit('/')
            .next()
            .is_some_and(|s| s.starts_with(':'));
    Ok(c.site.store.read(|d| {
        let valid = d.encounters.get(eid).is_some_and(|e| e.patient_id == pid);
        let mut rows = if valid { rows(d, pid, eid) } else { Vec::new() };
        if rows.is_empty() {
            legacy_not_found()
        } else if single {
            legacy(ok, &rows.remove(0))
        } else {
            legacy(ok, &Value::Array(rows))
        }
    }))
}

fn list_option_row(list_id: &str, i: usize, o: &ListOption) -> Value {
    json!({
        "list_id": list_id,
        "option_id": o.0,
        "title": o.1,
        "seq": ((i + 1) * 10).to_string(),
        "is_default": "0",
        "option_value": "0",
        "mapping": "",
        "notes": "",
        "codes": o.2.clone().unwrap_or_default(),
        "toggle_setting_1": "0",
        "toggle_setting_2": "0",
        "activity": "1",
        "subtype": "",
        "edit_options": "1",
        "timestamp": "2024-01-01 00:00:00",
    })
}

/// `Mode::Update` when the route names a row, else `Mode::Insert`: which
/// rules of the validation set apply.
fn mode(names_row: bool) -> Mode {
    if names_row {
        Mode::Update
    } else {
        Mode::Insert
    }
}

/// The patient a route's `puuid` names; a uuid of no patient answers the
/// 400 every patient-scoped wrapper route gives.
fn patient_pid(d: &Data, puuid: &str) -> Result<Id, Response> {
    patient_by_uuid(d, puuid).map(|p| p.id).ok_or_else(|| {
        wrapper_invalid(json!({"puuid": {"Callback::INVALID_VALUE": "Patient UUID is invalid"}}))
    })
}

/// The id of the row an update names (`None` for an insert). A uuid that
/// `find` does not resolve (no row, or another patient's) answers 400
/// under `key`: `"<what> UUID is invalid"`.
fn row_id(
    uuid: Option<&str>,
    key: &str,
    what: &str,
    find: impl FnOnce(&str) -> Option<Id>,
) -> Result<Option<Id>, Response> {
    let Some(u) = uuid else {
        return Ok(None);
    };
    find(u).map(Some).ok_or_else(|| {
        let msg = format!("{what} UUID is invalid");
        wrapper_invalid(json!({ key: {"Callback::INVALID_VALUE": msg} }))
    })
}

/// The tail the wrapper-style row writes share, so each handler states only
/// its fields and defaults. An update applies the input to the row
/// `existing` names and answers it as `render` shows it (404 should it be
/// gone); an insert applies the input to `new_row` and answers
/// `{"id", "uuid"}`. `rows` picks the table.
fn upsert<T: Record>(
    d: &mut Data,
    rows: fn(&mut Data) -> &mut Table<T>,
    existing: Option<Id>,
    now: Timestamp,
    apply: impl FnOnce(&mut T),
    new_row: impl FnOnce(&Data) -> T,
    render: impl FnOnce(&Data, Id) -> Option<Value>,
) -> Result<Value, Response> {
    match existing {
        Some(id) => {
            rows(d).update(id, now, apply);
            render(d, id).ok_or_else(|| wrapper(StatusCode::NOT_FOUND, json!([])))
        }
        None => {
            let mut row = new_row(d);
            apply(&mut row);
            let uuid = row.uuid().map(ToString::to_string).unwrap_or_default();
            let id = rows(d).insert(row);
            Ok(json!({"id": id, "uuid": uuid}))
        }
    }
}

fn new_uuid(c: &Call<'_>) -> String {
    c.state.rng.uuid()
}

fn store_error(e: StoreError) -> Response {
    crate::error::openemr_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), 0)
}

// ---- patients ---------------------------------------------------------

const PATIENT_SEARCH: &[&str] = &[
    "fname",
    "lname",
    "ss",
    "street",
    "postal_code",
    "city",
    "state",
    "phone_home",
    "phone_biz",
    "phone_cell",
    "postal_contact",
    "sex",
    "country_code",
    "email",
    "DOB",
];

/// The ids (in id order) of the patients whose names can match the
/// query's `lname` and `fname`, or `None` when neither is given.
fn patient_name_candidates(c: &Call<'_>, d: &Data) -> Option<Vec<Id>> {
    use crate::store::NamePart;
    let mut out: Option<Vec<Id>> = None;
    for (k, want) in &c.query {
        let part = match k.as_str() {
            "lname" => NamePart::Family,
            "fname" => NamePart::Given,
            _ => continue,
        };
        if want.is_empty() {
            continue;
        }
        let ids = d.patient_ids_by_name_prefix(part, want);
        out = Some(crate::store::intersect_ids(out, ids));
    }
    out
}

fn patient_list(c: &Call<'_>, ok: StatusCode) -> Response {
    c.site.store.read(|d| {
        // `lname`/`fname` are prefix matches: the name indexes give the
        // only patients that can match, so the others are never built.
        let narrowed = patient_name_candidates(c, d);
        let rows: Vec<Value> = match &narrowed {
            Some(ids) => ids
                .iter()
                .filter_map(|id| d.patients().get(*id))
                .map(standard_patient_json)
                .collect(),
            None => d.patients().iter().map(standard_patient_json).collect(),
        };
        let mut rows: Vec<Value> = rows
            .into_iter()
            .filter(|row| {
                c.query.iter().all(|(k, want)| {
                    if !PATIENT_SEARCH.contains(&k.as_str()) {
                        return true;
                    }
                    let have = row.get(k).and_then(text).unwrap_or_default();
                    match k.as_str() {
                        "DOB" | "sex" => have.eq_ignore_ascii_case(want),
                        _ => have.to_lowercase().starts_with(&want.to_lowercase()),
                    }
                })
            })
            .collect();
        if c.q("_sort").is_some() {
            rows = filter_rows(c, rows);
        }
        list_response(c, ok, rows)
    })
}

pub fn apply_patient(p: &mut Patient, m: &Map<String, Value>) {
    set(&mut p.title, m, "title");
    set(&mut p.first_name, m, "fname");
    set(&mut p.middle_name, m, "mname");
    set(&mut p.last_name, m, "lname");
    set(&mut p.sin, m, "ss");
    set(&mut p.address.street, m, "street");
    set(&mut p.address.postal, m, "postal_code");
    set(&mut p.address.city, m, "city");
    set(&mut p.address.province, m, "state");
    set(&mut p.address.country, m, "country_code");
    set(&mut p.phone_home, m, "phone_home");
    set(&mut p.phone_work, m, "phone_biz");
    set(&mut p.phone_cell, m, "phone_cell");
    set(&mut p.email, m, "email");
    set(&mut p.chart_no, m, "pubpid");
    if let Some(sex) = field(m, "sex") {
        p.sex = sex_code(&sex).into();
    }
    if let Some(dob) = date_field(m, "DOB") {
        p.birth_date = Some(dob);
    }
    if let Some(s) = field(m, "status") {
        p.status = match s.as_str() {
            "active" => "AC",
            "inactive" => "IN",
            "deceased" => "DE",
            other => other,
        }
        .into();
    }
    for k in [
        "race",
        "ethnicity",
        "county",
        "drivers_license",
        "phone_contact",
        "contact_relationship",
    ] {
        set_ext(&mut p.ext, m, k);
    }
}

fn patient_create(c: &Call<'_>, ok: StatusCode) -> Answer {
    let input = c.json_object();
    let now = c.now();
    c.site.store.write(|d| {
        if let Some(e) = validate("patient", Mode::Insert, &input, d) {
            return Err(wrapper_invalid(e));
        }
        let mut p = Patient {
            uuid: new_uuid(c).into(),
            status: "AC".into(),
            provider_no: current_no(d, c).into(),
            date_joined: Some(now.date_naive()),
            ..Patient::default()
        };
        apply_patient(&mut p, &input);
        if p.chart_no.is_empty() {
            p.chart_no = format!("{:06}", 1000 + i64::from(d.patients().next_id())).into();
        }
        let uuid = p.uuid.clone();
        let id = d.insert_patient(p, now);
        Ok(wrapper(ok, json!({"pid": id, "uuid": uuid})))
    })
}

fn patient_update(c: &Call<'_>, ok: StatusCode) -> Answer {
    let input = c.json_object();
    let uuid = c.param("puuid").to_owned();
    let now = c.now();
    c.site.store.write(|d| {
        let Some(id) = patient_by_uuid(d, &uuid).map(|p| p.id) else {
            let mut e = Map::new();
            e.insert(uuid.clone(), json!(format!("UUID {uuid} does not exist")));
            return Err(wrapper_invalid(json!({"uuid": e})));
        };
        if let Some(e) = validate("patient", Mode::Update, &input, d) {
            return Err(wrapper_invalid(e));
        }
        d.update_patient(id, now, |p| apply_patient(p, &input))
            .map_err(store_error)?;
        let p = d.patient(id).map_err(store_error)?;
        Ok(wrapper(ok, StandardPatient::of(p)))
    })
}

// ---- encounters ---------------------------------------------------------

fn encounter_write(c: &Call<'_>, ok: StatusCode, euuid: Option<&str>) -> Answer {
    let input = whitelist("encounter", &c.json_object());
    let puuid = c.param("puuid").to_owned();
    let now = c.now();
    let mode = mode(euuid.is_some());
    c.site.store.write(|d| {
        let pid = patient_pid(d, &puuid)?;
        let existing = row_id(euuid, "euuid", "Encounter", |u| {
            encounter_by_uuid(d, &puuid, u).map(|e| e.id)
        })?;
        if let Some(e) = validate("encounter", mode, &input, d) {
            return Err(wrapper_invalid(e));
        }
        let me = current_no(d, c);
        let provider_no = field(&input, "provider_id")
            .and_then(|i| i.parse::<Id>().ok())
            .and_then(|i| d.providers.get(i))
            .map(|p| p.provider_no.clone());
        let apply = |e: &mut Encounter| {
            if let Some(dt) = date_field(&input, "date") {
                let time = if field(&input, "date").is_some_and(|s| s.len() > 10) {
                    chrono::NaiveDateTime::parse_from_str(
                        &field(&input, "date").unwrap_or_default(),
                        "%Y-%m-%d %H:%M:%S",
                    )
                    .map(|x| x.time())
                    .unwrap_or_default()
                } else {
                    chrono::NaiveTime::MIN
                };
                e.date = dt.and_time(time).and_utc().into();
            }
            set(&mut e.reason, &input, "reason");
            set(&mut e.sensitivity, &input, "sensitivity");
            set(&mut e.class_code, &input, "class_code");
            if let Some(f) = field(&input, "facility_id").and_then(|f| f.parse().ok()) {
                e.facility_id = Some(f).into();
            }
            if let Some(p) = &provider_no {
                e.provider_no = p.clone();
            }
            for k in [
                "pc_catid",
                "onset_date",
                "billing_facility",
                "referral_source",
                "pos_code",
                "external_id",
            ] {
                set_ext(&mut e.ext, &input, k);
            }
        };
        match existing {
            Some(id) => {
                d.encounters.update(id, now, apply);
                let e = d
                    .encounters
                    .get(id)
                    .ok_or_else(|| wrapper(StatusCode::NOT_FOUND, json!([])))?;
                Ok(wrapper(ok, wire::encounter(d, e)))
            }
            None => {
                let mut e = Encounter {
                    uuid: new_uuid(c).into(),
                    patient_id: pid,
                    date: now.into(),
                    provider_no: me.into(),
                    facility_id: d.facilities.iter().next().map(|f| f.id).into(),
                    sensitivity: "normal".into(),
                    created: now.into(),
                    last_update: now.into(),
                    ..Encounter::default()
                };
                apply(&mut e);
                let uuid = e.uuid.clone();
                let id = d.encounters.insert(e);
                Ok(wrapper(ok, json!({"encounter": id, "uuid": uuid})))
            }
        }
    })
}

fn encounter_exists(d: &Data, pid: Id, eid: Id) -> bool {
    d.encounters.get(eid).is_some_and(|e| e.patient_id == pid)
}

fn soap_write(c: &Call<'_>, ok: StatusCode, sid: Option<Id>) -> Answer {
    let input = whitelist("soap_note", &c.json_object());
    let pid = num(c.param("pid"));
    let eid = num(c.param("eid"));
    let now = c.now();
    c.site.store.write(|d| {
        if !encounter_exists(d, pid, eid) {
            return Err(legacy_not_found());
        }
        if let Some(e) = validate("soap_note", Mode::Insert, &input, d) {
            return Err(legacy_invalid(e));
        }
        let apply = |n: &mut Note| {
            set(&mut n.subjective, &input, "subjective");
            set(&mut n.objective, &input, "objective");
            set(&mut n.assessment, &input, "assessment");
            set(&mut n.plan, &input, "plan");
            n.text = [
                ("S", &n.subjective),
                ("O", &n.objective),
                ("A", &n.assessment),
                ("P", &n.plan),
            ]
            .iter()
            .filter(|(_, t)| !t.is_empty())
            .map(|(k, t)| format!("{k}: {t}"))
            .collect::<Vec<_>>()
            .join("\n")
            .into();
        };
        match sid {
            Some(sid) => {
                if !d
                    .notes
                    .get(sid)
                    .is_some_and(|n| n.patient_id == pid && n.encounter_id == Some(eid))
                {
                    return Err(legacy_not_found());
                }
                d.notes.update(sid, now, apply);
                Ok(legacy(ok, &json!({"sid": sid})))
            }
            None => {
                let mut n = Note {
                    uuid: new_uuid(c).into(),
                    patient_id: pid,
                    encounter_id: Some(eid).into(),
                    provider_no: current_no(d, c).into(),
                    observed: now.into(),
                    signed: true,
                    created: now.into(),
                    last_update: now.into(),
                    ..Note::default()
                };
                apply(&mut n);
                let id = d.notes.insert(n);
                Ok(legacy(ok, &json!({"sid": id, "fid": id})))
            }
        }
    })
}

fn vital_write(c: &Call<'_>, ok: StatusCode, vid: Option<Id>) -> Answer {
    let input = whitelist("vital", &c.json_object());
    let pid = num(c.param("pid"));
    let eid = num(c.param("eid"));
    let now = c.now();
    c.site.store.write(|d| {
        if !encounter_exists(d, pid, eid) {
            return Err(legacy_not_found());
        }
        if let Some(e) = validate("vital", Mode::Insert, &input, d) {
            return Err(legacy_invalid(e));
        }
        // The form to change: its instant, and the rows it has.
        let (observed, existing): (_, Vec<(Id, String)>) = match vid {
            Some(vid) => {
                let forms = vitals::forms(d, pid, eid);
                let Some(f) = forms.iter().find(|f| f.vid == vid) else {
                    return Err(legacy_not_found());
                };
                (
                    f.observed,
                    f.rows.iter().map(|m| (m.id, m.kind.to_string())).collect(),
                )
            }
            // A new form gets an instant of its own.
            None => (d.stamp(now), Vec::new()),
        };
        let provider_no = current_no(d, c);
        let note = field(&input, "note");
        let mut values: Vec<(&str, String, &str, Option<String>)> = Vec::new();
        if field(&input, "bps").is_some() || field(&input, "bpd").is_some() {
            let old = existing
                .iter()
                .find(|(_, k)| k == "BP")
                .and_then(|(id, _)| d.measurements.get(*id))
                .map(|m| m.value.clone())
                .unwrap_or_default();
            let (os, od) = old.split_once('/').unwrap_or(("", ""));
            let s = field(&input, "bps").unwrap_or_else(|| os.to_owned());
            let dia = field(&input, "bpd").unwrap_or_else(|| od.to_owned());
            values.push(("BP", format!("{s}/{dia}"), "mm[Hg]", None));
        }
        for v in vitals::VITALS {
            if let Some(x) = field(&input, v.field) {
                let instruction = (v.kind == "TEMP")
                    .then(|| field(&input, "temp_method"))
                    .flatten();
                values.push((v.kind, x, v.openemr_unit, instruction));
            }
        }
        let mut first: Option<Id> = existing.iter().map(|(id, _)| *id).min();
        for (kind, value, unit, instruction) in values {
            if let Some((id, _)) = existing.iter().find(|(_, k)| k == kind) {
                d.measurements.update(*id, now, |m| {
                    m.value = value.clone().into();
                    m.unit = unit.to_owned().into();
                    if let Some(i) = &instruction {
                        m.instruction = i.clone().into();
                    }
                    if let Some(n) = &note {
                        m.comments = n.clone().into();
                    }
                });
            } else {
                let id = d.measurements.insert(Measurement {
                    uuid: new_uuid(c).into(),
                    patient_id: pid,
                    kind: kind.to_owned().into(),
                    value: value.into(),
                    unit: unit.to_owned().into(),
                    instruction: instruction.unwrap_or_default().into(),
                    comments: note.clone().unwrap_or_default().into(),
                    observed: observed.into(),
                    provider_no: provider_no.clone().into(),
                    encounter_id: Some(eid).into(),
                    created: now.into(),
                    last_update: now.into(),
                    ..Measurement::default()
                });
                first = Some(first.map_or(id, |f| f.min(id)));
            }
        }
        match (vid, first) {
            (Some(vid), _) => Ok(legacy(ok, &json!({"vid": vid}))),
            (None, Some(id)) => Ok(legacy(ok, &json!({"vid": id, "fid": id}))),
            // A form without a value: OpenEMR still saves the form row.
            (None, None) => {
                let id = d.measurements.insert(Measurement {
                    uuid: new_uuid(c).into(),
                    patient_id: pid,
                    kind: "BP".into(),
                    value: "/".into(),
                    unit: "mm[Hg]".into(),
                    comments: note.unwrap_or_default().into(),
                    observed: observed.into(),
                    provider_no: provider_no.into(),
                    encounter_id: Some(eid).into(),
                    created: now.into(),
                    last_update: now.into(),
                    ..Measurement::default()
                });
                Ok(legacy(ok, &json!({"vid": id, "fid": id})))
            }
        }
    })
}

// ---- practitioners and facilities ---------------------------------------

fn practitioner_write(c: &Call<'_>, ok: StatusCode, uuid: Option<&str>) -> Answer {
    let input = whitelist("practitioner", &c.json_object());
    let now = c.now();
    let mode = mode(uuid.is_some());
    c.site.store.write(|d| {
        let existing = match uuid {
            Some(u) => match d.providers.by_uuid(u) {
                Some(p) => Some(p.id),
                None => {
                    let mut e = Map::new();
                    e.insert(u.to_owned(), json!(format!("UUID {u} does not exist")));
                    return Err(wrapper_invalid(json!({"uuid": e})));
                }
            },
            None => None,
        };
        if let Some(e) = validate("practitioner", mode, &input, d) {
            return Err(wrapper_invalid(e));
        }
        let apply = |p: &mut Provider| {
            set(&mut p.title, &input, "title");
            set(&mut p.first_name, &input, "fname");
            set(&mut p.last_name, &input, "lname");
            set(&mut p.npi, &input, "npi");
            set(&mut p.email, &input, "email");
            set(&mut p.specialty, &input, "specialty");
            set(&mut p.phone, &input, "phone");
            set(&mut p.work_phone, &input, "phonew1");
            set(&mut p.comments, &input, "notes");
            set(&mut p.practitioner_no, &input, "state_license_number");
            if let Some(f) = field(&input, "facility_id").and_then(|f| f.parse().ok()) {
                p.facility_id = Some(f).into();
            }
            for k in [
                "mname",
                "federaltaxid",
                "federaldrugid",
                "upin",
                "billname",
                "url",
                "assistant",
                "organization",
                "valedictory",
                "street",
                "streetb",
                "city",
                "state",
                "zip",
                "fax",
                "phonecell",
            ] {
                set_ext(&mut p.ext, &input, k);
            }
        };
        match existing {
            Some(id) => {
                d.providers.update(id, now, apply);
                let p = d
                    .providers
                    .get(id)
                    .ok_or_else(|| wrapper(StatusCode::NOT_FOUND, json!([])))?;
                Ok(wrapper(ok, wire::practitioner(d, p)))
            }
            None => {
                let mut p = Provider {
                    uuid: new_uuid(c).into(),
                    provider_type: "doctor".into(),
                    status: "1".into(),
                    last_update: now.into(),
                    ..Provider::default()
                };
                apply(&mut p);
                let uuid = p.uuid.clone();
                let id = d.providers.insert(p);
                d.providers
                    .update(id, now, |p| p.provider_no = id.to_string().into());
                Ok(wrapper(ok, json!({"id": id, "uuid": uuid})))
            }
        }
    })
}

fn facility_write(c: &Call<'_>, ok: StatusCode, uuid: Option<&str>) -> Answer {
    let input = whitelist("facility", &c.json_object());
    let now = c.now();
    let mode = mode(uuid.is_some());
    c.site.store.write(|d| {
        let existing = row_id(uuid, "uuid", "Facility", |u| {
            d.facilities.by_uuid(u).map(|f| f.id)
        })?;
        if let Some(e) = validate("facility", mode, &input, d) {
            return Err(wrapper_invalid(e));
        }
        let apply = |f: &mut Facility| {
            set(&mut f.name, &input, "name");
            set(&mut f.phone, &input, "phone");
            set(&mut f.fax, &input, "fax");
            set(&mut f.email, &input, "email");
            set(&mut f.npi, &input, "facility_npi");
            set(&mut f.address.street, &input, "street");
            set(&mut f.address.city, &input, "city");
            set(&mut f.address.province, &input, "state");
            set(&mut f.address.postal, &input, "postal_code");
            set(&mut f.address.country, &input, "country_code");
            for k in [
                "federal_ein",
                "website",
                "domain_identifier",
                "facility_taxonomy",
                "facility_code",
                "billing_location",
                "accepts_assignment",
                "oid",
                "service_location",
            ] {
                set_ext(&mut f.ext, &input, k);
            }
        };
        let new_row = |_: &Data| Facility {
            uuid: new_uuid(c).into(),
            active: true,
            last_update: now.into(),
            ..Facility::default()
        };
        let render = |d: &Data, id| d.facilities.get(id).map(wire::facility);
        upsert(
            d,
            |d| &mut d.facilities,
            existing,
            now,
            apply,
            new_row,
            render,
        )
        .map(|body| wrapper(ok, body))
    })
}

// ---- conditions, allergies, lists -------------------------------------------

fn condition_write(c: &Call<'_>, ok: StatusCode, muuid: Option<&str>) -> Answer {
    let input = whitelist("condition", &c.json_object());
    let puuid = c.param("puuid").to_owned();
    let now = c.now();
    let mode = mode(muuid.is_some());
    c.site.store.write(|d| {
        let pid = patient_pid(d, &puuid)?;
        let existing = row_id(muuid, "uuid", "Condition", |u| {
            d.problems
                .by_uuid(u)
                .filter(|p| p.patient_id == pid && p.kind == "medical_problem")
                .map(|p| p.id)
        })?;
        if let Some(e) = validate("condition", mode, &input, d) {
            return Err(wrapper_invalid(e));
        }
        let apply = |p: &mut Problem| {
            set(&mut p.title, &input, "title");
            set(&mut p.diagnosis, &input, "diagnosis");
            if let Some(b) = date_field(&input, "begdate") {
                p.begin = Some(b);
            }
            if let Some(e) = date_field(&input, "enddate") {
                p.end = Some(e);
            }
        };
        let new_row = |d: &Data| Problem {
            uuid: new_uuid(c).into(),
            patient_id: pid,
            kind: "medical_problem".into(),
            provider_no: current_no(d, c).into(),
            created: now.into(),
            last_update: now.into(),
            ..Problem::default()
        };
        let render = |d: &Data, id| d.problems.get(id).map(|p| wire::condition(d, p));
        upsert(
            d,
            |d| &mut d.problems,
            existing,
            now,
            apply,
            new_row,
            render,
        )
        .map(|body| wrapper(ok, body))
    })
}

fn allergy_write(c: &Call<'_>, ok: StatusCode, auuid: Option<&str>) -> Answer {
    let input = whitelist("condition", &c.json_object());
    let puuid = c.param("puuid").to_owned();
    let now = c.now();
    let mode = mode(auuid.is_some());
    c.site.store.write(|d| {
        let pid = patient_pid(d, &puuid)?;
        let existing = row_id(auuid, "uuid", "Allergy", |u| {
            d.allergies
                .by_uuid(u)
                .filter(|a| a.patient_id == pid)
                .map(|a| a.id)
        })?;
        if let Some(e) = validate("condition", mode, &input, d) {
            return Err(wrapper_invalid(e));
        }
        let apply = |a: &mut Allergy| {
            set(&mut a.description, &input, "title");
            if let Some(b) = date_field(&input, "begdate") {
                a.start_date = Some(b);
            }
            set_ext(&mut a.ext, &input, "enddate");
            set_ext(&mut a.ext, &input, "diagnosis");
        };
        let new_row = |d: &Data| Allergy {
            uuid: new_uuid(c).into(),
            patient_id: pid,
            severity: "4".into(),
            onset: "4".into(),
            entry_date: Some(now.date_naive()),
            provider_no: current_no(d, c).into(),
            last_update: now.into(),
            ..Allergy::default()
        };
        let render = |d: &Data, id| d.allergies.get(id).map(|a| wire::allergy(d, a));
        upsert(
            d,
            |d| &mut d.allergies,
            existing,
            now,
            apply,
            new_row,
            render,
        )
        .map(|body| wrapper(ok, body))
    })
}

/// `ListService` rows of a patient: medications, surgeries or dental issues.
fn list_rows(c: &Call<'_>, ok: StatusCode, kind: &str, id: Option<&str>) -> Answer {
    let pid = num(c.param("pid"));
    let id = id.map(num);
    Ok(c.site.store.read(|d| {
        let mut rows: Vec<Value> = if kind == "medication" {
            d.medications
                .for_patient(pid)
                .filter(|m| !m.archived && id.is_none_or(|i| i == m.id))
                .map(wire::medication_row)
                .collect()
        } else {
            d.problems
                .for_patient(pid)
                .filter(|p| p.kind == kind && id.is_none_or(|i| i == p.id))
                .map(wire::problem_row)
                .collect()
        };
        match (id, rows.is_empty()) {
            (_, true) => legacy_not_found(),
            (Some(_), false) => legacy(ok, &rows.remove(0)),
            (None, false) => legacy(ok, &Value::Array(rows)),
        }
    }))
}

fn list_write(c: &Call<'_>, ok: StatusCode, kind: &str, id: Option<&str>) -> Answer {
    let input = whitelist("list", &c.json_object());
    let pid = num(c.param("pid"));
    let id = id.map(num);
    let now = c.now();
    let mode = mode(id.is_some());
    c.site.store.write(|d| {
        if d.patients().get(pid).is_none() {
            return Err(legacy_not_found());
        }
        if let Some(e) = validate("list", mode, &input, d) {
            return Err(legacy_invalid(e));
        }
        let title = field(&input, "title");
        let begin = date_field(&input, "begdate");
        let end = date_field(&input, "enddate");
        let diagnosis = field(&input, "diagnosis");
        let provider_no = current_no(d, c);
        if kind == "medication" {
            let apply = |m: &mut Medication| {
                if let Some(t) = &title {
                    m.brand_name = String::new().into();
                    m.generic_name = t.clone().into();
                }
                if begin.is_some() {
                    m.start_date = begin;
                }
                if end.is_some() {
                    m.end_date = end;
                }
                if let Some(x) = &diagnosis {
                    m.ext.insert("diagnosis".into(), x.clone().into());
                }
            };
            match id {
                Some(i) => {
                    if d.medications.get(i).is_none_or(|m| m.patient_id != pid) {
                        return Err(legacy_not_found());
                    }
                    d.medications.update(i, now, apply);
                    Ok(legacy(ok, &json!({"id": i})))
                }
                None => {
                    let mut m = Medication {
                        uuid: new_uuid(c).into(),
                        patient_id: pid,
                        provider_no: provider_no.into(),
                        created: now.into(),
                        last_update: now.into(),
                        ..Medication::default()
                    };
                    apply(&mut m);
                    let i = d.medications.insert(m);
                    Ok(legacy(ok, &json!({"id": i})))
                }
            }
        } else {
            let apply = |p: &mut Problem| {
                if let Some(t) = &title {
                    p.title = t.clone().into();
                }
                if begin.is_some() {
                    p.begin = begin;
                }
                if end.is_some() {
                    p.end = end;
                }
                if let Some(x) = &diagnosis {
                    p.diagnosis = x.clone().into();
                }
            };
            match id {
                Some(i) => {
                    if !d
                        .problems
                        .get(i)
                        .is_some_and(|p| p.patient_id == pid && p.kind == kind)
                    {
                        return Err(legacy_not_found());
                    }
                    d.problems.update(i, now, apply);
                    Ok(legacy(ok, &json!({"id": i})))
                }
                None => {
                    let mut p = Problem {
                        uuid: new_uuid(c).into(),
                        patient_id: pid,
                        kind: kind.to_owned().into(),
                        provider_no: provider_no.into(),
                        created: now.into(),
                        last_update: now.into(),
                        ..Problem::default()
                    };
                    apply(&mut p);
                    let i = d.problems.insert(p);
                    Ok(legacy(ok, &json!({"id": i})))
                }
            }
        }
    })
}

fn list_delete(c: &Call<'_>, ok: StatusCode, kind: &str, id: &str) -> Answer {
    let pid = num(c.param("pid"));
    let id = num(id);
    Ok(c.site.store.write(|d| {
        let found = if kind == "medication" {
            d.medications.get(id).is_some_and(|m| m.patient_id == pid)
                && d.medications.remove(id).is_some()
        } else {
            d.problems
                .get(id)
                .is_some_and(|p| p.patient_id == pid && p.kind == kind)
                && d.problems.remove(id).is_some()
        };
        if found {
            legacy(ok, &json!(true))
        } else {
            legacy_not_found()
        }
    }))
}

// ---- appointments ------------------------------------------------------------

fn appointment_create(c: &Call<'_>, ok: StatusCode) -> Answer {
    let input = whitelist("appointment", &c.json_object());
    let pid = num(c.param("pid"));
    let now = c.now();
    c.site.store.write(|d| {
        if let Some(e) = validate("appointment", Mode::Insert, &input, d) {
            return Err(legacy_invalid(e));
        }
        if d.patients().get(pid).is_none() {
            return Err(legacy_not_found());
        }
        let date = date_field(&input, "pc_eventDate").unwrap_or_else(|| now.date_naive());
        let start = field(&input, "pc_startTime")
            .and_then(|t| chrono::NaiveTime::parse_from_str(&t, "%H:%M").ok())
            .unwrap_or_default();
        let seconds = field(&input, "pc_duration")
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(900.0);
        let end = start + chrono::Duration::seconds((seconds as i64).max(60));
        let provider = field(&input, "pc_aid")
            .and_then(|a| a.parse::<Id>().ok())
            .and_then(|a| d.providers.get(a))
            .map(|p| p.provider_no.clone())
            .unwrap_or_else(|| current_no(d, c).into());
        let kind = field(&input, "pc_catid")
            .and_then(|i| i.parse::<Id>().ok())
            .and_then(|i| d.appointment_types.get(i))
            .map(|t| t.name.clone())
            .or_else(|| field(&input, "pc_title").map(Into::into))
            .unwrap_or_default();
        let mut ext = crate::store::Ext::new();
        for k in ["pc_catid", "pc_billing_location"] {
            if let Some(v) = field(&input, k) {
                ext.insert(k.into(), v.into());
            }
        }
        let name = d
            .patients()
            .get(pid)
            .map(Patient::display_name)
            .unwrap_or_default();
        let a = Appointment {
            uuid: new_uuid(c).into(),
            provider_no: provider.clone(),
            patient: Some(pid).into(),
            date,
            start,
            end,
            name: name.into(),
            notes: field(&input, "pc_hometext").unwrap_or_default().into(),
            reason: field(&input, "pc_title").unwrap_or_default().into(),
            kind,
            status: wire::appointment_status_code(
                &field(&input, "pc_apptstatus").unwrap_or_default(),
            )
            .into(),
            facility_id: field(&input, "pc_facility")
                .and_then(|f| f.parse().ok())
                .into(),
            booking_source: "OpenEMR".into(),
            creator: provider.clone(),
            last_update_user: provider,
            ext,
            ..Appointment::default()
        };
        let id = d.insert_appointment(a, now, false).map_err(store_error)?;
        Ok(legacy(ok, &json!({"id": id})))
    })
}

// ---- insurance ------------------------------------------------------------

fn insurance_company_write(c: &Call<'_>, ok: StatusCode, iid: Option<Id>) -> Answer {
    let input = whitelist("insurance_company", &c.json_object());
    let now = c.now();
    let mode = mode(iid.is_some());
    c.site.store.write(|d| {
        if let Some(i) = iid {
            if d.insurance_companies.get(i).is_none() {
                return Err(legacy_not_found());
            }
        }
        if let Some(e) = validate("insurance_company", mode, &input, d) {
            return Err(legacy_invalid(e));
        }
        let apply = |ic: &mut InsuranceCompany| {
            set(&mut ic.name, &input, "name");
            set(&mut ic.attn, &input, "attn");
            set(&mut ic.cms_id, &input, "cms_id");
            set(&mut ic.ins_type_code, &input, "ins_type_code");
            set(&mut ic.x12_receiver_id, &input, "x12_receiver_id");
            set(
                &mut ic.x12_default_partner_id,
                &input,
                "x12_default_partner_id",
            );
            set(&mut ic.alt_cms_id, &input, "alt_cms_id");
            set(&mut ic.address.street, &input, "line1");
            set(&mut ic.address.city, &input, "city");
            set(&mut ic.address.province, &input, "state");
            set(&mut ic.address.postal, &input, "zip");
            set(&mut ic.address.country, &input, "country");
        };
        match iid {
            Some(i) => {
                d.insurance_companies.update(i, now, apply);
                Ok(legacy(ok, &json!({"id": i})))
            }
            None => {
                let mut ic = InsuranceCompany {
                    uuid: new_uuid(c).into(),
                    last_update: now.into(),
                    ..InsuranceCompany::default()
                };
                apply(&mut ic);
                let i = d.insurance_companies.insert(ic);
                Ok(legacy(ok, &json!({"id": i})))
            }
        }
    })
}

const SUBSCRIBER_KEYS: &[&str] = &[
    "subscriber_lname",
    "subscriber_mname",
    "subscriber_fname",
    "subscriber_ss",
    "subscriber_DOB",
    "subscriber_street",
    "subscriber_postal_code",
    "subscriber_city",
    "subscriber_state",
    "subscriber_country",
    "subscriber_phone",
    "subscriber_employer",
    "subscriber_sex",
];

fn insurance_write(c: &Call<'_>, ok: StatusCode, uuid: Option<&str>) -> Answer {
    let input = whitelist("insurance", &c.json_object());
    let puuid = c.param("puuid").to_owned();
    let now = c.now();
    c.site.store.write(|d| {
        let Some(patient) = patient_by_uuid(d, &puuid).cloned() else {
            return Err(wrapper_invalid(
                json!({"puuid": {"Callback::INVALID_VALUE": "Patient UUID is invalid"}}),
            ));
        };
        let existing = row_id(uuid, "uuid", "Insurance", |u| {
            d.insurances
                .by_uuid(u)
                .filter(|i| i.patient_id == patient.id)
                .map(|i| i.id)
        })?;
        if let Some(e) = validate("insurance", Mode::Insert, &input, d) {
            return Err(wrapper_invalid(e));
        }
        // The policy rules the schema's description states.
        let kind = field(&input, "type").unwrap_or_else(|| "primary".into());
        let relationship = field(&input, "subscriber_relationship").unwrap_or_default();
        let ss = field(&input, "subscriber_ss").unwrap_or_default();
        let mut errors = Map::new();
        if relationship == "self" {
            let same = field(&input, "subscriber_fname")
                .is_some_and(|f| f.eq_ignore_ascii_case(&patient.first_name))
                && field(&input, "subscriber_lname")
                    .is_some_and(|l| l.eq_ignore_ascii_case(&patient.last_name));
            if !same {
                errors.insert(
                    "subscriber_fname".into(),
                    json!({"Callback::INVALID_VALUE": "subscriber_fname is invalid"}),
                );
            }
            if ss != patient.sin {
                errors.insert(
                    "subscriber_ss".into(),
                    json!({"Callback::INVALID_VALUE": "subscriber_ss is invalid"}),
                );
            }
        } else if !patient.sin.is_empty() && ss == patient.sin {
            errors.insert(
                "subscriber_ss".into(),
                json!({"Callback::INVALID_VALUE": "subscriber_ss is invalid"}),
            );
        }
        let start = date_field(&input, "date");
        let end = date_field(&input, "date_end");
        if let (Some(s), Some(e)) = (start, end) {
            if s > e {
                errors.insert(
                    "date".into(),
                    json!({"Callback::INVALID_VALUE": "date is invalid"}),
                );
            }
        }
        let current_taken = end.is_none()
            && d.insurances
                .for_patient(patient.id)
                .any(|i| i.kind == kind && i.end.is_none() && Some(i.id) != existing);
        if current_taken {
            errors.insert(
                "date_end".into(),
                json!({"Callback::INVALID_VALUE": "date_end is invalid"}),
            );
        }
        if !errors.is_empty() {
            return Err(wrapper_invalid(Value::Object(errors)));
        }
        let apply = |i: &mut InsurancePolicy| {
            i.kind = kind.clone().into();
            if let Some(p) = field(&input, "provider").and_then(|p| p.parse().ok()) {
                i.company_id = p;
            }
            set(&mut i.plan_name, &input, "plan_name");
            set(&mut i.policy_number, &input, "policy_number");
            set(&mut i.group_number, &input, "group_number");
            set(&mut i.relationship, &input, "subscriber_relationship");
            set(&mut i.copay, &input, "copay");
            set(&mut i.accept_assignment, &input, "accept_assignment");
            set(&mut i.policy_type, &input, "policy_type");
            i.start = start;
            i.end = end;
            for k in SUBSCRIBER_KEYS {
                set_ext(&mut i.subscriber, &input, k);
            }
        };
        let id = match existing {
            Some(id) => {
                d.insurances.update(id, now, apply);
                id
            }
            None => {
                let mut i = InsurancePolicy {
                    uuid: new_uuid(c).into(),
                    patient_id: patient.id,
                    last_update: now.into(),
                    ..InsurancePolicy::default()
                };
                apply(&mut i);
                d.insurances.insert(i)
            }
        };
        let i = d
            .insurances
            .get(id)
            .ok_or_else(|| wrapper(StatusCode::NOT_FOUND, json!([])))?;
        Ok(wrapper(ok, wire::insurance(d, i)))
    })
}

/// `$swap-insurance`: the policy `uuid` takes the `type` slot; the policy
/// that held it takes the other's.
fn insurance_swap(c: &Call<'_>, ok: StatusCode) -> Answer {
    let puuid = c.param("puuid").to_owned();
    let kind = c.q("type").unwrap_or("").to_owned();
    let uuid = c.q("uuid").unwrap_or("").to_owned();
    let now = c.now();
    c.site.store.write(|d| {
        let mut errors = Map::new();
        if !in_list("insurance_kind", &kind) {
            errors.insert(
                "type".into(),
                json!({"InArray::NOT_IN_ARRAY": "type must be in the defined set of values"}),
            );
        }
        let pid = patient_pid(d, &puuid)?;
        let target = d
            .insurances
            .by_uuid(&uuid)
            .filter(|i| i.patient_id == pid)
            .map(|i| (i.id, i.kind.clone()));
        if target.is_none() {
            errors.insert(
                "uuid".into(),
                json!({"Callback::INVALID_VALUE": "uuid is invalid"}),
            );
        }
        if !errors.is_empty() {
            return Err(wrapper_invalid(Value::Object(errors)));
        }
        let Some((id, old_kind)) = target else {
            return Err(wrapper(StatusCode::NOT_FOUND, json!([])));
        };
        let holder: Option<Id> = d
            .insurances
            .for_patient(pid)
            .find(|i| i.kind == kind && i.end.is_none() && i.id != id)
            .map(|i| i.id);
        if let Some(h) = holder {
            d.insurances.update(h, now, |i| i.kind = old_kind.clone());
        }
        d.insurances
            .update(id, now, |i| i.kind = kind.clone().into());
        let rows: Vec<Value> = d
            .insurances
            .for_patient(pid)
            .map(|i| wire::insurance(d, i))
            .collect();
        Ok(wrapper_list(ok, rows, json!({})))
    })
}

/// The employer columns of a patient (`employer_data`), one row.
fn employer_rows(p: &Patient) -> Vec<Value> {
    let Some(name) = p.ext.get("employer.name") else {
        return Vec::new();
    };
    let e = |k: &str| {
        p.ext
            .get(format!("employer.{k}").as_str())
            .cloned()
            .unwrap_or_default()
    };
    vec![json!({
        "name": name,
        "street": e("street"),
        "street_line_2": "",
        "postal_code": e("postal_code"),
        "city": e("city"),
        "state": e("state"),
        "country": e("country"),
        "occupation": e("occupation"),
        "industry": e("industry"),
        "pid": p.id.to_string(),
        "puuid": p.uuid,
        "date": "",
    })]
}

// ---- messages and transactions -------------------------------------------------

fn message_write(c: &Call<'_>, ok: StatusCode, mid: Option<Id>) -> Answer {
    let input = whitelist("message", &c.json_object());
    let pid = num(c.param("pid"));
    let now = c.now();
    c.site.store.write(|d| {
        if d.patients().get(pid).is_none() {
            return Err(legacy_not_found());
        }
        if let Some(m) = mid {
            if d.messages.get(m).is_none_or(|x| x.patient != Some(pid)) {
                return Err(legacy_not_found());
            }
        }
        if let Some(e) = validate("message", Mode::Insert, &input, d) {
            return Err(legacy_invalid(e));
        }
        let apply = |m: &mut Message| {
            set(&mut m.body, &input, "body");
            set(&mut m.from, &input, "from");
            set(&mut m.to, &input, "to");
            set(&mut m.subject, &input, "title");
            set(&mut m.status, &input, "message_status");
            set_ext(&mut m.ext, &input, "groupname");
            m.kind = "pnote".into();
        };
        match mid {
            Some(id) => {
                d.messages.update(id, now, apply);
                Ok(legacy(ok, &json!({"mid": id})))
            }
            None => {
                let mut m = Message {
                    patient: Some(pid).into(),
                    created: now.into(),
                    last_update: now.into(),
                    ..Message::default()
                };
                apply(&mut m);
                let id = d.messages.insert(m);
                Ok(legacy(ok, &json!({"mid": id})))
            }
        }
    })
}

fn transaction_write(c: &Call<'_>, ok: StatusCode, tid: Option<Id>) -> Answer {
    let input = whitelist("transaction", &c.json_object());
    let now = c.now();
    c.site.store.write(|d| {
        let pid = match tid {
            Some(t) => match d.transactions.get(t) {
                Some(x) => x.patient_id,
                None => return Err(wrapper(StatusCode::NOT_FOUND, json!([]))),
            },
            None => {
                let pid = num(c.param("pid"));
                if d.patients().get(pid).is_none() {
                    return Err(wrapper(StatusCode::NOT_FOUND, json!([])));
                }
                pid
            }
        };
        if tid.is_none() {
            let mut errors = validate("transaction", Mode::Insert, &input, d);
            if field(&input, "type").as_deref() == Some("LBTref") {
                if let Some(Value::Object(more)) =
                    validate("transaction_LBTref", Mode::Insert, &input, d)
                {
                    let mut all = match errors.take() {
                        Some(Value::Object(m)) => m,
                        _ => Map::new(),
                    };
                    all.extend(more);
                    errors = Some(Value::Object(all));
                }
            }
            if let Some(e) = errors {
                return Err(wrapper_invalid(e));
            }
        }
        let user_by_npi = |npi: Option<String>| {
            npi.and_then(|n| {
                d.providers
                    .iter()
                    .find(|p| p.npi == n)
                    .map(|p| p.id.to_string())
            })
        };
        let refer_from = user_by_npi(field(&input, "referByNpi"));
        let refer_to = user_by_npi(field(&input, "referToNpi"));
        let me = current(d, c)
            .map(|p| wire::username(d, &p.provider_no))
            .unwrap_or_default();
        // PatientTransactionService: empty values leave a field unchanged.
        let apply = |t: &mut Transaction| {
            let mut put = |k: &str, v: Option<String>| {
                if let Some(v) = v.filter(|v| !v.is_empty()) {
                    t.fields.insert(k.to_owned().into(), v.into());
                }
            };
            put("refer_date", field(&input, "referralDate"));
            put("refer_diag", field(&input, "referDiagnosis"));
            put("refer_from", refer_from.clone());
            put("refer_to", refer_to.clone());
            put(
                "refer_risk_level",
                field(&input, "riskLevel").map(|r| r.to_lowercase()),
            );
            put("refer_vitals", field(&input, "includeVitals"));
            put("refer_authorization", field(&input, "authorization"));
            put("refer_visits", field(&input, "visits"));
            put("refer_validFrom", field(&input, "validFrom"));
            put("refer_validThrough", field(&input, "validThrough"));
            if let Some(b) = field(&input, "body").filter(|b| !b.is_empty()) {
                t.body = b.into();
            }
        };
        match tid {
            Some(t) => {
                d.transactions.update(t, now, apply);
                let rows: Vec<Value> = d
                    .transactions
                    .get(t)
                    .map(|x| wire::transaction(d, x))
                    .into_iter()
                    .collect();
                Ok(wrapper(ok, Value::Array(rows)))
            }
            None => {
                let mut t = Transaction {
                    patient_id: pid,
                    kind: field(&input, "type").unwrap_or_default().into(),
                    title: field(&input, "title").unwrap_or_default().into(),
                    groupname: field(&input, "groupname").unwrap_or_default().into(),
                    user: me.into(),
                    date: Some(now.into()),
                    last_update: now.into(),
                    ..Transaction::default()
                };
                apply(&mut t);
                let id = d.transactions.insert(t);
                Ok(wrapper_list(
                    ok,
                    vec![json!({"id": id, "form_id": id})],
                    links(c, 0, 0, false),
                ))
            }
        }
    })
}

// ---- prescriptions ------------------------------------------------------------

fn prescription_create(c: &Call<'_>, ok: StatusCode) -> Answer {
    let input = whitelist("prescription", &c.json_object());
    let now = c.now();
    c.site.store.write(|d| {
        if let Some(e) = validate("prescription", Mode::Insert, &input, d) {
            return Err(wrapper_invalid(e));
        }
        let Some(pid) = field(&input, "puuid").and_then(|u| patient_by_uuid(d, &u).map(|p| p.id))
        else {
            return Err(wrapper(StatusCode::NOT_FOUND, json!([])));
        };
        let provider_no = current_no(d, c);
        let drug = field(&input, "drug").unwrap_or_default();
        let start = date_field(&input, "start_date");
        let p = Prescription {
            uuid: new_uuid(c).into(),
            patient_id: pid,
            provider_no: provider_no.clone().into(),
            date_prescribed: start,
            text: drug.clone().into(),
            comments: field(&input, "note").unwrap_or_default().into(),
            created: now.into(),
            last_update: now.into(),
            ..Prescription::default()
        };
        let uuid = p.uuid.clone();
        let script = d.prescriptions.insert(p);
        let rxnorm = field(&input, "rxnorm_drugcode").unwrap_or_else(|| {
            d.drugs
                .iter()
                .find(|x| {
                    x.name.eq_ignore_ascii_case(&drug) || x.generic_name.eq_ignore_ascii_case(&drug)
                })
                .map(|x| x.rxnorm.clone())
                .unwrap_or_default()
                .to_string()
        });
        d.medications.insert(Medication {
            uuid: new_uuid(c).into(),
            patient_id: pid,
            provider_no: provider_no.into(),
            script_no: Some(script).into(),
            generic_name: drug.into(),
            rxnorm: rxnorm.into(),
            dosage: field(&input, "dosage").unwrap_or_default().into(),
            route: field(&input, "route").unwrap_or_default().into(),
            frequency: field(&input, "interval").unwrap_or_default().into(),
            quantity: field(&input, "quantity").unwrap_or_default().into(),
            repeats: field(&input, "refills")
                .and_then(|r| r.parse().ok())
                .unwrap_or(0),
            start_date: start,
            created: now.into(),
            last_update: now.into(),
            ..Medication::default()
        });
        Ok(wrapper(ok, json!({"id": script, "uuid": uuid})))
    })
}

// ---- documents -----------------------------------------------------------------

/// The category a `path` query names: its last segment
/// (`/Categories/Lab Report` → `Lab Report`).
fn category_of(path: &str) -> String {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned()
}

fn document_list(c: &Call<'_>, ok: StatusCode) -> Answer {
    let pid = num(c.param("pid"));
    let category = c.q("path").map(category_of).unwrap_or_default();
    Ok(c.site.store.read(|d| {
        let rows: Vec<Value> = d
            .documents
            .for_patient(pid)
            .filter(|doc| category.is_empty() || doc.category.eq_ignore_ascii_case(&category))
            .map(|doc| wire::document(d, doc))
            .collect();
        legacy_list(ok, rows)
    }))
}

fn document_upload(c: &Call<'_>, ok: StatusCode) -> Answer {
    let pid = num(c.param("pid"));
    let category = c.q("path").map(category_of).unwrap_or_default();
    let Some(part) = multipart_file(c, "document") else {
        return Err(legacy_invalid(
            json!({"document": {"Required::NON_EXISTENT_KEY": "document must be provided, but does not exist"}}),
        ));
    };
    if category.is_empty() {
        return Err(legacy_invalid(
            json!({"path": {"Required::NON_EXISTENT_KEY": "path must be provided, but does not exist"}}),
        ));
    }
    let now = c.now();
    c.site.store.write(|d| {
        if d.patients().get(pid).is_none() {
            return Err(legacy_not_found());
        }
        let mut ext = crate::store::Ext::new();
        if let Some(eid) = c.q("eid") {
            ext.insert("encounter".into(), eid.into());
        }
        d.documents.insert(Document {
            uuid: new_uuid(c).into(),
            patient: Some(pid).into(),
            file_name: part.0.into(),
            content_type: part.1.into(),
            description: String::new().into(),
            category: category.into(),
            source: "api".into(),
            observed: Some(now.date_naive()),
            provider_no: current_no(d, c).into(),
            status: "A".into(),
            content: part.2,
            ext,
            created: now.into(),
            last_update: now.into(),
            ..Document::default()
        });
        Ok(legacy(ok, &json!(true)))
    })
}

fn document_download(c: &Call<'_>, ok: StatusCode) -> Response {
    let pid = num(c.param("pid"));
    let did = num(c.param("did"));
    c.site.store.read(
        |d| match d.documents.get(did).filter(|doc| doc.patient == Some(pid)) {
            Some(doc) => (
                ok,
                [
                    (header::CONTENT_TYPE, doc.content_type.to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!(
                            "attachment; filename=\"{}\"",
                            doc.file_name.as_str().replace('"', "")
                        ),
                    ),
                ],
                doc.content.clone(),
            )
                .into_response(),
            // The older controller answers 400 for a missing document.
            None => (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
                "",
            )
                .into_response(),
        },
    )
}

/// The file of a `multipart/form-data` field: file name, media type, bytes.
fn multipart_file(c: &Call<'_>, name: &str) -> Option<(String, String, bytes::Bytes)> {
    let ct = c.header("content-type")?;
    let boundary = ct
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let body = &c.body[..];
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(i) = find(rest, delimiter.as_bytes()) {
        let after = &rest[i + delimiter.len()..];
        if after.starts_with(b"--") {
            break;
        }
        let after = after.strip_prefix(b"\r\n").unwrap_or(after);
        let end = find(after, delimiter.as_bytes()).unwrap_or(after.len());
        parts.push(&after[..end]);
        rest = &after[end..];
    }
    for part in parts {
        let split = find(part, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&part[..split]).ok()?;
        let mut content = &part[split + 4..];
        if content.ends_with(b"\r\n") {
            content = &content[..content.len() - 2];
        }
        let mut disposition = "";
        let mut media = "application/octet-stream";
        for line in head.split("\r\n") {
            let (k, v) = line.split_once(':')?;
            match k.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => disposition = v.trim(),
                "content-type" => media = v.trim(),
                _ => {}
            }
        }
        let param = |key: &str| {
            disposition.split(';').map(str::trim).find_map(|p| {
                p.strip_prefix(key)
                    .and_then(|v| v.strip_prefix('='))
                    .map(|v| v.trim_matches('"').to_owned())
            })
        };
        if param("name").as_deref() == Some(name) {
            let file = param("filename").unwrap_or_else(|| "upload".into());
            return Some((
                file,
                media.to_owned(),
                bytes::Bytes::copy_from_slice(content),
            ));
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
