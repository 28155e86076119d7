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
                self.line(format!("let {ok} = ({v} == 0i || {v} == 1i);"));
                self.line(format!("let {ix} = {v};"));
            }
            Ty::Int => {
                self.line(format!("let {ok} = false;"));
                self.line(format!("let {ix} = 0i;"));
            }
            Ty::Range(lo, hi) => {
                let v = self.bind_tmp(&format!("{arr}[{base}]"));
                self.line(format!(
                    "let {ok} = ({v} >= {} && {v} <= {});",
                    lit(*lo)?,
                    lit(*hi)?
                ));
                self.line(format!("let {ix} = i32(u32({v}) - u32({}));", lit(*lo)?));
            }
            Ty::Enum(id) => {
                self.card_of(ty)?;
                let tag = self.bind_tmp(&format!("{arr}[{base}]"));
                self.line(format!("var {ok} = false;"));
                self.line(format!("var {ix} = 0i;"));
                let def = self.types().enums[*id as usize].clone();
                for (t, v) in def.variants.iter().enumerate() {
                    let (first, offset) = self.types().variant_base(*id, t as u32);
                    self.open(format!("if ({tag} == {t}i) {{"));
                    let (o, i) =
                        self.tuple_index(&v.fields, arr, &format!("{base} + {offset}i"))?;
                    self.line(format!("{ok} = {o};"));
                    self.line(format!("{ix} = {first}i + {i};"));
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
                self.line(format!("var {ok} = true;"));
                self.line(format!("var {ix} = 0i;"));
                self.open(format!("for (var j = 0i; j < {n}i; j++) {{"));
                let (o, i) = self.value_index(elem, arr, &format!("{base} + j * {len}i"))?;
                self.line(format!("{ok} = {ok} && {o};"));
                self.line(format!("{ix} = {ix} * {e}i + {i};"));
                self.close();
            }
            Ty::Set(elem) => {
                let n = self.card_of(elem)?;
                self.card_of(ty)?;
                self.line(format!("let {ok} = true;"));
                self.line(format!("var {ix} = 0i;"));
                self.line(format!(
                    "for (var j = {n}i - 1i; j >= 0i; j--) {{ {ix} = {ix} * 2i + i32({arr}[{base} + j] != 0i); }}"
                ));
            }
            Ty::Seq(elem, cap) => {
                let e = self.card_of(elem)?;
                self.card_of(ty)?;
                let stride = self.types().flat_len(elem);
                let n = self.bind_tmp(&format!("{arr}[{base}]"));
                self.line(format!("var {ok} = ({n} >= 0i && {n} <= {cap}i);"));
                self.line(format!("var {ix} = 0i;"));
                let count = self.bind_tmp(&format!("clamp({n}, 0i, {cap}i)"));
                // Shorter sequences come first: skip them, then number this one.
                self.line(format!(
                    "var power{ix} = 1i; for (var j = 0i; j < {count}; j++) {{ {ix} += power{ix}; power{ix} *= {e}i; }}"
                ));
                self.line(format!("var acc{ix} = 0i;"));
                self.open(format!("for (var j = 0i; j < {count}; j++) {{"));
                let (o, i) =
                    self.value_index(elem, arr, &format!("{base} + 1i + j * {stride}i"))?;
                self.line(format!("{ok} = {ok} && {o};"));
                self.line(format!("acc{ix} = acc{ix} * {e}i + {i};"));
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
        self.line(format!("var {ok} = true;"));
        self.line(format!("var {ix} = 0i;"));
        let mut offset = 0;
        for (_, t) in fields {
            let c = self.card_of(t)?;
            let (o, i) = self.value_index(t, arr, &format!("{base} + {offset}i"))?;
            self.line(format!("{ok} = {ok} && {o};"));
            self.line(format!("{ix} = {ix} * {c}i + {i};"));
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
                        "if ({index} >= {first}i && {index} < {}i) {{",
                        first + n
                    ));
                    self.line(format!("{arr}[{base}] = {t}i;"));
                    self.tuple_at(
                        &v.fields,
                        &format!("{index} - {first}i"),
                        arr,
                        &format!("{base} + {offset}i"),
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
                self.line(format!("var {rest} = {index};"));
                self.open(format!("for (var j = {n}i - 1i; j >= 0i; j--) {{"));
                self.value_at(
                    elem,
                    &format!("{rest} % {e}i"),
                    arr,
                    &format!("{base} + j * {len}i"),
                )?;
                self.line(format!("{rest} = {rest} / {e}i;"));
                self.close();
            }
            Ty::Set(elem) => {
                let n = self.card_of(elem)?;
                self.line(format!(
                    "for (var j = 0i; j < {n}i; j++) {{ {arr}[{base} + j] = ({index} >> u32(j)) & 1i; }}"
                ));
            }
            Ty::Seq(elem, cap) => {
                let e = self.card_of(elem)?;
                let stride = self.types().flat_len(elem);
                let mut filler = Vec::new();
                self.types().default_value(ty, &mut filler);
                self.write_default(arr, &base, &filler)?;
                let (rest, power, n) = (self.tmp(), self.tmp(), self.tmp());
                self.line(format!("var {rest} = {index};"));
                self.line(format!("var {power} = 1i;"));
                self.line(format!("var {n} = 0i;"));
                self.line(format!(
                    "loop {{ if ({n} >= {cap}i || {rest} < {power}) {{ break; }} {rest} -= {power}; {power} *= {e}i; {n}++; }}"
                ));
                self.line(format!("{arr}[{base}] = {n};"));
                self.open(format!("for (var j = {n} - 1i; j >= 0i; j--) {{"));
                self.value_at(
                    elem,
                    &format!("{rest} % {e}i"),
                    arr,
                    &format!("{base} + 1i + j * {stride}i"),
                )?;
                self.line(format!("{rest} = {rest} / {e}i;"));
                self.close();
            }
        }
        Ok(())
    }

    fn write_default(&mut self, arr: &str, base: &str, filler: &[i64]) -> R<()> {
        for (k, v) in filler.iter().enumerate() {
            self.line(format!("{arr}[{base} + {k}i] = {};", lit(*v)?));
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
        self.line(format!("var {rest} = {index};"));
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
                &format!("{rest} % {c}i"),
                arr,
                &format!("{base} + {}i", offsets[i]),
            )?;
            self.line(format!("{rest} = {rest} / {c}i;"));
        }
        Ok(())
    }
}
