"""The generator that is pretrained unconditionally and then used as the SyNDGAN decoder.

Two parts, as in StyleGAN's split into a mapping and a synthesis network:

* :class:`MappingNet` turns a small noise tensor ``z`` (``z_channels`` x 4 x 4)
  into a spatial latent ``w`` (``latent_channels`` x S/4 x S/4) by 3x3
  convolutions and nearest-neighbour upsampling. Used only in pretraining.
* :class:`SynthesisNet` — **the decoder** — turns ``w`` into an image: a
  residual block at S/4, then two (upsample x2, conv, noise, conv, noise)
  stages, a 1x1 convolution and ``tanh``. Per-pixel noise is added after
  each convolution with a learned per-channel strength (zero at the start),
  as in StyleGAN: fine texture need not be stored in ``w``.

The synthesis net also accepts skip features from the encoder, added
after each up-stage (none during pretraining; see
:mod:`~generative.defect_synth.encoder`).

Pretraining (``G = SynthesisNet(MappingNet(z))``) learns the look of the
surface from all images, normal and defect. The defect synthesizer then
replaces ``MappingNet(z)`` by the encoder's ``w`` and keeps training the
decoder (fine-tuning), as the study does with its pretrained StyleGAN2.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MappingNet", "SynthesisNet", "Z_RES", "latent_size"]

#: Spatial size of the pretraining noise z.
Z_RES = 4


def latent_size(size_px: int) -> int:
    """Side of the spatial latent w for images of ``size_px`` (a power of two >= 32): S/4."""
    if size_px < 32 or size_px & (size_px - 1):
        raise ValueError(f"size_px must be a power of two >= 32, got {size_px}")
    return size_px // 4


class MappingNet(nn.Module):
    """z (N, z_channels, 4, 4) → w (N, latent_channels, S/4, S/4)."""

    def __init__(self, size_px: int, z_channels: int = 32, latent_channels: int = 64):
        super().__init__()
        n_up = int(math.log2(latent_size(size_px) // Z_RES))
        layers: list[nn.Module] = [nn.Conv2d(z_channels, latent_channels, 3, padding=1), nn.LeakyReLU(0.2)]
        for _ in range(n_up):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv2d(latent_channels, latent_channels, 3, padding=1), nn.LeakyReLU(0.2)]
        layers.append(nn.Conv2d(latent_channels, latent_channels, 1))
        self.net = nn.Sequential(*layers)
        self.z_channels = z_channels

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class NoiseInjection(nn.Module):
    """``x + strength * noise``; noise N(0, 1) per pixel from ``gen`` (none without a generator)."""

    def __init__(self, channels: int):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        if gen is None:
            return x
        n, _, h, w = x.shape
        noise = torch.randn(n, 1, h, w, generator=gen).to(x.device)
        return x + self.strength * noise


class _UpStage(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv0 = nn.Conv2d(cin, cout, 3, padding=1)
        self.noise0 = NoiseInjection(cout)
        self.conv1 = nn.Conv2d(cout, cout, 3, padding=1)
        self.noise1 = NoiseInjection(cout)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = self.act(self.noise0(self.conv0(x), gen))
        return self.act(self.noise1(self.conv1(x), gen))


class SynthesisNet(nn.Module):
    """w (N, latent_channels, S/4, S/4) → image (N, 1, S, S) in [-1, 1]; ``gen`` draws the texture noise."""

    def __init__(self, latent_channels: int = 64, width: int = 32):
        super().__init__()
        c = latent_channels
        self.res0 = nn.Conv2d(c, c, 3, padding=1)
        self.res1 = nn.Conv2d(c, c, 3, padding=1)
        self.up = nn.ModuleList([_UpStage(c, width), _UpStage(width, max(8, width // 2))])
        self.to_img = nn.Conv2d(max(8, width // 2), 1, 1)
        self.act = nn.LeakyReLU(0.2)

    @property
    def skip_channels(self) -> tuple[int, int]:
        """Channels after the two up-stages (S/2, S): what encoder skips must give."""
        return self.up[0].conv1.out_channels, self.up[1].conv1.out_channels

    def forward(self, w: torch.Tensor, gen: torch.Generator | None = None,
                skips: list[torch.Tensor] | None = None) -> torch.Tensor:
        """``skips``: features added after the up-stages at S/2 and S (from the encoder; none in pretraining)."""
        h = w + self.res1(self.act(self.res0(self.act(w))))
        for i, stage in enumerate(self.up):
            h = stage(h, gen)
            if skips is not None:
                h = h + skips[i]
        return torch.tanh(self.to_img(h))
