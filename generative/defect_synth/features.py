"""The domain feature network: a small CNN trained, here, on the real images themselves.

The SyNDGAN study takes its features from EfficientNet pretrained on
ImageNet: for the projected discriminator, for the perceptual (LPIPS) loss
and, through Inception, for FID/KID. No pretrained weights can be
downloaded here, so this project trains its own feature network **from
scratch on the real data at hand**: a four-stage CNN that learns to tell
the normal class from each defect class (6 classes on magnetic tile).
What separates the classes is what the features measure — the domain's
own notion of "looks like a crack". It is small (width 16: 16, 32, 64, 128
channels at 1/2, 1/4, 1/8, 1/16 of the image size) and uses BatchNorm:
once trained it is used in evaluation mode only, where BatchNorm is a fixed
affine map — so its features still see the overall brightness and contrast
of an image (GroupNorm or InstanceNorm would normalise them away, and a
discriminator or an FID on such features could not tell a washed-out
image from a real one).

* :meth:`DefectFeatureNet.stages` — the four feature maps (multi-scale
  discriminator, perceptual distance);
* :meth:`DefectFeatureNet.embed` — the global average of the last stage
  (``8 * width`` numbers per image: FID and KID);
* :func:`train_feature_net` — class-balanced training with mirror
  augmentation, all randomness from ``seed``; returns a frozen network in
  evaluation mode.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from generative.defect_synth.tensors import to_tensor

__all__ = ["DefectFeatureNet", "train_feature_net", "feature_step", "balanced_indices"]


def _stage(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2),
        nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))


class DefectFeatureNet(nn.Module):
    """Four strided stages and a linear classifier on the pooled last stage. Input (N, 1, S, S) in [-1, 1]."""

    def __init__(self, n_classes: int, width: int = 16, in_channels: int = 1):
        super().__init__()
        self.channels = (width, 2 * width, 4 * width, 8 * width)
        chans = (in_channels,) + self.channels
        self.blocks = nn.ModuleList(_stage(a, b) for a, b in zip(chans[:-1], chans[1:]))
        self.head = nn.Linear(self.channels[-1], n_classes)

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for block in self.blocks:
            x = block(x)
            out.append(x)
        return out

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(x)[-1].mean((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


def balanced_indices(pools: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` indices: a class drawn uniformly from the non-empty ``pools``, then an image of it uniformly."""
    pools = [p for p in pools if len(p)]
    cls = rng.integers(0, len(pools), n)
    return np.array([pools[c][rng.integers(0, len(pools[c]))] for c in cls], dtype=np.int64)


def mirror(x: torch.Tensor, flip: np.ndarray) -> torch.Tensor:
    """Left-right mirror of the rows of ``x`` where ``flip`` is True (a magnetic tile's symmetry)."""
    if not flip.any():
        return x
    f = torch.as_tensor(flip, device=x.device).view(-1, *([1] * (x.dim() - 1)))
    return torch.where(f, x.flip(-1), x)


def feature_step(net: DefectFeatureNet, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    """One cross-entropy step of the classifier; returns the loss."""
    loss = F.cross_entropy(net(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return float(loss.detach())


def train_feature_net(images: np.ndarray, labels: np.ndarray, n_classes: int, *, steps: int = 600,
                      batch_size: int = 32, lr: float = 2e-3, width: int = 16, seed: int = 0,
                      device: str | torch.device = "cpu",
                      progress: Callable[[int, int], None] | None = None) -> DefectFeatureNet:
    """Train a :class:`DefectFeatureNet` on uint8 images (N, S, S) with labels (N,); frozen, in eval mode.

    Batches are class-balanced (each class equally often, whatever its
    count) and randomly mirrored; Adam with a cosine-decaying rate. The
    caller's global torch random state is left untouched.
    """
    labels = np.asarray(labels, dtype=np.int64)
    x_all = to_tensor(images, device)
    y_all = torch.as_tensor(labels, device=device)
    pools = [np.flatnonzero(labels == k) for k in range(n_classes)]
    rng = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = DefectFeatureNet(n_classes, width).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, int(steps)))
    net.train()
    for step in range(int(steps)):
        idx = balanced_indices(pools, batch_size, rng)
        x = mirror(x_all[idx], rng.random(batch_size) < 0.5)
        feature_step(net, opt, x, y_all[idx])
        sched.step()
        if progress is not None:
            progress(step + 1, int(steps))
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net
