//! Liveness: temporal properties decided on the reachable state graph
//! under the spec's fairness (LANGUAGE.md, "Liveness"; docs/liveness.md).
//!
//! The search records the graph while it explores (`graph::Builder`, filled
//! from the backend's [`crate::engine::backend::ChunkGraph`]s); once every
//! state is expanded, each property instance is decided on its own thread
//! (`check`), and a violation is turned into a lasso trace that the
//! reference evaluator replays and rechecks (`lasso`).

pub mod check;
pub mod fairness;
pub mod graph;
pub mod lasso;

use model::Model;
use model::ir::TemporalKind;
use rayon::prelude::*;

use crate::engine::{Violation, ViolationKind};

/// What deciding the properties took (the JSON summary's `liveness`).
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Report {
    /// Property instances decided (one per binding of the `forall`s).
    pub properties: u64,
    /// The graph: states, state-changing steps, bytes it took.
    pub states: u64,
    pub steps: u64,
    pub graph_bytes: u64,
    /// Deciding, after the search (building the graph's index included).
    pub seconds: f64,
}

/// Decides the temporal properties: the first violated one (in
/// declaration and binding order) with its lasso, or with `all` every
/// violated one. `ordinal` maps an
/// initial state's id to its initial-state ordinal.
pub fn check(
    model: &Model,
    graph: &graph::Graph,
    ordinal: &dyn Fn(u32) -> Result<u64, String>,
    all: bool,
) -> Result<Vec<Violation>, String> {
    let actions = fairness::Actions::of(model);
    let goals = check::goals(model);
    // The first violated instance, or (`--continue`) every one.
    let found: Vec<(usize, check::Witness)> = if all {
        goals
            .par_iter()
            .enumerate()
            .filter_map(|(k, goal)| check::find(graph, &actions, goal).map(|w| (k, w)))
            .collect()
    } else {
        goals
            .par_iter()
            .enumerate()
            .find_map_first(|(k, goal)| check::find(graph, &actions, goal).map(|w| (k, w)))
            .into_iter()
            .collect()
    };
    let mut out = Vec::with_capacity(found.len());
    for (k, w) in found {
        let goal = &goals[k];
        let trace = lasso::trace(model, &actions, goal, ordinal(w.initial)?, &w).map_err(|e| {
            format!("internal error: a liveness counterexample does not replay: {e}")
        })?;
        out.push(violation(model, goal, trace));
    }
    Ok(out)
}

/// Per temporal property, the (state, instance) pairs where a `leadsto`'s
/// P holds (`--coverage`: a `P leadsto Q` whose P never holds is never
/// exercised); 0 for the other forms.
pub fn leadsto_premises(model: &Model, graph: &graph::Graph) -> Vec<u64> {
    let mut out = vec![0u64; model.temporals.len()];
    for goal in check::goals(model) {
        if goal.kind == TemporalKind::LeadsTo {
            out[goal.temporal] += (0..graph.n as u32)
                .filter(|&v| graph.atom(v, goal.p))
                .count() as u64;
        }
    }
    out
}

/// The first property (in declaration and binding order) that a lasso
/// found some other way (a random walk that came back to a state)
/// violates, fairly.
pub fn violated_by(
    model: &Model,
    actions: &fairness::Actions,
    trace: &crate::engine::trace::Trace,
) -> Option<Violation> {
    check::goals(model)
        .iter()
        .find(|g| lasso::recheck(model, actions, g, trace).is_ok())
        .map(|g| violation(model, g, trace.clone()))
}

fn violation(model: &Model, goal: &check::Goal, trace: crate::engine::trace::Trace) -> Violation {
    let t = &model.temporals[goal.temporal];
    let name = model::step::binding_label(model, &t.name, &t.params, goal.instance);
    let what = match t.kind {
        TemporalKind::Eventually => "a fair behavior never reaches a state where P holds",
        TemporalKind::AlwaysEventually => {
            "a fair behavior ends in states where P never holds again"
        }
        TemporalKind::EventuallyAlways => "a fair behavior leaves P again and again, forever",
        TemporalKind::LeadsTo => {
            "a state where P holds is followed by a fair behavior that never reaches Q"
        }
        TemporalKind::AlwaysPossibly => {
            "from a reachable state no path reaches a state where P holds"
        }
    };
    Violation {
        kind: ViolationKind::Liveness,
        name: name.clone(),
        message: format!("property `{name}` is violated: {what}"),
        span: Some(t.span),
        trace: Some(trace),
    }
}
