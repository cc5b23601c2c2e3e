//! Seed data the OpenEMR-family APIs serve beyond the common clinic: the
//! drug formulary, payers and policies, devices, lab orders with results,
//! documents, questionnaire answers, referrals, and the demographic
//! columns US systems keep (race, ethnicity, employer, guardian).
//!
//! It draws from its own random stream, after the common data is built,
//! so the common data is the same for every family.

use chrono::{Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

/// Name, generic, RxNorm, NDC, DIN, form, size, unit, route.
type FormularyRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

pub const FORMULARY: &[FormularyRow] = &[
    (
        "Lipitor",
        "atorvastatin",
        "617312",
        "0071-0155-23",
        "02230711",
        "tablet",
        "20",
        "mg",
        "oral",
    ),
    (
        "Synthroid",
        "levothyroxine",
        "966247",
        "0074-6624-90",
        "02172062",
        "tablet",
        "100",
        "mcg",
        "oral",
    ),
    (
        "Glucophage",
        "metformin",
        "861007",
        "0087-6060-05",
        "02162849",
        "tablet",
        "500",
        "mg",
        "oral",
    ),
    (
        "Ventolin",
        "albuterol",
        "745679",
        "0173-0682-20",
        "02213486",
        "inhaler",
        "100",
        "mcg",
        "inhalation",
    ),
    (
        "Altace",
        "ramipril",
        "198188",
        "61570-110-01",
        "02221829",
        "capsule",
        "5",
        "mg",
        "oral",
    ),
];

/// Payer name, type code, CMS id, city, state.
const PAYERS: &[(&str, &str, &str, &str, &str)] = &[
    ("Blue Lake Health Plan", "1", "BLH01", "Springfield", "IL"),
    ("Medicare Part B", "2", "MCRB", "Baltimore", "MD"),
    ("Summit Mutual Insurance", "1", "SMI77", "Denver", "CO"),
];

/// Device title, UDI carrier.
const DEVICES: &[(&str, &str)] = &[
    (
        "Implantable cardiac pacemaker",
        "(01)00643169007222(17)160128(21)BLC200461H",
    ),
    (
        "Insulin infusion pump",
        "(01)00884521069201(17)231130(10)IP2290",
    ),
];

/// Panel LOINC, panel name, result LOINC, result name, unit, low, high.
const LABS: &[(&str, &str, &str, &str, &str, f64, f64)] = &[
    (
        "4548-4",
        "Hemoglobin A1c/Hemoglobin.total in Blood",
        "4548-4",
        "Hemoglobin A1c",
        "%",
        4.8,
        8.5,
    ),
    (
        "2093-3",
        "Cholesterol [Mass/volume] in Serum or Plasma",
        "2093-3",
        "Cholesterol",
        "mg/dL",
        140.0,
        260.0,
    ),
    (
        "3016-3",
        "Thyrotropin [Units/volume] in Serum or Plasma",
        "3016-3",
        "TSH",
        "m[IU]/L",
        0.5,
        6.0,
    ),
];

/// CDC race and ethnicity codes and their titles: OpenEMR's `race` and
/// `ethnicity` lists. A patient row keeps the code, as `patient_data`
/// does; readers take the title from here.
pub const RACES: &[(&str, &str)] = &[
    ("2106-3", "White"),
    ("2054-5", "Black or African American"),
    ("2028-9", "Asian"),
    ("1002-5", "American Indian or Alaska Native"),
];
pub const ETHNICITIES: &[(&str, &str)] = &[
    ("2186-5", "Not Hispanic or Latino"),
    ("2135-2", "Hispanic or Latino"),
];

/// Name, street, city, postal code: an employer's own address (OpenEMR's
/// `employer_data`), in Ontario.
const EMPLOYERS: &[(&str, &str, &str, &str)] = &[
    (
        "Northwind Logistics",
        "410 Harbour St",
        "Toronto",
        "M5J 2N1",
    ),
    (
        "Contoso Dental Group",
        "88 Front St W",
        "Toronto",
        "M5J 2X2",
    ),
    ("Fabrikam Schools", "12 College St", "Ottawa", "K1N 6N5"),
];

/// The smallest PNG: one transparent pixel.
const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// Adds the OpenEMR-family records to `d`.
pub fn extend(d: &mut Data, cfg: &SeedConfig, now: Timestamp) {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x0E3E_5EED);
    let uuid = |rng: &mut ChaCha8Rng| Uuid::v4(rng.gen());
    let today = cfg.today;

    for (name, generic, rxnorm, ndc, din, form, size, unit, route) in FORMULARY {
        let u = uuid(&mut rng);
        d.drugs.insert(Drug {
            uuid: u,
            name: (*name).into(),
            generic_name: (*generic).into(),
            rxnorm: (*rxnorm).into(),
            ndc: (*ndc).into(),
            din: (*din).into(),
            form: (*form).into(),
            size: (*size).into(),
            unit: (*unit).into(),
            route: (*route).into(),
            active: true,
            last_update: now.into(),
            ..Drug::default()
        });
    }
    for (name, kind, cms, city, state) in PAYERS {
        let u = uuid(&mut rng);
        d.insurance_companies.insert(InsuranceCompany {
            uuid: u,
            name: (*name).into(),
            attn: "Claims".into(),
            cms_id: (*cms).into(),
            ins_type_code: (*kind).into(),
            address: Address {
                street: format!("{} Market St", rng.gen_range(100..999)).into(),
                city: (*city).into(),
                province: (*state).into(),
                postal: format!("{:05}", rng.gen_range(10000..99999)).into(),
                country: "US".into(),
            },
            phone: format!("800-555-{:04}", rng.gen_range(0..10000)).into(),
            last_update: now.into(),
            ..InsuranceCompany::default()
        });
    }
    let first_facility = d.facilities.iter().next().map(|f| f.id);
    if let Some(f) = first_facility {
        let _ = d.facilities.update(f, now, |f| {
            f.npi = "1992888123".into();
            f.ext.insert("federal_ein".into(), "12-3456789".into());
            f.ext.insert("facility_code".into(), "MGFHT".into());
            f.ext
                .insert("website".into(), "https://maplegrove.example.com".into());
            f.ext.insert("pos_code".into(), "11".into());
            f.ext.insert("service_location".into(), "1".into());
            f.ext.insert("billing_location".into(), "1".into());
            f.ext.insert("accepts_assignment".into(), "1".into());
            f.ext.insert("color".into(), "#99FFFF".into());
        });
    }
    let mut texts = super::seed::Interner::default();
    for id in 1..d.encounters.next_id() {
        let _ = d.encounters.update(id, now, |e| {
            // Calendar category 1, the seeded "Regular visit".
            let columns = [
                (texts.get("pc_catid"), "1".into()),
                (texts.get("pos_code"), "11".into()),
            ];
            texts.extend(&mut e.ext, columns);
        });
    }

    let companies: Vec<Id> = d.insurance_companies.iter().map(|c| c.id).collect();
    for pid in 1..d.patients.next_id() {
        let Some((dob, first, last, provider_no)) = d.patients.get(pid).map(|p| {
            (
                p.birth_date.unwrap_or(today),
                p.first_name.clone(),
                p.last_name.clone(),
                p.provider_no.clone(),
            )
        }) else {
            continue;
        };
        let (race, _) = *pick(&mut rng, RACES);
        let (eth, _) = *pick(&mut rng, ETHNICITIES);
        let employer = rng.gen_bool(0.5).then(|| *pick(&mut rng, EMPLOYERS));
        let guardian = rng.gen_bool(0.3);
        // Demographic columns, not an edit: the row keeps its stamp.
        let stamp = d.patients.get(pid).map_or(now, |p| p.last_update.get());
        let _ = d.patients.update(pid, stamp, |p| {
            let mut columns: Vec<(Text, Text)> = Vec::with_capacity(11);
            columns.extend([
                ("race".into(), texts.get(race)),
                (texts.get("ethnicity"), texts.get(eth)),
            ]);
            if let Some((name, street, city, postal)) = employer {
                columns.extend([
                    (texts.get("employer.name"), texts.get(name)),
                    (texts.get("employer.street"), texts.get(street)),
                    (texts.get("employer.city"), texts.get(city)),
                    (texts.get("employer.state"), "ON".into()),
                    (texts.get("employer.postal_code"), texts.get(postal)),
                    (texts.get("employer.country"), "CA".into()),
                ]);
            }
            if guardian {
                columns.extend([
                    (
                        texts.get("guardian.name"),
                        format!("Alex {}", p.last_name).into(),
                    ),
                    (texts.get("guardian.relationship"), "PRN".into()),
                    (texts.get("guardian.phone"), p.phone_home.clone()),
                ]);
            }
            texts.extend(&mut p.ext, columns);
        });

        if rng.gen_bool(0.7) && !companies.is_empty() {
            let company = companies[rng.gen_range(0..companies.len())];
            let start = today - Duration::days(rng.gen_range(60..2000));
            // The patient's own name and birth date: no other map is
            // equal, so it is not looked up to be shared.
            let subscriber: Ext = [
                (texts.get("subscriber_fname"), first.clone()),
                (texts.get("subscriber_lname"), last.clone()),
                (texts.get("subscriber_DOB"), texts.get(&dob.to_string())),
            ]
            .into_iter()
            .collect();
            let u = uuid(&mut rng);
            d.insurances.insert(InsurancePolicy {
                uuid: u,
                patient_id: pid,
                company_id: company,
                kind: "primary".into(),
                plan_name: texts.get("Standard PPO"),
                policy_number: format!("P{:08}", rng.gen_range(0..99_999_999)).into(),
                group_number: format!("G{:05}", rng.gen_range(0..99_999)).into(),
                relationship: "self".into(),
                start: Some(start),
                copay: "20".into(),
                accept_assignment: "TRUE".into(),
                subscriber,
                last_update: now.into(),
                ..InsurancePolicy::default()
            });
        }
        if rng.gen_bool(0.1) {
            let (title, udi) = *pick(&mut rng, DEVICES);
            let u = uuid(&mut rng);
            let columns = [("udi".into(), texts.get(udi))];
            let ext = texts.ext(columns);
            d.problems.insert(Problem {
                uuid: u,
                patient_id: pid,
                kind: texts.get("medical_device"),
                title: texts.get(title),
                begin: Some(today - Duration::days(rng.gen_range(100..3000))),
                provider_no: provider_no.clone(),
                ext,
                created: now.into(),
                last_update: now.into(),
                ..Problem::default()
            });
        }
        if rng.gen_bool(0.4) {
            let (code, name, result_code, result_name, unit, lo, hi) = *pick(&mut rng, LABS);
            let at = Utc.from_utc_datetime(
                &(today - Duration::days(rng.gen_range(5..300)))
                    .and_hms_opt(8, 30, 0)
                    .unwrap_or_default(),
            );
            let value = rng.gen_range(lo..hi);
            let accession = format!("ACC{:07}", rng.gen_range(0..9_999_999));
            let u = uuid(&mut rng);
            let columns = [
                ("code".into(), texts.get(code)),
                ("display".into(), texts.get(name)),
                (texts.get("result_code"), texts.get(result_code)),
                (texts.get("result_display"), texts.get(result_name)),
                ("value".into(), format!("{value:.1}").into()),
                ("unit".into(), texts.get(unit)),
                (texts.get("specimen"), "Blood".into()),
            ];
            let ext = texts.ext(columns);
            let mut content = format!(
                "MSH|^~\\&|LAB|MAPLE|EMR|MAPLE|{ts}||ORU^R01|{accession}|P|2.3\r\
                 PID|1||{pid}||{last}^{first}\r\
                 OBR|1||{accession}|{code}^{name}^LN|||{ts}\r\
                 OBX|1|NM|{result_code}^{result_name}^LN||{value:.1}|{unit}|||||F\r",
                ts = at.format("%Y%m%d%H%M")
            );
            // `format!` leaves up to half its buffer unused.
            content.shrink_to_fit();
            d.labs.insert(LabResult {
                uuid: u,
                patient: Some(pid).into(),
                lab_type: "HL7".into(),
                accession: accession.into(),
                file_name: format!("lab-{pid}.hl7").into(),
                content,
                status: "F".into(),
                provider_no: provider_no.clone(),
                observed: Some(at.into()),
                ext,
                created: now.into(),
                last_update: now.into(),
                ..LabResult::default()
            });
        }
        if rng.gen_bool(0.3) {
            let u = uuid(&mut rng);
            let text = format!("Referral letter for {first} {last}.\nPlease assess and advise.\n");
            d.documents.insert(Document {
                uuid: u,
                patient: Some(pid).into(),
                file_name: texts.get("referral-letter.txt"),
                content_type: texts.get("text/plain"),
                description: texts.get("Referral letter"),
                category: texts.get("Referral"),
                source: "scan".into(),
                observed: Some(today - Duration::days(rng.gen_range(1..400))),
                provider_no: provider_no.clone(),
                status: "A".into(),
                content: bytes::Bytes::from(text.into_bytes().into_boxed_slice()),
                created: now.into(),
                last_update: now.into(),
                ..Document::default()
            });
        }
        if rng.gen_bool(0.15) {
            let u = uuid(&mut rng);
            d.documents.insert(Document {
                uuid: u,
                patient: Some(pid).into(),
                file_name: texts.get("wound-photo.png"),
                content_type: texts.get("image/png"),
                description: texts.get("Wound photo"),
                category: texts.get("Medical Record"),
                source: "camera".into(),
                observed: Some(today - Duration::days(rng.gen_range(1..200))),
                provider_no: provider_no.clone(),
                status: "A".into(),
                content: bytes::Bytes::from_static(PIXEL_PNG),
                created: now.into(),
                last_update: now.into(),
                ..Document::default()
            });
        }
        if rng.gen_bool(0.3) {
            let a: u8 = rng.gen_range(0..4);
            let b: u8 = rng.gen_range(0..4);
            let u = uuid(&mut rng);
            let authored = Utc.from_utc_datetime(
                &(today - Duration::days(rng.gen_range(1..200)))
                    .and_hms_opt(10, 0, 0)
                    .unwrap_or_default(),
            );
            d.questionnaire_responses.insert(QuestionnaireResponse {
                uuid: u,
                patient_id: pid,
                questionnaire: "PHQ-2".into(),
                status: texts.get("completed"),
                authored: authored.into(),
                answers: vec![
                    (
                        "44250-9".into(),
                        texts.get("Little interest or pleasure in doing things"),
                        a.to_string().into(),
                    ),
                    (
                        "44255-8".into(),
                        texts.get("Feeling down, depressed, or hopeless"),
                        b.to_string().into(),
                    ),
                    (
                        "55758-7".into(),
                        texts.get("PHQ-2 total score"),
                        (a + b).to_string().into(),
                    ),
                ],
                last_update: now.into(),
                ..QuestionnaireResponse::default()
            });
        }
        if rng.gen_bool(0.15) {
            let columns = [
                (
                    texts.get("refer_date"),
                    texts.get(&(today - Duration::days(20)).to_string()),
                ),
                (
                    texts.get("refer_to"),
                    texts.get("Dr. Lena Park, Cardiology"),
                ),
                (texts.get("refer_diag"), texts.get("ICD10:I10")),
                (texts.get("refer_risk_level"), "Medium".into()),
                (texts.get("refer_vitals"), "1".into()),
            ];
            let fields = texts.ext(columns);
            d.transactions.insert(Transaction {
                patient_id: pid,
                kind: "LBTref".into(),
                title: texts.get("Referral"),
                body: texts.get("Assess blood pressure management."),
                user: "admin".into(),
                groupname: "Default".into(),
                date: Some((now - Duration::days(20)).into()),
                fields,
                last_update: now.into(),
                ..Transaction::default()
            });
        }
    }

    // The vitals form records pulse, respiration and oxygen saturation at
    // every visit, where the visit has no such measurement yet.
    const VITALS: [(&str, &str, f64, f64); 3] = [
        ("HR", "/min", 55.0, 95.0),
        ("RESP", "/min", 12.0, 20.0),
        ("O2SAT", "%", 94.0, 100.0),
    ];
    let recorded: std::collections::HashSet<(Id, &str), foldhash::fast::RandomState> = d
        .measurements
        .iter()
        .filter_map(|m| {
            let kind = VITALS.iter().find(|v| v.0 == m.kind)?.0;
            Some((m.encounter_id.get()?, kind))
        })
        .collect();
    for encounter in 1..d.encounters.next_id() {
        let Some((patient, at, provider_no)) = d
            .encounters
            .get(encounter)
            .map(|e| (e.patient_id, e.date, e.provider_no.clone()))
        else {
            continue;
        };
        for (kind, unit, lo, hi) in VITALS {
            if recorded.contains(&(encounter, kind)) {
                continue;
            }
            let value: f64 = rng.gen_range(lo..hi);
            let u = uuid(&mut rng);
            d.measurements.insert(Measurement {
                uuid: u,
                patient_id: patient,
                kind: texts.get(kind),
                value: format!("{}", value.round()).into(),
                unit: texts.get(unit),
                observed: at,
                provider_no: provider_no.clone(),
                encounter_id: Some(encounter).into(),
                created: now.into(),
                last_update: now.into(),
                ..Measurement::default()
            });
        }
    }
}

fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}
