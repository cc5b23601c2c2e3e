//! Hand-written behaviours, named by the behaviour table's `handler` rows:
//! the operations whose logic is more than reading or writing a row
//! (booking, day sheets, quick search, tickler workflows, documents,
//! consultation requests, prescribing...).

mod chart;
mod clinical;
mod consults;
mod demographics;
mod documents;
mod notes;
mod persona;
mod rx;
mod schedule;
mod status;
mod tickler;
mod util;

use super::{Call, Outcome};
use crate::error::Failure;

type Handler = fn(&mut Call<'_>) -> Outcome;

/// Every handler, by the name the table uses.
const HANDLERS: &[(&str, Handler)] = &[
    ("checkIfAuthed", status::check_if_authed),
    ("oauthInfo", status::oauth_info),
    ("csrfToken", clinical::csrf_token),
    ("demographicsList", demographics::list),
    ("demographicCreate", demographics::create),
    ("demographicUpdate", demographics::update),
    ("demographicGet", demographics::get),
    ("demographicSummary", demographics::summary),
    ("demographicDelete", demographics::delete),
    ("demographicQuickSearch", demographics::quick_search),
    ("demographicSearch", demographics::search),
    (
        "demographicSearchIntegrator",
        demographics::search_integrator,
    ),
    ("demographicMatch", demographics::match_demographic),
    ("demographicMatchPartial", demographics::match_partial),
    ("demographicMerge", demographics::merge),
    ("demographicUnmerge", demographics::unmerge),
    ("demographicMerged", demographics::merged),
    ("isUniqueHC", clinical::is_unique_hc),
    ("validateHC", clinical::validate_hc),
    ("measurements", clinical::measurements),
    ("measurementSave", clinical::measurement_save),
    ("preventionsActive", clinical::preventions),
    ("immunizations", clinical::preventions),
    ("labsByPatient", clinical::labs_by_patient),
    ("labUpload", clinical::lab_upload),
    ("inboxMine", clinical::inbox_mine),
    ("inboxCount", clinical::inbox_count),
    ("messagesUnread", clinical::messages_unread),
    ("messagesCount", clinical::messages_count),
    ("dxRegistry", clinical::dx_registry),
    ("dxFindLike", clinical::dx_find_like),
    ("dxAdd", clinical::dx_add),
    ("daySheet", schedule::day_sheet),
    ("appointmentTypes", schedule::types),
    ("appointmentAdd", schedule::add),
    ("appointmentGet", schedule::get),
    ("appointmentDelete", schedule::delete),
    ("appointmentUpdate", schedule::update),
    ("appointmentSet", schedule::set_field),
    ("appointmentHistory", schedule::history),
    ("appointmentsMonthly", schedule::monthly),
    ("appointmentsFetchDays", schedule::fetch_days),
    ("appointmentCounts", schedule::provider_counts),
    ("appointmentsProviderPeriod", schedule::provider_period),
    ("searchConfigGet", chart::search_config_get),
    ("searchConfigSave", chart::search_config_save),
    ("ticklerSearch", tickler::search),
    ("ticklerMine", tickler::mine),
    ("ticklerList", tickler::list),
    ("ticklerSetStatus", tickler::set_status),
    ("ticklerUpdate", tickler::update),
    ("ticklerAdd", tickler::add),
    ("ticklerOverdue", tickler::overdue),
    ("ticklerNoteGet", tickler::note_get),
    ("ticklerNoteSave", tickler::note_save),
    ("documentSave", documents::save),
    ("documentUploadPending", documents::upload_pending),
    ("patientDocuments", documents::patient_list),
    ("patientDocumentStream", documents::patient_stream),
    ("rxDrugs", rx::drugs),
    ("rxHistory", rx::history),
    ("rxNew", rx::new),
    ("rxUpdate", rx::update),
    ("rxRepresc", rx::represcribe),
    ("rxDiscontinue", rx::discontinue),
    ("rxPrescribe", rx::prescribe),
    ("rxPrescriptions", rx::prescriptions),
    ("rxRecordPrint", rx::record_print),
    ("rxPrint", rx::print),
    ("rxWatermark", rx::watermark),
    ("rxLookupSearch", rx::lookup_search),
    ("rxLookupDetails", rx::lookup_details),
    ("rxParse", rx::parse),
    ("notesAll", notes::all),
    ("noteSave", notes::save),
    ("noteTmpSave", notes::tmp_save),
    ("noteCurrent", notes::current),
    ("noteSaveIssue", notes::save_issue_note),
    ("noteIssue", notes::issue_note),
    ("noteExt", notes::note_ext),
    ("noteEditing", notes::editing),
    ("consultSearchRequests", consults::search_requests),
    ("consultSearchResponses", consults::search_responses),
    ("consultGetRequest", consults::get_request),
    ("consultAttachments", consults::attachments_of),
    ("consultGetResponse", consults::get_response),
    ("consultSaveRequest", consults::save_request),
    ("consultSaveResponse", consults::save_response),
    ("consultESend", consults::e_send),
    ("consultEReferAttachments", consults::e_refer_attachments),
    ("consultPathways", consults::pathways),
    ("consultImportEconsult", consults::import_econsult),
    ("formsForPatient", chart::forms_for_patient),
    ("hasRight", persona::has_right),
    ("hasRights", persona::has_rights),
    ("allowedAccess", persona::allowed_access),
    ("navbar", persona::navbar),
    ("patientListConfig", persona::patient_list_config),
    ("personaPreferences", persona::preferences),
    ("personaUpdatePreferences", persona::update_preferences),
    ("providerMe", persona::me),
    ("providerTransfer", persona::provider_transfer),
    ("providerJson", persona::provider_json),
    ("providersXml", persona::providers_xml),
    ("providerSearch", persona::search),
    ("activeTeams", persona::active_teams),
    ("recentDemographics", persona::recent_demographics),
    ("providerSettings", persona::settings),
    ("suggestProviderNo", persona::suggest_provider_no),
    ("demographicSetPatients", chart::demographic_set_patients),
    ("eformReportPopulate", chart::eform_report_populate),
    ("preventionReportRun", chart::prevention_report_run),
    ("recordMenu", chart::record_menu),
    ("summaryColumn", chart::summary_column),
    ("summary", chart::summary),
    ("chartPrint", chart::print),
    ("k2aUnavailable", chart::k2a_unavailable),
    ("pdfOf", chart::pdf_of),
    ("surveillanceExport", chart::surveillance_export),
    ("surveillanceDownload", chart::surveillance_download),
];

#[cfg(test)]
pub fn exists(name: &str) -> bool {
    HANDLERS.iter().any(|(n, _)| *n == name)
}

pub fn run(call: &mut Call<'_>) -> Outcome {
    let name = call.behaviour.param("name").unwrap_or_default();
    match HANDLERS.iter().find(|(n, _)| *n == name) {
        Some((_, h)) => h(call),
        None => Outcome::Error(Failure::Internal(format!("no handler `{name}`"))),
    }
}
