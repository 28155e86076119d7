//! The spec suite: every `specs/NAME.fathom` with a `NAME.expect.toml` is
//! checked against the counts recorded there, which come from the
//! independent checker that its `source` names (TLC, Rumur or SPIN).
//!
//! Each run is done on 1 and on 3 threads; both must give the same counts
//! and the same trace. Each is done once more with 128-bit fingerprints and
//! a memory budget of 1 KiB, which spills every part of the state store to
//! disk at every level (runs of the visited set, frontier segments,
//! trace-log frames): the counts and the violation must not change. Every trace is re-executed here step by
//! step through the reference evaluator, and its last state must show the
//! violation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use checker::backend::cpu::CpuBackend;
use checker::engine::backend::Fingerprint;
use checker::engine::progress::Progress;
use checker::engine::trace::Action;
use checker::engine::{self, Outcome, SearchConfig, Status, ViolationKind};
use model::step::{Fired, Stepper};
use model::{Model, Source};
use serde::Deserialize;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Expect {
    source: String,
    run: Vec<Run>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Run {
    #[serde(default)]
    consts: HashMap<String, i64>,
    #[serde(default)]
    args: Vec<String>,
    result: String,
    distinct: Option<u64>,
    generated: Option<u64>,
    depth: Option<u32>,
    violation: Option<ExpectViolation>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ExpectViolation {
    kind: String,
    name: Option<String>,
    trace_length: Option<usize>,
}

fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs")
}

fn config(args: &[String]) -> SearchConfig {
    let mut c = SearchConfig {
        deadlock: true,
        max_depth: None,
        checkpoint: None,
        memory: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--no-deadlock" => c.deadlock = false,
            "--max-depth" => c.max_depth = it.next().and_then(|v| v.parse().ok()),
            other => panic!("unsupported arg in expect file: {other}"),
        }
    }
    c
}

fn search(model: &Model, config: &SearchConfig, threads: usize) -> Outcome {
    search_with::<u64>(model, config, threads)
}

fn search_with<F: Fingerprint>(model: &Model, config: &SearchConfig, threads: usize) -> Outcome {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let backend = CpuBackend::new(model);
    pool.install(|| engine::search::<F>(model, config, &backend, &Progress::default()))
}

/// Re-executes a trace: each step's instance, fired from the previous
/// state, is enabled and gives the next state; the last state violates.
fn verify_trace(model: &Model, o: &Outcome) {
    let Some(v) = &o.violation else { return };
    let Some(t) = &v.trace else {
        assert_eq!(
            v.kind,
            ViolationKind::Unreachable,
            "only unreachable violations have no trace"
        );
        return;
    };
    let mut stepper = Stepper::new(model);
    let initial = stepper.initial_states().expect("initial states");
    let mut next = Vec::new();
    for (i, st) in t.states.iter().enumerate() {
        match &st.action {
            Action::Init { ordinal } => {
                assert_eq!(i, 0, "only the first state is initial");
                assert_eq!(initial[*ordinal as usize], st.slots);
            }
            Action::Rule { instance } => {
                let prev = &t.states[i - 1].slots;
                assert_eq!(
                    stepper.fire(*instance, prev, &mut next),
                    Ok(Fired::Enabled),
                    "step {i} enabled"
                );
                assert_eq!(next, st.slots, "step {i} gives the next state");
            }
        }
    }
    let last = &t.states.last().expect("a trace has a state").slots;
    match v.kind {
        ViolationKind::Invariant => {
            let failed = stepper
                .check_invariants(last)
                .expect("invariants evaluate")
                .expect("last state violates");
            assert_eq!(model.invariants[failed.0].name, v.name);
        }
        ViolationKind::Deadlock => {
            for i in 0..model.instance_count() {
                assert_eq!(
                    stepper.fire(i, last, &mut next),
                    Ok(Fired::Disabled),
                    "deadlocked state enables nothing"
                );
            }
        }
        ViolationKind::Assert | ViolationKind::Range | ViolationKind::Eval => {
            let f = t
                .failing_step
                .as_ref()
                .expect("an error trace ends with its failing step");
            let e = stepper
                .fire(f.instance, last, &mut next)
                .expect_err("the failing step fails again");
            assert_eq!(e.kind.as_str(), v.kind.as_str());
        }
        ViolationKind::Unreachable => unreachable!("no trace"),
    }
}

fn result_name(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Violation => "violation",
        Status::Bounded => "bounded",
        Status::Stopped => "stopped",
        Status::StoreFailed => "error",
    }
}

#[test]
fn spec_suite() {
    let mut expects: Vec<PathBuf> = std::fs::read_dir(specs_dir())
        .expect("specs/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".expect.toml"))
        .collect();
    expects.sort();
    assert!(expects.len() >= 4, "the suite has its specs");
    let mut runs = 0;
    for path in &expects {
        let text = std::fs::read_to_string(path).expect("read expect file");
        let expect: Expect =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            !expect.source.trim().is_empty(),
            "{}: says where its counts come from",
            path.display()
        );
        let spec = path.to_string_lossy().replace(".expect.toml", ".fathom");
        let source = Source::new(
            spec.clone(),
            std::fs::read_to_string(&spec).expect("spec beside its expect file"),
        );
        for run in &expect.run {
            let model =
                model::compile(&source, &run.consts).unwrap_or_else(|e| panic!("{spec}: {e:?}"));
            let cfg = config(&run.args);
            let one = search(&model, &cfg, 1);
            let many = search(&model, &cfg, 3);
            let what = format!("{spec} {:?} {:?}", run.consts, run.args);
            assert_eq!(result_name(one.status), run.result, "{what}: result");
            if let Some(d) = run.distinct {
                assert_eq!(one.distinct, d, "{what}: distinct");
            }
            if let Some(g) = run.generated {
                assert_eq!(one.generated, g, "{what}: generated");
            }
            if let Some(d) = run.depth {
                assert_eq!(one.depth, d, "{what}: depth");
            }
            match (&run.violation, &one.violation) {
                (None, None) => {}
                (Some(e), Some(v)) => {
                    assert_eq!(v.kind.as_str(), e.kind, "{what}: violation kind");
                    if let Some(n) = &e.name {
                        assert_eq!(&v.name, n, "{what}: violation name");
                    }
                    if let Some(l) = e.trace_length {
                        assert_eq!(
                            v.trace.as_ref().map(|t| t.states.len()),
                            Some(l),
                            "{what}: trace length"
                        );
                    }
                }
                (e, v) => panic!("{what}: expected violation {e:?}, got {v:?}"),
            }
            // Thread count changes nothing.
            assert_eq!(
                (one.status, one.distinct, one.generated, one.depth),
                (many.status, many.distinct, many.generated, many.depth),
                "{what}: 1 vs 3 threads"
            );
            let labels = |o: &Outcome| {
                o.violation
                    .as_ref()
                    .and_then(|v| v.trace.as_ref())
                    .map(|t| t.states.iter().map(|s| s.label.clone()).collect::<Vec<_>>())
            };
            assert_eq!(
                labels(&one),
                labels(&many),
                "{what}: same trace on 1 and 3 threads"
            );
            // Everything spilled, 128-bit fingerprints: same answers,
            // traces rebuilt from disk.
            let tiny = search_with::<u128>(
                &model,
                &SearchConfig {
                    memory: Some(1024),
                    ..cfg.clone()
                },
                2,
            );
            assert_eq!(
                (tiny.status, tiny.distinct, tiny.generated, tiny.depth),
                (one.status, one.distinct, one.generated, one.depth),
                "{what}: --memory 1K --fingerprint 128 vs in memory"
            );
            let violation = |o: &Outcome| {
                o.violation.as_ref().map(|v| {
                    (
                        v.kind,
                        v.name.clone(),
                        v.trace.as_ref().map(|t| t.states.len()),
                    )
                })
            };
            assert_eq!(
                violation(&tiny),
                violation(&one),
                "{what}: --memory 1K violation"
            );
            if one.distinct > 64 {
                assert!(tiny.disk_fingerprints > 0, "{what}: the disk tier was used");
            }
            verify_trace(&model, &one);
            verify_trace(&model, &many);
            verify_trace(&model, &tiny);
            runs += 1;
        }
    }
    println!("{runs} spec runs checked");
}
