//! Pixel-data codecs of our own, run before dicom-rs: JPEG-LS ([`jpegls`], through the
//! `artefact-jpegls` crate), RLE Lossless ([`rle`], PS3.5 Annex G), 12-bit grey JPEG
//! extended ([`jpeg12`]) and RGB JPEG without colour-space markers ([`jpeg_rgb`]). Each decodes every frame
//! into native little-endian samples (pixel-interleaved); [`with_native_pixels`] then gives
//! dicom-rs an explicit-VR-little-endian copy of the object to read the header attributes
//! (rescale, photometric interpretation, …) exactly as for an uncompressed file.
//!
//! Frames are cut from the encapsulated fragments by [`frames`] (one fragment per frame, the
//! Basic Offset Table, or JPEG SOI markers at fragment starts). Every size is checked against
//! Rows × Columns × Samples per Pixel before anything is allocated; errors name the file, the
//! frame and the reason.

pub(crate) mod huffman;
pub(crate) mod jpeg12;
pub(crate) mod jpeg_markers;
pub(crate) mod jpeg_rgb;
pub(crate) mod jpeg_scan;
pub(crate) mod jpegls;
pub(crate) mod rle;
#[cfg(test)]
mod tests;

use crate::guard::PixelHeader;
use crate::IoError;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use std::path::Path;

/// The fragments of the encapsulated Pixel Data and its Basic Offset Table.
fn fragments(obj: &DefaultDicomObject) -> (Vec<&[u8]>, Vec<u32>) {
    let Some(v) = obj
        .element_opt(tags::PIXEL_DATA)
        .ok()
        .flatten()
        .map(|e| e.value())
    else {
        return (Vec::new(), Vec::new());
    };
    let frags = v
        .fragments()
        .map(|f| f.iter().map(|x| x.as_slice()).collect())
        .unwrap_or_default();
    let bot = v.offset_table().map(|t| t.to_vec()).unwrap_or_default();
    (frags, bot)
}

/// The encoded bytes of each frame (fragments of one frame concatenated).
pub(crate) fn frames(
    path: &Path,
    obj: &DefaultDicomObject,
    nframes: usize,
    jpeg: bool,
) -> Result<Vec<Vec<u8>>, IoError> {
    let (frags, bot) = fragments(obj);
    if frags.is_empty() {
        return Err(IoError::invalid(
            path,
            "encapsulated Pixel Data holds no fragment",
        ));
    }
    let join = |fs: &[&[u8]]| fs.concat();
    if nframes == 1 {
        return Ok(vec![join(&frags)]);
    }
    if frags.len() == nframes {
        return Ok(frags.iter().map(|f| f.to_vec()).collect());
    }
    // fragment k starts at byte offset sum(8 + len) of the ones before it (PS3.5 A.4)
    let mut starts = Vec::with_capacity(frags.len());
    let mut at = 0u64;
    for f in &frags {
        starts.push(at);
        at += 8 + f.len() as u64;
    }
    let firsts: Vec<usize> = if bot.len() == nframes {
        bot.iter()
            .map(|&o| {
                starts.iter().position(|&s| s == o as u64).ok_or_else(|| {
                    IoError::invalid(
                        path,
                        format!("Basic Offset Table entry {o} is not the start of a fragment"),
                    )
                })
            })
            .collect::<Result<_, _>>()?
    } else if jpeg {
        (0..frags.len())
            .filter(|&k| frags[k].starts_with(&[0xFF, 0xD8]))
            .collect()
    } else {
        Vec::new()
    };
    if firsts.len() != nframes
        || firsts.first() != Some(&0)
        || firsts.windows(2).any(|w| w[0] >= w[1])
    {
        return Err(IoError::invalid(
            path,
            format!(
                "cannot split {} Pixel Data fragments into {nframes} frames (no usable Basic \
                 Offset Table)",
                frags.len()
            ),
        ));
    }
    Ok((0..nframes)
        .map(|i| {
            let end = firsts.get(i + 1).copied().unwrap_or(frags.len());
            join(&frags[firsts[i]..end])
        })
        .collect())
}

/// A copy of `obj` whose Pixel Data is `data` (native, little endian, pixel-interleaved), in
/// explicit VR little endian.
pub(crate) fn with_native_pixels(
    obj: &DefaultDicomObject,
    data: Vec<u8>,
    h: &PixelHeader,
) -> DefaultDicomObject {
    let mut o = obj.clone();
    o.meta_mut().transfer_syntax = "1.2.840.10008.1.2.1".to_string();
    o.meta_mut().update_information_group_length();
    let vr = if h.bits_alloc == 8 { VR::OB } else { VR::OW };
    o.put(DataElement::new(
        tags::PIXEL_DATA,
        vr,
        PrimitiveValue::U8(data.into()),
    ));
    if h.spp > 1 {
        o.put(DataElement::new(
            tags::PLANAR_CONFIGURATION,
            VR::US,
            PrimitiveValue::from(0u16),
        ));
    }
    o
}
