//! One in-memory clinical store behind every dialect.
//!
//! All writes go through [`Data`]'s methods, which keep the indexes and the
//! invariants (unique stamps for delta sync, no double-booked free slot,
//! appointments only for existing patients) in one place instead of in
//! each handler. The store sits behind a single reader-writer lock: reads
//! run in parallel, and a write is atomic with respect to every read, so a
//! delta-sync read never sees half a write.

pub mod collections;
mod ext;
mod model;
pub mod openemr_seed;
mod opt_id;
pub mod oscar_seed;
mod patient_index;
mod records;
pub mod seed;
mod stamp;
mod table;
mod text;
mod uuid;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Duration, NaiveDate, NaiveTime, Timelike};
use parking_lot::RwLock;

pub use ext::Ext;
pub use model::*;
pub use opt_id::OptId;
pub use records::*;
pub use seed::SeedConfig;
pub use stamp::Stamp;
use table::packed_by_text;
pub use table::{Record, Table};
pub use text::Text;
pub use uuid::{Uuid, UuidKey, UuidStr};

/// Row ids, as the real systems use integers.
pub type Id = i32;
/// Instants, always UTC inside the store.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("no {kind} with id {id}")]
    NotFound { kind: &'static str, id: String },
    #[error("the slot {date} {start}-{end} of provider {provider_no} is already booked")]
    SlotTaken {
        provider_no: String,
        date: NaiveDate,
        start: NaiveTime,
        end: NaiveTime,
    },
    #[error("{0}")]
    Invalid(String),
}

/// The row id a client's number names, for a row of `kind`. A number
/// past `Id`'s range names no row: it is refused as an unknown id is,
/// with the number as sent.
pub fn id_from(kind: &'static str, n: i64) -> Result<Id, StoreError> {
    Id::try_from(n).map_err(|_| StoreError::NotFound {
        kind,
        id: n.to_string(),
    })
}

/// Which of a patient's names a prefix search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamePart {
    /// The last name.
    Family,
    /// The first and middle names.
    Given,
    /// The title (`MR`, `MS`).
    Title,
}

/// The store: the data behind one lock.
#[derive(Debug)]
pub struct Store {
    data: RwLock<Data>,
    /// Which state the data is in: a new stamp, unique in the process, is
    /// taken by every write (and by a new or replaced store), so what is
    /// derived from a row of one stamp stays true for as long as a reader
    /// sees that stamp (see [`Store::stamp`]).
    stamp: AtomicU64,
}

/// The stamps of every store of the process.
static STAMPS: AtomicU64 = AtomicU64::new(1);

fn next_stamp() -> u64 {
    STAMPS.fetch_add(1, Ordering::Relaxed)
}

impl Store {
    pub fn new(data: Data) -> Self {
        Store {
            data: RwLock::new(data),
            stamp: AtomicU64::new(next_stamp()),
        }
    }

    pub fn read<R>(&self, f: impl FnOnce(&Data) -> R) -> R {
        f(&self.data.read())
    }

    pub fn write<R>(&self, f: impl FnOnce(&mut Data) -> R) -> R {
        let mut data = self.data.write();
        let r = f(&mut data);
        // Still under the lock: a reader that gets the lock next sees the
        // data and its stamp together.
        self.stamp.store(next_stamp(), Ordering::Release);
        r
    }

    /// Swaps in fresh data (admin reset).
    pub fn replace(&self, data: Data) {
        self.write(|held| *held = data);
    }

    /// The stamp of the data, read inside [`Store::read`]: while the read
    /// lock is held no write can change either.
    pub fn stamp(&self) -> u64 {
        self.stamp.load(Ordering::Acquire)
    }
}

/// Calls `$method` on every [`Table`] of a [`Data`]: the one list of them.
macro_rules! each_table {
    ($data:expr, $method:ident) => {{
        let d = &mut *$data;
        d.patients.$method();
        d.appointments.$method();
        d.providers.$method();
        d.logins.$method();
        d.facilities.$method();
        d.programs.$method();
        d.appointment_types.$method();
        d.schedule_codes.$method();
        d.schedule_days.$method();
        d.allergies.$method();
        d.immunizations.$method();
        d.measurements.$method();
        d.medications.$method();
        d.prescriptions.$method();
        d.problems.$method();
        d.encounters.$method();
        d.notes.$method();
        d.documents.$method();
        d.labs.$method();
        d.appointment_archives.$method();
        d.billings.$method();
        d.ticklers.$method();
        d.messages.$method();
        d.insurance_companies.$method();
        d.insurances.$method();
        d.transactions.$method();
        d.drugs.$method();
        d.questionnaire_responses.$method();
        d.export_jobs.$method();
    }};
}

/// Every table of the clinical model, and the indexes over them.
#[derive(Debug, Clone, Default)]
pub struct Data {
    patients: Table<Patient>,
    appointments: Table<Appointment>,
    pub providers: Table<Provider>,
    pub logins: Table<Login>,
    pub facilities: Table<Facility>,
    pub programs: Table<Program>,
    pub appointment_types: Table<AppointmentType>,
    pub schedule_codes: Table<ScheduleCode>,
    pub schedule_days: Table<ScheduleDay>,
    pub allergies: Table<Allergy>,
    pub immunizations: Table<Immunization>,
    pub measurements: Table<Measurement>,
    pub medications: Table<Medication>,
    pub prescriptions: Table<Prescription>,
    pub problems: Table<Problem>,
    pub encounters: Table<Encounter>,
    pub notes: Table<Note>,
    pub documents: Table<Document>,
    pub labs: Table<LabResult>,
    /// Earlier versions of appointments, written on every update (OSCAR's
    /// `appointmentArchive`).
    pub appointment_archives: Table<AppointmentArchive>,
    /// Billing records imported from outside (Juno's dashboard billing).
    pub billings: Table<BillingRecord>,
    pub ticklers: Table<Tickler>,
    pub messages: Table<Message>,
    /// Dialect-specific configuration and workflow records (OSCAR REST's
    /// consent types, jobs, consultation services...), as data.
    pub records: collections::Records,
    pub insurance_companies: Table<InsuranceCompany>,
    pub insurances: Table<InsurancePolicy>,
    pub transactions: Table<Transaction>,
    pub drugs: Table<Drug>,
    pub questionnaire_responses: Table<QuestionnaireResponse>,
    pub export_jobs: Table<ExportJob>,
    /// `(last name, first name, id)`, lower-cased: prefix name searches.
    names: BTreeSet<(Text, Text, Id)>,
    /// `(given name, id)`, lower-cased, first and middle names: FHIR
    /// `given`/`name` and Standard API `fname` searches.
    given_names: BTreeSet<(Text, Id)>,
    /// `(title, id)`, lower-cased: the name prefix FHIR `name` also matches.
    titles: BTreeSet<(Text, Id)>,
    /// `(hin, id)`: health-number lookups.
    hins: BTreeSet<(Text, Id)>,
    /// `(provider_no, date, start, id)`: schedules and conflict checks.
    slots: BTreeSet<(Text, NaiveDate, NaiveTime, Id)>,
    last_stamp: Option<Timestamp>,
}

impl Data {
    /// Starts a bulk load (the seed): every table's patient and uuid
    /// indexes wait for [`Data::compact`] to build them from the rows.
    pub(super) fn defer_indexes(&mut self) {
        each_table!(self, defer_indexes);
    }

    /// Ends a bulk load: builds the deferred indexes and packs the kept
    /// ones (see [`Table::compact`]). The patient name indexes are built
    /// packed by [`Data::index_patients`].
    pub fn compact(&mut self) {
        each_table!(self, compact);
        table::packed_set(&mut self.slots);
    }

    /// A strictly increasing write time: two writes never share a stamp,
    /// so "changed after T" never splits or repeats a write.
    /// Stamps have millisecond precision, as the real systems' columns
    /// and wire formats do, so a client that sends back a stamp it read
    /// never sees that write again nor misses a later one.
    pub fn stamp(&mut self, now: Timestamp) -> Timestamp {
        let now = now
            .with_nanosecond(now.timestamp_subsec_millis() * 1_000_000)
            .unwrap_or(now);
        let at = match self.last_stamp {
            Some(last) if now <= last => last + Duration::milliseconds(1),
            _ => now,
        };
        self.last_stamp = Some(at);
        at
    }

    // ---- patients -------------------------------------------------------

    pub fn patients(&self) -> &Table<Patient> {
        &self.patients
    }

    pub fn patient(&self, id: Id) -> Result<&Patient, StoreError> {
        self.patients.get(id).ok_or_else(|| StoreError::NotFound {
            kind: "patient",
            id: id.to_string(),
        })
    }

    /// Adds a patient; its id is assigned here, its stamps from `now`.
    pub fn insert_patient(&mut self, mut p: Patient, now: Timestamp) -> Id {
        let at = self.stamp(now);
        p.created = at.into();
        p.last_update = at.into();
        let id = self.patients.insert(p);
        self.index_patient(id);
        id
    }

    /// Changes a patient in place, keeping the name and HIN indexes right.
    pub fn update_patient<R>(
        &mut self,
        id: Id,
        now: Timestamp,
        f: impl FnOnce(&mut Patient) -> R,
    ) -> Result<R, StoreError> {
        if self.patients.get(id).is_none() {
            return Err(StoreError::NotFound {
                kind: "patient",
                id: id.to_string(),
            });
        }
        self.unindex_patient(id);
        let at = self.stamp(now);
        let out = self.patients.update(id, at, f);
        self.index_patient(id);
        out.ok_or_else(|| StoreError::Invalid("patient vanished during update".into()))
    }

    pub fn remove_patient(&mut self, id: Id) -> Result<Patient, StoreError> {
        self.unindex_patient(id);
        self.patients
            .remove(id)
            .ok_or_else(|| StoreError::NotFound {
                kind: "patient",
                id: id.to_string(),
            })
    }

    /// Patients whose last name starts with `last` and first name with
    /// `first` (case-insensitive), in name order, via the index.
    pub fn search_patients_by_name<'a>(
        &'a self,
        last: &str,
        first: &str,
    ) -> impl Iterator<Item = &'a Patient> + 'a {
        let last = Text::from(last.trim()).to_lowercase();
        let first = Text::from(first.trim()).to_lowercase();
        self.names
            .range((last.clone(), Text::new(), Id::MIN)..)
            .take_while(move |(l, _, _)| l.starts_with(last.as_str()))
            .filter(move |(_, f, _)| f.starts_with(first.as_str()))
            .filter_map(|(_, _, id)| self.patients.get(*id))
    }

    /// Patients matching OSCAR's name query `last[,first]`, each part a
    /// prefix: [`Data::search_patients_by_name`] on its two parts.
    pub fn search_patients_by_query<'a>(
        &'a self,
        query: &str,
    ) -> impl Iterator<Item = &'a Patient> + 'a {
        let (last, first) = query.split_once(',').unwrap_or((query, ""));
        self.search_patients_by_name(last, first)
    }

    /// Patients whose health number starts with `hin`.
    pub fn search_patients_by_hin<'a>(
        &'a self,
        hin: &str,
    ) -> impl Iterator<Item = &'a Patient> + 'a {
        let hin = Text::from(hin.trim());
        self.hins
            .range((hin.clone(), Id::MIN)..)
            .take_while(move |(h, _)| h.starts_with(hin.as_str()))
            .filter_map(|(_, id)| self.patients.get(*id))
    }

    /// Ids of the patients whose `part` name starts with `prefix`, compared
    /// as `str::to_lowercase` folds both, in id order: found through the
    /// indexes, so a search touches only the patients it can match.
    pub fn patient_ids_by_name_prefix(&self, part: NamePart, prefix: &str) -> Vec<Id> {
        let prefix = Text::from(prefix).to_lowercase();
        let mut ids: Vec<Id> = match part {
            NamePart::Family => self
                .names
                .range((prefix.clone(), Text::new(), Id::MIN)..)
                .take_while(|(l, _, _)| l.starts_with(prefix.as_str()))
                .map(|(_, _, id)| *id)
                .collect(),
            NamePart::Given | NamePart::Title => {
                let set = if part == NamePart::Given {
                    &self.given_names
                } else {
                    &self.titles
                };
                set.range((prefix.clone(), Id::MIN)..)
                    .take_while(|(n, _)| n.starts_with(prefix.as_str()))
                    .map(|(_, id)| *id)
                    .collect()
            }
        };
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Builds the name and health-number indexes of every patient, each
    /// in one pass from sorted keys (packed B-trees), replacing them: a
    /// bulk load inserts its patients unindexed, in an order of no use to
    /// these indexes, and calls this once they are all in.
    pub(super) fn index_patients(&mut self) {
        let n = self.patients.len();
        let mut names = Vec::with_capacity(n);
        let mut given_names = Vec::with_capacity(n * 2);
        let mut titles = Vec::with_capacity(n);
        let mut hins = Vec::with_capacity(n);
        let mut lowered: std::collections::HashMap<Text, Text, foldhash::fast::RandomState> =
            Default::default();
        let mut lower = |t: &Text| {
            if t.len() <= text::INLINE {
                return t.to_lowercase();
            }
            if let Some(l) = lowered.get(t) {
                return l.clone();
            }
            let l = t.to_lowercase();
            lowered.insert(t.clone(), l.clone());
            l
        };
        for p in self.patients.iter() {
            let keys = PatientKeys::lowered_by(p, &mut lower);
            names.push(keys.name);
            given_names.extend(keys.given.into_iter().flatten());
            titles.extend(keys.title);
            hins.extend(keys.hin);
        }
        self.names = packed_by_text(names, |(last, _, _)| last);
        self.given_names = packed_by_text(given_names, |(given, _)| given);
        self.titles = packed_by_text(titles, |(title, _)| title);
        self.hins = packed_by_text(hins, |(hin, _)| hin);
    }

    fn index_patient(&mut self, id: Id) {
        if let Some(p) = self.patients.get(id) {
            let keys = PatientKeys::of(p);
            self.names.insert(keys.name);
            self.given_names.extend(keys.given.into_iter().flatten());
            self.titles.extend(keys.title);
            self.hins.extend(keys.hin);
        }
    }

    fn unindex_patient(&mut self, id: Id) {
        if let Some(p) = self.patients.get(id) {
            let keys = PatientKeys::of(p);
            self.names.remove(&keys.name);
            for k in keys.given.into_iter().flatten() {
                self.given_names.remove(&k);
            }
            if let Some(k) = keys.title {
                self.titles.remove(&k);
            }
            if let Some(k) = keys.hin {
                self.hins.remove(&k);
            }
        }
    }

    // ---- providers ------------------------------------------------------

    pub fn provider(&self, provider_no: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.provider_no == provider_no)
    }

    pub fn login_by_name(&self, user_name: &str) -> Option<&Login> {
        self.logins.iter().find(|l| l.user_name == user_name)
    }

    // ---- appointments ---------------------------------------------------

    pub fn appointments(&self) -> &Table<Appointment> {
        &self.appointments
    }

    /// A provider's appointments on a day, in start order.
    pub fn appointments_on<'a>(
        &'a self,
        provider_no: &str,
        date: NaiveDate,
    ) -> impl Iterator<Item = &'a Appointment> + 'a {
        let key = Text::from(provider_no);
        self.slots
            .range((key.clone(), date, NaiveTime::MIN, Id::MIN)..)
            .take_while(move |(p, d, _, _)| *p == key && *d == date)
            .filter_map(|(_, _, _, id)| self.appointments.get(*id))
    }

    /// Whether `[start, end)` overlaps a live appointment of the provider.
    pub fn slot_is_free(
        &self,
        provider_no: &str,
        date: NaiveDate,
        start: NaiveTime,
        end: NaiveTime,
        ignore: Option<Id>,
    ) -> bool {
        !self
            .appointments_on(provider_no, date)
            .any(|a| Some(a.id) != ignore && !a.is_cancelled() && a.start < end && start < a.end)
    }

    /// Books an appointment. With `require_free`, a slot already taken is
    /// refused: the check and the insert happen under the same write lock,
    /// so two concurrent bookings of one slot cannot both succeed.
    pub fn insert_appointment(
        &mut self,
        mut a: Appointment,
        now: Timestamp,
        require_free: bool,
    ) -> Result<Id, StoreError> {
        if let Some(p) = a.patient.get() {
            self.patient(p)?;
        }
        if a.end <= a.start {
            return Err(StoreError::Invalid(format!(
                "appointment ends ({}) before it starts ({})",
                a.end, a.start
            )));
        }
        if require_free && !self.slot_is_free(&a.provider_no, a.date, a.start, a.end, None) {
            return Err(StoreError::SlotTaken {
                provider_no: a.provider_no.to_string(),
                date: a.date,
                start: a.start,
                end: a.end,
            });
        }
        let at = self.stamp(now);
        a.created = at.into();
        a.last_update = at.into();
        let id = self.appointments.insert(a);
        self.index_appointment(id);
        Ok(id)
    }

    pub fn update_appointment<R>(
        &mut self,
        id: Id,
        now: Timestamp,
        f: impl FnOnce(&mut Appointment) -> R,
    ) -> Result<R, StoreError> {
        if self.appointments.get(id).is_none() {
            return Err(StoreError::NotFound {
                kind: "appointment",
                id: id.to_string(),
            });
        }
        self.unindex_appointment(id);
        let at = self.stamp(now);
        if let Some(before) = self.appointments.get(id).cloned() {
            self.appointment_archives.insert(AppointmentArchive {
                id: 0,
                appointment_id: id,
                appointment: before,
                last_update: at.into(),
            });
        }
        let out = self.appointments.update(id, at, f);
        self.index_appointment(id);
        out.ok_or_else(|| StoreError::Invalid("appointment vanished during update".into()))
    }

    pub fn remove_appointment(&mut self, id: Id) -> Result<Appointment, StoreError> {
        self.unindex_appointment(id);
        self.appointments
            .remove(id)
            .ok_or_else(|| StoreError::NotFound {
                kind: "appointment",
                id: id.to_string(),
            })
    }

    fn index_appointment(&mut self, id: Id) {
        if let Some(a) = self.appointments.get(id) {
            self.slots
                .insert((a.provider_no.clone(), a.date, a.start, id));
        }
    }

    fn unindex_appointment(&mut self, id: Id) {
        if let Some(a) = self.appointments.get(id) {
            self.slots
                .remove(&(a.provider_no.clone(), a.date, a.start, id));
        }
    }

    // ---- schedules ------------------------------------------------------

    /// The provider's template for a day, if they work that day.
    pub fn schedule_day(&self, provider_no: &str, date: NaiveDate) -> Option<&ScheduleDay> {
        self.schedule_days
            .iter()
            .find(|d| d.provider_no == provider_no && d.date == date)
    }

    /// Free bookable slots of a provider on a day: template slots whose
    /// code allows booking and that no live appointment overlaps.
    pub fn free_slots(
        &self,
        provider_no: &str,
        date: NaiveDate,
        duration_min: u32,
    ) -> Vec<(NaiveTime, NaiveTime)> {
        let Some(day) = self.schedule_day(provider_no, date) else {
            return Vec::new();
        };
        if day.holiday || day.slot_min == 0 {
            return Vec::new();
        }
        let step = day.slot_min;
        let mut out = Vec::new();
        for (i, code) in day.timecode.chars().enumerate() {
            if code == '_' {
                continue;
            }
            let minutes = i as u32 * step;
            let Some(start) = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0) else {
                continue;
            };
            let end = start + Duration::minutes(i64::from(duration_min.max(step)));
            if end <= start {
                continue;
            }
            if self.slot_is_free(provider_no, date, start, end, None) {
                out.push((start, end));
            }
        }
        out
    }
}

/// A patient's keys in the name and health-number indexes: names
/// lower-cased; empty given names, titles and numbers are not indexed.
struct PatientKeys {
    name: (Text, Text, Id),
    given: [Option<(Text, Id)>; 2],
    title: Option<(Text, Id)>,
    hin: Option<(Text, Id)>,
}

impl PatientKeys {
    fn of(p: &Patient) -> PatientKeys {
        PatientKeys::lowered_by(p, &mut Text::to_lowercase)
    }

    /// The keys, with names lower-cased by `lower`: the bulk build passes
    /// one that hands every patient of a name the same shared copy.
    fn lowered_by(p: &Patient, lower: &mut impl FnMut(&Text) -> Text) -> PatientKeys {
        let mut key = |t: &Text| (!t.is_empty()).then(|| (lower(t), p.id));
        PatientKeys {
            given: [key(&p.first_name), key(&p.middle_name)],
            title: key(&p.title),
            name: (lower(&p.last_name), lower(&p.first_name), p.id),
            hin: (!p.hin.is_empty()).then(|| (p.hin.clone(), p.id)),
        }
    }
}

/// Narrows `acc` to the ids also in `ids` (both in id order, as
/// [`Data::patient_ids_by_name_prefix`] gives them): each name criterion
/// of a search must match, so the candidates are the intersection. `None`
/// (no criterion yet) takes `ids` whole.
pub fn intersect_ids(acc: Option<Vec<Id>>, ids: Vec<Id>) -> Vec<Id> {
    match acc {
        None => ids,
        Some(prev) => prev
            .into_iter()
            .filter(|id| ids.binary_search(id).is_ok())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn data() -> Data {
        seed::generate(&SeedConfig {
            patients: 20,
            ..SeedConfig::default()
        })
    }

    #[test]
    fn name_index_follows_renames() {
        let mut d = data();
        let now = Utc::now();
        let id = d.insert_patient(
            Patient {
                first_name: "Jordan".into(),
                last_name: "Zyxwv".into(),
                ..Patient::default()
            },
            now,
        );
        assert_eq!(
            d.search_patients_by_name("zyx", "jor").next().unwrap().id,
            id
        );
        d.update_patient(id, now, |p| p.last_name = "Quimby".into())
            .unwrap();
        assert!(d.search_patients_by_name("zyx", "").next().is_none());
        assert_eq!(d.search_patients_by_name("QUIM", "").next().unwrap().id, id);
    }

    #[test]
    fn name_prefix_indexes_find_exactly_the_matching_patients() {
        let mut d = data();
        let now = Utc::now();
        let id = d.insert_patient(
            Patient {
                title: "Dr".into(),
                first_name: "Émile".into(),
                middle_name: "Quill".into(),
                last_name: "Zyxwv".into(),
                ..Patient::default()
            },
            now,
        );
        let scan = |part: NamePart, prefix: &str| -> Vec<Id> {
            let prefix = prefix.to_lowercase();
            d.patients()
                .iter()
                .filter(|p| {
                    let names: Vec<&Text> = match part {
                        NamePart::Family => vec![&p.last_name],
                        NamePart::Given => vec![&p.first_name, &p.middle_name],
                        NamePart::Title => vec![&p.title],
                    };
                    names
                        .iter()
                        .any(|n| !n.is_empty() && n.to_lowercase().starts_with(&prefix))
                })
                .map(|p| p.id)
                .collect()
        };
        for (part, prefix) in [
            (NamePart::Family, "sm"),
            (NamePart::Family, "ZYX"),
            (NamePart::Given, "émi"),
            (NamePart::Given, "quil"),
            (NamePart::Given, "o"),
            (NamePart::Title, "m"),
            (NamePart::Title, "dr"),
        ] {
            assert_eq!(
                d.patient_ids_by_name_prefix(part, prefix),
                scan(part, prefix),
                "{part:?} {prefix}"
            );
        }
        assert_eq!(
            d.patient_ids_by_name_prefix(NamePart::Given, "quill"),
            vec![id]
        );
        d.update_patient(id, now, |p| p.middle_name = "Rowe".into())
            .unwrap();
        assert!(d
            .patient_ids_by_name_prefix(NamePart::Given, "quill")
            .is_empty());
        d.remove_patient(id).unwrap();
        assert!(d
            .patient_ids_by_name_prefix(NamePart::Title, "dr")
            .is_empty());
    }

    #[test]
    fn stamps_strictly_increase() {
        let mut d = Data::default();
        let now = Utc::now();
        let a = d.stamp(now);
        let b = d.stamp(now);
        let c = d.stamp(now - Duration::seconds(5));
        assert!(a < b && b < c);
    }

    #[test]
    fn stamps_are_whole_milliseconds() {
        let mut d = Data::default();
        let now = Utc::now();
        let a = d.stamp(now);
        assert_eq!(a.timestamp_subsec_nanos() % 1_000_000, 0);
        assert!(now - a < Duration::milliseconds(1));
    }

    #[test]
    fn updating_an_appointment_archives_the_old_version() {
        let mut d = data();
        let now = Utc::now();
        let id = d.appointments().iter().next().unwrap().id;
        let before = d.appointments().get(id).unwrap().status.clone();
        d.update_appointment(id, now, |a| a.status = "C".into())
            .unwrap();
        let archive = d.appointment_archives.iter().last().unwrap();
        assert_eq!(archive.appointment_id, id);
        assert_eq!(archive.appointment.status, before);
        assert_eq!(
            archive.last_update,
            d.appointments().get(id).unwrap().last_update
        );
    }

    #[test]
    fn a_taken_slot_is_refused_only_when_asked() {
        let mut d = data();
        let now = Utc::now();
        let date = NaiveDate::from_ymd_opt(2030, 1, 7).unwrap();
        let appt = Appointment {
            provider_no: "100001".into(),
            date,
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(9, 15, 0).unwrap(),
            status: "t".into(),
            ..Appointment::default()
        };
        d.insert_appointment(appt.clone(), now, true).unwrap();
        let err = d.insert_appointment(appt.clone(), now, true).unwrap_err();
        assert!(matches!(err, StoreError::SlotTaken { .. }));
        d.insert_appointment(appt, now, false).unwrap();
        assert_eq!(d.appointments_on("100001", date).count(), 2);
    }

    #[test]
    fn appointments_need_an_existing_patient() {
        let mut d = data();
        let appt = Appointment {
            patient: Some(999_999).into(),
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(9, 15, 0).unwrap(),
            ..Appointment::default()
        };
        assert!(matches!(
            d.insert_appointment(appt, Utc::now(), false),
            Err(StoreError::NotFound { .. })
        ));
    }
}
