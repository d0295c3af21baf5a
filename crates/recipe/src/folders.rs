//! The recipe folder of each modality (`recipes/<folder>/<attribute>.toml`).

/// Folders of attribute recipes, one per modality.
pub const MODALITY_FOLDERS: [&str; 6] =
    ["mri", "ct", "us", "fundus", "endoscopy", "histopathology"];

/// The recipe folder of a modality's attributes (`None` for modalities without one).
pub fn folder_of(modality: artefact_core::Modality) -> Option<&'static str> {
    use artefact_core::Modality as M;
    match modality {
        M::Mr => Some("mri"),
        M::Ct => Some("ct"),
        M::Us => Some("us"),
        M::Fundus => Some("fundus"),
        M::Endoscopy => Some("endoscopy"),
        M::Histopathology => Some("histopathology"),
        M::Photo | M::Other => None,
    }
}

/// The folders to look in for an attribute of `modality` (every folder when it is unknown).
pub fn folders_for(modality: Option<artefact_core::Modality>) -> Vec<&'static str> {
    match modality.and_then(folder_of) {
        Some(f) => vec![f],
        None => MODALITY_FOLDERS.to_vec(),
    }
}
