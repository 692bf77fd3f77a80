"""The SyNDGAN encoder: the input image with the defect map, into the decoder's latent space W.

Input: the image whose defect region has been blanked (``x * (1 - mask)``:
at training time the real defect is hidden and must be recreated; at
synthesis time the normal surface under the new mask is hidden), with the
one-hot defect map concatenated as extra channels — the study's "defect
image masked by the segmentation map" — and the map once more as the SFT
condition. Structure (study, Fig. 2b: one convolution and residual blocks
with SFT): a convolution stem at full resolution (3x3, ``width / 2``
channels; the map enters here at full resolution as input channels) and a
strided 4x4 convolution to S/2; an SFT residual block that halves the
resolution to S/4 (``2 * width`` channels); ``n_blocks`` SFT residual
blocks at S/4 (the study has seven blocks; 1 + 3 by default here, for the
CPU: the first full-resolution SFT block alone cost more than all others);
and a 1x1 convolution to the latent: a **spatial** latent ``w`` of
``latent_channels`` x S/4 x S/4 (StyleMapGAN-like), the space the
pretrained decoder reads.

Skip connections (the study's "encoder-decoder architecture with
skip-connections"): with ``skip_channels`` given, the stem's features at S
and S/2 also go to the decoder, through 1x1 convolutions that start at
**zero** (:meth:`SFTEncoder.encode`). At the start of synthesis training
the decoder therefore behaves exactly as pretraining left it; the skips
then learn to carry the surface's fine detail around the bottleneck (the
background is copied, not re-imagined), while inside the blanked defect
region there is nothing to copy and the decoder must paint the defect.
"""
from __future__ import annotations

import torch
from torch import nn

from generative.defect_synth.sft import SFTResBlock

__all__ = ["SFTEncoder"]


class SFTEncoder(nn.Module):
    """``forward(x_in, segmap) -> w``; ``x_in`` = (N, 1 + K, S, S) masked image + map, ``segmap`` (N, K, S, S)."""

    def __init__(self, map_channels: int, latent_channels: int = 64, width: int = 32, n_blocks: int = 3,
                 sft_hidden: int = 16, skip_channels: tuple[int, int] | None = None):
        super().__init__()
        k = map_channels
        half = max(8, width // 2)
        self.stem0 = nn.Conv2d(1 + k, half, 3, padding=1)
        self.stem1 = nn.Conv2d(half, width, 4, stride=2, padding=1)
        self.down = SFTResBlock(width, 2 * width, k, down=True, hidden=sft_hidden)
        self.blocks = nn.ModuleList(SFTResBlock(2 * width, 2 * width, k, hidden=sft_hidden) for _ in range(n_blocks))
        self.act = nn.LeakyReLU(0.2)
        self.out = nn.Conv2d(2 * width, latent_channels, 1)
        self.skips = None
        if skip_channels is not None:
            c_half, c_full = skip_channels
            self.skips = nn.ModuleList([nn.Conv2d(width, c_half, 1), nn.Conv2d(half, c_full, 1)])
            for conv in self.skips:
                nn.init.zeros_(conv.weight)
                nn.init.zeros_(conv.bias)

    def encode(self, x_in: torch.Tensor, segmap: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
        """``(w, skips)``: the latent and, with skip connections, the features for the decoder at S/2 and S."""
        a0 = self.act(self.stem0(x_in))
        h = self.stem1(a0)
        skips = None if self.skips is None else [self.skips[0](self.act(h)), self.skips[1](a0)]
        h = self.down(h, segmap)
        for block in self.blocks:
            h = block(h, segmap)
        return self.out(self.act(h)), skips

    def forward(self, x_in: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        """The latent ``w`` only."""
        return self.encode(x_in, segmap)[0]
