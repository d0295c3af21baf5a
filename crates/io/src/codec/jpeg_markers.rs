//! Is a JPEG stream whole? A walk over its marker segments (ITU-T T.81 Annex B): from SOI,
//! every segment with a length is skipped by its length, the entropy-coded data after each SOS
//! is skipped up to the next marker (`FF` followed by anything but a stuffed `00`, a restart
//! marker `D0`–`D7` or fill `FF`), and the stream is whole when EOI (`FF D9`) is reached.
//!
//! The decoder behind `image` fills what a truncated file lacks with grey and reports no error,
//! so a cut-off download would otherwise become a silently wrong image. Bytes after EOI
//! (trailers some cameras append) are allowed; bytes between segments that are not a marker
//! are skipped, as libjpeg does with a warning.

/// Why a JPEG stream is not whole.
#[derive(Debug, PartialEq)]
pub(crate) enum Defect {
    /// The data stops before the end-of-image marker.
    Truncated(String),
    /// A marker segment is malformed.
    Invalid(String),
}

/// `Ok` when the stream reaches its end-of-image marker; otherwise the reason.
pub(crate) fn check_complete(b: &[u8]) -> Result<(), Defect> {
    if b.len() < 2 || b[0] != 0xFF || b[1] != 0xD8 {
        return Err(Defect::Invalid("no start-of-image marker".into()));
    }
    let ends_early = |what: &str| {
        Err(Defect::Truncated(format!(
            "the file ends inside {what}, before the end-of-image marker ({} bytes)",
            b.len()
        )))
    };
    let mut pos = 2;
    let mut scans = 0usize;
    loop {
        // the next marker: skip anything that is not FF, then fill bytes
        while pos < b.len() && b[pos] != 0xFF {
            pos += 1;
        }
        while pos + 1 < b.len() && b[pos + 1] == 0xFF {
            pos += 1;
        }
        if pos + 1 >= b.len() {
            return ends_early(if scans > 0 {
                "the compressed image data"
            } else {
                "the header"
            });
        }
        let m = b[pos + 1];
        match m {
            0xD9 => return Ok(()),
            0x01 | 0xD0..=0xD7 => pos += 2,
            0x00 => pos += 2, // a stray stuffed byte between segments
            _ => {
                if pos + 4 > b.len() {
                    return ends_early("a marker segment");
                }
                let len = u16::from_be_bytes([b[pos + 2], b[pos + 3]]) as usize;
                if len < 2 {
                    return Err(Defect::Invalid(format!(
                        "marker FF{m:02X} at byte {pos} has an impossible length {len}"
                    )));
                }
                pos += 2 + len;
                if pos > b.len() {
                    return ends_early("a marker segment");
                }
                if m == 0xDA {
                    scans += 1;
                    // entropy-coded data up to the next real marker
                    loop {
                        if pos + 1 >= b.len() {
                            return ends_early("the compressed image data");
                        }
                        if b[pos] == 0xFF {
                            let n = b[pos + 1];
                            if n != 0x00 && n != 0xFF && !(0xD0..=0xD7).contains(&n) {
                                break;
                            }
                        }
                        pos += 1;
                    }
                }
            }
        }
    }
}

/// What the header of a JPEG stream (its segments before the first scan) says about its
/// colour coding.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Declared {
    /// A JFIF APP0 segment (which means YCbCr for three components).
    pub jfif: bool,
    /// The transform byte of a complete Adobe APP14 segment (0: none, 1: YCbCr, 2: YCCK).
    pub adobe_transform: Option<u8>,
    /// The component identifiers of the frame header.
    pub ids: Option<Vec<u8>>,
}

/// Read [`Declared`] from the segments between SOI and the first SOS (fill bytes and markers
/// without a length skipped; a malformed length ends the walk with what was found).
pub(crate) fn declared(b: &[u8]) -> Declared {
    let mut out = Declared::default();
    let mut pos = 2;
    while pos + 4 <= b.len() && b[pos] == 0xFF {
        let m = b[pos + 1];
        if m == 0xFF {
            pos += 1;
            continue;
        }
        if matches!(m, 0x01 | 0xD0..=0xD8) {
            pos += 2;
            continue;
        }
        if m == 0xDA || m == 0xD9 {
            break;
        }
        let len = u16::from_be_bytes([b[pos + 2], b[pos + 3]]) as usize;
        let body = &b[(pos + 4).min(b.len())..(pos + 2 + len).min(b.len())];
        match m {
            0xE0 if body.starts_with(b"JFIF\0") => out.jfif = true,
            0xEE if body.starts_with(b"Adobe") && body.len() >= 12 => {
                out.adobe_transform = Some(body[11])
            }
            0xC0..=0xCF if !matches!(m, 0xC4 | 0xC8 | 0xCC) && body.len() >= 6 => {
                let n = body[5] as usize;
                out.ids = Some(body[6..].chunks_exact(3).take(n).map(|c| c[0]).collect());
            }
            _ => {}
        }
        pos += 2 + len.max(2);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{check_complete, Defect};

    /// SOI, an APP1 holding a thumbnail with its own SOI/EOI, a DQT, SOS with entropy data
    /// holding a stuffed FF00 and a restart marker, EOI.
    fn stream() -> Vec<u8> {
        let mut s = vec![0xFF, 0xD8];
        let app1 = [b"Exif\0\0".as_slice(), &[0xFF, 0xD8, 1, 2, 0xFF, 0xD9]].concat();
        s.extend_from_slice(&[0xFF, 0xE1]);
        s.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(&app1);
        s.extend_from_slice(&[0xFF, 0xDB, 0, 4, 7, 7]);
        s.extend_from_slice(&[0xFF, 0xDA, 0, 3, 1]);
        s.extend_from_slice(&[9, 0xFF, 0x00, 8, 0xFF, 0xD0, 7, 0xFF, 0xFF, 0xD1, 6]);
        s.extend_from_slice(&[0xFF, 0xD9]);
        s
    }

    #[test]
    fn whole_stream_and_trailers_pass() {
        let s = stream();
        assert_eq!(check_complete(&s), Ok(()));
        let mut t = s.clone();
        t.extend_from_slice(b"camera trailer \xFF\x00");
        assert_eq!(check_complete(&t), Ok(()));
    }

    /// Every cut short of the final EOI is refused, including cuts right after the
    /// thumbnail's EOI and inside the entropy-coded data after a stuffed byte.
    #[test]
    fn every_truncation_is_refused() {
        let s = stream();
        for cut in 0..s.len() {
            assert!(check_complete(&s[..cut]).is_err(), "cut at {cut} accepted");
        }
        let Err(Defect::Truncated(e)) = check_complete(&s[..s.len() - 4]) else {
            panic!("not reported as truncated")
        };
        assert!(e.contains("compressed image data"), "{e}");
    }

    #[test]
    fn impossible_length_is_refused() {
        let s = [0xFF, 0xD8, 0xFF, 0xDB, 0, 1, 0xFF, 0xD9];
        let Err(Defect::Invalid(e)) = check_complete(&s) else {
            panic!("not reported as invalid")
        };
        assert!(e.contains("impossible length"), "{e}");
    }

    #[test]
    fn declared_colour_coding_is_read_from_the_header() {
        use super::{declared, Declared};
        let seg = |m: u8, body: &[u8]| {
            let mut s = vec![0xFF, m];
            s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
            s.extend_from_slice(body);
            s
        };
        let sof = seg(
            0xC0,
            &[
                8, 0, 16, 0, 16, 3, b'R', 0x11, 0, b'G', 0x11, 0, b'B', 0x11, 0,
            ],
        );
        let adobe = seg(0xEE, b"Adobe\0\x64\0\0\0\0\x01");
        let jfif = seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let s = [&[0xFF, 0xD8, 0xFF][..], &jfif, &adobe, &sof, &[0xFF, 0xDA]].concat();
        assert_eq!(
            declared(&s),
            Declared {
                jfif: true,
                adobe_transform: Some(1),
                ids: Some(b"RGB".to_vec()),
            }
        );
        // a cut Adobe segment (no transform byte) and nothing after the scan counts
        let cut = seg(0xEE, b"Adobe\0\x64");
        let s = [&[0xFF, 0xD8][..], &cut, &[0xFF, 0xDA, 0, 2], &jfif].concat();
        assert_eq!(declared(&s), Declared::default());
    }
}
