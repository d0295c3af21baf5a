//! Constants and kernel inputs shared by the portable back-projection loops (`fan`, `parallel`)
//! and their AVX2 builds in `crate::simd::fbp`, so that neither side imports the other.

/// Image rows per back-projection task.
pub(crate) const TILE: usize = 8;

/// Zeros behind a padded fan-beam detector row (index `n_det + 1` onwards): positions are
/// clamped into `[0, n_det + 1]`, and the AVX2 kernel loads 16 values from there.
pub(crate) const FAN_BEHIND: usize = 17;

/// Inputs of the fan-beam tile kernel (`fan::fan_tile` and its AVX2 build).
#[derive(Clone, Copy)]
pub(crate) struct FanTile<'a> {
    pub(crate) trig: &'a [(f64, f64)],
    pub(crate) qp: &'a [f32],
    pub(crate) stride: usize,
    pub(crate) pix: f64,
    pub(crate) cr: f64,
    pub(crate) rs: f64,
    pub(crate) rs32: f32,
    pub(crate) cols: usize,
    pub(crate) kmax: f32,
    pub(crate) x0: f32,
    pub(crate) scale: f32,
    pub(crate) shift: f32,
}

/// Odd polynomial for atan on [0, 1] (least-squares fit on Chebyshev nodes, |err| < 2e-7).
pub(crate) const ATAN_C: [f32; 8] = [
    0.999_999_44,
    -0.333_301_07,
    0.199_485_1,
    -0.139_158_02,
    0.096_562_565,
    -0.056_063_177,
    0.021_946_61,
    -0.004_073_309_5,
];
