//! The WGSL canonicalization (codegen/symmetry.rs) against the CPU's
//! (`model::symmetry`): on reachable states of specs with symmetric types
//! and on their images, the device picks the CPU's representative, or
//! hands the state to the CPU exactly when its ties need more
//! arrangements than a device thread tries. Run on whatever adapter is
//! there (lavapipe in CI).

use std::collections::{HashMap, HashSet, VecDeque};

use gpu_kernels::Gpu;
use gpu_kernels::codegen::SYMMETRY_CAP;
use gpu_kernels::search::canonical_states;
use model::step::{Fired, Stepper};
use model::symmetry::{Scratch, Symmetry};
use model::{Model, Source};

fn reachable(model: &Model, limit: usize) -> Vec<Vec<i64>> {
    let mut stepper = Stepper::new(model);
    // A few dozen initial states at most, so the sample reaches deeper.
    let init = stepper.initial_states().expect("init");
    let step = (init.len() / 40).max(1);
    let mut queue: VecDeque<Vec<i64>> = init.into_iter().step_by(step).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut next = Vec::new();
    while let Some(s) = queue.pop_front() {
        if out.len() >= limit || !seen.insert(s.clone()) {
            continue;
        }
        for i in 0..model.instance_count() {
            if stepper.fire(i, &s, &mut next) == Ok(Fired::Enabled) {
                queue.push_back(next.clone());
            }
        }
        out.push(s);
    }
    out
}

/// model/tests/symmetry/relations.fathom: pointers, pairs in a set, a
/// sequence, a matrix and a second symmetric type.
fn relations() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../model/tests/symmetry/relations.fathom");
    std::fs::read_to_string(p).expect("read the fixture")
}

fn spec(name: &str) -> String {
    let p =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../specs/{name}.fathom"));
    std::fs::read_to_string(p).expect("read spec")
}

fn murphi(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../benches/murphi")
        .join(name);
    std::fs::read_to_string(p).expect("read model")
}

#[test]
fn wgsl_representatives_equal_the_cpus() {
    let gpu = Gpu::open(true).expect("a GPU adapter (CI installs lavapipe: mesa-vulkan-drivers)");
    // (name, spec text, constants)
    type Case = (&'static str, String, Vec<(&'static str, i64)>);
    let cases: Vec<Case> = vec![
        ("relations", relations(), vec![]),
        ("ring", spec("ring_sym"), vec![]),
        ("ring7", spec("ring_sym"), vec![("N", 7)]),
        ("two_phase_sym", spec("two_phase_sym"), vec![("N", 5)]),
        ("tcommit_sym", spec("tcommit_sym"), vec![]),
        ("german_sym", spec("german_sym"), vec![("NodeNum", 3)]),
        // Murphi: scalarset slots also hold undefined, which no
        // permutation moves (ir::Ty::OptSym).
        (
            "german.m",
            murphi("german.m"),
            vec![("NodeNum", 3), ("DataNum", 2)],
        ),
    ];
    for (name, text, consts) in cases {
        let consts: HashMap<String, i64> =
            consts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let source = Source::new(name, text);
        let model = if name.ends_with(".m") {
            lang_murphi::compile(&source, &consts)
        } else {
            model::compile(&source, &consts)
        }
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let sym = Symmetry::new(&model).expect("symmetric");
        let mut states = reachable(&model, 1500);
        // Images too: the device must map a whole orbit to one state.
        let perms = sym.all_perms();
        let mut image = Vec::new();
        for (i, s) in states.clone().iter().enumerate().take(500) {
            sym.apply(s, &perms[(i * 7919) % perms.len()], &mut image);
            states.push(image.clone());
        }
        let flat: Vec<i32> = states.iter().flatten().map(|&v| v as i32).collect();
        let got = canonical_states(&gpu, &model, &flat).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.len(), states.len());
        let (mut scratch, mut canon) = (Scratch::default(), Vec::new());
        let mut handed = 0;
        for (s, g) in states.iter().zip(&got) {
            let (_, effort) = sym.canonicalize(s, &mut scratch, &mut canon);
            match g {
                Some(g) => {
                    let g: Vec<i64> = g.iter().map(|&v| i64::from(v)).collect();
                    assert_eq!(g, canon, "{name}: the device's representative of {s:?}");
                }
                None => {
                    handed += 1;
                    assert!(
                        effort.tried > u64::from(SYMMETRY_CAP),
                        "{name}: the device gave up on {s:?}, which takes {} arrangements",
                        effort.tried
                    );
                }
            }
        }
        if name == "ring7" {
            assert!(handed > 0, "ring7: states past the cap go to the CPU");
        } else {
            assert_eq!(handed, 0, "{name}: every state within the cap");
        }
    }
}
