"""Training losses. DeepTFUS uses a spatially weighted reconstruction loss plus a gradient loss;
its loss has no term for where the focus is, and focal position is its weakest metric, so a
soft-argmax peak-location term and a peak-amplitude term are added."""
import torch

from .model import LOG_FLOOR


def soft_argmax(logp: torch.Tensor, mask: torch.Tensor, beta: float) -> torch.Tensor:
    """Expected (z, y, x) voxel position under softmax(beta * log amplitude) inside the mask."""
    b = logp.shape[0]
    z, y, x = logp.shape[2:]
    scores = (beta * logp).masked_fill(mask == 0, -1e4).reshape(b, -1)
    w = torch.softmax(scores, dim=1).reshape(b, 1, z, y, x)
    gz = torch.arange(z, dtype=logp.dtype).view(1, 1, z, 1, 1)
    gy = torch.arange(y, dtype=logp.dtype).view(1, 1, 1, y, 1)
    gx = torch.arange(x, dtype=logp.dtype).view(1, 1, 1, 1, x)
    return torch.stack([(w * gz).sum((1, 2, 3, 4)), (w * gy).sum((1, 2, 3, 4)), (w * gx).sum((1, 2, 3, 4))], dim=1)


def hard_argmax(logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    b = logp.shape[0]
    z, y, x = logp.shape[2:]
    idx = logp.masked_fill(mask == 0, -1e4).reshape(b, -1).argmax(dim=1)
    return torch.stack([idx // (y * x), (idx // x) % y, idx % x], dim=1).to(logp.dtype)


def surrogate_loss(pred, target, mask, weights=(1.0, 0.5, 0.02, 1.0), beta=12.0):
    """Returns (total, parts). pred/target: log(p / p_free_peak + floor), (B, 1, Z, Y, X);
    mask: (B, 2, ...) the intracranial region and the solver grid inside the padding, where the focus and the plan's metrics are. The
    reconstruction terms cover the whole grid (padding excluded by `valid`), the brain weighted up."""
    w_rec, w_grad, w_loc, w_peak = weights
    mask, valid = mask[:, :1], mask[:, 1:2]
    lin = (torch.exp(target) - LOG_FLOOR).clamp(min=0)
    peak = (lin * mask).amax(dim=(2, 3, 4), keepdim=True)
    # Emphasis on the beam in the brain, as DeepTFUS weights high-pressure voxels.
    weight = valid * (0.2 + mask * (1 + 9 * (lin / peak).clamp(max=1)))
    rec = (weight * (pred - target) ** 2).sum() / weight.sum()
    grad = 0.0
    for d in (2, 3, 4):
        dp = torch.diff(pred, dim=d)
        dt = torch.diff(target, dim=d)
        m = torch.minimum(torch.narrow(valid, d, 0, valid.shape[d] - 1), torch.narrow(valid, d, 1, valid.shape[d] - 1))
        grad = grad + (m * (dp - dt).abs()).sum() / m.sum()
    loc = ((soft_argmax(pred, mask, beta) - hard_argmax(target, mask)) ** 2).sum(dim=1).mean()
    pred_peak = pred.masked_fill(mask == 0, -1e4).amax(dim=(2, 3, 4))
    true_peak = target.masked_fill(mask == 0, -1e4).amax(dim=(2, 3, 4))
    peak_term = ((pred_peak - true_peak) ** 2).mean()
    total = w_rec * rec + w_grad * grad + w_loc * loc + w_peak * peak_term
    return total, {"rec": float(rec), "grad": float(grad), "loc": float(loc), "peak": float(peak_term)}
