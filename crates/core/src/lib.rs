//! artefact-core: the types and numerical helpers every artefact crate shares. No file I/O.
//!
//! # Model and conventions
//! - [`Image`] is a 2-D grey slice (`Array2<f32>`, shape `(rows, cols)`), [`Volume`] a 3-D stack
//!   (`Array3<f32>`, shape `(slices, rows, cols)`, C order, last axis fastest). Every per-axis
//!   quantity (`spacing`, sizes, axis arguments) is given in **array-axis order**. Lengths are in
//!   millimetres. The volume affine follows NIfTI: it maps voxel indices `(i, j, k)` =
//!   `(col, row, slice)` = array axes `(2, 1, 0)` to RAS+ world millimetres.
//! - Intensities carry a [`Unit`]: CT in Hounsfield units (after Rescale Slope/Intercept), MR in
//!   arbitrary source units, ultrasound echogenicity in `[0, 1]`.
//! - FFTs ([`fft`]) are centred and orthonormal, as fastMRI's `fft2c`/`ifft2c`:
//!   `fftshift(FFT(ifftshift(x), norm="ortho"))`, so Parseval holds exactly and k-space centre
//!   (DC) sits at index `n/2` on each axis.
//! - Randomness ([`rng`]): every sample derives its own ChaCha8 stream from
//!   `(dataset seed, stable string key)` with SHA-256, so results never depend on thread count
//!   or processing order.
//! - Severity ([`Severity`]) is `none | mild | severe`, default quality grade good / usable /
//!   reject.
//! - Operators ([`op`]) come in two phases, as in TorchIO: `sample(spec, rng) -> Params`
//!   (random) and `apply(&Params, image) -> image` (deterministic; any noise realisation is
//!   driven by a seed stored in the params).
//!
//! # References
//! - Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment: from error
//!   visibility to structural similarity", IEEE TIP 13(4), 2004 ([`metrics::ssim`]).
//! - J. Zbontar et al., "fastMRI: An open dataset and benchmarks for accelerated MRI",
//!   arXiv:1811.08839, 2018 (centred FFT convention).

pub mod bigbuf;
pub mod colour;
pub mod colour_metrics;
pub mod colour_op;
pub mod error;
pub mod fastmath;
pub mod fft;
pub mod image;
pub mod metrics;
pub mod op;
mod otsu_kernel;
pub mod params;
pub mod resample;
pub mod rng;
pub mod severity;
pub mod simd;
mod stats;

pub use colour::RgbImage;
pub use colour_op::{ColourOpVisitor, ColourOperator, Picture, PictureKind};
pub use error::CoreError;
pub use image::{Image, Modality, Unit, Volume};
pub use num_complex::Complex32;
pub use op::{
    OpInfo, Operator, ParamDefault, ParamInfo, ParamKind, ParamSpec, SpecValue, VolumeOperator,
};
pub use params::{Choice, OpVisitor};
pub use rng::{SampleRng, Seed};
pub use severity::{QualityGrade, Severity};

/// Result alias for this crate.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
