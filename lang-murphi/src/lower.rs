//! A [`Program`] to an [`ir::Model`], with CMurphi's and Rumur's meaning
//! (docs/murphi.md): every variable starts undefined, and undefined is a
//! value of its own (each scalar slot has one more value, its *marker*;
//! reading it is an error); rulesets are rule parameters; procedures and
//! one-`return` functions are inlined.

use std::collections::{HashMap, HashSet};

use model::eval::ErrorKind;
use model::ir::{
    self, Domain, EnumDef, Expr, IntOp, Model, Place, QuantKind, Root, Rule, Step, Stmt, Ty, Types,
    Variant,
};
use model::{Diagnostic, Span};

use crate::assume;
use crate::ast::{self, BinOp, Category, Decl, Node, Program, Quantifier, TypeExpr, UnOp};

type L<T> = Option<T>;

/// Iterations of a `while` before it is an error (CMurphi's default
/// `-loopmax`).
const WHILE_LIMIT: u32 = 1000;
/// A union with more values than this is a plain range in traces, not an
/// enum naming each.
const UNION_NAMES: i64 = 4096;
/// Nested calls of one function inlined before a call fails when it runs.
const RECURSION_DEPTH: usize = 12;
/// Recursive calls inlined under one outermost call, at most.
const RECURSION_INLINES: usize = 8192;

/// A Murphi type, resolved.
#[derive(Clone, Debug)]
enum MTy {
    Bool,
    Range(i64, i64),
    /// An enum: the IR enum with the undefined value, the one without,
    /// and its size.
    Enum(u32, u32, u32),
    /// `scalarset(N)`, the `d`th declared: values 0..N-1, a symmetric type
    /// ([`Ty::Sym`], [`Ty::OptSym`] with undefined) unless the model uses it
    /// asymmetrically (then a plain range: [`Lowerer::asymmetric`]).
    Scalarset(i64, u32),
    Record(u32, Vec<(String, MTy)>),
    Array(Box<MTy>, Box<MTy>),
    /// CMurphi's `union {A, B, ...}` of enums and scalarsets: member `i`'s
    /// value `v` is `offset_i + v` (offsets in order), so the values are
    /// `0..total`; its members are plain (no symmetry). With the IR enums
    /// (with undefined, without) that name its values for traces, unless
    /// it has too many to name.
    Union(Vec<(MTy, i64)>, i64, Option<(u32, u32)>),
}

impl MTy {
    /// Whether `a` and `b` are the same scalar type (an enum or scalarset
    /// declared once; a union of the same members).
    fn same(a: &MTy, b: &MTy) -> bool {
        match (a, b) {
            (MTy::Enum(x, ..), MTy::Enum(y, ..)) => x == y,
            (MTy::Scalarset(_, x), MTy::Scalarset(_, y)) => x == y,
            (MTy::Union(x, ..), MTy::Union(y, ..)) => {
                x.len() == y.len() && x.iter().zip(y).all(|((a, _), (b, _))| MTy::same(a, b))
            }
            _ => false,
        }
    }

    /// The offset of member `m` in this union.
    fn member_offset(&self, m: &MTy) -> Option<i64> {
        match self {
            MTy::Union(members, ..) => members
                .iter()
                .find(|(t, _)| MTy::same(t, m))
                .map(|(_, off)| *off),
            _ => None,
        }
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, MTy::Record(..) | MTy::Array(..))
    }
    /// The defined values of a scalar: `lo..=hi`.
    fn bounds(&self) -> (i64, i64) {
        match self {
            MTy::Bool => (0, 1),
            MTy::Range(lo, hi) => (*lo, *hi),
            MTy::Enum(_, _, n) => (0, *n as i64 - 1),
            MTy::Scalarset(n, _) => (0, n - 1),
            MTy::Union(_, total, _) => (0, total - 1),
            MTy::Record(..) | MTy::Array(..) => (0, 0),
        }
    }
    /// The scalar's undefined marker: one below its values (above, for
    /// booleans and enums, whose values start at 0 as their variants).
    fn marker(&self) -> i64 {
        match self {
            MTy::Bool => 2,
            MTy::Enum(_, _, n) => *n as i64,
            MTy::Union(_, total, Some(_)) => *total,
            _ => self.bounds().0.saturating_sub(1),
        }
    }
    fn card(&self) -> u64 {
        match self {
            MTy::Record(_, fields) => fields.iter().map(|(_, t)| t.card()).product(),
            MTy::Array(i, e) => e.card().saturating_pow(i.card() as u32),
            s => {
                let (lo, hi) = s.bounds();
                u64::try_from(i128::from(hi) - i128::from(lo) + 1).unwrap_or(u64::MAX)
            }
        }
    }
}

/// What a name means where it is used.
#[derive(Clone, Debug)]
enum Binding {
    Const(i64, MTy),
    Type(MTy),
    /// A variable (state or local) or a `var` parameter: a place.
    Place(Place, MTy),
    /// A quantifier, ruleset parameter or value parameter bound to a local.
    Value(u32, MTy),
    /// An alias of an expression that is not a place.
    Expr(Expr, MTy),
}

pub(crate) struct Lowerer<'a> {
    pub diagnostics: Vec<Diagnostic>,
    overrides: &'a HashMap<String, i64>,
    /// The scalarsets (by declaration number) lowered as plain ranges.
    plain: &'a HashSet<u32>,
    /// Per declared scalarset: its name and, if symmetric, its type.
    scalarsets: Vec<(String, Option<ir::SymId>)>,
    /// Uses that tell a scalarset's values apart (an order, a number, a
    /// value of another type, `clear`): per use, the scalarset, where, what.
    pub asymmetric: Vec<(u32, Span, &'static str)>,
    types: Types,
    bool_enum: u32,
    scopes: Vec<HashMap<String, Binding>>,
    /// Procedures and functions declared so far, numbered in order.
    functions: HashMap<String, (usize, &'a ast::Function)>,
    /// Procedures being inlined (recursion is refused).
    inlining: Vec<String>,
    vars: Vec<ir::Var>,
    bounds: Vec<(i64, i64)>,
    markers: Vec<i64>,
    state_len: u32,
    consts: Vec<(String, i64)>,
    /// Global names whose declaration failed (with an error): a use of
    /// one is not an error of its own.
    broken: HashSet<String>,
    /// Names declared at the top level so far.
    global_names: std::collections::HashSet<String>,
    /// Global names (functions too) in declaration order: a function's
    /// body sees those declared before it.
    global_order: HashMap<String, usize>,
    /// The model's reachable properties: `cover`s at the top level and
    /// cover statements (one per statement, however often inlined).
    reachables: Vec<ir::Property>,
    cover_statements: HashMap<(u32, u32), u32>,
    /// The frame of the rule being lowered.
    frame: u32,
    max_frame: u32,
    /// While a statement is lowered: the statements that must run before
    /// it, computing the value of a function that cannot be an expression
    /// (locals, statements) into a local ([`Self::hoisted_call`]).
    hoist: Option<Vec<Stmt>>,
    /// Above 0 inside a part of an expression or statement that may not be
    /// evaluated (a short-circuit operand, a branch, a quantifier's body, a
    /// loop's condition): no call is hoisted from there.
    conditional: u32,
    /// In a body whose `return`s could not be resolved into branches (one
    /// is in a loop or an `alias`): the local flag that a `return` sets and
    /// the rest of the body tests.
    returned: Option<u32>,
    /// Recursive calls inlined under the current outermost call.
    recursive_inlines: usize,
}

fn read(root: Root, offset: u32, len: u32) -> Place {
    Place { root, offset, steps: Vec::new(), len }
}

fn and(a: Expr, b: Expr) -> Expr {
    Expr::And(Box::new(a), Box::new(b))
}

fn cmp(op: IntOp, a: Expr, b: Expr, span: Span) -> Expr {
    Expr::Arith(op, Box::new(a), Box::new(b), span)
}

fn eq(a: Expr, b: Expr, negate: bool) -> Expr {
    Expr::Eq { len: 1, negate, a: Box::new(a), b: Box::new(b) }
}

impl<'a> Lowerer<'a> {
    pub fn new(overrides: &'a HashMap<String, i64>, plain: &'a HashSet<u32>) -> Lowerer<'a> {
        let mut types = Types::default();
        types.enums.push(EnumDef {
            name: "boolean".into(),
            variants: ["false", "true", "undefined"]
                .iter()
                .map(|n| Variant { name: n.to_string(), fields: Vec::new() })
                .collect(),
        });
        let mut global = HashMap::new();
        global.insert("true".to_string(), Binding::Const(1, MTy::Bool));
        global.insert("false".to_string(), Binding::Const(0, MTy::Bool));
        global.insert("boolean".to_string(), Binding::Type(MTy::Bool));
        Lowerer {
            diagnostics: Vec::new(),
            overrides,
            plain,
            scalarsets: Vec::new(),
            asymmetric: Vec::new(),
            types,
            bool_enum: 0,
            scopes: vec![global],
            functions: HashMap::new(),
            inlining: Vec::new(),
            hoist: None,
            conditional: 0,
            returned: None,
            recursive_inlines: 0,
            vars: Vec::new(),
            bounds: Vec::new(),
            markers: Vec::new(),
            state_len: 0,
            consts: Vec::new(),
            global_names: std::collections::HashSet::new(),
            broken: HashSet::new(),
            global_order: HashMap::new(),
            reachables: Vec::new(),
            cover_statements: HashMap::new(),
            frame: 0,
            max_frame: 0,
        }
    }

    fn error(&mut self, span: Span, message: impl Into<String>, label: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(span, message).label(label));
    }

    fn unsupported(&mut self, span: Span, what: &str) {
        self.diagnostics.push(unsupported(span, what));
    }

    fn lookup(&self, name: &str) -> Option<Binding> {
        // Inside a function, only the globals declared before it.
        let limit = self.inlining.last().and_then(|f| self.global_order.get(f));
        self.scopes
            .iter()
            .enumerate()
            .rev()
            .find_map(|(depth, s)| {
                let hidden = depth == 0
                    && limit.is_some_and(|l| self.global_order.get(name).is_some_and(|o| o > l));
                s.get(name).filter(|_| !hidden)
            })
            .cloned()
            .or_else(|| {
                // `true`, `false` and `boolean` are Murphi keywords: any case.
                let lower = name.to_ascii_lowercase();
                ["true", "false", "boolean"]
                    .contains(&lower.as_str())
                    .then(|| self.scopes[0].get(&lower).cloned())
                    .flatten()
            })
    }

    fn bind(&mut self, name: &ast::Ident, b: Binding) {
        if self.scopes.len() == 1 {
            let next = self.global_order.len();
            self.global_order.entry(name.name.clone()).or_insert(next);
        }
        let scope = self.scopes.last_mut().expect("a scope");
        if scope.insert(name.name.clone(), b).is_some() && self.scopes.len() > 1
            || self.declared_twice(name)
        {
            self.error(
                name.span,
                format!("`{}` is declared twice", name.name),
                "a second declaration in the same scope",
            );
        }
    }

    /// A global name declared before (the global scope also holds the
    /// keywords' `true`, `false` and `boolean`, which may be shadowed).
    fn declared_twice(&mut self, name: &ast::Ident) -> bool {
        self.scopes.len() == 1 && !self.global_names.insert(name.name.clone())
    }

    /// A frame slot range of `len` for a rule's locals.
    fn alloc(&mut self, len: u32) -> u32 {
        let at = self.frame;
        self.frame += len;
        self.max_frame = self.max_frame.max(self.frame);
        at
    }

    // ---- types and constants ----

    fn ir_ty(&self, t: &MTy) -> Ty {
        match t {
            MTy::Bool => Ty::Enum(self.bool_enum),
            MTy::Range(lo, hi) => Ty::Range(lo.saturating_sub(1), *hi),
            MTy::Enum(id, _, _) => Ty::Enum(*id),
            MTy::Scalarset(n, d) => match self.sym_of(*d) {
                Some(k) => Ty::OptSym(k),
                None => Ty::Range(-1, n - 1),
            },
            MTy::Union(_, _, Some((id, _))) => Ty::Enum(*id),
            MTy::Union(_, total, None) => Ty::Range(-1, total - 1),
            MTy::Record(id, _) => Ty::Record(*id),
            MTy::Array(i, e) => Ty::Array(Box::new(self.defined_ty(i)), Box::new(self.ir_ty(e))),
        }
    }

    /// The IR type of a scalar's defined values (parameters, indices).
    fn defined_ty(&self, t: &MTy) -> Ty {
        match t {
            MTy::Bool => Ty::Bool,
            MTy::Enum(_, id, _) | MTy::Union(_, _, Some((_, id))) => Ty::Enum(*id),
            MTy::Scalarset(_, d) if self.sym_of(*d).is_some() => {
                Ty::Sym(self.sym_of(*d).expect("checked"))
            }
            s => {
                let (lo, hi) = s.bounds();
                Ty::Range(lo, hi)
            }
        }
    }

    /// The symmetric type of the `d`th scalarset, unless it is plain.
    fn sym_of(&self, d: u32) -> Option<ir::SymId> {
        self.scalarsets.get(d as usize).and_then(|(_, k)| *k)
    }

    /// Notes a use that tells scalarset values apart where `a` and `b` meet
    /// (an assignment, a comparison, an index): unless both are the same
    /// scalarset, a scalarset on either side is not symmetric.
    fn conform(&mut self, a: &MTy, b: &MTy, span: Span, what: &'static str) {
        let union = matches!(a, MTy::Union(..)) || matches!(b, MTy::Union(..));
        if union && !MTy::same(a, b) && !Self::converts(a, b) {
            self.error(
                span,
                "a union's values meet a value of another type",
                "neither this union nor one of its members",
            );
        }
        match (a, b) {
            (MTy::Scalarset(_, x), MTy::Scalarset(_, y)) if x == y => {}
            _ => {
                for t in [a, b] {
                    if let MTy::Scalarset(_, d) = t {
                        self.asymmetric.push((*d, span, what));
                    }
                }
            }
        }
    }

    /// A defined value `x` of scalar type `from` as a value of `to`: a union
    /// member's value is numbered within the union (and back); anything
    /// else is as it is (a value outside `to` fails where it is stored or
    /// used as an index).
    fn convert(&self, x: Expr, from: &MTy, to: &MTy, span: Span) -> Expr {
        if let Some(off) = to.member_offset(from) {
            return cmp(IntOp::Add, x, Expr::Int(off), span);
        }
        if let Some(off) = from.member_offset(to) {
            return cmp(IntOp::Sub, x, Expr::Int(off), span);
        }
        x
    }

    /// Two scalar operands in one numbering: a union member's value
    /// numbered within the other side's union.
    fn unify(&self, x: Expr, tx: &MTy, y: Expr, ty: &MTy, span: Span) -> (Expr, Expr) {
        if tx.member_offset(ty).is_some() {
            let y = self.convert(y, ty, tx, span);
            return (x, y);
        }
        if ty.member_offset(tx).is_some() {
            let x = self.convert(x, tx, ty, span);
            return (x, y);
        }
        (x, y)
    }

    /// A `var` argument is the parameter's place: it must not need
    /// numbering (a union member for a union, or back).
    fn same_var_type(&mut self, param: &MTy, arg: &MTy, span: Span) -> L<()> {
        if Self::converts(arg, param) {
            self.unsupported(
                span,
                "a `var` argument of a union's member type for a union (or back)",
            );
            return None;
        }
        Some(())
    }

    /// Whether a value of `from` needs [`Self::convert`] to be one of `to`.
    fn converts(from: &MTy, to: &MTy) -> bool {
        to.member_offset(from).is_some() || from.member_offset(to).is_some()
    }

    /// Notes every scalarset among the scalars of `t` as told apart.
    fn asymmetric_in(&mut self, t: &MTy, span: Span, what: &'static str) {
        match t {
            MTy::Scalarset(_, d) => self.asymmetric.push((*d, span, what)),
            MTy::Record(_, fields) => {
                for (_, f) in fields {
                    self.asymmetric_in(f, span, what);
                }
            }
            MTy::Array(_, e) => self.asymmetric_in(e, span, what),
            _ => {}
        }
    }

    /// The declared scalarsets: (name, symmetric).
    pub fn scalarsets(&self) -> impl Iterator<Item = (&str, bool)> {
        self.scalarsets
            .iter()
            .map(|(n, k)| (n.as_str(), k.is_some()))
    }

    /// The undefined markers of every slot of `t`, in flat order.
    fn markers_of(&self, t: &MTy, out: &mut Vec<i64>) {
        match t {
            MTy::Record(_, fields) => fields.iter().for_each(|(_, f)| self.markers_of(f, out)),
            MTy::Array(i, e) => {
                for _ in 0..i.card() {
                    self.markers_of(e, out);
                }
            }
            s => out.push(s.marker()),
        }
    }

    fn flat_len(&self, t: &MTy) -> u32 {
        self.types.flat_len(&self.ir_ty(t))
    }

    fn const_eval(&mut self, e: &ast::Expr) -> L<i64> {
        let (x, _) = self.expr(e)?;
        let v = const_value(&x);
        if v.is_none() {
            self.error(
                e.span(),
                "expected a constant",
                "this depends on the state or a variable",
            );
        }
        v
    }

    fn ty(&mut self, t: &TypeExpr) -> L<MTy> {
        Some(match t {
            TypeExpr::Named(n) => match self.lookup(&n.name) {
                Some(Binding::Type(t)) => t,
                None if self.broken.contains(&n.name) => return None,
                _ => {
                    self.error(
                        n.span,
                        format!("unknown type `{}`", n.name),
                        "not a type in scope",
                    );
                    return None;
                }
            },
            TypeExpr::Range(lo, hi, span) => {
                let lo = self.const_eval(lo)?;
                let hi = self.const_eval(hi)?;
                if lo > hi || hi - lo >= 1 << 31 {
                    self.error(
                        *span,
                        format!("range {lo}..{hi}"),
                        "a range needs lo <= hi and fewer than 2^31 values",
                    );
                    return None;
                }
                MTy::Range(lo, hi)
            }
            TypeExpr::Enum(names, _) => {
                let id = self.types.enums.len() as u32;
                let variant = |n: &str| Variant { name: n.to_string(), fields: Vec::new() };
                let name = names
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.types.enums.push(EnumDef {
                    name: format!("enum {{{name}}}"),
                    variants: names
                        .iter()
                        .map(|n| variant(&n.name))
                        .chain([variant("undefined")])
                        .collect(),
                });
                self.types.enums.push(EnumDef {
                    name: format!("enum {{{name}}}"),
                    variants: names.iter().map(|n| variant(&n.name)).collect(),
                });
                let t = MTy::Enum(id, id + 1, names.len() as u32);
                for (i, n) in names.iter().enumerate() {
                    self.bind(n, Binding::Const(i as i64, t.clone()));
                }
                t
            }
            TypeExpr::Scalarset(n, span) => {
                let n = self.const_eval(n)?;
                if !(1..1 << 31).contains(&n) {
                    self.error(
                        *span,
                        format!("scalarset({n})"),
                        "a scalarset has 1 to 2^31 - 1 values",
                    );
                    return None;
                }
                let d = self.scalarsets.len() as u32;
                let name = format!("scalarset({n})");
                let sym = (!self.plain.contains(&d)).then(|| {
                    self.types
                        .syms
                        .push(ir::SymDef { name: name.clone(), size: n as u32 });
                    self.types.syms.len() as u32 - 1
                });
                self.scalarsets.push((name, sym));
                MTy::Scalarset(n, d)
            }
            TypeExpr::Record(fields, _) => {
                let mut out: Vec<(String, MTy)> = Vec::new();
                for (n, t) in fields {
                    if out.iter().any(|(f, _)| *f == n.name) {
                        self.error(
                            n.span,
                            format!("field `{}` is declared twice", n.name),
                            "a second field of this name",
                        );
                        return None;
                    }
                    out.push((n.name.clone(), self.ty(t)?));
                }
                let id = self.types.records.len() as u32;
                let ir_fields = out
                    .iter()
                    .map(|(n, t)| (n.clone(), self.ir_ty(t)))
                    .collect();
                self.types
                    .records
                    .push(ir::RecordDef { name: "record".into(), fields: ir_fields });
                MTy::Record(id, out)
            }
            TypeExpr::Array(i, e, span) => {
                let index = self.ty(i)?;
                if !index.is_scalar() {
                    self.error(
                        *span,
                        "an array's index must be a scalar type",
                        "a boolean, range, enum or scalarset",
                    );
                    return None;
                }
                MTy::Array(Box::new(index), Box::new(self.ty(e)?))
            }
            TypeExpr::Union(members, span) => {
                let mut out: Vec<(MTy, i64)> = Vec::new();
                let mut total = 0i64;
                for m in members {
                    let t = self.ty(m)?;
                    if !matches!(t, MTy::Enum(..) | MTy::Scalarset(..)) {
                        self.error(
                            m.span(),
                            "a union's members are enums and scalarsets",
                            "not an enum or scalarset",
                        );
                        return None;
                    }
                    if out.iter().any(|(u, _)| MTy::same(u, &t)) {
                        self.error(m.span(), "a union member twice", "already a member");
                        return None;
                    }
                    // Its values are numbered with the others': not
                    // permuted on their own.
                    self.asymmetric_in(&t, m.span(), "a union of it");
                    let n = t.card() as i64;
                    out.push((t, total));
                    total += n;
                }
                if total >= 1 << 31 {
                    self.error(*span, "a union of 2^31 values or more", "too many values");
                    return None;
                }
                // Its values named as their members name them.
                let named = (total <= UNION_NAMES).then(|| {
                    let mut names = Vec::new();
                    for (t, _) in &out {
                        match t {
                            MTy::Enum(_, id, _) => names.extend(
                                self.types.enums[*id as usize]
                                    .variants
                                    .iter()
                                    .map(|v| v.name.clone()),
                            ),
                            MTy::Scalarset(n, d) => {
                                let name = &self.scalarsets[*d as usize].0;
                                names.extend((0..*n).map(|i| format!("{name}#{i}")));
                            }
                            _ => {}
                        }
                    }
                    let id = self.types.enums.len() as u32;
                    let variant = |n: &str| Variant { name: n.to_string(), fields: Vec::new() };
                    let name = "union".to_string();
                    self.types.enums.push(EnumDef {
                        name: name.clone(),
                        variants: names
                            .iter()
                            .map(|n| variant(n))
                            .chain([variant("undefined")])
                            .collect(),
                    });
                    self.types.enums.push(EnumDef {
                        name,
                        variants: names.iter().map(|n| variant(n)).collect(),
                    });
                    (id, id + 1)
                });
                MTy::Union(out, total, named)
            }
        })
    }

    /// The global declarations, in order: constants, types, variables.
    fn declare(&mut self, d: &Decl) -> L<()> {
        match d {
            Decl::Const(n, e) => {
                if calls_function(e) {
                    self.error(
                        e.span(),
                        "a constant cannot call a function",
                        "not a constant expression",
                    );
                    return None;
                }
                let (x, t) = self.expr(e)?;
                let Some(mut v) = const_value(&x) else {
                    self.error(
                        e.span(),
                        "expected a constant",
                        "this depends on the state or a variable",
                    );
                    return None;
                };
                if self.scopes.len() == 1 {
                    if let Some(o) = self.overrides.get(&n.name) {
                        v = *o;
                    }
                    self.consts.push((n.name.clone(), v));
                }
                self.bind(n, Binding::Const(v, t));
            }
            Decl::Type(n, te) => {
                let t = self.ty(te)?;
                // A scalarset declared here is named for traces by its type.
                if let (TypeExpr::Scalarset(..), MTy::Scalarset(_, d)) = (te, &t) {
                    let d = *d as usize;
                    self.scalarsets[d].0 = n.name.clone();
                    if let Some(k) = self.scalarsets[d].1 {
                        self.types.syms[k as usize].name = n.name.clone();
                    }
                }
                self.bind(n, Binding::Type(t));
            }
            Decl::Var(n, t) => {
                let t = self.ty(t)?;
                let ty = self.ir_ty(&t);
                let len = self.types.flat_len(&ty);
                if self.scopes.len() == 1 {
                    let offset = self.state_len;
                    self.types.slot_bounds(&ty, &mut self.bounds);
                    let mut markers = std::mem::take(&mut self.markers);
                    self.markers_of(&t, &mut markers);
                    self.markers = markers;
                    self.vars.push(ir::Var {
                        name: n.name.clone(),
                        ty,
                        offset,
                        len,
                        process: None,
                        durable: false,
                        span: n.span,
                    });
                    self.state_len += len;
                    self.bind(n, Binding::Place(read(Root::State, offset, len), t));
                } else {
                    let at = self.alloc(len);
                    self.bind(n, Binding::Place(read(Root::Local, at, len), t));
                }
            }
        }
        Some(())
    }

    // ---- expressions ----

    /// A designator: its place and type.
    fn place(&mut self, e: &ast::Expr) -> L<(Place, MTy)> {
        match e {
            ast::Expr::Id(n) => match self.lookup(&n.name) {
                Some(Binding::Place(p, t)) => Some((p, t)),
                Some(_) => {
                    self.error(
                        n.span,
                        format!("`{}` is not a variable", n.name),
                        "cannot be assigned or undefined",
                    );
                    None
                }
                None if self.broken.contains(&n.name) => None,
                None => {
                    self.error(
                        n.span,
                        format!("unknown name `{}`", n.name),
                        "not declared in scope",
                    );
                    None
                }
            },
            ast::Expr::Field(base, f, _) => {
                let (mut p, t) = self.place(base)?;
                let MTy::Record(_, fields) = &t else {
                    self.error(
                        f.span,
                        format!("`.{}` of a value that is not a record", f.name),
                        "not a record",
                    );
                    return None;
                };
                let mut off = 0;
                for (name, ft) in fields {
                    if *name == f.name {
                        let len = self.flat_len(ft);
                        p.steps.push(Step::Offset(off));
                        p.len = len;
                        return Some((p, ft.clone()));
                    }
                    off += self.flat_len(ft);
                }
                self.error(
                    f.span,
                    format!("the record has no field `{}`", f.name),
                    "unknown field",
                );
                None
            }
            ast::Expr::Index(base, i, span) => {
                let (mut p, t) = self.place(base)?;
                let MTy::Array(it, et) = &t else {
                    self.error(
                        *span,
                        "indexing a value that is not an array",
                        "not an array",
                    );
                    return None;
                };
                let (index, ti) = self.scalar(i)?;
                self.conform(it, &ti, i.span(), "an index of another type");
                let index = self.convert(index, &ti, it, i.span());
                let (lo, hi) = it.bounds();
                let stride = self.flat_len(et);
                p.steps.push(Step::Index {
                    index,
                    lo,
                    count: (hi - lo + 1) as u32,
                    stride,
                    span: i.span(),
                });
                p.len = stride;
                Some((p, (**et).clone()))
            }
            _ => {
                self.error(e.span(), "expected a variable", "not a designator");
                None
            }
        }
    }

    /// A scalar expression (boolean, number, enum, scalarset, union) and
    /// its type.
    fn scalar(&mut self, e: &ast::Expr) -> L<(Expr, MTy)> {
        let (x, t) = self.expr(e)?;
        if !t.is_scalar() {
            self.error(
                e.span(),
                "expected a scalar value",
                "a record or array here",
            );
            return None;
        }
        Some((x, t))
    }

    fn boolean(&mut self, e: &ast::Expr) -> L<Expr> {
        let (x, t) = self.expr(e)?;
        if !matches!(t, MTy::Bool) {
            self.error(e.span(), "expected a boolean", "not a boolean expression");
            return None;
        }
        Some(x)
    }

    fn expr(&mut self, e: &ast::Expr) -> L<(Expr, MTy)> {
        Some(match e {
            ast::Expr::Num(n, span) => {
                let Ok(v) = i64::try_from(*n) else {
                    self.error(*span, "number too large", "beyond 64 bits");
                    return None;
                };
                (Expr::Int(v), MTy::Range(v, v))
            }
            ast::Expr::Id(n) => match self.lookup(&n.name) {
                Some(Binding::Const(v, t)) => (Expr::Int(v), t),
                Some(Binding::Value(l, t)) => (Expr::Local(l), t),
                Some(Binding::Expr(x, t)) => (x, t),
                Some(Binding::Place(..)) => self.read_place(e)?,
                Some(Binding::Type(_)) => {
                    self.error(n.span, format!("`{}` is a type", n.name), "not a value");
                    return None;
                }
                None if self.broken.contains(&n.name) => return None,
                None => {
                    self.error(
                        n.span,
                        format!("unknown name `{}`", n.name),
                        "not declared in scope",
                    );
                    return None;
                }
            },
            ast::Expr::Field(..) | ast::Expr::Index(..) => self.read_place(e)?,
            ast::Expr::Call(f, args, span) => self.call_function(f, args, *span)?,
            ast::Expr::Unary(op, a, span) => match op {
                UnOp::Not => (Expr::Not(Box::new(self.boolean(a)?)), MTy::Bool),
                UnOp::Neg | UnOp::Plus | UnOp::Bnot => {
                    let (x, t) = self.expr(a)?;
                    if !matches!(t, MTy::Range(..)) {
                        self.error(
                            *span,
                            "expected a number",
                            "an arithmetic or bitwise operator on a boolean, enum or scalarset",
                        );
                        return None;
                    }
                    let any = MTy::Range(i64::MIN, i64::MAX);
                    match op {
                        UnOp::Neg => (Expr::Neg(Box::new(x), *span), any),
                        UnOp::Bnot => (cmp(IntOp::BitXor, x, Expr::Int(-1), *span), any),
                        _ => (x, t),
                    }
                }
            },
            ast::Expr::Binary(op, a, b, span) => self.binary(*op, a, b, *span)?,
            ast::Expr::Ternary(c, a, b, _) => {
                let c = self.boolean(c)?;
                let (x, t) = self.unhoisted(|lw| lw.expr(a))?;
                let (y, tb) = self.unhoisted(|lw| lw.expr(b))?;
                let y = if t.is_scalar() {
                    self.conform(&t, &tb, e.span(), "a conditional of two types");
                    self.convert(y, &tb, &t, e.span())
                } else {
                    y
                };
                let len = self.flat_len(&t).max(1);
                (
                    Expr::If {
                        cond: Box::new(c),
                        then: Box::new(x),
                        otherwise: Box::new(y),
                        len,
                    },
                    t,
                )
            }
            ast::Expr::Forall(q, body, _) | ast::Expr::Exists(q, body, _) => {
                let kind = if matches!(e, ast::Expr::Forall(..)) {
                    QuantKind::Forall
                } else {
                    QuantKind::Exists
                };
                let x = self.unhoisted(|lw| lw.quantified(q, |lw| lw.boolean(body)))?;
                let (local, domain, pre, body) = x;
                if !pre.is_empty() {
                    self.unsupported(e.span(), "a stepped range in a quantified expression");
                    return None;
                }
                (
                    Expr::Quant { kind, local, len: 1, domain, body: Box::new(body) },
                    MTy::Bool,
                )
            }
            ast::Expr::IsUndefined(d, _) => {
                let (p, t) = self.place(d)?;
                if !t.is_scalar() {
                    self.error(
                        d.span(),
                        "`isundefined` takes a scalar variable",
                        "a record or array",
                    );
                    return None;
                }
                (eq(Expr::Read(p), Expr::Int(t.marker()), false), MTy::Bool)
            }
            ast::Expr::IsMember(x, t, span) => {
                let (v, tx) = self.scalar(x)?;
                let t = self.ty(t)?;
                self.conform(&t, &tx, *span, "`ismember` of another type");
                // A union's value is a member's if it is in the member's
                // part of the numbering; a member's value is the union's.
                let (lo, hi) = match tx.member_offset(&t) {
                    Some(off) => (off, off + t.bounds().1),
                    None => t.bounds(),
                };
                let v = if t.member_offset(&tx).is_some() {
                    self.convert(v, &tx, &t, *span)
                } else {
                    v
                };
                let inside = and(
                    cmp(IntOp::Ge, v.clone(), Expr::Int(lo), *span),
                    cmp(IntOp::Le, v, Expr::Int(hi), *span),
                );
                (inside, MTy::Bool)
            }
        })
    }

    /// A read of a designator: a scalar read is checked for undefined.
    fn read_place(&mut self, e: &ast::Expr) -> L<(Expr, MTy)> {
        let (p, t) = self.place(e)?;
        if t.is_scalar() {
            let marker = t.marker();
            return Some((
                Expr::Checked {
                    value: Box::new(Expr::Read(p)),
                    forbidden: marker,
                    span: e.span(),
                },
                t,
            ));
        }
        Some((Expr::Read(p), t))
    }

    fn binary(&mut self, op: BinOp, a: &ast::Expr, b: &ast::Expr, span: Span) -> L<(Expr, MTy)> {
        let int = MTy::Range(i64::MIN, i64::MAX);
        let (x, tx) = self.expr(a)?;
        // The right operand of a logical operator may not be evaluated.
        let (y, ty) = if matches!(
            op,
            BinOp::And | BinOp::Or | BinOp::Implies | BinOp::Amp | BinOp::Pipe
        ) {
            self.unhoisted(|lw| lw.expr(b))?
        } else {
            self.expr(b)?
        };
        let (x, y) = if tx.is_scalar() && ty.is_scalar() {
            self.unify(x, &tx, y, &ty, span)
        } else {
            (x, y)
        };
        let both_bool = matches!(tx, MTy::Bool) && matches!(ty, MTy::Bool);
        let numeric = |t: &MTy| matches!(t, MTy::Range(..));
        let needs_numbers = matches!(
            op,
            BinOp::Xor
                | BinOp::Shl
                | BinOp::Shr
                | BinOp::Add
                | BinOp::Sub
                | BinOp::Mul
                | BinOp::Div
                | BinOp::Mod
        ) || (matches!(op, BinOp::Pipe | BinOp::Amp) && !both_bool);
        if needs_numbers && !(numeric(&tx) && numeric(&ty)) {
            self.error(
                span,
                "expected numbers on both sides",
                "an arithmetic or bitwise operator on a boolean, enum or scalarset",
            );
            return None;
        }
        let logic = |f: fn(Box<Expr>, Box<Expr>) -> Expr, lw: &mut Self| -> L<(Expr, MTy)> {
            if !both_bool {
                lw.error(
                    span,
                    "expected booleans",
                    "a logical operator needs booleans on both sides",
                );
                return None;
            }
            Some((f(Box::new(x.clone()), Box::new(y.clone())), MTy::Bool))
        };
        if matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) {
            self.asymmetric_in(&tx, span, "an ordered comparison");
            self.asymmetric_in(&ty, span, "an ordered comparison");
        }
        let arith = |op: IntOp| (cmp(op, x.clone(), y.clone(), span), int.clone());
        Some(match op {
            BinOp::Implies => logic(Expr::Implies, self)?,
            BinOp::Or => logic(Expr::Or, self)?,
            BinOp::And => logic(Expr::And, self)?,
            BinOp::Pipe if both_bool => logic(Expr::Or, self)?,
            BinOp::Amp if both_bool => logic(Expr::And, self)?,
            BinOp::Pipe => arith(IntOp::BitOr),
            BinOp::Amp => arith(IntOp::BitAnd),
            BinOp::Xor => arith(IntOp::BitXor),
            BinOp::Eq | BinOp::Ne => {
                let len = self.flat_len(&tx);
                if tx.is_scalar() != ty.is_scalar() || len != self.flat_len(&ty) {
                    self.error(span, "comparing values of different types", "type mismatch");
                    return None;
                }
                if tx.is_scalar() {
                    self.conform(&tx, &ty, span, "a comparison with another type");
                }
                let len = if tx.is_scalar() { 1 } else { len };
                (
                    Expr::Eq {
                        len,
                        negate: op == BinOp::Ne,
                        a: Box::new(x),
                        b: Box::new(y),
                    },
                    MTy::Bool,
                )
            }
            BinOp::Lt => (cmp(IntOp::Lt, x, y, span), MTy::Bool),
            BinOp::Le => (cmp(IntOp::Le, x, y, span), MTy::Bool),
            BinOp::Gt => (cmp(IntOp::Gt, x, y, span), MTy::Bool),
            BinOp::Ge => (cmp(IntOp::Ge, x, y, span), MTy::Bool),
            // A negative count shifts the other way, and a count of 64 or
            // more either way gives 0 (Rumur's `lsh`/`rsh` on 64-bit values).
            BinOp::Shl | BinOp::Shr => {
                let (fwd, back) = if op == BinOp::Shl {
                    (IntOp::Shl, IntOp::Shr)
                } else {
                    (IntOp::Shr, IntOp::Shl)
                };
                let nonneg = cmp(IntOp::Ge, y.clone(), Expr::Int(0), span);
                let neg = Expr::Neg(Box::new(y.clone()), span);
                let shifted = Expr::If {
                    cond: Box::new(nonneg),
                    then: Box::new(cmp(fwd, x.clone(), y.clone(), span)),
                    otherwise: Box::new(cmp(back, x.clone(), neg, span)),
                    len: 1,
                };
                let past = Expr::Or(
                    Box::new(cmp(IntOp::Ge, y.clone(), Expr::Int(64), span)),
                    Box::new(cmp(IntOp::Le, y.clone(), Expr::Int(-64), span)),
                );
                let x2 = Expr::If {
                    cond: Box::new(past),
                    then: Box::new(Expr::Int(0)),
                    otherwise: Box::new(shifted),
                    len: 1,
                };
                (x2, int)
            }
            BinOp::Add => arith(IntOp::Add),
            BinOp::Sub => arith(IntOp::Sub),
            BinOp::Mul => arith(IntOp::Mul),
            BinOp::Div => arith(IntOp::Quot),
            BinOp::Mod => arith(IntOp::Rem),
        })
    }

    /// The procedure or function `f` names, seen from where it is called:
    /// a body may call only what was declared before it (Murphi's order).
    fn callee(&mut self, f: &ast::Ident) -> L<&'a ast::Function> {
        let Some((index, func)) = self.functions.get(&f.name).copied() else {
            self.error(
                f.span,
                format!("unknown procedure or function `{}`", f.name),
                "not declared before this use",
            );
            return None;
        };
        let caller = self
            .inlining
            .last()
            .and_then(|n| self.functions.get(n))
            .map(|(i, _)| *i);
        if caller.is_some_and(|c| index > c) {
            self.error(
                f.span,
                format!("`{}` is used before its declaration", f.name),
                "declared after the function that calls it",
            );
            return None;
        }
        Some(func)
    }

    /// The place of `e` when it is a variable (a designator of one), else
    /// `None`, with no diagnostic either way.
    fn variable(&mut self, e: &ast::Expr) -> Option<Place> {
        self.variable_typed(e).map(|(p, _)| p)
    }

    /// [`Self::variable`] with its type.
    fn variable_typed(&mut self, e: &ast::Expr) -> Option<(Place, MTy)> {
        fn designator(e: &ast::Expr) -> bool {
            match e {
                ast::Expr::Id(_) => true,
                ast::Expr::Field(a, ..) | ast::Expr::Index(a, _, _) => designator(a),
                _ => false,
            }
        }
        if !designator(e) {
            return None;
        }
        let before = self.diagnostics.len();
        let place = self.place(e);
        self.diagnostics.truncate(before);
        place
    }

    /// Each `var` parameter's argument must be a variable (a designator),
    /// as Murphi has it: `f(42)` for `function f(var y: T)` is an error.
    fn var_arguments(&mut self, func: &ast::Function, args: &[ast::Expr]) -> L<()> {
        let mut ok = true;
        for (p, a) in func.params.iter().zip(args) {
            // A designator of a constant (`true`) is no variable either.
            if p.by_ref && self.variable(a).is_none() {
                self.error(
                    a.span(),
                    format!(
                        "`{}` is a `var` parameter: its argument must be a variable",
                        p.name.name
                    ),
                    "not a variable",
                );
                ok = false;
            }
        }
        ok.then_some(())
    }

    /// A function call, inlined: its body as one expression (`returns`),
    /// value parameters bound by `let`, `var` parameters to their places.
    fn call_function(&mut self, f: &ast::Ident, args: &[ast::Expr], span: Span) -> L<(Expr, MTy)> {
        let func = self.callee(f)?;
        let Some(ret) = &func.ret else {
            self.error(
                f.span,
                format!("`{}` is a procedure", f.name),
                "a procedure has no value",
            );
            return None;
        };
        if func.params.len() != args.len() {
            self.error(
                span,
                format!("`{}` takes {} argument(s)", f.name, func.params.len()),
                "wrong number of arguments",
            );
            return None;
        }
        self.var_arguments(func, args)?;
        let locals = func.decls.iter().any(|d| matches!(d, Decl::Var(..)));
        let expression = if locals {
            None
        } else {
            returns(&func.body).ok()
        };
        let Some(result) = expression else {
            // Its statements run before the statement that calls it, where
            // that is sure to evaluate the call; elsewhere (a guard, a
            // property, a branch) inside the expression, on locals only.
            let hoist = self.hoist.is_some() && self.conditional == 0;
            return self.statement_call(func, f, args, ret, span, hoist);
        };
        let ret = self.ty(ret)?;
        if let Some(fail) = self.recursion(f, span)? {
            return Some((self.failing(fail, &ret), ret));
        }
        // The arguments, in the caller's scope and as the caller.
        let mut lets = Vec::new();
        let mut params = Vec::new();
        for (p, a) in func.params.iter().zip(args) {
            let t = self.ty(&p.ty)?;
            if p.by_ref {
                let (pl, ta) = self.place(a)?;
                self.conform(&t, &ta, a.span(), "an argument of another type");
                self.same_var_type(&t, &ta, a.span())?;
                params.push((p, pl, t));
            } else {
                let (v, ta) = match self.variable_typed(a) {
                    // Copied as it is (undefined too), unless its numbering
                    // changes: then read (and checked) like any value.
                    Some((src, ta)) if !Self::converts(&ta, &t) => (Expr::Read(src), ta),
                    _ => self.expr(a)?,
                };
                self.conform(&t, &ta, a.span(), "an argument of another type");
                let v = self.convert(v, &ta, &t, a.span());
                let len = self.flat_len(&t);
                let at = self.alloc(len);
                lets.push((at, len, v));
                params.push((p, read(Root::Local, at, len), t));
            }
        }
        let callers = self.scopes.split_off(1);
        self.scopes.push(HashMap::new());
        self.inlining.push(f.name.clone());
        for (p, pl, t) in params {
            self.bind(&p.name, Binding::Place(pl, t));
        }
        let r = (|| {
            for d in &func.decls {
                self.declare(d)?;
            }
            self.expr(&result)
        })();
        self.inlining.pop();
        self.scopes.truncate(1);
        self.scopes.extend(callers);
        let (x, tx) = r?;
        self.conform(&ret, &tx, result.span(), "a result of another type");
        let mut x = self.convert(x, &tx, &ret, result.span());
        for (at, len, v) in lets.into_iter().rev() {
            x = Expr::Let {
                local: at,
                len,
                value: Box::new(v),
                body: Box::new(x),
            };
        }
        Some((x, ret))
    }

    /// Binds a quantifier's variable for `body`; returns its local, domain,
    /// statements that compute the variable from the domain's value (a
    /// stepped range), and the body.
    fn quantified<T>(
        &mut self,
        q: &Quantifier,
        body: impl FnOnce(&mut Self) -> L<T>,
    ) -> L<(u32, Domain, Vec<Stmt>, T)> {
        self.scopes.push(HashMap::new());
        let r = (|| match q {
            Quantifier::Type(n, t) => {
                let t = self.ty(t)?;
                if !t.is_scalar() {
                    self.error(
                        n.span,
                        "a quantifier ranges over a scalar type",
                        "not a scalar",
                    );
                    return None;
                }
                let at = self.alloc(1);
                self.bind(n, Binding::Value(at, t.clone()));
                let domain = Domain::Type(self.defined_ty(&t));
                Some((at, domain, Vec::new(), body(self)?))
            }
            Quantifier::Range(n, from, to, by) => {
                let constant = |lw: &mut Self, e: &ast::Expr| -> L<i64> {
                    let (x, _) = lw.expr(e)?;
                    let v = const_value(&x);
                    if v.is_none() {
                        lw.unsupported(e.span(), "a loop bound that is not a constant");
                    }
                    v
                };
                let from = constant(self, from)?;
                let to = constant(self, to)?;
                let by = match by {
                    Some(b) => constant(self, b)?,
                    None => 1,
                };
                if by == 0 {
                    self.error(n.span, "a step of 0", "the loop would not end");
                    return None;
                }
                let count = if (by > 0 && from > to) || (by < 0 && from < to) {
                    0
                } else {
                    (to - from) / by + 1
                };
                if count == 0 {
                    self.error(
                        n.span,
                        format!("the loop from {from} to {to} by {by} never reaches its end"),
                        "the step goes the other way",
                    );
                    return None;
                }
                let k = self.alloc(1);
                let at = self.alloc(1);
                let value = cmp(
                    IntOp::Add,
                    Expr::Int(from),
                    cmp(IntOp::Mul, Expr::Local(k), Expr::Int(by), n.span),
                    n.span,
                );
                let (lo, hi) = (from.min(to), from.max(to));
                self.bind(n, Binding::Value(at, MTy::Range(lo, hi)));
                let pre = vec![Stmt::Let { local: at, len: 1, value }];
                Some((k, Domain::Type(Ty::Range(0, count - 1)), pre, body(self)?))
            }
        })();
        self.scopes.pop();
        r
    }

    /// Whether a `for`'s bounds and step fold to constants (else the loop
    /// is a `while` over a counter: [`Self::for_dynamic`]).
    fn constant_bounds(
        &mut self,
        from: &ast::Expr,
        to: &ast::Expr,
        by: Option<&ast::Expr>,
    ) -> bool {
        let mut probe = |e: &ast::Expr| {
            let before = self.diagnostics.len();
            let folded = self.expr(e).is_some_and(|(x, _)| const_value(&x).is_some());
            // Lowered again where it is used: its diagnostics once.
            self.diagnostics.truncate(before);
            folded
        };
        probe(from) && probe(to) && by.is_none_or(&mut probe)
    }

    /// `for i := a to b by c` whose bounds or step are computed: `a`, `b`
    /// and `c` evaluated once on entry (a step of 0 is an error when it is
    /// run, as Rumur has it), then a `while` over the counter, which
    /// Murphi's iteration limit bounds like any `while`.
    #[allow(clippy::too_many_arguments)]
    fn for_dynamic(
        &mut self,
        n: &ast::Ident,
        from: &ast::Expr,
        to: &ast::Expr,
        by: Option<&ast::Expr>,
        body: &[ast::Stmt],
        span: Span,
        out: &mut Vec<Stmt>,
    ) -> L<()> {
        let int = MTy::Range(i64::MIN, i64::MAX);
        let (from, _) = self.expr(from)?;
        let (to, _) = self.expr(to)?;
        let by = match by {
            Some(b) => self.expr(b)?.0,
            None => Expr::Int(1),
        };
        let (at, end, step) = (self.alloc(1), self.alloc(1), self.alloc(1));
        out.push(Stmt::Let { local: at, len: 1, value: from });
        out.push(Stmt::Let { local: end, len: 1, value: to });
        out.push(Stmt::Let { local: step, len: 1, value: by });
        out.push(Stmt::Assert {
            cond: Expr::Eq {
                len: 1,
                negate: true,
                a: Box::new(Expr::Local(step)),
                b: Box::new(Expr::Int(0)),
            },
            kind: ErrorKind::Eval,
            message: "a `for` loop's step is 0".into(),
            span,
        });
        let up = cmp(IntOp::Gt, Expr::Local(step), Expr::Int(0), span);
        let cond = Expr::If {
            cond: Box::new(up),
            then: Box::new(cmp(IntOp::Le, Expr::Local(at), Expr::Local(end), span)),
            otherwise: Box::new(cmp(IntOp::Ge, Expr::Local(at), Expr::Local(end), span)),
            len: 1,
        };
        self.scopes.push(HashMap::new());
        self.bind(n, Binding::Value(at, int));
        let inner = self.stmts(body);
        self.scopes.pop();
        let mut inner = inner?;
        inner.push(Stmt::Assign {
            place: read(Root::Local, at, 1),
            value: cmp(IntOp::Add, Expr::Local(at), Expr::Local(step), span),
            bounds: vec![(i64::MIN, i64::MAX)],
            span,
        });
        out.push(Stmt::While { cond, body: inner, limit: WHILE_LIMIT, span });
        Some(())
    }

    // ---- statements ----

    fn stmts(&mut self, ss: &[ast::Stmt]) -> L<Vec<Stmt>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (i, s) in ss.iter().enumerate() {
            match self.stmt(s, &mut out) {
                Some(()) => {}
                None => ok = false,
            }
            // After a statement that may return, the rest runs unless it did.
            if let Some(flag) = self.returned
                && has_return(s)
            {
                let rest = self.stmts(&ss[i + 1..]);
                if let Some(rest) = rest.filter(|r| !r.is_empty()) {
                    out.push(not_returned(flag, rest));
                }
                break;
            }
        }
        ok.then_some(out)
    }

    /// A body's statements, its `return`s resolved into branches where
    /// they can be (`strip_returns`); else (a `return` in a loop or an
    /// `alias`) through a local flag that a `return` sets and the rest of
    /// the body tests.
    fn body(&mut self, body: &[ast::Stmt]) -> L<Vec<Stmt>> {
        match strip_returns(body) {
            Ok(b) => {
                let saved = self.returned.take();
                let r = self.stmts(&b);
                self.returned = saved;
                r
            }
            Err(_) => {
                let flag = self.alloc(1);
                let saved = self.returned.replace(flag);
                let r = self.stmts(body);
                self.returned = saved;
                let mut out = vec![Stmt::Let { local: flag, len: 1, value: Expr::Int(0) }];
                out.extend(r?);
                Some(out)
            }
        }
    }

    fn assign_to(&mut self, p: Place, t: &MTy, value: Expr, span: Span) -> Stmt {
        let bounds = if t.is_scalar() {
            vec![t.bounds()]
        } else {
            let mut b = Vec::new();
            self.types.slot_bounds(&self.ir_ty(t), &mut b);
            b
        };
        Stmt::Assign { place: p, value, bounds, span }
    }

    /// Sets every slot of `p` to its marker (`undefine`) or its type's
    /// first value (`clear`).
    fn fill(&mut self, p: Place, t: &MTy, clear: bool, span: Span) -> Stmt {
        let mut markers = Vec::new();
        self.markers_of(t, &mut markers);
        let mut b = Vec::new();
        self.types.slot_bounds(&self.ir_ty(t), &mut b);
        let values: Vec<i64> = if clear {
            b.iter()
                .zip(&markers)
                .map(|((lo, _), m)| if *lo == *m { lo + 1 } else { *lo })
                .collect()
        } else {
            markers
        };
        let value = if values.len() == 1 {
            Expr::Int(values[0])
        } else {
            Expr::Lit(values)
        };
        Stmt::Assign { place: p, value, bounds: b, span }
    }

    /// One statement, after the statements its hoisted function calls need.
    fn stmt(&mut self, s: &ast::Stmt, out: &mut Vec<Stmt>) -> L<()> {
        let saved = self.hoist.replace(Vec::new());
        let saved_conditional = std::mem::replace(&mut self.conditional, 0);
        let mut here = Vec::new();
        let r = self.stmt_itself(s, &mut here);
        let hoisted = std::mem::replace(&mut self.hoist, saved).unwrap_or_default();
        self.conditional = saved_conditional;
        out.extend(hoisted);
        out.extend(here);
        r
    }

    /// Lowers `f` with no call hoisted out of it.
    fn unhoisted<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.conditional += 1;
        let r = f(self);
        self.conditional -= 1;
        r
    }

    fn stmt_itself(&mut self, s: &ast::Stmt, out: &mut Vec<Stmt>) -> L<()> {
        match s {
            ast::Stmt::Assign(d, e, span) => {
                let (p, t) = self.place(d)?;
                let (v, vt) = self.expr(e)?;
                if t.is_scalar() != vt.is_scalar() {
                    self.error(
                        *span,
                        "the value's type does not match the variable's",
                        "type mismatch",
                    );
                    return None;
                }
                let v = if t.is_scalar() {
                    self.conform(&t, &vt, *span, "an assignment of another type");
                    self.convert(v, &vt, &t, *span)
                } else {
                    v
                };
                let st = self.assign_to(p, &t, v, *span);
                out.push(st);
            }
            ast::Stmt::If(clauses, _) => {
                let mut chain = Vec::new();
                for (k, (c, body)) in clauses.iter().enumerate().rev() {
                    let body = self.stmts(body)?;
                    chain = match c {
                        None => body,
                        // Only the first condition is always evaluated.
                        Some(c) => vec![Stmt::If {
                            cond: if k == 0 {
                                self.boolean(c)?
                            } else {
                                self.unhoisted(|lw| lw.boolean(c))?
                            },
                            then: body,
                            otherwise: chain,
                        }],
                    };
                }
                out.extend(chain);
            }
            ast::Stmt::Switch(e, cases, span) => {
                let (x, tx) = self.scalar(e)?;
                let at = self.alloc(1);
                out.push(Stmt::Let { local: at, len: 1, value: x });
                let mut chain = Vec::new();
                for (values, body) in cases.iter().rev() {
                    let body = self.stmts(body)?;
                    if values.is_empty() {
                        chain = body;
                        continue;
                    }
                    let mut cond = None;
                    for v in values {
                        let (y, ty) = self.scalar(v)?;
                        self.conform(&tx, &ty, v.span(), "a case of another type");
                        let (x, y) = self.unify(Expr::Local(at), &tx, y, &ty, v.span());
                        let t = eq(x, y, false);
                        cond = Some(match cond {
                            None => t,
                            Some(c) => Expr::Or(Box::new(c), Box::new(t)),
                        });
                    }
                    let cond = cond.unwrap_or(Expr::Int(0));
                    chain = vec![Stmt::If { cond, then: body, otherwise: chain }];
                }
                let _ = span;
                out.extend(chain);
            }
            ast::Stmt::For(Quantifier::Range(n, from, to, by), body, span)
                if !self.constant_bounds(from, to, by.as_ref()) =>
            {
                self.for_dynamic(n, from, to, by.as_ref(), body, *span, out)?;
            }
            ast::Stmt::For(q, ast_body, _) => {
                let (local, domain, pre, mut body) = self.quantified(q, |lw| lw.stmts(ast_body))?;
                // After a `return`, the remaining iterations do nothing.
                if let Some(flag) = self.returned
                    && ast_body.iter().any(has_return)
                {
                    body = vec![not_returned(flag, body)];
                }
                let mut inner = pre;
                inner.extend(body);
                out.push(Stmt::For { local, len: 1, domain, body: inner });
            }
            ast::Stmt::Alias(aliases, body, _) => {
                self.scopes.push(HashMap::new());
                let r = (|| {
                    self.aliases(aliases)?;
                    self.stmts(body)
                })();
                self.scopes.pop();
                out.extend(r?);
            }
            ast::Stmt::Call(f, args, span) => self.call_procedure(f, args, *span, out)?,
            ast::Stmt::Clear(d, span) | ast::Stmt::Undefine(d, span) => {
                let (p, t) = self.place(d)?;
                let clear = matches!(s, ast::Stmt::Clear(..));
                if clear {
                    // `clear` sets a scalarset to its first value.
                    self.asymmetric_in(&t, *span, "`clear`");
                }
                let st = self.fill(p, &t, clear, *span);
                out.push(st);
            }
            ast::Stmt::Error(msg, span) => out.push(Stmt::Assert {
                cond: Expr::Int(0),
                kind: ErrorKind::Assert,
                message: msg.clone(),
                span: *span,
            }),
            ast::Stmt::Property(Category::Assert, name, e, span) => {
                let cond = self.boolean(e)?;
                out.push(Stmt::Assert {
                    cond,
                    kind: ErrorKind::Assert,
                    message: name.clone().unwrap_or_else(|| "assertion failed".into()),
                    span: *span,
                });
            }
            ast::Stmt::Property(Category::Liveness, _, _, span) => {
                self.error(
                    *span,
                    "`liveness` is not a statement",
                    "a liveness property belongs at the top level or in a ruleset",
                );
                return None;
            }
            ast::Stmt::Property(Category::Assume, _, _, span) => {
                unreachable!("assume statements are rewritten first ({span:?})")
            }
            ast::Stmt::Property(Category::Cover, name, e, span) => {
                let cond = self.unhoisted(|lw| lw.boolean(e))?;
                let key = (span.start, span.end);
                let reachable = match self.cover_statements.get(&key) {
                    Some(&r) => r,
                    None => {
                        // Met by the statement alone: as a state predicate
                        // it never holds.
                        let r = self.reachable(ir::Property {
                            name: label_or(name, "cover"),
                            expr: Expr::Int(0),
                            frame_len: 0,
                            span: *span,
                        })?;
                        self.cover_statements.insert(key, r);
                        r
                    }
                };
                out.push(Stmt::Cover { reachable, cond });
            }

            ast::Stmt::Put(..) => {}
            ast::Stmt::While(c, ast_body, span) => {
                let mut cond = self.unhoisted(|lw| lw.boolean(c))?;
                let body = self.stmts(ast_body)?;
                // A `return` ends the loop.
                if let Some(flag) = self.returned
                    && ast_body.iter().any(has_return)
                {
                    cond = and(Expr::Not(Box::new(Expr::Local(flag))), cond);
                }
                out.push(Stmt::While { cond, body, limit: WHILE_LIMIT, span: *span });
            }
            ast::Stmt::Return(None, _) if self.returned.is_some() => {
                let flag = self.returned.expect("checked");
                out.push(Stmt::Let { local: flag, len: 1, value: Expr::Int(1) });
            }
            ast::Stmt::Return(_, span) => {
                self.unsupported(*span, "`return` outside the end of a procedure");
                return None;
            }
        }
        Some(())
    }

    fn aliases(&mut self, aliases: &[(ast::Ident, ast::Expr)]) -> L<()> {
        for (n, e) in aliases {
            let designator = matches!(
                e,
                ast::Expr::Id(_) | ast::Expr::Field(..) | ast::Expr::Index(..)
            ) && matches!(self.root_binding(e), Some(Binding::Place(..)));
            let b = if designator {
                let (p, t) = self.place(e)?;
                Binding::Place(p, t)
            } else {
                let (x, t) = self.expr(e)?;
                Binding::Expr(x, t)
            };
            self.bind(n, b);
        }
        Some(())
    }

    fn root_binding(&self, e: &ast::Expr) -> Option<Binding> {
        match e {
            ast::Expr::Id(n) => self.lookup(&n.name),
            ast::Expr::Field(b, ..) | ast::Expr::Index(b, ..) => self.root_binding(b),
            _ => None,
        }
    }

    /// A procedure inlined: `var` parameters are the arguments' places,
    /// others locals holding the arguments' values.
    fn call_procedure(
        &mut self,
        f: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
        out: &mut Vec<Stmt>,
    ) -> L<()> {
        let proc_ = self.callee(f)?;
        if proc_.params.len() != args.len() {
            self.error(
                span,
                format!("`{}` takes {} argument(s)", f.name, proc_.params.len()),
                "wrong number of arguments",
            );
            return None;
        }
        self.var_arguments(proc_, args)?;
        if let Some(fail) = self.recursion(f, span)? {
            out.push(fail);
            return Some(());
        }
        // A function called as a procedure (Rumur's extension): its value is
        // not used, so `return e` returns without computing `e`.
        let body = if proc_.ret.is_some() {
            proc_.body.iter().map(drop_return_values).collect()
        } else {
            proc_.body.clone()
        };
        self.inline_body(proc_, f, args, &body, None, out)
    }

    /// A function whose value needs statements: its body, with `return e`
    /// storing `e` in a local that the call reads, runs before the
    /// statement that calls it (`hoist`), or else inside the expression as
    /// an `Expr::Block` (which may write locals only).
    fn statement_call(
        &mut self,
        func: &'a ast::Function,
        f: &ast::Ident,
        args: &[ast::Expr],
        ret: &ast::TypeExpr,
        span: Span,
        hoist: bool,
    ) -> L<(Expr, MTy)> {
        let t = self.ty(ret)?;
        if let Some(fail) = self.recursion(f, span)? {
            return Some((self.failing(fail, &t), t));
        }
        let len = self.flat_len(&t);
        let at = self.alloc(len);
        let place = read(Root::Local, at, len);
        // A name no Murphi identifier can be.
        let name = format!("`{}", f.name);
        let body = result_returns(&func.body, &name);
        let mut stmts = Vec::new();
        self.inline_body(
            func,
            f,
            args,
            &body,
            Some((name, place.clone(), t.clone())),
            &mut stmts,
        )?;
        let value = if t.is_scalar() {
            Expr::Checked {
                value: Box::new(Expr::Read(place)),
                forbidden: t.marker(),
                span,
            }
        } else {
            Expr::Read(place)
        };
        if hoist {
            self.hoist.get_or_insert_with(Vec::new).extend(stmts);
            return Some((value, t));
        }
        if ir::writes_state(&stmts) {
            self.unsupported(
                span,
                "a function that writes state variables, called where it may not be evaluated (a guard, a property, a branch)",
            );
            return None;
        }
        Some((Expr::Block { stmts, value: Box::new(value) }, t))
    }

    /// A procedure's (or function's) body inlined at a call: parameters
    /// bound, locals declared, `return`s resolved into branches; `result`
    /// binds a function's result variable.
    fn inline_body(
        &mut self,
        proc_: &'a ast::Function,
        f: &ast::Ident,
        args: &[ast::Expr],
        body: &[ast::Stmt],
        result: Option<(String, Place, MTy)>,
        out: &mut Vec<Stmt>,
    ) -> L<()> {
        // The arguments, in the caller's scope and as the caller (names and
        // the order of declarations are the caller's).
        let params = self.arguments(proc_, args, out)?;
        // Lexical scope: the globals and the function's own names, none of
        // the caller's.
        let callers = self.scopes.split_off(1);
        self.scopes.push(HashMap::new());
        self.inlining.push(f.name.clone());
        if let Some((name, place, t)) = result {
            let id = ast::Ident { name, span: f.span };
            self.bind(&id, Binding::Place(place, t));
        }
        for (p, pl, t) in params {
            self.bind(&p.name, Binding::Place(pl, t));
        }
        let r = (|| {
            self.local_decls(&proc_.decls, out)?;
            self.body(body)
        })();
        self.inlining.pop();
        self.scopes.truncate(1);
        self.scopes.extend(callers);
        out.extend(r?);
        Some(())
    }

    /// Each parameter's place for a call: a `var` parameter's argument
    /// itself; a value parameter's copy in a new local (a variable copied as
    /// it is, undefined parts included, as Rumur passes it), its statement
    /// appended to `out`.
    fn arguments(
        &mut self,
        proc_: &'a ast::Function,
        args: &[ast::Expr],
        out: &mut Vec<Stmt>,
    ) -> L<Vec<(&'a ast::Param, Place, MTy)>> {
        let mut params = Vec::new();
        for (p, a) in proc_.params.iter().zip(args) {
            let t = self.ty(&p.ty)?;
            if p.by_ref {
                let (pl, ta) = self.place(a)?;
                self.conform(&t, &ta, a.span(), "an argument of another type");
                self.same_var_type(&t, &ta, a.span())?;
                params.push((p, pl, t));
                continue;
            }
            let len = self.flat_len(&t);
            let at = self.alloc(len);
            let pl = read(Root::Local, at, len);
            let st = match self.variable_typed(a) {
                Some((src, ta)) if !Self::converts(&ta, &t) => {
                    self.conform(&t, &ta, a.span(), "an argument of another type");
                    let mut bounds = Vec::new();
                    self.types.slot_bounds(&self.ir_ty(&t), &mut bounds);
                    Stmt::Assign {
                        place: pl.clone(),
                        value: Expr::Read(src),
                        bounds,
                        span: a.span(),
                    }
                }
                _ => {
                    let (v, ta) = self.expr(a)?;
                    self.conform(&t, &ta, a.span(), "an argument of another type");
                    let v = self.convert(v, &ta, &t, a.span());
                    self.assign_to(pl.clone(), &t, v, a.span())
                }
            };
            out.push(st);
            params.push((p, pl, t));
        }
        Some(params)
    }

    /// A rule's or procedure's own declarations; its variables start
    /// undefined.
    fn local_decls(&mut self, decls: &[Decl], out: &mut Vec<Stmt>) -> L<()> {
        for d in decls {
            self.declare(d)?;
            if let Decl::Var(n, _) = d
                && let Some(Binding::Place(p, t)) = self.lookup(&n.name)
            {
                let st = self.fill(p, &t, false, n.span);
                out.push(st);
            }
        }
        Some(())
    }

    // ---- rules ----

    /// With `assumes`, the model's `assume` statements set the hidden
    /// variable [`assume::FLAG`] (see there).
    pub fn lower(&mut self, prog: &'a Program, name: &str, assumes: bool) -> L<Model> {
        // In order: a name is used after its declaration, as in Murphi.
        let mut out = Rules::default();
        if assumes {
            self.assumption_flag(&mut out)?;
        }
        for n in &prog.nodes {
            match n {
                Node::Decl(d) => {
                    if self.declare(d).is_none() {
                        // Its error is reported: uses of the name are not.
                        let name = match d {
                            Decl::Const(n, _) | Decl::Type(n, _) | Decl::Var(n, _) => n,
                        };
                        self.broken.insert(name.name.clone());
                    }
                }
                Node::Function(f) => {
                    let index = self.functions.len();
                    let next = self.global_order.len();
                    self.global_order.entry(f.name.name.clone()).or_insert(next);
                    if self
                        .functions
                        .insert(f.name.name.clone(), (index, f))
                        .is_some()
                        || self.declared_twice(&f.name)
                    {
                        self.error(
                            f.name.span,
                            format!("`{}` is declared twice", f.name.name),
                            "a second declaration",
                        );
                    }
                    self.check_function(f);
                }
                Node::Rule(r) => self.rule(r, &mut Vec::new(), &mut out),
            }
        }
        if !self.diagnostics.is_empty() {
            // A function's error is found where it is declared and at
            // each call: once is enough.
            let mut seen = std::collections::HashSet::new();
            self.diagnostics
                .retain(|d| seen.insert((d.message.clone(), format!("{:?}", d.labels.first()))));
            return None;
        }
        // Rumur checks invariants only in states that satisfy the
        // assumptions (which also prune the search, as constraints).
        let assumed = out.constraints.iter().map(|c| c.expr.clone()).reduce(and);
        if let Some(a) = assumed {
            let frame = out
                .constraints
                .iter()
                .map(|c| c.frame_len)
                .max()
                .unwrap_or(0);
            for inv in &mut out.invariants {
                inv.expr = Expr::Implies(Box::new(a.clone()), Box::new(inv.expr.clone()));
                inv.frame_len = inv.frame_len.max(frame);
            }
            // A cover is hit only in a state the assumptions allow.
            for c in &mut self.reachables {
                c.expr = and(a.clone(), c.expr.clone());
                c.frame_len = c.frame_len.max(frame);
            }
        }
        // No startstate: no initial state, nothing to explore (as Rumur).
        let init = if out.starts.is_empty() {
            Rule {
                name: "startstate".into(),
                params: Vec::new(),
                guard: Some(Expr::Int(0)),
                body: Vec::new(),
                frame_len: 0,
                instances: 1,
                span: Span::default(),
            }
        } else {
            combine_starts(out.starts)
        };
        let mut instance_base = vec![0u64];
        for r in &out.rules {
            let next = instance_base[instance_base.len() - 1].saturating_add(r.instances);
            if next > u32::MAX as u64 {
                self.error(r.span, "too many rule instances", "more than 2^32 in all");
                return None;
            }
            instance_base.push(next);
        }
        let state_len = self.state_len;
        let init_values = vec![Stmt::Assign {
            place: read(Root::State, 0, state_len),
            value: Expr::Lit(self.markers.clone()),
            bounds: self.bounds.clone(),
            span: Span::default(),
        }];
        Some(Model {
            name: name.to_string(),
            consts: self.consts.clone(),
            types: std::mem::take(&mut self.types),
            vars: std::mem::take(&mut self.vars),
            state_len,
            bounds: std::mem::take(&mut self.bounds),
            init_values: if state_len == 0 {
                Vec::new()
            } else {
                init_values
            },
            init_frame_len: 0,
            processes: Vec::new(),
            network: None,
            inits: vec![init],
            rules: out.rules,
            invariants: out.invariants,
            reachables: std::mem::take(&mut self.reachables),
            constraints: out.constraints,
            terminals: Vec::new(),
            temporals: out.temporals,
            fairness: Vec::new(),
            instance_base,
            // CMurphi's and Rumur's default deadlock.
            deadlock: ir::Deadlock::Stuttering,
        })
    }

    /// Recursion, inlined to a depth: `Some` statement that fails when it
    /// runs, where a call of `f` is [`RECURSION_DEPTH`] calls of it deep
    /// already (so a deeper recursion is an error, never a wrong answer);
    /// `None` to inline the call. A recursion that branches so much that
    /// inlining it would take more than [`RECURSION_INLINES`] bodies is
    /// refused.
    fn recursion(&mut self, f: &ast::Ident, span: Span) -> L<Option<Stmt>> {
        if self.inlining.is_empty() {
            self.recursive_inlines = 0;
        }
        let depth = self.inlining.iter().filter(|n| **n == f.name).count();
        if depth == 0 {
            return Some(None);
        }
        self.recursive_inlines += 1;
        if self.recursive_inlines > RECURSION_INLINES {
            self.unsupported(
                span,
                &format!("recursion that inlines more than {RECURSION_INLINES} calls"),
            );
            return None;
        }
        Some((depth >= RECURSION_DEPTH).then(|| Stmt::Assert {
            cond: Expr::Int(0),
            kind: ErrorKind::Eval,
            message: format!(
                "recursion deeper than {RECURSION_DEPTH} calls of `{}` (Fathom inlines calls)",
                f.name
            ),
            span,
        }))
    }

    /// An expression of type `t` that runs `fail` (and fails).
    fn failing(&self, fail: Stmt, t: &MTy) -> Expr {
        let mut markers = Vec::new();
        self.markers_of(t, &mut markers);
        let value = if markers.len() == 1 {
            Expr::Int(markers[0])
        } else {
            Expr::Lit(markers)
        };
        Expr::Block { stmts: vec![fail], value: Box::new(value) }
    }

    /// A reachable property (a `cover`): its index, unless the model has
    /// too many.
    fn reachable(&mut self, p: ir::Property) -> L<u32> {
        if self.reachables.len() >= ir::MAX_REACHABLES {
            self.error(
                p.span,
                format!("more than {} covers", ir::MAX_REACHABLES),
                "Fathom keeps at most this many reachability claims",
            );
            return None;
        }
        self.reachables.push(p);
        Some(self.reachables.len() as u32 - 1)
    }

    /// Lowers a function's body once where it is declared, for its
    /// diagnostics alone (Rumur rejects an error in a function that is
    /// never called, a use of a name declared after it among them); each
    /// call lowers it again. What only a call can lower (`return` in a
    /// loop, say) is left to the calls.
    fn check_function(&mut self, func: &'a ast::Function) {
        let saved = (
            self.frame,
            self.max_frame,
            self.hoist.take(),
            self.conditional,
        );
        self.frame = 0;
        self.recursive_inlines = 0;
        self.scopes.push(HashMap::new());
        self.inlining.push(func.name.name.clone());
        let _ = (|| {
            // The return type names no parameter (Rumur's type-shadowing2).
            let ret = match &func.ret {
                Some(ret) => Some(self.ty(ret)?),
                None => None,
            };
            for p in &func.params {
                let t = self.ty(&p.ty)?;
                let len = self.flat_len(&t);
                let at = self.alloc(len);
                self.bind(&p.name, Binding::Place(read(Root::Local, at, len), t));
            }
            let body = match ret {
                Some(t) => {
                    let len = self.flat_len(&t);
                    let at = self.alloc(len);
                    let name = format!("`{}", func.name.name);
                    let id = ast::Ident { name: name.clone(), span: func.name.span };
                    self.bind(&id, Binding::Place(read(Root::Local, at, len), t));
                    result_returns(&func.body, &name)
                }
                None => func.body.clone(),
            };
            let mut out = Vec::new();
            self.local_decls(&func.decls, &mut out)?;
            self.body(&body)
        })();
        self.inlining.pop();
        self.scopes.pop();
        (self.frame, self.max_frame, self.hoist, self.conditional) = saved;
    }

    /// The hidden variable that a failed `assume` statement sets, false
    /// initially (not undefined), and the constraint that it is clear.
    fn assumption_flag(&mut self, out: &mut Rules) -> L<()> {
        let at = Span::default();
        let id = |name: &str| ast::Ident { name: name.into(), span: at };
        let offset = self.state_len as usize;
        self.declare(&Decl::Var(id(assume::FLAG), TypeExpr::Named(id("boolean"))))?;
        assert_eq!(self.state_len as usize, offset + 1, "one slot");
        self.markers[offset] = 0;
        let clear = ast::Expr::Unary(UnOp::Not, Box::new(ast::Expr::Id(id(assume::FLAG))), at);
        let expr = self.boolean(&clear)?;
        out.constraints.push(ir::Property {
            name: "assume statements".into(),
            expr,
            frame_len: 0,
            span: at,
        });
        Some(())
    }

    /// A rule, with the parameters of the rulesets around it.
    fn rule(&mut self, r: &ast::Rule, params: &mut Vec<ir::Param>, out: &mut Rules) {
        match r {
            ast::Rule::Ruleset(quants, rules, _) => {
                self.scopes.push(HashMap::new());
                let depth = params.len();
                let mut ok = true;
                for q in quants {
                    match q {
                        Quantifier::Type(n, t) => match self.ty(t) {
                            Some(t) if t.is_scalar() => {
                                let local = params.len() as u32;
                                self.bind(n, Binding::Value(local, t.clone()));
                                params.push(ir::Param {
                                    name: n.name.clone(),
                                    ty: self.defined_ty(&t),
                                    local,
                                    len: 1,
                                    card: t.card(),
                                    hidden: false,
                                });
                            }
                            _ => ok = false,
                        },
                        Quantifier::Range(n, ..) => {
                            self.unsupported(n.span, "a ruleset over `:= a to b`");
                            ok = false;
                        }
                    }
                }
                if ok {
                    for r in rules {
                        self.rule(r, params, out);
                    }
                }
                params.truncate(depth);
                self.scopes.pop();
            }
            ast::Rule::Alias(aliases, rules, _) => {
                self.scopes.push(HashMap::new());
                self.frame = params.len() as u32;
                if self.aliases(aliases).is_some() {
                    for r in rules {
                        self.rule(r, params, out);
                    }
                }
                self.scopes.pop();
            }
            ast::Rule::Simple { name, guard, decls, body, span } => {
                let label = name
                    .clone()
                    .unwrap_or_else(|| format!("rule {}", out.rules.len() + 1));
                if let Some(rule) =
                    self.body_rule(label, params, guard.as_ref(), decls, body, *span)
                {
                    out.rules.push(rule);
                }
            }
            ast::Rule::Start { name, decls, body, span } => {
                let label = name.clone().unwrap_or_else(|| "startstate".into());
                if let Some(rule) = self.body_rule(label, params, None, decls, body, *span) {
                    out.starts.push(rule);
                }
            }
            ast::Rule::Property { category, name, expr, span } => {
                let label = name.clone().unwrap_or_else(|| "invariant".into());
                self.frame = params.len() as u32;
                self.max_frame = self.frame;
                let Some(mut x) = self.boolean(expr) else {
                    return;
                };
                // Rumur's liveness: from every reachable state a state
                // where it holds is reachable; one per ruleset binding.
                if *category == Category::Liveness {
                    out.temporals.push(ir::Temporal {
                        name: label_or(name, "liveness"),
                        kind: ir::TemporalKind::AlwaysPossibly,
                        params: params.to_vec(),
                        instances: params.iter().map(|p| p.card).product(),
                        p: x,
                        q: None,
                        frame_len: self.max_frame,
                        span: *span,
                    });
                    return;
                }
                // Inside rulesets: for every value of their parameters.
                for p in params.iter().rev() {
                    x = Expr::Quant {
                        kind: QuantKind::Forall,
                        local: p.local,
                        len: 1,
                        domain: Domain::Type(p.ty.clone()),
                        body: Box::new(x),
                    };
                }
                let prop = ir::Property {
                    name: label,
                    expr: x,
                    frame_len: self.max_frame,
                    span: *span,
                };
                match category {
                    Category::Assert => out.invariants.push(prop),
                    Category::Assume => out.constraints.push(prop),
                    // Some reachable state must satisfy it (Rumur: an error
                    // when a cover property is never hit).
                    Category::Cover => {
                        if params.is_empty() {
                            self.reachable(prop);
                        } else {
                            self.unsupported(*span, "`cover` inside a ruleset");
                        }
                    }
                    Category::Liveness => unreachable!("lowered above"),
                }
            }
        }
    }

    fn body_rule(
        &mut self,
        name: String,
        params: &[ir::Param],
        guard: Option<&ast::Expr>,
        decls: &[Decl],
        body: &[ast::Stmt],
        span: Span,
    ) -> Option<Rule> {
        self.frame = params.len() as u32;
        self.max_frame = self.frame;
        let guard = match guard {
            Some(g) => Some(self.boolean(g)?),
            None => None,
        };
        // `return` ends a rule or startstate early (what it changed stays);
        // with a value it is an error, as Rumur has it.
        if let Some(at) = body.iter().find_map(value_return) {
            self.error(
                at,
                "a rule or startstate cannot return a value",
                "`return` with a value",
            );
            return None;
        }
        self.scopes.push(HashMap::new());
        let mut stmts = Vec::new();
        let r = self
            .local_decls(decls, &mut stmts)
            .and_then(|()| self.body(body));
        self.scopes.pop();
        stmts.extend(r?);
        let instances = params.iter().map(|p| p.card).product();
        Some(Rule {
            name,
            params: params.to_vec(),
            guard,
            body: stmts,
            frame_len: self.max_frame,
            instances,
            span,
        })
    }
}

fn calls_function(e: &ast::Expr) -> bool {
    match e {
        ast::Expr::Call(..) => true,
        ast::Expr::Num(..) | ast::Expr::Id(_) => false,
        ast::Expr::Field(a, ..)
        | ast::Expr::Unary(_, a, _)
        | ast::Expr::IsUndefined(a, _)
        | ast::Expr::IsMember(a, ..) => calls_function(a),
        ast::Expr::Index(a, b, _) | ast::Expr::Binary(_, a, b, _) => {
            calls_function(a) || calls_function(b)
        }
        ast::Expr::Forall(_, b, _) | ast::Expr::Exists(_, b, _) => calls_function(b),
        ast::Expr::Ternary(a, b, c, _) => {
            calls_function(a) || calls_function(b) || calls_function(c)
        }
    }
}

/// A function body as one expression: `return e`, and `if`s whose
/// branches end in `return` (what follows an `if` without `else` is its
/// `else`). `Err`: where something else stands.
fn returns(body: &[ast::Stmt]) -> Result<ast::Expr, Span> {
    match body {
        [ast::Stmt::Return(Some(e), _), ..] => Ok(e.clone()),
        [ast::Stmt::Put(..), rest @ ..] => returns(rest),
        [ast::Stmt::If(clauses, span), rest @ ..] => {
            let mut otherwise = None;
            let mut arms = Vec::new();
            for (c, b) in clauses {
                let mut branch = b.clone();
                branch.extend_from_slice(rest);
                let e = returns(&branch)?;
                match c {
                    Some(c) => arms.push((c.clone(), e)),
                    None => otherwise = Some(e),
                }
            }
            let mut acc = match otherwise {
                Some(e) => e,
                None => returns(rest)?,
            };
            for (c, e) in arms.into_iter().rev() {
                acc = ast::Expr::Ternary(Box::new(c), Box::new(e), Box::new(acc), *span);
            }
            Ok(acc)
        }
        [s, ..] => Err(s.span()),
        [] => Err(Span::default()),
    }
}

/// A function body with each `return e` as `name := e; return`, at any
/// depth (`name` binds the function's result).
fn result_returns(body: &[ast::Stmt], name: &str) -> Vec<ast::Stmt> {
    let mut out = Vec::new();
    for s in body {
        match s {
            ast::Stmt::Return(Some(e), span) => {
                let target = ast::Expr::Id(ast::Ident { name: name.to_string(), span: *span });
                out.push(ast::Stmt::Assign(target, e.clone(), *span));
                out.push(ast::Stmt::Return(None, *span));
            }
            ast::Stmt::If(clauses, span) => out.push(ast::Stmt::If(
                clauses
                    .iter()
                    .map(|(c, b)| (c.clone(), result_returns(b, name)))
                    .collect(),
                *span,
            )),
            ast::Stmt::Switch(e, cases, span) => out.push(ast::Stmt::Switch(
                e.clone(),
                cases
                    .iter()
                    .map(|(v, b)| (v.clone(), result_returns(b, name)))
                    .collect(),
                *span,
            )),
            ast::Stmt::For(q, b, span) => {
                out.push(ast::Stmt::For(q.clone(), result_returns(b, name), *span))
            }
            ast::Stmt::While(c, b, span) => {
                out.push(ast::Stmt::While(c.clone(), result_returns(b, name), *span))
            }
            ast::Stmt::Alias(a, b, span) => {
                out.push(ast::Stmt::Alias(a.clone(), result_returns(b, name), *span))
            }
            other => out.push(other.clone()),
        }
    }
    out
}

/// The statement with `return e` as a plain `return`, at any depth.
fn drop_return_values(s: &ast::Stmt) -> ast::Stmt {
    let all = |b: &[ast::Stmt]| b.iter().map(drop_return_values).collect::<Vec<_>>();
    match s {
        ast::Stmt::Return(Some(_), span) => ast::Stmt::Return(None, *span),
        ast::Stmt::If(clauses, span) => ast::Stmt::If(
            clauses.iter().map(|(c, b)| (c.clone(), all(b))).collect(),
            *span,
        ),
        ast::Stmt::Switch(e, cases, span) => ast::Stmt::Switch(
            e.clone(),
            cases.iter().map(|(v, b)| (v.clone(), all(b))).collect(),
            *span,
        ),
        ast::Stmt::For(q, b, span) => ast::Stmt::For(q.clone(), all(b), *span),
        ast::Stmt::While(c, b, span) => ast::Stmt::While(c.clone(), all(b), *span),
        ast::Stmt::Alias(a, b, span) => ast::Stmt::Alias(a.clone(), all(b), *span),
        other => other.clone(),
    }
}

/// Where a `return` with a value stands in a statement, if anywhere.
fn value_return(s: &ast::Stmt) -> Option<Span> {
    match s {
        ast::Stmt::Return(Some(_), span) => Some(*span),
        ast::Stmt::If(clauses, _) => clauses.iter().flat_map(|(_, b)| b).find_map(value_return),
        ast::Stmt::Switch(_, cases, _) => cases.iter().flat_map(|(_, b)| b).find_map(value_return),
        ast::Stmt::For(_, b, _) | ast::Stmt::While(_, b, _) | ast::Stmt::Alias(_, b, _) => {
            b.iter().find_map(value_return)
        }
        _ => None,
    }
}

/// A procedure (rule, startstate) body without `return`s: what follows an
/// `if` or `switch` whose branch returns runs in its other branches.
/// `Err`: a `return` where this cannot be done (inside a loop or `alias`),
/// or with a value.
fn strip_returns(body: &[ast::Stmt]) -> Result<Vec<ast::Stmt>, Span> {
    let mut out = Vec::new();
    for (i, s) in body.iter().enumerate() {
        match s {
            ast::Stmt::Return(None, _) => return Ok(out),
            ast::Stmt::Return(Some(_), span) => return Err(*span),
            ast::Stmt::If(clauses, span)
                if clauses.iter().any(|(_, b)| b.iter().any(has_return)) =>
            {
                let rest = &body[i + 1..];
                let mut new = Vec::new();
                for (c, b) in clauses {
                    let mut branch = b.clone();
                    branch.extend_from_slice(rest);
                    new.push((c.clone(), strip_returns(&branch)?));
                }
                if clauses.iter().all(|(c, _)| c.is_some()) {
                    new.push((None, strip_returns(rest)?));
                }
                out.push(ast::Stmt::If(new, *span));
                return Ok(out);
            }
            ast::Stmt::Switch(e, cases, span)
                if cases.iter().any(|(_, b)| b.iter().any(has_return)) =>
            {
                let rest = &body[i + 1..];
                let mut new = Vec::new();
                for (values, b) in cases {
                    let mut branch = b.clone();
                    branch.extend_from_slice(rest);
                    new.push((values.clone(), strip_returns(&branch)?));
                }
                if cases.iter().all(|(values, _)| !values.is_empty()) {
                    new.push((Vec::new(), strip_returns(rest)?));
                }
                out.push(ast::Stmt::Switch(e.clone(), new, *span));
                return Ok(out);
            }
            s if has_return(s) => return Err(s.span()),
            s => out.push(s.clone()),
        }
    }
    Ok(out)
}

/// `rest` unless the body has returned (its flag is set).
fn not_returned(flag: u32, rest: Vec<Stmt>) -> Stmt {
    Stmt::If {
        cond: Expr::Not(Box::new(Expr::Local(flag))),
        then: rest,
        otherwise: Vec::new(),
    }
}

fn has_return(s: &ast::Stmt) -> bool {
    match s {
        ast::Stmt::Return(..) => true,
        ast::Stmt::If(clauses, _) => clauses.iter().any(|(_, b)| b.iter().any(has_return)),
        ast::Stmt::Switch(_, cases, _) => cases.iter().any(|(_, b)| b.iter().any(has_return)),
        ast::Stmt::For(_, b, _) | ast::Stmt::While(_, b, _) | ast::Stmt::Alias(_, b, _) => {
            b.iter().any(has_return)
        }
        _ => false,
    }
}

/// Murphi's startstates are alternatives; Fathom's `init`s compose. Two or
/// more become one rule whose parameter numbers every instance of every
/// startstate in order, and which binds that instance's ruleset parameters
/// (mixed radix, the first most significant) before its body.
fn combine_starts(mut starts: Vec<Rule>) -> Rule {
    if starts.len() == 1 {
        return starts.remove(0);
    }
    let k = starts.iter().map(|r| r.frame_len).max().unwrap_or(0);
    let total: u64 = starts.iter().map(|r| r.instances).sum();
    let span = starts[0].span;
    let mut chain = Vec::new();
    let mut bases = Vec::new();
    let mut base = 0u64;
    for r in &starts {
        bases.push(base);
        base += r.instances;
    }
    for (r, base) in starts.into_iter().zip(bases).rev() {
        let idx = Expr::Arith(
            IntOp::Sub,
            Box::new(Expr::Local(k)),
            Box::new(Expr::Int(base as i64)),
            span,
        );
        let mut body = Vec::new();
        let mut below = 1u64;
        for p in r.params.iter().rev() {
            let digit = Expr::Arith(
                IntOp::Rem,
                Box::new(Expr::Arith(
                    IntOp::Quot,
                    Box::new(idx.clone()),
                    Box::new(Expr::Int(below as i64)),
                    span,
                )),
                Box::new(Expr::Int(p.card as i64)),
                span,
            );
            let lo = match &p.ty {
                Ty::Range(lo, _) => *lo,
                _ => 0,
            };
            let value = Expr::Arith(IntOp::Add, Box::new(digit), Box::new(Expr::Int(lo)), span);
            body.push(Stmt::Let { local: p.local, len: 1, value });
            below *= p.card;
        }
        body.extend(r.body);
        let inside = Expr::Arith(
            IntOp::Lt,
            Box::new(Expr::Local(k)),
            Box::new(Expr::Int((base + r.instances) as i64)),
            span,
        );
        chain = vec![Stmt::If { cond: inside, then: body, otherwise: chain }];
    }
    Rule {
        name: "startstate".into(),
        params: vec![ir::Param {
            name: "startstate".into(),
            ty: Ty::Range(0, total as i64 - 1),
            local: k,
            len: 1,
            card: total,
            hidden: false,
        }],
        guard: None,
        body: chain,
        frame_len: k + 1,
        instances: total,
        span,
    }
}

#[derive(Default)]
struct Rules {
    rules: Vec<Rule>,
    starts: Vec<Rule>,
    invariants: Vec<ir::Property>,
    constraints: Vec<ir::Property>,
    temporals: Vec<ir::Temporal>,
}

/// "`what` is not supported yet", at `span`.
pub(crate) fn unsupported(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(span, format!("{what} is not supported yet"))
        .label("the Murphi front end does not lower this yet")
        .note("docs/murphi.md lists what is supported")
}

fn label_or(name: &Option<String>, default: &str) -> String {
    name.clone().unwrap_or_else(|| default.into())
}

/// The value of a constant expression, folded with the evaluator's
/// arithmetic (no state, no locals).
fn const_value(e: &Expr) -> Option<i64> {
    match e {
        Expr::Int(v) => Some(*v),
        Expr::Neg(a, _) => const_value(a)?.checked_neg(),
        Expr::Not(a) => Some(1 - const_value(a)?),
        Expr::Arith(op, a, b, _) => {
            let (a, b) = (const_value(a)?, const_value(b)?);
            match op {
                IntOp::Add => a.checked_add(b),
                IntOp::Sub => a.checked_sub(b),
                IntOp::Mul => a.checked_mul(b),
                IntOp::Quot => a.checked_div(b),
                IntOp::Rem => a.checked_rem(b),
                IntOp::BitAnd => Some(a & b),
                IntOp::BitOr => Some(a | b),
                IntOp::BitXor => Some(a ^ b),
                IntOp::Shl => {
                    a.checked_mul(1i64.checked_shl(u32::try_from(b).ok().filter(|b| *b < 63)?)?)
                }
                IntOp::Shr => Some(a >> u32::try_from(b).ok().filter(|b| *b < 64)?),
                IntOp::Lt => Some((a < b) as i64),
                IntOp::Le => Some((a <= b) as i64),
                IntOp::Gt => Some((a > b) as i64),
                IntOp::Ge => Some((a >= b) as i64),
                IntOp::Div | IntOp::Mod | IntOp::Min | IntOp::Max => None,
            }
        }
        Expr::Eq { len: 1, negate, a, b } => {
            Some(((const_value(a)? == const_value(b)?) != *negate) as i64)
        }
        Expr::And(a, b) => Some((const_value(a)? != 0 && const_value(b)? != 0) as i64),
        Expr::Or(a, b) => Some((const_value(a)? != 0 || const_value(b)? != 0) as i64),
        Expr::If { cond, then, otherwise, .. } => {
            if const_value(cond)? != 0 {
                const_value(then)
            } else {
                const_value(otherwise)
            }
        }
        _ => None,
    }
}
