//! `LabUploadService`: lab results pushed by laboratories. HL7 v2 uploads
//! become lab results routed to the provider's inbox (duplicates refused,
//! as `FileUploadCheck` refuses a file it has seen); PDF and FHIR uploads
//! are filed as documents. The answer is the JSON string `LabUploadWs`
//! builds by hand.

use bytes::Bytes;
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::dispatch::{Call, Outcome};
use super::xml::{server_zone, Val};
use crate::store::*;

/// Answers an upload of a lab of `lab_type` (`CML`, `MDS`, `PDFDOC`, ...).
pub fn upload(call: &mut Call, lab_type: &str) -> Outcome {
    let file_name = call.string(0).map(str::to_owned);
    let provider_no = call.string(2).unwrap_or_default().to_owned();
    let answer = match lab_type {
        "PDFDOC" | "FHIR_COMMUNICATION_REQUEST" => {
            let bytes = match call.arg(1) {
                Some(Val::Bytes(b)) => Some(b.clone()),
                _ => None,
            };
            file_document(call, lab_type, file_name.as_deref(), bytes, &provider_no)
        }
        _ => {
            let contents = call.string(1).map(str::to_owned);
            import_lab(call, lab_type, file_name.as_deref(), contents, &provider_no)
        }
    };
    Ok(Some(Val::Str(answer)))
}

/// `importLab`: keep the file, refuse a duplicate, parse, route.
fn import_lab(
    call: &Call,
    lab_type: &str,
    file_name: Option<&str>,
    contents: Option<String>,
    provider_no: &str,
) -> String {
    let failure = |message: &str| {
        format!(
            "{{\"success\":0,\"message\":\"{}\", \"audit\":\"\"}}",
            json_text(message)
        )
    };
    // The real code dereferences both: a NullPointerException, whose
    // message is null.
    let (Some(file_name), Some(contents)) = (file_name, contents) else {
        return failure("null");
    };
    let now = call.now();
    let stored_name = format!(
        "LabUpload.{}.{}",
        file_name.replace(".enc", ""),
        now.timestamp_millis()
    );
    // FileUploadCheck refuses a file whose digest it has stored: the
    // same contents.
    let duplicate = call.read(|d| d.labs.iter().any(|l| l.content == contents));
    if duplicate {
        return failure(&format!(
            "Failed insert lab into DB (Likely duplicate lab): {stored_name} of type: {lab_type}"
        ));
    }
    let Some(msg) = Hl7::parse(&contents) else {
        return failure(&format!(
            "Failed to parse lab: {stored_name} of type: {lab_type}"
        ));
    };
    let id = call.write(|d| {
        let patient = msg.match_patient(d);
        let at = d.stamp(now);
        d.labs.insert(LabResult {
            uuid: String::new().into(),
            patient: patient.into(),
            lab_type: lab_type.to_owned().into(),
            accession: msg.accession.clone().into(),
            file_name: stored_name.clone().into(),
            content: contents.clone(),
            status: "N".into(),
            provider_no: provider_no.to_owned().into(),
            observed: msg.observed.map(Stamp::from),
            created: at.into(),
            last_update: at.into(),
            ..LabResult::default()
        })
    });
    call.state.audit(
        "LabUploadWs.importLab",
        call.login.as_ref().map(|l| l.provider_no.as_str()),
        call.ip.as_deref(),
        &format!("fileUploadCheckId={id}"),
    );
    "{\"success\":1,\"message\":\"\", \"audit\":\"success\"}".to_owned()
}

/// `uploadPDF` / `uploadDocumentReference`: the bytes become an unfiled
/// document in the provider's inbox.
fn file_document(
    call: &Call,
    lab_type: &str,
    file_name: Option<&str>,
    bytes: Option<Vec<u8>>,
    provider_no: &str,
) -> String {
    const FAILED: &str = "{\"success\":0,\"message\":\"\"}";
    let (Some(file_name), Some(bytes)) = (file_name, bytes) else {
        return FAILED.to_owned();
    };
    let (content_type, category) = if lab_type == "PDFDOC" {
        if !bytes.starts_with(b"%PDF-") {
            return FAILED.to_owned();
        }
        ("application/pdf", "lab")
    } else {
        let ok = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .is_some_and(|v| v.get("resourceType").is_some());
        if !ok {
            return FAILED.to_owned();
        }
        ("application/fhir+json", "consult")
    };
    let now = call.now();
    call.write(|d| {
        let at = d.stamp(now);
        d.documents.insert(Document {
            patient: None.into(),
            file_name: file_name.to_owned().into(),
            content_type: content_type.into(),
            description: file_name.to_owned().into(),
            category: category.into(),
            source: "LabUploadWs".into(),
            observed: Some(now.with_timezone(&server_zone()).date_naive()),
            provider_no: provider_no.to_owned().into(),
            responsible_no: provider_no.to_owned().into(),
            status: "A".into(),
            content: Bytes::from(bytes),
            created: at.into(),
            last_update: at.into(),
            ..Document::default()
        })
    });
    "{\"success\":1,\"message\":\"\"}".to_owned()
}

/// Escapes text for the hand-built JSON answers.
fn json_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// What the mock reads from an HL7 v2 lab message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hl7 {
    pub hin: String,
    pub last_name: String,
    pub first_name: String,
    pub birth_date: Option<NaiveDate>,
    pub accession: String,
    pub observed: Option<Timestamp>,
}

impl Hl7 {
    /// Reads MSH, PID and OBR; `None` when it is not an HL7 v2 message.
    pub fn parse(text: &str) -> Option<Hl7> {
        let segments: Vec<&str> = text
            .split(['\r', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let msh = segments.first()?;
        if !msh.starts_with("MSH") || msh.len() < 8 {
            return None;
        }
        let sep = msh.chars().nth(3)?;
        let component = msh.chars().nth(4)?;
        let fields = |seg: &str| -> Vec<String> { seg.split(sep).map(str::to_owned).collect() };
        let msh_fields = fields(msh);
        let mut out = Hl7 {
            // MSH-10: the message control id, when there is no OBR-3.
            accession: msh_fields.get(9).cloned().unwrap_or_default(),
            ..Hl7::default()
        };
        let pid = segments.iter().find(|s| s.starts_with("PID"))?;
        let pid = fields(pid);
        let first_component = |v: &str| v.split(component).next().unwrap_or("").to_owned();
        // Health number: PID-2, else the first PID-3 identifier.
        out.hin = pid
            .get(2)
            .map(|v| first_component(v))
            .filter(|v| !v.is_empty())
            .or_else(|| pid.get(3).map(|v| first_component(v)))
            .unwrap_or_default();
        if let Some(name) = pid.get(5) {
            let mut parts = name.split(component);
            out.last_name = parts.next().unwrap_or("").to_owned();
            out.first_name = parts.next().unwrap_or("").to_owned();
        }
        out.birth_date = pid
            .get(7)
            .and_then(|d| NaiveDate::parse_from_str(d.get(..8).unwrap_or(""), "%Y%m%d").ok());
        if let Some(obr) = segments.iter().find(|s| s.starts_with("OBR")) {
            let obr = fields(obr);
            if let Some(acc) = obr
                .get(3)
                .map(|v| first_component(v))
                .filter(|v| !v.is_empty())
            {
                out.accession = acc;
            }
            out.observed = obr.get(7).and_then(|t| hl7_time(t));
        }
        Some(out)
    }

    /// The patient the lab is about: by health number, else by name and
    /// birth date; `None` leaves it unmatched, as OSCAR does.
    pub fn match_patient(&self, d: &Data) -> Option<Id> {
        let digits: String = self.hin.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 9 {
            if let Some(p) = d.search_patients_by_hin(&digits).find(|p| p.hin == digits) {
                return Some(p.id);
            }
        }
        d.search_patients_by_name(&self.last_name, &self.first_name)
            .find(|p| {
                p.last_name.eq_ignore_ascii_case(&self.last_name)
                    && p.first_name.eq_ignore_ascii_case(&self.first_name)
                    && self.birth_date.is_some()
                    && p.birth_date == self.birth_date
            })
            .map(|p| p.id)
    }
}

/// `yyyyMMddHHmm[ss]` on the clinic's clock.
fn hl7_time(t: &str) -> Option<Timestamp> {
    let t = t.get(..12.min(t.len()))?;
    let naive = NaiveDateTime::parse_from_str(&format!("{t:0<14}"), "%Y%m%d%H%M%S").ok()?;
    server_zone()
        .from_local_datetime(&naive)
        .single()
        .map(|x| x.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const ORU: &str = "MSH|^~\\&|CML|CML|OSCAR|CLINIC|202601051200||ORU^R01|CTRL42|P|2.3\r\
PID|1|9876543225|9876543225^^^^JHN||Jacky^Jones||19850615|M\r\
OBR|1||ACC-1001|4548-4^HbA1c|||202601050930\r\
OBX|1|NM|4548-4^Hemoglobin A1c||6.1|%|4.0-6.0|H|||F\r";

    #[test]
    fn hl7_messages_yield_patient_accession_and_time() {
        let m = Hl7::parse(ORU).unwrap();
        assert_eq!(m.hin, "9876543225");
        assert_eq!(
            (m.last_name.as_str(), m.first_name.as_str()),
            ("Jacky", "Jones")
        );
        assert_eq!(m.birth_date, NaiveDate::from_ymd_opt(1985, 6, 15));
        assert_eq!(m.accession, "ACC-1001");
        assert_eq!(
            m.observed.unwrap().to_rfc3339(),
            "2026-01-05T14:30:00+00:00"
        );
        assert!(Hl7::parse("not a lab").is_none());
        assert!(Hl7::parse("MSH|^~\\&|X\rOBR|1\r").is_none(), "no PID");
    }
}
