//! The store's rows as OSCAR's SOAP transfer objects, and back. Each
//! function fills every property the real `toTransfer` fills; the
//! variant's type table then decides which of them go on the wire.

use chrono::{Datelike, Duration, NaiveTime, Utc};

use super::fault::SoapFault;
use super::xml::{day, instant, local, no_date, s, Obj, Val};
use crate::store::*;

/// `DemographicTransfer` (`two`: `DemographicTransfer2`, which adds the
/// residential address, middle names and a few flags).
pub fn demographic(p: &Patient, two: bool) -> Obj {
    let ty = if two {
        "demographicTransfer2"
    } else {
        "demographicTransfer"
    };
    let mut o = Obj::with_capacity(ty, 64);
    let birth = p.birth_date;
    o.set("demographicNo", p.id)
        .set("title", s(&p.title))
        .set("firstName", s(&p.first_name))
        .set("lastName", s(&p.last_name))
        .set("displayName", p.display_name())
        .set("alias", s(&p.alias))
        .set("sex", s(&p.sex))
        .set("sexDesc", sex_description(&p.sex))
        .opt("yearOfBirth", birth.map(|d| format!("{:04}", d.year())))
        .opt("monthOfBirth", birth.map(|d| format!("{:02}", d.month())))
        .opt("dateOfBirth", birth.map(|d| format!("{:02}", d.day())))
        .set("hin", s(&p.hin))
        .set("ver", s(&p.hin_version))
        .set("hcType", s(&p.hc_type))
        .opt("hcRenewDate", p.hc_renew_date.map(day))
        .set("chartNo", s(&p.chart_no))
        .set("address", s(&p.address.street))
        .set("city", s(&p.address.city))
        .set("province", s(&p.address.province))
        .set("postal", s(&p.address.postal))
        .set("phone", s(&p.phone_home))
        .set("phone2", s(&p.phone_work))
        .set("cellPhone", s(&p.phone_cell))
        .set("phoneComment", "")
        .set("email", s(&p.email))
        .set("patientStatus", s(&p.status))
        .opt("patientStatusDate", p.status_date.map(day))
        .set("rosterStatus", s(&p.roster_status))
        .opt("rosterDate", p.roster_date.map(day))
        .set("rosterTerminationReason", "")
        .set("providerNo", s(&p.provider_no))
        .set("familyDoctor", "<rdohip></rdohip><rd></rd>")
        .set("pcnIndicator", "")
        .opt("dateJoined", p.date_joined.map(day))
        .opt("endDate", p.end_date.map(day))
        .opt("effDate", p.date_joined.map(day))
        .set("officialLanguage", s(&p.official_language))
        .set("spokenLanguage", s(&p.spoken_language))
        .set("sin", s(&p.sin))
        .set("links", "")
        .set("previousAddress", "")
        .set("children", "")
        .set("sourceOfIncome", "")
        .set("citizenship", "")
        .set("activeCount", i64::from(p.is_active()))
        .set("hsAlertCount", 0)
        .set("gender", s(&p.gender))
        .set("pronoun", s(&p.pronoun))
        .set("lastUpdateUser", s(&p.last_update_user))
        .set("lastUpdateDate", instant(p.last_update, false))
        .opt("myOscarUserName", p.ext.get(MY_OSCAR_USER_NAME).cloned())
        .opt("notes", p.ext.get("notes").cloned());
    if two {
        o.set("middleNames", s(&p.middle_name))
            .set("countryOfOrigin", "-1")
            .set("newsletter", "U")
            .set("rosterEnrolledTo", "")
            .set("residentialAddress", "")
            .set("residentialCity", "")
            .set("residentialProvince", s(&p.address.province))
            .set("residentialPostal", "");
    }
    o
}

/// The patient extension key a PHR (MyOSCAR) account name is kept under.
pub const MY_OSCAR_USER_NAME: &str = "myOscarUserName";

fn sex_description(sex: &str) -> &'static str {
    match sex {
        "M" => "Male",
        "F" => "Female",
        "T" => "Transgender",
        "O" => "Other",
        "X" => "Intersex",
        _ => "Undefined",
    }
}

/// Keeps only the listed properties (`getActiveDemographicsAfter`'s
/// `fields`, OSCAR's `DemographicTransfer.filter`).
pub fn keep_fields(mut o: Obj, fields: &[&str]) -> Obj {
    o.fields.retain(|k, _| fields.contains(&k.as_ref()));
    o
}

/// Applies a `DemographicTransfer`'s non-null properties to a patient.
pub fn apply_demographic(p: &mut Patient, t: &Obj) {
    let set = |dst: &mut crate::store::Text, name: &str| {
        if let Some(v) = t.str(name) {
            *dst = v.into();
        }
    };
    set(&mut p.title, "title");
    set(&mut p.first_name, "firstName");
    set(&mut p.last_name, "lastName");
    set(&mut p.middle_name, "middleNames");
    set(&mut p.alias, "alias");
    set(&mut p.sex, "sex");
    set(&mut p.hin, "hin");
    set(&mut p.hin_version, "ver");
    set(&mut p.hc_type, "hcType");
    set(&mut p.chart_no, "chartNo");
    set(&mut p.address.street, "address");
    set(&mut p.address.city, "city");
    set(&mut p.address.province, "province");
    set(&mut p.address.postal, "postal");
    set(&mut p.phone_home, "phone");
    set(&mut p.phone_work, "phone2");
    set(&mut p.phone_cell, "cellPhone");
    set(&mut p.email, "email");
    set(&mut p.status, "patientStatus");
    set(&mut p.roster_status, "rosterStatus");
    set(&mut p.provider_no, "providerNo");
    set(&mut p.official_language, "officialLanguage");
    set(&mut p.spoken_language, "spokenLanguage");
    set(&mut p.sin, "sin");
    set(&mut p.gender, "gender");
    set(&mut p.pronoun, "pronoun");
    set(&mut p.last_update_user, "lastUpdateUser");
    let num = |name: &str| t.str(name).and_then(|v| v.trim().parse::<u32>().ok());
    if let (Some(y), Some(m), Some(d)) =
        (num("yearOfBirth"), num("monthOfBirth"), num("dateOfBirth"))
    {
        if let Some(date) = chrono::NaiveDate::from_ymd_opt(y as i32, m, d) {
            p.birth_date = Some(date);
        }
    }
    let date = |name: &str| t.time(name).map(|t| t.date_naive());
    if let Some(d) = date("hcRenewDate") {
        p.hc_renew_date = Some(d);
    }
    if let Some(d) = date("dateJoined") {
        p.date_joined = Some(d);
    }
    if let Some(d) = date("endDate") {
        p.end_date = Some(d);
    }
    if let Some(d) = date("patientStatusDate") {
        p.status_date = Some(d);
    }
    if let Some(d) = date("rosterDate") {
        p.roster_date = Some(d);
    }
}

/// `AppointmentTransfer`; with `gmt`, every calendar is in UTC.
pub fn appointment(a: &Appointment, gmt: bool) -> Obj {
    let mut o = Obj::new("appointmentTransfer");
    fill_appointment(&mut o, a, gmt);
    o.set("id", a.id);
    o
}

fn fill_appointment(o: &mut Obj, a: &Appointment, gmt: bool) {
    o.set("providerNo", s(&a.provider_no))
        .set("appointmentStartDateTime", local(a.date, a.start, gmt))
        .set("appointmentEndDateTime", local(a.date, a.end, gmt))
        .set("name", s(&a.name))
        .set("demographicNo", a.patient.get().unwrap_or(0))
        .set("programId", a.program_id)
        .set("notes", s(&a.notes))
        .set("reason", s(&a.reason))
        .set("location", s(&a.location))
        .set("resources", s(&a.resources))
        .set("type", s(&a.kind))
        .set("style", s(&a.style))
        .set("billing", s(&a.billing))
        .set("status", s(&a.status))
        .set("createDateTime", instant(a.created, gmt))
        .set("updateDateTime", instant(a.last_update, gmt))
        .set("creator", s(&a.creator))
        .set("lastUpdateUser", s(&a.last_update_user))
        .set("remarks", s(&a.remarks))
        .set("urgency", s(&a.urgency))
        .opt(
            "bookingSource",
            Some(&a.booking_source).filter(|b| !b.is_empty()),
        );
}

/// `AppointmentArchiveTransfer`: the archived version, its own id and the
/// appointment's.
pub fn appointment_archive(a: &AppointmentArchive, gmt: bool) -> Obj {
    let mut o = Obj::new("appointmentArchiveTransfer");
    fill_appointment(&mut o, &a.appointment, gmt);
    o.set("id", a.id)
        .set("appointmentId", a.appointment_id)
        .set("updateDateTime", instant(a.last_update, gmt));
    o
}

/// Why an `AppointmentTransfer` cannot become an appointment: Hibernate's
/// not-null check on the columns OSCAR requires.
pub fn missing_column(column: &str) -> String {
    format!(
        "not-null property references a null or transient value : org.oscarehr.common.model.Appointment.{column}"
    )
}

/// A number of a transfer that is kept as a reference no lookup checks:
/// one past `Id`'s range cannot be kept, and is refused as a number that
/// does not parse is (JAXB's unmarshalling error).
pub fn reference(t: &Obj, name: &str) -> Result<Option<Id>, SoapFault> {
    t.int(name)
        .map(|n| {
            Id::try_from(n)
                .map_err(|_| SoapFault::client(format!("Unmarshalling Error: Not a number: {n}")))
        })
        .transpose()
}

/// A patient number of a transfer, which the store checks: one past
/// `Id`'s range is no patient's, and fails as an unknown one does (the
/// caller reports it where that check would).
fn patient_number(t: &Obj, name: &str) -> Option<Result<Id, SoapFault>> {
    t.int(name)
        .map(|n| id_from("patient", n).map_err(|e| SoapFault::server(e.to_string())))
}

/// Applies an `AppointmentTransfer` to an appointment (new or existing):
/// times are read on the clinic's clock.
pub fn apply_appointment(a: &mut Appointment, t: &Obj) -> Result<(), SoapFault> {
    let zone = super::xml::server_zone();
    if let Some(start) = t.time("appointmentStartDateTime") {
        let start = start.with_timezone(&zone);
        a.date = start.date_naive();
        a.start = start.time();
    }
    if let Some(end) = t.time("appointmentEndDateTime") {
        a.end = end.with_timezone(&zone).time();
    }
    let set = |dst: &mut crate::store::Text, name: &str| {
        if let Some(v) = t.str(name) {
            *dst = v.into();
        }
    };
    set(&mut a.provider_no, "providerNo");
    set(&mut a.name, "name");
    set(&mut a.notes, "notes");
    set(&mut a.reason, "reason");
    set(&mut a.location, "location");
    set(&mut a.resources, "resources");
    set(&mut a.kind, "type");
    set(&mut a.style, "style");
    set(&mut a.billing, "billing");
    set(&mut a.status, "status");
    set(&mut a.remarks, "remarks");
    set(&mut a.urgency, "urgency");
    set(&mut a.booking_source, "bookingSource");
    set(&mut a.creator, "creator");
    set(&mut a.last_update_user, "lastUpdateUser");
    let patient = patient_number(t, "demographicNo").transpose();
    if let Ok(Some(d)) = patient {
        a.patient = (d != 0).then_some(d).into();
    }
    if let Some(p) = reference(t, "programId")? {
        a.program_id = p;
    }
    let missing = |column| Err(SoapFault::server(missing_column(column)));
    if a.provider_no.is_empty() {
        return missing("providerNo");
    }
    if t.time("appointmentStartDateTime").is_none() && a.id == 0 {
        return missing("startTime");
    }
    if t.time("appointmentEndDateTime").is_none() && a.id == 0 {
        return missing("endTime");
    }
    // The store's patient check comes next.
    patient.map(|_| ())
}

pub fn appointment_type(t: &AppointmentType) -> Obj {
    let mut o = Obj::new("appointmentTypeTransfer");
    o.set("id", t.id)
        .set("name", s(&t.name))
        .set("notes", s(&t.notes))
        .set("reason", s(&t.reason))
        .set("location", s(&t.location))
        .set("resources", s(&t.resources))
        .set("duration", t.duration_min);
    o
}

pub fn schedule_code(c: &ScheduleCode) -> Obj {
    let mut o = Obj::new("scheduleTemplateCodeTransfer");
    o.set("id", c.id)
        .set("code", c.code)
        .set("description", s(&c.description))
        .set("duration", c.duration_min.to_string())
        .set("color", s(&c.color))
        .set("confirm", s(&c.confirm))
        .set("bookinglimit", c.booking_limit);
    o
}

/// `DayWorkScheduleTransfer`: one pair per template slot with a code.
pub fn day_work_schedule(d: &ScheduleDay) -> Obj {
    let mut slots = Vec::new();
    for (i, code) in d.timecode.chars().enumerate() {
        if code == '_' {
            continue;
        }
        let minutes = i as u32 * d.slot_min;
        let Some(time) = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0) else {
            continue;
        };
        let mut pair = Obj::new("calendarScheduleCodePairTransfer");
        pair.set("date", local(d.date, time, false))
            .set("scheduleCode", code);
        slots.push(Val::Obj(pair));
    }
    let mut o = Obj::new("dayWorkScheduleTransfer");
    o.set("holiday", d.holiday)
        .set("timeSlotDurationMin", d.slot_min)
        .set("timeSlots", slots);
    o
}

pub fn provider(p: &Provider) -> Obj {
    let mut o = Obj::new("providerTransfer");
    o.set("providerNo", s(&p.provider_no))
        .set("firstName", s(&p.first_name))
        .set("lastName", s(&p.last_name))
        .set("title", s(&p.title))
        .set("providerType", s(&p.provider_type))
        .set("specialty", s(&p.specialty))
        .set("sex", s(&p.sex))
        .set("dob", p.birth_date.map_or_else(no_date, day))
        .set("ohipNo", s(&p.ohip_no))
        .set("billingNo", s(&p.billing_no))
        .set("practitionerNo", s(&p.practitioner_no))
        .set("practitionerNoType", "CPSO")
        .set("phone", s(&p.phone))
        .set("workPhone", s(&p.work_phone))
        .set("email", s(&p.email))
        .set("address", s(&p.address))
        .set("status", s(&p.status))
        .set("team", s(&p.team))
        .set("comments", s(&p.comments))
        .set("hsoNo", "")
        .set("rmaNo", "")
        .set("providerActivity", "")
        .set("signedConfidentiality", no_date());
    o
}

/// `ProviderPropertyTransfer`s: a provider's extension values, numbered
/// in key order.
pub fn provider_properties(p: &Provider, name: Option<&str>) -> Vec<Val> {
    p.ext
        .iter()
        .enumerate()
        .filter(|(_, (k, _))| name.is_none_or(|n| n == k.as_str()))
        .map(|(i, (k, v))| {
            let mut o = Obj::new("providerPropertyTransfer");
            o.set("id", i64::from(p.id) * 1000 + i as i64 + 1)
                .set("name", k)
                .set("value", v);
            Val::Obj(o)
        })
        .collect()
}

pub fn facility(f: &Facility) -> Obj {
    let mut o = Obj::new("facilityTransfer");
    o.set("id", f.id)
        .set("name", s(&f.name))
        .set("description", s(&f.name))
        .set("contactEmail", s(&f.email))
        .set("contactPhone", s(&f.phone))
        .set("disabled", !f.active)
        .set("orgId", 0)
        .set("sectorId", 0)
        .set("ocanServiceOrgNumber", "0")
        .set("enableDigitalSignatures", true)
        .set("lastUpdated", instant(f.last_update, false));
    o
}

pub fn program(p: &Program, facility_name: &str, members: usize) -> Obj {
    let mut o = Obj::new("programTransfer");
    o.set("id", p.id)
        .set("name", s(&p.name))
        .set("description", s(&p.description))
        .set("type", s(&p.program_type))
        .set(
            "programStatus",
            if p.active { "active" } else { "inactive" },
        )
        .set("facilityId", p.facility_id)
        .set("facilityDesc", facility_name)
        .set("numOfMembers", members)
        .set("numOfIntakes", 0)
        .set("queueSize", 0)
        .set("maxAllowed", 99999)
        .set("ageMin", 1)
        .set("ageMax", 200)
        .set("defaultServiceRestrictionDays", 30)
        .set("shelterId", 0)
        .set("userDefined", true)
        .set("exclusiveView", "no")
        .set("address", "")
        .set("phone", "")
        .set("fax", "")
        .set("url", "")
        .set("email", "")
        .set("emergencyNumber", "")
        .set("location", "")
        .set("enableEncounterTime", false)
        .set("enableEncounterTransportationTime", false)
        .set("lastUpdateDate", instant(p.last_update, false));
    o
}

/// `ProgramProviderTransfer`s of a program: its staff, numbered in order.
pub fn program_providers(p: &Program, providers: &Table<Provider>) -> Vec<Val> {
    p.provider_nos
        .iter()
        .enumerate()
        .map(|(i, no)| {
            let role = providers
                .iter()
                .find(|x| &x.provider_no == no)
                .map_or(0, |x| match x.provider_type.as_str() {
                    "doctor" => 1,
                    "nurse" => 2,
                    "receptionist" => 3,
                    _ => 4,
                });
            let mut o = Obj::new("programProviderTransfer");
            o.set("id", i64::from(p.id) * 1000 + i as i64 + 1)
                .set("programId", p.id)
                .set("providerNo", no)
                .set("roleId", role);
            Val::Obj(o)
        })
        .collect()
}

pub fn allergy(a: &Allergy) -> Obj {
    let mut o = Obj::new("allergyTransfer");
    o.set("id", a.id)
        .set("demographicNo", a.patient_id)
        .set("description", s(&a.description))
        .set("reaction", s(&a.reaction))
        .set("severityOfReaction", s(&a.severity))
        .set("onsetOfReaction", s(&a.onset))
        .set("typeCode", a.type_code)
        .opt("startDate", a.start_date.map(day))
        .opt("entryDate", a.entry_date.map(day))
        .set("lifeStage", s(&a.life_stage))
        .set("ageOfOnset", "")
        .set("regionalIdentifier", "")
        .set("providerNo", s(&a.provider_no))
        .set("lastUpdateDate", instant(a.last_update, false));
    o
}

pub fn prevention(p: &Immunization) -> Obj {
    let exts: Vec<Val> = p
        .ext
        .iter()
        .enumerate()
        .map(|(i, (k, v))| {
            let mut e = Obj::new("preventionExtTransfer");
            e.set("id", i64::from(p.id) * 1000 + i as i64 + 1)
                .set("preventionId", p.id)
                .set("key", k)
                .set("value", v);
            Val::Obj(e)
        })
        .collect();
    let mut o = Obj::new("preventionTransfer");
    o.set("id", p.id)
        .set("demographicId", p.patient_id)
        .set("preventionType", s(&p.kind))
        .opt("preventionDate", p.date.map(day))
        .set("providerNo", s(&p.provider_no))
        .set("creatorProviderNo", s(&p.creator))
        .set("creationDate", instant(p.created, false))
        .set("deleted", p.deleted)
        .set("refused", p.refused)
        .set("never", p.never)
        .opt("nextDate", p.next_date.map(day))
        .set("lastUpdateDate", instant(p.last_update, false))
        .set("preventionExts", exts);
    o
}

pub fn measurement(m: &Measurement) -> Obj {
    let mut o = Obj::new("measurementTransfer");
    o.set("id", m.id)
        .set("type", s(&m.kind))
        .set("demographicId", m.patient_id)
        .set("providerNo", s(&m.provider_no))
        .set("dataField", s(&m.value))
        .set("measuringInstruction", s(&m.instruction))
        .set("comments", s(&m.comments))
        .set("dateObserved", instant(m.observed, false))
        .set("appointmentNo", m.appointment_id.get().unwrap_or(0))
        .set("createDate", instant(m.created, false));
    o
}

/// A measurement from a `MeasurementTransfer` (`addMeasurement`).
pub fn new_measurement(t: &Obj, now: Timestamp) -> Result<Measurement, SoapFault> {
    let null = |column: &str| {
        SoapFault::server(format!("not-null property references a null or transient value : org.oscarehr.common.model.Measurement.{column}"))
    };
    let appointment = reference(t, "appointmentNo")?;
    let patient = patient_number(t, "demographicId").ok_or_else(|| null("demographicId"))?;
    let kind = t.str("type").unwrap_or_default().to_owned();
    if kind.is_empty() {
        return Err(null("type"));
    }
    // The store's patient check comes next.
    let patient_id = patient?;
    Ok(Measurement {
        patient_id,
        kind: kind.into(),
        value: t.str("dataField").unwrap_or_default().to_owned().into(),
        instruction: t
            .str("measuringInstruction")
            .unwrap_or_default()
            .to_owned()
            .into(),
        comments: t.str("comments").unwrap_or_default().to_owned().into(),
        observed: t
            .time("dateObserved")
            .map_or(now.into(), |d| d.with_timezone(&Utc).into()),
        provider_no: t.str("providerNo").unwrap_or_default().to_owned().into(),
        appointment_id: appointment.filter(|a| *a != 0).into(),
        ..Measurement::default()
    })
}

/// The LOINC mappings of lab test codes OSCAR keeps (`measurementMap`):
/// id, LOINC code, lab's identifier, name, lab type.
pub const MEASUREMENT_MAPS: &[(i64, &str, &str, &str, &str)] = &[
    (221, "4537-7", "-ESR", "SEDIMENTATION RATE (ESR)", "MDS"),
    (222, "30229-9", "-BAND A", "     (A)       BAND", "MDS"),
    (224, "22748-8", "22748-8", "LDL Cholesterol", "PATHL7"),
    (226, "718-7", "-HGB", "HEMOGLOBIN", "MDS"),
    (240, "4548-4", "4548-4", "Hemoglobin A1c", "CML"),
    (241, "2160-0", "2160-0", "Creatinine", "CML"),
    (242, "2093-3", "2093-3", "Cholesterol", "GDML"),
];

pub fn measurement_map(row: &(i64, &str, &str, &str, &str)) -> Obj {
    let mut o = Obj::new("measurementMapTransfer");
    o.set("id", row.0)
        .set("loincCode", row.1)
        .set("identCode", row.2)
        .set("name", row.3)
        .set("labType", row.4);
    o
}

pub fn prescription(p: &Prescription, drugs: &[&Medication]) -> Obj {
    let mut o = Obj::new("prescriptionTransfer");
    o.set("id", p.id)
        .set("providerNo", s(&p.provider_no))
        .set("demographicId", p.patient_id)
        .opt("datePrescribed", p.date_prescribed.map(day))
        .opt("datePrinted", p.printed.map(|t| instant(t, false)))
        .set("textView", s(&p.text))
        .set("comments", s(&p.comments))
        .set("lastUpdateDate", instant(p.last_update, false))
        .set(
            "drugs",
            drugs.iter().map(|m| Val::Obj(drug(m))).collect::<Vec<_>>(),
        );
    o
}

fn drug(m: &Medication) -> Obj {
    let mut o = Obj::new("drugTransfer");
    let duration = match (m.start_date, m.end_date) {
        (Some(a), Some(b)) => Some((b - a).num_days().to_string()),
        _ => None,
    };
    o.set("id", m.id)
        .set("providerNo", s(&m.provider_no))
        .set("demographicId", m.patient_id)
        .opt("rxDate", m.start_date.map(day))
        .opt("writtenDate", m.start_date.map(day))
        .opt("endDate", m.end_date.map(day))
        .set("brandName", s(&m.brand_name))
        .set("genericName", s(&m.generic_name))
        .set("regionalIdentifier", s(&m.din))
        .set("atc", s(&m.atc))
        .set("dosage", s(&m.dosage))
        .set("route", s(&m.route))
        .set("freqCode", s(&m.frequency))
        .set("prn", m.frequency == "PRN")
        .opt("duration", duration)
        .set("durUnit", "D")
        .set("quantity", s(&m.quantity))
        .set("repeat", m.repeats)
        .set("special", s(&m.instructions))
        .set("longTerm", m.long_term)
        .set("archived", m.archived)
        .set("archivedReason", s(&m.archived_reason))
        .opt("scriptNo", m.script_no.get())
        .set("createDate", instant(m.created, false))
        .set("lastUpdateDate", instant(m.last_update, false));
    o
}

pub fn document(d: &Document) -> Obj {
    let mut o = Obj::new("documentTransfer");
    o.set("documentNo", d.id)
        .set("doctype", s(&d.category))
        .set("docdesc", s(&d.description))
        .set("docxml", "")
        .set("docfilename", s(&d.file_name))
        .set("doccreator", s(&d.provider_no))
        .set("responsible", s(&d.responsible_no))
        .set("source", s(&d.source))
        .set("sourceFacility", "")
        .set("updatedatetime", instant(d.last_update, false))
        .set("status", d.status.chars().next().unwrap_or('A'))
        .set("contenttype", s(&d.content_type))
        .set("public1", 0)
        .opt("observationdate", d.observed.map(day))
        .set("numberofpages", 1)
        .set("appointmentNo", 0)
        .set("ctlModule", "demographic")
        .set("ctlModuleId", d.patient.get().unwrap_or(-1))
        .set("ctlStatus", "A")
        .set("fileContents", Val::Bytes(d.content.to_vec()));
    o
}

/// The end of a slot that starts at `start` and lasts `minutes`.
pub fn slot_end(start: NaiveTime, minutes: u32) -> NaiveTime {
    start + Duration::minutes(i64::from(minutes))
}

/// A value as a list, for repeated returns.
pub fn list(items: impl IntoIterator<Item = Obj>) -> Val {
    Val::List(items.into_iter().map(Val::Obj).collect())
}
