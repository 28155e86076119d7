//! Deciding one temporal property instance on the state graph, exactly.
//!
//! Each property's negation is a two-phase search (LANGUAGE.md gives the
//! meaning; docs/liveness.md the argument):
//!
//! | property          | the violating behavior's suffix             | entry        |
//! |-------------------|---------------------------------------------|--------------|
//! | `eventually P`    | stays in ¬P, from an initial state on       | initial ¬P   |
//! | `always eventually P` | stays in ¬P                             | any ¬P state |
//! | `eventually always P` | visits ¬P infinitely often              | any state    |
//! | `P leadsto Q`     | stays in ¬Q, from a P ∧ ¬Q state on         | P ∧ ¬Q state |
//!
//! `AlwaysPossibly` (CTL's AG EF P, Murphi's `liveness`) is not about
//! behaviors: it is violated by a reachable state from which no path
//! reaches P, found by one backward search from the P states
//! (`cannot_reach`); the witness is the shortest path to the first such
//! state, with no cycle.
//!
//! A suffix is fair either by stuttering forever in a state where no fair
//! action is enabled, or by cycling through a set C of states that is
//! strongly connected inside the suffix's region. The best cycle through C
//! visits every state and takes every step of C, so C is fair when: no
//! weak action is enabled in all of C without a step of it inside C; and
//! no strong action is enabled somewhere in C without a step inside C. The
//! latter is refined as Emerson and Lei do for Streett conditions: the
//! states where such an action is enabled are removed and the rest is
//! decomposed again. Each step is O(states + steps) of C, each refinement
//! removes at least one state, so a property costs O(n · (n + m)) in the
//! worst case and O(n + m) when no strong action needs refining.

use model::Model;
use model::ir::TemporalKind;

use rayon::prelude::*;

use super::fairness::Actions;
use super::graph::{Graph, OUTSIDE};

/// One instance (binding) of a temporal property, with its atoms' bits.
#[derive(Clone, Debug)]
pub struct Goal {
    pub temporal: usize,
    pub instance: u64,
    pub kind: TemporalKind,
    pub p: usize,
    pub q: Option<usize>,
}

/// Every property instance, in declaration and binding order; the bits
/// are laid out as `Stepper::temporal_atoms` writes them.
pub fn goals(model: &Model) -> Vec<Goal> {
    let mut out = Vec::new();
    let mut bit = 0usize;
    for (t, temporal) in model.temporals.iter().enumerate() {
        for instance in 0..temporal.instances {
            let q = temporal.q.as_ref().map(|_| bit + 1);
            out.push(Goal {
                temporal: t,
                instance,
                kind: temporal.kind,
                p: bit,
                q,
            });
            bit += temporal.atoms();
        }
    }
    debug_assert_eq!(bit, model.temporal_atom_bits());
    out
}

impl Goal {
    /// May the suffix stay in `v`?
    pub fn inside(&self, g: &Graph, v: u32) -> bool {
        match self.kind {
            TemporalKind::Eventually
            | TemporalKind::AlwaysEventually
            | TemporalKind::AlwaysPossibly => !g.atom(v, self.p),
            TemporalKind::EventuallyAlways => true,
            TemporalKind::LeadsTo => !g.atom(v, self.q.expect("leadsto has Q")),
        }
    }

    /// May the suffix begin at `v` (reached by any path)?
    pub fn entry(&self, g: &Graph, v: u32) -> bool {
        match self.kind {
            TemporalKind::Eventually => false,
            TemporalKind::AlwaysEventually
            | TemporalKind::EventuallyAlways
            | TemporalKind::AlwaysPossibly => self.inside(g, v),
            TemporalKind::LeadsTo => g.atom(v, self.p) && self.inside(g, v),
        }
    }

    /// Must the suffix begin at an initial state?
    fn starts_initial(&self) -> bool {
        self.kind == TemporalKind::Eventually
    }

    /// Is a cycle through `v` one the property must not have? (Only
    /// `eventually always` restricts it beyond its region.)
    pub fn accepting(&self, g: &Graph, v: u32) -> bool {
        match self.kind {
            TemporalKind::EventuallyAlways => !g.atom(v, self.p),
            _ => true,
        }
    }
}

/// A violating behavior in the graph: the shortest path from an initial
/// state to `start`, then a cycle back to `start` (empty: `start`
/// stutters forever).
#[derive(Clone, Debug)]
pub struct Witness {
    pub initial: u32,
    /// (state reached, rule instance) per step, from `initial` to `start`.
    pub prefix: Vec<(u32, u32)>,
    pub start: u32,
    /// (state reached, rule instance) per step; the last reaches `start`.
    pub cycle: Vec<(u32, u32)>,
}

/// Per-thread working memory sized to the graph.
struct Scratch {
    /// Membership of the current set: `stamp[v] == generation`.
    stamp: Vec<u32>,
    generation: u32,
    /// Tarjan's numbering; `UNSEEN` outside a decomposition.
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    /// Per action: the last state that counted it, states of C where it is
    /// enabled, whether a step inside C takes it.
    seen_at: Vec<u32>,
    enabled: Vec<u32>,
    taken: Vec<bool>,
}

const UNSEEN: u32 = u32::MAX;

impl Scratch {
    fn new(n: usize, actions: usize) -> Scratch {
        Scratch {
            stamp: vec![0; n],
            generation: 0,
            index: vec![UNSEEN; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            seen_at: vec![UNSEEN; actions],
            enabled: vec![0; actions],
            taken: vec![false; actions],
        }
    }

    /// Makes `nodes` the current set.
    fn mark(&mut self, nodes: &[u32]) {
        self.generation += 1;
        for &v in nodes {
            self.stamp[v as usize] = self.generation;
        }
    }

    fn has(&self, v: u32) -> bool {
        v != OUTSIDE && self.stamp[v as usize] == self.generation
    }
}

/// Decides one property instance: a violating behavior, or `None`.
pub fn find(g: &Graph, actions: &Actions, goal: &Goal) -> Option<Witness> {
    if goal.kind == TemporalKind::AlwaysPossibly {
        let start = cannot_reach(g, goal)?;
        let (initial, prefix) = prefix(g, goal, start);
        return Some(Witness { initial, prefix, start, cycle: Vec::new() });
    }
    let region = region(g, goal);
    // Stuttering forever where no fair action is enabled.
    let stutter = region.par_iter().copied().find_first(|&v| {
        goal.accepting(g, v) && g.steps(v).all(|(_, i)| actions.of_instance(i).is_empty())
    });
    let (start, cycle) = match stutter {
        Some(v) => (v, Vec::new()),
        None => {
            let mut s = Scratch::new(g.n, actions.len());
            s.mark(&region);
            let mut components = sccs(g, &region, &mut s);
            // Tarjan finds components sinks first: look from the sources,
            // which are nearer the initial states. Each component is
            // refined on its own thread; the first fair one in this order
            // is taken, whatever the threads.
            components.reverse();
            let c = components
                .into_par_iter()
                .map_init(
                    || Scratch::new(g.n, actions.len()),
                    |s, c| fair_part(g, actions, goal, c, s),
                )
                .find_first(Option::is_some)
                .flatten()?;
            tour(g, actions, goal, &c, &mut s)
        }
    };
    let (initial, prefix) = prefix(g, goal, start);
    Some(Witness { initial, prefix, start, cycle })
}

/// A strongly connected part of component `c` that holds a fair cycle
/// meeting the goal's acceptance, refining for strong fairness.
fn fair_part(
    g: &Graph,
    actions: &Actions,
    goal: &Goal,
    c: Vec<u32>,
    s: &mut Scratch,
) -> Option<Vec<u32>> {
    let mut work = vec![c];
    while let Some(c) = work.pop() {
        match refine(g, actions, goal, &c, s) {
            Refined::Fair => return Some(c),
            Refined::Unfair => {}
            Refined::Split(keep) => {
                s.mark(&keep);
                work.extend(sccs(g, &keep, s));
            }
        }
    }
    None
}

/// The states the suffix may reach: its region, closed forward from its
/// entries (for `eventually P`, the initial ¬P states).
fn region(g: &Graph, goal: &Goal) -> Vec<u32> {
    let mut seen = vec![false; g.n];
    let mut queue: Vec<u32> = if goal.starts_initial() {
        (0..g.initial).filter(|&v| goal.inside(g, v)).collect()
    } else {
        (0..g.n as u32).filter(|&v| goal.entry(g, v)).collect()
    };
    for &v in &queue {
        seen[v as usize] = true;
    }
    let mut head = 0;
    while head < queue.len() {
        let v = queue[head];
        head += 1;
        for (w, _) in g.steps(v) {
            if w != OUTSIDE && !seen[w as usize] && goal.inside(g, w) {
                seen[w as usize] = true;
                queue.push(w);
            }
        }
    }
    queue.sort_unstable();
    queue
}

/// The first state (by id) from which no path reaches a P state: every
/// state not found by a backward search from the P states. Steps to
/// states outside the constraints lead nowhere.
fn cannot_reach(g: &Graph, goal: &Goal) -> Option<u32> {
    // Predecessor lists, as offsets into one array (counting sort).
    let mut start = vec![0u32; g.n + 1];
    for v in 0..g.n as u32 {
        for (w, _) in g.steps(v) {
            if w != OUTSIDE {
                start[w as usize + 1] += 1;
            }
        }
    }
    for i in 0..g.n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut preds = vec![0u32; start[g.n] as usize];
    for v in 0..g.n as u32 {
        for (w, _) in g.steps(v) {
            if w != OUTSIDE {
                preds[fill[w as usize] as usize] = v;
                fill[w as usize] += 1;
            }
        }
    }
    let mut can = vec![false; g.n];
    let mut queue: Vec<u32> = (0..g.n as u32).filter(|&v| g.atom(v, goal.p)).collect();
    for &v in &queue {
        can[v as usize] = true;
    }
    while let Some(w) = queue.pop() {
        for &v in &preds[start[w as usize] as usize..start[w as usize + 1] as usize] {
            if !can[v as usize] {
                can[v as usize] = true;
                queue.push(v);
            }
        }
    }
    can.iter().position(|&c| !c).map(|v| v as u32)
}

/// The strongly connected components of the current set (`s.has`) that
/// have a step inside them (no step is a self-loop, so: two states or
/// more). Tarjan's algorithm without recursion.
fn sccs(g: &Graph, nodes: &[u32], s: &mut Scratch) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    let mut next = 0u32;
    let mut stack: Vec<u32> = Vec::new();
    // (state, position of its next step)
    let mut calls: Vec<(u32, usize)> = Vec::new();
    for &root in nodes {
        if s.index[root as usize] != UNSEEN {
            continue;
        }
        let visit = |v: u32, s: &mut Scratch, stack: &mut Vec<u32>, next: &mut u32| {
            s.index[v as usize] = *next;
            s.low[v as usize] = *next;
            *next += 1;
            stack.push(v);
            s.on_stack[v as usize] = true;
        };
        visit(root, s, &mut stack, &mut next);
        calls.push((root, g.step_range(root).start));
        while let Some(&mut (v, ref mut pos)) = calls.last_mut() {
            let end = g.step_range(v).end;
            let mut descended = false;
            while *pos < end {
                let w = g.target(*pos);
                *pos += 1;
                if !s.has(w) {
                    continue;
                }
                if s.index[w as usize] == UNSEEN {
                    visit(w, s, &mut stack, &mut next);
                    calls.push((w, g.step_range(w).start));
                    descended = true;
                    break;
                } else if s.on_stack[w as usize] {
                    s.low[v as usize] = s.low[v as usize].min(s.index[w as usize]);
                }
            }
            if descended {
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                s.low[parent as usize] = s.low[parent as usize].min(s.low[v as usize]);
            }
            if s.low[v as usize] == s.index[v as usize] {
                let mut c = Vec::new();
                loop {
                    let w = stack.pop().expect("v is on the stack");
                    s.on_stack[w as usize] = false;
                    c.push(w);
                    if w == v {
                        break;
                    }
                }
                if c.len() > 1 {
                    out.push(c);
                }
            }
        }
    }
    for &v in nodes {
        s.index[v as usize] = UNSEEN;
    }
    out
}

enum Refined {
    /// A fair cycle through every state of C exists.
    Fair,
    /// No fair cycle inside C.
    Unfair,
    /// Only inside these states of C (to be decomposed again).
    Split(Vec<u32>),
}

/// Counts, per action, the states of C where it is enabled and whether a
/// step inside C takes it; returns the actions touched. C is the current set.
fn count_actions(g: &Graph, actions: &Actions, c: &[u32], s: &mut Scratch) -> Vec<u32> {
    let mut touched = Vec::new();
    for &v in c {
        for step in g.step_range(v) {
            let inside = s.has(g.target(step));
            for &a in actions.of_instance(g.instance(step)) {
                let a = a as usize;
                if s.seen_at[a] == UNSEEN && s.enabled[a] == 0 {
                    touched.push(a as u32);
                }
                if s.seen_at[a] != v {
                    s.seen_at[a] = v;
                    s.enabled[a] += 1;
                }
                s.taken[a] |= inside;
            }
        }
    }
    touched
}

fn clear_actions(touched: &[u32], s: &mut Scratch) {
    for &a in touched {
        s.seen_at[a as usize] = UNSEEN;
        s.enabled[a as usize] = 0;
        s.taken[a as usize] = false;
    }
}

/// Whether strongly connected C (made the current set here) holds a fair
/// cycle that meets the goal's acceptance.
fn refine(g: &Graph, actions: &Actions, goal: &Goal, c: &[u32], s: &mut Scratch) -> Refined {
    s.mark(c);
    let touched = count_actions(g, actions, c, s);
    let mut unfair = false;
    let mut purge = Vec::new();
    for &a in &touched {
        let a = a as usize;
        if s.taken[a] {
            continue;
        }
        if actions.strong[a] {
            purge.push(a as u32);
        } else if s.enabled[a] as usize == c.len() {
            unfair = true;
        }
    }
    clear_actions(&touched, s);
    if unfair {
        return Refined::Unfair;
    }
    if !purge.is_empty() {
        let keep: Vec<u32> = c
            .iter()
            .copied()
            .filter(|&v| {
                !g.steps(v)
                    .any(|(_, i)| actions.of_instance(i).iter().any(|a| purge.contains(a)))
            })
            .collect();
        debug_assert!(
            keep.len() < c.len(),
            "a purged action is enabled somewhere in C"
        );
        return Refined::Split(keep);
    }
    if c.iter().any(|&v| goal.accepting(g, v)) {
        Refined::Fair
    } else {
        Refined::Unfair
    }
}

/// Breadth-first path inside the current set from `from` to `to`: the
/// steps (state reached, instance). Empty when `from == to`.
fn path_inside(g: &Graph, from: u32, to: u32, s: &Scratch) -> Vec<(u32, u32)> {
    if from == to {
        return Vec::new();
    }
    let mut parent: hashbrown::HashMap<u32, (u32, u32)> = hashbrown::HashMap::new();
    parent.insert(from, (from, u32::MAX));
    let mut queue = std::collections::VecDeque::from([from]);
    while let Some(v) = queue.pop_front() {
        for (w, i) in g.steps(v) {
            if !s.has(w) || parent.contains_key(&w) {
                continue;
            }
            parent.insert(w, (v, i));
            if w == to {
                let mut path = Vec::new();
                let mut at = w;
                while at != from {
                    let (p, i) = parent[&at];
                    path.push((at, i));
                    at = p;
                }
                path.reverse();
                return path;
            }
            queue.push_back(w);
        }
    }
    unreachable!("C is strongly connected")
}

/// A cycle through fair, strongly connected C (the current set) that meets
/// every fairness condition and the acceptance: from an accepting state,
/// through one step of each action enabled in C (or a state where a weak
/// one is disabled), and back.
fn tour(
    g: &Graph,
    actions: &Actions,
    goal: &Goal,
    c: &[u32],
    s: &mut Scratch,
) -> (u32, Vec<(u32, u32)>) {
    s.mark(c);
    let start = c
        .iter()
        .copied()
        .filter(|&v| goal.accepting(g, v))
        .min()
        .expect("a fair C has an accepting state");
    let touched = count_actions(g, actions, c, s);
    let enabled_at = |v: u32, a: u32| g.steps(v).any(|(_, i)| actions.of_instance(i).contains(&a));
    let mut cycle: Vec<(u32, u32)> = Vec::new();
    let mut at = start;
    let mut sorted = touched.clone();
    sorted.sort_unstable();
    for &a in &sorted {
        let tour_takes = cycle
            .iter()
            .any(|&(_, i)| actions.of_instance(i).contains(&a));
        let tour_disabled = std::iter::once(start)
            .chain(cycle.iter().map(|&(v, _)| v))
            .any(|v| !enabled_at(v, a));
        let weak = !actions.strong[a as usize];
        if tour_takes || (weak && tour_disabled) {
            continue;
        }
        // A state of C where a weak action is disabled, else a step of it.
        let disabled = weak
            .then(|| c.iter().copied().filter(|&v| !enabled_at(v, a)).min())
            .flatten();
        if let Some(x) = disabled {
            cycle.extend(path_inside(g, at, x, s));
            at = x;
            continue;
        }
        let (u, w, i) = c
            .iter()
            .copied()
            .flat_map(|u| g.steps(u).map(move |(w, i)| (u, w, i)))
            .find(|&(_, w, i)| s.has(w) && actions.of_instance(i).contains(&a))
            .expect("a fair C takes every action it does not disable");
        cycle.extend(path_inside(g, at, u, s));
        cycle.push((w, i));
        at = w;
    }
    clear_actions(&touched, s);
    if at == start && cycle.is_empty() {
        // No obligation: any step inside C, and back.
        let (w, i) = g
            .steps(start)
            .find(|&(w, _)| s.has(w))
            .expect("C has a step");
        cycle.push((w, i));
        at = w;
    }
    cycle.extend(path_inside(g, at, start, s));
    (start, cycle)
}

/// The shortest path from an initial state to `start` that a violating
/// behavior can take: through any states, then (from an entry on) inside
/// the region. A BFS over (state, phase); entering phase 1 is free.
fn prefix(g: &Graph, goal: &Goal, start: u32) -> (u32, Vec<(u32, u32)>) {
    const NONE: u32 = u32::MAX;
    let n = g.n;
    // parent[(v, phase)] = (previous (state, phase) key, instance or NONE)
    let mut parent: Vec<(u32, u32)> = vec![(NONE, NONE); 2 * n];
    let key = |v: u32, phase: usize| v as usize * 2 + phase;
    let mut queue = std::collections::VecDeque::new();
    let mut seen = vec![false; 2 * n];
    for v in 0..g.initial {
        let phase = if goal.starts_initial() {
            if !goal.inside(g, v) {
                continue;
            }
            1
        } else {
            0
        };
        seen[key(v, phase)] = true;
        queue.push_back(key(v, phase));
    }
    let target = key(start, 1);
    while let Some(k) = queue.pop_front() {
        if k == target {
            break;
        }
        let (v, phase) = ((k / 2) as u32, k % 2);
        if phase == 0 && goal.entry(g, v) {
            // Free: the same state, in phase 1. Front of the queue keeps
            // the search breadth-first.
            let k1 = key(v, 1);
            if !seen[k1] {
                seen[k1] = true;
                parent[k1] = (k as u32, NONE);
                queue.push_front(k1);
            }
        }
        for (w, i) in g.steps(v) {
            if w == OUTSIDE || (phase == 1 && !goal.inside(g, w)) {
                continue;
            }
            let kw = key(w, phase);
            if !seen[kw] {
                seen[kw] = true;
                parent[kw] = (k as u32, i);
                queue.push_back(kw);
            }
        }
    }
    assert!(seen[target], "the suffix's start is reachable");
    let mut steps = Vec::new();
    let mut k = target;
    loop {
        let (p, i) = parent[k];
        if p == NONE {
            return {
                steps.reverse();
                ((k / 2) as u32, steps)
            };
        }
        if i != NONE {
            steps.push(((k / 2) as u32, i));
        }
        k = p as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Actions from (strong, instances) lists, for graphs with instances 0..k.
    fn actions(instances: u32, list: &[(bool, &[u32])]) -> Actions {
        Actions::from_lists(instances, list)
    }

    fn eventually() -> Goal {
        Goal {
            temporal: 0,
            instance: 0,
            kind: TemporalKind::Eventually,
            p: 0,
            q: None,
        }
    }

    // States with atom P = bit 0.
    #[test]
    fn stuttering_without_fairness_violates_eventually() {
        // 0 -> 1 (P); no fairness: 0 may stutter.
        let g = Graph::from_lists(1, vec![0, 1], &[vec![(1, 0)], vec![]]);
        let w = find(&g, &actions(1, &[]), &eventually()).expect("violated");
        assert_eq!((w.start, w.cycle.len(), w.prefix.len()), (0, 0, 0));
    }

    #[test]
    fn weak_fairness_forces_the_step() {
        let g = Graph::from_lists(1, vec![0, 1], &[vec![(1, 0)], vec![]]);
        assert!(find(&g, &actions(1, &[(false, &[0])]), &eventually()).is_none());
    }

    #[test]
    fn a_cycle_that_never_takes_a_weak_action_enabled_everywhere_is_unfair() {
        // 0 <-> 1 by instance 0; instance 1 leads from both to 2 (P).
        let steps = vec![vec![(1, 0), (2, 1)], vec![(0, 0), (2, 1)], vec![]];
        let g = Graph::from_lists(1, vec![0, 0, 1], &steps);
        // WF of instance 1: enabled in 0 and 1, never taken on the cycle.
        assert!(find(&g, &actions(2, &[(false, &[1])]), &eventually()).is_none());
        // WF of instance 0 only: the cycle is fair, and violates.
        let w = find(&g, &actions(2, &[(false, &[0])]), &eventually()).expect("violated");
        assert_eq!(w.cycle.len(), 2);
    }

    #[test]
    fn strong_fairness_is_needed_where_the_action_flickers() {
        // 0 <-> 1 by instance 0; instance 1 only from 1, to 2 (P).
        let steps = vec![vec![(1, 0)], vec![(0, 0), (2, 1)], vec![]];
        let g = Graph::from_lists(1, vec![0, 0, 1], &steps);
        let both = |strong| actions(2, &[(false, &[0]), (strong, &[1])]);
        assert!(
            find(&g, &both(false), &eventually()).is_some(),
            "weak: 0 disables it"
        );
        assert!(
            find(&g, &both(true), &eventually()).is_none(),
            "strong: must be taken"
        );
    }

    #[test]
    fn leadsto_starts_its_suffix_at_a_p_state() {
        // bits: P = 0, Q = 1. 0 -> 1 (P) -> 2 <-> 3, Q nowhere; fair 0..2.
        let steps = vec![vec![(1, 0)], vec![(2, 1)], vec![(3, 2)], vec![(2, 3)]];
        let g = Graph::from_lists(1, vec![0, 1, 0, 0], &steps);
        let goal = Goal {
            temporal: 0,
            instance: 0,
            kind: TemporalKind::LeadsTo,
            p: 0,
            q: Some(1),
        };
        let a = actions(4, &[(false, &[0, 1, 2, 3])]);
        let w = find(&g, &a, &goal).expect("violated");
        assert_eq!(w.prefix.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(w.cycle.iter().map(|s| s.0).collect::<Vec<_>>(), [3, 2]);
        // With Q in state 3 it holds.
        let g = Graph::from_lists(1, vec![0, 1, 0, 2], &steps);
        assert!(find(&g, &a, &goal).is_none());
    }

    #[test]
    fn eventually_always_needs_a_not_p_state_on_the_cycle() {
        // 0 (P) <-> 1 (not P); 2 (P) self-contained: 0 -> 2 -> 2 is stuttering.
        let steps = vec![vec![(1, 0), (2, 2)], vec![(0, 1)], vec![]];
        let g = Graph::from_lists(1, vec![1, 0, 1], &steps);
        let goal = Goal {
            temporal: 0,
            instance: 0,
            kind: TemporalKind::EventuallyAlways,
            p: 0,
            q: None,
        };
        // Weak fairness of instance 2 (0 -> 2): the 0-1 cycle disables it in 1.
        let w = find(&g, &actions(3, &[(false, &[0, 1]), (false, &[2])]), &goal).expect("violated");
        assert_eq!(w.start, 1);
        // Strong: the cycle must take it, which leaves the cycle for good.
        assert!(find(&g, &actions(3, &[(false, &[0, 1]), (true, &[2])]), &goal).is_none());
    }
}
