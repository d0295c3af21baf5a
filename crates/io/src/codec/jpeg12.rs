//! 12-bit JPEG extended (1.2.840.10008.1.2.4.51, ITU-T T.81 process 4: sequential DCT,
//! Huffman coding), which the jpeg-decoder crate behind dicom-rs refuses
//! (`SamplePrecision(12)`). Grey images (one component) only: DQT (8- and 16-bit tables),
//! DHT, SOF0/SOF1, DRI and restart markers, SOS; inverse DCT in double precision (T.81
//! A.3.3), level shift and clamping to 12 bits. 8-bit streams and colour streams are left to
//! dicom-rs ([`decode`] returns `None`).

use super::huffman::Table as Huffman;
use crate::guard::PixelHeader;
use crate::IoError;
use dicom_object::DefaultDicomObject;
use std::path::Path;

/// Zig-zag index → natural (row-major) index (T.81 Figure A.6).
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

struct Bits<'a> {
    d: &'a [u8],
    p: usize,
    acc: u32,
    n: u32,
    overrun: u32,
}

impl Bits<'_> {
    fn bit(&mut self) -> u32 {
        if self.n == 0 {
            let b = match self.d.get(self.p) {
                Some(&0xFF) if self.d.get(self.p + 1) == Some(&0) => {
                    self.p += 2;
                    0xFF
                }
                Some(&0xFF) | None => {
                    self.overrun += 1;
                    0
                }
                Some(&b) => {
                    self.p += 1;
                    b
                }
            };
            self.acc = b as u32;
            self.n = 8;
        }
        self.n -= 1;
        (self.acc >> self.n) & 1
    }
    fn receive(&mut self, s: u32) -> i32 {
        let mut v = 0i32;
        for _ in 0..s {
            v = (v << 1) | self.bit() as i32;
        }
        v
    }
    fn decode(&mut self, h: &Huffman) -> Result<u8, String> {
        match h.decode(|| Some(self.bit())) {
            Some(Ok(v)) => Ok(v),
            _ => Err("invalid Huffman code".into()),
        }
    }
}

fn extend(v: i32, t: u32) -> i32 {
    if t == 0 {
        0
    } else if v < 1 << (t - 1) {
        v - (1 << t) + 1
    } else {
        v
    }
}

/// The precision and component count of a JPEG stream's frame header, if it has one.
fn sof(d: &[u8]) -> Option<(u8, u8)> {
    let mut p = 2;
    while p + 4 <= d.len() {
        if d[p] != 0xFF {
            return None;
        }
        let m = d[p + 1];
        if m == 0xFF {
            p += 1;
            continue;
        }
        let len = u16::from_be_bytes([d[p + 2], d[p + 3]]) as usize;
        if matches!(m, 0xC0..=0xCF) && !matches!(m, 0xC4 | 0xC8 | 0xCC) {
            return Some((*d.get(p + 4)?, *d.get(p + 9)?)).filter(|_| matches!(m, 0xC0 | 0xC1));
        }
        p += 2 + len;
    }
    None
}

/// Decode one 12-bit grey frame to samples (row-major, `rows × cols`).
pub(super) fn frame(d: &[u8], rows: usize, cols: usize) -> Result<Vec<u16>, String> {
    let mut q = [[0u16; 64]; 4];
    let mut dc: Vec<Huffman> = vec![Huffman::default(); 4];
    let mut ac: Vec<Huffman> = vec![Huffman::default(); 4];
    let (mut width, mut height, mut tq, mut id) = (0usize, 0usize, 0usize, 0u8);
    let mut restart = 0usize;
    let mut p = 2;
    let seg = |p: usize| -> Result<&[u8], String> {
        let len = u16::from_be_bytes([
            *d.get(p + 2).ok_or("truncated")?,
            *d.get(p + 3).ok_or("truncated")?,
        ]) as usize;
        d.get(p + 4..p + 2 + len)
            .filter(|_| len >= 2)
            .ok_or_else(|| "marker segment runs past the end".to_string())
    };
    loop {
        if p + 1 >= d.len() || d[p] != 0xFF {
            return Err("expected a marker".into());
        }
        let m = d[p + 1];
        if m == 0xFF {
            p += 1;
            continue;
        }
        if matches!(m, 0xD8 | 0xD0..=0xD7 | 0x01) {
            p += 2;
            continue;
        }
        let s = seg(p)?;
        match m {
            0xDB => {
                let mut i = 0;
                while i < s.len() {
                    let (pq, t) = ((s[i] >> 4) as usize, (s[i] & 3) as usize);
                    i += 1;
                    for k in 0..64 {
                        let v = if pq == 1 {
                            let v = u16::from_be_bytes([
                                *s.get(i).ok_or("DQT short")?,
                                *s.get(i + 1).ok_or("DQT short")?,
                            ]);
                            i += 2;
                            v
                        } else {
                            let v = *s.get(i).ok_or("DQT short")? as u16;
                            i += 1;
                            v
                        };
                        q[t][ZIGZAG[k]] = v;
                    }
                }
            }
            0xC4 => {
                let mut i = 0;
                while i + 17 <= s.len() {
                    let (class, t) = (s[i] >> 4, (s[i] & 3) as usize);
                    let bits: [u8; 16] = s[i + 1..i + 17].try_into().map_err(|_| "DHT")?;
                    let n: usize = bits.iter().map(|&b| b as usize).sum();
                    let vals = s.get(i + 17..i + 17 + n).ok_or("DHT short")?.to_vec();
                    i += 17 + n;
                    let h = Huffman::new(&bits, vals);
                    if class == 0 {
                        dc[t] = h;
                    } else {
                        ac[t] = h;
                    }
                }
            }
            0xC0 | 0xC1 => {
                if s.len() < 9 || s[5] != 1 {
                    return Err("not a one-component frame".into());
                }
                height = u16::from_be_bytes([s[1], s[2]]) as usize;
                width = u16::from_be_bytes([s[3], s[4]]) as usize;
                id = s[6];
                tq = (s[8] & 3) as usize;
            }
            0xDD => {
                restart = u16::from_be_bytes([*s.first().ok_or("DRI")?, *s.get(1).ok_or("DRI")?])
                    as usize;
            }
            0xDA => {
                if s.len() < 6 || s[0] != 1 || s[1] != id {
                    return Err("scan does not code the one frame component".into());
                }
                let (td, ta) = ((s[2] >> 4) as usize & 3, (s[2] & 3) as usize);
                p += 2 + s.len() + 2;
                break scan(
                    &d[p..],
                    width,
                    height,
                    rows,
                    cols,
                    &q[tq],
                    &dc[td],
                    &ac[ta],
                    restart,
                );
            }
            0xD9 => return Err("no scan".into()),
            _ => {}
        }
        p += 2 + s.len() + 2;
    }
}

#[allow(clippy::too_many_arguments)]
fn scan(
    d: &[u8],
    width: usize,
    height: usize,
    rows: usize,
    cols: usize,
    q: &[u16; 64],
    dc: &Huffman,
    ac: &Huffman,
    restart: usize,
) -> Result<Vec<u16>, String> {
    if (width, height) != (cols, rows) {
        return Err(format!(
            "frame is {width}×{height} but the header says Columns {cols} × Rows {rows}"
        ));
    }
    let (bw, bh) = (width.div_ceil(8), height.div_ceil(8));
    let mut out = vec![0u16; width * height];
    let mut cos = [[0f64; 8]; 8];
    for (x, row) in cos.iter_mut().enumerate() {
        for (u, c) in row.iter_mut().enumerate() {
            let cu = if u == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            };
            *c = cu * (((2 * x + 1) * u) as f64 * std::f64::consts::PI / 16.0).cos() / 2.0;
        }
    }
    let mut bits = Bits {
        d,
        p: 0,
        acc: 0,
        n: 0,
        overrun: 0,
    };
    let mut pred = 0i32;
    for b in 0..bw * bh {
        if restart > 0 && b > 0 && b % restart == 0 {
            // byte-align, then the RSTn marker
            bits.n = 0;
            let p = bits.p;
            if d.get(p) != Some(&0xFF) || !matches!(d.get(p + 1), Some(0xD0..=0xD7)) {
                return Err(format!("missing restart marker before block {b}"));
            }
            bits.p += 2;
            pred = 0;
        }
        let mut coef = [0f64; 64];
        let t = bits.decode(dc)? as u32;
        if t > 16 {
            return Err("DC magnitude category above 16".into());
        }
        pred = pred.wrapping_add(extend(bits.receive(t), t));
        coef[0] = pred as f64 * q[0] as f64;
        let mut k = 1;
        while k < 64 {
            let rs = bits.decode(ac)?;
            let (r, s) = ((rs >> 4) as usize, (rs & 15) as u32);
            if s == 0 {
                if r == 15 {
                    k += 16;
                    continue;
                }
                break;
            }
            k += r;
            if k > 63 {
                return Err("AC coefficients past the end of a block".into());
            }
            let z = ZIGZAG[k];
            coef[z] = extend(bits.receive(s), s) as f64 * q[z] as f64;
            k += 1;
        }
        if bits.overrun > 0 {
            return Err("entropy-coded data ends early".into());
        }
        // separable inverse DCT: rows (u → x), then columns (v → y)
        let mut tmp = [0f64; 64];
        for v in 0..8 {
            for x in 0..8 {
                tmp[v * 8 + x] = (0..8).map(|u| cos[x][u] * coef[v * 8 + u]).sum();
            }
        }
        let (by, bx) = (b / bw, b % bw);
        for (y, cy) in cos.iter().enumerate() {
            let py = by * 8 + y;
            if py >= height {
                break;
            }
            for x in 0..8 {
                let px = bx * 8 + x;
                if px >= width {
                    break;
                }
                let v: f64 = (0..8).map(|v| cy[v] * tmp[v * 8 + x]).sum();
                out[py * width + px] = (v + 2048.0).round().clamp(0.0, 4095.0) as u16;
            }
        }
    }
    Ok(out)
}

/// Decode every frame when the stream is 12-bit grey; `None` leaves the object to dicom-rs.
pub(crate) fn decode(
    path: &Path,
    obj: &DefaultDicomObject,
    h: &PixelHeader,
) -> Result<Option<Vec<u8>>, IoError> {
    if h.spp != 1 || h.bits_alloc != 16 {
        return Ok(None);
    }
    let frames = super::frames(path, obj, h.frames as usize, true)?;
    if frames.iter().any(|f| sof(f) != Some((12, 1))) {
        return Ok(None);
    }
    let mut out = Vec::with_capacity((h.rows * h.cols * 2) as usize * frames.len());
    for (i, f) in frames.iter().enumerate() {
        let s = frame(f, h.rows as usize, h.cols as usize)
            .map_err(|e| IoError::invalid(path, format!("12-bit JPEG frame {i}: {e}")))?;
        for v in s {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    Ok(Some(out))
}
