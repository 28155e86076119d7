//! {{title}}: a cluster of nodes, one per process instance of the spec,
//! emitted by `fathom emit`. Copied by `fathom emit`.
//!
//! - `spec`: generated from the spec: its constants, its message variants
//!   and a module per process with a guard, a body and binders per step;
//! - `runtime`: the node (TCP links, the step log, timers, the client
//!   port); `runtime::start` runs one inside another program and returns a
//!   [`runtime::Handle`] whose `input` calls the process's `input` steps;
//! - `prelude`: what `spec` is written in.

pub mod prelude;
pub mod runtime;
pub mod spec;
