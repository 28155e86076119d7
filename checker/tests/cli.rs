//! The command line end to end: exit codes, the JSON summary of CLI.md,
//! trace formats, and refusals with clear messages. Expected counts are
//! TLC's (see specs/*.expect.toml).

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

fn spec(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "specs", name]
        .iter()
        .collect();
    p.display().to_string()
}

fn fathom() -> Command {
    Command::cargo_bin("fathom").expect("the fathom binary is built")
}

fn json_out(out: &std::process::Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().count(),
        1,
        "--json prints one line on stdout: {text}"
    );
    serde_json::from_str(&text).expect("stdout is one JSON object")
}

#[test]
fn pass_exits_0_with_the_summary_of_cli_md() {
    let out = fathom()
        .args([
            "check",
            &spec("two_phase.fathom"),
            "--json",
            "-q",
            "--backend",
            "cpu",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let j = json_out(&out);
    assert_eq!(j["result"], "pass");
    assert_eq!(j["backend"], "cpu");
    assert_eq!(j["consts"]["N"], 3);
    // TLC: 288 distinct, 1146 generated, depth 11.
    assert_eq!(
        (
            j["distinct"].as_u64(),
            j["generated"].as_u64(),
            j["depth"].as_u64()
        ),
        (Some(288), Some(1146), Some(11))
    );
    for key in [
        "spec",
        "seconds",
        "states_per_second",
        "collision_probability",
        "violation",
    ] {
        assert!(j.get(key).is_some(), "summary has `{key}`");
    }
    assert!(j["violation"].is_null());
    assert!(
        j["collision_probability"]
            .as_f64()
            .is_some_and(|p| p > 0.0 && p < 1e-10)
    );
}

#[test]
fn const_override_changes_the_model() {
    let out = fathom()
        .args([
            "check",
            &spec("two_phase.fathom"),
            "--const",
            "N=5",
            "--json",
            "-q",
        ])
        .output()
        .expect("runs");
    let j = json_out(&out);
    // TLC with 5 RMs: 8832 distinct states.
    assert_eq!(j["distinct"].as_u64(), Some(8832));
    assert_eq!(j["consts"]["N"], 5);
}

#[test]
fn violation_exits_1_with_a_7_state_trace() {
    let out = fathom()
        .args(["check", &spec("die_hard.fathom"), "-q"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("violation (invariant): invariant `NotSolved` is violated"),
        "{text}"
    );
    assert!(text.contains("trace (7 states):"), "{text}");
    assert!(text.contains("BigToSmall"), "{text}");
    assert!(text.contains("big = 4"), "{text}");
    let out = fathom()
        .args(["check", &spec("die_hard.fathom"), "-q", "--json"])
        .output()
        .expect("runs");
    let j = json_out(&out);
    assert_eq!(j["result"], "violation");
    assert_eq!(j["violation"]["kind"], "invariant");
    assert_eq!(j["violation"]["name"], "NotSolved");
    assert_eq!(j["violation"]["trace_length"], 7);
}

#[test]
fn itf_and_json_traces() {
    let dir = tempfile::tempdir().expect("temp dir");
    let itf = dir.path().join("t.itf.json");
    let out = fathom()
        .args([
            "check",
            &spec("die_hard.fathom"),
            "-q",
            "--trace-format",
            "itf",
            "--trace-out",
        ])
        .arg(&itf)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let t: Value = serde_json::from_str(&std::fs::read_to_string(&itf).expect("trace written"))
        .expect("ITF is JSON");
    assert_eq!(t["vars"], serde_json::json!(["big", "small"]));
    let states = t["states"].as_array().expect("states");
    assert_eq!(states.len(), 7);
    assert_eq!(states[0]["big"], serde_json::json!({"#bigint": "0"}));
    assert_eq!(states[6]["big"], serde_json::json!({"#bigint": "4"}));
    assert_eq!(states[6]["#meta"]["index"], 6);

    let js = dir.path().join("t.json");
    fathom()
        .args([
            "check",
            &spec("die_hard.fathom"),
            "-q",
            "--trace-format",
            "json",
            "--trace-out",
        ])
        .arg(&js)
        .assert()
        .code(1);
    let t: Value = serde_json::from_str(&std::fs::read_to_string(&js).expect("trace written"))
        .expect("JSON trace");
    let states = t["states"].as_array().expect("states");
    assert_eq!(states.len(), 7);
    assert_eq!(states[1]["action"]["rule"], "FillBig");
    assert_eq!(states[1]["changed"], serde_json::json!(["big"]));
    assert_eq!(states[6]["state"]["big"], 4);
}

#[test]
fn process_traces_name_instances() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("broken.fathom");
    let text = std::fs::read_to_string(spec("two_phase_processes.fathom")).expect("spec");
    // An RM that commits on an Abort message breaks consistency.
    std::fs::write(
        &path,
        text.replace(
            "on Abort { state = aborted; }",
            "on Abort { state = committed; }",
        ),
    )
    .expect("write");
    let out = fathom()
        .args(["check", &path.display().to_string(), "-q"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("RMgr.ChooseToAbort(r = "), "{text}");
    assert!(text.contains("TM.Abort"), "{text}");
    assert!(text.contains("RMgr.on Abort(r = "), "{text}");
}

#[test]
fn deadlock_is_reported_unless_disabled() {
    // TCommit ends in states with no enabled rule.
    let out = fathom()
        .args(["check", &spec("tcommit.fathom"), "-q", "--json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_out(&out)["violation"]["kind"], "deadlock");
    fathom()
        .args(["check", &spec("tcommit.fathom"), "-q", "--no-deadlock"])
        .assert()
        .code(0);
}

#[test]
fn terminal_states_are_not_deadlocks() {
    // With `terminal got == Total` the search passes with deadlock checking
    // on (TLC, with -deadlock: 15 distinct states); without it, the final
    // state is a deadlock.
    fathom()
        .args(["check", &spec("producer_consumer.fathom"), "-q"])
        .assert()
        .code(0);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("no_terminal.fathom");
    let text = std::fs::read_to_string(spec("producer_consumer.fathom")).expect("spec");
    std::fs::write(&path, text.replace("terminal got == Total;", "")).expect("write");
    let out = fathom()
        .args(["check", &path.display().to_string(), "-q", "--json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let j = json_out(&out);
    assert_eq!(j["violation"]["kind"], "deadlock");
    assert_eq!(j["violation"]["trace_length"], 5);
}

#[test]
fn max_depth_bounds_the_search() {
    let out = fathom()
        .args([
            "check",
            &spec("two_phase.fathom"),
            "-q",
            "--json",
            "--max-depth",
            "3",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let j = json_out(&out);
    assert_eq!(j["result"], "bounded");
    assert_eq!(j["depth"], 3);
}

#[test]
fn usage_errors_exit_2_and_say_what_is_allowed() {
    let out = fathom()
        .args(["check", &spec("two_phase.fathom"), "--backend", "tpu"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("auto") && err.contains("cpu") && err.contains("gpu"),
        "{err}"
    );
    let out = fathom()
        .args(["check", &spec("two_phase.fathom"), "--const", "M=4"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no constant `M` (its constants: N)"));
    fathom()
        .args(["check", &spec("two_phase.fathom"), "--const", "N"])
        .assert()
        .code(2);
    fathom()
        .args(["check", "no/such/spec.fathom"])
        .assert()
        .code(2);
    fathom()
        .args(["check", &spec("two_phase.fathom"), "--memory", "12Q"])
        .assert()
        .code(2);
}

#[test]
fn spec_errors_exit_3_with_file_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad.fathom");
    std::fs::write(&path, "var x: 0..3 = 0;\nrule R { x = y; }\n").expect("write");
    let out = fathom()
        .args(["check", &path.display().to_string(), "--json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown name `y`"), "{err}");
    assert!(err.contains("bad.fathom:2:14"), "{err}");
    assert_eq!(json_out(&out)["result"], "error");
}

#[test]
fn gpu_without_an_adapter_exits_4_and_auto_uses_the_cpu() {
    // WGPU_BACKEND names a backend this build leaves out: no adapter at all.
    let out = fathom()
        .env("WGPU_BACKEND", "gl")
        .args([
            "check",
            &spec("two_phase.fathom"),
            "--backend",
            "gpu",
            "--allow-software",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--backend gpu: no GPU adapter was found"),
        "{err}"
    );
    let out = fathom()
        .env("WGPU_BACKEND", "gl")
        .args(["check", &spec("two_phase.fathom"), "--json", "-q"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let j = json_out(&out);
    assert_eq!(
        (j["backend"].as_str(), j["distinct"].as_u64()),
        (Some("cpu"), Some(288))
    );
}

#[test]
fn memory_budget_flag_is_checked_and_used() {
    let out = fathom()
        .arg("check")
        .arg(spec("two_phase.fathom"))
        .args(["--memory", "12Q"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("K, M, G or T"));
    // TLC, 3 RMs: 288 distinct, 1146 generated, depth 11 — here with every
    // level spilled to disk.
    let out = fathom()
        .arg("check")
        .arg(spec("two_phase.fathom"))
        .args(["--memory", "1K", "--json", "-q"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let j = json_out(&out);
    assert_eq!(
        (j["distinct"].as_u64(), j["generated"].as_u64()),
        (Some(288), Some(1146))
    );
    assert!(j["disk_fingerprints"].as_u64().is_some_and(|d| d > 0));
}

#[test]
fn wide_fingerprints_count_the_same_and_do_not_mix_with_narrow_checkpoints() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store").display().to_string();
    let run = |args: &[&str]| {
        fathom()
            .arg("check")
            .arg(spec("two_phase.fathom"))
            .args(["--json", "-q", "--const", "N=5"])
            .args(args)
            .output()
            .expect("runs")
    };
    // TLC, 5 RMs: 8832 distinct, 58146 generated, depth 17.
    let narrow = json_out(&run(&[]));
    let wide = json_out(&run(&[
        "--fingerprint",
        "128",
        "--store",
        &store,
        "--checkpoint-every",
        "0s",
    ]));
    for j in [&narrow, &wide] {
        assert_eq!(
            (
                j["distinct"].as_u64(),
                j["generated"].as_u64(),
                j["depth"].as_u64()
            ),
            (Some(8832), Some(58146), Some(17))
        );
    }
    let (p64, p128) = (
        narrow["collision_probability"].as_f64().unwrap_or(0.0),
        wide["collision_probability"].as_f64().unwrap_or(1.0),
    );
    assert!(p64 > 0.0 && p128 < p64 * 1e-18, "{p64} vs {p128}");
    // A 128-bit checkpoint resumes only as 128-bit.
    let out = run(&["--resume", &store]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["--resume", &store, "--fingerprint", "128"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_out(&out)["distinct"], 8832);
}

#[test]
fn simulate_is_reproducible_by_seed_and_finds_violations() {
    let run = |seed: &str| {
        fathom()
            .args([
                "simulate",
                &spec("die_hard.fathom"),
                "--seed",
                seed,
                "--json",
                "-q",
            ])
            .output()
            .expect("runs")
    };
    let (a, b) = (run("7"), run("7"));
    assert_eq!(a.status.code(), Some(1), "random walks find NotSolved");
    let (ja, jb) = (json_out(&a), json_out(&b));
    assert_eq!(ja["steps"], jb["steps"]);
    assert_eq!(ja["violation"], jb["violation"]);
    assert_eq!(ja["violation"]["name"], "NotSolved");
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr),
        "the same trace"
    );
    fathom()
        .args(["simulate", &spec("two_phase.fathom"), "--walks", "50", "-q"])
        .assert()
        .code(0);
}

/// A check by orbits says so in its summary, and `--no-symmetry` explores
/// every state. Counts: TLC on benches/tla/TwoPhaseSym.tla with and
/// without `SYMMETRY Perms` (specs/two_phase_sym.expect.toml).
#[test]
fn symmetric_types_reduce_the_search_and_the_summary_says_so() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "check".to_string(),
            spec("two_phase_sym.fathom"),
            "--json".into(),
            "-q".into(),
            "--backend".into(),
            "cpu".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = fathom().args(&args).output().expect("runs");
        assert_eq!(out.status.code(), Some(0), "{extra:?}");
        json_out(&out)
    };
    let counts = |j: &Value| {
        (
            j["distinct"].as_u64(),
            j["generated"].as_u64(),
            j["depth"].as_u64(),
        )
    };
    let reduced = run(&[]);
    assert_eq!(counts(&reduced), (Some(80), Some(318), Some(11)));
    assert_eq!(reduced["symmetry"]["reduced"], true);
    assert_eq!(reduced["symmetry"]["types"][0]["name"], "RM");
    assert_eq!(reduced["symmetry"]["types"][0]["size"], 3);
    let whole = run(&["--no-symmetry"]);
    assert_eq!(counts(&whole), (Some(288), Some(1146), Some(11)));
    assert_eq!(whole["symmetry"]["reduced"], false);
    let five = run(&["--const", "N=5"]);
    assert_eq!(counts(&five), (Some(314), Some(2048), Some(17)));
}

/// A violation found by orbits has a trace of concrete states, named by
/// value (`RM#i`), as short as the full search's: TLC's shortest trace to
/// a commit under SYMMETRY has 8 states.
#[test]
fn a_symmetric_trace_is_concrete_and_shortest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("commit.fathom");
    let text = std::fs::read_to_string(spec("two_phase_sym.fathom")).expect("spec");
    std::fs::write(
        &path,
        format!("{text}\ninvariant NoCommit: tmState != TMState.committed;\n"),
    )
    .expect("write");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "check".to_string(),
            path.display().to_string(),
            "--json".into(),
            "--backend".into(),
            "cpu".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = fathom().args(&args).output().expect("runs");
        assert_eq!(out.status.code(), Some(1), "{extra:?}: a violation");
        out
    };
    let (reduced, whole) = (run(&[]), run(&["--no-symmetry"]));
    let (jr, jw) = (json_out(&reduced), json_out(&whole));
    assert_eq!(jr["violation"]["name"], "NoCommit");
    assert_eq!(jr["violation"]["trace_length"], 8);
    assert_eq!(
        jr["violation"]["trace_length"],
        jw["violation"]["trace_length"]
    );
    let trace = String::from_utf8_lossy(&reduced.stderr);
    assert!(trace.contains("RMPrepare(r = RM#"), "{trace}");
    assert!(trace.contains("tmPrepared = {RM#0, RM#1, RM#2}"), "{trace}");
}

/// `--symmetry-audit` samples states and compares every rule on them with
/// its permuted twin: on specs/broken_symmetry.fathom (seeded: Pick grants
/// the first node in `for` order) it names the rule and its line and
/// exits 1 before any search; on a symmetric spec it says so and the check
/// goes on.
#[test]
fn the_symmetry_audit_finds_a_rule_that_breaks_symmetry() {
    let out = fathom()
        .args([
            "check",
            &spec("broken_symmetry.fathom"),
            "--symmetry-audit",
            "--backend",
            "cpu",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the spec is not symmetric: rule instance `Pick`"),
        "{err}"
    );
    assert!(err.contains("broken_symmetry.fathom:17:1"), "{err}");
    assert!(err.contains("differ in `granted`"), "{err}");
    let out = fathom()
        .args([
            "check",
            &spec("broken_symmetry.fathom"),
            "--symmetry-audit=50",
            "--json",
            "--backend",
            "cpu",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let j = json_out(&out);
    assert_eq!(j["result"], "violation");
    assert_eq!(j["violation"]["kind"], "symmetry");

    let out = fathom()
        .args([
            "check",
            &spec("two_phase_sym.fathom"),
            "--symmetry-audit=200",
            "--json",
            "--backend",
            "cpu",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(": symmetric"), "{err}");
    assert_eq!(json_out(&out)["distinct"], 80, "the check went on");
}

/// A `.dve` file is read as DVE (docs/dve.md): TLC's counts for
/// specs/dve_channels.dve; a runtime error stops with its trace by
/// default, and `--dve-errors state` goes on through DiVinE 2's error
/// state, shown as `<error>`.
#[test]
fn dve_models_by_extension() {
    let out = fathom()
        .args([
            "check",
            &spec("dve_channels.dve"),
            "-q",
            "--json",
            "--no-deadlock",
        ])
        .output()
        .expect("runs");
    let j = json_out(&out);
    assert_eq!(j["result"], "pass");
    assert_eq!(
        (j["distinct"].as_u64(), j["generated"].as_u64()),
        (Some(145), Some(250))
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("wrap.dve");
    std::fs::write(
        &path,
        "byte c = 254;\nprocess P { state s; init s; trans s -> s { effect c = c + 1; }; }\n\
         process Q { byte k; state q; init q; trans q -> q { guard k < 2; effect k = k + 1; }; }\n\
         system async;\n",
    )
    .expect("write");
    let path = path.display().to_string();
    let out = fathom()
        .args(["check", &path, "-q", "--no-deadlock"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("violation (range)"), "{text}");
    assert!(
        text.contains("value 256 is outside its type 0..255"),
        "{text}"
    );
    assert!(text.contains("P:s->s"), "{text}");

    let out = fathom()
        .args([
            "check",
            &path,
            "-q",
            "--no-deadlock",
            "--dve-errors",
            "state",
            "--json",
        ])
        .output()
        .expect("runs");
    let j = json_out(&out);
    assert_eq!(j["result"], "pass");
    // c in 254..255 with k in 0..2 (6 states), then the error state with
    // k = 0, 1, 2 (3 states): Q goes on after P's error.
    assert_eq!(j["distinct"], 9);
    let out = fathom()
        .args([
            "simulate",
            &path,
            "-q",
            "--dve-errors",
            "state",
            "--walks",
            "5",
            "--no-deadlock",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The emitter needs Fathom's processes and network: refused, exit 3.
    let out = fathom()
        .args([
            "emit",
            &path,
            "--out",
            &dir.path().join("out").display().to_string(),
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a Fathom spec"));
}

/// A `.m` file is read as Murphi (docs/murphi.md): a syntax error is
/// reported with its place (exit 3); a model is checked, Rumur's counts.
#[test]
fn murphi_models_by_extension() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.m");
    std::fs::write(&bad, "var x: boolean;\nrule x ==> x := ;\n").expect("write");
    let out = fathom()
        .args(["check", &bad.display().to_string()])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.m:2:17"), "{err}");
    let model: std::path::PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "benches",
        "murphi",
        "two_phase.m",
    ]
    .iter()
    .collect();
    let out = fathom()
        .args([
            "check",
            &model.display().to_string(),
            "-q",
            "--json",
            "--no-deadlock",
            "--const",
            "N=3",
        ])
        .output()
        .expect("runs");
    let j = json_out(&out);
    // Rumur (symmetry and deadlock detection off): 288 states, 1,145 rules fired.
    assert_eq!(
        (j["distinct"].as_u64(), j["generated"].as_u64()),
        (Some(288), Some(1146))
    );
    // An undefined read is an error, with its trace.
    let undef = dir.path().join("undef.m");
    std::fs::write(
        &undef,
        "var x: 0..3; y: 0..3;\nstartstate x := 0; end;\nrule x < 3 ==> x := x + y; end;\n",
    )
    .expect("write");
    let out = fathom()
        .args(["check", &undef.display().to_string(), "-q"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("read of an undefined value"));
    // Latin-1 in a comment (as in CMurphi's examples) reads as Latin-1; a
    // Fathom spec must be UTF-8 (a spec error, exit 3).
    let latin = dir.path().join("latin.m");
    let mut bytes = b"-- r\xe9seau\nvar x: boolean;\nstartstate x := true; end;\n".to_vec();
    bytes.extend_from_slice(b"rule x ==> x := false; end;\n");
    std::fs::write(&latin, &bytes).expect("write");
    let out = fathom()
        .args(["check", &latin.display().to_string(), "-q", "--no-deadlock"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spec = dir.path().join("latin.fathom");
    std::fs::write(&spec, b"// r\xe9seau\nvar x: bool;\n").expect("write");
    let out = fathom()
        .args(["check", &spec.display().to_string(), "-q"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not UTF-8"));
}

/// `--deadlock`: Murphi's default is the stuttering deadlock (CMurphi's and
/// Rumur's: no enabled rule changes the state); `stuck` asks for a state
/// with no rule enabled; a kind that does not exist is a usage error that
/// lists the kinds. A Fathom spec takes `stuttering` as well.
#[test]
fn deadlock_kinds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("stutter.m");
    std::fs::write(
        &model,
        "var x: 0..3;\nstartstate begin x := 0; end;\n\
         rule x < 3 ==> begin x := x + 1; end;\nrule begin x := x; end;\n",
    )
    .expect("write");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "check".to_string(),
            model.display().to_string(),
            "-q".into(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        fathom().args(&args).output().expect("runs")
    };
    let out = run(&["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let j = json_out(&out);
    assert_eq!(j["violation"]["kind"], "deadlock");
    assert_eq!(
        j["violation"]["message"],
        "no enabled rule changes this state"
    );
    assert_eq!(run(&["--deadlock", "stuck"]).status.code(), Some(0));
    assert_eq!(run(&["--no-deadlock"]).status.code(), Some(0));
    let bad = run(&["--deadlock", "sometimes"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("stuck") && err.contains("stuttering"), "{err}");
    // A Fathom spec: a rule that changes nothing is a way out unless asked.
    let spec = dir.path().join("stutter.fathom");
    std::fs::write(
        &spec,
        "var x: 0..3;\ninit { x = 0; }\nrule Up when x < 3 { x = x + 1; }\nrule Stay { x = x; }\n",
    )
    .expect("write");
    let out = fathom()
        .args(["check", &spec.display().to_string(), "-q"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let out = fathom()
        .args([
            "check",
            &spec.display().to_string(),
            "-q",
            "--deadlock",
            "stuttering",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
}

/// specs/die_hard_all.fathom's invariants in the order `--continue` finds
/// them, with their shortest traces' lengths (TLC -continue's first report
/// of each: specs/die_hard_all.expect.toml).
const DIE_HARD_ALL: [(&str, u64); 5] = [
    ("NotFull", 3),
    ("SmallNotTwo", 5),
    ("NeverEmptyAfterFull", 6),
    ("NotOne", 7),
    ("NotSolved", 7),
];

/// `violations` of a JSON summary as (name, trace length).
fn named_lengths(j: &Value) -> Vec<(String, u64)> {
    j["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap_or("").to_string(),
                v["trace_length"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// `--continue`: every violated invariant once, each with its shortest
/// trace (TLC -continue's first report of each: specs/die_hard_all.expect.toml),
/// exit 1; `violations` in the JSON; numbered trace files.
#[test]
fn continue_reports_each_violated_property_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let trace = dir.path().join("trace.json");
    let out = fathom()
        .args([
            "check",
            &spec("die_hard_all.fathom"),
            "--continue",
            "--json",
            "-q",
        ])
        .args(["--trace-format", "json", "--trace-out"])
        .arg(&trace)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let j = json_out(&out);
    assert_eq!(j["distinct"], 16);
    assert_eq!(j["generated"], 97);
    assert_eq!(
        named_lengths(&j),
        DIE_HARD_ALL.map(|(n, l)| (n.to_string(), l)).to_vec()
    );
    assert_eq!(j["violation"]["name"], "NotFull");
    // One trace file per violation: trace.json, trace-2.json, ...
    for (k, (name, len)) in DIE_HARD_ALL.iter().enumerate() {
        let path = if k == 0 {
            trace.clone()
        } else {
            dir.path().join(format!("trace-{}.json", k + 1))
        };
        let t: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("trace file"))
            .expect("JSON");
        assert_eq!(t["violation"]["name"], *name, "{}", path.display());
        assert_eq!(t["states"].as_array().map(Vec::len), Some(*len as usize));
    }
    // Without --continue: the first only, and no `violations` field.
    let out = fathom()
        .args(["check", &spec("die_hard_all.fathom"), "--json", "-q"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let j = json_out(&out);
    assert_eq!(j["violation"]["name"], "NotFull");
    assert!(j.get("violations").is_none());
}

/// A `--continue` checkpoint holds the violations found so far: resumed
/// with `--continue` they are reported again (traces rebuilt from the
/// log); resumed without it, the checkpoint is refused (exit 2).
#[test]
fn continue_resumes_from_a_checkpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    let out = fathom()
        .args(["check", &spec("die_hard_all.fathom"), "--continue", "-q"])
        .args(["--checkpoint-every", "0s", "--store"])
        .arg(&store)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let out = fathom()
        .args([
            "check",
            &spec("die_hard_all.fathom"),
            "--continue",
            "-q",
            "--json",
            "--resume",
        ])
        .arg(&store)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = json_out(&out);
    assert_eq!(
        named_lengths(&j),
        DIE_HARD_ALL.map(|(n, l)| (n.to_string(), l)).to_vec()
    );
    let out = fathom()
        .args(["check", &spec("die_hard_all.fathom"), "-q", "--resume"])
        .arg(&store)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("continue"), "{err}");
}

/// A Murphi model's scalarsets are symmetric types: the JSON summary names
/// them, the audit finds German's protocol symmetric, and a scalarset the
/// model tells apart gets a note on stderr (file, line, column) and no
/// reduction.
#[test]
fn murphi_scalarsets_reduce_and_say_when_they_cannot() {
    let german: std::path::PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "benches",
        "murphi",
        "german.m",
    ]
    .iter()
    .collect();
    let out = fathom()
        .args([
            "check",
            &german.display().to_string(),
            "--no-deadlock",
            "--symmetry-audit=200",
        ])
        .args(["--backend", "cpu", "--json", "-q"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("symmetry audit") && err.contains(": symmetric"),
        "{err}"
    );
    let j = json_out(&out);
    assert_eq!(j["symmetry"]["types"][0]["name"], "Node");
    assert_eq!(j["symmetry"]["reduced"], true);
    // Rumur 2022.08, --symmetry-reduction exhaustive: 10,470 states.
    assert_eq!(j["distinct"], 10470);

    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("told.m");
    std::fs::write(
        &model,
        "type pid: scalarset(2);\nvar owner: pid;\n\
         ruleset p: pid do rule begin owner := p; end; end;\n\
         rule begin clear owner; end;\nstartstate begin end;\n",
    )
    .expect("write");
    let out = fathom()
        .args([
            "check",
            &model.display().to_string(),
            "--json",
            "-q",
            "--backend",
            "cpu",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("fathom: note: scalarset `pid` is explored without symmetry reduction")
            && err.contains("told.m:4:"),
        "{err}"
    );
    assert!(json_out(&out)["symmetry"].is_null(), "no symmetric type");
}

/// A model that is not symmetric, checked without the audit: a reduced
/// path that does not replay as a real behavior is a violation of kind
/// `symmetry` naming the step (exit 1), never a crash; the audit names
/// the rule.
#[test]
fn a_trace_that_does_not_replay_under_symmetry_is_a_symmetry_violation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("picky.m");
    // `pick` changes the first value in the loop's order: not symmetric.
    std::fs::write(
        &model,
        "type pid: scalarset(3);\n\
         var a: array [pid] of 0..3; done: boolean;\n\
         startstate begin for p: pid do a[p] := 0; end; done := false; end;\n\
         ruleset p: pid do rule \"bump\" a[p] < 2 & !done ==> begin a[p] := a[p] + 1; end; end;\n\
         rule \"pick\" !done ==> var f: boolean; begin\n\
         f := false;\n\
         for p: pid do if !f & a[p] = 2 then a[p] := 3; f := true; end; end;\n\
         done := true;\n\
         end;\n\
         invariant \"no 3 beside a 2\" !exists p: pid do exists q: pid do a[p] = 3 & a[q] = 2 end end;\n",
    )
    .expect("write");
    let path = model.display().to_string();
    let out = fathom()
        .args([
            "check",
            &path,
            "--no-deadlock",
            "--json",
            "-q",
            "--backend",
            "cpu",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = json_out(&out);
    assert_eq!(j["violation"]["kind"], "symmetry");
    let message = j["violation"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("(pick)") && message.contains("--symmetry-audit"),
        "{message}"
    );
    let audit = fathom()
        .args([
            "check",
            &path,
            "--no-deadlock",
            "--symmetry-audit",
            "-q",
            "--backend",
            "cpu",
        ])
        .output()
        .expect("runs");
    assert_eq!(audit.status.code(), Some(1));
    let err = String::from_utf8_lossy(&audit.stderr);
    assert!(
        err.contains("the spec is not symmetric") && err.contains("`pick`"),
        "{err}"
    );
}
