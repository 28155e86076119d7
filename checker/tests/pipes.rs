//! Every command's output survives a reader that closes at once
//! (`fathom check spec | true`): no panic (exit 101), and the exit code
//! still says what the run found. The reader is gone before the command
//! starts, so the first write meets a closed pipe every time.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;

fn spec(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "specs", name]
        .iter()
        .collect();
    p.display().to_string()
}

/// Which of the command's streams lead into the closed pipe.
#[derive(Clone, Copy, Debug)]
enum Closed {
    Stdout,
    Both,
}

/// Runs `fathom ARGS` with its stdout (and maybe stderr) writing into a
/// pipe whose reader is already closed; returns the exit code and stderr.
fn run_closed(records: &Path, args: &[&str], closed: Closed) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut cmd = Command::cargo_bin("fathom").expect("the fathom binary");
    cmd.env("FATHOM_CACHE_DIR", records).args(args);
    cmd.stdin(Stdio::null());
    match closed {
        Closed::Stdout => {
            cmd.stdout(writer).stderr(Stdio::piped());
        }
        Closed::Both => {
            let writer2 = writer.try_clone().expect("dup");
            cmd.stdout(writer).stderr(writer2);
        }
    }
    let out = cmd.output().expect("fathom runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_quiet_exit(records: &Path, args: &[&str], code: i32) {
    for closed in [Closed::Stdout, Closed::Both] {
        let (got, stderr) = run_closed(records, args, closed);
        assert!(
            !stderr.contains("panicked"),
            "{args:?} ({closed:?}) panicked: {stderr}"
        );
        assert_eq!(got, Some(code), "{args:?} ({closed:?}): {stderr}");
    }
}

#[test]
fn check_survives_a_closed_pipe() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = tmp.path();
    let passing = spec("die_hard_states.fathom");
    let violating = spec("die_hard.fathom");
    for extra in [&[][..], &["--json"][..]] {
        let mut args = vec!["check", &passing, "-q", "--backend", "cpu"];
        args.extend_from_slice(extra);
        assert_quiet_exit(r, &args, 0);
        let mut args = vec!["check", &violating, "-q", "--backend", "cpu"];
        args.extend_from_slice(extra);
        assert_quiet_exit(r, &args, 1);
    }
    for format in ["text", "json", "itf"] {
        let args = [
            "check",
            &violating,
            "-q",
            "--backend",
            "cpu",
            "--trace-format",
            format,
        ];
        assert_quiet_exit(r, &args, 1);
    }
    // A spec error goes to stderr; with stderr closed too it still exits 3.
    let broken = r.join("broken.fathom");
    std::fs::write(&broken, "spec Broken\nvar x: 0..3 = 5;\n").expect("write");
    assert_quiet_exit(r, &["check", &broken.display().to_string(), "-q"], 3);
}

#[test]
fn simulate_survives_a_closed_pipe() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = tmp.path();
    let violating = spec("die_hard.fathom");
    let passing = spec("two_phase.fathom");
    for json in [false, true] {
        let mut args = vec!["simulate", &violating, "--seed", "7", "-q"];
        if json {
            args.push("--json");
        }
        assert_quiet_exit(r, &args, 1);
        let mut args = vec!["simulate", &passing, "--walks", "20", "-q"];
        if json {
            args.push("--json");
        }
        assert_quiet_exit(r, &args, 0);
    }
}

#[test]
fn emit_and_validate_survive_a_closed_pipe() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = tmp.path();
    let two_phase = spec("two_phase_processes.fathom");
    // emit needs a passing check on record.
    assert_quiet_exit(r, &["check", &two_phase, "-q", "--backend", "cpu"], 0);
    for (i, json) in [false, true].into_iter().enumerate() {
        let out = r.join(format!("crate{i}"));
        let out = out.display().to_string();
        let mut args = vec!["emit", &two_phase, "--out", &out];
        if json {
            args.push("--json");
        }
        // The second of the two closed-pipe runs finds the crate in place.
        let mut args2 = args.clone();
        args2.push("--force");
        let (got, stderr) = run_closed(r, &args, Closed::Stdout);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(got, Some(0), "{args:?}: {stderr}");
        let (got, stderr) = run_closed(r, &args2, Closed::Both);
        assert!(!stderr.contains("panicked"), "{args2:?}: {stderr}");
        assert_eq!(got, Some(0), "{args2:?}: {stderr}");
    }
    // A log with no steps is valid (with a warning); one that is not JSON
    // is not a behavior of anything.
    let empty = r.join("empty.log");
    std::fs::write(&empty, "").expect("write");
    let garbage = r.join("garbage.log");
    std::fs::write(&garbage, "not json\n").expect("write");
    for json in [false, true] {
        for (log, code) in [(&empty, 0), (&garbage, 1)] {
            let log = log.display().to_string();
            let mut args = vec!["validate", &two_phase, &log];
            if json {
                args.push("--json");
            }
            assert_quiet_exit(r, &args, code);
        }
    }
}
