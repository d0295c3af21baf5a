//! Near copies of photographs among a benchmark's sources.
//!
//! The same photograph often reaches a collection more than once: exported again as JPEG at
//! another quality, downsized for a web viewer, converted to PNG or TIFF. Such copies do not
//! have the same pixels (the exact-copy check in `source` misses them), yet one picture in two
//! sources would stand in two places of the benchmark, possibly in two splits, where a model
//! that has seen one answers the other. A photograph is compared with every earlier accepted
//! photograph of the same modality through a thumbnail of its prepared image: 32×32 cells,
//! each the mean of its block's 8-bit sRGB codes (scaled to `[0, 1]`: copies are resized and
//! re-encoded in that space). Two photographs are near copies when their aspect ratios agree
//! within 1 % and the mean absolute difference of their thumbnails over the cells where either
//! is not black (the black surround of fundus and endoscopy photographs is the same in every
//! picture) is below
//! [`NEAR_COPY_MAD`], four 8-bit codes. Re-encoding and resizing change a block mean by up to
//! two codes; two different photographs differ by tens of codes on average (measured on the
//! real test photographs and tiles, `tests`). Frames of one video or shots of one eye seconds
//! apart can be as close as copies, and are taken for them.

use artefact_core::{Modality, RgbImage};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Thumbnail side in cells.
const SIDE: usize = 32;

/// Largest mean absolute thumbnail difference (encoded, full scale 1) of a near copy: four
/// 8-bit codes. Copies of the real test photographs come within 1.8 codes (JPEG at quality 60
/// of an H&E tile 0.8, halved H&E tiles up to 1.8: their texture moves across cell borders),
/// different photographs and tiles of one slide are 28.8 codes or more apart (`tests`).
pub const NEAR_COPY_MAD: f32 = 4.0 / 255.0;

/// A cell counts as black below this encoded value in every channel.
const BLACK: f32 = 2.0 / 255.0;

/// The thumbnail of one prepared photograph.
#[derive(Clone, Debug)]
pub struct Thumb {
    /// Columns / rows of the prepared image.
    aspect: f64,
    /// `3 × SIDE × SIDE` encoded cell means, channel by channel.
    cells: Vec<f32>,
    /// Mean of `cells` (the index of [`Seen`]).
    mean: f32,
}

impl Thumb {
    /// Cell means of `img`'s 8-bit sRGB codes (blocks `⌊i·rows/32⌋ ..` by `⌊j·cols/32⌋ ..`;
    /// an image smaller than 32 on a side repeats its rows or columns).
    pub fn of(img: &RgbImage) -> Thumb {
        let (rows, cols) = img.shape();
        let bounds = |n: usize, i: usize| {
            let a = i * n / SIDE;
            let b = ((i + 1) * n / SIDE).max(a + 1).min(n);
            (a.min(n - 1), b)
        };
        // 8-bit sRGB codes: copies are resized and re-encoded in that space, where a block's
        // mean survives them (its mean in linear light does not: high-contrast texture such as
        // nuclei shifts it by codes)
        let enc = img.to_srgb8();
        let mut cells = vec![0f32; 3 * SIDE * SIDE];
        for i in 0..SIDE {
            let (r0, r1) = bounds(rows, i);
            for j in 0..SIDE {
                let (c0, c1) = bounds(cols, j);
                let mut s = [0u64; 3];
                for r in r0..r1 {
                    for px in enc[(r * cols + c0) * 3..(r * cols + c1) * 3].chunks_exact(3) {
                        for ch in 0..3 {
                            s[ch] += px[ch] as u64;
                        }
                    }
                }
                let n = ((r1 - r0) * (c1 - c0)) as f32 * 255.0;
                for ch in 0..3 {
                    cells[(ch * SIDE + i) * SIDE + j] = s[ch] as f32 / n;
                }
            }
        }
        let mean = cells.iter().sum::<f32>() / cells.len() as f32;
        Thumb {
            aspect: cols as f64 / rows as f64,
            cells,
            mean,
        }
    }

    /// Mean absolute difference over the cells where either thumbnail is not black; `None`
    /// when the aspect ratios differ by more than 1 % or both are black everywhere.
    pub fn distance(&self, other: &Thumb) -> Option<f32> {
        if (self.aspect / other.aspect - 1.0).abs() > 0.01 {
            return None;
        }
        let n = SIDE * SIDE;
        let (mut sum, mut count) = (0f32, 0usize);
        for k in 0..n {
            let a = [self.cells[k], self.cells[n + k], self.cells[2 * n + k]];
            let b = [other.cells[k], other.cells[n + k], other.cells[2 * n + k]];
            if a.iter().chain(&b).all(|&v| v < BLACK) {
                continue;
            }
            sum += (0..3).map(|c| (a[c] - b[c]).abs()).sum::<f32>();
            count += 3;
        }
        (count > 0).then(|| sum / count as f32)
    }
}

/// The thumbnails of the photographs accepted so far, by modality and by their mean in steps
/// of four [`NEAR_COPY_MAD`] (a near copy's mean differs by less than `NEAR_COPY_MAD` plus the
/// black cells' `BLACK`, within one step, so only three buckets are compared).
#[derive(Default)]
pub struct Seen {
    by_bucket: HashMap<(Modality, i64), Vec<(Thumb, PathBuf)>>,
}

impl Seen {
    fn bucket(t: &Thumb) -> i64 {
        (t.mean / (4.0 * NEAR_COPY_MAD)).floor() as i64
    }

    /// The earlier source `t` is a near copy of, if any, and its distance.
    pub fn copy_of(&self, modality: Modality, t: &Thumb) -> Option<(&Path, f32)> {
        let b = Seen::bucket(t);
        (b - 1..=b + 1)
            .filter_map(|k| self.by_bucket.get(&(modality, k)))
            .flatten()
            .filter_map(|(u, p)| Some((p.as_path(), t.distance(u)?)))
            .filter(|&(_, d)| d < NEAR_COPY_MAD)
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    pub fn insert(&mut self, modality: Modality, t: Thumb, path: &Path) {
        self.by_bucket
            .entry((modality, Seen::bucket(&t)))
            .or_default()
            .push((t, path.to_path_buf()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::prepare_colour;
    use artefact_io::{read_rgb, RgbLoadOptions};

    fn data(rel: &str) -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/photo"
        ))
        .join(rel)
    }

    /// The builder's view of a photograph: read, field of view blanked, prepared at 256².
    fn prepared(path: &Path, modality: Modality) -> Thumb {
        let opts = RgbLoadOptions {
            modality: Some(modality),
            ..Default::default()
        };
        let mut img = read_rgb(path, &opts).unwrap().image;
        img.blank_outside_fov();
        Thumb::of(&prepare_colour(&img, 256).unwrap())
    }

    /// Copies (JPEG at quality 60 and 90, half and double size, PNG) of the real fundus and
    /// H&E photographs are near copies of them (at most 1.8 codes apart, measured); the
    /// different real photographs, and the tiles of one slide, are more than five times the
    /// threshold apart (28.8 codes at least, measured).
    #[test]
    fn copies_are_near_and_different_photographs_are_far() {
        let dir = tempfile::tempdir().unwrap();
        let originals = [
            (
                "fundus/fundus_normal_left_eye_haggstrom_cc0.jpg",
                Modality::Fundus,
            ),
            (
                "fundus/fundus_background_retinopathy_nei_eda03_pd.jpg",
                Modality::Fundus,
            ),
            (
                "histopathology/he_crc_tumour_nct100k_TUM-AEPINLNQ_224px.png",
                Modality::Histopathology,
            ),
            (
                "histopathology/he_crc_tumour_nct100k_TUM-EWFNFSQL_224px.png",
                Modality::Histopathology,
            ),
            (
                "histopathology/he_crc_tumour_crcval7k_TUM-TCGA-CVATFAAT_224px.png",
                Modality::Histopathology,
            ),
        ];
        let mut worst_copy = 0f32;
        for (k, (name, m)) in originals.iter().enumerate() {
            let original = prepared(&data(name), *m);
            let img = image::open(data(name)).unwrap().to_rgb8();
            let (w, h) = img.dimensions();
            let copies = [
                ("q60.jpg", img.clone(), 60u8),
                ("q90.jpg", img.clone(), 90),
                (
                    "half.png",
                    image::imageops::resize(&img, w / 2, h / 2, image::imageops::Triangle),
                    0,
                ),
                (
                    "double.jpg",
                    image::imageops::resize(&img, w * 2, h * 2, image::imageops::CatmullRom),
                    85,
                ),
                ("same.png", img.clone(), 0),
            ];
            for (suffix, pic, quality) in copies {
                let p = dir.path().join(format!("{k}_{suffix}"));
                if quality > 0 {
                    let f = std::fs::File::create(&p).unwrap();
                    image::codecs::jpeg::JpegEncoder::new_with_quality(f, quality)
                        .encode_image(&pic)
                        .unwrap();
                } else {
                    pic.save(&p).unwrap();
                }
                let d = prepared(&p, *m).distance(&original).unwrap();
                eprintln!("{name} {suffix}: {:.3} codes", d * 255.0);
                assert!(d < NEAR_COPY_MAD, "{name} {suffix}: {} codes", d * 255.0);
                worst_copy = worst_copy.max(d);
            }
        }
        // different photographs, and the 256² tiles of the 768² skin region
        let mut thumbs: Vec<(String, Thumb)> = originals
            .iter()
            .filter(|(_, m)| *m == Modality::Histopathology)
            .map(|(n, m)| (n.to_string(), prepared(&data(n), *m)))
            .collect();
        let skin = read_rgb(
            &data("histopathology/he_skin_cmu1_small_region_aperio20x_x600_y1500_768px.png"),
            &RgbLoadOptions::default(),
        )
        .unwrap()
        .image;
        for (i, j) in [(0usize, 0usize), (0, 1), (1, 1), (2, 2), (1, 2)] {
            let tile = skin
                .data
                .slice(ndarray::s![
                    ..,
                    i * 256..(i + 1) * 256,
                    j * 256..(j + 1) * 256
                ])
                .to_owned();
            let t = RgbImage::new(tile, skin.spacing, Modality::Histopathology, None).unwrap();
            thumbs.push((format!("skin tile {i},{j}"), Thumb::of(&t)));
        }
        let fundus: Vec<Thumb> = originals[..2]
            .iter()
            .map(|(n, m)| prepared(&data(n), *m))
            .collect();
        let mut nearest = fundus[0].distance(&fundus[1]).unwrap();
        eprintln!("the two fundus photographs: {:.2} codes", nearest * 255.0);
        for a in 0..thumbs.len() {
            for b in a + 1..thumbs.len() {
                let d = thumbs[a].1.distance(&thumbs[b].1).unwrap();
                eprintln!("{} / {}: {:.2} codes", thumbs[a].0, thumbs[b].0, d * 255.0);
                nearest = nearest.min(d);
            }
        }
        eprintln!(
            "worst copy {:.3} codes, nearest different pictures {:.2} codes",
            worst_copy * 255.0,
            nearest * 255.0
        );
        assert!(nearest > 5.0 * NEAR_COPY_MAD, "{} codes", nearest * 255.0);
    }

    #[test]
    fn other_aspect_ratios_and_black_pictures_are_not_compared() {
        let a = RgbImage::new(
            ndarray::Array3::from_elem((3, 64, 64), 0.5f32),
            [1.0, 1.0],
            Modality::Fundus,
            None,
        )
        .unwrap();
        let b = RgbImage::new(
            ndarray::Array3::from_elem((3, 64, 80), 0.5f32),
            [1.0, 1.0],
            Modality::Fundus,
            None,
        )
        .unwrap();
        assert_eq!(Thumb::of(&a).distance(&Thumb::of(&b)), None);
        assert_eq!(Thumb::of(&a).distance(&Thumb::of(&a)), Some(0.0));
        let black = RgbImage::new(
            ndarray::Array3::zeros((3, 64, 64)),
            [1.0, 1.0],
            Modality::Fundus,
            None,
        )
        .unwrap();
        assert_eq!(Thumb::of(&black).distance(&Thumb::of(&black)), None);
        let mut seen = Seen::default();
        seen.insert(Modality::Fundus, Thumb::of(&a), Path::new("a.png"));
        assert!(seen.copy_of(Modality::Fundus, &Thumb::of(&a)).is_some());
        assert!(seen
            .copy_of(Modality::Histopathology, &Thumb::of(&a))
            .is_none());
    }
}
