//! Checkpoints end to end: runs killed with SIGKILL at many points and then
//! resumed report exactly the counts of an uninterrupted run; SIGTERM
//! checkpoints and exits 5; a full disk stops with a resumable store; a
//! corrupted or foreign checkpoint is a clear error, never a wrong count.
//! TwoPhase with 7 RMs: TLC reports 296448 distinct states, 2744706
//! generated, depth 23.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

fn spec(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "specs", name]
        .iter()
        .collect();
    p.display().to_string()
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("fathom")
}

fn counts(out: &std::process::Output) -> (u64, u64, u64) {
    let j: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON summary ({e}): {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        j["distinct"].as_u64().unwrap_or(0),
        j["generated"].as_u64().unwrap_or(0),
        j["depth"].as_u64().unwrap_or(0),
    )
}

const TLC_N7: (u64, u64, u64) = (296_448, 2_744_706, 23);

/// `fathom check` of TwoPhase with 7 RMs, a JSON summary, no progress.
fn n7() -> Command {
    let mut c = Command::new(bin());
    c.args([
        "check",
        &spec("two_phase.fathom"),
        "--const",
        "N=7",
        "--json",
        "-q",
    ]);
    c
}

fn check_n7(extra: &[&str], store: &Path) -> Command {
    let mut c = n7();
    c.args(["--threads", "2"])
        .args(extra)
        .arg("--store")
        .arg(store);
    c
}

fn resume_n7(store: &Path) -> std::process::Output {
    resume_n7_with(store, &[])
}

fn resume_n7_with(store: &Path, extra: &[&str]) -> std::process::Output {
    n7().arg("--resume")
        .arg(store)
        .args(extra)
        .output()
        .expect("resume runs")
}

#[test]
fn sigkill_anywhere_then_resume_gives_the_uninterrupted_counts() {
    kill_and_resume(&[]);
}

/// The same with 1 MiB of memory: the visited set's runs, frontier
/// segments and trace-log frames are on disk, named by the checkpoints,
/// and retired files must not be lost while a checkpoint needs them.
#[test]
fn sigkill_anywhere_with_a_spilling_store_then_resume() {
    kill_and_resume(&["--memory", "1M"]);
}

/// The same on the GPU backend (lavapipe in CI): the device's table and
/// frontier are saved at each checkpoint; every other resume goes back to
/// the GPU (the table rebuilt from the store), the others to the CPU.
#[test]
fn sigkill_anywhere_on_the_gpu_then_resume() {
    if gpu_kernels::Gpu::open(true).is_err()
        && std::env::var("FATHOM_GPU_TESTS").as_deref() != Ok("required")
    {
        eprintln!("GPU checkpoint test not run: no adapter");
        return;
    }
    kill_and_resume_with(&["--backend", "gpu", "--allow-software"], |i| {
        if i % 2 == 0 {
            vec!["--backend", "gpu", "--allow-software"]
        } else {
            vec!["--backend", "cpu"]
        }
    });
}

fn kill_and_resume(extra: &[&str]) {
    kill_and_resume_with(extra, |_| extra.to_vec());
}

/// Kills checkpointing runs with `extra` at 8 points; resume `i` runs
/// with `resume(i)`.
fn kill_and_resume_with<'a>(extra: &[&str], resume: impl Fn(u32) -> Vec<&'a str>) {
    let args: Vec<&str> = ["--checkpoint-every", "0s"]
        .iter()
        .chain(extra)
        .copied()
        .collect();
    // How long a checkpointing run takes here sets where the kills land.
    let dir = tempfile::tempdir().expect("temp dir");
    let start = Instant::now();
    let out = check_n7(&args, &dir.path().join("full"))
        .output()
        .expect("runs");
    let full = start.elapsed();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(counts(&out), TLC_N7);

    let mut resumed = 0;
    for i in 0..8u32 {
        let store = dir.path().join(format!("kill-{i}"));
        let mut child = check_n7(&args, &store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // Spread over the run, a different point each time.
        std::thread::sleep(full.mul_f64(0.1 + 0.8 * f64::from((i * 5) % 8) / 8.0));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        if !store.join("CURRENT").exists() {
            continue; // killed before its first checkpoint: nothing to resume
        }
        let out = resume_n7_with(&store, &resume(i));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(counts(&out), TLC_N7, "resumed after a kill at attempt {i}");
        resumed += 1;
    }
    assert!(
        resumed >= 4,
        "enough kills landed after a checkpoint ({resumed})"
    );
}

#[test]
fn sigterm_checkpoints_and_exits_5() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    // No interval: only the signal writes the checkpoint. It is sent at 40%
    // of a measured run, long after the handlers are installed.
    let start = Instant::now();
    let out = check_n7(&[], &dir.path().join("timing"))
        .output()
        .expect("runs");
    assert_eq!(counts(&out), TLC_N7);
    let full = start.elapsed();
    let child = check_n7(&[], &store)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(full.mul_f64(0.4));
    let sent = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let out = child.wait_with_output().expect("waits");
    match out.status.code() {
        Some(5) => {
            let j: Value = serde_json::from_slice(&out.stdout).expect("summary");
            assert_eq!(j["result"], "stopped");
            assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));
            let out = resume_n7(&store);
            assert_eq!(out.status.code(), Some(0));
            assert_eq!(counts(&out), TLC_N7);
        }
        // The run finished before the signal arrived.
        Some(0) => assert_eq!(counts(&out), TLC_N7),
        other => panic!(
            "unexpected exit {other:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[test]
fn corrupt_or_foreign_checkpoints_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    let run = |args: &[&str]| {
        Command::new(bin())
            .args(["check", &spec("two_phase.fathom"), "--json", "-q"])
            .args(args)
            .output()
            .expect("runs")
    };
    let store_s = store.display().to_string();
    let out = run(&["--store", &store_s, "--checkpoint-every", "0s"]);
    assert_eq!(out.status.code(), Some(0));
    // TLC with 3 RMs: 288 distinct states; a finished run's last checkpoint resumes to the same.
    assert_eq!(counts(&run(&["--resume", &store_s])).0, 288);

    // Another constant: not this checkpoint's search.
    let out = run(&["--resume", &store_s, "--const", "N=4"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another spec"));

    // A flipped byte anywhere in a data file: a clear error, exit 4.
    let fps = std::fs::read_dir(&store)
        .expect("store")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".fps"))
        .expect("a fingerprint file");
    let mut bytes = std::fs::read(&fps).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x10;
    std::fs::write(&fps, bytes).expect("write");
    let out = run(&["--resume", &store_s]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("corrupt"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // No checkpoint at all: a usage error naming the directory.
    let out = run(&[
        "--resume",
        &dir.path().join("nothing").display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no checkpoint"));
}

/// A full disk while writing a checkpoint: the write fails with ENOSPC
/// (the checkpoint's temporary file is made a link to /dev/full), the run
/// stops with exit 4 and a message, the previous checkpoint is intact and
/// resumes to TLC's counts once there is space again.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_stops_with_a_resumable_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    std::fs::create_dir_all(&store).expect("store dir");
    let full = store.join(".gen-5.fps.tmp");
    std::os::unix::fs::symlink("/dev/full", &full).expect("symlink");
    let out = check_n7(&["--checkpoint-every", "0s", "--memory", "1M"], &store)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("previous checkpoint"), "{err}");
    std::fs::remove_file(&full).expect("space again");
    let out = resume_n7_with(&store, &["--memory", "1M"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(counts(&out), TLC_N7);
}

/// A checkpoint of a search by orbits holds representatives: resuming it
/// with `--no-symmetry` (or the reverse) would count a mixture, so it is
/// refused (exit 2); with the same options it resumes to TLC's counts
/// (specs/two_phase_sym.expect.toml, N = 6).
#[test]
fn a_symmetric_checkpoint_resumes_only_by_orbits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    let run = |extra: &[&str]| {
        Command::new(bin())
            .args([
                "check",
                &spec("two_phase_sym.fathom"),
                "--const",
                "N=6",
                "--json",
                "-q",
                "--backend",
                "cpu",
            ])
            .args(extra)
            .output()
            .expect("runs")
    };
    let store_arg = store.display().to_string();
    let out = run(&["--store", &store_arg, "--checkpoint-every", "0s"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(counts(&out), (553, 4328, 20));
    assert!(store.join("CURRENT").exists());
    let out = run(&["--resume", &store_arg, "--no-symmetry"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("symmetry true"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["--resume", &store_arg]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(counts(&out), (553, 4328, 20));
}
