//! Clinical rows OSCAR's REST API reads that the shared seed does not make:
//! ticklers, chart documents, HL7 labs in the inbox and internal messages,
//! laid out deterministically around "today" for the first patients.

use chrono::{Duration, NaiveDate, TimeZone, Utc};

use super::{Data, Document, Id, LabResult, Message, Tickler, Timestamp};

/// A short, valid PDF (one empty page), for seeded documents.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

fn at(day: NaiveDate, h: u32, m: u32) -> Timestamp {
    Utc.from_utc_datetime(&day.and_hms_opt(h, m, 0).unwrap_or_default())
}

/// Adds the rows unless the tables already have some (another seed may
/// fill them).
pub fn extras(d: &mut Data, patients: usize, today: NaiveDate, now: Timestamp) {
    if patients == 0 {
        return;
    }
    // The first patients, wrapping round when there are fewer.
    let count = Id::try_from(patients).unwrap_or(Id::MAX);
    let p = |i: Id| (i - 1) % count + 1;
    if d.ticklers.is_empty() {
        let rows = [
            (
                Some(p(1)),
                "Call patient with lipid results",
                "A",
                "High",
                -3,
                "999998",
                "999998",
            ),
            (
                Some(p(2)),
                "Book 3-month diabetes follow-up",
                "A",
                "Normal",
                5,
                "999998",
                "100001",
            ),
            (
                Some(p(3)),
                "Renew prescription: levothyroxine",
                "A",
                "Normal",
                -1,
                "100001",
                "999998",
            ),
            (
                Some(p(4)),
                "Referral letter sent to cardiology",
                "C",
                "Low",
                -10,
                "100002",
                "100002",
            ),
            (
                None,
                "Order flu vaccine stock",
                "A",
                "Normal",
                14,
                "999998",
                "100004",
            ),
        ];
        for (patient, message, status, priority, days, creator, assignee) in rows {
            let created = at(today + Duration::days(days.min(0) - 2), 9, 0);
            d.ticklers.insert(Tickler {
                patient: patient.into(),
                message: message.into(),
                status: status.into(),
                priority: priority.into(),
                service_date: at(today + Duration::days(days), 9, 0).into(),
                creator: creator.into(),
                assignee: assignee.into(),
                program_id: 1,
                comments: Vec::new(),
                created: created.into(),
                last_update: created.into(),
                ..Tickler::default()
            });
        }
    }
    if d.documents.is_empty() {
        let rows = [
            (
                p(1),
                "Consultant Report",
                "consult",
                "cardiology-letter.pdf",
                -30,
            ),
            (
                p(1),
                "Diagnostic Test Report",
                "lab",
                "echo-report.pdf",
                -12,
            ),
            (p(2), "Respiratory Report", "others", "spirometry.pdf", -45),
        ];
        for (patient, description, category, file, days) in rows {
            let when = at(today + Duration::days(days), 11, 30);
            d.documents.insert(Document {
                patient: Some(patient).into(),
                file_name: file.into(),
                content_type: "application/pdf".into(),
                description: description.into(),
                category: category.into(),
                source: "Fax".into(),
                observed: Some(today + Duration::days(days)),
                provider_no: "999998".into(),
                responsible_no: "999998".into(),
                status: "A".into(),
                content: bytes::Bytes::from_static(PDF),
                created: when.into(),
                last_update: when.into(),
                ..Document::default()
            });
        }
    }
    if d.labs.is_empty() {
        let hl7 = |patient: Id, hin: &str, name: &str, when: &str| {
            format!(
                "MSH|^~\\&|GDML|GDML|||{when}||ORU^R01|{patient}0001|P|2.3\rPID|1|{hin}^^^ON|||{name}||19700101|F\rOBR|1|||254^URINALYSIS CHEMICAL^L254A^URINALYSIS|R|{when}|{when}\rOBX|1|ST|253&22^GLUCOSE|1|NEG|mmol/L|-NEG^NEGATIVE (mmol/L)|N||F\r"
            )
        };
        let labs: Vec<(Id, &str, i64)> =
            vec![(p(1), "URINALYSIS", -2), (p(2), "ROUTINE/CHEMISTRY", -6)];
        for (patient, discipline, days) in labs {
            let when = at(today + Duration::days(days), 9, 49);
            let (hin, name) = d
                .patients()
                .get(patient)
                .map(|x| (x.hin.clone(), format!("{}^{}", x.last_name, x.first_name)))
                .unwrap_or_default();
            d.labs.insert(LabResult {
                patient: Some(patient).into(),
                lab_type: "GDML".into(),
                accession: discipline.into(),
                file_name: format!("lab-{patient}.hl7").into(),
                content: hl7(patient, &hin, &name, &when.format("%Y%m%d%H%M").to_string()),
                status: "N".into(),
                provider_no: "999998".into(),
                observed: Some(when.into()),
                created: when.into(),
                last_update: when.into(),
                ..LabResult::default()
            });
        }
    }
    if d.messages.is_empty() {
        let rows = [
            (
                Some(p(1)),
                "100001",
                "999998",
                "Echo results",
                "Please review the echo report for this patient.",
                -1,
            ),
            (
                None,
                "100004",
                "999998",
                "Flu clinic",
                "Flu clinic is booked for next Saturday.",
                -2,
            ),
        ];
        for (patient, from, to, subject, body, days) in rows {
            let when = at(today + Duration::days(days), 14, 5);
            d.messages.insert(Message {
                patient: patient.into(),
                from: from.into(),
                to: to.into(),
                subject: subject.into(),
                body: body.into(),
                status: "new".into(),
                kind: "oscar".into(),
                created: when.into(),
                last_update: when.into(),
                ..Message::default()
            });
        }
    }
    let _ = now;
}
