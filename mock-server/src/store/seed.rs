//! Deterministic synthetic data: the same seed, size and day give the same
//! clinic, byte for byte. Patients are Canadian-looking (Ontario health
//! numbers with a valid check digit, real city/postal/area-code pairs,
//! `example.com` e-mails, 555 phone numbers) and entirely invented.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use emr_catalog::Family;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use std::collections::HashSet;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedConfig {
    pub seed: u64,
    pub patients: usize,
    /// "Today" for schedules and appointments: they are laid out around it.
    pub today: NaiveDate,
    /// Whose demo accounts to create (OSCAR's `oscardoc`, OpenEMR's `admin`).
    pub family: Family,
}

impl Default for SeedConfig {
    fn default() -> Self {
        SeedConfig {
            seed: 1,
            patients: 50,
            today: Utc::now().date_naive(),
            family: Family::Oscar,
        }
    }
}

/// The seeded accounts, documented in the README and served by
/// `/__admin/credentials`.
pub mod accounts {
    /// OSCAR's public demo login (the upstream dev database default).
    pub const OSCAR_USER: &str = "oscardoc";
    pub const OSCAR_PASSWORD: &str = "mac2002#";
    pub const OSCAR_PIN: &str = "1117";
    pub const OSCAR_SECURITY_NO: super::Id = 128;
    pub const OSCAR_PROVIDER_NO: &str = "999998";
    /// OpenEMR's demo administrator.
    pub const OPENEMR_USER: &str = "admin";
    pub const OPENEMR_PASSWORD: &str = "pass";
    pub const OPENEMR_PROVIDER_NO: &str = "1";
    /// The seeded patient-portal login (patient id 1).
    pub const PORTAL_USER: &str = "Phil1";
    pub const PORTAL_PASSWORD: &str = "phil";
}

const MALE: &[&str] = &[
    "Liam", "Noah", "William", "Lucas", "Benjamin", "Ethan", "Jacob", "Mohammed", "Arjun", "Wei",
    "Olivier", "Félix", "Samuel", "Daniel", "Omar", "Hiroshi", "Mateo", "Kwame", "Darius", "Ravi",
];
const FEMALE: &[&str] = &[
    "Olivia",
    "Emma",
    "Charlotte",
    "Amelia",
    "Sophie",
    "Chloé",
    "Léa",
    "Ava",
    "Maya",
    "Priya",
    "Mei",
    "Fatima",
    "Aaliyah",
    "Zoé",
    "Hannah",
    "Isabelle",
    "Nadia",
    "Ananya",
    "Grace",
    "Camille",
];
const LAST: &[&str] = &[
    "Smith",
    "Tremblay",
    "Martin",
    "Roy",
    "Wilson",
    "MacDonald",
    "Gagnon",
    "Johnson",
    "Taylor",
    "Côté",
    "Campbell",
    "Anderson",
    "Leblanc",
    "Lee",
    "Brown",
    "Wong",
    "Singh",
    "Patel",
    "Nguyen",
    "Chen",
    "Li",
    "Kim",
    "Ahmed",
    "Khan",
    "Thompson",
    "White",
    "Bouchard",
    "Gauthier",
    "Morin",
    "Lavoie",
    "Fortin",
    "Gill",
    "Sandhu",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Fraser",
    "Stewart",
    "Ross",
    "Reid",
];
/// City, province, postal prefix (forward sortation area), area code.
const CITIES: &[(&str, &str, &str, &str)] = &[
    ("Toronto", "ON", "M5V", "416"),
    ("Toronto", "ON", "M4C", "647"),
    ("Ottawa", "ON", "K1N", "613"),
    ("Hamilton", "ON", "L8P", "905"),
    ("Mississauga", "ON", "L5B", "905"),
    ("London", "ON", "N6A", "519"),
    ("Kingston", "ON", "K7L", "613"),
    ("Sudbury", "ON", "P3E", "705"),
    ("Thunder Bay", "ON", "P7B", "807"),
    ("Waterloo", "ON", "N2L", "519"),
];
const STREETS: &[&str] = &[
    "Queen St W",
    "King St E",
    "Bloor St W",
    "Yonge St",
    "Dundas St",
    "Main St",
    "Elm Ave",
    "Maple Dr",
    "Lakeshore Blvd",
    "Church St",
    "Wellington St",
    "Bank St",
    "Princess St",
    "College St",
];
const ALLERGIES: &[(&str, &str, i32)] = &[
    ("PENICILLINS", "Hives", 10),
    ("SULFONAMIDES", "Rash", 10),
    ("CODEINE", "Nausea", 8),
    ("PEANUT", "Anaphylaxis", 0),
    ("LATEX", "Contact dermatitis", 0),
    ("ASA", "Wheezing", 8),
];
/// OSCAR prevention type, CVX code.
const IMMUNIZATIONS: &[(&str, &str)] = &[
    ("Flu", "88"),
    ("Td", "139"),
    ("MMR", "03"),
    ("HepB", "45"),
    ("Pneumovax", "33"),
    ("COVID-19", "213"),
];
/// Type, unit, plausible range.
const MEASUREMENTS: &[(&str, &str, f64, f64)] = &[
    ("WT", "kg", 50.0, 110.0),
    ("HT", "cm", 150.0, 195.0),
    ("HR", "bpm", 55.0, 95.0),
    ("TEMP", "C", 36.2, 37.6),
    ("A1C", "%", 4.8, 8.5),
];
/// Brand, generic, DIN, ATC, RxNorm, dosage, frequency.
const DRUGS: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        "Lipitor",
        "ATORVASTATIN",
        "02230711",
        "C10AA05",
        "617312",
        "20 mg",
        "OD",
    ),
    (
        "Synthroid",
        "LEVOTHYROXINE",
        "02172062",
        "H03AA01",
        "966247",
        "100 mcg",
        "OD",
    ),
    (
        "Glucophage",
        "METFORMIN",
        "02162849",
        "A10BA02",
        "861007",
        "500 mg",
        "BID",
    ),
    (
        "Ventolin",
        "SALBUTAMOL",
        "02213486",
        "R03AC02",
        "745679",
        "100 mcg",
        "PRN",
    ),
    (
        "Altace", "RAMIPRIL", "02221829", "C09AA05", "198188", "5 mg", "OD",
    ),
];
/// Title, ICD-10 code.
const PROBLEMS: &[(&str, &str)] = &[
    ("Essential hypertension", "I10"),
    ("Type 2 diabetes mellitus", "E11.9"),
    ("Asthma", "J45.909"),
    ("Hypothyroidism", "E03.9"),
    ("Hyperlipidemia", "E78.5"),
    ("Major depressive disorder", "F32.9"),
];

/// The clinic's staff: provider number, first, last, type, specialty.
const STAFF: &[(&str, &str, &str, &str, &str)] = &[
    ("100001", "Amelia", "Chen", "doctor", "Family Medicine"),
    ("100002", "Rajiv", "Patel", "doctor", "Family Medicine"),
    ("100003", "Marie-Claude", "Tremblay", "doctor", "Pediatrics"),
    ("100004", "Sarah", "Wilson", "nurse", "Nursing"),
    ("100005", "Jamal", "Ahmed", "receptionist", ""),
];

/// Builds the data.
pub fn generate(cfg: &SeedConfig) -> Data {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut d = Data::default();
    // Seed rows carry one stable instant: midnight UTC of "today".
    let now = Utc.from_utc_datetime(&cfg.today.and_hms_opt(0, 0, 0).unwrap_or_default());
    let uuid = |rng: &mut ChaCha8Rng| Uuid::v4(rng.gen());
    let mut texts = Interner::default();
    d.defer_indexes();

    seed_facilities(&mut d, &mut rng, now);
    let doctors = seed_staff(&mut d, &mut rng, cfg, now);
    seed_schedule(&mut d, cfg, &doctors, now);

    for i in 0..cfg.patients {
        let p = patient(&mut rng, &mut texts, i, &doctors, cfg.today, now);
        let at = d.stamp(now);
        let mut p = Patient {
            created: at.into(),
            last_update: at.into(),
            uuid: uuid(&mut rng),
            ..p
        };
        if i == 0 {
            p.portal_username = accounts::PORTAL_USER.into();
            p.portal_password = accounts::PORTAL_PASSWORD.into();
        }
        // Indexed by name once they are all in (nothing below searches
        // by name).
        let id = d.patients.insert(p);
        seed_clinical(&mut d, &mut rng, &mut texts, id, &doctors, cfg.today, now);
    }
    d.index_patients();
    seed_appointments(&mut d, &mut rng, &mut texts, cfg, &doctors, now);
    if cfg.family == Family::Oscar {
        if let Some(doc) = oscar_records() {
            d.records.seed(doc, cfg.today, now);
        }
        super::oscar_seed::extras(&mut d, cfg.patients, cfg.today, now);
    }
    if cfg.family == Family::OpenEmr {
        // Its own random stream: the data above stays byte-identical.
        super::openemr_seed::extend(&mut d, cfg, now);
    }
    d.compact();
    d
}

/// OSCAR REST's configuration records (`oscar/rest-seed.json`), parsed once.
fn oscar_records() -> Option<&'static serde_json::Value> {
    static DOC: std::sync::OnceLock<Option<serde_json::Value>> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        emr_catalog::data_file("oscar/rest-seed.json").and_then(|t| serde_json::from_str(t).ok())
    })
    .as_ref()
}

fn seed_facilities(d: &mut Data, rng: &mut ChaCha8Rng, now: Timestamp) {
    let uuid = Uuid::v4(rng.gen());
    d.facilities.insert(Facility {
        uuid,
        name: "Maple Grove Family Health Team".into(),
        address: Address {
            street: "200 Queen St W".into(),
            city: "Toronto".into(),
            province: "ON".into(),
            postal: "M5V 3C7".into(),
            country: "CA".into(),
        },
        phone: "416-555-0100".into(),
        fax: "416-555-0101".into(),
        email: "frontdesk@maplegrove.example.com".into(),
        active: true,
        primary: true,
        last_update: now.into(),
        ..Facility::default()
    });
    d.programs.insert(Program {
        name: "OSCAR".into(),
        description: "Default clinic program".into(),
        program_type: "Service".into(),
        facility_id: 1,
        active: true,
        provider_nos: STAFF.iter().map(|s| s.0.to_owned()).collect(),
        last_update: now.into(),
        ..Program::default()
    });
}

/// Creates the providers and their logins; returns the bookable doctors.
fn seed_staff(d: &mut Data, rng: &mut ChaCha8Rng, cfg: &SeedConfig, now: Timestamp) -> Vec<Text> {
    let (demo_no, demo_user, demo_pw, demo_first, demo_last) = match cfg.family {
        Family::Oscar => (
            accounts::OSCAR_PROVIDER_NO,
            accounts::OSCAR_USER,
            accounts::OSCAR_PASSWORD,
            "doctor",
            "oscardoc",
        ),
        Family::OpenEmr => (
            accounts::OPENEMR_PROVIDER_NO,
            accounts::OPENEMR_USER,
            accounts::OPENEMR_PASSWORD,
            "Administrator",
            "Administrator",
        ),
    };
    let mut staff: Vec<(&str, &str, &str, &str, &str)> =
        vec![(demo_no, demo_first, demo_last, "doctor", "Family Medicine")];
    staff.extend_from_slice(STAFF);
    for (i, (no, first, last, kind, specialty)) in staff.iter().enumerate() {
        let cpso = 60000 + rng.gen_range(0..39999);
        d.providers.insert(Provider {
            provider_no: (*no).to_owned().into(),
            uuid: Uuid::v4(rng.gen()),
            first_name: (*first).to_owned().into(),
            last_name: (*last).to_owned().into(),
            title: if *kind == "doctor" {
                "Dr.".into()
            } else {
                Text::new()
            },
            provider_type: (*kind).to_owned().into(),
            specialty: (*specialty).to_owned().into(),
            sex: if i % 2 == 0 { "F".into() } else { "M".into() },
            ohip_no: if *kind == "doctor" {
                format!("{:06}", 100000 + i * 7919).into()
            } else {
                Text::new()
            },
            billing_no: if *kind == "doctor" {
                format!("{:06}", 200000 + i * 104729 % 99999).into()
            } else {
                Text::new()
            },
            practitioner_no: if *kind == "doctor" {
                cpso.to_string().into()
            } else {
                Text::new()
            },
            npi: format!("1{:09}", 234500000 + i).into(),
            phone: format!("416-555-01{:02}", 10 + i).into(),
            work_phone: "416-555-0100".into(),
            email: format!("{}.{}@maplegrove.example.com", ascii(first), ascii(last)).into(),
            address: "200 Queen St W, Toronto ON M5V 3C7".into(),
            status: "1".into(),
            team: "Blue".into(),
            facility_id: Some(1).into(),
            last_update: now.into(),
            ..Provider::default()
        });
    }
    d.logins.put(Login {
        id: match cfg.family {
            Family::Oscar => accounts::OSCAR_SECURITY_NO,
            Family::OpenEmr => 1,
        },
        user_name: demo_user.into(),
        password: demo_pw.into(),
        pin: accounts::OSCAR_PIN.into(),
        provider_no: demo_no.into(),
        last_update: now.into(),
        ..Login::default()
    });
    for (no, first, last, _, _) in STAFF {
        d.logins.insert(Login {
            user_name: format!(
                "{}{}",
                ascii(first).chars().next().unwrap_or('x'),
                ascii(last)
            )
            .into(),
            password: format!("{}-Clinic-2026", ascii(last)).into(),
            pin: format!("{}", 1000 + no.len() * 111).into(),
            provider_no: (*no).to_owned().into(),
            last_update: now.into(),
            ..Login::default()
        });
    }
    staff
        .iter()
        .filter(|s| s.3 == "doctor")
        .map(|s| Text::from(s.0))
        .collect()
}

/// Appointment types, template codes, and each doctor's working days from
/// 30 days ago to 60 days ahead: Monday to Friday, 09:00-12:00 and
/// 13:00-17:00, in 15-minute slots.
fn seed_schedule(d: &mut Data, cfg: &SeedConfig, doctors: &[Text], now: Timestamp) {
    for (name, minutes, bookable) in [
        ("Regular visit", 15, true),
        ("Complete physical", 30, true),
        ("Telehealth", 15, true),
        ("Prenatal", 20, false),
        ("Procedure", 45, false),
    ] {
        d.appointment_types.insert(AppointmentType {
            name: name.into(),
            duration_min: minutes,
            reason: name.into(),
            location: "Maple Grove".into(),
            bookable,
            last_update: now.into(),
            ..AppointmentType::default()
        });
    }
    for (code, description, minutes, color) in [
        ('1', "15 minute visit", 15, "#BFEFFF"),
        ('2', "30 minute visit", 30, "#FFCCCC"),
        ('A', "Available for booking", 15, "#CCFFCC"),
        ('L', "Lunch", 60, "#DDDDDD"),
    ] {
        d.schedule_codes.insert(ScheduleCode {
            code,
            description: description.into(),
            duration_min: minutes,
            color: color.into(),
            confirm: "No".into(),
            booking_limit: 1,
            last_update: now.into(),
            ..ScheduleCode::default()
        });
    }
    // 96 quarter-hours a day; `_` means not working. Every day shares
    // one copy.
    let timecode: Text = (0..96u32)
        .map(|q| match q / 4 {
            9..=11 | 13..=16 => 'A',
            12 => 'L',
            _ => '_',
        })
        .collect::<String>()
        .into();
    for offset in -days_back(cfg, doctors.len())..=60 {
        let date = cfg.today + Duration::days(offset);
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        for doctor in doctors {
            d.schedule_days.insert(ScheduleDay {
                provider_no: doctor.clone(),
                date,
                slot_min: 15,
                timecode: timecode.clone(),
                holiday: false,
                last_update: now.into(),
                ..ScheduleDay::default()
            });
        }
    }
}

/// Schedule days before today: 30, or, for a clinic too large for the
/// usual window to hold about one booking per patient (28 slots a
/// doctor-day), enough past weekdays for about 14 booking attempts a
/// doctor-day, so appointments stay in proportion to patients. Smaller
/// clinics, the default one included, keep exactly 30 days.
fn days_back(cfg: &SeedConfig, doctors: usize) -> i64 {
    const USUAL: i64 = 30;
    let doctors = doctors.max(1);
    let weekdays = (-USUAL..=60)
        .filter(|o| {
            let date = cfg.today + Duration::days(*o);
            !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
        })
        .count();
    if cfg.patients <= 28 * weekdays * doctors {
        return USUAL;
    }
    let weekdays_needed = cfg.patients.div_ceil(14 * doctors);
    let calendar_days = i64::try_from(weekdays_needed * 7 / 5).unwrap_or(i64::MAX / 2);
    (calendar_days - 60).max(USUAL)
}

fn patient(
    rng: &mut ChaCha8Rng,
    texts: &mut Interner,
    i: usize,
    doctors: &[Text],
    today: NaiveDate,
    now: Timestamp,
) -> Patient {
    let female = rng.gen_bool(0.52);
    let first = pick(rng, if female { FEMALE } else { MALE });
    let last = pick(rng, LAST);
    let city_index = rng.gen_range(0..CITIES.len());
    let (city, province, fsa, area) = CITIES[city_index];
    let age_days = rng.gen_range(0..(95 * 365));
    let birth = today - Duration::days(age_days);
    let letters = b"ABCEGHJKLMNPRSTVXY";
    let postal = format!(
        "{fsa} {}{}{}",
        rng.gen_range(1..10),
        letters[rng.gen_range(0..letters.len())] as char,
        rng.gen_range(0..10)
    );
    let hin = ontario_hin(rng);
    let joined = today - Duration::days(rng.gen_range(30..3650));
    Patient {
        title: if female { "MS".into() } else { "MR".into() },
        first_name: texts.get(first),
        last_name: texts.get(last),
        sex: if female { "F".into() } else { "M".into() },
        birth_date: Some(birth),
        hin: hin.into(),
        hin_version: format!(
            "{}{}",
            letters[rng.gen_range(0..letters.len())] as char,
            letters[rng.gen_range(0..letters.len())] as char
        )
        .into(),
        hc_type: province.into(),
        hc_renew_date: Some(today + Duration::days(rng.gen_range(30..1800))),
        chart_no: format!("{:06}", 1000 + i).into(),
        address: Address {
            // Streets and phone numbers repeat in a large clinic (its
            // 555 numbers do: 10,000 an area code), so they are shared.
            street: {
                // Drawn as i32 and usize, as they always were: the
                // same draws keep the same seed.
                let number: i32 = rng.gen_range(1..HOUSES);
                let street = rng.gen_range(0..STREETS.len());
                texts.drawn(Drawn::Street(number as usize, street), || {
                    format!("{number} {}", STREETS[street])
                })
            },
            city: texts.get(city),
            province: province.into(),
            postal: postal.into(),
            country: "CA".into(),
        },
        phone_home: phone(rng, texts, city_index, area),
        phone_work: Text::new(),
        phone_cell: phone(rng, texts, city_index, area),
        email: format!("{}.{}{}@example.com", ascii(first), ascii(last), i + 1).into(),
        status: if rng.gen_bool(0.95) {
            "AC".into()
        } else {
            "IN".into()
        },
        status_date: Some(joined),
        roster_status: if rng.gen_bool(0.8) {
            "RO".into()
        } else {
            "NR".into()
        },
        roster_date: Some(joined),
        provider_no: pick(rng, doctors).clone(),
        official_language: if rng.gen_bool(0.85) {
            "English".into()
        } else {
            "French".into()
        },
        spoken_language: "English".into(),
        date_joined: Some(joined),
        last_update_user: "999998".into(),
        ext: Ext::new(),
        created: now.into(),
        last_update: now.into(),
        ..Patient::default()
    }
}

/// A 10-digit Ontario health number whose last digit is the Luhn check
/// digit of the first nine, as the ministry's validation requires.
pub fn ontario_hin(rng: &mut impl Rng) -> String {
    let mut digits: Vec<u32> = (0..9).map(|_| rng.gen_range(0..10)).collect();
    digits[0] = rng.gen_range(1..10);
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    digits.push((10 - sum % 10) % 10);
    digits
        .iter()
        .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
        .collect()
}

/// Whether an Ontario health number's check digit is right.
pub fn ontario_hin_is_valid(hin: &str) -> bool {
    let digits: Vec<u32> = hin.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 10 || hin.len() != 10 {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10 == digits[9]
}

#[allow(clippy::too_many_arguments)]
fn seed_clinical(
    d: &mut Data,
    rng: &mut ChaCha8Rng,
    texts: &mut Interner,
    patient: Id,
    doctors: &[Text],
    today: NaiveDate,
    now: Timestamp,
) {
    let doctor = pick(rng, doctors).clone();
    let uuid = |rng: &mut ChaCha8Rng| Uuid::v4(rng.gen());
    if rng.gen_bool(0.4) {
        let (desc, reaction, type_code) = *pick(rng, ALLERGIES);
        let u = uuid(rng);
        d.allergies.insert(Allergy {
            uuid: u,
            patient_id: patient,
            description: texts.get(desc),
            reaction: texts.get(reaction),
            severity: rng.gen_range(1..4).to_string().into(),
            onset: rng.gen_range(1..4).to_string().into(),
            type_code,
            start_date: Some(today - Duration::days(rng.gen_range(100..4000))),
            entry_date: Some(today - Duration::days(rng.gen_range(1..100))),
            life_stage: "A".into(),
            provider_no: doctor.clone(),
            last_update: now.into(),
            ..Allergy::default()
        });
    }
    for _ in 0..rng.gen_range(0..3) {
        let (kind, cvx) = *pick(rng, IMMUNIZATIONS);
        let date = today - Duration::days(rng.gen_range(10..2000));
        // A clinic gives each vaccine from a few lots at a time, so lots
        // (and the column maps holding them) repeat across patients.
        let n: i32 = rng.gen_range(10000..99999);
        let lot = char::from(b'A' + (n % 4) as u8);
        let columns = [
            ("lot".into(), format!("L{cvx}{lot}").into()),
            ("route".into(), "IM".into()),
            (texts.get("location"), texts.get("Left deltoid")),
        ];
        let ext = texts.ext(columns);
        let u = uuid(rng);
        d.immunizations.insert(Immunization {
            uuid: u,
            patient_id: patient,
            kind: texts.get(kind),
            cvx: cvx.into(),
            date: Some(date),
            provider_no: doctor.clone(),
            ext,
            created: now.into(),
            creator: doctor.clone(),
            last_update: now.into(),
            ..Immunization::default()
        });
    }
    let encounter_date = Utc.from_utc_datetime(
        &(today - Duration::days(rng.gen_range(1..365)))
            .and_hms_opt(rng.gen_range(9..17), 0, 0)
            .unwrap_or_default(),
    );
    let u = uuid(rng);
    let encounter = d.encounters.insert(Encounter {
        uuid: u,
        patient_id: patient,
        date: encounter_date.into(),
        reason: texts.get("Follow-up visit"),
        provider_no: doctor.clone(),
        facility_id: Some(1).into(),
        class_code: "AMB".into(),
        sensitivity: "normal".into(),
        created: now.into(),
        last_update: now.into(),
        ..Encounter::default()
    });
    let systolic = rng.gen_range(105..160);
    let diastolic = rng.gen_range(65..100);
    let u = uuid(rng);
    d.measurements.insert(Measurement {
        uuid: u,
        patient_id: patient,
        kind: "BP".into(),
        value: format!("{systolic}/{diastolic}").into(),
        unit: "mm[Hg]".into(),
        observed: encounter_date.into(),
        provider_no: doctor.clone(),
        encounter_id: Some(encounter).into(),
        created: now.into(),
        last_update: now.into(),
        ..Measurement::default()
    });
    for _ in 0..rng.gen_range(0..2) {
        let (kind, unit, lo, hi) = *pick(rng, MEASUREMENTS);
        let value = rng.gen_range(lo..hi);
        let u = uuid(rng);
        d.measurements.insert(Measurement {
            uuid: u,
            patient_id: patient,
            kind: kind.into(),
            value: format!("{value:.1}").into(),
            unit: unit.into(),
            observed: encounter_date.into(),
            provider_no: doctor.clone(),
            encounter_id: Some(encounter).into(),
            created: now.into(),
            last_update: now.into(),
            ..Measurement::default()
        });
    }
    if rng.gen_bool(0.5) {
        let (brand, generic, din, atc, rxnorm, dosage, freq) = *pick(rng, DRUGS);
        let start = today - Duration::days(rng.gen_range(10..900));
        let u = uuid(rng);
        let script = d.prescriptions.insert(Prescription {
            uuid: u,
            patient_id: patient,
            provider_no: doctor.clone(),
            date_prescribed: Some(start),
            text: texts.get(&format!("{brand} {dosage} {freq}")),
            created: now.into(),
            last_update: now.into(),
            ..Prescription::default()
        });
        let u = uuid(rng);
        d.medications.insert(Medication {
            uuid: u,
            patient_id: patient,
            provider_no: doctor.clone(),
            script_no: Some(script).into(),
            brand_name: texts.get(brand),
            generic_name: texts.get(generic),
            din: texts.get(din),
            atc: texts.get(atc),
            rxnorm: texts.get(rxnorm),
            dosage: texts.get(dosage),
            route: "PO".into(),
            frequency: texts.get(freq),
            quantity: "90".into(),
            repeats: rng.gen_range(0..4),
            instructions: texts.get(&format!("Take {dosage} {freq}")),
            start_date: Some(start),
            end_date: Some(start + Duration::days(90)),
            long_term: rng.gen_bool(0.6),
            created: now.into(),
            last_update: now.into(),
            ..Medication::default()
        });
    }
    if rng.gen_bool(0.5) {
        let (title, icd) = *pick(rng, PROBLEMS);
        let u = uuid(rng);
        d.problems.insert(Problem {
            uuid: u,
            patient_id: patient,
            kind: texts.get("medical_problem"),
            title: texts.get(title),
            diagnosis: texts.get(&format!("ICD10:{icd}")),
            begin: Some(today - Duration::days(rng.gen_range(100..5000))),
            provider_no: doctor.clone(),
            created: now.into(),
            last_update: now.into(),
            ..Problem::default()
        });
    }
    let u = uuid(rng);
    d.notes.insert(Note {
        uuid: u,
        patient_id: patient,
        encounter_id: Some(encounter).into(),
        provider_no: doctor,
        text: texts.get("Patient seen for follow-up. Feeling well. Continue current plan."),
        subjective: texts.get("Feeling well."),
        objective: texts.get(&format!("BP {systolic}/{diastolic}.")),
        assessment: texts.get("Stable."),
        plan: texts.get("Continue current plan; follow up in 3 months."),
        observed: encounter_date.into(),
        signed: true,
        created: now.into(),
        last_update: now.into(),
        ..Note::default()
    });
}

/// Books roughly a third of each doctor's slots over the seeded days, with
/// patients, so schedules look lived-in and free slots remain.
fn seed_appointments(
    d: &mut Data,
    rng: &mut ChaCha8Rng,
    texts: &mut Interner,
    cfg: &SeedConfig,
    doctors: &[Text],
    now: Timestamp,
) {
    if cfg.patients == 0 {
        return;
    }
    let days: Vec<(Text, NaiveDate)> = d
        .schedule_days
        .iter()
        .filter(|s| doctors.contains(&s.provider_no))
        .map(|s| (s.provider_no.clone(), s.date))
        .collect();
    // Bigger clinics book more: about one appointment per patient overall.
    let per_day = (cfg.patients / days.len().max(1)).clamp(2, 28);
    let statuses = ["t", "t", "H", "P", "N", "C"];
    for (provider_no, date) in days {
        for _ in 0..per_day {
            let slot = rng.gen_range(0..28u32);
            // Slots 0..12 are 09:00-12:00, 12..28 are 13:00-17:00.
            let minutes = if slot < 12 {
                9 * 60 + slot * 15
            } else {
                13 * 60 + (slot - 12) * 15
            };
            let start = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or_default();
            let end = start + Duration::minutes(15);
            if !d.slot_is_free(&provider_no, date, start, end, None) {
                continue;
            }
            // Drawn as a 64-bit number, as ever: an `Id` draw takes other
            // values from the generator, and the same seed must book the
            // same patients.
            let drawn = rng.gen_range(1..=i64::try_from(cfg.patients).unwrap_or(i64::MAX));
            let patient = Id::try_from(drawn).unwrap_or(Id::MAX);
            let name = d
                .patients
                .get(patient)
                .map(|p| texts.get(&p.display_name()))
                .unwrap_or_default();
            let status = if date < cfg.today {
                statuses[rng.gen_range(2..statuses.len())]
            } else {
                "t"
            };
            let appt = Appointment {
                uuid: Uuid::v4(rng.gen()),
                provider_no: provider_no.clone(),
                patient: Some(patient).into(),
                date,
                start,
                end,
                name,
                reason: texts.get("Follow-up"),
                location: texts.get("Maple Grove"),
                kind: texts.get("Regular visit"),
                status: status.into(),
                program_id: 1,
                facility_id: Some(1).into(),
                booking_source: "OSCAR".into(),
                creator: provider_no.clone(),
                last_update_user: provider_no.clone(),
                ..Appointment::default()
            };
            // Seeded slots were checked free just above.
            let _ = d.insert_appointment(appt, now, true);
        }
    }
}

/// One shared copy of each repeated value too large to sit inline in a
/// row: texts too long for a [`Text`]'s word (note templates, problem
/// titles, names on the schedule) and column maps ([`Ext`]). Their clones
/// share it. Keyed by the values themselves, so it holds no second copy.
#[derive(Default)]
pub(super) struct Interner {
    texts: HashSet<Text, foldhash::fast::RandomState>,
    exts: HashSet<Ext, foldhash::fast::RandomState>,
    /// Texts the seed writes from numbers it draws, at [`Drawn::slot`].
    drawn: Vec<Option<Text>>,
}

/// The numbers a drawn text is written from.
#[derive(Clone, Copy)]
pub(super) enum Drawn {
    /// A house number (1 to [`HOUSES`] less one) and an index into
    /// [`STREETS`].
    Street(usize, usize),
    /// An index into [`CITIES`] (for its area code) and a line number
    /// (below [`LINES`]).
    Phone(usize, usize),
}

/// House numbers are drawn below this.
const HOUSES: i32 = 2400;
/// A 555 number's line is drawn below this.
const LINES: i32 = 10_000;
/// Where phone numbers start among the drawn slots.
const PHONES: usize = HOUSES as usize * STREETS.len();
/// Drawn slots in all: about a megabyte, so a look-up is one read.
const DRAWN: usize = PHONES + CITIES.len() * LINES as usize;

impl Drawn {
    fn slot(self) -> Option<usize> {
        let slot = match self {
            Drawn::Street(number, street) if number < HOUSES as usize && street < STREETS.len() => {
                number * STREETS.len() + street
            }
            Drawn::Phone(city, line) if city < CITIES.len() && line < LINES as usize => {
                PHONES + city * LINES as usize + line
            }
            _ => return None,
        };
        Some(slot)
    }
}

impl Interner {
    /// The text `write` makes of `drawn`, written and interned the first
    /// time only. A million patients' streets and phone numbers are some
    /// 130,000 distinct texts: formatting each patient's and looking the
    /// string up (a miss in a table that large, and another in the string
    /// it compares with) grew faster than the seed.
    pub(super) fn drawn(&mut self, drawn: Drawn, write: impl FnOnce() -> String) -> Text {
        let Some(slot) = drawn.slot() else {
            return self.get(&write());
        };
        if self.drawn.is_empty() {
            self.drawn.resize(DRAWN, None);
        }
        if let Some(t) = &self.drawn[slot] {
            return t.clone();
        }
        // Interned by its text as well: two cities share an area code.
        let t = self.get(&write());
        self.drawn[slot] = Some(t.clone());
        t
    }

    pub(super) fn get(&mut self, s: &str) -> Text {
        if s.len() <= super::text::INLINE {
            return s.into();
        }
        if let Some(t) = self.texts.get(s) {
            return t.clone();
        }
        let t = Text::from(s);
        self.texts.insert(t.clone());
        t
    }

    /// Adds `columns` to `ext` (a later column replaces one of its name),
    /// sharing the map with an equal one made before: a seeded clinic's
    /// maps repeat (every OpenEMR encounter's are the same two columns).
    pub(super) fn extend(
        &mut self,
        ext: &mut Ext,
        columns: impl IntoIterator<Item = (Text, Text)>,
    ) {
        let built: Ext = ext
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .chain(columns)
            .collect();
        *ext = match self.exts.get(&built) {
            Some(shared) => shared.clone(),
            None => {
                self.exts.insert(built.clone());
                built
            }
        };
    }

    /// The map of `columns`, shared as [`Interner::extend`] shares it.
    pub(super) fn ext(&mut self, columns: impl IntoIterator<Item = (Text, Text)>) -> Ext {
        let mut ext = Ext::new();
        self.extend(&mut ext, columns);
        ext
    }
}

/// A 555 number of the area code of `CITIES[city]`.
fn phone(rng: &mut impl Rng, texts: &mut Interner, city: usize, area: &str) -> Text {
    let line: i32 = rng.gen_range(0..LINES);
    texts.drawn(Drawn::Phone(city, line as usize), || {
        format!("{area}-555-{line:04}")
    })
}

fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// Lower-case ASCII for e-mail addresses (`Chloé` becomes `chloe`).
fn ascii(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'é' | 'è' | 'ê' => Some('e'),
            'ô' => Some('o'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            '-' => Some('-'),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A drawn text is written once and shared after, by its numbers and
    /// by its text; numbers out of the table's range are written as well.
    #[test]
    fn drawn_texts_are_written_once_and_shared() {
        let mut texts = Interner::default();
        let mut writes = 0;
        let mut draw = |texts: &mut Interner, d: Drawn, s: &str| {
            texts.drawn(d, || {
                writes += 1;
                s.to_owned()
            })
        };
        let a = draw(&mut texts, Drawn::Phone(0, 42), "416-555-0042");
        let b = draw(&mut texts, Drawn::Phone(0, 42), "unused");
        assert_eq!((a.as_str(), b.as_str()), ("416-555-0042", "416-555-0042"));
        // Another city of the same area code writes the same text.
        let c = draw(&mut texts, Drawn::Phone(1, 42), "416-555-0042");
        let far = draw(&mut texts, Drawn::Street(5000, 0), "5000 Queen St W");
        assert_eq!(far.as_str(), "5000 Queen St W");
        assert_eq!(writes, 3);
        assert_eq!(c, a);
        assert_eq!(texts.texts.len(), 2);
    }

    #[test]
    fn equal_column_maps_share_one_copy() {
        let mut texts = Interner::default();
        let columns = || [(Text::from("pos_code"), Text::from("11"))];
        let (a, b) = (texts.ext(columns()), texts.ext(columns()));
        assert_eq!(a, b);
        assert_eq!(
            a.iter().next().map(|(k, _)| k.as_ptr()),
            b.iter().next().map(|(k, _)| k.as_ptr())
        );
        let mut c = texts.ext([(Text::from("pc_catid"), Text::from("1"))]);
        texts.extend(&mut c, columns());
        assert_eq!(c.len(), 2);
        assert_ne!(c, a);
    }

    #[test]
    fn same_config_same_clinic() {
        let cfg = SeedConfig {
            today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            ..SeedConfig::default()
        };
        let a = generate(&cfg);
        let b = generate(&cfg);
        let names = |d: &Data| {
            d.patients()
                .iter()
                .map(|p| format!("{} {} {} {}", p.uuid, p.first_name, p.last_name, p.hin))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a), names(&b));
        assert_eq!(a.patients().len(), 50);
        assert!(a.appointments().len() > 50);
    }

    /// The clinic a seed lays out is part of what the mock promises: the
    /// same seed books the same patients into the same slots, release to
    /// release (a draw of another integer type takes other values).
    #[test]
    fn a_seed_books_the_patients_it_always_has() {
        let d = generate(&SeedConfig {
            today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            ..SeedConfig::default()
        });
        let booked: Vec<(Id, Option<Id>)> = d
            .appointments()
            .iter()
            .take(8)
            .map(|a| (a.id, a.patient.get()))
            .collect();
        assert_eq!(d.appointments().len(), 507);
        assert_eq!(
            booked,
            [
                (1, 18),
                (2, 17),
                (3, 49),
                (4, 48),
                (5, 13),
                (6, 24),
                (7, 46),
                (8, 26)
            ]
            .map(|(a, p)| (a, Some(p)))
        );
    }

    #[test]
    fn appointments_stay_in_proportion_at_scale() {
        let booked = |patients: usize| {
            let d = generate(&SeedConfig {
                patients,
                today: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
                ..SeedConfig::default()
            });
            (d.appointments().len(), d.schedule_days.len())
        };
        let (_, usual_days) = booked(50);
        let (small, small_days) = booked(5_000);
        assert_eq!(small_days, usual_days, "the usual window below the cap");
        let (large, large_days) = booked(20_000);
        assert!(large_days > usual_days * 2, "{large_days} schedule days");
        assert!(
            large > small * 3,
            "4x the patients, {large} appointments vs {small}"
        );
        assert!(
            large * 2 > 20_000,
            "{large} appointments for 20,000 patients"
        );
        assert_eq!(
            booked(20_000),
            (large, large_days),
            "same seed, same clinic"
        );
    }

    #[test]
    fn health_numbers_pass_their_check_digit() {
        let d = generate(&SeedConfig::default());
        for p in d.patients().iter() {
            assert!(ontario_hin_is_valid(&p.hin), "{}", p.hin);
        }
        assert!(!ontario_hin_is_valid("1234567890"));
    }

    #[test]
    fn seeded_schedules_leave_free_slots() {
        let cfg = SeedConfig::default();
        let d = generate(&cfg);
        let mut date = cfg.today + Duration::days(1);
        while matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            date += Duration::days(1);
        }
        assert!(!d.free_slots("100001", date, 15).is_empty());
    }

    #[test]
    fn demo_accounts_depend_on_the_family() {
        let oscar = generate(&SeedConfig::default());
        let login = oscar.login_by_name(accounts::OSCAR_USER).unwrap();
        assert_eq!(login.id, accounts::OSCAR_SECURITY_NO);
        let emr = generate(&SeedConfig {
            family: Family::OpenEmr,
            ..SeedConfig::default()
        });
        assert!(emr.login_by_name(accounts::OPENEMR_USER).is_some());
        assert_eq!(
            emr.patients().get(1).unwrap().portal_username,
            accounts::PORTAL_USER
        );
    }
}
