//! A [`System`] to an [`ir::Model`], with DiVinE's meaning (see the crate
//! doc and docs/dve.md): one rule per transition, one per pair of a sender
//! and a receiver on a rendezvous channel, committed states as a guard.

use std::collections::HashMap;

use model::ir::{self, EnumDef, Expr, IntOp, Model, Place, Root, Rule, Step, Stmt, Ty, Types};
use model::{Diagnostic, Span};

use crate::ast::{self, BinOp, IntTy, System, UnOp};

/// A state variable as DVE code sees it.
#[derive(Clone, Debug)]
struct VarInfo {
    offset: u32,
    /// Elements of an array; `None` for a scalar.
    count: Option<u32>,
    bounds: (i64, i64),
}

/// A name in scope: a variable or a constant (scalar or array).
#[derive(Clone, Debug)]
enum Sym {
    Var(VarInfo),
    Const(Vec<i64>, bool),
}

struct ProcInfo {
    name: String,
    /// Offset of the slot holding the process's state.
    state: u32,
    /// Its slots (its state, then its variables): `state..end`.
    end: u32,
    states: HashMap<String, i64>,
    committed: Vec<bool>,
    scope: HashMap<String, Sym>,
}

/// A buffered channel: its sequence variable's offset, capacity and the
/// bounds of its components.
type Buffer = (u32, u32, Vec<(i64, i64)>);

struct ChanInfo {
    name: String,
    arity: usize,
    /// The declared item types (`channel {byte} c`); empty when untyped.
    types: Vec<IntTy>,
    buffer: Option<Buffer>,
}

/// Whether a lowered expression is a truth value (0/1) or an integer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
}

pub(crate) struct Lowerer<'a> {
    pub diagnostics: Vec<Diagnostic>,
    /// DiVinE 2's error state instead of errors (see [`crate::Options`]).
    error_state: bool,
    overrides: &'a HashMap<String, i64>,
    globals: HashMap<String, Sym>,
    consts: Vec<(String, i64)>,
    procs: Vec<ProcInfo>,
    proc_index: HashMap<String, usize>,
    chans: HashMap<String, ChanInfo>,
    types: Types,
    vars: Vec<ir::Var>,
    bounds: Vec<(i64, i64)>,
    state_len: u32,
    init_values: Vec<Stmt>,
}

type L<T> = Option<T>;

/// The name of the first process's state in DiVinE 2's error state.
const ERROR_STATE: &str = "<error>";

fn or(a: Option<Expr>, b: Option<Expr>) -> Option<Expr> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Expr::Or(Box::new(a), Box::new(b))),
        (a, b) => a.or(b),
    }
}

fn not(e: Expr) -> Expr {
    Expr::Not(Box::new(e))
}

/// A statement, and (with the error state) the condition, evaluated just
/// before it, under which DiVinE 2 finds it erroneous.
type Item = (Stmt, Option<Expr>);

fn read(offset: u32, steps: Vec<Step>) -> Expr {
    Expr::Read(Place { root: Root::State, offset, steps, len: 1 })
}

fn eq(a: Expr, b: Expr) -> Expr {
    Expr::Eq {
        len: 1,
        negate: false,
        a: Box::new(a),
        b: Box::new(b),
    }
}

fn and_all(parts: Vec<Expr>) -> Option<Expr> {
    parts
        .into_iter()
        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
}

fn chan_name(t: &ast::Transition) -> String {
    t.sync
        .as_ref()
        .map_or(String::new(), |s| s.chan.name.clone())
}

/// `value` cast to `ty` as C casts to `uint8_t` / `int16_t`: modulo 2^8
/// or 2^16 into the type's range.
fn wrap(value: Expr, ty: IntTy, span: Span) -> Expr {
    let (lo, hi) = ty.bounds();
    let shifted = Expr::Arith(IntOp::Sub, Box::new(value), Box::new(Expr::Int(lo)), span);
    let masked = Expr::Arith(
        IntOp::BitAnd,
        Box::new(shifted),
        Box::new(Expr::Int(hi - lo)),
        span,
    );
    Expr::Arith(IntOp::Add, Box::new(masked), Box::new(Expr::Int(lo)), span)
}

fn c_arith(op: BinOp, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        BinOp::Imply => (a == 0 || b != 0) as i64,
        BinOp::Or => (a != 0 || b != 0) as i64,
        BinOp::And => (a != 0 && b != 0) as i64,
        BinOp::BitOr => a | b,
        BinOp::BitXor => a ^ b,
        BinOp::BitAnd => a & b,
        BinOp::Eq => (a == b) as i64,
        BinOp::Ne => (a != b) as i64,
        BinOp::Lt => (a < b) as i64,
        BinOp::Le => (a <= b) as i64,
        BinOp::Gt => (a > b) as i64,
        BinOp::Ge => (a >= b) as i64,
        BinOp::Shl => a.checked_mul(1i64.checked_shl(u32::try_from(b).ok()?)?)?,
        BinOp::Shr => a >> u32::try_from(b).ok().filter(|b| *b < 64)?,
        BinOp::Add => a.checked_add(b)?,
        BinOp::Sub => a.checked_sub(b)?,
        BinOp::Mul => a.checked_mul(b)?,
        BinOp::Div => a.checked_div(b)?,
        BinOp::Mod => a.checked_rem(b)?,
    })
}

impl<'a> Lowerer<'a> {
    pub fn new(overrides: &'a HashMap<String, i64>, options: &crate::Options) -> Lowerer<'a> {
        Lowerer {
            diagnostics: Vec::new(),
            error_state: options.error_state,
            overrides,
            globals: HashMap::new(),
            consts: Vec::new(),
            procs: Vec::new(),
            proc_index: HashMap::new(),
            chans: HashMap::new(),
            types: Types::default(),
            vars: Vec::new(),
            bounds: Vec::new(),
            state_len: 0,
            init_values: Vec::new(),
        }
    }

    fn error(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn declared_twice(&mut self, what: &str, name: &ast::Ident) {
        self.error(
            Diagnostic::error(
                name.span,
                format!("{what}`{}` is declared twice", name.name),
            )
            .label("second declaration"),
        );
    }

    /// The whole system; `None` when a diagnostic was reported.
    pub fn lower(&mut self, sys: &System, name: &str) -> L<Model> {
        let sync = matches!(sys.kind, Some((true, _)));
        if let Some((true, span)) = sys.kind
            && self.error_state
        {
            self.error(
                Diagnostic::error(
                    span,
                    "`--dve-errors state` is not supported with `system sync`",
                )
                .label("a synchronous system")
                .note("check it with `--dve-errors stop` (the default)"),
            );
            return None;
        }
        if let Some(p) = &sys.property {
            self.error(
                Diagnostic::error(p.span, "property processes are not supported")
                    .label("an LTL property process (a Büchi automaton)")
                    .note("check the model without `property ...`; Fathom states liveness as `property` in its own language"),
            );
            return None;
        }
        let mut global_scope = HashMap::new();
        for d in &sys.decls {
            self.declare(d, None, &mut global_scope);
        }
        self.globals = global_scope;
        for p in &sys.processes {
            self.declare_process(p);
        }
        for c in &sys.chans {
            self.declare_channel(c);
        }
        if !self.diagnostics.is_empty() {
            return None;
        }
        let mut rules = Vec::new();
        let any_committed = self.any_committed();
        if sync {
            rules.extend(self.sync_step(sys));
        }
        for (pi, p) in sys.processes.iter().enumerate().filter(|_| !sync) {
            for t in &p.trans {
                let rendezvous = t.sync.as_ref().and_then(|s| {
                    self.chans
                        .get(&s.chan.name)
                        .filter(|c| c.buffer.is_none())
                        .map(|_| s)
                });
                match rendezvous {
                    None => rules.extend(self.single(pi, t, any_committed.as_ref())),
                    Some(s) => {
                        let ast::SyncDir::Send(values) = &s.dir else {
                            continue;
                        };
                        for (qi, q) in sys.processes.iter().enumerate() {
                            if qi == pi {
                                continue;
                            }
                            for r in &q.trans {
                                if let Some(rs) = &r.sync
                                    && rs.chan.name == s.chan.name
                                    && let ast::SyncDir::Recv(lvals) = &rs.dir
                                {
                                    rules.extend(self.pair(
                                        (pi, t, values),
                                        (qi, r, lvals),
                                        any_committed.as_ref(),
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
        let invariants = self.asserts(sys);
        if !self.diagnostics.is_empty() {
            return None;
        }
        let mut names: HashMap<String, usize> = HashMap::new();
        for r in &rules {
            *names.entry(r.name.clone()).or_default() += 1;
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        for r in &mut rules {
            if names[&r.name] > 1 {
                let k = seen.entry(r.name.clone()).or_default();
                *k += 1;
                r.name = format!("{}#{k}", r.name);
            }
        }
        let mut instance_base = vec![0u64];
        for r in &rules {
            instance_base.push(instance_base[instance_base.len() - 1] + r.instances);
        }
        Some(Model {
            name: name.to_string(),
            consts: self.consts.clone(),
            types: std::mem::take(&mut self.types),
            vars: std::mem::take(&mut self.vars),
            state_len: self.state_len,
            bounds: std::mem::take(&mut self.bounds),
            init_values: std::mem::take(&mut self.init_values),
            init_frame_len: 0,
            processes: Vec::new(),
            network: None,
            inits: Vec::new(),
            rules,
            invariants,
            reachables: Vec::new(),
            constraints: Vec::new(),
            terminals: Vec::new(),
            temporals: Vec::new(),
            fairness: Vec::new(),
            instance_base,
            deadlock: ir::Deadlock::Stuck,
        })
    }

    // ---- declarations ----

    fn const_eval(&mut self, e: &ast::Expr, scope: &HashMap<String, Sym>) -> L<i64> {
        let v = match e {
            ast::Expr::Num(n, _) => Some(*n),
            ast::Expr::Var(n, index) => {
                let sym = scope
                    .get(&n.name)
                    .or_else(|| self.globals.get(&n.name))
                    .cloned();
                match (sym, index) {
                    (Some(Sym::Const(vals, false)), None) => vals.first().copied(),
                    (Some(Sym::Const(vals, true)), Some(i)) => {
                        let i = self.const_eval(i, scope)?;
                        match usize::try_from(i).ok().and_then(|i| vals.get(i)) {
                            Some(v) => Some(*v),
                            None => {
                                self.error(
                                    Diagnostic::error(
                                        e.span(),
                                        format!("index {i} is out of bounds"),
                                    )
                                    .label(format!(
                                        "`{}` has {} elements",
                                        n.name,
                                        vals.len()
                                    )),
                                );
                                return None;
                            }
                        }
                    }
                    _ => {
                        self.error(
                            Diagnostic::error(e.span(), "expected a constant expression")
                                .label(format!("`{}` is not a constant", n.name)),
                        );
                        return None;
                    }
                }
            }
            ast::Expr::Unary(op, a, _) => {
                let a = self.const_eval(a, scope)?;
                match op {
                    UnOp::Neg => a.checked_neg(),
                    UnOp::Compl => Some(!a),
                    UnOp::Not => Some((a == 0) as i64),
                }
            }
            ast::Expr::Binary(op, a, b, _) => {
                let a = self.const_eval(a, scope)?;
                let b = self.const_eval(b, scope)?;
                c_arith(*op, a, b)
            }
            ast::Expr::Remote(..) | ast::Expr::InState(..) => {
                self.error(
                    Diagnostic::error(e.span(), "expected a constant expression")
                        .label("depends on the state"),
                );
                return None;
            }
        };
        if v.is_none() {
            self.error(
                Diagnostic::error(e.span(), "this constant expression has no value")
                    .label("division by zero, a bad shift, or overflow"),
            );
        }
        v
    }

    /// A constant size within `range`, or a diagnostic.
    fn size(
        &mut self,
        e: &ast::Expr,
        scope: &HashMap<String, Sym>,
        range: std::ops::RangeInclusive<i64>,
        what: &str,
        limits: &str,
    ) -> L<u32> {
        let n = self.const_eval(e, scope)?;
        if range.contains(&n) {
            return Some(n as u32);
        }
        self.error(Diagnostic::error(e.span(), format!("{what} {n}")).label(limits));
        None
    }

    fn add_var(&mut self, name: String, ty: Ty, span: Span) -> u32 {
        let offset = self.state_len;
        let len = self.types.flat_len(&ty);
        self.types.slot_bounds(&ty, &mut self.bounds);
        self.vars.push(ir::Var {
            name,
            ty,
            offset,
            len,
            process: None,
            durable: false,
            span,
        });
        self.state_len += len;
        offset
    }

    /// A variable or constant declaration, in the global scope (`proc`
    /// `None`) or a process's.
    fn declare(&mut self, d: &ast::VarDecl, proc: Option<&str>, scope: &mut HashMap<String, Sym>) {
        let name = &d.name.name;
        if scope.contains_key(name) {
            self.declared_twice("", &d.name);
            return;
        }
        let count = match &d.size {
            None => None,
            Some(e) => match self.size(
                e,
                scope,
                1..=1 << 16,
                "array size",
                "an array has 1 to 65536 elements",
            ) {
                Some(n) => Some(n),
                None => return,
            },
        };
        let (lo, hi) = d.ty.bounds();
        let n = count.unwrap_or(1) as usize;
        let mut values = match &d.init {
            None => vec![0; n],
            Some(ast::Init::Scalar(e)) => {
                let Some(v) = self.const_eval(e, scope) else {
                    return;
                };
                vec![v; n]
            }
            Some(ast::Init::List(items, span)) => {
                if count.is_none() {
                    self.error(
                        Diagnostic::error(*span, "a list of initial values for a scalar")
                            .label(format!("`{name}` is not an array")),
                    );
                    return;
                }
                // DiVinE ignores values past the array's end (BEEM's
                // anderson models have one too many).
                let mut vals = Vec::with_capacity(n);
                for e in items.iter().take(n) {
                    vals.push(self.const_eval(e, scope).unwrap_or(0));
                }
                vals
            }
        };
        values.resize(n, 0);
        if d.is_const && proc.is_none() && count.is_none() {
            if let Some(v) = self.overrides.get(name) {
                values = vec![*v];
            }
            self.consts.push((name.clone(), values[0]));
        }
        let init_span = match &d.init {
            Some(ast::Init::Scalar(e)) => e.span(),
            Some(ast::Init::List(_, s)) => *s,
            None => d.name.span,
        };
        if let Some(v) = values.iter().find(|v| !(lo..=hi).contains(*v)) {
            self.error(
                Diagnostic::error(
                    init_span,
                    format!("initial value {v} is outside {lo}..{hi}"),
                )
                .label(format!(
                    "`{name}` is a {}",
                    if d.ty == IntTy::Byte { "byte" } else { "int" }
                )),
            );
            return;
        }
        if d.is_const {
            scope.insert(name.clone(), Sym::Const(values, count.is_some()));
            return;
        }
        let full = match proc {
            Some(p) => format!("{p}.{name}"),
            None => name.clone(),
        };
        let ty = match count {
            None => Ty::Range(lo, hi),
            Some(c) => Ty::Array(
                Box::new(Ty::Range(0, c as i64 - 1)),
                Box::new(Ty::Range(lo, hi)),
            ),
        };
        let offset = self.add_var(full, ty, d.name.span);
        if values.iter().any(|v| *v != lo) {
            let value = if n == 1 {
                Expr::Int(values[0])
            } else {
                Expr::Lit(values)
            };
            self.init_values.push(Stmt::Assign {
                place: Place {
                    root: Root::State,
                    offset,
                    steps: Vec::new(),
                    len: n as u32,
                },
                value,
                bounds: vec![(lo, hi); n],
                span: init_span,
            });
        }
        scope.insert(
            name.clone(),
            Sym::Var(VarInfo { offset, count, bounds: (lo, hi) }),
        );
    }

    fn declare_process(&mut self, p: &ast::Process) {
        let name = p.name.name.clone();
        if self.proc_index.contains_key(&name) {
            self.declared_twice("process ", &p.name);
            return;
        }
        let mut states = HashMap::new();
        for (i, s) in p.states.iter().enumerate() {
            if states.insert(s.name.clone(), i as i64).is_some() {
                self.declared_twice("state ", s);
            }
        }
        if p.states.is_empty() {
            self.error(
                Diagnostic::error(p.name.span, format!("process `{name}` has no states"))
                    .label("add `state ...;`"),
            );
            return;
        }
        let init = match &p.init {
            Some(s) => match states.get(&s.name) {
                Some(i) => *i,
                None => {
                    self.error(
                        Diagnostic::error(
                            s.span,
                            format!("`{}` is not a state of `{name}`", s.name),
                        )
                        .label("unknown state"),
                    );
                    return;
                }
            },
            None => {
                self.error(
                    Diagnostic::error(p.name.span, format!("process `{name}` has no `init` state"))
                        .label("add `init STATE;`"),
                );
                return;
            }
        };
        let mut committed = vec![false; p.states.len()];
        for c in &p.commits {
            match states.get(&c.name) {
                Some(i) => committed[*i as usize] = true,
                None => self.error(
                    Diagnostic::error(c.span, format!("`{}` is not a state of `{name}`", c.name))
                        .label("unknown state"),
                ),
            }
        }
        let id = self.types.enums.len() as u32;
        self.types.enums.push(EnumDef {
            name: format!("{name}.state"),
            variants: p
                .states
                .iter()
                .map(|s| ir::Variant { name: s.name.clone(), fields: Vec::new() })
                // The first process's extra state marks DiVinE 2's error state.
                .chain(
                    (self.error_state && self.procs.is_empty())
                        .then(|| ir::Variant { name: ERROR_STATE.to_string(), fields: Vec::new() }),
                )
                .collect(),
        });
        let var_name = if self.globals.contains_key(&name) {
            format!("{name}.state")
        } else {
            name.clone()
        };
        let state = self.add_var(var_name, Ty::Enum(id), p.name.span);
        if init != 0 {
            self.init_values.push(Stmt::Assign {
                place: Place {
                    root: Root::State,
                    offset: state,
                    steps: Vec::new(),
                    len: 1,
                },
                value: Expr::Int(init),
                bounds: vec![(0, p.states.len() as i64 - 1)],
                span: p.name.span,
            });
        }
        let mut scope = HashMap::new();
        for d in &p.decls {
            self.declare(d, Some(&name), &mut scope);
        }
        self.proc_index.insert(name.clone(), self.procs.len());
        let end = self.state_len;
        self.procs
            .push(ProcInfo { name, state, end, states, committed, scope });
    }

    fn declare_channel(&mut self, c: &ast::ChanDecl) {
        let name = c.name.name.clone();
        if self.chans.contains_key(&name) {
            self.declared_twice("channel ", &c.name);
            return;
        }
        let cap = match &c.size {
            None => 0,
            Some(e) => match self.size(
                e,
                &HashMap::new(),
                0..=255,
                "buffer size",
                "a channel buffers 0 to 255 messages",
            ) {
                Some(n) => n,
                None => return,
            },
        };
        let buffer = (cap > 0).then(|| {
            let comps: Vec<(i64, i64)> = c.types.iter().map(|t| t.bounds()).collect();
            let elem = match comps.as_slice() {
                [] => Ty::Range(0, 0),
                [one] => Ty::Range(one.0, one.1),
                many => {
                    let id = self.types.records.len() as u32;
                    self.types.records.push(ir::RecordDef {
                        name: format!("{name}.msg"),
                        fields: many
                            .iter()
                            .enumerate()
                            .map(|(i, (lo, hi))| (format!("v{i}"), Ty::Range(*lo, *hi)))
                            .collect(),
                    });
                    Ty::Record(id)
                }
            };
            let offset = self.add_var(name.clone(), Ty::Seq(Box::new(elem), cap), c.name.span);
            (offset, cap, comps)
        });
        self.chans.insert(
            name.clone(),
            ChanInfo {
                name,
                arity: c.types.len(),
                types: c.types.clone(),
                buffer,
            },
        );
    }

    /// "Some process is in a committed state", or `None` if no state is.
    fn any_committed(&self) -> Option<Expr> {
        let mut parts = Vec::new();
        for p in &self.procs {
            for (i, c) in p.committed.iter().enumerate() {
                if *c {
                    parts.push(eq(read(p.state, Vec::new()), Expr::Int(i as i64)));
                }
            }
        }
        parts
            .into_iter()
            .reduce(|a, b| Expr::Or(Box::new(a), Box::new(b)))
    }

    // ---- expressions ----

    fn lookup(&self, proc: usize, name: &str) -> Option<Sym> {
        self.procs[proc]
            .scope
            .get(name)
            .or_else(|| self.globals.get(name))
            .cloned()
    }

    fn var_read(
        &mut self,
        sym: Option<Sym>,
        name: &ast::Ident,
        index: Option<&ast::Expr>,
        proc: usize,
    ) -> L<Expr> {
        match (sym, index) {
            (Some(Sym::Var(v)), None) if v.count.is_none() => Some(read(v.offset, Vec::new())),
            (Some(Sym::Var(v)), Some(i)) if v.count.is_some() => {
                let step = self.index_step(&v, i, proc)?;
                Some(read(v.offset, vec![step]))
            }
            (Some(Sym::Const(vals, false)), None) => Some(Expr::Int(vals[0])),
            (Some(Sym::Const(vals, true)), Some(i)) => {
                let index = self.int_expr(i, proc)?;
                let n = vals.len() as u32;
                Some(Expr::Sub {
                    base: Box::new(Expr::Lit(vals)),
                    base_len: n,
                    step: Box::new(Step::Index {
                        index,
                        lo: 0,
                        count: n,
                        stride: 1,
                        span: i.span(),
                    }),
                    len: 1,
                })
            }
            // DiVinE reads a bare array name as its first element.
            (Some(Sym::Var(v)), None) => Some(read(v.offset, Vec::new())),
            (Some(Sym::Const(vals, true)), None) => Some(Expr::Int(vals[0])),
            (Some(_), Some(_)) => {
                self.error(
                    Diagnostic::error(name.span, format!("`{}` is not an array", name.name))
                        .label("cannot be indexed"),
                );
                None
            }
            (None, _) => {
                self.error(
                    Diagnostic::error(name.span, format!("unknown name `{}`", name.name))
                        .label("not a variable or constant in scope"),
                );
                None
            }
        }
    }

    fn index_step(&mut self, v: &VarInfo, i: &ast::Expr, proc: usize) -> L<Step> {
        let index = self.int_expr(i, proc)?;
        Some(Step::Index {
            index,
            lo: 0,
            count: v.count.unwrap_or(1),
            stride: 1,
            span: i.span(),
        })
    }

    fn proc_of(&mut self, name: &ast::Ident) -> L<usize> {
        match self.proc_index.get(&name.name) {
            Some(p) => Some(*p),
            None => {
                self.error(
                    Diagnostic::error(name.span, format!("unknown process `{}`", name.name))
                        .label("no process of this name"),
                );
                None
            }
        }
    }

    fn expr(&mut self, e: &ast::Expr, proc: usize) -> L<(Expr, Kind)> {
        Some(match e {
            ast::Expr::Num(n, _) => (Expr::Int(*n), Kind::Int),
            ast::Expr::Var(name, index) => {
                let sym = self.lookup(proc, &name.name);
                (self.var_read(sym, name, index.as_deref(), proc)?, Kind::Int)
            }
            ast::Expr::Remote(p, var, index) => {
                let q = self.proc_of(p)?;
                let sym = self.procs[q].scope.get(&var.name).cloned();
                if sym.is_none() {
                    self.error(
                        Diagnostic::error(
                            var.span,
                            format!("process `{}` has no variable `{}`", p.name, var.name),
                        )
                        .label("unknown variable"),
                    );
                    return None;
                }
                (self.var_read(sym, var, index.as_deref(), proc)?, Kind::Int)
            }
            ast::Expr::InState(p, s) => {
                let q = self.proc_of(p)?;
                let i = self.state_index(q, s)?;
                (
                    eq(read(self.procs[q].state, Vec::new()), Expr::Int(i)),
                    Kind::Bool,
                )
            }
            ast::Expr::Unary(op, a, span) => match op {
                UnOp::Neg => (
                    Expr::Neg(Box::new(self.int_expr(a, proc)?), *span),
                    Kind::Int,
                ),
                UnOp::Compl => (
                    Expr::Arith(
                        IntOp::BitXor,
                        Box::new(self.int_expr(a, proc)?),
                        Box::new(Expr::Int(-1)),
                        *span,
                    ),
                    Kind::Int,
                ),
                UnOp::Not => (Expr::Not(Box::new(self.bool_expr(a, proc)?)), Kind::Bool),
            },
            ast::Expr::Binary(op, a, b, span) => {
                let logic =
                    |f: fn(Box<Expr>, Box<Expr>) -> Expr, s: &mut Self| -> L<(Expr, Kind)> {
                        let a = s.bool_expr(a, proc)?;
                        let b = s.bool_expr(b, proc)?;
                        Some((f(Box::new(a), Box::new(b)), Kind::Bool))
                    };
                let int_op = match op {
                    BinOp::Imply => return logic(Expr::Implies, self),
                    BinOp::Or => return logic(Expr::Or, self),
                    BinOp::And => return logic(Expr::And, self),
                    BinOp::Eq | BinOp::Ne => {
                        let x = self.int_expr(a, proc)?;
                        let y = self.int_expr(b, proc)?;
                        let negate = *op == BinOp::Ne;
                        return Some((
                            Expr::Eq { len: 1, negate, a: Box::new(x), b: Box::new(y) },
                            Kind::Bool,
                        ));
                    }
                    BinOp::Lt => IntOp::Lt,
                    BinOp::Le => IntOp::Le,
                    BinOp::Gt => IntOp::Gt,
                    BinOp::Ge => IntOp::Ge,
                    BinOp::BitOr => IntOp::BitOr,
                    BinOp::BitXor => IntOp::BitXor,
                    BinOp::BitAnd => IntOp::BitAnd,
                    BinOp::Shl => IntOp::Shl,
                    BinOp::Shr => IntOp::Shr,
                    BinOp::Add => IntOp::Add,
                    BinOp::Sub => IntOp::Sub,
                    BinOp::Mul => IntOp::Mul,
                    BinOp::Div => IntOp::Quot,
                    BinOp::Mod => IntOp::Rem,
                };
                let x = self.int_expr(a, proc)?;
                let y = self.int_expr(b, proc)?;
                let kind = if matches!(int_op, IntOp::Lt | IntOp::Le | IntOp::Gt | IntOp::Ge) {
                    Kind::Bool
                } else {
                    Kind::Int
                };
                (Expr::Arith(int_op, Box::new(x), Box::new(y), *span), kind)
            }
        })
    }

    /// An expression as an integer (a truth value is 0 or 1).
    fn int_expr(&mut self, e: &ast::Expr, proc: usize) -> L<Expr> {
        let (x, k) = self.expr(e, proc)?;
        Some(match k {
            Kind::Int => x,
            Kind::Bool => Expr::If {
                cond: Box::new(x),
                then: Box::new(Expr::Int(1)),
                otherwise: Box::new(Expr::Int(0)),
                len: 1,
            },
        })
    }

    /// An expression as a truth value (an integer is true unless 0).
    fn bool_expr(&mut self, e: &ast::Expr, proc: usize) -> L<Expr> {
        let (x, k) = self.expr(e, proc)?;
        Some(match k {
            Kind::Bool => x,
            Kind::Int => Expr::Eq {
                len: 1,
                negate: true,
                a: Box::new(x),
                b: Box::new(Expr::Int(0)),
            },
        })
    }

    // ---- transitions ----

    /// `lv = value` in process `proc`'s scope.
    fn assign(&mut self, lv: &ast::LValue, value: Expr, proc: usize) -> L<Stmt> {
        let sym = self.lookup(proc, &lv.name.name);
        let (place, bounds) = match (sym, &lv.index) {
            (Some(Sym::Var(v)), None) if v.count.is_none() => (
                Place {
                    root: Root::State,
                    offset: v.offset,
                    steps: Vec::new(),
                    len: 1,
                },
                v.bounds,
            ),
            (Some(Sym::Var(v)), Some(i)) if v.count.is_some() => {
                let step = self.index_step(&v, i, proc)?;
                (
                    Place {
                        root: Root::State,
                        offset: v.offset,
                        steps: vec![step],
                        len: 1,
                    },
                    v.bounds,
                )
            }
            (Some(Sym::Const(..)), _) => {
                self.error(
                    Diagnostic::error(lv.name.span, format!("`{}` is a constant", lv.name.name))
                        .label("cannot be assigned"),
                );
                return None;
            }
            // As a read, a bare array name is its first element.
            (Some(Sym::Var(v)), None) => (
                Place {
                    root: Root::State,
                    offset: v.offset,
                    steps: Vec::new(),
                    len: 1,
                },
                v.bounds,
            ),
            (Some(_), Some(_)) => {
                self.error(
                    Diagnostic::error(lv.name.span, format!("`{}` is not an array", lv.name.name))
                        .label("cannot be indexed"),
                );
                return None;
            }
            (None, _) => {
                self.error(
                    Diagnostic::error(lv.name.span, format!("unknown variable `{}`", lv.name.name))
                        .label("not a variable in scope"),
                );
                return None;
            }
        };
        let span = lv.span();
        Some(Stmt::Assign { place, value, bounds: vec![bounds], span })
    }

    fn state_index(&mut self, proc: usize, s: &ast::Ident) -> L<i64> {
        match self.procs[proc].states.get(&s.name) {
            Some(i) => Some(*i),
            None => {
                let p = self.procs[proc].name.clone();
                self.error(
                    Diagnostic::error(s.span, format!("`{}` is not a state of `{p}`", s.name))
                        .label("unknown state"),
                );
                None
            }
        }
    }

    /// The guard parts of a transition: in its source state, its guards.
    /// Also returns, with the error state, when the guard is erroneous:
    /// DiVinE 2 then takes the transition, to the error state.
    fn guard_parts(
        &mut self,
        proc: usize,
        t: &ast::Transition,
        out: &mut Vec<Expr>,
    ) -> L<(i64, Option<Expr>)> {
        let from = self.state_index(proc, &t.from)?;
        let to = self.state_index(proc, &t.to);
        out.push(eq(
            read(self.procs[proc].state, Vec::new()),
            Expr::Int(from),
        ));
        let mut guard = Vec::new();
        for g in &t.guards {
            guard.push(self.bool_expr(g, proc)?);
        }
        let _ = to?;
        let mut fails = None;
        if self.error_state {
            // The guards as one lazy conjunction: g1 fails, or g1 holds and g2 fails, ...
            let mut holds: Vec<Expr> = Vec::new();
            for (g, lowered) in t.guards.iter().zip(&guard) {
                if let Some(f) = self.fails(g, proc)? {
                    let f =
                        and_all(holds.iter().cloned().chain([f]).collect()).unwrap_or(Expr::Int(0));
                    fails = or(fails, Some(f));
                }
                holds.push(lowered.clone());
            }
        }
        if let Some(g) = and_all(guard) {
            out.push(match &fails {
                Some(f) => Expr::Or(Box::new(f.clone()), Box::new(g)),
                None => g,
            });
        }
        Some((from, fails))
    }

    /// When evaluating `e` fails in DiVinE 2: an index outside its array, a
    /// division by zero; `and`, `or` and `imply` are lazy. `None`: never.
    fn fails(&mut self, e: &ast::Expr, proc: usize) -> L<Option<Expr>> {
        Some(match e {
            ast::Expr::Num(..) | ast::Expr::InState(..) => None,
            ast::Expr::Var(name, index) | ast::Expr::Remote(_, name, index) => {
                let Some(i) = index else { return Some(None) };
                let count = match e {
                    ast::Expr::Remote(p, ..) => {
                        let q = self.proc_of(p)?;
                        self.procs[q].scope.get(&name.name).cloned()
                    }
                    _ => self.lookup(proc, &name.name),
                };
                let count = match count {
                    Some(Sym::Var(v)) => v.count.unwrap_or(1),
                    Some(Sym::Const(vals, _)) => vals.len() as u32,
                    None => return Some(None),
                };
                let inside = self.int_expr(i, proc)?;
                or(
                    self.fails(i, proc)?,
                    Some(self.outside(inside, count, i.span())),
                )
            }
            ast::Expr::Unary(_, a, _) => self.fails(a, proc)?,
            ast::Expr::Binary(op, a, b, _) => {
                let fa = self.fails(a, proc)?;
                let fb = self.fails(b, proc)?;
                match op {
                    BinOp::And | BinOp::Imply | BinOp::Or => {
                        let Some(fb) = fb else { return Some(fa) };
                        let a = self.bool_expr(a, proc)?;
                        let a = if *op == BinOp::Or { not(a) } else { a };
                        or(fa, Some(Expr::And(Box::new(a), Box::new(fb))))
                    }
                    BinOp::Div | BinOp::Mod => {
                        let d = self.int_expr(b, proc)?;
                        let zero = eq(d, Expr::Int(0));
                        // The divisor is evaluated only if it cannot fail.
                        let zero = match &fb {
                            Some(f) => Expr::And(Box::new(not(f.clone())), Box::new(zero)),
                            None => zero,
                        };
                        or(or(fa, fb), Some(zero))
                    }
                    _ => or(fa, fb),
                }
            }
        })
    }

    /// `index` outside `0..count`.
    fn outside(&self, index: Expr, count: u32, span: Span) -> Expr {
        let low = Expr::Arith(
            IntOp::Lt,
            Box::new(index.clone()),
            Box::new(Expr::Int(0)),
            span,
        );
        let high = Expr::Arith(
            IntOp::Ge,
            Box::new(index),
            Box::new(Expr::Int(count as i64)),
            span,
        );
        Expr::Or(Box::new(low), Box::new(high))
    }

    /// With the error state: when `lv = value` fails (the value's or the
    /// index's evaluation, an index outside the array, a value outside the
    /// variable's type).
    fn assign_fails(
        &mut self,
        lv: &ast::LValue,
        value: Option<&ast::Expr>,
        lowered: &Expr,
        proc: usize,
    ) -> L<Option<Expr>> {
        if !self.error_state {
            return Some(None);
        }
        let mut f = match value {
            Some(v) => self.fails(v, proc)?,
            None => None,
        };
        let (count, (lo, hi)) = match self.lookup(proc, &lv.name.name) {
            Some(Sym::Var(v)) => (v.count, v.bounds),
            _ => return Some(f),
        };
        if let (Some(i), Some(n)) = (&lv.index, count) {
            f = or(f, self.fails(i, proc)?);
            let index = self.int_expr(i, proc)?;
            f = or(f, Some(self.outside(index, n, i.span())));
        }
        let span = lv.span();
        let below = Expr::Arith(
            IntOp::Lt,
            Box::new(lowered.clone()),
            Box::new(Expr::Int(lo)),
            span,
        );
        let above = Expr::Arith(
            IntOp::Gt,
            Box::new(lowered.clone()),
            Box::new(Expr::Int(hi)),
            span,
        );
        Some(or(f, Some(Expr::Or(Box::new(below), Box::new(above)))))
    }

    /// DiVinE 2's error state: every variable zero, the first process in
    /// its extra state.
    fn go_to_error(&self) -> Vec<Stmt> {
        let len = self.state_len;
        let p0 = &self.procs[0];
        let n = p0.states.len() as i64;
        vec![
            Stmt::Assign {
                place: Place {
                    root: Root::State,
                    offset: 0,
                    steps: Vec::new(),
                    len,
                },
                value: if len == 1 {
                    Expr::Int(0)
                } else {
                    Expr::Lit(vec![0; len as usize])
                },
                bounds: self.bounds.clone(),
                span: Span::default(),
            },
            Stmt::Assign {
                place: Place {
                    root: Root::State,
                    offset: p0.state,
                    steps: Vec::new(),
                    len: 1,
                },
                value: Expr::Int(n),
                bounds: vec![(0, n)],
                span: Span::default(),
            },
        ]
    }

    /// The body: each statement runs if its failure condition is false,
    /// else the successor is the error state and nothing after it runs.
    fn chain(&self, lead: Option<Expr>, items: Vec<Item>) -> Vec<Stmt> {
        let mut acc: Vec<Stmt> = Vec::new();
        for (stmt, fails) in items.into_iter().rev() {
            let mut cur = vec![stmt];
            cur.append(&mut acc);
            acc = match fails {
                None => cur,
                Some(c) => vec![Stmt::If { cond: c, then: self.go_to_error(), otherwise: cur }],
            };
        }
        match lead {
            None => acc,
            Some(c) => vec![Stmt::If { cond: c, then: self.go_to_error(), otherwise: acc }],
        }
    }

    /// The state change and effects of a transition, in order.
    fn effects(&mut self, proc: usize, t: &ast::Transition, body: &mut Vec<Item>) -> L<()> {
        let to = self.state_index(proc, &t.to)?;
        let n = self.procs[proc].states.len() as i64;
        let offset = self.procs[proc].state;
        // With the error state the first process's slot also holds it.
        let hi = if self.error_state && proc == 0 {
            n
        } else {
            n - 1
        };
        body.push((
            Stmt::Assign {
                place: Place {
                    root: Root::State,
                    offset,
                    steps: Vec::new(),
                    len: 1,
                },
                value: Expr::Int(to),
                bounds: vec![(0, hi)],
                span: t.to.span,
            },
            None,
        ));
        let mut ok = true;
        for (lv, e) in &t.effects {
            let item = self.int_expr(e, proc).and_then(|v| {
                let fails = self.assign_fails(lv, Some(e), &v, proc)?;
                Some((self.assign(lv, v, proc)?, fails))
            });
            match item {
                Some(i) => body.push(i),
                None => ok = false,
            }
        }
        ok.then_some(())
    }

    /// The committed-state condition of a transition from `from` states
    /// (one for a lone transition, two for a rendezvous): all committed, or
    /// none committed and no process committed anywhere.
    fn commit_guard(&self, froms: &[(usize, i64)], any: Option<&Expr>) -> Option<Expr> {
        let any = any?;
        let committed: Vec<bool> = froms
            .iter()
            .map(|(p, s)| self.procs[*p].committed[*s as usize])
            .collect();
        if committed.iter().all(|c| *c) {
            None
        } else if committed.iter().any(|c| *c) {
            Some(Expr::Int(0))
        } else {
            Some(Expr::Not(Box::new(any.clone())))
        }
    }

    fn rule(
        &self,
        name: String,
        guard: Vec<Expr>,
        body: Vec<Stmt>,
        frame_len: u32,
        span: Span,
    ) -> Rule {
        Rule {
            name,
            params: Vec::new(),
            guard: and_all(guard),
            body,
            frame_len,
            instances: 1,
            span,
        }
    }

    fn label(&self, proc: usize, t: &ast::Transition) -> String {
        format!("{}:{}->{}", self.procs[proc].name, t.from.name, t.to.name)
    }

    /// A transition that runs alone: no sync, or a buffered channel.
    fn single(&mut self, proc: usize, t: &ast::Transition, any: Option<&Expr>) -> L<Rule> {
        let mut guard = Vec::new();
        let (from, guard_fails) = self.guard_parts(proc, t, &mut guard)?;
        if let Some(c) = self.commit_guard(&[(proc, from)], any) {
            guard.push(c);
        }
        // DiVinE 2 runs the effects first, then the buffer operation: a
        // sent value is evaluated after the effects.
        let mut body = Vec::new();
        self.effects(proc, t, &mut body)?;
        if let Some(s) = &t.sync {
            let Some(chan) = self.chans.get(&s.chan.name) else {
                self.error(
                    Diagnostic::error(s.chan.span, format!("unknown channel `{}`", s.chan.name))
                        .label("not declared with `channel`"),
                );
                return None;
            };
            let (offset, cap, comps) = chan.buffer.clone()?;
            let (arity, cname, types) = (chan.arity, chan.name.clone(), chan.types.clone());
            let stride = comps.len().max(1) as u32;
            let place = Place {
                root: Root::State,
                offset,
                steps: Vec::new(),
                len: 1 + cap * stride,
            };
            let count = read(offset, Vec::new());
            match &s.dir {
                ast::SyncDir::Send(values) => {
                    self.arity(s, arity, values.len(), &cname)?;
                    guard.push(Expr::Arith(
                        IntOp::Lt,
                        Box::new(count),
                        Box::new(Expr::Int(cap as i64)),
                        s.span,
                    ));
                    // As a typed rendezvous, a value is cast to its item type.
                    let mut elems = Vec::new();
                    let mut fails = None;
                    for (v, ty) in values.iter().zip(&types) {
                        elems.push(wrap(self.int_expr(v, proc)?, *ty, v.span()));
                        if self.error_state {
                            fails = or(fails, self.fails(v, proc)?);
                        }
                    }
                    let elem = match elems.len() {
                        0 => Expr::Int(0),
                        1 => elems.remove(0),
                        _ => Expr::Concat(elems),
                    };
                    let bounds = if comps.is_empty() {
                        vec![(0, 0)]
                    } else {
                        comps.clone()
                    };
                    body.push((
                        Stmt::Push { place, elem, stride, cap, bounds, span: s.span },
                        fails,
                    ));
                }
                ast::SyncDir::Recv(lvals) => {
                    self.arity(s, arity, lvals.len(), &cname)?;
                    guard.push(Expr::Arith(
                        IntOp::Gt,
                        Box::new(count),
                        Box::new(Expr::Int(0)),
                        s.span,
                    ));
                    for (j, lv) in lvals.iter().enumerate() {
                        let head = read(offset + 1 + j as u32, Vec::new());
                        let fails = self.assign_fails(lv, None, &head, proc)?;
                        body.push((self.assign(lv, head, proc)?, fails));
                    }
                    let filler = comps
                        .iter()
                        .map(|(lo, _)| *lo)
                        .chain(comps.is_empty().then_some(0))
                        .collect();
                    body.push((
                        Stmt::Pop { place, at: None, stride, cap, filler, span: s.span },
                        None,
                    ));
                }
            }
        }
        let body = self.chain(guard_fails, body);
        Some(self.rule(self.label(proc, t), guard, body, 0, t.span))
    }

    fn arity(&mut self, s: &ast::Sync, arity: usize, got: usize, chan: &str) -> L<()> {
        if arity == got {
            return Some(());
        }
        self.error(
            Diagnostic::error(
                s.span,
                format!("channel `{chan}` carries {arity} value(s), not {got}"),
            )
            .label("wrong number of values"),
        );
        None
    }

    /// A sender and a receiver meeting on a rendezvous channel. As DiVinE:
    /// the receiver's variables take the sent values (evaluated before the
    /// step), then the receiver's state and effects, then the sender's.
    fn pair(
        &mut self,
        (sp, st, values): (usize, &ast::Transition, &[ast::Expr]),
        (rp, rt, lvals): (usize, &ast::Transition, &[ast::LValue]),
        any: Option<&Expr>,
    ) -> L<Rule> {
        if values.len() != lvals.len() {
            let s = rt.sync.as_ref().map_or(rt.span, |s| s.span);
            self.error(
                Diagnostic::error(
                    s,
                    format!(
                        "this receive takes {} value(s); the send sends {}",
                        lvals.len(),
                        values.len()
                    ),
                )
                .label("mismatched rendezvous")
                .secondary(st.sync.as_ref().map_or(st.span, |s| s.span), "the send"),
            );
            return None;
        }
        let mut guard = Vec::new();
        let (sfrom, sfails) = self.guard_parts(sp, st, &mut guard)?;
        let (rfrom, rfails) = self.guard_parts(rp, rt, &mut guard)?;
        if let Some(c) = self.commit_guard(&[(sp, sfrom), (rp, rfrom)], any) {
            guard.push(c);
        }
        // Value by value, each evaluated after the previous one is stored
        // (as DiVinE 2); a typed channel first casts it to its item type.
        let mut body = Vec::new();
        let types = self
            .chans
            .get(&chan_name(st))
            .map(|c| c.types.clone())
            .unwrap_or_default();
        for (j, (v, lv)) in values.iter().zip(lvals).enumerate() {
            let mut value = self.int_expr(v, sp)?;
            if let Some(ty) = types.get(j) {
                value = wrap(value, *ty, v.span());
            }
            // The value is the sender's, the variable the receiver's.
            let mut fails = self.assign_fails(lv, None, &value, rp)?;
            if self.error_state {
                fails = or(self.fails(v, sp)?, fails);
            }
            body.push((self.assign(lv, value, rp)?, fails));
        }
        self.effects(rp, rt, &mut body)?;
        self.effects(sp, st, &mut body)?;
        let body = self.chain(or(sfails, rfails), body);
        let name = format!(
            "{}!{}?{}",
            self.label(sp, st),
            chan_name(st),
            self.label(rp, rt)
        );
        Some(self.rule(name, guard, body, 0, st.span))
    }

    /// A `system sync` step, as DiVinE 2 takes it: every process takes one
    /// of its enabled transitions at once (channels play no part), each
    /// computed from the state before the step; the successor takes each
    /// process's own variables from its transition, and each global
    /// variable a transition assigns from that transition (a later process
    /// wins). One rule whose parameters pick a transition per process, so
    /// `generated` counts DiVinE's successors; no process with an enabled
    /// transition means no successor (a deadlock).
    fn sync_step(&mut self, sys: &System) -> Option<Rule> {
        let n = sys.processes.len() as u32;
        let len = self.state_len;
        // The frame: the parameters, then the state before the step (S),
        // the successor composed so far (C) and one process's (R).
        let (s_at, c_at, r_at) = (n, n + len, n + 2 * len);
        let whole = |root, offset| Place { root, offset, steps: Vec::new(), len };
        let read_local =
            |offset, len| Expr::Read(Place { root: Root::Local, offset, steps: Vec::new(), len });
        let mut params = Vec::new();
        let mut guard = Vec::new();
        let mut body = vec![Stmt::Let {
            local: s_at,
            len,
            value: Expr::Read(whole(Root::State, 0)),
        }];
        let mut instances = 1u64;
        for (i, p) in sys.processes.iter().enumerate() {
            if p.trans.is_empty() {
                // This process can never move: every state deadlocks.
                return None;
            }
            let mut labels: Vec<String> = p
                .trans
                .iter()
                .map(|t| format!("{}->{}", t.from.name, t.to.name))
                .collect();
            for j in 0..labels.len() {
                if labels.iter().filter(|l| **l == labels[j]).count() > 1 {
                    labels[j] = format!("{}#{}", labels[j], j + 1);
                }
            }
            let id = self.types.enums.len() as u32;
            self.types.enums.push(EnumDef {
                name: format!("{}.transition", p.name.name),
                variants: labels
                    .into_iter()
                    .map(|name| ir::Variant { name, fields: Vec::new() })
                    .collect(),
            });
            let k = p.trans.len() as u64;
            instances = instances.saturating_mul(k);
            params.push(ir::Param {
                name: p.name.name.clone(),
                ty: Ty::Enum(id),
                local: i as u32,
                len: 1,
                card: k,
                hidden: false,
            });
            let mut alternatives = Vec::new();
            let mut branches = Vec::new();
            for (j, t) in p.trans.iter().enumerate() {
                let chosen = eq(Expr::Local(i as u32), Expr::Int(j as i64));
                let mut parts = vec![chosen.clone()];
                self.guard_parts(i, t, &mut parts)?;
                alternatives.push(and_all(parts).unwrap_or(Expr::Int(1)));
                // From the state before the step: the transition, then the
                // composition so far with this process's part laid over it.
                let mut items = Vec::new();
                self.effects(i, t, &mut items)?;
                let mut stmts: Vec<Stmt> = items.into_iter().map(|(s, _)| s).collect();
                stmts.push(Stmt::Let {
                    local: r_at,
                    len,
                    value: Expr::Read(whole(Root::State, 0)),
                });
                stmts.push(Stmt::Assign {
                    place: whole(Root::State, 0),
                    value: read_local(c_at, len),
                    bounds: self.bounds.clone(),
                    span: t.span,
                });
                let mut parts =
                    vec![(self.procs[i].state, self.procs[i].end - self.procs[i].state)];
                for (lv, _) in &t.effects {
                    if self.procs[i].scope.contains_key(&lv.name.name) {
                        continue;
                    }
                    if let Some(Sym::Var(v)) = self.globals.get(&lv.name.name) {
                        parts.push((v.offset, v.count.unwrap_or(1)));
                    }
                }
                parts.sort_unstable();
                parts.dedup();
                for (offset, n) in parts {
                    stmts.push(Stmt::Assign {
                        place: Place {
                            root: Root::State,
                            offset,
                            steps: Vec::new(),
                            len: n,
                        },
                        value: read_local(r_at + offset, n),
                        bounds: self.bounds[offset as usize..(offset + n) as usize].to_vec(),
                        span: t.span,
                    });
                }
                branches.push((chosen, stmts));
            }
            guard.push(
                alternatives
                    .into_iter()
                    .reduce(|a, b| Expr::Or(Box::new(a), Box::new(b)))?,
            );
            body.push(Stmt::Let {
                local: c_at,
                len,
                value: Expr::Read(whole(Root::State, 0)),
            });
            body.push(Stmt::Assign {
                place: whole(Root::State, 0),
                value: read_local(s_at, len),
                bounds: self.bounds.clone(),
                span: p.name.span,
            });
            let chain = branches
                .into_iter()
                .rev()
                .fold(Vec::new(), |otherwise, (cond, then)| {
                    vec![Stmt::If { cond, then, otherwise }]
                });
            body.extend(chain);
        }
        if instances > u32::MAX as u64 {
            let span = sys.kind.map_or(Span::default(), |(_, s)| s);
            self.error(
                Diagnostic::error(span, "too many combinations of transitions")
                    .label(format!("a synchronous step has {instances} combinations"))
                    .note("Fathom numbers them in 32 bits"),
            );
            return None;
        }
        Some(Rule {
            name: "step".to_string(),
            params,
            guard: and_all(guard),
            body,
            frame_len: n + 3 * len,
            instances,
            span: sys.kind.map_or(Span::default(), |(_, s)| s),
        })
    }

    /// `assert S: e` in process P: e holds whenever P is in S.
    fn asserts(&mut self, sys: &System) -> Vec<ir::Property> {
        let mut out = Vec::new();
        for (pi, p) in sys.processes.iter().enumerate() {
            for (s, e) in &p.asserts {
                let Some(si) = self.state_index(pi, s) else {
                    continue;
                };
                let Some(cond) = self.bool_expr(e, pi) else {
                    continue;
                };
                let at = eq(read(self.procs[pi].state, Vec::new()), Expr::Int(si));
                out.push(ir::Property {
                    name: format!("assert {}.{}", p.name.name, s.name),
                    expr: Expr::Implies(Box::new(at), Box::new(cond)),
                    frame_len: 0,
                    span: s.span.to(e.span()),
                });
            }
        }
        out
    }
}
