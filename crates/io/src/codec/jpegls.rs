//! JPEG-LS lossless and near-lossless (1.2.840.10008.1.2.4.80 / .81) through the pure-Rust
//! `artefact-jpegls` decoder (ITU-T T.87).

use crate::guard::PixelHeader;
use crate::IoError;
use dicom_object::DefaultDicomObject;
use std::path::Path;

/// Decode every frame into native little-endian samples of `h.bits_alloc` bits.
pub(crate) fn decode(
    path: &Path,
    obj: &DefaultDicomObject,
    h: &PixelHeader,
) -> Result<Vec<u8>, IoError> {
    let bytes = (h.bits_alloc / 8) as usize;
    let frames = super::frames(path, obj, h.frames as usize, true)?;
    let frame_samples = (h.rows * h.cols * h.spp) as usize;
    let mut out = Vec::with_capacity(frame_samples * bytes * frames.len());
    for (i, f) in frames.iter().enumerate() {
        let err = |e: artefact_jpegls::Error| {
            let msg = format!("JPEG-LS frame {i}: {e}");
            match e {
                artefact_jpegls::Error::Truncated(_) => IoError::truncated(path, msg),
                artefact_jpegls::Error::Corrupt(_) => IoError::invalid(path, msg),
                artefact_jpegls::Error::Unsupported(_) => IoError::unsupported(path, msg),
            }
        };
        let hd = artefact_jpegls::read_header(f).map_err(err)?;
        if (hd.width as u64, hd.height as u64, hd.components as u64) != (h.cols, h.rows, h.spp) {
            return Err(IoError::invalid(
                path,
                format!(
                    "JPEG-LS frame {i} is {}×{} with {} components but the header says Columns \
                     {} × Rows {} with Samples per Pixel {}",
                    hd.width, hd.height, hd.components, h.cols, h.rows, h.spp
                ),
            ));
        }
        if hd.precision as u64 > h.bits_alloc {
            return Err(IoError::invalid(
                path,
                format!(
                    "JPEG-LS frame {i} has {}-bit samples but Bits Allocated is {}",
                    hd.precision, h.bits_alloc
                ),
            ));
        }
        let img = artefact_jpegls::decode(f).map_err(err)?;
        for &s in &img.samples {
            match bytes {
                1 => out.push(s as u8),
                2 => out.extend_from_slice(&s.to_le_bytes()),
                _ => out.extend_from_slice(&(s as u32).to_le_bytes()),
            }
        }
    }
    Ok(out)
}
