//! The trace log and the rebuilding of shortest traces.
//!
//! Each distinct state has an id (its position in the log) and an entry:
//! its parent's id and the rule instance that led from the parent to it;
//! an initial state has no parent and records its initial-state ordinal. A
//! trace is rebuilt by walking parents back and replaying the instances
//! forward through the reference evaluator, which also re-checks that every
//! step was enabled and that the last state really is the violation.

use model::Model;
use model::eval::EvalError;
use model::step::{Fired, Stepper};
use model::symmetry::{Perm, Scratch, Symmetry};

use state_store::{LogStore, SpillDir, StoreError};

const NO_PARENT: u64 = u64::MAX;

/// The trace log: state id -> (parent id, rule instance), or (no parent,
/// initial-state ordinal). Kept in `state-store`, which may spill it.
#[derive(Default)]
pub struct TraceLog {
    store: LogStore,
}

impl TraceLog {
    pub fn push_initial(&mut self, ordinal: u32) {
        self.store.push(NO_PARENT, ordinal);
    }

    pub fn push(&mut self, parent: u64, instance: u32) {
        debug_assert!(parent < self.len(), "a parent precedes its child");
        self.store.push(parent, instance);
    }

    /// Appends `n` entries to be filled in (in parallel) by the caller:
    /// slices of their parents and instances.
    pub fn extend(&mut self, n: usize) -> (&mut [u64], &mut [u32]) {
        self.store.extend(n, NO_PARENT)
    }

    pub fn len(&self) -> u64 {
        self.store.len()
    }

    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    pub fn memory_bytes(&self) -> u64 {
        self.store.memory_bytes()
    }

    pub fn spill(&mut self, spill: &SpillDir) -> Result<(), StoreError> {
        self.store.spill(spill)
    }

    pub fn store(&self) -> &LogStore {
        &self.store
    }

    /// A log read back from a checkpoint, checked: every parent precedes
    /// its child.
    pub fn from_store(
        store: LogStore,
        spill: &SpillDir,
    ) -> Result<TraceLog, state_store::log::LogError> {
        store.for_each(spill, |id, parent, _| {
            if parent != NO_PARENT && parent >= id {
                return Err(format!("trace log entry {id} names a later parent"));
            }
            Ok(())
        })?;
        Ok(TraceLog { store })
    }

    /// The initial-state ordinal and the rule instances that reach `id`.
    pub fn path(&self, id: u64, spill: &SpillDir) -> Result<(u64, Vec<u64>), StoreError> {
        let mut instances = Vec::new();
        let mut at = id;
        loop {
            let (parent, instance) = self.store.get(at, spill)?;
            if parent == NO_PARENT {
                instances.reverse();
                return Ok((instance as u64, instances));
            }
            assert!(parent < at, "trace log parents precede children");
            instances.push(instance as u64);
            at = parent;
        }
    }
}

/// How a step of a trace came about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Init { ordinal: u64 },
    Rule { instance: u64 },
}

#[derive(Clone, Debug)]
pub struct TraceState {
    pub action: Action,
    pub label: String,
    pub slots: Vec<i64>,
}

/// A rule instance that failed while firing (an assert, a range error).
#[derive(Clone, Debug)]
pub struct FailingStep {
    pub instance: u64,
    pub label: String,
    pub error: EvalError,
}

#[derive(Clone, Debug)]
pub struct Trace {
    pub states: Vec<TraceState>,
    pub failing_step: Option<FailingStep>,
    /// A liveness violation's trace is a lasso: it goes on forever.
    pub lasso: Option<Lasso>,
}

/// How a lasso goes on after its last state.
#[derive(Clone, Debug)]
pub struct Lasso {
    /// The state (0-based) the cycle returns to.
    pub loop_start: usize,
    /// The step from the last state back to `states[loop_start]`; `None`:
    /// the last state stutters forever (`loop_start` is the last state).
    pub back: Option<BackStep>,
}

#[derive(Clone, Debug)]
pub struct BackStep {
    pub instance: u64,
    pub label: String,
}

/// Replays a path through the reference evaluator. Every step must be
/// enabled; a failure here means the engine and the evaluator disagree,
/// which is a bug.
pub fn replay(model: &Model, ordinal: u64, instances: &[u64]) -> Result<Trace, String> {
    replay_reduced(model, None, ordinal, instances).map(|r| r.trace)
}

/// A replayed path, and how its last state relates to the representative
/// the search kept.
pub struct Replayed {
    pub trace: Trace,
    /// Under symmetry: the permutation that maps the last representative to
    /// the trace's last state (and the representative's rule instances to
    /// the trace's).
    pub to_trace: Option<Perm>,
}

/// Replays a path the search logged. Under symmetry the log's instances
/// lead from representative to representative; the trace is the concrete
/// behavior they stand for: the initial state as the spec made it, and at
/// each step the logged instance with the permutations so far undone, fired
/// on the previous concrete state (which must give the permuted image of
/// the representative's successor: a spec that is not symmetric fails here).
pub fn replay_reduced(
    model: &Model,
    sym: Option<&Symmetry>,
    ordinal: u64,
    instances: &[u64],
) -> Result<Replayed, String> {
    let Some(sym) = sym else {
        return replay_plain(model, ordinal, instances)
            .map(|trace| Replayed { trace, to_trace: None });
    };
    let mut stepper = Stepper::new(model);
    let initial = stepper
        .initial_states()
        .map_err(|e| format!("initial states: {}", e.message))?;
    let Some(first) = initial.get(ordinal as usize) else {
        return Err(format!("initial state #{ordinal} does not exist"));
    };
    let mut scratch = Scratch::default();
    let mut rep = Vec::new();
    let (to_rep, _) = sym.canonicalize(first, &mut scratch, &mut rep);
    // The trace's state is `sigma`'s image of the representative.
    let mut sigma = to_rep.inverse(sym);
    let mut states = vec![TraceState {
        action: Action::Init { ordinal },
        label: stepper.init_label(ordinal),
        slots: first.clone(),
    }];
    let (mut t, mut next, mut expect, mut rep_next) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &instance in instances {
        let step = states.len();
        match stepper.fire(instance, &rep, &mut t) {
            Ok(Fired::Enabled) => {}
            Ok(Fired::Disabled) => {
                return Err(format!(
                    "step {step} ({}) is not enabled",
                    stepper.instance_label(instance)
                ));
            }
            Err(e) => return Err(format!("step {step} fails: {}", e.message)),
        }
        let Some(concrete) = sym.permute_instance(model, instance, &sigma) else {
            return Err(format!("step {step}: instance {instance} does not exist"));
        };
        let Some(prev) = states.last() else {
            unreachable!("trace starts with a state")
        };
        let label = stepper.instance_label(concrete);
        let fired = stepper.fire(concrete, &prev.slots, &mut next);
        sym.apply(&t, &sigma, &mut expect);
        if fired != Ok(Fired::Enabled) || next != expect {
            return Err(format!(
                "the spec is not symmetric: step {step} ({label}) does not act like the step the search took from a permuted state; `fathom check --symmetry-audit` names the rule"
            ));
        }
        let (to_rep, _) = sym.canonicalize(&t, &mut scratch, &mut rep_next);
        sigma = sigma.compose(&to_rep.inverse(sym), sym);
        std::mem::swap(&mut rep, &mut rep_next);
        states.push(TraceState {
            action: Action::Rule { instance: concrete },
            label,
            slots: next.clone(),
        });
    }
    Ok(Replayed {
        trace: Trace { states, failing_step: None, lasso: None },
        to_trace: Some(sigma),
    })
}

fn replay_plain(model: &Model, ordinal: u64, instances: &[u64]) -> Result<Trace, String> {
    let mut stepper = Stepper::new(model);
    let initial = stepper
        .initial_states()
        .map_err(|e| format!("initial states: {}", e.message))?;
    let Some(first) = initial.get(ordinal as usize) else {
        return Err(format!("initial state #{ordinal} does not exist"));
    };
    let mut states = vec![TraceState {
        action: Action::Init { ordinal },
        label: stepper.init_label(ordinal),
        slots: first.clone(),
    }];
    let mut next = Vec::new();
    for &instance in instances {
        let Some(prev) = states.last() else {
            unreachable!("trace starts with a state")
        };
        match stepper.fire(instance, &prev.slots, &mut next) {
            Ok(Fired::Enabled) => states.push(TraceState {
                action: Action::Rule { instance },
                label: stepper.instance_label(instance),
                slots: next.clone(),
            }),
            Ok(Fired::Disabled) => {
                return Err(format!(
                    "step {} ({}) is not enabled",
                    states.len(),
                    stepper.instance_label(instance)
                ));
            }
            Err(e) => return Err(format!("step {} fails: {}", states.len(), e.message)),
        }
    }
    Ok(Trace { states, failing_step: None, lasso: None })
}

/// Appends the successor by `instance` (enabled) of a trace's last state.
pub fn extend(model: &Model, mut trace: Trace, instance: u64) -> Result<Trace, String> {
    let mut stepper = Stepper::new(model);
    let Some(last) = trace.states.last() else {
        return Err("empty trace".into());
    };
    let mut next = Vec::new();
    match stepper.fire(instance, &last.slots, &mut next) {
        Ok(Fired::Enabled) => {
            trace.states.push(TraceState {
                action: Action::Rule { instance },
                label: stepper.instance_label(instance),
                slots: next,
            });
            Ok(trace)
        }
        _ => Err(format!(
            "step {} is not enabled on replay",
            stepper.instance_label(instance)
        )),
    }
}

/// Appends the failing firing of `instance` to a trace, checking that it
/// fails again with the same error.
pub fn with_failing_step(model: &Model, mut trace: Trace, instance: u64) -> Result<Trace, String> {
    let mut stepper = Stepper::new(model);
    let Some(last) = trace.states.last() else {
        return Err("empty trace".into());
    };
    let mut next = Vec::new();
    match stepper.fire(instance, &last.slots, &mut next) {
        Err(error) => {
            trace.failing_step = Some(FailingStep {
                instance,
                label: stepper.instance_label(instance),
                error,
            });
            Ok(trace)
        }
        Ok(_) => Err(format!(
            "step {} did not fail on replay",
            stepper.instance_label(instance)
        )),
    }
}
