//! `DocumentService` (document upload) and OSCAR 19's
//! `PatientDocumentService` (a patient's documents, e-forms, forms and HL7
//! labs, listed and downloaded).

use base64::Engine;
use serde_json::{json, Value};

use super::super::beans;
use super::super::render::{plain, prop};
use super::super::{Call, Outcome};
use super::util::{body_i64, body_str, npe, text};
use crate::store::{Data, Document, Id};

/// The stored name: a timestamp prefix and the name without characters
/// OSCAR's file-name cleaner drops.
fn stored_name(call: &Call<'_>, name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
        .collect();
    format!("{}_{clean}", call.now.format("%Y%m%d%H%M%S"))
}

fn decode(call: &Call<'_>) -> Option<Vec<u8>> {
    let raw = body_str(call, "fileContents")?;
    base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .ok()
}

fn insert(call: &Call<'_>, patient: Option<Id>, bytes: Vec<u8>, queue: bool) -> Id {
    let now = call.now;
    let s = |k: &str| body_str(call, k).unwrap_or_default();
    let provider = body_str(call, "providerNo").unwrap_or_default();
    let doc = Document {
        patient: patient.into(),
        file_name: stored_name(call, &s("fileName")).into(),
        content_type: s("contentType").into(),
        description: s("description").into(),
        category: s("type").into(),
        source: body_str(call, "source")
            .filter(|x| !x.is_empty())
            .unwrap_or_else(|| "REST API".into())
            .into(),
        observed: Some(now.date_naive()),
        provider_no: provider.clone().into(),
        responsible_no: String::new().into(),
        status: if queue { "P".into() } else { "A".into() },
        content: bytes::Bytes::from(bytes),
        created: now.into(),
        last_update: now.into(),
        ..Document::default()
    };
    call.write(|d| d.documents.insert(doc))
}

/// The converter's echo: no provider or patient number, the creator set.
fn echo(d: &Data, id: Id) -> Value {
    let Some(doc) = d.documents.get(id) else {
        return Value::Null;
    };
    let mut v = beans::document(doc);
    v["demographicNo"] = Value::Null;
    v["providerNo"] = Value::Null;
    v["type"] = json!(doc.category);
    v["numberOfPages"] = json!(0);
    v["observationDate"] = v["contentDateTime"].clone();
    v
}

/// `POST /document/saveDocumentToDemographic`: a document filed to a chart;
/// 400 with a text reason when the name, contents or patient is missing.
pub fn save(call: &mut Call<'_>) -> Outcome {
    if call.body.is_null() {
        return npe("documentT is null");
    }
    let name = body_str(call, "fileName").unwrap_or_default();
    // A number past `Id`'s range is no usable demographicNo, as one that
    // does not parse.
    let patient = body_i64(call, "demographicNo").and_then(|p| Id::try_from(p).ok());
    let Some(bytes) = decode(call) else {
        // `getFileContents().length` on null.
        return if name.is_empty() {
            text(call, 400, BAD_SAVE)
        } else {
            npe("fileContents is null")
        };
    };
    if name.is_empty() || bytes.is_empty() || patient.is_none() {
        return text(call, 400, BAD_SAVE);
    }
    let id = insert(call, patient, bytes, false);
    Outcome::Typed(
        super::super::types::JType::parse("DocumentTo1"),
        call.read(|d| echo(d, id)),
    )
}

const BAD_SAVE: &str = "The request body must contain a title, encoded documentData, a fileType (png, jpg, pdf, etc.), and a demographicNo";

/// `POST /document/uploadPendingDocuments` (Open-O): a document for the
/// inbox queue; refusals are `{status, message, fileName}` maps.
pub fn upload_pending(call: &mut Call<'_>) -> Outcome {
    let name = body_str(call, "fileName");
    let fail = |status: u16, message: &str| {
        let mut m = serde_json::Map::new();
        m.insert("status".into(), json!("Failed"));
        m.insert("message".into(), json!(message));
        if let Some(n) = &name {
            m.insert("fileName".into(), json!(n));
        }
        Outcome::WithStatus(
            status,
            Box::new(Outcome::Typed(
                super::super::types::JType::Any,
                Value::Object(m),
            )),
        )
    };
    let bytes = decode(call).unwrap_or_default();
    let queue = body_i64(call, "queue");
    if name.as_deref().is_none_or(str::is_empty)
        || bytes.is_empty()
        || body_str(call, "contentType").is_none_or(|c| c.is_empty())
        || queue.is_none()
    {
        return fail(
            400,
            "Missing required fields: fileName, fileContent, contentType, or queue",
        );
    }
    if queue.unwrap_or(0) < 1 {
        return fail(400, "Invalid queue: must be 1 or greater");
    }
    // Past `Id`'s range, as 0 or a number that does not parse: no patient.
    let patient = body_i64(call, "demographicNo")
        .filter(|d| *d > 0)
        .and_then(|d| Id::try_from(d).ok());
    let id = insert(call, patient, bytes, true);
    let mut v = call.read(|d| echo(d, id));
    v["queue"] = json!(queue);
    v["programId"] = json!(1);
    Outcome::Typed(super::super::types::JType::parse("DocumentTo1"), v)
}

/// One row of OSCAR 19's `DocumentResponse` (`GenericDocumentTo1`).
fn generic_doc(
    id: Id,
    name: &str,
    category: &str,
    date: &str,
    table: &str,
    description: &str,
    content_type: &str,
) -> Value {
    json!({"id": id, "name": name, "category": category, "documentDate": date, "documentTable": table, "documentDescription": description, "contentType": content_type})
}

fn chart(d: &Data, patient: Id, which: &str) -> Vec<Value> {
    let mut out = Vec::new();
    if matches!(which, "all" | "document") {
        out.extend(
            d.documents
                .iter()
                .filter(|x| x.patient == Some(patient))
                .map(|x| {
                    generic_doc(
                        x.id,
                        &x.file_name,
                        &x.category,
                        &x.observed.map(|o| o.to_string()).unwrap_or_default(),
                        "document",
                        &x.description,
                        &x.content_type,
                    )
                }),
        );
    }
    if matches!(which, "all" | "eform") {
        out.extend(d.records.for_patient("eformData", patient).map(|r| {
            let f = &r.fields;
            generic_doc(
                r.id,
                &prop(f, "formName"),
                "eform",
                &prop(f, "date").chars().take(10).collect::<String>(),
                "eform_data",
                &prop(f, "subject"),
                "text/html",
            )
        }));
    }
    if matches!(which, "all" | "form") {
        out.extend(d.records.for_patient("formData", patient).map(|r| {
            let f = &r.fields;
            generic_doc(
                r.id,
                &prop(f, "name"),
                "form",
                &prop(f, "date").chars().take(10).collect::<String>(),
                &prop(f, "table"),
                "",
                "text/html",
            )
        }));
    }
    if matches!(which, "all" | "hl7") {
        out.extend(
            d.labs
                .iter()
                .filter(|l| l.patient == Some(patient))
                .map(|l| {
                    generic_doc(
                        l.id,
                        &l.accession,
                        "lab",
                        &l.created.get().date_naive().to_string(),
                        "hl7TextMessage",
                        &l.lab_type,
                        "text/plain",
                    )
                }),
        );
    }
    out
}

/// `GET /patientDocuments/{allDocuments,edocuments,eforms,forms,hl7labs}/{demographicNo}[/{category}]`.
pub fn patient_list(call: &mut Call<'_>) -> Outcome {
    let which = call.behaviour.param("which").unwrap_or("all").to_owned();
    let Some(patient) = call.path_id("demographicNo") else {
        return npe("demographicNo");
    };
    let category = call.path.get("documentCategory").map(plain);
    // A number past `Id`'s range is no one's: no documents.
    let docs: Vec<Value> = match Id::try_from(patient) {
        Ok(patient) => call.read(|d| chart(d, patient, &which)),
        Err(_) => Vec::new(),
    };
    let docs = match category {
        Some(c) => docs
            .into_iter()
            .filter(|x| x["category"] == Value::String(c.clone()))
            .collect(),
        None => docs,
    };
    Outcome::Value(json!({"documents": docs}))
}

fn stream(bytes: Vec<u8>) -> Outcome {
    Outcome::Raw {
        status: 200,
        content_type: "application/octet-stream".into(),
        body: bytes,
    }
}

/// `GET /patientDocuments/{edocument,eform,form,hl7Lab,documentStream}/{id}...`:
/// the stored bytes; an unknown id is 404.
pub fn patient_stream(call: &mut Call<'_>) -> Outcome {
    let table = match call.behaviour.param("table") {
        Some("path") => call
            .path
            .get("documentTable")
            .map(plain)
            .unwrap_or_default(),
        Some(t) => t.to_owned(),
        None => "document".into(),
    };
    let id = call
        .path_id("documentId")
        .or_else(|| call.path_id("eformId"))
        .or_else(|| call.path_id("formId"))
        .or_else(|| call.path_id("hl7LabId"));
    // A number past `Id`'s range is no row's: 404, as an unknown one.
    let Some(id) = id.and_then(|id| Id::try_from(id).ok()) else {
        return Outcome::Empty(404);
    };
    let bytes = call.read(|d| match table.as_str() {
        "document" => d.documents.get(id).map(|x| x.content.to_vec()),
        "eform_data" | "eform" => d.records.get("eformData", id).map(|r| {
            let name = prop(&r.fields, "formName");
            format!(
                "<html><body><h1>{name}</h1><pre>{}</pre></body></html>",
                r.fields
                    .get("values")
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            )
            .into_bytes()
        }),
        "hl7TextMessage" | "hl7" => d.labs.get(id).map(|l| l.content.clone().into_bytes()),
        _ => d
            .records
            .get("formData", id)
            .map(|r| Value::Object(r.fields.clone()).to_string().into_bytes()),
    });
    bytes.map_or(Outcome::Empty(404), stream)
}
