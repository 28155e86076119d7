//! The expansion loop: firing every rule instance of every state of a
//! level, and a whole single-threaded search, on TwoPhase (5 RMs).

use std::collections::HashMap;

use checker::backend::cpu::CpuBackend;
use checker::engine::progress::Progress;
use checker::engine::{self, SearchConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::Source;
use model::step::{Fired, Stepper};

fn two_phase(n: i64) -> model::Model {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/two_phase.fathom");
    let text = std::fs::read_to_string(path).expect("specs/two_phase.fathom");
    let consts = HashMap::from([("N".to_string(), n)]);
    model::compile(&Source::new(path, text), &consts).expect("compiles")
}

fn bench(c: &mut Criterion) {
    let model = two_phase(5);
    let config = SearchConfig {
        deadlock: true,
        max_depth: None,
        checkpoint: None,
        memory: None,
        coverage: false,
        symmetry: true,
        keep_going: false,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let backend = CpuBackend::new(&model);

    // A level's worth of states to expand: every state of a search to depth 9.
    let mut stepper = Stepper::new(&model);
    let mut states = stepper.initial_states().expect("initial states");
    let mut next = Vec::new();
    for _ in 0..8 {
        let mut level = Vec::new();
        for s in &states {
            for i in 0..model.instance_count() {
                if stepper.fire(i, s, &mut next) == Ok(Fired::Enabled) && !level.contains(&next) {
                    level.push(next.clone());
                }
            }
        }
        states = level;
    }
    let mut group = c.benchmark_group("two_phase_n5");
    group.throughput(Throughput::Elements(states.len() as u64));
    group.bench_function("fire_every_instance_of_a_level", |b| {
        b.iter(|| {
            let mut enabled = 0u64;
            for s in &states {
                for i in 0..model.instance_count() {
                    if stepper.fire(i, s, &mut next) == Ok(Fired::Enabled) {
                        enabled += 1;
                    }
                }
            }
            enabled
        })
    });
    group.throughput(Throughput::Elements(8832));
    group.sample_size(20);
    group.bench_function("search_1_thread", |b| {
        b.iter(|| {
            let o = pool
                .install(|| engine::search::<u64>(&model, &config, &backend, &Progress::default()));
            assert_eq!(o.distinct, 8832, "TLC's count for 5 RMs");
            o.generated
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
