//! `NotesService`: encounter notes, their issues and the "being edited"
//! flags.

use serde_json::{json, Map, Value};

use super::super::beans;
use super::super::render::{plain, prop};
use super::super::{Call, Outcome};
use super::util::{body_i64, body_str, generic, known_patient, npe, of_patient};
use crate::store::{Data, Id, Note};

fn with_issues(d: &Data, n: &Note) -> Value {
    let mut v = beans::note(n, d);
    let issues: Vec<Value> = d
        .records
        .rows("noteIssues")
        .filter(|r| r.fields.get("noteId").and_then(Value::as_i64) == Some(i64::from(n.id)))
        .map(|r| Value::Object(r.fields.clone()))
        .collect();
    v["assignedIssues"] = Value::Array(issues);
    v
}

/// `POST /notes/{demographicNo}/all?numToReturn=20&offset=0`: the chart's
/// notes, newest first.
pub fn all(call: &mut Call<'_>) -> Outcome {
    let Some(p) = call.path_id("demographicNo") else {
        return npe("demographicNo");
    };
    let n = call.query_id("numToReturn").unwrap_or(20).max(0) as usize;
    let offset = call.query_id("offset").unwrap_or(0).max(0) as usize;
    let provider = body_str(call, "providerNo");
    let p = Id::try_from(p).ok();
    call.read(|d| {
        let mut notes: Vec<&Note> = of_patient(&d.notes, p).filter(|x| !x.archived).collect();
        if let Some(prov) = provider.as_deref().filter(|s| !s.is_empty()) {
            notes.retain(|x| x.provider_no == prov);
        }
        notes.sort_by(|a, b| b.observed.cmp(&a.observed).then(b.id.cmp(&a.id)));
        let list: Vec<Value> = notes
            .into_iter()
            .skip(offset)
            .take(n)
            .map(|x| with_issues(d, x))
            .collect();
        Outcome::Value(json!({"notelist": list}))
    })
}

/// `[Signed on 11-Sep-2025 14:06 by Alex]`, appended to signed notes.
fn signature(call: &Call<'_>, d: &Data) -> String {
    let me = call.provider_no();
    let name = d
        .provider(&me)
        .map(|p| p.first_name.clone())
        .unwrap_or(me.into());
    format!(
        "\n[Signed on {} by {name}]\n",
        call.now.format("%d-%b-%Y %H:%M")
    )
}

fn save_note(call: &mut Call<'_>, sign_default: bool) -> Outcome {
    let Some(p) = call.path_id("demographicNo") else {
        return npe("demographicNo");
    };
    if call.body.is_null() {
        return npe("note is null");
    }
    let Some(p) = known_patient(call, p) else {
        return npe("demographic is null");
    };
    let text = body_str(call, "note").unwrap_or_default();
    let signed = call
        .body
        .get("isSigned")
        .and_then(Value::as_bool)
        .unwrap_or(sign_default);
    // An unknown note (past `Id`'s range too) is saved as a new one.
    let existing = body_i64(call, "noteId")
        .filter(|id| *id > 0)
        .and_then(|id| Id::try_from(id).ok());
    let issues: Vec<String> = call
        .body
        .get("assignedIssues")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| i.get("issue").and_then(|x| x.get("code")).map(plain))
        .collect();
    let now = call.now;
    let login = call.provider_no();
    let uuid = call.state.rng.uuid();
    let id = call.write(|d| {
        let text = if signed {
            format!("{text}{}", signature(call, d))
        } else {
            text
        };
        let id = match existing.filter(|id| d.notes.get(*id).is_some_and(|n| n.patient_id == p)) {
            Some(id) => {
                d.notes.update(id, now, |n| {
                    n.text = text.into();
                    n.signed = signed;
                    n.provider_no = login.clone().into();
                });
                id
            }
            None => d.notes.insert(Note {
                uuid: uuid.into(),
                patient_id: p,
                provider_no: login.clone().into(),
                text: text.into(),
                observed: now.into(),
                signed,
                created: now.into(),
                last_update: now.into(),
                ..Note::default()
            }),
        };
        for code in issues {
            let mut m = Map::new();
            m.insert("noteId".into(), json!(id));
            m.insert("demographic_no".into(), json!(p.to_string()));
            m.insert("issue_id".into(), json!(0));
            m.insert("acute".into(), json!(false));
            m.insert("certain".into(), json!(false));
            m.insert("major".into(), json!(false));
            m.insert("resolved".into(), json!(false));
            m.insert("unchecked".into(), json!(false));
            m.insert("unsaved".into(), json!(false));
            m.insert("update_date".into(), json!(now.to_rfc3339()));
            m.insert("issue".into(), json!({"code": code, "issueChange": false}));
            d.records.insert("noteIssues", m, now);
        }
        id
    });
    call.read(|d| {
        d.notes
            .get(id)
            .map_or_else(|| npe("note"), |n| Outcome::Value(with_issues(d, n)))
    })
}

/// `POST /notes/{demographicNo}/save`: a note, signed when `isSigned`.
pub fn save(call: &mut Call<'_>) -> Outcome {
    save_note(call, false)
}

/// `POST /notes/{demographicNo}/tmpSave` (`NoteTo1`): an unsigned draft.
pub fn tmp_save(call: &mut Call<'_>) -> Outcome {
    if let Value::Object(m) = &mut call.body {
        m.insert("isSigned".into(), Value::Bool(false));
    }
    save_note(call, false)
}

/// `POST /notes/{demographicNo}/getCurrentNote`: my latest unsigned note
/// for the chart, or a fresh one.
pub fn current(call: &mut Call<'_>) -> Outcome {
    let Some(p) = call.path_id("demographicNo") else {
        return npe("demographicNo");
    };
    let me = call.provider_no();
    let p = Id::try_from(p).ok();
    call.read(|d| {
        let draft = of_patient(&d.notes, p).filter(|n| !n.signed && n.provider_no == me).max_by_key(|n| n.last_update);
        Outcome::Value(match draft {
            Some(n) => with_issues(d, n),
            None => json!({"noteId": 0, "note": "", "isSigned": false, "providerNo": me, "encounterType": "", "observationDate": call.now_value(), "assignedIssues": []}),
        })
    })
}

/// `POST /notes/getIssueNote/{noteId}`: the note with its issues.
pub fn issue_note(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("noteId") else {
        return npe("noteId");
    };
    call.read(|d| match Id::try_from(id).ok().and_then(|id| d.notes.get(id)) {
        Some(n) => {
            let note = with_issues(d, n);
            let assigned = note["assignedIssues"].clone();
            let issue = assigned.as_array().and_then(|a| a.first()).map(|i| i["issue"].clone()).unwrap_or(Value::Null);
            Outcome::Value(json!({"encounterNote": note, "groupNoteExt": null, "issue": issue, "assignedCMIssues": assigned}))
        }
        None => npe("note is null"),
    })
}

/// `POST /notes/{demographicNo}/saveIssueNote` (`NoteIssueTo1`): saves its
/// `encounterNote` under its `issue`; the `Response` carries the saved
/// `NoteIssueTo1`.
pub fn save_issue_note(call: &mut Call<'_>) -> Outcome {
    let Some(note) = call.body.get("encounterNote").cloned() else {
        return npe("encounterNote is null");
    };
    let issue = call.body.get("issue").cloned().unwrap_or(Value::Null);
    let mut body = note;
    if let (Value::Object(m), false) = (&mut body, issue.is_null()) {
        m.insert("assignedIssues".into(), json!([{"issue": issue.clone()}]));
    }
    call.body = body;
    match save_note(call, true) {
        Outcome::Value(n) => Outcome::Typed(
            super::super::types::JType::parse("NoteIssueTo1"),
            json!({"encounterNote": n, "issue": issue, "groupNoteExt": call.body.get("groupNoteExt").cloned().unwrap_or(Value::Null)}),
        ),
        other => other,
    }
}

/// `POST /notes/getGroupNoteExt/{noteId}`: the note's CPP extension (an
/// empty one when it has none).
pub fn note_ext(call: &mut Call<'_>) -> Outcome {
    let id = call.path_id("noteId");
    let found = call.read(|d| {
        d.records
            .rows("noteExts")
            .find(|r| r.fields.get("noteId").and_then(Value::as_i64) == id)
            .map(|r| Value::Object(r.fields.clone()))
    });
    Outcome::Value(found.unwrap_or_else(|| json!({"noteId": id})))
}

/// The "note being edited" flags: `setEditingNoteFlag` and
/// `checkEditNoteNew` (`?noteUUID&userId`) answer whether the caller may
/// edit; `removeEditingNoteFlag` clears the flag (void).
pub fn editing(call: &mut Call<'_>) -> Outcome {
    let uuid = plain(&call.source("query.noteUUID"));
    let user = plain(&call.source("query.userId"));
    let now = call.now;
    let holder: Option<(Id, String)> = call.read(|d| {
        d.records
            .rows("noteEditing")
            .find(|r| prop(&r.fields, "noteUUID") == uuid)
            .map(|r| (r.id, prop(&r.fields, "userId")))
    });
    let free = holder.as_ref().is_none_or(|(_, u)| *u == user);
    match call.behaviour.param("set") {
        Some("true") => {
            if free && holder.is_none() && !uuid.is_empty() {
                call.write(|d| {
                    let mut m = Map::new();
                    m.insert("noteUUID".into(), json!(uuid));
                    m.insert("userId".into(), json!(user));
                    d.records.insert("noteEditing", m, now);
                });
            }
            generic(free, None)
        }
        Some("false") => {
            if let Some((id, u)) = holder {
                if u == user {
                    call.write(|d| d.records.remove("noteEditing", id));
                }
            }
            Outcome::Empty(204)
        }
        _ => generic(free, None),
    }
}
