//! The WGSL of the device-resident search: one module per kernel, each
//! with only the bindings it uses (listed as [`Role`]s, which the runtime
//! turns into bind groups), built around the model's code
//! (`crate::codegen`).
//!
//! A level runs as a chain of kernels over buffers that stay on the device:
//!
//! - `expand`: one invocation per *item*, a frontier state and a range of
//!   `K` rule instances (`R` items per state, a power of two, so a state's
//!   items share a workgroup). Each enabled instance's successor is
//!   inserted into the visited table; the invocation that claims a new slot
//!   (the *claimer*) appends the state to the pool, and every invocation
//!   that finds a slot claimed in the same dispatch competes to *own* it
//!   with an atomic max of its complemented rank (parent, instance). A slot
//!   claimed by an earlier dispatch (an earlier level, or a lower part of
//!   this one) is a duplicate: dropped.
//! - `retry` (32-bit table only): successors that met a slot whose words
//!   were still being written, tried again after the dispatch.
//! - `mark`: each pool entry reads its slot's owner and sets the owner's
//!   bit in the item bitmap (bit = instance within the item).
//! - `scan_*`: an exclusive prefix sum of the bitmap's popcounts: the
//!   place of each item's owned successors in the next frontier.
//! - `place`: each pool entry goes to its place, with its trace record
//!   (parent, instance). The next frontier comes out ordered by (parent,
//!   instance), exactly as the CPU backend orders it.
//! - `rollback`, `collect` (spill or download), `load`, `compact_*`
//!   (delayed duplicate detection against the host's store): upkeep.

use std::fmt::Write as _;

use crate::codegen::ModelCode;

/// Invocations per workgroup of every kernel but the scans.
pub const WG: u32 = 64;
/// Invocations per workgroup of the scans; each takes 4 elements.
pub const SCAN_WG: u32 = 256;
/// Elements a scan workgroup covers.
pub const SCAN_BLOCK: u32 = SCAN_WG * 4;
/// Slots an insert probes before it gives up (the table is then full).
pub const PROBES: u32 = 256;
/// Retry passes after each expand dispatch (32-bit table).
pub const RETRY_PASSES: u32 = 3;

/// Epochs: 0 marks a slot not written yet, 1 a fingerprint the host's
/// store holds too (not counted, not collected), 2 one loaded from the
/// host; dispatches number from 3.
pub const EPOCH_DUP: u32 = 1;
pub const EPOCH_LOADED: u32 = 2;
pub const EPOCH_FIRST: u32 = 3;

/// The counters buffer (u32 each).
pub mod ctr {
    /// Pool entries reserved (= slots claimed) in the segment.
    pub const POOL: usize = 0;
    /// States flagged for the CPU.
    pub const FLAGS: usize = 1;
    pub const GEN_LO: usize = 2;
    pub const GEN_HI: usize = 3;
    pub const REACH_LO: usize = 4;
    pub const REACH_HI: usize = 5;
    /// Inserts that found no free slot within `PROBES`.
    pub const FULL: usize = 6;
    /// Pool entries past the pool's limit.
    pub const POOL_OVER: usize = 7;
    /// Retry list lengths (ping-pong) and their overflow.
    pub const RETRY_A: usize = 8;
    pub const RETRY_B: usize = 9;
    pub const RETRY_OVER: usize = 10;
    /// Retries still undecided after the last pass.
    pub const RETRY_LEFT: usize = 11;
    /// Slots claimed by `load`.
    pub const CLAIMS: usize = 12;
    /// The scan's total.
    pub const TOTAL: usize = 13;
    /// Inconsistencies the kernels saw (must stay 0).
    pub const BAD: usize = 14;
    /// Fingerprints `collect` wrote.
    pub const COLLECTED: usize = 15;
    /// Successors a workgroup's own table found twice (64-bit, 2 words).
    pub const LOCAL_DUPS: usize = 16;
    pub const COUNT: usize = 32;
    /// With `--coverage`, after the fixed counters: per rule its enabled
    /// instances (64-bit, 2 words), then per invariant the states where
    /// its premise held (2 words).
    pub const COVERAGE: usize = COUNT;
}

impl Shape {
    /// Words of the counters buffer: the fixed ones and the coverage
    /// counters.
    pub fn counter_words(&self) -> usize {
        ctr::COUNT + 2 * (self.model.coverage_rules + self.model.coverage_premises) as usize
    }
}

/// Which buffer a binding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Params,
    Counters,
    /// The frontier being expanded, buffer `k`.
    Cur(u32),
    /// The frontier being built, buffer `k`.
    Next(u32),
    Table(u32),
    Pool(u32),
    /// The item bitmap (or the keep mask of a compaction).
    Bits,
    /// The scan's output: each item's place.
    Offs,
    Scratch,
    /// Trace records of the segment's new states: (parent, instance).
    Trace,
    /// Per new state: its fingerprint and slot (delayed duplicate
    /// detection); also `collect`'s output and `load`'s input.
    Ddd,
    RetryA,
    RetryB,
    Indirect,
}

/// The visited table's slot format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// A 64-bit fingerprint claimed with one 64-bit compare-exchange;
    /// owner and epoch beside it (16 bytes).
    Key64,
    /// The fingerprint in 31-bit chunks, each with its top bit set (so a
    /// word not written yet reads 0), claimed by its first word with a
    /// 32-bit compare-exchange; owner and epoch after.
    Words32,
}

/// An array of fixed-size elements split over storage buffers, each within
/// the device's binding limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// u32 words per element.
    pub elem_words: u32,
    /// Elements per buffer.
    pub per_buffer: u32,
    pub buffers: u32,
}

impl Split {
    pub fn capacity(&self) -> u64 {
        u64::from(self.per_buffer) * u64::from(self.buffers)
    }

    pub fn buffer_bytes(&self) -> u64 {
        u64::from(self.per_buffer) * u64::from(self.elem_words) * 4
    }
}

/// Everything the kernels are generated for.
#[derive(Clone, Debug)]
pub struct Shape {
    pub model: ModelCode,
    pub scheme: Scheme,
    /// Rule instances per item (at most 32: one bitmap word per item).
    pub k: u32,
    /// Items per state (a power of two, at most `WG`).
    pub r: u32,
    /// Hash slots of the table (the table has them all; `Key64` slots are
    /// 4 words, `Words32` slots `key_words() + 2`).
    pub table_slots: u32,
    pub table: Split,
    /// Each of the two frontiers.
    pub frontier: Split,
    pub pool: Split,
    /// Entries of each retry list (32-bit table).
    pub retry_cap: u32,
    /// Entries of the bitmap and of `Offs`.
    pub items_cap: u32,
    pub scratch_words: u32,
    /// Entries of `Trace` and `Ddd`.
    pub out_cap: u32,
    /// The expand kernel probes the table cooperatively, a subgroup
    /// together on one fingerprint at a time (64-bit table only).
    pub subgroups: bool,
}

impl Shape {
    /// u32 words of a `Words32` key (31 bits each).
    pub fn key_words(&self) -> u32 {
        (self.model.fp_words * 32).div_ceil(31)
    }

    /// u32 words of a table slot.
    pub fn slot_words(&self) -> u32 {
        match self.scheme {
            Scheme::Key64 => 4,
            Scheme::Words32 => self.key_words() + 2,
        }
    }

    pub fn pool_words(&self) -> u32 {
        self.model.words + 3
    }

    pub fn retry_words(&self) -> u32 {
        self.model.words + 3
    }

    pub fn ddd_words(&self) -> u32 {
        self.model.fp_words + 1
    }

    fn r_shift(&self) -> u32 {
        self.r.trailing_zeros()
    }
}

/// How a kernel binds a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Uniform,
    Read,
    ReadWrite,
}

/// One kernel's source, its bindings in order, and its workgroup size.
#[derive(Clone, Debug)]
pub struct KernelSource {
    pub name: &'static str,
    pub source: String,
    pub bindings: Vec<(Role, Access)>,
    pub workgroup: u32,
}

pub const PARAMS_WGSL: &str = "struct Params {
    nx: u32,
    count: u32,
    first: u32,
    seg_first: u32,
    epoch: u32,
    expand: u32,
    deadlock: u32,
    pool_limit: u32,
    next_base: u32,
    mode: u32,
    src: u32,
    dst: u32,
    aux: u32,
    ddd: u32,
    skip: u32,
    pad1: u32,
}
";

/// The parameters of one dispatch (a uniform block, `PARAMS_WGSL`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    /// Workgroups along x (dispatches are 2-D past 65535 workgroups).
    pub nx: u32,
    /// Elements (items, entries, slots) this dispatch covers.
    pub count: u32,
    /// Its first element; for `expand`, its first state.
    pub first: u32,
    /// The segment's first state.
    pub seg_first: u32,
    pub epoch: u32,
    pub expand: u32,
    pub deadlock: u32,
    /// Pool entries (or `collect` outputs) that fit.
    pub pool_limit: u32,
    /// Where the segment's states go in the next frontier.
    pub next_base: u32,
    /// Scans: 0 reads the bitmap's popcounts, 1 reads `Scratch[src..]`.
    pub mode: u32,
    pub src: u32,
    pub dst: u32,
    /// Rollback and collect: the first epoch of the level.
    pub aux: u32,
    /// Place: also write the fingerprints (delayed duplicate detection).
    pub ddd: u32,
    /// Expand: bit i, invariant i is not checked (`--continue` reported it).
    pub skip: u32,
    pub pad1: u32,
}

/// Builds one kernel: its bindings and the accessors it needs.
struct Builder<'s> {
    shape: &'s Shape,
    bindings: Vec<(Role, Access)>,
    decls: String,
}

impl<'s> Builder<'s> {
    fn new(shape: &'s Shape) -> Self {
        let mut b = Builder { shape, bindings: Vec::new(), decls: String::new() };
        b.decls.push_str(PARAMS_WGSL);
        b.bind(Role::Params, "var<uniform> P: Params;");
        b.bind(
            Role::Counters,
            "var<storage, read_write> C: array<atomic<u32>>;",
        );
        b
    }

    fn bind(&mut self, role: Role, decl: &str) {
        let n = self.bindings.len();
        let _ = writeln!(self.decls, "@group(0) @binding({n}) {decl}");
        let access = if decl.contains("var<uniform>") {
            Access::Uniform
        } else if decl.contains("read_write") {
            Access::ReadWrite
        } else {
            Access::Read
        };
        self.bindings.push((role, access));
    }

    /// A split array `name0..` with `name_ld(i, w)` (and `name_st` when
    /// writable): element `i`'s word `w`.
    fn split(&mut self, name: &str, split: Split, role: fn(u32) -> Role, write: bool) {
        let access = if write { "read_write" } else { "read" };
        for k in 0..split.buffers {
            self.bind(
                role(k),
                &format!("var<storage, {access}> {name}{k}: array<u32>;"),
            );
        }
        let (per, e) = (split.per_buffer, split.elem_words);
        let at = format!("let b = i / {per}u; let j = (i - b * {per}u) * {e}u + w;");
        let mut ld = format!("fn {name}_ld(i: u32, w: u32) -> u32 {{\n    {at}\n");
        let mut st = format!("fn {name}_st(i: u32, w: u32, v: u32) {{\n    {at}\n");
        if split.buffers == 1 {
            let _ = writeln!(ld, "    return {name}0[j];");
            let _ = writeln!(st, "    {name}0[j] = v;");
        } else {
            ld.push_str("    switch b {\n");
            st.push_str("    switch b {\n");
            for k in 0..split.buffers {
                let label = case_label(k, split.buffers);
                let _ = writeln!(ld, "        {label}: {{ return {name}{k}[j]; }}");
                let _ = writeln!(st, "        {label}: {{ {name}{k}[j] = v; }}");
            }
            ld.push_str("    }\n");
            st.push_str("    }\n");
        }
        ld.push_str("}\n");
        st.push_str("}\n");
        self.decls.push_str(&ld);
        if write {
            self.decls.push_str(&st);
        }
    }

    fn single(&mut self, role: Role, decl: &str) {
        self.bind(role, decl);
    }

    /// The table's bindings, its slot accessors and `insert`.
    fn table(&mut self) {
        let sh = self.shape;
        let t = sh.table;
        let per = t.per_buffer;
        match sh.scheme {
            Scheme::Key64 => {
                self.decls.push_str(
                    "struct Slot { key: atomic<u64>, owner: atomic<u32>, epoch: atomic<u32>, }\n\
                     struct Cas { old: u64, ok: bool, }\n",
                );
                for k in 0..t.buffers {
                    self.bind(
                        Role::Table(k),
                        &format!("var<storage, read_write> t{k}: array<Slot>;"),
                    );
                }
                let ops: [(&str, &str, &str, &str); 7] = [
                    (
                        "t_cas",
                        "v: u64",
                        "Cas",
                        "let r = atomicCompareExchangeWeak(&T[j].key, 0lu, v); return Cas(r.old_value, r.exchanged);",
                    ),
                    ("t_key", "", "u64", "return atomicLoad(&T[j].key);"),
                    ("t_owner", "", "u32", "return atomicLoad(&T[j].owner);"),
                    ("t_owner_max", "v: u32", "", "atomicMax(&T[j].owner, v);"),
                    ("t_epoch", "", "u32", "return atomicLoad(&T[j].epoch);"),
                    ("t_set_epoch", "v: u32", "", "atomicStore(&T[j].epoch, v);"),
                    (
                        "t_clear",
                        "",
                        "",
                        "atomicStore(&T[j].key, 0lu); atomicStore(&T[j].owner, 0u); atomicStore(&T[j].epoch, 0u);",
                    ),
                ];
                for (name, arg, ret, body) in ops {
                    self.table_op(name, arg, ret, body, per, t.buffers);
                }
            }
            Scheme::Words32 => {
                for k in 0..t.buffers {
                    self.bind(
                        Role::Table(k),
                        &format!("var<storage, read_write> t{k}: array<atomic<u32>>;"),
                    );
                }
                let sw = sh.slot_words();
                let kw = sh.key_words();
                let ops: [(&str, &str, &str, &str); 4] = [
                    (
                        "tw_cas",
                        "w: u32, v: u32",
                        "vec2<u32>",
                        "let r = atomicCompareExchangeWeak(&T[j * SW + w], 0u, v); return vec2<u32>(r.old_value, u32(r.exchanged));",
                    ),
                    (
                        "tw_ld",
                        "w: u32",
                        "u32",
                        "return atomicLoad(&T[j * SW + w]);",
                    ),
                    (
                        "tw_st",
                        "w: u32, v: u32",
                        "",
                        "atomicStore(&T[j * SW + w], v);",
                    ),
                    (
                        "tw_max",
                        "w: u32, v: u32",
                        "",
                        "atomicMax(&T[j * SW + w], v);",
                    ),
                ];
                let _ = writeln!(self.decls, "const SW: u32 = {sw}u;\nconst KW: u32 = {kw}u;");
                for (name, arg, ret, body) in ops {
                    self.table_op(name, arg, ret, body, per, t.buffers);
                }
                let _ = writeln!(
                    self.decls,
                    "fn t_owner(h: u32) -> u32 {{ return tw_ld(h, KW); }}
fn t_owner_max(h: u32, v: u32) {{ tw_max(h, KW, v); }}
fn t_epoch(h: u32) -> u32 {{ return tw_ld(h, KW + 1u); }}
fn t_set_epoch(h: u32, v: u32) {{ tw_st(h, KW + 1u, v); }}
fn t_clear(h: u32) {{ for (var w = 0u; w < SW; w++) {{ tw_st(h, w, 0u); }} }}"
                );
            }
        }
        self.decls.push_str(&insert_fn(sh));
    }

    /// `fn name(h: u32, arg) -> ret` over slot `h`, `T` standing for the
    /// slot's buffer and `j` for its index there.
    fn table_op(&mut self, name: &str, arg: &str, ret: &str, body: &str, per: u32, buffers: u32) {
        let args = if arg.is_empty() {
            "h: u32".to_string()
        } else {
            format!("h: u32, {arg}")
        };
        let ret = if ret.is_empty() {
            String::new()
        } else {
            format!(" -> {ret}")
        };
        let mut f =
            format!("fn {name}({args}){ret} {{\n    let b = h / {per}u; let j = h - b * {per}u;\n");
        if buffers == 1 {
            let _ = writeln!(f, "    {}", body.replace("T[", "t0["));
        } else {
            f.push_str("    switch b {\n");
            for k in 0..buffers {
                let _ = writeln!(
                    f,
                    "        {}: {{ {} }}",
                    case_label(k, buffers),
                    body.replace("T[", &format!("t{k}["))
                );
            }
            f.push_str("    }\n");
        }
        f.push_str("}\n");
        self.decls.push_str(&f);
    }

    fn finish(self, name: &'static str, body: &str, model: bool, workgroup: u32) -> KernelSource {
        let mut source = String::new();
        if name == "expand" && self.shape.subgroups {
            // naga takes subgroup builtins without the enable directive (it
            // does not implement the directive yet); the device feature is
            // what allows them.
            source.push_str("// subgroup operations: the device's SUBGROUP feature\n");
        }
        if model {
            source.push_str(&self.shape.model.source);
        } else {
            let m = &self.shape.model;
            let _ = writeln!(
                source,
                "const W: u32 = {}u;\nconst FPW: u32 = {}u;\nconst I: u32 = {}u;",
                m.words, m.fp_words, m.instances
            );
        }
        let sh = self.shape;
        let _ = writeln!(
            source,
            "const K: u32 = {}u;\nconst R: u32 = {}u;\nconst RS: u32 = {}u;\nconst TS: u32 = {}u;\nconst PE: u32 = {}u;\nconst RE: u32 = {}u;\nconst DE: u32 = {}u;\nconst PROBES: u32 = {PROBES}u;\nconst EPOCH_DUP: u32 = {EPOCH_DUP}u;\nconst EPOCH_LOADED: u32 = {EPOCH_LOADED}u;",
            sh.k,
            sh.r,
            sh.r_shift(),
            sh.table_slots,
            sh.pool_words(),
            sh.retry_words(),
            sh.ddd_words(),
        );
        for (name, i) in [
            ("C_POOL", ctr::POOL),
            ("C_FLAGS", ctr::FLAGS),
            ("C_GEN", ctr::GEN_LO),
            ("C_REACH_LO", ctr::REACH_LO),
            ("C_REACH_HI", ctr::REACH_HI),
            ("C_FULL", ctr::FULL),
            ("C_POOL_OVER", ctr::POOL_OVER),
            ("C_RA", ctr::RETRY_A),
            ("C_RB", ctr::RETRY_B),
            ("C_RETRY_OVER", ctr::RETRY_OVER),
            ("C_RETRY_LEFT", ctr::RETRY_LEFT),
            ("C_CLAIMS", ctr::CLAIMS),
            ("C_TOTAL", ctr::TOTAL),
            ("C_BAD", ctr::BAD),
            ("C_COLLECTED", ctr::COLLECTED),
            ("C_LOCAL_DUPS", ctr::LOCAL_DUPS),
            ("C_COV", ctr::COVERAGE),
        ] {
            let _ = writeln!(source, "const {name}: u32 = {i}u;");
        }
        if !model {
            // Kernels without the model's code still hash and pack words.
            source.push_str(&fingerprint_only(&self.shape.model));
        }
        source.push_str(&self.decls);
        source.push_str(body);
        KernelSource { name, source, bindings: self.bindings, workgroup }
    }
}

fn case_label(k: u32, buffers: u32) -> String {
    if k + 1 == buffers {
        "default".into()
    } else {
        format!("case {k}u")
    }
}

/// The fingerprint function and its private arrays, for kernels that do
/// not include the model's code.
fn fingerprint_only(m: &ModelCode) -> String {
    let mut s = String::from(include_str!("../codegen/prelude.wgsl"));
    let _ = writeln!(s, "var<private> pw: array<u32, {}>;", m.words);
    let _ = writeln!(s, "var<private> fpw: array<u32, {}>;", m.fp_words);
    s.push_str(&m.fingerprint);
    s
}

/// `insert(rank_c, epoch, load)`: the table's insert of the fingerprint in
/// `fpw`. Returns 0 (a duplicate: drop it), 1 (claimed: new), 2 (claimed
/// in this dispatch by another: owner competed for), 3 (no free slot
/// within `PROBES`), 4 (a slot whose words are still being written: try
/// again after the dispatch). `slot_of` is the slot found. `load`: a
/// fingerprint from the host's store, none of which can be in the table
/// or inserted twice.
fn insert_fn(sh: &Shape) -> String {
    let fpw = sh.model.fp_words;
    let hash = format!(
        "fn slot_hash() -> u32 {{
    var x = fpw[{}u] ^ (fpw[{}u] * 0x9e3779b1u);
    x ^= x >> 15u;
    x *= 0x2c1b3c6du;
    x ^= x >> 12u;
    return x % TS;
}}
var<private> slot_of: u32;
// The fingerprint is in slot `h`: a duplicate (0) unless the slot was
// claimed in this dispatch (its epoch 0 while being claimed), where the
// owner is competed for (2).
fn met(h: u32, rank_c: u32, epoch: u32) -> u32 {{
    slot_of = h;
    let e = t_epoch(h);
    if (e == 0u || e == epoch) {{
        t_owner_max(h, rank_c);
        return 2u;
    }}
    return 0u;
}}
",
        fpw - 1,
        fpw - 2
    );
    match sh.scheme {
        Scheme::Key64 => {
            hash + "fn insert(rank_c: u32, epoch: u32, load: bool) -> u32 {
    // fingerprint64 is never 0: 0 marks an empty slot.
    let key = (u64(fpw[1]) << 32u) | u64(fpw[0]);
    var h = slot_hash();
    var spins = 0u;
    var p = 0u;
    loop {
        if (p >= PROBES) { return 3u; }
        let r = t_cas(h, key);
        if (r.ok) {
            t_owner_max(h, rank_c);
            t_set_epoch(h, epoch);
            slot_of = h;
            return 1u;
        }
        if (r.old == 0lu) {
            // A weak compare-exchange may fail spuriously.
            spins++;
            if (spins > 64u) { return 3u; }
            continue;
        }
        if (r.old == key && !load) {
            return met(h, rank_c, epoch);
        }
        h = h + 1u;
        if (h == TS) { h = 0u; }
        p++;
    }
    return 3u;
}
"
        }
        Scheme::Words32 => {
            let kw = sh.key_words();
            let mut enc = String::from("var<private> enc: array<u32, KW>;\nfn encode() {\n");
            for k in 0..kw {
                let o = 31 * k;
                let (wi, shift) = (o / 32, o % 32);
                let mut e = format!("(fpw[{wi}u] >> {shift}u)");
                if shift > 0 && wi + 1 < fpw {
                    e = format!("({e} | (fpw[{}u] << {}u))", wi + 1, 32 - shift);
                }
                let _ = writeln!(enc, "    enc[{k}] = ({e} & 0x7fffffffu) | 0x80000000u;");
            }
            enc.push_str("}\n// The fingerprint of a slot's key words (as `encode` inverted).\nfn decode(h: u32) {\n");
            for i in 0..fpw {
                let _ = writeln!(enc, "    fpw[{i}] = 0u;");
            }
            for k in 0..kw {
                let _ = writeln!(enc, "    {{ let c = tw_ld(h, {k}u) & 0x7fffffffu;");
                for i in 0..fpw {
                    let shift = 31 * k as i64 - 32 * i as i64;
                    if (0..32).contains(&shift) {
                        let _ = writeln!(enc, "      fpw[{i}] |= c << {shift}u;");
                    } else if (-30..0).contains(&shift) {
                        let _ = writeln!(enc, "      fpw[{i}] |= c >> {}u;", -shift);
                    }
                }
                enc.push_str("    }\n");
            }
            enc.push_str("}\n");
            hash + &enc
                + "fn insert(rank_c: u32, epoch: u32, load: bool) -> u32 {
    encode();
    var h = slot_hash();
    var spins = 0u;
    var p = 0u;
    loop {
        if (p >= PROBES) { return 3u; }
        let r = tw_cas(h, 0u, enc[0]);
        if (r.y != 0u) {
            for (var k = 1u; k < KW; k++) { tw_st(h, k, enc[k]); }
            t_owner_max(h, rank_c);
            t_set_epoch(h, epoch);
            slot_of = h;
            return 1u;
        }
        if (r.x == 0u) {
            spins++;
            if (spins > 64u) { return 3u; }
            continue;
        }
        if (r.x == enc[0]) {
            var same = true;
            for (var k = 1u; k < KW; k++) {
                let v = tw_ld(h, k);
                // Not written yet: after the dispatch it will be. A load
                // never meets its own fingerprint half written.
                if (v == 0u) {
                    if (load) { same = false; break; }
                    return 4u;
                }
                if (v != enc[k]) { same = false; }
            }
            if (same && !load) {
                return met(h, rank_c, epoch);
            }
        }
        h = h + 1u;
        if (h == TS) { h = 0u; }
        p++;
    }
    return 3u;
}
"
        }
    }
}

/// The linear index of an invocation of a 2-D dispatch.
const LINEAR: &str = "let e = (wid.y * P.nx + wid.x) * 64u + lid;";

/// Adds to a 64-bit counter kept as two u32 words.
const ADD64: &str = "fn add64(at: u32, v: u32) {
    let old = atomicAdd(&C[at], v);
    if (old + v < old) { atomicAdd(&C[at + 1u], 1u); }
}
";

fn expand(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    b.split("cur", sh.frontier, Role::Cur, false);
    b.table();
    b.split("pool", sh.pool, Role::Pool, true);
    if sh.scheme == Scheme::Words32 {
        b.single(
            Role::RetryA,
            "var<storage, read_write> retry_out: array<u32>;",
        );
    }
    let defer = if sh.scheme == Scheme::Words32 {
        format!(
            "let at = atomicAdd(&C[C_RA], 1u);
        if (at >= {cap}u) {{ atomicAdd(&C[C_RETRY_OVER], 1u); }} else {{
            for (var w = 0u; w < W; w++) {{ retry_out[at * RE + w] = pw[w]; }}
            retry_out[at * RE + W] = ~rank_c;
            retry_out[at * RE + W + 1u] = P.first;
            retry_out[at * RE + W + 2u] = P.epoch;
        }}",
            cap = sh.retry_cap
        )
    } else {
        "atomicAdd(&C[C_BAD], 1u);".to_string()
    };
    let body = format!(
        "var<private> claimed: array<u32, K>;
var<workgroup> wg_enabled: array<atomic<u32>, 64>;
var<workgroup> wg_new: atomic<u32>;
var<workgroup> wg_gen: atomic<u32>;
var<workgroup> wg_reach_lo: atomic<u32>;
var<workgroup> wg_reach_hi: atomic<u32>;
var<workgroup> wg_base: u32;
var<workgroup> wg_local_dups: atomic<u32>;
{cov_decls}
{ADD64}
// Frontier state `i` (of the level) into `cur`.
fn load_state(i: u32) {{
    for (var w = 0u; w < W; w++) {{ uw[w] = cur_ld(i, w); }}
    unpack();
}}

// The successor in `s`, by the instance of rank `rank_c` (complemented):
// 0 nothing new here, 1 claimed (new), 2 the state needs the CPU.
fn successor(rank_c: u32) -> u32 {{
    if (err != 0u) {{ return 2u; }}
    let inside = in_constraint();
    if (err != 0u) {{ return 2u; }}
    if (!inside) {{
        // Checked, not kept: outside the constraint.
        if (!invariants_ok()) {{ return 2u; }}
        return 0u;
    }}
    pack();
    if (err != 0u) {{ return 2u; }}
    fingerprint();
    let r = insert(rank_c, P.epoch, false);
    if (r == 1u) {{ return 1u; }}
    if (r == 3u) {{ atomicAdd(&C[C_FULL], 1u); }}
    if (r == 4u) {{
        {defer}
    }}
    return 0u;
}}

{coop}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32{sg_args}) {{
    {LINEAR}
    inv_skip = P.skip;
    covered = vec2<u32>(0u, 0u);
    let q = e >> RS;
    let r = e & (R - 1u);
    let live = q < P.count;
    let parent = P.first + q;
    var mask = 0u;
    var generated = 0u;
    var flag = false;
    var enabled = false;
    if (live) {{
        err = 0u;
        load_state(parent);
        s = cur;
        if (r == 0u) {{
            if (!invariants_ok()) {{
                flag = true;
            }} else {{
                let bits = reachables();
                if (err != 0u) {{
                    flag = true;
                }} else {{
                    if (bits.x != 0u) {{ atomicOr(&wg_reach_lo, bits.x); }}
                    if (bits.y != 0u) {{ atomicOr(&wg_reach_hi, bits.y); }}
                }}
            }}{cov_premises}
        }}
{instances}
    if (covered.x != 0u) {{ atomicOr(&wg_reach_lo, covered.x); }}
    if (covered.y != 0u) {{ atomicOr(&wg_reach_hi, covered.y); }}
    if (enabled) {{ atomicOr(&wg_enabled[lid >> RS], 1u); }}
    let off = atomicAdd(&wg_new, countOneBits(mask));
    atomicAdd(&wg_gen, generated);
    workgroupBarrier();
    if (lid == 0u) {{
        wg_base = atomicAdd(&C[C_POOL], atomicLoad(&wg_new));
        add64(C_GEN, atomicLoad(&wg_gen));
        let lo = atomicLoad(&wg_reach_lo);
        let hi = atomicLoad(&wg_reach_hi);
        if (lo != 0u) {{ atomicOr(&C[C_REACH_LO], lo); }}
        if (hi != 0u) {{ atomicOr(&C[C_REACH_HI], hi); }}
        let d = atomicLoad(&wg_local_dups);
        if (d != 0u) {{ add64(C_LOCAL_DUPS, d); }}
    }}{cov_reduce}
    workgroupBarrier();
    let base = wg_base;
    if (live && r == 0u && !flag && P.expand != 0u && P.deadlock != 0u
        && atomicLoad(&wg_enabled[lid >> RS]) == 0u) {{
        err = 0u;
        let t = is_terminal();
        if (err != 0u || !t) {{ flag = true; }}
    }}
    if (flag) {{ atomicAdd(&C[C_FLAGS], 1u); }}
    // The claimed successors into the pool: computed again (the body is
    // deterministic), so no invocation holds whole states meanwhile.
    var m = mask;
    var at = base + off;
    while (m != 0u) {{
        let j = firstTrailingBit(m);
        m &= m - 1u;
        if (at >= P.pool_limit) {{
            atomicAdd(&C[C_POOL_OVER], 1u);
        }} else {{
            let g = r * K + j;
            s = cur;
            err = 0u;
            let en = guard(g);
            body(g);
            pack();
            if (err != 0u || en == 0i) {{ atomicAdd(&C[C_BAD], 1u); }}
            for (var w = 0u; w < W; w++) {{ pool_st(at, w, pw[w]); }}
            pool_st(at, W, claimed[j]);
            pool_st(at, W + 1u, P.first);
            s = cur;
        }}
        at++;
    }}
}}
",
        instances = instance_loop(sh),
        coop = coop_fns(sh),
        cov_decls = coverage_decls(sh),
        cov_premises = coverage_premises(sh),
        cov_reduce = coverage_reduce(sh),
        sg_args = if sh.subgroups {
            ", @builtin(subgroup_invocation_id) sg_lane: u32"
        } else {
            ""
        },
    );
    b.finish("expand", &body, true, WG)
}

/// The expand kernel's loop over an item's rule instances.
///
/// 32-bit table: each invocation inserts its own successors as it finds
/// them. 64-bit table, in two phases around a barrier: (A) each invocation
/// finds its successors and puts their fingerprints in the workgroup's
/// table (shared memory) with an atomic max of the complemented rank; the
/// first of each fingerprint there is its representative. (B) Each
/// representative (and every successor the full local table did not take)
/// is inserted in the global table with its group's least rank, which is
/// what the global competition would have chosen among them: siblings'
/// successors often coincide, and they share a workgroup
/// (`benches/src/bin/workgroup_dups.rs`: 64% of TwoPhase's duplicates).
/// Phase B is per invocation, or with subgroups cooperative: `K` rounds in
/// every invocation, the subgroup inserting its members' fingerprints one
/// at a time, every lane reading one slot of the probe window.
fn instance_loop(sh: &Shape) -> String {
    let count_rule = if sh.model.coverage {
        "atomicAdd(&wg_cov[rule_of(g)], 1u);"
    } else {
        ""
    };
    // A stuttering deadlock: only a step that changes the state counts.
    let mark_enabled = if sh.model.stuttering {
        "if (!enabled && changed()) { enabled = true; }"
    } else {
        "enabled = true;"
    };
    instance_loop_body(sh)
        .replace("COUNT_RULE", count_rule)
        .replace("MARK_ENABLED", mark_enabled)
}

/// `--coverage`'s workgroup counters: per rule, per invariant's premise.
fn coverage_decls(sh: &Shape) -> String {
    let (rules, premises) = (sh.model.coverage_rules, sh.model.coverage_premises);
    if !sh.model.coverage {
        return String::new();
    }
    format!(
        "var<workgroup> wg_cov: array<atomic<u32>, {}>;\nvar<workgroup> wg_prem: array<atomic<u32>, {}>;",
        rules.max(1),
        premises.max(1)
    )
}

/// Each expanded state's premises (the item that checks its invariants).
fn coverage_premises(sh: &Shape) -> String {
    if sh.model.coverage_premises == 0 {
        return String::new();
    }
    "
        if (r == 0u && !flag) {
            var pb = premises();
            while (pb != 0u) {
                let i = firstTrailingBit(pb);
                pb &= pb - 1u;
                atomicAdd(&wg_prem[i], 1u);
            }
        }"
    .into()
}

/// The workgroup's coverage counts into the counters: one global add per
/// rule and premise that the workgroup counted, not one per state.
fn coverage_reduce(sh: &Shape) -> String {
    let (rules, premises) = (sh.model.coverage_rules, sh.model.coverage_premises);
    if !sh.model.coverage {
        return String::new();
    }
    format!(
        "
    workgroupBarrier();
    for (var k = lid; k < {rules}u; k += 64u) {{
        let n = atomicLoad(&wg_cov[k]);
        if (n != 0u) {{ add64(C_COV + 2u * k, n); }}
    }}
    for (var k = lid; k < {premises}u; k += 64u) {{
        let n = atomicLoad(&wg_prem[k]);
        if (n != 0u) {{ add64(C_COV + 2u * ({rules}u + k), n); }}
    }}"
    )
}

fn instance_loop_body(sh: &Shape) -> String {
    if sh.scheme == Scheme::Words32 {
        return "        if (!flag && P.expand != 0u) {
            let g0 = r * K;
            let g1 = min(g0 + K, I);
            for (var g = g0; g < g1; g++) {
                err = 0u;
                let en = guard(g);
                if (err != 0u) { flag = true; break; }
                if (en != 0i) {
                    generated++;
                    COUNT_RULE
                    body(g);
                    MARK_ENABLED
                    let out = successor(~(q * I + g));
                    s = cur;
                    if (out == 2u) { flag = true; break; }
                    if (out == 1u) {
                        mask |= 1u << (g - g0);
                        claimed[g - g0] = slot_of;
                    }
                }
            }
        }
    }
"
        .into();
    }
    let phase_a = "    }
    // A: successors, and their fingerprints into the workgroup's table.
    var has = 0u;
    var rep = 0u;
    if (live && !flag && P.expand != 0u) {
        let g0 = r * K;
        let g1 = min(g0 + K, I);
        for (var g = g0; g < g1; g++) {
            err = 0u;
            let en = guard(g);
            if (err != 0u) { flag = true; break; }
            if (en != 0i) {
                generated++;
                COUNT_RULE
                body(g);
                MARK_ENABLED
                let out = candidate();
                s = cur;
                if (out == 2u) { flag = true; break; }
                if (out == 1u) {
                    let j = g - g0;
                    has |= 1u << j;
                    cand_lo[j] = fpw[0];
                    cand_hi[j] = fpw[1];
                    let l = local_insert(~(q * I + g));
                    cand_local[j] = l;
                    if (l == NO_LOCAL || local_first) { rep |= 1u << j; }
                }
            }
        }
    }
    atomicAdd(&wg_local_dups, countOneBits(has & ~rep));
    workgroupBarrier();
";
    let phase_b = if sh.subgroups {
        "    // B, cooperatively: K rounds in every invocation.
    for (var j = 0u; j < K; j++) {
        let is_rep = ((rep >> j) & 1u) != 0u;
        var rank_c = 0u;
        if (is_rep) {
            fpw[0] = cand_lo[j];
            fpw[1] = cand_hi[j];
            rank_c = group_rank(j, q * I + r * K + j);
        }
        let got = coop_insert(is_rep, rank_c, sg_lane);
        if (is_rep && got == 1u) {
            mask |= 1u << j;
            claimed[j] = slot_of;
        }
        if (is_rep && got == 3u) { atomicAdd(&C[C_FULL], 1u); }
    }
"
    } else {
        "    // B: the representatives into the global table.
    var todo = rep;
    while (todo != 0u) {
        let j = firstTrailingBit(todo);
        todo &= todo - 1u;
        fpw[0] = cand_lo[j];
        fpw[1] = cand_hi[j];
        let got = insert(group_rank(j, q * I + r * K + j), P.epoch, false);
        if (got == 1u) {
            mask |= 1u << j;
            claimed[j] = slot_of;
        }
        if (got == 3u) { atomicAdd(&C[C_FULL], 1u); }
    }
"
    };
    format!("{phase_a}{phase_b}")
}

/// The workgroup's table of phase A (64-bit table): 1024 fingerprints
/// with the greatest complemented rank (the least rank) of each; 16
/// probes, then the successor goes to the global table alone.
const LOCAL_TABLE: &str = "const LT: u32 = 1024u;
const NO_LOCAL: u32 = 0xffffffffu;
var<workgroup> lt_key: array<atomic<u64>, 1024>;
var<workgroup> lt_rank: array<atomic<u32>, 1024>;
var<private> local_first: bool;
var<private> cand_lo: array<u32, K>;
var<private> cand_hi: array<u32, K>;
var<private> cand_local: array<u32, K>;
fn local_insert(rank_c: u32) -> u32 {
    let key = (u64(fpw[1]) << 32u) | u64(fpw[0]);
    var h = (fpw[0] ^ (fpw[1] * 0x85ebca6bu)) % LT;
    local_first = false;
    for (var p = 0u; p < 16u; p++) {
        let c = atomicCompareExchangeWeak(&lt_key[h], 0lu, key);
        if (c.exchanged) {
            local_first = true;
            atomicMax(&lt_rank[h], rank_c);
            return h;
        }
        if (c.old_value == key) {
            atomicMax(&lt_rank[h], rank_c);
            return h;
        }
        // A spurious failure tries the slot again.
        if (c.old_value != 0lu) { h = (h + 1u) % LT; }
    }
    return NO_LOCAL;
}
// The least rank (complemented) of candidate j's group, or its own.
fn group_rank(j: u32, rank: u32) -> u32 {
    if (cand_local[j] == NO_LOCAL) { return ~rank; }
    return atomicLoad(&lt_rank[cand_local[j]]);
}
";

/// `candidate()`: the successor in `s` checked and packed, its fingerprint
/// in `fpw`: 0 none to insert, 1 one, 2 the state needs the CPU. And
/// `coop_insert(has, rank_c, lane)`: the subgroup's cooperative insert,
/// the same linear probing as `insert` (the first slot in probe order that
/// holds the key or is empty decides), read in windows of 8 slots, one per
/// lane. Only the leader (the lowest lane with a key pending) decides and
/// writes; a window slot no active lane read (a small subgroup, lanes
/// apart) it reads itself, so the answer never depends on which lanes
/// run together. Returns `insert`'s codes for the calling lane's key.
fn coop_fns(sh: &Shape) -> String {
    if sh.scheme != Scheme::Key64 {
        return String::new();
    }
    let candidate = "fn candidate() -> u32 {
    if (err != 0u) { return 2u; }
    let inside = in_constraint();
    if (err != 0u) { return 2u; }
    if (!inside) {
        if (!invariants_ok()) { return 2u; }
        return 0u;
    }
    pack();
    if (err != 0u) { return 2u; }
    fingerprint();
    return 1u;
}
";
    if !sh.subgroups {
        return format!("{candidate}{LOCAL_TABLE}");
    }
    let coop = "fn first_lane(b: vec4<u32>) -> u32 {
    if (b.x != 0u) { return firstTrailingBit(b.x); }
    if (b.y != 0u) { return 32u + firstTrailingBit(b.y); }
    if (b.z != 0u) { return 64u + firstTrailingBit(b.z); }
    return 96u + firstTrailingBit(b.w);
}

fn coop_insert(has: bool, rank_c: u32, lane: u32) -> u32 {
    var pending = has;
    var result = 0u;
    var my_p = 0u;
    var my_spins = 0u;
    let lo = fpw[0];
    let hi = fpw[1];
    var my_slot = 0u;
    loop {
        let want = subgroupBallot(pending);
        if (all(want == vec4<u32>(0u))) { break; }
        let leader = first_lane(want);
        let klo = subgroupShuffle(lo, leader);
        let khi = subgroupShuffle(hi, leader);
        let p = subgroupShuffle(my_p, leader);
        let key = (u64(khi) << 32u) | u64(klo);
        fpw[0] = klo;
        fpw[1] = khi;
        let h0 = slot_hash();
        var mine = 0lu;
        if (lane < 8u) { mine = t_key((h0 + p + lane) % TS); }
        let hit = subgroupBallot(lane < 8u && mine == key).x;
        let empty = subgroupBallot(lane < 8u && mine == 0lu).x;
        let read = subgroupBallot(lane < 8u).x;
        fpw[0] = lo;
        fpw[1] = hi;
        if (lane == leader) {
            // The window in probe order: the first slot with the key or empty.
            var decided = false;
            for (var off = 0u; off < 8u && !decided; off++) {
                let h = (h0 + p + off) % TS;
                var is_hit = ((hit >> off) & 1u) != 0u;
                var is_empty = ((empty >> off) & 1u) != 0u;
                if (((read >> off) & 1u) == 0u) {
                    let k = t_key(h);
                    is_hit = k == key;
                    is_empty = k == 0lu;
                }
                if (is_hit) {
                    decided = true;
                    result = met(h, rank_c, P.epoch);
                    my_slot = h;
                    pending = false;
                } else if (is_empty) {
                    decided = true;
                    let c = t_cas(h, key);
                    if (c.ok) {
                        t_owner_max(h, rank_c);
                        t_set_epoch(h, P.epoch);
                        my_slot = h;
                        result = 1u;
                        pending = false;
                    } else if (c.old == key) {
                        result = met(h, rank_c, P.epoch);
                        my_slot = h;
                        pending = false;
                    } else {
                        // Taken (or a spurious failure): read the window again.
                        my_spins++;
                        if (my_spins > 64u) { result = 3u; pending = false; }
                    }
                }
            }
            if (!decided) {
                my_p += 8u;
                if (my_p >= PROBES) { result = 3u; pending = false; }
            }
        }
    }
    slot_of = my_slot;
    return result;
}
";
    format!("{candidate}{LOCAL_TABLE}{coop}")
}

fn retry(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    b.table();
    b.split("pool", sh.pool, Role::Pool, true);
    b.single(Role::RetryA, "var<storage, read> retry_in: array<u32>;");
    b.single(
        Role::RetryB,
        "var<storage, read_write> retry_out: array<u32>;",
    );
    let body = format!(
        "@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    {LINEAR}
    // P.src: the counter of the list read; P.dst: of the list written.
    if (e >= min(atomicLoad(&C[P.src]), {cap}u)) {{ return; }}
    for (var w = 0u; w < W; w++) {{ pw[w] = retry_in[e * RE + w]; }}
    fingerprint();
    let rank = retry_in[e * RE + W];
    let first = retry_in[e * RE + W + 1u];
    let epoch = retry_in[e * RE + W + 2u];
    let r = insert(~rank, epoch, false);
    if (r == 1u) {{
        let at = atomicAdd(&C[C_POOL], 1u);
        if (at >= P.pool_limit) {{
            atomicAdd(&C[C_POOL_OVER], 1u);
        }} else {{
            for (var w = 0u; w < W; w++) {{ pool_st(at, w, pw[w]); }}
            pool_st(at, W, slot_of);
            pool_st(at, W + 1u, first);
        }}
    }} else if (r == 3u) {{
        atomicAdd(&C[C_FULL], 1u);
    }} else if (r == 4u) {{
        let at = atomicAdd(&C[P.dst], 1u);
        if (at >= {cap}u) {{ atomicAdd(&C[C_RETRY_OVER], 1u); }} else {{
            for (var w = 0u; w < RE; w++) {{ retry_out[at * RE + w] = retry_in[e * RE + w]; }}
        }}
    }}
}}
",
        cap = sh.retry_cap
    );
    b.finish("retry", &body, false, WG)
}

/// Arguments of an indirect dispatch over a count the device holds: one
/// invocation per element of `min(C[P.src], P.pool_limit)`, in workgroups
/// of 64, 2-D with 65535 along x; written at `args[P.dst * 3..]`. Also
/// empties counter `P.aux` unless it is `0xffffffff` (the retry list a
/// pass will write). With `P.mode` 1 it closes the retry passes instead:
/// what is left undecided is counted, and both lists emptied.
fn args(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    b.single(Role::Indirect, "var<storage, read_write> args: array<u32>;");
    let body = "@compute @workgroup_size(1)
fn main() {
    let n = min(atomicLoad(&C[P.src]), P.pool_limit);
    if (P.mode == 1u) {
        atomicAdd(&C[C_RETRY_LEFT], n);
        atomicStore(&C[C_RA], 0u);
        atomicStore(&C[C_RB], 0u);
        return;
    }
    if (P.aux != 0xffffffffu) { atomicStore(&C[P.aux], 0u); }
    let groups = (n + 63u) / 64u;
    args[P.dst * 3u] = min(groups, 65535u);
    args[P.dst * 3u + 1u] = (groups + 65534u) / 65535u;
    args[P.dst * 3u + 2u] = 1u;
}
";
    b.finish("args", body, false, 1)
}

fn mark(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    b.table();
    b.split("pool", sh.pool, Role::Pool, true);
    b.single(
        Role::Bits,
        "var<storage, read_write> bits: array<atomic<u32>>;",
    );
    let body = format!(
        "@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    {LINEAR}
    if (e >= min(atomicLoad(&C[C_POOL]), P.pool_limit)) {{ return; }}
    let slot = pool_ld(e, W);
    let first = pool_ld(e, W + 1u);
    let owner = t_owner(slot);
    if (owner == 0u) {{ atomicAdd(&C[C_BAD], 1u); return; }}
    let rank = ~owner;
    let parent = first + rank / I;
    let inst = rank % I;
    if (parent < P.seg_first || parent - P.seg_first >= P.aux) {{
        atomicAdd(&C[C_BAD], 1u);
        return;
    }}
    let item = (parent - P.seg_first) * R + inst / K;
    atomicOr(&bits[item], 1u << (inst % K));
    pool_st(e, W + 1u, parent);
    pool_st(e, W + 2u, inst);
}}
"
    );
    b.finish("mark", &body, false, WG)
}

/// A workgroup's exclusive scan of its 1024 values (`v`, 4 per
/// invocation): each invocation's 4 prefixes, and the block's total.
const BLOCK_SCAN: &str = "var<workgroup> sums: array<u32, 256>;
var<private> v: array<u32, 4>;
var<private> pre: array<u32, 4>;
fn block_scan(lid: u32) -> u32 {
    let t = v[0] + v[1] + v[2] + v[3];
    sums[lid] = t;
    workgroupBarrier();
    for (var d = 1u; d < 256u; d = d << 1u) {
        var x = 0u;
        if (lid >= d) { x = sums[lid - d]; }
        workgroupBarrier();
        sums[lid] += x;
        workgroupBarrier();
    }
    let total = sums[255];
    var acc = sums[lid] - t;
    for (var k = 0u; k < 4u; k++) { pre[k] = acc; acc += v[k]; }
    workgroupBarrier();
    return total;
}
";

fn scan_input(sh: &Shape, b: &mut Builder<'_>) {
    let _ = sh;
    b.single(Role::Bits, "var<storage, read> bits: array<u32>;");
    b.single(
        Role::Scratch,
        "var<storage, read_write> scratch: array<u32>;",
    );
}

/// Values of the scan's input: popcounts of the bitmap (mode 0), or
/// scratch words from `P.src` (mode 1); 0 past `P.count`.
const SCAN_LOAD: &str = "fn load_values(block: u32, lid: u32) {
    for (var k = 0u; k < 4u; k++) {
        let i = block * 1024u + lid * 4u + k;
        var x = 0u;
        if (i < P.count) {
            if (P.mode == 0u) { x = countOneBits(bits[i]); } else { x = scratch[P.src + i]; }
        }
        v[k] = x;
    }
}
";

fn scan_up(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    scan_input(sh, &mut b);
    let body = format!(
        "{BLOCK_SCAN}{SCAN_LOAD}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    let block = wid.y * P.nx + wid.x;
    load_values(block, lid);
    let total = block_scan(lid);
    if (lid == 0u) {{ scratch[P.dst + block] = total; }}
}}
"
    );
    b.finish("scan_up", &body, false, SCAN_WG)
}

/// The top of the scan: one workgroup, in place on `Scratch[P.src..]`;
/// the total into the counters.
fn scan_top(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    scan_input(sh, &mut b);
    let body = format!(
        "{BLOCK_SCAN}{SCAN_LOAD}
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {{
    load_values(0u, lid);
    let total = block_scan(lid);
    for (var k = 0u; k < 4u; k++) {{
        let i = lid * 4u + k;
        if (i < P.count) {{ scratch[P.dst + i] = pre[k]; }}
    }}
    if (lid == 0u) {{ atomicStore(&C[C_TOTAL], total); }}
}}
"
    );
    b.finish("scan_top", &body, false, SCAN_WG)
}

/// Each block's exclusive prefixes plus its block's (from `Scratch[P.aux
/// + block]`): into `Offs` (mode 0) or back into `Scratch[P.dst..]`.
fn scan_down(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    scan_input(sh, &mut b);
    b.single(Role::Offs, "var<storage, read_write> offs: array<u32>;");
    let body = format!(
        "{BLOCK_SCAN}{SCAN_LOAD}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    let block = wid.y * P.nx + wid.x;
    load_values(block, lid);
    block_scan(lid);
    let add = scratch[P.aux + block];
    for (var k = 0u; k < 4u; k++) {{
        let i = block * 1024u + lid * 4u + k;
        if (i < P.count) {{
            if (P.mode == 0u) {{ offs[i] = pre[k] + add; }} else {{ scratch[P.dst + i] = pre[k] + add; }}
        }}
    }}
}}
"
    );
    b.finish("scan_down", &body, false, SCAN_WG)
}

fn place(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    b.split("pool", sh.pool, Role::Pool, false);
    b.single(Role::Bits, "var<storage, read> bits: array<u32>;");
    b.single(Role::Offs, "var<storage, read> offs: array<u32>;");
    b.split("next", sh.frontier, Role::Next, true);
    b.single(Role::Trace, "var<storage, read_write> trace: array<u32>;");
    b.single(Role::Ddd, "var<storage, read_write> ddd: array<u32>;");
    let body = format!(
        "@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    {LINEAR}
    let n = min(atomicLoad(&C[C_POOL]), P.pool_limit);
    if (e >= n) {{ return; }}
    let parent = pool_ld(e, W + 1u);
    let inst = pool_ld(e, W + 2u);
    let item = (parent - P.seg_first) * R + inst / K;
    let bit = inst % K;
    let pos = offs[item] + countOneBits(bits[item] & ((1u << bit) - 1u));
    if (pos >= n || ((bits[item] >> bit) & 1u) == 0u) {{ atomicAdd(&C[C_BAD], 1u); return; }}
    for (var w = 0u; w < W; w++) {{
        let x = pool_ld(e, w);
        next_st(P.next_base + pos, w, x);
        pw[w] = x;
    }}
    trace[pos * 2u] = parent;
    trace[pos * 2u + 1u] = inst;
    if (P.ddd != 0u) {{
        fingerprint();
        for (var k = 0u; k < FPW; k++) {{ ddd[pos * DE + k] = fpw[k]; }}
        ddd[pos * DE + FPW] = pool_ld(e, W);
    }}
}}
"
    );
    b.finish("place", &body, false, WG)
}

/// Empties the slots in `P.first..+P.count` claimed at epoch `P.aux` or
/// later: a segment or level undone. No slot older than them is moved by
/// this: linear probing placed each older one before these existed.
fn rollback(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    b.table();
    let body = format!(
        "@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    {LINEAR}
    if (e >= P.count) {{ return; }}
    let h = P.first + e;
    if (t_epoch(h) >= P.aux) {{ t_clear(h); }}
}}
"
    );
    b.finish("rollback", &body, false, WG)
}

/// The counted fingerprints of slots `P.first..+P.count` into `Ddd` (each
/// with 1 if claimed at epoch `P.aux` or later, this level, else 0).
fn collect(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    b.table();
    b.single(Role::Ddd, "var<storage, read_write> ddd: array<u32>;");
    let decode = match sh.scheme {
        Scheme::Key64 => {
            "let k = t_key(h); fpw[0] = u32(k & 0xfffffffflu); fpw[1] = u32(k >> 32u);"
        }
        Scheme::Words32 => "decode(h);",
    };
    let body = format!(
        "@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    {LINEAR}
    if (e >= P.count) {{ return; }}
    let h = P.first + e;
    let epoch = t_epoch(h);
    if (epoch < EPOCH_LOADED) {{ return; }}
    {decode}
    let at = atomicAdd(&C[C_COLLECTED], 1u);
    if (at >= P.pool_limit) {{ atomicAdd(&C[C_BAD], 1u); return; }}
    for (var k = 0u; k < FPW; k++) {{ ddd[at * DE + k] = fpw[k]; }}
    ddd[at * DE + FPW] = select(0u, 1u, epoch >= P.aux);
}}
"
    );
    b.finish("collect", &body, false, WG)
}

/// Inserts `P.count` fingerprints from `Ddd` as loaded (epoch 2).
fn load(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    b.table();
    b.single(Role::Ddd, "var<storage, read> ddd: array<u32>;");
    let body = format!(
        "@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    {LINEAR}
    if (e >= P.count) {{ return; }}
    for (var k = 0u; k < FPW; k++) {{ fpw[k] = ddd[e * DE + k]; }}
    let r = insert(0u, EPOCH_LOADED, true);
    if (r == 1u) {{ atomicAdd(&C[C_CLAIMS], 1u); }} else {{ atomicAdd(&C[C_FULL], 1u); }}
}}
"
    );
    b.finish("load", &body, false, WG)
}

/// Delayed duplicate detection, first half: the segment's new states
/// `P.next_base..+P.count` that the host keeps (bit set in `Bits`) are
/// gathered into the pool in order; the others are marked as held by the
/// host (their slots stay, so later levels drop them on the device).
fn compact_gather(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    b.table();
    b.split("pool", sh.pool, Role::Pool, true);
    b.single(Role::Bits, "var<storage, read> bits: array<u32>;");
    b.single(Role::Offs, "var<storage, read> offs: array<u32>;");
    b.split("next", sh.frontier, Role::Next, false);
    b.single(Role::Ddd, "var<storage, read> ddd: array<u32>;");
    let body = format!(
        "@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    {LINEAR}
    if (e >= P.count) {{ return; }}
    let word = bits[e / 32u];
    let bit = e % 32u;
    if (((word >> bit) & 1u) == 0u) {{
        t_set_epoch(ddd[e * DE + FPW], EPOCH_DUP);
        return;
    }}
    let dst = offs[e / 32u] + countOneBits(word & ((1u << bit) - 1u));
    for (var w = 0u; w < W; w++) {{ pool_st(dst, w, next_ld(P.next_base + e, w)); }}
}}
"
    );
    b.finish("compact_gather", &body, false, WG)
}

/// Second half: the kept states back, to `P.next_base..+P.count`.
fn compact_scatter(sh: &Shape) -> KernelSource {
    let mut b = Builder::new(sh);
    b.split("pool", sh.pool, Role::Pool, false);
    b.split("next", sh.frontier, Role::Next, true);
    let body = format!(
        "@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    {LINEAR}
    if (e >= P.count) {{ return; }}
    for (var w = 0u; w < W; w++) {{ next_st(P.next_base + e, w, pool_ld(e, w)); }}
}}
"
    );
    b.finish("compact_scatter", &body, false, WG)
}

/// Every kernel of the search, in a fixed order ([`Kernels`] indexes it).
pub fn all(sh: &Shape) -> Vec<KernelSource> {
    let mut v = vec![
        expand(sh),
        mark(sh),
        scan_up(sh),
        scan_top(sh),
        scan_down(sh),
        place(sh),
        rollback(sh),
        collect(sh),
        load(sh),
        compact_gather(sh),
        compact_scatter(sh),
        args(sh),
    ];
    if sh.scheme == Scheme::Words32 {
        v.push(retry(sh));
    }
    v
}
