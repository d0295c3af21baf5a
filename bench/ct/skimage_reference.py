"""Reference numbers for physics/ct/tests/fbp.rs: scikit-image iradon (ramp) on the analytic
sinogram of the modified Shepp-Logan phantom, in exactly the geometry of the Rust test.

Geometry: 255x255 grid, 1 mm pixels centred on index 127 (= (n-1)/2 = n//2 for odd n, the
scikit-image centre); 255 parallel detector bins of 1 mm centred on bin 127; 360 views over
[0, 180) degrees; phantom radius 100 mm, intensities x 0.02 (mm^-1).
skimage's convention t = x cos(theta) + y sin(theta) (x = column offset, y = -row offset)
is the same as artefact-ct's parallel beam.
Ground truth: 6x6 point-sampled pixel averages. RMSE over the disc of radius 127 mm.
"""
import numpy as np
from skimage.transform import iradon

T = np.array([
    [1.0, 0.69, 0.92, 0.0, 0.0, 0.0],
    [-0.8, 0.6624, 0.8740, 0.0, -0.0184, 0.0],
    [-0.2, 0.1100, 0.3100, 0.22, 0.0, -18.0],
    [-0.2, 0.1600, 0.4100, -0.22, 0.0, 18.0],
    [0.1, 0.2100, 0.2500, 0.0, 0.35, 0.0],
    [0.1, 0.0460, 0.0460, 0.0, 0.1, 0.0],
    [0.1, 0.0460, 0.0460, 0.0, -0.1, 0.0],
    [0.1, 0.0460, 0.0230, -0.08, -0.605, 0.0],
    [0.1, 0.0230, 0.0230, 0.0, -0.606, 0.0],
    [0.1, 0.0230, 0.0460, 0.06, -0.605, 0.0],
])
R, SCALE = 100.0, 0.02
N, NDET, NV = 255, 255, 360


def ellipses():
    for v, a, b, x0, y0, phi in T:
        yield v * SCALE, a * R, b * R, x0 * R, y0 * R, np.deg2rad(phi)


def analytic_sino(theta):
    s = (np.arange(NDET) - (NDET - 1) / 2.0)[None, :]
    th = theta[:, None]
    out = np.zeros((len(theta), NDET))
    for v, a, b, x0, y0, phi in ellipses():
        sp = s - (x0 * np.cos(th) + y0 * np.sin(th))
        tp = th - phi
        a2 = (a * np.cos(tp)) ** 2 + (b * np.sin(tp)) ** 2
        inside = sp ** 2 < a2
        out += np.where(inside, 2 * v * a * b * np.sqrt(np.clip(a2 - sp ** 2, 0, None)) / a2, 0.0)
    return out


def raster(o=6):
    c = (N - 1) / 2.0
    sub = (np.arange(o) + 0.5) / o - 0.5
    img = np.zeros((N, N))
    for dy in sub:
        for dx in sub:
            jj, ii = np.meshgrid(np.arange(N), np.arange(N))
            x = jj - c + dx
            y = c - ii - dy
            for v, a, b, x0, y0, phi in ellipses():
                u = (np.cos(phi) * (x - x0) + np.sin(phi) * (y - y0)) / a
                w = (-np.sin(phi) * (x - x0) + np.cos(phi) * (y - y0)) / b
                img += np.where(u * u + w * w <= 1, v, 0.0)
    return img / (o * o)


def fov_rmse(rec, truth):
    c = (N - 1) / 2.0
    jj, ii = np.meshgrid(np.arange(N), np.arange(N))
    m = (jj - c) ** 2 + (ii - c) ** 2 <= c ** 2
    return float(np.sqrt(np.mean((rec[m] - truth[m]) ** 2)))


if __name__ == "__main__":
    theta = np.arange(NV) * np.pi / NV
    sino = analytic_sino(theta)
    truth = raster()
    np.save("/tmp/sl_truth.npy", truth)
    np.save("/tmp/sl_sino.npy", sino)
    for f in ["ramp", "shepp-logan", "hann"]:
        rec = iradon(sino.T, theta=np.rad2deg(theta), filter_name=f, interpolation="linear",
                     circle=True, output_size=N)
        print(f, "rmse", fov_rmse(rec, truth), "centre", rec[127, 127], "truth", truth[127, 127])
