//! What canonicalization costs per state: a breadth-first search by orbits
//! (as `fathom check` does) collects the successors it generates, as they
//! come out of the rules and before they are canonicalized, up to `LIMIT`
//! of them; then canonicalizing all of them is timed (5 passes, the
//! median), beside packing and fingerprinting them, which every search
//! does anyway. One thread.
//!
//! `cargo run --release -p fathom-benches --bin canon_cost -- specs/two_phase_sym.fathom N=12 [LIMIT=50000]`
//! prints one JSON object.

use std::collections::HashSet;
use std::hint::black_box;
use std::time::Instant;

use model::layout::Layout;
use model::step::{Fired, Stepper};
use model::symmetry::{Scratch, Symmetry};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let (path, m, limit) = fathom_benches::spec_args("canon_cost", "LIMIT", 50_000);
    let limit = limit.max(1) as usize;
    let consts: Vec<String> = m
        .consts
        .iter()
        .map(|(k, v)| format!("{k:?}: {v}"))
        .collect();
    let consts = consts.join(", ");
    let Some(sym) = Symmetry::new(&m) else {
        eprintln!("canon_cost: {path} has no symmetric type");
        std::process::exit(2);
    };
    let layout = Layout::new(&m.bounds);
    let mut stepper = Stepper::new(&m);
    let (mut scratch, mut canon) = (Scratch::default(), Vec::new());
    let mut packed = vec![0u32; layout.words as usize];
    let mut seen: HashSet<u64> = HashSet::new();
    let mut keep = |s: &[i64], scratch: &mut Scratch, canon: &mut Vec<i64>| {
        sym.canonicalize(s, scratch, canon);
        layout.pack(canon, &mut packed);
        seen.insert(model::fingerprint::fingerprint(&packed))
    };
    let mut frontier = Vec::new();
    for s in stepper.initial_states().unwrap_or_default() {
        if keep(&s, &mut scratch, &mut canon) {
            frontier.push(canon.clone());
        }
    }
    let mut sample: Vec<Vec<i64>> = Vec::new();
    let mut next_state = Vec::new();
    'search: while !frontier.is_empty() {
        let mut next = Vec::new();
        for s in &frontier {
            for i in 0..m.instance_count() {
                if stepper.fire(i, s, &mut next_state) != Ok(Fired::Enabled) {
                    continue;
                }
                sample.push(next_state.clone());
                if sample.len() >= limit {
                    break 'search;
                }
                if keep(&next_state, &mut scratch, &mut canon) {
                    next.push(canon.clone());
                }
            }
        }
        frontier = next;
    }

    let (mut canon_ns, mut fp_ns) = (Vec::new(), Vec::new());
    let (mut tried, mut most) = (0u64, 0u64);
    for pass in 0..5 {
        let t = Instant::now();
        for s in &sample {
            let (_, effort) = sym.canonicalize(black_box(s), &mut scratch, &mut canon);
            if pass == 0 {
                tried += effort.tried;
                most = most.max(effort.tried);
            }
            black_box(&canon);
        }
        canon_ns.push(t.elapsed().as_nanos() as f64 / sample.len() as f64);
        let t = Instant::now();
        for s in &sample {
            layout.pack(black_box(s), &mut packed);
            black_box(model::fingerprint::fingerprint(&packed));
        }
        fp_ns.push(t.elapsed().as_nanos() as f64 / sample.len() as f64);
    }
    println!(
        "{{\"spec\": {path:?}, \"consts\": {{{consts}}}, \"states\": {}, \"canonicalize_ns\": {:.1}, \"pack_fingerprint_ns\": {:.1}, \"arrangements_mean\": {:.3}, \"arrangements_max\": {most}}}",
        sample.len(),
        median(canon_ns),
        median(fp_ns),
        tried as f64 / sample.len() as f64,
    );
}
