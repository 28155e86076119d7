//! The level loop when the search lives on a GPU (`gpu_kernels::Search`):
//! the frontier, the next frontier and the visited table stay in device
//! memory, and the host keeps what only it can: the trace log (fed by the
//! device's trace records, 8 bytes a state), the counts, checkpoints, and
//! the fingerprints the table could not hold.
//!
//! - A level runs as segments of the frontier (usually one). A segment the
//!   device flags (a state with an error, a violated invariant, a deadlock,
//!   an i32 overflow) undoes the level on the device, and the CPU backend
//!   expands that level from the same frontier with the same store: the
//!   GPU detects, the CPU explains, and the search goes back to the device.
//! - A table that fills goes to the host's store (its memory tier, which
//!   `--memory` spills to disk runs), and from then on each segment's new
//!   states are checked against the host's fingerprints before they are
//!   kept (delayed duplicate detection); states of the level itself that
//!   went to the host wait in `pending` until the level ends.
//! - A lost device stops the search (`--backend gpu`) or hands it to the
//!   CPU (`auto`), which rebuilds the store and the frontier of the last
//!   complete level by replaying the trace log, and goes on.
//!
//! Every count, the depth and every trace are the CPU backend's: the
//! device places new states in the CPU's order (by parent, then rule
//! instance), so ids, parents and findings agree.

use crate::output::errln;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use gpu_kernels::{GpuError, Search, SegmentEnd, SegmentIn};
use model::Model;
use model::step::{Fired, Stepper};
use rayon::prelude::*;
use state_store::{FingerprintSet, MemoryTier, Queue, StoreError, TileReader};

use super::backend::{Backend, Fingerprint};
use super::checkpoint::Resume;
use super::progress::Progress;
use super::{Ended, Engine, Outcome, SearchConfig, Status, spill_dir};

/// What a device failure does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// `--backend auto`: go on with the CPU backend.
    UseCpu,
    /// `--backend gpu`: stop the run with the error.
    Stop,
}

/// What a device run reports beside its outcome.
#[derive(Clone, Debug, Default)]
pub struct DeviceReport {
    pub device: String,
    /// The device failed and the CPU finished the search.
    pub fell_back: bool,
    /// Levels the CPU expanded because the device flagged a state (or ran
    /// out of room for one).
    pub cpu_levels: u64,
    pub stats: gpu_kernels::Stats,
}

/// Runs (or, `from` a checkpoint, resumes) the search on `dev`; `cpu`
/// explains flagged levels and takes over after a failure.
pub fn search<F: Fingerprint>(
    model: &Model,
    config: &SearchConfig,
    dev: &mut Search,
    cpu: &dyn Backend<F>,
    on_failure: OnFailure,
    progress: &Progress,
    from: Option<Resume<F>>,
) -> (Outcome, DeviceReport) {
    let start = Instant::now();
    let mut report = DeviceReport {
        device: dev.device_name().to_string(),
        ..DeviceReport::default()
    };
    let mut from = from;
    let earlier = from.as_ref().map_or(0.0, |r| r.seconds);
    let spill = match from.as_mut() {
        Some(r) => match r.spill.take() {
            Some(s) => s,
            None => unreachable!("a loaded checkpoint has its directory"),
        },
        None => match spill_dir(config) {
            Ok(s) => s,
            Err(e) => return (super::failed_to_start(e, F::BITS), report),
        },
    };
    let mut engine = Engine::new(model, config, spill);
    // The device keeps no state graph: a spec with temporal properties is
    // searched on the host by the CPU backend. Both sides must agree on symmetry, or the table would
    // hold states of two kinds.
    assert_eq!(
        dev.symmetric(),
        engine.symmetry.is_some(),
        "the device's kernels reduce by symmetry exactly when the engine does"
    );
    let mut out = if model.temporals.is_empty() {
        assert_eq!(
            dev.counts_coverage(),
            config.coverage,
            "the device counts coverage exactly when the search does"
        );
        engine.run_device(dev, cpu, on_failure, progress, from, &mut report)
    } else {
        report.fell_back = true;
        engine.run(cpu, progress, from)
    };
    out.seconds = earlier + start.elapsed().as_secs_f64();
    report.stats = dev.stats();
    (out, report)
}

/// Why the device part of a level could not go on.
enum Fail {
    Device(GpuError),
    Store(StoreError),
}

impl From<GpuError> for Fail {
    fn from(e: GpuError) -> Self {
        Fail::Device(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

/// A frontier level as the run met it: its states' ids `base..end`, its
/// depth, and the generated count before it was expanded. After a lost
/// device the CPU starts again from the last one the log covers.
#[derive(Clone, Copy, Debug)]
struct LevelMark {
    depth: u32,
    base: u64,
    end: u64,
    generated: u64,
}

/// The host's side of a device run between levels.
#[derive(Default)]
struct Books {
    /// Trace records received and not yet in the log.
    records: Vec<(u64, u32)>,
    marks: Vec<LevelMark>,
}

impl<F: Fingerprint> Engine<'_, F> {
    fn run_device(
        &mut self,
        dev: &mut Search,
        cpu: &dyn Backend<F>,
        on_failure: OnFailure,
        progress: &Progress,
        from: Option<Resume<F>>,
        report: &mut DeviceReport,
    ) -> Outcome {
        let (frontier, level_base, depth) = match self.start(from) {
            Ok(x) => x,
            Err(out) => return *out,
        };
        let mut books = Books::default();
        let run = self.device_levels(
            dev, cpu, progress, &mut books, frontier, level_base, depth, report,
        );
        match run {
            Ok(out) => out,
            Err((e, depth)) => self.fail(cpu, on_failure, progress, &mut books, depth, e, report),
        }
    }

    /// The level loop on the device, from `frontier` (after level `depth`).
    /// `Err` carries the failure and the last complete level's depth.
    #[allow(clippy::too_many_arguments)]
    fn device_levels(
        &mut self,
        dev: &mut Search,
        cpu: &dyn Backend<F>,
        progress: &Progress,
        books: &mut Books,
        mut frontier: Queue,
        mut level_base: u64,
        mut depth: u32,
        report: &mut DeviceReport,
    ) -> Result<Outcome, (Fail, u32)> {
        let mut n = frontier.len();
        self.mark(books, depth, level_base, n);
        match self.move_to_device(dev, &mut frontier) {
            Ok(true) => {}
            Ok(false) => {
                errln!("fathom: the first frontier does not fit the GPU; the CPU explores");
                return Ok(self.levels(cpu, progress, frontier, level_base, depth));
            }
            Err(e) => return Err((e, depth)),
        }
        progress.distinct.store(self.distinct(), Relaxed);
        let mut last_checkpoint = Instant::now();
        while n > 0 {
            depth += 1;
            progress.depth.store(u64::from(depth), Relaxed);
            progress.frontier.store(n, Relaxed);
            progress.expanded.store(0, Relaxed);
            let expand = self.config.max_depth.is_none_or(|m| depth < m);
            // A failure mid-level: the last complete level is the one before.
            let level = self
                .device_level(dev, books, progress, level_base, n, expand)
                .map_err(|e| (e, depth - 1))?;
            let next = match level {
                Some(next) => next,
                None => {
                    report.cpu_levels += 1;
                    match self.cpu_level(dev, books, cpu, progress, level_base, n, depth) {
                        Ok(Ok(next)) => next,
                        Ok(Err(out)) => return Ok(*out),
                        Err(e) => return Err((e, depth - 1)),
                    }
                }
            };
            if !expand {
                self.flush(dev, books).map_err(|e| (e, depth))?;
                return Ok(self.outcome(Status::Bounded, depth, None));
            }
            level_base += n;
            n = next;
            self.mark(books, depth, level_base, n);
            progress.distinct.store(self.distinct(), Relaxed);
            progress.generated.store(self.generated, Relaxed);
            if let Some(stop) = self.checkpoint_due(last_checkpoint) {
                match self.device_checkpoint(dev, books, level_base, n, depth, stop) {
                    Ok(Ok(())) => last_checkpoint = Instant::now(),
                    Ok(Err(out)) => return Ok(*out),
                    Err(e) => return Err((e, depth)),
                }
            }
        }
        self.flush(dev, books).map_err(|e| (e, depth))?;
        Ok(self.finish(depth))
    }

    /// The next frontier's level as met: `n` states from `base`, at `depth + 1`.
    fn mark(&self, books: &mut Books, depth: u32, base: u64, n: u64) {
        books.marks.push(LevelMark {
            depth: depth + 1,
            base,
            end: base + n,
            generated: self.generated,
        });
    }

    /// Distinct states: the host's store and the device's table.
    fn distinct(&self) -> u64 {
        self.visited.len() + self.on_device
    }

    /// Runs one level on the device. `Some(next)`: the next frontier's
    /// size; `None`: the level must go to the CPU (undone on the device).
    fn device_level(
        &mut self,
        dev: &mut Search,
        books: &mut Books,
        progress: &Progress,
        level_base: u64,
        n: u64,
        expand: bool,
    ) -> Result<Option<u64>, Fail> {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        assert!(n < u32::MAX, "a level holds fewer than 2^32 states");
        dev.begin_level();
        // This level's states that a spill took to the host: they join the
        // store when the level is done.
        let mut pending: MemoryTier<F> = MemoryTier::new();
        let (mut first, mut next_base) = (0u32, 0u32);
        let mut seg = dev.segment_capacity().min(n).max(1);
        // --continue: what was reported is not flagged again (a state that
        // violates something new sends the level to the CPU, which reports it).
        let skip = self.reported.iter().fold(0u32, |acc, r| match r {
            super::backend::Ident::Invariant(i) if *i < 32 => acc | 1 << i,
            _ => acc,
        });
        let deadlock =
            self.config.deadlock && !self.reported.contains(&super::backend::Ident::Deadlock);
        let (mut generated, mut reached) = (0u64, 0u64);
        // --coverage: the level's counts, kept only if the level completes here.
        let mut counted = gpu_kernels::search::CoverageCounts::default();
        while first < n {
            let count = seg.min(n - first);
            let s = SegmentIn {
                first,
                count,
                next_base,
                expand,
                deadlock,
                ddd: !self.visited.is_empty() || !pending.is_empty(),
                level_base,
                skip,
            };
            match dev.segment(&s, &mut books.records)? {
                SegmentEnd::Done(out) => {
                    generated += out.generated;
                    reached |= out.reachables;
                    add_counts(&mut counted.enabled, &out.coverage.enabled);
                    add_counts(&mut counted.premises, &out.coverage.premises);
                    let mut new = out.new;
                    if let Some(n) = out.ddd {
                        new = self.keep_new(dev, books, &pending, next_base, new, &n)?;
                    }
                    next_base += new;
                    first += count;
                    progress.chunk_done(u64::from(count), out.generated);
                    // Room for a segment like this one, or the table goes to
                    // the host now (rather than the next segment filling it
                    // and being undone).
                    if dev.table_count() + u64::from(out.new) > dev.table_room() {
                        self.spill_table(dev, &mut pending)?;
                    }
                    // A segment halved for room grows back.
                    seg = seg.saturating_mul(2).min(dev.segment_capacity()).max(1);
                }
                SegmentEnd::Flagged | SegmentEnd::Undecided => return Ok(None),
                SegmentEnd::TableFull if dev.table_count() > 0 => {
                    self.spill_table(dev, &mut pending)?;
                }
                SegmentEnd::TableFull | SegmentEnd::PoolFull if count > 1 => seg = count / 2,
                SegmentEnd::TableFull | SegmentEnd::PoolFull => return Ok(None),
            }
        }
        self.generated += generated;
        self.reached |= reached;
        if let Some(cov) = &mut self.coverage {
            cov.checked += u64::from(n);
            add_counts(&mut cov.enabled, &counted.enabled);
            add_counts(&mut cov.premises, &counted.premises);
        }
        // Found new against every tier when they came to the host.
        self.visited.insert_new(&pending.fingerprints());
        dev.end_level();
        self.on_device = dev.table_count();
        self.keep_within_budget()?;
        self.push_records(books);
        Ok(Some(u64::from(next_base)))
    }

    /// Delayed duplicate detection of a segment's new states: those the
    /// host holds (or the level sent it) go; returns how many stay.
    #[allow(clippy::too_many_arguments)]
    fn keep_new(
        &self,
        dev: &mut Search,
        books: &mut Books,
        pending: &MemoryTier<F>,
        next_base: u32,
        new: u32,
        states: &gpu_kernels::search::NewStates,
    ) -> Result<u32, Fail> {
        let records = &states.records;
        let fps: Vec<F> = states
            .fingerprints
            .chunks_exact(F::WORDS)
            .map(F::from_words)
            .collect();
        assert_eq!(fps.len(), new as usize, "a fingerprint per new state");
        assert_eq!(records.len(), new as usize, "a trace record per new state");
        let mut held: Vec<bool> = fps
            .par_iter()
            .map(|&f| self.visited.memory().contains(f) || pending.contains(f))
            .collect();
        if self.visited.has_disk_tier() {
            let mut order: Vec<usize> = (0..fps.len()).filter(|&i| !held[i]).collect();
            order.par_sort_unstable_by_key(|&i| fps[i]);
            let sorted: Vec<F> = order.iter().map(|&i| fps[i]).collect();
            let mut on_disk = vec![false; sorted.len()];
            self.visited.mark_on_disk(&sorted, &mut on_disk)?;
            for (&i, d) in order.iter().zip(on_disk) {
                held[i] |= d;
            }
        }
        let mut keep = vec![0u32; new.div_ceil(32) as usize];
        for (i, h) in held.iter().enumerate() {
            if !h {
                keep[i / 32] |= 1 << (i % 32);
                books.records.push(records[i]);
            }
        }
        Ok(dev.keep(next_base, new, &keep)?)
    }

    /// The table's fingerprints to the host: those of earlier levels join
    /// the store, this level's wait in `pending`; the table is emptied.
    fn spill_table(&mut self, dev: &mut Search, pending: &mut MemoryTier<F>) -> Result<(), Fail> {
        let (words, this_level) = dev.collect()?;
        let mut earlier = Vec::new();
        for (w, t) in words.chunks_exact(F::WORDS).zip(this_level) {
            let fp = F::from_words(w);
            if t {
                let new = pending.insert(fp);
                assert!(new, "the table and the host's store are disjoint");
            } else {
                earlier.push(fp);
            }
        }
        // The table and the host's store are disjoint (asserted there).
        self.visited.insert_new(&earlier);
        dev.clear_table()?;
        self.on_device = 0;
        self.keep_within_budget()?;
        Ok(())
    }

    /// Moves the frontier (and, when the table has room, the store's memory
    /// tier) to the device. `Ok(false)`: the frontier does not fit there.
    fn move_to_device(&mut self, dev: &mut Search, frontier: &mut Queue) -> Result<bool, Fail> {
        if frontier.len() > dev.frontier_capacity() {
            return Ok(false);
        }
        let words = self.layout.words as usize;
        let mut states = Vec::with_capacity(frontier.len() as usize * words);
        let mut reader = TileReader::default();
        while let Some(tile) = reader.next(frontier, &self.spill, usize::MAX / 2)? {
            states.extend_from_slice(&tile);
        }
        dev.upload_frontier(&states)?;
        let room = dev.table_room().saturating_sub(dev.table_count());
        let memory = self.visited.memory();
        if !memory.is_empty() && memory.len() <= room {
            let mut w = Vec::with_capacity(memory.len() as usize * F::WORDS);
            for fp in memory.fingerprints() {
                fp.push_words(&mut w);
            }
            dev.load(&w)?;
            // The table holds them now (`on_device` counts them).
            self.visited.take_memory();
        }
        self.on_device = dev.table_count();
        Ok(true)
    }

    /// The CPU expands level `depth` (the device flagged it): the store
    /// and the frontier come to the host, the level runs as on the CPU
    /// backend, and what it made goes back to the device. `Ok(Err(out))`:
    /// the search ended there (a violation, say).
    #[allow(clippy::too_many_arguments)]
    fn cpu_level(
        &mut self,
        dev: &mut Search,
        books: &mut Books,
        cpu: &dyn Backend<F>,
        progress: &Progress,
        level_base: u64,
        n: u64,
        depth: u32,
    ) -> Result<Result<u64, Ended>, Fail> {
        dev.rollback_level()?;
        self.flush(dev, books)?;
        assert_eq!(self.log.len(), level_base + n, "the log holds the level");
        books.records.clear();
        self.table_to_host(dev)?;
        let states = dev.download_frontier(n)?;
        let mut frontier = Queue::new(self.layout.words as usize, self.budget.queue_words);
        frontier.push(&states, &self.spill)?;
        let mut base = level_base;
        if let Err(out) = self.host_level(cpu, progress, &mut frontier, &mut base, depth) {
            return Ok(Err(out));
        }
        let next = frontier.len();
        if !self.move_to_device(dev, &mut frontier)? {
            // The next frontier is past the device's: the CPU goes on.
            errln!(
                "fathom: the frontier at depth {} does not fit the GPU; the CPU goes on",
                depth + 1
            );
            return Ok(Err(Box::new(
                self.levels(cpu, progress, frontier, base, depth),
            )));
        }
        Ok(Ok(next))
    }

    /// Every fingerprint of the table into the store's memory tier; the
    /// table emptied.
    fn table_to_host(&mut self, dev: &mut Search) -> Result<(), Fail> {
        let (words, this_level) = dev.collect()?;
        assert!(
            this_level.iter().all(|t| !t),
            "an undone level left nothing in the table"
        );
        let fps: Vec<F> = words.chunks_exact(F::WORDS).map(F::from_words).collect();
        // The table and the host's store are disjoint (asserted there).
        self.visited.insert_new(&fps);
        dev.clear_table()?;
        self.on_device = 0;
        self.keep_within_budget()?;
        Ok(())
    }

    /// All trace records off the device and into the log.
    fn flush(&mut self, dev: &mut Search, books: &mut Books) -> Result<(), Fail> {
        dev.take_records(&mut books.records)?;
        self.push_records(books);
        Ok(())
    }

    /// Moves received records into the log, up to the end of the last
    /// level they complete (a level's records enter the log together).
    fn push_records(&mut self, books: &mut Books) {
        let have = self.log.len() + books.records.len() as u64;
        let upto = books
            .marks
            .iter()
            .rev()
            .map(|m| m.end)
            .find(|&end| end <= have)
            .unwrap_or(0);
        if upto <= self.log.len() {
            return;
        }
        let take = (upto - self.log.len()) as usize;
        for (parent, instance) in books.records.drain(..take) {
            self.log.push(parent, instance);
            // --coverage: a new state, credited to the rule that found it.
            if let Some(cov) = &mut self.coverage {
                cov.found(self.model, instance);
            }
        }
    }

    /// A checkpoint at a level boundary: the records, the table's
    /// fingerprints and the frontier come to the host for it; the device
    /// keeps its own.
    fn device_checkpoint(
        &mut self,
        dev: &mut Search,
        books: &mut Books,
        level_base: u64,
        n: u64,
        depth: u32,
        stop: bool,
    ) -> Result<Result<(), Ended>, Fail> {
        self.flush(dev, books)?;
        assert_eq!(self.log.len(), level_base + n, "the log holds the frontier");
        let (words, _) = dev.collect()?;
        let host_part = self.visited.memory().clone();
        let fps: Vec<F> = words.chunks_exact(F::WORDS).map(F::from_words).collect();
        self.visited.insert_new(&fps);
        let states = dev.download_frontier(n)?;
        let mut frontier = Queue::new(self.layout.words as usize, self.budget.queue_words);
        frontier.push(&states, &self.spill)?;
        let on_device = std::mem::replace(&mut self.on_device, 0);
        let saved = self.checkpoint(&frontier, level_base, depth, stop);
        self.on_device = on_device;
        self.visited.restore_memory(host_part);
        Ok(saved)
    }

    /// A failure: of the store, or of the device. For the device, `--backend
    /// gpu` stops at the last complete level; `auto` has the CPU rebuild
    /// that level's store and frontier from the trace log and go on.
    #[allow(clippy::too_many_arguments)]
    fn fail(
        &mut self,
        cpu: &dyn Backend<F>,
        on_failure: OnFailure,
        progress: &Progress,
        books: &mut Books,
        depth: u32,
        e: Fail,
        report: &mut DeviceReport,
    ) -> Outcome {
        let e = match e {
            Fail::Store(e) => return self.store_failed(depth, e),
            Fail::Device(e) => e,
        };
        if on_failure == OnFailure::Stop {
            let mut out = self.outcome(Status::BackendFailed, depth, None);
            out.distinct = self.log.len();
            out.error = Some(e.to_string());
            return out;
        }
        errln!("fathom: {e}; going on with the CPU backend from the last complete level");
        report.fell_back = true;
        // The log holds whole levels; the last one it holds is the frontier.
        let held = self.log.len();
        let Some(mark) = books.marks.iter().rev().find(|m| m.end == held).copied() else {
            let mut out = self.outcome(Status::BackendFailed, depth, None);
            out.error = Some(format!("{e}; the trace log ends inside a level"));
            return out;
        };
        let frontier = match self.rebuild(mark) {
            Ok(f) => f,
            Err(e) => return self.store_failed(mark.depth, e),
        };
        self.on_device = 0;
        self.generated = mark.generated;
        self.levels(cpu, progress, frontier, mark.base, mark.depth - 1)
    }

    /// The store and the frontier of level `mark`, replayed from the trace
    /// log: every state up to the level's end, each from its parent by its
    /// rule instance, level by level (a level's parents are all in the
    /// level before it).
    fn rebuild(&mut self, mark: LevelMark) -> Result<Queue, StoreError> {
        let words = self.layout.words as usize;
        let mut stepper = Stepper::new(self.model);
        let initial = match stepper.initial_states() {
            Ok(s) => s,
            Err(e) => panic!("internal error: initial states failed on replay: {e:?}"),
        };
        let layout = &self.layout;
        let mut memory: MemoryTier<F> = MemoryTier::new();
        let (mut prev, mut cur) = (Vec::<u32>::new(), Vec::<u32>::new());
        let (mut prev_base, mut cur_base) = (0u64, 0u64);
        let mut slots = vec![0i64; self.model.state_len as usize];
        let mut next = Vec::new();
        let mut packed = vec![0u32; words];
        let replay = self
            .log
            .store()
            .for_each(&self.spill, |id, parent, instance| {
                if id >= mark.end {
                    return Ok(());
                }
                if parent == u64::MAX {
                    layout.pack(&initial[instance as usize], &mut packed);
                } else {
                    if parent >= cur_base {
                        // The first state of a new level.
                        prev = std::mem::take(&mut cur);
                        prev_base = cur_base;
                        cur_base = id;
                    }
                    let at = ((parent - prev_base) as usize) * words;
                    layout.unpack(&prev[at..at + words], &mut slots);
                    match stepper.fire(u64::from(instance), &slots, &mut next) {
                        Ok(Fired::Enabled) => {}
                        other => return Err(format!("replaying state {id}: {other:?}")),
                    }
                    layout.pack(&next, &mut packed);
                }
                cur.extend_from_slice(&packed);
                if !memory.insert(F::of_state(&packed)) {
                    return Err(format!("replayed state {id} was seen before"));
                }
                Ok(())
            });
        if let Err(e) = replay {
            match e {
                state_store::log::LogError::Store(e) => return Err(e),
                state_store::log::LogError::Invalid(why) => {
                    panic!("internal error: rebuilding from the trace log: {why}")
                }
            }
        }
        assert_eq!(cur_base, mark.base, "the replay ends with the level");
        let old = std::mem::replace(&mut self.visited, FingerprintSet::from_memory(memory));
        for (name, _) in old.runs() {
            self.spill.retire(name);
        }
        let mut frontier = Queue::new(words, self.budget.queue_words);
        frontier.push(&cur, &self.spill)?;
        self.keep_within_budget()?;
        Ok(frontier)
    }
}

/// `total[i] += add[i]`, `total` grown to `add`'s length.
fn add_counts(total: &mut Vec<u64>, add: &[u64]) {
    if total.len() < add.len() {
        total.resize(add.len(), 0);
    }
    for (t, a) in total.iter_mut().zip(add) {
        *t += a;
    }
}
