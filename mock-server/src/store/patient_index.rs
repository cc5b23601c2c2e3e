//! A table's rows by patient: `(patient, row id)` pairs in order.
//!
//! Nearly every pair has two ids that fit in 32 bits, so it is kept as
//! one `u64` (patient in the high half): a B-tree of those holds 11 keys
//! in a node of about 100 bytes, where `(i64, i64)` pairs take 190. It
//! is one index per clinical table, over a million pairs at 100,000
//! patients. The rare pair with an id outside `0..=u32::MAX` (a client
//! may choose any id) goes to a second set of full pairs.

use std::collections::BTreeSet;

use super::table::packed_from;
use super::Id;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct PatientIndex {
    /// `patient << 32 | id`, both in `0..=u32::MAX`.
    narrow: BTreeSet<u64>,
    /// Every other pair.
    wide: BTreeSet<(Id, Id)>,
}

/// The pair as one word, when both ids fit.
fn narrow(patient: Id, id: Id) -> Option<u64> {
    let (p, i) = (u32::try_from(patient).ok()?, u32::try_from(id).ok()?);
    Some(u64::from(p) << 32 | u64::from(i))
}

impl PatientIndex {
    /// The index of `pairs`, built with full nodes.
    pub(super) fn build(pairs: impl Iterator<Item = (Id, Id)>) -> Self {
        let (mut narrow_keys, mut wide) = (Vec::new(), Vec::new());
        for (patient, id) in pairs {
            match narrow(patient, id) {
                Some(key) => narrow_keys.push(key),
                None => wide.push((patient, id)),
            }
        }
        PatientIndex {
            narrow: packed_from(narrow_keys),
            wide: packed_from(wide),
        }
    }

    pub(super) fn insert(&mut self, patient: Id, id: Id) {
        match narrow(patient, id) {
            Some(key) => self.narrow.insert(key),
            None => self.wide.insert((patient, id)),
        };
    }

    pub(super) fn remove(&mut self, patient: Id, id: Id) {
        match narrow(patient, id) {
            Some(key) => self.narrow.remove(&key),
            None => self.wide.remove(&(patient, id)),
        };
    }

    /// The ids of `patient`'s rows in id order. For a patient whose id
    /// fits: wide pairs with negative ids, the narrow ones, then wide
    /// pairs with ids past `u32::MAX`; for any other, the wide pairs.
    pub(super) fn ids(&self, patient: Id) -> impl Iterator<Item = Id> + '_ {
        let low = narrow(patient, 0);
        let wide = move |from: Id, to: Id| {
            self.wide
                .range((patient, from)..=(patient, to))
                .map(|(_, id)| *id)
        };
        let narrow_ids = low.map(|low| {
            self.narrow
                .range(low..=low | u64::from(u32::MAX))
                .map(|key| Id::from(*key as u32))
        });
        let above = low.map(|_| wide(Id::from(u32::MAX) + 1, Id::MAX));
        wide(Id::MIN, if low.is_some() { -1 } else { Id::MAX })
            .chain(narrow_ids.into_iter().flatten())
            .chain(above.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the ids, it answers as one set of pairs would.
        #[test]
        fn reads_as_a_set_of_pairs(
            pairs in proptest::collection::vec(
                (prop_oneof![0..4i64, Just(-1i64), Just(1i64 << 33)],
                 prop_oneof![0..50i64, Just(-7i64), Just(Id::from(u32::MAX)), Just(1i64 << 40)]),
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
            for p in [-1, 0, 1, 2, 3, 1i64 << 33] {
                let want: Vec<Id> = model.range((p, Id::MIN)..=(p, Id::MAX)).map(|x| x.1).collect();
                prop_assert_eq!(index.ids(p).collect::<Vec<_>>(), want);
            }
        }
    }
}
