//! The hand-off point between the authorization gate and the routes.
//!
//! [`handle`] receives a route that passed every check of the gate: the
//! catalogue operation, its path parameters, the authenticated
//! [`Principal`] (role, user, bound patient, scopes, the scope context the
//! request runs in) and the request. It reads the body once and hands a
//! [`Call`] to the Standard API ([`super::standard`]), the Patient Portal
//! API ([`super::portal`]) or FHIR ([`super::fhir`]). Routes are matched by
//! their OpenEMR path (`op.column("path")`), so eMedicalPractice's mounts
//! reach the same code.

use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use emr_catalog::{Api, Operation, PathMatch};
use serde_json::{json, Value};

use super::layout::Layout;
use super::oauth2::{Ctx, Role};
use super::scopes::{Context, ResourceScope};
use crate::error::{openemr_error, Dialect, Failure};
use crate::state::{AppState, Site};
use crate::store::{Data, Id, Patient, Timestamp, Uuid};

/// Who is calling, as the gate established it.
#[derive(Debug, Clone)]
pub struct Principal {
    pub role: Role,
    /// User, patient or system-user UUID (the token `sub`).
    pub user: String,
    /// The patient's `pid` for patient-role tokens.
    pub pid: Option<Id>,
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

impl Principal {
    /// A patient request is bound to its patient (OpenEMR's
    /// `isPatientRequest` + `getPatientUUIDString`).
    pub fn bound_patient(&self) -> Option<&str> {
        (self.context == Context::Patient)
            .then_some(self.patient.as_deref())
            .flatten()
    }
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

/// A request with its body read: what every route handler gets.
pub struct Call<'a> {
    pub state: &'a AppState,
    pub site: &'a Site,
    pub layout: Layout,
    pub op: &'a Operation,
    pub params: &'a PathMatch,
    pub principal: Option<&'a Principal>,
    pub root: String,
    pub headers: HeaderMap,
    /// The path as requested (no query).
    pub path: String,
    /// The raw query string.
    pub raw_query: String,
    /// The decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    pub body: Bytes,
}

impl Call<'_> {
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).unwrap_or("")
    }

    /// The first value of a query parameter.
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            state: self.state,
            site: self.site,
            layout: self.layout,
            root: self.root.clone(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.state.clock.now()
    }

    /// `{root}{fhir base}`: where FHIR resources live.
    pub fn fhir_base(&self) -> String {
        format!("{}{}", self.root, self.layout.fhir_path(&self.site.name))
    }

    /// The full URL of this request without its query.
    pub fn url(&self) -> String {
        format!("{}{}", self.root, self.path)
    }

    pub fn role(&self) -> Option<Role> {
        self.principal.map(|p| p.role)
    }

    pub fn bound_patient(&self) -> Option<&str> {
        self.principal.and_then(Principal::bound_patient)
    }

    /// The request body as a JSON object, as PHP's `json_decode` sees it:
    /// anything else is an empty object.
    pub fn json_object(&self) -> serde_json::Map<String, Value> {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        }
    }
}

pub async fn handle(call: ApiCall<'_>) -> Response {
    let ApiCall {
        state,
        site,
        layout,
        op,
        params,
        principal,
        request,
        root,
    } = call;
    let (parts, body) = request.into_parts();
    let body = match crate::body::read(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(f) => return f.in_dialect(Dialect::OpenEmrApi).into_response(),
    };
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let query = url::form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let call = Call {
        state,
        site,
        layout,
        op,
        params,
        principal,
        root,
        headers: parts.headers,
        path: parts.uri.path().to_owned(),
        raw_query,
        query,
        body,
    };
    let result = match op.api {
        Api::Rest => super::standard::handle(&call),
        Api::Portal => super::portal::handle(&call),
        Api::Fhir => super::fhir::handle(&call),
        _ => Err(Failure::NotFound
            .in_dialect(Dialect::OpenEmrApi)
            .into_response()),
    };
    result.unwrap_or_else(|r| r)
}

/// What a route answers: a response, or a refusal that is one too.
pub type Answer = Result<Response, Response>;

pub fn json_response(
    status: StatusCode,
    content_type: &'static str,
    v: &impl serde::Serialize,
) -> Response {
    // The values written here always serialise (their keys are strings).
    bytes_response(
        status,
        content_type,
        serde_json::to_vec(v).unwrap_or_default(),
    )
}

fn bytes_response(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// `RestControllerHelper::createProcessingResultResponse` for one record,
/// written around the record without copying it into a wrapper object.
pub fn wrapper(status: StatusCode, data: impl serde::Serialize) -> Response {
    let mut body = Vec::with_capacity(1024);
    body.extend_from_slice(br#"{"validationErrors":[],"internalErrors":[],"data":"#);
    let _ = serde_json::to_writer(&mut body, &data);
    body.extend_from_slice(br#","links":[]}"#);
    bytes_response(status, "application/json", body)
}

/// The same for a list, with the pagination links.
pub fn wrapper_list(status: StatusCode, data: Vec<Value>, links: Value) -> Response {
    json_response(
        status,
        "application/json",
        &json!({"validationErrors": [], "internalErrors": [], "data": data, "links": links}),
    )
}

/// A failed validation: 400 with the Particle messages and empty data.
pub fn wrapper_invalid(errors: Value) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        "application/json",
        &json!({"validationErrors": errors, "internalErrors": [], "data": [], "links": []}),
    )
}

/// `RestControllerHelper::responseHandler`: a value with the ideal status.
pub fn legacy(status: StatusCode, v: &Value) -> Response {
    json_response(status, "application/json", v)
}

/// `responseHandler` with an empty result: 404 with an empty body (a bare
/// Symfony `Response`, so `text/html`).
pub fn legacy_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
        "",
    )
        .into_response()
}

/// `validationHandler`: 400 with the bare messages object.
pub fn legacy_invalid(errors: Value) -> Response {
    json_response(StatusCode::BAD_REQUEST, "application/json", &errors)
}

/// `AccessDeniedException` inside dispatch: 401 "Unauthorized".
pub fn unauthorized() -> Response {
    openemr_error(StatusCode::UNAUTHORIZED, "Unauthorized", 0)
}

/// `api_patient_response` fields of a patient.
pub fn standard_patient_json(p: &Patient) -> Value {
    serde_json::to_value(StandardPatient::of(p)).unwrap_or(Value::Null)
}

/// `api_patient_response` fields of a patient, borrowed from the row and
/// serialised in OpenEMR's order (the reads write this straight into the
/// response; [`standard_patient_json`] is its tree form).
#[derive(Debug, serde::Serialize)]
pub struct StandardPatient<'a> {
    #[serde(serialize_with = "as_text")]
    id: Id,
    #[serde(serialize_with = "as_text")]
    pid: Id,
    uuid: &'a Uuid,
    pubpid: &'a str,
    title: &'a str,
    fname: &'a str,
    mname: &'a str,
    lname: &'a str,
    ss: &'a str,
    street: &'a str,
    postal_code: &'a str,
    city: &'a str,
    state: &'a str,
    county: &'a str,
    country_code: &'a str,
    drivers_license: &'a str,
    contact_relationship: &'a str,
    phone_contact: &'a str,
    phone_home: &'a str,
    phone_biz: &'a str,
    phone_cell: &'a str,
    email: &'a str,
    #[serde(rename = "DOB", serialize_with = "date_or_empty")]
    dob: Option<chrono::NaiveDate>,
    sex: &'static str,
    race: &'a str,
    ethnicity: &'a str,
    status: &'static str,
}

impl<'a> StandardPatient<'a> {
    pub fn of(p: &'a Patient) -> Self {
        let ext = |k: &str| p.ext.get(k).map_or("", |v| v.as_str());
        StandardPatient {
            id: p.id,
            pid: p.id,
            uuid: &p.uuid,
            pubpid: &p.chart_no,
            title: &p.title,
            fname: &p.first_name,
            mname: &p.middle_name,
            lname: &p.last_name,
            ss: &p.sin,
            street: &p.address.street,
            postal_code: &p.address.postal,
            city: &p.address.city,
            state: &p.address.province,
            county: ext("county"),
            country_code: &p.address.country,
            drivers_license: ext("drivers_license"),
            contact_relationship: ext("contact_relationship"),
            phone_contact: ext("phone_contact"),
            phone_home: &p.phone_home,
            phone_biz: &p.phone_work,
            phone_cell: &p.phone_cell,
            email: &p.email,
            dob: p.birth_date,
            sex: sex_word(&p.sex),
            race: ext("race"),
            ethnicity: ext("ethnicity"),
            status: patient_status(&p.status),
        }
    }
}

/// An integer as PHP's database layer returns it: a string.
fn as_text<S: serde::Serializer>(n: &Id, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(itoa::Buffer::new().format(*n))
}

/// `yyyy-mm-dd`, or the empty string for no date.
fn date_or_empty<S: serde::Serializer>(
    d: &Option<chrono::NaiveDate>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(d),
        None => s.serialize_str(""),
    }
}

/// OpenEMR's `sex` list (`Male`, `Female`, ...) from the store's code.
pub fn sex_word(code: &str) -> &'static str {
    match code {
        "M" => "Male",
        "F" => "Female",
        "O" => "Other",
        _ => "Unknown",
    }
}

/// The store's sex code from OpenEMR's word (or a code).
pub fn sex_code(word: &str) -> &'static str {
    match word.trim().to_ascii_lowercase().as_str() {
        "male" | "m" => "M",
        "female" | "f" => "F",
        "other" | "o" => "O",
        _ => "U",
    }
}

/// OpenEMR's patient status words from the store's status code.
pub fn patient_status(code: &str) -> &'static str {
    match code {
        "AC" => "active",
        "IN" => "inactive",
        "DE" => "deceased",
        _ => "",
    }
}

pub fn patient_by_uuid<'d>(d: &'d Data, uuid: &str) -> Option<&'d Patient> {
    d.patients().by_uuid(uuid)
}

/// A UUID string as OpenEMR's `UuidRegistry::isValidStringUUID` accepts.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}
