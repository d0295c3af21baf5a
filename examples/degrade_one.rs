//! Library use, step by step: read a real MR slice, degrade it with one attribute recipe at one
//! severity, write the rendered PNG to a temporary folder, and check what was written.
//!
//! ```text
//! cargo run --release --example degrade_one [IMAGE] [ATTRIBUTE] [SEVERITY]
//! ```
//!
//! Defaults: the bundled test image `tests/data/dicom/MR_abdomen_484.dcm` of the checkout, the
//! bundled attribute recipe `mri/motion`, severity `severe`. The recipes come from the library
//! compiled into `artefact-recipe` ([`RecipeLibrary::Bundled`]), so the example needs no
//! `recipes/` folder.

use artefact_core::{Picture, Seed, Severity};
use artefact_dataset::render::{encode_png, to_u8, DisplayMap};
use artefact_recipe::attribute::apply_chain_resolving;
use artefact_recipe::benchmark::Window;
use artefact_recipe::{RecipeLibrary, Registry};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = args.next().map(PathBuf::from).unwrap_or_else(|| {
        // example code: the checkout's test data (an installed binary never does this)
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/dicom/MR_abdomen_484.dcm"
        ))
    });
    let attribute = args.next().unwrap_or_else(|| "mri/motion".into());
    let severity: Severity = args.next().as_deref().unwrap_or("severe").parse()?;

    // 1. read: any DICOM / NIfTI / PNG source becomes a volume in source units
    let volume = artefact_io::load_volume(&input)?.volume;
    let axis = 0;
    let clean = volume.slice(axis, volume.len_of(axis) / 2)?;
    println!(
        "read {}: {} {:?} px, spacing {:?} mm",
        input.display(),
        clean.modality,
        clean.shape(),
        clean.spacing
    );

    // 2. the attribute recipe, from the bundled library, checked against the op registry
    let registry = Registry::builtin();
    let library = RecipeLibrary::Bundled;
    let rel = format!("{}.toml", attribute.trim_end_matches(".toml"));
    let recipe = library.attribute(&rel, &registry)?;

    // 3. sample the op chain (seeded: same seed, same params) and apply it deterministically
    let mut rng = Seed::derive(42, "degrade_one").rng();
    let mut chain = recipe.sample_chain(severity, &mut rng)?;
    let degraded = apply_chain_resolving(&registry, &mut chain, &Picture::Grey(clean.clone()))?;
    for step in &chain {
        println!("  {} {}", step.op, step.params);
    }

    // 4. render both with the clean slice's display map and write the degraded PNG
    let map = DisplayMap::for_clean(
        &clean,
        Window::preset("soft_tissue").expect("preset"),
        [0.5, 99.5],
    );
    let (clean_u8, degraded_u8) = (
        to_u8(&map.show(&Picture::Grey(clean.clone()))),
        to_u8(&map.show(&degraded)),
    );
    let dir = tempfile::tempdir()?;
    let out = dir.path().join(format!("{}_{}.png", recipe.name, severity));
    std::fs::write(&out, encode_png(&degraded_u8))?;

    // 5. check: the PNG decodes to the written pixels, and the degradation changed the image
    let back = image::open(&out)?.to_luma8();
    let (rows, cols, _) = degraded_u8.dim();
    if (back.height() as usize, back.width() as usize) != (rows, cols) {
        return Err(format!(
            "PNG is {}×{}, expected {cols}×{rows}",
            back.width(),
            back.height()
        )
        .into());
    }
    if back.as_raw().as_slice()
        != degraded_u8
            .as_standard_layout()
            .as_slice()
            .expect("contiguous")
    {
        return Err("PNG pixels differ from the rendered slice".into());
    }
    let changed = clean_u8
        .iter()
        .zip(degraded_u8.iter())
        .filter(|(a, b)| a != b)
        .count();
    let fraction = changed as f64 / clean_u8.len() as f64;
    println!(
        "wrote {} ({cols}×{rows}); {:.1} % of pixels differ from the clean render",
        out.display(),
        100.0 * fraction
    );
    if severity != Severity::None && fraction < 0.01 {
        return Err(format!(
            "`{attribute}` at {severity} changed only {:.2} % of pixels",
            100.0 * fraction
        )
        .into());
    }
    Ok(())
}
