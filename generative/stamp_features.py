"""The domain feature network of the stamp cGAN's FID: a digit classifier trained on the real crops.

FID and KID compare two image sets through the features of a network.
The usual Inception-v3 (ImageNet) cannot be downloaded here, and would
measure ImageNet features anyway; what matters for the twin is whether
its characters look like the real ones *to a network that reads real
characters*. So the features come from a small CNN trained **from
scratch to classify the real digit patches** (0-9) of the training split
— the real meter-digit crops as they appear in the stand-in pairs
(:mod:`generative.stamp_realdata`) — and FID/KID are computed with
:func:`generative.image_metrics.fid_kid` on its pooled last stage
(:meth:`DigitFeatureNet.embed`, ``8 * width`` numbers per patch).

Four strided stages (width 16: 16, 32, 64, 128 channels at 1/2 ... 1/16 of
the patch), GroupNorm (the same in training and evaluation mode), a linear
head. Training: Adam, cross-entropy, small random shifts (+-3 px) and
brightness/contrast jitter, every draw from ``seed``; CPU or CUDA.
Numbers are comparable only between runs that use the same trained
network (same data, seed and settings), not with published Inception FIDs.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DigitFeatureNet", "train_digit_features"]


def _stage(cin: int, cout: int) -> nn.Sequential:
    g = max(1, min(8, cout // 4))
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1), nn.GroupNorm(g, cout), nn.LeakyReLU(0.2),
                         nn.Conv2d(cout, cout, 3, 1, 1), nn.GroupNorm(g, cout), nn.LeakyReLU(0.2))


class DigitFeatureNet(nn.Module):
    """(N, 1, S, S) in [-1, 1] -> class logits; :meth:`embed` gives the FID features."""

    def __init__(self, n_classes: int = 10, width: int = 16):
        super().__init__()
        ch = (1, width, 2 * width, 4 * width, 8 * width)
        self.blocks = nn.Sequential(*(_stage(a, b) for a, b in zip(ch[:-1], ch[1:])))
        self.head = nn.Linear(ch[-1], n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x).mean((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


def _augment(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    n = len(x)
    shifts = rng.integers(-3, 4, size=(n, 2))
    out = torch.stack([torch.roll(x[i], (int(shifts[i, 0]), int(shifts[i, 1])), (1, 2)) for i in range(n)])
    gain = torch.from_numpy(rng.uniform(0.8, 1.2, (n, 1, 1, 1)).astype(np.float32))
    bias = torch.from_numpy(rng.uniform(-0.15, 0.15, (n, 1, 1, 1)).astype(np.float32))
    return (out * gain + bias).clamp(-1.0, 1.0)


def train_digit_features(images: np.ndarray, labels: np.ndarray, *, seed: int = 0, steps: int = 600,
                         batch_size: int = 64, width: int = 16, lr: float = 2e-3,
                         device: str | None = None) -> DigitFeatureNet:
    """Train a :class:`DigitFeatureNet` on grey patches ``images`` (N, S, S) in [0, 1] or uint8 with digit ``labels``.

    Returns the network frozen, in evaluation mode; ``train_accuracy_``
    (on the un-augmented training patches) is set on it.
    """
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    y = np.asarray(labels, dtype=np.int64)
    if x.ndim != 3 or len(x) != len(y) or len(x) < 2:
        raise ValueError(f"images must be (N, S, S) with one label each, got {x.shape} and {y.shape}")
    if (y < 0).any() or (y > 9).any():
        raise ValueError("labels must be digits 0..9")
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    xt = torch.from_numpy(x * 2.0 - 1.0)[:, None]
    yt = torch.from_numpy(y)
    rng = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        net = DigitFeatureNet(10, int(width))
    net = net.to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=float(lr))
    net.train()
    for step in range(int(steps)):
        idx = rng.integers(0, len(xt), size=int(batch_size))
        xb = _augment(xt[idx], rng).to(dev)
        loss = F.cross_entropy(net(xb), yt[idx].to(dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        pred = torch.cat([net(xt[i:i + 256].to(dev)).argmax(1).cpu() for i in range(0, len(xt), 256)])
    net.train_accuracy_ = float((pred == yt).float().mean())
    return net
