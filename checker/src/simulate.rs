//! Random walks with the checks of `check`: invariants, asserts, range
//! errors and deadlock. Reproducible: the walks depend only on the seed.

use model::Model;
use model::step::{Fired, Stepper};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::engine::trace::{self, Trace};
use crate::engine::{Violation, ViolationKind};

pub struct WalkConfig {
    pub seed: u64,
    pub walks: u64,
    pub walk_length: u64,
    pub deadlock: bool,
}

pub struct WalkOutcome {
    pub walks: u64,
    pub steps: u64,
    pub violation: Option<Violation>,
}

pub fn simulate(model: &Model, config: &WalkConfig) -> WalkOutcome {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut stepper = Stepper::new(model);
    let mut out = WalkOutcome { walks: 0, steps: 0, violation: None };
    let initial = match stepper.initial_states() {
        Ok(s) => s,
        Err(e) => {
            out.violation = Some(error_violation(&e, "initial state".into(), None));
            return out;
        }
    };
    if initial.is_empty() {
        return out;
    }
    let instances = model.instance_count();
    let mut successors: Vec<(u64, Vec<i64>)> = Vec::new();
    let mut next = Vec::new();
    for _ in 0..config.walks {
        out.walks += 1;
        let ordinal = rng.random_range(0..initial.len() as u64);
        let mut state = initial[ordinal as usize].clone();
        let mut path: Vec<u64> = Vec::new();
        for _ in 0..=config.walk_length {
            let replay = |path: &[u64]| trace::replay(model, ordinal, path).ok();
            match stepper.check_invariants(&state) {
                Ok(Some(inv)) => {
                    let p = &model.invariants[inv.0];
                    out.violation = Some(Violation {
                        kind: ViolationKind::Invariant,
                        name: p.name.clone(),
                        message: format!("invariant `{}` is violated", p.name),
                        span: Some(p.span),
                        trace: replay(&path),
                    });
                    return out;
                }
                Ok(None) => {}
                Err(e) => {
                    out.violation = Some(error_violation(&e, "property".into(), replay(&path)));
                    return out;
                }
            }
            match stepper.in_constraint(&state) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    out.violation = Some(error_violation(&e, "constraint".into(), replay(&path)));
                    return out;
                }
            }
            if path.len() as u64 == config.walk_length {
                break;
            }
            successors.clear();
            for i in 0..instances {
                match stepper.fire(i, &state, &mut next) {
                    Ok(Fired::Enabled) => successors.push((i, next.clone())),
                    Ok(Fired::Disabled) => {}
                    Err(e) => {
                        let t =
                            replay(&path).and_then(|t| trace::with_failing_step(model, t, i).ok());
                        let name = model
                            .rule_of_instance(i)
                            .map_or_else(String::new, |(r, _)| model.rules[r].name.clone());
                        out.violation = Some(error_violation(&e, name, t));
                        return out;
                    }
                }
            }
            if successors.is_empty() {
                let terminal = stepper.is_terminal(&state).unwrap_or(false);
                if config.deadlock && !terminal {
                    out.violation = Some(Violation {
                        kind: ViolationKind::Deadlock,
                        name: "deadlock".into(),
                        message: "no rule is enabled in this state".into(),
                        span: None,
                        trace: replay(&path),
                    });
                    return out;
                }
                break;
            }
            let pick = rng.random_range(0..successors.len() as u64) as usize;
            let (instance, s) = std::mem::take(&mut successors[pick]);
            path.push(instance);
            state = s;
            out.steps += 1;
        }
    }
    out
}

fn error_violation(e: &model::eval::EvalError, name: String, trace: Option<Trace>) -> Violation {
    let kind = match e.kind {
        model::eval::ErrorKind::Assert => ViolationKind::Assert,
        model::eval::ErrorKind::Range => ViolationKind::Range,
        model::eval::ErrorKind::Eval => ViolationKind::Eval,
    };
    Violation {
        kind,
        name,
        message: e.message.clone(),
        span: Some(e.span),
        trace,
    }
}
