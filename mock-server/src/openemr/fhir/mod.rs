//! FHIR R4 (`/apis/{site}/fhir/...`; eMedicalPractice `/fhir/r4/...`):
//! the discovery documents, read and search of every resource type of
//! [`resources::RESOURCES`], the writes OpenEMR allows (Organization,
//! Patient, Practitioner), `$docref`, Binary downloads and bulk export
//! ([`export`]).
//!
//! Errors follow OpenEMR rather than the FHIR specification where they
//! differ (`docs/reference/openemr/openemr-api.md` §8): not found is 404
//! with the body `[]`, a bad search argument is 400
//! `{"validationErrors":{...}}`; only bulk export answers
//! OperationOutcomes.

pub mod export;
pub mod resources;
pub mod search;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::acl;
use super::api::{is_uuid, json_response, unauthorized, Answer, Call};
use super::oauth2::Role;
use super::scopes::{Context, Grant};
use crate::store::{Data, Id};
use resources::{Bound, Build, Def, IdKind, Item};

/// FHIR resources and Bundles go out as `application/json`, as OpenEMR's
/// `JsonResponse` sends them.
pub const JSON: &str = "application/json";

fn not_found() -> Response {
    json_response(StatusCode::NOT_FOUND, JSON, &json!([]))
}

fn bad_search(param: &str, message: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        JSON,
        &json!({"validationErrors": {param: message}}),
    )
}

/// An OperationOutcome as the export controller builds it.
pub fn outcome(c: &Call<'_>, status: StatusCode, text: &str) -> Response {
    json_response(
        status,
        "application/fhir+json",
        &json!({
            "resourceType": "OperationOutcome",
            "id": c.state.rng.uuid(),
            "issue": [{"severity": "error", "code": "processing", "details": {"text": text}}]
        }),
    )
}

pub fn handle(c: &Call<'_>) -> Answer {
    let path = c.op.column("path");
    let method = c.op.method.as_str();
    match (method, path) {
        ("GET", "/fhir/metadata") => {
            let today = c.now().format("%Y-%m-%d").to_string();
            let doc = super::smart::capability_statement(&c.ctx(), &c.state.catalog, &today);
            Ok(json_response(StatusCode::OK, JSON, &doc))
        }
        ("GET", "/fhir/.well-known/smart-configuration") => Ok(json_response(
            StatusCode::OK,
            JSON,
            &super::smart::smart_configuration(&c.ctx()),
        )),
        ("GET", "/fhir/OperationDefinition") => {
            let items: Vec<(Item, &'static str)> = operation_definitions(c)
                .into_iter()
                .map(|i| (i, "match"))
                .collect();
            let total = items.len();
            Ok(json_response(
                StatusCode::OK,
                JSON,
                &search::bundle(
                    &c.url(),
                    &c.query,
                    total,
                    items,
                    &c.fhir_base(),
                    (0, 0),
                    &c.now(),
                ),
            ))
        }
        ("GET", "/fhir/OperationDefinition/:operation") => {
            let want = c.param("operation").trim_start_matches('$');
            Ok(
                match operation_definitions(c).into_iter().find(|i| i.id == want) {
                    Some(i) => json_response(StatusCode::OK, JSON, &i.resource),
                    None => not_found(),
                },
            )
        }
        ("GET", "/fhir/$export") => export::kickoff(c, export::Level::System),
        ("GET", "/fhir/Patient/$export") => export::kickoff(c, export::Level::Patient),
        ("GET", "/fhir/Group/:id/$export") => export::kickoff(c, export::Level::Group),
        ("GET", "/fhir/$bulkdata-status") => export::status(c),
        ("DELETE", "/fhir/$bulkdata-status") => export::delete(c),
        ("POST", "/fhir/DocumentReference/$docref") => docref(c),
        ("GET", "/fhir/Binary/:id") => binary(c),
        ("POST", "/fhir/Patient") | ("PUT", "/fhir/Patient/:uuid") => write_patient(c),
        ("POST", "/fhir/Organization") | ("PUT", "/fhir/Organization/:uuid") => {
            write_organization(c)
        }
        ("POST", "/fhir/Practitioner") | ("PUT", "/fhir/Practitioner/:uuid") => {
            write_practitioner(c)
        }
        _ => {
            let resource = c.op.column("resource");
            let Some(def) = resources::def(resource) else {
                return Err(crate::error::openemr_error(
                    StatusCode::NOT_FOUND,
                    "Route not found",
                    0,
                ));
            };
            match c.op.column("interaction") {
                "search-type" => search_type(c, def),
                "read" => read(c, def, c.param("uuid")),
                _ => Err(crate::error::openemr_error(
                    StatusCode::NOT_FOUND,
                    "Route not found",
                    0,
                )),
            }
        }
    }
}

/// Whether this request runs bound to a patient (a patient token, or a
/// users token with patient scopes and a launch patient).
fn patient_request(c: &Call<'_>) -> bool {
    c.principal.is_some_and(|p| p.context == Context::Patient)
}

/// The bound patient's store id.
fn bound_pid(c: &Call<'_>, d: &Data) -> Option<Id> {
    c.bound_patient()
        .and_then(|u| d.patients().by_uuid(u))
        .map(|p| p.id)
}

/// The ACL and compartment rules of a route: `Ok(Some(pid))` to restrict
/// to one patient's compartment, `Ok(None)` for no restriction.
fn access(c: &Call<'_>, d: &Data, bound: Bound, acl: &str) -> Result<Option<Option<Id>>, Response> {
    if patient_request(c) {
        match bound {
            Bound::Compartment => Ok(Some(bound_pid(c, d))),
            Bound::Open => Ok(None),
            Bound::Acl => acl::check(d, c.principal, acl).map(|_| None),
        }
    } else {
        acl::check(d, c.principal, acl).map(|_| None)
    }
}

/// SMART v2 granular constraints (`patient/Observation.rs?category=...`):
/// when every scope granting `letter` on the resource carries a query,
/// the resource must match one of them.
fn granular(c: &Call<'_>, resource: &str, letter: char) -> Option<Vec<Vec<search::Criterion>>> {
    let p = c.principal?;
    let granting: Vec<_> = p
        .resource_scopes
        .iter()
        .filter(|s| s.context == p.context && (s.resource == resource || s.resource == "*"))
        .filter(|s| matches!(&s.grant, Grant::Letters(l) if l.contains(&letter)))
        .collect();
    if granting.is_empty() || granting.iter().any(|s| s.query.is_none()) {
        return None;
    }
    Some(
        granting
            .iter()
            .filter_map(|s| s.query.as_deref())
            .map(|q| {
                let pairs: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                search::criteria(resource, &pairs).unwrap_or_default()
            })
            .collect(),
    )
}

fn allowed_by_scope(item: &Item, constraints: &Option<Vec<Vec<search::Criterion>>>) -> bool {
    match constraints {
        None => true,
        Some(alts) => alts
            .iter()
            .any(|all| all.iter().all(|cr| search::matches(&item.resource, cr))),
    }
}

fn build<'d>(c: &Call<'_>, d: &'d Data) -> Build<'d> {
    Build {
        d,
        base: c.fhir_base(),
    }
}

/// For a Patient search with name criteria (`name`, `family`, `given`,
/// plain or `:exact`), the ids of the patients the criteria can match,
/// from the store's name indexes: a superset of the matches (the criteria
/// still decide), in id order. `None` when no criterion narrows.
fn name_candidates(resource: &str, criteria: &[search::Criterion], d: &Data) -> Option<Vec<Id>> {
    use crate::store::NamePart;
    if resource != "Patient" {
        return None;
    }
    let mut out: Option<Vec<Id>> = None;
    for cr in criteria {
        let parts: &[NamePart] = match cr.name.as_str() {
            "family" => &[NamePart::Family],
            "given" => &[NamePart::Given],
            "name" => &[NamePart::Family, NamePart::Given, NamePart::Title],
            _ => continue,
        };
        // `:contains` matches inside a name, and an empty value matches
        // everything: no index answers those.
        if !matches!(cr.modifier.as_deref(), None | Some("exact"))
            || cr.values.iter().any(|v| v.is_empty())
        {
            continue;
        }
        let mut ids: Vec<Id> = cr
            .values
            .iter()
            .flat_map(|v| {
                parts
                    .iter()
                    .flat_map(move |part| d.patient_ids_by_name_prefix(*part, v))
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        out = Some(crate::store::intersect_ids(out, ids));
    }
    out
}

fn search_type(c: &Call<'_>, def: &'static Def) -> Answer {
    let query = c.query.clone();
    let criteria = search::criteria(def.name, &query).map_err(|(p, m)| bad_search(&p, &m))?;
    for cr in criteria.iter().filter(|cr| cr.name == "_id") {
        for v in &cr.values {
            if def.id == IdKind::Uuid && !is_uuid(v) {
                return Err(bad_search(
                    "_id",
                    &search::invalid_argument("UUID columns must be a valid UUID string"),
                ));
            }
        }
    }
    let constraints = granular(c, def.name, 's');
    let count = c
        .q("_count")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let offset = c
        .q("_offset")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let revinclude = c
        .query
        .iter()
        .any(|(k, v)| k == "_revinclude" && v == "Provenance:target");
    c.site.store.read(|d| {
        let scope = access(c, d, def.search_bound, def.search_acl)?;
        let b = build(c, d);
        // A single `patient` (or a Patient `_id`) narrows what is built;
        // the criteria still decide what matches.
        let narrowed = criteria
            .iter()
            .find(|cr| {
                (cr.name == "patient" || (def.name == "Patient" && cr.name == "_id"))
                    && cr.values.len() == 1
            })
            .and_then(|cr| {
                let id = cr.values[0].rsplit('/').next().unwrap_or("");
                d.patients().by_uuid(id).map(|p| p.id)
            });
        let all = match scope {
            Some(None) => Vec::new(),
            Some(Some(pid)) => (def.items)(&b, Some(pid)),
            None => match (narrowed, name_candidates(def.name, &criteria, d)) {
                // Only the patients the name indexes can match are built.
                (None, Some(ids)) => ids
                    .into_iter()
                    .flat_map(|id| (def.items)(&b, Some(id)))
                    .collect(),
                _ => (def.items)(&b, narrowed),
            },
        };
        // A compartment resource of another patient is simply not there.
        let all: Vec<Item> = match scope {
            Some(Some(pid)) => all.into_iter().filter(|i| i.patient == Some(pid)).collect(),
            _ => all,
        };
        let matched: Vec<Item> = all
            .into_iter()
            .filter(|i| criteria.iter().all(|cr| search::matches(&i.resource, cr)))
            .filter(|i| allowed_by_scope(i, &constraints))
            .collect();
        // FhirObservationService: an `_id` that finds nothing is an error.
        if def.name == "Observation"
            && matched.is_empty()
            && criteria.iter().any(|cr| cr.name == "_id")
        {
            return Err(bad_search("_id", "Resource not found for that id"));
        }
        let total = matched.len();
        let page: Vec<Item> = if count == 0 {
            matched.into_iter().skip(offset).collect()
        } else {
            matched.into_iter().skip(offset).take(count).collect()
        };
        let mut entries: Vec<(Item, &'static str)> = Vec::new();
        for i in page {
            let prov = revinclude.then(|| provenance_of(&b, &i)).flatten();
            entries.push((i, "match"));
            if let Some(p) = prov {
                entries.push((p, "include"));
            }
        }
        let base = c.fhir_base();
        let url = format!("{base}/{}", def.name);
        Ok(json_response(
            StatusCode::OK,
            JSON,
            &search::bundle(
                &url,
                &query,
                total,
                entries,
                &base,
                (count, offset),
                &c.now(),
            ),
        ))
    })
}

fn provenance_of(b: &Build<'_>, i: &Item) -> Option<Item> {
    let kind = i.resource.get("resourceType")?.as_str()?;
    if kind == "Provenance" {
        return None;
    }
    let pid = i.patient?;
    Some(resources::provenance(b, kind, &i.id, pid, &i.last_updated))
}

fn read(c: &Call<'_>, def: &'static Def, id: &str) -> Answer {
    if def.name == "Patient" && patient_request(c) && c.bound_patient() != Some(id) {
        // FhirPatientRestController: another patient is AccessDenied.
        return Err(unauthorized());
    }
    let constraints = granular(c, def.name, 'r');
    // FhirPersonRestController: users read their own Person without the ACL.
    let own_person = def.name == "Person" && c.principal.is_some_and(|p| p.user == id);
    c.site.store.read(|d| {
        let scope = if own_person {
            None
        } else {
            access(c, d, def.read_bound, def.read_acl)?
        };
        let b = build(c, d);
        let filter = match scope {
            Some(None) => return Ok(not_found()),
            Some(Some(pid)) => Some(pid),
            None => None,
        };
        let found = if def.name == "Provenance" {
            provenance_by_id(&b, id, filter)
        } else if def.name == "Patient" {
            let pid = d.patients().by_uuid(id).map(|p| p.id);
            match (pid, filter) {
                (Some(p), Some(f)) if p != f => None,
                (Some(p), _) => (def.items)(&b, Some(p)).into_iter().next(),
                (None, _) => None,
            }
        } else {
            (def.items)(&b, filter)
                .into_iter()
                .find(|i| i.id == id && (filter.is_none() || i.patient == filter))
        };
        match found.filter(|i| allowed_by_scope(i, &constraints)) {
            Some(i) => Ok(json_response(StatusCode::OK, JSON, &i.resource)),
            None => Ok(not_found()),
        }
    })
}

fn provenance_by_id(b: &Build<'_>, id: &str, patient: Option<Id>) -> Option<Item> {
    let (kind, uuid) = id.split_once(':')?;
    let def = resources::def(kind)?;
    let target = (def.items)(b, patient).into_iter().find(|i| i.id == uuid)?;
    provenance_of(b, &target)
}

/// The custom operations OpenEMR defines.
fn operation_definitions(c: &Call<'_>) -> Vec<Item> {
    let at = c.state.clock.now();
    let base = c.fhir_base();
    let ops = [(
        "bulkdata-status",
        "BulkDataStatus",
        "Bulk data status",
        "bulkdata-status",
        json!([{"name": "job", "use": "in", "min": 1, "max": "1", "type": "string"}]),
    )];
    ops.into_iter()
        .map(|(id, name, title, code, params)| {
            let r = json!({
                "resourceType": "OperationDefinition",
                "id": id,
                "url": format!("{base}/OperationDefinition/${id}"),
                "name": name,
                "title": title,
                "status": "active",
                "kind": "operation",
                "code": code,
                "system": true,
                "type": false,
                "instance": false,
                "parameter": params,
            });
            Item {
                id: id.to_owned(),
                patient: None,
                last_updated: at,
                resource: r,
            }
        })
        .collect()
}

/// `GET /fhir/Binary/:id`: a document's bytes (CCDs, export files, scans).
fn binary(c: &Call<'_>) -> Answer {
    let id = c.param("id").to_owned();
    let now = c.now();
    c.site.store.read(|d| {
        let Some(doc) = d.documents.by_uuid(&id) else {
            return Ok(not_found());
        };
        match doc.patient.get() {
            // An export file: the system client's, for an hour.
            None => {
                if patient_request(c)
                    || c.role() != Some(Role::System) && c.role() != Some(Role::Users)
                {
                    return Ok(not_found());
                }
                acl::check(d, c.principal, "admin/users")?;
                if doc.created.get() + chrono::Duration::hours(1) < now {
                    return Ok(not_found());
                }
            }
            Some(pid) => {
                if patient_request(c) {
                    if bound_pid(c, d) != Some(pid) {
                        return Ok(not_found());
                    }
                } else {
                    acl::check(d, c.principal, "admin/users")?;
                }
            }
        }
        Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, doc.content_type.to_string())],
            doc.content.clone(),
        )
            .into_response())
    })
}

/// `POST /fhir/DocumentReference/$docref?patient=…`: generates the
/// patient's CCD and answers a Bundle with its DocumentReference.
fn docref(c: &Call<'_>) -> Answer {
    let Some(patient) = c.q("patient").map(str::to_owned) else {
        return Err(bad_search(
            "patient",
            &search::invalid_argument("patient parameter is required"),
        ));
    };
    if let Some(t) = c.q("type") {
        if !t.ends_with("34133-9") {
            return Err(bad_search(
                "type",
                &search::invalid_argument("only the CCD type 34133-9 is supported"),
            ));
        }
    }
    for p in ["start", "end"] {
        if let Some(v) = c.q(p) {
            if search::date_range(v).is_none() {
                return Err(bad_search(
                    p,
                    &search::invalid_argument(&format!("invalid date {v}")),
                ));
            }
        }
    }
    let now = c.now();
    c.site.store.write(|d| {
        if !patient_request(c) {
            acl::check(d, c.principal, "patients/demo")?;
        }
        let pid = match d.patients().by_uuid(&patient) {
            Some(p) if !patient_request(c) || c.bound_patient() == Some(patient.as_str()) => {
                Some(p.id)
            }
            _ => None,
        };
        let url = format!("{}/DocumentReference/$docref", c.fhir_base());
        let Some(pid) = pid else {
            return Ok(json_response(
                StatusCode::OK,
                JSON,
                &search::bundle(&url, &c.query, 0, Vec::new(), &c.fhir_base(), (0, 0), &now),
            ));
        };
        let xml = export::ccd(d, pid, &now);
        let uuid = c.state.rng.uuid();
        d.documents.insert(crate::store::Document {
            uuid: uuid.clone().into(),
            patient: Some(pid).into(),
            file_name: "CCD.xml".into(),
            content_type: "text/xml".into(),
            description: "Continuity of Care Document".into(),
            category: "CCD".into(),
            source: "docref".into(),
            observed: Some(now.date_naive()),
            status: "A".into(),
            content: bytes::Bytes::from(xml.into_bytes()),
            created: now.into(),
            last_update: now.into(),
            ..Default::default()
        });
        let b = build(c, d);
        let items: Vec<(Item, &'static str)> = (resources::def("DocumentReference")
            .map(|x| x.items))
        .map(|f| f(&b, Some(pid)))
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i.id == uuid)
        .map(|i| (i, "match"))
        .collect();
        let total = items.len();
        Ok(json_response(
            StatusCode::OK,
            JSON,
            &search::bundle(&url, &c.query, total, items, &c.fhir_base(), (0, 0), &now),
        ))
    })
}

// ---- writes -------------------------------------------------------------------

/// The FhirValidationService answer for a resource that is not the one
/// the route writes, or lacks what it needs.
fn invalid_resource(c: &Call<'_>, text: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        JSON,
        &json!({
            "resourceType": "OperationOutcome",
            "id": c.state.rng.uuid(),
            "issue": [{"severity": "error", "code": "invalid", "details": {"text": text}}]
        }),
    )
}

fn body_resource(c: &Call<'_>, kind: &str) -> Result<Value, Response> {
    let v: Value = serde_json::from_slice(&c.body)
        .map_err(|e| invalid_resource(c, &format!("The request body is not JSON: {e}")))?;
    if v.get("resourceType").and_then(Value::as_str) != Some(kind) {
        return Err(invalid_resource(c, &format!("resourceType must be {kind}")));
    }
    Ok(v)
}

fn first_str(v: &Value, path: &str) -> Option<String> {
    search::select(v, path)
        .into_iter()
        .find_map(|n| n.as_str().map(str::to_owned))
}

/// The NPI among a resource's identifiers (its system URL has dots, so
/// the path walk of [`search::select`] cannot filter on it).
fn npi_of(v: &Value) -> Option<String> {
    v.get("identifier")?
        .as_array()?
        .iter()
        .find(|i| i.get("system").and_then(Value::as_str) == Some("http://hl7.org/fhir/sid/us-npi"))
        .and_then(|i| i.get("value")?.as_str().map(str::to_owned))
}

fn write_status(c: &Call<'_>) -> StatusCode {
    if c.op.method == "POST" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// Checks a write's fields as the standard API's validator does (the
/// FHIR routes share OpenEMR's services): 400 with its `validationErrors`.
fn validate(
    d: &Data,
    kind: &str,
    update: bool,
    fields: &serde_json::Map<String, Value>,
) -> Result<(), Response> {
    let mode = if update {
        super::standard::Mode::Update
    } else {
        super::standard::Mode::Insert
    };
    match super::standard::validate_set(kind, mode, fields, d) {
        Some(e) => Err(json_response(
            StatusCode::BAD_REQUEST,
            JSON,
            &json!({"validationErrors": e}),
        )),
        None => Ok(()),
    }
}

/// The answer to a write: the resource as a read would build it, so a
/// write and a later read never disagree (`null` if it is not there).
fn written(c: &Call<'_>, d: &Data, kind: &str, patient: Option<Id>, uuid: &str) -> Response {
    let b = build(c, d);
    let r = resources::def(kind)
        .map(|x| (x.items)(&b, patient))
        .unwrap_or_default()
        .into_iter()
        .find(|i| i.id == uuid)
        .map(|i| i.resource)
        .unwrap_or(Value::Null);
    json_response(write_status(c), JSON, &r)
}

fn write_patient(c: &Call<'_>) -> Answer {
    let v = body_resource(c, "Patient")?;
    let uuid = (c.op.method == "PUT").then(|| c.param("uuid").to_owned());
    let mut fields = serde_json::Map::new();
    let put = |fields: &mut serde_json::Map<String, Value>, k: &str, x: Option<String>| {
        if let Some(x) = x {
            fields.insert(k.to_owned(), Value::String(x));
        }
    };
    put(&mut fields, "fname", first_str(&v, "name.given"));
    put(&mut fields, "lname", first_str(&v, "name.family"));
    put(&mut fields, "DOB", first_str(&v, "birthDate"));
    put(
        &mut fields,
        "sex",
        first_str(&v, "gender").map(|g| match g.as_str() {
            "male" => "Male".into(),
            "female" => "Female".into(),
            other => other.to_owned(),
        }),
    );
    put(&mut fields, "street", first_str(&v, "address.line"));
    put(&mut fields, "city", first_str(&v, "address.city"));
    put(&mut fields, "state", first_str(&v, "address.state"));
    put(
        &mut fields,
        "postal_code",
        first_str(&v, "address.postalCode"),
    );
    put(
        &mut fields,
        "email",
        first_str(&v, "telecom?system=email.value"),
    );
    put(
        &mut fields,
        "phone_home",
        first_str(&v, "telecom?system=phone.value"),
    );
    let now = c.now();
    c.site.store.write(|d| {
        acl::check(d, c.principal, "patients/demo")?;
        validate(d, "patient", uuid.is_some(), &fields)?;
        let id = match &uuid {
            Some(u) => {
                let Some(id) = d.patients().by_uuid(u).map(|p| p.id) else {
                    return Ok(not_found());
                };
                d.update_patient(id, now, |p| super::standard::apply_patient(p, &fields))
                    .map_err(|_| not_found())?;
                id
            }
            None => {
                let mut p = crate::store::Patient {
                    uuid: c.state.rng.uuid().into(),
                    status: "AC".into(),
                    date_joined: Some(now.date_naive()),
                    ..Default::default()
                };
                super::standard::apply_patient(&mut p, &fields);
                p.chart_no = format!("{:06}", 1000 + i64::from(d.patients().next_id())).into();
                d.insert_patient(p, now)
            }
        };
        let uuid = d.patients().get(id).map(|p| p.uuid.to_string());
        Ok(written(
            c,
            d,
            "Patient",
            Some(id),
            &uuid.unwrap_or_default(),
        ))
    })
}

fn write_organization(c: &Call<'_>) -> Answer {
    let v = body_resource(c, "Organization")?;
    let Some(name) = first_str(&v, "name") else {
        return Err(invalid_resource(c, "Organization.name is required"));
    };
    let uuid = (c.op.method == "PUT").then(|| c.param("uuid").to_owned());
    let now = c.now();
    c.site.store.write(|d| {
        acl::check(d, c.principal, "admin/super")?;
        let apply = |f: &mut crate::store::Facility| {
            f.name = name.clone().into();
            if let Some(x) = npi_of(&v) {
                f.npi = x.into();
            }
            if let Some(x) = first_str(&v, "telecom?system=phone.value") {
                f.phone = x.into();
            }
            if let Some(x) = first_str(&v, "telecom?system=fax.value") {
                f.fax = x.into();
            }
            if let Some(x) = first_str(&v, "telecom?system=email.value") {
                f.email = x.into();
            }
            if let Some(x) = first_str(&v, "address.line") {
                f.address.street = x.into();
            }
            if let Some(x) = first_str(&v, "address.city") {
                f.address.city = x.into();
            }
            if let Some(x) = first_str(&v, "address.state") {
                f.address.province = x.into();
            }
            if let Some(x) = first_str(&v, "address.postalCode") {
                f.address.postal = x.into();
            }
            if let Some(x) = v.get("active").and_then(Value::as_bool) {
                f.active = x;
            }
        };
        let id = match &uuid {
            Some(u) => {
                let Some(id) = d.facilities.by_uuid(u).map(|f| f.id) else {
                    return Ok(not_found());
                };
                d.facilities.update(id, now, apply);
                id
            }
            None => {
                let mut f = crate::store::Facility {
                    uuid: c.state.rng.uuid().into(),
                    active: true,
                    last_update: now.into(),
                    ..Default::default()
                };
                apply(&mut f);
                d.facilities.insert(f)
            }
        };
        let uuid = d.facilities.get(id).map(|f| f.uuid.to_string());
        Ok(written(
            c,
            d,
            "Organization",
            None,
            &uuid.unwrap_or_default(),
        ))
    })
}

fn write_practitioner(c: &Call<'_>) -> Answer {
    let v = body_resource(c, "Practitioner")?;
    let uuid = (c.op.method == "PUT").then(|| c.param("uuid").to_owned());
    let mut fields = serde_json::Map::new();
    for (k, path) in [
        ("fname", "name.given"),
        ("lname", "name.family"),
        ("email", "telecom?system=email.value"),
        ("phone", "telecom?system=phone.value"),
    ] {
        if let Some(x) = first_str(&v, path) {
            fields.insert(k.to_owned(), Value::String(x));
        }
    }
    if let Some(x) = npi_of(&v) {
        fields.insert("npi".to_owned(), Value::String(x));
    }
    let now = c.now();
    c.site.store.write(|d| {
        acl::check(d, c.principal, "admin/users")?;
        validate(d, "practitioner", uuid.is_some(), &fields)?;
        let get = |k: &str| fields.get(k).and_then(Value::as_str).map(str::to_owned);
        let apply = |p: &mut crate::store::Provider| {
            if let Some(x) = get("fname") {
                p.first_name = x.into();
            }
            if let Some(x) = get("lname") {
                p.last_name = x.into();
            }
            if let Some(x) = get("npi") {
                p.npi = x.into();
            }
            if let Some(x) = get("email") {
                p.email = x.into();
            }
            if let Some(x) = get("phone") {
                p.phone = x.into();
            }
            if let Some(x) = v.get("active").and_then(Value::as_bool) {
                p.status = if x { "1".into() } else { "0".into() };
            }
        };
        let id = match &uuid {
            Some(u) => {
                let Some(id) = d.providers.by_uuid(u).map(|p| p.id) else {
                    return Ok(not_found());
                };
                d.providers.update(id, now, apply);
                id
            }
            None => {
                let mut p = crate::store::Provider {
                    uuid: c.state.rng.uuid().into(),
                    provider_type: "doctor".into(),
                    status: "1".into(),
                    last_update: now.into(),
                    ..Default::default()
                };
                apply(&mut p);
                let id = d.providers.insert(p);
                d.providers
                    .update(id, now, |p| p.provider_no = id.to_string().into());
                id
            }
        };
        let uuid = d.providers.get(id).map(|p| p.uuid.to_string());
        Ok(written(
            c,
            d,
            "Practitioner",
            None,
            &uuid.unwrap_or_default(),
        ))
    })
}
