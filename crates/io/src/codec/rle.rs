//! RLE Lossless (1.2.840.10008.1.2.5, DICOM PS3.5 Annex G): one fragment per frame, a 64-byte
//! header of up to 15 segment offsets, one PackBits segment per byte plane (most significant
//! byte first, sample by sample). Bits Allocated 8, 16 and 32, any Samples per Pixel.

use crate::guard::PixelHeader;
use crate::IoError;
use dicom_object::DefaultDicomObject;
use std::path::Path;

/// Unpack one PackBits segment into `out` (exactly `out.len()` bytes); returns how many bytes
/// the segment supplied (fewer than `out.len()` when it is short).
fn unpack(seg: &[u8], out: &mut [u8]) -> usize {
    let (mut i, mut o) = (0usize, 0usize);
    while i < seg.len() && o < out.len() {
        let n = seg[i] as i8;
        i += 1;
        if n >= 0 {
            let k = (n as usize + 1).min(seg.len() - i).min(out.len() - o);
            out[o..o + k].copy_from_slice(&seg[i..i + k]);
            o += k;
            i += n as usize + 1;
        } else if n != -128 {
            let Some(&b) = seg.get(i) else { break };
            i += 1;
            let k = ((1 - n as i32) as usize).min(out.len() - o);
            out[o..o + k].fill(b);
            o += k;
        }
    }
    o
}

/// Decode every frame into native little-endian, pixel-interleaved samples.
pub(crate) fn decode(
    path: &Path,
    obj: &DefaultDicomObject,
    h: &PixelHeader,
) -> Result<Vec<u8>, IoError> {
    let bytes = (h.bits_alloc / 8) as usize;
    let spp = h.spp as usize;
    let n = (h.rows * h.cols) as usize;
    let segments = spp * bytes;
    let frames = super::frames(path, obj, h.frames as usize, false)?;
    let mut out = vec![0u8; n * segments * frames.len()];
    let mut plane = vec![0u8; n];
    for (f, frag) in frames.iter().enumerate() {
        if frag.len() < 64 {
            return Err(IoError::truncated(
                path,
                format!(
                    "RLE frame {f} has {} bytes, shorter than its 64-byte header",
                    frag.len()
                ),
            ));
        }
        let word = |k: usize| {
            u32::from_le_bytes([
                frag[4 * k],
                frag[4 * k + 1],
                frag[4 * k + 2],
                frag[4 * k + 3],
            ]) as usize
        };
        if word(0) != segments {
            return Err(IoError::invalid(
                path,
                format!(
                    "RLE frame {f} declares {} segments; Samples per Pixel {spp} × {bytes} bytes need {segments}",
                    word(0)
                ),
            ));
        }
        let mut offs: Vec<usize> = (1..=segments).map(word).collect();
        offs.push(frag.len());
        let frame_out = &mut out[f * n * segments..(f + 1) * n * segments];
        for s in 0..segments {
            let (a, b) = (offs[s], offs[s + 1]);
            if a < 64 || a > b || b > frag.len() {
                return Err(IoError::invalid(
                    path,
                    format!(
                        "RLE frame {f}: segment {s} offsets {a}..{b} lie outside the fragment of {} bytes",
                        frag.len()
                    ),
                ));
            }
            let got = unpack(&frag[a..b], &mut plane);
            if got < n {
                return Err(IoError::truncated(
                    path,
                    format!(
                        "RLE frame {f}: segment {s} decodes to {got} bytes, Rows {} × Columns {} need {n}",
                        h.rows, h.cols
                    ),
                ));
            }
            // segment s = sample c, byte b (0 = most significant) → little-endian position
            let (c, msb) = (s / bytes, s % bytes);
            let pos = bytes - 1 - msb;
            for (i, &v) in plane.iter().enumerate() {
                frame_out[(i * spp + c) * bytes + pos] = v;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::unpack;

    #[test]
    fn packbits_literals_runs_and_noop() {
        // literal of 3, run of 4 (-3), no-op (-128), literal of 2
        let seg = [2u8, 1, 2, 3, 0xFD, 9, 0x80, 1, 7, 8];
        let mut out = [0u8; 9];
        assert_eq!(unpack(&seg, &mut out), 9);
        assert_eq!(out, [1, 2, 3, 9, 9, 9, 9, 7, 8]);
        // short segment: reports what it supplied
        let mut out = [0u8; 12];
        assert_eq!(unpack(&seg, &mut out), 9);
        // a run longer than the output is cut
        let mut out = [0u8; 2];
        assert_eq!(unpack(&[0x81, 5], &mut out), 2);
        assert_eq!(out, [5, 5]);
    }
}
