//! JPEG (baseline / extended, 8-bit) colour streams that DICOM says are RGB but that carry no
//! JFIF marker, no complete Adobe APP14 marker (pydicom's `SC_rgb_jpeg.dcm` has one cut before
//! its transform byte) and no 'R','G','B' component ids: the jpeg-decoder crate
//! behind dicom-rs assumes YCbCr for them and converts, which garbles the colours
//! (pydicom's `SC_jpeg_no_color_transform.dcm`). Following Photometric Interpretation RGB, as
//! libjpeg in pydicom does, they are decoded here with no colour transform.

use crate::guard::PixelHeader;
use crate::IoError;
use dicom_object::DefaultDicomObject;
use std::path::Path;

/// True when a stream has neither a JFIF APP0 nor a complete Adobe APP14 segment and its frame's
/// component ids are not 'R', 'G', 'B' (the cases where jpeg-decoder would guess YCbCr).
fn guessed_ycbcr(d: &[u8]) -> bool {
    let h = super::jpeg_markers::declared(d);
    !h.jfif
        && h.adobe_transform.is_none()
        && h.ids.is_some_and(|ids| ids.len() == 3 && ids != b"RGB")
}

/// Decode every frame without colour transform when the object is 8-bit RGB and its streams
/// would otherwise be taken for YCbCr; `None` leaves the object to dicom-rs.
pub(crate) fn decode(
    path: &Path,
    obj: &DefaultDicomObject,
    h: &PixelHeader,
    photometric: &str,
) -> Result<Option<Vec<u8>>, IoError> {
    if h.spp != 3 || h.bits_alloc != 8 || photometric != "RGB" {
        return Ok(None);
    }
    let frames = super::frames(path, obj, h.frames as usize, true)?;
    if !frames.iter().all(|f| guessed_ycbcr(f)) {
        return Ok(None);
    }
    let need = (h.rows * h.cols * 3) as usize;
    let mut out = Vec::with_capacity(need * frames.len());
    for (i, f) in frames.iter().enumerate() {
        let mut d = jpeg_decoder::Decoder::new(f.as_slice());
        // `RGB`: samples as stored, interleaved (`None` would give each row plane by plane)
        d.set_color_transform(jpeg_decoder::ColorTransform::RGB);
        d.set_max_decoding_buffer_size(need);
        let px = d
            .decode()
            .map_err(|e| IoError::invalid(path, format!("JPEG frame {i}: {e}")))?;
        let info = d
            .info()
            .ok_or_else(|| IoError::invalid(path, "JPEG frame without header"))?;
        if (info.width as u64, info.height as u64) != (h.cols, h.rows) || px.len() != need {
            return Err(IoError::invalid(
                path,
                format!(
                    "JPEG frame {i} is {}×{} ({} bytes) but the header says Columns {} × Rows {} × 3",
                    info.width,
                    info.height,
                    px.len(),
                    h.cols,
                    h.rows
                ),
            ));
        }
        out.extend_from_slice(&px);
    }
    Ok(Some(out))
}
