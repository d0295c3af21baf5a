//! NIfTI-1 and NIfTI-2 single-file images (`.nii`, `.nii.gz`): an explicit header parser and a
//! float32 writer.
//!
//! Reading follows the NIfTI-1 specification (nifti1.h, NIfTI DFWG 2004) and its 64-bit
//! NIfTI-2 successor (2011):
//! - the byte order is detected from `sizeof_hdr` (348 for NIfTI-1, 540 for NIfTI-2, read in
//!   either endianness); gzip is detected from its magic bytes, whatever the file name;
//! - datatypes u8, i8, i16, u16, i32, u32, i64, u64, f32, f64 (and RGB24 when
//!   `grey_from_rgb` is set); `value = scl_slope · stored + scl_inter` unless `scl_slope` is 0
//!   or not finite (no scaling, as the standard says);
//! - the affine is the sform when `sform_code > 0`, else the qform (quaternion, `qfac` from
//!   `pixdim[0]`) when `qform_code > 0`, else `diag(pixdim)` (the standard's "method 1");
//!   spatial units (m, mm, µm) are converted to mm; unknown units are taken as mm;
//! - 3-D and 4-D images; a 4-D image gives the volume `LoadOptions::volume_index`.
//!   Dimensions 5–7 larger than 1 are refused;
//! - NIfTI has no modality field: the modality is MR unless `LoadOptions::modality` says
//!   otherwise (most NIfTI sources are MR/neuro); the unit follows the modality.
//!
//! Safety against hostile headers: every size is computed with checked arithmetic; the voxel
//! count is capped (`LoadOptions::max_voxels`) and, for uncompressed files, compared with the
//! file length before anything is allocated; compressed data is read incrementally with a byte
//! limit, so a lying header cannot trigger a large allocation.
//!
//! Writing produces a little-endian NIfTI-1 file with float32 voxels, `vox_offset` 352, both
//! sform (exact affine) and qform (its rigid part, `qfac` for left-handed affines), codes 1
//! (scanner), spatial unit mm; `.nii.gz` when the name ends in `.gz`. Writes are atomic.

// Header layouts are tables of offsets; index loops read clearer than iterator chains here.
#![allow(clippy::needless_range_loop)]

use crate::atomic::write_atomic;
use crate::meta::{Format, Rescale};
use crate::{IoError, LoadOptions, Loaded, Meta};
use artefact_core::{Modality, Volume};
use flate2::read::MultiGzDecoder;
use ndarray::Array3;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

const GZ_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Header fields artefact uses, widened to the NIfTI-2 types.
#[derive(Clone, Debug)]
pub(crate) struct Header {
    pub version: u8,
    pub big_endian: bool,
    pub dim: [i64; 8],
    pub datatype: i16,
    pub bitpix: i16,
    pub pixdim: [f64; 8],
    pub vox_offset: f64,
    pub scl_slope: f64,
    pub scl_inter: f64,
    pub qform_code: i32,
    pub sform_code: i32,
    pub quatern: [f64; 3],
    pub qoffset: [f64; 3],
    pub srow: [[f64; 4]; 3],
    pub xyzt_units: i32,
    pub magic: [u8; 8],
}

struct Fields<'a> {
    b: &'a [u8],
    be: bool,
}

impl Fields<'_> {
    fn arr<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut a = [0u8; N];
        a.copy_from_slice(&self.b[off..off + N]);
        a
    }
    fn i16(&self, off: usize) -> i16 {
        let a = self.arr::<2>(off);
        if self.be {
            i16::from_be_bytes(a)
        } else {
            i16::from_le_bytes(a)
        }
    }
    fn i32(&self, off: usize) -> i32 {
        let a = self.arr::<4>(off);
        if self.be {
            i32::from_be_bytes(a)
        } else {
            i32::from_le_bytes(a)
        }
    }
    fn i64(&self, off: usize) -> i64 {
        let a = self.arr::<8>(off);
        if self.be {
            i64::from_be_bytes(a)
        } else {
            i64::from_le_bytes(a)
        }
    }
    fn f32(&self, off: usize) -> f64 {
        let a = self.arr::<4>(off);
        (if self.be {
            f32::from_be_bytes(a)
        } else {
            f32::from_le_bytes(a)
        }) as f64
    }
    fn f64(&self, off: usize) -> f64 {
        let a = self.arr::<8>(off);
        if self.be {
            f64::from_be_bytes(a)
        } else {
            f64::from_le_bytes(a)
        }
    }
}

/// Datatype code → (name, bytes per voxel).
fn datatype_info(code: i16) -> Option<(&'static str, usize)> {
    Some(match code {
        2 => ("uint8", 1),
        4 => ("int16", 2),
        8 => ("int32", 4),
        16 => ("float32", 4),
        64 => ("float64", 8),
        128 => ("rgb24", 3),
        256 => ("int8", 1),
        512 => ("uint16", 2),
        768 => ("uint32", 4),
        1024 => ("int64", 8),
        1280 => ("uint64", 8),
        _ => return None,
    })
}

fn datatype_name_unsupported(code: i16) -> &'static str {
    match code {
        0 => "unknown (0)",
        1 => "binary (1)",
        32 => "complex64 (32)",
        1536 => "float128 (1536)",
        1792 => "complex128 (1792)",
        2048 => "complex256 (2048)",
        2304 => "rgba32 (2304)",
        _ => "unrecognised",
    }
}

/// Whether `bytes` (at least 4) start a NIfTI header; returns (version, big_endian).
pub(crate) fn sniff_header(bytes: &[u8]) -> Option<(u8, bool)> {
    if bytes.len() < 4 {
        return None;
    }
    let a = [bytes[0], bytes[1], bytes[2], bytes[3]];
    match (i32::from_le_bytes(a), i32::from_be_bytes(a)) {
        (348, _) => Some((1, false)),
        (_, 348) => Some((1, true)),
        (540, _) => Some((2, false)),
        (_, 540) => Some((2, true)),
        _ => None,
    }
}

/// Whether the file at `path` is NIfTI (plain or gzip), by content.
pub(crate) fn is_nifti(path: &Path, head: &[u8]) -> bool {
    if head.len() >= 2 && head[..2] == GZ_MAGIC {
        let Ok(f) = File::open(path) else {
            return false;
        };
        let mut dec = MultiGzDecoder::new(BufReader::new(f));
        let mut first = [0u8; 4];
        return dec.read_exact(&mut first).is_ok() && sniff_header(&first).is_some();
    }
    sniff_header(head).is_some()
}

fn open_stream(path: &Path) -> Result<(Box<dyn Read>, bool, u64), IoError> {
    crate::regular_file(path)?;
    let mut f = File::open(path).map_err(|e| IoError::os(path, e))?;
    let len = f.metadata().map_err(|e| IoError::os(path, e))?.len();
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic).map_err(|e| IoError::os(path, e))?;
    drop(f);
    let f = File::open(path).map_err(|e| IoError::os(path, e))?;
    let reader = BufReader::with_capacity(1 << 16, f);
    if n == 2 && magic == GZ_MAGIC {
        Ok((Box::new(MultiGzDecoder::new(reader)), true, len))
    } else {
        Ok((Box::new(reader), false, len))
    }
}

fn gz_err(path: &Path, gz: bool, e: std::io::Error, what: &str) -> IoError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        IoError::truncated(path, format!("file ends inside the {what}"))
    } else if gz {
        IoError::invalid(
            path,
            format!("gzip stream broken while reading the {what}: {e}"),
        )
    } else {
        IoError::os(path, e)
    }
}

pub(crate) fn parse_header(path: &Path, r: &mut dyn Read, gz: bool) -> Result<Header, IoError> {
    let mut buf = vec![0u8; 540];
    r.read_exact(&mut buf[..4])
        .map_err(|e| gz_err(path, gz, e, "NIfTI header"))?;
    let (version, be) = sniff_header(&buf[..4]).ok_or_else(|| {
        IoError::invalid(
            path,
            "wrong magic: sizeof_hdr is neither 348 (NIfTI-1) nor 540 (NIfTI-2) in either byte order",
        )
    })?;
    let size = if version == 1 { 348 } else { 540 };
    r.read_exact(&mut buf[4..size])
        .map_err(|e| gz_err(path, gz, e, "NIfTI header"))?;
    let f = Fields { b: &buf, be };
    let mut h = Header {
        version,
        big_endian: be,
        dim: [0; 8],
        datatype: 0,
        bitpix: 0,
        pixdim: [0.0; 8],
        vox_offset: 0.0,
        scl_slope: 0.0,
        scl_inter: 0.0,
        qform_code: 0,
        sform_code: 0,
        quatern: [0.0; 3],
        qoffset: [0.0; 3],
        srow: [[0.0; 4]; 3],
        xyzt_units: 0,
        magic: [0; 8],
    };
    if version == 1 {
        for i in 0..8 {
            h.dim[i] = f.i16(40 + 2 * i) as i64;
            h.pixdim[i] = f.f32(76 + 4 * i);
        }
        h.datatype = f.i16(70);
        h.bitpix = f.i16(72);
        h.vox_offset = f.f32(108);
        h.scl_slope = f.f32(112);
        h.scl_inter = f.f32(116);
        h.xyzt_units = buf[123] as i32;
        h.qform_code = f.i16(252) as i32;
        h.sform_code = f.i16(254) as i32;
        for i in 0..3 {
            h.quatern[i] = f.f32(256 + 4 * i);
            h.qoffset[i] = f.f32(268 + 4 * i);
            for c in 0..4 {
                h.srow[i][c] = f.f32(280 + 16 * i + 4 * c);
            }
        }
        h.magic[..4].copy_from_slice(&buf[344..348]);
        match &h.magic[..4] {
            b"n+1\0" => {}
            b"ni1\0" => {
                return Err(IoError::unsupported(
                    path,
                    "NIfTI-1 header/image pair (magic `ni1`, .hdr + .img) is not supported; \
                     convert to a single .nii file",
                ))
            }
            _ => return Err(IoError::invalid(
                path,
                "wrong magic: NIfTI-1 header without `n+1` magic (ANALYZE 7.5 is not supported)",
            )),
        }
    } else {
        h.magic.copy_from_slice(&buf[4..12]);
        if &h.magic != b"n+2\0\r\n\x1a\n" {
            return Err(IoError::invalid(
                path,
                "wrong magic: NIfTI-2 header without the `n+2\\0\\r\\n\\x1a\\n` magic",
            ));
        }
        h.datatype = f.i16(12);
        h.bitpix = f.i16(14);
        for i in 0..8 {
            h.dim[i] = f.i64(16 + 8 * i);
            h.pixdim[i] = f.f64(104 + 8 * i);
        }
        h.vox_offset = f.i64(168) as f64;
        h.scl_slope = f.f64(176);
        h.scl_inter = f.f64(184);
        h.qform_code = f.i32(344);
        h.sform_code = f.i32(348);
        for i in 0..3 {
            h.quatern[i] = f.f64(352 + 8 * i);
            h.qoffset[i] = f.f64(376 + 8 * i);
            for c in 0..4 {
                h.srow[i][c] = f.f64(400 + 32 * i + 8 * c);
            }
        }
        h.xyzt_units = f.i32(500);
    }
    Ok(h)
}

/// Sizes checked against the header and the limits: (nx, ny, nz, nt, bytes per voxel).
fn checked_dims(
    path: &Path,
    h: &Header,
    opts: &LoadOptions,
) -> Result<([usize; 4], usize, &'static str), IoError> {
    let ndim = h.dim[0];
    if !(1..=7).contains(&ndim) {
        return Err(IoError::invalid(
            path,
            format!("dim[0] = {ndim}, must be 1..7"),
        ));
    }
    let ndim = ndim as usize;
    let mut d = [1i64; 7];
    for (a, v) in d.iter_mut().enumerate().take(ndim) {
        *v = h.dim[a + 1];
    }
    if let Some(a) = d[..ndim].iter().position(|&v| v <= 0) {
        return Err(IoError::invalid(
            path,
            format!(
                "zero-sized or negative axis: dim[{}] = {} (dims {:?})",
                a + 1,
                d[a],
                &d[..ndim]
            ),
        ));
    }
    if d[4..].iter().any(|&v| v > 1) {
        return Err(IoError::unsupported(
            path,
            format!(
                "{ndim}-D image (dims {:?}); only 3-D and 4-D are read",
                &d[..ndim]
            ),
        ));
    }
    let (name, bpv) = datatype_info(h.datatype).ok_or_else(|| {
        IoError::unsupported(
            path,
            format!(
                "NIfTI datatype {} ({})",
                h.datatype,
                datatype_name_unsupported(h.datatype)
            ),
        )
    })?;
    if h.bitpix as usize != bpv * 8 {
        return Err(IoError::invalid(
            path,
            format!(
                "bitpix {} disagrees with datatype {name} ({} bits)",
                h.bitpix,
                bpv * 8
            ),
        ));
    }
    if h.datatype == 128 && !opts.grey_from_rgb {
        return Err(IoError::new(
            path,
            crate::IoErrorKind::Colour(
                "NIfTI RGB24 image where grey is required (load with grey_from_rgb to convert \
                 by Rec.601 luminance)"
                    .into(),
            ),
        ));
    }
    let dims = [d[0] as u64, d[1] as u64, d[2] as u64, d[3] as u64];
    let voxels = dims[0]
        .checked_mul(dims[1])
        .and_then(|v| v.checked_mul(dims[2]));
    match voxels {
        Some(v) if v <= opts.max_voxels as u64 => {}
        _ => {
            return Err(IoError::too_large(
                path,
                format!(
                    "header dims {}×{}×{} exceed the limit of {} voxels per volume",
                    dims[0], dims[1], dims[2], opts.max_voxels
                ),
            ))
        }
    }
    Ok((
        [
            dims[0] as usize,
            dims[1] as usize,
            dims[2] as usize,
            dims[3] as usize,
        ],
        bpv,
        name,
    ))
}

/// Read a NIfTI file.
pub(crate) fn read(path: &Path, opts: &LoadOptions) -> Result<Loaded, IoError> {
    let (mut r, gz, file_len) = open_stream(path)?;
    let h = parse_header(path, &mut *r, gz)?;
    let ([nx, ny, nz, nt], bpv, dtype) = checked_dims(path, &h, opts)?;
    if opts.volume_index >= nt {
        return Err(IoError::new(
            path,
            crate::IoErrorKind::Selection(format!(
                "volume index {} out of range: the image has {nt} volume(s)",
                opts.volume_index
            )),
        ));
    }
    let hdr_size = if h.version == 1 { 348u64 } else { 540 };
    let vox_offset = h.vox_offset;
    if !vox_offset.is_finite() || vox_offset < hdr_size as f64 || vox_offset.fract() != 0.0 {
        return Err(IoError::invalid(
            path,
            format!("vox_offset {vox_offset} is not an integer ≥ the header size {hdr_size}"),
        ));
    }
    let vox_offset = vox_offset as u64;
    let vol_bytes = (nx * ny * nz) as u64 * bpv as u64;
    let total = (nt as u64)
        .checked_mul(vol_bytes)
        .and_then(|v| v.checked_add(vox_offset))
        .ok_or_else(|| IoError::too_large(path, "header sizes overflow"))?;
    if !gz && file_len < total {
        return Err(IoError::invalid(
            path,
            format!(
                "header dims {nx}×{ny}×{nz}×{nt} of {dtype} need {total} bytes (data from offset \
                 {vox_offset}) but the file has {file_len} bytes"
            ),
        ));
    }
    // skip the extensions and the volumes before the one asked for
    let skip = vox_offset - hdr_size + opts.volume_index as u64 * vol_bytes;
    let skipped = std::io::copy(&mut (&mut r).take(skip), &mut std::io::sink())
        .map_err(|e| gz_err(path, gz, e, "data"))?;
    if skipped < skip {
        return Err(IoError::truncated(
            path,
            format!("the data ends before volume {} starts", opts.volume_index),
        ));
    }
    // memory: the stored bytes plus the float32 voxels (decoded straight into f32)
    let need = vol_bytes.saturating_add(4 * (nx * ny * nz) as u64);
    if need > opts.max_bytes {
        return Err(IoError::too_large(
            path,
            format!(
                "header dims {nx}×{ny}×{nz} of {dtype} need about {need} bytes to load, over the \
                 memory budget of {} bytes (--max-memory)",
                opts.max_bytes
            ),
        ));
    }
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(vol_bytes as usize)
        .map_err(|_| IoError::too_large(path, format!("cannot allocate {vol_bytes} bytes")))?;
    (&mut r)
        .take(vol_bytes)
        .read_to_end(&mut bytes)
        .map_err(|e| gz_err(path, gz, e, "voxel data"))?;
    if (bytes.len() as u64) < vol_bytes {
        return Err(IoError::truncated(
            path,
            format!(
                "header dims {nx}×{ny}×{nz}×{nt} of {dtype} need {vol_bytes} bytes for volume {} \
                 but only {} are present",
                opts.volume_index,
                bytes.len()
            ),
        ));
    }
    if gz {
        // read the stream to its end so flate2 verifies the CRC-32 and ISIZE trailer; what
        // follows the data is bounded by the header (other volumes) plus 1 MiB
        let rest = total - vox_offset - (opts.volume_index as u64 + 1) * vol_bytes;
        let allowed = rest.saturating_add(1 << 20);
        let drained = std::io::copy(&mut (&mut r).take(allowed + 1), &mut std::io::sink())
            .map_err(|e| gz_err(path, gz, e, "data after the selected volume"))?;
        if drained > allowed {
            return Err(IoError::invalid(
                path,
                format!(
                    "gzip stream holds more than {allowed} bytes after the data the header \
                     announces ({nx}×{ny}×{nz}×{nt} of {dtype})"
                ),
            ));
        }
        if drained < rest {
            return Err(IoError::truncated(
                path,
                format!(
                    "header dims {nx}×{ny}×{nz}×{nt} need {rest} more bytes after volume {} but \
                     the stream ends after {drained}",
                    opts.volume_index
                ),
            ));
        }
    }
    drop(r);
    let scaled = h.scl_slope != 0.0
        && h.scl_slope.is_finite()
        && h.scl_inter.is_finite()
        && !(h.scl_slope == 1.0 && h.scl_inter == 0.0);
    let (slope, inter) = if scaled {
        (h.scl_slope, h.scl_inter)
    } else {
        (1.0, 0.0)
    };
    let data = decode_values(&bytes, h.datatype, h.big_endian, slope, inter);
    drop(bytes);
    let data = Array3::from_shape_vec((nz, ny, nx), data)
        .map_err(|e| IoError::invalid(path, format!("shape: {e}")))?;

    let unit_scale = match h.xyzt_units & 0x07 {
        1 => 1000.0,
        3 => 0.001,
        _ => 1.0,
    };
    let mut spacing_assumed = false;
    let mut sp = [0.0f64; 3];
    for (a, s) in sp.iter_mut().enumerate() {
        // array axis a ↔ NIfTI dim 3 - a
        let p = h.pixdim[3 - a].abs() * unit_scale;
        if !p.is_finite() || p > crate::guard::MAX_SPACING_MM {
            return Err(IoError::invalid(
                path,
                format!(
                    "pixdim[{}] = {} ({p} mm) is not a plausible voxel size (finite, at most {} mm)",
                    3 - a,
                    h.pixdim[3 - a],
                    crate::guard::MAX_SPACING_MM
                ),
            ));
        }
        *s = if p > 0.0 {
            p
        } else {
            spacing_assumed = true;
            1.0
        };
    }
    let mut affine = header_affine(&h, [sp[2], sp[1], sp[0]], unit_scale);
    if affine.iter().flatten().any(|v| !v.is_finite()) || det3(&affine).abs() < 1e-12 {
        affine = artefact_core::image::diagonal_affine(sp);
    }
    let modality = opts.modality.unwrap_or(Modality::Mr);
    let volume = Volume::with_affine(data, sp, affine, modality, modality.natural_unit())
        .map_err(|e| IoError::invalid(path, e.to_string()))?;
    let mut meta = Meta::new(
        path.to_path_buf(),
        if h.version == 1 {
            Format::Nifti1
        } else {
            Format::Nifti2
        },
        modality,
    );
    meta.frames = nz;
    meta.volumes = nt;
    meta.volume_index = opts.volume_index;
    meta.datatype = Some(dtype.to_string());
    meta.bits_stored = Some((bpv * 8) as u16);
    meta.spacing_assumed = spacing_assumed;
    if scaled {
        meta.rescale = Some(Rescale {
            slope: h.scl_slope,
            intercept: h.scl_inter,
        });
    }
    Ok(Loaded { volume, meta })
}

/// Stored values → `slope · v + inter` as float32, straight from the bytes (no wider
/// intermediate: peak memory is the stored bytes plus 4 bytes per voxel).
fn decode_values(bytes: &[u8], datatype: i16, be: bool, slope: f64, inter: f64) -> Vec<f32> {
    let f = |v: f64| (v * slope + inter) as f32;
    macro_rules! conv {
        ($t:ty, $n:expr) => {
            bytes
                .chunks_exact($n)
                .map(|c| {
                    let a: [u8; $n] = c.try_into().unwrap();
                    f((if be {
                        <$t>::from_be_bytes(a)
                    } else {
                        <$t>::from_le_bytes(a)
                    }) as f64)
                })
                .collect()
        };
    }
    match datatype {
        2 => bytes.iter().map(|&b| f(b as f64)).collect(),
        256 => bytes.iter().map(|&b| f(b as i8 as f64)).collect(),
        4 => conv!(i16, 2),
        512 => conv!(u16, 2),
        8 => conv!(i32, 4),
        768 => conv!(u32, 4),
        16 => conv!(f32, 4),
        64 => conv!(f64, 8),
        1024 => conv!(i64, 8),
        1280 => conv!(u64, 8),
        128 => bytes
            .chunks_exact(3)
            .map(|c| {
                f(crate::raster::luma601(
                    c[0] as f64,
                    c[1] as f64,
                    c[2] as f64,
                ))
            })
            .collect(),
        _ => unreachable!("datatype checked before decoding"),
    }
}

fn det3(a: &[[f64; 4]; 4]) -> f64 {
    a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
        - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
        + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
}

/// The affine of a header (sform > qform > pixdim), in mm. `zooms` = (dx, dy, dz) in mm.
pub(crate) fn header_affine(h: &Header, zooms: [f64; 3], unit_scale: f64) -> [[f64; 4]; 4] {
    let mut a = [[0.0; 4]; 4];
    a[3][3] = 1.0;
    if h.sform_code > 0 {
        for r in 0..3 {
            for c in 0..4 {
                a[r][c] = h.srow[r][c] * unit_scale;
            }
        }
    } else if h.qform_code > 0 {
        let [b, c, d] = h.quatern;
        let s = 1.0 - (b * b + c * c + d * d);
        let (a0, b, c, d) = if s > 0.0 {
            (s.sqrt(), b, c, d)
        } else {
            let n = (b * b + c * c + d * d).sqrt();
            (0.0, b / n, c / n, d / n)
        };
        let r = [
            [
                a0 * a0 + b * b - c * c - d * d,
                2.0 * (b * c - a0 * d),
                2.0 * (b * d + a0 * c),
            ],
            [
                2.0 * (b * c + a0 * d),
                a0 * a0 + c * c - b * b - d * d,
                2.0 * (c * d - a0 * b),
            ],
            [
                2.0 * (b * d - a0 * c),
                2.0 * (c * d + a0 * b),
                a0 * a0 + d * d - c * c - b * b,
            ],
        ];
        let qfac = if h.pixdim[0] < 0.0 { -1.0 } else { 1.0 };
        let z = [zooms[0], zooms[1], zooms[2] * qfac];
        for (row, rr) in r.iter().enumerate() {
            for col in 0..3 {
                a[row][col] = rr[col] * z[col];
            }
            a[row][3] = h.qoffset[row] * unit_scale;
        }
    } else {
        for i in 0..3 {
            a[i][i] = zooms[i];
        }
    }
    a
}

/// Rigid part of an affine as a NIfTI quaternion: (b, c, d, qfac).
fn affine_to_quatern(a: &[[f64; 4]; 4]) -> ([f64; 3], f64) {
    // columns, normalised
    let mut col = [[0.0f64; 3]; 3];
    for (c, cv) in col.iter_mut().enumerate() {
        let n = (0..3).map(|r| a[r][c] * a[r][c]).sum::<f64>().sqrt();
        for r in 0..3 {
            cv[r] = if n > 0.0 {
                a[r][c] / n
            } else if r == c {
                1.0
            } else {
                0.0
            };
        }
    }
    // Gram–Schmidt to remove shear
    let dot = |u: &[f64; 3], v: &[f64; 3]| u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    let norm = |u: &mut [f64; 3]| {
        let n = dot(u, u).sqrt();
        if n > 0.0 {
            u.iter_mut().for_each(|x| *x /= n);
        }
    };
    let (c0, c1) = (col[0], col[1]);
    let p = dot(&c1, &c0);
    let mut c1n = [c1[0] - p * c0[0], c1[1] - p * c0[1], c1[2] - p * c0[2]];
    norm(&mut c1n);
    let cross = [
        c0[1] * c1n[2] - c0[2] * c1n[1],
        c0[2] * c1n[0] - c0[0] * c1n[2],
        c0[0] * c1n[1] - c0[1] * c1n[0],
    ];
    let qfac = if dot(&cross, &col[2]) < 0.0 {
        -1.0
    } else {
        1.0
    };
    let c2 = cross; // proper rotation third column
                    // r[row][col]
    let r = [
        [c0[0], c1n[0], c2[0]],
        [c0[1], c1n[1], c2[1]],
        [c0[2], c1n[2], c2[2]],
    ];
    let trace = r[0][0] + r[1][1] + r[2][2] + 1.0;
    let (a0, b, c, d);
    if trace > 0.5 {
        let s = trace.sqrt() * 2.0; // 4a
        a0 = 0.25 * s;
        b = (r[2][1] - r[1][2]) / s;
        c = (r[0][2] - r[2][0]) / s;
        d = (r[1][0] - r[0][1]) / s;
    } else {
        let xd = 1.0 + r[0][0] - (r[1][1] + r[2][2]);
        let yd = 1.0 + r[1][1] - (r[0][0] + r[2][2]);
        let zd = 1.0 + r[2][2] - (r[0][0] + r[1][1]);
        if xd > 1.0 {
            let bb = 0.5 * xd.sqrt();
            b = bb;
            c = 0.25 * (r[0][1] + r[1][0]) / bb;
            d = 0.25 * (r[0][2] + r[2][0]) / bb;
            a0 = 0.25 * (r[2][1] - r[1][2]) / bb;
        } else if yd > 1.0 {
            let cc = 0.5 * yd.sqrt();
            c = cc;
            b = 0.25 * (r[0][1] + r[1][0]) / cc;
            d = 0.25 * (r[1][2] + r[2][1]) / cc;
            a0 = 0.25 * (r[0][2] - r[2][0]) / cc;
        } else {
            let dd = 0.5 * zd.sqrt();
            d = dd;
            b = 0.25 * (r[0][2] + r[2][0]) / dd;
            c = 0.25 * (r[1][2] + r[2][1]) / dd;
            a0 = 0.25 * (r[1][0] - r[0][1]) / dd;
        }
    }
    let sign = if a0 < 0.0 { -1.0 } else { 1.0 };
    ([b * sign, c * sign, d * sign], qfac)
}

/// Serialise a volume as a little-endian NIfTI-1 image with float32 voxels (header + data).
pub(crate) fn encode(vol: &Volume) -> Vec<u8> {
    let (nz, ny, nx) = vol.data.dim();
    let mut h = vec![0u8; 352];
    let put_i16 =
        |h: &mut Vec<u8>, off: usize, v: i16| h[off..off + 2].copy_from_slice(&v.to_le_bytes());
    let put_f32 = |h: &mut Vec<u8>, off: usize, v: f64| {
        h[off..off + 4].copy_from_slice(&(v as f32).to_le_bytes())
    };
    h[0..4].copy_from_slice(&348i32.to_le_bytes());
    h[38] = b'r'; // "regular", as written by most tools
    let dims = [3i64, nx as i64, ny as i64, nz as i64, 1, 1, 1, 1];
    for (i, d) in dims.iter().enumerate() {
        put_i16(&mut h, 40 + 2 * i, *d as i16);
    }
    put_i16(&mut h, 70, 16); // float32
    put_i16(&mut h, 72, 32);
    let (quat, qfac) = affine_to_quatern(&vol.affine);
    let zooms = [vol.spacing[2], vol.spacing[1], vol.spacing[0]];
    put_f32(&mut h, 76, qfac);
    for (i, z) in zooms.iter().enumerate() {
        put_f32(&mut h, 80 + 4 * i, *z);
    }
    put_f32(&mut h, 92, 1.0); // pixdim[4]: time step (unused)
    put_f32(&mut h, 108, 352.0); // vox_offset
    put_f32(&mut h, 112, 1.0); // scl_slope
    put_f32(&mut h, 116, 0.0); // scl_inter
    h[123] = 2; // xyzt_units: mm
    let descrip = b"artefact";
    h[148..148 + descrip.len()].copy_from_slice(descrip);
    put_i16(&mut h, 252, 1); // qform_code: scanner
    put_i16(&mut h, 254, 1); // sform_code: scanner
    for i in 0..3 {
        put_f32(&mut h, 256 + 4 * i, quat[i]);
        put_f32(&mut h, 268 + 4 * i, vol.affine[i][3]);
        for c in 0..4 {
            put_f32(&mut h, 280 + 16 * i + 4 * c, vol.affine[i][c]);
        }
    }
    h[344..348].copy_from_slice(b"n+1\0");
    // bytes 348..352: extension flag, all zero (no extensions)
    h.reserve(vol.data.len() * 4);
    for v in vol.data.iter() {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h
}

/// Write `vol` as NIfTI-1 float32 (`.nii`, or gzip when the name ends in `.gz`), atomically.
pub fn write_nifti(path: &Path, vol: &Volume) -> Result<(), IoError> {
    let (nz, ny, nx) = vol.data.dim();
    if nx > i16::MAX as usize || ny > i16::MAX as usize || nz > i16::MAX as usize {
        return Err(IoError::too_large(
            path,
            format!("dims {nx}×{ny}×{nz} exceed NIfTI-1's 32767 per axis"),
        ));
    }
    let bytes = encode(vol);
    let gz = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".gz"));
    write_atomic(path, |w| {
        if gz {
            let mut enc = flate2::write::GzEncoder::new(w, flate2::Compression::new(6));
            std::io::Write::write_all(&mut enc, &bytes)?;
            enc.finish()?;
            Ok(())
        } else {
            std::io::Write::write_all(w, &bytes)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quaternion_round_trip_for_oblique_and_flipped_affines() {
        let angle: f64 = 0.3;
        let (s, c) = angle.sin_cos();
        for flip in [1.0, -1.0] {
            let aff = [
                [c * 2.0, -s * 3.0, 0.0, 10.0],
                [s * 2.0, c * 3.0, 0.0, -5.0],
                [0.0, 0.0, 4.0 * flip, 7.0],
                [0.0, 0.0, 0.0, 1.0],
            ];
            let (q, qfac) = affine_to_quatern(&aff);
            assert_eq!(qfac, flip);
            let h = Header {
                version: 1,
                big_endian: false,
                dim: [3, 1, 1, 1, 1, 1, 1, 1],
                datatype: 16,
                bitpix: 32,
                pixdim: [qfac, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0],
                vox_offset: 352.0,
                scl_slope: 0.0,
                scl_inter: 0.0,
                qform_code: 1,
                sform_code: 0,
                quatern: q,
                qoffset: [10.0, -5.0, 7.0],
                srow: [[0.0; 4]; 3],
                xyzt_units: 2,
                magic: *b"n+1\0\0\0\0\0",
            };
            let back = header_affine(&h, [2.0, 3.0, 4.0], 1.0);
            for r in 0..4 {
                for cc in 0..4 {
                    assert!(
                        (back[r][cc] - aff[r][cc]).abs() < 1e-9,
                        "{back:?} vs {aff:?}"
                    );
                }
            }
        }
    }
}
