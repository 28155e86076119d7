//! A FIFO queue of fixed-size records (a frontier's packed states) that
//! keeps at most a budget of words in memory and spills whole segments,
//! zstd-compressed, to files past it.

use std::collections::VecDeque;

use crate::StoreError;
use crate::file::{read_checked, write_atomic};
use crate::spill::SpillDir;

/// Words per segment at most: a segment is the unit of spilling.
const SEGMENT_WORDS: usize = 1 << 20;
/// Words per segment at least, so a tiny budget does not mean a file per record.
const MIN_SEGMENT_WORDS: usize = 1 << 14;
/// A fast level: spilled frontiers are read back within a level or two.
const ZSTD_LEVEL: i32 = -3;
const _: () = assert!(
    MIN_SEGMENT_WORDS <= SEGMENT_WORDS,
    "segment bounds are ordered"
);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Memory(Vec<u32>),
    /// A spilled segment: its file name and how many records it holds.
    Disk {
        name: String,
        records: u64,
    },
}

pub struct Queue {
    stride: usize,
    segments: VecDeque<Segment>,
    memory_words: usize,
    /// Words kept in memory before segments spill (None: never spill).
    budget_words: Option<usize>,
    segment_words: usize,
    records: u64,
}

impl Queue {
    pub fn new(stride: usize, budget_words: Option<usize>) -> Queue {
        assert!(stride > 0, "records have at least one word");
        // Small budgets get small segments, so spilling starts in time.
        let floor = (MIN_SEGMENT_WORDS / stride).max(1) * stride;
        let cap = budget_words.map_or(SEGMENT_WORDS, |b| {
            (b / 4).clamp(floor, SEGMENT_WORDS.max(floor))
        });
        Queue {
            stride,
            segments: VecDeque::new(),
            memory_words: 0,
            budget_words,
            segment_words: cap / stride * stride,
            records: 0,
        }
    }

    /// Records queued.
    pub fn len(&self) -> u64 {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    pub fn memory_bytes(&self) -> u64 {
        self.memory_words as u64 * 4
    }

    /// Appends whole records.
    pub fn push(&mut self, mut words: &[u32], spill: &SpillDir) -> Result<(), StoreError> {
        assert_eq!(words.len() % self.stride, 0, "whole records");
        self.records += (words.len() / self.stride) as u64;
        while !words.is_empty() {
            let room = match self.segments.back() {
                Some(Segment::Memory(m)) if m.len() < self.segment_words => {
                    self.segment_words - m.len()
                }
                _ => {
                    self.segments.push_back(Segment::Memory(Vec::new()));
                    self.segment_words
                }
            };
            let (now, rest) = words.split_at(room.min(words.len()));
            words = rest;
            self.memory_words += now.len();
            let Some(Segment::Memory(m)) = self.segments.back_mut() else {
                unreachable!("the back segment is in memory")
            };
            m.extend_from_slice(now);
            let full = m.len() >= self.segment_words;
            if full && self.budget_words.is_some_and(|b| self.memory_words > b) {
                self.spill_back(spill)?;
            }
        }
        Ok(())
    }

    fn spill_back(&mut self, spill: &SpillDir) -> Result<(), StoreError> {
        let Some(Segment::Memory(m)) = self.segments.pop_back() else {
            unreachable!("spilling a segment in memory")
        };
        assert_eq!(m.len() % self.stride, 0, "a segment holds whole records");
        let bytes: Vec<u8> = m.iter().flat_map(|w| w.to_le_bytes()).collect();
        let (name, path) = spill.fresh("seg", "queue");
        let packed =
            zstd::bulk::compress(&bytes, ZSTD_LEVEL).map_err(|e| StoreError::io(&path, e))?;
        write_atomic(spill.path(), &name, &packed)?;
        self.memory_words -= m.len();
        let records = (m.len() / self.stride) as u64;
        self.segments.push_back(Segment::Disk { name, records });
        Ok(())
    }

    /// Takes the oldest segment's records, reading it back if spilled.
    pub fn pop(&mut self, spill: &SpillDir) -> Result<Option<Vec<u32>>, StoreError> {
        let Some(seg) = self.segments.pop_front() else {
            return Ok(None);
        };
        let words = match seg {
            Segment::Memory(m) => {
                self.memory_words -= m.len();
                m
            }
            Segment::Disk { name, records } => {
                let words = read_segment(spill, &name, records, self.stride)?;
                spill.retire(&name);
                words
            }
        };
        assert_eq!(
            words.len() % self.stride,
            0,
            "a segment holds whole records"
        );
        self.records -= (words.len() / self.stride) as u64;
        Ok(Some(words))
    }

    /// The segments, oldest first (for a checkpoint).
    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter()
    }

    /// A queue made of saved segments; spilled ones are checked when read.
    pub fn restore(stride: usize, budget_words: Option<usize>, segments: Vec<Segment>) -> Queue {
        let mut q = Queue::new(stride, budget_words);
        for s in segments {
            match &s {
                Segment::Memory(m) => {
                    assert_eq!(m.len() % stride, 0, "whole records");
                    q.memory_words += m.len();
                    q.records += (m.len() / stride) as u64;
                }
                Segment::Disk { records, .. } => q.records += records,
            }
            q.segments.push_back(s);
        }
        q
    }
}

fn read_segment(
    spill: &SpillDir,
    name: &str,
    records: u64,
    stride: usize,
) -> Result<Vec<u32>, StoreError> {
    let path = spill.path().join(name);
    let packed = read_checked(&path)?;
    let expect = records as usize * stride * 4;
    let bytes = zstd::bulk::decompress(&packed, expect)
        .map_err(|_| StoreError::corrupt(&path, "segment does not decompress"))?;
    if bytes.len() != expect {
        return Err(StoreError::corrupt(
            &path,
            "segment holds the wrong number of records",
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_past_the_budget_and_reads_back_in_order() {
        let spill = SpillDir::temporary().expect("spill");
        let mut q = Queue::new(3, Some(3000));
        let mut expect = Vec::new();
        for i in 0..20_000u32 {
            let rec = [i, i * 7, !i];
            q.push(&rec, &spill).expect("push");
            expect.extend_from_slice(&rec);
        }
        assert!(
            q.memory_bytes() <= 4 * (3000 + MIN_SEGMENT_WORDS) as u64,
            "{}",
            q.memory_bytes()
        );
        assert!(q.segments().any(|s| matches!(s, Segment::Disk { .. })));
        assert_eq!(q.len(), 20_000);
        let mut got = Vec::new();
        while let Some(seg) = q.pop(&spill).expect("pop") {
            got.extend(seg);
        }
        assert_eq!(got, expect);
        assert!(q.is_empty());
    }

    #[test]
    fn without_a_budget_nothing_spills() {
        let spill = SpillDir::temporary().expect("spill");
        let mut q = Queue::new(2, None);
        let words: Vec<u32> = (0..3_000_000).collect();
        q.push(&words, &spill).expect("push");
        assert!(q.segments().all(|s| matches!(s, Segment::Memory(_))));
        assert_eq!(q.len(), 1_500_000);
    }
}

/// Reads a queue back in tiles of a fixed number of words (the last may
/// be shorter), across segment boundaries.
#[derive(Default)]
pub struct TileReader {
    buf: Vec<u32>,
}

impl TileReader {
    /// The next tile of at most `tile_words` words; `None` when the queue
    /// is empty.
    pub fn next(
        &mut self,
        queue: &mut Queue,
        spill: &SpillDir,
        tile_words: usize,
    ) -> Result<Option<Vec<u32>>, StoreError> {
        while self.buf.len() < tile_words {
            match queue.pop(spill)? {
                Some(seg) if self.buf.is_empty() => self.buf = seg,
                Some(seg) => self.buf.extend_from_slice(&seg),
                None => break,
            }
        }
        if self.buf.is_empty() {
            return Ok(None);
        }
        let rest = if self.buf.len() > tile_words {
            self.buf.split_off(tile_words)
        } else {
            Vec::new()
        };
        Ok(Some(std::mem::replace(&mut self.buf, rest)))
    }
}
