//! A peephole pass over the lowered IR: the most frequent shapes of reads
//! get direct forms that the evaluator (and the GPU code generator) handle
//! without walking places. It changes no meaning: every rewrite computes the
//! same value and raises the same errors.

use crate::ir::{Domain, Expr, Model, Place, Root, Step, Stmt, Types};

pub(crate) fn model(m: &mut Model) {
    let types = m.types.clone();
    let mut rules: Vec<&mut crate::ir::Rule> =
        m.rules.iter_mut().chain(m.inits.iter_mut()).collect();
    for r in rules.iter_mut() {
        if let Some(g) = &mut r.guard {
            expr(g, &types);
        }
        stmts(&mut r.body, &types);
    }
    stmts(&mut m.init_values, &types);
    for p in m
        .invariants
        .iter_mut()
        .chain(&mut m.reachables)
        .chain(&mut m.constraints)
        .chain(&mut m.terminals)
    {
        expr(&mut p.expr, &types);
    }
}

fn stmts(list: &mut [Stmt], types: &Types) {
    for s in list {
        match s {
            Stmt::Assign { place, value, .. } => {
                place_steps(place, types);
                expr(value, types);
            }
            Stmt::Let { value, .. } => expr(value, types),
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                expr(cond, types);
                stmts(then, types);
                stmts(otherwise, types);
            }
            Stmt::For { domain, body, .. } => {
                domain_exprs(domain, types);
                stmts(body, types);
            }
            Stmt::SetAdd { place, elem, .. } | Stmt::Push { place, elem, .. } => {
                place_steps(place, types);
                expr(elem, types);
            }
            Stmt::Pop { place, at, .. } => {
                place_steps(place, types);
                if let Some(a) = at {
                    expr(a, types);
                }
            }
            Stmt::Clear { place, .. } => place_steps(place, types),
            Stmt::Assert { cond, .. } => expr(cond, types),
        }
    }
}

fn place_steps(place: &mut Place, types: &Types) {
    for step in &mut place.steps {
        match step {
            Step::Index { index, .. } | Step::SeqIndex { index, .. } => expr(index, types),
            _ => {}
        }
    }
}

fn domain_exprs(d: &mut Domain, types: &Types) {
    match d {
        Domain::Type(_) => {}
        Domain::Set { set, .. } => expr(set, types),
        Domain::Seq { seq, .. } => expr(seq, types),
    }
}

/// Rewrites children first, then the node itself.
fn expr(e: &mut Expr, types: &Types) {
    match e {
        Expr::Int(_) | Expr::Local(_) | Expr::Slot(_) | Expr::Lit(_) => {}
        Expr::SlotAt { index, .. } => expr(index, types),
        Expr::Read(place) => place_steps(place, types),
        Expr::Neg(a, _) | Expr::Not(a) | Expr::Abs(a, _) | Expr::Len(a, _) => expr(a, types),
        Expr::Arith(_, a, b, _)
        | Expr::Eq { a, b, .. }
        | Expr::And(a, b)
        | Expr::Or(a, b)
        | Expr::Implies(a, b)
        | Expr::SetOp { a, b, .. }
        | Expr::Subseteq { a, b, .. } => {
            expr(a, types);
            expr(b, types);
        }
        Expr::If {
            cond,
            then,
            otherwise,
            ..
        } => {
            expr(cond, types);
            expr(then, types);
            expr(otherwise, types);
        }
        Expr::Concat(parts) => parts.iter_mut().for_each(|p| expr(p, types)),
        Expr::Variant { fields, .. } => fields.iter_mut().for_each(|p| expr(p, types)),
        Expr::SeqLit { elems, .. } | Expr::SetLit { elems, .. } => {
            elems.iter_mut().for_each(|p| expr(p, types))
        }
        Expr::Sub { base, step, .. } => {
            expr(base, types);
            if let Step::Index { index, .. } | Step::SeqIndex { index, .. } = &mut **step {
                expr(index, types);
            }
        }
        Expr::In { elem, set, .. } => {
            expr(elem, types);
            expr(set, types);
        }
        Expr::Card { set, .. } => expr(set, types),
        Expr::IndexOf { value, .. } => expr(value, types),
        Expr::Quant { domain, body, .. } => {
            domain_exprs(domain, types);
            expr(body, types);
        }
        Expr::Let { value, body, .. } => {
            expr(value, types);
            expr(body, types);
        }
    }
    if let Some(direct) = direct_form(e, types) {
        *e = direct;
    }
}

fn direct_form(e: &Expr, types: &Types) -> Option<Expr> {
    match e {
        Expr::Read(p) if p.len == 1 && p.steps.is_empty() => Some(match p.root {
            Root::Local => Expr::Local(p.offset),
            Root::State => Expr::Slot(p.offset),
        }),
        Expr::Read(p) if p.len == 1 && p.root == Root::State && p.steps.len() == 1 => {
            match &p.steps[0] {
                Step::Index {
                    index,
                    lo,
                    count,
                    stride,
                    span,
                } => Some(Expr::SlotAt {
                    offset: p.offset,
                    index: Box::new(index.clone()),
                    lo: *lo,
                    count: *count,
                    stride: *stride,
                    span: *span,
                }),
                _ => None,
            }
        }
        // `constant in set-variable`: one bit of the state.
        Expr::In { elem, elem_ty, set } => {
            let Expr::Read(p) = &**set else { return None };
            if p.root != Root::State || !p.steps.is_empty() {
                return None;
            }
            let index = match &**elem {
                Expr::Int(v) => types.value_index(elem_ty, &[*v]),
                Expr::Lit(v) => types.value_index(elem_ty, v),
                _ => return None,
            };
            Some(match index {
                Some(i) => Expr::Slot(p.offset + i as u32),
                None => Expr::Int(0),
            })
        }
        _ => None,
    }
}
