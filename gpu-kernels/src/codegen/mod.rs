//! The WGSL of one spec: the shared prelude, the state layout's unpack and
//! pack, the fingerprint, and the model's properties and rules as
//! functions over private arrays. The search kernels (`crate::search`)
//! are built around it.
//!
//! Anything the evaluator would report (an error, a violated invariant, a
//! deadlock) or the GPU cannot decide (an i32 overflow) sets `err`; the
//! kernels then flag the state, and the level goes to the CPU: the GPU
//! detects, the CPU explains.

use std::fmt::Write as _;

mod symmetry;
pub use symmetry::CAP as SYMMETRY_CAP;

pub use ir_codegen::Unsupported;
use ir_codegen::{Dialect, R};
use model::ir::{Model, Property, Rule, Ty};
use model::layout::Layout;

/// What the model's code is generated for.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// 128-bit fingerprints (`--fingerprint 128`) instead of 64.
    pub fp128: bool,
    /// Keep successors as their orbits' representatives (the spec's
    /// symmetric types; `model::symmetry`): `pack()` canonicalizes first.
    pub symmetry: bool,
    /// `--coverage`: `rule_of(g)` and `premises()` for the expand kernel's
    /// per-workgroup counters.
    pub coverage: bool,
}

/// Rules the device counts per workgroup at most (`--coverage`): their
/// counters live in workgroup memory beside the local table.
pub const COVERAGE_RULES: usize = 512;
/// Invariants whose premises the device counts at most (one bit each).
pub const COVERAGE_PREMISES: usize = 32;

/// The model's WGSL (constants `W`, `FPW`, `I`, the prelude, the private
/// arrays, unpack/pack, the fingerprint, properties, and `guard(g)` /
/// `body(g)` per global rule instance), with the shapes a kernel needs.
#[derive(Clone, Debug)]
pub struct ModelCode {
    pub source: String,
    /// u32 words of a packed state.
    pub words: u32,
    /// u32 words of a fingerprint (2 or 4).
    pub fp_words: u32,
    /// Rule instances per state.
    pub instances: u32,
    /// `fn fingerprint()` alone (of `pw` into `fpw`), for kernels without
    /// the rest.
    pub fingerprint: String,
    /// `pack()` canonicalizes: stored states are representatives.
    pub symmetric: bool,
    /// `--coverage`: the expand kernel counts per workgroup.
    pub coverage: bool,
    /// A deadlock is a state no enabled rule changes (`Deadlock::Stuttering`):
    /// the expand kernel compares each successor with its parent (`changed()`).
    pub stuttering: bool,
    /// With `--coverage`: the rules counted.
    pub coverage_rules: u32,
    /// With `--coverage`: the invariants whose premises are counted.
    pub coverage_premises: u32,
}

type Gen<'m> = ir_codegen::Gen<'m, Wgsl>;

/// Generated model code past which the GPU refuses a model.
const MAX_SOURCE_BYTES: usize = 4 << 20;

/// WGSL as the shared IR walker writes it: i32 values with overflow
/// checks, an `err` flag for every failed check.
pub struct Wgsl;

impl Dialect for Wgsl {
    fn lit(&self, v: i64) -> R<String> {
        if v == i64::from(i32::MIN) {
            return Ok("(-2147483647i - 1i)".into());
        }
        let v = i32::try_from(v).map_err(|_| Unsupported::Constant(v))?;
        Ok(if v < 0 {
            format!("({v}i)")
        } else {
            format!("{v}i")
        })
    }
    fn num(&self, v: u64) -> String {
        format!("{v}i")
    }
    fn int_of(&self, b: &str) -> String {
        format!("i32({b})")
    }
    fn var(&self, name: &str, init: &str) -> String {
        format!("var {name} = {init};")
    }
    fn decl(&self, name: &str) -> String {
        format!("var {name}: i32;")
    }
    fn for_range(&self, j: &str, lo: &str, hi: &str) -> String {
        format!("for (var {j} = {lo}; {j} < {hi}; {j}++) {{")
    }
    fn for_down(&self, j: &str, n: &str) -> String {
        format!("for (var {j} = {n} - 1i; {j} >= 0i; {j}--) {{")
    }
    fn for_step(&self, j: &str, n: &str, step: &str) -> String {
        format!("for (var {j} = 0i; {j} < {n}; {j} += {step}) {{")
    }
    fn incr(&self, v: &str) -> String {
        format!("{v}++;")
    }
    fn fail(&self) -> &'static str {
        "err = 1u;"
    }
    fn cover(&self, reachable: u32) -> String {
        let (lane, bit) = if reachable < 32 {
            ("x", reachable)
        } else {
            ("y", reachable - 32)
        };
        format!("covered.{lane} |= {}u;", 1u32 << bit)
    }
    fn checked(&self) -> &'static str {
        ""
    }
    fn loop_guard(&self) -> Option<&'static str> {
        Some("if (err != 0u) { break; }")
    }
    fn in_range(&self, v: &str, lo: &str, count: u64) -> String {
        format!("({v} >= {lo} && (u32({v}) - u32({lo})) < {count}u)")
    }
    fn diff(&self, v: &str, lo: &str) -> String {
        format!("i32(u32({v}) - u32({lo}))")
    }
    fn bit_of(&self, index: &str, j: &str) -> String {
        format!("({index} >> u32({j})) & 1i")
    }
    /// Bounds wider than i32 hold every i32.
    fn bounds(&self, lo: i64, hi: i64) -> Option<(i64, i64)> {
        let (lo, hi) = (
            lo.clamp(i64::from(i32::MIN), i64::from(i32::MAX)),
            hi.clamp(i64::from(i32::MIN), i64::from(i32::MAX)),
        );
        (lo != i64::from(i32::MIN) || hi != i64::from(i32::MAX)).then_some((lo, hi))
    }
    fn captures_sends(&self) -> bool {
        false
    }
    fn send(&self, _: &str, _: u32, _: u32) -> String {
        unreachable!("the GPU runs a send as its network update")
    }
}

/// `fn name() -> bool`: true when every property holds (`all`) or some
/// does (`!all`); evaluation errors leave `err` set.
fn properties(g: &mut Gen<'_>, name: &str, props: &[Property], all: bool) -> R<()> {
    g.open(format!("fn {name}() -> bool {{"));
    for (i, p) in props.iter().enumerate() {
        g.frame(p.frame_len);
        if name == "invariants_ok" && i < 32 {
            // `--continue` skips the invariants it has reported (the
            // expand kernel copies `P.skip` here; other kernels leave 0).
            g.open(format!("if (((inv_skip >> {i}u) & 1u) == 0u) {{"));
        } else {
            g.open("{");
        }
        let x = g.int(&p.expr, 0)?;
        if all {
            g.line(format!("if (err != 0u || {x} == 0i) {{ return false; }}"));
        } else {
            g.line("if (err != 0u) { return false; }");
            g.line(format!("if ({x} != 0i) {{ return true; }}"));
        }
        g.close();
    }
    g.line(format!("return {all};"));
    g.close();
    Ok(())
}

/// Bit i of the result: reachable i holds (the first 64).
fn reachables(g: &mut Gen<'_>) -> R<()> {
    g.open("fn reachables() -> vec2<u32> {");
    g.line("var bits = vec2<u32>(0u, 0u);");
    for (i, p) in g.m.reachables.iter().enumerate().take(64) {
        g.frame(p.frame_len);
        g.open("{");
        let x = g.int(&p.expr, 0)?;
        let (lane, bit) = if i < 32 { ("x", i) } else { ("y", i - 32) };
        g.line(format!(
            "if ({x} != 0i) {{ bits.{lane} |= {}u; }}",
            1u32 << bit
        ));
        g.close();
    }
    g.line("return bits;");
    g.close();
    Ok(())
}

/// Bit i of the result: invariant i's premise holds (`--coverage`;
/// [`model::ir::Property::premise`]); invariants without one stay 0.
fn premises(g: &mut Gen<'_>) -> R<()> {
    g.open("fn premises() -> u32 {");
    g.line("var bits = 0u;");
    let list: Vec<(usize, Property)> =
        g.m.invariants
            .iter()
            .enumerate()
            .take(COVERAGE_PREMISES)
            .filter_map(|(i, p)| p.premise().map(|e| (i, Property { expr: e, ..p.clone() })))
            .collect();
    for (i, p) in &list {
        g.frame(p.frame_len);
        g.open("{");
        let x = g.int(&p.expr, 0)?;
        // An error here is not the premise's to report: not counted.
        g.line(format!(
            "if (err == 0u && {x} != 0i) {{ bits |= {}u; }}",
            1u32 << i
        ));
        g.line("err = 0u;");
        g.close();
    }
    g.line("return bits;");
    g.close();
    Ok(())
}

/// `rule_of(g)`: the rule of global instance `g` (`--coverage`), by the
/// same binary search as the dispatchers.
fn rule_of(model: &Model) -> String {
    let mut out = String::from("fn rule_of(g: u32) -> u32 {\n");
    if !model.rules.is_empty() {
        dispatch_range(model, 0, model.rules.len(), 1, &mut out, &mut |r, _| {
            format!("return {r}u;")
        });
    }
    out.push_str("    return 0u;\n}\n");
    out
}

/// `guard_r(l)`: binds local instance `l`'s parameters, then the guard;
/// `body_r()`: the rule's statements on `s`.
fn rule(g: &mut Gen<'_>, r: usize, rule: &Rule) -> R<()> {
    g.frame(rule.frame_len);
    g.open(format!("fn guard_{r}(l: u32) -> i32 {{"));
    g.line("var rest = i32(l);");
    for p in rule.params.iter().rev() {
        let card = i32::try_from(p.card).map_err(|_| {
            Unsupported::Other(format!("rule `{}` has too many instances", rule.name))
        })?;
        g.line(format!("let v{} = rest % {card}i;", p.local));
        g.line(format!("rest = rest / {card}i;"));
        match &p.ty {
            Ty::Range(lo, _) => {
                let lo = g.lit(*lo)?;
                g.line(format!("fr[{}] = {lo} + v{};", p.local, p.local))
            }
            ty => g.value_at(ty, &format!("v{}", p.local), "fr", &format!("{}i", p.local))?,
        }
        g.frame(p.local + p.len);
    }
    match &rule.guard {
        Some(e) => {
            let x = g.int(e, 0)?;
            g.line(format!("return {x};"));
        }
        None => g.line("return 1i;"),
    }
    g.close();
    g.open(format!("fn body_{r}() {{"));
    g.stmts(&rule.body, 0)?;
    g.close();
    Ok(())
}

/// Generates the model's WGSL: everything a search kernel needs to know of
/// the spec, or what in it the GPU cannot run.
pub fn generate(model: &Model, opts: Options) -> Result<ModelCode, Unsupported> {
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

    let mut g = Gen::new(model, Wgsl);
    properties(&mut g, "invariants_ok", &model.invariants, true)?;
    properties(&mut g, "in_constraint", &model.constraints, true)?;
    properties(&mut g, "is_terminal", &model.terminals, false)?;
    reachables(&mut g)?;
    if opts.coverage {
        if model.rules.len() > COVERAGE_RULES {
            return Err(Unsupported::Other(format!(
                "--coverage on the GPU counts at most {COVERAGE_RULES} rules; this spec has {}",
                model.rules.len()
            )));
        }
        if model.invariants.len() > COVERAGE_PREMISES
            && model.invariants[COVERAGE_PREMISES..]
                .iter()
                .any(|p| p.premise().is_some())
        {
            return Err(Unsupported::Other(format!(
                "--coverage on the GPU counts the premises of the first {COVERAGE_PREMISES} invariants only"
            )));
        }
        premises(&mut g)?;
    }
    for (r, rl) in model.rules.iter().enumerate() {
        rule(&mut g, r, rl)?;
    }
    assert_eq!(g.depth, 0, "every block the functions opened is closed");
    let functions = std::mem::take(&mut g.out);

    let words = layout.words;
    let slots = model.state_len.max(1);
    let mut src = String::new();
    let w = &mut src;
    // Writing to a String cannot fail.
    let _ = writeln!(w, "const W: u32 = {words}u;");
    let _ = writeln!(w, "const FPW: u32 = {fp_words}u;");
    let _ = writeln!(w, "const I: u32 = {instances}u;");
    src.push_str(include_str!("prelude.wgsl"));
    let w = &mut src;
    let _ = writeln!(w, "var<private> cur: array<i32, {slots}>;");
    let _ = writeln!(w, "var<private> s: array<i32, {slots}>;");
    let _ = writeln!(w, "var<private> fr: array<i32, {}>;", g.max_frame);
    let _ = writeln!(w, "var<private> stk: array<i32, {}>;", g.max_stack);
    let _ = writeln!(w, "var<private> uw: array<u32, {words}>;");
    let _ = writeln!(w, "var<private> pw: array<u32, {words}>;");
    let _ = writeln!(w, "var<private> fpw: array<u32, {fp_words}>;");
    let _ = writeln!(w, "var<private> inv_skip: u32;");
    // Reachable properties met by cover statements (`Stmt::Cover`).
    let _ = writeln!(w, "var<private> covered: vec2<u32>;");
    src.push_str(&unpack_pack(&layout));
    let sym = if opts.symmetry {
        model::symmetry::Symmetry::new(model)
    } else {
        None
    };
    match &sym {
        Some(sym) => {
            src.push_str(&symmetry::generate(sym, slots)?);
            src.push_str("fn pack() {\n    canonicalize();\n    pack_slots();\n}\n");
        }
        None => src.push_str("fn pack() {\n    pack_slots();\n}\n"),
    }
    src.push_str(&fingerprint_fn(opts.fp128));
    // The successor in `s` differs from its parent in `cur`.
    let _ = writeln!(
        src,
        "fn changed() -> bool {{\n    for (var i = 0u; i < {slots}u; i++) {{ if (s[i] != cur[i]) {{ return true; }} }}\n    return false;\n}}"
    );
    src.push_str(&functions);
    src.push_str(&dispatchers(model));
    if opts.coverage {
        src.push_str(&rule_of(model));
    }
    // Specs are tens of KiB (kv_store: 125 KiB); code this large comes from
    // deeply inlined calls (Murphi recursion), and a shader compiler takes
    // minutes over it (lavapipe: 4 minutes for 10 MiB). The CPU runs it.
    if src.len() > MAX_SOURCE_BYTES {
        return Err(Unsupported::Other(format!(
            "the model is {:.1} MiB of WGSL, more than {} MiB (deeply inlined calls, such as recursion): the device's shader compiler would take minutes",
            src.len() as f64 / (1 << 20) as f64,
            MAX_SOURCE_BYTES >> 20
        )));
    }
    Ok(ModelCode {
        source: src,
        words,
        fp_words,
        instances,
        fingerprint: fingerprint_fn(opts.fp128),
        symmetric: sym.is_some(),
        coverage: opts.coverage,
        stuttering: model.deadlock == model::ir::Deadlock::Stuttering,
        coverage_rules: if opts.coverage {
            model.rules.len() as u32
        } else {
            0
        },
        coverage_premises: if opts.coverage {
            model.invariants.len().min(COVERAGE_PREMISES) as u32
        } else {
            0
        },
    })
}

/// `guard(g)` and `body(g)` for a global rule instance `g`: the rule's
/// functions with its local instance (rules in order, as the CPU numbers
/// them), found by a binary search over the rules' instance bases. (A flat
/// chain of `if (g < end) { return ...; }` lost the rules past about the
/// 77th on lavapipe: their guards read as false.)
fn dispatchers(model: &Model) -> String {
    let mut gd = String::from("fn guard(g: u32) -> i32 {\n");
    let mut bd = String::from("fn body(g: u32) {\n");
    if !model.rules.is_empty() {
        dispatch_range(model, 0, model.rules.len(), 1, &mut gd, &mut |r, base| {
            format!("return guard_{r}(g - {base}u);")
        });
        dispatch_range(model, 0, model.rules.len(), 1, &mut bd, &mut |r, _| {
            format!("body_{r}(); return;")
        });
    }
    gd.push_str("    return 0i;\n}\n");
    bd.push_str("}\n");
    gd + &bd
}

/// The branch for rules `lo..hi`: a leaf calls the rule, else the range
/// splits at its middle rule's first instance.
fn dispatch_range(
    model: &Model,
    lo: usize,
    hi: usize,
    depth: usize,
    out: &mut String,
    leaf: &mut dyn FnMut(usize, u64) -> String,
) {
    let pad = "    ".repeat(depth);
    if hi - lo == 1 {
        let _ = writeln!(out, "{pad}{}", leaf(lo, model.instance_base[lo]));
        return;
    }
    let mid = (lo + hi) / 2;
    let _ = writeln!(out, "{pad}if (g < {}u) {{", model.instance_base[mid]);
    dispatch_range(model, lo, mid, depth + 1, out, leaf);
    let _ = writeln!(out, "{pad}}} else {{");
    dispatch_range(model, mid, hi, depth + 1, out, leaf);
    let _ = writeln!(out, "{pad}}}");
}

/// The layout's unpack (`uw` to `cur`) and pack (`s` to `pw`, `pack_slots`),
/// straight-line, as `model::layout`.
fn unpack_pack(layout: &Layout) -> String {
    let mut u = String::from("fn unpack() {\n");
    let mut p = String::from("fn pack_slots() {\n");
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
            "    cur[{i}] = i32((uw[{}] >> {}u) & {mask}u) + ({lo}i);",
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

/// A kernel computing the fingerprints of `count` packed states of `words`
/// words (binding 0) into binding 1 (FPW words each), with the same WGSL
/// functions as the search kernels; for tests against the CPU's.
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

/// A kernel canonicalizing `count` states of `slots` i32 slots (binding 0)
/// into binding 1 (`slots + 1` words each: the representative, then the
/// error flag), with the search kernels' functions; for tests against the
/// CPU's representatives. Each thread first canonicalizes three other
/// states, as a search thread does many successors in a row: whatever one
/// call leaves in the private arrays must not change the next one's answer.
pub fn canonicalize_kernel(model: &Model) -> Result<String, Unsupported> {
    let code = generate(
        model,
        Options { fp128: false, symmetry: true, coverage: false },
    )?;
    if !code.symmetric {
        return Err(Unsupported::Other("the spec has no symmetric type".into()));
    }
    let slots = model.state_len.max(1);
    let mut src = code.source;
    let _ = write!(
        src,
        "@group(0) @binding(0) var<storage, read> input: array<i32>;
@group(0) @binding(1) var<storage, read_write> output: array<i32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {{
    let i = gid.x;
    if ((i + 1u) * {slots}u > arrayLength(&input)) {{ return; }}
    let n = arrayLength(&input) / {slots}u;
    for (var t = 1u; t < 4u; t++) {{
        let o = (i + t * 977u) % n;
        for (var k = 0u; k < {slots}u; k++) {{ s[k] = input[o * {slots}u + k]; }}
        err = 0u;
        canonicalize();
    }}
    for (var k = 0u; k < {slots}u; k++) {{ s[k] = input[i * {slots}u + k]; }}
    err = 0u;
    canonicalize();
    for (var k = 0u; k < {slots}u; k++) {{ output[i * {slots}u + i + k] = s[k]; }}
    output[i * {slots}u + i + {slots}u] = i32(err);
}}
"
    );
    Ok(src)
}

/// Parses and validates WGSL with naga, as wgpu will: the message names
/// the first problem. `int64`: the device offers 64-bit integers and all
/// 64-bit atomics (the 64-bit table); `subgroups`: subgroup operations.
pub fn validate(source: &str, int64: bool, subgroups: bool) -> Result<(), String> {
    use naga::valid::Capabilities as Caps;
    let module = naga::front::wgsl::parse_str(source).map_err(|e| e.emit_to_string(source))?;
    let mut caps = Caps::empty();
    if int64 {
        caps |= Caps::SHADER_INT64 | Caps::SHADER_INT64_ATOMIC_ALL_OPS;
    }
    if subgroups {
        caps |= Caps::SUBGROUP;
    }
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
        .validate(&module)
        .map_err(|e| e.emit_to_string(source))?;
    Ok(())
}
