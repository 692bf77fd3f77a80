"""Spatial feature transform (SFT): the defect map modulates the features, pixel by pixel.

An SFT layer (Wang et al., CVPR 2018, as used by the SyNDGAN study) reads
the defect map and turns it into two maps of the features' shape: a scale
``gamma`` and a shift ``beta``, and returns ``x * gamma + beta``. As the
study describes, the map goes through **two separate** small convolution
branches: the gamma branch ends in a sigmoid (so ``gamma`` is a gate in
(0, 1) per pixel and channel), the beta branch has no final activation.
Where the map is empty (no defect) the branches still see zeros and give
a learned constant modulation; where a crack is drawn they give the
crack's.

As in SPADE, the map is an explicit argument — ``forward(x, segmap)`` — and
is resized to the features' resolution inside the layer (area average: a
one-pixel crack in the full-size map becomes a partial coverage value, not
nothing).

:class:`SFTResBlock` is the residual block of the encoder: SFT → conv →
SFT → conv, with an identity (or average-pool + 1x1 conv, when it halves
the resolution or changes the width) shortcut.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SFTLayer", "SFTResBlock", "resize_map"]


def resize_map(segmap: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The map at ``size`` (area average when shrinking, nearest when growing)."""
    if tuple(segmap.shape[-2:]) == tuple(size):
        return segmap
    if segmap.shape[-1] >= size[-1]:
        return F.adaptive_avg_pool2d(segmap, size)
    return F.interpolate(segmap, size=size, mode="nearest")


class SFTLayer(nn.Module):
    """``x * sigmoid(g(map)) + b(map)`` with separate conv branches g and b (3x3 then 1x1)."""

    def __init__(self, map_channels: int, feat_channels: int, hidden: int = 16):
        super().__init__()
        self.gamma = nn.Sequential(nn.Conv2d(map_channels, hidden, 3, padding=1), nn.LeakyReLU(0.2),
                                   nn.Conv2d(hidden, feat_channels, 1), nn.Sigmoid())
        self.beta = nn.Sequential(nn.Conv2d(map_channels, hidden, 3, padding=1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(hidden, feat_channels, 1))

    def modulation(self, segmap: torch.Tensor, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(gamma, beta)`` computed from the map at the features' ``size``."""
        m = resize_map(segmap, size)
        return self.gamma(m), self.beta(m)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.modulation(segmap, tuple(x.shape[-2:]))
        return x * gamma + beta


class SFTResBlock(nn.Module):
    """Residual block with two SFT layers; ``down=True`` halves the resolution (stride-2 second conv)."""

    def __init__(self, cin: int, cout: int, map_channels: int, down: bool = False, hidden: int = 16):
        super().__init__()
        self.sft0 = SFTLayer(map_channels, cin, hidden)
        self.conv0 = nn.Conv2d(cin, cout, 3, padding=1)
        self.sft1 = SFTLayer(map_channels, cout, hidden)
        self.conv1 = nn.Conv2d(cout, cout, 3, stride=2 if down else 1, padding=1)
        self.act = nn.LeakyReLU(0.2)
        self.down = down
        self.skip = nn.Conv2d(cin, cout, 1) if (cin != cout) else nn.Identity()

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        h = self.conv0(self.act(self.sft0(x, segmap)))
        h = self.conv1(self.act(self.sft1(h, segmap)))
        s = F.avg_pool2d(x, 2) if self.down else x
        return self.skip(s) + h
