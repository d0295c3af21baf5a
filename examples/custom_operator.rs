//! A new operator defined outside the workspace's physics crates, registered and used from a
//! recipe: one declaration of its parameters, one `Operator` impl, one recipe.
//!
//! `demo.vignette` darkens the image towards its corners: `y = x · (1 − strength · r²)`, with
//! `r` the distance from the centre normalised to 1 at the corners. Run with
//! `cargo run --example custom_operator`; it checks its own result and exits 0.

use artefact_core::{
    CoreError, Image, Modality, OpInfo, Operator, ParamSpec, Picture, SampleRng, Seed, Severity,
    Unit,
};
use artefact_recipe::attribute::apply_chain;
use artefact_recipe::{AttributeRecipe, Registry};
use ndarray::Array2;
use std::path::Path;

artefact_core::choice! {
    /// Which profile the darkening follows.
    pub enum Falloff {
        /// `1 − strength·r²`.
        Quadratic = "quadratic",
        /// `1 − strength·r`.
        Linear = "linear",
    }
}

artefact_core::params! {
    /// Parameters of [`Vignette`] (recorded in manifests; replay needs nothing else).
    pub struct VignetteParams {
        /// fraction of the intensity lost at the corners
        pub strength: f64 = float(0.3, [0.0, 0.9], "fraction"),
        /// radial profile of the darkening
        pub falloff: Falloff = choice(Falloff::Quadratic),
    }
}

/// The operator.
pub struct Vignette;

static INFO: OpInfo = OpInfo {
    name: "demo.vignette",
    modality: "MR",
    doc: "Radial darkening towards the corners (example operator).",
    params: VignetteParams::PARAMS,
};

impl Operator for Vignette {
    type Params = VignetteParams;
    type Error = CoreError;

    fn info() -> &'static OpInfo {
        &INFO
    }

    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<VignetteParams, CoreError> {
        VignetteParams::sample(spec, rng)
    }

    fn apply(p: &VignetteParams, image: &Image) -> Result<Image, CoreError> {
        p.validate()?;
        let (rows, cols) = image.shape();
        let (cr, cc) = ((rows as f64 - 1.0) / 2.0, (cols as f64 - 1.0) / 2.0);
        let rmax = (cr * cr + cc * cc).sqrt().max(1e-9);
        let data = Array2::from_shape_fn((rows, cols), |(i, j)| {
            let r = ((i as f64 - cr).powi(2) + (j as f64 - cc).powi(2)).sqrt() / rmax;
            let w = match p.falloff {
                Falloff::Quadratic => 1.0 - p.strength * r * r,
                Falloff::Linear => 1.0 - p.strength * r,
            };
            image.data[(i, j)] * w as f32
        });
        image.with_data(data)
    }
}

const RECIPE: &str = r#"
[attribute]
name = "vignetting"
modality = "MR"
label = "Vignetting"
noun = "vignetting"
region = "global"
description.mild = ["slightly darker corners"]
description.severe = ["strongly darkened corners"]

[[ops]]
op = "demo.vignette"
mild = { strength = [0.1, 0.2] }
severe = { strength = [0.6, 0.8], falloff = ["quadratic", "linear"] }
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // the built-in operators plus ours
    let registry = Registry::builtin().with::<Vignette>();
    let recipe = AttributeRecipe::parse(RECIPE, Path::new("vignetting.toml"), &registry)?;

    let image: Picture = Image::new(
        Array2::from_elem((64, 80), 100.0f32),
        [1.0, 1.0],
        Modality::Mr,
        Unit::Arbitrary,
    )?
    .into();
    let mut rng = Seed::derive(42, "example").rng();
    let chain = recipe.sample_chain(Severity::Severe, &mut rng)?;
    let out = apply_chain(&registry, &chain, &image)?;
    let out = out
        .as_grey()
        .ok_or("a grey operator returns a grey image")?;
    println!("{} {}", chain[0].op, chain[0].params);

    // check the result: the centre is kept, the corners lose `strength`
    let strength = chain[0].params["strength"].as_f64().ok_or("no strength")?;
    assert!((0.6..=0.8).contains(&strength));
    let (centre, corner) = (out.data[(32, 40)], out.data[(0, 0)]);
    assert!((centre - 100.0).abs() < 1.0, "centre {centre}");
    assert!(
        (corner as f64 - 100.0 * (1.0 - strength)).abs() < 1e-3,
        "corner {corner}"
    );
    // the recipe is validated against the declared table
    let bad = RECIPE.replace("[0.6, 0.8]", "[0.6, 1.5]");
    let e = AttributeRecipe::parse(&bad, Path::new("vignetting.toml"), &registry).unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
    // replay from the recorded params gives the same bytes
    let again = apply_chain(&registry, &chain, &image)?;
    assert_eq!(again.as_grey(), Some(out));
    println!("ok: corner {corner:.2} = 100 × (1 − {strength:.3})");
    Ok(())
}
