//! The directory that holds a search's spilled files: runs of the visited
//! set (`run-N.fps`), frontier segments (`seg-N.queue`) and trace-log
//! frames (`log-N.frame`), liveness graph columns (`col-N.words`).
//!
//! A file that is no longer needed is retired: removed at once, unless the
//! last checkpoint names it, in which case it is removed after the next
//! checkpoint commits.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::StoreError;

pub struct SpillDir {
    path: PathBuf,
    next: AtomicU64,
    /// Retired names awaiting the next checkpoint.
    retired: Mutex<Vec<String>>,
    /// The spilled files the last committed checkpoint names.
    named: Mutex<HashSet<String>>,
    /// Removes the directory at the end when it is a temporary one.
    _temp: Option<tempfile::TempDir>,
}

/// Is `name` one of the spilled files this module names?
pub fn is_spill_file(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    let kind = matches!(
        (stem.split_once('-').map(|(k, _)| k), ext),
        (Some("run"), "fps")
            | (Some("seg"), "queue")
            | (Some("log"), "frame")
            | (Some("col"), "words")
    );
    kind && stem
        .split_once('-')
        .is_some_and(|(_, n)| n.parse::<u64>().is_ok())
}

impl SpillDir {
    /// A fresh temporary directory, removed when the search ends.
    pub fn temporary() -> Result<SpillDir, StoreError> {
        let temp = tempfile::Builder::new()
            .prefix("fathom-spill-")
            .tempdir()
            .map_err(|e| StoreError::io(&std::env::temp_dir(), e))?;
        Ok(SpillDir {
            path: temp.path().to_path_buf(),
            next: AtomicU64::new(1),
            retired: Mutex::new(Vec::new()),
            named: Mutex::new(HashSet::new()),
            _temp: Some(temp),
        })
    }

    /// No directory: for a search with no memory budget and no store,
    /// which never spills.
    pub fn unused() -> SpillDir {
        SpillDir {
            path: PathBuf::new(),
            next: AtomicU64::new(1),
            retired: Mutex::new(Vec::new()),
            named: Mutex::new(HashSet::new()),
            _temp: None,
        }
    }

    /// The store directory of a checkpointed search. New names start at
    /// `next` (saved in each checkpoint, so a resumed search never reuses
    /// a name a checkpoint holds); `named` are the files the checkpoint
    /// resumed from names. Other spilled files there are left from a run
    /// killed after its last checkpoint, and removed.
    pub fn in_store(
        path: &Path,
        next: u64,
        named: HashSet<String>,
    ) -> Result<SpillDir, StoreError> {
        std::fs::create_dir_all(path).map_err(|e| StoreError::io(path, e))?;
        let dir = SpillDir {
            path: path.to_path_buf(),
            next: AtomicU64::new(next.max(1)),
            retired: Mutex::new(Vec::new()),
            named: Mutex::new(named),
            _temp: None,
        };
        dir.remove_unnamed();
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new file name of the given kind (`run`, `seg`, `log`) and its path.
    pub fn fresh(&self, kind: &str, ext: &str) -> (String, PathBuf) {
        assert!(
            !self.path.as_os_str().is_empty(),
            "only a search with a memory budget or a store spills"
        );
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let name = format!("{kind}-{n}.{ext}");
        debug_assert!(is_spill_file(&name));
        let path = self.path.join(&name);
        (name, path)
    }

    /// The next number `fresh` would use (for a checkpoint).
    pub fn next_number(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    /// A file no longer needed. (A failure to remove one only wastes space.)
    pub fn retire(&self, name: &str) {
        let named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        if named.contains(name) {
            let mut r = self.retired.lock().unwrap_or_else(|e| e.into_inner());
            r.push(name.to_string());
        } else {
            let _ = std::fs::remove_file(self.path.join(name));
        }
    }

    /// After a checkpoint that names `named` committed: files retired
    /// since the last one are named by no checkpoint now.
    pub fn checkpoint_committed(&self, named: HashSet<String>) {
        let old = {
            let mut r = self.retired.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *r)
        };
        for name in old {
            debug_assert!(!named.contains(&name), "a retired file is not checkpointed");
            let _ = std::fs::remove_file(self.path.join(name));
        }
        *self.named.lock().unwrap_or_else(|e| e.into_inner()) = named;
    }

    fn remove_unnamed(&self) {
        let named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(entries) = std::fs::read_dir(&self.path) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let tmp = name.starts_with('.')
                    && name.ends_with(".tmp")
                    && is_spill_file(&name[1..name.len() - 4]);
                if (is_spill_file(&name) && !named.contains(&name)) || tmp {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_spill_file("run-3.fps"));
        assert!(is_spill_file("seg-10.queue"));
        assert!(is_spill_file("log-1.frame"));
        assert!(!is_spill_file("gen-3.fps"));
        assert!(!is_spill_file("run-x.fps"));
        assert!(!is_spill_file("CURRENT"));
    }

    #[test]
    fn checkpointed_files_outlive_retirement_until_the_next_checkpoint() {
        let dir = tempfile::tempdir().expect("dir");
        let spill = SpillDir::in_store(dir.path(), 1, HashSet::new()).expect("spill");
        let (a, pa) = spill.fresh("seg", "queue");
        let (b, pb) = spill.fresh("seg", "queue");
        std::fs::write(&pa, b"x").expect("write");
        std::fs::write(&pb, b"x").expect("write");
        spill.checkpoint_committed(HashSet::from([a.clone()]));
        spill.retire(&a);
        spill.retire(&b);
        assert!(pa.exists(), "named by the checkpoint");
        assert!(!pb.exists(), "named by none");
        spill.checkpoint_committed(HashSet::new());
        assert!(!pa.exists());
        // A resumed store drops spilled files its checkpoint does not name.
        let (c, pc) = spill.fresh("run", "fps");
        let (_, pd) = spill.fresh("log", "frame");
        std::fs::write(&pc, b"x").expect("write");
        std::fs::write(&pd, b"x").expect("write");
        let _again = SpillDir::in_store(dir.path(), 9, HashSet::from([c])).expect("resume");
        assert!(pc.exists() && !pd.exists());
    }
}
