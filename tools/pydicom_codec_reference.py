"""SHA-256 of the decoded pixels pydicom gives for every JPEG-LS / RLE file of a folder:
the bytes of `ds.pixel_array` as little-endian samples of Bits Allocated (frames, rows,
columns, samples; pixel-interleaved), i.e. exactly what artefact-io's own codecs output.

    /work/venv-dicom/bin/python tools/pydicom_codec_reference.py DIR

(pydicom 3.0.2 + pylibjpeg 2.1 / pylibjpeg-libjpeg 2.5 / pylibjpeg-rle 2.2, numpy 2.4.)
Prints `name  transfer-syntax-uid  shape  sha256` per file.
"""
import glob, hashlib, os, sys, warnings

import numpy as np
import pydicom

warnings.simplefilter("ignore")
TS = ("1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.5")

for p in sorted(glob.glob(os.path.join(sys.argv[1], "*.dcm"))):
    try:
        ds = pydicom.dcmread(p)
        ts = str(ds.file_meta.TransferSyntaxUID)
    except Exception:
        continue
    if ts not in TS:
        continue
    try:
        a = ds.pixel_array
    except Exception as e:
        print(f"# {os.path.basename(p)}: pydicom fails ({e})")
        continue
    a = a.astype(a.dtype.newbyteorder("<"))
    print(os.path.basename(p), ts, "x".join(map(str, a.shape)), hashlib.sha256(a.tobytes()).hexdigest())
