"""Peer comparison for artefact-ct's parallel-beam projector and FBP (not run in CI).

Times scikit-image `radon`/`iradon` and the ASTRA Toolbox CPU `linear` projector + CPU `FBP`
on the same real slice (tests/data/dicom/CT_head_512.dcm, HU -> mu at 0.0192 mm^-1) in the
geometry of `physics/ct/benches/projector.rs`: 512x512 grid of 1-unit pixels, 720 views over
[0, 180) degrees, ceil(512*sqrt(2)) + 1 = 726 detector bins of 1 unit. It also reconstructs the
analytic Shepp-Logan sinogram of `skimage_reference.py` (255^2, 360 views) with ASTRA to compare
reconstruction error, and reads the Rust criterion estimates (if `cargo bench` was run) to print
speed ratios.

Usage:
    python3 -m venv /work/.venvs/ct && /work/.venvs/ct/bin/pip install -r bench/ct/requirements.txt
    RAYON_NUM_THREADS=1 CARGO_TARGET_DIR=... cargo bench -p artefact-ct --bench projector
    OMP_NUM_THREADS=1 /work/.venvs/ct/bin/python bench/ct/compare_projectors.py [--target-dir DIR]
"""
import argparse
import json
import os
import time
from pathlib import Path

import astra
import numpy as np
import pydicom
from skimage.transform import iradon, radon

import skimage_reference as ref

ROOT = Path(__file__).resolve().parents[2]
MU_WATER = 0.0192


def load_slice():
    ds = pydicom.dcmread(ROOT / "tests/data/dicom/CT_head_512.dcm")
    hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    hu[hu < -1024] = -1000.0
    return np.clip(MU_WATER * (1 + hu / 1000.0), 0, None).astype(np.float32)


def best_of(fn, repeat=3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def astra_setup(n, n_det, theta):
    vg = astra.create_vol_geom(n, n)
    pg = astra.create_proj_geom("parallel", 1.0, n_det, theta)
    return vg, pg, astra.create_projector("linear", pg, vg)


def astra_theta(theta):
    """ASTRA's parallel angle for our theta: the same convention (checked with a point source)."""
    return theta


def check_astra_convention():
    n, n_det = 64, 91
    img = np.zeros((n, n), np.float32)
    i, j = 10, 40
    img[i, j] = 1
    theta = np.array([0.3, 1.1, 2.0])
    vg, pg, pid = astra_setup(n, n_det, astra_theta(theta))
    sid, s = astra.create_sino(img, pid)
    astra.data2d.delete(sid)
    x, y = j - (n - 1) / 2, (n - 1) / 2 - i
    expect = x * np.cos(theta) + y * np.sin(theta) + (n_det - 1) / 2
    got = (s * np.arange(n_det)).sum(1) / s.sum(1)
    assert np.allclose(got, expect, atol=0.05), (got, expect)


def astra_fbp(sino, n, theta):
    vg, pg, pid = astra_setup(n, sino.shape[1], astra_theta(theta))
    sid = astra.data2d.create("-sino", pg, sino)
    rid = astra.data2d.create("-vol", vg)
    cfg = astra.astra_dict("FBP")
    cfg["ReconstructionDataId"] = rid
    cfg["ProjectionDataId"] = sid
    cfg["ProjectorId"] = pid
    cfg["FilterType"] = "ram-lak"
    aid = astra.algorithm.create(cfg)
    t = time.perf_counter()
    astra.algorithm.run(aid)
    dt = time.perf_counter() - t
    rec = astra.data2d.get(rid)
    astra.algorithm.delete(aid)
    astra.data2d.delete([sid, rid])
    return dt, rec


def criterion_ns(target_dir, name):
    if target_dir is None:
        return None
    p = Path(target_dir) / "criterion" / "ct" / name / "new" / "estimates.json"
    if not p.exists():
        return None
    est = json.loads(p.read_text())
    return est["median"]["point_estimate"] * 1e-9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR"))
    ap.add_argument("--skip-skimage", action="store_true")
    args = ap.parse_args()
    check_astra_convention()

    mu = load_slice()
    n, views = 512, 720
    n_det = int(np.ceil(n * np.sqrt(2))) + 1
    theta = np.arange(views) * np.pi / views
    vg, pg, pid = astra_setup(n, n_det, astra_theta(theta))

    def fwd():
        sid, s = astra.create_sino(mu, pid)
        astra.data2d.delete(sid)
        return s

    t_astra_fwd, sino = best_of(fwd)
    t_astra_fbp = min(astra_fbp(sino, n, theta)[0] for _ in range(3))
    rows = [("ASTRA CPU linear forward", t_astra_fwd), ("ASTRA CPU FBP (ram-lak)", t_astra_fbp)]
    if not args.skip_skimage:
        deg = np.rad2deg(theta)
        t_sk_fwd, sk_sino = best_of(lambda: radon(mu, deg, circle=False), repeat=1)
        t_sk_fbp, _ = best_of(lambda: iradon(sk_sino, deg, filter_name="ramp", circle=False,
                                             output_size=n), repeat=1)
        rows += [("scikit-image radon", t_sk_fwd), ("scikit-image iradon (ramp)", t_sk_fbp)]

    print(f"CT_head_512 slice, {n}x{n}, {views} views, {n_det} bins, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")
    for name, t in rows:
        print(f"  {name:32s} {t * 1e3:9.1f} ms")

    ours_fwd = criterion_ns(args.target_dir, f"forward_{n}x{n}_{views}v")
    ours_fbp = criterion_ns(args.target_dir, f"fbp_ramlak_{n}x{n}_{views}v")
    if ours_fwd and ours_fbp:
        print(f"  {'artefact-ct forward (criterion)':32s} {ours_fwd * 1e3:9.1f} ms"
              f"   ASTRA/ours = {t_astra_fwd / ours_fwd:.2f}x")
        print(f"  {'artefact-ct FBP (criterion)':32s} {ours_fbp * 1e3:9.1f} ms"
              f"   ASTRA/ours = {t_astra_fbp / ours_fbp:.2f}x")
        if not args.skip_skimage:
            print(f"  skimage/ours: radon {rows[2][1] / ours_fwd:.1f}x, iradon {rows[3][1] / ours_fbp:.1f}x")
    else:
        print("  (no criterion estimates found: run the Rust bench first and pass --target-dir)")

    # reconstruction error on the analytic Shepp-Logan sinogram (same data as the Rust test)
    th = np.arange(ref.NV) * np.pi / ref.NV
    sl_sino = ref.analytic_sino(th).astype(np.float32)
    truth = ref.raster()
    _, rec = astra_fbp(sl_sino, ref.N, th)
    rec_sk = iradon(sl_sino.T, theta=np.rad2deg(th), filter_name="ramp", interpolation="linear",
                    circle=True, output_size=ref.N)
    print(f"Shepp-Logan 255^2, 360 views, RMSE in FOV: ASTRA FBP {ref.fov_rmse(rec, truth):.4e}, "
          f"scikit-image iradon {ref.fov_rmse(rec_sk, truth):.4e} (artefact-ct: see tests/fbp.rs)")


if __name__ == "__main__":
    main()
