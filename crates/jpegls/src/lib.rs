//! A JPEG-LS decoder (ITU-T Rec. T.87 | ISO/IEC 14495-1, "LOCO-I"), written from the standard,
//! in safe Rust and without dependencies.
//!
//! Supported: lossless and near-lossless coding (NEAR ≥ 0), sample precision 2–16 bits, one
//! to four components (more are accepted, up to 255), interleave modes none (one scan per
//! component), line and sample (T.87 Annex B), regular mode with context modelling
//! (§ A.3–A.6), run mode with run interruption (§ A.7), preset coding parameters and the
//! oversize-dimension record of the LSE marker segment (§ C.2.4.1.1, C.2.4.1.4), default
//! thresholds (§ C.2.4.1.1.1), restart markers (§ D.2, DRI), and the bit stuffing of § A.1.
//!
//! Not supported (refused with [`Error::Unsupported`]): mapping tables (palettised images, LSE
//! ids 2 and 3, Tm ≠ 0 in the scan header), a non-zero point transform, the HP colour
//! transforms of the APP8 "mrfx" segment, and images whose height is only given by a DNL
//! marker.
//!
//! ```no_run
//! let stream: Vec<u8> = std::fs::read("image.jls").unwrap();
//! let header = artefact_jpegls::read_header(&stream).unwrap(); // check sizes first
//! assert!(header.width as u64 * header.height as u64 <= 1 << 28);
//! let image = artefact_jpegls::decode(&stream).unwrap();
//! assert_eq!(image.samples.len(), image.width as usize * image.height as usize * image.components as usize);
//! ```
//!
//! Malformed input gives an [`Error`], never a panic; the sample buffer is allocated only
//! once, from the frame header, so callers bound memory by checking [`read_header`] first.

#![forbid(unsafe_code)]

mod bits;
mod scan;

use std::fmt;

/// Why a stream cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The stream ends before the image is complete.
    Truncated(String),
    /// The stream violates T.87 (bad marker, impossible parameter, invalid code).
    Corrupt(String),
    /// A valid JPEG-LS feature this decoder does not implement.
    Unsupported(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated(m) => write!(f, "truncated JPEG-LS stream: {m}"),
            Error::Corrupt(m) => write!(f, "invalid JPEG-LS stream: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported JPEG-LS feature: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// The frame header (SOF55) of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    /// Number of components (samples per pixel).
    pub components: u8,
    /// Sample precision P in bits (2–16).
    pub precision: u8,
}

/// A decoded image.
#[derive(Debug, Clone)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    pub precision: u8,
    /// The largest NEAR of the scans (0 for a lossless image).
    pub near: u16,
    /// Samples in pixel-interleaved order (row by row, the components of each pixel
    /// together), whatever the interleave mode of the stream.
    pub samples: Vec<u16>,
}

/// Coding parameters of § C.2.4.1.1 (0 = default).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Preset {
    pub maxval: u32,
    pub t1: u32,
    pub t2: u32,
    pub t3: u32,
    pub reset: u32,
}

pub(crate) struct Reader<'a> {
    pub d: &'a [u8],
    pub p: usize,
}

impl Reader<'_> {
    pub fn u8(&mut self) -> Result<u8, Error> {
        let b = *self
            .d
            .get(self.p)
            .ok_or_else(|| Error::Truncated("stream ends inside a marker segment".into()))?;
        self.p += 1;
        Ok(b)
    }
    pub fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    /// The next marker code, skipping 0xFF fill bytes.
    fn marker(&mut self) -> Result<u8, Error> {
        if self.u8()? != 0xFF {
            return Err(Error::Corrupt(format!(
                "expected a marker at byte {}",
                self.p - 1
            )));
        }
        loop {
            let m = self.u8()?;
            if m != 0xFF {
                return Ok(m);
            }
        }
    }
    /// The payload of a marker segment (after its 16-bit length).
    fn segment(&mut self) -> Result<&[u8], Error> {
        let len = self.u16()? as usize;
        if len < 2 || self.p + len - 2 > self.d.len() {
            return Err(Error::Truncated(format!(
                "marker segment of {len} bytes at byte {} runs past the end",
                self.p - 2
            )));
        }
        let s = &self.d[self.p..self.p + len - 2];
        self.p += len - 2;
        Ok(s)
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Frame {
    pub width: u32,
    pub height: u32,
    pub precision: u8,
    /// Component identifiers in frame order.
    pub ids: Vec<u8>,
    pub preset: Preset,
    pub restart: u32,
}

/// Parse markers up to the first scan (or the end), filling the frame state.
fn parse_tables(
    r: &mut Reader<'_>,
    f: &mut Frame,
    seen_sof: &mut bool,
) -> Result<Option<u8>, Error> {
    loop {
        if r.p >= r.d.len() {
            // a stream without EOI: the caller checks that every component was coded
            return Ok(None);
        }
        let m = r.marker()?;
        match m {
            0xF7 => {
                if *seen_sof {
                    return Err(Error::Corrupt("second SOF55 frame header".into()));
                }
                let s = r.segment()?;
                if s.len() < 6 {
                    return Err(Error::Corrupt("SOF55 segment too short".into()));
                }
                f.precision = s[0];
                f.height = u16::from_be_bytes([s[1], s[2]]) as u32;
                let w = u16::from_be_bytes([s[3], s[4]]) as u32;
                if w != 0 || f.width == 0 {
                    f.width = w;
                }
                let nf = s[5] as usize;
                if nf == 0 || s.len() < 6 + 3 * nf {
                    return Err(Error::Corrupt(format!(
                        "SOF55 announces {nf} components in {} bytes",
                        s.len()
                    )));
                }
                f.ids = (0..nf).map(|i| s[6 + 3 * i]).collect();
                if !(2..=16).contains(&f.precision) {
                    return Err(Error::Corrupt(format!(
                        "sample precision {} outside 2–16 bits",
                        f.precision
                    )));
                }
                *seen_sof = true;
            }
            0xF8 => {
                let s = r.segment()?;
                let id = *s
                    .first()
                    .ok_or_else(|| Error::Corrupt("empty LSE segment".into()))?;
                match id {
                    1 => {
                        if s.len() < 11 {
                            return Err(Error::Corrupt("LSE preset segment too short".into()));
                        }
                        let v = |i: usize| u16::from_be_bytes([s[1 + 2 * i], s[2 + 2 * i]]) as u32;
                        f.preset = Preset {
                            maxval: v(0),
                            t1: v(1),
                            t2: v(2),
                            t3: v(3),
                            reset: v(4),
                        };
                    }
                    2 | 3 => {
                        return Err(Error::Unsupported(
                            "mapping tables (palettised JPEG-LS)".into(),
                        ))
                    }
                    4 => {
                        // oversize dimensions: Wxy bytes per dimension, then Y and X
                        let wxy = *s.get(1).unwrap_or(&0) as usize;
                        if !(2..=4).contains(&wxy) || s.len() < 2 + 2 * wxy {
                            return Err(Error::Corrupt("LSE oversize segment malformed".into()));
                        }
                        let num =
                            |o: usize| s[o..o + wxy].iter().fold(0u64, |a, &b| (a << 8) | b as u64);
                        let (y, x) = (num(2), num(2 + wxy));
                        if y > u32::MAX as u64 || x > u32::MAX as u64 {
                            return Err(Error::Unsupported("dimensions above 2^32 − 1".into()));
                        }
                        f.height = y as u32;
                        f.width = x as u32;
                    }
                    _ => {
                        return Err(Error::Unsupported(format!("LSE segment with id {id}")));
                    }
                }
            }
            0xDD => {
                let s = r.segment()?;
                f.restart = match s.len() {
                    2..=4 => s.iter().fold(0u32, |a, &b| (a << 8) | b as u32),
                    _ => return Err(Error::Corrupt("DRI segment malformed".into())),
                };
            }
            0xE8 => {
                let s = r.segment()?;
                if s.len() >= 5 && &s[..4] == b"mrfx" && s[4] != 0 {
                    return Err(Error::Unsupported(format!(
                        "HP colour transform {} (APP8 mrfx)",
                        s[4]
                    )));
                }
            }
            0xE0..=0xEF | 0xFE | 0xDC => {
                r.segment()?;
            }
            0xDA => return Ok(Some(m)),
            0xD9 => return Ok(None),
            0xC0..=0xCF => {
                return Err(Error::Unsupported(format!(
                    "not a JPEG-LS frame (SOF marker 0xFF{m:02X} of ITU-T T.81)"
                )));
            }
            _ => {
                return Err(Error::Corrupt(format!(
                    "unexpected marker 0xFF{m:02X} at byte {}",
                    r.p - 2
                )));
            }
        }
    }
}

fn start(data: &[u8]) -> Result<Reader<'_>, Error> {
    if data.len() < 2 || data[0] != 0xFF || data[1] != 0xD8 {
        return Err(Error::Corrupt("no SOI marker at the start".into()));
    }
    Ok(Reader { d: data, p: 2 })
}

/// Read the frame header (everything up to the first scan) without decoding.
pub fn read_header(data: &[u8]) -> Result<Header, Error> {
    let mut r = start(data)?;
    let mut f = Frame::default();
    let mut sof = false;
    parse_tables(&mut r, &mut f, &mut sof)?;
    header_of(&f, sof)
}

fn header_of(f: &Frame, sof: bool) -> Result<Header, Error> {
    if !sof {
        return Err(Error::Corrupt(
            "no SOF55 frame header before the scan".into(),
        ));
    }
    if f.height == 0 {
        return Err(Error::Unsupported("height given by a DNL marker".into()));
    }
    if f.width == 0 {
        return Err(Error::Corrupt("frame width 0".into()));
    }
    Ok(Header {
        width: f.width,
        height: f.height,
        components: f.ids.len() as u8,
        precision: f.precision,
    })
}

/// Decode a whole JPEG-LS stream (SOI … EOI).
pub fn decode(data: &[u8]) -> Result<Image, Error> {
    let mut r = start(data)?;
    let mut f = Frame::default();
    let mut sof = false;
    let mut samples: Vec<u16> = Vec::new();
    let mut done = Vec::new();
    let mut near_max = 0u16;
    let mut h = None;
    while let Some(_sos) = parse_tables(&mut r, &mut f, &mut sof)? {
        let hd = match h {
            Some(hd) => hd,
            None => {
                let hd = header_of(&f, sof)?;
                let n = hd.width as u64 * hd.height as u64 * hd.components as u64;
                if n > isize::MAX as u64 / 4 {
                    return Err(Error::Unsupported(format!("{n} samples")));
                }
                samples = vec![0u16; n as usize];
                done = vec![false; hd.components as usize];
                h = Some(hd);
                hd
            }
        };
        let s = r.segment()?.to_vec();
        let ns = *s.first().unwrap_or(&0) as usize;
        if ns == 0 || s.len() < 1 + 2 * ns + 3 {
            return Err(Error::Corrupt("SOS segment malformed".into()));
        }
        let mut comps = Vec::with_capacity(ns);
        for i in 0..ns {
            let id = s[1 + 2 * i];
            let tm = s[2 + 2 * i];
            if tm != 0 {
                return Err(Error::Unsupported("mapping tables (Tm ≠ 0)".into()));
            }
            let c =
                f.ids.iter().position(|&x| x == id).ok_or_else(|| {
                    Error::Corrupt(format!("scan component {id} not in the frame"))
                })?;
            if done[c] || comps.contains(&c) {
                return Err(Error::Corrupt(format!("component {id} coded twice")));
            }
            comps.push(c);
        }
        let near = s[1 + 2 * ns] as u32;
        let ilv = s[2 + 2 * ns];
        let pt = s[3 + 2 * ns] & 0x0F;
        if pt != 0 {
            return Err(Error::Unsupported(format!("point transform {pt}")));
        }
        if ilv > 2 || (ilv == 0 && ns > 1) {
            return Err(Error::Corrupt(format!(
                "interleave mode {ilv} with {ns} components in the scan"
            )));
        }
        let params = scan::Params::new(f.precision, f.preset, near)?;
        let end = scan::decode_scan(
            data,
            r.p,
            &params,
            &hd,
            &comps,
            if ns == 1 { 0 } else { ilv },
            f.restart,
            &mut samples,
        )?;
        for &c in &comps {
            done[c] = true;
        }
        near_max = near_max.max(near as u16);
        r.p = end;
    }
    let hd = header_of(&f, sof)?;
    if done.len() != hd.components as usize || done.iter().any(|d| !d) {
        return Err(Error::Truncated(
            "stream ends before every component was coded".into(),
        ));
    }
    Ok(Image {
        width: hd.width,
        height: hd.height,
        components: hd.components,
        precision: hd.precision,
        near: near_max,
        samples,
    })
}
