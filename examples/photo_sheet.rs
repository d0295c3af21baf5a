//! A contact sheet of every bundled attribute of one photographic modality on one real
//! photograph: one row per attribute, columns clean | mild | severe, each cell the photograph
//! prepared as the builder prepares it (square, `SIZE`², field of view detected), degraded
//! with a fixed seed and rendered in sRGB; the SSIM of each degraded cell against the clean one is
//! printed (and mild must not score below severe on the luminance SSIM).
//!
//! ```text
//! cargo run --release --example photo_sheet [MODALITY] [IMAGE] [OUT.png]
//! ```
//!
//! Defaults: `fundus` on the bundled CC0 fundus photograph, written to a temporary folder.
//! The README's sheets were made with
//! `cargo run --release --example photo_sheet -- fundus tests/data/photo/fundus/fundus_normal_left_eye_haggstrom_cc0.jpg docs/img/sheet-fundus.png`
//! and the same for `histopathology` (the skin H&E crop) and `endoscopy` (the fundus photograph
//! standing in: no redistributable endoscopy image is bundled).

use artefact_core::{Modality, Picture, Seed, Severity};
use artefact_dataset::render::{encode_png, luma, to_u8, DisplayMap, Shown};
use artefact_dataset::source::prepare_colour;
use artefact_recipe::attribute::apply_chain_resolving;
use artefact_recipe::library::folder_of;
use artefact_recipe::{RecipeLibrary, Registry};
use ndarray::s;
use std::path::PathBuf;

const SIZE: usize = 256;
const GAP: usize = 4;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let modality: Modality = args.next().as_deref().unwrap_or("fundus").parse()?;
    let folder = folder_of(modality)
        .filter(|_| modality.is_colour())
        .ok_or_else(|| format!("{modality} is not a photographic modality with recipes"))?;
    let input = args.next().map(PathBuf::from).unwrap_or_else(|| {
        // example code: the checkout's test data (an installed binary never does this)
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/photo/fundus/fundus_normal_left_eye_haggstrom_cc0.jpg"
        ))
    });
    let tmp = tempfile::tempdir()?;
    let out = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().join(format!("sheet-{folder}.png")));

    let opts = artefact_io::RgbLoadOptions {
        modality: Some(modality),
        ..Default::default()
    };
    let photo = artefact_io::read_rgb(&input, &opts)?.image;
    let clean = Picture::Colour(prepare_colour(&photo, SIZE)?);
    let map = DisplayMap::srgb();
    let clean_shown = map.show(&clean);

    let registry = Registry::builtin();
    let library = RecipeLibrary::Bundled;
    let mut rows: Vec<[Shown; 3]> = Vec::new();
    for (rel, recipe) in library.attributes(&registry)? {
        if !rel.starts_with(&format!("{folder}/")) {
            continue;
        }
        let recipe = recipe?;
        let mut cells = [
            clean_shown.clone(),
            clean_shown.clone(),
            clean_shown.clone(),
        ];
        let mut ssims = [1.0; 2];
        for (k, severity) in [Severity::Mild, Severity::Severe].into_iter().enumerate() {
            let mut rng = Seed::derive(2026, &format!("sheet/{}/{severity}", recipe.name)).rng();
            let mut chain = recipe.sample_chain(severity, &mut rng)?;
            let degraded = apply_chain_resolving(&registry, &mut chain, &clean)?;
            let shown = map.show(&degraded);
            let (a, b) = (luma(&clean_shown), luma(&shown));
            ssims[k] = artefact_core::metrics::ssim(a.view(), b.view(), 1.0)?;
            cells[k + 1] = shown;
        }
        println!(
            "{:<22} SSIM mild {:.3}  severe {:.3}",
            recipe.name, ssims[0], ssims[1]
        );
        if ssims[1] > ssims[0] {
            return Err(format!(
                "{}: severe (SSIM {:.3}) is not worse than mild ({:.3})",
                recipe.name, ssims[1], ssims[0]
            )
            .into());
        }
        rows.push(cells);
    }
    if rows.is_empty() {
        return Err(format!("no bundled recipes under {folder}/").into());
    }
    let (h, w) = (rows.len() * (SIZE + GAP) - GAP, 3 * (SIZE + GAP) - GAP);
    let mut sheet = Shown::ones((h, w, 3));
    for (r, cells) in rows.iter().enumerate() {
        for (c, cell) in cells.iter().enumerate() {
            let (y, x) = (r * (SIZE + GAP), c * (SIZE + GAP));
            sheet
                .slice_mut(s![y..y + SIZE, x..x + SIZE, ..])
                .assign(cell);
        }
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, encode_png(&to_u8(&sheet)))?;
    println!(
        "wrote {} ({} attributes of {})",
        out.display(),
        rows.len(),
        modality.display_name()
    );
    Ok(())
}
