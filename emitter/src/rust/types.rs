//! Typed Rust for the spec's values, for the code around a node: a Rust
//! type per spec type (each `enum` and `record` by name, `Msg` among
//! them, the process ids as `Process`), each with conversions from and to
//! the flat slots the generated steps work on, and the messages' compact
//! binary encoding (zigzag varints of the flat slots, as on the wire).
//!
//! | spec | Rust |
//! |---|---|
//! | `bool` | `bool` |
//! | `lo..hi` | `i64` |
//! | `enum`, `record` | an `enum` or `struct` of that name |
//! | the process ids | `Process(pub i64)` |
//! | `[I]T`, `seq[T; K]` | `Vec<T>` |
//! | `set[T]` | `BTreeSet<T>` |

use std::collections::BTreeMap;

use model::ir::{Model, Ty};

use super::{Gen, R};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// A spec name as a Rust identifier (raw where it is a keyword).
pub(crate) fn rust_name(name: &str) -> String {
    match name {
        "self" | "Self" | "super" | "crate" | "_" => format!("{name}_"),
        n if KEYWORDS.contains(&n) => format!("r#{n}"),
        n => n.to_string(),
    }
}

/// `ChooseToAbort` -> `choose_to_abort`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 && !out.ends_with('_') {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Generates the typed layer; knows which element types of sets need
/// value numbering helpers.
pub(crate) struct Typed<'m> {
    m: &'m Model,
    pid_enum: Option<u32>,
    /// Set element types seen, by their helper's number.
    numbered: BTreeMap<String, (usize, Ty)>,
    /// Before a named type or helper: empty inside `types`, its path outside.
    prefix: &'static str,
}

const TYPES: &str = "crate::spec::types::";

impl<'m> Typed<'m> {
    pub(crate) fn new(m: &'m Model) -> Self {
        let pid_enum = m.network.as_ref().and_then(|n| match n.pid {
            Ty::Enum(id) => Some(id),
            _ => None,
        });
        Typed {
            m,
            pid_enum,
            numbered: BTreeMap::new(),
            prefix: TYPES,
        }
    }

    fn enum_name(&self, id: u32) -> String {
        rust_name(&self.m.types.enums[id as usize].name)
    }

    fn record_name(&self, id: u32) -> String {
        rust_name(&self.m.types.records[id as usize].name)
    }

    /// The Rust type of a spec type.
    pub(crate) fn rust_ty(&self, ty: &Ty) -> String {
        match ty {
            Ty::Bool => "bool".into(),
            Ty::Int | Ty::Range(..) | Ty::Sym(_) | Ty::OptSym(_) => "i64".into(),
            Ty::Enum(id) if Some(*id) == self.pid_enum => format!("{}Process", self.prefix),
            Ty::Enum(id) => format!("{}{}", self.prefix, self.enum_name(*id)),
            Ty::Record(id) => format!("{}{}", self.prefix, self.record_name(*id)),
            Ty::Array(_, e) | Ty::Seq(e, _) => format!("::std::vec::Vec<{}>", self.rust_ty(e)),
            Ty::Set(e) => format!("::std::collections::BTreeSet<{}>", self.rust_ty(e)),
        }
    }

    fn numbering(&mut self, elem: &Ty) -> usize {
        let key = format!("{elem:?}");
        let next = self.numbered.len();
        self.numbered.entry(key).or_insert((next, elem.clone())).0
    }

    /// An expression reading a value of `ty` from `s[at..]` (`s: &[i64]`),
    /// inside a function returning `Option`.
    fn read(&mut self, ty: &Ty, s: &str, at: &str) -> String {
        let types = &self.m.types;
        match ty {
            Ty::Bool => format!("({s}[{at}] != 0)"),
            Ty::Int | Ty::Range(..) | Ty::Sym(_) | Ty::OptSym(_) => format!("{s}[{at}]"),
            Ty::Enum(id) if Some(*id) == self.pid_enum => {
                format!("{}Process({s}[{at}])", self.prefix)
            }
            Ty::Enum(_) | Ty::Record(_) => {
                format!("{}::from_flat(&{s}[{at}..])?", self.rust_ty(ty))
            }
            Ty::Array(idx, e) => {
                let n = types.card(idx).unwrap_or(0);
                let len = types.flat_len(e);
                let inner = self.read(e, s, &format!("{at} + i * {len}"));
                format!(
                    "{{ let mut v = ::std::vec::Vec::new(); for i in 0..{n}usize {{ v.push({inner}); }} v }}"
                )
            }
            Ty::Seq(e, cap) => {
                let len = types.flat_len(e);
                let inner = self.read(e, s, &format!("{at} + 1 + i * {len}"));
                format!(
                    "{{ let n = {s}[{at}]; if !(0..={cap}).contains(&n) {{ return None; }} \
                     let mut v = ::std::vec::Vec::new(); for i in 0..n as usize {{ v.push({inner}); }} v }}"
                )
            }
            Ty::Set(e) => {
                let card = types.card(e).unwrap_or(0);
                let k = self.numbering(e);
                let inner = self.read(e, "x", "0");
                format!(
                    "{{ let mut v = ::std::collections::BTreeSet::new(); for i in 0..{card}usize {{ \
                     if {s}[{at} + i] != 0 {{ let x = {}value_at_{k}(i as i64); v.insert({inner}); }} }} v }}",
                    self.prefix
                )
            }
        }
    }

    /// Statements writing `*v` (`v: &T`) into `out[at..]`, whose slots
    /// already hold the type's default value.
    fn write(&mut self, ty: &Ty, v: &str, out: &str, at: &str) -> String {
        let types = &self.m.types;
        match ty {
            Ty::Bool => format!("{out}[{at}] = i64::from(*{v});"),
            Ty::Int | Ty::Range(..) | Ty::Sym(_) | Ty::OptSym(_) => format!("{out}[{at}] = *{v};"),
            Ty::Enum(id) if Some(*id) == self.pid_enum => format!("{out}[{at}] = {v}.0;"),
            Ty::Enum(_) | Ty::Record(_) => {
                let len = types.flat_len(ty);
                format!("{out}[{at}..{at} + {len}].copy_from_slice(&{v}.to_flat());")
            }
            Ty::Array(idx, e) => {
                let n = types.card(idx).unwrap_or(0);
                let len = types.flat_len(e);
                let inner = self.write(e, "x", out, &format!("{at} + i * {len}"));
                format!("for (i, x) in {v}.iter().enumerate().take({n}) {{ {inner} }}")
            }
            Ty::Seq(e, cap) => {
                let len = types.flat_len(e);
                let inner = self.write(e, "x", out, &format!("{at} + 1 + i * {len}"));
                format!(
                    "{out}[{at}] = {v}.len().min({cap}) as i64; \
                     for (i, x) in {v}.iter().enumerate().take({cap}) {{ {inner} }}"
                )
            }
            Ty::Set(e) => {
                let mut default = Vec::new();
                types.default_value(e, &mut default);
                let k = self.numbering(e);
                let inner = self.write(e, "x", "f", "0");
                format!(
                    "for x in {v}.iter() {{ let mut f = vec!{default:?}; {inner} \
                     if let Some(i) = {}index_of_{k}(&f) {{ {out}[{at} + i as usize] = 1; }} }}",
                    self.prefix
                )
            }
        }
    }

    /// The whole `pub mod types { ... }` of `spec.rs`; after every process's
    /// part, which may need its value numbering helpers.
    pub(crate) fn module(&mut self, g: &mut Gen<'_>) -> R<()> {
        let m = self.m;
        self.prefix = "";
        g.open("pub mod types {");
        g.line("//! The spec's values as Rust types, with their flat forms (see `fathom emit`'s docs).");
        g.line("#![allow(non_camel_case_types, clippy::all)]");
        g.line("use crate::prelude::*;");
        g.line("");
        g.line("/// A process instance (a node): its id, `spec::NODES[id]` names it.");
        g.line("#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]");
        g.line("pub struct Process(pub i64);");
        for (id, def) in m.types.enums.iter().enumerate() {
            let id = id as u32;
            if Some(id) == self.pid_enum {
                continue;
            }
            let name = self.enum_name(id);
            let ty = Ty::Enum(id);
            let len = m.types.flat_len(&ty);
            g.line("");
            g.line(format!("/// `type {}` of the spec.", def.name));
            if def.has_fields() {
                g.line("#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]");
            } else {
                g.line("#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]");
            }
            g.open(format!("pub enum {name} {{"));
            for v in &def.variants {
                if v.fields.is_empty() {
                    g.line(format!("{},", rust_name(&v.name)));
                } else {
                    let fields: Vec<String> = v
                        .fields
                        .iter()
                        .map(|(f, t)| format!("{}: {}", rust_name(f), self.rust_ty(t)))
                        .collect();
                    g.line(format!(
                        "{} {{ {} }},",
                        rust_name(&v.name),
                        fields.join(", ")
                    ));
                }
            }
            g.close();
            let mut default = Vec::new();
            m.types.default_value(&ty, &mut default);
            g.open(format!("impl {name} {{"));
            g.line(format!("pub const FLAT_LEN: usize = {len};"));
            g.line("/// From its flat slots; `None` if they are not a value of the type.");
            g.open("pub fn from_flat(s: &[i64]) -> Option<Self> {");
            g.line(format!("if s.len() < {len} {{ return None; }}"));
            g.open("Some(match s[0] {");
            for (t, v) in def.variants.iter().enumerate() {
                let base = m.types.variant_offset(id, t as u32);
                if v.fields.is_empty() {
                    g.line(format!("{t} => Self::{},", rust_name(&v.name)));
                } else {
                    let mut parts = Vec::new();
                    for (i, (f, fty)) in v.fields.iter().enumerate() {
                        let at = base + m.types.fields_offset(&v.fields, i);
                        parts.push(format!(
                            "{}: {}",
                            rust_name(f),
                            self.read(fty, "s", &at.to_string())
                        ));
                    }
                    g.line(format!(
                        "{t} => Self::{} {{ {} }},",
                        rust_name(&v.name),
                        parts.join(", ")
                    ));
                }
            }
            g.line("_ => return None,");
            g.depth -= 1;
            g.line("})");
            g.close();
            g.line("/// Its flat slots.");
            g.open("pub fn to_flat(&self) -> ::std::vec::Vec<i64> {");
            g.line(format!("let mut out = vec!{default:?};"));
            g.open("match self {");
            for (t, v) in def.variants.iter().enumerate() {
                let base = m.types.variant_offset(id, t as u32);
                if v.fields.is_empty() {
                    g.line(format!("Self::{} => out[0] = {t},", rust_name(&v.name)));
                    continue;
                }
                let names: Vec<String> = v.fields.iter().map(|(f, _)| rust_name(f)).collect();
                g.open(format!(
                    "Self::{} {{ {} }} => {{",
                    rust_name(&v.name),
                    names.join(", ")
                ));
                g.line(format!("out[0] = {t};"));
                for (i, (_, fty)) in v.fields.iter().enumerate() {
                    let at = base + m.types.fields_offset(&v.fields, i);
                    let w = self.write(fty, &names[i], "out", &at.to_string());
                    g.line(w);
                }
                g.close();
            }
            g.close();
            g.line("out");
            g.close();
            g.close();
        }
        for (id, def) in m.types.records.iter().enumerate() {
            let id = id as u32;
            let name = self.record_name(id);
            let ty = Ty::Record(id);
            let len = m.types.flat_len(&ty);
            g.line("");
            g.line(format!("/// `type {}` of the spec.", def.name));
            g.line("#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]");
            g.open(format!("pub struct {name} {{"));
            for (f, t) in &def.fields {
                g.line(format!("pub {}: {},", rust_name(f), self.rust_ty(t)));
            }
            g.close();
            let mut default = Vec::new();
            m.types.default_value(&ty, &mut default);
            g.open(format!("impl {name} {{"));
            g.line(format!("pub const FLAT_LEN: usize = {len};"));
            g.open("pub fn from_flat(s: &[i64]) -> Option<Self> {");
            g.line(format!("if s.len() < {len} {{ return None; }}"));
            let mut parts = Vec::new();
            for (i, (f, t)) in def.fields.iter().enumerate() {
                let at = m.types.fields_offset(&def.fields, i);
                parts.push(format!(
                    "{}: {}",
                    rust_name(f),
                    self.read(t, "s", &at.to_string())
                ));
            }
            g.line(format!("Some(Self {{ {} }})", parts.join(", ")));
            g.close();
            g.open("pub fn to_flat(&self) -> ::std::vec::Vec<i64> {");
            g.line(format!("let mut out = vec!{default:?};"));
            for (i, (f, t)) in def.fields.iter().enumerate() {
                let at = m.types.fields_offset(&def.fields, i);
                let w = self.write(
                    t,
                    &format!("(&self.{})", rust_name(f)),
                    "out",
                    &at.to_string(),
                );
                g.line(w);
            }
            g.line("out");
            g.close();
            g.close();
        }
        g.line("");
        g.line("impl Msg {");
        g.line("    /// The message's compact binary form: zigzag varints of its flat slots.");
        g.line("    pub fn encode(&self) -> ::std::vec::Vec<u8> {");
        g.line("        let mut out = ::std::vec::Vec::new();");
        g.line("        for v in self.to_flat() { put_varint(&mut out, v); }");
        g.line("        out");
        g.line("    }");
        g.line("    /// The inverse of `encode`; `None` for bytes that are not a message.");
        g.line("    pub fn decode(bytes: &[u8]) -> Option<Self> {");
        g.line("        let mut at = 0;");
        g.line("        let mut flat = ::std::vec::Vec::with_capacity(Self::FLAT_LEN);");
        g.line("        for _ in 0..Self::FLAT_LEN { flat.push(get_varint(bytes, &mut at)?); }");
        g.line("        if at != bytes.len() { return None; }");
        g.line("        Self::from_flat(&flat)");
        g.line("    }");
        g.line("}");
        // Value numbering for the element types of sets, in the flat form.
        let mut done = 0;
        while done < self.numbered.len() {
            let list: Vec<(usize, Ty)> = self.numbered.values().cloned().collect();
            for (k, ty) in list.into_iter().skip(done) {
                let len = m.types.flat_len(&ty);
                g.line("");
                g.line("#[allow(dead_code)]");
                g.open(format!(
                    "pub(crate) fn value_at_{k}(index: i64) -> ::std::vec::Vec<i64> {{"
                ));
                g.line(format!("let mut v = Slots::new({len});"));
                g.value_at(&ty, "index", "v", "0")?;
                g.line("v.0");
                g.close();
                g.line("#[allow(dead_code)]");
                g.open(format!(
                    "pub(crate) fn index_of_{k}(flat: &[i64]) -> Option<i64> {{"
                ));
                g.line("let v = Slots(flat.to_vec());");
                let (ok, ix) = g.value_index(&ty, "v", "0")?;
                g.line(format!("if {ok} {{ Some({ix}) }} else {{ None }}"));
                g.close();
                done += 1;
            }
        }
        g.close();
        Ok(())
    }

    /// In a process's module: `State` (its variables) and a typed call per
    /// `input`.
    pub(crate) fn process(&mut self, g: &mut Gen<'_>, p: &model::ir::Process) -> R<()> {
        let m = self.m;
        g.line("");
        g.line(format!("/// The variables of one `{}` node.", p.name));
        g.line("#[derive(Clone, Debug, PartialEq, Eq)]");
        g.open("pub struct State {");
        let mut vars = Vec::new();
        for (short, _, elem) in super::process_vars(m, p)? {
            g.line(format!("pub {}: {},", rust_name(short), self.rust_ty(elem)));
            vars.push((rust_name(short), elem.clone()));
        }
        g.close();
        g.open("impl State {");
        g.line("/// From the node's flat variables, in declaration order (`Handle::own_state`, a log line's `state`).");
        g.open("pub fn from_flat(s: &[i64]) -> Option<State> {");
        let mut at = 0u32;
        let mut parts = Vec::new();
        for (name, ty) in &vars {
            parts.push(format!("{name}: {}", self.read(ty, "s", &at.to_string())));
            at += m.types.flat_len(ty);
        }
        g.line(format!("if s.len() < {at} {{ return None; }}"));
        g.line(format!("Some(State {{ {} }})", parts.join(", ")));
        g.close();
        g.line("/// Its flat form, as `from_flat` takes it.");
        g.open("pub fn to_flat(&self) -> ::std::vec::Vec<i64> {");
        let mut default = Vec::new();
        for (_, ty) in &vars {
            m.types.default_value(ty, &mut default);
        }
        g.line(format!("let mut out = vec!{default:?};"));
        let mut at = 0u32;
        for (name, ty) in &vars {
            let w = self.write(ty, &format!("(&self.{name})"), "out", &at.to_string());
            g.line(w);
            at += m.types.flat_len(ty);
        }
        g.line("out");
        g.close();
        g.close();
        for &(r, kind) in &p.rules {
            if kind != model::ir::StepKind::Input {
                continue;
            }
            let rule = &m.rules[r];
            let short = rule.name.rsplit('.').next().unwrap_or(&rule.name);
            let params = &rule.params[1..];
            let args: Vec<String> = params
                .iter()
                .map(|p| format!("{}: {}", rust_name(&p.name), self.rust_ty(&p.ty)))
                .collect();
            g.line("");
            g.line(format!(
                "/// `input {short}` of `{}`: runs it on `node` once logged; `Ok(false)` when its guard is false.",
                p.name
            ));
            let fn_name = rust_name(&snake(short));
            let sep = if args.is_empty() { "" } else { ", " };
            g.open(format!(
                "pub fn {fn_name}(node: &crate::runtime::Handle{sep}{}) -> Result<bool, String> {{",
                args.join(", ")
            ));
            let mut default = Vec::new();
            for p in params {
                m.types.default_value(&p.ty, &mut default);
            }
            g.line(format!(
                "let mut flat: ::std::vec::Vec<i64> = vec!{default:?};"
            ));
            let mut at = 0u32;
            for p in params {
                let w = self.write(
                    &p.ty,
                    &format!("(&{})", rust_name(&p.name)),
                    "flat",
                    &at.to_string(),
                );
                g.line(w);
                at += p.len;
            }
            g.line(format!("node.input({short:?}, &flat)"));
            g.close();
        }
        Ok(())
    }
}
