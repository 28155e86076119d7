//! Lowering of processes, messages and the network.
//!
//! A process's variables become state arrays over its index type; its
//! rules, timeouts, inputs and `on` handlers become rules whose first
//! parameter is the instance (`self`). Every process instance has a global
//! id, a value of the process-id enum (`TM`, `RMgr[0]`, ...). The network is
//! one state variable, shaped by its `order`:
//! - `set`: a set of envelopes (src, dst, msg); receipt does not consume;
//! - `bag`: a count of copies, `0..=capacity`, per envelope;
//! - `fifo`: a queue of messages, at most `capacity` long, per (src, dst).
//!
//! `loss` adds a rule that drops any message in flight; `crash: N` adds a
//! rule that resets one instance's non-durable variables, at most N times.

use std::collections::HashMap;
use std::rc::Rc;

use super::expr::project;
use super::{L, Lowerer};
use crate::ast::{self, RuleKind};
use crate::diagnostic::Diagnostic;
use crate::eval::ErrorKind;
use crate::ir::{self, Expr, IntOp, Order, Place, Root, Rule, Step, StepKind, Stmt, Ty, Types};
use crate::span::Span;

pub(crate) struct ProcCtx {
    pub name: String,
    pub index: Ty,
    /// First value of the index type: instance k has index value lo + k.
    pub lo: i64,
    pub singleton: bool,
    pub first_pid: u32,
    pub count: u32,
    pub vars: HashMap<String, usize>,
    pub index_name: String,
}

#[derive(Clone, Copy)]
pub(crate) struct Current {
    pub process: usize,
    pub self_local: u32,
    pub src_local: Option<u32>,
}

/// The declared network, handed to whatever lowers a message (shared:
/// lowering goes on mutating the `Lowerer` while it holds this).
pub(crate) struct NetCtx {
    pub info: ir::Network,
    pub envelope: Ty,
    pub processes: u32,
    pub span: Span,
    /// The network's state variable.
    pub place: Place,
}

impl<'a> Lowerer<'a> {
    pub(crate) fn declare_processes(
        &mut self,
        decls: &[&'a ast::ProcessDecl],
        state_len: &mut u32,
    ) {
        if decls.is_empty() {
            return;
        }
        let mut first_pid = 0u32;
        let mut names = Vec::new();
        // `self.process_decls[i]` is the declaration of `self.processes[i]`:
        // a declaration that fails here (or repeats a name) gets neither.
        self.process_decls.clear();
        for p in decls.iter().copied() {
            if self.proc_index.contains_key(&p.name.name) {
                continue; // a duplicate, reported by `collect`
            }
            let i = self.processes.len();
            let (index, index_name) = match &p.index {
                Some(param) => match self.resolve_type(&param.ty) {
                    Ok(t) => (t, param.name.name.clone()),
                    Err(_) => continue,
                },
                None => (Ty::Range(0, 0), "self".to_string()),
            };
            if !matches!(index, Ty::Range(..) | Ty::Bool | Ty::Sym(_))
                && !matches!(&index, Ty::Enum(id) if !self.types.enums[*id as usize].has_fields())
            {
                self.error(
                    Diagnostic::error(
                        p.name.span,
                        "a process index must be a range, bool, a symmetric type or an enum without fields",
                    )
                    .label("bad process index type"),
                );
                continue;
            }
            let (lo, count) = self.index_range(&index);
            let singleton = p.index.is_none();
            let mut key = vec![0i64; 1];
            for k in 0..count {
                if singleton {
                    names.push(p.name.name.clone());
                } else {
                    self.types.value_at(&index, k as u64, &mut key);
                    let v = crate::value::Value::decode(&self.types, &index, &key);
                    names.push(format!("{}[{v}]", p.name.name));
                }
            }
            self.proc_index.insert(p.name.name.clone(), i);
            self.process_decls.push(p);
            self.processes.push(ProcCtx {
                name: p.name.name.clone(),
                index,
                lo,
                singleton,
                first_pid,
                count,
                vars: HashMap::new(),
                index_name,
            });
            first_pid += count;
        }
        self.types.enums.push(ir::EnumDef {
            name: "Process".to_string(),
            variants: names
                .into_iter()
                .map(|name| ir::Variant { name, fields: Vec::new() })
                .collect(),
        });
        let declared = self.process_decls.clone();
        for (i, p) in declared.iter().enumerate() {
            let index = self.processes[i].index.clone();
            for v in &p.vars {
                let Ok(ty) = self.resolve_type(&v.ty) else {
                    continue;
                };
                let name = format!("{}.{}", p.name.name, v.name.name);
                if self.processes[i].vars.contains_key(&v.name.name) {
                    self.error(
                        Diagnostic::error(
                            v.name.span,
                            format!("`{}` is declared twice in this process", v.name.name),
                        )
                        .label("second declaration"),
                    );
                    continue;
                }
                let array = Ty::Array(Box::new(index.clone()), Box::new(ty));
                let var = self.add_var(
                    &name,
                    array,
                    Some(i as u32),
                    v.durable,
                    v.name.span,
                    state_len,
                );
                self.processes[i].vars.insert(v.name.name.clone(), var);
            }
        }
    }

    pub(crate) fn pid_ty(&self) -> Ty {
        let id = self
            .types
            .enums
            .iter()
            .rposition(|e| e.name == "Process")
            .unwrap_or(0);
        Ty::Enum(id as u32)
    }

    pub(crate) fn declare_network(&mut self, decls: &[&ast::NetworkDecl], state_len: &mut u32) {
        let Some(decl) = decls.first() else { return };
        if let Some(second) = decls.get(1) {
            self.error(
                Diagnostic::error(second.span, "a spec has one network block")
                    .label("second network block"),
            );
        }
        if let Some(p) = self
            .processes
            .iter()
            .find(|p| matches!(p.index, Ty::Sym(_)))
        {
            let name = self.types.name(&p.index);
            self.error(
                Diagnostic::error(decl.span, "a network between symmetric process instances is not supported yet")
                    .label(format!("process `{}` is indexed by symmetric type `{name}`", p.name))
                    .note("index the process by a range, or keep the state in arrays over the symmetric type"),
            );
            return;
        }
        if self.processes.is_empty() {
            self.error(
                Diagnostic::error(decl.span, "a network needs processes")
                    .label("no process is declared"),
            );
            return;
        }
        let msg = match self.type_decls.contains_key("Msg") {
            true => match self.named_type("Msg", decl.span) {
                Ok(t @ Ty::Enum(_)) => t,
                Ok(_) => {
                    self.error(
                        Diagnostic::error(decl.span, "`Msg` must be an enum")
                            .label("messages are its variants"),
                    );
                    return;
                }
                Err(_) => return,
            },
            false => {
                self.error(
                    Diagnostic::error(decl.span, "a network needs `type Msg = enum { ... }`")
                        .label("messages are the variants of `Msg`"),
                );
                return;
            }
        };
        let mut info = ir::Network {
            order: Order::Bag,
            capacity: 1,
            loss: false,
            duplication: false,
            crash: 0,
            pid: self.pid_ty(),
            msg: msg.clone(),
            var: 0,
        };
        for (key, value) in &decl.settings {
            match key.name.as_str() {
                "order" => match &value.kind {
                    ast::ExprKind::Name(n) if n == "set" => info.order = Order::Set,
                    ast::ExprKind::Name(n) if n == "bag" => info.order = Order::Bag,
                    ast::ExprKind::Name(n) if n == "fifo" => info.order = Order::Fifo,
                    _ => {
                        self.error(
                            Diagnostic::error(value.span, "unknown network order")
                                .label("use `set`, `bag` or `fifo`"),
                        );
                    }
                },
                "capacity" | "crash" => {
                    let Ok(v) = self.fold_int(value) else {
                        continue;
                    };
                    if !(0..=1024).contains(&v) || (key.name == "capacity" && v == 0) {
                        self.error(
                            Diagnostic::error(value.span, format!("`{}` out of range", key.name))
                                .label(format!("{v} is not in 1..1024")),
                        );
                        continue;
                    }
                    if key.name == "capacity" {
                        info.capacity = v as u32;
                    } else {
                        info.crash = v as u32;
                    }
                }
                "loss" | "duplication" => {
                    let b = match &value.kind {
                        ast::ExprKind::Bool(b) => *b,
                        _ => {
                            self.error(
                                Diagnostic::error(
                                    value.span,
                                    format!("`{}` is `true` or `false`", key.name),
                                )
                                .label("not a boolean"),
                            );
                            continue;
                        }
                    };
                    if key.name == "loss" {
                        info.loss = b;
                    } else {
                        info.duplication = b;
                    }
                }
                other => {
                    self.error(
                        Diagnostic::error(key.span, format!("unknown network setting `{other}`"))
                            .label("settings: order, capacity, loss, duplication, crash"),
                    );
                }
            }
        }
        let pid = info.pid.clone();
        self.types.records.push(ir::RecordDef {
            name: "Envelope".to_string(),
            fields: vec![
                ("src".into(), pid.clone()),
                ("dst".into(), pid.clone()),
                ("msg".into(), msg.clone()),
            ],
        });
        let envelope = Ty::Record(self.types.records.len() as u32 - 1);
        let processes: u32 = self.processes.iter().map(|p| p.count).sum();
        let ty = match info.order {
            Order::Set => Ty::Set(Box::new(envelope.clone())),
            Order::Bag => {
                let Some(k) = self.types.card(&envelope).filter(|k| *k <= 1 << 16) else {
                    self.error(
                        Diagnostic::error(
                            decl.span,
                            "too many distinct messages for a bag network",
                        )
                        .label("more than 65536 envelopes"),
                    );
                    return;
                };
                Ty::Array(
                    Box::new(Ty::Range(0, k as i64 - 1)),
                    Box::new(Ty::Range(0, info.capacity as i64)),
                )
            }
            Order::Fifo => Ty::Array(
                Box::new(Ty::Range(0, (processes * processes) as i64 - 1)),
                Box::new(Ty::Seq(Box::new(msg.clone()), info.capacity)),
            ),
        };
        if info.order == Order::Set && self.types.card(&envelope).is_none_or(|k| k > 1 << 16) {
            self.error(
                Diagnostic::error(decl.span, "too many distinct messages for a set network")
                    .label("more than 65536 envelopes"),
            );
            return;
        }
        info.var = self.add_var("network", ty, None, false, decl.span, state_len);
        if info.crash > 0 {
            self.add_var(
                "crashes",
                Ty::Range(0, info.crash as i64),
                None,
                false,
                decl.span,
                state_len,
            );
        }
        let v = &self.vars[info.var];
        let place = Place {
            root: Root::State,
            offset: v.offset,
            steps: vec![],
            len: v.len,
        };
        self.network = Some(Rc::new(NetCtx {
            info,
            envelope,
            processes,
            span: decl.span,
            place,
        }));
    }

    /// The global id of the current instance.
    pub(crate) fn self_pid(&self, cur: Current) -> Expr {
        let p = &self.processes[cur.process];
        let me = Expr::Read(Place {
            root: Root::Local,
            offset: cur.self_local,
            steps: vec![],
            len: 1,
        });
        Expr::Arith(
            IntOp::Add,
            Box::new(me),
            Box::new(Expr::Int(p.first_pid as i64 - p.lo)),
            Span::default(),
        )
    }

    /// The global id of instance `index` (an expression of the index type) of process `p`.
    pub(crate) fn pid_of(&self, p: usize, index: Expr) -> Expr {
        let ctx = &self.processes[p];
        Expr::Arith(
            IntOp::Add,
            Box::new(index),
            Box::new(Expr::Int(ctx.first_pid as i64 - ctx.lo)),
            Span::default(),
        )
    }

    /// `P.var` / `P[i].var`: the variable of a given instance.
    pub(crate) fn process_var(&mut self, p: usize, index: Expr, var: &ast::Ident) -> L<(Expr, Ty)> {
        let Some(&v) = self.processes[p].vars.get(&var.name) else {
            let name = self.processes[p].name.clone();
            return Err(self.error(
                Diagnostic::error(
                    var.span,
                    format!("process `{name}` has no variable `{}`", var.name),
                )
                .label("unknown variable"),
            ));
        };
        let var_def = &self.vars[v];
        let Ty::Array(index_ty, elem) = var_def.ty.clone() else {
            unreachable!("process variables are arrays")
        };
        let (lo, count) = self.index_range(&index_ty);
        let stride = self.types.flat_len(&elem);
        let base = Expr::Read(Place {
            root: Root::State,
            offset: var_def.offset,
            steps: vec![],
            len: var_def.len,
        });
        let step = Step::Index { index, lo, count, stride, span: var.span };
        Ok((project(base, var_def.len, step, stride), *elem))
    }

    /// A name inside a process: one of its variables, as `var[self]`.
    pub(crate) fn own_var(&mut self, name: &str, span: Span) -> Option<L<(Expr, Ty)>> {
        let cur = self.current?;
        if !self.processes[cur.process].vars.contains_key(name) {
            return None;
        }
        let me = Expr::Read(Place {
            root: Root::Local,
            offset: cur.self_local,
            steps: vec![],
            len: 1,
        });
        let ident = ast::Ident { name: name.to_string(), span };
        Some(self.process_var(cur.process, me, &ident))
    }

    pub(crate) fn process_initializers(&mut self, out: &mut Vec<Stmt>) {
        let declared = self.process_decls.clone();
        for (i, p) in declared.iter().enumerate() {
            let count = self.processes[i].count;
            for k in 0..count {
                if let Ok(stmts) =
                    self.instance_reset(i, p, Expr::Int(self.index_value(i, k)), true)
                {
                    out.extend(stmts);
                }
            }
        }
    }

    fn index_value(&self, p: usize, k: u32) -> i64 {
        self.processes[p].lo + k as i64
    }

    /// Statements that give instance `index` of process `p` its initial
    /// values (only the non-durable ones unless `all`).
    fn instance_reset(
        &mut self,
        p: usize,
        decl: &ast::ProcessDecl,
        index: Expr,
        all: bool,
    ) -> L<Vec<Stmt>> {
        let index_ty = self.processes[p].index.clone();
        let self_local = self.push_local("self", index_ty);
        let saved = self
            .current
            .replace(Current { process: p, self_local, src_local: None });
        let mut out = vec![Stmt::Let { local: self_local, len: 1, value: index }];
        let mut result = Ok(());
        for v in &decl.vars {
            if v.durable && !all {
                continue;
            }
            let me = Expr::Read(Place {
                root: Root::Local,
                offset: self_local,
                steps: vec![],
                len: 1,
            });
            let Ok((Expr::Read(place), ty)) = self.process_var(p, me, &v.name) else {
                continue;
            };
            match &v.init {
                Some(init) => match self.lower_fill(place, ty, init) {
                    Ok(stmts) => out.extend(stmts),
                    Err(e) => result = Err(e),
                },
                None => {
                    let mut value = Vec::new();
                    self.types.default_value(&ty, &mut value);
                    let mut bounds = Vec::new();
                    self.types.slot_bounds(&ty, &mut bounds);
                    let value = if value.len() == 1 {
                        Expr::Int(value[0])
                    } else {
                        Expr::Lit(value)
                    };
                    out.push(Stmt::Assign { place, value, bounds, span: v.name.span });
                }
            }
        }
        self.current = saved;
        result.map(|()| out)
    }

    /// The index parameter of a process rule, bound as `self` and by its name.
    fn self_param(&mut self, p: usize) -> (ir::Param, u32) {
        let ctx = &self.processes[p];
        let (ty, name, singleton, count) = (
            ctx.index.clone(),
            ctx.index_name.clone(),
            ctx.singleton,
            ctx.count,
        );
        let local = self.push_local(&name, ty.clone());
        let param = ir::Param {
            name,
            ty,
            local,
            len: 1,
            card: count as u64,
            hidden: singleton,
        };
        (param, local)
    }

    pub(crate) fn lower_process_steps(
        &mut self,
        p: usize,
        decl: &ast::ProcessDecl,
        rules: &mut Vec<Rule>,
    ) -> ir::Process {
        let ctx = &self.processes[p];
        let mut out = ir::Process {
            name: ctx.name.clone(),
            index: ctx.index.clone(),
            singleton: ctx.singleton,
            first_pid: ctx.first_pid,
            count: ctx.count,
            vars: ctx.vars.values().copied().collect(),
            rules: Vec::new(),
            handlers: Vec::new(),
        };
        out.vars.sort();
        for r in &decl.rules {
            self.begin_rule_frame();
            let (param, self_local) = self.self_param(p);
            self.current = Some(Current { process: p, self_local, src_local: None });
            let name = format!("{}.{}", decl.name.name, r.name.name);
            let lowered = self.lower_rule_with(r, name, vec![param], None);
            self.current = None;
            if let Ok(rule) = lowered {
                let kind = match r.kind {
                    RuleKind::Timeout => StepKind::Timeout,
                    RuleKind::Input => StepKind::Input,
                    _ => StepKind::Rule,
                };
                out.rules.push((rules.len(), kind));
                rules.push(rule);
            }
        }
        for h in &decl.handlers {
            if let Ok((rule, mut handler)) = self.lower_handler(p, decl, h) {
                handler.rule = rules.len();
                out.rules.push((rules.len(), StepKind::Receive));
                out.handlers.push(handler);
                rules.push(rule);
            }
        }
        out
    }

    fn require_network(&mut self, span: Span) -> L<Rc<NetCtx>> {
        match &self.network {
            Some(net) => Ok(Rc::clone(net)),
            None => Err(self.error(
                Diagnostic::error(span, "messages need a network")
                    .label("no `network { ... }` block")
                    .note("add e.g. `network { order: bag, capacity: 2 }`"),
            )),
        }
    }

    /// An `on` handler as a model rule, and as the emitter sees it (its
    /// `rule` number is the caller's to fill in).
    fn lower_handler(
        &mut self,
        p: usize,
        decl: &ast::ProcessDecl,
        h: &ast::OnDecl,
    ) -> L<(Rule, ir::Handler)> {
        let net = self.require_network(h.span)?;
        let (msg_ty, pid_ty) = (net.info.msg.clone(), net.info.pid.clone());
        let Ty::Enum(msg_id) = msg_ty else {
            unreachable!("Msg is an enum")
        };
        let def = self.types.enums[msg_id as usize].clone();
        let Some(tag) = def.variants.iter().position(|v| v.name == h.variant.name) else {
            return Err(self.error(
                Diagnostic::error(
                    h.variant.span,
                    format!("`Msg` has no variant `{}`", h.variant.name),
                )
                .label("unknown message"),
            ));
        };
        let variant = &def.variants[tag];
        for f in &h.fields {
            if !variant.fields.iter().any(|(n, _)| *n == f.name) {
                return Err(self.error(
                    Diagnostic::error(
                        f.span,
                        format!("message `{}` has no field `{}`", variant.name, f.name),
                    )
                    .label("unknown field"),
                ));
            }
        }
        self.begin_rule_frame();
        let (self_param, self_local) = self.self_param(p);
        let pid_card = self.types.card(&pid_ty).unwrap_or(1);
        let src_name = h
            .from
            .as_ref()
            .map_or("from".to_string(), |f| f.name.clone());
        let src_local = self.push_local(&src_name, pid_ty.clone());
        let mut params = vec![
            self_param,
            ir::Param {
                name: src_name,
                ty: pid_ty.clone(),
                local: src_local,
                len: 1,
                card: pid_card,
                hidden: false,
            },
        ];
        let mut fields = Vec::new();
        for (fname, fty) in &variant.fields {
            let visible = h.fields.iter().any(|f| f.name == *fname);
            let local = self.push_local(if visible { fname } else { "" }, fty.clone());
            let len = self.types.flat_len(fty);
            let card = self.types.card(fty).unwrap_or(1);
            params.push(ir::Param {
                name: fname.clone(),
                ty: fty.clone(),
                local,
                len,
                card,
                hidden: false,
            });
            fields.push(Expr::Read(Place {
                root: Root::Local,
                offset: local,
                steps: vec![],
                len,
            }));
        }
        let cur = Current { process: p, self_local, src_local: Some(src_local) };
        self.current = Some(cur);
        let mut default = Vec::new();
        self.types.default_value(&Ty::Enum(msg_id), &mut default);
        let msg = Expr::Variant {
            default,
            tag: tag as u32,
            offset: self.types.variant_offset(msg_id, tag as u32),
            fields,
        };
        let src = Expr::Read(Place {
            root: Root::Local,
            offset: src_local,
            steps: vec![],
            len: 1,
        });
        let dst = self.self_pid(cur);
        let (present, consume) = net.receive(&self.types, Envelope { src, dst, msg }, h.span);
        let rule_decl = ast::RuleDecl {
            kind: RuleKind::Rule,
            fair: h.fair,
            name: h.variant.clone(),
            params: Vec::new(),
            guard: h.guard.clone(),
            body: h.body.clone(),
            span: h.span,
        };
        let name = format!("{}.on {}", decl.name.name, h.variant.name);
        let lowered = self.lower_rule_with(&rule_decl, name, params, Some(present));
        self.current = None;
        let mut rule = lowered?;
        // `lower_rule_with` made the guard `present && when`, or `present`.
        let own = match (&h.guard, &rule.guard) {
            (Some(_), Some(Expr::And(_, g))) => Some((**g).clone()),
            (Some(_), _) => unreachable!("a handler's guard is `present && when`"),
            (None, _) => None,
        };
        let handler = ir::Handler {
            rule: usize::MAX,
            tag: tag as u32,
            guard: own,
            consume: consume.len(),
        };
        rule.body.splice(0..0, consume);
        Ok((rule, handler))
    }

    /// `in_flight(dest)`: messages in flight from this instance to `dest`
    /// (copies in a bag, queue length in a fifo, distinct messages in a set).
    pub(crate) fn in_flight(&mut self, dest: &ast::Expr, span: Span) -> L<(Expr, Ty)> {
        let cur = self.current_or_error(span, "in_flight")?;
        let net = self.require_network(span)?;
        let (order, msg_ty, pid_ty) = (net.info.order, net.info.msg.clone(), net.info.pid.clone());
        let (d, dty) = self.expr(dest, Some(&pid_ty))?;
        self.expect_ty(&dty, &pid_ty, dest.span)?;
        let src = self.self_pid(cur);
        if order == Order::Fifo {
            let queue = net.fifo_queue(&self.types, src, d, span);
            let qlen = queue.len;
            return Ok((Expr::Len(Box::new(Expr::Read(queue)), qlen), Ty::Int));
        }
        // Bags and sets: add up over every message value.
        let len = self.types.flat_len(&msg_ty);
        let local = self.push_local("", msg_ty.clone());
        let m = Expr::Read(Place {
            root: Root::Local,
            offset: local,
            steps: vec![],
            len,
        });
        let env = envelope(src, d, m);
        let (kind, body) = match order {
            Order::Bag => (
                ir::QuantKind::Sum,
                Expr::Read(net.bag_slot(&self.types, env, span)),
            ),
            _ => {
                let set = Expr::Read(net.place.clone());
                (
                    ir::QuantKind::Count,
                    Expr::In {
                        elem: Box::new(env),
                        elem_ty: net.envelope.clone(),
                        set: Box::new(set),
                    },
                )
            }
        };
        let domain = ir::Domain::Type(msg_ty);
        Ok((
            Expr::Quant { kind, local, len, domain, body: Box::new(body) },
            Ty::Int,
        ))
    }

    fn current_or_error(&mut self, span: Span, what: &str) -> L<Current> {
        match self.current {
            Some(c) => Ok(c),
            None => Err(self.error(
                Diagnostic::error(span, format!("`{what}` outside a process"))
                    .label("only a process sends messages"),
            )),
        }
    }

    /// What `send`, `broadcast` and `reply` share: the sending instance,
    /// and the message lowered as a `Msg`.
    fn message(
        &mut self,
        msg: &ast::Expr,
        span: Span,
        what: &str,
    ) -> L<(Current, Expr, Rc<NetCtx>)> {
        let cur = self.current_or_error(span, what)?;
        let net = self.require_network(span)?;
        let msg_ty = net.info.msg.clone();
        let (m, mty) = self.expr(msg, Some(&msg_ty))?;
        self.expect_ty(&mty, &msg_ty, msg.span)?;
        Ok((cur, m, net))
    }

    pub(crate) fn lower_send(
        &mut self,
        msg: &ast::Expr,
        dest: &ast::Expr,
        span: Span,
    ) -> L<Vec<Stmt>> {
        let (cur, m, net) = self.message(msg, span, "send")?;
        let pid_ty = self.pid_ty();
        let (d, dty) = self.expr(dest, Some(&pid_ty))?;
        self.expect_ty(&dty, &pid_ty, dest.span)?;
        Ok(vec![self.send_stmt(&net, cur, d, m, span)])
    }

    pub(crate) fn lower_broadcast(
        &mut self,
        msg: &ast::Expr,
        dest: &ast::Ident,
        span: Span,
    ) -> L<Vec<Stmt>> {
        let (cur, m, net) = self.message(msg, span, "broadcast")?;
        let Some(&p) = self.proc_index.get(&dest.name) else {
            return Err(self.error(
                Diagnostic::error(dest.span, format!("no process named `{}`", dest.name))
                    .label("unknown process"),
            ));
        };
        let mut out = Vec::new();
        for k in 0..self.processes[p].count {
            let dst = Expr::Int((self.processes[p].first_pid + k) as i64);
            out.push(self.send_stmt(&net, cur, dst, m.clone(), span));
        }
        Ok(out)
    }

    pub(crate) fn lower_reply(&mut self, msg: &ast::Expr, span: Span) -> L<Vec<Stmt>> {
        let (cur, m, net) = self.message(msg, span, "reply")?;
        let Some(src_local) = cur.src_local else {
            return Err(self.error(
                Diagnostic::error(span, "`reply` outside an `on` handler")
                    .label("no message to reply to"),
            ));
        };
        let src = Expr::Read(Place {
            root: Root::Local,
            offset: src_local,
            steps: vec![],
            len: 1,
        });
        Ok(vec![self.send_stmt(&net, cur, src, m, span)])
    }

    /// `send msg to dst` from the current instance, as the model keeps it
    /// (the send and the network statements that carry it out).
    fn send_stmt(&self, net: &NetCtx, cur: Current, dst: Expr, msg: Expr, span: Span) -> Stmt {
        let env = Envelope {
            src: self.self_pid(cur),
            dst: dst.clone(),
            msg: msg.clone(),
        };
        let lowered = net.send_to(&self.types, env, span);
        Stmt::Send { dst, msg, lowered, span }
    }

    /// The network's own rules: losing a message, crashing a process.
    pub(crate) fn environment_rules(&mut self, rules: &mut Vec<Rule>) {
        let Some(net) = self.network.clone() else {
            return;
        };
        let (info, envelope, span) = (net.info.clone(), net.envelope.clone(), net.span);
        if info.loss {
            self.begin_rule_frame();
            let rule = match info.order {
                Order::Set | Order::Bag => {
                    let len = self.types.flat_len(&envelope);
                    let local = self.push_local("message", envelope.clone());
                    let card = self.types.card(&envelope).unwrap_or(0);
                    let param = ir::Param {
                        name: "message".into(),
                        ty: envelope.clone(),
                        local,
                        len,
                        card,
                        hidden: false,
                    };
                    let e = Expr::Read(Place {
                        root: Root::Local,
                        offset: local,
                        steps: vec![],
                        len,
                    });
                    let (guard, body) = if info.order == Order::Set {
                        let net_place = net.place.clone();
                        let guard = Expr::In {
                            elem: Box::new(e.clone()),
                            elem_ty: envelope.clone(),
                            set: Box::new(Expr::Read(net_place.clone())),
                        };
                        (
                            guard,
                            vec![Stmt::SetAdd {
                                place: net_place,
                                elem: e,
                                elem_ty: envelope.clone(),
                                remove: true,
                                span,
                            }],
                        )
                    } else {
                        let slot = net.bag_slot(&self.types, e, span);
                        let guard = Expr::Arith(
                            IntOp::Gt,
                            Box::new(Expr::Read(slot.clone())),
                            Box::new(Expr::Int(0)),
                            span,
                        );
                        (guard, vec![add(slot, -1, info.capacity as i64, span)])
                    };
                    Rule {
                        name: "network.Lose".into(),
                        params: vec![param],
                        guard: Some(guard),
                        body,
                        frame_len: self.frame_len,
                        instances: card,
                        span,
                    }
                }
                Order::Fifo => {
                    let n = net.processes as i64;
                    let pid = info.pid.clone();
                    let src = self.push_local("src", pid.clone());
                    let dst = self.push_local("dst", pid.clone());
                    let at = self.push_local("position", Ty::Range(0, info.capacity as i64 - 1));
                    let read = |o: u32| {
                        Expr::Read(Place {
                            root: Root::Local,
                            offset: o,
                            steps: vec![],
                            len: 1,
                        })
                    };
                    let queue = net.fifo_queue(&self.types, read(src), read(dst), span);
                    let qlen = queue.len;
                    let guard = Expr::Arith(
                        IntOp::Lt,
                        Box::new(read(at)),
                        Box::new(Expr::Len(Box::new(Expr::Read(queue.clone())), qlen)),
                        span,
                    );
                    let mut filler = Vec::new();
                    self.types.default_value(&info.msg, &mut filler);
                    let stride = self.types.flat_len(&info.msg);
                    let body = vec![Stmt::Pop {
                        place: queue,
                        at: Some(read(at)),
                        stride,
                        cap: info.capacity,
                        filler,
                        span,
                    }];
                    let params = vec![
                        ir::Param {
                            name: "src".into(),
                            ty: pid.clone(),
                            local: src,
                            len: 1,
                            card: n as u64,
                            hidden: false,
                        },
                        ir::Param {
                            name: "dst".into(),
                            ty: pid.clone(),
                            local: dst,
                            len: 1,
                            card: n as u64,
                            hidden: false,
                        },
                        ir::Param {
                            name: "position".into(),
                            ty: Ty::Range(0, info.capacity as i64 - 1),
                            local: at,
                            len: 1,
                            card: info.capacity as u64,
                            hidden: false,
                        },
                    ];
                    let instances = (n * n) as u64 * info.capacity as u64;
                    Rule {
                        name: "network.Lose".into(),
                        params,
                        guard: Some(guard),
                        body,
                        frame_len: self.frame_len,
                        instances,
                        span,
                    }
                }
            };
            rules.push(rule);
        }
        if info.crash > 0 {
            self.crash_rule(&info, span, rules);
        }
    }

    fn crash_rule(&mut self, info: &ir::Network, span: Span, rules: &mut Vec<Rule>) {
        self.begin_rule_frame();
        let pid = info.pid.clone();
        let local = self.push_local("process", pid.clone());
        let n: u32 = self.processes.iter().map(|p| p.count).sum();
        let crashes = self.var_index["crashes"];
        let counter = Place {
            root: Root::State,
            offset: self.vars[crashes].offset,
            steps: vec![],
            len: 1,
        };
        let guard = Expr::Arith(
            IntOp::Lt,
            Box::new(Expr::Read(counter.clone())),
            Box::new(Expr::Int(info.crash as i64)),
            span,
        );
        let mut body = vec![add(counter, 1, info.crash as i64, span)];
        let read = Expr::Read(Place {
            root: Root::Local,
            offset: local,
            steps: vec![],
            len: 1,
        });
        let decls = self.process_decls.clone();
        for (p, decl) in decls.iter().enumerate() {
            let (first, count, lo) = (
                self.processes[p].first_pid as i64,
                self.processes[p].count as i64,
                self.processes[p].lo,
            );
            let index = Expr::Arith(
                IntOp::Add,
                Box::new(read.clone()),
                Box::new(Expr::Int(lo - first)),
                span,
            );
            let Ok(reset) = self.instance_reset(p, decl, index, false) else {
                continue;
            };
            let mine = Expr::And(
                Box::new(Expr::Arith(
                    IntOp::Ge,
                    Box::new(read.clone()),
                    Box::new(Expr::Int(first)),
                    span,
                )),
                Box::new(Expr::Arith(
                    IntOp::Lt,
                    Box::new(read.clone()),
                    Box::new(Expr::Int(first + count)),
                    span,
                )),
            );
            body.push(Stmt::If { cond: mine, then: reset, otherwise: Vec::new() });
        }
        let param = ir::Param {
            name: "process".into(),
            ty: pid,
            local,
            len: 1,
            card: n as u64,
            hidden: false,
        };
        rules.push(Rule {
            name: "network.Crash".into(),
            params: vec![param],
            guard: Some(guard),
            body,
            frame_len: self.frame_len,
            instances: n as u64,
            span,
        });
    }
}

/// `place += delta`, the result range-checked against `0..=hi` (a bag's
/// copy count, the crash counter).
/// A message with its source and destination instances.
pub(crate) struct Envelope {
    pub src: Expr,
    pub dst: Expr,
    pub msg: Expr,
}

/// An envelope: (src, dst, msg) as one value.
fn envelope(src: Expr, dst: Expr, msg: Expr) -> Expr {
    Expr::Concat(vec![src, dst, msg])
}

impl NetCtx {
    pub(crate) fn bag_slot(&self, types: &Types, envelope: Expr, span: Span) -> Place {
        let mut place = self.place.clone();
        let count = types.card(&self.envelope).unwrap_or(0) as u32;
        let index = Expr::IndexOf {
            value: Box::new(envelope),
            ty: self.envelope.clone(),
            span,
        };
        place
            .steps
            .push(Step::Index { index, lo: 0, count, stride: 1, span });
        place.len = 1;
        place
    }

    pub(crate) fn fifo_queue(&self, types: &Types, src: Expr, dst: Expr, span: Span) -> Place {
        let mut place = self.place.clone();
        let n = self.processes as i64;
        let stride = 1 + self.info.capacity * types.flat_len(&self.info.msg);
        let index = Expr::Arith(
            IntOp::Add,
            Box::new(Expr::Arith(
                IntOp::Mul,
                Box::new(src),
                Box::new(Expr::Int(n)),
                span,
            )),
            Box::new(dst),
            span,
        );
        place
            .steps
            .push(Step::Index { index, lo: 0, count: (n * n) as u32, stride, span });
        place.len = stride;
        place
    }

    /// Whether message `msg` from `src` to `dst` is in flight, and the
    /// statements that consume it on receipt.
    pub(crate) fn receive(&self, types: &Types, env: Envelope, span: Span) -> (Expr, Vec<Stmt>) {
        let Envelope { src, dst, msg } = env;
        let dup = self.info.duplication;
        match self.info.order {
            Order::Set => {
                let present = Expr::In {
                    elem: Box::new(envelope(src, dst, msg)),
                    elem_ty: self.envelope.clone(),
                    set: Box::new(Expr::Read(self.place.clone())),
                };
                (present, Vec::new())
            }
            Order::Bag => {
                let slot = self.bag_slot(types, envelope(src, dst, msg), span);
                let present = Expr::Arith(
                    IntOp::Gt,
                    Box::new(Expr::Read(slot.clone())),
                    Box::new(Expr::Int(0)),
                    span,
                );
                let consume = add(slot, -1, self.info.capacity as i64, span);
                (present, if dup { Vec::new() } else { vec![consume] })
            }
            Order::Fifo => {
                let queue = self.fifo_queue(types, src, dst, span);
                let len = types.flat_len(&self.info.msg);
                let qlen = queue.len;
                let nonempty = Expr::Arith(
                    IntOp::Gt,
                    Box::new(Expr::Len(Box::new(Expr::Read(queue.clone())), qlen)),
                    Box::new(Expr::Int(0)),
                    span,
                );
                let head = project(
                    Expr::Read(queue.clone()),
                    qlen,
                    Step::SeqEnd { first: true, stride: len, span },
                    len,
                );
                let matches = Expr::Eq {
                    len,
                    negate: false,
                    a: Box::new(head),
                    b: Box::new(msg),
                };
                let present = Expr::And(Box::new(nonempty), Box::new(matches));
                let mut filler = Vec::new();
                types.default_value(&self.info.msg, &mut filler);
                let pop = Stmt::Pop {
                    place: queue,
                    at: None,
                    stride: len,
                    cap: self.info.capacity,
                    filler,
                    span,
                };
                (present, if dup { Vec::new() } else { vec![pop] })
            }
        }
    }

    /// Puts message `msg` from `src` to `dst` in flight.
    pub(crate) fn send_to(&self, types: &Types, env: Envelope, span: Span) -> Vec<Stmt> {
        let Envelope { src, dst, msg } = env;
        let cap = self.info.capacity as i64;
        let full = format!("send past the network's capacity ({cap})");
        match self.info.order {
            Order::Set => vec![Stmt::SetAdd {
                place: self.place.clone(),
                elem: envelope(src, dst, msg),
                elem_ty: self.envelope.clone(),
                remove: false,
                span,
            }],
            Order::Bag => {
                let slot = self.bag_slot(types, envelope(src, dst, msg), span);
                vec![
                    Stmt::Assert {
                        cond: Expr::Arith(
                            IntOp::Lt,
                            Box::new(Expr::Read(slot.clone())),
                            Box::new(Expr::Int(cap)),
                            span,
                        ),
                        kind: ErrorKind::Range,
                        message: full,
                        span,
                    },
                    add(slot, 1, cap, span),
                ]
            }
            Order::Fifo => {
                let queue = self.fifo_queue(types, src, dst, span);
                let len = types.flat_len(&self.info.msg);
                let mut bounds = Vec::new();
                types.slot_bounds(&self.info.msg, &mut bounds);
                vec![
                    Stmt::Assert {
                        cond: Expr::Arith(
                            IntOp::Lt,
                            Box::new(Expr::Len(Box::new(Expr::Read(queue.clone())), queue.len)),
                            Box::new(Expr::Int(cap)),
                            span,
                        ),
                        kind: ErrorKind::Range,
                        message: full,
                        span,
                    },
                    Stmt::Push {
                        place: queue,
                        elem: msg,
                        stride: len,
                        cap: cap as u32,
                        bounds,
                        span,
                    },
                ]
            }
        }
    }
}

fn add(place: Place, delta: i64, hi: i64, span: Span) -> Stmt {
    let value = Expr::Arith(
        IntOp::Add,
        Box::new(Expr::Read(place.clone())),
        Box::new(Expr::Int(delta)),
        span,
    );
    Stmt::Assign { place, value, bounds: vec![(0, hi)], span }
}
