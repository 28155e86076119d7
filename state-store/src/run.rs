//! Runs: immutable files of sorted fingerprints, the disk tier of the
//! visited set.
//!
//! ```text
//! header   "FATHOMRN", version u32, fingerprint bytes u32 (8 or 16)
//! blocks   zstd(Rice-coded block of up to BLOCK_FPS fingerprints) ...
//! index    per block: first u128, last u128, offset u64, bytes u32, count u32, crc32 u32
//! footer   index offset u64, blocks u64, fingerprints u64, crc32 of the index u32, "FATHOMRN"
//! ```
//!
//! The index (52 bytes a block, about 0.01 byte a fingerprint) is held in
//! memory; blocks are read through bounded memory-mapped windows, always
//! forward, so a lookup pass over a run is one sequential read that skips
//! the blocks no candidate falls in. A run is written under a temporary
//! name, fsynced and renamed, and never modified after.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapOptions};
use rayon::prelude::*;

use crate::StoreError;
use crate::codec::{decode_sorted, encode_sorted};
use crate::fp::Fp;

/// Fingerprints per block: a lookup decodes whole blocks.
pub const BLOCK_FPS: usize = 4096;
/// Blocks mapped at once: bounds the pages a pass keeps resident.
const WINDOW_BLOCKS: usize = 64;
const MAGIC: &[u8; 8] = b"FATHOMRN";
const VERSION: u32 = 1;
const HEADER_BYTES: u64 = 16;
const ENTRY_BYTES: usize = 52;
const FOOTER_BYTES: u64 = 36;
// The layout's sizes, as `write`/`finish` lay them out.
const _: () = assert!(HEADER_BYTES as usize == 8 + 4 + 4, "magic, version, width");
const _: () = assert!(
    ENTRY_BYTES == 16 + 16 + 8 + 4 + 4 + 4,
    "a block entry's fields"
);
const _: () = assert!(
    FOOTER_BYTES as usize == 8 + 8 + 8 + 4 + 8,
    "the footer's fields"
);
const _: () = assert!(
    BLOCK_FPS <= u32::MAX as usize,
    "a block's count fits its entry"
);
/// A fast zstd level: Rice-coded fingerprints are close to random bits, so
/// stronger levels would only cost time.
const ZSTD_LEVEL: i32 = -3;

thread_local! {
    /// zstd contexts are costly to make; blocks are small and many.
    static ZSTD: std::cell::RefCell<Option<(zstd::bulk::Compressor<'static>, zstd::bulk::Decompressor<'static>)>> =
        const { std::cell::RefCell::new(None) };
}

fn with_zstd<T>(
    f: impl FnOnce(
        &mut zstd::bulk::Compressor<'static>,
        &mut zstd::bulk::Decompressor<'static>,
    ) -> std::io::Result<T>,
) -> std::io::Result<T> {
    ZSTD.with(|z| {
        let mut z = z.borrow_mut();
        if z.is_none() {
            *z = Some((
                zstd::bulk::Compressor::new(ZSTD_LEVEL)?,
                zstd::bulk::Decompressor::new()?,
            ));
        }
        match z.as_mut() {
            Some((c, d)) => f(c, d),
            None => unreachable!("made above"),
        }
    })
}

fn compress_block(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    with_zstd(|c, _| c.compress(raw))
}

/// A bound on a block's encoded bytes: Rice bits per value are at most
/// k + 1 + the quotient, under 2 x the width in bits, with the header.
fn raw_capacity(width: usize, count: usize) -> usize {
    5 + width + 2 * width * count + 16
}

fn decompress_block(packed: &[u8], capacity: usize) -> std::io::Result<Vec<u8>> {
    with_zstd(|_, d| d.decompress(packed, capacity))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BlockEntry {
    first: u128,
    last: u128,
    offset: u64,
    bytes: u32,
    count: u32,
    crc: u32,
}

impl BlockEntry {
    fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self.first.to_le_bytes());
        out.extend_from_slice(&self.last.to_le_bytes());
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.bytes.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.crc.to_le_bytes());
        debug_assert_eq!(out.len() - start, ENTRY_BYTES, "an entry's bytes");
        debug_assert!(
            BlockEntry::read(&out[start..]) == *self,
            "an entry reads back as written"
        );
    }

    fn read(b: &[u8]) -> BlockEntry {
        let u128_at = |i: usize| u128::from_le_bytes(b[i..i + 16].try_into().unwrap_or_default());
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap_or_default());
        BlockEntry {
            first: u128_at(0),
            last: u128_at(16),
            offset: u64_at(32),
            bytes: u32_at(40),
            count: u32_at(44),
            crc: u32_at(48),
        }
    }
}

/// Writes a run from fingerprints given in strictly increasing order.
pub struct RunWriter {
    out: BufWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    pending: Vec<u128>,
    index: Vec<BlockEntry>,
    offset: u64,
    count: u64,
    width: usize,
}

impl RunWriter {
    /// A run of fingerprints of type `F`.
    pub fn create<F: Fp>(path: &Path) -> Result<RunWriter, StoreError> {
        Self::with_width(path, F::BITS as usize / 8)
    }

    fn with_width(path: &Path, width: usize) -> Result<RunWriter, StoreError> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let tmp = path.with_file_name(format!(".{}.tmp", name.unwrap_or_default()));
        let file = File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        let mut header = Vec::with_capacity(HEADER_BYTES as usize);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&(width as u32).to_le_bytes());
        out.write_all(&header)
            .map_err(|e| StoreError::io(&tmp, e))?;
        Ok(RunWriter {
            out,
            tmp,
            path: path.to_path_buf(),
            pending: Vec::with_capacity(BLOCK_FPS),
            index: Vec::new(),
            offset: HEADER_BYTES,
            count: 0,
            width,
        })
    }

    pub fn push(&mut self, fp: u128) -> Result<(), StoreError> {
        let last = self
            .pending
            .last()
            .copied()
            .or(self.index.last().map(|e| e.last));
        assert!(
            last.is_none_or(|l| l < fp),
            "a run's fingerprints are strictly increasing (a repeated fingerprint would be a lost state)"
        );
        self.pending.push(fp);
        if self.pending.len() == BLOCK_FPS {
            self.flush_block()?;
        }
        Ok(())
    }

    /// Appends many fingerprints (strictly increasing, after those
    /// pushed so far); whole blocks are encoded in parallel.
    pub fn extend_sorted(&mut self, values: &[u128]) -> Result<(), StoreError> {
        let fill = (BLOCK_FPS - self.pending.len()).min(values.len());
        for &v in &values[..fill] {
            self.push(v)?;
        }
        let rest = &values[fill..];
        assert!(
            rest.windows(2).all(|w| w[0] < w[1]),
            "a run's fingerprints are strictly increasing (a repeated fingerprint would be a lost state)"
        );
        let whole = rest.len() / BLOCK_FPS * BLOCK_FPS;
        if whole > 0 {
            assert!(
                self.index.last().is_none_or(|e| e.last < rest[0]),
                "a run's fingerprints are strictly increasing"
            );
            let width = self.width;
            let blocks: Vec<Vec<u8>> = rest[..whole]
                .par_chunks(BLOCK_FPS)
                .map(|b| compress_block(&encode_sorted(b, width)))
                .collect::<Result<_, _>>()
                .map_err(|e| StoreError::io(&self.tmp, e))?;
            for (b, packed) in rest[..whole].chunks(BLOCK_FPS).zip(blocks) {
                self.write_block(b, &packed)?;
            }
        }
        for &v in &rest[whole..] {
            self.push(v)?;
        }
        Ok(())
    }

    fn flush_block(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let raw = encode_sorted(&self.pending, self.width);
        let packed = compress_block(&raw).map_err(|e| StoreError::io(&self.tmp, e))?;
        let pending = std::mem::take(&mut self.pending);
        self.write_block(&pending, &packed)?;
        self.pending = pending;
        self.pending.clear();
        Ok(())
    }

    fn write_block(&mut self, values: &[u128], packed: &[u8]) -> Result<(), StoreError> {
        assert!(
            !values.is_empty() && values.len() <= BLOCK_FPS,
            "a block holds 1 to BLOCK_FPS fingerprints"
        );
        // The pair check before the write: the block decodes to its values.
        debug_assert!(
            {
                let mut back = Vec::new();
                decompress_block(packed, raw_capacity(self.width, values.len()))
                    .ok()
                    .and_then(|raw| decode_sorted(&raw, self.width, &mut back))
                    .is_some()
                    && back == values
            },
            "a block decodes to the fingerprints it was made of"
        );
        self.out
            .write_all(packed)
            .map_err(|e| StoreError::io(&self.tmp, e))?;
        self.index.push(BlockEntry {
            first: values[0],
            last: values[values.len() - 1],
            offset: self.offset,
            bytes: packed.len() as u32,
            count: values.len() as u32,
            crc: crc32fast::hash(packed),
        });
        self.offset += packed.len() as u64;
        self.count += values.len() as u64;
        Ok(())
    }

    /// Writes the index and footer, makes the file durable and renames it
    /// into place.
    pub fn finish(mut self) -> Result<Run, StoreError> {
        self.flush_block()?;
        let mut tail = Vec::with_capacity(self.index.len() * ENTRY_BYTES + 36);
        for e in &self.index {
            e.write(&mut tail);
        }
        let crc = crc32fast::hash(&tail);
        tail.extend_from_slice(&self.offset.to_le_bytes());
        tail.extend_from_slice(&(self.index.len() as u64).to_le_bytes());
        tail.extend_from_slice(&self.count.to_le_bytes());
        tail.extend_from_slice(&crc.to_le_bytes());
        tail.extend_from_slice(MAGIC);
        assert_eq!(
            tail.len(),
            self.index.len() * ENTRY_BYTES + FOOTER_BYTES as usize,
            "index and footer"
        );
        assert_eq!(
            self.count,
            self.index.iter().map(|e| u64::from(e.count)).sum::<u64>(),
            "the footer's count is the blocks'"
        );
        let tmp = self.tmp.clone();
        let io = |e| StoreError::io(&tmp, e);
        self.out.write_all(&tail).map_err(io)?;
        let file = self
            .out
            .into_inner()
            .map_err(|e| StoreError::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| StoreError::io(&self.path, e))?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| StoreError::io(dir, e))?;
        }
        Run::open(&self.path)
    }
}

/// A run opened for reading: its index in memory, its blocks on disk.
pub struct Run {
    path: PathBuf,
    file: File,
    index: Vec<BlockEntry>,
    count: u64,
    bytes: u64,
    width: usize,
}

#[allow(unsafe_code)]
fn map(file: &File, offset: u64, len: usize) -> std::io::Result<Mmap> {
    // SAFETY: a run file is written whole under a temporary name and
    // renamed into place, then never written again (only deleted, which
    // leaves an existing mapping valid). So the mapped bytes do not change
    // while mapped; every block read is also checked against its CRC.
    unsafe { MmapOptions::new().offset(offset).len(len).map(file) }
}

impl Run {
    /// Opens a run, checking its header, footer and index.
    pub fn open(path: &Path) -> Result<Run, StoreError> {
        let corrupt = |why: &str| StoreError::corrupt(path, why.to_string());
        let mut file = File::open(path).map_err(|e| StoreError::io(path, e))?;
        let bytes = file.metadata().map_err(|e| StoreError::io(path, e))?.len();
        if bytes < HEADER_BYTES + FOOTER_BYTES {
            return Err(corrupt("shorter than a run's header and footer"));
        }
        let mut head = [0u8; HEADER_BYTES as usize];
        let mut foot = [0u8; FOOTER_BYTES as usize];
        let io = |e| StoreError::io(path, e);
        file.read_exact(&mut head).map_err(io)?;
        file.seek(SeekFrom::Start(bytes - FOOTER_BYTES))
            .map_err(io)?;
        file.read_exact(&mut foot).map_err(io)?;
        if &head[..8] != MAGIC || &foot[28..] != MAGIC {
            return Err(corrupt("not a Fathom run file (truncated?)"));
        }
        if head[8..12] != VERSION.to_le_bytes() {
            return Err(corrupt("unknown run format version"));
        }
        let width = u32::from_le_bytes(head[12..16].try_into().unwrap_or_default()) as usize;
        if width != 8 && width != 16 {
            return Err(corrupt("unknown fingerprint width"));
        }
        let u64_at = |i: usize| u64::from_le_bytes(foot[i..i + 8].try_into().unwrap_or_default());
        let (index_at, blocks, count) = (u64_at(0), u64_at(8), u64_at(16));
        let crc = u32::from_le_bytes(foot[24..28].try_into().unwrap_or_default());
        if blocks
            .checked_mul(ENTRY_BYTES as u64)
            .and_then(|b| b.checked_add(index_at))
            != Some(bytes - FOOTER_BYTES)
        {
            return Err(corrupt("index size disagrees with the file's length"));
        }
        let mut raw = vec![0u8; blocks as usize * ENTRY_BYTES];
        file.seek(SeekFrom::Start(index_at)).map_err(io)?;
        file.read_exact(&mut raw).map_err(io)?;
        if crc32fast::hash(&raw) != crc {
            return Err(corrupt("index checksum mismatch"));
        }
        let index: Vec<BlockEntry> = raw
            .chunks_exact(ENTRY_BYTES)
            .map(BlockEntry::read)
            .collect();
        let mut at = HEADER_BYTES;
        let mut total = 0u64;
        for (i, e) in index.iter().enumerate() {
            let ordered = i == 0 || index[i - 1].last < e.first;
            let fits = width == 16 || e.last <= u64::MAX as u128;
            if e.offset != at || e.first > e.last || e.count == 0 || !ordered || !fits {
                return Err(corrupt("inconsistent block index"));
            }
            at += e.bytes as u64;
            total += e.count as u64;
        }
        if at != index_at || total != count {
            return Err(corrupt("block index disagrees with the footer"));
        }
        Ok(Run {
            path: path.to_path_buf(),
            file,
            index,
            count,
            bytes,
            width,
        })
    }

    /// Fingerprint bytes: 8 or 16.
    pub fn width(&self) -> usize {
        self.width
    }

    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The file's size in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn decode(
        &self,
        window: &Mmap,
        base: u64,
        b: usize,
        out: &mut Vec<u128>,
    ) -> Result<(), StoreError> {
        let e = &self.index[b];
        let start = (e.offset - base) as usize;
        let packed = &window[start..start + e.bytes as usize];
        if crc32fast::hash(packed) != e.crc {
            return Err(StoreError::corrupt(
                &self.path,
                format!("block {b} checksum mismatch"),
            ));
        }
        let raw =
            decompress_block(packed, raw_capacity(self.width, e.count as usize)).map_err(|_| {
                StoreError::corrupt(&self.path, format!("block {b} does not decompress"))
            })?;
        decode_sorted(&raw, self.width, out)
            .filter(|_| {
                out.len() == e.count as usize
                    && out.first() == Some(&e.first)
                    && out.last() == Some(&e.last)
            })
            .ok_or_else(|| StoreError::corrupt(&self.path, format!("block {b} is malformed")))
    }

    /// Maps blocks `b0..b1` (a bounded window).
    fn window(&self, b0: usize, b1: usize) -> Result<(Mmap, u64), StoreError> {
        let base = self.index[b0].offset;
        let end = self.index[b1 - 1].offset + self.index[b1 - 1].bytes as u64;
        let m = map(&self.file, base, (end - base) as usize)
            .map_err(|e| StoreError::io(&self.path, e))?;
        Ok((m, base))
    }

    /// Marks `present[i]` for each `sorted[i]` (strictly increasing) that
    /// is in this run. Reads only the blocks the candidates fall in, in
    /// file order.
    pub fn mark_present<F: Fp>(
        &self,
        sorted: &[F],
        present: &mut [bool],
    ) -> Result<(), StoreError> {
        assert_eq!(sorted.len(), present.len());
        assert_eq!(
            F::BITS as usize,
            self.width * 8,
            "fingerprints of the run's width"
        );
        debug_assert!(sorted.windows(2).all(|w| w[0] < w[1]));
        let (Some(lo), Some(hi)) = (sorted.first(), sorted.last()) else {
            return Ok(());
        };
        let (lo, hi) = (lo.to_u128(), hi.to_u128());
        let b_start = self.index.partition_point(|e| e.last < lo);
        let b_end = self.index.partition_point(|e| e.first <= hi);
        let mut values = Vec::with_capacity(BLOCK_FPS);
        let mut i = 0usize;
        let mut w0 = b_start;
        while w0 < b_end && i < sorted.len() {
            let w1 = (w0 + WINDOW_BLOCKS).min(b_end);
            let mut window: Option<(Mmap, u64)> = None;
            for b in w0..w1 {
                let e = self.index[b];
                // Candidates below this block are in no block.
                i += sorted[i..].partition_point(|c| c.to_u128() < e.first);
                let n = sorted[i..].partition_point(|c| c.to_u128() <= e.last);
                if n == 0 {
                    continue;
                }
                if window.is_none() {
                    window = Some(self.window(b, w1)?);
                }
                let Some((m, base)) = &window else {
                    unreachable!()
                };
                self.decode(m, *base, b, &mut values)?;
                let mut v = 0usize;
                for k in i..i + n {
                    let c = sorted[k].to_u128();
                    v += values[v..].partition_point(|&x| x < c);
                    if values.get(v) == Some(&c) {
                        present[k] = true;
                    }
                }
                i += n;
            }
            w0 = w1;
        }
        Ok(())
    }

    /// The fingerprints in `lo..=hi`, in order, as `F`: reads only the
    /// blocks that overlap the range.
    pub fn read_range<F: Fp>(&self, lo: u128, hi: u128) -> Result<Vec<F>, StoreError> {
        assert_eq!(
            F::BITS as usize,
            self.width * 8,
            "fingerprints of the run's width"
        );
        Ok(self
            .read_range_raw(lo, hi)?
            .into_iter()
            .map(F::from_u128)
            .collect())
    }

    fn read_range_raw(&self, lo: u128, hi: u128) -> Result<Vec<u128>, StoreError> {
        let b0 = self.index.partition_point(|e| e.last < lo);
        let b1 = self.index.partition_point(|e| e.first <= hi);
        let mut out = Vec::new();
        let mut values = Vec::with_capacity(BLOCK_FPS);
        let mut w0 = b0;
        while w0 < b1 {
            let w1 = (w0 + WINDOW_BLOCKS).min(b1);
            let (m, base) = self.window(w0, w1)?;
            for b in w0..w1 {
                self.decode(&m, base, b, &mut values)?;
                out.extend(values.iter().copied().filter(|&v| lo <= v && v <= hi));
            }
            w0 = w1;
        }
        Ok(out)
    }

    /// Every fingerprint, in order, as `F`; blocks are decoded in
    /// parallel, a window at a time.
    pub fn read_all<F: Fp>(&self) -> Result<Vec<F>, StoreError> {
        assert_eq!(
            F::BITS as usize,
            self.width * 8,
            "fingerprints of the run's width"
        );
        let mut out = Vec::with_capacity(self.count as usize);
        for w0 in (0..self.index.len()).step_by(WINDOW_BLOCKS) {
            let w1 = (w0 + WINDOW_BLOCKS).min(self.index.len());
            let (m, base) = self.window(w0, w1)?;
            let parts: Vec<Vec<u128>> = (w0..w1)
                .into_par_iter()
                .map(|b| {
                    let mut values = Vec::with_capacity(BLOCK_FPS);
                    self.decode(&m, base, b, &mut values).map(|()| values)
                })
                .collect::<Result<_, _>>()?;
            for p in parts {
                out.extend(p.into_iter().map(F::from_u128));
            }
        }
        Ok(out)
    }
}

/// Fingerprints merged per batch at most (4 MiB of u128s): bounds
/// a merge's memory while its shards are merged in parallel.
const MERGE_BATCH_FPS: u64 = 1 << 18;

/// Merges two runs (disjoint by construction) into a new run at `path`.
/// Shard ranges are independent: a batch of them is merged in parallel,
/// each reading its range of both runs forward, and the batch's blocks are
/// encoded in parallel.
pub fn merge(a: &Run, b: &Run, path: &Path) -> Result<Run, StoreError> {
    assert_eq!(a.width, b.width, "runs of one fingerprint width");
    let mut w = RunWriter::with_width(path, a.width)?;
    let low_bits = a.width as u32 * 8 - 8;
    let per_shard = (a.len() + b.len()) / 256 + 1;
    let batch = (MERGE_BATCH_FPS / per_shard).clamp(1, 64) as usize;
    for first in (0..256usize).step_by(batch) {
        let merged: Vec<Vec<u128>> = (first..(first + batch).min(256))
            .into_par_iter()
            .map(|s| {
                let lo = (s as u128) << low_bits;
                let hi = lo | ((1u128 << low_bits) - 1);
                let (x, y) = (a.read_range_raw(lo, hi)?, b.read_range_raw(lo, hi)?);
                let mut out = Vec::with_capacity(x.len() + y.len());
                let (mut i, mut j) = (0, 0);
                while i < x.len() && j < y.len() {
                    if x[i] < y[j] {
                        out.push(x[i]);
                        i += 1;
                    } else {
                        out.push(y[j]);
                        j += 1;
                    }
                }
                out.extend_from_slice(&x[i..]);
                out.extend_from_slice(&y[j..]);
                Ok(out)
            })
            .collect::<Result<_, StoreError>>()?;
        // `extend_sorted` asserts strictly increasing: a fingerprint in
        // both runs stops here rather than being silently counted once.
        w.extend_sorted(&merged.concat())?;
    }
    let run = w.finish()?;
    assert_eq!(
        run.len(),
        a.len() + b.len(),
        "a merge keeps every fingerprint"
    );
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn write(dir: &Path, name: &str, v: &[u64]) -> Run {
        let mut w = RunWriter::create::<u64>(&dir.join(name)).expect("create");
        for &x in v {
            w.push(x as u128).expect("push");
        }
        w.finish().expect("finish")
    }

    fn sorted(mut v: Vec<u64>) -> Vec<u64> {
        v.sort_unstable();
        v.dedup();
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn lookups_and_merges_agree_with_a_set(
            a in proptest::collection::vec(any::<u64>(), 0..20_000),
            probes in proptest::collection::vec(any::<u64>(), 0..3_000),
            split in 0usize..4,
        ) {
            let dir = tempfile::tempdir().expect("dir");
            let all = sorted(a);
            // Two disjoint runs, interleaved or not.
            let (x, y): (Vec<u64>, Vec<u64>) = if split % 2 == 0 {
                all.iter().partition(|v| *v % 3 == 0)
            } else {
                let cut = all.len() / (split + 1);
                (all[..cut].to_vec(), all[cut..].to_vec())
            };
            let rx = write(dir.path(), "x", &x);
            // The other one in bulk: blocks encoded in parallel.
            let ry = {
                let mut w = RunWriter::create::<u64>(&dir.path().join("y")).expect("create");
                let wide: Vec<u128> = y.iter().map(|&v| v as u128).collect();
                let cut = wide.len() / 3;
                w.extend_sorted(&wide[..cut]).expect("extend");
                w.extend_sorted(&wide[cut..]).expect("extend");
                w.finish().expect("finish")
            };
            prop_assert_eq!(ry.read_all::<u64>().expect("read"), y.clone());
            prop_assert_eq!(rx.read_all::<u64>().expect("read"), x.clone());
            // Probes: some present, some not.
            let mut cands: Vec<u64> = probes;
            cands.extend(all.iter().step_by(7).copied());
            let cands = sorted(cands);
            let mut present = vec![false; cands.len()];
            rx.mark_present(&cands, &mut present).expect("x");
            ry.mark_present(&cands, &mut present).expect("y");
            let set: std::collections::BTreeSet<u64> = all.iter().copied().collect();
            for (c, p) in cands.iter().zip(&present) {
                prop_assert_eq!(*p, set.contains(c), "candidate {}", c);
            }
            let m = merge(&rx, &ry, &dir.path().join("m")).expect("merge");
            prop_assert_eq!(m.read_all::<u64>().expect("read"), all);
        }
    }

    #[test]
    fn wide_runs_find_and_merge() {
        let dir = tempfile::tempdir().expect("dir");
        let make = |name: &str, v: &[u128]| {
            let mut w = RunWriter::create::<u128>(&dir.path().join(name)).expect("create");
            for &x in v {
                w.push(x).expect("push");
            }
            w.finish().expect("finish")
        };
        let a: Vec<u128> = (1..9000u128)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) | 1)
            .collect();
        let mut a = a;
        a.sort_unstable();
        a.dedup();
        let (x, y): (Vec<u128>, Vec<u128>) = a.iter().partition(|v| *v % 5 == 0);
        let (rx, ry) = (make("x", &x), make("y", &y));
        let m = merge(&rx, &ry, &dir.path().join("m")).expect("merge");
        assert_eq!(m.read_all::<u128>().expect("read"), a);
        let mut probes: Vec<u128> = a.iter().step_by(3).map(|v| v ^ 2).collect();
        probes.extend(a.iter().step_by(4));
        probes.sort_unstable();
        probes.dedup();
        let mut present = vec![false; probes.len()];
        m.mark_present(&probes, &mut present).expect("lookup");
        for (p, f) in probes.iter().zip(&present) {
            assert_eq!(*f, a.binary_search(p).is_ok());
        }
        let (lo, hi) = (a[100], a[7000]);
        assert_eq!(
            m.read_range::<u128>(lo, hi).expect("range"),
            a[100..=7000].to_vec()
        );
    }

    #[test]
    fn empty_run_opens_and_finds_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let r = write(dir.path(), "e", &[]);
        assert!(r.is_empty());
        let mut present = vec![false; 2];
        r.mark_present(&[1u64, 2], &mut present).expect("lookup");
        assert_eq!(present, [false, false]);
    }

    #[test]
    fn damage_is_reported_not_read() {
        let dir = tempfile::tempdir().expect("dir");
        let v: Vec<u64> = (1..20_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
            .collect();
        let v = sorted(v);
        write(dir.path(), "r", &v);
        let path = dir.path().join("r");
        let good = std::fs::read(&path).expect("read");
        // A flipped byte in a block: opening works, reading that block fails.
        let mut bad = good.clone();
        bad[HEADER_BYTES as usize + 5] ^= 0x10;
        std::fs::write(&path, &bad).expect("write");
        let r = Run::open(&path).expect("index intact");
        assert!(matches!(
            r.read_all::<u64>(),
            Err(StoreError::Corrupt { .. })
        ));
        // Truncated, or a flipped index byte: refused at open.
        for bad in [good[..good.len() - 10].to_vec(), {
            let mut b = good.clone();
            let at = b.len() - FOOTER_BYTES as usize - 3;
            b[at] ^= 1;
            b
        }] {
            std::fs::write(&path, &bad).expect("write");
            assert!(matches!(Run::open(&path), Err(StoreError::Corrupt { .. })));
        }
    }
}
