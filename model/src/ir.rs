//! The model IR: what the checker, the GPU code generator and the emitter
//! read. Names are resolved, types checked, constants folded.
//!
//! Values are *flat*: every value of a type is a fixed-length sequence of
//! integer slots (see [`Types::flat_len`]). A state is the concatenation of
//! the variables' flat values; [`crate::layout`] packs those slots into u32
//! words. Expressions evaluate to flat values; statements write flat values
//! into places.

use crate::span::Span;

pub type EnumId = u32;
pub type RecordId = u32;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    /// An integer of an expression: unbounded (checked when stored).
    Int,
    Range(i64, i64),
    Enum(EnumId),
    Record(RecordId),
    Array(Box<Ty>, Box<Ty>),
    Set(Box<Ty>),
    Seq(Box<Ty>, u32),
    /// A symmetric type (`type T = symmetric N`): values `0..N` in the flat
    /// form, interchangeable (docs/symmetry.md).
    Sym(SymId),
    /// A symmetric value or none: `-1` (none) or `0..N` in the flat form;
    /// every permutation fixes none. Murphi's scalarsets, whose undefined
    /// is a value of its own.
    OptSym(SymId),
}

pub type SymId = u32;

/// A symmetric type: its name (traces print `Name#i`) and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymDef {
    pub name: String,
    pub size: u32,
}

#[derive(Clone, Debug)]
pub struct Variant {
    pub name: String,
    pub fields: Vec<(String, Ty)>,
}

#[derive(Clone, Debug)]
pub struct EnumDef {
    pub name: String,
    pub variants: Vec<Variant>,
}

impl EnumDef {
    pub fn has_fields(&self) -> bool {
        self.variants.iter().any(|v| !v.fields.is_empty())
    }
}

#[derive(Clone, Debug)]
pub struct RecordDef {
    pub name: String,
    pub fields: Vec<(String, Ty)>,
}

/// The enum and record definitions a model's types refer to.
#[derive(Clone, Debug, Default)]
pub struct Types {
    pub enums: Vec<EnumDef>,
    pub records: Vec<RecordDef>,
    pub syms: Vec<SymDef>,
    /// Per enum, per variant: (index of its first value among the enum's
    /// values, offset of its fields in the flat value). Filled by
    /// [`Types::seal`] once every type is known; empty before.
    variant_bases: Vec<Vec<(u64, u32)>>,
}

/// Cardinalities past this are refused: a set over such a type would not fit
/// a state, and enumerating it would not finish.
pub const CARD_MAX: u64 = 1 << 24;

impl Types {
    /// Precomputes what value numbering needs per variant; call once the
    /// types are final (the end of lowering).
    pub fn seal(&mut self) {
        let mut bases = Vec::with_capacity(self.enums.len());
        for (id, def) in self.enums.iter().enumerate() {
            let mut base = 0u64;
            let mut per = Vec::with_capacity(def.variants.len());
            for (tag, v) in def.variants.iter().enumerate() {
                per.push((base, self.variant_offset(id as u32, tag as u32)));
                base = base.saturating_add(
                    self.product(v.fields.iter().map(|(_, t)| t))
                        .unwrap_or(u64::MAX),
                );
            }
            bases.push(per);
        }
        self.variant_bases = bases;
    }

    /// Whether an enum's variants have no fields (its value is its tag),
    /// in constant time once sealed: every variant then counts one value,
    /// so the last one's first value index is its tag, and its fields (none)
    /// start right after the tag.
    fn fieldless(&self, id: EnumId) -> bool {
        let def = &self.enums[id as usize];
        match self.variant_bases.get(id as usize).and_then(|v| v.last()) {
            Some(&(base, offset)) => {
                base + 1 == def.variants.len() as u64
                    && offset == 1
                    && def.variants.last().is_some_and(|v| v.fields.is_empty())
            }
            None => def.variants.iter().all(|v| v.fields.is_empty()),
        }
    }

    /// (first value index, fields offset) of a variant.
    pub fn variant_base(&self, id: EnumId, tag: u32) -> (u64, u32) {
        if let Some(b) = self
            .variant_bases
            .get(id as usize)
            .and_then(|v| v.get(tag as usize))
        {
            return *b;
        }
        let def = &self.enums[id as usize];
        let base = def.variants[..tag as usize]
            .iter()
            .map(|v| self.product(v.fields.iter().map(|(_, t)| t)).unwrap_or(0))
            .sum();
        (base, self.variant_offset(id, tag))
    }

    /// Number of slots in a flat value of `ty`.
    pub fn flat_len(&self, ty: &Ty) -> u32 {
        match ty {
            Ty::Bool | Ty::Int | Ty::Range(..) | Ty::Sym(_) | Ty::OptSym(_) => 1,
            Ty::Enum(id) => {
                let def = &self.enums[*id as usize];
                1 + def
                    .variants
                    .iter()
                    .flat_map(|v| v.fields.iter())
                    .map(|(_, t)| self.flat_len(t))
                    .sum::<u32>()
            }
            Ty::Record(id) => self.records[*id as usize]
                .fields
                .iter()
                .map(|(_, t)| self.flat_len(t))
                .sum(),
            Ty::Array(index, elem) => self.card(index).unwrap_or(0) as u32 * self.flat_len(elem),
            Ty::Set(elem) => self.card(elem).unwrap_or(0) as u32,
            Ty::Seq(elem, cap) => 1 + cap * self.flat_len(elem),
        }
    }

    /// Offset of variant `tag`'s first field within an enum's flat value.
    pub fn variant_offset(&self, id: EnumId, tag: u32) -> u32 {
        let def = &self.enums[id as usize];
        1 + def.variants[..tag as usize]
            .iter()
            .flat_map(|v| v.fields.iter())
            .map(|(_, t)| self.flat_len(t))
            .sum::<u32>()
    }

    /// Offset of field `index` within a variant's or record's fields.
    pub fn fields_offset(&self, fields: &[(String, Ty)], index: usize) -> u32 {
        fields[..index].iter().map(|(_, t)| self.flat_len(t)).sum()
    }

    /// Number of values of a finite type; `None` for `Int` or past [`CARD_MAX`].
    pub fn card(&self, ty: &Ty) -> Option<u64> {
        let c = match ty {
            Ty::Bool => 2,
            Ty::Int => return None,
            Ty::Range(lo, hi) => (hi - lo + 1).max(0) as u64,
            Ty::Sym(id) => self.syms[*id as usize].size as u64,
            Ty::OptSym(id) => self.syms[*id as usize].size as u64 + 1,
            Ty::Enum(id) => {
                let mut total: u64 = 0;
                for v in &self.enums[*id as usize].variants {
                    total = total.checked_add(self.product(v.fields.iter().map(|(_, t)| t))?)?;
                }
                total
            }
            Ty::Record(id) => {
                self.product(self.records[*id as usize].fields.iter().map(|(_, t)| t))?
            }
            Ty::Array(index, elem) => {
                let n = self.card(index)?;
                let e = self.card(elem)?;
                let mut total: u64 = 1;
                for _ in 0..n {
                    total = total.checked_mul(e)?;
                    if total > CARD_MAX {
                        return None;
                    }
                }
                total
            }
            Ty::Set(elem) => {
                let n = self.card(elem)?;
                if n >= 63 {
                    return None;
                }
                1u64 << n
            }
            Ty::Seq(elem, cap) => {
                let e = self.card(elem)?;
                let mut total: u64 = 0;
                let mut power: u64 = 1;
                for _ in 0..=*cap {
                    total = total.checked_add(power)?;
                    power = power.checked_mul(e)?;
                    if total > CARD_MAX {
                        return None;
                    }
                }
                total
            }
        };
        (c <= CARD_MAX).then_some(c)
    }

    fn product<'a>(&self, tys: impl Iterator<Item = &'a Ty>) -> Option<u64> {
        let mut total: u64 = 1;
        for t in tys {
            total = total.checked_mul(self.card(t)?)?;
        }
        (total <= CARD_MAX).then_some(total)
    }

    /// The (lo, hi) bounds of every slot of a flat value of `ty`, in order.
    pub fn slot_bounds(&self, ty: &Ty, out: &mut Vec<(i64, i64)>) {
        match ty {
            Ty::Bool => out.push((0, 1)),
            Ty::Int => out.push((i64::MIN, i64::MAX)),
            Ty::Range(lo, hi) => out.push((*lo, *hi)),
            Ty::Sym(id) => out.push((0, self.syms[*id as usize].size as i64 - 1)),
            Ty::OptSym(id) => out.push((-1, self.syms[*id as usize].size as i64 - 1)),
            Ty::Enum(id) => {
                let def = &self.enums[*id as usize];
                out.push((0, def.variants.len() as i64 - 1));
                for v in &def.variants {
                    for (_, t) in &v.fields {
                        self.slot_bounds(t, out);
                    }
                }
            }
            Ty::Record(id) => {
                for (_, t) in &self.records[*id as usize].fields {
                    self.slot_bounds(t, out);
                }
            }
            Ty::Array(index, elem) => {
                for _ in 0..self.card(index).unwrap_or(0) {
                    self.slot_bounds(elem, out);
                }
            }
            Ty::Set(elem) => {
                for _ in 0..self.card(elem).unwrap_or(0) {
                    out.push((0, 1));
                }
            }
            Ty::Seq(elem, cap) => {
                out.push((0, *cap as i64));
                for _ in 0..*cap {
                    self.slot_bounds(elem, out);
                }
            }
        }
    }

    /// The flat value every slot of which is its lower bound: the type's
    /// first value and the canonical filler of unused slots.
    pub fn default_value(&self, ty: &Ty, out: &mut Vec<i64>) {
        // Sets and sequences start empty: their slots' low bound is 0.
        let mut bounds = Vec::new();
        self.slot_bounds(ty, &mut bounds);
        out.extend(
            bounds
                .iter()
                .map(|(lo, _)| if *lo == i64::MIN { 0 } else { *lo }),
        );
    }

    /// Position of a flat value among all values of `ty` (0-based), for set
    /// membership and rule-parameter numbering; `None` if out of range.
    pub fn value_index(&self, ty: &Ty, slots: &[i64]) -> Option<u64> {
        match ty {
            Ty::Bool => (0..=1).contains(&slots[0]).then(|| slots[0] as u64),
            Ty::Int => None,
            Ty::Range(lo, hi) => (*lo..=*hi)
                .contains(&slots[0])
                .then(|| (slots[0] - lo) as u64),
            Ty::Sym(id) => u64::try_from(slots[0])
                .ok()
                .filter(|v| *v < self.syms[*id as usize].size as u64),
            Ty::OptSym(id) => u64::try_from(slots[0] + 1)
                .ok()
                .filter(|v| *v <= self.syms[*id as usize].size as u64),
            Ty::Enum(id) => {
                let def = &self.enums[*id as usize];
                let tag = usize::try_from(slots[0])
                    .ok()
                    .filter(|t| *t < def.variants.len())?;
                let (base, offset) = self.variant_base(*id, tag as u32);
                Some(
                    base + self
                        .tuple_index(&def.variants[tag].fields, &slots[offset as usize..])?,
                )
            }
            Ty::Record(id) => self.tuple_index(&self.records[*id as usize].fields, slots),
            Ty::Array(index, elem) => {
                let n = self.card(index)?;
                let e = self.card(elem)?;
                let len = self.flat_len(elem) as usize;
                let mut acc = 0u64;
                for i in 0..n as usize {
                    acc = acc * e + self.value_index(elem, &slots[i * len..])?;
                }
                Some(acc)
            }
            Ty::Set(elem) => {
                let n = self.card(elem)? as usize;
                let mut acc = 0u64;
                for i in (0..n).rev() {
                    acc = acc * 2 + u64::from(slots[i] != 0);
                }
                Some(acc)
            }
            Ty::Seq(elem, cap) => {
                let e = self.card(elem)?;
                let len = u32::try_from(slots[0]).ok().filter(|l| l <= cap)?;
                let stride = self.flat_len(elem) as usize;
                let mut base = 0u64;
                let mut power = 1u64;
                for _ in 0..len {
                    base += power;
                    power *= e;
                }
                let mut acc = 0u64;
                for i in 0..len as usize {
                    acc = acc * e + self.value_index(elem, &slots[1 + i * stride..])?;
                }
                Some(base + acc)
            }
        }
    }

    fn tuple_index(&self, fields: &[(String, Ty)], slots: &[i64]) -> Option<u64> {
        let mut acc = 0u64;
        let mut offset = 0usize;
        for (_, t) in fields {
            acc = acc * self.card(t)? + self.value_index(t, &slots[offset..])?;
            offset += self.flat_len(t) as usize;
        }
        Some(acc)
    }

    /// The inverse of [`Types::value_index`]: writes the flat value numbered
    /// `index` (which must be below `card(ty)`) into `out`.
    pub fn value_at(&self, ty: &Ty, index: u64, out: &mut [i64]) {
        match ty {
            Ty::Bool => out[0] = index as i64,
            Ty::Int => out[0] = index as i64,
            Ty::Range(lo, _) => out[0] = lo + index as i64,
            Ty::Sym(_) => out[0] = index as i64,
            Ty::OptSym(_) => out[0] = index as i64 - 1,
            // The common case, without allocating: one slot, the tag.
            Ty::Enum(id) if self.fieldless(*id) => out[0] = index as i64,
            Ty::Enum(id) => {
                let def = &self.enums[*id as usize];
                let len = self.flat_len(ty) as usize;
                let mut filler = Vec::with_capacity(len);
                self.default_value(ty, &mut filler);
                out[..len].copy_from_slice(&filler);
                let mut rest = index;
                for (tag, v) in def.variants.iter().enumerate() {
                    let n = self.product(v.fields.iter().map(|(_, t)| t)).unwrap_or(0);
                    if rest < n {
                        out[0] = tag as i64;
                        let offset = self.variant_offset(*id, tag as u32) as usize;
                        self.tuple_at(&v.fields, rest, &mut out[offset..]);
                        return;
                    }
                    rest -= n;
                }
                debug_assert!(false, "enum value index out of range");
            }
            Ty::Record(id) => self.tuple_at(&self.records[*id as usize].fields, index, out),
            Ty::Array(idx, elem) => {
                let n = self.card(idx).unwrap_or(0) as usize;
                let e = self.card(elem).unwrap_or(1);
                let len = self.flat_len(elem) as usize;
                let mut rest = index;
                for i in (0..n).rev() {
                    self.value_at(elem, rest % e, &mut out[i * len..]);
                    rest /= e;
                }
            }
            Ty::Set(elem) => {
                let n = self.card(elem).unwrap_or(0) as usize;
                for (i, slot) in out[..n].iter_mut().enumerate() {
                    *slot = ((index >> i) & 1) as i64;
                }
            }
            Ty::Seq(elem, cap) => {
                let e = self.card(elem).unwrap_or(1);
                let stride = self.flat_len(elem) as usize;
                let total = self.flat_len(ty) as usize;
                let mut filler = Vec::with_capacity(total);
                self.default_value(ty, &mut filler);
                out[..total].copy_from_slice(&filler);
                let mut rest = index;
                let mut power = 1u64;
                let mut len = 0u32;
                while len < *cap && rest >= power {
                    rest -= power;
                    power *= e;
                    len += 1;
                }
                out[0] = len as i64;
                for i in (0..len as usize).rev() {
                    self.value_at(elem, rest % e, &mut out[1 + i * stride..]);
                    rest /= e;
                }
            }
        }
    }

    fn tuple_at(&self, fields: &[(String, Ty)], index: u64, out: &mut [i64]) {
        let mut rest = index;
        let mut offsets = Vec::with_capacity(fields.len());
        let mut offset = 0usize;
        for (_, t) in fields {
            offsets.push(offset);
            offset += self.flat_len(t) as usize;
        }
        for (i, (_, t)) in fields.iter().enumerate().rev() {
            let c = self.card(t).unwrap_or(1);
            self.value_at(t, rest % c, &mut out[offsets[i]..]);
            rest /= c;
        }
    }

    /// The inclusive bounds of a one-slot integer-like type: a range, or a
    /// symmetric type (`0..N-1` in the flat form).
    pub fn int_bounds(&self, ty: &Ty) -> Option<(i64, i64)> {
        match ty {
            Ty::Range(lo, hi) => Some((*lo, *hi)),
            Ty::Sym(id) => Some((0, self.syms[*id as usize].size as i64 - 1)),
            Ty::OptSym(id) => Some((-1, self.syms[*id as usize].size as i64 - 1)),
            _ => None,
        }
    }

    /// Whether a value of `ty` holds a symmetric value anywhere, or is
    /// positioned by one (an array over a symmetric type, a set of them).
    pub fn mentions_sym(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Sym(_) | Ty::OptSym(_) => true,
            Ty::Bool | Ty::Int | Ty::Range(..) => false,
            Ty::Enum(id) => self.enums[*id as usize]
                .variants
                .iter()
                .any(|v| v.fields.iter().any(|(_, t)| self.mentions_sym(t))),
            Ty::Record(id) => self.records[*id as usize]
                .fields
                .iter()
                .any(|(_, t)| self.mentions_sym(t)),
            Ty::Array(i, e) => self.mentions_sym(i) || self.mentions_sym(e),
            Ty::Set(e) | Ty::Seq(e, _) => self.mentions_sym(e),
        }
    }

    /// How a type reads in messages and traces.
    pub fn name(&self, ty: &Ty) -> String {
        match ty {
            Ty::Bool => "bool".into(),
            Ty::Int => "int".into(),
            Ty::Range(lo, hi) => format!("{lo}..{hi}"),
            Ty::Enum(id) => self.enums[*id as usize].name.clone(),
            Ty::Record(id) => self.records[*id as usize].name.clone(),
            Ty::Sym(id) => self.syms[*id as usize].name.clone(),
            Ty::OptSym(id) => format!("{}?", self.syms[*id as usize].name),
            Ty::Array(i, e) => format!("[{}]{}", self.name(i), self.name(e)),
            Ty::Set(e) => format!("set[{}]", self.name(e)),
            Ty::Seq(e, k) => format!("seq[{}; {k}]", self.name(e)),
        }
    }
}

impl Ty {
    pub fn is_int(&self) -> bool {
        matches!(self, Ty::Int | Ty::Range(..))
    }
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Ty::Bool | Ty::Int | Ty::Range(..) | Ty::Sym(_) | Ty::OptSym(_)
        )
    }
}

/// Where a place's slots live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Root {
    State,
    Local,
}

/// A dynamic step from a place into a part of it.
#[derive(Clone, Debug)]
pub enum Step {
    /// Array element: `index - lo` in `0..count`, each `stride` slots.
    Index {
        index: Expr,
        lo: i64,
        count: u32,
        stride: u32,
        span: Span,
    },
    /// Sequence element: `index` in `0..len`, elements after the length slot.
    SeqIndex {
        index: Expr,
        stride: u32,
        span: Span,
    },
    /// The last element of a sequence (`last(q)`); `first` for `head(q)`.
    SeqEnd {
        first: bool,
        stride: u32,
        span: Span,
    },
    /// A variant's field: error unless the tag is one of `tags` (tag,
    /// offset of the field within the enum's flat value).
    VariantField {
        tags: Vec<(u32, u32)>,
        field: String,
        span: Span,
    },
    /// A static offset (record field, variant tag slot, ...).
    Offset(u32),
}

/// A path into the state or the local frame: a static start, dynamic steps,
/// and the length of the value found there.
#[derive(Clone, Debug)]
pub struct Place {
    pub root: Root,
    pub offset: u32,
    pub steps: Vec<Step>,
    pub len: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Lt,
    Le,
    Gt,
    Ge,
    Min,
    Max,
    /// Division truncated toward zero, as C's `/` (DVE, Murphi); `Div` is
    /// floor division (TLA+'s `\\div`).
    Quot,
    /// The remainder of `Quot`: it has the dividend's sign, as C's `%`.
    Rem,
    /// Bitwise operations on two's-complement integers.
    BitAnd,
    BitOr,
    BitXor,
    /// `a << b`: `a * 2^b`; an error unless `0 <= b < 63` and the
    /// product fits.
    Shl,
    /// `a >> b`: arithmetic shift (floor of `a / 2^b`); an error unless
    /// `0 <= b < 64`.
    Shr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    Union,
    Inter,
    Minus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantKind {
    Forall,
    Exists,
    Count,
    Sum,
}

/// What a quantifier or `for` ranges over.
#[derive(Clone, Debug)]
pub enum Domain {
    /// Every value of a finite type, in index order.
    Type(Ty),
    /// The members of a set value over `elem`, in index order.
    Set { set: Box<Expr>, elem: Ty },
    /// A sequence's elements in order.
    Seq { seq: Box<Expr>, stride: u32 },
}

/// A comparison operator of [`Expr::Test`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An operand that needs no recursion to read.
#[derive(Clone, Debug)]
pub enum Operand {
    Int(i64),
    Local(u32),
    Slot(u32),
    /// `state[offset + (frame[local] - lo) * stride]`, the index range-checked.
    SlotAt {
        offset: u32,
        local: u32,
        lo: i64,
        count: u32,
        stride: u32,
        span: Span,
    },
}

#[derive(Clone, Debug)]
pub enum Expr {
    Int(i64),
    /// A comparison of two simple operands, fused (the simplification pass
    /// makes it from `Eq` and `Arith` comparisons).
    Test {
        op: CmpOp,
        a: Operand,
        b: Operand,
    },
    /// A one-slot local (a parameter, a bound variable): `Read` made direct.
    Local(u32),
    /// A one-slot state variable at a fixed offset: `Read` made direct.
    Slot(u32),
    /// A set member test made direct: the slot at `offset + index - lo` of
    /// the state, or 0 when `index` is outside `lo..lo + count` (membership
    /// of a value outside the element type is false, not an error).
    Bit {
        offset: u32,
        index: Box<Expr>,
        lo: i64,
        count: u32,
    },
    /// One slot of a state array: `offset + (index - lo) * stride`, the index
    /// range-checked; `Read` made direct.
    SlotAt {
        offset: u32,
        index: Box<Expr>,
        lo: i64,
        count: u32,
        stride: u32,
        span: Span,
    },
    /// A constant flat value of more than one slot.
    Lit(Vec<i64>),
    Read(Place),
    Neg(Box<Expr>, Span),
    Not(Box<Expr>),
    Abs(Box<Expr>, Span),
    Arith(IntOp, Box<Expr>, Box<Expr>, Span),
    /// Flat equality of two values of `len` slots.
    Eq {
        len: u32,
        negate: bool,
        a: Box<Expr>,
        b: Box<Expr>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Implies(Box<Expr>, Box<Expr>),
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
        len: u32,
    },
    /// Concatenation of flat parts (record literals).
    Concat(Vec<Expr>),
    /// A variant value: the default value, then the tag and fields written.
    Variant {
        default: Vec<i64>,
        tag: u32,
        offset: u32,
        fields: Vec<Expr>,
    },
    /// A sequence literal: elements then padding to capacity.
    SeqLit {
        elems: Vec<Expr>,
        padding: Vec<i64>,
    },
    /// Part of a computed value: `len` slots at a step into a value of `base_len`.
    Sub {
        base: Box<Expr>,
        base_len: u32,
        step: Box<Step>,
        len: u32,
    },
    /// `elem in set` where `set` is a flat set over `elem_ty`.
    In {
        elem: Box<Expr>,
        elem_ty: Ty,
        set: Box<Expr>,
    },
    SetLit {
        elems: Vec<Expr>,
        elem_ty: Ty,
        card: u32,
        span: Span,
    },
    SetOp {
        op: SetOp,
        card: u32,
        a: Box<Expr>,
        b: Box<Expr>,
    },
    Subseteq {
        card: u32,
        a: Box<Expr>,
        b: Box<Expr>,
    },
    Card {
        card: u32,
        set: Box<Expr>,
    },
    /// The length slot of a sequence value.
    Len(Box<Expr>, u32),
    /// The position of a value among its type's values (network bags).
    IndexOf {
        value: Box<Expr>,
        ty: Ty,
        span: Span,
    },
    Quant {
        kind: QuantKind,
        local: u32,
        len: u32,
        domain: Domain,
        body: Box<Expr>,
    },
    /// `value`, an error where it equals `forbidden`: a read of a slot
    /// whose type has an extra "undefined" value (Murphi's).
    Checked {
        value: Box<Expr>,
        forbidden: i64,
        span: Span,
    },
    /// Runs `stmts`, which write locals only (never the state; see
    /// [`writes_state`]), then is `value`: a function whose value needs
    /// statements, called inside an expression (Murphi's functions with
    /// local variables in a guard).
    Block {
        stmts: Vec<Stmt>,
        value: Box<Expr>,
    },
    /// Binds a local (a `fn` argument) around a body.
    Let {
        local: u32,
        len: u32,
        value: Box<Expr>,
        body: Box<Expr>,
    },
}

/// Calls `$f` on each direct sub-expression of `$e`, including the index
/// expressions in a place's steps and a quantifier's domain. One body serves
/// `&Expr` and `&mut Expr`: the patterns bind by reference either way.
macro_rules! each_child {
    ($e:expr, $f:expr $(, $m:tt)?) => {{
        let mut f = $f;
        match $e {
            Expr::Int(_) | Expr::Local(_) | Expr::Slot(_) | Expr::Lit(_) | Expr::Test { .. } => {}
            Expr::SlotAt { index, .. } | Expr::Bit { index, .. } => f(index),
            Expr::Read(Place { steps, .. }) => {
                for step in steps {
                    if let Step::Index { index, .. } | Step::SeqIndex { index, .. } = step {
                        f(index);
                    }
                }
            }
            Expr::Neg(a, _) | Expr::Not(a) | Expr::Abs(a, _) | Expr::Len(a, _) => f(a),
            Expr::Checked { value: a, .. } => f(a),
            Expr::Card { set: a, .. } | Expr::IndexOf { value: a, .. } => f(a),
            Expr::Arith(_, a, b, _)
            | Expr::Eq { a, b, .. }
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Implies(a, b)
            | Expr::SetOp { a, b, .. }
            | Expr::Subseteq { a, b, .. }
            | Expr::In { elem: a, set: b, .. }
            | Expr::Let { value: a, body: b, .. } => {
                f(a);
                f(b);
            }
            Expr::If { cond, then, otherwise, .. } => {
                f(cond);
                f(then);
                f(otherwise);
            }
            Expr::Concat(xs) | Expr::Variant { fields: xs, .. } | Expr::SeqLit { elems: xs, .. } | Expr::SetLit { elems: xs, .. } => {
                for x in xs {
                    f(x);
                }
            }
            Expr::Sub { base, step, .. } => {
                f(base);
                if let Step::Index { index, .. } | Step::SeqIndex { index, .. } = & $($m)? **step {
                    f(index);
                }
            }
            Expr::Quant { domain, body, .. } => {
                match domain {
                    Domain::Type(_) => {}
                    Domain::Set { set: d, .. } | Domain::Seq { seq: d, .. } => f(d),
                }
                f(body);
            }
            Expr::Block { stmts, value } => {
                for s in stmts {
                    nested_stmt!(s, &mut f $(, $m)?);
                }
                f(value);
            }
        }
    }};
}

/// Calls `$f` on every expression of statement `$s`, those of nested
/// statements and places' index steps included (for `Expr::Block`, whose
/// statements are part of its value). By reference either way, as
/// `each_child!`.
macro_rules! each_stmt_expr {
    ($s:expr, $f:expr $(, $m:tt)?) => {{
        let f = $f;
        match $s {
            Stmt::Assign { place: Place { steps, .. }, value: x, .. }
            | Stmt::SetAdd { place: Place { steps, .. }, elem: x, .. }
            | Stmt::Push { place: Place { steps, .. }, elem: x, .. } => {
                each_step_expr!(steps, f);
                f(x);
            }
            Stmt::Pop { place: Place { steps, .. }, at, .. } => {
                each_step_expr!(steps, f);
                if let Some(a) = at {
                    f(a);
                }
            }
            Stmt::Clear { place: Place { steps, .. }, .. } => each_step_expr!(steps, f),
            Stmt::Let { value: x, .. }
            | Stmt::SetBit { index: x, .. }
            | Stmt::Assert { cond: x, .. }
            | Stmt::Cover { cond: x, .. } => f(x),
            Stmt::If { cond, then, otherwise } => {
                f(cond);
                for s in then {
                    nested_stmt!(s, &mut *f $(, $m)?);
                }
                for s in otherwise {
                    nested_stmt!(s, &mut *f $(, $m)?);
                }
            }
            Stmt::For { domain, body, .. } => {
                if let Domain::Set { set: d, .. } | Domain::Seq { seq: d, .. } = domain {
                    f(d);
                }
                for s in body {
                    nested_stmt!(s, &mut *f $(, $m)?);
                }
            }
            Stmt::While { cond, body, .. } => {
                f(cond);
                for s in body {
                    nested_stmt!(s, &mut *f $(, $m)?);
                }
            }
            Stmt::Send { dst, msg, lowered, .. } => {
                f(dst);
                f(msg);
                for s in lowered {
                    nested_stmt!(s, &mut *f $(, $m)?);
                }
            }
        }
    }};
}

/// A nested statement's expressions, by a call (macros cannot recurse
/// at run time).
macro_rules! nested_stmt {
    ($s:expr, $f:expr) => {
        $s.for_each_expr($f)
    };
    ($s:expr, $f:expr, mut) => {
        $s.for_each_expr_mut($f)
    };
}

macro_rules! each_step_expr {
    ($steps:expr, $f:expr) => {{
        for step in $steps {
            if let Step::Index { index, .. } | Step::SeqIndex { index, .. } = step {
                $f(index);
            }
        }
    }};
}

impl Expr {
    /// Calls `f` on each direct sub-expression (see `each_child!`).
    pub fn for_each_child(&self, f: &mut dyn FnMut(&Expr)) {
        each_child!(self, |c: &Expr| f(c))
    }

    pub fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        each_child!(self, |c: &mut Expr| f(c), mut)
    }
}

impl Stmt {
    /// Calls `f` on every expression of the statement and of the
    /// statements nested in it (see `each_stmt_expr!`).
    pub fn for_each_expr(&self, f: &mut dyn FnMut(&Expr)) {
        each_stmt_expr!(self, f)
    }

    pub fn for_each_expr_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        each_stmt_expr!(self, f, mut)
    }
}

#[derive(Clone, Debug)]
pub enum Stmt {
    /// Writes a value, each slot checked against `bounds`.
    Assign {
        place: Place,
        value: Expr,
        bounds: Vec<(i64, i64)>,
        span: Span,
    },
    Let {
        local: u32,
        len: u32,
        value: Expr,
    },
    If {
        cond: Expr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
    For {
        local: u32,
        len: u32,
        domain: Domain,
        body: Vec<Stmt>,
    },
    /// Runs `body` while `cond` holds; an error once it has run `limit`
    /// times and `cond` still holds (Murphi's loop limit), so every loop ends.
    While {
        cond: Expr,
        body: Vec<Stmt>,
        limit: u32,
        span: Span,
    },
    SetAdd {
        place: Place,
        elem: Expr,
        elem_ty: Ty,
        remove: bool,
        span: Span,
    },
    /// `SetAdd` made direct (a set variable whose elements are numbered by
    /// one scalar): sets slot `offset + index - lo` to `value`; an index
    /// outside `lo..lo + count` is a range error with `message`.
    SetBit {
        offset: u32,
        index: Expr,
        lo: i64,
        count: u32,
        value: bool,
        message: String,
        span: Span,
    },
    Push {
        place: Place,
        elem: Expr,
        stride: u32,
        cap: u32,
        bounds: Vec<(i64, i64)>,
        span: Span,
    },
    /// Removes the head of a sequence, or the element at `at` (lost messages).
    Pop {
        place: Place,
        at: Option<Expr>,
        stride: u32,
        cap: u32,
        filler: Vec<i64>,
        span: Span,
    },
    Clear {
        place: Place,
        filler: Vec<i64>,
    },
    /// A message sent to process instance `dst` (a process id): `lowered`
    /// is what the send does to the network variable, which is all the
    /// checker runs; the emitter turns `dst` and `msg` into a real send.
    Send {
        dst: Expr,
        msg: Expr,
        lowered: Vec<Stmt>,
        span: Span,
    },
    /// Fails with `kind` (an `assert`, or a range check such as a send past
    /// the network's capacity) unless `cond` holds.
    Assert {
        cond: Expr,
        kind: crate::eval::ErrorKind,
        message: String,
        span: Span,
    },
    /// Meets reachable property `reachable` (an index into
    /// `Model::reachables`, below 64) when it runs with `cond` true: a
    /// reachability claim about a point of a rule (Murphi's `cover`
    /// statement) rather than about a state. It changes no state.
    Cover {
        reachable: u32,
        cond: Expr,
    },
}

/// One state variable: its flat slots are `offset..offset+len` of a state.
#[derive(Clone, Debug)]
pub struct Var {
    pub name: String,
    pub ty: Ty,
    pub offset: u32,
    pub len: u32,
    /// The process that owns it (its slots are an array over the instances).
    pub process: Option<u32>,
    pub durable: bool,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub ty: Ty,
    /// Local-frame offset the parameter's value is bound to.
    pub local: u32,
    pub len: u32,
    pub card: u64,
    /// Left out of trace labels (a singleton process's index).
    pub hidden: bool,
}

/// A guarded rule: its instances are its rule plus every combination of
/// parameter values, numbered in mixed radix (first parameter most
/// significant, each parameter's values in type order).
#[derive(Clone, Debug)]
pub struct Rule {
    pub name: String,
    pub params: Vec<Param>,
    pub guard: Option<Expr>,
    pub body: Vec<Stmt>,
    /// Slots of the local frame this rule needs.
    pub frame_len: u32,
    pub instances: u64,
    pub span: Span,
}

/// What kind of step a process rule is in an implementation; all check alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    Rule,
    Timeout,
    Input,
    /// An `on` handler: receipt of a message.
    Receive,
    /// The network loses a message, or a process crashes.
    Environment,
}

/// A process: its instances have global ids `first_pid..first_pid + count`
/// (values of the process-id enum), its variables are state arrays over
/// its index type, and its steps are rules of the model.
#[derive(Clone, Debug)]
pub struct Process {
    pub name: String,
    pub index: Ty,
    pub singleton: bool,
    pub first_pid: u32,
    pub count: u32,
    /// Model variable numbers of its variables.
    pub vars: Vec<usize>,
    /// Model rule numbers of its steps, with their kinds.
    pub rules: Vec<(usize, StepKind)>,
    /// Its `on` handlers, as an implementation receives a message.
    pub handlers: Vec<Handler>,
}

/// An `on` handler seen from the receiving side. Its model rule's
/// parameters are (self, source, the message's fields in order); its guard
/// is "the message is in flight" and `guard`, and its body starts with
/// `consume` statements that take the message out of the network.
#[derive(Clone, Debug)]
pub struct Handler {
    pub rule: usize,
    /// The message's variant of `Msg`.
    pub tag: u32,
    /// The handler's own guard (`when ...`), without the in-flight test.
    pub guard: Option<Expr>,
    pub consume: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Set,
    Bag,
    Fifo,
}

#[derive(Clone, Debug)]
pub struct Network {
    pub order: Order,
    pub capacity: u32,
    pub loss: bool,
    pub duplication: bool,
    pub crash: u32,
    /// The process-id enum and the message enum.
    pub pid: Ty,
    pub msg: Ty,
    /// The model variable holding the messages in flight.
    pub var: usize,
}

#[derive(Clone, Debug)]
pub struct Property {
    pub name: String,
    pub expr: Expr,
    pub frame_len: u32,
    pub span: Span,
}

impl Property {
    /// The premise of an invariant `[forall ...:] A => B`: `[exists ...:]
    /// A`, which `--coverage` counts; an invariant whose premise never holds
    /// is never exercised (it holds vacuously). `None` for other shapes.
    pub fn premise(&self) -> Option<Expr> {
        fn strip(e: &Expr) -> Option<Expr> {
            match e {
                Expr::Implies(a, _) => Some((**a).clone()),
                Expr::Quant { kind: QuantKind::Forall, local, len, domain, body } => {
                    Some(Expr::Quant {
                        kind: QuantKind::Exists,
                        local: *local,
                        len: *len,
                        domain: domain.clone(),
                        body: Box::new(strip(body)?),
                    })
                }
                _ => None,
            }
        }
        strip(&self.expr)
    }
}

/// Reachable properties a model may have: the search keeps which are met
/// as one 64-bit mask.
pub const MAX_REACHABLES: usize = 64;

/// Which temporal form a `property` has (LANGUAGE.md, "Liveness").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemporalKind {
    /// `eventually P`: every fair behavior reaches a P state.
    Eventually,
    /// `always eventually P`: P states recur forever.
    AlwaysEventually,
    /// `eventually always P`: from some point on, P holds forever.
    EventuallyAlways,
    /// `P leadsto Q`: every P state is followed (or met) by a Q state.
    LeadsTo,
    /// CTL's `AG EF P` (Murphi's `liveness`, as Rumur checks it): from
    /// every reachable state some path reaches a P state. A property of
    /// the graph, not of behaviors: fairness plays no part, and a step to
    /// a state outside the constraints leads nowhere.
    AlwaysPossibly,
}

/// A `property`: one temporal property per binding of its `forall`
/// prefixes, which are bound as a rule's parameters are (an instance
/// number per binding).
#[derive(Clone, Debug)]
pub struct Temporal {
    pub name: String,
    pub kind: TemporalKind,
    pub params: Vec<Param>,
    pub instances: u64,
    pub p: Expr,
    /// `Q` of `P leadsto Q`.
    pub q: Option<Expr>,
    pub frame_len: u32,
    pub span: Span,
}

impl Temporal {
    /// State predicates (atoms) each instance needs: P, and Q for `leadsto`.
    pub fn atoms(&self) -> usize {
        1 + self.q.is_some() as usize
    }
}

/// One fairness declaration: weak or strong fairness of each action it
/// makes (TLA+'s `WF_vars` / `SF_vars`).
#[derive(Clone, Debug)]
pub struct Fairness {
    pub strong: bool,
    pub scope: FairScope,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FairScope {
    /// `fair rule R(p)`, `fair on V`: each instance of the rule is an action.
    EachInstance(usize),
    /// `fair process P[i]`: each process instance, all its steps as one action.
    EachProcess(usize),
    /// `fairness ...: R, S` (or `all`): every instance of these rules, as one action.
    Rules(Vec<usize>),
}

#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub consts: Vec<(String, i64)>,
    pub types: Types,
    pub vars: Vec<Var>,
    /// Total slots of a state.
    pub state_len: u32,
    /// Per-slot bounds of a state (the packing layout is derived from them).
    pub bounds: Vec<(i64, i64)>,
    /// Initial-value statements, run on the all-defaults state.
    pub init_values: Vec<Stmt>,
    pub init_frame_len: u32,
    /// The processes, in declaration order (empty for specs without them).
    pub processes: Vec<Process>,
    pub network: Option<Network>,
    /// `init` blocks, in order; each maps a state to one state per binding.
    pub inits: Vec<Rule>,
    pub rules: Vec<Rule>,
    pub invariants: Vec<Property>,
    pub reachables: Vec<Property>,
    pub constraints: Vec<Property>,
    pub terminals: Vec<Property>,
    /// Temporal properties (`property`), and the fairness they are checked under.
    pub temporals: Vec<Temporal>,
    pub fairness: Vec<Fairness>,
    /// First global instance number of each rule; the last entry is the total.
    pub instance_base: Vec<u64>,
    /// What a deadlock is (when deadlocks are checked).
    pub deadlock: Deadlock,
}

/// Which states are deadlocks (outside `terminal`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deadlock {
    /// No rule is enabled (TLC's, Fathom's, DiVinE's).
    Stuck,
    /// No enabled rule changes the state: every one leads back to it
    /// (CMurphi's and Rumur's default).
    Stuttering,
}

impl Deadlock {
    /// Why a deadlocked state is one, for reports.
    pub fn message(self) -> &'static str {
        match self {
            Deadlock::Stuck => "no rule is enabled in this state",
            Deadlock::Stuttering => "no enabled rule changes this state",
        }
    }
}

/// Whether any of `stmts` writes the state (else they write locals only).
pub fn writes_state(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match s {
        Stmt::Assign { place, .. }
        | Stmt::SetAdd { place, .. }
        | Stmt::Push { place, .. }
        | Stmt::Pop { place, .. }
        | Stmt::Clear { place, .. } => place.root == Root::State,
        Stmt::SetBit { .. } | Stmt::Send { .. } => true,
        Stmt::Let { .. } | Stmt::Assert { .. } | Stmt::Cover { .. } => false,
        Stmt::If { then, otherwise, .. } => writes_state(then) || writes_state(otherwise),
        Stmt::For { body, .. } | Stmt::While { body, .. } => writes_state(body),
    })
}

impl Model {
    /// Bits of temporal atoms per state ([`Temporal::atoms`] per instance).
    pub fn temporal_atom_bits(&self) -> usize {
        self.temporals
            .iter()
            .map(|t| t.atoms() * t.instances as usize)
            .sum()
    }

    /// u64 words of temporal atoms per state.
    pub fn temporal_atom_words(&self) -> usize {
        self.temporal_atom_bits().div_ceil(64)
    }

    pub fn instance_count(&self) -> u64 {
        self.instance_base.last().copied().unwrap_or(0)
    }

    /// The process instances' names (`TM`, `RMgr[0]`, ...) in process-id
    /// order: the nodes of an emitted cluster. Empty without processes.
    pub fn node_names(&self) -> Vec<String> {
        match self.network.as_ref().map(|n| &n.pid) {
            Some(Ty::Enum(id)) => self.types.enums[*id as usize]
                .variants
                .iter()
                .map(|v| v.name.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The state's shape, which every front end must produce: variables
    /// tile the flat state in order, each slot has its bounds, and instance
    /// numbers ascend by rule, one base per rule and the end.
    pub fn assert_shape(&self) {
        let mut at = 0;
        for v in &self.vars {
            assert_eq!(
                v.offset, at,
                "variable `{}` follows the previous one",
                v.name
            );
            assert_eq!(
                v.len,
                self.types.flat_len(&v.ty),
                "variable `{}`'s length",
                v.name
            );
            at += v.len;
        }
        assert_eq!(at, self.state_len, "the variables fill the state");
        assert!(
            self.reachables.len() <= MAX_REACHABLES,
            "the front end limits reachable properties"
        );
        assert_eq!(
            self.bounds.len(),
            self.state_len as usize,
            "bounds per slot"
        );
        assert_eq!(
            self.instance_base.len(),
            self.rules.len() + 1,
            "an instance base per rule, and the end"
        );
        assert!(
            self.instance_base.windows(2).all(|w| w[0] <= w[1]),
            "instance numbers ascend"
        );
        for (r, w) in self.rules.iter().zip(self.instance_base.windows(2)) {
            assert_eq!(w[1] - w[0], r.instances, "rule `{}`'s instances", r.name);
        }
    }

    /// The rule and its local instance number of a global instance number.
    pub fn rule_of_instance(&self, instance: u64) -> Option<(usize, u64)> {
        if instance >= self.instance_count() {
            return None;
        }
        let rule = self.instance_base.partition_point(|b| *b <= instance) - 1;
        Some((rule, instance - self.instance_base[rule]))
    }
}
