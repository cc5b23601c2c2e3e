//! A table of records with monotonic ids and the secondary indexes every
//! dialect needs: by uuid, by patient, and by last-update time (for the
//! delta-sync operations).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use foldhash::fast::RandomState;

use super::{Id, Timestamp};

/// A row of a [`Table`].
pub trait Record: Clone {
    fn id(&self) -> Id;
    fn set_id(&mut self, id: Id);
    /// When the row last changed; kept current by the store.
    fn last_update(&self) -> Timestamp;
    fn set_last_update(&mut self, at: Timestamp);
    /// The patient the row belongs to, for per-patient lookups.
    fn patient_id(&self) -> Option<Id> {
        None
    }
    /// A globally unique id (OpenEMR uuids, FHIR ids), when the row has one.
    fn uuid(&self) -> Option<&str> {
        None
    }
}

/// Rows keyed by id, with indexes maintained on every write.
///
/// Rows are boxed: a B-tree node holds eleven values inline and ids arrive
/// in order, which leaves nodes about half full, so inline rows (most are
/// hundreds of bytes of mostly empty strings) would waste half their space
/// and be moved on every node split.
#[derive(Debug, Clone)]
pub struct Table<T> {
    rows: BTreeMap<Id, Box<T>>,
    next_id: Id,
    by_update: BTreeSet<(Timestamp, Id)>,
    by_patient: BTreeSet<(Id, Id)>,
    by_uuid: UuidIndex,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: BTreeMap::new(),
            next_id: 1,
            by_update: BTreeSet::new(),
            by_patient: BTreeSet::new(),
            by_uuid: UuidIndex::default(),
        }
    }
}

/// Row ids by uuid. A canonical lower-case uuid (what the store generates)
/// is kept as the 128-bit number it spells, which is exact (one text per
/// number) and holds no string; any other text is kept as it is. Nothing
/// iterates this index, so its hash order never shows.
#[derive(Debug, Clone, Default)]
struct UuidIndex {
    canonical: HashMap<u128, Id, RandomState>,
    other: HashMap<Box<str>, Id, RandomState>,
}

impl UuidIndex {
    fn get(&self, uuid: &str) -> Option<Id> {
        match canonical_uuid(uuid) {
            Some(n) => self.canonical.get(&n).copied(),
            None => self.other.get(uuid).copied(),
        }
    }

    fn insert(&mut self, uuid: &str, id: Id) {
        match canonical_uuid(uuid) {
            Some(n) => self.canonical.insert(n, id),
            None => self.other.insert(uuid.into(), id),
        };
    }

    fn remove(&mut self, uuid: &str) {
        match canonical_uuid(uuid) {
            Some(n) => self.canonical.remove(&n),
            None => self.other.remove(uuid),
        };
    }
}

/// The number a `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` uuid in lower-case
/// hex spells; `None` for any other text (upper case included, so that two
/// texts never share a number).
fn canonical_uuid(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut n: u128 = 0;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        n = (n << 4) | u128::from(digit);
    }
    Some(n)
}

impl<T: Record> Table<T> {
    /// A table whose first id is `first` (OSCAR demo ids start high).
    pub fn starting_at(first: Id) -> Self {
        Table {
            next_id: first,
            ..Table::default()
        }
    }

    /// Inserts a row under the next id, which it returns.
    pub fn insert(&mut self, mut row: T) -> Id {
        let id = self.next_id;
        row.set_id(id);
        self.put(row);
        id
    }

    /// Inserts or replaces a row under its own id.
    pub fn put(&mut self, row: T) {
        let id = row.id();
        self.next_id = self.next_id.max(id + 1);
        if let Some(old) = self.rows.remove(&id) {
            self.unindex(&old);
        }
        self.index(&row);
        self.rows.insert(id, Box::new(row));
    }

    pub fn get(&self, id: Id) -> Option<&T> {
        self.rows.get(&id).map(|r| &**r)
    }

    pub fn by_uuid(&self, uuid: &str) -> Option<&T> {
        self.by_uuid.get(uuid).and_then(|id| self.get(id))
    }

    /// Changes a row in place and stamps it; `None` when there is no row.
    pub fn update<R>(&mut self, id: Id, at: Timestamp, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut row = self.rows.remove(&id)?;
        self.unindex(&row);
        let out = f(&mut *row);
        row.set_id(id);
        row.set_last_update(at);
        self.index(&row);
        self.rows.insert(id, row);
        Some(out)
    }

    pub fn remove(&mut self, id: Id) -> Option<T> {
        let row = self.rows.remove(&id)?;
        self.unindex(&row);
        Some(*row)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rows in id order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.rows.values().map(|r| &**r)
    }

    /// The rows of one patient, in id order.
    pub fn for_patient(&self, patient: Id) -> impl Iterator<Item = &T> {
        self.by_patient
            .range((patient, Id::MIN)..=(patient, Id::MAX))
            .filter_map(|(_, id)| self.get(*id))
    }

    /// Rows changed strictly after `after`, oldest change first.
    pub fn updated_after(&self, after: Timestamp) -> impl Iterator<Item = &T> {
        use std::ops::Bound::{Excluded, Unbounded};
        self.by_update
            .range((Excluded((after, Id::MAX)), Unbounded))
            .filter_map(|(_, id)| self.get(*id))
    }

    pub fn next_id(&self) -> Id {
        self.next_id
    }

    fn index(&mut self, row: &T) {
        let id = row.id();
        self.by_update.insert((row.last_update(), id));
        if let Some(p) = row.patient_id() {
            self.by_patient.insert((p, id));
        }
        if let Some(u) = row.uuid() {
            self.by_uuid.insert(u, id);
        }
    }

    fn unindex(&mut self, row: &T) {
        let id = row.id();
        self.by_update.remove(&(row.last_update(), id));
        if let Some(p) = row.patient_id() {
            self.by_patient.remove(&(p, id));
        }
        if let Some(u) = row.uuid() {
            self.by_uuid.remove(u);
        }
    }
}

/// Implements [`Record`] for a struct with `id` and `last_update` fields.
/// Flags: `patient` (a `patient_id: Id` field), `patient_opt` (a
/// `patient: Option<Id>` field), `uuid` (a `uuid: String` field).
#[macro_export]
macro_rules! record {
    ($t:ty $(, $flag:ident)*) => {
        impl $crate::store::Record for $t {
            fn id(&self) -> $crate::store::Id { self.id }
            fn set_id(&mut self, id: $crate::store::Id) { self.id = id; }
            fn last_update(&self) -> $crate::store::Timestamp { self.last_update }
            fn set_last_update(&mut self, at: $crate::store::Timestamp) { self.last_update = at; }
            $( $crate::record!(@$flag); )*
        }
    };
    (@patient) => {
        fn patient_id(&self) -> Option<$crate::store::Id> { Some(self.patient_id) }
    };
    (@patient_opt) => {
        fn patient_id(&self) -> Option<$crate::store::Id> { self.patient }
    };
    (@uuid) => {
        fn uuid(&self) -> Option<&str> { Some(&self.uuid) }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[derive(Clone, Debug)]
    struct Row {
        id: Id,
        patient_id: Id,
        uuid: String,
        last_update: Timestamp,
        v: u32,
    }
    crate::record!(Row, patient, uuid);

    fn at(s: i64) -> Timestamp {
        Utc.timestamp_opt(s, 0).unwrap()
    }

    fn row(p: Id, u: &str, t: i64) -> Row {
        Row {
            id: 0,
            patient_id: p,
            uuid: u.into(),
            last_update: at(t),
            v: 0,
        }
    }

    #[test]
    fn indexes_follow_every_write() {
        let mut t = Table::default();
        let a = t.insert(row(1, "a", 10));
        let b = t.insert(row(2, "b", 20));
        assert_eq!((a, b), (1, 2));
        assert_eq!(t.by_uuid("b").unwrap().id, 2);
        assert_eq!(t.for_patient(1).count(), 1);
        assert_eq!(
            t.updated_after(at(10)).map(|r| r.id).collect::<Vec<_>>(),
            vec![2]
        );

        t.update(a, at(30), |r| r.v = 7).unwrap();
        assert_eq!(
            t.updated_after(at(15)).map(|r| r.id).collect::<Vec<_>>(),
            vec![2, 1]
        );
        assert_eq!(t.get(a).unwrap().v, 7);

        t.remove(b);
        assert!(t.by_uuid("b").is_none());
        assert_eq!(t.for_patient(2).count(), 0);
        assert_eq!(t.insert(row(3, "c", 40)), 3, "ids are never reused");
    }

    #[test]
    fn uuid_index_is_exact_for_every_spelling() {
        let lower = "0f8c2a4e-1b3d-4c5e-9f60-7a8b9c0d1e2f";
        let upper = lower.to_uppercase();
        assert_eq!(
            canonical_uuid(lower),
            Some(0x0f8c2a4e_1b3d_4c5e_9f60_7a8b9c0d1e2f)
        );
        assert_eq!(canonical_uuid(&upper), None, "upper case is another text");
        assert_eq!(canonical_uuid("0f8c2a4e11b3d-4c5e-9f60-7a8b9c0d1e2f"), None);
        let mut t = Table::default();
        let a = t.insert(row(1, lower, 10));
        let b = t.insert(row(1, &upper, 10));
        let c = t.insert(row(1, "not-a-uuid", 10));
        assert_eq!(t.by_uuid(lower).unwrap().id, a);
        assert_eq!(t.by_uuid(&upper).unwrap().id, b);
        assert_eq!(t.by_uuid("not-a-uuid").unwrap().id, c);
        assert!(t.by_uuid("0f8c2a4e-1b3d-4c5e-9f60-7a8b9c0d1e2e").is_none());
        t.remove(a);
        assert!(t.by_uuid(lower).is_none());
        assert_eq!(t.by_uuid(&upper).unwrap().id, b);
    }
}
