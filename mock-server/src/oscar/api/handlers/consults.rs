//! `ConsultationWebService`: referrals to specialists (requests), letters
//! back from them (responses), and their attachments.

use base64::Engine;
use serde_json::{json, Map, Value};

use super::super::render::{plain, prop};
use super::super::{Call, Outcome};
use super::util::{body_i64, body_str, generic, known_patient, npe, record as row};
use crate::store::{Data, Document, Id};

fn specialist(d: &Data, id: Option<i64>) -> Value {
    id.and_then(|i| row(d, "specialists", i))
        .map_or(Value::Null, |r| Value::Object(r.fields.clone()))
}

fn services(d: &Data) -> Vec<Value> {
    d.records
        .rows("consultServices")
        .map(|r| {
            let mut v = Value::Object(r.fields.clone());
            let specs: Vec<Value> = r
                .fields
                .get("specialistIds")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|i| specialist(d, i.as_i64()))
                .collect();
            v["specialists"] = Value::Array(specs);
            v
        })
        .collect()
}

/// The clinic's letterheads: the clinic and each doctor.
fn letterheads(d: &Data) -> Vec<Value> {
    let clinic = d.facilities.iter().next();
    let address = clinic
        .map(|f| {
            format!(
                "{} {} {} {}",
                f.address.street, f.address.city, f.address.province, f.address.postal
            )
        })
        .unwrap_or_default();
    let phone = clinic.map(|f| f.phone.clone()).unwrap_or_default();
    let mut out = vec![
        json!({"id": clinic.map(|f| f.name.clone()), "name": clinic.map(|f| f.name.clone()), "address": address, "phone": phone}),
    ];
    out.extend(d.providers.iter().filter(|p| p.provider_type == "doctor").map(|p| {
        json!({"id": p.provider_no, "name": format!("{}, {}", p.last_name, p.first_name), "address": address, "phone": phone})
    }));
    out
}

fn fax_list(d: &Data) -> Vec<Value> {
    d.facilities
        .iter()
        .map(|f| json!({"faxUser": f.name, "faxNumber": f.fax.replace("-", "")}))
        .collect()
}

/// A stored request as `ConsultationRequestTo1`.
fn request_to(d: &Data, fields: &Map<String, Value>, full: bool) -> Value {
    let mut v = Value::Object(fields.clone());
    v["professionalSpecialist"] = specialist(d, fields.get("specialistId").and_then(Value::as_i64));
    let attached: Vec<Value> = d
        .records
        .rows("consultDocs")
        .filter(|r| r.fields.get("requestId") == fields.get("id") && r.fields.get("deleted") != Some(&json!(true)))
        .map(|r| json!({"documentNo": r.fields.get("documentNo").cloned().unwrap_or(Value::Null), "documentType": r.fields.get("documentType").cloned().unwrap_or(Value::Null), "attached": true}))
        .collect();
    v["attachments"] = Value::Array(attached);
    v["extras"] = json!([]);
    if full {
        v["letterheadList"] = Value::Array(letterheads(d));
        v["faxList"] = Value::Array(fax_list(d));
        v["serviceList"] = Value::Array(services(d));
        v["sendToList"] = json!(["Doctors", "Blue"]);
    }
    v
}

/// `GET /consults/getRequest?requestId&demographicId`: a request, or a
/// blank one for the patient (with the pick lists) when `requestId` is
/// absent or 0.
pub fn get_request(call: &mut Call<'_>) -> Outcome {
    let id = call
        .query_id("requestId")
        .or_else(|| call.path_id("requestId"))
        .filter(|i| *i > 0);
    let patient = call
        .query_id("demographicId")
        .or_else(|| call.query_id("demographicNo"));
    call.read(|d| match id {
        Some(id) => match row(d, "consultRequests", id) {
            Some(r) => Outcome::Value(request_to(d, &r.fields, true)),
            None => npe("consultation request is null"),
        },
        None => {
            let mut m = Map::new();
            m.insert("demographicId".into(), json!(patient));
            m.insert("status".into(), json!("1"));
            m.insert("referralDate".into(), call.now_value());
            m.insert("patientWillBook".into(), json!(false));
            Outcome::Value(request_to(d, &m, true))
        }
    })
}

fn check_patient(call: &Call<'_>, key: &str) -> Result<Id, Outcome> {
    let Some(p) = body_i64(call, key) else {
        return Err(npe(key));
    };
    known_patient(call, p).ok_or_else(|| npe("demographic is null"))
}

/// `POST /consults/createConsultation`, `/updateConsultation`,
/// `/saveRequest` (`ConsultationRequestTo1`): the saved request, echoed
/// with its id (create: a new one; update: `id` must exist; save: either).
pub fn save_request(call: &mut Call<'_>) -> Outcome {
    let mode = call.behaviour.param("mode").unwrap_or("save").to_owned();
    if call.body.is_null() {
        return npe("request is null");
    }
    if let Err(o) = check_patient(call, "demographicId") {
        return o;
    }
    let id = body_i64(call, "id").filter(|i| *i > 0);
    if mode == "update" && id.is_none_or(|i| call.read(|d| row(d, "consultRequests", i).is_none()))
    {
        return npe("consultation request is null");
    }
    let mut fields = match &call.body {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    let spec = fields
        .get("professionalSpecialist")
        .and_then(|s| s.get("id"))
        .and_then(Value::as_i64);
    for k in [
        "professionalSpecialist",
        "attachments",
        "letterheadList",
        "faxList",
        "serviceList",
        "sendToList",
        "extras",
    ] {
        fields.remove(k);
    }
    fields.insert("specialistId".into(), json!(spec));
    if !fields.contains_key("lastFollowUp") {
        fields.insert("lastFollowUp".into(), Value::Null);
    }
    let attachments: Vec<Value> = call
        .body
        .get("attachments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let now = call.now;
    let login = call.provider_no();
    // The client's number is kept as sent: a save under an unknown one
    // (past `Id`'s range too) changes no request and still files the
    // attachments under it.
    let saved = call.write(|d| {
        let id = match (mode.as_str(), id) {
            ("create", _) | (_, None) => {
                i64::from(d.records.insert("consultRequests", fields.clone(), now))
            }
            (_, Some(id)) => {
                let f = fields.clone();
                if let Ok(known) = Id::try_from(id) {
                    d.records.update("consultRequests", known, now, move |m| {
                        for (k, v) in f {
                            m.insert(k, v);
                        }
                    });
                }
                id
            }
        };
        for a in attachments {
            let mut m = Map::new();
            m.insert("requestId".into(), json!(id));
            m.insert(
                "documentNo".into(),
                a.get("documentNo").cloned().unwrap_or(Value::Null),
            );
            m.insert(
                "documentType".into(),
                a.get("documentType").cloned().unwrap_or(json!("D")),
            );
            m.insert("providerNo".into(), json!(login));
            m.insert(
                "deleted".into(),
                json!(a.get("attached") == Some(&Value::Bool(false))),
            );
            d.records.insert("consultDocs", m, now);
        }
        id
    });
    let v =
        call.read(|d| row(d, "consultRequests", saved).map(|r| request_to(d, &r.fields, false)));
    Outcome::Typed(
        super::super::types::JType::parse("ConsultationRequestTo1"),
        v.unwrap_or(Value::Null),
    )
}

/// A patient's documents and labs as `ConsultationAttachmentTo1`, marked
/// attached when linked to the request or response.
/// `patient` is the client's number, compared as such.
fn attachments(d: &Data, patient: i64, link: Option<(&str, i64)>) -> Vec<Value> {
    let linked: Vec<(i64, String)> = match link {
        Some((key, id)) => d
            .records
            .rows("consultDocs")
            .filter(|r| {
                r.fields.get(key).and_then(Value::as_i64) == Some(id)
                    && r.fields.get("deleted") != Some(&json!(true))
            })
            .map(|r| {
                (
                    r.fields
                        .get("documentNo")
                        .and_then(Value::as_i64)
                        .unwrap_or(0),
                    prop(&r.fields, "documentType"),
                )
            })
            .collect(),
        None => Vec::new(),
    };
    let short = |s: &str| {
        if s.chars().count() > 17 {
            format!("{}...", s.chars().take(17).collect::<String>())
        } else {
            s.to_owned()
        }
    };
    let name = Id::try_from(patient)
        .ok()
        .and_then(|p| d.patients().get(p))
        .map(|p| format!("{} {}", p.last_name, p.first_name))
        .unwrap_or_default();
    let of_patient = |p: crate::store::OptId| p.get().map(i64::from) == Some(patient);
    let mut out: Vec<Value> = d
        .documents
        .iter()
        .filter(|x| of_patient(x.patient))
        .map(|x| {
            let display = format!("{} {name}", x.description);
            json!({"documentNo": x.id, "documentType": "D", "documentTypeDisplay": "Document", "attached": linked.contains(&(i64::from(x.id), "D".into())),
                   "displayName": display, "shortName": short(&display), "url": format!("documentManager/ManageDocument.do?method=display&doc_no={}", x.id)})
        })
        .collect();
    out.extend(d.labs.iter().filter(|l| of_patient(l.patient)).map(|l| {
        let display = format!("{} {}", l.accession, l.observed.unwrap_or(l.created).get().format("%Y-%m-%d %H:%M:%S"));
        json!({"documentNo": l.id, "documentType": "L", "documentTypeDisplay": "Lab Result", "attached": linked.contains(&(i64::from(l.id), "L".into())),
               "displayName": display, "shortName": short(&display), "url": format!("lab/CA/ALL/labDisplay.jsp?demographicId={patient}&segmentID={}", l.id)})
    }));
    out
}

/// `GET /consults/getRequestAttachments?requestId&demographicId&attached`
/// (and the response twin): attached documents when `attached=true`,
/// otherwise the ones that could be attached.
pub fn attachments_of(call: &mut Call<'_>) -> Outcome {
    let response = call.behaviour.param("response") == Some("true");
    let (key, id, patient) = if response {
        (
            "responseId",
            call.query_id("responseId"),
            call.query_id("demographicNo"),
        )
    } else {
        (
            "requestId",
            call.query_id("requestId")
                .or_else(|| call.path_id("requestId")),
            call.query_id("demographicId"),
        )
    };
    let Some(patient) = patient else {
        return npe("demographicId");
    };
    let attached = call
        .query
        .get("attached")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let all = call.read(|d| attachments(d, patient, id.map(|i| (key, i))));
    let list: Vec<Value> = all
        .into_iter()
        .filter(|a| a["attached"] == json!(attached))
        .collect();
    Outcome::Value(Value::Array(list))
}

/// `POST /consults/searchRequests` `{demographicNo, mrpNo, status, ...}`.
pub fn search_requests(call: &mut Call<'_>) -> Outcome {
    let patient = body_i64(call, "demographicNo");
    let status = body_str(call, "status");
    let start = body_i64(call, "startIndex").unwrap_or(0).max(0) as usize;
    let n = body_i64(call, "numToReturn").unwrap_or(i64::MAX).max(0) as usize;
    let items: Vec<Value> = call.read(|d| {
        d.records
            .rows("consultRequests")
            .filter(|r| patient.is_none_or(|p| r.patient.map(i64::from) == Some(p)))
            .filter(|r| status.as_deref().is_none_or(|s| prop(&r.fields, "status") == s))
            .map(|r| {
                let f = &r.fields;
                let p = r.patient.and_then(|id| d.patients().get(id));
                let service = f.get("serviceId").and_then(Value::as_i64).and_then(|s| row(d, "consultServices", s)).map(|s| prop(&s.fields, "serviceDesc"));
                json!({"id": r.id, "demographic": p.map(|p| json!({"demographicNo": p.id, "firstName": p.first_name, "lastName": p.last_name, "hin": p.hin})),
                       "serviceName": service, "teamName": "", "status": f.get("status"), "appointmentDate": f.get("appointmentDate"),
                       "lastFollowUp": f.get("lastFollowUp"), "referralDate": f.get("referralDate"), "urgency": f.get("urgency"),
                       "consultant": specialist(d, f.get("specialistId").and_then(Value::as_i64)),
                       "mrp": p.and_then(|p| d.provider(&p.provider_no)).map(|m| json!({"providerNo": m.provider_no, "firstName": m.first_name, "lastName": m.last_name}))})
            })
            .collect()
    });
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(n).collect();
    Outcome::Value(
        json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": page}),
    )
}

/// A stored response as `ConsultationResponseTo1`.
fn response_to(d: &Data, fields: &Map<String, Value>, today: chrono::NaiveDate) -> Value {
    let mut v = Value::Object(fields.clone());
    v["referringDoctor"] = specialist(d, fields.get("referringDoctorId").and_then(Value::as_i64));
    v["demographic"] = fields
        .get("demographicNo")
        .and_then(Value::as_i64)
        .and_then(|p| Id::try_from(p).ok())
        .and_then(|p| d.patients().get(p))
        .map_or(Value::Null, |p| super::super::beans::patient(d, p, today));
    v["attachments"] = json!([]);
    v
}

/// `POST /consults/searchResponses`.
pub fn search_responses(call: &mut Call<'_>) -> Outcome {
    let patient = body_i64(call, "demographicNo");
    let items: Vec<Value> = call.read(|d| {
        d.records
            .rows("consultResponses")
            .filter(|r| patient.is_none_or(|p| r.fields.get("demographicNo").and_then(Value::as_i64) == Some(p)))
            .map(|r| {
                let f = &r.fields;
                let p = f.get("demographicNo").and_then(Value::as_i64).and_then(|id| Id::try_from(id).ok()).and_then(|id| d.patients().get(id));
                json!({"id": r.id, "demographic": p.map(|p| json!({"demographicNo": p.id, "firstName": p.first_name, "lastName": p.last_name})),
                       "teamName": "", "status": f.get("status"), "appointmentDate": f.get("appointmentDate"), "lastFollowUp": null,
                       "referralDate": f.get("referralDate"), "responseDate": f.get("responseDate"), "urgency": f.get("urgency"),
                       "referringDoctor": specialist(d, f.get("referringDoctorId").and_then(Value::as_i64)),
                       "provider": d.provider(&prop(f, "providerNo")).map(|m| json!({"providerNo": m.provider_no, "firstName": m.first_name, "lastName": m.last_name}))})
            })
            .collect()
    });
    let total = items.len();
    Outcome::Value(
        json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": items}),
    )
}

/// `GET /consults/getResponse?responseId&demographicNo`.
pub fn get_response(call: &mut Call<'_>) -> Outcome {
    let id = call.query_id("responseId").filter(|i| *i > 0);
    let patient = call.query_id("demographicNo");
    let today = call.today();
    call.read(|d| match id {
        Some(id) => row(d, "consultResponses", id).map_or_else(
            || npe("consultation response is null"),
            |r| Outcome::Value(response_to(d, &r.fields, today)),
        ),
        None => {
            let mut m = Map::new();
            m.insert("demographicNo".into(), json!(patient));
            m.insert("status".into(), json!("1"));
            let mut v = response_to(d, &m, today);
            v["letterheadList"] = Value::Array(letterheads(d));
            v["referringDoctorList"] = Value::Array(
                d.records
                    .rows("specialists")
                    .map(|r| Value::Object(r.fields.clone()))
                    .collect(),
            );
            v["faxList"] = Value::Array(fax_list(d));
            Outcome::Value(v)
        }
    })
}

/// `POST /consults/saveResponse` (`ConsultationResponseTo1`).
pub fn save_response(call: &mut Call<'_>) -> Outcome {
    if call.body.is_null() {
        return npe("response is null");
    }
    let mut fields = match &call.body {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    let patient = fields
        .get("demographic")
        .and_then(|x| x.get("demographicNo"))
        .and_then(Value::as_i64)
        .or_else(|| fields.get("demographicNo").and_then(Value::as_i64));
    if patient.is_none_or(|p| known_patient(call, p).is_none()) {
        return npe("demographic is null");
    }
    let doc = fields
        .get("referringDoctor")
        .and_then(|x| x.get("id"))
        .and_then(Value::as_i64);
    for k in [
        "demographic",
        "referringDoctor",
        "attachments",
        "letterheadList",
        "referringDoctorList",
        "faxList",
        "sendToList",
    ] {
        fields.remove(k);
    }
    fields.insert("demographicNo".into(), json!(patient));
    fields.insert("referringDoctorId".into(), json!(doc));
    // An unknown id (past `Id`'s range too) saves a new response.
    let id = body_i64(call, "id")
        .filter(|i| *i > 0)
        .and_then(|i| Id::try_from(i).ok());
    let now = call.now;
    let saved =
        call.write(
            |d| match id.filter(|i| d.records.get("consultResponses", *i).is_some()) {
                Some(i) => {
                    d.records.update("consultResponses", i, now, |m| {
                        for (k, v) in fields {
                            m.insert(k, v);
                        }
                    });
                    i
                }
                None => d.records.insert("consultResponses", fields, now),
            },
        );
    let today = call.today();
    call.read(|d| {
        d.records.get("consultResponses", saved).map_or_else(
            || npe("response"),
            |r| Outcome::Value(response_to(d, &r.fields, today)),
        )
    })
}

/// `GET /consults/eSendRequest?requestId`: sending a request
/// electronically needs an eConsult/Ocean integration; without one the
/// resource answers failure.
pub fn e_send(call: &mut Call<'_>) -> Outcome {
    let id = call
        .query_id("requestId")
        .or_else(|| call.path_id("requestId"));
    if id.is_none_or(|i| call.read(|d| row(d, "consultRequests", i).is_none())) {
        return npe("consultation request is null");
    }
    generic(false, Some("Ocean eReferral is not configured".to_owned()))
}

/// `GET /consults/getEReferAttachments?demographicNo`: documents waiting to
/// go with an eReferral (none without the integration).
pub fn e_refer_attachments(_call: &mut Call<'_>) -> Outcome {
    Outcome::Typed(super::super::types::JType::Any, json!([]))
}

/// `GET /consults/getReferralPathwaysByService?serviceName`.
pub fn pathways(call: &mut Call<'_>) -> Outcome {
    let name = plain(&call.source("query.serviceName")).to_lowercase();
    call.read(|d| {
        let svc: Vec<Value> = services(d)
            .into_iter()
            .filter(|s| name.is_empty() || plain(&s["serviceDesc"]).to_lowercase() == name)
            .collect();
        let specs: Vec<Value> = svc
            .iter()
            .flat_map(|s| s["specialists"].as_array().cloned().unwrap_or_default())
            .collect();
        Outcome::Value(json!({"specialists": specs, "services": svc}))
    })
}

/// `POST /consults/importEconsult` (`OtnEconsult`): files the e-consult
/// as a chart document.
pub fn import_econsult(call: &mut Call<'_>) -> Outcome {
    let patient = match check_patient(call, "demographicNo") {
        Ok(p) => p,
        Err(o) => return o,
    };
    let Some(bytes) = body_str(call, "contents").and_then(|c| {
        base64::engine::general_purpose::STANDARD
            .decode(c.trim())
            .ok()
    }) else {
        return generic(false, Some("No contents".to_owned()));
    };
    let now = call.now;
    let doc = Document {
        patient: Some(patient).into(),
        file_name: body_str(call, "fileName")
            .unwrap_or_else(|| "econsult.pdf".into())
            .into(),
        content_type: body_str(call, "contentType")
            .unwrap_or_else(|| "application/pdf".into())
            .into(),
        description: body_str(call, "docDescription")
            .unwrap_or_else(|| "OTN eConsult".into())
            .into(),
        category: "consult".into(),
        source: "OTN".into(),
        observed: Some(now.date_naive()),
        provider_no: call.provider_no().into(),
        status: "A".into(),
        content: bytes::Bytes::from(bytes),
        created: now.into(),
        last_update: now.into(),
        ..Document::default()
    };
    call.write(|d| d.documents.insert(doc));
    generic(true, None)
}
