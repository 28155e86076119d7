//! The CPU backend, and the reference for every other: frontier chunks are
//! expanded in parallel with rayon, each worker running the reference
//! evaluator on unpacked states.

use model::Model;
use model::layout::Layout;
use model::step::{Fired, Stepper};
use model::symmetry::{Scratch, Symmetry};
use rayon::prelude::*;

use crate::engine::backend::{
    Backend, BackendError, CHUNK_STATES, ChunkGraph, ChunkOut, Fingerprint, FoundKind, LevelInput,
};
use crate::engine::progress::Progress;
use state_store::MemoryTier;

pub struct CpuBackend<'m> {
    model: &'m Model,
    layout: Layout,
    /// Each invariant's premise, for `--coverage`.
    premises: Vec<Option<model::ir::Expr>>,
}

impl<'m> CpuBackend<'m> {
    pub fn new(model: &'m Model) -> Self {
        CpuBackend {
            model,
            layout: Layout::new(&model.bounds),
            premises: model.invariants.iter().map(|p| p.premise()).collect(),
        }
    }
}

/// One worker's reusable buffers.
struct Worker<'m> {
    stepper: Stepper<'m>,
    cur: Vec<i64>,
    next: Vec<i64>,
    packed: Vec<u32>,
    /// A successor's representative, under symmetry.
    canon: Vec<i64>,
    scratch: Scratch,
}

impl<F: Fingerprint> Backend<F> for CpuBackend<'_> {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn expand(
        &self,
        input: &LevelInput<'_>,
        visited: &MemoryTier<F>,
        progress: &Progress,
    ) -> Result<Vec<ChunkOut<F>>, BackendError> {
        let words = input.words;
        Ok(input
            .frontier
            .par_chunks(CHUNK_STATES * words)
            .enumerate()
            .map_init(
                || Worker::new(self.model, words),
                |w, (ci, chunk)| {
                    let out = self.expand_chunk(w, input, visited, ci * CHUNK_STATES, chunk);
                    progress.chunk_done((chunk.len() / words) as u64, out.generated);
                    out
                },
            )
            .collect())
    }
}

impl<'m> Worker<'m> {
    fn new(model: &'m Model, words: usize) -> Self {
        Worker {
            stepper: Stepper::new(model),
            cur: vec![0; model.state_len as usize],
            next: Vec::with_capacity(model.state_len as usize),
            packed: vec![0; words],
            canon: Vec::with_capacity(model.state_len as usize),
            scratch: Scratch::default(),
        }
    }
}

/// Whether to go on with a state's other rule instances.
#[derive(PartialEq, Eq)]
enum Flow {
    Next,
    Stop,
}

impl CpuBackend<'_> {
    /// Handles the successor in `w.next` of the frontier state `parent`
    /// (packed) by the rule instance in `key`: the constraint, then a
    /// candidate unless the visited set has it.
    fn successor<F: Fingerprint>(
        &self,
        w: &mut Worker<'_>,
        parent: &[u32],
        visited: &MemoryTier<F>,
        key: (u32, u32, u32),
        symmetry: Option<&Symmetry>,
        out: &mut ChunkOut<F>,
    ) -> Flow {
        // For the state graph: a step that writes only what was there is
        // stuttering, not an edge.
        let changes = out.graph.is_some() && {
            let (cur, next) = (&w.cur, &w.next);
            w.stepper.ev.dirty().iter().any(|&(at, len)| {
                let r = at as usize..(at + len) as usize;
                cur[r.clone()] != next[r]
            })
        };
        match w.stepper.in_constraint(&w.next) {
            Ok(true) => {}
            Ok(false) => {
                if changes && let Some(g) = &mut out.graph {
                    g.targets.push(None);
                    g.instances.push(key.2);
                }
                // Checked, not kept: outside the constraint.
                if out.keeps_going() {
                    for i in 0..self.model.invariants.len() {
                        match w.stepper.invariant_holds(i, &w.next) {
                            Ok(true) => {}
                            Ok(false) => out.find(key, FoundKind::SuccessorInvariant(i)),
                            Err(e) => out.find(key, FoundKind::StepError(e)),
                        }
                    }
                    return Flow::Next;
                }
                match w.stepper.check_invariants(&w.next) {
                    Ok(None) => {}
                    Ok(Some(inv)) => out.find(key, FoundKind::SuccessorInvariant(inv.0)),
                    Err(e) => out.find(key, FoundKind::StepError(e)),
                }
                return Flow::Next;
            }
            Err(e) => {
                out.find(key, FoundKind::StepError(e));
                // With --continue the step fails alone; the state's other
                // steps go on.
                return if out.keeps_going() {
                    Flow::Next
                } else {
                    Flow::Stop
                };
            }
        }
        let dirty = w.stepper.ev.dirty();
        if let Some(sym) = symmetry {
            // The orbit's representative is what the search keeps.
            sym.canonicalize(&w.next, &mut w.scratch, &mut w.canon);
            self.layout.pack(&w.canon, &mut w.packed);
        } else if dirty.iter().map(|d| d.1 as usize).sum::<usize>() * 4 < w.next.len() {
            self.layout.repack(parent, &w.next, dirty, &mut w.packed);
            debug_assert!({
                let mut full = vec![0; parent.len()];
                self.layout.pack(&w.next, &mut full);
                full == w.packed
            });
        } else {
            self.layout.pack(&w.next, &mut w.packed);
        }
        let fp = F::of_state(&w.packed);
        if changes && let Some(g) = &mut out.graph {
            debug_assert!(w.packed != parent, "a changed state packs differently");
            g.targets.push(Some(fp));
            g.instances.push(key.2);
        }
        if !visited.contains(fp) {
            out.words.extend_from_slice(&w.packed);
            out.fps.push(fp);
            out.parents.push(key.1);
            out.instances.push(key.2);
        }
        Flow::Next
    }

    fn expand_chunk<F: Fingerprint>(
        &self,
        w: &mut Worker<'_>,
        input: &LevelInput<'_>,
        visited: &MemoryTier<F>,
        first: usize,
        chunk: &[u32],
    ) -> ChunkOut<F> {
        let words = input.words;
        // Sized for a typical chunk, so the vectors rarely grow mid-chunk.
        let states = chunk.len() / words;
        let mut out = ChunkOut::with_capacity(states * 2, words);
        if input.graph {
            out.graph = Some(ChunkGraph::default());
        }
        if input.coverage {
            out.enabled = vec![0; self.model.rules.len()];
            out.premises = vec![0; self.model.invariants.len()];
        }
        out.keep_going(input.keep_going);
        for (j, state) in chunk.chunks_exact(words).enumerate() {
            let index = (first + j) as u32;
            // A state-level finding ends the chunk; after a step-level one,
            // later states can still have a shorter (state-level) trace, so
            // expansion goes on.
            if out.found.as_ref().is_some_and(|f| f.key.0 == 0) {
                break;
            }
            self.layout.unpack(state, &mut w.cur);
            w.next.clear();
            w.next.extend_from_slice(&w.cur);
            if input.keep_going {
                // Every invariant, and the state is expanded whatever they say.
                for i in 0..self.model.invariants.len() {
                    match w.stepper.invariant_holds(i, &w.cur) {
                        Ok(true) => {}
                        Ok(false) => out.find((0, index, 0), FoundKind::Invariant(i)),
                        Err(e) => out.find((0, index, 0), FoundKind::StateError(e)),
                    }
                }
            } else {
                match w.stepper.check_invariants(&w.cur) {
                    Ok(None) => {}
                    Ok(Some(inv)) => {
                        out.find((0, index, 0), FoundKind::Invariant(inv.0));
                        continue;
                    }
                    Err(e) => {
                        out.find((0, index, 0), FoundKind::StateError(e));
                        continue;
                    }
                }
            }
            if input.coverage {
                // A premise that fails to evaluate is not counted; the
                // invariant itself reports the error.
                for (i, p) in self.premises.iter().enumerate() {
                    if let Some(p) = p
                        && let Ok(true) = w.stepper.holds(p, &w.cur)
                    {
                        out.premises[i] += 1;
                    }
                }
            }
            match w.stepper.reachables(&w.cur) {
                Ok(bits) => out.reachables |= bits,
                Err(e) => {
                    out.find((0, index, 0), FoundKind::StateError(e));
                    if !input.keep_going {
                        continue;
                    }
                }
            }
            if let Some(g) = &mut out.graph {
                g.fps.push(F::of_state(state));
                if let Err(e) = w.stepper.temporal_atoms(&w.cur, &mut g.atoms) {
                    // The graph would lack this state's atoms: no search
                    // goes on past it.
                    out.find_fatal((0, index, 0), FoundKind::StateError(e));
                    break;
                }
            }
            if !input.expand {
                if let Some(g) = &mut out.graph {
                    g.ends.push(g.targets.len() as u32);
                }
                continue;
            }
            let mut enabled = false;
            let stuttering = self.model.deadlock == model::ir::Deadlock::Stuttering;
            let mut failed = false;
            // Rules in order, each over its local instances: the global
            // instance number is the rule's base plus the local one.
            let rule_instances = self.model.rules.iter().zip(&self.model.instance_base);
            let all = rule_instances.enumerate().flat_map(|(r, (rule, base))| {
                (0..rule.instances).map(move |l| (r, rule, *base, l))
            });
            for (r, rule, base, local) in all {
                let instance = base + local;
                let key = (1, index, instance as u32);
                // `next` equals `cur` here: the rule writes into it, and it
                // is restored after, copying back only the written slots.
                let flow = match w.stepper.fire_in_place(rule, local, &w.cur, &mut w.next) {
                    Ok(Fired::Disabled) => continue,
                    Ok(Fired::Enabled) => {
                        // A stuttering deadlock: only a step that changes
                        // the state counts as one out of it.
                        enabled = enabled || !stuttering || w.next != w.cur;
                        out.generated += 1;
                        if let Some(n) = out.enabled.get_mut(r) {
                            *n += 1;
                        }
                        self.successor(w, state, visited, key, input.symmetry, &mut out)
                    }
                    Err(e) => {
                        out.find(key, FoundKind::StepError(e));
                        failed = true;
                        if input.keep_going {
                            Flow::Next
                        } else {
                            Flow::Stop
                        }
                    }
                };
                w.stepper.restore(&w.cur, &mut w.next);
                if flow == Flow::Stop {
                    break;
                }
            }
            // Reachable properties met by the rules' cover statements.
            out.reachables |= std::mem::take(&mut w.stepper.ev.covered);
            if let Some(g) = &mut out.graph {
                g.ends.push(g.targets.len() as u32);
            }
            if !enabled && !failed && input.deadlock {
                match w.stepper.is_terminal(&w.cur) {
                    Ok(true) => {}
                    Ok(false) => out.find((0, index, 0), FoundKind::Deadlock),
                    Err(e) => out.find((0, index, 0), FoundKind::StateError(e)),
                }
            }
        }
        out.group_by_shard();
        out
    }
}
