//! The WGSL fingerprint functions against the CPU's (model::fingerprint),
//! on random words, run on whatever adapter is there (lavapipe in CI).

use gpu_kernels::Gpu;
use gpu_kernels::search::fingerprints;
use rand::{RngExt as _, SeedableRng as _};

#[test]
fn wgsl_fingerprints_equal_the_cpus() {
    let gpu = Gpu::open(true).expect("a GPU adapter (CI installs lavapipe: mesa-vulkan-drivers)");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for words in [1u32, 2, 3, 8, 17] {
        let n = 4096;
        let mut states: Vec<u32> = (0..n * words).map(|_| rng.random()).collect();
        // Edge words too: all zeros, all ones.
        states[..words as usize].fill(0);
        states[words as usize..2 * words as usize].fill(u32::MAX);
        for fp128 in [false, true] {
            let got = fingerprints(&gpu, &states, words, fp128).expect("kernel runs");
            let fpw = if fp128 { 4 } else { 2 };
            for (i, state) in states.chunks_exact(words as usize).enumerate() {
                let g = &got[i * fpw..(i + 1) * fpw];
                if fp128 {
                    let want = model::fingerprint::fingerprint128(state);
                    let have = g
                        .iter()
                        .enumerate()
                        .fold(0u128, |acc, (k, w)| acc | (u128::from(*w) << (32 * k)));
                    assert_eq!(have, want, "state {state:?}");
                } else {
                    let want = model::fingerprint::fingerprint(state);
                    let have = u64::from(g[0]) | (u64::from(g[1]) << 32);
                    assert_eq!(have, want, "state {state:?}");
                }
            }
        }
    }
}
