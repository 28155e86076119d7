//! The GPU backend against the CPU backend, the oracle: every run of the
//! spec suite (specs/*.expect.toml, whose counts come from TLC, Rumur or
//! SPIN) is checked on the GPU — lavapipe in CI — and must give the CPU's
//! result, distinct and generated counts, depth and violation (kind, name,
//! trace length), with a trace that re-executes. Each run is done twice:
//! with a visited table that holds the run, and with a 4 KiB table and
//! 128-bit fingerprints under `--memory 1K` (the table fills and is cleared
//! again and again, probes run out, and every store tier spills).
//!
//! Traces are the CPU's, step for step: among a dispatch's duplicates the
//! host keeps the CPU's choice of parent. On a passing run no chunk may
//! fall back to the CPU: the kernel did the expanding.
//!
//! Without any Vulkan adapter the suite says so and stops, unless
//! FATHOM_GPU_TESTS=required (CI sets it), where that is a failure. A run
//! marked `software_gpu = false` in its expect file (two in all, at most)
//! is left to hardware adapters: a smaller run of the same spec stays in.

use std::sync::Arc;

use checker::backend::gpu::{GpuBackend, OnFailure};
use checker::engine::backend::Fingerprint;
use checker::engine::progress::Progress;
use checker::engine::{self, Outcome, SearchConfig, Status};
use gpu_kernels::runtime::Stats;
use gpu_kernels::{Explorer, Gpu, Sizing};
use model::Model;

mod common;
use common::*;

fn open_gpu() -> Option<Arc<Gpu>> {
    match Gpu::open(true) {
        Ok(g) => Some(Arc::new(g)),
        Err(e) if std::env::var("FATHOM_GPU_TESTS").as_deref() != Ok("required") => {
            eprintln!("GPU tests not run: {e} (install mesa-vulkan-drivers for lavapipe)");
            None
        }
        Err(e) => panic!("FATHOM_GPU_TESTS=required but {e}"),
    }
}

fn gpu_search<F: Fingerprint>(
    gpu: &Arc<Gpu>,
    model: &Model,
    config: &SearchConfig,
    table_bytes: u64,
) -> (Outcome, u64, Stats) {
    let explorer = Explorer::new(
        gpu.clone(),
        model,
        F::BITS == 128,
        Sizing {
            table_bytes: Some(table_bytes),
            output_bytes: Some(8 << 20),
        },
    )
    .expect("the kernel builds for every spec");
    let backend = GpuBackend::new(model, explorer, OnFailure::Stop);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("thread pool");
    let o = pool.install(|| engine::search::<F>(model, config, &backend, &Progress::default()));
    let stats = backend
        .device_stats()
        .expect("the device ran the whole search");
    (o, backend.cpu_reruns(), stats)
}

#[test]
fn gpu_backend_gives_the_cpus_answers() {
    let Some(gpu) = open_gpu() else { return };
    eprintln!("GPU tests on {}", gpu.name);
    let mut runs = 0;
    let mut left = 0;
    each_run(|spec, _, run, model, cfg| {
        let what = format!("{spec} {:?} {:?}", run.consts, run.args);
        if gpu.software && !run.software_gpu {
            eprintln!("{what}: left to a hardware GPU (software_gpu = false)");
            left += 1;
            return;
        }
        let cpu = search(model, cfg, 1);
        let roomy = gpu_search::<u64>(&gpu, model, cfg, 16 << 20);
        let tiny = gpu_search::<u128>(
            &gpu,
            model,
            &SearchConfig {
                memory: Some(1024),
                ..cfg.clone()
            },
            4096,
        );
        for ((o, reruns, stats), name) in [
            (&roomy, "16 MiB table"),
            (&tiny, "4 KiB table, --memory 1K, 128-bit"),
        ] {
            assert_eq!(result_name(o.status), run.result, "{what} ({name}): result");
            assert_eq!(
                (o.status, o.distinct, o.generated, o.depth),
                (cpu.status, cpu.distinct, cpu.generated, cpu.depth),
                "{what} ({name}): GPU vs CPU"
            );
            assert_eq!(
                violation_key(o),
                violation_key(&cpu),
                "{what} ({name}): violation"
            );
            assert_eq!(
                trace_labels(o),
                trace_labels(&cpu),
                "{what} ({name}): the CPU's trace, step for step"
            );
            if o.status == Status::Pass {
                assert_eq!(*reruns, 0, "{what} ({name}): no chunk left the GPU");
            }
            // The 4 KiB table holds 128 slots: past 64 inserts it is cleared
            // at the next dispatch, and nothing may be lost by it.
            if name.starts_with("4 KiB") && o.distinct > 1024 {
                assert!(stats.table_clears > 0, "{what} ({name}): the table filled");
            }
            verify_trace(model, o);
        }
        runs += 1;
    });
    assert!(runs >= 10, "the suite's runs were checked");
    assert!(left <= 2, "most runs are checked on every adapter");
    println!("{runs} spec runs checked on the GPU, {left} left to hardware");
}
