//! An append-only column of plain words (u32, u64) that moves its tail to
//! one file past a budget, and once complete is read whole, through a
//! read-only memory map when it spilled: the liveness graph's columns.
//!
//! A spill file (`col-N.words`) holds the words in this machine's byte
//! order: it lives only as long as the search that wrote it. Checkpoints
//! copy a column out ([`Column::to_vec`]), they never name its file.

use std::fs::File;
use std::io::Write;
use std::ops::Deref;
use std::path::PathBuf;

use memmap2::{Mmap, MmapOptions};

use crate::StoreError;
use crate::spill::SpillDir;

pub struct Column<T: bytemuck::Pod> {
    tail: Vec<T>,
    /// The spill file: name, path, open for appending, and words in it.
    file: Option<(String, PathBuf, File)>,
    on_disk: u64,
}

impl<T: bytemuck::Pod> Default for Column<T> {
    fn default() -> Self {
        Column { tail: Vec::new(), file: None, on_disk: 0 }
    }
}

impl<T: bytemuck::Pod> Column<T> {
    pub fn from_vec(tail: Vec<T>) -> Column<T> {
        Column { tail, file: None, on_disk: 0 }
    }

    pub fn len(&self) -> u64 {
        self.on_disk + self.tail.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn memory_bytes(&self) -> u64 {
        (self.tail.capacity() * size_of::<T>()) as u64
    }

    pub fn push(&mut self, x: T) {
        self.tail.push(x);
    }

    pub fn extend_from_slice(&mut self, xs: &[T]) {
        self.tail.extend_from_slice(xs);
    }

    /// The last word, wherever it is.
    pub fn last(&self, spill: &SpillDir) -> Result<Option<T>, StoreError> {
        if let Some(x) = self.tail.last() {
            return Ok(Some(*x));
        }
        Ok(self.to_vec(spill)?.last().copied())
    }

    /// Appends the tail to the column's file (created on first use).
    pub fn spill(&mut self, spill: &SpillDir) -> Result<(), StoreError> {
        if self.tail.is_empty() {
            return Ok(());
        }
        if self.file.is_none() {
            let (name, path) = spill.fresh("col", "words");
            // Readable too: `freeze` maps it.
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| StoreError::io(&path, e))?;
            self.file = Some((name, path, file));
        }
        let Some((_, path, file)) = &mut self.file else {
            unreachable!("created above")
        };
        file.write_all(bytemuck::cast_slice(&self.tail))
            .map_err(|e| StoreError::io(path, e))?;
        self.on_disk += self.tail.len() as u64;
        self.tail = Vec::new();
        Ok(())
    }

    /// Every word, in order, copied into memory (for a checkpoint).
    pub fn to_vec(&self, _spill: &SpillDir) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::with_capacity(self.len() as usize);
        if let Some((_, path, _)) = &self.file {
            let bytes = std::fs::read(path).map_err(|e| StoreError::io(path, e))?;
            if bytes.len() as u64 != self.on_disk * size_of::<T>() as u64 {
                return Err(StoreError::corrupt(path, "a column file of another length"));
            }
            out.extend(
                bytes
                    .chunks_exact(size_of::<T>())
                    .map(bytemuck::pod_read_unaligned::<T>),
            );
        }
        out.extend_from_slice(&self.tail);
        Ok(out)
    }

    /// The complete column, read-only: in memory if it never spilled, else
    /// its file (tail appended) mapped. The file is retired at once; the
    /// mapping stays valid until dropped.
    pub fn freeze(mut self, spill: &SpillDir) -> Result<Frozen<T>, StoreError> {
        if self.file.is_none() {
            return Ok(Frozen::Memory(std::mem::take(&mut self.tail)));
        }
        self.spill(spill)?;
        let Some((name, path, file)) = self.file.take() else {
            unreachable!("spilled")
        };
        let len = self.on_disk as usize;
        let map = map(&file).map_err(|e| StoreError::io(&path, e))?;
        spill.retire(&name);
        if map.len() != len * size_of::<T>() {
            return Err(StoreError::corrupt(
                &path,
                "a column file of another length",
            ));
        }
        Ok(Frozen::Mapped { map, len, _t: std::marker::PhantomData })
    }
}

impl<T: bytemuck::Pod> Drop for Column<T> {
    fn drop(&mut self) {
        // Unfrozen (a search that ended early): its file goes with it.
        if let Some((_, path, _)) = self.file.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[allow(unsafe_code)]
fn map(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: the column's file is written only through the column, which
    // is consumed by `freeze` before the map is made; nothing writes it
    // afterwards (removing it leaves the mapping valid). So the mapped
    // bytes do not change while mapped.
    unsafe { MmapOptions::new().map(file) }
}

/// A complete column, read-only.
pub enum Frozen<T: bytemuck::Pod> {
    Memory(Vec<T>),
    Mapped {
        map: Mmap,
        len: usize,
        _t: std::marker::PhantomData<T>,
    },
}

impl<T: bytemuck::Pod> Deref for Frozen<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Frozen::Memory(v) => v,
            // A map starts on a page boundary: aligned for any word.
            Frozen::Mapped { map, len, .. } => &bytemuck::cast_slice(&map[..])[..*len],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_reads_back_whole_from_memory_or_disk() {
        let dir = SpillDir::temporary().expect("temp dir");
        for spill_every in [None, Some(1), Some(7), Some(1000)] {
            let mut c = Column::<u64>::default();
            for i in 0..500u64 {
                c.push(i * 3);
                if spill_every.is_some_and(|k| i % k == 0) {
                    c.spill(&dir).expect("spills");
                }
            }
            let all: Vec<u64> = (0..500).map(|i| i * 3).collect();
            assert_eq!(c.len(), 500);
            assert_eq!(c.to_vec(&dir).expect("reads"), all);
            assert_eq!(c.last(&dir).expect("reads"), Some(1497));
            let frozen = c.freeze(&dir).expect("freezes");
            assert_eq!(&frozen[..], &all[..], "{spill_every:?}");
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
        assert!(left.is_empty(), "column files are removed");
    }
}
