//! Murphi, the language of CMurphi and Rumur, as a Fathom front end. So
//! far: the lexer and the parser of Rumur's grammar, to a syntax tree
//! ([`ast::Program`]). Lowering to the model IR — Murphi's undefined value,
//! procedures and functions inlined, bounded `while` — is the next step
//! (docs/warts.md), and until it lands `fathom` does not read `.m` files.
//!
//! Data flow: [`lexer`] → [`parser`] ([`ast`]).

pub mod ast;
pub mod lexer;
pub mod parser;

use model::{Diagnostic, Source};

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
