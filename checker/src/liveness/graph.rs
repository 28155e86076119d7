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

    /// The builder as bytes, for a checkpoint: a header (states, steps,
    /// atom words, fingerprint bits), then each column little-endian;
    /// a step's target is a flag word (1: outside) and the fingerprint.
    pub fn to_bytes(&self) -> Vec<u8> {
        let head = [
            self.fps.len() as u64,
            self.targets.len() as u64,
            self.atom_words as u64,
            F::BITS as u64,
        ];
        let mut words = Vec::new();
        for fp in &self.fps {
            fp.push_words(&mut words);
        }
        for t in &self.targets {
            words.push(t.is_none() as u32);
            t.unwrap_or_default().push_words(&mut words);
        }
        words.extend_from_slice(&self.instances);
        let mut out = Vec::new();
        for x in head.iter().chain(&self.atoms).chain(&self.offsets) {
            out.extend_from_slice(&x.to_le_bytes());
        }
        for w in words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// A builder read back from [`Builder::to_bytes`], every length and
    /// offset checked.
    pub fn from_bytes(b: &[u8], atom_words: usize) -> Result<Builder<F>, String> {
        let bad = |why: &str| format!("the checkpoint's liveness graph: {why}");
        let mut r = Reader { b, at: 0 };
        let head = r.u64s(4).ok_or_else(|| bad("truncated"))?;
        let (n, m) = (head[0] as usize, head[1] as usize);
        if head[2] != atom_words as u64 || head[3] != F::BITS as u64 {
            return Err(bad(
                "made for other properties or another fingerprint width",
            ));
        }
        let atoms = r
            .u64s(n.saturating_mul(atom_words))
            .ok_or_else(|| bad("truncated"))?;
        let offsets = r
            .u64s(n.saturating_add(1))
            .ok_or_else(|| bad("truncated"))?;
        let words_len = n
            .saturating_mul(F::WORDS)
            .saturating_add(m.saturating_mul(2 + F::WORDS));
        let words = r.u32s(words_len).ok_or_else(|| bad("truncated"))?;
        if r.at != b.len() {
            return Err(bad("trailing bytes"));
        }
        if offsets.first() != Some(&0)
            || offsets.windows(2).any(|w| w[0] > w[1])
            || offsets.last() != Some(&(m as u64))
        {
            return Err(bad("step offsets"));
        }
        let (fp_words, rest) = words.split_at(n * F::WORDS);
        let (target_words, instances) = rest.split_at(m * (1 + F::WORDS));
        let fps = fp_words.chunks_exact(F::WORDS).map(F::from_words).collect();
        let mut targets = Vec::with_capacity(m);
        for t in target_words.chunks_exact(1 + F::WORDS) {
            targets.push(match t[0] {
                0 => Some(F::from_words(&t[1..])),
                1 => None,
                _ => return Err(bad("a step's flag")),
            });
        }
        Ok(Builder {
            atom_words,
            fps,
            atoms,
            offsets,
            targets,
            instances: instances.to_vec(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builder_survives_a_checkpoint() {
        let mut b = Builder::<u128>::new(1);
        b.push(&ChunkGraph {
            fps: vec![7, 1 << 100],
            atoms: vec![3, 0],
            ends: vec![2, 3],
            targets: vec![Some(1 << 100), None, Some(7)],
            instances: vec![0, 4, 2],
        });
        let bytes = b.to_bytes();
        let back = Builder::<u128>::from_bytes(&bytes, 1).expect("reads back");
        assert_eq!(back.to_bytes(), bytes);
        let g = back.finish(1).expect("complete");
        assert_eq!(g.steps(0).collect::<Vec<_>>(), [(1, 0), (OUTSIDE, 4)]);
        assert_eq!(g.steps(1).collect::<Vec<_>>(), [(0, 2)]);
        assert!(g.atom(0, 0) && g.atom(0, 1) && !g.atom(1, 0));
        assert!(Builder::<u128>::from_bytes(&bytes[..bytes.len() - 1], 1).is_err());
        assert!(Builder::<u64>::from_bytes(&bytes, 1).is_err(), "width");
        assert!(Builder::<u128>::from_bytes(&bytes, 2).is_err(), "atoms");
    }
}
