//! A table of records with monotonic ids and the secondary indexes every
//! dialect needs: by uuid, by patient, and by last-update time (for the
//! delta-sync operations).

use std::collections::{BTreeMap, BTreeSet};

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

use super::uuid::{Uuid, UuidKey};
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
    fn uuid(&self) -> Option<&Uuid> {
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

/// Row ids by uuid. The index holds only ids (8 bytes an entry): a uuid
/// lives in its row, which a lookup reads to confirm a match. Nothing
/// iterates this index, so its hash order never shows.
#[derive(Debug, Clone, Default)]
struct UuidIndex {
    ids: HashTable<Id>,
    state: RandomState,
}

impl UuidIndex {
    fn hash(&self, key: UuidKey<'_>) -> u64 {
        hash_key(&self.state, key)
    }

    fn get<T: Record>(&self, key: UuidKey<'_>, rows: &BTreeMap<Id, Box<T>>) -> Option<Id> {
        self.ids
            .find(self.hash(key), |id| key_of(rows, *id) == Some(key))
            .copied()
    }

    /// Maps `key` to `id` (replacing the id of another row with that
    /// uuid). `rows` must not hold the row being indexed yet.
    fn insert<T: Record>(&mut self, key: UuidKey<'_>, id: Id, rows: &BTreeMap<Id, Box<T>>) {
        let hash = self.hash(key);
        match self.ids.find_entry(hash, |e| key_of(rows, *e) == Some(key)) {
            Ok(mut entry) => *entry.get_mut() = id,
            Err(_) => {
                let state = &self.state;
                self.ids.insert_unique(hash, id, |e| {
                    key_of(rows, *e).map_or(0, |k| hash_key(state, k))
                });
            }
        }
    }

    fn remove(&mut self, key: UuidKey<'_>, id: Id) {
        if let Ok(entry) = self.ids.find_entry(self.hash(key), |e| *e == id) {
            entry.remove();
        }
    }
}

/// A canonical uuid hashes as one 128-bit word, any other spelling as
/// text; the two never name the same uuid, so they need not agree.
fn hash_key(state: &RandomState, key: UuidKey<'_>) -> u64 {
    match key {
        UuidKey::Canonical(b) => state.hash_one(u128::from_ne_bytes(b)),
        UuidKey::Spelled(s) => state.hash_one(s),
    }
}

fn key_of<T: Record>(rows: &BTreeMap<Id, Box<T>>, id: Id) -> Option<UuidKey<'_>> {
    rows.get(&id).and_then(|r| r.uuid()).map(Uuid::key)
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
        self.by_uuid
            .get(UuidKey::of(uuid), &self.rows)
            .and_then(|id| self.get(id))
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

    /// Rebuilds the B-tree indexes with full nodes. Rows arrive in id
    /// order, and a B-tree filled in order keeps its nodes about half full;
    /// one built from sorted input packs them. Called once a bulk load (the
    /// seed) is done: the contents, and so every read, stay the same.
    pub fn compact(&mut self) {
        packed(&mut self.rows);
        packed_set(&mut self.by_update);
        packed_set(&mut self.by_patient);
    }

    fn index(&mut self, row: &T) {
        let id = row.id();
        self.by_update.insert((row.last_update(), id));
        if let Some(p) = row.patient_id() {
            self.by_patient.insert((p, id));
        }
        if let Some(u) = row.uuid() {
            self.by_uuid.insert(u.key(), id, &self.rows);
        }
    }

    fn unindex(&mut self, row: &T) {
        let id = row.id();
        self.by_update.remove(&(row.last_update(), id));
        if let Some(p) = row.patient_id() {
            self.by_patient.remove(&(p, id));
        }
        if let Some(u) = row.uuid() {
            self.by_uuid.remove(u.key(), id);
        }
    }
}

/// Rebuilds a B-tree map from its own sorted entries (bulk-built, full nodes).
pub(crate) fn packed<K: Ord, V>(map: &mut BTreeMap<K, V>) {
    *map = std::mem::take(map).into_iter().collect();
}

/// [`packed`] for a set.
pub(crate) fn packed_set<K: Ord>(set: &mut BTreeSet<K>) {
    *set = std::mem::take(set).into_iter().collect();
}

/// Implements [`Record`] for a struct with `id` and `last_update` fields.
/// Flags: `patient` (a `patient_id: Id` field), `patient_opt` (a
/// `patient: Option<Id>` field), `uuid` (a `uuid: Uuid` field).
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
        fn uuid(&self) -> Option<&$crate::store::Uuid> { Some(&self.uuid) }
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
        uuid: Uuid,
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
        let d = t.insert(row(2, &upper, 20));
        assert_eq!(t.by_uuid(&upper).unwrap().id, d, "the latest row wins");
    }

    #[test]
    fn uuid_index_survives_growth_and_updates() {
        let mut t = Table::default();
        let ids: Vec<Id> = (0..2000)
            .map(|i| t.insert(row(i, &format!("u{i}"), i)))
            .collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(t.by_uuid(&format!("u{i}")).unwrap().id, *id);
        }
        t.update(ids[7], at(5000), |r| r.uuid = "renamed".into());
        assert!(t.by_uuid("u7").is_none());
        assert_eq!(t.by_uuid("renamed").unwrap().id, ids[7]);
        t.compact();
        assert_eq!(t.by_uuid("u1999").unwrap().id, ids[1999]);
        assert_eq!(t.updated_after(at(1998)).count(), 2);
    }
}
