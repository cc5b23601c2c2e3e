//! Small pieces the handlers share: the resource's usual failures and
//! readers for the loosely typed JSON bodies (`JSONObject`, `ObjectNode`).

use serde_json::{json, Value};

use super::super::render::plain;
use super::super::{Call, Outcome};
use crate::error::Failure;
use crate::store::collections::Row;
use crate::store::{Id, Patient, Record, Table};

/// A `NullPointerException` (or another unchecked exception) escaping the
/// resource: the container's 500, or Juno's JSON error.
pub fn npe(what: &str) -> Outcome {
    Outcome::Error(Failure::Internal(format!(
        "java.lang.NullPointerException: {what}"
    )))
}

pub fn exception(class: &str, message: &str) -> Outcome {
    Outcome::Error(Failure::Internal(format!("{class}: {message}")))
}

/// `new GenericRESTResponse(success, message)`.
pub fn generic(success: bool, message: impl Into<Option<String>>) -> Outcome {
    Outcome::Value(json!({"success": success, "message": message.into()}))
}

/// A `Response` with a plain-text entity (CXF writes the String as is,
/// typed with the method's media type).
pub fn text(call: &Call<'_>, status: u16, body: &str) -> Outcome {
    Outcome::Raw {
        status,
        content_type: call.media.clone(),
        body: body.as_bytes().to_vec(),
    }
}

/// A string member of the body (`json.getString`/`asText`), if present.
pub fn body_str(call: &Call<'_>, key: &str) -> Option<String> {
    match call.body.get(key)? {
        Value::Null => None,
        v => Some(plain(v)),
    }
}

pub fn body_i64(call: &Call<'_>, key: &str) -> Option<i64> {
    let v = call.body.get(key)?;
    v.as_i64().or_else(|| plain(v).trim().parse().ok())
}

/// The patient a client's number names, when it is one: a number past
/// `Id`'s range is no one's, as an unknown number.
pub fn known_patient(call: &Call<'_>, n: i64) -> Option<Id> {
    let id = Id::try_from(n).ok()?;
    call.read(|d| d.patients().get(id).is_some()).then_some(id)
}

/// A row of a collection by a client's number: none for a number past
/// `Id`'s range, as for an unknown one.
pub fn record<'d>(d: &'d crate::store::Data, coll: &str, n: i64) -> Option<&'d Row> {
    d.records.get(coll, Id::try_from(n).ok()?)
}

/// A patient's rows; none for `None`, a client's number past `Id`'s
/// range, which no row can belong to.
pub fn of_patient<T: Record>(t: &Table<T>, p: Option<Id>) -> impl Iterator<Item = &T> {
    p.into_iter().flat_map(|p| t.for_patient(p))
}

/// Whether a patient counts as active for searches (OSCAR's inactive
/// statuses excluded).
/// Page `page` (1-based) of `per` items, as Juno's searches answer it:
/// `{content, total, page, perPage}` with the total before paging.
pub fn page(all: Vec<Value>, page: i64, per: i64) -> Outcome {
    let total = all.len();
    let items: Vec<Value> = all
        .into_iter()
        .skip(((page - 1) * per) as usize)
        .take(per as usize)
        .collect();
    Outcome::Value(json!({"content": items, "total": total, "page": page, "perPage": per}))
}

pub fn is_active(p: &Patient) -> bool {
    !matches!(p.status.as_str(), "IN" | "DE" | "IC" | "ID" | "MO" | "FI")
}

/// A one-page PDF showing `lines` (PDF 1.4, Helvetica, valid xref), the
/// shape of OSCAR's printed prescriptions and chart summaries.
pub fn pdf(title: &str, lines: &[String]) -> Vec<u8> {
    let esc = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)")
    };
    let mut content = String::from("BT /F1 14 Tf 50 750 Td");
    content.push_str(&format!(" ({}) Tj /F1 10 Tf", esc(title)));
    for l in lines {
        let ascii: String = l
            .chars()
            .map(|c| if c.is_ascii() { c } else { '?' })
            .collect();
        content.push_str(&format!(" 0 -16 Td ({}) Tj", esc(&ascii)));
    }
    content.push_str(" ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A 1×1 transparent PNG (the watermark image's format).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

pub fn pdf_outcome(title: &str, lines: &[String]) -> Outcome {
    Outcome::Raw {
        status: 200,
        content_type: "application/pdf".into(),
        body: pdf(title, lines),
    }
}
