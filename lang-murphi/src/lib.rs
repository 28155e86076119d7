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

use std::collections::HashMap;

use model::{CompileError, CompileOptions, Diagnostic, Model, Source};

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
    let mut lw = lower::Lowerer::new(overrides);
    match lw.lower(&program, &stem, assumes) {
        Some(m) if lw.diagnostics.is_empty() => Ok(model::finish(m, CompileOptions::default())),
        _ => Err(CompileError::Spec(lw.diagnostics)),
    }
}
