"""A multi-scale discriminator on the features of the domain feature network (Projected-GAN style).

The SyNDGAN study judges images not in pixel space but in the feature
space of a pretrained network, at several resolutions at once (Sauer et
al., "Projected GANs converge faster", 2021): the feature network ``P``
gives four maps (here the four stages of
:class:`~generative.defect_synth.features.DefectFeatureNet`, trained on
the real images: S/2 ... S/16); each map goes through a **fixed random
1x1 projection** (random channel mixing, never trained: the discriminator
cannot lean on a few dominant channels) and then its own small
convolutional head ``D_l`` (strided 4x4 convolutions with spectral
normalisation down to S/16, then a 1x1 convolution). All heads predict at
the same resolution (S/16 x S/16 logits) and are summed.

The feature network itself is frozen (its weights get no gradient); the
generator's gradient flows through it to the image.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

__all__ = ["ProjectedDiscriminator"]


class _Head(nn.Module):
    def __init__(self, cin: int, n_down: int, width: int):
        super().__init__()
        proj = torch.empty(cin, cin, 1, 1)
        nn.init.kaiming_normal_(proj, nonlinearity="linear")
        self.register_buffer("projection", proj)  # fixed random channel mixing
        layers: list[nn.Module] = []
        c = cin
        for _ in range(n_down):
            layers += [spectral_norm(nn.Conv2d(c, width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            c = width
        layers += [spectral_norm(nn.Conv2d(c, width, 3, padding=1)), nn.LeakyReLU(0.2), nn.Conv2d(width, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        return self.net(F.conv2d(feat, self.projection))


class ProjectedDiscriminator(nn.Module):
    """``forward(features) -> logits (N, 1, S/16, S/16)``; ``features`` = the feature network's 4 stage maps."""

    def __init__(self, feature_channels: tuple[int, ...], width: int = 64):
        super().__init__()
        n = len(feature_channels)
        self.heads = nn.ModuleList(_Head(c, n - 1 - i, width) for i, c in enumerate(feature_channels))

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        out = None
        for head, f in zip(self.heads, features):
            y = head(f)
            out = y if out is None else out + y
        return out
