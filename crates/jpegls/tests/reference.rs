//! Decoded samples against reference decoders.
//!
//! `tests/data/*.jls`: `MR_small_jpeg_ls_lossless` and `SC_rgb_jls_lossy_line` are the code
//! streams of pydicom 3.0.2's test files of the same name (MIT); the `b<P>_<kind>_c<N>_i<ILV>_
//! n<NEAR>_<rows>x<cols>` streams were encoded by CharLS 2.x (pyjpegls 1.5,
//! `jpeg_ls.encode_array(a, lossy_error=NEAR, interleave_mode=ILV)`) from synthetic images
//! (smooth sinusoids + noise, flat patches with edges, uniform noise). The pinned sums and
//! FNV-1a-64 hashes (of the samples as little-endian u16, pixel-interleaved) are those of
//! pylibjpeg-libjpeg 2.5 (Thomas Richter's libjpeg, the decoder pydicom uses):
//!
//! ```text
//! a = libjpeg.decode(open(f, 'rb').read()).astype('<u2')
//! print(f, width, height, components, int(a.astype(np.int64).sum()), hex(fnv1a64(a.tobytes())))
//! ```
//!
//! CharLS's own decoder gives the same samples for every stream (checked when they were made,
//! together with 195 further random streams: P = 2, 5, 8, 10, 12, 16; NEAR 0, 1, 3; ILV 0–2).

use artefact_jpegls::{decode, read_header, Error};

const STREAMS: &[(&str, u32, u32, u8, u64, u64)] = &[
    (
        "MR_small_jpeg_ls_lossless.jls",
        64,
        64,
        1,
        2125338,
        0x51433421a5f7529a,
    ),
    (
        "SC_rgb_jls_lossy_line.jls",
        100,
        100,
        3,
        3840000,
        0x66486452cbc225e5,
    ),
    (
        "b10_smooth_c1_iNone_n3_13x39.jls",
        39,
        13,
        1,
        370731,
        0x8e527d813a589bc7,
    ),
    (
        "b12_flat_c3_i1_n0_65x1.jls",
        1,
        65,
        3,
        315567,
        0xe328601a7c8e1aeb,
    ),
    (
        "b16_noise_c1_iNone_n0_19x47.jls",
        47,
        19,
        1,
        29170443,
        0x066f07073e48573d,
    ),
    (
        "b16_smooth_c3_i2_n3_23x6.jls",
        6,
        23,
        3,
        15353320,
        0x4038cda10c3d7a85,
    ),
    (
        "b2_flat_c1_iNone_n1_42x67.jls",
        67,
        42,
        1,
        4672,
        0xa84a5d04a25df1bf,
    ),
    (
        "b5_smooth_c3_i0_n1_11x42.jls",
        42,
        11,
        3,
        24614,
        0xf8faf6424ec05375,
    ),
    (
        "b8_flat_c3_i2_n0_33x77.jls",
        77,
        33,
        3,
        1065058,
        0x7b8e747356e0388f,
    ),
];

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn fnv(samples: &[u16]) -> u64 {
    let mut h = 0xcbf29ce484222325u64;
    for s in samples {
        for b in s.to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
    }
    h
}

#[test]
fn streams_equal_libjpeg_and_charls() {
    for &(name, w, h, nc, sum, hash) in STREAMS {
        let data = read(name);
        let hd = read_header(&data).unwrap();
        assert_eq!((hd.width, hd.height, hd.components), (w, h, nc), "{name}");
        let img = decode(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(img.samples.len(), (w * h) as usize * nc as usize, "{name}");
        let s: u64 = img.samples.iter().map(|&v| v as u64).sum();
        assert_eq!((s, fnv(&img.samples)), (sum, hash), "{name}");
    }
}

/// The SOF55 segment's end in a stream (LSE segments go after it).
fn after_sof(d: &[u8]) -> usize {
    let at = d.windows(2).position(|w| w == [0xFF, 0xF7]).unwrap();
    at + 2 + u16::from_be_bytes([d[at + 2], d[at + 3]]) as usize
}

#[test]
fn lse_preset_parameters_are_used() {
    let data = read("MR_small_jpeg_ls_lossless.jls");
    let plain = decode(&data).unwrap().samples;
    let with = |t1: u16| {
        // LSE id 1: MAXVAL, T1, T2, T3, RESET; the defaults of T.87 C.2.4.1.1.1 for P = 16,
        // NEAR = 0 are 65535, 18, 67, 276, 64
        let mut lse = vec![0xFF, 0xF8, 0x00, 0x0D, 0x01];
        for v in [65535u16, t1, 67, 276, 64] {
            lse.extend_from_slice(&v.to_be_bytes());
        }
        // just before the scan, after the stream's own LSE segment
        let at = data.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let mut d = data[..at].to_vec();
        d.extend_from_slice(&lse);
        d.extend_from_slice(&data[at..]);
        decode(&d)
    };
    // explicit defaults decode exactly as implicit ones
    assert_eq!(with(18).unwrap().samples, plain);
    // other thresholds change the context model: other samples or an error
    assert!(with(3).map_or(true, |i| i.samples != plain));
}

#[test]
fn truncated_streams_fail_cleanly() {
    for &(name, ..) in STREAMS {
        let data = read(name);
        for cut in (0..data.len() - 2).step_by(7) {
            match decode(&data[..cut]) {
                Err(Error::Truncated(_) | Error::Corrupt(_)) => {}
                other => panic!("{name} cut at {cut}: {other:?}"),
            }
        }
    }
}

#[test]
fn garbled_streams_never_panic() {
    let data = read("b8_flat_c3_i2_n0_33x77.jls");
    let mut x = 0x1234_5678u32;
    for _ in 0..2000 {
        let mut d = data.clone();
        for _ in 0..3 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let i = 2 + x as usize % (d.len() - 2);
            d[i] = (x >> 8) as u8;
        }
        if let Ok(img) = decode(&d) {
            assert_eq!(
                img.samples.len(),
                img.width as usize * img.height as usize * img.components as usize
            );
        }
    }
}

#[test]
fn restart_interval_without_markers_is_an_error() {
    let data = read("b10_smooth_c1_iNone_n3_13x39.jls");
    let at = after_sof(&data);
    let mut d = data[..at].to_vec();
    d.extend_from_slice(&[0xFF, 0xDD, 0x00, 0x04, 0x00, 0x02]); // DRI: restart every 2 lines
    d.extend_from_slice(&data[at..]);
    assert!(matches!(
        decode(&d),
        Err(Error::Corrupt(_) | Error::Truncated(_))
    ));
}

#[test]
fn not_jpeg_ls() {
    assert!(matches!(decode(b"GIF89a"), Err(Error::Corrupt(_))));
    // a baseline JPEG frame header
    let d = [
        0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 8, 0, 1, 0, 1, 1, 1, 0x11, 0,
    ];
    assert!(matches!(decode(&d), Err(Error::Unsupported(_))));
}
