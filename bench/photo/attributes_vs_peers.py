"""artefact's photographic attributes (severe, 1024² colour, one thread) next to the nearest
albumentations / OpenCV transform on the same photograph, with the ratio.

artefact's times are criterion's medians from
    RAYON_NUM_THREADS=1 cargo bench --bench photo_attributes
(read from target/criterion/photo_attribute_severe_1024/*/new/estimates.json). The peers run
here, single-threaded (cv2.setNumThreads(1)), on the CC0 fundus photograph
(tests/data/photo/fundus/...) or the H&E crop, resized to 1024² with OpenCV (INTER_AREA),
as float32 in [0, 1] (the linear-light float input artefact works on) — median of 10 runs.

The peers are image-space approximations: they do not work in linear light, have no field of
view, and model no optics, sensor or stain physics — "nearest" means the transform a user of
albumentations would pick for the same attribute, at a comparable strength.

    python -m venv v && v/bin/pip install -r bench/photo/requirements.txt
    v/bin/python bench/photo/attributes_vs_peers.py [--criterion target/criterion]
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from peers import disc, line, timeit  # noqa: E402  (same timing and kernels as peers.py)

cv2.setNumThreads(1)
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
FUNDUS = "tests/data/photo/fundus/fundus_normal_left_eye_haggstrom_cc0.jpg"
HE = "tests/data/photo/histopathology/he_skin_cmu1_small_region_aperio20x_x600_y1500_768px.png"


def load(rel):
    bgr = cv2.imread(os.path.join(ROOT, rel), cv2.IMREAD_COLOR)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    rgb = cv2.resize(rgb, (1024, 1024), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb.astype(np.float32) / 255.0)


def peers():
    """attribute -> (peer description, image, callable)."""
    import albumentations as A

    f, h = load(FUNDUS), load(HE)
    u8 = (f * 255).astype(np.uint8)
    hu8 = (h * 255).astype(np.uint8)

    def alb(t, img):
        return lambda: t(image=img)

    return {
        "fundus_defocus": ("cv2.filter2D disc D=21 (float32)", lambda: cv2.filter2D(f, -1, disc(21))),
        "fundus_defocus ": ("albumentations Defocus r=10", alb(A.Defocus(radius=(10, 10), p=1), f)),
        "endoscopy_motion_blur": ("cv2.filter2D line L=25", lambda: cv2.filter2D(f, -1, line(25))),
        "endoscopy_motion_blur ": ("albumentations MotionBlur 25", alb(A.MotionBlur(blur_limit=(25, 25), p=1), f)),
        "histopathology_blur": ("albumentations Defocus r=4", alb(A.Defocus(radius=(4, 4), p=1), h)),
        "endoscopy_specular_reflection": ("albumentations RandomSunFlare", alb(A.RandomSunFlare(p=1), f)),
        "fundus_artifact_shadow": ("albumentations RandomShadow", alb(A.RandomShadow(p=1), f)),
        "endoscopy_smoke": ("albumentations RandomFog", alb(A.RandomFog(p=1), f)),
        "fundus_low_contrast": ("albumentations RandomFog", alb(A.RandomFog(p=1), f)),
        "fundus_uneven_illumination": ("albumentations Illumination", alb(A.Illumination(p=1), f)),
        "fundus_exposure": ("albumentations RandomBrightnessContrast", alb(A.RandomBrightnessContrast(p=1), f)),
        "fundus_color_distortion": ("albumentations ColorJitter", alb(A.ColorJitter(p=1), f)),
        "endoscopy_saturation": ("albumentations HueSaturationValue (uint8)", alb(A.HueSaturationValue(p=1), u8)),
        "endoscopy_bubbles": ("albumentations Spatter (rain)", alb(A.Spatter(mode="rain", p=1), f)),
        "histopathology_compression": ("albumentations ImageCompression q=10 (uint8)", alb(A.ImageCompression(quality_range=(10, 10), p=1), hu8)),
        "histopathology_stain_variation": ("albumentations ColorJitter", alb(A.ColorJitter(p=1), h)),
    }


def criterion_ms(root, name):
    p = os.path.join(root, "photo_attribute_severe_1024", name.strip(), "new", "estimates.json")
    try:
        with open(p) as fh:
            return json.load(fh)["median"]["point_estimate"] / 1e6
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--criterion", default=os.path.join(ROOT, "target", "criterion"))
    args = ap.parse_args()
    print("| attribute (severe, 1024²) | artefact ms | nearest peer | peer ms | speed-up (peer / artefact) |")
    print("|---|---:|---|---:|---:|")
    for name, (desc, fn) in peers().items():
        ours = criterion_ms(args.criterion, name)
        theirs = timeit(fn)
        ratio = f"{theirs / ours:.2f}×" if ours else "–"
        o = f"{ours:.1f}" if ours else "–"
        print(f"| {name.strip()} | {o} | {desc} | {theirs:.1f} | {ratio} |")


if __name__ == "__main__":
    main()
