//! Seeded, portable random streams.
//!
//! A [`Seed`] is 32 bytes. `Seed::derive(dataset_seed, key)` hashes the dataset seed and a
//! stable string key (e.g. `"<source-key>/slice-42/motion/mild"`) with SHA-256; `child(label)`
//! derives an independent sub-stream the same way. The generator is ChaCha8 (`rand_chacha`),
//! whose output is specified and portable across platforms. Because every sample's stream is
//! a pure function of `(seed, key)`, results do not depend on thread count or order.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The random generator used everywhere in artefact.
pub type SampleRng = ChaCha8Rng;

/// 32-byte seed from which random streams are derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Seed(pub [u8; 32]);

impl Seed {
    /// Seed for the sample identified by `key` within a dataset built with `dataset_seed`.
    pub fn derive(dataset_seed: u64, key: &str) -> Seed {
        let mut h = Sha256::new();
        h.update(b"artefact/seed/v1\0");
        h.update(dataset_seed.to_le_bytes());
        h.update(key.as_bytes());
        Seed(h.finalize().into())
    }

    /// Seed from a stored 64-bit value (e.g. a `noise_seed` in an operator's params).
    pub fn from_u64(v: u64) -> Seed {
        Seed::derive(v, "")
    }

    /// Independent sub-stream named `label`.
    pub fn child(&self, label: &str) -> Seed {
        let mut h = Sha256::new();
        h.update(b"artefact/child/v1\0");
        h.update(self.0);
        h.update(label.as_bytes());
        Seed(h.finalize().into())
    }

    /// A fresh generator positioned at the start of this seed's stream.
    pub fn rng(&self) -> SampleRng {
        ChaCha8Rng::from_seed(self.0)
    }

    /// First 8 bytes as a u64 (for storing a compact seed in params).
    pub fn to_u64(&self) -> u64 {
        u64::from_le_bytes(self.0[..8].try_into().expect("8 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn stable_and_distinct() {
        let a = Seed::derive(42, "src/slice-3");
        assert_eq!(a, Seed::derive(42, "src/slice-3"));
        assert_ne!(a, Seed::derive(43, "src/slice-3"));
        assert_ne!(a, Seed::derive(42, "src/slice-4"));
        assert_ne!(a.child("x"), a.child("y"));
        let x: Vec<u32> = (0..4).map(|_| a.rng().random()).collect();
        assert!(
            x.windows(2).all(|w| w[0] == w[1]),
            "fresh rng restarts the stream"
        );
    }

    #[test]
    fn portable_golden_values() {
        // Pinned output: if these change, every dataset built before changes too.
        let s = Seed::derive(0, "golden");
        let mut rng = s.rng();
        let v: [u64; 2] = [rng.random(), rng.random()];
        assert_eq!(v, GOLDEN, "ChaCha8/SHA-256 stream changed");
    }

    const GOLDEN: [u64; 2] = [12988128165009033935, 4615538985825723184];
}
