//! Decoding of one scan: context modelling and prediction (T.87 § A.2–A.6), run mode
//! (§ A.7), the interleave modes (Annex B) and restart intervals (§ D.2).

use crate::bits::Bits;
use crate::{Error, Header, Preset};

/// Run-length order table J of § A.7.1.1.
const J: [u32; 32] = [
    0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13,
    14, 15,
];

/// Regular-mode contexts after sign folding: Q1 ∈ 0..=4, Q2, Q3 ∈ −4..=4.
const CONTEXTS: usize = 5 * 81;

/// The scan parameters of § A.2.1 and § C.2.4.1.1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params {
    maxval: i32,
    near: i32,
    t1: i32,
    t2: i32,
    t3: i32,
    reset: i64,
    range: i32,
    qbpp: u32,
    limit: u32,
}

fn ceil_log2(v: u32) -> u32 {
    let mut k = 0;
    while (1u64 << k) < v as u64 {
        k += 1;
    }
    k
}

impl Params {
    pub fn new(precision: u8, p: Preset, near: u32) -> Result<Params, Error> {
        let maxval = if p.maxval == 0 {
            (1u32 << precision) - 1
        } else {
            p.maxval
        };
        if !(1..=65535).contains(&maxval) {
            return Err(Error::Corrupt(format!("MAXVAL {maxval}")));
        }
        if near > 255.min(maxval / 2) {
            return Err(Error::Corrupt(format!("NEAR {near} for MAXVAL {maxval}")));
        }
        let (m, n) = (maxval as i64, near as i64);
        let clamp = |i: i64, j: i64| if i > m || i < j { j } else { i };
        // BASIC_T1..3 = 3, 7, 21
        let (b1, b2, b3) = (3, 7, 21);
        let (d1, d2, d3) = if m >= 128 {
            let f = (m.min(4095) + 128) / 256;
            let t1 = clamp(f * (b1 - 2) + 2 + 3 * n, n + 1);
            let t2 = clamp(f * (b2 - 3) + 3 + 5 * n, t1);
            let t3 = clamp(f * (b3 - 4) + 4 + 7 * n, t2);
            (t1, t2, t3)
        } else {
            let f = 256 / (m + 1);
            let t1 = clamp((b1 / f + 3 * n).max(2), n + 1);
            let t2 = clamp((b2 / f + 5 * n).max(3), t1);
            let t3 = clamp((b3 / f + 7 * n).max(4), t2);
            (t1, t2, t3)
        };
        let pick = |v: u32, d: i64| if v == 0 { d } else { v as i64 };
        let (t1, t2, t3) = (pick(p.t1, d1), pick(p.t2, d2), pick(p.t3, d3));
        if !(n < t1 && t1 <= t2 && t2 <= t3 && t3 <= m.max(n + 1)) {
            return Err(Error::Corrupt(format!(
                "thresholds T1 {t1}, T2 {t2}, T3 {t3} invalid for MAXVAL {m}, NEAR {n}"
            )));
        }
        let reset = pick(p.reset, 64);
        if reset < 3 || reset > m.max(255) {
            return Err(Error::Corrupt(format!("RESET {reset}")));
        }
        let range = (maxval + 2 * near) / (2 * near + 1) + 1;
        let qbpp = ceil_log2(range);
        let bpp = ceil_log2(maxval + 1).max(2);
        Ok(Params {
            maxval: maxval as i32,
            near: near as i32,
            t1: t1 as i32,
            t2: t2 as i32,
            t3: t3 as i32,
            reset,
            range: range as i32,
            qbpp,
            limit: 2 * (bpp + bpp.max(8)),
        })
    }

    fn quant(&self, d: i32) -> i32 {
        let (n, t1, t2, t3) = (self.near, self.t1, self.t2, self.t3);
        if d <= -t3 {
            -4
        } else if d <= -t2 {
            -3
        } else if d <= -t1 {
            -2
        } else if d < -n {
            -1
        } else if d <= n {
            0
        } else if d < t1 {
            1
        } else if d < t2 {
            2
        } else if d < t3 {
            3
        } else {
            4
        }
    }

    /// Rx from the prediction and the signed, quantised error (§ A.4.4 and A.5.2).
    fn reconstruct(&self, px: i32, e: i32) -> i32 {
        let q = 2 * self.near + 1;
        let mut rx = px + e * q;
        if rx < -self.near {
            rx += self.range * q;
        } else if rx > self.maxval + self.near {
            rx -= self.range * q;
        }
        rx.clamp(0, self.maxval)
    }
}

/// Context variables A, B, C, N (regular mode) and A, N, Nn of the two run-interruption
/// contexts (§ A.2.1), shared by every component of a scan.
struct Ctx {
    a: Vec<i64>,
    b: Vec<i64>,
    c: Vec<i32>,
    n: Vec<i64>,
    ra: [i64; 2],
    rn: [i64; 2],
    rnn: [i64; 2],
}

impl Ctx {
    fn new(p: &Params) -> Ctx {
        let a0 = ((p.range as i64 + 32) / 64).max(2);
        Ctx {
            a: vec![a0; CONTEXTS],
            b: vec![0; CONTEXTS],
            c: vec![0; CONTEXTS],
            n: vec![1; CONTEXTS],
            ra: [a0; 2],
            rn: [1; 2],
            rnn: [0; 2],
        }
    }
}

struct Dec<'a> {
    p: Params,
    ctx: Ctx,
    bits: Bits<'a>,
}

fn golomb_k(n: i64, a: i64) -> Result<u32, Error> {
    let mut k = 0;
    while (n << k) < a {
        k += 1;
        if k > 30 {
            return Err(Error::Corrupt("context statistics out of range".into()));
        }
    }
    Ok(k)
}

fn med(ra: i32, rb: i32, rc: i32) -> i32 {
    if rc >= ra.max(rb) {
        ra.min(rb)
    } else if rc <= ra.min(rb) {
        ra.max(rb)
    } else {
        ra + rb - rc
    }
}

impl Dec<'_> {
    /// A limited-length Golomb code (§ A.5.3).
    fn golomb(&mut self, k: u32, limit: u32) -> Result<i64, Error> {
        let qbpp = self.p.qbpp;
        let max_q = limit.saturating_sub(qbpp + 1);
        let q = self.bits.unary(max_q)?;
        if q < max_q {
            Ok(((q as i64) << k) | self.bits.read(k) as i64)
        } else {
            Ok(self.bits.read(qbpp) as i64 + 1)
        }
    }

    /// One sample in regular mode (§ A.3–A.6).
    fn regular(&mut self, ra: i32, rb: i32, rc: i32, d: [i32; 3]) -> Result<i32, Error> {
        let p = self.p;
        let mut q = d.map(|x| p.quant(x));
        let neg = q[0] < 0 || (q[0] == 0 && (q[1] < 0 || (q[1] == 0 && q[2] < 0)));
        if neg {
            q = q.map(|x| -x);
        }
        let sign = if neg { -1 } else { 1 };
        let qi = (q[0] * 81 + (q[1] + 4) * 9 + (q[2] + 4)) as usize;
        let c = &mut self.ctx;
        let px = (med(ra, rb, rc) + sign * c.c[qi]).clamp(0, p.maxval);
        let k = golomb_k(c.n[qi], c.a[qi])?;
        let special = p.near == 0 && k == 0 && 2 * c.b[qi] <= -c.n[qi];
        let m = self.golomb(k, p.limit)?;
        let c = &mut self.ctx;
        let e = if special {
            if m & 1 == 1 {
                (m - 1) / 2
            } else {
                -(m / 2) - 1
            }
        } else if m & 1 == 0 {
            m / 2
        } else {
            -(m + 1) / 2
        };
        if e.abs() > p.range as i64 {
            return Err(Error::Corrupt("prediction error out of range".into()));
        }
        // § A.6.1
        c.b[qi] += e * (2 * p.near as i64 + 1);
        c.a[qi] += e.abs();
        if c.n[qi] == p.reset {
            c.a[qi] >>= 1;
            c.b[qi] >>= 1;
            c.n[qi] >>= 1;
        }
        c.n[qi] += 1;
        // § A.6.2
        let (b, n) = (&mut c.b[qi], c.n[qi]);
        if *b <= -n {
            *b += n;
            if c.c[qi] > -128 {
                c.c[qi] -= 1;
            }
            if *b <= -n {
                *b = -n + 1;
            }
        } else if *b > 0 {
            *b -= n;
            if c.c[qi] < 127 {
                c.c[qi] += 1;
            }
            if *b > 0 {
                *b = 0;
            }
        }
        Ok(p.reconstruct(px, sign * e as i32))
    }

    /// The run-interruption sample (§ A.7.2) ending a run with index `ri`.
    fn interruption(&mut self, ra: i32, rb: i32, ritype: usize, ri: usize) -> Result<i32, Error> {
        let p = self.p;
        let c = &self.ctx;
        let px = if ritype == 1 { ra } else { rb };
        let temp = if ritype == 0 {
            c.ra[ritype]
        } else {
            c.ra[ritype] + (c.rn[ritype] >> 1)
        };
        let k = golomb_k(c.rn[ritype], temp)?;
        let lessn = 2 * c.rnn[ritype] < c.rn[ritype];
        let em = self.golomb(k, p.limit - J[ri] - 1)?;
        let map = (em + ritype as i64) & 1;
        let abs = (em + ritype as i64 + map) / 2;
        let e = if (k == 0 && lessn) == (map == 1) {
            abs
        } else {
            -abs
        };
        if abs > p.range as i64 {
            return Err(Error::Corrupt("run interruption error out of range".into()));
        }
        let c = &mut self.ctx;
        if e < 0 {
            c.rnn[ritype] += 1;
        }
        c.ra[ritype] += (em + 1 - ritype as i64) >> 1;
        if c.rn[ritype] == p.reset {
            c.ra[ritype] >>= 1;
            c.rn[ritype] >>= 1;
            c.rnn[ritype] >>= 1;
        }
        c.rn[ritype] += 1;
        let sign = if ritype == 0 && ra > rb { -1 } else { 1 };
        Ok(p.reconstruct(px, sign * e as i32))
    }

    fn gradients(&self, prev: &[i32], cur: &[i32], x: usize) -> ([i32; 3], bool) {
        let (ra, rb, rc, rd) = (cur[x], prev[x + 1], prev[x], prev[x + 2]);
        let d = [rd - rb, rb - rc, rc - ra];
        let n = self.p.near;
        (d, d.iter().all(|v| v.abs() <= n))
    }

    /// One line of one component (interleave modes none and line).
    fn line(&mut self, prev: &mut [i32], cur: &mut [i32], ri: &mut usize) -> Result<(), Error> {
        let w = cur.len() - 2;
        cur[0] = prev[1];
        prev[w + 1] = prev[w];
        let mut x = 0;
        while x < w {
            let (d, flat) = self.gradients(prev, cur, x);
            if !flat {
                cur[x + 1] = self.regular(cur[x], prev[x + 1], prev[x], d)?;
                x += 1;
                continue;
            }
            let run = cur[x];
            loop {
                if self.bits.bit() {
                    let m = 1usize << J[*ri];
                    let n = m.min(w - x);
                    cur[x + 1..x + 1 + n].fill(run);
                    x += n;
                    if n == m && *ri < 31 {
                        *ri += 1;
                    }
                    if x == w {
                        break;
                    }
                } else {
                    let cnt = self.bits.read(J[*ri]) as usize;
                    if cnt >= w - x {
                        return Err(Error::Corrupt("run longer than the line".into()));
                    }
                    cur[x + 1..x + 1 + cnt].fill(run);
                    x += cnt;
                    let (ra, rb) = (cur[x], prev[x + 1]);
                    let ritype = usize::from((ra - rb).abs() <= self.p.near);
                    cur[x + 1] = self.interruption(ra, rb, ritype, *ri)?;
                    x += 1;
                    *ri = ri.saturating_sub(1);
                    break;
                }
            }
        }
        Ok(())
    }

    /// One line of every component, sample by sample (interleave mode sample, Annex B.3).
    fn line_interleaved(
        &mut self,
        prev: &mut [Vec<i32>],
        cur: &mut [Vec<i32>],
        ri: &mut usize,
    ) -> Result<(), Error> {
        let w = cur[0].len() - 2;
        let nc = cur.len();
        for c in 0..nc {
            cur[c][0] = prev[c][1];
            prev[c][w + 1] = prev[c][w];
        }
        let mut x = 0;
        while x < w {
            let mut flat = true;
            let mut ds = [[0i32; 3]; 256];
            for c in 0..nc {
                let (d, f) = self.gradients(&prev[c], &cur[c], x);
                ds[c] = d;
                flat &= f;
            }
            if !flat {
                for c in 0..nc {
                    cur[c][x + 1] = self.regular(cur[c][x], prev[c][x + 1], prev[c][x], ds[c])?;
                }
                x += 1;
                continue;
            }
            let run: Vec<i32> = (0..nc).map(|c| cur[c][x]).collect();
            loop {
                if self.bits.bit() {
                    let m = 1usize << J[*ri];
                    let n = m.min(w - x);
                    for c in 0..nc {
                        cur[c][x + 1..x + 1 + n].fill(run[c]);
                    }
                    x += n;
                    if n == m && *ri < 31 {
                        *ri += 1;
                    }
                    if x == w {
                        break;
                    }
                } else {
                    let cnt = self.bits.read(J[*ri]) as usize;
                    if cnt >= w - x {
                        return Err(Error::Corrupt("run longer than the line".into()));
                    }
                    for c in 0..nc {
                        cur[c][x + 1..x + 1 + cnt].fill(run[c]);
                    }
                    x += cnt;
                    for c in 0..nc {
                        let (ra, rb) = (cur[c][x], prev[c][x + 1]);
                        cur[c][x + 1] = self.interruption(ra, rb, 0, *ri)?;
                    }
                    x += 1;
                    *ri = ri.saturating_sub(1);
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Decode one scan starting at byte `pos` (just after the SOS segment) into `out`
/// (pixel-interleaved, `hd.components` samples per pixel); returns the byte position of the
/// marker that follows the scan.
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode_scan(
    data: &[u8],
    pos: usize,
    p: &Params,
    hd: &Header,
    comps: &[usize],
    ilv: u8,
    restart: u32,
    out: &mut [u16],
) -> Result<usize, Error> {
    let (w, h) = (hd.width as usize, hd.height as usize);
    let nc = hd.components as usize;
    let ns = comps.len();
    let mut prev = vec![vec![0i32; w + 2]; ns];
    let mut cur = vec![vec![0i32; w + 2]; ns];
    let mut ri = vec![0usize; ns];
    let mut d = Dec {
        p: *p,
        ctx: Ctx::new(p),
        bits: Bits::new(data, pos),
    };
    for y in 0..h {
        if restart > 0 && y > 0 && y as u64 % restart as u64 == 0 {
            // § D.2: a restart marker, then coding starts afresh (contexts, run indices and
            // the line above are reset)
            let mut at = std::mem::replace(&mut d.bits, Bits::new(data, 0)).end();
            if at + 1 >= data.len() || !(0xD0..=0xD7).contains(&data[at + 1]) {
                return Err(if at + 1 >= data.len() {
                    Error::Truncated("stream ends before a restart marker".into())
                } else {
                    Error::Corrupt(format!("expected a restart marker at byte {at}"))
                });
            }
            at += 2;
            d.bits = Bits::new(data, at);
            d.ctx = Ctx::new(p);
            ri.fill(0);
            for l in prev.iter_mut() {
                l.fill(0);
            }
        }
        if ilv == 2 {
            d.line_interleaved(&mut prev, &mut cur, &mut ri[0])?;
        } else {
            for s in 0..ns {
                d.line(&mut prev[s], &mut cur[s], &mut ri[s])?;
            }
        }
        d.bits.check()?;
        for (s, &c) in comps.iter().enumerate() {
            let line = &cur[s][1..=w];
            for (x, v) in line.iter().enumerate() {
                out[(y * w + x) * nc + c] = *v as u16;
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Ok(d.bits.end())
}
