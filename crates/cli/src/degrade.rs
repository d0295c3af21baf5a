//! `artefact degrade INPUT --attribute A --severity S --seed N -o OUT.png|.nii`.

use artefact_core::{Modality, Severity};
use artefact_dataset::degrade::{degrade, DegradeRequest};
use artefact_recipe::benchmark::Window;
use artefact_recipe::{AttributeRecipe, RecipeLibrary, Registry};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DegradeArgs {
    /// Source image (DICOM file or series directory, NIfTI, PNG/JPEG/TIFF).
    pub input: PathBuf,
    /// Attribute name (a bundled recipe, or one under --recipes) or a path to an attribute
    /// recipe file.
    #[arg(short, long)]
    pub attribute: String,
    /// none, mild or severe (none writes the clean slice the same way).
    #[arg(short, long)]
    pub severity: Severity,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output: .png (rendered; colour PNG for photographs) or .nii/.nii.gz (source units, HU
    /// for CT; grey modalities only). A volume written as NIfTI without --slice is degraded
    /// whole: with 3-D physics where the attribute has it (MR motion, noise), else slice by
    /// slice; the output keeps the input's affine.
    #[arg(short, long)]
    pub out: PathBuf,
    /// Slice index along --axis (default: the middle slice); the frame of a multi-frame colour
    /// DICOM.
    #[arg(long)]
    pub slice: Option<usize>,
    /// Convert a colour input to grey (Rec. 601 luminance) for a grey attribute.
    #[arg(long)]
    pub grey_from_rgb: bool,
    /// Read ultrasound DICOM that declares no imaging region although its pixels may carry
    /// burned-in text (names, dates); only after checking the image.
    #[arg(long)]
    pub allow_burned_in: bool,
    /// Degrade a volume slice by slice (a multi-slice acquisition) even where the attribute
    /// has 3-D physics.
    #[arg(long)]
    pub per_slice: bool,
    /// Array axis perpendicular to the slice (0, 1, 2).
    #[arg(long, default_value_t = 0)]
    pub axis: usize,
    /// Treat the input as this modality (CT, MR, US, fundus, endoscopy, histopathology), e.g. a
    /// grey image as an ultrasound map; names the attribute's folder when several have it.
    #[arg(long)]
    pub modality: Option<Modality>,
    /// CT display window for PNG output: brain, subdural, soft_tissue, lung, bone.
    #[arg(long, default_value = "soft_tissue")]
    pub window: String,
}

pub fn run(args: &DegradeArgs, registry: &Registry, library: &RecipeLibrary) -> u8 {
    let Some(window) = Window::preset(&args.window) else {
        eprintln!(
            "error: unknown window `{}` (allowed: {})",
            args.window,
            Window::PRESETS.join(", ")
        );
        return 2;
    };
    let recipe = if args.attribute.ends_with(".toml") {
        AttributeRecipe::load(args.attribute.as_ref(), registry).map_err(|e| e.to_string())
    } else {
        // an attribute name may exist for several modalities: use the input's own modality
        let modality = args.modality.or_else(|| {
            artefact_io::load_volume(&args.input)
                .ok()
                .map(|l| l.volume.modality)
        });
        let folders = artefact_recipe::library::folders_for(modality);
        match library.find_attribute(&args.attribute, &folders, registry) {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err(format!(
                "no attribute recipe `{}` in {} ({})",
                args.attribute,
                library.describe(),
                folders.join(", ")
            )),
            Err(e) => Err(e.to_string()),
        }
    };
    let recipe = match recipe {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let req = DegradeRequest {
        input: args.input.clone(),
        output: args.out.clone(),
        recipe,
        severity: args.severity,
        seed: args.seed,
        axis: args.axis,
        slice: args.slice,
        modality: args.modality,
        ct_window: window,
        grey_from_rgb: args.grey_from_rgb,
        allow_burned_in: args.allow_burned_in,
        per_slice: args.per_slice,
    };
    match degrade(&req, registry) {
        Ok(done) => {
            println!("wrote {} ({})", args.out.display(), done.form);
            let many = done.chains.len() > 1;
            for (k, chain) in done.chains.iter().take(if many { 1 } else { usize::MAX }) {
                if many {
                    println!(" slice {k} (each slice has its own parameters):");
                }
                for step in chain {
                    println!("  {} {}", step.op, step.params);
                }
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
