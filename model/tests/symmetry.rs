//! Canonical representatives are exact. For every spec with symmetric types
//! (the corpus's and specs written to defeat signatures: pointers between
//! values, sets of pairs, sequences, two symmetric types, a ring), every
//! reachable state is canonicalized: the representative is an image of the
//! state, images of the state canonicalize alike, and the number of
//! distinct representatives equals the number of orbits counted by brute
//! force (the least image under every permutation of the group).

use std::collections::{HashMap, HashSet, VecDeque};

use model::step::{Fired, Stepper};
use model::symmetry::{Scratch, Symmetry};
use model::{Model, Source};

fn corpus() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let relations =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/symmetry/relations.fathom");
    let mut out = vec![(
        "relations".to_string(),
        std::fs::read_to_string(relations).expect("read the fixture"),
    )];
    // ring_sym: every value alike by signature and no transposition
    // exchanging two of them, the worst case of the search among ties.
    for name in ["ring_sym", "two_phase_sym", "tcommit_sym", "german_sym"] {
        let p = dir.join(format!("{name}.fathom"));
        out.push((
            name.to_string(),
            std::fs::read_to_string(&p).expect("read spec"),
        ));
    }
    out
}

fn reachable(model: &Model, limit: usize) -> Vec<Vec<i64>> {
    let mut stepper = Stepper::new(model);
    let mut queue: VecDeque<Vec<i64>> = stepper.initial_states().expect("init").into();
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

#[test]
fn representatives_are_the_least_images() {
    for (name, text) in corpus() {
        let consts: HashMap<String, i64> = if name == "german_sym" {
            HashMap::from([("NodeNum".to_string(), 3)])
        } else {
            HashMap::new()
        };
        let model = model::compile(&Source::new(name.clone(), text), &consts)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let sym = Symmetry::new(&model).expect("symmetric");
        assert!(sym.flat_is_affine(), "{name}: the GPU can move every slot");
        let perms = sym.all_perms();
        assert_eq!(perms.len() as u64, sym.group_order().expect("small"));
        let states = reachable(&model, 6_000);
        assert!(states.len() > 20, "{name}: a real state space");
        let mut scratch = Scratch::default();
        let (mut canon, mut image, mut other) = (Vec::new(), Vec::new(), Vec::new());
        let mut orbits = HashSet::new();
        let mut brute_orbits = HashSet::new();
        let mut tried_more = 0;
        for s in &states {
            let (perm, effort) = sym.canonicalize(s, &mut scratch, &mut canon);
            tried_more += usize::from(effort.tried > 1);
            sym.apply(s, &perm, &mut image);
            assert_eq!(
                image, canon,
                "{name}: the permutation returned maps to the representative"
            );
            let brute = perms
                .iter()
                .map(|p| {
                    sym.apply(s, p, &mut image);
                    image.clone()
                })
                .min()
                .expect("a permutation");
            for p in perms.iter().step_by(3) {
                sym.apply(s, p, &mut image);
                // The flat table (the GPU's description) moves alike.
                let flat = sym.apply_flat(s, p).expect("affine");
                assert_eq!(flat, image, "{name}: the flat table permutes alike");
                sym.canonicalize(&image, &mut scratch, &mut other);
                assert_eq!(other, canon, "{name}: an image canonicalizes alike");
            }
            orbits.insert(canon.clone());
            brute_orbits.insert(brute);
        }
        assert_eq!(orbits.len(), brute_orbits.len(), "{name}: orbits");
        assert!(orbits.len() < states.len(), "{name}: symmetry reduces");
        if name == "relations" || name == "ring" {
            assert!(tried_more > 0, "{name}: exercises the search among ties");
        }
    }
}

#[test]
fn instances_permute_with_states() {
    // Firing the permuted instance on the permuted state gives the permuted
    // successor (the corpus specs are symmetric).
    for (name, text) in corpus() {
        let model = model::compile(&Source::new(name.clone(), text), &HashMap::new())
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let sym = Symmetry::new(&model).expect("symmetric");
        let perms = sym.all_perms();
        let mut stepper = Stepper::new(&model);
        let (mut a, mut b, mut ps, mut pa) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for s in reachable(&model, 300) {
            for p in perms.iter().step_by(7) {
                sym.apply(&s, p, &mut ps);
                for i in 0..model.instance_count() {
                    let j = sym.permute_instance(&model, i, p).expect("an instance");
                    let fa = stepper.fire(i, &s, &mut a);
                    let fb = stepper.fire(j, &ps, &mut b);
                    assert_eq!(fa.is_ok(), fb.is_ok(), "{name}");
                    assert_eq!(fa.ok(), fb.ok(), "{name}: instance {i} vs {j}");
                    if a.len() == b.len() && !a.is_empty() {
                        sym.apply(&a, p, &mut pa);
                        assert_eq!(pa, b, "{name}: successor of instance {i}");
                    }
                    a.clear();
                    b.clear();
                }
            }
        }
    }
}

/// Composing permutations is applying one after the other, also when the
/// second symmetric type's values sit after the first's in the maps
/// (relations.fathom has two types; traces compose the renamings of every
/// step, and an earlier `compose` mixed up the types' entries).
#[test]
fn composition_is_application_in_turn() {
    let (name, text) = corpus().remove(0);
    let model = model::compile(&Source::new(name.clone(), text), &HashMap::new())
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let sym = Symmetry::new(&model).expect("symmetric");
    assert!(sym.sizes().len() >= 2, "two symmetric types");
    let perms = sym.all_perms();
    let (mut x, mut y, mut z) = (Vec::new(), Vec::new(), Vec::new());
    for s in reachable(&model, 60) {
        for (i, a) in perms.iter().enumerate().step_by(5) {
            let b = &perms[(i * 7 + 3) % perms.len()];
            sym.apply(&s, b, &mut x);
            sym.apply(&x, a, &mut y);
            sym.apply(&s, &a.compose(b, &sym), &mut z);
            assert_eq!(y, z, "{name}: a(b(s)) = (a ∘ b)(s)");
            sym.apply(&s, &a.compose(&a.inverse(&sym), &sym), &mut z);
            assert_eq!(z, s, "{name}: a ∘ a⁻¹ is the identity");
        }
    }
}
