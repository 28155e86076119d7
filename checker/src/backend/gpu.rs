//! The GPU backend: the engine's [`Backend`] over a `gpu_kernels`
//! [`Explorer`]. The kernel expands a tile and filters its successors
//! through the GPU's visited table; here they are ordered as the CPU
//! orders them (by parent, then rule instance), filtered through the
//! memory tier, and cut into chunks. A chunk with a state the kernel
//! flagged (an error, a violation, a deadlock, an overflow of its 32-bit
//! arithmetic) is expanded again by the CPU backend, which reports exactly
//! what the evaluator finds. If the device fails, the run either stops
//! with the error or, under `--backend auto`, goes on with the CPU from the
//! tile that failed (nothing of that tile was merged).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use gpu_kernels::runtime::NEEDS_CPU;
use gpu_kernels::{Explorer, GpuError};
use rayon::prelude::*;
use state_store::{Fp, MemoryTier};

use crate::backend::cpu::CpuBackend;
use crate::engine::backend::{
    Backend, BackendError, CHUNK_STATES, ChunkOut, Fingerprint, LevelInput,
};
use crate::engine::progress::Progress;

/// What a device failure does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// `--backend auto`: go on with the CPU backend.
    UseCpu,
    /// `--backend gpu`: stop the run with the error.
    Stop,
}

enum State {
    Running(Box<Explorer>),
    /// The device failed; the CPU expands from here on.
    Fallen,
}

pub struct GpuBackend<'m> {
    cpu: CpuBackend<'m>,
    state: Mutex<State>,
    on_failure: OnFailure,
    /// Chunks the CPU expanded again because the kernel flagged a state.
    reruns: AtomicU64,
    /// The device, for reports: "NVIDIA H100 ... (Vulkan)".
    pub device: String,
}

impl<'m> GpuBackend<'m> {
    pub fn new(model: &'m model::Model, explorer: Explorer, on_failure: OnFailure) -> Self {
        GpuBackend {
            cpu: CpuBackend::new(model),
            device: explorer.device_name().to_string(),
            state: Mutex::new(State::Running(Box::new(explorer))),
            on_failure,
            reruns: AtomicU64::new(0),
        }
    }

    /// Chunks expanded again on the CPU so far (flagged by the kernel).
    pub fn cpu_reruns(&self) -> u64 {
        self.reruns.load(Relaxed)
    }

    /// What the device has done, while it still runs the search.
    pub fn device_stats(&self) -> Option<gpu_kernels::runtime::Stats> {
        match self.state.lock().as_deref() {
            Ok(State::Running(ex)) => Some(ex.stats()),
            _ => None,
        }
    }

    /// Whether the device failed and the CPU took over.
    pub fn fell_back(&self) -> bool {
        matches!(self.state.lock().as_deref(), Ok(State::Fallen) | Err(_))
    }

    fn expand_gpu<F: Fingerprint>(
        &self,
        ex: &mut Explorer,
        input: &LevelInput<'_>,
        visited: &MemoryTier<F>,
        progress: &Progress,
    ) -> Result<Vec<ChunkOut<F>>, GpuError> {
        let words = input.words;
        let n = input.frontier.len() / words.max(1);
        let out = ex.expand(input.frontier, 0, input.expand, input.deadlock)?;
        // The device's output is checked before use: a faulty device is an
        // error (and with `auto`, the CPU), never a wrong state.
        let bad =
            |what: &str| GpuError::Device(format!("the kernel's output is inconsistent: {what}"));
        if out.info.len() != n {
            return Err(bad("not one flag word per state"));
        }
        let chunks = n.div_ceil(CHUNK_STATES);
        let mut needs_cpu = vec![false; chunks];
        let mut generated = vec![0u64; chunks];
        for (i, &inf) in out.info.iter().enumerate() {
            needs_cpu[i / CHUNK_STATES] |= inf & NEEDS_CPU != 0;
            generated[i / CHUNK_STATES] += u64::from(inf & !NEEDS_CPU);
        }
        let mw = ex.kernel.meta_words as usize;
        let count = out.meta.len() / mw;
        if out.words.len() != count * words {
            return Err(bad("candidates' words and metadata differ in number"));
        }
        // The CPU's order: by parent, then rule instance.
        let key = |c: usize| (u64::from(out.meta[c * mw]) << 32) | u64::from(out.meta[c * mw + 1]);
        let mut order: Vec<usize> = (0..count).collect();
        order.par_sort_unstable_by_key(|&c| key(c));
        let mut starts = vec![0usize; chunks + 1];
        for &c in &order {
            let parent = out.meta[c * mw] as usize;
            if parent >= n || out.meta[c * mw + 1] >= ex.kernel.instances {
                return Err(bad("a parent outside the tile or an unknown rule instance"));
            }
            starts[parent / CHUNK_STATES + 1] += 1;
        }
        for i in 0..chunks {
            starts[i + 1] += starts[i];
        }
        let result: Result<Vec<ChunkOut<F>>, GpuError> = (0..chunks)
            .into_par_iter()
            .map(|ci| {
                let states = CHUNK_STATES.min(n - ci * CHUNK_STATES) as u64;
                if needs_cpu[ci] {
                    self.reruns.fetch_add(1, Relaxed);
                    let c = self.cpu.expand_one_chunk(input, visited, ci);
                    progress.chunk_done(states, c.generated);
                    return Ok(c);
                }
                let mine = &order[starts[ci]..starts[ci + 1]];
                let mut c = ChunkOut::with_capacity(mine.len(), words);
                for (i, &k) in mine.iter().enumerate() {
                    let fp = fp_of::<F>(&out.meta[k * mw + 2..(k + 1) * mw]);
                    let state = &out.words[k * words..(k + 1) * words];
                    // All of them in debug builds, a chunk's first in release.
                    if (cfg!(debug_assertions) || i == 0) && fp != F::of_state(state) {
                        return Err(bad("a fingerprint that is not the CPU's"));
                    }
                    if visited.contains(fp) {
                        continue;
                    }
                    c.words.extend_from_slice(state);
                    c.fps.push(fp);
                    c.parents.push(out.meta[k * mw]);
                    c.instances.push(out.meta[k * mw + 1]);
                }
                c.generated = generated[ci];
                if ci == 0 {
                    c.reachables = out.reachables;
                }
                c.group_by_shard();
                progress.chunk_done(states, c.generated);
                Ok(c)
            })
            .collect();
        result
    }
}

/// A fingerprint from the kernel's words (low word first).
fn fp_of<F: Fp>(words: &[u32]) -> F {
    let v = words
        .iter()
        .enumerate()
        .fold(0u128, |acc, (k, w)| acc | (u128::from(*w) << (32 * k)));
    F::from_u128(v)
}

impl<F: Fingerprint> Backend<F> for GpuBackend<'_> {
    fn name(&self) -> &'static str {
        "gpu"
    }

    /// 256K states a call: dispatches amortize their round trips.
    fn tile_chunks(&self) -> usize {
        256
    }

    fn expand(
        &self,
        input: &LevelInput<'_>,
        visited: &MemoryTier<F>,
        progress: &Progress,
    ) -> Result<Vec<ChunkOut<F>>, BackendError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| BackendError("the GPU backend's lock was poisoned".into()))?;
        if let State::Running(ex) = &mut *state {
            assert_eq!(
                ex.kernel.fp_words as usize,
                F::WORDS,
                "the kernel's fingerprint width is the run's"
            );
            match self.expand_gpu::<F>(ex, input, visited, progress) {
                Ok(chunks) => return Ok(chunks),
                Err(e) => match self.on_failure {
                    OnFailure::Stop => return Err(BackendError(e.to_string())),
                    OnFailure::UseCpu => {
                        eprintln!(
                            "fathom: {e}; going on with the CPU backend from the tile that failed"
                        );
                        *state = State::Fallen;
                    }
                },
            }
        }
        drop(state);
        self.cpu.expand(input, visited, progress)
    }
}
