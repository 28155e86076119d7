//! Bit-level encodings of the store's blocks.
//!
//! A block of sorted fingerprints is its first value and the gaps between
//! neighbours, Rice-coded: a gap `g` is `g >> k` in unary and its low `k`
//! bits verbatim, with `k` chosen from the block's mean gap. Fingerprints
//! are uniform hashes, so gaps are close to geometric and this is within a
//! bit or two of their entropy: about 39 bits a fingerprint at 10^8
//! fingerprints, where a plain `u64` costs 64. Values are `u128`, so both
//! fingerprint widths share the code; a block's first value takes `width`
//! bytes (8 or 16).

/// Appends bits to a byte vector, least significant bit first.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter {
    fn new(out: Vec<u8>) -> BitWriter {
        BitWriter { out, acc: 0, bits: 0 }
    }

    /// Writes the low `n` bits of `v` (n <= 32).
    fn put(&mut self, v: u64, n: u32) {
        debug_assert!(n <= 32 && v >> n == 0);
        self.acc |= v << self.bits;
        self.bits += n;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    /// Writes the low `n` bits of `v` (n <= 128).
    fn put_wide(&mut self, mut v: u128, mut n: u32) {
        while n > 32 {
            self.put((v & 0xffff_ffff) as u64, 32);
            v >>= 32;
            n -= 32;
        }
        self.put(v as u64, n);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.bits > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

struct BitReader<'a> {
    bytes: &'a [u8],
    at: usize,
    acc: u64,
    bits: u32,
}

impl<'a> BitReader<'a> {
    fn new(bytes: &'a [u8]) -> BitReader<'a> {
        BitReader { bytes, at: 0, acc: 0, bits: 0 }
    }

    /// Tops the window up to at least 57 bits (fewer at the end).
    fn refill(&mut self) {
        if self.bits <= 56
            && let Some(word) = self.bytes.get(self.at..self.at + 8)
        {
            // One unaligned load instead of a byte loop.
            let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
            let take = (63 - self.bits) / 8;
            self.acc |= (w & ((1u64 << (8 * take)) - 1)) << self.bits;
            self.at += take as usize;
            self.bits += 8 * take;
            return;
        }
        while self.bits <= 56 && self.at < self.bytes.len() {
            self.acc |= (self.bytes[self.at] as u64) << self.bits;
            self.at += 1;
            self.bits += 8;
        }
    }

    /// Reads `n` bits (n <= 56), or None past the end.
    fn get(&mut self, n: u32) -> Option<u64> {
        if self.bits < n {
            self.refill();
            if self.bits < n {
                return None;
            }
        }
        let v = self.acc & ((1u64 << n) - 1);
        self.acc >>= n;
        self.bits -= n;
        Some(v)
    }

    fn get_wide(&mut self, n: u32) -> Option<u128> {
        if n <= 56 {
            return self.get(n).map(u128::from);
        }
        let mut v = 0u128;
        let mut at = 0;
        while n - at > 32 {
            v |= (self.get(32)? as u128) << at;
            at += 32;
        }
        Some(v | (self.get(n - at)? as u128) << at)
    }

    /// Counts one bits up to the next zero bit (consumed).
    fn unary(&mut self) -> Option<u64> {
        let mut q = 0u64;
        loop {
            if self.bits == 0 {
                self.refill();
                if self.bits == 0 {
                    return None;
                }
            }
            let ones = (!self.acc).trailing_zeros().min(self.bits);
            q += ones as u64;
            if ones < self.bits {
                // ones + 1 may be 64: a plain shift would wrap in release builds.
                self.acc = self.acc.checked_shr(ones + 1).unwrap_or(0);
                self.bits -= ones + 1;
                return Some(q);
            }
            self.acc = 0;
            self.bits = 0;
        }
    }
}

/// Encodes a strictly increasing, non-empty block of fingerprints whose
/// values fit in `width` bytes (8 or 16).
pub fn encode_sorted(values: &[u128], width: usize) -> Vec<u8> {
    assert!(!values.is_empty(), "a block holds at least one fingerprint");
    assert!(width == 8 || width == 16);
    let n = values.len();
    let first = values[0];
    let last = values[n - 1];
    let k = if n > 1 {
        let mean = (last - first) / (n as u128 - 1);
        // Near floor(log2(mean * ln 2)), the Golomb parameter for geometric
        // gaps; the neighbour that costs fewest bits for this block wins.
        let k0 = ((mean as f64) * std::f64::consts::LN_2)
            .max(1.0)
            .log2()
            .floor() as u32;
        let k0 = k0.min(126);
        // Total bits for k0 - 1, k0 and k0 + 1 in one pass over the gaps.
        let kl = k0.saturating_sub(1);
        let mut q = [0u128; 3];
        for p in values.windows(2) {
            let g = p[1] - p[0] - 1;
            q[0] += g >> kl;
            q[1] += g >> k0;
            q[2] += g >> (k0 + 1);
        }
        let gaps = n as u128 - 1;
        [(kl, q[0]), (k0, q[1]), (k0 + 1, q[2])]
            .into_iter()
            .min_by_key(|&(k, q)| q + gaps * (1 + k as u128))
            .map_or(k0, |(k, _)| k)
    } else {
        0
    };
    let mut head = Vec::with_capacity(5 + width + n * (width / 8) * 5);
    head.extend_from_slice(&(n as u32).to_le_bytes());
    head.extend_from_slice(&first.to_le_bytes()[..width]);
    head.push(k as u8);
    let mut w = BitWriter::new(head);
    for pair in values.windows(2) {
        assert!(pair[0] < pair[1], "a block is strictly increasing");
        let gap = pair[1] - pair[0] - 1;
        // The quotients total at most about 6 per gap, by the choice of
        // k, so the unary parts stay short.
        let mut q = gap >> k;
        while q >= 32 {
            w.put(u32::MAX as u64, 32);
            q -= 32;
        }
        // q ones, then a zero.
        w.put((1u64 << q) - 1, q as u32 + 1);
        w.put_wide(gap & ((1u128 << k) - 1), k);
    }
    w.finish()
}

/// Decodes a block written by [`encode_sorted`]; None if it is malformed.
pub fn decode_sorted(bytes: &[u8], width: usize, out: &mut Vec<u128>) -> Option<()> {
    out.clear();
    let head = 4 + width + 1;
    if bytes.len() < head {
        return None;
    }
    let n = u32::from_le_bytes(bytes[0..4].try_into().ok()?) as usize;
    let mut first = [0u8; 16];
    first[..width].copy_from_slice(&bytes[4..4 + width]);
    let mut v = u128::from_le_bytes(first);
    let k = bytes[4 + width] as u32;
    if n == 0 || k > 127 {
        return None;
    }
    let max = if width == 8 {
        u64::MAX as u128
    } else {
        u128::MAX
    };
    out.reserve(n);
    out.push(v);
    let mut r = BitReader::new(&bytes[head..]);
    for _ in 1..n {
        let q = r.unary()? as u128;
        let low = r.get_wide(k)?;
        let gap = q.checked_shl(k).filter(|g| g >> k == q)? | low;
        v = v.checked_add(gap)?.checked_add(1).filter(|&v| v <= max)?;
        out.push(v);
    }
    Some(())
}

/// LEB128 varints, for the trace log's columns.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted(mut v: Vec<u64>) -> Vec<u64> {
        v.sort_unstable();
        v.dedup();
        v
    }

    fn wide(v: &[u64]) -> Vec<u128> {
        v.iter().map(|&x| x as u128).collect()
    }

    fn round_trip(v: &[u128], width: usize) -> Option<Vec<u128>> {
        let mut back = Vec::new();
        decode_sorted(&encode_sorted(v, width), width, &mut back)?;
        Some(back)
    }

    proptest! {
        #[test]
        fn blocks_round_trip(v in proptest::collection::vec(any::<u64>(), 1..600)) {
            let v = wide(&sorted(v));
            prop_assert_eq!(round_trip(&v, 8), Some(v));
        }

        #[test]
        fn wide_blocks_round_trip(v in proptest::collection::vec(any::<u128>(), 1..600)) {
            let mut v = v;
            v.sort_unstable();
            v.dedup();
            prop_assert_eq!(round_trip(&v, 16), Some(v));
        }

        #[test]
        fn dense_and_clustered_blocks_round_trip(base in any::<u64>(), gaps in proptest::collection::vec(0u64..70, 1..600)) {
            let mut v = vec![base % (u64::MAX / 2)];
            for g in gaps {
                let next = v[v.len() - 1] + 1 + g * g * g;
                v.push(next);
            }
            let v = wide(&v);
            prop_assert_eq!(round_trip(&v, 8), Some(v));
        }

        #[test]
        fn varints_round_trip(v in proptest::collection::vec(any::<u64>(), 0..100)) {
            let mut bytes = Vec::new();
            for x in &v { put_varint(&mut bytes, *x); }
            let mut at = 0;
            let back: Vec<u64> = v.iter().map(|_| get_varint(&bytes, &mut at).unwrap_or(0)).collect();
            prop_assert_eq!(back, v);
            prop_assert_eq!(at, bytes.len());
        }
    }

    #[test]
    fn extreme_values_round_trip() {
        for v in [
            vec![u64::MAX],
            vec![1, u64::MAX],
            vec![0, 1, 2, 3],
            vec![1, 1 << 63, u64::MAX - 1, u64::MAX],
        ] {
            let v = wide(&v);
            assert_eq!(round_trip(&v, 8), Some(v.clone()));
            assert_eq!(round_trip(&v, 16), Some(v));
        }
        let v = vec![1, u128::MAX >> 1, u128::MAX];
        assert_eq!(round_trip(&v, 16), Some(v));
    }

    #[test]
    fn uniform_fingerprints_cost_about_their_entropy() {
        // 2^20 uniform values spread as 10^8 fingerprints would be: mean
        // gap 2^64 / 10^8. Entropy of a geometric gap: log2(e * mean) bits.
        let n = 1u64 << 20;
        let span = (u64::MAX / 100_000_000) * n;
        let mut x = 0x243f_6a88_85a3_08d3u64;
        let v = sorted(
            (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x % span
                })
                .collect(),
        );
        let bits = encode_sorted(&wide(&v), 8).len() as f64 * 8.0 / v.len() as f64;
        let entropy = (std::f64::consts::E * (span as f64 / v.len() as f64)).log2();
        assert!(
            bits < entropy + 0.2,
            "{bits} bits/fingerprint, entropy {entropy}"
        );
        assert!(bits < 40.0, "{bits} bits/fingerprint");
    }
}

#[cfg(test)]
mod wide_tests {
    use super::*;

    /// A run can cover part of the fingerprint space (a spill of states
    /// settled in shard order): one gap then dwarfs the others and its
    /// quotient is a unary run of hundreds of bits, whose end may fall at
    /// any bit of the reader's 64-bit window (a regression: ending at bit
    /// 63 once shifted by 64).
    #[test]
    fn long_unary_runs_at_every_alignment() {
        for lead in 0..70u128 {
            for shift in [36u32, 44, 52] {
                let mut v: Vec<u128> = (1..=lead + 2).map(|i| i << shift).collect();
                let top = v[v.len() - 1];
                v.extend((1..50u128).map(|i| top + (1 << 62) + (i << shift)));
                let mut back = Vec::new();
                assert!(decode_sorted(&encode_sorted(&v, 8), 8, &mut back).is_some());
                assert_eq!(back, v, "lead {lead} shift {shift}");
            }
        }
    }

    #[test]
    fn uniform_wide_blocks_round_trip() {
        let mut x = 0x243f_6a88_85a3_08d3u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [2usize, 3, 100, 2794, 4096] {
            let mut v: Vec<u128> = (0..n)
                .map(|_| (next() as u128) << 64 | next() as u128)
                .collect();
            v.sort_unstable();
            v.dedup();
            let mut back = Vec::new();
            let enc = encode_sorted(&v, 16);
            assert!(decode_sorted(&enc, 16, &mut back).is_some(), "n = {n}");
            assert_eq!(back, v, "n = {n}");
            let mut v: Vec<u128> = (0..n).map(|_| next() as u128).collect();
            v.sort_unstable();
            v.dedup();
            let enc = encode_sorted(&v, 8);
            assert!(
                decode_sorted(&enc, 8, &mut back).is_some(),
                "narrow n = {n}"
            );
            assert_eq!(back, v, "narrow n = {n}");
        }
    }
}
