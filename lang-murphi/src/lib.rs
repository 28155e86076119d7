//! Murphi, the language of CMurphi and Rumur, as a Fathom front end:
//! [`compile`] turns a `.m` file into an [`ir::Model`](model::ir::Model)
//! with their meaning (docs/murphi.md): every variable starts undefined and
//! undefined is a value of its own (reading it is an error); rulesets are
//! rule parameters; procedures and functions are inlined; `while` has
//! Murphi's iteration limit. So Rumur's states are `distinct`, and its rules
//! fired are `generated` less the initial states.
//!
//! Data flow: [`lexer`] → [`parser`] ([`ast`]) → `assume` (a rewrite of
//! the tree) → `lower` → `model::finish`.

mod assume;
pub mod ast;
pub mod lexer;
mod lower;
pub mod parser;

use std::collections::{HashMap, HashSet};

use model::{CompileError, CompileOptions, Diagnostic, Model, Source, Span};

/// Parses a Murphi model: its syntax tree, or the diagnostics (a lexical
/// error each, or the first syntax error).
pub fn parse(source: &Source) -> Result<ast::Program, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let tokens = lexer::lex(&source.text, &mut diagnostics);
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    parser::parse(&tokens).map_err(|d| vec![d])
}

/// Parses and lowers a Murphi model. `overrides` replace global `const`s.
pub fn compile(source: &Source, overrides: &HashMap<String, i64>) -> Result<Model, CompileError> {
    compile_noting(source, overrides).map(|(m, _)| m)
}

/// A scalarset the model tells values of apart, so it is explored as a
/// plain range, not a symmetric type: its name and the first such use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlainScalarset {
    pub name: String,
    pub span: Span,
    pub why: &'static str,
}

/// [`compile`], and the scalarsets that could not be symmetric types.
///
/// Scalarsets are symmetric (docs/murphi.md) unless the model tells their
/// values apart: orders them, mixes them with numbers or other types, or
/// `clear`s them. Lowering notes such uses; the model is then lowered
/// again with those scalarsets as plain ranges (declaration numbers are the
/// same in both passes, so the second pass finds nothing new).
pub fn compile_noting(
    source: &Source,
    overrides: &HashMap<String, i64>,
) -> Result<(Model, Vec<PlainScalarset>), CompileError> {
    let mut program = parse(source).map_err(CompileError::Spec)?;
    let assumes = assume::desugar(&mut program).map_err(|spans| {
        let what = "`assume` in a loop, an `alias` or a function with a value \
                    (or in a procedure called there)";
        CompileError::Spec(
            spans
                .into_iter()
                .map(|s| lower::unsupported(s, what))
                .collect(),
        )
    })?;
    let consts: Vec<&str> = program
        .nodes
        .iter()
        .filter_map(|n| match n {
            ast::Node::Decl(ast::Decl::Const(name, _)) => Some(name.name.as_str()),
            _ => None,
        })
        .collect();
    model::check_overrides(&consts, overrides)?;
    let stem = std::path::Path::new(&source.name)
        .file_stem()
        .map_or("model".to_string(), |s| s.to_string_lossy().into_owned());
    let mut plain = HashSet::new();
    loop {
        let mut lw = lower::Lowerer::new(overrides, &plain);
        let lowered = lw.lower(&program, &stem, assumes);
        let m = match lowered {
            Some(m) if lw.diagnostics.is_empty() => m,
            _ => return Err(CompileError::Spec(lw.diagnostics)),
        };
        let told: HashSet<u32> = lw.asymmetric.iter().map(|(d, _, _)| *d).collect();
        if told.is_subset(&plain) {
            let names: Vec<(&str, bool)> = lw.scalarsets().collect();
            let mut notes: Vec<PlainScalarset> = Vec::new();
            for (d, span, why) in &lw.asymmetric {
                let name = names[*d as usize].0.to_string();
                if !notes.iter().any(|n| n.name == name) {
                    notes.push(PlainScalarset { name, span: *span, why });
                }
            }
            debug_assert!(
                names
                    .iter()
                    .enumerate()
                    .all(|(d, (_, sym))| *sym != plain.contains(&(d as u32)))
            );
            return Ok((model::finish(m, CompileOptions::default()), notes));
        }
        plain.extend(told);
    }
}
