//! The reachable state graph as the liveness check reads it: states by id
//! (the trace log's ids, which are the order states were expanded), their
//! temporal atoms, and their state-changing steps in compressed sparse rows.

use state_store::{Column, Fp, Frozen, SpillDir, StoreError};

use crate::engine::backend::ChunkGraph;

/// A step's target that lies outside the constraint: enabled, but not a
/// state of the graph (behaviors end there).
pub const OUTSIDE: u32 = u32::MAX;

/// Collects the chunks' graphs while the search runs, in expansion order.
/// Its columns move to disk past a budget ([`Builder::spill`]).
pub struct Builder<F: Fp> {
    atom_words: usize,
    /// `F::WORDS` words per state.
    fps: Column<u32>,
    atoms: Column<u64>,
    /// Per state, the end of its steps (after a leading 0).
    offsets: Column<u64>,
    /// `F::WORDS` words per step: the successor's fingerprint (zeros for
    /// a step outside the constraint).
    targets: Column<u32>,
    instances: Column<u32>,
    /// The steps (ascending) whose successor lies outside the constraint.
    outside: Vec<u64>,
    states: u64,
    steps: u64,
    _f: std::marker::PhantomData<F>,
}

impl<F: Fp> Builder<F> {
    pub fn new(atom_words: usize) -> Builder<F> {
        Builder {
            atom_words,
            fps: Column::default(),
            atoms: Column::default(),
            offsets: Column::from_vec(vec![0]),
            targets: Column::default(),
            instances: Column::default(),
            outside: Vec::new(),
            states: 0,
            steps: 0,
            _f: std::marker::PhantomData,
        }
    }

    /// States recorded so far: the id the next one gets.
    pub fn len(&self) -> u64 {
        self.states
    }

    pub fn is_empty(&self) -> bool {
        self.states == 0
    }

    /// Bytes the columns hold in memory.
    pub fn memory_bytes(&self) -> u64 {
        self.fps.memory_bytes()
            + self.atoms.memory_bytes()
            + self.offsets.memory_bytes()
            + self.targets.memory_bytes()
            + self.instances.memory_bytes()
            + self.outside.capacity() as u64 * 8
    }

    /// Moves every column's tail to its file.
    pub fn spill(&mut self, spill: &SpillDir) -> Result<(), StoreError> {
        self.fps.spill(spill)?;
        self.atoms.spill(spill)?;
        self.offsets.spill(spill)?;
        self.targets.spill(spill)?;
        self.instances.spill(spill)
    }

    /// Appends a chunk's states, which follow those recorded so far.
    pub fn push(&mut self, g: &ChunkGraph<F>) {
        assert_eq!(g.ends.len(), g.fps.len(), "one step list per state");
        assert_eq!(
            g.atoms.len(),
            g.fps.len() * self.atom_words,
            "atoms per state"
        );
        assert_eq!(g.targets.len(), g.instances.len());
        let base = self.steps;
        let mut words = Vec::with_capacity(g.fps.len().max(g.targets.len()) * F::WORDS);
        for fp in &g.fps {
            fp.push_words(&mut words);
        }
        self.fps.extend_from_slice(&words);
        self.atoms.extend_from_slice(&g.atoms);
        for &e in &g.ends {
            self.offsets.push(base + e as u64);
        }
        words.clear();
        for (k, t) in g.targets.iter().enumerate() {
            if t.is_none() {
                self.outside.push(base + k as u64);
            }
            t.unwrap_or_default().push_words(&mut words);
        }
        self.targets.extend_from_slice(&words);
        self.instances.extend_from_slice(&g.instances);
        self.states += g.fps.len() as u64;
        self.steps += g.targets.len() as u64;
    }

    /// The builder as bytes, for a checkpoint: a header (states, steps,
    /// atom words, fingerprint bits, outside steps), then each column
    /// little-endian.
    pub fn to_bytes(&self, spill: &SpillDir) -> Result<Vec<u8>, StoreError> {
        let head = [
            self.states,
            self.steps,
            self.atom_words as u64,
            F::BITS as u64,
            self.outside.len() as u64,
        ];
        let mut out = Vec::new();
        let longs = [self.atoms.to_vec(spill)?, self.offsets.to_vec(spill)?];
        for x in head
            .iter()
            .chain(longs.iter().flatten())
            .chain(&self.outside)
        {
            out.extend_from_slice(&x.to_le_bytes());
        }
        for col in [&self.fps, &self.targets, &self.instances] {
            for w in col.to_vec(spill)? {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        Ok(out)
    }

    /// A builder read back from [`Builder::to_bytes`], every length and
    /// offset checked.
    pub fn from_bytes(b: &[u8], atom_words: usize) -> Result<Builder<F>, String> {
        let bad = |why: &str| format!("the checkpoint's liveness graph: {why}");
        let mut r = Reader { b, at: 0 };
        let head = r.u64s(5).ok_or_else(|| bad("truncated"))?;
        let (n, m, outside) = (head[0] as usize, head[1] as usize, head[4] as usize);
        if head[2] != atom_words as u64 || head[3] != F::BITS as u64 {
            return Err(bad(
                "made for other properties or another fingerprint width",
            ));
        }
        let truncated = || bad("truncated");
        let atoms = r.u64s(n.saturating_mul(atom_words)).ok_or_else(truncated)?;
        let offsets = r.u64s(n.saturating_add(1)).ok_or_else(truncated)?;
        let outside = r.u64s(outside).ok_or_else(truncated)?;
        let fps = r.u32s(n.saturating_mul(F::WORDS)).ok_or_else(truncated)?;
        let targets = r.u32s(m.saturating_mul(F::WORDS)).ok_or_else(truncated)?;
        let instances = r.u32s(m).ok_or_else(truncated)?;
        if r.at != b.len() {
            return Err(bad("trailing bytes"));
        }
        if offsets.first() != Some(&0)
            || offsets.windows(2).any(|w| w[0] > w[1])
            || offsets.last() != Some(&(m as u64))
        {
            return Err(bad("step offsets"));
        }
        if outside.windows(2).any(|w| w[0] >= w[1])
            || outside.last().is_some_and(|&o| o >= m as u64)
        {
            return Err(bad("outside steps"));
        }
        Ok(Builder {
            atom_words,
            fps: Column::from_vec(fps),
            atoms: Column::from_vec(atoms),
            offsets: Column::from_vec(offsets),
            targets: Column::from_vec(targets),
            instances: Column::from_vec(instances),
            outside,
            states: n as u64,
            steps: m as u64,
            _f: std::marker::PhantomData,
        })
    }

    /// The graph with targets as state ids. Every target inside the
    /// constraint must be a recorded state: the search was complete. With
    /// `budget`, the resolved targets spill past it as the columns did.
    pub fn finish(
        self,
        initial: u32,
        spill: &SpillDir,
        budget: Option<u64>,
    ) -> Result<Graph, String> {
        let n = self.states as usize;
        if n >= OUTSIDE as usize {
            return Err(format!(
                "{n} states are too many for the liveness graph (2^32 at most)"
            ));
        }
        let io = |e: StoreError| e.to_string();
        let fps = self.fps.freeze(spill).map_err(io)?;
        let mut ids: hashbrown::HashMap<F, u32> = hashbrown::HashMap::with_capacity(n);
        for (i, w) in fps.chunks_exact(F::WORDS).enumerate() {
            let first = ids.insert(F::from_words(w), i as u32).is_none();
            assert!(first, "a state is expanded once");
        }
        drop(fps);
        let words = self.targets.freeze(spill).map_err(io)?;
        let mut targets = Column::<u32>::default();
        let mut outside = self.outside.iter().copied().peekable();
        for (k, w) in words.chunks_exact(F::WORDS).enumerate() {
            let id = if outside.next_if_eq(&(k as u64)).is_some() {
                OUTSIDE
            } else {
                match ids.get(&F::from_words(w)) {
                    Some(&id) => id,
                    None => return Err("a successor was never expanded".to_string()),
                }
            };
            targets.push(id);
            if budget.is_some_and(|b| targets.memory_bytes() > b) {
                targets.spill(spill).map_err(io)?;
            }
        }
        assert!(outside.next().is_none(), "every outside step is a step");
        Ok(Graph {
            n,
            initial,
            atom_words: self.atom_words,
            atoms: self.atoms.freeze(spill).map_err(io)?,
            offsets: self.offsets.freeze(spill).map_err(io)?,
            targets: targets.freeze(spill).map_err(io)?,
            instances: self.instances.freeze(spill).map_err(io)?,
        })
    }
}

/// Little-endian words from a byte slice, bounds checked.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len())?;
        let s = &self.b[self.at..end];
        self.at = end;
        Some(s)
    }

    fn u64s(&mut self, n: usize) -> Option<Vec<u64>> {
        let bytes = self.take(n.checked_mul(8)?)?;
        Some(
            bytes
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
                .collect(),
        )
    }

    fn u32s(&mut self, n: usize) -> Option<Vec<u32>> {
        let bytes = self.take(n.checked_mul(4)?)?;
        Some(
            bytes
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap_or_default()))
                .collect(),
        )
    }
}

pub struct Graph {
    pub n: usize,
    /// States `0..initial` are the initial states.
    pub initial: u32,
    atom_words: usize,
    atoms: Frozen<u64>,
    offsets: Frozen<u64>,
    targets: Frozen<u32>,
    instances: Frozen<u32>,
}

impl Graph {
    /// The state-changing steps of state `v`: (target or [`OUTSIDE`], rule instance).
    pub fn steps(&self, v: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        let r = self.step_range(v);
        self.targets[r.clone()]
            .iter()
            .copied()
            .zip(self.instances[r].iter().copied())
    }

    /// Positions of state `v`'s steps, for [`Graph::target`] and [`Graph::instance`].
    pub fn step_range(&self, v: u32) -> std::ops::Range<usize> {
        self.offsets[v as usize] as usize..self.offsets[v as usize + 1] as usize
    }

    pub fn target(&self, step: usize) -> u32 {
        self.targets[step]
    }

    pub fn instance(&self, step: usize) -> u32 {
        self.instances[step]
    }

    /// Atom `bit` of state `v`.
    pub fn atom(&self, v: u32, bit: usize) -> bool {
        self.atoms[v as usize * self.atom_words + bit / 64] >> (bit % 64) & 1 == 1
    }

    pub fn edges(&self) -> usize {
        self.targets.len()
    }

    /// Bytes of the graph's columns (in memory or mapped).
    pub fn bytes(&self) -> usize {
        self.atoms.len() * 8 + self.offsets.len() * 8 + self.targets.len() * 8
    }
}

#[cfg(test)]
impl Graph {
    /// A graph from adjacency lists, for tests: (target, instance) per step.
    pub fn from_lists(initial: u32, atoms: Vec<u64>, steps: &[Vec<(u32, u32)>]) -> Graph {
        let mut offsets = vec![0u64];
        let (mut targets, mut instances) = (Vec::new(), Vec::new());
        for s in steps {
            for &(t, i) in s {
                targets.push(t);
                instances.push(i);
            }
            offsets.push(targets.len() as u64);
        }
        assert_eq!(atoms.len(), steps.len());
        Graph {
            n: steps.len(),
            initial,
            atom_words: 1,
            atoms: Frozen::Memory(atoms),
            offsets: Frozen::Memory(offsets),
            targets: Frozen::Memory(targets),
            instances: Frozen::Memory(instances),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builder_survives_a_checkpoint_and_a_spill() {
        let dir = SpillDir::temporary().expect("temp dir");
        for spilled in [false, true] {
            let mut b = Builder::<u128>::new(1);
            b.push(&ChunkGraph {
                fps: vec![7, 1 << 100],
                atoms: vec![3, 0],
                ends: vec![2, 3],
                targets: vec![Some(1 << 100), None, Some(7)],
                instances: vec![0, 4, 2],
            });
            if spilled {
                b.spill(&dir).expect("spills");
                assert!(b.memory_bytes() <= 64, "only the outside list stays");
            }
            let bytes = b.to_bytes(&dir).expect("reads");
            let back = Builder::<u128>::from_bytes(&bytes, 1).expect("reads back");
            assert_eq!(back.to_bytes(&dir).expect("reads"), bytes);
            for b in [b, back] {
                let g = b.finish(1, &dir, Some(0)).expect("complete");
                assert_eq!(g.steps(0).collect::<Vec<_>>(), [(1, 0), (OUTSIDE, 4)]);
                assert_eq!(g.steps(1).collect::<Vec<_>>(), [(0, 2)]);
                assert!(g.atom(0, 0) && g.atom(0, 1) && !g.atom(1, 0));
            }
            assert!(Builder::<u128>::from_bytes(&bytes[..bytes.len() - 1], 1).is_err());
            assert!(Builder::<u64>::from_bytes(&bytes, 1).is_err(), "width");
            assert!(Builder::<u128>::from_bytes(&bytes, 2).is_err(), "atoms");
        }
    }
}
