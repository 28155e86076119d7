//! `assume` as a statement, desugared on the syntax tree before lowering.
//!
//! Rumur abandons a transition whose assumption fails: its successor is
//! discarded, and nothing after the `assume` runs. Here a failing `assume`
//! sets a hidden boolean state variable ([`FLAG`]) and returns; a call of
//! a procedure that may do so is followed by "if the flag is set, return".
//! The lowering then adds the constraint "the flag is clear", so such a
//! successor is neither counted nor explored nor checked (Rumur's meaning),
//! and the IR needs nothing new. A state that satisfies its assumptions
//! always has the flag clear, so the counts are Rumur's.

use std::collections::{HashMap, HashSet};

use model::Span;

use crate::ast::{Category, Expr, Ident, Node, Program, Rule, Stmt, UnOp};

/// The hidden variable's name: not an identifier, so no model can name it.
pub const FLAG: &str = "assumption failed";

/// Rewrites every `assume` statement in rules, startstates and
/// procedures: `Ok(true)` when any was. `Err`: where one cannot be (in a
/// loop, an `alias` or a function with a value, directly or through a
/// procedure it calls), as the places of those statements.
pub fn desugar(program: &mut Program) -> Result<bool, Vec<Span>> {
    // Procedures that may fail an assumption, to a fixpoint over calls.
    let mut assuming: HashSet<String> = HashSet::new();
    let procedures: HashMap<String, &Vec<Stmt>> = program
        .nodes
        .iter()
        .filter_map(|n| match n {
            Node::Function(f) if f.ret.is_none() => Some((f.name.name.clone(), &f.body)),
            _ => None,
        })
        .collect();
    loop {
        let before = assuming.len();
        for (name, body) in &procedures {
            if !assuming.contains(name) && body.iter().any(|s| may_assume(s, &assuming)) {
                assuming.insert(name.clone());
            }
        }
        if assuming.len() == before {
            break;
        }
    }
    let mut any = false;
    let mut unsupported = Vec::new();
    for n in &mut program.nodes {
        match n {
            Node::Function(f) if f.ret.is_none() => {
                any |= rewrite(&mut f.body, &assuming, &mut unsupported);
            }
            Node::Function(f) => unsupported.extend(
                f.body
                    .iter()
                    .filter(|s| may_assume(s, &assuming))
                    .map(Stmt::span),
            ),
            Node::Rule(r) => any |= rewrite_rule(r, &assuming, &mut unsupported),
            _ => {}
        }
    }
    if unsupported.is_empty() {
        Ok(any)
    } else {
        Err(unsupported)
    }
}

fn rewrite_rule(r: &mut Rule, assuming: &HashSet<String>, unsupported: &mut Vec<Span>) -> bool {
    match r {
        Rule::Simple { body, .. } | Rule::Start { body, .. } => {
            rewrite(body, assuming, unsupported)
        }
        Rule::Ruleset(_, rules, _) | Rule::Alias(_, rules, _) => rules
            .iter_mut()
            .fold(false, |any, r| rewrite_rule(r, assuming, unsupported) | any),
        Rule::Property { .. } => false,
    }
}

fn may_assume(s: &Stmt, assuming: &HashSet<String>) -> bool {
    match s {
        Stmt::Property(Category::Assume, ..) => true,
        Stmt::Call(name, _, _) => assuming.contains(&name.name),
        Stmt::If(clauses, _) => clauses
            .iter()
            .any(|(_, b)| b.iter().any(|s| may_assume(s, assuming))),
        Stmt::Switch(_, cases, _) => cases
            .iter()
            .any(|(_, b)| b.iter().any(|s| may_assume(s, assuming))),
        Stmt::For(_, b, _) | Stmt::While(_, b, _) | Stmt::Alias(_, b, _) => {
            b.iter().any(|s| may_assume(s, assuming))
        }
        _ => false,
    }
}

/// Rewrites a block outside loops; true when anything changed.
fn rewrite(body: &mut Vec<Stmt>, assuming: &HashSet<String>, unsupported: &mut Vec<Span>) -> bool {
    let mut any = false;
    let mut out = Vec::with_capacity(body.len());
    for s in body.drain(..) {
        match s {
            Stmt::Property(Category::Assume, _, e, span) => {
                any = true;
                let not = Expr::Unary(UnOp::Not, Box::new(e), span);
                let fail = vec![
                    Stmt::Assign(flag(span), Expr::Id(ident("true", span)), span),
                    Stmt::Return(None, span),
                ];
                out.push(Stmt::If(vec![(Some(not), fail)], span));
            }
            Stmt::Call(name, args, span) if assuming.contains(&name.name) => {
                any = true;
                out.push(Stmt::Call(name, args, span));
                out.push(Stmt::If(
                    vec![(Some(flag(span)), vec![Stmt::Return(None, span)])],
                    span,
                ));
            }
            Stmt::If(mut clauses, span) => {
                for (_, b) in &mut clauses {
                    any |= rewrite(b, assuming, unsupported);
                }
                out.push(Stmt::If(clauses, span));
            }
            Stmt::Switch(e, mut cases, span) => {
                for (_, b) in &mut cases {
                    any |= rewrite(b, assuming, unsupported);
                }
                out.push(Stmt::Switch(e, cases, span));
            }
            s @ (Stmt::For(..) | Stmt::While(..) | Stmt::Alias(..)) => {
                if may_assume(&s, assuming) {
                    unsupported.push(s.span());
                }
                out.push(s);
            }
            s => out.push(s),
        }
    }
    *body = out;
    any
}

fn ident(name: &str, span: Span) -> Ident {
    Ident { name: name.into(), span }
}

fn flag(span: Span) -> Expr {
    Expr::Id(ident(FLAG, span))
}
