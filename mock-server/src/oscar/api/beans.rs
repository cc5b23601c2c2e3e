//! The store's clinical rows as Java beans: one JSON object per row that
//! carries every property any OSCAR transfer class reads from it
//! (`DemographicTo1`, `DemographicSearchResult`, `PatientListApptItemBean`
//! all read the same patient bean). The renderer keeps only the
//! properties the response's class declares, so the mapping is written
//! once per entity, not once per class.

use chrono::{Datelike, NaiveDate, NaiveTime};
use serde_json::{json, Map, Value};

use super::bean::{self, Bean, Fields, Prop, Properties, Snapshot};
use super::EMPTY_LIST;

use crate::store::{
    Allergy, Appointment, AppointmentType, Data, Document, Id, Immunization, LabResult,
    Measurement, Medication, Message, Note, Patient, Prescription, Problem, Program, Provider,
    ScheduleCode, Tickler, Timestamp,
};

fn date(d: Option<NaiveDate>) -> Value {
    d.map_or(Value::Null, |d| Value::String(d.to_string()))
}

fn at(t: impl Into<Timestamp>) -> Value {
    Value::String(
        t.into()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
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
pub fn age(birth: NaiveDate, today: NaiveDate) -> Fields<'static> {
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
    Fields(vec![
        ("years", Prop::Int(i64::from(years))),
        ("months", Prop::Int(i64::from(months))),
        ("days", Prop::Int(i64::from(days))),
    ])
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
    bean::to_value(&PatientBean::new(d, p, today))
}

/// The patient bean read property by property (see [`bean`]).
pub struct PatientBean<'a> {
    p: &'a Patient,
    provider: Option<&'a Provider>,
    today: NaiveDate,
    /// The stamp of the store `p` was read from, if known.
    stamp: Option<u64>,
}

impl<'a> PatientBean<'a> {
    pub fn new(d: &'a Data, p: &'a Patient, today: NaiveDate) -> Self {
        PatientBean {
            p,
            provider: d.provider(&p.provider_no),
            today,
            stamp: None,
        }
    }

    /// The same, read from a store of this stamp (so the beans of its
    /// rows can be kept written).
    pub fn stamped(self, stamp: u64) -> Self {
        PatientBean {
            stamp: Some(stamp),
            ..self
        }
    }

    /// The stamp of the store the patient was read from, if known.
    pub fn stamp(&self) -> Option<u64> {
        self.stamp
    }

    /// The day the age is counted to, as a [`Snapshot::view`]: days from
    /// the common era's start, in the low 32 bits (a bean that adds to
    /// these properties puts its own flags above them).
    pub fn day(&self) -> u64 {
        u64::from(self.today.num_days_from_ce().unsigned_abs())
    }
}

impl Bean for PatientBean<'_> {
    fn properties<'s>(&'s self, out: &mut Properties<'s>) {
        out.reserve(96);
        let p = self.p;
        let ext = |k: &str| Prop::opt_str(p.ext.get(k).map(|s| s.as_str()));
        let ext_or = |k: &str, default: &'static str| {
            Prop::Str(p.ext.get(k).map_or(default, |s| s.as_str()))
        };
        // Zero-padded parts of the birth date, as text ("" without one).
        let dob = |part: fn(NaiveDate) -> u32, width: u8| {
            p.birth_date
                .map_or(Prop::Str(""), |b| Prop::Digits(part(b), width))
        };
        out.put("demographicNo", Prop::Int(i64::from(p.id)));
        out.put("title", Prop::Str(&p.title));
        out.put("firstName", Prop::Str(&p.first_name));
        out.put("lastName", Prop::Str(&p.last_name));
        out.put("middleNames", Prop::Str(&p.middle_name));
        out.put("alias", Prop::Str(&p.alias));
        out.put("displayName", Prop::Listed(&p.last_name, &p.first_name));
        out.put("sex", Prop::Str(&p.sex));
        out.put("sexDesc", Prop::Str(sex_desc(&p.sex)));
        out.put("dateOfBirth", Prop::opt_date(p.birth_date));
        out.put("dob", Prop::opt_date(p.birth_date));
        out.put("formattedDOB", Prop::opt_date(p.birth_date));
        out.put(
            "dobYear",
            p.birth_date
                .map_or(Prop::Str(""), |b| match u32::try_from(b.year()) {
                    Ok(year) => Prop::Digits(year, 4),
                    // `{:04}` of a year before 1 BCE keeps its sign.
                    Err(_) => Prop::Text(format!("{:04}", b.year())),
                }),
        );
        out.put("dobMonth", dob(|b| b.month(), 2));
        out.put("dobDay", dob(|b| b.day(), 2));
        out.put("hin", Prop::Str(&p.hin));
        out.put("ver", Prop::Str(&p.hin_version));
        out.put("hcType", Prop::Str(&p.hc_type));
        out.put("hcRenewDate", Prop::opt_date(p.hc_renew_date));
        out.put("effDate", Prop::opt_date(p.date_joined));
        out.put("chartNo", Prop::Str(&p.chart_no));
        out.put(
            "address",
            Prop::Bean(Box::new(Fields(vec![
                ("address", Prop::Str(&p.address.street)),
                ("city", Prop::Str(&p.address.city)),
                ("province", Prop::Str(&p.address.province)),
                ("postal", Prop::Str(&p.address.postal)),
            ]))),
        );
        out.put("previousAddress", address_bean(""));
        out.put("phone", Prop::Str(&p.phone_home));
        out.put("alternativePhone", Prop::Str(&p.phone_work));
        out.put("cellPhone", Prop::Str(&p.phone_cell));
        out.put("phoneComment", ext("phoneComment"));
        out.put("email", Prop::Str(&p.email));
        out.put("patientStatus", Prop::Str(&p.status));
        out.put("patientStatusDate", Prop::opt_date(p.status_date));
        out.put("rosterStatus", Prop::Str(&p.roster_status));
        out.put("rosterDate", Prop::opt_date(p.roster_date));
        out.put(
            "rosterTerminationDate",
            Prop::opt_date(p.end_date.filter(|_| p.roster_status == "TE")),
        );
        out.put("rosterTerminationReason", ext("rosterTerminationReason"));
        out.put("providerNo", Prop::Str(&p.provider_no));
        out.put(
            "providerName",
            self.provider
                .map_or(Prop::Null, |pr| Prop::Listed(&pr.last_name, &pr.first_name)),
        );
        out.put(
            "provider",
            self.provider.map_or(Prop::Null, |pr| {
                Prop::Bean(Box::new(ProviderBean(pr, self.stamp)))
            }),
        );
        out.put(
            "familyDoctor",
            ext_or("familyDoctor", "<rdohip></rdohip><rd></rd>"),
        );
        out.put("officialLanguage", Prop::Str(&p.official_language));
        out.put("spokenLanguage", Prop::Str(&p.spoken_language));
        out.put("dateJoined", Prop::opt_date(p.date_joined));
        out.put("endDate", Prop::opt_date(p.end_date));
        out.put("sin", Prop::Str(&p.sin));
        out.put("gender", Prop::Str(&p.gender));
        out.put("pronoun", Prop::Str(&p.pronoun));
        out.put("countryOfOrigin", ext_or("countryOfOrigin", "-1"));
        out.put("newsletter", ext_or("newsletter", "U"));
        out.put("citizenship", ext("citizenship"));
        out.put("sourceOfIncome", ext("sourceOfIncome"));
        out.put("children", ext("children"));
        out.put("anonymous", ext("anonymous"));
        out.put("pcnIndicator", ext("pcnIndicator"));
        out.put("links", ext("links"));
        out.put("activeCount", Prop::Int(i64::from(p.is_active())));
        out.put("hsAlertCount", Prop::Int(0));
        out.put("lastUpdateUser", Prop::Str(&p.last_update_user));
        out.put("lastUpdateDate", Prop::instant(p.last_update));
        out.put(
            "age",
            p.birth_date
                .map_or(Prop::Null, |b| Prop::Bean(Box::new(age(b, self.today)))),
        );
        for list in [
            "extras",
            "demoContacts",
            "demoContactPros",
            "doctors",
            "nurses",
            "midwives",
            "referralDoctors",
            "waitingListNames",
            "patientStatusList",
            "rosterStatusList",
        ] {
            out.put(list, Prop::Json(&EMPTY_LIST));
        }
    }

    /// The row, its provider (a row of the same store) and the day the
    /// age is counted to are all the properties read.
    fn snapshot(&self) -> Option<Snapshot> {
        let stamp = self.stamp?;
        Some(Snapshot::of(self.p, stamp).viewed(self.day()))
    }
}

/// An address bean with only the street known.
fn address_bean(street: &str) -> Prop<'_> {
    Prop::Bean(Box::new(Fields(vec![
        ("address", Prop::Str(street)),
        ("city", Prop::Null),
        ("province", Prop::Null),
        ("postal", Prop::Null),
    ])))
}

/// A provider as `ProviderTo1` (and the `Provider` entity beans) read it.
pub fn provider_bean(p: &Provider) -> Value {
    bean::to_value(&ProviderBean(p, None))
}

/// The provider bean read property by property, with the stamp of the
/// store the row was read from, if known.
pub struct ProviderBean<'a>(pub &'a Provider, pub Option<u64>);

impl Bean for ProviderBean<'_> {
    fn properties<'s>(&'s self, out: &mut Properties<'s>) {
        out.reserve(32);
        let p = self.0;
        let ext = |k: &str| Prop::Str(p.ext.get(k).map_or("", |s| s.as_str()));
        out.put("providerNo", Prop::Str(&p.provider_no));
        out.put("id", Prop::Str(&p.provider_no));
        out.put("lastName", Prop::Str(&p.last_name));
        out.put("firstName", Prop::Str(&p.first_name));
        out.put("name", Prop::Listed(&p.last_name, &p.first_name));
        out.put("formattedName", Prop::Listed(&p.last_name, &p.first_name));
        out.put("fullName", Prop::Spaced(&p.first_name, &p.last_name));
        out.put("comments", Prop::Str(&p.comments));
        out.put("phone", Prop::Str(&p.phone));
        out.put("billingNo", Prop::Str(&p.billing_no));
        out.put("workPhone", Prop::Str(&p.work_phone));
        out.put("address", address_bean(&p.address));
        out.put("team", Prop::Str(&p.team));
        out.put("providerType", Prop::Str(&p.provider_type));
        out.put("sex", Prop::non_empty(&p.sex));
        out.put("ohipNo", Prop::Str(&p.ohip_no));
        out.put("specialty", Prop::Str(&p.specialty));
        out.put("dob", Prop::opt_date(p.birth_date));
        out.put("hsoNo", ext("hso_no"));
        out.put("providerActivity", ext("provider_activity"));
        out.put("rmaNo", ext("rma_no"));
        out.put("signedConfidentiality", Prop::Null);
        out.put("practitionerNo", Prop::Str(&p.practitioner_no));
        out.put("practitionerNoType", Prop::Str("CPSO"));
        out.put("email", Prop::Str(&p.email));
        out.put("title", Prop::Str(&p.title));
        out.put("status", Prop::Str(&p.status));
        out.put("enabled", Prop::Bool(p.is_active()));
        out.put("lastUpdateUser", Prop::Str("999998"));
        out.put("lastUpdateDate", Prop::instant(p.last_update));
    }

    fn snapshot(&self) -> Option<Snapshot> {
        self.1.map(|stamp| Snapshot::of(self.0, stamp))
    }
}

/// An appointment as `AppointmentTo1`, `PatientListApptItemBean`,
/// `AppointmentExtTo` and `ProviderPeriodAppsTo` read it.
pub fn appointment(d: &Data, a: &Appointment) -> Value {
    let patient = a.patient.get().and_then(|id| d.patients().get(id));
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
        "demographicNo": a.patient.get().unwrap_or(0),
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
        "updateDatetime": a.last_update.get().timestamp_millis(),
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
        "dateObserved": at(m.observed), "appointmentNo": m.appointment_id.get().unwrap_or(0),
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
    let patient = t.patient.get().and_then(|id| d.patients().get(id));
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
    let patient = l.patient.get().and_then(|id| d.patients().get(id));
    json!({
        "id": l.id, "fileUploadCheckId": i64::from(l.id) + 8, "base64EncodedeMessage": null,
        "type": l.lab_type, "serviceName": l.lab_type, "created": at(l.created), "fileName": l.file_name,
        "demographicNo": l.patient, "demographicName": patient.map(Patient::display_name),
        "hin": patient.map(|p| p.hin.clone()),
        "discipline": l.accession, "source": l.lab_type,
        "dateReceived": l.observed.unwrap_or(l.created).get().format("%Y-%m-%d %H:%M:%S").to_string(),
        "status": if l.status.is_empty() { "Final".to_owned() } else { l.status.to_string() },
        "priority": "Routine",
    })
}

pub fn message(m: &Message, d: &Data) -> Value {
    let patient = m.patient.get().and_then(|id| d.patients().get(id));
    let from = d
        .provider(&m.from)
        .map(|p| format!("{} {}", p.first_name, p.last_name));
    json!({
        "id": m.id, "fromName": from.unwrap_or_else(|| m.from.to_string()), "subject": m.subject,
        "dateOfMessage": m.created.get().format("%Y-%m-%d").to_string(), "demographicNo": m.patient,
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
            .map(|a| (a.id, a.patient.get(), appointment(d, a)))
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
            .map(|t| (t.id, t.patient.get(), tickler(t, d)))
            .collect(),
        "documents" => d
            .documents
            .iter()
            .map(|x| (x.id, x.patient.get(), document(x)))
            .collect(),
        "labs" => d
            .labs
            .iter()
            .map(|l| (l.id, l.patient.get(), lab(l, d)))
            .collect(),
        "messages" => d
            .messages
            .iter()
            .map(|m| (m.id, m.patient.get(), message(m, d)))
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
