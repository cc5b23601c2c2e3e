//! The store's rows as FHIR R4 resources (US Core shapes, as OpenEMR's
//! `Fhir*Service` classes build them). Every resource type OpenEMR serves
//! is one entry of [`RESOURCES`]: how to list its resources (all, or one
//! patient's), who may read it and how a patient's token is bound.
//!
//! Some resources have no table of their own and are derived from one
//! that does, with stable ids (`derived_id`): a CarePlan per note with a
//! plan (`<note uuid>_1`, as OpenEMR's ids look), a Goal per medical
//! problem, a CareTeam and a Group per primary provider, a dispense per
//! prescribed medication, the order, specimen and report of a lab result.

use base64::Engine as _;
use chrono::SecondsFormat;
use serde_json::{json, Map, Value};

use super::super::vitals;
use crate::store::openemr_seed::{ETHNICITIES, RACES};
use crate::store::{Data, Id, Measurement, Patient, Record, Timestamp};

/// One resource as a search or read sees it.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    /// The patient whose compartment holds it.
    pub patient: Option<Id>,
    pub last_updated: Timestamp,
    pub resource: Value,
}

/// How a patient-bound request sees a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Only the bound patient's resources.
    Compartment,
    /// Every resource (Organization, Practitioner, Location...).
    Open,
    /// The route runs the user ACL for every role: a patient is refused.
    Acl,
}

/// How the type's ids look, for `_id` validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Uuid,
    /// `<uuid>_<n>` (CarePlan, Goal).
    Suffixed,
    /// `<ResourceType>:<uuid>` (Provenance).
    Typed,
    /// A name (ValueSet ids are list names).
    Name,
}

/// A resource type OpenEMR serves.
pub struct Def {
    pub name: &'static str,
    /// ACL for non-patient searches (`section/value`, or `""`).
    pub search_acl: &'static str,
    pub read_acl: &'static str,
    pub search_bound: Bound,
    pub read_bound: Bound,
    pub id: IdKind,
    pub items: fn(&Build<'_>, Option<Id>) -> Vec<Item>,
}

/// Everything a builder needs.
pub struct Build<'d> {
    pub d: &'d Data,
    /// `{root}{fhir base}`, for attachment URLs.
    pub base: String,
}

macro_rules! def {
    ($name:literal, $sacl:literal, $racl:literal, $sb:ident, $rb:ident, $id:ident, $f:path) => {
        Def {
            name: $name,
            search_acl: $sacl,
            read_acl: $racl,
            search_bound: Bound::$sb,
            read_bound: Bound::$rb,
            id: IdKind::$id,
            items: $f,
        }
    };
}

/// The served types (route notes of `fhir-api.tsv`: the ACL each route
/// checks and whether a patient's token is bound to its compartment).
pub const RESOURCES: &[Def] = &[
    def!(
        "AllergyIntolerance",
        "patients/med",
        "patients/med",
        Compartment,
        Compartment,
        Uuid,
        allergies
    ),
    def!(
        "Appointment",
        "patients/appt",
        "patients/appt",
        Compartment,
        Compartment,
        Uuid,
        appointments
    ),
    def!(
        "Binary",
        "admin/users",
        "admin/users",
        Compartment,
        Compartment,
        Uuid,
        no_items
    ),
    def!(
        "CarePlan",
        "patients/med",
        "patients/med",
        Compartment,
        Compartment,
        Suffixed,
        care_plans
    ),
    def!(
        "CareTeam",
        "patients/med",
        "patients/med",
        Compartment,
        Compartment,
        Uuid,
        care_teams
    ),
    def!(
        "Condition",
        "patients/med",
        "patients/med",
        Compartment,
        Compartment,
        Uuid,
        conditions
    ),
    def!(
        "Coverage",
        "admin/super",
        "admin/super",
        Compartment,
        Compartment,
        Uuid,
        coverages
    ),
    def!(
        "Device",
        "admin/super",
        "admin/super",
        Compartment,
        Compartment,
        Uuid,
        devices
    ),
    def!(
        "DiagnosticReport",
        "admin/super",
        "admin/super",
        Compartment,
        Compartment,
        Uuid,
        diagnostic_reports
    ),
    def!(
        "DocumentReference",
        "admin/super",
        "admin/super",
        Compartment,
        Compartment,
        Uuid,
        document_references
    ),
    def!(
        "Encounter",
        "encounters/auth_a",
        "admin/super",
        Compartment,
        Compartment,
        Uuid,
        encounters
    ),
    def!(
        "Goal",
        "admin/super",
        "admin/super",
        Compartment,
        Compartment,
        Suffixed,
        goals
    ),
    def!(
        "Group",
        "admin/users",
        "admin/users",
        Acl,
        Acl,
        Uuid,
        groups
    ),
    def!(
        "Immunization",
        "patients/med",
        "patients/med",
        Compartment,
        Compartment,
        Uuid,
        immunizations
    ),
    def!("Location", "", "", Open, Open, Uuid, locations),
    def!(
        "Media",
        "patients/demo",
        "",
        Compartment,
        Compartment,
        Uuid,
        media
    ),
    def!(
        "Medication",
        "patients/med",
        "patients/med",
        Acl,
        Open,
        Uuid,
        medications
    ),
    def!(
        "MedicationDispense",
        "patients/med",
        "patients/med",
        Compartment,
        Compartment,
        Uuid,
        dispenses
    ),
    def!(
        "MedicationRequest",
        "patients/med",
        "patients/med",
        Compartment,
        Compartment,
        Uuid,
        medication_requests
    ),
    def!(
        "Observation",
        "patients/med",
        "patients/med",
        Compartment,
        Compartment,
        Uuid,
        observations
    ),
    def!(
        "Organization",
        "admin/users",
        "admin/users",
        Open,
        Open,
        Uuid,
        organizations
    ),
    def!(
        "Patient",
        "patients/demo",
        "patients/demo",
        Compartment,
        Compartment,
        Uuid,
        patients
    ),
    def!(
        "Person",
        "admin/users",
        "admin/users",
        Acl,
        Compartment,
        Uuid,
        persons
    ),
    def!(
        "Practitioner",
        "admin/users",
        "admin/users",
        Open,
        Open,
        Uuid,
        practitioners
    ),
    def!(
        "PractitionerRole",
        "admin/users",
        "admin/users",
        Acl,
        Acl,
        Uuid,
        practitioner_roles
    ),
    def!(
        "Procedure",
        "patients/med",
        "patients/med",
        Compartment,
        Compartment,
        Uuid,
        procedures
    ),
    def!(
        "Provenance",
        "admin/super",
        "admin/super",
        Compartment,
        Compartment,
        Typed,
        provenances
    ),
    def!("Questionnaire", "", "", Open, Open, Uuid, questionnaires),
    def!(
        "QuestionnaireResponse",
        "",
        "",
        Compartment,
        Compartment,
        Uuid,
        questionnaire_responses
    ),
    def!(
        "RelatedPerson",
        "patients/demo",
        "patients/demo",
        Compartment,
        Open,
        Uuid,
        related_persons
    ),
    def!(
        "ServiceRequest",
        "patients/med",
        "patients/med",
        Compartment,
        Compartment,
        Uuid,
        service_requests
    ),
    def!(
        "Specimen",
        "admin/super",
        "admin/super",
        Compartment,
        Compartment,
        Uuid,
        specimens
    ),
    def!(
        "ValueSet",
        "admin/super",
        "admin/super",
        Acl,
        Acl,
        Name,
        value_sets
    ),
];

pub fn def(name: &str) -> Option<&'static Def> {
    RESOURCES.iter().find(|d| d.name == name)
}

// ---- helpers ------------------------------------------------------------

pub fn instant(t: impl Into<Timestamp>) -> String {
    t.into().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn meta(t: impl Into<Timestamp>) -> Value {
    json!({"versionId": "1", "lastUpdated": instant(t)})
}

/// A stable UUID for a resource derived from a row (`kind` says which).
pub fn derived_id(uuid: &(impl std::fmt::Display + ?Sized), kind: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, format!("{uuid}/{kind}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest.as_ref()[..16]);
    crate::rng::format_uuid(b)
}

/// Drops empty strings, nulls, empty arrays and objects: FHIR elements
/// are absent or have a value, never empty.
pub fn clean(mut v: Value) -> Value {
    clean_in_place(&mut v);
    v
}

/// [`clean`] without rebuilding the maps (order is kept: `retain` keeps it).
fn clean_in_place(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.values_mut().for_each(clean_in_place);
            m.retain(|_, x| !is_empty(x));
        }
        Value::Array(a) => {
            a.iter_mut().for_each(clean_in_place);
            a.retain(|x| !is_empty(x));
        }
        Value::String(s) if s.trim().is_empty() => *v = Value::Null,
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

fn item(id: String, patient: Option<Id>, t: impl Into<Timestamp>, resource: Value) -> Item {
    let mut resource = clean(resource);
    drop_valueless_telecom(&mut resource);
    Item {
        id,
        patient,
        last_updated: t.into(),
        resource,
    }
}

/// A resource as the builders make it: `resourceType`, `id` and `meta`
/// lead (OpenEMR's order), then `body`'s elements, so each builder states
/// only what its type adds.
fn resource(
    kind: &str,
    id: String,
    patient: Option<Id>,
    t: impl Into<Timestamp>,
    body: Value,
) -> Item {
    let t = t.into();
    let mut r = Map::new();
    r.insert("resourceType".into(), json!(kind));
    r.insert("id".into(), json!(id));
    r.insert("meta".into(), meta(t));
    if let Value::Object(body) = body {
        r.extend(body);
    }
    item(id, patient, t, Value::Object(r))
}

/// A ContactPoint without a value says nothing: drop it.
fn drop_valueless_telecom(r: &mut Value) {
    if let Some(Value::Array(t)) = r.get_mut("telecom") {
        t.retain(|c| c.get("value").is_some());
        if t.is_empty() {
            if let Value::Object(m) = r {
                m.remove("telecom");
            }
        }
    }
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({"system": system, "code": code, "display": display})
}

fn concept(system: &str, code: &str, display: &str) -> Value {
    if code.is_empty() {
        return json!({"text": display});
    }
    json!({"coding": [coding(system, code, display)], "text": display})
}

const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";
const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const UCUM: &str = "http://unitsofmeasure.org";
const NPI: &str = "http://hl7.org/fhir/sid/us-npi";

impl Build<'_> {
    pub fn patient_uuid(&self, id: Id) -> Option<String> {
        self.d.patients().get(id).map(|p| p.uuid.to_string())
    }

    fn patient_ref(&self, id: Id) -> Value {
        match self.d.patients().get(id) {
            Some(p) => {
                json!({"reference": format!("Patient/{}", p.uuid), "display": format!("{} {}", p.first_name, p.last_name)})
            }
            None => Value::Null,
        }
    }

    fn practitioner_ref(&self, provider_no: &str) -> Value {
        match self.d.provider(provider_no) {
            Some(p) => {
                json!({"reference": format!("Practitioner/{}", p.uuid), "display": format!("{} {}", p.first_name, p.last_name)})
            }
            None => Value::Null,
        }
    }

    fn organization_ref(&self, facility: Option<Id>) -> Value {
        let f = facility
            .and_then(|i| self.d.facilities.get(i))
            .or_else(|| self.d.facilities.iter().next());
        match f {
            Some(f) => json!({"reference": format!("Organization/{}", f.uuid), "display": f.name}),
            None => Value::Null,
        }
    }

    fn encounter_ref(&self, id: Option<Id>) -> Value {
        match id.and_then(|i| self.d.encounters.get(i)) {
            Some(e) => json!({"reference": format!("Encounter/{}", e.uuid)}),
            None => Value::Null,
        }
    }

    fn binary_url(&self, uuid: &(impl std::fmt::Display + ?Sized)) -> String {
        format!("{}/Binary/{uuid}", self.base)
    }
}

fn no_items(_: &Build<'_>, _: Option<Id>) -> Vec<Item> {
    Vec::new()
}

fn for_patient<'a, T: crate::store::Record + 'a>(
    t: &'a crate::store::Table<T>,
    patient: Option<Id>,
) -> Box<dyn Iterator<Item = &'a T> + 'a> {
    match patient {
        Some(p) => Box::new(t.for_patient(p)),
        None => Box::new(t.iter()),
    }
}

/// The patients a builder of per-patient resources covers: the one asked
/// for, or all (patients are not a `Table`, so `for_patient` cannot).
fn patient_rows<'a>(b: &Build<'a>, patient: Option<Id>) -> Vec<&'a Patient> {
    match patient {
        Some(p) => b.d.patients().get(p).into_iter().collect(),
        None => b.d.patients().iter().collect(),
    }
}

/// A reference to a resource derived from the row `uuid` (a lab result's
/// order, specimen and report point at each other this way).
fn derived_ref(kind: &str, uuid: &(impl std::fmt::Display + ?Sized)) -> Value {
    json!({"reference": format!("{kind}/{}", derived_id(uuid, kind))})
}

/// An NPI identifier list, empty without an NPI.
fn npi_identifier(npi: &str) -> Value {
    if npi.is_empty() {
        json!([])
    } else {
        json!([{"system": NPI, "value": npi}])
    }
}

/// When the resources OpenEMR ships (not rows of the store) were last
/// updated: with the data set, i.e. when its first patient was created.
fn install_time(b: &Build<'_>) -> Timestamp {
    b.d.patients()
        .iter()
        .next()
        .map(|p| p.created.get())
        .unwrap_or_default()
}

fn address(street: &str, city: &str, state: &str, postal: &str, country: &str) -> Value {
    json!({"line": [street], "city": city, "state": state, "postalCode": postal, "country": country})
}

fn gender(sex: &str) -> &'static str {
    match sex {
        "M" => "male",
        "F" => "female",
        "O" => "other",
        _ => "unknown",
    }
}

// ---- Patient and people -------------------------------------------------------

pub fn patient(p: &Patient) -> Value {
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
    let mut identifier = vec![json!({
        "use": "official",
        "type": {"coding": [coding("http://terminology.hl7.org/CodeSystem/v2-0203", "PT", "Patient external identifier")]},
        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
        "value": if p.chart_no.is_empty() { p.id.to_string() } else { p.chart_no.to_string() },
    })];
    if !p.sin.is_empty() {
        identifier.push(json!({
            "use": "official",
            "type": {"coding": [coding("http://terminology.hl7.org/CodeSystem/v2-0203", "SS", "Social Security number")]},
            "system": "http://hl7.org/fhir/sid/us-ssn",
            "value": p.sin,
        }));
    }
    let mut extension = Vec::new();
    for (url, code_key, list) in [
        (
            "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
            "race",
            RACES,
        ),
        (
            "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity",
            "ethnicity",
            ETHNICITIES,
        ),
    ] {
        // The title is the list's, as OpenEMR reads it from list_options.
        let code = p.ext.get(code_key);
        let text = code.and_then(|c| list.iter().find(|(k, _)| *k == c.as_str()));
        if let (Some(code), Some((_, text))) = (code, text) {
            extension.push(json!({
                "url": url,
                "extension": [
                    {"url": "ombCategory", "valueCoding": coding("urn:oid:2.16.840.1.113883.6.238", code, text)},
                    {"url": "text", "valueString": text},
                ]
            }));
        }
    }
    let language = match p.official_language.as_str() {
        "French" => Some(("fr", "French")),
        "English" => Some(("en", "English")),
        _ => None,
    };
    // Values built above are put in after: `json!` would copy each one
    // by serializing it. A key set again keeps its place.
    let mut r = json!({
        "resourceType": "Patient",
        "id": p.uuid,
        "meta": null,
        "extension": null,
        "identifier": null,
        "active": p.status != "IN",
        "name": [{
            "use": "official",
            "family": p.last_name,
            "given": [p.first_name.clone(), p.middle_name.clone()],
            "prefix": [p.title.clone()],
        }],
        "telecom": null,
        "gender": gender(&p.sex),
        "birthDate": p.birth_date.map(|d| d.to_string()),
        "deceasedBoolean": if p.status == "DE" { Some(true) } else { None },
        "address": null,
        "communication": null,
    });
    r["meta"] = meta(p.last_update);
    r["extension"] = Value::Array(extension);
    r["identifier"] = Value::Array(identifier);
    r["telecom"] = Value::Array(telecom);
    r["address"] = Value::Array(vec![address(
        &p.address.street,
        &p.address.city,
        &p.address.province,
        &p.address.postal,
        &p.address.country,
    )]);
    if let Some((c, t)) = language {
        let mut language = Map::new();
        language.insert("language".into(), concept("urn:ietf:bcp:47", c, t));
        r["communication"] = Value::Array(vec![Value::Object(language)]);
    }
    r
}

fn patients(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    patient_rows(b, patient)
        .into_iter()
        .map(|p| {
            let mut r = self::patient(p);
            r["generalPractitioner"] = Value::Array(vec![b.practitioner_ref(&p.provider_no)]);
            item(p.uuid.to_string(), Some(p.id), p.last_update, r)
        })
        .collect()
}

fn person_name(p: &crate::store::Provider) -> Value {
    json!([{"use": "official", "family": p.last_name, "given": [p.first_name.clone()], "prefix": [p.title.clone()]}])
}

fn provider_telecom(p: &crate::store::Provider) -> Value {
    json!([
        {"system": "phone", "value": p.phone, "use": "work"},
        {"system": "email", "value": p.email, "use": "work"},
    ])
}

fn practitioners(b: &Build<'_>, _: Option<Id>) -> Vec<Item> {
    b.d.providers
        .iter()
        .map(|p| {
            let r = json!({
                "identifier": npi_identifier(&p.npi),
                "active": p.is_active(),
                "name": person_name(p),
                "telecom": provider_telecom(p),
                "gender": gender(&p.sex),
            });
            resource("Practitioner", p.uuid.to_string(), None, p.last_update, r)
        })
        .collect()
}

fn persons(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    if patient.is_some() {
        return Vec::new();
    }
    b.d.providers
        .iter()
        .map(|p| {
            let r = json!({
                "active": p.is_active(),
                "name": person_name(p),
                "telecom": provider_telecom(p),
                "gender": gender(&p.sex),
                "link": [{"target": {"reference": format!("Practitioner/{}", p.uuid)}}],
            });
            resource("Person", p.uuid.to_string(), None, p.last_update, r)
        })
        .collect()
}

fn practitioner_roles(b: &Build<'_>, _: Option<Id>) -> Vec<Item> {
    b.d.providers
        .iter()
        .map(|p| {
            let id = derived_id(&p.uuid, "PractitionerRole");
            let (code, display) = match p.provider_type.as_str() {
                "doctor" => ("158965000", "Medical practitioner"),
                "nurse" => ("224535009", "Registered nurse"),
                _ => ("159561009", "Receptionist"),
            };
            let r = json!({
                "active": p.is_active(),
                "practitioner": {"reference": format!("Practitioner/{}", p.uuid)},
                "organization": b.organization_ref(p.facility_id.get()),
                "code": [concept(SNOMED, code, display)],
                "specialty": if p.specialty.is_empty() { json!([]) } else { json!([{"text": p.specialty}]) },
                "telecom": provider_telecom(p),
            });
            resource("PractitionerRole", id, None, p.last_update, r)
        })
        .collect()
}

fn related_persons(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    patient_rows(b, patient)
        .into_iter()
        .filter_map(|p| {
            let name = p.ext.get("guardian.name")?;
            let id = derived_id(&p.uuid, "RelatedPerson");
            let rel = p.ext.get("guardian.relationship").cloned().unwrap_or_else(|| "PRN".into());
            let r = json!({
                "active": true,
                "patient": {"reference": format!("Patient/{}", p.uuid)},
                "relationship": [concept("http://terminology.hl7.org/CodeSystem/v3-RoleCode", &rel, "parent")],
                "name": [{"text": name}],
                "telecom": [{"system": "phone", "value": p.ext.get("guardian.phone").cloned().unwrap_or_default()}],
            });
            Some(resource("RelatedPerson", id, Some(p.id), p.last_update, r))
        })
        .collect()
}

fn care_teams(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    patient_rows(b, patient)
        .into_iter()
        .filter(|p| b.d.provider(&p.provider_no).is_some())
        .map(|p| {
            let id = derived_id(&p.uuid, "CareTeam");
            let r = json!({
                "status": "active",
                "name": "Primary care team",
                "subject": b.patient_ref(p.id),
                "participant": [{
                    "role": [concept(SNOMED, "446050000", "Primary care physician")],
                    "member": b.practitioner_ref(&p.provider_no),
                }, {
                    "role": [concept(SNOMED, "224891009", "Healthcare services")],
                    "member": b.organization_ref(None),
                }],
                "managingOrganization": [b.organization_ref(None)],
            });
            resource("CareTeam", id, Some(p.id), p.last_update, r)
        })
        .collect()
}

fn groups(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    b.d.providers
        .iter()
        .filter_map(|prov| {
            let members: Vec<&Patient> = b
                .d
                .patients()
                .iter()
                .filter(|p| p.provider_no == prov.provider_no)
                .collect();
            if members.is_empty() || patient.is_some_and(|pid| !members.iter().any(|m| m.id == pid)) {
                return None;
            }
            let id = derived_id(&prov.uuid, "Group");
            let r = json!({
                "active": true,
                "type": "person",
                "actual": true,
                "name": format!("Patients of {} {}", prov.first_name, prov.last_name),
                "quantity": members.len(),
                "managingEntity": {"reference": format!("Practitioner/{}", prov.uuid)},
                "member": members.iter().map(|m| json!({"entity": {"reference": format!("Patient/{}", m.uuid)}})).collect::<Vec<_>>(),
            });
            Some(resource("Group", id, None, prov.last_update, r))
        })
        .collect()
}

/// The patients a Group lists.
pub fn group_members(b: &Build<'_>, group_id: &str) -> Option<Vec<Id>> {
    let prov =
        b.d.providers
            .iter()
            .find(|p| derived_id(&p.uuid, "Group") == group_id)?;
    let members: Vec<Id> =
        b.d.patients()
            .iter()
            .filter(|p| p.provider_no == prov.provider_no)
            .map(|p| p.id)
            .collect();
    (!members.is_empty()).then_some(members)
}

// ---- places and organizations -------------------------------------------------

fn organizations(b: &Build<'_>, _: Option<Id>) -> Vec<Item> {
    let mut out: Vec<Item> = b
        .d
        .facilities
        .iter()
        .map(|f| {
            let r = json!({
                "identifier": npi_identifier(&f.npi),
                "active": f.active,
                "type": [concept("http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider")],
                "name": f.name,
                "telecom": [
                    {"system": "phone", "value": f.phone, "use": "work"},
                    {"system": "fax", "value": f.fax, "use": "work"},
                    {"system": "email", "value": f.email, "use": "work"},
                ],
                "address": [address(&f.address.street, &f.address.city, &f.address.province, &f.address.postal, &f.address.country)],
            });
            resource("Organization", f.uuid.to_string(), None, f.last_update, r)
        })
        .collect();
    out.extend(b.d.insurance_companies.iter().map(|c| {
        let r = json!({
            "active": true,
            "type": [concept("http://terminology.hl7.org/CodeSystem/organization-type", "ins", "Insurance Company")],
            "name": c.name,
            "telecom": [{"system": "phone", "value": c.phone, "use": "work"}],
            "address": [address(&c.address.street, &c.address.city, &c.address.province, &c.address.postal, &c.address.country)],
        });
        resource("Organization", c.uuid.to_string(), None, c.last_update, r)
    }));
    out
}

fn locations(b: &Build<'_>, _: Option<Id>) -> Vec<Item> {
    b.d.facilities
        .iter()
        .map(|f| {
            let r = json!({
                "status": if f.active { "active" } else { "inactive" },
                "name": f.name,
                "telecom": [{"system": "phone", "value": f.phone, "use": "work"}],
                "address": address(&f.address.street, &f.address.city, &f.address.province, &f.address.postal, &f.address.country),
                "managingOrganization": {"reference": format!("Organization/{}", f.uuid)},
            });
            resource("Location", f.uuid.to_string(), None, f.last_update, r)
        })
        .collect()
}

// ---- clinical -----------------------------------------------------------------

fn encounters(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.encounters, patient)
        .map(|e| {
            let class_display = super::super::standard::list("_ActEncounterCode")
                .and_then(|l| l.iter().find(|o| o.0 == e.class_code))
                .map(|o| o.1.clone())
                .unwrap_or_else(|| e.class_code.to_string());
            let catname = e
                .ext
                .get("pc_catid")
                .and_then(|c| c.parse::<Id>().ok())
                .and_then(|i| b.d.appointment_types.get(i))
                .map(|t| t.name.clone())
                .unwrap_or_else(|| "Office Visit".into());
            let r = json!({
                "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{}", e.uuid)}],
                "status": "finished",
                "class": coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", &e.class_code, &class_display),
                "type": [{"coding": [coding(SNOMED, "185349003", "Encounter for check up (procedure)")], "text": catname}],
                "subject": b.patient_ref(e.patient_id),
                "participant": [{
                    "type": [concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF", "primary performer")],
                    "individual": b.practitioner_ref(&e.provider_no),
                }],
                "period": {"start": instant(e.date)},
                "reasonCode": [{"text": e.reason}],
                "location": e.facility_id.get().and_then(|f| b.d.facilities.get(f)).map(|f| vec![json!({"location": {"reference": format!("Location/{}", f.uuid)}})]),
                "serviceProvider": b.organization_ref(e.facility_id.get()),
            });
            resource("Encounter", e.uuid.to_string(), Some(e.patient_id), e.last_update, r)
        })
        .collect()
}

fn icd_system(code: &str) -> (&'static str, &str) {
    match code.split_once(':') {
        Some(("ICD10", c)) => ("http://hl7.org/fhir/sid/icd-10-cm", c),
        Some(("SNOMED-CT", c)) | Some(("SNOMED", c)) => (SNOMED, c),
        Some(("CPT4", c)) => ("http://www.ama-assn.org/go/cpt", c),
        Some((_, c)) => ("http://hl7.org/fhir/sid/icd-10-cm", c),
        None => ("http://hl7.org/fhir/sid/icd-10-cm", code),
    }
}

fn conditions(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.problems, patient)
        .filter(|p| p.kind == "medical_problem")
        .map(|p| {
            let (system, code) = icd_system(&p.diagnosis);
            let resolved = p.end.is_some();
            let r = json!({
                "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/condition-clinical",
                    if resolved { "resolved" } else { "active" }, if resolved { "Resolved" } else { "Active" }),
                "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"),
                "category": [concept("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item")],
                "code": if code.is_empty() { json!({"text": p.title}) } else { concept(system, code, &p.title) },
                "subject": b.patient_ref(p.patient_id),
                "onsetDateTime": p.begin.map(|d| d.to_string()),
                "abatementDateTime": p.end.map(|d| d.to_string()),
                "recordedDate": instant(p.created),
                "recorder": b.practitioner_ref(&p.provider_no),
            });
            resource("Condition", p.uuid.to_string(), Some(p.patient_id), p.last_update, r)
        })
        .collect()
}

fn allergies(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.allergies, patient)
        .filter(|a| !a.archived)
        .map(|a| {
            let category = match a.type_code {
                8 | 10 | 13 | 6 | 11 | 12 | 14 => "medication",
                _ if a.description.eq_ignore_ascii_case("PEANUT") => "food",
                _ => "environment",
            };
            let severity = match a.severity.as_str() {
                "1" => Some("mild"),
                "2" => Some("moderate"),
                "3" => Some("severe"),
                _ => None,
            };
            let reaction = (!a.reaction.is_empty()).then(|| {
                vec![json!({"manifestation": [{"text": a.reaction}], "severity": severity})]
            });
            let r = json!({
                "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active"),
                "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed"),
                "type": "allergy",
                "category": [category],
                "criticality": if a.severity == "3" { "high" } else { "low" },
                "code": {"text": a.description},
                "patient": b.patient_ref(a.patient_id),
                "onsetDateTime": a.start_date.map(|d| d.to_string()),
                "recordedDate": a.entry_date.map(|d| d.to_string()),
                "recorder": b.practitioner_ref(&a.provider_no),
                "reaction": reaction,
            });
            resource("AllergyIntolerance", a.uuid.to_string(), Some(a.patient_id), a.last_update, r)
        })
        .collect()
}

fn quantity(value: &str, unit: &str) -> Value {
    match value.trim().parse::<f64>() {
        Ok(v) => json!({"value": v, "unit": unit, "system": UCUM, "code": vitals::ucum(unit)}),
        Err(_) => Value::Null,
    }
}

fn vital_observation(b: &Build<'_>, m: &Measurement) -> Option<Value> {
    let category = [concept(
        "http://terminology.hl7.org/CodeSystem/observation-category",
        "vital-signs",
        "Vital Signs",
    )];
    let mut r = json!({
        "resourceType": "Observation",
        "id": m.uuid,
        "meta": meta(m.last_update),
        "status": "final",
        "category": category,
        "subject": b.patient_ref(m.patient_id),
        "encounter": b.encounter_ref(m.encounter_id.get()),
        "effectiveDateTime": instant(m.observed),
        "performer": [b.practitioner_ref(&m.provider_no)],
        "note": if m.comments.is_empty() { Value::Null } else { json!([{"text": m.comments}]) },
    });
    if m.kind == "BP" {
        let (s, d) = m.value.split_once('/').unwrap_or((&m.value, ""));
        r["code"] = concept(LOINC, vitals::BP_PANEL.0, vitals::BP_PANEL.1);
        r["component"] = json!([
            {"code": concept(LOINC, vitals::SYSTOLIC.0, vitals::SYSTOLIC.1), "valueQuantity": quantity(s, "mm[Hg]"),
             "dataAbsentReason": if s.trim().parse::<f64>().is_ok() { Value::Null } else { concept("http://terminology.hl7.org/CodeSystem/data-absent-reason", "unknown", "Unknown") }},
            {"code": concept(LOINC, vitals::DIASTOLIC.0, vitals::DIASTOLIC.1), "valueQuantity": quantity(d, "mm[Hg]"),
             "dataAbsentReason": if d.trim().parse::<f64>().is_ok() { Value::Null } else { concept("http://terminology.hl7.org/CodeSystem/data-absent-reason", "unknown", "Unknown") }},
        ]);
        return Some(r);
    }
    let v = vitals::by_kind(&m.kind)?;
    r["code"] = concept(LOINC, v.loinc, v.display);
    let q = quantity(&m.value, &m.unit);
    if q.is_null() {
        r["valueString"] = json!(m.value);
    } else {
        r["valueQuantity"] = q;
    }
    Some(r)
}

/// Lab codes of measurements that are not vitals (OSCAR's `A1C`...).
fn lab_code(kind: &str) -> Option<(&'static str, &'static str)> {
    match kind {
        "A1C" => Some(("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood")),
        "LDL" => Some((
            "13457-7",
            "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation",
        )),
        "TSH" => Some(("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma")),
        _ => None,
    }
}

fn laboratory() -> Value {
    json!([concept(
        "http://terminology.hl7.org/CodeSystem/observation-category",
        "laboratory",
        "Laboratory"
    )])
}

fn observations(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    let mut out: Vec<Item> = for_patient(&b.d.measurements, patient)
        .filter_map(|m| {
            let r = if vitals::is_vital(&m.kind) {
                vital_observation(b, m)?
            } else {
                let (code, display) = lab_code(&m.kind)?;
                let q = quantity(&m.value, &m.unit);
                json!({
                    "resourceType": "Observation",
                    "id": m.uuid,
                    "meta": meta(m.last_update),
                    "status": "final",
                    "category": laboratory(),
                    "code": concept(LOINC, code, display),
                    "subject": b.patient_ref(m.patient_id),
                    "encounter": b.encounter_ref(m.encounter_id.get()),
                    "effectiveDateTime": instant(m.observed),
                    "valueQuantity": q,
                    "valueString": if quantity(&m.value, &m.unit).is_null() { json!(m.value) } else { Value::Null },
                })
            };
            Some(item(m.uuid.to_string(), Some(m.patient_id), m.last_update, r))
        })
        .collect();
    out.extend(for_patient(&b.d.labs, patient).filter_map(|l| {
        let pid = l.patient.get()?;
        let id = derived_id(&l.uuid, "Observation");
        let e = |k: &str| l.ext.get(k).cloned().unwrap_or_default();
        let r = json!({
            "status": "final",
            "category": laboratory(),
            "code": concept(LOINC, &e("result_code"), &e("result_display")),
            "subject": b.patient_ref(pid),
            "effectiveDateTime": l.observed.map(instant),
            "valueQuantity": quantity(&e("value"), &e("unit")),
            "specimen": derived_ref("Specimen", &l.uuid),
        });
        Some(resource("Observation", id, Some(pid), l.last_update, r))
    }));
    out.extend(for_patient(&b.d.questionnaire_responses, patient).filter_map(|q| {
        let total = q.answers.iter().find(|a| a.0 == "55758-7")?;
        let id = derived_id(&q.uuid, "Observation");
        let r = json!({
            "status": "final",
            "category": [concept("http://terminology.hl7.org/CodeSystem/observation-category", "survey", "Survey")],
            "code": concept(LOINC, &total.0, &total.1),
            "subject": b.patient_ref(q.patient_id),
            "effectiveDateTime": instant(q.authored),
            "valueInteger": total.2.parse::<i64>().ok(),
            "derivedFrom": [{"reference": format!("QuestionnaireResponse/{}", q.uuid)}],
        });
        Some(resource("Observation", id, Some(q.patient_id), q.last_update, r))
    }));
    out
}

fn immunizations(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.immunizations, patient)
        .filter(|i| !i.deleted)
        .map(|i| {
            let e = |k: &str| i.ext.get(k).cloned().unwrap_or_default();
            let when = i.date.map(|d| d.to_string()).unwrap_or_else(|| instant(i.created));
            let r = json!({
                "status": if i.refused { "not-done" } else { "completed" },
                "statusReason": if i.refused { concept("http://terminology.hl7.org/CodeSystem/v3-ActReason", "PATOBJ", "patient objection") } else { Value::Null },
                "vaccineCode": concept("http://hl7.org/fhir/sid/cvx", &i.cvx, &i.kind),
                "patient": b.patient_ref(i.patient_id),
                "occurrenceDateTime": when,
                "primarySource": true,
                "lotNumber": e("lot"),
                "site": if e("location").is_empty() { Value::Null } else { json!({"text": e("location")}) },
                "route": if e("route").is_empty() { Value::Null } else { json!({"text": e("route")}) },
                "performer": [{"actor": b.practitioner_ref(&i.provider_no)}],
            });
            resource("Immunization", i.uuid.to_string(), Some(i.patient_id), i.last_update, r)
        })
        .collect()
}

fn medication_concept(name: &str, rxnorm: &str) -> Value {
    concept(RXNORM, rxnorm, name)
}

fn medication_requests(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.medications, patient)
        .map(|m| {
            let name = super::super::standard::wire::medication_title(m);
            let name = if m.dosage.is_empty() { name } else { format!("{name} {}", m.dosage) };
            let status = if m.archived { "stopped" } else { "active" };
            let r = json!({
                "status": status,
                "intent": "order",
                "category": [concept("http://terminology.hl7.org/CodeSystem/medicationrequest-category", "community", "Community")],
                "reportedBoolean": m.script_no.is_none(),
                "medicationCodeableConcept": medication_concept(&name, &m.rxnorm),
                "subject": b.patient_ref(m.patient_id),
                "authoredOn": m.start_date.map(|d| d.to_string()).unwrap_or_else(|| instant(m.created)),
                "requester": b.practitioner_ref(&m.provider_no),
                "dosageInstruction": [{
                    "text": m.instructions,
                    "route": if m.route.is_empty() { Value::Null } else { json!({"text": m.route}) },
                }],
                "dispenseRequest": {
                    "numberOfRepeatsAllowed": m.repeats,
                    "quantity": m.quantity.trim().parse::<f64>().ok().map(|q| json!({"value": q})),
                },
            });
            resource("MedicationRequest", m.uuid.to_string(), Some(m.patient_id), m.last_update, r)
        })
        .collect()
}

fn dispenses(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.medications, patient)
        .filter(|m| m.script_no.is_some())
        .map(|m| {
            let id = derived_id(&m.uuid, "MedicationDispense");
            let name = super::super::standard::wire::medication_title(m);
            let r = json!({
                "status": "completed",
                "medicationCodeableConcept": medication_concept(&name, &m.rxnorm),
                "subject": b.patient_ref(m.patient_id),
                "authorizingPrescription": [{"reference": format!("MedicationRequest/{}", m.uuid)}],
                "type": concept("http://terminology.hl7.org/CodeSystem/v3-ActCode", "FF", "First Fill"),
                "quantity": m.quantity.trim().parse::<f64>().ok().map(|q| json!({"value": q})),
                "whenHandedOver": m.start_date.map(|d| d.to_string()),
            });
            resource("MedicationDispense", id, Some(m.patient_id), m.last_update, r)
        })
        .collect()
}

fn medications(b: &Build<'_>, _: Option<Id>) -> Vec<Item> {
    b.d.drugs
        .iter()
        .map(|dr| {
            let r = json!({
                "identifier": if dr.ndc.is_empty() { json!([]) } else { json!([{"system": "http://hl7.org/fhir/sid/ndc", "value": dr.ndc}]) },
                "code": medication_concept(&dr.name, &dr.rxnorm),
                "status": if dr.active { "active" } else { "inactive" },
                "form": {"text": dr.form},
            });
            resource("Medication", dr.uuid.to_string(), None, dr.last_update, r)
        })
        .collect()
}

fn procedures(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    let mut out: Vec<Item> = for_patient(&b.d.problems, patient)
        .filter(|p| p.kind == "surgery")
        .map(|p| {
            let (system, code) = icd_system(&p.diagnosis);
            let r = json!({
                "status": "completed",
                "code": if code.is_empty() { json!({"text": p.title}) } else { concept(system, code, &p.title) },
                "subject": b.patient_ref(p.patient_id),
                "performedDateTime": p.begin.map(|d| d.to_string()).unwrap_or_else(|| instant(p.created)),
                "recorder": b.practitioner_ref(&p.provider_no),
            });
            resource("Procedure", p.uuid.to_string(), Some(p.patient_id), p.last_update, r)
        })
        .collect();
    out.extend(for_patient(&b.d.labs, patient).filter_map(|l| {
        let pid = l.patient.get()?;
        let id = derived_id(&l.uuid, "Procedure");
        let e = |k: &str| l.ext.get(k).cloned().unwrap_or_default();
        let r = json!({
            "basedOn": [derived_ref("ServiceRequest", &l.uuid)],
            "status": "completed",
            "code": concept(LOINC, &e("code"), &e("display")),
            "subject": b.patient_ref(pid),
            "performedDateTime": l.observed.map(instant),
        });
        Some(resource("Procedure", id, Some(pid), l.last_update, r))
    }));
    out
}

fn lab_category() -> Value {
    json!([concept(
        "http://terminology.hl7.org/CodeSystem/v2-0074",
        "LAB",
        "Laboratory"
    )])
}

fn diagnostic_reports(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.labs, patient)
        .filter_map(|l| {
            let pid = l.patient.get()?;
            let e = |k: &str| l.ext.get(k).cloned().unwrap_or_default();
            let r = json!({
                "basedOn": [derived_ref("ServiceRequest", &l.uuid)],
                "status": if l.status == "F" { "final" } else { "preliminary" },
                "category": lab_category(),
                "code": concept(LOINC, &e("code"), &e("display")),
                "subject": b.patient_ref(pid),
                "effectiveDateTime": l.observed.map(instant),
                "issued": instant(l.created),
                "performer": [b.organization_ref(None)],
                "specimen": [derived_ref("Specimen", &l.uuid)],
                "result": [derived_ref("Observation", &l.uuid)],
            });
            Some(resource(
                "DiagnosticReport",
                l.uuid.to_string(),
                Some(pid),
                l.last_update,
                r,
            ))
        })
        .collect()
}

fn service_requests(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.labs, patient)
        .filter_map(|l| {
            let pid = l.patient.get()?;
            let id = derived_id(&l.uuid, "ServiceRequest");
            let e = |k: &str| l.ext.get(k).cloned().unwrap_or_default();
            let r = json!({
                "identifier": [{"system": "urn:oid:2.16.840.1.113883.3.72.5.20", "value": l.accession}],
                "status": if l.status == "F" { "completed" } else { "active" },
                "intent": "order",
                "category": [concept(SNOMED, "108252007", "Laboratory procedure")],
                "code": concept(LOINC, &e("code"), &e("display")),
                "subject": b.patient_ref(pid),
                "authoredOn": l.observed.map(instant),
                "requester": b.practitioner_ref(&l.provider_no),
                "specimen": [derived_ref("Specimen", &l.uuid)],
            });
            Some(resource("ServiceRequest", id, Some(pid), l.last_update, r))
        })
        .collect()
}

fn specimens(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.labs, patient)
        .filter_map(|l| {
            let pid = l.patient.get()?;
            let id = derived_id(&l.uuid, "Specimen");
            let kind = l.ext.get("specimen").cloned().unwrap_or_else(|| "Blood".into());
            let r = json!({
                "accessionIdentifier": {"value": l.accession},
                "status": "available",
                "type": concept(SNOMED, if kind == "Blood" { "119297000" } else { "" }, &format!("{kind} specimen")),
                "subject": b.patient_ref(pid),
                "request": [derived_ref("ServiceRequest", &l.uuid)],
                "collection": {"collectedDateTime": l.observed.map(instant)},
            });
            Some(resource("Specimen", id, Some(pid), l.last_update, r))
        })
        .collect()
}

/// US Core DocumentReference categories.
fn clinical_note() -> Value {
    json!([concept(
        "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
        "clinical-note",
        "Clinical Note"
    )])
}

fn document_type(category: &str) -> Value {
    match category {
        "Referral" => concept(LOINC, "57133-1", "Referral note"),
        "CCD" => concept(LOINC, "34133-9", "Summary of episode note"),
        "Lab Report" => concept(LOINC, "11502-2", "Laboratory report"),
        other => concept(
            LOINC,
            "34109-9",
            if other.is_empty() { "Note" } else { other },
        ),
    }
}

fn document_references(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    let mut out: Vec<Item> = for_patient(&b.d.documents, patient)
        .filter_map(|doc| {
            let pid = doc.patient.get()?;
            let r = json!({
                "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{}", doc.uuid)}],
                "status": "current",
                "type": document_type(&doc.category),
                "category": clinical_note(),
                "subject": b.patient_ref(pid),
                "date": instant(doc.created),
                "author": [b.practitioner_ref(&doc.provider_no)],
                "description": doc.description,
                "content": [{
                    "attachment": {
                        "contentType": doc.content_type,
                        "url": b.binary_url(&doc.uuid),
                        "title": doc.file_name,
                        "size": doc.content.len(),
                    },
                    "format": if doc.category == "CCD" {
                        coding("http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode", "urn:hl7-org:sdwg:ccda-structuredBody:2.1", "C-CDA R2.1 Structured Body")
                    } else { Value::Null },
                }],
                "context": {"period": {"start": doc.observed.map(|d| d.to_string())}},
            });
            Some(resource("DocumentReference", doc.uuid.to_string(), Some(pid), doc.last_update, r))
        })
        .collect();
    out.extend(for_patient(&b.d.notes, patient).filter(|n| !n.archived && !n.text.is_empty()).map(|n| {
        let data = base64::engine::general_purpose::STANDARD.encode(n.text.as_bytes());
        let r = json!({
            "status": "current",
            "type": concept(LOINC, "11506-3", "Progress note"),
            "category": clinical_note(),
            "subject": b.patient_ref(n.patient_id),
            "date": instant(n.observed),
            "author": [b.practitioner_ref(&n.provider_no)],
            "content": [{"attachment": {"contentType": "text/plain", "data": data}}],
            "context": {"encounter": n.encounter_id.get().and_then(|e| b.d.encounters.get(e)).map(|e| vec![json!({"reference": format!("Encounter/{}", e.uuid)})])},
        });
        resource("DocumentReference", n.uuid.to_string(), Some(n.patient_id), n.last_update, r)
    }));
    out
}

fn media(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.documents, patient)
        .filter(|doc| doc.content_type.starts_with("image/") || doc.content_type == "application/dicom")
        .filter_map(|doc| {
            let pid = doc.patient.get()?;
            let r = json!({
                "status": "completed",
                "type": concept("http://terminology.hl7.org/CodeSystem/media-type", "image", "Image"),
                "subject": b.patient_ref(pid),
                "createdDateTime": doc.observed.map(|d| d.to_string()),
                "content": {"contentType": doc.content_type, "url": b.binary_url(&doc.uuid), "title": doc.file_name},
            });
            Some(resource("Media", doc.uuid.to_string(), Some(pid), doc.last_update, r))
        })
        .collect()
}

fn narrative(text: &str) -> Value {
    let escaped = crate::error::xml_escape(text);
    json!({"status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{escaped}</div>")})
}

fn care_plans(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.notes, patient)
        .filter(|n| !n.archived && !n.plan.is_empty())
        .map(|n| {
            let id = format!("{}_1", n.uuid);
            let r = json!({
                "text": narrative(&n.plan),
                "status": "active",
                "intent": "plan",
                "category": [concept("http://hl7.org/fhir/us/core/CodeSystem/careplan-category", "assess-plan", "Assessment and Plan of Treatment")],
                "description": n.plan,
                "subject": b.patient_ref(n.patient_id),
                "encounter": b.encounter_ref(n.encounter_id.get()),
                "created": instant(n.observed),
                "author": b.practitioner_ref(&n.provider_no),
            });
            resource("CarePlan", id, Some(n.patient_id), n.last_update, r)
        })
        .collect()
}

fn goals(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.problems, patient)
        .filter(|p| p.kind == "medical_problem")
        .map(|p| {
            let id = format!("{}_1", p.uuid);
            let r = json!({
                "lifecycleStatus": if p.end.is_some() { "completed" } else { "active" },
                "description": {"text": format!("Manage {}", p.title.to_lowercase())},
                "subject": b.patient_ref(p.patient_id),
                "startDate": p.begin.map(|d| d.to_string()),
                "addresses": [{"reference": format!("Condition/{}", p.uuid)}],
            });
            resource("Goal", id, Some(p.patient_id), p.last_update, r)
        })
        .collect()
}

fn coverages(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.insurances, patient)
        .map(|i| {
            let payer = b.d.insurance_companies.get(i.company_id);
            let rel_display = match i.relationship.as_str() {
                "self" => "Self",
                "spouse" => "Spouse",
                "child" => "Child",
                _ => "Other",
            };
            let r = json!({
                "identifier": [{"type": concept("http://terminology.hl7.org/CodeSystem/v2-0203", "MB", "Member Number"), "value": i.policy_number}],
                "status": if i.end.is_some() { "cancelled" } else { "active" },
                "subscriberId": i.policy_number,
                "beneficiary": b.patient_ref(i.patient_id),
                "relationship": concept("http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                    if i.relationship.is_empty() { "other" } else { &i.relationship }, rel_display),
                "period": {"start": i.start.map(|d| d.to_string()), "end": i.end.map(|d| d.to_string())},
                "payor": [payer.map(|p| json!({"reference": format!("Organization/{}", p.uuid), "display": p.name}))],
                "order": match i.kind.as_str() { "primary" => 1, "secondary" => 2, _ => 3 },
                "class": [
                    {"type": concept("http://terminology.hl7.org/CodeSystem/coverage-class", "group", "Group"), "value": i.group_number, "name": i.plan_name},
                ],
            });
            resource("Coverage", i.uuid.to_string(), Some(i.patient_id), i.last_update, r)
        })
        .collect()
}

fn devices(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.problems, patient)
        .filter(|p| p.kind == "medical_device")
        .map(|p| {
            let udi = p.ext.get("udi").cloned().unwrap_or_default();
            let di = udi
                .strip_prefix("(01)")
                .map(|s| s.chars().take(14).collect::<String>())
                .unwrap_or_default();
            let r = json!({
                "udiCarrier": [{"deviceIdentifier": di, "carrierHRF": udi}],
                "status": if p.end.is_some() { "inactive" } else { "active" },
                "type": {"text": p.title},
                "patient": b.patient_ref(p.patient_id),
            });
            resource(
                "Device",
                p.uuid.to_string(),
                Some(p.patient_id),
                p.last_update,
                r,
            )
        })
        .collect()
}

fn appointment_status(code: &str) -> &'static str {
    match code {
        "H" | "P" => "arrived",
        "C" | "D" => "cancelled",
        "N" => "noshow",
        "E" | "B" => "fulfilled",
        _ => "booked",
    }
}

fn appointments(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    b.d.appointments()
        .iter()
        .filter(|a| a.patient.is_some() && (patient.is_none() || a.patient == patient))
        .map(|a| {
            let start = a.date.and_time(a.start).and_utc();
            let end = a.date.and_time(a.end).and_utc();
            let mut participant = Vec::new();
            if let Some(p) = a.patient.get() {
                participant.push(json!({"actor": b.patient_ref(p), "status": "accepted"}));
            }
            participant.push(json!({"actor": b.practitioner_ref(&a.provider_no), "status": "accepted"}));
            if let Some(f) = a.facility_id.get().and_then(|f| b.d.facilities.get(f)) {
                participant.push(json!({"actor": {"reference": format!("Location/{}", f.uuid), "display": f.name}, "status": "accepted"}));
            }
            let status = appointment_status(&a.status);
            let r = json!({
                "status": status,
                "serviceType": [{"text": a.kind}],
                "description": a.reason,
                "start": instant(start),
                "end": instant(end),
                "minutesDuration": (a.end - a.start).num_minutes().max(1),
                "created": instant(a.created),
                "comment": a.notes,
                "participant": participant,
            });
            resource("Appointment", a.uuid.to_string(), a.patient.get(), a.last_update, r)
        })
        .collect()
}

/// The targets Provenance records exist for: (type, id, patient, when).
fn provenance_targets(
    b: &Build<'_>,
    patient: Option<Id>,
) -> Vec<(&'static str, String, Id, Timestamp)> {
    /// A row with a uuid that belongs to a patient, as a target.
    fn target<R: Record>(
        kind: &'static str,
        r: &R,
    ) -> Option<(&'static str, String, Id, Timestamp)> {
        Some((
            kind,
            r.uuid()?.to_string(),
            r.patient_id()?,
            r.last_update(),
        ))
    }
    let d = b.d;
    let mut out: Vec<_> = patient_rows(b, patient)
        .into_iter()
        .map(|p| ("Patient", p.uuid.to_string(), p.id, p.last_update.get()))
        .collect();
    out.extend(
        for_patient(&d.allergies, patient)
            .filter(|a| !a.archived)
            .filter_map(|a| target("AllergyIntolerance", a)),
    );
    out.extend(
        for_patient(&d.problems, patient)
            .filter(|x| x.kind == "medical_problem")
            .filter_map(|x| target("Condition", x)),
    );
    out.extend(for_patient(&d.encounters, patient).filter_map(|e| target("Encounter", e)));
    out.extend(
        for_patient(&d.immunizations, patient)
            .filter(|i| !i.deleted)
            .filter_map(|i| target("Immunization", i)),
    );
    out.extend(for_patient(&d.medications, patient).filter_map(|m| target("MedicationRequest", m)));
    out.extend(
        for_patient(&d.measurements, patient)
            .filter(|m| vitals::is_vital(&m.kind))
            .filter_map(|m| target("Observation", m)),
    );
    out.extend(
        for_patient(&d.problems, patient)
            .filter(|x| x.kind == "surgery")
            .filter_map(|x| target("Procedure", x)),
    );
    out.extend(
        for_patient(&d.documents, patient).filter_map(|doc| target("DocumentReference", doc)),
    );
    out
}

/// The Provenance of one target.
pub fn provenance(b: &Build<'_>, kind: &str, uuid: &str, patient: Id, at: &Timestamp) -> Item {
    let id = format!("{kind}:{uuid}");
    let r = json!({
        "target": [{"reference": format!("{kind}/{uuid}")}],
        "recorded": instant(*at),
        "agent": [{
            "type": concept("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "author", "Author"),
            "who": b.organization_ref(None),
            "onBehalfOf": b.organization_ref(None),
        }],
    });
    resource("Provenance", id, Some(patient), *at, r)
}

fn provenances(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    provenance_targets(b, patient)
        .into_iter()
        .map(|(k, u, p, t)| provenance(b, k, &u, p, &t))
        .collect()
}

/// The questionnaires OpenEMR ships in its repository (PHQ-2 here).
fn questionnaires(b: &Build<'_>, _: Option<Id>) -> Vec<Item> {
    let at = install_time(b);
    let id = derived_id("PHQ-2", "Questionnaire");
    let r = json!({
        "url": "http://loinc.org/q/55757-9",
        "name": "PHQ2",
        "title": "Patient Health Questionnaire 2 item (PHQ-2) [Reported]",
        "status": "active",
        "code": [coding(LOINC, "55757-9", "Patient Health Questionnaire 2 item (PHQ-2) [Reported]")],
        "item": [
            {"linkId": "44250-9", "code": [coding(LOINC, "44250-9", "Little interest or pleasure in doing things")], "text": "Little interest or pleasure in doing things", "type": "integer", "required": true},
            {"linkId": "44255-8", "code": [coding(LOINC, "44255-8", "Feeling down, depressed, or hopeless")], "text": "Feeling down, depressed, or hopeless", "type": "integer", "required": true},
            {"linkId": "55758-7", "code": [coding(LOINC, "55758-7", "PHQ-2 total score")], "text": "PHQ-2 total score", "type": "integer", "readOnly": true},
        ],
    });
    vec![resource("Questionnaire", id, None, at, r)]
}

fn questionnaire_responses(b: &Build<'_>, patient: Option<Id>) -> Vec<Item> {
    for_patient(&b.d.questionnaire_responses, patient)
        .map(|q| {
            let r = json!({
                "questionnaire": "http://loinc.org/q/55757-9",
                "status": q.status,
                "subject": b.patient_ref(q.patient_id),
                "authored": instant(q.authored),
                "item": q.answers.iter().map(|(link, text, v)| json!({
                    "linkId": link,
                    "text": text,
                    "answer": [{"valueInteger": v.parse::<i64>().unwrap_or(0)}],
                })).collect::<Vec<_>>(),
            });
            resource(
                "QuestionnaireResponse",
                q.uuid.to_string(),
                Some(q.patient_id),
                q.last_update,
                r,
            )
        })
        .collect()
}

/// A value set: id, title, `(code, display)` concepts.
type ValueSetRows = Vec<(String, String, Vec<(String, String)>)>;

fn value_sets(b: &Build<'_>, _: Option<Id>) -> Vec<Item> {
    let at = install_time(b);
    let mut sets: ValueSetRows = vec![(
        "appointment-type".into(),
        "Appointment Type".into(),
        b.d.appointment_types
            .iter()
            .map(|t| (t.id.to_string(), t.name.to_string()))
            .collect(),
    )];
    for (list, id, title) in [
        ("note_type", "note-type", "Message Type"),
        ("message_status", "message-status", "Message Status"),
        ("_ActEncounterCode", "encounter-class", "Encounter Class"),
    ] {
        if let Some(options) = super::super::standard::list(list) {
            sets.push((
                id.into(),
                title.into(),
                options.iter().map(|o| (o.0.clone(), o.1.clone())).collect(),
            ));
        }
    }
    sets.into_iter()
        .map(|(id, title, concepts)| {
            let system = format!("http://open-emr.org/lists/{id}");
            let r = json!({
                "url": format!("{}/ValueSet/{id}", b.base),
                "name": title.replace(' ', ""),
                "title": title,
                "status": "active",
                "compose": {"include": [{
                    "system": system,
                    "concept": concepts.iter().map(|(c, d)| json!({"code": c, "display": d})).collect::<Vec<_>>(),
                }]},
            });
            resource("ValueSet", id, None, at, r)
        })
        .collect()
}
