//! Expressions, places and statements of the model IR as Rust statements.
//!
//! The generated code mirrors the reference evaluator (`model::eval`), in
//! the same shape as the GPU's (`gpu-kernels/src/codegen/expr.rs`): flat
//! values live in three `Slots` arrays — `s` (the node's state), `fr` (the
//! local frame) and `stk` (a value stack whose offsets are allocated here,
//! at generation time). Every check the evaluator makes (ranges, bounds,
//! division by zero, overflow, empty sequences) returns `Err(Fault)` from
//! the step: the runtime then refuses the step, as the checker would have
//! reported it. Integers are i64 with overflow checks, as in the evaluator.

use model::ir::{
    CmpOp, Domain, Expr, IntOp, Operand, Place, QuantKind, Root, SetOp, Step, Stmt, Ty,
};

use super::{Gen, R, Unsupported};

/// A Rust i64 literal.
pub(crate) fn lit(v: i64) -> R<String> {
    Ok(if v == i64::MIN {
        "i64::MIN".into()
    } else if v < 0 {
        format!("({v})")
    } else {
        format!("{v}")
    })
}

impl Gen<'_> {
    /// Slots of the flat value of `e`.
    pub(crate) fn len_of(&self, e: &Expr) -> u32 {
        match e {
            Expr::Read(p) => p.len,
            Expr::Lit(v) => v.len() as u32,
            Expr::If { len, .. } => *len,
            Expr::Concat(parts) => parts.iter().map(|p| self.len_of(p)).sum(),
            Expr::Variant { default, .. } => default.len() as u32,
            Expr::SeqLit { elems, padding } => {
                1 + elems.iter().map(|x| self.len_of(x)).sum::<u32>() + padding.len() as u32
            }
            Expr::SetLit { card, .. } | Expr::SetOp { card, .. } => *card,
            Expr::Sub { len, .. } => *len,
            Expr::Let { body, .. } => self.len_of(body),
            _ => 1,
        }
    }

    fn operand(&mut self, o: &Operand) -> R<String> {
        Ok(match o {
            Operand::Int(v) => lit(*v)?,
            Operand::Local(l) => self.bind_tmp(&format!("fr[{l}]")),
            Operand::Slot(s) => self.bind_tmp(&format!("s[{s}]")),
            Operand::SlotAt {
                offset,
                local,
                lo,
                count,
                stride,
                ..
            } => {
                let k = self.tmp();
                self.line(format!(
                    "let {k} = elem(fr[{local}], {}, {count})?;",
                    lit(*lo)?
                ));
                self.bind_tmp(&format!("s[{offset} + {k} * {stride}]"))
            }
        })
    }

    /// `let tN = <value>;`, returning tN.
    pub(crate) fn bind_tmp(&mut self, value: &str) -> String {
        let t = self.tmp();
        self.line(format!("let {t} = {value};"));
        t
    }

    /// Evaluates a scalar expression; `sp` is the first free stack slot.
    /// Returns an i32 WGSL expression valid at the current scope.
    pub(crate) fn int(&mut self, e: &Expr, sp: u32) -> R<String> {
        Ok(match e {
            Expr::Int(v) => lit(*v)?,
            Expr::Test { op, a, b } => {
                let x = self.operand(a)?;
                let y = self.operand(b)?;
                let op = match op {
                    CmpOp::Eq => "==",
                    CmpOp::Ne => "!=",
                    CmpOp::Lt => "<",
                    CmpOp::Le => "<=",
                    CmpOp::Gt => ">",
                    CmpOp::Ge => ">=",
                };
                self.bind_tmp(&format!("b({x} {op} {y})"))
            }
            Expr::Local(l) => self.bind_tmp(&format!("fr[{l}]")),
            Expr::Slot(o) => self.bind_tmp(&format!("s[{o}]")),
            Expr::Lit(v) => lit(v[0])?,
            Expr::Bit {
                offset,
                index,
                lo,
                count,
            } => {
                let i = self.int(index, sp)?;
                let t = self.tmp();
                let lo = lit(*lo)?;
                self.line(format!("let mut {t} = 0;"));
                self.line(format!(
                    "if ({i} >= {lo} && ({i} - {lo}) < {count}) {{ {t} = s[{offset} + ({i} - {lo})]; }}"
                ));
                t
            }
            Expr::SlotAt {
                offset,
                index,
                lo,
                count,
                stride,
                ..
            } => {
                let at = self.element(index, *lo, *count, *stride, &format!("{offset}"), sp)?;
                self.bind_tmp(&format!("s[{at}]"))
            }
            Expr::Read(place) => {
                let (arr, off) = self.place(place, sp)?;
                self.bind_tmp(&format!("{arr}[{off}]"))
            }
            Expr::Neg(a, _) => {
                let a = self.int(a, sp)?;
                self.bind_tmp(&format!("neg_ck({a})?"))
            }
            Expr::Abs(a, _) => {
                let a = self.int(a, sp)?;
                self.bind_tmp(&format!("abs_ck({a})?"))
            }
            Expr::Not(a) => {
                let a = self.int(a, sp)?;
                self.bind_tmp(&format!("1 - {a}"))
            }
            Expr::Arith(op, a, b, _) => {
                let a = self.int(a, sp)?;
                let b = self.int(b, sp)?;
                let v = match op {
                    IntOp::Add => format!("add_ck({a}, {b})?"),
                    IntOp::Sub => format!("sub_ck({a}, {b})?"),
                    IntOp::Mul => format!("mul_ck({a}, {b})?"),
                    IntOp::Div => format!("div_ck({a}, {b})?"),
                    IntOp::Mod => format!("mod_ck({a}, {b})?"),
                    IntOp::Lt => format!("b({a} < {b})"),
                    IntOp::Le => format!("b({a} <= {b})"),
                    IntOp::Gt => format!("b({a} > {b})"),
                    IntOp::Ge => format!("b({a} >= {b})"),
                    IntOp::Min => format!("min({a}, {b})"),
                    IntOp::Max => format!("max({a}, {b})"),
                };
                self.bind_tmp(&v)
            }
            Expr::Eq { len, negate, a, b } => {
                if *len == 1 {
                    let x = self.int(a, sp)?;
                    let y = self.int(b, sp)?;
                    self.bind_tmp(&format!("b(({x} == {y}) != {negate})"))
                } else {
                    self.push(a, sp)?;
                    self.push(b, sp + len)?;
                    let t = self.tmp();
                    self.line(format!("let mut {t} = true;"));
                    self.line(format!(
                        "for j in 0..{len} {{ if (stk[{sp} + j] != stk[{} + j]) {{ {t} = false; break; }} }}",
                        sp + len
                    ));
                    self.bind_tmp(&format!("b({t} != {negate})"))
                }
            }
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Implies(a, b) => {
                let x = self.int(a, sp)?;
                let t = self.tmp();
                // And: b only when a; Or: b only when not a; Implies: b only when a.
                let (first, run_b) = match e {
                    Expr::And(..) => (format!("b({x} != 0)"), format!("{t} != 0")),
                    Expr::Or(..) => (format!("b({x} != 0)"), format!("{t} == 0")),
                    _ => (format!("b({x} == 0)"), format!("{t} == 0")),
                };
                self.line(format!("let mut {t} = {first};"));
                self.open(format!("if ({run_b}) {{"));
                let y = self.int(b, sp)?;
                self.line(format!("{t} = b({y} != 0);"));
                self.close();
                t
            }
            Expr::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                let c = self.int(cond, sp)?;
                let t = self.tmp();
                self.line(format!("let {t}: i64;"));
                self.open(format!("if ({c} != 0) {{"));
                let x = self.int(then, sp)?;
                self.line(format!("{t} = {x};"));
                self.reopen("} else {");
                let y = self.int(otherwise, sp)?;
                self.line(format!("{t} = {y};"));
                self.close();
                t
            }
            Expr::In { elem, elem_ty, set } => {
                let (ok, ix) = self.index_of(elem, elem_ty, sp)?;
                let t = self.tmp();
                self.line(format!("let mut {t} = 0;"));
                self.open(format!("if ({ok}) {{"));
                if let Expr::Read(place) = &**set {
                    let (arr, off) = self.place(place, sp)?;
                    self.line(format!("{t} = {arr}[{off} + {ix}];"));
                } else {
                    self.push(set, sp)?;
                    self.line(format!("{t} = stk[{sp} + {ix}];"));
                }
                self.close();
                t
            }
            Expr::Subseteq { card, a, b } => {
                self.push(a, sp)?;
                self.push(b, sp + card)?;
                let t = self.tmp();
                self.line(format!("let mut {t} = 1;"));
                self.line(format!(
                    "for j in 0..{card} {{ if (stk[{sp} + j] > stk[{} + j]) {{ {t} = 0; break; }} }}",
                    sp + card
                ));
                t
            }
            Expr::Card { card, set } => {
                let (arr, off) = match &**set {
                    Expr::Read(place) => self.place(place, sp)?,
                    other => {
                        self.push(other, sp)?;
                        ("stk", lit(i64::from(sp))?)
                    }
                };
                let t = self.tmp();
                self.line(format!("let mut {t} = 0;"));
                self.line(format!("for j in 0..{card} {{ {t} += {arr}[{off} + j]; }}"));
                t
            }
            Expr::Len(q, _) => match &**q {
                Expr::Read(place) => {
                    let (arr, off) = self.place(place, sp)?;
                    self.bind_tmp(&format!("{arr}[{off}]"))
                }
                other => {
                    self.push(other, sp)?;
                    self.bind_tmp(&format!("stk[{sp}]"))
                }
            },
            Expr::IndexOf { value, ty, .. } => {
                let (ok, ix) = self.index_of(value, ty, sp)?;
                self.line(format!("if (!{ok}) {{ return Err(Fault); }}"));
                ix
            }
            Expr::Quant {
                kind,
                local,
                len,
                domain,
                body,
            } => self.quant(*kind, *local, *len, domain, body, sp)?,
            Expr::Let {
                local,
                len,
                value,
                body,
            } => {
                self.bind(*local, *len, value, sp)?;
                self.int(body, sp)?
            }
            Expr::Sub { .. } => {
                self.push(e, sp)?;
                self.bind_tmp(&format!("stk[{sp}]"))
            }
            Expr::Concat(_)
            | Expr::Variant { .. }
            | Expr::SeqLit { .. }
            | Expr::SetLit { .. }
            | Expr::SetOp { .. } => {
                return Err(Unsupported::Other(
                    "a compound value where a scalar was expected".into(),
                ));
            }
        })
    }

    /// Binds a local (a `fn` argument or `let`) to a value.
    fn bind(&mut self, local: u32, len: u32, value: &Expr, sp: u32) -> R<()> {
        self.frame(local + len);
        if len == 1 {
            let v = self.int(value, sp)?;
            self.line(format!("fr[{local}] = {v};"));
        } else {
            self.push(value, sp)?;
            self.copy(("fr", local.to_string()), ("stk", sp.to_string()), len);
        }
        Ok(())
    }

    /// `dst[d..d+len] = src[s..s+len]`, ascending (safe for d <= s).
    fn copy(&mut self, dst: (&str, String), src: (&str, String), len: u32) {
        let ((da, d), (sa, s)) = (dst, src);
        if len <= 4 {
            for j in 0..len {
                self.line(format!("{da}[({d}) + {j}] = {sa}[({s}) + {j}];"));
            }
        } else {
            self.line(format!(
                "for j in 0..{len} {{ {da}[({d}) + j] = {sa}[({s}) + j]; }}"
            ));
        }
    }

    /// Writes constant slots at `arr[base..]`, a loop per run of equal values.
    fn write_consts(&mut self, arr: &str, base: &str, values: &[i64]) -> R<()> {
        let mut i = 0;
        while i < values.len() {
            let mut j = i + 1;
            while j < values.len() && values[j] == values[i] {
                j += 1;
            }
            let v = lit(values[i])?;
            if j - i <= 4 {
                for k in i..j {
                    self.line(format!("{arr}[({base}) + {k}] = {v};"));
                }
            } else {
                self.line(format!(
                    "for j in {i}..{j} {{ {arr}[({base}) + j] = {v}; }}"
                ));
            }
            i = j;
        }
        Ok(())
    }

    /// Evaluates any expression into `stk[at..at + len_of(e)]`; scratch
    /// space starts above that.
    pub(crate) fn push(&mut self, e: &Expr, at: u32) -> R<()> {
        let len = self.len_of(e);
        self.stack(at + len);
        match e {
            Expr::Read(place) => {
                let (arr, off) = self.place(place, at + len)?;
                self.copy(("stk", at.to_string()), (arr, off), len);
            }
            Expr::Lit(v) => self.write_consts("stk", &at.to_string(), v)?,
            Expr::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                let c = self.int(cond, at)?;
                self.open(format!("if ({c} != 0) {{"));
                self.push(then, at)?;
                self.reopen("} else {");
                self.push(otherwise, at)?;
                self.close();
            }
            Expr::Concat(parts) => {
                let mut pos = at;
                for p in parts {
                    self.push(p, pos)?;
                    pos += self.len_of(p);
                }
            }
            Expr::Variant {
                default,
                tag,
                offset,
                fields,
            } => {
                self.write_consts("stk", &at.to_string(), default)?;
                self.line(format!("stk[{at}] = {tag};"));
                let mut pos = at + offset;
                // Each field is built above the variant (its scratch would
                // overwrite the default slots after it), then moved down.
                let top = at + len;
                for f in fields {
                    let n = self.len_of(f);
                    self.push(f, top)?;
                    self.copy(("stk", pos.to_string()), ("stk", top.to_string()), n);
                    pos += n;
                }
            }
            Expr::SeqLit { elems, padding } => {
                self.line(format!("stk[{at}] = {};", elems.len()));
                let mut pos = at + 1;
                for x in elems {
                    self.push(x, pos)?;
                    pos += self.len_of(x);
                }
                self.write_consts("stk", &pos.to_string(), padding)?;
            }
            Expr::Sub {
                base,
                base_len,
                step,
                len,
            } => {
                self.stack(at + base_len);
                self.push(base, at)?;
                let off = self.step(step, "stk", &at.to_string(), at + base_len)?;
                self.copy(("stk", at.to_string()), ("stk", off), *len);
            }
            Expr::SetLit {
                elems,
                elem_ty,
                card,
                ..
            } => {
                self.line(format!("for j in 0..{card} {{ stk[{at} + j] = 0; }}"));
                for x in elems {
                    let (ok, ix) = self.index_of(x, elem_ty, at + card)?;
                    self.line(format!(
                        "if ({ok}) {{ stk[{at} + {ix}] = 1; }} else {{ return Err(Fault); }}"
                    ));
                }
            }
            Expr::SetOp { op, card, a, b } => {
                self.push(a, at)?;
                self.push(b, at + card)?;
                let f = match op {
                    SetOp::Union => "x | y",
                    SetOp::Inter => "x & y",
                    SetOp::Minus => "x & (1 - y)",
                };
                self.line(format!(
                    "for j in 0..{card} {{ let x = stk[{at} + j]; let y = stk[{} + j]; stk[{at} + j] = {f}; }}",
                    at + card
                ));
            }
            Expr::Let {
                local,
                len,
                value,
                body,
            } => {
                self.bind(*local, *len, value, at)?;
                self.push(body, at)?;
            }
            _ => {
                let v = self.int(e, at)?;
                self.line(format!("stk[{at}] = {v};"));
            }
        }
        Ok(())
    }

    /// Resolves a place: (array, i32 offset expression).
    pub(crate) fn place(&mut self, place: &Place, sp: u32) -> R<(&'static str, String)> {
        let arr = match place.root {
            Root::State => "s",
            Root::Local => {
                self.frame(place.offset + place.len);
                "fr"
            }
        };
        let mut off = format!("{}", place.offset);
        for step in &place.steps {
            off = self.step(step, arr, &off, sp)?;
        }
        Ok((arr, off))
    }

    /// The offset of element `index` (range-checked against `lo..lo+count`)
    /// of an array at `base` whose elements take `stride` slots.
    fn element(
        &mut self,
        index: &Expr,
        lo: i64,
        count: u32,
        stride: u32,
        base: &str,
        sp: u32,
    ) -> R<String> {
        let i = self.int(index, sp)?;
        let k = self.bind_tmp(&format!("elem({i}, {}, {count})?", lit(lo)?));
        Ok(self.bind_tmp(&format!("{base} + {k} * {stride}")))
    }

    /// One step from offset `base` of `arr`; returns the new offset.
    fn step(&mut self, step: &Step, arr: &str, base: &str, sp: u32) -> R<String> {
        Ok(match step {
            Step::Offset(o) => self.bind_tmp(&format!("{base} + {o}")),
            Step::Index {
                index,
                lo,
                count,
                stride,
                ..
            } => self.element(index, *lo, *count, *stride, base, sp)?,
            Step::SeqIndex { index, stride, .. } => {
                let i = self.int(index, sp)?;
                let b = self.bind_tmp(base);
                let k = self.bind_tmp(&format!("seq_index({i}, {arr}[{b}])?"));
                self.bind_tmp(&format!("{b} + 1 + {k} * {stride}"))
            }
            Step::SeqEnd { first, stride, .. } => {
                let b = self.bind_tmp(base);
                let n = self.bind_tmp(&format!("{arr}[{b}]"));
                self.line(format!("if ({n} <= 0) {{ return Err(Fault); }}"));
                let k = if *first {
                    "0".to_string()
                } else {
                    self.bind_tmp(&format!("max({n} - 1, 0)"))
                };
                self.bind_tmp(&format!("{b} + 1 + {k} * {stride}"))
            }
            Step::VariantField { tags, .. } => {
                let b = self.bind_tmp(base);
                let tag = self.bind_tmp(&format!("{arr}[{b}]"));
                let o = self.tmp();
                self.line(format!("let mut {o} = 0;"));
                let mut chain = String::new();
                for (t, off) in tags {
                    chain.push_str(&format!("if ({tag} == {t}) {{ {o} = {off}; }} else "));
                }
                chain.push_str("{ return Err(Fault); }");
                self.line(chain);
                self.bind_tmp(&format!("{b} + {o}"))
            }
        })
    }

    /// (ok: bool expr, index: i32 expr) of a value among its type's values.
    fn index_of(&mut self, e: &Expr, ty: &Ty, sp: u32) -> R<(String, String)> {
        if let Ty::Range(lo, hi) = ty {
            let v = self.int(e, sp)?;
            let ok = self.bind_tmp(&format!("({v} >= {} && {v} <= {})", lit(*lo)?, lit(*hi)?));
            let ix = self.bind_tmp(&format!("({v} - {})", lit(*lo)?));
            return Ok((ok, ix));
        }
        let len = self.types().flat_len(ty);
        self.push(e, sp)?;
        self.stack(sp + len);
        self.value_index(ty, "stk", &format!("{sp}"))
    }

    fn quant(
        &mut self,
        kind: QuantKind,
        local: u32,
        len: u32,
        domain: &Domain,
        body: &Expr,
        sp: u32,
    ) -> R<String> {
        let acc = self.tmp();
        let init = if kind == QuantKind::Forall { 1 } else { 0 };
        self.line(format!("let mut {acc} = {init};"));
        let (inner, opened) = self.open_domain(local, len, domain, sp)?;
        let x = self.int(body, inner)?;
        match kind {
            QuantKind::Forall => self.line(format!("if ({x} == 0) {{ {acc} = 0; break; }}")),
            QuantKind::Exists => self.line(format!("if ({x} != 0) {{ {acc} = 1; break; }}")),
            QuantKind::Count => self.line(format!("{acc} = {acc} + {x};")),
            QuantKind::Sum => self.line(format!("{acc} = add_ck({acc}, {x})?;")),
        }
        for _ in 0..opened {
            self.close();
        }
        Ok(acc)
    }

    /// Opens the loop over a domain with the element bound at `local`;
    /// returns the stack slot free inside and the number of blocks opened.
    fn open_domain(&mut self, local: u32, len: u32, domain: &Domain, sp: u32) -> R<(u32, u32)> {
        self.frame(local + len);
        match domain {
            Domain::Type(ty) => {
                let card = self.types().card(ty).ok_or_else(|| {
                    Unsupported::Other(format!(
                        "a quantifier over `{}`, which has too many values",
                        self.types().name(ty)
                    ))
                })?;
                let j = self.tmp();
                self.open(format!("for {j} in 0..{card} {{"));
                match ty {
                    Ty::Range(lo, _) => self.line(format!("fr[{local}] = {} + {j};", lit(*lo)?)),
                    Ty::Bool => self.line(format!("fr[{local}] = {j};")),
                    _ => self.value_at(ty, &j, "fr", &format!("{local}"))?,
                }
                Ok((sp, 1))
            }
            Domain::Set { set, elem } => {
                let card = self.len_of(set);
                self.push(set, sp)?;
                let j = self.tmp();
                self.open(format!("for {j} in 0..{card} {{"));
                self.open(format!("if (stk[{sp} + {j}] != 0) {{"));
                self.value_at(elem, &j, "fr", &format!("{local}"))?;
                Ok((sp + card, 2))
            }
            Domain::Seq { seq, stride } => {
                let total = self.len_of(seq);
                let cap = (total - 1) / stride.max(&1);
                self.push(seq, sp)?;
                let n = self.bind_tmp(&format!("clamp(stk[{sp}], 0, {cap})"));
                let j = self.tmp();
                self.open(format!("for {j} in 0..{n} {{"));
                let from = format!("{} + {j} * {stride}", sp + 1);
                self.copy(("fr", local.to_string()), ("stk", from), *stride);
                Ok((sp + total, 1))
            }
        }
    }

    /// Statements that write the working state `s`.
    pub(crate) fn stmts(&mut self, stmts: &[Stmt], sp: u32) -> R<()> {
        for s in stmts {
            self.stmt(s, sp)?;
        }
        Ok(())
    }

    fn check_bounds(&mut self, v: &str, (lo, hi): (i64, i64)) -> R<()> {
        if lo == i64::MIN && hi == i64::MAX {
            return Ok(());
        }
        self.line(format!(
            "if ({v} < {} || {v} > {}) {{ return Err(Fault); }}",
            lit(lo)?,
            lit(hi)?
        ));
        Ok(())
    }

    /// Range checks on `stk[at..at + bounds.len()]`: a loop when the bounds
    /// repeat with a short period, else one check per slot.
    fn check_stack_bounds(&mut self, at: u32, bounds: &[(i64, i64)]) -> R<()> {
        let n = bounds.len();
        let period =
            (1..=16.min(n)).find(|p| n % p == 0 && (*p..n).all(|i| bounds[i] == bounds[i - p]));
        match period {
            Some(p) if n / p > 2 => {
                self.open(format!("for j in (0..{n}).step_by({p}) {{"));
                for (k, b) in bounds[..p].iter().enumerate() {
                    let v = self.bind_tmp(&format!("stk[{at} + j + {k}]"));
                    self.check_bounds(&v, *b)?;
                }
                self.close();
            }
            _ => {
                for (k, b) in bounds.iter().enumerate() {
                    let v = self.bind_tmp(&format!("stk[{}]", at + k as u32));
                    self.check_bounds(&v, *b)?;
                }
            }
        }
        Ok(())
    }

    fn stmt(&mut self, st: &Stmt, sp: u32) -> R<()> {
        match st {
            Stmt::Assign {
                place,
                value,
                bounds,
                ..
            } => {
                let (arr, off) = self.place(place, sp)?;
                let off = self.bind_tmp(&off);
                if place.len == 1 {
                    let v = self.int(value, sp)?;
                    self.check_bounds(&v, bounds[0])?;
                    self.line(format!("{arr}[{off}] = {v};"));
                } else {
                    self.push(value, sp)?;
                    self.check_stack_bounds(sp, bounds)?;
                    self.copy((arr, off), ("stk", sp.to_string()), place.len);
                }
            }
            Stmt::Let { local, len, value } => self.bind(*local, *len, value, sp)?,
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                let c = self.int(cond, sp)?;
                self.open(format!("if ({c} != 0) {{"));
                self.stmts(then, sp)?;
                if !otherwise.is_empty() {
                    self.reopen("} else {");
                    self.stmts(otherwise, sp)?;
                }
                self.close();
            }
            Stmt::For {
                local,
                len,
                domain,
                body,
            } => {
                // The domain is evaluated once, before the body writes.
                let (inner, opened) = self.open_domain(*local, *len, domain, sp)?;
                self.stmts(body, inner)?;
                for _ in 0..opened {
                    self.close();
                }
            }
            Stmt::SetAdd {
                place,
                elem,
                elem_ty,
                remove,
                ..
            } => {
                let (arr, off) = self.place(place, sp)?;
                let off = self.bind_tmp(&off);
                let (ok, ix) = self.index_of(elem, elem_ty, sp)?;
                self.line(format!(
                    "if ({ok}) {{ {arr}[{off} + {ix}] = {}; }} else {{ return Err(Fault); }}",
                    i32::from(!remove)
                ));
            }
            Stmt::SetBit {
                offset,
                index,
                lo,
                count,
                value,
                ..
            } => {
                let i = self.int(index, sp)?;
                let k = self.bind_tmp(&format!("elem({i}, {}, {count})?", lit(*lo)?));
                self.line(format!("s[{offset} + {k}] = {};", i32::from(*value)));
            }
            Stmt::Push {
                place,
                elem,
                stride,
                cap,
                bounds,
                ..
            } => {
                let (arr, off) = self.place(place, sp)?;
                let off = self.bind_tmp(&off);
                let n = self.bind_tmp(&format!("{arr}[{off}]"));
                self.line(format!(
                    "if ({n} < 0 || {n} >= {cap}) {{ return Err(Fault); }}"
                ));
                let n = self.bind_tmp(&format!("clamp({n}, 0, {})", cap.saturating_sub(1)));
                self.push(elem, sp)?;
                self.check_stack_bounds(sp, bounds)?;
                let at = format!("{off} + 1 + {n} * {stride}");
                self.copy((arr, at), ("stk", sp.to_string()), *stride);
                self.line(format!("{arr}[{off}] = {n} + 1;"));
            }
            Stmt::Pop {
                place,
                at,
                stride,
                cap,
                filler,
                ..
            } => {
                let (arr, off) = self.place(place, sp)?;
                let off = self.bind_tmp(&off);
                let n = self.bind_tmp(&format!("clamp({arr}[{off}], 0, {cap})"));
                let k = match at {
                    Some(e) => self.int(e, sp)?,
                    None => "0".into(),
                };
                self.line(format!(
                    "if ({k} < 0 || {k} >= {n}) {{ return Err(Fault); }}"
                ));
                self.open(format!("if ({k} >= 0 && {k} < {n}) {{"));
                // Elements after `k` move down one; the freed last slot gets
                // the canonical filler.
                self.line(format!(
                    "for j in {off} + 1 + {k} * {stride}..{off} + 1 + ({n} - 1) * {stride} {{ {arr}[j] = {arr}[j + {stride}]; }}"
                ));
                let last = self.bind_tmp(&format!("{off} + 1 + ({n} - 1) * {stride}"));
                self.write_consts(arr, &last, filler)?;
                self.line(format!("{arr}[{off}] = {n} - 1;"));
                self.close();
            }
            // The network variable is the runtime's: a send is handed to it.
            Stmt::Send { dst, msg, .. } => {
                let d = self.int(dst, sp)?;
                let len = self.len_of(msg);
                self.push(msg, sp)?;
                self.line(format!("sent.push(({d}, stk.slice({sp}, {len})));"));
            }
            Stmt::Clear { place, filler } => {
                let (arr, off) = self.place(place, sp)?;
                let off = self.bind_tmp(&off);
                self.write_consts(arr, &off, filler)?;
            }
            Stmt::Assert { cond, .. } => {
                let c = self.int(cond, sp)?;
                self.line(format!("if ({c} == 0) {{ return Err(Fault); }}"));
            }
        }
        Ok(())
    }
}
