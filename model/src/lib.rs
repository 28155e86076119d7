//! The Fathom spec language: lexer, parser, diagnostics, types, lowering to
//! the model IR, the packed state layout, the fingerprint, and the
//! reference evaluator.
//!
//! Entry point: [`compile`] turns a [`Source`] into a [`Model`] or a list of
//! [`Diagnostic`]s. This crate does no IO beyond what its caller hands it,
//! and knows nothing of search, threads, GPUs or storage.
//!
//! The data flow: [`lexer`] → [`parser`] (syntax tree, [`ast`]) → `lower`
//! (names, types, constants) → [`ir::Model`]. [`layout::Layout`] packs a
//! model's flat states into u32 words; [`fingerprint`] hashes them;
//! [`eval::Evaluator`] runs guards, bodies and properties;
//! [`symmetry::Symmetry`] permutes states and finds their orbits'
//! canonical representatives.

pub mod ast;
pub mod diagnostic;
pub mod eval;
pub mod fingerprint;
pub mod ir;
pub mod layout;
pub mod lexer;
mod lower;
pub mod parser;
pub mod span;
pub mod step;
pub mod symmetry;
pub mod value;

use std::collections::HashMap;

pub use diagnostic::Diagnostic;
pub use ir::Model;
pub use span::{Source, Span};

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("the spec has {} error(s)", .0.len())]
    Spec(Vec<Diagnostic>),
    #[error("the spec has no constant `{name}` (its constants: {known})")]
    UnknownConst { name: String, known: String },
}

/// How to compile; `CompileOptions::default()` is what the checker uses.
#[derive(Clone, Copy, Debug)]
pub struct CompileOptions {
    /// Run the meaning-preserving IR simplification (tests turn it off to
    /// compare against it).
    pub simplify: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions { simplify: true }
    }
}

/// Parses, checks and lowers a spec. `overrides` replace `const` values.
pub fn compile(source: &Source, overrides: &HashMap<String, i64>) -> Result<Model, CompileError> {
    compile_with(source, overrides, CompileOptions::default())
}

/// Every overridden constant must be one of `consts` (any front end's).
pub fn check_overrides(
    consts: &[&str],
    overrides: &HashMap<String, i64>,
) -> Result<(), CompileError> {
    let mut names: Vec<&String> = overrides.keys().collect();
    names.sort();
    match names.into_iter().find(|n| !consts.contains(&n.as_str())) {
        None => Ok(()),
        Some(name) => {
            let known = if consts.is_empty() {
                "none".to_string()
            } else {
                consts.join(", ")
            };
            Err(CompileError::UnknownConst { name: name.clone(), known })
        }
    }
}

/// What [`compile`] does after lowering, for front ends of other languages
/// that build a [`Model`] themselves (`lang-dve`, ...): checks the model's
/// shape, seals its types and simplifies its IR.
pub fn finish(mut model: Model, options: CompileOptions) -> Model {
    model.assert_shape();
    model.types.seal();
    if options.simplify {
        lower::simplify_model(&mut model);
    }
    model
}

pub fn compile_with(
    source: &Source,
    overrides: &HashMap<String, i64>,
    options: CompileOptions,
) -> Result<Model, CompileError> {
    let mut diagnostics = Vec::new();
    let tokens = lexer::lex(&source.text, &mut diagnostics);
    let file = parser::parse(&tokens, &mut diagnostics);
    let consts: Vec<&str> = file
        .items
        .iter()
        .filter_map(|i| match i {
            ast::Item::Const { name, .. } => Some(name.name.as_str()),
            _ => None,
        })
        .collect();
    check_overrides(&consts, overrides)?;
    if !diagnostics.is_empty() {
        return Err(CompileError::Spec(diagnostics));
    }
    let stem = std::path::Path::new(&source.name)
        .file_stem()
        .map_or("spec".to_string(), |s| s.to_string_lossy().into_owned());
    match lower::lower(&file, &stem, overrides, options, &mut diagnostics) {
        Some(model) if diagnostics.is_empty() => Ok(model),
        _ => {
            // A `fn` is lowered at each call: an error in its body is found
            // once per call, but reported once.
            let mut seen = std::collections::HashSet::new();
            diagnostics.retain(|d| seen.insert((d.message.clone(), d.primary_span())));
            Err(CompileError::Spec(diagnostics))
        }
    }
}
