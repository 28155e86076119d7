//! The exploration engine: a level-synchronous breadth-first search.
//!
//! Each level: the backend expands the frontier in chunks (checking each
//! frontier state's invariants, `reachable`s and deadlock, and producing
//! candidate successors not seen in earlier levels); then each visited-set
//! shard takes its candidates in chunk order and keeps the new ones; the
//! kept states, shard by shard, form the next frontier and get trace-log
//! entries. Every count, the depth and every trace are the same for any
//! number of threads.

pub mod backend;
pub mod checkpoint;
pub mod progress;
pub mod trace;
pub mod visited;

use std::time::Instant;

use model::Model;
use model::eval::{ErrorKind, EvalError};
use model::fingerprint::fingerprint;
use model::layout::Layout;
use model::step::Stepper;
use rayon::prelude::*;

use backend::{Backend, CHUNK_STATES, ChunkOut, FoundKind, LevelInput};
use progress::Progress;
use std::sync::atomic::Ordering::Relaxed;
use trace::{Trace, TraceLog};
use visited::{SHARDS, Visited};

#[derive(Clone, Debug)]
pub struct SearchConfig {
    pub deadlock: bool,
    /// Levels to expand at most (an initial state is at depth 1).
    pub max_depth: Option<u32>,
    /// Where and when to write checkpoints, if at all.
    pub checkpoint: Option<checkpoint::Checkpointing>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    Invariant,
    Assert,
    Range,
    Eval,
    Deadlock,
    Unreachable,
}

impl ViolationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::Invariant => "invariant",
            ViolationKind::Assert => "assert",
            ViolationKind::Range => "range",
            ViolationKind::Eval => "eval",
            ViolationKind::Deadlock => "deadlock",
            ViolationKind::Unreachable => "unreachable",
        }
    }

    fn of_error(e: &EvalError) -> ViolationKind {
        match e.kind {
            ErrorKind::Assert => ViolationKind::Assert,
            ErrorKind::Range => ViolationKind::Range,
            ErrorKind::Eval => ViolationKind::Eval,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Violation {
    pub kind: ViolationKind,
    pub name: String,
    pub message: String,
    /// Where in the spec, when the violation is a failing statement or expression.
    pub span: Option<model::Span>,
    pub trace: Option<Trace>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Violation,
    Bounded,
    /// Stopped on request (a signal) after writing a checkpoint.
    Stopped,
    /// A checkpoint could not be written; the previous one is intact.
    StoreFailed,
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub status: Status,
    /// Why the store failed (with `Status::StoreFailed`).
    pub store_error: Option<String>,
    pub distinct: u64,
    pub generated: u64,
    pub depth: u32,
    pub seconds: f64,
    pub violation: Option<Violation>,
}

impl Outcome {
    /// TLC's optimistic estimate: each of the (generated - distinct) lookups
    /// that found a state could have matched one of `distinct` others.
    pub fn collision_probability(&self) -> f64 {
        let n = self.distinct as f64;
        let g = self.generated as f64;
        (n * (g - n).max(0.0)) / 2f64.powi(64)
    }
}

/// Runs the search on the current rayon pool.
pub fn search(
    model: &Model,
    config: &SearchConfig,
    backend: &dyn Backend,
    progress: &Progress,
) -> Outcome {
    let start = Instant::now();
    let mut engine = Engine::new(model, config);
    let mut out = engine.run(backend, progress, None);
    out.seconds = start.elapsed().as_secs_f64();
    out
}

/// Continues a search from a checkpoint (see [`checkpoint::Resume`]).
pub fn resume(
    model: &Model,
    config: &SearchConfig,
    backend: &dyn Backend,
    progress: &Progress,
    from: checkpoint::Resume,
) -> Outcome {
    let start = Instant::now();
    let earlier = from.seconds;
    let mut engine = Engine::new(model, config);
    let mut out = engine.run(backend, progress, Some(from));
    out.seconds = earlier + start.elapsed().as_secs_f64();
    out
}

struct Engine<'m> {
    model: &'m Model,
    config: &'m SearchConfig,
    layout: Layout,
    visited: Visited,
    log: TraceLog,
    generated: u64,
    reached: u64,
    started: Instant,
}

impl<'m> Engine<'m> {
    fn new(model: &'m Model, config: &'m SearchConfig) -> Self {
        Engine {
            model,
            config,
            layout: Layout::new(&model.bounds),
            visited: Visited::new(),
            log: TraceLog::default(),
            generated: 0,
            reached: 0,
            started: Instant::now(),
        }
    }

    fn outcome(&self, status: Status, depth: u32, violation: Option<Violation>) -> Outcome {
        Outcome {
            status,
            store_error: None,
            distinct: self.visited.len(),
            generated: self.generated,
            depth,
            seconds: 0.0,
            violation,
        }
    }

    fn run(
        &mut self,
        backend: &dyn Backend,
        progress: &Progress,
        from: Option<checkpoint::Resume>,
    ) -> Outcome {
        let words = self.layout.words as usize;
        let (mut frontier, mut level_base, mut depth) = match from {
            Some(r) => self.restore(r),
            None => match self.initial_frontier() {
                Ok(f) => (f, 0u64, 0u32),
                Err(v) => return self.outcome(Status::Violation, 0, Some(*v)),
            },
        };
        progress.distinct.store(self.visited.len(), Relaxed);
        let mut last_checkpoint = Instant::now();
        while !frontier.is_empty() {
            depth += 1;
            let count = frontier.len() / words;
            assert!(
                count < u32::MAX as usize,
                "a level holds fewer than 2^32 states"
            );
            progress.depth.store(depth as u64, Relaxed);
            progress.frontier.store(count as u64, Relaxed);
            progress.expanded.store(0, Relaxed);
            let expand = self.config.max_depth.is_none_or(|m| depth < m);
            let input = LevelInput {
                frontier: &frontier,
                words,
                expand,
                deadlock: self.config.deadlock,
            };
            let chunks = backend.expand(&input, &self.visited, progress);
            debug_assert_eq!(chunks.len(), count.div_ceil(CHUNK_STATES));
            self.generated += chunks.iter().map(|c| c.generated).sum::<u64>();
            self.reached |= chunks.iter().fold(0, |acc, c| acc | c.reachables);
            progress.generated.store(self.generated, Relaxed);
            if let Some(found) = chunks
                .iter()
                .filter_map(|c| c.found.as_ref())
                .min_by_key(|f| f.key)
            {
                let v = self.violation(
                    found,
                    level_base,
                    &frontier[found.key.1 as usize * words..][..words],
                );
                return self.outcome(Status::Violation, depth, Some(v));
            }
            if !expand {
                return self.outcome(Status::Bounded, depth, None);
            }
            let next = self.insert(&chunks, level_base, words);
            level_base += count as u64;
            debug_assert_eq!(level_base + (next.len() / words) as u64, self.log.len());
            frontier = next;
            progress.distinct.store(self.visited.len(), Relaxed);
            progress.visited_bytes.store(self.visited.bytes(), Relaxed);
            // A level boundary: the store is consistent, so a checkpoint here
            // resumes without losing or repeating work.
            if let Some(cp) = &self.config.checkpoint {
                let stop = cp.stop.load(Relaxed);
                if stop || last_checkpoint.elapsed() >= cp.every {
                    if let Err(e) = self.save(cp, &frontier, level_base, depth) {
                        let mut out = self.outcome(Status::StoreFailed, depth, None);
                        out.store_error = Some(e.to_string());
                        return out;
                    }
                    last_checkpoint = Instant::now();
                    if stop {
                        return self.outcome(Status::Stopped, depth, None);
                    }
                }
            }
        }
        if let Some(i) =
            (0..self.model.reachables.len().min(64)).find(|i| self.reached & (1 << i) == 0)
        {
            let p = &self.model.reachables[i];
            let v = Violation {
                kind: ViolationKind::Unreachable,
                name: p.name.clone(),
                message: format!("no reachable state satisfies `{}`", p.name),
                span: Some(p.span),
                trace: None,
            };
            return self.outcome(Status::Violation, depth, Some(v));
        }
        self.outcome(Status::Pass, depth, None)
    }

    /// Initial states: deduplicated, those outside the constraint checked
    /// and dropped, the rest the first frontier.
    fn initial_frontier(&mut self) -> Result<Vec<u32>, Box<Violation>> {
        let mut stepper = Stepper::new(self.model);
        let error = |e: EvalError| {
            Box::new(Violation {
                kind: ViolationKind::of_error(&e),
                name: "initial state".to_string(),
                message: e.message.clone(),
                span: Some(e.span),
                trace: None,
            })
        };
        let states = stepper.initial_states().map_err(error)?;
        self.generated = states.len() as u64;
        let words = self.layout.words as usize;
        let mut frontier = Vec::new();
        let mut packed = vec![0u32; words];
        for (ordinal, s) in states.iter().enumerate() {
            if !stepper.in_constraint(s).map_err(error)? {
                if let Some(inv) = stepper.check_invariants(s).map_err(error)? {
                    let trace = trace::replay(self.model, ordinal as u64, &[]).ok();
                    return Err(Box::new(self.invariant_violation(inv.0, trace)));
                }
                continue;
            }
            self.layout.pack(s, &mut packed);
            if self.visited.insert(fingerprint(&packed)) {
                frontier.extend_from_slice(&packed);
                self.log.push_initial(ordinal as u32);
            }
        }
        Ok(frontier)
    }

    fn invariant_violation(&self, index: usize, trace: Option<Trace>) -> Violation {
        let p = &self.model.invariants[index];
        Violation {
            kind: ViolationKind::Invariant,
            name: p.name.clone(),
            message: format!("invariant `{}` is violated", p.name),
            span: Some(p.span),
            trace,
        }
    }

    /// Each shard keeps its new candidates, in chunk order; the kept states
    /// become the next frontier and get trace-log entries.
    fn insert(&mut self, chunks: &[ChunkOut], level_base: u64, words: usize) -> Vec<u32> {
        let kept: Vec<Vec<(u32, u32)>> = self
            .visited
            .shards
            .par_iter_mut()
            .enumerate()
            .map(|(s, shard)| {
                let mut new = Vec::new();
                for (ci, c) in chunks.iter().enumerate() {
                    let range = c.shard_starts[s] as usize..c.shard_starts[s + 1] as usize;
                    for &k in &c.order[range] {
                        if shard.insert(c.fps[k as usize]) {
                            new.push((ci as u32, k));
                        }
                    }
                }
                new
            })
            .collect();
        debug_assert_eq!(kept.len(), SHARDS);
        // Each shard's new states get a disjoint slice of the next frontier
        // and of the trace log, in shard order, filled in parallel.
        let total: usize = kept.iter().map(Vec::len).sum();
        let mut next = vec![0u32; total * words];
        let log_start = self.log.len();
        let (parents, instances) = self.log.extend(total);
        let mut jobs = Vec::with_capacity(SHARDS);
        let (mut words_rest, mut parents_rest, mut instances_rest) =
            (&mut next[..], parents, instances);
        for list in &kept {
            let n = list.len();
            let (w, wr) = words_rest.split_at_mut(n * words);
            let (p, pr) = parents_rest.split_at_mut(n);
            let (i, ir) = instances_rest.split_at_mut(n);
            (words_rest, parents_rest, instances_rest) = (wr, pr, ir);
            jobs.push((list, w, p, i));
        }
        jobs.into_par_iter().for_each(|(list, w, p, i)| {
            for (j, &(ci, k)) in list.iter().enumerate() {
                let c = &chunks[ci as usize];
                let k = k as usize;
                w[j * words..(j + 1) * words].copy_from_slice(&c.words[k * words..(k + 1) * words]);
                p[j] = level_base + c.parents[k] as u64;
                i[j] = c.instances[k];
                // A parent is in the level being expanded, logged earlier.
                debug_assert!(p[j] < log_start);
            }
        });
        next
    }

    fn violation(&self, found: &backend::Found, level_base: u64, state: &[u32]) -> Violation {
        let (_, index, instance) = found.key;
        let id = level_base + index as u64;
        let (ordinal, path) = self.log.path(id);
        let base = trace::replay(self.model, ordinal, &path);
        // The replayed state must be the one the backend expanded.
        if let Ok(t) = &base
            && let Some(last) = t.states.last()
        {
            let mut packed = vec![0u32; state.len()];
            self.layout.pack(&last.slots, &mut packed);
            assert_eq!(packed, state, "replayed trace ends in the expanded state");
        }
        let trace = |t: Result<Trace, String>| match t {
            Ok(t) => Some(t),
            Err(e) => panic!("internal error: trace replay failed: {e}"),
        };
        match &found.what {
            FoundKind::Invariant(i) => self.invariant_violation(*i, trace(base)),
            FoundKind::Deadlock => Violation {
                kind: ViolationKind::Deadlock,
                name: "deadlock".to_string(),
                message: "no rule is enabled in this state".to_string(),
                span: None,
                trace: trace(base),
            },
            FoundKind::StateError(e) => Violation {
                kind: ViolationKind::of_error(e),
                name: "property".to_string(),
                message: e.message.clone(),
                span: Some(e.span),
                trace: trace(base),
            },
            FoundKind::StepError(e) => {
                let t = base.and_then(|t| trace::with_failing_step(self.model, t, instance as u64));
                Violation {
                    kind: ViolationKind::of_error(e),
                    name: rule_name(self.model, instance as u64),
                    message: e.message.clone(),
                    span: Some(e.span),
                    trace: trace(t),
                }
            }
            FoundKind::SuccessorInvariant(i) => {
                let mut full = path.clone();
                full.push(instance as u64);
                self.invariant_violation(*i, trace(trace::replay(self.model, ordinal, &full)))
            }
        }
    }
}

fn rule_name(model: &Model, instance: u64) -> String {
    model
        .rule_of_instance(instance)
        .map_or_else(String::new, |(r, _)| model.rules[r].name.clone())
}
