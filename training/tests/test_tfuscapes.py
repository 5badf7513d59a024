"""The TFUScapes reader on synthetic files with TFUScapes' keys (pytest; run by
tests/integration/surrogate/training.test.ts as `python3 -m pytest training`)."""
import math
import os

import numpy as np
import pytest

from training.tfus_surrogate.tfuscapes import TfuscapesError, fit_bowl, load_tfuscapes, to_beam_frame, VOXEL_M


def synthetic(path, n=64, roc_vox=36.0, aperture_vox=40.0, focus=(32, 30, 48)):
    ct = np.full((n, n, n), -1000, np.int16)
    ct[10:54, 10:54, 10:54] = 40
    i, j, k = np.meshgrid(*(np.arange(n),) * 3, indexing="ij")
    f = np.array(focus, float)
    p = 1e5 * np.exp(-((i - f[0]) ** 2 + (j - f[1]) ** 2) / 4 - (k - f[2]) ** 2 / 30)
    # Bowl surface: a cap of radius roc around the focus, opening toward +k (beam along +k).
    pts = set()
    for th in np.linspace(0, math.asin(aperture_vox / 2 / roc_vox), 40):
        for ph in np.linspace(0, 2 * math.pi, 80, endpoint=False):
            v = f + roc_vox * np.array([math.sin(th) * math.cos(ph), math.sin(th) * math.sin(ph), -math.cos(th)])
            pts.add(tuple(np.round(v).astype(int)))
    tr = np.array(sorted(pts), dtype=np.int64)
    np.savez(path, ct=ct, pmap=p.astype(np.float32), tr_coords=tr)
    return f, roc_vox


def test_reader_normalises_fits_the_bowl_and_resamples_to_the_beam_frame(tmp_path):
    path = os.path.join(tmp_path, "sample.npz")
    f, roc = synthetic(path)
    s = load_tfuscapes(path)
    assert abs(s["pmap_norm"].max() - math.log(2)) < 1e-6, "log1p(p / max p) peaks at log 2"
    assert abs(s["ct_norm"].min() - (-0.5)) < 1e-6, "CT / 2000"
    assert s["coords_norm"].min() >= -1 and s["coords_norm"].max() <= 1
    bowl = fit_bowl(s["tr_coords"])
    err_focus = np.linalg.norm(bowl["focus_m"] / VOXEL_M - f)
    # tr_coords are rounded voxel indices: the fit is good to about a voxel or two.
    assert err_focus < 2, f"focus off by {err_focus} voxels"
    assert abs(bowl["roc_m"] / VOXEL_M - roc) < 2, f"roc {bowl['roc_m'] / VOXEL_M}"
    assert bowl["axis"][2] > 0.999, f"axis {bowl['axis']}"
    # Beam frame: the pressure peak sits on the axis at the focal distance.
    sp = 0.001
    size = (21, 21, 25)
    origin = (-0.010, -0.010, 0.0)
    pb = to_beam_frame(s["pmap_pa"], bowl, size, sp, origin)
    z, y, x = np.unravel_index(np.argmax(pb), pb.shape)
    assert (x, y) == (10, 10), (x, y)
    assert abs(origin[2] + z * sp - bowl["roc_m"]) <= sp, (z, bowl["roc_m"])


BAD_FILES = [
    (dict(ct=np.zeros((4, 4, 4)), pmap=np.ones((4, 4, 4))), "missing key"),
    (dict(ct=np.zeros((4, 4, 4)), pmap=np.ones((4, 4, 5)), tr_coords=np.zeros((20, 3), int)), "same 3D shape"),
]


@pytest.mark.parametrize("arrays, why", BAD_FILES, ids=["missing-key", "shape-mismatch"])
def test_reader_refuses_bad_files_naming_the_file(tmp_path, arrays, why):
    bp = os.path.join(tmp_path, "bad.npz")
    np.savez(bp, **arrays)
    with pytest.raises(TfuscapesError) as e:
        load_tfuscapes(bp)
    assert why in str(e.value) and "bad.npz" in str(e.value), str(e.value)
