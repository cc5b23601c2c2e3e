//! [`Stamp`], an instant as a row stores it: milliseconds since the epoch
//! in 8 bytes, where chrono's `DateTime<Utc>` takes 12 and, with the
//! alignment it leaves, often 16. A seeded clinic's rows hold millions.
//! Handlers work with [`Timestamp`]; a row's field converts both ways.
//!
//! Millisecond precision is what the store keeps anyway: its write
//! stamps are milliseconds (see `Data::stamp`), as are the real systems'
//! columns and wire formats.

use std::cmp::Ordering;
use std::fmt;
use std::num::NonZeroI64;

use chrono::DateTime;

use super::Timestamp;

/// An instant to the millisecond. `Option<Stamp>` is 8 bytes too: the
/// word holds the milliseconds with the sign bit flipped, and the one
/// value that makes zero lies far outside chrono's range.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp(NonZeroI64);

/// The word's bit that is flipped.
const FLIP: i64 = i64::MIN;

impl Stamp {
    /// The epoch, a row's stamp before the store sets it.
    const EPOCH: Stamp = match NonZeroI64::new(FLIP) {
        Some(w) => Stamp(w),
        None => unreachable!(),
    };

    fn millis(self) -> i64 {
        self.0.get() ^ FLIP
    }

    /// The instant, to work with.
    pub fn get(self) -> Timestamp {
        DateTime::from_timestamp_millis(self.millis()).unwrap_or_default()
    }
}

impl From<Timestamp> for Stamp {
    /// Drops what is finer than a millisecond.
    fn from(t: Timestamp) -> Self {
        // chrono's range is within ±2^58 ms, so the flipped word is never 0.
        Stamp(NonZeroI64::new(t.timestamp_millis() ^ FLIP).unwrap_or(Stamp::EPOCH.0))
    }
}

impl From<Stamp> for Timestamp {
    fn from(s: Stamp) -> Self {
        s.get()
    }
}

impl Default for Stamp {
    fn default() -> Self {
        Stamp::EPOCH
    }
}

impl Ord for Stamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.millis().cmp(&other.millis())
    }
}

impl PartialOrd for Stamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq<Timestamp> for Stamp {
    fn eq(&self, other: &Timestamp) -> bool {
        self.get() == *other
    }
}

impl PartialOrd<Timestamp> for Stamp {
    fn partial_cmp(&self, other: &Timestamp) -> Option<Ordering> {
        self.get().partial_cmp(other)
    }
}

impl fmt::Debug for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

/// As the instant it is (RFC 3339), as before rows kept stamps.
impl serde::Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn one_word_with_a_niche() {
        assert_eq!(std::mem::size_of::<Stamp>(), 8);
        assert_eq!(std::mem::size_of::<Option<Stamp>>(), 8);
    }

    #[test]
    fn keeps_milliseconds_and_their_order() {
        let instants = [
            Utc.timestamp_millis_opt(-62_135_596_800_000).unwrap(),
            Utc.timestamp_millis_opt(-1).unwrap(),
            Utc.timestamp_millis_opt(0).unwrap(),
            Utc.timestamp_millis_opt(1_764_979_200_123).unwrap(),
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::MIN_UTC,
        ];
        for a in instants {
            let ms = Utc.timestamp_millis_opt(a.timestamp_millis()).unwrap();
            assert_eq!(Stamp::from(a).get(), ms, "{a}");
            for b in instants {
                assert_eq!(
                    Stamp::from(a).cmp(&Stamp::from(b)),
                    ms.cmp(&Stamp::from(b).get())
                );
            }
        }
        assert_eq!(Stamp::default().get(), Timestamp::default());
    }
}
