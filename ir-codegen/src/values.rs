//! Value numbering: a flat value's position among its type's values (set
//! membership, network bags) and the inverse (rule parameters, quantifier
//! domains), as `model::ir::Types::{value_index, value_at}`.

use model::ir::Ty;

use super::{Dialect, Gen, R, Unsupported};

impl<D: Dialect> Gen<'_, D> {
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
    pub fn value_index(&mut self, ty: &Ty, arr: &str, base: &str) -> R<(String, String)> {
        let ok = self.tmp();
        let ix = self.tmp();
        let (zero, one) = (self.num(0u32), self.num(1u32));
        match ty {
            Ty::Bool => {
                let v = self.bind_tmp(&format!("{arr}[{base}]"));
                self.line(format!("let {ok} = ({v} == {zero} || {v} == {one});"));
                self.line(format!("let {ix} = {v};"));
            }
            Ty::Int => {
                self.line(format!("let {ok} = false;"));
                self.line(format!("let {ix} = {zero};"));
            }
            Ty::Range(..) | Ty::Sym(_) | Ty::OptSym(_) => {
                let (lo, hi) = self.types().int_bounds(ty).unwrap_or((0, 0));
                let v = self.bind_tmp(&format!("{arr}[{base}]"));
                let (l, h) = (self.lit(lo)?, self.lit(hi)?);
                self.line(format!("let {ok} = ({v} >= {l} && {v} <= {h});"));
                self.line(format!("let {ix} = {};", self.d.diff(&v, &l)));
            }
            Ty::Enum(id) => {
                self.card_of(ty)?;
                let tag = self.bind_tmp(&format!("{arr}[{base}]"));
                self.line(self.d.var(&ok, "false"));
                self.line(self.d.var(&ix, &zero));
                let def = self.types().enums[*id as usize].clone();
                for (t, v) in def.variants.iter().enumerate() {
                    let (first, offset) = self.types().variant_base(*id, t as u32);
                    self.open(format!("if ({tag} == {}) {{", self.num(t as u64)));
                    let at = format!("{base} + {}", self.num(offset));
                    let (o, i) = self.tuple_index(&v.fields, arr, &at)?;
                    self.line(format!("{ok} = {o};"));
                    self.line(format!("{ix} = {} + {i};", self.num(first)));
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
                self.line(self.d.var(&ok, "true"));
                self.line(self.d.var(&ix, &zero));
                self.open(self.d.for_range("j", &zero, &self.num(n)));
                let at = format!("{base} + j * {}", self.num(len));
                let (o, i) = self.value_index(elem, arr, &at)?;
                self.line(format!("{ok} = {ok} && {o};"));
                self.line(format!("{ix} = {ix} * {} + {i};", self.num(e)));
                self.close();
            }
            Ty::Set(elem) => {
                let n = self.card_of(elem)?;
                self.card_of(ty)?;
                self.line(format!("let {ok} = true;"));
                self.line(self.d.var(&ix, &zero));
                let head = self.d.for_down("j", &self.num(n));
                let bit = self.d.int_of(&format!("{arr}[{base} + j] != {zero}"));
                self.line(format!(
                    "{head} {ix} = {ix} * {} + {bit}; }}",
                    self.num(2u32)
                ));
            }
            Ty::Seq(elem, cap) => {
                let e = self.card_of(elem)?;
                self.card_of(ty)?;
                let stride = self.types().flat_len(elem);
                let n = self.bind_tmp(&format!("{arr}[{base}]"));
                let cap = self.num(*cap);
                self.line(self.d.var(&ok, &format!("({n} >= {zero} && {n} <= {cap})")));
                self.line(self.d.var(&ix, &zero));
                let count = self.bind_tmp(&format!("clamp({n}, {zero}, {cap})"));
                // Shorter sequences come first: skip them, then number this one.
                let power = format!("power{ix}");
                self.line(self.d.var(&power, &one));
                let head = self.d.for_range("j", &zero, &count);
                self.line(format!(
                    "{head} {ix} += {power}; {power} *= {}; }}",
                    self.num(e)
                ));
                let acc = format!("acc{ix}");
                self.line(self.d.var(&acc, &zero));
                self.open(self.d.for_range("j", &zero, &count));
                let at = format!("{base} + {one} + j * {}", self.num(stride));
                let (o, i) = self.value_index(elem, arr, &at)?;
                self.line(format!("{ok} = {ok} && {o};"));
                self.line(format!("{acc} = {acc} * {} + {i};", self.num(e)));
                self.close();
                self.line(format!("{ix} += {acc};"));
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
        self.line(self.d.var(&ok, "true"));
        self.line(self.d.var(&ix, &self.num(0u32)));
        let mut offset = 0;
        for (_, t) in fields {
            let c = self.card_of(t)?;
            let at = format!("{base} + {}", self.num(offset));
            let (o, i) = self.value_index(t, arr, &at)?;
            self.line(format!("{ok} = {ok} && {o};"));
            self.line(format!("{ix} = {ix} * {} + {i};", self.num(c)));
            offset += self.types().flat_len(t);
        }
        Ok((ok, ix))
    }

    /// Writes the value numbered `index` (an expression below the type's
    /// cardinality) at `arr[base..]`.
    pub fn value_at(&mut self, ty: &Ty, index: &str, arr: &str, base: &str) -> R<()> {
        let index = self.bind_tmp(index);
        let base = self.bind_tmp(base);
        let (zero, one) = (self.num(0u32), self.num(1u32));
        match ty {
            Ty::Bool | Ty::Int | Ty::Sym(_) => self.line(format!("{arr}[{base}] = {index};")),
            Ty::Range(..) | Ty::OptSym(_) => {
                let (lo, _) = self.types().int_bounds(ty).unwrap_or((0, 0));
                let lo = self.lit(lo)?;
                self.line(format!("{arr}[{base}] = {lo} + {index};"))
            }
            Ty::Enum(id) => {
                self.card_of(ty)?;
                let mut filler = Vec::new();
                self.types().default_value(ty, &mut filler);
                self.write_default(arr, &base, &filler)?;
                let def = self.types().enums[*id as usize].clone();
                for (t, v) in def.variants.iter().enumerate() {
                    let (first, offset) = self.types().variant_base(*id, t as u32);
                    let n = self.product(&v.fields)?;
                    let (f, end) = (self.num(first), self.num(first + n));
                    self.open(format!("if ({index} >= {f} && {index} < {end}) {{"));
                    self.line(format!("{arr}[{base}] = {};", self.num(t as u64)));
                    let at = format!("{base} + {}", self.num(offset));
                    self.tuple_at(&v.fields, &format!("{index} - {f}"), arr, &at)?;
                    self.close();
                }
            }
            Ty::Record(id) => {
                let fields = self.types().records[*id as usize].fields.clone();
                self.tuple_at(&fields, &index, arr, &base)?;
            }
            Ty::Array(idx, elem) => {
                let n = self.card_of(idx)?;
                let e = self.num(self.card_of(elem)?);
                let len = self.types().flat_len(elem);
                let rest = self.tmp();
                self.line(self.d.var(&rest, &index));
                self.open(self.d.for_down("j", &self.num(n)));
                let at = format!("{base} + j * {}", self.num(len));
                self.value_at(elem, &format!("{rest} % {e}"), arr, &at)?;
                self.line(format!("{rest} = {rest} / {e};"));
                self.close();
            }
            Ty::Set(elem) => {
                let n = self.card_of(elem)?;
                let head = self.d.for_range("j", &zero, &self.num(n));
                let bit = self.d.bit_of(&index, "j");
                self.line(format!("{head} {arr}[{base} + j] = {bit}; }}"));
            }
            Ty::Seq(elem, cap) => {
                let e = self.num(self.card_of(elem)?);
                let stride = self.types().flat_len(elem);
                let mut filler = Vec::new();
                self.types().default_value(ty, &mut filler);
                self.write_default(arr, &base, &filler)?;
                let (rest, power, n) = (self.tmp(), self.tmp(), self.tmp());
                self.line(self.d.var(&rest, &index));
                self.line(self.d.var(&power, &one));
                self.line(self.d.var(&n, &zero));
                self.line(format!(
                    "loop {{ if ({n} >= {} || {rest} < {power}) {{ break; }} {rest} -= {power}; {power} *= {e}; {} }}",
                    self.num(*cap),
                    self.d.incr(&n)
                ));
                self.line(format!("{arr}[{base}] = {n};"));
                self.open(self.d.for_down("j", &n));
                let at = format!("{base} + {one} + j * {}", self.num(stride));
                self.value_at(elem, &format!("{rest} % {e}"), arr, &at)?;
                self.line(format!("{rest} = {rest} / {e};"));
                self.close();
            }
        }
        Ok(())
    }

    fn write_default(&mut self, arr: &str, base: &str, filler: &[i64]) -> R<()> {
        for (k, v) in filler.iter().enumerate() {
            let v = self.lit(*v)?;
            self.line(format!("{arr}[{base} + {}] = {v};", self.num(k as u64)));
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
        self.line(self.d.var(&rest, index));
        let mut offsets = Vec::with_capacity(fields.len());
        let mut offset = 0;
        for (_, t) in fields {
            offsets.push(offset);
            offset += self.types().flat_len(t);
        }
        for (i, (_, t)) in fields.iter().enumerate().rev() {
            let c = self.num(self.card_of(t)?);
            let at = format!("{base} + {}", self.num(offsets[i]));
            self.value_at(t, &format!("{rest} % {c}"), arr, &at)?;
            self.line(format!("{rest} = {rest} / {c};"));
        }
        Ok(())
    }
}
