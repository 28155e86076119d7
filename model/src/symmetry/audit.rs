//! The symmetry audit (`fathom check --symmetry-audit`): whether a spec
//! really is symmetric in its `symmetric` types, checked on sampled
//! reachable states rather than trusted. For each sampled state `s` and
//! permutation `p`: every invariant, constraint, terminal and reachable
//! property has the same value at `s` and `p(s)`; every rule instance `i`
//! from `s` and `p(i)` from `p(s)` are both disabled, fail alike, or give
//! successors `p(t)` and `t`; and the initial states are closed under `p`.
//! A step whose result depends on the order of a `for` over a symmetric
//! type, say, fails the last test and is named with its line.

use std::collections::{HashSet, VecDeque};

use super::{Perm, Symmetry};
use crate::ir::{Model, Property};
use crate::span::Span;
use crate::step::{Fired, Stepper};

/// What to sample.
#[derive(Clone, Copy, Debug)]
pub struct AuditConfig {
    /// States to sample: the first half breadth-first from the initial
    /// states, the rest at the ends of seeded random walks (deeper states).
    pub states: usize,
    pub seed: u64,
}

/// Where the spec is not symmetric.
#[derive(Clone, Debug)]
pub struct Finding {
    /// What broke it, as a person names it: "rule `Grant`", "invariant `Safe`".
    pub what: String,
    pub span: Span,
    pub message: String,
}

/// What the audit did and found.
#[derive(Clone, Debug)]
pub struct AuditReport {
    pub states: usize,
    /// Permutations tried per state (all of them for small groups, else
    /// every transposition, which generate the group, and random ones).
    pub permutations: usize,
    /// Comparisons made (property values and rule instances).
    pub checks: u64,
    pub finding: Option<Finding>,
}

/// A small seeded generator (splitmix64): the samples depend on the seed
/// alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// How a permutation reads: `Node#0→Node#1, Node#1→Node#0`.
fn describe(sym: &Symmetry, perm: &Perm) -> String {
    let mut out = Vec::new();
    for (k, (name, n)) in sym.types().iter().enumerate() {
        let b = sym.bases()[k];
        for v in 0..*n as usize {
            let w = perm.map[b + v] as usize;
            if w != v {
                out.push(format!("{name}#{v}→{name}#{w}"));
            }
        }
    }
    if out.is_empty() {
        "the identity".into()
    } else {
        out.join(", ")
    }
}

/// The variable holding the first slot where `a` and `b` differ.
fn first_difference(model: &Model, a: &[i64], b: &[i64]) -> String {
    let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0) as u32;
    model
        .vars
        .iter()
        .find(|v| (v.offset..v.offset + v.len.max(1)).contains(&at))
        .map_or_else(|| "a variable".into(), |v| format!("`{}`", v.name))
}

/// The permutations to try: the whole group when it is small, else each
/// transposition of each type and a few random permutations.
fn permutations(sym: &Symmetry, rng: &mut Rng) -> Vec<Perm> {
    if sym.group_order().is_some_and(|n| n <= 120) {
        let id = sym.identity();
        return sym.all_perms().into_iter().filter(|p| *p != id).collect();
    }
    let mut out = Vec::new();
    for (k, &n) in sym.sizes().iter().enumerate() {
        let b = sym.bases()[k];
        for i in 0..n as usize {
            for j in i + 1..n as usize {
                let mut p = sym.identity();
                p.map.swap(b + i, b + j);
                out.push(p);
            }
        }
    }
    for _ in 0..4 {
        let mut p = sym.identity();
        for (k, &n) in sym.sizes().iter().enumerate() {
            let b = sym.bases()[k];
            for i in (1..n as usize).rev() {
                p.map.swap(b + i, b + rng.below(i + 1));
            }
        }
        out.push(p);
    }
    out
}

/// Samples reachable states of the whole (unreduced) state space.
fn sample(model: &Model, cfg: AuditConfig, rng: &mut Rng) -> Vec<Vec<i64>> {
    let mut stepper = Stepper::new(model);
    let Ok(init) = stepper.initial_states() else {
        return Vec::new();
    };
    let mut seen: HashSet<Vec<i64>> = HashSet::new();
    let mut out = Vec::new();
    let mut queue: VecDeque<Vec<i64>> = init.iter().cloned().collect();
    let mut next = Vec::new();
    let instances = model.instance_count();
    let breadth = cfg.states.div_ceil(2);
    while let Some(s) = queue.pop_front() {
        if out.len() >= breadth {
            break;
        }
        if !seen.insert(s.clone()) {
            continue;
        }
        for i in 0..instances {
            if stepper.fire(i, &s, &mut next) == Ok(Fired::Enabled) {
                queue.push_back(next.clone());
            }
        }
        out.push(s);
    }
    // Random walks for deeper states, each ending at a fresh one.
    let mut tries = 0;
    while out.len() < cfg.states && tries < cfg.states * 4 && !init.is_empty() {
        tries += 1;
        let mut s = init[rng.below(init.len())].clone();
        let depth = 1 + rng.below(200);
        for _ in 0..depth {
            let mut enabled: Vec<Vec<i64>> = Vec::new();
            for i in 0..instances {
                if stepper.fire(i, &s, &mut next) == Ok(Fired::Enabled) {
                    enabled.push(next.clone());
                }
            }
            if enabled.is_empty() {
                break;
            }
            s = enabled[rng.below(enabled.len())].clone();
        }
        if seen.insert(s.clone()) {
            out.push(s);
        }
    }
    out
}

/// Audits `model`'s symmetry.
pub fn audit(model: &Model, sym: &Symmetry, cfg: AuditConfig) -> AuditReport {
    let mut rng = Rng(cfg.seed);
    let perms = permutations(sym, &mut rng);
    let states = sample(model, cfg, &mut rng);
    let mut report = AuditReport {
        states: states.len(),
        permutations: perms.len(),
        checks: 0,
        finding: None,
    };
    let mut stepper = Stepper::new(model);
    // The initial states are closed under every permutation.
    if let Ok(init) = stepper.initial_states() {
        let set: HashSet<&Vec<i64>> = init.iter().collect();
        let mut image = Vec::new();
        for s in &init {
            for p in &perms {
                report.checks += 1;
                sym.apply(s, p, &mut image);
                if !set.contains(&image) {
                    let span = model.inits.first().map_or_else(
                        || model.vars.first().map(|v| v.span).unwrap_or_default(),
                        |r| r.span,
                    );
                    report.finding = Some(Finding {
                        what: "the initial states".into(),
                        span,
                        message: format!(
                            "an initial state permuted by {} is not an initial state (it differs in {})",
                            describe(sym, p),
                            first_difference(model, s, &image)
                        ),
                    });
                    return report;
                }
            }
        }
    }
    let groups: [(&str, &[Property]); 4] = [
        ("invariant", &model.invariants),
        ("constraint", &model.constraints),
        ("terminal", &model.terminals),
        ("reachable", &model.reachables),
    ];
    let instances = model.instance_count();
    let (mut image, mut a, mut b, mut pa) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for s in &states {
        for p in &perms {
            sym.apply(s, p, &mut image);
            for (kind, props) in groups {
                for prop in props {
                    report.checks += 1;
                    let x = stepper.ev.bool(&prop.expr, s).map_err(|e| e.kind);
                    let y = stepper.ev.bool(&prop.expr, &image).map_err(|e| e.kind);
                    if x != y {
                        report.finding = Some(Finding {
                            what: format!("{kind} `{}`", prop.name),
                            span: prop.span,
                            message: format!(
                                "it is {} in a reachable state and {} in the state permuted by {}",
                                outcome(&x),
                                outcome(&y),
                                describe(sym, p)
                            ),
                        });
                        return report;
                    }
                }
            }
            for i in 0..instances {
                report.checks += 1;
                let Some(j) = sym.permute_instance(model, i, p) else {
                    continue;
                };
                let x = stepper.fire(i, s, &mut a).map_err(|e| e.kind);
                let y = stepper.fire(j, &image, &mut b).map_err(|e| e.kind);
                let problem = match (&x, &y) {
                    (Ok(Fired::Enabled), Ok(Fired::Enabled)) => {
                        sym.apply(&a, p, &mut pa);
                        (pa != b).then(|| {
                            format!(
                                "its successor, permuted, is not the successor of the permuted state by `{}` (they differ in {})",
                                stepper.instance_label(j),
                                first_difference(model, &pa, &b)
                            )
                        })
                    }
                    _ if x == y => None,
                    _ => Some(format!(
                        "it is {} from a reachable state, and `{}` is {} from the state permuted by {}",
                        fired(&x),
                        stepper.instance_label(j),
                        fired(&y),
                        describe(sym, p)
                    )),
                };
                if let Some(message) = problem {
                    let (r, _) = model.rule_of_instance(i).unwrap_or((0, 0));
                    let message = if message.starts_with("its successor") {
                        format!("{message}; the permutation: {}", describe(sym, p))
                    } else {
                        message
                    };
                    report.finding = Some(Finding {
                        what: format!("rule instance `{}`", stepper.instance_label(i)),
                        span: model.rules[r].span,
                        message,
                    });
                    return report;
                }
            }
        }
    }
    report
}

fn outcome(x: &Result<bool, crate::eval::ErrorKind>) -> String {
    match x {
        Ok(true) => "true".into(),
        Ok(false) => "false".into(),
        Err(k) => format!("an error ({k:?})"),
    }
}

fn fired(x: &Result<Fired, crate::eval::ErrorKind>) -> String {
    match x {
        Ok(Fired::Enabled) => "enabled".into(),
        Ok(Fired::Disabled) => "disabled".into(),
        Err(k) => format!("an error ({k:?})"),
    }
}
