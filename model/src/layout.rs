//! The packed state layout: every slot of a flat state in a fixed bit field
//! of a fixed u32 word.
//!
//! A slot with bounds `lo..=hi` takes `ceil(log2(hi - lo + 1))` bits and
//! stores `value - lo`. Slots are placed in order; a slot that would straddle
//! a word boundary starts the next word, so every field is read with one
//! shift and mask (on the CPU and in WGSL alike). Unused bits are zero, and
//! every value has exactly one flat form, so equal states are equal words.

/// Where one slot lives in the packed words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotField {
    pub word: u32,
    pub shift: u32,
    pub bits: u32,
    pub lo: i64,
}

#[derive(Clone, Debug)]
pub struct Layout {
    pub fields: Vec<SlotField>,
    /// Words per packed state (at least 1).
    pub words: u32,
}

impl Layout {
    /// Builds the layout from per-slot bounds; each must span < 2^32 values.
    pub fn new(bounds: &[(i64, i64)]) -> Layout {
        let mut fields = Vec::with_capacity(bounds.len());
        let (mut word, mut used) = (0u32, 0u32);
        for &(lo, hi) in bounds {
            assert!(hi >= lo, "slot bounds are non-empty");
            let span = (hi - lo) as u64;
            assert!(span < 1 << 32, "slot spans fewer than 2^32 values");
            let bits = 64 - span.leading_zeros();
            if bits == 0 {
                // A one-value slot is always 0: it takes no bits, and at
                // shift 0 it needs no shift past a full word's 31.
                fields.push(SlotField { word: 0, shift: 0, bits, lo });
                continue;
            }
            if used + bits > 32 {
                word += 1;
                used = 0;
            }
            fields.push(SlotField { word, shift: used, bits, lo });
            used += bits;
        }
        let words = if used == 0 && word > 0 {
            word
        } else {
            word + 1
        };
        // Every field is read with one shift and mask, in the state's words.
        for f in &fields {
            assert!(
                f.shift + f.bits <= 32 && f.word < words,
                "a field lies in one word"
            );
        }
        Layout { fields, words }
    }

    /// Packs a flat state; every slot must be within its bounds.
    pub fn pack(&self, slots: &[i64], out: &mut [u32]) {
        debug_assert_eq!(slots.len(), self.fields.len());
        debug_assert_eq!(out.len(), self.words as usize);
        out.fill(0);
        for (f, &v) in self.fields.iter().zip(slots) {
            let raw = (v - f.lo) as u64;
            debug_assert!(
                f.bits == 32 || raw < 1 << f.bits,
                "slot value within its bits"
            );
            out[f.word as usize] |= (raw as u32) << f.shift;
        }
    }

    /// Rewrites one slot's field in packed words (the value within bounds).
    #[inline]
    pub fn set(&self, words: &mut [u32], slot: usize, value: i64) {
        let f = self.fields[slot];
        let raw = (value - f.lo) as u32;
        let mask = if f.bits == 32 {
            u32::MAX
        } else {
            (1u32 << f.bits) - 1
        };
        debug_assert!(raw & !mask == 0, "slot value within its bits");
        let w = &mut words[f.word as usize];
        *w = (*w & !(mask << f.shift)) | (raw << f.shift);
    }

    /// Packs `slots` given the packed form of a state that differs from
    /// them only in the `dirty` (first, count) ranges: the successor of a
    /// state costs what its rule wrote, not the whole state.
    pub fn repack(&self, parent: &[u32], slots: &[i64], dirty: &[(u32, u32)], out: &mut [u32]) {
        out.copy_from_slice(parent);
        for &(first, count) in dirty {
            let range = first as usize..(first + count) as usize;
            for (i, &v) in range.clone().zip(&slots[range]) {
                self.set(out, i, v);
            }
        }
    }

    pub fn unpack(&self, words: &[u32], out: &mut [i64]) {
        debug_assert_eq!(out.len(), self.fields.len());
        for (f, slot) in self.fields.iter().zip(out.iter_mut()) {
            let w = words[f.word as usize] >> f.shift;
            let raw = if f.bits == 32 {
                w
            } else {
                w & ((1u32 << f.bits) - 1)
            };
            *slot = f.lo + raw as i64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_no_straddling() {
        let bounds = [
            (0, 1),
            (-3, 4),
            (0, 0),
            (10, 10 + (1 << 31)),
            (0, 255),
            (5, 6),
        ];
        let layout = Layout::new(&bounds);
        for f in &layout.fields {
            assert!(f.shift + f.bits <= 32);
        }
        let slots = [1, -2, 0, 10 + (1 << 31) - 7, 200, 6];
        let mut words = vec![0; layout.words as usize];
        layout.pack(&slots, &mut words);
        let mut back = [0i64; 6];
        layout.unpack(&words, &mut back);
        assert_eq!(slots, back);

        let changed = [0, -3, 0, 10, 7, 5];
        let mut full = vec![0; layout.words as usize];
        layout.pack(&changed, &mut full);
        let mut patched = vec![0; layout.words as usize];
        let mut next = slots;
        next[1] = -3;
        next[3] = 10;
        next[4] = 7;
        next[0] = 0;
        next[5] = 5;
        layout.repack(&words, &next, &[(0, 2), (3, 3)], &mut patched);
        assert_eq!(patched, full);
    }

    /// A one-value slot right after a full word (kv_store with one
    /// client): no shift by 32 anywhere.
    #[test]
    fn one_value_slot_after_a_full_word() {
        let bounds = [(0, (1i64 << 32) - 1), (0, 0), (3, 3), (0, 1)];
        let layout = Layout::new(&bounds);
        for f in &layout.fields {
            assert!(f.shift < 32, "{f:?}");
        }
        let slots = [123_456, 0, 3, 1];
        let mut words = vec![0; layout.words as usize];
        layout.pack(&slots, &mut words);
        let mut back = [0i64; 4];
        layout.unpack(&words, &mut back);
        assert_eq!(slots, back);
        layout.set(&mut words, 2, 3);
        layout.unpack(&words, &mut back);
        assert_eq!(slots, back);
    }
}
