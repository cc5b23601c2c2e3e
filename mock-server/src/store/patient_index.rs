//! A table's rows by patient: `(patient, row id)` pairs in order.
//!
//! Two 32-bit ids make an 8-byte key: a B-tree of them holds 11 keys in
//! a node of about 100 bytes. It is one index per clinical table, over a
//! million pairs at 100,000 patients. Pairs sort as tuples do, so a
//! patient's rows come in id order whatever the ids (a client may send
//! any patient number, negative ones too).

use std::collections::BTreeSet;

use super::table::packed_from;
use super::Id;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct PatientIndex {
    pairs: BTreeSet<(Id, Id)>,
}

impl PatientIndex {
    /// The index of `pairs`, built with full nodes.
    pub(super) fn build(pairs: impl Iterator<Item = (Id, Id)>) -> Self {
        PatientIndex {
            pairs: packed_from(pairs.collect()),
        }
    }

    pub(super) fn insert(&mut self, patient: Id, id: Id) {
        self.pairs.insert((patient, id));
    }

    pub(super) fn remove(&mut self, patient: Id, id: Id) {
        self.pairs.remove(&(patient, id));
    }

    /// The ids of `patient`'s rows in id order.
    pub(super) fn ids(&self, patient: Id) -> impl Iterator<Item = Id> + '_ {
        self.pairs
            .range((patient, Id::MIN)..=(patient, Id::MAX))
            .map(|(_, id)| *id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the ids, a patient's rows come back all, in id order.
        #[test]
        fn reads_as_a_set_of_pairs(
            pairs in proptest::collection::vec(
                (prop_oneof![0..4i32, Just(-1), Just(Id::MIN), Just(Id::MAX)],
                 prop_oneof![0..50i32, Just(-7), Just(Id::MIN), Just(Id::MAX)]),
                0..60,
            ),
            removed in proptest::collection::vec(0..60usize, 0..10),
        ) {
            let mut index = PatientIndex::default();
            let mut model = BTreeSet::new();
            for &(p, id) in &pairs {
                index.insert(p, id);
                model.insert((p, id));
            }
            for &i in &removed {
                if let Some(&(p, id)) = pairs.get(i) {
                    index.remove(p, id);
                    model.remove(&(p, id));
                }
            }
            let built = PatientIndex::build(model.iter().copied());
            prop_assert_eq!(&built, &index);
            for p in [Id::MIN, -1, 0, 1, 2, 3, Id::MAX] {
                let want: Vec<Id> = model.iter().filter(|x| x.0 == p).map(|x| x.1).collect();
                prop_assert_eq!(index.ids(p).collect::<Vec<_>>(), want);
            }
        }
    }
}
