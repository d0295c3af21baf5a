"""Reference numbers for physics/ct/src/spectrum.rs (not run in CI).

Prints the mean energy and photon-count half-value layer (Al) of
  * SpekPy 2.5.4 (120 kVp, 12 deg anode, 2.5 mm Al, photons >= 20 keV), and
  * the same Kramers' law spectrum as artefact-ct (0.5 keV bins, NIST Al table, log-log interp.).
Run: python3 -m venv /work/.venvs/ctb && /work/.venvs/ctb/bin/pip install -r requirements.txt
     /work/.venvs/ctb/bin/python spectrum_reference.py
"""
import numpy as np, spekpy as sp
E = np.array([15, 20, 30, 40, 50, 60, 80, 100, 150.0])
AL = np.array([7.955, 3.441, 1.128, 0.5685, 0.3681, 0.2778, 0.2018, 0.1704, 0.1378])
WATER = np.array([1.673, 0.8096, 0.3756, 0.2683, 0.2269, 0.2059, 0.1837, 0.1707, 0.1505])
def mu(tab, rho, e):  # mm^-1, log-log
    return np.exp(np.interp(np.log(e), np.log(E), np.log(tab))) * rho * 0.1
s = sp.Spek(kvp=120, th=12); s.filter('Al', 2.5)
k, phi = s.get_spectrum()
sel = k >= 20; k, phi = k[sel], phi[sel] / phi[sel].sum()
def trans(tab, rho, l): return (phi * np.exp(-mu(tab, rho, k) * l)).sum()
lo, hi = 0.0, 50.0
for _ in range(60):
    m = 0.5 * (lo + hi)
    lo, hi = (m, hi) if trans(AL, 2.699, m) > 0.5 else (lo, m)
print("spekpy 120kVp 2.5mmAl >=20keV: mean %.3f keV, photon-count HVL Al %.4f mm" % ((k * phi).sum(), lo))
print("water 200 mm effective mu %.6f mm^-1" % (-np.log(trans(WATER, 1.0, 200.0)) / 200.0))
# Kramers with the same filtration, 0.5 keV bins
kk = np.arange(20.25, 120, 0.5); pk = (120 - kk) / kk * np.exp(-mu(AL, 2.699, kk) * 2.5); pk /= pk.sum()
def transk(tab, rho, l): return (pk * np.exp(-mu(tab, rho, kk) * l)).sum()
lo, hi = 0.0, 50.0
for _ in range(60):
    m = 0.5 * (lo + hi)
    lo, hi = (m, hi) if transk(AL, 2.699, m) > 0.5 else (lo, m)
print("kramers: mean %.3f keV HVL %.4f mm, water 200 mm mu_eff %.6f" % ((kk*pk).sum(), lo, -np.log(transk(WATER,1.0,200.0))/200))
