//! The clinical model every dialect reads and writes. Field names follow
//! the clinical meaning, not one system's column names; each dialect maps
//! them to its wire names (OSCAR `demographic_no`, OpenEMR `pid`, FHIR
//! `Patient.id`). Values a dialect has no typed home for go in `ext`.

use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;

use super::{Ext, Id, OptId, Stamp, Text, Timestamp, Uuid};
use crate::record;

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Address {
    pub street: Text,
    pub city: Text,
    /// Province or state code (`ON`).
    pub province: Text,
    pub postal: Text,
    pub country: Text,
}

/// A patient: OSCAR's demographic, OpenEMR's patient_data, FHIR's Patient.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Patient {
    /// `demographic_no` in OSCAR, `pid` in OpenEMR.
    pub id: Id,
    /// OpenEMR's `uuid`, the FHIR Patient id.
    pub uuid: Uuid,
    pub title: Text,
    pub first_name: Text,
    pub middle_name: Text,
    pub last_name: Text,
    pub alias: Text,
    /// `M`, `F`, `O` (other), `U` (unknown).
    pub sex: Text,
    pub birth_date: Option<NaiveDate>,
    /// Health insurance number, its version code and issuing province.
    pub hin: Text,
    pub hin_version: Text,
    pub hc_type: Text,
    pub hc_renew_date: Option<NaiveDate>,
    pub chart_no: Text,
    pub address: Address,
    pub phone_home: Text,
    pub phone_work: Text,
    pub phone_cell: Text,
    pub email: Text,
    /// OSCAR patient status: `AC` active, `IN` inactive, `DE` deceased,
    /// `MO` moved, `FI` fired.
    pub status: Text,
    pub status_date: Option<NaiveDate>,
    /// Roster status (`RO` rostered, `NR`, `TE` terminated).
    pub roster_status: Text,
    pub roster_date: Option<NaiveDate>,
    /// The most responsible provider.
    pub provider_no: Text,
    pub official_language: Text,
    pub spoken_language: Text,
    pub date_joined: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub sin: Text,
    pub gender: Text,
    pub pronoun: Text,
    /// Patient-portal login (OpenEMR `patient_access_onsite`).
    pub portal_username: Text,
    pub portal_password: Text,
    pub ext: Ext,
    pub created: Stamp,
    pub last_update: Stamp,
    pub last_update_user: Text,
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
    pub provider_no: Text,
    pub uuid: Uuid,
    pub first_name: Text,
    pub last_name: Text,
    pub title: Text,
    /// `doctor`, `nurse`, `receptionist`, `admin`.
    pub provider_type: Text,
    pub specialty: Text,
    pub sex: Text,
    pub birth_date: Option<NaiveDate>,
    pub ohip_no: Text,
    pub billing_no: Text,
    /// College registration number (CPSO).
    pub practitioner_no: Text,
    pub npi: Text,
    pub phone: Text,
    pub work_phone: Text,
    pub email: Text,
    pub address: Text,
    /// `1` active, `0` inactive.
    pub status: Text,
    pub team: Text,
    pub comments: Text,
    pub facility_id: OptId,
    pub ext: Ext,
    pub last_update: Stamp,
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
    pub user_name: Text,
    pub password: Text,
    pub pin: Text,
    pub provider_no: Text,
    pub expires: Option<NaiveDate>,
    pub locked: bool,
    pub last_update: Stamp,
}
record!(Login);

/// A clinic site.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facility {
    pub id: Id,
    pub uuid: Uuid,
    pub name: Text,
    pub address: Address,
    pub phone: Text,
    pub fax: Text,
    pub email: Text,
    pub npi: Text,
    pub active: bool,
    pub primary: bool,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: Ext,
    pub last_update: Stamp,
}
record!(Facility, uuid);

/// An OSCAR program (CAISI): the clinic's default program and its staff.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Program {
    pub id: Id,
    pub name: Text,
    pub description: Text,
    pub program_type: Text,
    pub facility_id: Id,
    pub active: bool,
    pub provider_nos: Vec<String>,
    pub last_update: Stamp,
}
record!(Program);

/// A booked appointment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Appointment {
    pub id: Id,
    pub uuid: Uuid,
    pub provider_no: Text,
    /// `None` for a slot booked without a patient (OSCAR allows it).
    pub patient: OptId,
    pub date: NaiveDate,
    pub start: NaiveTime,
    pub end: NaiveTime,
    /// The patient's name as typed on the schedule.
    pub name: Text,
    pub notes: Text,
    pub reason: Text,
    pub location: Text,
    pub resources: Text,
    /// Appointment type name.
    pub kind: Text,
    pub style: Text,
    pub billing: Text,
    /// OSCAR status code (`t` to do, `H` here, `P` picked, `C` cancelled, `N` no-show...).
    pub status: Text,
    pub program_id: Id,
    pub facility_id: OptId,
    pub urgency: Text,
    pub remarks: Text,
    pub booking_source: Text,
    /// When and by whom the patient confirmed it (Juno), if they did.
    pub confirmed_at: Option<Stamp>,
    pub confirmed_by: Text,
    pub confirmed_by_type: Text,
    pub created: Stamp,
    pub creator: Text,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: Ext,
    pub last_update: Stamp,
    pub last_update_user: Text,
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
    pub last_update: Stamp,
}
record!(AppointmentArchive);

/// A billing record received from an outside billing system.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BillingRecord {
    pub id: Id,
    pub patient: OptId,
    pub appointment_id: OptId,
    pub practitioner_no: Text,
    pub billing_code: Text,
    pub amount: Text,
    pub service_date: Text,
    pub status: Text,
    /// Every other field as received, by its wire name.
    pub fields: Ext,
    pub created: Stamp,
    pub last_update: Stamp,
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
    pub name: Text,
    pub duration_min: u32,
    pub notes: Text,
    pub reason: Text,
    pub location: Text,
    pub resources: Text,
    /// Offered to external booking (OSCAR BookingService).
    pub bookable: bool,
    pub last_update: Stamp,
}
record!(AppointmentType);

/// A schedule template code: one character stands for one kind of slot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScheduleCode {
    pub id: Id,
    pub code: char,
    pub description: Text,
    pub duration_min: u32,
    pub color: Text,
    pub confirm: Text,
    pub booking_limit: u32,
    pub last_update: Stamp,
}
record!(ScheduleCode);

/// A provider's working day: one template character per slot, `_` for
/// not available (OSCAR's `scheduletemplate.timecode`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScheduleDay {
    pub id: Id,
    pub provider_no: Text,
    pub date: NaiveDate,
    pub slot_min: u32,
    pub timecode: Text,
    pub holiday: bool,
    pub last_update: Stamp,
}
record!(ScheduleDay);

/// An allergy or intolerance.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Allergy {
    pub id: Id,
    pub uuid: Uuid,
    pub patient_id: Id,
    pub description: Text,
    pub reaction: Text,
    /// `1` mild, `2` moderate, `3` severe, `4` unknown.
    pub severity: Text,
    /// `1` immediate, `2` gradual, `3` slow, `4` unknown.
    pub onset: Text,
    /// OSCAR allergy type code (8 generic, 13 brand, ...).
    pub type_code: i32,
    pub start_date: Option<NaiveDate>,
    pub entry_date: Option<NaiveDate>,
    pub life_stage: Text,
    pub archived: bool,
    pub provider_no: Text,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: Ext,
    pub last_update: Stamp,
}
record!(Allergy, patient, uuid);

/// A prevention (OSCAR) or immunization (OpenEMR, FHIR).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Immunization {
    pub id: Id,
    pub uuid: Uuid,
    pub patient_id: Id,
    /// OSCAR prevention type (`Flu`, `Td`, `MMR`, `PAP`...).
    pub kind: Text,
    /// CVX code for vaccines, empty for screenings.
    pub cvx: Text,
    pub date: Option<NaiveDate>,
    pub provider_no: Text,
    pub refused: bool,
    pub never: bool,
    pub deleted: bool,
    pub next_date: Option<NaiveDate>,
    /// Lot, manufacturer, route, dose, site, comments.
    pub ext: Ext,
    pub created: Stamp,
    pub creator: Text,
    pub last_update: Stamp,
}
record!(Immunization, patient, uuid);

/// One measured value: OSCAR measurement, OpenEMR vital sign, FHIR Observation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Measurement {
    pub id: Id,
    pub uuid: Uuid,
    pub patient_id: Id,
    /// OSCAR measurement type (`BP`, `WT`, `HT`, `TEMP`, `HR`, `A1C`...).
    pub kind: Text,
    pub value: Text,
    pub unit: Text,
    pub instruction: Text,
    pub comments: Text,
    pub observed: Stamp,
    pub provider_no: Text,
    pub appointment_id: OptId,
    pub encounter_id: OptId,
    pub created: Stamp,
    pub last_update: Stamp,
}
record!(Measurement, patient, uuid);

/// A drug on the patient's profile, prescribed or recorded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Medication {
    pub id: Id,
    pub uuid: Uuid,
    pub patient_id: Id,
    pub provider_no: Text,
    /// The prescription (script) it was written on.
    pub script_no: OptId,
    pub brand_name: Text,
    pub generic_name: Text,
    pub din: Text,
    pub atc: Text,
    pub rxnorm: Text,
    pub dosage: Text,
    pub route: Text,
    pub frequency: Text,
    pub quantity: Text,
    pub repeats: u32,
    pub instructions: Text,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub long_term: bool,
    pub archived: bool,
    pub archived_reason: Text,
    pub created: Stamp,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: Ext,
    pub last_update: Stamp,
}
record!(Medication, patient, uuid);

/// A prescription: the script several medications are written on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Prescription {
    pub id: Id,
    pub uuid: Uuid,
    pub patient_id: Id,
    pub provider_no: Text,
    pub date_prescribed: Option<NaiveDate>,
    pub text: Text,
    pub comments: Text,
    pub printed: Option<Stamp>,
    pub created: Stamp,
    pub last_update: Stamp,
}
record!(Prescription, patient, uuid);

/// A problem on the patient's problem list (OpenEMR `lists` rows:
/// medical_problem, surgery, dental; OSCAR disease registry / issues).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Problem {
    pub id: Id,
    pub uuid: Uuid,
    pub patient_id: Id,
    /// `medical_problem`, `surgery`, `dental`.
    pub kind: Text,
    pub title: Text,
    /// Coded diagnosis, `ICD10:J45.909` style.
    pub diagnosis: Text,
    pub begin: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub comments: Text,
    pub provider_no: Text,
    pub created: Stamp,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: Ext,
    pub last_update: Stamp,
}
record!(Problem, patient, uuid);

/// A visit (OpenEMR encounter, FHIR Encounter).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Encounter {
    pub id: Id,
    pub uuid: Uuid,
    pub patient_id: Id,
    pub date: Stamp,
    pub reason: Text,
    pub provider_no: Text,
    pub facility_id: OptId,
    /// `AMB`, `VR` (virtual), `HH`...
    pub class_code: Text,
    pub sensitivity: Text,
    pub appointment_id: OptId,
    pub created: Stamp,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: Ext,
    pub last_update: Stamp,
}
record!(Encounter, patient, uuid);

/// A chart note (OSCAR case-management note, OpenEMR SOAP note).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Note {
    pub id: Id,
    pub uuid: Uuid,
    pub patient_id: Id,
    pub encounter_id: OptId,
    pub provider_no: Text,
    /// Free text, or the SOAP sections joined by the dialect.
    pub text: Text,
    pub subjective: Text,
    pub objective: Text,
    pub assessment: Text,
    pub plan: Text,
    pub observed: Stamp,
    pub signed: bool,
    pub archived: bool,
    pub created: Stamp,
    pub last_update: Stamp,
}
record!(Note, patient, uuid);

/// A document attached to a chart, with its bytes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Document {
    pub id: Id,
    pub uuid: Uuid,
    /// `None` for a document not yet filed to a patient.
    pub patient: OptId,
    pub file_name: Text,
    pub content_type: Text,
    pub description: Text,
    /// OSCAR doc type or OpenEMR category (`lab`, `consult`, `Medical Record`...).
    pub category: Text,
    pub source: Text,
    pub observed: Option<NaiveDate>,
    pub provider_no: Text,
    pub responsible_no: Text,
    pub status: Text,
    #[serde(skip)]
    pub content: bytes::Bytes,
    /// Providers who acknowledged it in their inbox.
    pub acknowledged_by: Vec<String>,
    pub created: Stamp,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: Ext,
    pub last_update: Stamp,
}
record!(Document, patient_opt, uuid);

/// A lab result as received (HL7 v2 or PDF), shown in the inbox and chart.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LabResult {
    pub id: Id,
    pub uuid: Uuid,
    pub patient: OptId,
    /// Uploader type (`CML`, `GDML`, `MDS`, `PDF`...).
    pub lab_type: Text,
    pub accession: Text,
    pub file_name: Text,
    pub content: String,
    pub status: Text,
    pub provider_no: Text,
    pub observed: Option<Stamp>,
    pub created: Stamp,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: Ext,
    pub last_update: Stamp,
}
record!(LabResult, patient_opt, uuid);

/// A tickler: a reminder task, optionally about a patient.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tickler {
    pub id: Id,
    pub patient: OptId,
    pub message: Text,
    /// `A` active, `C` completed, `D` deleted.
    pub status: Text,
    /// `High`, `Normal`, `Low`.
    pub priority: Text,
    pub service_date: Stamp,
    pub creator: Text,
    pub assignee: Text,
    pub program_id: Id,
    pub comments: Vec<(Timestamp, String, String)>,
    pub created: Stamp,
    pub last_update: Stamp,
}
record!(Tickler, patient_opt);

/// A message between users, or to a patient (OpenEMR `pnotes`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Message {
    pub id: Id,
    pub patient: OptId,
    pub from: Text,
    pub to: Text,
    pub subject: Text,
    pub body: Text,
    pub status: Text,
    pub kind: Text,
    pub created: Stamp,
    /// Columns of one dialect that have no typed home (OpenEMR: `pc_catid`, codes...).
    pub ext: Ext,
    pub last_update: Stamp,
}
record!(Message, patient_opt);
