//! The chart screens' reads (`RecordUxService` summaries and menu, the
//! forms lists, printing), reporting helpers, the appointment-search
//! configuration, and the answers of features that need an external
//! system (K2A) the mock does not run.

use serde_json::{json, Map, Value};

use super::super::behaviour::body_value;
use super::super::render::{plain, prop};
use super::super::{Call, Outcome};
use super::util::{body_str, generic, npe, of_patient as of, pdf_outcome};
use crate::store::{Data, Id};

/// A `SummaryItemTo1`.
fn item(id: Id, name: String, date: Value, kind: &str, classification: &str) -> Value {
    json!({"displayName": name, "id": id, "noteId": null, "action": null, "date": date, "classification": classification,
           "abnormalFlag": false, "indicatorClass": null, "warning": null, "type": kind, "editor": null, "extra": null})
}

/// The patient a path names: `None` for a number past `Id`'s range,
/// which is no one's and so reads as an unknown patient.
fn path_patient(call: &Call<'_>) -> Option<Option<Id>> {
    call.path_id("demographicNo").map(|p| Id::try_from(p).ok())
}

/// The items of one chart summary (empty lists for `p` `None`).
fn summary_items(d: &Data, p: Option<Id>, code: &str) -> Option<(String, Vec<Value>)> {
    let notes_with = |issue: &str| -> Vec<Value> {
        let ids: Vec<i64> = d
            .records
            .rows("noteIssues")
            .filter(|r| {
                r.fields
                    .get("issue")
                    .and_then(|i| i.get("code"))
                    .map(plain)
                    .as_deref()
                    == Some(issue)
            })
            .filter_map(|r| r.fields.get("noteId").and_then(Value::as_i64))
            .collect();
        of(&d.notes, p)
            .filter(|n| ids.contains(&i64::from(n.id)) && !n.archived)
            .map(|n| {
                item(
                    n.id,
                    n.text.to_string(),
                    json!(n.observed.get().to_rfc3339()),
                    "note",
                    "",
                )
            })
            .collect()
    };
    Some(match code {
        "allergies" => (
            "Allergies".into(),
            of(&d.allergies, p)
                .filter(|a| !a.archived)
                .map(|a| {
                    item(
                        a.id,
                        format!("{} ({})", a.description, a.reaction),
                        json!(a.entry_date.map(|x| x.to_string())),
                        "allergy",
                        "",
                    )
                })
                .collect(),
        ),
        "meds" => (
            "Medications".into(),
            of(&d.medications, p)
                .filter(|m| !m.archived)
                .map(|m| {
                    item(
                        m.id,
                        format!("{} {} {}", m.brand_name, m.dosage, m.frequency),
                        json!(m.start_date.map(|x| x.to_string())),
                        "drug",
                        if m.long_term { "longterm" } else { "" },
                    )
                })
                .collect(),
        ),
        "preventions" => (
            "Preventions".into(),
            of(&d.immunizations, p)
                .filter(|i| !i.deleted)
                .map(|i| {
                    item(
                        i.id,
                        i.kind.to_string(),
                        json!(i.date.map(|x| x.to_string())),
                        "prevention",
                        "",
                    )
                })
                .collect(),
        ),
        "ongoingconcerns" => (
            "Ongoing Concerns".into(),
            of(&d.problems, p)
                .map(|x| {
                    item(
                        x.id,
                        x.title.to_string(),
                        json!(x.begin.map(|b| b.to_string())),
                        "dx",
                        &x.diagnosis,
                    )
                })
                .chain(notes_with("Concerns"))
                .collect(),
        ),
        "othermeds" => ("Other Meds".into(), notes_with("OMeds")),
        "medhx" => ("Medical History".into(), notes_with("MedHistory")),
        "famhx" => ("Family History".into(), notes_with("FamHistory")),
        "sochx" => ("Social History".into(), notes_with("SocHistory")),
        "socfamhx" => (
            "Social/Family History".into(),
            notes_with("SocHistory")
                .into_iter()
                .chain(notes_with("FamHistory"))
                .collect(),
        ),
        "reminders" => ("Reminders".into(), notes_with("Reminders")),
        "riskfactors" => ("Risk Factors".into(), notes_with("RiskFactors")),
        "assessments" => ("Assessments".into(), Vec::new()),
        "incoming" => (
            "Incoming".into(),
            d.documents
                .iter()
                .filter(|x| p.is_some() && x.patient == p)
                .map(|x| {
                    item(
                        x.id,
                        x.description.to_string(),
                        json!(x.observed.map(|o| o.to_string())),
                        "document",
                        "",
                    )
                })
                .chain(
                    d.labs
                        .iter()
                        .filter(|l| p.is_some() && l.patient == p)
                        .map(|l| {
                            item(
                                l.id,
                                l.accession.to_string(),
                                json!(l.created.get().to_rfc3339()),
                                "lab",
                                "",
                            )
                        }),
                )
                .collect(),
        ),
        "decisionSupportAlerts" => ("Decision Support".into(), Vec::new()),
        _ => return None,
    })
}

fn summary_to(id: i64, code: &str, name: String, items: Vec<Value>) -> Value {
    json!({"displayName": name, "displaySize": null, "id": id, "summaryItem": items, "summaryCode": code})
}

/// `GET /recordUX/{demographicNo}/get*` and `/fullSummary/{summaryCode}`:
/// one summary; an unknown code is a `NullPointerException`.
pub fn summary(call: &mut Call<'_>) -> Outcome {
    let Some(p) = path_patient(call) else {
        return npe("demographicNo");
    };
    let code = call
        .behaviour
        .param("code")
        .map(str::to_owned)
        .or_else(|| call.path.get("summaryCode").map(plain))
        .unwrap_or_default();
    call.read(|d| match summary_items(d, p, &code) {
        Some((name, items)) => Outcome::Value(summary_to(0, &code, name, items)),
        None => npe(&format!("summary {code}")),
    })
}

/// `GET /recordUX/{demographicNo}/summary/{summaryName}`: the summaries of
/// the chart's left or right column.
pub fn summary_column(call: &mut Call<'_>) -> Outcome {
    let Some(p) = path_patient(call) else {
        return npe("demographicNo");
    };
    let codes: &[&str] = match call.path.get("summaryName").map(plain).as_deref() {
        Some("left") | Some("leftColumn") => &["ongoingconcerns", "medhx", "socfamhx", "reminders"],
        Some("right") | Some("rightColumn") => &[
            "meds",
            "othermeds",
            "assessments",
            "allergies",
            "riskfactors",
            "preventions",
            "incoming",
            "decisionSupportAlerts",
        ],
        _ => &[],
    };
    call.read(|d| {
        let list: Vec<Value> = codes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                summary_items(d, p, c).map(|(n, items)| summary_to(i as i64, c, n, items))
            })
            .collect();
        Outcome::Value(Value::Array(list))
    })
}

/// `GET /recordUX/{demographicNo}/recordMenu`: the chart menu (recorded),
/// its links carrying the patient's number.
pub fn record_menu(call: &mut Call<'_>) -> Outcome {
    if call.path_id("demographicNo").is_none() {
        return npe("demographicNo");
    }
    Outcome::Value(body_value(call, "@recordMenu"))
}

/// `GET /recordUX/{demographicNo}/print?printOps`: the chart as PDF.
pub fn print(call: &mut Call<'_>) -> Outcome {
    let Some(p) = path_patient(call) else {
        return npe("demographicNo");
    };
    let lines = call.read(|d| {
        let pt = d.patients().get(p?)?;
        let mut lines = vec![format!(
            "{} - DOB {} - HIN {} {}",
            pt.display_name(),
            pt.birth_date.map(|b| b.to_string()).unwrap_or_default(),
            pt.hin,
            pt.hin_version
        )];
        for code in ["allergies", "meds", "ongoingconcerns", "preventions"] {
            if let Some((name, items)) = summary_items(d, p, code) {
                lines.push(format!("{name}:"));
                lines.extend(
                    items
                        .iter()
                        .map(|i| format!("  {}", plain(&i["displayName"]))),
                );
            }
        }
        Some(lines)
    });
    match lines {
        Some(l) => pdf_outcome("Patient Chart Summary", &l),
        None => npe("demographic is null"),
    }
}

/// `GET /forms/{demographicNo}/all?heading` and
/// `/completedEncounterForms`: the patient's e-forms and forms.
pub fn forms_for_patient(call: &mut Call<'_>) -> Outcome {
    let Some(p) = path_patient(call) else {
        return npe("demographicNo");
    };
    let completed = call.behaviour.param("completed") == Some("true");
    let heading = plain(&call.source("query.heading"));
    call.read(|d| {
        let mut list: Vec<Value> = Vec::new();
        // Juno's /all/completed lists e-forms too; only /all/revisions keeps deleted ones.
        let eforms = !completed || call.behaviour.param("eforms") == Some("true");
        let deleted_too = call.behaviour.param("revisions") == Some("true");
        if eforms && heading != "Encounter" {
            let shown = |r: &&crate::store::collections::Row| p.is_some() && r.patient == p && (deleted_too || r.fields.get("status").map(plain).as_deref() != Some("deleted"));
            list.extend(d.records.rows("eformData").filter(shown).map(|r| {
                let f = &r.fields;
                json!({"id": r.id, "demographicNo": p, "formId": f.get("formId"), "type": "eform", "name": f.get("formName"),
                       "subject": f.get("subject"), "status": f.get("status"), "date": f.get("date"), "showLatestFormOnly": false})
            }));
        }
        list.extend(d.records.rows("formData").filter(|r| p.is_some() && r.patient == p).map(|r| {
            let f = &r.fields;
            json!({"id": r.id, "demographicNo": p, "formId": f.get("formId"), "type": "form", "name": f.get("name"),
                   "subject": "", "status": f.get("status"), "date": f.get("date"), "showLatestFormOnly": true})
        }));
        if completed && call.variant == super::super::Variant::Juno && call.op.column("response_type").starts_with("RestResponse") {
            return Outcome::Value(Value::Array(list));
        }
        Outcome::Value(json!({"name": if completed { "Completed" } else if heading.is_empty() { "All" } else { heading.as_str() }, "list": list}))
    })
}

/// `POST /reporting/demographicSets/patientList` `{name}`: the set's
/// patients as a patient list.
pub fn demographic_set_patients(call: &mut Call<'_>) -> Outcome {
    let name = body_str(call, "name").unwrap_or_default();
    let patients: Vec<Value> = call.read(|d| {
        d.records
            .rows("demographicSets")
            .filter(|r| prop(&r.fields, "name") == name && prop(&r.fields, "archived") != "1")
            .filter_map(|r| r.fields.get("demographicNo").and_then(Value::as_i64))
            .filter_map(|id| Id::try_from(id).ok())
            .filter_map(|id| {
                d.patients()
                    .get(id)
                    .map(|p| json!({"demographicNo": id, "name": p.display_name()}))
            })
            .collect()
    });
    Outcome::Value(json!({"template": "patientlist/demographicSets.jsp", "patients": patients}))
}

/// `POST /reporting/eformReportTool/populate` (`EFormReportToolTo1`):
/// copies the e-form's submitted data into the tool's table.
pub fn eform_report_populate(call: &mut Call<'_>) -> Outcome {
    let Some(id) = super::util::body_i64(call, "id") else {
        return npe("id");
    };
    let now = call.now;
    let done = call.write(|d| {
        // A number past `Id`'s range is no tool's: "Not found".
        let id = Id::try_from(id).ok()?;
        let eform = d
            .records
            .get("eformReportTools", id)
            .and_then(|r| r.fields.get("eformId").and_then(Value::as_i64))?;
        let n = d
            .records
            .rows("eformData")
            .filter(|r| r.fields.get("formId").and_then(Value::as_i64) == Some(eform))
            .count();
        d.records.update("eformReportTools", id, now, |m| {
            m.insert("numRecordsInTable".into(), json!(n));
            m.insert("dateLastPopulated".into(), json!(now.to_rfc3339()));
        })
    });
    generic(
        done.is_some(),
        done.is_none().then(|| "Not found".to_owned()),
    )
}

/// `POST /reporting/preventionReport/runReport/{id}`: the report's
/// patients (age band and roster status from the saved search) with the
/// date of their last matching prevention.
pub fn prevention_report_run(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("id") else {
        return npe("id");
    };
    let today = call.today();
    call.read(|d| {
        let Some(r) = Id::try_from(id)
            .ok()
            .and_then(|id| d.records.get("preventionReports", id))
        else {
            return Outcome::Empty(204);
        };
        let f = &r.fields;
        let min_age: i32 = prop(f, "age1").parse().unwrap_or(0);
        let roster = prop(f, "rosterStat");
        let kinds: Vec<String> = f.get("preventions").and_then(Value::as_array).into_iter().flatten().map(|x| plain(&x["name"])).collect();
        let items: Vec<Value> = d
            .patients()
            .iter()
            .filter(|p| super::util::is_active(p) && (roster.is_empty() || p.roster_status == roster))
            .filter(|p| p.birth_date.is_some_and(|b| super::demographics::age_years(b, today) >= min_age))
            .map(|p| {
                let last = d.immunizations.for_patient(p.id).filter(|i| kinds.iter().any(|k| *k == i.kind)).filter_map(|i| i.date).max();
                json!({"demographicNo": p.id, "name": p.display_name(), "lastDate": last.map(|x| x.to_string()), "status": if last.is_some() { "done" } else { "due" }})
            })
            .collect();
        Outcome::Typed(super::super::types::JType::Any, json!({"reportId": id, "reportName": f.get("reportName"), "items": items}))
    })
}

/// `GET /schedule/searchConfig/{id}` and `/byProvider/{id}`: the online
/// booking configuration (`SearchConfigTo1`); an unknown one is null (204).
pub fn search_config_get(call: &mut Call<'_>) -> Outcome {
    let by_provider = call.behaviour.param("by") == Some("provider");
    let key = call.path.get("id").map(plain).unwrap_or_default();
    call.read(|d| {
        let row = d.records.rows("searchConfigs").find(|r| {
            if by_provider {
                prop(&r.fields, "providerNo") == key && r.fields.get("active") == Some(&json!(true))
            } else {
                r.id.to_string() == key
            }
        });
        match row {
            Some(r) => {
                let mut v = match r.fields.get("config") {
                    Some(Value::Object(c)) => Value::Object(c.clone()),
                    _ => search_config_default(d),
                };
                v["id"] = json!(r.id);
                v["title"] = r.fields.get("searchName").cloned().unwrap_or(Value::Null);
                Outcome::Value(v)
            }
            None => Outcome::Empty(204),
        }
    })
}

/// The configuration OSCAR builds for a new search: the bookable
/// appointment types and the doctors.
fn search_config_default(d: &Data) -> Value {
    let types: Vec<Value> = d
        .appointment_types
        .iter()
        .filter(|t| t.bookable)
        .map(|t| json!({"id": t.id, "name": t.name, "duration": t.duration_min}))
        .collect();
    let providers: Vec<Value> = d
        .providers
        .iter()
        .filter(|p| p.provider_type == "doctor")
        .map(|p| json!({"providerNo": p.provider_no, "lastName": p.last_name, "firstName": p.first_name, "allowedToBook": true}))
        .collect();
    json!({"defaultAppointmentCount": 3, "daysToSearchAheadLimit": 60, "numberOfAppointmentOptionsToReturn": 3, "appointmentBookingOnline": true,
           "timezone": "America/Toronto", "bookingProviders": providers, "bookingAppointmentTypes": types, "appointmentCodeDurations": {"A": 15},
           "apptCodes": [], "numberOfMinutesAdvance": 60, "appointmentLocation": "Maple Grove", "openAccessList": []})
}

/// `POST /schedule/searchConfig/{id}` (`SearchConfigTo1`): saves the
/// configuration as a new version (the old one is deactivated) and
/// answers the new `AppointmentSearchTo1`; id 0 is a null entity (204).
pub fn search_config_save(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("id").filter(|i| *i != 0) else {
        return Outcome::Empty(204);
    };
    let config = call.body.clone();
    let now = call.now;
    let saved = call.write(|d| {
        let id = Id::try_from(id).ok()?;
        let old = d.records.get("searchConfigs", id)?.fields.clone();
        d.records.update("searchConfigs", id, now, |m| {
            m.insert("active".into(), json!(false));
        });
        let mut m = Map::new();
        for k in ["providerNo", "searchName", "searchType", "uuid"] {
            m.insert(k.into(), old.get(k).cloned().unwrap_or(Value::Null));
        }
        m.insert("active".into(), json!(true));
        m.insert("createDate".into(), json!(now.to_rfc3339()));
        m.insert("updateDate".into(), json!(now.to_rfc3339()));
        m.insert("config".into(), config);
        let new = d.records.insert("searchConfigs", m, now);
        d.records.get("searchConfigs", new).map(|r| {
            let mut v = Value::Object(r.fields.clone());
            if let Value::Object(m) = &mut v {
                m.remove("config");
                m.remove("uuid");
                m.remove("updateDate");
            }
            v
        })
    });
    match saved {
        Some(v) => Outcome::Typed(super::super::types::JType::parse("AppointmentSearchTo1"), v),
        None => npe("currentAppointmentSearch is null"),
    }
}

/// K2A (Know2Act) is not initialised on the mock: the resources find no
/// K2A application and return nothing.
pub fn k2a_unavailable(_call: &mut Call<'_>) -> Outcome {
    Outcome::Empty(204)
}

/// A PDF printout (`title=` from the table) of the patient in the path.
pub fn pdf_of(call: &mut Call<'_>) -> Outcome {
    let title = call.behaviour.param("title").unwrap_or("Report").to_owned();
    let p = call.path_id("demographicNo");
    let line = call.read(|d| {
        p.and_then(|p| Id::try_from(p).ok())
            .and_then(|p| d.patients().get(p))
            .map(|x| format!("{} - HIN {}", x.display_name(), x.hin))
    });
    match line {
        Some(l) => pdf_outcome(&title, &[l, "No records found.".to_owned()]),
        None => npe("demographic is null"),
    }
}

/// OSCAR 19 `POST /surveillance/generateExport/{id}`: an export file of
/// the survey's (empty) data.
pub fn surveillance_export(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("id") else {
        return Outcome::Empty(404);
    };
    let known = |d: &Data| Id::try_from(id).is_ok_and(|i| d.records.get("surveys", i).is_some());
    if !call.read(known) {
        return Outcome::Empty(404);
    }
    let now = call.now;
    call.write(|d| {
        let mut m = Map::new();
        m.insert("surveyId".into(), json!(id));
        m.insert(
            "fileName".into(),
            json!(format!("survey-{id}-{}.csv", now.format("%Y%m%d%H%M%S"))),
        );
        m.insert("sent".into(), json!(false));
        m.insert("createdDate".into(), json!(now.to_rfc3339()));
        d.records.insert("surveillanceExports", m, now);
    });
    Outcome::Empty(200)
}

/// OSCAR 19 `GET /surveillance/download/{id}`: an export file as text.
pub fn surveillance_download(call: &mut Call<'_>) -> Outcome {
    let id = call.path_id("id");
    match call.read(|d| {
        id.and_then(|i| Id::try_from(i).ok())
            .and_then(|i| d.records.get("surveillanceExports", i))
            .map(|r| prop(&r.fields, "fileName"))
    }) {
        Some(name) => Outcome::Raw {
            status: 200,
            content_type: "text/plain".into(),
            body: format!("# {name}\ndemographic_no,answer\n").into_bytes(),
        },
        None => Outcome::Empty(404),
    }
}
