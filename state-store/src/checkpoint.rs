//! A checkpoint: a generation of files `gen-N.{meta,fps,frontier,log}` and
//! a `CURRENT` file naming the newest complete generation. A new generation
//! is written in full before `CURRENT` moves to it (atomically), and only
//! then are older generations removed; so a kill at any point leaves a
//! complete checkpoint to resume from.

use std::path::Path;

use crate::StoreError;
use crate::file::{read_checked, write_atomic};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// The checker's own description of the search (opaque here).
    pub meta: Vec<u8>,
    /// Every visited fingerprint.
    pub fingerprints: Vec<u64>,
    /// The next level's packed states.
    pub frontier: Vec<u32>,
    /// The trace log: parent and rule instance of every state.
    pub parents: Vec<u64>,
    pub instances: Vec<u32>,
    /// The checker's liveness graph, when it records one (opaque here);
    /// `gen-N.graph`, absent without one.
    pub graph: Option<Vec<u8>>,
}

fn u64s(v: &[u64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
fn to_u64s(path: &Path, b: &[u8]) -> Result<Vec<u64>, StoreError> {
    if !b.len().is_multiple_of(8) {
        return Err(StoreError::corrupt(path, "not a whole number of u64"));
    }
    Ok(b.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect())
}
fn to_u32s(path: &Path, b: &[u8]) -> Result<Vec<u32>, StoreError> {
    if !b.len().is_multiple_of(4) {
        return Err(StoreError::corrupt(path, "not a whole number of u32"));
    }
    Ok(b.chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect())
}

const PARTS: [&str; 5] = ["meta", "fps", "frontier", "parents", "instances"];

impl Checkpoint {
    /// Writes a new generation into `dir` (created if needed) and makes it
    /// the current one.
    pub fn save(&self, dir: &Path) -> Result<(), StoreError> {
        assert_eq!(
            self.parents.len(),
            self.instances.len(),
            "one trace-log entry per state"
        );
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let generation = current_generation(dir)?.map_or(1, |g| g + 1);
        let payloads = [
            self.meta.clone(),
            u64s(&self.fingerprints),
            u32s(&self.frontier),
            u64s(&self.parents),
            u32s(&self.instances),
        ];
        for (part, payload) in PARTS.iter().zip(&payloads) {
            write_atomic(dir, &format!("gen-{generation}.{part}"), payload)?;
        }
        if let Some(graph) = &self.graph {
            write_atomic(dir, &format!("gen-{generation}.graph"), graph)?;
        }
        write_atomic(dir, "CURRENT", generation.to_string().as_bytes())?;
        // Older generations are garbage now; a failure to remove one is harmless.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(g) = name
                    .strip_prefix("gen-")
                    .and_then(|r| r.split('.').next())
                    .and_then(|g| g.parse::<u64>().ok())
                    && g < generation
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(())
    }

    /// Reads the current generation, every file checked.
    pub fn load(dir: &Path) -> Result<Checkpoint, StoreError> {
        let Some(generation) = current_generation(dir)? else {
            return Err(StoreError::Missing { dir: dir.to_path_buf() });
        };
        let read = |part: &str| {
            let path = dir.join(format!("gen-{generation}.{part}"));
            read_checked(&path).map(|b| (path, b))
        };
        let meta = read("meta")?.1;
        let (p, b) = read("fps")?;
        let fingerprints = to_u64s(&p, &b)?;
        let (p, b) = read("frontier")?;
        let frontier = to_u32s(&p, &b)?;
        let (p, b) = read("parents")?;
        let parents = to_u64s(&p, &b)?;
        let (p, b) = read("instances")?;
        let instances = to_u32s(&p, &b)?;
        if parents.len() != instances.len() {
            return Err(StoreError::corrupt(&p, "trace log parts differ in length"));
        }
        let graph_path = dir.join(format!("gen-{generation}.graph"));
        let graph = if graph_path.exists() {
            Some(read_checked(&graph_path)?)
        } else {
            None
        };
        Ok(Checkpoint {
            meta,
            fingerprints,
            frontier,
            parents,
            instances,
            graph,
        })
    }
}

fn current_generation(dir: &Path) -> Result<Option<u64>, StoreError> {
    let path = dir.join("CURRENT");
    if !path.exists() {
        return Ok(None);
    }
    let bytes = read_checked(&path)?;
    let text = String::from_utf8_lossy(&bytes);
    text.trim()
        .parse::<u64>()
        .map(Some)
        .map_err(|_| StoreError::corrupt(&path, "not a generation number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: u64) -> Checkpoint {
        Checkpoint {
            meta: format!("{{\"n\": {n}}}").into_bytes(),
            fingerprints: (1..=n).map(|i| i * 0x9e37_79b9).collect(),
            frontier: (0..n as u32 * 3).collect(),
            parents: (0..n).collect(),
            instances: (0..n as u32).collect(),
            // Every other sample has a graph part: with and without.
            graph: n.is_multiple_of(2).then(|| vec![n as u8; 5]),
        }
    }

    #[test]
    fn newest_generation_wins_and_old_ones_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(matches!(
            Checkpoint::load(dir.path()),
            Err(StoreError::Missing { .. })
        ));
        sample(10).save(dir.path()).expect("save 1");
        sample(20).save(dir.path()).expect("save 2");
        assert_eq!(Checkpoint::load(dir.path()).expect("load"), sample(20));
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with("gen-1.")), "{names:?}");
    }

    #[test]
    fn a_half_written_generation_is_not_current() {
        let dir = tempfile::tempdir().expect("temp dir");
        sample(10).save(dir.path()).expect("save");
        // A crash after writing part of generation 2, before CURRENT moved.
        write_atomic(dir.path(), "gen-2.meta", b"{}").expect("write");
        assert_eq!(Checkpoint::load(dir.path()).expect("load"), sample(10));
    }

    #[test]
    fn corruption_is_an_error_not_data() {
        let dir = tempfile::tempdir().expect("temp dir");
        sample(10).save(dir.path()).expect("save");
        let path = dir.path().join("gen-1.fps");
        let mut bytes = std::fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, bytes).expect("write");
        assert!(matches!(
            Checkpoint::load(dir.path()),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
