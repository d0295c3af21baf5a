//! JPEG-compressed TIFF (Compression = 7, "new-style" JPEG, TIFF Technical Note 2): the layout
//! of slide-scanner exports (Aperio SVS and most whole-slide TIFFs), QuPath and tifffile
//! exports, and many microscope cameras. The `image` crate refuses the common YCbCr form, so
//! the first image of such a file is decoded here.
//!
//! Each tile or strip is a JPEG stream; when the file has a `JPEGTables` tag (347) the streams
//! are abbreviated and the shared tables (an SOI … EOI stream of DQT/DHT segments) are put in
//! front of each one, as TIFF TN2 describes. Colour follows the TIFF
//! `PhotometricInterpretation`: YCbCr (6) is converted to RGB with the JFIF full-range
//! equations (libtiff's `JPEGCOLORMODE_RGB`), BlackIsZero (1) is grey, and RGB (2) is taken as
//! stored (Aperio and libtiff write RGB-coded JPEG without a JFIF segment) unless the stream
//! itself says it is YCbCr (a JFIF APP0 segment, or an Adobe APP14 segment with transform 1),
//! as tifffile decides. Chroma subsampling is undone by the JPEG decoder.
//!
//! Only 8-bit samples, chunky (interleaved) layout, one or three samples per pixel are read;
//! anything else (12-bit JPEG, alpha, planar JPEG, old-style JPEG = 6) is refused by name.
//! Every tile or strip must be whole (it reaches its end-of-image marker) and at least as large
//! as the part of the image it covers: a truncated or damaged file is refused, never filled.

use crate::codec::jpeg_markers::{check_complete, declared, Defect};
use crate::codec::jpeg_scan::check_scans;
use crate::IoError;
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage as ImgRgb};
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use tiff::decoder::Decoder;
use tiff::tags::Tag;

/// The first image of a JPEG-compressed TIFF, decoded (stored orientation).
pub(crate) struct Decoded {
    pub img: DynamicImage,
    /// The Orientation tag (274), identity when absent or out of range.
    pub orientation: Orientation,
    /// The ICC profile tag (34675), if any.
    pub icc: Option<Vec<u8>>,
}

/// Limits a decode must stay within.
pub(crate) struct Limits {
    pub max_pixels: u64,
    /// The noun used for `max_pixels` in the error ("pixels", "voxels").
    pub unit: &'static str,
    /// Bytes: the decoded samples plus `out_per_pixel` bytes per pixel of output.
    pub max_bytes: u64,
    pub out_per_pixel: u64,
}

/// How to turn a stream's components into RGB.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Coding {
    Grey,
    Rgb,
    YCbCr,
}

fn tiff_err(path: &Path, e: tiff::TiffError) -> IoError {
    match e {
        tiff::TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            IoError::truncated(path, format!("file ends early ({io})"))
        }
        tiff::TiffError::IoError(io) => IoError::os(path, io),
        tiff::TiffError::LimitsExceeded => {
            IoError::too_large(path, "a TIFF directory is over the decoder's limits")
        }
        other => IoError::invalid(path, format!("TIFF: {other}")),
    }
}

/// The colour coding of one JPEG stream: the TIFF's photometric interpretation, except that
/// an RGB-tagged stream that declares YCbCr itself (JFIF APP0, Adobe APP14 transform ≠ 0) is
/// YCbCr.
fn coding_of(stream: &[u8], photometric: u16, components: usize) -> Coding {
    if components == 1 {
        return Coding::Grey;
    }
    if photometric == 6 {
        return Coding::YCbCr;
    }
    let d = declared(stream);
    if d.jfif || d.adobe_transform.is_some_and(|t| t != 0) {
        Coding::YCbCr
    } else {
        Coding::Rgb
    }
}

/// The JPEG stream of one chunk: the chunk itself, or the shared tables in front of it (the
/// tables' EOI and the chunk's SOI dropped).
fn splice<'a>(tables: Option<&[u8]>, chunk: &'a [u8]) -> Cow<'a, [u8]> {
    match tables {
        Some(t) if t.len() >= 4 && chunk.len() >= 2 => {
            Cow::Owned([&t[..t.len() - 2], &chunk[2..]].concat())
        }
        _ => Cow::Borrowed(chunk),
    }
}

/// Decode one JPEG stream to 8-bit samples (`channels` per pixel) and its size.
fn decode_chunk(
    stream: &[u8],
    photometric: u16,
    channels: usize,
    max_bytes: u64,
) -> Result<(Vec<u8>, usize, usize), String> {
    check_complete(stream)
        .and_then(|()| check_scans(stream))
        .map_err(|d| match d {
            Defect::Truncated(r) | Defect::Invalid(r) => r,
        })?;
    let mut dec = jpeg_decoder::Decoder::new(stream);
    dec.set_max_decoding_buffer_size(usize::try_from(max_bytes).unwrap_or(usize::MAX));
    dec.read_info().map_err(|e| e.to_string())?;
    let info = dec.info().ok_or("no frame header")?;
    let comps = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        other => return Err(format!("{other:?} JPEG data is not read")),
    };
    if comps != channels {
        return Err(format!(
            "the JPEG data has {comps} components where the TIFF says {channels}"
        ));
    }
    let transform = match coding_of(stream, photometric, comps) {
        Coding::Grey => jpeg_decoder::ColorTransform::Grayscale,
        Coding::Rgb => jpeg_decoder::ColorTransform::RGB,
        Coding::YCbCr => jpeg_decoder::ColorTransform::YCbCr,
    };
    dec.set_color_transform(transform);
    let px = dec.decode().map_err(|e| e.to_string())?;
    let (w, h) = (info.width as usize, info.height as usize);
    if px.len() != w * h * channels {
        return Err("decoded sample count disagrees with the frame size".into());
    }
    Ok((px, w, h))
}

/// Decode the first image of the TIFF at `path` if it is JPEG-compressed (7); `None` when it
/// is not, or when its first directory cannot be read (the general reader then reports the
/// problem). An old-style JPEG (6) is refused with its name.
pub(crate) fn read(path: &Path, limits: &Limits) -> Result<Option<Decoded>, IoError> {
    let file_len = crate::regular_file(path)?.len();
    let f = File::open(path).map_err(|e| IoError::os(path, e))?;
    let Ok(mut d) = Decoder::new(BufReader::new(f)) else {
        return Ok(None);
    };
    match d.find_tag_unsigned::<u16>(Tag::Compression) {
        Ok(Some(7)) => {}
        Ok(Some(6)) => {
            return Err(IoError::unsupported(
                path,
                "old-style JPEG-in-TIFF (Compression = 6, withdrawn by TIFF Technical Note 2) \
                 is not read: convert it, e.g. with `tiffcp -c jpeg` or `tiffcp -c lzw`",
            ))
        }
        _ => return Ok(None),
    }
    let bad = |why: String| IoError::invalid(path, why);
    let unsupported = |why: String| IoError::unsupported(path, why);
    let (w, h) = d.dimensions().map_err(|e| tiff_err(path, e))?;
    let (w, h) = (w as usize, h as usize);
    if w == 0 || h == 0 {
        return Err(bad(format!("zero-sized image {w}×{h}")));
    }
    if (w as u64) * (h as u64) > limits.max_pixels {
        return Err(IoError::too_large(
            path,
            format!(
                "{w}×{h} pixels exceed the limit of {} {}",
                limits.max_pixels, limits.unit
            ),
        ));
    }
    let tag_u = |d: &mut Decoder<_>, t: Tag| -> Result<Option<u64>, IoError> {
        d.find_tag_unsigned::<u64>(t).map_err(|e| tiff_err(path, e))
    };
    let photometric = tag_u(&mut d, Tag::PhotometricInterpretation)?
        .ok_or_else(|| bad("no PhotometricInterpretation tag".into()))?
        as u16;
    let spp = tag_u(&mut d, Tag::SamplesPerPixel)?.unwrap_or(1) as usize;
    let bits = d
        .find_tag_unsigned_vec::<u16>(Tag::BitsPerSample)
        .map_err(|e| tiff_err(path, e))?
        .unwrap_or_else(|| vec![1]);
    let planar = tag_u(&mut d, Tag::PlanarConfiguration)?.unwrap_or(1);
    let channels = match (photometric, spp) {
        (1, 1) => 1,
        (2 | 6, 3) => 3,
        (p, s) => {
            return Err(unsupported(format!(
                "JPEG-compressed TIFF with PhotometricInterpretation {p} and {s} samples per \
                 pixel is not read (grey, RGB and YCbCr without alpha are)"
            )))
        }
    };
    if bits.iter().any(|&b| b != 8) {
        return Err(unsupported(format!(
            "JPEG-compressed TIFF with {bits:?} bits per sample is not read (8 is)"
        )));
    }
    if channels > 1 && planar != 1 {
        return Err(unsupported(
            "JPEG-compressed TIFF with separate colour planes is not read".into(),
        ));
    }
    let need = (w as u64 * h as u64).saturating_mul(channels as u64 + limits.out_per_pixel);
    if need > limits.max_bytes {
        return Err(IoError::too_large(
            path,
            format!(
                "a {w}×{h} JPEG-compressed TIFF needs about {need} bytes to decode, over the \
                 memory budget of {} bytes (--max-memory)",
                limits.max_bytes
            ),
        ));
    }
    // chunk geometry: tiles, or strips of RowsPerStrip rows across the whole width
    let tiled = tag_u(&mut d, Tag::TileWidth)?;
    let (cw, ch, offsets, counts) = match tiled {
        Some(tw) => {
            let tl = tag_u(&mut d, Tag::TileLength)?
                .ok_or_else(|| bad("TileWidth without TileLength".into()))?;
            let off = d.get_tag_u64_vec(Tag::TileOffsets);
            let cnt = d.get_tag_u64_vec(Tag::TileByteCounts);
            (tw as usize, tl as usize, off, cnt)
        }
        None => {
            let rps = tag_u(&mut d, Tag::RowsPerStrip)?
                .unwrap_or(h as u64)
                .min(h as u64);
            let off = d.get_tag_u64_vec(Tag::StripOffsets);
            let cnt = d.get_tag_u64_vec(Tag::StripByteCounts);
            (w, rps as usize, off, cnt)
        }
    };
    let offsets = offsets.map_err(|e| tiff_err(path, e))?;
    let counts = counts.map_err(|e| tiff_err(path, e))?;
    if cw == 0 || ch == 0 {
        return Err(bad(format!("zero-sized tile or strip {cw}×{ch}")));
    }
    let (across, down) = (w.div_ceil(cw), h.div_ceil(ch));
    if offsets.len() != across * down || counts.len() != offsets.len() {
        return Err(bad(format!(
            "{} chunk offsets and {} byte counts for {across}×{down} tiles or strips",
            offsets.len(),
            counts.len()
        )));
    }
    let tables = match d.find_tag(Tag::JPEGTables).map_err(|e| tiff_err(path, e))? {
        Some(v) => Some(v.into_u8_vec().map_err(|e| tiff_err(path, e))?),
        None => None,
    };
    let orientation = tag_u(&mut d, Tag::Orientation)?
        .and_then(|v| u8::try_from(v).ok())
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms);
    let icc = match d.find_tag(Tag::IccProfile).map_err(|e| tiff_err(path, e))? {
        Some(v) => v.into_u8_vec().ok(),
        None => None,
    };

    let mut out = vec![0u8; w * h * channels];
    let file = d.inner();
    let mut chunk = Vec::new();
    for (k, (&off, &cnt)) in offsets.iter().zip(&counts).enumerate() {
        let (tx, ty) = (k % across, k / across);
        if off.checked_add(cnt).is_none_or(|end| end > file_len) {
            return Err(IoError::truncated(
                path,
                format!(
                    "tile or strip {k} ({cnt} bytes at {off}) lies past the end of the \
                     {file_len}-byte file"
                ),
            ));
        }
        if cnt > limits.max_bytes {
            return Err(IoError::too_large(
                path,
                format!(
                    "tile or strip {k} holds {cnt} bytes, over the memory budget of {} bytes",
                    limits.max_bytes
                ),
            ));
        }
        chunk.resize(cnt as usize, 0);
        file.seek(SeekFrom::Start(off))
            .and_then(|_| file.read_exact(&mut chunk))
            .map_err(|e| IoError::os(path, e))?;
        let stream = splice(tables.as_deref(), &chunk);
        let (px, pw, ph) = decode_chunk(&stream, photometric, channels, limits.max_bytes)
            .map_err(|why| bad(format!("JPEG tile or strip {k}: {why}")))?;
        let (x0, y0) = (tx * cw, ty * ch);
        let (vw, vh) = (cw.min(w - x0), ch.min(h - y0));
        if pw < vw || ph < vh {
            return Err(bad(format!(
                "JPEG tile or strip {k} is {pw}×{ph} where it must cover {vw}×{vh}"
            )));
        }
        for r in 0..vh {
            let src = &px[r * pw * channels..(r * pw + vw) * channels];
            let at = ((y0 + r) * w + x0) * channels;
            out[at..at + vw * channels].copy_from_slice(src);
        }
    }
    let img = if channels == 1 {
        DynamicImage::ImageLuma8(
            GrayImage::from_raw(w as u32, h as u32, out).ok_or_else(|| bad("size".into()))?,
        )
    } else {
        DynamicImage::ImageRgb8(
            ImgRgb::from_raw(w as u32, h as u32, out).ok_or_else(|| bad("size".into()))?,
        )
    };
    Ok(Some(Decoded {
        img,
        orientation,
        icc,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(m: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, m];
        s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(body);
        s
    }

    #[test]
    fn the_tag_decides_the_colour_coding_unless_an_rgb_stream_declares_ycbcr() {
        let soi = vec![0xFF, 0xD8];
        let bare = [soi.clone(), segment(0xDB, &[0; 65])].concat();
        assert_eq!(coding_of(&bare, 2, 3), Coding::Rgb);
        assert_eq!(coding_of(&bare, 6, 3), Coding::YCbCr);
        assert_eq!(coding_of(&bare, 1, 1), Coding::Grey);
        let jfif = [
            soi.clone(),
            segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"),
        ]
        .concat();
        assert_eq!(coding_of(&jfif, 2, 3), Coding::YCbCr);
        let mut adobe = b"Adobe\0\x64\0\0\0\0\0".to_vec();
        let rgb = [soi.clone(), segment(0xEE, &adobe)].concat();
        assert_eq!(coding_of(&rgb, 2, 3), Coding::Rgb);
        assert_eq!(coding_of(&rgb, 6, 3), Coding::YCbCr);
        adobe[11] = 1;
        let ycc = [soi, segment(0xEE, &adobe)].concat();
        assert_eq!(coding_of(&ycc, 2, 3), Coding::YCbCr);
    }

    #[test]
    fn tables_go_in_front_of_an_abbreviated_stream() {
        let tables = [vec![0xFF, 0xD8], segment(0xDB, &[1, 2]), vec![0xFF, 0xD9]].concat();
        let chunk = [vec![0xFF, 0xD8], segment(0xDA, &[3]), vec![9, 0xFF, 0xD9]].concat();
        let s = splice(Some(&tables), &chunk);
        let want = [
            vec![0xFF, 0xD8],
            segment(0xDB, &[1, 2]),
            segment(0xDA, &[3]),
            vec![9, 0xFF, 0xD9],
        ]
        .concat();
        assert_eq!(&*s, &want[..]);
        assert_eq!(&*splice(None, &chunk), &chunk[..]);
    }
}
