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
pub mod device;
pub mod progress;
pub mod trace;

use std::time::Instant;

use model::Model;
use model::eval::{ErrorKind, EvalError};
use model::layout::Layout;
use model::step::Stepper;
use rayon::prelude::*;

use backend::{Backend, CHUNK_STATES, ChunkOut, Fingerprint, FoundKind, LevelInput};
use model::symmetry::{Scratch, Symmetry};
use progress::Progress;
use state_store::memory::ShardInsert;
use state_store::{FingerprintSet, Queue, SpillDir, StoreError, Tentative, TileReader};
use std::sync::atomic::Ordering::Relaxed;
use trace::{Trace, TraceLog};

#[derive(Clone, Debug)]
pub struct SearchConfig {
    pub deadlock: bool,
    /// Levels to expand at most (an initial state is at depth 1).
    pub max_depth: Option<u32>,
    /// Where and when to write checkpoints, if at all.
    pub checkpoint: Option<checkpoint::Checkpointing>,
    /// `--memory`: bytes the state store keeps in memory before spilling
    /// to disk (None: everything stays in memory).
    pub memory: Option<u64>,
    /// `--coverage`: count, per rule, enabled instances and new states.
    pub coverage: bool,
    /// Symmetry reduction: keep each state as its orbit's canonical
    /// representative, when the spec declares symmetric types (and has no
    /// temporal property: see [`symmetry_of`]). False: `--no-symmetry`.
    pub symmetry: bool,
    /// `--continue`: a violation does not end the search; each violated
    /// property is reported once, with its shortest trace.
    pub keep_going: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    Invariant,
    Assert,
    Range,
    Eval,
    Deadlock,
    Unreachable,
    Liveness,
    /// The spec is not symmetric: a path of the reduced search does not
    /// replay as a real behavior (its representative's steps do not
    /// commute with the renaming).
    Symmetry,
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
            ViolationKind::Liveness => "liveness",
            ViolationKind::Symmetry => "symmetry",
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
    /// The backend failed (a lost GPU with `--backend gpu`); the store is
    /// as the last complete level left it.
    BackendFailed,
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub status: Status,
    /// Why the store or the backend failed (`StoreFailed`, `BackendFailed`).
    pub error: Option<String>,
    pub distinct: u64,
    pub generated: u64,
    pub depth: u32,
    pub seconds: f64,
    pub violation: Option<Violation>,
    /// With `--continue`: every violated property, in the order found
    /// (by depth, then frontier order); the first is `violation`.
    pub violations: Vec<Violation>,
    /// Of `distinct`, the fingerprints in the disk tier.
    pub disk_fingerprints: u64,
    /// 64 or 128.
    pub fingerprint_bits: u32,
    /// With temporal properties, once decided: the graph and the time.
    pub liveness: Option<crate::liveness::Report>,
    /// With `--coverage`.
    pub coverage: Option<Coverage>,
    /// Whether states were kept as their orbits' representatives.
    pub symmetry: bool,
}

impl Outcome {
    /// TLC's optimistic estimate: each of the (generated - distinct) lookups
    /// that found a state could have matched one of `distinct` others —
    /// whichever tier, memory or disk, held them.
    pub fn collision_probability(&self) -> f64 {
        let n = self.distinct as f64;
        let g = self.generated as f64;
        (n * (g - n).max(0.0)) / 2f64.powi(self.fingerprint_bits as i32)
    }
}

/// What `--coverage` counts: per rule, the instances enabled (each
/// generated one successor) and the new states they found; the states
/// whose invariants were evaluated. Saved in checkpoints.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    pub enabled: Vec<u64>,
    pub new: Vec<u64>,
    /// Initial states kept.
    pub initial: u64,
    /// States whose invariants (and `reachable`s) were evaluated.
    pub checked: u64,
    /// Per invariant with a premise (`A => B`), the states where it held.
    #[serde(default)]
    pub premises: Vec<u64>,
    /// Per temporal property `P leadsto Q`, the (state, instance) pairs
    /// where P held; 0 for the other forms.
    #[serde(default)]
    pub leadsto: Vec<u64>,
}

impl Coverage {
    fn new(rules: usize) -> Coverage {
        Coverage {
            enabled: vec![0; rules],
            new: vec![0; rules],
            initial: 0,
            checked: 0,
            premises: Vec::new(),
            leadsto: Vec::new(),
        }
    }

    /// A new state found by global rule instance `instance`.
    fn found(&mut self, model: &Model, instance: u32) {
        let (rule, _) = model
            .rule_of_instance(instance as u64)
            .expect("a logged instance is a rule's");
        self.new[rule] += 1;
    }
}

/// A search that ended early (a violation, a stop, a failure), with its
/// outcome.
type Ended = Box<Outcome>;

/// Runs the search on the current rayon pool.
pub fn search<F: Fingerprint>(
    model: &Model,
    config: &SearchConfig,
    backend: &dyn Backend<F>,
    progress: &Progress,
) -> Outcome {
    let start = Instant::now();
    let spill = match spill_dir(config) {
        Ok(s) => s,
        Err(e) => return failed_to_start(e, F::BITS),
    };
    let mut engine = Engine::new(model, config, spill);
    let mut out = engine.run(backend, progress, None);
    out.seconds = start.elapsed().as_secs_f64();
    out
}

/// Continues a search from a checkpoint (see [`checkpoint::Resume`]).
pub fn resume<F: Fingerprint>(
    model: &Model,
    config: &SearchConfig,
    backend: &dyn Backend<F>,
    progress: &Progress,
    mut from: checkpoint::Resume<F>,
) -> Outcome {
    let start = Instant::now();
    let earlier = from.seconds;
    let Some(spill) = from.spill.take() else {
        unreachable!("a loaded checkpoint has its directory")
    };
    let mut engine = Engine::new(model, config, spill);
    let mut out = engine.run(backend, progress, Some(from));
    out.seconds = earlier + start.elapsed().as_secs_f64();
    out
}

/// Where spilled files go: the store directory when checkpointing (a
/// checkpoint names them), else a temporary directory when `--memory` may
/// spill, else nowhere.
fn spill_dir(config: &SearchConfig) -> Result<SpillDir, StoreError> {
    match (&config.checkpoint, config.memory) {
        (Some(cp), _) => SpillDir::in_store(&cp.dir, 1, Default::default()),
        (None, Some(_)) => SpillDir::temporary(),
        (None, None) => Ok(SpillDir::unused()),
    }
}

fn failed_to_start(e: StoreError, fingerprint_bits: u32) -> Outcome {
    Outcome {
        status: Status::StoreFailed,
        error: Some(e.to_string()),
        distinct: 0,
        generated: 0,
        depth: 0,
        seconds: 0.0,
        violation: None,
        violations: Vec::new(),
        disk_fingerprints: 0,
        fingerprint_bits,
        liveness: None,
        coverage: None,
        symmetry: false,
    }
}

/// Why a level could not be completed.
enum LevelError {
    Store(StoreError),
    Backend(backend::BackendError),
}

impl From<StoreError> for LevelError {
    fn from(e: StoreError) -> Self {
        LevelError::Store(e)
    }
}

/// How a level ended.
enum Level {
    /// A violation; the level was not merged.
    Found(LevelFinding),
    /// At `--max-depth`: checked, not expanded.
    Checked,
    /// The next frontier.
    Next(Queue),
}

/// Frontier states expanded and merged at a time: bounds the candidates
/// held in memory. Fixed for a given `--memory`, so the order of states,
/// and with it every trace, is the same for any number of threads.
pub const TILE_STATES: usize = 64 * CHUNK_STATES;

/// Words beside a state's in the payload of a tentative record (after its
/// fingerprint): parent id (2), rule instance (1).
const TENTATIVE_EXTRA: usize = 3;

/// How `--memory` is shared out, in bytes; `None`: unlimited.
#[derive(Clone, Copy, Debug)]
struct Budget {
    visited: Option<u64>,
    level: Option<u64>,
    queue_words: Option<usize>,
    log: Option<u64>,
    /// The liveness graph's columns (with temporal properties).
    graph: Option<u64>,
    tile_states: usize,
}

impl Budget {
    fn of(memory: Option<u64>) -> Budget {
        match memory {
            None => Budget {
                visited: None,
                level: None,
                queue_words: None,
                log: None,
                graph: None,
                tile_states: TILE_STATES,
            },
            // A quarter each for the visited set's memory tier and the
            // level's tentative fingerprints; an eighth each for the two
            // frontier queues and the trace log's tail; a sixteenth for
            // the liveness graph's columns (when recorded); the rest is
            // headroom (a period's sorted fingerprints while the level
            // settles).
            Some(m) => Budget {
                visited: Some(m / 4),
                level: Some(m / 4),
                queue_words: Some((m / 8 / 4) as usize),
                log: Some(m / 8),
                graph: Some(m / 16),
                // A tile's candidates take a few KiB per frontier state at
                // most: a chunk per 4 MiB of budget, 4 to 64 chunks.
                tile_states: (m / (4 << 20)).clamp(4, 64) as usize * CHUNK_STATES,
            },
        }
    }
}

pub(crate) struct Engine<'m, F: Fingerprint> {
    model: &'m Model,
    config: &'m SearchConfig,
    layout: Layout,
    visited: FingerprintSet<F>,
    log: TraceLog,
    spill: SpillDir,
    budget: Budget,
    generated: u64,
    reached: u64,
    started: Instant,
    /// Fingerprints a device's table holds that `visited` does not (a
    /// search on the GPU, `device.rs`).
    on_device: u64,
    /// The state graph, recorded for temporal properties.
    graph: Option<crate::liveness::graph::Builder<F>>,
    /// Initial states kept (the first ids).
    initial: u64,
    /// `--coverage`'s counts so far.
    coverage: Option<Coverage>,
    /// The spec's symmetry, when the search reduces by it.
    symmetry: Option<Symmetry>,
    /// `--continue`: the violations reported so far, their properties, and
    /// the findings they came from (what a checkpoint saves).
    violations: Vec<Violation>,
    reported: std::collections::BTreeSet<backend::Ident>,
    saved: Vec<SavedFinding>,
}

/// A `--continue` finding as a checkpoint keeps it: the trace-log id of
/// the state it is about, the rule instance after it, and what it found.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SavedFinding {
    pub id: u64,
    /// States in the trace beyond the state: 0 or 1.
    pub beyond: u32,
    pub instance: u32,
    pub what: SavedKind,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SavedKind {
    Invariant(usize),
    Deadlock,
    StateError {
        kind: String,
        message: String,
        start: u32,
        end: u32,
    },
    StepError {
        kind: String,
        message: String,
        start: u32,
        end: u32,
    },
    SuccessorInvariant(usize),
}

impl SavedFinding {
    fn of(found: &backend::Found, id: u64) -> SavedFinding {
        let err = |e: &EvalError| (e.kind.as_str().to_string(), e.message.clone(), e.span);
        let what = match &found.what {
            FoundKind::Invariant(i) => SavedKind::Invariant(*i),
            FoundKind::Deadlock => SavedKind::Deadlock,
            FoundKind::SuccessorInvariant(i) => SavedKind::SuccessorInvariant(*i),
            FoundKind::StateError(e) => {
                let (kind, message, span) = err(e);
                SavedKind::StateError { kind, message, start: span.start, end: span.end }
            }
            FoundKind::StepError(e) => {
                let (kind, message, span) = err(e);
                SavedKind::StepError { kind, message, start: span.start, end: span.end }
            }
        };
        SavedFinding {
            id,
            beyond: found.key.0,
            instance: found.key.2,
            what,
        }
    }

    /// The finding again, keyed to its state's id (frontier index 0 of a
    /// level based there).
    fn found(&self) -> backend::Found {
        let err = |kind: &str, message: &str, start: u32, end: u32| EvalError {
            kind: match kind {
                "assert" => ErrorKind::Assert,
                "range" => ErrorKind::Range,
                _ => ErrorKind::Eval,
            },
            message: message.to_string(),
            span: model::Span { start, end },
        };
        let what = match &self.what {
            SavedKind::Invariant(i) => FoundKind::Invariant(*i),
            SavedKind::Deadlock => FoundKind::Deadlock,
            SavedKind::SuccessorInvariant(i) => FoundKind::SuccessorInvariant(*i),
            SavedKind::StateError { kind, message, start, end } => {
                FoundKind::StateError(err(kind, message, *start, *end))
            }
            SavedKind::StepError { kind, message, start, end } => {
                FoundKind::StepError(err(kind, message, *start, *end))
            }
        };
        backend::Found { key: (self.beyond, 0, self.instance), what }
    }
}

/// The least finding of a level so far, with the frontier state it is about.
struct LevelFinding {
    found: backend::Found,
    state: Vec<u32>,
}

/// The symmetry a search reduces by: the spec's symmetric types, unless
/// `--no-symmetry` or the spec has temporal properties (a quotient by
/// symmetry can hide a fair cycle's order of events, so liveness is checked
/// on every state, which is sound).
pub fn symmetry_of(model: &Model, config: &SearchConfig) -> Option<Symmetry> {
    (config.symmetry && model.temporals.is_empty())
        .then(|| Symmetry::new(model))
        .flatten()
}

impl<'m, F: Fingerprint> Engine<'m, F> {
    fn new(model: &'m Model, config: &'m SearchConfig, spill: SpillDir) -> Self {
        Engine {
            model,
            config,
            layout: Layout::new(&model.bounds),
            visited: FingerprintSet::new(),
            log: TraceLog::default(),
            spill,
            budget: Budget::of(config.memory),
            generated: 0,
            reached: 0,
            started: Instant::now(),
            on_device: 0,
            graph: (!model.temporals.is_empty())
                .then(|| crate::liveness::graph::Builder::new(model.temporal_atom_words())),
            initial: 0,
            coverage: config.coverage.then(|| Coverage::new(model.rules.len())),
            symmetry: symmetry_of(model, config),
            violations: Vec::new(),
            reported: Default::default(),
            saved: Vec::new(),
        }
    }

    fn outcome(&self, status: Status, depth: u32, violation: Option<Violation>) -> Outcome {
        // With --continue, what was found before the search ended is
        // reported whatever ended it; the first found is `violation`.
        let (mut status, mut violation) = (status, violation);
        let mut violations = self.violations.clone();
        if self.config.keep_going {
            violations.extend(violation.take());
            if let Some(first) = violations.first()
                && matches!(status, Status::Pass | Status::Bounded | Status::Violation)
            {
                status = Status::Violation;
                violation = Some(first.clone());
            }
        }
        Outcome {
            status,
            error: None,
            distinct: self.visited.len() + self.on_device,
            generated: self.generated,
            depth,
            seconds: 0.0,
            violations,
            violation,
            disk_fingerprints: self.visited.disk_len(),
            fingerprint_bits: F::BITS,
            liveness: None,
            coverage: self.coverage.clone(),
            symmetry: self.symmetry.is_some(),
        }
    }

    fn store_failed(&self, depth: u32, e: StoreError) -> Outcome {
        let mut out = self.outcome(Status::StoreFailed, depth, None);
        out.error = Some(e.to_string());
        out
    }

    fn run(
        &mut self,
        backend: &dyn Backend<F>,
        progress: &Progress,
        from: Option<checkpoint::Resume<F>>,
    ) -> Outcome {
        match self.start(from) {
            Ok((frontier, level_base, depth)) => {
                self.levels(backend, progress, frontier, level_base, depth)
            }
            Err(out) => *out,
        }
    }

    /// The first frontier, its first state's id and the depth before it:
    /// a checkpoint's, or the initial states'.
    fn start(&mut self, from: Option<checkpoint::Resume<F>>) -> Result<(Queue, u64, u32), Ended> {
        match from {
            Some(r) => self.restore(r).map_err(|e| {
                let mut out = self.outcome(Status::StoreFailed, 0, None);
                out.error = Some(e);
                Box::new(out)
            }),
            None => match self.initial_frontier() {
                Ok(Ok(f)) => Ok((f, 0u64, 0u32)),
                Ok(Err(e)) => Err(Box::new(self.store_failed(0, e))),
                Err(v) => Err(Box::new(self.outcome(Status::Violation, 0, Some(*v)))),
            },
        }
    }

    /// The level loop on the host, from `frontier` (ids from `level_base`,
    /// the levels before it `depth`) to the end of the search.
    fn levels(
        &mut self,
        backend: &dyn Backend<F>,
        progress: &Progress,
        mut frontier: Queue,
        mut level_base: u64,
        mut depth: u32,
    ) -> Outcome {
        progress.distinct.store(self.visited.len(), Relaxed);
        let mut last_checkpoint = Instant::now();
        while !frontier.is_empty() {
            depth += 1;
            if let Err(out) =
                self.host_level(backend, progress, &mut frontier, &mut level_base, depth)
            {
                return *out;
            }
            // A level boundary: the store is consistent, so a checkpoint here
            // resumes without losing or repeating work.
            if let Some(stop) = self.checkpoint_due(last_checkpoint) {
                if let Err(out) = self.checkpoint(&frontier, level_base, depth, stop) {
                    return *out;
                }
                last_checkpoint = Instant::now();
            }
        }
        self.finish(depth)
    }

    /// Expands one level on the host: `frontier` (ids from `level_base`)
    /// becomes the next frontier. A violation, `--max-depth` or a failure
    /// ends the search with the outcome.
    fn host_level(
        &mut self,
        backend: &dyn Backend<F>,
        progress: &Progress,
        frontier: &mut Queue,
        level_base: &mut u64,
        depth: u32,
    ) -> Result<(), Ended> {
        let count = frontier.len();
        assert!(
            count < u32::MAX as u64,
            "a level holds fewer than 2^32 states"
        );
        progress.depth.store(depth as u64, Relaxed);
        progress.frontier.store(count, Relaxed);
        progress.expanded.store(0, Relaxed);
        let distinct_before = self.visited.len();
        let expand = self.config.max_depth.is_none_or(|m| depth < m);
        let level = match self.level(backend, progress, frontier, *level_base, expand) {
            Ok(l) => l,
            Err(LevelError::Store(e)) => return Err(Box::new(self.store_failed(depth, e))),
            Err(LevelError::Backend(e)) => {
                let mut out = self.outcome(Status::BackendFailed, depth - 1, None);
                out.error = Some(e.0);
                return Err(Box::new(out));
            }
        };
        progress.generated.store(self.generated, Relaxed);
        let next = match level {
            Level::Found(f) => {
                let v = match self.violation(&f.found, *level_base, Some(&f.state)) {
                    Ok(v) => v,
                    Err(e) => return Err(Box::new(self.store_failed(depth, e))),
                };
                let mut out = self.outcome(Status::Violation, depth, Some(v));
                // As if the level had not been merged (the count of the
                // states whose successors were all seen).
                out.distinct = distinct_before;
                return Err(Box::new(out));
            }
            Level::Checked => return Err(Box::new(self.outcome(Status::Bounded, depth, None))),
            Level::Next(next) => next,
        };
        *level_base += count;
        debug_assert_eq!(*level_base + next.len(), self.log.len());
        assert_eq!(
            self.visited.len(),
            self.log.len(),
            "one visited fingerprint per logged state"
        );
        *frontier = next;
        if let Err(e) = self.keep_within_budget() {
            return Err(Box::new(self.store_failed(depth, e)));
        }
        progress.distinct.store(self.visited.len(), Relaxed);
        progress
            .visited_bytes
            .store(self.visited.memory_bytes(), Relaxed);
        Ok(())
    }

    /// `Some(stop)` when a checkpoint is due at this level boundary (the
    /// interval passed, or a signal asked to stop).
    fn checkpoint_due(&self, last: Instant) -> Option<bool> {
        let cp = self.config.checkpoint.as_ref()?;
        let stop = cp.stop.load(Relaxed);
        (stop || last.elapsed() >= cp.every).then_some(stop)
    }

    /// Writes a checkpoint; with `stop`, the search ends there.
    fn checkpoint(
        &self,
        frontier: &Queue,
        level_base: u64,
        depth: u32,
        stop: bool,
    ) -> Result<(), Ended> {
        let Some(cp) = &self.config.checkpoint else {
            return Ok(());
        };
        if let Err(e) = self.save(cp, frontier, level_base, depth) {
            return Err(Box::new(self.store_failed(depth, e)));
        }
        if stop {
            return Err(Box::new(self.outcome(Status::Stopped, depth, None)));
        }
        Ok(())
    }

    /// The search is complete: every `reachable` must have been met, then
    /// every temporal property is decided on the recorded graph.
    fn finish(&mut self, depth: u32) -> Outcome {
        let unreached: Vec<usize> = (0..self.model.reachables.len().min(64))
            .filter(|i| self.reached & (1 << i) == 0)
            .collect();
        for &i in &unreached {
            let p = &self.model.reachables[i];
            let v = Violation {
                kind: ViolationKind::Unreachable,
                name: p.name.clone(),
                message: format!("no reachable state satisfies `{}`", p.name),
                span: Some(p.span),
                trace: None,
            };
            if !self.config.keep_going {
                return self.outcome(Status::Violation, depth, Some(v));
            }
            self.violations.push(v);
        }
        if let Some(builder) = self.graph.take() {
            let started = Instant::now();
            let (status, violation, report) = match self.liveness(builder) {
                Ok((v, mut report)) => {
                    report.seconds = started.elapsed().as_secs_f64();
                    let status = if v.is_some() {
                        Status::Violation
                    } else {
                        Status::Pass
                    };
                    (status, v, report)
                }
                Err(e) => {
                    let mut out = self.outcome(Status::StoreFailed, depth, None);
                    out.error = Some(e);
                    return out;
                }
            };
            let mut out = self.outcome(status, depth, violation);
            out.liveness = Some(report);
            return out;
        }
        self.outcome(Status::Pass, depth, None)
    }

    /// Decides the temporal properties on the recorded graph.
    fn liveness(
        &mut self,
        builder: crate::liveness::graph::Builder<F>,
    ) -> Result<(Option<Violation>, crate::liveness::Report), String> {
        assert_eq!(
            builder.len(),
            self.log.len(),
            "every state was expanded once"
        );
        let initial = u32::try_from(self.initial).map_err(|e| e.to_string())?;
        let graph = builder.finish(initial, &self.spill, self.budget.graph)?;
        let ordinal = |id: u32| -> Result<u64, String> {
            let (ordinal, path) = self
                .log
                .path(id as u64, &self.spill)
                .map_err(|e| e.to_string())?;
            assert!(path.is_empty(), "an initial state's id");
            Ok(ordinal)
        };
        let report = crate::liveness::Report {
            properties: self.model.temporals.iter().map(|t| t.instances).sum(),
            states: graph.n as u64,
            steps: graph.edges() as u64,
            graph_bytes: graph.bytes() as u64,
            seconds: 0.0,
        };
        if let Some(cov) = &mut self.coverage {
            cov.leadsto = crate::liveness::leadsto_premises(self.model, &graph);
        }
        let mut found =
            crate::liveness::check(self.model, &graph, &ordinal, self.config.keep_going)?;
        // Without --continue, at most the first; with it, every one joins
        // the violations found during the search, in declaration order.
        if self.config.keep_going {
            self.violations.append(&mut found);
        }
        Ok((found.into_iter().next(), report))
    }

    /// Spills the visited set's memory tier and the trace log's tail when
    /// they are over their shares of `--memory`: at a level's end, after a
    /// tile, after a settled chunk.
    fn keep_within_budget(&mut self) -> Result<(), StoreError> {
        if self
            .budget
            .visited
            .is_some_and(|b| self.visited.memory_bytes() > b)
        {
            self.visited.spill(&self.spill)?;
        }
        if self.budget.log.is_some_and(|b| self.log.memory_bytes() > b) {
            self.log.spill(&self.spill)?;
        }
        Ok(())
    }

    /// Expands one level tile by tile. Candidates new to the memory tier
    /// are merged after each tile; when there is a disk tier they are
    /// tentative until the level's one pass over the runs.
    fn level(
        &mut self,
        backend: &dyn Backend<F>,
        progress: &Progress,
        frontier: &mut Queue,
        level_base: u64,
        expand: bool,
    ) -> Result<Level, LevelError> {
        let words = self.layout.words as usize;
        let mut next = Queue::new(words, self.budget.queue_words);
        // With a disk tier, new states are tentative until the level's pass
        // over the runs; the memory tier then holds only settled states and
        // may spill after any tile. A level starts so when there are runs,
        // and switches to it when the memory tier spills mid-level.
        let mut tentative = self
            .visited
            .has_disk_tier()
            .then(|| Tentative::new(words + TENTATIVE_EXTRA, self.budget.queue_words));
        let mut finding: Option<LevelFinding> = None;
        // --continue: the least finding of each property new this level.
        let mut findings: std::collections::BTreeMap<backend::Ident, LevelFinding> =
            Default::default();
        let mut reader = TileReader::default();
        let mut tile_base = 0u64;
        // Tiles change no count or trace: candidates merge in frontier order.
        let tile_states = match self.config.memory {
            None => TILE_STATES,
            Some(_) => self.budget.tile_states,
        };
        while let Some(tile) = reader.next(frontier, &self.spill, tile_states * words)? {
            let input = LevelInput {
                frontier: &tile,
                words,
                expand,
                deadlock: self.config.deadlock,
                graph: self.graph.is_some(),
                coverage: self.coverage.is_some(),
                symmetry: self.symmetry.as_ref(),
                keep_going: self.config.keep_going,
            };
            let chunks = backend
                .expand(&input, self.visited.memory(), progress)
                .map_err(LevelError::Backend)?;
            debug_assert_eq!(chunks.len(), (tile.len() / words).div_ceil(CHUNK_STATES));
            self.generated += chunks.iter().map(|c| c.generated).sum::<u64>();
            if let Some(cov) = &mut self.coverage {
                cov.checked += (tile.len() / words) as u64;
                for c in &chunks {
                    for (total, n) in cov.enabled.iter_mut().zip(&c.enabled) {
                        *total += n;
                    }
                    if cov.premises.len() < c.premises.len() {
                        cov.premises.resize(c.premises.len(), 0);
                    }
                    for (total, n) in cov.premises.iter_mut().zip(&c.premises) {
                        *total += n;
                    }
                }
            }
            self.reached |= chunks.iter().fold(0, |acc, c| acc | c.reachables);
            progress.generated.store(self.generated, Relaxed);
            if let Some(f) = chunks
                .iter()
                .filter_map(|c| c.found.as_ref())
                .min_by_key(|f| f.key)
            {
                let mut found = f.clone();
                let index = found.key.1 as usize;
                found.key.1 += tile_base as u32;
                if finding.as_ref().is_none_or(|old| found.key < old.found.key) {
                    let state = tile[index * words..(index + 1) * words].to_vec();
                    finding = Some(LevelFinding { found, state });
                }
            }
            for f in chunks.iter().flat_map(|c| &c.findings) {
                let ident = f.ident();
                if self.reported.contains(&ident) {
                    continue;
                }
                let mut found = f.clone();
                let index = found.key.1 as usize;
                found.key.1 += tile_base as u32;
                if findings
                    .get(&ident)
                    .is_none_or(|old| found.key < old.found.key)
                {
                    let state = tile[index * words..(index + 1) * words].to_vec();
                    findings.insert(ident, LevelFinding { found, state });
                }
            }
            // After a finding the rest of the level is still expanded (its
            // counts, and a finding with a shorter trace), but not merged.
            if expand && finding.is_none() {
                let parent_base = level_base + tile_base;
                if let Some(g) = &mut self.graph {
                    // Graph ids are trace-log ids: the order of expansion.
                    assert_eq!(g.len(), parent_base, "the graph follows the frontier");
                    for c in &chunks {
                        g.push(c.graph.as_ref().expect("the backend recorded the graph"));
                    }
                    if self.budget.graph.is_some_and(|b| g.memory_bytes() > b) {
                        g.spill(&self.spill)?;
                    }
                }
                match &mut tentative {
                    Some(t) => {
                        self.merge_tentative(&chunks, parent_base, t)?;
                        if self.budget.level.is_some_and(|b| t.open_bytes() > b) {
                            t.close_period(&self.spill)?;
                        }
                    }
                    None => self.merge(&chunks, parent_base, &mut next)?,
                }
                self.keep_within_budget()?;
                // The memory tier spilled: the rest of the level is tentative.
                if tentative.is_none() && self.visited.has_disk_tier() {
                    tentative = Some(Tentative::new(
                        words + TENTATIVE_EXTRA,
                        self.budget.queue_words,
                    ));
                }
            }
            tile_base += (tile.len() / words) as u64;
        }
        if let Some(f) = finding {
            return Ok(Level::Found(f));
        }
        // --continue: this level's findings, shortest trace first.
        let mut findings: Vec<(backend::Ident, LevelFinding)> = findings.into_iter().collect();
        findings.sort_by_key(|(_, f)| f.found.key);
        for (ident, f) in findings {
            let v = self.violation(&f.found, level_base, Some(&f.state))?;
            self.violations.push(v);
            self.reported.insert(ident);
            let id = level_base + u64::from(f.found.key.1);
            self.saved.push(SavedFinding::of(&f.found, id));
        }
        if !expand {
            return Ok(Level::Checked);
        }
        if let Some(t) = tentative {
            self.settle(t, &mut next)?;
        }
        Ok(Level::Next(next))
    }

    /// Merges a tile's candidates when there is no disk tier: a candidate
    /// new to the memory tier is new.
    fn merge(
        &mut self,
        chunks: &[ChunkOut<F>],
        parent_base: u64,
        next: &mut Queue,
    ) -> Result<(), StoreError> {
        let words = self.layout.words as usize;
        let kept = by_chunk(self.visited.insert_sharded(decide(chunks)), chunks.len());
        debug_assert_eq!(kept.len(), chunks.len());
        if let Some(cov) = &mut self.coverage {
            for &(ci, k) in kept.iter().flatten() {
                cov.found(self.model, chunks[ci as usize].instances[k as usize]);
            }
        }
        let total: usize = kept.iter().map(Vec::len).sum();
        let mut states = vec![0u32; total * words];
        let log_start = self.log.len();
        let (parents, instances) = self.log.extend(total);
        let mut jobs = Vec::with_capacity(kept.len());
        let (mut words_rest, mut parents_rest, mut instances_rest) =
            (&mut states[..], parents, instances);
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
                p[j] = parent_base + c.parents[k] as u64;
                i[j] = c.instances[k];
                // A parent is in the level being expanded, logged earlier.
                debug_assert!(p[j] < log_start);
            }
        });
        next.push(&states, &self.spill)
    }

    /// Merges a tile's candidates when there is a disk tier: those new to
    /// the memory tier and to the level are queued as tentative records
    /// (state, fingerprint, parent, instance) until the level's pass over
    /// the runs.
    fn merge_tentative(
        &mut self,
        chunks: &[ChunkOut<F>],
        parent_base: u64,
        t: &mut Tentative<F>,
    ) -> Result<(), StoreError> {
        let words = self.layout.words as usize;
        let stride = t.record_words();
        let kept = by_chunk(t.insert_sharded(decide(chunks)), chunks.len());
        let total: usize = kept.iter().map(Vec::len).sum();
        // Each shard's records fill their own slice, in parallel.
        let mut records = vec![0u32; total * stride];
        let mut slices = Vec::with_capacity(kept.len());
        let mut rest = &mut records[..];
        for list in &kept {
            let (mine, after) = rest.split_at_mut(list.len() * stride);
            slices.push((list, mine));
            rest = after;
        }
        slices.into_par_iter().for_each(|(list, out)| {
            let mut fp_words = Vec::with_capacity(F::WORDS);
            for (&(ci, k), r) in list.iter().zip(out.chunks_exact_mut(stride)) {
                let c = &chunks[ci as usize];
                let k = k as usize;
                let parent = parent_base + c.parents[k] as u64;
                fp_words.clear();
                c.fps[k].push_words(&mut fp_words);
                r[..F::WORDS].copy_from_slice(&fp_words);
                let r = &mut r[F::WORDS..];
                r[..words].copy_from_slice(&c.words[k * words..(k + 1) * words]);
                r[words..].copy_from_slice(&[parent as u32, (parent >> 32) as u32, c.instances[k]]);
            }
        });
        t.push(&records, &self.spill)
    }

    /// The level's pass over the disk tier (`Tentative::settle`): the
    /// states new to every tier join the trace log and the next frontier,
    /// in order.
    fn settle(&mut self, t: Tentative<F>, next: &mut Queue) -> Result<(), StoreError> {
        let words = self.layout.words as usize;
        let stride = t.record_words();
        let (log, spill, budget) = (&mut self.log, &self.spill, self.budget);
        let (model, coverage) = (self.model, &mut self.coverage);
        let mut states = Vec::new();
        t.settle(
            &mut self.visited,
            spill,
            budget.tile_states,
            budget.visited,
            |records| {
                states.clear();
                for r in records.chunks_exact(stride) {
                    let r = &r[F::WORDS..];
                    let parent = r[words] as u64 | (r[words + 1] as u64) << 32;
                    debug_assert!(parent < log.len(), "a parent is logged before its child");
                    log.push(parent, r[words + 2]);
                    if let Some(cov) = coverage.as_mut() {
                        cov.found(model, r[words + 2]);
                    }
                    states.extend_from_slice(&r[..words]);
                }
                next.push(&states, spill)?;
                if budget.log.is_some_and(|b| log.memory_bytes() > b) {
                    log.spill(spill)?;
                }
                Ok(())
            },
        )?;
        Ok(())
    }

    /// Initial states: deduplicated, those outside the constraint checked
    /// and dropped, the rest the first frontier.
    #[allow(clippy::type_complexity)]
    fn initial_frontier(&mut self) -> Result<Result<Queue, StoreError>, Box<Violation>> {
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
        // Cover statements of the `init`s.
        self.reached |= std::mem::take(&mut stepper.ev.covered);
        self.generated = states.len() as u64;
        let words = self.layout.words as usize;
        let mut frontier = Vec::new();
        let mut packed = vec![0u32; words];
        let (mut scratch, mut canon) = (Scratch::default(), Vec::new());
        for (ordinal, s) in states.iter().enumerate() {
            if !stepper.in_constraint(s).map_err(error)? {
                if let Some(inv) = stepper.check_invariants(s).map_err(error)? {
                    let trace = trace::replay(self.model, ordinal as u64, &[]).ok();
                    return Err(Box::new(self.invariant_violation(inv.0, trace)));
                }
                continue;
            }
            match &self.symmetry {
                Some(sym) => {
                    sym.canonicalize(s, &mut scratch, &mut canon);
                    self.layout.pack(&canon, &mut packed);
                }
                None => self.layout.pack(s, &mut packed),
            }
            if self.visited.insert(F::of_state(&packed)) {
                frontier.extend_from_slice(&packed);
                self.log.push_initial(ordinal as u32);
            }
        }
        self.initial = (frontier.len() / words) as u64;
        if let Some(cov) = &mut self.coverage {
            cov.initial = self.initial;
        }
        let mut queue = Queue::new(words, self.budget.queue_words);
        Ok(queue.push(&frontier, &self.spill).map(|()| queue))
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

    /// The violation a finding makes, its trace rebuilt from the log;
    /// `state` (the expanded state, packed) is checked against the replay.
    fn violation(
        &self,
        found: &backend::Found,
        level_base: u64,
        state: Option<&[u32]>,
    ) -> Result<Violation, StoreError> {
        let (_, index, instance) = found.key;
        let id = level_base + index as u64;
        let (ordinal, path) = self.log.path(id, &self.spill)?;
        let sym = self.symmetry.as_ref();
        let replayed = trace::replay_reduced(self.model, sym, ordinal, &path);
        // The replayed state must be the one the backend expanded (under
        // symmetry: its representative).
        if let Ok(r) = &replayed
            && let Some(last) = r.trace.states.last()
            && let Some(state) = state
        {
            let mut packed = vec![0u32; state.len()];
            match sym {
                Some(sym) => {
                    let mut canon = Vec::new();
                    sym.canonicalize(&last.slots, &mut Scratch::default(), &mut canon);
                    self.layout.pack(&canon, &mut packed);
                }
                None => self.layout.pack(&last.slots, &mut packed),
            }
            assert_eq!(packed, state, "replayed trace ends in the expanded state");
        }
        // The logged instance after the path, as the trace's last state
        // sees it.
        let instance = match (
            sym,
            replayed.as_ref().ok().and_then(|r| r.to_trace.as_ref()),
        ) {
            (Some(sym), Some(p)) => sym
                .permute_instance(self.model, instance as u64, p)
                .unwrap_or(instance as u64) as u32,
            _ => instance,
        };
        let base = replayed.map(|r| r.trace);
        // Under symmetry a path that does not replay means the rules do not
        // commute with the renamings: the reduced search is not to be
        // trusted, and that is the finding (never a crash).
        if let (Some(_), Err(e)) = (sym, &base) {
            return Ok(Violation {
                kind: ViolationKind::Symmetry,
                name: "symmetry".to_string(),
                message: e.clone(),
                span: None,
                trace: None,
            });
        }
        let trace = |t: Result<Trace, String>| match t {
            Ok(t) => Some(t),
            Err(e) => panic!("internal error: trace replay failed: {e}"),
        };
        Ok(match &found.what {
            FoundKind::Invariant(i) => self.invariant_violation(*i, trace(base)),
            FoundKind::Deadlock => Violation {
                kind: ViolationKind::Deadlock,
                name: "deadlock".to_string(),
                message: self.model.deadlock.message().to_string(),
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
                let t = base.and_then(|t| trace::extend(self.model, t, instance as u64));
                self.invariant_violation(*i, trace(t))
            }
        })
    }
}

fn rule_name(model: &Model, instance: u64) -> String {
    model
        .rule_of_instance(instance)
        .map_or_else(String::new, |(r, _)| model.rules[r].name.clone())
}

/// How each visited-set shard decides a tile's candidates: in the
/// frontier's canonical order, by (parent, rule instance), the order
/// candidates have within and across chunks, so a state found twice keeps
/// its least (parent, instance). Returns the (chunk, candidate) pairs the
/// shard found new.
fn decide<F: Fingerprint>(
    chunks: &[ChunkOut<F>],
) -> impl Fn(&mut ShardInsert<'_, F>) -> Vec<(u32, u32)> + Sync + '_ {
    move |shard| {
        let s = shard.index();
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
    }
}

/// The shards' new candidates listed chunk by chunk, each chunk's in
/// candidate order. A GPU can give the same order (a prefix sum over the
/// frontier), so the next frontier, and every trace, is the same on every
/// backend and for any tile size.
fn by_chunk(by_shard: Vec<Vec<(u32, u32)>>, chunks: usize) -> Vec<Vec<(u32, u32)>> {
    let mut by_chunk: Vec<Vec<(u32, u32)>> = vec![Vec::new(); chunks];
    for list in by_shard {
        for (ci, k) in list {
            by_chunk[ci as usize].push((ci, k));
        }
    }
    by_chunk.par_iter_mut().for_each(|l| l.sort_unstable());
    by_chunk
}
