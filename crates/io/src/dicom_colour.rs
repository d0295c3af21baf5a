//! Colour in DICOM: PALETTE COLOR lookup tables (plain and segmented), YBR_FULL → RGB and the
//! native (uncompressed) YBR_FULL_422 layout.
//!
//! - Palette (PS3.3 C.7.6.3.1.5–6, C.7.9): the Red/Green/Blue Palette Color Lookup Table
//!   Descriptors give `[entries (0 = 65536), first mapped value, bits per entry (8 or 16)]`;
//!   stored values below the first mapped value take entry 0, above the last take the last
//!   entry. LUT data is 16-bit words, or 8-bit entries packed two to a word (told apart by the
//!   data length, as pydicom does). Segmented LUTs (C.7.9.2) are expanded: discrete segments
//!   copy their values, linear segments ramp from the previous value to the end value
//!   (`y0 + (y1 − y0)·k/n`, k = 1…n, rounded half to even like numpy), indirect segments replay
//!   earlier segments (offset in words, low word first). Expansion is bounded (65,536 entries,
//!   nesting depth 4) so hostile tables cannot loop.
//! - YBR_FULL (C.7.6.3.1.2): full-range ITU-R BT.601 with chroma offset `2^(bits−1)`:
//!   `R = Y + 1.402·Cr'`, `G = Y − 0.114·1.772/0.587·Cb' − 0.299·1.402/0.587·Cr'`,
//!   `B = Y + 1.772·Cb'` — the matrix pydicom applies. Kept in floating point here (no rounding).
//! - YBR_FULL_422 in a native transfer syntax stores each horizontal pixel pair as
//!   `Y1 Y2 Cb Cr`; it is expanded to full YBR by repeating the chroma pair.
//!
//! Output colour is *encoded* (display) values scaled to `[0, 1]`: DICOM colour images carry
//! device RGB, which artefact treats as sRGB-encoded like a photograph.

use dicom_core::Tag;
use dicom_object::InMemDicomObject;

/// Palette Color Lookup Table Descriptor / Data / Segmented Data tags (red, green, blue).
const DESCRIPTORS: [Tag; 3] = [
    Tag(0x0028, 0x1101),
    Tag(0x0028, 0x1102),
    Tag(0x0028, 0x1103),
];
const DATA: [Tag; 3] = [
    Tag(0x0028, 0x1201),
    Tag(0x0028, 0x1202),
    Tag(0x0028, 0x1203),
];
const SEGMENTED: [Tag; 3] = [
    Tag(0x0028, 0x1221),
    Tag(0x0028, 0x1222),
    Tag(0x0028, 0x1223),
];

/// Longest LUT accepted (the descriptor cannot ask for more).
const MAX_ENTRIES: usize = 65_536;
/// Deepest nesting of indirect segments followed.
const MAX_DEPTH: usize = 4;

/// An expanded PALETTE COLOR lookup table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Palette {
    /// Entries per channel (R, G, B), all the same length.
    pub lut: [Vec<u16>; 3],
    /// Stored value mapped to entry 0.
    pub first: i64,
    /// Full-scale value of an entry (255 or 65535).
    pub full_scale: f64,
}

fn words(obj: &InMemDicomObject, tag: Tag) -> Option<Vec<u16>> {
    let e = obj.element_opt(tag).ok().flatten()?;
    let p = e.value().primitive()?;
    use dicom_core::PrimitiveValue as P;
    Some(match p {
        P::U16(v) => v.to_vec(),
        P::I16(v) => v.iter().map(|&x| x as u16).collect(),
        P::U8(v) => v
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect(),
        _ => return None,
    })
}

fn descriptor(obj: &InMemDicomObject, tag: Tag) -> Option<[i64; 3]> {
    let e = obj.element_opt(tag).ok().flatten()?;
    let v: Vec<i64> = e.value().to_multi_int::<i64>().ok()?;
    (v.len() >= 3).then(|| [v[0], v[1], v[2]])
}

/// Expand segmented LUT words (PS3.3 C.7.9.2). `limit` caps the entries produced.
fn expand_segments(
    data: &[u16],
    start: usize,
    max_segments: Option<usize>,
    mut prev: Option<u16>,
    depth: usize,
    out: &mut Vec<u16>,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("segmented LUT: indirect segments nested too deeply".into());
    }
    let mut pos = start;
    let mut done = 0usize;
    while pos + 1 < data.len() {
        if max_segments.is_some_and(|m| done >= m) {
            break;
        }
        let (op, n) = (data[pos], data[pos + 1] as usize);
        pos += 2;
        match op {
            0 => {
                let seg = data
                    .get(pos..pos + n)
                    .ok_or("segmented LUT: discrete segment runs past the data")?;
                out.extend_from_slice(seg);
                pos += n;
            }
            1 => {
                let y0 = out
                    .last()
                    .copied()
                    .or(prev)
                    .ok_or("segmented LUT: a linear segment cannot come first")?
                    as f64;
                let y1 = *data
                    .get(pos)
                    .ok_or("segmented LUT: linear segment without its end value")?
                    as f64;
                pos += 1;
                for k in 1..=n {
                    let v = y0 + (y1 - y0) * k as f64 / n as f64;
                    out.push(v.round_ties_even().clamp(0.0, 65535.0) as u16);
                    if out.len() > MAX_ENTRIES {
                        return Err("segmented LUT expands past 65,536 entries".into());
                    }
                }
            }
            2 => {
                let last = out
                    .last()
                    .copied()
                    .or(prev)
                    .ok_or("segmented LUT: an indirect segment cannot come first")?;
                let lo = *data
                    .get(pos)
                    .ok_or("segmented LUT: indirect segment without its offset")?
                    as usize;
                let hi = *data
                    .get(pos + 1)
                    .ok_or("segmented LUT: indirect segment without its offset")?
                    as usize;
                pos += 2;
                let offset = (hi << 16) | lo;
                if offset >= data.len() {
                    return Err(format!(
                        "segmented LUT: indirect offset {offset} beyond the {} words of data",
                        data.len()
                    ));
                }
                expand_segments(data, offset, Some(n), Some(last), depth + 1, out)?;
            }
            other => return Err(format!("segmented LUT: unknown segment type {other}")),
        }
        if out.len() > MAX_ENTRIES {
            return Err("segmented LUT expands past 65,536 entries".into());
        }
        done += 1;
        prev = out.last().copied().or(prev);
    }
    Ok(())
}

impl Palette {
    /// Read the palette of `obj`; `signed` is Pixel Representation = 1 (the first mapped value
    /// is then read as a signed 16-bit number).
    pub fn read(obj: &InMemDicomObject, signed: bool) -> Result<Palette, String> {
        let desc = descriptor(obj, DESCRIPTORS[0]).ok_or(
            "PALETTE COLOR without a Red Palette Color Lookup Table Descriptor (0028,1101)",
        )?;
        let entries = if desc[0] == 0 {
            MAX_ENTRIES
        } else {
            desc[0] as usize
        };
        if desc[0] < 0 || entries > MAX_ENTRIES {
            return Err(format!("palette descriptor asks for {} entries", desc[0]));
        }
        let first = if signed && desc[1] > 32767 {
            desc[1] - 65536
        } else {
            desc[1]
        };
        let nominal_bits = desc[2];
        if !matches!(nominal_bits, 8 | 16) {
            return Err(format!(
                "palette entries of {nominal_bits} bits (8 or 16 are defined)"
            ));
        }
        let mut lut: [Vec<u16>; 3] = Default::default();
        let mut bits = nominal_bits;
        for ch in 0..3 {
            if let Some(w) = words(obj, DATA[ch]) {
                // 8-bit entries packed two per word: the data holds entries/2 words.
                if nominal_bits == 8 && entries > 1 && w.len() == entries.div_ceil(2) {
                    lut[ch] = w
                        .iter()
                        .flat_map(|x| x.to_le_bytes())
                        .take(entries)
                        .map(u16::from)
                        .collect();
                    bits = 8;
                } else {
                    lut[ch] = w;
                }
            } else if let Some(w) = words(obj, SEGMENTED[ch]) {
                let mut out = Vec::new();
                expand_segments(&w, 0, None, None, 0, &mut out)?;
                lut[ch] = out;
            } else {
                return Err(format!(
                    "PALETTE COLOR without {} palette data ((0028,{:04X}) or segmented (0028,{:04X}))",
                    ["red", "green", "blue"][ch],
                    DATA[ch].1,
                    SEGMENTED[ch].1
                ));
            }
            if lut[ch].is_empty() {
                return Err(format!(
                    "{} palette lookup table is empty",
                    ["red", "green", "blue"][ch]
                ));
            }
        }
        let n = lut[0].len();
        if lut.iter().any(|l| l.len() != n) {
            return Err(format!(
                "palette lookup tables differ in length ({}, {}, {})",
                lut[0].len(),
                lut[1].len(),
                lut[2].len()
            ));
        }
        // 16-bit entries that never exceed 255 are 8-bit values in 16-bit words (common in
        // ultrasound); their full scale is 255, else the image would be near black.
        let max = lut.iter().flatten().copied().max().unwrap_or(0);
        let full_scale = if bits == 8 || max <= 255 {
            255.0
        } else {
            65535.0
        };
        Ok(Palette {
            lut,
            first,
            full_scale,
        })
    }

    /// The LUT entries of a stored value (clamped to the table).
    pub fn entry(&self, stored: i64) -> [u16; 3] {
        let n = self.lut[0].len() as i64;
        let i = (stored - self.first).clamp(0, n - 1) as usize;
        [self.lut[0][i], self.lut[1][i], self.lut[2][i]]
    }

    /// Encoded colour in `[0, 1]` of a stored value.
    pub fn colour(&self, stored: i64) -> [f64; 3] {
        let e = self.entry(stored);
        [
            e[0] as f64 / self.full_scale,
            e[1] as f64 / self.full_scale,
            e[2] as f64 / self.full_scale,
        ]
    }
}

/// YBR_FULL → RGB (same units as the input; `half` = 2^(bits−1) is the chroma offset).
pub(crate) fn ybr_to_rgb(y: f64, cb: f64, cr: f64, half: f64) -> [f64; 3] {
    let (cb, cr) = (cb - half, cr - half);
    [
        y + 1.402 * cr,
        y + (-0.114 * 1.772 / 0.587) * cb + (-0.299 * 1.402 / 0.587) * cr,
        y + 1.772 * cb,
    ]
}

/// Expand one frame of native YBR_FULL_422 (`Y1 Y2 Cb Cr` per horizontal pair, `bytes_per`
/// bytes per sample) to interleaved full YBR. `cols` may be odd only in a malformed file; the
/// caller checks the length first.
pub(crate) fn expand_ybr422(raw: &[u8], rows: usize, cols: usize, bytes_per: usize) -> Vec<u8> {
    let mut out = vec![0u8; rows * cols * 3 * bytes_per];
    let pairs = cols / 2;
    for r in 0..rows {
        for p in 0..pairs {
            let src =
                &raw[((r * pairs + p) * 4) * bytes_per..((r * pairs + p) * 4 + 4) * bytes_per];
            let s = |k: usize| &src[k * bytes_per..(k + 1) * bytes_per];
            for (j, y) in [s(0), s(1)].into_iter().enumerate() {
                let px = r * cols + 2 * p + j;
                let dst = &mut out[px * 3 * bytes_per..(px + 1) * 3 * bytes_per];
                dst[..bytes_per].copy_from_slice(y);
                dst[bytes_per..2 * bytes_per].copy_from_slice(s(2));
                dst[2 * bytes_per..].copy_from_slice(s(3));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(data: &[u16]) -> Result<Vec<u16>, String> {
        let mut out = Vec::new();
        expand_segments(data, 0, None, None, 0, &mut out).map(|_| out)
    }

    #[test]
    fn discrete_and_linear_segments() {
        // PS3.3 C.7.9.2 example shape: discrete [0], then a ramp of 4 to 100
        let lut = expand(&[0, 1, 0, 1, 4, 100]).unwrap();
        assert_eq!(lut, vec![0, 25, 50, 75, 100]);
        // a flat ramp repeats the value
        assert_eq!(expand(&[0, 1, 7, 1, 3, 7]).unwrap(), vec![7, 7, 7, 7]);
        // numpy-style half-to-even rounding: 0 → 5 in 2 steps gives 2.5 → 2, 5
        assert_eq!(expand(&[0, 1, 0, 1, 2, 5]).unwrap(), vec![0, 2, 5]);
    }

    #[test]
    fn indirect_segment_replays_earlier_segments() {
        // [discrete 2: 10 20][linear 2 → 40][indirect: 1 segment at word 0]
        let data = [0, 2, 10, 20, 1, 2, 40, 2, 1, 0, 0];
        assert_eq!(expand(&data).unwrap(), vec![10, 20, 30, 40, 10, 20]);
    }

    #[test]
    fn hostile_tables_are_errors() {
        assert!(expand(&[1, 4, 100]).is_err(), "linear first");
        assert!(expand(&[0, 9, 1, 2]).is_err(), "discrete past the end");
        assert!(
            expand(&[0, 1, 5, 2, 1, 0xFFFF, 0xFFFF]).is_err(),
            "offset past the end"
        );
        assert!(expand(&[0, 1, 5, 9, 1]).is_err(), "unknown opcode");
        // an indirect segment pointing at itself nests until the depth cap
        assert!(expand(&[0, 1, 5, 2, 1, 3, 0]).is_err());
        // a ramp that would exceed 65,536 entries
        let mut big = vec![0, 1, 0];
        for _ in 0..3 {
            big.extend([1, 65535, 9]);
        }
        assert!(expand(&big).is_err());
    }

    #[test]
    fn ybr_of_grey_is_grey_and_primaries_match_bt601() {
        let g = ybr_to_rgb(100.0, 128.0, 128.0, 128.0);
        assert!(g.iter().all(|v| (v - 100.0).abs() < 1e-12));
        // pure red in full-range BT.601: Y = 76.245, Cb = 84.972, Cr = 255.5
        let r = ybr_to_rgb(
            0.299 * 255.0,
            128.0 - 0.168736 * 255.0,
            128.0 + 0.5 * 255.0,
            128.0,
        );
        assert!((r[0] - 255.0).abs() < 0.05, "{r:?}");
        assert!(r[1].abs() < 0.05 && r[2].abs() < 0.05, "{r:?}");
    }

    #[test]
    fn ybr422_expands_pairs() {
        // one row, 4 columns: pairs (Y 1,2 Cb 3 Cr 4) and (Y 5,6 Cb 7 Cr 8)
        let raw = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let full = expand_ybr422(&raw, 1, 4, 1);
        assert_eq!(full, vec![1, 3, 4, 2, 3, 4, 5, 7, 8, 6, 7, 8]);
    }
}
