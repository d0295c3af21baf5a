//! Huffman tables of JPEG (ITU-T T.81 Annex C and F.2.2.3): the canonical codes of a DHT
//! table in their decoding form (MAXCODE, MINCODE, VALPTR), with a lookup of the codes of up
//! to 8 bits. Shared by the 12-bit decoder ([`super::jpeg12`]) and the scan walk
//! ([`super::jpeg_scan`]).

/// One DC or AC table.
#[derive(Clone)]
pub(crate) struct Table {
    /// Largest code of each length (index 1–16), -1 when the length has none.
    maxcode: [i32; 17],
    /// First code of each length.
    mincode: [i32; 17],
    /// Index in `vals` of the first symbol of each length.
    valptr: [usize; 17],
    vals: Vec<u8>,
    /// For the next 8 bits: `length << 8 | symbol` of the code they start with, 0 when that
    /// code is longer.
    lut: [u16; 256],
}

impl Default for Table {
    /// A table without codes (every lookup fails).
    fn default() -> Table {
        Table::new(&[0; 16], Vec::new())
    }
}

impl Table {
    /// From the DHT code counts per length (1–16) and the symbols in code order.
    pub(crate) fn new(counts: &[u8; 16], vals: Vec<u8>) -> Table {
        let mut t = Table {
            maxcode: [-1; 17],
            mincode: [0; 17],
            valptr: [0; 17],
            vals,
            lut: [0; 256],
        };
        let (mut code, mut k) = (0i32, 0usize);
        for len in 1..=16 {
            let n = counts[len - 1] as usize;
            if n > 0 {
                t.valptr[len] = k;
                t.mincode[len] = code;
                if len <= 8 {
                    for i in 0..n {
                        let c = (code as usize + i) << (8 - len);
                        let Some(&sym) = t.vals.get(k + i) else { break };
                        if c + (1 << (8 - len)) > 256 {
                            break; // more codes than the length holds: left to the slow path
                        }
                        let e = (len as u16) << 8 | sym as u16;
                        t.lut[c..c + (1 << (8 - len))].fill(e);
                    }
                }
                code += n as i32;
                k += n;
                t.maxcode[len] = code - 1;
            }
            code <<= 1;
        }
        t
    }

    /// `(length, symbol)` of the code the 8 bits `next8` (most significant first) start with,
    /// `None` when that code is longer than 8 bits or does not exist.
    pub(crate) fn lookup8(&self, next8: u8) -> Option<(u32, u8)> {
        let e = self.lut[next8 as usize];
        (e != 0).then_some(((e >> 8) as u32, e as u8))
    }

    /// Decode one symbol bit by bit from `bit` (F.2.2.3): `None` when `bit` runs out,
    /// `Some(Err(()))` for a code no table entry has.
    pub(crate) fn decode(&self, mut bit: impl FnMut() -> Option<u32>) -> Option<Result<u8, ()>> {
        let mut code = 0i32;
        for len in 1..=16 {
            code = (code << 1) | bit()? as i32;
            if code <= self.maxcode[len] {
                // a malformed table (more codes than a length can hold) gives no symbol
                let k = code - self.mincode[len];
                return Some(if k < 0 {
                    Err(())
                } else {
                    self.vals
                        .get(self.valptr[len] + k as usize)
                        .copied()
                        .ok_or(())
                });
            }
        }
        Some(Err(()))
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    /// Two codes of length 2 (00, 01) and one of length 3 (100), as T.81 Annex C assigns them.
    #[test]
    fn canonical_codes_follow_t81_annex_c() {
        let mut counts = [0u8; 16];
        counts[1] = 2;
        counts[2] = 1;
        let t = Table::new(&counts, vec![7, 8, 9]);
        let decode = |bits: &[u32]| {
            let mut it = bits.iter().copied();
            t.decode(|| it.next())
        };
        assert_eq!(decode(&[0, 0]), Some(Ok(7)));
        assert_eq!(decode(&[0, 1]), Some(Ok(8)));
        assert_eq!(decode(&[1, 0, 0]), Some(Ok(9)));
        assert_eq!(decode(&[1, 1, 1]), None, "runs out of bits");
        assert_eq!(decode(&[1; 16]), Some(Err(())), "no such code");
        // the lookup agrees with the bit-by-bit decoding on every 8-bit prefix
        for b in 0..=255u8 {
            let bits: Vec<u32> = (0..8).rev().map(|i| (b >> i) as u32 & 1).collect();
            let mut it = bits.iter().copied();
            let mut used = 0;
            let slow = t.decode(|| {
                used += 1;
                it.next()
            });
            match t.lookup8(b) {
                Some((len, sym)) => assert_eq!((slow, used), (Some(Ok(sym)), len)),
                None => assert_ne!(slow.map(|r| r.is_ok()), Some(true), "{b:08b}"),
            }
        }
        assert!(Table::default().lookup8(0).is_none());
    }
}
