//! The emitter: a checked process spec (`model::ir::Model` with processes
//! and a network) becomes a standalone Cargo crate whose binary runs one
//! node of the cluster.
//!
//! - `check.rs`: what cannot be emitted faithfully (a step that reads
//!   another instance's variables or the network), as spec diagnostics.
//! - `rust/`: the generated `spec.rs`: IR → Rust, mirroring the reference
//!   evaluator as the GPU code generator does.
//! - `template/` (beside `src/`): the fixed files every crate gets: the
//!   runtime (TCP links, acknowledgements and resends, timers, the client
//!   port, the fsynced step log with vector clocks, restart from the log),
//!   the generated code's prelude, and `main.rs`.
//!
//! The emitted crate depends on nothing but std, so it builds offline.

mod check;
mod rust;

use std::path::{Path, PathBuf};

use model::{Diagnostic, Model};

pub use check::check;

/// The fixed files of every emitted crate: (path in the crate, text).
/// `{{crate}}` and `{{title}}` are filled in.
const TEMPLATE: &[(&str, &str)] = &[
    ("src/main.rs", include_str!("../template/main.rs")),
    ("src/lib.rs", include_str!("../template/lib.rs")),
    ("src/prelude.rs", include_str!("../template/prelude.rs")),
    (
        "src/runtime/mod.rs",
        include_str!("../template/runtime/mod.rs"),
    ),
    (
        "src/runtime/node.rs",
        include_str!("../template/runtime/node.rs"),
    ),
    (
        "src/runtime/links.rs",
        include_str!("../template/runtime/links.rs"),
    ),
    (
        "src/runtime/wire.rs",
        include_str!("../template/runtime/wire.rs"),
    ),
    (
        "src/runtime/log.rs",
        include_str!("../template/runtime/log.rs"),
    ),
    (
        "src/runtime/client.rs",
        include_str!("../template/runtime/client.rs"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    /// What the spec asks that an implementation cannot do.
    #[error("the spec cannot be emitted")]
    Unsupported(Vec<Diagnostic>),
    #[error("cannot generate code: {0}")]
    Generate(String),
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What identifies the spec an emitted crate came from.
pub struct Origin<'a> {
    /// SHA-256 of the spec's text, hex.
    pub spec_sha256: &'a str,
    /// The constants, as `N=3, M=2`.
    pub consts: &'a str,
}

/// The crate's package name for spec `name` (`TwoPhase` -> `two_phase`).
pub fn crate_name(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 && !out.ends_with('_') {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    rust::ident(&out)
}

/// Writes the crate for `m` into `out` (created if needed); returns the
/// files written.
pub fn emit(m: &Model, origin: &Origin, out: &Path) -> Result<Vec<PathBuf>, EmitError> {
    let problems = check::check(m);
    if !problems.is_empty() {
        return Err(EmitError::Unsupported(problems));
    }
    let spec = rust::spec_rs(m, origin.spec_sha256, origin.consts)
        .map_err(|e| EmitError::Generate(e.to_string()))?;
    let name = crate_name(&m.name);
    let cargo = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
         description = \"`{}` ({}) as a cluster of nodes, emitted by fathom\"\n\
         publish = false\n\n[lib]\npath = \"src/lib.rs\"\n\n[[bin]]\nname = \"{name}\"\npath = \"src/main.rs\"\n\n\
         [dependencies]\n\n[profile.release]\ndebug = \"line-tables-only\"\n\n\
         # A crate of its own, not a member of any enclosing workspace.\n[workspace]\n",
        m.name, origin.consts
    );
    let title = format!("`{}` ({})", m.name, origin.consts);
    let mut files = vec![("Cargo.toml", cargo), ("src/spec.rs", spec)];
    for (path, text) in TEMPLATE {
        files.push((
            path,
            text.replace("{{crate}}", &name)
                .replace("{{title}}", &title),
        ));
    }
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|source| EmitError::Io { path: dir.to_path_buf(), source })?;
        }
        std::fs::write(&path, text)
            .map_err(|source| EmitError::Io { path: path.clone(), source })?;
        written.push(path);
    }
    Ok(written)
}
