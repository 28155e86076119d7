//! The reference evaluator: guards, rule bodies and properties over flat
//! (unpacked) states. Every backend's answers are checked against it, and
//! every reported trace is replayed through it.

use crate::ir::{
    CmpOp, Domain, Expr, IntOp, Model, Operand, Place, QuantKind, Root, SetOp, Step, Stmt, Ty,
    Types,
};
use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// An `assert` failed.
    Assert,
    /// A value outside its type was stored, or an index was out of bounds.
    Range,
    /// Any other error of the spec at run time (division by zero, the field
    /// of another variant, `head` of an empty sequence).
    Eval,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Assert => "assert",
            ErrorKind::Range => "range",
            ErrorKind::Eval => "eval",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    pub kind: ErrorKind,
    pub message: String,
    pub span: Span,
}

/// Errors are boxed so that results travel in registers: the evaluator's
/// hot path returns one per expression node.
pub type EvalResult<T> = Result<T, Box<EvalError>>;

fn err<T>(kind: ErrorKind, span: Span, message: impl Into<String>) -> EvalResult<T> {
    Err(Box::new(EvalError { kind, message: message.into(), span }))
}

/// Where a place's slots are read from.
#[derive(Clone, Copy)]
enum Src {
    State,
    Frame,
    Stack,
}

/// Evaluation scratch space: the local frame and the value stack. One per
/// thread, reused for every state.
pub struct Evaluator<'m> {
    types: &'m Types,
    pub frame: Vec<i64>,
    stack: Vec<i64>,
    /// (first slot, slot count) of every state write since the last
    /// `take_dirty`: lets a backend repack only what a rule changed.
    dirty: Vec<(u32, u32)>,
    /// When set, every `send` also records (destination process id, flat
    /// message) here: what a node of an emitted program would send
    /// (`fathom validate` compares them with its logs).
    pub sends: Option<Vec<(i64, Vec<i64>)>>,
    /// Reachable properties met by `Stmt::Cover` since the caller last
    /// took them (bit i: `Model::reachables[i]`).
    pub covered: u64,
    /// Scratch for `Expr::Block`.
    block_state: Vec<i64>,
}

/// Folds a constant expression (no state).
pub fn eval_const(types: &Types, e: &Expr, frame_len: u32) -> EvalResult<i64> {
    let mut ev = Evaluator {
        types,
        frame: vec![0; frame_len as usize],
        stack: Vec::new(),
        dirty: Vec::new(),
        sends: None,
        covered: 0,
        block_state: Vec::new(),
    };
    ev.int(e, &[])
}

impl<'m> Evaluator<'m> {
    pub fn new(model: &'m Model) -> Evaluator<'m> {
        let frame_len = model
            .rules
            .iter()
            .chain(&model.inits)
            .map(|r| r.frame_len)
            .chain(
                model
                    .invariants
                    .iter()
                    .chain(&model.reachables)
                    .chain(&model.constraints)
                    .chain(&model.terminals)
                    .map(|p| p.frame_len),
            )
            .chain(model.temporals.iter().map(|t| t.frame_len))
            .chain([model.init_frame_len])
            .max()
            .unwrap_or(0);
        Evaluator {
            types: &model.types,
            frame: vec![0; frame_len as usize],
            stack: Vec::with_capacity(256),
            dirty: Vec::with_capacity(16),
            sends: None,
            covered: 0,
            block_state: Vec::new(),
        }
    }

    /// The state slots written since the last call, as (first, count).
    pub fn dirty(&self) -> &[(u32, u32)] {
        &self.dirty
    }

    pub fn clear_dirty(&mut self) {
        self.dirty.clear();
    }

    fn wrote(&mut self, first: usize, count: usize) {
        self.dirty.push((first as u32, count as u32));
    }

    fn read(&self, src: Src, state: &[i64], index: usize) -> i64 {
        match src {
            Src::State => state[index],
            Src::Frame => self.frame[index],
            Src::Stack => self.stack[index],
        }
    }

    /// Applies one step to a base offset within `src`.
    fn step(&mut self, step: &Step, state: &[i64], src: Src, base: usize) -> EvalResult<usize> {
        match step {
            Step::Offset(o) => Ok(base + *o as usize),
            Step::Index { index, lo, count, stride, span } => {
                let i = self.int(index, state)?;
                Ok(base + element(i, *lo, *count, *stride, *span)?)
            }
            Step::SeqIndex { index, stride, span } => {
                let i = self.int(index, state)?;
                let len = self.read(src, state, base);
                if !(0..len).contains(&i) {
                    return err(
                        ErrorKind::Range,
                        *span,
                        format!("index {i} is out of bounds for a sequence of length {len}"),
                    );
                }
                Ok(base + 1 + i as usize * *stride as usize)
            }
            Step::SeqEnd { first, stride, span } => {
                let len = self.read(src, state, base);
                if len == 0 {
                    let f = if *first { "head" } else { "last" };
                    return err(
                        ErrorKind::Eval,
                        *span,
                        format!("`{f}` of an empty sequence"),
                    );
                }
                let i = if *first { 0 } else { len as usize - 1 };
                Ok(base + 1 + i * *stride as usize)
            }
            Step::VariantField { tags, field, span } => {
                let tag = self.read(src, state, base);
                match tags.iter().find(|(t, _)| *t as i64 == tag) {
                    Some((_, offset)) => Ok(base + *offset as usize),
                    None => err(
                        ErrorKind::Eval,
                        *span,
                        format!("this value has no field `{field}`: it is another variant"),
                    ),
                }
            }
        }
    }

    fn resolve(&mut self, place: &Place, state: &[i64]) -> EvalResult<(Src, usize)> {
        let src = if place.root == Root::State {
            Src::State
        } else {
            Src::Frame
        };
        let mut offset = place.offset as usize;
        for s in &place.steps {
            offset = self.step(s, state, src, offset)?;
        }
        Ok((src, offset))
    }

    pub fn bool(&mut self, e: &Expr, state: &[i64]) -> EvalResult<bool> {
        Ok(self.int(e, state)? != 0)
    }

    /// Evaluates a scalar expression.
    pub fn int(&mut self, e: &Expr, state: &[i64]) -> EvalResult<i64> {
        match e {
            Expr::Int(v) => Ok(*v),
            Expr::Test { op, a, b } => {
                let (x, y) = (self.operand(a, state)?, self.operand(b, state)?);
                Ok(match op {
                    CmpOp::Eq => x == y,
                    CmpOp::Ne => x != y,
                    CmpOp::Lt => x < y,
                    CmpOp::Le => x <= y,
                    CmpOp::Gt => x > y,
                    CmpOp::Ge => x >= y,
                } as i64)
            }
            Expr::Local(o) => Ok(self.frame[*o as usize]),
            Expr::Slot(o) => Ok(state[*o as usize]),
            Expr::Bit { offset, index, lo, count } => {
                let i = self.index(index, state)?;
                Ok(
                    match i
                        .checked_sub(*lo)
                        .filter(|k| (0..*count as i64).contains(k))
                    {
                        Some(k) => state[*offset as usize + k as usize],
                        None => 0,
                    },
                )
            }
            Expr::SlotAt { offset, index, lo, count, stride, span } => {
                let i = self.index(index, state)?;
                slot_at(state, *offset, i, *lo, *count, *stride, *span)
            }
            Expr::Read(place) => {
                debug_assert_eq!(place.len, 1);
                let (src, off) = self.resolve(place, state)?;
                Ok(self.read(src, state, off))
            }
            Expr::Neg(a, span) => {
                let a = self.int(a, state)?;
                a.checked_neg().map_or_else(|| overflow(*span), Ok)
            }
            Expr::Not(a) => Ok(1 - self.int(a, state)?),
            Expr::Checked { value, forbidden, span } => {
                let v = self.int(value, state)?;
                if v == *forbidden {
                    return err(ErrorKind::Eval, *span, "read of an undefined value");
                }
                Ok(v)
            }
            Expr::Abs(a, span) => {
                let a = self.int(a, state)?;
                a.checked_abs().map_or_else(|| overflow(*span), Ok)
            }
            Expr::Arith(op, a, b, span) => {
                let a = self.int(a, state)?;
                let b = self.int(b, state)?;
                arith(*op, a, b, *span)
            }
            Expr::Eq { len, negate, a, b } => {
                let equal = if *len == 1 {
                    self.int(a, state)? == self.int(b, state)?
                } else {
                    let base = self.stack.len();
                    self.push(a, state)?;
                    self.push(b, state)?;
                    let n = *len as usize;
                    let equal = self.stack[base..base + n] == self.stack[base + n..base + 2 * n];
                    self.stack.truncate(base);
                    equal
                };
                Ok((equal != *negate) as i64)
            }
            Expr::And(a, b) => Ok((self.bool(a, state)? && self.bool(b, state)?) as i64),
            Expr::Or(a, b) => Ok((self.bool(a, state)? || self.bool(b, state)?) as i64),
            Expr::Implies(a, b) => Ok((!self.bool(a, state)? || self.bool(b, state)?) as i64),
            Expr::If { cond, then, otherwise, .. } => {
                if self.bool(cond, state)? {
                    self.int(then, state)
                } else {
                    self.int(otherwise, state)
                }
            }
            Expr::In { elem, elem_ty, set } => {
                let Some(index) = self.index_of(elem, elem_ty, state)? else {
                    return Ok(0);
                };
                if let Expr::Read(place) = &**set {
                    let (src, off) = self.resolve(place, state)?;
                    return Ok(self.read(src, state, off + index as usize));
                }
                let base = self.stack.len();
                self.push(set, state)?;
                let v = self.stack[base + index as usize];
                self.stack.truncate(base);
                Ok(v)
            }
            Expr::Subseteq { card, a, b } => {
                let base = self.stack.len();
                self.push(a, state)?;
                self.push(b, state)?;
                let n = *card as usize;
                let (sa, sb) = self.stack[base..].split_at(n);
                let sub = sa.iter().zip(sb).all(|(x, y)| *x <= *y);
                self.stack.truncate(base);
                Ok(sub as i64)
            }
            Expr::Card { card, set } => {
                if let Expr::Read(place) = &**set {
                    let (src, off) = self.resolve(place, state)?;
                    return Ok((0..*card as usize)
                        .map(|i| self.read(src, state, off + i))
                        .sum());
                }
                let base = self.stack.len();
                self.push(set, state)?;
                let c = self.stack[base..].iter().sum();
                self.stack.truncate(base);
                Ok(c)
            }
            Expr::Len(q, _) => {
                if let Expr::Read(place) = &**q {
                    let (src, off) = self.resolve(place, state)?;
                    return Ok(self.read(src, state, off));
                }
                let base = self.stack.len();
                self.push(q, state)?;
                let len = self.stack[base];
                self.stack.truncate(base);
                Ok(len)
            }
            Expr::IndexOf { value, ty, span } => match self.index_of(value, ty, state)? {
                Some(i) => Ok(i as i64),
                None => err(
                    ErrorKind::Range,
                    *span,
                    format!("value is outside `{}`", self.types.name(ty)),
                ),
            },
            Expr::Quant { .. } => self.quant(e, state),
            Expr::Let { local, len, value, body } => {
                self.bind(*local, *len, value, state)?;
                self.int(body, state)
            }
            Expr::Block { stmts, value } => {
                self.block(stmts, state)?;
                self.int(value, state)
            }
            Expr::Lit(v) => Ok(v[0]),
            // The rest are built on the stack: a part of a value, or a
            // compound one that is one slot long (a record of one field,
            // say, `R { g: 2 }`).
            _ => {
                let base = self.stack.len();
                self.push(e, state)?;
                assert_eq!(self.stack.len(), base + 1, "a scalar is one slot");
                let v = self.stack[base];
                self.stack.truncate(base);
                Ok(v)
            }
        }
    }

    /// An index expression: a local read directly, anything else evaluated.
    #[inline(always)]
    fn index(&mut self, e: &Expr, state: &[i64]) -> EvalResult<i64> {
        match e {
            Expr::Local(l) => Ok(self.frame[*l as usize]),
            other => self.int(other, state),
        }
    }

    #[inline(always)]
    fn operand(&self, o: &Operand, state: &[i64]) -> EvalResult<i64> {
        match o {
            Operand::Int(v) => Ok(*v),
            Operand::Local(l) => Ok(self.frame[*l as usize]),
            Operand::Slot(s) => Ok(state[*s as usize]),
            Operand::SlotAt { offset, local, lo, count, stride, span } => {
                let i = self.frame[*local as usize];
                slot_at(state, *offset, i, *lo, *count, *stride, *span)
            }
        }
    }

    /// Runs an `Expr::Block`'s statements. They write locals only, so they
    /// run on a copy of the state (the statements take a writable one).
    fn block(&mut self, stmts: &[Stmt], state: &[i64]) -> EvalResult<()> {
        let mut copy = std::mem::take(&mut self.block_state);
        copy.clear();
        copy.extend_from_slice(state);
        let dirty = self.dirty.len();
        let r = self.exec(stmts, &mut copy);
        debug_assert!(
            self.dirty.len() == dirty && (r.is_err() || copy == state),
            "a block writes locals only"
        );
        self.block_state = copy;
        r
    }

    fn bind(&mut self, local: u32, len: u32, value: &Expr, state: &[i64]) -> EvalResult<()> {
        let base = self.stack.len();
        self.push(value, state)?;
        let l = local as usize;
        self.frame[l..l + len as usize].copy_from_slice(&self.stack[base..base + len as usize]);
        self.stack.truncate(base);
        Ok(())
    }

    /// The index of a value among its type's values, or `None` if outside.
    fn index_of(&mut self, elem: &Expr, ty: &Ty, state: &[i64]) -> EvalResult<Option<u64>> {
        if let Ty::Range(lo, hi) = ty {
            let v = self.int(elem, state)?;
            return Ok((*lo..=*hi).contains(&v).then(|| (v - lo) as u64));
        }
        let base = self.stack.len();
        self.push(elem, state)?;
        let index = self.types.value_index(ty, &self.stack[base..]);
        self.stack.truncate(base);
        Ok(index)
    }

    /// Evaluates any expression, pushing its flat value on the stack.
    pub fn push(&mut self, e: &Expr, state: &[i64]) -> EvalResult<()> {
        match e {
            Expr::Read(place) => {
                let (src, off) = self.resolve(place, state)?;
                let n = place.len as usize;
                match src {
                    Src::State => self.stack.extend_from_slice(&state[off..off + n]),
                    Src::Frame => self.stack.extend_from_slice(&self.frame[off..off + n]),
                    Src::Stack => unreachable!("places are rooted in the state or the frame"),
                }
            }
            Expr::Lit(v) => self.stack.extend_from_slice(v),
            Expr::If { cond, then, otherwise, .. } => {
                if self.bool(cond, state)? {
                    self.push(then, state)?
                } else {
                    self.push(otherwise, state)?
                }
            }
            Expr::Concat(parts) => {
                for p in parts {
                    self.push(p, state)?;
                }
            }
            Expr::Variant { default, tag, offset, fields } => {
                let base = self.stack.len();
                self.stack.extend_from_slice(default);
                self.stack[base] = *tag as i64;
                let mut pos = base + *offset as usize;
                for f in fields {
                    let top = self.stack.len();
                    self.push(f, state)?;
                    let n = self.stack.len() - top;
                    self.stack.copy_within(top..top + n, pos);
                    self.stack.truncate(top);
                    pos += n;
                }
            }
            Expr::SeqLit { elems, padding } => {
                self.stack.push(elems.len() as i64);
                for x in elems {
                    self.push(x, state)?;
                }
                self.stack.extend_from_slice(padding);
            }
            Expr::Sub { base, step, len, .. } => {
                let start = self.stack.len();
                self.push(base, state)?;
                let off = self.step(step, state, Src::Stack, start)?;
                let n = *len as usize;
                self.stack.copy_within(off..off + n, start);
                self.stack.truncate(start + n);
            }
            Expr::SetLit { elems, elem_ty, card, span } => {
                let base = self.stack.len();
                self.stack.resize(base + *card as usize, 0);
                for x in elems {
                    match self.index_of(x, elem_ty, state)? {
                        Some(i) => self.stack[base + i as usize] = 1,
                        None => {
                            return err(
                                ErrorKind::Range,
                                *span,
                                format!("set element is outside `{}`", self.types.name(elem_ty)),
                            );
                        }
                    }
                }
            }
            Expr::SetOp { op, card, a, b } => {
                let base = self.stack.len();
                self.push(a, state)?;
                self.push(b, state)?;
                let n = *card as usize;
                for i in 0..n {
                    let (x, y) = (self.stack[base + i], self.stack[base + n + i]);
                    self.stack[base + i] = match op {
                        SetOp::Union => x | y,
                        SetOp::Inter => x & y,
                        SetOp::Minus => x & (1 - y),
                    };
                }
                self.stack.truncate(base + n);
            }
            Expr::Let { local, len, value, body } => {
                self.bind(*local, *len, value, state)?;
                self.push(body, state)?;
            }
            Expr::Block { stmts, value } => {
                self.block(stmts, state)?;
                self.push(value, state)?;
            }
            _ => {
                let v = self.int(e, state)?;
                self.stack.push(v);
            }
        }
        Ok(())
    }

    /// Calls `body` once per element of a domain, with the element bound at
    /// `local`; stops early when `body` returns false.
    fn each(
        &mut self,
        local: u32,
        len: u32,
        domain: &Domain,
        state: &[i64],
        body: &mut dyn FnMut(&mut Self) -> EvalResult<bool>,
    ) -> EvalResult<()> {
        let l = local as usize;
        match domain {
            Domain::Type(Ty::Range(lo, hi)) => {
                for v in *lo..=*hi {
                    self.frame[l] = v;
                    if !body(self)? {
                        break;
                    }
                }
            }
            Domain::Type(ty) => {
                let card = self.types.card(ty).unwrap_or(0);
                for i in 0..card {
                    self.types
                        .value_at(ty, i, &mut self.frame[l..l + len as usize]);
                    if !body(self)? {
                        break;
                    }
                }
            }
            Domain::Set { set, elem } => {
                let base = self.stack.len();
                self.push(set, state)?;
                let card = self.stack.len() - base;
                for i in 0..card {
                    if self.stack[base + i] == 0 {
                        continue;
                    }
                    self.types
                        .value_at(elem, i as u64, &mut self.frame[l..l + len as usize]);
                    if !body(self)? {
                        break;
                    }
                }
                self.stack.truncate(base);
            }
            Domain::Seq { seq, stride } => {
                let base = self.stack.len();
                self.push(seq, state)?;
                let n = self.stack[base] as usize;
                let s = *stride as usize;
                for i in 0..n {
                    let from = base + 1 + i * s;
                    self.frame[l..l + s].copy_from_slice(&self.stack[from..from + s]);
                    if !body(self)? {
                        break;
                    }
                }
                self.stack.truncate(base);
            }
        }
        Ok(())
    }

    /// `forall`, `exists`, `count` or `sum` (`q` is an `Expr::Quant`).
    fn quant(&mut self, q: &Expr, state: &[i64]) -> EvalResult<i64> {
        let Expr::Quant { kind, local, len, domain, body } = q else {
            unreachable!("a quantifier")
        };
        let (kind, local, len) = (*kind, *local, *len);
        if let Some((lo, count)) = self.scalar_domain(domain) {
            return self.quant_scalar(kind, local, lo, count, body, state);
        }
        let mut acc: i64 = match kind {
            QuantKind::Forall => 1,
            _ => 0,
        };
        let mut overflowed = false;
        self.each(local, len, domain, state, &mut |ev| {
            let v = ev.int(body, state)?;
            Ok(match kind {
                QuantKind::Forall => {
                    acc = v;
                    v != 0
                }
                QuantKind::Exists => {
                    acc = v;
                    v == 0
                }
                QuantKind::Count => {
                    acc += v;
                    true
                }
                QuantKind::Sum => {
                    match acc.checked_add(v) {
                        Some(s) => acc = s,
                        None => overflowed = true,
                    }
                    !overflowed
                }
            })
        })?;
        if overflowed {
            return overflow(Span::default());
        }
        Ok(acc)
    }

    /// A domain of one-slot values `lo..lo + count` (ranges, bool, enums
    /// without fields): quantified without a closure per element.
    fn scalar_domain(&self, domain: &Domain) -> Option<(i64, i64)> {
        match domain {
            Domain::Type(Ty::Range(lo, hi)) => Some((*lo, hi - lo + 1)),
            Domain::Type(Ty::Bool) => Some((0, 2)),
            Domain::Type(t @ Ty::Sym(_)) => Some((0, self.types.card(t).unwrap_or(0) as i64)),
            Domain::Type(t @ Ty::Enum(_)) if self.types.flat_len(t) == 1 => {
                Some((0, self.types.card(t).unwrap_or(0) as i64))
            }
            _ => None,
        }
    }

    fn quant_scalar(
        &mut self,
        kind: QuantKind,
        local: u32,
        lo: i64,
        count: i64,
        body: &Expr,
        state: &[i64],
    ) -> EvalResult<i64> {
        let l = local as usize;
        let mut acc: i64 = 0;
        for v in lo..lo + count {
            self.frame[l] = v;
            let x = self.int(body, state)?;
            match kind {
                QuantKind::Forall if x == 0 => return Ok(0),
                QuantKind::Exists if x != 0 => return Ok(1),
                QuantKind::Forall | QuantKind::Exists => {}
                QuantKind::Count => acc += x,
                QuantKind::Sum => match acc.checked_add(x) {
                    Some(s) => acc = s,
                    None => return overflow(Span::default()),
                },
            }
        }
        Ok(match kind {
            QuantKind::Forall => 1,
            QuantKind::Exists => 0,
            _ => acc,
        })
    }

    /// Runs statements on `state` in place.
    pub fn exec(&mut self, stmts: &[Stmt], state: &mut [i64]) -> EvalResult<()> {
        for s in stmts {
            self.stmt(s, state)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt, state: &mut [i64]) -> EvalResult<()> {
        match s {
            Stmt::Assign { place, value, bounds, span } => {
                let (src, off) = self.resolve(place, state)?;
                // A local variable (Murphi's) lives in the frame.
                let frame = matches!(src, Src::Frame);
                if place.len == 1 {
                    let v = self.int(value, state)?;
                    check_bounds(v, bounds[0], *span)?;
                    if frame {
                        self.frame[off] = v;
                    } else {
                        state[off] = v;
                        self.wrote(off, 1);
                    }
                } else {
                    let base = self.stack.len();
                    self.push(value, state)?;
                    let n = place.len as usize;
                    for (v, b) in self.stack[base..base + n].iter().zip(bounds) {
                        check_bounds(*v, *b, *span)?;
                    }
                    if frame {
                        self.frame[off..off + n].copy_from_slice(&self.stack[base..base + n]);
                    } else {
                        state[off..off + n].copy_from_slice(&self.stack[base..base + n]);
                        self.wrote(off, n);
                    }
                    self.stack.truncate(base);
                }
            }
            Stmt::Let { local, len, value } => self.bind(*local, *len, value, state)?,
            Stmt::If { cond, then, otherwise } => {
                if self.bool(cond, state)? {
                    self.exec(then, state)?;
                } else {
                    self.exec(otherwise, state)?;
                }
            }
            Stmt::For { local, len, domain, body } => {
                // The domain is evaluated once, before the body changes anything.
                let snapshot = state.to_vec();
                let mut result = Ok(());
                self.each(*local, *len, domain, &snapshot, &mut |ev| {
                    result = ev.exec(body, state);
                    Ok(result.is_ok())
                })?;
                result?;
            }
            Stmt::While { cond, body, limit, span } => {
                let mut n = 0u32;
                while self.bool(cond, state)? {
                    if n == *limit {
                        return err(
                            ErrorKind::Eval,
                            *span,
                            format!("the loop ran {limit} times and its condition still holds"),
                        );
                    }
                    self.exec(body, state)?;
                    n += 1;
                }
            }
            Stmt::SetAdd { place, elem, elem_ty, remove, span } => {
                let (_, off) = self.resolve(place, state)?;
                let Some(i) = self.index_of(elem, elem_ty, state)? else {
                    return err(
                        ErrorKind::Range,
                        *span,
                        format!("element is outside `{}`", self.types.name(elem_ty)),
                    );
                };
                state[off + i as usize] = (!remove) as i64;
                self.wrote(off + i as usize, 1);
            }
            Stmt::SetBit { offset, index, lo, count, value, message, span } => {
                let i = self.int(index, state)?;
                let Some(k) = i
                    .checked_sub(*lo)
                    .filter(|k| (0..*count as i64).contains(k))
                else {
                    return err(ErrorKind::Range, *span, message.clone());
                };
                let at = *offset as usize + k as usize;
                state[at] = *value as i64;
                self.wrote(at, 1);
            }
            Stmt::Push { place, elem, stride, cap, bounds, span } => {
                let (_, off) = self.resolve(place, state)?;
                let len = state[off];
                if len >= *cap as i64 {
                    return err(
                        ErrorKind::Range,
                        *span,
                        format!("push on a full sequence (capacity {cap})"),
                    );
                }
                let base = self.stack.len();
                self.push(elem, state)?;
                let n = *stride as usize;
                for (v, b) in self.stack[base..base + n].iter().zip(bounds) {
                    check_bounds(*v, *b, *span)?;
                }
                let at = off + 1 + len as usize * n;
                state[at..at + n].copy_from_slice(&self.stack[base..base + n]);
                self.wrote(at, n);
                self.stack.truncate(base);
                state[off] = len + 1;
                self.wrote(off, 1);
            }
            Stmt::Pop { place, at, stride, filler, span, .. } => {
                let (_, off) = self.resolve(place, state)?;
                let len = state[off] as usize;
                let at = match at {
                    Some(e) => self.int(e, state)?,
                    None => 0,
                };
                if len == 0 {
                    return err(ErrorKind::Eval, *span, "pop on an empty sequence");
                }
                if !(0..len as i64).contains(&at) {
                    return err(
                        ErrorKind::Range,
                        *span,
                        format!("position {at} is outside a sequence of length {len}"),
                    );
                }
                // Elements after `at` move down one; the freed last slot
                // gets the canonical filler.
                let n = *stride as usize;
                let from = off + 1 + at as usize * n;
                state.copy_within(from + n..off + 1 + len * n, from);
                let last = off + 1 + (len - 1) * n;
                state[last..last + n].copy_from_slice(filler);
                state[off] = len as i64 - 1;
                self.wrote(off, 1 + len * n);
            }
            Stmt::Send { dst, msg, lowered, .. } => {
                if self.sends.is_some() {
                    let d = self.int(dst, state)?;
                    let base = self.stack.len();
                    self.push(msg, state)?;
                    let m = self.stack.split_off(base);
                    if let Some(sent) = &mut self.sends {
                        sent.push((d, m));
                    }
                }
                self.exec(lowered, state)?
            }
            Stmt::Clear { place, filler } => {
                let (_, off) = self.resolve(place, state)?;
                state[off..off + filler.len()].copy_from_slice(filler);
                self.wrote(off, filler.len());
            }
            Stmt::Cover { reachable, cond } => {
                if self.bool(cond, state)? {
                    self.covered |= 1 << reachable;
                }
            }
            Stmt::Assert { cond, kind, message, span } => {
                if !self.bool(cond, state)? {
                    let m = if message.is_empty() {
                        "assertion failed".to_string()
                    } else {
                        message.clone()
                    };
                    return err(*kind, *span, m);
                }
            }
        }
        Ok(())
    }

    /// Binds the parameters of `rule` for its local instance number `instance`.
    #[inline]
    pub fn bind_params(&mut self, params: &[crate::ir::Param], instance: u64) {
        // One parameter (the common case): its value number is the instance
        // number, no division needed.
        if let [p] = params {
            debug_assert!(instance < p.card);
            let l = p.local as usize;
            match p.ty {
                Ty::Range(lo, _) => self.frame[l] = lo + instance as i64,
                _ => self
                    .types
                    .value_at(&p.ty, instance, &mut self.frame[l..l + p.len as usize]),
            }
            return;
        }
        let mut rest = instance;
        for p in params.iter().rev() {
            let v = rest % p.card;
            rest /= p.card;
            let l = p.local as usize;
            match p.ty {
                Ty::Range(lo, _) => self.frame[l] = lo + v as i64,
                _ => self
                    .types
                    .value_at(&p.ty, v, &mut self.frame[l..l + p.len as usize]),
            }
        }
    }
}

/// `state[offset + (i - lo) * stride]`, or a range error unless `i` is in
/// `lo..lo + count`.
#[inline(always)]
fn slot_at(
    state: &[i64],
    offset: u32,
    i: i64,
    lo: i64,
    count: u32,
    stride: u32,
    span: Span,
) -> EvalResult<i64> {
    Ok(state[offset as usize + element(i, lo, count, stride, span)?])
}

/// The slot offset of element `i` of an array indexed from `lo`, each
/// element `stride` slots; a range error unless `i` is in `lo..lo + count`.
#[inline(always)]
fn element(i: i64, lo: i64, count: u32, stride: u32, span: Span) -> EvalResult<usize> {
    match i.checked_sub(lo).filter(|k| (0..count as i64).contains(k)) {
        Some(k) => Ok(k as usize * stride as usize),
        None => err(
            ErrorKind::Range,
            span,
            format!("index {i} is out of bounds {lo}..{}", lo + count as i64 - 1),
        ),
    }
}

fn check_bounds(v: i64, (lo, hi): (i64, i64), span: Span) -> EvalResult<()> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        err(
            ErrorKind::Range,
            span,
            format!("value {v} is outside its type {lo}..{hi}"),
        )
    }
}

fn overflow<T>(span: Span) -> EvalResult<T> {
    err(ErrorKind::Eval, span, "integer overflow (beyond 64 bits)")
}

fn arith(op: IntOp, a: i64, b: i64, span: Span) -> EvalResult<i64> {
    let r = match op {
        IntOp::Add => a.checked_add(b),
        IntOp::Sub => a.checked_sub(b),
        IntOp::Mul => a.checked_mul(b),
        IntOp::Div | IntOp::Mod => {
            if b == 0 {
                return err(ErrorKind::Eval, span, "division by zero");
            }
            // Floor division, as TLA+'s \div and %: the remainder has the divisor's sign.
            let q = a.checked_div(b);
            let q = q.map(|q| {
                if (a % b != 0) && ((a < 0) != (b < 0)) {
                    q - 1
                } else {
                    q
                }
            });
            match op {
                IntOp::Div => q,
                _ => q
                    .and_then(|q| q.checked_mul(b))
                    .and_then(|m| a.checked_sub(m)),
            }
        }
        IntOp::Lt => Some((a < b) as i64),
        IntOp::Le => Some((a <= b) as i64),
        IntOp::Gt => Some((a > b) as i64),
        IntOp::Ge => Some((a >= b) as i64),
        IntOp::Min => Some(a.min(b)),
        IntOp::Max => Some(a.max(b)),
        IntOp::Quot | IntOp::Rem => {
            if b == 0 {
                return err(ErrorKind::Eval, span, "division by zero");
            }
            match op {
                IntOp::Quot => a.checked_div(b),
                _ => a.checked_rem(b),
            }
        }
        IntOp::BitAnd => Some(a & b),
        IntOp::BitOr => Some(a | b),
        IntOp::BitXor => Some(a ^ b),
        IntOp::Shl => {
            if !(0..63).contains(&b) {
                return err(ErrorKind::Eval, span, format!("shift by {b}"));
            }
            a.checked_mul(1i64 << b)
        }
        IntOp::Shr => {
            if !(0..64).contains(&b) {
                return err(ErrorKind::Eval, span, format!("shift by {b}"));
            }
            Some(a >> b)
        }
    };
    r.map_or_else(|| overflow(span), Ok)
}
