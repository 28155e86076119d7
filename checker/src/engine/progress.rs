//! Live counters of a running check, read by the progress display.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Default)]
pub struct Progress {
    pub distinct: AtomicU64,
    pub generated: AtomicU64,
    pub depth: AtomicU64,
    pub frontier: AtomicU64,
    /// Frontier states of the current level already expanded.
    pub expanded: AtomicU64,
    pub visited_bytes: AtomicU64,
}

impl Progress {
    pub fn chunk_done(&self, states: u64, generated: u64) {
        self.expanded.fetch_add(states, Relaxed);
        self.generated.fetch_add(generated, Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            distinct: self.distinct.load(Relaxed),
            generated: self.generated.load(Relaxed),
            depth: self.depth.load(Relaxed),
            frontier: self.frontier.load(Relaxed),
            expanded: self.expanded.load(Relaxed),
            visited_bytes: self.visited_bytes.load(Relaxed),
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Snapshot {
    pub distinct: u64,
    pub generated: u64,
    pub depth: u64,
    pub frontier: u64,
    pub expanded: u64,
    pub visited_bytes: u64,
}
