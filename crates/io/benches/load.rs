//! Loading speed on the real fixtures: the MNI152 T1 NIfTI (197×233×189 uint8, gzip) and the
//! 512×512 CT head DICOM; plus writing a NIfTI of the MNI size; and the 1411² fundus JPEG
//! read as colour (its scan walk, `codec::jpeg_scan`, included).

use artefact_io::{load_volume, read_rgb, write_nifti, RgbLoadOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data")).join(rel)
}

fn bench_load(c: &mut Criterion) {
    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    let mni = data("nifti/mni152_t1_1mm.nii.gz");
    g.bench_function("mni152_t1_1mm.nii.gz", |b| {
        b.iter(|| black_box(load_volume(&mni).unwrap()))
    });
    let ct = data("dicom/CT_head_512.dcm");
    g.bench_function("CT_head_512.dcm", |b| {
        b.iter(|| black_box(load_volume(&ct).unwrap()))
    });
    let vol = load_volume(&mni).unwrap().volume;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mni.nii");
    g.bench_function("write mni float32 .nii", |b| {
        b.iter(|| write_nifti(&out, &vol).unwrap())
    });
    let fundus = data("photo/fundus/fundus_normal_left_eye_haggstrom_cc0.jpg");
    let opts = RgbLoadOptions::default();
    g.bench_function("fundus 1411² JPEG as colour", |b| {
        b.iter(|| black_box(read_rgb(&fundus, &opts).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
