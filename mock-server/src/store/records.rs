//! Entities the OpenEMR-family APIs added to the shared model: payers and
//! policies, referral transactions, the drug formulary, questionnaire
//! answers and bulk-export jobs. Like the rest of the model, field names
//! say what a value means; each dialect maps them to its wire names.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::{Address, Id, Timestamp};
use crate::record;

/// A payer (OpenEMR `insurance_companies`, a FHIR payer Organization).
#[derive(Debug, Clone, Default, Serialize)]
pub struct InsuranceCompany {
    pub id: Id,
    pub uuid: String,
    pub name: String,
    pub attn: String,
    pub cms_id: String,
    /// OpenEMR `ins_type_code` (1 Other HCFA, 2 Medicare Part B, ...).
    pub ins_type_code: String,
    pub x12_receiver_id: String,
    pub x12_default_partner_id: String,
    pub alt_cms_id: String,
    pub address: Address,
    pub phone: String,
    pub last_update: Timestamp,
}
record!(InsuranceCompany, uuid);

/// A patient's insurance policy (OpenEMR `insurance_data`, FHIR Coverage).
#[derive(Debug, Clone, Default, Serialize)]
pub struct InsurancePolicy {
    pub id: Id,
    pub uuid: String,
    pub patient_id: Id,
    /// The payer ([`InsuranceCompany`] id).
    pub company_id: Id,
    /// `primary`, `secondary` or `tertiary`.
    pub kind: String,
    pub plan_name: String,
    pub policy_number: String,
    pub group_number: String,
    /// `self`, `spouse`, `child`, `other`.
    pub relationship: String,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub copay: String,
    pub accept_assignment: String,
    pub policy_type: String,
    /// The subscriber's columns (`subscriber_fname`, `subscriber_DOB`, ...).
    pub subscriber: BTreeMap<String, String>,
    pub last_update: Timestamp,
}
record!(InsurancePolicy, patient, uuid);

/// A patient transaction (OpenEMR `transactions` + `lbt_data`): referrals,
/// legal and billing notes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Transaction {
    pub id: Id,
    pub patient_id: Id,
    /// The transaction type (`LBTref` referral, `LBTbill`, `LBTlegal`...).
    pub kind: String,
    pub title: String,
    pub body: String,
    pub user: String,
    pub groupname: String,
    pub date: Option<Timestamp>,
    /// The layout fields (`refer_to`, `refer_diag`, `refer_risk_level`...).
    pub fields: BTreeMap<String, String>,
    pub last_update: Timestamp,
}
record!(Transaction, patient);

/// A formulary drug (OpenEMR `drugs`, FHIR Medication).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Drug {
    pub id: Id,
    pub uuid: String,
    pub name: String,
    pub generic_name: String,
    pub rxnorm: String,
    pub ndc: String,
    /// Canadian drug identification number, for OSCAR-family dialects.
    pub din: String,
    pub form: String,
    pub size: String,
    pub unit: String,
    pub route: String,
    pub active: bool,
    pub last_update: Timestamp,
}
record!(Drug, uuid);

/// A patient's answers to a questionnaire (FHIR QuestionnaireResponse).
#[derive(Debug, Clone, Default, Serialize)]
pub struct QuestionnaireResponse {
    pub id: Id,
    pub uuid: String,
    pub patient_id: Id,
    /// The questionnaire's name (`PHQ-2`).
    pub questionnaire: String,
    pub status: String,
    pub authored: Timestamp,
    /// `(linkId, question text, answer)` in order.
    pub answers: Vec<(String, String, String)>,
    pub last_update: Timestamp,
}
record!(QuestionnaireResponse, patient, uuid);

/// A FHIR bulk-data export job and the files it wrote (documents).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportJob {
    pub id: Id,
    pub uuid: String,
    pub client_id: String,
    pub user: String,
    /// `System`, `Patient` or `Group`.
    pub level: String,
    pub group: Option<String>,
    pub types: Vec<String>,
    pub since: Option<Timestamp>,
    /// The kick-off URL, as the manifest's `request`.
    pub request: String,
    pub started: Timestamp,
    /// When the status first reports complete.
    pub ready_at: Timestamp,
    /// `(resource type, document uuid)` per output file.
    pub output: Vec<(String, String)>,
    pub last_update: Timestamp,
}
record!(ExportJob, uuid);
