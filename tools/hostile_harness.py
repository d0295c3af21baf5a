#!/usr/bin/env python3
"""Out-of-process hostile-input harness for the `artefact` binary (issue #14).

Builds thousands of mutants of the real files in tests/data (truncations, byte flips, DICOM
header and element-length tampering, NIfTI header tampering, PNG dimension bombs, gzip bit
flips, splices), odd files (empty, FIFO, device links, symlink loops, /proc entries, gzip and
PNG bombs) and tampered recipes, then runs the release binary on each under a 2 GB
address-space limit (RLIMIT_AS) and a 20 s timeout, as a curator's archive would:

    artefact inspect --strict MUTANT          every mutant
    artefact degrade MUTANT -a ... -o X.png|.nii.gz|.dcm   a sample of the mutants inspect accepts
    artefact recipes check FILE               every tampered recipe
    artefact build --keep-going               one build over good and hostile files mixed,
                                              compared with a build of the good files alone

and counts panics (exit 101), aborts and other signals, hangs (timeouts), and errors that do
not name their file. Exit status 1 when any of those is non-zero.

    cargo build --release -p artefact-cli
    python3 tools/hostile_harness.py --bin target/release/artefact --work /tmp/hostile

Standard library only. Deterministic for a given --seed.
"""

import argparse
import concurrent.futures
import gzip
import hashlib
import json
import os
import random
import resource
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
AS_LIMIT = 2_000_000 * 1024  # `ulimit -v 2000000` (KiB)
TIMEOUT = 20.0


def limit():
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def run(cmd, cwd=None, timeout=TIMEOUT):
    """(kind, rc, output): kind in ok | error | panic | signal | hang."""
    try:
        p = subprocess.run(
            cmd,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=limit,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        return "hang", None, (e.output or b"").decode("utf-8", "replace")
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode == 0:
        return "ok", 0, out
    if p.returncode == 101:
        return "panic", 101, out
    if p.returncode < 0 or p.returncode >= 128:
        return "signal", p.returncode, out
    return "error", p.returncode, out


# ---------------------------------------------------------------- file mutators


def flips(rng, b, k, lo=0, hi=None):
    b = bytearray(b)
    hi = len(b) if hi is None else min(hi, len(b))
    for _ in range(k):
        if hi <= lo:
            break
        i = rng.randrange(lo, hi)
        b[i] = rng.randrange(256)
    return bytes(b)


def dicom_elements(b):
    """Offsets of plausible explicit-VR little-endian element headers (tag, VR, offset)."""
    vrs = {
        b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT",
        b"OB", b"OD", b"OF", b"OL", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"TM",
        b"UI", b"UL", b"UN", b"US", b"UT", b"UC", b"UR", b"OV", b"SV", b"UV",
    }
    out = []
    for i in range(128, len(b) - 8):
        if b[i + 4 : i + 6] in vrs and b[i + 1] in (0x00, 0x7F) and b[i] % 2 == 0:
            g, e = struct.unpack_from("<HH", b, i)
            out.append(((g, e), b[i + 4 : i + 6], i))
        if len(out) > 400:
            break
    return out


LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"OV", b"SV", b"UV"}


def tamper_dicom(rng, b):
    els = dicom_elements(b)
    if not els:
        return flips(rng, b, 8)
    b = bytearray(b)
    (g, e), vr, i = rng.choice(els)
    pick = rng.random()
    if pick < 0.4:  # the length field
        if vr in LONG_VRS:
            v = rng.choice([0, 1, 3, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF, 0x80000000, len(b) * 7])
            struct.pack_into("<I", b, i + 8, v & 0xFFFFFFFF)
        else:
            struct.pack_into("<H", b, i + 6, rng.choice([0, 1, 3, 0x7FFF, 0xFFFF]))
    elif vr == b"US":
        struct.pack_into("<H", b, i + 8, rng.choice([0, 1, 2, 3, 7, 0x7FFF, 0xFFFF]))
    elif vr in (b"DS", b"IS"):
        n = struct.unpack_from("<H", b, i + 6)[0]
        txt = rng.choice([b"0", b"-1", b"1e30", b"nan", b"inf", b"-0", b"1e-40", b"\\", b"x"])
        b[i + 8 : i + 8 + n] = txt[:n].ljust(n, b" ")
    elif vr == b"UI" and g == 2:
        n = struct.unpack_from("<H", b, i + 6)[0]
        uid = rng.choice([
            b"1.2.840.10008.1.2.5", b"1.2.840.10008.1.2.4.90", b"1.2.840.10008.1.2.4.80",
            b"1.2.840.10008.1.2.4.50", b"1.2.840.10008.1.2.4.51", b"1.2.840.10008.1.2.4.70",
            b"1.2.840.10008.1.2.2", b"1.2.840.10008.1.2", b"1.2.840.10008.1.2.1",
            b"1.2.840.10008.1.2.1.99",
        ])
        b[i + 8 : i + 8 + n] = uid[:n].ljust(n, b"\0")
    elif vr == b"CS":
        n = struct.unpack_from("<H", b, i + 6)[0]
        txt = rng.choice([b"RGB", b"YBR_FULL", b"PALETTE COLOR", b"MONOCHROME1", b"YBR_FULL_422", b"YES"])
        b[i + 8 : i + 8 + n] = txt[:n].ljust(n, b" ")
    else:
        return flips(rng, bytes(b), 4, i, i + 16)
    return bytes(b)


def maybe_gunzip(b):
    if b[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(b), True
        except Exception:
            return b, False
    return b, False


def tamper_nifti(rng, raw, was_gz):
    b = bytearray(raw)
    if len(b) < 352:
        return bytes(b)
    nifti2 = struct.unpack_from("<i", b, 0)[0] == 540
    if nifti2:
        off = rng.choice([16, 24, 32, 40, 168])  # dim[0..], vox_offset
        struct.pack_into("<q", b, off, rng.choice([0, -1, 1 << 40, 2**62, 7]))
    else:
        what = rng.randrange(5)
        if what == 0:
            k = rng.randrange(8)
            struct.pack_into("<h", b, 40 + 2 * k, rng.choice([0, -1, 1, 7, 32767, -32768]))
        elif what == 1:
            struct.pack_into("<h", b, 70, rng.choice([0, 1, 2, 4, 8, 16, 32, 64, 128, 255, 511, 1536, 2304, 9999]))
        elif what == 2:
            struct.pack_into("<h", b, 72, rng.choice([0, 1, 7, 8, 16, 64, 255]))
        elif what == 3:
            struct.pack_into("<f", b, 108, rng.choice([0.0, -352.0, 1e30, float("nan"), 353.0, 3e9]))
        else:
            k = rng.randrange(8)
            struct.pack_into("<f", b, 76 + 4 * k, rng.choice([0.0, -1.0, 1e30, float("nan"), float("inf")]))
    out = bytes(b)
    return gzip.compress(out, 1, mtime=0) if was_gz else out


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def tamper_png(rng, b):
    if b[:8] != b"\x89PNG\r\n\x1a\n" or len(b) < 33:
        return flips(rng, b, 8)
    b = bytearray(b)
    w, h = rng.choice([(30000, 30000), (65535, 1), (1, 65535), (0, 10), (1 << 31, 2), (100000, 100000)])
    struct.pack_into(">II", b, 16, w, h)
    if rng.random() < 0.8:  # fix the CRC so the decoder believes it
        struct.pack_into(">I", b, 29, zlib.crc32(bytes(b[12:29])) & 0xFFFFFFFF)
    return bytes(b)


def mutants(rng, path, per_file):
    raw = path.read_bytes()
    ext = "".join(path.suffixes[-2:]) if path.name.endswith(".nii.gz") else path.suffix
    out = []
    for j in range(per_file):
        kind = j % 6
        if kind == 0:
            cut = rng.choice([0, 1, 4, 128, 132, 200, 352, 348, len(raw) // 2, len(raw) - 1, rng.randrange(len(raw))])
            m = raw[: max(0, min(cut, len(raw) - 1))]
        elif kind == 1:
            m = flips(rng, raw, rng.randrange(1, 16), 0, 4096)
        elif kind == 2:
            m = flips(rng, raw, rng.randrange(1, 64))
        elif kind == 3 and ext == ".dcm":
            m = tamper_dicom(rng, raw)
        elif kind == 3 and ext in (".nii", ".nii.gz"):
            body, gz = maybe_gunzip(raw)
            m = tamper_nifti(rng, body, gz)
        elif kind == 3 and ext == ".png":
            m = tamper_png(rng, raw)
        elif kind == 4 and ext == ".dcm":
            m = tamper_dicom(rng, tamper_dicom(rng, raw))
        elif kind == 4 and ext == ".nii.gz":
            # flip bits in the deflate stream or the trailer: the CRC must catch it
            b = bytearray(raw)
            i = rng.choice([len(b) - 1 - rng.randrange(8), rng.randrange(10, len(b))])
            b[i] ^= 1 << rng.randrange(8)
            m = bytes(b)
        else:  # splice: this file's head, another offset's tail
            a = rng.randrange(len(raw))
            c = rng.randrange(len(raw))
            m = raw[:a] + raw[c:]
        out.append((f"{path.stem.replace('.nii', '')}_m{j:03d}{ext}", m))
    return out


def odd_files(d):
    """Files a real archive holds that are not (good) images."""
    d.mkdir(parents=True, exist_ok=True)
    made = []

    def put(name, data):
        (d / name).write_bytes(data)
        made.append(d / name)

    put("empty.dcm", b"")
    put("text.dcm", b"this is not a DICOM file\n" * 40)
    put("preamble_only.dcm", b"\0" * 128 + b"DICM")
    put("random.nii", random.Random(7).randbytes(1 << 20))
    put("random.png", b"\x89PNG\r\n\x1a\n" + random.Random(8).randbytes(4096))
    put("text.png", b"hello")
    put("gz_of_nothing.nii.gz", gzip.compress(b"", mtime=0))
    # a 30000^2 grey PNG of zeros: ~0.9 MB on disk, 900 MB decoded
    w = h = 30000
    comp = zlib.compressobj(9)
    row = b"\0" * (w + 1)
    idat = b"".join(comp.compress(row) for _ in range(h)) + comp.flush()
    put("bomb_30000.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
        + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))
    # a .nii.gz announcing 2048x2048x200 float32 whose data inflate from zeros
    hdr = bytearray(348)
    struct.pack_into("<i", hdr, 0, 348)
    struct.pack_into("<8h", hdr, 40, 3, 2048, 2048, 200, 1, 1, 1, 1)
    struct.pack_into("<hh", hdr, 70, 16, 32)
    struct.pack_into("<8f", hdr, 76, 1, 1, 1, 1, 1, 1, 1, 1)
    struct.pack_into("<f", hdr, 108, 352.0)
    struct.pack_into("<f", hdr, 112, 1.0)
    hdr[344:348] = b"n+1\0"
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 24)
    body = comp.compress(bytes(hdr) + b"\0" * 4)
    for _ in range(64):  # 1 GiB of zeros
        body += comp.compress(chunk)
    put("bomb_2048.nii.gz", body + comp.flush())
    try:
        os.mkfifo(d / "fifo.dcm")
        made.append(d / "fifo.dcm")
    except OSError:
        pass
    for name, target in [("zero.nii", "/dev/zero"), ("urandom.dcm", "/dev/urandom"),
                         ("environ.dcm", "/proc/self/environ"), ("dangling.dcm", "/nonexistent/x.dcm")]:
        os.symlink(target, d / name)
        made.append(d / name)
    loop = d / "loops"
    loop.mkdir()
    (loop / "a").symlink_to(".")
    (loop / "b").symlink_to(".")
    (loop / "self.dcm").symlink_to("self.dcm")
    shutil.copy(DATA / "dicom" / "MR_small.dcm", loop / "one.dcm")
    made.append(loop)
    deep = d / "deep"
    p = deep
    for k in range(80):
        p = p / f"d{k}"
    p.mkdir(parents=True)
    shutil.copy(DATA / "dicom" / "CT_small.dcm", p / "deep.dcm")
    made.append(deep)
    made.append(Path("/proc/self/task"))
    return made


# ---------------------------------------------------------------- recipe mutators


def tamper_recipe(rng, text):
    lines = text.splitlines()
    idx = [i for i, l in enumerate(lines) if "=" in l and not l.lstrip().startswith("#")]
    if not idx:
        return text + "\n[[[\n"
    i = rng.choice(idx)
    key, _, val = lines[i].partition("=")
    choice = rng.randrange(13)
    if choice >= 10:  # a plausible edit: a number scaled, which check may well accept
        try:
            x = float(val.strip())
        except ValueError:
            return tamper_recipe(rng, text)
        y = x * rng.choice([0.5, 0.9, 1.1, 2.0, 3.0])
        val = str(int(round(y))) if val.strip().lstrip("-").isdigit() else repr(y)
    elif choice == 0:
        val = rng.choice(["1e308", "-1e308", "nan", "inf", "-inf", "0", "-1", "4294967297", "1e-320"])
    elif choice == 1:
        val = '"' + "x" * 5000 + '"'
    elif choice == 2:
        val = rng.choice(['"/etc/passwd"', '"/proc/self/environ"', '"/dev/zero"', '"/"', '"' + "*a" * 20 + '"'])
    elif choice == 3:
        del lines[i]
        return "\n".join(lines) + "\n"
    elif choice == 4:
        lines.insert(i, lines[i])
        return "\n".join(lines) + "\n"
    elif choice == 5:
        val = "[" + ", ".join(["1e308"] * 3) + "]"
    elif choice == 6:
        val = rng.choice(["4096", "1000000", "0", "1"])
    elif choice == 7:
        val = "{ a = " * 300 + "1" + " }" * 300
    elif choice == 8:
        val = "[" * 5000 + "]" * 5000
    else:
        val = val.replace("0.", "9" * 40 + ".", 1) if "0." in val else "99999999999999999999"
    lines[i] = key + "= " + val
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the runs


def names_file(out, path):
    return Path(path).name in out or str(path) in out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "artefact"))
    ap.add_argument("--work", default="/tmp/artefact-hostile")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--per-file", type=int, default=90, help="mutants per real file")
    ap.add_argument("--recipes", type=int, default=400, help="tampered recipes")
    ap.add_argument("--degrade-every", type=int, default=4, help="degrade every k-th accepted mutant")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    binary = str(Path(args.bin).resolve())
    work = Path(args.work)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    rng = random.Random(args.seed)

    seeds = sorted(
        p for p in DATA.rglob("*")
        if p.is_file() and p.suffix in (".dcm", ".nii", ".gz", ".png", ".jpg", ".tif", ".tiff")
    )
    mdir = work / "mutants"
    mdir.mkdir()
    files = []
    for s in seeds:
        sub = mdir / s.parent.name
        sub.mkdir(exist_ok=True)
        for name, data in mutants(rng, s, args.per_file):
            p = sub / name
            p.write_bytes(data)
            files.append(p)
    odd = odd_files(work / "odd")
    print(f"{len(seeds)} real files -> {len(files)} mutants, {len(odd)} odd files", flush=True)

    tally = {}
    bad = []

    def record(stage, kind, target, out):
        t = tally.setdefault(stage, {})
        if kind == "error" and not names_file(out, target):
            kind = "error-unnamed"
        t[kind] = t.get(kind, 0) + 1
        if kind in ("panic", "signal", "hang", "error-unnamed"):
            bad.append({"stage": stage, "kind": kind, "file": str(target), "output": out[-600:]})

    def inspect(p):
        return p, run([binary, "inspect", "--strict", str(p)])

    accepted = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        for p, (kind, rc, out) in ex.map(inspect, files + odd):
            record("inspect", kind, p, out)
            if kind == "ok" and p in files:
                accepted.append(p)

    def attribute_for(p):
        parts = str(p)
        if "fundus" in parts:
            return ["-a", "defocus"]
        if "histopathology" in parts:
            return ["-a", "stain_variation"]
        if "us_bmode" in parts:
            return ["-a", "speckle", "--allow-burned-in"]
        if "CT" in Path(p).name or "liver" in Path(p).name:
            return ["-a", "low_dose", "--modality", "CT", "--grey-from-rgb"]
        return ["-a", "noise", "--modality", "MR", "--grey-from-rgb"]

    ddir = work / "degraded"
    ddir.mkdir()

    def degrade(ip):
        i, p = ip
        attr = attribute_for(p)
        # grey attributes also go through the whole-volume NIfTI and the DICOM writer
        grey = attr[1] in ("noise", "low_dose")
        ext = [".png", ".nii.gz", ".dcm"][i % 3] if grey else ".png"
        out = ddir / f"{i:05d}{ext}"
        return p, run([binary, "degrade", str(p), *attr, "-s", "severe", "-o", str(out)])

    sample = [(i, p) for i, p in enumerate(accepted) if i % args.degrade_every == 0]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        for p, (kind, rc, out) in ex.map(degrade, sample):
            record("degrade", kind, p, out)

    # tampered recipes: attributes and benchmarks, checked one file at a time
    rdir = work / "recipes"
    shutil.copytree(ROOT / "recipes", rdir / "orig")
    bench = (ROOT / "recipes" / "benchmarks" / "demo.toml").read_text()
    bench = bench.replace("../../tests/data", str(DATA))
    attrs = sorted((ROOT / "recipes").glob("*/*.toml"))
    rfiles = []
    for k in range(args.recipes):
        if k % 3 == 0:
            src_text, sub = bench, "benchmarks"
        else:
            a = rng.choice(attrs)
            src_text, sub = a.read_text(), a.parent.name
        t = src_text
        for _ in range(rng.randrange(1, 3)):
            t = tamper_recipe(rng, t)
        # benchmarks beside the untouched ones so that `../mri/*.toml` finds good attributes
        d = rdir / "orig" / sub if sub == "benchmarks" else rdir / sub
        d.mkdir(exist_ok=True)
        f = d / f"tampered_{k:04d}.toml"
        f.write_text(t)
        rfiles.append(f)

    def check(f):
        # attribute recipes live beside the originals so relative chains resolve
        return f, run([binary, "--recipes", str(rdir / "orig"), "recipes", "check", str(f)], timeout=60)

    passed_bench = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        for f, (kind, rc, out) in ex.map(check, rfiles):
            if kind == "error" and "FAIL" in out and not names_file(out, f):
                kind = "error-unnamed"
            record("recipes check", kind, f, out)
            if kind == "ok" and f.parent.name == "benchmarks" and f.name.startswith("tampered"):
                passed_bench.append(f)

    # a benchmark that `recipes check` passed must build (a few, to bound the time)
    for f in passed_bench[:6]:
        kind, rc, out = run([binary, "--recipes", str(rdir / "orig"), "build", str(f), "-o",
                             str(work / "built" / f.stem), "--force"], timeout=300)
        if kind == "error":
            # check estimates, it does not decode sources: a build may still stop cleanly (a
            # shortfall the bound missed, an unreadable source); listed, not counted as a crash
            named = names_file(out, f) or "error: /" in out
            kind = "error (check passed)" if named else "error-unnamed"
            tally.setdefault("build after check: reasons", {})[out.strip().splitlines()[-1][:160]] = 1
        record("build after check", kind, f, out)

    # --keep-going over a directory of good files, then the same directory with hostile files
    # (mutants inspect refused, and odd files) added: same paths, so the same plan
    mixed = work / "mixed"
    mixed.mkdir()
    for name in ("MR_small.dcm", "MR_small_implicit.dcm"):
        shutil.copy(DATA / "dicom" / name, mixed / name)
    refused = [p for p in files if p.suffix == ".dcm" and p not in accepted]
    hostile = refused[:: max(1, len(refused) // 60)]

    def add_hostile():
        for p in hostile:
            shutil.copy(p, mixed / ("zz_" + p.name))
        for name in ("empty.dcm", "text.dcm", "preamble_only.dcm"):
            shutil.copy(work / "odd" / name, mixed / name)
        os.mkfifo(mixed / "fifo.dcm")
        os.symlink("/dev/zero", mixed / "zero.dcm")
        os.symlink(".", mixed / "loop")

    def bench_for(src_dir, name):
        t = f"""[benchmark]
name = "{name}"
seed = 5
image_size = 64

[[sources]]
path = "{src_dir}"
modality = "MR"

[selection]
axis = 0
slices_per_volume = 1
min_foreground = 0.0

[attributes]
recipes = ["{ROOT}/recipes/mri/noise.toml", "{ROOT}/recipes/mri/motion.toml"]

[severity]
none = 0.34
mild = 0.33
severe = 0.33

[questions]
yes_no = 4
what = 0
how = 0

[pairs]
coarse = 0
fine = 0

[splits]
test = 1.0
"""
        f = work / f"{name}.toml"
        f.write_text(t)
        return f

    outs = {}
    f = bench_for(mixed, "keepgoing")
    for name in ("goodonly", "mixed"):
        if name == "mixed":
            add_hostile()
        o = work / "build" / name
        kind, rc, out = run([binary, "build", str(f), "-o", str(o), "--keep-going", "--allow-shortfall",
                             "--key-secret", "harness", "--jobs", "2"], timeout=600)
        record(f"build --keep-going ({name})", kind, f, out)
        outs[name] = (o, kind, out)
    keep = {"finished": outs["mixed"][1] == "ok"}
    sk = outs["mixed"][0] / "skipped.jsonl"
    rows = [json.loads(l) for l in sk.read_text().splitlines() if l.strip()] if sk.exists() else []
    listed = {Path(r.get("path", "")).name for r in rows}
    expect = {p.name for p in mixed.iterdir()} - {"MR_small.dcm", "MR_small_implicit.dcm", "loop"}
    keep["skipped_rows"] = len(rows)
    keep["hostile_files"] = len(expect)
    keep["all_rows_have_reason"] = all(r.get("reason") for r in rows)
    keep["hostile_not_listed"] = sorted(expect - listed)[:20]

    def images(o):
        h = {}
        for p in sorted((o / "images").rglob("*")) if (o / "images").exists() else []:
            if p.is_file():
                h[p.relative_to(o).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
        return h

    a, b = images(outs["mixed"][0]), images(outs["goodonly"][0])
    keep["good_images"] = len(b)
    keep["good_images_identical"] = bool(b) and a == b

    report = {"tally": tally, "keep_going": keep, "failures": bad[:200]}
    (work / "report.json").write_text(json.dumps(report, indent=1))
    total = sum(sum(t.values()) for t in tally.values())
    print(f"{total} runs under RLIMIT_AS={AS_LIMIT >> 20} MiB, timeout {TIMEOUT:.0f} s")
    for stage, t in tally.items():
        print(f"  {stage:<32} " + ", ".join(f"{k} {v}" for k, v in sorted(t.items())))
    print("  keep-going:", json.dumps(keep))
    worst = sum(1 for x in bad)
    print(f"{worst} panics/aborts/hangs/unnamed errors; details in {work / 'report.json'}")
    ok = (worst == 0 and keep.get("finished") and keep.get("good_images_identical")
          and not keep["hostile_not_listed"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
