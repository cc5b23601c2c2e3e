//! A row's uuid, kept as its 16 bytes when it is spelled the canonical
//! way and formatted when it is written out.
//!
//! Nearly every clinical row has a uuid, and as text one takes 36 bytes,
//! too long to sit inline in a [`Text`]: a heap block per row (64 bytes
//! with its header and the allocator's rounding) beside the 16-byte field.
//! As bytes it costs 16 bytes in all and hashes as two words instead of
//! 36 bytes of text. A uuid a client spelled some other way (upper case,
//! or any FHIR id a `PUT` may create) keeps its text, so every value reads
//! back exactly as it was written: the two forms never spell the same text,
//! and equality, hashing and output follow the spelling.

use std::fmt;
use std::num::NonZeroU64;

use serde::{Serialize, Serializer};

use super::Text;

/// A uuid as stored in a row: see the module documentation.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Uuid(Repr);

#[derive(Clone, PartialEq, Eq)]
enum Repr {
    /// A uuid spelled in lower-case hex with hyphens (`8-4-4-4-12`), as
    /// the mock and OpenEMR generate them: its first and last eight bytes,
    /// big-endian. The last eight are never zero (such a uuid is kept as
    /// spelled; no random one is, its variant bits are set), which leaves
    /// room for the other form beside them: a `Uuid` is 16 bytes.
    Canonical(u64, NonZeroU64),
    /// Any other spelling, boxed (a client's, so rare); `None` is the
    /// empty one, a row without a uuid.
    Spelled(Option<Box<Text>>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Spelled(None)
    }
}

impl Repr {
    fn canonical(b: [u8; 16]) -> Option<Repr> {
        let (hi, lo) = b.split_at(8);
        let hi = u64::from_be_bytes(hi.try_into().ok()?);
        let lo = NonZeroU64::new(u64::from_be_bytes(lo.try_into().ok()?))?;
        Some(Repr::Canonical(hi, lo))
    }

    fn spelled(s: Text) -> Repr {
        Repr::Spelled((!s.is_empty()).then(|| Box::new(s)))
    }
}

/// A uuid's text to read: formatted on the stack for a canonical one,
/// borrowed otherwise. It derefs to `&str`.
pub enum UuidStr<'a> {
    Canonical([u8; 36]),
    Spelled(&'a str),
}

/// A uuid to look up by, borrowed from a request's text: finding a row
/// by uuid never allocates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum UuidKey<'a> {
    Canonical([u8; 16]),
    Spelled(&'a str),
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Where the four hyphens of a canonical spelling are.
fn is_hyphen_at(i: usize) -> bool {
    matches!(i, 8 | 13 | 18 | 23)
}

impl Uuid {
    /// A version-4 (random) uuid of `bytes`, with the version and variant
    /// bits set as RFC 4122 requires ([`crate::rng::format_uuid`] spells
    /// it).
    pub fn v4(mut bytes: [u8; 16]) -> Uuid {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        // The variant bit makes the last eight bytes non-zero, so the
        // canonical form always holds them.
        Uuid(Repr::canonical(bytes).unwrap_or_default())
    }

    /// The uuid spelled `s`.
    pub fn parse(s: &str) -> Uuid {
        match UuidKey::of(s) {
            UuidKey::Canonical(b) => Uuid::of_bytes(b, || Text::from(s)),
            UuidKey::Spelled(s) => Uuid(Repr::spelled(Text::from(s))),
        }
    }

    /// The canonical uuid of `bytes`, or its `spelling` kept as text when
    /// the bytes have no canonical form here (the last eight all zero).
    fn of_bytes(bytes: [u8; 16], spelling: impl FnOnce() -> Text) -> Uuid {
        Uuid(Repr::canonical(bytes).unwrap_or_else(|| Repr::spelled(spelling())))
    }

    /// Its text, to read as a `&str`.
    pub fn as_str(&self) -> UuidStr<'_> {
        match &self.0 {
            Repr::Canonical(hi, lo) => UuidStr::Canonical(spell(&bytes(*hi, *lo))),
            Repr::Spelled(t) => UuidStr::Spelled(t.as_deref().map_or("", Text::as_str)),
        }
    }

    /// Whether it is the empty spelling (a row without a uuid).
    pub fn is_empty(&self) -> bool {
        matches!(&self.0, Repr::Spelled(None))
    }

    /// The key it is found by.
    pub fn key(&self) -> UuidKey<'_> {
        match &self.0 {
            Repr::Canonical(hi, lo) => UuidKey::Canonical(bytes(*hi, *lo)),
            Repr::Spelled(t) => UuidKey::Spelled(t.as_deref().map_or("", Text::as_str)),
        }
    }
}

fn bytes(hi: u64, lo: NonZeroU64) -> [u8; 16] {
    (u128::from(hi) << 64 | u128::from(lo.get())).to_be_bytes()
}

impl<'a> UuidKey<'a> {
    /// The key of the uuid spelled `s`: its bytes when `s` is canonical
    /// (and its last eight bytes are not all zero, see [`Uuid`]).
    pub fn of(s: &'a str) -> UuidKey<'a> {
        match parse_canonical(s) {
            Some(b) if Repr::canonical(b).is_some() => UuidKey::Canonical(b),
            _ => UuidKey::Spelled(s),
        }
    }
}

/// The bytes of a canonically spelled uuid; `None` for any other text
/// (upper-case digits included: they spell a different text).
fn parse_canonical(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 || (0..36).any(|i| is_hyphen_at(i) && b[i] != b'-') {
        return None;
    }
    let mut digits =
        b.iter()
            .enumerate()
            .filter(|(i, _)| !is_hyphen_at(*i))
            .map(|(_, c)| match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            });
    let mut out = [0u8; 16];
    for byte in &mut out {
        let (hi, lo) = (digits.next()??, digits.next()??);
        *byte = hi << 4 | lo;
    }
    Some(out)
}

/// The canonical spelling of `b`.
fn spell(b: &[u8; 16]) -> [u8; 36] {
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = HEX[usize::from(x >> 4)];
        out[at + 1] = HEX[usize::from(x & 0x0f)];
        at += 2;
    }
    out
}

impl std::ops::Deref for UuidStr<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            // Only ASCII hex digits and hyphens are ever written into it.
            UuidStr::Canonical(b) => std::str::from_utf8(b).unwrap_or_default(),
            UuidStr::Spelled(s) => s,
        }
    }
}

impl fmt::Display for UuidStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.as_str(), f)
    }
}

impl Serialize for Uuid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

impl PartialEq<str> for Uuid {
    fn eq(&self, other: &str) -> bool {
        self.key() == UuidKey::of(other)
    }
}

impl PartialEq<&str> for Uuid {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl PartialEq<String> for Uuid {
    fn eq(&self, other: &String) -> bool {
        *self == **other
    }
}

impl PartialEq<Uuid> for str {
    fn eq(&self, other: &Uuid) -> bool {
        *other == *self
    }
}

impl PartialEq<Uuid> for &str {
    fn eq(&self, other: &Uuid) -> bool {
        *other == **self
    }
}

impl PartialEq<Uuid> for String {
    fn eq(&self, other: &Uuid) -> bool {
        *other == **self
    }
}

impl From<&str> for Uuid {
    fn from(s: &str) -> Uuid {
        Uuid::parse(s)
    }
}

impl From<String> for Uuid {
    fn from(s: String) -> Uuid {
        Uuid::parse(&s)
    }
}

impl From<&String> for Uuid {
    fn from(s: &String) -> Uuid {
        Uuid::parse(s)
    }
}

impl From<Text> for Uuid {
    fn from(s: Text) -> Uuid {
        match UuidKey::of(&s) {
            UuidKey::Canonical(b) => Uuid::of_bytes(b, || s.clone()),
            UuidKey::Spelled(_) => Uuid(Repr::spelled(s)),
        }
    }
}

impl From<&Uuid> for String {
    fn from(u: &Uuid) -> String {
        u.to_string()
    }
}

impl From<Uuid> for String {
    fn from(u: Uuid) -> String {
        u.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_canonical_spelling_is_kept_as_bytes_and_reads_back_the_same() {
        let s = "0f8c2a4e-1b3d-4c5e-9f60-7a8b9c0d1e2f";
        let u = Uuid::from(s);
        assert!(matches!(u.0, Repr::Canonical(..)));
        assert_eq!(&*u.as_str(), s);
        assert_eq!(u.to_string(), s);
        assert_eq!(serde_json::to_string(&u).unwrap(), format!("\"{s}\""));
        assert_eq!(u, s);
        assert_eq!(Uuid::from(Text::from(s)), u);
    }

    #[test]
    fn other_spellings_keep_their_text_and_never_equal_a_canonical_one() {
        let lower = "0f8c2a4e-1b3d-4c5e-9f60-7a8b9c0d1e2f";
        let upper = lower.to_uppercase();
        for s in [
            upper.as_str(),
            "not-a-uuid",
            "",
            "0f8c2a4e_1b3d-4c5e-9f60-7a8b9c0d1e2f",
            "0f8c2a4e-1b3d-4c5e-9f60-7a8b9c0d1e2",
            "0f8c2a4e-1b3d-4c5e-9f60-7a8b9c0d1e2ff",
            "0f8c2a4e-1b3d-4c5e-9f60-7a8b9c0d1e2g",
            "0f8c2a4e-1b3d-4c5e-0000-000000000000",
        ] {
            let u = Uuid::from(s);
            assert!(matches!(u.0, Repr::Spelled(_)), "{s}");
            assert_eq!(Uuid::from(Text::from(s)), u);
            assert_eq!(u.to_string(), s);
            assert_eq!(u, s);
            assert_ne!(u, lower);
            assert_ne!(u, Uuid::from(lower));
        }
        assert!(Uuid::default().is_empty());
        assert!(!Uuid::from(lower).is_empty());
    }

    #[test]
    fn a_version_4_uuid_is_spelled_as_the_generator_spells_it() {
        // The spelling RFC 4122 gives, written independently.
        let spelled = |mut b: [u8; 16]| {
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            )
        };
        for seed in [0u8, 7, 0xff] {
            let bytes = [seed.wrapping_mul(37); 16].map(|b| b ^ seed);
            let u = Uuid::v4(bytes);
            assert_eq!(u.to_string(), crate::rng::format_uuid(bytes));
            assert_eq!(u.to_string(), spelled(bytes));
            assert_eq!(Uuid::from(crate::rng::format_uuid(bytes)), u);
        }
    }

    #[test]
    fn every_byte_value_round_trips() {
        for x in 0..=255u8 {
            let mut b = [0u8; 16];
            b[usize::from(x) % 16] = x;
            b[15 - usize::from(x) % 16] ^= x.rotate_left(3);
            let s = spell(&b);
            let text = std::str::from_utf8(&s).unwrap();
            assert_eq!(parse_canonical(text), Some(b), "{text}");
        }
    }

    #[test]
    fn it_takes_16_bytes() {
        assert_eq!(std::mem::size_of::<Uuid>(), 16);
    }
}
