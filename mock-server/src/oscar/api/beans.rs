//! The store's clinical rows as Java beans: one JSON object per row that
//! carries every property any OSCAR transfer class reads from it
//! (`DemographicTo1`, `DemographicSearchResult`, `PatientListApptItemBean`
//! all read the same patient bean). The renderer keeps only the
//! properties the response's class declares, so the mapping is written
//! once per entity, not once per class.

use chrono::{Datelike, NaiveDate, NaiveTime};
use serde_json::{json, Map, Value};

use crate::store::{
    Allergy, Appointment, AppointmentType, Data, Document, Id, Immunization, LabResult,
    Measurement, Medication, Message, Note, Patient, Prescription, Problem, Program, Provider,
    ScheduleCode, Tickler, Timestamp,
};

fn date(d: Option<NaiveDate>) -> Value {
    d.map_or(Value::Null, |d| Value::String(d.to_string()))
}

fn at(t: Timestamp) -> Value {
    Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

fn day_time(d: NaiveDate, t: NaiveTime) -> Value {
    Value::String(format!("{}T{}Z", d, t.format("%H:%M:%S")))
}

fn non_empty(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_owned())
    }
}

/// Years, months and days between two dates, as OSCAR's `AgeTo1`.
pub fn age(birth: NaiveDate, today: NaiveDate) -> Value {
    let mut years = today.year() - birth.year();
    let mut months = today.month() as i32 - birth.month() as i32;
    let mut days = today.day() as i32 - birth.day() as i32;
    if days < 0 {
        months -= 1;
        let prev = today
            .with_day(1)
            .and_then(|d| d.pred_opt())
            .map_or(30, |d| d.day() as i32);
        days += prev;
    }
    if months < 0 {
        years -= 1;
        months += 12;
    }
    json!({"years": years, "months": months, "days": days})
}

pub fn sex_desc(sex: &str) -> &'static str {
    match sex {
        "M" => "Male",
        "F" => "Female",
        "T" => "Transgender",
        "O" => "Other",
        "U" => "Undefined",
        _ => "",
    }
}

/// A patient as `DemographicTo1` / `DemographicSearchResult` read it.
pub fn patient(d: &Data, p: &Patient, today: NaiveDate) -> Value {
    let provider = d.provider(&p.provider_no);
    let (dob_y, dob_m, dob_d) =
        p.birth_date
            .map_or((String::new(), String::new(), String::new()), |b| {
                (
                    format!("{:04}", b.year()),
                    format!("{:02}", b.month()),
                    format!("{:02}", b.day()),
                )
            });
    let ext = |k: &str| {
        p.ext
            .get(k)
            .map(ToString::to_string)
            .map_or(Value::Null, Value::String)
    };
    json!({
        "demographicNo": p.id,
        "title": p.title,
        "firstName": p.first_name,
        "lastName": p.last_name,
        "middleNames": p.middle_name,
        "alias": p.alias,
        "displayName": p.display_name(),
        "sex": p.sex,
        "sexDesc": sex_desc(&p.sex),
        "dateOfBirth": date(p.birth_date),
        "dob": date(p.birth_date),
        "formattedDOB": p.birth_date.map(|b| b.to_string()),
        "dobYear": dob_y,
        "dobMonth": dob_m,
        "dobDay": dob_d,
        "hin": p.hin,
        "ver": p.hin_version,
        "hcType": p.hc_type,
        "hcRenewDate": date(p.hc_renew_date),
        "effDate": date(p.date_joined),
        "chartNo": p.chart_no,
        "address": {"address": p.address.street, "city": p.address.city, "province": p.address.province, "postal": p.address.postal},
        "previousAddress": {"address": "", "city": null, "province": null, "postal": null},
        "phone": p.phone_home,
        "alternativePhone": p.phone_work,
        "cellPhone": p.phone_cell,
        "phoneComment": ext("phoneComment"),
        "email": p.email,
        "patientStatus": p.status,
        "patientStatusDate": date(p.status_date),
        "rosterStatus": p.roster_status,
        "rosterDate": date(p.roster_date),
        "rosterTerminationDate": date(p.end_date.filter(|_| p.roster_status == "TE")),
        "rosterTerminationReason": ext("rosterTerminationReason"),
        "providerNo": p.provider_no,
        "providerName": provider.map(|pr| format!("{}, {}", pr.last_name, pr.first_name)),
        "provider": provider.map(provider_bean),
        "familyDoctor": ext("familyDoctor").as_str().map_or_else(|| "<rdohip></rdohip><rd></rd>".to_owned(), str::to_owned),
        "officialLanguage": p.official_language,
        "spokenLanguage": p.spoken_language,
        "dateJoined": date(p.date_joined),
        "endDate": date(p.end_date),
        "sin": p.sin,
        "gender": p.gender,
        "pronoun": p.pronoun,
        "countryOfOrigin": ext("countryOfOrigin").as_str().unwrap_or("-1"),
        "newsletter": ext("newsletter").as_str().unwrap_or("U"),
        "citizenship": ext("citizenship"),
        "sourceOfIncome": ext("sourceOfIncome"),
        "children": ext("children"),
        "anonymous": ext("anonymous"),
        "pcnIndicator": ext("pcnIndicator"),
        "links": ext("links"),
        "activeCount": if p.is_active() { 1 } else { 0 },
        "hsAlertCount": 0,
        "lastUpdateUser": p.last_update_user,
        "lastUpdateDate": at(p.last_update),
        "age": p.birth_date.map(|b| age(b, today)),
        "extras": [],
        "demoContacts": [],
        "demoContactPros": [],
        "doctors": [],
        "nurses": [],
        "midwives": [],
        "referralDoctors": [],
        "waitingListNames": [],
        "patientStatusList": [],
        "rosterStatusList": [],
    })
}

/// A provider as `ProviderTo1` (and the `Provider` entity beans) read it.
pub fn provider_bean(p: &Provider) -> Value {
    let ext = |k: &str| p.ext.get(k).cloned().unwrap_or_default();
    json!({
        "providerNo": p.provider_no,
        "id": p.provider_no,
        "lastName": p.last_name,
        "firstName": p.first_name,
        "name": format!("{}, {}", p.last_name, p.first_name),
        "formattedName": format!("{}, {}", p.last_name, p.first_name),
        "fullName": format!("{} {}", p.first_name, p.last_name),
        "comments": p.comments,
        "phone": p.phone,
        "billingNo": p.billing_no,
        "workPhone": p.work_phone,
        "address": {"address": p.address, "city": null, "province": null, "postal": null},
        "team": p.team,
        "providerType": p.provider_type,
        "sex": non_empty(&p.sex),
        "ohipNo": p.ohip_no,
        "specialty": p.specialty,
        "dob": date(p.birth_date),
        "hsoNo": ext("hso_no"),
        "providerActivity": ext("provider_activity"),
        "rmaNo": ext("rma_no"),
        "signedConfidentiality": null,
        "practitionerNo": p.practitioner_no,
        "practitionerNoType": "CPSO",
        "email": p.email,
        "title": p.title,
        "status": p.status,
        "enabled": p.is_active(),
        "lastUpdateUser": "999998",
        "lastUpdateDate": at(p.last_update),
    })
}

/// An appointment as `AppointmentTo1`, `PatientListApptItemBean`,
/// `AppointmentExtTo` and `ProviderPeriodAppsTo` read it.
pub fn appointment(d: &Data, a: &Appointment) -> Value {
    let patient = a.patient.and_then(|id| d.patients().get(id));
    let minutes = (a.end - a.start).num_minutes();
    json!({
        "id": a.id,
        "appointmentNo": a.id,
        "providerNo": a.provider_no,
        "appointmentDate": a.date.to_string(),
        "date": a.date.to_string(),
        "startTime": day_time(a.date, a.start),
        "endTime": day_time(a.date, a.end),
        "startTimeText": a.start.format("%H:%M").to_string(),
        "name": a.name,
        "demographicNo": a.patient.unwrap_or(0),
        "programId": a.program_id,
        "notes": a.notes,
        "reason": a.reason,
        "location": a.location,
        "resources": a.resources,
        "type": a.kind,
        "style": a.style,
        "billing": a.billing,
        "status": a.status,
        "importedStatus": null,
        "createDateTime": at(a.created),
        "updateDateTime": at(a.last_update),
        "creator": a.creator,
        "lastUpdateUser": a.last_update_user,
        "remarks": a.remarks,
        "urgency": a.urgency,
        "bookingSource": a.booking_source,
        "reasonCode": null,
        "duration": minutes.to_string(),
        "lastName": patient.map(|p| p.last_name.clone()),
        "firstName": patient.map(|p| p.first_name.clone()),
        "phone": patient.map(|p| p.phone_home.clone()),
        "phone2": patient.map(|p| p.phone_work.clone()),
        "email": patient.map(|p| p.email.clone()),
        "demoCell": patient.map(|p| p.phone_cell.clone()),
        "reminderPreference": null,
        "updateDatetime": a.last_update.timestamp_millis(),
    })
}

pub fn appointment_type(t: &AppointmentType) -> Value {
    json!({
        "id": t.id, "name": t.name, "notes": t.notes, "reason": t.reason,
        "location": t.location, "resources": t.resources, "duration": t.duration_min,
    })
}

pub fn schedule_code(c: &ScheduleCode) -> Value {
    json!({
        "id": null, "code": c.code.to_string(), "description": c.description,
        "duration": c.duration_min.to_string(), "color": c.color,
        "confirm": if c.confirm == "Yes" { "Y" } else { "N" }, "bookinglimit": c.booking_limit,
    })
}

pub fn allergy(a: &Allergy) -> Value {
    json!({
        "id": a.id, "demographicNo": a.patient_id, "entryDate": date(a.entry_date),
        "description": a.description, "reaction": a.reaction, "archived": a.archived,
        "typeCode": a.type_code, "startDate": date(a.start_date), "lifeStage": non_empty(&a.life_stage),
        "severityOfReaction": a.severity, "onsetOfReaction": a.onset, "position": 0,
        "lastUpdateDate": at(a.last_update), "providerNo": a.provider_no,
    })
}

pub fn measurement(m: &Measurement) -> Value {
    json!({
        "id": m.id, "type": m.kind, "demographicId": m.patient_id, "providerNo": m.provider_no,
        "dataField": m.value, "measuringInstruction": m.instruction, "comments": m.comments,
        "dateObserved": at(m.observed), "appointmentNo": m.appointment_id.unwrap_or(0),
        "createDate": at(m.created),
    })
}

pub fn prevention(i: &Immunization) -> Value {
    json!({
        "id": i.id, "demographicId": i.patient_id, "preventionDate": date(i.date),
        "providerNo": i.provider_no, "preventionType": i.kind, "deleted": i.deleted,
        "refused": i.refused, "never": i.never, "ineligible": false, "nextDate": date(i.next_date),
        "creatorProviderNo": i.creator, "lastUpdateDate": at(i.last_update),
        "creationDate": at(i.created), "deletedRawValue": if i.deleted { "1" } else { "0" },
    })
}

pub fn drug(m: &Medication) -> Value {
    let (take, unit) = m.dosage.split_once(' ').unwrap_or((m.dosage.as_str(), ""));
    json!({
        "drugId": m.id, "brandName": m.brand_name, "genericName": m.generic_name,
        "customName": null, "atc": m.atc, "regionalIdentifier": m.din,
        "demographicNo": m.patient_id, "providerNo": m.provider_no,
        "takeMin": 1.0, "takeMax": 1.0, "rxDate": date(m.start_date), "endDate": date(m.end_date),
        "writtenDate": date(m.start_date), "frequency": m.frequency, "duration": m.end_date.zip(m.start_date).map(|(e, s)| (e - s).num_days()),
        "durationUnit": "D", "route": m.route, "form": null, "method": "Take", "prn": m.frequency == "PRN",
        "repeats": m.repeats, "quantity": m.quantity.parse::<i64>().ok(), "instructions": m.instructions,
        "additionalInstructions": null, "archived": m.archived, "archivedReason": non_empty(&m.archived_reason),
        "archivedDate": null, "strength": take.parse::<f64>().ok(), "strengthUnit": non_empty(unit),
        "externalProvider": null, "longTerm": m.long_term, "noSubstitutions": false,
        "scriptNo": m.script_no,
    })
}

pub fn prescription(p: &Prescription) -> Value {
    json!({
        "scriptId": p.id, "demographicNo": p.patient_id, "providerNo": p.provider_no.parse::<i64>().ok(),
        "datePrescribed": date(p.date_prescribed), "datePrinted": p.printed.map(at),
        "textView": p.text, "reprintCount": if p.printed.is_some() { 1 } else { 0 },
    })
}

pub fn note(n: &Note, d: &Data) -> Value {
    let provider = d.provider(&n.provider_no);
    json!({
        "noteId": n.id, "uuid": n.uuid, "isSigned": n.signed, "isVerified": false,
        "observationDate": at(n.observed), "updateDate": at(n.last_update), "revision": "1",
        "providerNo": n.provider_no,
        "providerName": provider.map(|p| format!("{}, {}", p.last_name, p.first_name)),
        "status": if n.signed { "Signed" } else { "Unsigned" }, "programName": "OSCAR",
        "location": "", "roleName": "doctor", "note": n.text, "archived": n.archived,
        "document": false, "rxAnnotation": false, "eformData": false, "encounterForm": false,
        "invoice": false, "ticklerNote": false, "encounterType": "", "readOnly": false,
        "groupNote": false, "cpp": false, "locked": false, "hasHistory": false,
        "editorNames": [], "issueDescriptions": [], "assignedIssues": [],
        "appointmentNo": null, "demographicNo": n.patient_id,
    })
}

pub fn tickler(t: &Tickler, d: &Data) -> Value {
    let name = |no: &str| {
        d.provider(no)
            .map(|p| format!("{}, {}", p.last_name, p.first_name))
    };
    let patient = t.patient.and_then(|id| d.patients().get(id));
    json!({
        "id": t.id, "demographicNo": t.patient, "programId": t.program_id, "message": t.message,
        "status": t.status, "updateDate": at(t.last_update), "serviceDate": at(t.service_date),
        "creator": t.creator, "priority": t.priority, "taskAssignedTo": t.assignee,
        "demographicName": patient.map(Patient::display_name),
        "creatorName": name(&t.creator), "taskAssignedToName": name(&t.assignee),
        "statusName": match t.status.as_str() { "A" => "Active", "C" => "Completed", "D" => "Deleted", _ => "" },
        "ticklerLinks": [], "ticklerUpdates": [],
        "ticklerComments": t.comments.iter().map(|(when, who, text)| json!({
            "message": text, "providerNo": who, "updateDate": at(*when), "providerName": name(who),
        })).collect::<Vec<_>>(),
        "program": null,
    })
}

pub fn document(doc: &Document) -> Value {
    json!({
        "id": doc.id, "documentNo": doc.id, "type": doc.category, "docClass": "", "subClass": "",
        "description": doc.description, "xml": "", "fileName": doc.file_name,
        "creator": doc.provider_no, "responsible": doc.responsible_no, "source": doc.source,
        "sourceFacility": "", "programId": -1, "updateDateTime": at(doc.last_update),
        "status": if doc.status.is_empty() { "A".to_owned() } else { doc.status.to_string() },
        "contentType": doc.content_type, "contentDateTime": at(doc.created), "reportMedia": null,
        "sentDateTime": null, "public1": 0, "observationDate": date(doc.observed),
        "numberOfPages": 1, "appointmentNo": -1, "abnormal": false, "restrictToProgram": false,
        "reviews": [], "queue": null, "providerNo": null, "demographicNo": doc.patient,
        "fileContents": null,
    })
}

pub fn lab(l: &LabResult, d: &Data) -> Value {
    let patient = l.patient.and_then(|id| d.patients().get(id));
    json!({
        "id": l.id, "fileUploadCheckId": l.id + 8, "base64EncodedeMessage": null,
        "type": l.lab_type, "serviceName": l.lab_type, "created": at(l.created), "fileName": l.file_name,
        "demographicNo": l.patient, "demographicName": patient.map(Patient::display_name),
        "hin": patient.map(|p| p.hin.clone()),
        "discipline": l.accession, "source": l.lab_type,
        "dateReceived": l.observed.unwrap_or(l.created).format("%Y-%m-%d %H:%M:%S").to_string(),
        "status": if l.status.is_empty() { "Final".to_owned() } else { l.status.to_string() },
        "priority": "Routine",
    })
}

pub fn message(m: &Message, d: &Data) -> Value {
    let patient = m.patient.and_then(|id| d.patients().get(id));
    let from = d
        .provider(&m.from)
        .map(|p| format!("{} {}", p.first_name, p.last_name));
    json!({
        "id": m.id, "fromName": from.unwrap_or_else(|| m.from.to_string()), "subject": m.subject,
        "dateOfMessage": m.created.format("%Y-%m-%d").to_string(), "demographicNo": m.patient,
        "demographicName": patient.map(Patient::display_name), "message": m.body, "status": m.status,
    })
}

pub fn problem(p: &Problem) -> Value {
    let code = p
        .diagnosis
        .split_once(':')
        .map_or(p.diagnosis.as_str(), |(_, c)| c);
    json!({
        "id": p.id, "code": code, "codingSystem": "icd10", "description": p.title,
        "demographicNo": p.patient_id, "startDate": date(p.begin), "status": "A",
    })
}

pub fn program(p: &Program) -> Value {
    json!({
        "id": p.id, "name": p.name, "description": p.description, "type": p.program_type,
        "facilityId": p.facility_id, "programStatus": if p.active { "active" } else { "inactive" },
        "userDefined": true, "holdingTank": false, "allowBatchAdmission": false,
        "allowBatchDischarge": false, "hic": false, "transgender": false, "firstNation": false,
        "alcohol": false, "physicalHealth": false, "mentalHealth": false, "housing": false,
        "lastUpdateDate": at(p.last_update),
    })
}

/// The beans of a typed collection of the store, for the generic kinds:
/// `(id, patient, bean)`.
pub fn typed(d: &Data, coll: &str, today: NaiveDate) -> Option<Vec<(Id, Option<Id>, Value)>> {
    Some(match coll {
        "patients" => d
            .patients()
            .iter()
            .map(|p| (p.id, Some(p.id), patient(d, p, today)))
            .collect(),
        "providers" => d
            .providers
            .iter()
            .map(|p| (p.id, None, provider_bean(p)))
            .collect(),
        "appointments" => d
            .appointments()
            .iter()
            .map(|a| (a.id, a.patient, appointment(d, a)))
            .collect(),
        "appointmentTypes" => d
            .appointment_types
            .iter()
            .map(|t| (t.id, None, appointment_type(t)))
            .collect(),
        "scheduleCodes" => d
            .schedule_codes
            .iter()
            .map(|c| (c.id, None, schedule_code(c)))
            .collect(),
        "allergies" => d
            .allergies
            .iter()
            .map(|a| (a.id, Some(a.patient_id), allergy(a)))
            .collect(),
        "measurements" => d
            .measurements
            .iter()
            .map(|m| (m.id, Some(m.patient_id), measurement(m)))
            .collect(),
        "preventions" => d
            .immunizations
            .iter()
            .map(|i| (i.id, Some(i.patient_id), prevention(i)))
            .collect(),
        "drugs" => d
            .medications
            .iter()
            .map(|m| (m.id, Some(m.patient_id), drug(m)))
            .collect(),
        "prescriptions" => d
            .prescriptions
            .iter()
            .map(|p| (p.id, Some(p.patient_id), prescription(p)))
            .collect(),
        "notes" => d
            .notes
            .iter()
            .map(|n| (n.id, Some(n.patient_id), note(n, d)))
            .collect(),
        "tickler" | "ticklers" => d
            .ticklers
            .iter()
            .map(|t| (t.id, t.patient, tickler(t, d)))
            .collect(),
        "documents" => d
            .documents
            .iter()
            .map(|x| (x.id, x.patient, document(x)))
            .collect(),
        "labs" => d
            .labs
            .iter()
            .map(|l| (l.id, l.patient, lab(l, d)))
            .collect(),
        "messages" => d
            .messages
            .iter()
            .map(|m| (m.id, m.patient, message(m, d)))
            .collect(),
        "problems" => d
            .problems
            .iter()
            .map(|p| (p.id, Some(p.patient_id), problem(p)))
            .collect(),
        "programs" => d
            .programs
            .iter()
            .map(|p| (p.id, None, program(p)))
            .collect(),
        _ => return None,
    })
}

/// Merges `patch` into `base` (shallow), ignoring nulls.
pub fn merge(base: &mut Map<String, Value>, patch: &Value) {
    if let Value::Object(p) = patch {
        for (k, v) in p {
            if !v.is_null() {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}
