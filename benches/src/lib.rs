//! Benchmarks of Fathom. `benches/expand.rs` (criterion) measures the
//! expansion loop; `compare.py` runs `fathom check` beside TLC and Rumur on
//! the same spec and machine and writes the ratios to `results/`.
