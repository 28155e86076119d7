//! Which front end reads a spec: chosen by the file's extension
//! (../shared/CLI.md). `.dve` is BEEM's DiVinE language (`lang_dve`); `.m`
//! is Murphi (`lang_murphi`); anything else is the Fathom language
//! (`model`). Each produces the same
//! `ir::Model`, so nothing past this point knows the language.

use std::collections::HashMap;
use std::path::Path;

use model::{CompileError, Model, Source};

/// The spec languages, by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Fathom,
    Dve,
    Murphi,
}

impl Language {
    pub fn of(path: &Path) -> Language {
        match path.extension().and_then(|e| e.to_str()) {
            Some("dve") => Language::Dve,
            Some("m") => Language::Murphi,
            _ => Language::Fathom,
        }
    }
}

/// What the front ends may be told beyond the source (each language reads
/// its own part).
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    pub dve: lang_dve::Options,
}

/// Compiles `source` (read from `path`) with its language's front end.
pub fn compile(
    path: &Path,
    source: &Source,
    overrides: &HashMap<String, i64>,
    options: &Options,
) -> Result<Model, CompileError> {
    compile_noting(path, source, overrides, options).map(|(m, _)| m)
}

/// [`compile`], and notes on how the model was read that change no
/// meaning but a user should know (a Murphi scalarset explored without
/// symmetry, and why), one line each.
pub fn compile_noting(
    path: &Path,
    source: &Source,
    overrides: &HashMap<String, i64>,
    options: &Options,
) -> Result<(Model, Vec<String>), CompileError> {
    match Language::of(path) {
        Language::Dve => Ok((
            lang_dve::compile(source, overrides, &options.dve)?,
            Vec::new(),
        )),
        Language::Murphi => {
            let (m, plain) = lang_murphi::compile_noting(source, overrides)?;
            let notes = plain
                .iter()
                .map(|p| {
                    format!(
                        "scalarset `{}` is explored without symmetry reduction: {} tells its values apart ({})",
                        p.name,
                        p.why,
                        source.location(p.span)
                    )
                })
                .collect();
            Ok((m, notes))
        }
        Language::Fathom => Ok((model::compile(source, overrides)?, Vec::new())),
    }
}
