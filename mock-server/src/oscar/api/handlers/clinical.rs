//! Chart reads and writes that are not prescriptions or notes:
//! measurements, preventions, labs, the inbox, messages, the disease
//! registry, health-card checks.

use base64::Engine;
use serde_json::{json, Map, Value};

use super::super::beans;
use super::super::render::{instant, plain, prop};
use super::super::{Call, Outcome};
use super::util::{body_i64, body_str, exception, generic, known_patient, npe, of_patient, text};
use crate::store::{Id, LabResult, Measurement, Problem};

/// `POST /measurements/{demographicNo}` `{types: [..]}`: the patient's
/// measurements of those types, by type, with their units.
pub fn measurements(call: &mut Call<'_>) -> Outcome {
    let Some(patient) = call.path_id("demographicNo") else {
        return npe("demographicNo");
    };
    let types: Vec<String> = call
        .body
        .get("types")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|t| plain(t).to_uppercase()).collect())
        .unwrap_or_default();
    let patient = Id::try_from(patient).ok();
    call.read(|d| {
        let mut by_type = Map::new();
        let mut units = Map::new();
        for m in of_patient(&d.measurements, patient) {
            if !types.is_empty() && !types.contains(&m.kind.as_str().to_uppercase()) {
                continue;
            }
            let list = by_type.entry(m.kind.clone()).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(a) = list {
                a.push(json!({
                    "id": m.id, "type": m.kind, "demographicId": m.patient_id, "providerNo": m.provider_no,
                    "dataField": m.value, "measuringInstruction": m.instruction, "comments": m.comments,
                    "dateObserved": m.observed.get().timestamp_millis(), "dateEntered": m.created.get().timestamp_millis(),
                    "appointmentNo": m.appointment_id.get().unwrap_or(0),
                }));
            }
            units.insert(m.kind.to_string(), Value::String(m.unit.to_string()));
        }
        Outcome::Value(json!({"measurements": by_type, "measurementUnits": units}))
    })
}

/// OSCAR 19 `POST /measurements/{demographicNo}/save` (`MeasurementTo1`).
pub fn measurement_save(call: &mut Call<'_>) -> Outcome {
    let Some(patient) = call.path_id("demographicNo") else {
        return npe("demographicNo");
    };
    let Some(patient) = known_patient(call, patient) else {
        return npe("demographic is null");
    };
    let (Some(kind), Some(value)) = (body_str(call, "type"), body_str(call, "dataField")) else {
        return npe("type/dataField");
    };
    let now = call.now;
    let observed = call
        .body
        .get("dateObserved")
        .and_then(instant)
        .unwrap_or(now);
    let m = Measurement {
        patient_id: patient,
        kind: kind.clone().into(),
        value: value.into(),
        instruction: body_str(call, "measuringInstruction")
            .unwrap_or_default()
            .into(),
        comments: body_str(call, "comments").unwrap_or_default().into(),
        observed: observed.into(),
        provider_no: call.provider_no().into(),
        // A number past `Id`'s range links no appointment, as 0 does.
        appointment_id: body_i64(call, "appointmentNo")
            .filter(|a| *a > 0)
            .and_then(|a| Id::try_from(a).ok())
            .into(),
        created: now.into(),
        last_update: now.into(),
        ..Measurement::default()
    };
    call.write(|d| d.measurements.insert(m));
    call.body = json!({"types": [kind]});
    measurements(call)
}

/// `GET /preventions/active?demographicNo` and
/// `/preventions/immunizations/{demographicNo}`.
pub fn preventions(call: &mut Call<'_>) -> Outcome {
    let patient = call
        .path_id("demographicNo")
        .or_else(|| call.query_id("demographicNo"));
    let immunizations_only = call.path.contains_key("demographicNo");
    call.read(|d| {
        let items: Vec<Value> = d
            .immunizations
            .iter()
            .filter(|i| patient.is_none_or(|p| i64::from(i.patient_id) == p) && !i.deleted)
            .filter(|i| !immunizations_only || !i.cvx.is_empty())
            .map(beans::prevention)
            .collect();
        Outcome::Value(json!({"preventions": items}))
    })
}

/// `GET /labs/hl7LabsByDemographicNo?demographicNo&offset&limit`.
pub fn labs_by_patient(call: &mut Call<'_>) -> Outcome {
    let patient = call.query_id("demographicNo").unwrap_or(0);
    let offset = call.query_id("offset").unwrap_or(0).max(0) as usize;
    let limit = call.query_id("limit").unwrap_or(0).max(0) as usize;
    call.read(|d| {
        let items: Vec<Value> = d
            .labs
            .iter()
            .filter(|l| l.patient.get().map(i64::from) == Some(patient))
            .skip(offset)
            .take(if limit == 0 { usize::MAX } else { limit })
            .map(|l| {
                let mut v = beans::lab(l, d);
                v["base64EncodedeMessage"] =
                    json!(base64::engine::general_purpose::STANDARD.encode(&l.content));
                v
            })
            .collect();
        Outcome::Value(json!({"messages": items}))
    })
}

/// Open-O `POST /labs/hl7LabUpload` (`Hl7TextMessageTo1`): stores the
/// message (segments rejoined with `\r`), matches the patient as every
/// OSCAR lab upload does (health number, else name and birth date: the
/// same matcher as `LabUploadService`), and answers the stored message.
pub fn lab_upload(call: &mut Call<'_>) -> Outcome {
    let Some(encoded) = body_str(call, "base64EncodedeMessage") else {
        return npe("base64EncodedeMessage");
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return exception(
            "java.lang.IllegalArgumentException",
            "Illegal base64 character",
        );
    };
    let hl7 = String::from_utf8_lossy(&raw)
        .replace("\r\n", "\r")
        .replace('\n', "\r");
    let kind = body_str(call, "type").unwrap_or_else(|| "GDML".into());
    let name = body_str(call, "fileName").unwrap_or_default();
    let now = call.now;
    let id = call.write(|d| {
        let patient = crate::oscar::soap::labs::Hl7::parse(&hl7).and_then(|m| m.match_patient(d));
        d.labs.insert(LabResult {
            patient: patient.into(),
            lab_type: kind.clone().into(),
            accession: hl7
                .split('\r')
                .find(|l| l.starts_with("OBR|"))
                .and_then(|l| l.split('|').nth(4))
                .and_then(|f| f.split('^').nth(3))
                .unwrap_or("")
                .to_owned()
                .into(),
            file_name: name.clone().into(),
            content: hl7.clone(),
            status: "N".into(),
            provider_no: "999998".into(),
            observed: Some(now.into()),
            created: now.into(),
            last_update: now.into(),
            ..LabResult::default()
        })
    });
    let v = json!({
        "id": id, "fileUploadCheckId": id + 8,
        "base64EncodedeMessage": base64::engine::general_purpose::STANDARD.encode(hl7.as_bytes()),
        "type": kind, "serviceName": null, "created": null, "fileName": name,
    });
    Outcome::Typed(super::super::types::JType::parse("Hl7TextMessageTo1"), v)
}

/// `GET /inbox/mine?limit`: unacknowledged labs and documents for me.
pub fn inbox_mine(call: &mut Call<'_>) -> Outcome {
    let me = call.provider_no();
    let limit = call.query_id("limit").unwrap_or(0).max(0);
    let items: Vec<Value> = call.read(|d| {
        let mut items: Vec<Value> = d.labs.iter().filter(|l| l.status == "N" && l.provider_no == me).map(|l| beans::lab(l, d)).collect();
        items.extend(d.documents.iter().filter(|x| x.status == "P" || (x.responsible_no == me && x.status == "A" && x.category == "lab")).map(|x| {
            let patient = x.patient.get().and_then(|p| d.patients().get(p));
            json!({
                "id": x.id, "demographicNo": x.patient, "demographicName": patient.map(|p| p.display_name()),
                "discipline": "", "source": x.source, "dateReceived": format!("{0} / {0}", x.created.get().date_naive()),
                "status": "Final", "priority": "----", "hin": patient.map(|p| p.hin.clone()),
            })
        }));
        items
    });
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .take(if limit > 0 {
            limit as usize
        } else {
            usize::MAX
        })
        .collect();
    Outcome::Value(
        json!({"offset": 0, "limit": limit, "total": total, "timestamp": call.now_value(), "content": page, "query": null}),
    )
}

/// `GET /inbox/mine/count`: an `int` under the class's XML default.
pub fn inbox_count(call: &mut Call<'_>) -> Outcome {
    let me = call.provider_no();
    let n = call.read(|d| {
        d.labs
            .iter()
            .filter(|l| l.status == "N" && l.provider_no == me)
            .count()
    });
    Outcome::Value(json!(n))
}

/// `GET /messaging/unread?startIndex&limit`: new messages to me.
pub fn messages_unread(call: &mut Call<'_>) -> Outcome {
    let me = call.provider_no();
    let start = call.query_id("startIndex").unwrap_or(0).max(0) as usize;
    let limit = call.query_id("limit").unwrap_or(0).max(0) as usize;
    call.read(|d| {
        let all: Vec<Value> = d.messages.iter().filter(|m| m.to == me && m.status == "new").map(|m| beans::message(m, d)).collect();
        let total = all.len();
        let items: Vec<Value> = all.into_iter().skip(start).take(if limit == 0 { usize::MAX } else { limit }).collect();
        Outcome::Value(json!({"offset": start, "limit": limit, "total": total, "timestamp": call.now_value(), "content": items, "query": null}))
    })
}

/// `GET /messaging/count?demoAttachedOnly`: an `int` under the XML default.
pub fn messages_count(call: &mut Call<'_>) -> Outcome {
    let me = call.provider_no();
    let attached = call
        .query
        .get("demoAttachedOnly")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let n = call.read(|d| {
        d.messages
            .iter()
            .filter(|m| m.to == me && m.status == "new" && (!attached || m.patient.is_some()))
            .count()
    });
    Outcome::Value(json!(n))
}

/// `GET /dxRegisty/getDiseaseRegistry?demographicNo`: the patient's
/// registry entries (a plain JSON array in the `Response`).
pub fn dx_registry(call: &mut Call<'_>) -> Outcome {
    let patient = call.query_id("demographicNo");
    let items: Vec<Value> = call.read(|d| {
        d.problems
            .iter()
            .filter(|p| Some(i64::from(p.patient_id)) == patient)
            .map(beans::problem)
            .collect()
    });
    Outcome::Typed(super::super::types::JType::Any, Value::Array(items))
}

/// `POST /dxRegisty/findLikeIssue` (`DiagnosisTo1`): issues whose code or
/// description is like the body's.
pub fn dx_find_like(call: &mut Call<'_>) -> Outcome {
    let code = body_str(call, "code").unwrap_or_default().to_lowercase();
    let desc = body_str(call, "description")
        .unwrap_or_default()
        .to_lowercase();
    let items: Vec<Value> = call.read(|d| {
        d.records
            .rows("issues")
            .filter(|r| {
                let c = prop(&r.fields, "code").to_lowercase();
                let t = prop(&r.fields, "description").to_lowercase();
                (!code.is_empty() && c.starts_with(&code))
                    || (!desc.is_empty() && t.contains(&desc))
            })
            .map(|r| Value::Object(r.fields.clone()))
            .collect()
    });
    Outcome::Typed(super::super::types::JType::Any, Value::Array(items))
}

/// `POST /dxRegisty/{demographicNo}/add` (`IssueTo1`): adds the issue to
/// the patient's problem list.
pub fn dx_add(call: &mut Call<'_>) -> Outcome {
    let Some(patient) = call.path_id("demographicNo") else {
        return npe("demographicNo");
    };
    let Some(patient) = known_patient(call, patient) else {
        return npe("demographic is null");
    };
    let (Some(code), description) = (
        body_str(call, "code"),
        body_str(call, "description").unwrap_or_default(),
    ) else {
        return npe("issue code");
    };
    let system = body_str(call, "type").unwrap_or_else(|| "icd9".into());
    let now = call.now;
    let p = Problem {
        patient_id: patient,
        kind: "medical_problem".into(),
        title: description.into(),
        diagnosis: format!("{}:{code}", system.to_uppercase()).into(),
        begin: Some(now.date_naive()),
        provider_no: call.provider_no().into(),
        created: now.into(),
        last_update: now.into(),
        ..Problem::default()
    };
    let id = call.write(|d| d.problems.insert(p));
    Outcome::Typed(
        super::super::types::JType::Any,
        json!({"success": true, "id": id}),
    )
}

/// `GET /patientDetailStatusService/isUniqueHC?hin&demographicNo`: false
/// when another chart carries the number.
pub fn is_unique_hc(call: &mut Call<'_>) -> Outcome {
    let hin = call.source("query.hin");
    let hin = plain(&hin);
    let me = call.query_id("demographicNo");
    let taken = call.read(|d| {
        d.search_patients_by_hin(&hin)
            .any(|p| p.hin == hin && Some(i64::from(p.id)) != me)
    });
    generic(!hin.is_empty() && !taken, None)
}

/// `GET /patientDetailStatusService/validateHC?hin&ver`: without an online
/// health-card validation service configured, every number is answered
/// valid (recorded on Open-O with `1234567890`).
pub fn validate_hc(call: &mut Call<'_>) -> Outcome {
    if call.source("query.hin").is_null() {
        return npe("hin");
    }
    Outcome::Value(
        json!({"responseCode": "51", "responseDescription": "Valid Health Card Number", "feeServiceDetails": [], "valid": true}),
    )
}

/// Open-O `POST /csrf/getToken`: the session's CSRF token, as text.
pub fn csrf_token(call: &mut Call<'_>) -> Outcome {
    let seed = call
        .principal
        .as_ref()
        .map(|p| format!("{:?}", p.via))
        .unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let token: String = digest
        .as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02X}"))
        .collect();
    let token = format!(
        "{}-{}-{}-{}-{}-{}-{}-{}",
        &token[0..4],
        &token[4..8],
        &token[8..12],
        &token[12..16],
        &token[16..20],
        &token[20..24],
        &token[24..28],
        &token[28..32]
    );
    text(call, 200, &token)
}
