//! A table of records with monotonic ids and the secondary indexes every
//! dialect needs: by uuid, by patient, and by last-update time (for the
//! delta-sync operations).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

use super::patient_index::PatientIndex;
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
#[derive(Debug, Clone)]
pub struct Table<T> {
    rows: Rows<T>,
    next_id: Id,
    /// `(last update, id)`, for delta sync. Only OSCAR's SOAP delta-sync
    /// operations read it, and only for the tables they are asked about,
    /// so it is built by the first such read (one sort of the table) and
    /// kept current by every write from then on. Until then it costs
    /// nothing: about 25 bytes a row, a tenth of a seeded store.
    by_update: OnceLock<BTreeSet<(Timestamp, Id)>>,
    /// `(patient, id)`: each patient's rows. `None` while a bulk load
    /// defers it ([`Table::defer_indexes`]); [`Table::compact`] then
    /// builds it from the rows in one pass, packed, instead of inserting
    /// row by row into half-full nodes and repacking them.
    by_patient: Option<PatientIndex>,
    /// Ids by uuid; `None` while a bulk load defers it, then built at its
    /// final size: growing it row by row rehashed every entry at each
    /// doubling, reading each entry's row for its uuid (a cache miss per
    /// row, a sixth of seeding 1,000,000 patients).
    by_uuid: Option<UuidIndex>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: Rows::default(),
            next_id: 1,
            by_update: OnceLock::new(),
            by_patient: Some(PatientIndex::default()),
            by_uuid: Some(UuidIndex::default()),
        }
    }
}

/// The rows themselves, by id.
///
/// Ids are handed out in order, so nearly every row sits in one run of
/// slots at `id - base`, inline: no box and no B-tree entry per row (a
/// boxed row in a B-tree map cost its 8-byte pointer, a 16-byte entry in
/// a node that is never quite full, and the allocator's rounding of the
/// row to its size class, about 40 bytes a row in all). The run is cut
/// into chunks of [`CHUNK`] slots, so growing it never copies the rows
/// nor leaves a vector's doubled capacity unused: at most one chunk is
/// part empty. A removed row leaves `None` (the same size as the row:
/// every row has a timestamp, whose date cannot be zero). A row put under
/// an id far from the run (before it, or past a gap) goes to `sparse`
/// instead, so no id a client chooses can make the run grow out of
/// proportion.
#[derive(Debug, Clone)]
struct Rows<T> {
    /// The run: every chunk but the last holds exactly [`CHUNK`] slots.
    chunks: Vec<Vec<Option<T>>>,
    /// Slots in the run.
    slots: usize,
    /// The id of the run's first slot.
    base: Id,
    /// Rows whose ids lie outside `base..base + slots`.
    sparse: BTreeMap<Id, Box<T>>,
    len: usize,
}

/// Slots in a full chunk of [`Rows`]: a few hundred kilobytes of rows.
const CHUNK_BITS: u32 = 10;
const CHUNK: usize = 1 << CHUNK_BITS;

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows {
            chunks: Vec::new(),
            slots: 0,
            base: 0,
            sparse: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<T> Rows<T> {
    /// One past the last id of the run, widened: a run that ends at
    /// `Id::MAX` ends past every `Id`. (`slots` counts ids of one run, so
    /// fewer than 2^32: the cast is exact.)
    fn end(&self) -> i64 {
        i64::from(self.base) + self.slots as i64
    }

    /// The chunk and the place in it of `id`'s slot, when it has one.
    fn slot(&self, id: Id) -> Option<(usize, usize)> {
        let i = usize::try_from(i64::from(id) - i64::from(self.base)).ok()?;
        (i < self.slots).then_some((i >> CHUNK_BITS, i & (CHUNK - 1)))
    }

    fn get(&self, id: Id) -> Option<&T> {
        match self.slot(id) {
            Some((c, i)) => self.chunks[c][i].as_ref(),
            None => self.sparse.get(&id).map(|r| &**r),
        }
    }

    fn get_mut(&mut self, id: Id) -> Option<&mut T> {
        match self.slot(id) {
            Some((c, i)) => self.chunks[c][i].as_mut(),
            None => self.sparse.get_mut(&id).map(|r| &mut **r),
        }
    }

    fn remove(&mut self, id: Id) -> Option<T> {
        let row = match self.slot(id) {
            Some((c, i)) => self.chunks[c][i].take(),
            None => self.sparse.remove(&id).map(|r| *r),
        }?;
        self.len -= 1;
        Some(row)
    }

    /// Appends a slot to the run. The first chunk grows as a vector does
    /// (a small table stays small); later ones are allocated whole.
    fn push(&mut self, row: Option<T>) {
        let full = self.chunks.last().is_none_or(|c| c.len() == CHUNK);
        if full {
            let capacity = if self.chunks.is_empty() { 4 } else { CHUNK };
            self.chunks.push(Vec::with_capacity(capacity));
        }
        if let Some(chunk) = self.chunks.last_mut() {
            if chunk.len() == chunk.capacity() {
                chunk.reserve_exact(chunk.len().clamp(1, CHUNK - chunk.len()));
            }
            chunk.push(row);
            self.slots += 1;
        }
    }

    /// Stores `row` under `id`, where no row is.
    fn place(&mut self, id: Id, row: T) {
        self.len += 1;
        if self.slots == 0 && self.sparse.is_empty() {
            self.base = id;
        }
        if let Some((c, i)) = self.slot(id) {
            self.chunks[c][i] = Some(row);
            return;
        }
        // A gap this small is cheaper as empty slots than as a B-tree.
        let gap_allowed = 16 + self.slots as i64 / 8;
        let end = self.end();
        let wide = i64::from(id);
        if wide < end || wide - end > gap_allowed {
            self.sparse.insert(id, Box::new(row));
            return;
        }
        for _ in end..wide {
            self.push(None);
        }
        self.push(Some(row));
        // Rows put earlier under ids the run now covers move into it.
        let moved: Vec<Id> = self
            .sparse
            .range(..id)
            .rev()
            .map(|(k, _)| *k)
            .take_while(|k| i64::from(*k) >= end)
            .collect();
        for k in moved {
            if let (Some(r), Some((c, i))) = (self.sparse.remove(&k), self.slot(k)) {
                self.chunks[c][i] = Some(*r);
            }
        }
    }

    /// Every row in id order: the sparse rows before the run, the run,
    /// the sparse rows after it (no sparse row lies in the run).
    fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.sparse
            .range(..self.base)
            .map(|(_, r)| &**r)
            .chain(self.chunks.iter().flatten().flatten())
            .chain(self.sparse.range(self.base..).map(|(_, r)| &**r))
    }

    /// Gives back the part-empty chunk's spare capacity.
    fn compact(&mut self) {
        if let Some(last) = self.chunks.last_mut() {
            last.shrink_to_fit();
        }
        packed(&mut self.sparse);
    }
}

/// Row ids by uuid. The index holds only ids, 4 bytes each: a uuid
/// lives in its row, which a lookup reads to confirm a match. Nothing
/// iterates this index, so its hash order never shows.
#[derive(Debug, Clone, Default)]
struct UuidIndex {
    ids: HashTable<Id>,
    state: RandomState,
}

impl UuidIndex {
    /// The index of every row, sized for them at once. Rows are taken in
    /// id order, so of two that share a uuid the later is found.
    ///
    /// The rows are hashed in their order, then inserted in the order of
    /// the slots they land near: a million seeded rows make a table far
    /// larger than the cache, and inserting them in id order would miss
    /// it on every row.
    fn build<T: Record>(rows: &Rows<T>) -> UuidIndex {
        let mut index = UuidIndex {
            ids: HashTable::with_capacity(rows.len),
            ..UuidIndex::default()
        };
        let hashed: Vec<(u64, Id)> = rows
            .iter()
            .filter_map(|row| Some((index.hash(row.uuid()?.key()), row.id())))
            .collect();
        // The table's first slot for a hash is its low bits (hashbrown's
        // probing); ordered by the top 16 of those, stably, so of two
        // rows with one uuid the later still comes later.
        let buckets = (index.ids.capacity() * 8 / 7).next_power_of_two().max(1);
        let shift = buckets.trailing_zeros().saturating_sub(16);
        let window = |hash: u64| (hash as usize & (buckets - 1)) >> shift;
        for (hash, id) in counting_sort(hashed, 1 << 16, |(h, _)| window(*h)) {
            index.insert_hashed(hash, id, rows);
        }
        index
    }

    fn hash(&self, key: UuidKey<'_>) -> u64 {
        hash_key(&self.state, key)
    }

    fn get<T: Record>(&self, key: UuidKey<'_>, rows: &Rows<T>) -> Option<Id> {
        let hash = self.hash(key);
        self.ids
            .find(hash, |id| key_of(rows, *id) == Some(key))
            .copied()
    }

    /// Maps `key` to `id`, forgetting another row with that uuid.
    fn insert<T: Record>(&mut self, key: UuidKey<'_>, id: Id, rows: &Rows<T>) {
        self.insert_hashed(self.hash(key), id, rows);
    }

    /// [`UuidIndex::insert`] of the stored row `id`, whose key hashes to
    /// `hash`. The rows' keys are read only for entries whose hash tag
    /// matches: a bulk load inserts in slot order, not row order.
    fn insert_hashed<T: Record>(&mut self, hash: u64, id: Id, rows: &Rows<T>) {
        let same = |e: &Id| key_of(rows, *e) == key_of(rows, id);
        if let Ok(entry) = self.ids.find_entry(hash, same) {
            entry.remove();
        }
        let state = &self.state;
        self.ids.insert_unique(hash, id, |e| {
            key_of(rows, *e).map_or(0, |k| hash_key(state, k))
        });
    }

    fn remove(&mut self, key: UuidKey<'_>, id: Id) {
        let hash = self.hash(key);
        if let Ok(entry) = self.ids.find_entry(hash, |e| *e == id) {
            entry.remove();
        }
    }
}

/// `items` ordered by `key` (below `keys`), stably, in two passes.
fn counting_sort<T: Copy>(items: Vec<T>, keys: usize, key: impl Fn(&T) -> usize) -> Vec<T> {
    let mut starts = vec![0usize; keys + 1];
    for item in &items {
        starts[key(item).min(keys - 1) + 1] += 1;
    }
    for k in 1..=keys {
        starts[k] += starts[k - 1];
    }
    let mut out = items.clone();
    for item in items {
        let slot = &mut starts[key(&item).min(keys - 1)];
        out[*slot] = item;
        *slot += 1;
    }
    out
}

/// A canonical uuid hashes as one 128-bit word, any other spelling as
/// text; the two never name the same uuid, so they need not agree.
fn hash_key(state: &RandomState, key: UuidKey<'_>) -> u64 {
    match key {
        UuidKey::Canonical(b) => state.hash_one(u128::from_ne_bytes(b)),
        UuidKey::Spelled(s) => state.hash_one(s),
    }
}

fn key_of<T: Record>(rows: &Rows<T>, id: Id) -> Option<UuidKey<'_>> {
    rows.get(id).and_then(|r| r.uuid()).map(Uuid::key)
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
    ///
    /// # Panics
    ///
    /// When a row already holds the next id, rather than replace it:
    /// once the ids have run up to `Id::MAX`, where MySQL refuses the
    /// insert too. No request chooses an id, so that takes 2^31 inserts
    /// into one table; this only makes sure none of them replaces a row.
    pub fn insert(&mut self, mut row: T) -> Id {
        let id = self.next_id;
        assert!(
            self.rows.get(id).is_none(),
            "every id of the table is used: {id} is taken"
        );
        row.set_id(id);
        self.put(row);
        id
    }

    /// Inserts or replaces a row under its own id. The next id stays
    /// past it, or at `Id::MAX` once a row holds that.
    pub fn put(&mut self, row: T) {
        let id = row.id();
        self.next_id = self.next_id.max(id.saturating_add(1));
        if let Some(old) = self.rows.remove(id) {
            self.unindex(&old);
        }
        self.rows.place(id, row);
        self.index(id);
    }

    pub fn get(&self, id: Id) -> Option<&T> {
        self.rows.get(id)
    }

    /// The row with this uuid (of two that share one, the later): through
    /// the index, or while a bulk load defers it, by reading every row.
    pub fn by_uuid(&self, uuid: &str) -> Option<&T> {
        let key = UuidKey::of(uuid);
        match &self.by_uuid {
            Some(by_uuid) => by_uuid.get(key, &self.rows).and_then(|id| self.get(id)),
            None => self
                .iter()
                .rev()
                .find(|r| r.uuid().map(Uuid::key) == Some(key)),
        }
    }

    /// Changes a row in place and stamps it; `None` when there is no row.
    /// Only the indexes whose keys changed are touched.
    pub fn update<R>(&mut self, id: Id, at: Timestamp, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let row = self.rows.get_mut(id)?;
        let (update, patient, uuid) = (row.last_update(), row.patient_id(), row.uuid().cloned());
        let out = f(row);
        row.set_id(id);
        row.set_last_update(at);
        let now_patient = row.patient_id();
        let uuid_changed = row.uuid() != uuid.as_ref();
        if let Some(by_update) = self.by_update.get_mut().filter(|_| update != at) {
            by_update.remove(&(update, id));
            by_update.insert((at, id));
        }
        if let Some(by_patient) = self.by_patient.as_mut().filter(|_| patient != now_patient) {
            if let Some(p) = patient {
                by_patient.remove(p, id);
            }
            if let Some(p) = now_patient {
                by_patient.insert(p, id);
            }
        }
        if let Some(by_uuid) = self.by_uuid.as_mut().filter(|_| uuid_changed) {
            if let Some(u) = &uuid {
                by_uuid.remove(u.key(), id);
            }
            if let Some(key) = self.rows.get(id).and_then(|r| r.uuid()).map(Uuid::key) {
                by_uuid.insert(key, id, &self.rows);
            }
        }
        Some(out)
    }

    pub fn remove(&mut self, id: Id) -> Option<T> {
        let row = self.rows.remove(id)?;
        self.unindex(&row);
        Some(row)
    }

    pub fn len(&self) -> usize {
        self.rows.len
    }

    pub fn is_empty(&self) -> bool {
        self.rows.len == 0
    }

    /// Rows in id order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.rows.iter()
    }

    /// The rows of one patient, in id order: through the index, or while
    /// a bulk load defers it, by reading every row.
    pub fn for_patient(&self, patient: Id) -> impl Iterator<Item = &T> {
        let indexed = self
            .by_patient
            .as_ref()
            .map(|by_patient| by_patient.ids(patient).filter_map(|id| self.get(id)));
        let scanned = self
            .by_patient
            .is_none()
            .then(|| self.iter().filter(move |r| r.patient_id() == Some(patient)));
        indexed
            .into_iter()
            .flatten()
            .chain(scanned.into_iter().flatten())
    }

    /// Stops keeping the patient and uuid indexes on every write, for a
    /// bulk load; [`Table::compact`] builds them once the load is done.
    pub fn defer_indexes(&mut self) {
        self.by_patient = None;
        self.by_uuid = None;
    }

    /// Rows changed strictly after `after`, oldest change first.
    pub fn updated_after(&self, after: Timestamp) -> impl Iterator<Item = &T> {
        use std::ops::Bound::{Excluded, Unbounded};
        self.by_update
            .get_or_init(|| packed_from(self.iter().map(|r| (r.last_update(), r.id())).collect()))
            .range((Excluded((after, Id::MAX)), Unbounded))
            .filter_map(|(_, id)| self.get(*id))
    }

    pub fn next_id(&self) -> Id {
        self.next_id
    }

    /// Ends a bulk load (the seed): builds deferred indexes from the rows,
    /// rebuilds a kept patient index with full nodes (a B-tree filled in
    /// order keeps its nodes about half full; one built from sorted input
    /// packs them) and gives back the last chunk's spare capacity. The
    /// contents, and so every read, stay the same.
    pub fn compact(&mut self) {
        self.rows.compact();
        if self.by_uuid.is_none() {
            self.by_uuid = Some(UuidIndex::build(&self.rows));
        }
        self.by_patient = Some(PatientIndex::build(
            self.iter()
                .filter_map(|r| r.patient_id().map(|p| (p, r.id()))),
        ));
    }

    /// Indexes the stored row `id`.
    fn index(&mut self, id: Id) {
        let Some(row) = self.rows.get(id) else {
            return;
        };
        if let Some(by_update) = self.by_update.get_mut() {
            by_update.insert((row.last_update(), id));
        }
        if let Some((p, by_patient)) = row.patient_id().zip(self.by_patient.as_mut()) {
            by_patient.insert(p, id);
        }
        if let Some((u, by_uuid)) = row.uuid().zip(self.by_uuid.as_mut()) {
            by_uuid.insert(u.key(), id, &self.rows);
        }
    }

    fn unindex(&mut self, row: &T) {
        let id = row.id();
        if let Some(by_update) = self.by_update.get_mut() {
            by_update.remove(&(row.last_update(), id));
        }
        if let Some((p, by_patient)) = row.patient_id().zip(self.by_patient.as_mut()) {
            by_patient.remove(p, id);
        }
        if let Some((u, by_uuid)) = row.uuid().zip(self.by_uuid.as_mut()) {
            by_uuid.remove(u.key(), id);
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

/// A set built from `keys` with full nodes. Sorted unstably first: a
/// set sorts what it collects with a stable sort, slower on shuffled
/// keys, which finds them in order and only checks them.
pub(crate) fn packed_from<K: Ord>(mut keys: Vec<K>) -> BTreeSet<K> {
    keys.sort_unstable();
    keys.into_iter().collect()
}

/// [`packed_from`] for keys that start with a text: each sorted with its
/// text's first eight bytes beside it, so that most comparisons read no
/// heap string. Comparing two of a million unique health numbers
/// otherwise reads two strings scattered over the heap, a cache miss
/// each, and the sort grew faster than the clinic.
pub(crate) fn packed_by_text<K: Ord>(keys: Vec<K>, text: impl Fn(&K) -> &str) -> BTreeSet<K> {
    let mut keyed: Vec<(u64, K)> = keys.into_iter().map(|k| (prefix(text(&k)), k)).collect();
    // A text's prefix never decreases as the text increases (bytes compare
    // as the big-endian number does, a short text is padded with zeros),
    // so ordering by the prefix, then the key, is ordering by the key.
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, k)| k).collect()
}

/// The first eight bytes of `s` as a big-endian number, zero-padded.
fn prefix(s: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = s.len().min(8);
    bytes[..n].copy_from_slice(&s.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

/// Implements [`Record`] for a struct with `id` and `last_update` fields.
/// Flags: `patient` (a `patient_id: Id` field), `patient_opt` (a
/// `patient: OptId` or `Option<Id>` field), `uuid` (a `uuid: Uuid` field).
#[macro_export]
macro_rules! record {
    ($t:ty $(, $flag:ident)*) => {
        impl $crate::store::Record for $t {
            fn id(&self) -> $crate::store::Id { self.id }
            fn set_id(&mut self, id: $crate::store::Id) { self.id = id; }
            fn last_update(&self) -> $crate::store::Timestamp { self.last_update.into() }
            fn set_last_update(&mut self, at: $crate::store::Timestamp) { self.last_update = at.into(); }
            $( $crate::record!(@$flag); )*
        }
    };
    (@patient) => {
        fn patient_id(&self) -> Option<$crate::store::Id> { Some(self.patient_id) }
    };
    (@patient_opt) => {
        fn patient_id(&self) -> Option<$crate::store::Id> { self.patient.into() }
    };
    (@uuid) => {
        fn uuid(&self) -> Option<&$crate::store::Uuid> { Some(&self.uuid) }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    proptest! {
        /// Sorting by the text's prefix first changes no order: texts
        /// sharing a prefix, short ones, NUL bytes and non-ASCII text.
        #[test]
        fn packed_by_text_orders_as_packed_from(
            keys in proptest::collection::vec(
                ("(ab|abc|abcdefgh|abcdefghi|\\x00|a\\x00|é|[a-c\\x00]{0,10})", -3i32..3),
                0..80,
            ),
        ) {
            let by_text = packed_by_text(keys.clone(), |(t, _): &(String, i32)| t.as_str());
            prop_assert!(by_text.iter().eq(packed_from(keys).iter()));
        }

        /// The counting sort orders by key and keeps the order of equals.
        #[test]
        fn counting_sort_is_a_stable_sort(keys in proptest::collection::vec(0usize..40, 0..200)) {
            let items: Vec<(usize, usize)> = keys.into_iter().enumerate().map(|(i, k)| (k, i)).collect();
            // Keys past the last are sorted as the last.
            let mut expected = items.clone();
            expected.sort_by_key(|(k, _)| (*k).min(31));
            prop_assert_eq!(counting_sort(items, 32, |(k, _)| *k), expected);
        }
    }

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
            .map(|i| t.insert(row(i, &format!("u{i}"), i64::from(i))))
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

    fn ids<T: Record>(t: &Table<T>) -> Vec<Id> {
        t.iter().map(Record::id).collect()
    }

    #[test]
    fn rows_put_far_from_the_run_are_kept_in_id_order() {
        let mut t = Table::starting_at(100);
        let first = t.insert(row(1, "a", 1));
        t.put(Row {
            id: 5,
            ..row(1, "low", 1)
        });
        t.put(Row {
            id: 1_000_000,
            ..row(2, "far", 1)
        });
        let next = t.insert(row(1, "b", 2));
        assert_eq!((first, next), (100, 1_000_001));
        assert_eq!(ids(&t), vec![5, 100, 1_000_000, 1_000_001]);
        assert_eq!(
            t.iter().rev().map(|r| r.id).collect::<Vec<_>>(),
            vec![1_000_001, 1_000_000, 100, 5]
        );
        assert_eq!(t.len(), 4);
        assert_eq!(t.by_uuid("low").unwrap().id, 5);
        assert_eq!(t.by_uuid("far").unwrap().id, 1_000_000);
        assert!(
            t.rows.slots < 100,
            "a far id does not grow the run: {}",
            t.rows.slots
        );
        assert_eq!(t.remove(5).unwrap().uuid, "low");
        assert!(t.get(5).is_none() && t.by_uuid("low").is_none());
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn ids_at_either_end_of_the_range_are_indexed_like_any_other() {
        let mut t = Table::default();
        let near = t.insert(row(1, "shared", 1));
        let (far, negative) = (Id::MAX - 1, Id::MIN);
        t.put(Row {
            id: far,
            ..row(1, "far", 1)
        });
        t.put(Row {
            id: negative,
            patient_id: -5,
            ..row(0, "negative", 1)
        });
        assert_eq!(t.by_uuid("far").unwrap().id, far);
        assert_eq!(t.by_uuid("negative").unwrap().id, negative);
        assert_eq!(ids(&t), vec![negative, near, far]);
        let of = |t: &Table<Row>, p| t.for_patient(p).map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(of(&t, 1), vec![near, far]);
        assert_eq!(of(&t, -5), vec![negative]);
        // A far row takes a uuid over from a near one, and gives it back.
        t.update(far, at(2), |r| r.uuid = "shared".into());
        assert_eq!(t.by_uuid("shared").unwrap().id, far);
        assert!(t.by_uuid("far").is_none());
        t.remove(far);
        assert!(
            t.by_uuid("shared").is_none(),
            "the near row lost it, as before"
        );
        t.update(near, at(3), |r| r.patient_id = -5);
        assert_eq!(of(&t, -5), vec![negative, near]);
        assert!(of(&t, 1).is_empty());
    }

    #[test]
    fn the_last_id_is_handed_out_once_and_never_replaced() {
        let mut t = Table::starting_at(Id::MAX - 1);
        assert_eq!(t.insert(row(1, "a", 1)), Id::MAX - 1);
        assert_eq!(t.insert(row(1, "b", 1)), Id::MAX);
        assert_eq!(t.next_id(), Id::MAX, "no overflow past the end");
        assert_eq!(ids(&t), vec![Id::MAX - 1, Id::MAX]);
        assert_eq!(t.by_uuid("b").unwrap().id, Id::MAX);
        let refused = |t: &mut Table<Row>| {
            let insert = std::panic::AssertUnwindSafe(|| t.insert(row(2, "c", 2)));
            std::panic::catch_unwind(insert).is_err()
        };
        assert!(refused(&mut t), "an insert must not replace the last row");
        assert_eq!(t.get(Id::MAX).unwrap().uuid, "b");
        // As in MySQL, the last id is free again once its row is gone.
        t.remove(Id::MAX);
        assert_eq!(t.insert(row(2, "d", 2)), Id::MAX);

        let mut t = Table::default();
        t.put(Row {
            id: Id::MAX,
            ..row(1, "top", 1)
        });
        assert_eq!(t.next_id(), Id::MAX);
        assert!(refused(&mut t));
        assert_eq!(ids(&t), vec![Id::MAX]);
    }

    #[test]
    fn a_run_that_reaches_a_sparse_row_takes_it_in() {
        let mut t = Table::default();
        t.insert(row(1, "one", 1));
        t.put(Row {
            id: 60,
            ..row(1, "sixty", 1)
        });
        t.put(Row {
            id: 30,
            ..row(1, "thirty", 1)
        });
        assert_eq!(t.rows.sparse.len(), 2, "past the gap a run bridges");
        for i in 2..=29 {
            t.put(Row {
                id: i,
                ..row(1, "", 1)
            });
        }
        t.put(Row {
            id: 45,
            ..row(1, "forty-five", 1)
        });
        assert_eq!(t.rows.sparse.len(), 1, "30 joined the run");
        assert_eq!(t.get(30).unwrap().uuid, "thirty");
        assert_eq!(t.get(60).unwrap().uuid, "sixty");
        let mut want: Vec<Id> = (1..=30).collect();
        want.extend([45, 60]);
        assert_eq!(ids(&t), want);
        assert_eq!(t.insert(row(1, "next", 1)), 61);
    }

    #[test]
    fn an_update_moves_the_row_in_the_indexes_it_changed() {
        let mut t = Table::default();
        let a = t.insert(row(1, "a", 10));
        t.update(a, at(10), |r| {
            r.patient_id = 2;
            r.uuid = "z".into();
        });
        assert_eq!(t.for_patient(1).count(), 0);
        assert_eq!(t.for_patient(2).count(), 1);
        assert!(t.by_uuid("a").is_none());
        assert_eq!(t.by_uuid("z").unwrap().id, a);
        assert_eq!(t.updated_after(at(9)).count(), 1);
        t.update(a, at(20), |r| r.v = 1);
        assert_eq!(t.updated_after(at(10)).count(), 1);
        assert_eq!(t.by_update.get().map(BTreeSet::len), Some(1));
    }

    #[test]
    fn a_run_of_many_chunks_reads_back_in_order() {
        let mut t = Table::default();
        let n = 3 * CHUNK as Id + 5;
        for i in 0..n {
            t.insert(row(i % 7, &format!("u{i}"), i64::from(i)));
        }
        t.remove(CHUNK as Id);
        t.compact();
        assert_eq!(t.len(), n as usize - 1);
        assert_eq!(t.rows.chunks.len(), 4);
        assert!(t.rows.chunks[..3].iter().all(|c| c.len() == CHUNK));
        let want: Vec<Id> = (1..=n).filter(|i| *i != CHUNK as Id).collect();
        assert_eq!(ids(&t), want);
        assert_eq!(t.iter().next_back().unwrap().id, n);
        assert_eq!(t.by_uuid(&format!("u{}", n - 1)).unwrap().id, n);
        assert!(t.get(CHUNK as Id).is_none());
        assert_eq!(t.get(CHUNK as Id + 1).unwrap().uuid, format!("u{CHUNK}"));
    }

    #[test]
    fn the_change_time_index_is_built_when_first_read_and_then_kept() {
        let mut t = Table::default();
        let a = t.insert(row(1, "a", 10));
        let b = t.insert(row(1, "b", 20));
        let c = t.insert(row(1, "c", 30));
        t.update(a, at(40), |r| r.v = 1);
        t.remove(b);
        assert!(t.by_update.get().is_none(), "not built by writes");
        let after = |t: &Table<Row>, s| t.updated_after(at(s)).map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(after(&t, 5), vec![c, a]);
        t.update(c, at(50), |r| r.v = 2);
        let d = t.insert(row(2, "d", 45));
        t.remove(a);
        assert_eq!(after(&t, 5), vec![d, c]);
        assert_eq!(after(&t, 45), vec![c]);
        t.compact();
        assert_eq!(after(&t, 0), vec![d, c]);
    }

    #[test]
    fn deferred_indexes_read_the_same_and_are_built_by_compact() {
        let mut kept = Table::default();
        let mut deferred = Table::default();
        deferred.defer_indexes();
        for t in [&mut kept, &mut deferred] {
            for i in 0..50 {
                t.insert(row((i * 7) % 5, &format!("u{i}"), i64::from(i)));
            }
            t.update(3, at(99), |r| r.patient_id = 9);
            t.remove(10);
        }
        let rows = |t: &Table<Row>, p| t.for_patient(p).map(|r| r.id).collect::<Vec<_>>();
        let by_uuid = |t: &Table<Row>, u: &str| t.by_uuid(u).map(|r| r.id);
        for p in 0..10 {
            assert_eq!(rows(&deferred, p), rows(&kept, p), "patient {p}");
        }
        for u in ["u0", "u3", "u10", "u49", "u50"] {
            assert_eq!(by_uuid(&deferred, u), by_uuid(&kept, u), "{u}");
        }
        assert!(deferred.by_patient.is_none() && deferred.by_uuid.is_none());
        deferred.compact();
        assert_eq!(deferred.by_patient, kept.by_patient);
        for i in 0..51 {
            let u = format!("u{i}");
            assert_eq!(by_uuid(&deferred, &u), by_uuid(&kept, &u), "{u}");
        }
        deferred.insert(row(9, "late", 100));
        assert_eq!(rows(&deferred, 9), vec![3, 51]);
        assert_eq!(by_uuid(&deferred, "late"), Some(51));
    }

    #[test]
    fn a_missing_row_is_the_size_of_a_row() {
        assert_eq!(
            std::mem::size_of::<Option<super::super::Patient>>(),
            std::mem::size_of::<super::super::Patient>()
        );
        assert_eq!(
            std::mem::size_of::<Option<super::super::Measurement>>(),
            std::mem::size_of::<super::super::Measurement>()
        );
    }
}
