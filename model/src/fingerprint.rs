//! The one fingerprint function of packed states.
//!
//! Defined on u32 words with u32 arithmetic only (wrapping multiply, xor,
//! rotate), so the WGSL kernels compute exactly the same value and a run can
//! move between backends or resume from a checkpoint.
//!
//! Two 32-bit lanes, each a MurmurHash3 (x86_32) over the words with its own
//! seed, are finalized with the word count and cross-mixed; the result is
//! `hi << 32 | lo`. Zero is reserved as the empty marker of hash tables, so
//! a zero result is mapped to 1 (this merges two of 2^64 values).

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;
const SEED_A: u32 = 0x9747_b28c;
const SEED_B: u32 = 0x2545_f491;

#[inline]
fn fmix(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

#[inline]
fn round(h: u32, w: u32) -> u32 {
    let k = w.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    (h ^ k)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

/// The 64-bit fingerprint of a packed state.
pub fn fingerprint(words: &[u32]) -> u64 {
    let mut a = SEED_A;
    let mut b = SEED_B;
    for &w in words {
        a = round(a, w);
        // The second lane sees each word rotated, so the lanes' collisions differ.
        b = round(b, w.rotate_left(16) ^ 0x5bd1_e995);
    }
    let n = words.len() as u32;
    a = fmix(a ^ n);
    b = fmix(b ^ n.wrapping_mul(0x27d4_eb2f));
    let lo = a.wrapping_add(b);
    let hi = b.wrapping_add(lo).rotate_left(7) ^ a;
    let fp = (u64::from(hi) << 32) | u64::from(lo);
    if fp == 0 { 1 } else { fp }
}

const SEED_C: u32 = 0x3c6e_f372;
const SEED_D: u32 = 0xa54f_f53a;

/// The 128-bit fingerprint (`--fingerprint 128`): the 64-bit fingerprint
/// in the high half, so shards and order agree with it, and two more lanes
/// with their own seeds (and the word rotated otherwise) in the low half.
pub fn fingerprint128(words: &[u32]) -> u128 {
    let mut c = SEED_C;
    let mut d = SEED_D;
    for &w in words {
        c = round(c, w.rotate_left(8) ^ 0x68e3_1da4);
        d = round(d, w.rotate_left(24) ^ 0xb529_7a4d);
    }
    let n = words.len() as u32;
    c = fmix(c ^ n.wrapping_mul(0x1656_67b1));
    d = fmix(d ^ n.wrapping_mul(0x9e37_79b1));
    let lo =
        (u64::from(d.wrapping_add(c).rotate_left(11) ^ c) << 32) | u64::from(c.wrapping_add(d));
    (u128::from(fingerprint(words)) << 64) | u128::from(lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn distinct_on_small_states() {
        // Every 2-word state with small values gets its own fingerprint.
        let mut seen = HashSet::new();
        for x in 0..300u32 {
            for y in 0..300u32 {
                assert!(seen.insert(fingerprint(&[x, y])));
            }
        }
    }

    #[test]
    fn wide_fingerprints_extend_the_narrow_ones() {
        let mut seen = HashSet::new();
        for x in 0..200u32 {
            for y in 0..200u32 {
                let w = fingerprint128(&[x, y]);
                assert_eq!((w >> 64) as u64, fingerprint(&[x, y]));
                assert!(seen.insert(w as u64), "low halves differ too");
            }
        }
    }

    #[test]
    fn depends_on_length() {
        assert_ne!(fingerprint(&[0]), fingerprint(&[0, 0]));
        assert_ne!(fingerprint(&[]), fingerprint(&[0]));
    }
}
