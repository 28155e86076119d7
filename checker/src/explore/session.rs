//! One user's walk through a spec: the path from an initial state, a
//! cursor on it (back and forward), the enabled rule instances of the
//! current state, seeded random walks, traces loaded from `check`, and
//! bounded searches from the current state. Every request is answered with
//! a [`Reply`]: the current view, or a message saying what was wrong.

use std::collections::{HashMap, VecDeque};

use model::Model;
use model::step::{Fired, Stepper};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::Value as Json;

use crate::view::{self, View};

/// A step of the path: how it was reached and the state after it.
#[derive(Clone, Debug)]
struct Point {
    /// `None`: an initial state (with its ordinal).
    instance: Option<u64>,
    ordinal: u64,
    slots: Vec<i64>,
}

pub struct Session<'m> {
    model: &'m Model,
    spec: String,
    /// A query compiles with the spec's text (`reach`); `None` for models
    /// of other languages.
    source: Option<(model::Source, HashMap<String, i64>)>,
    initial: Vec<Vec<i64>>,
    path: Vec<Point>,
    /// How many points of `path` are shown (back and forward move it).
    cursor: usize,
}

#[derive(Serialize, Debug)]
pub struct Enabled {
    pub instance: u64,
    pub label: String,
}

/// What the page shows after a request.
#[derive(Serialize, Debug)]
pub struct Reply {
    pub view: View,
    /// The current state's enabled rule instances.
    pub enabled: Vec<Enabled>,
    /// Invariants the current state violates (names), or an evaluation error.
    pub violated: Vec<String>,
    pub cursor: usize,
    pub length: usize,
    pub initial_states: usize,
    /// What happened (a walk's end, a search's answer), for the page.
    pub message: Option<String>,
}

/// A request the page can make that cannot be carried out: shown on the page.
#[derive(Debug)]
pub struct Refused(pub String);

impl<'m> Session<'m> {
    pub fn new(
        model: &'m Model,
        spec: &str,
        source: Option<(model::Source, HashMap<String, i64>)>,
    ) -> Result<Session<'m>, Refused> {
        let initial = Stepper::new(model)
            .initial_states()
            .map_err(|e| Refused(format!("the initial states fail: {}", e.message)))?;
        let Some(first) = initial.first() else {
            return Err(Refused("the spec has no initial state".into()));
        };
        let path = vec![Point { instance: None, ordinal: 0, slots: first.clone() }];
        Ok(Session {
            model,
            spec: spec.to_string(),
            source,
            initial,
            path,
            cursor: 1,
        })
    }

    fn current(&self) -> &Point {
        &self.path[self.cursor - 1]
    }

    /// The page's view of the path up to the cursor.
    pub fn reply(&self, message: Option<String>) -> Reply {
        let model = self.model;
        let mut b = view::Builder::new(model, &self.spec, "explore");
        let shown = &self.path[..self.cursor];
        for (i, p) in shown.iter().enumerate() {
            match p.instance {
                None => b.start(&initial_label(p.ordinal), &p.slots),
                Some(inst) => b.step(
                    inst,
                    &instance_label(model, inst),
                    &shown[i - 1].slots,
                    &p.slots,
                ),
            }
        }
        let view = b.finish(None, None);
        let cur = &self.current().slots;
        let mut stepper = Stepper::new(model);
        let mut enabled = Vec::new();
        let mut next = Vec::new();
        for inst in 0..model.instance_count() {
            if let Ok(Fired::Enabled) = stepper.fire(inst, cur, &mut next) {
                enabled.push(Enabled { instance: inst, label: instance_label(model, inst) });
            }
        }
        Reply {
            view,
            enabled,
            violated: violated(&mut stepper, cur),
            cursor: self.cursor,
            length: self.path.len(),
            initial_states: self.initial.len(),
            message,
        }
    }

    /// Starts again from initial state `ordinal`.
    pub fn reset(&mut self, ordinal: u64) -> Result<(), Refused> {
        let slots = usize::try_from(ordinal)
            .ok()
            .and_then(|o| self.initial.get(o))
            .ok_or_else(|| {
                Refused(format!(
                    "there is no initial state {ordinal} (the spec has {})",
                    self.initial.len()
                ))
            })?
            .clone();
        self.path = vec![Point { instance: None, ordinal, slots }];
        self.cursor = 1;
        Ok(())
    }

    /// Fires rule instance `instance` from the current state; the path
    /// after the cursor is dropped.
    pub fn fire(&mut self, instance: u64) -> Result<(), Refused> {
        let model = self.model;
        if instance >= model.instance_count() {
            return Err(Refused(format!("there is no rule instance {instance}")));
        }
        let mut next = Vec::new();
        match Stepper::new(model).fire(instance, &self.current().slots, &mut next) {
            Ok(Fired::Enabled) => {}
            Ok(Fired::Disabled) => {
                return Err(Refused(format!(
                    "{} is not enabled here",
                    instance_label(model, instance)
                )));
            }
            Err(e) => {
                return Err(Refused(format!(
                    "{} fails: {}",
                    instance_label(model, instance),
                    e.message
                )));
            }
        }
        self.path.truncate(self.cursor);
        self.path
            .push(Point { instance: Some(instance), ordinal: 0, slots: next });
        self.cursor += 1;
        Ok(())
    }

    pub fn back(&mut self) {
        self.cursor = (self.cursor - 1).max(1);
    }

    pub fn forward(&mut self) {
        self.cursor = (self.cursor + 1).min(self.path.len());
    }

    /// A random walk of at most `steps` steps from the current state,
    /// reproducible from `seed`; it stops where an invariant fails, a step
    /// fails, or nothing is enabled.
    pub fn walk(&mut self, seed: u64, steps: u64) -> Result<String, Refused> {
        let model = self.model;
        if steps > 100_000 {
            return Err(Refused("a walk takes at most 100000 steps".into()));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut stepper = Stepper::new(model);
        let mut next = Vec::new();
        for taken in 0..steps {
            let cur = self.current().slots.clone();
            let bad = violated(&mut stepper, &cur);
            if !bad.is_empty() {
                return Ok(format!("stopped after {taken} steps: {}", bad.join(", ")));
            }
            let mut enabled = Vec::new();
            for inst in 0..model.instance_count() {
                match stepper.fire(inst, &cur, &mut next) {
                    Ok(Fired::Enabled) => enabled.push(inst),
                    Ok(Fired::Disabled) => {}
                    Err(e) => {
                        return Ok(format!(
                            "stopped after {taken} steps: {} fails: {}",
                            instance_label(model, inst),
                            e.message
                        ));
                    }
                }
            }
            if enabled.is_empty() {
                return Ok(format!("stopped after {taken} steps: no rule is enabled"));
            }
            let pick = enabled[rng.random_range(0..enabled.len())];
            self.fire(pick)?;
        }
        let bad = violated(&mut stepper, &self.current().slots);
        Ok(if bad.is_empty() {
            format!("walked {steps} steps (seed {seed}); every invariant holds")
        } else {
            format!("walked {steps} steps (seed {seed}): {}", bad.join(", "))
        })
    }

    /// Loads a trace written by `fathom check --trace-format json`: its
    /// steps are replayed from its initial state, each must be enabled and
    /// give the state the file shows.
    pub fn load(&mut self, text: &str) -> Result<String, Refused> {
        let j: Json =
            serde_json::from_str(text).map_err(|e| Refused(format!("not a JSON trace: {e}")))?;
        let states = j["states"].as_array().ok_or_else(|| {
            Refused("the trace has no `states` (write it with --trace-format json)".into())
        })?;
        let mut path = Vec::new();
        let mut stepper = Stepper::new(self.model);
        for (i, st) in states.iter().enumerate() {
            let action = &st["action"];
            if i == 0 {
                let ordinal = action["init"]
                    .as_u64()
                    .ok_or_else(|| Refused("the first state is not an initial state".into()))?;
                let slots = usize::try_from(ordinal)
                    .ok()
                    .and_then(|o| self.initial.get(o))
                    .ok_or_else(|| Refused(format!("the spec has no initial state {ordinal}")))?;
                path.push(Point { instance: None, ordinal, slots: slots.clone() });
                continue;
            }
            let instance = action["instance"]
                .as_u64()
                .ok_or_else(|| Refused(format!("state {} has no rule instance", i + 1)))?;
            let prev: &Point = &path[i - 1];
            let mut next = Vec::new();
            match stepper.fire(instance, &prev.slots, &mut next) {
                Ok(Fired::Enabled) => {}
                _ => {
                    return Err(Refused(format!(
                        "step {} ({}) is not a step of this spec here: was the trace written for another spec or other constants?",
                        i + 1,
                        st["label"].as_str().unwrap_or("?")
                    )));
                }
            }
            // The file's state must be the one the spec gives.
            let shown = crate::report::state_json(self.model, &next);
            if st.get("state").is_some_and(|s| *s != shown) {
                return Err(Refused(format!(
                    "state {} differs from the one the spec gives: was the trace written for another spec or other constants?",
                    i + 1
                )));
            }
            path.push(Point { instance: Some(instance), ordinal: 0, slots: next });
        }
        if path.is_empty() {
            return Err(Refused("the trace has no states".into()));
        }
        let n = path.len();
        self.path = path;
        self.cursor = n;
        Ok(format!("loaded a trace of {n} states"))
    }

    /// Can a state where `query` holds be reached from the current state
    /// within `depth` steps? A breadth-first search (at most `limit`
    /// states); the answer's shortest path is appended to the path.
    pub fn reach(&mut self, query: &str, depth: u32, limit: usize) -> Result<String, Refused> {
        let Some((source, consts)) = &self.source else {
            return Err(Refused(
                "reachability questions need a Fathom spec (.fathom)".into(),
            ));
        };
        let query = query.trim();
        if query.is_empty() {
            return Err(Refused(
                "write a boolean expression over the spec's variables".into(),
            ));
        }
        if query.contains(';') || query.contains('\n') {
            return Err(Refused(
                "the question is one expression, without `;`".into(),
            ));
        }
        // The question as a constraint-free invariant of the same spec:
        // the model is the same, with one more property to evaluate.
        let text = format!("{}\ninvariant __question: !({query});\n", source.text);
        let asked = model::Source::new(source.name.clone(), text);
        let with = model::compile(&asked, consts).map_err(|e| {
            let why = match e {
                model::CompileError::Spec(d) => d
                    .iter()
                    .map(|d| d.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            };
            Refused(format!("the question does not compile: {why}"))
        })?;
        let q = with.invariants.len() - 1;
        if with.state_len != self.model.state_len {
            return Err(Refused("the question changes the spec's state".into()));
        }
        let mut stepper = Stepper::new(&with);
        let start = self.current().slots.clone();
        let holds = |st: &mut Stepper, s: &[i64]| st.invariant_holds(q, s).map(|ok| !ok);
        let eval = |e: model::eval::EvalError| {
            Refused(format!("the question fails to evaluate: {}", e.message))
        };
        if holds(&mut stepper, &start).map_err(eval)? {
            return Ok("it holds in the current state".into());
        }
        let mut seen: HashMap<Vec<i64>, (usize, u64)> = HashMap::new();
        let mut order: Vec<Vec<i64>> = vec![start.clone()];
        seen.insert(start, (usize::MAX, 0));
        let mut queue = VecDeque::from([(0usize, 0u32)]);
        let mut next = Vec::new();
        while let Some((at, d)) = queue.pop_front() {
            if d >= depth {
                continue;
            }
            for inst in 0..with.instance_count() {
                let cur = order[at].clone();
                if !matches!(stepper.fire(inst, &cur, &mut next), Ok(Fired::Enabled)) {
                    continue;
                }
                if seen.contains_key(&next) {
                    continue;
                }
                seen.insert(next.clone(), (at, inst));
                order.push(next.clone());
                let id = order.len() - 1;
                if holds(&mut stepper, &next).map_err(eval)? {
                    // Walk back to the start, then fire forward.
                    let mut steps = Vec::new();
                    let mut k = id;
                    while let Some(&(parent, inst)) = seen.get(&order[k]) {
                        if parent == usize::MAX {
                            break;
                        }
                        steps.push(inst);
                        k = parent;
                    }
                    steps.reverse();
                    for &s in &steps {
                        self.fire(s)?;
                    }
                    return Ok(format!(
                        "reachable in {} step{}: the path is appended",
                        steps.len(),
                        if steps.len() == 1 { "" } else { "s" }
                    ));
                }
                if order.len() >= limit {
                    return Ok(format!(
                        "not found among the {limit} states nearest the current one (the search stopped there)"
                    ));
                }
                queue.push_back((id, d + 1));
            }
        }
        Ok(format!(
            "no state within {depth} steps of the current one satisfies it ({} states searched)",
            order.len()
        ))
    }
}

fn initial_label(ordinal: u64) -> String {
    if ordinal == 0 {
        "initial state".into()
    } else {
        format!("initial state {ordinal}")
    }
}

fn instance_label(model: &Model, instance: u64) -> String {
    match model.rule_of_instance(instance) {
        Some((r, local)) => model::step::rule_label(model, &model.rules[r], local),
        None => format!("instance {instance}"),
    }
}

/// The invariants `state` violates, by name (or why one cannot be evaluated).
fn violated(stepper: &mut Stepper, state: &[i64]) -> Vec<String> {
    let model = stepper.model;
    let mut out = Vec::new();
    for (i, p) in model.invariants.iter().enumerate() {
        match stepper.invariant_holds(i, state) {
            Ok(true) => {}
            Ok(false) => out.push(format!("invariant `{}` is violated", p.name)),
            Err(e) => out.push(format!("invariant `{}` fails: {}", p.name, e.message)),
        }
    }
    out
}
