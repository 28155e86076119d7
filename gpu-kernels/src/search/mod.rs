//! The search on the device: the frontier, the next frontier and the
//! visited table live in device memory between levels, and a level runs
//! as one submission of kernels (`kernels`) per segment of the frontier,
//! with one small blocking read: the segment's counters, and the trace
//! records of the segment before it (copied in this submission, so the
//! device never waits for the host). The table is authoritative: a state
//! it holds is not new. What the host must decide goes through this
//! type's methods, which the engine's device driver
//! (`checker::engine::device`) calls:
//!
//! - a *flagged* segment (a state the GPU cannot judge: an error, a
//!   violation, a deadlock, an i32 overflow) is undone, and the engine
//!   gives the level to the CPU;
//! - a segment that runs out of table, pool or retry room is undone, and
//!   the engine spills the table to its store or halves the segment;
//! - with fingerprints in the host's store (after a spill, or a resume
//!   with disk runs), a segment's new states come back as fingerprints,
//!   and the host's keep mask compacts them (delayed duplicate detection).

pub mod kernels;

use std::collections::HashMap;
use std::sync::Arc;

use kernels::{
    EPOCH_FIRST, KernelSource, Params, RETRY_PASSES, Role, SCAN_BLOCK, Scheme, Shape, Split, WG,
    ctr,
};
use model::Model;

use crate::codegen::{self, Options, Unsupported};
use crate::device::{Gpu, GpuError};

/// How to size a [`Search`]; `None`s take the defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sizing {
    /// Device memory to use in all. Default: 256 MiB on a software
    /// adapter; on hardware the largest of 96, 64, 48, 32, ... GiB that
    /// the device lets us allocate.
    pub memory_bytes: Option<u64>,
    /// The visited table's share (default: half of the memory).
    pub table_bytes: Option<u64>,
    /// A cap on each storage buffer, below the device's binding limit
    /// (tests use it to split every array over several buffers).
    pub binding_bytes: Option<u64>,
    /// The 32-bit table even where 64-bit atomics exist (tests).
    pub words32: bool,
    /// Each invocation probes the table alone even where the subgroup
    /// could probe together (tests, and benchmarks of the two: the binary
    /// sets it for `FATHOM_GPU_PROBE=thread`).
    pub thread_probes: bool,
    /// A fault to inject, for the tests of what the host does about it
    /// (the binary reads `FATHOM_GPU_FAULT`; the library reads no
    /// environment).
    pub fault: Option<Fault>,
}

/// An injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An allocation no device can satisfy, before anything is built.
    Alloc,
    /// The device is destroyed before expand dispatch N (a real device
    /// loss, as wgpu reports it).
    LoseAt(u64),
}

impl Fault {
    /// Reads `alloc` or `lose-at:N`.
    pub fn parse(text: &str) -> Option<Fault> {
        match text {
            "alloc" => Some(Fault::Alloc),
            _ => text
                .strip_prefix("lose-at:")
                .and_then(|n| n.parse().ok())
                .map(Fault::LoseAt),
        }
    }
}

/// What crossed the host-device boundary, and how often the host waited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transfers {
    pub levels: u64,
    pub bytes_to_host: u64,
    pub bytes_to_device: u64,
    pub blocking_reads: u64,
    pub submits: u64,
}

/// What the device did, for reports and tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub transfers: Transfers,
    pub segments: u64,
    /// Segments undone (table, pool or retry room ran out) and run again.
    pub segments_undone: u64,
    pub expand_dispatches: u64,
    /// Times the table went to the host's store.
    pub spills: u64,
    pub table_slots: u64,
    /// Fingerprints the table holds (counted ones).
    pub table_count: u64,
    pub scheme_64: bool,
    /// The table's buckets are probed by the subgroup together.
    pub cooperative: bool,
    /// Successors a workgroup's own table caught before the global one.
    pub workgroup_duplicates: u64,
    /// Device memory the search allocated.
    pub device_bytes: u64,
}

/// A segment of a level: frontier states `first..first + count`.
#[derive(Clone, Copy, Debug)]
pub struct SegmentIn {
    pub first: u32,
    pub count: u32,
    /// Where its new states go in the next frontier.
    pub next_base: u32,
    /// False at `--max-depth`: states are checked, not expanded.
    pub expand: bool,
    pub deadlock: bool,
    /// The host's store holds fingerprints the table does not: return the
    /// new states' fingerprints for it to check.
    pub ddd: bool,
    /// The id of the level's first state (trace records carry global ids).
    pub level_base: u64,
    /// Bit i: invariant i (of the first 32) is not checked: `--continue`
    /// has reported it.
    pub skip: u32,
}

/// How a segment ended.
#[derive(Debug)]
pub enum SegmentEnd {
    Done(SegmentOut),
    /// A state needs the CPU; the segment was undone.
    Flagged,
    /// An insert found no free slot (or a retry list overflowed); undone.
    TableFull,
    /// More new states than the pool (or the next frontier) takes; undone.
    PoolFull,
    /// A retry stayed undecided after every pass; undone.
    Undecided,
}

#[derive(Debug, Default)]
pub struct SegmentOut {
    /// New states, placed at `next_base..`.
    pub new: u32,
    pub generated: u64,
    pub reachables: u64,
    /// With `ddd`: the new states' trace records and fingerprints, for
    /// the host to decide.
    pub ddd: Option<NewStates>,
    /// With `--coverage`: the segment's counts (empty without).
    pub coverage: CoverageCounts,
}

/// What the expand kernel counted for `--coverage`, reduced per workgroup.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CoverageCounts {
    /// Per rule, the instances enabled in the expanded states.
    pub enabled: Vec<u64>,
    /// Per invariant (the first [`crate::codegen::COVERAGE_PREMISES`]),
    /// the expanded states where its premise held.
    pub premises: Vec<u64>,
}

/// A segment's new states as the host sees them under delayed duplicate
/// detection.
#[derive(Debug, Default)]
pub struct NewStates {
    /// (parent id, rule instance), in the next frontier's order.
    pub records: Vec<(u64, u32)>,
    /// FPW words each, low word first.
    pub fingerprints: Vec<u32>,
}

/// The kernels, by name, in `kernels::all`'s order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum K {
    Expand = 0,
    Mark,
    ScanUp,
    ScanTop,
    ScanDown,
    Place,
    Rollback,
    Collect,
    Load,
    CompactGather,
    CompactScatter,
    Args,
    Retry,
}

/// Bytes of the counters' copy at the start of the staging buffer: the
/// counters (with `--coverage`'s after them), rounded up to 256.
fn summary_bytes(sh: &Shape) -> u64 {
    ((sh.counter_words() * 4) as u64).next_multiple_of(256)
}
/// Parameter blocks per submission (each 256 bytes, the uniform alignment).
const PARAM_SLOTS: usize = 512;
/// Indirect argument triples per submission.
const INDIRECT_SLOTS: u32 = 64;
/// Workgroups along x of an indirect dispatch (see the `args` kernel).
const INDIRECT_NX: u32 = 65535;

struct Buffers {
    frontier: [Vec<wgpu::Buffer>; 2],
    table: Vec<wgpu::Buffer>,
    pool: Vec<wgpu::Buffer>,
    bits: wgpu::Buffer,
    offs: wgpu::Buffer,
    scratch: wgpu::Buffer,
    trace: wgpu::Buffer,
    ddd: wgpu::Buffer,
    retry: [wgpu::Buffer; 2],
    indirect: wgpu::Buffer,
    counters: wgpu::Buffer,
    params: wgpu::Buffer,
    staging: wgpu::Buffer,
}

/// One spec's search on one device.
pub struct Search {
    gpu: Arc<Gpu>,
    pub shape: Shape,
    kernels: Vec<(KernelSource, wgpu::ComputePipeline, wgpu::BindGroupLayout)>,
    bufs: Buffers,
    groups: HashMap<(usize, u8, u8, u16), wgpu::BindGroup>,
    /// Which frontier is the current one.
    parity: usize,
    /// The next dispatch's epoch.
    epoch: u32,
    level_first_epoch: u32,
    table_count_at_level: u64,
    /// Trace records on the device not yet copied: (count, level base).
    pending: Option<(u32, u64)>,
    /// States each expand dispatch covers at most.
    dispatch_states: u32,
    stats: Stats,
    /// Fault injection: make the device lost before this expand dispatch.
    lose_at: Option<u64>,
}

/// A submission being recorded: its commands and parameter blocks.
struct Rec {
    enc: wgpu::CommandEncoder,
    params: Vec<Params>,
    indirect: u32,
}

impl Search {
    /// Builds the kernels and buffers for `model`, within the device's
    /// limits and memory.
    pub fn new(
        gpu: Arc<Gpu>,
        model: &Model,
        opts: Options,
        sizing: Sizing,
    ) -> Result<Search, GpuError> {
        if sizing.fault == Some(Fault::Alloc) {
            // A buffer no device can hold.
            gpu.buffer("injected", u64::MAX / 4, wgpu::BufferUsages::STORAGE)?;
        }
        let lose_at = match sizing.fault {
            Some(Fault::LoseAt(n)) => Some(n),
            _ => None,
        };
        let code = codegen::generate(model, opts)?;
        let budgets: Vec<u64> = match (sizing.memory_bytes, gpu.software) {
            (Some(m), _) => vec![m],
            (None, true) => vec![256 << 20],
            (None, false) => [96u64, 64, 48, 32, 24, 16, 12, 8, 6, 4, 2, 1]
                .iter()
                .map(|g| g << 30)
                .collect(),
        };
        let mut last = None;
        for budget in budgets {
            let shape = plan(&gpu, code.clone(), &sizing, budget)?;
            match Buffers::new(&gpu, &shape) {
                Ok(bufs) => return Search::with(gpu, shape, bufs, lose_at),
                Err(e @ GpuError::Alloc(_)) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| GpuError::Alloc("no memory budget was tried".into())))
    }

    fn with(
        gpu: Arc<Gpu>,
        shape: Shape,
        bufs: Buffers,
        lose_at: Option<u64>,
    ) -> Result<Search, GpuError> {
        let mut kernels = Vec::new();
        for k in kernels::all(&shape) {
            let layout = bind_group_layout(&gpu, &k);
            let p = gpu.pipeline(k.name, &k.source, Some(&layout))?;
            kernels.push((k, p, layout));
        }
        let i = shape.model.instances.max(1);
        let dispatch_states = (u32::MAX - 1) / i;
        let most = if gpu.software { 1 << 16 } else { 1 << 22 };
        let stats = Stats {
            table_slots: u64::from(shape.table_slots),
            scheme_64: shape.scheme == Scheme::Key64,
            cooperative: shape.subgroups,
            device_bytes: bufs.bytes(),
            ..Stats::default()
        };
        gpu.check()?;
        Ok(Search {
            gpu,
            dispatch_states: dispatch_states.min(most),
            shape,
            kernels,
            bufs,
            groups: HashMap::new(),
            parity: 0,
            epoch: EPOCH_FIRST,
            level_first_epoch: EPOCH_FIRST,
            table_count_at_level: 0,
            pending: None,
            stats,
            lose_at,
        })
    }

    /// Whether the kernels keep successors as their orbits'
    /// representatives (built with `Options::symmetry` for a spec with
    /// symmetric types).
    pub fn symmetric(&self) -> bool {
        self.shape.model.symmetric
    }

    /// Whether the kernels count rules and premises (`--coverage`).
    pub fn counts_coverage(&self) -> bool {
        self.shape.model.coverage
    }

    pub fn device_name(&self) -> &str {
        &self.gpu.name
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// States of a frontier the device holds.
    pub fn frontier_capacity(&self) -> u64 {
        self.shape.frontier.capacity()
    }

    /// Frontier states one segment can take.
    pub fn segment_capacity(&self) -> u32 {
        let items = u64::from(self.shape.items_cap) / u64::from(self.shape.r);
        items
            .min(self.shape.frontier.capacity())
            .min(u64::from(u32::MAX)) as u32
    }

    /// Fingerprints the table holds, and how many it may hold before the
    /// engine should spill it (three quarters of its slots).
    pub fn table_count(&self) -> u64 {
        self.stats.table_count
    }

    pub fn table_room(&self) -> u64 {
        u64::from(self.shape.table_slots) / 4 * 3
    }

    /// Replaces the current frontier by `states` (packed, `words` each).
    pub fn upload_frontier(&mut self, states: &[u32]) -> Result<(), GpuError> {
        let w = self.shape.model.words as usize;
        assert_eq!(states.len() % w.max(1), 0, "a frontier of whole states");
        let n = states.len() / w.max(1);
        if n as u64 > self.shape.frontier.capacity() {
            return Err(GpuError::Alloc(format!(
                "a frontier of {n} states is past the device's {}",
                self.shape.frontier.capacity()
            )));
        }
        let per = self.shape.frontier.per_buffer as usize * w;
        for (k, part) in states.chunks(per.max(1)).enumerate() {
            self.gpu.queue.write_buffer(
                &self.bufs.frontier[self.parity][k],
                0,
                bytemuck::cast_slice(part),
            );
        }
        self.stats.transfers.bytes_to_device += states.len() as u64 * 4;
        self.gpu.check()
    }

    /// The current frontier's first `count` states.
    pub fn download_frontier(&mut self, count: u64) -> Result<Vec<u32>, GpuError> {
        let w = u64::from(self.shape.model.words);
        let per = u64::from(self.shape.frontier.per_buffer);
        let chunk = (self.bufs.staging.size() / 4 / w.max(1)).max(1);
        let mut out = Vec::with_capacity((count * w) as usize);
        let mut at = 0u64;
        while at < count {
            let b = (at / per) as usize;
            let j = at % per;
            let n = chunk.min(count - at).min(per - j);
            let mut enc = self.gpu.device.create_command_encoder(&Default::default());
            enc.copy_buffer_to_buffer(
                &self.bufs.frontier[self.parity][b],
                j * w * 4,
                &self.bufs.staging,
                0,
                n * w * 4,
            );
            self.submit(enc);
            out.extend(self.read(n * w * 4)?);
            at += n;
        }
        assert_eq!(out.len() as u64, count * w, "the frontier's states, whole");
        Ok(out)
    }

    /// Marks the start of a level (what `rollback_level` undoes to).
    pub fn begin_level(&mut self) {
        self.level_first_epoch = self.epoch;
        self.table_count_at_level = self.stats.table_count;
    }

    /// The next frontier becomes the current one.
    pub fn end_level(&mut self) {
        self.parity ^= 1;
        self.stats.transfers.levels += 1;
    }

    /// Undoes the level's inserts: the table as the level found it.
    pub fn rollback_level(&mut self) -> Result<(), GpuError> {
        assert!(
            self.level_first_epoch <= self.epoch,
            "the level began at an earlier epoch"
        );
        self.rollback(self.level_first_epoch)?;
        self.stats.table_count = self.table_count_at_level;
        Ok(())
    }

    /// Runs one segment: one submission and one blocking read (two with
    /// `ddd`). Trace records of the segment before come back in `earlier`
    /// order through [`Search::take_records`].
    pub fn segment(
        &mut self,
        s: &SegmentIn,
        records: &mut Vec<(u64, u32)>,
    ) -> Result<SegmentEnd, GpuError> {
        let sh = &self.shape;
        let items = u64::from(s.count) * u64::from(sh.r);
        assert!(
            items <= u64::from(sh.items_cap) && s.count > 0,
            "a segment fits the item bitmap"
        );
        assert!(
            u64::from(s.first) + u64::from(s.count) <= sh.frontier.capacity(),
            "a segment lies in the frontier"
        );
        let room = sh.frontier.capacity() - u64::from(s.next_base);
        let pool_limit = u64::from(sh.pool.per_buffer)
            .saturating_mul(u64::from(sh.pool.buffers))
            .min(u64::from(sh.out_cap))
            .min(room)
            .min(u64::from(u32::MAX)) as u32;
        self.stats.segments += 1;
        let seg_first_epoch = self.epoch;
        let mut rec = self.begin();
        let pending = self.copy_pending(&mut rec);
        rec.enc.clear_buffer(&self.bufs.counters, 0, None);
        rec.enc.clear_buffer(&self.bufs.bits, 0, Some(items * 4));
        // Expand, dispatch by dispatch, each with its own epoch.
        let mut first = s.first;
        let end = s.first + s.count;
        while first < end {
            let n = self.dispatch_states.min(end - first);
            self.stats.expand_dispatches += 1;
            if self
                .lose_at
                .is_some_and(|at| self.stats.expand_dispatches >= at)
            {
                self.gpu.destroy();
            }
            let epoch = self.next_epoch();
            let p = Params {
                count: n,
                first,
                seg_first: s.first,
                epoch,
                expand: u32::from(s.expand),
                deadlock: u32::from(s.deadlock),
                skip: s.skip,
                pool_limit,
                ..Params::default()
            };
            self.dispatch(
                &mut rec,
                K::Expand,
                0,
                p,
                u64::from(n) * u64::from(self.shape.r),
            );
            if self.shape.scheme == Scheme::Words32 {
                self.retries(&mut rec, pool_limit);
            }
            first += n;
        }
        // Owners into the bitmap; places by a prefix sum; states to places.
        let mark = Params {
            seg_first: s.first,
            aux: s.count,
            pool_limit,
            ..Params::default()
        };
        self.indirect(&mut rec, K::Mark, 0, mark, ctr::POOL as u32, pool_limit);
        self.scan(&mut rec, items as u32);
        let place = Params {
            seg_first: s.first,
            next_base: s.next_base,
            pool_limit,
            ddd: u32::from(s.ddd),
            ..Params::default()
        };
        self.indirect(&mut rec, K::Place, 0, place, ctr::POOL as u32, pool_limit);
        self.copy_counters(&mut rec);
        let pending_bytes = pending.map_or(0, |(n, _)| u64::from(n) * 8);
        self.finish(rec);
        let summary = summary_bytes(&self.shape);
        let words = self.read(summary + pending_bytes)?;
        let (c, rest) = words.split_at((summary / 4) as usize);
        if let Some((n, base)) = pending {
            push_records(records, &rest[..n as usize * 2], base);
        }
        self.outcome(s, c, seg_first_epoch, pool_limit)
    }

    /// The segment's end from its counters.
    fn outcome(
        &mut self,
        s: &SegmentIn,
        c: &[u32],
        seg_first_epoch: u32,
        pool_limit: u32,
    ) -> Result<SegmentEnd, GpuError> {
        if c[ctr::BAD] != 0 {
            return Err(GpuError::Device(format!(
                "the search kernels' output is inconsistent ({} times)",
                c[ctr::BAD]
            )));
        }
        let undo = if c[ctr::FLAGS] != 0 {
            Some(SegmentEnd::Flagged)
        } else if c[ctr::FULL] != 0 || c[ctr::RETRY_OVER] != 0 {
            Some(SegmentEnd::TableFull)
        } else if c[ctr::RETRY_LEFT] != 0 {
            Some(SegmentEnd::Undecided)
        } else if c[ctr::POOL_OVER] != 0 || c[ctr::POOL] > pool_limit {
            Some(SegmentEnd::PoolFull)
        } else {
            None
        };
        if let Some(end) = undo {
            self.stats.segments_undone += 1;
            self.rollback(seg_first_epoch)?;
            return Ok(end);
        }
        let new = c[ctr::POOL];
        if c[ctr::TOTAL] != new {
            return Err(GpuError::Device(format!(
                "the device placed {} new states of {new}",
                c[ctr::TOTAL]
            )));
        }
        self.stats.table_count += u64::from(new);
        self.stats.workgroup_duplicates +=
            u64::from(c[ctr::LOCAL_DUPS]) | u64::from(c[ctr::LOCAL_DUPS + 1]) << 32;
        let out = SegmentOut {
            new,
            generated: u64::from(c[ctr::GEN_LO]) | u64::from(c[ctr::GEN_HI]) << 32,
            reachables: u64::from(c[ctr::REACH_LO]) | u64::from(c[ctr::REACH_HI]) << 32,
            ddd: None,
            coverage: self.coverage_counts(c),
        };
        if !s.ddd || new == 0 {
            self.pending = (new > 0).then_some((new, s.level_base));
            return Ok(SegmentEnd::Done(out));
        }
        // The host decides: records and fingerprints back now.
        let de = u64::from(self.shape.ddd_words());
        let n = u64::from(new);
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&self.bufs.trace, 0, &self.bufs.staging, 0, n * 8);
        enc.copy_buffer_to_buffer(&self.bufs.ddd, 0, &self.bufs.staging, n * 8, n * de * 4);
        self.submit(enc);
        let words = self.read(n * 8 + n * de * 4)?;
        let (t, f) = words.split_at((n * 2) as usize);
        let mut recs = Vec::with_capacity(new as usize);
        push_records(&mut recs, t, s.level_base);
        let fpw = self.shape.model.fp_words as usize;
        let fps: Vec<u32> = f
            .chunks_exact(de as usize)
            .flat_map(|e| &e[..fpw])
            .copied()
            .collect();
        Ok(SegmentEnd::Done(SegmentOut {
            ddd: Some(NewStates { records: recs, fingerprints: fps }),
            ..out
        }))
    }

    /// Copies trace records still on the device to the host (one blocking
    /// read), appending them to `records`.
    pub fn take_records(&mut self, records: &mut Vec<(u64, u32)>) -> Result<(), GpuError> {
        let Some((n, base)) = self.pending.take() else {
            return Ok(());
        };
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&self.bufs.trace, 0, &self.bufs.staging, 0, u64::from(n) * 8);
        self.submit(enc);
        let words = self.read(u64::from(n) * 8)?;
        assert_eq!(words.len(), n as usize * 2, "two words per trace record");
        push_records(records, &words, base);
        Ok(())
    }

    /// Delayed duplicate detection's verdict on the last segment's `new`
    /// states at `next_base`: `keep` bit i (of u32 words) keeps state i.
    /// The kept close up in order; the others stay in the table, marked as
    /// held by the host. Returns how many were kept.
    pub fn keep(&mut self, next_base: u32, new: u32, keep: &[u32]) -> Result<u32, GpuError> {
        assert_eq!(keep.len(), new.div_ceil(32) as usize, "a bit per new state");
        let kept: u32 = keep.iter().map(|w| w.count_ones()).sum();
        assert!(kept <= new, "the kept are among the new");
        self.gpu
            .queue
            .write_buffer(&self.bufs.bits, 0, bytemuck::cast_slice(keep));
        self.stats.transfers.bytes_to_device += keep.len() as u64 * 4;
        let mut rec = self.begin();
        self.scan(&mut rec, keep.len() as u32);
        let g = Params { count: new, next_base, ..Params::default() };
        self.dispatch(&mut rec, K::CompactGather, 0, g, u64::from(new));
        let sc = Params { count: kept, next_base, ..Params::default() };
        self.dispatch(&mut rec, K::CompactScatter, 0, sc, u64::from(kept));
        self.finish(rec);
        self.stats.table_count -= u64::from(new - kept);
        Ok(kept)
    }

    /// The table's counted fingerprints (FPW words each), each with
    /// whether it was inserted in the current level. The table is left as
    /// it is.
    pub fn collect(&mut self) -> Result<(Vec<u32>, Vec<bool>), GpuError> {
        let total = u64::from(self.shape.table_slots);
        let range = u64::from(self.shape.out_cap);
        let de = self.shape.ddd_words() as usize;
        let fpw = self.shape.model.fp_words as usize;
        let mut fps = Vec::with_capacity(self.stats.table_count as usize * fpw);
        let mut this_level = Vec::with_capacity(self.stats.table_count as usize);
        let mut at = 0u64;
        while at < total {
            let n = range.min(total - at) as u32;
            let mut rec = self.begin();
            rec.enc.clear_buffer(&self.bufs.counters, 0, None);
            let p = Params {
                count: n,
                first: at as u32,
                aux: self.level_first_epoch,
                pool_limit: self.shape.out_cap,
                ..Params::default()
            };
            self.dispatch(&mut rec, K::Collect, 0, p, u64::from(n));
            self.copy_counters(&mut rec);
            self.finish(rec);
            let c = self.read(summary_bytes(&self.shape))?;
            if c[ctr::BAD] != 0 {
                return Err(GpuError::Device("collecting the table overflowed".into()));
            }
            let got = u64::from(c[ctr::COLLECTED]);
            if got > 0 {
                let mut enc = self.gpu.device.create_command_encoder(&Default::default());
                let bytes = got * de as u64 * 4;
                enc.copy_buffer_to_buffer(&self.bufs.ddd, 0, &self.bufs.staging, 0, bytes);
                self.submit(enc);
                let words = self.read(bytes)?;
                assert_eq!(words.len(), got as usize * de, "whole collected entries");
                for e in words.chunks_exact(de) {
                    fps.extend_from_slice(&e[..fpw]);
                    this_level.push(e[fpw] != 0);
                }
            }
            at += u64::from(n);
        }
        if this_level.len() as u64 != self.stats.table_count {
            return Err(GpuError::Device(format!(
                "the table holds {} fingerprints, {} were counted",
                this_level.len(),
                self.stats.table_count
            )));
        }
        Ok((fps, this_level))
    }

    /// Empties the table (after its fingerprints went to the host).
    pub fn clear_table(&mut self) -> Result<(), GpuError> {
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        for t in &self.bufs.table {
            enc.clear_buffer(t, 0, None);
        }
        self.submit(enc);
        self.stats.table_count = 0;
        self.table_count_at_level = 0;
        self.stats.spills += 1;
        self.gpu.check()
    }

    /// Inserts fingerprints the host holds (FPW words each, none of them
    /// in the table, no two equal), as visited before this level.
    pub fn load(&mut self, fps: &[u32]) -> Result<(), GpuError> {
        let fpw = self.shape.model.fp_words as usize;
        let de = self.shape.ddd_words() as usize;
        assert_eq!(fps.len() % fpw, 0, "whole fingerprints");
        let n = (fps.len() / fpw) as u64;
        if self.stats.table_count + n > self.table_room() {
            return Err(GpuError::Alloc(format!(
                "{n} fingerprints do not fit the device's table"
            )));
        }
        let mut rec = self.begin();
        rec.enc.clear_buffer(&self.bufs.counters, 0, None);
        self.finish(rec);
        for part in fps.chunks(self.shape.out_cap as usize * fpw) {
            let m = part.len() / fpw;
            let mut words = vec![0u32; m * de];
            for (dst, src) in words.chunks_exact_mut(de).zip(part.chunks_exact(fpw)) {
                dst[..fpw].copy_from_slice(src);
            }
            self.gpu
                .queue
                .write_buffer(&self.bufs.ddd, 0, bytemuck::cast_slice(&words));
            self.stats.transfers.bytes_to_device += words.len() as u64 * 4;
            let mut rec = self.begin();
            let p = Params { count: m as u32, ..Params::default() };
            self.dispatch(&mut rec, K::Load, 0, p, m as u64);
            self.finish(rec);
        }
        let mut rec = self.begin();
        self.copy_counters(&mut rec);
        self.finish(rec);
        let c = self.read(summary_bytes(&self.shape))?;
        if u64::from(c[ctr::CLAIMS]) != n || c[ctr::FULL] != 0 {
            return Err(GpuError::Device(format!(
                "loading {n} fingerprints into the table inserted {} ({} found no slot)",
                c[ctr::CLAIMS],
                c[ctr::FULL]
            )));
        }
        self.stats.table_count += n;
        self.table_count_at_level = self.stats.table_count;
        Ok(())
    }

    /// Records the copy of the counters to the staging buffer's start.
    fn copy_counters(&self, rec: &mut Rec) {
        rec.enc.copy_buffer_to_buffer(
            &self.bufs.counters,
            0,
            &self.bufs.staging,
            0,
            (self.shape.counter_words() * 4) as u64,
        );
    }

    /// `--coverage`'s counts in a segment's counters (empty without).
    fn coverage_counts(&self, c: &[u32]) -> CoverageCounts {
        let m = &self.shape.model;
        let at = |k: usize| {
            let i = ctr::COVERAGE + 2 * k;
            u64::from(c[i]) | u64::from(c[i + 1]) << 32
        };
        let rules = m.coverage_rules as usize;
        CoverageCounts {
            enabled: (0..rules).map(at).collect(),
            premises: (0..m.coverage_premises as usize)
                .map(|k| at(rules + k))
                .collect(),
        }
    }

    fn next_epoch(&mut self) -> u32 {
        let e = self.epoch;
        assert!(e < u32::MAX - 1, "fewer than 2^32 dispatches");
        self.epoch += 1;
        e
    }

    /// Empties the slots claimed at `from` or later.
    fn rollback(&mut self, from: u32) -> Result<(), GpuError> {
        let mut rec = self.begin();
        let p = Params {
            count: self.shape.table_slots,
            first: 0,
            aux: from,
            ..Params::default()
        };
        self.dispatch(
            &mut rec,
            K::Rollback,
            0,
            p,
            u64::from(self.shape.table_slots),
        );
        self.finish(rec);
        self.gpu.check()
    }

    fn begin(&self) -> Rec {
        Rec {
            enc: self.gpu.device.create_command_encoder(&Default::default()),
            params: Vec::new(),
            indirect: 0,
        }
    }

    /// Writes the submission's parameter blocks and submits it.
    fn finish(&mut self, rec: Rec) {
        if !rec.params.is_empty() {
            let mut bytes = vec![0u8; rec.params.len() * 256];
            for (i, p) in rec.params.iter().enumerate() {
                bytes[i * 256..i * 256 + std::mem::size_of::<Params>()]
                    .copy_from_slice(bytemuck::bytes_of(p));
            }
            self.gpu.queue.write_buffer(&self.bufs.params, 0, &bytes);
            self.stats.transfers.bytes_to_device += bytes.len() as u64;
        }
        self.submit(rec.enc);
    }

    fn submit(&mut self, enc: wgpu::CommandEncoder) {
        self.gpu.queue.submit([enc.finish()]);
        self.stats.transfers.submits += 1;
    }

    /// A blocking read of the staging buffer's first `bytes`.
    fn read(&mut self, bytes: u64) -> Result<Vec<u32>, GpuError> {
        assert!(
            bytes <= self.bufs.staging.size(),
            "a read fits the staging buffer"
        );
        assert_eq!(bytes % 4, 0, "reads are of whole words");
        self.stats.transfers.blocking_reads += 1;
        self.stats.transfers.bytes_to_host += bytes;
        self.gpu.read(&self.bufs.staging, bytes)
    }

    /// Records the copy of the last segment's trace records to the staging
    /// buffer, after the counters.
    fn copy_pending(&mut self, rec: &mut Rec) -> Option<(u32, u64)> {
        let (n, base) = self.pending.take()?;
        rec.enc.copy_buffer_to_buffer(
            &self.bufs.trace,
            0,
            &self.bufs.staging,
            summary_bytes(&self.shape),
            u64::from(n) * 8,
        );
        Some((n, base))
    }

    /// The retry passes after an expand dispatch (32-bit table).
    fn retries(&mut self, rec: &mut Rec, pool_limit: u32) {
        let cap = self.shape.retry_cap;
        let lists = [ctr::RETRY_A as u32, ctr::RETRY_B as u32];
        for pass in 0..RETRY_PASSES {
            // Pass 0 reads list A (swap 0), pass 1 list B (swap 1), ...
            let swap = (pass % 2) as u8;
            let (src, dst) = (lists[swap as usize], lists[1 - swap as usize]);
            let slot = self.args(rec, src, cap, dst);
            let p = Params {
                src,
                dst,
                pool_limit,
                nx: INDIRECT_NX,
                ..Params::default()
            };
            self.dispatch_indirect(rec, K::Retry, swap, p, slot);
        }
        let last = lists[(RETRY_PASSES % 2) as usize];
        let close = Params {
            mode: 1,
            src: last,
            pool_limit: cap,
            ..Params::default()
        };
        self.dispatch(rec, K::Args, 0, close, 1);
    }

    /// An `args` dispatch: the indirect arguments for `min(C[counter],
    /// limit)` elements; empties counter `zero` (or none). Returns the
    /// argument slot.
    fn args(&mut self, rec: &mut Rec, counter: u32, limit: u32, zero: u32) -> u32 {
        let slot = rec.indirect;
        assert!(slot < INDIRECT_SLOTS, "indirect argument slots suffice");
        rec.indirect += 1;
        let p = Params {
            src: counter,
            dst: slot,
            pool_limit: limit,
            aux: zero,
            ..Params::default()
        };
        self.dispatch(rec, K::Args, 0, p, 1);
        slot
    }

    /// A kernel over a count the device holds (counter `counter`).
    fn indirect(&mut self, rec: &mut Rec, k: K, swap: u8, mut p: Params, counter: u32, limit: u32) {
        let slot = self.args(rec, counter, limit, u32::MAX);
        p.nx = INDIRECT_NX;
        self.dispatch_indirect(rec, k, swap, p, slot);
    }

    /// The exclusive prefix sum of the bitmap's popcounts over `n` words,
    /// into `Offs`; the total into the counters.
    fn scan(&mut self, rec: &mut Rec, n: u32) {
        let blocks = n.div_ceil(SCAN_BLOCK).max(1);
        let up = Params { count: n, mode: 0, dst: 0, ..Params::default() };
        self.dispatch(rec, K::ScanUp, 0, up, u64::from(blocks));
        self.scan_scratch(rec, 0, blocks, blocks);
        let down = Params { count: n, mode: 0, aux: 0, ..Params::default() };
        self.dispatch(rec, K::ScanDown, 0, down, u64::from(blocks));
    }

    /// Scans `Scratch[at..at + n]` in place (exclusive); `free` is the
    /// first scratch word past it.
    fn scan_scratch(&mut self, rec: &mut Rec, at: u32, n: u32, free: u32) {
        assert!(
            u64::from(free) + u64::from(n.div_ceil(SCAN_BLOCK))
                <= u64::from(self.shape.scratch_words),
            "the scan's scratch suffices"
        );
        if n <= SCAN_BLOCK {
            let top = Params {
                count: n,
                mode: 1,
                src: at,
                dst: at,
                ..Params::default()
            };
            self.dispatch(rec, K::ScanTop, 0, top, 1);
            return;
        }
        let blocks = n.div_ceil(SCAN_BLOCK);
        let up = Params {
            count: n,
            mode: 1,
            src: at,
            dst: free,
            ..Params::default()
        };
        self.dispatch(rec, K::ScanUp, 0, up, u64::from(blocks));
        self.scan_scratch(rec, free, blocks, free + blocks);
        let down = Params {
            count: n,
            mode: 1,
            src: at,
            dst: at,
            aux: free,
            ..Params::default()
        };
        self.dispatch(rec, K::ScanDown, 0, down, u64::from(blocks));
    }

    /// A dispatch of `k` over `threads` invocations (or workgroups, for the
    /// scans), 2-D past 65535 workgroups.
    fn dispatch(&mut self, rec: &mut Rec, k: K, swap: u8, mut p: Params, threads: u64) {
        let wg = u64::from(self.kernels[k as usize].0.workgroup);
        let groups = if matches!(k, K::ScanUp | K::ScanDown | K::ScanTop) {
            threads
        } else {
            threads.div_ceil(wg)
        };
        if groups == 0 {
            return;
        }
        let max = u64::from(self.gpu.limits.max_compute_workgroups_per_dimension).min(65535);
        let x = groups.min(max);
        let y = groups.div_ceil(x);
        assert!(y <= max, "a dispatch within the device's grid");
        p.nx = x as u32;
        let group = self.bind_group(&mut rec.params, k, swap, p);
        let mut pass = rec.enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(&self.kernels[k as usize].1);
        pass.set_bind_group(0, &group, &[]);
        pass.dispatch_workgroups(x as u32, y as u32, 1);
    }

    fn dispatch_indirect(&mut self, rec: &mut Rec, k: K, swap: u8, p: Params, slot: u32) {
        let group = self.bind_group(&mut rec.params, k, swap, p);
        let mut pass = rec.enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(&self.kernels[k as usize].1);
        pass.set_bind_group(0, &group, &[]);
        pass.dispatch_workgroups_indirect(&self.bufs.indirect, u64::from(slot) * 12);
    }

    /// The bind group of kernel `k` with parameter block `p` (appended to
    /// the submission's), the current frontier parity and retry `swap`.
    fn bind_group(
        &mut self,
        params: &mut Vec<Params>,
        k: K,
        swap: u8,
        p: Params,
    ) -> wgpu::BindGroup {
        let slot = params.len();
        assert!(slot < PARAM_SLOTS, "parameter slots suffice");
        params.push(p);
        let key = (k as usize, self.parity as u8, swap, slot as u16);
        if let Some(g) = self.groups.get(&key) {
            return g.clone();
        }
        let b = &self.bufs;
        let cur = &b.frontier[self.parity];
        let next = &b.frontier[1 - self.parity];
        let (ra, rb) = if swap == 0 {
            (&b.retry[0], &b.retry[1])
        } else {
            (&b.retry[1], &b.retry[0])
        };
        let (src, _, layout) = &self.kernels[k as usize];
        let entries: Vec<wgpu::BindGroupEntry<'_>> = src
            .bindings
            .iter()
            .enumerate()
            .map(|(i, (role, _))| {
                let resource = match role {
                    Role::Params => wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &b.params,
                        offset: slot as u64 * 256,
                        size: wgpu::BufferSize::new(std::mem::size_of::<Params>() as u64),
                    }),
                    other => {
                        let buf = match other {
                            Role::Counters => &b.counters,
                            Role::Cur(j) => &cur[*j as usize],
                            Role::Next(j) => &next[*j as usize],
                            Role::Table(j) => &b.table[*j as usize],
                            Role::Pool(j) => &b.pool[*j as usize],
                            Role::Bits => &b.bits,
                            Role::Offs => &b.offs,
                            Role::Scratch => &b.scratch,
                            Role::Trace => &b.trace,
                            Role::Ddd => &b.ddd,
                            Role::RetryA => ra,
                            Role::RetryB => rb,
                            Role::Indirect => &b.indirect,
                            Role::Params => unreachable!("handled above"),
                        };
                        buf.as_entire_binding()
                    }
                };
                wgpu::BindGroupEntry { binding: i as u32, resource }
            })
            .collect();
        let group = self
            .gpu
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(src.name),
                layout,
                entries: &entries,
            });
        self.groups.insert(key, group.clone());
        group
    }
}

/// The bind group layout of a kernel's bindings, in order: every binding
/// the kernel declares, used or not (a layout derived from the shader
/// would leave out the unused).
fn bind_group_layout(gpu: &Gpu, k: &KernelSource) -> wgpu::BindGroupLayout {
    use kernels::Access;
    let entries: Vec<wgpu::BindGroupLayoutEntry> = k
        .bindings
        .iter()
        .enumerate()
        .map(|(i, (_, access))| wgpu::BindGroupLayoutEntry {
            binding: i as u32,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: match access {
                    Access::Uniform => wgpu::BufferBindingType::Uniform,
                    Access::Read => wgpu::BufferBindingType::Storage { read_only: true },
                    Access::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        })
        .collect();
    gpu.device
        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(k.name),
            entries: &entries,
        })
}

/// Trace records (parent within the level, instance) as (global parent
/// id, instance).
fn push_records(out: &mut Vec<(u64, u32)>, words: &[u32], level_base: u64) {
    out.extend(
        words
            .chunks_exact(2)
            .map(|r| (level_base + u64::from(r[0]), r[1])),
    );
}

impl Buffers {
    /// Bytes of every buffer.
    fn bytes(&self) -> u64 {
        let all = self
            .frontier
            .iter()
            .flatten()
            .chain(&self.table)
            .chain(&self.pool);
        let single = [
            &self.bits,
            &self.offs,
            &self.scratch,
            &self.trace,
            &self.ddd,
            &self.retry[0],
            &self.retry[1],
            &self.indirect,
            &self.counters,
            &self.params,
            &self.staging,
        ];
        all.chain(single).map(|b| b.size()).sum()
    }

    fn new(gpu: &Gpu, sh: &Shape) -> Result<Buffers, GpuError> {
        use wgpu::BufferUsages as U;
        let storage = U::STORAGE | U::COPY_DST | U::COPY_SRC;
        let split = |name: &str, s: &Split| -> Result<Vec<wgpu::Buffer>, GpuError> {
            (0..s.buffers)
                .map(|k| gpu.buffer(&format!("{name} {k}"), s.buffer_bytes(), storage))
                .collect()
        };
        let out = u64::from(sh.out_cap);
        let staging = summary_bytes(sh) + out * (8 + 4 * u64::from(sh.ddd_words()));
        let retry_bytes = u64::from(sh.retry_cap) * u64::from(sh.retry_words()) * 4;
        Ok(Buffers {
            table: split("visited table", &sh.table)?,
            frontier: [
                split("frontier a", &sh.frontier)?,
                split("frontier b", &sh.frontier)?,
            ],
            pool: split("pool", &sh.pool)?,
            bits: gpu.buffer("item bits", u64::from(sh.items_cap) * 4, storage)?,
            offs: gpu.buffer("item places", u64::from(sh.items_cap) * 4, storage)?,
            scratch: gpu.buffer("scan scratch", u64::from(sh.scratch_words) * 4, storage)?,
            trace: gpu.buffer("trace records", out * 8, storage)?,
            ddd: gpu.buffer(
                "fingerprints out",
                out * u64::from(sh.ddd_words()) * 4,
                storage,
            )?,
            retry: [
                gpu.buffer("retry a", retry_bytes, storage)?,
                gpu.buffer("retry b", retry_bytes, storage)?,
            ],
            indirect: gpu.buffer(
                "indirect arguments",
                u64::from(INDIRECT_SLOTS) * 12,
                U::STORAGE | U::INDIRECT,
            )?,
            counters: gpu.buffer("counters", (sh.counter_words() * 4) as u64, storage)?,
            params: gpu.buffer(
                "parameters",
                (PARAM_SLOTS * 256) as u64,
                U::UNIFORM | U::COPY_DST,
            )?,
            staging: gpu.buffer("staging", staging, U::MAP_READ | U::COPY_DST)?,
        })
    }
}

/// Sizes everything from the device's limits and a memory budget.
fn plan(
    gpu: &Gpu,
    model: codegen::ModelCode,
    sizing: &Sizing,
    budget: u64,
) -> Result<Shape, GpuError> {
    let binding = gpu
        .binding_max()
        .min(sizing.binding_bytes.unwrap_or(u64::MAX))
        .max(4096);
    let scheme = if gpu.int64_atomics && model.fp_words == 2 && !sizing.words32 {
        Scheme::Key64
    } else {
        Scheme::Words32
    };
    let thread_probes = sizing.thread_probes;
    let subgroups = gpu.subgroups && scheme == Scheme::Key64 && !thread_probes;
    let i = model.instances.max(1);
    // Items of about 16 instances; a state's items share a workgroup.
    let r = i.div_ceil(16).next_power_of_two().min(WG);
    let k = i.div_ceil(r);
    if k > 32 {
        return Err(GpuError::Unsupported(Unsupported::Other(format!(
            "{i} rule instances per state; the GPU takes at most {}",
            32 * WG
        ))));
    }
    let w = u64::from(model.words);
    let fpw = u64::from(model.fp_words);
    let slot_words = match scheme {
        Scheme::Key64 => 4,
        Scheme::Words32 => (fpw * 32).div_ceil(31) + 2,
    };
    let slot_bytes = slot_words * 4;
    let table_bytes = sizing.table_bytes.unwrap_or(budget / 2);
    let rest = budget.saturating_sub(table_bytes).max(budget / 2);
    let frontier_states = (rest / 4 / (w * 4)).max(1024);
    let pool_entries = (rest / 4 / ((w + 3) * 4)).max(1024);
    // Single buffers stay within one binding; the floors keep a segment
    // of at least one state possible.
    let items_cap = (rest / 8 / 8).min(binding / 4).max(u64::from(WG));
    let de = fpw + 1;
    let out_cap = pool_entries
        .min(rest / 16 / (8 + 4 * de))
        .min(binding / (de * 4))
        .min(binding / 8)
        .max(32);
    let retry_cap = (out_cap / 8).min(binding / ((w + 3) * 4)).max(16);
    let split = |elem_words: u64, want: u64| -> Split {
        let per = (binding / (elem_words * 4)).max(1);
        let buffers = want.div_ceil(per).max(1);
        Split {
            elem_words: elem_words as u32,
            per_buffer: per.min(u64::from(u32::MAX)) as u32,
            buffers: buffers as u32,
        }
    };
    let table_slots = (table_bytes / slot_bytes).clamp(64, u64::from(u32::MAX) - 1);
    let mut table = split(slot_words, table_slots);
    let mut frontier = split(w, frontier_states.min(u64::from(u32::MAX)));
    let mut pool = split(w + 3, pool_entries.min(u64::from(u32::MAX)));
    // The kernel binding the most storage buffers (the compaction's
    // gather: counters, table, pool, bits, offsets, next, fingerprints)
    // stays within the device's limit; the largest array gives way.
    let limit = gpu.limits.max_storage_buffers_per_shader_stage;
    let fixed = 4;
    while table.buffers + pool.buffers + frontier.buffers + fixed > limit {
        let most = [table.buffers, pool.buffers, frontier.buffers]
            .into_iter()
            .max()
            .unwrap_or(1);
        if most <= 1 {
            return Err(GpuError::Unsupported(Unsupported::Other(format!(
                "the device binds {limit} storage buffers per kernel, too few"
            ))));
        }
        for s in [&mut table, &mut pool, &mut frontier] {
            if s.buffers == most {
                s.buffers -= 1;
                break;
            }
        }
    }
    let table_slots = table_slots.min(table.capacity()) as u32;
    let items_cap = items_cap as u32;
    let scratch_words = items_cap / SCAN_BLOCK + 2 * SCAN_BLOCK + 64;
    Ok(Shape {
        model,
        scheme,
        k,
        r,
        table_slots,
        table,
        frontier,
        pool,
        retry_cap: retry_cap as u32,
        items_cap,
        scratch_words,
        out_cap: out_cap.min(u64::from(u32::MAX)) as u32,
        subgroups,
    })
}

/// Runs a test kernel (`main` over binding 0, read, and binding 1,
/// written, in workgroups of 64) once over `input`, one invocation per
/// item, and reads back `out_bytes` of binding 1.
fn run_once(
    gpu: &Gpu,
    label: &str,
    source: &str,
    input: &[u8],
    items: u64,
    out_bytes: u64,
) -> Result<Vec<u32>, GpuError> {
    use wgpu::BufferUsages as U;
    use wgpu::util::DeviceExt as _;
    let pipeline = gpu.pipeline(label, source, None)?;
    let out_bytes = out_bytes.max(4);
    let input = gpu
        .device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("input"),
            contents: input,
            usage: U::STORAGE,
        });
    let output = gpu.buffer(label, out_bytes, U::STORAGE | U::COPY_SRC)?;
    let staging = gpu.buffer("staging", out_bytes, U::MAP_READ | U::COPY_DST)?;
    let bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry { binding: 0, resource: input.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 1, resource: output.as_entire_binding() },
        ],
    });
    let mut enc = gpu.device.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups((items as u32).div_ceil(64).max(1), 1, 1);
    }
    enc.copy_buffer_to_buffer(&output, 0, &staging, 0, out_bytes);
    gpu.queue.submit([enc.finish()]);
    gpu.read(&staging, out_bytes)
}

/// The fingerprints the kernels' WGSL computes for `states` (packed,
/// `words` each): FPW u32s per state, low word first. For tests against
/// the CPU's function.
pub fn fingerprints(
    gpu: &Gpu,
    states: &[u32],
    words: u32,
    fp128: bool,
) -> Result<Vec<u32>, GpuError> {
    let source = codegen::fingerprint_kernel(words, fp128);
    let n = states.len() as u64 / u64::from(words);
    let fpw = if fp128 { 4 } else { 2 };
    let mut out = run_once(
        gpu,
        "fingerprints",
        &source,
        bytemuck::cast_slice(states),
        n,
        n * fpw * 4,
    )?;
    out.truncate((n * fpw) as usize);
    Ok(out)
}

/// The representatives the kernels' WGSL picks for `states` (`slots` i32
/// slots each): per state, `Some(representative)`, or `None` where the
/// device hands the state to the CPU (more arrangements than it tries).
/// For tests against the CPU's `model::symmetry`.
pub fn canonical_states(
    gpu: &Gpu,
    model: &Model,
    states: &[i32],
) -> Result<Vec<Option<Vec<i32>>>, GpuError> {
    let slots = model.state_len.max(1) as usize;
    let source = codegen::canonicalize_kernel(model)?;
    let n = states.len() / slots;
    let out_bytes = (n * (slots + 1) * 4) as u64;
    let words = run_once(
        gpu,
        "canonicalize",
        &source,
        bytemuck::cast_slice(states),
        n as u64,
        out_bytes,
    )?;
    Ok(words
        .chunks(slots + 1)
        .take(n)
        .map(|c| (c[slots] == 0).then(|| c[..slots].iter().map(|&w| w as i32).collect()))
        .collect())
}
