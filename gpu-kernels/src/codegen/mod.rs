//! The WGSL of one spec: the shared prelude, the state layout's unpack and
//! pack, the model's properties and rules as functions, the visited-table
//! insert, and the fused expand kernel (`main`).
//!
//! One invocation expands one frontier state. Rule instances are visited in
//! the CPU's order, one per round; each round compacts the workgroup's new
//! successors into the output with one global atomic per workgroup.
//! Anything the evaluator would report (an error, a violated invariant, a
//! deadlock) sets the state's flag, and the host reruns its chunk on the CPU
//! (`checker::backend::gpu`): the GPU detects, the CPU explains.

mod expr;
mod values;

use std::fmt::Write as _;

use model::ir::{Model, Property, Rule, Ty};
use model::layout::Layout;

/// Invocations per workgroup.
pub const WORKGROUP_SIZE: u32 = 64;
/// Storage bindings besides the table's.
pub const FIXED_STORAGE_BINDINGS: u32 = 5;
/// Counters: [0] candidates written, [1] table inserts, [2..4] reachable
/// bits, [4] output overflows (must stay 0), [5] table waits given up.
pub const COUNTERS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum Unsupported {
    #[error("the constant {0} does not fit the GPU's 32-bit integers")]
    Constant(i64),
    #[error("{0}")]
    Other(String),
}

pub(crate) type R<T> = Result<T, Unsupported>;

/// What the kernel is generated for.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// 128-bit fingerprints (`--fingerprint 128`) instead of 64.
    pub fp128: bool,
    /// Storage buffers the visited table is split over (1 or more).
    pub table_buffers: u32,
}

/// A generated kernel and the shapes of its buffers.
#[derive(Clone, Debug)]
pub struct Kernel {
    pub source: String,
    /// u32 words of a packed state.
    pub words: u32,
    /// u32 words of a fingerprint (2 or 4); also of a table slot.
    pub fp_words: u32,
    /// Words per candidate in the meta buffer: parent, instance, fingerprint.
    pub meta_words: u32,
    /// Rule instances per state: at most this many candidates per state.
    pub instances: u32,
}

pub(crate) struct Gen<'m> {
    m: &'m Model,
    out: String,
    depth: usize,
    next_tmp: u32,
    max_stack: u32,
    max_frame: u32,
}

impl<'m> Gen<'m> {
    fn new(m: &'m Model) -> Self {
        Gen {
            m,
            out: String::new(),
            depth: 0,
            next_tmp: 0,
            max_stack: 1,
            max_frame: 1,
        }
    }

    pub(crate) fn types(&self) -> &'m model::ir::Types {
        &self.m.types
    }

    pub(crate) fn line(&mut self, s: impl AsRef<str>) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(s.as_ref());
        self.out.push('\n');
    }

    /// A line that opens a block.
    pub(crate) fn open(&mut self, s: impl AsRef<str>) {
        self.line(s);
        self.depth += 1;
    }

    /// `} else {` and the like.
    pub(crate) fn reopen(&mut self, s: &str) {
        self.depth -= 1;
        self.line(s);
        self.depth += 1;
    }

    pub(crate) fn close(&mut self) {
        self.depth -= 1;
        self.line("}");
    }

    pub(crate) fn tmp(&mut self) -> String {
        self.next_tmp += 1;
        format!("t{}", self.next_tmp)
    }

    pub(crate) fn stack(&mut self, top: u32) {
        self.max_stack = self.max_stack.max(top);
    }

    pub(crate) fn frame(&mut self, top: u32) {
        self.max_frame = self.max_frame.max(top);
    }

    /// `fn name() -> bool`: true when every property holds (`all`) or some
    /// does (`!all`); evaluation errors leave `err` set.
    fn properties(&mut self, name: &str, props: &[Property], all: bool) -> R<()> {
        self.open(format!("fn {name}() -> bool {{"));
        for p in props {
            self.frame(p.frame_len);
            self.open("{");
            let x = self.int(&p.expr, 0)?;
            if all {
                self.line(format!("if (err != 0u || {x} == 0i) {{ return false; }}"));
            } else {
                self.line("if (err != 0u) { return false; }");
                self.line(format!("if ({x} != 0i) {{ return true; }}"));
            }
            self.close();
        }
        self.line(format!("return {all};"));
        self.close();
        Ok(())
    }

    /// Bit i of the result: reachable i holds (the first 64).
    fn reachables(&mut self) -> R<()> {
        self.open("fn reachables() -> vec2<u32> {");
        self.line("var bits = vec2<u32>(0u, 0u);");
        for (i, p) in self.m.reachables.iter().enumerate().take(64) {
            self.frame(p.frame_len);
            self.open("{");
            let x = self.int(&p.expr, 0)?;
            let (lane, bit) = if i < 32 { ("x", i) } else { ("y", i - 32) };
            self.line(format!(
                "if ({x} != 0i) {{ bits.{lane} |= {}u; }}",
                1u32 << bit
            ));
            self.close();
        }
        self.line("return bits;");
        self.close();
        Ok(())
    }

    /// `guard_r(l)`: binds local instance `l`'s parameters, then the guard;
    /// `body_r()`: the rule's statements on `s`.
    fn rule(&mut self, r: usize, rule: &Rule) -> R<()> {
        self.frame(rule.frame_len);
        self.open(format!("fn guard_{r}(l: u32) -> i32 {{"));
        self.line("var rest = i32(l);");
        for p in rule.params.iter().rev() {
            let card = i32::try_from(p.card).map_err(|_| {
                Unsupported::Other(format!("rule `{}` has too many instances", rule.name))
            })?;
            self.line(format!("let v{} = rest % {card}i;", p.local));
            self.line(format!("rest = rest / {card}i;"));
            match &p.ty {
                Ty::Range(lo, _) => self.line(format!(
                    "fr[{}] = {} + v{};",
                    p.local,
                    expr::lit(*lo)?,
                    p.local
                )),
                ty => {
                    self.value_at(ty, &format!("v{}", p.local), "fr", &format!("{}i", p.local))?
                }
            }
            self.frame(p.local + p.len);
        }
        match &rule.guard {
            Some(g) => {
                let x = self.int(g, 0)?;
                self.line(format!("return {x};"));
            }
            None => self.line("return 1i;"),
        }
        self.close();
        self.open(format!("fn body_{r}() {{"));
        self.stmts(&rule.body, 0)?;
        self.close();
        Ok(())
    }
}

/// Generates the kernel of `model`, or says what in it the GPU cannot run.
pub fn generate(model: &Model, opts: Options) -> Result<Kernel, Unsupported> {
    let layout = Layout::new(&model.bounds);
    for &(lo, hi) in &model.bounds {
        if i32::try_from(lo).is_err() || i32::try_from(hi).is_err() {
            return Err(Unsupported::Other(format!(
                "a state slot ranges over {lo}..{hi}, beyond the GPU's 32-bit integers"
            )));
        }
    }
    let instances = u32::try_from(model.instance_count())
        .ok()
        .filter(|n| *n < 1 << 31)
        .ok_or_else(|| Unsupported::Other("too many rule instances for one kernel".into()))?;
    let fp_words: u32 = if opts.fp128 { 4 } else { 2 };
    let buffers = opts.table_buffers.max(1);

    let mut g = Gen::new(model);
    g.properties("invariants_ok", &model.invariants, true)?;
    g.properties("in_constraint", &model.constraints, true)?;
    g.properties("is_terminal", &model.terminals, false)?;
    g.reachables()?;
    for (r, rule) in model.rules.iter().enumerate() {
        g.rule(r, rule)?;
    }
    let functions = std::mem::take(&mut g.out);

    let words = layout.words;
    let slots = model.state_len.max(1);
    let mut src = String::new();
    let w = &mut src;
    // Writing to a String cannot fail.
    let _ = writeln!(
        w,
        "// Generated by fathom's gpu-kernels for spec `{}`.",
        model.name
    );
    let _ = writeln!(w, "const W: u32 = {words}u;");
    let _ = writeln!(w, "const FPW: u32 = {fp_words}u;");
    let _ = writeln!(w, "const SW: u32 = {}u;", fp_words + 1);
    let _ = writeln!(w, "const MW: u32 = {}u;", fp_words + 2);
    src.push_str(include_str!("prelude.wgsl"));
    let w = &mut src;
    let _ = writeln!(w, "var<private> cur: array<i32, {slots}>;");
    let _ = writeln!(w, "var<private> s: array<i32, {slots}>;");
    let _ = writeln!(w, "var<private> fr: array<i32, {}>;", g.max_frame);
    let _ = writeln!(w, "var<private> stk: array<i32, {}>;", g.max_stack);
    let _ = writeln!(w, "var<private> pw: array<u32, {words}>;");
    let _ = writeln!(w, "var<private> fpw: array<u32, {fp_words}>;");
    src.push_str(&bindings(buffers));
    src.push_str(&unpack_pack(&layout));
    src.push_str(&fingerprint_fn(opts.fp128));
    src.push_str(&table_fns(buffers));
    src.push_str(&functions);
    src.push_str(&main_fn(model));
    Ok(Kernel {
        source: src,
        words,
        fp_words,
        meta_words: fp_words + 2,
        instances,
    })
}

/// The layout's unpack (`frontier` words to `cur`) and pack (`s` to `pw`),
/// straight-line, as `model::layout`.
fn unpack_pack(layout: &Layout) -> String {
    let mut u = String::from("fn unpack(b: u32) {\n");
    let mut p = String::from("fn pack() {\n");
    for k in 0..layout.words {
        let _ = writeln!(p, "    pw[{k}] = 0u;");
    }
    for (i, f) in layout.fields.iter().enumerate() {
        let mask = if f.bits == 32 {
            u32::MAX
        } else {
            (1u32 << f.bits) - 1
        };
        let lo = f.lo as i32;
        let _ = writeln!(
            u,
            "    cur[{i}] = i32((frontier[b + {}u] >> {}u) & {mask}u) + ({lo}i);",
            f.word, f.shift
        );
        // A value past its bits would pack into a different state: checked.
        let _ = writeln!(
            p,
            "    {{ let r = u32(s[{i}] - ({lo}i)); if (r > {mask}u) {{ err = 1u; }} pw[{}] |= (r & {mask}u) << {}u; }}",
            f.word, f.shift
        );
    }
    u.push_str("}\n");
    p.push_str("}\n");
    u + &p
}

fn fingerprint_fn(fp128: bool) -> String {
    if fp128 {
        "fn fingerprint() {\n    let f = fingerprint64();\n    let l = fingerprint128_low();\n    fpw[0] = l.x;\n    fpw[1] = l.y;\n    fpw[2] = f.x;\n    fpw[3] = f.y;\n}\n".into()
    } else {
        "fn fingerprint() {\n    let f = fingerprint64();\n    fpw[0] = f.x;\n    fpw[1] = f.y;\n}\n".into()
    }
}

fn bindings(buffers: u32) -> String {
    let mut s = String::from(
        "struct Params {
    n_states: u32,
    first: u32,
    expand: u32,
    deadlock: u32,
    table_mask: u32,
    buf_shift: u32,
    cap: u32,
    epoch: u32,
}
@group(0) @binding(0) var<storage, read> frontier: array<u32>;
@group(0) @binding(1) var<storage, read_write> out_words: array<u32>;
@group(0) @binding(2) var<storage, read_write> out_meta: array<u32>;
@group(0) @binding(3) var<storage, read_write> info: array<u32>;
@group(0) @binding(4) var<storage, read_write> counters: array<atomic<u32>>;
@group(0) @binding(5) var<uniform> params: Params;
var<workgroup> wg_count: atomic<u32>;
var<workgroup> wg_base: u32;
",
    );
    for b in 0..buffers {
        let _ = writeln!(
            s,
            "@group(0) @binding({}) var<storage, read_write> t{b}: array<atomic<u32>>;",
            6 + b
        );
    }
    s
}

/// Table access by buffer number, and the insert.
///
/// A slot is FPW fingerprint words and the epoch (dispatch number) that
/// inserted it, all zero when empty. The first word is claimed with a 32-bit
/// compare-exchange; the claimer then stores the others, the epoch last. A
/// fingerprint found with the current epoch is reported again: among a
/// dispatch's duplicates the host keeps the least (parent, instance), as
/// the CPU does, so traces are the CPU's. A thread
/// that finds its first word claimed waits briefly for the others (each
/// written once, from zero: WGSL atomics are relaxed, so each is awaited on
/// its own) and compares. Fingerprints with a zero word, a full probe
/// sequence or a wait given up are reported as possibly new: the host's
/// visited set, which holds every state, decides them — the table only
/// filters. The wait is short on purpose: nothing guarantees the claimer
/// runs meanwhile (on lavapipe it may be parked at a barrier; long spins
/// there were seen to go wrong), and a short wait costs only a duplicate
/// report.
fn table_fns(buffers: u32) -> String {
    let mut s = String::new();
    let access = |op: &str, sig: &str, ret: &str, body: &dyn Fn(u32) -> String| {
        let mut f = format!("fn t_{op}({sig}) -> {ret} {{\n    var r: {ret};\n    switch b {{\n");
        for b in 0..buffers {
            let label = if b + 1 == buffers {
                "default".to_string()
            } else {
                format!("case {b}u")
            };
            let _ = writeln!(f, "        {label}: {{ {} }}", body(b));
        }
        f.push_str("    }\n    return r;\n}\n");
        f
    };
    s.push_str(&access("cas", "b: u32, j: u32, v: u32", "vec2<u32>", &|b| {
        format!("let x = atomicCompareExchangeWeak(&t{b}[j], 0u, v); r = vec2<u32>(x.old_value, u32(x.exchanged));")
    }));
    s.push_str(&access("load", "b: u32, j: u32", "u32", &|b| {
        format!("r = atomicLoad(&t{b}[j]);")
    }));
    s.push_str(&access("store", "b: u32, j: u32, v: u32", "u32", &|b| {
        format!("atomicStore(&t{b}[j], v); r = 0u;")
    }));
    s.push_str(
        "// True: the fingerprint may be new (report it); false: it is in the table.
fn insert() -> bool {
    for (var k = 0u; k < FPW; k++) { if (fpw[k] == 0u) { return true; } }
    var h = (fpw[FPW - 1u] ^ (fpw[FPW - 2u] * 0x9e3779b1u)) & params.table_mask;
    let in_buf = (1u << params.buf_shift) - 1u;
    for (var p = 0u; p < 64u; p++) {
        let b = h >> params.buf_shift;
        let j = (h & in_buf) * SW;
        var tries = 0u;
        loop {
            let r = t_cas(b, j, fpw[0]);
            if (r.y != 0u) {
                for (var k = 1u; k < FPW; k++) { t_store(b, j + k, fpw[k]); }
                t_store(b, j + FPW, params.epoch);
                atomicAdd(&counters[1], 1u);
                return true;
            }
            if (r.x == 0u) {
                // A weak compare-exchange may fail spuriously: try again.
                tries++;
                if (tries > 64u) { return true; }
                continue;
            }
            if (r.x == fpw[0]) {
                var same = true;
                for (var k = 1u; k < FPW; k++) {
                    var v = t_load(b, j + k);
                    var spins = 0u;
                    while (v == 0u && spins < 64u) { v = t_load(b, j + k); spins++; }
                    if (v == 0u) { atomicAdd(&counters[5], 1u); return true; }
                    if (v != fpw[k]) { same = false; }
                }
                // Inserted by this dispatch (or being inserted): reported
                // too, so the host keeps the CPU's choice of parent.
                if (same) { return t_load(b, j + FPW) == params.epoch || t_load(b, j + FPW) == 0u; }
            }
            break;
        }
        h = (h + 1u) & params.table_mask;
    }
    return true;
}
",
    );
    s
}

fn main_fn(model: &Model) -> String {
    let mut s = String::from(
        "// 0: no candidate; 1: a candidate in pw/fpw; 2: the state needs the CPU.
fn successor() -> u32 {
    if (err != 0u) { return 2u; }
    let inside = in_constraint();
    if (err != 0u) { return 2u; }
    if (!inside) {
        // Checked, not kept: outside the constraint.
        if (!invariants_ok()) { return 2u; }
        return 0u;
    }
    pack();
    if (err != 0u) { return 2u; }
    fingerprint();
    if (insert()) { return 1u; }
    return 0u;
}

fn write_candidate(idx: u32, parent: u32, instance: u32) {
    if (idx >= params.cap) { atomicAdd(&counters[4], 1u); return; }
    for (var k = 0u; k < W; k++) { out_words[idx * W + k] = pw[k]; }
    out_meta[idx * MW] = parent;
    out_meta[idx * MW + 1u] = instance;
    for (var k = 0u; k < FPW; k++) { out_meta[idx * MW + 2u + k] = fpw[k]; }
}

// One round of output: the workgroup's candidates go to consecutive
// places, reserved with one global atomic.
fn emit(lid: u32, has: bool, parent: u32, instance: u32) {
    var my = 0u;
    if (has) { my = atomicAdd(&wg_count, 1u); }
    workgroupBarrier();
    if (lid == 0u) {
        let c = atomicLoad(&wg_count);
        if (c > 0u) { wg_base = atomicAdd(&counters[0], c); }
        atomicStore(&wg_count, 0u);
    }
    workgroupBarrier();
    if (has) { write_candidate(wg_base + my, parent, instance); }
}
",
    );
    let _ = writeln!(s, "@compute @workgroup_size({WORKGROUP_SIZE})");
    s.push_str(
        "fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = gid.x;
    let live = i < params.n_states;
    var flag = 0u;
    var generated = 0u;
    var live_on = false;
    var enabled = false;
    if (live) {
        err = 0u;
        unpack(i * W);
        s = cur;
        if (!invariants_ok()) {
            flag = 1u;
        } else {
            let bits = reachables();
            if (err != 0u) {
                flag = 1u;
            } else {
                if (bits.x != 0u) { atomicOr(&counters[2], bits.x); }
                if (bits.y != 0u) { atomicOr(&counters[3], bits.y); }
            }
        }
        live_on = flag == 0u && params.expand != 0u;
    }
",
    );
    for (r, rule) in model.rules.iter().enumerate() {
        let base = model.instance_base[r];
        let _ = writeln!(
            s,
            "    // rule `{}`
    for (var l = 0u; l < {}u; l++) {{
        var has = false;
        if (live_on) {{
            err = 0u;
            let g = guard_{r}(l);
            if (err != 0u) {{
                flag = 1u;
                live_on = false;
            }} else if (g != 0i) {{
                enabled = true;
                generated++;
                body_{r}();
                let out = successor();
                if (out == 2u) {{ flag = 1u; live_on = false; }}
                has = out == 1u;
                s = cur;
            }}
        }}
        emit(lid, has, params.first + i, {base}u + l);
    }}",
            rule.name.replace(['\n', '\r'], " "),
            rule.instances
        );
    }
    s.push_str(
        "    if (live) {
        if (live_on && !enabled && params.deadlock != 0u) {
            err = 0u;
            let t = is_terminal();
            if (err != 0u || !t) { flag = 1u; }
        }
        info[i] = generated | (flag << 31u);
    }
}
",
    );
    s
}

/// A kernel computing the fingerprints of `count` packed states of `words`
/// words (binding 0) into binding 1 (FPW words each), with the same WGSL
/// functions as the expand kernel; for tests against the CPU's.
pub fn fingerprint_kernel(words: u32, fp128: bool) -> String {
    let fp_words = if fp128 { 4 } else { 2 };
    let mut src = format!("const W: u32 = {words}u;\nconst FPW: u32 = {fp_words}u;\n");
    src.push_str(include_str!("prelude.wgsl"));
    let _ = writeln!(src, "var<private> pw: array<u32, {words}>;");
    let _ = writeln!(src, "var<private> fpw: array<u32, {fp_words}>;");
    src.push_str(&fingerprint_fn(fp128));
    src.push_str(
        "@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i * W >= arrayLength(&input)) { return; }
    for (var k = 0u; k < W; k++) { pw[k] = input[i * W + k]; }
    fingerprint();
    for (var k = 0u; k < FPW; k++) { output[i * FPW + k] = fpw[k]; }
}
",
    );
    src
}

/// Parses and validates WGSL with naga, as wgpu will: the message names
/// the first problem.
pub fn validate(source: &str) -> Result<(), String> {
    let module = naga::front::wgsl::parse_str(source).map_err(|e| e.emit_to_string(source))?;
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    )
    .validate(&module)
    .map_err(|e| e.emit_to_string(source))?;
    Ok(())
}
