//! Which behaviour answers each SOAP operation: the table in
//! `behaviour.tsv` (data), the generic kinds most operations share (by id,
//! delta sync by last-update stamp, by patient, by program/provider/
//! patient/date, lab upload), and the operation-specific handlers of
//! [`super::ops`] for the rest.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset, Utc};
use emr_catalog::{Signature, SoapTypes};

use super::fault::SoapFault;
use super::transfer;
use super::xml::{Obj, Val, Writer};
use crate::state::AppState;
use crate::store::*;

const BEHAVIOUR_TSV: &str = include_str!("behaviour.tsv");

/// `AbstractDao.MAX_LIST_RETURN_SIZE`: list operations return at most this.
pub const MAX_LIST_RETURN_SIZE: usize = 5000;

/// How an operation is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `(id)`: the entity's row or null.
    ById,
    /// `(date, itemsToReturn)`: rows changed strictly after the date,
    /// oldest change first.
    UpdatedAfter,
    /// As `UpdatedAfter`, by creation time.
    CreatedAfter,
    /// `(lastUpdate, demographicId)`: a patient's rows changed after the date.
    ByDemographicAfter,
    /// `(programId, providerNo, demographicId, date, itemsToReturn)`: every
    /// filter optional but the date.
    ProgramProviderDemographicDate,
    /// `(file_name, contents, oscar_provider_no)`: the entity column names
    /// the lab handler.
    LabUpload,
    /// An operation-specific handler in [`super::ops`].
    Custom,
}

/// One row of `behaviour.tsv`.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub kind: Kind,
    /// The store entity (or lab type) generic kinds work on.
    pub entity: String,
    /// The index of the `useGMTTime` argument, if the operation has one.
    pub gmt_arg: Option<usize>,
}

/// The behaviour table, parsed once; a malformed table is a build defect
/// caught by the unit tests.
pub fn behaviours() -> &'static HashMap<String, Behaviour> {
    static TABLE: OnceLock<HashMap<String, Behaviour>> = OnceLock::new();
    TABLE.get_or_init(|| parse(BEHAVIOUR_TSV).unwrap_or_default())
}

fn parse(text: &str) -> Result<HashMap<String, Behaviour>, String> {
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        let [op, kind, entity, gmt, ..] = cells.as_slice() else {
            return Err(format!("behaviour.tsv:{}: expected 5 columns", i + 1));
        };
        let kind = match *kind {
            "by_id" => Kind::ById,
            "updated_after" => Kind::UpdatedAfter,
            "created_after" => Kind::CreatedAfter,
            "by_demographic_after" => Kind::ByDemographicAfter,
            "program_provider_demographic_date" => Kind::ProgramProviderDemographicDate,
            "lab_upload" => Kind::LabUpload,
            "custom" => Kind::Custom,
            other => return Err(format!("behaviour.tsv:{}: unknown kind `{other}`", i + 1)),
        };
        let gmt_arg = if gmt.is_empty() {
            None
        } else {
            Some(
                gmt.parse()
                    .map_err(|_| format!("behaviour.tsv:{}: bad gmt_arg", i + 1))?,
            )
        };
        out.insert(
            (*op).to_owned(),
            Behaviour {
                kind,
                entity: (*entity).to_owned(),
                gmt_arg,
            },
        );
    }
    Ok(out)
}

/// One call being answered: the arguments read from the wrapper, the
/// WS-Security login, and the mock.
pub struct Call<'a> {
    pub state: &'a AppState,
    pub sig: &'a Signature,
    pub types: &'static SoapTypes,
    /// The catalogue variant (`oscar19`, `open-o`, `juno`).
    pub variant: &'a str,
    /// One per parameter, in order; `None` for an absent or nil argument.
    pub args: Vec<Option<Val>>,
    /// Who WS-Security authenticated (none on the open services).
    pub login: Option<Login>,
    pub ip: Option<String>,
    /// Set by a handler that refused a password: the caller waits as
    /// OSCAR does before answering.
    pub delay: bool,
}

pub type Outcome = Result<Option<Val>, SoapFault>;

impl Call<'_> {
    pub fn arg(&self, i: usize) -> Option<&Val> {
        self.args.get(i).and_then(Option::as_ref)
    }

    pub fn int(&self, i: usize) -> Option<i64> {
        match self.arg(i) {
            Some(Val::Int(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn string(&self, i: usize) -> Option<&str> {
        match self.arg(i) {
            Some(Val::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// A `boolean` argument; absent is `false`, as JAXB leaves it.
    pub fn flag(&self, i: usize) -> bool {
        matches!(self.arg(i), Some(Val::Bool(true)))
    }

    pub fn boxed_flag(&self, i: usize) -> Option<bool> {
        match self.arg(i) {
            Some(Val::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn time(&self, i: usize) -> Option<DateTime<FixedOffset>> {
        match self.arg(i) {
            Some(Val::Time(t)) => Some(*t),
            _ => None,
        }
    }

    pub fn obj(&self, i: usize) -> Option<&Obj> {
        match self.arg(i) {
            Some(Val::Obj(o)) => Some(o),
            _ => None,
        }
    }

    pub fn list(&self, i: usize) -> Vec<&Val> {
        match self.arg(i) {
            Some(Val::List(items)) => items.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.state.clock.now()
    }

    /// The provider number of the WS-Security login.
    pub fn provider_no(&self) -> String {
        self.login
            .as_ref()
            .map(|l| l.provider_no.clone())
            .unwrap_or_default()
            .to_string()
    }

    pub fn read<R>(&self, f: impl FnOnce(&Data) -> R) -> R {
        self.state.default_site().store.read(f)
    }

    pub fn write<R>(&self, f: impl FnOnce(&mut Data) -> R) -> R {
        self.state.default_site().store.write(f)
    }
}

/// Answers a call as its behaviour row says, appending its `return`
/// element to `out` (nothing on a fault). A read of one row by id is kept
/// written while the store keeps its stamp ([`crate::kept`]), keyed by the
/// operation's signature, the zone and the id.
pub fn reply(call: &mut Call, out: &mut Vec<u8>) -> Result<(), SoapFault> {
    let key = format!("{}.{}", call.sig.service, call.sig.operation);
    let b = behaviours()
        .get(&key)
        .ok_or_else(|| SoapFault::server(format!("no behaviour for {key}")))?;
    let gmt = b.gmt_arg.is_some_and(|i| call.flag(i));
    let value = match b.kind {
        Kind::ById => match call.int(0) {
            Some(id) => {
                // The zone sits where other kept texts have a plan's
                // address, which is never 0 or 1.
                let kept = (
                    std::ptr::from_ref(call.sig) as usize,
                    usize::from(gmt),
                    id as u64,
                );
                let store = &call.state.default_site().store;
                store.read(|d| {
                    crate::kept::write(out, store.stamp(), kept, |out| {
                        write_return(out, call, by_id(d, &b.entity, id, gmt).as_ref());
                    });
                });
                return Ok(());
            }
            None => None,
        },
        Kind::Custom => super::ops::run(&key, call)?,
        Kind::LabUpload => super::labs::upload(call, &b.entity)?,
        Kind::UpdatedAfter | Kind::CreatedAfter => {
            let after = required_date(call.time(0))?;
            let q = Query {
                after: Some(after),
                by_creation: b.kind == Kind::CreatedAfter,
                limit: limit(call.int(1)),
                gmt,
                ..Query::default()
            };
            Some(Val::List(call.read(|d| query(d, &b.entity, &q))))
        }
        Kind::ByDemographicAfter => {
            let after = required_date(call.time(0))?;
            let q = Query {
                after: Some(after),
                patient: Some(call.int(1).unwrap_or(0)),
                limit: MAX_LIST_RETURN_SIZE,
                gmt,
                ..Query::default()
            };
            Some(Val::List(call.read(|d| query(d, &b.entity, &q))))
        }
        Kind::ProgramProviderDemographicDate => {
            let after = required_date(call.time(3))?;
            let q = Query {
                program: call.int(0),
                provider: call.string(1).filter(|p| !p.is_empty()).map(str::to_owned),
                patient: call.int(2),
                after: Some(after),
                limit: limit(call.int(4)),
                gmt,
                ..Query::default()
            };
            Some(Val::List(call.read(|d| query(d, &b.entity, &q))))
        }
    };
    write_return(out, call, value.as_ref());
    Ok(())
}

/// `<return>…</return>` (nothing for a null object).
fn write_return(out: &mut Vec<u8>, call: &Call, value: Option<&Val>) {
    if let Some(ret) = &call.sig.ret {
        let mut w = Writer::new(call.types, "ns2");
        w.field(ret, value);
        out.extend_from_slice(w.out.as_bytes());
    }
}

/// A missing date is dereferenced by the real code: CXF's message-less fault.
fn required_date(t: Option<DateTime<FixedOffset>>) -> Result<Timestamp, SoapFault> {
    t.map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| SoapFault::server(""))
}

/// `itemsToReturn`, capped at the DAO limit; negative asks for nothing.
pub fn limit(n: Option<i64>) -> usize {
    n.map_or(MAX_LIST_RETURN_SIZE, |n| {
        usize::try_from(n).unwrap_or(0).min(MAX_LIST_RETURN_SIZE)
    })
}

/// Filters of the generic list kinds. The patient and program are the
/// client's numbers: one past `Id`'s range matches no row.
#[derive(Debug, Default)]
pub struct Query {
    pub after: Option<Timestamp>,
    pub by_creation: bool,
    pub patient: Option<i64>,
    pub provider: Option<String>,
    pub program: Option<i64>,
    pub limit: usize,
    pub gmt: bool,
}

/// What the generic kinds need of a row besides [`Record`].
trait Row: Record {
    fn provider(&self) -> &str;
    fn program(&self) -> Option<Id> {
        None
    }
    fn created_at(&self) -> Timestamp {
        self.last_update()
    }
}

impl Row for Allergy {
    fn provider(&self) -> &str {
        &self.provider_no
    }
}
impl Row for Immunization {
    fn provider(&self) -> &str {
        &self.provider_no
    }
    fn created_at(&self) -> Timestamp {
        self.created.get()
    }
}
impl Row for Measurement {
    fn provider(&self) -> &str {
        &self.provider_no
    }
    fn created_at(&self) -> Timestamp {
        self.created.get()
    }
}
impl Row for Document {
    fn provider(&self) -> &str {
        &self.provider_no
    }
    fn created_at(&self) -> Timestamp {
        self.created.get()
    }
}
impl Row for Prescription {
    fn provider(&self) -> &str {
        &self.provider_no
    }
    fn created_at(&self) -> Timestamp {
        self.created.get()
    }
}
impl Row for Appointment {
    fn provider(&self) -> &str {
        &self.provider_no
    }
    fn program(&self) -> Option<Id> {
        Some(self.program_id)
    }
    fn created_at(&self) -> Timestamp {
        self.created.get()
    }
}
impl Row for AppointmentArchive {
    fn provider(&self) -> &str {
        &self.appointment.provider_no
    }
    fn program(&self) -> Option<Id> {
        Some(self.appointment.program_id)
    }
}

/// The rows of a table a query selects, in the order the real DAOs
/// return them (change time for delta sync, id otherwise).
fn select<'a, T: Row>(d: &Data, table: &'a Table<T>, q: &Query) -> Vec<&'a T> {
    if let Some(p) = q.program {
        if Id::try_from(p)
            .ok()
            .and_then(|p| d.programs.get(p))
            .is_none()
        {
            return Vec::new();
        }
    }
    let keep = |r: &&T| {
        q.patient
            .is_none_or(|p| r.patient_id().map(i64::from) == Some(p))
            && q.provider.as_deref().is_none_or(|p| r.provider() == p)
            && q.program
                .is_none_or(|p| r.program().is_none_or(|rp| i64::from(rp) == p))
    };
    let rows: Box<dyn Iterator<Item = &'a T>> = match (q.after, q.by_creation, q.patient) {
        (Some(after), true, _) => Box::new(table.iter().filter(move |r| r.created_at() > after)),
        (Some(after), false, _) => Box::new(table.updated_after(after)),
        (None, _, Some(p)) => match Id::try_from(p) {
            Ok(p) => Box::new(table.for_patient(p)),
            Err(_) => Box::new(std::iter::empty()),
        },
        (None, _, None) => Box::new(table.iter()),
    };
    rows.filter(keep).take(q.limit).collect()
}

/// The transfer objects of an entity a query selects.
pub fn query(d: &Data, entity: &str, q: &Query) -> Vec<Val> {
    let obj = |o: Obj| Val::Obj(o);
    match entity {
        "allergy" => select(d, &d.allergies, q)
            .into_iter()
            .map(|a| obj(transfer::allergy(a)))
            .collect(),
        "prevention" => select(d, &d.immunizations, q)
            .into_iter()
            .map(|p| obj(transfer::prevention(p)))
            .collect(),
        "measurement" => select(d, &d.measurements, q)
            .into_iter()
            .map(|m| obj(transfer::measurement(m)))
            .collect(),
        "document" => select(d, &d.documents, q)
            .into_iter()
            .map(|x| obj(transfer::document(x)))
            .collect(),
        "prescription" => select(d, &d.prescriptions, q)
            .into_iter()
            .map(|p| obj(prescription(d, p)))
            .collect(),
        "appointment" => select(d, d.appointments(), q)
            .into_iter()
            .map(|a| obj(transfer::appointment(a, q.gmt)))
            .collect(),
        "appointment_archive" => select(d, &d.appointment_archives, q)
            .into_iter()
            .map(|a| obj(transfer::appointment_archive(a, q.gmt)))
            .collect(),
        _ => Vec::new(),
    }
}

fn prescription(d: &Data, p: &Prescription) -> Obj {
    let drugs: Vec<&Medication> = d
        .medications
        .for_patient(p.patient_id)
        .filter(|m| m.script_no == Some(p.id))
        .collect();
    transfer::prescription(p, &drugs)
}

/// One row of an entity by the client's number, as its transfer object:
/// none for a number past `Id`'s range, as for an unknown one.
pub fn by_id(d: &Data, entity: &str, id: i64, gmt: bool) -> Option<Val> {
    let id = Id::try_from(id).ok()?;
    let o = match entity {
        "demographic" => transfer::demographic(d.patients().get(id)?, false),
        "demographic2" => transfer::demographic(d.patients().get(id)?, true),
        "allergy" => transfer::allergy(d.allergies.get(id)?),
        "prevention" => transfer::prevention(d.immunizations.get(id)?),
        "measurement" => transfer::measurement(d.measurements.get(id)?),
        "document" => transfer::document(d.documents.get(id)?),
        "prescription" => prescription(d, d.prescriptions.get(id)?),
        "appointment" => transfer::appointment(d.appointments().get(id)?, gmt),
        _ => return None,
    };
    Some(Val::Obj(o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use emr_catalog::{Api, Catalog, ProfileId};

    #[test]
    fn every_soap_operation_of_every_variant_has_a_behaviour() {
        let table = parse(BEHAVIOUR_TSV).unwrap();
        for profile in [ProfileId::Oscar, ProfileId::OpenO, ProfileId::Juno] {
            for op in Catalog::of(profile)
                .operations()
                .iter()
                .filter(|o| o.api == Api::Soap)
            {
                let b = table
                    .get(&op.id)
                    .unwrap_or_else(|| panic!("{profile}: no behaviour for {}", op.id));
                if b.kind == Kind::Custom {
                    assert!(
                        super::super::ops::handles(&op.id),
                        "{profile}: {} is custom but has no handler",
                        op.id
                    );
                }
            }
        }
    }

    #[test]
    fn a_bad_table_names_the_line() {
        let e = parse("h\nX.y\tsometimes\t\t\t\n").unwrap_err();
        assert!(
            e.contains("behaviour.tsv:2: unknown kind `sometimes`"),
            "{e}"
        );
    }

    #[test]
    fn limits_are_capped_like_the_dao() {
        assert_eq!(limit(Some(10)), 10);
        assert_eq!(limit(Some(1_000_000)), MAX_LIST_RETURN_SIZE);
        assert_eq!(limit(Some(-1)), 0);
        assert_eq!(limit(None), MAX_LIST_RETURN_SIZE);
    }
}
