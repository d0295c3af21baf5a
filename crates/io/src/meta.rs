//! Source metadata kept alongside a loaded volume.
//!
//! [`Meta`] carries what later stages need (modality, body part, transfer syntax, frames,
//! volumes, rescale, …). Patient and series identifiers are kept only inside
//! [`Identifiers`], whose `Debug` never shows them and which is never serialised: their one
//! use is [`Meta::pseudonymous_key`], a keyed SHA-256 (HMAC-SHA-256, RFC 2104) that lets
//! manifests group samples by patient/series without revealing who they are.

use artefact_core::Modality;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::PathBuf;

/// File format of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Format {
    #[serde(rename = "DICOM")]
    Dicom,
    #[serde(rename = "NIfTI-1")]
    Nifti1,
    #[serde(rename = "NIfTI-2")]
    Nifti2,
    #[serde(rename = "PNG")]
    Png,
    #[serde(rename = "JPEG")]
    Jpeg,
    #[serde(rename = "TIFF")]
    Tiff,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Dicom => "DICOM",
            Format::Nifti1 => "NIfTI-1",
            Format::Nifti2 => "NIfTI-2",
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
            Format::Tiff => "TIFF",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A DICOM transfer syntax: UID and human name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransferSyntax {
    pub uid: String,
    pub name: String,
}

/// A DICOM SOP class: UID and human name (when known).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SopClass {
    pub uid: String,
    pub name: String,
}

/// The linear map applied to stored values: `value = slope · stored + intercept`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rescale {
    pub slope: f64,
    pub intercept: f64,
}

/// Identifiers used only to build pseudonymous keys. Never printed, logged or serialised.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Identifiers {
    pub(crate) patient_id: Option<String>,
    pub(crate) study_uid: Option<String>,
    pub(crate) series_uid: Option<String>,
}

impl Identifiers {
    /// Whether any identifier is known (the values themselves stay hidden).
    pub fn is_empty(&self) -> bool {
        self.patient_id.is_none() && self.study_uid.is_none() && self.series_uid.is_none()
    }

    /// Whether two sources belong to the same series (compares without revealing).
    pub fn same_series(&self, other: &Identifiers) -> bool {
        self.series_uid.is_some() && self.series_uid == other.series_uid
    }
}

impl fmt::Debug for Identifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Identifiers(<withheld>)")
    }
}

/// The scan field found in the pixels of an ultrasound frame without declared regions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DetectedField {
    /// `sector` (convex or phased probe) or `rectangle` (linear probe).
    pub shape: String,
    /// Inclusive bounds in the stored frame's pixels.
    pub x0: usize,
    /// First row.
    pub y0: usize,
    /// Last column.
    pub x1: usize,
    /// Last row.
    pub y1: usize,
}

/// What is known about a loaded source.
#[derive(Clone, Debug, Serialize)]
pub struct Meta {
    /// File or directory the volume came from.
    pub path: PathBuf,
    /// Number of files that make up the volume (a DICOM series may span many).
    pub files: usize,
    pub format: Format,
    /// Modality as stored (DICOM), or assumed (NIfTI: MR unless [`crate::LoadOptions::modality`]
    /// says otherwise; PNG/JPEG/TIFF: photo unless told).
    pub modality: Modality,
    /// The modality code as written in the file (DICOM (0008,0060)), if any.
    pub modality_code: Option<String>,
    /// Body Part Examined (0018,0015), if any.
    pub body_part: Option<String>,
    /// DICOM transfer syntax.
    pub transfer_syntax: Option<TransferSyntax>,
    /// DICOM SOP class.
    pub sop_class: Option<SopClass>,
    /// Number of 2-D frames/slices the volume was assembled from.
    pub frames: usize,
    /// Number of volumes in the source (4-D NIfTI: `dim[4]`; 1 otherwise).
    pub volumes: usize,
    /// Which volume was loaded (0-based).
    pub volume_index: usize,
    /// DICOM Photometric Interpretation, or the raster colour type.
    pub photometric: Option<String>,
    /// Stored-value rescale that was applied (DICOM Rescale Slope/Intercept, NIfTI
    /// scl_slope/scl_inter); `None` when the identity was used.
    pub rescale: Option<Rescale>,
    /// Whether MONOCHROME1 values were inverted.
    pub inverted: bool,
    /// DICOM Bits Stored, or bits per sample of the stored datatype.
    pub bits_stored: Option<u16>,
    /// Stored datatype (e.g. `int16`, `uint8`, `float32`).
    pub datatype: Option<String>,
    /// True when the spacing could not be read and 1 mm was assumed.
    pub spacing_assumed: bool,
    /// Number of NaN/Inf voxels replaced by 0 (only with `NonFinitePolicy::Zero`).
    pub non_finite_replaced: usize,
    /// Ultrasound: pixels of burned-in overlay (text, cursors, ticks) found inside the image
    /// and painted over from their surroundings (all frames).
    pub overlay_removed: usize,
    /// Ultrasound without a Sequence of Ultrasound Regions: the shape of the scan field found
    /// in its pixels (`sector` or `rectangle`), to which the frames were cropped and outside
    /// which they were blanked.
    pub field_detected: Option<DetectedField>,
    /// Ultrasound with a Sequence of Ultrasound Regions: the declared 2-D imaging region the
    /// frames were cropped to (shape `region`).
    pub region_declared: Option<DetectedField>,
    /// PNG/JPEG/TIFF: the orientation recorded in the file (EXIF or TIFF Orientation tag) that
    /// was applied on reading, so pixels are in the orientation a viewer shows; `None` when the
    /// file records none or the identity. Exif, `image` crate names (e.g. `Rotate90`).
    pub orientation_applied: Option<String>,
    /// Colour photographs with an embedded ICC profile (PNG/JPEG/TIFF, or DICOM ICC Profile
    /// 0028,2000): what was done with it
    /// (converted to sRGB, recognised as sRGB, or not applied and why).
    pub colour_profile: Option<String>,
    /// Colour PNG/TIFF with transparent pixels: how they were composited (over white for
    /// slides, black otherwise).
    pub transparency: Option<String>,
    /// Patient/series identifiers for [`Meta::pseudonymous_key`] only.
    #[serde(skip)]
    pub identifiers: Identifiers,
}

impl Meta {
    pub(crate) fn new(path: PathBuf, format: Format, modality: Modality) -> Meta {
        Meta {
            path,
            files: 1,
            format,
            modality,
            modality_code: None,
            body_part: None,
            transfer_syntax: None,
            sop_class: None,
            frames: 1,
            volumes: 1,
            volume_index: 0,
            photometric: None,
            rescale: None,
            inverted: false,
            bits_stored: None,
            datatype: None,
            spacing_assumed: false,
            non_finite_replaced: 0,
            overlay_removed: 0,
            field_detected: None,
            region_declared: None,
            orientation_applied: None,
            colour_profile: None,
            transparency: None,
            identifiers: Identifiers::default(),
        }
    }

    /// A stable pseudonymous key for this source: HMAC-SHA-256 under `secret` of the patient
    /// ID and series UID (DICOM), or of the path when the file carries no identifiers.
    /// Returned as 64 lowercase hex digits. Without the secret the key cannot be linked back.
    pub fn pseudonymous_key(&self, secret: &[u8]) -> String {
        let ids = &self.identifiers;
        let message = if ids.patient_id.is_some() || ids.series_uid.is_some() {
            format!(
                "patient:{}\nseries:{}",
                ids.patient_id.as_deref().unwrap_or(""),
                ids.series_uid.as_deref().unwrap_or("")
            )
        } else {
            format!("path:{}", self.path.display())
        };
        hex(&hmac_sha256(secret, message.as_bytes()))
    }

    /// A stable pseudonymous key for the *subject* (patient): HMAC-SHA-256 under `secret` of
    /// the patient ID, falling back to the study UID, then the series UID, then the path.
    /// Used to split datasets so that no patient appears in two splits.
    pub fn subject_key(&self, secret: &[u8]) -> String {
        let ids = &self.identifiers;
        let message = if let Some(p) = &ids.patient_id {
            format!("subject-patient:{p}")
        } else if let Some(s) = &ids.study_uid {
            format!("subject-study:{s}")
        } else if let Some(s) = &ids.series_uid {
            format!("subject-series:{s}")
        } else {
            format!("subject-path:{}", self.path.display())
        };
        hex(&hmac_sha256(secret, message.as_bytes()))
    }
}

/// HMAC-SHA-256 (RFC 2104, block size 64 bytes).
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 4231 test case 6: 131-byte key (longer than the block)
        let key = [0xaau8; 131];
        let mac = hmac_sha256(
            &key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn identifiers_never_show_in_debug_or_json() {
        let mut m = Meta::new("x.dcm".into(), Format::Dicom, Modality::Ct);
        m.identifiers.patient_id = Some("SECRET-ID-42".into());
        m.identifiers.series_uid = Some("1.2.3.4.5".into());
        let dbg = format!("{m:?}");
        assert!(
            !dbg.contains("SECRET-ID-42") && !dbg.contains("1.2.3.4.5"),
            "{dbg}"
        );
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("SECRET-ID-42") && !json.contains("1.2.3.4.5"));
        let k1 = m.pseudonymous_key(b"k");
        assert_eq!(k1.len(), 64);
        assert!(!k1.contains("SECRET"));
        assert_ne!(k1, m.pseudonymous_key(b"other secret"));
        let mut m2 = m.clone();
        m2.identifiers.series_uid = Some("1.2.3.4.6".into());
        assert_ne!(k1, m2.pseudonymous_key(b"k"));
        // without identifiers the path is used
        let p = Meta::new("a.nii".into(), Format::Nifti1, Modality::Mr);
        let q = Meta::new("b.nii".into(), Format::Nifti1, Modality::Mr);
        assert_ne!(p.pseudonymous_key(b"k"), q.pseudonymous_key(b"k"));
    }
}
