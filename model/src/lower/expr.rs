//! Lowering of expressions: name lookup, bare-variant resolution by the
//! expected type, and type checking.

use super::{L, Lowerer};
use crate::ast::{self, BinOp, ExprKind};
use crate::diagnostic::Diagnostic;
use crate::ir::{Domain, Expr, IntOp, Place, QuantKind, Root, SetOp, Step, Ty};
use crate::span::Span;

impl Lowerer<'_> {
    pub(crate) fn bool_expr(&mut self, e: &ast::Expr) -> L<Expr> {
        let (ir, ty) = self.expr(e, Some(&Ty::Bool))?;
        self.expect_ty(&ty, &Ty::Bool, e.span)?;
        Ok(ir)
    }

    pub(crate) fn int_expr(&mut self, e: &ast::Expr) -> L<Expr> {
        let (ir, ty) = self.expr(e, Some(&Ty::Int))?;
        if !ty.is_int() {
            return Err(self.mismatch("an integer", &ty, e.span));
        }
        Ok(ir)
    }

    /// An operand of an integer operation `op` (`+`, `<`, `min`, ...): as
    /// [`Self::int_expr`], naming the operation when the operand is
    /// symmetric (LANGUAGE.md, "Symmetry").
    fn int_operand(&mut self, e: &ast::Expr, op: &str, what: &str) -> L<Expr> {
        let (ir, ty) = self.expr(e, Some(&Ty::Int))?;
        if let Ty::Sym(_) = ty {
            let name = self.types.name(&ty);
            return Err(self.error(
                Diagnostic::error(
                    e.span,
                    format!("{what} (`{op}`) on a value of symmetric type `{name}`"),
                )
                .label(format!("this is `{name}`, which has no {what}"))
                .note(SYM_NOTE),
            ));
        }
        if !ty.is_int() {
            return Err(self.mismatch("an integer", &ty, e.span));
        }
        Ok(ir)
    }

    fn mismatch(&mut self, expected: &str, found_ty: &Ty, span: Span) -> super::Reported {
        let found = self.types.name(found_ty);
        let mut d = Diagnostic::error(
            span,
            format!("type mismatch: expected {expected}, found `{found}`"),
        )
        .label(format!("this is `{found}`"));
        if matches!(found_ty, Ty::Sym(_)) {
            d = d.note(SYM_NOTE);
        } else if expected.starts_with('`')
            && self
                .types
                .syms
                .iter()
                .any(|t| expected == format!("`{}`", t.name))
            && found_ty.is_int()
        {
            d = d.note(
                "a symmetric type's values have no literals and no conversion from integers: \
                 bind one with a parameter, a quantifier or a `for` over the type",
            );
        }
        self.error(d)
    }

    /// Whether a value of `from` may be used where `to` is expected.
    pub(crate) fn compatible(from: &Ty, to: &Ty) -> bool {
        (from.is_int() && to.is_int()) || from == to
    }

    pub(crate) fn expect_ty(&mut self, found: &Ty, expected: &Ty, span: Span) -> L<()> {
        if Self::compatible(found, expected) {
            Ok(())
        } else {
            let name = format!("`{}`", self.types.name(expected));
            Err(self.mismatch(&name, found, span))
        }
    }

    pub(crate) fn expr(&mut self, e: &ast::Expr, expected: Option<&Ty>) -> L<(Expr, Ty)> {
        match &e.kind {
            ExprKind::Int(v) => Ok((Expr::Int(*v), Ty::Int)),
            ExprKind::Bool(b) => Ok((Expr::Int(*b as i64), Ty::Bool)),
            ExprKind::Name(name) => self.name(name, e.span, expected),
            ExprKind::SelfRef => match self.current {
                Some(cur) => {
                    let ty = self.processes[cur.process].index.clone();
                    let place = Place {
                        root: Root::Local,
                        offset: cur.self_local,
                        steps: vec![],
                        len: 1,
                    };
                    Ok((Expr::Read(place), ty))
                }
                None => Err(self.error(
                    Diagnostic::error(e.span, "`self` outside a process").label("no process here"),
                )),
            },
            ExprKind::Neg(a) => {
                let a = self.int_operand(a, "-", "arithmetic")?;
                Ok((Expr::Neg(Box::new(a), e.span), Ty::Int))
            }
            ExprKind::Not(a) => {
                let a = self.bool_expr(a)?;
                Ok((Expr::Not(Box::new(a)), Ty::Bool))
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e.span, expected),
            ExprKind::If(c, a, b) => {
                let c = self.bool_expr(c)?;
                let (a_ir, a_ty) = self.expr(a, expected)?;
                let (b_ir, b_ty) = self.expr(b, Some(expected.unwrap_or(&a_ty)))?;
                let ty = if a_ty.is_int() && b_ty.is_int() {
                    if a_ty == b_ty { a_ty } else { Ty::Int }
                } else {
                    self.expect_ty(&b_ty, &a_ty, b.span)?;
                    a_ty
                };
                let len = self.types.flat_len(&ty);
                let ir = Expr::If {
                    cond: Box::new(c),
                    then: Box::new(a_ir),
                    otherwise: Box::new(b_ir),
                    len,
                };
                Ok((ir, ty))
            }
            ExprKind::SetLit(elems) => self.set_literal(elems, e.span, expected),
            ExprKind::SeqLit(elems) => {
                let Some(Ty::Seq(elem, cap)) = expected else {
                    return Err(self.error(
                        Diagnostic::error(e.span, "cannot tell the type of this sequence")
                            .label("use it where a `seq[T; K]` is expected"),
                    ));
                };
                let (elem, cap) = ((**elem).clone(), *cap);
                if elems.len() > cap as usize {
                    return Err(self.error(
                        Diagnostic::error(e.span, "sequence literal is longer than its capacity")
                            .label(format!("{} elements, capacity {cap}", elems.len())),
                    ));
                }
                let mut items = Vec::new();
                for x in elems {
                    let (ir, ty) = self.expr(x, Some(&elem))?;
                    self.expect_ty(&ty, &elem, x.span)?;
                    items.push(ir);
                }
                let mut padding = Vec::new();
                for _ in elems.len()..cap as usize {
                    self.types.default_value(&elem, &mut padding);
                }
                Ok((
                    Expr::SeqLit { elems: items, padding },
                    Ty::Seq(Box::new(elem), cap),
                ))
            }
            ExprKind::Struct { path, fields } => {
                self.struct_literal(path, fields, e.span, expected)
            }
            ExprKind::Quant { kind, var, domain, body } => {
                let (domain, elem) = self.domain(domain)?;
                let mark = self.scope();
                let local = self.push_local(&var.name, elem.clone());
                let len = self.types.flat_len(&elem);
                let kind = match kind {
                    ast::QuantKind::Forall => QuantKind::Forall,
                    ast::QuantKind::Exists => QuantKind::Exists,
                    ast::QuantKind::Count => QuantKind::Count,
                    ast::QuantKind::Sum => QuantKind::Sum,
                };
                let body = if kind == QuantKind::Sum {
                    self.int_expr(body)
                } else {
                    self.bool_expr(body)
                };
                self.pop_scope(mark);
                let ty = if matches!(kind, QuantKind::Forall | QuantKind::Exists) {
                    Ty::Bool
                } else {
                    Ty::Int
                };
                Ok((
                    Expr::Quant { kind, local, len, domain, body: Box::new(body?) },
                    ty,
                ))
            }
            ExprKind::Call { func, args } => self.call(func, args, e.span, expected),
            ExprKind::Index(base, index) => {
                if let Some(p) = self.process_name(base) {
                    let index_ty = self.processes[p].index.clone();
                    let (i, i_ty) = self.expr(index, Some(&index_ty))?;
                    self.expect_ty(&i_ty, &index_ty, index.span)?;
                    return Ok((self.pid_of(p, i), self.pid_ty()));
                }
                let (base_ir, base_ty) = self.expr(base, None)?;
                match base_ty {
                    Ty::Array(index_ty, elem) => {
                        let (i, i_ty) = self.expr(index, Some(&index_ty))?;
                        self.expect_ty(&i_ty, &index_ty, index.span)?;
                        let (lo, count) = self.index_range(&index_ty);
                        let stride = self.types.flat_len(&elem);
                        let step = Step::Index { index: i, lo, count, stride, span: index.span };
                        let base_len = count * stride;
                        Ok((project(base_ir, base_len, step, stride), *elem))
                    }
                    Ty::Seq(elem, cap) => {
                        let i = self.int_expr(index)?;
                        let stride = self.types.flat_len(&elem);
                        let step = Step::SeqIndex { index: i, stride, span: e.span };
                        Ok((project(base_ir, 1 + cap * stride, step, stride), *elem))
                    }
                    other => Err(self.mismatch("an array or a sequence", &other, base.span)),
                }
            }
            ExprKind::Field(base, field) => {
                if let Some(p) = self.process_name(base) {
                    if !self.processes[p].singleton {
                        let name = self.processes[p].name.clone();
                        return Err(self.error(
                            Diagnostic::error(base.span, format!("`{name}` has many instances"))
                                .label(format!("name one: `{name}[i].{}`", field.name)),
                        ));
                    }
                    let lo = self.processes[p].lo;
                    return self.process_var(p, Expr::Int(lo), field);
                }
                if let ExprKind::Index(inner, index) = &base.kind
                    && let Some(p) = self.process_name(inner)
                {
                    let index_ty = self.processes[p].index.clone();
                    let (i, i_ty) = self.expr(index, Some(&index_ty))?;
                    self.expect_ty(&i_ty, &index_ty, index.span)?;
                    return self.process_var(p, i, field);
                }
                if let ExprKind::Name(t) = &base.kind
                    && self.type_decls.contains_key(t)
                    && !self.is_value_name(base)
                {
                    return self.qualified_variant(t, base.span, field);
                }
                let (base_ir, base_ty) = self.expr(base, None)?;
                self.field(base_ir, base_ty, field, base.span)
            }
            ExprKind::Is(base, variant) => {
                let (base_ir, base_ty) = self.expr(base, None)?;
                let Ty::Enum(id) = base_ty else {
                    return Err(self.mismatch("an enum", &base_ty, base.span));
                };
                let Some(tag) = self.types.enums[id as usize]
                    .variants
                    .iter()
                    .position(|v| v.name == variant.name)
                else {
                    let name = self.types.enums[id as usize].name.clone();
                    return Err(self.error(
                        Diagnostic::error(
                            variant.span,
                            format!("`{name}` has no variant `{}`", variant.name),
                        )
                        .label("unknown variant"),
                    ));
                };
                let len = self.types.flat_len(&base_ty);
                let tag_ir = project(base_ir, len, Step::Offset(0), 1);
                Ok((eq(tag_ir, Expr::Int(tag as i64), 1, false), Ty::Bool))
            }
            ExprKind::Method { name, .. } => Err(self.error(
                Diagnostic::error(
                    name.span,
                    format!("`.{}(...)` is a statement, not a value", name.name),
                )
                .label("methods change state and can only stand alone"),
            )),
        }
    }

    fn name(&mut self, name: &str, span: Span, expected: Option<&Ty>) -> L<(Expr, Ty)> {
        if let Some((offset, ty)) = self.find_local(name) {
            let len = self.types.flat_len(&ty);
            return Ok((
                Expr::Read(Place { root: Root::Local, offset, steps: vec![], len }),
                ty,
            ));
        }
        if !self.const_context
            && let Some(found) = self.own_var(name, span)
        {
            return found;
        }
        if let Some(&p) = self.proc_index.get(name) {
            if !self.processes[p].singleton {
                return Err(self.error(
                    Diagnostic::error(span, format!("`{name}` has many instances"))
                        .label(format!("name one: `{name}[i]`")),
                ));
            }
            let pid = self.processes[p].first_pid as i64;
            return Ok((Expr::Int(pid), self.pid_ty()));
        }
        if self.const_context
            && (self.var_names.contains(name) || self.var_index.contains_key(name))
        {
            return Err(self.error(
                Diagnostic::error(
                    span,
                    format!("`{name}` is a state variable, not a constant"),
                )
                .label("constant expressions cannot read state"),
            ));
        }
        if let Some(&index) = self.var_index.get(name) {
            let v = &self.vars[index];
            let place = Place {
                root: Root::State,
                offset: v.offset,
                steps: vec![],
                len: v.len,
            };
            return Ok((Expr::Read(place), v.ty.clone()));
        }
        if self.const_decls.contains_key(name) || self.overrides.contains_key(name) {
            return Ok((Expr::Int(self.const_value(name, span)?), Ty::Int));
        }
        if let Some((id, tag)) = self.variant_by_name(name, span, expected)? {
            let def = &self.types.enums[id as usize];
            if !def.variants[tag as usize].fields.is_empty() {
                return Err(self.error(
                    Diagnostic::error(span, format!("variant `{name}` has fields"))
                        .label(format!("write `{name} {{ ... }}` with its fields")),
                ));
            }
            return Ok(self.fieldless_variant(id, tag));
        }
        if self.type_decls.contains_key(name) {
            return Err(self.error(
                Diagnostic::error(span, format!("`{name}` is a type, not a value"))
                    .label("a type here")
                    .note("write `all(T)` for the set of every value of a type"),
            ));
        }
        Err(self
            .error(Diagnostic::error(span, format!("unknown name `{name}`")).label("not declared")))
    }

    /// Finds the enum of a bare variant name: the expected enum if it has the
    /// variant, else the only enum that has it.
    fn variant_by_name(
        &mut self,
        name: &str,
        span: Span,
        expected: Option<&Ty>,
    ) -> L<Option<(u32, u32)>> {
        if let Some(Ty::Enum(id)) = expected
            && let Some(tag) = self.types.enums[*id as usize]
                .variants
                .iter()
                .position(|v| v.name == name)
        {
            return Ok(Some((*id, tag as u32)));
        }
        // Named enums only: resolve each declared type (they are cached).
        let mut found = Vec::new();
        // A type being resolved right now (this name is inside its own
        // definition) cannot be asked: that would report it as recursive.
        let names: Vec<String> = self
            .type_decls
            .keys()
            .filter(|t| !self.type_in_progress.contains(*t))
            .cloned()
            .collect();
        for t in names {
            if let Ok(Ty::Enum(id)) = self.named_type(&t, span)
                && let Some(tag) = self.types.enums[id as usize]
                    .variants
                    .iter()
                    .position(|v| v.name == name)
                && !found.iter().any(|(i, _, _)| *i == id)
            {
                found.push((id, tag as u32, t));
            }
        }
        match found.len() {
            0 => Ok(None),
            1 => Ok(Some((found[0].0, found[0].1))),
            _ => {
                let mut names: Vec<String> = found
                    .iter()
                    .map(|(_, _, t)| format!("`{t}.{name}`"))
                    .collect();
                names.sort();
                Err(self.error(
                    Diagnostic::error(span, format!("`{name}` is a variant of several enums"))
                        .label("ambiguous variant")
                        .note(format!("write one of {}", names.join(", "))),
                ))
            }
        }
    }

    /// `Type.variant`, a fieldless variant named with its enum.
    fn qualified_variant(
        &mut self,
        ty_name: &str,
        span: Span,
        variant: &ast::Ident,
    ) -> L<(Expr, Ty)> {
        let ty = self.named_type(ty_name, span)?;
        let Ty::Enum(id) = ty else {
            return Err(self.mismatch("an enum", &ty, span));
        };
        let def = &self.types.enums[id as usize];
        let Some(tag) = def.variants.iter().position(|v| v.name == variant.name) else {
            let name = def.name.clone();
            return Err(self.error(
                Diagnostic::error(
                    variant.span,
                    format!("`{name}` has no variant `{}`", variant.name),
                )
                .label("unknown variant"),
            ));
        };
        if !def.variants[tag].fields.is_empty() {
            return Err(self.error(
                Diagnostic::error(
                    variant.span,
                    format!("variant `{}` has fields", variant.name),
                )
                .label(format!(
                    "write `{ty_name}.{} {{ ... }}` with its fields",
                    variant.name
                )),
            ));
        }
        Ok(self.fieldless_variant(id, tag as u32))
    }

    /// The value of a variant without fields: its tag, with the other
    /// variants' field slots at their canonical filler.
    fn fieldless_variant(&self, id: u32, tag: u32) -> (Expr, Ty) {
        let ty = Ty::Enum(id);
        if self.types.flat_len(&ty) == 1 {
            return (Expr::Int(tag as i64), ty);
        }
        let mut value = Vec::new();
        self.types.default_value(&ty, &mut value);
        value[0] = tag as i64;
        (Expr::Lit(value), ty)
    }

    fn binary(
        &mut self,
        op: BinOp,
        a: &ast::Expr,
        b: &ast::Expr,
        span: Span,
        expected: Option<&Ty>,
    ) -> L<(Expr, Ty)> {
        let int_op = match op {
            BinOp::Add => Some(IntOp::Add),
            BinOp::Sub => Some(IntOp::Sub),
            BinOp::Mul => Some(IntOp::Mul),
            BinOp::Div => Some(IntOp::Div),
            BinOp::Mod => Some(IntOp::Mod),
            BinOp::Lt => Some(IntOp::Lt),
            BinOp::Le => Some(IntOp::Le),
            BinOp::Gt => Some(IntOp::Gt),
            BinOp::Ge => Some(IntOp::Ge),
            _ => None,
        };
        if let Some(iop) = int_op {
            let what = match iop {
                IntOp::Lt | IntOp::Le | IntOp::Gt | IntOp::Ge => "ordering",
                _ => "arithmetic",
            };
            let text = op_text(op);
            let a = self.int_operand(a, text, what)?;
            let b = self.int_operand(b, text, what)?;
            let ty = if matches!(iop, IntOp::Lt | IntOp::Le | IntOp::Gt | IntOp::Ge) {
                Ty::Bool
            } else {
                Ty::Int
            };
            return Ok((Expr::Arith(iop, Box::new(a), Box::new(b), span), ty));
        }
        match op {
            BinOp::And | BinOp::Or | BinOp::Implies => {
                let a = Box::new(self.bool_expr(a)?);
                let b = Box::new(self.bool_expr(b)?);
                let ir = match op {
                    BinOp::And => Expr::And(a, b),
                    BinOp::Or => Expr::Or(a, b),
                    _ => Expr::Implies(a, b),
                };
                Ok((ir, Ty::Bool))
            }
            BinOp::Eq | BinOp::Ne => {
                let (a_ir, a_ty, b_ir, b_ty) = self.pair(a, b, None)?;
                let len = if a_ty.is_int() && b_ty.is_int() {
                    1
                } else {
                    self.expect_ty(&b_ty, &a_ty, b.span)?;
                    self.types.flat_len(&a_ty)
                };
                Ok((eq(a_ir, b_ir, len, op == BinOp::Ne), Ty::Bool))
            }
            BinOp::In | BinOp::Notin => {
                let member = self.membership(a, b)?;
                let ir = if op == BinOp::Notin {
                    Expr::Not(Box::new(member))
                } else {
                    member
                };
                Ok((ir, Ty::Bool))
            }
            BinOp::Union | BinOp::Inter | BinOp::Minus | BinOp::Subseteq => {
                let hint = if op == BinOp::Subseteq {
                    None
                } else {
                    expected
                };
                let (a_ir, a_ty, b_ir, b_ty) = self.pair(a, b, hint)?;
                let Ty::Set(elem) = &a_ty else {
                    return Err(self.mismatch("a set", &a_ty, a.span));
                };
                self.expect_ty(&b_ty, &a_ty, b.span)?;
                let card = self.types.card(elem).unwrap_or(0) as u32;
                let (a_ir, b_ir) = (Box::new(a_ir), Box::new(b_ir));
                let ir = match op {
                    BinOp::Subseteq => {
                        return Ok((Expr::Subseteq { card, a: a_ir, b: b_ir }, Ty::Bool));
                    }
                    BinOp::Union => Expr::SetOp { op: SetOp::Union, card, a: a_ir, b: b_ir },
                    BinOp::Inter => Expr::SetOp { op: SetOp::Inter, card, a: a_ir, b: b_ir },
                    _ => Expr::SetOp { op: SetOp::Minus, card, a: a_ir, b: b_ir },
                };
                Ok((ir, a_ty))
            }
            BinOp::Range => Err(self.error(
                Diagnostic::error(span, "a range `lo..hi` is a type, not a value")
                    .label("use it after `in`, in a type, or in `all(lo..hi)`"),
            )),
            _ => unreachable!("integer operators handled above"),
        }
    }

    /// Lowers two operands that must agree in type. A literal or bare
    /// variant on either side takes its type from the other side.
    fn pair(&mut self, a: &ast::Expr, b: &ast::Expr, hint: Option<&Ty>) -> L<(Expr, Ty, Expr, Ty)> {
        if needs_hint(a) && !self.is_value_name(a) && (!needs_hint(b) || self.is_value_name(b)) {
            let (b_ir, b_ty) = self.expr(b, hint)?;
            let (a_ir, a_ty) = self.expr(a, Some(&b_ty))?;
            Ok((a_ir, a_ty, b_ir, b_ty))
        } else {
            let (a_ir, a_ty) = self.expr(a, hint)?;
            let (b_ir, b_ty) = self.expr(b, Some(&a_ty))?;
            Ok((a_ir, a_ty, b_ir, b_ty))
        }
    }

    fn membership(&mut self, a: &ast::Expr, b: &ast::Expr) -> L<Expr> {
        // `x in {a, b}`: a disjunction of equalities, no set type needed.
        if let ExprKind::SetLit(items) = &b.kind {
            let (x, x_ty) = self.expr(a, None)?;
            let mut out = Expr::Int(0);
            for item in items.iter().rev() {
                let (i, i_ty) = self.expr(item, Some(&x_ty))?;
                let len = if x_ty.is_int() && i_ty.is_int() {
                    1
                } else {
                    self.expect_ty(&i_ty, &x_ty, item.span)?;
                    self.types.flat_len(&x_ty)
                };
                out = Expr::Or(Box::new(eq(x.clone(), i, len, false)), Box::new(out));
            }
            return Ok(out);
        }
        if let Some(ty) = self.type_of_domain(b)? {
            let (x, x_ty) = self.expr(a, Some(&ty))?;
            self.expect_ty(&x_ty, &ty, a.span)?;
            return Ok(match ty {
                Ty::Range(lo, hi) => Expr::And(
                    Box::new(Expr::Arith(
                        IntOp::Ge,
                        Box::new(x.clone()),
                        Box::new(Expr::Int(lo)),
                        a.span,
                    )),
                    Box::new(Expr::Arith(
                        IntOp::Le,
                        Box::new(x),
                        Box::new(Expr::Int(hi)),
                        a.span,
                    )),
                ),
                _ => Expr::Int(1),
            });
        }
        let (set, set_ty) = self.expr(b, None)?;
        let Ty::Set(elem) = set_ty else {
            return Err(self.mismatch("a set", &set_ty, b.span));
        };
        let (x, x_ty) = self.expr(a, Some(&elem))?;
        self.expect_ty(&x_ty, &elem, a.span)?;
        Ok(Expr::In {
            elem: Box::new(x),
            elem_ty: *elem,
            set: Box::new(set),
        })
    }

    /// If `e` names a type (`RM`, `bool`, `0..N`), that type.
    fn type_of_domain(&mut self, e: &ast::Expr) -> L<Option<Ty>> {
        match &e.kind {
            ExprKind::Name(n) if n == "bool" && self.find_local(n).is_none() => Ok(Some(Ty::Bool)),
            ExprKind::Name(n)
                if self.type_decls.contains_key(n)
                    && self.find_local(n).is_none()
                    && !self.var_index.contains_key(n) =>
            {
                Ok(Some(self.named_type(n, e.span)?))
            }
            // `set[T]` written where a domain is expected: every subset of T.
            ExprKind::Index(base, elem) if matches!(&base.kind, ExprKind::Name(n) if n == "set" && !self.is_value_name(base)) =>
            {
                let Some(elem_ty) = self.type_of_domain(elem)? else {
                    return Err(self.error(
                        Diagnostic::error(elem.span, "expected a type inside `set[...]`")
                            .label("not a type"),
                    ));
                };
                if self.types.card(&elem_ty).is_none_or(|c| c > 1 << 16) {
                    return Err(self.error(
                        Diagnostic::error(elem.span, "set element type is too large")
                            .label("more than 65536 values"),
                    ));
                }
                Ok(Some(Ty::Set(Box::new(elem_ty))))
            }
            ExprKind::Binary(BinOp::Range, lo, hi) => {
                let lo_v = self.fold_int(lo)?;
                let hi_v = self.fold_int(hi)?;
                if lo_v > hi_v {
                    return Err(self.error(
                        Diagnostic::error(e.span, "empty range")
                            .label(format!("{lo_v}..{hi_v} has no values")),
                    ));
                }
                Ok(Some(Ty::Range(lo_v, hi_v)))
            }
            _ => Ok(None),
        }
    }

    /// What a quantifier or `for` ranges over, and its element type.
    pub(crate) fn domain(&mut self, e: &ast::Expr) -> L<(Domain, Ty)> {
        if let Some(ty) = self.type_of_domain(e)? {
            if self.types.card(&ty).is_none() {
                return Err(self.error(
                    Diagnostic::error(e.span, "type is too large to range over")
                        .label("too many values"),
                ));
            }
            return Ok((Domain::Type(ty.clone()), ty));
        }
        let (ir, ty) = self.expr(e, None)?;
        match ty {
            Ty::Set(elem) => Ok((
                Domain::Set { set: Box::new(ir), elem: (*elem).clone() },
                *elem,
            )),
            Ty::Seq(elem, _) => {
                let stride = self.types.flat_len(&elem);
                Ok((Domain::Seq { seq: Box::new(ir), stride }, *elem))
            }
            other => Err(self.mismatch("a type, a set or a sequence", &other, e.span)),
        }
    }

    fn set_literal(
        &mut self,
        elems: &[ast::Expr],
        span: Span,
        expected: Option<&Ty>,
    ) -> L<(Expr, Ty)> {
        let elem_ty = match expected {
            Some(Ty::Set(elem)) => (**elem).clone(),
            _ => {
                // Infer from an element whose type is not a bare integer.
                let mut found = None;
                for x in elems {
                    if !needs_hint(x) {
                        let (_, t) = self.expr(x, None)?;
                        if !t.is_int() {
                            found = Some(t);
                            break;
                        }
                    }
                }
                match found {
                    Some(t) => t,
                    None => {
                        return Err(self.error(
                            Diagnostic::error(span, "cannot tell the element type of this set")
                                .label("use it where a `set[T]` is expected"),
                        ));
                    }
                }
            }
        };
        let mut items = Vec::new();
        for x in elems {
            let (ir, ty) = self.expr(x, Some(&elem_ty))?;
            self.expect_ty(&ty, &elem_ty, x.span)?;
            items.push(ir);
        }
        let card = self.types.card(&elem_ty).unwrap_or(0) as u32;
        Ok((
            Expr::SetLit { elems: items, elem_ty: elem_ty.clone(), card, span },
            Ty::Set(Box::new(elem_ty)),
        ))
    }

    fn struct_literal(
        &mut self,
        path: &[ast::Ident],
        fields: &[(ast::Ident, ast::Expr)],
        span: Span,
        expected: Option<&Ty>,
    ) -> L<(Expr, Ty)> {
        let last = &path[path.len() - 1];
        // `Record { .. }`; a name that is also a variant falls through to it.
        if path.len() == 1 && self.type_decls.contains_key(&last.name) {
            let ty = self.named_type(&last.name, last.span)?;
            if let Ty::Record(id) = ty {
                let def_fields = self.types.records[id as usize].fields.clone();
                let parts = self.field_values(&def_fields, fields, span, &last.name)?;
                return Ok((Expr::Concat(parts), Ty::Record(id)));
            }
            if self
                .variant_by_name(&last.name, last.span, expected)?
                .is_none()
            {
                return Err(self.error(
                    Diagnostic::error(last.span, format!("`{}` is not a record type", last.name))
                        .label("only records and enum variants have `{ field: value }` literals"),
                ));
            }
        }
        let (id, tag) = if path.len() == 2 {
            let ty = self.named_type(&path[0].name, path[0].span)?;
            let Ty::Enum(id) = ty else {
                return Err(self.mismatch("an enum", &ty, path[0].span));
            };
            match self.types.enums[id as usize]
                .variants
                .iter()
                .position(|v| v.name == last.name)
            {
                Some(tag) => (id, tag as u32),
                None => {
                    return Err(self.error(
                        Diagnostic::error(
                            last.span,
                            format!("`{}` has no variant `{}`", path[0].name, last.name),
                        )
                        .label("unknown variant"),
                    ));
                }
            }
        } else {
            match self.variant_by_name(&last.name, last.span, expected)? {
                Some(found) => found,
                None => {
                    return Err(self.error(
                        Diagnostic::error(
                            last.span,
                            format!("no record type or variant named `{}`", last.name),
                        )
                        .label("unknown name"),
                    ));
                }
            }
        };
        let ty = Ty::Enum(id);
        let variant_fields = self.types.enums[id as usize].variants[tag as usize]
            .fields
            .clone();
        let parts = self.field_values(&variant_fields, fields, span, &last.name)?;
        let mut default = Vec::new();
        self.types.default_value(&ty, &mut default);
        let offset = self.types.variant_offset(id, tag);
        Ok((Expr::Variant { default, tag, offset, fields: parts }, ty))
    }

    /// The values of a literal's fields, in declaration order; every field
    /// must be given once.
    fn field_values(
        &mut self,
        def: &[(String, Ty)],
        given: &[(ast::Ident, ast::Expr)],
        span: Span,
        what: &str,
    ) -> L<Vec<Expr>> {
        for (name, _) in given {
            if !def.iter().any(|(f, _)| *f == name.name) {
                return Err(self.error(
                    Diagnostic::error(name.span, format!("`{what}` has no field `{}`", name.name))
                        .label("unknown field"),
                ));
            }
            if given.iter().filter(|(n, _)| n.name == name.name).count() > 1 {
                return Err(self.error(
                    Diagnostic::error(name.span, format!("field `{}` is given twice", name.name))
                        .label("duplicate field"),
                ));
            }
        }
        let mut parts = Vec::new();
        for (fname, fty) in def {
            let Some((_, value)) = given.iter().find(|(n, _)| n.name == *fname) else {
                return Err(self.error(
                    Diagnostic::error(span, format!("missing field `{fname}`"))
                        .label(format!("`{what}` needs a value for `{fname}`")),
                ));
            };
            let (ir, ty) = self.expr(value, Some(fty))?;
            self.expect_ty(&ty, fty, value.span)?;
            parts.push(ir);
        }
        Ok(parts)
    }

    fn field(&mut self, base: Expr, base_ty: Ty, field: &ast::Ident, span: Span) -> L<(Expr, Ty)> {
        let base_len = self.types.flat_len(&base_ty);
        match &base_ty {
            Ty::Record(id) => {
                let def = &self.types.records[*id as usize];
                let Some(index) = def.fields.iter().position(|(f, _)| *f == field.name) else {
                    let name = def.name.clone();
                    return Err(self.error(
                        Diagnostic::error(
                            field.span,
                            format!("record `{name}` has no field `{}`", field.name),
                        )
                        .label("unknown field"),
                    ));
                };
                let fty = def.fields[index].1.clone();
                let offset = self.types.fields_offset(&def.fields, index);
                let len = self.types.flat_len(&fty);
                Ok((project(base, base_len, Step::Offset(offset), len), fty))
            }
            Ty::Enum(id) => {
                let def = self.types.enums[*id as usize].clone();
                let mut tags = Vec::new();
                let mut fty: Option<Ty> = None;
                for (tag, v) in def.variants.iter().enumerate() {
                    if let Some(index) = v.fields.iter().position(|(f, _)| *f == field.name) {
                        let t = v.fields[index].1.clone();
                        if fty.as_ref().is_some_and(|f| *f != t) {
                            return Err(self.error(
                                Diagnostic::error(
                                    field.span,
                                    format!(
                                        "field `{}` has different types in different variants",
                                        field.name
                                    ),
                                )
                                .label("ambiguous field")
                                .note("test the variant with `is` and use distinct field names"),
                            ));
                        }
                        fty = Some(t);
                        let offset = self.types.variant_offset(*id, tag as u32)
                            + self.types.fields_offset(&v.fields, index);
                        tags.push((tag as u32, offset));
                    }
                }
                let Some(fty) = fty else {
                    return Err(self.error(
                        Diagnostic::error(
                            field.span,
                            format!("no variant of `{}` has a field `{}`", def.name, field.name),
                        )
                        .label("unknown field"),
                    ));
                };
                let len = self.types.flat_len(&fty);
                let step = Step::VariantField {
                    tags,
                    field: field.name.clone(),
                    span: span.to(field.span),
                };
                Ok((project(base, base_len, step, len), fty))
            }
            other => Err(self.mismatch("a record or an enum with fields", other, span)),
        }
    }

    fn call(
        &mut self,
        func: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
        expected: Option<&Ty>,
    ) -> L<(Expr, Ty)> {
        let arity = |lw: &mut Self, n: usize| -> L<()> {
            if args.len() == n {
                Ok(())
            } else {
                Err(lw.error(
                    Diagnostic::error(
                        span,
                        format!(
                            "`{}` takes {n} argument{}",
                            func.name,
                            if n == 1 { "" } else { "s" }
                        ),
                    )
                    .label(format!("{} given", args.len())),
                ))
            }
        };
        match func.name.as_str() {
            "card" => {
                arity(self, 1)?;
                let (s, ty) = self.expr(&args[0], None)?;
                let Ty::Set(elem) = ty else {
                    return Err(self.mismatch("a set", &ty, args[0].span));
                };
                let card = self.types.card(&elem).unwrap_or(0) as u32;
                Ok((Expr::Card { card, set: Box::new(s) }, Ty::Int))
            }
            "all" => {
                arity(self, 1)?;
                let Some(ty) = self.type_of_domain(&args[0])? else {
                    return Err(self.error(
                        Diagnostic::error(args[0].span, "`all` takes a type").label("not a type"),
                    ));
                };
                let Some(card) = self.types.card(&ty).filter(|c| *c <= 1 << 16) else {
                    return Err(self.error(
                        Diagnostic::error(args[0].span, "type too large for a set")
                            .label("too many values"),
                    ));
                };
                Ok((Expr::Lit(vec![1; card as usize]), Ty::Set(Box::new(ty))))
            }
            "min" | "max" => {
                arity(self, 2)?;
                let a = self.int_operand(&args[0], &func.name, "ordering")?;
                let b = self.int_operand(&args[1], &func.name, "ordering")?;
                let op = if func.name == "min" {
                    IntOp::Min
                } else {
                    IntOp::Max
                };
                Ok((Expr::Arith(op, Box::new(a), Box::new(b), span), Ty::Int))
            }
            "abs" => {
                arity(self, 1)?;
                let a = self.int_operand(&args[0], "abs", "arithmetic")?;
                Ok((Expr::Abs(Box::new(a), span), Ty::Int))
            }
            "len" | "head" | "last" => {
                arity(self, 1)?;
                let (q, ty) = self.expr(&args[0], None)?;
                let Ty::Seq(elem, cap) = ty else {
                    return Err(self.mismatch("a sequence", &ty, args[0].span));
                };
                let stride = self.types.flat_len(&elem);
                let base_len = 1 + cap * stride;
                if func.name == "len" {
                    return Ok((Expr::Len(Box::new(q), base_len), Ty::Int));
                }
                let step = Step::SeqEnd { first: func.name == "head", stride, span };
                Ok((project(q, base_len, step, stride), *elem))
            }
            "in_flight" if self.current.is_some() && !self.fns.contains_key("in_flight") => {
                arity(self, 1)?;
                self.in_flight(&args[0], span)
            }
            _ => self.user_call(func, args, span, expected),
        }
    }

    fn user_call(
        &mut self,
        func: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
        _expected: Option<&Ty>,
    ) -> L<(Expr, Ty)> {
        let Some((params, ret, body)) = self.fns.get(&func.name).copied() else {
            return Err(self.error(
                Diagnostic::error(func.span, format!("unknown function `{}`", func.name))
                    .label("not declared"),
            ));
        };
        if params.len() != args.len() {
            return Err(self.error(
                Diagnostic::error(
                    span,
                    format!("`{}` takes {} arguments", func.name, params.len()),
                )
                .label(format!("{} given", args.len())),
            ));
        }
        if !self.fns_in_progress.insert(func.name.clone()) {
            return Err(self.error(
                Diagnostic::error(func.span, format!("`{}` calls itself", func.name))
                    .label("functions may not be recursive"),
            ));
        }
        let result = self.inline_call(params, ret, body, args);
        self.fns_in_progress.remove(&func.name);
        result
    }

    /// A call is inlined: each argument bound to a fresh local around the body.
    fn inline_call(
        &mut self,
        params: &[ast::Param],
        ret: &ast::TypeExpr,
        body: &ast::Expr,
        args: &[ast::Expr],
    ) -> L<(Expr, Ty)> {
        let mut bound = Vec::new();
        for (p, a) in params.iter().zip(args) {
            let ty = self.resolve_type(&p.ty)?;
            let (ir, aty) = self.expr(a, Some(&ty))?;
            self.expect_ty(&aty, &ty, a.span)?;
            bound.push((p.name.name.clone(), ty, ir));
        }
        let ret_ty = self.resolve_type(ret)?;
        let mark = self.scope();
        let saved_barrier = self.barrier;
        self.barrier = mark;
        let mut locals = Vec::new();
        for (name, ty, ir) in bound {
            let len = self.types.flat_len(&ty);
            let local = self.push_local(&name, ty);
            locals.push((local, len, ir));
        }
        let lowered = self.expr(body, Some(&ret_ty));
        self.barrier = saved_barrier;
        self.pop_scope(mark);
        let (mut ir, ty) = lowered?;
        self.expect_ty(&ty, &ret_ty, body.span)?;
        for (local, len, value) in locals.into_iter().rev() {
            ir = Expr::Let {
                local,
                len,
                value: Box::new(value),
                body: Box::new(ir),
            };
        }
        Ok((ir, ret_ty))
    }
}

impl Lowerer<'_> {
    /// The process a bare name refers to, unless a local or variable shadows it.
    fn process_name(&self, e: &ast::Expr) -> Option<usize> {
        match &e.kind {
            ExprKind::Name(n) if !self.is_value_name(e) => self.proc_index.get(n).copied(),
            _ => None,
        }
    }

    /// A name that denotes a value by itself (a local, variable or constant),
    /// as opposed to a bare variant that needs the other side's type.
    fn is_value_name(&self, e: &ast::Expr) -> bool {
        match &e.kind {
            ExprKind::Name(n) => {
                self.find_local(n).is_some()
                    || self.var_index.contains_key(n)
                    || self.const_decls.contains_key(n)
            }
            _ => false,
        }
    }
}

fn eq(a: Expr, b: Expr, len: u32, negate: bool) -> Expr {
    Expr::Eq { len, negate, a: Box::new(a), b: Box::new(b) }
}

/// Narrows a value to a part of it: a place gains a step; a computed value
/// is cut.
pub(crate) fn project(base: Expr, base_len: u32, step: Step, len: u32) -> Expr {
    match base {
        Expr::Read(mut place) => {
            match step {
                Step::Offset(o) if place.steps.is_empty() => place.offset += o,
                step => place.steps.push(step),
            }
            place.len = len;
            Expr::Read(place)
        }
        base => Expr::Sub {
            base: Box::new(base),
            base_len,
            step: Box::new(step),
            len,
        },
    }
}

/// Literals and bare names whose type comes from the other operand.
fn needs_hint(e: &ast::Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Name(_)
            | ExprKind::SetLit(_)
            | ExprKind::SeqLit(_)
            | ExprKind::Struct { .. }
            | ExprKind::Int(_)
    )
}

const SYM_NOTE: &str = "values of a symmetric type have no order, no arithmetic and no \
                        conversion to or from integers: compare them with `==`/`!=`, test \
                        them with `in`, index with them, quantify or iterate over the type";

fn op_text(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Mod => "%",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        _ => "?",
    }
}
