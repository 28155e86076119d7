//! `fathom emit`: a checked process spec to a Rust crate (the `emitter`
//! crate does the writing), and the records of passing checks that let
//! emit skip re-checking.
//!
//! A record is a small JSON file named by the SHA-256 of the spec's text
//! and its constants, under `$FATHOM_CACHE_DIR` (else
//! `$XDG_CACHE_HOME/fathom/passed`, else `~/.cache/fathom/passed`). Every
//! complete passing `fathom check` writes one; `fathom emit` looks for one
//! and runs the check itself when there is none.

use crate::output::{err, errln, outln};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::defs::EmitArgs;
use super::{Exit, Loaded, RunError, load_spec};
use crate::backend::cpu::CpuBackend;
use crate::engine::progress::Progress;
use crate::engine::{self, Outcome, SearchConfig, Status};
use crate::ui::Display;

/// SHA-256 of the spec's text, hex.
pub(super) fn spec_sha256(loaded: &Loaded) -> String {
    hex(&Sha256::digest(loaded.source.text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn consts_text(loaded: &Loaded) -> String {
    let parts: Vec<String> = loaded
        .consts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    parts.join(", ")
}

fn record_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("FATHOM_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    let base = match std::env::var_os("XDG_CACHE_HOME") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(base.join("fathom").join("passed"))
}

/// The record's path for this spec text and these constants.
fn record_path(loaded: &Loaded) -> Option<PathBuf> {
    let mut h = Sha256::new();
    h.update(loaded.source.text.as_bytes());
    h.update([0u8]);
    h.update(consts_text(loaded).as_bytes());
    Some(record_dir()?.join(format!("{}.json", hex(&h.finalize()))))
}

/// Notes a complete passing check (best effort: a record is a shortcut,
/// never needed for a correct answer).
pub(super) fn record_pass(loaded: &Loaded, deadlock: bool, o: &Outcome) {
    if o.status != Status::Pass {
        return;
    }
    let Some(path) = record_path(loaded) else {
        return;
    };
    let record = serde_json::json!({
        "spec": loaded.source.name,
        "spec_sha256": spec_sha256(loaded),
        "consts": loaded.consts,
        "result": "pass",
        "deadlock_checked": deadlock,
        "distinct": o.distinct,
        "generated": o.generated,
        "depth": o.depth,
        "fathom": env!("CARGO_PKG_VERSION"),
    });
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, record.to_string()).is_ok() {
        let _ = std::fs::rename(&tmp, &path);
    }
}

fn find_record(loaded: &Loaded) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(record_path(loaded)?).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    (v["result"] == "pass" && v["spec_sha256"] == spec_sha256(loaded).as_str()).then_some(v)
}

/// How emit knows the spec passed.
enum Checked {
    Record,
    /// Ran it: the distinct states it found.
    Ran(u64),
    Forced,
}

pub(super) fn run(args: &EmitArgs) -> Exit {
    match emit(args) {
        Ok(exit) => exit,
        Err(e) => {
            err!("{e}");
            if !e.to_string().ends_with('\n') {
                errln!();
            }
            e.exit()
        }
    }
}

/// Emits in steps: what cannot be emitted is refused first, then the
/// check on record (or run now), the crate written, the summary printed.
fn emit(args: &EmitArgs) -> Result<Exit, RunError> {
    if crate::frontend::Language::of(&args.spec) != crate::frontend::Language::Fathom {
        return Err(RunError::Spec(format!(
            "fathom emit: `{}` is not a Fathom spec: only Fathom specs with processes, \
             messages and a network can be emitted (check this model with `fathom check`)\n",
            args.spec.display()
        )));
    }
    let loaded = load_spec(&args.spec, &args.consts)?;
    refuse_unemittable(&loaded)?;
    let Some(checked) = ensure_checked(args, &loaded)? else {
        return Ok(Exit::Violation);
    };
    let sha = spec_sha256(&loaded);
    let consts = consts_text(&loaded);
    let origin = emitter::Origin { spec_sha256: &sha, consts: &consts };
    let files = emitter::emit(&loaded.model, &origin, &args.out).map_err(|e| match e {
        emitter::EmitError::Unsupported(d) => RunError::Spec(model::diagnostic::render_all(
            &d,
            &loaded.source,
            std::io::stderr().is_terminal(),
        )),
        emitter::EmitError::Generate(m) => RunError::Spec(format!("fathom emit: {m}")),
        e @ emitter::EmitError::Io { .. } => RunError::Environment(format!("fathom emit: {e}")),
    })?;
    print_summary(args, &loaded, &checked, &sha, &files);
    Ok(Exit::Pass)
}

/// What cannot be emitted is said before any checking.
fn refuse_unemittable(loaded: &Loaded) -> Result<(), RunError> {
    let problems = emitter::check(&loaded.model);
    if problems.is_empty() {
        return Ok(());
    }
    let color = std::io::stderr().is_terminal();
    let mut text = model::diagnostic::render_all(&problems, &loaded.source, color);
    text.push_str(&format!(
        "fathom emit: {} construct(s) in `{}` cannot be emitted\n",
        problems.len(),
        loaded.source.name
    ));
    Err(RunError::Spec(text))
}

/// A passing check on record, or one run now (`None`: it did not pass),
/// or `--force`.
fn ensure_checked(args: &EmitArgs, loaded: &Loaded) -> Result<Option<Checked>, RunError> {
    Ok(Some(if find_record(loaded).is_some() {
        Checked::Record
    } else if args.force {
        errln!(
            "fathom emit: warning: no passing check of `{}` with these constants is on record; emitting anyway (--force)",
            loaded.source.name
        );
        Checked::Forced
    } else {
        errln!(
            "fathom emit: no passing check of `{}` ({}) on record; checking it now",
            loaded.source.name,
            consts_text(loaded)
        );
        let o = run_check(loaded, !args.no_deadlock)?;
        if o.status != Status::Pass {
            let why = match &o.violation {
                Some(v) => format!("{} `{}`: {}", v.kind.as_str(), v.name, v.message),
                None => format!("{:?}", o.status).to_lowercase(),
            };
            errln!(
                "fathom emit: `{}` did not pass its check ({why}); run `fathom check {}` for the trace, fix the spec, or emit anyway with --force",
                loaded.source.name,
                args.spec.display()
            );
            return Ok(None);
        }
        record_pass(loaded, !args.no_deadlock, &o);
        Checked::Ran(o.distinct)
    }))
}

fn print_summary(
    args: &EmitArgs,
    loaded: &Loaded,
    checked: &Checked,
    sha: &str,
    files: &[std::path::PathBuf],
) {
    let consts = consts_text(loaded);
    let crate_name = emitter::crate_name(&loaded.model.name);
    let nodes = loaded.model.node_names();
    let (check, distinct) = match checked {
        Checked::Record => ("record", None),
        Checked::Ran(d) => ("ran", Some(*d)),
        Checked::Forced => ("forced", None),
    };
    if args.json {
        let summary = serde_json::json!({
            "spec": loaded.source.name,
            "consts": loaded.consts,
            "spec_sha256": sha,
            "out": args.out.display().to_string(),
            "crate": crate_name,
            "nodes": nodes,
            "check": check,
            "distinct": distinct,
            "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        });
        outln!("{summary}");
    } else {
        let how = match distinct {
            Some(d) => format!("checked now: {d} distinct states, pass"),
            None if check == "record" => "a passing check is on record".into(),
            None => "not checked: --force".into(),
        };
        outln!(
            "emitted `{}` ({}) to {} ({how})",
            loaded.model.name,
            consts,
            args.out.display()
        );
        outln!(
            "  build: cargo build --release --manifest-path {}/Cargo.toml",
            args.out.display()
        );
        outln!(
            "  run:   {}/target/release/{crate_name} --cluster cluster.txt --node NAME --dir DIR   (one per node)",
            args.out.display()
        );
        outln!("  nodes: {}", nodes.join(", "));
        outln!(
            "  check the run: fathom validate {} DIR/log.jsonl ...",
            args.spec.display()
        );
    }
}

fn run_check(loaded: &Loaded, deadlock: bool) -> Result<Outcome, RunError> {
    let pool = super::thread_pool(None)?;
    let config = SearchConfig {
        deadlock,
        max_depth: None,
        checkpoint: None,
        memory: None,
        coverage: false,
        symmetry: true,
        keep_going: false,
    };
    let progress = Arc::new(Progress::default());
    let display = Display::start(progress.clone(), std::io::stderr().is_terminal());
    let cpu = CpuBackend::new(&loaded.model);
    let o = pool.install(|| engine::search::<u64>(&loaded.model, &config, &cpu, &progress));
    display.finish();
    Ok(o)
}
