//! Lowering: resolves names, checks types, folds constants and builds the
//! model IR from the syntax tree. Reports every error it can find; the IR is
//! returned only when there are none.

mod expr;
mod liveness;
mod process;
mod simplify;
mod stmt;

use std::collections::{HashMap, HashSet};

use crate::ast::{self, Item, TypeExpr};
use crate::diagnostic::Diagnostic;
use crate::eval;
use crate::ir::{self, Model, Property, Rule, Ty, Types};
use crate::span::Span;

/// An error was reported; lowering of the enclosing item stops.
pub(crate) struct Reported;
pub(crate) type L<T> = Result<T, Reported>;

#[derive(Clone, Debug)]
struct Local {
    name: String,
    offset: u32,
    ty: Ty,
}

/// A spec's lowered `init`s, rules and properties.
#[derive(Default)]
struct Items {
    inits: Vec<Rule>,
    rules: Vec<Rule>,
    invariants: Vec<ir::Property>,
    reachables: Vec<ir::Property>,
    constraints: Vec<ir::Property>,
    terminals: Vec<ir::Property>,
    temporals: Vec<ir::Temporal>,
}

pub(crate) struct Lowerer<'a> {
    diagnostics: &'a mut Vec<Diagnostic>,
    const_decls: HashMap<String, &'a ast::Expr>,
    const_values: HashMap<String, i64>,
    const_in_progress: HashSet<String>,
    /// Constants whose evaluation failed (and was reported once).
    const_failed: HashSet<String>,
    /// Every declared state variable's name, known before any is lowered
    /// (constants are folded first, and may not read them).
    pub(crate) var_names: HashSet<String>,
    overrides: HashMap<String, i64>,
    type_decls: HashMap<String, &'a TypeExpr>,
    type_values: HashMap<String, Ty>,
    type_in_progress: HashSet<String>,
    fns: HashMap<String, (&'a [ast::Param], &'a TypeExpr, &'a ast::Expr)>,
    fns_in_progress: HashSet<String>,
    types: Types,
    vars: Vec<ir::Var>,
    var_index: HashMap<String, usize>,
    /// Names visible now, innermost last; `barrier` hides outer ones (fn bodies).
    locals: Vec<Local>,
    barrier: usize,
    next_local: u32,
    frame_len: u32,
    /// Set while folding a constant: reading state is an error.
    const_context: bool,
    pub(crate) processes: Vec<process::ProcCtx>,
    pub(crate) proc_index: HashMap<String, usize>,
    /// The process whose rule is being lowered.
    pub(crate) current: Option<process::Current>,
    pub(crate) network: Option<std::rc::Rc<process::NetCtx>>,
    pub(crate) process_decls: Vec<&'a ast::ProcessDecl>,
}

/// Lowers a parsed spec. `overrides` are `--const` values; naming a constant
/// the spec lacks is reported by the caller.
pub(crate) fn simplify_model(model: &mut Model) {
    simplify::model(model);
}

pub fn lower(
    file: &ast::SpecFile,
    default_name: &str,
    overrides: &HashMap<String, i64>,
    options: crate::CompileOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Model> {
    let mut lw = Lowerer {
        diagnostics,
        const_decls: HashMap::new(),
        const_values: HashMap::new(),
        const_in_progress: HashSet::new(),
        const_failed: HashSet::new(),
        var_names: HashSet::new(),
        overrides: overrides.clone(),
        type_decls: HashMap::new(),
        type_values: HashMap::new(),
        type_in_progress: HashSet::new(),
        fns: HashMap::new(),
        fns_in_progress: HashSet::new(),
        types: Types::default(),
        vars: Vec::new(),
        var_index: HashMap::new(),
        locals: Vec::new(),
        barrier: 0,
        next_local: 0,
        frame_len: 0,
        const_context: false,
        processes: Vec::new(),
        proc_index: HashMap::new(),
        current: None,
        network: None,
        process_decls: Vec::new(),
    };
    lw.collect(file);
    let name = file
        .name
        .as_ref()
        .map_or(default_name.to_string(), |n| n.name.clone());
    let mut model = lw.build(file, name)?;
    if !lw.diagnostics.is_empty() {
        return None;
    }
    model.types.seal();
    if options.simplify {
        simplify::model(&mut model);
    }
    Some(model)
}

impl<'a> Lowerer<'a> {
    pub(crate) fn error(&mut self, diagnostic: Diagnostic) -> Reported {
        self.diagnostics.push(diagnostic);
        Reported
    }

    /// Records every named declaration, reporting duplicates.
    fn collect(&mut self, file: &'a ast::SpecFile) {
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut declare = |lw: &mut Self, name: &ast::Ident| {
            if let Some(first) = seen.get(&name.name) {
                lw.diagnostics.push(
                    Diagnostic::error(name.span, format!("`{}` is declared twice", name.name))
                        .label("second declaration")
                        .secondary(*first, "first declaration"),
                );
                false
            } else {
                seen.insert(name.name.clone(), name.span);
                true
            }
        };
        for item in &file.items {
            let name = match item {
                Item::Const { name, .. }
                | Item::Type { name, .. }
                | Item::Fn { name, .. }
                | Item::Invariant { name, .. }
                | Item::Reachable { name, .. } => name,
                Item::Property(p) => &p.name,
                Item::Var(v) => &v.name,
                Item::Rule(r) => &r.name,
                Item::Process(p) => &p.name,
                _ => continue,
            };
            if !declare(self, name) {
                continue;
            }
            match item {
                Item::Const { name, value } => {
                    self.const_decls.insert(name.name.clone(), value);
                }
                Item::Type { name, ty } => {
                    self.type_decls.insert(name.name.clone(), ty);
                }
                Item::Fn { name, params, ret, body } => {
                    self.fns.insert(name.name.clone(), (params, ret, body));
                }
                Item::Var(v) => {
                    self.var_names.insert(v.name.name.clone());
                }
                _ => {}
            }
        }
    }

    /// Lowers the whole file, step by step: constants, types, state
    /// variables (the spec's, the processes', the network's), slot bounds,
    /// initial values, then rules and properties, and instance numbers.
    fn build(&mut self, file: &'a ast::SpecFile, name: String) -> Option<Model> {
        let consts = self.constants();
        self.check_types();
        let var_decls: Vec<&ast::VarDecl> = file
            .items
            .iter()
            .filter_map(|i| if let Item::Var(v) = i { Some(v) } else { None })
            .collect();
        let mut state_len = 0u32;
        self.declare_vars(&var_decls, &mut state_len);
        let process_decls: Vec<&ast::ProcessDecl> = file
            .items
            .iter()
            .filter_map(|i| {
                if let Item::Process(p) = i {
                    Some(p)
                } else {
                    None
                }
            })
            .collect();
        let network_decls: Vec<&ast::NetworkDecl> = file
            .items
            .iter()
            .filter_map(|i| {
                if let Item::Network(n) = i {
                    Some(n)
                } else {
                    None
                }
            })
            .collect();
        self.declare_processes(&process_decls, &mut state_len);
        self.declare_network(&network_decls, &mut state_len);
        let bounds = self.slot_bounds(state_len);
        let (init_values, init_frame_len) = self.initial_values(&var_decls);
        let mut items = self.lower_items(file);
        let mut processes = Vec::new();
        for (i, p) in self.process_decls.clone().iter().enumerate() {
            processes.push(self.lower_process_steps(i, p, &mut items.rules));
        }
        self.environment_rules(&mut items.rules);
        if let Some(extra) = items.reachables.get(ir::MAX_REACHABLES) {
            let d = Diagnostic::error(
                extra.span,
                format!("more than {} `reachable` properties", ir::MAX_REACHABLES),
            )
            .label("Fathom keeps at most this many");
            self.error(d);
        }
        let instance_base = self.instance_bases(&items.rules)?;
        if !self.diagnostics.is_empty() {
            return None;
        }
        let fairness = self.fairness(file, &items.rules, &processes);
        if !self.diagnostics.is_empty() {
            return None;
        }
        let model = Model {
            name,
            consts,
            types: self.types.clone(),
            vars: self.vars.clone(),
            state_len,
            bounds,
            init_values,
            init_frame_len,
            processes,
            network: self.network.as_ref().map(|n| n.info.clone()),
            inits: items.inits,
            rules: items.rules,
            invariants: items.invariants,
            reachables: items.reachables,
            constraints: items.constraints,
            terminals: items.terminals,
            temporals: items.temporals,
            fairness,
            instance_base,
            deadlock: ir::Deadlock::Stuck,
        };
        model.assert_shape();
        Some(model)
    }

    /// Every constant's value, in declaration order (each error reported).
    fn constants(&mut self) -> Vec<(String, i64)> {
        let mut names: Vec<(u32, String)> = self
            .const_decls
            .iter()
            .map(|(n, e)| (e.span.start, n.clone()))
            .collect();
        names.sort();
        let mut consts = Vec::new();
        for (_, c) in names {
            let span = self.const_decls[&c].span;
            if let Ok(v) = self.const_value(&c, span) {
                consts.push((c, v));
            }
        }
        consts
    }

    /// Every declared type is checked, used or not.
    fn check_types(&mut self) {
        let mut names: Vec<(u32, String)> = self
            .type_decls
            .iter()
            .map(|(n, t)| (t.span().start, n.clone()))
            .collect();
        names.sort();
        for (_, t) in &names {
            let span = self.type_decls[t].span();
            let _ = self.named_type(t, span);
        }
    }

    /// The spec's own state variables, in order.
    fn declare_vars(&mut self, var_decls: &[&ast::VarDecl], state_len: &mut u32) {
        for v in var_decls {
            if v.durable {
                self.error(
                    Diagnostic::error(v.name.span, "`durable` is only allowed inside a process")
                        .label("durable outside a process"),
                );
            }
            // A duplicate was reported by `collect`; only the first is kept.
            if self.var_index.contains_key(&v.name.name) {
                continue;
            }
            let Ok(ty) = self.resolve_type(&v.ty) else {
                continue;
            };
            self.add_var(&v.name.name, ty, None, false, v.name.span, state_len);
        }
    }

    /// Each slot's bounds; a slot spanning 2^32 values or more is an error.
    fn slot_bounds(&mut self, state_len: u32) -> Vec<(i64, i64)> {
        let mut bounds = Vec::with_capacity(state_len as usize);
        for v in &self.vars {
            self.types.slot_bounds(&v.ty, &mut bounds);
        }
        if let Some((i, (lo, hi))) = bounds
            .iter()
            .enumerate()
            .find(|(_, (lo, hi))| hi - lo >= 1 << 32)
        {
            let span = self
                .vars
                .iter()
                .find(|v| (v.offset..v.offset + v.len).contains(&(i as u32)))
                .map(|v| v.span)
                .unwrap_or_default();
            self.error(
                Diagnostic::error(span, "a value of this variable needs more than 32 bits")
                    .label(format!("range {lo}..{hi} is too wide"))
                    .note("every integer in a state must span fewer than 2^32 values"),
            );
        }
        bounds
    }

    /// The initializers as statements (one per initialized variable, then
    /// the processes'), and the frame they need.
    fn initial_values(&mut self, var_decls: &[&ast::VarDecl]) -> (Vec<ir::Stmt>, u32) {
        let mut init_values = Vec::new();
        self.begin_frame();
        for v in var_decls {
            if let Some(init) = &v.init
                && let Some(&index) = self.var_index.get(&v.name.name)
                && self.vars[index].span == v.name.span
                && let Ok(stmts) = self.lower_initializer(index, init)
            {
                init_values.extend(stmts);
            }
        }
        self.process_initializers(&mut init_values);
        (init_values, self.frame_len)
    }

    /// The spec's `init`s, rules and properties (each error reported).
    fn lower_items(&mut self, file: &'a ast::SpecFile) -> Items {
        let mut items = Items::default();
        for item in &file.items {
            match item {
                Item::Init(r) => items.inits.extend(self.lower_rule(r).ok()),
                Item::Rule(r) => items.rules.extend(self.lower_rule(r).ok()),
                Item::Invariant { name, expr } => items
                    .invariants
                    .extend(self.lower_property(&name.name, expr).ok()),
                Item::Reachable { name, expr } => items
                    .reachables
                    .extend(self.lower_property(&name.name, expr).ok()),
                Item::Constraint(expr) => items
                    .constraints
                    .extend(self.lower_property("constraint", expr).ok()),
                Item::Terminal(expr) => items
                    .terminals
                    .extend(self.lower_property("terminal", expr).ok()),
                Item::Property(p) => items.temporals.extend(self.lower_temporal(p).ok()),
                _ => {}
            }
        }
        items
    }

    /// The global number of each rule's first instance, and the end;
    /// `None` past 2^32 instances (reported).
    fn instance_bases(&mut self, rules: &[Rule]) -> Option<Vec<u64>> {
        let mut instance_base = vec![0u64];
        for r in rules {
            let next = instance_base
                .last()
                .copied()
                .unwrap_or(0)
                .checked_add(r.instances);
            match next {
                Some(n) if n <= u32::MAX as u64 => instance_base.push(n),
                _ => {
                    self.error(
                        Diagnostic::error(r.span, "too many rule instances")
                            .label("the rules' parameters have more than 2^32 combinations"),
                    );
                    return None;
                }
            }
        }
        Some(instance_base)
    }

    /// Appends a state variable; its slots follow the previous ones.
    pub(crate) fn add_var(
        &mut self,
        name: &str,
        ty: Ty,
        process: Option<u32>,
        durable: bool,
        span: Span,
        state_len: &mut u32,
    ) -> usize {
        let len = self.types.flat_len(&ty);
        let index = self.vars.len();
        self.var_index.insert(name.to_string(), index);
        self.vars.push(ir::Var {
            name: name.to_string(),
            ty,
            offset: *state_len,
            len,
            process,
            durable,
            span,
        });
        *state_len += len;
        index
    }

    // ---- constants ----

    fn const_value(&mut self, name: &str, use_span: Span) -> L<i64> {
        if let Some(v) = self.overrides.get(name) {
            return Ok(*v);
        }
        if let Some(v) = self.const_values.get(name) {
            return Ok(*v);
        }
        if self.const_failed.contains(name) {
            return Err(Reported);
        }
        let Some(expr) = self.const_decls.get(name).copied() else {
            return Err(self.error(Diagnostic::error(use_span, format!("no constant `{name}`"))));
        };
        if !self.const_in_progress.insert(name.to_string()) {
            return Err(self.error(
                Diagnostic::error(expr.span, format!("constant `{name}` depends on itself"))
                    .label("cycle through this definition"),
            ));
        }
        let v = self.fold_int(expr);
        self.const_in_progress.remove(name);
        let Ok(v) = v else {
            self.const_failed.insert(name.to_string());
            return v;
        };
        self.const_values.insert(name.to_string(), v);
        Ok(v)
    }

    /// Evaluates a constant integer expression (no state, no locals).
    pub(crate) fn fold_int(&mut self, expr: &ast::Expr) -> L<i64> {
        let saved = (
            std::mem::take(&mut self.locals),
            self.barrier,
            self.const_context,
        );
        self.barrier = 0;
        self.const_context = true;
        let lowered = self.expr(expr, Some(&Ty::Int));
        (self.locals, self.barrier, self.const_context) = saved;
        let (ir, ty) = lowered?;
        if !ty.is_int() {
            return Err(self.error(
                Diagnostic::error(expr.span, "expected a constant integer")
                    .label(format!("this is of type {}", self.types.name(&ty))),
            ));
        }
        match eval::eval_const(&self.types, &ir, self.next_local.max(self.frame_len)) {
            Ok(v) => Ok(v),
            Err(e) => Err(self.error(
                Diagnostic::error(expr.span, "cannot evaluate this constant").label(e.message),
            )),
        }
    }

    // ---- types ----

    fn named_type(&mut self, name: &str, span: Span) -> L<Ty> {
        if name == "bool" {
            return Ok(Ty::Bool);
        }
        if let Some(t) = self.type_values.get(name) {
            return Ok(t.clone());
        }
        let Some(decl) = self.type_decls.get(name).copied() else {
            return Err(self.error(
                Diagnostic::error(span, format!("no type named `{name}`")).label("unknown type"),
            ));
        };
        if !self.type_in_progress.insert(name.to_string()) {
            return Err(self.error(
                Diagnostic::error(span, format!("type `{name}` is defined in terms of itself"))
                    .label("recursive types are not finite"),
            ));
        }
        let ty = self.type_expr(decl, Some(name));
        self.type_in_progress.remove(name);
        let ty = ty?;
        self.type_values.insert(name.to_string(), ty.clone());
        Ok(ty)
    }

    pub(crate) fn resolve_type(&mut self, t: &TypeExpr) -> L<Ty> {
        self.type_expr(t, None)
    }

    fn type_expr(&mut self, t: &TypeExpr, name: Option<&str>) -> L<Ty> {
        let ty = match t {
            TypeExpr::Bool(_) => Ty::Bool,
            TypeExpr::Named(id) => self.named_type(&id.name, id.span)?,
            TypeExpr::Range { lo, hi, span } => {
                let lo_v = self.fold_int(lo)?;
                let hi_v = self.fold_int(hi)?;
                if lo_v > hi_v {
                    return Err(self.error(
                        Diagnostic::error(*span, "empty range type")
                            .label(format!("{lo_v}..{hi_v} has no values")),
                    ));
                }
                Ty::Range(lo_v, hi_v)
            }
            TypeExpr::Enum { variants, span } => {
                let mut seen = HashSet::new();
                let mut def = ir::EnumDef {
                    name: name.unwrap_or("enum").to_string(),
                    variants: Vec::new(),
                };
                for (v, fields) in variants {
                    if !seen.insert(v.name.clone()) {
                        return Err(self.error(
                            Diagnostic::error(
                                v.span,
                                format!("variant `{}` appears twice", v.name),
                            )
                            .label("duplicate variant"),
                        ));
                    }
                    let fields = self.fields(fields)?;
                    def.variants
                        .push(ir::Variant { name: v.name.clone(), fields });
                }
                if def.variants.is_empty() {
                    return Err(self.error(
                        Diagnostic::error(*span, "an enum needs at least one variant")
                            .label("empty enum"),
                    ));
                }
                self.types.enums.push(def);
                Ty::Enum(self.types.enums.len() as u32 - 1)
            }
            TypeExpr::Symmetric { count, span } => {
                let Some(name) = name else {
                    return Err(self.error(
                        Diagnostic::error(*span, "a symmetric type needs a name")
                            .label("declare it as `type T = symmetric N;` and use `T` here"),
                    ));
                };
                let n = self.fold_int(count)?;
                if !(1..=64).contains(&n) {
                    return Err(self.error(
                        Diagnostic::error(count.span, "symmetric type size out of range")
                            .label(format!("{n} is not in 1..64")),
                    ));
                }
                self.types
                    .syms
                    .push(ir::SymDef { name: name.to_string(), size: n as u32 });
                Ty::Sym(self.types.syms.len() as u32 - 1)
            }
            TypeExpr::Record { fields, .. } => {
                let fields = self.fields(fields)?;
                self.types
                    .records
                    .push(ir::RecordDef { name: name.unwrap_or("record").to_string(), fields });
                Ty::Record(self.types.records.len() as u32 - 1)
            }
            TypeExpr::Array { index, elem, span } => {
                let index_ty = self.resolve_type(index)?;
                self.check_index_type(&index_ty, index.span())?;
                let elem_ty = self.resolve_type(elem)?;
                let ty = Ty::Array(Box::new(index_ty), Box::new(elem_ty));
                self.check_size(&ty, *span)?;
                ty
            }
            TypeExpr::Set { elem, span } => {
                let elem_ty = self.resolve_type(elem)?;
                if self.types.card(&elem_ty).is_none_or(|c| c > 1 << 16) {
                    return Err(self.error(
                        Diagnostic::error(*span, "set element type is too large")
                            .label(format!(
                                "`{}` has more than 65536 values",
                                self.types.name(&elem_ty)
                            ))
                            .note("a set is stored as one bit per possible element"),
                    ));
                }
                Ty::Set(Box::new(elem_ty))
            }
            TypeExpr::Seq { elem, capacity, span } => {
                let elem_ty = self.resolve_type(elem)?;
                let cap = self.fold_int(capacity)?;
                if !(0..=4096).contains(&cap) {
                    return Err(self.error(
                        Diagnostic::error(capacity.span, "sequence capacity out of range")
                            .label(format!("{cap} is not in 0..4096")),
                    ));
                }
                let ty = Ty::Seq(Box::new(elem_ty), cap as u32);
                self.check_size(&ty, *span)?;
                ty
            }
        };
        Ok(ty)
    }

    fn fields(&mut self, params: &[ast::Param]) -> L<Vec<(String, Ty)>> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for p in params {
            if !seen.insert(p.name.name.clone()) {
                return Err(self.error(
                    Diagnostic::error(
                        p.name.span,
                        format!("field `{}` appears twice", p.name.name),
                    )
                    .label("duplicate field"),
                ));
            }
            out.push((p.name.name.clone(), self.resolve_type(&p.ty)?));
        }
        Ok(out)
    }

    fn check_index_type(&mut self, ty: &Ty, span: Span) -> L<()> {
        match ty {
            Ty::Bool | Ty::Range(..) | Ty::Sym(_) => Ok(()),
            Ty::Enum(id) if !self.types.enums[*id as usize].has_fields() => Ok(()),
            _ => Err(self.error(
                Diagnostic::error(span, "not an index type")
                    .label(format!("`{}` cannot index an array", self.types.name(ty)))
                    .note(
                        "array indexes are ranges, bool, symmetric types, or enums without fields",
                    ),
            )),
        }
    }

    fn check_size(&mut self, ty: &Ty, span: Span) -> L<()> {
        let len = self.flat_len_checked(ty);
        if len.is_none_or(|l| l > 1 << 20) {
            return Err(self.error(
                Diagnostic::error(span, "type is too large")
                    .label("a value of this type needs more than 2^20 slots"),
            ));
        }
        Ok(())
    }

    fn flat_len_checked(&self, ty: &Ty) -> Option<u64> {
        match ty {
            Ty::Array(i, e) => self.types.card(i)?.checked_mul(self.flat_len_checked(e)?),
            Ty::Seq(e, k) => (*k as u64)
                .checked_mul(self.flat_len_checked(e)?)?
                .checked_add(1),
            _ => Some(self.types.flat_len(ty) as u64),
        }
    }

    /// The first value and count of an index type: arrays are laid out from it.
    pub(crate) fn index_range(&self, ty: &Ty) -> (i64, u32) {
        match ty {
            Ty::Range(lo, hi) => (*lo, (hi - lo + 1) as u32),
            _ => (0, self.types.card(ty).unwrap_or(0) as u32),
        }
    }

    // ---- frames and locals ----

    fn begin_frame(&mut self) {
        self.locals.clear();
        self.barrier = 0;
        self.next_local = 0;
        self.frame_len = 0;
    }

    pub(crate) fn begin_rule_frame(&mut self) {
        self.begin_frame();
    }

    pub(crate) fn push_local(&mut self, name: &str, ty: Ty) -> u32 {
        let offset = self.next_local;
        let len = self.types.flat_len(&ty);
        self.next_local += len;
        self.frame_len = self.frame_len.max(self.next_local);
        self.locals
            .push(Local { name: name.to_string(), offset, ty });
        offset
    }

    /// Scope marker: `pop_scope(mark)` forgets names pushed since. Slots are
    /// not reused, so a frame's length is the sum of its locals' lengths.
    pub(crate) fn scope(&self) -> usize {
        self.locals.len()
    }
    pub(crate) fn pop_scope(&mut self, mark: usize) {
        self.locals.truncate(mark);
    }

    pub(crate) fn find_local(&self, name: &str) -> Option<(u32, Ty)> {
        self.locals[self.barrier..]
            .iter()
            .rev()
            .find(|l| l.name == name)
            .map(|l| (l.offset, l.ty.clone()))
    }

    fn lower_rule(&mut self, r: &ast::RuleDecl) -> L<Rule> {
        self.begin_frame();
        self.lower_rule_with(r, r.name.name.clone(), Vec::new(), None)
    }

    /// Lowers a rule whose frame already holds `params` (a process's index,
    /// a message's fields); `prelude` is a guard to conjoin before its own.
    pub(crate) fn lower_rule_with(
        &mut self,
        r: &ast::RuleDecl,
        name: String,
        mut params: Vec<ir::Param>,
        prelude: Option<ir::Expr>,
    ) -> L<Rule> {
        let mut instances: u64 = params.iter().map(|p| p.card).product();
        params.extend(self.lower_params(&r.params, &mut instances)?);
        let guard = match &r.guard {
            Some(g) => Some(self.bool_expr(g)?),
            None => None,
        };
        let guard = match (prelude, guard) {
            (Some(p), Some(g)) => Some(ir::Expr::And(Box::new(p), Box::new(g))),
            (p, g) => p.or(g),
        };
        let body = self.block(&r.body)?;
        Ok(Rule {
            name,
            params,
            guard,
            body,
            frame_len: self.frame_len,
            instances,
            span: r.span,
        })
    }

    /// Parameters (of a rule, an `init`, a property's `forall`s) as locals
    /// of the current frame; `instances` is multiplied by their values.
    pub(crate) fn lower_params(
        &mut self,
        params: &[ast::Param],
        instances: &mut u64,
    ) -> L<Vec<ir::Param>> {
        let mut out = Vec::with_capacity(params.len());
        for p in params {
            let ty = self.resolve_type(&p.ty)?;
            let Some(card) = self.types.card(&ty) else {
                return Err(self.error(
                    Diagnostic::error(p.ty.span(), "parameter type is too large to enumerate")
                        .label(format!("`{}` has too many values", self.types.name(&ty))),
                ));
            };
            *instances = instances.saturating_mul(card);
            let local = self.push_local(&p.name.name, ty.clone());
            let len = self.types.flat_len(&ty);
            out.push(ir::Param {
                name: p.name.name.clone(),
                ty,
                local,
                len,
                card,
                hidden: false,
            });
        }
        Ok(out)
    }

    fn lower_property(&mut self, name: &str, expr: &ast::Expr) -> L<Property> {
        self.begin_frame();
        let e = self.bool_expr(expr)?;
        Ok(Property {
            name: name.to_string(),
            expr: e,
            frame_len: self.frame_len,
            span: expr.span,
        })
    }
}
