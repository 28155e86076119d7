//! Lowering of statements and variable initializers.

use super::expr::project;
use super::{L, Lowerer};
use crate::ast::{self, AssignOp, StmtKind};
use crate::diagnostic::Diagnostic;
use crate::ir::{Expr, IntOp, Place, Root, Step, Stmt, Ty};

impl Lowerer<'_> {
    pub(crate) fn block(&mut self, stmts: &[ast::Stmt]) -> L<Vec<Stmt>> {
        let mark = self.scope();
        let mut out = Vec::new();
        let mut failed = false;
        for s in stmts {
            match self.stmt(s) {
                Ok(st) => out.extend(st),
                Err(_) => failed = true,
            }
        }
        self.pop_scope(mark);
        if failed {
            Err(super::Reported)
        } else {
            Ok(out)
        }
    }

    /// The place a statement writes: a state variable or a part of one.
    fn target(&mut self, e: &ast::Expr) -> L<(Place, Ty)> {
        let (ir, ty) = self.expr(e, None)?;
        match ir {
            Expr::Read(place) if place.root == Root::State => Ok((place, ty)),
            Expr::Read(_) => Err(self.error(
                Diagnostic::error(e.span, "cannot assign to a local name")
                    .label("`let` bindings, parameters and bound variables are read-only"),
            )),
            _ => Err(self.error(
                Diagnostic::error(e.span, "cannot assign to this expression")
                    .label("not a state variable or a part of one"),
            )),
        }
    }

    fn bounds(&self, ty: &Ty) -> Vec<(i64, i64)> {
        let mut b = Vec::new();
        self.types.slot_bounds(ty, &mut b);
        b
    }

    fn stmt(&mut self, s: &ast::Stmt) -> L<Vec<Stmt>> {
        let st = match &s.kind {
            StmtKind::Assign { target, op, value } => {
                let (place, ty) = self.target(target)?;
                let (mut v, vty) = self.expr(value, Some(&ty))?;
                self.expect_ty(&vty, &ty, value.span)?;
                if *op != AssignOp::Set {
                    if !ty.is_int() {
                        return Err(self.error(
                            Diagnostic::error(target.span, "`+=` and `-=` need an integer")
                                .label(format!("this is `{}`", self.types.name(&ty))),
                        ));
                    }
                    let iop = if *op == AssignOp::Add {
                        IntOp::Add
                    } else {
                        IntOp::Sub
                    };
                    v = Expr::Arith(
                        iop,
                        Box::new(Expr::Read(place.clone())),
                        Box::new(v),
                        s.span,
                    );
                }
                Stmt::Assign {
                    place,
                    value: v,
                    bounds: self.bounds(&ty),
                    span: s.span,
                }
            }
            StmtKind::Let { name, value } => {
                let (v, ty) = self.expr(value, None)?;
                let len = self.types.flat_len(&ty);
                let local = self.push_local(&name.name, ty);
                Stmt::Let { local, len, value: v }
            }
            StmtKind::If { cond, then, otherwise } => {
                let cond = self.bool_expr(cond)?;
                let then = self.block(then)?;
                let otherwise = self.block(otherwise)?;
                Stmt::If { cond, then, otherwise }
            }
            StmtKind::For { var, domain, body } => {
                let (domain, elem) = self.domain(domain)?;
                let mark = self.scope();
                let len = self.types.flat_len(&elem);
                let local = self.push_local(&var.name, elem);
                let body = self.block(body);
                self.pop_scope(mark);
                Stmt::For { local, len, domain, body: body? }
            }
            StmtKind::Method { recv, name, args } => self.method(recv, name, args, s)?,
            StmtKind::Assert { cond, message } => {
                let cond = self.bool_expr(cond)?;
                Stmt::Assert {
                    cond,
                    kind: crate::eval::ErrorKind::Assert,
                    message: message.clone(),
                    span: s.span,
                }
            }
            StmtKind::Send { msg, dest } => return self.lower_send(msg, dest, s.span),
            StmtKind::Broadcast { msg, dest } => return self.lower_broadcast(msg, dest, s.span),
            StmtKind::Reply { msg } => return self.lower_reply(msg, s.span),
        };
        Ok(vec![st])
    }

    fn method(
        &mut self,
        recv: &ast::Expr,
        name: &ast::Ident,
        args: &[ast::Expr],
        s: &ast::Stmt,
    ) -> L<Stmt> {
        let (place, ty) = self.target(recv)?;
        let want = match name.name.as_str() {
            "add" | "remove" | "push" => 1,
            "pop" | "clear" => 0,
            other => {
                return Err(self.error(
                    Diagnostic::error(name.span, format!("unknown method `{other}`"))
                        .label("sets have `add` and `remove`; sequences `push`, `pop` and `clear`"),
                ));
            }
        };
        if args.len() != want {
            return Err(self.error(
                Diagnostic::error(
                    s.span,
                    format!(
                        "`{}` takes {want} argument{}",
                        name.name,
                        if want == 1 { "" } else { "s" }
                    ),
                )
                .label(format!("{} given", args.len())),
            ));
        }
        match (name.name.as_str(), &ty) {
            ("add" | "remove", Ty::Set(elem)) => {
                let (e, ety) = self.expr(&args[0], Some(elem))?;
                self.expect_ty(&ety, elem, args[0].span)?;
                Ok(Stmt::SetAdd {
                    place,
                    elem: e,
                    elem_ty: (**elem).clone(),
                    remove: name.name == "remove",
                    span: s.span,
                })
            }
            ("push" | "pop" | "clear", Ty::Seq(elem, cap)) => {
                let stride = self.types.flat_len(elem);
                let mut filler = Vec::new();
                self.types.default_value(elem, &mut filler);
                match name.name.as_str() {
                    "push" => {
                        let (e, ety) = self.expr(&args[0], Some(elem))?;
                        self.expect_ty(&ety, elem, args[0].span)?;
                        Ok(Stmt::Push {
                            place,
                            elem: e,
                            stride,
                            cap: *cap,
                            bounds: self.bounds(elem),
                            span: s.span,
                        })
                    }
                    "pop" => Ok(Stmt::Pop {
                        place,
                        at: None,
                        stride,
                        cap: *cap,
                        filler,
                        span: s.span,
                    }),
                    _ => {
                        let mut all = Vec::new();
                        self.types.default_value(&ty, &mut all);
                        Ok(Stmt::Clear { place, filler: all })
                    }
                }
            }
            _ => Err(self.error(
                Diagnostic::error(
                    name.span,
                    format!(
                        "`{}` does not apply to `{}`",
                        name.name,
                        self.types.name(&ty)
                    ),
                )
                .label("wrong kind of value"),
            )),
        }
    }

    /// `var x: T = e;` — `e` of type T, or of an element type of T (nested
    /// arrays), which then fills every element.
    pub(crate) fn lower_initializer(&mut self, var: usize, init: &ast::Expr) -> L<Vec<Stmt>> {
        let v = self.vars[var].clone();
        let place = Place {
            root: Root::State,
            offset: v.offset,
            steps: vec![],
            len: v.len,
        };
        self.lower_fill(place, v.ty, init)
    }

    /// Statements that store `init` into `place` of type `var_ty`, or into
    /// every element of it when `init` has an element type.
    pub(crate) fn lower_fill(
        &mut self,
        place: Place,
        var_ty: Ty,
        init: &ast::Expr,
    ) -> L<Vec<Stmt>> {
        let mut ty = var_ty.clone();
        let mut places = vec![place];
        loop {
            let fits = {
                let (ir, vty) = match self.try_expr(init, &ty) {
                    Some(x) => x,
                    None => return Err(super::Reported),
                };
                if Self::compatible(&vty, &ty) {
                    Some(ir)
                } else {
                    None
                }
            };
            if let Some(ir) = fits {
                let bounds = self.bounds(&ty);
                return Ok(places
                    .into_iter()
                    .map(|place| Stmt::Assign {
                        place,
                        value: ir.clone(),
                        bounds: bounds.clone(),
                        span: init.span,
                    })
                    .collect());
            }
            let Ty::Array(index, elem) = ty else {
                let (_, vty) = self.expr(init, Some(&var_ty))?;
                self.expect_ty(&vty, &var_ty, init.span)?;
                return Err(super::Reported);
            };
            let (_, count) = self.index_range(&index);
            let stride = self.types.flat_len(&elem);
            places = places
                .into_iter()
                .flat_map(|p| {
                    (0..count).map(move |i| {
                        match project(Expr::Read(p.clone()), 0, Step::Offset(i * stride), stride) {
                            Expr::Read(place) => place,
                            _ => unreachable!("projecting a place gives a place"),
                        }
                    })
                })
                .collect();
            ty = *elem;
        }
    }

    /// Lowers `e` expecting `ty`, without reporting a type mismatch (the
    /// initializer tries element types in turn). Other errors are reported.
    fn try_expr(&mut self, e: &ast::Expr, ty: &Ty) -> Option<(Expr, Ty)> {
        let before = self.diagnostics.len();
        match self.expr(e, Some(ty)) {
            Ok(x) => Some(x),
            Err(_) => {
                // A failed guess at the element type is not the user's error
                // unless no type fits; the caller reports then.
                if matches!(ty, Ty::Array(..)) {
                    self.diagnostics.truncate(before);
                    Some((Expr::Int(0), Ty::Int))
                } else {
                    None
                }
            }
        }
    }
}
