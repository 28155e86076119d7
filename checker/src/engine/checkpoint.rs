//! Checkpoints of the search at level boundaries, through `state-store`.
//!
//! What is saved is the engine's whole state between two levels: the
//! visited fingerprints, the next frontier, the trace log, and the counts
//! (as JSON metadata, with the identity of the spec, its constants and the
//! search options, so a checkpoint is never resumed with another spec).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use state_store::{Checkpoint, StoreError};

use super::Engine;
use super::trace::TraceLog;
use super::visited::Visited;

/// When and where to checkpoint.
#[derive(Clone, Debug)]
pub struct Checkpointing {
    pub dir: PathBuf,
    /// At the first level boundary this long after the last checkpoint
    /// (zero: every level).
    pub every: Duration,
    /// Set by SIGINT/SIGTERM: checkpoint at the next boundary and stop.
    pub stop: Arc<AtomicBool>,
    /// Identifies the spec text, constants and options (see [`Meta`]).
    pub identity: String,
    /// Seconds spent before this run (a resumed run goes on counting).
    pub seconds_before: f64,
}

/// The counts and identity saved beside the arrays.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Meta {
    pub format: u32,
    pub identity: String,
    pub depth: u32,
    pub level_base: u64,
    pub generated: u64,
    pub reached: u64,
    pub words: u32,
    pub seconds: f64,
}

/// A checkpoint read back and checked, ready to continue.
pub struct Resume {
    pub meta: Meta,
    pub visited: Visited,
    pub log: TraceLog,
    pub frontier: Vec<u32>,
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the checkpoint's metadata is unreadable: {0}")]
    Meta(String),
    #[error("the checkpoint is of another spec, constants or options (it was made by: {0})")]
    Mismatch(String),
    #[error("the checkpoint is inconsistent: {0}")]
    Inconsistent(String),
}

const FORMAT: u32 = 1;

/// Loads the checkpoint in `dir` for a search whose identity is `identity`.
pub fn load(dir: &std::path::Path, identity: &str, words: u32) -> Result<Resume, ResumeError> {
    let checkpoint = Checkpoint::load(dir)?;
    let meta: Meta =
        serde_json::from_slice(&checkpoint.meta).map_err(|e| ResumeError::Meta(e.to_string()))?;
    if meta.format != FORMAT {
        return Err(ResumeError::Meta(format!(
            "format {} (this build reads {FORMAT})",
            meta.format
        )));
    }
    if meta.identity != identity {
        return Err(ResumeError::Mismatch(meta.identity.clone()));
    }
    // Paired with the checks in `save`: sizes agree with the counts.
    if meta.words != words || checkpoint.frontier.len() % words as usize != 0 {
        return Err(ResumeError::Inconsistent("frontier size".into()));
    }
    let frontier_states = (checkpoint.frontier.len() / words as usize) as u64;
    if meta.level_base + frontier_states != checkpoint.parents.len() as u64 {
        return Err(ResumeError::Inconsistent("trace log length".into()));
    }
    if checkpoint.fingerprints.len() != checkpoint.parents.len() {
        return Err(ResumeError::Inconsistent(
            "one fingerprint per logged state".into(),
        ));
    }
    let mut visited = Visited::new();
    for fp in &checkpoint.fingerprints {
        if *fp == 0 || !visited.insert(*fp) {
            return Err(ResumeError::Inconsistent(
                "a fingerprint is zero or repeated".into(),
            ));
        }
    }
    let log = TraceLog::from_parts(checkpoint.parents, checkpoint.instances)
        .map_err(ResumeError::Inconsistent)?;
    let seconds = meta.seconds;
    Ok(Resume {
        meta,
        visited,
        log,
        frontier: checkpoint.frontier,
        seconds,
    })
}

impl Engine<'_> {
    pub(super) fn save(
        &self,
        cp: &Checkpointing,
        frontier: &[u32],
        level_base: u64,
        depth: u32,
    ) -> Result<(), StoreError> {
        let (parents, instances) = self.log.parts();
        let meta = Meta {
            format: FORMAT,
            identity: cp.identity.clone(),
            depth,
            level_base,
            generated: self.generated,
            reached: self.reached,
            words: self.layout.words,
            seconds: cp.seconds_before + self.started.elapsed().as_secs_f64(),
        };
        let fingerprints = self.visited.fingerprints();
        assert_eq!(
            fingerprints.len(),
            parents.len(),
            "one fingerprint per logged state"
        );
        let checkpoint = Checkpoint {
            meta: serde_json::to_vec(&meta).unwrap_or_default(),
            fingerprints,
            frontier: frontier.to_vec(),
            parents: parents.to_vec(),
            instances: instances.to_vec(),
        };
        checkpoint.save(&cp.dir)
    }

    /// Puts the engine back in the state a checkpoint recorded; returns
    /// (frontier, level base, depth).
    pub(super) fn restore(&mut self, r: Resume) -> (Vec<u32>, u64, u32) {
        self.visited = r.visited;
        self.log = r.log;
        self.generated = r.meta.generated;
        self.reached = r.meta.reached;
        (r.frontier, r.meta.level_base, r.meta.depth)
    }
}
