//! The Standard API's records as OpenEMR's services return them: the
//! store's rows under OpenEMR's column names (strings, as PHP's database
//! layer hands them over).

use serde_json::{json, Value};

use super::super::vitals::{self, Form};
use crate::store::{
    Allergy, Appointment, Data, Document, Drug, Encounter, Facility, Id, Immunization,
    InsuranceCompany, InsurancePolicy, LabResult, Medication, Message, Note, Prescription, Problem,
    Provider, Timestamp, Transaction,
};

pub fn datetime(t: impl Into<Timestamp>) -> String {
    t.into().format("%Y-%m-%d %H:%M:%S").to_string()
}

fn date(d: Option<chrono::NaiveDate>) -> Value {
    d.map_or(Value::Null, |d| Value::String(d.to_string()))
}

fn ext(map: &crate::store::Ext, k: &str) -> String {
    map.get(k).cloned().unwrap_or_default().to_string()
}

fn patient_uuid(d: &Data, pid: Id) -> String {
    d.patients()
        .get(pid)
        .map(|p| p.uuid.clone())
        .unwrap_or_default()
        .to_string()
}

/// The provider's OpenEMR `users.id` (the row id).
pub fn provider_id(d: &Data, provider_no: &str) -> String {
    d.provider(provider_no)
        .map(|p| p.id.to_string())
        .unwrap_or_default()
}

pub fn username(d: &Data, provider_no: &str) -> String {
    d.logins
        .iter()
        .find(|l| l.provider_no == provider_no)
        .map(|l| l.user_name.clone())
        .unwrap_or_default()
        .to_string()
}

pub fn facility_name(d: &Data, id: Option<Id>) -> String {
    id.and_then(|i| d.facilities.get(i))
        .map(|f| f.name.clone())
        .unwrap_or_default()
        .to_string()
}

/// OpenEMR calendar categories are the store's appointment types.
pub fn category_name(d: &Data, catid: &str) -> String {
    catid
        .parse::<Id>()
        .ok()
        .and_then(|i| d.appointment_types.get(i))
        .map(|t| t.name.clone())
        .unwrap_or_default()
        .to_string()
}

pub fn encounter(d: &Data, e: &Encounter) -> Value {
    let catid = ext(&e.ext, "pc_catid");
    let class_title = super::validate::list("_ActEncounterCode")
        .and_then(|l| l.iter().find(|o| o.0 == e.class_code))
        .map(|o| o.1.clone())
        .unwrap_or_default();
    let billing = ext(&e.ext, "billing_facility");
    let billing_name = billing
        .parse::<Id>()
        .ok()
        .map(|i| facility_name(d, Some(i)))
        .unwrap_or_default();
    json!({
        "id": e.id.to_string(),
        "uuid": e.uuid,
        "date": datetime(e.date),
        "reason": e.reason,
        "facility": facility_name(d, e.facility_id.get()),
        "facility_id": e.facility_id.get().map(|i| i.to_string()).unwrap_or_default(),
        "pid": e.patient_id.to_string(),
        "onset_date": ext(&e.ext, "onset_date"),
        "sensitivity": e.sensitivity,
        "billing_note": ext(&e.ext, "billing_note"),
        "pc_catid": catid,
        "last_level_billed": "0",
        "last_level_closed": "0",
        "last_stmt_date": "",
        "stmt_count": "0",
        "provider_id": provider_id(d, &e.provider_no),
        "supervisor_id": "0",
        "invoice_refno": "",
        "referral_source": ext(&e.ext, "referral_source"),
        "billing_facility": billing,
        "external_id": ext(&e.ext, "external_id"),
        "pos_code": ext(&e.ext, "pos_code"),
        "class_code": e.class_code,
        "class_title": class_title,
        "pc_catname": category_name(d, &catid),
        "billing_facility_name": billing_name,
    })
}

/// `ConditionService` / `AllergyIntoleranceService` rows.
pub fn condition(d: &Data, p: &Problem) -> Value {
    json!({
        "id": p.id.to_string(),
        "uuid": p.uuid,
        "type": p.kind,
        "title": p.title,
        "begdate": date(p.begin),
        "enddate": date(p.end),
        "diagnosis": p.diagnosis,
        "comments": p.comments,
        "pid": p.patient_id.to_string(),
        "puuid": patient_uuid(d, p.patient_id),
        "condition_uuid": p.uuid,
    })
}

pub fn allergy(d: &Data, a: &Allergy) -> Value {
    json!({
        "id": a.id.to_string(),
        "uuid": a.uuid,
        "type": "allergy",
        "title": a.description,
        "begdate": date(a.start_date),
        "enddate": ext(&a.ext, "enddate"),
        "diagnosis": ext(&a.ext, "diagnosis"),
        "reaction": a.reaction,
        "severity_al": severity_word(&a.severity),
        "comments": ext(&a.ext, "comments"),
        "pid": a.patient_id.to_string(),
        "puuid": patient_uuid(d, a.patient_id),
        "allergy_uuid": a.uuid,
    })
}

pub fn severity_word(code: &str) -> &'static str {
    match code {
        "1" => "mild",
        "2" => "moderate",
        "3" => "severe",
        _ => "unassigned",
    }
}

/// `ListService` rows (`lists` table): medication, surgery, dental.
/// `dates` is the row's (begin, end).
pub fn list_row(
    id: Id,
    kind: &str,
    title: &str,
    dates: (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>),
    diagnosis: &str,
    pid: Id,
    at: &Timestamp,
) -> Value {
    json!({
        "id": id.to_string(),
        "date": datetime(*at),
        "type": kind,
        "title": title,
        "begdate": date(dates.0).as_str().map(|s| format!("{s} 00:00:00")),
        "enddate": date(dates.1).as_str().map(|s| format!("{s} 00:00:00")),
        "diagnosis": diagnosis,
        "activity": "1",
        "comments": "",
        "pid": pid.to_string(),
        "user": "",
        "groupname": "",
        "outcome": "0",
        "destination": "",
        "reaction": "",
        "external_allergyid": null,
        "erx_source": "0",
        "erx_uploaded": "0",
        "modifydate": datetime(*at),
    })
}

pub fn medication_row(m: &Medication) -> Value {
    list_row(
        m.id,
        "medication",
        &medication_title(m),
        (m.start_date, m.end_date),
        &ext(&m.ext, "diagnosis"),
        m.patient_id,
        &m.last_update.get(),
    )
}

pub fn medication_title(m: &Medication) -> String {
    if !m.brand_name.is_empty() {
        m.brand_name.to_string()
    } else {
        m.generic_name.to_string()
    }
}

pub fn problem_row(p: &Problem) -> Value {
    let kind = if p.kind == "dental" {
        "dental"
    } else {
        p.kind.as_str()
    };
    list_row(
        p.id,
        kind,
        &p.title,
        (p.begin, p.end),
        &p.diagnosis,
        p.patient_id,
        &p.last_update.get(),
    )
}

/// A `form_vitals` row.
pub fn vital(d: &Data, f: &Form<'_>) -> Value {
    let first = f.rows.first();
    let provider = first.map(|m| m.provider_no.clone()).unwrap_or_default();
    let temp_method = f
        .rows
        .iter()
        .find(|m| m.kind == "TEMP")
        .map(|m| m.instruction.clone())
        .unwrap_or_default();
    let note = f
        .rows
        .iter()
        .map(|m| m.comments.as_str())
        .find(|c| !c.is_empty())
        .unwrap_or("")
        .to_owned();
    let field = |name: &str| Value::String(vitals::field_value(f, name));
    json!({
        "id": f.vid.to_string(),
        "uuid": first.map(|m| m.uuid.clone()).unwrap_or_default(),
        "date": datetime(f.observed),
        "pid": f.patient.to_string(),
        "eid": f.encounter.to_string(),
        "form_id": f.vid.to_string(),
        "user": username(d, &provider),
        "groupname": "Default",
        "authorized": "1",
        "activity": "1",
        "bps": field("bps"),
        "bpd": field("bpd"),
        "weight": field("weight"),
        "height": field("height"),
        "temperature": field("temperature"),
        "temp_method": temp_method,
        "pulse": field("pulse"),
        "respiration": field("respiration"),
        "note": note,
        "BMI": field("BMI"),
        "BMI_status": "",
        "waist_circ": field("waist_circ"),
        "head_circ": field("head_circ"),
        "oxygen_saturation": field("oxygen_saturation"),
        "external_id": "",
    })
}

/// A `form_soap` row.
pub fn soap_note(d: &Data, n: &Note) -> Value {
    json!({
        "id": n.id.to_string(),
        "date": datetime(n.observed),
        "pid": n.patient_id.to_string(),
        "eid": n.encounter_id.get().map(|e| e.to_string()).unwrap_or_default(),
        "form_id": n.id.to_string(),
        "user": username(d, &n.provider_no),
        "groupname": "Default",
        "authorized": "1",
        "activity": "1",
        "subjective": n.subjective,
        "objective": n.objective,
        "assessment": n.assessment,
        "plan": n.plan,
    })
}

pub fn practitioner(d: &Data, p: &Provider) -> Value {
    let e = |k: &str| ext(&p.ext, k);
    json!({
        "id": p.id.to_string(),
        "uuid": p.uuid,
        "title": p.title,
        "fname": p.first_name,
        "lname": p.last_name,
        "mname": e("mname"),
        "federaltaxid": e("federaltaxid"),
        "federaldrugid": e("federaldrugid"),
        "upin": e("upin"),
        "facility_id": p.facility_id.get().map(|i| i.to_string()).unwrap_or_default(),
        "facility": facility_name(d, p.facility_id.get()),
        "npi": p.npi,
        "email": p.email,
        "active": if p.is_active() { "1" } else { "0" },
        "specialty": p.specialty,
        "billname": e("billname"),
        "url": e("url"),
        "assistant": e("assistant"),
        "organization": e("organization"),
        "valedictory": e("valedictory"),
        "street": e("street"),
        "streetb": e("streetb"),
        "city": e("city"),
        "state": e("state"),
        "zip": e("zip"),
        "phone": p.phone,
        "fax": e("fax"),
        "phonew1": p.work_phone,
        "phonecell": e("phonecell"),
        "notes": p.comments,
        "state_license_number": p.practitioner_no,
        "abook_title": "",
        "physician_title": if p.provider_type == "doctor" { "Physician" } else { "" },
        "physician_code": "",
        "username": username(d, &p.provider_no),
    })
}

/// `UserService` rows.
pub fn user(d: &Data, p: &Provider) -> Value {
    let mut v = practitioner(d, p);
    if let Value::Object(m) = &mut v {
        m.insert(
            "authorized".into(),
            json!(if p.provider_type == "doctor" {
                "1"
            } else {
                "0"
            }),
        );
        m.insert("see_auth".into(), json!("1"));
        m.insert(
            "calendar".into(),
            json!(if p.provider_type == "doctor" {
                "1"
            } else {
                "0"
            }),
        );
    }
    v
}

pub fn facility(f: &Facility) -> Value {
    let e = |k: &str| ext(&f.ext, k);
    json!({
        "id": f.id.to_string(),
        "uuid": f.uuid,
        "name": f.name,
        "phone": f.phone,
        "fax": f.fax,
        "street": f.address.street,
        "city": f.address.city,
        "state": f.address.province,
        "postal_code": f.address.postal,
        "country_code": f.address.country,
        "federal_ein": e("federal_ein"),
        "website": e("website"),
        "email": f.email,
        "service_location": e("service_location"),
        "billing_location": e("billing_location"),
        "accepts_assignment": e("accepts_assignment"),
        "pos_code": e("pos_code"),
        "x12_sender_id": "",
        "attn": e("attn"),
        "domain_identifier": e("domain_identifier"),
        "facility_npi": f.npi,
        "facility_taxonomy": e("facility_taxonomy"),
        "tax_id_type": e("tax_id_type"),
        "color": e("color"),
        "primary_business_entity": if f.primary { "1" } else { "0" },
        "facility_code": e("facility_code"),
        "extra_validation": "1",
        "oid": e("oid"),
        "iban": e("iban"),
        "info": "",
        "inactive": if f.active { "0" } else { "1" },
    })
}

/// OpenEMR `apptstat` codes from the store's (OSCAR's) status codes.
pub fn appointment_status(code: &str) -> String {
    match code {
        "t" => "-",
        "H" => "@",
        "P" => "<",
        "C" => "x",
        "N" => "?",
        "E" => ">",
        "B" => "$",
        other => other,
    }
    .to_owned()
}

/// The store's status code for an OpenEMR `apptstat` code.
pub fn appointment_status_code(apptstat: &str) -> String {
    match apptstat {
        "-" => "t",
        "@" => "H",
        "<" => "P",
        "x" => "C",
        "?" => "N",
        ">" => "E",
        "$" => "B",
        other => other,
    }
    .to_owned()
}

/// `AppointmentService` rows.
pub fn appointment(d: &Data, a: &Appointment) -> Value {
    let provider = d.provider(&a.provider_no);
    let patient = a.patient.get().and_then(|p| d.patients().get(p));
    let catid = d
        .appointment_types
        .iter()
        .find(|t| t.name == a.kind)
        .map(|t| t.id.to_string())
        .unwrap_or_else(|| ext(&a.ext, "pc_catid"));
    let duration = (a.end - a.start).num_seconds().max(0);
    json!({
        "pc_eid": a.id.to_string(),
        "pc_uuid": a.uuid,
        "pc_catid": catid,
        "pc_aid": provider.map(|p| p.id.to_string()).unwrap_or_default(),
        "pc_pid": a.patient.get().map(|p| p.to_string()).unwrap_or_default(),
        "pc_title": a.kind,
        "pc_time": datetime(a.created),
        "pc_hometext": a.notes,
        "pc_eventDate": a.date.to_string(),
        "pc_endDate": a.date.to_string(),
        "pc_duration": duration.to_string(),
        "pc_startTime": a.start.format("%H:%M:%S").to_string(),
        "pc_endTime": a.end.format("%H:%M:%S").to_string(),
        "pc_apptstatus": appointment_status(&a.status),
        "pc_facility": a.facility_id.get().map(|i| i.to_string()).unwrap_or_default(),
        "pc_billing_location": ext(&a.ext, "pc_billing_location"),
        "pc_room": ext(&a.ext, "pc_room"),
        "facility_name": facility_name(d, a.facility_id.get()),
        "pce_aid_fname": provider.map(|p| p.first_name.clone()).unwrap_or_default(),
        "pce_aid_lname": provider.map(|p| p.last_name.clone()).unwrap_or_default(),
        "pce_aid_uuid": provider.map(|p| p.uuid.clone()).unwrap_or_default(),
        "fname": patient.map(|p| p.first_name.clone()).unwrap_or_default(),
        "lname": patient.map(|p| p.last_name.clone()).unwrap_or_default(),
        "DOB": patient.and_then(|p| p.birth_date).map(|d| d.to_string()).unwrap_or_default(),
        "pid": a.patient.get().map(|p| p.to_string()).unwrap_or_default(),
        "puuid": patient.map(|p| p.uuid.clone()).unwrap_or_default(),
    })
}

/// A `pnotes` row.
pub fn message(d: &Data, m: &Message) -> Value {
    json!({
        "id": m.id.to_string(),
        "date": datetime(m.created),
        "body": m.body,
        "pid": m.patient.get().map(|p| p.to_string()).unwrap_or_default(),
        "user": m.from,
        "groupname": ext(&m.ext, "groupname"),
        "activity": "1",
        "authorized": "1",
        "title": m.subject,
        "assigned_to": m.to,
        "deleted": "0",
        "message_status": m.status,
        "puuid": m.patient.get().map(|p| patient_uuid(d, p)).unwrap_or_default(),
    })
}

pub fn document(d: &Data, doc: &Document) -> Value {
    json!({
        "id": doc.id.to_string(),
        "uuid": doc.uuid,
        "filename": doc.file_name,
        "mimetype": doc.content_type,
        "docdate": doc.observed.map(|d| d.to_string()).unwrap_or_default(),
        "category": doc.category,
        "description": doc.description,
        "size": doc.content.len().to_string(),
        "date": datetime(doc.created),
        "owner": provider_id(d, &doc.provider_no),
    })
}

pub fn immunization(d: &Data, i: &Immunization) -> Value {
    let e = |k: &str| ext(&i.ext, k);
    json!({
        "id": i.id.to_string(),
        "uuid": i.uuid,
        "patient_id": i.patient_id.to_string(),
        "puuid": patient_uuid(d, i.patient_id),
        "administered_date": i.date.map(|d| format!("{d} 00:00:00")).unwrap_or_default(),
        "immunization_id": "",
        "cvx_code": i.cvx,
        "cvx_code_text": i.kind,
        "manufacturer": e("manufacturer"),
        "lot_number": e("lot"),
        "administered_by_id": provider_id(d, &i.provider_no),
        "administered_by": "",
        "education_date": "",
        "vis_date": "",
        "note": e("comments"),
        "create_date": datetime(i.created),
        "update_date": datetime(i.last_update),
        "created_by": provider_id(d, &i.creator),
        "updated_by": provider_id(d, &i.creator),
        "amount_administered": e("dose"),
        "amount_administered_unit": e("dose_unit"),
        "expiration_date": e("expiration_date"),
        "route": e("route"),
        "administration_site": e("location"),
        "added_erroneously": if i.deleted { "1" } else { "0" },
        "external_id": "",
        "completion_status": if i.refused { "Refused" } else { "Completed" },
        "information_source": "new_immunization_record",
        "refusal_reason": if i.refused { "Patient decision" } else { "" },
        "ordering_provider": provider_id(d, &i.provider_no),
    })
}

/// `ProcedureService` rows: a procedure order with its results.
pub fn procedure(d: &Data, l: &LabResult) -> Value {
    let e = |k: &str| ext(&l.ext, k);
    json!({
        "uuid": l.uuid,
        "order_id": l.id.to_string(),
        "patient_id": l.patient.get().map(|p| p.to_string()).unwrap_or_default(),
        "puuid": l.patient.get().map(|p| patient_uuid(d, p)).unwrap_or_default(),
        "provider_id": provider_id(d, &l.provider_no),
        "date_ordered": l.observed.map(datetime).unwrap_or_default(),
        "order_status": if l.status == "F" { "complete" } else { "pending" },
        "procedure_code": e("code"),
        "procedure_name": e("display"),
        "accession_number": l.accession,
        "specimen_type": e("specimen"),
        "results": [{
            "result_code": e("result_code"),
            "result_text": e("result_display"),
            "result": e("value"),
            "units": e("unit"),
            "date": l.observed.map(datetime).unwrap_or_default(),
            "result_status": "final",
        }],
    })
}

pub fn drug(dr: &Drug) -> Value {
    json!({
        "drug_id": dr.id.to_string(),
        "uuid": dr.uuid,
        "name": dr.name,
        "ndc_number": dr.ndc,
        "form": dr.form,
        "size": dr.size,
        "unit": dr.unit,
        "route": dr.route,
        "related_code": format!("RXCUI:{}", dr.rxnorm),
        "active": if dr.active { "1" } else { "0" },
    })
}

/// `PrescriptionService` rows: the script and the drug written on it.
pub fn prescription(d: &Data, p: &Prescription) -> Value {
    let med = d
        .medications
        .for_patient(p.patient_id)
        .find(|m| m.script_no == Some(p.id));
    let drug_id = med
        .and_then(|m| {
            d.drugs
                .iter()
                .find(|dr| dr.rxnorm == m.rxnorm && !m.rxnorm.is_empty())
        })
        .map(|dr| dr.id.to_string())
        .unwrap_or_default();
    json!({
        "id": p.id.to_string(),
        "uuid": p.uuid,
        "patient_id": p.patient_id.to_string(),
        "puuid": patient_uuid(d, p.patient_id),
        "drug": med.map(medication_title).unwrap_or_else(|| p.text.to_string()),
        "drug_id": drug_id,
        "rxnorm_drugcode": med.map(|m| m.rxnorm.clone()).unwrap_or_default(),
        "dosage": med.map(|m| m.dosage.clone()).unwrap_or_default(),
        "quantity": med.map(|m| m.quantity.clone()).unwrap_or_default(),
        "route": med.map(|m| m.route.clone()).unwrap_or_default(),
        "interval": med.map(|m| m.frequency.clone()).unwrap_or_default(),
        "refills": med.map(|m| m.repeats.to_string()).unwrap_or_default(),
        "start_date": date(p.date_prescribed),
        "date_added": datetime(p.created),
        "provider_id": provider_id(d, &p.provider_no),
        "active": if med.is_some_and(|m| m.archived) { "0" } else { "1" },
        "note": p.comments,
    })
}

pub fn insurance_company(c: &InsuranceCompany) -> Value {
    json!({
        "id": c.id.to_string(),
        "uuid": c.uuid,
        "name": c.name,
        "attn": c.attn,
        "cms_id": c.cms_id,
        "ins_type_code": c.ins_type_code,
        "x12_receiver_id": c.x12_receiver_id,
        "x12_default_partner_id": c.x12_default_partner_id,
        "alt_cms_id": c.alt_cms_id,
        "inactive": "0",
        "line1": c.address.street,
        "line2": "",
        "city": c.address.city,
        "state": c.address.province,
        "zip": c.address.postal,
        "country": c.address.country,
    })
}

pub fn insurance(d: &Data, i: &InsurancePolicy) -> Value {
    let mut v = json!({
        "id": i.id.to_string(),
        "uuid": i.uuid,
        "type": i.kind,
        "provider": i.company_id.to_string(),
        "plan_name": i.plan_name,
        "policy_number": i.policy_number,
        "group_number": i.group_number,
        "subscriber_relationship": i.relationship,
        "copay": i.copay,
        "date": date(i.start),
        "date_end": date(i.end),
        "accept_assignment": i.accept_assignment,
        "policy_type": i.policy_type,
        "pid": i.patient_id.to_string(),
        "puuid": patient_uuid(d, i.patient_id),
    });
    if let Value::Object(m) = &mut v {
        for key in [
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
        ] {
            m.insert(key.into(), json!(ext(&i.subscriber, key)));
        }
    }
    v
}

/// `PatientTransactionService` rows.
pub fn transaction(d: &Data, t: &Transaction) -> Value {
    let f = |k: &str| ext(&t.fields, k);
    let _ = d;
    json!({
        "form_id": t.id.to_string(),
        "title": t.kind,
        "groupname": t.groupname,
        "authorized": "1",
        "body": t.body,
        "refer_date": f("refer_date"),
        "refer_diag": f("refer_diag"),
        "refer_from": f("refer_from"),
        "refer_to": f("refer_to"),
        "refer_risk_level": f("refer_risk_level"),
        "refer_vitals": f("refer_vitals"),
        "refer_authorization": f("refer_authorization"),
        "refer_visits": f("refer_visits"),
        "refer_validFrom": f("refer_validFrom"),
        "refer_validThrough": f("refer_validThrough"),
    })
}
