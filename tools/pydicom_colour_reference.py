#!/usr/bin/env python3
"""Reference colour values of DICOM objects from pydicom (with pylibjpeg), for the tests of
artefact-io's colour DICOM reader (crates/io/tests/dicom_colour.rs).

For each file: the middle frame as RGB (PALETTE COLOR through `apply_color_lut`, YBR through
pydicom's default conversion to RGB), divided by its full scale (2^BitsStored - 1, or the LUT's:
255 when no entry exceeds 255, else 65535), so values are encoded colour in [0, 1]. Prints JSON:
per file the shape, per-channel mean and 12 pixels at fixed positions.

    python -m venv v && v/bin/pip install pydicom numpy pylibjpeg pylibjpeg-libjpeg \
        pylibjpeg-openjpeg pylibjpeg-rle
    v/bin/python tools/pydicom_colour_reference.py FILE... > ref.json
"""
import json
import sys

import numpy as np
import pydicom
from pydicom.pixels import apply_color_lut


def reference(path):
    """The reference entry of a colour object; None (with a note on stderr) for anything else
    or what pydicom cannot decode, so a whole folder can be given."""
    try:
        ds = pydicom.dcmread(path)
        arr = ds.pixel_array
    except Exception as e:  # not DICOM, no pixel data, or no decoder
        print(f"{path}: skipped ({type(e).__name__})", file=sys.stderr)
        return None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    pi = ds.PhotometricInterpretation
    if frames > 1:
        arr = arr[frames // 2]
    if pi == "PALETTE COLOR":
        rgb = apply_color_lut(arr, ds).astype(np.float64)
        scale = 255.0 if rgb.max() <= 255 else 65535.0
    elif arr.ndim == 3:
        rgb = arr.astype(np.float64)
        scale = 2.0 ** int(ds.BitsStored) - 1
    else:
        print(f"{path}: skipped (not a colour object)", file=sys.stderr)
        return None
    rgb = rgb / scale
    rows, cols = rgb.shape[:2]
    picks = [((7 * k + 3) % rows, (13 * k + 5) % cols) for k in range(12)]
    return {
        "ts": str(ds.file_meta.TransferSyntaxUID),
        "rows": rows,
        "cols": cols,
        "frames": frames,
        "mean": [float(rgb[..., c].mean()) for c in range(3)],
        "pixels": [[r, c, [float(v) for v in rgb[r, c, :3]]] for r, c in picks],
    }


if __name__ == "__main__":
    out = {p.rsplit("/", 1)[-1]: reference(p) for p in sys.argv[1:]}
    out = {k: v for k, v in out.items() if v is not None}
    json.dump(out, sys.stdout, indent=1)
