//! Entities the OpenEMR-family APIs added to the shared model: payers and
//! policies, referral transactions, the drug formulary, questionnaire
//! answers and bulk-export jobs. Like the rest of the model, field names
//! say what a value means; each dialect maps them to its wire names.

use chrono::NaiveDate;
use serde::Serialize;

use super::{Address, Ext, Id, Stamp, Text, Uuid};
use crate::record;

/// A payer (OpenEMR `insurance_companies`, a FHIR payer Organization).
#[derive(Debug, Clone, Default, Serialize)]
pub struct InsuranceCompany {
    pub id: Id,
    pub uuid: Uuid,
    pub name: Text,
    pub attn: Text,
    pub cms_id: Text,
    /// OpenEMR `ins_type_code` (1 Other HCFA, 2 Medicare Part B, ...).
    pub ins_type_code: Text,
    pub x12_receiver_id: Text,
    pub x12_default_partner_id: Text,
    pub alt_cms_id: Text,
    pub address: Address,
    pub phone: Text,
    pub last_update: Stamp,
}
record!(InsuranceCompany, uuid);

/// A patient's insurance policy (OpenEMR `insurance_data`, FHIR Coverage).
#[derive(Debug, Clone, Default, Serialize)]
pub struct InsurancePolicy {
    pub id: Id,
    pub uuid: Uuid,
    pub patient_id: Id,
    /// The payer ([`InsuranceCompany`] id).
    pub company_id: Id,
    /// `primary`, `secondary` or `tertiary`.
    pub kind: Text,
    pub plan_name: Text,
    pub policy_number: Text,
    pub group_number: Text,
    /// `self`, `spouse`, `child`, `other`.
    pub relationship: Text,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub copay: Text,
    pub accept_assignment: Text,
    pub policy_type: Text,
    /// The subscriber's columns (`subscriber_fname`, `subscriber_DOB`, ...).
    pub subscriber: Ext,
    pub last_update: Stamp,
}
record!(InsurancePolicy, patient, uuid);

/// A patient transaction (OpenEMR `transactions` + `lbt_data`): referrals,
/// legal and billing notes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Transaction {
    pub id: Id,
    pub patient_id: Id,
    /// The transaction type (`LBTref` referral, `LBTbill`, `LBTlegal`...).
    pub kind: Text,
    pub title: Text,
    pub body: Text,
    pub user: Text,
    pub groupname: Text,
    pub date: Option<Stamp>,
    /// The layout fields (`refer_to`, `refer_diag`, `refer_risk_level`...).
    pub fields: Ext,
    pub last_update: Stamp,
}
record!(Transaction, patient);

/// A formulary drug (OpenEMR `drugs`, FHIR Medication).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Drug {
    pub id: Id,
    pub uuid: Uuid,
    pub name: Text,
    pub generic_name: Text,
    pub rxnorm: Text,
    pub ndc: Text,
    /// Canadian drug identification number, for OSCAR-family dialects.
    pub din: Text,
    pub form: Text,
    pub size: Text,
    pub unit: Text,
    pub route: Text,
    pub active: bool,
    pub last_update: Stamp,
}
record!(Drug, uuid);

/// A patient's answers to a questionnaire (FHIR QuestionnaireResponse).
#[derive(Debug, Clone, Default, Serialize)]
pub struct QuestionnaireResponse {
    pub id: Id,
    pub uuid: Uuid,
    pub patient_id: Id,
    /// The questionnaire's name (`PHQ-2`).
    pub questionnaire: Text,
    pub status: Text,
    pub authored: Stamp,
    /// `(linkId, question text, answer)` in order.
    pub answers: Vec<(Text, Text, Text)>,
    pub last_update: Stamp,
}
record!(QuestionnaireResponse, patient, uuid);

/// A FHIR bulk-data export job and the files it wrote (documents).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportJob {
    pub id: Id,
    pub uuid: Uuid,
    pub client_id: Text,
    pub user: Text,
    /// `System`, `Patient` or `Group`.
    pub level: Text,
    pub group: Option<String>,
    pub types: Vec<String>,
    pub since: Option<Stamp>,
    /// The kick-off URL, as the manifest's `request`.
    pub request: Text,
    pub started: Stamp,
    /// When the status first reports complete.
    pub ready_at: Stamp,
    /// `(resource type, document uuid)` per output file.
    pub output: Vec<(String, String)>,
    pub last_update: Stamp,
}
record!(ExportJob, uuid);
