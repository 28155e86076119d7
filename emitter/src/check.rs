//! What can be emitted faithfully. A node runs its own process instance and
//! sees only its own variables and the messages delivered to it; a step
//! that reads or writes anything else (another instance's variables, the
//! network with `in_flight`, a global variable) has no implementation that
//! behaves as the spec says, so it is refused with the step's location.

use model::ir::{Domain, Expr, Model, Operand, Place, Root, Step, Stmt};
use model::{Diagnostic, Span};

/// Every reason `m` cannot be emitted, as diagnostics on the spec.
pub fn check(m: &Model) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(net) = &m.network else {
        out.push(
            Diagnostic::error(
                Span::default(),
                "nothing to emit: the spec has no processes",
            )
            .label("`fathom emit` turns processes into programs")
            .note("declare `process` blocks, `type Msg` and a `network { ... }`"),
        );
        return out;
    };
    for init in &m.inits {
        out.push(
            Diagnostic::error(init.span, "an `init` block cannot be emitted")
                .label("it chooses among initial states; a node starts in one")
                .note("give each process variable its initial value in its declaration"),
        );
    }
    let owned: Vec<usize> = m
        .processes
        .iter()
        .flat_map(|p| p.rules.iter().map(|(r, _)| *r))
        .collect();
    for (r, rule) in m.rules.iter().enumerate() {
        if !owned.contains(&r) && !rule.name.starts_with("network.") {
            out.push(
                Diagnostic::error(
                    rule.span,
                    format!("rule `{}` belongs to no process", rule.name),
                )
                .label("a step outside every process")
                .note("a node runs only its own process's steps: move it into a process"),
            );
        }
    }
    for (pi, p) in m.processes.iter().enumerate() {
        for &(r, _) in &p.rules {
            let rule = &m.rules[r];
            let handler = p.handlers.iter().find(|h| h.rule == r);
            let (guard, body) = match handler {
                Some(h) => (h.guard.as_ref(), &rule.body[h.consume..]),
                None => (rule.guard.as_ref(), &rule.body[..]),
            };
            let ctx = Ctx {
                m,
                process: pi,
                self_local: rule.params.first().map_or(u32::MAX, |p| p.local),
                network: net.var,
            };
            let mut problems = Vec::new();
            if let Some(g) = guard {
                ctx.expr(g, &mut problems);
            }
            ctx.stmts(body, &mut problems);
            problems.sort();
            problems.dedup();
            for what in problems {
                out.push(
                    Diagnostic::error(
                        rule.span,
                        format!("`{}` cannot be emitted: it {what}", rule.name),
                    )
                    .label("in this step")
                    .note("a node sees only its own variables and the messages it receives"),
                );
            }
        }
    }
    out
}

struct Ctx<'m> {
    m: &'m Model,
    process: usize,
    self_local: u32,
    network: usize,
}

impl Ctx<'_> {
    /// Why an access to state slot `offset` (the instance chosen by
    /// `index`, if known) is not the current instance's own.
    fn access(&self, offset: u32, index_is_self: bool, out: &mut Vec<String>) {
        let Some((v, var)) = self
            .m
            .vars
            .iter()
            .enumerate()
            .find(|(_, v)| v.offset <= offset && offset < v.offset + v.len.max(1))
        else {
            return;
        };
        let p = &self.m.processes[self.process];
        if v == self.network {
            out.push(
                "reads the network (`in_flight`): no node can see the messages in flight".into(),
            );
        } else if var.process != Some(self.process as u32) {
            out.push(format!(
                "uses `{}`, which is not this process's variable",
                var.name
            ));
        } else if !index_is_self && p.count > 1 {
            out.push(format!(
                "uses `{}` of another instance of `{}`",
                var.name, p.name
            ));
        }
    }

    fn is_self(&self, e: &Expr) -> bool {
        match e {
            Expr::Local(l) => *l == self.self_local,
            Expr::Read(Place { root: Root::Local, offset, steps, .. }) => {
                *offset == self.self_local && steps.is_empty()
            }
            _ => false,
        }
    }

    fn place(&self, place: &Place, out: &mut Vec<String>) {
        for step in &place.steps {
            if let Step::Index { index, .. } | Step::SeqIndex { index, .. } = step {
                self.expr(index, out);
            }
        }
        if place.root == Root::State {
            let index_is_self = matches!(place.steps.first(),
                Some(Step::Index { index, .. }) if self.is_self(index));
            self.access(place.offset, index_is_self, out);
        }
    }

    fn operand(&self, o: &Operand, out: &mut Vec<String>) {
        match o {
            Operand::Slot(s) => self.access(*s, false, out),
            Operand::SlotAt { offset, local, .. } => {
                self.access(*offset, *local == self.self_local, out)
            }
            Operand::Int(_) | Operand::Local(_) => {}
        }
    }

    fn expr(&self, e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::Slot(s) => self.access(*s, false, out),
            Expr::Bit { offset, .. } => self.access(*offset, false, out),
            Expr::SlotAt { offset, index, .. } => self.access(*offset, self.is_self(index), out),
            Expr::Test { a, b, .. } => {
                self.operand(a, out);
                self.operand(b, out);
            }
            Expr::Read(place) => {
                self.place(place, out);
                return; // the place visited its index expressions
            }
            _ => {}
        }
        e.for_each_child(&mut |c| self.expr(c, out));
    }

    fn domain(&self, d: &Domain, out: &mut Vec<String>) {
        match d {
            Domain::Type(_) => {}
            Domain::Set { set, .. } => self.expr(set, out),
            Domain::Seq { seq, .. } => self.expr(seq, out),
        }
    }

    fn stmts(&self, list: &[Stmt], out: &mut Vec<String>) {
        for s in list {
            match s {
                Stmt::Assign { place, value, .. } => {
                    self.place(place, out);
                    self.expr(value, out);
                }
                Stmt::Let { value, .. } => self.expr(value, out),
                Stmt::If { cond, then, otherwise } => {
                    self.expr(cond, out);
                    self.stmts(then, out);
                    self.stmts(otherwise, out);
                }
                Stmt::For { domain, body, .. } => {
                    self.domain(domain, out);
                    self.stmts(body, out);
                }
                Stmt::While { cond, body, .. } => {
                    self.expr(cond, out);
                    self.stmts(body, out);
                }
                Stmt::SetAdd { place, elem, .. } | Stmt::Push { place, elem, .. } => {
                    self.place(place, out);
                    self.expr(elem, out);
                }
                Stmt::SetBit { offset, index, .. } => {
                    self.access(*offset, false, out);
                    self.expr(index, out);
                }
                Stmt::Pop { place, at, .. } => {
                    self.place(place, out);
                    if let Some(a) = at {
                        self.expr(a, out);
                    }
                }
                Stmt::Clear { place, .. } => self.place(place, out),
                Stmt::Assert { cond, .. } | Stmt::Cover { cond, .. } => self.expr(cond, out),
                // The lowered form writes the network: the runtime sends instead.
                Stmt::Send { dst, msg, .. } => {
                    self.expr(dst, out);
                    self.expr(msg, out);
                }
            }
        }
    }
}
