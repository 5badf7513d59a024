"""DeepTFUS-style 3D U-Net for the beam-aligned frame.

Srivastav et al. 2025 (TFUScapes/DeepTFUS) condition a U-Net on the transducer position with a
Fourier-feature embedding that modulates the decoder features (FiLM, Perez et al. 2018). Here the
network sees the medium in the transducer's own frame, so the pose vector carries what the grid
does not show directly (beam direction in the head, standoff, skull thickness and incidence on
the axis); the free-water field of the same transducer is an input and the output is a residual
on its log amplitude. Channels: sound speed, density, attenuation (normalised), free-water prior.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

LOG_FLOOR = 1e-3  # amplitude floor (relative to the free-water peak) of the log fields: -60 dB


class FourierPose(nn.Module):
    """Pose vector -> [sin, cos] of log-spaced frequencies -> MLP embedding."""

    def __init__(self, pose_dim: int, n_freq: int = 6, width: int = 64):
        super().__init__()
        freqs = torch.tensor([2.0**k for k in range(n_freq)]) * math.pi
        self.register_buffer("freqs", freqs)
        self.mlp = nn.Sequential(nn.Linear(pose_dim * (2 * n_freq + 1), width), nn.SiLU(), nn.Linear(width, width), nn.SiLU())
        self.width = width

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        x = pose.unsqueeze(-1) * self.freqs  # (B, P, F)
        feats = torch.cat([pose, torch.sin(x).flatten(1), torch.cos(x).flatten(1)], dim=1)
        return self.mlp(feats)


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, emb: int):
        super().__init__()
        self.c1 = nn.Conv3d(cin, cout, 3, padding=1)
        self.c2 = nn.Conv3d(cout, cout, 3, padding=1)
        self.n1 = nn.GroupNorm(min(4, cout), cout)
        self.n2 = nn.GroupNorm(min(4, cout), cout)
        self.film = nn.Linear(emb, 2 * cout) if emb > 0 else None

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = F.silu(self.n1(self.c1(x)))
        h = self.n2(self.c2(h))
        if self.film is not None:
            gamma, beta = self.film(e).chunk(2, dim=1)
            h = h * (1 + gamma[:, :, None, None, None]) + beta[:, :, None, None, None]
        return F.silu(h)


class SurrogateUNet(nn.Module):
    """U-Net at half the solver's resolution with a full-resolution pointwise head.

    A full-resolution 3D U-Net costs about 4 s per training step on one core of this machine
    (PyTorch 1.13, 64x56x56); the field's structure below the half-resolution scale is mostly
    the free-water prior's, which enters at full resolution, so the encoder/decoder run on a
    2x-downsampled grid and a 1x1x1 head mixes their upsampled features with the full-resolution
    input. Measured: see training/README.md.
    """

    def __init__(self, in_ch: int = 4, widths=(12, 24, 48), pose_dim: int = 6, film: bool = True, prior: bool = True, head_width: int = 8):
        super().__init__()
        self.prior = prior
        self.use_film = film
        emb = 64 if film else 0
        self.pose = FourierPose(pose_dim, width=64) if film else None
        self.stem = nn.Conv3d(in_ch, widths[0], 2, stride=2)
        self.enc = nn.ModuleList()
        c = widths[0]
        for w in widths:
            self.enc.append(Block(c, w, emb))
            c = w
        self.dec = nn.ModuleList()
        self.up = nn.ModuleList()
        for w_skip in reversed(widths[:-1]):
            self.up.append(nn.Conv3d(c, w_skip, 1))
            self.dec.append(Block(2 * w_skip, w_skip, emb))
            c = w_skip
        self.coarse = nn.Conv3d(c, head_width, 1)
        # The training set's mean log-ratio to free water (set by train.py before training):
        # the average skull's insertion loss and focal shift, so the network learns deviations.
        self.register_buffer("mean_residual", torch.zeros(1, 1, 1, 1, 1))
        self.head1 = nn.Conv3d(head_width + in_ch, head_width, 1)
        self.head2 = nn.Conv3d(head_width, 1, 1)

    def forward(self, x: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        """x: (B, 4, Z, Y, X) with Z, Y, X multiples of 8; returns log(p / p_free_peak + floor)."""
        e = self.pose(pose) if self.pose is not None else x.new_zeros((x.shape[0], 0))
        skips = []
        h = self.stem(x)
        for i, block in enumerate(self.enc):
            if i > 0:
                h = F.max_pool3d(h, 2)
            h = block(h, e)
            skips.append(h)
        for up, block, skip in zip(self.up, self.dec, reversed(skips[:-1])):
            h = F.interpolate(h, size=skip.shape[2:], mode="trilinear", align_corners=False)
            h = block(torch.cat([up(h), skip], dim=1), e)
        h = F.interpolate(self.coarse(h), size=x.shape[2:], mode="trilinear", align_corners=False)
        out = self.head2(F.silu(self.head1(torch.cat([h, x], dim=1))))
        if self.prior:
            out = out + x[:, 3:4] + self.mean_residual
        return out
