//! [`Text`], the store's string: one word, where most text fields of a
//! seeded row are empty or short codes (`HR`, `/min`, `AC`, a provider
//! number) and a row has dozens of them.
//!
//! A text of up to [`INLINE`] bytes is kept in the word itself; a longer
//! one points to a shared heap string: a count of the texts that share
//! it, its length, then its bytes. A clone, like every row the seed writes
//! from one interned text, shares the bytes. Both forms are immutable: a
//! changed field is a new `Text`. The heap header is 8 bytes (two `u32`),
//! where `Arc<str>`'s and `arcstr`'s are 16: a clinic's unique phone
//! numbers, health numbers and streets fit a smaller allocation class.
//!
//! The two forms are told apart by the word's lowest bit: a heap string
//! is aligned to 4 bytes, so a pointer to it has that bit clear, and an
//! inline text sets it. The unsafe code below relies on that invariant
//! and on one more: a `Text` whose lowest bit is 0 points to a live heap
//! string (written by [`Shared::new`]) and holds one of its counts. Only
//! this file builds a `Text`, and every constructor keeps both.

use std::alloc::{self, Layout};
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{self, AtomicU32};

/// The longest text kept inline: the word's bytes but the tag byte.
pub const INLINE: usize = 7;

/// The tag byte's place in the word, in memory order: the byte that holds
/// the word's lowest bit.
const TAG: usize = if cfg!(target_endian = "little") { 0 } else { 7 };
/// Where an inline text's bytes start.
const DATA: usize = if cfg!(target_endian = "little") { 1 } else { 0 };

const _: () = assert!(std::mem::size_of::<usize>() == 8, "Text needs 64-bit words");

/// An immutable string of one word: inline up to [`INLINE`] bytes, a
/// shared heap string beyond. It derefs to `&str`.
#[repr(transparent)]
pub struct Text(NonNull<u8>);

// SAFETY: a `Text` is either plain bytes or an immutable heap string
// whose count is atomic, so it may move to and be shared by any thread.
unsafe impl Send for Text {}
// SAFETY: as above.
unsafe impl Sync for Text {}

impl Text {
    /// The empty text (allocates nothing).
    pub const fn new() -> Self {
        // The tag alone: inline, length 0.
        Text(match NonNull::new(std::ptr::without_provenance_mut(1)) {
            Some(p) => p,
            None => unreachable!(),
        })
    }

    fn inline(s: &str) -> Self {
        debug_assert!(s.len() <= INLINE);
        let mut word = [0u8; 8];
        word[TAG] = ((s.len() as u8) << 1) | 1;
        word[DATA..DATA + s.len()].copy_from_slice(s.as_bytes());
        let addr = usize::from_ne_bytes(word);
        // SAFETY: the tag byte sets the lowest bit, so the word is not zero.
        Text(unsafe { NonNull::new_unchecked(std::ptr::without_provenance_mut(addr)) })
    }

    /// The text in lower case; a clone (sharing the string) when it
    /// already is.
    pub fn to_lowercase(&self) -> Text {
        if self.chars().all(|c| c.to_lowercase().eq([c])) {
            self.clone()
        } else {
            Text::from(self.as_str().to_lowercase())
        }
    }

    fn is_inline(&self) -> bool {
        self.0.as_ptr().addr() & 1 == 1
    }

    /// The heap string of a heap text.
    fn shared(&self) -> Shared {
        debug_assert!(!self.is_inline());
        Shared(self.0)
    }

    pub fn as_str(&self) -> &str {
        if self.is_inline() {
            // SAFETY: `Text` is one word, readable as its 8 bytes.
            let word: &[u8; 8] = unsafe { &*(self as *const Text).cast::<[u8; 8]>() };
            let len = usize::from(word[TAG] >> 1);
            // SAFETY: `inline` copied the whole of a `&str` of `len` bytes
            // here, so they are valid UTF-8.
            unsafe { std::str::from_utf8_unchecked(&word[DATA..DATA + len]) }
        } else {
            // SAFETY: not inline, so a live heap string that `self` holds a
            // count of: it lives at least as long as `self` is borrowed.
            unsafe { self.shared().as_str() }
        }
    }
}

/// The heap form's header; the bytes follow it.
#[repr(C)]
struct Header {
    /// The texts that share the string.
    count: AtomicU32,
    len: u32,
}

/// A pointer to a heap string: a [`Header`], then `len` bytes of UTF-8.
#[derive(Clone, Copy)]
struct Shared(NonNull<u8>);

/// Counts above this abort, as `Arc`'s do above `isize::MAX`: an
/// overflow would free a string still in use. Reaching it takes two
/// billion texts sharing one string, 16 GB of words.
const MAX_COUNT: u32 = u32::MAX / 2;

impl Shared {
    fn layout(len: usize) -> Layout {
        Layout::from_size_align(size_of::<Header>() + len, align_of::<Header>())
            .unwrap_or_else(|_| too_long())
    }

    /// A new heap string of `s`, counted once.
    fn new(s: &str) -> Shared {
        let len = u32::try_from(s.len()).unwrap_or_else(|_| too_long());
        let layout = Shared::layout(s.len());
        // SAFETY: the layout's size is at least the header's, not zero.
        let Some(p) = NonNull::new(unsafe { alloc::alloc(layout) }) else {
            alloc::handle_alloc_error(layout)
        };
        // SAFETY: `p` is a fresh allocation of the header and `len` bytes,
        // aligned for the header; the bytes go right after it.
        unsafe {
            p.cast::<Header>().write(Header {
                count: AtomicU32::new(1),
                len,
            });
            std::ptr::copy_nonoverlapping(s.as_ptr(), p.as_ptr().add(size_of::<Header>()), s.len());
        }
        Shared(p)
    }

    /// # Safety
    /// The string must be live (counted by a text that is borrowed).
    unsafe fn header(&self) -> &Header {
        // SAFETY: a live heap string starts with its header.
        unsafe { self.0.cast::<Header>().as_ref() }
    }

    /// # Safety
    /// As for [`Shared::header`]; the `&str` must not outlive the count.
    unsafe fn as_str<'a>(self) -> &'a str {
        // SAFETY: `new` wrote `len` bytes of a `&str` after the header, and
        // nothing writes them again.
        unsafe {
            let len = self.header().len as usize;
            let bytes = std::slice::from_raw_parts(self.0.as_ptr().add(size_of::<Header>()), len);
            std::str::from_utf8_unchecked(bytes)
        }
    }

    /// Adds a count, for a new text that shares the string.
    ///
    /// # Safety
    /// The string must be live.
    unsafe fn retain(self) {
        // Relaxed, as `Arc::clone`: the new count is taken from one the
        // caller holds, so the string cannot be freed meanwhile.
        // SAFETY: live, as the caller promises.
        if unsafe { self.header() }
            .count
            .fetch_add(1, atomic::Ordering::Relaxed)
            > MAX_COUNT
        {
            std::process::abort();
        }
    }

    /// Gives a count back, freeing the string with the last one.
    ///
    /// # Safety
    /// The caller must hold a count and not use the string afterwards.
    unsafe fn release(self) {
        // SAFETY: live while the caller's count is held.
        let header = unsafe { self.header() };
        if header.count.fetch_sub(1, atomic::Ordering::Release) != 1 {
            return;
        }
        // As `Arc`'s drop: every other holder's last use happens before.
        atomic::fence(atomic::Ordering::Acquire);
        let layout = Shared::layout(header.len as usize);
        // SAFETY: the last count is gone; `new` allocated this layout.
        unsafe { alloc::dealloc(self.0.as_ptr(), layout) }
    }
}

/// A text of 4 GiB or more: no request can carry one (bodies are limited
/// to megabytes), so this is a bug, not bad input.
#[cold]
fn too_long() -> ! {
    panic!("a text of 4 GiB or more")
}

impl Drop for Text {
    fn drop(&mut self) {
        if !self.is_inline() {
            // SAFETY: a heap text holds one count, given back once here.
            unsafe { self.shared().release() }
        }
    }
}

impl Clone for Text {
    fn clone(&self) -> Self {
        if self.is_inline() {
            Text(self.0)
        } else {
            // SAFETY: not inline; the clone holds the count it adds.
            unsafe { self.shared().retain() };
            Text(self.0)
        }
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::new()
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        if s.len() <= INLINE {
            Text::inline(s)
        } else {
            Text(Shared::new(s).0)
        }
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::from(s.as_str())
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        t.as_str().to_owned()
    }
}
impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        // Equal words are equal texts (inline, or one shared string).
        self.0 == other.0 || self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> Ordering {
        // Equal words are equal texts: a seeded clinic's names are shared.
        if self.0 == other.0 {
            return Ordering::Equal;
        }
        self.as_str().cmp(other.as_str())
    }
}

/// Hashes as `str` does, as [`Borrow<str>`] requires.
impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

macro_rules! eq_str {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Text {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Text> for $other {
            fn eq(&self, other: &Text) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}
eq_str!(str, &str, String);

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_word_and_a_niche() {
        assert_eq!(std::mem::size_of::<Text>(), 8);
        assert_eq!(std::mem::size_of::<Option<Text>>(), 8);
    }

    #[test]
    fn short_texts_are_inline_and_long_ones_shared() {
        assert!(Text::new().is_inline());
        assert!(Text::from("1234567").is_inline());
        assert!(Text::from("é日ab").is_inline(), "7 bytes of UTF-8");
        assert!(!Text::from("é日本").is_inline(), "8 bytes of UTF-8");
        let long = Text::from("12345678");
        assert!(!long.is_inline());
        assert_eq!(long.0.as_ptr().addr() % align_of::<Header>(), 0);
        let copy = long.clone();
        assert_eq!(copy.0, long.0, "a clone shares the string");
        drop(long);
        assert_eq!(copy, "12345678", "and outlives the original");
    }

    #[test]
    fn orders_and_hashes_as_str() {
        use std::collections::hash_map::DefaultHasher;
        let hash = |h: &dyn Fn(&mut DefaultHasher)| {
            let mut s = DefaultHasher::new();
            h(&mut s);
            s.finish()
        };
        for s in ["", "a", "abcdefg", "abcdefgh", "a longer text than a word"] {
            let t = Text::from(s);
            assert_eq!(hash(&|h| t.hash(h)), hash(&|h| s.hash(h)));
        }
        let texts = ["", "abcdefg", "abcdefgh", "b", "abcdefghij"].map(Text::from);
        for a in &texts {
            for b in &texts {
                assert_eq!(a.cmp(b), a.as_str().cmp(b.as_str()), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn clones_on_many_threads_keep_the_count() {
        let text = Text::from("shared by every thread");
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let mut held = Vec::new();
                    for i in 0..10_000 {
                        held.push(text.clone());
                        if i % 3 == 0 {
                            held.clear();
                        }
                    }
                    assert!(held.iter().all(|t| t == "shared by every thread"));
                });
            }
        });
        // SAFETY: `text` is a live heap text.
        let count = unsafe { text.shared().header() }
            .count
            .load(atomic::Ordering::Relaxed);
        assert_eq!(count, 1, "every clone gave its count back");
    }

    proptest! {
        #[test]
        fn round_trips_any_string(s in ".{0,40}") {
            let t = Text::from(s.as_str());
            prop_assert_eq!(t.as_str(), s.as_str());
            prop_assert_eq!(t.is_inline(), s.len() <= INLINE);
            let c = t.clone();
            drop(t);
            prop_assert_eq!(c.as_str(), s.as_str());
            // Serialised as the string it is.
            prop_assert_eq!(serde_json::to_string(&c).unwrap(), serde_json::to_string(&s).unwrap());
        }
    }
}
