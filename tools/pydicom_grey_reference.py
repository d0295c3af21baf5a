#!/usr/bin/env python3
"""Reference values of grey DICOM images from pydicom (with pylibjpeg), for the corpus test
`grey_corpus_matches_pydicom` of artefact-io (crates/io/tests/real_files.rs).

For every MONOCHROME1/2 image object of the folder that pydicom decodes: all frames through
the Modality LUT (`apply_modality_lut`, float64), and of them the shape, minimum, maximum and
sum (order-free, so the comparison does not depend on how frames are ordered into slices),
and the storable range through the same LUT (MONOCHROME1 is inverted over it).
Prints JSON keyed by the path relative to DIR (all files below it).

    python -m venv v && v/bin/pip install pydicom numpy pylibjpeg pylibjpeg-libjpeg \
        pylibjpeg-openjpeg pylibjpeg-rle
    v/bin/python tools/pydicom_grey_reference.py DIR > grey.json
    ARTEFACT_GREY_REF=grey.json ARTEFACT_DICOM_DIR=DIR \
        cargo test -p artefact-io --test real_files -- --ignored grey_corpus
"""
import glob
import json
import os
import sys
import warnings

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut

warnings.simplefilter("ignore")



def frame_rescales(ds, n):
    """(slope, intercept) per frame from the functional groups of an enhanced object (the
    Pixel Value Transformation macro, per frame before shared), or None when it has none."""
    def pvt(group):
        seq = group.get("PixelValueTransformationSequence") if group is not None else None
        if seq:
            it = seq[0]
            if "RescaleSlope" in it or "RescaleIntercept" in it:
                return float(it.get("RescaleSlope", 1)), float(it.get("RescaleIntercept", 0))
        return None

    shared = ds.get("SharedFunctionalGroupsSequence")
    shared = pvt(shared[0]) if shared else None
    per = ds.get("PerFrameFunctionalGroupsSequence") or []
    out = [(pvt(per[f]) if f < len(per) else None) or shared for f in range(n)]
    return out if any(r is not None for r in out) else None


def modality(a, ds):
    """Frames (first axis) through the Modality LUT; the enhanced objects' functional-group
    rescale where the top level has none (pydicom's apply_modality_lut reads the top level)."""
    fr = None if "RescaleSlope" in ds or "ModalityLUTSequence" in ds else frame_rescales(ds, len(a))
    if fr is None:
        return np.asarray(apply_modality_lut(a, ds), dtype=np.float64)
    out = np.asarray(a, dtype=np.float64).copy()
    for f in range(len(out)):
        s, i = fr[f] if fr[f] is not None else (1.0, 0.0)
        out[f] = out[f] * s + i
    return out


out = {}
root = sys.argv[1]
for p in sorted(glob.glob(os.path.join(root, "**", "*"), recursive=True)):
    if not os.path.isfile(p):
        continue
    try:
        ds = pydicom.dcmread(p)
        pi = str(ds.get("PhotometricInterpretation", ""))
        if not pi.startswith("MONOCHROME") or "PixelData" not in ds:
            continue
        a = ds.pixel_array
    except Exception:
        continue
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames == 1:
        a = a[None]
    v = modality(a, ds)
    # the storable range through the Modality LUT: MONOCHROME1 is inverted over it
    bits = int(ds.BitsStored)
    signed = int(ds.get("PixelRepresentation", 0)) == 1
    ends = np.array([-(1 << (bits - 1)), (1 << (bits - 1)) - 1] if signed else [0, (1 << bits) - 1])
    ends = modality(ends.astype(a.dtype)[None], ds)
    out[os.path.relpath(p, root)] = {
        "ts": str(ds.file_meta.TransferSyntaxUID),
        "shape": [int(x) for x in v.shape],
        "mono1": pi == "MONOCHROME1",
        "modality": str(ds.get("Modality", "")),
        "min": float(v.min()),
        "max": float(v.max()),
        "sum": float(v.sum()),
        "store_lo": float(ends.min()),
        "store_hi": float(ends.max()),
    }
json.dump(out, sys.stdout, indent=1, sort_keys=True)
