//! The command line: parses arguments (defs.rs), runs the command, prints
//! its report, and maps every outcome to the exit codes of CLI.md in one
//! place ([`Exit`]).

pub mod defs;
mod emit;
mod validate;

use crate::output::{self, err, errln, out, outln};
use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use model::{CompileError, Model, Source};

use crate::backend::cpu::CpuBackend;
use crate::engine::backend::Fingerprint;
use crate::engine::device::OnFailure;
use crate::engine::progress::Progress;
use crate::engine::{self, Outcome, SearchConfig, Status, Violation};
use crate::report::{self, Summary, ViolationSummary};
use crate::simulate::{self, WalkConfig};
use crate::ui::{self, Display};
use defs::{BackendArg, CheckArgs, Cli, Command, SimulateArgs, SpecArgs, TraceFormat};

/// The exit codes of CLI.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Pass = 0,
    Violation = 1,
    Usage = 2,
    Spec = 3,
    Environment = 4,
    Stopped = 5,
}

/// An error that ends a run before it produces a result.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Usage(String),
    /// Rendered diagnostics.
    #[error("{0}")]
    Spec(String),
    #[error("{0}")]
    Environment(String),
}

impl RunError {
    fn exit(&self) -> Exit {
        match self {
            RunError::Usage(_) => Exit::Usage,
            RunError::Spec(_) => Exit::Spec,
            RunError::Environment(_) => Exit::Environment,
        }
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Usage as u8
            } else {
                Exit::Pass as u8
            });
        }
    };
    let exit = match cli.command {
        Command::Check(args) => check(&args),
        Command::Simulate(args) => simulate(&args),
        Command::Emit(args) => emit::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Explore(args) => explore_cmd(&args),
    };
    ExitCode::from(exit as u8)
}

/// A spec loaded and compiled, with what the reports need.
struct Loaded {
    source: Source,
    model: Model,
    consts: BTreeMap<String, i64>,
}

fn load(args: &SpecArgs) -> Result<Loaded, RunError> {
    let options = crate::frontend::Options {
        dve: lang_dve::Options {
            error_state: args.dve_errors == defs::DveErrors::State,
        },
    };
    let mut loaded = load_spec_with(&args.spec, &args.consts, &options)?;
    if let Some(kind) = args.deadlock {
        loaded.model.deadlock = match kind {
            defs::DeadlockArg::Stuck => model::ir::Deadlock::Stuck,
            defs::DeadlockArg::Stuttering => model::ir::Deadlock::Stuttering,
        };
    }
    Ok(loaded)
}

fn load_spec(path: &Path, consts: &[(String, i64)]) -> Result<Loaded, RunError> {
    load_spec_with(path, consts, &Default::default())
}

fn load_spec_with(
    path: &Path,
    consts: &[(String, i64)],
    options: &crate::frontend::Options,
) -> Result<Loaded, RunError> {
    let bytes = std::fs::read(path).map_err(|e| {
        let msg = format!("fathom: cannot read spec `{}`: {e}", path.display());
        if e.kind() == std::io::ErrorKind::NotFound {
            RunError::Usage(msg)
        } else {
            RunError::Environment(msg)
        }
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        // Murphi and DVE files predate UTF-8 (CMurphi's examples have
        // Latin-1 in comments): they are read as Latin-1, byte for char.
        Err(e) if crate::frontend::Language::of(path) != crate::frontend::Language::Fathom => {
            e.into_bytes().iter().map(|&b| b as char).collect()
        }
        Err(e) => {
            return Err(RunError::Spec(format!(
                "fathom: spec `{}` is not UTF-8 text: {e}\n",
                path.display()
            )));
        }
    };
    let source = Source::new(path.display().to_string(), text);
    let overrides: HashMap<String, i64> = consts.iter().cloned().collect();
    match crate::frontend::compile_noting(path, &source, &overrides, options) {
        Ok((model, notes)) => {
            for n in notes {
                errln!("fathom: note: {n}");
            }
            let consts = model.consts.iter().cloned().collect();
            Ok(Loaded { source, model, consts })
        }
        Err(CompileError::Spec(diagnostics)) => {
            let color = std::io::stderr().is_terminal();
            let mut text = model::diagnostic::render_all(&diagnostics, &source, color);
            text.push_str(&format!(
                "fathom: {} error(s) in `{}`\n",
                diagnostics.len(),
                source.name
            ));
            Err(RunError::Spec(text))
        }
        Err(e @ CompileError::UnknownConst { .. }) => {
            Err(RunError::Usage(format!("fathom: --const: {e}")))
        }
    }
}

fn fail(args: &SpecArgs, e: RunError) -> Exit {
    err!("{e}");
    if !e.to_string().ends_with('\n') {
        errln!();
    }
    if args.json {
        let consts = args.consts.iter().cloned().collect();
        outln!(
            "{}",
            report::error_json(
                &args.spec.display().to_string(),
                &consts,
                e.to_string().trim_end()
            )
        );
    }
    e.exit()
}

fn thread_pool(threads: Option<u32>) -> Result<rayon::ThreadPool, RunError> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n as usize);
    }
    b.build()
        .map_err(|e| RunError::Environment(format!("fathom: cannot start threads: {e}")))
}

fn check(args: &CheckArgs) -> Exit {
    let sargs = &args.spec;
    let loaded = match load(sargs) {
        Ok(l) => l,
        Err(e) => return fail(sargs, e),
    };
    let pool = match thread_pool(sargs.threads) {
        Ok(p) => p,
        Err(e) => return fail(sargs, e),
    };
    let checkpointing = match checkpointing(args, &loaded) {
        Ok(c) => c,
        Err(e) => return fail(sargs, e),
    };
    if let Some(states) = args.symmetry_audit
        && let Some(exit) = symmetry_audit(sargs, &loaded, states)
    {
        return exit;
    }
    let config = SearchConfig {
        deadlock: !sargs.no_deadlock,
        max_depth: args.max_depth,
        checkpoint: checkpointing,
        memory: args.memory,
        coverage: args.coverage,
        symmetry: !args.no_symmetry,
        keep_going: args.keep_going,
    };
    let progress = Arc::new(Progress::default());
    let display = Display::start(progress.clone(), !sargs.quiet);
    let outcome = if args.fingerprint == "128" {
        explore::<u128>(args, &loaded, &config, &pool, &progress)
    } else {
        explore::<u64>(args, &loaded, &config, &pool, &progress)
    };
    let (outcome, ran_on) = match outcome {
        Ok(o) => o,
        Err(e) => {
            display.finish();
            return fail(sargs, e);
        }
    };
    display.finish();
    if outcome.status == Status::Bounded && !loaded.model.temporals.is_empty() {
        errln!(
            "fathom: temporal properties are not decided on a bounded search (--max-depth): their behaviors go on past it"
        );
    }
    if args.max_depth.is_none() {
        emit::record_pass(&loaded, config.deadlock, &outcome);
    }
    if let Some(cp) = &config.checkpoint {
        match outcome.status {
            Status::Stopped => errln!(
                "fathom: stopped at depth {} with a checkpoint in `{}`; continue with: fathom check {} --resume {} (and the same --const and options)",
                outcome.depth,
                cp.dir.display(),
                sargs.spec.display(),
                cp.dir.display()
            ),
            Status::StoreFailed => errln!(
                "fathom: could not write to the store: {}; the previous checkpoint in `{}` is intact and can be resumed",
                outcome.error.as_deref().unwrap_or("unknown error"),
                cp.dir.display()
            ),
            _ => {}
        }
    } else if outcome.status == Status::BackendFailed {
        errln!(
            "fathom: {}; the run stops at depth {} (no count is reported as complete)",
            outcome.error.as_deref().unwrap_or("the backend failed"),
            outcome.depth
        );
    } else if outcome.status == Status::StoreFailed {
        errln!(
            "fathom: the state store failed: {}; the run stops here (no count is reported as complete)",
            outcome.error.as_deref().unwrap_or("unknown error")
        );
    }
    report_check(sargs, &loaded, &outcome, &ran_on, args.keep_going)
}

/// `--symmetry-audit`: samples states and checks that the spec is
/// symmetric (`model::symmetry::audit`). An asymmetry ends the run (exit 1,
/// the step or property named with its line); otherwise the check goes on.
fn symmetry_audit(sargs: &SpecArgs, loaded: &Loaded, states: usize) -> Option<Exit> {
    use model::symmetry::{Symmetry, audit};
    let Some(sym) = Symmetry::new(&loaded.model) else {
        errln!("fathom: --symmetry-audit: the spec declares no symmetric type; nothing to audit");
        return None;
    };
    let cfg = audit::AuditConfig { states: states.max(1), seed: 1 };
    let report = audit::audit(&loaded.model, &sym, cfg);
    let Some(f) = report.finding else {
        errln!(
            "fathom: symmetry audit: {} sampled states, {} permutations each, {} comparisons: symmetric",
            report.states,
            report.permutations,
            report.checks
        );
        return None;
    };
    let color = std::io::stderr().is_terminal();
    let diag = model::diagnostic::Diagnostic::error(
        f.span,
        format!("the spec is not symmetric: {}", f.what),
    )
    .label(f.message.clone())
    .note("a symmetric type promises that renaming its values changes nothing; reduce by it only when that holds (or check with --no-symmetry)");
    err!("{}", diag.render(&loaded.source, color));
    errln!(
        "fathom: symmetry audit: asymmetry found after {} comparisons ({} sampled states)",
        report.checks,
        report.states
    );
    if sargs.json {
        outln!(
            "{}",
            report::audit_failed_json(
                &sargs.spec.display().to_string(),
                &loaded.consts,
                &f.what,
                &format!("{}: {}", f.what, f.message),
            )
        );
    }
    Some(Exit::Violation)
}

/// Where a check ran: "cpu" or "gpu", the device's name, and what
/// crossed the host-device boundary.
pub struct RanOn {
    pub backend: &'static str,
    pub device: Option<String>,
    pub gpu: Option<report::GpuSummary>,
}

/// The device search for `--backend gpu|auto`, or why there is none.
fn gpu_search(
    args: &CheckArgs,
    model: &model::Model,
    fp128: bool,
    symmetry: bool,
) -> Result<gpu_kernels::Search, gpu_kernels::GpuError> {
    let gpu = gpu_kernels::Gpu::open(args.allow_software)?;
    // Test and benchmark hooks live in the binary: the library reads no
    // environment. An unreadable fault is refused, not ignored.
    let fault = match std::env::var("FATHOM_GPU_FAULT") {
        Ok(v) => Some(gpu_kernels::Fault::parse(&v).ok_or_else(|| {
            gpu_kernels::GpuError::Unsupported(gpu_kernels::Unsupported::Other(format!(
                "FATHOM_GPU_FAULT={v}: allowed are `alloc` and `lose-at:N`"
            )))
        })?),
        Err(_) => None,
    };
    let sizing = gpu_kernels::Sizing {
        memory_bytes: args.gpu_memory,
        thread_probes: std::env::var("FATHOM_GPU_PROBE").is_ok_and(|v| v == "thread"),
        fault,
        ..gpu_kernels::Sizing::default()
    };
    let opts = gpu_kernels::Options { fp128, symmetry, coverage: args.coverage };
    gpu_kernels::Search::new(Arc::new(gpu), model, opts, sizing)
}

/// Runs or resumes the search with fingerprints of type `F`.
fn explore<F: Fingerprint>(
    args: &CheckArgs,
    loaded: &Loaded,
    config: &SearchConfig,
    pool: &rayon::ThreadPool,
    progress: &Progress,
) -> Result<(Outcome, RanOn), RunError> {
    let from = match &args.resume {
        Some(dir) => {
            let words = model::layout::Layout::new(&loaded.model.bounds).words;
            let identity = identity(args, loaded);
            let r = engine::checkpoint::load::<F>(dir, &identity, words)
                .map_err(|e| resume_error(dir, e))?;
            if args.coverage && r.meta.coverage.is_none() {
                return Err(RunError::Usage(format!(
                    "fathom: --resume {}: the checkpoint was made without --coverage, so its counts would miss the levels before it; resume without --coverage, or start again with it",
                    dir.display()
                )));
            }
            Some(r)
        }
        None => None,
    };
    let fp128 = F::BITS == 128;
    // The device search keeps no state graph: temporal properties are
    // checked on the CPU, which records it.
    let liveness = !loaded.model.temporals.is_empty();
    if liveness && args.backend == BackendArg::Gpu {
        errln!(
            "fathom: the GPU backend does not record the state graph that liveness properties need; checking on the CPU"
        );
    }
    let reduced = engine::symmetry_of(&loaded.model, config).is_some();
    if config.symmetry && liveness && !loaded.model.types.syms.is_empty() {
        errln!(
            "fathom: symmetry reduction is off for specs with temporal properties (a quotient can hide fair cycles); exploring every state"
        );
    }
    let backend = if liveness {
        BackendArg::Cpu
    } else {
        args.backend
    };
    let gpu = match backend {
        BackendArg::Cpu => None,
        BackendArg::Gpu => Some(
            gpu_search(args, &loaded.model, fp128, reduced)
                .map_err(|e| RunError::Environment(format!("fathom: --backend gpu: {e}")))?,
        ),
        // No GPU, or one that cannot run this spec: the CPU, saying why
        // only when there was a GPU to use.
        BackendArg::Auto => match gpu_search(args, &loaded.model, fp128, reduced) {
            Ok(s) => Some(s),
            Err(gpu_kernels::GpuError::NoAdapter(_)) => None,
            Err(e) => {
                errln!("fathom: {e}; using the CPU backend");
                None
            }
        },
    };
    let cpu = CpuBackend::new(&loaded.model);
    let Some(mut dev) = gpu else {
        let outcome = pool.install(|| match from {
            Some(r) => engine::resume::<F>(&loaded.model, config, &cpu, progress, r),
            None => engine::search::<F>(&loaded.model, config, &cpu, progress),
        });
        let ran_on = RanOn { backend: "cpu", device: None, gpu: None };
        return Ok((outcome, ran_on));
    };
    let on_failure = if args.backend == BackendArg::Gpu {
        OnFailure::Stop
    } else {
        OnFailure::UseCpu
    };
    let (outcome, device) = pool.install(|| {
        engine::device::search::<F>(
            &loaded.model,
            config,
            &mut dev,
            &cpu,
            on_failure,
            progress,
            from,
        )
    });
    let ran_on = if device.fell_back {
        RanOn { backend: "cpu", device: None, gpu: None }
    } else {
        RanOn {
            backend: "gpu",
            gpu: Some(report::GpuSummary::of(&device)),
            device: Some(device.device),
        }
    };
    Ok((outcome, ran_on))
}

/// The identity a checkpoint must match to be resumed: the spec's text
/// (hashed), its constants, and the options that change the search.
fn identity(args: &CheckArgs, loaded: &Loaded) -> String {
    let bytes = loaded.source.text.as_bytes();
    let words: Vec<u32> = bytes
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(w)
        })
        .collect();
    let consts: Vec<String> = loaded
        .consts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "spec {:016x} ({} bytes); consts {}; deadlock {}{}; max-depth {:?}{}{}{}",
        model::fingerprint::fingerprint(&words),
        bytes.len(),
        consts.join(","),
        !args.spec.no_deadlock,
        // Identities made before Murphi's stuttering deadlock stay valid.
        match loaded.model.deadlock {
            model::ir::Deadlock::Stuck => "",
            model::ir::Deadlock::Stuttering => " (stuttering)",
        },
        args.max_depth,
        // Only specs with symmetric types have the choice.
        if loaded.model.types.syms.is_empty() {
            String::new()
        } else {
            format!("; symmetry {}", !args.no_symmetry)
        },
        // Only DVE models have the choice; the default adds nothing, so
        // older checkpoints still match.
        if args.spec.dve_errors == defs::DveErrors::State {
            "; dve-errors state"
        } else {
            ""
        },
        // A --continue run's checkpoint holds the violations found so far;
        // one made without would miss them (and the other way round).
        if args.keep_going { "; continue" } else { "" }
    )
}

/// Checkpointing is on when a store is named (`--store`, `--resume`) or an
/// interval is given; SIGINT and SIGTERM then checkpoint and stop.
fn checkpointing(
    args: &CheckArgs,
    loaded: &Loaded,
) -> Result<Option<engine::checkpoint::Checkpointing>, RunError> {
    if args.store.is_none() && args.resume.is_none() && args.checkpoint_every.is_none() {
        return Ok(None);
    }
    let dir = args
        .store
        .clone()
        .or_else(|| args.resume.clone())
        .unwrap_or_else(|| std::path::PathBuf::from("fathom-store"));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| RunError::Environment(format!("fathom: cannot handle signals: {e}")))?;
    }
    Ok(Some(engine::checkpoint::Checkpointing {
        dir,
        // Without --checkpoint-every, only a signal writes a checkpoint.
        every: args.checkpoint_every.unwrap_or(std::time::Duration::MAX),
        stop,
        identity: identity(args, loaded),
        seconds_before: 0.0,
    }))
}

fn resume_error(dir: &std::path::Path, e: engine::checkpoint::ResumeError) -> RunError {
    use engine::checkpoint::ResumeError;
    let msg = format!("fathom: --resume {}: {e}", dir.display());
    match e {
        ResumeError::Store(state_store::StoreError::Missing { .. }) | ResumeError::Mismatch(_) => {
            RunError::Usage(msg)
        }
        _ => RunError::Environment(msg),
    }
}

fn report_check(
    args: &SpecArgs,
    loaded: &Loaded,
    o: &Outcome,
    ran_on: &RanOn,
    args_continue: bool,
) -> Exit {
    let spec = args.spec.display().to_string();
    let result = match o.status {
        Status::Pass => "pass",
        Status::Violation => "violation",
        Status::Bounded => "bounded",
        Status::Stopped => "stopped",
        Status::StoreFailed | Status::BackendFailed => "error",
    };
    let rate = if o.seconds > 0.0 {
        o.distinct as f64 / o.seconds
    } else {
        0.0
    };
    let coverage = report::coverage(&loaded.model, o);
    if let Some((steps, _)) = &coverage {
        for c in steps.iter().filter(|c| c.enabled == 0) {
            errln!(
                "fathom: warning: `{}` was never enabled (its guard never held in a reachable state)",
                c.step
            );
        }
        // A property whose premise never held is never exercised: it
        // holds vacuously, which is usually not what its author meant.
        if let Some((_, props)) = &coverage
            && o.status != Status::Bounded
        {
            for p in props.iter().filter(|p| p.exercised == Some(0)) {
                errln!(
                    "fathom: warning: {} `{}` was never exercised (its premise never held in a reachable state: it holds vacuously)",
                    p.kind,
                    p.property
                );
            }
        }
    }
    if args.json {
        let summary = Summary {
            spec: spec.clone(),
            consts: loaded.consts.clone(),
            result,
            backend: ran_on.backend,
            device: ran_on.device.clone(),
            gpu: ran_on.gpu,
            distinct: o.distinct,
            generated: o.generated,
            depth: o.depth,
            seconds: o.seconds,
            states_per_second: rate,
            collision_probability: o.collision_probability(),
            violation: o.violation.as_ref().map(ViolationSummary::of),
            violations: args_continue
                .then(|| o.violations.iter().map(ViolationSummary::of).collect()),
            error: None,
            disk_fingerprints: o.disk_fingerprints,
            peak_rss_bytes: crate::rss::peak_rss_bytes(),
            liveness: o.liveness,
            coverage: coverage.as_ref().map(|c| c.0.clone()),
            property_coverage: coverage.as_ref().map(|c| c.1.clone()),
            symmetry: report::SymmetrySummary::of(&loaded.model, o.symmetry),
        };
        outln!("{}", report::json_line(&summary));
    } else {
        let consts: Vec<String> = loaded
            .consts
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        outln!(
            "spec: {spec}{}",
            if consts.is_empty() {
                String::new()
            } else {
                format!(" ({})", consts.join(", "))
            }
        );
        outln!("result: {result}");
        outln!(
            "distinct states: {}, generated: {}, depth: {}",
            o.distinct,
            o.generated,
            o.depth
        );
        outln!(
            "time: {:.2}s ({} distinct states/s) on {}",
            o.seconds,
            ui::human(rate),
            match &ran_on.device {
                Some(d) => format!("{} ({d})", ran_on.backend),
                None => ran_on.backend.to_string(),
            }
        );
        outln!(
            "fingerprint collision probability: {:.1e}",
            o.collision_probability()
        );
        if let Some(s) = report::SymmetrySummary::of(&loaded.model, o.symmetry) {
            outln!("{}", s.text());
        }
        if let Some((steps, props)) = &coverage {
            out!("{}", report::coverage_text(steps, props));
        }
        if let Some(l) = &o.liveness {
            outln!(
                "liveness: {} propert{} decided on {} states and {} steps in {:.2}s",
                l.properties,
                if l.properties == 1 { "y" } else { "ies" },
                l.states,
                l.steps,
                l.seconds
            );
        }
    }
    if args_continue && !o.violations.is_empty() {
        for (k, v) in o.violations.iter().enumerate() {
            if let Err(e) = write_violation_numbered(args, loaded, v, k) {
                return fail(args, e);
            }
        }
        return Exit::Violation;
    }
    if let Some(v) = &o.violation {
        if let Err(e) = write_violation(args, loaded, v) {
            return fail(args, e);
        }
        return Exit::Violation;
    }
    // Every status named: a new one must choose its exit code here.
    match o.status {
        Status::Pass | Status::Bounded => Exit::Pass,
        Status::Violation => unreachable!("a violation's outcome carries its violation"),
        Status::Stopped => Exit::Stopped,
        Status::StoreFailed | Status::BackendFailed => Exit::Environment,
    }
}

/// Prints a violation and writes its trace where `--trace-out` and
/// `--trace-format` say (stdout for text, unless `--json` owns stdout).
fn write_violation(args: &SpecArgs, loaded: &Loaded, v: &Violation) -> Result<(), RunError> {
    write_violation_numbered(args, loaded, v, 0)
}

/// [`write_violation`] for the `k`-th (from 0) of several (`--continue`):
/// its trace goes to `--trace-out`'s file with `-{k+1}` before the
/// extension from the second on (`trace.json`, `trace-2.json`, ...).
fn write_violation_numbered(
    args: &SpecArgs,
    loaded: &Loaded,
    v: &Violation,
    k: usize,
) -> Result<(), RunError> {
    let spec = args.spec.display().to_string();
    let head = report::violation_text(v, &loaded.source);
    let trace = v.trace.as_ref().map(|t| match args.trace_format {
        TraceFormat::Text => report::trace_text(&loaded.model, t),
        TraceFormat::Json => report::trace_json(&loaded.model, &spec, v, t),
        TraceFormat::Itf => report::trace_itf(&loaded.model, &spec, v, t),
        TraceFormat::Html => {
            crate::view::page(&crate::view::of_trace(&loaded.model, &spec, &v.message, t))
        }
    });
    if args.json {
        err!("{head}");
    } else {
        out!("{head}");
    }
    let Some(trace) = trace else { return Ok(()) };
    match &args.trace_out {
        Some(path) if k > 0 => write_file(&numbered(path, k + 1), &trace),
        Some(path) => write_file(path, &trace),
        None if args.json => {
            err!("{trace}");
            Ok(())
        }
        None => {
            output::write_block(output::Stream::Stdout, &trace);
            Ok(())
        }
    }
}

/// `dir/name-n.ext` for `dir/name.ext`.
fn numbered(path: &Path, n: usize) -> std::path::PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

fn write_file(path: &Path, text: &str) -> Result<(), RunError> {
    std::fs::write(path, text).map_err(|e| {
        RunError::Environment(format!("fathom: cannot write `{}`: {e}", path.display()))
    })
}

fn simulate(args: &SimulateArgs) -> Exit {
    let sargs = &args.spec;
    let loaded = match load(sargs) {
        Ok(l) => l,
        Err(e) => return fail(sargs, e),
    };
    let config = WalkConfig {
        seed: args.seed,
        walks: args.walks,
        walk_length: args.walk_length,
        deadlock: !sargs.no_deadlock,
    };
    let start = std::time::Instant::now();
    let o = simulate::simulate(&loaded.model, &config);
    let seconds = start.elapsed().as_secs_f64();
    let result = if o.violation.is_some() {
        "violation"
    } else {
        "pass"
    };
    if sargs.json {
        let j = serde_json::json!({
            "spec": sargs.spec.display().to_string(),
            "consts": loaded.consts,
            "result": result,
            "backend": "cpu",
            "seed": args.seed,
            "walks": o.walks,
            "steps": o.steps,
            "seconds": seconds,
            "violation": o.violation.as_ref().map(ViolationSummary::of),
        });
        outln!("{j}");
    } else {
        outln!("spec: {}", sargs.spec.display());
        outln!(
            "result: {result} ({} walks, {} steps, seed {})",
            o.walks,
            o.steps,
            args.seed
        );
    }
    if let Some(v) = &o.violation {
        if let Err(e) = write_violation(sargs, &loaded, v) {
            return fail(sargs, e);
        }
        return Exit::Violation;
    }
    Exit::Pass
}

/// `fathom explore`: serves the page until the process is interrupted.
fn explore_cmd_error(e: RunError) -> Exit {
    err!("{e}");
    if !e.to_string().ends_with('\n') {
        errln!();
    }
    e.exit()
}

fn explore_cmd(args: &defs::ExploreArgs) -> Exit {
    let loaded = match load_spec(&args.spec, &args.consts) {
        Ok(l) => l,
        Err(e) => return explore_cmd_error(e),
    };
    let trace = match &args.trace {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) => {
                return explore_cmd_error(RunError::Usage(format!(
                    "fathom explore: cannot read trace `{}`: {e}",
                    path.display()
                )));
            }
        },
        None => None,
    };
    let spec = args.spec.display().to_string();
    // Reachability questions compile with the spec's text: Fathom specs only.
    let is_fathom = !matches!(
        args.spec.extension().and_then(|e| e.to_str()),
        Some("dve" | "m")
    );
    let source = is_fathom.then(|| {
        let consts = args.consts.iter().cloned().collect();
        (loaded.source.clone(), consts)
    });
    let mut session = match crate::explore::session::Session::new(&loaded.model, &spec, source) {
        Ok(s) => s,
        Err(r) => {
            errln!("fathom explore: {}", r.0);
            return Exit::Spec;
        }
    };
    if let Some(t) = trace
        && let Err(r) = session.load(&t)
    {
        errln!("fathom explore: --trace: {}", r.0);
        return Exit::Usage;
    }
    let served = crate::explore::serve(session, args.port, |url| {
        outln!("{url}");
        errln!(
            "fathom explore: serving {spec} on 127.0.0.1 only; open the address above; Ctrl-C ends it"
        );
    });
    match served {
        Ok(()) => Exit::Pass,
        Err(e) => {
            errln!("fathom explore: {e}");
            Exit::Environment
        }
    }
}
