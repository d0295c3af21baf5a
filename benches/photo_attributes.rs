//! Every bundled photographic attribute at its severe level on a 1024² real photograph, through
//! the registry as the builder runs it (sample the chain with a fixed seed, apply it): fundus and
//! endoscopy attributes on the CC0 fundus photograph, histopathology ones on the H&E skin crop,
//! each prepared to 1024² (`prepare_colour`). The issue's target is ≤ 30 ms per attribute on
//! one core: run with one thread,
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo bench --bench photo_attributes
//! ```
//!
//! and compare with the nearest albumentations/OpenCV transforms: `bench/photo/attributes_vs_peers.py`
//! (reads these criterion medians and prints the README table).

use artefact_core::{Modality, Picture, Seed, Severity};
use artefact_dataset::source::prepare_colour;
use artefact_recipe::attribute::apply_chain_resolving;
use artefact_recipe::{RecipeLibrary, Registry};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::Path;

fn photo(modality: Modality) -> Picture {
    let file = match modality {
        Modality::Histopathology => {
            "tests/data/photo/histopathology/he_skin_cmu1_small_region_aperio20x_x600_y1500_768px.png"
        }
        _ => "tests/data/photo/fundus/fundus_normal_left_eye_haggstrom_cc0.jpg",
    };
    let opts = artefact_io::RgbLoadOptions {
        modality: Some(modality),
        ..Default::default()
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let img = artefact_io::read_rgb(&path, &opts)
        .expect("bundled photo")
        .image;
    Picture::Colour(prepare_colour(&img, 1024).expect("prepare"))
}

fn bench(c: &mut Criterion) {
    let registry = Registry::builtin();
    let mut g = c.benchmark_group("photo_attribute_severe_1024");
    g.sample_size(10);
    for (rel, recipe) in RecipeLibrary::Bundled
        .attributes(&registry)
        .expect("bundled recipes")
    {
        let recipe = recipe.expect("valid recipe");
        if !recipe.modality.is_colour() {
            continue;
        }
        let img = photo(recipe.modality);
        let mut rng = Seed::derive(1, &rel).rng();
        let chain = recipe
            .sample_chain(Severity::Severe, &mut rng)
            .expect("sample");
        let name = rel.trim_end_matches(".toml").replace('/', "_");
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut ch = chain.clone();
                apply_chain_resolving(&registry, &mut ch, black_box(&img)).unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
