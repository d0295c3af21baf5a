//! Embedded colour profiles (ICC, ISO 15076-1) of PNG, JPEG and TIFF photographs and of
//! colour DICOM objects (ICC Profile, 0028,2000, common in ophthalmic and other visible-light
//! photography).
//!
//! The pipeline works in linear sRGB. A file whose pixels are encoded in another space
//! (Display P3 from phones, Adobe RGB from cameras, a slide scanner's own profile) says so with
//! an embedded ICC profile; taking its codes as sRGB would shift every colour. Such images are
//! converted to sRGB through the profile with `moxcms` (a colour management engine in Rust;
//! default rendering intent, perceptual, as Pillow's `ImageCms.profileToProfile`), then
//! decoded with the exact sRGB curve. Colours outside the sRGB gamut are clipped to it.
//!
//! A profile that maps every code to itself within 1/1024 (an sRGB profile) is treated as
//! absent, so sRGB files keep their exact 8-bit decode. A profile that cannot be read, or one
//! for another kind of data (CMYK, Lab), is not applied: the codes are taken as sRGB, as
//! viewers do, and the reason is recorded in `Meta::colour_profile`.

use moxcms::{ColorProfile, DataColorSpace, Layout, TransformExecutor, TransformOptions};
use std::sync::Arc;

/// What to do with an image's embedded profile.
pub(crate) enum Plan {
    /// No profile, or an sRGB one: decode the codes as sRGB.
    AsSrgb,
    /// Convert through the profile to sRGB (`grey`: the source has one channel).
    Convert {
        transform: Arc<dyn TransformExecutor<f32> + Send + Sync>,
        grey: bool,
    },
}

/// Decide from the embedded profile (if any) of an image with `grey` or colour samples.
/// Returns the plan and, when a profile was present, what was done with it (for the metadata).
pub(crate) fn plan(icc: Option<&[u8]>, grey: bool) -> (Plan, Option<String>) {
    let Some(icc) = icc.filter(|b| !b.is_empty()) else {
        return (Plan::AsSrgb, None);
    };
    let n = icc.len();
    let profile = match ColorProfile::new_from_slice(icc) {
        Ok(p) => p,
        Err(e) => {
            return (
                Plan::AsSrgb,
                Some(format!(
                    "embedded ICC profile ({n} bytes) unreadable ({e}): codes taken as sRGB"
                )),
            )
        }
    };
    let src_layout = match (profile.color_space, grey) {
        (DataColorSpace::Rgb, false) => Layout::Rgb,
        (DataColorSpace::Gray, true) => Layout::Gray,
        (space, _) => {
            return (
                Plan::AsSrgb,
                Some(format!(
                    "embedded ICC profile ({n} bytes) is for {space:?} data, not the file's \
                     {} samples: not applied, codes taken as sRGB",
                    if grey { "grey" } else { "RGB" }
                )),
            )
        }
    };
    let srgb = ColorProfile::new_srgb();
    let transform = match profile.create_transform_f32(
        src_layout,
        &srgb,
        Layout::Rgb,
        TransformOptions::default(),
    ) {
        Ok(t) => t,
        Err(e) => {
            return (
                Plan::AsSrgb,
                Some(format!(
                    "embedded ICC profile ({n} bytes) cannot be applied ({e}): codes taken \
                         as sRGB"
                )),
            )
        }
    };
    if is_identity(transform.as_ref(), grey) {
        return (
            Plan::AsSrgb,
            Some(format!("embedded ICC profile ({n} bytes) is sRGB")),
        );
    }
    (
        Plan::Convert { transform, grey },
        Some(format!(
            "embedded ICC profile ({n} bytes, {}) converted to sRGB",
            if grey { "grey" } else { "RGB" }
        )),
    )
}

/// Does the transform map a 9-level grid of codes (9³ colours, or 9 greys) to themselves
/// within 1/1024?
fn is_identity(t: &(dyn TransformExecutor<f32> + Send + Sync), grey: bool) -> bool {
    let levels: Vec<f32> = (0..9).map(|i| i as f32 / 8.0).collect();
    let (src, want): (Vec<f32>, Vec<f32>) = if grey {
        (
            levels.clone(),
            levels.iter().flat_map(|&v| [v, v, v]).collect(),
        )
    } else {
        let mut rgb = Vec::with_capacity(3 * 729);
        for &r in &levels {
            for &g in &levels {
                for &b in &levels {
                    rgb.extend_from_slice(&[r, g, b]);
                }
            }
        }
        (rgb.clone(), rgb)
    };
    let mut out = vec![0.0f32; want.len()];
    if t.transform(&src, &mut out).is_err() {
        return false;
    }
    out.iter()
        .zip(&want)
        .all(|(a, b)| (a - b).abs() <= 1.0 / 1024.0)
}

/// Convert encoded samples in `[0, 1]` (`grey`: one per pixel, else RGB interleaved) to
/// encoded sRGB, interleaved RGB, clipped to `[0, 1]`.
pub(crate) fn convert(
    transform: &(dyn TransformExecutor<f32> + Send + Sync),
    grey: bool,
    src: &[f32],
) -> Result<Vec<f32>, String> {
    let pixels = if grey { src.len() } else { src.len() / 3 };
    let mut out = vec![0.0f32; pixels * 3];
    // in bands, so the transform's scratch stays small
    const BAND: usize = 1 << 16;
    let per = if grey { 1 } else { 3 };
    for (s, d) in src.chunks(BAND * per).zip(out.chunks_mut(BAND * 3)) {
        transform
            .transform(s, d)
            .map_err(|e| format!("colour profile conversion failed: {e}"))?;
    }
    for v in &mut out {
        *v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
    }
    Ok(out)
}
