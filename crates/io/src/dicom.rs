//! DICOM through dicom-rs (dicom-object, dicom-pixeldata).
//!
//! Model:
//! - a volume is a stack of 2-D frames: the frames of one multi-frame object, or the
//!   single-frame objects of one series (grouped by SeriesInstanceUID in [`crate::load_all`]);
//! - frames are ordered by ImagePositionPatient projected on the slice normal
//!   `n = row × col` of ImageOrientationPatient (DICOM PS3.3 C.7.6.2), falling back to
//!   InstanceNumber (then file order) when positions are missing, disagree in orientation or
//!   coincide;
//! - spacing (mm): PixelSpacing (row spacing, column spacing) or ImagerPixelSpacing; the slice
//!   spacing from the mean difference of projected positions, else SpacingBetweenSlices, else
//!   SliceThickness, else 1 mm (flagged `spacing_assumed`). Enhanced multi-frame objects are
//!   read through their shared / per-frame functional groups;
//! - the affine maps `(col, row, slice)` to world mm and is converted from DICOM's LPS+ patient
//!   coordinates to the RAS+ convention of artefact-core by negating x and y;
//! - values: stored values (Bits Stored, sign-extended when Pixel Representation is 1) are
//!   mapped by Rescale Slope/Intercept (per frame when the functional groups say so), so CT is
//!   in Hounsfield units; MONOCHROME1 is inverted as `v' = lo + hi − v` over the rescaled range
//!   of storable values, so that bright always means high signal;
//! - colour (RGB, YBR_FULL, YBR_FULL_422 native or compressed, PALETTE COLOR with plain or
//!   segmented LUTs; see `dicom_colour`) is read as colour by [`read_rgb`] for the colour
//!   modalities; where grey is needed it becomes luminance (Rec. 601 luma of RGB or of the
//!   palette entries; YBR keeps its Y) for ultrasound — whose archives store grey B-mode as
//!   colour — or when `grey_from_rgb` is set, and is refused otherwise with advice;
//! - objects that are not images to degrade are refused by SOP Class UID (SEG, SR, KO, PR,
//!   RT structure set/plan/dose/treatment records, waveforms, encapsulated documents, raw data,
//!   registrations, …) and when Pixel Data is absent;
//! - transfer syntaxes: JPEG-LS lossless / near-lossless (the pure-Rust `artefact-jpegls`
//!   crate), RLE Lossless (8/16/32 bits) and 12-bit grey JPEG extended by our own decoders
//!   (`codec`); the rest as dicom-rs
//!   decodes them with the features enabled here (implicit / explicit VR LE, explicit VR BE,
//!   deflate, JPEG baseline/extended/lossless, JPEG 2000 via the pure-Rust `openjp2` port). A codec
//!   that is missing or fails gives an error naming the transfer syntax; decoded buffers are
//!   size-checked so a short decode is never turned into pixels.
//!
//! No names, IDs or dates are ever printed: identifiers go only into [`crate::meta::Identifiers`].

use crate::meta::{Format, Identifiers, Rescale, SopClass, TransferSyntax};
use crate::{IoError, IoErrorKind, LoadOptions, Loaded, Meta};
use artefact_core::{Modality, Volume};
use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, InMemDicomObject, OpenFileOptions};
use dicom_pixeldata::{PhotometricInterpretation, PixelDecoder, PixelRepresentation};
use ndarray::Array3;
use std::path::{Path, PathBuf};

/// Header fields used to group and order files without decoding pixels.
#[derive(Clone, Debug)]
pub(crate) struct DicomHeader {
    pub path: PathBuf,
    pub series_uid: Option<String>,
    pub sop_uid: Option<String>,
    pub ts_uid: String,
    pub rows: u32,
    pub cols: u32,
    pub frames: u32,
}

/// Name of a transfer syntax UID (the common ones; others get a generic name).
pub fn transfer_syntax_name(uid: &str) -> &'static str {
    match uid {
        "1.2.840.10008.1.2" => "Implicit VR Little Endian",
        "1.2.840.10008.1.2.1" => "Explicit VR Little Endian",
        "1.2.840.10008.1.2.1.98" => "Encapsulated Uncompressed Explicit VR Little Endian",
        "1.2.840.10008.1.2.1.99" => "Deflated Explicit VR Little Endian",
        "1.2.840.10008.1.2.2" => "Explicit VR Big Endian",
        "1.2.840.10008.1.2.4.50" => "JPEG Baseline (Process 1)",
        "1.2.840.10008.1.2.4.51" => "JPEG Extended (Process 2 & 4)",
        "1.2.840.10008.1.2.4.57" => "JPEG Lossless, Non-Hierarchical (Process 14)",
        "1.2.840.10008.1.2.4.70" => "JPEG Lossless, First-Order Prediction (Process 14, SV1)",
        "1.2.840.10008.1.2.4.80" => "JPEG-LS Lossless",
        "1.2.840.10008.1.2.4.81" => "JPEG-LS Lossy (Near-Lossless)",
        "1.2.840.10008.1.2.4.90" => "JPEG 2000 Image Compression (Lossless Only)",
        "1.2.840.10008.1.2.4.91" => "JPEG 2000 Image Compression",
        "1.2.840.10008.1.2.4.92" => "JPEG 2000 Part 2 Multi-component (Lossless Only)",
        "1.2.840.10008.1.2.4.93" => "JPEG 2000 Part 2 Multi-component",
        "1.2.840.10008.1.2.4.201" => "High-Throughput JPEG 2000 (Lossless Only)",
        "1.2.840.10008.1.2.4.202" => "High-Throughput JPEG 2000 with RPCL (Lossless Only)",
        "1.2.840.10008.1.2.4.203" => "High-Throughput JPEG 2000",
        "1.2.840.10008.1.2.4.110" => "JPEG XL Lossless",
        "1.2.840.10008.1.2.4.111" => "JPEG XL JPEG Recompression",
        "1.2.840.10008.1.2.4.112" => "JPEG XL",
        "1.2.840.10008.1.2.5" => "RLE Lossless",
        u if u.starts_with("1.2.840.10008.1.2.4.10") => "MPEG video",
        _ => "unrecognised transfer syntax",
    }
}

/// Why a SOP class is not an image to degrade (None: an image class or unknown).
fn non_image_class(uid: &str) -> Option<&'static str> {
    const P: &str = "1.2.840.10008.5.1.4.1.1.";
    let rest = uid.strip_prefix(P)?;
    Some(match rest {
        "66.4" => "Segmentation Storage (SEG)",
        "66" => "Raw Data Storage",
        "66.1" | "66.3" => "Registration Storage",
        "66.2" => "Spatial Fiducials Storage",
        "66.5" => "Surface Segmentation Storage",
        "66.6" => "Tractography Results Storage",
        "66.7" => "Label Map Segmentation Storage",
        "481.2" => "RT Dose Storage",
        "481.3" => "RT Structure Set Storage (RTSTRUCT)",
        "481.4" | "481.6" | "481.7" => "RT Treatment Record Storage",
        "481.5" | "481.8" | "481.9" => "RT Plan Storage (RTPLAN)",
        "481.10" | "481.11" => "RT Physician Intent / Segment Annotation Storage",
        "104.1" | "104.2" | "104.3" | "104.4" | "104.5" => "Encapsulated Document Storage",
        "88.59" => "Key Object Selection Document (KO)",
        r if r.starts_with("88.") => "Structured Report (SR)",
        r if r.starts_with("11.") => "Presentation State (PR)",
        r if r.starts_with("9.") => "Waveform Storage",
        r if r.starts_with("68.") => "Surface Scan Storage",
        r if r.starts_with("67") => "Real World Value Mapping Storage",
        "131" | "200.1" | "200.2" => "Basic Structured Display / Protocol Storage",
        _ => return None,
    })
}

fn sop_class_name(uid: &str) -> &'static str {
    if let Some(n) = non_image_class(uid) {
        return n;
    }
    match uid.strip_prefix("1.2.840.10008.5.1.4.1.1.") {
        Some("2") => "CT Image Storage",
        Some("2.1") => "Enhanced CT Image Storage",
        Some("4") => "MR Image Storage",
        Some("4.1") => "Enhanced MR Image Storage",
        Some("4.4") => "Legacy Converted Enhanced MR Image Storage",
        Some("2.2") => "Legacy Converted Enhanced CT Image Storage",
        Some("6.1") => "Ultrasound Image Storage",
        Some("3.1") => "Ultrasound Multi-frame Image Storage",
        Some("7") => "Secondary Capture Image Storage",
        Some("7.1") | Some("7.2") | Some("7.3") | Some("7.4") => {
            "Multi-frame Secondary Capture Image Storage"
        }
        Some("1") => "Computed Radiography Image Storage",
        Some("1.1") | Some("1.1.1") => "Digital X-Ray Image Storage",
        Some("20") => "Nuclear Medicine Image Storage",
        Some("128") => "PET Image Storage",
        _ => "image or unknown SOP class",
    }
}

fn open(path: &Path, until_pixels: bool, max_bytes: u64) -> Result<DefaultDicomObject, IoError> {
    // depth, element lengths and memory checked before dicom-rs parses (crate::guard)
    if crate::guard::prescan(path, max_bytes)? {
        return crate::guard::no_panic(path, "DICOM parser", || open_implicit(path))?;
    }
    let mut o = OpenFileOptions::new();
    if until_pixels {
        o = o.read_until(tags::PIXEL_DATA);
    }
    crate::guard::no_panic(path, "DICOM parser", || o.open_file(path))?
        .map_err(|e| open_error(path, &e))
}

/// A file whose data set is implicit VR little endian although its transfer syntax says
/// explicit VR: the meta group as written, the data set parsed as implicit VR, the transfer
/// syntax kept (it also names the pixel codec).
fn open_implicit(path: &Path) -> Result<DefaultDicomObject, IoError> {
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    let start = if bytes.len() >= 132 && &bytes[128..132] == b"DICM" {
        128
    } else {
        0
    };
    let mut r = &bytes[start..];
    let meta =
        dicom_object::FileMetaTable::from_reader(&mut r).map_err(|e| open_error(path, &e))?;
    let ts = dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN.erased();
    let data = InMemDicomObject::read_dataset_with_ts(r, &ts).map_err(|e| open_error(path, &e))?;
    let mut obj = DefaultDicomObject::new_empty_with_meta(meta);
    for e in data {
        obj.put(e);
    }
    Ok(obj)
}

/// Full error chain of a dicom-rs error as one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn open_error(path: &Path, e: &dyn std::error::Error) -> IoError {
    let msg = chain(e);
    let low = msg.to_ascii_lowercase();
    if low.contains("end of file")
        || low.contains("unexpectedeof")
        || low.contains("fill whole buffer")
        || low.contains("eof")
    {
        IoError::truncated(path, format!("DICOM data set ends early ({msg})"))
    } else if low.contains("no such file") || low.contains("permission denied") {
        IoError::new(path, IoErrorKind::Os(std::io::Error::other(msg)))
    } else {
        IoError::invalid(path, format!("cannot parse DICOM: {msg}"))
    }
}

/// The bytes of an element stored with VR UN as text. Some converters (gdcmconv) write every
/// element as UN in explicit VR; dicom-rs keeps them as bytes, whose numeric reading would be
/// the character codes (PixelSpacing `2.0` read as 50, 46, 48).
fn un_text(e: &dicom_object::mem::InMemElement) -> Option<String> {
    if e.vr() != dicom_core::VR::UN {
        return None;
    }
    let b = e.to_bytes().ok()?;
    Some(String::from_utf8_lossy(&b).into_owned())
}

fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let e = obj.element_opt(tag).ok().flatten()?;
    let s = match un_text(e) {
        Some(s) => s,
        None => e.to_str().ok()?.into_owned(),
    };
    let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!s.is_empty()).then(|| s.to_string())
}

fn floats(obj: &InMemDicomObject, tag: Tag) -> Option<Vec<f64>> {
    let e = obj.element_opt(tag).ok().flatten()?;
    let v = match un_text(e) {
        // decimal strings stored as UN
        Some(s) => s
            .split('\\')
            .map(|x| {
                x.trim_matches(|c: char| c.is_whitespace() || c == '\0')
                    .parse::<f64>()
            })
            .collect::<Result<Vec<_>, _>>()
            .ok()?,
        None => e.to_multi_float64().ok()?,
    };
    (!v.is_empty() && v.iter().all(|x| x.is_finite())).then_some(v)
}

fn int(obj: &InMemDicomObject, tag: Tag) -> Option<i64> {
    let e = obj.element_opt(tag).ok().flatten()?;
    e.to_int::<i64>().ok()
}

fn items(obj: &InMemDicomObject, tag: Tag) -> Option<&[InMemDicomObject]> {
    obj.element_opt(tag).ok().flatten()?.items()
}

/// A value from the top level, else from the shared functional groups
/// (`SharedFunctionalGroupsSequence → macro → tag`).
fn shared_floats(obj: &InMemDicomObject, macro_seq: Tag, tag: Tag) -> Option<Vec<f64>> {
    floats(obj, tag).or_else(|| {
        let shared = items(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE)?.first()?;
        floats(items(shared, macro_seq)?.first()?, tag)
    })
}

/// A Modality LUT (PS3.3 C.11.1): `entries` values for stored values `first …`, clamped to
/// its ends outside that range.
struct ModalityLut {
    first: f64,
    table: Vec<f64>,
}

impl ModalityLut {
    fn map(&self, v: f64) -> f64 {
        let i = (v - self.first).round();
        let last = self.table.len() - 1;
        if i <= 0.0 {
            self.table[0]
        } else if i >= last as f64 {
            self.table[last]
        } else {
            self.table[i as usize]
        }
    }
}

/// The first item of the Modality LUT Sequence, if any and well formed: LUT Descriptor
/// (entries, 0 meaning 65,536; first stored value mapped; bits per entry) and LUT Data
/// (8-bit entries packed two per 16-bit word, or 16-bit words).
fn modality_lut(obj: &InMemDicomObject) -> Option<ModalityLut> {
    let item = items(obj, tags::MODALITY_LUT_SEQUENCE)?.first()?;
    let desc = item
        .element_opt(tags::LUT_DESCRIPTOR)
        .ok()
        .flatten()?
        .to_multi_int::<i64>()
        .ok()?;
    // entries 0 means 65,536; anything outside 0..=65,535 (or 65,536) is a broken descriptor
    let (entries, first, bits) = match desc[..] {
        [0, f, b] => (65_536usize, f, b),
        [e, f, b] if (1..=65_536).contains(&e) => (e as usize, f, b),
        _ => return None,
    };
    let bytes = item
        .element_opt(tags::LUT_DATA)
        .ok()
        .flatten()?
        .to_bytes()
        .ok()?;
    let table: Vec<f64> = if bits <= 8 && bytes.len() >= entries && bytes.len() < 2 * entries {
        bytes[..entries].iter().map(|&b| b as f64).collect()
    } else if bytes.len() >= 2 * entries {
        bytes
            .chunks_exact(2)
            .take(entries)
            .map(|w| u16::from_le_bytes([w[0], w[1]]) as f64)
            .collect()
    } else {
        return None;
    };
    // the descriptor's first value is signed when the pixels are (stored as US or SS)
    let first = if first > 32_767 && int(obj, tags::PIXEL_REPRESENTATION) == Some(1) {
        first - 65_536
    } else {
        first
    };
    (!table.is_empty()).then_some(ModalityLut {
        first: first as f64,
        table,
    })
}

fn per_frame_floats(obj: &InMemDicomObject, macro_seq: Tag, tag: Tag) -> Vec<Option<Vec<f64>>> {
    match items(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE) {
        Some(frames) => frames
            .iter()
            .map(|f| floats(items(f, macro_seq)?.first()?, tag))
            .collect(),
        None => Vec::new(),
    }
}

fn arr3(v: Option<Vec<f64>>) -> Option<[f64; 3]> {
    let v = v?;
    (v.len() >= 3).then(|| [v[0], v[1], v[2]])
}

fn arr6(v: Option<Vec<f64>>) -> Option<[f64; 6]> {
    let v = v?;
    (v.len() >= 6).then(|| [v[0], v[1], v[2], v[3], v[4], v[5]])
}

fn ts_of(obj: &DefaultDicomObject) -> String {
    obj.meta()
        .transfer_syntax()
        .trim_end_matches(['\0', ' '])
        .to_string()
}

/// Read the header of one file (stops before Pixel Data).
pub(crate) fn scan_header(path: &Path, max_bytes: u64) -> Result<DicomHeader, IoError> {
    let obj = open(path, true, max_bytes)?;
    Ok(header_of(path, &obj))
}

fn header_of(path: &Path, obj: &DefaultDicomObject) -> DicomHeader {
    DicomHeader {
        path: path.to_path_buf(),
        series_uid: text(obj, tags::SERIES_INSTANCE_UID),
        sop_uid: text(obj, tags::SOP_INSTANCE_UID),
        ts_uid: ts_of(obj),
        rows: int(obj, tags::ROWS).unwrap_or(0).max(0) as u32,
        cols: int(obj, tags::COLUMNS).unwrap_or(0).max(0) as u32,
        frames: int(obj, tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1) as u32,
    }
}

/// Geometry of one 2-D frame.
#[derive(Clone, Copy, Debug, Default)]
struct FrameGeom {
    position: Option<[f64; 3]>,
    orientation: Option<[f64; 6]>,
    instance: Option<i64>,
}

/// One decoded frame: rescaled grey values, row-major.
struct Frame {
    geom: FrameGeom,
    values: Vec<f32>,
}

/// Everything read from one object besides the frames.
struct ObjectInfo {
    meta: Meta,
    pixel_spacing: Option<[f64; 2]>,
    spacing_between: Option<f64>,
    thickness: Option<f64>,
    rows: usize,
    cols: usize,
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// What the caller wants from an object's pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// One value per pixel: rescaled stored values, or luminance of colour when allowed.
    Grey,
    /// Three encoded values in `[0, 1]` per pixel (interleaved R, G, B); grey objects become
    /// neutral colour over their storable range.
    Colour,
}

/// Decode every frame of one object.
fn decode_object(
    path: &Path,
    obj: &DefaultDicomObject,
    opts: &LoadOptions,
    max_voxels: u64,
    max_bytes: u64,
    want: Want,
) -> Result<(ObjectInfo, Vec<Frame>), IoError> {
    let ts_uid = ts_of(obj);
    let ts_name = transfer_syntax_name(&ts_uid);
    let sop_class = text(obj, tags::SOP_CLASS_UID).or_else(|| {
        let s = obj
            .meta()
            .media_storage_sop_class_uid()
            .trim_end_matches(['\0', ' ']);
        (!s.is_empty()).then(|| s.to_string())
    });
    let modality_code = text(obj, tags::MODALITY);
    if let Some(why) = sop_class.as_deref().and_then(non_image_class) {
        return Err(IoError::new(
            path,
            IoErrorKind::NotAnImage(format!(
                "{why} (SOP class {}) holds no image to degrade",
                sop_class.as_deref().unwrap_or("")
            )),
        ));
    }
    if let Some(m) = modality_code.as_deref() {
        if matches!(
            m,
            "SEG" | "SR" | "RTSTRUCT" | "RTPLAN" | "RTRECORD" | "PR" | "KO" | "DOC" | "REG" | "FID"
        ) {
            return Err(IoError::new(
                path,
                IoErrorKind::NotAnImage(format!("modality {m} holds no image to degrade")),
            ));
        }
    }
    if obj.element_opt(tags::PIXEL_DATA).ok().flatten().is_none() {
        return Err(IoError::new(
            path,
            IoErrorKind::NotAnImage(format!(
                "no Pixel Data element ({})",
                sop_class
                    .as_deref()
                    .map(sop_class_name)
                    .unwrap_or("unknown SOP class")
            )),
        ));
    }
    let rows = int(obj, tags::ROWS).unwrap_or(0);
    let cols = int(obj, tags::COLUMNS).unwrap_or(0);
    let frames = int(obj, tags::NUMBER_OF_FRAMES).unwrap_or(1);
    let spp = int(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1);
    let bits_alloc = int(obj, tags::BITS_ALLOCATED).unwrap_or(0);
    if rows <= 0 || cols <= 0 || frames <= 0 {
        return Err(IoError::invalid(
            path,
            format!("zero-sized or negative image: Rows {rows}, Columns {cols}, Number of Frames {frames}"),
        ));
    }
    let voxels = (rows as u64)
        .saturating_mul(cols as u64)
        .saturating_mul(frames as u64);
    if voxels > max_voxels {
        return Err(IoError::too_large(
            path,
            format!("{rows}×{cols}×{frames} voxels exceed the limit of {max_voxels}"),
        ));
    }
    if !matches!(bits_alloc, 8 | 16 | 32) {
        return Err(IoError::unsupported(
            path,
            format!("Bits Allocated {bits_alloc} (only 8, 16 and 32 are read)"),
        ));
    }
    let pi_text = text(obj, tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_default();
    let native = matches!(
        obj.element_opt(tags::PIXEL_DATA)
            .ok()
            .flatten()
            .map(|e| e.value()),
        Some(dicom_core::DicomValue::Primitive(_))
    );
    // Native YBR_FULL_422 stores two samples per pixel (Y1 Y2 Cb Cr per pixel pair).
    let native_422 = native && pi_text == "YBR_FULL_422" && spp == 3;
    if native_422 && cols % 2 != 0 {
        return Err(IoError::invalid(
            path,
            format!("YBR_FULL_422 with an odd number of columns ({cols})"),
        ));
    }
    // sizes, Bits Stored, rescale, spacing, memory and codec fragments (crate::guard)
    let header = crate::guard::PixelHeader {
        rows: rows as u64,
        cols: cols as u64,
        frames: frames as u64,
        spp: spp.max(0) as u64,
        bits_alloc: bits_alloc as u64,
        native_422,
    };
    crate::guard::check_pixels(path, obj, &ts_uid, &header, max_bytes)?;
    // JPEG-LS, RLE and 12-bit JPEG: our own decoders (crate::codec), then dicom-rs reads the
    // native copy
    let own = match ts_uid.as_str() {
        "1.2.840.10008.1.2.4.80" | "1.2.840.10008.1.2.4.81" => {
            Some(crate::guard::no_panic(path, "JPEG-LS decoder", || {
                crate::codec::jpegls::decode(path, obj, &header)
            })??)
        }
        "1.2.840.10008.1.2.5" => Some(crate::guard::no_panic(path, "RLE decoder", || {
            crate::codec::rle::decode(path, obj, &header)
        })??),
        // 12-bit grey only (jpeg-decoder refuses 12-bit); everything else stays with dicom-rs
        "1.2.840.10008.1.2.4.51" => crate::guard::no_panic(path, "12-bit JPEG decoder", || {
            crate::codec::jpeg12::decode(path, obj, &header)
        })??,
        _ => None,
    };
    // RGB JPEG without JFIF/Adobe markers: no colour transform (jpeg-decoder would guess YCbCr)
    let own = match ts_uid.as_str() {
        "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51" if own.is_none() => {
            crate::guard::no_panic(path, "JPEG decoder", || {
                crate::codec::jpeg_rgb::decode(path, obj, &header, &pi_text)
            })??
        }
        _ => own,
    };
    let native_copy = own.map(|data| crate::codec::with_native_pixels(obj, data, &header));
    let source = native_copy.as_ref().unwrap_or(obj);
    let decoded =
        crate::guard::no_panic(path, "pixel data decoder", || source.decode_pixel_data())?
            .map_err(|e| {
                let msg = format!(
                    "cannot decode pixel data in transfer syntax {ts_name} ({ts_uid}): {}",
                    chain(&e)
                );
                IoError::unsupported(path, msg)
            })?;
    let (rows, cols) = (decoded.rows() as usize, decoded.columns() as usize);
    let nframes = decoded.number_of_frames() as usize;
    let spp = decoded.samples_per_pixel() as usize;
    let bits_alloc = decoded.bits_allocated() as usize;
    let bits_stored = decoded.bits_stored() as usize;
    let signed = decoded.pixel_representation() == PixelRepresentation::Signed;
    let pi = decoded.photometric_interpretation().clone();
    let bytes_per = bits_alloc.div_ceil(8);
    let frame_len = if native_422 {
        rows * cols * 2 * bytes_per
    } else {
        rows * cols * spp * bytes_per
    };
    let data = decoded.data();
    if data.len() < frame_len * nframes {
        return Err(IoError::unsupported(
            path,
            format!(
                "decoder for {ts_name} ({ts_uid}) returned {} bytes, {} expected; refusing to \
                 use incomplete pixels",
                data.len(),
                frame_len * nframes
            ),
        ));
    }
    let is_colour = spp > 1
        || matches!(
            pi,
            PhotometricInterpretation::Rgb
                | PhotometricInterpretation::YbrFull
                | PhotometricInterpretation::YbrFull422
                | PhotometricInterpretation::PaletteColor
        );
    let palette = if matches!(pi, PhotometricInterpretation::PaletteColor) {
        if spp != 1 {
            return Err(IoError::invalid(
                path,
                format!("PALETTE COLOR with {spp} samples per pixel (1 is required)"),
            ));
        }
        Some(
            crate::dicom_colour::Palette::read(obj, signed)
                .map_err(|why| IoError::invalid(path, why))?,
        )
    } else {
        None
    };
    let object_modality = opts.modality.unwrap_or_else(|| {
        modality_code
            .as_deref()
            .map(Modality::from_dicom)
            .unwrap_or(Modality::Other)
    });
    // Ultrasound archives store grey B-mode as RGB, YBR or palette colour: take its luminance.
    let to_luma = opts.grey_from_rgb || object_modality == Modality::Us;
    if is_colour && want == Want::Grey && !to_luma {
        return Err(IoError::new(
            path,
            IoErrorKind::Colour(format!(
                "{pi} ({spp} samples per pixel) where a grey image is needed for modality {}: \
                 give the source a colour modality (fundus, endoscopy, histopathology or \
                 photo) to keep its colour, or convert it to luminance (--grey-from-rgb)",
                object_modality
            )),
        ));
    }
    if is_colour && palette.is_none() && spp != 3 {
        return Err(IoError::unsupported(
            path,
            format!("{pi} with {spp} samples per pixel (3 are read)"),
        ));
    }
    let planar = decoded.planar_configuration() == dicom_pixeldata::PlanarConfiguration::PixelFirst;
    let ybr = matches!(
        pi,
        PhotometricInterpretation::YbrFull | PhotometricInterpretation::YbrFull422
    );
    let full_scale = 2f64.powi(bits_stored.clamp(1, bits_alloc) as i32) - 1.0;
    let half = 2f64.powi(bits_stored.clamp(1, bits_alloc) as i32 - 1);
    // Rescale Slope/Intercept read here rather than by dicom-pixeldata, which reads a value
    // stored with VR UN as its character codes (`1` as 49); per frame, shared or top level
    let rescales: Vec<(f64, f64)> = {
        let pvt = tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE;
        let first = |v: Option<Vec<f64>>| v.and_then(|v| v.first().copied());
        let top = (
            first(shared_floats(obj, pvt, tags::RESCALE_SLOPE)),
            first(shared_floats(obj, pvt, tags::RESCALE_INTERCEPT)),
        );
        let pf_s = per_frame_floats(obj, pvt, tags::RESCALE_SLOPE);
        let pf_i = per_frame_floats(obj, pvt, tags::RESCALE_INTERCEPT);
        (0..nframes.max(1))
            .map(|f| {
                let s = pf_s
                    .get(f)
                    .cloned()
                    .flatten()
                    .and_then(|v| v.first().copied());
                let i = pf_i
                    .get(f)
                    .cloned()
                    .flatten()
                    .and_then(|v| v.first().copied());
                (s.or(top.0).unwrap_or(1.0), i.or(top.1).unwrap_or(0.0))
            })
            .collect()
    };
    // a Modality LUT Sequence (instead of a rescale) maps stored values through a table
    let modality_lut = if is_colour { None } else { modality_lut(obj) };
    let mono1 = matches!(pi, PhotometricInterpretation::Monochrome1);
    let stored = |chunk: &[u8]| -> f64 {
        let raw: u64 = match bytes_per {
            1 => chunk[0] as u64,
            2 => u16::from_ne_bytes([chunk[0], chunk[1]]) as u64,
            _ => u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as u64,
        };
        let bits = bits_stored.clamp(1, bits_alloc);
        let mask = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let v = raw & mask;
        if signed && (v >> (bits - 1)) & 1 == 1 {
            v as i64 as f64 - (1u64 << bits) as f64
        } else {
            v as f64
        }
    };
    let (smin, smax) = {
        let bits = bits_stored.clamp(1, bits_alloc) as i32;
        if signed {
            (-(2f64.powi(bits - 1)), 2f64.powi(bits - 1) - 1.0)
        } else {
            (0.0, 2f64.powi(bits) - 1.0)
        }
    };

    // geometry per frame
    let pf_pos = per_frame_floats(
        obj,
        tags::PLANE_POSITION_SEQUENCE,
        tags::IMAGE_POSITION_PATIENT,
    );
    let pf_ori = per_frame_floats(
        obj,
        tags::PLANE_ORIENTATION_SEQUENCE,
        tags::IMAGE_ORIENTATION_PATIENT,
    );
    let top_pos = arr3(floats(obj, tags::IMAGE_POSITION_PATIENT));
    let shared_ori = arr6(shared_floats(
        obj,
        tags::PLANE_ORIENTATION_SEQUENCE,
        tags::IMAGE_ORIENTATION_PATIENT,
    ));
    let instance = int(obj, tags::INSTANCE_NUMBER);

    let mut out = Vec::with_capacity(nframes);
    let mut used_rescale: Option<Rescale> = None;
    let mut expanded: Vec<u8>;
    for f in 0..nframes {
        let mut raw = &data[f * frame_len..(f + 1) * frame_len];
        if native_422 {
            expanded = crate::dicom_colour::expand_ybr422(raw, rows, cols, bytes_per);
            raw = &expanded;
        }
        let r = rescales
            .get(f)
            .or(rescales.first())
            .copied()
            .unwrap_or((1.0, 0.0));
        let (slope, inter) = if r.0.is_finite() && r.1.is_finite() && r.0 != 0.0 {
            r
        } else {
            (1.0, 0.0)
        };
        if slope != 1.0 || inter != 0.0 {
            used_rescale.get_or_insert(Rescale {
                slope,
                intercept: inter,
            });
        }
        let n = rows * cols;
        // colour of pixel i as (R, G, B) in stored units (or LUT units for palettes)
        let rgb_at = |i: usize| -> [f64; 3] {
            let sample = |ch: usize| {
                let idx = if planar { ch * n + i } else { i * 3 + ch };
                stored(&raw[idx * bytes_per..(idx + 1) * bytes_per])
            };
            if ybr {
                crate::dicom_colour::ybr_to_rgb(sample(0), sample(1), sample(2), half)
            } else {
                [sample(0), sample(1), sample(2)]
            }
        };
        let values: Vec<f32> = if want == Want::Colour {
            let mut v = Vec::with_capacity(n * 3);
            for i in 0..n {
                let c = if let Some(p) = &palette {
                    p.colour(stored(&raw[i * bytes_per..(i + 1) * bytes_per]) as i64)
                } else if is_colour {
                    rgb_at(i).map(|x| x / full_scale)
                } else {
                    let x = stored(&raw[i * bytes_per..(i + 1) * bytes_per]);
                    let t = (x - smin) / (smax - smin);
                    let t = if mono1 { 1.0 - t } else { t };
                    [t, t, t]
                };
                v.extend(c.map(|x| x.clamp(0.0, 1.0) as f32));
            }
            v
        } else if let Some(p) = &palette {
            raw.chunks_exact(bytes_per)
                .map(|c| {
                    let e = p.entry(stored(c) as i64);
                    crate::raster::luma601(e[0] as f64, e[1] as f64, e[2] as f64) as f32
                })
                .collect()
        } else if !is_colour {
            raw.chunks_exact(bytes_per)
                .map(|c| {
                    let map = |x: f64| match &modality_lut {
                        Some(l) => l.map(x),
                        None => x * slope + inter,
                    };
                    let v = map(stored(c));
                    let v = if mono1 {
                        let (a, b) = (map(smin), map(smax));
                        a.min(b) + a.max(b) - v
                    } else {
                        v
                    };
                    v as f32
                })
                .collect()
        } else {
            (0..n)
                .map(|i| {
                    let y = if ybr {
                        // Y of full-range YBR is the Rec. 601 luma of its RGB
                        let idx = if planar { i } else { i * 3 };
                        stored(&raw[idx * bytes_per..(idx + 1) * bytes_per])
                    } else {
                        let c = rgb_at(i);
                        crate::raster::luma601(c[0], c[1], c[2])
                    };
                    (y * slope + inter) as f32
                })
                .collect()
        };
        let geom = FrameGeom {
            position: arr3(pf_pos.get(f).cloned().flatten()).or(if nframes == 1 {
                top_pos
            } else {
                None
            }),
            orientation: arr6(pf_ori.get(f).cloned().flatten()).or(shared_ori),
            instance: if nframes == 1 {
                instance
            } else {
                Some(f as i64)
            },
        };
        out.push(Frame { geom, values });
    }

    let pixel_spacing = shared_floats(obj, tags::PIXEL_MEASURES_SEQUENCE, tags::PIXEL_SPACING)
        .or_else(|| floats(obj, tags::IMAGER_PIXEL_SPACING))
        .filter(|v| v.len() >= 2 && v[0] > 0.0 && v[1] > 0.0)
        .map(|v| [v[0], v[1]]);
    let spacing_between = shared_floats(
        obj,
        tags::PIXEL_MEASURES_SEQUENCE,
        tags::SPACING_BETWEEN_SLICES,
    )
    .and_then(|v| v.first().copied())
    .filter(|v| *v > 0.0);
    let thickness = shared_floats(obj, tags::PIXEL_MEASURES_SEQUENCE, tags::SLICE_THICKNESS)
        .and_then(|v| v.first().copied())
        .filter(|v| *v > 0.0);

    let modality = object_modality;
    let mut meta = Meta::new(path.to_path_buf(), Format::Dicom, modality);
    meta.modality_code = modality_code;
    meta.body_part = text(obj, tags::BODY_PART_EXAMINED);
    meta.transfer_syntax = Some(TransferSyntax {
        name: ts_name.to_string(),
        uid: ts_uid.clone(),
    });
    meta.sop_class = sop_class.map(|uid| SopClass {
        name: sop_class_name(&uid).to_string(),
        uid,
    });
    meta.frames = nframes;
    meta.photometric = Some(pi.to_string());
    meta.rescale = used_rescale;
    meta.inverted = mono1;
    meta.bits_stored = Some(bits_stored as u16);
    meta.datatype = Some(format!(
        "{}int{}",
        if signed { "" } else { "u" },
        bits_alloc
    ));
    meta.identifiers = Identifiers {
        patient_id: text(obj, tags::PATIENT_ID),
        study_uid: text(obj, tags::STUDY_INSTANCE_UID),
        series_uid: text(obj, tags::SERIES_INSTANCE_UID),
    };
    // Ultrasound: keep only the imaging region; without one, burned-in text may be anywhere.
    let (mut rows, mut cols, mut pixel_spacing) = (rows, cols, pixel_spacing);
    if modality == Modality::Us || meta.modality_code.as_deref() == Some("US") {
        let channels = if want == Want::Colour { 3 } else { 1 };
        // the declared region, else the scan field found in the (first selected) frame
        let declared = crate::us_region::imaging_region(obj, rows, cols);
        let found = match (&declared, out.first()) {
            (None, Some(f)) => Some(crate::us_field::detect_field(
                &luminance(&f.values, channels),
                rows,
                cols,
            )),
            _ => None,
        };
        let region = match (declared, found) {
            (Some(r), _) => {
                meta.region_declared = Some(crate::meta::DetectedField {
                    shape: "region".to_string(),
                    x0: r.x0,
                    y0: r.y0,
                    x1: r.x1,
                    y1: r.y1,
                });
                Some(r)
            }
            (None, Some(Ok(r))) => {
                meta.field_detected = Some(crate::meta::DetectedField {
                    shape: if r.sector.is_some() {
                        "sector"
                    } else {
                        "rectangle"
                    }
                    .to_string(),
                    x0: r.x0,
                    y0: r.y0,
                    x1: r.x1,
                    y1: r.y1,
                });
                Some(r)
            }
            (None, Some(Err(why))) => {
                let burned = text(obj, crate::us_region::BURNED_IN_ANNOTATION);
                if burned.as_deref() != Some("NO") && !opts.allow_burned_in {
                    return Err(IoError::new(
                        path,
                        IoErrorKind::BurnedIn(format!(
                            "ultrasound without an imaging region (no Sequence of Ultrasound \
                             Regions), Burned In Annotation {}, and no scan field found in its \
                             pixels ({why}): text with the patient's or clinic's name may be \
                             anywhere; crop the image to the scan area first, or pass \
                             --allow-burned-in if you have checked it carries no text",
                            burned.as_deref().unwrap_or("absent")
                        )),
                    ));
                }
                None
            }
            (None, None) => None,
        };
        match region {
            Some(region) => {
                for f in &mut out {
                    f.values = crate::us_region::crop(&f.values, cols, channels, &region);
                    if opts.keep_overlay {
                        continue;
                    }
                    meta.overlay_removed += crate::us_region::remove_overlay(
                        &mut f.values,
                        region.rows(),
                        region.cols(),
                        channels,
                    );
                }
                (rows, cols) = (region.rows(), region.cols());
                pixel_spacing = region.spacing_mm.or(pixel_spacing);
            }
            None => {
                for f in out.iter_mut().filter(|_| !opts.keep_overlay) {
                    meta.overlay_removed +=
                        crate::us_region::remove_overlay(&mut f.values, rows, cols, channels);
                }
            }
        }
    }
    Ok((
        ObjectInfo {
            meta,
            pixel_spacing,
            spacing_between,
            thickness,
            rows,
            cols,
        },
        out,
    ))
}

/// Luminance (Rec. 601 weights) of interleaved values with `channels` per pixel.
fn luminance(values: &[f32], channels: usize) -> Vec<f32> {
    if channels == 3 {
        values
            .chunks_exact(3)
            .map(|p| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2])
            .collect()
    } else {
        values.to_vec()
    }
}

/// Order frames and derive spacing (array-axis order) and the RAS affine.
fn stack_geometry(
    frames: &[FrameGeom],
    pixel_spacing: Option<[f64; 2]>,
    spacing_between: Option<f64>,
    thickness: Option<f64>,
) -> (Vec<usize>, [f64; 3], [[f64; 4]; 4], bool) {
    let n = frames.len();
    let mut assumed = pixel_spacing.is_none();
    let ps = pixel_spacing.unwrap_or([1.0, 1.0]);
    let ori = frames[0].orientation;
    let same_ori = frames.iter().all(|f| match (f.orientation, ori) {
        (Some(a), Some(b)) => a.iter().zip(b.iter()).all(|(x, y)| (x - y).abs() < 1e-4),
        _ => false,
    });
    let all_pos = frames.iter().all(|f| f.position.is_some());
    let mut order: Vec<usize> = (0..n).collect();
    let mut by_position = false;
    let mut slice_step = None;
    if let (true, true, Some(o)) = (same_ori, all_pos, ori) {
        let normal = cross([o[0], o[1], o[2]], [o[3], o[4], o[5]]);
        let proj: Vec<f64> = frames
            .iter()
            .map(|f| dot(f.position.unwrap(), normal))
            .collect();
        let mut sorted = order.clone();
        sorted.sort_by(|&a, &b| proj[a].total_cmp(&proj[b]).then(a.cmp(&b)));
        let distinct = sorted.windows(2).all(|w| proj[w[1]] - proj[w[0]] > 1e-4);
        if distinct || n == 1 {
            order = sorted;
            by_position = true;
            if n > 1 {
                slice_step = Some((proj[order[n - 1]] - proj[order[0]]) / (n - 1) as f64);
            }
        }
    }
    if !by_position {
        order.sort_by_key(|&i| (frames[i].instance.unwrap_or(i64::MAX), i));
    }
    let dz = match slice_step {
        Some(s) if s > 1e-6 => s,
        // one slice: its thickness is its extent; several without positions: the spacing
        _ => match if n == 1 {
            thickness.or(spacing_between)
        } else {
            spacing_between.or(thickness)
        } {
            Some(s) => s,
            None => {
                if n > 1 {
                    assumed = true;
                }
                1.0
            }
        },
    };
    let spacing = [dz, ps[0], ps[1]];
    let affine = match (ori, frames[order[0]].position) {
        (Some(o), Some(p0)) if same_ori => {
            let r = [o[0], o[1], o[2]];
            let c = [o[3], o[4], o[5]];
            let k = if by_position && n > 1 {
                let pl = frames[order[n - 1]].position.unwrap();
                [
                    (pl[0] - p0[0]) / (n - 1) as f64,
                    (pl[1] - p0[1]) / (n - 1) as f64,
                    (pl[2] - p0[2]) / (n - 1) as f64,
                ]
            } else {
                let nrm = cross(r, c);
                [nrm[0] * dz, nrm[1] * dz, nrm[2] * dz]
            };
            let mut a = [[0.0; 4]; 4];
            for row in 0..3 {
                let flip = if row < 2 { -1.0 } else { 1.0 }; // LPS → RAS
                a[row][0] = flip * r[row] * ps[1];
                a[row][1] = flip * c[row] * ps[0];
                a[row][2] = flip * k[row];
                a[row][3] = flip * p0[row];
            }
            a[3][3] = 1.0;
            a
        }
        _ => artefact_core::image::diagonal_affine(spacing),
    };
    (order, spacing, affine, assumed)
}

/// Load a volume from one or more DICOM files of one series (a single file may be multi-frame).
pub(crate) fn load_files(
    display_path: &Path,
    files: &[PathBuf],
    opts: &LoadOptions,
) -> Result<Loaded, IoError> {
    if opts.volume_index != 0 {
        return Err(IoError::new(
            display_path,
            IoErrorKind::Selection(format!(
                "volume index {} out of range: a DICOM series is one volume",
                opts.volume_index
            )),
        ));
    }
    let mut frames: Vec<Frame> = Vec::new();
    let mut first: Option<ObjectInfo> = None;
    let mut budget = opts.max_voxels as u64;
    // bytes: the frames kept so far (f32) and, at the end, their concatenation
    let mut bytes_left = opts.max_bytes;
    for f in files {
        let obj = open(f, false, bytes_left)?;
        let (info, fr) = decode_object(f, &obj, opts, budget, bytes_left / 2, Want::Grey)?;
        drop(obj);
        let n = (info.rows * info.cols * fr.len()) as u64;
        budget = budget.saturating_sub(n);
        bytes_left = bytes_left.saturating_sub(8 * n);
        if let Some(fi) = &first {
            if (fi.rows, fi.cols) != (info.rows, info.cols) {
                return Err(IoError::invalid(
                    f,
                    format!(
                        "{}×{} slice in a series of {}×{} slices",
                        info.rows, info.cols, fi.rows, fi.cols
                    ),
                ));
            }
        } else {
            first = Some(info);
        }
        frames.extend(fr);
    }
    let info = first.ok_or_else(|| {
        IoError::new(
            display_path,
            IoErrorKind::Selection("no DICOM files".into()),
        )
    })?;
    let geoms: Vec<FrameGeom> = frames.iter().map(|f| f.geom).collect();
    let (order, spacing, affine, assumed) = stack_geometry(
        &geoms,
        info.pixel_spacing,
        info.spacing_between,
        info.thickness,
    );
    let (rows, cols) = (info.rows, info.cols);
    let mut data = Vec::with_capacity(rows * cols * frames.len());
    let mut frames: Vec<Option<Frame>> = frames.into_iter().map(Some).collect();
    for &i in &order {
        data.extend(frames[i].take().expect("each frame once").values);
    }
    let n = order.len();
    let data = Array3::from_shape_vec((n, rows, cols), data)
        .map_err(|e| IoError::invalid(display_path, e.to_string()))?;
    let mut meta = info.meta;
    meta.path = display_path.to_path_buf();
    meta.files = files.len();
    meta.frames = n;
    meta.spacing_assumed = assumed;
    let volume = Volume::with_affine(
        data,
        spacing,
        affine,
        meta.modality,
        meta.modality.natural_unit(),
    )
    .map_err(|e| IoError::invalid(display_path, e.to_string()))?;
    Ok(Loaded { volume, meta })
}

/// Read one frame of a DICOM object as a colour image in linear light.
///
/// RGB, YBR_FULL, YBR_FULL_422 (native or compressed) and PALETTE COLOR objects keep their
/// colour; MONOCHROME objects become neutral colour over their storable range (MONOCHROME1
/// inverted). Values are device RGB, taken as sRGB-encoded like a photograph and decoded with
/// the exact IEC 61966-2-1 curve. The frame is [`crate::RgbLoadOptions::frame`] (default: the
/// middle frame of a multi-frame object). Pixel size comes from PixelSpacing when present and
/// positive, else from the options, else 1 mm (flagged `spacing_assumed`).
pub fn read_rgb(path: &Path, opts: &crate::RgbLoadOptions) -> Result<crate::LoadedRgb, IoError> {
    let obj = open(path, false, opts.max_bytes)?;
    let load = LoadOptions {
        modality: opts.modality,
        allow_burned_in: opts.allow_burned_in,
        keep_overlay: opts.keep_overlay,
        max_bytes: opts.max_bytes,
        ..LoadOptions::default()
    };
    let (info, mut frames) = decode_object(
        path,
        &obj,
        &load,
        opts.max_pixels as u64 * 64,
        opts.max_bytes / 2,
        Want::Colour,
    )?;
    // ICC Profile (0028,2000), present in most visible-light photography (e.g. ophthalmic)
    let icc = obj
        .element_opt(Tag(0x0028, 0x2000))
        .ok()
        .flatten()
        .and_then(|e| e.to_bytes().ok())
        .map(|b| b.into_owned());
    drop(obj);
    if (info.rows as u64) * (info.cols as u64) > opts.max_pixels as u64 {
        return Err(IoError::too_large(
            path,
            format!(
                "{}×{} pixels exceed the limit of {} pixels",
                info.cols, info.rows, opts.max_pixels
            ),
        ));
    }
    let count = frames.len();
    let index = opts.frame.unwrap_or(count / 2);
    if index >= count {
        return Err(IoError::new(
            path,
            IoErrorKind::Selection(format!(
                "frame {index} out of range: the object has {count} frame(s)"
            )),
        ));
    }
    let frame = frames.swap_remove(index);
    let (rows, cols) = (info.rows, info.cols);
    let (profile, colour_profile) = crate::icc::plan(icc.as_deref(), false);
    let enc = match profile {
        crate::icc::Plan::AsSrgb => frame.values,
        crate::icc::Plan::Convert { transform, .. } => {
            crate::icc::convert(transform.as_ref(), false, &frame.values)
                .map_err(|e| IoError::invalid(path, e))?
        }
    };
    let data = Array3::from_shape_fn((3, rows, cols), |(c, r, k)| {
        artefact_core::colour::srgb_to_linear(enc[(r * cols + k) * 3 + c] as f64) as f32
    });
    let modality = opts.modality.unwrap_or(if info.meta.modality.is_colour() {
        info.meta.modality
    } else {
        Modality::Photo
    });
    let spacing = info.pixel_spacing.or(opts.spacing_mm).unwrap_or([1.0, 1.0]);
    let mut image = artefact_core::RgbImage::new(data, spacing, modality, None)
        .map_err(|e| IoError::invalid(path, e.to_string()))?;
    if opts.detect_fov {
        image.detect_and_set_fov();
    }
    let mut meta = info.meta;
    meta.modality = modality;
    meta.frames = count;
    meta.spacing_assumed = info.pixel_spacing.is_none() && opts.spacing_mm.is_none();
    meta.colour_profile = colour_profile;
    Ok(crate::LoadedRgb { image, meta })
}
