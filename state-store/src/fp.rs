//! Fingerprint widths: 64 bits (the default) and 128 bits (`--fingerprint
//! 128`, for runs past 10^9 states). Everything that stores fingerprints is
//! generic over [`Fp`]; on disk and in codecs a fingerprint is handled as a
//! `u128` with its width recorded.

use std::fmt::Debug;
use std::hash::Hash;

pub trait Fp: Copy + Eq + Ord + Hash + Default + Send + Sync + Debug + 'static {
    const BITS: u32;
    /// u32 words of a fingerprint in a queue record.
    const WORDS: usize = (Self::BITS / 32) as usize;
    /// The top byte: shards are consecutive ranges of fingerprints.
    fn shard(self) -> usize;
    fn to_u128(self) -> u128;
    /// From a value that fits (checked by the caller's format checks).
    fn from_u128(v: u128) -> Self;
    fn push_words(self, out: &mut Vec<u32>) {
        let v = self.to_u128();
        for i in 0..Self::WORDS {
            out.push((v >> (32 * i)) as u32);
        }
    }
    /// The fingerprints of shard `s`, as a `u128` range (inclusive).
    fn shard_range(s: usize) -> (u128, u128) {
        let low_bits = Self::BITS - 8;
        let lo = (s as u128) << low_bits;
        (lo, lo | ((1u128 << low_bits) - 1))
    }
    fn from_words(w: &[u32]) -> Self {
        let v = (0..Self::WORDS).fold(0u128, |acc, i| acc | (w[i] as u128) << (32 * i));
        Self::from_u128(v)
    }
}

// The words a fingerprint takes in records and on the GPU.
const _: () = assert!(<u64 as Fp>::WORDS == 2 && <u128 as Fp>::WORDS == 4);

impl Fp for u64 {
    const BITS: u32 = 64;
    fn shard(self) -> usize {
        (self >> 56) as usize
    }
    fn to_u128(self) -> u128 {
        self as u128
    }
    fn from_u128(v: u128) -> Self {
        v as u64
    }
}

impl Fp for u128 {
    const BITS: u32 = 128;
    fn shard(self) -> usize {
        (self >> 120) as usize
    }
    fn to_u128(self) -> u128 {
        self
    }
    fn from_u128(v: u128) -> Self {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for v in [
            0u128,
            1,
            u128::MAX,
            0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
        ] {
            let mut w = Vec::new();
            v.push_words(&mut w);
            assert_eq!(w.len(), 4);
            assert_eq!(u128::from_words(&w), v);
            let v64 = v as u64;
            let mut w = Vec::new();
            v64.push_words(&mut w);
            assert_eq!(w.len(), 2);
            assert_eq!(u64::from_words(&w), v64);
        }
        assert_eq!((0xab00_0000_0000_0000u64).shard(), 0xab);
        assert_eq!(u64::shard_range(0xab), (0xab << 56, (0xac << 56) - 1));
        assert_eq!(u128::shard_range(255).1, u128::MAX);
        assert_eq!(((0xabu128) << 120).shard(), 0xab);
    }
}
