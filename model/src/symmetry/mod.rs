//! Symmetry reduction (LANGUAGE.md, "Symmetry"; docs/symmetry.md): the
//! permutations of symmetric types' values acting on flat states and rule
//! instances, and the canonical representative of a state's orbit.
//!
//! The representative is exact: two states share one iff one is a
//! permutation of the other. Each value gets a signature (a hash of
//! everything that holds it or is positioned by it, invariant under
//! permutation), and the representative is the least state (slot by slot)
//! among the images that put the values in signature order; every state
//! of an orbit has that same set of images, so it is found without trying
//! every permutation, only those that keep the order. Among values with equal signatures, those that a transposition
//! provably exchanges without changing the state form one group whose
//! internal order cannot matter; only the arrangements of distinct groups
//! are tried. The worst case (values alike by signature that no
//! transposition exchanges, as in a ring) tries `N!` arrangements.

use std::collections::HashMap;

use crate::ir::{Model, Ty, Types};

pub mod audit;
mod flat;
pub use flat::{Ctx, FlatSlot, HELD32, Held, When, mix32};

/// A permutation of every symmetric type's values: value `v` of type `k`
/// goes to `map[base[k] + v]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Perm {
    pub map: Vec<u32>,
}

impl Perm {
    /// The permutation's inverse (same bases).
    pub fn inverse(&self, sym: &Symmetry) -> Perm {
        let mut map = vec![0; self.map.len()];
        for k in 0..sym.sizes.len() {
            let b = sym.bases[k];
            for v in 0..sym.sizes[k] as usize {
                map[b + self.map[b + v] as usize] = v as u32;
            }
        }
        Perm { map }
    }

    /// `self ∘ other`: first `other`, then `self`. A map's entries are
    /// values within their type, so each is looked up at its type's base.
    pub fn compose(&self, other: &Perm, sym: &Symmetry) -> Perm {
        let mut map = vec![0; self.map.len()];
        for k in 0..sym.sizes.len() {
            let b = sym.bases[k];
            for v in 0..sym.sizes[k] as usize {
                map[b + v] = self.map[b + other.map[b + v] as usize];
            }
        }
        Perm { map }
    }
}

/// A set's element type that holds symmetric values inside (a variant or
/// record): per element, its decoded value, the symmetric values in it and
/// a hash of its shape with them left out.
struct Domain {
    len: usize,
    decoded: Vec<i64>,
    syms: Vec<Vec<(u32, u32)>>,
    shape: Vec<u64>,
    /// Per element, when its index is affine in its symmetric slots (no
    /// array or set positioned by a symmetric type inside): each such
    /// slot's (type, value, stride), so an image's index is
    /// `i + sum((perm(v) - v) * stride)`.
    linear: Vec<Option<Vec<(u32, u32, i64)>>>,
}

/// How a value moves under permutation, compiled from its type once (the
/// walks over states run per successor and must not re-derive layouts).
enum Plan {
    /// Slots that hold nothing symmetric.
    Copy(usize),
    Sym(u32),
    /// A process id (of a process perhaps indexed by a symmetric type).
    Pid,
    /// Per variant: its fields' (offset, plan); `len` is the whole value's.
    Enum {
        len: usize,
        variants: Vec<Vec<(usize, Plan)>>,
    },
    Record(Vec<(usize, Plan)>),
    Array {
        n: usize,
        elem_len: usize,
        index: Pos,
        elem: Box<Plan>,
    },
    Set {
        n: usize,
        elem: Pos,
    },
    Seq {
        len: usize,
        elem_len: usize,
        elem: Box<Plan>,
    },
}

/// How the elements of an array or set are positioned.
#[derive(Clone, Copy)]
enum Pos {
    Plain,
    Sym(u32),
    Pid,
    /// By values that hold symmetric values: `Symmetry::domains[i]`.
    Domain(usize),
}

/// The symmetric types of a model and their action on its states.
pub struct Symmetry {
    types: Types,
    state_len: usize,
    /// (offset, type) of each variable that mentions a symmetric type.
    vars: Vec<(usize, Ty)>,
    /// Their plans, in the same order.
    plans: Vec<Plan>,
    /// The domains, once built, in order, for [`Pos::Domain`].
    domain_list: Vec<Ty>,
    domain_data: Vec<Domain>,
    sizes: Vec<u32>,
    bases: Vec<usize>,
    /// The number of values of all symmetric types together.
    total: usize,
    enum_mentions: Vec<bool>,
    record_mentions: Vec<bool>,
    /// The process-id enum, when some process is indexed by a symmetric
    /// type, and per such process (first pid, instances, its type).
    pid_enum: Option<u32>,
    pids: Vec<(u32, u32, u32)>,
    domains: HashMap<Ty, Domain>,
    /// The action as a flat table (`flat`): signatures read it.
    flat: Vec<FlatSlot>,
}

/// Reusable buffers for canonicalization (one per worker).
#[derive(Default)]
pub struct Scratch {
    sig: Vec<u32>,
    image: Vec<i64>,
    best: Vec<i64>,
}

/// How much work canonicalizing a state took (for the cost report).
#[derive(Clone, Copy, Debug, Default)]
pub struct Effort {
    /// Arrangements whose image was computed and compared.
    pub tried: u64,
}

const HELD: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix(a: u64, b: u64) -> u64 {
    // splitmix64's finalizer over a combination of both.
    let mut z = a.rotate_left(23) ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Symmetry {
    /// The model's symmetry, or `None` if it declares no symmetric type.
    pub fn new(model: &Model) -> Option<Symmetry> {
        let types = model.types.clone();
        if types.syms.is_empty() {
            return None;
        }
        let sizes: Vec<u32> = types.syms.iter().map(|s| s.size).collect();
        let mut bases = Vec::with_capacity(sizes.len());
        let mut total = 0usize;
        for &n in &sizes {
            bases.push(total);
            total += n as usize;
        }
        // Process ids of instances of a process indexed by a symmetric type
        // move with the index: pid `first + i` is that type's value `i`.
        let mut pids = Vec::new();
        let mut pid_enum = None;
        if let Some(id) = types.enums.iter().rposition(|e| e.name == "Process")
            && !model.processes.is_empty()
        {
            let mut first = 0u32;
            for p in &model.processes {
                let n = types.card(&p.index).unwrap_or(1) as u32;
                if let Ty::Sym(k) = p.index {
                    pids.push((first, n, k));
                }
                first += n;
            }
            if !pids.is_empty() {
                pid_enum = Some(id as u32);
            }
        }
        let mut enum_mentions: Vec<bool> = (0..types.enums.len())
            .map(|i| types.mentions_sym(&Ty::Enum(i as u32)))
            .collect();
        if let Some(id) = pid_enum {
            enum_mentions[id as usize] = true;
            // Enums holding process ids (messages) mention them too.
            for (i, m) in enum_mentions.iter_mut().enumerate() {
                *m |= enum_holds(&types, &Ty::Enum(i as u32), id);
            }
        }
        let record_mentions = (0..types.records.len())
            .map(|i| {
                types.mentions_sym(&Ty::Record(i as u32))
                    || pid_enum.is_some_and(|id| enum_holds(&types, &Ty::Record(i as u32), id))
            })
            .collect();
        let mut sym = Symmetry {
            types,
            state_len: model.state_len as usize,
            vars: Vec::new(),
            sizes,
            bases,
            total,
            enum_mentions,
            record_mentions,
            pid_enum,
            pids,
            domains: HashMap::new(),
            plans: Vec::new(),
            domain_list: Vec::new(),
            domain_data: Vec::new(),
            flat: Vec::new(),
        };
        for v in &model.vars {
            if sym.mentions(&v.ty) {
                sym.vars.push((v.offset as usize, v.ty.clone()));
                sym.collect_domains(&v.ty);
            }
        }
        let mut domains: Vec<(Ty, Domain)> = std::mem::take(&mut sym.domains).into_iter().collect();
        domains.sort_by_key(|(t, _)| sym.types.name(t));
        for (t, d) in domains {
            sym.domain_list.push(t);
            sym.domain_data.push(d);
        }
        sym.plans = sym.vars.iter().map(|(_, t)| sym.plan(t)).collect();
        sym.flat = sym.build_flat();
        Some(sym)
    }

    fn pos(&self, ty: &Ty) -> Pos {
        match ty {
            Ty::Sym(k) => Pos::Sym(*k),
            _ if self.is_pid(ty) => Pos::Pid,
            _ if !self.mentions(ty) => Pos::Plain,
            _ => Pos::Domain(self.domain_list.iter().position(|d| d == ty).unwrap_or(0)),
        }
    }

    fn plan(&self, ty: &Ty) -> Plan {
        let len = self.types.flat_len(ty) as usize;
        if self.is_pid(ty) {
            return Plan::Pid;
        }
        match ty {
            Ty::Sym(k) | Ty::OptSym(k) => Plan::Sym(*k),
            _ if !self.mentions(ty) => Plan::Copy(len),
            Ty::Enum(id) => Plan::Enum {
                len,
                variants: (0..self.types.enums[*id as usize].variants.len())
                    .map(|tag| {
                        let mut at = self.types.variant_offset(*id, tag as u32) as usize;
                        self.types.enums[*id as usize].variants[tag]
                            .fields
                            .iter()
                            .map(|(_, t)| {
                                let here = at;
                                at += self.types.flat_len(t) as usize;
                                (here, self.plan(t))
                            })
                            .collect()
                    })
                    .collect(),
            },
            Ty::Record(id) => {
                let mut at = 0;
                Plan::Record(
                    self.types.records[*id as usize]
                        .fields
                        .iter()
                        .map(|(_, t)| {
                            let here = at;
                            at += self.types.flat_len(t) as usize;
                            (here, self.plan(t))
                        })
                        .collect(),
                )
            }
            Ty::Array(i, e) => Plan::Array {
                n: self.types.card(i).unwrap_or(0) as usize,
                elem_len: self.types.flat_len(e) as usize,
                index: self.pos(i),
                elem: Box::new(self.plan(e)),
            },
            Ty::Set(e) => Plan::Set {
                n: self.types.card(e).unwrap_or(0) as usize,
                elem: self.pos(e),
            },
            Ty::Seq(e, _) => Plan::Seq {
                len,
                elem_len: self.types.flat_len(e) as usize,
                elem: Box::new(self.plan(e)),
            },
            Ty::Bool | Ty::Int | Ty::Range(..) => Plan::Copy(1),
        }
    }

    #[inline]
    fn pos_image(&self, pos: Pos, i: usize, perm: &Perm) -> usize {
        match pos {
            Pos::Plain => i,
            Pos::Sym(k) => self.image(perm, k, i as i64) as usize,
            Pos::Pid => self.pid_image(perm, i as i64) as usize,
            Pos::Domain(d) => self.domain_image(d, i, perm),
        }
    }

    /// Whether `perm`'s image of `src` equals `dst` (stops at the first
    /// difference): [`Symmetry::apply_plan`] without writing.
    fn same_plan(&self, plan: &Plan, src: &[i64], perm: &Perm, dst: &[i64]) -> bool {
        match plan {
            Plan::Copy(n) => src[..*n] == dst[..*n],
            Plan::Sym(k) => dst[0] == self.image(perm, *k, src[0]),
            Plan::Pid => dst[0] == self.pid_image(perm, src[0]),
            Plan::Enum { variants, len } => {
                if src[0] != dst[0] {
                    return false;
                }
                match variants.get(src[0] as usize) {
                    Some(fields) => fields
                        .iter()
                        .all(|(at, p)| self.same_plan(p, &src[*at..], perm, &dst[*at..])),
                    None => src[..*len] == dst[..*len],
                }
            }
            Plan::Record(fields) => fields
                .iter()
                .all(|(at, p)| self.same_plan(p, &src[*at..], perm, &dst[*at..])),
            Plan::Array { n, elem_len, index, elem } => (0..*n).all(|i| {
                let j = self.pos_image(*index, i, perm);
                self.same_plan(elem, &src[i * elem_len..], perm, &dst[j * elem_len..])
            }),
            Plan::Set { n, elem } => (0..*n).all(|i| dst[self.pos_image(*elem, i, perm)] == src[i]),
            Plan::Seq { elem_len, elem, .. } => {
                src[0] == dst[0]
                    && (0..src[0].max(0) as usize).all(|i| {
                        let at = 1 + i * elem_len;
                        self.same_plan(elem, &src[at..], perm, &dst[at..])
                    })
            }
        }
    }

    /// Whether `perm` leaves `state` as it is (an automorphism).
    fn fixes(&self, state: &[i64], perm: &Perm) -> bool {
        self.vars
            .iter()
            .zip(&self.plans)
            .all(|((off, _), plan)| self.same_plan(plan, &state[*off..], perm, &state[*off..]))
    }

    fn apply_plan(&self, plan: &Plan, src: &[i64], perm: &Perm, dst: &mut [i64]) {
        match plan {
            Plan::Copy(n) => dst[..*n].copy_from_slice(&src[..*n]),
            Plan::Sym(k) => dst[0] = self.image(perm, *k, src[0]),
            Plan::Pid => dst[0] = self.pid_image(perm, src[0]),
            Plan::Enum { len, variants } => {
                // Fields of other variants hold the filler: copied as is.
                dst[..*len].copy_from_slice(&src[..*len]);
                if let Some(fields) = variants.get(src[0] as usize) {
                    for (at, p) in fields {
                        self.apply_plan(p, &src[*at..], perm, &mut dst[*at..]);
                    }
                }
            }
            Plan::Record(fields) => {
                for (at, p) in fields {
                    self.apply_plan(p, &src[*at..], perm, &mut dst[*at..]);
                }
            }
            Plan::Array { n, elem_len, index, elem } => {
                for i in 0..*n {
                    let j = self.pos_image(*index, i, perm);
                    self.apply_plan(elem, &src[i * elem_len..], perm, &mut dst[j * elem_len..]);
                }
            }
            Plan::Set { n, elem } => {
                for i in 0..*n {
                    dst[self.pos_image(*elem, i, perm)] = src[i];
                }
            }
            Plan::Seq { len, elem_len, elem } => {
                dst[..*len].copy_from_slice(&src[..*len]);
                for i in 0..src[0].max(0) as usize {
                    let at = 1 + i * elem_len;
                    self.apply_plan(elem, &src[at..], perm, &mut dst[at..]);
                }
            }
        }
    }

    /// The symmetric value a process id stands for, if its process is
    /// indexed by a symmetric type: (type, value).
    #[inline]
    fn pid_value(&self, pid: i64) -> Option<(u32, u32)> {
        let pid = u32::try_from(pid).ok()?;
        self.pids
            .iter()
            .find(|(first, n, _)| (*first..first + n).contains(&pid))
            .map(|(first, _, k)| (*k, pid - first))
    }

    /// `perm`'s image of a process id.
    fn pid_image(&self, perm: &Perm, pid: i64) -> i64 {
        match self.pid_value(pid) {
            Some((k, v)) => pid - v as i64 + self.image(perm, k, v as i64),
            None => pid,
        }
    }

    fn is_pid(&self, ty: &Ty) -> bool {
        matches!(ty, Ty::Enum(id) if Some(*id) == self.pid_enum)
    }

    /// Per symmetric type, its number of values.
    pub fn sizes(&self) -> &[u32] {
        &self.sizes
    }

    /// Per symmetric type, the global index of its value 0 (a [`Perm`]'s
    /// map and the signatures are indexed `base + value`).
    pub fn bases(&self) -> &[usize] {
        &self.bases
    }

    /// The processes indexed by a symmetric type: (first process id,
    /// instances, type).
    pub fn pid_ranges(&self) -> &[(u32, u32, u32)] {
        &self.pids
    }

    /// The symmetric types' names and sizes.
    pub fn types(&self) -> Vec<(String, u32)> {
        self.types
            .syms
            .iter()
            .map(|s| (s.name.clone(), s.size))
            .collect()
    }

    fn mentions(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Sym(_) | Ty::OptSym(_) => true,
            Ty::Bool | Ty::Int | Ty::Range(..) => false,
            Ty::Enum(id) => self.enum_mentions[*id as usize],
            Ty::Record(id) => self.record_mentions[*id as usize],
            Ty::Array(i, e) => self.mentions(i) || self.mentions(e),
            Ty::Set(e) | Ty::Seq(e, _) => self.mentions(e),
        }
    }

    fn collect_domains(&mut self, ty: &Ty) {
        match ty {
            Ty::Enum(id) => {
                let fields: Vec<Ty> = self.types.enums[*id as usize]
                    .variants
                    .iter()
                    .flat_map(|v| v.fields.iter().map(|(_, t)| t.clone()))
                    .collect();
                fields.iter().for_each(|t| self.collect_domains(t));
            }
            Ty::Record(id) => {
                let fields: Vec<Ty> = self.types.records[*id as usize]
                    .fields
                    .iter()
                    .map(|(_, t)| t.clone())
                    .collect();
                fields.iter().for_each(|t| self.collect_domains(t));
            }
            Ty::Array(i, e) => {
                // Only an array over optional values is positioned by a
                // domain; over symmetric values it is positioned directly.
                if matches!(**i, Ty::OptSym(_)) && !self.domains.contains_key(i) {
                    let d = self.domain(i);
                    self.domains.insert((**i).clone(), d);
                }
                self.collect_domains(e)
            }
            Ty::Seq(e, _) => self.collect_domains(e),
            Ty::Set(e)
                if !matches!(**e, Ty::Sym(_))
                    && self.mentions(e)
                    && !self.domains.contains_key(e) =>
            {
                let d = self.domain(e);
                self.domains.insert((**e).clone(), d);
            }
            _ => {}
        }
    }

    fn domain(&self, ty: &Ty) -> Domain {
        let card = self.types.card(ty).unwrap_or(0) as usize;
        let len = self.types.flat_len(ty) as usize;
        let mut decoded = vec![0i64; card * len];
        let mut syms = Vec::with_capacity(card);
        let mut shape = Vec::with_capacity(card);
        let mut linear = Vec::with_capacity(card);
        for i in 0..card {
            let value = &mut decoded[i * len..(i + 1) * len];
            self.types.value_at(ty, i as u64, value);
            let mut found = Vec::new();
            let h = self.shape(ty, value, &mut found, 0x51_7cc1);
            syms.push(found);
            shape.push(h);
            linear.push(self.strides(ty, value, i as i64));
        }
        Domain { len, decoded, syms, shape, linear }
    }

    /// The strides of element `i`'s index in its symmetric slots, measured
    /// by moving each slot by one; `None` when the index is not affine in
    /// them (index numbering is mixed radix: affine in each slot).
    fn strides(&self, ty: &Ty, value: &[i64], i: i64) -> Option<Vec<(u32, u32, i64)>> {
        let mut slots = Vec::new();
        if !self.sym_slots(ty, value, 0, &mut slots) {
            return None;
        }
        let mut out = Vec::with_capacity(slots.len());
        let mut probe = value.to_vec();
        for &(at, k, v) in &slots {
            let n = self.sizes[k as usize] as i64;
            if n < 2 {
                out.push((k, v, 0));
                continue;
            }
            let delta = if (v as i64) + 1 < n { 1 } else { -1 };
            probe[at] += delta;
            let j = self.types.value_index(ty, &probe)? as i64;
            probe[at] -= delta;
            out.push((k, v, (j - i) * delta));
        }
        Some(out)
    }

    /// The offsets of the symmetric slots of a flat value (active variant
    /// fields and sequence elements only), with their type and value; false
    /// if an array or set inside is positioned by a symmetric type.
    fn sym_slots(&self, ty: &Ty, v: &[i64], off: usize, out: &mut Vec<(usize, u32, u32)>) -> bool {
        if self.is_pid(ty) {
            if let Some((k, x)) = self.pid_value(v[0]) {
                out.push((off, k, x));
            }
            return true;
        }
        match ty {
            Ty::Sym(k) => {
                out.push((off, *k, v[0] as u32));
                true
            }
            Ty::OptSym(k) => {
                if v[0] >= 0 {
                    out.push((off, *k, v[0] as u32));
                }
                true
            }
            _ if !self.mentions(ty) => true,
            Ty::Enum(id) => {
                let tag = v[0] as usize;
                let Some(var) = self.types.enums[*id as usize].variants.get(tag) else {
                    return true;
                };
                let mut at = self.types.variant_offset(*id, tag as u32) as usize;
                for (_, t) in &var.fields {
                    if !self.sym_slots(t, &v[at..], off + at, out) {
                        return false;
                    }
                    at += self.types.flat_len(t) as usize;
                }
                true
            }
            Ty::Record(id) => {
                let mut at = 0;
                for (_, t) in &self.types.records[*id as usize].fields {
                    if !self.sym_slots(t, &v[at..], off + at, out) {
                        return false;
                    }
                    at += self.types.flat_len(t) as usize;
                }
                true
            }
            Ty::Array(i, e) if !self.mentions(i) => {
                let n = self.types.card(i).unwrap_or(0) as usize;
                let len = self.types.flat_len(e) as usize;
                (0..n).all(|j| self.sym_slots(e, &v[j * len..], off + j * len, out))
            }
            Ty::Seq(e, _) => {
                let len = self.types.flat_len(e) as usize;
                (0..v[0].max(0) as usize)
                    .all(|j| self.sym_slots(e, &v[1 + j * len..], off + 1 + j * len, out))
            }
            _ => false,
        }
    }

    /// A hash of a value with its symmetric values replaced by the position
    /// of their first occurrence (so equal values stay equal), which it
    /// collects in order.
    fn shape(&self, ty: &Ty, v: &[i64], found: &mut Vec<(u32, u32)>, h: u64) -> u64 {
        let mut note = |x: (u32, u32)| {
            let at = found.iter().position(|f| *f == x).unwrap_or(found.len());
            if at == found.len() {
                found.push(x);
            }
            mix(h, HELD ^ at as u64)
        };
        if self.is_pid(ty) {
            return match self.pid_value(v[0]) {
                Some(x) => note(x),
                None => mix(h, v[0] as u64),
            };
        }
        match ty {
            Ty::Sym(k) => note((*k, v[0] as u32)),
            Ty::OptSym(k) if v[0] >= 0 => note((*k, v[0] as u32)),
            Ty::Bool | Ty::Int | Ty::Range(..) | Ty::OptSym(_) => mix(h, v[0] as u64),
            Ty::Enum(id) => {
                let tag = v[0] as usize;
                let mut h = mix(h, tag as u64);
                let def = &self.types.enums[*id as usize];
                if let Some(var) = def.variants.get(tag) {
                    let mut off = self.types.variant_offset(*id, tag as u32) as usize;
                    for (_, t) in &var.fields {
                        h = self.shape(t, &v[off..], found, h);
                        off += self.types.flat_len(t) as usize;
                    }
                }
                h
            }
            Ty::Record(id) => {
                let mut h = h;
                let mut off = 0;
                for (_, t) in &self.types.records[*id as usize].fields {
                    h = self.shape(t, &v[off..], found, h);
                    off += self.types.flat_len(t) as usize;
                }
                h
            }
            // Contents positioned by symmetric values: their layout moves
            // under permutation, so only what does not move is hashed
            // (less telling, still invariant).
            Ty::Array(i, _) if self.mentions(i) => h,
            Ty::Set(e) if self.mentions(e) => h,
            Ty::Array(i, e) => {
                let n = self.types.card(i).unwrap_or(0) as usize;
                let len = self.types.flat_len(e) as usize;
                (0..n).fold(h, |h, j| self.shape(e, &v[j * len..], found, h))
            }
            Ty::Seq(e, _) => {
                let len = self.types.flat_len(e) as usize;
                let h = mix(h, v[0] as u64);
                (0..v[0].max(0) as usize).fold(h, |h, j| self.shape(e, &v[1 + j * len..], found, h))
            }
            Ty::Set(_) => {
                let n = self.types.flat_len(ty) as usize;
                v[..n].iter().fold(h, |h, x| mix(h, *x as u64))
            }
        }
    }

    /// `map`'s image of value `v` of symmetric type `k`; none (negative,
    /// [`Ty::OptSym`]) is its own image.
    #[inline]
    fn image(&self, perm: &Perm, k: u32, v: i64) -> i64 {
        if v < 0 {
            return v;
        }
        perm.map[self.bases[k as usize] + v as usize] as i64
    }

    /// The position that element `i` of a set or array over `dom` moves to.
    fn image_index(&self, dom: &Ty, i: usize, perm: &Perm) -> usize {
        match dom {
            Ty::Sym(k) => self.image(perm, *k, i as i64) as usize,
            _ if self.is_pid(dom) => self.pid_image(perm, i as i64) as usize,
            _ if !self.mentions(dom) => i,
            _ => match self.domain_list.iter().position(|d| d == dom) {
                Some(d) => self.domain_image(d, i, perm),
                None => {
                    // A domain inside a domain's element: rare, computed whole.
                    let len = self.types.flat_len(dom) as usize;
                    let (mut v, mut out) = (vec![0i64; len], vec![0i64; len]);
                    self.types.value_at(dom, i as u64, &mut v);
                    self.apply_value(dom, &v, perm, &mut out);
                    self.types.value_index(dom, &out).unwrap_or(i as u64) as usize
                }
            },
        }
    }

    /// Where element `i` of domain `d` moves.
    fn domain_image(&self, d: usize, i: usize, perm: &Perm) -> usize {
        let (dom, data) = (&self.domain_list[d], &self.domain_data[d]);
        let generic = || {
            let mut out = vec![0i64; data.len];
            self.apply_value(
                dom,
                &data.decoded[i * data.len..(i + 1) * data.len],
                perm,
                &mut out,
            );
            self.types.value_index(dom, &out).unwrap_or(i as u64) as usize
        };
        match &data.linear[i] {
            Some(moves) => {
                let mut j = i as i64;
                for &(k, v, stride) in moves {
                    j += (self.image(perm, k, v as i64) - v as i64) * stride;
                }
                debug_assert_eq!(j as usize, generic());
                j as usize
            }
            None => generic(),
        }
    }

    /// Writes `perm`'s image of a flat value of `ty` into `dst`.
    fn apply_value(&self, ty: &Ty, src: &[i64], perm: &Perm, dst: &mut [i64]) {
        match ty {
            Ty::Sym(k) | Ty::OptSym(k) => dst[0] = self.image(perm, *k, src[0]),
            _ if self.is_pid(ty) => dst[0] = self.pid_image(perm, src[0]),
            _ if !self.mentions(ty) => {
                let n = self.types.flat_len(ty) as usize;
                dst[..n].copy_from_slice(&src[..n]);
            }
            Ty::Enum(id) => {
                let n = self.types.flat_len(ty) as usize;
                // Fields of other variants hold the filler: copied as is.
                dst[..n].copy_from_slice(&src[..n]);
                let tag = src[0] as usize;
                if let Some(var) = self.types.enums[*id as usize].variants.get(tag) {
                    let mut off = self.types.variant_offset(*id, tag as u32) as usize;
                    for (_, t) in &var.fields {
                        self.apply_value(t, &src[off..], perm, &mut dst[off..]);
                        off += self.types.flat_len(t) as usize;
                    }
                }
            }
            Ty::Record(id) => {
                let mut off = 0;
                for (_, t) in &self.types.records[*id as usize].fields {
                    self.apply_value(t, &src[off..], perm, &mut dst[off..]);
                    off += self.types.flat_len(t) as usize;
                }
            }
            Ty::Array(index, elem) => {
                let n = self.types.card(index).unwrap_or(0) as usize;
                let len = self.types.flat_len(elem) as usize;
                for i in 0..n {
                    let j = self.image_index(index, i, perm);
                    self.apply_value(elem, &src[i * len..], perm, &mut dst[j * len..]);
                }
            }
            Ty::Set(elem) => {
                let n = self.types.card(elem).unwrap_or(0) as usize;
                for i in 0..n {
                    dst[self.image_index(elem, i, perm)] = src[i];
                }
            }
            Ty::Seq(elem, _) => {
                let n = self.types.flat_len(ty) as usize;
                dst[..n].copy_from_slice(&src[..n]);
                let len = self.types.flat_len(elem) as usize;
                for i in 0..src[0].max(0) as usize {
                    let at = 1 + i * len;
                    self.apply_value(elem, &src[at..], perm, &mut dst[at..]);
                }
            }
            Ty::Bool | Ty::Int | Ty::Range(..) => dst[0] = src[0],
        }
    }

    /// Writes `perm`'s image of `state` into `out`.
    pub fn apply(&self, state: &[i64], perm: &Perm, out: &mut Vec<i64>) {
        debug_assert_eq!(state.len(), self.state_len);
        out.clear();
        out.extend_from_slice(state);
        for ((off, _), plan) in self.vars.iter().zip(&self.plans) {
            self.apply_plan(plan, &state[*off..], perm, &mut out[*off..]);
        }
    }

    /// The identity permutation.
    pub fn identity(&self) -> Perm {
        let mut map = Vec::new();
        for &n in &self.sizes {
            map.extend(0..n);
        }
        Perm { map }
    }

    /// Every permutation of every symmetric type (the product of the
    /// symmetric groups): for tests and the audit on small types.
    pub fn all_perms(&self) -> Vec<Perm> {
        let mut out = vec![self.identity()];
        for k in 0..self.sizes.len() {
            let (b, n) = (self.bases[k], self.sizes[k] as usize);
            let mut next = Vec::new();
            let mut order: Vec<u32> = (0..n as u32).collect();
            loop {
                for p in &out {
                    let mut q = p.clone();
                    q.map[b..b + n].copy_from_slice(&order);
                    next.push(q);
                }
                if !next_permutation(&mut order) {
                    break;
                }
            }
            out = next;
        }
        out
    }

    /// The number of permutations [`Symmetry::all_perms`] lists, if it fits.
    pub fn group_order(&self) -> Option<u64> {
        self.sizes.iter().try_fold(1u64, |acc, &n| {
            (1..=n as u64).try_fold(acc, |a, i| a.checked_mul(i))
        })
    }

    /// The canonical representative of `state`'s orbit, into `out`, and the
    /// permutation that maps `state` to it.
    pub fn canonicalize(
        &self,
        state: &[i64],
        scratch: &mut Scratch,
        out: &mut Vec<i64>,
    ) -> (Perm, Effort) {
        self.flat_signatures(state, &mut scratch.sig);
        // Per type: values by signature; runs of equal signatures are the
        // classes whose order the signature cannot decide.
        let mut base = self.identity();
        // (type, first position, members in groups: group label per member)
        let mut open: Vec<Class> = Vec::new();
        for k in 0..self.sizes.len() {
            let (b, n) = (self.bases[k], self.sizes[k] as usize);
            let mut order: Vec<u32> = (0..n as u32).collect();
            order.sort_by_key(|&v| scratch.sig[b + v as usize]);
            for (pos, &v) in order.iter().enumerate() {
                base.map[b + v as usize] = pos as u32;
            }
            let mut start = 0;
            while start < n {
                let s = scratch.sig[b + order[start] as usize];
                let mut end = start + 1;
                while end < n && scratch.sig[b + order[end] as usize] == s {
                    end += 1;
                }
                if end - start > 1 {
                    let members = order[start..end].to_vec();
                    let labels = self.groups(k, &members, state);
                    if labels.iter().any(|&l| l != 0) {
                        open.push(Class { k, first: start as u32, members, labels });
                    }
                }
                start = end;
            }
        }
        if open.is_empty() {
            self.apply(state, &base, out);
            return (base, Effort { tried: 1 });
        }
        // Try every arrangement of every open class's groups; keep the least.
        let mut arrangement: Vec<Vec<u32>> = open.iter().map(|c| c.labels.clone()).collect();
        for a in &mut arrangement {
            a.sort_unstable();
        }
        let mut best: Option<Perm> = None;
        let mut tried = 0u64;
        let mut perm = base.clone();
        loop {
            for (c, labels) in open.iter().zip(&arrangement) {
                // Position first+p goes to the next member of group labels[p].
                let b = self.bases[c.k];
                let mut used = vec![false; c.members.len()];
                for (p, &l) in labels.iter().enumerate() {
                    let m = (0..c.members.len())
                        .find(|&m| !used[m] && c.labels[m] == l)
                        .unwrap_or(0);
                    used[m] = true;
                    perm.map[b + c.members[m] as usize] = c.first + p as u32;
                }
            }
            self.apply(state, &perm, &mut scratch.image);
            tried += 1;
            if best.is_none() || scratch.image < scratch.best {
                std::mem::swap(&mut scratch.image, &mut scratch.best);
                best = Some(perm.clone());
            }
            // Next arrangement: odometer over the classes.
            let mut i = 0;
            while i < arrangement.len() && !next_permutation(&mut arrangement[i]) {
                // `next_permutation` wrapped it back to sorted order.
                i += 1;
            }
            if i == arrangement.len() {
                break;
            }
        }
        out.clear();
        out.extend_from_slice(&scratch.best);
        (best.unwrap_or(base), Effort { tried })
    }

    /// Splits a class of values alike by signature into groups that a
    /// transposition exchanges without changing the state; returns a group
    /// label per member (0 for the first group).
    fn groups(&self, k: usize, members: &[u32], state: &[i64]) -> Vec<u32> {
        let mut reps: Vec<u32> = Vec::new();
        let mut labels = Vec::with_capacity(members.len());
        let mut swap = self.identity();
        let b = self.bases[k];
        for &m in members {
            let mut label = None;
            for (g, &r) in reps.iter().enumerate() {
                swap.map[b + m as usize] = r;
                swap.map[b + r as usize] = m;
                let fixed = self.fixes(state, &swap);
                swap.map[b + m as usize] = m;
                swap.map[b + r as usize] = r;
                if fixed {
                    label = Some(g as u32);
                    break;
                }
            }
            labels.push(label.unwrap_or_else(|| {
                reps.push(m);
                reps.len() as u32 - 1
            }));
        }
        labels
    }

    /// The rule instance that `perm` makes of `instance`: its parameters
    /// permuted (`None` if the instance does not exist).
    pub fn permute_instance(&self, model: &Model, instance: u64, perm: &Perm) -> Option<u64> {
        let (r, local) = model.rule_of_instance(instance)?;
        let rule = &model.rules[r];
        let mut rest = local;
        let mut indexes = vec![0u64; rule.params.len()];
        for (i, p) in rule.params.iter().enumerate().rev() {
            indexes[i] = rest % p.card;
            rest /= p.card;
        }
        let mut acc = 0u64;
        for (p, &ix) in rule.params.iter().zip(&indexes) {
            let len = p.len as usize;
            let (mut v, mut w) = (vec![0i64; len], vec![0i64; len]);
            self.types.value_at(&p.ty, ix, &mut v);
            self.apply_value(&p.ty, &v, perm, &mut w);
            acc = acc * p.card + self.types.value_index(&p.ty, &w)?;
        }
        Some(model.instance_base[r] + acc)
    }
}

struct Class {
    k: usize,
    first: u32,
    members: Vec<u32>,
    labels: Vec<u32>,
}

/// The next arrangement in lexicographic order (distinct ones only, for
/// repeated labels); `false` after the last, leaving `v` sorted again.
pub fn next_permutation(v: &mut [u32]) -> bool {
    if v.len() < 2 {
        return false;
    }
    let mut i = v.len() - 1;
    while i > 0 && v[i - 1] >= v[i] {
        i -= 1;
    }
    if i == 0 {
        v.reverse();
        return false;
    }
    let mut j = v.len() - 1;
    while v[j] <= v[i - 1] {
        j -= 1;
    }
    v.swap(i - 1, j);
    v[i..].reverse();
    true
}

/// Whether a value of `ty` holds a value of enum `id`.
fn enum_holds(types: &Types, ty: &Ty, id: u32) -> bool {
    match ty {
        Ty::Enum(e) => {
            *e == id
                || types.enums[*e as usize]
                    .variants
                    .iter()
                    .any(|v| v.fields.iter().any(|(_, t)| enum_holds(types, t, id)))
        }
        Ty::Record(r) => types.records[*r as usize]
            .fields
            .iter()
            .any(|(_, t)| enum_holds(types, t, id)),
        Ty::Array(i, e) => enum_holds(types, i, id) || enum_holds(types, e, id),
        Ty::Set(e) | Ty::Seq(e, _) => enum_holds(types, e, id),
        _ => false,
    }
}
