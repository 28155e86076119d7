//! DVE, the modelling language of DiVinE and of the BEEM benchmark set, as
//! a Fathom front end: [`compile`] turns a `.dve` file into an
//! [`ir::Model`](model::ir::Model) that every backend runs unchanged.
//!
//! The meaning is DiVinE's (docs/dve.md has the details and what does not
//! carry over): a process is a state variable over its `state`s plus its
//! local variables; each transition is a rule guarded by "in its source
//! state" and its `guard`; a rendezvous on a channel is one rule per
//! (sender, receiver) pair of transitions in different processes; a
//! buffered channel is a FIFO sequence; while any process is in a
//! `commit` state, only transitions out of committed states run; storing a
//! value outside `byte` (0..255) or `int` (-32768..32767) is a range error,
//! as DiVinE's overflow error (or, with [`Options::error_state`], DiVinE 2's
//! error state). A `system sync` step is one rule whose parameters pick a
//! transition per process. So BEEM's state count is `distinct`, and its
//! transition count is `generated` minus the initial state.
//!
//! Data flow: [`lexer`] → [`parser`] ([`ast`]) → `lower` → `model::finish`.

pub mod ast;
pub mod lexer;
mod lower;
pub mod parser;

use std::collections::HashMap;

use model::{CompileError, CompileOptions, Model, Source};

/// How runtime errors behave (docs/dve.md, "runtime errors").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `false` (the default): a value outside its type, an index outside
    /// its array or a division by zero is an error, reported with its trace
    /// (as DiVinE 3). `true`: DiVinE 2's meaning, which BEEM's counts
    /// have — the step leads to one shared error state (every variable
    /// zero, the first process in an extra state `<error>`), and the search
    /// goes on from it.
    pub error_state: bool,
}

/// Parses and lowers a DVE file. `overrides` replace global scalar `const`s.
pub fn compile(
    source: &Source,
    overrides: &HashMap<String, i64>,
    options: &Options,
) -> Result<Model, CompileError> {
    compile_with(source, overrides, options, CompileOptions::default())
}

pub fn compile_with(
    source: &Source,
    overrides: &HashMap<String, i64>,
    options: &Options,
    compile: CompileOptions,
) -> Result<Model, CompileError> {
    let mut diagnostics = Vec::new();
    let tokens = lexer::lex(&source.text, &mut diagnostics);
    if !diagnostics.is_empty() {
        return Err(CompileError::Spec(diagnostics));
    }
    let system = parser::parse(&tokens).map_err(|d| CompileError::Spec(vec![d]))?;
    let consts: Vec<&str> = system
        .decls
        .iter()
        .filter(|d| d.is_const && d.size.is_none())
        .map(|d| d.name.name.as_str())
        .collect();
    model::check_overrides(&consts, overrides)?;
    let stem = std::path::Path::new(&source.name)
        .file_stem()
        .map_or("model".to_string(), |s| s.to_string_lossy().into_owned());
    let mut lw = lower::Lowerer::new(overrides, options);
    match lw.lower(&system, &stem) {
        Some(model) if lw.diagnostics.is_empty() => Ok(model::finish(model, compile)),
        _ => Err(CompileError::Spec(lw.diagnostics)),
    }
}
