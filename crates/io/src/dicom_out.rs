//! DICOM output: a grey [`Volume`] (one slice or many) as one **Multi-frame Grayscale Word
//! Secondary Capture** object (SOP class 1.2.840.10008.5.1.4.1.1.7.3), explicit VR little
//! endian, one frame per slice along array axis 0.
//!
//! # What is written
//! - Values keep the source's units (HU for CT): frames are stored as unsigned 16-bit with
//!   Rescale Slope and Intercept chosen from the volume's range
//!   (`value = stored · slope + intercept`; `slope = (max − min) / 65535`, so the quantisation
//!   step is 1/65535 of the range), Rescale Type `HU` for CT, `US` otherwise.
//! - New Study, Series and SOP Instance UIDs under the UUID-derived root `2.25` (PS3.5 B.2),
//!   from a SHA-256 of the caller's `uid_seed` (e.g. the tool, the attribute, the severity,
//!   the seed and the source's pixel digest): the same degradation gives the same bytes, and no
//!   UID can be computed from a patient identifier.
//! - **Nothing of the source's header is copied**, so no identifying attribute can leak (the
//!   PS3.15 Basic Application Level Confidentiality Profile is met by construction: its
//!   attributes are absent or, where the IOD requires them (type 2), empty). Patient Identity
//!   Removed is `YES` and De-identification Method says how.
//! - Derivation Description names the degradation; Image Type is `DERIVED\SECONDARY`;
//!   Conversion Type `WSD`; Modality is the source's (`CT`, `MR`, `US`; `OT` otherwise).
//! - Pixel Spacing (mm) of the in-plane grid and a Slice Location Vector (mm along axis 0,
//!   the Frame Increment Pointer's target) keep the geometry a Secondary Capture can carry.
//!
//! Checked with `dciodvfy` (dicom3tools) and read back with dcmtk's `dcmdump` in the tests.
//!
//! References: DICOM PS3.3 A.8.3 (Multi-frame Grayscale Word SC Image IOD), C.8.6
//! (SC modules), C.7.6.6 (Multi-frame module); PS3.15 E.1 (Basic Profile).

use crate::IoError;
use artefact_core::{Modality, Volume};
use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use sha2::{Digest, Sha256};
use std::path::Path;

/// SOP class of the objects written.
pub const MULTIFRAME_GREY_WORD_SC: &str = "1.2.840.10008.5.1.4.1.1.7.3";

/// SOP class of colour objects ([`write_dicom_rgb`]).
pub const MULTIFRAME_TRUE_COLOR_SC: &str = "1.2.840.10008.5.1.4.1.1.7.4";

/// What the written object says about its origin.
#[derive(Clone, Debug)]
pub struct DicomDerivation {
    /// Derivation Description (0008,2111), e.g. `artefact 0.1.0: mri.motion severe, seed 7`
    /// (cut to 1024 characters, the VR's limit).
    pub description: String,
    /// Any text that identifies this output without identifying the patient (attribute,
    /// severity, seed, a digest of the source pixels); the UIDs are derived from it.
    pub uid_seed: String,
}

/// A UID `2.25.<decimal>` from 128 bits of SHA-256 over `label` and `seed`.
fn derived_uid(seed: &str, label: &str) -> String {
    let h = Sha256::digest(format!("artefact-uid\0{label}\0{seed}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    // a UUID (RFC 4122 version 4 layout) as PS3.5 B.2 asks for the 2.25 root
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format!("2.25.{}", u128::from_be_bytes(b))
}

/// A DS value (at most 16 characters) for `v`.
fn ds(v: f64) -> String {
    let plain = format!("{v}");
    if plain.len() <= 16 {
        return plain;
    }
    for p in (1..=10).rev() {
        let s = format!("{v:.p$e}");
        // DS allows the exponent form; keep it within 16 bytes
        if s.len() <= 16 {
            return trim_exp(&s);
        }
    }
    format!("{v:.0e}")
}

/// `1.2300e3` → `1.23e3`; `1.0e0` → `1e0`.
fn trim_exp(s: &str) -> String {
    match s.split_once('e') {
        Some((m, e)) if m.contains('.') => {
            let m = m.trim_end_matches('0').trim_end_matches('.');
            format!("{m}e{e}")
        }
        _ => s.to_string(),
    }
}

/// Write `vol` as a Multi-frame Grayscale Word SC object at `path` (atomically).
pub fn write_dicom(path: &Path, vol: &Volume, derivation: &DicomDerivation) -> Result<(), IoError> {
    let (frames, rows, cols) = vol.data.dim();
    fits_dicom(path, rows, cols)?;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in vol.data.iter() {
        if !v.is_finite() {
            return Err(IoError::invalid(
                path,
                "the volume holds NaN or infinite values; DICOM stores finite numbers only",
            ));
        }
        lo = lo.min(v as f64);
        hi = hi.max(v as f64);
    }
    if frames == 0 || rows == 0 || cols == 0 {
        return Err(IoError::invalid(path, "the volume is empty"));
    }
    // the intercept and slope as written (DS text) are what a reader applies: quantise with
    // the parsed values so that stored · slope + intercept stays within the range
    let slope_text = ds(if hi > lo { (hi - lo) / 65535.0 } else { 1.0 });
    let icpt_text = ds(lo);
    let slope: f64 = slope_text.parse().expect("DS text is a number");
    let icpt: f64 = icpt_text.parse().expect("DS text is a number");
    let pixels: Vec<u16> = vol
        .data
        .iter()
        .map(|&v| ((v as f64 - icpt) / slope).round().clamp(0.0, 65535.0) as u16)
        .collect();

    let (mut o, sop) = sc_object(
        derivation,
        MULTIFRAME_GREY_WORD_SC,
        modality_code(vol.modality),
    );
    let mut put = |t: Tag, vr: VR, v: PrimitiveValue| o.put(DataElement::new(t, vr, v));
    let text = |s: &str| PrimitiveValue::from(s);
    // Image Pixel, SC Multi-frame Image
    put(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(1u16));
    put(
        tags::PHOTOMETRIC_INTERPRETATION,
        VR::CS,
        text("MONOCHROME2"),
    );
    put(tags::ROWS, VR::US, PrimitiveValue::from(rows as u16));
    put(tags::COLUMNS, VR::US, PrimitiveValue::from(cols as u16));
    put(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(16u16));
    put(tags::BITS_STORED, VR::US, PrimitiveValue::from(16u16));
    put(tags::HIGH_BIT, VR::US, PrimitiveValue::from(15u16));
    put(
        tags::PIXEL_REPRESENTATION,
        VR::US,
        PrimitiveValue::from(0u16),
    );
    put(tags::RESCALE_INTERCEPT, VR::DS, text(&icpt_text));
    put(tags::RESCALE_SLOPE, VR::DS, text(&slope_text));
    put(
        tags::RESCALE_TYPE,
        VR::LO,
        text(if vol.modality == Modality::Ct {
            "HU"
        } else {
            "US"
        }),
    );
    put(tags::PRESENTATION_LUT_SHAPE, VR::CS, text("IDENTITY"));
    put(
        tags::PIXEL_SPACING,
        VR::DS,
        PrimitiveValue::Strs([ds(vol.spacing[1]), ds(vol.spacing[2])].into()),
    );
    // Multi-frame: frames are the slices along axis 0, located by the Slice Location Vector
    // (the Frame Increment Pointer may only be present with more than one frame)
    put(tags::NUMBER_OF_FRAMES, VR::IS, text(&frames.to_string()));
    if frames > 1 {
        put(
            tags::FRAME_INCREMENT_POINTER,
            VR::AT,
            PrimitiveValue::Tags(std::iter::once(tags::SLICE_LOCATION_VECTOR).collect()),
        );
        put(
            tags::SLICE_LOCATION_VECTOR,
            VR::DS,
            PrimitiveValue::Strs((0..frames).map(|k| ds(k as f64 * vol.spacing[0])).collect()),
        );
    }
    put(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U16(pixels.into()));
    finish_object(path, o, MULTIFRAME_GREY_WORD_SC, &sop)
}

/// A colour image as 8-bit sRGB samples, interleaved `R G B R G B …` row by row (the bytes of
/// the PNG a build writes).
#[derive(Clone, Copy, Debug)]
pub struct Srgb8<'a> {
    pub rows: usize,
    pub cols: usize,
    pub samples: &'a [u8],
    /// Pixel spacing (row, column) in mm.
    pub spacing: [f64; 2],
    pub modality: Modality,
}

/// Write `img` (a colour photograph as 8-bit sRGB) as a **Multi-frame True Color Secondary
/// Capture** object (SOP class 1.2.840.10008.5.1.4.1.1.7.4) of one frame at `path`
/// (atomically): Photometric Interpretation `RGB`, interleaved (Planar Configuration 0), the
/// samples exactly as given. Header as for [`write_dicom`]: new UIDs, nothing of the source
/// copied; Modality `OP` for fundus, `ES` for endoscopy, `SM` for histopathology.
pub fn write_dicom_rgb(
    path: &Path,
    img: &Srgb8<'_>,
    derivation: &DicomDerivation,
) -> Result<(), IoError> {
    let (rows, cols) = (img.rows, img.cols);
    fits_dicom(path, rows, cols)?;
    if rows == 0 || cols == 0 {
        return Err(IoError::invalid(path, "the image is empty"));
    }
    if img.samples.len() != 3 * rows * cols {
        return Err(IoError::invalid(
            path,
            format!(
                "{} sRGB samples for a {rows} × {cols} colour image (3 per pixel expected)",
                img.samples.len()
            ),
        ));
    }
    let (mut o, sop) = sc_object(
        derivation,
        MULTIFRAME_TRUE_COLOR_SC,
        modality_code(img.modality),
    );
    let mut put = |t: Tag, vr: VR, v: PrimitiveValue| o.put(DataElement::new(t, vr, v));
    let text = |s: &str| PrimitiveValue::from(s);
    put(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(3u16));
    put(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, text("RGB"));
    put(
        tags::PLANAR_CONFIGURATION,
        VR::US,
        PrimitiveValue::from(0u16),
    );
    put(tags::ROWS, VR::US, PrimitiveValue::from(rows as u16));
    put(tags::COLUMNS, VR::US, PrimitiveValue::from(cols as u16));
    put(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(8u16));
    put(tags::BITS_STORED, VR::US, PrimitiveValue::from(8u16));
    put(tags::HIGH_BIT, VR::US, PrimitiveValue::from(7u16));
    put(
        tags::PIXEL_REPRESENTATION,
        VR::US,
        PrimitiveValue::from(0u16),
    );
    put(
        tags::PIXEL_SPACING,
        VR::DS,
        PrimitiveValue::Strs([ds(img.spacing[0]), ds(img.spacing[1])].into()),
    );
    put(tags::NUMBER_OF_FRAMES, VR::IS, text("1"));
    let mut bytes = img.samples.to_vec();
    if bytes.len() % 2 == 1 {
        bytes.push(0); // OB values have even length
    }
    put(tags::PIXEL_DATA, VR::OB, PrimitiveValue::U8(bytes.into()));
    finish_object(path, o, MULTIFRAME_TRUE_COLOR_SC, &sop)
}

/// DICOM Modality (0008,0060) of an output: the source's (`CT`, `MR`, `US`; `OP` fundus,
/// `ES` endoscopy, `SM` histopathology), `OT` otherwise.
fn modality_code(m: Modality) -> &'static str {
    match m {
        Modality::Ct => "CT",
        Modality::Mr => "MR",
        Modality::Us => "US",
        Modality::Fundus => "OP",
        Modality::Endoscopy => "ES",
        Modality::Histopathology => "SM",
        _ => "OT",
    }
}

/// Rows and Columns are 16-bit in DICOM.
fn fits_dicom(path: &Path, rows: usize, cols: usize) -> Result<(), IoError> {
    if rows > u16::MAX as usize || cols > u16::MAX as usize {
        return Err(IoError::invalid(
            path,
            format!("a {rows} × {cols} image is larger than DICOM's 65535 rows or columns"),
        ));
    }
    Ok(())
}

/// The modules every object written here shares (SOP Common, Patient, General Study, General
/// Series, SC Equipment, General Equipment, General Image and SC Image), with its SOP
/// Instance UID.
fn sc_object(
    derivation: &DicomDerivation,
    sop_class: &str,
    modality: &str,
) -> (InMemDicomObject, String) {
    let seed = &derivation.uid_seed;
    let study = derived_uid(seed, "study");
    let series = derived_uid(seed, "series");
    let sop = derived_uid(seed, "sop");
    let mut o = InMemDicomObject::new_empty();
    let mut put = |t: Tag, vr: VR, v: PrimitiveValue| o.put(DataElement::new(t, vr, v));
    let text = |s: &str| PrimitiveValue::from(s);
    let empty = || PrimitiveValue::Empty;
    // SOP Common
    put(tags::SPECIFIC_CHARACTER_SET, VR::CS, text("ISO_IR 192"));
    put(tags::SOP_CLASS_UID, VR::UI, text(sop_class));
    put(tags::SOP_INSTANCE_UID, VR::UI, text(&sop));
    // General Image, SC Image
    put(
        tags::IMAGE_TYPE,
        VR::CS,
        PrimitiveValue::Strs(["DERIVED".to_string(), "SECONDARY".to_string()].into()),
    );
    put(tags::INSTANCE_NUMBER, VR::IS, text("1"));
    put(tags::PATIENT_ORIENTATION, VR::CS, empty());
    let mut desc = derivation.description.clone();
    if desc.chars().count() > 1024 {
        desc = desc.chars().take(1024).collect();
    }
    put(tags::DERIVATION_DESCRIPTION, VR::ST, text(&desc));
    put(tags::BURNED_IN_ANNOTATION, VR::CS, text("NO"));
    // Patient and General Study: type 2, empty (nothing of the source is copied)
    put(tags::PATIENT_NAME, VR::PN, empty());
    put(tags::PATIENT_ID, VR::LO, empty());
    put(tags::PATIENT_BIRTH_DATE, VR::DA, empty());
    put(tags::PATIENT_SEX, VR::CS, empty());
    put(tags::PATIENT_IDENTITY_REMOVED, VR::CS, text("YES"));
    put(
        tags::DEIDENTIFICATION_METHOD,
        VR::LO,
        text("artefact: new object, no source attribute copied"),
    );
    put(tags::STUDY_INSTANCE_UID, VR::UI, text(&study));
    put(tags::STUDY_DATE, VR::DA, empty());
    put(tags::STUDY_TIME, VR::TM, empty());
    put(tags::REFERRING_PHYSICIAN_NAME, VR::PN, empty());
    put(tags::STUDY_ID, VR::SH, text("1"));
    put(tags::ACCESSION_NUMBER, VR::SH, empty());
    // General Series, SC Equipment
    // General Series and SC Equipment share Modality: the source's
    put(tags::MODALITY, VR::CS, text(modality));
    put(tags::SERIES_INSTANCE_UID, VR::UI, text(&series));
    put(tags::SERIES_NUMBER, VR::IS, text("1"));
    // type 2C whose condition (a paired body part) dciodvfy cannot evaluate: present, empty
    put(tags::LATERALITY, VR::CS, empty());
    put(tags::CONVERSION_TYPE, VR::CS, text("WSD"));
    put(
        tags::SECONDARY_CAPTURE_DEVICE_MANUFACTURER,
        VR::LO,
        text("artefact"),
    );
    put(
        tags::SECONDARY_CAPTURE_DEVICE_SOFTWARE_VERSIONS,
        VR::LO,
        text(env!("CARGO_PKG_VERSION")),
    );
    // General Equipment
    put(tags::MANUFACTURER, VR::LO, empty());
    (o, sop)
}

/// Add the file meta group and write atomically.
fn finish_object(
    path: &Path,
    o: InMemDicomObject,
    sop_class: &str,
    sop: &str,
) -> Result<(), IoError> {
    let file = o
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax("1.2.840.10008.1.2.1")
                .media_storage_sop_class_uid(sop_class)
                .media_storage_sop_instance_uid(sop)
                .implementation_class_uid(derived_uid("artefact", "implementation"))
                .implementation_version_name(concat!("ARTEFACT_", env!("CARGO_PKG_VERSION"))),
        )
        .map_err(|e| IoError::invalid(path, format!("DICOM file meta: {e}")))?;
    crate::atomic::write_atomic(path, |w| file.write_all(w).map_err(std::io::Error::other))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ds_values_fit_sixteen_characters_and_parse_back_closely() {
        for v in [0.0, 1.0, -1024.0, 3.0517578125e-5, 1e30, -123456.789, 0.1] {
            let s = ds(v);
            assert!(s.len() <= 16, "{s}");
            let back: f64 = s.parse().unwrap();
            assert!((back - v).abs() <= 1e-6 * v.abs().max(1e-12), "{v} → {s}");
        }
    }

    #[test]
    fn uids_are_uuid_derived_and_distinct() {
        let a = derived_uid("x", "study");
        let b = derived_uid("x", "series");
        assert_ne!(a, b);
        assert!(a.starts_with("2.25.") && a.len() <= 64, "{a}");
        assert!(a[5..].chars().all(|c| c.is_ascii_digit()));
        assert_eq!(a, derived_uid("x", "study"));
    }
}
