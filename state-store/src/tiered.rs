//! The visited set in tiers: a memory tier of hash-table shards, and on
//! disk a few sorted runs.
//!
//! Delayed duplicate detection: during a level the search consults only
//! the memory tier. Once per level, the level's new candidates, sorted
//! shard by shard, are merged against every run in one forward pass
//! ([`FingerprintSet::on_disk`]), and those found there are dropped. When
//! the memory tier outgrows its budget it is written out as a new run
//! ([`FingerprintSet::spill`]), and runs of similar size are merged, so
//! there are O(log n) of them. No lookup in the search loop touches disk.

use rayon::prelude::*;

use crate::StoreError;
use crate::fp::Fp;
use crate::memory::{MemoryTier, SHARDS};
use crate::run::{Run, RunWriter, merge};
use crate::spill::SpillDir;

/// The visited set. Its invariants are its own: the tiers are disjoint,
/// and each fingerprint is counted once. Fingerprints enter the memory
/// tier only as new ones: by [`Self::insert`] and
/// [`Self::insert_sharded`] while there is no disk tier (the memory tier
/// then decides alone), or by [`Self::insert_new`] for fingerprints a
/// check against every tier found new (delayed duplicate detection,
/// [`crate::level`]).
pub struct FingerprintSet<F: Fp = u64> {
    memory: MemoryTier<F>,
    /// Oldest (largest) first; with their file names.
    runs: Vec<(String, Run)>,
    disk_len: u64,
}

impl<F: Fp> Default for FingerprintSet<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Fp> FingerprintSet<F> {
    pub fn new() -> FingerprintSet<F> {
        FingerprintSet {
            memory: MemoryTier::new(),
            runs: Vec::new(),
            disk_len: 0,
        }
    }

    /// A set of one memory tier (the caller vouches that its fingerprints
    /// are the whole set).
    pub fn from_memory(memory: MemoryTier<F>) -> FingerprintSet<F> {
        FingerprintSet { memory, runs: Vec::new(), disk_len: 0 }
    }

    /// The memory tier, to read (a backend drops candidates it holds).
    pub fn memory(&self) -> &MemoryTier<F> {
        &self.memory
    }

    pub fn memory_bytes(&self) -> u64 {
        self.memory.bytes()
    }

    /// Inserts `fp` while every fingerprint is in memory; whether it was
    /// new. With a disk tier a fingerprint's newness is decided by
    /// delayed duplicate detection instead ([`crate::level`]).
    pub fn insert(&mut self, fp: F) -> bool {
        assert!(
            !self.has_disk_tier(),
            "insert decides newness in memory only"
        );
        self.memory.insert(fp)
    }

    /// [`MemoryTier::insert_sharded`] on the memory tier, while every
    /// fingerprint is in memory.
    pub fn insert_sharded<T: Send>(
        &mut self,
        each: impl Fn(&mut crate::memory::ShardInsert<'_, F>) -> T + Sync,
    ) -> Vec<T> {
        assert!(
            !self.has_disk_tier(),
            "insert decides newness in memory only"
        );
        self.memory.insert_sharded(each)
    }

    /// Adds fingerprints known to be in no tier (the caller checked them
    /// against every tier); one already in memory is a bug (asserted).
    pub fn insert_new(&mut self, fps: &[F]) {
        self.memory.insert_new(fps);
    }

    /// Takes the memory tier away (a device's table holds those
    /// fingerprints now); the runs stay.
    pub fn take_memory(&mut self) -> MemoryTier<F> {
        std::mem::take(&mut self.memory)
    }

    /// Puts back a memory tier taken by [`Self::take_memory`] (or cloned
    /// from [`Self::memory`]), replacing what is in memory now.
    pub fn restore_memory(&mut self, memory: MemoryTier<F>) {
        self.memory = memory;
    }

    /// Fingerprints in all tiers (they are disjoint).
    pub fn len(&self) -> u64 {
        self.memory.len() + self.disk_len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn disk_len(&self) -> u64 {
        self.disk_len
    }

    pub fn has_disk_tier(&self) -> bool {
        !self.runs.is_empty()
    }

    pub fn disk_bytes(&self) -> u64 {
        self.runs.iter().map(|(_, r)| r.bytes()).sum()
    }

    /// The runs' file names and sizes (for a checkpoint).
    pub fn runs(&self) -> impl Iterator<Item = (&str, u64)> {
        self.runs.iter().map(|(n, r)| (n.as_str(), r.len()))
    }

    /// Marks `present[i]` for each `sorted[i]` (strictly increasing) that
    /// is in a run. Shard ranges are checked in parallel; each reads its
    /// own range of every run, forward.
    pub fn mark_on_disk(&self, sorted: &[F], present: &mut [bool]) -> Result<(), StoreError> {
        assert_eq!(sorted.len(), present.len());
        let mut parts = Vec::with_capacity(SHARDS);
        let (mut fps, mut flags) = (sorted, present);
        for s in 0..SHARDS {
            let n = fps.partition_point(|f| f.shard() <= s);
            let (a, rest) = fps.split_at(n);
            let (b, rest_flags) = flags.split_at_mut(n);
            parts.push((a, b));
            (fps, flags) = (rest, rest_flags);
        }
        parts.into_par_iter().try_for_each(|(cands, flags)| {
            for (_, run) in &self.runs {
                run.mark_present(cands, flags)?;
            }
            Ok(())
        })
    }

    /// [`Self::mark_on_disk`] for candidates already within one shard (the
    /// caller parallelizes).
    pub(crate) fn mark_on_disk_serial(
        &self,
        sorted: &[F],
        present: &mut [bool],
    ) -> Result<(), StoreError> {
        for (_, run) in &self.runs {
            run.mark_present(sorted, present)?;
        }
        Ok(())
    }

    /// Writes the memory tier out as a new run, empties it, and merges
    /// runs of similar size. On an error the memory tier is left whole.
    pub fn spill(&mut self, dir: &SpillDir) -> Result<(), StoreError> {
        if self.memory.is_empty() {
            return Ok(());
        }
        let (name, path) = dir.fresh("run", "fps");
        let run = write_tier(&self.memory, &path)?;
        assert_eq!(
            run.len(),
            self.memory.len(),
            "a spilled run holds the whole memory tier"
        );
        self.disk_len += run.len();
        self.runs.push((name, run));
        self.memory = MemoryTier::new();
        self.compact(dir)
    }

    fn compact(&mut self, dir: &SpillDir) -> Result<(), StoreError> {
        while let [.., (_, a), (_, b)] = self.runs.as_slice()
            && a.len() <= 2 * b.len()
        {
            let (name, path) = dir.fresh("run", "fps");
            let merged = merge(a, b, &path)?;
            assert_eq!(
                merged.len(),
                a.len() + b.len(),
                "a merge keeps every fingerprint"
            );
            for _ in 0..2 {
                if let Some((old, _)) = self.runs.pop() {
                    dir.retire(&old);
                }
            }
            self.runs.push((name, merged));
        }
        Ok(())
    }

    /// The set a checkpoint recorded: its memory tier's fingerprints and
    /// its runs (opened and checked). Fails on a repeated or zero
    /// fingerprint in the memory tier.
    pub fn restore(
        memory: &[F],
        runs: &[String],
        dir: &SpillDir,
    ) -> Result<FingerprintSet<F>, RestoreError> {
        let mut set = FingerprintSet::new();
        for &fp in memory {
            if fp == F::default() || !set.memory.insert(fp) {
                return Err(RestoreError::Invalid(
                    "a fingerprint is zero or repeated".into(),
                ));
            }
        }
        for name in runs {
            let run = Run::open(&dir.path().join(name))?;
            if run.width() * 8 != F::BITS as usize {
                return Err(RestoreError::Invalid(format!(
                    "run {name} holds fingerprints of another width"
                )));
            }
            set.disk_len += run.len();
            set.runs.push((name.clone(), run));
        }
        Ok(set)
    }
}

/// Writes a memory tier's fingerprints as a run. Shards hold consecutive
/// ranges of the fingerprint space (by top byte), so shard order after
/// sorting each is global order.
pub fn write_tier<F: Fp>(tier: &MemoryTier<F>, path: &std::path::Path) -> Result<Run, StoreError> {
    let mut w = RunWriter::create::<F>(path)?;
    // A batch of shards sorted in parallel, then encoded in parallel.
    for batch in tier.shards.chunks(16) {
        let sorted: Vec<Vec<u128>> = batch
            .par_iter()
            .map(|shard| {
                let mut v: Vec<u128> = shard.iter().map(|f| f.to_u128()).collect();
                v.sort_unstable();
                v
            })
            .collect();
        let all: Vec<u128> = sorted.concat();
        w.extend_sorted(&all)?;
    }
    w.finish()
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tiers_together_behave_as_one_set() {
        let dir = SpillDir::temporary().expect("dir");
        let mut set = FingerprintSet::<u64>::new();
        let mut model = HashSet::new();
        let mut x = 0x1234_5678_9abc_def1u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // A small space, so that repeats happen across tiers.
            (x % 200_000).wrapping_mul(0x0100_0000_0000_0001) % (u64::MAX - 1) + 1
        };
        for round in 0..12 {
            // A "level", as the engine runs one: candidates new to the
            // memory tier and to the level, checked on disk, the survivors
            // added to the memory tier.
            let mut level = MemoryTier::<u64>::new();
            for _ in 0..20_000 {
                let fp = next();
                if !set.memory.contains(fp) {
                    level.insert(fp);
                }
            }
            let fresh = level.into_sorted();
            let mut present = vec![false; fresh.len()];
            set.mark_on_disk(&fresh, &mut present).expect("lookup");
            for (fp, on_disk) in fresh.iter().zip(&present) {
                assert_eq!(!on_disk, model.insert(*fp), "fingerprint {fp:x}");
                if !on_disk {
                    set.memory.insert(*fp);
                }
            }
            assert_eq!(set.len(), model.len() as u64);
            if round % 2 == 1 {
                set.spill(&dir).expect("spill");
                assert!(set.memory.is_empty());
            }
        }
        assert!(set.runs.len() <= 4, "{} runs", set.runs.len());
        let mut all = Vec::new();
        for (_, r) in &set.runs {
            all.extend(r.read_all::<u64>().expect("read"));
        }
        all.extend(set.memory.fingerprints());
        all.sort_unstable();
        let mut expect: Vec<u64> = model.into_iter().collect();
        expect.sort_unstable();
        assert_eq!(all, expect);
    }
}
