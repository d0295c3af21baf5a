//! `degrade`: one source, one attribute, one severity → a PNG (rendered) or a NIfTI (source
//! units, e.g. HU for CT). Colour photographs (attributes of fundus, endoscopy and
//! histopathology) are read in linear light, degraded at their own size and written as an
//! sRGB colour PNG.
//!
//! A volume written as NIfTI without `--slice` is degraded whole ([`DegradeForm`]): with the
//! operators' 3-D forms when every operator of the attribute has one (one 3-D acquisition:
//! e.g. `mri.motion` with six degrees of freedom over both phase-encode axes), else slice by
//! slice along axis 0 (a multi-slice acquisition; each slice draws its own parameters from
//! the key `degrade/<attribute>/<severity>/<k>`, so slice `k` equals `--slice k`). The output
//! keeps the input's grid and affine.

use crate::error::DatasetError;
use crate::render::{encode_png, to_u8, DisplayMap};
use crate::source::to_echogenicity;
use artefact_core::{Modality, Picture, Seed, Severity, Volume};
use artefact_io::{load_volume_with, read_rgb, LoadOptions, RgbLoadOptions};
use artefact_recipe::attribute::{apply_chain_resolving, apply_volume_chain, AppliedOp};
use artefact_recipe::benchmark::Window;
use artefact_recipe::{AttributeRecipe, Registry};
use sha2::Digest;
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
    /// Degrade a volume slice by slice even when the attribute has 3-D forms (a multi-slice
    /// acquisition instead of a 3-D one).
    pub per_slice: bool,
}

/// How a source was degraded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DegradeForm {
    /// One slice (or a 2-D image / photograph).
    Slice,
    /// The whole volume with the operators' 3-D forms (one chain).
    Volume,
    /// Every slice along axis 0 with its own chain (multi-slice acquisition).
    PerSlice,
}

impl std::fmt::Display for DegradeForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DegradeForm::Slice => "slice",
            DegradeForm::Volume => "volume (3-D forms)",
            DegradeForm::PerSlice => "per slice (multi-slice)",
        })
    }
}

/// What [`degrade`] applied: the form and the applied chains, each with its slice index
/// (the volume's chain has index 0).
#[derive(Clone, Debug)]
pub struct Degraded {
    pub form: DegradeForm,
    pub chains: Vec<(usize, Vec<AppliedOp>)>,
}

/// Run a degradation; returns what was applied.
pub fn degrade(req: &DegradeRequest, registry: &Registry) -> Result<Degraded, DatasetError> {
    if req.recipe.modality.is_colour() {
        return Ok(Degraded {
            form: DegradeForm::Slice,
            chains: vec![(0, degrade_colour(req, registry)?)],
        });
    }
    let opts = LoadOptions {
        modality: req.modality,
        grey_from_rgb: req.grey_from_rgb,
        allow_burned_in: req.allow_burned_in,
        ..LoadOptions::default()
    };
    let loaded = load_volume_with(&req.input, &opts)?;
    let mut vol = loaded.volume;
    // a scanned B-mode (the file's own modality, not --modality) keeps its geometry: every
    // ultrasound op renders it with the linear probe (as `build` does)
    let scanned_us = loaded.meta.modality_code.as_deref() == Some("US");
    let mut overrides = artefact_core::ParamSpec::new();
    if scanned_us {
        overrides = overrides.with("probe", artefact_core::SpecValue::Text("linear".into()));
    }
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
    let name = req.output.to_string_lossy().to_ascii_lowercase();
    let nifti_out = name.ends_with(".nii")
        || name.ends_with(".nii.gz")
        || name.ends_with(".dcm")
        || name.ends_with(".dicom");
    if nifti_out && req.slice.is_none() && vol.len_of(0) > 1 {
        return degrade_volume(req, registry, &vol, scanned_us);
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
        .sample_chain_with(req.severity, &mut rng, &overrides)
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
    if nifti_out {
        let v = Volume::of_slice(&out).map_err(|e| DatasetError::file(&req.output, e))?;
        write_volume(req, &v, DegradeForm::Slice, &[(index, chain.clone())])?;
    } else if ext == "png" {
        let map = DisplayMap::for_clean(&clean, req.ct_window, [0.5, 99.5]);
        let png = encode_png(&to_u8(&map.show(&Picture::Grey(out))));
        crate::fsutil::write_atomic(&req.output, &png)?;
    } else {
        return Err(DatasetError::file(
            &req.output,
            "output must end in .png, .nii, .nii.gz or .dcm",
        ));
    }
    Ok(Degraded {
        form: DegradeForm::Slice,
        chains: vec![(index, chain)],
    })
}

/// The whole volume to NIfTI: 3-D forms when the attribute has them (and `per_slice` is not
/// asked for), else every slice along axis 0 with its own chain.
fn degrade_volume(
    req: &DegradeRequest,
    registry: &Registry,
    vol: &Volume,
    scanned_us: bool,
) -> Result<Degraded, DatasetError> {
    let three_d = !req.per_slice && req.recipe.missing_volume_forms().is_empty();
    let (out, form, chains) = if three_d {
        let key = format!("degrade/{}/{}/volume", req.recipe.name, req.severity);
        let fail = |reason: String| DatasetError::Sample {
            id: key.clone(),
            reason,
        };
        let mut rng = Seed::derive(req.seed, &key).rng();
        let chain = req
            .recipe
            .sample_volume_chain(req.severity, &mut rng)
            .map_err(fail)?;
        let out = apply_volume_chain(registry, &chain, vol).map_err(fail)?;
        (out, DegradeForm::Volume, vec![(0, chain)])
    } else {
        let mut data = vol.data.clone();
        let mut chains = Vec::with_capacity(vol.len_of(0));
        for k in 0..vol.len_of(0) {
            let clean = vol
                .slice(0, k)
                .map_err(|e| DatasetError::file(&req.input, e))?;
            let key = format!("degrade/{}/{}/{}", req.recipe.name, req.severity, k);
            let fail = |reason: String| DatasetError::Sample {
                id: key.clone(),
                reason,
            };
            let mut rng = Seed::derive(req.seed, &key).rng();
            let mut overrides = artefact_core::ParamSpec::new();
            if scanned_us {
                overrides =
                    overrides.with("probe", artefact_core::SpecValue::Text("linear".into()));
            }
            let mut chain = req
                .recipe
                .sample_chain_with(req.severity, &mut rng, &overrides)
                .map_err(fail)?;
            let out =
                apply_chain_resolving(registry, &mut chain, &Picture::Grey(clean)).map_err(fail)?;
            let Picture::Grey(out) = out else {
                return Err(fail(
                    "the operator chain turned a grey image into colour".into(),
                ));
            };
            data.index_axis_mut(ndarray::Axis(0), k).assign(&out.data);
            chains.push((k, chain));
        }
        let out = Volume::with_affine(data, vol.spacing, vol.affine, vol.modality, vol.unit)
            .map_err(|e| DatasetError::file(&req.input, e))?;
        (out, DegradeForm::PerSlice, chains)
    };
    if out.data.dim() != vol.data.dim() || out.data.iter().any(|v| !v.is_finite()) {
        return Err(DatasetError::Sample {
            id: format!("degrade/{}/{}/volume", req.recipe.name, req.severity),
            reason: format!(
                "the operator chain gave a {:?} volume{} from a {:?} one",
                out.data.dim(),
                if out.data.iter().any(|v| !v.is_finite()) {
                    " with NaN or infinite voxels"
                } else {
                    ""
                },
                vol.data.dim()
            ),
        });
    }
    write_volume(req, &out, form, &chains)?;
    Ok(Degraded { form, chains })
}

/// The Derivation Description of a DICOM output: tool, attribute, severity, seed, the form of
/// a volume's degradation, and the operators applied.
fn derivation_description(
    req: &DegradeRequest,
    form: Option<DegradeForm>,
    chain: &[AppliedOp],
) -> String {
    let ops: Vec<&str> = chain.iter().map(|s| s.op.as_str()).collect();
    let form = form.map(|f| format!(", {f}")).unwrap_or_default();
    format!(
        "{}: attribute {} ({}), severity {}, seed {}{form}; operators: {}",
        crate::generate::TOOL_VERSION,
        req.recipe.name,
        req.recipe.modality,
        req.severity,
        req.seed,
        if ops.is_empty() {
            "none".to_string()
        } else {
            ops.join(", ")
        }
    )
}

/// Write a grey result as NIfTI (`.nii`, `.nii.gz`: float32, the input's affine) or DICOM
/// (`.dcm`, `.dicom`: a Multi-frame Grayscale Word Secondary Capture object, new UIDs,
/// nothing of the source's header; see [`artefact_io::dicom_out`]).
fn write_volume(
    req: &DegradeRequest,
    out: &Volume,
    form: DegradeForm,
    chains: &[(usize, Vec<AppliedOp>)],
) -> Result<(), DatasetError> {
    let name = req.output.to_string_lossy().to_ascii_lowercase();
    if !(name.ends_with(".dcm") || name.ends_with(".dicom")) {
        return Ok(artefact_io::write_nifti(&req.output, out)?);
    }
    let description = derivation_description(
        req,
        Some(form),
        chains.first().map_or(&[][..], |(_, c)| c.as_slice()),
    );
    // the UIDs follow from what is published (the description, the params and the degraded
    // voxels), never from the source's header
    let mut h = sha2::Sha256::new();
    for (k, c) in chains {
        h.update(format!("{k}:{}", serde_json::to_string(c).unwrap_or_default()).as_bytes());
    }
    for v in out.data.iter() {
        h.update(v.to_le_bytes());
    }
    let uid_seed = format!("{description}\0{:x}", h.finalize());
    artefact_io::write_dicom(
        &req.output,
        out,
        &artefact_io::DicomDerivation {
            description,
            uid_seed,
        },
    )?;
    Ok(())
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
    let dicom_out = name.ends_with(".dcm") || name.ends_with(".dicom");
    if !name.ends_with(".png") && !dicom_out {
        return Err(DatasetError::file(
            &req.output,
            "a colour photograph is written as .png or .dcm (NIfTI output is for grey modalities)",
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
    let mut loaded = read_rgb(&req.input, &opts)?;
    crate::source::big_enough(&loaded.image).map_err(|e| DatasetError::file(&req.input, e))?;
    // text burned into a fundus/endoscopy surround (names, IDs, dates) is not written out
    loaded.image.blank_outside_fov();
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
    let shown = to_u8(&DisplayMap::srgb().show(&out));
    if dicom_out {
        let description = derivation_description(req, None, &chain);
        let (rows, cols, _) = shown.dim();
        let samples: Vec<u8> = shown.iter().copied().collect();
        // the UIDs follow from what is published, never from the source's header
        let mut h = sha2::Sha256::new();
        h.update(serde_json::to_string(&chain).unwrap_or_default().as_bytes());
        h.update(&samples);
        let uid_seed = format!("{description}\0{:x}", h.finalize());
        let spacing = match &out {
            Picture::Colour(c) => c.spacing,
            Picture::Grey(g) => g.spacing,
        };
        artefact_io::write_dicom_rgb(
            &req.output,
            &artefact_io::Srgb8 {
                rows,
                cols,
                samples: &samples,
                spacing,
                modality,
            },
            &artefact_io::DicomDerivation {
                description,
                uid_seed,
            },
        )?;
        return Ok(chain);
    }
    let png = encode_png(&shown);
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
