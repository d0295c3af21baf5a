//! Hostile inputs built in code from the real files in tests/data (issue #14): truncations,
//! byte flips, header tampering, codec fragments that disagree with the header, deep nesting,
//! absurd element lengths, gzip bombs and bit flips, FIFOs and symbolic-link loops. Each must
//! give an error naming the file (or, for harmless flips, load) — never a panic, an abort, a
//! hang or a large allocation.

use artefact_io::{load_all, load_volume, load_volume_with, IoErrorKind, LoadOptions};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data")).join(rel)
}

/// A small budget so that the tests stay light whatever the machine.
fn small() -> LoadOptions {
    LoadOptions {
        max_bytes: 64 << 20,
        ..LoadOptions::default()
    }
}

/// Load must fail with an error naming the file.
fn refused(path: &Path) -> artefact_io::IoError {
    let e = load_volume_with(path, &small()).expect_err(&format!("{} must fail", path.display()));
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(
        e.to_string().contains(&*name),
        "error does not name the file: {e}"
    );
    e
}

/// Load may succeed or fail; failures must name the file.
fn survives(path: &Path) {
    if let Err(e) = load_volume_with(path, &small()) {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(
            e.to_string().contains(&*name),
            "error does not name the file: {e}"
        );
    }
}

fn find(bytes: &[u8], pat: &[u8]) -> usize {
    bytes
        .windows(pat.len())
        .position(|w| w == pat)
        .expect("pattern present")
}

/// Patch a US element (explicit VR little endian).
fn patch_us(bytes: &mut [u8], group: u16, elem: u16, value: u16) {
    let mut pat = Vec::new();
    pat.extend_from_slice(&group.to_le_bytes());
    pat.extend_from_slice(&elem.to_le_bytes());
    pat.extend_from_slice(b"US");
    pat.extend_from_slice(&2u16.to_le_bytes());
    let at = find(bytes, &pat);
    bytes[at + 8..at + 10].copy_from_slice(&value.to_le_bytes());
}

/// Peak resident memory of this process so far (Linux), in bytes.
fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(l.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

#[test]
fn dicom_truncated_at_many_offsets_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "MR_small.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_implicit.dcm",
        "MR_small_bigendian.dcm",
        "JPEG-lossy.dcm",
    ] {
        let good = std::fs::read(data(&format!("dicom/{name}"))).unwrap();
        for cut in (0..good.len() - 1).step_by(61) {
            let p = dir.path().join(format!("cut{cut}_{name}"));
            std::fs::write(&p, &good[..cut]).unwrap();
            refused(&p);
        }
    }
}

#[test]
fn dicom_byte_flips_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "MR_small.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_implicit.dcm",
    ] {
        let good = std::fs::read(data(&format!("dicom/{name}"))).unwrap();
        // every byte of the header region and a stride through the pixel data
        let positions = (128..good.len().min(1200)).chain((1200..good.len()).step_by(97));
        for at in positions {
            for x in [0xFFu8, 0x80] {
                let mut b = good.clone();
                b[at] ^= x;
                let p = dir.path().join(format!("flip{at}_{x}_{name}"));
                std::fs::write(&p, &b).unwrap();
                if std::env::var_os("HOSTILE_TRACE").is_some() {
                    eprintln!("{}", p.display());
                }
                survives(&p);
                std::fs::remove_file(&p).unwrap();
            }
        }
    }
}

#[test]
fn rle_with_65535_rows_or_truncated_fragment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(data("dicom/MR_small_RLE.dcm")).unwrap();
    let mut b = good.clone();
    patch_us(&mut b, 0x0028, 0x0010, 0xFFFF);
    patch_us(&mut b, 0x0028, 0x0011, 0xFFFF);
    let p = dir.path().join("rle_65535.dcm");
    std::fs::write(&p, &b).unwrap();
    refused(&p);
    let mut b = good.clone();
    patch_us(&mut b, 0x0028, 0x0010, 0xFFFF);
    let p = dir.path().join("rle_rows_65535.dcm");
    std::fs::write(&p, &b).unwrap();
    refused(&p);
    // segment count tampered: 2^32 − 1 segments announced
    let at = find(&good, &[0xFE, 0xFF, 0x00, 0xE0]);
    // basic offset table item, then the first fragment item: its header follows
    let len0 = u32::from_le_bytes(good[at + 4..at + 8].try_into().unwrap()) as usize;
    let frag = at + 8 + len0 + 8;
    let mut b = good.clone();
    b[frag..frag + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let p = dir.path().join("rle_segments.dcm");
    std::fs::write(&p, &b).unwrap();
    let e = refused(&p);
    assert!(e.to_string().contains("segments"), "{e}");
    // a segment offset beyond the fragment
    let mut b = good;
    b[frag + 4..frag + 8].copy_from_slice(&0x7FFF_FFF0u32.to_le_bytes());
    let p = dir.path().join("rle_offset.dcm");
    std::fs::write(&p, &b).unwrap();
    refused(&p);
}

#[test]
fn jpeg2000_with_tiny_rows_or_zero_samples_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(data("dicom/MR_small_jp2klossless.dcm")).unwrap();
    for (i, v) in [1u16, 2].into_iter().enumerate() {
        let mut b = good.clone();
        patch_us(&mut b, 0x0028, 0x0010, v);
        patch_us(&mut b, 0x0028, 0x0011, v);
        let p = dir.path().join(format!("j2k_rows{i}.dcm"));
        std::fs::write(&p, &b).unwrap();
        refused(&p);
    }
    let mut b = good.clone();
    patch_us(&mut b, 0x0028, 0x0002, 0);
    let p = dir.path().join("j2k_spp0.dcm");
    std::fs::write(&p, &b).unwrap();
    let e = refused(&p);
    assert!(e.to_string().contains("(0028,0002)"), "{e}");
}

#[test]
fn jpeg_frame_header_larger_than_the_image_is_refused_before_decoding() {
    // jpeg-decoder allocates from the SOF dimensions: 65535 × 65535 would ask for gigabytes
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(data("dicom/JPEG-lossy.dcm")).unwrap();
    // the first SOF marker (baseline C0 or extended C1) after the pixel data's SOI
    let soi = find(&good, &[0xFF, 0xD8, 0xFF]);
    let sof = soi
        + good[soi..]
            .windows(2)
            .position(|w| w[0] == 0xFF && (w[1] == 0xC0 || w[1] == 0xC1))
            .expect("SOF marker");
    for (name, at) in [("lines", sof + 5), ("samples", sof + 7)] {
        let mut b = good.clone();
        b[at] = 0xFF;
        b[at + 1] = 0xFF;
        let p = dir.path().join(format!("jpeg_sof_{name}.dcm"));
        std::fs::write(&p, &b).unwrap();
        let e = refused(&p);
        assert!(e.to_string().contains("JPEG code stream"), "{e}");
    }
    let mut b = good.clone();
    b[sof + 9] = 4; // four components where the header says one
    let p = dir.path().join("jpeg_sof_components.dcm");
    std::fs::write(&p, &b).unwrap();
    let e = refused(&p);
    assert!(e.to_string().contains("4 components"), "{e}");
}

#[test]
fn meta_group_length_that_shifts_the_data_set_is_followed_like_dicom_rs() {
    // found by cargo-fuzz (dicom target, 30 min): the file meta group length says 196 bytes,
    // the 0002 elements take 148; dicom-rs reads on to 196 (12-byte headers for the unknown
    // VR `\0\0`), so its data set starts 4 bytes later than at the first non-0002 tag, where
    // an implicit-VR (0000,0000) declares 0xFFFFFF00 bytes: dicom-rs reserved 4 GB for it
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/dicom"
    ))
    .join("meta_group_length_4gb_value.dcm");
    let e = refused(&p);
    assert!(e.to_string().contains("declares 4294967040 bytes"), "{e}");
}

/// Fuzz finding (session 9, cargo-fuzz round 2): a private SS value of 547 bytes. dicom-rs
/// 0.10 reads it as 273 numbers and leaves one byte in the stream, so its next element
/// starts one byte before the pre-scan's; 750 bytes later an element of 0xFFFFFF00 bytes lay
/// on dicom-rs's path only, and it reserved and zeroed 4 GB (RSS 4.2 GB). The pre-scan now
/// follows dicom-rs through odd binary values.
#[test]
fn a_binary_value_of_odd_length_does_not_hide_an_element_from_the_prescan() {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/dicom"
    ))
    .join("odd_length_binary_value_4gb.dcm");
    let e = refused(&p);
    assert!(
        e.to_string()
            .contains("element (0000,0000) at byte 4080 declares 4294967040 bytes"),
        "{e}"
    );
}

#[test]
fn header_tampering_is_refused_naming_the_tag() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(data("dicom/MR_small.dcm")).unwrap();
    // Bits Stored 0 and 17 (> Bits Allocated 16)
    for v in [0u16, 17] {
        let mut b = good.clone();
        patch_us(&mut b, 0x0028, 0x0101, v);
        let p = dir.path().join(format!("bits_stored_{v}.dcm"));
        std::fs::write(&p, &b).unwrap();
        let e = refused(&p);
        assert!(e.to_string().contains("(0028,0101)"), "{e}");
    }
    // Rows 1 on full-size pixel data: the lengths disagree
    let mut b = good.clone();
    patch_us(&mut b, 0x0028, 0x0010, 1);
    let p = dir.path().join("rows1.dcm");
    std::fs::write(&p, &b).unwrap();
    let e = refused(&p);
    assert!(e.to_string().contains("(7FE0,0010)"), "{e}");
    // Pixel Spacing 1e30 (same length as the stored value, padded)
    let at = find(&good, &[0x28, 0x00, 0x30, 0x00, b'D', b'S']);
    let len = u16::from_le_bytes([good[at + 6], good[at + 7]]) as usize;
    let mut v = b"1e30\\1e30".to_vec();
    v.resize(len, b' ');
    let mut b = good.clone();
    b[at + 8..at + 8 + len].copy_from_slice(&v[..len]);
    let p = dir.path().join("spacing.dcm");
    std::fs::write(&p, &b).unwrap();
    let e = refused(&p);
    assert!(e.to_string().contains("(0028,0030)"), "{e}");
}

#[test]
fn rescale_slope_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(data("dicom/CT_small.dcm")).unwrap();
    let at = find(&good, &[0x28, 0x00, 0x53, 0x10, b'D', b'S']);
    let len = u16::from_le_bytes([good[at + 6], good[at + 7]]) as usize;
    let mut b = good;
    for k in 0..len {
        b[at + 8 + k] = if k == 0 { b'0' } else { b' ' };
    }
    let p = dir.path().join("slope0.dcm");
    std::fs::write(&p, &b).unwrap();
    let e = refused(&p);
    assert!(e.to_string().contains("(0028,1053)"), "{e}");
}

/// Explicit VR little endian file: preamble, meta group, then `body`.
fn dicom_file(body: &[u8]) -> Vec<u8> {
    fn el(out: &mut Vec<u8>, g: u16, e: u16, vr: &[u8; 2], v: &[u8]) {
        out.extend_from_slice(&g.to_le_bytes());
        out.extend_from_slice(&e.to_le_bytes());
        out.extend_from_slice(vr);
        if vr == b"OB" {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&(v.len() as u16).to_le_bytes());
        }
        out.extend_from_slice(v);
    }
    let mut meta = Vec::new();
    el(&mut meta, 2, 1, b"OB", &[0, 1]);
    el(&mut meta, 2, 2, b"UI", b"1.2.840.10008.5.1.4.1.1.4\0");
    el(&mut meta, 2, 3, b"UI", b"1.2.3.4\0");
    el(&mut meta, 2, 0x10, b"UI", b"1.2.840.10008.1.2.1\0");
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    el(&mut out, 2, 0, b"UL", &(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&meta);
    out.extend_from_slice(body);
    out
}

#[test]
fn twenty_thousand_nested_sequences_are_refused_without_overflowing_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let mut body = Vec::new();
    for _ in 0..n {
        body.extend_from_slice(&[0x40, 0x00, 0x60, 0x02, b'S', b'Q', 0, 0]);
        body.extend_from_slice(&u32::MAX.to_le_bytes());
        body.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
        body.extend_from_slice(&u32::MAX.to_le_bytes());
    }
    for _ in 0..n {
        body.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        body.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    }
    let p = dir.path().join("nested.dcm");
    std::fs::write(&p, dicom_file(&body)).unwrap();
    let e = refused(&p);
    assert!(e.to_string().contains("nested"), "{e}");
    // and inside a directory walk
    let all = load_all(dir.path(), &small());
    assert_eq!(all.len(), 1);
    assert!(all[0].1.is_err());
}

#[test]
fn implicit_vr_length_2_31_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(data("dicom/MR_small_implicit.dcm")).unwrap();
    let at = find(&good, &[0xE0, 0x7F, 0x10, 0x00]);
    let mut b = good.clone();
    b[at + 4..at + 8].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    let p = dir.path().join("implicit_len.dcm");
    std::fs::write(&p, &b).unwrap();
    let e = refused(&p);
    assert!(e.to_string().contains("2147483647"), "{e}");
    // an earlier element (Rows) given the same length
    let at = find(&good, &[0x28, 0x00, 0x10, 0x00, 0x02, 0x00, 0x00, 0x00]);
    let mut b = good;
    b[at + 4..at + 8].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    let p = dir.path().join("implicit_rows_len.dcm");
    std::fs::write(&p, &b).unwrap();
    refused(&p);
}

#[test]
fn nifti_truncations_and_header_flips() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(data("nifti/anatomical.nii")).unwrap();
    for cut in (0..good.len() - 1).step_by(997) {
        let p = dir.path().join(format!("cut{cut}.nii"));
        std::fs::write(&p, &good[..cut]).unwrap();
        if cut < 4 {
            // too short to recognise: not an image at all
            assert!(load_volume(&p).is_err());
        } else {
            refused(&p);
        }
    }
    for at in 0..352 {
        for x in [0xFFu8, 0x01] {
            let mut b = good.clone();
            b[at] ^= x;
            let p = dir.path().join(format!("flip{at}_{x}.nii"));
            std::fs::write(&p, &b).unwrap();
            survives(&p);
            std::fs::remove_file(&p).unwrap();
        }
    }
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A NIfTI-1 header (uint8) with the given dims and vox_offset 352.
fn nifti_header(dims: [i16; 3]) -> Vec<u8> {
    let mut h = vec![0u8; 352];
    h[0..4].copy_from_slice(&348i32.to_le_bytes());
    let d = [3i16, dims[0], dims[1], dims[2], 1, 1, 1, 1];
    for (i, v) in d.iter().enumerate() {
        h[40 + 2 * i..42 + 2 * i].copy_from_slice(&v.to_le_bytes());
    }
    h[70..72].copy_from_slice(&2i16.to_le_bytes()); // uint8
    h[72..74].copy_from_slice(&8i16.to_le_bytes());
    for i in 0..4 {
        h[76 + 4 * i..80 + 4 * i].copy_from_slice(&1f32.to_le_bytes());
    }
    h[108..112].copy_from_slice(&352f32.to_le_bytes());
    h[344..348].copy_from_slice(b"n+1\0");
    h
}

#[test]
fn gzip_bombs_are_refused_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    // 1: header announcing 32767×32767×8 voxels: over the budget before inflating anything
    let mut f = gz(&nifti_header([32767, 32767, 8]));
    let zeros = {
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(&vec![0u8; 8 << 20]).unwrap();
        e.finish().unwrap() // one 8 MiB member, about 8 kB compressed
    };
    for _ in 0..4 {
        f.extend_from_slice(&zeros);
    }
    let p = dir.path().join("bomb_header.nii.gz");
    std::fs::write(&p, &f).unwrap();
    let e = refused(&p);
    assert!(matches!(e.kind, IoErrorKind::TooLarge(_)), "{e}");
    // 2: a small image followed by 2 GiB of zeros (concatenated gzip members, ~2 MB on disk)
    let mut f = gz(&nifti_header([16, 16, 16]));
    f.extend_from_slice(&gz(&[0u8; 4096]));
    for _ in 0..256 {
        f.extend_from_slice(&zeros);
    }
    let p = dir.path().join("bomb_tail.nii.gz");
    std::fs::write(&p, &f).unwrap();
    assert!(f.len() < 8 << 20, "bomb is {} bytes", f.len());
    let e = refused(&p);
    assert!(e.to_string().contains("more than"), "{e}");
    if let Some(rss) = peak_rss() {
        assert!(rss < 1 << 30, "peak RSS {rss} bytes");
    }
}

#[test]
fn bit_flipped_and_truncated_gzip_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(data("nifti/example_nifti2.nii.gz")).unwrap();
    assert!(load_volume(&data("nifti/example_nifti2.nii.gz")).is_ok());
    let n = good.len();
    // flips in the deflate data and in the CRC-32 / ISIZE trailer
    for at in [n / 3, n / 2, 2 * n / 3, n - 8, n - 6, n - 3, n - 1] {
        for bit in [0x01u8, 0x10, 0x80] {
            let mut b = good.clone();
            b[at] ^= bit;
            let p = dir.path().join(format!("flip{at}_{bit}.nii.gz"));
            std::fs::write(&p, &b).unwrap();
            refused(&p);
        }
    }
    for cut in [20, n / 4, n / 2, n - 9, n - 4, n - 1] {
        let p = dir.path().join(format!("cut{cut}.nii.gz"));
        std::fs::write(&p, &good[..cut]).unwrap();
        refused(&p);
    }
}

#[cfg(unix)]
#[test]
fn fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pipe.dcm");
    let ok = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("mkfifo unavailable; FIFO test skipped");
        return;
    }
    let e = refused(&p);
    assert!(e.to_string().contains("FIFO"), "{e}");
    let all = load_all(dir.path(), &small());
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].1.is_err());
}

#[cfg(unix)]
#[test]
fn symlink_loops_end_and_list_each_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::copy(data("nifti/anatomical.nii"), root.join("a.nii")).unwrap();
    std::os::unix::fs::symlink(".", root.join("self1")).unwrap();
    std::os::unix::fs::symlink(".", root.join("self2")).unwrap();
    std::os::unix::fs::symlink(&root, root.join("up")).unwrap();
    std::os::unix::fs::symlink("a.nii", root.join("b.nii")).unwrap();
    let sub = root.join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink("..", sub.join("parent")).unwrap();
    let all = load_all(&root, &small());
    assert_eq!(
        all.len(),
        1,
        "{:?}",
        all.iter().map(|a| &a.0).collect::<Vec<_>>()
    );
    assert!(all[0].1.is_ok());
}

/// `/proc/self/task/<tid>/root` links to `/`: a walk that followed every directory link
/// would search the whole machine. Links out of the searched tree are listed, not walked.
#[test]
fn directory_links_out_of_the_tree_are_listed_not_walked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let outside = dir.path().join("outside");
    std::fs::create_dir(&root).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::copy(data("nifti/anatomical.nii"), root.join("a.nii")).unwrap();
    std::fs::copy(data("nifti/anatomical.nii"), outside.join("b.nii")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("elsewhere")).unwrap();
    std::os::unix::fs::symlink("/", root.join("slash")).unwrap();
    let all = load_all(&root, &small());
    let names: Vec<String> = all
        .iter()
        .map(|(p, r)| format!("{} {}", p.display(), r.is_ok()))
        .collect();
    assert_eq!(all.len(), 3, "{names:?}");
    assert!(all[0].1.is_ok() && all[0].0.ends_with("a.nii"), "{names:?}");
    for (p, r) in &all[1..] {
        let e = r.as_ref().unwrap_err().to_string();
        assert!(
            e.contains("outside the searched tree") && e.contains(&*p.to_string_lossy()),
            "{e}"
        );
    }
    // /proc/self/task/<tid>/{root,cwd} are such links: listed, never walked into
    let proc_rows = load_all(Path::new("/proc/self/task"), &small());
    assert!(
        proc_rows.iter().any(|(p, r)| p.ends_with("root")
            && r.as_ref()
                .is_err_and(|e| e.to_string().contains("outside the searched tree"))),
        "{:?}",
        proc_rows.iter().map(|r| &r.0).collect::<Vec<_>>()
    );
}

#[test]
fn oversized_png_is_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    // a 30000×30000 grey PNG: header only plus a tiny (broken) data stream
    let p = dir.path().join("huge.png");
    let mut png = Vec::new();
    png.extend_from_slice(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]);
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(b"IHDR");
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    let crc = crc32(&ihdr);
    png.extend_from_slice(&crc.to_be_bytes());
    for (kind, body) in [
        (&b"IDAT"[..], &[0x78u8, 0x9c, 0x03, 0x00][..]),
        (b"IEND", &[]),
    ] {
        let mut c = kind.to_vec();
        c.extend_from_slice(body);
        png.extend_from_slice(&(body.len() as u32).to_be_bytes());
        png.extend_from_slice(&c);
        png.extend_from_slice(&crc32(&c).to_be_bytes());
    }
    std::fs::write(&p, &png).unwrap();
    let e = refused(&p);
    assert!(matches!(e.kind, IoErrorKind::TooLarge(_)), "{e}");
}

fn crc32(b: &[u8]) -> u32 {
    let mut c = !0u32;
    for &x in b {
        c ^= x as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}
