#!/usr/bin/env python3
"""Time artefact-mri's undersampling / noise / Gibbs against fastMRI and MONAI (single thread).

Input: the middle axial slice of tests/data/nifti/mni152_t1_1mm.nii.gz, zero-padded to 256x256,
float32. The same array is written as raw little-endian f32 and timed with the Rust example
`physics/mri/examples/sampling_timing.rs` (release build). Peers, all with
torch.set_num_threads(1):

- fastMRI: RandomMaskFunc([0.08], [4]) mask + fastmri.fft2c + masking + fastmri.ifft2c +
  fastmri.complex_abs (the zero-filled baseline), and the same with EquispacedMaskFractionFunc
  at 8x/0.04.
- MONAI RandGibbsNoise(prob=1, alpha=(0.5, 0.5)) and RandRicianNoise(prob=1, std=...).

Prints a table of median times and ratios peer / artefact.
Usage:  python bench/mri/compare_sampling.py [--repo /path/to/artefact] [--iters 200] [--cargo-root DIR]
"""
import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch


def median_ms(fn, iters):
    for _ in range(5):
        fn()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    return ts[len(ts) // 2], ts[0]


def load_slice(repo):
    import nibabel as nib

    vol = np.asarray(nib.load(os.path.join(repo, "tests/data/nifti/mni152_t1_1mm.nii.gz")).dataobj,
                     dtype=np.float32)
    # NIfTI (i, j, k): axial = k; artefact's Volume is (slices, rows, cols) = (k, j, i)
    sl = vol[:, :, vol.shape[2] // 2].T  # (rows=j, cols=i)
    out = np.zeros((256, 256), np.float32)
    r0, c0 = (256 - sl.shape[0]) // 2, (256 - sl.shape[1]) // 2
    out[r0:r0 + sl.shape[0], c0:c0 + sl.shape[1]] = sl
    return out


def subsample_module():
    import fastmri

    path = os.path.join(os.path.dirname(fastmri.__file__), "data", "subsample.py")
    spec = importlib.util.spec_from_file_location("fastmri_subsample", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # avoids fastmri.data.__init__ (needs `requests`)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", default=os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--cargo-root", default=None, help="workspace to build the Rust example in (default: --repo)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    img = load_slice(args.repo)

    import fastmri
    from monai.transforms import RandGibbsNoise, RandRicianNoise

    sub = subsample_module()
    x = torch.from_numpy(img)
    xc = torch.stack([x, torch.zeros_like(x)], dim=-1)  # (256, 256, 2)

    def fastmri_zf(mask_func):
        def run():
            k = fastmri.fft2c(xc)
            mask, _ = mask_func(k.shape)  # shape (1, 256, 1): columns, as in fastMRI
            k = k * mask + 0.0
            return fastmri.complex_abs(fastmri.ifft2c(k))
        return run

    rnd = sub.RandomMaskFunc([0.08], [4])
    eqf = sub.EquispacedMaskFractionFunc([0.04], [8])
    fg = img[img > np.percentile(img[img > 0], 50)].mean()
    gibbs = RandGibbsNoise(prob=1.0, alpha=(0.5, 0.5))
    rician = RandRicianNoise(prob=1.0, std=float(fg / 20.0), relative=False, channel_wise=False)
    x1 = x[None]  # MONAI: channel-first (1, 256, 256)

    peers = {
        "undersampling_random_4x": ("fastMRI RandomMaskFunc 4x/0.08 + fft2c/ifft2c", fastmri_zf(rnd)),
        "undersampling_equispaced_fraction_8x": ("fastMRI EquispacedMaskFractionFunc 8x/0.04", fastmri_zf(eqf)),
        "gibbs_0.5": ("MONAI RandGibbsNoise alpha=0.5", lambda: gibbs(x1)),
        "noise_snr20": ("MONAI RandRicianNoise", lambda: rician(x1)),
    }
    peer_ms = {k: median_ms(fn, args.iters)[0] for k, (_, fn) in peers.items()}

    with tempfile.TemporaryDirectory() as d:
        raw = os.path.join(d, "slice.f32")
        img.astype("<f4").tofile(raw)
        env = dict(os.environ, RAYON_NUM_THREADS="1")
        cmd = ["cargo", "run", "-q", "--release", "-p", "artefact-mri", "--example", "sampling_timing",
               "--", raw, "256", "256"]
        out = subprocess.run(cmd, cwd=args.cargo_root or args.repo, env=env, check=True, capture_output=True, text=True).stdout
    ours = {}
    for line in out.strip().splitlines():
        name, med, mn, _ = line.split()
        ours[name] = float(med)

    print(f"{'operator':40s} {'artefact ms':>12s} {'peer ms':>10s} {'ratio':>7s}  peer")
    for name, med in ours.items():
        if name in peers:
            p = peer_ms[name]
            print(f"{name:40s} {med:12.3f} {p:10.3f} {p / med:7.2f}  {peers[name][0]}")
        else:
            print(f"{name:40s} {med:12.3f} {'-':>10s} {'-':>7s}  (no peer)")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
