//! The generated `spec.rs` of an emitted crate: the spec's constants and
//! tables (nodes, messages, processes, steps), the initial state, and one
//! module per process with a guard, a body and a parameter binder per step.
//!
//! A node keeps the spec's flat state layout (`model::ir`): its own
//! process's slots are live, the rest keep their initial values and are
//! never read (`check.rs` refuses a step that would read them). A `send`
//! appends (destination, message slots) to `sent`; the network variable is
//! never written, the runtime carries the messages.

mod types;

use std::fmt::Write as _;

pub use ir_codegen::Unsupported;
use ir_codegen::{Dialect, R};
use model::ir::{Model, Rule, StepKind, Ty};

pub(crate) type Gen<'m> = ir_codegen::Gen<'m, RustDialect>;

/// Rust as the shared IR walker writes it: i64 values in `Slots`, checked
/// helpers that return `Err(Fault)` through `?`.
pub struct RustDialect;

impl Dialect for RustDialect {
    fn lit(&self, v: i64) -> R<String> {
        Ok(if v == i64::MIN {
            "i64::MIN".into()
        } else if v < 0 {
            format!("({v})")
        } else {
            format!("{v}")
        })
    }
    fn num(&self, v: u64) -> String {
        format!("{v}")
    }
    fn int_of(&self, b: &str) -> String {
        format!("b({b})")
    }
    fn var(&self, name: &str, init: &str) -> String {
        format!("let mut {name} = {init};")
    }
    fn decl(&self, name: &str) -> String {
        format!("let {name}: i64;")
    }
    fn for_range(&self, j: &str, lo: &str, hi: &str) -> String {
        format!("for {j} in {lo}..{hi} {{")
    }
    fn for_down(&self, j: &str, n: &str) -> String {
        format!("for {j} in (0..{n}).rev() {{")
    }
    fn for_step(&self, j: &str, n: &str, step: &str) -> String {
        format!("for {j} in (0..{n}).step_by({step}) {{")
    }
    fn incr(&self, v: &str) -> String {
        format!("{v} += 1;")
    }
    fn fail(&self) -> &'static str {
        "return Err(Fault);"
    }
    fn cover(&self, _reachable: u32) -> String {
        // Reachability is the checker's business: a program records none.
        String::new()
    }
    fn checked(&self) -> &'static str {
        "?"
    }
    fn loop_guard(&self) -> Option<&'static str> {
        None
    }
    fn in_range(&self, v: &str, lo: &str, count: u64) -> String {
        format!("({v} >= {lo} && ({v} - {lo}) < {count})")
    }
    fn diff(&self, v: &str, lo: &str) -> String {
        format!("({v} - {lo})")
    }
    fn bit_of(&self, index: &str, j: &str) -> String {
        format!("({index} >> {j}) & 1")
    }
    fn bounds(&self, lo: i64, hi: i64) -> Option<(i64, i64)> {
        (lo != i64::MIN || hi != i64::MAX).then_some((lo, hi))
    }
    /// The network variable is the runtime's: a send is handed to it.
    fn captures_sends(&self) -> bool {
        true
    }
    fn send(&self, dst: &str, sp: u32, len: u32) -> String {
        format!("sent.push(({dst}, stk.slice({sp}, {len})));")
    }
}

/// One generated function: `head` opens it; `fill` writes its body,
/// which may use `stk` (allocated here, once its size is known).
fn function(g: &mut Gen<'_>, head: &str, fill: impl FnOnce(&mut Gen<'_>) -> R<()>) -> R<()> {
    let saved = std::mem::take(&mut g.out);
    let depth = g.depth;
    g.max_stack = 1;
    let own_frame = head.starts_with("pub fn init");
    if own_frame {
        g.max_frame = 1;
    }
    g.depth = depth + 1;
    fill(g)?;
    let body = std::mem::replace(&mut g.out, saved);
    g.depth = depth;
    g.open(head);
    g.line(format!("let mut stk = Slots::new({});", g.max_stack));
    if own_frame {
        g.line(format!("let mut fr = Slots::new({});", g.max_frame));
    }
    g.out.push_str(&body);
    g.close();
    Ok(())
}

/// A process's variables: (name without the process, the variable, the
/// type of one instance's value).
pub(crate) fn process_vars<'m>(
    m: &'m Model,
    p: &model::ir::Process,
) -> R<Vec<(&'m str, &'m model::ir::Var, &'m Ty)>> {
    p.vars
        .iter()
        .map(|&v| {
            let var = &m.vars[v];
            let Ty::Array(_, elem) = &var.ty else {
                return Err(Unsupported::Other(format!(
                    "`{}` is not per instance",
                    var.name
                )));
            };
            let short = var.name.split_once('.').map_or(var.name.as_str(), |x| x.1);
            Ok((short, var, &**elem))
        })
        .collect()
}

/// A Rust identifier from a spec name (`on Prepared` -> `on_prepared`).
pub(crate) fn ident(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("n{out}"),
        None => "x".into(),
        _ => out,
    }
}

fn kind_name(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Rule => "Rule",
        StepKind::Timeout => "Timeout",
        StepKind::Input => "Input",
        StepKind::Receive => "Receive",
        StepKind::Environment => "Environment",
    }
}

/// Inclusive bounds of a one-slot parameter type (for client input).
fn scalar_bounds(types: &model::ir::Types, ty: &Ty) -> Option<(i64, i64)> {
    match ty {
        Ty::Bool => Some((0, 1)),
        Ty::Range(..) | Ty::Sym(_) => types.int_bounds(ty),
        Ty::Enum(id) if !types.enums[*id as usize].has_fields() => {
            Some((0, types.enums[*id as usize].variants.len() as i64 - 1))
        }
        _ => None,
    }
}

/// The whole `spec.rs`.
pub fn spec_rs(m: &Model, spec_hash: &str, consts: &str) -> R<String> {
    let net = m
        .network
        .as_ref()
        .ok_or_else(|| Unsupported::Other("the spec has no network".into()))?;
    let Ty::Enum(msg_id) = net.msg else {
        return Err(Unsupported::Other("`Msg` is not an enum".into()));
    };
    if !matches!(net.pid, Ty::Enum(_)) {
        return Err(Unsupported::Other("the process ids are not an enum".into()));
    }
    let mut g = Gen::new(m, RustDialect);
    header(&mut g, m, spec_hash, consts)?;
    message_tables(&mut g, m, net, msg_id);
    init_fn(&mut g, m)?;
    let (tables, mut typed) = process_modules(&mut g, m, msg_id)?;
    g.open("pub const PROCESSES: &[ProcessDef] = &[");
    for t in tables {
        g.line(format!("{t},"));
    }
    g.depth -= 1;
    g.line("];");
    g.line("");
    typed.module(&mut g)?;
    assert_eq!(g.depth, 0, "every block spec.rs opened is closed");
    Ok(g.out)
}

/// The file's header and its constants: the spec, its hash and constants.
fn header(g: &mut Gen, m: &Model, spec_hash: &str, consts: &str) -> R<()> {
    g.line(format!(
        "//! `{}` ({consts}), generated by `fathom emit` from the spec whose SHA-256 is {spec_hash}.",
        m.name
    ));
    g.line("//! Regenerate rather than edit: `fathom validate` checks runs against that spec.");
    g.line("#![allow(unused_mut, unused_variables, unused_assignments, unused_parens, unused_braces, clippy::all)]");
    g.line("");
    g.line("use crate::prelude::*;");
    g.line("");
    g.line(format!("pub const SPEC: &str = {:?};", m.name));
    g.line(format!("pub const SPEC_SHA256: &str = {spec_hash:?};"));
    g.line(format!("pub const STATE_LEN: usize = {};", m.state_len));
    let consts: Vec<String> = m
        .consts
        .iter()
        .map(|(k, v)| Ok(format!("({k:?}, {})", RustDialect.lit(*v)?)))
        .collect::<R<_>>()?;
    g.line("/// The constants it was emitted with.");
    g.line(format!(
        "pub const CONSTS: &[(&str, i64)] = &[{}];",
        consts.join(", ")
    ));
    Ok(())
}

/// The network's shape and the message tables the runtime reads.
fn message_tables(g: &mut Gen, m: &Model, net: &model::ir::Network, msg_id: u32) {
    let msg_len = m.types.flat_len(&net.msg);
    g.line(format!("pub const MSG_LEN: usize = {msg_len};"));
    let order = match net.order {
        model::ir::Order::Set => "Set",
        model::ir::Order::Bag => "Bag",
        model::ir::Order::Fifo => "Fifo",
    };
    g.line(format!("pub const ORDER: Order = Order::{order};"));
    let nodes: Vec<String> = m.node_names().iter().map(|n| format!("{n:?}")).collect();
    // The runtime indexes links, clocks and logs by process id.
    assert_eq!(
        nodes.len() as u64,
        m.types.card(&net.pid).unwrap_or(0),
        "a node per process id"
    );
    g.line(format!(
        "pub const NODES: &[&str] = &[{}];",
        nodes.join(", ")
    ));
    let msgs: Vec<String> = m.types.enums[msg_id as usize]
        .variants
        .iter()
        .map(|v| format!("{:?}", v.name))
        .collect();
    g.line(format!(
        "pub const MESSAGES: &[&str] = &[{}];",
        msgs.join(", ")
    ));
    // Per variant: each field's (name, offset in the flat message, slots).
    let mut fields = Vec::new();
    for (tag, v) in m.types.enums[msg_id as usize].variants.iter().enumerate() {
        let base = m.types.variant_offset(msg_id, tag as u32);
        let list: Vec<String> = v
            .fields
            .iter()
            .enumerate()
            .map(|(i, (name, ty))| {
                let (at, len) = (
                    base + m.types.fields_offset(&v.fields, i),
                    m.types.flat_len(ty),
                );
                assert!(
                    at + len <= msg_len,
                    "field `{name}` lies inside the flat message"
                );
                format!("({name:?}, {at}, {len})")
            })
            .collect();
        fields.push(format!("&[{}]", list.join(", ")));
    }
    g.line(format!(
        "pub const MSG_FIELDS: &[&[(&str, u32, u32)]] = &[{}];",
        fields.join(", ")
    ));
    g.line(format!("pub const CRASHES: u32 = {};", net.crash));
    g.line("");
}

/// `init`: every variable's default, then the initializers.
fn init_fn(g: &mut Gen, m: &Model) -> R<()> {
    // The initial state: every variable's default, then the initializers.
    let mut defaults = Vec::new();
    for v in &m.vars {
        m.types.default_value(&v.ty, &mut defaults);
    }
    assert_eq!(
        defaults.len(),
        m.state_len as usize,
        "a default per state slot"
    );
    function(
        g,
        "pub fn init(s: &mut Slots) -> Result<(), Fault> {",
        |g| {
            g.frame(m.init_frame_len);
            g.line(format!("s.0.copy_from_slice(&{defaults:?});"));
            g.stmts(&m.init_values, 0)?;
            g.line("Ok(())");
            Ok(())
        },
    )?;
    g.line("");

    Ok(())
}

/// One module per process (its steps and typed state), and its row of
/// the `PROCESSES` table.
fn process_modules<'m>(
    g: &mut Gen,
    m: &'m Model,
    msg_id: u32,
) -> R<(Vec<String>, types::Typed<'m>)> {
    let mut tables = Vec::new();
    let mut typed = types::Typed::new(m);
    for p in &m.processes {
        let module = ident(&p.name);
        g.open(format!("pub mod {module} {{"));
        g.line(format!(
            "//! `process {}`: its steps, its variables (`State`) and its inputs as calls.",
            p.name
        ));
        g.line("use crate::prelude::*;");
        let mut steps = Vec::new();
        for &(r, kind) in &p.rules {
            let rule = &m.rules[r];
            let handler = p.handlers.iter().find(|h| h.rule == r);
            steps.push(step(g, m, rule, r, kind, handler, msg_id, &module)?);
        }
        typed.process(g, p)?;
        g.close();
        g.line("");
        let mut vars = Vec::new();
        for (short, var, elem) in process_vars(m, p)? {
            assert!(
                var.offset + var.len <= m.state_len && p.count * m.types.flat_len(elem) == var.len,
                "process variable `{short}`: one element per instance, inside the state"
            );
            vars.push(format!(
                "VarDef {{ name: {short:?}, offset: {}, len: {}, durable: {} }}",
                var.offset,
                m.types.flat_len(elem),
                var.durable
            ));
        }
        let mut index_values = Vec::new();
        let mut v = [0i64; 1];
        for k in 0..p.count {
            m.types.value_at(&p.index, u64::from(k), &mut v);
            index_values.push(v[0].to_string());
        }
        tables.push(format!(
            "ProcessDef {{ name: {:?}, first_pid: {}, count: {}, index_values: &[{}], vars: &[{}], steps: &[{}], \
             state_round_trip: |s| {module}::State::from_flat(s).map(|x| x.to_flat()) }}",
            p.name,
            p.first_pid,
            p.count,
            index_values.join(", "),
            vars.join(", "),
            steps.join(", ")
        ));
    }
    Ok((tables, typed))
}

/// One step's functions inside its process's module, and its `StepDef`.
#[allow(clippy::too_many_arguments)]
fn step(
    g: &mut Gen,
    m: &Model,
    rule: &Rule,
    index: usize,
    kind: StepKind,
    handler: Option<&model::ir::Handler>,
    msg_id: u32,
    module: &str,
) -> R<String> {
    let name = format!(
        "r{index}_{}",
        ident(rule.name.split_once('.').map_or("", |x| x.1))
    );
    g.line("");
    g.line(format!(
        "// {} (line of the spec: see `fathom emit`'s map)",
        rule.name
    ));
    g.max_frame = rule.frame_len.max(1);
    let (guard, body) = match handler {
        Some(h) => (h.guard.as_ref(), &rule.body[h.consume..]),
        None => (rule.guard.as_ref(), &rule.body[..]),
    };
    function(
        g,
        &format!("pub fn {name}_guard(s: &Slots, fr: &mut Slots) -> Result<bool, Fault> {{"),
        |g| {
            match guard {
                Some(e) => {
                    let x = g.int(e, 0)?;
                    g.line(format!("Ok({x} != 0)"));
                }
                None => g.line("Ok(true)"),
            }
            Ok(())
        },
    )?;
    function(
        g,
        &format!(
            "pub fn {name}_body(s: &mut Slots, fr: &mut Slots, sent: &mut Vec<(i64, Vec<i64>)>) -> Result<(), Fault> {{"
        ),
        |g| {
            g.stmts(body, 0)?;
            g.line("Ok(())");
            Ok(())
        },
    )?;
    // Binds a local instance number: mixed radix, first parameter most significant.
    function(
        g,
        &format!("pub fn {name}_bind(fr: &mut Slots, instance: u64) {{"),
        |g| {
            g.line("let mut rest = instance as i64;");
            for p in rule.params.iter().rev() {
                let v = g.tmp();
                g.line(format!("let {v} = rest % {};", p.card));
                g.line(format!("rest /= {};", p.card));
                g.value_at(&p.ty, &v, "fr", &p.local.to_string())?;
            }
            Ok(())
        },
    )
    .map_err(|e| Unsupported::Other(format!("{}: {e}", rule.name)))?;
    // Whether a caller's arguments (the parameters after the instance,
    // bound in `fr`) are values of their types: an input's only check.
    let args_ok = if kind == StepKind::Input {
        g.open(format!("pub fn {name}_args_ok(fr: &Slots) -> bool {{"));
        g.line("let mut all = true;");
        for p in &rule.params[1..] {
            let (ok, _) = g.value_index(&p.ty, "fr", &p.local.to_string())?;
            g.line(format!("all = all && {ok};"));
        }
        g.line("all");
        g.close();
        format!("Some({module}::{name}_args_ok)")
    } else {
        "None".to_string()
    };
    // A handler's message binder: self, source, then the message's fields.
    let (tag, bind_msg) = match handler {
        Some(h) => {
            g.open(format!(
                "pub fn {name}_bind_msg(fr: &mut Slots, me: i64, src: i64, msg: &[i64]) -> bool {{"
            ));
            g.line(format!("if msg[0] != {} {{ return false; }}", h.tag));
            g.line(format!("fr[{}] = me;", rule.params[0].local));
            g.line(format!("fr[{}] = src;", rule.params[1].local));
            let variant = &m.types.enums[msg_id as usize].variants[h.tag as usize];
            let base = m.types.variant_offset(msg_id, h.tag);
            for (i, p) in rule.params[2..].iter().enumerate() {
                let at = base + m.types.fields_offset(&variant.fields, i);
                g.line(format!(
                    "for j in 0..{} {{ fr[{} + j] = msg[{at} + j as usize]; }}",
                    p.len, p.local
                ));
            }
            g.line("true");
            g.close();
            (i64::from(h.tag), format!("Some({module}::{name}_bind_msg)"))
        }
        None => (-1, "None".to_string()),
    };
    let params: Vec<String> = rule
        .params
        .iter()
        .map(|p| {
            let (lo, hi) = scalar_bounds(&m.types, &p.ty).unwrap_or((0, -1));
            format!(
                "ParamDef {{ name: {:?}, local: {}, len: {}, lo: {lo}, hi: {hi} }}",
                p.name, p.local, p.len
            )
        })
        .collect();
    let count = rule.params.first().map_or(1, |p| p.card).max(1);
    let mut s = String::new();
    let _ = write!(
        s,
        "StepDef {{ name: {:?}, kind: Kind::{}, per_instance: {}, frame_len: {}, params: &[{}], tag: {tag}, \
         guard: {module}::{name}_guard, body: {module}::{name}_body, bind: {module}::{name}_bind, bind_msg: {bind_msg}, \
         args_ok: {args_ok} }}",
        rule.name,
        kind_name(kind),
        rule.instances / count,
        g.max_frame.max(rule.frame_len).max(1),
        params.join(", ")
    );
    Ok(s)
}
