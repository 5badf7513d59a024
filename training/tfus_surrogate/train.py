"""Train, validate and export the surrogate: `train` (the network and its validation), `export`
(ONNX, the weights and the parity fixture for ONNX Runtime), `manifest` (model.json, what the app
reads to decide whether the model fits a plan), each called by `main`.

    python3 -m training.tfus_surrogate.train --data data/surrogate --out resources/surrogate \
        [--epochs 30] [--no-film] [--no-prior] [--max-steps N] [--threads 2] [--device cpu|cuda]

Training uses the dataset's "train" split only; a fixed tenth of it (by sample id) is kept out
of the gradient for validation and for calibrating the confidence. The "test" split (unseen
skulls and placements) is never read here: `npm run eval:surrogate` scores the exported model
on it through the same ONNX Runtime path the app uses.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .data import (
    ALPHA_SCALE_NP_M,
    DENSITY_REF_KG_M3,
    POSE_FEATURES,
    SPEED_REF_M_S,
    Dataset,
    crop,
    dihedral,
    load_dataset,
    pad_spec,
    padded_shape,
    pose_vector,
    read_sample,
)
from .losses import surrogate_loss
from .model import LOG_FLOOR, SurrogateUNet

MODEL_FORMAT = "tfus-surrogate-model/1"


def is_validation(meta) -> bool:
    return int(meta["id"][1:]) % 10 == 7


def field_metrics(pred_log: np.ndarray, true_log: np.ndarray, mask: np.ndarray, spacing_m: float):
    """Focal error [m], relative peak error and relative L2 of amplitudes inside the mask."""
    p = (np.exp(pred_log) - LOG_FLOOR) * mask
    t = (np.exp(true_log) - LOG_FLOOR) * mask
    ip = np.array(np.unravel_index(np.argmax(p), p.shape))
    it = np.array(np.unravel_index(np.argmax(t), t.shape))
    return {
        "focal_error_m": float(np.linalg.norm(ip - it) * spacing_m),
        "peak_error": float(abs(p.max() - t.max()) / t.max()),
        "rel_l2": float(np.linalg.norm(p - t) / np.linalg.norm(t)),
    }


def parse_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (CI's tiny run)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--widths", default="8,16,32,48")
    ap.add_argument("--peak-weight", type=float, default=1.0, help="weight of the peak-amplitude term")
    ap.add_argument("--no-film", action="store_true")
    ap.add_argument("--no-prior", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit-s", type=float, default=0, help="stop training after this wall time")
    return ap.parse_args(argv)


@dataclass
class Trained:
    """What `train` returns: the model (eval mode, on the CPU) and the record of its training."""

    model: SurrogateUNet
    dataset: Dataset
    widths: tuple
    train: list
    val: list
    steps: int
    epochs: int
    train_s: float
    loss_first: float | None
    loss_last: float | None
    validation: dict
    validation_mean_skull: dict
    log: list = field(default_factory=list)


def train(args) -> Trained:
    """Trains on the "train" split minus the validation tenth; validates every 5 epochs and at the end."""
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    ds = load_dataset(args.data)
    train_set = [m for m in ds.samples if m["split"] == "train" and not is_validation(m)]
    val = [m for m in ds.samples if m["split"] == "train" and is_validation(m)]
    if not train_set:
        raise SystemExit(f"{args.data}: no training samples")
    grid = ds.header["grid_size"]
    cache = {m["id"]: read_sample(ds, m) for m in train_set + val}
    poses = {m["id"]: pose_vector(m) for m in train_set + val}
    widths = tuple(int(w) for w in args.widths.split(","))
    model = SurrogateUNet(widths=widths, pose_dim=len(POSE_FEATURES), film=not args.no_film, prior=not args.no_prior).to(args.device)
    if not args.no_prior:
        # Mean of (target - prior) over the training samples and their 8 lateral symmetries.
        acc = None
        for m in train_set:
            x, y, _, _ = cache[m["id"]]
            r = torch.from_numpy(y - x[3:4])[None]
            r = sum(dihedral(r, k) for k in range(8)) / 8
            acc = r if acc is None else acc + r
        model.mean_residual = (acc / len(train_set)).to(args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    total_steps = args.max_steps or args.epochs * len(train_set)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=max(total_steps, 2), pct_start=0.15)
    log = []
    step = 0
    started = time.time()
    losses_first = []
    losses_last = []

    def batch_of(meta, k):
        x, y, mask, _ = cache[meta["id"]]

        def t(a):
            return dihedral(torch.from_numpy(a)[None], k).to(args.device)

        return t(x), t(y), t(mask), torch.from_numpy(poses[meta["id"]])[None].to(args.device)

    def validate():
        model.eval()
        out = []
        with torch.no_grad():
            for m in val:
                x, y, mask, pose = batch_of(m, 0)
                pred = model(x, pose)
                out.append(
                    field_metrics(
                        crop(pred[0, 0].cpu().numpy(), grid),
                        crop(y[0, 0].cpu().numpy(), grid),
                        crop(mask[0, 0].cpu().numpy(), grid),
                        ds.header["spacing_m"],
                    )
                )
        model.train()
        if not out:
            return {}
        return {k: float(np.mean([o[k] for o in out])) for k in out[0]}

    def validate_mean_skull():
        out = []
        for m in val:
            x, y, mask, _ = cache[m["id"]]
            pred = x[3] + (model.mean_residual[0, 0].cpu().numpy() if not args.no_prior else 0)
            out.append(field_metrics(crop(pred, grid), crop(y[0], grid), crop(mask[0], grid), ds.header["spacing_m"]))
        return {k: float(np.mean([o[k] for o in out])) for k in out[0]} if out else {}

    mean_skull = validate_mean_skull()
    print(f"validation of the mean-skull prior alone {json.dumps(mean_skull)}", flush=True)
    done = False
    epoch = 0
    while not done:
        order = list(train_set)
        random.shuffle(order)
        for meta in order:
            x, y, mask, pose = batch_of(meta, random.randrange(8))
            pred = model(x, pose)
            loss, parts = surrogate_loss(pred, y, mask, weights=(1.0, 0.5, 0.02, args.peak_weight))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step + 1 < max(total_steps, 2):
                sched.step()
            step += 1
            (losses_first if step <= max(1, min(5, total_steps // 3)) else losses_last).append(float(loss))
            losses_last[:] = losses_last[-max(1, min(5, total_steps // 3)) :]
            if step % 10 == 0 or step == 1:
                rounded = json.dumps({k: round(v, 4) for k, v in parts.items()})
                print(f"step {step}/{total_steps} epoch {epoch} loss {float(loss):.4f} {rounded} {time.time() - started:.0f} s", flush=True)
            if step >= total_steps or (args.time_limit_s and time.time() - started > args.time_limit_s):
                done = True
                break
        epoch += 1
        if not done and val and epoch % 5 == 0:
            v = validate()
            log.append({"epoch": epoch, "step": step, "validation": v})
            print(f"epoch {epoch} validation {json.dumps(v)}", flush=True)
    train_s = time.time() - started
    v = validate()
    print(f"final validation {json.dumps(v)}", flush=True)
    model.eval().cpu()
    return Trained(
        model=model,
        dataset=ds,
        widths=widths,
        train=train_set,
        val=val,
        steps=step,
        epochs=epoch,
        train_s=train_s,
        loss_first=float(np.mean(losses_first)) if losses_first else None,
        loss_last=float(np.mean(losses_last)) if losses_last else None,
        validation=v,
        validation_mean_skull=mean_skull,
        log=log,
    )


def export(model: SurrogateUNet, grid, out: str) -> str:
    """Writes model.pt, model.onnx (opset 17, batch axis dynamic) and the parity fixture; returns
    the ONNX file's SHA-256, which the manifest records."""
    os.makedirs(out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out, "model.pt"))
    pz, py, px = padded_shape(grid)
    x0 = torch.zeros(1, 4, pz, py, px)
    p0 = torch.zeros(1, len(POSE_FEATURES))
    onnx_path = os.path.join(out, "model.onnx")
    torch.onnx.export(
        model,
        (x0, p0),
        onnx_path,
        input_names=["medium", "pose"],
        output_names=["log_amplitude"],
        dynamic_axes={"medium": {0: "batch"}, "pose": {0: "batch"}, "log_amplitude": {0: "batch"}},
        opset_version=17,
    )
    # Parity fixture: a fixed input and the PyTorch output, for the ONNX Runtime check
    # (tests/integration/surrogate/training.test.ts).
    g = torch.Generator().manual_seed(1234)
    xf = torch.randn(2, 4, pz, py, px, generator=g) * 0.3
    pf = torch.randn(2, len(POSE_FEATURES), generator=g) * 0.5
    with torch.no_grad():
        yf = model(xf, pf)
    xf.numpy().astype("<f4").tofile(os.path.join(out, "parity-input.f32"))
    pf.numpy().astype("<f4").tofile(os.path.join(out, "parity-pose.f32"))
    yf.numpy().astype("<f4").tofile(os.path.join(out, "parity-output.f32"))
    with open(onnx_path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def manifest(args, trained: Trained, model_sha256: str) -> dict:
    """model.json (core/surrogate/manifest.ts reads it): what the model was trained for (transducer,
    frequency, resolution, HU mapping, frame), how to normalise its inputs, and its training record."""
    ds = trained.dataset
    grid = ds.header["grid_size"]
    pz, py, px = padded_shape(grid)
    zA, yB, yA, xB, xA = pad_spec(grid)
    return {
        "format": MODEL_FORMAT,
        "version": time.strftime("%Y%m%d-%H%M%S"),
        "model_file": "model.onnx",
        "model_sha256": model_sha256,
        "transducer_id": ds.header["transducer_id"],
        "frequency_hz": ds.header["frequency_hz"],
        "points_per_wavelength": ds.header["points_per_wavelength"],
        "mapping_id": ds.header["mapping_id"],
        "frame": {
            "kind": "beam-aligned",
            "description": "transducer frame: origin at the bowl apex, +z along the beam (the plan's simulation grid)",
            "grid_size": grid,
            "spacing_m": ds.header["spacing_m"],
            "origin_m": ds.header["origin_m"],
            "focal_distance_from_apex_m": ds.header["focal_distance_from_apex_m"],
            "padded_size_zyx": [pz, py, px],
            "padding_zyx": {"z_after": zA, "y_before": yB, "y_after": yA, "x_before": xB, "x_after": xA},
        },
        "normalisation": {
            "sound_speed_ref_m_s": SPEED_REF_M_S,
            "density_ref_kg_m3": DENSITY_REF_KG_M3,
            "alpha_scale_np_m": ALPHA_SCALE_NP_M,
            "log_floor": LOG_FLOOR,
            "output": "log(p / p_free_water_peak + log_floor)",
        },
        "pose_features": POSE_FEATURES,
        "free_water": {
            "file": "free-water.f32",
            "peak_pa": ds.free_peak_pa,
            "reference_source_amplitude_pa": ds.header["reference_source_amplitude_pa"],
        },
        "architecture": {
            "kind": "unet3d-film",
            "widths": list(trained.widths),
            "film": not args.no_film,
            "prior": not args.no_prior,
            "parameters": int(sum(p.numel() for p in trained.model.parameters())),
        },
        "training": {
            "dataset": os.path.basename(os.path.normpath(args.data)),
            "dataset_header": {k: ds.header[k] for k in ("transducer_id", "frequency_hz", "points_per_wavelength", "mapping_id", "solver")},
            "train_samples": len(trained.train),
            "validation_samples": len(trained.val),
            "train_ids": [m["id"] for m in trained.train],
            "loss_weights": {"reconstruction": 1.0, "gradient": 0.5, "peak_location": 0.02, "peak_amplitude": args.peak_weight},
            "steps": trained.steps,
            "epochs": trained.epochs,
            "train_s": round(trained.train_s, 1),
            "device": args.device,
            "threads": args.threads,
            "loss_first": trained.loss_first,
            "loss_last": trained.loss_last,
            "validation": trained.validation,
            "validation_mean_skull_prior": trained.validation_mean_skull,
            "log": trained.log,
        },
    }


def main(argv=None):
    args = parse_args(argv)
    trained = train(args)
    ds = trained.dataset
    sha = export(trained.model, ds.header["grid_size"], args.out)
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(manifest(args, trained, sha), f, indent=2)
    shutil.copyfile(os.path.join(args.data, ds.header["free_water"]["file"]), os.path.join(args.out, "free-water.f32"))
    summary = {
        "out": args.out,
        "steps": trained.steps,
        "train_s": round(trained.train_s, 1),
        "loss_first": trained.loss_first,
        "loss_last": trained.loss_last,
        "validation": trained.validation,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
