//! How many of a level's successors a workgroup-local table would catch
//! before the GPU's global table: a breadth-first search in the GPU's
//! canonical order (parents in frontier order, each parent's instances in
//! order), counting per window of `W` consecutive parents (one workgroup's
//! states) the successors whose fingerprint another successor of the same
//! window had already produced. Those are the inserts a workgroup-local
//! deduplication would save; every other duplicate still reaches the table.
//!
//! `cargo run --release -p fathom-benches --bin workgroup_dups -- specs/two_phase.fathom N=8 [W=16]`
//! prints one JSON object.

use std::collections::HashSet;

use model::layout::Layout;
use model::step::{Fired, Stepper};

fn main() {
    let (path, m, window) = fathom_benches::spec_args("workgroup_dups", "W", 16);
    let window = window.max(1) as usize;
    let consts: Vec<String> = m
        .consts
        .iter()
        .map(|(k, v)| format!("{k:?}: {v}"))
        .collect();
    let consts = consts.join(", ");
    let layout = Layout::new(&m.bounds);
    let mut stepper = Stepper::new(&m);
    let mut seen: HashSet<u64> = HashSet::new();
    let mut frontier: Vec<Vec<i64>> = Vec::new();
    let mut packed = vec![0u32; layout.words as usize];
    for s in stepper.initial_states().unwrap_or_default() {
        layout.pack(&s, &mut packed);
        if seen.insert(model::fingerprint::fingerprint(&packed)) {
            frontier.push(s);
        }
    }
    let (mut generated, mut local_dups, mut global_dups) = (0u64, 0u64, 0u64);
    let mut next_state = Vec::new();
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for group in frontier.chunks(window) {
            let mut local: HashSet<u64> = HashSet::new();
            for s in group {
                for i in 0..m.instance_count() {
                    if stepper.fire(i, s, &mut next_state) != Ok(Fired::Enabled) {
                        continue;
                    }
                    generated += 1;
                    if !stepper.in_constraint(&next_state).unwrap_or(false) {
                        continue;
                    }
                    layout.pack(&next_state, &mut packed);
                    let fp = model::fingerprint::fingerprint(&packed);
                    if !local.insert(fp) {
                        local_dups += 1;
                    }
                    if seen.insert(fp) {
                        next.push(next_state.clone());
                    } else {
                        global_dups += 1;
                    }
                }
            }
        }
        frontier = next;
    }
    println!(
        "{{\"spec\": {path:?}, \"consts\": {{{consts}}}, \"window\": {window}, \"distinct\": {}, \"generated\": {generated}, \"duplicates\": {global_dups}, \"workgroup_duplicates\": {local_dups}, \"share_of_duplicates\": {:.4}}}",
        seen.len(),
        local_dups as f64 / global_dups.max(1) as f64
    );
}
