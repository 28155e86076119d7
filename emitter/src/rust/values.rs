//! Value numbering in WGSL: a flat value's position among its type's values
//! (set membership, network bags) and the inverse (rule parameters,
//! quantifier domains), as `model::ir::Types::{value_index, value_at}`.

use model::ir::Ty;

use super::expr::lit;
use super::{Gen, R, Unsupported};

impl Gen<'_> {
    fn card_of(&self, ty: &Ty) -> R<u64> {
        self.types().card(ty).ok_or_else(|| {
            Unsupported::Other(format!(
                "numbering the values of `{}`, which has too many",
                self.types().name(ty)
            ))
        })
    }

    /// (ok, index) of the flat value at `arr[base..]` among the values of
    /// `ty`; ok is false when some slot is outside its type.
    pub(crate) fn value_index(&mut self, ty: &Ty, arr: &str, base: &str) -> R<(String, String)> {
        let ok = self.tmp();
        let ix = self.tmp();
        match ty {
            Ty::Bool => {
                let v = self.bind_tmp(&format!("{arr}[{base}]"));
                self.line(format!("let {ok} = ({v} == 0 || {v} == 1);"));
                self.line(format!("let {ix} = {v};"));
            }
            Ty::Int => {
                self.line(format!("let {ok} = false;"));
                self.line(format!("let {ix} = 0;"));
            }
            Ty::Range(lo, hi) => {
                let v = self.bind_tmp(&format!("{arr}[{base}]"));
                self.line(format!(
                    "let {ok} = ({v} >= {} && {v} <= {});",
                    lit(*lo)?,
                    lit(*hi)?
                ));
                self.line(format!("let {ix} = ({v} - {});", lit(*lo)?));
            }
            Ty::Enum(id) => {
                self.card_of(ty)?;
                let tag = self.bind_tmp(&format!("{arr}[{base}]"));
                self.line(format!("let mut {ok} = false;"));
                self.line(format!("let mut {ix} = 0;"));
                let def = self.types().enums[*id as usize].clone();
                for (t, v) in def.variants.iter().enumerate() {
                    let (first, offset) = self.types().variant_base(*id, t as u32);
                    self.open(format!("if ({tag} == {t}) {{"));
                    let (o, i) = self.tuple_index(&v.fields, arr, &format!("{base} + {offset}"))?;
                    self.line(format!("{ok} = {o};"));
                    self.line(format!("{ix} = {first} + {i};"));
                    self.close();
                }
            }
            Ty::Record(id) => {
                let fields = self.types().records[*id as usize].fields.clone();
                let (o, i) = self.tuple_index(&fields, arr, base)?;
                self.line(format!("let {ok} = {o};"));
                self.line(format!("let {ix} = {i};"));
            }
            Ty::Array(index, elem) => {
                let n = self.card_of(index)?;
                let e = self.card_of(elem)?;
                self.card_of(ty)?;
                let len = self.types().flat_len(elem);
                self.line(format!("let mut {ok} = true;"));
                self.line(format!("let mut {ix} = 0;"));
                self.open(format!("for j in 0..{n} {{"));
                let (o, i) = self.value_index(elem, arr, &format!("{base} + j * {len}"))?;
                self.line(format!("{ok} = {ok} && {o};"));
                self.line(format!("{ix} = {ix} * {e} + {i};"));
                self.close();
            }
            Ty::Set(elem) => {
                let n = self.card_of(elem)?;
                self.card_of(ty)?;
                self.line(format!("let {ok} = true;"));
                self.line(format!("let mut {ix} = 0;"));
                self.line(format!(
                    "for j in (0..{n}).rev() {{ {ix} = {ix} * 2 + b({arr}[{base} + j] != 0); }}"
                ));
            }
            Ty::Seq(elem, cap) => {
                let e = self.card_of(elem)?;
                self.card_of(ty)?;
                let stride = self.types().flat_len(elem);
                let n = self.bind_tmp(&format!("{arr}[{base}]"));
                self.line(format!("let mut {ok} = ({n} >= 0 && {n} <= {cap});"));
                self.line(format!("let mut {ix} = 0;"));
                let count = self.bind_tmp(&format!("clamp({n}, 0, {cap})"));
                // Shorter sequences come first: skip them, then number this one.
                self.line(format!(
                    "let mut power{ix} = 1; for j in 0..{count} {{ {ix} += power{ix}; power{ix} *= {e}; }}"
                ));
                self.line(format!("let mut acc{ix} = 0;"));
                self.open(format!("for j in 0..{count} {{"));
                let (o, i) = self.value_index(elem, arr, &format!("{base} + 1 + j * {stride}"))?;
                self.line(format!("{ok} = {ok} && {o};"));
                self.line(format!("acc{ix} = acc{ix} * {e} + {i};"));
                self.close();
                self.line(format!("{ix} += acc{ix};"));
            }
        }
        Ok((ok, ix))
    }

    fn tuple_index(
        &mut self,
        fields: &[(String, Ty)],
        arr: &str,
        base: &str,
    ) -> R<(String, String)> {
        let ok = self.tmp();
        let ix = self.tmp();
        self.line(format!("let mut {ok} = true;"));
        self.line(format!("let mut {ix} = 0;"));
        let mut offset = 0;
        for (_, t) in fields {
            let c = self.card_of(t)?;
            let (o, i) = self.value_index(t, arr, &format!("{base} + {offset}"))?;
            self.line(format!("{ok} = {ok} && {o};"));
            self.line(format!("{ix} = {ix} * {c} + {i};"));
            offset += self.types().flat_len(t);
        }
        Ok((ok, ix))
    }

    /// Writes the value numbered `index` (an i32 expression below the
    /// type's cardinality) at `arr[base..]`.
    pub(crate) fn value_at(&mut self, ty: &Ty, index: &str, arr: &str, base: &str) -> R<()> {
        let index = self.bind_tmp(index);
        let base = self.bind_tmp(base);
        match ty {
            Ty::Bool | Ty::Int => self.line(format!("{arr}[{base}] = {index};")),
            Ty::Range(lo, _) => self.line(format!("{arr}[{base}] = {} + {index};", lit(*lo)?)),
            Ty::Enum(id) => {
                self.card_of(ty)?;
                let mut filler = Vec::new();
                self.types().default_value(ty, &mut filler);
                self.write_default(arr, &base, &filler)?;
                let def = self.types().enums[*id as usize].clone();
                for (t, v) in def.variants.iter().enumerate() {
                    let (first, offset) = self.types().variant_base(*id, t as u32);
                    let n = self.product(&v.fields)?;
                    self.open(format!(
                        "if ({index} >= {first} && {index} < {}) {{",
                        first + n
                    ));
                    self.line(format!("{arr}[{base}] = {t};"));
                    self.tuple_at(
                        &v.fields,
                        &format!("{index} - {first}"),
                        arr,
                        &format!("{base} + {offset}"),
                    )?;
                    self.close();
                }
            }
            Ty::Record(id) => {
                let fields = self.types().records[*id as usize].fields.clone();
                self.tuple_at(&fields, &index, arr, &base)?;
            }
            Ty::Array(idx, elem) => {
                let n = self.card_of(idx)?;
                let e = self.card_of(elem)?;
                let len = self.types().flat_len(elem);
                let rest = self.tmp();
                self.line(format!("let mut {rest} = {index};"));
                self.open(format!("for j in (0..{n}).rev() {{"));
                self.value_at(
                    elem,
                    &format!("{rest} % {e}"),
                    arr,
                    &format!("{base} + j * {len}"),
                )?;
                self.line(format!("{rest} = {rest} / {e};"));
                self.close();
            }
            Ty::Set(elem) => {
                let n = self.card_of(elem)?;
                self.line(format!(
                    "for j in 0..{n} {{ {arr}[{base} + j] = ({index} >> j) & 1; }}"
                ));
            }
            Ty::Seq(elem, cap) => {
                let e = self.card_of(elem)?;
                let stride = self.types().flat_len(elem);
                let mut filler = Vec::new();
                self.types().default_value(ty, &mut filler);
                self.write_default(arr, &base, &filler)?;
                let (rest, power, n) = (self.tmp(), self.tmp(), self.tmp());
                self.line(format!("let mut {rest} = {index};"));
                self.line(format!("let mut {power} = 1;"));
                self.line(format!("let mut {n} = 0;"));
                self.line(format!(
                    "loop {{ if ({n} >= {cap} || {rest} < {power}) {{ break; }} {rest} -= {power}; {power} *= {e}; {n} += 1; }}"
                ));
                self.line(format!("{arr}[{base}] = {n};"));
                self.open(format!("for j in (0..{n}).rev() {{"));
                self.value_at(
                    elem,
                    &format!("{rest} % {e}"),
                    arr,
                    &format!("{base} + 1 + j * {stride}"),
                )?;
                self.line(format!("{rest} = {rest} / {e};"));
                self.close();
            }
        }
        Ok(())
    }

    fn write_default(&mut self, arr: &str, base: &str, filler: &[i64]) -> R<()> {
        for (k, v) in filler.iter().enumerate() {
            self.line(format!("{arr}[{base} + {k}] = {};", lit(*v)?));
        }
        Ok(())
    }

    fn product(&self, fields: &[(String, Ty)]) -> R<u64> {
        let mut total: u64 = 1;
        for (_, t) in fields {
            total = total.saturating_mul(self.card_of(t)?);
        }
        Ok(total)
    }

    fn tuple_at(&mut self, fields: &[(String, Ty)], index: &str, arr: &str, base: &str) -> R<()> {
        let rest = self.tmp();
        self.line(format!("let mut {rest} = {index};"));
        let mut offsets = Vec::with_capacity(fields.len());
        let mut offset = 0;
        for (_, t) in fields {
            offsets.push(offset);
            offset += self.types().flat_len(t);
        }
        for (i, (_, t)) in fields.iter().enumerate().rev() {
            let c = self.card_of(t)?;
            self.value_at(
                t,
                &format!("{rest} % {c}"),
                arr,
                &format!("{base} + {}", offsets[i]),
            )?;
            self.line(format!("{rest} = {rest} / {c};"));
        }
        Ok(())
    }
}
