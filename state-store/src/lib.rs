//! Fathom's state store. Today: checkpoints of a breadth-first search at a
//! level boundary — the visited fingerprints, the frontier's packed states,
//! the trace log and an opaque metadata blob — written so that a process
//! killed at any instant leaves the previous checkpoint intact, and read
//! back only if every checksum holds.
//!
//! It knows bytes and fingerprints, not specs: the checker decides what the
//! metadata means. Planned here (issue 4): the disk-tiered fingerprint set,
//! spilling frontier queues and the on-disk trace log.

mod checkpoint;
mod file;

pub use checkpoint::Checkpoint;
pub use file::{read_checked, write_atomic};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file exists but is not what was written: truncated, altered, or
    /// not a Fathom store file. Never read as data.
    #[error("{path}: corrupt store file ({reason})")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{dir}: no checkpoint here")]
    Missing { dir: PathBuf },
}

impl StoreError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn corrupt(path: &std::path::Path, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}
