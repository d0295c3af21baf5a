#!/usr/bin/env python3
"""Scale benchmark of `artefact build` (issue #17): build time, peak RSS and where the time
goes for 1,000 / 10,000 / 100,000 samples from full-size sources.

The collection is generated from the bundled files, re-keyed as distinct subjects:
  - CT: tests/data/dicom/CT_head_512.dcm (512 x 512) copies, each with its own PatientID
    (same-length value patched in place, so every copy is a valid DICOM file of a new subject);
  - MR: tests/data/dicom/MR_abdomen_484.dcm (484 x 484) copies, likewise;
  - 3-D MR: tests/data/nifti/mni152_t1_1mm.nii.gz (197 x 233 x 189) hard links under distinct
    names (NIfTI keys follow the path), 10 slices each.
A sample is one rendered image; with the default 2 attributes per slice every clean slice
gives 5 images (clean + 2 x mild/severe), so S samples need S/5 slices: 40 % CT, 30 % MR, 30 %
from the volumes. Every bundled CT and MR attribute recipe is used.

Usage:
  cargo build --release
  python3 bench/scale/run.py                      # 1,000 and 10,000 samples
  python3 bench/scale/run.py --samples 100000     # the full run (long; needs ~15 GB disk)

Prints one table row per size (wall time, peak RSS, throughput per core) and the stage and
per-attribute split that `build --timings` reports. Standard library only.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CT = ROOT / "tests/data/dicom/CT_head_512.dcm"
MR = ROOT / "tests/data/dicom/MR_abdomen_484.dcm"
MNI = ROOT / "tests/data/nifti/mni152_t1_1mm.nii.gz"
PATIENT_ID = b"\x10\x00\x20\x00LO"  # (0010,0020) LO, explicit VR little endian


def rekeyed(src: Path, dst_dir: Path, count: int, tag: str) -> None:
    """`count` copies of `src`, each with a distinct same-length PatientID."""
    data = src.read_bytes()
    at = data.find(PATIENT_ID)
    if at < 0:
        sys.exit(f"{src}: no explicit-VR PatientID element to re-key")
    length = int.from_bytes(data[at + 6 : at + 8], "little")
    start = at + 8
    if length < 7:
        sys.exit(f"{src}: PatientID of {length} bytes is too short to re-key")
    for i in range(count):
        new = f"{tag}{i:0{length - len(tag)}d}".encode()[:length]
        (dst_dir / f"{tag}{i:07d}.dcm").write_bytes(data[:start] + new + data[start + length :])


def collection(work: Path, slices: int) -> dict:
    """Generate (or reuse) the collection for `slices` clean slices; returns counts."""
    n_ct = max(1, round(0.4 * slices))
    n_mr = max(1, round(0.3 * slices))
    n_vol = max(1, round(0.3 * slices / 10))
    src = work / f"sources-{slices}"
    if not (src / ".complete").exists():
        shutil.rmtree(src, ignore_errors=True)
        for d in ("ct", "mr", "vol"):
            (src / d).mkdir(parents=True)
        rekeyed(CT, src / "ct", n_ct, "C")
        rekeyed(MR, src / "mr", n_mr, "M")
        for i in range(n_vol):
            dst = src / "vol" / f"subject{i:06d}.nii.gz"
            try:
                os.link(MNI, dst)
            except OSError:
                shutil.copyfile(MNI, dst)
        (src / ".complete").write_text("ok\n")
    return {"dir": src, "ct": n_ct, "mr": n_mr, "volumes": n_vol}


def recipe(work: Path, col: dict, samples: int) -> Path:
    images = samples
    text = f"""[benchmark]
name = "scale-{samples}"
seed = 17
image_size = 256

[[sources]]
path = "{col['dir']}/ct/*.dcm"

[[sources]]
path = "{col['dir']}/mr/*.dcm"

[[sources]]
path = "{col['dir']}/vol/*.nii.gz"

[selection]
slices_per_volume = 10
min_foreground = 0.1

[attributes]
recipes = ["{ROOT}/recipes/ct/*.toml", "{ROOT}/recipes/mri/*.toml"]

[questions]
yes_no = {images}
what = {images // 2}
how = {images // 2}

[pairs]
coarse = {images // 10}
fine = {images // 10}

[splits]
test = 0.7
dev = 0.3
"""
    p = work / f"scale-{samples}.toml"
    p.write_text(text)
    return p


def run(binary: Path, bench: Path, out: Path, jobs: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        "/usr/bin/time", "-f", "TIME %e %M",
        str(binary), "build", str(bench), "-o", str(out),
        "--jobs", str(jobs), "--timings", "--key-secret", "scale bench",
        "--allow-shortfall", "--keep-going",
    ]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    if p.returncode != 0:
        sys.exit(f"build failed ({p.returncode}):\n{p.stderr[-3000:]}")
    m = re.search(r"TIME ([\d.]+) (\d+)", p.stderr)
    built = re.search(r"(\d+) images from (\d+) clean slices", p.stdout)
    return {
        "wall": float(m.group(1)) if m else wall,
        "rss_mb": int(m.group(2)) / 1024 if m else float("nan"),
        "images": int(built.group(1)) if built else 0,
        "slices": int(built.group(2)) if built else 0,
        "timings": p.stderr[: p.stderr.find("TIME")].strip(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--work", type=Path, default=Path("/tmp/artefact-scale"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--bin", type=Path, default=ROOT / "target/release/artefact")
    ap.add_argument("--keep", action="store_true", help="keep the built trees")
    a = ap.parse_args()
    if not a.bin.exists():
        sys.exit(f"{a.bin} not found: run `cargo build --release` first")
    a.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for s in a.samples:
        col = collection(a.work, -(-s // 5))
        bench = recipe(a.work, col, s)
        out = a.work / f"out-{s}"
        r = run(a.bin, bench, out, a.jobs)
        if not a.keep:
            shutil.rmtree(out, ignore_errors=True)
        rows.append((s, col, r))
        print(f"\n## {s} samples ({col['ct']} CT 512², {col['mr']} MR 484², "
              f"{col['volumes']} MNI volumes), --jobs {a.jobs}\n")
        print(r["timings"])
        sys.stdout.flush()
    print("\n| samples asked | images built | clean slices | sources | wall s | peak RSS MB "
          "| images/s | images/s per core |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s, col, r in rows:
        n_src = col["ct"] + col["mr"] + col["volumes"]
        ips = r["images"] / r["wall"]
        print(f"| {s:,} | {r['images']:,} | {r['slices']:,} | {n_src:,} | {r['wall']:.1f} "
              f"| {r['rss_mb']:.0f} | {ips:.1f} | {ips / a.jobs:.1f} |")


if __name__ == "__main__":
    main()
