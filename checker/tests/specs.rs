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

use checker::engine::SearchConfig;

mod common;
use common::*;

#[test]
fn spec_suite() {
    let mut runs = 0;
    each_run(|spec, expect, run, model, cfg| {
        assert!(
            !expect.source.trim().is_empty(),
            "{spec}: says where its counts come from"
        );
        let one = search(model, cfg, 1);
        let many = search(model, cfg, 3);
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
                if let Some(l) = e.loop_start {
                    let lasso = v.trace.as_ref().and_then(|t| t.lasso.as_ref());
                    assert_eq!(
                        lasso.map(|l| l.loop_start + 1),
                        Some(l),
                        "{what}: loop state"
                    );
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
        if !run.violations.is_empty() {
            let got: Vec<(&str, &str, Option<usize>)> = one
                .violations
                .iter()
                .map(|v| {
                    let len = v.trace.as_ref().map(|t| t.states.len());
                    (v.kind.as_str(), v.name.as_str(), len)
                })
                .collect();
            let want: Vec<(&str, &str, Option<usize>)> = run
                .violations
                .iter()
                .map(|e| {
                    (
                        e.kind.as_str(),
                        e.name.as_deref().unwrap_or(""),
                        e.trace_length,
                    )
                })
                .collect();
            assert_eq!(got, want, "{what}: --continue's violations");
            let names = |o: &checker::engine::Outcome| -> Vec<String> {
                o.violations.iter().map(|v| v.name.clone()).collect()
            };
            assert_eq!(names(&many), names(&one), "{what}: violations on 3 threads");
        }
        // Thread count changes nothing.
        assert_eq!(
            (one.status, one.distinct, one.generated, one.depth),
            (many.status, many.distinct, many.generated, many.depth),
            "{what}: 1 vs 3 threads"
        );
        assert_eq!(
            trace_labels(&one),
            trace_labels(&many),
            "{what}: same trace on 1 and 3 threads"
        );
        // Everything spilled, 128-bit fingerprints: same answers,
        // traces rebuilt from disk.
        let tiny = search_with::<u128>(
            model,
            &SearchConfig { memory: Some(1024), ..cfg.clone() },
            2,
        );
        assert_eq!(
            (tiny.status, tiny.distinct, tiny.generated, tiny.depth),
            (one.status, one.distinct, one.generated, one.depth),
            "{what}: --memory 1K --fingerprint 128 vs in memory"
        );
        assert_eq!(
            violation_key(&tiny),
            violation_key(&one),
            "{what}: --memory 1K violation"
        );
        if one.distinct > 64 {
            assert!(tiny.disk_fingerprints > 0, "{what}: the disk tier was used");
        }
        verify_trace(model, &one);
        verify_trace(model, &many);
        verify_trace(model, &tiny);
        runs += 1;
    });
    println!("{runs} spec runs checked");
}

/// Symmetry under checkpoints: every run of a spec with symmetric types,
/// stopped with a checkpoint at every level boundary and resumed each
/// time (the checkpoint holds representatives and the instances fired from
/// them), ends with the uninterrupted run's counts and trace.
#[test]
fn symmetric_runs_resume_from_every_level() {
    let mut runs = 0;
    each_run(|spec, _, run, model, cfg| {
        if model.types.syms.is_empty() || !model.temporals.is_empty() {
            return;
        }
        let what = format!("{spec} {:?} {:?}", run.consts, run.args);
        let whole = search(model, cfg, 2);
        let (resumed, stops) = stopped_at_every_level(model, cfg);
        assert_eq!(
            (
                resumed.status,
                resumed.distinct,
                resumed.generated,
                resumed.depth
            ),
            (whole.status, whole.distinct, whole.generated, whole.depth),
            "{what}: resumed at every level"
        );
        assert_eq!(
            trace_labels(&resumed),
            trace_labels(&whole),
            "{what}: trace"
        );
        assert!(
            stops + 1 >= whole.depth,
            "{what}: stopped at every level ({stops})"
        );
        verify_trace(model, &resumed);
        runs += 1;
    });
    assert!(runs >= 10, "the symmetric runs of specs/ ({runs})");
}

/// `--continue` under checkpoints: every run with it, stopped at every
/// level boundary and resumed each time, reports the uninterrupted run's
/// violations, each with the same trace (the checkpoint saves the
/// findings; their traces are rebuilt from the log).
#[test]
fn continue_runs_resume_from_every_level() {
    let mut runs = 0;
    each_run(|spec, _, run, model, cfg| {
        if !cfg.keep_going {
            return;
        }
        let what = format!("{spec} {:?} {:?}", run.consts, run.args);
        let whole = search(model, cfg, 2);
        let (resumed, _) = stopped_at_every_level(model, cfg);
        let views = |o: &checker::engine::Outcome| -> Vec<(String, Option<usize>)> {
            o.violations
                .iter()
                .map(|v| (v.name.clone(), v.trace.as_ref().map(|t| t.states.len())))
                .collect()
        };
        assert_eq!(
            views(&resumed),
            views(&whole),
            "{what}: violations after resuming"
        );
        assert_eq!(
            (resumed.distinct, resumed.generated, resumed.depth),
            (whole.distinct, whole.generated, whole.depth),
            "{what}: counts"
        );
        verify_trace(model, &resumed);
        runs += 1;
    });
    assert!(runs >= 2, "the --continue runs of specs/ ({runs})");
}
