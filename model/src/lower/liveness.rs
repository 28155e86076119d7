//! Liveness declarations: temporal `property`s and fairness (`fair`,
//! `fair+`, `fairness weak|strong: ...`), lowered to `ir::Temporal` and
//! `ir::Fairness`.

use crate::ast::{self, Item};
use crate::diagnostic::Diagnostic;
use crate::ir::{self, FairScope, Fairness, Rule, Temporal};

use super::{L, Lowerer};

impl Lowerer<'_> {
    /// A `property`: its `forall` binders become parameters (one property
    /// instance per binding), P and Q boolean state expressions.
    pub(super) fn lower_temporal(&mut self, d: &ast::PropertyDecl) -> L<Temporal> {
        self.begin_rule_frame();
        let mut instances = 1u64;
        let params = self.lower_params(&d.binders, &mut instances)?;
        let p = self.bool_expr(&d.p);
        let q = match &d.q {
            Some(q) => Some(self.bool_expr(q)?),
            None => None,
        };
        Ok(Temporal {
            name: d.name.name.clone(),
            kind: d.kind,
            params,
            instances,
            p: p?,
            q,
            frame_len: self.frame_len,
            span: d.span,
        })
    }

    /// Every fairness condition of the spec, in declaration order. Called
    /// once all rules are lowered without error, so the model's rule
    /// numbers follow the file: top-level rules first, then each process's
    /// rules and handlers, as `lower_process_steps` numbered them.
    pub(super) fn fairness(
        &mut self,
        file: &ast::SpecFile,
        rules: &[Rule],
        processes: &[ir::Process],
    ) -> Vec<Fairness> {
        let mut out = Vec::new();
        let mut top = 0usize;
        let mut process = 0usize;
        let mark = |m: &ast::FairMark, scope| Fairness { strong: m.strong, scope, span: m.span };
        for item in &file.items {
            match item {
                Item::Rule(r) => {
                    if let Some(m) = &r.fair {
                        out.push(mark(m, FairScope::EachInstance(top)));
                    }
                    top += 1;
                }
                Item::Process(p) => {
                    let steps = &processes[process].rules;
                    assert_eq!(
                        steps.len(),
                        p.rules.len() + p.handlers.len(),
                        "a process's steps are its rules, then its handlers"
                    );
                    if let Some(m) = &p.fair {
                        out.push(mark(m, FairScope::EachProcess(process)));
                    }
                    let marks = p.rules.iter().map(|r| &r.fair);
                    let marks = marks.chain(p.handlers.iter().map(|h| &h.fair));
                    for (&(rule, _), m) in steps.iter().zip(marks) {
                        if let Some(m) = m {
                            out.push(mark(m, FairScope::EachInstance(rule)));
                        }
                    }
                    process += 1;
                }
                _ => {}
            }
        }
        for item in &file.items {
            if let Item::Fairness(f) = item
                && let Ok(rules) = self.fairness_targets(f, rules, processes)
            {
                out.push(Fairness {
                    strong: f.strong,
                    scope: FairScope::Rules(rules),
                    span: f.span,
                });
            }
        }
        out
    }

    /// The rules a `fairness` declaration names: `all`, a rule, a
    /// process's rule (`P.R`), a process (all its steps).
    fn fairness_targets(
        &mut self,
        f: &ast::FairnessDecl,
        rules: &[Rule],
        processes: &[ir::Process],
    ) -> L<Vec<usize>> {
        let Some(targets) = &f.targets else {
            return Ok((0..rules.len()).collect());
        };
        let mut out = Vec::new();
        for path in targets {
            let name: Vec<&str> = path.iter().map(|i| i.name.as_str()).collect();
            let name = name.join(".");
            let span = path[0].span.to(path[path.len() - 1].span);
            if let Some(p) = processes.iter().find(|p| p.name == name) {
                out.extend(p.rules.iter().map(|r| r.0));
            } else if let Some(r) = rules.iter().position(|r| r.name == name) {
                out.push(r);
            } else {
                return Err(self.error(
                    Diagnostic::error(span, format!("no rule or process `{name}`"))
                        .label("fairness names rules (`R`, `Proc.R`) or processes")
                        .note(format!(
                            "the spec's steps: {}",
                            rules
                                .iter()
                                .map(|r| r.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                ));
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}
