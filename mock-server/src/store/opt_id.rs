//! [`OptId`], a reference a row may lack (an appointment without a
//! patient, a measurement outside an encounter): `Option<Id>` in 4 bytes
//! where it takes 8. A seeded clinic's rows hold over a million.

use std::fmt;
use std::num::NonZeroI32;

use super::Id;

/// An optional row id. It holds the id with its sign bit flipped,
/// so no id but `Id::MIN` (no row's id: ids count up from 1) makes the
/// zero that stands for none; `Some(Id::MIN)` is kept as none.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OptId(Option<NonZeroI32>);

impl OptId {
    pub fn get(self) -> Option<Id> {
        self.0.map(|w| w.get() ^ Id::MIN)
    }

    pub fn is_some(self) -> bool {
        self.0.is_some()
    }

    pub fn is_none(self) -> bool {
        self.0.is_none()
    }
}

impl From<Option<Id>> for OptId {
    fn from(id: Option<Id>) -> Self {
        OptId(id.and_then(|id| NonZeroI32::new(id ^ Id::MIN)))
    }
}

impl From<OptId> for Option<Id> {
    fn from(id: OptId) -> Self {
        id.get()
    }
}

impl PartialEq<Option<Id>> for OptId {
    fn eq(&self, other: &Option<Id>) -> bool {
        self.get() == *other
    }
}

impl fmt::Debug for OptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

/// As the `Option<Id>` it stands for: a number or null.
impl serde::Serialize for OptId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_bytes_that_round_trip() {
        assert_eq!(std::mem::size_of::<OptId>(), std::mem::size_of::<Id>());
        assert_eq!(std::mem::size_of::<OptId>(), 4);
        for id in [
            None,
            Some(0),
            Some(1),
            Some(-1),
            Some(Id::MAX),
            Some(Id::MIN + 1),
        ] {
            assert_eq!(OptId::from(id).get(), id);
            assert_eq!(OptId::from(id), id);
        }
        assert_eq!(OptId::from(Some(Id::MIN)).get(), None);
        assert_eq!(OptId::default().get(), None);
        assert_eq!(serde_json::to_string(&OptId::from(Some(7))).unwrap(), "7");
        assert_eq!(serde_json::to_string(&OptId::default()).unwrap(), "null");
    }
}
