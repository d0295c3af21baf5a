//! The built-in operator table: every simulator of artefact-mri, artefact-ct and artefact-us.

use crate::registry::{OpEntry, Registry};
use artefact_ct as ct;
use artefact_mri as mri;
use artefact_us as us;

impl Registry {
    /// All built-in operators, MRI then CT then ultrasound.
    pub fn builtin() -> Registry {
        Registry::new(vec![
            OpEntry::of::<mri::undersampling::Undersampling>(),
            OpEntry::of::<mri::motion::Motion>(),
            OpEntry::of::<mri::ghosting::Ghosting>(),
            OpEntry::of::<mri::spike::Spike>(),
            OpEntry::of::<mri::gibbs::Gibbs>(),
            OpEntry::of::<mri::noise::Noise>(),
            OpEntry::of::<mri::bias_field::BiasField>(),
            OpEntry::of::<mri::wraparound::Wraparound>(),
            OpEntry::of::<mri::susceptibility::Susceptibility>(),
            OpEntry::of::<ct::low_dose::LowDose>(),
            OpEntry::of::<ct::sparse_view::SparseView>(),
            OpEntry::of::<ct::limited_angle::LimitedAngle>(),
            OpEntry::of::<ct::metal::MetalArtifact>(),
            OpEntry::of::<ct::ring::Ring>(),
            OpEntry::of::<ct::truncation::Truncation>(),
            OpEntry::of::<ct::motion::Motion>(),
            OpEntry::of::<us::bmode::Bmode>(),
            OpEntry::of::<us::speckle::Speckle>(),
            OpEntry::of::<us::attenuation::Attenuation>(),
            OpEntry::of::<us::gain::Gain>(),
            OpEntry::of::<us::shadowing::Shadowing>(),
            OpEntry::of::<us::reverberation::Reverberation>(),
            OpEntry::of::<us::low_resolution::LowResolution>(),
            OpEntry::of::<us::haze::Haze>(),
        ])
    }
}
