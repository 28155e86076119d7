//! The one walker of the model IR that turns expressions, places and
//! statements into straight-line code over flat slot arrays, mirroring the
//! reference evaluator (`model::eval`). Two targets use it: the GPU's WGSL
//! (`gpu-kernels`) and the emitted Rust (`emitter`); a [`Dialect`] says
//! how each writes a literal, a loop, a failure, a checked call.
//!
//! Flat values live in three arrays — `s` (the state being read or
//! written), `fr` (the local frame) and `stk` (a value stack whose offsets
//! are allocated here, at generation time). Every check the evaluator
//! makes (ranges, bounds, division by zero, overflow, empty sequences)
//! becomes the dialect's failure: an error flag on the GPU, an early
//! `Err(Fault)` in Rust.
//!
//! - [`Gen`]: the output, indentation, temporaries and the stack and frame
//!   sizes a function needs;
//! - `expr.rs`: expressions, places, statements;
//! - `values.rs`: value numbering (a value's index among its type's values
//!   and back), as `model::ir::Types::{value_index, value_at}`.

mod expr;
mod values;

use model::ir::Model;

#[derive(Debug, thiserror::Error)]
pub enum Unsupported {
    #[error("the constant {0} does not fit the target's integers")]
    Constant(i64),
    #[error("{0}")]
    Other(String),
}

pub type R<T> = Result<T, Unsupported>;

/// How a target language writes what the walker needs.
pub trait Dialect {
    /// An integer literal of the value type (an error when the target's
    /// integers cannot hold it).
    fn lit(&self, v: i64) -> R<String>;
    /// A small non-negative number (an offset, a count) in the value type.
    fn num(&self, v: u64) -> String;
    /// A boolean expression as 0 or 1 of the value type.
    fn int_of(&self, b: &str) -> String;
    /// A mutable variable with an initial value.
    fn var(&self, name: &str, init: &str) -> String;
    /// A variable assigned later on every path.
    fn decl(&self, name: &str) -> String;
    /// The opening of a loop of `j` over `lo..hi` (value-type expressions).
    fn for_range(&self, j: &str, lo: &str, hi: &str) -> String;
    /// The opening of a loop of `j` over `0..n`, downwards.
    fn for_down(&self, j: &str, n: &str) -> String;
    /// The opening of a loop of `j` over `0..n` in steps of `step`.
    fn for_step(&self, j: &str, n: &str, step: &str) -> String;
    /// `v` plus one, as a statement.
    fn incr(&self, v: &str) -> String;
    /// The statement that reports a failed check.
    fn fail(&self) -> &'static str;
    /// The statement that records reachable property `reachable` as met
    /// (`Stmt::Cover`); a target that keeps no such record writes none.
    fn cover(&self, reachable: u32) -> String;
    /// Appended to a call of a checked helper (`add_ck`, `elem`, ...).
    fn checked(&self) -> &'static str;
    /// Put first in a loop body: stops the loop after a failure (a target
    /// whose failure does not return at once).
    fn loop_guard(&self) -> Option<&'static str>;
    /// Whether `v` lies in `lo..lo + count` (`lo` a literal, `count` a
    /// number).
    fn in_range(&self, v: &str, lo: &str, count: u64) -> String;
    /// `v - lo` for `v` known to be at least `lo`.
    fn diff(&self, v: &str, lo: &str) -> String;
    /// Bit `j` (a loop variable) of `index`.
    fn bit_of(&self, index: &str, j: &str) -> String;
    /// The bounds a stored value must be checked against, or `None` when
    /// every value of the target's integers is inside.
    fn bounds(&self, lo: i64, hi: i64) -> Option<(i64, i64)>;
    /// Whether a `send` is handed to the target (the emitted runtime
    /// carries messages) rather than run as the network update it lowers to.
    fn captures_sends(&self) -> bool;
    /// A captured `send`'s statement: destination value, the message on
    /// the stack at `sp`, `len` slots.
    fn send(&self, dst: &str, sp: u32, len: u32) -> String;
}

/// Generated code being written for a model.
pub struct Gen<'m, D: Dialect> {
    pub m: &'m Model,
    pub d: D,
    pub out: String,
    pub depth: usize,
    next_tmp: u32,
    pub max_stack: u32,
    pub max_frame: u32,
}

impl<'m, D: Dialect> Gen<'m, D> {
    pub fn new(m: &'m Model, d: D) -> Self {
        Gen {
            m,
            d,
            out: String::new(),
            depth: 0,
            next_tmp: 0,
            max_stack: 1,
            max_frame: 1,
        }
    }

    pub fn types(&self) -> &'m model::ir::Types {
        &self.m.types
    }

    pub fn line(&mut self, s: impl AsRef<str>) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(s.as_ref());
        self.out.push('\n');
    }

    /// A line that opens a block.
    pub fn open(&mut self, s: impl AsRef<str>) {
        self.line(s);
        self.depth += 1;
    }

    /// `} else {` and the like.
    pub fn reopen(&mut self, s: &str) {
        assert!(self.depth > 0, "`{s}` continues an open block");
        self.depth -= 1;
        self.line(s);
        self.depth += 1;
    }

    pub fn close(&mut self) {
        assert!(self.depth > 0, "a block is open to close");
        self.depth -= 1;
        self.line("}");
    }

    pub fn tmp(&mut self) -> String {
        self.next_tmp += 1;
        format!("t{}", self.next_tmp)
    }

    pub fn stack(&mut self, top: u32) {
        self.max_stack = self.max_stack.max(top);
    }

    pub fn frame(&mut self, top: u32) {
        self.max_frame = self.max_frame.max(top);
    }

    /// `let tN = <value>;`, returning tN.
    pub fn bind_tmp(&mut self, value: &str) -> String {
        let t = self.tmp();
        self.line(format!("let {t} = {value};"));
        t
    }

    /// A literal of the dialect (shorthand).
    pub fn lit(&self, v: i64) -> R<String> {
        self.d.lit(v)
    }

    fn num(&self, v: impl Into<u64>) -> String {
        self.d.num(v.into())
    }
}
