//! GPU exploration: WGSL generated from the model IR (`codegen`), and the
//! wgpu runtime that runs it (`runtime`): the adapter, buffers split to the
//! device's limits, the visited table and the bounded dispatches of the
//! fused expand kernel. Knows specs and words, not the engine: the checker
//! adapts it to its `Backend` (`checker::backend::gpu`).

pub mod codegen;

pub use codegen::{Kernel, Options, Unsupported, generate};
pub mod runtime;

pub use runtime::{Explorer, Gpu, GpuError, Sizing, TileOut};
