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

    /// The columns of row `r` where the capsule's coverage can be positive, clipped to
    /// `0..cols` (`None` when there are none): a conservative superset, the row's chord
    /// through the capsule's oriented bounding rectangle grown by 2 px (the coverage is 0
    /// beyond `max(ra, rb) + 0.5` px from the segment).
    fn row_span(&self, r: f64, cols: usize) -> Option<(usize, usize)> {
        let (dr, dc) = (self.b[0] - self.a[0], self.b[1] - self.a[1]);
        let len = dr.hypot(dc);
        // unit axis and its normal (a point capsule: the axes of the frame)
        let (u, n) = if len > 0.0 {
            ([dr / len, dc / len], [-dc / len, dr / len])
        } else {
            ([1.0, 0.0], [0.0, 1.0])
        };
        let m = self.ra.max(self.rb) + 0.5 + 2.0;
        let y = r - self.a[0];
        let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
        // lo_v ≤ y·e[0] + x·e[1] ≤ hi_v, for x = c − a[1]
        for (e, lo_v, hi_v) in [(u, -m, len + m), (n, -m, m)] {
            let k = y * e[0];
            if e[1] == 0.0 {
                if k < lo_v || k > hi_v {
                    return None;
                }
            } else {
                let (x0, x1) = ((lo_v - k) / e[1], (hi_v - k) / e[1]);
                lo = lo.max(x0.min(x1));
                hi = hi.min(x0.max(x1));
            }
        }
        let (lo, hi) = ((lo + self.a[1]).ceil(), (hi + self.a[1]).floor());
        if !(lo <= hi && hi >= 0.0 && lo <= (cols - 1) as f64) {
            return None;
        }
        Some((lo.max(0.0) as usize, (hi as usize).min(cols - 1)))
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

/// Visit every pixel the tool covers: `f(r, c, radiance, coverage)` for coverage > 0, rows
/// in order, columns in order within a row. Only the capsules' row spans
/// ([`Capsule::row_span`]) are evaluated; elsewhere the coverage is 0.
fn shade(
    p: &InstrumentParams,
    img: &RgbImage,
    mut f: impl FnMut(usize, usize, f64, f64),
) -> Result<()> {
    check_range("albedo", p.albedo, 0.0, 1.0)?;
    check_range("specular", p.specular, 0.0, 10.0)?;
    check_range("shininess", p.shininess, 1.0, 5000.0)?;
    check_range("light", p.light, 0.0, 50.0)?;
    let caps = geometry(p, img)?;
    let level = p.light * mean_luminance(img);
    let (rows, cols) = img.shape();
    for r in 0..rows {
        let spans = caps.map(|cap| cap.row_span(r as f64, cols));
        let Some((c0, c1)) = spans.iter().flatten().fold(None, |acc, &(a, b)| match acc {
            None => Some((a, b)),
            Some((x, y)) => Some((a.min(x), b.max(y))),
        }) else {
            continue;
        };
        for c in c0..=c1 {
            // the previous full loop's choice, over the capsules whose span holds `c` (the
            // others have coverage 0 here and never win)
            let mut best = (0.0, 1.0);
            for (cap, span) in caps.iter().zip(&spans) {
                if !matches!(span, Some((a, b)) if (*a..=*b).contains(&c)) {
                    continue;
                }
                let s = cap.sample(r as f64, c as f64);
                if s.0 > best.0 || (s.0 == best.0 && s.0 > 0.0 && s.1 < best.1) {
                    best = s;
                }
            }
            if best.0 > 0.0 {
                let cg = (1.0 - best.1 * best.1).max(0.0).sqrt();
                f(
                    r,
                    c,
                    level * (p.albedo * cg + p.specular * cg.powf(p.shininess)),
                    best.0,
                );
            }
        }
    }
    Ok(())
}

/// The tool's radiance and coverage maps `(radiance, coverage)` (both 0 off the tool).
pub fn render(p: &InstrumentParams, img: &RgbImage) -> Result<(Array2<f64>, Array2<f64>)> {
    let (rows, cols) = img.shape();
    let mut rad = Array2::<f64>::zeros((rows, cols));
    let mut cov = Array2::<f64>::zeros((rows, cols));
    shade(p, img, |r, c, l, a| {
        rad[[r, c]] = l;
        cov[[r, c]] = a;
    })?;
    Ok((rad, cov))
}

/// Draw the tool over the scene inside the field of view.
pub fn apply(p: &InstrumentParams, img: &RgbImage) -> Result<RgbImage> {
    if p.reach == 0.0 {
        return Ok(img.clone());
    }
    let mut out = img.data.clone();
    shade(p, img, |r, c, l, a| {
        if img.in_fov(r, c) {
            for k in 0..3 {
                let v = &mut out[[k, r, c]];
                *v = (a * l + (1.0 - a) * *v as f64) as f32;
            }
        }
    })?;
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

    /// The previous full-frame loop (every capsule at every pixel, then the blend over the
    /// whole frame): the reference the row spans replace, bit for bit.
    fn reference(p: &InstrumentParams, img: &RgbImage) -> (Array2<f64>, Array2<f64>, RgbImage) {
        let caps = geometry(p, img).unwrap();
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
        let mut out = img.data.clone();
        for ((_, r, c), v) in out.indexed_iter_mut() {
            let a = cov[[r, c]];
            if a > 0.0 && img.in_fov(r, c) {
                *v = (a * rad[[r, c]] + (1.0 - a) * *v as f64) as f32;
            }
        }
        (rad, cov, img.with_data(out).unwrap())
    }

    /// Row spans: the same maps and image bit for bit as the full-frame loop, for tools along
    /// the frame's axes (a span bound parallel to the rows), on the diagonals, offset to the
    /// field's edge, reaching past the far border, with closed or wide jaws, very thin or
    /// very wide, in a masked and a mask-free frame that is not square (the tool leaves the
    /// frame through its sides and corners).
    #[test]
    fn row_spans_match_the_full_frame_loop_bit_for_bit() {
        let masked = img();
        let plain = RgbImage::new(
            Array3::from_shape_fn((3, 70, 131), |(k, r, c)| {
                0.1 + 0.1 * k as f32 + 0.002 * ((r * 5 + c * 3) % 11) as f32
            }),
            [1.0, 1.0],
            Modality::Endoscopy,
            None,
        )
        .unwrap();
        let mut cases = 0;
        for im in [&masked, &plain] {
            for angle in [0.0, 45.0, 90.0, 135.0, 180.0, 200.0, 270.0, 315.0, 359.0] {
                for (reach, width, offset, jaw) in [
                    (0.6, 0.2, 0.0, 30.0),
                    (1.2, 0.5, 0.4, 90.0),
                    (0.05, 0.01, -0.4, 0.0),
                    (0.8, 0.15, 0.25, 60.0),
                ] {
                    let p = InstrumentParams {
                        reach,
                        angle_deg: angle,
                        width,
                        offset,
                        jaw_open_deg: jaw,
                        specular: 1.0,
                        ..params()
                    };
                    let (rad, cov) = render(&p, im).unwrap();
                    let (want_rad, want_cov, want) = reference(&p, im);
                    let same = |a: &Array2<f64>, b: &Array2<f64>| {
                        a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
                    };
                    assert!(same(&rad, &want_rad) && same(&cov, &want_cov), "{p:?}");
                    let out = apply(&p, im).unwrap();
                    assert!(
                        out.data
                            .iter()
                            .zip(&want.data)
                            .all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{p:?}"
                    );
                    assert!(cov.iter().any(|&v| v > 0.0), "{p:?}");
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, 72);
    }

    /// A row span holds every column with positive coverage, for capsules along the axes,
    /// oblique, degenerate (a point) and partly or wholly outside the frame.
    #[test]
    fn row_span_holds_the_capsule() {
        let caps = [
            Capsule {
                a: [10.0, -30.0],
                b: [10.0, 80.0],
                ra: 4.0,
                rb: 4.0,
            },
            Capsule {
                a: [-20.0, 15.0],
                b: [90.0, 15.0],
                ra: 3.0,
                rb: 1.0,
            },
            Capsule {
                a: [-5.0, -5.0],
                b: [40.0, 70.0],
                ra: 0.4,
                rb: 6.0,
            },
            Capsule {
                a: [25.5, 30.25],
                b: [25.5, 30.25],
                ra: 5.0,
                rb: 5.0,
            },
            Capsule {
                a: [25.0, 30.0],
                b: [25.0 + 1e-13, 90.0],
                ra: 2.0,
                rb: 2.0,
            },
            Capsule {
                a: [-40.0, -40.0],
                b: [-10.0, -12.0],
                ra: 3.0,
                rb: 3.0,
            },
            Capsule {
                a: [49.0, 20.0],
                b: [60.0, 61.0],
                ra: 8.0,
                rb: 2.4,
            },
        ];
        let (rows, cols) = (50usize, 60usize);
        for cap in caps {
            for r in 0..rows {
                let span = cap.row_span(r as f64, cols);
                for c in 0..cols {
                    if cap.sample(r as f64, c as f64).0 > 0.0 {
                        assert!(
                            matches!(span, Some((a, b)) if a <= c && c <= b),
                            "{cap:?} row {r} col {c}: {span:?}"
                        );
                    }
                }
            }
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
