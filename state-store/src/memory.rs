//! The memory tier of the visited set: fingerprints in hash-table shards.
//!
//! The engine never locks it. While a level is expanded the set is only
//! read (candidates already seen in earlier levels are dropped early);
//! then each shard is written by exactly one task, which takes its
//! candidates in a fixed order. So the states a level keeps, and the parent
//! recorded for each, do not depend on the number of threads.

use hashbrown::HashSet;
use std::hash::{BuildHasher, Hasher};

use crate::fp::Fp;

/// Shards are chosen by the fingerprint's top byte ([`Fp::shard`]).
pub const SHARDS: usize = 256;
// `Fp::shard` is the top byte: every value of it names a shard.
const _: () = assert!(SHARDS == 1 << 8, "a shard per value of the top byte");

/// Fingerprints are hashes already: the table's hash is a cheap remix, so
/// that the bits hashbrown uses for buckets and tags vary within a shard.
#[derive(Clone, Copy, Default)]
pub struct FpHash;

pub struct FpHasher(u64);

impl Hasher for FpHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(8)
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 and u128 fingerprints are hashed")
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = (v >> 64) as u64 ^ v as u64;
    }
}

impl BuildHasher for FpHash {
    type Hasher = FpHasher;
    fn build_hasher(&self) -> FpHasher {
        FpHasher(0)
    }
}

pub type Shard<F> = HashSet<F, FpHash>;

#[derive(Clone)]
pub struct MemoryTier<F: Fp = u64> {
    pub(crate) shards: Vec<Shard<F>>,
}

/// One shard of a [`MemoryTier`], lent to the task that decides its
/// candidates ([`MemoryTier::insert_sharded`]).
pub struct ShardInsert<'a, F: Fp> {
    shard: &'a mut Shard<F>,
    index: usize,
}

impl<F: Fp> ShardInsert<'_, F> {
    /// Which shard this is: the fingerprints it takes have `shard() == index`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Inserts `fp`; whether it was new.
    #[inline]
    pub fn insert(&mut self, fp: F) -> bool {
        debug_assert_eq!(fp.shard(), self.index, "a fingerprint in its own shard");
        self.shard.insert(fp)
    }
}

impl<F: Fp> Default for MemoryTier<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Fp> MemoryTier<F> {
    pub fn new() -> MemoryTier<F> {
        MemoryTier {
            shards: (0..SHARDS).map(|_| Shard::with_hasher(FpHash)).collect(),
        }
    }

    pub fn contains(&self, fp: F) -> bool {
        self.shards[fp.shard()].contains(&fp)
    }

    pub fn insert(&mut self, fp: F) -> bool {
        self.shards[fp.shard()].insert(fp)
    }

    /// Inserts candidates shard by shard, the shards in parallel: `each`
    /// gets one shard and offers it that shard's candidates in the order
    /// that decides which copy of a state counts. What each call returns
    /// comes back in shard order. No shard is seen by two tasks, so no
    /// lock is taken and the outcome does not depend on thread count.
    pub fn insert_sharded<T: Send>(
        &mut self,
        each: impl Fn(&mut ShardInsert<'_, F>) -> T + Sync,
    ) -> Vec<T> {
        use rayon::prelude::*;
        self.shards
            .par_iter_mut()
            .enumerate()
            .map(|(index, shard)| each(&mut ShardInsert { shard, index }))
            .collect()
    }

    /// Inserts fingerprints known to be new, shard by shard in parallel;
    /// one that is already here is a bug of the caller (asserted).
    pub fn insert_new(&mut self, fps: &[F]) {
        let mut by_shard: Vec<Vec<F>> = vec![Vec::new(); SHARDS];
        for &fp in fps {
            by_shard[fp.shard()].push(fp);
        }
        self.insert_sharded(|shard| {
            for &fp in &by_shard[shard.index()] {
                assert!(shard.insert(fp), "a fingerprint inserted twice");
            }
        });
    }

    pub fn len(&self) -> u64 {
        self.shards.iter().map(|s| s.len() as u64).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every fingerprint in increasing order (shards are ranges of the
    /// top byte, so sorting each and concatenating is a global sort); the
    /// tables are freed shard by shard.
    pub fn into_sorted(self) -> Vec<F> {
        let mut out = Vec::with_capacity(self.len() as usize);
        for shard in self.shards {
            let start = out.len();
            out.extend(shard);
            out[start..].sort_unstable();
        }
        out
    }

    /// Every fingerprint, shard by shard (for a checkpoint).
    pub fn fingerprints(&self) -> Vec<F> {
        let mut out = Vec::with_capacity(self.len() as usize);
        for s in &self.shards {
            out.extend(s.iter().copied());
        }
        out
    }

    /// Bytes held by the tables: a slot is the fingerprint and a control
    /// byte, and hashbrown keeps buckets a power of two above capacity.
    pub fn bytes(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| {
                let buckets = if s.capacity() == 0 {
                    0
                } else {
                    (s.capacity() * 8 / 7).next_power_of_two()
                };
                buckets as u64 * (F::BITS as u64 / 8 + 1)
            })
            .sum()
    }
}
