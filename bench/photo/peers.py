"""Peer timings for defocus and motion blur on a 1024x1024 colour image (one thread).

The same synthetic image as physics/photo/benches/blur.rs:
    v[c, r, k] = (((r*7 + k*13 + c*5) % 251) / 251) ** 2.2   (linear light, float32)
artefact's numbers come from `cargo bench -p artefact-photo --bench blur`.

Peers (all single-threaded: cv2.setNumThreads(1)):
- OpenCV filter2D with the same 15 px disc kernel (what albumentations' Defocus uses) and a
  15 px line kernel; GaussianBlur sigma 5 for reference;
- albumentations Defocus(radius=7) and MotionBlur(blur_limit=15) on float32 input.

Note the differences: OpenCV/albumentations convolve with a reflected border and no
field-of-view mask (no normalised convolution), in float32.

    pip install -r bench/photo/requirements.txt
    python bench/photo/peers.py
"""
import time

import cv2
import numpy as np

cv2.setNumThreads(1)


def image():
    r, k = np.meshgrid(np.arange(1024), np.arange(1024), indexing="ij")
    planes = [(((r * 7 + k * 13 + c * 5) % 251) / 251.0) ** 2.2 for c in range(3)]
    return np.ascontiguousarray(np.stack(planes, -1).astype(np.float32))


def timeit(f, n=10):
    f()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return 1e3 * float(np.median(ts))


def disc(d):
    rad = d / 2
    n = int(np.ceil(rad)) * 2 + 1
    y, x = np.mgrid[:n, :n] - n // 2
    k = (x * x + y * y <= rad * rad).astype(np.float32)
    return k / k.sum()


def line(length):
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1
    return k / k.sum()


def main():
    img = image()
    rows = []
    rows.append(("cv2.filter2D disc D=15", timeit(lambda: cv2.filter2D(img, -1, disc(15)))))
    rows.append(("cv2.filter2D line L=15", timeit(lambda: cv2.filter2D(img, -1, line(15)))))
    rows.append(("cv2.GaussianBlur sigma=5", timeit(lambda: cv2.GaussianBlur(img, (0, 0), 5))))
    try:
        import albumentations as A

        d = A.Defocus(radius=(7, 7), alias_blur=(0.1, 0.1), p=1.0)
        m = A.MotionBlur(blur_limit=(15, 15), p=1.0)
        rows.append(("albumentations Defocus r=7", timeit(lambda: d(image=img))))
        rows.append(("albumentations MotionBlur 15", timeit(lambda: m(image=img))))
    except ImportError as e:
        print("albumentations not installed:", e)
    for name, ms in rows:
        print(f"{name:32s} {ms:8.2f} ms")


if __name__ == "__main__":
    main()
