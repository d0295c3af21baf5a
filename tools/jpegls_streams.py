"""Write random JPEG-LS streams (CharLS encoder, pyjpegls) and libjpeg's decode of each, for
`cargo run -p artefact-jpegls --example jls_compare DIR` (X.jls + X.raw, little-endian u16,
pixel-interleaved):

    /work/venv-dicom/bin/python tools/jpegls_streams.py DIR

Needs numpy, pyjpegls, pylibjpeg-libjpeg. P = 2, 5, 8, 10, 12, 16 × smooth/flat/noise ×
grey and RGB with ILV 0/1/2 × NEAR 0, 1, 3 (204 streams with seed 1).
"""
import os, sys

import jpeg_ls
import libjpeg
import numpy as np

rng = np.random.default_rng(1)


def img(h, w, nc, bits, kind):
    m = (1 << bits) - 1
    y, x = np.mgrid[0:h, 0:w]
    base = (np.sin(x / 7.0) + np.cos(y / 11.0) + 2) / 4 * m
    if kind == "flat":
        base = np.where((x // 13 + y // 9) % 3 == 0, m // 3, np.where(x > y, m, 0)).astype(float)
        base += (rng.random((h, w)) < 0.02) * rng.integers(0, m + 1, (h, w))
    elif kind == "noise":
        base = rng.integers(0, m + 1, (h, w)).astype(float)
    else:
        base += rng.normal(0, m * 0.01, (h, w))
    base = np.clip(np.round(base), 0, m)
    t = np.uint16 if bits > 8 else np.uint8
    if nc == 1:
        return base.astype(t)
    return np.stack([base, np.clip(m - base, 0, m), np.roll(base, 5, axis=1)], axis=-1).astype(t)


out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for bits in [2, 5, 8, 10, 12, 16]:
    for kind in ["smooth", "flat", "noise"]:
        for nc, ilv in [(1, None), (3, 0), (3, 1), (3, 2)]:
            for near in [0, 1, 3]:
                if near > ((1 << bits) - 1) // 2:
                    continue
                h, w = int(rng.integers(1, 70)), int(rng.integers(1, 90))
                a = img(h, w, nc, bits, kind)
                src = a if nc == 1 or ilv != 0 else np.ascontiguousarray(a.transpose(2, 0, 1))
                enc = bytes(jpeg_ls.encode_array(src, lossy_error=near, interleave_mode=ilv))
                dec = libjpeg.decode(enc)
                name = f"b{bits}_{kind}_c{nc}_i{ilv}_n{near}_{h}x{w}"
                open(os.path.join(out, name + ".jls"), "wb").write(enc)
                dec.astype("<u2").tofile(os.path.join(out, name + ".raw"))
