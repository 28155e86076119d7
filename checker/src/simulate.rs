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
    let mut out = WalkOutcome { walks: 0, steps: 0, violation: None };
    let mut w = Walker {
        model,
        actions: (!model.temporals.is_empty())
            .then(|| crate::liveness::fairness::Actions::of(model)),
        stepper: Stepper::new(model),
        rng: ChaCha8Rng::seed_from_u64(config.seed),
        successors: Vec::new(),
        next: Vec::new(),
    };
    let initial = match w.stepper.initial_states() {
        Ok(s) => s,
        Err(e) => {
            out.violation = Some(error_violation(&e, "initial state".into(), None));
            return out;
        }
    };
    if initial.is_empty() {
        return out;
    }
    for _ in 0..config.walks {
        out.walks += 1;
        if let Err(v) = w.walk(&initial, config, &mut out.steps) {
            out.violation = Some(*v);
            return out;
        }
    }
    out
}

/// What the walks share: the evaluator, the seeded generator, buffers.
struct Walker<'m> {
    model: &'m Model,
    /// With temporal properties: the fairness actions lassos are judged by.
    actions: Option<crate::liveness::fairness::Actions>,
    stepper: Stepper<'m>,
    rng: ChaCha8Rng,
    /// The enabled instances of the current state and their successors.
    successors: Vec<(u64, Vec<i64>)>,
    next: Vec<i64>,
}

/// Where a walk is: its initial state's ordinal and the instances fired.
struct At<'a> {
    ordinal: u64,
    path: &'a [u64],
}

impl Walker<'_> {
    /// One walk from a random initial state, at most `walk_length` steps;
    /// `Err` with the first violation it meets.
    fn walk(
        &mut self,
        initial: &[Vec<i64>],
        config: &WalkConfig,
        steps: &mut u64,
    ) -> Result<(), Box<Violation>> {
        let ordinal = self.rng.random_range(0..initial.len() as u64);
        let mut state = initial[ordinal as usize].clone();
        let mut path: Vec<u64> = Vec::new();
        // With temporal properties: where each state of the walk was, so a
        // return to one closes a lasso.
        let live = self.actions.is_some();
        let mut seen: std::collections::HashMap<Vec<i64>, usize> = Default::default();
        for _ in 0..=config.walk_length {
            let at = At { ordinal, path: &path };
            if !self.check(&state, &at)? || path.len() as u64 == config.walk_length {
                break;
            }
            if live {
                seen.insert(state.clone(), path.len());
            }
            self.enabled(&state, &at)?;
            let stuck = match self.stepper.model.deadlock {
                model::ir::Deadlock::Stuck => self.successors.is_empty(),
                model::ir::Deadlock::Stuttering => self.successors.iter().all(|(_, s)| *s == state),
            };
            if stuck && config.deadlock && !self.stepper.is_terminal(&state).unwrap_or(false) {
                return Err(Box::new(Violation {
                    kind: ViolationKind::Deadlock,
                    name: "deadlock".into(),
                    message: self.stepper.model.deadlock.message().into(),
                    span: None,
                    trace: self.replay(&at),
                }));
            }
            if self.successors.is_empty() {
                let terminal = self.stepper.is_terminal(&state).unwrap_or(false);
                if live && (terminal || !config.deadlock) {
                    // The walk's last state stutters forever.
                    self.lasso(&at, path.len(), None)?;
                }
                break;
            }
            if live && !self.fair_step_enabled(&state) {
                // The walk may stop here: stuttering is fair where no fair
                // step is enabled.
                self.lasso(&at, path.len(), None)?;
            }
            let pick = self.rng.random_range(0..self.successors.len() as u64) as usize;
            let (instance, s) = std::mem::take(&mut self.successors[pick]);
            if live
                && s != state
                && let Some(&back_to) = seen.get(&s)
            {
                self.lasso(&at, back_to, Some(instance))?;
            }
            path.push(instance);
            state = s;
            *steps += 1;
        }
        Ok(())
    }

    /// The walk so far, going on forever from state `loop_start` (0-based)
    /// by `back` (or stuttering in its last state): a violation if it
    /// violates a temporal property and is fair.
    fn lasso(
        &self,
        at: &At<'_>,
        loop_start: usize,
        back: Option<u64>,
    ) -> Result<(), Box<Violation>> {
        let Some(mut t) = self.replay(at) else {
            return Ok(());
        };
        let back = back.map(|instance| trace::BackStep {
            instance,
            label: self.stepper.instance_label(instance),
        });
        t.lasso = Some(trace::Lasso { loop_start, back });
        let Some(actions) = &self.actions else {
            return Ok(());
        };
        match crate::liveness::violated_by(self.model, actions, &t) {
            Some(v) => Err(Box::new(v)),
            None => Ok(()),
        }
    }

    /// Whether some enabled step that changes `state` belongs to a
    /// fairness action (`successors` holds the state's steps).
    fn fair_step_enabled(&self, state: &[i64]) -> bool {
        let Some(actions) = &self.actions else {
            return true;
        };
        self.successors
            .iter()
            .any(|(i, s)| s.as_slice() != state && !actions.of_instance(*i as u32).is_empty())
    }

    fn replay(&self, at: &At<'_>) -> Option<Trace> {
        trace::replay(self.model, at.ordinal, at.path).ok()
    }

    /// The state's invariants; `Ok(false)` when it is outside the
    /// constraint (the walk ends there).
    fn check(&mut self, state: &[i64], at: &At<'_>) -> Result<bool, Box<Violation>> {
        match self.stepper.check_invariants(state) {
            Ok(None) => {}
            Ok(Some(inv)) => {
                let p = &self.model.invariants[inv.0];
                return Err(Box::new(Violation {
                    kind: ViolationKind::Invariant,
                    name: p.name.clone(),
                    message: format!("invariant `{}` is violated", p.name),
                    span: Some(p.span),
                    trace: self.replay(at),
                }));
            }
            Err(e) => {
                return Err(Box::new(error_violation(
                    &e,
                    "property".into(),
                    self.replay(at),
                )));
            }
        }
        self.stepper
            .in_constraint(state)
            .map_err(|e| Box::new(error_violation(&e, "constraint".into(), self.replay(at))))
    }

    /// Every enabled instance and its successor, into `successors`; a rule
    /// that fails is the walk's violation.
    fn enabled(&mut self, state: &[i64], at: &At<'_>) -> Result<(), Box<Violation>> {
        self.successors.clear();
        for i in 0..self.model.instance_count() {
            match self.stepper.fire(i, state, &mut self.next) {
                Ok(Fired::Enabled) => self.successors.push((i, self.next.clone())),
                Ok(Fired::Disabled) => {}
                Err(e) => {
                    let t = self
                        .replay(at)
                        .and_then(|t| trace::with_failing_step(self.model, t, i).ok());
                    let name = self
                        .model
                        .rule_of_instance(i)
                        .map_or_else(String::new, |(r, _)| self.model.rules[r].name.clone());
                    return Err(Box::new(error_violation(&e, name, t)));
                }
            }
        }
        Ok(())
    }
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
