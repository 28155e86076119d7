//! A peephole pass over the lowered IR: the most frequent shapes of reads
//! get direct forms that the evaluator (and the GPU code generator) handle
//! without walking places. It changes no meaning: every rewrite computes the
//! same value and raises the same errors.

use crate::ir::{
    CmpOp, Domain, Expr, IntOp, Model, Operand, Place, QuantKind, Root, Step, Stmt, Ty, Types,
};

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
    for h in m.processes.iter_mut().flat_map(|p| &mut p.handlers) {
        if let Some(g) = &mut h.guard {
            expr(g, &types);
        }
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
    for s in list.iter_mut() {
        if let Some(direct) = direct_stmt(s, types) {
            *s = direct;
        }
    }
    for s in list {
        match s {
            Stmt::Assign { place, value, .. } => {
                place_steps(place, types);
                expr(value, types);
            }
            Stmt::Let { value, .. } => expr(value, types),
            Stmt::If { cond, then, otherwise } => {
                expr(cond, types);
                stmts(then, types);
                stmts(otherwise, types);
            }
            Stmt::For { domain, body, .. } => {
                domain_exprs(domain, types);
                stmts(body, types);
            }
            Stmt::While { cond, body, .. } => {
                expr(cond, types);
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
            Stmt::Assert { cond, .. } | Stmt::Cover { cond, .. } => expr(cond, types),
            Stmt::Send { dst, msg, lowered, .. } => {
                expr(dst, types);
                expr(msg, types);
                stmts(lowered, types);
            }
            Stmt::SetBit { index, .. } => expr(index, types),
        }
    }
}

/// `s.add(x)` / `s.remove(x)` on a set variable whose elements are numbered
/// by one scalar: one slot written directly.
fn direct_stmt(s: &Stmt, types: &Types) -> Option<Stmt> {
    let Stmt::SetAdd { place, elem, elem_ty, remove, span } = s else {
        return None;
    };
    if place.root != Root::State || !place.steps.is_empty() {
        return None;
    }
    let Expr::Bit { offset, index, lo, count } = bit(place.offset, elem, elem_ty, types)? else {
        return None;
    };
    Some(Stmt::SetBit {
        offset,
        index: *index,
        lo,
        count,
        value: !remove,
        message: format!("element is outside `{}`", types.name(elem_ty)),
        span: *span,
    })
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
    e.for_each_child_mut(&mut |c| expr(c, types));
    if let Some(direct) = direct_form(e, types) {
        *e = direct;
    }
    if let Some(hoisted) = hoist(e) {
        *e = hoisted;
        expr(e, types);
    }
}

/// Moves a quantifier's loop-invariant left operand out of the loop:
///   forall x in T: !(A && B)      ->  !A || forall x in T: !B
///   forall x in T: A => B         ->  A => forall x in T: B
///   forall x in T: A || B         ->  A || forall x in T: B
///   forall x in T: (A && B) => C  ->  A => forall x in T: (B => C)
///   exists x in T: A && B         ->  A && exists x in T: B
/// where A does not read x. A type is never empty and A is the first thing
/// every iteration evaluates, so values and errors are unchanged.
fn hoist(e: &Expr) -> Option<Expr> {
    let Expr::Quant {
        kind,
        local,
        len,
        domain: domain @ Domain::Type(_),
        body,
    } = e
    else {
        return None;
    };
    let free = |a: &Expr| !reads_local(a, *local, *local + *len);
    let quant = |b: Expr| Expr::Quant {
        kind: *kind,
        local: *local,
        len: *len,
        domain: domain.clone(),
        body: Box::new(b),
    };
    match (kind, &**body) {
        (QuantKind::Forall, Expr::Not(inner)) => match &**inner {
            Expr::And(a, b) if free(a) => Some(Expr::Or(
                Box::new(Expr::Not(a.clone())),
                Box::new(quant(Expr::Not(b.clone()))),
            )),
            _ => None,
        },
        (QuantKind::Forall, Expr::Implies(a, c)) => match &**a {
            _ if free(a) => Some(Expr::Implies(a.clone(), Box::new(quant((**c).clone())))),
            Expr::And(a1, a2) if free(a1) => Some(Expr::Implies(
                a1.clone(),
                Box::new(quant(Expr::Implies(a2.clone(), c.clone()))),
            )),
            _ => None,
        },
        (QuantKind::Forall, Expr::Or(a, b)) if free(a) => {
            Some(Expr::Or(a.clone(), Box::new(quant((**b).clone()))))
        }
        (QuantKind::Exists, Expr::And(a, b)) if free(a) => {
            Some(Expr::And(a.clone(), Box::new(quant((**b).clone()))))
        }
        // A loop-invariant right operand moves first only when neither
        // operand can fail, so the order of evaluation cannot show.
        (QuantKind::Forall, Expr::Or(a, b)) | (QuantKind::Exists, Expr::And(a, b))
            if free(b) && infallible(body, &bound_of(*local, domain)) =>
        {
            let (first, rest) = ((**b).clone(), quant((**a).clone()));
            Some(match kind {
                QuantKind::Forall => Expr::Or(Box::new(first), Box::new(rest)),
                _ => Expr::And(Box::new(first), Box::new(rest)),
            })
        }
        _ => None,
    }
}

/// The range of values a quantifier over a scalar type binds its local to.
fn bound_of(local: u32, domain: &Domain) -> Vec<(u32, i64, i64)> {
    match domain {
        Domain::Type(Ty::Range(lo, hi)) => vec![(local, *lo, *hi)],
        Domain::Type(Ty::Bool) => vec![(local, 0, 1)],
        _ => Vec::new(),
    }
}

/// Whether evaluating `e` can never raise an error, given the ranges of the
/// locals bound around it (conservative: `false` when unsure).
fn infallible(e: &Expr, bound: &[(u32, i64, i64)]) -> bool {
    let f = |x: &Expr| infallible(x, bound);
    let safe = |o: &Operand| match o {
        Operand::SlotAt { local, lo, count, .. } => bound
            .iter()
            .any(|(b, blo, bhi)| b == local && *blo >= *lo && *bhi < *lo + *count as i64),
        _ => true,
    };
    match e {
        Expr::Int(_) | Expr::Local(_) | Expr::Slot(_) | Expr::Lit(_) => true,
        Expr::Test { a, b, .. } => safe(a) && safe(b),
        Expr::Bit { index, .. } => f(index),
        Expr::SlotAt { index, lo, count, .. } => {
            let within = |v_lo: i64, v_hi: i64| v_lo >= *lo && v_hi < *lo + *count as i64;
            match &**index {
                Expr::Int(v) => within(*v, *v),
                Expr::Local(l) => bound
                    .iter()
                    .any(|(b, blo, bhi)| b == l && within(*blo, *bhi)),
                _ => false,
            }
        }
        Expr::Not(a) => f(a),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Implies(a, b) => f(a) && f(b),
        Expr::Eq { a, b, .. } => f(a) && f(b),
        Expr::Arith(op, a, b, _) => {
            matches!(
                op,
                IntOp::Lt | IntOp::Le | IntOp::Gt | IntOp::Ge | IntOp::Min | IntOp::Max
            ) && f(a)
                && f(b)
        }
        Expr::If { cond, then, otherwise, .. } => f(cond) && f(then) && f(otherwise),
        Expr::Quant { local, domain, body, .. } => {
            let mut inner = bound.to_vec();
            inner.extend(bound_of(*local, domain));
            matches!(domain, Domain::Type(_)) && infallible(body, &inner)
        }
        _ => false,
    }
}

/// Whether `e` may read local slots `lo..hi` (conservative).
fn reads_local(e: &Expr, lo: u32, hi: u32) -> bool {
    let operand = |o: &Operand| match o {
        Operand::Local(l) | Operand::SlotAt { local: l, .. } => (lo..hi).contains(l),
        Operand::Int(_) | Operand::Slot(_) => false,
    };
    match e {
        Expr::Local(o) => (lo..hi).contains(o),
        Expr::Test { a, b, .. } => operand(a) || operand(b),
        // A local place that overlaps, or that has dynamic steps: maybe.
        Expr::Read(p)
            if p.root == Root::Local
                && (!p.steps.is_empty() || (p.offset < hi && p.offset + p.len.max(1) > lo)) =>
        {
            true
        }
        _ => {
            let mut any = false;
            e.for_each_child(&mut |c| any = any || reads_local(c, lo, hi));
            any
        }
    }
}

fn operand(e: &Expr) -> Option<Operand> {
    Some(match e {
        Expr::Int(v) => Operand::Int(*v),
        Expr::Local(l) => Operand::Local(*l),
        Expr::Slot(s) => Operand::Slot(*s),
        Expr::SlotAt { offset, index, lo, count, stride, span } => match &**index {
            Expr::Local(l) => Operand::SlotAt {
                offset: *offset,
                local: *l,
                lo: *lo,
                count: *count,
                stride: *stride,
                span: *span,
            },
            _ => return None,
        },
        _ => return None,
    })
}

fn direct_form(e: &Expr, types: &Types) -> Option<Expr> {
    let test =
        |op: CmpOp, a: &Expr, b: &Expr| Some(Expr::Test { op, a: operand(a)?, b: operand(b)? });
    match e {
        Expr::Not(inner) => match &**inner {
            Expr::Test { op, a, b } => {
                let op = match op {
                    CmpOp::Eq => CmpOp::Ne,
                    CmpOp::Ne => CmpOp::Eq,
                    CmpOp::Lt => CmpOp::Ge,
                    CmpOp::Le => CmpOp::Gt,
                    CmpOp::Gt => CmpOp::Le,
                    CmpOp::Ge => CmpOp::Lt,
                };
                Some(Expr::Test { op, a: a.clone(), b: b.clone() })
            }
            _ => None,
        },
        Expr::Eq { len: 1, negate, a, b } => {
            test(if *negate { CmpOp::Ne } else { CmpOp::Eq }, a, b)
        }
        Expr::Arith(IntOp::Lt, a, b, _) => test(CmpOp::Lt, a, b),
        Expr::Arith(IntOp::Le, a, b, _) => test(CmpOp::Le, a, b),
        Expr::Arith(IntOp::Gt, a, b, _) => test(CmpOp::Gt, a, b),
        Expr::Arith(IntOp::Ge, a, b, _) => test(CmpOp::Ge, a, b),
        Expr::Read(p) if p.len == 1 && p.steps.is_empty() => Some(match p.root {
            Root::Local => Expr::Local(p.offset),
            Root::State => Expr::Slot(p.offset),
        }),
        Expr::Read(p) if p.len == 1 && p.root == Root::State && p.steps.len() == 1 => {
            match &p.steps[0] {
                Step::Index { index, lo, count, stride, span } => Some(Expr::SlotAt {
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
                _ => return bit(p.offset, elem, elem_ty, types),
            };
            Some(match index {
                Some(i) => Expr::Slot(p.offset + i as u32),
                None => Expr::Int(0),
            })
        }
        _ => None,
    }
}

/// `x in s` for a state set `s` at `offset` whose elements are numbered by
/// one scalar: a scalar `x`, or a variant with one scalar field.
fn bit(offset: u32, elem: &Expr, elem_ty: &Ty, types: &Types) -> Option<Expr> {
    let scalar = |ty: &Ty| -> Option<(i64, u32)> {
        match ty {
            Ty::Range(lo, hi) => Some((*lo, (hi - lo + 1) as u32)),
            Ty::Bool => Some((0, 2)),
            Ty::Enum(_) if types.flat_len(ty) == 1 => Some((0, types.card(ty)? as u32)),
            _ => None,
        }
    };
    if let Some((lo, count)) = scalar(elem_ty) {
        return Some(Expr::Bit { offset, index: Box::new(elem.clone()), lo, count });
    }
    let (Ty::Enum(id), Expr::Variant { tag, fields, .. }) = (elem_ty, elem) else {
        return None;
    };
    let variant = &types.enums[*id as usize].variants[*tag as usize];
    let [(_, field_ty)] = variant.fields.as_slice() else {
        return None;
    };
    let (lo, count) = scalar(field_ty)?;
    let (base, _) = types.variant_base(*id, *tag);
    Some(Expr::Bit {
        offset: offset + base as u32,
        index: Box::new(fields[0].clone()),
        lo,
        count,
    })
}
