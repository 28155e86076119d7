//! What the generated `spec.rs` is written in: flat slot arrays, the
//! evaluator's checked arithmetic, and the tables that describe the spec's
//! processes and steps to the runtime. Copied verbatim by `fathom emit`.

#![allow(dead_code)] // one prelude for every spec: not each uses every helper

use std::ops::{Index, IndexMut};

/// A step the spec's evaluator would have stopped with an error (a range,
/// an index, an overflow). `fathom check` proved no reachable state does
/// this, so at run time it means the run left the spec: the node stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault;

/// Flat values: a state, a local frame or a value stack, indexed by i64
/// offsets as the generated code computes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slots(pub Vec<i64>);

impl Slots {
    pub fn new(len: u32) -> Slots {
        Slots(vec![0; len as usize])
    }
    pub fn slice(&self, at: u32, len: u32) -> Vec<i64> {
        self.0[at as usize..(at + len) as usize].to_vec()
    }
}

impl Index<i64> for Slots {
    type Output = i64;
    #[inline]
    fn index(&self, i: i64) -> &i64 {
        &self.0[i as usize]
    }
}

impl IndexMut<i64> for Slots {
    #[inline]
    fn index_mut(&mut self, i: i64) -> &mut i64 {
        &mut self.0[i as usize]
    }
}

#[inline]
pub fn b(x: bool) -> i64 {
    x as i64
}
#[inline]
pub fn min(a: i64, b: i64) -> i64 {
    a.min(b)
}
#[inline]
pub fn max(a: i64, b: i64) -> i64 {
    a.max(b)
}
#[inline]
pub fn clamp(x: i64, lo: i64, hi: i64) -> i64 {
    x.max(lo).min(hi)
}
#[inline]
pub fn add_ck(a: i64, b: i64) -> Result<i64, Fault> {
    a.checked_add(b).ok_or(Fault)
}
#[inline]
pub fn sub_ck(a: i64, b: i64) -> Result<i64, Fault> {
    a.checked_sub(b).ok_or(Fault)
}
#[inline]
pub fn mul_ck(a: i64, b: i64) -> Result<i64, Fault> {
    a.checked_mul(b).ok_or(Fault)
}
/// Floor division, as the evaluator (TLA+'s `\div`).
#[inline]
pub fn div_ck(a: i64, b: i64) -> Result<i64, Fault> {
    if b == 0 {
        return Err(Fault);
    }
    let q = a.checked_div(b).ok_or(Fault)?;
    Ok(if a % b != 0 && ((a < 0) != (b < 0)) { q - 1 } else { q })
}
#[inline]
pub fn mod_ck(a: i64, b: i64) -> Result<i64, Fault> {
    let q = div_ck(a, b)?;
    Ok(a - q * b)
}
/// A read of a slot whose type has an "undefined" value `u` (Murphi's).
#[inline]
pub fn defined_ck(v: i64, u: i64) -> Result<i64, Fault> {
    if v == u { Err(Fault) } else { Ok(v) }
}
/// Truncated division, as C's `/` (DVE, Murphi).
#[inline]
pub fn quot_ck(a: i64, b: i64) -> Result<i64, Fault> {
    a.checked_div(b).ok_or(Fault)
}
#[inline]
pub fn rem_ck(a: i64, b: i64) -> Result<i64, Fault> {
    a.checked_rem(b).ok_or(Fault)
}
#[inline]
pub fn shl_ck(a: i64, b: i64) -> Result<i64, Fault> {
    if !(0..63).contains(&b) {
        return Err(Fault);
    }
    a.checked_mul(1i64 << b).ok_or(Fault)
}
#[inline]
pub fn shr_ck(a: i64, b: i64) -> Result<i64, Fault> {
    if !(0..64).contains(&b) {
        return Err(Fault);
    }
    Ok(a >> b)
}
#[inline]
pub fn neg_ck(a: i64) -> Result<i64, Fault> {
    a.checked_neg().ok_or(Fault)
}
#[inline]
pub fn abs_ck(a: i64) -> Result<i64, Fault> {
    a.checked_abs().ok_or(Fault)
}
/// Element `i` of an array indexed from `lo` with `count` elements.
#[inline]
pub fn elem(i: i64, lo: i64, count: i64) -> Result<i64, Fault> {
    if i < lo || i - lo >= count {
        return Err(Fault);
    }
    Ok(i - lo)
}
#[inline]
pub fn seq_index(i: i64, len: i64) -> Result<i64, Fault> {
    if i < 0 || i >= len {
        return Err(Fault);
    }
    Ok(i)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Set,
    Bag,
    Fifo,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Rule,
    Timeout,
    Input,
    Receive,
    Environment,
}

pub struct VarDef {
    pub name: &'static str,
    /// Slots of instance k: `offset + k * len .. + len`.
    pub offset: u32,
    pub len: u32,
    pub durable: bool,
}

pub struct ParamDef {
    pub name: &'static str,
    pub local: u32,
    pub len: u32,
    /// Bounds of a one-slot parameter (`hi < lo`: not one slot).
    pub lo: i64,
    pub hi: i64,
}

pub type Guard = fn(&Slots, &mut Slots) -> Result<bool, Fault>;
pub type Body = fn(&mut Slots, &mut Slots, &mut Vec<(i64, Vec<i64>)>) -> Result<(), Fault>;
/// Binds a handler's parameters from (self, source, the flat message);
/// false when the message is not the handler's variant.
pub type BindMsg = fn(&mut Slots, i64, i64, &[i64]) -> bool;

pub struct StepDef {
    /// The model's rule name (`RMgr.Prepare`, `TM.on Prepared`).
    pub name: &'static str,
    pub kind: Kind,
    /// Local instances per process instance (the first parameter is self).
    pub per_instance: u64,
    pub frame_len: u32,
    pub params: &'static [ParamDef],
    /// The message variant an `on` handler takes; -1 otherwise.
    pub tag: i64,
    pub guard: Guard,
    pub body: Body,
    pub bind: fn(&mut Slots, u64),
    pub bind_msg: Option<BindMsg>,
    /// An `input`'s check of a caller's arguments (bound in the frame).
    pub args_ok: Option<fn(&Slots) -> bool>,
}

pub struct ProcessDef {
    pub name: &'static str,
    pub first_pid: u32,
    pub count: u32,
    pub index_values: &'static [i64],
    pub vars: &'static [VarDef],
    pub steps: &'static [StepDef],
    /// A node's flat variables through its typed `State` and back (`None`:
    /// not a value of its types); the tests check it is the identity.
    pub state_round_trip: fn(&[i64]) -> Option<Vec<i64>>,
}

/// Appends `v` as a zigzag varint (7 bits a byte, small magnitudes short).
pub fn put_varint(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    loop {
        let b = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Reads a zigzag varint at `buf[*at..]`, moving `at` past it.
pub fn get_varint(buf: &[u8], at: &mut usize) -> Option<i64> {
    let mut z = 0u64;
    let mut shift = 0;
    loop {
        let b = *buf.get(*at)?;
        *at += 1;
        z |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(((z >> 1) as i64) ^ -((z & 1) as i64));
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}
