//! The injected source of randomness: tokens and ids never read a global generator directly, so
//! tests can make them reproducible.

use std::fmt;
use std::sync::Mutex;

use rand::{RngCore, SeedableRng, rngs::StdRng};

/// Fills buffers with random bytes. Implementations used in production must be cryptographically
/// secure: invitation tokens are drawn from here.
pub trait RandomSource: Send + Sync + 'static {
    /// Fills `dest` entirely with random bytes.
    fn fill_bytes(&self, dest: &mut [u8]);
}

/// The operating system's generator (through `rand`'s thread-local CSPRNG seeded from the OS).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill_bytes(&self, dest: &mut [u8]) {
        rand::rng().fill_bytes(dest);
    }
}

/// A deterministic generator from a seed, for tests and reproducible demos. Never use it in
/// production: anyone who knows the seed can predict every token.
pub struct SeededRandom(Mutex<StdRng>);

impl SeededRandom {
    /// A generator that always yields the same sequence for the same seed.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(StdRng::seed_from_u64(seed)))
    }
}

impl fmt::Debug for SeededRandom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SeededRandom")
    }
}

impl RandomSource for SeededRandom {
    fn fill_bytes(&self, dest: &mut [u8]) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .fill_bytes(dest);
    }
}

impl<R: RandomSource + ?Sized> RandomSource for std::sync::Arc<R> {
    fn fill_bytes(&self, dest: &mut [u8]) {
        (**self).fill_bytes(dest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_random_repeats_for_the_same_seed() {
        let (mut a, mut b, mut c) = ([0u8; 16], [0u8; 16], [0u8; 16]);
        SeededRandom::new(3).fill_bytes(&mut a);
        SeededRandom::new(3).fill_bytes(&mut b);
        SeededRandom::new(4).fill_bytes(&mut c);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn os_random_differs_between_draws() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        OsRandom.fill_bytes(&mut a);
        OsRandom.fill_bytes(&mut b);
        assert_ne!(a, b);
    }
}
