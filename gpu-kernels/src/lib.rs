//! GPU exploration: WGSL generated from the model IR (`codegen`), the
//! device (`device`), and the device-resident breadth-first search
//! (`search`): the frontier, the next frontier and an authoritative
//! visited table in device memory, a level at a time. Knows specs and
//! words, not the engine: the checker drives it
//! (`checker::engine::device`, through `checker::backend::gpu`).

pub mod codegen;
pub mod device;
pub mod search;

pub use codegen::{ModelCode, Options, Unsupported, generate};
pub use device::{Gpu, GpuError};
pub use search::{Fault, Search, SegmentEnd, SegmentIn, SegmentOut, Sizing, Stats, Transfers};
