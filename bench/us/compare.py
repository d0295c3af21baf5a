#!/usr/bin/env python3
"""Compare artefact-us with pymust (SIMUS + delay-and-sum + bmode) on a comparable phantom.

What is compared
----------------
Both simulators image the same 512x512 echogenicity phantom (background 0.7, an anechoic cyst,
a bright inclusion; identical to physics/us/benches/bmode.rs) with a 7.5 MHz linear, 3.5 MHz
convex and 2.5 MHz phased array and produce a 512x512 B-mode image:

* pymust: genscat (scatterers from the image, mean distance from the probe's wavelength) ->
  simus (one unfocused transmit: plane wave for linear/convex, 90-degree circular wave for the
  phased array; full frequency-domain element-by-element diffraction model) -> rf2iq ->
  dasmtx (delay-and-sum onto a 512x512 grid, polar grid for sector probes) -> bmode (60 dB).
* artefact-us: simulate_bmode (scatterers -> IQ by separable Gaussian PSF convolution on the
  beam grid -> envelope -> log -> scan conversion), timings read from criterion
  (run `CARGO_TARGET_DIR=... cargo bench -p artefact-us --bench bmode` first).

Caveat: the models differ. SIMUS computes the acoustic field of every element (diffraction,
directivity, frequency-dependent attenuation) and beamforms synthetically from one transmit;
artefact-us assumes a separable Gaussian pulse-echo PSF with ideal dynamic focusing on every
line. The ratio is "time to a comparable 512x512 B-mode image", not equal physics. Speckle
statistics (envelope mean/std over the uniform background, 1.91 for Rayleigh) are printed for
both as a sanity check of the comparable regime.

Usage: python compare.py [--target-dir /work/target-us] [--probes linear,convex,phased]
"""
import argparse
import json
import os
import time

# single-threaded peer (the artefact-us target is single-threaded too)
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
import pymust  # noqa: E402

N = 512
PYMUST_PROBES = {"linear": "L11-5v", "convex": "C5-2v", "phased": "P4-2v"}


def phantom(n=N):
    y, x = np.mgrid[0:n, 0:n] / n
    d1 = np.hypot(x - 0.35, y - 0.5)
    d2 = np.hypot(x - 0.65, y - 0.6)
    img = np.full((n, n), 0.7)
    img[d2 < 0.06] = 0.95
    img[d1 < 0.08] = 0.0
    return img


def run_pymust(kind, img):
    param = pymust.getparam(PYMUST_PROBES[kind])
    param.fs = 4 * param.fc
    t = {}
    c0 = time.process_time()
    t0 = time.perf_counter()
    # echogenicity (display grey) -> backscatter amplitude over 60 dB, as artefact-us does
    amp = np.where(img > 0, 10 ** (60 * (img - 1) / 20), 0.0)
    if kind == "linear":
        width = param.Nelements * param.pitch
        depth = width  # square image
        xs, _, zs, rc = pymust.genscat([width, depth], param, amp)
        dels = pymust.txdelay(param, 0)
        x, z = np.meshgrid(np.linspace(-width / 2, width / 2, N), np.linspace(0, depth, N))
    elif kind == "convex":
        depth = 0.12
        xs, _, zs, rc = pymust.genscat([np.nan, depth], param, amp)
        dels = pymust.txdelay(param, 0)
        x, z = pymust.impolgrid(N, depth, param)
    else:
        depth = 0.14
        xs, _, zs, rc = pymust.genscat([np.nan, depth], param, amp)
        dels = pymust.txdelay(param, 0, np.pi / 2)
        x, z = pymust.impolgrid(N, depth, np.pi / 2, param)
    t["genscat"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    # simus returns (RF, spectrum) and sets param.fs etc. in place
    rf, _ = pymust.simus(xs, zs, rc, dels, param)
    t["simus"] = time.perf_counter() - t1
    print(f"  {kind}: {len(xs)} scatterers, genscat {t['genscat']:.2f} s, "
          f"simus {t['simus']:.2f} s", flush=True)
    t2 = time.perf_counter()
    iq = pymust.rf2iq(rf, float(np.ravel(param.fs)[0]), float(np.ravel(param.fc)[0]))
    m = pymust.dasmtx(iq, x, z, dels, param)
    iqb = (m @ iq.flatten(order="F")).reshape(x.shape, order="F")
    t["rf2iq+das"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    b = pymust.bmode(iqb, 60)
    t["bmode"] = time.perf_counter() - t3
    t["total"] = time.perf_counter() - t0
    t["cpu_total"] = time.process_time() - c0
    env = np.abs(iqb)
    return t, env, len(xs), b


def speckle_ratio(env):
    # uniform background band near the top-left quarter, away from the cyst and inclusion
    n = env.shape[0]
    r = env[n // 8 : 3 * n // 8, n // 8 : n // 4].ravel()
    r = r[r > 0]
    return float(r.mean() / r.std())


def criterion_ms(target_dir, kind):
    p = os.path.join(target_dir, "criterion", "bmode_512", kind, "new", "estimates.json")
    try:
        with open(p) as f:
            return json.load(f)["mean"]["point_estimate"] / 1e6
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    ap.add_argument("--probes", default="linear,convex,phased")
    args = ap.parse_args()
    img = phantom()
    rows = []
    for kind in args.probes.split(","):
        t, env, nscat, _ = run_pymust(kind, img)
        ours = criterion_ms(args.target_dir, kind)
        ratio = (t["total"] * 1e3 / ours) if ours else float("nan")
        rows.append((kind, nscat, t, ours, ratio, speckle_ratio(env)))
        steps = ", ".join(f"{k} {v:.2f} s" for k, v in t.items() if k not in ("total", "cpu_total"))
        print(f"{kind}: pymust {t['total']:.2f} s wall, {t['cpu_total']:.2f} s CPU ({nscat} scatterers; {steps}); "
              f"artefact-us {ours if ours else float('nan'):.1f} ms; ratio {ratio:.0f}x; "
              f"pymust envelope mean/std {rows[-1][5]:.2f}", flush=True)
    print("\n| probe | pymust simus+das+bmode wall (s) | CPU (s) | scatterers "
          "| artefact-us criterion (ms) | ratio (wall) |")
    print("|---|---|---|---|---|---|")
    for kind, nscat, t, ours, ratio, _ in rows:
        o = f"{ours:.1f}" if ours else "n/a"
        print(f"| {kind} | {t['total']:.2f} | {t['cpu_total']:.2f} | {nscat} | {o} "
              f"| {ratio:.0f}x |")


if __name__ == "__main__":
    main()
