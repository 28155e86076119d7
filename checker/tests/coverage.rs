//! `--coverage`: per rule, instances enabled, successors generated and new
//! states found. Expected per-rule totals are TLC's: `java -cp
//! tla2tools.jar tlc2.TLC TwoPhase -config TwoPhase.cfg -workers 1
//! -coverage 1` on benches/tla/TwoPhase.tla (NumRM = 3) prints, per
//! action, `distinct:total`; the totals are the successors each action
//! generated. (Which action is credited with a new state depends on the
//! order actions are tried, which differs between the two; the sums agree.)

use checker::engine::checkpoint::{Checkpointing, load};
use checker::engine::{self, SearchConfig, Status};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

mod common;
use common::*;

#[test]
fn per_rule_totals_are_tlcs() {
    let out = fathom()
        .args([
            "check",
            &spec("two_phase.fathom"),
            "--json",
            "-q",
            "--coverage",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let j: Value = serde_json::from_slice(&out.stdout).expect("summary");
    let tlc = [
        ("TMRcvPrepared", 96),
        ("TMCommit", 1),
        ("TMAbort", 64),
        ("RMPrepare", 156),
        ("RMChooseToAbort", 156),
        ("RMRcvCommitMsg", 24),
        ("RMRcvAbortMsg", 648),
    ];
    let steps = j["coverage"].as_array().expect("coverage entries");
    assert_eq!(steps.len(), tlc.len());
    let mut new = 0;
    for (entry, (name, total)) in steps.iter().zip(tlc) {
        assert_eq!(entry["step"], name);
        assert_eq!(entry["enabled"], total, "{name}");
        assert_eq!(entry["generated"], total, "{name}");
        new += entry["new"].as_u64().expect("new");
    }
    // Every distinct state but the initial one was first found by a rule.
    assert_eq!(new, 288 - 1);
    let props = j["property_coverage"].as_array().expect("property entries");
    assert_eq!(props[0]["property"], "Consistent");
    assert_eq!(props[0]["evaluated"], 288);
}

#[test]
fn a_rule_never_enabled_is_flagged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("never.fathom");
    std::fs::write(
        &path,
        "var x: 0..3;\nrule Inc when x < 3 { x += 1; }\nrule Never when x > 5 { x = 0; }\n",
    )
    .expect("writes");
    let out = fathom()
        .arg("check")
        .arg(&path)
        .args(["-q", "--coverage", "--no-deadlock"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: `Never` was never enabled"),
        "{stderr}"
    );
    assert!(!stderr.contains("`Inc`"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("coverage:"), "{stdout}");
}

/// An invariant `A => B` whose A never holds is never exercised: flagged.
/// The counts are those of the four states x = 0..3 (one each), by hand.
#[test]
fn a_property_never_exercised_is_flagged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("vacuous.fathom");
    std::fs::write(
        &path,
        "var x: 0..3;\nrule Inc when x < 3 { x += 1; }\n\
         invariant Vacuous: x > 5 => x == 0;\n\
         invariant Used: x >= 2 => x <= 3;\n\
         invariant Plain: x <= 3;\n",
    )
    .expect("writes");
    let out = fathom()
        .arg("check")
        .arg(&path)
        .args(["-q", "--coverage", "--no-deadlock", "--json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: invariant `Vacuous` was never exercised"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("`Used`") && !stderr.contains("`Plain`"),
        "{stderr}"
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let props = j["property_coverage"].as_array().expect("property entries");
    let exercised: Vec<&serde_json::Value> = props.iter().map(|p| &p["exercised"]).collect();
    // x > 5 never; x >= 2 in x = 2, 3; `Plain` has no premise.
    assert_eq!(
        exercised,
        [
            &serde_json::json!(0),
            &serde_json::json!(2),
            &serde_json::Value::Null
        ]
    );
}

#[test]
fn threads_memory_and_checkpoints_change_no_count() {
    let text =
        std::fs::read_to_string(specs_dir().join("two_phase_processes.fathom")).expect("spec");
    let source = model::Source::new("two_phase_processes.fathom".to_string(), text);
    let m = model::compile(&source, &Default::default()).expect("compiles");
    let cfg = SearchConfig { coverage: true, ..config(&[]) };
    let one = search(&m, &cfg, 1);
    let two = search(&m, &cfg, 2);
    let tiny = search_with::<u128>(&m, &SearchConfig { memory: Some(1024), ..cfg.clone() }, 2);
    let c = one.coverage.clone().expect("counted");
    assert_eq!(c.enabled.iter().sum::<u64>() + c.initial, one.generated);
    assert_eq!(c.new.iter().sum::<u64>() + c.initial, one.distinct);
    assert_eq!(two.coverage.as_ref(), Some(&c), "2 threads");
    assert_eq!(tiny.coverage.as_ref(), Some(&c), "--memory 1K, 128-bit");
    // Stopped at every level and resumed: the same counts.
    let (out, stops) = stopped_at_every_level(&m, &cfg);
    assert!(stops >= one.depth - 1);
    assert_eq!(out.coverage.as_ref(), Some(&c), "resumed");
    // A checkpoint made without --coverage cannot give its counts.
    let dir = tempfile::tempdir().expect("temp dir");
    let checkpoint = Checkpointing {
        dir: dir.path().to_path_buf(),
        every: std::time::Duration::ZERO,
        stop: Arc::new(AtomicBool::new(true)),
        identity: "coverage test".to_string(),
        seconds_before: 0.0,
    };
    let plain = SearchConfig {
        coverage: false,
        checkpoint: Some(checkpoint),
        ..cfg.clone()
    };
    let backend = checker::backend::cpu::CpuBackend::new(&m);
    let progress = checker::engine::progress::Progress::default();
    let stopped = engine::search::<u64>(&m, &plain, &backend, &progress);
    assert_eq!(stopped.status, Status::Stopped);
    let words = model::layout::Layout::new(&m.bounds).words;
    let from = load::<u64>(dir.path(), "coverage test", words).expect("loads");
    let with = SearchConfig { coverage: true, ..plain };
    let refused = engine::resume::<u64>(&m, &with, &backend, &progress, from);
    assert!(refused.error.is_some_and(|e| e.contains("--coverage")));
}

/// The GPU backend counts itself (per workgroup) and gives the CPU's
/// table: TwoPhase and the alternating-bit protocol (a premise, a lossy
/// network). Needs a Vulkan adapter (lavapipe in CI, where
/// `FATHOM_GPU_TESTS=required` makes its absence a failure).
#[test]
fn the_gpu_backend_counts_coverage_itself() {
    for name in ["two_phase.fathom", "alternating_bit.fathom"] {
        let run = |backend: &str| {
            fathom()
                .args(["check", &spec(name), "--json", "-q", "--coverage"])
                .args(["--backend", backend, "--allow-software"])
                .output()
                .expect("runs")
        };
        let gpu = run("gpu");
        if gpu.status.code() == Some(4)
            && std::env::var("FATHOM_GPU_TESTS").as_deref() != Ok("required")
        {
            eprintln!("no GPU adapter: {}", String::from_utf8_lossy(&gpu.stderr));
            return;
        }
        assert_eq!(
            gpu.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&gpu.stderr)
        );
        let cpu = run("cpu");
        let g: Value = serde_json::from_slice(&gpu.stdout).expect("summary");
        let c: Value = serde_json::from_slice(&cpu.stdout).expect("summary");
        assert_eq!(g["backend"], "gpu", "{name}");
        assert_eq!(g["coverage"], c["coverage"], "{name}: per rule");
        assert_eq!(
            g["property_coverage"], c["property_coverage"],
            "{name}: per property"
        );
    }
}

#[test]
fn resuming_with_coverage_needs_a_checkpoint_made_with_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    // A bounded run that checkpoints every level, without --coverage.
    std::fs::create_dir_all(&store).expect("dir");
    let out = fathom()
        .args([
            "check",
            &spec("two_phase.fathom"),
            "-q",
            "--json",
            "--max-depth",
            "3",
            "--store",
        ])
        .arg(&store)
        .args(["--checkpoint-every", "0s"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = fathom()
        .args([
            "check",
            &spec("two_phase.fathom"),
            "-q",
            "--max-depth",
            "3",
            "--coverage",
            "--resume",
        ])
        .arg(&store)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("made without --coverage"));
}
