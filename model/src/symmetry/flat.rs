//! The symmetry's action as a flat table over state slots: the one
//! description that both the CPU's signatures and the GPU's generated
//! canonicalization (`gpu_kernels::codegen`) read, so both order a state's
//! values alike and pick the same representative.
//!
//! Each entry is a slot that a permutation moves or maps: the symmetric
//! values that position it (its context: array indexes and set elements
//! of symmetric types, with the stride each moves it by), what it holds (a
//! plain value, a symmetric value or a process id) and when what it holds
//! counts as such (the variant of the enum around it is active, the
//! sequence around it is long enough). Slots outside the table hold
//! nothing symmetric and stay where they are.

use super::{Plan, Pos, Symmetry};

/// What a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    Plain,
    /// A value of symmetric type `k`.
    Sym(u32),
    /// A process id (of a process perhaps indexed by a symmetric type).
    Pid,
}

/// A condition on another slot (of the source state) for a slot's value
/// to count as what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// The slot (an enum's tag) equals the value.
    Eq(u32, i64),
    /// The slot (a sequence's length) exceeds the value.
    Gt(u32, i64),
}

impl When {
    pub fn holds(self, state: &[i64]) -> bool {
        match self {
            When::Eq(s, v) => state[s as usize] == v,
            When::Gt(s, v) => state[s as usize] > v,
        }
    }
}

/// One symmetric value positioning a slot: type `k`, value `v`; under a
/// permutation the slot moves by `(perm(v) - v) * stride` (`None`: the
/// slot's place is not affine in it, as for a set of values with arrays
/// inside; the CPU moves those through its plans, the GPU declines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ctx {
    pub k: u32,
    pub v: u32,
    pub stride: Option<i64>,
}

/// One slot of the table.
#[derive(Clone, Debug)]
pub struct FlatSlot {
    pub slot: u32,
    pub ctx: Vec<Ctx>,
    pub held: Held,
    pub when: Vec<When>,
    /// The signature hash of the slot's place with the symmetric values in
    /// it left out (equal for a slot and its images).
    pub path: u32,
}

/// Signature hashing, in u32 arithmetic so the GPU computes the same
/// (`gpu_kernels::codegen` writes it in WGSL).
pub fn mix32(a: u32, b: u32) -> u32 {
    let mut x = a.rotate_left(5) ^ b.wrapping_mul(0x9e37_79b9);
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

/// Marks a held symmetric value in a signature path.
pub const HELD32: u32 = 0x68e3_1da4;
const ARRAY32: u32 = 0xb529_7a4d;
const SEQ32: u32 = 0x1b56_c4e9;

struct Walk {
    ctx: Vec<Ctx>,
    when: Vec<When>,
    out: Vec<FlatSlot>,
}

impl Symmetry {
    /// The flat table of the symmetry's action (built once).
    pub(super) fn build_flat(&self) -> Vec<FlatSlot> {
        let mut w = Walk { ctx: Vec::new(), when: Vec::new(), out: Vec::new() };
        for (i, ((off, _), plan)) in self.vars.iter().zip(&self.plans).enumerate() {
            self.flat_plan(plan, *off as u32, mix32(i as u32, 0x7a11), &mut w);
        }
        w.out
    }

    fn slot(&self, w: &mut Walk, slot: u32, held: Held, path: u32) {
        w.out.push(FlatSlot {
            slot,
            ctx: w.ctx.clone(),
            held,
            when: w.when.clone(),
            path,
        });
    }

    /// Inside a context, the slots of a value at `off` that no field
    /// covered (an enum's or a sequence's fillers) move with it as plain
    /// slots.
    fn uncovered(&self, w: &mut Walk, off: u32, covered: &[bool], path: u32) {
        if w.ctx.is_empty() {
            return;
        }
        for (i, c) in covered.iter().enumerate() {
            if !c {
                self.slot(w, off + i as u32, Held::Plain, path ^ i as u32);
            }
        }
    }

    /// Enters a context entry: the path learns which earlier entry it
    /// equals (a diagonal `m[x][x]` is not `m[x][y]`).
    fn push_ctx(w: &mut Walk, c: Ctx, path: u32) -> u32 {
        let same = w
            .ctx
            .iter()
            .position(|d| d.k == c.k && d.v == c.v)
            .unwrap_or(w.ctx.len());
        w.ctx.push(c);
        mix32(path, same as u32)
    }

    /// The context entries and path of element `i` of a collection
    /// positioned by `pos`, each element `stride` slots apart.
    fn enter(&self, w: &mut Walk, pos: Pos, i: usize, stride: i64, path: u32) -> u32 {
        match pos {
            Pos::Plain => mix32(path, i as u32),
            Pos::Sym(k) => Self::push_ctx(
                w,
                Ctx { k, v: i as u32, stride: Some(stride) },
                mix32(path, ARRAY32),
            ),
            Pos::Pid => match self.pid_value(i as i64) {
                Some((k, v)) => {
                    Self::push_ctx(w, Ctx { k, v, stride: Some(stride) }, mix32(path, ARRAY32))
                }
                None => mix32(path, i as u32),
            },
            Pos::Domain(d) => {
                let data = &self.domain_data[d];
                let mut path = mix32(path, data.shape[i] as u32);
                match &data.linear[i] {
                    Some(moves) => {
                        for &(k, v, s) in moves {
                            let c = Ctx { k, v, stride: Some(s * stride) };
                            path = Self::push_ctx(w, c, path);
                        }
                    }
                    None => {
                        for &(k, v) in &data.syms[i] {
                            let c = Ctx { k, v, stride: None };
                            path = Self::push_ctx(w, c, path);
                        }
                    }
                }
                path
            }
        }
    }

    fn flat_plan(&self, plan: &Plan, off: u32, path: u32, w: &mut Walk) {
        match plan {
            Plan::Copy(n) => {
                if !w.ctx.is_empty() {
                    for i in 0..*n as u32 {
                        self.slot(w, off + i, Held::Plain, mix32(path, i));
                    }
                }
            }
            Plan::Sym(k) => self.slot(w, off, Held::Sym(*k), path),
            Plan::Pid => self.slot(w, off, Held::Pid, path),
            Plan::Enum { variants, len } => {
                if !w.ctx.is_empty() {
                    // The tag, and the slots no variant's symmetric field
                    // covers (fillers), move with the value.
                    self.slot(w, off, Held::Plain, path);
                }
                let mut covered = vec![false; *len];
                covered[0] = true;
                for (tag, fields) in variants.iter().enumerate() {
                    w.when.push(When::Eq(off, tag as i64));
                    for (f, (at, p)) in fields.iter().enumerate() {
                        let from = w.out.len();
                        self.flat_plan(p, off + *at as u32, mix32(path, (tag << 16 | f) as u32), w);
                        for s in &w.out[from..] {
                            covered[(s.slot - off) as usize] = true;
                        }
                    }
                    w.when.pop();
                }
                self.uncovered(w, off, &covered, mix32(path, 0xf111));
            }
            Plan::Record(fields) => {
                for (f, (at, p)) in fields.iter().enumerate() {
                    self.flat_plan(p, off + *at as u32, mix32(path, f as u32), w);
                }
            }
            Plan::Array { n, elem_len, index, elem } => {
                for i in 0..*n {
                    let depth = w.ctx.len();
                    let p = self.enter(w, *index, i, *elem_len as i64, path);
                    self.flat_plan(elem, off + (i * elem_len) as u32, p, w);
                    w.ctx.truncate(depth);
                }
            }
            Plan::Set { n, elem } => {
                for i in 0..*n {
                    let depth = w.ctx.len();
                    let p = self.enter(w, *elem, i, 1, path);
                    if !w.ctx.is_empty() {
                        self.slot(w, off + i as u32, Held::Plain, p);
                    }
                    w.ctx.truncate(depth);
                }
            }
            Plan::Seq { len, elem_len, elem } => {
                if !w.ctx.is_empty() {
                    self.slot(w, off, Held::Plain, path);
                }
                let max = (*len - 1) / (*elem_len).max(1);
                let mut covered = vec![false; *len];
                covered[0] = true;
                for i in 0..max {
                    w.when.push(When::Gt(off, i as i64));
                    let at = off + 1 + (i * elem_len) as u32;
                    let from = w.out.len();
                    self.flat_plan(elem, at, mix32(path, SEQ32 ^ i as u32), w);
                    for s in &w.out[from..] {
                        covered[(s.slot - off) as usize] = true;
                    }
                    w.when.pop();
                }
                self.uncovered(w, off, &covered, mix32(path, 0xf222));
            }
        }
    }

    /// The symmetry's flat table.
    pub fn flat(&self) -> &[FlatSlot] {
        &self.flat
    }

    /// The global index (`base + value`) of what a slot holds, if it holds
    /// a symmetric value (or a symmetric process's id) and counts as one.
    #[inline]
    fn held_value(&self, f: &FlatSlot, state: &[i64]) -> Option<usize> {
        let v = state[f.slot as usize];
        let (k, x) = match f.held {
            Held::Plain => return None,
            // Negative: none ([`crate::ir::Ty::OptSym`]), which no
            // permutation moves.
            Held::Sym(k) => (k, u32::try_from(v).ok()?),
            Held::Pid => self.pid_value(v)?,
        };
        if !f.when.iter().all(|c| c.holds(state)) {
            return None;
        }
        debug_assert!(x < self.sizes[k as usize], "a symmetric slot holds {x}");
        Some(self.bases[k as usize] + x as usize)
    }

    /// Per symmetric value (global index), a hash of where it occurs:
    /// invariant, since a permutation carries each table entry to one with
    /// the same path whose context and held value are the images.
    pub(super) fn flat_signatures(&self, state: &[i64], sig: &mut Vec<u32>) {
        sig.clear();
        sig.resize(self.total, 0);
        for f in &self.flat {
            let leaf = match self.held_value(f, state) {
                Some(x) => {
                    let eq = self.eq_mask(f, x);
                    sig[x] = sig[x].wrapping_add(mix32(f.path ^ HELD32, eq));
                    mix32(HELD32, eq)
                }
                None => state[f.slot as usize] as u32,
            };
            for (j, c) in f.ctx.iter().enumerate() {
                let at = self.bases[c.k as usize] + c.v as usize;
                sig[at] = sig[at].wrapping_add(mix32(mix32(f.path, j as u32), leaf));
            }
        }
    }

    /// Which context entries of `f` the held value (global index) equals.
    fn eq_mask(&self, f: &FlatSlot, x: usize) -> u32 {
        let mut eq = 0u32;
        for (j, c) in f.ctx.iter().enumerate() {
            if self.bases[c.k as usize] + c.v as usize == x {
                eq |= 1 << (j & 31);
            }
        }
        eq
    }

    /// Whether every entry's place is affine in its context (what the GPU's
    /// generated permutation needs).
    pub fn flat_is_affine(&self) -> bool {
        self.flat
            .iter()
            .all(|f| f.ctx.iter().all(|c| c.stride.is_some()))
    }

    /// `perm`'s image of `state` by the flat table alone (as the GPU
    /// computes it); `None` if the table is not affine. Equal to
    /// [`Symmetry::apply`] (model/tests/symmetry.rs).
    pub fn apply_flat(&self, state: &[i64], perm: &super::Perm) -> Option<Vec<i64>> {
        let mut out = state.to_vec();
        for f in &self.flat {
            let mut dst = f.slot as i64;
            for c in &f.ctx {
                let g = self.bases[c.k as usize] + c.v as usize;
                dst += (perm.map[g] as i64 - c.v as i64) * c.stride?;
            }
            let v = state[f.slot as usize];
            let value = match (self.held_value(f, state), f.held) {
                (Some(g), Held::Sym(_)) => perm.map[g] as i64,
                (Some(_), Held::Pid) => self.pid_image(perm, v),
                _ => v,
            };
            out[dst as usize] = value;
        }
        Some(out)
    }
}
