//! PNG, JPEG and TIFF through the `image` crate.
//!
//! Reading: 8- and 16-bit grey (with or without alpha) load as a one-slice volume of stored
//! values (no rescaling); RGB/RGBA is refused unless `LoadOptions::grey_from_rgb`, in which
//! case it is converted to luminance with the Rec. 601 weights
//! `Y = 0.299 R + 0.587 G + 0.114 B` (values stay in the source bit depth). Alpha is ignored.
//! Float TIFFs load as stored. Spacing is unknown in these formats: 1 mm is assumed and
//! `Meta::spacing_assumed` is set. Pixels are turned to the orientation the file records
//! (EXIF in JPEG and PNG, the TIFF Orientation tag), the way viewers show them, and the turn
//! is recorded in `Meta::orientation_applied`. The modality is photo unless `LoadOptions::modality` says
//! otherwise; the unit follows the modality.
//!
//! Writing: 8-bit and 16-bit grey PNG, atomically.
//!
//! Colour: [`read_rgb_raster`] reads colour (and grey) PNG/JPEG/TIFF into an
//! [`artefact_core::RgbImage`] in linear light (sRGB decoded); [`write_png_rgb`] writes an
//! 8-bit sRGB PNG.

use crate::atomic::write_atomic;
use crate::meta::Format;
use crate::{IoError, IoErrorKind, LoadOptions, Loaded, Meta};
use artefact_core::{Modality, RgbImage, Volume};
use image::{DynamicImage, ImageDecoder, ImageReader};
use ndarray::{Array2, Array3};
use std::path::Path;

/// Rec. 601 luma.
pub(crate) fn luma601(r: f64, g: f64, b: f64) -> f64 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// A decoder for `path` whose allocations are capped by `max_bytes` (`image::Limits`).
///
/// A JPEG is read into memory once, checked to be whole (it must reach its end-of-image
/// marker and every sequential scan must code all of its blocks: the decoder would fill a
/// missing part with grey or the last colour and say nothing; malformed marker segments are
/// refused too) and decoded from those bytes; other formats stream from the file.
fn limited_decoder(
    path: &Path,
    format: Format,
    max_bytes: u64,
) -> Result<Box<dyn ImageDecoder>, IoError> {
    let size = crate::regular_file(path)?.len();
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_bytes);
    limits.max_image_width = Some(1 << 20);
    limits.max_image_height = Some(1 << 20);
    if format == Format::Jpeg {
        if size > max_bytes {
            return Err(IoError::too_large(
                path,
                format!("a {size}-byte JPEG file is over the memory budget of {max_bytes} bytes"),
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
        crate::codec::jpeg_markers::check_complete(&bytes)
            .and_then(|()| crate::codec::jpeg_scan::check_scans(&bytes))
            .map_err(|d| match d {
                crate::codec::jpeg_markers::Defect::Truncated(r) => IoError::truncated(path, r),
                crate::codec::jpeg_markers::Defect::Invalid(r) => IoError::invalid(path, r),
            })?;
        let mut reader =
            ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Jpeg);
        reader.limits(limits);
        return Ok(Box::new(
            reader.into_decoder().map_err(|e| image_err(path, e))?,
        ));
    }
    let mut reader = ImageReader::open(path)
        .map_err(|e| IoError::os(path, e))?
        .with_guessed_format()
        .map_err(|e| IoError::os(path, e))?;
    reader.limits(limits);
    Ok(Box::new(
        reader.into_decoder().map_err(|e| image_err(path, e))?,
    ))
}

/// Decode the whole image and turn it to the orientation its file records (EXIF in JPEG,
/// PNG `eXIf` or the TIFF Orientation tag: the orientation every viewer shows), returning the
/// orientation applied unless it was the identity. An unreadable EXIF block leaves the stored
/// orientation (as viewers do); a failed decode is an error.
fn decode_oriented(
    path: &Path,
    mut decoder: impl ImageDecoder,
) -> Result<(DynamicImage, Option<String>), IoError> {
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let img = DynamicImage::from_decoder(decoder).map_err(|e| image_err(path, e))?;
    Ok(orient(img, orientation))
}

/// Turn `img` by `orientation`, returning what was applied unless it was the identity.
fn orient(
    mut img: DynamicImage,
    orientation: image::metadata::Orientation,
) -> (DynamicImage, Option<String>) {
    if orientation == image::metadata::Orientation::NoTransforms {
        return (img, None);
    }
    img.apply_orientation(orientation);
    (img, Some(format!("{orientation:?}")))
}

/// A raster file decoded and turned upright.
struct Decoded {
    img: DynamicImage,
    /// The colour type as stored (before any conversion).
    colour: image::ColorType,
    icc: Option<Vec<u8>>,
    orientation: Option<String>,
}

/// Decode a PNG, JPEG or TIFF within `max_pixels` (named `unit` in the error) and a memory
/// budget of the decoded samples plus `out_per_pixel` bytes per pixel; JPEG-compressed TIFFs
/// go through [`crate::tiff_jpeg`], everything else through `image`.
fn decode_raster(
    path: &Path,
    format: Format,
    (max_pixels, unit): (u64, &'static str),
    max_bytes: u64,
    out_per_pixel: u64,
) -> Result<Decoded, IoError> {
    let limits = crate::tiff_jpeg::Limits {
        max_pixels,
        unit,
        max_bytes,
        out_per_pixel,
    };
    if let Some(d) = (format == Format::Tiff)
        .then(|| crate::tiff_jpeg::read(path, &limits))
        .transpose()?
        .flatten()
    {
        let colour = d.img.color();
        let (img, orientation) = orient(d.img, d.orientation);
        return Ok(Decoded {
            img,
            colour,
            icc: d.icc,
            orientation,
        });
    }
    let mut decoder = limited_decoder(path, format, max_bytes)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(IoError::invalid(path, format!("zero-sized image {w}×{h}")));
    }
    if (w as u64) * (h as u64) > max_pixels {
        return Err(IoError::too_large(
            path,
            format!("{w}×{h} pixels exceed the limit of {max_pixels} {unit}"),
        ));
    }
    check_budget(path, &decoder, out_per_pixel, max_bytes)?;
    let colour = decoder.color_type();
    let icc = decoder.icc_profile().ok().flatten();
    let (img, orientation) = decode_oriented(path, decoder)?;
    Ok(Decoded {
        img,
        colour,
        icc,
        orientation,
    })
}

/// Refuse an image whose decoded buffer plus `out_per_pixel` bytes of output per pixel
/// exceeds the budget.
fn check_budget(
    path: &Path,
    decoder: &impl ImageDecoder,
    out_per_pixel: u64,
    max_bytes: u64,
) -> Result<(), IoError> {
    let (w, h) = decoder.dimensions();
    let need = decoder
        .total_bytes()
        .saturating_add((w as u64 * h as u64).saturating_mul(out_per_pixel));
    if need > max_bytes {
        return Err(IoError::too_large(
            path,
            format!(
                "a {w}×{h} {:?} image needs about {need} bytes to decode, over the memory \
                 budget of {max_bytes} bytes (--max-memory)",
                decoder.color_type()
            ),
        ));
    }
    Ok(())
}

pub(crate) fn read(path: &Path, format: Format, opts: &LoadOptions) -> Result<Loaded, IoError> {
    let Decoded {
        img,
        colour,
        orientation,
        ..
    } = decode_raster(
        path,
        format,
        (opts.max_voxels as u64, "voxels"),
        opts.max_bytes,
        4,
    )?;
    let (rows, cols) = (img.height() as usize, img.width() as usize);
    let is_colour = colour.has_color();
    if is_colour && !opts.grey_from_rgb {
        return Err(IoError::new(
            path,
            IoErrorKind::Colour(format!(
                "{colour:?} image where grey is required (load with grey_from_rgb to convert by \
                 Rec.601 luminance)"
            )),
        ));
    }
    let bits = colour.bits_per_pixel() / colour.channel_count() as u16;
    let data: Vec<f32> = match &img {
        DynamicImage::ImageLuma8(b) => b.as_raw().iter().map(|&v| v as f32).collect(),
        DynamicImage::ImageLumaA8(b) => b.as_raw().chunks_exact(2).map(|c| c[0] as f32).collect(),
        DynamicImage::ImageLuma16(b) => b.as_raw().iter().map(|&v| v as f32).collect(),
        DynamicImage::ImageLumaA16(b) => b.as_raw().chunks_exact(2).map(|c| c[0] as f32).collect(),
        DynamicImage::ImageRgb8(b) => rgb(b.as_raw(), 3),
        DynamicImage::ImageRgba8(b) => rgb(b.as_raw(), 4),
        DynamicImage::ImageRgb16(b) => rgb(b.as_raw(), 3),
        DynamicImage::ImageRgba16(b) => rgb(b.as_raw(), 4),
        DynamicImage::ImageRgb32F(b) => rgb(b.as_raw(), 3),
        DynamicImage::ImageRgba32F(b) => rgb(b.as_raw(), 4),
        other => other.to_luma32f().into_raw(),
    };
    if data.len() != rows * cols {
        return Err(IoError::invalid(
            path,
            "decoded pixel count disagrees with the dimensions",
        ));
    }
    let data = Array3::from_shape_vec((1, rows, cols), data)
        .map_err(|e| IoError::invalid(path, e.to_string()))?;
    let modality = opts.modality.unwrap_or(Modality::Photo);
    let volume = Volume::new(data, [1.0, 1.0, 1.0], modality, modality.natural_unit())
        .map_err(|e| IoError::invalid(path, e.to_string()))?;
    let mut meta = Meta::new(path.to_path_buf(), format, modality);
    meta.photometric = Some(format!("{colour:?}"));
    meta.bits_stored = Some(bits);
    meta.datatype = Some(format!("{colour:?}"));
    meta.spacing_assumed = true;
    meta.orientation_applied = orientation;
    Ok(Loaded { volume, meta })
}

fn rgb<T: Copy + Into<f64>>(raw: &[T], channels: usize) -> Vec<f32> {
    raw.chunks_exact(channels)
        .map(|c| luma601(c[0].into(), c[1].into(), c[2].into()) as f32)
        .collect()
}

fn image_err(path: &Path, e: image::ImageError) -> IoError {
    match e {
        image::ImageError::IoError(io) => IoError::os(path, io),
        image::ImageError::Unsupported(u) => IoError::unsupported(path, u.to_string()),
        image::ImageError::Limits(l) => IoError::too_large(path, l.to_string()),
        other => {
            let msg = other.to_string();
            if msg.to_ascii_lowercase().contains("eof") || msg.contains("end of") {
                IoError::truncated(path, msg)
            } else {
                IoError::invalid(path, msg)
            }
        }
    }
}

fn write_raw(
    path: &Path,
    raw: &[u8],
    rows: usize,
    cols: usize,
    colour: image::ExtendedColorType,
) -> Result<(), IoError> {
    if rows == 0 || cols == 0 {
        return Err(IoError::invalid(
            path,
            format!("cannot write an empty {rows}×{cols} image"),
        ));
    }
    if rows > u32::MAX as usize || cols > u32::MAX as usize {
        return Err(IoError::too_large(
            path,
            format!("{rows}×{cols} is too large for PNG"),
        ));
    }
    write_atomic(path, |w| {
        let enc = image::codecs::png::PngEncoder::new(w);
        image::ImageEncoder::write_image(enc, raw, cols as u32, rows as u32, colour)
            .map_err(std::io::Error::other)
    })
}

/// Write an 8-bit grey PNG (row-major `(rows, cols)`), atomically.
pub fn write_png(path: &Path, data: &Array2<u8>) -> Result<(), IoError> {
    let (rows, cols) = data.dim();
    let raw: Vec<u8> = data.iter().copied().collect();
    write_raw(path, &raw, rows, cols, image::ExtendedColorType::L8)
}

/// Write a 16-bit grey PNG (row-major `(rows, cols)`), atomically.
pub fn write_png16(path: &Path, data: &Array2<u16>) -> Result<(), IoError> {
    let (rows, cols) = data.dim();
    // the encoder takes native-endian u16 samples as bytes and writes PNG's big endian
    let raw: Vec<u8> = data.iter().flat_map(|v| v.to_ne_bytes()).collect();
    write_raw(path, &raw, rows, cols, image::ExtendedColorType::L16)
}

/// Options for [`crate::read_rgb`].
#[derive(Clone, Debug)]
pub struct RgbLoadOptions {
    /// Modality of the photograph (default: [`Modality::Photo`]).
    pub modality: Option<Modality>,
    /// Pixel size in mm `[row, column]` when known (e.g. `[5e-4, 5e-4]` for 0.5 µm/px);
    /// otherwise 1 mm is assumed and [`Meta::spacing_assumed`] is set.
    pub spacing_mm: Option<[f64; 2]>,
    /// Detect and keep the field of view (black surround of fundus/endoscopy photographs).
    pub detect_fov: bool,
    /// Largest number of pixels accepted; larger images are refused before decoding.
    pub max_pixels: usize,
    /// Frame of a multi-frame DICOM object (0-based); `None` takes the middle frame.
    pub frame: Option<usize>,
    /// See [`crate::LoadOptions::allow_burned_in`] (ultrasound DICOM without imaging region).
    pub allow_burned_in: bool,
    /// See [`crate::LoadOptions::keep_overlay`].
    pub keep_overlay: bool,
    /// Memory budget in bytes (decoded samples plus the float32 planes); default
    /// [`crate::default_max_bytes`].
    pub max_bytes: u64,
    /// See [`crate::LoadOptions::time_budget`].
    pub time_budget: Option<std::time::Duration>,
}

impl Default for RgbLoadOptions {
    fn default() -> Self {
        RgbLoadOptions {
            modality: None,
            spacing_mm: None,
            detect_fov: false,
            max_pixels: crate::DEFAULT_MAX_VOXELS / 4,
            frame: None,
            allow_burned_in: false,
            keep_overlay: false,
            max_bytes: crate::default_max_bytes(),
            time_budget: Some(crate::DEFAULT_TIME_BUDGET),
        }
    }
}

/// A colour photograph and what is known about its source.
#[derive(Clone, Debug)]
pub struct LoadedRgb {
    pub image: RgbImage,
    pub meta: Meta,
}

/// Read a PNG (8/16-bit, grey or RGB, with or without alpha, palette), JPEG or TIFF as a
/// colour image in linear light ([`crate::read_rgb`] also takes DICOM).
///
/// Samples are sRGB-encoded unless an embedded ICC profile says otherwise, in which case they
/// are converted to sRGB through it (module `icc`; PNG gamma chunks without a profile are not
/// interpreted), and decoded with the exact IEC 61966-2-1 curve; 16-bit codes are divided by
/// 65535, float TIFF samples are taken as encoded values in `[0, 1]`. Transparent pixels are
/// composited over the modality's background (white for slides, black otherwise); grey images become neutral colour (R = G = B); palette PNGs are
/// expanded to RGB by the decoder.
pub fn read_rgb_raster(path: &Path, opts: &RgbLoadOptions) -> Result<LoadedRgb, IoError> {
    let format = crate::detect_format(path)?;
    let format = match format {
        Some(f @ (Format::Png | Format::Jpeg | Format::Tiff)) => f,
        Some(other) => {
            return Err(IoError::unsupported(
                path,
                format!(
                    "{other:?} is not read as a colour photograph (colour PNG, JPEG, TIFF or DICOM are)"
                ),
            ))
        }
        None => {
            return Err(IoError::new(
                path,
                IoErrorKind::UnknownFormat("wrong magic: not PNG, JPEG or TIFF".into()),
            ))
        }
    };
    // three float32 planes, plus a float32 RGB copy for float layouts
    let Decoded {
        img,
        colour,
        icc,
        orientation,
    } = decode_raster(
        path,
        format,
        (opts.max_pixels as u64, "pixels"),
        opts.max_bytes,
        24,
    )?;
    let (profile, colour_profile) = crate::icc::plan(icc.as_deref(), !colour.has_color());
    let (rows, cols) = (img.height() as usize, img.width() as usize);
    let modality = opts.modality.unwrap_or(Modality::Photo);
    let spacing = opts.spacing_mm.unwrap_or([1.0, 1.0]);
    let core = |e: artefact_core::CoreError| IoError::invalid(path, e.to_string());
    let mut image = match (&profile, &img) {
        (crate::icc::Plan::Convert { transform, grey }, img) => {
            // encoded samples in [0, 1] through the profile to encoded sRGB
            let src = if *grey {
                img.to_luma32f().into_raw()
            } else {
                img.to_rgb32f().into_raw()
            };
            let srgb = crate::icc::convert(transform.as_ref(), *grey, &src)
                .map_err(|e| IoError::invalid(path, e))?;
            let data = ndarray::Array3::from_shape_fn((3, rows, cols), |(c, r, k)| {
                artefact_core::colour::srgb_to_linear(srgb[(r * cols + k) * 3 + c] as f64) as f32
            });
            RgbImage::new(data, spacing, modality, None)
        }
        (crate::icc::Plan::AsSrgb, img) => match img {
            DynamicImage::ImageLuma8(b) => {
                RgbImage::from_srgb8(rows, cols, b.as_raw(), 1, spacing, modality)
            }
            DynamicImage::ImageLumaA8(b) => {
                RgbImage::from_srgb8(rows, cols, b.as_raw(), 2, spacing, modality)
            }
            DynamicImage::ImageRgb8(b) => {
                RgbImage::from_srgb8(rows, cols, b.as_raw(), 3, spacing, modality)
            }
            DynamicImage::ImageRgba8(b) => {
                RgbImage::from_srgb8(rows, cols, b.as_raw(), 4, spacing, modality)
            }
            DynamicImage::ImageLuma16(b) => {
                RgbImage::from_srgb16(rows, cols, b.as_raw(), 1, spacing, modality)
            }
            DynamicImage::ImageLumaA16(b) => {
                RgbImage::from_srgb16(rows, cols, b.as_raw(), 2, spacing, modality)
            }
            DynamicImage::ImageRgb16(b) => {
                RgbImage::from_srgb16(rows, cols, b.as_raw(), 3, spacing, modality)
            }
            DynamicImage::ImageRgba16(b) => {
                RgbImage::from_srgb16(rows, cols, b.as_raw(), 4, spacing, modality)
            }
            other => {
                // float (or any other) layout: encoded values in [0, 1]
                let f = other.to_rgb32f();
                let data = ndarray::Array3::from_shape_fn((3, rows, cols), |(c, r, k)| {
                    let v = f.get_pixel(k as u32, r as u32).0[c] as f64;
                    artefact_core::colour::srgb_to_linear(v.clamp(0.0, 1.0)) as f32
                });
                RgbImage::new(data, spacing, modality, None)
            }
        },
    }
    .map_err(core)?;
    let transparency = composite_alpha(&img, &mut image);
    if opts.detect_fov {
        image.detect_and_set_fov();
    }
    let mut meta = Meta::new(path.to_path_buf(), format, modality);
    meta.photometric = Some(format!("{colour:?}"));
    meta.bits_stored = Some(colour.bits_per_pixel() / colour.channel_count() as u16);
    meta.datatype = Some(format!("{colour:?}"));
    meta.spacing_assumed = opts.spacing_mm.is_none();
    meta.orientation_applied = orientation;
    meta.colour_profile = colour_profile;
    meta.transparency = transparency;
    Ok(LoadedRgb { image, meta })
}

/// Composite the partly or fully transparent pixels of `img` (its alpha channel, if any) over
/// the modality's background, in linear light: `v·a + bg·(1 − a)`, with white for slides
/// (transparent = no tissue, the bright glass of a brightfield scan) and black otherwise (the
/// unlit surround of fundus and endoscopy photographs). Exported tiles and annotated regions
/// carry transparency; the colour under `a = 0` is arbitrary and must not be taken for tissue.
/// Returns what was done when any pixel was transparent.
fn composite_alpha(img: &DynamicImage, image: &mut RgbImage) -> Option<String> {
    let alpha: Vec<f32> = match img {
        DynamicImage::ImageLumaA8(b) => b
            .as_raw()
            .chunks_exact(2)
            .map(|p| p[1] as f32 / 255.0)
            .collect(),
        DynamicImage::ImageRgba8(b) => b
            .as_raw()
            .chunks_exact(4)
            .map(|p| p[3] as f32 / 255.0)
            .collect(),
        DynamicImage::ImageLumaA16(b) => b
            .as_raw()
            .chunks_exact(2)
            .map(|p| p[1] as f32 / 65535.0)
            .collect(),
        DynamicImage::ImageRgba16(b) => b
            .as_raw()
            .chunks_exact(4)
            .map(|p| p[3] as f32 / 65535.0)
            .collect(),
        DynamicImage::ImageRgba32F(b) => b
            .as_raw()
            .chunks_exact(4)
            .map(|p| p[3].clamp(0.0, 1.0))
            .collect(),
        _ => return None,
    };
    let (rows, cols) = image.shape();
    if alpha.len() != rows * cols {
        return None;
    }
    let n = alpha.iter().filter(|&&a| a < 1.0).count();
    if n == 0 {
        return None;
    }
    let white = image.modality == Modality::Histopathology;
    let bg = if white { 1.0f32 } else { 0.0 };
    for ch in 0..3 {
        let mut plane = image.data.index_axis_mut(ndarray::Axis(0), ch);
        for (v, &a) in plane.iter_mut().zip(&alpha) {
            if a < 1.0 {
                *v = *v * a + bg * (1.0 - a);
            }
        }
    }
    Some(format!(
        "{n} partly or fully transparent pixels composited over {}",
        if white { "white (glass)" } else { "black" }
    ))
}

/// Write a colour image as an 8-bit sRGB PNG (linear light encoded with the IEC 61966-2-1
/// curve, clamped to `[0, 1]`, rounded), atomically.
pub fn write_png_rgb(path: &Path, img: &RgbImage) -> Result<(), IoError> {
    let (rows, cols) = img.shape();
    let raw = img.to_srgb8();
    write_raw(path, &raw, rows, cols, image::ExtendedColorType::Rgb8)
}
