//! The `fathom` binary and its library: the exploration engine
//! ([`engine`]), the CPU backend ([`backend::cpu`]), random simulation,
//! reports and traces, and the command line ([`cli`]).
//!
//! Only this crate knows flags, JSON and exit codes; the spec language and
//! the reference evaluator live in `model`, other languages in their own
//! crates ([`frontend`] picks one by extension).

pub mod backend;
pub mod cli;
pub mod engine;
pub mod explore;
pub mod frontend;
pub mod liveness;
pub mod output;
pub mod report;
pub mod rss;
pub mod simulate;
pub mod ui;
pub mod validate;
pub mod view;
