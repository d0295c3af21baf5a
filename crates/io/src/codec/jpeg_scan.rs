//! Does every scan of a sequential Huffman JPEG code all of its blocks? A walk over the
//! entropy-coded data (ITU-T T.81 F.2.2: DC difference category and bits, AC run/size symbols
//! up to end-of-block) that counts the MCUs each scan codes, without dequantising or
//! transforming anything.
//!
//! [`super::jpeg_markers::check_complete`] catches a file cut short; this catches a scan cut
//! short and closed by a marker, e.g. a partial download or a recovered file that had an EOI
//! appended. The decoders behind `image` and `jpeg-decoder` (strict mode included) fill the
//! missing blocks with the last DC value and report nothing, so such a file would otherwise
//! become a silently wrong picture: half a fundus and a flat orange band.
//!
//! Checked: baseline and extended sequential Huffman frames (SOF0, SOF1), interleaved or not,
//! with or without restart intervals. Progressive, lossless, hierarchical and arithmetic-coded
//! frames, frames whose height comes in a DNL segment, and streams without Huffman tables (the
//! Motion-JPEG convention of implied standard tables) are not walked.

use super::huffman::Table;
use super::jpeg_markers::Defect;

/// Bits of entropy-coded data, stuffed zero bytes removed, read ahead into a 64-bit
/// accumulator (most significant bit first) up to the next marker or the end.
struct Bits<'a> {
    b: &'a [u8],
    /// The next byte not yet in the accumulator.
    pos: usize,
    acc: u64,
    /// Valid bits in `acc`.
    n: u32,
    /// A marker or the end stopped the read-ahead.
    stop: bool,
}

impl<'a> Bits<'a> {
    fn new(b: &'a [u8], pos: usize) -> Bits<'a> {
        Bits {
            b,
            pos: pos.min(b.len()),
            acc: 0,
            n: 0,
            stop: false,
        }
    }

    fn refill(&mut self) {
        while self.n <= 56 && !self.stop {
            let Some(&x) = self.b.get(self.pos) else {
                self.stop = true;
                break;
            };
            if x == 0xFF {
                if self.b.get(self.pos + 1) != Some(&0x00) {
                    self.stop = true;
                    break;
                }
                self.pos += 2;
            } else {
                self.pos += 1;
            }
            self.acc |= (x as u64) << (56 - self.n);
            self.n += 8;
        }
    }

    fn bit(&mut self) -> Option<u32> {
        if self.n == 0 {
            self.refill();
            if self.n == 0 {
                return None;
            }
        }
        let v = (self.acc >> 63) as u32;
        self.acc <<= 1;
        self.n -= 1;
        Some(v)
    }

    fn skip(&mut self, s: u32) -> Option<()> {
        if self.n < s {
            self.refill();
            if self.n < s {
                return None;
            }
        }
        self.acc = self.acc.checked_shl(s).unwrap_or(0);
        self.n -= s;
        Some(())
    }

    /// A symbol, `Err(())` for a code no table entry has.
    fn symbol(&mut self, t: &Table) -> Option<Result<u8, ()>> {
        if self.n < 16 {
            self.refill();
        }
        if self.n >= 8 {
            if let Some((len, sym)) = t.lookup8((self.acc >> 56) as u8) {
                self.acc <<= len;
                self.n -= len;
                return Some(Ok(sym));
            }
        }
        t.decode(|| self.bit())
    }

    /// Past the restart marker expected at a byte boundary (fill bytes allowed): the bits
    /// left before it are padding.
    fn restart(&mut self) -> bool {
        // the read-ahead stops at a marker, so what is left in the accumulator precedes it
        self.refill();
        if !self.stop {
            return false; // more than 8 bytes of data before any marker: no restart here
        }
        self.acc = 0;
        self.n = 0;
        while self.b.get(self.pos) == Some(&0xFF) && self.b.get(self.pos + 1) == Some(&0xFF) {
            self.pos += 1;
        }
        match (self.b.get(self.pos), self.b.get(self.pos + 1)) {
            (Some(0xFF), Some(0xD0..=0xD7)) => {
                self.pos += 2;
                self.stop = false;
                true
            }
            _ => false,
        }
    }
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
}

/// `Ok` when every scan codes all of its MCUs (or the stream is of a kind not walked);
/// `Truncated` when a scan's data ends early, `Invalid` for a code no table has.
pub(crate) fn check_scans(b: &[u8]) -> Result<(), Defect> {
    let mut dc: [Option<Table>; 4] = Default::default();
    let mut ac: [Option<Table>; 4] = Default::default();
    let mut frame: Option<(usize, usize, Vec<Component>)> = None;
    let mut interval = 0usize;
    let mut pos = 2;
    let mut scan = 0usize;
    while pos + 4 <= b.len() {
        if b[pos] != 0xFF {
            pos += 1;
            continue;
        }
        let m = b[pos + 1];
        if m == 0xFF || m == 0x00 || m == 0x01 || m == 0xD8 || (0xD0..=0xD7).contains(&m) {
            pos += if m == 0xFF { 1 } else { 2 };
            continue;
        }
        if m == 0xD9 {
            break;
        }
        let len = u16::from_be_bytes([b[pos + 2], b[pos + 3]]) as usize;
        let seg = &b[(pos + 4).min(b.len())..(pos + 2 + len).min(b.len())];
        pos += 2 + len;
        match m {
            0xC4 => {
                let mut p = 0;
                while p + 17 <= seg.len() {
                    let (class, id) = (seg[p] >> 4, (seg[p] & 15) as usize);
                    let counts: [u8; 16] = seg[p + 1..p + 17].try_into().expect("16");
                    let n: usize = counts.iter().map(|&c| c as usize).sum();
                    let Some(vals) = seg.get(p + 17..p + 17 + n) else {
                        return Err(Defect::Invalid("a Huffman table is cut short".into()));
                    };
                    if id < 4 {
                        let t = Some(Table::new(&counts, vals.to_vec()));
                        if class == 0 {
                            dc[id] = t;
                        } else {
                            ac[id] = t;
                        }
                    }
                    p += 17 + n;
                }
            }
            0xC0 | 0xC1 => {
                if seg.len() < 6 {
                    return Ok(());
                }
                let y = u16::from_be_bytes([seg[1], seg[2]]) as usize;
                let x = u16::from_be_bytes([seg[3], seg[4]]) as usize;
                let comps: Vec<Component> = seg[6..]
                    .chunks_exact(3)
                    .take(seg[5] as usize)
                    .map(|c| Component {
                        id: c[0],
                        h: (c[1] >> 4).max(1) as usize,
                        v: (c[1] & 15).max(1) as usize,
                    })
                    .collect();
                if y == 0 || x == 0 || comps.is_empty() {
                    return Ok(()); // DNL-sized or empty: not walked
                }
                frame = Some((x, y, comps));
            }
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return Ok(()),
            0xDD if seg.len() >= 2 => interval = u16::from_be_bytes([seg[0], seg[1]]) as usize,
            0xDA => {
                let Some((x, y, comps)) = &frame else {
                    return Ok(());
                };
                scan += 1;
                let ns = *seg.first().unwrap_or(&0) as usize;
                let mut sel = Vec::with_capacity(ns);
                for k in 0..ns {
                    let (Some(&cs), Some(&t)) = (seg.get(1 + 2 * k), seg.get(2 + 2 * k)) else {
                        return Err(Defect::Invalid("a scan header is cut short".into()));
                    };
                    let Some(c) = comps.iter().find(|c| c.id == cs) else {
                        return Err(Defect::Invalid(format!(
                            "scan {scan} names component {cs}, which the frame does not have"
                        )));
                    };
                    let (td, ta) = ((t >> 4) as usize, (t & 15) as usize);
                    match (dc.get(td), ac.get(ta)) {
                        (Some(Some(d)), Some(Some(a))) => sel.push((c, d, a)),
                        _ => return Ok(()), // implied (Motion-JPEG) tables: not walked
                    }
                }
                if sel.is_empty() {
                    return Ok(());
                }
                let hmax = comps.iter().map(|c| c.h).max().unwrap_or(1);
                let vmax = comps.iter().map(|c| c.v).max().unwrap_or(1);
                // MCUs and blocks per MCU of each scan component (A.2.2, A.2.3)
                let (mcus, per): (usize, Vec<usize>) = if sel.len() == 1 {
                    let c = sel[0].0;
                    let bw = (x * c.h).div_ceil(hmax).div_ceil(8);
                    let bh = (y * c.v).div_ceil(vmax).div_ceil(8);
                    (bw * bh, vec![1])
                } else {
                    let n = x.div_ceil(8 * hmax) * y.div_ceil(8 * vmax);
                    (n, sel.iter().map(|s| s.0.h * s.0.v).collect())
                };
                let mut bits = Bits::new(b, pos);
                let short = |done: usize| {
                    Err(Defect::Truncated(format!(
                        "scan {scan} of the JPEG data ends after {done} of its {mcus} minimum \
                         coded units: the rest of the picture is missing"
                    )))
                };
                let bad = || {
                    Err(Defect::Invalid(format!(
                        "scan {scan} of the JPEG data holds a code no Huffman table has"
                    )))
                };
                for mcu in 0..mcus {
                    if interval > 0 && mcu > 0 && mcu % interval == 0 && !bits.restart() {
                        return short(mcu);
                    }
                    for (k, &(_, d, a)) in sel.iter().enumerate() {
                        for _ in 0..per[k] {
                            let Some(s) = bits.symbol(d) else {
                                return short(mcu);
                            };
                            let Ok(s) = s else { return bad() };
                            if bits.skip(s as u32 & 31).is_none() {
                                return short(mcu);
                            }
                            let mut i = 1;
                            while i < 64 {
                                let Some(rs) = bits.symbol(a) else {
                                    return short(mcu);
                                };
                                let Ok(rs) = rs else { return bad() };
                                let (r, s) = ((rs >> 4) as usize, (rs & 15) as u32);
                                if s == 0 {
                                    if r != 15 {
                                        break;
                                    }
                                    i += 16;
                                } else {
                                    if bits.skip(s).is_none() {
                                        return short(mcu);
                                    }
                                    i += r + 1;
                                }
                            }
                        }
                    }
                }
                pos = bits.pos;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuffed_bytes_are_data_and_markers_end_it() {
        let data = [0xFF, 0x00, 0x80, 0xFF, 0xD9];
        let mut r = Bits::new(&data, 0);
        let got: Vec<u32> = std::iter::from_fn(|| r.bit()).collect();
        assert_eq!(got, [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    }
}
