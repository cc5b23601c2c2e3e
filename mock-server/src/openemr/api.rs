//! The hand-off point between the authorization gate and the routes.
//!
//! [`handle`] receives a route that passed every check of the gate: the
//! catalogue operation, its path parameters, the authenticated
//! [`Principal`] (role, user, bound patient, scopes, the scope context the
//! request runs in) and the request. Routes are matched by their OpenEMR
//! path (`op.column("path")`), so eMedicalPractice's mounts reach the same
//! code. This module serves the discovery documents and the reads that
//! prove a token end to end; the rest of the Standard, Portal and FHIR
//! routes are added here (issue 6).

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use emr_catalog::{Operation, PathMatch};
use serde_json::{json, Value};

use super::layout::Layout;
use super::oauth2::{Ctx, Role};
use super::scopes::{Context, ResourceScope};
use super::smart;
use crate::error::openemr_error;
use crate::state::{AppState, Site};
use crate::store::{Data, Patient};

/// Who is calling, as the gate established it.
#[derive(Debug, Clone)]
pub struct Principal {
    pub role: Role,
    /// User, patient or system-user UUID (the token `sub`).
    pub user: String,
    /// The patient's `pid` for patient-role tokens.
    pub pid: Option<i64>,
    pub client_id: String,
    /// Every scope of the token (without `site:`).
    pub scopes: Vec<String>,
    /// The resource scopes among them, parsed (v2 `?query` constraints kept).
    pub resource_scopes: Vec<ResourceScope>,
    /// The patient the token is bound to: the patient's own UUID for a
    /// patient, the picked patient for `launch/patient`.
    pub patient: Option<String>,
    /// The scope context this request runs in (`patient` for a patient
    /// request, even with a users token bound by `launch/patient`).
    pub context: Context,
}

/// A request that passed the gate.
pub struct ApiCall<'a> {
    pub state: &'a AppState,
    pub site: &'a Site,
    pub layout: Layout,
    pub op: &'a Operation,
    pub params: &'a PathMatch,
    /// `None` for the routes that need no token (metadata, SMART
    /// configuration, version, product, OperationDefinition).
    pub principal: Option<&'a Principal>,
    pub request: Request,
    /// `scheme://host[:port]` as addressed.
    pub root: String,
}

impl ApiCall<'_> {
    fn param(&self, name: &str) -> &str {
        self.params.get(name).unwrap_or("")
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            state: self.state,
            site: self.site,
            layout: self.layout,
            root: self.root.clone(),
        }
    }
}

pub async fn handle(call: ApiCall<'_>) -> Response {
    let method = call.op.method.as_str();
    match (method, call.op.column("path")) {
        ("GET", "/fhir/metadata") => {
            let today = call.state.clock.now().format("%Y-%m-%d").to_string();
            let doc = smart::capability_statement(&call.ctx(), &call.state.catalog, &today);
            json_response(StatusCode::OK, "application/json", &doc)
        }
        ("GET", "/fhir/.well-known/smart-configuration") => json_response(
            StatusCode::OK,
            "application/json",
            &smart::smart_configuration(&call.ctx()),
        ),
        ("GET", "/api/patient/:puuid") => standard_patient(&call),
        ("GET", "/portal/patient") => portal_patient(&call),
        ("GET", "/fhir/Patient/:uuid") => fhir_patient(&call),
        _ => not_yet(),
    }
}

/// A documented route the mock does not serve yet: 501 in OpenEMR's
/// exception shape, so a scenario sees plainly that the mock lacks it.
fn not_yet() -> Response {
    openemr_error(
        StatusCode::NOT_IMPLEMENTED,
        "Not implemented: the mock does not serve this route yet",
        0,
    )
}

fn json_response(status: StatusCode, content_type: &'static str, v: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, content_type)],
        v.to_string(),
    )
        .into_response()
}

/// `RestControllerHelper::createProcessingResultResponse`.
pub fn wrapper(status: StatusCode, data: Value) -> Response {
    json_response(
        status,
        "application/json",
        &json!({"validationErrors": [], "internalErrors": [], "data": data, "links": []}),
    )
}

/// `api_patient_response` fields of a patient.
pub fn standard_patient_json(p: &Patient) -> Value {
    json!({
        "id": p.id.to_string(),
        "pid": p.id.to_string(),
        "uuid": p.uuid,
        "pubpid": p.chart_no,
        "title": p.title,
        "fname": p.first_name,
        "mname": p.middle_name,
        "lname": p.last_name,
        "ss": p.sin,
        "street": p.address.street,
        "postal_code": p.address.postal,
        "city": p.address.city,
        "state": p.address.province,
        "county": "",
        "country_code": p.address.country,
        "drivers_license": "",
        "contact_relationship": "",
        "phone_contact": "",
        "phone_home": p.phone_home,
        "phone_biz": p.phone_work,
        "phone_cell": p.phone_cell,
        "email": p.email,
        "DOB": p.birth_date.map(|d| d.to_string()).unwrap_or_default(),
        "sex": match p.sex.as_str() { "M" => "Male", "F" => "Female", _ => "Unknown" },
        "race": "",
        "ethnicity": "",
        "status": "",
    })
}

fn patient_by_uuid<'d>(d: &'d Data, uuid: &str) -> Option<&'d Patient> {
    d.patients().by_uuid(uuid)
}

/// `GET /api/patient/:puuid`: the wrapper, 404 with `data: []` when unknown.
fn standard_patient(call: &ApiCall<'_>) -> Response {
    let uuid = call.param("puuid");
    call.site.store.read(|d| match patient_by_uuid(d, uuid) {
        Some(p) => wrapper(StatusCode::OK, standard_patient_json(p)),
        None => wrapper(StatusCode::NOT_FOUND, json!([])),
    })
}

/// `GET /portal/patient`: always the token's own patient.
fn portal_patient(call: &ApiCall<'_>) -> Response {
    let uuid = call
        .principal
        .and_then(|p| p.patient.clone())
        .unwrap_or_default();
    call.site.store.read(|d| match patient_by_uuid(d, &uuid) {
        Some(p) => wrapper(StatusCode::OK, standard_patient_json(p)),
        None => wrapper(StatusCode::NOT_FOUND, json!([])),
    })
}

/// `GET /fhir/Patient/:uuid`: a patient request for another patient is
/// 401; an unknown id is 404 `[]`.
fn fhir_patient(call: &ApiCall<'_>) -> Response {
    let uuid = call.param("uuid");
    if let Some(p) = call.principal {
        if p.context == Context::Patient && p.patient.as_deref() != Some(uuid) {
            return openemr_error(StatusCode::UNAUTHORIZED, "Unauthorized", 0);
        }
    }
    call.site.store.read(|d| match patient_by_uuid(d, uuid) {
        Some(p) => json_response(
            StatusCode::OK,
            "application/fhir+json",
            &fhir_patient_json(p),
        ),
        None => json_response(StatusCode::NOT_FOUND, "application/json", &json!([])),
    })
}

/// A US Core Patient with the store's fields.
pub fn fhir_patient_json(p: &Patient) -> Value {
    let mut telecom = Vec::new();
    for (system, value, use_) in [
        ("phone", &p.phone_home, "home"),
        ("phone", &p.phone_work, "work"),
        ("phone", &p.phone_cell, "mobile"),
        ("email", &p.email, "home"),
    ] {
        if !value.is_empty() {
            telecom.push(json!({"system": system, "value": value, "use": use_}));
        }
    }
    let mut r = json!({
        "resourceType": "Patient",
        "id": p.uuid,
        "meta": {
            "versionId": "1",
            "lastUpdated": p.last_update.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        },
        "identifier": [{
            "use": "official",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PT"}]},
            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
            "value": p.id.to_string()
        }],
        "active": true,
        "name": [{
            "use": "official",
            "family": p.last_name,
            "given": [p.first_name.clone()],
        }],
        "gender": match p.sex.as_str() { "M" => "male", "F" => "female", "O" => "other", _ => "unknown" },
        "address": [{
            "line": [p.address.street.clone()],
            "city": p.address.city,
            "state": p.address.province,
            "postalCode": p.address.postal,
        }],
    });
    if !telecom.is_empty() {
        r["telecom"] = Value::Array(telecom);
    }
    if let Some(b) = p.birth_date {
        r["birthDate"] = json!(b.to_string());
    }
    r
}
