//! The reachable state graph as the liveness check reads it: states by id
//! (the trace log's ids, which are the order states were expanded), their
//! temporal atoms, and their state-changing steps in compressed sparse rows.

use state_store::Fp;

use crate::engine::backend::ChunkGraph;

/// A step's target that lies outside the constraint: enabled, but not a
/// state of the graph (behaviors end there).
pub const OUTSIDE: u32 = u32::MAX;

/// Collects the chunks' graphs while the search runs, in expansion order.
pub struct Builder<F: Fp> {
    atom_words: usize,
    fps: Vec<F>,
    atoms: Vec<u64>,
    offsets: Vec<u64>,
    targets: Vec<Option<F>>,
    instances: Vec<u32>,
}

impl<F: Fp> Builder<F> {
    pub fn new(atom_words: usize) -> Builder<F> {
        Builder {
            atom_words,
            fps: Vec::new(),
            atoms: Vec::new(),
            offsets: vec![0],
            targets: Vec::new(),
            instances: Vec::new(),
        }
    }

    /// States recorded so far: the id the next one gets.
    pub fn len(&self) -> u64 {
        self.fps.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.fps.is_empty()
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
        let base = self.targets.len() as u64;
        self.fps.extend_from_slice(&g.fps);
        self.atoms.extend_from_slice(&g.atoms);
        self.offsets.extend(g.ends.iter().map(|&e| base + e as u64));
        self.targets.extend_from_slice(&g.targets);
        self.instances.extend_from_slice(&g.instances);
    }

    /// The graph with targets as state ids. Every target inside the
    /// constraint must be a recorded state: the search was complete.
    pub fn finish(self, initial: u32) -> Result<Graph, String> {
        let n = self.fps.len();
        if n >= OUTSIDE as usize {
            return Err(format!(
                "{n} states are too many for the liveness graph (2^32 at most)"
            ));
        }
        let mut ids: hashbrown::HashMap<F, u32> = hashbrown::HashMap::with_capacity(n);
        for (i, &fp) in self.fps.iter().enumerate() {
            let first = ids.insert(fp, i as u32).is_none();
            assert!(first, "a state is expanded once");
        }
        let mut targets = Vec::with_capacity(self.targets.len());
        for t in &self.targets {
            targets.push(match t {
                None => OUTSIDE,
                Some(fp) => match ids.get(fp) {
                    Some(&id) => id,
                    None => return Err("a successor was never expanded".to_string()),
                },
            });
        }
        Ok(Graph {
            n,
            initial,
            atom_words: self.atom_words,
            atoms: self.atoms,
            offsets: self.offsets,
            targets,
            instances: self.instances,
        })
    }
}

pub struct Graph {
    pub n: usize,
    /// States `0..initial` are the initial states.
    pub initial: u32,
    atom_words: usize,
    atoms: Vec<u64>,
    offsets: Vec<u64>,
    targets: Vec<u32>,
    instances: Vec<u32>,
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

    pub fn memory_bytes(&self) -> usize {
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
            atoms,
            offsets,
            targets,
            instances,
        }
    }
}
