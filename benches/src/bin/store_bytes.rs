//! Bytes per state of the visited set's disk tier: fingerprints of N
//! distinct states (the model's own fingerprint function over distinct
//! packed states) written as one sorted run; the file's size over N.
//!
//! `cargo run --release -p fathom-benches --bin store_bytes -- 1000000 10000000 100000000`
//! prints one JSON object per N.

use std::time::Instant;

use model::fingerprint::fingerprint;
use state_store::run::RunWriter;

fn main() {
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000_000]
    } else {
        sizes
    };
    for n in sizes {
        // Three-word states, as TwoPhase's are: distinct words give
        // distinct states; their fingerprints are what a search would keep.
        let mut fps: Vec<u64> = (0..n)
            .map(|i| fingerprint(&[i as u32, (i >> 32) as u32, 0x5a5a_5a5a]))
            .collect();
        fps.sort_unstable();
        let before = fps.len();
        fps.dedup();
        let collisions = before - fps.len();
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => {
                eprintln!("store_bytes: no temporary directory: {e}");
                std::process::exit(1);
            }
        };
        let path = dir.path().join("run-1.fps");
        let start = Instant::now();
        let run = RunWriter::create::<u64>(&path).and_then(|mut w| {
            for &fp in &fps {
                w.push(fp as u128)?;
            }
            w.finish()
        });
        let run = match run {
            Ok(r) => r,
            Err(e) => {
                eprintln!("store_bytes: {e}");
                std::process::exit(1);
            }
        };
        let write_s = start.elapsed().as_secs_f64();
        // One lookup pass over the run with every fingerprint a candidate.
        let start = Instant::now();
        let mut present = vec![false; fps.len()];
        if let Err(e) = run.mark_present(&fps, &mut present) {
            eprintln!("store_bytes: {e}");
            std::process::exit(1);
        }
        let lookup_s = start.elapsed().as_secs_f64();
        assert!(
            present.iter().all(|&p| p),
            "every written fingerprint is found"
        );
        println!(
            "{{\"states\": {n}, \"fingerprints\": {}, \"fingerprint_collisions\": {collisions}, \"run_bytes\": {}, \"bytes_per_state\": {:.4}, \"write_seconds\": {write_s:.3}, \"full_lookup_pass_seconds\": {lookup_s:.3}}}",
            run.len(),
            run.bytes(),
            run.bytes() as f64 / run.len() as f64
        );
    }
}
