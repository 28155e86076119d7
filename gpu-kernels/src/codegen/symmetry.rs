//! `fn canonicalize()`: the successor in `s` replaced by its orbit's
//! representative, the same one the CPU picks (`model::symmetry`): the
//! signatures from the symmetry's flat table (straight-line code per
//! entry), values sorted by signature, ties split into groups by
//! transposition tests, and every arrangement of the groups tried for the
//! least image. A state whose ties need more than [`CAP`] arrangements sets
//! `err`: its level goes to the CPU, which finishes any case.

use std::fmt::Write as _;

use model::symmetry::{HELD32, Held, Symmetry, When, mix32};

use super::Unsupported;

/// Arrangements a device thread tries before it hands the state to the CPU.
pub const CAP: u32 = 720;

/// Table entries past which the straight-line code would be too large.
const MAX_ENTRIES: usize = 4096;

fn cond(when: &[When]) -> String {
    if when.is_empty() {
        return "true".into();
    }
    when.iter()
        .map(|w| match *w {
            When::Eq(s, v) => format!("(s[{s}] == {v}i)"),
            When::Gt(s, v) => format!("(s[{s}] > {v}i)"),
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

/// The WGSL of the symmetry's canonicalization over `slots` state slots.
pub fn generate(sym: &Symmetry, slots: u32) -> Result<String, Unsupported> {
    let flat = sym.flat();
    if !sym.flat_is_affine() {
        return Err(Unsupported::Other(
            "symmetric values inside a set's elements that hold arrays or sets: the device cannot move them".into(),
        ));
    }
    if flat.len() > MAX_ENTRIES {
        return Err(Unsupported::Other(format!(
            "{} state slots move under symmetry; the device canonicalizes at most {MAX_ENTRIES}",
            flat.len()
        )));
    }
    let (sizes, bases) = (sym.sizes(), sym.bases());
    let total: usize = sizes.iter().map(|&n| n as usize).sum();
    let mut w = String::new();
    let o = &mut w;
    let _ = writeln!(o, "const SYM_T: u32 = {total}u;");
    let _ = writeln!(o, "const SYM_CAP: u32 = {CAP}u;");
    let _ = writeln!(o, "const SLOTS: u32 = {slots}u;");
    for name in [
        "sig", "pm", "pb", "ord", "tb", "cst", "cend", "lab", "isrep", "copen", "arr", "usd",
        "dsc", "tmp",
    ] {
        let _ = writeln!(o, "var<private> {name}: array<u32, {total}>;");
    }
    let _ = writeln!(o, "var<private> img: array<i32, {slots}>;");
    let _ = writeln!(o, "var<private> bst: array<i32, {slots}>;");
    o.push_str(
        "fn mix32(a: u32, b: u32) -> u32 {
    var x = ((a << 5u) | (a >> 27u)) ^ (b * 0x9e3779b9u);
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    return x ^ (x >> 16u);
}
",
    );
    // Process ids of symmetric processes: global value index, and image.
    o.push_str("fn sym_pid(v: i32) -> i32 {\n    var r = -1i;\n");
    for &(first, n, k) in sym.pid_ranges() {
        let _ = writeln!(
            o,
            "    r = select(r, {b}i + v - {first}i, (v >= {first}i) & (v < {end}i));",
            end = first + n,
            b = bases[k as usize]
        );
    }
    o.push_str("    return r;\n}\n");
    o.push_str("fn sym_pid_img(v: i32) -> i32 {\n    var r = v;\n");
    for &(first, n, k) in sym.pid_ranges() {
        let _ = writeln!(
            o,
            "    r = select(r, {first}i + i32(pm[{b}u + u32(clamp(v - {first}i, 0i, {last}i))]), (v >= {first}i) & (v < {end}i));",
            end = first + n,
            last = n - 1,
            b = bases[k as usize]
        );
    }
    o.push_str("    return r;\n}\n");

    // The held value's global index expression (negative: none, which is
    // not held, as `model::symmetry`'s `held_value` has it) and when the
    // slot's value is out of its type's range; None for plain slots.
    let held = |h: Held| -> Option<(String, String)> {
        match h {
            Held::Plain => None,
            Held::Sym(k) => {
                let (b, n) = (bases[k as usize], sizes[k as usize]);
                Some((
                    format!("select(-1i, {b}i + v, (v >= 0i) & (v < {n}i))"),
                    format!("v >= {n}i"),
                ))
            }
            Held::Pid => Some(("sym_pid(v)".into(), "false".into())),
        }
    };

    // Signatures.
    o.push_str("fn sym_sig() {\n    for (var g = 0u; g < SYM_T; g++) { sig[g] = 0u; }\n");
    for f in flat {
        let _ = writeln!(o, "    {{ let v = s[{}]; var leaf = u32(v);", f.slot);
        if let Some((x, bad)) = held(f.held) {
            let _ = writeln!(
                o,
                "      let x = {x}; let on = {};\n      err = select(err, 1u, on & ({bad}));\n      let ok = on & (x >= 0i);\n      var eq = 0u;",
                cond(&f.when)
            );
            for (j, c) in f.ctx.iter().enumerate() {
                let g = bases[c.k as usize] + c.v as usize;
                let _ = writeln!(
                    o,
                    "      eq |= select(0u, {}u, x == {g}i);",
                    1u32 << (j & 31)
                );
            }
            let _ = writeln!(
                o,
                "      let xi = u32(max(x, 0i));\n      sig[xi] += select(0u, mix32({}u, eq), ok);\n      leaf = select(leaf, mix32({HELD32}u, eq), ok);",
                f.path ^ HELD32
            );
        }
        for (j, c) in f.ctx.iter().enumerate() {
            let g = bases[c.k as usize] + c.v as usize;
            let _ = writeln!(
                o,
                "      sig[{g}] += mix32({}u, leaf);",
                mix32(f.path, j as u32)
            );
        }
        o.push_str("    }\n");
    }
    o.push_str("}\n");

    // The slots a permutation moves or maps, in order: the others are the
    // same in every image.
    let mut moved: Vec<u32> = flat.iter().map(|f| f.slot).collect();
    moved.sort_unstable();
    moved.dedup();
    let t = total;
    // The type base of each position (global value index).
    let tb: Vec<usize> = (0..sizes.len())
        .flat_map(|k| std::iter::repeat_n(bases[k], sizes[k] as usize))
        .collect();

    // The image of `s` under `pm`, into `img` (moved slots only).
    o.push_str("fn sym_apply() {\n");
    for &m in &moved {
        let _ = writeln!(o, "    img[{m}] = s[{m}];");
    }
    for f in flat {
        let _ = write!(o, "    {{ let v = s[{}];", f.slot);
        match f.held {
            Held::Plain => {
                let _ = write!(o, " let x = v;");
            }
            Held::Sym(k) => {
                let (b, n) = (bases[k as usize], sizes[k as usize]);
                let _ = write!(
                    o,
                    " let x = select(v, i32(pm[{b}u + u32(clamp(v, 0i, {}i))]), {} & (v >= 0i) & (v < {n}i));",
                    n - 1,
                    cond(&f.when)
                );
            }
            Held::Pid => {
                let _ = write!(o, " let x = select(v, sym_pid_img(v), {});", cond(&f.when));
            }
        }
        let mut dst = format!("{}i", f.slot);
        for c in &f.ctx {
            let g = bases[c.k as usize] + c.v as usize;
            let stride = c.stride.unwrap_or(0);
            let _ = write!(dst, " + (i32(pm[{g}]) - {}i) * {stride}i", c.v);
        }
        let _ = writeln!(o, " img[{dst}] = x; }}");
    }
    o.push_str("}\n");

    // Loop iterations are few and every O(T) or O(slots) step is
    // straight-line code: Mesa 22.3's llvmpipe (Debian 12's lavapipe, CI's
    // adapter) stops a loop nest for good after about 65,535 iterations of
    // one invocation, silently, and this code runs inside the search
    // kernel's loops over rule instances. Per call it loops at most
    // T·(T+1) times for the swap tests and SYM_CAP times for the
    // arrangements (docs/symmetry.md).
    o.push_str("fn sym_fixed() -> bool {\n    sym_apply();\n    var same = true;\n");
    for &m in &moved {
        let _ = writeln!(o, "    same = same & (img[{m}] == s[{m}]);");
    }
    o.push_str("    return same;\n}\n");
    o.push_str("fn img_less() -> bool {\n    var d = 0u;\n");
    for &m in &moved {
        let _ = writeln!(
            o,
            "    d = select(d, select(2u, 1u, img[{m}] < bst[{m}]), (d == 0u) & (img[{m}] != bst[{m}]));"
        );
    }
    o.push_str("    return d == 1u;\n}\n");

    o.push_str("fn canonicalize() {\n    sym_sig();\n    if (err == 0u) { sym_canon(); }\n}\n");
    o.push_str("fn sym_canon() {\n");
    // Per type: positions by signature (stable), the base permutation,
    // and the identity in `pm` for the swap tests.
    for (k, &n) in sizes.iter().enumerate() {
        let b = bases[k];
        let _ = writeln!(
            o,
            "    for (var x = 0u; x < {n}u; x++) {{\n        let c = sig[{b}u + x];\n        var r = 0u;"
        );
        for y in 0..n {
            let _ = writeln!(
                o,
                "        r += select(0u, 1u, (sig[{}u] < c) | ((sig[{}u] == c) & ({y}u < x)));",
                b + y as usize,
                b + y as usize
            );
        }
        let _ = writeln!(
            o,
            "        ord[{b}u + r] = {b}u + x; pb[{b}u + x] = r; pm[{b}u + x] = x;\n    }}"
        );
    }
    // Classes: equal signatures, within one type.
    for (p, &base) in tb.iter().enumerate() {
        let _ = writeln!(
            o,
            "    tb[{p}] = {base}u; isrep[{p}] = 1u; lab[{p}] = {p}u; copen[{p}] = 0u;"
        );
        if p == base {
            let _ = writeln!(o, "    cst[{p}] = {p}u;");
        } else {
            let _ = writeln!(
                o,
                "    cst[{p}] = select({p}u, cst[{}], sig[ord[{p}]] == sig[ord[{}]]);",
                p - 1,
                p - 1
            );
        }
    }
    for p in (0..t).rev() {
        if p + 1 == t || tb[p + 1] == p + 1 {
            let _ = writeln!(o, "    cend[{p}] = {}u;", p + 1);
        } else {
            let _ = writeln!(
                o,
                "    cend[{p}] = select({}u, cend[{}], cst[{}] == cst[{p}]);",
                p + 1,
                p + 1,
                p + 1
            );
        }
    }
    // Groups: a position joins the first earlier representative of its
    // class that a transposition exchanges with it, the state unchanged.
    o.push_str(
        "    for (var p = 1u; p < SYM_T; p++) {
        if (cst[p] != p) {
            let b = tb[p];
            let m = ord[p];
            var l = SYM_T;
            for (var g = cst[p]; g < p && l == SYM_T; g++) {
                if (isrep[g] != 0u) {
                    let r = ord[g];
                    pm[m] = r - b;
                    pm[r] = m - b;
                    if (sym_fixed()) { l = g; }
                    pm[m] = m - b;
                    pm[r] = r - b;
                }
            }
            if (l != SYM_T) { lab[p] = l; isrep[p] = 0u; }
        }
    }
    var any_open = false;
",
    );
    for p in 0..t {
        let _ = writeln!(
            o,
            "    copen[cst[{p}]] |= u32(lab[{p}] != cst[{p}]); any_open = any_open | (lab[{p}] != cst[{p}]);"
        );
    }
    o.push_str("    if (!any_open) {\n        for (var g = 0u; g < SYM_T; g++) { pm[g] = pb[g]; }\n        sym_apply();\n");
    for &m in &moved {
        let _ = writeln!(o, "        s[{m}] = img[{m}];");
    }
    o.push_str("        return;\n    }\n");
    // The first arrangement: each class's labels in order.
    o.push_str("    for (var p = 0u; p < SYM_T; p++) {\n        var r = 0u;\n");
    for q in 0..t {
        let _ = writeln!(
            o,
            "        r += select(0u, 1u, (cst[{q}] == cst[p]) & ((lab[{q}] < lab[p]) | ((lab[{q}] == lab[p]) & ({q}u < p))));"
        );
    }
    o.push_str("        arr[cst[p] + r] = lab[p];\n    }\n");
    // Every arrangement (at most SYM_CAP), the least image.
    o.push_str("    var more = true;\n    var first = true;\n    for (var tried = 0u; tried < SYM_CAP && more; tried++) {\n");
    for g in 0..t {
        let _ = writeln!(o, "        pm[{g}] = pb[{g}]; usd[{g}] = 0u;");
    }
    // Position p of an open class takes the next unused member of group arr[p].
    for (p, &base) in tb.iter().enumerate() {
        let _ = writeln!(
            o,
            "        {{ let on = copen[cst[{p}]] != 0u; var m = SYM_T;"
        );
        for q in 0..t {
            let _ = writeln!(
                o,
                "          m = select(m, {q}u, (m == SYM_T) & (cst[{q}] == cst[{p}]) & (usd[{q}] == 0u) & (lab[{q}] == arr[{p}]));"
            );
        }
        let _ = writeln!(
            o,
            "          err = select(err, 1u, on & (m == SYM_T));\n          let mi = min(m, SYM_T - 1u);\n          usd[mi] = select(usd[mi], 1u, on);\n          pm[ord[mi]] = select(pm[ord[mi]], {}u, on); }}",
            p - base
        );
    }
    o.push_str("        sym_apply();\n        if (first || img_less()) {\n");
    for &m in &moved {
        let _ = writeln!(o, "            bst[{m}] = img[{m}];");
    }
    o.push_str("        }\n        first = false;\n");
    // The next arrangement: the first open class not at its last one
    // advances, the open classes before it start again.
    for p in 0..t {
        let _ = writeln!(o, "        dsc[{p}] = 1u; tmp[{p}] = arr[{p}];");
    }
    for p in 1..t {
        let _ = writeln!(
            o,
            "        dsc[cst[{p}]] = select(dsc[cst[{p}]], dsc[cst[{p}]] & u32(arr[{}] >= arr[{p}]), cst[{p}] == cst[{}]);",
            p - 1,
            p - 1
        );
    }
    o.push_str("        var tgt = SYM_T;\n");
    for c in 0..t {
        let _ = writeln!(
            o,
            "        tgt = select(tgt, {c}u, (tgt == SYM_T) & (cst[{c}] == {c}u) & (copen[{c}] != 0u) & (dsc[{c}] == 0u));"
        );
    }
    for p in 0..t {
        let _ = writeln!(
            o,
            "        arr[{p}] = select(arr[{p}], tmp[min(cst[{p}] + cend[{p}] - 1u - {p}u, SYM_T - 1u)], (copen[cst[{p}]] != 0u) & (cst[{p}] < tgt));"
        );
    }
    o.push_str("        more = tgt != SYM_T;\n        if (more) {\n            let a = tgt;\n            let b = cend[tgt];\n            var i = a;\n");
    for q in 1..t {
        let _ = writeln!(
            o,
            "            i = select(i, {q}u, ({q}u > a) & ({q}u < b) & (arr[{}] < arr[{q}]));",
            q - 1
        );
    }
    o.push_str("            let piv = arr[i - 1u];\n            var j = i;\n");
    for q in 0..t {
        let _ = writeln!(
            o,
            "            j = select(j, {q}u, ({q}u >= i) & ({q}u < b) & (arr[{q}] > piv));"
        );
    }
    o.push_str("            arr[i - 1u] = arr[j];\n            arr[j] = piv;\n");
    for p in 0..t {
        let _ = writeln!(o, "            tmp[{p}] = arr[{p}];");
    }
    for p in 0..t {
        let _ = writeln!(
            o,
            "            arr[{p}] = select(arr[{p}], tmp[min(i + b - 1u - {p}u, SYM_T - 1u)], ({p}u >= i) & ({p}u < b));"
        );
    }
    o.push_str("        }\n    }\n    if (more) {\n        err = 1u;\n        return;\n    }\n");
    for &m in &moved {
        let _ = writeln!(o, "    s[{m}] = bst[{m}];");
    }
    o.push_str("}\n");
    Ok(w)
}
