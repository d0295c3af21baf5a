//! artefact-photo: optical image-formation models for the photographic modalities (fundus
//! photography, endoscopy, histopathology). Pure: no file I/O, no recipes; images are
//! [`artefact_core::RgbImage`]s in **linear light** (see [`artefact_core::colour`]).
//!
//! # Image formation, in the order a camera applies it
//! 1. scene radiance and media: scattering veil ([`veil`]), stain optics for transmitted-light
//!    microscopy ([`stain`], Beer–Lambert optical density with Macenko stain vectors);
//! 2. optics: point-spread functions — defocus as the thin-lens circle of confusion
//!    ([`defocus`]), motion blur from a camera path ([`motion`]) — applied by normalised
//!    convolution inside the field of view ([`convolve`]);
//! 3. illumination: cos⁴ vignetting and a point light at the lens with inverse-square falloff
//!    and Lambertian reflection ([`illumination`]);
//! 4. sensor: exposure with clipping at full well ([`exposure`]), Poisson–Gaussian noise in raw
//!    ([`sensor_noise`]);
//! 5. camera processing: von Kries white balance in Bradford cone space ([`white_balance`]),
//!    tone curve ([`exposure`]), JPEG through a real encoder ([`jpeg`]).
//!
//! # Units
//! Linear light relative to display white (1 = sRGB white); lengths on the image in pixels
//! unless a parameter says mm; angles in degrees in parameters; random realisations are driven
//! by a `seed` stored in the params (ChaCha8 via [`artefact_core::Seed`]), so the params
//! replay a result bit for bit.
//!
//! # Slide artefacts of bright-field microscopy (histopathology)
//! Transmitted light: artefacts that add material add optical density (Beer–Lambert), built on
//! [`slide`] — stain variation ([`stain_variation`]), tissue fold ([`tissue_fold`]), debris
//! ([`dark_spot`]), marker ink ([`pen_mark`]), fibres ([`thread`]), air bubble
//! ([`air_bubble`]), knife cut ([`tissue_cut`]) and lamp-field shading
//! ([`brightfield_shading`]).
//!
//! Nothing is simulated outside an image's field-of-view mask: every model that writes pixels
//! leaves pixels outside [`artefact_core::RgbImage::fov`] unchanged.
//!
//! # References (per file in each module's docs)
//! - M. Born, E. Wolf, *Principles of Optics*, 7th ed. (Airy/defocus pupil, cos⁴ law).
//! - H. Knutsson, C.-F. Westin, "Normalized and differential convolution", CVPR 1993.
//! - S. K. Nayar, S. G. Narasimhan, "Vision in bad weather", ICCV 1999 (scattering veil).
//! - K. M. Lam (1985) / ICC, Bradford chromatic adaptation transform.
//! - A. Foi et al., "Practical Poissonian-Gaussian noise modeling and fitting for single-image
//!   raw-data", IEEE TIP 17(10), 2008.
//! - M. Macenko et al., "A method for normalizing histology slides for quantitative analysis",
//!   ISBI 2009; A. C. Ruifrok, D. A. Johnston, "Quantification of histochemical staining by
//!   color deconvolution", Anal. Quant. Cytol. Histol. 23(4), 2001.
//! - ITU-T T.81 | ISO/IEC 10918-1 (JPEG), IJG libjpeg quality scaling.

// `deny`, not `forbid`: ndarray's `s!` expands to `#[allow(unsafe_code)]`; no unsafe code here.
#![deny(unsafe_code)]
// index loops over small fixed matrices and planes read more clearly than iterator chains
#![allow(clippy::needless_range_loop)]

pub mod convolve;
pub mod defocus;
mod error;
pub mod exposure;
pub mod illumination;
pub mod jpeg;
pub mod motion;
mod pixel;
pub mod sensor_noise;
mod simd;
pub mod stain;
pub mod veil;
pub mod white_balance;
// scene operators of fundus and endoscopy photographs
pub mod bubbles;
pub mod instrument;
pub mod shadow;
pub mod smoke;
pub mod specular;
pub mod support;
// slide artefacts of histopathology
pub mod air_bubble;
pub mod brightfield_shading;
pub mod dark_spot;
pub mod pen_mark;
pub mod slide;
pub mod stain_variation;
pub mod thread;
pub mod tissue_cut;
pub mod tissue_fold;

pub use error::PhotoError;

/// Visit the colour operators of this crate, in registry order (the colour counterpart of
/// `artefact_core::operators!`, whose visitor takes grey operators).
pub fn visit_colour_operators<V: artefact_core::ColourOpVisitor + ?Sized>(v: &mut V) {
    v.visit::<defocus::Defocus>();
    v.visit::<motion::MotionBlur>();
    v.visit::<sensor_noise::SensorNoise>();
    v.visit::<jpeg::Jpeg>();
    // illumination, media and camera; scenes of fundus and endoscopy
    v.visit::<illumination::Illumination>();
    v.visit::<veil::Veil>();
    v.visit::<white_balance::WhiteBalance>();
    v.visit::<exposure::Exposure>();
    v.visit::<smoke::Smoke>();
    v.visit::<shadow::Shadow>();
    v.visit::<specular::Specular>();
    v.visit::<bubbles::Bubbles>();
    v.visit::<instrument::Instrument>();
    // slide artefacts of histopathology
    v.visit::<stain_variation::StainVariation>();
    v.visit::<tissue_fold::TissueFold>();
    v.visit::<dark_spot::DarkSpot>();
    v.visit::<pen_mark::PenMark>();
    v.visit::<thread::Thread>();
    v.visit::<air_bubble::AirBubble>();
    v.visit::<tissue_cut::TissueCut>();
    v.visit::<brightfield_shading::BrightfieldShading>();
}

/// Number of colour operators of this crate (checked against the visit list by a test).
pub const COLOUR_OPERATOR_COUNT: usize = 21;

/// Result alias for this crate.
pub type Result<T, E = PhotoError> = std::result::Result<T, E>;

/// A point-spread function: non-negative weights summing to 1 on an odd-sized grid whose
/// centre pixel `(rows/2, cols/2)` is the origin.
#[derive(Clone, Debug, PartialEq)]
pub struct Psf {
    pub weights: ndarray::Array2<f64>,
}

impl Psf {
    /// The identity PSF (a single 1 at the origin).
    pub fn identity() -> Psf {
        Psf {
            weights: ndarray::Array2::from_elem((1, 1), 1.0),
        }
    }

    /// Half sizes `(rows/2, cols/2)`.
    pub fn radius(&self) -> (usize, usize) {
        (self.weights.nrows() / 2, self.weights.ncols() / 2)
    }

    /// Discrete-time Fourier transform at spatial frequency `(fy, fx)` in cycles per pixel
    /// (complex value as `(re, im)`), relative to the origin pixel.
    pub fn dtft(&self, fy: f64, fx: f64) -> (f64, f64) {
        let (ry, rx) = self.radius();
        let (mut re, mut im) = (0.0, 0.0);
        for ((r, c), &w) in self.weights.indexed_iter() {
            if w == 0.0 {
                continue;
            }
            let ph = -2.0
                * std::f64::consts::PI
                * (fy * (r as f64 - ry as f64) + fx * (c as f64 - rx as f64));
            re += w * ph.cos();
            im += w * ph.sin();
        }
        (re, im)
    }

    /// Normalise to unit sum (fails on an all-zero or non-finite kernel).
    pub(crate) fn normalised(mut weights: ndarray::Array2<f64>) -> Result<Psf> {
        let s: f64 = weights.sum();
        if !(s.is_finite() && s > 0.0) {
            return Err(PhotoError::Input(format!(
                "point-spread function has sum {s}; it needs positive weight"
            )));
        }
        weights.mapv_inplace(|w| w / s);
        Ok(Psf { weights })
    }
}
