//! A witness in the graph, turned into a trace of the spec and checked
//! again through the reference evaluator, independently of the graph:
//! every step fires, the cycle closes, the property is violated along it,
//! and every fairness condition holds on the cycle.

use model::Model;
use model::ir::TemporalKind;
use model::step::{Fired, Stepper};

use super::check::{Goal, Witness};
use super::fairness::Actions;
use crate::engine::trace::{self, BackStep, Lasso, Trace};

/// The lasso of `w`, replayed from initial state `ordinal` and rechecked.
pub fn trace(
    model: &Model,
    actions: &Actions,
    goal: &Goal,
    ordinal: u64,
    w: &Witness,
) -> Result<Trace, String> {
    let mut instances: Vec<u64> = w.prefix.iter().map(|s| s.1 as u64).collect();
    if goal.kind == TemporalKind::AlwaysPossibly {
        let t = trace::replay(model, ordinal, &instances)?;
        recheck_unreachable(model, goal, &t)?;
        return Ok(t);
    }
    let loop_start = instances.len();
    let back = w.cycle.last().map(|s| s.1 as u64);
    if let Some((_, body)) = w.cycle.split_last() {
        instances.extend(body.iter().map(|s| s.1 as u64));
    }
    let mut t = trace::replay(model, ordinal, &instances)?;
    let mut stepper = Stepper::new(model);
    let back = match back {
        None => None,
        Some(instance) => {
            let last = &t.states[t.states.len() - 1].slots;
            let mut next = Vec::new();
            match stepper.fire(instance, last, &mut next) {
                Ok(Fired::Enabled) if next == t.states[loop_start].slots => {}
                _ => {
                    return Err(format!(
                        "the cycle does not return to state {}",
                        loop_start + 1
                    ));
                }
            }
            Some(BackStep { instance, label: stepper.instance_label(instance) })
        }
    };
    t.lasso = Some(Lasso { loop_start, back });
    recheck(model, actions, goal, &t)?;
    Ok(t)
}

/// The lasso violates the goal and is fair, by the evaluator alone.
pub fn recheck(model: &Model, actions: &Actions, goal: &Goal, t: &Trace) -> Result<(), String> {
    let mut stepper = Stepper::new(model);
    let Some(lasso) = &t.lasso else {
        return Err("not a lasso".into());
    };
    if goal.kind == TemporalKind::AlwaysPossibly {
        return Err("a lasso does not show that P is unreachable".into());
    }
    let start = lasso.loop_start;
    let mut p = Vec::new();
    let mut q = Vec::new();
    let mut atoms = Vec::new();
    for s in &t.states {
        atoms.clear();
        stepper
            .temporal_atoms(&s.slots, &mut atoms)
            .map_err(|e| e.message)?;
        let bit = |b: usize| atoms[b / 64] >> (b % 64) & 1 == 1;
        p.push(bit(goal.p));
        q.push(goal.q.is_some_and(bit));
    }
    let cycle = start..t.states.len();
    let violated = match goal.kind {
        TemporalKind::Eventually => p.iter().all(|&x| !x),
        TemporalKind::AlwaysEventually => cycle.clone().all(|i| !p[i]),
        TemporalKind::EventuallyAlways => cycle.clone().any(|i| !p[i]),
        // A P state, after which Q never holds: every later state, and the
        // whole cycle (it recurs, also where it comes before the P state).
        TemporalKind::AlwaysPossibly => unreachable!("rejected above"),
        TemporalKind::LeadsTo => {
            (0..t.states.len()).any(|i| p[i] && (i.min(start)..t.states.len()).all(|j| !q[j]))
        }
    };
    if !violated {
        return Err("the lasso does not violate the property".into());
    }
    // Steps of the cycle: into each cycle state after the first, and back.
    let mut taken: Vec<u64> = Vec::new();
    for s in &t.states[start + 1..] {
        if let trace::Action::Rule { instance } = s.action {
            taken.push(instance);
        }
    }
    if let Some(b) = &lasso.back {
        taken.push(b.instance);
    }
    for w in t.states[start..].windows(2) {
        if w[0].slots == w[1].slots {
            return Err("a step of the cycle leaves the state as it was".into());
        }
    }
    // Per action: cycle states where it is enabled (changes the state).
    let mut enabled_in = vec![0usize; actions.len()];
    let mut next = Vec::new();
    for s in &t.states[start..] {
        let mut here = vec![false; actions.len()];
        for instance in 0..model.instance_count() {
            if let Ok(Fired::Enabled) = stepper.fire(instance, &s.slots, &mut next)
                && next != s.slots
            {
                for &a in actions.of_instance(instance as u32) {
                    here[a as usize] = true;
                }
            }
        }
        for (a, h) in here.iter().enumerate() {
            enabled_in[a] += *h as usize;
        }
    }
    let states = t.states.len() - start;
    for (a, &n) in enabled_in.iter().enumerate() {
        let took = taken
            .iter()
            .any(|&i| actions.of_instance(i as u32).contains(&(a as u32)));
        let fair = took
            || if actions.strong[a] {
                n == 0
            } else {
                n < states
            };
        if !fair {
            return Err(format!("the cycle is not fair to {}", actions.names[a]));
        }
    }
    Ok(())
}

/// States a recheck of `AlwaysPossibly` explores at most: past them the
/// graph's answer stands on the last state's P alone.
const RECHECK_STATES: usize = 1 << 20;

/// `t` ends in a state from which no P state is reachable: a search of
/// the evaluator's own from that state, up to [`RECHECK_STATES`] states.
fn recheck_unreachable(model: &Model, goal: &Goal, t: &Trace) -> Result<(), String> {
    let mut stepper = Stepper::new(model);
    let last = &t.states[t.states.len() - 1].slots;
    let mut atoms = Vec::new();
    let mut p = |s: &[i64], stepper: &mut Stepper| -> Result<bool, String> {
        atoms.clear();
        stepper
            .temporal_atoms(s, &mut atoms)
            .map_err(|e| e.message)?;
        Ok(atoms[goal.p / 64] >> (goal.p % 64) & 1 == 1)
    };
    let mut seen = std::collections::HashSet::new();
    let mut queue = std::collections::VecDeque::new();
    seen.insert(last.clone());
    queue.push_back(last.clone());
    let mut next = Vec::new();
    while let Some(s) = queue.pop_front() {
        if p(&s, &mut stepper)? {
            return Err("a state where P holds is reachable from the last state".into());
        }
        if seen.len() >= RECHECK_STATES {
            continue;
        }
        for instance in 0..model.instance_count() {
            if let Ok(Fired::Enabled) = stepper.fire(instance, &s, &mut next)
                && !seen.contains(&next)
                && stepper.in_constraint(&next).map_err(|e| e.message)?
            {
                seen.insert(next.clone());
                queue.push_back(next.clone());
            }
        }
    }
    Ok(())
}
