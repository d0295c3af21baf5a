//! Instrument (endoscopy): an occluding metallic tool entering the field of view from its
//! border — a cylindrical shaft ending in two opened jaws — with its own shading and
//! highlight.
//!
//! # Model
//! The tool's axis enters the field of view at angle `angle_deg` (the border point in that
//! direction from the field's centre, counter-clockwise from the image's +x axis as seen on
//! screen), offset sideways by `offset`, and runs towards the centre; the jaws' tips are at
//! `reach` field-of-view diameters from the border. Every part is a (tapered) capsule around a
//! segment — the shaft of diameter `width`, the two jaws of length `1.6·width` opened by
//! `jaw_open_deg`, each tapering from 0.8 to 0.3 of the shaft's radius — and is shaded as a
//! cylinder: at a distance `a` from its axis (radius `w`), the surface normal makes an angle
//! with the viewing direction of `cos γ = √(1 − (a/w)²)`. With the light at the camera
//! (endoscope) the light, view and half vectors coincide, so
//!
//! ```text
//! L = light · Ȳ · (albedo · cos γ + specular · cos^shininess γ)     (neutral grey metal)
//! ```
//!
//! — Lambert's cosine plus a Blinn–Phong highlight running along the tool's axis. `Ȳ` is
//! the field's mean luminance (the tool is lit by the same light guide as the scene). The
//! outline is anti-aliased by pixel coverage and the tool replaces the scene behind it (an
//! occluder). `reach = 0` is the identity.
//!
//! # Units
//! `width`, `reach`, `offset`: field-of-view diameters; angles: degrees; `light`: multiples of
//! the field's mean luminance.
//!
//! # References
//! - J. F. Blinn, "Models of light reflection for computer synthesized pictures",
//!   SIGGRAPH 1977.
//! - B. K. P. Horn, *Robot Vision*, MIT Press 1986, ch. 10 (Lambertian shading of a cylinder).

use crate::error::check_range;
use crate::support::{fov_geometry, mean_luminance};
use crate::{PhotoError, Result};
use artefact_core::{ColourOperator, OpInfo, ParamSpec, RgbImage, SampleRng};
use ndarray::Array2;

artefact_core::params! {
    /// Parameters of [`Instrument`] (recorded in manifests, replayed exactly).
    pub struct InstrumentParams {
        /// distance of the jaws' tips from the field-of-view border (0 = no tool)
        pub reach: f64 = float(0.4, [0.0, 1.2], "FOV diameters"),
        /// direction (from the field's centre) of the border point where the tool enters, counter-clockwise from +x; drawn uniformly unless given
        pub angle_deg: f64 = sampled_float([0.0, 360.0], "deg"),
        /// shaft diameter
        pub width: f64 = float(0.12, [0.01, 0.5], "FOV diameters"),
        /// sideways offset of the tool's axis from the field's centre
        pub offset: f64 = float(0.0, [-0.4, 0.4], "FOV diameters"),
        /// opening angle between the two jaws
        pub jaw_open_deg: f64 = float(25.0, [0.0, 90.0], "deg"),
        /// diffuse reflectance of the metal
        pub albedo: f64 = float(0.45, [0.0, 1.0], "fraction"),
        /// strength of the specular highlight along the axis
        pub specular: f64 = float(1.0, [0.0, 10.0]),
        /// Blinn–Phong exponent of the highlight
        pub shininess: f64 = float(30.0, [1.0, 5000.0]),
        /// irradiance on the tool, in multiples of the field's mean luminance (it is near the light)
        pub light: f64 = float(2.5, [0.0, 50.0], "× mean luminance"),
    }
}

/// The operator `photo.instrument` (see the module docs).
pub struct Instrument;

static INFO: OpInfo = OpInfo {
    name: "photo.instrument",
    modality: "photo",
    doc: "A metallic instrument entering from the field-of-view border (cylindrical shaft and two opened jaws) that occludes the scene, shaded as a cylinder lit from the camera: Lambert plus a Blinn–Phong highlight along its axis.",
    params: InstrumentParams::PARAMS,
};

impl ColourOperator for Instrument {
    type Params = InstrumentParams;
    type Error = PhotoError;
    fn info() -> &'static OpInfo {
        &INFO
    }
    fn sample(spec: &ParamSpec, rng: &mut SampleRng) -> Result<InstrumentParams> {
        Ok(InstrumentParams::sample(spec, rng)?)
    }
    fn apply(p: &InstrumentParams, image: &RgbImage) -> Result<RgbImage> {
        p.validate()?;
        apply(p, image)
    }
}

/// A tapered capsule: segment `a → b` (`[row, col]`), radius `ra` at `a`, `rb` at `b`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Capsule {
    pub a: [f64; 2],
    pub b: [f64; 2],
    pub ra: f64,
    pub rb: f64,
}

impl Capsule {
    /// `(coverage, a/w)` of pixel `(r, c)`: coverage in `[0, 1]` and the normalised distance
    /// from the axis.
    fn sample(&self, r: f64, c: f64) -> (f64, f64) {
        let (dr, dc) = (self.b[0] - self.a[0], self.b[1] - self.a[1]);
        let l2 = dr * dr + dc * dc;
        let (y, x) = (r - self.a[0], c - self.a[1]);
        let t = if l2 > 0.0 {
            ((y * dr + x * dc) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let d = (y - t * dr).hypot(x - t * dc);
        let w = self.ra + (self.rb - self.ra) * t;
        ((w - d + 0.5).clamp(0.0, 1.0), (d / w.max(1e-9)).min(1.0))
    }
}

/// The tool's capsules (shaft, jaw, jaw) for an image.
pub fn geometry(p: &InstrumentParams, img: &RgbImage) -> Result<[Capsule; 3]> {
    check_range("reach", p.reach, 0.0, 1.2)?;
    check_range("angle_deg", p.angle_deg, -720.0, 720.0)?;
    check_range("width", p.width, 0.01, 0.5)?;
    check_range("offset", p.offset, -0.4, 0.4)?;
    check_range("jaw_open_deg", p.jaw_open_deg, 0.0, 90.0)?;
    let g = fov_geometry(img)?;
    let d = g.diameter;
    let a = p.angle_deg.to_radians();
    // inward axis direction u (row, col) and its perpendicular w
    let u = [a.sin(), -a.cos()];
    let w = [u[1], -u[0]];
    let off = p.offset * d;
    let half = 0.5 * d;
    let back = (half * half - off * off).max(0.0).sqrt();
    // border point of the (equivalent-disc) field on the axis
    let entry = [
        g.centre[0] + off * w[0] - back * u[0],
        g.centre[1] + off * w[1] - back * u[1],
    ];
    let wr = 0.5 * p.width * d;
    let jaw = 1.6 * p.width * d;
    let tip = p.reach * d;
    let hinge_s = tip - jaw;
    let at = |s: f64| [entry[0] + s * u[0], entry[1] + s * u[1]];
    let hinge = at(hinge_s);
    let shaft = Capsule {
        a: at(-d),
        b: hinge,
        ra: wr,
        rb: wr,
    };
    let h = 0.5 * p.jaw_open_deg.to_radians();
    let jaw_cap = |sgn: f64| {
        let (cs, sn) = (h.cos(), sgn * h.sin());
        let dir = [u[0] * cs + w[0] * sn, u[1] * cs + w[1] * sn];
        Capsule {
            a: hinge,
            b: [hinge[0] + jaw * dir[0], hinge[1] + jaw * dir[1]],
            ra: 0.8 * wr,
            rb: 0.3 * wr,
        }
    };
    Ok([shaft, jaw_cap(1.0), jaw_cap(-1.0)])
}

/// The tool's radiance and coverage maps `(radiance, coverage)`.
pub fn render(p: &InstrumentParams, img: &RgbImage) -> Result<(Array2<f64>, Array2<f64>)> {
    check_range("albedo", p.albedo, 0.0, 1.0)?;
    check_range("specular", p.specular, 0.0, 10.0)?;
    check_range("shininess", p.shininess, 1.0, 5000.0)?;
    check_range("light", p.light, 0.0, 50.0)?;
    let caps = geometry(p, img)?;
    let level = p.light * mean_luminance(img);
    let (rows, cols) = img.shape();
    let mut rad = Array2::<f64>::zeros((rows, cols));
    let mut cov = Array2::<f64>::zeros((rows, cols));
    for r in 0..rows {
        for c in 0..cols {
            let mut best = (0.0, 1.0);
            for cap in &caps {
                let s = cap.sample(r as f64, c as f64);
                if s.0 > best.0 || (s.0 == best.0 && s.0 > 0.0 && s.1 < best.1) {
                    best = s;
                }
            }
            if best.0 > 0.0 {
                let cg = (1.0 - best.1 * best.1).max(0.0).sqrt();
                rad[[r, c]] = level * (p.albedo * cg + p.specular * cg.powf(p.shininess));
                cov[[r, c]] = best.0;
            }
        }
    }
    Ok((rad, cov))
}

/// Draw the tool over the scene inside the field of view.
pub fn apply(p: &InstrumentParams, img: &RgbImage) -> Result<RgbImage> {
    if p.reach == 0.0 {
        return Ok(img.clone());
    }
    let (rad, cov) = render(p, img)?;
    let mut out = img.data.clone();
    for ((_, r, c), v) in out.indexed_iter_mut() {
        let a = cov[[r, c]];
        if a > 0.0 && img.in_fov(r, c) {
            *v = (a * rad[[r, c]] + (1.0 - a) * *v as f64) as f32;
        }
    }
    Ok(img.with_data(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use artefact_core::Modality;
    use ndarray::Array3;

    fn img() -> RgbImage {
        RgbImage::new(
            Array3::from_shape_fn((3, 101, 101), |(k, r, c)| {
                0.2 + 0.05 * k as f32 + 0.001 * ((r * 3 + c) % 7) as f32
            }),
            [1.0, 1.0],
            Modality::Endoscopy,
            Some(Array2::from_shape_fn((101, 101), |(r, c)| {
                (r as f64 - 50.0).hypot(c as f64 - 50.0) <= 48.0
            })),
        )
        .unwrap()
    }

    fn params() -> InstrumentParams {
        InstrumentParams {
            reach: 0.6,
            angle_deg: 0.0, // enters from the right border, runs left along the centre row
            width: 0.2,
            offset: 0.0,
            jaw_open_deg: 30.0,
            albedo: 0.5,
            specular: 0.0,
            shininess: 30.0,
            light: 2.0,
        }
    }

    /// Across the shaft the radiance is exactly level·albedo·√(1 − (a/w)²) (Lambert on a
    /// cylinder lit and seen from the camera); the highlight peaks on the axis.
    #[test]
    fn cylinder_shading_is_lambert_and_highlight_on_axis() {
        let im = img();
        let p = params();
        let caps = geometry(&p, &im).unwrap();
        let g = fov_geometry(&im).unwrap();
        let level = 2.0 * mean_luminance(&im);
        let (rad, cov) = render(&p, &im).unwrap();
        let col = 85usize; // on the shaft, between the border and the hinge
        assert!(
            (col as f64) > caps[0].b[1] + caps[0].ra + 1.0,
            "{:?}",
            caps[0]
        );
        let wr = caps[0].ra;
        assert!((wr - 0.1 * g.diameter).abs() < 1e-9);
        for r in 0..101usize {
            let a = (r as f64 - caps[0].a[0]).abs();
            if a + 0.5 <= wr {
                assert_eq!(cov[[r, col]], 1.0);
                let e = level * 0.5 * (1.0 - (a / wr).powi(2)).sqrt();
                assert!((rad[[r, col]] - e).abs() < 1e-12, "row {r}");
            } else if a - 0.5 >= wr {
                assert_eq!(cov[[r, col]], 0.0);
            }
        }
        let shiny = InstrumentParams {
            specular: 1.0,
            shininess: 50.0,
            ..p.clone()
        };
        let (rad, _) = render(&shiny, &im).unwrap();
        let peak = (0..101)
            .max_by(|&a, &b| rad[[a, col]].total_cmp(&rad[[b, col]]))
            .unwrap();
        assert!((peak as f64 - caps[0].a[0]).abs() <= 0.5, "{peak}");
        // the tool occludes: on the shaft the output is the tool, not the scene
        let out = apply(&p, &im).unwrap();
        let r0 = caps[0].a[0].round() as usize;
        for k in 0..3 {
            assert!((out.data[[k, r0, col]] as f64 - level * 0.5).abs() < 0.02 * level);
        }
    }

    #[test]
    fn identity_fov_and_direction() {
        let im = img();
        let none = InstrumentParams {
            reach: 0.0,
            ..params()
        };
        assert_eq!(apply(&none, &im).unwrap().data, im.data);
        let p = InstrumentParams {
            angle_deg: 90.0, // from the top border, downwards
            ..params()
        };
        let out = apply(&p, &im).unwrap();
        for ((k, r, c), &v) in out.data.indexed_iter() {
            if !im.in_fov(r, c) {
                assert_eq!(v.to_bits(), im.data[[k, r, c]].to_bits());
            }
        }
        // changed pixels near the top border, none near the bottom border
        let changed = |r: usize| (0..101).any(|c| out.data[[1, r, c]] != im.data[[1, r, c]]);
        assert!(changed(5) && !changed(95));
        let bad = InstrumentParams { width: 0.0, ..p };
        assert!(apply(&bad, &im).unwrap_err().to_string().contains("width"));
    }
}
