//! What the spec-suite tests share: the expect files, search configs from
//! their args, and re-execution of traces through the reference evaluator.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use checker::backend::cpu::CpuBackend;
use checker::engine::backend::Fingerprint;
use checker::engine::progress::Progress;
use checker::engine::trace::Action;
use checker::engine::{self, Outcome, SearchConfig, Status, ViolationKind};
use model::Model;
use model::step::{Fired, Stepper};
use serde::Deserialize;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub source: String,
    pub run: Vec<Run>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Run {
    #[serde(default)]
    pub consts: HashMap<String, i64>,
    #[serde(default)]
    pub args: Vec<String>,
    pub result: String,
    pub distinct: Option<u64>,
    pub generated: Option<u64>,
    pub depth: Option<u32>,
    pub violation: Option<ExpectViolation>,
    /// With `--continue`: every violated property, in the order found.
    #[serde(default)]
    pub violations: Vec<ExpectViolation>,
    /// `false`: too slow for a software GPU adapter (lavapipe) in CI, so
    /// the GPU suite leaves it to hardware; the file says why.
    #[serde(default = "yes")]
    pub software_gpu: bool,
    /// Some states' symmetry ties need more arrangements than a device
    /// thread tries: the GPU suite expects levels handed to the CPU.
    #[serde(default)]
    pub past_device_cap: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ExpectViolation {
    pub kind: String,
    pub name: Option<String>,
    pub trace_length: Option<usize>,
    /// Liveness: the 1-based state the lasso's cycle returns to.
    #[serde(rename = "loop")]
    pub loop_start: Option<usize>,
}

/// The `fathom` binary, for command-line tests.
pub fn fathom() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("fathom").expect("the fathom binary is built")
}

/// The path of `specs/NAME`, as an argument.
pub fn spec(name: &str) -> String {
    specs_dir().join(name).display().to_string()
}

/// A spec of specs/ compiled with `consts` overridden.
pub fn compile_file(name: &str, consts: &[(&str, i64)]) -> Model {
    let text = std::fs::read_to_string(specs_dir().join(name)).expect("spec");
    let source = model::Source::new(name.to_string(), text);
    let consts = consts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    model::compile(&source, &consts).expect("compiles")
}

/// The search of `config` stopped with a checkpoint at every level
/// boundary and resumed from it, until it ends; with how often it stopped.
pub fn stopped_at_every_level(model: &Model, config: &SearchConfig) -> (Outcome, u32) {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = SearchConfig {
        checkpoint: Some(engine::checkpoint::Checkpointing {
            dir: dir.path().to_path_buf(),
            every: std::time::Duration::ZERO,
            stop: Arc::new(AtomicBool::new(true)),
            identity: "stopped at every level".to_string(),
            seconds_before: 0.0,
        }),
        ..config.clone()
    };
    let words = model::layout::Layout::new(&model.bounds).words;
    let backend = CpuBackend::new(model);
    let progress = Progress::default();
    let mut out = engine::search::<u64>(model, &cfg, &backend, &progress);
    let mut stops = 0;
    while out.status == Status::Stopped {
        stops += 1;
        let from = engine::checkpoint::load::<u64>(dir.path(), "stopped at every level", words)
            .expect("loads");
        out = engine::resume::<u64>(model, &cfg, &backend, &progress, from);
    }
    (out, stops)
}

pub fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs")
}

pub fn config(args: &[String]) -> SearchConfig {
    let mut c = SearchConfig {
        deadlock: true,
        max_depth: None,
        checkpoint: None,
        memory: None,
        coverage: false,
        symmetry: true,
        keep_going: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--no-deadlock" => c.deadlock = false,
            "--no-symmetry" => c.symmetry = false,
            "--continue" => c.keep_going = true,
            "--max-depth" => c.max_depth = it.next().and_then(|v| v.parse().ok()),
            other => panic!("unsupported arg in expect file: {other}"),
        }
    }
    c
}

pub fn search(model: &Model, config: &SearchConfig, threads: usize) -> Outcome {
    search_with::<u64>(model, config, threads)
}

pub fn search_with<F: Fingerprint>(
    model: &Model,
    config: &SearchConfig,
    threads: usize,
) -> Outcome {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let backend = CpuBackend::new(model);
    pool.install(|| engine::search::<F>(model, config, &backend, &Progress::default()))
}

/// Re-executes a trace: each step's instance, fired from the previous
/// state, is enabled and gives the next state; the last state violates.
pub fn verify_trace(model: &Model, o: &Outcome) {
    if let Some(v) = &o.violation {
        verify_violation(model, v);
    }
    for v in &o.violations {
        verify_violation(model, v);
    }
}

/// [`verify_trace`] for one violation.
pub fn verify_violation(model: &Model, v: &engine::Violation) {
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
            let i = model
                .invariants
                .iter()
                .position(|p| p.name == v.name)
                .expect("the violation names an invariant");
            assert_eq!(
                stepper.invariant_holds(i, last),
                Ok(false),
                "the last state violates `{}`",
                v.name
            );
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
        ViolationKind::Unreachable | ViolationKind::Symmetry => unreachable!("no trace"),
        ViolationKind::Liveness => {
            let l = t.lasso.as_ref().expect("a liveness trace is a lasso");
            match &l.back {
                // The cycle closes: the back step leads to the loop state.
                Some(b) => {
                    assert_eq!(
                        stepper.fire(b.instance, last, &mut next),
                        Ok(Fired::Enabled)
                    );
                    assert_eq!(next, t.states[l.loop_start].slots, "the cycle closes");
                    assert_ne!(&next, last, "the back step changes the state");
                }
                None => assert_eq!(l.loop_start + 1, t.states.len(), "the last state stutters"),
            }
        }
    }
}

pub fn result_name(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Violation => "violation",
        Status::Bounded => "bounded",
        Status::Stopped => "stopped",
        Status::StoreFailed | Status::BackendFailed => "error",
    }
}

/// Every expect file of specs/, parsed, with its spec's path.
pub fn expect_files() -> Vec<(String, Expect)> {
    let mut expects: Vec<PathBuf> = std::fs::read_dir(specs_dir())
        .expect("specs/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".expect.toml"))
        .collect();
    expects.sort();
    assert!(expects.len() >= 4, "the suite has its specs");
    expects
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("read expect file");
            let expect: Expect =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // The spec beside it, in whichever language it is written.
            let stem = path.to_string_lossy().replace(".expect.toml", "");
            let spec = [".fathom", ".dve"]
                .iter()
                .map(|ext| format!("{stem}{ext}"))
                .find(|p| Path::new(p).exists())
                .unwrap_or_else(|| panic!("{}: no spec beside it", path.display()));
            (spec, expect)
        })
        .collect()
}

/// (kind, name, trace length) of an outcome's violation.
pub fn violation_key(o: &Outcome) -> Option<(ViolationKind, String, Option<usize>)> {
    o.violation.as_ref().map(|v| {
        (
            v.kind,
            v.name.clone(),
            v.trace.as_ref().map(|t| t.states.len()),
        )
    })
}

/// The labels of a violation's trace, step by step.
pub fn trace_labels(o: &Outcome) -> Option<Vec<String>> {
    o.violation
        .as_ref()
        .and_then(|v| v.trace.as_ref())
        .map(|t| t.states.iter().map(|s| s.label.clone()).collect())
}

/// Calls `f` on every run of every expect file: the spec's path, the run,
/// its compiled model and its search config.
pub fn each_run(mut f: impl FnMut(&str, &Expect, &Run, &Model, &SearchConfig)) {
    for (spec, expect) in expect_files() {
        let source = model::Source::new(
            spec.clone(),
            std::fs::read_to_string(&spec).expect("spec beside its expect file"),
        );
        for run in &expect.run {
            let model = checker::frontend::compile(
                Path::new(&spec),
                &source,
                &run.consts,
                &Default::default(),
            )
            .unwrap_or_else(|e| panic!("{spec}: {e:?}"));
            f(&spec, &expect, run, &model, &config(&run.args));
        }
    }
}

/// ../shared/corpora/beem: BEEM's DVE instances and their counts.
pub fn beem_corpus() -> PathBuf {
    [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "shared",
        "corpora",
        "beem",
    ]
    .iter()
    .collect()
}

/// The path of `specs/NAME`, as a string for a command line.
pub fn spec_path(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "specs", name]
        .iter()
        .collect();
    p.display().to_string()
}
