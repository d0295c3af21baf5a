//! `degrade`: one source slice, one attribute, one severity → a PNG (rendered) or a NIfTI
//! (source units, e.g. HU for CT). Colour photographs (attributes of fundus, endoscopy and
//! histopathology) are read in linear light, degraded at their own size and written as an
//! sRGB colour PNG.

use crate::error::DatasetError;
use crate::render::{encode_png, to_u8, DisplayMap};
use crate::source::to_echogenicity;
use artefact_core::{Modality, Picture, Seed, Severity, Volume};
use artefact_io::{load_volume_with, read_rgb, LoadOptions, RgbLoadOptions};
use artefact_recipe::attribute::{apply_chain_resolving, AppliedOp};
use artefact_recipe::benchmark::Window;
use artefact_recipe::{AttributeRecipe, Registry};
use std::path::{Path, PathBuf};

/// What to degrade and how.
#[derive(Clone, Debug)]
pub struct DegradeRequest {
    pub input: PathBuf,
    pub output: PathBuf,
    pub recipe: AttributeRecipe,
    pub severity: Severity,
    pub seed: u64,
    pub axis: usize,
    /// Slice index; the middle slice when `None`.
    pub slice: Option<usize>,
    /// Treat the source as this modality (e.g. a grey image as an ultrasound echogenicity map).
    pub modality: Option<Modality>,
    pub ct_window: Window,
    /// Convert a colour source to luminance for a grey attribute.
    pub grey_from_rgb: bool,
    /// Accept ultrasound DICOM without imaging region (may carry burned-in text).
    pub allow_burned_in: bool,
}

/// Run a degradation; returns the applied op chain.
pub fn degrade(req: &DegradeRequest, registry: &Registry) -> Result<Vec<AppliedOp>, DatasetError> {
    if req.recipe.modality.is_colour() {
        return degrade_colour(req, registry);
    }
    let opts = LoadOptions {
        modality: req.modality,
        grey_from_rgb: req.grey_from_rgb,
        allow_burned_in: req.allow_burned_in,
        ..LoadOptions::default()
    };
    let loaded = load_volume_with(&req.input, &opts)?;
    let mut vol = loaded.volume;
    if let Some(m) = req.modality {
        vol.modality = m;
        vol.unit = m.natural_unit();
    }
    if vol.modality == Modality::Us && vol.data.iter().any(|v| !(0.0..=1.0).contains(v)) {
        to_echogenicity(&mut vol.data).map_err(|e| DatasetError::file(&req.input, e))?;
    }
    if vol.modality != req.recipe.modality {
        return Err(DatasetError::file(
            &req.input,
            format!(
                "is {} but attribute `{}` is for {} images (use --modality to override)",
                vol.modality, req.recipe.name, req.recipe.modality
            ),
        ));
    }
    let axis = if vol.len_of(0) == 1 { 0 } else { req.axis };
    let n = vol.len_of(axis);
    let index = req.slice.unwrap_or(n / 2);
    let clean = vol
        .slice(axis, index)
        .map_err(|e| DatasetError::file(&req.input, e))?;
    let key = format!("degrade/{}/{}/{}", req.recipe.name, req.severity, index);
    let mut rng = Seed::derive(req.seed, &key).rng();
    let mut chain = req
        .recipe
        .sample_chain(req.severity, &mut rng)
        .map_err(|reason| DatasetError::Sample {
            id: key.clone(),
            reason,
        })?;
    let clean = Picture::Grey(clean);
    let out = apply_chain_resolving(registry, &mut chain, &clean).map_err(|reason| {
        DatasetError::Sample {
            id: key.clone(),
            reason,
        }
    })?;
    let (Picture::Grey(clean), Picture::Grey(out)) = (clean, out) else {
        return Err(DatasetError::Sample {
            id: key,
            reason: "the operator chain turned a grey image into colour".into(),
        });
    };
    let ext = req
        .output
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = req.output.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".nii") || name.ends_with(".nii.gz") {
        let (r, c) = out.shape();
        let v = Volume::new(
            out.data
                .clone()
                .into_shape_with_order((1, r, c))
                .expect("same size"),
            [1.0, out.spacing[0], out.spacing[1]],
            out.modality,
            out.unit,
        )
        .map_err(|e| DatasetError::file(&req.output, e))?;
        artefact_io::write_nifti(&req.output, &v)?;
    } else if ext == "png" {
        let map = DisplayMap::for_clean(&clean, req.ct_window, [0.5, 99.5]);
        let png = encode_png(&to_u8(&map.show(&Picture::Grey(out))));
        crate::fsutil::write_atomic(&req.output, &png)?;
    } else {
        return Err(DatasetError::file(
            &req.output,
            "output must end in .png, .nii or .nii.gz",
        ));
    }
    Ok(chain)
}

/// [`degrade`] for a colour attribute: the photograph at its own size, field of view detected
/// for modalities with a dark surround, written as an sRGB PNG.
fn degrade_colour(
    req: &DegradeRequest,
    registry: &Registry,
) -> Result<Vec<AppliedOp>, DatasetError> {
    let modality = req.recipe.modality;
    if let Some(m) = req.modality.filter(|m| *m != modality) {
        return Err(DatasetError::file(
            &req.input,
            format!(
                "--modality {m} does not fit attribute `{}`, which is for {modality} images",
                req.recipe.name
            ),
        ));
    }
    let name = req.output.to_string_lossy().to_ascii_lowercase();
    if !name.ends_with(".png") {
        return Err(DatasetError::file(
            &req.output,
            "a colour photograph is written as .png (NIfTI output is for grey modalities)",
        ));
    }
    let opts = RgbLoadOptions {
        modality: Some(modality),
        detect_fov: modality.has_dark_surround(),
        // a multi-frame colour DICOM: --slice picks the frame (default the middle one)
        frame: req.slice,
        allow_burned_in: req.allow_burned_in,
        ..RgbLoadOptions::default()
    };
    let loaded = read_rgb(&req.input, &opts)?;
    let key = format!("degrade/{}/{}/0", req.recipe.name, req.severity);
    let fail = |reason: String| DatasetError::Sample {
        id: key.clone(),
        reason,
    };
    let mut rng = Seed::derive(req.seed, &key).rng();
    let mut chain = req
        .recipe
        .sample_chain(req.severity, &mut rng)
        .map_err(fail)?;
    let clean = Picture::Colour(loaded.image);
    let out = apply_chain_resolving(registry, &mut chain, &clean).map_err(fail)?;
    if out.shape() != clean.shape() || out.has_non_finite() {
        return Err(fail(format!(
            "the operator chain gave a {:?} image{} from a {:?} one",
            out.shape(),
            if out.has_non_finite() {
                " with NaN or infinite pixels"
            } else {
                ""
            },
            clean.shape()
        )));
    }
    let png = encode_png(&to_u8(&DisplayMap::srgb().show(&out)));
    crate::fsutil::write_atomic(&req.output, &png)?;
    Ok(chain)
}

/// Find an attribute recipe by name and modality under a recipes directory
/// (`<dir>/<modality>/<name>.toml`, the modality folders of
/// [`artefact_recipe::library::MODALITY_FOLDERS`]).
pub fn find_attribute(
    dir: &Path,
    name: &str,
    modality: Option<Modality>,
    registry: &Registry,
) -> Result<AttributeRecipe, DatasetError> {
    let folders = artefact_recipe::library::folders_for(modality);
    let mut found = Vec::new();
    for f in &folders {
        let p = dir.join(f).join(format!("{name}.toml"));
        if p.is_file() {
            found.push(p);
        }
    }
    match found.len() {
        1 => Ok(AttributeRecipe::load(&found[0], registry)?),
        0 => Err(DatasetError::file(
            dir,
            format!("no attribute recipe `{name}` in {}", folders.join(", ")),
        )),
        _ => Err(DatasetError::file(
            dir,
            format!("attribute `{name}` exists for several modalities; say which with --modality"),
        )),
    }
}
