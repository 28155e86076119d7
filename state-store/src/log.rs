//! The trace log's two columns — a parent id (u64) and a rule instance or
//! initial-state ordinal (u32) per state, indexed by state id — with its
//! older part spilled to frame files.
//!
//! A frame is a contiguous range of ids, written once: parents as
//! zigzag-coded differences from the previous parent (a level's parents
//! mostly rise slowly) and instances as varints, zstd-compressed. The tail
//! stays in memory. Reading an id decodes its frame (the last one is
//! cached); that happens only while a trace is rebuilt.

use std::sync::Mutex;

use crate::StoreError;
use crate::codec::{get_varint, put_varint};
use crate::file::{read_checked, write_atomic};
use crate::spill::SpillDir;

const ZSTD_LEVEL: i32 = 3;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub name: String,
    pub start: u64,
    pub count: u64,
}

type Decoded = (usize, Vec<u64>, Vec<u32>);

#[derive(Default)]
pub struct LogStore {
    frames: Vec<Frame>,
    tail_start: u64,
    parents: Vec<u64>,
    instances: Vec<u32>,
    cache: Mutex<Option<Decoded>>,
}

impl LogStore {
    pub fn len(&self) -> u64 {
        self.tail_start + self.parents.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, parent: u64, instance: u32) {
        self.parents.push(parent);
        self.instances.push(instance);
    }

    /// Appends `n` entries for the caller to fill (in parallel).
    pub fn extend(&mut self, n: usize, fill_parent: u64) -> (&mut [u64], &mut [u32]) {
        let start = self.parents.len();
        self.parents.resize(start + n, fill_parent);
        self.instances.resize(start + n, 0);
        (&mut self.parents[start..], &mut self.instances[start..])
    }

    pub fn memory_bytes(&self) -> u64 {
        self.parents.capacity() as u64 * 8 + self.instances.capacity() as u64 * 4
    }

    /// Writes the tail as a frame file and empties it.
    pub fn spill(&mut self, spill: &SpillDir) -> Result<(), StoreError> {
        if self.parents.is_empty() {
            return Ok(());
        }
        let raw = encode_frame(&self.parents, &self.instances);
        // The pair check before the write: the frame reads back as the tail.
        debug_assert!(
            decode_frame(&raw, self.parents.len())
                .is_ok_and(|(p, i)| p == self.parents && i == self.instances),
            "a log frame decodes to the entries it was made of"
        );
        let (name, path) = spill.fresh("log", "frame");
        let packed =
            zstd::bulk::compress(&raw, ZSTD_LEVEL).map_err(|e| StoreError::io(&path, e))?;
        let mut payload = (raw.len() as u64).to_le_bytes().to_vec();
        payload.extend_from_slice(&packed);
        write_atomic(spill.path(), &name, &payload)?;
        let count = self.parents.len() as u64;
        self.frames
            .push(Frame { name, start: self.tail_start, count });
        self.tail_start += count;
        self.parents = Vec::new();
        self.instances = Vec::new();
        Ok(())
    }

    /// The entry of state `id`.
    pub fn get(&self, id: u64, spill: &SpillDir) -> Result<(u64, u32), StoreError> {
        assert!(id < self.len(), "state id {id} is logged");
        if id >= self.tail_start {
            let i = (id - self.tail_start) as usize;
            return Ok((self.parents[i], self.instances[i]));
        }
        let f = self.frames.partition_point(|f| f.start + f.count <= id);
        let frame = &self.frames[f];
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.as_ref().is_none_or(|c| c.0 != f) {
            let (p, i) = read_frame(spill, frame)?;
            *cache = Some((f, p, i));
        }
        let Some((_, p, i)) = cache.as_ref() else {
            unreachable!("the frame was just cached")
        };
        let at = (id - frame.start) as usize;
        Ok((p[at], i[at]))
    }

    /// The spilled frames and the tail (for a checkpoint).
    pub fn parts(&self) -> (&[Frame], &[u64], &[u32]) {
        (&self.frames, &self.parents, &self.instances)
    }

    pub fn restore(
        frames: Vec<Frame>,
        parents: Vec<u64>,
        instances: Vec<u32>,
    ) -> Result<LogStore, String> {
        if parents.len() != instances.len() {
            return Err("trace log columns differ in length".into());
        }
        let mut at = 0u64;
        for f in &frames {
            if f.start != at || f.count == 0 {
                return Err(format!(
                    "trace log frame {} does not follow its predecessor",
                    f.name
                ));
            }
            at += f.count;
        }
        Ok(LogStore {
            frames,
            tail_start: at,
            parents,
            instances,
            cache: Mutex::new(None),
        })
    }

    /// Every frame's and the tail's entries, in id order, each checked (on
    /// resume: parents precede children).
    pub fn for_each(
        &self,
        spill: &SpillDir,
        mut f: impl FnMut(u64, u64, u32) -> Result<(), String>,
    ) -> Result<(), LogError> {
        for frame in &self.frames {
            let (p, i) = read_frame(spill, frame)?;
            for (k, (p, i)) in p.iter().zip(&i).enumerate() {
                f(frame.start + k as u64, *p, *i).map_err(LogError::Invalid)?;
            }
        }
        for (k, (p, i)) in self.parents.iter().zip(&self.instances).enumerate() {
            f(self.tail_start + k as u64, *p, *i).map_err(LogError::Invalid)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
}

fn read_frame(spill: &SpillDir, frame: &Frame) -> Result<(Vec<u64>, Vec<u32>), StoreError> {
    let path = spill.path().join(&frame.name);
    let payload = read_checked(&path)?;
    let bad = |why: &str| StoreError::corrupt(&path, why.to_string());
    if payload.len() < 8 {
        return Err(bad("frame too short"));
    }
    let raw_len = u64::from_le_bytes(payload[..8].try_into().unwrap_or_default()) as usize;
    let raw = zstd::bulk::decompress(&payload[8..], raw_len)
        .map_err(|_| bad("frame does not decompress"))?;
    decode_frame(&raw, frame.count as usize).map_err(bad)
}

/// A frame's entries: parent deltas (zigzag) and instances as varints.
fn encode_frame(parents: &[u64], instances: &[u32]) -> Vec<u8> {
    assert_eq!(parents.len(), instances.len(), "the log's columns agree");
    let mut raw = Vec::with_capacity(parents.len() * 3);
    let mut prev = 0u64;
    for (&p, &i) in parents.iter().zip(instances) {
        let d = p.wrapping_sub(prev) as i64;
        put_varint(&mut raw, ((d << 1) ^ (d >> 63)) as u64);
        put_varint(&mut raw, i as u64);
        prev = p;
    }
    raw
}

/// The `n` entries of a frame written by [`encode_frame`].
fn decode_frame(raw: &[u8], n: usize) -> Result<(Vec<u64>, Vec<u32>), &'static str> {
    let (mut parents, mut instances) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut at = 0usize;
    let mut prev = 0u64;
    for _ in 0..n {
        let z = get_varint(raw, &mut at).ok_or("frame ends early")?;
        let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
        prev = prev.wrapping_add(d as u64);
        let i = get_varint(raw, &mut at).ok_or("frame ends early")?;
        parents.push(prev);
        instances.push(u32::try_from(i).map_err(|_| "instance out of range")?);
    }
    if at != raw.len() {
        return Err("frame holds more entries than recorded");
    }
    Ok((parents, instances))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spilled_and_tail_entries_read_back() {
        let spill = SpillDir::temporary().expect("spill");
        let mut log = LogStore::default();
        let entry = |id: u64| {
            (
                if id < 3 { u64::MAX } else { id / 3 },
                (id * 31 % 1000) as u32,
            )
        };
        for id in 0..10_000u64 {
            let (p, i) = entry(id);
            log.push(p, i);
            if id % 3000 == 2999 {
                log.spill(&spill).expect("spill");
            }
        }
        assert_eq!(log.parts().0.len(), 3);
        for id in (0..10_000u64).rev().step_by(7) {
            assert_eq!(log.get(id, &spill).expect("get"), entry(id));
        }
        let mut n = 0;
        log.for_each(&spill, |id, p, i| {
            assert_eq!((p, i), entry(id));
            n += 1;
            Ok(())
        })
        .expect("walk");
        assert_eq!(n, 10_000);
    }
}
