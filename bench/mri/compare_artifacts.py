#!/usr/bin/env python3
"""Time the MRI artefact peers (TorchIO, MONAI) on the input artefact-mri's criterion benches
use, single-threaded, and print ratios against the Rust timings.

Input: middle axial slice of tests/data/nifti/mni152_t1_1mm.nii.gz (233x197), zero-padded
(centred) to 256x256, exactly as physics/mri/benches/artifacts.rs builds it; the whole
197x233x189 volume for 3-D motion.

Usage (not run in CI):
    python3 -m venv /work/.venvs/mri && /work/.venvs/mri/bin/pip install -r bench/mri/requirements-artifacts.txt
    CARGO_TARGET_DIR=/work/target-x cargo bench -p artefact-mri --bench artifacts
    /work/.venvs/mri/bin/python bench/mri/compare_artifacts.py --criterion /work/target-x/criterion

Peers are called the way a user would (transform objects, probability 1), with parameters
close to the Rust bench: motion with 2 transforms, 4 ghosts, 1 spike, bias order 3. The 2-D
peers run single-threaded; 3-D motion is timed twice, both sides on one thread and both sides
on all cores (torch intra-op threads and SimpleITK's resampler threads).
Peer times are medians over repeated calls after a warm-up.
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import nibabel as nib  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
try:
    import SimpleITK as sitk  # TorchIO resamples with SimpleITK, which has its own threads

    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
except Exception:  # pragma: no cover
    sitk = None

import torchio as tio  # noqa: E402
from monai import transforms as mt  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MNI = REPO / "tests/data/nifti/mni152_t1_1mm.nii.gz"


def load_inputs():
    vol = np.asarray(nib.load(str(MNI)).dataobj, dtype=np.float32)  # (i, j, k) = (197, 233, 189)
    # artefact's Volume is (k, j, i); its axis-0 middle slice is nib[:, :, k/2].T (233 x 197)
    sl = vol[:, :, vol.shape[2] // 2].T
    x = np.zeros((256, 256), np.float32)
    o0, o1 = (256 - sl.shape[0]) // 2, (256 - sl.shape[1]) // 2
    x[o0:o0 + sl.shape[0], o1:o1 + sl.shape[1]] = sl
    return x, vol


MIN_TIMES = {}


def median_time(fn, repeat, warmup=2):
    """Median wall time; the minimum is kept in MIN_TIMES (less sensitive to a loaded machine)."""
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    MIN_TIMES[fn] = min(ts)
    return statistics.median(ts)


def rust_time(criterion_dir, group, name):
    p = Path(criterion_dir) / group / name / "new" / "estimates.json"
    if not p.exists():
        return None
    est = json.loads(p.read_text())
    return est["median"]["point_estimate"] * 1e-9


def rust_min_time(criterion_dir, group, name):
    """Fastest per-iteration time among criterion's samples (sample.json)."""
    p = Path(criterion_dir) / group / name / "new" / "sample.json"
    if not p.exists():
        return None
    s = json.loads(p.read_text())
    return min(t / i for t, i in zip(s["times"], s["iters"])) * 1e-9


def main():
    ap = argparse.ArgumentParser()
    default_target = os.environ.get("CARGO_TARGET_DIR", str(REPO / "target"))
    ap.add_argument("--criterion", default=str(Path(default_target) / "criterion"))
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--repeat3d", type=int, default=3)
    ap.add_argument("--skip3d", action="store_true")
    args = ap.parse_args()

    x, vol = load_inputs()
    subj2d = tio.Subject(img=tio.ScalarImage(tensor=torch.from_numpy(x)[None, :, :, None]))
    arr2d = torch.from_numpy(x)[None]  # MONAI channel-first (1, H, W)

    peers = {
        "motion": {
            "TorchIO RandomMotion": lambda: tio.RandomMotion(
                degrees=5, translation=5, num_transforms=2)(subj2d),
        },
        "ghosting": {
            # fixed ranges: a bare `num_ghosts=4` draws the count from {0..4} and
            # `intensity=0.5` from (-0.5, 0.5), so some calls do no work; artefact's bench
            # applies exactly R = 4, intensity 0.5, 2 % kept centre
            "TorchIO RandomGhosting": lambda: tio.RandomGhosting(
                num_ghosts=(4, 4), axes=(0,), intensity=(0.5, 0.5), restore=0.02)(subj2d),
        },
        "spike": {
            # fixed ranges (a bare `num_spikes=1` draws 0 or 1 spikes): one spike of
            # 0.1 × the spectrum maximum, as in artefact's bench
            "TorchIO RandomSpike": lambda: tio.RandomSpike(
                num_spikes=(1, 1), intensity=(0.1, 0.1))(subj2d),
            "MONAI RandKSpaceSpikeNoise": lambda: mt.RandKSpaceSpikeNoise(prob=1.0)(arr2d),
        },
        "bias_field": {
            "TorchIO RandomBiasField": lambda: tio.RandomBiasField(coefficients=0.5, order=3)(subj2d),
            "MONAI RandBiasField": lambda: mt.RandBiasField(prob=1.0, degree=3)(arr2d),
        },
        "noise": {
            "TorchIO RandomNoise": lambda: tio.RandomNoise(std=0.05)(subj2d),
        },
    }
    rust_names = {
        "motion": ("mri_artifacts_256", "motion"),
        "ghosting": ("mri_artifacts_256", "ghosting"),
        "spike": ("mri_artifacts_256", "spike"),
        "bias_field": ("mri_artifacts_256", "bias_field"),
        "noise": ("mri_artifacts_256", "noise"),  # SNR 20, one coil (Rician magnitude)
    }

    print(f"torch {torch.__version__}, torchio {tio.__version__}, threads={torch.get_num_threads()}")
    print("medians; in brackets the minimum over the repeats (peer) / criterion samples (rust)")
    print(f"{'simulator':<16}{'peer':<30}{'peer ms':>10}{'rust ms':>10}{'ratio':>9}"
          f"{'[peer min':>11}{'rust min':>10}{'ratio]':>9}")
    for op, table in peers.items():
        group, name = rust_names[op]
        rust = rust_time(args.criterion, group, name) if group else None
        rmin = rust_min_time(args.criterion, group, name) if group else None
        best = best_min = None
        for peer, fn in table.items():
            t = median_time(fn, args.repeat)
            tmin = MIN_TIMES[fn]
            best = t if best is None else min(best, t)
            best_min = tmin if best_min is None else min(best_min, tmin)
            r = f"{rust * 1e3:10.3f}" if rust else f"{'-':>10}"
            ratio = f"{t / rust:8.1f}x" if rust else f"{'-':>9}"
            mins = (f"{tmin * 1e3:11.3f}{rmin * 1e3:10.3f}{tmin / rmin:8.1f}x" if rmin
                    else f"{tmin * 1e3:11.3f}")
            print(f"{op:<16}{peer:<30}{t * 1e3:10.3f}{r}{ratio}{mins}")
        if rust and best:
            print(f"{'':<16}{'-> vs fastest peer':<30}{best * 1e3:10.3f}{rust * 1e3:10.3f}"
                  f"{best / rust:8.1f}x{best_min * 1e3:11.3f}{rmin * 1e3:10.3f}{best_min / rmin:8.1f}x")
    for op in ("wraparound", "susceptibility"):
        rust = rust_time(args.criterion, "mri_artifacts_256", op)
        r = f"{rust * 1e3:10.3f}" if rust else f"{'-':>10}"
        print(f"{op:<16}{'(no peer implementation)':<30}{'-':>10}{r}{'-':>9}")

    if not args.skip3d:
        # like for like: artefact on one thread against TorchIO with torch and SimpleITK on one
        # thread, and artefact on its default pool (all cores) against TorchIO on all cores
        subj3d = tio.Subject(img=tio.ScalarImage(tensor=torch.from_numpy(vol)[None]))
        fn = lambda: tio.RandomMotion(degrees=5, translation=5, num_transforms=2)(subj3d)  # noqa: E731
        cores = os.cpu_count() or 1
        for label, peer_threads in (("motion3d_1_thread", 1), ("motion3d_default_threads", cores)):
            torch.set_num_threads(peer_threads)
            if sitk is not None:
                sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(peer_threads)
            t = median_time(fn, args.repeat3d, warmup=1)
            tmin = MIN_TIMES[fn]
            rust = rust_time(args.criterion, "mri_motion_3d_mni", label)
            rmin = rust_min_time(args.criterion, "mri_motion_3d_mni", label)
            r = f"{rust * 1e3:10.1f}" if rust else f"{'-':>10}"
            ratio = f"{t / rust:8.1f}x" if rust else f"{'-':>9}"
            mins = (f"{tmin * 1e3:11.1f}{rmin * 1e3:10.1f}{tmin / rmin:8.1f}x" if rmin
                    else f"{tmin * 1e3:11.1f}")
            who = f"TorchIO {peer_threads} thr vs {label[9:]}"
            print(f"{'motion 3D MNI':<16}{who:<30}{t * 1e3:10.1f}{r}{ratio}{mins}")
        torch.set_num_threads(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
