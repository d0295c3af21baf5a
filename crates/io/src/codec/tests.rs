//! Our codecs against pydicom: the SHA-256 of the decoded samples (little-endian, Bits
//! Allocated wide, pixel-interleaved, frames in order) equals that of pydicom's
//! `pixel_array`. The hashes are the output of
//!
//! ```text
//! /work/venv-dicom/bin/python tools/pydicom_codec_reference.py DIR
//! ```
//!
//! (pydicom 3.0.2, pylibjpeg 2.1 with -libjpeg 2.5 and -rle 2.2, numpy 2.4) over pydicom's
//! own test files. For the near-lossless JPEG-LS files CharLS (pyjpegls 1.5) gives the same
//! samples as libjpeg, so "pydicom's values" are those of both reference decoders.

use super::{jpegls, rle};
use crate::guard::PixelHeader;
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// (file, sha256 of pydicom's pixel_array) for pydicom 3.0.2's JPEG-LS and RLE test files.
const PYDICOM: &[(&str, &str)] = &[
    (
        "JPEGLSNearLossless_08.dcm",
        "9eb46aa86c342094f826affc35703f71b425ba4ef229fe1711adcf1bb3ca458f",
    ),
    (
        "JPEGLSNearLossless_16.dcm",
        "f929318278115ce952d85c011f752634e266720680e807bd03bf97ded3f0d3e4",
    ),
    (
        "MR_small_RLE.dcm",
        "88617aaa46138fb1b6e2a951e762d962382354d69f47f8c04d4abff2f6a6a63e",
    ),
    (
        "MR_small_jpeg_ls_lossless.dcm",
        "88617aaa46138fb1b6e2a951e762d962382354d69f47f8c04d4abff2f6a6a63e",
    ),
    (
        "SC_rgb_jls_lossy_line.dcm",
        "bd5344c0a46bc6c0869921680aa72c1ee344be34079d9b9c5b421336f24d798f",
    ),
    (
        "SC_rgb_jls_lossy_sample.dcm",
        "bd5344c0a46bc6c0869921680aa72c1ee344be34079d9b9c5b421336f24d798f",
    ),
    (
        "SC_rgb_rle.dcm",
        "169e619557b12114a7f0be8602026e9abb3d5045804311736ec14cecb026aca9",
    ),
    (
        "SC_rgb_rle_16bit.dcm",
        "36de0258708d3af79cf989c0ab2cbbf861afe927799cdfd0fef36fca3b3aa058",
    ),
    (
        "SC_rgb_rle_16bit_2frame.dcm",
        "d7e2338dd240b58cd8ca13452ab8f21fa3e0779575eda0677568b5ce88247271",
    ),
    (
        "SC_rgb_rle_2frame.dcm",
        "026dac3bc332e46b5ddc4cda3d990ac5a423dad4cb4134262b1a7cc1f2106c6c",
    ),
    (
        "SC_rgb_rle_32bit.dcm",
        "1a243c9351e3a9aeadbe667627e8bae4d38950bf570c2fadab4fef93f766aafa",
    ),
    (
        "SC_rgb_rle_32bit_2frame.dcm",
        "3caa80cc3032f7457d4509766be96484cbcdd628334b1aecad249d6a41998575",
    ),
    (
        "rtdose_rle.dcm",
        "e30a4288ac22902293b3b0144d9cd7866d43a96e2e5cf3ec59c6f78595c3a125",
    ),
    (
        "rtdose_rle_1frame.dcm",
        "67f96b3373d7acf18a7ea33d8c9a0e0a9d63bd62acce734b7531341bb332daec",
    ),
];

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data")).join(rel)
}

fn header(obj: &DefaultDicomObject) -> PixelHeader {
    let int = |t| {
        obj.element_opt(t)
            .ok()
            .flatten()
            .and_then(|e| e.to_int::<u64>().ok())
    };
    PixelHeader {
        rows: int(tags::ROWS).unwrap(),
        cols: int(tags::COLUMNS).unwrap(),
        frames: int(tags::NUMBER_OF_FRAMES).unwrap_or(1),
        spp: int(tags::SAMPLES_PER_PIXEL).unwrap(),
        bits_alloc: int(tags::BITS_ALLOCATED).unwrap(),
        native_422: false,
    }
}

/// Decode with our codec; None for other transfer syntaxes.
fn decode(path: &Path) -> Option<Result<Vec<u8>, crate::IoError>> {
    let obj = dicom_object::open_file(path).unwrap();
    let h = header(&obj);
    match obj.meta().transfer_syntax().trim_end_matches('\0') {
        "1.2.840.10008.1.2.4.80" | "1.2.840.10008.1.2.4.81" => Some(jpegls::decode(path, &obj, &h)),
        "1.2.840.10008.1.2.5" => Some(rle::decode(path, &obj, &h)),
        _ => None,
    }
}

fn sha(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn check(path: &Path) {
    let name = path.file_name().unwrap().to_str().unwrap();
    let want = PYDICOM.iter().find(|(n, _)| *n == name).unwrap().1;
    let got = decode(path).unwrap().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sha(&got), want, "{name}: samples differ from pydicom");
}

#[test]
fn jpegls_lossless_and_near_lossless_equal_pydicom() {
    for f in [
        "dicom/MR_small_jpeg_ls_lossless.dcm",
        "dicom-codecs/JPEGLSNearLossless_08.dcm",
        "dicom-codecs/JPEGLSNearLossless_16.dcm",
        "dicom-codecs/SC_rgb_jls_lossy_sample.dcm",
    ] {
        check(&data(f));
    }
}

#[test]
fn rle_8_16_32_bit_grey_and_rgb_equal_pydicom() {
    for f in [
        "dicom/MR_small_RLE.dcm",
        "dicom-colour/SC_rgb_rle_16bit.dcm",
        "dicom-codecs/SC_rgb_rle_32bit.dcm",
        "dicom-codecs/rtdose_rle_1frame.dcm",
    ] {
        check(&data(f));
    }
}

#[test]
fn truncated_and_garbled_jpegls_fail_cleanly() {
    let path = data("dicom/MR_small_jpeg_ls_lossless.dcm");
    let obj = dicom_object::open_file(&path).unwrap();
    let h = header(&obj);
    let good = super::frames(&path, &obj, 1, true).unwrap().remove(0);
    let swap = |bytes: Vec<u8>| {
        let mut o = obj.clone();
        o.put(dicom_core::DataElement::new(
            tags::PIXEL_DATA,
            dicom_core::VR::OB,
            dicom_core::value::PixelFragmentSequence::new(Vec::<u32>::new(), vec![bytes]),
        ));
        o
    };
    // cut inside the entropy-coded data, after the header, and at every 97th byte
    for cut in (0..good.len()).step_by(97).chain([good.len() / 2, 30]) {
        let o = swap(good[..cut].to_vec());
        let e = jpegls::decode(&path, &o, &h).unwrap_err();
        assert!(
            e.to_string().contains("MR_small_jpeg_ls_lossless.dcm"),
            "{e}"
        );
    }
    // flipped bytes in the scan: an error or (rarely) other samples, never a panic
    for i in (40..good.len()).step_by(53) {
        let mut g = good.clone();
        g[i] ^= 0x5A;
        let _ = jpegls::decode(&path, &swap(g), &h);
    }
    // a frame header that disagrees with Rows/Columns is refused before decoding
    let mut wrong = h;
    wrong.rows = 65;
    let e = jpegls::decode(&path, &obj, &wrong).unwrap_err();
    assert!(e.to_string().contains("64×64"), "{e}");
}

/// Every JPEG-LS and RLE file of a folder (pydicom's test_files) against the pinned hashes:
/// `ARTEFACT_DICOM_DIR=…/pydicom/data/test_files cargo test -p artefact-io codec -- --ignored`
#[test]
#[ignore]
fn pydicom_corpus_equals_pinned_hashes() {
    let dir = std::env::var("ARTEFACT_DICOM_DIR").expect("set ARTEFACT_DICOM_DIR");
    let mut n = 0;
    for (name, _) in PYDICOM {
        check(&Path::new(&dir).join(name));
        n += 1;
    }
    assert_eq!(n, 14);
}

/// 12-bit JPEG extended (lossy, so not bit-exact): pydicom (pylibjpeg-libjpeg 2.5) gives
///
/// ```text
/// a = pydicom.dcmread('JPGExtended.dcm').pixel_array.astype(np.int64)
/// a.sum()                                                    # 3770427
/// [a[(37*k+400) % 1024, (13*k+100) % 256] for k in range(16)]
/// ```
///
/// Our double-precision inverse DCT differs from libjpeg's by at most 1 (3641 of 262,144
/// samples are 1 lower), within the ±1 of T.81's IDCT accuracy requirement.
#[test]
fn jpeg_12_bit_extended_within_one_of_pydicom() {
    let path = data("dicom-codecs/JPGExtended.dcm");
    let obj = dicom_object::open_file(&path).unwrap();
    let h = header(&obj);
    let v = super::jpeg12::decode(&path, &obj, &h).unwrap().unwrap();
    let px: Vec<i64> = v
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]) as i64)
        .collect();
    assert_eq!(px.len(), 1024 * 256);
    let want = [27, 48, 46, 7, 13, 36, 37, 0, 1, 1, 1, 1, 1, 1, 1, 1];
    for (k, w) in want.iter().enumerate() {
        let got = px[((37 * k + 400) % 1024) * 256 + (13 * k + 100) % 256];
        assert!((got - w).abs() <= 1, "pixel {k}: {got} vs {w}");
    }
    let sum: i64 = px.iter().sum();
    assert!((sum - 3770427).abs() <= 4000, "{sum}");
    // the copy pydicom cannot decode (a misplaced marker) holds the same code stream
    let other = data("dicom/JPEG-lossy.dcm");
    let o = dicom_object::open_file(&other).unwrap();
    assert_eq!(super::jpeg12::decode(&other, &o, &h).unwrap().unwrap(), v);
    // truncated: an error, never a panic
    let f = super::frames(&path, &obj, 1, true).unwrap().remove(0);
    for cut in (0..f.len()).step_by(211) {
        assert!(super::jpeg12::frame(&f[..cut], 1024, 256).is_err());
    }
}
