//! Backends: where a level's frontier is expanded.

pub mod cpu;
