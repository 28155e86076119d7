// Shared by every generated kernel: the error flag, checked integer
// arithmetic with the evaluator's semantics, and the model's fingerprint
// function (model::fingerprint), in u32 arithmetic as on the CPU.

var<private> err: u32;

const I32_MIN: i32 = -2147483647i - 1i;

fn add_ck(a: i32, b: i32) -> i32 {
    let r = a + b;
    if (((a ^ r) & (b ^ r)) < 0i) { err = 1u; }
    return r;
}

fn sub_ck(a: i32, b: i32) -> i32 {
    let r = a - b;
    if (((a ^ b) & (a ^ r)) < 0i) { err = 1u; }
    return r;
}

// Conservative: products of operands below 46341 in magnitude cannot
// overflow; anything larger is handed to the CPU (i64) as if it had.
fn mul_ck(a: i32, b: i32) -> i32 {
    if (a > 46340i || a < -46340i || b > 46340i || b < -46340i) {
        if (a != 0i && b != 0i) { err = 1u; }
    }
    return a * b;
}

// Floor division, as the evaluator (TLA+'s \div and %).
fn div_ck(a: i32, b: i32) -> i32 {
    if (b == 0i || (a == I32_MIN && b == -1i)) { err = 1u; return 0i; }
    let q = a / b;
    if ((a % b != 0i) && ((a < 0i) != (b < 0i))) { return q - 1i; }
    return q;
}

fn mod_ck(a: i32, b: i32) -> i32 {
    let q = div_ck(a, b);
    return a - q * b;
}

// Truncated division and its remainder, as C's `/` and `%` (DVE, Murphi).
fn quot_ck(a: i32, b: i32) -> i32 {
    if (b == 0i || (a == I32_MIN && b == -1i)) { err = 1u; return 0i; }
    return a / b;
}

fn rem_ck(a: i32, b: i32) -> i32 {
    if (b == 0i || (a == I32_MIN && b == -1i)) { err = 1u; return 0i; }
    return a % b;
}

// Shifts as the evaluator: `a * 2^b` with overflow checked, and arithmetic
// right shifts. A count or a result the i32 cannot hold goes to the CPU.
fn shl_ck(a: i32, b: i32) -> i32 {
    if (b < 0i || b > 30i) { err = 1u; return 0i; }
    let r = a << u32(b);
    if ((r >> u32(b)) != a) { err = 1u; }
    return r;
}

fn shr_ck(a: i32, b: i32) -> i32 {
    if (b < 0i || b > 31i) { err = 1u; return 0i; }
    return a >> u32(b);
}

// A read of a slot whose type has an "undefined" value `u` (Murphi's).
fn defined_ck(v: i32, u: i32) -> i32 {
    if (v == u) { err = 1u; }
    return v;
}

fn neg_ck(a: i32) -> i32 {
    if (a == I32_MIN) { err = 1u; }
    return -a;
}

fn abs_ck(a: i32) -> i32 {
    if (a == I32_MIN) { err = 1u; }
    return abs(a);
}

// Element `i` of an array indexed from `lo` with `count` elements; an
// index outside is a range error (element 0 is read instead).
fn elem(i: i32, lo: i32, count: i32) -> i32 {
    if (i < lo || (u32(i) - u32(lo)) >= u32(count)) { err = 1u; return 0i; }
    return i32(u32(i) - u32(lo));
}

fn seq_index(i: i32, len: i32) -> i32 {
    if (i < 0i || i >= len) { err = 1u; return 0i; }
    return i;
}

const C1: u32 = 0xcc9e2d51u;
const C2: u32 = 0x1b873593u;

fn rotl(x: u32, r: u32) -> u32 {
    return (x << r) | (x >> (32u - r));
}

fn fmix(h0: u32) -> u32 {
    var h = h0;
    h ^= h >> 16u;
    h *= 0x85ebca6bu;
    h ^= h >> 13u;
    h *= 0xc2b2ae35u;
    h ^= h >> 16u;
    return h;
}

fn fp_round(h: u32, w: u32) -> u32 {
    let k = rotl(w * C1, 15u) * C2;
    return rotl(h ^ k, 13u) * 5u + 0xe6546b64u;
}

// model::fingerprint::fingerprint of pw[0..W]: (low word, high word).
fn fingerprint64() -> vec2<u32> {
    var a = 0x9747b28cu;
    var b = 0x2545f491u;
    for (var i = 0u; i < W; i++) {
        let w = pw[i];
        a = fp_round(a, w);
        b = fp_round(b, rotl(w, 16u) ^ 0x5bd1e995u);
    }
    a = fmix(a ^ W);
    b = fmix(b ^ (W * 0x27d4eb2fu));
    var lo = a + b;
    let hi = rotl(b + lo, 7u) ^ a;
    if (lo == 0u && hi == 0u) { lo = 1u; }
    return vec2<u32>(lo, hi);
}

// The two extra lanes of model::fingerprint::fingerprint128 (its low 64
// bits): (low word, high word).
fn fingerprint128_low() -> vec2<u32> {
    var c = 0x3c6ef372u;
    var d = 0xa54ff53au;
    for (var i = 0u; i < W; i++) {
        let w = pw[i];
        c = fp_round(c, rotl(w, 8u) ^ 0x68e31da4u);
        d = fp_round(d, rotl(w, 24u) ^ 0xb5297a4du);
    }
    c = fmix(c ^ (W * 0x165667b1u));
    d = fmix(d ^ (W * 0x9e3779b1u));
    return vec2<u32>(c + d, rotl(d + c, 11u) ^ c);
}
