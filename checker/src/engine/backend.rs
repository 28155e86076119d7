//! The seam between the engine and the places states are expanded.
//!
//! A backend turns a level's frontier into candidate successors (packed
//! words, fingerprint, parent, rule instance) and check results; the engine
//! owns everything else: deduplication, the trace log, levels, violations.
//! The CPU backend (`backend::cpu`) is the reference.

use super::progress::Progress;
use model::eval::EvalError;
use state_store::memory::SHARDS;
use state_store::{Fp, MemoryTier};

/// Frontier states per chunk. Fixed, so that chunking, and with it every
/// count and trace, is the same for any number of threads.
pub const CHUNK_STATES: usize = 1024;

pub struct LevelInput<'a> {
    /// Packed states, `words` u32 each.
    pub frontier: &'a [u32],
    pub words: usize,
    /// False at `--max-depth`: the states are checked but not expanded.
    pub expand: bool,
    pub deadlock: bool,
    /// Record the state graph ([`ChunkGraph`]) for liveness properties.
    pub graph: bool,
    /// Count enabled instances per rule ([`ChunkOut::enabled`], `--coverage`).
    pub coverage: bool,
    /// Keep successors as their orbits' representatives.
    pub symmetry: Option<&'a model::symmetry::Symmetry>,
    /// `--continue`: record every finding ([`ChunkOut::findings`], the
    /// least per [`Ident`]) and expand on past it, instead of stopping.
    pub keep_going: bool,
}

/// The part of the state graph a chunk expanded, for the liveness check:
/// per frontier state, in order, its fingerprint, its temporal atoms, and
/// every step that changes it. Steps that leave the state as it was are
/// stuttering and are left out.
#[derive(Default)]
pub struct ChunkGraph<F: Fp = u64> {
    pub fps: Vec<F>,
    /// `Model::temporal_atom_words()` words per state.
    pub atoms: Vec<u64>,
    /// Per state, the end of its steps in `targets` and `instances`.
    pub ends: Vec<u32>,
    /// Each step's successor; `None` when it lies outside the constraint
    /// (the step is enabled, but the behavior ends there).
    pub targets: Vec<Option<F>>,
    pub instances: Vec<u32>,
}

/// What a chunk found wrong. Ordered by `key`: the engine reports the least,
/// which is the one with the shortest trace.
#[derive(Clone, Debug)]
pub struct Found {
    /// (states in the trace beyond the frontier state: 0 or 1, frontier
    /// index, rule instance).
    pub key: (u32, u32, u32),
    pub what: FoundKind,
}

impl Found {
    /// Which property the finding violates: `--continue` reports each once.
    pub fn ident(&self) -> Ident {
        match &self.what {
            FoundKind::Invariant(i) | FoundKind::SuccessorInvariant(i) => Ident::Invariant(*i),
            FoundKind::Deadlock => Ident::Deadlock,
            FoundKind::StateError(e) | FoundKind::StepError(e) => {
                Ident::Error(e.kind as u8, e.span.start, e.span.end)
            }
        }
    }
}

/// A violated property, as `--continue` tells them apart: an invariant,
/// deadlock, or a failing statement or expression (by its kind and place
/// in the spec).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ident {
    Invariant(usize),
    Deadlock,
    Error(u8, u32, u32),
}

#[derive(Clone, Debug)]
pub enum FoundKind {
    /// The frontier state violates invariant `.0`.
    Invariant(usize),
    /// The frontier state has no enabled rule instance.
    Deadlock,
    /// Evaluating a property of the frontier state failed.
    StateError(EvalError),
    /// Firing rule instance `key.2` from the frontier state failed.
    StepError(EvalError),
    /// The successor by rule instance `key.2` lies outside the constraint
    /// and violates invariant `.0`.
    SuccessorInvariant(usize),
}

/// A fingerprint width and the function that computes it from a packed
/// state (the model's, shared with the GPU kernels).
pub trait Fingerprint: Fp {
    fn of_state(words: &[u32]) -> Self;
}

impl Fingerprint for u64 {
    fn of_state(words: &[u32]) -> u64 {
        model::fingerprint::fingerprint(words)
    }
}

impl Fingerprint for u128 {
    fn of_state(words: &[u32]) -> u128 {
        model::fingerprint::fingerprint128(words)
    }
}

/// The candidates and findings of one chunk of the frontier.
pub struct ChunkOut<F: Fp = u64> {
    /// Candidate successors not in the memory tier as of the tile's start.
    pub words: Vec<u32>,
    pub fps: Vec<F>,
    /// Frontier index of each candidate's parent.
    pub parents: Vec<u32>,
    pub instances: Vec<u32>,
    /// Candidate indexes grouped by visited-set shard (stable within a shard).
    pub order: Vec<u32>,
    /// `order[shard_starts[s]..shard_starts[s + 1]]` belong to shard `s`.
    pub shard_starts: Vec<u32>,
    pub generated: u64,
    /// The least finding (without `--continue`), or one that `--continue`
    /// cannot go on past (an error in a temporal property's atoms).
    pub found: Option<Found>,
    /// With [`LevelInput::keep_going`]: the least finding of each
    /// [`Ident`], in no particular order.
    pub findings: Vec<Found>,
    keep_going: bool,
    /// Bit i: some state of the chunk satisfies `reachable` i.
    pub reachables: u64,
    /// With [`LevelInput::graph`]: the chunk's part of the state graph.
    pub graph: Option<ChunkGraph<F>>,
    /// With [`LevelInput::coverage`]: per rule, the instances enabled in
    /// the chunk's states (each generated one successor); else empty.
    pub enabled: Vec<u64>,
    /// With [`LevelInput::coverage`]: per invariant, the chunk's states
    /// where its premise held ([`model::ir::Property::premise`]); else empty.
    pub premises: Vec<u64>,
}

impl<F: Fp> ChunkOut<F> {
    pub fn with_capacity(candidates: usize, words: usize) -> ChunkOut<F> {
        ChunkOut {
            words: Vec::with_capacity(candidates * words),
            fps: Vec::with_capacity(candidates),
            parents: Vec::with_capacity(candidates),
            instances: Vec::with_capacity(candidates),
            order: Vec::new(),
            shard_starts: Vec::new(),
            generated: 0,
            found: None,
            findings: Vec::new(),
            keep_going: false,
            reachables: 0,
            graph: None,
            enabled: Vec::new(),
            premises: Vec::new(),
        }
    }

    /// Records findings of every property, not just the least (`--continue`).
    pub fn keep_going(&mut self, on: bool) {
        self.keep_going = on;
    }

    /// Whether expansion goes on past findings (`--continue`).
    pub fn keeps_going(&self) -> bool {
        self.keep_going
    }

    /// Records a finding if it comes before the one held (with
    /// `--continue`: before the one held for the same property).
    pub fn find(&mut self, key: (u32, u32, u32), what: FoundKind) {
        if self.keep_going {
            let found = Found { key, what };
            let ident = found.ident();
            match self.findings.iter_mut().find(|f| f.ident() == ident) {
                Some(old) if key < old.key => *old = found,
                Some(_) => {}
                None => self.findings.push(found),
            }
            return;
        }
        self.find_fatal(key, what);
    }

    /// Records a finding that ends the search even with `--continue`.
    pub fn find_fatal(&mut self, key: (u32, u32, u32), what: FoundKind) {
        if self.found.as_ref().is_none_or(|f| key < f.key) {
            self.found = Some(Found { key, what });
        }
    }

    /// Groups candidates by shard (a counting sort; stable).
    pub fn group_by_shard(&mut self) {
        let shards = SHARDS;
        let mut starts = vec![0u32; shards + 1];
        for &fp in &self.fps {
            starts[fp.shard() + 1] += 1;
        }
        for s in 0..shards {
            starts[s + 1] += starts[s];
        }
        let mut next = starts.clone();
        self.order = vec![0; self.fps.len()];
        for (i, &fp) in self.fps.iter().enumerate() {
            let s = fp.shard();
            self.order[next[s] as usize] = i as u32;
            next[s] += 1;
        }
        self.shard_starts = starts;
    }
}

/// A backend that cannot go on (a lost GPU): the run stops with this
/// message, at the last complete level.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub struct BackendError(pub String);

pub trait Backend<F: Fp>: Sync {
    fn name(&self) -> &'static str;

    /// Expands a tile of a level: one [`ChunkOut`] per [`CHUNK_STATES`]
    /// frontier states, in frontier order. `visited` is read-only here;
    /// candidates it holds must not be returned.
    fn expand(
        &self,
        input: &LevelInput<'_>,
        visited: &MemoryTier<F>,
        progress: &Progress,
    ) -> Result<Vec<ChunkOut<F>>, BackendError>;
}
