//! Real test images shared by the operator tests (tests/data at the repository root).

use artefact_core::Image;
use std::path::{Path, PathBuf};

/// Path of a fixture under the repository's tests/data.
pub fn data_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel)
}

/// The middle axial slice of the MNI152 T1 template and the MR_small DICOM slice.
pub fn mri_slices() -> Vec<Image> {
    let mni = artefact_io::load_volume(&data_path("nifti/mni152_t1_1mm.nii.gz")).unwrap();
    let mid = mni.volume.shape().0 / 2;
    let mr_small = artefact_io::load_volume(&data_path("dicom/MR_small.dcm")).unwrap();
    vec![
        mni.volume.slice(0, mid).unwrap(),
        mr_small.volume.slice(0, 0).unwrap(),
    ]
}
