//! The transition relation over flat states, as the reference evaluator
//! defines it: initial states, firing a rule instance, and the checks of a
//! state. Search engines, simulation and trace replay all go through here.

use crate::eval::{EvalError, EvalResult, Evaluator};
use crate::ir::{Model, Rule};
use crate::value::Value;

/// Outcome of firing one rule instance.
#[derive(Debug, PartialEq, Eq)]
pub enum Fired {
    Disabled,
    /// The successor was written to the output buffer.
    Enabled,
}

/// A property violated by a state: the index of the invariant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvariantFailed(pub usize);

fn unbox<T>(r: EvalResult<T>) -> Result<T, EvalError> {
    r.map_err(|e| *e)
}

pub struct Stepper<'m> {
    pub model: &'m Model,
    pub ev: Evaluator<'m>,
}

impl<'m> Stepper<'m> {
    pub fn new(model: &'m Model) -> Stepper<'m> {
        Stepper { model, ev: Evaluator::new(model) }
    }

    /// Every initial state, in a fixed order: initializers, then each `init`
    /// block maps each state to one state per enabled binding. Duplicates
    /// are kept (they count as generated).
    pub fn initial_states(&mut self) -> Result<Vec<Vec<i64>>, EvalError> {
        let mut base = Vec::with_capacity(self.model.state_len as usize);
        for v in &self.model.vars {
            self.model.types.default_value(&v.ty, &mut base);
        }
        unbox(self.ev.exec(&self.model.init_values, &mut base))?;
        let mut states = vec![base];
        for init in &self.model.inits {
            let mut next = Vec::new();
            for s in &states {
                for i in 0..init.instances {
                    let mut out = Vec::new();
                    if self.fire_rule(init, i, s, &mut out)? == Fired::Enabled {
                        next.push(out);
                    }
                }
            }
            states = next;
        }
        Ok(states)
    }

    /// Fires a rule's local instance from `state` into `out` (a copy of
    /// `state` with the rule's writes).
    pub fn fire_rule(
        &mut self,
        rule: &Rule,
        instance: u64,
        state: &[i64],
        out: &mut Vec<i64>,
    ) -> Result<Fired, EvalError> {
        if !self.guard(rule, instance, state)? {
            return Ok(Fired::Disabled);
        }
        out.clear();
        out.extend_from_slice(state);
        self.ev.clear_dirty();
        unbox(self.ev.exec(&rule.body, out))?;
        Ok(Fired::Enabled)
    }

    /// As [`Stepper::fire_rule`], for a caller that keeps `work` equal to
    /// `state` between calls: the rule writes into `work`, and the caller
    /// reads the successor there and then calls [`Stepper::restore`] (also
    /// after an error), which copies back only the slots the rule wrote.
    #[inline]
    pub fn fire_in_place(
        &mut self,
        rule: &Rule,
        instance: u64,
        state: &[i64],
        work: &mut [i64],
    ) -> Result<Fired, EvalError> {
        debug_assert_eq!(state, work, "work starts equal to state");
        self.ev.clear_dirty();
        if !self.guard(rule, instance, state)? {
            return Ok(Fired::Disabled);
        }
        unbox(self.ev.exec(&rule.body, work))?;
        Ok(Fired::Enabled)
    }

    /// Undoes [`Stepper::fire_in_place`]: `work` equals `state` again.
    pub fn restore(&mut self, state: &[i64], work: &mut [i64]) {
        for &(first, count) in self.ev.dirty() {
            let r = first as usize..(first + count) as usize;
            if count == 1 {
                // The usual case: one slot, without a call to memcpy.
                work[r.start] = state[r.start];
            } else {
                work[r.clone()].copy_from_slice(&state[r]);
            }
        }
        self.ev.clear_dirty();
    }

    /// Binds a local instance's parameters and evaluates the rule's guard.
    #[inline(always)]
    fn guard(&mut self, rule: &Rule, instance: u64, state: &[i64]) -> Result<bool, EvalError> {
        // The common case inline: one parameter over a range.
        match rule.params.as_slice() {
            [p] if matches!(p.ty, crate::ir::Ty::Range(..)) => {
                let crate::ir::Ty::Range(lo, _) = p.ty else {
                    unreachable!("matched a range")
                };
                self.ev.frame[p.local as usize] = lo + instance as i64;
            }
            params => self.ev.bind_params(params, instance),
        }
        match &rule.guard {
            Some(g) => unbox(self.ev.bool(g, state)),
            None => Ok(true),
        }
    }

    /// Fires global rule instance `instance` from `state` into `out`.
    pub fn fire(
        &mut self,
        instance: u64,
        state: &[i64],
        out: &mut Vec<i64>,
    ) -> Result<Fired, EvalError> {
        let model = self.model;
        let (rule, local) = model
            .rule_of_instance(instance)
            .expect("instance number in range");
        self.fire_rule(&model.rules[rule], local, state, out)
    }

    /// The first invariant the state violates.
    pub fn check_invariants(
        &mut self,
        state: &[i64],
    ) -> Result<Option<InvariantFailed>, EvalError> {
        for (i, p) in self.model.invariants.iter().enumerate() {
            if !unbox(self.ev.bool(&p.expr, state))? {
                return Ok(Some(InvariantFailed(i)));
            }
        }
        Ok(None)
    }

    /// Whether the state satisfies invariant `index` (`--continue` checks
    /// each one, where [`Stepper::check_invariants`] stops at the first).
    pub fn invariant_holds(&mut self, index: usize, state: &[i64]) -> Result<bool, EvalError> {
        unbox(self.ev.bool(&self.model.invariants[index].expr, state))
    }

    /// Whether `expr` (a property's, with its frame) holds in `state`.
    pub fn holds(&mut self, expr: &crate::ir::Expr, state: &[i64]) -> Result<bool, EvalError> {
        unbox(self.ev.bool(expr, state))
    }

    /// Whether the state satisfies every `constraint`.
    pub fn in_constraint(&mut self, state: &[i64]) -> Result<bool, EvalError> {
        for p in &self.model.constraints {
            if !unbox(self.ev.bool(&p.expr, state))? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether the state satisfies some `terminal` (may have no successor).
    pub fn is_terminal(&mut self, state: &[i64]) -> Result<bool, EvalError> {
        for p in &self.model.terminals {
            if unbox(self.ev.bool(&p.expr, state))? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The temporal properties' atoms in `state`, appended to `out` as
    /// bits: for each property, for each instance (binding), P, then Q for
    /// `leadsto` ([`crate::ir::Temporal::atoms`]). `out` holds whole u64 words.
    pub fn temporal_atoms(&mut self, state: &[i64], out: &mut Vec<u64>) -> Result<(), EvalError> {
        let mut bit = 0usize;
        let start = out.len();
        let set = |out: &mut Vec<u64>, bit: usize, value: bool| {
            if bit.is_multiple_of(64) {
                out.push(0);
            }
            if value {
                out[start + bit / 64] |= 1 << (bit % 64);
            }
        };
        for t in &self.model.temporals {
            for i in 0..t.instances {
                self.ev.bind_params(&t.params, i);
                let p = unbox(self.ev.bool(&t.p, state))?;
                set(out, bit, p);
                bit += 1;
                if let Some(q) = &t.q {
                    let q = unbox(self.ev.bool(q, state))?;
                    set(out, bit, q);
                    bit += 1;
                }
            }
        }
        Ok(())
    }

    /// Bit i set when the state satisfies `reachable` number i (first 64).
    pub fn reachables(&mut self, state: &[i64]) -> Result<u64, EvalError> {
        let mut bits = 0u64;
        for (i, p) in self.model.reachables.iter().enumerate().take(64) {
            if unbox(self.ev.bool(&p.expr, state))? {
                bits |= 1 << i;
            }
        }
        Ok(bits)
    }

    /// `Rule(p = v, ...)` for a global instance number.
    pub fn instance_label(&self, instance: u64) -> String {
        let Some((rule, local)) = self.model.rule_of_instance(instance) else {
            return format!("<instance {instance}>");
        };
        rule_label(self.model, &self.model.rules[rule], local)
    }

    /// The label of the `init` bindings that produced initial state `ordinal`.
    pub fn init_label(&self, ordinal: u64) -> String {
        if self.model.inits.iter().all(|r| r.params.is_empty()) {
            return "initial state".to_string();
        }
        format!("initial state #{}", ordinal + 1)
    }
}

/// `Rule(p = v, ...)`: a rule and the values of its parameters.
pub fn rule_label(model: &Model, rule: &Rule, local: u64) -> String {
    binding_label(model, &rule.name, &rule.params, local)
}

/// `Name(p = v, ...)`: a name and the values of its parameters (a rule's,
/// a property's `forall`s) for binding number `local`.
pub fn binding_label(model: &Model, name: &str, params: &[crate::ir::Param], local: u64) -> String {
    let values: Vec<String> = params_of(model, params, local)
        .iter()
        .map(|(name, value)| format!("{name} = {value}"))
        .collect();
    if values.is_empty() {
        return name.to_string();
    }
    format!("{}({})", name, values.join(", "))
}

/// A binding's visible parameters and their values, in order.
fn params_of(model: &Model, params: &[crate::ir::Param], local: u64) -> Vec<(String, Value)> {
    let mut rest = local;
    let mut out = Vec::new();
    for p in params.iter().rev() {
        let v = rest % p.card;
        rest /= p.card;
        if p.hidden {
            continue;
        }
        let mut slots = vec![0i64; p.len as usize];
        model.types.value_at(&p.ty, v, &mut slots);
        out.push((p.name.clone(), Value::decode(&model.types, &p.ty, &slots)));
    }
    out.reverse();
    out
}

/// The values of a rule instance's parameters, by name.
pub fn instance_params(model: &Model, instance: u64) -> Vec<(String, Value)> {
    match model.rule_of_instance(instance) {
        Some((rule, local)) => params_of(model, &model.rules[rule].params, local),
        None => Vec::new(),
    }
}
