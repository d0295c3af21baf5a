//! Guards run before a DICOM file reaches dicom-rs, so that hostile files give an error
//! naming the file instead of a panic, an allocation abort or a stack overflow.
//!
//! - [`prescan`]: an iterative walk over the raw data set (explicit/implicit VR, either byte
//!   order; deflated data inflated with a byte cap) that refuses sequences nested deeper than
//!   [`MAX_SEQUENCE_DEPTH`] (dicom-rs parses sequences recursively: 20,000 nested sequences
//!   overflow the stack) and any element or item whose declared length runs past the end of
//!   the file (an implicit-VR length of 2^31 − 1 would otherwise be allocated). It reads
//!   headers only and seeks over values, so its memory is constant.
//! - [`check_pixels`]: header validation before decoding pixels: Samples per Pixel 1 or 3,
//!   Bits Stored in [1, Bits Allocated], Rescale Slope finite and non-zero, spacing positive
//!   and below [`MAX_SPACING_MM`], the decoded size within the memory budget, native Pixel Data
//!   of the announced length (trailing padding up to 5 % tolerated), RLE fragments whose header and PackBits segments hold
//!   what the header announces, JPEG 2000 code streams whose SIZ marker agrees with Rows,
//!   Columns and Samples per Pixel (dicom-transfer-syntax-registry 0.10.1 indexes out of bounds
//!   otherwise: `rle_lossless.rs:119`, `jpeg2k.rs:90`).
//!   JPEG code streams are checked the same way against their frame header (SOF).
//! - [`no_panic`]: runs a decoder call under `catch_unwind`, turning a panic into an error
//!   naming the file (a last line of defence for decoder bugs the checks above do not know).
//!
//! - [`time_boxed`]: runs a whole load on a thread with a time budget; a load that overruns
//!   it is abandoned and reported, so one file that decodes forever cannot stop a build.
//!
//! Every error names the file and the tag or structure concerned.

use crate::IoError;
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::{tags, StandardDataDictionary};
use dicom_object::{DefaultDicomObject, InMemDicomObject};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Deepest nesting of sequences accepted (real objects use fewer than 10 levels).
pub const MAX_SEQUENCE_DEPTH: usize = 64;

/// Largest pixel spacing or slice spacing accepted, in mm (10 m).
pub const MAX_SPACING_MM: f64 = 1e4;

const UNDEFINED: u32 = 0xFFFF_FFFF;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sequence,
    Item,
    /// Encapsulated pixel data: items are fragments, skipped whole.
    Fragments,
}

struct Open {
    kind: Kind,
    end: Option<u64>,
}

struct Walker<R> {
    r: R,
    pos: u64,
    len: u64,
    explicit: bool,
    big: bool,
}

impl<R: Read + Seek> Walker<R> {
    fn u16(&self, b: [u8; 2]) -> u16 {
        if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }
    fn u32(&self, b: [u8; 4]) -> u32 {
        if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }
    fn read<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).ok()?;
        self.pos += N as u64;
        Some(b)
    }
    fn skip(&mut self, n: u64) -> Option<()> {
        self.r.seek(SeekFrom::Current(n as i64)).ok()?;
        self.pos += n;
        Some(())
    }
}

/// Walk one data set; `stop_at_group_end` ends the walk at the first element whose group
/// differs (the file meta group). Returns the transfer syntax UID when it saw (0002,0010).
fn walk_dataset<R: Read + Seek>(
    path: &Path,
    w: &mut Walker<R>,
    meta_only: bool,
) -> Result<Option<String>, IoError> {
    let mut stack: Vec<Open> = Vec::new();
    let mut ts = None;
    loop {
        while let Some(top) = stack.last() {
            match top.end {
                Some(end) if w.pos >= end => {
                    stack.pop();
                }
                _ => break,
            }
        }
        if w.pos + 8 > w.len {
            // end of data (or trailing bytes too short for an element): dicom-rs decides
            return Ok(ts);
        }
        let start = w.pos;
        let Some(head) = w.read::<4>() else {
            return Ok(ts);
        };
        let group = w.u16([head[0], head[1]]);
        let elem = w.u16([head[2], head[3]]);
        if meta_only && group != 0x0002 {
            w.r.seek(SeekFrom::Start(start))
                .map_err(|e| IoError::os(path, e))?;
            w.pos = start;
            return Ok(ts);
        }
        let in_fragments = stack.last().is_some_and(|o| o.kind == Kind::Fragments);
        if group == 0xFFFE {
            let Some(lb) = w.read::<4>() else {
                return Ok(ts);
            };
            let len = w.u32(lb);
            match elem {
                0xE000 => {
                    if len != UNDEFINED && len as u64 > w.len - w.pos {
                        return Err(too_long(path, start, "item", len as u64, w.len - w.pos));
                    }
                    if in_fragments {
                        if len == UNDEFINED {
                            return Err(IoError::invalid(
                                path,
                                format!("pixel data fragment at byte {start} has undefined length"),
                            ));
                        }
                        w.skip(len as u64).ok_or_else(|| eof(path))?;
                    } else {
                        let end = (len != UNDEFINED).then(|| w.pos + len as u64);
                        stack.push(Open {
                            kind: Kind::Item,
                            end,
                        });
                    }
                }
                _ => {
                    // item or sequence delimiter: close the innermost undefined-length container
                    if let Some(i) = stack.iter().rposition(|o| o.end.is_none()) {
                        stack.truncate(i);
                    }
                }
            }
            continue;
        }
        let (vr, len) = if w.explicit {
            let Some(vr) = w.read::<2>() else {
                return Ok(ts);
            };
            // as dicom-rs reads it: the VRs with a 16-bit length, every other (and any
            // unknown VR, read as UN) with 2 reserved bytes and a 32-bit length
            let long = !matches!(
                &vr,
                b"AE"
                    | b"AS"
                    | b"AT"
                    | b"CS"
                    | b"DA"
                    | b"DS"
                    | b"DT"
                    | b"FL"
                    | b"FD"
                    | b"IS"
                    | b"LO"
                    | b"LT"
                    | b"PN"
                    | b"SH"
                    | b"SL"
                    | b"SS"
                    | b"ST"
                    | b"TM"
                    | b"UI"
                    | b"UL"
                    | b"US"
            );
            let len = if long {
                let Some(_) = w.read::<2>() else {
                    return Ok(ts);
                };
                let Some(lb) = w.read::<4>() else {
                    return Ok(ts);
                };
                w.u32(lb)
            } else {
                let Some(lb) = w.read::<2>() else {
                    return Ok(ts);
                };
                w.u16(lb) as u32
            };
            (Some(vr), len)
        } else {
            let Some(lb) = w.read::<4>() else {
                return Ok(ts);
            };
            (None, w.u32(lb))
        };
        let tag = Tag(group, elem);
        if len == UNDEFINED {
            let kind = if tag == tags::PIXEL_DATA && stack.is_empty() {
                Kind::Fragments
            } else {
                Kind::Sequence
            };
            stack.push(Open { kind, end: None });
        } else {
            let remaining = w.len - w.pos;
            if len as u64 > remaining {
                return Err(too_long(path, start, &tag_name(tag), len as u64, remaining));
            }
            let is_seq = match vr {
                Some(v) => &v == b"SQ",
                None => {
                    // implicit VR: a value starting with an item tag is a sequence
                    len >= 8 && {
                        let b = w.read::<4>().ok_or_else(|| eof(path))?;
                        w.r.seek(SeekFrom::Current(-4))
                            .map_err(|e| IoError::os(path, e))?;
                        w.pos -= 4;
                        w.u16([b[0], b[1]]) == 0xFFFE && w.u16([b[2], b[3]]) == 0xE000
                    }
                }
            };
            if is_seq {
                stack.push(Open {
                    kind: Kind::Sequence,
                    end: Some(w.pos + len as u64),
                });
            } else if tag == Tag(0x0002, 0x0010) && len <= 128 {
                let mut b = vec![0u8; len as usize];
                w.r.read_exact(&mut b).map_err(|_| eof(path))?;
                w.pos += len as u64;
                ts = Some(
                    String::from_utf8_lossy(&b)
                        .trim_end_matches(['\0', ' '])
                        .to_string(),
                );
            } else {
                // dicom-rs reads a binary value of `len` bytes as ⌊len / size⌋ numbers and
                // leaves the rest of the value in the stream (parsed as the next element):
                // follow it, or a value this walk skipped whole could hide the element that
                // dicom-rs then reads (a fuzzed SS value of 547 bytes put a 4 GB length in
                // dicom-rs's path one byte beside this walk's)
                let vr = match vr {
                    Some(v) => VR::from_binary(v).unwrap_or(VR::UN),
                    None => implicit_vr(tag),
                };
                let unit = binary_unit(vr);
                w.skip(len as u64 - len as u64 % unit)
                    .ok_or_else(|| eof(path))?;
            }
        }
        let depth = stack.iter().filter(|o| o.kind == Kind::Sequence).count();
        if depth > MAX_SEQUENCE_DEPTH {
            return Err(IoError::invalid(
                path,
                format!(
                    "sequences nested more than {MAX_SEQUENCE_DEPTH} deep (at {} byte {start}); \
                     refused before parsing",
                    tag_name(tag)
                ),
            ));
        }
    }
}

/// The VR dicom-rs gives an element in an implicit-VR data set (its dictionary; OW for pixel
/// and overlay data; UN when unknown).
fn implicit_vr(tag: Tag) -> VR {
    if tag == tags::PIXEL_DATA || (tag.0 >> 8 == 0x60 && tag.1 == 0x3000) {
        return VR::OW;
    }
    StandardDataDictionary
        .by_tag(tag)
        .map(|e| e.vr().relaxed())
        .unwrap_or(VR::UN)
}

/// Bytes per number of a binary VR as dicom-rs 0.10 decodes it (1 for text and byte VRs).
fn binary_unit(vr: VR) -> u64 {
    match vr {
        VR::US | VR::SS | VR::OW => 2,
        VR::AT | VR::FL | VR::OF | VR::SL | VR::UL | VR::OL => 4,
        VR::FD | VR::OD | VR::SV | VR::UV | VR::OV => 8,
        _ => 1,
    }
}

fn tag_name(t: Tag) -> String {
    format!("element ({:04X},{:04X})", t.0, t.1)
}

fn too_long(path: &Path, at: u64, what: &str, len: u64, remaining: u64) -> IoError {
    IoError::truncated(
        path,
        format!("{what} at byte {at} declares {len} bytes but only {remaining} remain in the file"),
    )
}

fn eof(path: &Path) -> IoError {
    IoError::truncated(path, "DICOM data set ends inside an element")
}

/// Walk the file meta group the way dicom-rs reads it: when it starts with (0002,0000) UL,
/// element after element (explicit VR little endian, unknown VRs with a 32-bit length, elements
/// of any group) until the announced group length is consumed; the data set starts there,
/// wherever that is. Ending the meta group at the first non-0002 tag instead would let a
/// tampered group length put the data set walk out of step with dicom-rs's (a fuzzed 1 kB file
/// had dicom-rs allocate 4 GB for a value this walk never saw). Returns the transfer syntax.
fn walk_meta<R: Read + Seek>(path: &Path, w: &mut Walker<R>) -> Result<Option<String>, IoError> {
    let start = w.pos;
    let rewind = |w: &mut Walker<R>| -> Result<(), IoError> {
        w.r.seek(SeekFrom::Start(start))
            .map_err(|e| IoError::os(path, e))?;
        w.pos = start;
        Ok(())
    };
    let header = (w.read::<4>(), w.read::<2>(), w.read::<2>());
    let (Some(tag), Some(vr), Some(lb)) = header else {
        rewind(w)?;
        return walk_dataset(path, w, true);
    };
    if tag != [2, 0, 0, 0] || &vr != b"UL" || lb != [4, 0] {
        // no group length: dicom-rs refuses the file itself; the generic walk is enough
        rewind(w)?;
        return walk_dataset(path, w, true);
    }
    let Some(g) = w.read::<4>() else {
        return Ok(None);
    };
    let group_len = u32::from_le_bytes(g) as u64;
    let mut consumed = 0u64;
    let mut ts = None;
    while consumed < group_len {
        let at = w.pos;
        let (Some(head), Some(vr)) = (w.read::<4>(), w.read::<2>()) else {
            return Ok(ts); // dicom-rs reports the early end
        };
        let short = matches!(
            &vr,
            b"AE"
                | b"AS"
                | b"AT"
                | b"CS"
                | b"DA"
                | b"DS"
                | b"DT"
                | b"FL"
                | b"FD"
                | b"IS"
                | b"LO"
                | b"LT"
                | b"PN"
                | b"SH"
                | b"SL"
                | b"SS"
                | b"ST"
                | b"TM"
                | b"UI"
                | b"UL"
                | b"US"
        );
        let len = if short {
            let Some(lb) = w.read::<2>() else {
                return Ok(ts);
            };
            u16::from_le_bytes(lb) as u64
        } else {
            let (Some(_), Some(lb)) = (w.read::<2>(), w.read::<4>()) else {
                return Ok(ts);
            };
            u32::from_le_bytes(lb) as u64
        };
        if len == UNDEFINED as u64 {
            return Ok(ts); // dicom-rs refuses undefined lengths in the meta group
        }
        if len > w.len - w.pos {
            return Err(too_long(path, at, "file meta element", len, w.len - w.pos));
        }
        if head == [2, 0, 0x10, 0] && len <= 256 {
            let mut v = vec![0u8; len as usize];
            w.r.read_exact(&mut v).map_err(|e| IoError::os(path, e))?;
            w.pos += len;
            let t = String::from_utf8_lossy(&v);
            ts = Some(
                t.trim_end_matches(|c: char| c.is_whitespace() || c == '\0')
                    .to_string(),
            );
        } else {
            w.skip(len).ok_or_else(|| eof(path))?;
        }
        consumed += w.pos - at;
    }
    Ok(ts)
}

/// Pre-scan a DICOM file (see the module docs). `max_bytes` caps the inflated size of
/// deflated data sets. Returns true when the data set is implicit VR although the transfer
/// syntax says explicit VR (pydicom's `SC_rgb_jpeg.dcm`; pydicom reads such files with a
/// warning): the caller then parses it as implicit VR.
pub(crate) fn prescan(path: &Path, max_bytes: u64) -> Result<bool, IoError> {
    let len = crate::regular_file(path)?.len();
    // dicom-rs holds the whole data set in memory
    if len > max_bytes {
        return Err(IoError::too_large(
            path,
            format!("a {len}-byte DICOM file is over the memory budget of {max_bytes} bytes (--max-memory)"),
        ));
    }
    let f = std::fs::File::open(path).map_err(|e| IoError::os(path, e))?;
    let mut r = BufReader::with_capacity(1 << 16, f);
    let mut magic = [0u8; 132];
    let got = read_up_to(&mut r, &mut magic).map_err(|e| IoError::os(path, e))?;
    let start = if got >= 132 && &magic[128..132] == b"DICM" {
        132
    } else if got >= 4 && &magic[..4] == b"DICM" {
        4
    } else {
        0
    };
    r.seek(SeekFrom::Start(start))
        .map_err(|e| IoError::os(path, e))?;
    let mut w = Walker {
        r,
        pos: start,
        len,
        explicit: true,
        big: false,
    };
    let ts = walk_meta(path, &mut w)?.unwrap_or_default();
    let mut implicit_in_explicit = false;
    if !matches!(
        ts.as_str(),
        "1.2.840.10008.1.2" | "1.2.840.10008.1.2.2" | "1.2.840.10008.1.2.1.99"
    ) {
        // the VR of the first element: two upper-case letters in explicit VR
        let mut head = [0u8; 6];
        if read_up_to(&mut w.r, &mut head).map_err(|e| IoError::os(path, e))? == 6 {
            implicit_in_explicit = !head[4..].iter().all(|b| b.is_ascii_uppercase());
        }
        w.r.seek(SeekFrom::Start(w.pos))
            .map_err(|e| IoError::os(path, e))?;
        if implicit_in_explicit {
            w.explicit = false;
        }
    }
    match ts.as_str() {
        "1.2.840.10008.1.2" => w.explicit = false,
        "1.2.840.10008.1.2.2" => w.big = true,
        "1.2.840.10008.1.2.1.99" => {
            let rest = w.r.take(u64::MAX);
            let mut inflated = Vec::new();
            flate2::read::DeflateDecoder::new(rest)
                .take(max_bytes.saturating_add(1))
                .read_to_end(&mut inflated)
                .map_err(|e| IoError::invalid(path, format!("deflated data set: {e}")))?;
            if inflated.len() as u64 > max_bytes {
                return Err(IoError::too_large(
                    path,
                    format!(
                        "deflated data set inflates past the memory budget of {max_bytes} bytes"
                    ),
                ));
            }
            let n = inflated.len() as u64;
            let mut dw = Walker {
                r: std::io::Cursor::new(inflated),
                pos: 0,
                len: n,
                explicit: true,
                big: false,
            };
            walk_dataset(path, &mut dw, false)?;
            return Ok(false);
        }
        _ => {}
    }
    walk_dataset(path, &mut w, false)?;
    Ok(implicit_in_explicit)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Run a whole load on its own thread and wait at most `budget` for it (`None`: run it here).
/// A load still running when the budget ends is abandoned: its thread is detached (Rust cannot
/// stop a thread) and finishes or blocks on its own, its result is dropped, and the caller gets
/// an error naming the file, so one pathological source never stops a build. The memory budget
/// still bounds what an abandoned load can allocate.
pub(crate) fn time_boxed<T: Send + 'static>(
    path: &Path,
    budget: Option<std::time::Duration>,
    f: impl FnOnce() -> Result<T, IoError> + Send + 'static,
) -> Result<T, IoError> {
    let Some(budget) = budget else {
        return f();
    };
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("artefact-load".into())
        .stack_size(16 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        });
    if let Err(e) = spawned {
        return Err(IoError::os(path, e));
    }
    match rx.recv_timeout(budget) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(IoError::new(
            path,
            crate::IoErrorKind::TimedOut(format!(
                "reading took longer than the time budget of {budget:?} and was abandoned \
                 (raise it with --source-timeout)"
            )),
        )),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(IoError::invalid(
            path,
            "the reader stopped without a result (internal error)",
        )),
    }
}

/// Run a decoder call, turning a panic into an error naming the file.
pub(crate) fn no_panic<T>(path: &Path, what: &str, f: impl FnOnce() -> T) -> Result<T, IoError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        IoError::invalid(path, format!("{what} failed on malformed data ({msg})"))
    })
}

fn int(obj: &InMemDicomObject, tag: Tag) -> Option<i64> {
    obj.element_opt(tag).ok().flatten()?.to_int::<i64>().ok()
}

/// The floats of an element as stored (non-finite values kept), None when absent or unparsable.
fn raw_floats(obj: &InMemDicomObject, tag: Tag) -> Option<Vec<f64>> {
    let e = obj.element_opt(tag).ok().flatten()?;
    e.to_multi_float64().ok()
}

fn items(obj: &InMemDicomObject, tag: Tag) -> Vec<&InMemDicomObject> {
    obj.element_opt(tag)
        .ok()
        .flatten()
        .and_then(|e| e.items())
        .map(|v| v.iter().collect())
        .unwrap_or_default()
}

/// The object itself and every item of its functional-group macro `seq`.
fn with_groups(obj: &InMemDicomObject, seq: Tag) -> Vec<&InMemDicomObject> {
    let mut out = vec![obj];
    for g in [
        tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE,
        tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE,
    ] {
        for fg in items(obj, g) {
            out.extend(items(fg, seq));
        }
    }
    out
}

/// Header sizes read for the decode.
#[derive(Clone, Copy)]
pub(crate) struct PixelHeader {
    pub rows: u64,
    pub cols: u64,
    pub frames: u64,
    pub spp: u64,
    pub bits_alloc: u64,
    /// Native (uncompressed) YBR_FULL_422: two stored samples per pixel (`Y1 Y2 Cb Cr` per
    /// horizontal pair), expanded to three when decoded.
    pub native_422: bool,
}

impl PixelHeader {
    /// Bytes of decoded pixel data.
    pub fn decoded_bytes(&self) -> u64 {
        self.rows * self.cols * self.frames * self.spp * (self.bits_alloc / 8)
    }
}

/// Validate the header before decoding (see the module docs). `max_bytes` is the memory budget
/// for this object: raw element, decoded bytes and the float32 voxels must fit in it.
pub(crate) fn check_pixels(
    path: &Path,
    obj: &DefaultDicomObject,
    ts_uid: &str,
    h: &PixelHeader,
    max_bytes: u64,
) -> Result<(), IoError> {
    if !matches!(h.spp, 1 | 3) {
        return Err(IoError::invalid(
            path,
            format!("Samples per Pixel (0028,0002) is {}, must be 1 or 3", h.spp),
        ));
    }
    if h.rows > 65535 || h.cols > 65535 {
        return Err(IoError::invalid(
            path,
            format!(
                "Rows (0028,0010) {} or Columns (0028,0011) {} above 65535",
                h.rows, h.cols
            ),
        ));
    }
    let bits_stored = int(obj, tags::BITS_STORED).unwrap_or(h.bits_alloc as i64);
    if bits_stored < 1 || bits_stored as u64 > h.bits_alloc {
        return Err(IoError::invalid(
            path,
            format!(
                "Bits Stored (0028,0101) is {bits_stored}, must be in [1, Bits Allocated = {}]",
                h.bits_alloc
            ),
        ));
    }
    if let Some(hb) = int(obj, tags::HIGH_BIT) {
        if hb < 0 || hb as u64 >= h.bits_alloc {
            return Err(IoError::invalid(
                path,
                format!(
                    "High Bit (0028,0102) is {hb}, must be below Bits Allocated = {}",
                    h.bits_alloc
                ),
            ));
        }
    }
    for o in with_groups(obj, tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE) {
        if let Some(s) = raw_floats(o, tags::RESCALE_SLOPE) {
            if s.iter().any(|v| !v.is_finite() || *v == 0.0) {
                return Err(IoError::invalid(
                    path,
                    format!("Rescale Slope (0028,1053) is {s:?}: must be finite and non-zero"),
                ));
            }
        }
        if let Some(s) = raw_floats(o, tags::RESCALE_INTERCEPT) {
            if s.iter().any(|v| !v.is_finite()) {
                return Err(IoError::invalid(
                    path,
                    format!("Rescale Intercept (0028,1052) is {s:?}: must be finite"),
                ));
            }
        }
    }
    check_spacing(path, obj)?;

    let voxels = h.rows * h.cols * h.frames;
    let decoded = h.decoded_bytes();
    let raw_len = match obj
        .element_opt(tags::PIXEL_DATA)
        .ok()
        .flatten()
        .map(|e| e.value())
    {
        Some(dicom_core::DicomValue::Primitive(p)) => Some(p.calculate_byte_len() as u64),
        _ => None,
    };
    let need = decoded + voxels * 4 + raw_len.unwrap_or(0);
    if need > max_bytes {
        return Err(IoError::too_large(
            path,
            format!(
                "{}×{}×{} frames × {} samples × {} bits need about {need} bytes to decode, over \
                 the memory budget of {max_bytes} bytes (--max-memory)",
                h.rows, h.cols, h.frames, h.spp, h.bits_alloc
            ),
        ));
    }
    if let Some(have) = raw_len {
        let stored = if h.native_422 {
            h.rows * h.cols * h.frames * 2 * (h.bits_alloc / 8)
        } else {
            decoded
        };
        let samples = if h.native_422 { 2 } else { h.spp };
        // native data: the announced length (short data is refused, see below for long)
        if have < stored {
            return Err(IoError::truncated(
                path,
                format!(
                    "Pixel Data (7FE0,0010) holds {have} bytes but Rows {} × Columns {} × frames \
                     {} × samples {} × {} bytes need {stored}",
                    h.rows,
                    h.cols,
                    h.frames,
                    samples,
                    h.bits_alloc / 8
                ),
            ));
        }
        // Trailing padding within 5 % is tolerated (pydicom's MR_small_padded.dcm carries one
        // extra row); more means the header describes other data (e.g. Rows = 1 on a full
        // image), which would silently read a strip.
        if have > stored + 1 && (have - stored) * 20 > stored {
            return Err(IoError::invalid(
                path,
                format!(
                    "Pixel Data (7FE0,0010) holds {have} bytes but Rows {} × Columns {} × frames \
                     {} × samples {} × {} bytes announce {stored}: the header disagrees with \
                     the data",
                    h.rows,
                    h.cols,
                    h.frames,
                    samples,
                    h.bits_alloc / 8
                ),
            ));
        }
        return Ok(());
    }
    let fragments: Vec<&[u8]> = obj
        .element_opt(tags::PIXEL_DATA)
        .ok()
        .flatten()
        .and_then(|e| e.value().fragments())
        .map(|f| f.iter().map(|v| v.as_slice()).collect())
        .unwrap_or_default();
    if ts_uid == "1.2.840.10008.1.2.5" {
        check_rle(path, &fragments, h)?;
    } else if is_j2k(ts_uid) {
        check_j2k(path, &fragments, h)?;
    } else if is_jpeg(ts_uid) {
        check_jpeg(path, &fragments, h)?;
    }
    Ok(())
}

fn check_spacing(path: &Path, obj: &InMemDicomObject) -> Result<(), IoError> {
    let named = [
        (tags::PIXEL_SPACING, "Pixel Spacing (0028,0030)", true),
        (
            tags::IMAGER_PIXEL_SPACING,
            "Imager Pixel Spacing (0018,1164)",
            true,
        ),
        (tags::SLICE_THICKNESS, "Slice Thickness (0018,0050)", false),
        (
            tags::SPACING_BETWEEN_SLICES,
            "Spacing Between Slices (0018,0088)",
            false,
        ),
    ];
    for o in with_groups(obj, tags::PIXEL_MEASURES_SEQUENCE) {
        for (tag, name, positive) in named {
            let Some(v) = raw_floats(o, tag) else {
                continue;
            };
            // `0\0` is how some writers say "unknown": read as unknown spacing (1 mm assumed
            // and flagged), not refused
            if positive && !v.is_empty() && v.iter().all(|x| *x == 0.0) {
                continue;
            }
            let bad = v
                .iter()
                .any(|x| !x.is_finite() || x.abs() > MAX_SPACING_MM || (positive && *x <= 0.0));
            if bad {
                let rule = if positive {
                    format!("must be positive and at most {MAX_SPACING_MM} mm")
                } else {
                    format!("must be finite and at most {MAX_SPACING_MM} mm")
                };
                return Err(IoError::invalid(path, format!("{name} is {v:?}: {rule}")));
            }
        }
    }
    Ok(())
}

fn is_j2k(ts: &str) -> bool {
    matches!(
        ts,
        "1.2.840.10008.1.2.4.90"
            | "1.2.840.10008.1.2.4.91"
            | "1.2.840.10008.1.2.4.92"
            | "1.2.840.10008.1.2.4.93"
            | "1.2.840.10008.1.2.4.201"
            | "1.2.840.10008.1.2.4.202"
            | "1.2.840.10008.1.2.4.203"
    )
}

/// Bytes a PackBits segment decodes to (counting only what the data can supply).
fn packbits_len(seg: &[u8]) -> u64 {
    let (mut i, mut out) = (0usize, 0u64);
    while i < seg.len() {
        let n = seg[i] as i8;
        i += 1;
        if n >= 0 {
            let k = (n as usize + 1).min(seg.len() - i);
            out += k as u64;
            i += k;
        } else if n != -128 && i < seg.len() {
            out += (1 - n as i64) as u64;
            i += 1;
        }
    }
    out
}

fn check_rle(path: &Path, fragments: &[&[u8]], h: &PixelHeader) -> Result<(), IoError> {
    let segments = h.spp * (h.bits_alloc / 8);
    if fragments.len() as u64 != h.frames {
        return Err(IoError::invalid(
            path,
            format!(
                "RLE Pixel Data holds {} fragments for {} frames (one per frame required)",
                fragments.len(),
                h.frames
            ),
        ));
    }
    let need = h.rows * h.cols;
    for (i, frag) in fragments.iter().enumerate() {
        if frag.len() < 64 {
            return Err(IoError::truncated(
                path,
                format!(
                    "RLE fragment {i} has {} bytes, shorter than its 64-byte header",
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
            ]) as u64
        };
        let n = word(0);
        if n != segments {
            return Err(IoError::invalid(
                path,
                format!(
                    "RLE fragment {i} declares {n} segments; Samples per Pixel {} × {} bytes need {segments}",
                    h.spp,
                    h.bits_alloc / 8
                ),
            ));
        }
        let mut offs: Vec<u64> = (1..=n as usize).map(word).collect();
        offs.push(frag.len() as u64);
        for s in 0..n as usize {
            let (a, b) = (offs[s], offs[s + 1]);
            if a < 64 || a > b || b > frag.len() as u64 {
                return Err(IoError::invalid(
                    path,
                    format!("RLE fragment {i}: segment {s} offsets {a}..{b} lie outside the fragment of {} bytes", frag.len()),
                ));
            }
            let got = packbits_len(&frag[a as usize..b as usize]);
            if got < need {
                return Err(IoError::truncated(
                    path,
                    format!(
                        "RLE fragment {i}: segment {s} decodes to {got} bytes, Rows {} × Columns {} need {need}",
                        h.rows, h.cols
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// JPEG (ISO 10918-1) transfer syntaxes decoded by jpeg-decoder (baseline, extended, lossless).
fn is_jpeg(ts: &str) -> bool {
    matches!(
        ts,
        "1.2.840.10008.1.2.4.50"
            | "1.2.840.10008.1.2.4.51"
            | "1.2.840.10008.1.2.4.57"
            | "1.2.840.10008.1.2.4.70"
    )
}

/// The frame header (SOFn) of a JPEG code stream starting at `data` (SOI first): sample
/// precision, lines, samples per line, components. `Ok(None)` when `data` does not start with
/// SOI; an error string when the marker walk runs off the data before a frame header.
fn jpeg_frame_header(data: &[u8]) -> Result<Option<(u8, u16, u16, u8)>, String> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Ok(None);
    }
    let mut at = 2usize;
    loop {
        // fill bytes (0xFF repeated) may precede a marker
        while data.get(at) == Some(&0xFF) && data.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (data.get(at), data.get(at + 1)) else {
            return Err(format!("no frame header (SOF marker) before byte {at}"));
        };
        at += 2;
        // markers without a length: TEM, RSTn, SOI
        if marker == 0x01 || (0xD0..=0xD8).contains(&marker) {
            continue;
        }
        let Some(len) = data.get(at..at + 2) else {
            return Err(format!("code stream ends inside marker FF{marker:02X}"));
        };
        let len = u16::from_be_bytes([len[0], len[1]]) as usize;
        let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if sof {
            let Some(f) = data.get(at + 2..at + 8) else {
                return Err("code stream ends inside its frame header (SOF)".into());
            };
            let lines = u16::from_be_bytes([f[1], f[2]]);
            let cols = u16::from_be_bytes([f[3], f[4]]);
            return Ok(Some((f[0], lines, cols, f[5])));
        }
        if len < 2 || marker == 0xD9 || marker == 0xDA {
            return Err(format!(
                "no frame header (SOF marker) before marker FF{marker:02X}"
            ));
        }
        at += len;
    }
}

/// Every JPEG code stream must announce the image the header describes: jpeg-decoder allocates
/// from the SOF dimensions, so a tampered 65535 × 65535 frame would ask for gigabytes.
fn check_jpeg(path: &Path, fragments: &[&[u8]], h: &PixelHeader) -> Result<(), IoError> {
    let mut seen = 0u64;
    for (i, frag) in fragments.iter().enumerate() {
        let header = jpeg_frame_header(frag).map_err(|why| {
            IoError::invalid(path, format!("JPEG code stream in fragment {i}: {why}"))
        })?;
        let Some((precision, lines, cols, comps)) = header else {
            continue; // a continuation fragment of a frame
        };
        seen += 1;
        // lines = 0: height defined later by a DNL marker (allowed by the standard)
        let rows_ok = lines == 0 || u64::from(lines) == h.rows;
        if !rows_ok || u64::from(cols) != h.cols || u64::from(comps) != h.spp {
            return Err(IoError::invalid(
                path,
                format!(
                    "JPEG code stream in fragment {i} is {cols}×{lines} with {comps} components \
                     but the header says Columns {} × Rows {} with Samples per Pixel {}",
                    h.cols, h.rows, h.spp
                ),
            ));
        }
        if !(2..=16).contains(&precision) {
            return Err(IoError::invalid(
                path,
                format!("JPEG code stream in fragment {i} has sample precision {precision}"),
            ));
        }
    }
    if seen == 0 {
        return Err(IoError::invalid(
            path,
            "JPEG Pixel Data holds no code stream (no SOI marker at the start of a fragment)",
        ));
    }
    if seen > h.frames {
        return Err(IoError::invalid(
            path,
            format!(
                "JPEG Pixel Data holds {seen} code streams for {} frames",
                h.frames
            ),
        ));
    }
    Ok(())
}

fn check_j2k(path: &Path, fragments: &[&[u8]], h: &PixelHeader) -> Result<(), IoError> {
    let mut seen = 0u64;
    for (i, frag) in fragments.iter().enumerate() {
        let window = &frag[..frag.len().min(4096)];
        let Some(at) = window
            .windows(4)
            .position(|w| w == [0xFF, 0x4F, 0xFF, 0x51])
        else {
            continue;
        };
        seen += 1;
        let siz = &frag[at + 4..];
        if siz.len() < 38 {
            return Err(IoError::truncated(
                path,
                format!("JPEG 2000 code stream in fragment {i} ends inside its SIZ marker"),
            ));
        }
        let be32 =
            |k: usize| u32::from_be_bytes([siz[k], siz[k + 1], siz[k + 2], siz[k + 3]]) as u64;
        let (xs, ys, xo, yo) = (be32(4), be32(8), be32(12), be32(16));
        let csiz = u16::from_be_bytes([siz[36], siz[37]]) as u64;
        let (w, hgt) = (xs.saturating_sub(xo), ys.saturating_sub(yo));
        if w != h.cols || hgt != h.rows || csiz != h.spp {
            return Err(IoError::invalid(
                path,
                format!(
                    "JPEG 2000 code stream in fragment {i} is {w}×{hgt} with {csiz} components \
                     but the header says Columns {} × Rows {} with Samples per Pixel {}",
                    h.cols, h.rows, h.spp
                ),
            ));
        }
    }
    if seen == 0 {
        return Err(IoError::invalid(
            path,
            "JPEG 2000 Pixel Data holds no code stream (no SOC + SIZ marker)",
        ));
    }
    if seen > h.frames {
        return Err(IoError::invalid(
            path,
            format!(
                "JPEG 2000 Pixel Data holds {seen} code streams for {} frames",
                h.frames
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_over_its_time_budget_is_abandoned_with_an_error_naming_the_file() {
        let p = Path::new("/data/slow.dcm");
        let budget = Some(std::time::Duration::from_millis(50));
        let slow = || {
            std::thread::sleep(std::time::Duration::from_secs(3));
            Ok(1)
        };
        let t0 = std::time::Instant::now();
        let e = time_boxed(p, budget, slow).expect_err("must time out");
        assert!(t0.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(e.kind_name(), "timed-out");
        assert!(
            e.to_string().starts_with("/data/slow.dcm: timed out"),
            "{e}"
        );
        // within budget, and without one: the result itself
        assert_eq!(
            time_boxed(p, Some(std::time::Duration::from_secs(60)), || Ok(7)).unwrap(),
            7
        );
        assert_eq!(time_boxed(p, None, || Ok(8)).unwrap(), 8);
        // a load that panics past every guard is an error, not a crash
        let long = Some(std::time::Duration::from_secs(30));
        let e = time_boxed::<u8>(p, long, || panic!("boom")).expect_err("must fail");
        assert!(e.to_string().contains("internal error"), "{e}");
    }

    #[test]
    fn jpeg_frame_header_is_found_after_other_segments() {
        // SOI, APP0 (length 4), DQT-like segment (length 3), SOF1 P=12 Y=2 X=3 Nf=1
        let mut s = vec![
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 1, 2, 0xFF, 0xFF, 0xDB, 0, 3, 9,
        ];
        s.extend([0xFF, 0xC1, 0, 11, 12, 0, 2, 0, 3, 1, 1, 0x11, 0]);
        assert_eq!(jpeg_frame_header(&s).unwrap(), Some((12, 2, 3, 1)));
        assert_eq!(jpeg_frame_header(&[0, 1, 2]).unwrap(), None);
        // a walk that runs off the data, or reaches the scan first, is an error
        assert!(jpeg_frame_header(&s[..12]).is_err());
        assert!(jpeg_frame_header(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2]).is_err());
        assert!(jpeg_frame_header(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).is_err());
    }

    #[test]
    fn packbits_counts_runs_and_literals() {
        // literal of 3, run of 4 (-3), no-op (-128), truncated literal of 5 with 2 bytes
        let seg = [2u8, 1, 2, 3, 0xFD, 9, 0x80, 4, 7, 7];
        assert_eq!(packbits_len(&seg), 3 + 4 + 2);
        assert_eq!(packbits_len(&[]), 0);
    }
}
