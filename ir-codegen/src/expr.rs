//! Expressions, places and statements of the model IR as statements of the
//! dialect, mirroring `model::eval` step for step.

use model::ir::{
    CmpOp, Domain, Expr, IntOp, Operand, Place, QuantKind, Root, SetOp, Step, Stmt, Ty,
};

use super::{Dialect, Gen, R, Unsupported};

impl<D: Dialect> Gen<'_, D> {
    /// Slots of the flat value of `e`.
    pub fn len_of(&self, e: &Expr) -> u32 {
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
            Expr::Block { value, .. } => self.len_of(value),
            _ => 1,
        }
    }

    /// `elem(i, lo, count)`: the element number, range-checked.
    fn elem(&mut self, i: &str, lo: i64, count: u32) -> R<String> {
        let call = format!(
            "elem({i}, {}, {}){}",
            self.lit(lo)?,
            self.num(count),
            self.d.checked()
        );
        Ok(self.bind_tmp(&call))
    }

    fn operand(&mut self, o: &Operand) -> R<String> {
        Ok(match o {
            Operand::Int(v) => self.lit(*v)?,
            Operand::Local(l) => self.bind_tmp(&format!("fr[{l}]")),
            Operand::Slot(s) => self.bind_tmp(&format!("s[{s}]")),
            Operand::SlotAt { offset, local, lo, count, stride, .. } => {
                let k = self.elem(&format!("fr[{local}]"), *lo, *count)?;
                let at = format!("s[{} + {k} * {}]", self.num(*offset), self.num(*stride));
                self.bind_tmp(&at)
            }
        })
    }

    /// Evaluates a scalar expression; `sp` is the first free stack slot.
    /// Returns an expression of the value type valid at the current scope.
    pub fn int(&mut self, e: &Expr, sp: u32) -> R<String> {
        Ok(match e {
            Expr::Int(v) => self.lit(*v)?,
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
                let v = self.d.int_of(&format!("{x} {op} {y}"));
                self.bind_tmp(&v)
            }
            Expr::Local(l) => self.bind_tmp(&format!("fr[{l}]")),
            Expr::Slot(o) => self.bind_tmp(&format!("s[{o}]")),
            Expr::Lit(v) => self.lit(v[0])?,
            Expr::Bit { offset, index, lo, count } => {
                let i = self.int(index, sp)?;
                let t = self.tmp();
                let lo = self.lit(*lo)?;
                self.line(self.d.var(&t, &self.num(0u32)));
                let inside = self.d.in_range(&i, &lo, u64::from(*count));
                let at = format!("{} + {}", self.num(*offset), self.d.diff(&i, &lo));
                self.line(format!("if ({inside}) {{ {t} = s[{at}]; }}"));
                t
            }
            Expr::SlotAt { offset, index, lo, count, stride, .. } => {
                let base = self.num(*offset);
                let at = self.element(index, *lo, *count, *stride, &base, sp)?;
                self.bind_tmp(&format!("s[{at}]"))
            }
            Expr::Read(place) => {
                let (arr, off) = self.place(place, sp)?;
                self.bind_tmp(&format!("{arr}[{off}]"))
            }
            Expr::Neg(a, _) => {
                let a = self.int(a, sp)?;
                self.bind_tmp(&format!("neg_ck({a}){}", self.d.checked()))
            }
            Expr::Abs(a, _) => {
                let a = self.int(a, sp)?;
                self.bind_tmp(&format!("abs_ck({a}){}", self.d.checked()))
            }
            Expr::Checked { value, forbidden, .. } => {
                let v = self.int(value, sp)?;
                let u = self.lit(*forbidden)?;
                self.bind_tmp(&format!("defined_ck({v}, {u}){}", self.d.checked()))
            }
            Expr::Not(a) => {
                let a = self.int(a, sp)?;
                self.bind_tmp(&format!("{} - {a}", self.num(1u32)))
            }
            Expr::Arith(op, a, b, _) => {
                let a = self.int(a, sp)?;
                let b = self.int(b, sp)?;
                let c = self.d.checked();
                let v = match op {
                    IntOp::Add => format!("add_ck({a}, {b}){c}"),
                    IntOp::Sub => format!("sub_ck({a}, {b}){c}"),
                    IntOp::Mul => format!("mul_ck({a}, {b}){c}"),
                    IntOp::Div => format!("div_ck({a}, {b}){c}"),
                    IntOp::Mod => format!("mod_ck({a}, {b}){c}"),
                    IntOp::Lt => self.d.int_of(&format!("{a} < {b}")),
                    IntOp::Le => self.d.int_of(&format!("{a} <= {b}")),
                    IntOp::Gt => self.d.int_of(&format!("{a} > {b}")),
                    IntOp::Ge => self.d.int_of(&format!("{a} >= {b}")),
                    IntOp::Min => format!("min({a}, {b})"),
                    IntOp::Max => format!("max({a}, {b})"),
                    IntOp::Quot => format!("quot_ck({a}, {b}){c}"),
                    IntOp::Rem => format!("rem_ck({a}, {b}){c}"),
                    IntOp::BitAnd => format!("({a} & {b})"),
                    IntOp::BitOr => format!("({a} | {b})"),
                    IntOp::BitXor => format!("({a} ^ {b})"),
                    IntOp::Shl => format!("shl_ck({a}, {b}){c}"),
                    IntOp::Shr => format!("shr_ck({a}, {b}){c}"),
                };
                self.bind_tmp(&v)
            }
            Expr::Eq { len, negate, a, b } => {
                if *len == 1 {
                    let x = self.int(a, sp)?;
                    let y = self.int(b, sp)?;
                    let v = self.d.int_of(&format!("({x} == {y}) != {negate}"));
                    self.bind_tmp(&v)
                } else {
                    self.push(a, sp)?;
                    self.push(b, sp + len)?;
                    let t = self.tmp();
                    self.line(self.d.var(&t, "true"));
                    let head = self.d.for_range("j", &self.num(0u32), &self.num(*len));
                    self.line(format!(
                        "{head} if (stk[{} + j] != stk[{} + j]) {{ {t} = false; break; }} }}",
                        self.num(sp),
                        self.num(sp + len)
                    ));
                    let v = self.d.int_of(&format!("{t} != {negate}"));
                    self.bind_tmp(&v)
                }
            }
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Implies(a, b) => {
                let x = self.int(a, sp)?;
                let t = self.tmp();
                let zero = self.num(0u32);
                // And: b only when a; Or: b only when not a; Implies: b only when a.
                let (first, run_b) = match e {
                    Expr::And(..) => (
                        self.d.int_of(&format!("{x} != {zero}")),
                        format!("{t} != {zero}"),
                    ),
                    Expr::Or(..) => (
                        self.d.int_of(&format!("{x} != {zero}")),
                        format!("{t} == {zero}"),
                    ),
                    _ => (
                        self.d.int_of(&format!("{x} == {zero}")),
                        format!("{t} == {zero}"),
                    ),
                };
                self.line(self.d.var(&t, &first));
                self.open(format!("if ({run_b}) {{"));
                let y = self.int(b, sp)?;
                self.line(format!(
                    "{t} = {};",
                    self.d.int_of(&format!("{y} != {zero}"))
                ));
                self.close();
                t
            }
            Expr::If { cond, then, otherwise, .. } => {
                let c = self.int(cond, sp)?;
                let t = self.tmp();
                self.line(self.d.decl(&t));
                self.open(format!("if ({c} != {}) {{", self.num(0u32)));
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
                self.line(self.d.var(&t, &self.num(0u32)));
                self.open(format!("if ({ok}) {{"));
                if let Expr::Read(place) = &**set {
                    let (arr, off) = self.place(place, sp)?;
                    self.line(format!("{t} = {arr}[{off} + {ix}];"));
                } else {
                    self.push(set, sp)?;
                    self.line(format!("{t} = stk[{} + {ix}];", self.num(sp)));
                }
                self.close();
                t
            }
            Expr::Subseteq { card, a, b } => {
                self.push(a, sp)?;
                self.push(b, sp + card)?;
                let t = self.tmp();
                self.line(self.d.var(&t, &self.num(1u32)));
                let head = self.d.for_range("j", &self.num(0u32), &self.num(*card));
                self.line(format!(
                    "{head} if (stk[{} + j] > stk[{} + j]) {{ {t} = {}; break; }} }}",
                    self.num(sp),
                    self.num(sp + card),
                    self.num(0u32)
                ));
                t
            }
            Expr::Card { card, set } => {
                let (arr, off) = match &**set {
                    Expr::Read(place) => self.place(place, sp)?,
                    other => {
                        self.push(other, sp)?;
                        ("stk", self.num(sp))
                    }
                };
                let t = self.tmp();
                self.line(self.d.var(&t, &self.num(0u32)));
                let head = self.d.for_range("j", &self.num(0u32), &self.num(*card));
                self.line(format!("{head} {t} += {arr}[{off} + j]; }}"));
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
                self.line(format!("if (!{ok}) {{ {} }}", self.d.fail()));
                ix
            }
            Expr::Quant { .. } => self.quant(e, sp)?,
            Expr::Let { local, len, value, body } => {
                self.bind(*local, *len, value, sp)?;
                self.int(body, sp)?
            }
            Expr::Block { stmts, value } => {
                self.stmts(stmts, sp)?;
                self.int(value, sp)?
            }
            // The rest are built on the stack (as the evaluator does): a
            // part of a value, or a compound value one slot long.
            _ => {
                self.push(e, sp)?;
                self.bind_tmp(&format!("stk[{sp}]"))
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
            let (d, s) = (self.num(local), self.num(sp));
            self.copy(("fr", d), ("stk", s), len);
        }
        Ok(())
    }

    /// `dst[d..d+len] = src[s..s+len]`, ascending (safe for d <= s).
    fn copy(&mut self, dst: (&str, String), src: (&str, String), len: u32) {
        let ((da, d), (sa, s)) = (dst, src);
        if len <= 4 {
            for j in 0..len {
                self.line(format!(
                    "{da}[({d}) + {}] = {sa}[({s}) + {}];",
                    self.num(j),
                    self.num(j)
                ));
            }
        } else {
            let head = self.d.for_range("j", &self.num(0u32), &self.num(len));
            self.line(format!("{head} {da}[({d}) + j] = {sa}[({s}) + j]; }}"));
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
            let v = self.lit(values[i])?;
            if j - i <= 4 {
                for k in i..j {
                    self.line(format!("{arr}[({base}) + {}] = {v};", self.num(k as u64)));
                }
            } else {
                let head = self
                    .d
                    .for_range("j", &self.num(i as u64), &self.num(j as u64));
                self.line(format!("{head} {arr}[({base}) + j] = {v}; }}"));
            }
            i = j;
        }
        Ok(())
    }

    /// Evaluates any expression into `stk[at..at + len_of(e)]`; scratch
    /// space starts above that.
    pub fn push(&mut self, e: &Expr, at: u32) -> R<()> {
        let len = self.len_of(e);
        self.stack(at + len);
        match e {
            Expr::Read(place) => {
                let (arr, off) = self.place(place, at + len)?;
                self.copy(("stk", self.num(at)), (arr, off), len);
            }
            Expr::Lit(v) => self.write_consts("stk", &self.num(at), v)?,
            Expr::If { cond, then, otherwise, .. } => {
                let c = self.int(cond, at)?;
                self.open(format!("if ({c} != {}) {{", self.num(0u32)));
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
            Expr::Variant { default, tag, offset, fields } => {
                self.write_consts("stk", &self.num(at), default)?;
                self.line(format!("stk[{at}] = {};", self.num(*tag)));
                let mut pos = at + offset;
                // Each field is built above the variant (its scratch would
                // overwrite the default slots after it), then moved down.
                let top = at + len;
                for f in fields {
                    let n = self.len_of(f);
                    self.push(f, top)?;
                    self.copy(("stk", self.num(pos)), ("stk", self.num(top)), n);
                    pos += n;
                }
            }
            Expr::SeqLit { elems, padding } => {
                self.line(format!("stk[{at}] = {};", self.num(elems.len() as u64)));
                let mut pos = at + 1;
                for x in elems {
                    self.push(x, pos)?;
                    pos += self.len_of(x);
                }
                self.write_consts("stk", &self.num(pos), padding)?;
            }
            Expr::Sub { base, base_len, step, len } => {
                self.stack(at + base_len);
                self.push(base, at)?;
                let off = self.step(step, "stk", &self.num(at), at + base_len)?;
                self.copy(("stk", self.num(at)), ("stk", off), *len);
            }
            Expr::SetLit { elems, elem_ty, card, .. } => {
                let head = self.d.for_range("j", &self.num(0u32), &self.num(*card));
                self.line(format!(
                    "{head} stk[{} + j] = {}; }}",
                    self.num(at),
                    self.num(0u32)
                ));
                for x in elems {
                    let (ok, ix) = self.index_of(x, elem_ty, at + card)?;
                    self.line(format!(
                        "if ({ok}) {{ stk[{} + {ix}] = {}; }} else {{ {} }}",
                        self.num(at),
                        self.num(1u32),
                        self.d.fail()
                    ));
                }
            }
            Expr::SetOp { op, card, a, b } => {
                self.push(a, at)?;
                self.push(b, at + card)?;
                let f = match op {
                    SetOp::Union => "x | y".to_string(),
                    SetOp::Inter => "x & y".to_string(),
                    SetOp::Minus => format!("x & ({} - y)", self.num(1u32)),
                };
                let head = self.d.for_range("j", &self.num(0u32), &self.num(*card));
                let (a, b) = (self.num(at), self.num(at + card));
                self.line(format!(
                    "{head} let x = stk[{a} + j]; let y = stk[{b} + j]; stk[{a} + j] = {f}; }}"
                ));
            }
            Expr::Let { local, len, value, body } => {
                self.bind(*local, *len, value, at)?;
                self.push(body, at)?;
            }
            // Statements on locals, in place: the expression's code runs
            // in order, and a branch's only where the branch is taken.
            Expr::Block { stmts, value } => {
                self.stmts(stmts, at)?;
                self.push(value, at)?;
            }
            _ => {
                let v = self.int(e, at)?;
                self.line(format!("stk[{at}] = {v};"));
            }
        }
        Ok(())
    }

    /// Resolves a place: (array, offset expression).
    pub fn place(&mut self, place: &Place, sp: u32) -> R<(&'static str, String)> {
        let arr = match place.root {
            Root::State => "s",
            Root::Local => {
                self.frame(place.offset + place.len);
                "fr"
            }
        };
        let mut off = self.num(place.offset);
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
        let k = self.elem(&i, lo, count)?;
        Ok(self.bind_tmp(&format!("{base} + {k} * {}", self.num(stride))))
    }

    /// One step from offset `base` of `arr`; returns the new offset.
    fn step(&mut self, step: &Step, arr: &str, base: &str, sp: u32) -> R<String> {
        Ok(match step {
            Step::Offset(o) => self.bind_tmp(&format!("{base} + {}", self.num(*o))),
            Step::Index { index, lo, count, stride, .. } => {
                self.element(index, *lo, *count, *stride, base, sp)?
            }
            Step::SeqIndex { index, stride, .. } => {
                let i = self.int(index, sp)?;
                let b = self.bind_tmp(base);
                let k = self.bind_tmp(&format!("seq_index({i}, {arr}[{b}]){}", self.d.checked()));
                self.bind_tmp(&format!(
                    "{b} + {} + {k} * {}",
                    self.num(1u32),
                    self.num(*stride)
                ))
            }
            Step::SeqEnd { first, stride, .. } => {
                let b = self.bind_tmp(base);
                let n = self.bind_tmp(&format!("{arr}[{b}]"));
                self.line(format!(
                    "if ({n} <= {}) {{ {} }}",
                    self.num(0u32),
                    self.d.fail()
                ));
                let k = if *first {
                    self.num(0u32)
                } else {
                    self.bind_tmp(&format!(
                        "max({n} - {}, {})",
                        self.num(1u32),
                        self.num(0u32)
                    ))
                };
                self.bind_tmp(&format!(
                    "{b} + {} + {k} * {}",
                    self.num(1u32),
                    self.num(*stride)
                ))
            }
            Step::VariantField { tags, .. } => {
                let b = self.bind_tmp(base);
                let tag = self.bind_tmp(&format!("{arr}[{b}]"));
                let o = self.tmp();
                self.line(self.d.var(&o, &self.num(0u32)));
                let mut chain = String::new();
                for (t, off) in tags {
                    chain.push_str(&format!(
                        "if ({tag} == {}) {{ {o} = {}; }} else ",
                        self.num(*t),
                        self.num(*off)
                    ));
                }
                chain.push_str(&format!("{{ {} }}", self.d.fail()));
                self.line(chain);
                self.bind_tmp(&format!("{b} + {o}"))
            }
        })
    }

    /// (ok: bool expr, index expr) of a value among its type's values.
    fn index_of(&mut self, e: &Expr, ty: &Ty, sp: u32) -> R<(String, String)> {
        if let Ty::Range(lo, hi) = ty {
            let v = self.int(e, sp)?;
            let (l, h) = (self.lit(*lo)?, self.lit(*hi)?);
            let ok = self.bind_tmp(&format!("({v} >= {l} && {v} <= {h})"));
            let ix = self.bind_tmp(&self.d.diff(&v, &l));
            return Ok((ok, ix));
        }
        let len = self.types().flat_len(ty);
        self.push(e, sp)?;
        self.stack(sp + len);
        let base = self.num(sp);
        self.value_index(ty, "stk", &base)
    }

    /// `forall`, `exists`, `count` or `sum` (`q` is an `Expr::Quant`).
    fn quant(&mut self, q: &Expr, sp: u32) -> R<String> {
        let Expr::Quant { kind, local, len, domain, body } = q else {
            unreachable!("a quantifier")
        };
        let (kind, local, len) = (*kind, *local, *len);
        let acc = self.tmp();
        let init = if kind == QuantKind::Forall { 1u32 } else { 0 };
        self.line(self.d.var(&acc, &self.num(init)));
        let (inner, opened) = self.open_domain(local, len, domain, sp)?;
        let x = self.int(body, inner)?;
        let (zero, one) = (self.num(0u32), self.num(1u32));
        match kind {
            QuantKind::Forall => {
                self.line(format!("if ({x} == {zero}) {{ {acc} = {zero}; break; }}"))
            }
            QuantKind::Exists => {
                self.line(format!("if ({x} != {zero}) {{ {acc} = {one}; break; }}"))
            }
            QuantKind::Count => self.line(format!("{acc} = {acc} + {x};")),
            QuantKind::Sum => self.line(format!("{acc} = add_ck({acc}, {x}){};", self.d.checked())),
        }
        for _ in 0..opened {
            self.close();
        }
        Ok(acc)
    }

    /// A loop of `j` over `0..n`, with the dialect's failure guard.
    fn open_loop(&mut self, j: &str, n: &str) {
        self.open(self.d.for_range(j, &self.num(0u32), n));
        if let Some(g) = self.d.loop_guard() {
            self.line(g);
        }
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
                self.open_loop(&j, &self.num(card));
                match ty {
                    Ty::Range(lo, _) => {
                        let lo = self.lit(*lo)?;
                        self.line(format!("fr[{local}] = {lo} + {j};"))
                    }
                    Ty::Bool => self.line(format!("fr[{local}] = {j};")),
                    _ => self.value_at(ty, &j, "fr", &self.num(local))?,
                }
                Ok((sp, 1))
            }
            Domain::Set { set, elem } => {
                let card = self.len_of(set);
                self.push(set, sp)?;
                let j = self.tmp();
                self.open_loop(&j, &self.num(card));
                self.open(format!(
                    "if (stk[{} + {j}] != {}) {{",
                    self.num(sp),
                    self.num(0u32)
                ));
                self.value_at(elem, &j, "fr", &self.num(local))?;
                Ok((sp + card, 2))
            }
            Domain::Seq { seq, stride } => {
                let total = self.len_of(seq);
                let cap = (total - 1) / stride.max(&1);
                self.push(seq, sp)?;
                let n = self.bind_tmp(&format!(
                    "clamp(stk[{sp}], {}, {})",
                    self.num(0u32),
                    self.num(cap)
                ));
                let j = self.tmp();
                self.open_loop(&j, &n);
                let from = format!("{} + {j} * {}", self.num(sp + 1), self.num(*stride));
                self.copy(("fr", self.num(local)), ("stk", from), *stride);
                Ok((sp + total, 1))
            }
        }
    }

    /// Statements that write the working state `s`.
    pub fn stmts(&mut self, stmts: &[Stmt], sp: u32) -> R<()> {
        for s in stmts {
            self.stmt(s, sp)?;
        }
        Ok(())
    }

    fn check_bounds(&mut self, v: &str, (lo, hi): (i64, i64)) -> R<()> {
        let Some((lo, hi)) = self.d.bounds(lo, hi) else {
            return Ok(());
        };
        self.line(format!(
            "if ({v} < {} || {v} > {}) {{ {} }}",
            self.lit(lo)?,
            self.lit(hi)?,
            self.d.fail()
        ));
        Ok(())
    }

    /// Range checks on `stk[at..at + bounds.len()]`: a loop when the bounds
    /// repeat with a short period, else one check per slot.
    fn check_stack_bounds(&mut self, at: u32, bounds: &[(i64, i64)]) -> R<()> {
        let n = bounds.len();
        let period = (1..=16.min(n))
            .find(|p| n.is_multiple_of(*p) && (*p..n).all(|i| bounds[i] == bounds[i - p]));
        match period {
            Some(p) if n / p > 2 => {
                self.open(
                    self.d
                        .for_step("j", &self.num(n as u64), &self.num(p as u64)),
                );
                for (k, b) in bounds[..p].iter().enumerate() {
                    let v = self.bind_tmp(&format!(
                        "stk[{} + j + {}]",
                        self.num(at),
                        self.num(k as u64)
                    ));
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
        let (zero, one) = (self.num(0u32), self.num(1u32));
        match st {
            Stmt::Assign { place, value, bounds, .. } => {
                let (arr, off) = self.place(place, sp)?;
                let off = self.bind_tmp(&off);
                if place.len == 1 {
                    let v = self.int(value, sp)?;
                    self.check_bounds(&v, bounds[0])?;
                    self.line(format!("{arr}[{off}] = {v};"));
                } else {
                    self.push(value, sp)?;
                    self.check_stack_bounds(sp, bounds)?;
                    self.copy((arr, off), ("stk", self.num(sp)), place.len);
                }
            }
            Stmt::Let { local, len, value } => self.bind(*local, *len, value, sp)?,
            Stmt::If { cond, then, otherwise } => {
                let c = self.int(cond, sp)?;
                self.open(format!("if ({c} != {zero}) {{"));
                self.stmts(then, sp)?;
                if !otherwise.is_empty() {
                    self.reopen("} else {");
                    self.stmts(otherwise, sp)?;
                }
                self.close();
            }
            Stmt::While { cond, body, limit, .. } => {
                // At most `limit` runs of the body; the condition holding
                // once more is the error.
                let j = self.tmp();
                self.open_loop(&j, &self.num(u64::from(*limit) + 1));
                let c = self.int(cond, sp)?;
                self.line(format!("if ({c} == {zero}) {{ break; }}"));
                self.line(format!(
                    "if ({j} == {}) {{ {} break; }}",
                    self.num(u64::from(*limit)),
                    self.d.fail()
                ));
                self.stmts(body, sp)?;
                self.close();
            }
            Stmt::For { local, len, domain, body } => {
                // The domain is evaluated once, before the body writes.
                let (inner, opened) = self.open_domain(*local, *len, domain, sp)?;
                self.stmts(body, inner)?;
                for _ in 0..opened {
                    self.close();
                }
            }
            Stmt::SetAdd { place, elem, elem_ty, remove, .. } => {
                let (arr, off) = self.place(place, sp)?;
                let off = self.bind_tmp(&off);
                let (ok, ix) = self.index_of(elem, elem_ty, sp)?;
                let v = if *remove { &zero } else { &one };
                self.line(format!(
                    "if ({ok}) {{ {arr}[{off} + {ix}] = {v}; }} else {{ {} }}",
                    self.d.fail()
                ));
            }
            Stmt::SetBit { offset, index, lo, count, value, .. } => {
                let i = self.int(index, sp)?;
                let k = self.elem(&i, *lo, *count)?;
                let v = if *value { &one } else { &zero };
                self.line(format!("s[{} + {k}] = {v};", self.num(*offset)));
            }
            Stmt::Push { place, elem, stride, cap, bounds, .. } => {
                let (arr, off) = self.place(place, sp)?;
                let off = self.bind_tmp(&off);
                let n = self.bind_tmp(&format!("{arr}[{off}]"));
                self.line(format!(
                    "if ({n} < {zero} || {n} >= {}) {{ {} }}",
                    self.num(*cap),
                    self.d.fail()
                ));
                let n = self.bind_tmp(&format!(
                    "clamp({n}, {zero}, {})",
                    self.num(cap.saturating_sub(1))
                ));
                self.push(elem, sp)?;
                self.check_stack_bounds(sp, bounds)?;
                let at = format!("{off} + {one} + {n} * {}", self.num(*stride));
                self.copy((arr, at), ("stk", self.num(sp)), *stride);
                self.line(format!("{arr}[{off}] = {n} + {one};"));
            }
            Stmt::Pop { place, at, stride, cap, filler, .. } => {
                let (arr, off) = self.place(place, sp)?;
                let off = self.bind_tmp(&off);
                let n = self.bind_tmp(&format!("clamp({arr}[{off}], {zero}, {})", self.num(*cap)));
                let k = match at {
                    Some(e) => self.int(e, sp)?,
                    None => zero.clone(),
                };
                self.line(format!(
                    "if ({k} < {zero} || {k} >= {n}) {{ {} }}",
                    self.d.fail()
                ));
                self.open(format!("if ({k} >= {zero} && {k} < {n}) {{"));
                // Elements after `k` move down one; the freed last slot gets
                // the canonical filler.
                let stride = self.num(*stride);
                let head = self.d.for_range(
                    "j",
                    &format!("{off} + {one} + {k} * {stride}"),
                    &format!("{off} + {one} + ({n} - {one}) * {stride}"),
                );
                self.line(format!("{head} {arr}[j] = {arr}[j + {stride}]; }}"));
                let last = self.bind_tmp(&format!("{off} + {one} + ({n} - {one}) * {stride}"));
                self.write_consts(arr, &last, filler)?;
                self.line(format!("{arr}[{off}] = {n} - {one};"));
                self.close();
            }
            // A target that carries messages itself gets the message built
            // and handed over; otherwise the network update it lowers to.
            Stmt::Send { dst, msg, .. } if self.d.captures_sends() => {
                let d = self.int(dst, sp)?;
                let len = self.len_of(msg);
                self.push(msg, sp)?;
                self.line(self.d.send(&d, sp, len));
            }
            Stmt::Send { lowered, .. } => self.stmts(lowered, sp)?,
            Stmt::Clear { place, filler } => {
                let (arr, off) = self.place(place, sp)?;
                let off = self.bind_tmp(&off);
                self.write_consts(arr, &off, filler)?;
            }
            Stmt::Cover { reachable, cond } => {
                let record = self.d.cover(*reachable);
                if !record.is_empty() {
                    let c = self.int(cond, sp)?;
                    self.line(format!("if ({c} != {zero}) {{ {record} }}"));
                }
            }
            Stmt::Assert { cond, .. } => {
                let c = self.int(cond, sp)?;
                self.line(format!("if ({c} == {zero}) {{ {} }}", self.d.fail()));
            }
        }
        Ok(())
    }
}
