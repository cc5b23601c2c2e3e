//! Written text kept per thread for as long as a store keeps its stamp.
//!
//! A response written from rows of one store stamp ([`Store::stamp`]) is
//! a function of those rows and of how it was written (the plan or
//! signature, and a view such as the day an age is counted to): while the
//! stamp holds, the rows cannot change, so the text written the first
//! time is the text every later read would write. Stamps are unique in
//! the process, so text kept for one store is never served for another.
//! Each thread keeps its own texts (no lock on the request path) and
//! starts over when it sees another stamp or holds too much.
//!
//! [`Store::stamp`]: crate::store::Store::stamp

use std::cell::RefCell;
use std::collections::HashMap;

/// What a text was written from, besides the stamp: addresses that stay
/// put while the stamp holds (a row, a plan, a signature) and a view.
pub type Key = (usize, usize, u64);

/// Texts kept per thread before the cache starts over, and their length:
/// a client walking a large store's records does not grow it without end.
const MAX_TEXTS: usize = 4096;
const MAX_BYTES: usize = 4 << 20;

#[derive(Default)]
struct Kept {
    stamp: u64,
    written: HashMap<Key, Box<[u8]>, foldhash::fast::RandomState>,
    /// The length of the texts in `written`.
    bytes: usize,
}

thread_local! {
    static KEPT: RefCell<Kept> = RefCell::default();
}

/// Appends to `out` what `write` appends for `key` under `stamp`, or the
/// text kept from the last time it did.
pub fn write(out: &mut Vec<u8>, stamp: u64, key: Key, write: impl FnOnce(&mut Vec<u8>)) {
    let found = KEPT.with_borrow_mut(|kept| {
        if kept.stamp != stamp || kept.written.len() >= MAX_TEXTS || kept.bytes >= MAX_BYTES {
            kept.stamp = stamp;
            kept.written.clear();
            kept.bytes = 0;
        }
        kept.written
            .get(&key)
            .map(|text| out.extend_from_slice(text))
            .is_some()
    });
    if found {
        return;
    }
    // Written outside the borrow: a text may hold texts kept the same way.
    let start = out.len();
    write(out);
    KEPT.with_borrow_mut(|kept| {
        if kept.stamp == stamp {
            kept.bytes += out.len() - start;
            kept.written.insert(key, out[start..].into());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(stamp: u64, key: Key, text: &str) -> String {
        let mut out = b"<".to_vec();
        write(&mut out, stamp, key, |out| {
            out.extend_from_slice(text.as_bytes())
        });
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_text_is_kept_for_its_stamp_and_key_only() {
        assert_eq!(written(1, (1, 2, 3), "a"), "<a");
        assert_eq!(written(1, (1, 2, 3), "b"), "<a", "kept");
        assert_eq!(written(1, (1, 2, 4), "c"), "<c", "another view");
        assert_eq!(written(2, (1, 2, 3), "d"), "<d", "another stamp");
        assert_eq!(written(1, (1, 2, 3), "e"), "<e", "an old stamp starts over");
    }

    #[test]
    fn a_full_cache_starts_over() {
        let big = "x".repeat(MAX_BYTES);
        assert_eq!(written(7, (0, 0, 0), &big).len(), MAX_BYTES + 1);
        assert_eq!(written(7, (0, 0, 1), "y"), "<y");
        assert_eq!(written(7, (0, 0, 0), "z"), "<z", "dropped when over");
    }
}
