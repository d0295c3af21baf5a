"""List the files of a folder that pydicom decodes (pixel_array succeeds), one per line, and
survey whether `artefact inspect --allow-burned-in FILE` reads each of them.

    /work/venv-dicom/bin/python tools/pydicom_decodable.py DIR [ARTEFACT_BINARY]

Needs pydicom with pylibjpeg, pylibjpeg-libjpeg, pylibjpeg-openjpeg, pylibjpeg-rle, numpy.
Prints `ok|FAIL  name  transfer-syntax  reason` per decodable file, then the count.
"""
import glob, os, subprocess, sys, warnings

import pydicom

warnings.simplefilter("ignore")


def decodable(d):
    out = []
    for p in sorted(glob.glob(os.path.join(d, "**", "*"), recursive=True)):
        if not os.path.isfile(p):
            continue
        try:
            ds = pydicom.dcmread(p, force=True)
            ds.pixel_array
        except Exception:
            continue
        ts = str(getattr(ds.file_meta, "TransferSyntaxUID", "")) if hasattr(ds, "file_meta") else ""
        out.append((p, ts))
    return out


if __name__ == "__main__":
    files = decodable(sys.argv[1])
    exe = sys.argv[2] if len(sys.argv) > 2 else None
    ok = 0
    for p, ts in files:
        if exe is None:
            print(p)
            continue
        r = subprocess.run([exe, "inspect", "--allow-burned-in", "--strict", p], capture_output=True, text=True)
        good = r.returncode == 0
        ok += good
        why = "" if good else (r.stderr.strip().splitlines() or [""])[-1][:160]
        print(f"{'ok  ' if good else 'FAIL'}  {os.path.basename(p)}  {ts}  {why}")
    if exe:
        print(f"{ok} of {len(files)} pydicom-decodable files read by artefact inspect")
