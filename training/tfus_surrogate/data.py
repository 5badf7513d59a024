"""Reads the generator's datasets (core/surrogate/dataset.ts documents the layout) into tensors.

Arrays are (Z, Y, X) numpy/torch order: the files store x fastest. The network grid pads the
solver grid to multiples of 8 (laterally on both sides, axially at the far end) with water.
"""
import json
import os
from dataclasses import dataclass

import numpy as np
import torch

from .model import LOG_FLOOR

SPEED_REF_M_S = 1500.0
DENSITY_REF_KG_M3 = 1000.0
ALPHA_SCALE_NP_M = 100.0
POSE_FEATURES = ["axis_ras_x", "axis_ras_y", "axis_ras_z", "standoff_per_30mm", "skull_thickness_per_10mm", "incidence_per_30deg"]


@dataclass
class Dataset:
    root: str
    header: dict
    free_water: np.ndarray  # (Z, Y, X) Pa at the reference source amplitude
    free_peak_pa: float
    samples: list  # sample metas


def load_dataset(root: str) -> Dataset:
    with open(os.path.join(root, "dataset.json")) as f:
        header = json.load(f)
    nx, ny, nz = header["grid_size"]
    free = np.fromfile(os.path.join(root, header["free_water"]["file"]), dtype="<f4").reshape(nz, ny, nx)
    metas = []
    sdir = os.path.join(root, "samples")
    for name in sorted(os.listdir(sdir)):
        if name.endswith(".json"):
            with open(os.path.join(sdir, name)) as f:
                metas.append(json.load(f))
    return Dataset(root, header, free, float(free.max()), metas)


def padded_shape(grid_size):
    nx, ny, nz = grid_size

    def up(n):
        return (n + 7) // 8 * 8

    return up(nz), up(ny), up(nx)


def pad_spec(grid_size):
    """(z_after, y_before, y_after, x_before, x_after): lateral padding split evenly keeps the axis centred."""
    nx, ny, nz = grid_size
    pz, py, px = padded_shape(grid_size)
    return pz - nz, (py - ny) // 2, py - ny - (py - ny) // 2, (px - nx) // 2, px - nx - (px - nx) // 2


def pose_vector(meta: dict) -> np.ndarray:
    m = meta["transducer_to_ras"]
    axis = [m[2], m[6], m[10]]
    inc = meta.get("incidence_deg")
    inc = 0.0 if inc is None or not np.isfinite(inc) else inc
    return np.array(axis + [meta["standoff_m"] / 0.03, meta["skull_thickness_m"] / 0.01, inc / 30.0], dtype=np.float32)


def network_input(c, rho, alpha, free_pa, free_peak_pa, grid_size) -> np.ndarray:
    """(4, Z', Y', X') float32 on the padded grid; padding is water with the prior's floor."""
    zA, yB, yA, xB, xA = pad_spec(grid_size)
    prior = np.log(free_pa / free_peak_pa + LOG_FLOOR)
    chans = [(c - SPEED_REF_M_S) / SPEED_REF_M_S, (rho - DENSITY_REF_KG_M3) / DENSITY_REF_KG_M3, alpha / ALPHA_SCALE_NP_M]
    out = [np.pad(ch, ((0, zA), (yB, yA), (xB, xA)), constant_values=0.0) for ch in chans]
    out.append(np.pad(prior, ((0, zA), (yB, yA), (xB, xA)), constant_values=np.log(LOG_FLOOR)))
    return np.stack(out).astype(np.float32)


# Soft tissue of the planner's medium (core/skull/tissues.ts BRAIN, ITRUSST): 1560 m/s, 1040 kg/m^3.
SOFT_TISSUE = (1560.0, 1040.0)
WATER = (1500.0, 1000.0)


def intracranial_mask(c: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Soft tissue past bone along +z (the beam) in its column, as core/surrogate/metrics.ts
    `intracranialMask` and the planner's brain mask: where the plan's metrics are read."""
    soft = (np.abs(c - SOFT_TISSUE[0]) < 0.5) & (np.abs(rho - SOFT_TISSUE[1]) < 0.5)
    water = (np.abs(c - WATER[0]) < 0.5) & (np.abs(rho - WATER[1]) < 0.5)
    bone = ~soft & ~water
    seen = np.cumsum(bone, axis=0) > 0
    return (soft & seen).astype(np.float32)


def read_sample(ds: Dataset, meta: dict):
    nx, ny, nz = ds.header["grid_size"]
    n = nx * ny * nz
    block = np.fromfile(os.path.join(ds.root, "samples", meta["id"] + ".f32"), dtype="<f4")
    if block.size != 4 * n:
        raise ValueError(f"{meta['id']}.f32: {block.size} values, expected {4 * n} for grid {nx}x{ny}x{nz}")
    c, rho, alpha, p = (block[i * n : (i + 1) * n].reshape(nz, ny, nx) for i in range(4))
    x = network_input(c, rho, alpha, ds.free_water, ds.free_peak_pa, ds.header["grid_size"])
    zA, yB, yA, xB, xA = pad_spec(ds.header["grid_size"])
    y = np.log(np.pad(p, ((0, zA), (yB, yA), (xB, xA))) / ds.free_peak_pa + LOG_FLOOR).astype(np.float32)[None]
    brain = np.pad(intracranial_mask(c, rho), ((0, zA), (yB, yA), (xB, xA)))
    valid = np.pad(np.ones_like(p), ((0, zA), (yB, yA), (xB, xA)))
    mask = np.stack([brain, valid]).astype(np.float32)  # (2, Z, Y, X): intracranial, on the solver grid
    if brain.sum() == 0:
        raise ValueError(f"{meta['id']}: no intracranial voxels on the grid")
    return x, y, mask, p


def crop(field: np.ndarray, grid_size) -> np.ndarray:
    nx, ny, nz = grid_size
    _, yB, _, xB, _ = pad_spec(grid_size)
    return field[..., :nz, yB : yB + ny, xB : xB + nx]


def dihedral(t: torch.Tensor, k: int) -> torch.Tensor:
    """One of the 8 symmetries of the square lateral grid (flips of Y and X, transpose): exact
    symmetries of an axisymmetric transducer on a grid centred on its axis."""
    if k & 1:
        t = torch.flip(t, dims=[-1])
    if k & 2:
        t = torch.flip(t, dims=[-2])
    if k & 4:
        t = t.transpose(-1, -2)
    return t


def undo_dihedral(t: torch.Tensor, k: int) -> torch.Tensor:
    if k & 4:
        t = t.transpose(-1, -2)
    if k & 2:
        t = torch.flip(t, dims=[-2])
    if k & 1:
        t = torch.flip(t, dims=[-1])
    return t
