"""The two networks of the sensor-texture GAN: a 1-D residual generator and a patch critic.

Both are fully convolutional along time, so one trained pair works on
windows of any length, and both take the *condition* as an explicit
argument (SPADE's rule: ``forward(x, condition)``), never hidden in the
input tensor by the caller.

Condition features (built by :class:`generative.sensor_texture.SensorTextureGAN`),
``(B, 2 + n_channels, L)``: the smooth curve's level scaled per channel,
its slope in units of the channel's texture amplitude (``asinh``-compressed:
texture is stronger where the curve moves — a moving screw, a rising
pressure — and the net must see where that is), and a one-hot channel code.

:class:`TextureGenerator`: condition features + ``noise_channels`` channels
of white noise per sample → a stack of dilated residual convolutions
(dilations 1, 2, 4, 8: a receptive field of about 37 samples, 0.37 s at
10 ms — long enough for ripple and for the ringing after a step) → one
channel, the texture in units of the channel's texture amplitude.

:class:`TextureCritic`: condition features + texture + its first
difference (so the critic sees the spectrum's high end directly) →
strided and dilated convolutions with spectral normalisation (Miyato et
al., ICLR 2018) → one score per patch of about 40 samples (a PatchGAN
critic, Isola et al., CVPR 2017: texture is local, so the critic judges
patches, and a window gives it many).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

__all__ = ["TextureGenerator", "TextureCritic"]

_SLOPE = 0.2


class _ResBlock(nn.Module):
    def __init__(self, width: int, dilation: int):
        super().__init__()
        self.conv = nn.Conv1d(width, width, 3, padding=dilation, dilation=dilation, padding_mode="replicate")
        self.mix = nn.Conv1d(width, width, 1)
        self.act = nn.LeakyReLU(_SLOPE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mix(self.act(self.conv(x)))


class TextureGenerator(nn.Module):
    """``forward(noise, condition) -> texture``: ``(B, nz, L)``, ``(B, c, L)`` → ``(B, 1, L)``."""

    def __init__(self, condition_channels: int, noise_channels: int = 4, hidden: int = 32,
                 dilations: tuple[int, ...] = (1, 2, 4, 8)):
        super().__init__()
        self.inp = nn.Conv1d(condition_channels + noise_channels, hidden, 7, padding=3, padding_mode="replicate")
        self.blocks = nn.Sequential(*[_ResBlock(hidden, d) for d in dilations])
        self.act = nn.LeakyReLU(_SLOPE)
        self.out = nn.Conv1d(hidden, 1, 3, padding=1, padding_mode="replicate")

    def forward(self, noise: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        h = self.act(self.inp(torch.cat([condition, noise], dim=1)))
        return self.out(self.act(self.blocks(h)))


class TextureCritic(nn.Module):
    """``forward(texture, condition) -> scores``: ``(B, 1, L)``, ``(B, c, L)`` → ``(B, 1, ~L/4)`` patch scores."""

    def __init__(self, condition_channels: int, hidden: int = 32):
        super().__init__()
        c_in = condition_channels + 2
        h = hidden
        self.net = nn.Sequential(
            spectral_norm(nn.Conv1d(c_in, h, 5, padding=2)), nn.LeakyReLU(_SLOPE),
            spectral_norm(nn.Conv1d(h, h, 5, stride=2, padding=2)), nn.LeakyReLU(_SLOPE),
            spectral_norm(nn.Conv1d(h, h, 5, padding=4, dilation=2)), nn.LeakyReLU(_SLOPE),
            spectral_norm(nn.Conv1d(h, h, 5, stride=2, padding=2)), nn.LeakyReLU(_SLOPE),
            spectral_norm(nn.Conv1d(h, 1, 3, padding=1)),
        )

    def forward(self, texture: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        diff = torch.diff(texture, dim=-1, prepend=texture[..., :1])
        return self.net(torch.cat([condition, texture, diff], dim=1))
