//! artefact-io: reading medical images into [`artefact_core::Volume`]s and writing results.
//!
//! Formats (detected from the file's content, not its name):
//! - DICOM ([`dicom`]): single files, multi-frame files, directories of series, the common
//!   transfer syntaxes; CT in Hounsfield units; non-image objects refused;
//! - NIfTI-1 / NIfTI-2 ([`nifti`]), `.nii` and `.nii.gz`, either byte order, 3-D and 4-D;
//! - PNG, JPEG, TIFF ([`raster`]), 8/16-bit grey (RGB only on request).
//!
//! Colour photographs: [`read_rgb`] (PNG/JPEG/TIFF → [`artefact_core::RgbImage`], linear light)
//! and [`write_png_rgb`] (8-bit sRGB PNG).
//!
//! Writers: grey PNG (8/16-bit), colour PNG (8-bit sRGB), NIfTI-1 float32 and DICOM
//! (Multi-frame Grayscale Word Secondary Capture, [`dicom_out`]), always atomic (temporary
//! file + rename).
//!
//! # Bad input
//! Every failure is an [`IoError`] naming the file and the reason; nothing panics on malformed
//! input, and header sizes are checked against the file size, a voxel cap
//! ([`LoadOptions::max_voxels`]) and a memory budget in bytes ([`LoadOptions::max_bytes`],
//! default [`default_max_bytes`]) before anything is allocated: decoded pixels, gzip
//! inflation, PNG/TIFF decoding (`image::Limits`) and DICOM element reads all count against it.
//! DICOM files are pre-scanned (sequence depth, element lengths, codec fragments) before
//! dicom-rs sees them, and every decoder call runs under `catch_unwind`, so a decoder bug
//! becomes an error naming the file (see `guard.rs`).
//!
//! Only regular files are opened (a FIFO or device is refused before `open`, so it cannot
//! block); directory walks follow symbolic links that stay inside the searched tree (a link
//! to a directory outside it, such as `/proc/<pid>/root`, is listed as an error, not walked),
//! visit each directory and each file once (device + inode), stop at [`MAX_WALK_DEPTH`]
//! levels and skip hidden entries.
//!
//! # Non-finite voxels
//! NaN/±Inf voxels (possible in float NIfTI/TIFF) make a load fail by default with an error
//! that counts them ([`NonFinitePolicy::Error`]); [`NonFinitePolicy::Zero`] replaces them by 0
//! and records how many in [`Meta::non_finite_replaced`].
//!
//! # Privacy
//! This crate never prints or logs anything. Patient/series identifiers are kept only in
//! [`meta::Identifiers`] for [`Meta::pseudonymous_key`] and are never part of `Debug`, `Display`
//! or serialised output.

#![forbid(unsafe_code)]

mod atomic;
mod codec;
pub mod dicom;
mod dicom_colour;
pub mod dicom_out;
mod error;
mod guard;
mod icc;
pub mod inspect;
pub mod meta;
pub mod nifti;
pub mod raster;
mod tiff_jpeg;
mod us_field;
mod us_region;

pub use dicom_out::{write_dicom, write_dicom_rgb, DicomDerivation, Srgb8};
pub use error::{IoError, IoErrorKind};
pub use meta::{DetectedField, Format, Identifiers, Meta, Rescale, SopClass, TransferSyntax};
pub use nifti::write_nifti;
pub use raster::{write_png, write_png16, write_png_rgb, LoadedRgb, RgbLoadOptions};

use artefact_core::{Modality, Volume};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A loaded volume and what is known about its source.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub volume: Volume,
    pub meta: Meta,
}

/// What to do with NaN/±Inf voxels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NonFinitePolicy {
    /// Refuse the file with an error counting the non-finite voxels (default).
    #[default]
    Error,
    /// Replace them by 0 and record the count in [`Meta::non_finite_replaced`].
    Zero,
}

/// Default cap on voxels per loaded volume: 2^30 (4 GiB of f32).
pub const DEFAULT_MAX_VOXELS: usize = 1 << 30;

/// Deepest directory level [`load_all`] descends to below the directory it is given.
pub const MAX_WALK_DEPTH: usize = 32;

/// Default memory budget per load, in bytes, sized to the machine: half of `MemAvailable`
/// (Linux `/proc/meminfo`), at most a third of the address-space limit (`ulimit -v`, read
/// from `/proc/self/limits`), between 256 MiB and 16 GiB; 4 GiB where neither is known.
pub fn default_max_bytes() -> u64 {
    static V: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *V.get_or_init(|| {
        const MIB: u64 = 1 << 20;
        let avail = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .map(|kib| kib * 1024)
        });
        let as_limit = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|s| {
                let l = s.lines().find(|l| l.starts_with("Max address space"))?;
                l.split_whitespace().nth(3)?.parse::<u64>().ok()
            });
        let mut v = avail.map_or(4096 * MIB, |a| a / 2);
        if let Some(l) = as_limit {
            v = v.min(l / 3);
        }
        v.clamp(256 * MIB, 16384 * MIB)
    })
}

/// Metadata of `path` if it is a regular file (symbolic links followed); anything else
/// (directory, FIFO, socket, device) is refused without opening it.
pub(crate) fn regular_file(path: &Path) -> Result<std::fs::Metadata, IoError> {
    let md = std::fs::metadata(path).map_err(|e| IoError::os(path, e))?;
    if md.is_file() {
        return Ok(md);
    }
    let what = if md.is_dir() {
        "a directory"
    } else {
        special_kind(&md)
    };
    Err(IoError::new(
        path,
        IoErrorKind::UnknownFormat(format!("{what}, not a regular file; not opened")),
    ))
}

#[cfg(unix)]
fn special_kind(md: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = md.file_type();
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::Metadata) -> &'static str {
    "a special file"
}

/// Identity of a file or directory (device, inode) for visited sets.
#[cfg(unix)]
fn file_id(_: &Path, md: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (md.dev(), md.ino())
}

#[cfg(not(unix))]
fn file_id(p: &Path, _: &std::fs::Metadata) -> (u64, u64) {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::fs::canonicalize(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .hash(&mut h);
    (0, h.finish())
}

/// Options for loading.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Which volume of a 4-D image to load (0-based).
    pub volume_index: usize,
    /// Convert colour images to grey (Rec. 601 luminance) instead of refusing them.
    pub grey_from_rgb: bool,
    /// NaN/Inf policy.
    pub non_finite: NonFinitePolicy,
    /// Modality to assume for formats that do not store one (NIfTI: MR by default; PNG/JPEG/
    /// TIFF: photo by default). For DICOM it overrides the stored modality.
    pub modality: Option<Modality>,
    /// Largest number of voxels a volume may have; larger headers are refused before
    /// allocating.
    pub max_voxels: usize,
    /// Read ultrasound DICOM that has no declared imaging region although its pixels may carry
    /// burned-in text (Burned In Annotation absent or `YES`). Off by default: such objects are
    /// refused, because the text can name the patient or the clinic.
    pub allow_burned_in: bool,
    /// Ultrasound DICOM: keep burned-in overlay (text, cursors, ticks) drawn inside the image
    /// instead of painting it over (see `us_region::remove_overlay`). Off by default; for
    /// comparing decoded values with another reader.
    pub keep_overlay: bool,
    /// Memory budget in bytes for loading one source (raw data, inflated data, decoded
    /// samples and float32 voxels); a source needing more is refused with an error naming the
    /// file and the size. Default: [`default_max_bytes`].
    pub max_bytes: u64,
    /// Longest time one file or series may take to load; a load that overruns it is abandoned
    /// with an error naming the file (its thread is left to finish on its own). `None`: no
    /// budget. Default: [`DEFAULT_TIME_BUDGET`].
    pub time_budget: Option<std::time::Duration>,
}

/// Default time budget for loading one file or series: far above what any real file needs
/// (a 1 GB CT series decodes in seconds), low enough that a pathological file cannot stall a
/// build for long.
pub const DEFAULT_TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(300);

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            volume_index: 0,
            grey_from_rgb: false,
            non_finite: NonFinitePolicy::Error,
            modality: None,
            max_voxels: DEFAULT_MAX_VOXELS,
            allow_burned_in: false,
            keep_overlay: false,
            max_bytes: default_max_bytes(),
            time_budget: Some(DEFAULT_TIME_BUDGET),
        }
    }
}

/// Detect the format of a file from its first bytes.
pub fn detect_format(path: &Path) -> Result<Option<Format>, IoError> {
    regular_file(path)?;
    let mut f = std::fs::File::open(path).map_err(|e| IoError::os(path, e))?;
    let mut head = Vec::with_capacity(132);
    (&mut f)
        .take(132)
        .read_to_end(&mut head)
        .map_err(|e| IoError::os(path, e))?;
    Ok(detect_bytes(path, &head))
}

/// Why a file is in no known format; names a bare DICOM data set (no 128-byte preamble and
/// `DICM` prefix, as old ACR-NEMA tools wrote them) as such, with what to do.
fn unknown_format(path: &Path) -> IoErrorKind {
    let mut head = [0u8; 8];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    // a data set starts with a small group (0002, 0008) in little-endian order, then either an
    // explicit VR (two upper-case letters) or an implicit 4-byte length
    let group = u16::from_le_bytes([head[0], head[1]]);
    let explicit_vr = head[4].is_ascii_uppercase() && head[5].is_ascii_uppercase();
    if n == 8 && matches!(group, 0x0002 | 0x0008) && (explicit_vr || head[7] == 0) {
        return IoErrorKind::UnknownFormat(
            "a DICOM data set without the 128-byte preamble and `DICM` prefix of a DICOM file \
             (Part 10); its transfer syntax cannot be known for sure, so it is not guessed: \
             re-save it as a DICOM file (e.g. `dcmconv` of dcmtk, or pydicom's \
             `dcmread(f, force=True)` then `save_as(out, enforce_file_format=True)`)"
                .into(),
        );
    }
    IoErrorKind::UnknownFormat(
        "wrong magic: not DICOM, NIfTI-1/2 (.nii/.nii.gz), PNG, JPEG or TIFF".into(),
    )
}

fn detect_bytes(path: &Path, head: &[u8]) -> Option<Format> {
    if head.len() >= 132 && &head[128..132] == b"DICM" {
        return Some(Format::Dicom);
    }
    if head.len() >= 4 && &head[..4] == b"DICM" {
        return Some(Format::Dicom);
    }
    if head.starts_with(&[0x89, b'P', b'N', b'G']) {
        return Some(Format::Png);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Format::Jpeg);
    }
    // classic TIFF (42) and BigTIFF (43), either byte order
    if [b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"]
        .iter()
        .any(|m| head.starts_with(*m))
    {
        return Some(Format::Tiff);
    }
    if nifti::is_nifti(path, head) {
        let gz = head.starts_with(&[0x1f, 0x8b]);
        let version = if gz {
            let f = std::fs::File::open(path).ok()?;
            let mut d = flate2::read::MultiGzDecoder::new(f);
            let mut b = [0u8; 4];
            d.read_exact(&mut b).ok()?;
            nifti::sniff_header(&b)?.0
        } else {
            nifti::sniff_header(head)?.0
        };
        return Some(if version == 1 {
            Format::Nifti1
        } else {
            Format::Nifti2
        });
    }
    None
}

/// Load one image source with default options: a file, or a directory holding exactly one
/// series. A 4-D image gives volume 0.
pub fn load_volume(path: &Path) -> Result<Loaded, IoError> {
    load_volume_with(path, &LoadOptions::default())
}

/// Load one image source (file, or directory with exactly one series).
pub fn load_volume_with(path: &Path, opts: &LoadOptions) -> Result<Loaded, IoError> {
    let meta = std::fs::metadata(path).map_err(|e| IoError::os(path, e))?;
    if meta.is_dir() {
        let mut entries = load_all(path, opts);
        return match entries.len() {
            0 => Err(IoError::new(
                path,
                IoErrorKind::Selection("directory holds no image file".into()),
            )),
            1 => entries.pop().unwrap().1,
            n => Err(IoError::new(
                path,
                IoErrorKind::Selection(format!(
                    "directory holds {n} image sources (series or files); name one of them"
                )),
            )),
        };
    }
    load_file(path, opts)
}

fn load_file(path: &Path, opts: &LoadOptions) -> Result<Loaded, IoError> {
    let (p, o) = (path.to_path_buf(), opts.clone());
    guard::time_boxed(path, opts.time_budget, move || {
        guard::no_panic(&p, "loading", || load_file_inner(&p, &o))?
    })
}

fn load_file_inner(path: &Path, opts: &LoadOptions) -> Result<Loaded, IoError> {
    let format = detect_format(path)?.ok_or_else(|| IoError::new(path, unknown_format(path)))?;
    let loaded = match format {
        Format::Dicom => dicom::load_files(path, &[path.to_path_buf()], opts),
        Format::Nifti1 | Format::Nifti2 => nifti::read(path, opts),
        Format::Png | Format::Jpeg | Format::Tiff => raster::read(path, format, opts),
    }?;
    finish(loaded, opts)
}

/// Apply the non-finite policy.
fn finish(mut l: Loaded, opts: &LoadOptions) -> Result<Loaded, IoError> {
    let count = l.volume.data.iter().filter(|v| !v.is_finite()).count();
    if count > 0 {
        match opts.non_finite {
            NonFinitePolicy::Error => {
                return Err(IoError::new(
                    &l.meta.path,
                    IoErrorKind::NonFinite {
                        count,
                        total: l.volume.data.len(),
                    },
                ))
            }
            NonFinitePolicy::Zero => {
                l.volume
                    .data
                    .mapv_inplace(|v| if v.is_finite() { v } else { 0.0 });
                l.meta.non_finite_replaced = count;
            }
        }
    }
    Ok(l)
}

const IMAGE_EXTENSIONS: &[&str] = &[
    ".dcm", ".dicom", ".ima", ".nii", ".nii.gz", ".png", ".jpg", ".jpeg", ".tif", ".tiff",
];

fn has_image_extension(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.to_ascii_lowercase())
        .is_some_and(|n| IMAGE_EXTENSIONS.iter().any(|e| n.ends_with(e)))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<(PathBuf, IoError)>) {
    let mut seen = std::collections::HashSet::new();
    if let Ok(md) = std::fs::metadata(dir) {
        seen.insert(file_id(dir, &md));
    }
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    walk_in(dir, &root, 0, &mut seen, out, errors);
}

/// Depth-first, sorted; `seen` holds the (device, inode) of every directory and file met, so
/// symbolic-link loops end and each file is listed once. A symbolic link to a directory is
/// followed only when its target lies inside `root` (the canonical searched directory): a
/// link out of the tree (`/proc/<pid>/root` → `/`, a link to a whole disk) is listed as an
/// error instead of silently widening the search.
fn walk_in(
    dir: &Path,
    root: &Path,
    depth: usize,
    seen: &mut std::collections::HashSet<(u64, u64)>,
    out: &mut Vec<PathBuf>,
    errors: &mut Vec<(PathBuf, IoError)>,
) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            errors.push((dir.to_path_buf(), IoError::os(dir, e)));
            return;
        }
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        let md = match std::fs::metadata(&p) {
            Ok(md) => md,
            Err(e) => {
                // dangling link or unreadable entry: listed only when it claims to be an image
                if has_image_extension(&p) {
                    errors.push((p.clone(), IoError::os(&p, e)));
                }
                continue;
            }
        };
        if md.is_dir() {
            if !seen.insert(file_id(&p, &md)) {
                continue; // a link back to a directory already walked
            }
            let is_link = std::fs::symlink_metadata(&p).is_ok_and(|l| l.file_type().is_symlink());
            if is_link {
                let target = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
                if !target.starts_with(root) {
                    errors.push((
                        p.clone(),
                        IoError::new(
                            &p,
                            IoErrorKind::Selection(format!(
                                "symbolic link to a directory outside the searched tree ({}); not followed: give it as a source of its own to include it",
                                target.display()
                            )),
                        ),
                    ));
                    continue;
                }
            }
            if depth + 1 > MAX_WALK_DEPTH {
                errors.push((
                    p.clone(),
                    IoError::new(
                        &p,
                        IoErrorKind::Selection(format!(
                            "directory nested more than {MAX_WALK_DEPTH} levels deep; not searched"
                        )),
                    ),
                ));
                continue;
            }
            walk_in(&p, root, depth + 1, seen, out, errors);
        } else if md.is_file() {
            if seen.insert(file_id(&p, &md)) {
                out.push(p);
            }
        } else if has_image_extension(&p) {
            if let Err(e) = regular_file(&p) {
                errors.push((p, e));
            }
        }
    }
}

/// Load every image source under `path`: a file gives one entry; a directory is searched
/// recursively, DICOM files are grouped into series (SeriesInstanceUID, transfer syntax and
/// image size; multi-frame files stay on their own), and every other image file is one entry.
/// Files in a directory that are not images are skipped silently unless their extension says
/// they should be (then they are listed with an error). Entries come sorted by path; each
/// carries its own result.
pub fn load_all(path: &Path, opts: &LoadOptions) -> Vec<(PathBuf, Result<Loaded, IoError>)> {
    list_all(path, opts)
        .into_iter()
        .map(|(p, r)| {
            let r = r.and_then(|s| s.load(opts));
            (p, r)
        })
        .collect()
}

/// One image source found by [`list_all`] and not yet decoded: a file, or the files of one
/// DICOM series. [`PendingSource::load`] decodes it (within the time budget and with decoder
/// panics turned into errors, like [`load_all`]); loading it again gives the same data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingSource {
    name: PathBuf,
    /// The files of a DICOM series; `None`: `name` is one file of any supported format.
    series: Option<Vec<PathBuf>>,
}

impl PendingSource {
    /// A single file (any supported format).
    pub fn file(path: impl Into<PathBuf>) -> PendingSource {
        PendingSource {
            name: path.into(),
            series: None,
        }
    }

    /// The path that names this source in listings and errors (the file, or the directory
    /// or first file of a series).
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// Decode it.
    pub fn load(&self, opts: &LoadOptions) -> Result<Loaded, IoError> {
        let Some(files) = &self.series else {
            return load_file(&self.name, opts);
        };
        let (n, o, files) = (self.name.clone(), opts.clone(), files.clone());
        guard::time_boxed(&self.name, opts.time_budget, move || {
            guard::no_panic(&n, "loading", || {
                dicom::load_files(&n, &files, &o).and_then(|l| finish(l, &o))
            })?
        })
    }
}

/// What [`load_all`] would load under `path`, from file headers only: the same entries in the
/// same order, each a [`PendingSource`] to decode later (one at a time, so a collection never
/// has to fit in memory) or the error that already rules it out.
pub fn list_all(path: &Path, opts: &LoadOptions) -> Vec<(PathBuf, Result<PendingSource, IoError>)> {
    match std::fs::metadata(path) {
        Err(e) => return vec![(path.to_path_buf(), Err(IoError::os(path, e)))],
        Ok(m) if !m.is_dir() => return vec![(path.to_path_buf(), Ok(PendingSource::file(path)))],
        Ok(_) => {}
    }
    let mut files = Vec::new();
    let mut out: Vec<(PathBuf, Result<PendingSource, IoError>)> = Vec::new();
    let mut errors = Vec::new();
    walk(path, &mut files, &mut errors);
    out.extend(errors.into_iter().map(|(p, e)| (p, Err(e))));

    // key → files; key = (series UID, transfer syntax, rows, cols)
    let mut series: BTreeMap<(String, String, u32, u32), Vec<dicom::DicomHeader>> = BTreeMap::new();
    for f in files {
        match detect_format(&f) {
            Err(e) => out.push((f, Err(e))),
            Ok(None) => {
                if has_image_extension(&f) {
                    let e = IoError::new(&f, unknown_format(&f));
                    out.push((f, Err(e)));
                }
            }
            Ok(Some(Format::Dicom)) => match dicom::scan_header(&f, opts.max_bytes) {
                Err(e) => out.push((f, Err(e))),
                Ok(h) => match (&h.series_uid, h.frames) {
                    (Some(uid), 1) => series
                        .entry((uid.clone(), h.ts_uid.clone(), h.rows, h.cols))
                        .or_default()
                        .push(h),
                    _ => {
                        let s = PendingSource::file(&f);
                        out.push((f, Ok(s)));
                    }
                },
            },
            Ok(Some(_)) => {
                let s = PendingSource::file(&f);
                out.push((f, Ok(s)));
            }
        }
    }
    // split groups with duplicate SOP instances (copies of one object) into single files
    let mut groups: Vec<Vec<dicom::DicomHeader>> = Vec::new();
    for (_, hs) in series {
        let mut uids: Vec<&str> = hs.iter().filter_map(|h| h.sop_uid.as_deref()).collect();
        uids.sort_unstable();
        let dup = uids.windows(2).any(|w| w[0] == w[1]);
        if dup {
            groups.extend(hs.into_iter().map(|h| vec![h]));
        } else {
            groups.push(hs);
        }
    }
    // how many groups live in each directory (to name multi-file series)
    let mut per_dir: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for g in &groups {
        if let Some(d) = g[0].path.parent() {
            *per_dir.entry(d.to_path_buf()).or_default() += 1;
        }
    }
    for g in groups {
        let files: Vec<PathBuf> = g.iter().map(|h| h.path.clone()).collect();
        let name = if files.len() == 1 {
            files[0].clone()
        } else {
            let dir = files[0].parent().unwrap_or(Path::new(".")).to_path_buf();
            let same_dir = files.iter().all(|f| f.parent() == Some(dir.as_path()));
            if same_dir && per_dir.get(&dir) == Some(&1) {
                dir
            } else {
                files[0].clone()
            }
        };
        let s = PendingSource {
            name: name.clone(),
            series: Some(files),
        };
        out.push((name, Ok(s)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Read one colour image: PNG, JPEG or TIFF ([`raster::read_rgb_raster`]) or a DICOM object
/// (RGB, YBR, PALETTE COLOR or MONOCHROME; [`dicom::read_rgb`]), in linear light.
/// Runs within [`RgbLoadOptions::time_budget`], with decoder panics turned into errors.
pub fn read_rgb(path: &Path, opts: &RgbLoadOptions) -> Result<LoadedRgb, IoError> {
    let (p, o) = (path.to_path_buf(), opts.clone());
    guard::time_boxed(path, opts.time_budget, move || {
        guard::no_panic(&p, "loading", || match detect_format(&p)? {
            Some(Format::Dicom) => dicom::read_rgb(&p, &o),
            _ => raster::read_rgb_raster(&p, &o),
        })?
    })
}

/// Load every colour photograph under `path` (a file, or a directory searched recursively like
/// [`load_all`]): PNG, JPEG, TIFF and DICOM (one frame per object) through [`read_rgb`]. Other
/// image formats are listed with an error saying why (NIfTI is a grey volume format here); files that are not
/// images are skipped unless their extension says they should be. Sorted by path.
pub fn load_all_rgb(
    path: &Path,
    opts: &RgbLoadOptions,
) -> Vec<(PathBuf, Result<LoadedRgb, IoError>)> {
    list_all_rgb(path)
        .into_iter()
        .map(|(p, r)| {
            let r = r.and_then(|f| read_rgb_source(&f, opts));
            (p, r)
        })
        .collect()
}

/// One colour photograph as [`load_all_rgb`] reads it: PNG, JPEG, TIFF or DICOM through
/// [`read_rgb`]; other formats are an error saying why.
pub fn read_rgb_source(f: &Path, opts: &RgbLoadOptions) -> Result<LoadedRgb, IoError> {
    match detect_format(f)? {
        Some(Format::Png | Format::Jpeg | Format::Tiff | Format::Dicom) => read_rgb(f, opts),
        Some(other) => Err(IoError::unsupported(
            f,
            format!(
                "{} is not read as a colour photograph (colour PNG, JPEG, TIFF or DICOM are)",
                other.name()
            ),
        )),
        None => Err(IoError::new(
            f,
            IoErrorKind::UnknownFormat("wrong magic: not PNG, JPEG or TIFF".into()),
        )),
    }
}

/// The files [`load_all_rgb`] would read under `path` (not decoded; read each with
/// [`read_rgb_source`]), with the errors of the directory walk. Sorted by path.
pub fn list_all_rgb(path: &Path) -> Vec<(PathBuf, Result<PathBuf, IoError>)> {
    match std::fs::metadata(path) {
        Err(e) => return vec![(path.to_path_buf(), Err(IoError::os(path, e)))],
        Ok(m) if !m.is_dir() => return vec![(path.to_path_buf(), Ok(path.to_path_buf()))],
        Ok(_) => {}
    }
    let mut files = Vec::new();
    let mut out: Vec<(PathBuf, Result<PathBuf, IoError>)> = Vec::new();
    let mut errors = Vec::new();
    walk(path, &mut files, &mut errors);
    out.extend(errors.into_iter().map(|(p, e)| (p, Err(e))));
    for f in files {
        match detect_format(&f) {
            Ok(None) if !has_image_extension(&f) => {}
            Err(e) => out.push((f, Err(e))),
            _ => out.push((f.clone(), Ok(f))),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
