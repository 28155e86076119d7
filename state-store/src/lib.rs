//! Fathom's state store: where a breadth-first search keeps what it has
//! seen and what it will expand, in memory up to a budget and on disk past
//! it, and how it saves all of that at a level boundary so that a killed
//! run resumes.
//!
//! - [`FingerprintSet`] (`tiered`): the visited set — a memory tier
//!   (`memory`) and sorted, compressed runs on disk (`run`, `codec`),
//!   queried once per level in one sequential pass.
//! - [`Tentative`] (`level`): delayed duplicate detection of a level's new
//!   states against the disk tier (insert tentatively, close a period,
//!   settle the level).
//! - [`Queue`] (`queue`): a frontier that spills zstd segments past a budget.
//! - [`LogStore`] (`log`): the trace log's columns, spilled in frames.
//! - [`Column`] (`column`): an append-only column of words that spills to
//!   one file and is read back mapped (the liveness graph).
//! - [`SpillDir`] (`spill`): the directory of spilled files and when they go.
//! - [`Fp`] (`fp`): 64- and 128-bit fingerprints; everything above is generic over it.
//! - [`Checkpoint`] (`checkpoint`, `file`): generations of checksummed files
//!   written atomically.
//!
//! It knows bytes and fingerprints, not specs: the checker decides what a
//! record and the checkpoint's metadata mean.

mod checkpoint;
mod codec;
pub mod column;
mod file;
pub mod fp;
pub mod level;
pub mod log;
pub mod memory;
pub mod queue;
pub mod run;
pub mod spill;
pub mod tiered;

pub use checkpoint::Checkpoint;
pub use column::{Column, Frozen};
pub use file::{read_checked, write_atomic};
pub use fp::Fp;
pub use level::Tentative;
pub use log::LogStore;
pub use memory::MemoryTier;
pub use queue::{Queue, TileReader};
pub use spill::SpillDir;
pub use tiered::FingerprintSet;

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
        StoreError::Io { path: path.to_path_buf(), source }
    }
    pub(crate) fn corrupt(path: &std::path::Path, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt { path: path.to_path_buf(), reason: reason.into() }
    }
}
