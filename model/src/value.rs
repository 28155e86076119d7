//! Values decoded from flat slots, for traces and reports.

use crate::ir::{Ty, Types};

/// A decoded value; `Array` keeps its index values for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    /// A value of a symmetric type: its name and number (`Node#0`).
    Sym {
        ty: String,
        index: i64,
    },
    /// A variant: enum name, variant name, and named fields (empty if none).
    Variant {
        ty: String,
        name: String,
        fields: Vec<(String, Value)>,
    },
    Record(Vec<(String, Value)>),
    Array(Vec<(Value, Value)>),
    Set(Vec<Value>),
    Seq(Vec<Value>),
}

impl Value {
    pub fn decode(types: &Types, ty: &Ty, slots: &[i64]) -> Value {
        match ty {
            Ty::Bool => Value::Bool(slots[0] != 0),
            Ty::Int | Ty::Range(..) => Value::Int(slots[0]),
            Ty::Sym(id) => Value::Sym {
                ty: types.syms[*id as usize].name.clone(),
                index: slots[0],
            },
            // None: Murphi's undefined, the only source of this type.
            Ty::OptSym(id) if slots[0] < 0 => Value::Variant {
                ty: types.syms[*id as usize].name.clone(),
                name: "undefined".into(),
                fields: Vec::new(),
            },
            Ty::OptSym(id) => Value::Sym {
                ty: types.syms[*id as usize].name.clone(),
                index: slots[0],
            },
            Ty::Enum(id) => {
                let def = &types.enums[*id as usize];
                let tag = (slots[0].max(0) as usize).min(def.variants.len() - 1);
                let v = &def.variants[tag];
                let mut offset = types.variant_offset(*id, tag as u32) as usize;
                let mut fields = Vec::new();
                for (name, t) in &v.fields {
                    fields.push((name.clone(), Value::decode(types, t, &slots[offset..])));
                    offset += types.flat_len(t) as usize;
                }
                Value::Variant { ty: def.name.clone(), name: v.name.clone(), fields }
            }
            Ty::Record(id) => {
                let mut offset = 0;
                let mut fields = Vec::new();
                for (name, t) in &types.records[*id as usize].fields {
                    fields.push((name.clone(), Value::decode(types, t, &slots[offset..])));
                    offset += types.flat_len(t) as usize;
                }
                Value::Record(fields)
            }
            Ty::Array(index, elem) => {
                let n = types.card(index).unwrap_or(0);
                let stride = types.flat_len(elem) as usize;
                let mut key = vec![0i64; types.flat_len(index) as usize];
                (0..n)
                    .map(|i| {
                        types.value_at(index, i, &mut key);
                        let k = Value::decode(types, index, &key);
                        (k, Value::decode(types, elem, &slots[i as usize * stride..]))
                    })
                    .collect::<Vec<_>>()
                    .pipe(Value::Array)
            }
            Ty::Set(elem) => {
                let mut v = vec![0i64; types.flat_len(elem) as usize];
                let members = slots[..types.card(elem).unwrap_or(0) as usize]
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b != 0)
                    .map(|(i, _)| {
                        types.value_at(elem, i as u64, &mut v);
                        Value::decode(types, elem, &v)
                    })
                    .collect();
                Value::Set(members)
            }
            Ty::Seq(elem, _) => {
                let stride = types.flat_len(elem) as usize;
                let len = slots[0].max(0) as usize;
                Value::Seq(
                    (0..len)
                        .map(|i| Value::decode(types, elem, &slots[1 + i * stride..]))
                        .collect(),
                )
            }
        }
    }
}

trait Pipe: Sized {
    fn pipe<R>(self, f: impl FnOnce(Self) -> R) -> R {
        f(self)
    }
}
impl<T> Pipe for T {}

impl std::fmt::Display for Value {
    /// Spec syntax: `{a, b}`, `[1, 2]`, `Prepared { rm: 1 }`, `[0: x, 1: y]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn list<T>(
            f: &mut std::fmt::Formatter<'_>,
            items: &[T],
            each: impl Fn(&mut std::fmt::Formatter<'_>, &T) -> std::fmt::Result,
        ) -> std::fmt::Result {
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                each(f, x)?;
            }
            Ok(())
        }
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Sym { ty, index } => write!(f, "{ty}#{index}"),
            Value::Variant { name, fields, .. } => {
                write!(f, "{name}")?;
                if !fields.is_empty() {
                    write!(f, " {{ ")?;
                    list(f, fields, |f, (n, v)| write!(f, "{n}: {v}"))?;
                    write!(f, " }}")?;
                }
                Ok(())
            }
            Value::Record(fields) => {
                write!(f, "{{ ")?;
                list(f, fields, |f, (n, v)| write!(f, "{n}: {v}"))?;
                write!(f, " }}")
            }
            Value::Array(items) => {
                write!(f, "[")?;
                list(f, items, |f, (k, v)| write!(f, "{k}: {v}"))?;
                write!(f, "]")
            }
            Value::Set(items) => {
                write!(f, "{{")?;
                list(f, items, |f, v| write!(f, "{v}"))?;
                write!(f, "}}")
            }
            Value::Seq(items) => {
                write!(f, "<<")?;
                list(f, items, |f, v| write!(f, "{v}"))?;
                write!(f, ">>")
            }
        }
    }
}
