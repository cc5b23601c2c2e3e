//! The clinical model every dialect reads and writes. Field names follow
//! the clinical meaning, not one system's column names; each dialect maps
//! them to its wire names (OSCAR `demographic_no`, OpenEMR `pid`, FHIR
//! `Patient.id`). Values a dialect has no typed home for go in `ext`.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;

use super::{Id, Timestamp};
use crate::record;

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Address {
    pub street: String,
    pub city: String,
    /// Province or state code (`ON`).
    pub province: String,
    pub postal: String,
    pub country: String,
}

/// A patient: OSCAR's demographic, OpenEMR's patient_data, FHIR's Patient.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Patient {
    /// `demographic_no` in OSCAR, `pid` in OpenEMR.
    pub id: Id,
    /// OpenEMR's `uuid`, the FHIR Patient id.
    pub uuid: String,
    pub title: String,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    pub alias: String,
    /// `M`, `F`, `O` (other), `U` (unknown).
    pub sex: String,
    pub birth_date: Option<NaiveDate>,
    /// Health insurance number, its version code and issuing province.
    pub hin: String,
    pub hin_version: String,
    pub hc_type: String,
    pub hc_renew_date: Option<NaiveDate>,
    pub chart_no: String,
    pub address: Address,
    pub phone_home: String,
    pub phone_work: String,
    pub phone_cell: String,
    pub email: String,
    /// OSCAR patient status: `AC` active, `IN` inactive, `DE` deceased,
    /// `MO` moved, `FI` fired.
    pub status: String,
    pub status_date: Option<NaiveDate>,
    /// Roster status (`RO` rostered, `NR`, `TE` terminated).
    pub roster_status: String,
    pub roster_date: Option<NaiveDate>,
    /// The most responsible provider.
    pub provider_no: String,
    pub official_language: String,
    pub spoken_language: String,
    pub date_joined: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub sin: String,
    pub gender: String,
    pub pronoun: String,
    /// Patient-portal login (OpenEMR `patient_access_onsite`).
    pub portal_username: String,
    pub portal_password: String,
    pub ext: BTreeMap<String, String>,
    pub created: Timestamp,
    pub last_update: Timestamp,
    pub last_update_user: String,
}
record!(Patient, uuid);

impl Patient {
    pub fn is_active(&self) -> bool {
        self.status == "AC"
    }

    /// `Last, First` as OSCAR lists names.
    pub fn display_name(&self) -> String {
        format!("{}, {}", self.last_name, self.first_name)
    }
}

/// A provider (OSCAR) or user (OpenEMR): anyone who logs in or is booked.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Provider {
    /// Internal row id; the wire id is `provider_no`.
    pub id: Id,
    /// OSCAR `provider_no` (`999998`), OpenEMR `users.id` as text.
    pub provider_no: String,
    pub uuid: String,
    pub first_name: String,
    pub last_name: String,
    pub title: String,
    /// `doctor`, `nurse`, `receptionist`, `admin`.
    pub provider_type: String,
    pub specialty: String,
    pub sex: String,
    pub birth_date: Option<NaiveDate>,
    pub ohip_no: String,
    pub billing_no: String,
    /// College registration number (CPSO).
    pub practitioner_no: String,
    pub npi: String,
    pub phone: String,
    pub work_phone: String,
    pub email: String,
    pub address: String,
    /// `1` active, `0` inactive.
    pub status: String,
    pub team: String,
    pub comments: String,
    pub facility_id: Option<Id>,
    pub ext: BTreeMap<String, String>,
    pub last_update: Timestamp,
}
record!(Provider, uuid);

impl Provider {
    pub fn is_active(&self) -> bool {
        self.status == "1"
    }
}

/// A login: OSCAR's `security` row, OpenEMR's `users_secure`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Login {
    /// OSCAR `security_no`, the WS-Security username.
    pub id: Id,
    pub user_name: String,
    pub password: String,
    pub pin: String,
    pub provider_no: String,
    pub expires: Option<NaiveDate>,
    pub locked: bool,
    pub last_update: Timestamp,
}
record!(Login);

/// A clinic site.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facility {
    pub id: Id,
    pub uuid: String,
    pub name: String,
    pub address: Address,
    pub phone: String,
    pub fax: String,
    pub email: String,
    pub npi: String,
    pub active: bool,
    pub primary: bool,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: BTreeMap<String, String>,
    pub last_update: Timestamp,
}
record!(Facility, uuid);

/// An OSCAR program (CAISI): the clinic's default program and its staff.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Program {
    pub id: Id,
    pub name: String,
    pub description: String,
    pub program_type: String,
    pub facility_id: Id,
    pub active: bool,
    pub provider_nos: Vec<String>,
    pub last_update: Timestamp,
}
record!(Program);

/// A booked appointment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Appointment {
    pub id: Id,
    pub uuid: String,
    pub provider_no: String,
    /// `None` for a slot booked without a patient (OSCAR allows it).
    pub patient: Option<Id>,
    pub date: NaiveDate,
    pub start: NaiveTime,
    pub end: NaiveTime,
    /// The patient's name as typed on the schedule.
    pub name: String,
    pub notes: String,
    pub reason: String,
    pub location: String,
    pub resources: String,
    /// Appointment type name.
    pub kind: String,
    pub style: String,
    pub billing: String,
    /// OSCAR status code (`t` to do, `H` here, `P` picked, `C` cancelled, `N` no-show...).
    pub status: String,
    pub program_id: Id,
    pub facility_id: Option<Id>,
    pub urgency: String,
    pub remarks: String,
    pub booking_source: String,
    /// When and by whom the patient confirmed it (Juno), if they did.
    pub confirmed_at: Option<Timestamp>,
    pub confirmed_by: String,
    pub confirmed_by_type: String,
    pub created: Timestamp,
    pub creator: String,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: BTreeMap<String, String>,
    pub last_update: Timestamp,
    pub last_update_user: String,
}
record!(Appointment, patient_opt, uuid);

/// An earlier version of an appointment, kept when it changes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AppointmentArchive {
    pub id: Id,
    pub appointment_id: Id,
    /// The appointment as it was before the change.
    pub appointment: Appointment,
    /// When it was archived.
    pub last_update: Timestamp,
}
record!(AppointmentArchive);

/// A billing record received from an outside billing system.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BillingRecord {
    pub id: Id,
    pub patient: Option<Id>,
    pub appointment_id: Option<Id>,
    pub practitioner_no: String,
    pub billing_code: String,
    pub amount: String,
    pub service_date: String,
    pub status: String,
    /// Every other field as received, by its wire name.
    pub fields: BTreeMap<String, String>,
    pub created: Timestamp,
    pub last_update: Timestamp,
}
record!(BillingRecord, patient_opt);

impl Appointment {
    pub fn is_cancelled(&self) -> bool {
        matches!(self.status.as_str(), "C" | "D")
    }
}

/// An appointment type offered for booking.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AppointmentType {
    pub id: Id,
    pub name: String,
    pub duration_min: u32,
    pub notes: String,
    pub reason: String,
    pub location: String,
    pub resources: String,
    /// Offered to external booking (OSCAR BookingService).
    pub bookable: bool,
    pub last_update: Timestamp,
}
record!(AppointmentType);

/// A schedule template code: one character stands for one kind of slot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScheduleCode {
    pub id: Id,
    pub code: char,
    pub description: String,
    pub duration_min: u32,
    pub color: String,
    pub confirm: String,
    pub booking_limit: u32,
    pub last_update: Timestamp,
}
record!(ScheduleCode);

/// A provider's working day: one template character per slot, `_` for
/// not available (OSCAR's `scheduletemplate.timecode`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScheduleDay {
    pub id: Id,
    pub provider_no: String,
    pub date: NaiveDate,
    pub slot_min: u32,
    pub timecode: String,
    pub holiday: bool,
    pub last_update: Timestamp,
}
record!(ScheduleDay);

/// An allergy or intolerance.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Allergy {
    pub id: Id,
    pub uuid: String,
    pub patient_id: Id,
    pub description: String,
    pub reaction: String,
    /// `1` mild, `2` moderate, `3` severe, `4` unknown.
    pub severity: String,
    /// `1` immediate, `2` gradual, `3` slow, `4` unknown.
    pub onset: String,
    /// OSCAR allergy type code (8 generic, 13 brand, ...).
    pub type_code: i32,
    pub start_date: Option<NaiveDate>,
    pub entry_date: Option<NaiveDate>,
    pub life_stage: String,
    pub archived: bool,
    pub provider_no: String,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: BTreeMap<String, String>,
    pub last_update: Timestamp,
}
record!(Allergy, patient, uuid);

/// A prevention (OSCAR) or immunization (OpenEMR, FHIR).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Immunization {
    pub id: Id,
    pub uuid: String,
    pub patient_id: Id,
    /// OSCAR prevention type (`Flu`, `Td`, `MMR`, `PAP`...).
    pub kind: String,
    /// CVX code for vaccines, empty for screenings.
    pub cvx: String,
    pub date: Option<NaiveDate>,
    pub provider_no: String,
    pub refused: bool,
    pub never: bool,
    pub deleted: bool,
    pub next_date: Option<NaiveDate>,
    /// Lot, manufacturer, route, dose, site, comments.
    pub ext: BTreeMap<String, String>,
    pub created: Timestamp,
    pub creator: String,
    pub last_update: Timestamp,
}
record!(Immunization, patient, uuid);

/// One measured value: OSCAR measurement, OpenEMR vital sign, FHIR Observation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Measurement {
    pub id: Id,
    pub uuid: String,
    pub patient_id: Id,
    /// OSCAR measurement type (`BP`, `WT`, `HT`, `TEMP`, `HR`, `A1C`...).
    pub kind: String,
    pub value: String,
    pub unit: String,
    pub instruction: String,
    pub comments: String,
    pub observed: Timestamp,
    pub provider_no: String,
    pub appointment_id: Option<Id>,
    pub encounter_id: Option<Id>,
    pub created: Timestamp,
    pub last_update: Timestamp,
}
record!(Measurement, patient, uuid);

/// A drug on the patient's profile, prescribed or recorded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Medication {
    pub id: Id,
    pub uuid: String,
    pub patient_id: Id,
    pub provider_no: String,
    /// The prescription (script) it was written on.
    pub script_no: Option<Id>,
    pub brand_name: String,
    pub generic_name: String,
    pub din: String,
    pub atc: String,
    pub rxnorm: String,
    pub dosage: String,
    pub route: String,
    pub frequency: String,
    pub quantity: String,
    pub repeats: u32,
    pub instructions: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub long_term: bool,
    pub archived: bool,
    pub archived_reason: String,
    pub created: Timestamp,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: BTreeMap<String, String>,
    pub last_update: Timestamp,
}
record!(Medication, patient, uuid);

/// A prescription: the script several medications are written on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Prescription {
    pub id: Id,
    pub uuid: String,
    pub patient_id: Id,
    pub provider_no: String,
    pub date_prescribed: Option<NaiveDate>,
    pub text: String,
    pub comments: String,
    pub printed: Option<Timestamp>,
    pub created: Timestamp,
    pub last_update: Timestamp,
}
record!(Prescription, patient, uuid);

/// A problem on the patient's problem list (OpenEMR `lists` rows:
/// medical_problem, surgery, dental; OSCAR disease registry / issues).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Problem {
    pub id: Id,
    pub uuid: String,
    pub patient_id: Id,
    /// `medical_problem`, `surgery`, `dental`.
    pub kind: String,
    pub title: String,
    /// Coded diagnosis, `ICD10:J45.909` style.
    pub diagnosis: String,
    pub begin: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub comments: String,
    pub provider_no: String,
    pub created: Timestamp,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: BTreeMap<String, String>,
    pub last_update: Timestamp,
}
record!(Problem, patient, uuid);

/// A visit (OpenEMR encounter, FHIR Encounter).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Encounter {
    pub id: Id,
    pub uuid: String,
    pub patient_id: Id,
    pub date: Timestamp,
    pub reason: String,
    pub provider_no: String,
    pub facility_id: Option<Id>,
    /// `AMB`, `VR` (virtual), `HH`...
    pub class_code: String,
    pub sensitivity: String,
    pub appointment_id: Option<Id>,
    pub created: Timestamp,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: BTreeMap<String, String>,
    pub last_update: Timestamp,
}
record!(Encounter, patient, uuid);

/// A chart note (OSCAR case-management note, OpenEMR SOAP note).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Note {
    pub id: Id,
    pub uuid: String,
    pub patient_id: Id,
    pub encounter_id: Option<Id>,
    pub provider_no: String,
    /// Free text, or the SOAP sections joined by the dialect.
    pub text: String,
    pub subjective: String,
    pub objective: String,
    pub assessment: String,
    pub plan: String,
    pub observed: Timestamp,
    pub signed: bool,
    pub archived: bool,
    pub created: Timestamp,
    pub last_update: Timestamp,
}
record!(Note, patient, uuid);

/// A document attached to a chart, with its bytes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Document {
    pub id: Id,
    pub uuid: String,
    /// `None` for a document not yet filed to a patient.
    pub patient: Option<Id>,
    pub file_name: String,
    pub content_type: String,
    pub description: String,
    /// OSCAR doc type or OpenEMR category (`lab`, `consult`, `Medical Record`...).
    pub category: String,
    pub source: String,
    pub observed: Option<NaiveDate>,
    pub provider_no: String,
    pub responsible_no: String,
    pub status: String,
    #[serde(skip)]
    pub content: bytes::Bytes,
    /// Providers who acknowledged it in their inbox.
    pub acknowledged_by: Vec<String>,
    pub created: Timestamp,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: BTreeMap<String, String>,
    pub last_update: Timestamp,
}
record!(Document, patient_opt, uuid);

/// A lab result as received (HL7 v2 or PDF), shown in the inbox and chart.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LabResult {
    pub id: Id,
    pub uuid: String,
    pub patient: Option<Id>,
    /// Uploader type (`CML`, `GDML`, `MDS`, `PDF`...).
    pub lab_type: String,
    pub accession: String,
    pub file_name: String,
    pub content: String,
    pub status: String,
    pub provider_no: String,
    pub observed: Option<Timestamp>,
    pub created: Timestamp,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: BTreeMap<String, String>,
    pub last_update: Timestamp,
}
record!(LabResult, patient_opt, uuid);

/// A tickler: a reminder task, optionally about a patient.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tickler {
    pub id: Id,
    pub patient: Option<Id>,
    pub message: String,
    /// `A` active, `C` completed, `D` deleted.
    pub status: String,
    /// `High`, `Normal`, `Low`.
    pub priority: String,
    pub service_date: Timestamp,
    pub creator: String,
    pub assignee: String,
    pub program_id: Id,
    pub comments: Vec<(Timestamp, String, String)>,
    pub created: Timestamp,
    pub last_update: Timestamp,
}
record!(Tickler, patient_opt);

/// A message between users, or to a patient (OpenEMR `pnotes`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Message {
    pub id: Id,
    pub patient: Option<Id>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub kind: String,
    pub created: Timestamp,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: BTreeMap<String, String>,
    pub last_update: Timestamp,
}
record!(Message, patient_opt);
