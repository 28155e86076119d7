//! The GPU backend against the CPU backend, the oracle: every run of the
//! spec suite (specs/*.expect.toml, whose counts come from TLC, Rumur or
//! SPIN) is checked on the device-resident search — lavapipe in CI — and
//! must give the CPU's result, distinct and generated counts, depth,
//! violation (kind, name) and the same trace, step for step. Each run is
//! done three ways:
//!
//! - roomy: the default table (64-bit compare-exchange where the adapter
//!   has 64-bit atomics, as lavapipe and NVIDIA do), nothing spilled;
//! - tiny: a 4 KiB table, 128-bit fingerprints (the 32-bit table with its
//!   retry passes), `--memory 1K`, and every array split over several
//!   4 KiB buffers (32 KiB each past 10^4 states): the table fills and goes
//!   to the host's store (to disk) again and again, segments are undone and
//!   halved, and each later segment's new states are checked against the
//!   host's runs;
//! - 32-bit: 64-bit fingerprints in the 32-bit table, a 64 KiB table;
//! - per thread: the 64-bit table (64 KiB), each invocation probing alone
//!   (the roomy run probes cooperatively where the adapter has subgroups,
//!   as lavapipe does).
//!
//! The last two run on the specs with at most 64 rule instances a state:
//! lavapipe compiles the larger kernels slowly, and the first two cover
//! those specs.
//!
//! On a passing run with a roomy table no level may go to the CPU: the
//! device did the search; except where the expect file says some states'
//! symmetry ties are past the device's cap (`past_device_cap`), where some
//! level must.
//!
//! Without any Vulkan adapter the suite says so and stops, unless
//! FATHOM_GPU_TESTS=required (CI sets it), where that is a failure. A run
//! marked `software_gpu = false` in its expect file (two in all, at most)
//! is left to hardware adapters: a smaller run of the same spec stays in.

use std::sync::Arc;

use checker::backend::cpu::CpuBackend;
use checker::engine::backend::Fingerprint;
use checker::engine::device::{self, DeviceReport, OnFailure};
use checker::engine::progress::Progress;
use checker::engine::{Outcome, SearchConfig, Status};
use gpu_kernels::{Gpu, Search, Sizing};
use model::Model;

mod common;
use common::*;

fn open_gpu() -> Option<Arc<Gpu>> {
    match Gpu::open(true) {
        Ok(g) => Some(Arc::new(g)),
        Err(e) if std::env::var("FATHOM_GPU_TESTS").as_deref() != Ok("required") => {
            eprintln!("GPU tests not run: {e} (install mesa-vulkan-drivers for lavapipe)");
            None
        }
        Err(e) => panic!("FATHOM_GPU_TESTS=required but {e}"),
    }
}

fn gpu_search<F: Fingerprint>(
    gpu: &Arc<Gpu>,
    model: &Model,
    config: &SearchConfig,
    sizing: Sizing,
) -> (Outcome, DeviceReport) {
    let mut dev = Search::new(
        gpu.clone(),
        model,
        gpu_kernels::Options {
            fp128: F::BITS == 128,
            symmetry: checker::engine::symmetry_of(model, config).is_some(),
            coverage: config.coverage,
        },
        sizing,
    )
    .expect("the kernels build for every spec");
    let cpu = CpuBackend::new(model);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("thread pool");
    pool.install(|| {
        device::search::<F>(
            model,
            config,
            &mut dev,
            &cpu,
            OnFailure::Stop,
            &Progress::default(),
            None,
        )
    })
}

#[test]
fn gpu_backend_gives_the_cpus_answers() {
    let Some(gpu) = open_gpu() else { return };
    eprintln!("GPU tests on {}", gpu.name);
    let mut runs = 0;
    let mut left = 0;
    let mut spilled = 0;
    each_run(|spec, _, run, model, cfg| {
        let what = format!("{spec} {:?} {:?}", run.consts, run.args);
        if gpu.software && !run.software_gpu {
            eprintln!("{what}: left to a hardware GPU (software_gpu = false)");
            left += 1;
            return;
        }
        // Temporal properties are decided on the host's state graph (see
        // `temporal_properties_are_checked_on_the_host`): the device runs
        // the rest of the spec, whose counts the properties do not change.
        let live = !model.temporals.is_empty();
        let safety;
        let model = if live {
            safety = Model {
                temporals: Vec::new(),
                fairness: Vec::new(),
                ..model.clone()
            };
            &safety
        } else {
            model
        };
        // Specs with symmetric types run as their runs say: reduced (the
        // device canonicalizes like the CPU) or, with --no-symmetry, whole.
        let cpu = search(model, cfg, 1);
        let large = cpu.distinct > 10_000;
        let t0 = std::time::Instant::now();
        let roomy = gpu_search::<u64>(
            &gpu,
            model,
            cfg,
            Sizing { memory_bytes: Some(32 << 20), ..Sizing::default() },
        );
        let t1 = std::time::Instant::now();
        // With --coverage: the device's per-workgroup counts (through
        // segments, spills and levels the CPU takes) equal the CPU's.
        let cpu_counts = search(model, &SearchConfig { coverage: true, ..cfg.clone() }, 1).coverage;
        let tiny = gpu_search::<u128>(
            &gpu,
            model,
            &SearchConfig { memory: Some(1024), coverage: true, ..cfg.clone() },
            Sizing {
                memory_bytes: Some(1 << 20),
                thread_probes: true,
                // 146 slots in 4 KiB buffers; for the larger runs 1170 in
                // 32 KiB ones (still dozens of spills, at a tenth of the time).
                table_bytes: Some(if large { 32 << 10 } else { 4096 }),
                binding_bytes: Some(if large { 32 << 10 } else { 4096 }),
                words32: true,
                fault: None,
            },
        );
        let t2 = std::time::Instant::now();
        // The table's mechanics once more, per format: on the specs with
        // few rule instances (lavapipe compiles a kernel of hundreds of
        // instances slowly, and the two runs above cover those specs).
        let small = model.instance_count() <= 64 && !live;
        let words32 = small.then(|| {
            gpu_search::<u64>(
                &gpu,
                model,
                &SearchConfig { coverage: true, ..cfg.clone() },
                Sizing {
                    memory_bytes: Some(4 << 20),
                    table_bytes: Some(64 << 10),
                    binding_bytes: None,
                    words32: true,
                    thread_probes: true,
                    fault: None,
                },
            )
        });
        let t3 = std::time::Instant::now();
        let threads = small.then(|| {
            gpu_search::<u64>(
                &gpu,
                model,
                cfg,
                Sizing {
                    memory_bytes: Some(4 << 20),
                    table_bytes: Some(64 << 10),
                    binding_bytes: None,
                    words32: false,
                    thread_probes: true,
                    fault: None,
                },
            )
        });
        assert_eq!(
            tiny.0.coverage, cpu_counts,
            "{what}: --coverage on the device (64-bit table)"
        );
        if let Some((o, _)) = &words32 {
            assert_eq!(
                o.coverage, cpu_counts,
                "{what}: --coverage on the device (32-bit table)"
            );
        }
        eprintln!(
            "{what}: {} states; roomy {:.1}s, tiny {:.1}s ({} segments, {} spills), 32-bit {:.1}s, 64-bit per thread {:.1}s",
            cpu.distinct,
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            tiny.1.stats.segments,
            tiny.1.stats.spills,
            (t3 - t2).as_secs_f64(),
            t3.elapsed().as_secs_f64()
        );
        let runs_of = [
            (Some(&roomy), "roomy table"),
            (
                Some(&tiny),
                "4 KiB table, 4 KiB buffers, --memory 1K, 128-bit",
            ),
            (words32.as_ref(), "64 KiB 32-bit table"),
            (threads.as_ref(), "64 KiB 64-bit table, per-thread probes"),
        ];
        for ((o, report), name) in runs_of
            .into_iter()
            .filter_map(|(r, name)| r.map(|r| (r, name)))
        {
            if !live {
                assert_eq!(
                    result_name(o.status),
                    run.result,
                    "{what} ({name}): result ({:?})",
                    o.error
                );
            }
            assert_eq!(
                (o.status, o.distinct, o.generated, o.depth),
                (cpu.status, cpu.distinct, cpu.generated, cpu.depth),
                "{what} ({name}): GPU vs CPU"
            );
            assert_eq!(
                violation_key(o),
                violation_key(&cpu),
                "{what} ({name}): violation"
            );
            assert_eq!(
                trace_labels(o),
                trace_labels(&cpu),
                "{what} ({name}): the CPU's trace, step for step"
            );
            // --continue: every violation, in the same order, with the
            // same trace (levels with a new one go to the CPU).
            let each = |o: &Outcome| -> Vec<(String, Option<Vec<String>>)> {
                o.violations
                    .iter()
                    .map(|v| {
                        let labels = v
                            .trace
                            .as_ref()
                            .map(|t| t.states.iter().map(|s| s.label.clone()).collect());
                        (v.name.clone(), labels)
                    })
                    .collect()
            };
            assert_eq!(
                each(o),
                each(&cpu),
                "{what} ({name}): --continue's violations"
            );
            assert!(
                !report.fell_back,
                "{what} ({name}): the device ran the search"
            );
            if o.status == Status::Pass && name == "roomy table" {
                if run.past_device_cap {
                    // A CPU level takes the table to the host's store first.
                    assert!(
                        report.cpu_levels > 0,
                        "{what} ({name}): states past the symmetry cap went to the CPU"
                    );
                    assert!(
                        report.stats.spills <= report.cpu_levels,
                        "{what} ({name}): the table went to the host only for the CPU's levels"
                    );
                } else {
                    assert_eq!(
                        report.cpu_levels, 0,
                        "{what} ({name}): no level left the GPU"
                    );
                    assert_eq!(
                        report.stats.spills, 0,
                        "{what} ({name}): the table held the run"
                    );
                }
            }
            verify_trace(model, o);
        }
        // The tiny table holds 146 slots (1170): a run past them spills.
        if tiny.0.distinct > 1500 && tiny.1.cpu_levels == 0 {
            assert!(
                tiny.1.stats.spills > 0,
                "{what}: the tiny table filled and spilled"
            );
            spilled += 1;
        }
        runs += 1;
    });
    assert!(runs >= 10, "the suite's runs were checked");
    assert!(spilled >= 5, "the larger runs spilled the tiny table");
    assert!(left <= 2, "most runs are checked on every adapter");
    println!("{runs} spec runs checked on the GPU, {left} left to hardware, {spilled} spilled");
}

/// A spec with temporal properties given to the device search runs on the
/// host's CPU backend, which records the state graph, and says so
/// (`fell_back`); verdict, counts and lasso are the CPU's.
#[test]
fn temporal_properties_are_checked_on_the_host() {
    let Some(gpu) = open_gpu() else { return };
    let source = model::Source::new(
        "semaphore_weak.fathom".to_string(),
        std::fs::read_to_string(specs_dir().join("semaphore_weak.fathom")).expect("spec"),
    );
    let model = model::compile(&source, &Default::default()).expect("compiles");
    let cfg = config(&[]);
    let cpu = search(&model, &cfg, 1);
    let (o, report) = gpu_search::<u64>(&gpu, &model, &cfg, Sizing::default());
    assert!(report.fell_back, "the host searched");
    assert_eq!(
        (o.status, o.distinct, o.generated, o.depth),
        (cpu.status, cpu.distinct, cpu.generated, cpu.depth)
    );
    assert_eq!(violation_key(&o), violation_key(&cpu));
    assert_eq!(trace_labels(&o), trace_labels(&cpu));
    verify_trace(&model, &o);
}

/// Symmetry under checkpoints on the device: a search by orbits stopped
/// with a checkpoint at every level boundary (the device's table and
/// frontier read back) and resumed on a fresh device search each time ends
/// with the CPU's uninterrupted counts, including ring_sym's levels that
/// go to the CPU.
#[test]
fn symmetric_searches_resume_on_the_device_from_every_level() {
    use std::sync::atomic::AtomicBool;
    let Some(gpu) = open_gpu() else { return };
    let runs: [(&str, &[(&str, i64)]); 3] = [
        ("two_phase_sym.fathom", &[("N", 5)]),
        ("german_sym.fathom", &[("NodeNum", 2)]),
        ("ring_sym.fathom", &[("N", 7)]),
    ];
    for (name, consts) in runs {
        let model = compile_file(name, consts);
        let base = config(&["--no-deadlock".to_string()]);
        let whole = search(&model, &base, 1);
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = SearchConfig {
            checkpoint: Some(checker::engine::checkpoint::Checkpointing {
                dir: dir.path().to_path_buf(),
                every: std::time::Duration::ZERO,
                stop: Arc::new(AtomicBool::new(true)),
                identity: "device, every level".to_string(),
                seconds_before: 0.0,
            }),
            ..base
        };
        let words = model::layout::Layout::new(&model.bounds).words;
        let cpu = CpuBackend::new(&model);
        let mut from = None;
        let mut stops = 0;
        let out = loop {
            let mut dev = Search::new(
                gpu.clone(),
                &model,
                gpu_kernels::Options { fp128: false, symmetry: true, coverage: false },
                Sizing::default(),
            )
            .expect("the kernels build");
            let (o, report) = device::search::<u64>(
                &model,
                &cfg,
                &mut dev,
                &cpu,
                OnFailure::Stop,
                &Progress::default(),
                from.take(),
            );
            assert!(!report.fell_back, "{name}: the device ran the search");
            if o.status != Status::Stopped {
                break o;
            }
            stops += 1;
            from = Some(
                checker::engine::checkpoint::load::<u64>(dir.path(), "device, every level", words)
                    .expect("loads"),
            );
        };
        assert_eq!(
            (out.status, out.distinct, out.generated, out.depth),
            (whole.status, whole.distinct, whole.generated, whole.depth),
            "{name} {consts:?}: resumed at every level on the device"
        );
        assert!(
            stops + 1 >= whole.depth,
            "{name}: stopped at every level ({stops})"
        );
    }
}

/// DVE models on the device: BEEM instances whose guards and effects use
/// C's `/` and `%`, the bit operations and `<<` (../shared/corpora/beem),
/// and a small system that reaches DiVinE 2's error state (an overflow, an
/// index outside its array, in a guard and in an effect) — each run on the
/// device and on the CPU, with the same answers.
#[test]
fn dve_models_run_on_the_device() {
    let Some(gpu) = open_gpu() else { return };
    let beem = beem_corpus();
    let mut runs: Vec<(String, String, bool)> = [
        "fischer/fischer.1.dve",
        "firewire_tree/firewire_tree.1.dve",
        "needham/needham.1.dve",
        "lup/lup.1.dve",
        "anderson/anderson.2.dve",
        "synapse/synapse.1.dve",
    ]
    .iter()
    .map(|f| {
        let text = std::fs::read_to_string(beem.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        (f.to_string(), text, false)
    })
    .collect();
    let errors = "byte c = 240;\nbyte a[3];\n\
        process P { state s, t; init s;\n\
          trans s -> s { effect c = c + 3; },\n\
                s -> t { guard a[c % 5] == 0; effect a[c % 4] = 1; },\n\
                t -> s { effect c = c - (c / 7); }; }\n\
        process Q { byte k; state q; init q; trans q -> q { guard k < 4; effect k = k + 1; }; }\n\
        system async;\n";
    runs.push(("errors.dve".to_string(), errors.to_string(), true));
    for (name, text, error_state) in runs {
        let source = model::Source::new(name.clone(), text);
        let options = checker::frontend::Options { dve: lang_dve::Options { error_state } };
        let model = checker::frontend::compile(
            std::path::Path::new(&name),
            &source,
            &Default::default(),
            &options,
        )
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let cfg = config(&["--no-deadlock".to_string()]);
        let cpu = search(&model, &cfg, 1);
        let (o, report) = gpu_search::<u64>(
            &gpu,
            &model,
            &cfg,
            Sizing { memory_bytes: Some(32 << 20), ..Sizing::default() },
        );
        assert_eq!(
            (o.status, o.distinct, o.generated, o.depth),
            (cpu.status, cpu.distinct, cpu.generated, cpu.depth),
            "{name}"
        );
        assert_eq!(violation_key(&o), violation_key(&cpu), "{name}");
        assert!(
            !report.fell_back && report.cpu_levels == 0,
            "{name}: the device searched"
        );
        eprintln!("{name}: {} states on the device", o.distinct);
    }
}

/// A model's name, text and constants.
type Consts = Vec<(&'static str, i64)>;

/// Murphi models on the device: two-phase commit and German's protocol
/// (benches/murphi, Rumur's counts in tests/murphi.rs), and a small model
/// with a `while`, a procedure with a `var` parameter, and undefined
/// values (`isundefined`, `undefine`), one with `assume` and `cover`
/// statements, and scalarsets reduced as symmetric types — each on the
/// device and on the CPU, with the same answers.
#[test]
fn murphi_models_run_on_the_device() {
    let Some(gpu) = open_gpu() else { return };
    let bench: std::path::PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "benches", "murphi"]
        .iter()
        .collect();
    let mut runs: Vec<(String, String, Consts)> = vec![
        (
            "two_phase.m".into(),
            std::fs::read_to_string(bench.join("two_phase.m")).expect("model"),
            vec![("N", 3)],
        ),
        (
            "german.m".into(),
            std::fs::read_to_string(bench.join("german.m")).expect("model"),
            vec![("NodeNum", 2), ("DataNum", 2)],
        ),
    ];
    let small = "const N: 4;\nvar x: 0..N; y: 0..N; z: 0..N;\n\
        procedure bump(var v: 0..N); begin if v < N then v := v + 1; end; end;\n\
        startstate begin x := 0; y := 0; end;\n\
        rule x < N ==> begin bump(x); end;\n\
        rule isundefined(z) & x = N ==> begin z := 0; while z < y do z := z + 1; end; end;\n\
        rule !isundefined(z) & z < N & y < N ==> begin y := y + 1; bump(z); undefine z; end;\n\
        rule y = 2 & !isundefined(z) ==> begin x := z; end;\n";
    runs.push(("small.m".into(), small.into(), Vec::new()));
    // Assume and cover statements: a successor that fails an assumption is
    // discarded; "x was 2" is met by its statement, "never" is not.
    let covers = "var x: 0..4; y: boolean;\n\
        procedure check(); begin assume x != 3; end;\n\
        startstate begin x := 0; y := false; end;\n\
        rule x < 4 ==> begin x := x + 1; check(); cover \"x was 2\" x = 2; end;\n\
        rule x > 0 ==> begin x := x - 1; cover \"never\" x = 4 & y; end;\n\
        rule begin y := !y; end;\n";
    runs.push(("covers.m".into(), covers.into(), Vec::new()));
    // Functions with statements inside guards and invariants (Expr::Block),
    // `return` inside loops.
    runs.push((
        "guards.m".into(),
        std::fs::read_to_string(bench.join("guards.m")).expect("model"),
        vec![("N", 5)],
    ));
    // Scalarsets as symmetric types (german.m's too): arrays indexed by
    // one, and a record field holding one that starts undefined.
    runs.push((
        "two_phase_sym.m".into(),
        std::fs::read_to_string(bench.join("two_phase_sym.m")).expect("model"),
        vec![("N", 3)],
    ));
    // CMurphi's unions.
    runs.push((
        "unions.m".into(),
        std::fs::read_to_string(bench.join("unions.m")).expect("model"),
        Vec::new(),
    ));
    runs.push((
        "193.m".into(),
        std::fs::read_to_string(bench.join("../../../shared/corpora/rumur-tests/193.m"))
            .expect("model"),
        Vec::new(),
    ));
    for (name, text, consts) in runs {
        let source = model::Source::new(name.clone(), text);
        let consts = consts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let model = checker::frontend::compile(
            std::path::Path::new(&name),
            &source,
            &consts,
            &Default::default(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let cfg = config(&["--no-deadlock".to_string()]);
        let cpu = search(&model, &cfg, 1);
        let (o, report) = gpu_search::<u64>(
            &gpu,
            &model,
            &cfg,
            Sizing { memory_bytes: Some(32 << 20), ..Sizing::default() },
        );
        assert_eq!(
            (o.status, o.distinct, o.generated, o.depth),
            (cpu.status, cpu.distinct, cpu.generated, cpu.depth),
            "{name}"
        );
        assert_eq!(violation_key(&o), violation_key(&cpu), "{name}");
        assert!(!report.fell_back, "{name}: the device searched");
        eprintln!(
            "{name}: {} states, {:?} on the device",
            o.distinct, o.status
        );
    }
    // Murphi's stuttering deadlock: x = 3 has only a rule that leaves it as
    // it is. The device compares each successor with its parent; with
    // `Deadlock::Stuck` there is none.
    let text = "var x: 0..3;\nstartstate begin x := 0; end;\n\
        rule x < 3 ==> begin x := x + 1; end;\nrule begin x := x; end;\n";
    let source = model::Source::new("stutter.m".to_string(), text.to_string());
    let path = std::path::Path::new("stutter.m");
    let mut model =
        checker::frontend::compile(path, &source, &Default::default(), &Default::default())
            .expect("stutter.m");
    let cfg = config(&[]);
    for (kind, want) in [
        (model::ir::Deadlock::Stuttering, Status::Violation),
        (model::ir::Deadlock::Stuck, Status::Pass),
    ] {
        model.deadlock = kind;
        let cpu = search(&model, &cfg, 1);
        let (o, report) = gpu_search::<u64>(&gpu, &model, &cfg, Sizing::default());
        assert_eq!(cpu.status, want, "{kind:?}");
        assert_eq!(
            (o.status, o.distinct, o.generated, o.depth),
            (cpu.status, cpu.distinct, cpu.generated, cpu.depth),
            "{kind:?}"
        );
        assert_eq!(violation_key(&o), violation_key(&cpu), "{kind:?}");
        assert!(!report.fell_back, "{kind:?}: the device searched");
    }
}
