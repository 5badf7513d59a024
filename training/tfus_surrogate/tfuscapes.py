"""Reader for TFUScapes samples (Srivastav et al. 2025; ../shared/reference/deeptfus.md):
one .npz per simulation with `ct` (HU, 256^3 at 0.5 mm), `pmap` (pressure amplitude, Pa) and
`tr_coords` (integer voxel indices of the bowl's surface).

    python3 -m training.tfus_surrogate.tfuscapes <sample.npz> [--json]

`load_tfuscapes` validates and normalises as the paper does (CT / 2000, log1p(p / max p),
coords / 255 * 2 - 1); `fit_bowl` recovers the bowl's focus, axis, radius of curvature and
aperture from `tr_coords` (a least-squares sphere through the surface voxels); `to_beam_frame`
resamples CT and pressure into a transducer-aligned box like the planner's (origin at the apex,
+z along the beam), the frame our surrogate is trained in. Training our model on TFUScapes also
needs the free-water field of the fitted bowl (our solver, same grid) as the prior channel.
"""
import argparse
import json
import math

import numpy as np
import torch
import torch.nn.functional as F

VOXEL_M = 0.0005
REQUIRED = ("ct", "pmap", "tr_coords")


class TfuscapesError(ValueError):
    pass


def load_tfuscapes(path: str) -> dict:
    try:
        npz = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - any numpy failure is a bad file for the user
        raise TfuscapesError(f"{path}: not a readable .npz file ({e})") from e
    missing = [k for k in REQUIRED if k not in npz.files]
    if missing:
        raise TfuscapesError(f"{path}: missing key(s) {', '.join(missing)} (a TFUScapes sample has {', '.join(REQUIRED)}; found {', '.join(npz.files)})")
    ct = np.asarray(npz["ct"], dtype=np.float32)
    pmap = np.asarray(npz["pmap"], dtype=np.float32)
    tr = np.asarray(npz["tr_coords"])
    if ct.ndim != 3 or pmap.shape != ct.shape:
        raise TfuscapesError(f"{path}: ct {ct.shape} and pmap {pmap.shape} must be the same 3D shape (256^3 in TFUScapes)")
    if tr.ndim != 2 or tr.shape[1] != 3 or tr.shape[0] < 10:
        raise TfuscapesError(f"{path}: tr_coords has shape {tr.shape}, expected (N, 3) voxel indices of the bowl surface")
    if not np.issubdtype(tr.dtype, np.integer) or tr.min() < 0 or (tr >= np.array(ct.shape)).any():
        raise TfuscapesError(f"{path}: tr_coords must be integer voxel indices inside the {ct.shape} grid")
    if not np.isfinite(pmap).all() or pmap.max() <= 0:
        raise TfuscapesError(f"{path}: pmap must be finite with a positive maximum")
    n = ct.shape[0] - 1
    return {
        "ct_hu": ct,
        "pmap_pa": pmap,
        "tr_coords": tr.astype(np.int64),
        "ct_norm": ct / 2000.0,
        "pmap_norm": np.log1p(pmap / pmap.max()),
        "coords_norm": tr.astype(np.float32) / n * 2 - 1,
    }


def fit_bowl(tr_coords: np.ndarray, voxel_m: float = VOXEL_M) -> dict:
    """Least-squares sphere |x - c|^2 = r^2 through the surface voxels (linear in c and
    r^2 - |c|^2); the axis points from the cap's centroid to the centre (the geometric focus)."""
    x = tr_coords.astype(np.float64) * voxel_m
    a = np.c_[2 * x, np.ones(len(x))]
    b = (x * x).sum(axis=1)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    centre = sol[:3]
    radius = math.sqrt(sol[3] + centre @ centre)
    centroid = x.mean(axis=0)
    axis = centre - centroid
    axis /= np.linalg.norm(axis)
    apex = centre - radius * axis
    lateral = x - centre
    lateral -= np.outer(lateral @ axis, axis)
    aperture = 2 * np.linalg.norm(lateral, axis=1).max()
    return {"focus_m": centre, "roc_m": radius, "axis": axis, "apex_m": apex, "aperture_m": aperture}


def to_beam_frame(volume: np.ndarray, bowl: dict, size_xyz, spacing_m: float, origin_m, voxel_m: float = VOXEL_M, fill: float = 0.0) -> np.ndarray:
    """Trilinear resampling of a (i, j, k) volume onto the beam-aligned grid (x fastest in the
    result's (Z, Y, X) layout): grid point (i, j, k) lies at apex + R @ (origin + spacing * ijk)."""
    axis = bowl["axis"]
    helper = np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    ex = np.cross(helper, axis)
    ex /= np.linalg.norm(ex)
    ey = np.cross(axis, ex)
    nx, ny, nz = size_xyz
    gx = origin_m[0] + spacing_m * np.arange(nx)
    gy = origin_m[1] + spacing_m * np.arange(ny)
    gz = origin_m[2] + spacing_m * np.arange(nz)
    zz, yy, xx = np.meshgrid(gz, gy, gx, indexing="ij")
    pts = bowl["apex_m"] + xx[..., None] * ex + yy[..., None] * ey + zz[..., None] * axis  # (Z, Y, X, 3) metres
    idx = pts / voxel_m  # continuous voxel indices (i, j, k)
    shape = np.array(volume.shape, dtype=np.float64)
    norm = idx / (shape - 1) * 2 - 1  # grid_sample wants (x=W=k, y=H=j, z=D=i) order for a (D, H, W) = (i, j, k) volume
    grid = torch.from_numpy(norm[..., ::-1].copy()).float()[None]
    vol = torch.from_numpy(np.ascontiguousarray(volume, dtype=np.float32))[None, None]
    out = F.grid_sample(vol - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=True)[0, 0] + fill
    return out.numpy()


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("sample")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    s = load_tfuscapes(args.sample)
    bowl = fit_bowl(s["tr_coords"])
    peak = np.array(np.unravel_index(np.argmax(s["pmap_pa"]), s["pmap_pa"].shape)) * VOXEL_M
    info = {
        "shape": list(s["ct_hu"].shape),
        "pmap_max_pa": float(s["pmap_pa"].max()),
        "bowl_surface_voxels": int(len(s["tr_coords"])),
        "roc_mm": bowl["roc_m"] * 1e3,
        "aperture_mm": bowl["aperture_m"] * 1e3,
        "focus_mm": (bowl["focus_m"] * 1e3).tolist(),
        "axis": bowl["axis"].tolist(),
        "peak_to_focus_mm": float(np.linalg.norm(peak - bowl["focus_m"]) * 1e3),
    }
    print(json.dumps(info, indent=None if not args.json else 2))


if __name__ == "__main__":
    main()
