//! Delayed duplicate detection of one level's new states, when the
//! visited set has a disk tier.
//!
//! While a level is expanded, the search consults only the memory tier;
//! the level's candidates are *tentative*: each is inserted into the
//! level's own set (so a state found twice in the level is queued once)
//! and its record queued. When that set outgrows its share of memory, the
//! open *period* is closed (its fingerprints written as a sorted run) and
//! a new one opens. At the level's end [`Tentative::settle`] drops every
//! record whose fingerprint is in a run of the visited set (seen in an
//! earlier level) or in an earlier period (seen earlier in this level),
//! in one forward pass over the runs, and hands the rest to the caller in
//! queue order while adding their fingerprints to the visited set.
//!
//! The store keeps the invariants: a tentative fingerprint is queued once
//! per level, every queued record is settled exactly once, and what joins
//! the visited set is in none of its tiers. A record is the fingerprint's
//! words followed by the caller's payload (opaque here).

use rayon::prelude::*;

use crate::memory::{MemoryTier, SHARDS, ShardInsert};
use crate::queue::{Queue, TileReader};
use crate::run::{Run, RunWriter};
use crate::spill::SpillDir;
use crate::{FingerprintSet, Fp, StoreError};

/// A level's tentative part: its records in order, and its fingerprints
/// in periods: the open one in memory, closed ones as sorted runs.
pub struct Tentative<F: Fp> {
    queue: Queue,
    payload_words: usize,
    open: MemoryTier<F>,
    open_records: u64,
    periods: Vec<Period>,
}

/// A closed period: its fingerprints as a sorted run.
struct Period {
    name: String,
    run: Run,
    records: u64,
}

impl Period {
    fn write<F: Fp>(
        set: &MemoryTier<F>,
        records: u64,
        spill: &SpillDir,
    ) -> Result<Period, StoreError> {
        let (name, path) = spill.fresh("run", "fps");
        let run = crate::tiered::write_tier(set, &path)?;
        assert_eq!(run.len(), records, "one fingerprint per tentative record");
        Ok(Period { name, run, records })
    }
}

impl<F: Fp> Tentative<F> {
    /// An empty level whose records carry `payload_words` words beside the
    /// fingerprint; the queue keeps `queue_words` in memory at most.
    pub fn new(payload_words: usize, queue_words: Option<usize>) -> Tentative<F> {
        Tentative {
            queue: Queue::new(F::WORDS + payload_words, queue_words),
            payload_words,
            open: MemoryTier::new(),
            open_records: 0,
            periods: Vec::new(),
        }
    }

    /// Words per record: the fingerprint's, then the payload.
    pub fn record_words(&self) -> usize {
        F::WORDS + self.payload_words
    }

    /// Offers candidates to the open period, shard by shard in parallel
    /// ([`MemoryTier::insert_sharded`]): those it finds new are new to the
    /// level so far. Their records must follow, in one [`Self::push`].
    pub fn insert_sharded<T: Send>(
        &mut self,
        each: impl Fn(&mut ShardInsert<'_, F>) -> T + Sync,
    ) -> Vec<T> {
        self.open.insert_sharded(each)
    }

    /// Queues the records of the candidates the last
    /// [`Self::insert_sharded`] found new, in the level's order.
    pub fn push(&mut self, records: &[u32], spill: &SpillDir) -> Result<(), StoreError> {
        let stride = self.record_words();
        assert_eq!(records.len() % stride, 0, "whole records");
        debug_assert!(
            records
                .chunks_exact(stride)
                .all(|r| self.open.contains(F::from_words(r))),
            "a record's fingerprint is in the open period"
        );
        self.open_records += (records.len() / stride) as u64;
        assert_eq!(
            self.open_records,
            self.open.len(),
            "one record per fingerprint new to the level"
        );
        self.queue.push(records, spill)
    }

    /// Bytes held by the open period's fingerprints.
    pub fn open_bytes(&self) -> u64 {
        self.open.bytes()
    }

    /// Closes the open period: its fingerprints go to a sorted run.
    pub fn close_period(&mut self, spill: &SpillDir) -> Result<(), StoreError> {
        let set = std::mem::take(&mut self.open);
        let records = std::mem::take(&mut self.open_records);
        self.periods.push(Period::write(&set, records, spill)?);
        Ok(())
    }

    /// Settles the level against `visited`: a record whose fingerprint is
    /// in a run, or in an earlier period, is dropped; the rest are given
    /// to `take`, in queue order, in batches of at most `batch_records`,
    /// each batch's fingerprints added to `visited` first. The memory tier
    /// spills past `visited_budget` bytes between batches, like any other.
    /// Returns how many records were kept. Every read is forward.
    pub fn settle(
        self,
        visited: &mut FingerprintSet<F>,
        spill: &SpillDir,
        batch_records: usize,
        visited_budget: Option<u64>,
        mut take: impl FnMut(&[u32]) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let Tentative {
            mut queue,
            payload_words,
            open,
            open_records,
            mut periods,
        } = self;
        let mut taker = Taker {
            stride: F::WORDS + payload_words,
            batch_records: batch_records.max(1),
            visited_budget,
            reader: TileReader::default(),
            kept: 0,
        };
        if periods.is_empty() {
            // One period, in memory: one parallel pass over the runs.
            let cands = open.into_sorted();
            assert_eq!(
                cands.len() as u64,
                open_records,
                "one fingerprint per tentative record"
            );
            let mut dropped = vec![false; cands.len()];
            visited.mark_on_disk(&cands, &mut dropped)?;
            taker.period(&mut queue, visited, spill, &cands, &dropped, &mut take)?;
            assert!(queue.is_empty(), "every tentative record was settled");
            return Ok(taker.kept);
        }
        if open_records > 0 {
            periods.push(Period::write(&open, open_records, spill)?);
        }
        let drops = dropped_by_period::<F>(visited, &periods, spill)?;
        for (period, drop) in periods.iter().zip(&drops) {
            let cands: Vec<F> = period.run.read_all()?;
            assert_eq!(
                cands.len() as u64,
                period.records,
                "one fingerprint per tentative record"
            );
            let drop: Vec<F> = drop.run.read_all()?;
            let mut dropped = vec![false; cands.len()];
            let mut i = 0;
            for fp in drop {
                i += cands[i..].partition_point(|&c| c < fp);
                assert_eq!(
                    cands.get(i),
                    Some(&fp),
                    "a dropped fingerprint is its period's"
                );
                dropped[i] = true;
            }
            taker.period(&mut queue, visited, spill, &cands, &dropped, &mut take)?;
        }
        assert!(queue.is_empty(), "every tentative record was settled");
        for p in periods.iter().chain(&drops) {
            spill.retire(&p.name);
        }
        Ok(taker.kept)
    }
}

/// Reads settled records back and hands the kept ones on.
struct Taker {
    stride: usize,
    batch_records: usize,
    visited_budget: Option<u64>,
    reader: TileReader,
    kept: u64,
}

impl Taker {
    /// Settles one period's records from the queue: `cands` are the
    /// period's fingerprints, sorted, `dropped` which of them go.
    fn period<F: Fp>(
        &mut self,
        queue: &mut Queue,
        visited: &mut FingerprintSet<F>,
        spill: &SpillDir,
        cands: &[F],
        dropped: &[bool],
        take: &mut impl FnMut(&[u32]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let stride = self.stride;
        let mut left = cands.len();
        let mut kept = Vec::new();
        let mut fps = Vec::new();
        while left > 0 {
            let want = left.min(self.batch_records) * stride;
            let Some(chunk) = self.reader.next(queue, spill, want)? else {
                panic!("the tentative queue holds every record of its periods")
            };
            assert_eq!(chunk.len() % stride, 0, "whole records");
            left -= chunk.len() / stride;
            // Which records stay: lookups in parallel, in record order.
            let keep: Vec<bool> = chunk
                .par_chunks(stride)
                .map(|r| match cands.binary_search(&F::from_words(r)) {
                    Ok(i) => !dropped[i],
                    Err(_) => panic!("a tentative record's fingerprint is in its period"),
                })
                .collect();
            kept.clear();
            fps.clear();
            for (r, _) in chunk.chunks_exact(stride).zip(&keep).filter(|(_, k)| **k) {
                kept.extend_from_slice(r);
                fps.push(F::from_words(r));
            }
            visited.insert_new(&fps);
            self.kept += fps.len() as u64;
            take(&kept)?;
            // Settled states may spill like any others.
            if self
                .visited_budget
                .is_some_and(|b| visited.memory_bytes() > b)
            {
                visited.spill(spill)?;
            }
        }
        Ok(())
    }
}

/// For each period, the run of its fingerprints to drop: those on disk,
/// and those in an earlier period. Shards are independent (a shard is a
/// range of fingerprints): a batch of them is worked on in parallel, each
/// reading its range of every period and every run, and the results are
/// appended in shard order, so each output is sorted.
fn dropped_by_period<F: Fp>(
    visited: &FingerprintSet<F>,
    periods: &[Period],
    spill: &SpillDir,
) -> Result<Vec<Period>, StoreError> {
    let k = periods.len();
    let mut writers = Vec::with_capacity(k);
    for _ in 0..k {
        let (name, path) = spill.fresh("run", "fps");
        writers.push((name, RunWriter::create::<F>(&path)?, 0u64));
    }
    let batch = rayon::current_num_threads().clamp(1, 16);
    for first in (0..SHARDS).step_by(batch) {
        let shards: Vec<usize> = (first..(first + batch).min(SHARDS)).collect();
        let results = shards
            .into_par_iter()
            .map(|s| -> Result<Vec<Vec<F>>, StoreError> {
                let (lo, hi) = F::shard_range(s);
                let mut tagged: Vec<(F, usize)> = Vec::new();
                for (p, period) in periods.iter().enumerate() {
                    tagged.extend(
                        period
                            .run
                            .read_range::<F>(lo, hi)?
                            .into_iter()
                            .map(|f| (f, p)),
                    );
                }
                tagged.sort_unstable();
                let mut unique: Vec<F> = tagged.iter().map(|t| t.0).collect();
                unique.dedup();
                let mut on_disk = vec![false; unique.len()];
                visited.mark_on_disk_serial(&unique, &mut on_disk)?;
                let mut dropped = vec![Vec::new(); k];
                let mut u = 0;
                for (i, &(fp, p)) in tagged.iter().enumerate() {
                    let first_of_fp = i == 0 || tagged[i - 1].0 != fp;
                    if first_of_fp && i > 0 {
                        u += 1;
                    }
                    debug_assert_eq!(unique[u], fp);
                    if on_disk[u] || !first_of_fp {
                        dropped[p].push(fp);
                    }
                }
                Ok(dropped)
            })
            .collect::<Result<Vec<_>, _>>()?;
        for per_period in results {
            for (w, fps) in writers.iter_mut().zip(per_period) {
                w.2 += fps.len() as u64;
                for fp in fps {
                    w.1.push(fp.to_u128())?;
                }
            }
        }
    }
    writers
        .into_iter()
        .map(|(name, w, records)| Ok(Period { name, run: w.finish()?, records }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Levels of random candidates through `Tentative` with tiny periods
    /// and a spilling visited set agree with one `HashSet`: every
    /// fingerprint kept once, in first-seen order, and nothing lost.
    #[test]
    fn settled_levels_behave_as_one_set() {
        let spill = SpillDir::temporary().expect("dir");
        let mut visited = FingerprintSet::<u64>::new();
        let mut model = HashSet::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 50_000).wrapping_mul(0x0100_0000_0000_0001) % (u64::MAX - 1) + 1
        };
        // A first level in memory, then the memory tier spills.
        for _ in 0..5_000 {
            let fp = next();
            if visited.insert(fp) {
                model.insert(fp);
            }
        }
        visited.spill(&spill).expect("spill");
        for level in 0..6u32 {
            let mut t = Tentative::<u64>::new(1, Some(1 << 12));
            let mut expect = Vec::new();
            let mut seen_here = HashSet::new();
            for batch in 0..8u32 {
                let cands: Vec<u64> = (0..700).map(|_| next()).collect();
                let cands: Vec<u64> = cands
                    .into_iter()
                    .filter(|f| !visited.memory().contains(*f))
                    .collect();
                // Each shard's candidates in candidate order.
                let new = t.insert_sharded(|shard| {
                    let me = shard.index();
                    cands
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| f.shard() == me)
                        .filter(|(_, f)| shard.insert(**f))
                        .map(|(i, _)| i)
                        .collect::<Vec<_>>()
                });
                let mut order: Vec<usize> = new.concat();
                order.sort_unstable();
                let mut records = Vec::new();
                for i in order {
                    let fp = cands[i];
                    records.extend_from_slice(&[fp as u32, (fp >> 32) as u32, level * 8 + batch]);
                    if seen_here.insert(fp) && !model.contains(&fp) {
                        expect.push(fp);
                    }
                }
                t.push(&records, &spill).expect("push");
                if batch % 3 == 2 {
                    t.close_period(&spill).expect("close");
                }
            }
            let mut got = Vec::new();
            let kept = t
                .settle(&mut visited, &spill, 100, Some(4096), |r| {
                    for rec in r.chunks_exact(3) {
                        got.push(u64::from(rec[0]) | u64::from(rec[1]) << 32);
                    }
                    Ok(())
                })
                .expect("settle");
            // Periods are settled in order, each in queue order, so the
            // kept records come in first-seen order.
            assert_eq!(got, expect, "level {level}");
            assert_eq!(kept, expect.len() as u64);
            model.extend(expect);
            assert_eq!(visited.len(), model.len() as u64, "level {level}");
        }
        assert!(visited.has_disk_tier());
    }
}
