//! Seeded randomness: every key, secret, token and uuid the mock invents
//! comes from here, so a run with the same seed and the same requests
//! produces the same values.

use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const LOWER_ALNUM: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
pub const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[derive(Debug)]
pub struct SeededRng {
    inner: Mutex<ChaCha8Rng>,
    /// The ChaCha stream: mocks of different profiles started with the
    /// same seed (a suite run) draw different values, so a token of one
    /// is never a uuid of another.
    stream: u64,
}

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        Self::with_stream(seed, 0)
    }

    /// The `stream`th independent sequence of `seed`.
    pub fn with_stream(seed: u64, stream: u64) -> Self {
        SeededRng {
            inner: Mutex::new(Self::generator(seed, stream)),
            stream,
        }
    }

    fn generator(seed: u64, stream: u64) -> ChaCha8Rng {
        let mut g = ChaCha8Rng::seed_from_u64(seed);
        g.set_stream(stream);
        g
    }

    pub fn reseed(&self, seed: u64) {
        *self.inner.lock() = Self::generator(seed, self.stream);
    }

    /// `len` characters drawn from `alphabet`.
    pub fn string(&self, len: usize, alphabet: &[u8]) -> String {
        let mut rng = self.inner.lock();
        (0..len)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
            .collect()
    }

    /// A version-4 UUID string, as `UUID.randomUUID()` and OpenEMR produce.
    pub fn uuid(&self) -> String {
        let mut b = [0u8; 16];
        self.inner.lock().fill(&mut b);
        format_uuid(b)
    }

    pub fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut b = [0u8; N];
        self.inner.lock().fill(&mut b[..]);
        b
    }

    pub fn below(&self, n: u64) -> u64 {
        self.inner.lock().gen_range(0..n.max(1))
    }
}

/// Formats 16 random bytes as an RFC 4122 version-4 UUID.
pub fn format_uuid(b: [u8; 16]) -> String {
    crate::store::Uuid::v4(b).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_values() {
        let a = SeededRng::new(7);
        let b = SeededRng::new(7);
        assert_eq!(a.string(16, LOWER_ALNUM), b.string(16, LOWER_ALNUM));
        assert_eq!(a.uuid(), b.uuid());
        let u = a.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }

    #[test]
    fn streams_of_one_seed_differ_and_survive_a_reseed() {
        let a = SeededRng::with_stream(7, 3);
        let b = SeededRng::with_stream(7, 4);
        let first = a.uuid();
        assert_ne!(first, b.uuid());
        a.reseed(7);
        assert_eq!(a.uuid(), first);
    }
}
