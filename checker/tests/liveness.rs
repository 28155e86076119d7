//! Liveness from the command line and beside the rest of the checker: the
//! lasso in every output format, properties changing no count, thread
//! counts changing no verdict, the constraint's meaning, and what is
//! refused or run elsewhere. Verdicts are TLC's (specs/*.expect.toml name
//! the TLA+ originals in benches/tla/; the counter below was run on TLC as
//! written in its comment).

use checker::engine::SearchConfig;
use model::Model;
use serde_json::Value;

mod common;
use common::*;

fn compile(text: &str) -> Model {
    let source = model::Source::new("case.fathom".to_string(), text.to_string());
    model::compile(&source, &Default::default()).expect("compiles")
}

#[test]
fn a_lasso_in_the_summary_and_every_trace_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut traces = Vec::new();
    for format in ["text", "json", "itf"] {
        let path = dir.path().join(format!("trace.{format}"));
        let out = fathom()
            .args(["check", &spec("semaphore_weak.fathom"), "--json", "-q"])
            .args(["--trace-format", format, "--trace-out"])
            .arg(&path)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "a violation exits 1");
        let j: Value = serde_json::from_slice(&out.stdout).expect("one JSON summary");
        assert_eq!(j["violation"]["kind"], "liveness");
        assert_eq!(j["violation"]["name"], "NoStarvation(i = 0)");
        // 4 states; the cycle is states 2..4, back to 2 (specs/semaphore_weak.fathom).
        assert_eq!(j["violation"]["trace_length"], 4);
        assert_eq!(j["violation"]["loop"], 2);
        traces.push(std::fs::read_to_string(&path).expect("trace written"));
    }
    assert!(traces[0].contains("back to state 2"), "{}", traces[0]);
    let json: Value = serde_json::from_str(&traces[1]).expect("JSON trace");
    assert_eq!(json["loop"], 2);
    assert_eq!(json["back"]["action"]["rule"], "Release");
    assert_eq!(json["states"].as_array().map(Vec::len), Some(4));
    let itf: Value = serde_json::from_str(&traces[2]).expect("ITF trace");
    assert_eq!(itf["loop"], 1, "ITF counts states from 0");
}

#[test]
fn a_stuttering_lasso_says_so() {
    let out = fathom()
        .args(["check", &spec("two_phase_lazy_tm.fathom"), "-q"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("violation (liveness)"), "{text}");
    assert!(text.contains("state 4 stutters forever"), "{text}");
}

#[test]
fn properties_change_no_count() {
    // Each liveness spec against its own safety part, and two against the
    // specs they extend (TLC's counts for those are in their expect files).
    let pairs = [
        ("peterson_live.fathom", Some("peterson.fathom"), vec![]),
        (
            "two_phase_live.fathom",
            Some("two_phase_processes.fathom"),
            vec![("N", 4)],
        ),
        ("semaphore_strong.fathom", None, vec![]),
        ("token_ring.fathom", None, vec![("K", 2)]),
    ];
    let cfg = config(&[]);
    for (live, base, consts) in pairs {
        let m = compile_file(live, &consts);
        let safety = Model {
            temporals: Vec::new(),
            fairness: Vec::new(),
            ..m.clone()
        };
        let a = search(&m, &cfg, 2);
        let b = search(&safety, &cfg, 2);
        assert_eq!(
            (a.distinct, a.generated, a.depth),
            (b.distinct, b.generated, b.depth),
            "{live}"
        );
        if let Some(base) = base {
            let c = search(&compile_file(base, &consts), &cfg, 2);
            assert_eq!(
                (a.distinct, a.generated, a.depth),
                (c.distinct, c.generated, c.depth),
                "{live} vs {base}"
            );
        }
    }
}

#[test]
fn threads_change_no_verdict_or_lasso() {
    for (name, consts) in [
        ("semaphore_weak.fathom", vec![]),
        ("two_phase_lazy_tm.fathom", vec![("N", 4)]),
        ("token_ring.fathom", vec![("K", 3), ("N", 5)]),
    ] {
        let m = compile_file(name, &consts);
        let cfg = config(&[]);
        let one = search(&m, &cfg, 1);
        let two = search(&m, &cfg, 2);
        assert_eq!(violation_key(&one), violation_key(&two), "{name}");
        assert_eq!(trace_labels(&one), trace_labels(&two), "{name}");
        verify_trace(&m, &one);
    }
}

/// TLC, on `Init == x = 0`, `Spec == Init /\ [][x' = x + 1]_x /\ WF_x(x' = x + 1)`,
/// `CONSTRAINT x <= 3`, `PROPERTY <>(x = 5)`: no error, 4 distinct states,
/// 5 generated. States outside the constraint end their behaviors: x = 3
/// may not stutter (its step is enabled), and no behavior goes on, so no
/// fair behavior violates. Without fairness x = 0 stutters forever.
#[test]
fn states_outside_the_constraint_end_behaviors() {
    let text = |fair: &str| {
        format!(
            "var x: 0..9 = 0;\n{fair} rule Inc when x < 9 {{ x += 1; }}\nconstraint x <= 3;\nproperty Done: eventually x == 5;\n"
        )
    };
    let cfg = config(&[]);
    let o = search(&compile(&text("fair")), &cfg, 1);
    assert_eq!(
        (result_name(o.status), o.distinct, o.generated),
        ("pass", 4, 5)
    );
    let m = compile(&text(""));
    let o = search(&m, &cfg, 1);
    assert_eq!(result_name(o.status), "violation");
    assert_eq!(
        violation_key(&o).and_then(|k| k.2),
        Some(1),
        "x = 0 stutters"
    );
    verify_trace(&m, &o);
}

#[test]
fn a_deadlock_is_reported_before_liveness() {
    // x = 1 has no step: with deadlock checking it is a deadlock; without,
    // it stutters forever and `eventually x == 2` fails.
    let m = compile(
        "var x: 0..2 = 0;\nfair rule Go when x == 0 { x = 1; }\nproperty P: eventually x == 2;\n",
    );
    let o = search(&m, &config(&[]), 1);
    assert_eq!(
        o.violation.as_ref().map(|v| v.kind.as_str()),
        Some("deadlock")
    );
    let o = search(&m, &config(&["--no-deadlock".into()]), 1);
    assert_eq!(
        o.violation.as_ref().map(|v| v.kind.as_str()),
        Some("liveness")
    );
    verify_trace(&m, &o);
}

#[test]
fn memory_budget_and_wide_fingerprints_keep_the_verdict() {
    let m = compile_file("semaphore_weak.fathom", &[]);
    let cfg = config(&[]);
    let plain = search(&m, &cfg, 1);
    let tiny = search_with::<u128>(&m, &SearchConfig { memory: Some(1024), ..cfg.clone() }, 2);
    assert_eq!(violation_key(&plain), violation_key(&tiny));
    assert_eq!(trace_labels(&plain), trace_labels(&tiny));
}

#[test]
fn the_gpu_backend_hands_temporal_properties_to_the_cpu() {
    // Whether or not an adapter exists: with properties, the CPU runs.
    let out = fathom()
        .args(["check", &spec("peterson_live.fathom"), "--json", "-q"])
        .args(["--backend", "gpu", "--allow-software"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(j["backend"], "cpu");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("liveness properties need"),
        "says why"
    );
}

/// Stops at every level boundary with a checkpoint and resumes, until the
/// search ends: the verdict, counts and lasso are the uninterrupted run's.
#[test]
fn stopped_and_resumed_at_every_level_the_verdict_is_the_same() {
    for (name, consts, memory) in [
        ("semaphore_weak.fathom", vec![], None),
        ("two_phase_live.fathom", vec![], None),
        ("two_phase_lazy_tm.fathom", vec![("N", 4)], Some(1024)),
    ] {
        let m = compile_file(name, &consts);
        let whole = search(&m, &config(&[]), 1);
        let (out, stops) = stopped_at_every_level(&m, &SearchConfig { memory, ..config(&[]) });
        assert!(
            stops >= whole.depth - 1,
            "{name}: stopped at every level ({stops})"
        );
        assert_eq!(
            (out.status, out.distinct, out.generated, out.depth),
            (whole.status, whole.distinct, whole.generated, whole.depth),
            "{name}"
        );
        assert_eq!(violation_key(&out), violation_key(&whole), "{name}");
        assert_eq!(trace_labels(&out), trace_labels(&whole), "{name}");
        verify_trace(&m, &out);
    }
}

#[test]
fn checkpoints_carry_the_graph_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = fathom()
        .args([
            "check",
            &spec("semaphore_weak.fathom"),
            "-q",
            "--json",
            "--store",
        ])
        .arg(dir.path())
        .args(["--checkpoint-every", "0s"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(j["violation"]["kind"], "liveness");
    let graphs = std::fs::read_dir(dir.path())
        .expect("store")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".graph"))
        })
        .count();
    assert_eq!(graphs, 1, "the checkpoint holds the graph");
}

#[test]
fn a_bounded_search_decides_no_property() {
    let out = fathom()
        .args([
            "check",
            &spec("semaphore_weak.fathom"),
            "--json",
            "-q",
            "--max-depth",
            "2",
        ])
        .output()
        .expect("runs");
    let j: Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(j["result"], "bounded");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not decided"));
}

#[test]
fn a_walk_that_closes_a_violating_lasso_reports_it() {
    use checker::simulate::{WalkConfig, simulate};
    let cfg = |seed| WalkConfig { seed, walks: 100, walk_length: 100, deadlock: true };
    let weak = compile_file("semaphore_weak.fathom", &[]);
    let strong = compile_file("semaphore_strong.fathom", &[]);
    for seed in 0..3 {
        let o = simulate(&weak, &cfg(seed));
        let v = o
            .violation
            .expect("a walk comes back around the starving cycle");
        assert_eq!(v.kind.as_str(), "liveness");
        verify_violation(&weak, &v);
        // Under strong fairness no lasso a walk closes is fair and violating.
        assert!(simulate(&strong, &cfg(seed)).violation.is_none());
    }
    // A walk that reaches a state where no fair step is enabled may stop
    // there: the lazy TM's stuttering violation.
    let lazy = compile_file("two_phase_lazy_tm.fathom", &[]);
    let v = simulate(&lazy, &cfg(0))
        .violation
        .expect("a walk meets the stuttering");
    let lasso = v
        .trace
        .as_ref()
        .and_then(|t| t.lasso.as_ref())
        .expect("a lasso");
    assert!(lasso.back.is_none(), "it stutters");
    assert_eq!(v.kind.as_str(), "liveness");
}
