//! Checkpoints of the search at level boundaries, through `state-store`.
//!
//! What is saved is the engine's whole state between two levels: the
//! visited fingerprints, the next frontier, the trace log, and the counts
//! (as JSON metadata, with the identity of the spec, its constants and the
//! search options, so a checkpoint is never resumed with another spec).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use state_store::log::Frame;
use state_store::queue::Segment;
use state_store::tiered::RestoreError;
use state_store::{Checkpoint, FingerprintSet, Fp, LogStore, Queue, SpillDir, StoreError};

use super::Engine;
use super::backend::Fingerprint;
use super::trace::TraceLog;

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
    /// Format 2: the spilled files. Runs of the visited set (its memory
    /// tier is in `gen-N.fps`).
    #[serde(default)]
    pub runs: Vec<String>,
    /// The next frontier's segments in order: a file, or (no file) the
    /// next `records` states of `gen-N.frontier`. Format 1: empty, and
    /// `gen-N.frontier` is the whole frontier.
    #[serde(default)]
    pub frontier: Vec<SegmentRef>,
    /// The trace log's spilled frames (its tail is in `gen-N.parents` and
    /// `gen-N.instances`).
    #[serde(default)]
    pub log_frames: Vec<FrameRef>,
    /// The next spilled file's number.
    #[serde(default)]
    pub next_file: u64,
    /// 64 or 128; `gen-N.fps` holds a 128-bit fingerprint as two u64s
    /// (high, low).
    #[serde(default = "sixty_four")]
    pub fingerprint_bits: u32,
    /// Initial states kept (the first ids): the liveness graph's starts.
    #[serde(default)]
    pub initial: u64,
    /// `--coverage`'s counts so far, when it was on.
    #[serde(default)]
    pub coverage: Option<super::Coverage>,
    /// `--continue`: the violations found so far, as the findings they
    /// were made from (their traces are rebuilt from the log on resume).
    #[serde(default)]
    pub findings: Vec<super::SavedFinding>,
}

fn sixty_four() -> u32 {
    64
}

/// Fingerprints as the u64 words of `gen-N.fps`.
fn to_u64s<F: Fp>(fps: &[F]) -> Vec<u64> {
    let mut out = Vec::with_capacity(fps.len() * (F::WORDS / 2));
    for fp in fps {
        let v = fp.to_u128();
        if F::BITS == 128 {
            out.push((v >> 64) as u64);
        }
        out.push(v as u64);
    }
    out
}

fn from_u64s<F: Fp>(words: &[u64]) -> Option<Vec<F>> {
    let per = F::WORDS / 2;
    if !words.len().is_multiple_of(per) {
        return None;
    }
    Some(
        words
            .chunks_exact(per)
            .map(|c| F::from_u128(c.iter().fold(0u128, |acc, &w| acc << 64 | w as u128)))
            .collect(),
    )
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SegmentRef {
    pub file: Option<String>,
    pub records: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct FrameRef {
    pub file: String,
    pub start: u64,
    pub count: u64,
}

impl Meta {
    fn files(&self) -> HashSet<String> {
        let segments = self.frontier.iter().filter_map(|s| s.file.clone());
        let frames = self.log_frames.iter().map(|f| f.file.clone());
        self.runs
            .iter()
            .cloned()
            .chain(segments)
            .chain(frames)
            .collect()
    }
}

/// A checkpoint read back and checked, ready to continue.
pub struct Resume<F: Fp = u64> {
    pub meta: Meta,
    pub visited: FingerprintSet<F>,
    pub log: TraceLog,
    pub frontier: Vec<Segment>,
    pub seconds: f64,
    /// The store directory, holding the spilled files the checkpoint names.
    pub spill: Option<SpillDir>,
    /// The liveness graph so far (`gen-N.graph`), as saved.
    pub graph: Option<Vec<u8>>,
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

/// Format 2 added the spilled files; format 1 checkpoints (everything in
/// the generation's files) still load.
const FORMAT: u32 = 2;

/// Loads the checkpoint in `dir` for a search whose identity is `identity`:
/// its meta checked against this search, the frontier's segments, the
/// visited set and the trace log, each checked against the others.
pub fn load<F: Fp>(
    dir: &std::path::Path,
    identity: &str,
    words: u32,
) -> Result<Resume<F>, ResumeError> {
    let checkpoint = Checkpoint::load(dir)?;
    let mut meta = read_meta::<F>(&checkpoint, identity)?;
    let inconsistent = |why: &str| ResumeError::Inconsistent(why.to_string());
    let stride = words as usize;
    if meta.words != words || checkpoint.frontier.len() % stride != 0 {
        return Err(inconsistent("frontier size"));
    }
    let segments = frontier_segments(&mut meta, &checkpoint.frontier, stride)?;
    let spill = SpillDir::in_store(dir, meta.next_file, meta.files())?;
    let memory_fps: Vec<F> = from_u64s(&checkpoint.fingerprints)
        .ok_or_else(|| inconsistent("fingerprint file of another width"))?;
    let visited =
        FingerprintSet::restore(&memory_fps, &meta.runs, &spill).map_err(|e| match e {
            RestoreError::Store(e) => ResumeError::Store(e),
            RestoreError::Invalid(why) => ResumeError::Inconsistent(why),
        })?;
    let log = trace_log(&meta, checkpoint.parents, checkpoint.instances, &spill)?;
    let frontier_states: u64 = meta.frontier.iter().map(|s| s.records).sum();
    if meta.level_base + frontier_states != log.len() {
        return Err(inconsistent("trace log length"));
    }
    if visited.len() != log.len() {
        return Err(inconsistent("one fingerprint per logged state"));
    }
    let seconds = meta.seconds;
    Ok(Resume {
        meta,
        visited,
        log,
        frontier: segments,
        seconds,
        spill: Some(spill),
        graph: checkpoint.graph,
    })
}

/// The meta, if it is of a format this build reads and of this search.
fn read_meta<F: Fp>(checkpoint: &Checkpoint, identity: &str) -> Result<Meta, ResumeError> {
    let meta: Meta =
        serde_json::from_slice(&checkpoint.meta).map_err(|e| ResumeError::Meta(e.to_string()))?;
    if meta.format != FORMAT && meta.format != 1 {
        return Err(ResumeError::Meta(format!(
            "format {} (this build reads 1 and {FORMAT})",
            meta.format
        )));
    }
    if meta.identity != identity {
        return Err(ResumeError::Mismatch(meta.identity.clone()));
    }
    if meta.fingerprint_bits != F::BITS {
        return Err(ResumeError::Mismatch(format!(
            "{}; fingerprint {}",
            meta.identity, meta.fingerprint_bits
        )));
    }
    Ok(meta)
}

/// The frontier's segments: spilled ones by name, the rest cut from the
/// generation's frontier file (paired with `save`: sizes agree with the
/// counts, and every word is used).
fn frontier_segments(
    meta: &mut Meta,
    inline: &[u32],
    stride: usize,
) -> Result<Vec<Segment>, ResumeError> {
    let inconsistent = |why: &str| ResumeError::Inconsistent(why.to_string());
    if meta.frontier.is_empty() && !inline.is_empty() {
        // Format 1: one segment, in the generation's file.
        meta.frontier.push(SegmentRef {
            file: None,
            records: (inline.len() / stride) as u64,
        });
    }
    let mut inline = inline;
    let mut segments = Vec::new();
    for s in &meta.frontier {
        match &s.file {
            Some(name) => segments.push(Segment::Disk { name: name.clone(), records: s.records }),
            None => {
                let n = usize::try_from(s.records)
                    .ok()
                    .and_then(|r| r.checked_mul(stride))
                    .filter(|&n| n <= inline.len())
                    .ok_or_else(|| inconsistent("frontier segments"))?;
                segments.push(Segment::Memory(inline[..n].to_vec()));
                inline = &inline[n..];
            }
        }
    }
    if !inline.is_empty() {
        return Err(inconsistent("frontier segments"));
    }
    Ok(segments)
}

/// The trace log: its spilled frames (checked as read) and its tail.
fn trace_log(
    meta: &Meta,
    parents: Vec<u64>,
    instances: Vec<u32>,
    spill: &SpillDir,
) -> Result<TraceLog, ResumeError> {
    let frames = meta
        .log_frames
        .iter()
        .map(|f| Frame {
            name: f.file.clone(),
            start: f.start,
            count: f.count,
        })
        .collect();
    let store = LogStore::restore(frames, parents, instances).map_err(ResumeError::Inconsistent)?;
    TraceLog::from_store(store, spill).map_err(|e| match e {
        state_store::log::LogError::Store(e) => ResumeError::Store(e),
        state_store::log::LogError::Invalid(why) => ResumeError::Inconsistent(why),
    })
}

impl<F: Fingerprint> Engine<'_, F> {
    pub(super) fn save(
        &self,
        cp: &Checkpointing,
        frontier: &Queue,
        level_base: u64,
        depth: u32,
    ) -> Result<(), StoreError> {
        let (frames, parents, instances) = self.log.store().parts();
        let words = self.layout.words as usize;
        let mut inline = Vec::new();
        let mut segments = Vec::new();
        for s in frontier.segments() {
            segments.push(match s {
                Segment::Memory(m) => {
                    inline.extend_from_slice(m);
                    SegmentRef { file: None, records: (m.len() / words) as u64 }
                }
                Segment::Disk { name, records } => {
                    SegmentRef { file: Some(name.clone()), records: *records }
                }
            });
        }
        let meta = Meta {
            format: FORMAT,
            identity: cp.identity.clone(),
            depth,
            level_base,
            generated: self.generated,
            reached: self.reached,
            words: self.layout.words,
            seconds: cp.seconds_before + self.started.elapsed().as_secs_f64(),
            runs: self.visited.runs().map(|(n, _)| n.to_string()).collect(),
            frontier: segments,
            log_frames: frames
                .iter()
                .map(|f| FrameRef {
                    file: f.name.clone(),
                    start: f.start,
                    count: f.count,
                })
                .collect(),
            next_file: self.spill.next_number(),
            fingerprint_bits: F::BITS,
            initial: self.initial,
            coverage: self.coverage.clone(),
            findings: self.saved.clone(),
        };
        let fingerprints = self.visited.memory().fingerprints();
        assert_eq!(
            fingerprints.len() as u64 + self.visited.disk_len(),
            self.log.len(),
            "one fingerprint per logged state"
        );
        let named = meta.files();
        let checkpoint = Checkpoint {
            // A meta that cannot be written fails the checkpoint (the
            // previous one stays), never writes an empty one.
            meta: serde_json::to_vec(&meta)
                .map_err(|e| StoreError::Io { path: cp.dir.clone(), source: e.into() })?,
            fingerprints: to_u64s(&fingerprints),
            frontier: inline,
            parents: parents.to_vec(),
            instances: instances.to_vec(),
            graph: match &self.graph {
                Some(g) => {
                    // The graph covers every state expanded: those before the frontier.
                    assert_eq!(
                        g.len(),
                        level_base,
                        "the graph ends where the frontier begins"
                    );
                    Some(g.to_bytes(&self.spill)?)
                }
                None => None,
            },
        };
        checkpoint.save(&cp.dir)?;
        self.spill.checkpoint_committed(named);
        Ok(())
    }

    /// Puts the engine back in the state a checkpoint recorded; returns
    /// (frontier, level base, depth).
    pub(super) fn restore(&mut self, r: Resume<F>) -> Result<(Queue, u64, u32), String> {
        self.initial = r.meta.initial;
        if self.coverage.is_some() {
            let saved = r.meta.coverage.clone().ok_or(
                "--coverage needs a checkpoint made with --coverage (its counts start at the beginning)",
            )?;
            if saved.enabled.len() != self.model.rules.len()
                || saved.new.len() != self.model.rules.len()
            {
                return Err("the checkpoint's coverage counts are of another spec".into());
            }
            self.coverage = Some(saved);
        }
        if let Some(g) = &mut self.graph {
            let bytes = r.graph.as_deref().ok_or(
                "the checkpoint holds no liveness graph (it was made without temporal properties)",
            )?;
            *g = crate::liveness::graph::Builder::from_bytes(
                bytes,
                self.model.temporal_atom_words(),
            )?;
            if g.len() != r.meta.level_base {
                return Err("the checkpoint's liveness graph does not end at its frontier".into());
            }
        }
        self.visited = r.visited;
        self.log = r.log;
        self.generated = r.meta.generated;
        self.reached = r.meta.reached;
        let frontier = Queue::restore(
            self.layout.words as usize,
            self.budget.queue_words,
            r.frontier,
        );
        // --continue: the violations found before the checkpoint, rebuilt
        // from their findings (the log now holds their states).
        for saved in &r.meta.findings {
            let v = self
                .violation(&saved.found(), saved.id, None)
                .map_err(|e| format!("rebuilding a saved violation: {e}"))?;
            self.reported.insert(saved.found().ident());
            self.violations.push(v);
        }
        self.saved = r.meta.findings.clone();
        Ok((frontier, r.meta.level_base, r.meta.depth))
    }
}
